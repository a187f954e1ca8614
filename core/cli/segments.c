/* patron segments: who is in each segment, as a profile of the group. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../snapshot.h"
#include "cli.h"

typedef struct {
	char *label;
	size_t n, buyers;
	double recency, frequency, spend;	/* sums; recency over buyers only */
} group;

static int by_size(const void *a, const void *b)
{
	const group *x = a, *y = b;
	if (x->n != y->n)
		return x->n < y->n ? 1 : -1;
	return strcmp(x->label, y->label);
}

/* The row of customer ID in the feature matrix (ids ascend), or -1. */
static long row_of(const patron_features *f, int64_t id)
{
	size_t lo = 0, hi = f->rows;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (f->customer_ids[mid] == id)
			return (long)mid;
		if (f->customer_ids[mid] < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

static int run(cli *c, int argc, char **argv)
{
	if (argc > 1)
		return cli_usage(&cmd_segments, "unexpected argument \"%s\"", argv[1]);
	patron_store *s = cli_store(c);
	if (!s)
		return EXIT_FAIL;
	patron_snapshot sn;
	patron_snapshot_init(&sn, s, c->now);
	patron_err err;
	const patron_features *f = patron_snapshot_features(&sn, &err);
	if (!f) {
		patron_snapshot_free(&sn);
		return cli_fail(EXIT_FAIL, "%s", err.msg);
	}
	size_t cr = patron_feature_column(f, "recency_days");
	size_t cf = patron_feature_column(f, "frequency");
	size_t cm = patron_feature_column(f, "monetary_total");
	group *g = NULL;
	size_t ng = 0, total = 0;
	char model[256] = "";
	sqlite3_stmt *st;
	sqlite3_prepare_v2(patron_store_db(s), "SELECT customer_id, label, model FROM scores "
			   "WHERE name = 'segment' ORDER BY label", -1, &st, NULL);
	while (sqlite3_step(st) == SQLITE_ROW) {
		long r = row_of(f, sqlite3_column_int64(st, 0));
		const char *label = (const char *)sqlite3_column_text(st, 1);
		if (r < 0 || !label)
			continue;	/* not a customer as of --now */
		if (!model[0])
			snprintf(model, sizeof model, "%s", sqlite3_column_text(st, 2));
		if (!ng || strcmp(g[ng - 1].label, label) != 0) {
			g = patron_xrealloc(g, (ng + 1) * sizeof *g);
			g[ng++] = (group){.label = patron_xstrdup(label)};
		}
		group *x = &g[ng - 1];
		const double *row = f->x + (size_t)r * f->cols;
		x->n++;
		total++;
		x->frequency += row[cf];
		x->spend += row[cm];
		if (!isnan(row[cr])) {
			x->buyers++;
			x->recency += row[cr];
		}
	}
	sqlite3_finalize(st);
	qsort(g, ng, sizeof *g, by_size);
	json_t *all = c->json ? json_array() : NULL;
	if (!all && ng)
		printf("segments by %s, %zu customers as of --now:\n"
		       "  %-20s %8s %7s %12s %10s %12s\n", model, total, "segment", "customers",
		       "share", "days since", "orders", "spend");
	for (size_t i = 0; i < ng; i++) {
		double share = 100.0 * (double)g[i].n / (double)total;
		double rec = g[i].buyers ? g[i].recency / (double)g[i].buyers : NAN;
		double fr = g[i].frequency / (double)g[i].n, sp = g[i].spend / (double)g[i].n;
		if (all) {
			json_array_append_new(all, json_pack("{s:s, s:I, s:f, s:o, s:f, s:f}",
				"segment", g[i].label, "customers", (json_int_t)g[i].n, "share", share,
				"mean_days_since_last_order", isnan(rec) ? json_null() : json_real(rec),
				"mean_orders", fr, "mean_spend", sp));
		} else {
			char days[32] = "-";
			if (!isnan(rec))
				snprintf(days, sizeof days, "%.0f", rec);
			printf("  %-20s %8zu %6.1f%% %12s %10.1f %12.2f\n", g[i].label, g[i].n, share,
			       days, fr, sp);
		}
		free(g[i].label);
	}
	free(g);
	if (all)
		cli_print_json(all);
	else if (!ng)
		printf("no segments yet: run patron score\n");
	else
		printf("  (days since: the mean over the segment's buyers; orders and spend: the "
		       "mean per customer)\n");
	patron_snapshot_free(&sn);
	return EXIT_OK;
}

const cli_command cmd_segments = {
	"segments", run, "profile each segment: size, share, recency, orders, spend",
	"usage: patron segments [--now DATE] [--json]\n"
	"\n"
	"For each segment the last `patron score` wrote (segment = ... in patron.conf),\n"
	"prints how many customers it has and their share, the mean days since their\n"
	"last paid order, and the mean number of paid orders and money spent, as of --now.\n",
};
