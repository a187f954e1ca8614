# Intent classification, sourced by scripts/bench.sh (which gives PATRON,
# WORK, BUILD, MODE and figure): the shipped labelled examples split the same
# way each run (the first 192 rows to learn from, the last 48 to measure on;
# the rows are interleaved by label), each plugin's macro-F1 beside
# scikit-learn's MultinomialNB and LogisticRegression on the same features
# (scripts/bench/intents_sklearn.py), and labelling throughput over 24,000
# messages.
I="$WORK/intents"
mkdir -p "$I"
head -1 examples/intents.csv >"$I/train.csv"
head -1 examples/intents.csv >"$I/test.csv"
tail -n +2 examples/intents.csv | head -192 >>"$I/train.csv"
tail -n +194 examples/intents.csv >>"$I/test.csv"
head -1 examples/intents.csv >"$I/many.csv"
for _ in $(seq 500); do tail -n +2 "$I/test.csv"; done >>"$I/many.csv"
sk=$(/usr/bin/python3 scripts/bench/intents_sklearn.py "$I/train.csv" "$I/test.csv" 2>/dev/null || true)
ROWS=48
for plugin in bayes linear; do
	rm -f "$I"/store.db*
	"$PATRON" --db "$I/store.db" init >/dev/null
	"$PATRON" --db "$I/store.db" train intents "$I/train.csv" --plugin $plugin >/dev/null 2>&1 ||
		{ echo "bench: patron train intents --plugin $plugin failed" >&2; exit 1; }
	f1=$("$PATRON" --db "$I/store.db" --json eval intents --test "$I/test.csv" --plugin $plugin |
		jq -r .macro_f1)
	rate=$("$PATRON" --db "$I/store.db" --json eval intents --test "$I/many.csv" --plugin $plugin |
		jq -r '.texts / .seconds | floor')
	peer=$(awk -v p=$plugin '$1 == p { print $2 }' <<<"$sk")
	if [ -n "$peer" ]; then
		printf '%-44s %10.3f macro-F1  scikit-learn %.3f  difference %+.3f (target within 0.02)\n' \
			"intent.$plugin, shipped examples 192/48" "$f1" "$peer" "$(echo "$f1 - $peer" | bc -l)"
		figure "intent_${plugin}_macro_f1" "$f1" "macro-F1" "$peer" higher \
			"live: scikit-learn $([ $plugin = bayes ] && echo MultinomialNB || echo LogisticRegression ovr) (scripts/bench/intents_sklearn.py)"
	else
		printf '%-44s %10.3f macro-F1  (no scikit-learn here)\n' "intent.$plugin, shipped examples 192/48" "$f1"
		figure "intent_${plugin}_macro_f1" "$f1" "macro-F1" null higher
	fi
	printf '%-44s %10s texts/s (24,000 messages, the model loaded once)\n' "intent.$plugin: labelling" "$rate"
	figure "intent_${plugin}_texts_per_s" "$rate" "texts/s" null higher
done
rm -rf "$I"
