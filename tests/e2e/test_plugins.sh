# Plugins: refusals, config-chosen algorithms, and a third-party plugin built
# against the installed SDK alone.

demo_store() {
	"$PATRON" --db "$DB" --now 2026-11-23 demo --customers 300 >/dev/null
}

t_each_broken_plugin_gets_one_line_and_the_good_ones_run() {
	TP=$TEST_PLUGINS
	PATRON_PLUGIN_PATH=$TP run "$PATRON" plugins
	expect_rc 0
	expect_in "$T/out" "refused: $TP/bad-abi.so: built for plugin ABI 99, this patron speaks ABI 1"
	expect_in "$T/out" "refused: $TP/no-entry.so: no patron_plugin_entry symbol: not a Patron plugin"
	expect_in "$T/out" "refused: $TP/text.so: not a shared object"
	expect_in "$T/out" "refused: $TP/twin-b.so: plugin segment.twin is already loaded from $TP/twin-a.so; this file is ignored"
	expect_in "$T/out" "refused: $TP/unknown-kind.so: plugin segment.odd: unknown kind 42"
	expect_in "$T/out" "segment.tiers"
	expect_in "$T/out" "segment.twin"
	# A plugin built for ABI 1.0 (its descriptor has no train) still loads.
	expect_in "$T/out" "segment.elder"
	[ "$(grep -c '^refused: ' "$T/out")" -eq 5 ] || fail "expected 5 refusals: $(cat "$T/out")"
	# The engine runs on with the good plugins; each refusal is said once.
	demo_store
	PATRON_PLUGIN_PATH=$TP run "$PATRON" --db "$DB" --now 2026-11-23 score
	expect_rc 0
	expect_in "$T/out" "segment: segment.rfm 1.0 wrote"
	[ "$(grep -c 'plugin refused' "$T/err")" -eq 5 ] || fail "stderr: $(cat "$T/err")"
	# A plugin whose init fails: its message, exit 1.
	echo 'segment = "grumpy"' >"$T/patron.conf"
	PATRON_PLUGIN_PATH=$TP run "$PATRON" --db "$DB" score
	expect_rc 1
	expect_in "$T/err" "patron: plugin segment.grumpy: init failed: needs an api_key option"
	echo 'segment = "nope"' >"$T/patron.conf"
	run "$PATRON" --db "$DB" score
	expect_rc 1
	expect_in "$T/err" "patron: $T/patron.conf: segment = \"nope\": there is no plugin segment.nope (see patron plugins)"
	# plugins check: exit 1 for a refused file, 0 for a good one.
	run "$PATRON" plugins check "$TP/bad-abi.so"
	expect_rc 1
	run "$PATRON" plugins check "$TP/twin-a.so"
	expect_rc 0
	echo 'segment = { plugin = "tiers", tiers = 12 }' >"$T/patron.conf"
	run "$PATRON" --config "$T/patron.conf" plugins check "$BUILD/plugins/segment.tiers.so"
	expect_rc 1
	expect_in "$T/out" "plugin segment.tiers: init failed: option tiers: expected a whole number from 2 to 10"
}

t_a_third_party_plugin_builds_from_the_installed_sdk_and_swaps_by_config() {
	make -s -C "$ROOT" install BUILD="$BUILD" PREFIX="$T/prefix" >/dev/null
	[ -f "$T/prefix/include/patron/plugin.h" ] || fail "the SDK header was not installed"
	export PKG_CONFIG_PATH="$T/prefix/lib/pkgconfig"
	expect_eq "$(pkg-config --cflags patron-sdk | xargs)" "-I$T/prefix/include"
	# Out of the tree, with nothing but the installed SDK.
	cp -R "$ROOT/examples/plugins/recency" "$T/recency"
	make -s -C "$T/recency" >/dev/null
	P="$T/prefix/bin/patron"
	"$P" --db "$DB" --now 2026-11-23 demo --customers 300 >/dev/null
	echo 'segment = "recency"' >"$T/patron.conf"
	PATRON_PLUGIN_PATH="$T/recency" run "$P" --db "$DB" --now 2026-11-23 score
	expect_rc 0
	expect_in "$T/out" "segment: segment.recency 0.1 wrote 300 results"
	labels=$(q "SELECT group_concat(label) FROM (SELECT DISTINCT label FROM scores WHERE name='segment' ORDER BY 1)")
	expect_eq "$labels" "active,lapsed,lapsing,prospect"
	active=$(q "SELECT count(*) FROM scores WHERE label='active'")
	# Options reach the plugin: a wider window makes more customers active.
	echo 'segment = { plugin = "recency", active_days = 120, lapsed_days = 365 }' >"$T/patron.conf"
	PATRON_PLUGIN_PATH="$T/recency" run "$P" --db "$DB" --now 2026-11-23 score
	expect_rc 0
	[ "$(q "SELECT count(*) FROM scores WHERE label='active'")" -gt "$active" ] || fail "active_days had no effect"
	# One line of config swaps the algorithm; nothing is rebuilt.
	before=$(stat -c %Y "$T/recency/segment.recency.so")
	echo 'segment = "tiers"' >"$T/patron.conf"
	PATRON_PLUGIN_PATH="$T/recency" run "$P" --db "$DB" --now 2026-11-23 score
	expect_rc 0
	expect_in "$T/out" "segment: segment.tiers 1.0"
	labels=$(q "SELECT group_concat(label) FROM (SELECT DISTINCT label FROM scores WHERE name='segment' ORDER BY 1)")
	expect_eq "$labels" "low,middle,prospect,top"
	expect_eq "$(stat -c %Y "$T/recency/segment.recency.so")" "$before"
	run "$P" --db "$DB" customer 1
	expect_in "$T/out" "segment.tiers 1.0"
}

