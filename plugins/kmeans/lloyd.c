#include "lloyd.h"

#include <gsl/gsl_rng.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static double dist2(const double *a, const double *b, size_t d)
{
	double s = 0;
	for (size_t j = 0; j < d; j++) {
		double t = a[j] - b[j];
		s += t * t;
	}
	return s;
}

/* Index of a point drawn with probability proportional to NEAR. */
static size_t draw(const double *near, size_t n, double total, gsl_rng *rng)
{
	double u = gsl_rng_uniform(rng) * total, acc = 0;
	for (size_t i = 0; i < n; i++) {
		acc += near[i];
		if (acc > u)
			return i;
	}
	return n - 1;
}

#define MAX_TRIALS 16

/* One half of a seeding pass over points [from, to): the potential each
 * candidate would leave (ncand > 0), or, with ncand == 0, NEAR lowered to the
 * new center cand[0] and its sum. */
typedef struct {
	const double *x;
	double *near;
	size_t d, from, to, ncand;
	const size_t *cand;
	double sum[MAX_TRIALS];
} seed_pass;

static void *seed_half(void *p)
{
	seed_pass *sp = p;
	size_t d = sp->d;
	memset(sp->sum, 0, sizeof sp->sum);
	for (size_t i = sp->from; i < sp->to; i++) {
		const double *xi = sp->x + i * d;
		if (sp->ncand == 0) {
			sp->near[i] = fmin(sp->near[i], dist2(xi, sp->x + sp->cand[0] * d, d));
			sp->sum[0] += sp->near[i];
			continue;
		}
		for (size_t t = 0; t < sp->ncand; t++)
			sp->sum[t] += fmin(sp->near[i], dist2(xi, sp->x + sp->cand[t] * d, d));
	}
	return NULL;
}

/* Runs a pass on both cores; SUM gets the halves' sums added. */
static void seed_run(const double *x, double *near, size_t n, size_t d, const size_t *cand,
		     size_t ncand, int threads, double *sum)
{
	seed_pass half[2] = {
		{x, near, d, 0, threads > 1 ? n / 2 : n, ncand, cand, {0}},
		{x, near, d, n / 2, n, ncand, cand, {0}},
	};
	pthread_t tid;
	int spawned = threads > 1 && pthread_create(&tid, NULL, seed_half, &half[1]) == 0;
	seed_half(&half[0]);
	if (threads > 1) {
		if (spawned)
			pthread_join(tid, NULL);
		else
			seed_half(&half[1]);
	}
	for (size_t t = 0; t < (ncand ? ncand : 1); t++)
		sum[t] = half[0].sum[t] + (threads > 1 ? half[1].sum[t] : 0);
}

/* Greedy k-means++: each next center is the best, by the potential it
 * leaves, of 2 + 2 ln k candidates drawn with probability proportional to
 * the squared distance to the nearest center so far. One draw per center
 * (plain k-means++) too often puts two centers in one cluster; in several
 * dimensions the spread inside the seeded clusters holds much of the mass, so
 * a cluster still without a center can hold under half of it, and 2 + ln k
 * draws (scikit-learn's count) still miss it now and then. All candidates
 * are weighed in one pass over the points, on both cores. */
static void seed_centers(const double *x, size_t n, size_t d, size_t k, gsl_rng *rng,
			 double *centers, double *near, int threads)
{
	size_t trials = 2 + (size_t)(2 * log((double)k)), cand[MAX_TRIALS];
	if (trials > MAX_TRIALS)
		trials = MAX_TRIALS;
	cand[0] = gsl_rng_uniform_int(rng, n);
	memcpy(centers, x + cand[0] * d, d * sizeof *centers);
	for (size_t i = 0; i < n; i++)
		near[i] = INFINITY;
	double total, pot[MAX_TRIALS];
	seed_run(x, near, n, d, cand, 0, threads, &total);
	for (size_t c = 1; c < k; c++) {
		for (size_t t = 0; t < trials; t++)
			cand[t] = draw(near, n, total, rng);
		seed_run(x, near, n, d, cand, trials, threads, pot);
		size_t best = 0;
		for (size_t t = 1; t < trials; t++)
			if (pot[t] < pot[best])
				best = t;
		memcpy(centers + c * d, x + cand[best] * d, d * sizeof *centers);
		seed_run(x, near, n, d, &cand[best], 0, threads, &total);
	}
}

