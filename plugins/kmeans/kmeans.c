/* segment.kmeans: customers grouped by k-means on standardized features.
 *
 * The chosen columns (option columns, default
 * "recency_days,frequency,monetary_total") are standardized to mean 0 and
 * standard deviation 1; a missing value (a customer who never paid has no
 * recency) takes the column's mean; a constant column is left out, and the
 * log says so. Clustering is lloyd.c's: k-means++ seeding, Lloyd with
 * Hamerly's bounds on two threads, the best of `restarts` runs from `seed`.
 * k = "auto" tries 2 to 8 and keeps the best mean silhouette on a sample.
 * Clusters are named cluster-1 (highest mean spend) to cluster-k. Each run
 * stores its model (k, the columns clustered on, inertia), so `patron
 * segments` can show the centroids in the columns' own units.
 *
 * patron.conf:  segment = { plugin = "kmeans", k = 6 }   or   k = "auto"
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <patron/plugin.h>

#include "lloyd.h"

#define AUTO_MAX_K 8
#define SILHOUETTE_SAMPLE 2000

typedef struct {
	const patron_host *host;
	size_t k;	/* 0: auto */
	double seed, restarts, max_iter;
	char columns[512];
} km_state;

static int init(const patron_host *host, patron_ctx *ctx, void **state)
{
	km_state *s = calloc(1, sizeof *s);
	if (!s) {
		host->fail(ctx, "out of memory");
		return -1;
	}
	s->host = host;
	s->seed = 1;
	s->restarts = 4;
	s->max_iter = 300;
	double k = 5;
	const char *ks = host->option_string(ctx, "k");
	if (ks && strcmp(ks, "auto") == 0)
		k = 0;
	else if (ks || host->option_number(ctx, "k", &k) < 0 || k != floor(k) || k < 1 || k > 256)
		goto bad_k;
	s->k = (size_t)k;
	if (host->option_number(ctx, "seed", &s->seed) < 0 || s->seed < 0 ||
	    host->option_number(ctx, "restarts", &s->restarts) < 0 || s->restarts < 1 ||
	    s->restarts > 100 || host->option_number(ctx, "max_iter", &s->max_iter) < 0 ||
	    s->max_iter < 1) {
		host->fail(ctx, "options seed, restarts (1-100) and max_iter: expected whole numbers");
		free(s);
		return -1;
	}
	const char *cols = host->option_string(ctx, "columns");
	snprintf(s->columns, sizeof s->columns, "%s",
		 cols ? cols : "recency_days,frequency,monetary_total");
	*state = s;
	return 0;
bad_k:
	host->fail(ctx, "option k: expected a whole number from 1 to 256, or \"auto\"");
	free(s);
	return -1;
}

static const double *spend_of;

static int by_spend(const void *a, const void *b)
{
	double x = spend_of[*(const uint32_t *)a], y = spend_of[*(const uint32_t *)b];
	if (x != y)
		return x > y ? -1 : 1;
	return (*(const uint32_t *)a > *(const uint32_t *)b) - (*(const uint32_t *)a < *(const uint32_t *)b);
}

/* Appends SEP and S as a JSON string at OUT + LEN (room for 6 bytes per
 * byte of S, plus 3); the new length. */
static size_t json_string(char *out, size_t len, const char *sep, const char *s)
{
	len += (size_t)sprintf(out + len, "%s\"", sep);
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch == '"' || ch == '\\')
			len += (size_t)sprintf(out + len, "\\%c", ch);
		else if (ch < 0x20)
			len += (size_t)sprintf(out + len, "\\u%04x", ch);
		else
			out[len++] = (char)ch;
	}
	out[len++] = '"';
	out[len] = '\0';
	return len;
}

