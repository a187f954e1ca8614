#include "irls.h"

#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BLOCK 1024

/* log(1 + e^t) without overflow. */
static double softplus(double t) { return t > 0 ? t + log1p(exp(-t)) : log1p(exp(t)); }

static double sigmoid(double t)
{
	if (t >= 0)
		return 1 / (1 + exp(-t));
	double e = exp(t);
	return e / (1 + e);
}

static double eta(const double *beta, const double *x, size_t cols)
{
	double s = beta[0];
	for (size_t j = 0; j < cols; j++)
		s += beta[1 + j] * x[j];
	return s;
}

double irls_predict(const double *beta, const double *x, size_t cols)
{
	return sigmoid(eta(beta, x, cols));
}

static double objective(const double *x, size_t cols, const size_t *rows, size_t n,
			const double *y, double C, const double *beta)
{
	double loss = 0, pen = 0;
	for (size_t i = 0; i < n; i++) {
		const double *xi = x + rows[i] * cols;
		double t = eta(beta, xi, cols);
		loss += softplus(t) - y[rows[i]] * t;
	}
	for (size_t j = 0; j < cols; j++)
		pen += beta[1 + j] * beta[1 + j];
	return C * loss + pen / 2;
}

int irls_fit(const double *x, size_t cols, const size_t *rows, size_t n, const double *y,
	     double C, double tol, int max_iter, double *beta, double *obj, char *err, size_t cap)
{
	size_t k = cols + 1;
	double *g = malloc(k * sizeof *g), *h = malloc(k * k * sizeof *h);
	double *z = malloc(BLOCK * k * sizeof *z), *next = malloc(k * sizeof *next);
	double *d = malloc(k * sizeof *d);
	if (!g || !h || !z || !next || !d) {
		free(g), free(h), free(z), free(next), free(d);
		snprintf(err, cap, "out of memory");
		return -1;
	}
	double f = objective(x, cols, rows, n, y, C, beta), gmax = INFINITY;
	int it = 0;
	for (; it < max_iter; it++) {
		/* Gradient and Hessian at beta. */
		memset(g, 0, k * sizeof *g);
		memset(h, 0, k * k * sizeof *h);
		for (size_t b0 = 0; b0 < n; b0 += BLOCK) {
			size_t nb = n - b0 < BLOCK ? n - b0 : BLOCK;
			for (size_t i = 0; i < nb; i++) {
				const double *xi = x + rows[b0 + i] * cols;
				double p = sigmoid(eta(beta, xi, cols)), r = C * (p - y[rows[b0 + i]]);
				double s = sqrt(C * p * (1 - p));
				double *zi = z + i * k;
				g[0] += r;
				zi[0] = s;
				for (size_t j = 0; j < cols; j++) {
					g[1 + j] += r * xi[j];
					zi[1 + j] = s * xi[j];
				}
			}
			cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, (int)k, (int)nb, 1.0, z,
				    (int)k, 1.0, h, (int)k);
		}
		for (size_t j = 0; j < cols; j++) {
			g[1 + j] += beta[1 + j];
			h[(1 + j) * k + 1 + j] += 1;
		}
		for (size_t a = 0; a < k; a++)
			for (size_t c = 0; c < a; c++)
				h[a * k + c] = h[c * k + a];
		h[0] += 1e-12 * (1 + h[0]);	/* an all-one-class split keeps H definite */
		gmax = 0;
		for (size_t j = 0; j < k; j++)
			gmax = fmax(gmax, fabs(g[j]));
		if (gmax <= tol * (1 + C * (double)n))
			break;
		if (irls_solve_spd(h, g, d, k) < 0) {
			snprintf(err, cap, "the Newton system is singular after %d iterations "
				 "(objective %.10g)", it, f);
			it = -1;
			break;
		}
		/* Backtracking: halve the step until the objective falls, or at
		 * least does not rise beyond its rounding (near the optimum a
		 * Newton step's gain is below what a large objective can show). */
		double step = 1, fn = f, slack = 1e-12 * fabs(f);
		for (int tries = 0; tries < 40; tries++, step /= 2) {
			for (size_t j = 0; j < k; j++)
				next[j] = beta[j] - step * d[j];
			fn = objective(x, cols, rows, n, y, C, next);
			if (fn <= f + slack)
				break;
		}
		if (!(fn <= f + slack)) {
			if (gmax <= 1e3 * tol * (1 + C * (double)n))
				break;	/* as low as rounding lets it go */
			snprintf(err, cap, "no step lowers the objective after %d iterations "
				 "(objective %.10g, gradient %.3g)", it, f, gmax);
			it = -1;
			break;
		}
		memcpy(beta, next, k * sizeof *beta);
		f = fn;
	}
	if (it == max_iter) {
		snprintf(err, cap, "did not converge in %d iterations (objective %.10g, gradient "
			 "%.3g)", max_iter, f, gmax);
		it = -1;
	}
	*obj = f;
	free(g), free(h), free(z), free(next), free(d);
	return it;
}
