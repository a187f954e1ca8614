# Churn: labels, the four plugins, explanations, evaluation against the
# public telecom data, models over time, and bad input.

SHARED="$ROOT/../shared/data"

# mlc: the public telecom customers imported, the label in attribute churn.
mlc() {
	"$PATRON" --db "$DB" import customers "$SHARED/mlc_churn_train.csv" >/dev/null
}

# auc PLUGIN: ROC AUC on mlc_churn_test.csv of PLUGIN trained on the store.
auc() {
	"$PATRON" --db "$DB" --json eval churn --plugin "$1" --label churn \
		--test "$SHARED/mlc_churn_test.csv" 2>/dev/null |
		sed -n 's/^  "roc_auc": \([0-9.e-]*\),*$/\1/p'
}

# within A B TOL: |A - B| <= TOL.
within() {
	awk -v a="$1" -v b="$2" -v t="$3" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= t) }'
}

t_each_plugin_reaches_its_target_on_the_public_telecom_data() {
	[ -f "$SHARED/mlc_churn_train.csv" ] || fail "$SHARED/mlc_churn_train.csv is missing"
	mlc
	# BASELINES.md: scikit-learn's test ROC AUC on the same rows and
	# columns: LogisticRegression 0.8375, RandomForest(100) 0.9217 (0.9213
	# to 0.9310 over seeds), the MLP 0.8961. Targets: logreg within 0.005,
	# the forest within 0.01.
	a=$(auc logreg)
	within "$a" 0.8375 0.005 || fail "logreg AUC $a"
	a=$(auc forest)
	within "$a" 0.9217 0.01 || fail "forest AUC $a"
	a=$(auc mlp)
	within "$a" 0.8961 0.02 || fail "mlp AUC $a"
	# The same naive Bayes from scikit-learn's parts, CategoricalNB (alpha
	# 1, one unseen level) on the text columns and GaussianNB on the
	# standardized numbers (scripts/bench/nbayes_sklearn.py), scores 0.854600.
	a=$(auc nbayes)
	within "$a" 0.8546 0.00005 || fail "nbayes AUC $a"
	# One tree pruned at the alpha of the best validation AUC; the same
	# procedure in scikit-learn (scripts/bench/tree_sklearn.py) scores 0.8911.
	a=$(auc tree)
	awk -v a="$a" 'BEGIN { exit !(a >= 0.8911 - 0.01) }' || fail "tree AUC $a"
	# A linear SVM (squared hinge, C 1) with Platt's sigmoid: scikit-learn's
	# LinearSVC with CalibratedClassifierCV scores 0.8354 (scripts/bench/svm_sklearn.py).
	a=$(auc svm)
	within "$a" 0.8354 0.01 || fail "svm AUC $a"
	run "$PATRON" --db "$DB" eval churn --label churn --test "$SHARED/mlc_churn_test.csv"
	expect_rc 0
	expect_in "$T/out" "(1667 customers, 224 churned)"
	expect_in "$T/out" "  log loss       0.3030"
	expect_in "$T/out" "  at 0.5         accuracy "
	expect_in "$T/out" "(tp "
	# The test file's headers are matched as an import matches them.
	{ head -1 "$SHARED/mlc_churn_test.csv" | tr '_a-z' ' A-Z'; tail -n +2 "$SHARED/mlc_churn_test.csv"; } >"$T/test.csv"
	run "$PATRON" --db "$DB" eval churn --label churn --test "$T/test.csv"
	expect_rc 0
	expect_in "$T/out" "  log loss       0.3030"
}

