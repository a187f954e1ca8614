#include "knn.h"

#include <math.h>
#include "../common/parallel.h"
#include <stdlib.h>
#include <string.h>

typedef struct {
	/* the matrix, by column */
	size_t rows, items;
	const size_t *offsets;
	const uint32_t *cols;
	const double *w;
	const size_t *colptr;
	const uint32_t *rowidx;
	const double *cw, *norm;
	size_t neighbours;
	double shrink;
	size_t thread, threads;
	/* this thread's neighbour lists, for items i % threads == thread */
	size_t *count;		/* per item */
	uint32_t *col;
	double *sim;
	size_t len, cap;
	int failed;
} part;

typedef struct {
	uint32_t col;
	double sim;
} pair;

/* A goes before B: more similar, then the lower item. */
static int before(const pair *a, const pair *b)
{
	return a->sim > b->sim || (a->sim == b->sim && a->col < b->col);
}

/* Keeps in HEAP (a heap whose root is the worst kept) the best K pairs. */
static void heap_sift(pair *heap, size_t n, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, worst = i;
		if (l < n && before(&heap[worst], &heap[l]))
			worst = l;
		if (r < n && before(&heap[worst], &heap[r]))
			worst = r;
		if (worst == i)
			return;
		pair t = heap[i];
		heap[i] = heap[worst];
		heap[worst] = t;
		i = worst;
	}
}

static int by_col(const void *a, const void *b)
{
	uint32_t x = ((const pair *)a)->col, y = ((const pair *)b)->col;
	return (x > y) - (x < y);
}

static void build_part(void *arg, size_t t, size_t threads)
{
	part *p = &((part *)arg)[t];
	p->thread = t;
	p->threads = threads;
	size_t P = p->items;
	double *acc = calloc(P ? P : 1, sizeof *acc);
	uint32_t *touched = malloc((P ? P : 1) * sizeof *touched);
	unsigned char *seen = calloc(P ? P : 1, 1);
	pair *heap = malloc((P ? P : 1) * sizeof *heap);
	if (!acc || !touched || !seen || !heap) {
		p->failed = 1;
		goto out;
	}
	for (size_t i = p->thread; i < P; i += p->threads) {
		size_t nt = 0;
		for (size_t e = p->colptr[i]; e < p->colptr[i + 1]; e++) {
			uint32_t u = p->rowidx[e];
			double wu = p->cw[e];
			for (size_t f = p->offsets[u]; f < p->offsets[u + 1]; f++) {
				uint32_t j = p->cols[f];
				if (j == i)
					continue;
				if (!seen[j]) {
					seen[j] = 1;
					touched[nt++] = j;
				}
				acc[j] += wu * p->w[f];
			}
		}
		size_t k = p->neighbours && p->neighbours < nt ? p->neighbours : nt, kept = 0;
		for (size_t t = 0; t < nt; t++) {
			uint32_t j = touched[t];
			pair c = {j, acc[j] / (p->norm[i] * p->norm[j] + p->shrink)};
			acc[j] = 0;
			seen[j] = 0;
			if (kept < k) {
				heap[kept++] = c;
				if (kept == k)	/* heapify once full */
					for (size_t h = k / 2 + 1; h-- > 0;)
						heap_sift(heap, k, h);
			} else if (k && before(&c, &heap[0])) {
				heap[0] = c;
				heap_sift(heap, k, 0);
			}
		}
		qsort(heap, kept, sizeof *heap, by_col);
		if (p->len + kept > p->cap) {
			size_t cap = (p->len + kept) * 2;
			uint32_t *col = realloc(p->col, cap * sizeof *col);
			if (col)
				p->col = col;
			double *sim = realloc(p->sim, cap * sizeof *sim);
			if (sim)
				p->sim = sim;
			if (!col || !sim) {
				p->failed = 1;
				goto out;
			}
			p->cap = cap;
		}
		for (size_t t = 0; t < kept; t++) {
			p->col[p->len + t] = heap[t].col;
			p->sim[p->len + t] = heap[t].sim;
		}
		p->len += kept;
		p->count[i] = kept;
	}
out:
	free(acc), free(touched), free(seen), free(heap);
}

