# The command line: help, usage errors, exit statuses, the store's location.

t_every_command_has_help() {
	for c in init import customer stats demo; do
		run "$PATRON" "$c" --help
		expect_rc 0
		expect_in "$T/out" "usage: patron"
	done
	run "$PATRON" --help
	expect_rc 0
	expect_in "$T/out" "commands:"
	run "$PATRON" help import
	expect_rc 0
	expect_in "$T/out" "--skip-bad"
}

t_usage_errors_exit_2() {
	run "$PATRON"
	expect_rc 2
	run "$PATRON" frobnicate
	expect_rc 2
	expect_in "$T/err" 'unknown command "frobnicate"'
	run "$PATRON" import
	expect_rc 2
	run "$PATRON" import widgets x.csv
	expect_rc 2
	expect_in "$T/err" 'expected customers, products, orders, feedback or events, got "widgets"'
	run "$PATRON" import orders x.csv --format woo
	expect_rc 2
	run "$PATRON" --now 2024-13-01 stats
	expect_rc 2
	expect_in "$T/err" 'patron: --now: expected a date like 2026-11-23, got "2024-13-01"'
	run "$PATRON" --db
	expect_rc 2
	[ ! -e "$DB" ] || fail "a usage error created the store"
}

t_init_creates_the_store_once() {
	run "$PATRON" --db "$DB" init
	expect_rc 0
	expect_in "$T/out" "created store $DB (schema 15)"
	expect_eq "$(q 'PRAGMA user_version')" 15
	expect_eq "$(q 'PRAGMA journal_mode')" wal
	run "$PATRON" --db "$DB" init --json
	expect_rc 0
	expect_in "$T/out" '"created": false'
}

t_store_comes_from_patron_db_or_the_current_folder() {
	PATRON_DB="$T/env.db" run "$PATRON" init
	expect_rc 0
	[ -f "$T/env.db" ] || fail "PATRON_DB was not used"
	run "$PATRON" init
	expect_rc 0
	[ -f "$T/patron.db" ] || fail "no ./patron.db"
}

t_unknown_customer_fails_with_exit_1() {
	"$PATRON" --db "$DB" init >/dev/null
	run "$PATRON" --db "$DB" customer nobody@example.com
	expect_rc 1
	expect_in "$T/err" "patron: no customer \"nobody@example.com\" in $DB"
}

t_a_store_that_does_not_exist_is_refused_not_created() {
	for cmd in stats "customer ada@example.com" score segments events outbox; do
		run "$PATRON" --db "$T/typo.db" $cmd
		expect_rc 1
		expect_eq "$(cat "$T/err")" "patron: no store at $T/typo.db; create one with patron init (or import into it, which creates it)"
	done
	[ ! -e "$T/typo.db" ] || fail "a command created $T/typo.db"
	run "$PATRON" --db "$T/new.db" import customers "$DATA/customers.csv"
	expect_rc 0
	expect_in "$T/err" "patron: creating a new store at $T/new.db"
}

t_a_file_that_is_not_a_store_is_refused() {
	echo "hello, this is not a database, just a plain text file of some length" >"$T/x.db"
	run "$PATRON" --db "$T/x.db" stats
	expect_rc 1
	expect_in "$T/err" "patron: $T/x.db: not a Patron store (not an SQLite database)"
}