t_a_test_file_is_never_credited_with_the_customers_trained_on() {
	mlc
	# The test rows and 100 of the training rows, which a forest has
	# learnt nearly by heart: they are left out, the figures are the test
	# rows' alone.
	{ cat "$SHARED/mlc_churn_test.csv"; sed -n 2,101p "$SHARED/mlc_churn_train.csv"; } >"$T/mix.csv"
	run "$PATRON" --db "$DB" eval churn --plugin forest --label churn --test "$SHARED/mlc_churn_test.csv"
	expect_rc 0
	grep -v "time  " "$T/out" | sed 1d >"$T/alone"
	run "$PATRON" --db "$DB" eval churn --plugin forest --label churn --test "$T/mix.csv"
	expect_rc 0
	expect_in "$T/out" "mix.csv: 100 rows are customers the model was trained on; left out"
	expect_in "$T/out" "(1667 customers, 224 churned)"
	grep -v "time  " "$T/out" | sed 1,2d >"$T/mixed"
	diff "$T/alone" "$T/mixed" || fail "the training rows changed the test figures"
	run "$PATRON" --db "$DB" --json eval churn --label churn --test "$T/mix.csv"
	expect_in "$T/out" '"left_out_trained": 100'
	# Only training rows: nothing unseen to measure on.
	run "$PATRON" --db "$DB" eval churn --label churn --test "$SHARED/mlc_churn_train.csv"
	expect_rc 1
	expect_in "$T/err" "mlc_churn_train.csv: every row (3333) is a customer of the store the model was trained on"
}

t_train_score_explain_and_roll_back() {
	mlc
	run "$PATRON" --db "$DB" train churn --label churn
	expect_rc 0
	expect_in "$T/out" "churn: churn.logreg trained on "
	expect_in "$T/out" "of 3333 labelled customers (label: the attribute churn), 73 columns"
	expect_in "$T/out" "stored as model version 1"
	expect_in "$T/out" "on the "
	# Customer service calls are what matters most in this data.
	expect_eq "$(sed -n '/what matters most/{n;p}' "$T/out" | awk '{print $1}')" \
		attr.number_customer_service_calls
	run "$PATRON" --db "$DB" score --only churn
	expect_rc 0
	expect_in "$T/out" "churn: churn.logreg 1.0 wrote 6666 results"
	expect_eq "$(q "SELECT count(*) FROM scores WHERE name = 'churn' AND value BETWEEN 0 AND 1")" 3333
	# Reasons name columns with the customer's own values.
	calls=$(q "SELECT a.value FROM attributes a JOIN identities i ON i.customer_id = a.customer_id WHERE i.value = 'mlc-00011' AND a.name = 'number_customer_service_calls'")
	run "$PATRON" --db "$DB" customer mlc-00011
	expect_in "$T/out" "churn risk  "
	expect_in "$T/out" "number_customer_service_calls=$calls"
	# Rules read c.churn and c.churn_reasons.
	mkdir -p "$T/rules"
	cat >"$T/rules/risk.lua" <<-'LUA'
	rule { name = "risky", every = "1d",
	  where = function(c) return c.churn ~= nil and c.churn > 0.9 and #c.churn_reasons > 0 end,
	  act = function(c) log("why", c.churn_reasons[1]) end }
	LUA
	run "$PATRON" --db "$DB" run "$T/rules" --dry-run --verbose
	expect_rc 0
	expect_in "$T/out" "[risky] would log: why number_customer_service_calls="
	expect_in "$T/out" "risky: 3333 customers checked"
	# A second model, then back to the first.
	run "$PATRON" --db "$DB" train churn --label churn --seed 2
	expect_in "$T/out" "stored as model version 2"
	"$PATRON" --db "$DB" score --only churn >/dev/null 2>&1
	v2=$(q "SELECT sum(value) FROM scores WHERE name = 'churn'")
	run "$PATRON" --db "$DB" models use churn.logreg@1
	expect_rc 0
	run "$PATRON" --db "$DB" models
	expect_in "$T/out" "v1   trained"
	expect_eq "$(grep -c 'in use' "$T/out")" 1
	grep 'v1 ' "$T/out" | grep -q 'in use' || fail "v1 is not shown in use: $(cat "$T/out")"
	run "$PATRON" --db "$DB" score --only churn
	expect_in "$T/out" "with model v1"
	v1=$(q "SELECT sum(value) FROM scores WHERE name = 'churn'")
	[ "$v1" != "$v2" ] || fail "the rollback changed no score"
	run "$PATRON" --db "$DB" models use churn.logreg@9
	expect_rc 1
	expect_in "$T/err" "there is no model churn.logreg@9"
	run "$PATRON" --db "$DB" --json models
	expect_in "$T/out" '"in_use": true'
	expect_in "$T/out" '"roc_auc": '
}

