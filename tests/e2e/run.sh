#!/usr/bin/env bash
# Runs every tests/e2e/test_*.sh suite: each function named t_* in it is one
# test, run in a subshell with a fresh folder. Ends with
# "e2e: N passed, N failed".
# Usage: tests/e2e/run.sh BUILD-DIR
set -u
here=$(cd "$(dirname "$0")" && pwd)
BUILD=$(cd "${1:-build}" && pwd)
ROOT=$(cd "$here/../.." && pwd)
export PATRON="$BUILD/patron" PATRON_GEN="$BUILD/patron-gen" DATA="$here/data" ROOT BUILD
export TEST_PLUGINS="$BUILD/test-plugins"
passed=0
failed=0
# E2E_SUITE=NAME runs only tests/e2e/test_NAME.sh (for day-to-day work).
for suite in "$here"/test_${E2E_SUITE:-*}.sh; do
	tests=$(bash -c "source '$here/lib.sh'; source '$suite'; declare -F" | awk '$3 ~ /^t_/ {print $3}')
	suite_passed=$passed suite_failed=$failed
	for t in $tests; do
		dir=$(mktemp -d "${TMPDIR:-/tmp}/patron-e2e-XXXXXX")
		if (
			set -e
			cd "$dir"
			export T="$dir" DB="$dir/patron.db"
			unset PATRON_DB PATRON_PLUGIN_PATH
			source "$here/lib.sh"
			source "$suite"
			"$t"
		) 2>"$dir/.why"; then
			passed=$((passed + 1))
			echo "ok   $(basename "$suite" .sh) $t"
		else
			failed=$((failed + 1))
			echo "FAIL $(basename "$suite" .sh) $t"
			sed 's/^/     /' "$dir/.why" | head -20
		fi
		# servers a test started (tests/servers) stop with it, pass or fail
		for pidfile in "$dir"/.server-*.pid; do
			[ -f "$pidfile" ] && kill "$(cat "$pidfile")" 2>/dev/null
		done
		rm -rf "$dir"
	done
	echo "== $(basename "$suite" .sh): $((passed - suite_passed)) passed, $((failed - suite_failed)) failed"
done
echo "e2e: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
