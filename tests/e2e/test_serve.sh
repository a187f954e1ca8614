# patron serve end to end: a real server on 127.0.0.1 taking Shopify and
# Stripe webhooks (signed as the vendors sign them), a site's events,
# tracked clicks and opens, one-click unsubscribes and the owner's pages;
# and every bad input: signatures, replays, malformed JSON, bodies over the
# limit, slow clients, tampered tokens, unknown paths, SQL and HTML.

SHOPIFY_SECRET=shpss_test_secret_0123
STRIPE_SECRET=whsec_test_secret_0123

# serve [ARGS...]: start_serve with the shops' webhook secrets.
serve() {
	PATRON_SHOPIFY_SECRET=$SHOPIFY_SECRET PATRON_STRIPE_SECRET=$STRIPE_SECRET start_serve "$@"
}

serve_stop() {
	local pid
	pid=$(cat "$T/.server-patron.pid")
	kill -TERM "$pid"
	wait "$pid" 2>/dev/null || true
	rm -f "$T/.server-patron.pid"
}

# post PATH FILE [CURL-ARGS...]: POSTs FILE; the status in $CODE, the body
# in $T/resp.
post() {
	local path=$1 file=$2
	shift 2
	CODE=$(curl -s -o "$T/resp" -w '%{http_code}' -X POST --data-binary "@$file" \
		-H 'Content-Type: application/json' "$@" "$URL$path")
}

