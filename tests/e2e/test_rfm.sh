# segment.rfm against scores computed by hand.
#
# Ten buyers, as of 2024-12-31: (orders F, each of amount p, last order R days ago).
#   c1  1 x 100, 5     c2  1 x 5, 400    c3  2 x 10, 200   c4  2 x 60, 30
#   c5  3 x 10, 90     c6  3 x 40, 10    c7  4 x 5, 365    c8  4 x 50, 60
#   c9  5 x 30, 2      c10 5 x 2, 700    c11 never ordered
# A score is 1 + floor(5 b / 10), b = buyers strictly worse:
#   F: 1,1,2,2,3,3,4,4,5,5 (pairs tie)
#   M (100,5,20,120,30,120,20,200,150,10): 3,1,2,4,3,4,2,5,5,1
#   R (5,400,200,30,90,10,365,60,2,700 days): 5,1,2,4,3,4,2,3,5,1
# FM = round((F+M)/2): 2,1,2,3,3,4,3,5,5,3, and the grid gives the segments.

rfm_store() {
	{
		echo "order_id,email,created_at,sku,quantity,price"
		set -- 1:100:5 1:5:400 2:10:200 2:60:30 3:10:90 3:40:10 4:5:365 4:50:60 5:30:2 5:2:700
		i=0
		for spec in "$@"; do
			i=$((i + 1))
			IFS=: read -r f p r <<<"$spec"
			for k in $(seq 1 "$f"); do
				day=$(date -u -d "2024-12-31 - $((r + k - 1)) days" +%F)
				echo "c$i-$k,c$i@example.com,$day,SKU-$k,1,$p"
			done
		done
	} >"$T/orders.csv"
	"$PATRON" --db "$DB" import orders "$T/orders.csv" >/dev/null
	printf 'email,created_at\nc11@example.com,2024-01-01\n' >"$T/c.csv"
	"$PATRON" --db "$DB" import customers "$T/c.csv" >/dev/null
}

# score NAME EMAIL: the score's value (or label for "segment").
score() {
	q "SELECT coalesce(s.label, CAST(s.value AS TEXT)) FROM scores s JOIN identities i ON i.customer_id = s.customer_id AND i.kind = 'email' WHERE i.value = '$2' AND s.name = '$1'"
}

t_rfm_scores_and_segments_match_hand_computed_values() {
	rfm_store
	printf 'segment = "rfm"\nvalue = false\n' >"$T/patron.conf"
	run "$PATRON" --db "$DB" --now 2024-12-31 score
	expect_rc 0
	expect_in "$T/out" "segment: segment.rfm 1.0"
	want_r=(5 1 2 4 3 4 2 3 5 1)
	want_f=(1 1 2 2 3 3 4 4 5 5)
	want_m=(3 1 2 4 3 4 2 5 5 1)
	want_s=(potential_loyalist lost hibernating loyal need_attention champions at_risk loyal champions at_risk)
	for i in $(seq 1 10); do
		expect_eq "$(score rfm.r "c$i@example.com")" "${want_r[$((i - 1))]}.0" "c$i R"
		expect_eq "$(score rfm.f "c$i@example.com")" "${want_f[$((i - 1))]}.0" "c$i F"
		expect_eq "$(score rfm.m "c$i@example.com")" "${want_m[$((i - 1))]}.0" "c$i M"
		expect_eq "$(score segment "c$i@example.com")" "${want_s[$((i - 1))]}" "c$i segment"
	done
	expect_eq "$(score segment c11@example.com)" prospect
	expect_eq "$(score rfm.r c11@example.com)" ""
	# The weighted value: (R + F + M) / 3 for c8 = (3 + 4 + 5) / 3.
	expect_eq "$(score rfm.value c8@example.com)" "4.0"
	printf 'segment = { plugin = "rfm", weight_m = 2 }\nvalue = false\n' >"$T/patron.conf"
	run "$PATRON" --db "$DB" --now 2024-12-31 score
	expect_rc 0
	expect_eq "$(score rfm.value c8@example.com)" "4.25"
	run "$PATRON" --db "$DB" --now 2024-12-31 customer c6@example.com
	expect_in "$T/out" "segment            champions"
	expect_in "$T/out" "rfm.r              4"
	# The profile of each segment: champions are c6 and c9 (10 and 2 days,
	# 3 and 5 orders, 120 and 150 spent).
	run "$PATRON" --db "$DB" --now 2024-12-31 segments
	expect_rc 0
	expect_in "$T/out" "segments by segment.rfm 1.0, 11 customers as of --now:"
	expect_in "$T/out" "  champions                   2   18.2%            6        4.0       135.00"
	expect_in "$T/out" "  prospect                    1    9.1%            -        0.0         0.00"
	run "$PATRON" --db "$DB" --now 2024-12-31 segments --json
	expect_in "$T/out" '"segment": "at_risk"'
}

t_rfm_refuses_bad_weights() {
	"$PATRON" --db "$DB" init >/dev/null
	echo 'segment = { plugin = "rfm", weight_r = -1 }' >"$T/patron.conf"
	run "$PATRON" --db "$DB" score
	expect_rc 1
	expect_in "$T/err" "patron: plugin segment.rfm: init failed: option weight_r: expected a number of at least 0"
	echo 'segment = { plugin = "rfm", weight_r = 0, weight_f = 0, weight_m = 0 }' >"$T/patron.conf"
	run "$PATRON" --db "$DB" score
	expect_rc 1
	expect_in "$T/err" "at least one must be above 0"
	# A misspelt option is refused, naming the plugin's own.
	echo 'segment = { plugin = "rfm", wieght_m = 2 }' >"$T/patron.conf"
	run "$PATRON" --db "$DB" score
	expect_rc 1
	expect_in "$T/err" "patron: $T/patron.conf: segment.wieght_m: segment.rfm has no option \"wieght_m\" (its options: weight_r, weight_f, weight_m)"
}
