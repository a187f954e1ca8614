/* recommend.itemknn: "customers who bought this also bought". Items are
 * compared by the cosine of their columns in the customer x product matrix
 * (knn.c), each keeping its `neighbours` most similar (default 100, 0 for
 * all); a product's score for a customer is the sum of its similarities to
 * what the customer bought, and the products that contributed most are kept
 * as the reason (`patron recommend` shows them). Sparse all the way: the
 * matrix is the snapshot's CSR graph, and no customers x products array is
 * ever made. Options besides the common ones (plugins/recs/recs.h):
 *   neighbours   similar items kept per item (100; 0: all)
 *   shrink       added to the cosine's denominator, damping similarities
 *                built on few shared customers (0)
 *
 * patron.conf:  recommend = "itemknn"   or
 *               recommend = { plugin = "itemknn", neighbours = 50, repurchase = true }
 */
#include <math.h>
#include <stdlib.h>

#include <patron/plugin.h>

#include "../common/parallel.h"
#include "knn.h"
#include "recs.h"

typedef struct {
	const patron_host *host;
	double neighbours, shrink;
} knn_state;

static int init(const patron_host *host, patron_ctx *ctx, void **state)
{
	knn_state *s = malloc(sizeof *s);
	if (!s) {
		host->fail(ctx, "out of memory");
		return -1;
	}
	*s = (knn_state){host, 100, 0};
	if (host->option_number(ctx, "neighbours", &s->neighbours) < 0 ||
	    s->neighbours != floor(s->neighbours) || s->neighbours < 0) {
		host->fail(ctx, "option neighbours: expected a whole number (0 for all)");
		free(s);
		return -1;
	}
	if (host->option_number(ctx, "shrink", &s->shrink) < 0 || !(s->shrink >= 0)) {
		host->fail(ctx, "option shrink: expected a number of at least 0");
		free(s);
		return -1;
	}
	*state = s;
	return 0;
}

typedef struct {
	recs *r;
	const knn_model *m;
	size_t fallback[2];
	int failed;
} scoring;

/* Row U's list, and for each recommendation the bought items most similar
 * to it. */
static void score_rows(void *arg, size_t thread, size_t threads)
{
	scoring *sc = arg;
	recs *r = sc->r;
	const patron_graph *g = r->g;
	const knn_model *m = sc->m;
	recs_scratch s;
	if (recs_scratch_init(&s, g->products, r->n) < 0) {
		sc->failed = 1;
		recs_scratch_free(&s);
		return;
	}
	for (size_t u = thread; u < g->rows; u += threads) {
		recs_begin(&s);
		size_t b = g->offsets[u], e = g->offsets[u + 1];
		if (b == e)
			sc->fallback[thread]++;
		for (size_t x = b; x < e; x++) {
			uint32_t i = g->cols[x];
			for (size_t k = m->off[i]; k < m->off[i + 1]; k++)
				recs_add(&s, m->col[k], m->sim[k]);
		}
		size_t scored = recs_pick(r, &s, u);
		for (size_t j = 0; j < scored; j++) {
			uint32_t *why = r->because + (u * r->n + j) * RECS_BECAUSE;
			double best[RECS_BECAUSE] = {0};
			uint32_t target = s.best[j];
			for (size_t x = b; x < e; x++) {
				double v = knn_similarity(m, g->cols[x], target);
				if (v <= 0)
					continue;
				size_t at = RECS_BECAUSE;
				while (at > 0 && v > best[at - 1])
					at--;
				if (at == RECS_BECAUSE)
					continue;
				for (size_t t = RECS_BECAUSE - 1; t > at; t--) {
					best[t] = best[t - 1];
					why[t] = why[t - 1];
				}
				best[at] = v;
				why[at] = g->cols[x] + 1;
			}
		}
	}
	recs_scratch_free(&s);
}

static int run(void *state, patron_ctx *ctx)
{
	knn_state *st = state;
	const patron_host *h = st->host;
	recs r;
	knn_model m = {0};
	double *w = NULL;
	int rc = -1;
	if (recs_open(&r, h, ctx) < 0)
		goto out;
	const patron_graph *g = r.g;
	w = malloc((g->nnz ? g->nnz : 1) * sizeof *w);
	if (!w) {
		h->fail(ctx, "out of memory");
		goto out;
	}
	for (size_t e = 0; e < g->nnz; e++)
		w[e] = recs_weight(&r, e);
	if (knn_build(g->rows, g->products, g->offsets, g->cols, w, (size_t)st->neighbours,
		      st->shrink, 2, &m) < 0) {
		h->fail(ctx, "out of memory building the similarities of %zu products", g->products);
		goto out;
	}
	free(w);	/* the similarities have what they need of the weights */
	w = NULL;
	h->log(ctx, PATRON_LOG_INFO, "%zu products, %zu similar pairs kept", g->products,
	       m.off[g->products]);
	h->progress(ctx, 0.5, "recommend");
	scoring sc = {&r, &m, {0, 0}, 0};
	plugin_parallel(score_rows, &sc, 2);
	if (sc.failed) {
		h->fail(ctx, "out of memory");
		goto out;
	}
	r.fallback = sc.fallback[0] + sc.fallback[1];
	h->progress(ctx, 1.0, "recommend");
	rc = recs_write(&r, 1);
out:
	knn_free(&m);
	free(w);
	recs_close(&r);
	return rc;
}

static void done(void *state) { free(state); }

/* What this plugin reads from its job's table in patron.conf. */
static const char *const options[] = {"n", "repurchase", "window_days", "weight", "exclude_products", "exclude_categories", "neighbours", "shrink", NULL};

static const patron_plugin descriptor = {
	PATRON_PLUGIN_ABI,
	.name = "recommend.itemknn",
	.kind = PATRON_KIND_RECOMMENDER,
	.version = "1.0",
	.description = "item-based kNN: products like those the customer bought (cosine)",
	.init = init,
	.run = run,
	.free = done,
	.options = options,
};

const patron_plugin *patron_plugin_entry(void) { return &descriptor; }
