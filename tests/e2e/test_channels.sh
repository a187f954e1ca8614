# Channels end to end: templates and preview, delivery to a real SMTP server
# and a real HTTP server on 127.0.0.1, consent at delivery, retries, bounces,
# timeouts and a kill -9 while sending.

NOW=2026-11-01

# Five consenting customers and one who refused, each with an order.
#   eve's name carries HTML; zoë's and the subject carry UTF-8.
shop() {
	cat >"$T/customers.csv" <<-CSV
	email,first_name,last_name,accepts_marketing
	ada@example.com,Ada,Lovelace,yes
	bob@example.com,Bob,,no
	eve@example.com,<b>Eve</b>,O'Neil & Co,yes
	zoe@example.com,Zoë,Ångström,yes
	cy@example.com,Cy,,yes
	dee@example.com,,,yes
	CSV
	"$PATRON" --db "$DB" --now $NOW import customers "$T/customers.csv" >/dev/null
	mkdir -p "$T/rules/templates"
	printf 'Grüße, {{customer.first_name | "friend"}}: {{vars.discount}} off\n' \
		>"$T/rules/templates/offer.subject"
	printf 'Hello {{customer.first_name | "there"}},\n\nHere is {{vars.discount}} off.\n{{#customer.recommendations}}- {{name}}\n{{/customer.recommendations}}Unsubscribe: {{unsubscribe_url}}\n' \
		>"$T/rules/templates/offer.txt"
	printf '<p>Hello {{customer.first_name | "there"}} {{customer.last_name | ""}},</p>\n<p>Here is <b>{{vars.discount}}</b> off.</p>\n<a href="{{unsubscribe_url}}">unsubscribe</a>\n' \
		>"$T/rules/templates/offer.html"
	cat >"$T/rules/offer.lua" <<-'LUA'
	rule { name = "offer", every = "1d",
	  where = function(c) return true end,
	  act = function(c) send{ channel = "email", to = c, template = "offer",
	                          vars = { discount = "15%" } } end }
	LUA
}

# smtp_conf PORT [EXTRA]: the email channel through the local SMTP server.
smtp_conf() {
	cat >"$T/patron.conf" <<-CONF
	channels = { email = { plugin = "smtp", url = "smtp://127.0.0.1:$1", starttls = "no",
	                       from = "Shop <hi@shop.example>", backoff = "10m", ${2:-}
	                       unsubscribe_url = "https://shop.example/u?t={token}" } }
	CONF
}

# mail PYTHON-EXPRESSION: evaluated over the messages the SMTP server got
# (ms: a list of parsed emails, raw: the JSON lines).
mail() {
	/usr/bin/python3 - "$T/mail.jsonl" "$1" <<-'PY'
	import email, email.policy, json, sys
	raw = [json.loads(l) for l in open(sys.argv[1])] if __import__("os").path.exists(sys.argv[1]) else []
	ms = [email.message_from_string(r["data"], policy=email.policy.default) for r in raw]
	print(eval(sys.argv[2]))
	PY
}

