#include "cart.h"

#include <math.h>
#include "../common/parallel.h"
#include "../common/random.h"
#include <stdlib.h>
#include <string.h>

#define BINS 256

/* Bins of every column over the training rows: thresholds[c] (nthr[c] of
 * them, ascending) and each row's bin, the number of thresholds below its
 * value. */
typedef struct {
	size_t cols;
	double **thr;
	uint16_t *nthr;
	uint8_t *bin;		/* (max row + 1) x cols, row-major */
} binning;

static int by_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static void binning_free(binning *b)
{
	for (size_t c = 0; b->thr && c < b->cols; c++)
		free(b->thr[c]);
	free(b->thr), free(b->nthr), free(b->bin);
}

static int binning_make(const double *x, size_t cols, const size_t *rows, size_t n, binning *b)
{
	size_t maxrow = 0;
	for (size_t i = 0; i < n; i++)
		if (rows[i] > maxrow)
			maxrow = rows[i];
	b->cols = cols;
	b->thr = calloc(cols ? cols : 1, sizeof *b->thr);
	b->nthr = calloc(cols ? cols : 1, sizeof *b->nthr);
	b->bin = malloc((maxrow + 1) * (cols ? cols : 1));
	double *v = malloc((n ? n : 1) * sizeof *v);
	if (!b->thr || !b->nthr || !b->bin || !v) {
		free(v);
		return -1;
	}
	for (size_t c = 0; c < cols; c++) {
		for (size_t i = 0; i < n; i++)
			v[i] = x[rows[i] * cols + c];
		qsort(v, n, sizeof *v, by_double);
		size_t u = 0;	/* distinct values, in place */
		for (size_t i = 0; i < n; i++)
			if (!u || v[i] != v[u - 1])
				v[u++] = v[i];
		size_t k = u <= BINS ? (u ? u - 1 : 0) : BINS - 1;
		b->thr[c] = malloc((k ? k : 1) * sizeof **b->thr);
		if (!b->thr[c]) {
			free(v);
			return -1;
		}
		size_t m = 0;
		for (size_t j = 0; j < k; j++) {
			/* Between distinct values lo and hi: all of them, or at quantiles. */
			size_t lo = u <= BINS ? j : (j + 1) * (u - 1) / BINS;
			double t = (v[lo] + v[lo + 1]) / 2;
			if (!m || t > b->thr[c][m - 1])
				b->thr[c][m++] = t;
		}
		b->nthr[c] = (uint16_t)m;
	}
	free(v);
	for (size_t i = 0; i < n; i++) {
		size_t r = rows[i];
		for (size_t c = 0; c < cols; c++) {
			const double *t = b->thr[c];
			double xv = x[r * cols + c];
			size_t lo = 0, hi = b->nthr[c];
			while (lo < hi) {	/* thresholds below xv */
				size_t mid = (lo + hi) / 2;
				if (t[mid] < xv)
					lo = mid + 1;
				else
					hi = mid;
			}
			b->bin[r * cols + c] = (uint8_t)lo;
		}
	}
	return 0;
}

typedef struct {
	cart_tree *t;
	size_t cap;
} builder;

static int32_t add_node(builder *bd, double value, double count)
{
	cart_tree *t = bd->t;
	if (t->n == bd->cap) {
		size_t cap = bd->cap ? bd->cap * 2 : 64;
		int32_t *f = realloc(t->feature, cap * sizeof *f);
		if (f)
			t->feature = f;
		double *th = realloc(t->threshold, cap * sizeof *th);
		if (th)
			t->threshold = th;
		int32_t *l = realloc(t->left, cap * sizeof *l);
		if (l)
			t->left = l;
		int32_t *r = realloc(t->right, cap * sizeof *r);
		if (r)
			t->right = r;
		double *v = realloc(t->value, cap * sizeof *v);
		if (v)
			t->value = v;
		double *cn = realloc(t->count, cap * sizeof *cn);
		if (cn)
			t->count = cn;
		if (!f || !th || !l || !r || !v || !cn)
			return -1;
		bd->cap = cap;
	}
	size_t i = t->n++;
	t->feature[i] = -1;
	t->threshold[i] = 0;
	t->left[i] = t->right[i] = -1;
	t->value[i] = value;
	t->count[i] = count;
	return (int32_t)i;
}

