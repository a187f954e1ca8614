/* churn.tree: one CART decision tree, pruned by cost-complexity (prune.h)
 * at the alpha that gives the best ROC AUC on a validation share of the
 * training customers, then grown again on all of them and pruned at that
 * alpha. Its rules are stored as if-then text (patron models show
 * churn.tree), so an owner can read why; a customer's reasons are the
 * splits along their path that raised the risk.
 *
 * patron.conf:  churn = "tree"   or
 *               churn = { plugin = "tree", min_samples_leaf = 20 }
 * Options: max_depth (0: none), min_samples_leaf (5), validation (0.2, the
 * share held out to choose alpha), ccp_alpha (unset: chosen; a number fixes
 * it), seed (1).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <patron/plugin.h>

#include "cart.h"
#include "cart_json.h"
#include "prune.h"
#include "supervised.h"

#define CANDIDATES 64	/* alphas tried on the validation share, at most */

typedef struct {
	const patron_host *host;
	size_t max_depth, min_leaf, seed;
	double validation, alpha;	/* alpha NAN: chosen */
} tree_state;

static int init(const patron_host *h, patron_ctx *ctx, void **state)
{
	tree_state *s = malloc(sizeof *s);
	if (!s)
		return h->fail(ctx, "out of memory"), -1;
	*s = (tree_state){h, 0, 5, 1, 0.2, NAN};
	double v;
	if (sup_whole(h, ctx, "max_depth", 0, 1000, &s->max_depth) < 0 ||
	    sup_whole(h, ctx, "min_samples_leaf", 1, 1e9, &s->min_leaf) < 0 ||
	    sup_whole(h, ctx, "seed", 0, 1e15, &s->seed) < 0) {
		free(s);
		return -1;
	}
	int got = h->option_number(ctx, "validation", &v);
	if (got < 0 || (got && !(v > 0 && v < 0.9))) {
		h->fail(ctx, "option validation: expected a share above 0 and below 0.9");
		free(s);
		return -1;
	}
	if (got)
		s->validation = v;
	got = h->option_number(ctx, "ccp_alpha", &v);
	if (got < 0 || (got && !(v >= 0))) {
		h->fail(ctx, "option ccp_alpha: expected a number, 0 or more");
		free(s);
		return -1;
	}
	if (got)
		s->alpha = v;
	*state = s;
	return 0;
}

/* ROC AUC by ranks, ties sharing their rank. */
typedef struct {
	double p, y;
} scored;

static int by_p(const void *a, const void *b)
{
	double x = ((const scored *)a)->p, y = ((const scored *)b)->p;
	return (x > y) - (x < y);
}

static double auc(scored *s, size_t n)
{
	qsort(s, n, sizeof *s, by_p);
	double pos = 0, ranks = 0;
	for (size_t i = 0; i < n;) {
		size_t j = i;
		while (j < n && s[j].p == s[i].p)
			j++;
		double rank = (double)(i + j + 1) / 2;	/* 1-based mean rank of the tie */
		for (size_t k = i; k < j; k++)
			if (s[k].y == 1)
				pos++, ranks += rank;
		i = j;
	}
	double neg = (double)n - pos;
	return pos && neg ? (ranks - pos * (pos + 1) / 2) / (pos * neg) : 0.5;
}

/* A deterministic share of the rows, by a hash of the row and the seed. */
static int in_validation(size_t row, uint64_t seed, double share)
{
	uint64_t z = (uint64_t)row * 0x9E3779B97F4A7C15ULL + seed * 0xBF58476D1CE4E5B9ULL;
	z ^= z >> 31;
	z *= 0x94D049BB133111EBULL;
	z ^= z >> 29;
	return (double)(z >> 11) / 9007199254740992.0 < share;
}

static int grow(const patron_design *d, const size_t *rows, size_t n, const tree_state *s,
		cart_tree *out)
{
	forest_opts o = {.trees = 1, .max_depth = s->max_depth, .min_leaf = s->min_leaf,
			 .max_features = d->cols, .bootstrap = 0, .seed = s->seed, .threads = 1};
	forest f;
	if (forest_fit(d->x, d->cols, rows, n, d->y, &o, &f) < 0)
		return -1;
	*out = f.tree[0];
	free(f.tree);
	return 0;
}

static int by_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* The alpha of the best validation AUC: the tree grown on the rest of the
 * training rows, pruned at each of its collapse alphas (CANDIDATES at
 * most, spread over them); of equal AUCs, the larger alpha (the smaller
 * tree). */
