# Shops' exports as the shops write them today (and as they did before),
# imported with no flags, checked against revenue worked out by hand from
# the files. The files are in data/exports/; each test says what is in them.

EX="$DATA/exports"

# revenue_in CURRENCY: the revenue `patron stats --json` shows for it, in cents.
revenue_in() {
	"$PATRON" --db "$DB" stats --json | /usr/bin/python3 -c \
		"import json,sys; print(json.load(sys.stdin)['revenue_by_currency']['$1']['revenue_cents'])"
}

t_shopify_export_with_guests_refunds_cancellations_and_three_currencies() {
	# October: #1001 a point-of-sale guest order (no email), #1002 two lines,
	# #1003 EUR, #1004 GBP with 15.00 of 40.00 refunded, #1005 paid but
	# cancelled, #1006 paid, #1007 pending. EUR and GBP need rates.
	"$PATRON" --db "$DB" init >/dev/null
	run "$PATRON" --db "$DB" import orders "$EX/shopify_october.csv"
	expect_rc 1
	expect_eq "$(cat "$T/err")" "patron: $EX/shopify_october.csv:5: currency EUR is not the shop's base currency USD, and there is no rate for it on or before 2026-10-03: give rates with patron import rates FILE.csv (date,currency,rate), or choose the base currency with currency = \"...\" in patron.conf"
	expect_eq "$(q 'SELECT count(*) FROM orders')" 0
	run "$PATRON" --db "$DB" import rates "$EX/rates.csv"
	expect_rc 0
	expect_in "$T/out" "3 rates into the base currency"
	run "$PATRON" --db "$DB" import orders "$EX/shopify_october.csv"
	expect_rc 0
	expect_in "$T/out" "the Shopify orders export; 7 new orders (8 lines), 0 updated, 0 unchanged, 1 of them guest orders (no customer); 5 new customers"
	# The shop's dashboard, per currency: USD 18.00 + 46.00 + 64.50; EUR 50.00;
	# GBP 40.00 - 15.00. Cancelled and pending orders are not revenue.
	expect_eq "$(revenue_in USD)" 12850
	expect_eq "$(revenue_in EUR)" 5000
	expect_eq "$(revenue_in GBP)" 2500
	# In the base currency: #1003 on 2026-10-03 takes the rate from
	# 2026-09-30 (1.08), not the later 1.10: 54.00; 25.00 GBP x 1.27 = 31.75.
	expect_eq "$(q 'SELECT sum(total_cents) FROM orders WHERE revenue')" $((12850 + 5400 + 3175))
	run "$PATRON" --db "$DB" stats
	expect_in "$T/out" "revenue         214.25 USD"
	expect_in "$T/out" "GBP           25.00 GBP in 1 paid orders; refunded 15.00"
	expect_in "$T/out" "guest_orders    1"
	expect_eq "$(q "SELECT status || ',' || revenue || ',' || coalesce(customer_id, 'guest') FROM orders WHERE order_key IN ('#1001', '#1004', '#1005', '#1007') ORDER BY order_key" | tr '\n' ' ')" \
		"paid,1,guest partially_refunded,1,3 cancelled,0,1 pending,0,5 "
	# Customer-level columns reach the customer; the accented name is kept.
	run "$PATRON" --db "$DB" customer ann.example@example.com
	expect_in "$T/out" "attributes  city=Springfield country=US region=Illinois source=web"
	expect_in "$T/out" "tags        vip wholesale"
	expect_in "$T/out" "email: yes"
	expect_eq "$(q "SELECT first_name || ' ' || last_name FROM customers c JOIN identities i ON i.customer_id = c.id WHERE i.value = 'bo@example.fr'")" "Bö Éklund"
}

