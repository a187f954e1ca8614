# segment.kmeans through patron score, and its bad input.

t_kmeans_segments_the_demo_and_profiles_the_clusters() {
	"$PATRON" --db "$DB" --now 2026-11-23 demo --customers 600 >/dev/null
	printf 'segment = { plugin = "kmeans", k = 4 }\nvalue = false\n' >"$T/patron.conf"
	run "$PATRON" --db "$DB" --now 2026-11-23 score
	expect_rc 0
	expect_in "$T/out" "segment: segment.kmeans 1.0 wrote 600 results"
	expect_in "$T/err" "k = 4 on 600 customers x 3 columns: inertia"
	expect_eq "$(q "SELECT count(DISTINCT label) FROM scores WHERE name='segment'")" 4
	# cluster-1 is the highest-spending group.
	run "$PATRON" --db "$DB" --now 2026-11-23 segments --json
	top=$(q "SELECT label FROM scores s JOIN (SELECT customer_id, sum(total_cents) t FROM orders WHERE revenue GROUP BY 1) o USING (customer_id) WHERE s.name='segment' GROUP BY label ORDER BY sum(t) * 1.0 / count(*) DESC LIMIT 1")
	expect_eq "$top" cluster-1
	# Each cluster's centroid, in the clustered columns' own units: orders
	# and spend are never missing, so they are the segment's means.
	expect_eq "$(q "SELECT count(*) FROM json_each(readfile('$T/out')) WHERE abs(json_extract(value, '\$.centroid.frequency') - json_extract(value, '\$.mean_orders')) < 1e-9 AND abs(json_extract(value, '\$.centroid.monetary_total') - json_extract(value, '\$.mean_spend')) < 1e-6 AND json_extract(value, '\$.centroid.recency_days') > 0")" 4 "centroids"
	run "$PATRON" --db "$DB" --now 2026-11-23 segments
	expect_in "$T/out" "      centroid: recency_days "
	expect_eq "$(q "SELECT count(*) FROM models WHERE name='segment.kmeans' AND json_extract(params, '\$.k') = 4")" 1
	# The same seed gives the same clusters.
	q "SELECT customer_id, label FROM scores WHERE name='segment' ORDER BY 1" >"$T/a"
	run "$PATRON" --db "$DB" --now 2026-11-23 score
	q "SELECT customer_id, label FROM scores WHERE name='segment' ORDER BY 1" >"$T/b"
	cmp -s "$T/a" "$T/b" || fail "two runs with one seed differ"
}

t_kmeans_bad_input_gets_one_clear_line() {
	printf 'email,created_at\na@x.com,2024-01-01\nb@x.com,2024-01-01\n' >"$T/c.csv"
	"$PATRON" --db "$DB" import customers "$T/c.csv" >/dev/null
	printf 'segment = { plugin = "kmeans", k = 3, columns = "tenure_days,frequency" }\nvalue = false\n' >"$T/patron.conf"
	run "$PATRON" --db "$DB" --now 2024-06-01 score
	expect_rc 1
	# Both customers have the same tenure and no orders: nothing varies.
	expect_in "$T/err" "segment.kmeans: warning: column tenure_days is constant; left out"
	expect_in "$T/err" "patron: plugin segment.kmeans: every chosen column is constant: nothing to cluster on"
	printf 'segment = { plugin = "kmeans", k = 3, columns = "recency" }\nvalue = false\n' >"$T/patron.conf"
	run "$PATRON" --db "$DB" score
	expect_in "$T/err" 'option columns: there is no feature "recency" (see patron snapshot)'
	printf 'segment = { plugin = "kmeans", k = "many" }\nvalue = false\n' >"$T/patron.conf"
	run "$PATRON" --db "$DB" score
	expect_in "$T/err" 'option k: expected a whole number from 1 to 256, or "auto"'
	printf 'email,created_at\nc@x.com,2024-03-01\n' >"$T/d.csv"
	"$PATRON" --db "$DB" import customers "$T/d.csv" >/dev/null
	printf 'segment = { plugin = "kmeans", k = 5, columns = "tenure_days" }\nvalue = false\n' >"$T/patron.conf"
	run "$PATRON" --db "$DB" --now 2024-06-01 score
	expect_rc 1
	expect_in "$T/err" "patron: plugin segment.kmeans: k = 5, but there are 3 customers to cluster"
}

t_several_segmentations_side_by_side() {
	"$PATRON" --db "$DB" --now 2026-11-23 demo --customers 600 >/dev/null 2>&1
	rfm_alone=$(q "SELECT group_concat(label, ',') FROM (SELECT label FROM scores WHERE name = 'segment' ORDER BY customer_id)")
	echo 'segment = { "rfm", { plugin = "kmeans", k = 3 }, "tiers" }' >"$T/patron.conf"
	run "$PATRON" --db "$DB" --now 2026-11-23 score --only segment
	expect_rc 0
	expect_in "$T/out" "segment: segment.rfm 1.0 wrote"
	expect_in "$T/out" "segment: segment.kmeans 1.0 wrote 600 results"
	expect_in "$T/out" "segment: segment.tiers 1.0 wrote 600 results"
	# The first is c.segment as before; each other under its own name.
	expect_eq "$(q "SELECT group_concat(label, ',') FROM (SELECT label FROM scores WHERE name = 'segment' ORDER BY customer_id)")" "$rfm_alone" "rfm"
	expect_eq "$(q "SELECT count(DISTINCT label) FROM scores WHERE name = 'segment.kmeans'")" 3 "k = 3 reached kmeans"
	expect_eq "$(q "SELECT count(*) FROM scores WHERE name = 'segment.tiers'")" 600
	# Rules reach them all: c.segments.NAME.
	mkdir -p "$T/rules"
	cat >"$T/rules/both.lua" <<'LUA'
rule { name = "both", every = "1d",
  where = function(c) return c.segments.rfm == c.segment and c.segments.kmeans ~= nil
                             and c.segments.tiers == "top" end,
  act = function(c) tag(c, "seen") end }
LUA
	run "$PATRON" --db "$DB" --now 2026-11-23 run "$T/rules"
	expect_rc 0
	expect_eq "$(q "SELECT count(*) FROM tags WHERE tag = 'seen'")" \
		"$(q "SELECT count(*) FROM scores WHERE name = 'segment.tiers' AND label = 'top'")" "tagged"
	run "$PATRON" --db "$DB" --now 2026-11-23 --json segments --by kmeans
	expect_rc 0
	expect_eq "$(jq length "$T/out")" 3
	run "$PATRON" --db "$DB" --now 2026-11-23 segments --by clusters
	expect_rc 1
	expect_in "$T/err" "--by clusters: no segmentation clusters in the store (there are: rfm, kmeans, tiers)"
	run "$PATRON" --db "$DB" --now 2026-11-23 report --out "$T/r.html"
	expect_rc 0
	expect_in "$T/r.html" "<h3>By rfm (c.segment)</h3>"
	expect_in "$T/r.html" '<table class="segment-table" data-by="kmeans">'
	# A list is for segmentations only, and each entry a plugin.
	echo 'churn = { "logreg", "forest" }' >"$T/patron.conf"
	run "$PATRON" --db "$DB" score
	expect_rc 1
	expect_in "$T/err" "churn: a list of plugins is for segment only"
	echo 'segment = { "rfm", 5 }' >"$T/patron.conf"
	run "$PATRON" --db "$DB" score
	expect_rc 1
	expect_in "$T/err" "segment[2]: expected a plugin name or a table { plugin = NAME, ... }"
}
