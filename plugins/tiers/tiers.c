/* segment.tiers: customers by how much they spent. Buyers are ranked by
 * money spent in paid orders and cut into equal tiers (ties broken by the
 * older customer first, so the result does not depend on the run);
 * customers who never paid are "prospect".
 *
 * patron.conf:  segment = "tiers"    or    segment = { plugin = "tiers", tiers = 4 }
 * Labels: 3 tiers (default) are top, middle, low; 2 are top, low; more are
 * tier-1 (the highest) ... tier-N. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <patron/plugin.h>

typedef struct {
	const patron_host *host;
	int tiers;
} tiers_state;

static int init(const patron_host *host, patron_ctx *ctx, void **state)
{
	double n = 3;
	int set = host->option_number(ctx, "tiers", &n);
	if (set < 0 || (set > 0 && (n != floor(n) || n < 2 || n > 10))) {
		host->fail(ctx, "option tiers: expected a whole number from 2 to 10");
		return -1;
	}
	tiers_state *s = malloc(sizeof *s);
	if (!s) {
		host->fail(ctx, "out of memory");
		return -1;
	}
	s->host = host;
	s->tiers = (int)n;
	*state = s;
	return 0;
}

static const double *spend_col;

/* Higher spend first; equal spend, lower row (older customer) first. */
static int by_spend(const void *a, const void *b)
{
	size_t i = *(const size_t *)a, j = *(const size_t *)b;
	if (spend_col[i] != spend_col[j])
		return spend_col[i] > spend_col[j] ? -1 : 1;
	return (i > j) - (i < j);
}

static const char *label(int tiers, int t, char *buf)
{
	static const char *const three[] = {"top", "middle", "low"};
	static const char *const two[] = {"top", "low"};
	if (tiers == 3)
		return three[t];
	if (tiers == 2)
		return two[t];
	snprintf(buf, 24, "tier-%d", t + 1);
	return buf;
}

static int run(void *state, patron_ctx *ctx)
{
	tiers_state *s = state;
	const patron_host *h = s->host;
	const patron_features *f = h->features(ctx);
	if (!f)
		return -1;
	size_t money = patron_feature_column(f, "monetary_total"),
	       freq = patron_feature_column(f, "frequency");
	if (money == f->cols || freq == f->cols) {
		h->fail(ctx, "the feature matrix has no monetary_total or frequency column");
		return -1;
	}
	size_t n = f->rows, buyers = 0;
	double *spend = malloc((n ? n : 1) * sizeof *spend);
	size_t *order = malloc((n ? n : 1) * sizeof *order);
	const char **labels = malloc((n ? n : 1) * sizeof *labels);
	char (*names)[24] = malloc(10 * sizeof *names);
	if (!spend || !order || !labels || !names) {
		free(spend), free(order), free(labels), free(names);
		h->fail(ctx, "out of memory");
		return -1;
	}
	for (size_t r = 0; r < n; r++) {
		spend[r] = f->x[r * f->cols + money];
		labels[r] = "prospect";
		if (f->x[r * f->cols + freq] > 0)
			order[buyers++] = r;
	}
	spend_col = spend;
	qsort(order, buyers, sizeof *order, by_spend);
	for (size_t k = 0; k < buyers; k++) {
		int t = (int)(k * (size_t)s->tiers / buyers);
		labels[order[k]] = label(s->tiers, t, names[t]);
	}
	h->progress(ctx, 1.0, "tiers");
	int rc = h->write_segments(ctx, n, f->customer_ids, labels);
	free(spend), free(order), free(labels), free(names);
	return rc;
}

static void done(void *state) { free(state); }

/* What this plugin reads from its job's table in patron.conf. */
static const char *const options[] = {"tiers", NULL};

static const patron_plugin descriptor = {
	PATRON_PLUGIN_ABI,
	.name = "segment.tiers",
	.kind = PATRON_KIND_SEGMENTER,
	.version = "1.0",
	.description = "spend tiers: buyers cut into equal tiers by money spent",
	.init = init,
	.run = run,
	.free = done,
	.options = options,
};

const patron_plugin *patron_plugin_entry(void) { return &descriptor; }
