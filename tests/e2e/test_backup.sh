# Backup, restore and check: a consistent copy while others write, an
# encrypted one that refuses the wrong key or a changed byte, a restore that
# is whole or nothing, and the store's invariants checked.

NOW=2026-11-01

counts() {
	sqlite3 "$1" "SELECT (SELECT count(*) FROM customers) || '|' || (SELECT count(*) FROM orders) || '|' || (SELECT count(*) FROM order_lines)"
}

t_a_backup_taken_while_imports_write_is_consistent_and_restores() {
	"$PATRON" --db "$DB" --now $NOW demo --customers 300 >/dev/null 2>&1
	trap 'touch "$T/stop"' EXIT	# the writers stop with the test, pass or fail
	# Imports of five orders each, one transaction per file, all along.
	(
		n=0
		while [ ! -e "$T/stop" ] && [ -d "$T" ]; do
			n=$((n + 1))
			{
				echo "order_id,email,created_at,sku,quantity,price"
				for k in 1 2 3 4 5; do echo "x$n-$k,x$n@example.com,2026-10-0$k,SKU-$k,1,10"; done
			} >"$T/o.csv"
			"$PATRON" --db "$DB" --now $NOW import orders "$T/o.csv" >/dev/null 2>&1
		done
	) &
	sleep 0.5
	run "$PATRON" --db "$DB" backup "$T/plain.db"
	expect_rc 0
	expect_in "$T/out" "backed up $DB to $T/plain.db"
	"$PATRON" backup --new-key "$T/key" >/dev/null
	run "$PATRON" --db "$DB" backup "$T/enc.bk" --key-file "$T/key"
	expect_rc 0
	expect_in "$T/out" "(encrypted)"
	touch "$T/stop"
	wait
	# A copy of one moment: whole imports only (five orders each).
	base=$(sqlite3 "$T/plain.db" "SELECT count(*) FROM orders WHERE order_key NOT LIKE 'x%'")
	extra=$(sqlite3 "$T/plain.db" "SELECT count(*) FROM orders WHERE order_key LIKE 'x%'")
	expect_eq "$((extra % 5))" 0 "orders of half an import"
	[ "$base" -gt 300 ] || fail "the demo's orders are missing from the copy: $base"
	expect_eq "$(sqlite3 "$T/plain.db" "PRAGMA integrity_check")" ok
	# Both restore into a new store that passes patron check.
	run "$PATRON" --db "$T/r1.db" restore "$T/plain.db"
	expect_rc 0
	expect_in "$T/out" "restored $T/r1.db from $T/plain.db: "
	expect_eq "$(counts "$T/r1.db")" "$(counts "$T/plain.db")"
	run "$PATRON" --db "$T/r2.db" restore "$T/enc.bk" --key-file "$T/key"
	expect_rc 0
	run "$PATRON" --db "$T/r2.db" check
	expect_rc 0
	expect_in "$T/out" "$T/r2.db: ok"
	# The encrypted file holds nothing readable.
	grep -q "@example.com" "$T/enc.bk" && fail "an email address in clear in the encrypted backup"
	true
}

