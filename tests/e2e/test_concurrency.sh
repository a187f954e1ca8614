# Several patron processes on one store at once: imports, event imports,
# runs and deliveries side by side, as cron and a shop's scripts start them.
# Nothing may fail on a lock, be lost, be done twice or be left half done.

NOW=2026-11-01
# 20 s in make check; make check-long runs it for a minute.
SECONDS_SIDE_BY_SIDE=${CONCURRENCY_SECONDS:-20}

# orders_file N: orders N*5+1 .. N*5+5, each by a new customer who
# consents to email (customers-N.csv).
orders_file() {
	local n=$1
	{
		echo "order_id,email,created_at,sku,quantity,price"
		for k in 1 2 3 4 5; do
			id=$((n * 5 + k))
			echo "$id,c$id@example.com,2026-10-0$k,SKU-$k,1,$((10 + k))"
		done
	} >"$T/orders-$n.csv"
	{
		echo "email,accepts_marketing"
		for k in 1 2 3 4 5; do
			echo "c$((n * 5 + k))@example.com,yes"
		done
	} >"$T/customers-$n.csv"
}

# loop NAME CMD...: runs CMD until $T/stop exists, counting the runs that
# succeeded in $T/NAME.ok and keeping the stderr of any that failed.
loop() {
	local name=$1 i=0
	shift
	: >"$T/$name.ok"
	while [ ! -e "$T/stop" ] && [ -d "$T" ]; do
		i=$((i + 1))
		if "$@" "$i" >"$T/$name.out" 2>"$T/$name.err.$i"; then
			echo "$i" >>"$T/$name.ok"
			rm -f "$T/$name.err.$i"
		fi
	done
}

import_orders() {
	orders_file "$1"
	"$PATRON" --db "$DB" --now $NOW import customers "$T/customers-$1.csv" &&
		"$PATRON" --db "$DB" --now $NOW import orders "$T/orders-$1.csv"
}

import_events() {
	printf '{"topic":"ping","customer":"c1@example.com","data":{"n":%d}}\n' "$1" >"$T/ev-$1.jsonl"
	"$PATRON" --db "$DB" --now $NOW import events "$T/ev-$1.jsonl"
}

run_rules() {
	"$PATRON" --db "$DB" --now $NOW run "$T/rules" --wait
}

# A second deliverer (a run's own) is refused cleanly: that is no failure.
deliver() {
	"$PATRON" --db "$DB" --now $NOW deliver 2>"$T/deliver.why" ||
		grep -q "^patron: another patron deliver is running on $DB$" "$T/deliver.why"
}

t_imports_runs_and_deliveries_side_by_side_lose_and_repeat_nothing() {
	mkdir -p "$T/rules/templates"
	printf 'Subject: Thanks\n\nThanks {{customer.email}}\n' >"$T/rules/templates/thanks.txt"
	cat >"$T/rules/thanks.lua" <<-'LUA'
	rule { name = "thanks", on = "order.created", max_age = false,
	  act = function(c, e) send{ channel = "email", to = c, template = "thanks" } end }
	rule { name = "pings", on = "ping", max_age = false,
	  act = function(c, e) tag(c, "ping " .. e.data.n) end }
	LUA
	orders_file 0
	"$PATRON" --db "$DB" --now $NOW import customers "$T/customers-0.csv" >/dev/null
	"$PATRON" --db "$DB" --now $NOW import orders "$T/orders-0.csv" >/dev/null
	trap 'touch "$T/stop"' EXIT	# the writers stop with the test, pass or fail
	loop orders import_orders &
	loop events import_events &
	loop run1 run_rules &
	loop run2 run_rules &
	loop deliver deliver &
	sleep $SECONDS_SIDE_BY_SIDE
	touch "$T/stop"
	wait
	# Every command that failed says why; none may have.
	for f in "$T"/*.err.*; do
		[ -e "$f" ] && fail "$(basename "$f"): $(head -c 400 "$f")"
	done
	orders=$(wc -l <"$T/orders.ok")
	events=$(wc -l <"$T/events.ok")
	runs=$(($(wc -l <"$T/run1.ok") + $(wc -l <"$T/run2.ok")))
	[ "$orders" -gt 3 ] && [ "$events" -gt 3 ] && [ "$runs" -gt 3 ] ||
		fail "too little ran side by side: $orders imports, $events event imports, $runs runs"
	# What is left is finished by one more run.
	run "$PATRON" --db "$DB" --now $NOW run "$T/rules"
	expect_rc 0
	# Nothing lost: every order of every successful import (and the first).
	expect_eq "$(q "SELECT count(*) FROM orders")" $(((orders + 1) * 5)) "orders"
	expect_eq "$(q "SELECT count(*) FROM events WHERE topic = 'ping'")" "$events" "pings"
	# Nothing twice: one message per order, one tag per ping, each sent once.
	expect_eq "$(q "SELECT count(*), count(DISTINCT customer_id) FROM outbox")" \
		"$(((orders + 1) * 5))|$(((orders + 1) * 5))" "messages"
	expect_eq "$(q "SELECT count(*) FROM tags WHERE tag LIKE 'ping %'")" "$events" "tags"
	expect_eq "$(q "SELECT count(*) FROM outbox WHERE status <> 'sent'")" 0 "unsent"
	expect_eq "$(ls "$T/outbox" | grep -c '\.eml$')" $(((orders + 1) * 5)) ".eml files"
	expect_eq "$(q "SELECT count(*), count(DISTINCT event_id) FROM audit WHERE rule = 'thanks'")" \
		"$(((orders + 1) * 5))|$(((orders + 1) * 5))" "audit"
	expect_eq "$(q "PRAGMA integrity_check")" ok
}

t_a_second_run_says_one_is_running_or_waits_for_it() {
	mkdir -p "$T/rules"
	cat >"$T/rules/slow.lua" <<-'LUA'
	rule { name = "slow", on = "ping", max_age = false,
	  where = function(c, e) local x = 0 for i = 1, 300000 do x = x + i end return true end,
	  act = function(c, e) tag(c, "seen") end }
	LUA
	printf 'email\na@example.com\n' >"$T/customers.csv"
	"$PATRON" --db "$DB" --now $NOW import customers "$T/customers.csv" >/dev/null
	seq 1 3000 | awk '{print "{\"topic\":\"ping\",\"customer\":\"a@example.com\"}"}' >"$T/pings.jsonl"
	"$PATRON" --db "$DB" --now $NOW import events "$T/pings.jsonl" >/dev/null
	"$PATRON" --db "$DB" --now $NOW run "$T/rules" >"$T/first" 2>&1 &
	pid=$!
	for _ in $(seq 1 100); do	# until the first run holds the lock
		[ -e "$DB.run.lock" ] && break
		sleep 0.05
	done
	sleep 0.2
	run "$PATRON" --db "$DB" --now $NOW run "$T/rules"
	expect_rc 1
	expect_in "$T/err" "another patron run is running on $DB (--wait waits for it)"
	run "$PATRON" --db "$DB" --now $NOW run "$T/rules" --wait
	expect_rc 0
	wait $pid || fail "the first run failed: $(cat "$T/first")"
	expect_in "$T/out" "0 events"
	expect_eq "$(q "SELECT count(*) FROM audit WHERE rule = 'slow'")" 3000
}
