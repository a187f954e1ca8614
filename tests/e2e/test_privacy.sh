# Privacy: everything held on one person exported as one document, and
# erased everywhere (the store's bytes, the delivered files) with the
# shop's figures kept.

NOW=2026-11-23

# shop: the demo shop, its example rules run, so people have messages.
shop() {
	"$PATRON" --db "$DB" --now $NOW demo --customers 300 >/dev/null 2>&1
	"$PATRON" --db "$DB" --now $NOW run "$ROOT/examples/rules" >/dev/null 2>&1
	WHO=$(q "SELECT i.value FROM identities i JOIN outbox o ON o.customer_id = i.customer_id WHERE i.kind = 'email' AND o.status = 'sent' ORDER BY i.value LIMIT 1")
	CID=$(q "SELECT customer_id FROM identities WHERE value = '$WHO'")
	[ -n "$WHO" ] || fail "no customer with a delivered message"
}

t_export_gives_everything_held_on_one_person() {
	shop
	run "$PATRON" --db "$DB" --now $NOW export "$WHO" --out "$T/person.json"
	expect_rc 0
	expect_in "$T/out" "wrote everything held on customer $CID to $T/person.json"
	expect_eq "$(stat -c %a "$T/person.json")" 600
	check() {
		/usr/bin/python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$T/person.json" "$1"
	}
	expect_eq "$(check 'd["customer"]["id"]')" "$CID"
	expect_eq "$(check '"'"$WHO"'" in [i["value"] for i in d["identities"]]')" True
	expect_eq "$(check 'len(d["orders"])')" "$(q "SELECT count(*) FROM orders WHERE customer_id = $CID")"
	expect_eq "$(check 'len(d["order_lines"])')" "$(q "SELECT count(*) FROM order_lines l JOIN orders o ON o.id = l.order_id WHERE o.customer_id = $CID")"
	expect_eq "$(check 'len(d["messages"])')" "$(q "SELECT count(*) FROM outbox WHERE customer_id = $CID")"
	expect_eq "$(check 'len(d["events"])')" "$(q "SELECT count(*) FROM events WHERE customer_id = $CID")"
	expect_eq "$(check 'len(d["audit"])')" "$(q "SELECT count(*) FROM audit WHERE customer_id = $CID")"
	expect_eq "$(check 'sorted(d)')" "['attributes', 'audit', 'consent', 'customer', 'events', 'exported_at', 'feedback', 'identities', 'messages', 'order_lines', 'orders', 'patron_export', 'recommendations', 'scores', 'survey_answers', 'tags', 'ticket_messages', 'tickets']"
	run "$PATRON" --db "$DB" export nobody@example.com
	expect_rc 1
	expect_in "$T/err" 'no customer "nobody@example.com"'
}

