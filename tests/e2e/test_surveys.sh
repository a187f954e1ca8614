# Satisfaction surveys end to end: a solved ticket sends an NPS survey
# through a rule; the customer's click on a signed link (patron serve on
# 127.0.0.1) records the score, a changed score is refused; the score
# reaches the rules as c.nps; answers given another way and from CSV; the
# summary names the detractors.

NOW=2026-11-30T12:00:00

# get URL: the status in $CODE, the page in $T/page
get() {
	CODE=$(curl -s -o "$T/page" -w '%{http_code}' "$@")
}

t_a_solved_ticket_asks_for_a_score_and_the_answer_comes_back() {
	printf 'email,first_name,consent\nada@example.com,Ada,yes\n' >"$T/c.csv"
	"$PATRON" --db "$DB" --now $NOW import customers "$T/c.csv" >/dev/null
	printf 'From: ada@example.com\nSubject: Lid\nMessage-ID: <a1@x>\n\nThe lid is missing.\n' >"$T/1.eml"
	"$PATRON" --db "$DB" --now $NOW import inbox "$T/1.eml" >/dev/null
	start_serve
	cat >"$T/patron.conf" <<-CONF
	public_url = "$URL"
	channels = { email = { from = "Shop <help@shop.example>" } }
	CONF
	mkdir -p "$T/rules/templates"
	printf 'How did we do?\n' >"$T/rules/templates/nps.subject"
	printf 'How likely are you to recommend us?\n{{#survey.links}}{{score}}: {{url}}\n{{/survey.links}}Or answer with a number; your reference: {{survey.token}}\n' \
		>"$T/rules/templates/nps.txt"
	cat >"$T/rules/survey.lua" <<-'LUA'
	rule { name = "nps after a solved ticket", on = "ticket.solved",
	  act = function(c, e) send{ channel = "email", to = c, template = "nps",
	    vars = { survey = "nps", ticket = e.data.ticket } } end }
	rule { name = "thank promoters", on = "survey.answered",
	  where = function(c, e) return c.nps ~= nil and c.nps >= 9 and e.category == "promoter" end,
	  act = function(c, e) tag(c, "promoter") end }
	LUA
	"$PATRON" --db "$DB" --now $NOW ticket 1 --solve >/dev/null
	run "$PATRON" --db "$DB" --now $NOW run "$T/rules"
	expect_rc 0
	expect_in "$T/out" "deliver: 1 sent"
	text=$(tr -d '\r' <"$T"/outbox/*.eml)
	link3=$(grep '^3: ' <<<"$text" | cut -c4-)
	link10=$(grep '^10: ' <<<"$text" | cut -c5-)
	expect_eq "$(grep -c ": $URL/s/" <<<"$text")" 11 "one link per score, 0 to 10"
	# opening the link shows the score it signs and records nothing (a mail
	# scanner opens every link); sending the page's form records it
	get "$link3"
	expect_eq "$CODE" 200
	expect_in "$T/page" "<h1>Your answer: 3</h1>"
	expect_in "$T/page" "<form method=\"post\" action=\"/s/${link3##*/s/}\">"
	expect_eq "$(q "SELECT count(*) FROM survey_answers")" 0
	get -X POST -d "comment=" "$link3"
	expect_eq "$CODE" 200
	expect_in "$T/page" "Your answer, 3, is recorded."
	expect_eq "$(q "SELECT kind, score, source, ticket_id FROM survey_answers")" "nps|3|link|1"
	expect_eq "$(q "SELECT value, model FROM scores WHERE name = 'nps'")" "3.0|survey"
	expect_eq "$(q "SELECT json_extract(payload, '$.category') FROM events WHERE topic = 'survey.answered'")" detractor
	# a changed score, or a token cut short, is refused and changes nothing
	token3=${link3##*/s/}
	get "$URL/s/${token3/.3./.10.}"
	expect_eq "$CODE" 404
	get -X POST -d "comment=" "$URL/s/${token3/.3./.10.}"
	expect_eq "$CODE" 404
	get "$URL/s/${token3%?}"
	expect_eq "$CODE" 404
	expect_eq "$(q "SELECT score FROM survey_answers")" 3
	# a comment from the thank-you page
	get -X POST --data-urlencode "comment=The lid <b>never</b> came" "$link3"
	expect_eq "$CODE" 200
	expect_in "$T/page" "Your answer, 3, is recorded."
	expect_eq "$(q "SELECT comment FROM survey_answers")" "The lid <b>never</b> came"
	# (the server answers by the clock: the summary reads it as of now)
	run "$PATRON" --db "$DB" survey
	expect_in "$T/out" "NPS   -100 (1 answers"
	expect_in "$T/out" "ada@example.com                 3"
	# Ada thinks again and sends 10: the latest answer counts, and the rules see it
	get -X POST -d "comment=" "$link10"
	expect_eq "$CODE" 200
	expect_eq "$(q "SELECT count(*), max(score) FROM survey_answers")" "1|10"
	run "$PATRON" --db "$DB" run "$T/rules"
	expect_eq "$(q "SELECT tag FROM tags")" promoter
	run "$PATRON" --db "$DB" --json survey
	expect_eq "$(jq -r '.nps, (.detractors | length)' "$T/out" | tr '\n' ' ')" "100 0 "
	# an answer by email, recorded with the reference
	ref=$(sed -n 's/.*your reference: //p' <<<"$text")
	run "$PATRON" --db "$DB" --now $NOW survey record "$ref" 8
	expect_rc 0
	expect_eq "$(q "SELECT score, source FROM survey_answers")" "8|cli"
	run "$PATRON" --db "$DB" --now $NOW survey record "${ref%?}x" 8
	expect_rc 1
	expect_in "$T/err" "is not a survey token of this store"
	run "$PATRON" --db "$DB" --now $NOW survey record "$token3" 9
	expect_rc 1
	expect_in "$T/err" "the token says 3, not 9"
	run "$PATRON" --db "$DB" --now $NOW survey record "$ref" 11
	expect_rc 2
}

t_answers_import_from_csv_and_bad_rows_are_named() {
	printf 'email\nada@example.com\nbob@example.com\n' >"$T/c.csv"
	"$PATRON" --db "$DB" --now $NOW import customers "$T/c.csv" >/dev/null
	printf 'email,score,kind,date,comment\nada@example.com,9,nps,2026-11-20,\nbob@example.com,2,csat,2026-11-21,Too slow\nbob@example.com,4,nps,2026-11-22,\n' >"$T/a.csv"
	run "$PATRON" --db "$DB" --now $NOW survey import "$T/a.csv"
	expect_rc 0
	expect_in "$T/out" "a.csv: 3 answers"
	expect_eq "$(q "SELECT group_concat(name || '=' || value, ' ') FROM (SELECT * FROM scores WHERE name IN ('nps', 'csat') ORDER BY customer_id, name)")" "nps=9.0 csat=2.0 nps=4.0"
	run "$PATRON" --db "$DB" --now $NOW --json survey
	# one promoter, one detractor: 0; CSAT 0 % satisfied
	expect_eq "$(jq -r '.nps, .csat, .detractors[0].email' "$T/out" | tr '\n' ' ')" "0 0 bob@example.com "
	# the report: NPS per month and the detractor to follow up
	run "$PATRON" --db "$DB" --now $NOW report --out "$T/r.html"
	expect_rc 0
	expect_in "$T/r.html" '<section id="service"><h2>Customer service</h2>'
	expect_in "$T/r.html" "Net Promoter Score per month"
	expect_in "$T/r.html" "<td>bob@example.com</td>"
	grep -q "<td>ada@example.com</td>" "$T/r.html" && fail "a promoter listed as a detractor"
	printf 'email,score\nada@example.com,12\n' >"$T/bad.csv"
	run "$PATRON" --db "$DB" --now $NOW survey import "$T/bad.csv"
	expect_rc 1
	expect_in "$T/err" "bad.csv:2: a nps answer is a score from 0 to 10, got 12"
	printf 'email,score\nnobody@example.com,5\n' >"$T/who.csv"
	run "$PATRON" --db "$DB" --now $NOW survey import "$T/who.csv"
	expect_rc 1
	expect_in "$T/err" 'who.csv:2: no customer "nobody@example.com"'
	expect_eq "$(q "SELECT count(*) FROM survey_answers")" 3
}

# The shipped example rules: a solved ticket asks for a score; a promoter is
# asked for a review, a detractor tagged for a call.
t_the_example_satisfaction_rules_work() {
	printf 'email,first_name,consent\nada@example.com,Ada,yes\nbob@example.com,Bob,yes\n' >"$T/c.csv"
	"$PATRON" --db "$DB" --now $NOW import customers "$T/c.csv" >/dev/null
	printf 'From: ada@example.com\nSubject: Lid\nMessage-ID: <a1@x>\n\nThe lid is missing.\n' >"$T/1.eml"
	printf 'From: bob@example.com\nSubject: Mug\nMessage-ID: <b1@x>\n\nThe mug is chipped.\n' >"$T/2.eml"
	"$PATRON" --db "$DB" --now $NOW import inbox "$T/1.eml" "$T/2.eml" >/dev/null
	mkdir -p "$T/rules"
	cp "$ROOT/examples/rules/satisfaction.lua" "$T/rules/"
	cp -r "$ROOT/examples/rules/templates" "$T/rules/"
	"$PATRON" --db "$DB" --now $NOW ticket 1 --solve >/dev/null
	"$PATRON" --db "$DB" --now $NOW ticket 2 --solve >/dev/null
	run "$PATRON" --db "$DB" --now $NOW run "$T/rules"
	expect_rc 0
	expect_in "$T/out" "deliver: 2 sent"
	for who in ada bob; do
		f=$(grep -l "To: .*$who@example.com" "$T"/outbox/*.eml)
		eval "ref_$who=\$(tr -d '\\r' <\"\$f\" | sed -n 's/.*your reference is \\(.*\\)\\.\$/\\1/p')"
	done
	[ -n "$ref_ada" ] && [ -n "$ref_bob" ] || fail "no survey reference in the emails"
	"$PATRON" --db "$DB" --now $NOW survey record "$ref_ada" 10 >/dev/null
	"$PATRON" --db "$DB" --now $NOW survey record "$ref_bob" 3 --comment "Slow answer" >/dev/null
	run "$PATRON" --db "$DB" --now $NOW run "$T/rules"
	expect_rc 0
	expect_eq "$(q "SELECT json_extract(detail, '$.message') FROM audit WHERE rule = 'follow up on detractors' AND action = 'log'")" \
		"customer 2 scored us 3: Slow answer"
	expect_eq "$(q "SELECT template FROM outbox o JOIN identities i ON i.customer_id = o.customer_id WHERE i.value = 'ada@example.com' ORDER BY o.id DESC LIMIT 1")" review_request
	expect_eq "$(q "SELECT i.value FROM tags t JOIN identities i ON i.customer_id = t.customer_id WHERE t.tag = 'detractor'")" bob@example.com
}
