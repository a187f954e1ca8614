# value.clv on real stores: it fills every buyer, and refuses what it cannot fit.

# orders N REPEAT [PRICE]: N customers, each with REPEAT orders, as of
# 2024-12-31; PRICE fixes every order's value (else it varies by customer).
orders() {
	{
		echo "order_id,email,created_at,sku,quantity,price"
		for i in $(seq 1 "$1"); do
			for k in $(seq 1 "$2"); do
				echo "o$i-$k,c$i@example.com,$(date -u -d "2024-12-31 - $((i * 7 + k * 30)) days" +%F),S1,1,${3:-$((10 + i % 7))}"
			done
		done
	} >"$T/orders.csv"
	"$PATRON" --db "$DB" import orders "$T/orders.csv" >/dev/null
}

t_clv_fills_every_customer_of_the_demo() {
	run "$PATRON" --db "$DB" --now 2026-11-23 demo --customers 500
	expect_rc 0
	expect_in "$T/out" "value: value.clv 1.1 wrote"
	expect_in "$T/err" "value.clv: info: BG/NBD on"
	expect_in "$T/err" "without a repeat purchase left out of the fit"
	customers=$(q "SELECT count(*) FROM customers")
	for s in clv p_alive expected_purchases; do
		expect_eq "$(q "SELECT count(*) FROM scores WHERE name='$s' AND value IS NOT NULL")" "$customers" "$s rows"
	done
	expect_eq "$(q "SELECT count(*) FROM scores WHERE name='p_alive' AND (value <= 0 OR value > 1)")" 0
	expect_eq "$(q "SELECT count(*) FROM scores WHERE name='clv' AND value < 0")" 0
	# Prospects (no paid order) are scored from their signup: BG/NBD lets
	# nobody lapse before a purchase, and the longer since signup without
	# one, the fewer purchases expected.
	prospects="SELECT id FROM customers WHERE id NOT IN (SELECT customer_id FROM orders WHERE revenue)"
	[ "$(q "SELECT count(*) FROM ($prospects)")" -gt 10 ] || fail "the demo has too few prospects"
	expect_eq "$(q "SELECT count(*) FROM scores WHERE name='p_alive' AND value <> 1 AND customer_id IN ($prospects)")" 0
	newer=$(q "SELECT avg(s.value) FROM scores s JOIN customers c ON c.id=s.customer_id WHERE s.name='expected_purchases' AND c.id IN ($prospects) AND c.created_at > unixepoch('2026-11-23') - 180*86400")
	older=$(q "SELECT avg(s.value) FROM scores s JOIN customers c ON c.id=s.customer_id WHERE s.name='expected_purchases' AND c.id IN ($prospects) AND c.created_at < unixepoch('2026-11-23') - 540*86400")
	awk -v a="$newer" -v b="$older" 'BEGIN { exit !(a > b && b > 0) }' || fail "prospects: newer $newer, older $older"
	# Customers who bought lately and often are worth more than the lapsed.
	champions=$(q "SELECT avg(c.value) FROM scores c JOIN scores s ON s.customer_id=c.customer_id WHERE c.name='clv' AND s.name='segment' AND s.label='champions'")
	lost=$(q "SELECT avg(c.value) FROM scores c JOIN scores s ON s.customer_id=c.customer_id WHERE c.name='clv' AND s.name='segment' AND s.label='lost'")
	awk -v a="$champions" -v b="$lost" 'BEGIN { exit !(a > 5 * b) }' || fail "champions $champions, lost $lost"
}

t_clv_refuses_a_store_too_small_to_fit() {
	orders 5 3
	run "$PATRON" --db "$DB" --now 2024-12-31 score --only value
	expect_rc 0
	expect_eq "$(cat "$T/out")" "value: value.clv skipped: needs at least 20 customers with a paid order, the store has 5; it runs once the shop has that many buyers"
	expect_eq "$(q "SELECT count(*) FROM scores")" 0
}

t_clv_says_when_there_are_no_repeat_customers() {
	orders 30 1
	run "$PATRON" --db "$DB" --now 2024-12-31 score --only value
	expect_rc 0
	expect_in "$T/out" "value: value.clv skipped: Gamma-Gamma needs at least 20 customers with a repeat purchase (paid orders on two or more days), the store has 0; it runs once that many have come back"
	expect_eq "$(q "SELECT count(*) FROM scores WHERE name LIKE '%alive%' OR name = 'clv'")" 0
}

t_clv_options_are_checked() {
	"$PATRON" --db "$DB" init >/dev/null
	echo 'value = { plugin = "clv", discount_monthly = 2 }' >"$T/patron.conf"
	run "$PATRON" --db "$DB" score --only value
	expect_rc 1
	expect_in "$T/err" "plugin value.clv: init failed: option discount_monthly: expected a rate from 0 to 1"
}

