/* churn.forest: a random forest of CART trees (cart.c), the probability the
 * mean of the trees' leaf shares. A customer's reasons are the columns whose
 * splits along the customer's paths raised the risk the most (each split's
 * change in the positive share, averaged over the trees).
 *
 * patron.conf:  churn = "forest"   or
 *               churn = { plugin = "forest", trees = 200, max_depth = 12 }
 * Options: trees (100), max_depth (0: none), min_samples_leaf (1),
 * max_features (0: the square root of the columns), bootstrap (true), seed
 * (1). trees = 1, bootstrap = false gives a single decision tree. On a
 * million customers, max_depth or min_samples_leaf keep the stored model
 * small: unbounded trees there have hundreds of thousands of nodes each.
 */
#include <math.h>
#include <stdlib.h>

#include <patron/plugin.h>

#include "cart.h"
#include "cart_json.h"
#include "supervised.h"

typedef struct {
	const patron_host *host;
	forest_opts o;
} forest_state;

static int init(const patron_host *host, patron_ctx *ctx, void **state)
{
	forest_state *s = malloc(sizeof *s);
	if (!s) {
		host->fail(ctx, "out of memory");
		return -1;
	}
	s->host = host;
	s->o = (forest_opts){.trees = 100, .min_leaf = 1, .bootstrap = 1, .seed = 1, .threads = 2};
	size_t seed = 1, boot = 1;
	if (sup_whole(host, ctx, "trees", 1, 10000, &s->o.trees) < 0 ||
	    sup_whole(host, ctx, "max_depth", 0, 1000, &s->o.max_depth) < 0 ||
	    sup_whole(host, ctx, "min_samples_leaf", 1, 1e9, &s->o.min_leaf) < 0 ||
	    sup_whole(host, ctx, "max_features", 0, 1e6, &s->o.max_features) < 0 ||
	    sup_whole(host, ctx, "bootstrap", 0, 1, &boot) < 0 ||
	    sup_whole(host, ctx, "seed", 0, 1e15, &seed) < 0) {
		free(s);
		return -1;
	}
	s->o.bootstrap = (int)boot;
	s->o.seed = seed;
	*state = s;
	return 0;
}

static int train(void *state, patron_ctx *ctx)
{
	forest_state *s = state;
	const patron_host *h = s->host;
	const patron_design *d = sup_design(h, ctx);
	if (!d)
		return -1;
	size_t *rows, n = sup_train_rows(d, &rows);
	forest f;
	if (!rows || forest_fit(d->x, d->cols, rows, n, d->y, &s->o, &f) < 0) {
		free(rows);
		h->fail(ctx, "out of memory growing %zu trees on %zu customers", s->o.trees, n);
		return -1;
	}
	free(rows);
	size_t nodes = 0;
	json_t *trees = json_array();
	for (size_t k = 0; k < f.n; k++) {
		const cart_tree *t = &f.tree[k];
		nodes += t->n;
		json_array_append_new(trees, cart_tree_json(t));
	}
	h->log(ctx, PATRON_LOG_INFO, "%zu trees on %zu customers x %zu columns: %zu nodes", f.n, n,
	       d->cols, nodes);
	forest_free(&f);
	return sup_save(h, ctx, d, json_pack("{s:o}", "trees", trees));
}

/* The trees stored by train. */
static int read_trees(json_t *m, size_t cols, forest *f)
{
	json_t *trees = json_object_get(m, "trees");
	memset(f, 0, sizeof *f);
	f->cols = cols;
	f->n = json_array_size(trees);
	f->tree = calloc(f->n ? f->n : 1, sizeof *f->tree);
	if (!f->tree || !f->n)
		return -1;
	for (size_t k = 0; k < f->n; k++)
		if (cart_tree_read(json_array_get(trees, k), cols, &f->tree[k]) < 0)
			return -1;
	return 0;
}

/* The probability, and the splits' credits as each column's share. */
static double predict(const void *model, const double *x, double *contrib)
{
	return forest_predict(model, x, contrib);
}

static int run(void *state, patron_ctx *ctx)
{
	forest_state *s = state;
	const patron_host *h = s->host;
	const patron_design *d = sup_design(h, ctx);
	if (!d)
		return -1;
	json_t *m = sup_load(h, ctx, d);
	if (!m)
		return -1;
	forest f;
	int rc = -1;
	if (read_trees(m, d->cols, &f) < 0)
		h->fail(ctx, "the stored trees cannot be read: train the model again");
	else
		rc = sup_score(h, ctx, d, predict, &f);
	forest_free(&f);
	json_decref(m);
	return rc;
}

static void done(void *state) { free(state); }

/* What this plugin reads from its job's table in patron.conf. */
static const char *const options[] = {"trees", "max_depth", "min_samples_leaf", "max_features", "bootstrap", "seed", NULL};

static const patron_plugin descriptor = {
	PATRON_PLUGIN_ABI,
	.name = "churn.forest",
	.kind = PATRON_KIND_SCORER,
	.version = "1.0",
	.description = "churn by a random forest of CART trees (Gini, bootstrap, two threads)",
	.init = init,
	.run = run,
	.free = done,
	.train = train,
	.options = options,
};

const patron_plugin *patron_plugin_entry(void) { return &descriptor; }