t_score_and_snapshot_describe_what_they_did() {
	demo_store
	run "$PATRON" --db "$DB" --now 2026-11-23 score --json
	expect_rc 0
	expect_in "$T/out" '"plugin": "segment.rfm"'
	expect_in "$T/out" '"champions": '
	run "$PATRON" --db "$DB" --now 2026-11-23 snapshot
	expect_rc 0
	expect_in "$T/out" "features: 300 customers x"
	expect_in "$T/out" "recency_days frequency monetary_total"
	expect_in "$T/out" "attr.country=GB"
	# As of a day before the shop opened there is nobody.
	run "$PATRON" --db "$DB" --now 2020-01-01 snapshot --json
	expect_in "$T/out" '"rows": 0'
}

t_an_older_abi_plugin_runs_and_has_nothing_to_train() {
	demo_store
	printf 'segment = "elder"\nvalue = false\n' >"$T/patron.conf"
	PATRON_PLUGIN_PATH=$TEST_PLUGINS run "$PATRON" --db "$DB" score
	expect_rc 0
	expect_in "$T/out" "segment: segment.elder 0 wrote 0 results"
	PATRON_PLUGIN_PATH=$TEST_PLUGINS run "$PATRON" --db "$DB" train segment
	expect_rc 1
	expect_in "$T/err" "patron: plugin segment.elder has nothing to train"
}

t_a_crashing_plugin_is_named_and_the_outbox_goes_on() {
	mkdir -p "$T/plugins" "$T/rules/templates"
	cp "$TEST_PLUGINS/crash-channel.so" "$T/plugins/"
	export PATRON_PLUGIN_PATH="$T/plugins"
	{
		echo "email,accepts_marketing"
		echo "crash@example.com,yes"	# first in the outbox: the one it crashes on
		for i in 1 2 3 4 5; do echo "c$i@example.com,yes"; done
	} >"$T/customers.csv"
	"$PATRON" --db "$DB" --now 2026-11-01 import customers "$T/customers.csv" >/dev/null
	printf 'Subject: Hi\n\nHi\n' >"$T/rules/templates/hi.txt"
	printf 'rule { name = "hi", every = "1d", act = function(c) send{ channel = "email", to = c, template = "hi" } end }\n' >"$T/rules/hi.lua"
	cat >"$T/patron.conf" <<-CONF
	channels = { email = { plugin = "crashy", log = "$T/sent.log", attempts = 3 } }
	CONF
	"$PATRON" --db "$DB" --now 2026-11-01 run "$T/rules" --no-deliver >/dev/null
	run "$PATRON" --db "$DB" --now 2026-11-01 deliver
	expect_rc 139
	expect_in "$T/err" "patron: plugin channel.crashy ($T/plugins/crash-channel.so) crashed in its deliver call (SIGSEGV); nothing of that call was kept"
	expect_eq "$(q "SELECT status, attempts FROM outbox WHERE address = 'crash@example.com'")" "sending|1"
	# The next delivery counts that attempt, sends the others first, and
	# then tries the one it crashed on again.
	run "$PATRON" --db "$DB" --now 2026-11-01 deliver
	expect_rc 139
	expect_in "$T/err" "1 messages were being sent when a delivery stopped; each is sent again after the others"
	expect_eq "$(sort "$T/sent.log" | uniq | wc -l)|$(wc -l <"$T/sent.log")" "5|5"
	expect_eq "$(q "SELECT status, attempts FROM outbox WHERE address = 'crash@example.com'")" "sending|2"
	expect_eq "$(q "SELECT count(*) FROM outbox WHERE status = 'sent'")" 5
	# A third crash uses up its three attempts: then it is dead, and says why.
	run "$PATRON" --db "$DB" --now 2026-11-01 deliver
	expect_rc 139
	run "$PATRON" --db "$DB" --now 2026-11-01 deliver
	expect_rc 0
	expect_in "$T/out" "1 failed"
	expect_eq "$(q "SELECT status, attempts FROM outbox WHERE address = 'crash@example.com'")" "dead|3"
	expect_in <(q "SELECT last_error FROM outbox WHERE address = 'crash@example.com'") \
		"the delivery stopped while sending it, 3 times"
	expect_eq "$(wc -l <"$T/sent.log")" 5
}

t_a_crashing_segmenter_is_named_and_stores_nothing() {
	mkdir -p "$T/plugins"
	cp "$TEST_PLUGINS/crash-segmenter.so" "$T/plugins/"
	demo_store
	before=$(q "SELECT count(*) FROM scores WHERE name = 'segment'")
	echo 'segment = "crashy"' >"$T/patron.conf"
	PATRON_PLUGIN_PATH="$T/plugins" run "$PATRON" --db "$DB" --now 2026-11-23 score --only segment
	expect_rc 139
	expect_in "$T/err" "patron: plugin segment.crashy ($T/plugins/crash-segmenter.so) crashed in its run call (SIGSEGV); nothing of that call was kept"
	expect_eq "$(q "SELECT count(*) FROM scores WHERE name = 'segment' AND model LIKE 'segment.crashy%'")" 0
	expect_eq "$(q "SELECT count(*) FROM scores WHERE name = 'segment'")" "$before"
}
