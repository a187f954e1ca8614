-- Patron's RFM (plugins/rfm/rfm.c) in SQL, saved as a table: the peer of
-- "patron score" with segment = "rfm" in make bench. Each of R, F and M is
-- 1 + floor(5 b / n), b the buyers strictly worse on it (rank() - 1), n the
-- buyers; recency in whole days; the segment read off the R x FM grid;
-- customers without a paid order are prospects. :now is replaced by the
-- bench's day.
DROP TABLE IF EXISTS rfm_peer;
CREATE TABLE rfm_peer AS
WITH b AS MATERIALIZED (SELECT customer_id AS id, max(placed_at) / 86400 AS last_day,
    count(*) AS n, sum(total_cents) AS money
  FROM orders WHERE revenue AND customer_id IS NOT NULL AND placed_at <= :now
  GROUP BY customer_id),
q AS (SELECT id, 1 + 5 * (rank() OVER (ORDER BY last_day) - 1) / (SELECT count(*) FROM b) AS r,
    1 + 5 * (rank() OVER (ORDER BY n) - 1) / (SELECT count(*) FROM b) AS f,
    1 + 5 * (rank() OVER (ORDER BY money) - 1) / (SELECT count(*) FROM b) AS m FROM b),
s AS (SELECT id, r, f, m, (r + f + m) / 3.0 AS value, (f + m + 1) / 2 AS fm FROM q)
SELECT id AS customer_id, r, f, m, value,
  CASE WHEN r = 5 THEN CASE fm WHEN 1 THEN 'new' WHEN 2 THEN 'potential_loyalist'
      WHEN 3 THEN 'loyal' ELSE 'champions' END
    WHEN r = 4 THEN CASE fm WHEN 1 THEN 'promising' WHEN 2 THEN 'potential_loyalist'
      WHEN 3 THEN 'loyal' ELSE 'champions' END
    WHEN r = 3 THEN CASE fm WHEN 1 THEN 'about_to_sleep' WHEN 4 THEN 'loyal'
      WHEN 5 THEN 'loyal' ELSE 'need_attention' END
    WHEN r = 2 THEN CASE fm WHEN 1 THEN 'hibernating' WHEN 2 THEN 'hibernating'
      WHEN 5 THEN 'cannot_lose_them' ELSE 'at_risk' END
    ELSE CASE fm WHEN 1 THEN 'lost' WHEN 2 THEN 'lost' WHEN 3 THEN 'at_risk'
      ELSE 'cannot_lose_them' END
  END AS segment FROM s
UNION ALL
SELECT id, NULL, NULL, NULL, NULL, 'prospect' FROM customers
  WHERE created_at <= :now AND id NOT IN (SELECT id FROM b);
