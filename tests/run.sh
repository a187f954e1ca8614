#!/bin/sh
# Runs the unit suites (Check) and the end-to-end suites, then prints one
# line counting both: "check: N passed, N failed".
# Usage: tests/run.sh BUILD-DIR
BUILD=${1:-build}
unit_out=$(mktemp)
"$BUILD/unit-tests" 2>&1 | tee "$unit_out"
summary=$(grep -E '^[0-9]+%: Checks: ' "$unit_out" | tail -1)
rm -f "$unit_out"
checks=$(echo "$summary" | sed -E 's/.*Checks: ([0-9]+).*/\1/')
fails=$(echo "$summary" | sed -E 's/.*Failures: ([0-9]+), Errors: ([0-9]+).*/\1 \2/' | awk '{print $1+$2}')
[ -n "$checks" ] || { checks=0; fails=1; echo "unit-tests: no Check summary"; }

# Each test's line shows as it finishes, each suite's count after its last.
e2e_out=$(mktemp)
e2e_status=$(mktemp)
{ tests/e2e/run.sh "$BUILD"; echo $? >"$e2e_status"; } | tee "$e2e_out"
e2e_rc=$(cat "$e2e_status")
last=$(tail -1 "$e2e_out")
rm -f "$e2e_out" "$e2e_status"
e2e_pass=$(echo "$last" | sed -nE 's/^e2e: ([0-9]+) passed, ([0-9]+) failed$/\1/p')
e2e_fail=$(echo "$last" | sed -nE 's/^e2e: ([0-9]+) passed, ([0-9]+) failed$/\2/p')
[ -n "$e2e_pass" ] || { e2e_pass=0; e2e_fail=1; }

passed=$((checks - fails + e2e_pass))
failed=$((fails + e2e_fail))
echo "check: $passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$e2e_rc" -eq 0 ]
