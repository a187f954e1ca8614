/* segment.recency -- an example of a plugin built outside Patron's tree,
 * against the installed SDK alone:
 *
 *   make            (uses pkg-config --cflags patron-sdk)
 *   PATRON_PLUGIN_PATH=$PWD patron score     with   segment = "recency"
 *
 * Customers by how long ago they last paid: "active" (within active_days,
 * default 30), "lapsing" (within lapsed_days, default 90), "lapsed", and
 * "prospect" for those who never paid. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <patron/plugin.h>

typedef struct {
	const patron_host *host;
	double active, lapsed;
} recency_state;

static int init(const patron_host *host, patron_ctx *ctx, void **state)
{
	recency_state *s = malloc(sizeof *s);
	if (!s) {
		host->fail(ctx, "out of memory");
		return -1;
	}
	s->host = host;
	s->active = 30;
	s->lapsed = 90;
	if (host->option_number(ctx, "active_days", &s->active) < 0 ||
	    host->option_number(ctx, "lapsed_days", &s->lapsed) < 0 ||
	    s->active <= 0 || s->lapsed < s->active) {
		host->fail(ctx, "active_days and lapsed_days: expected numbers, "
			   "0 < active_days <= lapsed_days");
		free(s);
		return -1;
	}
	*state = s;
	return 0;
}

static int run(void *state, patron_ctx *ctx)
{
	recency_state *s = state;
	const patron_features *f = s->host->features(ctx);
	if (!f)
		return -1;
	size_t col = patron_feature_column(f, "recency_days");
	if (col == f->cols) {
		s->host->fail(ctx, "no recency_days column");
		return -1;
	}
	const char **labels = malloc((f->rows ? f->rows : 1) * sizeof *labels);
	if (!labels) {
		s->host->fail(ctx, "out of memory");
		return -1;
	}
	for (size_t r = 0; r < f->rows; r++) {
		double d = f->x[r * f->cols + col];
		labels[r] = isnan(d) ? "prospect" : d <= s->active ? "active"
			    : d <= s->lapsed ? "lapsing" : "lapsed";
	}
	int rc = s->host->write_segments(ctx, f->rows, f->customer_ids, labels);
	free(labels);
	return rc;
}

static void done(void *state) { free(state); }

static const patron_plugin descriptor = {
	PATRON_PLUGIN_ABI,
	.name = "segment.recency",
	.kind = PATRON_KIND_SEGMENTER,
	.version = "0.1",
	.description = "active, lapsing or lapsed by days since the last paid order",
	.init = init,
	.run = run,
	.free = done,
};

const patron_plugin *patron_plugin_entry(void) { return &descriptor; }