static double choose_alpha(const patron_design *d, const size_t *rows, size_t n,
			   const tree_state *s, int *failed)
{
	size_t *fit = malloc(n * sizeof *fit), *val = malloc(n * sizeof *val), nf = 0, nv = 0;
	if (!fit || !val) {
		free(fit), free(val);
		*failed = 1;
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		if (in_validation(rows[i], s->seed, s->validation))
			val[nv++] = rows[i];
		else
			fit[nf++] = rows[i];
	}
	double best_alpha = 0;
	cart_tree t;
	if (nv < 10 || nf < 10 || grow(d, fit, nf, s, &t) < 0) {
		free(fit), free(val);
		return 0;	/* too few to choose: unpruned */
	}
	double *alpha = malloc(t.n * sizeof *alpha), *cand = malloc(t.n * sizeof *cand);
	scored *sc = malloc(nv * sizeof *sc);
	if (!alpha || !cand || !sc || tree_alphas(&t, alpha) < 0) {
		*failed = 1;
	} else {
		size_t nc = 0;
		cand[nc++] = 0;
		for (size_t i = 0; i < t.n; i++)
			if (isfinite(alpha[i]))
				cand[nc++] = alpha[i];
		qsort(cand, nc, sizeof *cand, by_double);
		double best = -1;
		size_t step = nc > CANDIDATES ? (nc + CANDIDATES - 1) / CANDIDATES : 1;
		for (size_t c = 0; c < nc; c += step) {
			cart_tree p;
			if (tree_prune(&t, alpha, cand[c], &p) < 0) {
				*failed = 1;
				break;
			}
			for (size_t i = 0; i < nv; i++)
				sc[i] = (scored){tree_predict(&p, d->x + val[i] * d->cols, NULL),
						 d->y[val[i]]};
			double a = auc(sc, nv);
			if (a >= best - 1e-12) {	/* ties: the simpler tree */
				best = a;
				best_alpha = cand[c];
			}
			tree_free(&p);
		}
	}
	free(alpha), free(cand), free(sc), free(fit), free(val);
	tree_free(&t);
	return best_alpha;
}

/* ---- the rules, as text ---- */

/* "recency_days > 120", "country is IT", "calls <= 3": node I's test as it
 * reads for the branch RIGHT (x > threshold) or left, in the columns' own
 * units. */
static void condition(const patron_design *d, const cart_tree *t, int32_t i, int right,
		      char *out, size_t cap)
{
	const char *name = d->names[t->feature[i]];
	const char *shown = strncmp(name, "attr.", 5) == 0 ? name + 5 : name;
	size_t len = strlen(shown);
	if (len > 10 && strcmp(shown + len - 10, " (missing)") == 0) {
		snprintf(out, cap, "%.*s %s", (int)(len - 10), shown, right ? "unknown" : "known");
		return;
	}
	const char *eq = strchr(shown, '=');
	if (eq) {	/* a one-hot column: 1 is "is", 0 "is not" */
		snprintf(out, cap, "%.*s is %s%s", (int)(eq - shown), shown, right ? "" : "not ",
			 eq + 1);
		return;
	}
	size_t c = (size_t)t->feature[i];
	double v = t->threshold[i] * d->sd[c] + d->mean[c];
	snprintf(out, cap, "%s %s %.4g", shown, right ? ">" : "<=", v);
}

typedef struct {
	int32_t leaf;
	double risk, count;
	char *text;
} rule;

static int by_risk(const void *a, const void *b)
{
	const rule *x = a, *y = b;
	if (x->risk != y->risk)
		return x->risk < y->risk ? 1 : -1;
	return (x->count < y->count) - (x->count > y->count);
}

/* Every leaf as "if A and B then churn risk 85% (340 customers)", the
 * riskiest first. */
