# Importing real export formats through the command line, bad input, and
# what a kill in the middle of an import leaves behind.

t_shopify_export_lands_with_revenue_and_consent() {
	run "$PATRON" --db "$DB" import orders "$DATA/shopify_orders.csv"
	expect_rc 0
	expect_in "$T/out" "6 rows: the Shopify orders export; 5 new orders (6 lines), 0 updated, 0 unchanged; 3 new customers"
	# #1001 53.50 + #1002 30.00 less 10.00 refunded; #1003 refunded, #1004 pending.
	run "$PATRON" --db "$DB" --now 2024-06-01 customer ADA@example.com --json
	expect_rc 0
	expect_in "$T/out" '"orders": 2'
	expect_in "$T/out" '"total_spent": "73.50"'
	expect_in "$T/out" '"days_since_last_order": 61'
	expect_in "$T/out" '"first_name": "Ada"'
	expect_eq "$(q "SELECT status FROM orders WHERE order_key='#1002'")" partially_refunded
	expect_eq "$(q "SELECT group_concat(revenue) FROM (SELECT revenue FROM orders ORDER BY order_key)")" "1,1,0,0,1"
	expect_eq "$(q "SELECT name FROM products WHERE sku='SNK-2'")" 'Biscotti "Almond"'
	run "$PATRON" --db "$DB" customer grace@example.com
	expect_in "$T/out" "orders      0, total spent 0.00"
	expect_in "$T/out" "2 more not paid"
	expect_in "$T/out" "email: no"
	# The walk-in customer is known by phone only.
	run "$PATRON" --db "$DB" customer "+1 555 010 0399"
	expect_rc 0
	expect_in "$T/out" "phone +15550100399"
}

t_stripe_export_counts_only_paid_money() {
	run "$PATRON" --db "$DB" import orders "$DATA/stripe_payments.csv" --json
	expect_rc 0
	expect_in "$T/out" '"format": "stripe"'
	expect_in "$T/out" '"orders_new": 4'
	run "$PATRON" --db "$DB" customer cus_Ada1 --json
	expect_rc 0
	expect_in "$T/out" '"total_spent": "25.00"'
	expect_in "$T/out" '"orders_not_revenue": 2'
	run "$PATRON" --db "$DB" customer cus_Bob2 --json
	expect_in "$T/out" '"total_spent": "1000.00"'
	run "$PATRON" --db "$DB" stats --json
	expect_in "$T/out" '"revenue_cents": 102500'
}

t_customers_and_orders_from_two_files_are_one_person() {
	run "$PATRON" --db "$DB" import customers "$DATA/customers.csv"
	expect_rc 0
	run "$PATRON" --db "$DB" import orders "$DATA/shopify_orders.csv" "$DATA/stripe_payments.csv"
	expect_rc 0
	# Ada: C1 in the customer list, ada@ in both exports, cus_Ada1 at Stripe.
	expect_eq "$(q "SELECT count(DISTINCT customer_id) FROM identities WHERE value IN ('C1','ada@example.com','cus_Ada1')")" 1
	expect_eq "$(q 'SELECT count(*) FROM customers')" 4
	run "$PATRON" --db "$DB" --now 2024-09-01 customer C1
	expect_rc 0
	expect_in "$T/out" "customer 1  Ada Lovelace"
	expect_in "$T/out" "identities  email ada@example.com, id C1, phone +442079460958, stripe cus_Ada1"
	expect_in "$T/out" "birthday=1815-12-10 city=London country=GB lifetime_points=1200 postcode=N1 9GU source=web"
	expect_in "$T/out" "tags        early vip"
	expect_in "$T/out" "email: yes"
	expect_in "$T/out" "orders      3, total spent 98.50"
	expect_eq "$(q "SELECT type FROM attribute_defs WHERE name='lifetime_points'")" integer
	expect_eq "$(q "SELECT type FROM attribute_defs WHERE name='birthday'")" date
}

t_a_bad_row_fails_the_file_with_one_clear_line() {
	run "$PATRON" --db "$DB" import customers "$DATA/customers.csv"
	run "$PATRON" --db "$DB" import orders "$DATA/bad_orders.csv"
	expect_rc 1
	expect_eq "$(cat "$T/err")" "patron: $DATA/bad_orders.csv:3: column \"created_at\": expected a date, got \"31/02/2024\""
	expect_eq "$(q 'SELECT count(*) FROM orders')" 0
	expect_eq "$(q "SELECT count(*) FROM events WHERE topic='order.created'")" 0
}

