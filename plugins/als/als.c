/* recommend.als: implicit-feedback matrix factorization, after Hu, Koren and
 * Volinsky, "Collaborative Filtering for Implicit Feedback Datasets" (2008).
 *
 * Each purchase is a preference p = 1 held with confidence c = 1 + alpha r
 * (r the purchase's weight: 1, the quantity or log spend); every product not
 * bought is a preference 0 with confidence 1. Customer factors X and product
 * factors Y (`factors` columns) minimise
 *     sum over all (u, i) of c_ui (p_ui - x_u . y_i)^2 + reg (|X|^2 + |Y|^2)
 * by alternating least squares: with Y fixed, each x_u solves
 *     (Y'Y + Y'(C_u - I)Y + reg I) x_u = Y' C_u p_u,
 * where Y'Y is shared by all customers (OpenBLAS's dsyrk) and the rest
 * touches only the customer's purchases; then the same for each y_i. Each
 * solve is `cg_steps` steps of conjugate gradients from the previous
 * solution (Takacs, Pilaszy and Tikk, 2011), on both cores. The factors
 * start as N(0, 0.01^2) draws from `seed`, so a run is reproducible. A
 * product's score for a customer is x_u . y_i (blocks of customers times Y'
 * by OpenBLAS's dgemm).
 *
 * Options besides the common ones (plugins/recs/recs.h): factors (32),
 * regularization (30), alpha (10), iterations (15), cg_steps (3), seed (1),
 * tune (true on graphs of up to TUNE_MAX_NNZ purchases): factors,
 * regularization and alpha chosen on a validation split of the graph given
 * (see tune below), the options' values among those tried.
 *
 * patron.conf:  recommend = { plugin = "als", factors = 64, iterations = 20 }
 */
#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <patron/plugin.h>

#include "../common/parallel.h"
#include "../common/random.h"
#include "recs.h"

#define BLOCK 256	/* customers scored per dgemm */

typedef struct {
	const patron_host *host;
	double factors, reg, alpha, iterations, cg_steps, seed;
	int tune;	/* -1: on small graphs; 0 off; 1 on */
} als_state;

typedef struct {
	const char *key;
	double lo, hi;
	int whole;
} option;

static int init(const patron_host *host, patron_ctx *ctx, void **state)
{
	als_state *s = malloc(sizeof *s);
	if (!s) {
		host->fail(ctx, "out of memory");
		return -1;
	}
	*s = (als_state){host, 32, 30, 10, 15, 3, 1, -1};
	static const option opts[] = {
		{"factors", 1, 512, 1}, {"regularization", 0, 1e9, 0}, {"alpha", 0, 1e9, 0},
		{"iterations", 1, 1000, 1}, {"cg_steps", 1, 100, 1}, {"seed", 0, 1e15, 1},
	};
	double *v[] = {&s->factors, &s->reg, &s->alpha, &s->iterations, &s->cg_steps, &s->seed};
	for (size_t i = 0; i < sizeof opts / sizeof *opts; i++) {
		if (host->option_number(ctx, opts[i].key, v[i]) < 0 || !(*v[i] >= opts[i].lo) ||
		    !(*v[i] <= opts[i].hi) || (opts[i].whole && *v[i] != floor(*v[i]))) {
			host->fail(ctx, "option %s: expected a%s number from %g to %g", opts[i].key,
				   opts[i].whole ? " whole" : "", opts[i].lo, opts[i].hi);
			free(s);
			return -1;
		}
	}
	double tune;
	int got = host->option_number(ctx, "tune", &tune);
	if (got < 0) {
		host->fail(ctx, "option tune: expected true or false");
		free(s);
		return -1;
	}
	if (got)
		s->tune = tune != 0;
	*state = s;
	return 0;
}

/* A normal draw (Box-Muller) from the stream *X. */
static double normal(uint64_t *x)
{
	double u1 = ((double)(plugin_random(x) >> 11) + 1) / 9007199254740993.0;
	double u2 = plugin_uniform(x);
	return sqrt(-2 * log(u1)) * cos(2 * M_PI * u2);
}

/* One side's solves: for each of ROWS rows (offsets, cols, conf as CSR into
 * the other side's factors OTHER), X[row] from the shared GRAM = Y'Y. */
typedef struct {
	size_t rows, f, steps;
	const size_t *offsets;
	const uint32_t *cols;
	const double *conf;	/* c - 1 = alpha r, per entry */
	const double *other, *gram;
	double reg;
	double *x;
	int failed;
} half_step;

