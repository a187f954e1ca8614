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
	double *centroid;	/* sums of the model's columns, when it names them */
} group;

/* The feature columns the segmenting model clustered on, when its newest
 * stored version lists them (segment.kmeans does): their indexes in F, and
 * each column's mean, which stands in for a missing value as in the fit. */
typedef struct {
	size_t n, col[64];
	double mean[64];
} centroid_cols;

static void model_columns(patron_store *s, const char *model, const patron_features *f,
			  centroid_cols *cc)
{
	cc->n = 0;
	char name[256];
	snprintf(name, sizeof name, "%.*s", (int)strcspn(model, " "), model);
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(patron_store_db(s), "SELECT j.value FROM models m, "
			       "json_each(m.params, '$.columns') j WHERE m.name = ?1 AND m.version = "
			       "(SELECT max(version) FROM models WHERE name = ?1) ORDER BY j.key",
			       -1, &st, NULL) != SQLITE_OK)
		return;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	while (sqlite3_step(st) == SQLITE_ROW && cc->n < 64) {
		const char *c = (const char *)sqlite3_column_text(st, 0);
		size_t j = c ? patron_feature_column(f, c) : f->cols;
		if (j == f->cols)
			continue;
		double sum = 0;
		size_t seen = 0;
		for (size_t r = 0; r < f->rows; r++) {
			double v = f->x[r * f->cols + j];
			if (!isnan(v))
				sum += v, seen++;
		}
		cc->mean[cc->n] = seen ? sum / (double)seen : 0;
		cc->col[cc->n++] = j;
	}
	sqlite3_finalize(st);
}

static int by_size(const void *a, const void *b)
{
	const group *x = a, *y = b;
	if (x->n != y->n)
		return x->n < y->n ? 1 : -1;
	return strcmp(x->label, y->label);
}


/* Where segmentation BY is stored: "segment.BY" when a second segmentation,
 * "segment" when BY is the first (its rows' model is segment.BY). 0, or -1
 * with the line printed naming the segmentations there are. */
static int segmentation(patron_store *s, const char *by, char *name, size_t cap)
{
	snprintf(name, cap, "segment");
	if (!by)
		return 0;
	sqlite3_stmt *st;
	sqlite3_prepare_v2(patron_store_db(s), "SELECT name, model FROM scores WHERE name = "
			   "'segment' OR name GLOB 'segment.*' GROUP BY name", -1, &st, NULL);
	patron_buf known = {0};
	int found = 0;
	while (!found && sqlite3_step(st) == SQLITE_ROW) {
		const char *n = (const char *)sqlite3_column_text(st, 0);
		const char *m = (const char *)sqlite3_column_text(st, 1);
		char shown[128];
		if (strcmp(n, "segment") == 0)	/* "segment.rfm 1.0": rfm */
			snprintf(shown, sizeof shown, "%.*s", (int)strcspn(m + 8, " "),
				 strncmp(m, "segment.", 8) == 0 ? m + 8 : m);
		else
			snprintf(shown, sizeof shown, "%s", n + 8);
		if (strcmp(shown, by) == 0) {
			snprintf(name, cap, "%s", n);
			found = 1;
		}
		patron_buf_printf(&known, "%s%s", known.len ? ", " : "", shown);
	}
	sqlite3_finalize(st);
	if (!found)
		cli_fail(EXIT_FAIL, "--by %s: no segmentation %s in the store (%s%s)", by, by,
			 known.len ? "there are: " : "none yet: run patron score",
			 known.len ? known.data : "");
	patron_buf_free(&known);
	return found ? 0 : -1;
}

