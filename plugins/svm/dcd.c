#include "dcd.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../common/random.h"

double svm_decision(const double *w, size_t cols, double bias, const double *x)
{
	double s = w[cols] * bias;
	for (size_t j = 0; j < cols; j++)
		s += w[j] * x[j];
	return s;
}

long svm_fit(const double *x, size_t cols, const size_t *rows, size_t n, const double *y,
	     const svm_opts *o, double *w)
{
	double *alpha = calloc(n ? n : 1, sizeof *alpha), *qd = malloc((n ? n : 1) * sizeof *qd);
	size_t *order = malloc((n ? n : 1) * sizeof *order);
	/* The rows' nonzero entries only (one-hot columns are mostly zero):
	 * each pass then costs what the data holds, not rows x columns. */
	size_t *start = malloc((n + 1) * sizeof *start), nnz = 0;
	for (size_t i = 0; start && i < n; i++)
		for (size_t j = 0; j < cols; j++)
			nnz += x[rows[i] * cols + j] != 0;
	uint32_t *col = malloc((nnz ? nnz : 1) * sizeof *col);
	double *val = malloc((nnz ? nnz : 1) * sizeof *val);
	if (!alpha || !qd || !order || !start || !col || !val) {
		free(alpha), free(qd), free(order), free(start), free(col), free(val);
		return -1;
	}
	nnz = 0;
	for (size_t i = 0; i < n; i++) {
		start[i] = nnz;
		for (size_t j = 0; j < cols; j++) {
			double v = x[rows[i] * cols + j];
			if (v != 0) {
				col[nnz] = (uint32_t)j;
				val[nnz++] = v;
			}
		}
	}
	start[n] = nnz;
	/* hinge: 0 <= alpha <= C; squared hinge: no upper bound, D = 1 / 2C */
	double upper = o->squared ? INFINITY : o->c, diag = o->squared ? 0.5 / o->c : 0;
	memset(w, 0, (cols + 1) * sizeof *w);
	for (size_t i = 0; i < n; i++) {
		double q = o->bias * o->bias + diag;
		for (size_t k = start[i]; k < start[i + 1]; k++)
			q += val[k] * val[k];
		qd[i] = q;
		order[i] = i;
	}
	/* With shrinking (the paper's section 3.2): a variable at a bound whose
	 * gradient pushes it further out than any free one moved last pass is
	 * left out of the next passes, until the rest has converged; then all
	 * are checked once more. */
	uint64_t seed = o->seed ? o->seed : 1;
	double old_max = INFINITY, old_min = -INFINITY;
	size_t active = n;
	long pass;
	for (pass = 0; pass < (long)o->max_iter; pass++) {
		for (size_t i = active; i > 1; i--) {	/* a fresh order each pass */
			size_t k = (size_t)(plugin_random(&seed) % i), t = order[i - 1];
			order[i - 1] = order[k];
			order[k] = t;
		}
		double pg_max = -INFINITY, pg_min = INFINITY;
		for (size_t s = 0; s < active; s++) {
			size_t i = order[s];
			double yi = y[rows[i]] > 0.5 ? 1 : -1, wx = w[cols] * o->bias;
			for (size_t k = start[i]; k < start[i + 1]; k++)
				wx += w[col[k]] * val[k];
			double g = yi * wx - 1 + diag * alpha[i];
			double pg = 0;
			if (alpha[i] == 0) {
				if (g > old_max) {	/* shrunk: stays at 0 */
					size_t t = order[s];
					order[s--] = order[--active];
					order[active] = t;
					continue;
				}
				if (g < 0)
					pg = g;
			} else if (alpha[i] == upper) {
				if (g < old_min) {	/* shrunk: stays at C */
					size_t t = order[s];
					order[s--] = order[--active];
					order[active] = t;
					continue;
				}
				if (g > 0)
					pg = g;
			} else {
				pg = g;
			}
			if (pg > pg_max)
				pg_max = pg;
			if (pg < pg_min)
				pg_min = pg;
			if (fabs(pg) < 1e-12)
				continue;
			double old = alpha[i], a = old - g / qd[i];
			alpha[i] = a < 0 ? 0 : a > upper ? upper : a;
			double d = (alpha[i] - old) * yi;
			for (size_t k = start[i]; k < start[i + 1]; k++)
				w[col[k]] += d * val[k];
			w[cols] += d * o->bias;
		}
		if (pg_max - pg_min < o->tol) {
			if (active == n)
				break;
			active = n;	/* converged on the rest: check every one again */
			old_max = INFINITY, old_min = -INFINITY;
			continue;
		}
		old_max = pg_max > 0 ? pg_max : INFINITY;
		old_min = pg_min < 0 ? pg_min : -INFINITY;
	}
	free(alpha), free(qd), free(order), free(start), free(col), free(val);
	return pass + 1;
}