/* y . v with four running sums, so the additions overlap. */
static double dot(const double *y, const double *v, size_t f)
{
	double s[4] = {0, 0, 0, 0};
	size_t a = 0;
	for (; a + 4 <= f; a += 4)
		for (int l = 0; l < 4; l++)
			s[l] += y[a + l] * v[a + l];
	for (; a < f; a++)
		s[0] += y[a] * v[a];
	return (s[0] + s[1]) + (s[2] + s[3]);
}

/* out = (gram + reg I + sum (c - 1) y y') v, over the row's entries. The
 * Gram product is taken column by column (gram is symmetric): a sum of
 * scaled columns, which the compiler turns into vector instructions, where
 * row-by-row dot products would be a chain of dependent additions. */
static void apply(const half_step *hs, size_t b, size_t e, const double *v, double *out)
{
	size_t f = hs->f;
	for (size_t a = 0; a < f; a++)
		out[a] = hs->reg * v[a];
	for (size_t c = 0; c < f; c++) {
		const double *g = hs->gram + c * f;
		double vc = v[c];
		for (size_t a = 0; a < f; a++)
			out[a] += vc * g[a];
	}
	for (size_t k = b; k < e; k++) {
		const double *y = hs->other + (size_t)hs->cols[k] * f;
		double d = dot(y, v, f) * hs->conf[k];
		for (size_t a = 0; a < f; a++)
			out[a] += d * y[a];
	}
}

static void solve_rows(void *arg, size_t thread, size_t threads)
{
	half_step *hs = arg;
	size_t f = hs->f;
	double *buf = malloc(4 * f * sizeof *buf);
	if (!buf) {
		hs->failed = 1;
		return;
	}
	double *r = buf, *p = buf + f, *ap = buf + 2 * f, *ax = buf + 3 * f;
	for (size_t u = thread; u < hs->rows; u += threads) {
		size_t b = hs->offsets[u], e = hs->offsets[u + 1];
		double *x = hs->x + u * f;
		if (b == e) {	/* nothing bought: the solution is 0 */
			memset(x, 0, f * sizeof *x);
			continue;
		}
		/* r = Y' C_u p_u - A x, with p = 1 on the entries, c = 1 + conf. */
		apply(hs, b, e, x, ax);
		memset(r, 0, f * sizeof *r);
		for (size_t k = b; k < e; k++) {
			const double *y = hs->other + (size_t)hs->cols[k] * f;
			double c = 1 + hs->conf[k];
			for (size_t a = 0; a < f; a++)
				r[a] += c * y[a];
		}
		double rr = 0;
		for (size_t a = 0; a < f; a++) {
			r[a] -= ax[a];
			p[a] = r[a];
			rr += r[a] * r[a];
		}
		for (size_t step = 0; step < hs->steps && rr > 1e-20; step++) {
			apply(hs, b, e, p, ap);
			double pap = 0;
			for (size_t a = 0; a < f; a++)
				pap += p[a] * ap[a];
			if (!(pap > 0))
				break;
			double alpha = rr / pap, rr2 = 0;
			for (size_t a = 0; a < f; a++) {
				x[a] += alpha * p[a];
				r[a] -= alpha * ap[a];
				rr2 += r[a] * r[a];
			}
			for (size_t a = 0; a < f; a++)
				p[a] = r[a] + rr2 / rr * p[a];
			rr = rr2;
		}
	}
	free(buf);
}

/* GRAM = Y'Y for Y of ROWS x F, row-major. */
static void gram_of(const double *y, size_t rows, size_t f, double *gram)
{
	cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, (int)f, (int)rows, 1.0, y, (int)f, 0.0,
		    gram, (int)f);
	for (size_t a = 0; a < f; a++)	/* mirror the upper triangle */
		for (size_t c = 0; c < a; c++)
			gram[a * f + c] = gram[c * f + a];
}

typedef struct {
	recs *r;
	const double *x, *y;
	size_t f;
	size_t fallback[2];
	int failed;
} scoring;

