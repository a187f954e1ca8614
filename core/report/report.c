#include "report.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../config.h"
#include "../strmap.h"
#include "../value.h"
#include "kpi.h"
#include "svg.h"

#define DAY 86400
#define COHORTS PATRON_COHORTS	/* acquisition months shown, and months after */
#define TOP_AT_RISK 20

/* One segment's profile, summed over its customers. */
typedef struct {
	char *label;
	char *by;	/* its segmentation: "rfm", "kmeans" */
	int first;	/* of the first segmentation (stored as "segment") */
	int64_t n, buyers, clv_n;
	double cents, days, clv;
} segment;

#define MAX_SEGMENTATIONS 16

typedef struct {
	patron_store *s;
	const patron_report_opts *o;
	patron_buf *b;
	patron_err *err;
	patron_kpis k;
	/* from one pass over the scores */
	double grid[25];	/* customers by RFM (R 5..1) x (F 1..5) */
	int has_rfm, has_churn, segmentations;
	double churn_bins[20];
	segment *segs;
	size_t nsegs;
} report;

static sqlite3_stmt *prepare(report *r, const char *sql)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(patron_store_db(r->s), sql, -1, &st, NULL) != SQLITE_OK) {
		patron_store_fail(r->s, r->err, "reading the store for the report");
		return NULL;
	}
	return st;
}

static int finish(report *r, sqlite3_stmt *st, int rc)
{
	if (rc != SQLITE_DONE) {
		sqlite3_finalize(st);
		return patron_store_fail(r->s, r->err, "reading the store for the report");
	}
	sqlite3_finalize(st);
	return 0;
}

static void text(report *r, const char *s) { patron_xml_text(r->b, s); }

/* 1234567.8 as "1,234,567.80". */
static void money_text(double units, char *buf, size_t cap)
{
	char raw[64];
	snprintf(raw, sizeof raw, "%.2f", fabs(units));
	size_t digits = strcspn(raw, ".");
	size_t o = 0;
	if (units < 0 && o + 1 < cap)
		buf[o++] = '-';
	for (size_t i = 0; raw[i] && o + 1 < cap; i++) {
		if (i && i < digits && (digits - i) % 3 == 0)
			buf[o++] = ',';
		if (o + 1 < cap)
			buf[o++] = raw[i];
	}
	buf[o] = 0;
}

static void count_text(double n, char *buf, size_t cap)
{
	money_text(n, buf, cap);
	buf[strcspn(buf, ".")] = 0;
}

static void note(report *r, const char *why)
{
	patron_buf_adds(r->b, "<p class=\"none\">");
	text(r, why);
	patron_buf_adds(r->b, "</p>");
}

/* ---- headline figures ---- */

typedef enum { F_MONEY, F_COUNT, F_RATE, F_AVG } figure;

static void card(report *r, const char *id, const char *label, double now, double before,
		 figure f, int lower_is_better, const char *aside)
{
	char v[64] = "-", p[64] = "-", raw[64] = "";
	if (!isnan(now)) {
		if (f == F_MONEY || f == F_AVG)
			money_text(now, v, sizeof v);
		else if (f == F_COUNT)
			count_text(now, v, sizeof v);
		else
			snprintf(v, sizeof v, "%.1f%%", 100 * now);
		snprintf(raw, sizeof raw, "%.15g", now);
	}
	if (!isnan(before)) {
		if (f == F_MONEY || f == F_AVG)
			money_text(before, p, sizeof p);
		else if (f == F_COUNT)
			count_text(before, p, sizeof p);
		else
			snprintf(p, sizeof p, "%.1f%%", 100 * before);
	}
	patron_buf_printf(r->b, "<div class=\"card\"><div class=\"label\">%s</div>"
			  "<div class=\"value\" id=\"kpi-%s\" data-value=\"%s\">", label, id, raw);
	text(r, v);
	if ((f == F_MONEY || f == F_AVG) && *r->o->currency && !isnan(now)) {
		patron_buf_adds(r->b, " <span class=\"unit\">");
		text(r, r->o->currency);
		patron_buf_adds(r->b, "</span>");
	}
	patron_buf_adds(r->b, "</div>");
	if (aside) {
		patron_buf_adds(r->b, "<div class=\"delta\">");
		text(r, aside);
		patron_buf_adds(r->b, "</div>");
	} else if (!isnan(now) && !isnan(before)) {
		/* The arrow and the sign say the direction; colour only repeats it. */
		double d = f == F_RATE ? 100 * (now - before) : before ? 100 * (now - before) /
							fabs(before) : NAN;
		const char *cls = isnan(d) || fabs(d) < 0.05 ? "flat" :
				  (d > 0) != lower_is_better ? "good" : "bad";
		char delta[64];
		if (isnan(d))
			snprintf(delta, sizeof delta, "new");
		else if (fabs(d) < 0.05)
			snprintf(delta, sizeof delta, "= no change");
		else
			snprintf(delta, sizeof delta, "%s %+.1f%s", d > 0 ? "\u25b2" : d < 0 ?
				 "\u25bc" : "=", d, f == F_RATE ? " pts" : "%");
		patron_buf_printf(r->b, "<div class=\"delta %s\">%s vs %s</div>", cls, delta, p);
	}
	patron_buf_adds(r->b, "</div>");
}

