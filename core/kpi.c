#include "kpi.h"

#include <math.h>

#include "value.h"

#define DAY 86400

void patron_kpi_bounds(int64_t now, int days, int64_t *start, int64_t *end)
{
	/* Up to and including the moment NOW, as every command reads the
	 * store: with --now D, what is dated D without a time counts. */
	*end = now + 1;
	*start = *end - (int64_t)days * DAY;
}

static double ratio(int64_t a, int64_t b) { return b ? (double)a / (double)b : NAN; }

/* Two scans of the paid orders for one period: what was sold (guests'
 * orders too), and who bought: per customer the first order, and whether
 * they ordered in the period, in the active window before it and in the
 * one up to its end. */
static int period(patron_store *s, patron_kpi_period *p, patron_err *err)
{
	sqlite3 *db = patron_store_db(s);
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db, "SELECT count(*), coalesce(sum(total_cents), 0) FROM orders"
			       " WHERE revenue AND placed_at >= ?1 AND placed_at < ?2", -1, &st,
			       NULL) != SQLITE_OK)
		return patron_store_fail(s, err, "reading the orders");
	sqlite3_bind_int64(st, 1, p->start);
	sqlite3_bind_int64(st, 2, p->end);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_finalize(st);
		return patron_store_fail(s, err, "reading the orders");
	}
	p->orders = sqlite3_column_int64(st, 0);
	p->revenue_cents = sqlite3_column_int64(st, 1);
	sqlite3_finalize(st);
	if (sqlite3_prepare_v2(db, "SELECT count(*) FILTER (WHERE first >= ?1 AND first < ?2),"
			       " count(*) FILTER (WHERE bought), count(*) FILTER (WHERE bought AND"
			       " first < ?1), count(*) FILTER (WHERE active_end),"
			       " count(*) FILTER (WHERE active_start),"
			       " count(*) FILTER (WHERE active_start AND active_end)"
			       " FROM (SELECT min(placed_at) AS first,"
			       "  max(placed_at >= ?1 AND placed_at < ?2) AS bought,"
			       "  max(placed_at >= ?1 - ?3 AND placed_at < ?1) AS active_start,"
			       "  max(placed_at >= ?2 - ?3 AND placed_at < ?2) AS active_end"
			       "  FROM orders WHERE revenue AND customer_id IS NOT NULL"
			       "  AND placed_at < ?2 GROUP BY customer_id)", -1, &st, NULL) != SQLITE_OK)
		return patron_store_fail(s, err, "reading the customers' orders");
	sqlite3_bind_int64(st, 1, p->start);
	sqlite3_bind_int64(st, 2, p->end);
	sqlite3_bind_int64(st, 3, (int64_t)PATRON_ACTIVE_DAYS * DAY);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_finalize(st);
		return patron_store_fail(s, err, "reading the customers' orders");
	}
	p->new_customers = sqlite3_column_int64(st, 0);
	p->buyers = sqlite3_column_int64(st, 1);
	p->returning = sqlite3_column_int64(st, 2);
	p->active = sqlite3_column_int64(st, 3);
	p->active_before = sqlite3_column_int64(st, 4);
	p->retained = sqlite3_column_int64(st, 5);
	sqlite3_finalize(st);
	p->aov = p->orders ? (double)p->revenue_cents / 100.0 / (double)p->orders : NAN;
	p->repeat_rate = ratio(p->returning, p->buyers);
	p->retention = ratio(p->retained, p->active_before);
	p->churn_rate = p->active_before ? 1 - p->retention : NAN;
	return 0;
}

int patron_kpis_compute(patron_store *s, int64_t now, int days, double threshold,
			patron_kpis *k, patron_err *err)
{
	k->days = days;
	k->threshold = threshold;
	patron_kpi_bounds(now, days, &k->cur.start, &k->cur.end);
	k->prev.end = k->cur.start;
	k->prev.start = k->cur.start - (int64_t)days * DAY;
	if (period(s, &k->cur, err) < 0 || period(s, &k->prev, err) < 0)
		return -1;
	/* Scores are the latest run's: they have no previous period. */
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(patron_store_db(s), "SELECT count(*) FILTER (WHERE name = 'churn'),"
			       " count(*) FILTER (WHERE name = 'churn' AND value >= ?1),"
			       " count(*) FILTER (WHERE name = 'clv'),"
			       " coalesce(sum(value) FILTER (WHERE name = 'clv'), 0)"
			       " FROM scores WHERE name IN ('churn', 'clv')", -1, &st, NULL) != SQLITE_OK)
		return patron_store_fail(s, err, "reading the scores");
	sqlite3_bind_double(st, 1, threshold);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_finalize(st);
		return patron_store_fail(s, err, "reading the scores");
	}
	k->scored = sqlite3_column_int64(st, 0);
	k->at_risk = sqlite3_column_int64(st, 1);
	k->clv_scored = sqlite3_column_int64(st, 2);
	k->clv_total = sqlite3_column_double(st, 3);
	sqlite3_finalize(st);
	return 0;
}

static json_t *real_or_null(double v) { return isnan(v) ? json_null() : json_real(v); }

static json_t *period_json(const patron_kpi_period *p)
{
	char a[32], b[32];
	json_t *o = json_object();
	/* after (not included) and until (included) */
	json_object_set_new(o, "after", json_string(patron_format_date(p->start - 1, a)));
	json_object_set_new(o, "until", json_string(patron_format_date(p->end - 1, b)));
	json_object_set_new(o, "revenue_cents", json_integer(p->revenue_cents));
	json_object_set_new(o, "orders", json_integer(p->orders));
	json_object_set_new(o, "average_order_value", real_or_null(p->aov));
	json_object_set_new(o, "active_customers", json_integer(p->active));
	json_object_set_new(o, "new_customers", json_integer(p->new_customers));
	json_object_set_new(o, "buyers", json_integer(p->buyers));
	json_object_set_new(o, "returning_buyers", json_integer(p->returning));
	json_object_set_new(o, "repeat_rate", real_or_null(p->repeat_rate));
	json_object_set_new(o, "active_at_start", json_integer(p->active_before));
	json_object_set_new(o, "retained", json_integer(p->retained));
	json_object_set_new(o, "retention_rate", real_or_null(p->retention));
	json_object_set_new(o, "churn_rate", real_or_null(p->churn_rate));
	return o;
}

json_t *patron_kpis_json(const patron_kpis *k)
{
	json_t *o = json_object();
	json_object_set_new(o, "period_days", json_integer(k->days));
	json_object_set_new(o, "current", period_json(&k->cur));
	json_object_set_new(o, "previous", period_json(&k->prev));
	json_object_set_new(o, "churn_scored", json_integer(k->scored));
	json_object_set_new(o, "at_risk", k->scored ? json_integer(k->at_risk) : json_null());
	json_object_set_new(o, "at_risk_threshold", json_real(k->threshold));
	json_object_set_new(o, "clv_scored", json_integer(k->clv_scored));
	json_object_set_new(o, "clv_total", k->clv_scored ? json_real(k->clv_total) : json_null());
	return o;
}