t_a_later_export_that_refunds_an_order_updates_it_and_a_rule_answers() {
	"$PATRON" --db "$DB" import rates "$EX/rates.csv" >/dev/null
	"$PATRON" --db "$DB" --now 2026-10-31 import orders "$EX/shopify_october.csv" >/dev/null
	dee=$(q "SELECT customer_id FROM identities WHERE value = 'dee@example.com'")
	run "$PATRON" --db "$DB" --now 2026-10-31 customer dee@example.com
	expect_in "$T/out" "orders      1, total spent 64.50"
	# November's export: #1006 refunded in full since, and a new #1008.
	run "$PATRON" --db "$DB" --now 2026-11-30 import orders "$EX/shopify_november.csv"
	expect_rc 0
	expect_in "$T/out" "1 new orders (1 lines), 1 updated, 6 unchanged"
	expect_eq "$(revenue_in USD)" $((1800 + 4600 + 1200))
	expect_eq "$(q "SELECT status || ',' || revenue || ',' || refunded_cents FROM orders WHERE order_key = '#1006'")" "refunded,0,6450"
	expect_eq "$(q "SELECT count(*) FROM events WHERE topic = 'order.refunded'")" 1
	expect_eq "$(q "SELECT customer_id || ' ' || (payload ->> '\$.old.status') || '>' || (payload ->> '\$.new.status') || ' ' || (payload ->> '\$.new.total_cents') FROM events WHERE topic = 'order.refunded'")" "$dee paid>refunded 0"
	run "$PATRON" --db "$DB" --now 2026-11-30 customer dee@example.com
	expect_in "$T/out" "orders      1, total spent 12.00"
	# A rule acts on the refund.
	mkdir -p "$T/rules"
	cat >"$T/rules/refund.lua" <<'EOF'
rule { name = "refunded", on = "order.refunded",
  act = function(c, e) tag(c, "refunded-" .. e.data.order) end }
EOF
	run "$PATRON" --db "$DB" --now 2026-11-30 run "$T/rules"
	expect_rc 0
	expect_eq "$(q "SELECT tag FROM tags WHERE customer_id = $dee")" "refunded-#1006"
	# The same export again changes nothing and raises nothing.
	before=$(q "SELECT count(*) FROM events")
	run "$PATRON" --db "$DB" --now 2026-11-30 import orders "$EX/shopify_november.csv"
	expect_in "$T/out" "0 new orders (0 lines), 0 updated, 8 unchanged"
	expect_eq "$(q "SELECT count(*) FROM events")" "$before"
}

t_stripe_todays_export_with_disputes_guests_and_converted_amounts() {
	# py_3Q1 120.00 paid; py_3Q2 refunded in full; py_3Q3 200.00 EUR, 50.00
	# refunded, 216.40 - 54.10 USD converted; py_3Q4 failed; py_3Q5 300.00
	# under a dispute that needs a response; py_3Q6 a guest's 25.00 GBP
	# (31.75 USD); py_3Q7 60.00 whose dispute was won.
	run "$PATRON" --db "$DB" import orders "$EX/stripe_unified.csv"
	expect_rc 0
	expect_in "$T/out" "the Stripe payments export; 7 new orders (0 lines), 0 updated, 0 unchanged, 1 of them guest orders (no customer)"
	expect_in "$T/out" "the shop's base currency is now USD"
	expect_eq "$(revenue_in USD)" $((12000 + 6000))
	expect_eq "$(revenue_in EUR)" 15000
	expect_eq "$(revenue_in GBP)" 2500
	expect_eq "$(q 'SELECT sum(total_cents) FROM orders WHERE revenue')" $((12000 + 21640 - 5410 + 3175 + 6000))
	expect_eq "$(q "SELECT status || ',' || revenue || ',' || disputed_cents FROM orders WHERE order_key = 'py_3Q5'")" "disputed,0,30000"
	run "$PATRON" --db "$DB" stats
	expect_in "$T/out" "under dispute 300.00"
	# Customer Description is the name; the email and Stripe's id are one person.
	run "$PATRON" --db "$DB" customer cus_Bo
	expect_in "$T/out" "Bö Éklund"
	expect_in "$T/out" "identities  email bo@example.fr, stripe cus_Bo"
}

t_stripe_legacy_export_still_reads() {
	run "$PATRON" --db "$DB" import orders "$EX/stripe_legacy.csv"
	expect_rc 0
	expect_in "$T/out" "the Stripe payments export; 3 new orders"
	# 49.00 + (49.00 - 20.00); the failed charge is kept, not counted.
	expect_eq "$(revenue_in USD)" 7800
	expect_eq "$(q "SELECT count(*) FROM orders WHERE status = 'failed'")" 1
}