static int section_kpis(report *r)
{
	const patron_kpi_period *c = &r->k.cur, *p = &r->k.prev;
	char a[32], z[32];
	patron_buf_printf(r->b, "<section id=\"kpis\"><h2>How the business is doing</h2>"
			  "<p class=\"sub\">The %d days up to %s, against the %d days before."
			  "</p><div class=\"cards\">", r->o->days,
			  patron_format_date(c->end - 1, z), r->o->days);
	(void)a;
	card(r, "revenue", "Revenue", (double)c->revenue_cents / 100, (double)p->revenue_cents / 100,
	     F_MONEY, 0, NULL);
	card(r, "orders", "Orders", (double)c->orders, (double)p->orders, F_COUNT, 0, NULL);
	card(r, "aov", "Average order", c->aov, p->aov, F_AVG, 0, NULL);
	card(r, "active", "Active customers", (double)c->active, (double)p->active, F_COUNT, 0,
	     NULL);
	card(r, "new", "New customers", (double)c->new_customers, (double)p->new_customers,
	     F_COUNT, 0, NULL);
	card(r, "repeat", "Repeat-purchase rate", c->repeat_rate, p->repeat_rate, F_RATE, 0, NULL);
	card(r, "retention", "Retention", c->retention, p->retention, F_RATE, 0, NULL);
	card(r, "churn-rate", "Churn rate", c->churn_rate, p->churn_rate, F_RATE, 1, NULL);
	char aside[128];
	snprintf(aside, sizeof aside, "churn risk %.0f%% or more, of %lld scored",
		 100 * r->k.threshold, (long long)r->k.scored);
	card(r, "at-risk", "Customers at risk", r->k.scored ? (double)r->k.at_risk : NAN, NAN,
	     F_COUNT, 1, r->k.scored ? aside : "no churn scores yet");
	snprintf(aside, sizeof aside, "over %lld customers", (long long)r->k.clv_scored);
	card(r, "clv", "Predicted CLV", r->k.clv_scored ? r->k.clv_total : NAN, NAN, F_MONEY, 0,
	     r->k.clv_scored ? aside : "no CLV model yet");
	patron_buf_adds(r->b, "</div><p class=\"fine\">Active: an order in the last 365 days. "
			"Repeat rate: buyers of the period who had ordered before. Retention: "
			"customers active at the start of the period still active at its end; "
			"the churn rate is the rest. Paid orders, refunds taken off, guests' orders "
			"in revenue.</p></section>");
	return 0;
}

/* ---- sales ---- */

size_t patron_report_periods(int days) { return days >= 28 ? 24 : 26; }

static int section_sales(report *r)
{
	size_t n = patron_report_periods(r->o->days);
	const patron_report_forecast *fc = r->o->forecast;
	size_t h = fc ? fc->horizon : 0, all = n + h;
	double *rev = calloc(all, sizeof *rev), *ord = calloc(all, sizeof *ord);
	double *frev = malloc(all * 6 * sizeof *frev);
	char (*labels)[32] = calloc(all, sizeof *labels);
	const char **lp = calloc(all, sizeof *lp);
	int rc = -1;
	if (!rev || !ord || !frev || !labels || !lp) {
		patron_err_set(r->err, "out of memory");
		goto out;
	}
	const patron_sales *sa = r->o->sales;
	if (sa->nperiods < n) {
		patron_err_set(r->err, "the report needs %zu periods of sales, got %zu", n,
			       sa->nperiods);
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		rev[i] = sa->revenue[sa->nperiods - n + i];
		ord[i] = sa->orders[sa->nperiods - n + i];
	}
	patron_buf_adds(r->b, "<section id=\"sales\"><h2>Sales</h2>");
	/* From the first period with an order: a new shop is not a long zero. */
	size_t first = 0;
	while (first < n && !ord[first])
		first++;
	if (first == n) {
		note(r, "No paid orders in this time yet: import the shop's orders (patron import "
		     "orders FILE.csv).");
		patron_buf_adds(r->b, "</section>");
		rc = 0;
		goto out;
	}
	int64_t start, end;
	patron_kpi_bounds(r->o->now, r->o->days, &start, &end);
	for (size_t i = 0; i < all; i++) {
		/* each point is the period that ends on its label's day */
		int64_t t = end - 1 - ((int64_t)n - 1 - (int64_t)i) * r->o->days * DAY;
		char d[32];
		patron_format_day(t, d);
		snprintf(labels[i], sizeof labels[i], "%s", d);
		lp[i] = labels[i];
		if (i >= n)
			rev[i] = ord[i] = NAN;
	}
	double *rf = frev, *rlo = frev + all, *rhi = frev + 2 * all;
	double *of = frev + 3 * all, *olo = frev + 4 * all, *ohi = frev + 5 * all;
	for (size_t i = 0; i < all; i++)
		rf[i] = rlo[i] = rhi[i] = of[i] = olo[i] = ohi[i] = NAN;
	if (fc) {
		/* the forecast starts from the last actual point, so the lines join */
		rf[n - 1] = rlo[n - 1] = rhi[n - 1] = rev[n - 1];
		of[n - 1] = olo[n - 1] = ohi[n - 1] = ord[n - 1];
		for (size_t i = 0; i < h; i++) {
			rf[n + i] = fc->revenue[i], rlo[n + i] = fc->revenue_lo[i];
			rhi[n + i] = fc->revenue_hi[i];
			of[n + i] = fc->orders[i], olo[n + i] = fc->orders_lo[i];
			ohi[n + i] = fc->orders_hi[i];
		}
	}
	char unit[48], fname[96];
	snprintf(unit, sizeof unit, "revenue%s%s", *r->o->currency ? ", " : "", r->o->currency);
	snprintf(fname, sizeof fname, "forecast (%.0f%% interval)", fc ? 100 * fc->level : 0);
	patron_svg_series rs[2] = {{"revenue", rev + first, NULL, NULL, 0},
				   {fname, rf + first, rlo + first, rhi + first, 1}};
	patron_svg_series os[2] = {{"paid orders", ord + first, NULL, NULL, 0},
				   {fname, of + first, olo + first, ohi + first, 1}};
	char title[96];
	snprintf(title, sizeof title, "Revenue per %s", r->o->days == 7 ? "week" : "30 days");
	patron_svg_lines(r->b, title, lp + first, all - first, rs, fc ? 2 : 1, unit);
	snprintf(title, sizeof title, "Orders per %s", r->o->days == 7 ? "week" : "30 days");
	patron_svg_lines(r->b, title, lp + first, all - first, os, fc ? 2 : 1, "orders");
	if (fc) {
		patron_buf_adds(r->b, "<p class=\"fine\">Forecast: ");
		text(r, fc->method);
		patron_buf_printf(r->b, ", %zu periods ahead; the band holds the next values "
				  "with a probability of about %.0f%%.</p>", h, 100 * fc->level);
	} else if (r->o->forecast_note) {
		note(r, r->o->forecast_note);
	}
	patron_buf_adds(r->b, "</section>");
	rc = 0;
out:
	free(rev), free(ord), free(frev), free(labels), free(lp);
	return rc;
}

/* ---- cohorts ---- */