t_churn_from_history_emits_score_changed_for_the_save_offer() {
	"$PATRON" --db "$DB" --now 2026-11-23 demo --customers 800 >"$T/demo.out" 2>&1
	# The demo's horizon is the shop's own rhythm: the days within which 80%
	# of repeat purchases (purchase days) come after the one before.
	/usr/bin/python3 - "$DB" "$T/demo.out" <<'PY' || fail "the rhythm: $(grep -i rhythm "$T/demo.out")"
import math, re, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
gaps = []
last = {}
for cid, day in db.execute("SELECT DISTINCT customer_id, placed_at / 86400 FROM orders WHERE revenue"
                           " AND customer_id IS NOT NULL AND placed_at <= strftime('%s', '2026-11-23')"
                           " ORDER BY 1, 2"):
    if cid in last:
        gaps.append(day - last[cid])
    last[cid] = day
gaps.sort()
days = gaps[math.ceil(0.8 * len(gaps)) - 1]
out = open(sys.argv[2]).read()
assert "the horizon is the shop's rhythm: 80%% of its %d repeat purchases came within %d days" % (len(gaps), days) in out, (days, len(gaps))
stored = db.execute("SELECT json_extract(params, '$.label.horizon') FROM models WHERE name = 'churn.logreg'").fetchone()[0]
assert stored == days * 86400, (stored, days)
PY
	# Train again with a forest, on 90 days.
	echo 'churn = "forest"' >"$T/patron.conf"
	run "$PATRON" --db "$DB" --now 2026-11-23 score --only churn
	expect_rc 0
	expect_in "$T/out" "churn: churn.forest: no trained model yet"
	run "$PATRON" --db "$DB" --now 2026-11-23 train churn --horizon 90d
	expect_rc 0
	expect_in "$T/out" "(label: no order in the 90 days after 2026-08-25)"
	# Stored with its plugin, options, window, schema and figures.
	expect_eq "$(q "SELECT json_extract(params, '\$.options.config.plugin') || ' ' || json_extract(params, '\$.label.horizon') || ' ' || (json_extract(params, '\$.metrics.roc_auc') > 0.5) || ' ' || (json_array_length(params, '\$.schema.columns') > 5) || ' ' || date(as_of, 'unixepoch') FROM models WHERE name = 'churn.forest'")" \
		"forest 7776000 1 1 2026-08-25"
	run "$PATRON" --db "$DB" --now 2026-11-23 score --only churn
	expect_rc 0
	# Only those who bought can stop buying.
	buyers=$(q "SELECT count(DISTINCT customer_id) FROM orders WHERE revenue AND placed_at <= unixepoch('2026-11-23')")
	expect_in "$T/out" "churn: churn.forest 1.0 wrote $((2 * buyers)) results"
	expect_eq "$(q "SELECT count(*) FROM scores WHERE name = 'churn' AND model = 'churn.forest 1.0'")" "$buyers"
	# The alert threshold comes from the held-out customers: the riskiest 10%
	# of them, so the alerts are a list to work through, not most buyers.
	t="(SELECT json_extract(params, '\$.alert.threshold') FROM models WHERE name = 'churn.forest')"
	crossed=$(q "SELECT count(*) FROM scores WHERE name = 'churn' AND value >= $t AND model = 'churn.forest 1.0'")
	[ "$crossed" -lt $((buyers / 4)) ] || fail "$crossed of $buyers buyers at risk over $t"
	before=$(q "SELECT count(*) FROM events WHERE topic = 'score.changed'")
	# Scoring again changes nothing, so no customer crosses again.
	run "$PATRON" --db "$DB" --now 2026-11-23 score --only churn
	expect_in "$T/out" "0 crossed the alert threshold $(printf %.3g "$(q "SELECT $t")") (chosen from the held-out customers when the model was trained; score.changed)"
	expect_eq "$(q "SELECT count(*) FROM events WHERE topic = 'score.changed'")" "$before"
	expect_eq "$(q "SELECT count(*) FROM events WHERE topic = 'score.changed' AND json_extract(payload, '\$.value') >= $t AND customer_id IN (SELECT customer_id FROM scores WHERE name = 'churn' AND value >= $t)")" \
		"$(q "SELECT count(DISTINCT customer_id) FROM events WHERE topic = 'score.changed' AND json_extract(payload, '\$.value') >= $t AND customer_id IN (SELECT customer_id FROM scores WHERE name = 'churn' AND value >= $t)")"
	# Reasons are said in plain words, with the customer's own figures.
	if q "SELECT label FROM scores WHERE name = 'churn_reasons'" | grep -qE 'recency_days|mean_gap_days|monetary_|orders_[0-9]|tenure_days|-0 '; then
		fail "reasons in column names: $(q "SELECT label FROM scores WHERE name = 'churn_reasons' LIMIT 3")"
	fi
	row=$(q "SELECT s.customer_id || ' ' || s.label FROM scores s WHERE s.name = 'churn_reasons' AND s.label LIKE 'no order for %' LIMIT 1")
	[ -n "$row" ] || fail "no reason speaks of the last order"
	said=$(echo "$row" | sed 's/^[0-9]* no order for \([0-9]*\) days.*/\1/')
	days=$(q "SELECT (unixepoch('2026-11-23') - max(placed_at)) / 86400.0 FROM orders WHERE revenue AND customer_id = ${row%% *}")
	awk -v a="$said" -v b="$days" 'BEGIN { exit !(a - b < 1 && b - a < 1) }' || fail "said $said days, the store says $days"
	# churn.threshold in patron.conf still decides, when set.
	echo 'churn = { plugin = "forest", threshold = 0.5 }' >"$T/patron.conf"
	run "$PATRON" --db "$DB" --now 2026-11-23 score --only churn
	expect_in "$T/out" "0 crossed the alert threshold 0.5 (churn.threshold in patron.conf; score.changed)"
	echo 'churn = "forest"' >"$T/patron.conf"
	[ "$crossed" -gt 0 ] || fail "nobody at risk in the demo"
	# The example save offer answers those events.
	run "$PATRON" --db "$DB" --now 2026-11-23 run "$ROOT/examples/rules" --dry-run
	expect_in "$T/out" "[churn-risk save offer] would send email \"save_offer\""
	# The drift line: the model in use on the newest labelled window.
	run "$PATRON" --db "$DB" --now 2026-11-23 eval churn --drift
	expect_rc 0
	expect_in "$T/out" "drift: churn.forest v1"
	expect_in "$T/out" "labelled in the newest window (features as of 2026-08-25; it trained on none of them)"
	# The window has not moved since training: drift sees exactly the
	# held-out customers, so it must give the held-out AUC, never a figure
	# inflated by the training rows.
	held=$(q "SELECT json_extract(params, '\$.rows.held_out') FROM models WHERE name = 'churn.forest'")
	auc=$(q "SELECT printf('%.4f', json_extract(params, '\$.metrics.roc_auc')) FROM models WHERE name = 'churn.forest'")
	expect_in "$T/out" "has ROC AUC $auc on the $held customers of its held-out share"
	run "$PATRON" --db "$DB" --now 2026-11-23 --json eval churn --horizon 90d --test-split 0.3 --seed 4
	expect_rc 0
	expect_in "$T/out" '"seed": 4'
	expect_in "$T/out" '"at_best_f1": {'
	v=$(sed -n 's/^  "roc_auc": \([0-9.e-]*\),*$/\1/p' "$T/out")
	awk -v a="$v" 'BEGIN { exit !(a > 0.6 && a <= 1) }' || fail "AUC $v"
}

