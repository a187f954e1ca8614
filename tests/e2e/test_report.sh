# The owner's report, the morning's list, the headline figures and the
# forecast: numbers checked against SQL written here, HTML parsed, the page
# rendered in a real browser.

NOW=2026-11-23

# demo_store: the demo shop of 400 customers as of $NOW, scored.
demo_store() {
	"$PATRON" --db "$DB" --now "$NOW" demo --customers 400 >/dev/null 2>&1 ||
		fail "the demo failed"
}

# kpi ID FILE: the data-value of the headline figure ID in the report FILE,
# read by an XML parser (so the page must be well-formed).
kpi() {
	/usr/bin/python3 - "$2" "$1" <<'EOF'
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
for e in root.iter():
    if e.get("id") == "kpi-" + sys.argv[2]:
        print(e.get("data-value"))
        break
else:
    sys.exit("no kpi-" + sys.argv[2])
EOF
}

# sql_at DAY: Unix seconds of DAY's midnight (UTC).
sql_at() {
	q "SELECT strftime('%s', '$1')"
}

t_report_figures_match_sql_over_the_week_and_the_month() {
	demo_store
	run "$PATRON" --db "$DB" --now "$NOW" report --out "$T/week.html"
	expect_rc 0
	expect_in "$T/out" "report: $T/week.html"
	# The week: the 7 x 24 hours up to and including $NOW (00:00 UTC), so
	# what is dated $NOW counts and what is dated 2026-11-16 does not.
	local a b
	b=$(sql_at "$NOW")
	a=$((b - 7 * 86400))
	local in="placed_at > $a AND placed_at <= $b"
	expect_eq "$(kpi revenue "$T/week.html")" \
		"$(q "SELECT printf('%.15g', coalesce(sum(total_cents), 0) / 100.0) FROM orders WHERE revenue AND $in")" revenue
	expect_eq "$(kpi orders "$T/week.html")" \
		"$(q "SELECT count(*) FROM orders WHERE revenue AND $in")" orders
	expect_eq "$(kpi new "$T/week.html")" \
		"$(q "SELECT count(*) FROM (SELECT min(placed_at) placed_at FROM orders WHERE revenue AND customer_id IS NOT NULL AND placed_at <= $b GROUP BY customer_id) WHERE $in")" "new customers"
	expect_eq "$(kpi active "$T/week.html")" \
		"$(q "SELECT count(DISTINCT customer_id) FROM orders WHERE revenue AND customer_id IS NOT NULL AND placed_at > $b - 365*86400 AND placed_at <= $b")" "active customers"
	# at risk: over the alert threshold chosen when the model was trained
	local t="(SELECT json_extract(params, '\$.alert.threshold') FROM models WHERE name = 'churn.logreg')"
	expect_eq "$(kpi at-risk "$T/week.html")" \
		"$(q "SELECT count(*) FROM scores WHERE name = 'churn' AND value >= $t")" "at risk"
	expect_eq "$(kpi clv "$T/week.html")" \
		"$(q "SELECT printf('%.15g', sum(value)) FROM scores WHERE name = 'clv'")" "predicted CLV"
	# The month (30 days), and the same figures in patron stats --json.
	run "$PATRON" --db "$DB" --now "$NOW" report --period month --out "$T/month.html"
	expect_rc 0
	a=$((b - 30 * 86400))
	in="placed_at > $a AND placed_at <= $b"
	expect_eq "$(kpi revenue "$T/month.html")" \
		"$(q "SELECT printf('%.15g', sum(total_cents) / 100.0) FROM orders WHERE revenue AND $in")" "month revenue"
	run "$PATRON" --db "$DB" --now "$NOW" --json stats --period month
	expect_rc 0
	expect_eq "$(jq -r '.kpis.current.revenue_cents' "$T/out")" \
		"$(q "SELECT sum(total_cents) FROM orders WHERE revenue AND $in")" "stats revenue"
	expect_eq "$(jq -r '.kpis.current.after + " " + .kpis.current.until' "$T/out")" "2026-10-24 2026-11-23"
	# Retention: the customers active when the month began who still are.
	expect_eq "$(jq -r '.kpis.current.retained' "$T/out")" \
		"$(q "SELECT count(*) FROM (SELECT customer_id FROM orders WHERE revenue AND customer_id IS NOT NULL AND placed_at > $a - 365*86400 AND placed_at <= $a INTERSECT SELECT customer_id FROM orders WHERE revenue AND placed_at > $b - 365*86400 AND placed_at <= $b)")" retained
	run "$PATRON" --db "$DB" --now "$NOW" stats
	expect_in "$T/out" "the 7 days up to 2026-11-23, against the 7 days before"
	expect_in "$T/out" "repeat-purchase rate"
}

