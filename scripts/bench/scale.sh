# How cost grows, sourced by scripts/bench.sh (which gives PATRON, BUILD,
# WORK, MODE, TIME, median, figure, and the big store's figures measured
# before: snap_secs, rfm_secs, sched_secs, knn_big_secs). Each step a whole
# process, once, on stores of 10,000 and 100,000 customers with ten order
# lines each (generated once and kept), beside the big store's own figures
# (1,000,000 customers; 100,000 in make bench-quick, which has no 100,000
# row of its own). The big store's import is not timed again: it is built
# once and kept. Per-customer times that stay level mean linear growth.
scale_sizes="10000 100000"
[ "$MODE" = quick ] && scale_sizes="10000"
cat >"$WORK/scale-rfm.conf" <<'CONF'
segment = "rfm"
value = false
churn = false
recommend = false
CONF
printf 'segment = false\nvalue = false\nchurn = false\nrecommend = "itemknn"\n' >"$WORK/scale-knn.conf"
# once STEP COMMAND...: the whole process's seconds into $once.
once() {
	local step=$1
	shift
	"$TIME" -f '%e' -o "$WORK/t" "$@" >/dev/null 2>"$WORK/err" ||
		{ echo "bench: scale $step failed: $(tail -3 "$WORK/err")" >&2; exit 1; }
	once=$(cat "$WORK/t")
}
echo
echo "how cost grows (seconds, whole processes, once each; per customer in brackets):"
printf '%-10s %-17s %-17s %-17s %-17s %-17s\n' customers import snapshot "score rfm" \
	"lapsed-VIP rule" "itemknn"
per() { awk -v s="$1" -v n="$2" 'BEGIN { printf "%s (%.1f us)", s, s / n * 1e6 }'; }
for n in $scale_sizes; do
	dir="$BUILD/bench-data/scale-$n"
	stamp="customers=$n lines=$((n * 10)) seed=3 end=2026-06-30"
	if [ "$(cat "$dir/.stamp" 2>/dev/null)" != "$stamp" ]; then
		rm -rf "$dir"
		mkdir -p "$dir"
		"$BUILD/patron-gen" --out "$dir" --customers "$n" --lines $((n * 10)) --seed 3 \
			--end 2026-06-30 >/dev/null
		echo "$stamp" >"$dir/.stamp"
	fi
	db="$WORK/scale.db"
	rm -f "$db"*
	once import bash -c 'for k in products customers orders; do "$1" --db "$2" import "$k" "$3/$k.csv" || exit 1; done' \
		import "$PATRON" "$db" "$dir"
	imp=$once
	once snapshot "$PATRON" --db "$db" --now 2026-06-30 snapshot
	snap=$once
	once rfm "$PATRON" --db "$db" --config "$WORK/scale-rfm.conf" --now 2026-06-30 score
	rfm=$once
	"$PATRON" --db "$db" --now 2026-06-30 run "$WORK/catchup.lua" --quiet >/dev/null 2>&1
	once rule "$PATRON" --db "$db" --now 2026-06-30 run "$WORK/vip.lua" --dry-run --quiet
	rule=$once
	once itemknn "$PATRON" --db "$db" --config "$WORK/scale-knn.conf" --now 2026-06-30 score
	knn=$once
	rm -f "$db"*
	printf '%-10s %-17s %-17s %-17s %-17s %-17s\n' "$n" "$(per "$imp" "$n")" "$(per "$snap" "$n")" \
		"$(per "$rfm" "$n")" "$(per "$rule" "$n")" "$(per "$knn" "$n")"
	ROWS=$n
	figure "scale_${n}_import_seconds" "$imp" "s" null lower
	figure "scale_${n}_snapshot_seconds" "$snap" "s" null lower
	figure "scale_${n}_score_rfm_seconds" "$rfm" "s" null lower
	figure "scale_${n}_rule_seconds" "$rule" "s" null lower
	figure "scale_${n}_itemknn_seconds" "$knn" "s" null lower
done
printf '%-10s %-17s %-17s %-17s %-17s %-17s\n' "$BIG_CUSTOMERS" "(built once)" \
	"$(per "$snap_secs" "$BIG_CUSTOMERS")" "$(per "$rfm_secs" "$BIG_CUSTOMERS")" \
	"$(per "$sched_secs" "$BIG_CUSTOMERS")" "$(per "$knn_big_secs" "$BIG_CUSTOMERS")"
