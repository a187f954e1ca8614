#!/usr/bin/env bash
# make check-long: crash safety, proven long. Kills patron with SIGKILL at
# random points KILLS times (50) during an import, a run and a delivery,
# lets the next command finish the work, and compares the store with one
# that was never interrupted: the same rows, no action done twice, every
# message delivered once, patron check clean; then imports, runs and
# deliveries side by side for a minute. Not part of make check.
# Usage: scripts/check-long.sh BUILD
set -u
BUILD=$(cd "${1:-build}" && pwd)
PATRON="$BUILD/patron"
KILLS=${KILLS:-50}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/patron-long-XXXXXX")
trap 'rm -rf "$WORK"' EXIT
NOW=2026-06-30
failed=0

q() { sqlite3 "$1" "$2"; }
fail() { echo "check-long: $*"; failed=$((failed + 1)); }

# kill_loop NAME CMD...: starts CMD KILLS times, each killed after a random
# 10 to 400 ms (or finished before); says how many were killed midway.
kill_loop() {
	local name=$1 killed=0
	shift
	for _ in $(seq "$KILLS"); do
		"$@" >/dev/null 2>&1 &
		local pid=$!
		sleep "0.$(printf '%03d' $((RANDOM % 390 + 10)))"
		if kill -9 "$pid" 2>/dev/null; then
			killed=$((killed + 1))
		fi
		wait "$pid" 2>/dev/null
	done
	echo "check-long: $name: $killed of $KILLS runs killed midway"
}

same() {	# same WHAT A B
	[ "$2" = "$3" ] || fail "$1: $2 after the kills, $3 without"
}

"$BUILD/patron-gen" --out "$WORK/data" --customers 3000 --lines 40000 --seed 7 --end $NOW >/dev/null

# 1. Import: one transaction per file. Each time from the store before
# the import: killed, it holds none of the file or all of it; finished
# afterwards, it is the store of an uninterrupted import.
"$PATRON" --db "$WORK/base.db" --now $NOW import customers "$WORK/data/customers.csv" >/dev/null 2>&1
cp "$WORK/base.db" "$WORK/ref.db"
"$PATRON" --db "$WORK/ref.db" --now $NOW import orders "$WORK/data/orders.csv" >/dev/null 2>&1
ref_orders=$(q "$WORK/ref.db" "SELECT count(*) FROM orders")
killed=0
for i in $(seq "$KILLS"); do
	rm -f "$WORK"/k.db*
	cp "$WORK/base.db" "$WORK/k.db"
	"$PATRON" --db "$WORK/k.db" --now $NOW import orders "$WORK/data/orders.csv" >/dev/null 2>&1 &
	pid=$!
	sleep "0.$(printf '%03d' $((RANDOM % 290 + 10)))"
	kill -9 "$pid" 2>/dev/null && killed=$((killed + 1))
	wait "$pid" 2>/dev/null
	n=$(q "$WORK/k.db" "SELECT count(*) FROM orders")
	[ "$n" = 0 ] || [ "$n" = "$ref_orders" ] || fail "import $i: $n orders after the kill: half a file"
	"$PATRON" --db "$WORK/k.db" --now $NOW import orders "$WORK/data/orders.csv" >/dev/null 2>&1
	for sql in "SELECT count(*) FROM orders" "SELECT sum(total_cents) FROM orders WHERE revenue" \
		"SELECT count(*) FROM order_lines" "SELECT count(*) FROM customers" \
		"SELECT count(*) FROM events WHERE topic = 'order.created'"; do
		same "import $i: $sql" "$(q "$WORK/k.db" "$sql")" "$(q "$WORK/ref.db" "$sql")"
	done
done
echo "check-long: import: $killed of $KILLS imports killed midway"
"$PATRON" --db "$WORK/k.db" check >/dev/null || fail "import: patron check: $("$PATRON" --db "$WORK/k.db" check)"

# 2. Run: every event handed to the rule once, each action once.
mkdir -p "$WORK/rules/templates"
printf 'Subject: Thanks\n\nThanks\n' >"$WORK/rules/templates/thanks.txt"
cat >"$WORK/rules/thanks.lua" <<-'LUA'
rule { name = "thanks", on = "order.created", max_age = false,
  where = function(c, e) local x = 0 for i = 1, 2000 do x = x + i end return true end,
  act = function(c, e) send{ channel = "email", to = c, template = "thanks" } tag(c, "thanked") end }
LUA
cp "$WORK/ref.db" "$WORK/run-ref.db"
"$PATRON" --db "$WORK/run-ref.db" --now $NOW run "$WORK/rules" --no-deliver >/dev/null 2>&1
cp "$WORK/ref.db" "$WORK/run.db"
kill_loop run "$PATRON" --db "$WORK/run.db" --now $NOW run "$WORK/rules" --no-deliver
"$PATRON" --db "$WORK/run.db" --now $NOW run "$WORK/rules" --no-deliver >/dev/null 2>&1
for sql in "SELECT count(*), count(DISTINCT event_id) FROM audit" \
	"SELECT count(*), count(DISTINCT key) FROM outbox" "SELECT count(*) FROM tags" \
	"SELECT event_id FROM cursors WHERE subscriber = 'rule:thanks'"; do
	same "run: $sql" "$(q "$WORK/run.db" "$sql")" "$(q "$WORK/run-ref.db" "$sql")"
done
"$PATRON" --db "$WORK/run.db" check >/dev/null || fail "run: patron check failed"

# 3. Deliver: every message out once (the file channel keeps what it wrote).
kill_loop deliver "$PATRON" --db "$WORK/run.db" --now $NOW deliver
"$PATRON" --db "$WORK/run.db" --now $NOW deliver >/dev/null 2>&1
total=$(q "$WORK/run.db" "SELECT count(*) FROM outbox")
same "deliver: messages sent" "$(q "$WORK/run.db" "SELECT count(*) FROM outbox WHERE status = 'sent'")" "$total"
same "deliver: .eml files" "$(ls "$WORK/outbox" | grep -c '\.eml$')" "$total"
same "deliver: message.sent events" "$(q "$WORK/run.db" "SELECT count(*) FROM events WHERE topic = 'message.sent'")" "$total"
"$PATRON" --db "$WORK/run.db" check >/dev/null || fail "deliver: patron check failed"

# 4. Imports, event imports, runs and deliveries side by side for a minute.
root=$(cd "$(dirname "$0")/.." && pwd)
if CONCURRENCY_SECONDS=60 E2E_SUITE=concurrency "$root/tests/e2e/run.sh" "$BUILD" >"$WORK/side.log" 2>&1; then
	echo "check-long: side by side for a minute: $(tail -1 "$WORK/side.log")"
else
	fail "side by side: $(cat "$WORK/side.log")"
fi

echo "check-long: $failed failed"
[ "$failed" -eq 0 ]
