# What customers' messages are about: the two intent classifiers give the
# answers worked out by hand on a corpus of two words, learn the shipped
# examples well enough to be useful, label tickets as they arrive and hand
# the label to the rules.

NOW=2026-11-30T12:00:00

# mail FILE FROM SUBJECT BODY [MESSAGE-ID]
mail() {
	printf 'From: %s\nSubject: %s\nMessage-ID: <%s>\nDate: Mon, 30 Nov 2026 09:00:00 +0000\n\n%s\n' \
		"$2" "$3" "${5:-$(basename "$1")@example.com}" "$4" >"$1"
}

# Two texts, "a" (x) and "b" (y). Each has two features, its word and the
# 3-gram " a ", of idf ln(3/2) + 1 each, and each group scaled to length 1:
# x_a = {w:a: 1, c: a : 1}.
#  bayes: P(w:a | x) = (1 + 1) / (2 + 4 features) = 1/3, P(w:b | x) = 1/6, so
#    P(x | "a") = (1/2 (1/3)^2) / (1/2 (1/3)^2 + 1/2 (1/6)^2) = 0.8; "a b"
#    weighs both words alike: 0.5, and the tie goes to the first label.
#  linear: by symmetry w = (a, a, -a, -a), b = 0 for x, where a minimizes
#    2a^2 + 2 log(1 + exp(-2a)): a = sigmoid(-2a) = 0.337416, and
#    P(x | "a") = sigmoid(2a) = 0.662584.
t_the_classifiers_give_the_answers_worked_out_by_hand() {
	printf 'text,intent\na,x\nb,y\n' >"$T/tiny.csv"
	mail "$T/1.eml" one@example.com "" "a"
	mail "$T/2.eml" two@example.com "" "a b"
	"$PATRON" --db "$DB" init >/dev/null
	run "$PATRON" --db "$DB" --now $NOW train intents "$T/tiny.csv"
	expect_rc 0
	expect_in "$T/out" "intent: intent.bayes learnt from 2 texts"
	"$PATRON" --db "$DB" --now $NOW import inbox "$T/1.eml" "$T/2.eml" >/dev/null
	expect_eq "$(q "SELECT intent || ' ' || round(confidence, 6) FROM tickets ORDER BY id")" \
		"x 0.8
x 0.5"
	# The same with the linear model chosen in patron.conf
	rm -f "$DB"*
	echo 'intent = "linear"' >"$T/patron.conf"
	"$PATRON" --db "$DB" init >/dev/null
	run "$PATRON" --db "$DB" --now $NOW train intents "$T/tiny.csv"
	expect_rc 0
	expect_in "$T/out" "intent: intent.linear learnt from 2 texts"
	"$PATRON" --db "$DB" --now $NOW import inbox "$T/1.eml" >/dev/null
	expect_eq "$(q "SELECT intent || ' ' || round(confidence, 5) FROM tickets")" "x 0.66258"
}

