/* segment.rfm: recency, frequency and monetary scores and the named segments
 * of the RFM grid.
 *
 * Each of R, F and M is a quintile score from 1 (worst) to 5 (best) among
 * the customers who paid at least once: a customer's score is
 * 1 + floor(5 * b / n), where b is the number of buyers strictly worse on
 * that measure (longer since the last order; fewer orders; less money).
 * Equal values therefore always share a score, and the result does not
 * depend on the order rows come in.
 *
 * The segment is read off a grid of R against FM = round((F + M) / 2), every
 * cell naming exactly one segment:
 *
 *          FM=1          2               3               4            5
 *   R=5    new           potential       loyal           champions    champions
 *   R=4    promising     potential       loyal           champions    champions
 *   R=3    about_to_sleep need_attention need_attention  loyal        loyal
 *   R=2    hibernating   hibernating     at_risk         at_risk      cannot_lose_them
 *   R=1    lost          lost            at_risk         cannot_lose_them cannot_lose_them
 *
 * (potential is "potential_loyalist".) Customers who never paid are
 * "prospect" and get no scores. Also written: rfm.r, rfm.f, rfm.m and
 * rfm.value = (w_r R + w_f F + w_m M) / (w_r + w_f + w_m), weights from the
 * options weight_r, weight_f, weight_m (default 1 each).
 *
 * patron.conf:  segment = "rfm"   or   segment = { plugin = "rfm", weight_m = 2 }
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <patron/plugin.h>

typedef struct {
	const patron_host *host;
	double w[3];
} rfm_state;

static int init(const patron_host *host, patron_ctx *ctx, void **state)
{
	static const char *const keys[3] = {"weight_r", "weight_f", "weight_m"};
	rfm_state *s = malloc(sizeof *s);
	if (!s) {
		host->fail(ctx, "out of memory");
		return -1;
	}
	s->host = host;
	double sum = 0;
	for (int i = 0; i < 3; i++) {
		s->w[i] = 1.0;
		if (host->option_number(ctx, keys[i], &s->w[i]) < 0 || s->w[i] < 0 ||
		    !isfinite(s->w[i])) {
			host->fail(ctx, "option %s: expected a number of at least 0", keys[i]);
			free(s);
			return -1;
		}
		sum += s->w[i];
	}
	if (sum <= 0) {
		host->fail(ctx, "options weight_r, weight_f, weight_m: at least one must be above 0");
		free(s);
		return -1;
	}
	*state = s;
	return 0;
}

static const char *const grid[5][5] = {
	/* R=1 */ {"lost", "lost", "at_risk", "cannot_lose_them", "cannot_lose_them"},
	/* R=2 */ {"hibernating", "hibernating", "at_risk", "at_risk", "cannot_lose_them"},
	/* R=3 */ {"about_to_sleep", "need_attention", "need_attention", "loyal", "loyal"},
	/* R=4 */ {"promising", "potential_loyalist", "loyal", "champions", "champions"},
	/* R=5 */ {"new", "potential_loyalist", "loyal", "champions", "champions"},
};

/* A double as an unsigned key of the same order (NaN aside). */
static uint64_t order_key(double v)
{
	uint64_t u;
	if (v == 0)
		v = 0;	/* -0 and +0 are one value */
	memcpy(&u, &v, sizeof u);
	return u >> 63 ? ~u : u | (1ull << 63);
}

/* ORDER := 0..n-1 sorted by KEY (ascending, stable): LSD radix sort in four
 * 16-bit passes, using TMP and TMPKEY (n entries each) as scratch. A comparison
 * sort of a million rows took most of the plugin's time. */
static void radix_sort(uint64_t *key, size_t *order, uint64_t *tmpkey, size_t *tmp, size_t n)
{
	static size_t count[1 << 16];
	for (size_t i = 0; i < n; i++)
		order[i] = i;
	for (int shift = 0; shift < 64; shift += 16) {
		memset(count, 0, sizeof count);
		for (size_t i = 0; i < n; i++)
			count[(key[i] >> shift) & 0xffff]++;
		size_t sum = 0;
		for (size_t d = 0; d < (1 << 16); d++) {
			size_t c = count[d];
			count[d] = sum;
			sum += c;
		}
		for (size_t i = 0; i < n; i++) {
			size_t at = count[(key[i] >> shift) & 0xffff]++;
			tmpkey[at] = key[i];
			tmp[at] = order[i];
		}
		memcpy(key, tmpkey, n * sizeof *key);
		memcpy(order, tmp, n * sizeof *order);
	}
}

/* Quintile scores of VALUE over the N buyers, higher values better, into
 * SCORE (indexed like VALUE). SCRATCH holds 2n keys and 2n indexes. */
