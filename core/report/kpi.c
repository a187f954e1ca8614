#include "kpi.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../value.h"

#define DAY 86400

void patron_kpi_bounds(int64_t now, int days, int64_t *start, int64_t *end)
{
	/* Up to and including the moment NOW, as every command reads the
	 * store: with --now D, what is dated D without a time counts. */
	*end = now + 1;
	*start = *end - (int64_t)days * DAY;
}

static double ratio(int64_t a, int64_t b) { return b ? (double)a / (double)b : NAN; }

static void rates(patron_kpi_period *p)
{
	p->aov = p->orders ? (double)p->revenue_cents / 100.0 / (double)p->orders : NAN;
	p->repeat_rate = ratio(p->returning, p->buyers);
	p->retention = ratio(p->retained, p->active_before);
	p->churn_rate = p->active_before ? 1 - p->retention : NAN;
}

static int64_t month_of(int64_t t)
{
	int y, m, d;
	patron_civil_from_days(patron_day_number(t), &y, &m, &d);
	return (int64_t)y * 12 + (m - 1);
}

/* What one pass keeps per customer. */
enum {
	BOUGHT_CUR = 1, BOUGHT_PREV = 2,	/* ordered in the period, the one before */
	ACTIVE_END = 4,				/* an order in the year up to the end */
	ACTIVE_MID = 8,				/* ... up to the current period's start */
	ACTIVE_START = 16,			/* ... up to the previous period's start */
	SEEN = 32,				/* has a paid order at all */
};

/* Scores are the latest run's: they have no previous period. */
static int scores(patron_store *s, patron_kpis *k, patron_err *err)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(patron_store_db(s), "SELECT count(*) FILTER (WHERE name = 'churn'),"
			       " count(*) FILTER (WHERE name = 'churn' AND value >= ?1),"
			       " count(*) FILTER (WHERE name = 'clv'),"
			       " coalesce(sum(value) FILTER (WHERE name = 'clv'), 0)"
			       " FROM scores WHERE name IN ('churn', 'clv')", -1, &st, NULL) != SQLITE_OK)
		return patron_store_fail(s, err, "reading the scores");
	sqlite3_bind_double(st, 1, k->threshold);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_finalize(st);
		return patron_store_fail(s, err, "reading the scores");
	}
	k->scored = sqlite3_column_int64(st, 0);
	k->at_risk = sqlite3_column_int64(st, 1);
	k->clv_scored = sqlite3_column_int64(st, 2);
	k->clv_total = sqlite3_column_double(st, 3);
	sqlite3_finalize(st);
	return 0;
}

int patron_sales_read(patron_store *s, int64_t now, int days, size_t nperiods,
		      double threshold, patron_sales *out, patron_err *err)
{
	memset(out, 0, sizeof *out);
	patron_kpis *k = &out->k;
	k->days = days;
	k->threshold = threshold;
	patron_kpi_period *cur = &k->cur, *prev = &k->prev;
	patron_kpi_bounds(now, days, &cur->start, &cur->end);
	const int64_t len = (int64_t)days * DAY, year = (int64_t)PATRON_ACTIVE_DAYS * DAY;
	prev->end = cur->start;
	prev->start = cur->start - len;
	out->nperiods = nperiods;
	out->revenue = patron_xcalloc(nperiods ? nperiods : 1, sizeof *out->revenue);
	out->orders = patron_xcalloc(nperiods ? nperiods : 1, sizeof *out->orders);
	out->month = month_of(now);
	sqlite3 *db = patron_store_db(s);
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db, "SELECT coalesce(max(id), 0) FROM customers", -1, &st, NULL) !=
	    SQLITE_OK || sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_finalize(st);
		patron_sales_free(out);
		return patron_store_fail(s, err, "reading the customers");
	}
	out->max_id = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	size_t n = (size_t)out->max_id + 1;
	out->cents = patron_xcalloc(n, sizeof *out->cents);
	out->last = patron_xcalloc(n, sizeof *out->last);
	int64_t *first = patron_xcalloc(n, sizeof *first);
	unsigned char *flags = patron_xcalloc(n, 1);
	uint32_t *months = patron_xcalloc(n, sizeof *months);	/* bit j: ordered j months ago */
	int64_t series_from = cur->end - (int64_t)nperiods * len;
	if (sqlite3_prepare_v2(db, "SELECT coalesce(customer_id, 0), placed_at, total_cents"
			       " FROM orders WHERE revenue AND placed_at < ?1", -1, &st, NULL) !=
	    SQLITE_OK) {
		free(first), free(flags), free(months);
		patron_sales_free(out);
		return patron_store_fail(s, err, "reading the orders");
	}
	sqlite3_bind_int64(st, 1, cur->end);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t cid = sqlite3_column_int64(st, 0), t = sqlite3_column_int64(st, 1);
		int64_t c = sqlite3_column_int64(st, 2);
		if (t >= cur->start)
			cur->orders++, cur->revenue_cents += c;
		else if (t >= prev->start)
			prev->orders++, prev->revenue_cents += c;
		if (nperiods && t >= series_from) {
			size_t back = (size_t)((cur->end - 1 - t) / len);
			out->revenue[nperiods - 1 - back] += (double)c / 100;
			out->orders[nperiods - 1 - back]++;
		}
		if (cid <= 0 || cid > out->max_id)
			continue;	/* a guest's order: sales, not customers */
		if (!(flags[cid] & SEEN)) {
			first[cid] = out->last[cid] = t;
			flags[cid] |= SEEN;
		}
		if (t < first[cid])
			first[cid] = t;
		if (t > out->last[cid])
			out->last[cid] = t;
		out->cents[cid] += c;
		unsigned char f = 0;
		if (t >= cur->start)
			f |= BOUGHT_CUR;
		else if (t >= prev->start)
			f |= BOUGHT_PREV;
		if (t >= cur->end - year)
			f |= ACTIVE_END;
		if (t < cur->start && t >= cur->start - year)
			f |= ACTIVE_MID;
		if (t < prev->start && t >= prev->start - year)
			f |= ACTIVE_START;
		flags[cid] |= f;
		int64_t ago = out->month - month_of(t);
		if (ago >= 0 && ago < 32)
			months[cid] |= 1u << ago;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		free(first), free(flags), free(months);
		patron_sales_free(out);
		return patron_store_fail(s, err, "reading the orders");
	}
	for (size_t id = 1; id < n; id++) {
		unsigned char f = flags[id];
		if (!(f & SEEN))
			continue;
		cur->new_customers += first[id] >= cur->start;
		prev->new_customers += first[id] >= prev->start && first[id] < cur->start;
		cur->buyers += !!(f & BOUGHT_CUR);
		cur->returning += (f & BOUGHT_CUR) && first[id] < cur->start;
		prev->buyers += !!(f & BOUGHT_PREV);
		prev->returning += (f & BOUGHT_PREV) && first[id] < prev->start;
		cur->active += !!(f & ACTIVE_END);
		cur->active_before += !!(f & ACTIVE_MID);
		cur->retained += (f & ACTIVE_MID) && (f & ACTIVE_END);
		prev->active += !!(f & ACTIVE_MID);
		prev->active_before += !!(f & ACTIVE_START);
		prev->retained += (f & ACTIVE_START) && (f & ACTIVE_MID);
		int64_t ago = out->month - month_of(first[id]);
		if (ago < 0 || ago >= PATRON_COHORTS)
			continue;
		size_t row = PATRON_COHORTS - 1 - (size_t)ago;
		out->cohort_size[row]++;
		for (int64_t j = 0; j <= ago; j++)
			out->cohort[row][j] += (months[id] >> (ago - j)) & 1;
	}
	free(first), free(flags), free(months);
	rates(cur);
	rates(prev);
	if (scores(s, k, err) < 0) {
		patron_sales_free(out);
		return -1;
	}
	return 0;
}