typedef struct {
	size_t begin, end, depth;
	int32_t node;
} pending;

/* Grows one tree over the rows IDX (with repeats for a bootstrap). */
static int grow(const binning *b, const double *y, size_t *idx, size_t n, const forest_opts *o,
		size_t mtry, uint64_t seed, cart_tree *t)
{
	size_t cols = b->cols;
	builder bd = {t, 0};
	memset(t, 0, sizeof *t);
	pending *stack = malloc((2 * (n ? n : 1) + 8) * sizeof *stack);
	size_t *feat = malloc((cols ? cols : 1) * sizeof *feat);
	double (*hist)[2] = malloc(BINS * sizeof *hist);
	if (!stack || !feat || !hist) {
		free(stack), free(feat), free(hist);
		return -1;
	}
	double pos = 0;
	for (size_t i = 0; i < n; i++)
		pos += y[idx[i]];
	int rc = 0;
	size_t top = 0;
	int32_t root = add_node(&bd, n ? pos / (double)n : 0, (double)n);
	if (root < 0)
		rc = -1;
	else
		stack[top++] = (pending){0, n, 0, root};
	while (top && rc == 0) {
		pending p = stack[--top];
		size_t m = p.end - p.begin;
		double mp = 0;
		for (size_t i = p.begin; i < p.end; i++)
			mp += y[idx[i]];
		if (mp == 0 || mp == (double)m || m < 2 * o->min_leaf ||
		    (o->max_depth && p.depth >= o->max_depth))
			continue;	/* a leaf */
		for (size_t c = 0; c < cols; c++)
			feat[c] = c;
		double best = INFINITY;
		size_t best_f = 0, best_bin = 0, tried = 0;
		for (size_t k = 0; k < cols; k++) {
			if (tried >= mtry && isfinite(best))
				break;
			size_t j = k + (size_t)(plugin_random(&seed) % (cols - k));	/* draw without repeats */
			size_t f = feat[j];
			feat[j] = feat[k];
			feat[k] = f;
			tried++;
			size_t nb = (size_t)b->nthr[f] + 1;
			if (nb < 2)
				continue;
			memset(hist, 0, nb * sizeof *hist);
			for (size_t i = p.begin; i < p.end; i++) {
				size_t r = idx[i];
				uint8_t bin = b->bin[r * cols + f];
				hist[bin][0] += 1;
				hist[bin][1] += y[r];
			}
			double ln = 0, lp = 0;
			for (size_t s = 0; s + 1 < nb; s++) {
				ln += hist[s][0];
				lp += hist[s][1];
				double rn = (double)m - ln, rp = mp - lp;
				if (ln < (double)o->min_leaf || rn < (double)o->min_leaf || hist[s][0] == 0)
					continue;
				/* n_l gini_l + n_r gini_r = n_l - (lp^2 + ln0^2)/n_l + ... */
				double g = ln - (lp * lp + (ln - lp) * (ln - lp)) / ln +
					   rn - (rp * rp + (rn - rp) * (rn - rp)) / rn;
				if (g < best - 1e-12) {
					best = g;
					best_f = f;
					best_bin = s;
				}
			}
		}
		if (!isfinite(best))
			continue;
		/* Partition: rows of bin <= best_bin to the left. */
		size_t i = p.begin, j = p.end;
		while (i < j) {
			if (b->bin[idx[i] * cols + best_f] <= best_bin) {
				i++;
			} else {
				size_t tmp = idx[i];
				idx[i] = idx[--j];
				idx[j] = tmp;
			}
		}
		double lp2 = 0;
		for (size_t k = p.begin; k < i; k++)
			lp2 += y[idx[k]];
		int32_t l = add_node(&bd, lp2 / (double)(i - p.begin), (double)(i - p.begin));
		int32_t r = add_node(&bd, (mp - lp2) / (double)(p.end - i), (double)(p.end - i));
		if (l < 0 || r < 0) {
			rc = -1;
			break;
		}
		t->feature[p.node] = (int32_t)best_f;
		t->threshold[p.node] = b->thr[best_f][best_bin];
		t->left[p.node] = l;
		t->right[p.node] = r;
		stack[top++] = (pending){i, p.end, p.depth + 1, r};
		stack[top++] = (pending){p.begin, i, p.depth + 1, l};
	}
	free(stack), free(feat), free(hist);
	return rc;
}