static json_t *rules(const patron_design *d, const cart_tree *t)
{
	rule *r = calloc(t->n, sizeof *r);
	int32_t *path = malloc(t->n * sizeof *path);
	int *side = malloc(t->n * sizeof *side);
	json_t *out = json_array();
	if (!r || !path || !side) {
		free(r), free(path), free(side);
		return out;
	}
	size_t nr = 0;
	/* Depth first, keeping the path: path[k] went to side[k]. */
	size_t depth = 0;
	int32_t i = 0;
	path[0] = 0;
	side[0] = -1;
	for (;;) {
		i = path[depth];
		if (t->feature[i] >= 0 && side[depth] < 1) {
			side[depth]++;
			path[depth + 1] = side[depth] ? t->right[i] : t->left[i];
			side[depth + 1] = -1;
			depth++;
			continue;
		}
		if (t->feature[i] < 0) {	/* a leaf: its rule */
			char text[4096] = "";
			size_t len = 0;
			for (size_t k = 0; k < depth; k++) {
				char one[256];
				condition(d, t, path[k], side[k], one, sizeof one);
				len += (size_t)snprintf(text + len, sizeof text - len, "%s%s",
							k ? " and " : "if ", one);
				if (len >= sizeof text)
					break;
			}
			char full[4300];
			snprintf(full, sizeof full, "%s then churn risk %.0f%% (%.0f customers)",
				 depth ? text : "always:", 100 * t->value[i], t->count[i]);
			r[nr++] = (rule){i, t->value[i], t->count[i], strdup(full)};
		}
		if (!depth)
			break;
		depth--;
	}
	qsort(r, nr, sizeof *r, by_risk);
	for (size_t k = 0; k < nr; k++) {
		if (r[k].text)
			json_array_append_new(out, json_string(r[k].text));
		free(r[k].text);
	}
	free(r), free(path), free(side);
	return out;
}

static int train(void *state, patron_ctx *ctx)
{
	tree_state *s = state;
	const patron_host *h = s->host;
	const patron_design *d = sup_design(h, ctx);
	if (!d)
		return -1;
	size_t *rows, n = sup_train_rows(d, &rows);
	if (!rows)
		return h->fail(ctx, "out of memory"), -1;
	int failed = 0;
	double a = isnan(s->alpha) ? choose_alpha(d, rows, n, s, &failed) : s->alpha;
	cart_tree full, pruned;
	double *alpha = NULL;
	if (failed || grow(d, rows, n, s, &full) < 0) {
		free(rows);
		return h->fail(ctx, "out of memory growing a tree on %zu customers", n), -1;
	}
	free(rows);
	alpha = malloc(full.n * sizeof *alpha);
	if (!alpha || tree_alphas(&full, alpha) < 0 || tree_prune(&full, alpha, a, &pruned) < 0) {
		free(alpha);
		tree_free(&full);
		return h->fail(ctx, "out of memory pruning the tree"), -1;
	}
	size_t leaves = 0;
	for (size_t i = 0; i < pruned.n; i++)
		leaves += pruned.feature[i] < 0;
	h->log(ctx, PATRON_LOG_INFO, "a tree of %zu nodes on %zu customers, pruned at alpha %.3g "
	       "(%s) to %zu nodes, %zu leaves", full.n, n, a, isnan(s->alpha) ?
	       "the best validation AUC" : "ccp_alpha", pruned.n, leaves);
	json_t *params = cart_tree_json(&pruned);
	json_object_set_new(params, "alpha", json_real(a));
	json_object_set_new(params, "count", sup_array(pruned.count, pruned.n));
	json_object_set_new(params, "rules", rules(d, &pruned));
	free(alpha);
	tree_free(&full);
	tree_free(&pruned);
	return sup_save(h, ctx, d, params);
}

static double predict(const void *model, const double *x, double *contrib)
{
	return tree_predict(model, x, contrib);
}

static int run(void *state, patron_ctx *ctx)
{
	tree_state *s = state;
	const patron_host *h = s->host;
	const patron_design *d = sup_design(h, ctx);
	if (!d)
		return -1;
	json_t *m = sup_load(h, ctx, d);
	if (!m)
		return -1;
	cart_tree t;
	int rc = -1;
	if (cart_tree_read(m, d->cols, &t) < 0)
		h->fail(ctx, "the stored tree cannot be read: train the model again");
	else
		rc = sup_score(h, ctx, d, predict, &t);
	tree_free(&t);
	json_decref(m);
	return rc;
}

static void done(void *state) { free(state); }

static const char *const options[] = {"max_depth", "min_samples_leaf", "validation", "ccp_alpha",
				      "seed", NULL};

static const patron_plugin descriptor = {
	PATRON_PLUGIN_ABI,
	.name = "churn.tree",
	.kind = PATRON_KIND_SCORER,
	.version = "1.0",
	.description = "churn by one decision tree, pruned on held-out data, with readable rules",
	.init = init,
	.run = run,
	.free = done,
	.train = train,
	.options = options,
};

const patron_plugin *patron_plugin_entry(void) { return &descriptor; }