static int section_cohorts(report *r)
{
	const patron_sales *sa = r->o->sales;
	int64_t last = sa->month;
	double counts[COHORTS][COHORTS], size[COHORTS];
	int any = 0;
	for (int i = 0; i < COHORTS; i++) {
		size[i] = (double)sa->cohort_size[i];
		any |= sa->cohort_size[i] > 0;
		for (int j = 0; j < COHORTS; j++)
			counts[i][j] = (double)sa->cohort[i][j];
	}
	patron_buf_adds(r->b, "<section id=\"cohorts\"><h2>Do new customers come back?</h2>");
	if (!any) {
		note(r, "No customer has a first order in the last twelve months yet.");
		patron_buf_adds(r->b, "</section>");
		return 0;
	}
	/* Month 0 is every cohort's own month (100% by definition): the
	 * columns start at month 1, so the shading compares what varies. */
	enum { AFTER = COHORTS - 1 };
	double v[COHORTS * AFTER];
	char rl[COHORTS][32], cl[AFTER][16];
	const char *rlp[COHORTS], *clp[AFTER];
	for (int i = 0; i < COHORTS; i++) {
		int64_t month = last - COHORTS + 1 + i;
		snprintf(rl[i], sizeof rl[i], "%04lld-%02lld (%.0f)", (long long)(month / 12),
			 (long long)(month % 12 + 1), size[i]);
		rlp[i] = rl[i];
		for (int j = 1; j < COHORTS; j++)
			/* months that have not happened yet stay blank */
			v[i * AFTER + j - 1] = i + j >= COHORTS || !size[i] ? NAN :
					       isnan(counts[i][j]) ? 0 : 100 * counts[i][j] / size[i];
	}
	for (int j = 0; j < AFTER; j++) {
		snprintf(cl[j], sizeof cl[j], "+%d", j + 1);
		clp[j] = cl[j];
	}
	patron_svg_heatmap(r->b, "Share of each month's new customers who ordered again",
			   v, COHORTS, AFTER, rlp, clp, "%.0f%%", "first order",
			   "months after the first order");
	patron_buf_adds(r->b, "<p class=\"fine\">Each row is the customers whose first paid "
			"order fell in that month (how many, in brackets); each column, the share "
			"of them who ordered in the month that many months later.</p></section>");
	return 0;
}

/* ---- segments ---- */

/* The scores the report draws, in one pass over them: the RFM grid, each
 * segment's profile (with the spend and recency of the orders' pass) and
 * the churn risks. */
static int read_scores(report *r)
{
	const patron_sales *sa = r->o->sales;
	sqlite3_stmt *st = prepare(r, "SELECT customer_id, name, value, label, model FROM scores"
				   " WHERE name IN ('segment', 'clv', 'churn', 'rfm.r', 'rfm.f')"
				   " OR name GLOB 'segment.*' ORDER BY customer_id");
	if (!st)
		return -1;
	patron_strmap index = {0}, bys = {0};
	int64_t today = patron_day_number(r->o->now);
	int64_t cid = -1, segs[MAX_SEGMENTATIONS], R = 0, F = 0;
	int nseg = 0;
	double clv = NAN;
	int rc;
	/* A customer's rows arrive together (the table is keyed by customer):
	 * each is settled when the next customer's first row comes. */
	for (;;) {
		rc = sqlite3_step(st);
		int64_t id = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -2;
		if (id != cid && cid >= 0) {
			if (R >= 1 && R <= 5 && F >= 1 && F <= 5) {
				r->grid[(5 - R) * 5 + (F - 1)]++;
				r->has_rfm = 1;
			}
			for (int k = 0; k < nseg; k++) {
				segment *g = &r->segs[segs[k]];
				g->n++;
				if (cid <= sa->max_id && sa->cents[cid]) {
					g->cents += (double)sa->cents[cid];
					g->days += (double)(today - patron_day_number(sa->last[cid]));
					g->buyers++;
				}
				if (!isnan(clv))
					g->clv += clv, g->clv_n++;
			}
			nseg = 0, R = F = 0, clv = NAN;
		}
		if (rc != SQLITE_ROW)
			break;
		cid = id;
		const char *name = (const char *)sqlite3_column_text(st, 1);
		double v = sqlite3_column_double(st, 2);
		if (strncmp(name, "segment", 7) == 0 && (!name[7] || name[7] == '.')) {
			const char *label = (const char *)sqlite3_column_text(st, 3);
			const char *model = (const char *)sqlite3_column_text(st, 4);
			if (!label || nseg == MAX_SEGMENTATIONS)
				continue;
			/* the segmentation's name: its plugin's for the first */
			char by[128], key[400];
			int first = !name[7];
			if (first)
				snprintf(by, sizeof by, "%.*s", (int)strcspn(model + 8, " "),
					 strncmp(model, "segment.", 8) == 0 ? model + 8 : model);
			else
				snprintf(by, sizeof by, "%s", name + 8);
			snprintf(key, sizeof key, "%s\x1f%s", by, label);
			int64_t seg, known;
			if (!patron_strmap_get(&bys, by, &known))
				patron_strmap_put(&bys, by, r->segmentations++);
			if (!patron_strmap_get(&index, key, &seg)) {
				seg = (int64_t)r->nsegs;
				patron_strmap_put(&index, key, seg);
				r->segs = patron_xrealloc(r->segs, (r->nsegs + 1) * sizeof *r->segs);
				r->segs[r->nsegs++] = (segment){.label = patron_xstrdup(label),
								.by = patron_xstrdup(by),
								.first = first};
			}
			segs[nseg++] = seg;
		} else if (strcmp(name, "clv") == 0) {
			if (sqlite3_column_type(st, 2) != SQLITE_NULL)
				clv = v;
		} else if (strcmp(name, "churn") == 0) {
			if (sqlite3_column_type(st, 2) != SQLITE_NULL && v >= 0 && v <= 1) {
				r->churn_bins[v >= 1 ? 19 : (int)(v * 20)]++;
				r->has_churn = 1;
			}
		} else if (strcmp(name, "rfm.r") == 0) {
			R = (int64_t)v;
		} else {
			F = (int64_t)v;
		}
	}
	patron_strmap_free(&index);
	patron_strmap_free(&bys);
	return finish(r, st, rc);
}

static void free_segments(report *r)
{
	for (size_t i = 0; i < r->nsegs; i++)
		free(r->segs[i].label), free(r->segs[i].by);
	free(r->segs);
	r->segs = NULL;
	r->nsegs = 0;
}

/* The first segmentation first, the others by name; in each, the largest
 * segment first. */
static int by_segment_size(const void *a, const void *b)
{
	const segment *x = a, *y = b;
	if (x->first != y->first)
		return y->first - x->first;
	int c = strcmp(x->by, y->by);
	if (c)
		return c;
	if (x->n != y->n)
		return x->n < y->n ? 1 : -1;
	return strcmp(x->label, y->label);
}