void patron_sales_free(patron_sales *s)
{
	free(s->revenue), free(s->orders), free(s->cents), free(s->last);
	s->revenue = s->orders = NULL;
	s->cents = s->last = NULL;
}

int patron_kpis_compute(patron_store *s, int64_t now, int days, double threshold,
			patron_kpis *k, patron_err *err)
{
	patron_sales sales;
	if (patron_sales_read(s, now, days, 0, threshold, &sales, err) < 0)
		return -1;
	*k = sales.k;
	patron_sales_free(&sales);
	return 0;
}

static json_t *real_or_null(double v) { return isnan(v) ? json_null() : json_real(v); }

static json_t *period_json(const patron_kpi_period *p)
{
	char a[32], b[32];
	json_t *o = json_object();
	/* after (not included) and until (included) */
	json_object_set_new(o, "after", json_string(patron_format_date(p->start - 1, a)));
	json_object_set_new(o, "until", json_string(patron_format_date(p->end - 1, b)));
	json_object_set_new(o, "revenue_cents", json_integer(p->revenue_cents));
	json_object_set_new(o, "orders", json_integer(p->orders));
	json_object_set_new(o, "average_order_value", real_or_null(p->aov));
	json_object_set_new(o, "active_customers", json_integer(p->active));
	json_object_set_new(o, "new_customers", json_integer(p->new_customers));
	json_object_set_new(o, "buyers", json_integer(p->buyers));
	json_object_set_new(o, "returning_buyers", json_integer(p->returning));
	json_object_set_new(o, "repeat_rate", real_or_null(p->repeat_rate));
	json_object_set_new(o, "active_at_start", json_integer(p->active_before));
	json_object_set_new(o, "retained", json_integer(p->retained));
	json_object_set_new(o, "retention_rate", real_or_null(p->retention));
	json_object_set_new(o, "churn_rate", real_or_null(p->churn_rate));
	return o;
}

json_t *patron_kpis_json(const patron_kpis *k)
{
	json_t *o = json_object();
	json_object_set_new(o, "period_days", json_integer(k->days));
	json_object_set_new(o, "current", period_json(&k->cur));
	json_object_set_new(o, "previous", period_json(&k->prev));
	json_object_set_new(o, "churn_scored", json_integer(k->scored));
	json_object_set_new(o, "at_risk", k->scored ? json_integer(k->at_risk) : json_null());
	json_object_set_new(o, "at_risk_threshold", json_real(k->threshold));
	json_object_set_new(o, "clv_scored", json_integer(k->clv_scored));
	json_object_set_new(o, "clv_total", k->clv_scored ? json_real(k->clv_total) : json_null());
	return o;
}