t_churn_bad_input_gets_one_clear_line() {
	printf 'email,churned,plan\na@x.com,no,pro\nb@x.com,no,basic\nc@x.com,no,pro\n' >"$T/c.csv"
	"$PATRON" --db "$DB" import customers "$T/c.csv" >/dev/null
	run "$PATRON" --db "$DB" train churn --label churned
	expect_rc 1
	expect_in "$T/err" "churned has one class only: all 3 labelled customers stayed; a model needs both"
	printf 'email,churned,plan\nd@x.com,maybe,pro\n' >"$T/d.csv"
	"$PATRON" --db "$DB" import customers "$T/d.csv" >/dev/null
	run "$PATRON" --db "$DB" train churn --label churned
	expect_rc 1
	expect_in "$T/err" "label \"churned\" of customer 4: expected yes/no, true/false or 1/0, got \"maybe\""
	run "$PATRON" --db "$DB" train churn --label nonesuch
	expect_in "$T/err" "no customer has the attribute \"nonesuch\" to learn from"
	run "$PATRON" --db "$DB" train churn --label churned --horizon 90d
	expect_rc 2
	expect_in "$T/err" "labels come from an attribute or from history, not both"
	run "$PATRON" --db "$DB" train churn
	expect_rc 2
	expect_in "$T/err" "where do labels come from?"
	run "$PATRON" --db "$DB" --now 2024-01-01 train churn --cutoff 2023-12-01 --horizon 90d
	expect_rc 1
	expect_in "$T/err" "after --now: those customers' labels are not known yet"
	run "$PATRON" --db "$DB" train segment --label churned
	expect_rc 2
	expect_in "$T/err" "are for jobs that learn from labels (churn)"
	# More columns than customers to learn from.
	mlc
	q "UPDATE attributes SET value = 'yes' WHERE name = 'churned' AND value = 'maybe'"
	q "INSERT INTO attributes SELECT customer_id, 'churned', 'yes' FROM identities WHERE value IN ('mlc-00001', 'mlc-00002')"
	run "$PATRON" --db "$DB" train churn --label churned --holdout 0
	expect_rc 1
	expect_in "$T/err" "labelled customers to train on, but "
	expect_in "$T/err" "feature columns: a model needs more customers than columns"
	# A test file without the columns the model was trained on.
	q "DELETE FROM attributes WHERE name = 'churned'"
	"$PATRON" --db "$DB" train churn --label churn >/dev/null 2>&1
	cut -d, -f1-3,21 "$SHARED/mlc_churn_test.csv" >"$T/test.csv"
	run "$PATRON" --db "$DB" eval churn --label churn --test "$T/test.csv"
	expect_rc 1
	expect_in "$T/err" "test.csv: the model was trained on columns this file lacks: \"area_code\", \"international_plan\""
	expect_in "$T/err" "\"total_day_minutes\""
	# A model trained before a column was dropped from the store.
	q "DELETE FROM attributes WHERE name = 'total_day_minutes'; DELETE FROM attribute_defs WHERE name = 'total_day_minutes'"
	run "$PATRON" --db "$DB" score --only churn
	expect_rc 1
	expect_in "$T/err" "the model was trained on the column \"attr.total_day_minutes\", which the store no longer has: train it again"
	echo 'churn = { plugin = "forest", trees = 0 }' >"$T/patron.conf"
	run "$PATRON" --db "$DB" train churn --label churn
	expect_in "$T/err" "option trees: expected a whole number from 1 to 10000"
}

