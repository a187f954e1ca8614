#include "hw.h"

#include <gsl/gsl_multimin.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the starting state ---- */

/* Level and trend from the means of the first two seasons (the level as of
 * just before the first observation), and each period's seasonal term as
 * its first-season value against that line; seasonal terms centred (sum
 * 0, or mean 1). Without a season: the line through the first points. */
static void start(const double *y, size_t n, hw_kind kind, size_t m, hw_model *s)
{
	if (kind == HW_NONE) {
		size_t k = n < 4 ? n : 4;
		s->trend = k > 1 ? (y[k - 1] - y[0]) / (double)(k - 1) : 0;
		s->level = y[0] - s->trend;
		return;
	}
	double a = 0, b = 0;
	for (size_t i = 0; i < m; i++) {
		a += y[i];
		b += y[m + i];
	}
	a /= (double)m, b /= (double)m;
	s->trend = (b - a) / (double)m;
	s->level = a - s->trend * (double)(m + 1) / 2;
	double sum = 0;
	for (size_t i = 0; i < m; i++) {
		double line = s->level + s->trend * (double)(i + 1);
		s->season[i] = kind == HW_ADDITIVE ? y[i] - line : line != 0 ? y[i] / line : 1;
		sum += s->season[i];
	}
	for (size_t i = 0; i < m; i++) {
		if (kind == HW_ADDITIVE)
			s->season[i] -= sum / (double)m;
		else if (sum > 0)
			s->season[i] *= (double)m / sum;
	}
}

/* One step of the filter: the forecast of the next value, then the states
 * corrected by its error E (pass 0 to run the model forward). season[0] is
 * the term of the period being forecast; it moves to the back. */
static double predict(const hw_model *s)
{
	double base = s->level + s->trend;
	if (s->kind == HW_ADDITIVE)
		return base + s->season[0];
	if (s->kind == HW_MULTIPLICATIVE)
		return base * s->season[0];
	return base;
}

static void update(hw_model *s, double e)
{
	double base = s->level + s->trend;
	if (s->kind == HW_MULTIPLICATIVE) {
		/* a simulated path can wander to zero: no division by it */
		double st = fmax(s->season[0], 1e-9);
		s->level = base + s->alpha * e / st;
		s->trend += s->beta * e / st;
		double next = fabs(base) > 1e-9 ? s->season[0] + s->gamma * e / base : s->season[0];
		memmove(s->season, s->season + 1, (s->m - 1) * sizeof *s->season);
		s->season[s->m - 1] = next;
		return;
	}
	s->level = base + s->alpha * e;
	s->trend += s->beta * e;
	if (s->kind == HW_ADDITIVE) {
		double next = s->season[0] + s->gamma * e;
		memmove(s->season, s->season + 1, (s->m - 1) * sizeof *s->season);
		s->season[s->m - 1] = next;
	}
}

double hw_filter(const double *y, size_t n, hw_kind kind, size_t m, double alpha, double beta,
		 double gamma, hw_model *mod)
{
	hw_model s = {.kind = kind, .m = kind == HW_NONE ? 0 : m, .alpha = alpha, .beta = beta,
		      .gamma = kind == HW_NONE ? 0 : gamma, .n = n};
	start(y, n, kind, s.m, &s);
	double sse = 0;
	for (size_t t = 0; t < n; t++) {
		if (kind == HW_MULTIPLICATIVE && (s.level + s.trend <= 0 || s.season[0] <= 0))
			return INFINITY;
		double e = y[t] - predict(&s);
		sse += e * e;
		update(&s, e);
	}
	if (!isfinite(sse))
		return INFINITY;
	s.sse = sse;
	if (mod)
		*mod = s;
	return sse;
}

/* ---- fitting ---- */

typedef struct {
	const double *y;
	size_t n, m;
	hw_kind kind;
} problem;

static double logistic(double u) { return 1 / (1 + exp(-u)); }

/* From the optimizer's free coordinates to the admissible region. */
static void params(const gsl_vector *u, hw_kind kind, double *a, double *b, double *g)
{
	*a = 1e-4 + (1 - 2e-4) * logistic(gsl_vector_get(u, 0));
	*b = *a * logistic(gsl_vector_get(u, 1));
	*g = kind == HW_NONE ? 0 : (1 - *a) * logistic(gsl_vector_get(u, 2));
}

static double objective(const gsl_vector *u, void *p)
{
	const problem *q = p;
	double a, b, g;
	params(u, q->kind, &a, &b, &g);
	double sse = hw_filter(q->y, q->n, q->kind, q->m, a, b, g, NULL);
	return isfinite(sse) ? sse : 1e300;
}

