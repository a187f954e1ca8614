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