static int section_segments(report *r)
{
	patron_buf_adds(r->b, "<section id=\"segments\"><h2>Segments</h2>");
	int any = r->has_rfm;
	double *grid = r->grid;
	if (any) {
		const char *rows[] = {"R 5 (recent)", "R 4", "R 3", "R 2", "R 1 (long ago)"};
		const char *cols[] = {"F 1", "F 2", "F 3", "F 4", "F 5"};
		patron_svg_heatmap(r->b, "Customers by recency (R) and frequency (F) score", grid, 5,
				   5, rows, cols, "%.0f", "recency", "frequency: 1 rarely, 5 often");
	} else {
		note(r, "No RFM scores yet: patron score with segment = \"rfm\" (the default).");
	}
	if (r->nsegs)
		qsort(r->segs, r->nsegs, sizeof *r->segs, by_segment_size);
	/* a table per segmentation, headed by its name when there are several */
	for (size_t i = 0; i < r->nsegs; i++) {
		const segment *g = &r->segs[i];
		if (!i || strcmp(g->by, r->segs[i - 1].by) != 0) {
			if (i)
				patron_buf_adds(r->b, "</tbody></table>");
			if (r->segmentations > 1) {
				patron_buf_adds(r->b, "<h3>By ");
				text(r, g->by);
				patron_buf_adds(r->b, g->first ? " (c.segment)</h3>" : "</h3>");
			}
			patron_buf_adds(r->b, "<table class=\"segment-table\" data-by=\"");
			text(r, g->by);
			patron_buf_adds(r->b, "\"><thead><tr><th>segment</th><th>customers</th>"
					"<th>average spent</th><th>days since last order (average)"
					"</th><th>predicted CLV</th></tr></thead><tbody>");
		}
		char n[32], spend[64], clv[64] = "-", days[32] = "-";
		count_text((double)g->n, n, sizeof n);
		money_text(g->cents / 100.0 / (double)g->n, spend, sizeof spend);
		if (g->buyers)
			snprintf(days, sizeof days, "%.0f", g->days / (double)g->buyers);
		if (g->clv_n)
			money_text(g->clv, clv, sizeof clv);
		patron_buf_adds(r->b, "<tr><td>");
		text(r, g->label);
		patron_buf_printf(r->b, "</td><td class=\"num\">%s</td><td class=\"num\">%s</td>"
				  "<td class=\"num\">%s</td><td class=\"num\">%s</td></tr>", n, spend,
				  days, clv);
	}
	if (r->nsegs)
		patron_buf_adds(r->b, "</tbody></table>");
	else
		note(r, "No segments yet: patron score assigns them.");
	patron_buf_adds(r->b, "</section>");
	return 0;
}

/* ---- churn ---- */

static int section_churn(report *r)
{
	patron_buf_adds(r->b, "<section id=\"churn\"><h2>Who may be slipping away</h2>");
	int any = r->has_churn;
	const double *bins = r->churn_bins;
	if (!any) {
		note(r, "No churn scores yet: patron train churn, then patron score.");
		patron_buf_adds(r->b, "</section>");
		return 0;
	}
	char mark[64];
	snprintf(mark, sizeof mark, "alert at %.0f%%", 100 * r->k.threshold);
	patron_svg_histogram(r->b, "Customers by churn risk", bins, 20, 0, 1, r->k.threshold, mark,
			     "churn risk (0 stays, 1 leaves)");
	sqlite3_stmt *st = prepare(r, "SELECT c.id, CASE WHEN c.first_name IS NOT NULL AND c.last_name IS NOT"
		     " NULL THEN c.first_name || ' ' || c.last_name ELSE coalesce(c.first_name,"
		     " c.last_name, (SELECT value FROM identities WHERE customer_id = c.id AND kind"
		     " = 'email' ORDER BY value LIMIT 1), 'customer ' || c.id) END,"
		     " ch.value, v.value, coalesce(o.cents, 0), o.last,"
		     " (SELECT label FROM scores WHERE customer_id = c.id AND name = 'segment'),"
		     " (SELECT label FROM scores WHERE customer_id = c.id AND name = 'churn_reasons')"
		     " FROM scores ch JOIN customers c ON c.id = ch.customer_id"
		     " LEFT JOIN scores v ON v.customer_id = c.id AND v.name = 'clv'"
		     " LEFT JOIN (SELECT customer_id, sum(total_cents) AS cents, max(placed_at)"
		     "  AS last FROM orders WHERE revenue GROUP BY customer_id) o"
		     "  ON o.customer_id = c.id"
		     " WHERE ch.name = 'churn' AND ch.value >= ?1"
		     " ORDER BY coalesce(v.value, coalesce(o.cents, 0) / 100.0) DESC, c.id LIMIT ?2");
	if (!st)
		return -1;
	sqlite3_bind_double(st, 1, r->k.threshold);
	sqlite3_bind_int(st, 2, TOP_AT_RISK);
	int rc, shown = 0;
	int64_t today = patron_day_number(r->o->now);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (!shown++)
			patron_buf_printf(r->b, "<h3>The %d at-risk customers worth the most</h3>"
					  "<table id=\"at-risk\"><thead><tr><th>customer</th>"
					  "<th>segment</th><th>churn risk</th><th>predicted CLV</th>"
					  "<th>spent</th><th>last order</th><th>why</th></tr></thead>"
					  "<tbody>", TOP_AT_RISK);
		char clv[64] = "-", spent[64], days[48] = "never";
		if (sqlite3_column_type(st, 3) != SQLITE_NULL)
			money_text(sqlite3_column_double(st, 3), clv, sizeof clv);
		money_text((double)sqlite3_column_int64(st, 4) / 100, spent, sizeof spent);
		if (sqlite3_column_type(st, 5) != SQLITE_NULL)
			snprintf(days, sizeof days, "%lld days ago", (long long)(today -
				 patron_day_number(sqlite3_column_int64(st, 5))));
		patron_buf_printf(r->b, "<tr data-customer=\"%lld\"><td>",
				  (long long)sqlite3_column_int64(st, 0));
		text(r, (const char *)sqlite3_column_text(st, 1));
		patron_buf_adds(r->b, "</td><td>");
		text(r, sqlite3_column_text(st, 6) ? (const char *)sqlite3_column_text(st, 6) : "-");
		patron_buf_printf(r->b, "</td><td class=\"num\">%.0f%%</td><td class=\"num\">%s</td>"
				  "<td class=\"num\">%s</td><td>%s</td><td class=\"why\">",
				  100 * sqlite3_column_double(st, 2), clv, spent, days);
		text(r, sqlite3_column_text(st, 7) ? (const char *)sqlite3_column_text(st, 7) : "");
		patron_buf_adds(r->b, "</td></tr>");
	}
	if (finish(r, st, rc) < 0)
		return -1;
	if (shown)
		patron_buf_adds(r->b, "</tbody></table><p class=\"fine\">The whole list: patron "
				"customers --where 'c.churn and c.churn &gt;= 0.7' --sort value*risk "
				"--csv</p>");
	else
		note(r, "No customer is at or over the alert threshold.");
	patron_buf_adds(r->b, "</section>");
	return 0;
}