t_train_stores_versions_and_score_uses_the_newest() {
	"$PATRON" --db "$DB" --now 2026-11-23 demo --customers 500 >/dev/null 2>&1
	# The demo's score found no model, so it fitted and stored version 1.
	run "$PATRON" --db "$DB" models
	expect_in "$T/out" "value.clv          v1"
	run "$PATRON" --db "$DB" --now 2026-11-23 train value
	expect_rc 0
	expect_in "$T/out" "value: value.clv trained in"
	expect_in "$T/out" "stored as model version 2"
	run "$PATRON" --db "$DB" models --json
	expect_in "$T/out" '"version": 2'
	expect_in "$T/out" '"alpha": '
	run "$PATRON" --db "$DB" --now 2026-11-23 score --only value
	expect_rc 0
	grep -q "no stored model" "$T/err" && fail "score refitted though a model is stored"
	before=$(q "SELECT sum(value) FROM scores WHERE name='p_alive'")
	# Scoring reads the newest model: change its dropout parameter a, and
	# the customers' chances of being alive change.
	q "UPDATE models SET params = json_set(params, '$.a', 20.0) WHERE version = 2"
	run "$PATRON" --db "$DB" --now 2026-11-23 score --only value
	expect_rc 0
	after=$(q "SELECT sum(value) FROM scores WHERE name='p_alive'")
	[ "$before" != "$after" ] || fail "p_alive did not follow the stored model"
	q "UPDATE models SET params = '{\"other\":1}' WHERE version = 2"
	run "$PATRON" --db "$DB" --now 2026-11-23 score --only value
	expect_rc 1
	expect_in "$T/err" "patron: plugin value.clv: the stored model cannot be read: patron train value fits a new one"
	run "$PATRON" --db "$DB" train widgets
	expect_rc 2
	expect_in "$T/err" 'no job "widgets"'
}

t_clv_reports_a_fit_that_does_not_converge_and_writes_nothing() {
	# Every order worth the same: the spend model has no optimum.
	orders 40 3 10
	run "$PATRON" --db "$DB" --now 2024-12-31 score --only value
	expect_rc 1
	expect_in "$T/err" "patron: plugin value.clv: Gamma-Gamma on 40 repeat customers: the fit did not converge after"
	expect_in "$T/err" "(log-likelihood "
	expect_eq "$(q "SELECT count(*) FROM scores")" 0
	expect_eq "$(q "SELECT count(*) FROM models")" 0
}

# The CDNOW sample's summary (data/cdnow/SOURCE.md) turned back into orders:
# each repeat purchase a day of its own, the first repeat purchase split in
# two orders on one day, and a first purchase of 999.99 that neither model
# may count. Patron must give back the published fits.
t_clv_recovers_the_published_cdnow_fits_from_orders() {
	/usr/bin/python3 - "$DATA/cdnow/summary.csv" "$T/orders.csv" <<'PY'
import csv, datetime, math, sys
now = datetime.date(2026, 11, 23)
out = open(sys.argv[2], "w", newline="")
w = csv.writer(out)
w.writerow(["order_id", "email", "placed_at", "total"])
for row in csv.DictReader(open(sys.argv[1])):
    i, x = row["ID"], int(row["x"])
    T, tx = round(float(row["T"]) * 7), round(float(row["t_x"]) * 7)
    first = now - datetime.timedelta(days=T)
    who = "c%s@example.com" % i
    w.writerow(["%s-0" % i, who, first.isoformat(), "999.99"])
    cents = round(float(row["zbar"]) * 100)
    assert x <= tx or x == 0, row
    for k in range(1, x + 1):
        day = (first + datetime.timedelta(days=math.ceil(k * tx / x))).isoformat()
        if k == 1:    # two orders on one day: one purchase
            half = cents // 2
            w.writerow(["%s-1a" % i, who, day, "%.2f" % (half / 100)])
            w.writerow(["%s-1b" % i, who, day, "%.2f" % ((cents - half) / 100)])
        else:
            w.writerow(["%s-%d" % (i, k), who, day, "%.2f" % (cents / 100)])
PY
	"$PATRON" --db "$DB" import orders "$T/orders.csv" >/dev/null
	expect_eq "$(q 'SELECT count(DISTINCT customer_id) FROM orders')" 2357
	run "$PATRON" --db "$DB" --now 2026-11-23 train value
	expect_rc 0
	expect_in "$T/err" "Gamma-Gamma on the mean value of the repeat purchases of 946 customers"
	run "$PATRON" --db "$DB" --json models
	expect_rc 0
	/usr/bin/python3 - "$T/out" <<'PY' || fail "the fit is not the published one: $(cat "$T/out")"
import json, sys
models = json.load(open(sys.argv[1]))
m = next(m for m in (models if isinstance(models, list) else models["models"]) if m["name"] == "value.clv")
p = m["params"] if isinstance(m["params"], dict) else json.loads(m["params"])
published = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426, "p": 6.25, "q": 3.74, "gamma": 15.44}
for k, v in published.items():
    assert abs(p[k] - v) <= 0.01 * v, (k, p[k], v)
assert abs(p["alpha_days"] - 7 * p["alpha"]) < 1e-9 and p["units"]["alpha"] == "weeks", p
PY
	# Customer 1 (x 2, t_x 30.43, T 38.86): 1.226 purchases expected in the
	# next 39 weeks (9 months of 52/12 weeks).
	echo 'value = { plugin = "clv", horizon_months = 9 }' >"$T/patron.conf"
	run "$PATRON" --db "$DB" --now 2026-11-23 score --only value
	expect_rc 0
	v=$(q "SELECT s.value FROM scores s JOIN identities i ON i.customer_id = s.customer_id WHERE i.value = 'c1@example.com' AND s.name = 'expected_purchases'")
	awk -v v="$v" 'BEGIN { exit !(v > 1.226 * 0.99 && v < 1.226 * 1.01) }' || fail "customer 1 expects $v purchases, published 1.226"
}
