#include "recs.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_N 1000

/* Whether VALUE is one of the comma-separated items of LIST (spaces around
 * an item ignored). */
static int listed(const char *list, const char *value)
{
	if (!list || !value)
		return 0;
	size_t vlen = strlen(value);
	for (const char *p = list; *p;) {
		while (*p == ' ' || *p == ',')
			p++;
		const char *end = p;
		while (*end && *end != ',')
			end++;
		const char *last = end;
		while (last > p && last[-1] == ' ')
			last--;
		if ((size_t)(last - p) == vlen && memcmp(p, value, vlen) == 0)
			return 1;
		p = end;
	}
	return 0;
}

static const double *by_popularity;

static int more_popular(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	if (by_popularity[x] != by_popularity[y])
		return by_popularity[x] < by_popularity[y] ? 1 : -1;
	return (x > y) - (x < y);
}

/* Popularity: distinct buyers of each column within the window (entries
 * are one per customer and product), or over all time when the window is
 * empty. */
static void popularity(recs *r)
{
	const patron_graph *g = r->g;
	int64_t since = r->h->now(r->ctx) - (int64_t)(r->window_days * 86400);
	size_t in_window = 0;
	for (size_t e = 0; e < g->nnz; e++)
		if (g->last_at[e] >= since) {
			r->popularity[g->cols[e]] += 1;
			in_window++;
		}
	if (!in_window)
		for (size_t e = 0; e < g->nnz; e++)
			r->popularity[g->cols[e]] += 1;
	r->npopular = 0;
	for (uint32_t c = 0; c < g->products; c++)
		if (!r->banned[c] && r->popularity[c] > 0)
			r->popular[r->npopular++] = c;
	by_popularity = r->popularity;
	qsort(r->popular, r->npopular, sizeof *r->popular, more_popular);
}

int recs_open(recs *r, const patron_host *h, patron_ctx *ctx)
{
	memset(r, 0, sizeof *r);
	r->h = h;
	r->ctx = ctx;
	double n = PATRON_RECS_DEFAULT, rep = 0;
	r->window_days = 90;
	if (h->option_number(ctx, "n", &n) < 0 || n != floor(n) || n < 1 || n > MAX_N) {
		h->fail(ctx, "option n: expected a whole number from 1 to %d", MAX_N);
		return -1;
	}
	if (h->option_number(ctx, "repurchase", &rep) < 0) {
		h->fail(ctx, "option repurchase: expected true or false");
		return -1;
	}
	if (h->option_number(ctx, "window_days", &r->window_days) < 0 || !(r->window_days > 0)) {
		h->fail(ctx, "option window_days: expected a number of days above 0");
		return -1;
	}
	const char *w = h->option_string(ctx, "weight");
	double dummy;
	if (!w && h->option_number(ctx, "weight", &dummy) != 0) {
		h->fail(ctx, "option weight: expected \"binary\", \"quantity\" or \"log_spend\"");
		return -1;
	}
	r->weighting = !w || strcmp(w, "binary") == 0 ? RECS_BINARY
		       : strcmp(w, "quantity") == 0   ? RECS_QUANTITY
		       : strcmp(w, "log_spend") == 0  ? RECS_LOG_SPEND : -1;
	if (r->weighting < 0) {
		h->fail(ctx, "option weight: expected \"binary\", \"quantity\" or \"log_spend\", "
			"got \"%s\"", w);
		return -1;
	}
	r->n = (size_t)n;
	r->repurchase = rep != 0;
	r->g = h->graph(ctx);
	if (!r->g)
		return -1;
	const patron_graph *g = r->g;
	size_t rows = g->rows ? g->rows : 1, cols = g->products ? g->products : 1;
	r->banned = calloc(cols, 1);
	r->popular = malloc(cols * sizeof *r->popular);
	r->popularity = calloc(cols, sizeof *r->popularity);
	r->products = calloc(rows * r->n, sizeof *r->products);
	r->scores = calloc(rows * r->n, sizeof *r->scores);
	r->because = calloc(rows * r->n * RECS_BECAUSE, sizeof *r->because);
	if (!r->banned || !r->popular || !r->popularity || !r->products || !r->scores ||
	    !r->because) {
		h->fail(ctx, "out of memory for %zu customers' lists", g->rows);
		return -1;
	}
	const char *skus = h->option_string(ctx, "exclude_products");
	const char *cats = h->option_string(ctx, "exclude_categories");
	if (skus || cats) {
		if (!PATRON_HOST_HAS(h, product_field)) {
			h->fail(ctx, "options exclude_products and exclude_categories need a "
				"patron of plugin ABI 1.3 or later");
			return -1;
		}
		for (size_t c = 0; c < g->products; c++)
			r->banned[c] = listed(skus, h->product_field(ctx, g->product_ids[c], "sku")) ||
				       listed(cats, h->product_field(ctx, g->product_ids[c],
								     "category"));
	}
	popularity(r);
	return 0;
}

void recs_close(recs *r)
{
	free(r->banned), free(r->popular), free(r->popularity);
	free(r->products), free(r->scores), free(r->because);
}

double recs_weight(const recs *r, size_t e)
{
	switch (r->weighting) {
	case RECS_QUANTITY:
		return r->g->quantity[e] > 0 ? r->g->quantity[e] : 1;
	case RECS_LOG_SPEND:
		return log1p(r->g->spend[e] > 0 ? r->g->spend[e] : 0) + 1e-9;
	default:
		return 1;
	}
}