/* ---- campaigns ---- */

static int section_campaigns(report *r)
{
	patron_buf_adds(r->b, "<section id=\"campaigns\"><h2>What the messages did</h2>");
	int64_t start, end;
	patron_kpi_bounds(r->o->now, r->o->days, &start, &end);
	/* Every order within the window after a message that went out is
	 * credited to the latest such message, so no order counts twice. */
	sqlite3_stmt *st = prepare(r,
		"WITH credit AS (SELECT (SELECT m.id FROM outbox m WHERE m.customer_id ="
		"  o.customer_id AND m.status = 'sent' AND m.sent_at <= o.placed_at"
		"  AND o.placed_at < m.sent_at + ?1 ORDER BY m.sent_at DESC, m.id DESC LIMIT 1)"
		"  AS message, o.total_cents FROM orders o WHERE o.revenue AND o.placed_at < ?2"
		"  AND o.customer_id IN (SELECT customer_id FROM outbox WHERE status = 'sent')),"
		" won AS (SELECT m.rule AS rule, count(*) AS orders, sum(c.total_cents) AS cents"
		"  FROM credit c JOIN outbox m ON m.id = c.message GROUP BY 1),"
		/* opens and clicks come back through patron serve */
		" opened AS (SELECT x.rule AS rule, count(*) AS n FROM message_opens mo"
		"  JOIN outbox x ON x.id = mo.outbox_id WHERE mo.at < ?2 GROUP BY 1),"
		" clicked AS (SELECT x.rule AS rule, count(DISTINCT x.id) AS n FROM events e"
		"  JOIN outbox x ON x.id = e.payload ->> 'outbox_id'"
		"  WHERE e.topic = 'message.clicked' AND e.occurred_at < ?2 GROUP BY 1)"
		" SELECT coalesce(b.rule, '(sent by hand)'), count(*),"
		"  count(*) FILTER (WHERE b.status = 'sent'),"
		"  count(*) FILTER (WHERE b.status = 'dead'),"
		"  count(*) FILTER (WHERE b.status IN ('queued', 'sending')),"
		"  coalesce(w.orders, 0), coalesce(w.cents, 0), b.rule,"
		"  coalesce((SELECT n FROM opened WHERE opened.rule IS b.rule), 0),"
		"  coalesce((SELECT n FROM clicked WHERE clicked.rule IS b.rule), 0)"
		" FROM outbox b LEFT JOIN won w ON w.rule IS b.rule"
		" WHERE b.created_at < ?2 GROUP BY b.rule ORDER BY 2 DESC");
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, r->o->window);
	sqlite3_bind_int64(st, 2, end);
	int rc, shown = 0, costed = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (!shown++)
			patron_buf_printf(r->b, "<table id=\"campaign-table\"><thead><tr><th>rule</th>"
					  "<th>messages</th><th>sent</th><th>opened</th><th>clicked"
					  "</th><th>failed</th><th>waiting"
					  "</th><th>orders within %lld days</th><th>revenue</th>"
					  "<th>ROI</th></tr></thead><tbody>",
					  (long long)(r->o->window / DAY));
		int64_t sent = sqlite3_column_int64(st, 2);
		double won = (double)sqlite3_column_int64(st, 6) / 100;
		char revenue[64], roi[32] = "-";
		money_text(won, revenue, sizeof revenue);
		/* What the campaign cost: each message sent, and its own fixed cost. */
		const char *rule = (const char *)sqlite3_column_text(st, 0);
		double fixed = 0, cost = 0;
		if (r->o->config && sqlite3_column_type(st, 7) != SQLITE_NULL)
			patron_config_number(r->o->config, "campaign_costs", rule, &fixed);
		if (!isnan(r->o->cost_per_message))
			cost += r->o->cost_per_message * (double)sent;
		cost += fixed;
		if (cost > 0)
			snprintf(roi, sizeof roi, "%.0f%%", 100 * (won - cost) / cost);
		costed |= cost > 0;
		patron_buf_adds(r->b, "<tr><td>");
		text(r, (const char *)sqlite3_column_text(st, 0));
		patron_buf_printf(r->b, "</td><td class=\"num\">%lld</td><td class=\"num\">%lld</td>"
				  "<td class=\"num\">%lld</td><td class=\"num\">%lld</td>"
				  "<td class=\"num\">%lld</td><td class=\"num\">%lld</td>"
				  "<td class=\"num\">%lld</td><td class=\"num\">%s</td>"
				  "<td class=\"num\">%s</td></tr>",
				  (long long)sqlite3_column_int64(st, 1), (long long)sent,
				  (long long)sqlite3_column_int64(st, 8),
				  (long long)sqlite3_column_int64(st, 9),
				  (long long)sqlite3_column_int64(st, 3),
				  (long long)sqlite3_column_int64(st, 4),
				  (long long)sqlite3_column_int64(st, 5), revenue, roi);
	}
	if (finish(r, st, rc) < 0)
		return -1;
	if (!shown) {
		note(r, "No messages sent yet: rules send them (patron run RULES).");
	} else {
		patron_buf_printf(r->b, "</tbody></table><p class=\"fine\">An order is credited to the "
				  "latest message its customer received in the %lld days before it. "
				  "Opened: messages whose image loaded (through patron serve; some mail "
				  "apps load images by themselves, others never); clicked: messages "
				  "with a link followed.%s</p>",
				  (long long)(r->o->window / DAY), costed ? " ROI: revenue less cost, "
				  "over cost." : " Set attribution = { cost_per_message = 0.01 } or "
				  "campaign_costs = { [\"RULE\"] = 50 } in patron.conf to see the ROI.");
	}
	patron_buf_adds(r->b, "</section>");
	return 0;
}