t_the_shipped_examples_are_learnt_and_measured() {
	head -1 "$ROOT/examples/intents.csv" >"$T/train.csv"
	head -1 "$ROOT/examples/intents.csv" >"$T/test.csv"
	tail -n +2 "$ROOT/examples/intents.csv" | head -192 >>"$T/train.csv"
	tail -n +194 "$ROOT/examples/intents.csv" >>"$T/test.csv"
	expect_eq "$(($(wc -l <"$T/test.csv") - 1))" 48
	"$PATRON" --db "$DB" init >/dev/null
	for plugin in bayes linear; do
		run "$PATRON" --db "$DB" --now $NOW train intents "$T/train.csv" --plugin $plugin
		expect_rc 0
		run "$PATRON" --db "$DB" --now $NOW --json eval intents --test "$T/test.csv" --plugin $plugin
		expect_rc 0
		# eight labels, each of them in the test set; useful answers
		expect_eq "$(jq -r '.labels | length' "$T/out")" 8
		expect_eq "$(jq -r '[.confusion[][]] | add' "$T/out")" 48
		expect_eq "$(jq -r '.macro_f1 >= 0.6 and .accuracy >= 0.6' "$T/out")" true "$plugin"
		f1=$(jq -r '[.per_label[].f1] | add / length' "$T/out")
		expect_eq "$(jq -r --argjson f "$f1" '(.macro_f1 - $f) | fabs < 1e-9' "$T/out")" true
	done
	run "$PATRON" --db "$DB" --now $NOW eval intents --test "$T/test.csv"
	expect_in "$T/out" "intent: intent.bayes 1.0 on 48 texts of $T/test.csv: accuracy"
	expect_in "$T/out" "confusion (rows: the true label, columns: the answer"
	# bad files are named with their line
	printf 'text,intent\nWhere is my order?,order_status\nRefund please,\n' >"$T/bad.csv"
	run "$PATRON" --db "$DB" train intents "$T/bad.csv"
	expect_rc 1
	expect_in "$T/err" "bad.csv:3: column \"intent\": expected its intent, such as order_status"
	printf 'message,label\nhello,other\n' >"$T/one.csv"
	run "$PATRON" --db "$DB" train intents "$T/one.csv"
	expect_rc 1
	expect_in "$T/err" "the texts carry 1 label: at least two are needed"
	printf 'words,kind\nhello,other\n' >"$T/cols.csv"
	run "$PATRON" --db "$DB" train intents "$T/cols.csv"
	expect_rc 1
	expect_in "$T/err" "cols.csv:1: expected the columns text and intent"
	run "$PATRON" --db "$DB" train intents
	expect_rc 2
}

t_tickets_are_labelled_and_rules_see_the_intent() {
	mail "$T/1.eml" ada@example.com "Order" "Where is my order #1042? It has not arrived yet."
	# Before any training: imported all the same, and said
	run "$PATRON" --db "$DB" --now $NOW import inbox "$T/1.eml"
	expect_rc 0
	expect_in "$T/out" "what each message is about is not known yet: patron train intents"
	expect_eq "$(q "SELECT intent IS NULL FROM tickets")" 1
	# Training labels the open ticket
	run "$PATRON" --db "$DB" --now $NOW train intents "$ROOT/examples/intents.csv"
	expect_rc 0
	expect_in "$T/out" "1 open tickets labelled"
	expect_eq "$(q "SELECT intent FROM tickets")" order_status
	# and the next message is labelled as it arrives, for the rules
	mail "$T/2.eml" bob@example.com "Newsletter" "Please unsubscribe me, stop sending me emails"
	"$PATRON" --db "$DB" --now $NOW import inbox "$T/2.eml" >/dev/null
	expect_eq "$(q "SELECT json_extract(payload, '$.intent') FROM events WHERE topic = 'inquiry.received' ORDER BY id DESC LIMIT 1")" unsubscribe
	mkdir -p "$T/rules"
	cat >"$T/rules/r.lua" <<-'LUA'
	rule { name = "intents", on = "inquiry.received",
	  where = function(c, e) return e.intent == "unsubscribe" and e.intent_confidence > 0.2 end,
	  act = function(c, e) tag(c, "wants-out") end }
	LUA
	run "$PATRON" --db "$DB" --now $NOW run "$T/rules"
	expect_rc 0
	expect_eq "$(q "SELECT i.value FROM tags t JOIN identities i ON i.customer_id = t.customer_id WHERE t.tag = 'wants-out'")" bob@example.com
	run "$PATRON" --db "$DB" --now $NOW inbox
	expect_in "$T/out" '"Order" (1 message, order_status)'
	# intent = false: nothing is labelled
	echo 'intent = false' >"$T/patron.conf"
	mail "$T/3.eml" cy@example.com "Returns" "How do I return a cup?"
	run "$PATRON" --db "$DB" --now $NOW import inbox "$T/3.eml"
	expect_rc 0
	expect_eq "$(q "SELECT intent IS NULL FROM tickets WHERE subject = 'Returns'")" 1
}