# shopify FILE TOPIC [ID]: a webhook as Shopify sends it, HMAC-SHA256 of the
# raw body under the app's secret, base64.
shopify() {
	local sig
	sig=$(/usr/bin/python3 -c 'import base64, hashlib, hmac, sys
print(base64.b64encode(hmac.new(sys.argv[1].encode(), open(sys.argv[2], "rb").read(), hashlib.sha256).digest()).decode())' \
		"$SHOPIFY_SECRET" "$1")
	post /hooks/shopify "$1" -H "X-Shopify-Topic: $2" -H "X-Shopify-Hmac-Sha256: $sig" \
		-H "X-Shopify-Webhook-Id: ${3:-$(basename "$1")}" -H "X-Shopify-Shop-Domain: shop.myshopify.com"
}

# stripe FILE [TIMESTAMP [SECRET]]: an event as Stripe sends it,
# t=TIMESTAMP,v1=HMAC-SHA256("TIMESTAMP.BODY") in hex.
stripe() {
	local t=${2:-$(date +%s)} sig
	sig=$(/usr/bin/python3 -c 'import hashlib, hmac, sys
print(hmac.new(sys.argv[1].encode(), sys.argv[2].encode() + b"." + open(sys.argv[3], "rb").read(), hashlib.sha256).hexdigest())' \
		"${3:-$STRIPE_SECRET}" "$t" "$1")
	post /hooks/stripe "$1" -H "Stripe-Signature: t=$t,v1=$sig"
}

# An order as Shopify's orders/create webhook carries it (the fields of the
# REST Order resource), two lines, a customer who accepts email marketing.
shopify_order() {
	cat >"$T/order.json" <<-'JSON'
	{"id": 5940139491234, "admin_graphql_api_id": "gid://shopify/Order/5940139491234",
	 "name": "#1001", "order_number": 1001, "email": "Ada@Example.com", "phone": null,
	 "created_at": "2026-11-20T10:30:00-05:00", "updated_at": "2026-11-20T10:30:05-05:00",
	 "currency": "USD", "presentment_currency": "USD", "financial_status": "paid",
	 "fulfillment_status": null, "total_price": "59.98", "subtotal_price": "54.00",
	 "total_tax": "5.98", "buyer_accepts_marketing": true, "cancelled_at": null,
	 "cancel_reason": null, "source_name": "web", "tags": "vip, wholesale",
	 "billing_address": {"name": "Ada Lovelace", "phone": "+44 20 7946 0018",
	   "city": "London", "zip": "N1 9GU", "province": null, "country": "United Kingdom",
	   "country_code": "GB", "company": null},
	 "customer": {"id": 207119551, "email": "ada@example.com", "first_name": "Ada",
	   "last_name": "Lovelace", "phone": null, "tags": "",
	   "email_marketing_consent": {"state": "subscribed", "opt_in_level": "single_opt_in",
	     "consent_updated_at": "2026-11-20T10:29:00-05:00"}},
	 "line_items": [
	   {"id": 1, "name": "Ethiopia Yirgacheffe - 250g", "title": "Ethiopia Yirgacheffe",
	    "sku": "ETH-250", "quantity": 2, "price": "18.00", "variant_id": 11},
	   {"id": 2, "name": "Pour-over Filter Papers", "title": "Pour-over Filter Papers",
	    "sku": "FLT-100", "quantity": 1, "price": "18.00", "variant_id": 12}],
	 "refunds": []}
	JSON
}

# The same order as Shopify's orders export writes it.
shopify_export() {
	cat >"$T/orders_export.csv" <<-'CSV'
	Name,Email,Financial Status,Paid at,Fulfillment Status,Fulfilled at,Accepts Marketing,Currency,Subtotal,Shipping,Taxes,Total,Discount Code,Discount Amount,Shipping Method,Created at,Lineitem quantity,Lineitem name,Lineitem price,Lineitem compare at price,Lineitem sku,Lineitem requires shipping,Lineitem taxable,Lineitem fulfillment status,Billing Name,Billing Street,Billing Address1,Billing Address2,Billing Company,Billing City,Billing Zip,Billing Province,Billing Country,Billing Phone,Tags,Refunded Amount,Cancelled at,Source
	#1001,ada@example.com,paid,2026-11-20 10:30:05 -0500,,,yes,USD,54.00,0.00,5.98,59.98,,0.00,,2026-11-20 10:30:00 -0500,2,Ethiopia Yirgacheffe - 250g,18.00,,ETH-250,true,true,pending,Ada Lovelace,,,,,London,N1 9GU,,GB,+44 20 7946 0018,"vip, wholesale",0.00,,web
	#1001,ada@example.com,,,,,,,,,,,,,,2026-11-20 10:30:00 -0500,1,Pour-over Filter Papers,18.00,,FLT-100,true,true,pending,,,,,,,,,,,,,,
	CSV
}

ORDER_COLS="source, order_key, customer_id IS NULL, placed_at, total_cents, coalesce(currency, '-'), amount_cents, gross_cents, refunded_cents, status, revenue"

t_a_shopify_order_lands_as_its_export_row_would() {
	shopify_order
	shopify_export
	serve
	shopify "$T/order.json" orders/create delivery-1
	expect_eq "$CODE" 200 "orders/create"
	expect_eq "$(cat "$T/resp")" '{"ok":true,"duplicate":false}'
	# The very rows the export gives, through the same import.
	"$PATRON" --db "$T/export.db" import orders "$T/orders_export.csv" >/dev/null
	expect_eq "$(q "SELECT $ORDER_COLS FROM orders")" \
		"$(sqlite3 "$T/export.db" "SELECT $ORDER_COLS FROM orders")" "order"
	expect_eq "$(q "SELECT quantity, unit_cents, amount_cents, sku FROM order_lines JOIN products p ON p.id = product_id ORDER BY line_no")" \
		"$(sqlite3 "$T/export.db" "SELECT quantity, unit_cents, amount_cents, sku FROM order_lines JOIN products p ON p.id = product_id ORDER BY line_no")" "lines"
	expect_eq "$(q "SELECT value FROM identities WHERE kind = 'email'")" "ada@example.com"
	expect_eq "$(q "SELECT granted FROM consent WHERE channel = 'email'")" 1
	expect_eq "$(q "SELECT count(*) FROM events WHERE topic = 'order.created'")" 1
	# Shopify delivers again (same delivery id): nothing changes.
	shopify "$T/order.json" orders/create delivery-1
	expect_eq "$CODE" 200 "redelivery"
	expect_eq "$(cat "$T/resp")" '{"ok":true,"duplicate":true}'
	expect_eq "$(q "SELECT count(*) FROM events WHERE topic LIKE 'order.%'")" 1
	# orders/updated after a partial refund: the refund is counted once.
	/usr/bin/python3 - "$T/order.json" >"$T/updated.json" <<-'PY'
	import json, sys
	o = json.load(open(sys.argv[1]))
	o["financial_status"] = "partially_refunded"
	o["refunds"] = [{"id": 909, "order_id": o["id"], "transactions": [
	    {"kind": "refund", "status": "success", "amount": "18.00"},
	    {"kind": "refund", "status": "failure", "amount": "99.00"}]}]
	print(json.dumps(o))
	PY
	shopify "$T/updated.json" orders/updated delivery-2
	expect_eq "$CODE" 200 "orders/updated"
	expect_eq "$(q "SELECT gross_cents, refunded_cents, amount_cents, status FROM orders")" "5998|1800|4198|partially_refunded"
	# refunds/create for the same refund: already counted.
	cat >"$T/refund.json" <<-'JSON'
	{"id": 909, "order_id": 5940139491234, "created_at": "2026-11-21T09:00:00-05:00",
	 "transactions": [{"kind": "refund", "status": "success", "amount": "18.00"}]}
	JSON
	shopify "$T/refund.json" refunds/create delivery-3
	expect_eq "$(q "SELECT refunded_cents FROM orders")" 1800
	# A second refund: added to the first, the order restated through the import.
	sed 's/"id": 909/"id": 910/; s/18.00/10.00/' "$T/refund.json" >"$T/refund2.json"
	shopify "$T/refund2.json" refunds/create delivery-4
	expect_eq "$CODE" 200 "refunds/create"
	expect_eq "$(q "SELECT refunded_cents, amount_cents, status FROM orders")" "2800|3198|partially_refunded"
	expect_eq "$(q "SELECT count(*) FROM events WHERE topic = 'order.refunded'")" 2
	# A refund of an order never received: refused, so Shopify sends it again later.
	sed 's/5940139491234/777/; s/"id": 909/"id": 911/' "$T/refund.json" >"$T/orphan.json"
	shopify "$T/orphan.json" refunds/create delivery-5
	expect_eq "$CODE" 422 "orphan refund"
	expect_in "$T/resp" "order_id: no order 777 received yet"
	# customers/create: the Shopify id joins the customer known by email.
	cat >"$T/customer.json" <<-'JSON'
	{"id": 207119551, "email": "ada@example.com", "first_name": "Ada", "last_name": "Lovelace",
	 "orders_count": 1, "total_spent": "59.98", "tags": "vip", "phone": "+442079460018",
	 "email_marketing_consent": {"state": "subscribed"},
	 "default_address": {"city": "London", "zip": "N1 9GU", "country_code": "GB"}}
	JSON
	shopify "$T/customer.json" customers/create delivery-6
	expect_eq "$CODE" 200 "customers/create"
	expect_eq "$(q "SELECT count(*) FROM customers")" 1
	expect_eq "$(q "SELECT customer_id FROM identities WHERE kind = 'shopify'")" 1
	# A topic Patron does not use is taken and left alone.
	shopify "$T/customer.json" products/create delivery-7
	expect_eq "$CODE" 200 "other topic"
	expect_eq "$(cat "$T/resp")" '{"ok":true,"ignored":true}'

	grep -q '"path":"/hooks/shopify","status":200' "$T/access.log" || fail "no access log line"
}

t_a_webhook_with_a_wrong_or_missing_signature_stores_nothing() {
	shopify_order
	serve
	post /hooks/shopify "$T/order.json" -H "X-Shopify-Topic: orders/create"
	expect_eq "$CODE" 401 "no signature"
	post /hooks/shopify "$T/order.json" -H "X-Shopify-Topic: orders/create" \
		-H "X-Shopify-Hmac-Sha256: $(printf 'x%.0s' $(seq 32) | base64)"
	expect_eq "$CODE" 401 "wrong signature"
	# signed, then changed in transit
	cp "$T/order.json" "$T/signed.json"
	sig=$(/usr/bin/python3 -c 'import base64, hashlib, hmac, sys
print(base64.b64encode(hmac.new(sys.argv[1].encode(), open(sys.argv[2], "rb").read(), hashlib.sha256).digest()).decode())' \
		"$SHOPIFY_SECRET" "$T/signed.json")
	sed -i 's/59.98/0.01/' "$T/signed.json"
	post /hooks/shopify "$T/signed.json" -H "X-Shopify-Topic: orders/create" -H "X-Shopify-Hmac-Sha256: $sig"
	expect_eq "$CODE" 401 "tampered body"
	expect_eq "$(q "SELECT count(*) FROM orders") $(q "SELECT count(*) FROM events")" "0 0"
	# Signed, but not an order: 422 naming the field, nothing stored.
	echo '{"name": "#1", "created_at": "2026-11-01T00:00:00Z", "line_items": [{"quantity": "two", "name": "x", "price": "1.00"}]}' >"$T/bad.json"
	shopify "$T/bad.json" orders/create bad-1
	expect_eq "$CODE" 422 "bad order"
	expect_in "$T/resp" 'column \"Lineitem quantity\"'
	echo '{"name": "#1", "created_at": "2026-11-01T00:00:00Z"}' >"$T/bad.json"
	shopify "$T/bad.json" orders/create bad-2
	expect_eq "$CODE" 422 "no lines"
	expect_in "$T/resp" "line_items: expected a list of at least one line"
	printf '{"name": "#1",' >"$T/broken.json"
	shopify "$T/broken.json" orders/create bad-3
	expect_eq "$CODE" 400 "malformed JSON"
	expect_in "$T/resp" "the body: line 1, column"
	expect_eq "$(q "SELECT count(*) FROM orders") $(q "SELECT count(*) FROM webhook_seen")" "0 0"
}

stripe_charge() {
	cat >"$T/charge.json" <<-'JSON'
	{"id": "evt_3PQx1", "object": "event", "api_version": "2024-06-20", "created": 1795000000,
	 "type": "charge.succeeded", "livemode": false, "pending_webhooks": 1,
	 "data": {"object": {"id": "ch_3PQx1", "object": "charge", "amount": 4200,
	   "amount_captured": 4200, "amount_refunded": 0, "currency": "eur",
	   "customer": "cus_Q1", "created": 1795000000, "paid": true, "refunded": false,
	   "status": "succeeded", "receipt_email": "bo@example.com",
	   "billing_details": {"email": "Bo@Example.com", "name": "Bo Jensen", "phone": null,
	     "address": {"city": "Aarhus", "country": "DK", "postal_code": "8000"}}}}}
	JSON
}

t_stripe_events_land_once_and_replays_are_refused() {
	stripe_charge
	cat >"$T/patron.conf" <<-'CONF'
	currency = "EUR"
	CONF
	serve
	stripe "$T/charge.json"
	expect_eq "$CODE" 200 "charge.succeeded"
	expect_eq "$(q "SELECT source, order_key, gross_cents, total_cents, status, revenue FROM orders")" "stripe|ch_3PQx1|4200|4200|paid|1"
	expect_eq "$(q "SELECT kind, value FROM identities ORDER BY kind")" "$(printf 'email|bo@example.com\nstripe|cus_Q1')"
	# The same event again, freshly signed (Stripe retries): taken, not stored twice.
	stripe "$T/charge.json"
	expect_eq "$(cat "$T/resp")" '{"ok":true,"duplicate":true}'
	expect_eq "$(q "SELECT count(*) FROM events WHERE topic LIKE 'order.%'")" 1
	# A captured request replayed ten minutes later: refused.
	stripe "$T/charge.json" $(( $(date +%s) - 600 ))
	expect_eq "$CODE" 401 "replay"
	expect_in "$T/resp" "refused as a replay"
	# Signed with another secret, or not at all: refused.
	stripe "$T/charge.json" "" whsec_other
	expect_eq "$CODE" 401 "other secret"
	post /hooks/stripe "$T/charge.json"
	expect_eq "$CODE" 401 "unsigned"
	expect_in "$T/resp" "no Stripe-Signature header"
	# charge.refunded: the charge as it is now.
	/usr/bin/python3 - "$T/charge.json" >"$T/refunded.json" <<-'PY'
	import json, sys
	e = json.load(open(sys.argv[1]))
	e["id"], e["type"] = "evt_3PQx2", "charge.refunded"
	e["data"]["object"]["amount_refunded"] = 1200
	print(json.dumps(e))
	PY
	stripe "$T/refunded.json"
	expect_eq "$CODE" 200 "charge.refunded"
	expect_eq "$(q "SELECT gross_cents, refunded_cents, amount_cents FROM orders")" "4200|1200|3000"
	# Zero-decimal currencies: 1000 JPY is 1000 yen, not 10.
	/usr/bin/python3 - "$T/charge.json" >"$T/yen.json" <<-'PY'
	import json, sys
	e = json.load(open(sys.argv[1]))
	e["id"] = "evt_jpy"
	o = e["data"]["object"]
	o["id"], o["currency"], o["amount"] = "ch_jpy", "jpy", 1000
	print(json.dumps(e))
	PY
	q "INSERT INTO rates VALUES ('JPY', 0, 0.0062)"
	stripe "$T/yen.json"
	expect_eq "$CODE" 200 "yen"
	expect_eq "$(q "SELECT gross_cents, currency FROM orders WHERE order_key = 'ch_jpy'")" "100000|JPY"
	# customer.created: a Stripe customer, known by the Stripe id.
	cat >"$T/cust.json" <<-'JSON'
	{"id": "evt_c1", "type": "customer.created", "created": 1795000100,
	 "data": {"object": {"id": "cus_Q2", "object": "customer", "email": "cy@example.com",
	   "name": "Cy Twombly", "phone": null, "created": 1795000100, "description": null}}}
	JSON
	stripe "$T/cust.json"
	expect_eq "$CODE" 200 "customer.created"
	expect_eq "$(q "SELECT c.first_name || ' ' || c.last_name FROM customers c JOIN identities i ON i.customer_id = c.id WHERE i.kind = 'stripe' AND i.value = 'cus_Q2'")" "Cy Twombly"
}

t_a_sites_events_need_a_key_and_land_whole() {
	key=$("$PATRON" --db "$DB" keys add site 2>/dev/null)
	old=$("$PATRON" --db "$DB" keys add old 2>/dev/null)
	"$PATRON" --db "$DB" keys revoke old >/dev/null
	expect_eq "$(q "SELECT count(*) FROM api_keys WHERE hash LIKE 'pk_%' OR hash = '$key'")" 0 "keys kept only hashed"
	serve
	echo '{"event": "Viewed Product", "userId": "u-1", "email": "Ada@Example.com", "properties": {"sku": "ETH-250"}, "timestamp": "2026-11-29T08:00:00Z"}' >"$T/one.json"
	post /v1/track "$T/one.json"
	expect_eq "$CODE" 401 "no key"
	post /v1/track "$T/one.json" -H "Authorization: Bearer $old"
	expect_eq "$CODE" 401 "revoked key"
	post /v1/track "$T/one.json" -H "Authorization: Bearer $key"
	expect_eq "$CODE" 200 "track"
	expect_eq "$(cat "$T/resp")" '{"ok":true,"accepted":1}'
	expect_eq "$(q "SELECT topic, customer_id, payload, datetime(occurred_at, 'unixepoch') FROM events WHERE topic LIKE 'track.%'")" \
		'track.viewed_product|1|{"sku":"ETH-250"}|2026-11-29 08:00:00'
	# identify: traits become the customer's names and attributes.
	echo '{"userId": "u-1", "traits": {"firstName": "Ada", "lastName": "Lovelace", "plan": "pro", "seats": 3}}' >"$T/who.json"
	post /v1/identify "$T/who.json" -H "X-Patron-Key: $key"
	expect_eq "$CODE" 200 "identify"
	expect_eq "$(q "SELECT first_name, last_name FROM customers")" "Ada|Lovelace"
	expect_eq "$(q "SELECT name || '=' || value FROM attributes ORDER BY name")" "$(printf 'plan=pro\nseats=3')"
	# A batch lands whole or not at all, and the error names the message and field.
	cat >"$T/batch.json" <<-'JSON'
	{"batch": [{"event": "cart.abandoned", "email": "bo@example.com", "properties": {"value": 12}},
	           {"event": "Signed Up", "userId": "u-3"},
	           {"event": "Searched", "userId": "u-4", "timestamp": "yesterday"}]}
	JSON
	post /v1/track "$T/batch.json" -H "Authorization: Bearer $key"
	expect_eq "$CODE" 400 "bad batch"
	expect_eq "$(cat "$T/resp")" '{"error":"batch[2].timestamp: expected a date like 2026-11-23T10:00:00Z, got \"yesterday\""}'
	expect_eq "$(q "SELECT count(*) FROM customers") $(q "SELECT count(*) FROM events WHERE topic NOT LIKE 'customer.%'")" "1 1"
	sed -i 's/, "timestamp": "yesterday"//' "$T/batch.json"
	post /v1/track "$T/batch.json" -H "Authorization: Bearer $key"
	expect_eq "$(cat "$T/resp")" '{"ok":true,"accepted":3}'
	expect_eq "$(q "SELECT group_concat(topic) FROM (SELECT topic FROM events WHERE topic NOT LIKE 'customer.%' ORDER BY id)")" \
		"track.viewed_product,cart.abandoned,track.signed_up,track.searched"
	# Only the core says an order happened; malformed JSON names where.
	echo '{"event": "order.created", "userId": "u-1"}' >"$T/fake.json"
	post /v1/track "$T/fake.json" -H "Authorization: Bearer $key"
	expect_eq "$CODE" 400 "reserved topic"
	expect_in "$T/resp" "event: \\\"order.created\\\" is the core's own topic"
	printf '{"event": "x", "userId": }' >"$T/broken.json"
	post /v1/track "$T/broken.json" -H "Authorization: Bearer $key"
	expect_eq "$CODE" 400 "malformed"
	expect_in "$T/resp" "the body: line 1, column 26"
	# SQL and HTML are data: stored as sent, escaped on the customer's page.
	echo '{"event": "Note", "userId": "x'"'"'); DROP TABLE events;--", "properties": {"text": "<script>alert(1)</script>"}}' >"$T/evil.json"
	post /v1/track "$T/evil.json" -H "Authorization: Bearer $key"
	expect_eq "$CODE" 200 "evil"
	expect_eq "$(q "SELECT value FROM identities WHERE kind = 'id' AND value LIKE 'x%'")" "x'); DROP TABLE events;--"
	expect_eq "$(q "SELECT payload FROM events WHERE topic = 'track.note'")" '{"text":"<script>alert(1)</script>"}'
}

t_bad_requests_get_clear_answers_and_slow_clients_do_not_block() {
	key=$("$PATRON" --db "$DB" keys add site 2>/dev/null)
	serve --max-body 2048 --timeout 2s
	head -c 5000 /dev/zero | tr '\0' 'a' >"$T/big"
	post /v1/track "$T/big" -H "Authorization: Bearer $key"
	expect_eq "$CODE" 413 "body over the limit"
	CODE=$(curl -s -o "$T/resp" -w '%{http_code}' "$URL/wp-admin")
	expect_eq "$CODE" 404 "unknown path"
	CODE=$(curl -s -o "$T/resp" -w '%{http_code}' "$URL/v1/track")
	expect_eq "$CODE" 405 "GET on a POST route"
	# A client that starts a request and stalls is cut off after the
	# timeout; the others are served meanwhile.
	/usr/bin/python3 - "${URL#http://}" >"$T/slow.out" 2>&1 <<-'PY' &
	import socket, sys, time
	host, port = sys.argv[1].split(":")
	s = socket.create_connection((host, int(port)))
	start = time.time()
	for part in (b"POST /v1/track HTTP/1.1\r\n", b"Host: x\r\n", b"Content-Length: 10\r\n"):
	    s.send(part)
	    time.sleep(0.3)
	s.settimeout(20)
	try:
	    got = s.recv(100)
	    print("cut off after %.0f s" % (time.time() - start) if not got else "answered: %r" % got)
	except OSError as e:
	    print("cut off after %.0f s (%s)" % (time.time() - start, e))
	PY
	slow=$!
	sleep 0.5
	for _ in 1 2 3 4 5; do
		CODE=$(curl -s -m 2 -o /dev/null -w '%{http_code}' "$URL/healthz")
		expect_eq "$CODE" 200 "served while a slow client dribbles"
	done
	wait $slow
	grep -Eq "cut off after [2-5] s" "$T/slow.out" || fail "slow client: $(cat "$T/slow.out")"
}

# A shop whose email channel goes through patron serve (public_url).
tracked_shop() {
	cat >"$T/customers.csv" <<-CSV
	email,first_name,accepts_marketing
	ada@example.com,Ada,yes
	bob@example.com,Bob,yes
	CSV
	"$PATRON" --db "$DB" import customers "$T/customers.csv" >/dev/null
	mkdir -p "$T/rules/templates"
	printf 'Subject: New beans\n\nHello {{customer.first_name}}\n' >"$T/rules/templates/beans.txt"
	printf '<p>Hello {{customer.first_name}}, see <a href="https://shop.example/beans?utm=mail&amp;x=1">the beans</a> and <a href="mailto:hi@shop.example">write</a>.</p>\n' \
		>"$T/rules/templates/beans.html"
	cat >"$T/rules/beans.lua" <<-'LUA'
	rule { name = "vip winback", every = "1d", where = function(c) return true end,
	  act = function(c) send{ channel = "email", to = c, template = "beans" } end }
	LUA
	cat >"$T/patron.conf" <<-CONF
	public_url = "$1"
	channels = { email = { from = "Shop <hi@shop.example>" } }
	CONF
}

t_clicks_opens_and_unsubscribes_come_back_through_the_server() {
	serve
	tracked_shop "$URL"
	"$PATRON" --db "$DB" run "$T/rules" >/dev/null
	eml=$(ls "$T/rules/outbox"/*.eml 2>/dev/null | head -1)
	[ -n "$eml" ] || eml=$(ls "$T/outbox"/*.eml | head -1)
	# The Message-ID says nothing of the rule; unsubscribing is one click.
	grep -q '^Message-ID: <[0-9a-f]\{32\}@shop.example>' "$eml" || fail "Message-ID: $(grep Message-ID "$eml")"
	grep -qi 'vip' <(grep '^Message-ID' "$eml") && fail "the rule shows in the Message-ID"
	expect_in "$eml" "List-Unsubscribe-Post: List-Unsubscribe=One-Click"
	unsub=$(grep '^List-Unsubscribe:' "$eml" | sed 's/^List-Unsubscribe: <\([^>]*\)>.*/\1/')
	case "$unsub" in "$URL"/u/*) ;; *) fail "unsubscribe link: $unsub" ;; esac
	/usr/bin/python3 - "$eml" >"$T/links" <<-'PY'
	import email, email.policy, re, sys
	m = email.message_from_binary_file(open(sys.argv[1], "rb"), policy=email.policy.default)
	html = m.get_body(("html",)).get_content()
	for href in re.findall(r'(?:href|src)="([^"]+)"', html):
	    print(href)
	PY
	click=$(grep '/t/c/' "$T/links" | head -1)
	pixel=$(grep '/t/o/' "$T/links" | head -1)
	[ -n "$click" ] && [ -n "$pixel" ] || fail "no tracked link or pixel: $(cat "$T/links")"
	grep -q '^mailto:hi@shop.example$' "$T/links" || fail "mailto link changed"
	# A click: recorded, then on to the address the email had (entities undone).
	loc=$(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' "$click")
	expect_eq "$loc" "302 https://shop.example/beans?utm=mail&x=1" "click"
	curl -s -o /dev/null "$click"
	# Opens count once per message.
	for _ in 1 2 3; do curl -s -o "$T/gif" "$pixel"; done
	expect_eq "$(head -c 6 "$T/gif")" "GIF89a"
	id=$(q "SELECT id FROM outbox WHERE status = 'sent' ORDER BY id LIMIT 1")
	expect_eq "$(q "SELECT count(*) FROM events WHERE topic = 'message.clicked'")" 2
	expect_eq "$(q "SELECT count(*) FROM events WHERE topic = 'message.opened'")" 1
	expect_eq "$(q "SELECT payload ->> 'rule', payload ->> 'url' FROM events WHERE topic = 'message.clicked' LIMIT 1")" \
		"vip winback|https://shop.example/beans?utm=mail&x=1"
	expect_eq "$(q "SELECT payload ->> 'outbox_id' FROM events WHERE topic = 'message.opened'")" "$id"
	# The report counts them per rule: one message opened, one clicked (twice).
	"$PATRON" --db "$DB" report --out "$T/r.html" >/dev/null
	/usr/bin/python3 - "$T/r.html" <<-'PY' || fail "campaign row: $(grep -o '<table id="campaign-table">.*</table>' "$T/r.html")"
	import sys, xml.etree.ElementTree as ET
	table = next(t for t in ET.parse(sys.argv[1]).getroot().iter("table") if t.get("id") == "campaign-table")
	rows = [["".join(td.itertext()) for td in tr] for tr in table.iter("tr")][1:]
	assert [r[:5] for r in rows] == [["vip winback", "2", "2", "1", "1"]], rows
	PY
	# A tampered token: no redirect anywhere.
	bad=$(echo "$click" | sed 's#/t/c/\([0-9]*\)\.#/t/c/\1.aHR0cHM6Ly9ldmlsLmV4YW1wbGU#')
	out=$(curl -s -o "$T/page" -w '%{http_code} %{redirect_url}' "$bad")
	expect_eq "$out" "404 " "tampered click"
	last=${click: -1}
	[ "$last" = A ] && swap=B || swap=A
	out=$(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' "${click%?}$swap")
	expect_eq "$out" "404 " "tampered signature"
	expect_eq "$(q "SELECT count(*) FROM events WHERE topic = 'message.clicked'")" 2
	# The unsubscribe page, then the one-click POST (RFC 8058).
	CODE=$(curl -s -o "$T/page" -w '%{http_code}' "$unsub")
	expect_eq "$CODE" 200 "unsubscribe page"
	expect_in "$T/page" "Unsubscribe from email"
	cid=$(q "SELECT customer_id FROM outbox WHERE id = $id")
	CODE=$(curl -s -o "$T/page" -w '%{http_code}' -X POST -d 'List-Unsubscribe=One-Click' "$unsub")
	expect_eq "$CODE" 200 "one-click unsubscribe"
	expect_in "$T/page" "You are unsubscribed"
	expect_eq "$(q "SELECT granted, source FROM consent WHERE customer_id = $cid AND channel = 'email'")" "0|unsubscribe"
	# Every later message skips them.
	"$PATRON" --db "$DB" --now 2099-01-01 run "$T/rules" >/dev/null
	expect_eq "$(q "SELECT count(*) FROM outbox WHERE customer_id = $cid AND status = 'sent'")" 1
	expect_eq "$(q "SELECT count(*) FROM outbox WHERE customer_id != $cid AND status = 'sent'")" 2
	# A forged unsubscribe link changes nothing.
	other=$(q "SELECT customer_id FROM outbox WHERE customer_id != $cid LIMIT 1")
	forged=$(echo "$unsub" | sed "s#/u/$cid\\.#/u/$other.#")
	CODE=$(curl -s -o /dev/null -w '%{http_code}' -X POST -d 'List-Unsubscribe=One-Click' "$forged")
	expect_eq "$CODE" 404 "forged unsubscribe"
	expect_eq "$(q "SELECT granted FROM consent WHERE customer_id = $other AND channel = 'email'")" 1
	# The page lets a person choose: keep texts, stop emails.
	q "INSERT INTO consent VALUES ($other, 'sms', 1, 'test', 0)"
	addr=$(q "SELECT address FROM outbox WHERE customer_id = $other LIMIT 1")
	theirs=$(grep -l "^To: .*$addr" "$(dirname "$eml")"/*.eml | head -1)
	link=$(grep '^List-Unsubscribe:' "$theirs" | sed 's/^List-Unsubscribe: <\([^>]*\)>.*/\1/')
	curl -s -o "$T/page" "$link"
	expect_in "$T/page" 'name="keep" value="sms" checked'
	expect_in "$T/page" 'name="keep" value="email" checked'
	CODE=$(curl -s -o "$T/page" -w '%{http_code}' -X POST -d 'save=1&keep=sms' "$link")
	expect_eq "$CODE" 200 "choices saved"
	expect_eq "$(q "SELECT group_concat(channel || '=' || granted) FROM (SELECT * FROM consent WHERE customer_id = $other ORDER BY channel)")" "email=0,sms=1"
}

# login PASSWORD: logs in with curl's cookie jar $T/jar; the status in $CODE.
login() {
	CODE=$(curl -s -o "$T/page" -w '%{http_code}' -c "$T/jar" -b "$T/jar" \
		--data-urlencode "password=$1" --data-urlencode "next=/customers/1" "$URL/login")
}

t_the_owner_logs_in_to_see_the_report_and_a_customer() {
	shopify_order
	"$PATRON" --db "$DB" import orders "$DATA/shopify_orders.csv" >/dev/null
	# HTML in what the store holds is shown as text.
	q "UPDATE customers SET first_name = '<img src=x onerror=alert(1)>' WHERE id = 1"
	q "INSERT INTO events(topic, customer_id, payload, occurred_at, recorded_at) VALUES ('track.note', 1, '{\"text\":\"<script>alert(2)</script>\"}', 1795000000, 1795000000)"
	printf 'short\n' | "$PATRON" --db "$DB" passwd 2>"$T/err" && fail "a short password was taken"
	echo 'correct horse battery' | "$PATRON" --db "$DB" passwd 2>/dev/null
	expect_eq "$(q "SELECT substr(value, 1, 10) FROM settings WHERE name = 'owner_password'")" '$argon2id$'
	serve
	CODE=$(curl -s -o "$T/page" -w '%{http_code}' "$URL/")
	expect_eq "$CODE" 401 "the report before logging in"
	expect_in "$T/page" 'name="password"'
	CODE=$(curl -s -o "$T/page" -w '%{http_code}' "$URL/customers/1")
	expect_eq "$CODE" 401 "a customer before logging in"
	login 'wrong password'
	expect_eq "$CODE" 401 "wrong password"
	expect_in "$T/page" "That password is not right."
	login 'correct horse battery'
	expect_eq "$CODE" 303 "login"
	grep -q 'patron_session' "$T/jar" || fail "no session cookie"
	curl -s -D "$T/headers" -o /dev/null --data-urlencode "password=correct horse battery" "$URL/login"
	grep -i '^Set-Cookie:' "$T/headers" | grep -q 'HttpOnly; SameSite=Strict' || fail "cookie flags: $(grep -i set-cookie "$T/headers")"
	CODE=$(curl -s -o "$T/page" -w '%{http_code}' -b "$T/jar" "$URL/customers/1")
	expect_eq "$CODE" 200 "a customer"
	expect_in "$T/page" '<table id="orders">'
	grep -q '<img src=x' "$T/page" && fail "HTML from the store was not escaped"
	grep -q '<script>' "$T/page" && fail "a script from the store was not escaped"
	expect_in "$T/page" '&lt;img src=x onerror=alert(1)&gt;'
	expect_in "$T/page" '&lt;script&gt;alert(2)&lt;/script&gt;'
	grep -qi "^Content-Security-Policy: default-src 'none'" <(curl -s -D - -o /dev/null -b "$T/jar" "$URL/customers/1") ||
		fail "no Content-Security-Policy on the customer's page"
	CODE=$(curl -s -o "$T/page" -w '%{http_code}' -b "$T/jar" "$URL/")
	expect_eq "$CODE" 200 "the report"
	expect_in "$T/page" 'data-value='
	expect_in "$T/page" 'action="/logout"'
	# Forms need the session's token.
	CODE=$(curl -s -o /dev/null -w '%{http_code}' -b "$T/jar" -d 'csrf=forged' "$URL/logout")
	expect_eq "$CODE" 403 "logout without the form's token"
	csrf=$(sed -n 's/.*name="csrf" value="\([^"]*\)".*/\1/p' "$T/page" | head -1)
	CODE=$(curl -s -o /dev/null -w '%{http_code}' -b "$T/jar" -c "$T/jar" -d "csrf=$csrf" "$URL/logout")
	expect_eq "$CODE" 303 "logout"
	CODE=$(curl -s -o /dev/null -w '%{http_code}' -b "$T/jar" "$URL/")
	expect_eq "$CODE" 401 "after logging out"
	# Only paths of this server after logging in: never an open redirect.
	CODE=$(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' --data-urlencode "password=correct horse battery" --data-urlencode "next=//evil.example/" "$URL/login")
	expect_eq "$CODE" "303 $URL/" "next elsewhere"
}

t_sigterm_finishes_the_requests_under_way_and_kill_9_loses_no_accepted_event() {
	key=$("$PATRON" --db "$DB" keys add load 2>/dev/null)
	serve
	# Eight clients post numbered events; each remembers those answered 2xx.
	/usr/bin/python3 - "${URL#http://}" "$key" "$T/acked" >"$T/load.out" 2>&1 <<-'PY' &
	import http.client, json, sys, threading
	host, port = sys.argv[1].split(":")
	key, out = sys.argv[2], sys.argv[3]
	lock = threading.Lock()
	acked = []
	def client(k):
	    n = 0
	    while True:
	        try:
	            c = http.client.HTTPConnection(host, int(port), timeout=5)
	            while True:
	                n += 1
	                body = json.dumps({"event": "Load", "userId": "u%d" % (n % 5),
	                                   "properties": {"n": "%d-%d" % (k, n)}})
	                c.request("POST", "/v1/track", body, {"Authorization": "Bearer " + key})
	                r = c.getresponse()
	                r.read()
	                if r.status == 200:
	                    with lock:
	                        acked.append("%d-%d" % (k, n))
	                        open(out, "a").write("%d-%d\n" % (k, n))
	        except Exception:
	            return
	ts = [threading.Thread(target=client, args=(k,)) for k in range(8)]
	[t.start() for t in ts]
	[t.join() for t in ts]
	print(len(acked))
	PY
	load=$!
	sleep 1.5
	kill -9 "$(cat "$T/.server-patron.pid")"
	wait $load || true
	rm -f "$T/.server-patron.pid"
	n=$(wc -l <"$T/acked")
	[ "$n" -gt 50 ] || fail "only $n events acknowledged before the kill"
	q "SELECT payload ->> 'n' FROM events WHERE topic = 'track.load'" | sort >"$T/stored"
	sort "$T/acked" >"$T/acked.sorted"
	lost=$(comm -23 "$T/acked.sorted" "$T/stored" | wc -l)
	expect_eq "$lost" 0 "events answered 200 but not in the store (of $n)"
	# SIGTERM: the server stops taking connections and says so.
	serve
	post /v1/track <(echo '{"event": "Last", "userId": "u1"}') -H "Authorization: Bearer $key"
	expect_eq "$CODE" 200 "after the restart"
	serve_stop
	expect_in "$T/serve.err" "stopped on SIGTERM"
	expect_eq "$(q "SELECT count(*) FROM events WHERE topic = 'track.last'")" 1
}

# wd METHOD PATH [JSON]: one WebDriver command to chromedriver; the answer's
# value on stdout.
wd() {
	curl -s -X "$1" -H 'Content-Type: application/json' ${3:+-d "$3"} \
		"http://127.0.0.1:$WD_PORT$2" | jq -c .value
}

# wd_find CSS: the element's id in the session's page.
wd_find() {
	wd POST "/session/$WD/element" "{\"using\": \"css selector\", \"value\": \"$1\"}" |
		jq -r 'if type == "object" and has("element-6066-11e4-a52e-4f735466cecf") then .["element-6066-11e4-a52e-4f735466cecf"] else empty end'
}

t_a_browser_logs_in_and_reads_the_report_and_a_customer() {
	command -v chromedriver >/dev/null ||
		fail "chromedriver is not installed (scripts/install-deps.sh chromium-driver installs it)"
	"$PATRON" --db "$DB" import orders "$DATA/shopify_orders.csv" >/dev/null
	echo 'correct horse battery' | "$PATRON" --db "$DB" passwd 2>/dev/null
	serve
	WD_PORT=$(free_port)
	chromedriver --port="$WD_PORT" >"$T/chromedriver.log" 2>&1 &
	echo $! >"$T/.server-chromedriver.pid"
	for _ in $(seq 100); do
		curl -s "http://127.0.0.1:$WD_PORT/status" | grep -q '"ready":true' && break
		sleep 0.1
	done
	WD=$(wd POST /session "{\"capabilities\": {\"alwaysMatch\": {\"browserName\": \"chrome\",
		\"goog:chromeOptions\": {\"binary\": \"$(command -v chromium)\", \"args\": [\"--headless=new\",
		\"--no-sandbox\", \"--disable-gpu\", \"--disable-dev-shm-usage\",
		\"--user-data-dir=$T/chromium\"]}}}}" | jq -r .sessionId)
	[ -n "$WD" ] && [ "$WD" != null ] || fail "no browser session: $(tail -5 "$T/chromedriver.log")"
	# The browser goes with the session, whether the test passes or fails.
	trap 'wd DELETE "/session/$WD" >/dev/null 2>&1 || true' EXIT
	# The report asks for the password first.
	wd POST "/session/$WD/url" "{\"url\": \"$URL/\"}" >/dev/null
	field=$(wd_find '#password')
	[ -n "$field" ] || fail "no password field: $(wd GET "/session/$WD/source" | head -c 400)"
	wd POST "/session/$WD/element/$field/value" '{"text": "correct horse battery"}' >/dev/null
	wd POST "/session/$WD/element/$(wd_find '#login')/click" '{}' >/dev/null
	# What the owner sees: the report's headline figures and the way out.
	expect_eq "$(wd GET "/session/$WD/url" | jq -r .)" "$URL/" "after logging in"
	text=$(wd GET "/session/$WD/element/$(wd_find body)/text" | jq -r .)
	echo "$text" | grep -q "Revenue" || fail "no revenue on the report: $(echo "$text" | head -c 400)"
	[ -n "$(wd_find '#logout')" ] || fail "no log out button"
	# A customer's page: the name and the orders a person would read.
	cid=$(q "SELECT customer_id FROM orders WHERE customer_id IS NOT NULL GROUP BY customer_id ORDER BY count(*) DESC LIMIT 1")
	wd POST "/session/$WD/url" "{\"url\": \"$URL/customers/$cid\"}" >/dev/null
	name=$(wd GET "/session/$WD/element/$(wd_find '#name')/text" | jq -r .)
	expect_eq "$name" "$(q "SELECT trim(coalesce(first_name, '') || ' ' || coalesce(last_name, '')) FROM customers WHERE id = $cid")" "the customer's name"
	orders=$(wd GET "/session/$WD/element/$(wd_find '#orders')/text" | jq -r .)
	first=$(q "SELECT order_key FROM orders WHERE customer_id = $cid ORDER BY placed_at DESC LIMIT 1")
	echo "$orders" | grep -qF "$first" || fail "the latest order $first is not on the page: $orders"
	# Logging out ends it: the report asks for the password again.
	wd POST "/session/$WD/url" "{\"url\": \"$URL/\"}" >/dev/null
	wd POST "/session/$WD/element/$(wd_find '#logout')/click" '{}' >/dev/null
	wd POST "/session/$WD/url" "{\"url\": \"$URL/\"}" >/dev/null
	[ -n "$(wd_find '#password')" ] || fail "still logged in after logging out"
}

t_every_channel_carries_the_servers_unsubscribe_link() {
	cat >"$T/customers.csv" <<-CSV
	email,first_name,accepts_marketing
	ada@example.com,Ada,yes
	bo@example.com,Bo,yes
	CSV
	"$PATRON" --db "$DB" import customers "$T/customers.csv" >/dev/null
	q "INSERT INTO consent SELECT customer_id, 'news', 1, 'test', 0 FROM consent"
	mkdir -p "$T/rules/templates"
	printf 'Subject: Hi\n\nHello {{customer.first_name}}\n' >"$T/rules/templates/hi.txt"
	cat >"$T/rules/two.lua" <<-'LUA'
	rule { name = "both", every = "1d", where = function(c) return true end,
	  act = function(c)
	    send{ channel = "email", to = c, template = "hi" }
	    send{ channel = "news", to = c, template = "hi" }
	  end }
	LUA
	cat >"$T/patron.conf" <<-CONF
	public_url = "https://shop.example/p/"
	channels = { email = { from = "Shop <hi@shop.example>" },
	             news = { from = "News <news@shop.example>", kind = "email" } }
	CONF
	run "$PATRON" --db "$DB" run "$T/rules"
	expect_rc 0
	# sent in turn (email, news, email, news): each channel's settings
	# outlive the others being set up
	expect_eq "$(q "SELECT group_concat(channel || '=' || status) FROM (SELECT * FROM outbox ORDER BY id)")" "email=sent,news=sent,email=sent,news=sent"
	for f in "$T"/outbox/*.eml; do
		grep -q '^List-Unsubscribe: <https://shop.example/p/u/[12]\.' "$f" ||
			fail "no serve unsubscribe link in $(basename "$f"): $(grep -i '^List-Unsub' "$f")"
		expect_in "$f" "List-Unsubscribe-Post: List-Unsubscribe=One-Click"
	done
}

t_webhook_secrets_never_sit_in_patron_conf() {
	echo 'serve = { shopify_secret = "shpss_in_the_open" }' >"$T/patron.conf"
	run "$PATRON" --db "$DB" serve --listen 127.0.0.1:0
	expect_rc 1
	expect_in "$T/err" "patron.conf: serve: option shopify_secret: a shopify_secret does not belong in patron.conf; give shopify_secret_env"
	grep -q shpss_in_the_open "$T/err" && fail "the secret is in the error"
	# From a file only its owner reads, as plugins' secrets are.
	printf '%s\n' "$SHOPIFY_SECRET" >"$T/shopify.secret"
	chmod 600 "$T/shopify.secret"
	echo "serve = { shopify_secret_file = \"$T/shopify.secret\" }" >"$T/patron.conf"
	SHOPIFY_SECRET_IN_ENV=$SHOPIFY_SECRET
	SHOPIFY_SECRET=wrong-one serve	# the variable serve() sets is not what is used
	SHOPIFY_SECRET=$SHOPIFY_SECRET_IN_ENV
	shopify_order
	shopify "$T/order.json" orders/create d-1
	expect_eq "$CODE" 200 "signed with the file's secret"
}
