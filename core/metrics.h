/* How good a probability is at telling churners from the rest: the figures
 * `patron eval churn` and `patron train churn` report, as scikit-learn
 * defines them, so the two can be compared. */
#ifndef PATRON_METRICS_H
#define PATRON_METRICS_H

#include <jansson.h>
#include <stddef.h>

typedef struct {
	size_t tp, fp, tn, fn;
	double threshold, accuracy, precision, recall, f1;
} metrics_at;

typedef struct {
	size_t n, positives;
	double roc_auc;		/* Mann-Whitney, ties counted half */
	double pr_auc;		/* average precision: sum over thresholds of dR x P */
	double log_loss;	/* probabilities clipped to [1e-15, 1 - 1e-15] */
	metrics_at at_half, at_best;	/* at 0.5, and at the threshold of the best F1 */
} metrics;

/* Figures of probabilities P against labels Y (0/1), N of them. */
void metrics_compute(const double *p, const double *y, size_t n, metrics *m);
/* ROC AUC alone. */
double metrics_auc(const double *p, const double *y, size_t n);
json_t *metrics_json(const metrics *m);

#endif