# auto_reply: a shipping question answered at once from the FAQ; an order's
# state suggested for approval, then sent; a customer who withdrew consent
# gets a draft, not an email.
t_questions_are_answered_from_the_faq_and_the_orders() {
	mkdir -p "$T/faq"
	cat >"$T/faq/shipping.md" <<-'MD'
	# How long does shipping take?
	- How long does delivery take?
	- Do you ship to Canada?

	Hello {{first_name | "there"}}, shipping takes 3 to 5 working days.
	MD
	cat >"$T/faq/returns.md" <<-'MD'
	# How do I return an item?
	- Can I send it back?

	Returns are free within 30 days.
	MD
	cat >"$T/patron.conf" <<-'CONF'
	currency = "EUR"
	channels = { email = { from = "Shop Help <help@shop.example>" } }
	auto_reply = { shipping = "send", order_status = "draft", confidence = 0.3 }
	CONF
	printf 'order_id,email,first_name,created_at,total,currency\n#1042,ada@example.com,Ada,2026-11-20,45.00,EUR\n' >"$T/o.csv"
	printf 'email,consent\nbob@example.com,no\n' >"$T/c.csv"
	"$PATRON" --db "$DB" --now $NOW import orders "$T/o.csv" >/dev/null
	"$PATRON" --db "$DB" --now $NOW import customers "$T/c.csv" >/dev/null
	"$PATRON" --db "$DB" --now $NOW train intents "$ROOT/examples/intents.csv" >/dev/null
	mail "$T/1.eml" "Ada <ada@example.com>" "Delivery" "How long does delivery to Canada take?"
	mail "$T/2.eml" "Ada <ada@example.com>" "Order" "Where is my order #1042? It has not arrived."
	mail "$T/3.eml" bob@example.com "Shipping" "How long does shipping take to Canada?"
	run "$PATRON" --db "$DB" --now $NOW import inbox "$T/1.eml" "$T/2.eml" "$T/3.eml"
	expect_rc 0
	expect_in "$T/out" "1 answered at once, 0 suggested answers waiting"
	expect_eq "$(grep -c 'suggested answers waiting' "$T/out")" 3
	# Ada's shipping question: answered from faq/shipping.md, threaded, audited
	expect_eq "$(q "SELECT t.intent, t.status, o.rule FROM tickets t JOIN ticket_messages m ON m.ticket_id = t.id AND m.direction = 'out' JOIN outbox o ON o.id = m.outbox_id WHERE t.id = 1")" \
		"shipping|waiting|inbox.auto_reply"
	expect_eq "$(q "SELECT body FROM ticket_messages WHERE ticket_id = 1 AND direction = 'out'")" \
		"Hello Ada, shipping takes 3 to 5 working days."
	expect_eq "$(q "SELECT count(*) FROM audit WHERE rule = 'inbox.auto_reply' AND action = 'reply'")" 1
	# Bob withdrew email consent: the same answer waits as a draft
	expect_eq "$(q "SELECT draft_source FROM tickets WHERE id = 3")" "faq:shipping"
	expect_eq "$(q "SELECT count(*) FROM outbox WHERE customer_id = (SELECT customer_id FROM tickets WHERE id = 3)")" 0
	# Ada's order question: her order's state, for approval
	expect_eq "$(q "SELECT draft_source, draft FROM tickets WHERE id = 2")" "order_status|Hello Ada,

your order #1042 of 2026-11-20 (45.00 EUR) is paid."
	run "$PATRON" --db "$DB" --now $NOW ticket 2
	expect_in "$T/out" "a suggested answer waits for your approval (order_status"
	run "$PATRON" --db "$DB" --now $NOW --json ticket 1
	expect_eq "$(jq -r '.suggestions[0].faq + " " + (.suggestions[0].score > 0 | tostring)' "$T/out")" "shipping true"
	run "$PATRON" --db "$DB" --now $NOW ticket 2 --approve --send
	expect_rc 0
	expect_in "$T/out" "ticket 2: the suggested answer queued as message"
	expect_in "$T/out" "deliver: 2 sent"
	grep -l "your order #1042" "$T"/outbox/*.eml >/dev/null || fail "the approved answer was not sent"
	expect_eq "$(q "SELECT status, draft IS NULL FROM tickets WHERE id = 2")" "waiting|1"
	run "$PATRON" --db "$DB" --now $NOW ticket 2 --approve
	expect_rc 1
	expect_in "$T/err" "ticket 2 has no suggested answer waiting"
	# the frequency cap: Ada has had two messages; a third question waits as a draft
	cat >>"$T/patron.conf" <<-'CONF'
	frequency_cap = { messages = 2, per = "7d" }
	CONF
	mail "$T/4.eml" "Ada <ada@example.com>" "Delivery again" "How long does delivery to Canada take?"
	run "$PATRON" --db "$DB" --now $NOW import inbox "$T/4.eml"
	expect_in "$T/out" "0 answered at once, 1 suggested answers waiting"
	# an order-status question from someone with no order: faq/order_status.md
	# only words an order's state, so it is never the answer then (its fields
	# would be empty); another FAQ entry may be
	cp "$ROOT/examples/faq/order_status.md" "$T/faq/"
	mail "$T/5.eml" "Cy <cy@example.com>" "My order" "Where is my order? It has not arrived."
	"$PATRON" --db "$DB" --now $NOW import inbox "$T/5.eml" >/dev/null
	expect_eq "$(q "SELECT intent, coalesce(draft_source, '') <> 'faq:order_status' FROM tickets WHERE subject = 'My order'")" "order_status|1"
	# a bad auto_reply is named
	echo 'auto_reply = { shipping = "maybe" }' >"$T/patron.conf"
	run "$PATRON" --db "$DB" --now $NOW import inbox "$T/1.eml"
	expect_rc 1
	expect_in "$T/err" 'auto_reply.shipping: expected { INTENT = "off", "draft" or "send"'
}

# A rule answers from the FAQ with reply{}: threaded, kept in the ticket,
# refused for a customer who withdrew consent.
t_a_rule_answers_a_ticket_from_the_faq() {
	mkdir -p "$T/faq" "$T/rules"
	cp "$ROOT/examples/faq/"*.md "$T/faq/"
	printf 'channels = { email = { from = "Shop <help@shop.example>" } }\n' >"$T/patron.conf"
	cat >"$T/rules/r.lua" <<-'LUA'
	rule { name = "answer", on = "inquiry.received",
	  act = function(c, e) reply{ ticket = e.ticket, faq = "shipping" } end }
	LUA
	printf 'email,consent\nbob@example.com,no\n' >"$T/c.csv"
	"$PATRON" --db "$DB" --now $NOW import customers "$T/c.csv" >/dev/null
	mail "$T/1.eml" "Ada Lovelace <ada@example.com>" "Parcel" "When will my parcel arrive?"
	mail "$T/2.eml" bob@example.com "Parcel" "When will my parcel arrive?"
	"$PATRON" --db "$DB" --now $NOW import inbox "$T/1.eml" "$T/2.eml" >/dev/null
	run "$PATRON" --db "$DB" --now $NOW run "$T/rules" -v
	expect_rc 0
	expect_in "$T/out" "[answer] reply to ticket 1"
	expect_in "$T/out" "refuse reply to ticket 2"
	expect_in "$T/out" "consent for email withdrawn"
	expect_in "$T/out" "deliver: 1 sent"
	eml=$(ls "$T"/outbox/*.eml)
	expect_in "$eml" "In-Reply-To: <1.eml@example.com>"
	expect_in "$eml" "Hello Ada,"
	expect_eq "$(q "SELECT status FROM tickets ORDER BY id")" "waiting
open"
	expect_eq "$(q "SELECT rule FROM audit WHERE action = 'reply' AND status = 'done'")" answer
	# a FAQ entry that is not there is the rule's error, named
	sed -i 's/faq = "shipping"/faq = "nothing"/' "$T/rules/r.lua"
	mail "$T/3.eml" cy@example.com "Parcel" "Hello?"
	"$PATRON" --db "$DB" --now $NOW import inbox "$T/3.eml" >/dev/null
	run "$PATRON" --db "$DB" --now $NOW run "$T/rules"
	expect_in "$T/err" "reply: faq: no faq/nothing.md"
}