t_preview_renders_escapes_and_encodes() {
	shop
	run "$PATRON" --db "$DB" --now $NOW preview offer --customer eve@example.com \
		--rules "$T/rules" --vars '{"discount":"20%"}'
	expect_rc 0
	expect_in "$T/out" "Subject: Grüße, <b>Eve</b>: 20% off"
	expect_in "$T/out" "Hello <b>Eve</b>,"	# the text body takes it as it is
	expect_in "$T/out" "<p>Hello &lt;b&gt;Eve&lt;/b&gt; O&#39;Neil &amp; Co,</p>"
	expect_in "$T/out" "<p>Here is <b>20%</b> off.</p>"	# the template's own HTML stays
	run "$PATRON" --db "$DB" --now $NOW preview offer --customer zoe@example.com \
		--rules "$T/rules" --vars '{"discount":"5%"}' --raw
	expect_rc 0
	# UTF-8 in headers is RFC 2047 encoded; decoded, it is intact
	grep -q '^Subject: =?UTF-8?B?' "$T/out" || fail "subject not encoded: $(head -5 "$T/out")"
	grep -q '^To: =?UTF-8?B?' "$T/out" || fail "display name not encoded"
	/usr/bin/python3 -c '
import email, email.policy, sys
m = email.message_from_string(open(sys.argv[1]).read(), policy=email.policy.default)
assert m["Subject"] == "Grüße, Zoë: 5% off", m["Subject"]
assert m["To"].addresses[0].display_name == "Zoë Ångström", m["To"]
assert m.get_body(("plain",)).get_content().startswith("Hello Zoë,")
' "$T/out" || fail "the raw email does not decode to what was rendered"
	# a variable the template needs and nobody gives
	run "$PATRON" --db "$DB" --now $NOW preview offer --customer ada@example.com --rules "$T/rules"
	expect_rc 1
	expect_in "$T/err" "offer.subject:1: {{vars.discount}} has no value here"
	# a value the customer lacks, without a default
	printf 'Subject: Hi\n\nDear {{customer.first_name}}\n' >"$T/rules/templates/plain.txt"
	run "$PATRON" --db "$DB" --now $NOW preview plain --customer dee@example.com --rules "$T/rules"
	expect_rc 1
	expect_in "$T/err" "plain.txt:3: {{customer.first_name}} has no value here (give a default"
	run "$PATRON" --db "$DB" --now $NOW preview nosuch --customer ada@example.com --rules "$T/rules"
	expect_rc 1
	expect_in "$T/err" 'no template "nosuch" in'
}

t_template_mistakes_are_rule_errors_with_file_and_line() {
	shop
	printf 'Subject: Hi\n\nDear {{customer.frist_name}}\n' >"$T/rules/templates/typo.txt"
	printf 'Subject: Hi\n\n{{#vars.items}}- {{.}}\n' >"$T/rules/templates/open.txt"
	cat >"$T/rules/offer.lua" <<-'LUA'
	rule { name = "typo", every = "1d", where = function(c) return c.email == "ada@example.com" end,
	  act = function(c) send{ channel = "email", to = c, template = "typo" } end }
	rule { name = "open", every = "1d", where = function(c) return c.email == "ada@example.com" end,
	  act = function(c) send{ channel = "email", to = c, template = "open" } end }
	rule { name = "novars", every = "1d", where = function(c) return c.email == "ada@example.com" end,
	  act = function(c) send{ channel = "email", to = c, template = "offer" } end }
	LUA
	run "$PATRON" --db "$DB" --now $NOW run "$T/rules" --dry-run
	expect_rc 1
	expect_in "$T/err" "typo.txt:3: customer.frist_name: no such customer field"
	expect_in "$T/err" "open.txt:3: {{#vars.items}} is never closed with {{/vars.items}}"
	expect_in "$T/err" "offer.subject:1: the template uses {{vars.discount}}, which this send does not give"
	expect_eq "$(q 'SELECT count(*) FROM outbox')" 0
	# rules check reads the templates too, without a store
	run "$PATRON" rules check "$T/rules"
	expect_rc 1
	expect_in "$T/err" "typo.txt:3: customer.frist_name: no such customer field"
	rm "$T/rules/templates/typo.txt" "$T/rules/templates/open.txt"
	run "$PATRON" rules check "$T/rules"
	expect_rc 0
	expect_in "$T/out" "templates: 1 templates ok"
}

