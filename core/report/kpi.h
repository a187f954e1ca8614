/* The owner's headline figures for a period and the one before it, as
 * `patron stats` and the report show them.
 *
 * A period is the DAYS x 24 hours up to and including the moment NOW (with
 * --now D, D at 00:00 UTC: what is dated D without a time counts). Orders are paid orders, in the base
 * currency, guests' included; customers are the ones with an id.
 *   active: customers with an order in the 365 days up to the period's end;
 *   new: customers whose first order falls in the period;
 *   repeat rate: of the customers who ordered in the period, the share who
 *     had ordered before it;
 *   retention: of the customers active at the period's start, the share
 *     still active at its end (churn rate: the rest). */
#ifndef PATRON_KPI_H
#define PATRON_KPI_H

#include <jansson.h>
#include <stdint.h>

#include "../store.h"

#define PATRON_ACTIVE_DAYS 365

typedef struct {
	int64_t start, end;	/* [start, end), seconds */
	int64_t orders, revenue_cents, active, new_customers, buyers, returning;
	int64_t active_before, retained;
	double aov, repeat_rate, retention, churn_rate;	/* NAN when undefined */
} patron_kpi_period;

typedef struct {
	int days;
	patron_kpi_period cur, prev;
	int64_t scored, at_risk;	/* customers with a churn score, and at or over THRESHOLD */
	double threshold;
	int64_t clv_scored;
	double clv_total;	/* sum of predicted CLV (base currency) */
} patron_kpis;

int patron_kpis_compute(patron_store *s, int64_t now, int days, double threshold,
			patron_kpis *k, patron_err *err);

#define PATRON_COHORTS 12

/* What the report reads from the paid orders, gathered in one pass over
 * them (a store of millions of orders is read once, not once a chart). */
typedef struct {
	patron_kpis k;
	size_t nperiods;
	double *revenue, *orders;	/* per period of k.days up to NOW, oldest first;
					 * revenue in base-currency units */
	int64_t month;			/* NOW's calendar month: year * 12 + month - 1 */
	/* the new customers of month - 11 + i, and how many of them ordered
	 * j months after their first (j = 0: that month itself) */
	int64_t cohort_size[PATRON_COHORTS];
	int64_t cohort[PATRON_COHORTS][PATRON_COHORTS];
	/* per customer id, 0 .. max_id: paid cents up to NOW and the time of
	 * the last paid order (0 when none) */
	int64_t max_id;
	int64_t *cents, *last;
} patron_sales;

/* The headline figures (as patron_kpis_compute), NPERIODS periods of sales
 * (0 for none), the cohorts and each customer's spend. */
int patron_sales_read(patron_store *s, int64_t now, int days, size_t nperiods,
		      double threshold, patron_sales *out, patron_err *err);
void patron_sales_free(patron_sales *s);

/* As JSON: {"period_days", "from", "to", "current": {...}, "previous": {...},
 * "at_risk", "threshold", "clv_total"}. */
json_t *patron_kpis_json(const patron_kpis *k);

/* [start, end) of NOW's period of DAYS days, in seconds: end is NOW + 1. */
void patron_kpi_bounds(int64_t now, int days, int64_t *start, int64_t *end);

#endif
