/* Naive Bayes for a 0/1 label over the design table's columns, on plain
 * arrays: the nbayes plugin and the unit tests use it.
 *
 * Columns are taken as the design names them: "attr.X=V" columns of one X
 * are one categorical variable (its value the column holding 1, or none of
 * them), "... (missing)" columns are yes/no variables, and the rest are
 * numbers with a normal density per class. Categorical counts are smoothed
 * by adding ALPHA (1) to each level; variances get EPSILON times the
 * largest column variance added (scikit-learn's var_smoothing, 1e-9). */
#ifndef PATRON_NB_H
#define PATRON_NB_H

#include <stddef.h>

typedef struct {
	size_t cols, vars;
	int *var_of;		/* column -> variable */
	int *kind;		/* per variable: 0 normal, 1 categorical */
	size_t *levels;		/* per variable: categorical levels, "none" included */
	size_t *first;		/* per variable: its first column */
	double prior[2];	/* log P(class) */
	double *mean[2], *var[2];	/* per column (normal variables) */
	double **logp[2];	/* per variable, per level: log P(level | class) */
} nb_model;

/* The variables of the columns NAMES, with room for their statistics. */
int nb_init(nb_model *m, const char *const *names, size_t cols);
/* Fits on the N rows ROWS of X (COLS columns named NAMES) with labels Y. */
int nb_fit(const double *x, size_t cols, const char *const *names, const size_t *rows,
	   size_t n, const double *y, double alpha, double epsilon, nb_model *m);
/* P(class 1 | x); with LLR (cols entries), each column's log-likelihood
 * ratio log p(x | 1) - log p(x | 0) (a categorical variable's on the
 * column of its level). */
double nb_predict(const nb_model *m, const double *x, double *llr);
void nb_free(nb_model *m);

/* The level of categorical variable V in row X: the index of its column
 * holding 1, or the last level (none of them). */
size_t nb_level(const nb_model *m, size_t v, const double *x);

#endif