t_report_holds_every_section_and_nothing_undrawable() {
	demo_store
	run "$PATRON" --db "$DB" --now "$NOW" report
	expect_rc 0
	# beside the store unless told
	[ -f "$T/report.html" ] || fail "no report.html beside the store"
	local r="$T/report.html"
	for id in kpis sales cohorts segments churn campaigns feedback; do
		expect_in "$r" "<section id=\"$id\">"
	done
	expect_in "$r" "Revenue per week"
	expect_in "$r" "forecast (80% interval)"
	expect_in "$r" "Customers by recency (R) and frequency (F) score"
	expect_in "$r" "The 20 at-risk customers worth the most"
	expect_in "$r" "No messages sent yet"
	expect_in "$r" "Said most in bad comments (1-2 stars, or a negative text)"
	expect_in "$r" "Sentiment per month (-1 negative, 1 positive)"
	# self-contained: no script, nothing fetched
	if grep -qiE '<script|src="http|href="http|@import|url\(' "$r"; then
		fail "the report loads something or runs a script"
	fi
	if grep -qE 'nan|inf[^o]|NaN|="-[0-9.]+" height|height="-' "$r"; then
		fail "the report draws a NaN, an infinity or a negative size"
	fi
	# The at-risk table lists the most valuable first.
	/usr/bin/python3 - "$r" <<'EOF' || fail "at-risk table out of order"
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
rows = [r for t in root.iter("table") if t.get("id") == "at-risk" for r in t.iter("tr") if r.get("data-customer")]
assert len(rows) == 20, len(rows)
clv = [float("".join(r[3].itertext()).replace(",", "")) for r in rows]
assert clv == sorted(clv, reverse=True), clv
EOF
	first=$(/usr/bin/python3 -c "
import sys, xml.etree.ElementTree as ET
root = ET.parse('$r').getroot()
print(next(r.get('data-customer') for r in root.iter('tr') if r.get('data-customer')))")
	expect_eq "$first" "$(q "SELECT c.customer_id FROM scores c JOIN scores v ON v.customer_id = c.customer_id AND v.name = 'clv' WHERE c.name = 'churn' AND c.value >= 0.7 ORDER BY v.value DESC, c.customer_id LIMIT 1")" "most valuable at risk"
}

t_report_of_an_empty_store_says_why_each_section_is_empty() {
	"$PATRON" --db "$DB" init >/dev/null
	run "$PATRON" --db "$DB" --now "$NOW" report --out "$T/r.html"
	expect_rc 0
	expect_in "$T/r.html" "No paid orders in this time yet"
	expect_in "$T/r.html" "No RFM scores yet"
	expect_in "$T/r.html" "No churn scores yet"
	expect_in "$T/r.html" "No messages sent yet"
	expect_in "$T/r.html" "No feedback in the last twelve months"
	expect_eq "$(kpi revenue "$T/r.html")" 0
	expect_eq "$(kpi aov "$T/r.html")" ""
	if grep -q "<svg" "$T/r.html"; then fail "an empty store drew a chart"; fi
}

t_report_escapes_what_customers_and_owners_wrote() {
	cat >"$T/customers.csv" <<'EOF'
email,first_name,last_name
eve@example.com,<script>alert(1)</script>,"O'Neil & <b>Sons</b>"
EOF
	cat >"$T/orders.csv" <<'EOF'
order_id,email,placed_at,total
A1,eve@example.com,2026-11-20,10.00
EOF
	cat >"$T/feedback.csv" <<'EOF'
email,received_at,rating,body
eve@example.com,2026-11-21,1,"<img src=x onerror=alert(1)> broken & late"
eve@example.com,2026-11-22,1,"<img src=x onerror=alert(1)> broken & late again"
EOF
	"$PATRON" --db "$DB" import customers "$T/customers.csv" >/dev/null
	"$PATRON" --db "$DB" import orders "$T/orders.csv" >/dev/null
	"$PATRON" --db "$DB" import feedback "$T/feedback.csv" >/dev/null
	echo 'shop = "<b>Bad & Co</b>"' >"$T/patron.conf"
	run "$PATRON" --db "$DB" --now "$NOW" report --out "$T/r.html"
	expect_rc 0
	expect_in "$T/r.html" "&lt;img src=x onerror=alert(1)&gt; broken &amp; late"
	expect_in "$T/r.html" "<h1>&lt;b&gt;Bad &amp; Co&lt;/b&gt;</h1>"
	if grep -qE '<img|<script|<b>' "$T/r.html"; then fail "unescaped HTML in the report"; fi
	/usr/bin/python3 -c "import xml.etree.ElementTree as ET; ET.parse('$T/r.html')" ||
		fail "not well-formed"
}

t_report_renders_in_a_browser_with_its_figures() {
	command -v chromium >/dev/null ||
		fail "chromium is not installed (scripts/install-deps.sh chromium installs it)"
	demo_store
	"$PATRON" --db "$DB" --now "$NOW" report --out "$T/r.html" >/dev/null
	local flags="--headless --no-sandbox --disable-gpu --disable-quic --no-first-run
		--disable-background-networking --disable-component-update --disable-sync
		--user-data-dir=$T/chromium --hide-scrollbars"
	# shellcheck disable=SC2086
	timeout 120 chromium $flags --window-size=820,1400 --screenshot="$T/shot.png" \
		"file://$T/r.html" >"$T/chromium.log" 2>&1 || fail "chromium failed: $(tail -3 "$T/chromium.log")"
	[ -s "$T/shot.png" ] || fail "no screenshot"
	# Not blank: the top of the page (title, cards, the chart) has ink.
	/usr/bin/python3 - "$T/shot.png" <<'EOF' || fail "the screenshot is blank"
import struct, sys, zlib
data = open(sys.argv[1], "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n"
pos, idat, width = 8, b"", 0
while pos < len(data):
    n, kind = struct.unpack(">I4s", data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + n]
    if kind == b"IHDR":
        width, height, depth, colour = struct.unpack(">IIBB", body[:10])
    if kind == b"IDAT":
        idat += body
    pos += 12 + n
raw = zlib.decompress(idat)
# Filtered rows: a byte that is not 0 or 255 is ink or a difference of it.
ink = sum(1 for b in raw[:len(raw) // 2] if b not in (0, 255))
assert ink > len(raw) // 200, ink
EOF
	# The figures are on the rendered page, as the browser built it.
	# shellcheck disable=SC2086
	timeout 120 chromium $flags --dump-dom "file://$T/r.html" >"$T/dom.html" 2>/dev/null
	expect_in "$T/dom.html" "id=\"kpi-revenue\""
	expect_in "$T/dom.html" "How the business is doing"
	local orders
	orders=$(kpi orders "$T/r.html")
	grep -q "id=\"kpi-orders\" data-value=\"$orders\">$orders" "$T/dom.html" ||
		fail "the orders figure ($orders) is not on the rendered page"
}

t_customers_lists_the_mornings_list_sorted_by_value_at_risk() {
	demo_store
	run "$PATRON" --db "$DB" --now "$NOW" customers --segment at_risk --sort 'value*risk' --csv
	expect_rc 0
	head -1 "$T/out" | grep -q '^id,email,name,segment,orders,total_spent' || fail "no header"
	expect_eq "$(($(wc -l <"$T/out") - 1))" \
		"$(q "SELECT count(*) FROM scores WHERE name = 'segment' AND label = 'at_risk'")" "rows"
	# clv x churn, largest first, the same order as SQL gives
	expect_eq "$(sed -n 2p "$T/out" | cut -d, -f1)" \
		"$(q "SELECT s.customer_id FROM scores s JOIN scores c ON c.customer_id = s.customer_id AND c.name = 'churn' JOIN scores v ON v.customer_id = s.customer_id AND v.name = 'clv' WHERE s.name = 'segment' AND s.label = 'at_risk' ORDER BY v.value * c.value DESC, s.customer_id LIMIT 1")" "first"
	/usr/bin/python3 - "$T/out" <<'EOF' || fail "not sorted by value*risk"
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1], newline="")))
v = [float(r["value"]) * float(r["churn"]) for r in rows]
# the file's figures are rounded (2 and 4 decimals): equal within that
bad = [(a, b) for a, b in zip(v, v[1:]) if a < b - 0.006 - 1e-4 * b]
assert not bad, bad
assert all(r["segment"] == "at_risk" for r in rows)
EOF
	# --where reads the customer as a rule does, in the same sandbox.
	run "$PATRON" --db "$DB" --now "$NOW" --json customers --where 'c.orders >= 3 and (c.churn or 0) > 0.5'
	expect_rc 0
	expect_eq "$(jq length "$T/out")" \
		"$(q "SELECT count(*) FROM (SELECT customer_id FROM orders WHERE revenue GROUP BY 1 HAVING count(*) >= 3) o JOIN scores c ON c.customer_id = o.customer_id AND c.name = 'churn' AND c.value > 0.5")" "--where"
	# a comment in the expression ends with it
	run "$PATRON" --db "$DB" --now "$NOW" --json customers --where 'c.orders >= 3 -- the regulars'
	expect_rc 0
	expect_eq "$(jq length "$T/out")" \
		"$(q "SELECT count(*) FROM (SELECT customer_id FROM orders WHERE revenue GROUP BY 1 HAVING count(*) >= 3)")" "--where with a comment"
	run "$PATRON" --db "$DB" --now "$NOW" customers --where 'os.execute("true")'
	expect_rc 2
	expect_in "$T/err" "os.execute is not available in rules"
	run "$PATRON" --db "$DB" --now "$NOW" customers --where 'c.total_spent >'
	expect_rc 2
	expect_in "$T/err" "--where: unexpected symbol near"
	run "$PATRON" --db "$DB" --now "$NOW" customers --segment champs
	expect_rc 1
	expect_in "$T/err" "no customer is in segment \"champs\" (segments: "
	expect_in "$T/err" "champions"
	run "$PATRON" --db "$DB" --now "$NOW" customers --sort nonsense
	expect_rc 2
	run "$PATRON" --db "$DB" --now "$NOW" customers --where 'c.orders > 1000'
	expect_rc 0
	expect_in "$T/out" "no customer matches"
	run "$PATRON" --db "$DB" --now "$NOW" --json customers --where 'c.orders > 1000'
	expect_eq "$(jq length "$T/out")" 0 "nobody as JSON"
	# the table: 50 unless told
	run "$PATRON" --db "$DB" --now "$NOW" customers
	expect_rc 0
	expect_in "$T/out" "... 350 more (--limit 0 shows all)"
}

