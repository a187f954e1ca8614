# Helpers for the end-to-end suites. Each test runs in its own subshell, in
# a fresh folder ($T) with its own store ($DB); `fail` ends it.
# shellcheck shell=bash

fail() {
	echo "    $*" >&2
	exit 1
}

# run CMD...: runs it, keeping stdout in $T/out, stderr in $T/err, status in $RC.
run() {
	set +e
	"$@" >"$T/out" 2>"$T/err"
	RC=$?
	set -e
}

expect_rc() {
	[ "$RC" -eq "$1" ] || fail "exit status $RC, expected $1; stderr: $(head -c 600 "$T/err")"
}

expect_eq() {
	[ "$1" = "$2" ] || fail "${3:-value}: got \"$1\", expected \"$2\""
}

# expect_in FILE TEXT: FILE has TEXT as a fixed string.
expect_in() {
	grep -qF -- "$2" "$1" || fail "$(basename "$1") lacks \"$2\"; it has: $(head -c 800 "$1")"
}

# q SQL: the answer of SQL in the test's store.
q() {
	sqlite3 "$DB" "$1"
}

# free_port: a TCP port on 127.0.0.1 nobody listens on now.
free_port() {
	/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start_server NAME SCRIPT ARGS...: starts tests/servers/SCRIPT in the
# background (ARGS include --port), waits until it listens. Stopped by
# stop_server NAME, or by the runner when the test ends.
start_server() {
	local name=$1 script=$2
	shift 2
	rm -f "$T/.server-$name.ready"
	/usr/bin/python3 "$ROOT/tests/servers/$script" --ready "$T/.server-$name.ready" "$@" \
		>"$T/.server-$name.log" 2>&1 &
	echo $! >"$T/.server-$name.pid"
	for _ in $(seq 100); do
		[ -f "$T/.server-$name.ready" ] && return 0
		kill -0 "$(cat "$T/.server-$name.pid")" 2>/dev/null ||
			fail "server $name did not start: $(cat "$T/.server-$name.log")"
		sleep 0.1
	done
	fail "server $name did not start in 10 s"
}

stop_server() {
	local pid
	pid=$(cat "$T/.server-$1.pid")
	kill "$pid" 2>/dev/null || true
	while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
	rm -f "$T/.server-$1.pid"
}

# start_serve [ARGS...]: starts patron serve on the test's store at a free
# port of 127.0.0.1; $URL is its address. Stopped by the runner when the
# test ends.
start_serve() {
	rm -f "$T/serve.out"
	"$PATRON" --db "$DB" serve --listen 127.0.0.1:0 --access-log "$T/access.log" "$@" \
		>"$T/serve.out" 2>"$T/serve.err" &
	echo $! >"$T/.server-patron.pid"
	for _ in $(seq 100); do
		if grep -q "listening on" "$T/serve.out" 2>/dev/null; then
			URL=$(sed -n 's/.*listening on //p' "$T/serve.out")
			return 0
		fi
		kill -0 "$(cat "$T/.server-patron.pid")" 2>/dev/null ||
			fail "patron serve did not start: $(cat "$T/serve.err")"
		sleep 0.1
	done
	fail "patron serve did not start in 10 s"
}
