/* Random forests of CART trees (Breiman, 2001) for a 0/1 label, on plain
 * arrays: the forest plugin and the unit tests use it.
 *
 * Each tree grows on a bootstrap sample of the rows (or all of them), and
 * each split is the one of least weighted Gini impurity among max_features
 * randomly drawn columns (more are drawn while none of them can split the
 * node, as scikit-learn does). Split points are searched over at most 256
 * bins per column: the midpoints between its distinct training values when
 * it has that few, else between the values at 255 quantiles. A node stops
 * splitting at max_depth, below 2 x min_leaf rows, or when pure. A tree's
 * probability is its leaf's share of positive rows; the forest's is the
 * mean over trees. Trees are grown on two threads, each from its own
 * seed, so the result does not depend on the thread that grew it. */
#ifndef PATRON_CART_H
#define PATRON_CART_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
	size_t n;		/* nodes; 0 is the root */
	int32_t *feature;	/* -1 at a leaf */
	double *threshold;	/* go left when x <= threshold */
	int32_t *left, *right;
	double *value;		/* the share of positive rows reaching the node */
	double *count;		/* the rows reaching it when grown (NULL in a loaded tree) */
} cart_tree;

typedef struct {
	size_t trees;		/* 100 */
	size_t max_depth;	/* 0: none */
	size_t min_leaf;	/* 1 */
	size_t max_features;	/* 0: sqrt of the columns */
	int bootstrap;		/* 1 */
	uint64_t seed;
	int threads;		/* 1 or 2 */
} forest_opts;

typedef struct {
	cart_tree *tree;
	size_t n, cols;
} forest;

/* Grows the forest on the N rows ROWS of X (row-major, COLS columns) with
 * labels Y (0/1, indexed like X's rows). -1 when out of memory. */
int forest_fit(const double *x, size_t cols, const size_t *rows, size_t n, const double *y,
	       const forest_opts *o, forest *f);
/* The probability for X; with CONTRIB (cols entries, zeroed by the caller),
 * also each column's share of it: along each tree's path, the change in the
 * node's positive share at a split is credited to the split's column, and
 * the credits are averaged over trees (Saabas). */
double forest_predict(const forest *f, const double *x, double *contrib);
void forest_free(forest *f);

#endif