t_customers_csv_is_safe_to_open_in_a_spreadsheet() {
	cat >"$T/customers.csv" <<'EOF'
email,first_name,last_name
a@example.com,"=HYPERLINK(""http://x"")",Smith
b@example.com,"Ann, ""Jr""",-Doe
EOF
	"$PATRON" --db "$DB" import customers "$T/customers.csv" >/dev/null
	run "$PATRON" --db "$DB" customers --csv
	expect_rc 0
	expect_in "$T/out" "\"'=HYPERLINK(\"\"http://x\"\") Smith\""
	expect_in "$T/out" "\"Ann, \"\"Jr\"\" -Doe\""
	run "$PATRON" --db "$DB" customers --where 'c.churn > 0.5'
	expect_rc 1
	expect_in "$T/err" "a field a customer lacks is nil: write (c.churn or 0) > 0.5"
}

t_forecast_beats_the_seasonal_naive_and_says_when_it_cannot() {
	demo_store
	run "$PATRON" --db "$DB" --now "$NOW" --json forecast --period month --test 6
	expect_rc 0
	/usr/bin/python3 -c "
import json, sys
j = json.load(open('$T/out'))
for k in ('revenue', 'orders'):
    assert j[k]['mape'] < j[k]['seasonal_naive_mape'], (k, j[k])
assert j['held_out'] == 6
" || fail "the forecast does not beat the seasonal naive: $(cat "$T/out")"
	run "$PATRON" --db "$DB" --now "$NOW" forecast
	expect_rc 0
	expect_in "$T/out" "the next 8 weeks"
	expect_in "$T/out" "forecast.holtwinters: "
	# Options reach the plugin, and a wrong one is refused by name.
	echo 'forecast = { plugin = "holtwinters", seasonal = "additive" }' >"$T/patron.conf"
	run "$PATRON" --db "$DB" --now "$NOW" forecast
	expect_rc 0
	expect_in "$T/out" "Holt-Winters, additive season of 52 periods"
	# One line swaps the method: the Theta method, which beats the naive too.
	echo 'forecast = "theta"' >"$T/patron.conf"
	run "$PATRON" --db "$DB" --now "$NOW" --json forecast --period month --test 6
	expect_rc 0
	/usr/bin/python3 -c "
import json
j = json.load(open('$T/out'))
for k in ('revenue', 'orders'):
    assert j[k]['method'].startswith('forecast.theta: Theta'), j[k]
    assert j[k]['mape'] < j[k]['seasonal_naive_mape'], (k, j[k])
" || fail "theta: $(cat "$T/out")"
	run "$PATRON" --db "$DB" --now "$NOW" report --out "$T/theta.html"
	expect_rc 0
	expect_in "$T/theta.html" "Forecast: forecast.theta: Theta"
	echo 'forecast = { plugin = "holtwinters", seasonal = "sometimes" }' >"$T/patron.conf"
	run "$PATRON" --db "$DB" --now "$NOW" forecast
	expect_rc 1
	expect_in "$T/err" 'seasonal = "sometimes": expected auto, additive, multiplicative or none'
	echo 'forecast = false' >"$T/patron.conf"
	run "$PATRON" --db "$DB" --now "$NOW" report --out "$T/r.html"
	expect_rc 0
	expect_in "$T/r.html" "No forecast yet: no forecaster is chosen (forecast = false in "
	# Three weeks of orders are too few to fit even a trend.
	rm "$T/patron.conf" "$DB"
	printf 'order_id,email,placed_at,total\n1,a@example.com,2026-11-05,5\n2,b@example.com,2026-11-12,6\n3,a@example.com,2026-11-19,7\n' >"$T/o.csv"
	"$PATRON" --db "$DB" import orders "$T/o.csv" >/dev/null
	run "$PATRON" --db "$DB" --now "$NOW" forecast
	expect_rc 1
	expect_in "$T/err" "no forecast yet: 3 periods of history; a trend needs 4"
	run "$PATRON" --db "$DB" --now "$NOW" report --out "$T/r.html"
	expect_rc 0
	expect_in "$T/r.html" "No forecast yet: 3 periods of history; a trend needs 4."
}

