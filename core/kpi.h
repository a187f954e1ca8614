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

#include "store.h"

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

/* As JSON: {"period_days", "from", "to", "current": {...}, "previous": {...},
 * "at_risk", "threshold", "clv_total"}. */
json_t *patron_kpis_json(const patron_kpis *k);

/* [start, end) of NOW's period of DAYS days, in seconds: end is NOW + 1. */
void patron_kpi_bounds(int64_t now, int days, int64_t *start, int64_t *end);

#endif
