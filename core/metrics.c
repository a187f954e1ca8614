#include "metrics.h"

#include <math.h>
#include <stdlib.h>

#include "util.h"

typedef struct {
	double p, y;
} scored;

static int by_p_desc(const void *a, const void *b)
{
	double x = ((const scored *)a)->p, y = ((const scored *)b)->p;
	return (x < y) - (x > y);
}

static scored *sorted(const double *p, const double *y, size_t n)
{
	scored *s = patron_xmalloc((n ? n : 1) * sizeof *s);
	for (size_t i = 0; i < n; i++)
		s[i] = (scored){p[i], y[i]};
	qsort(s, n, sizeof *s, by_p_desc);
	return s;
}

/* AUC from S sorted by descending probability: for each group of tied
 * probabilities, the negatives below it count each positive of the group
 * fully, and the group's own negatives half. */
static double auc_sorted(const scored *s, size_t n)
{
	double pos = 0, neg = 0, area = 0;
	for (size_t i = 0; i < n; i++)
		pos += s[i].y > 0.5;
	neg = (double)n - pos;
	if (pos == 0 || neg == 0)
		return NAN;
	double neg_below = neg;	/* negatives not yet passed */
	for (size_t i = 0; i < n;) {
		size_t j = i;
		double gp = 0, gn = 0;
		while (j < n && s[j].p == s[i].p) {
			gp += s[j].y > 0.5;
			gn += s[j].y <= 0.5;
			j++;
		}
		neg_below -= gn;
		area += gp * (neg_below + gn / 2);
		i = j;
	}
	return area / (pos * neg);
}

double metrics_auc(const double *p, const double *y, size_t n)
{
	scored *s = sorted(p, y, n);
	double a = auc_sorted(s, n);
	free(s);
	return a;
}

static void at(const double *p, const double *y, size_t n, double threshold, metrics_at *m)
{
	*m = (metrics_at){.threshold = threshold};
	for (size_t i = 0; i < n; i++) {
		int pred = p[i] >= threshold, pos = y[i] > 0.5;
		m->tp += pred && pos;
		m->fp += pred && !pos;
		m->tn += !pred && !pos;
		m->fn += !pred && pos;
	}
	m->accuracy = n ? (double)(m->tp + m->tn) / (double)n : 0;
	m->precision = m->tp + m->fp ? (double)m->tp / (double)(m->tp + m->fp) : 0;
	m->recall = m->tp + m->fn ? (double)m->tp / (double)(m->tp + m->fn) : 0;
	m->f1 = m->precision + m->recall > 0
		? 2 * m->precision * m->recall / (m->precision + m->recall) : 0;
}

void metrics_compute(const double *p, const double *y, size_t n, metrics *m)
{
	*m = (metrics){.n = n};
	scored *s = sorted(p, y, n);
	for (size_t i = 0; i < n; i++)
		m->positives += s[i].y > 0.5;
	m->roc_auc = auc_sorted(s, n);
	/* Average precision, and the threshold of the best F1, walking down
	 * the distinct probabilities. */
	double tp = 0, fp = 0, prev_recall = 0, best_f1 = -1, best_t = 0.5, ap = 0;
	for (size_t i = 0; i < n;) {
		size_t j = i;
		while (j < n && s[j].p == s[i].p) {
			tp += s[j].y > 0.5;
			fp += s[j].y <= 0.5;
			j++;
		}
		double precision = tp / (tp + fp);
		double recall = m->positives ? tp / (double)m->positives : 0;
		ap += (recall - prev_recall) * precision;
		prev_recall = recall;
		double f1 = precision + recall > 0 ? 2 * precision * recall / (precision + recall) : 0;
		if (f1 > best_f1) {
			best_f1 = f1;
			best_t = s[i].p;
		}
		i = j;
	}
	m->pr_auc = m->positives ? ap : NAN;
	double ll = 0;
	for (size_t i = 0; i < n; i++) {
		double q = fmin(fmax(p[i], 1e-15), 1 - 1e-15);
		ll -= y[i] > 0.5 ? log(q) : log(1 - q);
	}
	m->log_loss = n ? ll / (double)n : NAN;
	free(s);
	at(p, y, n, 0.5, &m->at_half);
	at(p, y, n, best_t, &m->at_best);
}

static json_t *num(double v) { return isfinite(v) ? json_real(v) : json_null(); }

static json_t *at_json(const metrics_at *a)
{
	return json_pack("{s:o, s:o, s:o, s:o, s:o, s:{s:I, s:I, s:I, s:I}}", "threshold",
			 num(a->threshold), "accuracy", num(a->accuracy), "precision",
			 num(a->precision), "recall", num(a->recall), "f1", num(a->f1), "confusion",
			 "tp", (json_int_t)a->tp, "fp", (json_int_t)a->fp, "tn", (json_int_t)a->tn,
			 "fn", (json_int_t)a->fn);
}

json_t *metrics_json(const metrics *m)
{
	return json_pack("{s:I, s:I, s:o, s:o, s:o, s:o, s:o}", "customers", (json_int_t)m->n,
			 "churned", (json_int_t)m->positives, "roc_auc", num(m->roc_auc), "pr_auc",
			 num(m->pr_auc), "log_loss", num(m->log_loss), "at_0_5", at_json(&m->at_half),
			 "at_best_f1", at_json(&m->at_best));
}