static void quintiles(const double *value, size_t n, uint64_t *keys, size_t *idx,
		      unsigned char *score)
{
	for (size_t i = 0; i < n; i++)
		keys[i] = order_key(value[i]);
	size_t *order = idx;
	radix_sort(keys, order, keys + n, idx + n, n);
	size_t below = 0;	/* buyers strictly worse than the current value */
	for (size_t k = 0; k < n; k++) {
		if (k > 0 && keys[k] != keys[k - 1])
			below = k;
		score[order[k]] = (unsigned char)(1 + 5 * below / n);
	}
}

static int run(void *state, patron_ctx *ctx)
{
	rfm_state *s = state;
	const patron_host *h = s->host;
	/* R, F and M are all it reads: the summary, where the core has it,
	 * is made without a pass over the orders. */
	const patron_features *f = PATRON_HOST_HAS(h, summary) ? h->summary(ctx) : h->features(ctx);
	if (!f)
		return -1;
	size_t cr = patron_feature_column(f, "recency_days");
	size_t cf = patron_feature_column(f, "frequency");
	size_t cm = patron_feature_column(f, "monetary_total");
	if (cr == f->cols || cf == f->cols || cm == f->cols) {
		h->fail(ctx, "the feature matrix lacks recency_days, frequency or monetary_total");
		return -1;
	}
	size_t n = f->rows, nb = 0;
	size_t *buyer = malloc((n ? n : 1) * sizeof *buyer);	/* buyer -> row */
	double *v = malloc((n ? n : 1) * 3 * sizeof *v);
	size_t *order = malloc((n ? n : 1) * 2 * sizeof *order);
	uint64_t *keys = malloc((n ? n : 1) * 2 * sizeof *keys);
	unsigned char *q = malloc((n ? n : 1) * 3);
	const char **labels = malloc((n ? n : 1) * sizeof *labels);
	int64_t *ids = malloc((n ? n : 1) * sizeof *ids);
	double *scores = malloc((n ? n : 1) * 4 * sizeof *scores);
	int rc = -1;
	if (!buyer || !v || !order || !keys || !q || !labels || !ids || !scores) {
		h->fail(ctx, "out of memory");
		goto out;
	}
	for (size_t r = 0; r < n; r++) {
		const double *row = f->x + r * f->cols;
		labels[r] = "prospect";
		if (!(row[cf] > 0))
			continue;
		/* Higher is better for all three: recency counts against. */
		v[0 * n + nb] = -row[cr];
		v[1 * n + nb] = row[cf];
		v[2 * n + nb] = row[cm];
		buyer[nb++] = r;
	}
	for (int m = 0; m < 3; m++)
		quintiles(v + (size_t)m * n, nb, keys, order, q + (size_t)m * n);
	double wsum = s->w[0] + s->w[1] + s->w[2];
	for (size_t b = 0; b < nb; b++) {
		unsigned R = q[b], F = q[n + b], M = q[2 * n + b];
		unsigned fm = (F + M + 1) / 2;	/* round half up */
		labels[buyer[b]] = grid[R - 1][fm - 1];
		ids[b] = f->customer_ids[buyer[b]];
		scores[b] = R;
		scores[n + b] = F;
		scores[2 * n + b] = M;
		scores[3 * n + b] = (s->w[0] * R + s->w[1] * F + s->w[2] * M) / wsum;
	}
	h->progress(ctx, 1.0, "rfm");
	if (h->write_segments(ctx, n, f->customer_ids, labels) < 0 ||
	    h->write_scores(ctx, "rfm.r", nb, ids, scores) < 0 ||
	    h->write_scores(ctx, "rfm.f", nb, ids, scores + n) < 0 ||
	    h->write_scores(ctx, "rfm.m", nb, ids, scores + 2 * n) < 0 ||
	    h->write_scores(ctx, "rfm.value", nb, ids, scores + 3 * n) < 0)
		goto out;
	rc = 0;
out:
	free(buyer), free(v), free(order), free(keys), free(q), free(labels), free(ids), free(scores);
	return rc;
}

static void done(void *state) { free(state); }

/* What this plugin reads from its job's table in patron.conf. */
static const char *const options[] = {"weight_r", "weight_f", "weight_m", NULL};

static const patron_plugin descriptor = {
	PATRON_PLUGIN_ABI,
	.name = "segment.rfm",
	.kind = PATRON_KIND_SEGMENTER,
	.version = "1.0",
	.description = "RFM quintile scores, weighted RFM value and the named RFM segments",
	.init = init,
	.run = run,
	.free = done,
	.options = options,
};

const patron_plugin *patron_plugin_entry(void) { return &descriptor; }
