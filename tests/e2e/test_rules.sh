# Rules end to end: patron run, --dry-run, rules check, the audit, the
# outbox, consent, cooldown, the frequency cap, budgets and a kill -9.

NOW=2026-11-01

# Four customers, as of 2026-11-01:
#   ada  consents, spent 300, last order 90 days ago  -> lapsed VIP
#   bob  refused,  spent 400, last order 100 days ago -> lapsed VIP, no consent
#   cy   consents, spent 50,  last order 10 days ago
#   dee  consents, no orders, birthday on 11-01
rules_store() {
	cat >"$T/customers.csv" <<-CSV
	email,first_name,accepts_marketing,birthday
	ada@example.com,Ada,yes,1990-03-04
	bob@example.com,Bob,no,1985-06-07
	cy@example.com,Cy,yes,1979-12-12
	dee@example.com,Dee,yes,1992-11-01
	CSV
	cat >"$T/orders.csv" <<-CSV
	order_id,email,created_at,sku,quantity,price
	1,ada@example.com,2026-08-03,SKU-1,1,300
	2,bob@example.com,2026-07-24,SKU-1,1,400
	3,cy@example.com,2026-10-22,SKU-2,1,50
	CSV
	"$PATRON" --db "$DB" --now $NOW import customers "$T/customers.csv" >/dev/null
	"$PATRON" --db "$DB" --now $NOW import orders "$T/orders.csv" >/dev/null
	mkdir -p "$T/rules/templates"
	printf 'Subject: We miss you\n\nHello {{customer.first_name}}\n' >"$T/rules/templates/winback.txt"
	printf 'Subject: Hi\n\nHi\n' >"$T/rules/templates/hello.txt"
}

vip_rule() {
	cat >"$T/rules/vip.lua" <<-'LUA'
	rule { name = "lapsed VIPs", every = "1d",
	  where = function(c)
	    return c.total_spent >= 200 and c.days_since_last_order ~= nil
	       and c.days_since_last_order > 60
	  end,
	  act = function(c) send{ channel = "email", to = c, template = "winback",
	                          vars = { discount = "15%" } } end,
	  cooldown = "30d" }
	LUA
}

t_dry_run_shows_whom_and_why_and_changes_nothing() {
	rules_store
	vip_rule
	run "$PATRON" --db "$DB" --now $NOW run "$T/rules" --dry-run
	expect_rc 0
	expect_in "$T/out" '[lapsed VIPs] would send email "winback" to ada@example.com (customer 1) because total_spent=300.0 days_since_last_order=90'
	expect_in "$T/out" '[lapsed VIPs] would refuse email "winback" to bob@example.com (customer 2): no consent for email'
	expect_in "$T/out" 'lapsed VIPs: 4 customers checked, 2 matched, 1 acted (1 send); 1 refused (no consent for email)'
	grep -q 'cy@example.com' "$T/out" && fail "cy does not match"
	expect_eq "$(q 'SELECT (SELECT count(*) FROM audit) + (SELECT count(*) FROM outbox) + (SELECT count(*) FROM schedules)')" 0
}

t_a_run_queues_once_and_runs_again_do_nothing_twice() {
	rules_store
	vip_rule
	run "$PATRON" --db "$DB" --now $NOW run "$T/rules"
	expect_rc 0
	# queued, then delivered at the end of the run (to outbox/ by default)
	expect_eq "$(q "SELECT address || ' ' || template || ' ' || vars || ' ' || status FROM outbox")" \
		'ada@example.com winback {"discount":"15%"} sent'
	expect_in "$T/out" "deliver: 1 sent"
	expect_eq "$(ls "$T/outbox" | grep -c 'eml$')" 1
	expect_eq "$(q "SELECT action || ' ' || status || ' ' || coalesce(reason, '') FROM audit ORDER BY customer_id")" \
		"send done 
send refused no consent for email"
	expect_eq "$(q "SELECT json_extract(detail, '\$.why.days_since_last_order') FROM audit WHERE customer_id = 1")" 90
	# the same --now: not due
	run "$PATRON" --db "$DB" --now $NOW run "$T/rules"
	expect_in "$T/out" "lapsed VIPs: not due (every 1d)"
	# the next day: due, but ada is in her cooldown
	run "$PATRON" --db "$DB" --now 2026-11-02 run "$T/rules"
	expect_in "$T/out" "1 in cooldown"
	expect_eq "$(q 'SELECT count(*) FROM outbox')" 1
	# a month later she is sent again
	run "$PATRON" --db "$DB" --now 2026-12-05 run "$T/rules"
	expect_eq "$(q 'SELECT count(*) FROM outbox')" 2
	run "$PATRON" --db "$DB" outbox --json
	expect_in "$T/out" '"to": "ada@example.com"'
	run "$PATRON" --db "$DB" audit --customer bob@example.com
	expect_in "$T/out" "refused: no consent for email"
}