t_run_retrains_on_schedule_and_keeps_the_better_model() {
	"$PATRON" --db "$DB" --now 2026-11-23 demo --customers 1000 >/dev/null 2>&1
	mkdir -p "$T/rules"
	printf 'churn = { plugin = "forest", horizon = "90d", retrain = "7d" }\n' >"$T/patron.conf"
	run "$PATRON" --db "$DB" --now 2026-11-23 run "$T/rules" --dry-run
	expect_in "$T/out" "retrain churn is due: not in a dry run"
	expect_eq "$(q "SELECT count(*) FROM models WHERE name = 'churn.forest'")" 0
	run "$PATRON" --db "$DB" --now 2026-11-23 run "$T/rules"
	expect_rc 0
	expect_in "$T/out" "retrained churn.forest: v1 has held-out ROC AUC "
	expect_in "$T/out" ": the new model is in use"
	# Not due again for a week.
	run "$PATRON" --db "$DB" --now 2026-11-29 run "$T/rules"
	grep -q retrained "$T/out" && fail "retrained before the week was out"
	# A week on, a far weaker challenger (one stump) is not promoted.
	printf 'churn = { plugin = "forest", horizon = "90d", retrain = "7d", trees = 1, max_depth = 1, bootstrap = false, margin = 0 }\n' >"$T/patron.conf"
	run "$PATRON" --db "$DB" --now 2026-11-30 run "$T/rules"
	expect_rc 0
	expect_in "$T/out" "retrained churn.forest: v2 has held-out ROC AUC "
	expect_in "$T/out" "; on the "
	expect_in "$T/out" " customers neither model trained on, "
	expect_in "$T/out" "kept the old one (the new one is worse by more than the margin)"
	run "$PATRON" --db "$DB" models
	grep 'churn.forest *v1 ' "$T/out" | grep -q 'in use' || fail "v1 is not in use: $(cat "$T/out")"
	expect_eq "$(q "SELECT json_extract(payload, '\$.in_use') FROM events WHERE topic = 'model.retrained' ORDER BY id DESC LIMIT 1")" 1
	expect_eq "$(q "SELECT json_extract(payload, '\$.challenger_auc') < json_extract(payload, '\$.champion_auc') FROM events WHERE topic = 'model.retrained' ORDER BY id DESC LIMIT 1")" 1
	expect_eq "$(q "SELECT json_extract(payload, '\$.compared') > 0 FROM events WHERE topic = 'model.retrained' ORDER BY id DESC LIMIT 1")" 1
	# A model in use that trained on every customer is never measured on
	# them: there is nothing to compare it on, and the new one is used.
	printf 'churn = { plugin = "forest", horizon = "90d" }\n' >"$T/patron.conf"
	"$PATRON" --db "$DB" --now 2026-12-07 train churn --holdout 0 >/dev/null 2>&1
	"$PATRON" --db "$DB" models use churn.forest@3 >/dev/null
	printf 'churn = { plugin = "forest", horizon = "90d", retrain = "7d" }\n' >"$T/patron.conf"
	run "$PATRON" --db "$DB" --now 2026-12-07 run "$T/rules"
	expect_rc 0
	expect_in "$T/out" "; v3 held out none of its customers, so the two cannot be compared on unseen customers: the new model is in use"
	expect_eq "$(q "SELECT json_extract(payload, '\$.compared') FROM events WHERE topic = 'model.retrained' ORDER BY id DESC LIMIT 1")" 0
	printf 'churn = { plugin = "forest", horizon = "90d", retrain = "weekly" }\n' >"$T/patron.conf"
	run "$PATRON" --db "$DB" --now 2026-12-30 run "$T/rules"
	expect_rc 1
	expect_in "$T/err" "churn.retrain: expected a duration such as \"7d\", got \"weekly\""
}