static void score_rows(void *arg, size_t thread, size_t threads)
{
	scoring *sc = arg;
	recs *r = sc->r;
	const patron_graph *g = r->g;
	size_t f = sc->f, P = g->products;
	double *s = malloc(BLOCK * (P ? P : 1) * sizeof *s);
	recs_scratch scratch;
	if (!s || recs_scratch_init(&scratch, P, r->n) < 0) {
		sc->failed = 1;
		free(s);
		recs_scratch_free(&scratch);
		return;
	}
	/* Blocks of BLOCK rows, the odd blocks on the second thread. */
	for (size_t b0 = thread * BLOCK; b0 < g->rows; b0 += threads * BLOCK) {
		size_t nb = g->rows - b0 < BLOCK ? g->rows - b0 : BLOCK;
		cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)nb, (int)P, (int)f, 1.0,
			    sc->x + b0 * f, (int)f, sc->y, (int)f, 0.0, s, (int)(P ? P : 1));
		for (size_t k = 0; k < nb; k++) {
			size_t u = b0 + k;
			if (g->offsets[u] == g->offsets[u + 1]) {
				sc->fallback[thread]++;
				recs_begin(&scratch);
				recs_pick(r, &scratch, u);
			} else {
				recs_pick_dense(r, &scratch, u, s + k * P);
			}
		}
	}
	free(s);
	recs_scratch_free(&scratch);
}

