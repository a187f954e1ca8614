/* A linear support vector machine, and probabilities from its decisions.
 *
 * The SVM minimises 1/2 |w|^2 + C sum_i loss(y_i (w . x_i)) over w, the
 * rows x_i carrying a constant bias feature B (so the intercept is w's last
 * entry, regularized as the rest), with the hinge loss max(0, 1 - m) or
 * its square. It is solved in the dual by coordinate descent (Hsieh, Chang,
 * Lin, Keerthi and Sundararajan, "A Dual Coordinate Descent Method for
 * Large-scale Linear SVM", ICML 2008, algorithm 1), visiting the rows in a
 * seeded random order, until the projected gradient's spread falls below
 * TOL or after MAX_ITER passes.
 *
 * Probabilities are Platt's sigmoid 1 / (1 + exp(A f + B)) of the decision
 * value f, with A and B fitted by Newton's method with a backtracking line
 * search on Platt's smoothed targets (Lin, Lin and Weng, "A note on Platt's
 * probabilistic outputs for support vector machines", 2007). */
#ifndef PATRON_DCD_H
#define PATRON_DCD_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
	double c;		/* 1 */
	int squared;		/* 0: hinge loss; 1: squared hinge */
	double bias;		/* B, the bias feature's value (1) */
	double tol;		/* 0.001 */
	size_t max_iter;	/* 1000 */
	uint64_t seed;
} svm_opts;

/* W (COLS + 1 entries, the last the bias weight) from the N rows ROWS of X
 * (row-major, COLS columns) with labels Y (0 or 1). The passes made, or -1
 * when out of memory. */
long svm_fit(const double *x, size_t cols, const size_t *rows, size_t n, const double *y,
	     const svm_opts *o, double *w);

/* w . x + w_bias B. */
double svm_decision(const double *w, size_t cols, double bias, const double *x);

/* Platt's A and B for decision values F (N) and labels Y (0 or 1). 0, or -1
 * when the Newton steps fail (then A and B are the best found). */
int platt_fit(const double *f, const double *y, size_t n, double *a, double *b);
double platt_p(double a, double b, double f);

#endif