double platt_p(double a, double b, double f)
{
	double z = a * f + b;	/* 1 / (1 + e^z), without overflow */
	return z >= 0 ? exp(-z) / (1 + exp(-z)) : 1 / (1 + exp(z));
}

/* Platt's objective at (A, B): sum of t log(1 + e^-z) + (1 - t) log(1 + e^z)
 * over z = A f + B, in the stable form Lin, Lin and Weng give. */
static double objective(const double *f, const double *t, size_t n, double a, double b)
{
	double v = 0;
	for (size_t i = 0; i < n; i++) {
		double z = f[i] * a + b;
		v += z >= 0 ? t[i] * z + log1p(exp(-z)) : (t[i] - 1) * z + log1p(exp(z));
	}
	return v;
}

int platt_fit(const double *f, const double *y, size_t n, double *a, double *b)
{
	double pos = 0;
	for (size_t i = 0; i < n; i++)
		pos += y[i] > 0.5;
	double neg = (double)n - pos;
	double hi = (pos + 1) / (pos + 2), lo = 1 / (neg + 2);
	double *t = malloc((n ? n : 1) * sizeof *t);
	if (!t)
		return -1;
	for (size_t i = 0; i < n; i++)
		t[i] = y[i] > 0.5 ? hi : lo;
	*a = 0;
	*b = log((neg + 1) / (pos + 1));
	double fval = objective(f, t, n, *a, *b);
	int rc = -1;
	for (int it = 0; it < 100; it++) {
		/* gradient and Hessian (plus a little on the diagonal) */
		double h11 = 1e-12, h22 = 1e-12, h21 = 0, g1 = 0, g2 = 0;
		for (size_t i = 0; i < n; i++) {
			double z = f[i] * *a + *b;
			double p = z >= 0 ? exp(-z) / (1 + exp(-z)) : 1 / (1 + exp(z));
			double q = 1 - p, d2 = p * q, d1 = t[i] - p;
			h11 += f[i] * f[i] * d2;
			h22 += d2;
			h21 += f[i] * d2;
			g1 += f[i] * d1;
			g2 += d1;
		}
		if (fabs(g1) < 1e-5 && fabs(g2) < 1e-5) {
			rc = 0;
			break;
		}
		double det = h11 * h22 - h21 * h21;
		double da = -(h22 * g1 - h21 * g2) / det, db = -(-h21 * g1 + h11 * g2) / det;
		double gd = g1 * da + g2 * db, step = 1;
		while (step >= 1e-10) {	/* backtracking: enough decrease */
			double na = *a + step * da, nb = *b + step * db;
			double nf = objective(f, t, n, na, nb);
			if (nf < fval + 1e-4 * step * gd) {
				*a = na, *b = nb, fval = nf;
				break;
			}
			step /= 2;
		}
		if (step < 1e-10)
			break;	/* no step helps: the best found stands */
	}
	free(t);
	return rc;
}