static int run(void *state, patron_ctx *ctx)
{
	km_state *s = state;
	const patron_host *h = s->host;
	const patron_features *f = h->features(ctx);
	if (!f)
		return -1;
	size_t cols[64], nc = 0, n = f->rows;
	char list[512];
	snprintf(list, sizeof list, "%s", s->columns);
	for (char *save = NULL, *c = strtok_r(list, ", ", &save); c; c = strtok_r(NULL, ", ", &save)) {
		size_t j = patron_feature_column(f, c);
		if (j == f->cols) {
			h->fail(ctx, "option columns: there is no feature \"%s\" (see patron snapshot)", c);
			return -1;
		}
		if (nc == 64) {
			h->fail(ctx, "option columns: at most 64 columns");
			return -1;
		}
		cols[nc++] = j;
	}
	size_t spend_col = patron_feature_column(f, "monetary_total");
	double *x = malloc((n ? n : 1) * (nc ? nc : 1) * sizeof *x);
	const char **labels = malloc((n ? n : 1) * sizeof *labels);
	kmeans_result res = {0};
	int rc = -1;
	/* KEPT: the JSON list of the columns clustered on, for the model. */
	size_t d = 0, kept_len = 0, kept_cap = 256;
	for (size_t c = 0; c < nc; c++)
		kept_cap += 6 * strlen(f->names[cols[c]]) + 3;
	char *kept = malloc(kept_cap), *params = NULL;
	if (!x || !labels || !kept) {
		h->fail(ctx, "out of memory");
		goto out;
	}
	kept[0] = '\0';
	/* Standardize; impute; drop what does not vary. */
	for (size_t c = 0; c < nc; c++) {
		double sum = 0, sq = 0;
		size_t seen = 0;
		for (size_t r = 0; r < n; r++) {
			double v = f->x[r * f->cols + cols[c]];
			if (!isnan(v)) {
				sum += v;
				seen++;
			}
		}
		double mean = seen ? sum / (double)seen : 0;
		for (size_t r = 0; r < n; r++) {
			double v = f->x[r * f->cols + cols[c]];
			if (!isnan(v))
				sq += (v - mean) * (v - mean);
		}
		double sd = seen ? sqrt(sq / (double)seen) : 0;
		if (!(sd > 0)) {
			h->log(ctx, PATRON_LOG_WARN, "column %s is constant; left out",
			       f->names[cols[c]]);
			continue;
		}
		if (seen < n)
			h->log(ctx, PATRON_LOG_INFO, "column %s: %zu missing values take its mean",
			       f->names[cols[c]], n - seen);
		for (size_t r = 0; r < n; r++) {
			double v = f->x[r * f->cols + cols[c]];
			x[r * nc + d] = isnan(v) ? 0 : (v - mean) / sd;
		}
		kept_len = json_string(kept, kept_len, d ? "," : "", f->names[cols[c]]);
		d++;
	}
	if (d == 0) {
		h->fail(ctx, "every chosen column is constant: nothing to cluster on");
		goto out;
	}
	if (d < nc)	/* close the gaps the dropped columns left */
		for (size_t r = 0; r < n; r++)
			memmove(x + r * d, x + r * nc, d * sizeof *x);
	kmeans_opts o = {s->k, (size_t)s->restarts, (size_t)s->max_iter, (uint64_t)s->seed, 2};
	char err[256];
	if (s->k == 0) {
		size_t m = n < SILHOUETTE_SAMPLE ? n : SILHOUETTE_SAMPLE, step = n / (m ? m : 1);
		size_t *sample = malloc((m ? m : 1) * sizeof *sample);
		if (!sample) {
			h->fail(ctx, "out of memory");
			goto out;
		}
		for (size_t i = 0; i < m; i++)
			sample[i] = i * step;
		double best = -2;
		size_t best_k = 0;
		for (size_t k = 2; k <= AUTO_MAX_K && k < n; k++) {
			kmeans_opts t = o;
			t.k = k;
			t.restarts = 1;
			kmeans_result tr;
			if (kmeans_run(x, n, d, &t, &tr, err, sizeof err) < 0)
				break;
			double sil = kmeans_silhouette(x, d, tr.labels, k, sample, m);
			h->log(ctx, PATRON_LOG_INFO, "k = %zu: mean silhouette %.4f", k, sil);
			if (sil > best) {
				best = sil;
				best_k = k;
			}
			free(tr.centers), free(tr.labels);
		}
		free(sample);
		if (!best_k) {
			h->fail(ctx, "k = \"auto\" needs at least 3 customers, the store has %zu", n);
			goto out;
		}
		o.k = best_k;
	}
	if (kmeans_run(x, n, d, &o, &res, err, sizeof err) < 0) {
		h->fail(ctx, "%s", err);
		goto out;
	}
	h->log(ctx, PATRON_LOG_INFO, "k = %zu on %zu customers x %zu columns: inertia %.6g after "
	       "%zu iterations", o.k, n, d, res.inertia, res.iterations);
	/* Name the clusters by mean spend, highest first. */
	double *spend = calloc(o.k, sizeof *spend);
	size_t *count = calloc(o.k, sizeof *count);
	uint32_t *order = malloc(o.k * sizeof *order), *rank = malloc(o.k * sizeof *rank);
	char (*names)[32] = malloc(o.k * sizeof *names);
	if (!spend || !count || !order || !rank || !names) {
		free(spend), free(count), free(order), free(rank), free(names);
		h->fail(ctx, "out of memory");
		goto out;
	}
	for (size_t r = 0; r < n; r++) {
		count[res.labels[r]]++;
		if (spend_col < f->cols)
			spend[res.labels[r]] += f->x[r * f->cols + spend_col];
	}
	for (size_t c = 0; c < o.k; c++) {
		order[c] = (uint32_t)c;
		spend[c] = count[c] ? spend[c] / (double)count[c] : 0;
	}
	spend_of = spend;
	qsort(order, o.k, sizeof *order, by_spend);
	for (size_t i = 0; i < o.k; i++) {
		rank[order[i]] = (uint32_t)i;
		snprintf(names[i], sizeof names[i], "cluster-%zu", i + 1);
	}
	for (size_t r = 0; r < n; r++)
		labels[r] = names[rank[res.labels[r]]];
	/* The model: which columns, for `patron segments` to show each
	 * cluster's centroid in their own units. */
	params = malloc(kept_len + 200);
	if (!params) {
		h->fail(ctx, "out of memory");
	} else {
		snprintf(params, kept_len + 200, "{\"k\":%zu,\"columns\":[%s],\"inertia\":%.17g,"
			 "\"iterations\":%zu,\"seed\":%.0f}", o.k, kept, res.inertia,
			 res.iterations, s->seed);
		rc = h->write_segments(ctx, n, f->customer_ids, labels) < 0 ? -1
		     : h->save_model(ctx, params);
	}
	free(spend), free(count), free(order), free(rank), free(names);
out:
	free(x), free(labels), free(res.centers), free(res.labels), free(kept), free(params);
	return rc;
}

static void done(void *state) { free(state); }

/* What this plugin reads from its job's table in patron.conf. */
static const char *const options[] = {"k", "seed", "restarts", "max_iter", "columns", NULL};

static const patron_plugin descriptor = {
	PATRON_PLUGIN_ABI,
	.name = "segment.kmeans",
	.kind = PATRON_KIND_SEGMENTER,
	.version = "1.0",
	.description = "k-means on standardized features (k-means++, Hamerly, two threads)",
	.init = init,
	.run = run,
	.free = done,
	.options = options,
};

const patron_plugin *patron_plugin_entry(void) { return &descriptor; }