t_feedback_sentiment_reaches_events_rules_and_the_customer() {
	cat >"$T/feedback.csv" <<'CSV'
email,received_at,rating,text
happy@example.com,2026-11-20,,"Really love it, great quality!"
angry@example.com,2026-11-21,,"Terrible. It arrived broken and nobody answers."
calm@example.com,2026-11-22,,The parcel came on Tuesday.
CSV
	run "$PATRON" --db "$DB" --now "$NOW" import feedback "$T/feedback.csv"
	expect_rc 0
	# The event that says it arrived carries the sentiment of the text.
	expect_eq "$(q "SELECT count(*) FROM events WHERE topic = 'feedback.received' AND payload ->> 'sentiment' > 0.5")" 1 "positive"
	expect_eq "$(q "SELECT count(*) FROM events WHERE topic = 'feedback.received' AND payload ->> 'sentiment' < -0.5")" 1 "negative"
	expect_eq "$(q "SELECT sentiment FROM feedback f JOIN identities i ON i.customer_id = f.customer_id WHERE i.value = 'calm@example.com'")" 0.0 "neutral"
	# A rule reacts to an angry customer as it comes in.
	mkdir "$T/rules"
	cat >"$T/rules/angry.lua" <<'LUA'
rule { name = "angry customer", on = "feedback.received",
  where = function(c, e) return e.data.sentiment and e.data.sentiment < -0.5 end,
  act = function(c, e) tag(c, "angry") end }
LUA
	run "$PATRON" --db "$DB" --now "$NOW" run "$T/rules"
	expect_rc 0
	expect_eq "$(q "SELECT i.value FROM tags t JOIN identities i ON i.customer_id = t.customer_id AND i.kind = 'email' WHERE t.tag = 'angry'")" angry@example.com
	# patron score gives each customer the mean of what they wrote: c.sentiment.
	run "$PATRON" --db "$DB" --now "$NOW" score --only sentiment
	expect_rc 0
	expect_in "$T/out" "sentiment: sentiment.lexicon 1.0 scored 3 texts"
	run "$PATRON" --db "$DB" --now "$NOW" --json customers --where '(c.sentiment or 0) < -0.5'
	expect_eq "$(jq -r '.[].email' "$T/out")" angry@example.com
	# Switched off, the import scores nothing and the event says so.
	echo 'sentiment = false' >"$T/patron.conf"
	printf 'email,received_at,text\nlater@example.com,2026-11-22,Awful\n' >"$T/more.csv"
	"$PATRON" --db "$DB" --now "$NOW" import feedback "$T/more.csv" >/dev/null
	expect_eq "$(q "SELECT count(*) FROM feedback WHERE sentiment IS NULL")" 1
	echo 'sentiment = "nosuch"' >"$T/patron.conf"
	run "$PATRON" --db "$DB" --now "$NOW" import feedback "$T/more.csv"
	expect_rc 1
	expect_in "$T/err" "there is no plugin sentiment.nosuch"
}