int recs_scratch_init(recs_scratch *s, size_t products, size_t n)
{
	memset(s, 0, sizeof *s);
	size_t p = products ? products : 1;
	s->products = p;
	s->score = malloc(p * sizeof *s->score);
	s->touched = malloc(p * sizeof *s->touched);
	s->mark = calloc(p, sizeof *s->mark);
	s->best = malloc((n + 1) * sizeof *s->best);
	return s->score && s->touched && s->mark && s->best ? 0 : -1;
}

void recs_scratch_free(recs_scratch *s)
{
	free(s->score), free(s->touched), free(s->mark), free(s->best);
}

void recs_begin(recs_scratch *s)
{
	s->ntouched = 0;
	if (++s->stamp == 0) {	/* wrapped: marks of 0 would look current */
		memset(s->mark, 0, s->products * sizeof *s->mark);
		s->stamp = 1;
	}
}

/* Whether row U bought column C (a row's columns ascend). */
static int owns(const patron_graph *g, size_t u, uint32_t c)
{
	size_t lo = g->offsets[u], hi = g->offsets[u + 1];
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (g->cols[mid] == c)
			return 1;
		if (g->cols[mid] < c)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

/* Whether column X goes before column Y: higher score, then lower column. */
static int better(const double *score, uint32_t x, uint32_t y)
{
	return score[x] > score[y] || (score[x] == score[y] && x < y);
}

size_t recs_pick(recs *r, recs_scratch *s, size_t u)
{
	const patron_graph *g = r->g;
	size_t n = r->n, got = 0;
	uint32_t *best = s->best;
	/* Insertion into a short sorted list: n is small, and most columns
	 * fail the first comparison with the worst kept. */
	for (size_t t = 0; t < s->ntouched; t++) {
		uint32_t c = s->touched[t];
		if (r->banned[c] || (got == n && !better(s->score, c, best[n - 1])))
			continue;
		if (!r->repurchase && owns(g, u, c))
			continue;
		size_t at = got < n ? got++ : n - 1;
		while (at > 0 && better(s->score, c, best[at - 1])) {
			best[at] = best[at - 1];
			at--;
		}
		best[at] = c;
	}
	uint32_t *out = r->products + u * n;
	double *sc = r->scores + u * n;
	for (size_t j = 0; j < got; j++) {
		out[j] = best[j] + 1;
		sc[j] = s->score[best[j]];
	}
	/* Filled up from the popular columns. While the list is short, every
	 * touched column that may be offered is in it, so a touched column is
	 * either chosen already or not to be offered. */
	size_t from_scores = got;
	for (size_t p = 0; p < r->npopular && got < n; p++) {
		uint32_t c = r->popular[p];
		if (s->mark[c] == s->stamp || (!r->repurchase && owns(g, u, c)))
			continue;
		out[got] = c + 1;
		sc[got] = 0;
		got++;
	}
	return from_scores;
}

void recs_pick_dense(recs *r, recs_scratch *s, size_t u, const double *row)
{
	const patron_graph *g = r->g;
	size_t n = r->n, got = 0;
	uint32_t *best = s->best;
	double worst = -INFINITY;	/* the score to beat once the list is full */
	for (uint32_t c = 0; c < g->products; c++) {
		if (row[c] < worst)
			continue;	/* most columns, once the list has filled */
		if (r->banned[c] || (got == n && !better(row, c, best[n - 1])))
			continue;
		if (!r->repurchase && owns(g, u, c))
			continue;
		size_t at = got < n ? got++ : n - 1;
		while (at > 0 && better(row, c, best[at - 1])) {
			best[at] = best[at - 1];
			at--;
		}
		best[at] = c;
		if (got == n)
			worst = row[best[n - 1]];
	}
	for (size_t j = 0; j < got; j++) {
		r->products[u * n + j] = best[j] + 1;
		r->scores[u * n + j] = row[best[j]];
	}
}

/* Customers per call of the host's writer: the ids of their lists are
 * made a batch at a time. */
#define WRITE_BATCH 65536

/* Product ids of N columns + 1 (0 stays 0). */
static void ids_of(const patron_graph *g, const uint32_t *cols, size_t n, int64_t *ids)
{
	for (size_t i = 0; i < n; i++)
		ids[i] = cols[i] ? g->product_ids[cols[i] - 1] : 0;
}

int recs_write(recs *r, int with_because)
{
	const patron_host *h = r->h;
	const patron_graph *g = r->g;
	if (r->fallback)
		h->log(r->ctx, PATRON_LOG_INFO, "%zu customers without purchases got the most "
		       "popular products", r->fallback);
	size_t n = r->n, m = with_because && PATRON_HOST_HAS(h, write_recommendations_because)
			     ? RECS_BECAUSE : 0;
	size_t batch = g->rows < WRITE_BATCH ? g->rows : WRITE_BATCH;
	size_t cells = batch * n > 0 ? batch * n : 1;
	int64_t *products = malloc(cells * sizeof *products);
	int64_t *because = m ? malloc(cells * m * sizeof *because) : NULL;
	if (!products || (m && !because)) {
		free(products), free(because);
		h->fail(r->ctx, "out of memory");
		return -1;
	}
	int rc = 0;
	for (size_t from = 0; from < g->rows && rc == 0; from += batch) {
		size_t rows = g->rows - from < batch ? g->rows - from : batch;
		ids_of(g, r->products + from * n, rows * n, products);
		if (m) {
			ids_of(g, r->because + from * n * m, rows * n * m, because);
			rc = h->write_recommendations_because(r->ctx, rows, g->customer_ids + from, n,
							      products, r->scores + from * n, m,
							      because);
		} else {
			rc = h->write_recommendations(r->ctx, rows, g->customer_ids + from, n,
						      products, r->scores + from * n);
		}
	}
	free(products), free(because);
	return rc;
}