/* ---- feedback ---- */

static const char *const stop_words[] = {
	"a", "about", "after", "again", "all", "also", "am", "an", "and", "any", "are", "as",
	"at", "be", "been", "but", "by", "can", "could", "did", "do", "does", "for", "from",
	"get", "got", "had", "has", "have", "he", "her", "here", "him", "his", "how", "i",
	"if", "in", "into", "is", "it", "its", "it's", "just", "me", "my", "of", "on", "one",
	"or", "our", "she", "so", "than", "that", "the", "their", "them", "then", "there",
	"they", "this", "to", "too", "us", "was", "we", "were", "what", "when", "which",
	"who", "will", "with", "would", "you", "your", "i'm", "i've", "very", "really", NULL,
};

static int is_stop(const char *w)
{
	for (int i = 0; stop_words[i]; i++)
		if (strcmp(stop_words[i], w) == 0)
			return 1;
	return 0;
}

/* Counts the words and two-word phrases of TEXT that are not stop words
 * into M. Letters are lower-cased (ASCII); other UTF-8 text is kept. */
static void phrases(patron_strmap *m, const char *s)
{
	char prev[64] = "", w[64];
	while (*s) {
		size_t n = 0;
		while (*s && !(isalnum((unsigned char)*s) || (unsigned char)*s >= 0x80)) {
			if (strchr(".,;:!?", *s))
				prev[0] = 0;	/* a phrase does not cross a clause */
			s++;
		}
		while (*s && (isalnum((unsigned char)*s) || (unsigned char)*s >= 0x80 || *s == '\'')) {
			if (n + 1 < sizeof w)
				w[n++] = (char)tolower((unsigned char)*s);
			s++;
		}
		w[n] = 0;
		if (!n)
			break;
		if (is_stop(w) || n < 3) {
			prev[0] = 0;
			continue;
		}
		int64_t c = 0;
		patron_strmap_get(m, w, &c);
		patron_strmap_put(m, w, c + 1);
		if (prev[0]) {
			char two[130];
			snprintf(two, sizeof two, "%s %s", prev, w);
			c = 0;
			patron_strmap_get(m, two, &c);
			patron_strmap_put(m, two, c + 1);
		}
		snprintf(prev, sizeof prev, "%s", w);
	}
}

typedef struct {
	const char *key;
	int64_t n;
} phrase;

static int by_count(const void *a, const void *b)
{
	const phrase *x = a, *y = b;
	/* a phrase of two words first, among equals: it says more */
	if (x->n != y->n)
		return x->n < y->n ? 1 : -1;
	int sx = strchr(x->key, ' ') != NULL, sy = strchr(y->key, ' ') != NULL;
	if (sx != sy)
		return sy - sx;
	return strcmp(x->key, y->key);
}

static void top_phrases(report *r, patron_strmap *m, const char *title)
{
	phrase *p = malloc((m->n ? m->n : 1) * sizeof *p);
	size_t n = 0;
	for (size_t i = 0; p && i < m->cap; i++)
		if (m->keys[i] && m->vals[i] >= 2)
			p[n++] = (phrase){m->keys[i], m->vals[i]};
	if (p)
		qsort(p, n, sizeof *p, by_count);
	patron_buf_adds(r->b, "<div class=\"phrases\"><h3>");
	text(r, title);
	patron_buf_adds(r->b, "</h3>");
	if (!n)
		patron_buf_adds(r->b, "<p class=\"none\">none said twice</p>");
	else
		patron_buf_adds(r->b, "<ol>");
	for (size_t i = 0; i < n && i < 8; i++) {
		patron_buf_adds(r->b, "<li>");
		text(r, p[i].key);
		patron_buf_printf(r->b, " <span class=\"fine\">(%lld)</span></li>", (long long)p[i].n);
	}
	if (n)
		patron_buf_adds(r->b, "</ol>");
	patron_buf_adds(r->b, "</div>");
	free(p);
}