t_sentiment_learnt_from_the_shops_rated_feedback() {
	{
		echo "email,received_at,rating,text"
		for i in 1 2 3 4 5 6; do
			echo "p$i@example.com,2026-11-0$i,5,Lovely packaging and the beans are superb $i"
			echo "n$i@example.com,2026-11-0$i,1,Beans arrived mouldy and the box crushed $i"
			echo "c$i@example.com,2026-11-0$i,5,质量很好 $i"
			echo "d$i@example.com,2026-11-0$i,1,质量很差 $i"
		done
	} >"$T/rated.csv"
	head -5 "$T/rated.csv" >"$T/few.csv"
	"$PATRON" --db "$DB" --now "$NOW" import feedback "$T/few.csv" >/dev/null
	run "$PATRON" --db "$DB" --now "$NOW" train sentiment --plugin textnb
	expect_rc 1
	expect_in "$T/err" "needs at least 5 texts rated 1-2 and 5 rated 4-5 to learn from; the feedback has 2 and 2"
	"$PATRON" --db "$DB" --now "$NOW" import feedback "$T/rated.csv" >/dev/null
	run "$PATRON" --db "$DB" --now "$NOW" train sentiment --plugin textnb
	expect_rc 0
	expect_in "$T/out" "sentiment: sentiment.textnb trained"
	echo 'sentiment = "textnb"' >"$T/patron.conf"
	printf 'email,received_at,text\nx@example.com,2026-11-22,the box was crushed\ny@example.com,2026-11-22,很差\nz@example.com,2026-11-22,superb packaging\n' >"$T/new.csv"
	run "$PATRON" --db "$DB" --now "$NOW" import feedback "$T/new.csv"
	expect_rc 0
	for who in x y; do
		[ "$(q "SELECT f.sentiment < -0.5 FROM feedback f JOIN identities i ON i.customer_id = f.customer_id WHERE i.value = '$who@example.com'")" = 1 ] ||
			fail "$who's text is not negative"
	done
	[ "$(q "SELECT f.sentiment > 0.5 FROM feedback f JOIN identities i ON i.customer_id = f.customer_id WHERE i.value = 'z@example.com'")" = 1 ] ||
		fail "z's text is not positive"
	# a model that is not there is said, not guessed
	rm "$DB"*
	run "$PATRON" --db "$DB" --now "$NOW" import feedback "$T/new.csv"
	expect_rc 1
	expect_in "$T/err" "no model yet: patron train sentiment --plugin textnb"
}

