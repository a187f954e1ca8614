/* recommend.popular: the products most customers bought lately (the last
 * window_days, 90 by default; all time when nobody bought in it), best
 * first, leaving out what each customer has. The baseline the other
 * recommenders must beat, and what they fall back on for a customer with
 * no purchases.
 *
 * patron.conf:  recommend = "popular"   or
 *               recommend = { plugin = "popular", n = 5, window_days = 30 }
 * (and the options every recommender reads: see plugins/recs/recs.h)
 */
#include <stdlib.h>

#include <patron/plugin.h>

#include "recs.h"

typedef struct {
	const patron_host *host;
} popular_state;

static int init(const patron_host *host, patron_ctx *ctx, void **state)
{
	popular_state *s = malloc(sizeof *s);
	if (!s) {
		host->fail(ctx, "out of memory");
		return -1;
	}
	s->host = host;
	*state = s;
	return 0;
}

static int run(void *state, patron_ctx *ctx)
{
	popular_state *s = state;
	recs r;
	recs_scratch sc;
	int rc = -1;
	if (recs_open(&r, s->host, ctx) < 0)
		goto out;
	if (recs_scratch_init(&sc, r.g->products, r.n) < 0) {
		s->host->fail(ctx, "out of memory");
		recs_scratch_free(&sc);
		goto out;
	}
	for (size_t u = 0; u < r.g->rows; u++) {
		recs_begin(&sc);
		recs_pick(&r, &sc, u);
	}
	/* Every list is the popular one: nobody is a fallback here. */
	recs_scratch_free(&sc);
	rc = recs_write(&r, 0);
out:
	recs_close(&r);
	return rc;
}

static void done(void *state) { free(state); }

/* What this plugin reads from its job's table in patron.conf. */
static const char *const options[] = {"n", "repurchase", "window_days", "weight", "exclude_products", "exclude_categories", NULL};

static const patron_plugin descriptor = {
	PATRON_PLUGIN_ABI,
	.name = "recommend.popular",
	.kind = PATRON_KIND_RECOMMENDER,
	.version = "1.0",
	.description = "the most bought products of recent weeks, minus what each customer has",
	.init = init,
	.run = run,
	.free = done,
	.options = options,
};

const patron_plugin *patron_plugin_entry(void) { return &descriptor; }