typedef struct {
	const binning *b;
	const double *y;
	const size_t *rows;
	size_t n, mtry;
	const forest_opts *o;
	forest *f;
	size_t thread, threads;
	int failed;
} grower;

static void grow_part(void *arg, size_t t, size_t threads)
{
	grower *g = &((grower *)arg)[t];
	g->thread = t;
	g->threads = threads;
	size_t *idx = malloc((g->n ? g->n : 1) * sizeof *idx);
	if (!idx) {
		g->failed = 1;
		return;
	}
	for (size_t k = g->thread; k < g->f->n && !g->failed; k += g->threads) {
		uint64_t seed = g->o->seed * 0x9e3779b97f4a7c15ull + k + 1;
		for (size_t i = 0; i < g->n; i++)
			idx[i] = g->o->bootstrap ? g->rows[plugin_random(&seed) % g->n] : g->rows[i];
		if (grow(g->b, g->y, idx, g->n, g->o, g->mtry, seed, &g->f->tree[k]) < 0)
			g->failed = 1;
	}
	free(idx);
}

int forest_fit(const double *x, size_t cols, const size_t *rows, size_t n, const double *y,
	       const forest_opts *o, forest *f)
{
	memset(f, 0, sizeof *f);
	f->cols = cols;
	f->n = o->trees;
	f->tree = calloc(o->trees ? o->trees : 1, sizeof *f->tree);
	binning b = {0};
	if (!f->tree || binning_make(x, cols, rows, n, &b) < 0) {
		binning_free(&b);
		forest_free(f);
		return -1;
	}
	size_t mtry = o->max_features ? o->max_features : (size_t)fmax(1, floor(sqrt((double)cols)));
	if (mtry > cols)
		mtry = cols;
	grower g[2];
	size_t threads = o->threads >= 2 ? 2 : 1;
	for (size_t t = 0; t < threads; t++)
		g[t] = (grower){&b, y, rows, n, mtry, o, f, t, threads, 0};
	plugin_parallel(grow_part, g, (int)threads);
	binning_free(&b);
	if (g[0].failed || (threads == 2 && g[1].failed)) {
		forest_free(f);
		return -1;
	}
	return 0;
}

double forest_predict(const forest *f, const double *x, double *contrib)
{
	double sum = 0;
	for (size_t k = 0; k < f->n; k++) {
		const cart_tree *t = &f->tree[k];
		int32_t i = 0;
		while (t->feature[i] >= 0) {
			int32_t next = x[t->feature[i]] <= t->threshold[i] ? t->left[i] : t->right[i];
			if (contrib)
				contrib[t->feature[i]] += (t->value[next] - t->value[i]) / (double)f->n;
			i = next;
		}
		sum += t->value[i];
	}
	return f->n ? sum / (double)f->n : 0;
}

void forest_free(forest *f)
{
	for (size_t k = 0; f->tree && k < f->n; k++) {
		cart_tree *t = &f->tree[k];
		free(t->feature), free(t->threshold), free(t->left), free(t->right), free(t->value);
		free(t->count);
	}
	free(f->tree);
	memset(f, 0, sizeof *f);
}