t_woocommerce_export_with_guests_and_refunds() {
	# 501 completed 35.00 (two items); 502 processing 20.00 by a guest with an
	# email (customer_id 0); 503 on-hold; 504 refunded; 505 completed, 10.00
	# of 40.00 refunded, no email at all: a guest order.
	run "$PATRON" --db "$DB" import orders "$EX/woocommerce_orders.csv"
	expect_rc 0
	expect_in "$T/out" "the WooCommerce orders export; 5 new orders (6 lines), 0 updated, 0 unchanged, 1 of them guest orders (no customer); 2 new customers"
	expect_eq "$(revenue_in EUR)" $((3500 + 2000 + 3000))
	expect_eq "$(q "SELECT count(*) FROM identities WHERE kind = 'woocommerce'")" 1
	run "$PATRON" --db "$DB" customer lena@example.de
	expect_in "$T/out" "city=Köln country=DE"
}

t_shopify_customers_and_products_exports_are_recognised() {
	run "$PATRON" --db "$DB" import customers "$EX/shopify_customers.csv" "$EX/shopify_customers_old.csv"
	expect_rc 0
	# The apostrophe Shopify writes before numbers is not part of them.
	expect_eq "$(q "SELECT value FROM identities WHERE kind = 'shopify' ORDER BY 1" | tr '\n' ' ')" "7301000001 7301000002 "
	run "$PATRON" --db "$DB" customer ann.example@example.com
	expect_in "$T/out" "city=Springfield country=US"
	expect_in "$T/out" "postcode=62701 region=IL"
	expect_in "$T/out" "email: yes"
	expect_in "$T/out" "sms: yes"
	expect_eq "$(q "SELECT a.value FROM attributes a JOIN identities i USING (customer_id) WHERE i.value = 'cy@example.co.uk' AND a.name = 'country'")" "GB"
	run "$PATRON" --db "$DB" import products "$EX/shopify_products.csv"
	expect_rc 0
	expect_eq "$(q "SELECT sku || ':' || coalesce(name, '-') || ':' || coalesce(category, '-') || ':' || price_cents FROM products ORDER BY sku" | tr '\n' ' ')" \
		"MUG-SAND:Ceramic Mug:Mugs:1800 TEE-BLK-M:-:-:1400 TEE-BLK-S:Crew Tee:Shirts:1400 " 
}

t_a_file_near_a_known_export_says_which_columns_it_lacks() {
	printf 'id,Created date (UTC),Amount,Status\nch_1,2026-01-01 10:00,5.00,Paid\n' >"$T/cut.csv"
	run "$PATRON" --db "$DB" import orders "$T/cut.csv"
	expect_rc 1
	expect_eq "$(tail -1 "$T/err")" "patron: $T/cut.csv:1: no column for \"created_at\" (looked for: created_at date order_date placed_at ordered_at invoice_date transaction_date purchase_date); name it with --map created_at=HEADER; it looks like the Stripe payments export, which also has currency (--format stripe reads it as one)"
	run "$PATRON" --db "$DB" import orders "$T/cut.csv" --format stripe
	expect_rc 0
	expect_in "$T/out" "1 of them guest orders"
}

t_an_amount_column_is_money_and_a_file_without_money_is_refused() {
	# As in public transaction data sets: customer, date, quantity, amount,
	# no order id: each row is an order.
	printf 'customer_id,date,quantity,amount\n1,1997-01-01,1,11.77\n1,1997-01-01,2,20.00\n2,1997-01-12,5,77.00\n' >"$T/cd.csv"
	run "$PATRON" --db "$DB" import orders "$T/cd.csv"
	expect_rc 0
	expect_in "$T/out" "3 new orders (0 lines)"
	expect_eq "$(q 'SELECT sum(total_cents) FROM orders WHERE revenue')" 10877
	run "$PATRON" --db "$DB" import orders "$T/cd.csv"
	expect_in "$T/out" "0 new orders (0 lines), 0 updated, 3 unchanged"
	printf 'customer_id,date,quantity\n1,1997-01-01,1\n' >"$T/nomoney.csv"
	run "$PATRON" --db "$DB" import orders "$T/nomoney.csv"
	expect_rc 1
	expect_in "$T/err" "nomoney.csv:1: no column gives the money"
}