t_report_credits_orders_to_the_messages_before_them() {
	cat >"$T/customers.csv" <<'CSV'
email,first_name,accepts_marketing
ada@example.com,Ada,yes
bob@example.com,Bob,yes
cy@example.com,Cy,no
CSV
	"$PATRON" --db "$DB" --now 2026-11-01 import customers "$T/customers.csv" >/dev/null
	mkdir -p "$T/rules/templates"
	printf 'Subject: Hello\n\nHello {{customer.first_name}}\n' >"$T/rules/templates/hello.txt"
	cat >"$T/rules/winback.lua" <<'LUA'
rule { name = "winback", every = "30d",
  where = function(c) return true end,
  act = function(c) send{ channel = "email", to = c, template = "hello" } end }
LUA
	run "$PATRON" --db "$DB" --now 2026-11-10 run "$T/rules"
	expect_rc 0
	expect_eq "$(q "SELECT count(*) FROM outbox WHERE status = 'sent'")" 2 "sent"
	# ada orders twice within the week after, bob ten days after (too late)
	cat >"$T/orders.csv" <<'CSV'
order_id,email,placed_at,total
A1,ada@example.com,2026-11-12,40.00
A2,ada@example.com,2026-11-13,10.00
B1,bob@example.com,2026-11-20,25.00
C1,cy@example.com,2026-11-12,99.00
CSV
	"$PATRON" --db "$DB" import orders "$T/orders.csv" >/dev/null
	cat >"$T/patron.conf" <<'CONF'
attribution = { window = "7d", cost_per_message = 0.5 }
campaign_costs = { ["winback"] = 4 }
CONF
	run "$PATRON" --db "$DB" --now "$NOW" report --out "$T/r.html"
	expect_rc 0
	# 2 messages sent, 2 orders worth 50.00 credited, cost 2 x 0.5 + 4 = 5:
	# ROI (50 - 5) / 5 = 900%
	/usr/bin/python3 - "$T/r.html" <<'PY' || fail "campaign row: $(grep -o '<table id="campaign-table">.*</table>' "$T/r.html")"
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
table = next(t for t in root.iter("table") if t.get("id") == "campaign-table")
rows = [["".join(td.itertext()) for td in tr] for tr in table.iter("tr")][1:]
assert rows == [["winback", "2", "2", "0", "0", "0", "0", "2", "50.00", "900%"]], rows
PY
	expect_in "$T/r.html" "An order is credited to the latest message its customer received in the 7 days before it."
	# A longer window takes bob's order in too.
	sed -i 's/window = "7d"/window = "14d"/' "$T/patron.conf"
	"$PATRON" --db "$DB" --now "$NOW" report --out "$T/r.html" >/dev/null
	expect_in "$T/r.html" '<td class="num">3</td><td class="num">75.00</td><td class="num">1400%</td>'
	echo 'campaign_costs = { winback = "a lot" }' >"$T/patron.conf"
	run "$PATRON" --db "$DB" --now "$NOW" report --out "$T/r.html"
	expect_rc 1
	expect_in "$T/err" 'campaign_costs[winback]: expected a rule'
}
