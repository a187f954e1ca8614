/* The owner's report: one self-contained HTML page (inline CSS and SVG, no
 * script, nothing fetched) with the headline figures against the period
 * before, sales per period with their forecast, acquisition cohorts,
 * segments, churn risk and the customers most worth saving, what the
 * messages earned, and what customers said. A section whose data does not
 * exist yet says why instead of drawing an empty chart.
 *
 * The page is well-formed XML as well as HTML, and every headline figure
 * carries its raw value (data-value) so that a program can check it. */
#ifndef PATRON_REPORT_H
#define PATRON_REPORT_H

#include <stdint.h>

#include "../store.h"
#include "../util.h"
#include "kpi.h"

/* A forecast of the sales series beyond the last period: values and an
 * interval, per series (revenue in base-currency units, orders). */
typedef struct {
	const char *method;	/* "holt-winters (additive)" */
	size_t horizon;
	const double *revenue, *revenue_lo, *revenue_hi;
	const double *orders, *orders_lo, *orders_hi;
	double level;		/* of the interval, e.g. 0.8 */
} patron_report_forecast;

typedef struct {
	int64_t now;
	int days;			/* the period: 7 or 30 */
	double threshold;		/* churn risk that counts as at risk */
	int64_t window;			/* attribution window, seconds */
	double cost_per_message;	/* NAN when not set */
	const char *currency;		/* the base currency's code, or "" */
	const char *title;		/* the shop's name, or the store's file */
	const struct patron_config *config;	/* campaign_costs; may be NULL */
	const patron_report_forecast *forecast;	/* NULL: none */
	const char *forecast_note;	/* why there is none, when NULL */
	/* read by patron_sales_read with the same now, days and threshold, and
	 * at least patron_report_periods(days) periods */
	const patron_sales *sales;
} patron_report_opts;

/* How many periods the sales chart shows: 26 weeks, or 24 months. */
size_t patron_report_periods(int days);

int patron_report_html(patron_store *s, const patron_report_opts *o, patron_buf *out,
		       patron_err *err);

#endif