t_bad_bytes_are_named_and_latin1_is_read_with_encoding() {
	"$PATRON" --db "$DB" init >/dev/null
	printf 'email,first_name\nann@example.com,Ann\nbo@example.com,B\000o\n' >"$T/nul.csv"
	run "$PATRON" --db "$DB" import customers "$T/nul.csv"
	expect_rc 1
	expect_eq "$(cat "$T/err")" "patron: $T/nul.csv:3: column \"first_name\": a NUL byte at byte 2"
	printf 'email,first_name\nbo@example.com,B\366\n' >"$T/latin1.csv"
	run "$PATRON" --db "$DB" import customers "$T/latin1.csv"
	expect_rc 1
	expect_eq "$(cat "$T/err")" "patron: $T/latin1.csv:2: column \"first_name\": invalid UTF-8 at byte 2 (if the file is not UTF-8, give --encoding latin1 or cp1252)"
	expect_eq "$(q 'SELECT count(*) FROM customers')" 0
	run "$PATRON" --db "$DB" import customers "$T/latin1.csv" --encoding latin1
	expect_rc 0
	expect_eq "$(q 'SELECT first_name FROM customers')" "Bö"
	# Windows-1252's curly quote and euro sign.
	printf 'email,first_name\ncy@example.com,\223Cy\224 \200\n' >"$T/cp.csv"
	run "$PATRON" --db "$DB" import customers "$T/cp.csv" --encoding cp1252
	expect_rc 0
	expect_eq "$(q "SELECT first_name FROM customers WHERE first_name LIKE '%Cy%'")" "“Cy” €"
	# A control character in a bad value is shown escaped, never raw.
	printf 'email,accepts_marketing\ndi@example.com,"ye\ts\001"\n' >"$T/ctl.csv"
	run "$PATRON" --db "$DB" import customers "$T/ctl.csv"
	expect_rc 1
	expect_eq "$(cat "$T/err")" "patron: $T/ctl.csv:2: column \"accepts_marketing\": expected yes or no, got \"ye\\ts\\x01\""
}

t_a_public_retail_transactions_file_imports_as_it_is() {
	# The columns of the public Online Retail data (camelCase headers,
	# m/d/yyyy h:mm dates, a credit note "C..." with a negative quantity, a
	# row without a customer) and of its second edition.
	printf '%s\n' 'InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country' \
		'536365,85123A,WHITE HANGING HEART T-LIGHT HOLDER,6,12/1/2010 8:26,2.55,17850,United Kingdom' \
		'536365,71053,WHITE METAL LANTERN,6,12/1/2010 8:26,3.39,17850,United Kingdom' \
		'C536379,D,Discount,-1,12/1/2010 9:41,27.50,14527,United Kingdom' \
		'536414,22139,,56,12/1/2010 11:52,0.00,,United Kingdom' \
		'536415,22423,REGENCY CAKESTAND 3 TIER,2,12/1/2010 11:57,12.75,14527,United Kingdom' >"$T/retail.csv"
	run "$PATRON" --db "$DB" import orders "$T/retail.csv"
	expect_rc 0
	expect_in "$T/out" "4 new orders (5 lines), 0 updated, 0 unchanged, 1 of them guest orders"
	# 6 x 2.55 + 6 x 3.39 and 2 x 12.75; the credit note is a return, not revenue.
	expect_eq "$(q 'SELECT sum(total_cents) FROM orders WHERE revenue')" $((1530 + 2034 + 2550))
	expect_eq "$(q "SELECT status || ',' || revenue FROM orders WHERE order_key = 'C536379'")" "returned,0"
	expect_eq "$(q "SELECT placed_at FROM orders WHERE order_key = '536365'")" "$(date -u -d '2010-12-01 08:26' +%s)"
	printf '%s\n' 'Invoice,StockCode,Description,Quantity,InvoiceDate,Price,Customer ID,Country' \
		'489434,85048,15CM CHRISTMAS GLASS BALL 20 LIGHTS,12,2009-12-01 07:45:00,6.95,13085.0,United Kingdom' >"$T/retail2.csv"
	run "$PATRON" --db "$DB" import orders "$T/retail2.csv"
	expect_rc 0
	expect_eq "$(q "SELECT total_cents FROM orders WHERE order_key = '489434'")" 8340
	expect_eq "$(q "SELECT count(*) FROM identities WHERE value = '13085.0'")" 1
}

