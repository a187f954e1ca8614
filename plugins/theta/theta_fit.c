#include "theta.h"

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_min.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The seasonal index of each position: y over its centred moving average
 * (over 2 x m terms when m is even, so that it is centred on a period),
 * averaged per position and scaled to a mean of one. */
static void indices(const double *y, size_t n, size_t m, double *idx)
{
	double sum[THETA_MAX_SEASON] = {0};
	size_t count[THETA_MAX_SEASON] = {0};
	size_t half = m / 2;
	for (size_t t = half; t + half < n; t++) {
		double ma = 0;
		if (m % 2) {
			for (size_t k = t - half; k <= t + half; k++)
				ma += y[k];
			ma /= (double)m;
		} else {
			ma = 0.5 * y[t - half] + 0.5 * y[t + half];
			for (size_t k = t - half + 1; k < t + half; k++)
				ma += y[k];
			ma /= (double)m;
		}
		if (ma > 0) {
			sum[t % m] += y[t] / ma;
			count[t % m]++;
		}
	}
	double mean = 0;
	for (size_t i = 0; i < m; i++) {
		idx[i] = count[i] ? sum[i] / (double)count[i] : 1;
		mean += idx[i];
	}
	mean /= (double)m;
	for (size_t i = 0; i < m; i++)
		idx[i] /= mean;
}

/* Whether the series has a season of M: its autocorrelation at lag M
 * beyond what chance gives at 90% (1.645 standard errors, Bartlett's
 * formula over the lags before), the test the Theta method's authors use. */
static int seasonal_test(const double *y, size_t n, size_t m)
{
	double mean = 0, var = 0;
	for (size_t t = 0; t < n; t++)
		mean += y[t];
	mean /= (double)n;
	for (size_t t = 0; t < n; t++)
		var += (y[t] - mean) * (y[t] - mean);
	if (!(var > 0))
		return 0;
	double r = 0, sum = 0;
	for (size_t k = 1; k <= m; k++) {
		double c = 0;
		for (size_t t = k; t < n; t++)
			c += (y[t] - mean) * (y[t - k] - mean);
		r = c / var;
		if (k < m)
			sum += r * r;
	}
	return fabs(r) > 1.645 * sqrt((1 + 2 * sum) / (double)n);
}

typedef struct {
	const double *x;
	size_t n;
} series;

/* Simple exponential smoothing: the squared one-step errors, and the
 * last level. */
static double ses(const double *x, size_t n, double alpha, double *level)
{
	double l = x[0], sse = 0;
	for (size_t t = 1; t < n; t++) {
		double e = x[t] - l;
		sse += e * e;
		l += alpha * e;
	}
	if (level)
		*level = l;
	return sse;
}

static double objective(double alpha, void *p)
{
	const series *s = p;
	return ses(s->x, s->n, alpha, NULL);
}

/* The slope of the least-squares line through (t, x[t]). */
static double slope(const double *x, size_t n)
{
	double tm = (double)(n - 1) / 2, xm = 0;
	for (size_t t = 0; t < n; t++)
		xm += x[t];
	xm /= (double)n;
	double num = 0, den = 0;
	for (size_t t = 0; t < n; t++) {
		num += ((double)t - tm) * (x[t] - xm);
		den += ((double)t - tm) * ((double)t - tm);
	}
	return den > 0 ? num / den : 0;
}

static int fit(const double *y, size_t n, size_t m, double alpha, theta_model *t, char *err,
	       size_t cap)
{
	if (n < 4)
		return snprintf(err, cap, "%zu periods of history; the Theta method needs 4", n), -1;
	memset(t, 0, sizeof *t);
	t->n = n;
	int seasonal = m >= 2 && m <= THETA_MAX_SEASON && n >= 2 * m;
	for (size_t i = 0; seasonal && i < n; i++)
		seasonal = y[i] > 0;	/* a multiplicative season needs values above zero */
	seasonal = seasonal && seasonal_test(y, n, m);
	double *x = malloc(n * sizeof *x);
	if (!x)
		return snprintf(err, cap, "out of memory"), -1;
	if (seasonal) {
		t->m = m;
		indices(y, n, m, t->season);
		for (size_t i = 0; i < n; i++)
			x[i] = y[i] / t->season[i % m];
	} else {
		memcpy(x, y, n * sizeof *x);
	}
	series s = {x, n};
	if (isnan(alpha)) {	/* the alpha of the smallest one-step error */
		gsl_set_error_handler_off();
		gsl_function f = {objective, &s};
		gsl_min_fminimizer *opt = gsl_min_fminimizer_alloc(gsl_min_fminimizer_brent);
		double lo = 1e-3, hi = 0.999, best = 0.5, fbest = objective(0.5, &s);
		/* Brent needs a point below both ends; a coarse scan finds it. */
		for (int k = 1; k < 20; k++) {
			double a = k / 20.0, fa = objective(a, &s);
			if (fa < fbest)
				best = a, fbest = fa;
		}
		if (fbest < objective(lo, &s) && fbest < objective(hi, &s) &&
		    gsl_min_fminimizer_set(opt, &f, best, lo, hi) == GSL_SUCCESS) {
			for (int it = 0; it < 100; it++) {
				if (gsl_min_fminimizer_iterate(opt))
					break;
				double a = gsl_min_fminimizer_x_lower(opt);
				double b = gsl_min_fminimizer_x_upper(opt);
				if (gsl_min_test_interval(a, b, 1e-8, 0) == GSL_SUCCESS)
					break;
			}
			best = gsl_min_fminimizer_x_minimum(opt);
		} else {	/* the minimum is at an end */
			best = objective(lo, &s) < objective(hi, &s) ? lo : hi;
		}
		gsl_min_fminimizer_free(opt);
		alpha = best;
	}
	t->alpha = alpha;
	double sse = ses(x, n, alpha, &t->level);
	t->slope = slope(x, n);
	t->sigma2 = sse / (double)(n > 3 ? n - 3 : 1);	/* alpha, level, slope */
	free(x);
	return 0;
}

int theta_fit(const double *y, size_t n, size_t m, theta_model *t, char *err, size_t cap)
{
	return fit(y, n, m, NAN, t, err, cap);
}

int theta_fit_alpha(const double *y, size_t n, size_t m, double alpha, theta_model *t,
		    char *err, size_t cap)
{
	return fit(y, n, m, alpha, t, err, cap);
}

static double season_of(const theta_model *t, size_t h)
{
	return t->m ? t->season[(t->n + h - 1) % t->m] : 1;
}

double theta_point(const theta_model *t, size_t h)
{
	double a = t->alpha, H = (double)h;
	double drift = t->slope / 2 * ((H - 1) + 1 / a - pow(1 - a, (double)t->n) / a);
	return (t->level + drift) * season_of(t, h);
}

void theta_interval(const theta_model *t, size_t h, double level, double *lo, double *hi)
{
	double sd = sqrt(t->sigma2 * (1 + ((double)h - 1) * t->alpha * t->alpha));
	double z = gsl_cdf_ugaussian_Pinv((1 + level) / 2);
	double s = season_of(t, h), mid = theta_point(t, h);
	*lo = mid - z * sd * s;
	*hi = mid + z * sd * s;
}