static int section_feedback(report *r)
{
	patron_buf_adds(r->b, "<section id=\"feedback\"><h2>What customers say</h2>");
	int64_t start, end;
	patron_kpi_bounds(r->o->now, r->o->days, &start, &end);
	/* the average rating and sentiment per month, the last twelve */
	sqlite3_stmt *st = prepare(r, "SELECT strftime('%Y-%m', received_at, 'unixepoch'),"
				   " avg(rating), avg(sentiment), count(*) FROM feedback"
				   " WHERE received_at < ?1 AND received_at >= ?1 - 365 * 86400"
				   " GROUP BY 1 ORDER BY 1");
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, end);
	double rating[13], mood[13], cnt[13];
	char months[13][8];
	const char *mp[13];
	size_t n = 0;
	int rc, rated = 0, felt = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && n < 13) {
		snprintf(months[n], sizeof months[n], "%s", (const char *)sqlite3_column_text(st, 0));
		mp[n] = months[n];
		rating[n] = sqlite3_column_type(st, 1) == SQLITE_NULL ? NAN
								      : sqlite3_column_double(st, 1);
		mood[n] = sqlite3_column_type(st, 2) == SQLITE_NULL ? NAN
								    : sqlite3_column_double(st, 2);
		rated |= !isnan(rating[n]);
		felt |= !isnan(mood[n]);
		cnt[n] = (double)sqlite3_column_int64(st, 3);
		n++;
	}
	if (finish(r, st, rc) < 0)
		return -1;
	if (!n) {
		note(r, "No feedback in the last twelve months: import it with patron import "
		     "feedback FILE.csv (customer, date, rating, text).");
		patron_buf_adds(r->b, "</section>");
		return 0;
	}
	if (felt) {
		patron_svg_series s[1] = {{"average sentiment", mood, NULL, NULL, 0}};
		patron_svg_lines(r->b, "Sentiment per month (-1 negative, 1 positive)", mp, n, s, 1,
				 "sentiment");
	}
	if (rated) {
		patron_svg_series s[1] = {{"average rating", rating, NULL, NULL, 0}};
		patron_svg_lines(r->b, "Average rating per month", mp, n, s, 1, "rating");
	}
	double total = 0;
	for (size_t i = 0; i < n; i++)
		total += cnt[i];
	patron_buf_printf(r->b, "<p class=\"fine\">%.0f comments in the last twelve months.%s</p>",
			  total, felt ? " Sentiment is read from the text by the analyzer "
			  "patron.conf chooses (sentiment = \"lexicon\" unless set)." :
			  " No sentiment yet: patron score reads it from the text.");
	/* What the happy and the unhappy say most: by the rating, else by
	 * the sentiment of the text. */
	st = prepare(r, "SELECT rating, sentiment, body FROM feedback WHERE received_at < ?1 AND"
		     " received_at >= ?1 - 365 * 86400");
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, end);
	patron_strmap good = {0}, bad = {0};
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *body = (const char *)sqlite3_column_text(st, 2);
		int rating = sqlite3_column_int(st, 0);
		double v = sqlite3_column_double(st, 1);
		int has_rating = sqlite3_column_type(st, 0) != SQLITE_NULL;
		int has_mood = sqlite3_column_type(st, 1) != SQLITE_NULL;
		int up = has_rating ? rating >= 4 : has_mood && v >= 0.3;
		int down = has_rating ? rating <= 2 : has_mood && v <= -0.3;
		if (body && up)
			phrases(&good, body);
		else if (body && down)
			phrases(&bad, body);
	}
	if (finish(r, st, rc) < 0) {
		patron_strmap_free(&good);
		patron_strmap_free(&bad);
		return -1;
	}
	patron_buf_adds(r->b, "<div class=\"two\">");
	top_phrases(r, &good, "Said most in good comments (4-5 stars, or a positive text)");
	top_phrases(r, &bad, "Said most in bad comments (1-2 stars, or a negative text)");
	patron_buf_adds(r->b, "</div>");
	patron_strmap_free(&good);
	patron_strmap_free(&bad);
	st = prepare(r, "SELECT received_at, rating, sentiment, body, customer_id FROM feedback"
		     " WHERE received_at < ?1 AND received_at >= ?1 - 90 * 86400"
		     " AND coalesce(sentiment, (rating - 3) / 2.0) < 0"
		     " ORDER BY coalesce(sentiment, (rating - 3) / 2.0), received_at DESC LIMIT 8");
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, end);
	int shown = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (!shown++)
			patron_buf_adds(r->b, "<h3>The most negative comments of the last 90 days</h3>"
					"<table id=\"negative\"><thead><tr><th>date</th><th>rating</th>"
					"<th>sentiment</th><th>customer</th><th>comment</th></tr></thead>"
					"<tbody>");
		char day[32], stars[8] = "-", mood_text[16] = "-";
		if (sqlite3_column_type(st, 1) != SQLITE_NULL)
			snprintf(stars, sizeof stars, "%d", sqlite3_column_int(st, 1));
		if (sqlite3_column_type(st, 2) != SQLITE_NULL)
			snprintf(mood_text, sizeof mood_text, "%+.2f", sqlite3_column_double(st, 2));
		patron_buf_printf(r->b, "<tr><td>%s</td><td class=\"num\">%s</td><td class=\"num\">"
				  "%s</td><td class=\"num\">%lld</td><td>",
				  patron_format_day(sqlite3_column_int64(st, 0), day), stars,
				  mood_text, (long long)sqlite3_column_int64(st, 4));
		text(r, (const char *)sqlite3_column_text(st, 3));
		patron_buf_adds(r->b, "</td></tr>");
	}
	if (finish(r, st, rc) < 0)
		return -1;
	if (shown)
		patron_buf_adds(r->b, "</tbody></table>");
	patron_buf_adds(r->b, "</section>");
	return 0;
}

/* ---- customer service: the inbox and satisfaction ---- */

