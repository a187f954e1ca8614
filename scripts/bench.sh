#!/usr/bin/env bash
# Patron's benchmark: whole-process figures, each next to the peer measured on
# the same data in the same run. Medians of 3 runs (the machines are noisy).
# Writes every figure to BUILD/bench.json as well.
# Usage: scripts/bench.sh BUILD full|quick
set -euo pipefail
BUILD=${1:-build}
MODE=${2:-full}
RUNS=${RUNS:-3}
case "$MODE" in
full) CUSTOMERS=200000 LINES=2000000 ;;
quick) CUSTOMERS=20000 LINES=200000 ;;
*) echo "usage: scripts/bench.sh BUILD full|quick" >&2; exit 2 ;;
esac
PATRON="$BUILD/patron"
DATA="$BUILD/bench-data/$MODE"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/patron-bench-XXXXXX")
trap 'rm -rf "$WORK"' EXIT
TIME=/usr/bin/time
[ -x "$TIME" ] || { echo "bench: /usr/bin/time is missing (Debian package: time)" >&2; exit 1; }
command -v sqlite3 >/dev/null || { echo "bench: the sqlite3 shell is missing" >&2; exit 1; }

# The data set is generated once and kept, keyed by its parameters.
stamp="customers=$CUSTOMERS lines=$LINES seed=1 end=2026-06-30"
if [ "$(cat "$DATA/.stamp" 2>/dev/null)" != "$stamp" ]; then
	rm -rf "$DATA"
	mkdir -p "$DATA"
	start=$(date +%s.%N)
	"$BUILD/patron-gen" --out "$DATA" --customers "$CUSTOMERS" --lines "$LINES" --seed 1 \
		--end 2026-06-30
	echo "generated in $(echo "$(date +%s.%N) - $start" | bc) s"
	echo "$stamp" >"$DATA/.stamp"
fi
ORDERS="$DATA/orders.csv"
ROWS=$(($(wc -l <"$ORDERS") - 1))

median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

# timed LABEL COMMAND: runs the shell COMMAND RUNS times, each on a fresh
# store ($STORE in it); sets SECS and RSS_KB (medians). The command is exec'd,
# so the memory measured is its own.
timed() {
	local label=$1 cmd=$2 i
	: >"$WORK/secs"
	: >"$WORK/rss"
	for i in $(seq "$RUNS"); do
		rm -f "$WORK"/store*
		STORE="$WORK/store.db" "$TIME" -f '%e %M' -o "$WORK/t" bash -c "exec $cmd" \
			>/dev/null 2>"$WORK/err" ||
			{ echo "bench: $label failed: $(tail -3 "$WORK/err")" >&2; exit 1; }
		read -r s m <"$WORK/t"
		echo "$s" >>"$WORK/secs"
		echo "$m" >>"$WORK/rss"
	done
	SECS=$(median <"$WORK/secs")
	RSS_KB=$(median <"$WORK/rss")
}

JSON="$BUILD/bench.json"
DATE=$(date -u +%Y-%m-%dT%H:%M:%SZ)
entries=()
# figure NAME VALUE UNIT PEER-VALUE RATIO
figure() {
	entries+=("$(printf '{"name": "%s", "value": %s, "unit": "%s", "peer_value": %s, "ratio": %s, "data_size": %s, "date": "%s"}' \
		"$1" "$2" "$3" "${4:-null}" "${5:-null}" "$ROWS" "$DATE")")
}

echo "data: $ROWS order lines ($MODE), $RUNS runs each, medians"

timed "patron import" "'$PATRON' --db \"\$STORE\" import orders '$ORDERS'"
p_secs=$SECS p_rss=$RSS_KB

timed "sqlite3 .import" "sqlite3 \"\$STORE\" '.mode csv' '.import $ORDERS orders'"
s_secs=$SECS

p_rate=$(echo "$ROWS / $p_secs" | bc)
s_rate=$(echo "$ROWS / $s_secs" | bc)
ratio=$(printf "%.3f" "$(echo "scale=4; $p_rate / $s_rate" | bc)")
rss_mib=$(echo "$p_rss / 1024" | bc)
printf '%-44s %10s rows/s  (%s s)   sqlite3 .import %s rows/s (%s s)   ratio %s (target >= 1.0)\n' \
	"import orders, validated, into a fresh store" "$p_rate" "$p_secs" "$s_rate" "$s_secs" "$ratio"
printf '%-44s %10s MiB   (target < 200 MiB)\n' "import peak memory (RSS)" "$rss_mib"
figure import_rows_per_s "$p_rate" "rows/s" "$s_rate" "$ratio"
figure import_seconds "$p_secs" "s" "$s_secs" null
figure import_peak_rss "$rss_mib" "MiB" null null

{
	echo "["
	for i in "${!entries[@]}"; do
		sep=,
		[ "$i" -eq $((${#entries[@]} - 1)) ] && sep=
		echo "  ${entries[$i]}$sep"
	done
	echo "]"
} >"$JSON"
echo "figures written to $JSON"