t_a_restore_is_whole_or_nothing_and_refuses_a_bad_backup() {
	"$PATRON" --db "$DB" --now $NOW demo --customers 200 >/dev/null 2>&1
	printf 'correct horse battery staple\n' >"$T/pass"
	chmod 600 "$T/pass"
	"$PATRON" --db "$DB" backup "$T/enc.bk" --passphrase-file "$T/pass" >/dev/null
	before=$(counts "$DB")
	printf 'email\nlate@example.com\n' >"$T/late.csv"
	"$PATRON" --db "$DB" --now $NOW import customers "$T/late.csv" >/dev/null
	after=$(counts "$DB")
	# Refused, each with one line, and the store as it was.
	printf 'a different passphrase\n' >"$T/wrong"
	chmod 600 "$T/wrong"
	run "$PATRON" --db "$DB" restore "$T/enc.bk" --passphrase-file "$T/wrong"
	expect_rc 1
	expect_in "$T/err" "enc.bk: the wrong key, or the file was changed after the backup (part 1 fails its check): not restored"
	cp "$T/enc.bk" "$T/changed.bk"
	size=$(stat -c %s "$T/changed.bk")
	# One byte flipped (never written over with a value it may already hold).
	/usr/bin/python3 -c 'import sys; p = sys.argv[1]; b = bytearray(open(p, "rb").read()); b[-100] ^= 0xff; open(p, "wb").write(b)' "$T/changed.bk"
	run "$PATRON" --db "$DB" restore "$T/changed.bk" --passphrase-file "$T/pass"
	expect_rc 1
	expect_in "$T/err" "changed.bk: the wrong key, or the file was changed after the backup"
	head -c $((size - 40)) "$T/enc.bk" >"$T/cut.bk"
	run "$PATRON" --db "$DB" restore "$T/cut.bk" --passphrase-file "$T/pass"
	expect_rc 1
	expect_in "$T/err" "cut.bk: "
	run "$PATRON" --db "$DB" restore "$T/enc.bk"
	expect_rc 1
	expect_in "$T/err" "enc.bk: encrypted with a passphrase: give --passphrase-file FILE"
	chmod 644 "$T/pass"
	run "$PATRON" --db "$DB" restore "$T/enc.bk" --passphrase-file "$T/pass"
	expect_rc 1
	expect_in "$T/err" "pass: readable by others (mode 644): a secret must be readable by its owner only"
	chmod 600 "$T/pass"
	echo "not a backup" >"$T/text.bk"
	run "$PATRON" --db "$DB" restore "$T/text.bk"
	expect_rc 1
	expect_in "$T/err" "text.bk: not a Patron store: not restored"
	expect_eq "$(counts "$DB")" "$after" "the store after refused restores"
	# The right passphrase puts the store back as it was at the backup.
	run "$PATRON" --db "$DB" restore "$T/enc.bk" --passphrase-file "$T/pass"
	expect_rc 0
	expect_eq "$(counts "$DB")" "$before"
	run "$PATRON" --db "$DB" check
	expect_rc 0
	# A failed restore into a new path leaves nothing there.
	run "$PATRON" --db "$T/new.db" restore "$T/cut.bk" --passphrase-file "$T/pass"
	expect_rc 1
	[ -z "$(ls "$T" | grep '^new\.db')" ] || fail "left behind: $(ls "$T" | grep '^new\.db')"
	# A key is never overwritten.
	"$PATRON" backup --new-key "$T/key" >/dev/null
	run "$PATRON" backup --new-key "$T/key"
	expect_rc 1
	expect_in "$T/err" "key: cannot create: it exists (a key is never overwritten)"
}

t_check_names_each_broken_invariant_with_its_count() {
	"$PATRON" --db "$DB" --now $NOW demo --customers 100 >/dev/null 2>&1
	run "$PATRON" --db "$DB" check
	expect_rc 0
	q "INSERT INTO outbox(key, channel, customer_id, address, template, vars, created_at, status) VALUES ('k1', 'email', 1, 'a@b.c', 't', '{}', 0, 'lost')"
	q "INSERT INTO cursors(subscriber, event_id, updated_at) VALUES ('rule:ghost', 99999999, 0)"
	q "INSERT INTO orders(source, order_key, customer_id, placed_at, total_cents, amount_cents, gross_cents, status, revenue) VALUES ('patron', 'ghost-1', 987654, 0, 100, 100, 100, 'paid', 1)"
	run "$PATRON" --db "$DB" check
	expect_rc 1
	expect_in "$T/out" "problem: 1 outbox messages have an unknown status"
	expect_in "$T/out" "problem: 1 subscribers' cursors point past the end of the event log"
	expect_in "$T/out" "problem: 1 orders belong to a customer that does not exist"
	expect_in "$T/out" "problem: 1 rows point at a row that does not exist (PRAGMA foreign_key_check)"
	# written behind the import's back, the order is in no customer's totals
	expect_in "$T/out" "problem: 1 customers' order totals differ from their orders (customer_orders)"
	expect_in "$T/out" "$DB: 5 problems"
}