t_smtp_gets_each_message_once_with_both_parts() {
	shop
	port=$(free_port)
	start_server smtp smtp_server.py --port "$port" --out "$T/mail.jsonl"
	smtp_conf "$port"
	q "INSERT INTO products(id, sku, name, created_at) VALUES (1, 'SKU-1', 'Tea pot', 0)"
	q "INSERT INTO recommendation_lists VALUES (1, '[[1, 0.9, null]]', 't', 0)"
	run "$PATRON" --db "$DB" --now $NOW run "$T/rules"
	expect_rc 0
	expect_in "$T/out" "deliver: 5 sent, 0 to retry, 0 failed"
	expect_eq "$(q "SELECT group_concat(status) FROM (SELECT DISTINCT status FROM outbox)")" sent
	expect_eq "$(mail 'len(ms)')" 5
	# the right people: everyone who consented, nobody who did not
	expect_eq "$(mail 'sorted(a for r in raw for a in r["rcpt_tos"])')" \
		"['ada@example.com', 'cy@example.com', 'dee@example.com', 'eve@example.com', 'zoe@example.com']"
	# each Message-ID is the hash of its outbox key (never the rule's name),
	# and all came over one connection
	keys=$(q "SELECT key FROM outbox ORDER BY id" | /usr/bin/python3 -c '
import hashlib, sys
print(sorted("<" + hashlib.blake2b(k.rstrip("\n").encode(), digest_size=16).hexdigest() + "@shop.example>" for k in sys.stdin))')
	expect_eq "$(mail 'sorted(m["Message-ID"] for m in ms)')" "$keys"
	expect_eq "$(mail 'len(set(r["connection"] for r in raw))')" 1
	expect_eq "$(mail 'set(m["Subject"] for m in ms if m["To"].addresses[0].username == "ada")')" "{'Grüße, Ada: 15% off'}"
	expect_eq "$(mail 'all(m.get_content_type() == "multipart/alternative" for m in ms)')" True
	expect_eq "$(mail 'all("15% off" in m.get_body(("plain",)).get_content() for m in ms)')" True
	expect_eq "$(mail '[m.get_body(("plain",)).get_content().count("- Tea pot") for m in ms]')" "[1, 0, 0, 0, 0]"
	expect_eq "$(mail 'all("<b>15%</b>" in m.get_body(("html",)).get_content() for m in ms)')" True
	expect_eq "$(mail '[m.get_body(("html",)).get_content().splitlines()[0] for m in ms if "eve" in m["To"]]')" \
		"['<p>Hello &lt;b&gt;Eve&lt;/b&gt; O&#39;Neil &amp; Co,</p>']"
	expect_eq "$(mail 'all(m["List-Unsubscribe"].startswith("<https://shop.example/u?t=") and "mailto:hi@shop.example" in m["List-Unsubscribe"] for m in ms)')" True
	expect_eq "$(mail 'all(m["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click" for m in ms)')" True
	expect_eq "$(q "SELECT count(*) FROM events WHERE topic = 'message.sent'")" 5
	# again: nothing is sent twice
	run "$PATRON" --db "$DB" --now $NOW deliver
	expect_rc 0
	expect_eq "$(mail 'len(ms)')" 5
	stop_server smtp
}

t_an_unsubscribed_customer_gets_nothing() {
	shop
	port=$(free_port)
	start_server smtp smtp_server.py --port "$port" --out "$T/mail.jsonl"
	smtp_conf "$port"
	run "$PATRON" --db "$DB" --now $NOW run "$T/rules" --no-deliver
	expect_rc 0
	expect_eq "$(q "SELECT count(*) FROM outbox WHERE status = 'queued'")" 5
	# ada unsubscribes by address, cy through the token of her link, after
	# their messages were queued
	run "$PATRON" --db "$DB" --now $NOW unsubscribe ada@example.com
	expect_rc 0
	expect_in "$T/out" "customer 1 unsubscribed from email"
	token=$("$PATRON" --db "$DB" --now $NOW preview --message 4 | sed -n 's/^Unsubscribe: .*t=//p' | head -1)
	[ -n "$token" ] || fail "no token in the preview"
	run "$PATRON" --db "$DB" --now $NOW unsubscribe "${token%?}x"
	expect_rc 1
	expect_in "$T/err" "the unsubscribe token's signature is wrong"
	run "$PATRON" --db "$DB" --now $NOW unsubscribe "$token"
	expect_rc 0
	# dee unsubscribes through an event, as a web form would send it
	"$PATRON" --db "$DB" --now $NOW emit customer.unsubscribed --customer dee@example.com \
		--data '{"channel":"email"}' >/dev/null
	run "$PATRON" --db "$DB" --now $NOW deliver
	expect_rc 0
	expect_in "$T/out" "deliver: 2 sent, 0 to retry, 0 failed, 0 bounced, 3 cancelled"
	expect_eq "$(mail 'sorted(a for r in raw for a in r["rcpt_tos"])')" "['eve@example.com', 'zoe@example.com']"
	expect_eq "$(q "SELECT group_concat(a.value) FROM outbox o JOIN identities a ON a.customer_id = o.customer_id AND a.kind = 'email' WHERE o.status = 'cancelled' ORDER BY 1")" \
		"ada@example.com,cy@example.com,dee@example.com"
	# an import saying ada accepts marketing does not undo her unsubscribe
	printf 'email,accepts_marketing\nada@example.com,yes\n' >"$T/again.csv"
	"$PATRON" --db "$DB" --now $NOW import customers "$T/again.csv" >/dev/null
	expect_eq "$(q "SELECT granted FROM consent WHERE customer_id = 1")" 0
	# and the next day's rule run does not queue for any of the three
	run "$PATRON" --db "$DB" --now 2026-11-02 run "$T/rules"
	expect_rc 0
	expect_eq "$(mail 'sorted(a for r in raw for a in r["rcpt_tos"])')" \
		"['eve@example.com', 'eve@example.com', 'zoe@example.com', 'zoe@example.com']"
	stop_server smtp
}

t_a_server_that_is_down_is_retried_until_it_is_up() {
	shop
	port=$(free_port)
	smtp_conf "$port"
	run "$PATRON" --db "$DB" --now $NOW run "$T/rules"
	expect_rc 1
	expect_in "$T/err" "channel email:"
	expect_in "$T/err" "trying again later"
	# the first message was tried and waits out its backoff; the others wait
	expect_eq "$(q "SELECT count(*) FROM outbox WHERE status = 'queued'")" 5
	expect_eq "$(q "SELECT attempts, next_at - strftime('%s', '$NOW') BETWEEN 480 AND 720 FROM outbox WHERE id = 1")" "1|1"
	expect_eq "$(q "SELECT sum(attempts) FROM outbox")" 1
	start_server smtp smtp_server.py --port "$port" --out "$T/mail.jsonl"
	run "$PATRON" --db "$DB" --now $NOW deliver	# message 1 is not due yet
	expect_rc 0
	expect_in "$T/out" "deliver: 4 sent"
	expect_in "$T/out" "1 waiting"
	run "$PATRON" --db "$DB" --now "2026-11-02" deliver
	expect_rc 0
	expect_in "$T/out" "deliver: 1 sent"
	expect_eq "$(mail 'len(ms)')" 5
	expect_eq "$(mail 'len(set(m["Message-ID"] for m in ms))')" 5
	stop_server smtp
}

t_refusals_bounce_retry_and_die() {
	shop
	port=$(free_port)
	start_server smtp smtp_server.py --port "$port" --out "$T/mail.jsonl" \
		--bounce eve@example.com --tempfail zoe@example.com
	smtp_conf "$port" 'attempts = 2,'
	run "$PATRON" --db "$DB" --now $NOW run "$T/rules"
	expect_rc 0
	expect_in "$T/out" "deliver: 3 sent, 1 to retry, 0 failed, 1 bounced"
	expect_eq "$(q "SELECT status, last_error LIKE 'recipient refused (550)%' FROM outbox WHERE address = 'eve@example.com'")" "bounced|1"
	expect_eq "$(q "SELECT count(*) FROM events WHERE topic = 'message.bounced' AND customer_id = 3")" 1
	expect_eq "$(q "SELECT status, attempts, last_error LIKE 'server answered 451%' FROM outbox WHERE address = 'zoe@example.com'")" "queued|1|1"
	# the second attempt is the last: the message is dead, with its error
	run "$PATRON" --db "$DB" --now 2026-11-02 deliver
	expect_rc 0
	expect_in "$T/out" "deliver: 0 sent, 0 to retry, 1 failed"
	expect_eq "$(q "SELECT status, last_error LIKE '%(after 2 attempts)' FROM outbox WHERE address = 'zoe@example.com'")" "dead|1"
	expect_eq "$(q "SELECT count(*) FROM events WHERE topic = 'message.failed'")" 1
	# once the mailbox works, the founder sends it again by hand
	stop_server smtp
	start_server smtp smtp_server.py --port "$port" --out "$T/mail.jsonl"
	id=$(q "SELECT id FROM outbox WHERE address = 'zoe@example.com'")
	run "$PATRON" --db "$DB" outbox retry "$id"
	expect_rc 0
	run "$PATRON" --db "$DB" outbox retry 1
	expect_rc 1
	expect_in "$T/err" "message 1 is sent"
	run "$PATRON" --db "$DB" --now 2026-11-02 deliver
	expect_in "$T/out" "deliver: 1 sent"
	expect_eq "$(mail 'sum(r["rcpt_tos"] == ["zoe@example.com"] for r in raw)')" 1
	stop_server smtp
}

t_a_slow_server_times_out_and_is_retried() {
	shop
	port=$(free_port)
	start_server smtp smtp_server.py --port "$port" --out "$T/mail.jsonl" --delay 3
	smtp_conf "$port" 'timeout = 1,'
	run "$PATRON" --db "$DB" --now $NOW run "$T/rules"
	expect_rc 1
	expect_in "$T/err" "channel email:"
	expect_in "$T/err" "server response timeout"
	expect_eq "$(q "SELECT status, attempts FROM outbox WHERE id = 1")" "queued|1"
	stop_server smtp
	start_server smtp smtp_server.py --port "$port" --out "$T/mail2.jsonl"
	run "$PATRON" --db "$DB" --now 2026-11-02 deliver
	expect_rc 0
	expect_in "$T/out" "deliver: 5 sent"
	stop_server smtp
}

# Killed while sending: the rerun sends the rest; what reached the server
# is each message once by Message-ID (one in flight at the kill may arrive
# twice, with the same Message-ID, which is how receivers drop repeats).
t_a_delivery_killed_midway_loses_nothing() {
	port=$(free_port)
	start_server smtp smtp_server.py --port "$port" --out "$T/mail.jsonl" --delay 0.01
	smtp_conf "$port"
	{
		echo "email,first_name,accepts_marketing"
		for i in $(seq 300); do echo "c$i@example.com,C$i,yes"; done
	} >"$T/many.csv"
	"$PATRON" --db "$DB" --now $NOW import customers "$T/many.csv" >/dev/null
	mkdir -p "$T/rules/templates"
	printf 'Subject: Hi {{customer.first_name}}\n\nHello\n' >"$T/rules/templates/hi.txt"
	cat >"$T/rules/hi.lua" <<-'LUA'
	rule { name = "hi", every = "1d", where = function(c) return true end,
	  act = function(c) send{ channel = "email", to = c, template = "hi" } end }
	LUA
	"$PATRON" --db "$DB" --now $NOW run "$T/rules" --no-deliver >/dev/null
	"$PATRON" --db "$DB" --now $NOW deliver >/dev/null 2>&1 &
	pid=$!
	for _ in $(seq 200); do
		[ -f "$T/mail.jsonl" ] && [ "$(wc -l <"$T/mail.jsonl")" -ge 60 ] && break
		sleep 0.05
	done
	kill -9 $pid
	wait $pid 2>/dev/null || true
	got=$(wc -l <"$T/mail.jsonl")
	[ "$got" -lt 300 ] || fail "the delivery finished before the kill ($got)"
	run "$PATRON" --db "$DB" --now $NOW deliver
	expect_rc 0
	expect_eq "$(q "SELECT count(*) FROM outbox WHERE status = 'sent'")" 300
	expect_eq "$(mail 'len(set(m["Message-ID"] for m in ms))')" 300
	expect_eq "$(mail 'len(ms) - len(set(m["Message-ID"] for m in ms)) <= 1')" True
	expect_eq "$(q "SELECT count(*) FROM events WHERE topic = 'message.sent'")" 300
	stop_server smtp
}

hook_conf() {
	cat >"$T/patron.conf" <<-CONF
	channels = { crm = { plugin = "webhook", url = "http://127.0.0.1:$1/hook",
	                     secret_env = "HOOK_SECRET", address = "none", backoff = "10m", ${2:-} },
	             sms = { plugin = "webhook", url = "http://127.0.0.1:$1/sms", format = "sms",
	                     address = "phone" } }
	CONF
	q "INSERT OR IGNORE INTO consent SELECT customer_id, 'crm', 1, 'test', 0 FROM consent WHERE channel = 'email' AND granted"
	cat >"$T/rules/offer.lua" <<-'LUA'
	rule { name = "crm", every = "1d", where = function(c) return true end,
	  act = function(c) send{ channel = "crm", to = c, template = "offer",
	                          vars = { discount = "15%" } } end }
	LUA
}

# hooks PYTHON-EXPRESSION over the requests the HTTP server got (rs).
hooks() {
	/usr/bin/python3 -c 'import json, sys
rs = [json.loads(l) for l in open(sys.argv[1])]
print(eval(sys.argv[2]))' "$T/hooks.jsonl" "$1"
}

t_webhooks_are_signed_json_posts() {
	shop
	port=$(free_port)
	start_server http http_server.py --port "$port" --out "$T/hooks.jsonl" --secret s3cret
	hook_conf "$port"
	export HOOK_SECRET=s3cret
	run "$PATRON" --db "$DB" --now $NOW run "$T/rules"
	expect_rc 0
	expect_in "$T/out" "deliver: 5 sent"
	expect_eq "$(hooks 'len(rs)')" 5
	expect_eq "$(hooks 'all(r["signed"] and r["signature_ok"] and r["fresh"] for r in rs)')" True
	expect_eq "$(hooks 'all(r["key"] == r["body"]["id"] and r["path"] == "/hook" for r in rs)')" True
	expect_eq "$(hooks '[(r["body"]["to"], r["body"]["customer"]["email"], r["body"]["subject"], r["body"]["vars"]["discount"]) for r in rs if r["body"]["customer"]["id"] == 1]')" \
		"[('customer:1', 'ada@example.com', 'Grüße, Ada: 15% off', '15%')]"
	expect_eq "$(q "SELECT group_concat(key) FROM outbox ORDER BY id")" "$(hooks '",".join(r["key"] for r in rs)')"
	stop_server http
	# a wrong secret is seen by the receiver
	start_server http http_server.py --port "$port" --out "$T/hooks2.jsonl" --secret other
	"$PATRON" --db "$DB" --now 2026-11-02 run "$T/rules" >/dev/null
	expect_eq "$(/usr/bin/python3 -c 'import json,sys; print([json.loads(l)["signature_ok"] for l in open(sys.argv[1])])' "$T/hooks2.jsonl")" "[False, False, False, False, False]"
	stop_server http
}

t_secrets_come_from_the_environment_or_a_file_only_its_owner_reads() {
	shop
	port=$(free_port)
	start_server http http_server.py --port "$port" --out "$T/hooks.jsonl" --secret s3cr3t-value
	secret_conf() {
		cat >"$T/patron.conf" <<-CONF
		channels = { email = { plugin = "webhook", url = "http://127.0.0.1:$port/hook", $1 } }
		CONF
	}
	# Written in patron.conf, which others may read: refused.
	secret_conf 'secret = "s3cr3t-value"'
	run "$PATRON" --db "$DB" --now $NOW run "$T/rules"
	expect_rc 1
	expect_in "$T/err" "option secret: a secret does not belong in patron.conf; give secret_env"
	# In a file others may read: refused, named.
	printf 's3cr3t-value\n' >"$T/hook.secret"
	chmod 640 "$T/hook.secret"
	secret_conf "secret_file = \"$T/hook.secret\""
	run "$PATRON" --db "$DB" --now $NOW deliver
	expect_rc 1
	expect_in "$T/err" "option secret_file: $T/hook.secret: readable by others (mode 640): a secret must be readable by its owner only"
	# Readable by its owner only: used, and never shown.
	chmod 600 "$T/hook.secret"
	run "$PATRON" --db "$DB" --now $NOW run "$T/rules" --verbose
	expect_rc 0
	expect_in "$T/out" "deliver: 5 sent"
	expect_eq "$(hooks 'all(r["signature_ok"] for r in rs)')" True
	"$PATRON" --db "$DB" --json outbox >"$T/json" 2>&1
	"$PATRON" --db "$DB" audit >"$T/audit" 2>&1
	for f in "$T/out" "$T/err" "$T/json" "$T/audit"; do
		grep -q "s3cr3t-value" "$f" && fail "the secret is in $(basename "$f")"
	done
	sqlite3 "$DB" .dump | grep -q "s3cr3t-value" && fail "the secret is in the store"
	stop_server http
	# The SMTP password likewise.
	cat >"$T/patron.conf" <<-CONF
	channels = { email = { plugin = "smtp", url = "smtp://127.0.0.1:1", from = "a@b.example",
	                       username = "shop", password = "hunter2" } }
	CONF
	run "$PATRON" --db "$DB" --now 2026-11-02 run "$T/rules"
	expect_rc 1
	expect_in "$T/err" "option password: a password does not belong in patron.conf"
	grep -q hunter2 "$T/err" && fail "the password is in the error"
	true
}

t_webhook_answers_decide_retry_or_failure() {
	shop
	port=$(free_port)
	export HOOK_SECRET=k
	# 503 twice: the first two messages wait for a retry, the rest go
	start_server http http_server.py --port "$port" --out "$T/hooks.jsonl" --fail-first 2
	hook_conf "$port"
	run "$PATRON" --db "$DB" --now $NOW run "$T/rules"
	expect_rc 0
	expect_in "$T/out" "deliver: 3 sent, 2 to retry"
	expect_eq "$(q "SELECT count(*) FROM outbox WHERE status = 'queued' AND last_error = 'server answered HTTP 503'")" 2
	run "$PATRON" --db "$DB" --now 2026-11-02 deliver
	expect_in "$T/out" "deliver: 2 sent"
	stop_server http
	# 400 is permanent
	start_server http http_server.py --port "$port" --out "$T/hooks.jsonl" --status 400
	"$PATRON" --db "$DB" --now 2026-11-03 run "$T/rules" >"$T/out" 2>&1 || true
	expect_in "$T/out" "deliver: 0 sent, 0 to retry, 5 failed"
	expect_eq "$(q "SELECT count(*) FROM events WHERE topic = 'message.failed'")" 5
	stop_server http
	# too slow: timed out, retried later
	start_server http http_server.py --port "$port" --out "$T/hooks.jsonl" --delay 3
	hook_conf "$port" "timeout = 1"
	run "$PATRON" --db "$DB" --now 2026-11-04 run "$T/rules"
	expect_rc 1
	expect_in "$T/err" "timed out"
	expect_eq "$(q "SELECT count(*) FROM outbox WHERE status = 'queued'")" 5
	stop_server http
}

t_an_sms_gateway_is_a_webhook_profile() {
	shop
	port=$(free_port)
	start_server http http_server.py --port "$port" --out "$T/hooks.jsonl"
	hook_conf "$port"
	q "INSERT INTO identities VALUES ('phone', '+15550001', 1)"
	q "INSERT INTO consent VALUES (1, 'sms', 1, 'test', 0)"
	printf 'Hi {{customer.first_name}}, {{vars.code}} is yours\n' >"$T/rules/templates/code.txt"
	cat >"$T/rules/offer.lua" <<-'LUA'
	rule { name = "sms", every = "1d", where = function(c) return c.phone ~= nil end,
	  act = function(c) send{ channel = "sms", to = c, template = "code", vars = { code = "X1" } } end }
	LUA
	run "$PATRON" --db "$DB" --now $NOW run "$T/rules"
	expect_rc 0
	expect_eq "$(hooks '[(r["path"], sorted(r["body"]), r["body"]["to"], r["body"]["text"]) for r in rs]')" \
		"[('/sms', ['id', 'text', 'to'], '+15550001', 'Hi Ada, X1 is yours\\n')]"
	stop_server http
}

t_the_default_channel_writes_files() {
	shop
	run "$PATRON" --db "$DB" --now $NOW run "$T/rules"
	expect_rc 0
	expect_in "$T/out" "deliver: 5 sent"
	expect_eq "$(ls "$T/outbox"/*.eml | wc -l)" 5
	expect_eq "$(wc -l <"$T/outbox/messages.jsonl")" 5
	f=$(ls "$T/outbox"/000001-*.eml)
	grep -Eq '^Message-ID: <[0-9a-f]{32}@localhost>' "$f" || fail "no opaque Message-ID in $f"
	# sent again (outbox retry after a crash, say): the file is not written twice
	q "UPDATE outbox SET status = 'queued' WHERE id = 1"
	"$PATRON" --db "$DB" --now $NOW deliver >/dev/null
	expect_eq "$(wc -l <"$T/outbox/messages.jsonl")" 5
}
