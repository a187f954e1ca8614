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