t_event_rules_see_each_event_once_in_order() {
	rules_store
	cat >"$T/rules/plan.lua" <<-'LUA'
	rule { name = "plan changes", on = "plan.*",
	  act = function(c, e) log(e.topic, e.data.plan) ; set(c, "plan", e.data.plan) end }
	LUA
	"$PATRON" --db "$DB" --now $NOW emit plan.started --customer ada@example.com --data '{"plan":"basic"}' >/dev/null
	"$PATRON" --db "$DB" --now $NOW emit plan.changed --customer ada@example.com --data '{"plan":"pro"}' >/dev/null
	"$PATRON" --db "$DB" --now $NOW emit other.thing --customer ada@example.com >/dev/null
	run "$PATRON" --db "$DB" --now $NOW run "$T/rules" --verbose
	expect_rc 0
	expect_in "$T/out" "plan changes: 2 events, 2 matched, 2 acted (2 set, 2 log)"
	expect_eq "$(q "SELECT json_extract(detail, '\$.message') FROM audit WHERE action = 'log' ORDER BY id")" \
		"plan.started basic
plan.changed pro"
	expect_eq "$(q "SELECT value FROM attributes WHERE name = 'plan'")" pro
	run "$PATRON" --db "$DB" --now $NOW run "$T/rules"
	expect_in "$T/out" "plan changes: 0 events"
	"$PATRON" --db "$DB" --now $NOW emit plan.cancelled --customer ada@example.com --data '{"plan":"none"}' >/dev/null
	run "$PATRON" --db "$DB" --now $NOW run "$T/rules"
	expect_in "$T/out" "plan changes: 1 events, 1 matched, 1 acted"
	expect_eq "$(q "SELECT value FROM attributes WHERE name = 'plan'")" none
}

t_imported_events_reach_rules_and_bad_lines_are_named() {
	rules_store
	cat >"$T/rules/visit.lua" <<-'LUA'
	rule { name = "tag visitors", on = "page.viewed",
	  where = function(c, e) return e.data.url == "/pricing" end,
	  act = function(c) tag(c, "pricing-visitor") end }
	LUA
	printf '{"topic":"page.viewed","customer":"ada@example.com","data":{"url":"/pricing"}}\n{"topic":"page.viewed","customer":"cy@example.com","data":{"url":"/blog"}}\n' >"$T/ev.jsonl"
	run "$PATRON" --db "$DB" --now $NOW import events "$T/ev.jsonl"
	expect_rc 0
	expect_in "$T/out" "2 events"
	printf 'topic,customer,url\npage.viewed,nobody@example.com,/x\n' >"$T/bad.csv"
	run "$PATRON" --db "$DB" --now $NOW import events "$T/bad.csv"
	expect_rc 1
	expect_in "$T/err" 'bad.csv:2: customer: no customer "nobody@example.com" in the store'
	expect_eq "$(q "SELECT count(*) FROM events WHERE topic = 'page.viewed'")" 2
	run "$PATRON" --db "$DB" --now $NOW run "$T/rules"
	expect_eq "$(q "SELECT customer_id FROM tags WHERE tag = 'pricing-visitor'")" 1
	run "$PATRON" --db "$DB" events --topic 'page.*'
	expect_in "$T/out" '{"url":"/pricing"}'
}