t_a_bad_rates_file_is_named_by_line_and_lands_nothing() {
	"$PATRON" --db "$DB" init >/dev/null
	printf 'date,currency,rate\n2026-01-01,EUR,1.1\n2026-01-02,EUR,0\n' >"$T/r.csv"
	run "$PATRON" --db "$DB" import rates "$T/r.csv"
	expect_rc 1
	expect_eq "$(cat "$T/err")" "patron: $T/r.csv:3: column \"rate\": expected a number above 0, got \"0\""
	expect_eq "$(q 'SELECT count(*) FROM rates')" 0
	printf 'day,code,value\n2026-01-01,euro,1.1\n' >"$T/r.csv"
	run "$PATRON" --db "$DB" import rates "$T/r.csv"
	expect_eq "$(cat "$T/err")" "patron: $T/r.csv:2: column \"currency\": expected a code like GBP, got \"euro\""
	printf 'when,currency\n' >"$T/r.csv"
	run "$PATRON" --db "$DB" import rates "$T/r.csv"
	expect_eq "$(cat "$T/err")" "patron: $T/r.csv:1: expected the columns date, currency and rate (one unit of the currency in the base currency)"
	echo 'currency = "EUR"' >"$T/patron.conf"
	printf 'date,currency,rate\n2026-01-01,eur,1\n' >"$T/r.csv"
	run "$PATRON" --db "$DB" import rates "$T/r.csv"
	expect_eq "$(cat "$T/err")" "patron: $T/r.csv:2: EUR is the base currency itself (its rate is 1)"
}

t_woocommerce_analytics_download_counts_revenue_by_order() {
	# WooCommerce's own Analytics > Orders download names customers only,
	# so its orders are guests' and count in the shop's revenue.
	printf '%s\n' 'Date,Order #,N. Revenue (formatted),Status,Customer,Customer type,Product(s),Items sold,Coupon(s),Net Sales,Attribution' \
		'2026-09-01,501,"$1,035.00",Completed,Lena Fischer,new,"2× Tea Tin, Tea Cup",3,,1035.00,Organic: Google' \
		'2026-09-02,502,$20.00,On hold,Max Guest,new,Tea Tin,1,,20.00,Direct' \
		'2026-09-03,503,$15.00,Processing,Lena Fischer,returning,Tea Cup,1,WELCOME,15.00,Direct' >"$T/wa.csv"
	run "$PATRON" --db "$DB" import orders "$T/wa.csv"
	expect_rc 0
	expect_in "$T/out" "the WooCommerce Analytics orders download; 3 new orders (0 lines), 0 updated, 0 unchanged, 3 of them guest orders"
	expect_eq "$(q 'SELECT sum(total_cents) FROM orders WHERE revenue')" $((103500 + 1500))
}

t_a_shop_export_phone_that_is_no_number_does_not_refuse_the_file() {
	# Checkout forms take any text as a phone: "call me" names no one, and
	# Shopify's apostrophe before a number is not part of it.
	/usr/bin/python3 - "$EX/shopify_october.csv" "$T/phones.csv" <<'PY'
import csv, sys
rows = list(csv.reader(open(sys.argv[1], newline='')))
col = rows[0].index('Billing Phone')
for r in rows[1:]:
    if r[0] == '#1002' and r[2]:
        r[col] = 'call me'
    if r[0] == '#1006' and r[2]:
        r[col] = "'+1 (555) 010-0200"
csv.writer(open(sys.argv[2], 'w', newline=''), lineterminator='\n').writerows(rows)
PY
	echo 'currency = "USD"' >"$T/patron.conf"
	"$PATRON" --db "$DB" import rates "$EX/rates.csv" >/dev/null
	run "$PATRON" --db "$DB" import orders "$T/phones.csv"
	expect_rc 0
	expect_in "$T/out" "7 new orders (8 lines)"
	expect_in "$T/out" "1 phone values that are not phone numbers were not used to recognise the customer"
	expect_eq "$(q "SELECT count(*) FROM identities WHERE kind = 'phone' AND value = '+15550100200'")" 1
}