int hw_fit(const double *y, size_t n, hw_kind kind, size_t m, hw_model *mod, char *err,
	   size_t cap)
{
	if (kind != HW_NONE && (m < 2 || m > HW_MAX_SEASON))
		return snprintf(err, cap, "a season of %zu periods cannot be fitted", m), -1;
	size_t need = kind == HW_NONE ? 4 : 2 * m;
	if (n < need)
		return snprintf(err, cap, "%zu periods of history; %s needs %zu", n,
				kind == HW_NONE ? "a trend" : "a season", need), -1;
	for (size_t i = 0; kind == HW_MULTIPLICATIVE && i < n; i++)
		if (!(y[i] > 0))
			return snprintf(err, cap, "a multiplicative season needs every value above "
					"zero (period %zu is %g)", i + 1, y[i]), -1;
	problem q = {y, n, m, kind};
	size_t dim = kind == HW_NONE ? 2 : 3;
	gsl_multimin_function f = {objective, dim, &q};
	gsl_multimin_fminimizer *opt = gsl_multimin_fminimizer_alloc(
		gsl_multimin_fminimizer_nmsimplex2, dim);
	gsl_vector *x = gsl_vector_alloc(dim), *step = gsl_vector_alloc(dim);
	double best = INFINITY;
	gsl_vector *keep = gsl_vector_alloc(dim);
	/* A few starts: the surface has flat stretches a simplex can stall on. */
	static const double starts[][3] = {{-1, -2, -2}, {0, -1, -1}, {2, -3, 0}, {-3, 0, -3}};
	for (size_t s = 0; s < sizeof starts / sizeof *starts; s++) {
		for (size_t i = 0; i < dim; i++) {
			gsl_vector_set(x, i, starts[s][i]);
			gsl_vector_set(step, i, 1.0);
		}
		gsl_multimin_fminimizer_set(opt, &f, x, step);
		for (int it = 0; it < 2000; it++) {
			if (gsl_multimin_fminimizer_iterate(opt))
				break;
			if (gsl_multimin_test_size(gsl_multimin_fminimizer_size(opt), 1e-7) ==
			    GSL_SUCCESS)
				break;
		}
		if (opt->fval < best) {
			best = opt->fval;
			gsl_vector_memcpy(keep, opt->x);
		}
	}
	double a, b, g;
	params(keep, kind, &a, &b, &g);
	gsl_multimin_fminimizer_free(opt);
	gsl_vector_free(x);
	gsl_vector_free(step);
	gsl_vector_free(keep);
	if (!isfinite(hw_filter(y, n, kind, m, a, b, g, mod)))
		return snprintf(err, cap, "the model breaks down on this series"), -1;
	size_t k = dim;	/* the smoothing parameters fitted */
	mod->sigma2 = mod->sse / (double)(n > k ? n - k : 1);
	return 0;
}

/* ---- forecasting ---- */

double hw_point(const hw_model *mod, size_t h)
{
	double base = mod->level + (double)h * mod->trend;
	if (mod->kind == HW_NONE)
		return base;
	double s = mod->season[(h - 1) % mod->m];
	return mod->kind == HW_ADDITIVE ? base + s : base * s;
}

double hw_variance(const hw_model *mod, size_t h)
{
	double a = mod->alpha, b = mod->beta, g = mod->gamma, H = (double)h;
	double v = 1 + (H - 1) * (a * a + a * b * H + b * b * H * (2 * H - 1) / 6);
	if (mod->kind == HW_ADDITIVE) {
		double k = floor((H - 1) / (double)mod->m);
		v += g * k * (2 * a + g + b * (double)mod->m * (k + 1));
	}
	return mod->sigma2 * v;
}

/* xorshift64*: a small, repeatable generator for the simulated paths. */
static uint64_t next_u64(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ULL;
}

static double uniform01(uint64_t *s) { return ((double)(next_u64(s) >> 11) + 0.5) / 9007199254740992.0; }

static double normal(uint64_t *s)
{
	/* Box-Muller; one of the pair is enough here */
	return sqrt(-2 * log(uniform01(s))) * cos(2 * M_PI * uniform01(s));
}

static int by_value(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double quantile(const double *sorted, size_t n, double p)
{
	double at = p * (double)(n - 1);
	size_t i = (size_t)floor(at);
	if (i + 1 >= n)
		return sorted[n - 1];
	return sorted[i] + (at - (double)i) * (sorted[i + 1] - sorted[i]);
}

void hw_forecast(const hw_model *mod, size_t h, double level, size_t paths, uint64_t seed,
		 double *mean, double *lo, double *hi)
{
	double *draws = malloc(paths * h * sizeof *draws);
	double *col = malloc(paths * sizeof *col);
	uint64_t rng = seed ? seed : 0x9E3779B97F4A7C15ULL;
	double sd = sqrt(mod->sigma2);
	for (size_t p = 0; draws && p < paths; p++) {
		hw_model s = *mod;
		for (size_t t = 0; t < h; t++) {
			double e = sd * normal(&rng);
			draws[t * paths + p] = predict(&s) + e;
			update(&s, e);
		}
	}
	for (size_t t = 0; t < h; t++) {
		mean[t] = hw_point(mod, t + 1);
		if (!draws || !col) {
			lo[t] = hi[t] = mean[t];
			continue;
		}
		memcpy(col, draws + t * paths, paths * sizeof *col);
		qsort(col, paths, sizeof *col, by_value);
		lo[t] = fmin(quantile(col, paths, (1 - level) / 2), mean[t]);
		hi[t] = fmax(quantile(col, paths, (1 + level) / 2), mean[t]);
	}
	free(draws);
	free(col);
}