t_syntax_and_shape_errors_name_file_and_line() {
	mkdir -p "$T/r"
	printf 'rule { name = "x", every = "1d",\n  act = function(c) if then end end }\n' >"$T/r/syntax.lua"
	run "$PATRON" rules check "$T/r/syntax.lua"
	expect_rc 1
	expect_in "$T/err" "syntax.lua:2: unexpected symbol near 'then'"
	printf '\n\nrule { name = "both", on = "order.created", every = "1d", act = function() end }\n' >"$T/r/shape.lua"
	run "$PATRON" rules check "$T/r/shape.lua"
	expect_in "$T/err" 'shape.lua:3: rule "both": expected one trigger'
	printf 'rule { name = "w", every = "1d", act = function() end, wher = 1 }\n' >"$T/r/key.lua"
	run "$PATRON" rules check "$T/r/key.lua"
	expect_in "$T/err" "key.lua:1: rule: unknown key wher"
	printf 'rule { name = "d", every = "often", act = function() end }\n' >"$T/r/dur.lua"
	run "$PATRON" rules check "$T/r/dur.lua"
	expect_in "$T/err" 'dur.lua:1: rule every: expected a duration like "30d"'
	printf '\033Lua binary' >"$T/r/binary.lua"
	run "$PATRON" rules check "$T/r/binary.lua"
	expect_rc 1
	expect_in "$T/err" "binary.lua: a precompiled (binary) chunk; rule files are Lua text"
	printf 'rule { name = "ok", on = "order.*", act = function() end }\n' >"$T/r/ok.lua"
	run "$PATRON" rules check "$T/r/ok.lua"
	expect_rc 0
	expect_in "$T/out" "ok (${T}/r/ok.lua:1): on order.*"
}

t_a_failing_rule_is_named_and_the_others_still_run() {
	rules_store
	cat >"$T/rules/bad.lua" <<-'LUA'
	rule { name = "broken", every = "1d",
	  where = function(c) return c.orders > 0 and c.nothing.here end,
	  act = function(c) end }
	rule { name = "fine", every = "1d", act = function(c) tag(c, "seen") end }
	LUA
	run "$PATRON" --db "$DB" --now $NOW run "$T/rules"
	expect_rc 1
	expect_in "$T/err" "rule \"broken\", customer 1: where failed: $T/rules/bad.lua:2: attempt to index a nil value (field 'nothing')"
	expect_in "$T/out" "broken: 4 customers checked, 0 matched, 0 acted; 3 errors"
	expect_eq "$(q "SELECT count(*) FROM tags WHERE tag = 'seen'")" 4
	expect_eq "$(q "SELECT count(*) FROM audit WHERE rule = 'broken' AND status = 'error'")" 3
}