/* One restart's state, shared by the threads of the assignment step. */
typedef struct {
	const double *x;
	size_t n, d, k;
	double *centers, *half;	/* half[c]: half the distance to c's nearest other center */
	uint32_t *label;
	double *upper, *lower;	/* Hamerly's bounds, as distances */
} state;

typedef struct {
	state *s;
	size_t from, to;
	double *sum;	/* k x d */
	size_t *count;	/* k */
	size_t changed;
} part;

/* The assignment step over points [from, to): a point is looked at again
 * only when its bounds no longer prove its center is the nearest. */
static void *assign(void *p)
{
	part *pt = p;
	state *s = pt->s;
	size_t d = s->d, k = s->k;
	memset(pt->sum, 0, k * d * sizeof *pt->sum);
	memset(pt->count, 0, k * sizeof *pt->count);
	pt->changed = 0;
	for (size_t i = pt->from; i < pt->to; i++) {
		const double *xi = s->x + i * d;
		uint32_t a = s->label[i];
		double m = fmax(s->half[a], s->lower[i]);
		if (s->upper[i] > m) {
			s->upper[i] = sqrt(dist2(xi, s->centers + (size_t)a * d, d));
			if (s->upper[i] > m) {
				double best = INFINITY, second = INFINITY;
				uint32_t arg = a;
				for (size_t c = 0; c < k; c++) {
					double t = dist2(xi, s->centers + c * d, d);
					if (t < best) {
						second = best;
						best = t;
						arg = (uint32_t)c;
					} else if (t < second) {
						second = t;
					}
				}
				if (arg != a)
					pt->changed++;
				s->label[i] = a = arg;
				s->upper[i] = sqrt(best);
				s->lower[i] = sqrt(second);
			}
		}
		pt->count[a]++;
		double *sum = pt->sum + (size_t)a * d;
		for (size_t j = 0; j < d; j++)
			sum[j] += xi[j];
	}
	return NULL;
}

static double one_restart(state *s, part *parts, int threads, size_t max_iter, size_t *iters,
			  double *moved)
{
	size_t n = s->n, d = s->d, k = s->k;
	for (size_t i = 0; i < n; i++) {
		s->label[i] = 0;
		s->upper[i] = INFINITY;	/* forces a full search in the first pass */
		s->lower[i] = 0;
	}
	size_t it = 0;
	for (; it < max_iter; it++) {
		for (size_t c = 0; c < k; c++) {
			double m = INFINITY;
			for (size_t o = 0; o < k; o++)
				if (o != c)
					m = fmin(m, dist2(s->centers + c * d, s->centers + o * d, d));
			s->half[c] = k > 1 ? 0.5 * sqrt(m) : INFINITY;
		}
		pthread_t tid;
		int spawned = threads > 1 && pthread_create(&tid, NULL, assign, &parts[1]) == 0;
		assign(&parts[0]);
		if (threads > 1) {
			if (spawned)
				pthread_join(tid, NULL);
			else
				assign(&parts[1]);
		}
		size_t changed = parts[0].changed + (threads > 1 ? parts[1].changed : 0);
		/* New centers; an empty cluster takes the point farthest from its
		 * center, so k clusters stay k. */
		double max_move = 0;
		for (size_t c = 0; c < k; c++) {
			size_t cnt = parts[0].count[c] + (threads > 1 ? parts[1].count[c] : 0);
			double *cen = s->centers + c * d, prev[64];	/* d <= 64 */
			memcpy(prev, cen, d * sizeof *cen);
			if (cnt == 0) {
				size_t far = 0;
				double fd = -1;
				for (size_t i = 0; i < n; i++) {
					double t = dist2(s->x + i * d, s->centers + (size_t)s->label[i] * d, d);
					if (t > fd) {
						fd = t;
						far = i;
					}
				}
				memcpy(cen, s->x + far * d, d * sizeof *cen);
				s->label[far] = (uint32_t)c;
				s->upper[far] = 0;
				s->lower[far] = 0;	/* its bounds say nothing now */
				changed++;
			} else {
				for (size_t j = 0; j < d; j++)
					cen[j] = (parts[0].sum[c * d + j] +
						  (threads > 1 ? parts[1].sum[c * d + j] : 0)) / (double)cnt;
			}
			moved[c] = sqrt(dist2(prev, cen, d));
			max_move = fmax(max_move, moved[c]);
		}
		for (size_t i = 0; i < n; i++) {
			s->upper[i] += moved[s->label[i]];
			s->lower[i] -= max_move;
		}
		if (changed == 0 && it > 0)
			break;
	}
	*iters = it + 1;
	double inertia = 0;
	for (size_t i = 0; i < n; i++)
		inertia += dist2(s->x + i * d, s->centers + (size_t)s->label[i] * d, d);
	return inertia;
}

