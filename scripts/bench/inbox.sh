# The inbox, sourced by scripts/bench.sh (which gives PATRON, WORK, MODE,
# RUNS, timed and figure): a Maildir of customers' emails in the shapes mail
# programs send (scripts/bench/mailgen.py, made once) imported into a fresh
# store: messages per second and peak memory, medians of RUNS runs.
MAILS=100000
[ "$MODE" = quick ] && MAILS=10000
MAILDIR="$BUILD/bench-data/maildir-$MAILS"
if [ ! -f "$MAILDIR/.done" ]; then
	rm -rf "$MAILDIR"
	echo "writing $MAILS emails to $MAILDIR (once)"
	/usr/bin/python3 scripts/bench/mailgen.py "$MAILDIR" "$MAILS" 1
	touch "$MAILDIR/.done"
fi
timed "patron import inbox" "'$PATRON' --db \"\$STORE\" import inbox '$MAILDIR'"
inbox_rate=$(echo "$MAILS / $SECS" | bc)
inbox_rss=$(echo "$RSS_KB / 1024" | bc)
ROWS=$MAILS
printf '%-44s %10s msg/s  (%s s, %s MiB; MIME, charsets, threading, sentiment, one transaction)\n' \
	"import inbox: $MAILS emails from a Maildir" "$inbox_rate" "$SECS" "$inbox_rss"
figure inbox_import_messages_per_s "$inbox_rate" "messages/s" null higher
figure inbox_import_peak_rss "$inbox_rss" "MiB" null lower