t_runaway_rules_are_stopped_and_leave_nothing() {
	rules_store
	cat >"$T/rules/runaway.lua" <<-'LUA'
	rule { name = "loop", every = "1d", where = function(c) while true do end end,
	  act = function(c) end }
	rule { name = "sneaky loop", every = "1d",
	  where = function(c) while true do pcall(function() while true do end end) end end,
	  act = function(c) end }
	rule { name = "bomb", every = "1d",
	  where = function(c) local t, x = {}, string.rep("x", 4096) for i = 1, 1e9 do t[i] = x .. i end end,
	  act = function(c) end }
	rule { name = "hoarder", every = "1d",
	  where = function(c) hoard = hoard or {} hoard[#hoard + 1] = string.rep("y", 20000000) end,
	  act = function(c) end }
	rule { name = "tag then loop", every = "1d",
	  act = function(c) tag(c, "half") while true do end end }
	rule { name = "fine", every = "1d", act = function(c) tag(c, "seen") end }
	LUA
	run "$PATRON" --db "$DB" --now $NOW run "$T/rules"
	expect_rc 1
	expect_in "$T/out" "loop: 1 customers checked, 0 matched, 0 acted; 1 errors; STOPPED for this run (nothing kept, still due): $T/rules/runaway.lua:1: stopped after 1000000 instructions"
	expect_in "$T/out" "sneaky loop: 1 customers checked"
	expect_in "$T/out" "bomb: 1 customers checked, 0 matched, 0 acted; 1 errors; STOPPED for this run (nothing kept, still due): $T/rules/runaway.lua:6: used more than 64 MiB"
	# 20 MB kept per call: the cap counts what earlier calls left behind
	expect_in "$T/out" "hoarder: 3 customers checked, 0 matched, 0 acted; 1 errors; STOPPED"
	expect_eq "$(q "SELECT count(*) FROM tags WHERE tag = 'half'")" 0
	expect_eq "$(q "SELECT count(*) FROM tags WHERE tag = 'seen'")" 4
	# the stopped rules are still due; the fine one is not
	expect_eq "$(q "SELECT group_concat(name) FROM schedules")" "rule:fine"
}

t_the_sandbox_refuses_io_os_require_and_load() {
	rules_store
	# Named in the text: refused when the file is loaded, by run and by
	# rules check alike, with file and line; each file on its own.
	mkdir -p "$T/esc"
	printf 'rule { name = "io", every = "1d", where = function(c) return io.open("/etc/passwd") end, act = function() end }\n' >"$T/esc/io.lua"
	printf '\nrule { name = "exec", every = "1d", where = function(c) return os.execute("touch /tmp/patron-escaped") end, act = function() end }\n' >"$T/esc/exec.lua"
	printf 'rule { name = "require", every = "1d", where = function(c) return require("io") end, act = function() end }\n' >"$T/esc/require.lua"
	printf 'rule { name = "load", every = "1d", where = function(c) return load("return 1") end, act = function() end }\n' >"$T/esc/load.lua"
	printf 'rule { name = "dump", every = "1d", where = function(c) return string.dump(function() end) end, act = function() end }\n' >"$T/esc/dump.lua"
	for cmd in "rules check $T/esc" "--db $DB --now $NOW run $T/esc"; do
		run "$PATRON" $cmd
		expect_rc 1
		expect_in "$T/err" "esc/io.lua:1: io is not available in rules (they run in a sandbox)"
		expect_in "$T/err" "esc/exec.lua:2: os.execute is not available in rules (they run in a sandbox)"
		expect_in "$T/err" "esc/require.lua:1: require is not available in rules (they run in a sandbox)"
		expect_in "$T/err" "esc/load.lua:1: load is not available in rules (they run in a sandbox)"
		expect_in "$T/err" "esc/dump.lua:1: string.dump is not available in rules (they run in a sandbox)"
	done
	# The rule's own names, fields, strings and comments are not refused.
	cat >"$T/rules/own.lua" <<-'LUA'
	local load = 2 -- io.open in a comment
	local t = { io = 1, os = "x" }
	rule { name = "own", every = "1d",
	  where = function(c, debug) return load > 1 and t.io == 1 and os.time() > 0 end,
	  act = function(c) tag(c, "own " .. "io.open" .. [[ os.execute ]]) end }
	LUA
	run "$PATRON" rules check "$T/rules/own.lua"
	expect_rc 0
	# Built at run time, the name is refused when the rule runs.
	cat >"$T/rules/escape.lua" <<-'LUA'
	rule { name = "io", every = "1d", where = function(c) return _ENV["i" .. "o"].open("/etc/passwd") end, act = function() end }
	rule { name = "env", every = "1d", where = function(c) return getmetatable("").__index.dump end, act = function(c) tag(c, "dump-" .. tostring(getmetatable("").__index.dump)) end }
	LUA
	run "$PATRON" --db "$DB" --now $NOW run "$T/rules"
	expect_in "$T/err" "escape.lua:1: io is not available in rules (they run in a sandbox)"
	expect_in "$T/out" "env: 4 customers checked, 0 matched"
	expect_eq "$(q "SELECT count(*) FROM tags WHERE tag LIKE 'own %'")" 4
	[ -e /tmp/patron-escaped ] && fail "os.execute ran"
	true
}

t_string_functions_and_slow_calls_cannot_hang_a_run() {
	rules_store
	cat >"$T/rules/hang.lua" <<-'LUA'
	rule { name = "backtracking", every = "1d",
	  where = function(c) return string.rep("a", 20000):find(".-.-.-x") end,
	  act = function(c) end }
	rule { name = "big strings", every = "1d",
	  where = function(c) for i = 1, 1e5 do local s = string.rep("ab", 15e6) end end,
	  act = function(c) end }
	rule { name = "slow sort", every = "1d",
	  where = function(c) local t = {} for i = 1, 100000 do t[i] = -i end
	    for k = 1, 100000 do table.sort(t) end end,
	  act = function(c) end }
	rule { name = "fine", every = "1d",
	  where = function(c) return c.email:match("^(.-)@(.-)%.(.+)$") ~= nil end,
	  act = function(c) tag(c, "seen") end }
	LUA
	printf 'rules = { time_limit = "1s" }\n' >"$T/patron.conf"
	# Without the limits this runs for hours: timeout turns a hang into a failure.
	run timeout 120 "$PATRON" --db "$DB" --now $NOW run "$T/rules"
	expect_rc 1
	expect_in "$T/err" "hang.lua:2: string.find: a pattern with 3 repetitions (*, +, -) on a text of 20000 bytes could take hours"
	expect_in "$T/out" "big strings: 1 customers checked, 0 matched, 0 acted; 1 errors; STOPPED for this run (nothing kept, still due): $T/rules/hang.lua:5: stopped after 1000000 instructions"
	expect_in "$T/out" "slow sort: 1 customers checked, 0 matched, 0 acted; 1 errors; STOPPED for this run (nothing kept, still due): $T/rules/hang.lua:9: stopped after 1 s (the time limit of one call)"
	expect_eq "$(q "SELECT count(*) FROM tags WHERE tag = 'seen'")" 4
	printf 'rules = { time_limit = "soon" }\n' >"$T/patron.conf"
	run "$PATRON" --db "$DB" --now $NOW run "$T/rules"
	expect_rc 1
	expect_in "$T/err" 'rules.time_limit: expected a duration like "5s", got "soon"'
}

t_one_bad_rule_file_leaves_the_others_running() {
	rules_store
	printf '\033Lua binary' >"$T/rules/a_binary.lua"
	printf 'while true do end\n' >"$T/rules/b_loop.lua"
	printf 'rule { name = "fine", every = "1d", act = function(c) end }\n' >"$T/rules/c_dup.lua"
	printf '\nerror({})\n' >"$T/rules/d_table.lua"
	printf 'rule { name = "fine", every = "1d", act = function(c) tag(c, "seen") end }\n' >"$T/rules/aa_fine.lua"
	printf 'rule { name = "table", every = "1d", where = function(c) error({}) end, act = function(c) end }\n' >"$T/rules/e_call.lua"
	run "$PATRON" --db "$DB" --now $NOW run "$T/rules"
	expect_rc 1
	expect_in "$T/err" "a_binary.lua: a precompiled (binary) chunk; rule files are Lua text (the file's rules are left out)"
	expect_in "$T/err" "b_loop.lua:1: stopped after 1000000 instructions (the budget of one call) (the file's rules are left out)"
	expect_in "$T/err" "c_dup.lua:1: rule \"fine\" is already declared at $T/rules/aa_fine.lua:1"
	expect_in "$T/err" "d_table.lua:2: error raised with a table, not a message"
	expect_in "$T/err" "where failed: $T/rules/e_call.lua:1: error raised with a table, not a message"
	expect_in "$T/out" "2 rules from 6 files"
	expect_eq "$(q "SELECT count(*) FROM tags WHERE tag = 'seen'")" 4
	# rules check refuses the same files and lists the good ones.
	run "$PATRON" rules check "$T/rules"
	expect_rc 1
	expect_in "$T/err" "c_dup.lua:1: rule \"fine\" is already declared"
	expect_in "$T/out" "fine ($T/rules/aa_fine.lua:1): every 1d"
}

t_unknown_channel_or_template_is_named() {
	rules_store
	cat >"$T/rules/names.lua" <<-'LUA'
	rule { name = "pigeon", every = "1d", where = function(c) return c.id == 1 end,
	  act = function(c) send{ channel = "pigeon", to = c, template = "winback" } end }
	rule { name = "typo", every = "1d", where = function(c) return c.id == 1 end,
	  act = function(c) send{ channel = "email", to = c, template = "wnback" } end }
	LUA
	run "$PATRON" --db "$DB" --now $NOW run "$T/rules"
	expect_rc 1
	expect_in "$T/err" 'names.lua:2: send: unknown channel "pigeon" (configured: email)'
	expect_in "$T/err" "names.lua:4: send: no template \"wnback\" in $T/rules/templates"
	expect_eq "$(q 'SELECT count(*) FROM outbox')" 0
}

t_the_frequency_cap_holds_across_rules() {
	rules_store
	printf 'frequency_cap = { messages = 1, per = "7d" }\n' >"$T/patron.conf"
	cat >"$T/rules/two.lua" <<-'LUA'
	rule { name = "first", every = "1d", where = function(c) return c.email == "ada@example.com" end,
	  act = function(c) send{ channel = "email", to = c, template = "hello" } end }
	rule { name = "second", every = "1d", where = function(c) return c.email == "ada@example.com" end,
	  act = function(c) send{ channel = "email", to = c, template = "hello" } end }
	LUA
	run "$PATRON" --db "$DB" --now $NOW run "$T/rules"
	expect_rc 0
	expect_in "$T/out" "second: 4 customers checked, 1 matched, 0 acted; 1 refused (frequency cap: 1 messages in 7 days)"
	expect_eq "$(q 'SELECT rule FROM outbox')" first
}

t_limit_holds_events_for_the_next_run() {
	rules_store
	cat >"$T/rules/limit.lua" <<-'LUA'
	rule { name = "two at a time", on = "ping", limit = 2, act = function(c, e) log(e.id) end }
	LUA
	for i in 1 2 3 4 5; do "$PATRON" --db "$DB" --now $NOW emit ping >/dev/null; done
	run "$PATRON" --db "$DB" --now $NOW run "$T/rules"
	expect_in "$T/out" "two at a time: 3 events, 2 matched, 2 acted (2 log); limit 2 reached"
	run "$PATRON" --db "$DB" --now $NOW run "$T/rules"
	run "$PATRON" --db "$DB" --now $NOW run "$T/rules"
	expect_eq "$(q "SELECT count(*), count(DISTINCT event_id) FROM audit")" "5|5"
}

# A run killed with -9 midway: the rerun finishes, and every event is acted on
# exactly once (one audit row and one outbox message each).
t_a_killed_run_loses_nothing_and_duplicates_nothing() {
	rules_store
	cat >"$T/rules/slow.lua" <<-'LUA'
	rule { name = "slow", on = "ping", max_age = false,
	  where = function(c, e) local x = 0 for i = 1, 300000 do x = x + i end return true end,
	  act = function(c, e) send{ channel = "email", to = c, template = "hello" } end }
	LUA
	seq 1 12000 | awk '{print "{\"topic\":\"ping\",\"customer\":\"ada@example.com\"}"}' >"$T/pings.jsonl"
	"$PATRON" --db "$DB" --now $NOW import events "$T/pings.jsonl" >/dev/null
	"$PATRON" --db "$DB" --now $NOW run "$T/rules" >/dev/null 2>&1 &
	pid=$!
	for _ in $(seq 1 600); do	# the first batch commits after 4096 slow events
		n=$(q "SELECT count(*) FROM outbox" 2>/dev/null || echo 0)
		[ "${n:-0}" -gt 0 ] && break
		sleep 0.1
	done
	kill -9 $pid
	wait $pid 2>/dev/null || true
	partial=$(q "SELECT count(*) FROM outbox")
	[ "$partial" -gt 0 ] && [ "$partial" -lt 12000 ] || fail "killed after $partial messages, expected part of the 12000"
	expect_eq "$(q "SELECT event_id FROM cursors WHERE subscriber = 'rule:slow'")" "$(q "SELECT max(event_id) FROM audit")"
	run "$PATRON" --db "$DB" --now $NOW run "$T/rules"
	expect_rc 0
	expect_eq "$(q "SELECT count(*), count(DISTINCT key), count(DISTINCT audit_id) FROM outbox")" "12000|12000|12000"
	expect_eq "$(q "SELECT count(*), count(DISTINCT event_id) FROM audit")" "12000|12000"
}

# Every example of examples/rules on the demo shop: the dry run shows each
# acting, and a real run queues each one's messages once.
t_the_example_rules_act_on_the_demo_shop() {
	run "$PATRON" --db "$DB" --now $NOW demo --customers 2000
	expect_rc 0
	expect_in "$T/out" "the example rules"
	expect_in "$T/out" "in a dry run: what Patron would do today"
	expect_eq "$(q 'SELECT count(*) FROM outbox')" 0
	ex="$ROOT/examples/rules"
	# A consenting customer who ordered 7 days ago, with recommendations,
	# and a churn score crossing 0.7.
	cid=$(q "SELECT customer_id FROM consent WHERE channel = 'email' AND granted ORDER BY customer_id LIMIT 1")
	email=$(q "SELECT value FROM identities WHERE customer_id = $cid AND kind = 'email'")
	printf 'order_id,email,created_at,sku,quantity,price\nF-1,%s,2026-10-25,SKU-00001,1,10\n' "$email" >"$T/o.csv"
	"$PATRON" --db "$DB" --now $NOW import orders "$T/o.csv" >/dev/null
	# (The demo's score gave every customer recommendations.)
	expect_eq "$(q "SELECT json_array_length(items) FROM recommendation_lists WHERE customer_id = $cid")" 10
	"$PATRON" --db "$DB" --now $NOW emit score.changed --customer "$cid" \
		--data '{"score":"churn","value":0.82,"previous":0.41}' >/dev/null
	# The best customer writes, upset.
	vip=$(q "SELECT value FROM identities WHERE kind = 'email' AND customer_id = (SELECT customer_id FROM customer_orders ORDER BY spent_cents DESC LIMIT 1)")
	printf 'From: %s\nSubject: Broken teapot\nMessage-ID: <vip-1@example.com>\n\nThe teapot arrived broken. This is really disappointing.\n' "$vip" >"$T/vip.eml"
	"$PATRON" --db "$DB" --now $NOW import inbox "$T/vip.eml" >/dev/null
	run "$PATRON" --db "$DB" --now $NOW run "$ex" --dry-run
	expect_rc 0
	expect_in "$T/out" "[escalate an angry valuable customer] would tag"
	for line in '[email lapsed VIPs] would send email "winback"' \
		'[welcome new customers] would send email "welcome"' \
		'[thank on third order] would send email "thank_you"' \
		'[thank on third order] would tag' \
		'[birthday greeting] would send email "birthday"' \
		"[CSAT a week after an order] would send email \"csat\" to $email" \
		"[churn-risk save offer] would send email \"save_offer\" to $email" \
		"[recommendations follow-up] would send email \"recommendations\" to $email (customer $cid) because days_since_last_order=7 recommendations=(table)"; do
		expect_in "$T/out" "$line"
	done
	run "$PATRON" --db "$DB" --now $NOW run "$ex"
	expect_rc 0
	expect_eq "$(q 'SELECT count(DISTINCT rule) FROM outbox')" 7
	expect_eq "$(q "SELECT count(*) FROM outbox o JOIN consent k ON k.customer_id = o.customer_id AND k.channel = 'email' WHERE NOT k.granted")" 0
	expect_eq "$(q "SELECT json_extract(vars, '\$.products[0]') IS NOT NULL FROM outbox WHERE rule = 'recommendations follow-up' AND customer_id = $cid")" 1
	expect_eq "$(q "SELECT count(*) FROM outbox WHERE rule = 'recommendations follow-up' AND json_extract(vars, '\$.products[0]') IS NULL")" 0
	expect_eq "$(q "SELECT count(*) FROM tags WHERE tag = 'churn-risk' AND customer_id = $cid")" 1
	expect_eq "$(q "SELECT count(*) FROM tags t JOIN identities i ON i.customer_id = t.customer_id WHERE t.tag = 'needs-care' AND i.value = '$vip'")" 1
	before=$(q 'SELECT count(*) FROM outbox')
	run "$PATRON" --db "$DB" --now $NOW run "$ex"
	expect_eq "$(q 'SELECT count(*) FROM outbox')" "$before"
}