int knn_build(size_t rows, size_t items, const size_t *offsets, const uint32_t *cols,
	      const double *w, size_t neighbours, double shrink, size_t threads, knn_model *m)
{
	memset(m, 0, sizeof *m);
	m->items = items;
	size_t nnz = offsets[rows];
	size_t *colptr = calloc(items + 1, sizeof *colptr);
	uint32_t *rowidx = malloc((nnz ? nnz : 1) * sizeof *rowidx);
	double *cw = malloc((nnz ? nnz : 1) * sizeof *cw);
	double *norm = calloc(items ? items : 1, sizeof *norm);
	size_t *fill = malloc((items + 1) * sizeof *fill);
	size_t *count = calloc(items ? items : 1, sizeof *count);
	part parts[2];
	memset(parts, 0, sizeof parts);
	int rc = -1;
	if (!colptr || !rowidx || !cw || !norm || !fill || !count)
		goto out;
	/* The transpose, by counting: each column's rows ascend. */
	for (size_t e = 0; e < nnz; e++)
		colptr[cols[e] + 1]++;
	for (size_t i = 0; i < items; i++)
		colptr[i + 1] += colptr[i];
	memcpy(fill, colptr, (items + 1) * sizeof *fill);
	for (size_t u = 0; u < rows; u++)
		for (size_t e = offsets[u]; e < offsets[u + 1]; e++) {
			size_t at = fill[cols[e]]++;
			rowidx[at] = (uint32_t)u;
			cw[at] = w[e];
			norm[cols[e]] += w[e] * w[e];
		}
	for (size_t i = 0; i < items; i++)
		norm[i] = sqrt(norm[i]);
	threads = threads >= 2 ? 2 : 1;
	for (size_t t = 0; t < threads; t++)
		parts[t] = (part){rows, items, offsets, cols, w, colptr, rowidx, cw, norm,
				  neighbours, shrink, t, threads, count, NULL, NULL, 0, 0, 0};
	plugin_parallel(build_part, parts, (int)threads);
	if (parts[0].failed || parts[1].failed)
		goto out;
	/* One list: item i's neighbours from the part that made them. */
	size_t total = parts[0].len + parts[1].len;
	m->off = malloc((items + 1) * sizeof *m->off);
	m->col = malloc((total ? total : 1) * sizeof *m->col);
	m->sim = malloc((total ? total : 1) * sizeof *m->sim);
	if (!m->off || !m->col || !m->sim)
		goto out;
	size_t at = 0, from[2] = {0, 0};
	for (size_t i = 0; i < items; i++) {
		part *p = &parts[i % threads];
		size_t *f = &from[i % threads];
		m->off[i] = at;
		if (count[i]) {	/* a part with no lists has no arrays */
			memcpy(m->col + at, p->col + *f, count[i] * sizeof *m->col);
			memcpy(m->sim + at, p->sim + *f, count[i] * sizeof *m->sim);
		}
		at += count[i];
		*f += count[i];
	}
	m->off[items] = at;
	rc = 0;
out:
	free(colptr), free(rowidx), free(cw), free(norm), free(fill), free(count);
	for (size_t t = 0; t < 2; t++)
		free(parts[t].col), free(parts[t].sim);
	if (rc < 0)
		knn_free(m);
	return rc;
}

void knn_free(knn_model *m)
{
	free(m->off), free(m->col), free(m->sim);
	m->off = NULL, m->col = NULL, m->sim = NULL;
}

double knn_similarity(const knn_model *m, uint32_t i, uint32_t j)
{
	size_t lo = m->off[i], hi = m->off[i + 1];
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (m->col[mid] == j)
			return m->sim[mid];
		if (m->col[mid] < j)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}