static int by_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static int section_service(report *r)
{
	patron_buf_adds(r->b, "<section id=\"service\"><h2>Customer service</h2>");
	int64_t start, end;
	patron_kpi_bounds(r->o->now, r->o->days, &start, &end);
	/* the period's tickets and how fast they were first answered */
	sqlite3_stmt *st = prepare(r, "SELECT count(*), sum(status = 'solved'), (SELECT count(*)"
				   " FROM tickets WHERE status = 'open' AND opened_at < ?2), (SELECT"
				   " count(*) FROM tickets WHERE status = 'open' AND priority = 'high'"
				   " AND opened_at < ?2) FROM tickets WHERE opened_at >= ?1 AND"
				   " opened_at < ?2");
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, start);
	sqlite3_bind_int64(st, 2, end);
	int rc = sqlite3_step(st);
	int64_t opened = sqlite3_column_int64(st, 0), solved = sqlite3_column_int64(st, 1);
	int64_t open_now = sqlite3_column_int64(st, 2), high = sqlite3_column_int64(st, 3);
	if (finish(r, st, rc == SQLITE_ROW ? SQLITE_DONE : rc) < 0)
		return -1;
	st = prepare(r, "SELECT (first_response_at - opened_at) / 3600.0 FROM tickets WHERE"
		     " opened_at >= ?1 AND opened_at < ?2 AND first_response_at IS NOT NULL");
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, start);
	sqlite3_bind_int64(st, 2, end);
	double *hours = NULL;
	size_t nh = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		hours = patron_xrealloc(hours, (nh + 1) * sizeof *hours);
		hours[nh++] = sqlite3_column_double(st, 0);
	}
	if (finish(r, st, rc) < 0) {
		free(hours);
		return -1;
	}
	if (opened || open_now) {
		patron_buf_printf(r->b, "<table id=\"tickets\"><tbody><tr><td>questions that came in"
				  "</td><td class=\"num\">%lld</td></tr><tr><td>of them solved</td>"
				  "<td class=\"num\">%lld</td></tr><tr><td>open now (waiting for you)"
				  "</td><td class=\"num\">%lld</td></tr><tr><td>of them high priority"
				  "</td><td class=\"num\">%lld</td></tr>", (long long)opened,
				  (long long)solved, (long long)open_now, (long long)high);
		if (nh) {
			qsort(hours, nh, sizeof *hours, by_double);
			double med = nh % 2 ? hours[nh / 2] : (hours[nh / 2 - 1] + hours[nh / 2]) / 2;
			patron_buf_printf(r->b, "<tr><td>median time to the first answer</td>"
					  "<td class=\"num\">%.1f h</td></tr>", med);
		}
		patron_buf_adds(r->b, "</tbody></table>");
	}
	free(hours);
	/* NPS per month, the last twelve */
	st = prepare(r, "SELECT strftime('%Y-%m', answered_at, 'unixepoch'), count(*),"
		     " sum(score >= 9), sum(score <= 6) FROM survey_answers WHERE kind = 'nps' AND"
		     " answered_at < ?1 AND answered_at >= ?1 - 365 * 86400 GROUP BY 1 ORDER BY 1");
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, end);
	double nps[13];
	char months[13][8];
	const char *mp[13];
	size_t n = 0;
	double answers = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && n < 13) {
		snprintf(months[n], sizeof months[n], "%s", (const char *)sqlite3_column_text(st, 0));
		mp[n] = months[n];
		double k = sqlite3_column_double(st, 1);
		answers += k;
		nps[n++] = 100 * (sqlite3_column_double(st, 2) - sqlite3_column_double(st, 3)) / k;
	}
	if (finish(r, st, rc == SQLITE_ROW ? SQLITE_DONE : rc) < 0)
		return -1;
	if (n) {
		patron_svg_series sr[1] = {{"NPS", nps, NULL, NULL, 0}};
		patron_svg_lines(r->b, "Net Promoter Score per month (promoters 9-10 less "
				 "detractors 0-6, in %)", mp, n, sr, 1, "nps");
		patron_buf_printf(r->b, "<p class=\"fine\">%.0f answers in the last twelve months."
				  "</p>", answers);
	}
	/* the detractors to follow up: their latest answer, of the last 90 days */
	st = prepare(r, "WITH latest AS (SELECT a.*, row_number() OVER (PARTITION BY customer_id"
		     " ORDER BY answered_at DESC, id DESC) AS k FROM survey_answers a WHERE kind ="
		     " 'nps' AND answered_at < ?1 AND answered_at >= ?1 - 90 * 86400)"
		     " SELECT l.answered_at, l.score, l.customer_id, coalesce((SELECT value FROM"
		     " identities WHERE customer_id = l.customer_id AND kind = 'email' ORDER BY value"
		     " LIMIT 1), ''), coalesce(l.comment, '') FROM latest l WHERE k = 1 AND"
		     " score <= 6 ORDER BY score, answered_at DESC LIMIT 20");
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, end);
	int shown = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (!shown++)
			patron_buf_adds(r->b, "<h3>Detractors to follow up (their latest answer 0-6, "
					"the last 90 days)</h3><table id=\"detractors\"><thead><tr>"
					"<th>date</th><th>score</th><th>customer</th><th>email</th>"
					"<th>comment</th></tr></thead><tbody>");
		char day[32];
		patron_buf_printf(r->b, "<tr><td>%s</td><td class=\"num\">%d</td><td class=\"num\">"
				  "%lld</td><td>", patron_format_day(sqlite3_column_int64(st, 0), day),
				  sqlite3_column_int(st, 1), (long long)sqlite3_column_int64(st, 2));
		text(r, (const char *)sqlite3_column_text(st, 3));
		patron_buf_adds(r->b, "</td><td>");
		text(r, (const char *)sqlite3_column_text(st, 4));
		patron_buf_adds(r->b, "</td></tr>");
	}
	if (finish(r, st, rc) < 0)
		return -1;
	if (shown)
		patron_buf_adds(r->b, "</tbody></table>");
	if (!opened && !open_now && !n)
		note(r, "No customer emails or survey answers yet: patron import inbox MAILDIR "
		     "brings the questions in, and a rule sending vars = { survey = \"nps\" } asks "
		     "for a score.");
	patron_buf_adds(r->b, "</section>");
	return 0;
}

/* ---- the page ---- */

static const char *const style =
	"body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#222;"
	"max-width:780px;margin:24px auto;padding:0 16px;line-height:1.4}"
	"h1{font-size:24px;margin:0}h2{font-size:19px;margin:28px 0 8px;border-bottom:1px solid "
	"#ddd;padding-bottom:4px}h3{font-size:15px;margin:16px 0 6px}"
	".sub{color:#555;margin:4px 0 12px}.fine{color:#555;font-size:12px}"
	".none{color:#555;font-style:italic;background:#f6f6f6;padding:10px 12px;border-radius:6px}"
	".cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(170px,1fr));gap:10px}"
	".card{border:1px solid #ddd;border-radius:8px;padding:10px 12px}"
	".card .label{font-size:12px;color:#555}.card .value{font-size:20px;font-weight:600}"
	".card .unit{font-size:12px;color:#555;font-weight:400}"
	".delta{font-size:12px;color:#555}.delta.good{color:#00735a}.delta.bad{color:#b34400}"
	"table{border-collapse:collapse;width:100%;font-size:13px;margin:8px 0}"
	"th,td{text-align:left;padding:4px 6px;border-bottom:1px solid #eee;vertical-align:top}"
	"th{font-weight:600;color:#444}td.num{text-align:right;white-space:nowrap}"
	"td.why{font-size:12px;color:#444}svg.chart{max-width:100%;height:auto;display:block;"
	"margin:8px 0}.two{display:flex;gap:24px;flex-wrap:wrap}.phrases{flex:1;min-width:220px}"
	"@media print{body{margin:0;max-width:none}section{break-inside:avoid}"
	"h2{break-after:avoid}}";

int patron_report_html(patron_store *s, const patron_report_opts *o, patron_buf *out,
		       patron_err *err)
{
	report r = {.s = s, .o = o, .b = out, .err = err, .k = o->sales->k};
	if (read_scores(&r) < 0) {
		free_segments(&r);
		return -1;
	}
	char today[32], made[32];
	patron_format_day(o->now, today);
	patron_buf_adds(out, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"/>"
			"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>"
			"<title>");
	text(&r, o->title);
	patron_buf_printf(out, ": report to %s</title><style>%s</style></head><body><header>"
			  "<h1>", today, style);
	text(&r, o->title);
	patron_buf_printf(out, "</h1><p class=\"sub\">The %s to %s. Made by Patron at %s.</p>"
			  "</header>", o->days == 7 ? "week" : "month", today,
			  patron_format_date(o->now, made));
	int rc = section_kpis(&r) < 0 || section_sales(&r) < 0 || section_cohorts(&r) < 0 ||
		 section_segments(&r) < 0 || section_churn(&r) < 0 ||
		 section_campaigns(&r) < 0 || section_feedback(&r) < 0 || section_service(&r) < 0
		 ? -1 : 0;
	free_segments(&r);
	if (rc < 0)
		return -1;
	patron_buf_adds(out, "<footer class=\"fine\"><p>Money in the shop's base currency, paid "
			"orders less refunds. Periods are whole days in UTC up to and including "
			"the report's day.</p></footer></body></html>\n");
	return 0;
}