t_a_pruned_tree_reads_as_rules() {
	mlc
	run "$PATRON" --db "$DB" train churn --plugin tree --label churn
	expect_rc 0
	expect_in "$T/err" "churn.tree: info: a tree of "
	expect_in "$T/err" "(the best validation AUC)"
	leaves=$(sed -n 's/.* nodes, \([0-9]*\) leaves$/\1/p' "$T/err")
	run "$PATRON" --db "$DB" models show churn.tree
	expect_rc 0
	expect_in "$T/out" "churn.tree v1 (data as of "
	# one rule per leaf, the riskiest first, in the columns' own words
	expect_eq "$(grep -c '^  if .* then churn risk [0-9]*% ([0-9]* customers)$' "$T/out")" "$leaves" rules
	expect_in "$T/out" "number_customer_service_calls > "
	/usr/bin/python3 - "$T/out" <<'PY' || fail "rules not riskiest first: $(cat "$T/out")"
import re, sys
risks = [int(m.group(1)) for m in re.finditer(r"churn risk (\d+)%", open(sys.argv[1]).read())]
assert risks and risks == sorted(risks, reverse=True), risks
PY
	# The rules are the tree that scores: each customer's risk is the share
	# of its leaf, one of the rules' figures.
	run "$PATRON" --db "$DB" score --only churn
	expect_rc 0
	"$PATRON" --db "$DB" models show churn.tree >"$T/rules"
	q "SELECT DISTINCT value FROM scores WHERE name = 'churn'" >"$T/values"
	/usr/bin/python3 - "$T/rules" "$T/values" <<'PY' || fail "a customer's risk is no rule's"
import re, sys
rules = [int(m.group(1)) for m in re.finditer(r"churn risk (\d+)%", open(sys.argv[1]).read())]
for v in open(sys.argv[2]).read().split():
    assert any(abs(r - 100 * float(v)) <= 0.5 for r in rules), v
PY
	# ccp_alpha = 0 keeps the whole tree; a bad option is named.
	echo 'churn = { plugin = "tree", ccp_alpha = 0 }' >"$T/patron.conf"
	run "$PATRON" --db "$DB" train churn --label churn
	expect_rc 0
	grep -q "pruned at alpha 0 (ccp_alpha)" "$T/err" || fail "ccp_alpha: $(cat "$T/err")"
	echo 'churn = { plugin = "tree", validation = 2 }' >"$T/patron.conf"
	run "$PATRON" --db "$DB" train churn --label churn
	expect_rc 1
	expect_in "$T/err" "option validation: expected a share above 0 and below 0.9"
	run "$PATRON" --db "$DB" models show churn.nosuch
	expect_rc 1
	expect_in "$T/err" "there is no model churn.nosuch"
}

