/* L2-regularized logistic regression fitted by Newton's method (iteratively
 * reweighted least squares), on plain arrays: the logreg plugin and the
 * unit tests use it.
 *
 * Minimizes  C sum_i [log(1 + e^eta_i) - y_i eta_i] + |w|^2 / 2,
 * eta_i = b + x_i . w, the intercept b not penalized: scikit-learn's
 * LogisticRegression(C=C), so coefficients can be compared. Each step
 * solves H d = g by Cholesky (LAPACK in OpenBLAS) with H = C Z'WZ + diag(0, 1, ..., 1),
 * Z'WZ accumulated by OpenBLAS's dsyrk over blocks of rows, and a
 * backtracking line search keeps every step downhill. */
#ifndef PATRON_IRLS_H
#define PATRON_IRLS_H

#include <stddef.h>

/* X is row-major with COLS columns; the N rows ROWS (indexes into X and Y)
 * are fitted. BETA (cols + 1): b, then w; its content on entry is the
 * start. Returns the iterations taken, or -1 when the gradient did not fall
 * below TOL (relative to C n) in MAX_ITER steps, with ERR saying so and the
 * last objective. */
int irls_fit(const double *x, size_t cols, const size_t *rows, size_t n, const double *y,
	     double C, double tol, int max_iter, double *beta, double *objective, char *err,
	     size_t cap);

/* Solves H d = g for a K x K symmetric positive definite H (overwritten by
 * its factor): 0, or -1 when H is not definite. (spd.c) */
int irls_solve_spd(double *h, const double *g, double *d, size_t k);

/* The probability for row X (COLS values). */
double irls_predict(const double *beta, const double *x, size_t cols);

#endif