static int run(cli *c, int argc, char **argv)
{
	const char *by = NULL;
	for (int i = 1; i < argc; i++) {
		const char *v;
		int m = cli_opt_value(argc, argv, &i, "--by", &v);
		if (m < 0)
			return cli_usage(&cmd_segments, "--by needs a segmentation (rfm, kmeans, ...)");
		if (m == 0)
			return cli_usage(&cmd_segments, "unexpected argument \"%s\"", argv[i]);
		by = v;
	}
	patron_store *s = cli_store(c);
	if (!s)
		return EXIT_FAIL;
	char name[160];
	if (segmentation(s, by, name, sizeof name) < 0)
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
	sqlite3_prepare_v2(patron_store_db(s), "SELECT model FROM scores WHERE name = ?1 "
			   "LIMIT 1", -1, &st, NULL);
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		snprintf(model, sizeof model, "%s", sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	centroid_cols cc;
	model_columns(s, model, f, &cc);
	sqlite3_prepare_v2(patron_store_db(s), "SELECT customer_id, label FROM scores "
			   "WHERE name = ?1 ORDER BY label", -1, &st, NULL);
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	while (sqlite3_step(st) == SQLITE_ROW) {
		long r = patron_features_row(f, sqlite3_column_int64(st, 0));
		const char *label = (const char *)sqlite3_column_text(st, 1);
		if (r < 0 || !label)
			continue;	/* not a customer as of --now */
		if (!ng || strcmp(g[ng - 1].label, label) != 0) {
			g = patron_xrealloc(g, (ng + 1) * sizeof *g);
			g[ng++] = (group){.label = patron_xstrdup(label),
					  .centroid = patron_xcalloc(cc.n + 1, sizeof(double))};
		}
		group *x = &g[ng - 1];
		const double *row = f->x + (size_t)r * f->cols;
		for (size_t k = 0; k < cc.n; k++)
			x->centroid[k] += isnan(row[cc.col[k]]) ? cc.mean[k] : row[cc.col[k]];
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
		for (size_t k = 0; k < cc.n; k++)
			g[i].centroid[k] /= (double)g[i].n;
		if (all) {
			json_t *o = json_pack("{s:s, s:I, s:f, s:o, s:f, s:f}",
				"segment", g[i].label, "customers", (json_int_t)g[i].n, "share", share,
				"mean_days_since_last_order", isnan(rec) ? json_null() : json_real(rec),
				"mean_orders", fr, "mean_spend", sp);
			if (cc.n) {
				json_t *c = json_object();
				for (size_t k = 0; k < cc.n; k++)
					json_object_set_new(c, f->names[cc.col[k]],
							    json_real(g[i].centroid[k]));
				json_object_set_new(o, "centroid", c);
			}
			json_array_append_new(all, o);
		} else {
			char days[32] = "-";
			if (!isnan(rec))
				snprintf(days, sizeof days, "%.0f", rec);
			printf("  %-20s %8zu %6.1f%% %12s %10.1f %12.2f\n", g[i].label, g[i].n, share,
			       days, fr, sp);
			for (size_t k = 0; k < cc.n; k++)
				printf("%s%s %.4g%s", k ? ", " : "      centroid: ",
				       f->names[cc.col[k]], g[i].centroid[k], k + 1 == cc.n ? "\n" : "");
		}
		free(g[i].label);
		free(g[i].centroid);
	}
	free(g);
	if (all)
		cli_print_json(all);
	else if (!ng)
		printf("no segments yet: run patron score\n");
	else
		printf("  (days since: the mean over the segment's buyers; orders and spend: the "
		       "mean per customer%s)\n", cc.n ? "; centroid: the mean of each column the "
		       "model clustered on, a missing value counted as the column's mean" : "");
	patron_snapshot_free(&sn);
	return EXIT_OK;
}

const cli_command cmd_segments = {
	"segments", run, "profile each segment: size, share, recency, orders, spend",
	"usage: patron segments [--by NAME] [--now DATE] [--json]\n"
	"\n"
	"For each segment the last `patron score` wrote (segment = ... in patron.conf),\n"
	"prints how many customers it has and their share, the mean days since their\n"
	"last paid order, and the mean number of paid orders and money spent, as of --now.\n"
	"With several segmentations (segment = { \"rfm\", \"kmeans\" }), the first unless\n"
	"--by names another: --by kmeans.\n",
};