t_skip_bad_lands_good_rows_and_writes_the_rejects() {
	cp "$DATA/bad_orders.csv" "$T/orders.csv"
	run "$PATRON" --db "$DB" import orders "$T/orders.csv" --skip-bad
	expect_rc 0
	expect_in "$T/out" "1 rejected"
	expect_in "$T/out" "$T/orders.csv.rejected.csv"
	expect_eq "$(q 'SELECT count(*) FROM orders')" 2
	expect_eq "$(sed -n 2p "$T/orders.csv.rejected.csv")" \
		'3,"column ""created_at"": expected a date, got ""31/02/2024""",2,ada@example.com,31/02/2024,S1,Beans,1,10.00'
}

t_reimporting_changes_nothing() {
	for f in customers.csv shopify_orders.csv stripe_payments.csv; do
		kind=orders
		[ "$f" = customers.csv ] && kind=customers
		run "$PATRON" --db "$DB" import "$kind" "$DATA/$f"
		expect_rc 0
	done
	sqlite3 "$DB" .dump | grep -v 'INSERT INTO imports' >"$T/before"
	run "$PATRON" --db "$DB" import orders "$DATA/shopify_orders.csv" "$DATA/stripe_payments.csv"
	expect_in "$T/out" "0 new orders (0 lines), 0 updated, 5 unchanged"
	expect_in "$T/out" "0 new orders (0 lines), 0 updated, 4 unchanged"
	run "$PATRON" --db "$DB" import customers "$DATA/customers.csv"
	expect_in "$T/out" "0 new customers, 2 matched"
	sqlite3 "$DB" .dump | grep -v 'INSERT INTO imports' >"$T/after"
	cmp -s "$T/before" "$T/after" || fail "the store changed: $(diff "$T/before" "$T/after" | head -5)"
}

t_a_killed_import_leaves_the_store_as_it_was() {
	"$PATRON_GEN" --out "$T/shop" --customers 30000 --lines 600000 --seed 7 --end 2026-06-30 >/dev/null
	run "$PATRON" --db "$DB" import customers "$T/shop/customers.csv"
	expect_rc 0
	before=$(sqlite3 "$DB" .dump | grep -v 'INSERT INTO imports' | md5sum)
	# Time a whole import elsewhere, then kill one half-way through.
	cp "$DB" "$T/timing.db"
	start=$(date +%s%N)
	"$PATRON" --db "$T/timing.db" import orders "$T/shop/orders.csv" >/dev/null
	half=$((($(date +%s%N) - start) / 2000))
	"$PATRON" --db "$DB" import orders "$T/shop/orders.csv" >/dev/null 2>&1 &
	pid=$!
	sleep "$(printf '0.%06d' "$half")"
	kill -9 "$pid" 2>/dev/null || fail "the import ended before it could be killed"
	wait "$pid" 2>/dev/null || true
	expect_eq "$(q 'PRAGMA integrity_check')" ok
	after=$(sqlite3 "$DB" .dump | grep -v 'INSERT INTO imports' | md5sum)
	expect_eq "$after" "$before" "store after the kill"
	# A rerun finishes the job.
	run "$PATRON" --db "$DB" import orders "$T/shop/orders.csv"
	expect_rc 0
	expect_eq "$(q 'SELECT count(*) FROM orders')" "$(sqlite3 "$T/timing.db" 'SELECT count(*) FROM orders')"
	expect_eq "$(q 'SELECT count(*) FROM order_lines')" "$(($(wc -l <"$T/shop/orders.csv") - 1))"
}

t_a_field_too_large_is_refused_with_its_line() {
	# 2 MiB in one field, on one line, then spread over many lines.
	/usr/bin/python3 - "$T" <<-'PY'
	import sys
	t = sys.argv[1]
	with open(t + "/wide.csv", "w") as f:
	    f.write("email,first_name\na@example.com,Ann\nb@example.com,\"" + "x" * (2 << 20) + "\"\n")
	with open(t + "/tall.csv", "w") as f:
	    f.write("email,first_name\nc@example.com,\"" + ("y" * 999 + "\n") * 2100 + "\"\n")
	PY
	run "$PATRON" --db "$DB" import customers "$T/wide.csv"
	expect_rc 1
	expect_in "$T/err" "wide.csv:3: a field of more than 1048576 bytes (the most a field may hold; --max-field-size raises it)"
	run "$PATRON" --db "$DB" import customers "$T/tall.csv"
	expect_rc 1
	expect_in "$T/err" "tall.csv:1050: a field of more than 1048576 bytes"
	expect_eq "$(q 'SELECT count(*) FROM customers')" 0
	run "$PATRON" --db "$DB" import customers "$T/wide.csv" --max-field-size 4M
	expect_rc 0
	expect_eq "$(q 'SELECT count(*) FROM customers')" 2
	run "$PATRON" --db "$DB" import customers "$T/wide.csv" --max-field-size lots
	expect_rc 2
	expect_in "$T/err" "--max-field-size: expected bytes, or with K or M"
}
