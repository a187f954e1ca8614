# The demo and the data generator.

t_demo_builds_a_populated_store_and_shows_a_customer() {
	run "$PATRON" --db "$DB" --now 2026-11-23 demo --customers 400
	expect_rc 0
	expect_in "$T/out" "400 customers"
	expect_in "$T/out" "your best customer:"
	expect_in "$T/out" "total spent"
	expect_in "$T/out" "Try:"
	# It ends on the owner's report, beside the store.
	expect_in "$T/out" "the week's report: $T/report.html (open it in a browser)"
	expect_in "$T/report.html" "How the business is doing"
	expect_eq "$(q 'SELECT count(*) FROM customers')" 400
	# The demo scores too: every customer has a spend segment.
	expect_eq "$(q "SELECT count(*) FROM scores WHERE name='segment' AND model='segment.rfm 1.0'")" 400
	expect_in "$T/out" "segment            champions"
	[ "$(q 'SELECT count(*) FROM orders WHERE revenue')" -gt 300 ] || fail "too few orders"
	[ "$(q 'SELECT count(*) FROM feedback')" -gt 10 ] || fail "no feedback"
	# Some customers lapsed: no order in the last 180 days though they bought before.
	lapsed=$(q "SELECT count(*) FROM (SELECT customer_id, max(placed_at) m FROM orders GROUP BY 1) WHERE m < strftime('%s','2026-11-23') - 180*86400")
	[ "$lapsed" -gt 40 ] || fail "only $lapsed lapsed customers"
	run "$PATRON" --db "$DB" --now 2026-11-23 demo --customers 400
	expect_rc 0
	expect_in "$T/out" "0 new orders"
}

t_demo_on_a_tiny_shop_skips_what_it_cannot_learn_with_one_line() {
	run "$PATRON" --db "$DB" --now 2026-11-23 demo --customers 10
	expect_rc 0
	expect_in "$T/out" "churn.logreg skipped: "
	expect_in "$T/out" "it trains once the store has more history"
	expect_in "$T/out" "value.clv skipped: needs at least 20 customers with a paid order"
	expect_in "$T/out" "your best customer:"
	expect_eq "$(q 'SELECT count(*) FROM models')" 0
	# Asked for by name, the same training is an error.
	run "$PATRON" --db "$DB" --now 2026-11-23 train churn --horizon 90d
	expect_rc 1
	expect_in "$T/err" "one class only"
}

t_generator_is_deterministic_and_seeded() {
	"$PATRON_GEN" --out "$T/a" --customers 500 --seed 3 --end 2026-01-31 >/dev/null
	"$PATRON_GEN" --out "$T/b" --customers 500 --seed 3 --end 2026-01-31 >/dev/null
	"$PATRON_GEN" --out "$T/c" --customers 500 --seed 4 --end 2026-01-31 >/dev/null
	for f in customers products orders feedback; do
		cmp -s "$T/a/$f.csv" "$T/b/$f.csv" || fail "$f.csv differs for the same seed"
	done
	cmp -s "$T/a/orders.csv" "$T/c/orders.csv" && fail "another seed gave the same orders"
	# Nothing is dated after the end of the history.
	last=$(tail -n +2 "$T/a/orders.csv" | cut -d, -f3 | sort | tail -1)
	[[ "$last" < "2026-02-01" ]] || fail "an order on $last, after --end"
	true
}

t_generator_hits_the_asked_number_of_lines() {
	run "$PATRON_GEN" --out "$T/g" --customers 5000 --lines 100000 --seed 1 --end 2026-01-31
	expect_rc 0
	lines=$(($(wc -l <"$T/g/orders.csv") - 1))
	[ "$lines" -gt 90000 ] && [ "$lines" -lt 110000 ] || fail "$lines lines for 100000 asked"
}