t_erase_removes_a_person_everywhere_and_keeps_the_revenue() {
	shop
	revenue=$(q "SELECT sum(total_cents) FROM orders WHERE revenue")
	orders=$(q "SELECT count(*) FROM orders")
	files=$(ls "$T/outbox" | grep -c '\.eml$')
	mine=$(q "SELECT count(*) FROM outbox WHERE customer_id = $CID AND status = 'sent'")
	grep -q "$WHO" "$T/outbox/messages.jsonl" || fail "the person's message is not in messages.jsonl"
	# Not without --yes.
	run "$PATRON" --db "$DB" erase "$WHO"
	expect_rc 2
	expect_in "$T/err" "erasing customer $CID cannot be undone: run again with --yes"
	expect_eq "$(q "SELECT count(*) FROM identities WHERE value = '$WHO'")" 1
	run "$PATRON" --db "$DB" --now $NOW erase "$WHO" --yes
	expect_rc 0
	expect_in "$T/out" "erased customer $CID: "
	# Nothing of the person is left: not in the store's bytes (the file
	# and its log), not in the files the channel wrote.
	for f in "$DB" "$DB-wal"; do
		[ -f "$f" ] && grep -c -- "$WHO" "$f" >/dev/null && fail "$WHO is still in $(basename "$f")"
	done
	grep -rq -- "$WHO" "$T/outbox" && fail "$WHO is still in outbox/"
	expect_eq "$(ls "$T/outbox" | grep -c '\.eml$')" $((files - mine)) ".eml files"
	expect_eq "$(q "SELECT count(*) FROM customers WHERE id = $CID")" 0
	expect_eq "$(q "SELECT count(*) FROM outbox WHERE address = '$WHO'")" 0
	# The shop's figures are as they were; the erasure is recorded bare.
	expect_eq "$(q "SELECT sum(total_cents) FROM orders WHERE revenue")" "$revenue"
	expect_eq "$(q "SELECT count(*) FROM orders")" "$orders"
	expect_eq "$(q "SELECT count(*) FROM erasures")" 1
	q "SELECT counts FROM erasures" | grep -q -- "$WHO" && fail "the erasure record holds the address"
	run "$PATRON" --db "$DB" check
	expect_rc 0
	run "$PATRON" --db "$DB" export "$WHO"
	expect_rc 1
	# Someone without orders leaves no anonymous customer behind.
	printf 'email\nnoorders@example.com\n' >"$T/one.csv"
	"$PATRON" --db "$DB" --now $NOW import customers "$T/one.csv" >/dev/null
	customers=$(q "SELECT count(*) FROM customers")
	run "$PATRON" --db "$DB" --now $NOW erase noorders@example.com --yes
	expect_rc 0
	expect_in "$T/out" "; no orders to keep"
	expect_eq "$(q "SELECT count(*) FROM customers")" $((customers - 1))
	expect_eq "$(q "SELECT count(*) FROM erasures WHERE tombstone IS NULL")" 1
}

t_erase_stops_before_anything_when_a_channel_cannot_forget() {
	shop
	# The person's messages went through the default channel; now it
	# names a plugin that is not there, so their copies cannot be removed.
	printf 'channels = { email = { plugin = "missing" } }\n' >"$T/patron.conf"
	run "$PATRON" --db "$DB" --now $NOW erase "$WHO" --yes
	expect_rc 1
	expect_in "$T/err" "channel email cannot be opened to remove its copies of the messages: no channel plugin channel.missing; nothing was erased"
	expect_eq "$(q "SELECT count(*) FROM identities WHERE value = '$WHO'")" 1
	grep -q -- "$WHO" "$T/outbox/messages.jsonl" || fail "a copy was removed"
	true
}

t_retention_removes_old_events_and_messages_on_run() {
	shop
	mkdir -p "$T/none"
	# Two events of this year, one of them older than the newest event.
	printf '{"topic":"ping","customer":"%s","at":"2027-06-01"}\n{"topic":"ping","customer":"%s","at":"2027-03-01"}\n' "$WHO" "$WHO" >"$T/recent.jsonl"
	"$PATRON" --db "$DB" --now 2027-11-30 import events "$T/recent.jsonl" >/dev/null
	newest=$(q "SELECT max(id) FROM events")
	young=$(q "SELECT count(*) FROM events WHERE occurred_at >= strftime('%s', '2027-12-01') - 365 * 86400")
	printf 'retention = { events = "1y" }\n' >"$T/patron.conf"
	run "$PATRON" --db "$DB" --now 2027-12-01 run "$T/none"
	expect_rc 0
	expect_in "$T/out" "retention: "
	expect_in "$T/out" " older than 1y removed"
	# What is younger stays, and the newest event always (ids never repeat).
	expect_eq "$(q "SELECT count(*) FROM events WHERE occurred_at < strftime('%s', '2027-12-01') - 365 * 86400 AND id < $newest")" 0
	expect_eq "$young" 2
	expect_eq "$(q "SELECT count(*) FROM events WHERE topic = 'ping'")" 2 "this year's events"
	expect_eq "$(q "SELECT max(id) >= $newest FROM events")" 1
	expect_eq "$(q "SELECT count(*) FROM outbox WHERE status = 'sent' AND address <> ''")" 0
	expect_eq "$(ls "$T/outbox" | grep -c '\.eml$')" 0
	printf 'retention = { events = "forever" }\n' >"$T/patron.conf"
	run "$PATRON" --db "$DB" --now 2027-12-01 run "$T/none"
	expect_rc 1
	expect_in "$T/err" 'retention.events: expected a duration like "2y", got "forever"'
}