static double seconds(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Fits X (U x F) and Y (P x F) to the CSR OFFSETS, COLS with confidences
 * CONF (c - 1 per entry): ITERATIONS alternating half steps from a seeded
 * start. 0, or -1 when out of memory. */
typedef struct {
	size_t f, iterations, cg_steps;
	double reg;
	uint64_t seed;
} fit_opts;

static int als_fit(const size_t *offsets, const uint32_t *cols, const double *conf, size_t U,
		   size_t P, const fit_opts *o, double *x, double *y,
		   const patron_host *h, patron_ctx *ctx)
{
	size_t f = o->f, nnz = offsets[U];
	double *tconf = malloc((nnz ? nnz : 1) * sizeof *tconf), *gram = malloc(f * f * sizeof *gram);
	size_t *tofs = calloc(P + 2, sizeof *tofs);
	uint32_t *tcols = malloc((nnz ? nnz : 1) * sizeof *tcols);
	int rc = -1;
	if (!tconf || !gram || !tofs || !tcols)
		goto out;
	uint64_t seed = o->seed;
	for (size_t i = 0; i < U * f; i++)
		x[i] = 0.01 * normal(&seed);
	for (size_t i = 0; i < P * f; i++)
		y[i] = 0.01 * normal(&seed);
	/* The transpose (products x customers), by counting. */
	for (size_t e = 0; e < nnz; e++)
		tofs[cols[e] + 2]++;
	for (size_t i = 0; i < P; i++)
		tofs[i + 2] += tofs[i + 1];
	for (size_t u = 0; u < U; u++)
		for (size_t e = offsets[u]; e < offsets[u + 1]; e++) {
			size_t at = tofs[cols[e] + 1]++;
			tcols[at] = (uint32_t)u;
			tconf[at] = conf[e];
		}
	half_step users = {U, f, o->cg_steps, offsets, cols, conf, y, gram, o->reg, x, 0};
	half_step items = {P, f, o->cg_steps, tofs, tcols, tconf, x, gram, o->reg, y, 0};
	for (size_t it = 0; it < o->iterations; it++) {
		gram_of(y, P, f, gram);
		plugin_parallel(solve_rows, &users, 2);
		gram_of(x, U, f, gram);
		plugin_parallel(solve_rows, &items, 2);
		if (users.failed || items.failed)
			goto out;
		if (h)
			h->progress(ctx, 0.8 * (double)(it + 1) / (double)o->iterations, "recommend");
	}
	rc = 0;
out:
	free(tconf), free(gram), free(tofs), free(tcols);
	return rc;
}

/* ---- settings chosen on a validation split ----
 *
 * Of the graph it is given (in patron eval recs, already without the
 * purchases held out there), each validation customer's most recent
 * product is set aside; every setting of the grid is fitted on the rest
 * and scored by how often the product set aside is in the customer's top
 * 10 (the products they still have left out). The best setting is then
 * fitted on the whole graph. */
#define TUNE_MAX_NNZ 300000	/* larger graphs keep the defaults unless tune = true */
#define TUNE_CUSTOMERS 1000
#define TUNE_K 10

static const double grid_factors[] = {8, 16, 32};
static const double grid_reg[] = {1, 10, 30};
static const double grid_alpha[] = {5, 10, 40};

typedef struct {
	size_t *offsets;
	uint32_t *cols;
	double *weight;		/* recs_weight of each kept entry */
	size_t *users;		/* the validation customers */
	uint32_t *held;		/* the product set aside for each */
	size_t n;
} split;

static void split_free(split *sp)
{
	free(sp->offsets), free(sp->cols), free(sp->weight), free(sp->users), free(sp->held);
}

static int split_make(const recs *r, uint64_t seed, split *sp)
{
	const patron_graph *g = r->g;
	size_t U = g->rows, nnz = g->nnz;
	memset(sp, 0, sizeof *sp);
	sp->offsets = malloc((U + 1) * sizeof *sp->offsets);
	sp->cols = malloc((nnz ? nnz : 1) * sizeof *sp->cols);
	sp->weight = malloc((nnz ? nnz : 1) * sizeof *sp->weight);
	sp->users = malloc(TUNE_CUSTOMERS * sizeof *sp->users);
	sp->held = malloc(TUNE_CUSTOMERS * sizeof *sp->held);
	if (!sp->offsets || !sp->cols || !sp->weight || !sp->users || !sp->held)
		return -1;
	/* customers with two products or more, every k-th of them */
	size_t eligible = 0;
	for (size_t u = 0; u < U; u++)
		eligible += g->offsets[u + 1] - g->offsets[u] >= 2;
	size_t step = eligible > TUNE_CUSTOMERS ? (eligible + TUNE_CUSTOMERS - 1) / TUNE_CUSTOMERS : 1;
	size_t k = (size_t)(seed % step), at = 0, seen = 0;
	for (size_t u = 0; u < U; u++) {
		size_t b = g->offsets[u], e = g->offsets[u + 1], drop = e;
		sp->offsets[u] = at;
		if (e - b >= 2 && seen++ % step == k && sp->n < TUNE_CUSTOMERS) {
			drop = b;	/* the product bought last */
			for (size_t i = b + 1; i < e; i++)
				if (g->last_at[i] >= g->last_at[drop])	/* ties: the later column, as eval recs */
					drop = i;
			sp->users[sp->n] = u;
			sp->held[sp->n++] = g->cols[drop];
		}
		for (size_t i = b; i < e; i++)
			if (i != drop) {
				sp->cols[at] = g->cols[i];
				sp->weight[at++] = recs_weight(r, i);
			}
	}
	sp->offsets[U] = at;
	return 0;
}

/* The share of validation customers whose product set aside is in their
 * top TUNE_K of the products not in their (training) row. */
static double hit_rate(const split *sp, const double *x, const double *y, size_t P, size_t f)
{
	double hits = 0;
	for (size_t v = 0; v < sp->n; v++) {
		size_t u = sp->users[v];
		const double *xu = x + u * f;
		double target = dot(y + (size_t)sp->held[v] * f, xu, f);
		size_t above = 0;
		for (size_t i = 0; i < P && above < TUNE_K; i++) {
			if (i == sp->held[v])
				continue;
			int owned = 0;
			for (size_t e = sp->offsets[u]; e < sp->offsets[u + 1] && !owned; e++)
				owned = sp->cols[e] == i;
			if (!owned && dot(y + i * f, xu, f) > target)
				above++;
		}
		hits += above < TUNE_K;
	}
	return sp->n ? hits / (double)sp->n : 0;
}

/* Tries the grid (and the settings given) on the split; the best into ST.
 * 1 when tuned, 0 when there was nothing to tune on, -1 out of memory. */
static int tune(als_state *st, const recs *r, patron_ctx *ctx)
{
	const patron_host *h = st->host;
	const patron_graph *g = r->g;
	split sp;
	if (split_make(r, (uint64_t)st->seed, &sp) < 0) {
		split_free(&sp);
		return -1;
	}
	if (sp.n < 20) {
		split_free(&sp);
		return 0;
	}
	size_t U = g->rows, P = g->products, fmax = 32 > st->factors ? 32 : (size_t)st->factors;
	double *x = malloc(U * fmax * sizeof *x), *y = malloc(P * fmax * sizeof *y);
	double *conf = malloc((sp.offsets[U] ? sp.offsets[U] : 1) * sizeof *conf);
	int rc = -1;
	if (!x || !y || !conf)
		goto out;
	double best = -1, given = -1, bf = st->factors, br = st->reg, ba = st->alpha;
	size_t tried = 0;
	for (int gi = -1; gi < 27; gi++) {
		/* -1: the settings given, measured for the log */
		double f = gi < 0 ? st->factors : grid_factors[gi / 9];
		double reg = gi < 0 ? st->reg : grid_reg[(gi / 3) % 3];
		double alpha = gi < 0 ? st->alpha : grid_alpha[gi % 3];
		for (size_t e = 0; e < sp.offsets[U]; e++)
			conf[e] = alpha * sp.weight[e];
		fit_opts o = {(size_t)f, (size_t)st->iterations, (size_t)st->cg_steps, reg,
			      (uint64_t)st->seed};
		if (als_fit(sp.offsets, sp.cols, conf, U, P, &o, x, y, NULL, ctx) < 0)
			goto out;
		double hr = hit_rate(&sp, x, y, P, (size_t)f);
		tried++;
		if (gi < 0)
			given = hr;
		if (hr > best + 1e-12) {
			best = hr;
			bf = f, br = reg, ba = alpha;
		}
	}
	h->log(ctx, PATRON_LOG_INFO, "settings chosen on %zu validation customers (each one's last "
	       "product set aside): factors %g, regularization %g, alpha %g, hit rate@%d %.4f "
	       "(the settings given: %.4f; %zu tried)", sp.n, bf, br, ba, TUNE_K, best, given,
	       tried);
	st->factors = bf, st->reg = br, st->alpha = ba;
	rc = 1;
out:
	free(x), free(y), free(conf);
	split_free(&sp);
	return rc;
}

static int run(void *state, patron_ctx *ctx)
{
	als_state *st = state;
	const patron_host *h = st->host;
	recs r;
	double *x = NULL, *y = NULL, *conf = NULL;
	int rc = -1;
	if (recs_open(&r, h, ctx) < 0)
		goto out;
	const patron_graph *g = r.g;
	openblas_set_num_threads(1);	/* the two threads here are the cores */
	if (st->tune == 1 || (st->tune < 0 && g->nnz <= TUNE_MAX_NNZ)) {
		if (tune(st, &r, ctx) < 0) {
			h->fail(ctx, "out of memory tuning the settings");
			goto out;
		}
	} else if (st->tune < 0) {
		h->log(ctx, PATRON_LOG_INFO, "%zu interactions: the settings given are used "
		       "(tune = true chooses them on a validation split, at the cost of 28 fits)",
		       g->nnz);
	}
	size_t f = (size_t)st->factors, U = g->rows, P = g->products, nnz = g->nnz;
	x = malloc((U ? U : 1) * f * sizeof *x);
	y = malloc((P ? P : 1) * f * sizeof *y);
	conf = malloc((nnz ? nnz : 1) * sizeof *conf);
	if (!x || !y || !conf) {
		h->fail(ctx, "out of memory for %zu x %zu factors", U + P, f);
		goto out;
	}
	for (size_t e = 0; e < nnz; e++)
		conf[e] = st->alpha * recs_weight(&r, e);
	double t0 = seconds();
	fit_opts o = {f, (size_t)st->iterations, (size_t)st->cg_steps, st->reg,
		      (uint64_t)st->seed};
	if (als_fit(g->offsets, g->cols, conf, U, P, &o, x, y, h, ctx) < 0) {
		h->fail(ctx, "out of memory");
		goto out;
	}
	double t1 = seconds();
	scoring sc = {&r, x, y, f, {0, 0}, 0};
	plugin_parallel(score_rows, &sc, 2);
	h->log(ctx, PATRON_LOG_INFO, "%zu customers x %zu products, %zu factors: %.0f iterations "
	       "in %.2f s, scoring in %.2f s", U, P, f, st->iterations, t1 - t0, seconds() - t1);
	if (sc.failed) {
		h->fail(ctx, "out of memory");
		goto out;
	}
	r.fallback = sc.fallback[0] + sc.fallback[1];
	h->progress(ctx, 1.0, "recommend");
	rc = recs_write(&r, 0);
out:
	free(x), free(y), free(conf);
	recs_close(&r);
	return rc;
}

static void done(void *state) { free(state); }

/* What this plugin reads from its job's table in patron.conf. */
static const char *const options[] = {"n", "repurchase", "window_days", "weight", "exclude_products", "exclude_categories", "factors", "regularization", "alpha", "iterations", "cg_steps", "seed", "tune", NULL};

static const patron_plugin descriptor = {
	PATRON_PLUGIN_ABI,
	.name = "recommend.als",
	.kind = PATRON_KIND_RECOMMENDER,
	.version = "1.0",
	.description = "implicit ALS (Hu, Koren, Volinsky): latent factors, conjugate gradients",
	.init = init,
	.run = run,
	.free = done,
	.options = options,
};

const patron_plugin *patron_plugin_entry(void) { return &descriptor; }