t_the_svm_scores_with_reasons_and_checks_its_options() {
	mlc
	run "$PATRON" --db "$DB" train churn --plugin svm --label churn
	expect_rc 0
	expect_in "$T/err" "churn.svm: info: a linear SVM (squared hinge loss, C 1) on 2633 customers x 73 columns"
	expect_in "$T/err" "Platt's sigmoid on 5-fold decisions: A -"
	echo 'churn = "svm"' >"$T/patron.conf"
	run "$PATRON" --db "$DB" score --only churn
	expect_rc 0
	expect_eq "$(q "SELECT count(*) FROM scores WHERE name = 'churn' AND value > 0 AND value < 1")" 3333
	[ "$(q "SELECT count(*) FROM scores WHERE name = 'churn_reasons'")" -gt 1000 ] || fail "no reasons"
	# More risk, more service calls: the model's weight has the data's sign.
	expect_eq "$(q "SELECT avg(c.value) > (SELECT avg(value) FROM scores WHERE name = 'churn') FROM scores c JOIN attributes a ON a.customer_id = c.customer_id WHERE c.name = 'churn' AND a.name = 'number_customer_service_calls' AND a.value >= 4")" 1
	echo 'churn = { plugin = "svm", loss = "hinge", C = 0.5 }' >"$T/patron.conf"
	run "$PATRON" --db "$DB" train churn --label churn
	expect_rc 0
	expect_in "$T/err" "a linear SVM (hinge loss, C 0.5)"
	echo 'churn = { plugin = "svm", loss = "logistic" }' >"$T/patron.conf"
	run "$PATRON" --db "$DB" train churn --label churn
	expect_rc 1
	expect_in "$T/err" 'loss = "logistic": expected hinge or squared_hinge'
}

t_p_alive_is_a_churn_score_to_compare() {
	"$PATRON" --db "$DB" --now 2026-11-23 demo --customers 1500 >/dev/null 2>&1
	echo 'churn = "palive"' >"$T/patron.conf"
	run "$PATRON" --db "$DB" --now 2026-11-23 train churn
	expect_rc 0
	expect_in "$T/err" "churn.palive: info: BG/NBD on "
	run "$PATRON" --db "$DB" --now 2026-11-23 score --only churn
	expect_rc 0
	# BG/NBD: a one-order customer has not lapsed; among repeat customers,
	# the longer since the last order, the likelier they are gone.
	risk="WITH o AS (SELECT customer_id, count(*) n, (unixepoch('2026-11-23') - max(placed_at)) / 86400 rec FROM orders WHERE revenue GROUP BY 1) SELECT avg(s.value) FROM o JOIN scores s ON s.customer_id = o.customer_id AND s.name = 'churn'"
	expect_eq "$(q "$risk WHERE n = 1 AND s.value > 0" | sed 's/^$/none/')" none "one-order risk"
	awk -v a="$(q "$risk WHERE n = 2 AND rec >= 180")" -v b="$(q "$risk WHERE n = 2 AND rec < 60")" \
		'BEGIN { exit !(a > b + 0.1) }' || fail "risk does not grow with the time since the last order"
	# patron eval churn puts it beside the learnt models, on the same rows.
	run "$PATRON" --db "$DB" --now 2026-11-23 eval churn --plugin palive --test-split 0.3
	expect_rc 0
	expect_in "$T/out" "churn.palive, tested on "
	held=$(sed -n 's/.*tested on \([0-9]*\) labelled.*/\1/p' "$T/out")
	run "$PATRON" --db "$DB" --now 2026-11-23 eval churn --plugin logreg --test-split 0.3
	expect_in "$T/out" "churn.logreg, tested on $held labelled customers"
}