int kmeans_run(const double *x, size_t n, size_t d, const kmeans_opts *o, kmeans_result *r,
	       char *err, size_t errlen)
{
	size_t k = o->k;
	if (k == 0 || k > n) {
		snprintf(err, errlen, "k = %zu, but there are %zu customers to cluster", k, n);
		return -1;
	}
	if (d == 0 || d > 64) {
		snprintf(err, errlen, "%zu columns: expected 1 to 64", d);
		return -1;
	}
	int threads = o->threads > 1 && n > 1000 ? 2 : 1;
	state s = {x, n, d, k, malloc(k * d * sizeof(double)), malloc(k * sizeof(double)),
		   malloc(n * sizeof(uint32_t)), malloc(n * sizeof(double)), malloc(n * sizeof(double))};
	part parts[2] = {{&s, 0, threads > 1 ? n / 2 : n, malloc(k * d * sizeof(double)),
			  malloc(k * sizeof(size_t)), 0},
			 {&s, n / 2, n, malloc(k * d * sizeof(double)), malloc(k * sizeof(size_t)), 0}};
	double *moved = malloc(k * sizeof *moved);
	r->centers = malloc(k * d * sizeof *r->centers);
	r->labels = malloc(n * sizeof *r->labels);
	gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
	int rc = -1;
	if (!s.centers || !s.half || !s.label || !s.upper || !s.lower || !parts[0].sum ||
	    !parts[0].count || !parts[1].sum || !parts[1].count || !moved || !r->centers ||
	    !r->labels || !rng) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	gsl_rng_set(rng, o->seed);
	r->inertia = INFINITY;
	for (size_t t = 0; t < (o->restarts ? o->restarts : 1); t++) {
		seed_centers(x, n, d, k, rng, s.centers, s.upper, threads);
		size_t iters;
		double inertia = one_restart(&s, parts, threads, o->max_iter, &iters, moved);
		if (inertia < r->inertia) {
			r->inertia = inertia;
			r->iterations = iters;
			memcpy(r->centers, s.centers, k * d * sizeof *s.centers);
			memcpy(r->labels, s.label, n * sizeof *s.label);
		}
	}
	rc = 0;
out:
	free(s.centers), free(s.half), free(s.label), free(s.upper), free(s.lower);
	free(parts[0].sum), free(parts[0].count), free(parts[1].sum), free(parts[1].count);
	free(moved);
	if (rng)
		gsl_rng_free(rng);
	if (rc < 0) {
		free(r->centers), free(r->labels);
		r->centers = NULL, r->labels = NULL;
	}
	return rc;
}

double kmeans_silhouette(const double *x, size_t d, const uint32_t *labels, size_t k,
			 const size_t *sample, size_t m)
{
	double *sum = malloc(k * sizeof *sum), total = 0;
	size_t *cnt = malloc(k * sizeof *cnt), counted = 0;
	if (!sum || !cnt) {
		free(sum), free(cnt);
		return NAN;
	}
	for (size_t a = 0; a < m; a++) {
		memset(sum, 0, k * sizeof *sum);
		memset(cnt, 0, k * sizeof *cnt);
		size_t i = sample[a];
		for (size_t b = 0; b < m; b++) {
			if (b == a)
				continue;
			size_t j = sample[b];
			sum[labels[j]] += sqrt(dist2(x + i * d, x + j * d, d));
			cnt[labels[j]]++;
		}
		uint32_t own = labels[i];
		if (cnt[own] == 0)
			continue;	/* alone in its cluster: silhouette 0 by convention */
		double in = sum[own] / (double)cnt[own], out = INFINITY;
		for (size_t c = 0; c < k; c++)
			if (c != own && cnt[c])
				out = fmin(out, sum[c] / (double)cnt[c]);
		if (isfinite(out))
			total += (out - in) / fmax(in, out);
		counted++;
	}
	free(sum), free(cnt);
	return counted ? total / (double)m : 0;
}
