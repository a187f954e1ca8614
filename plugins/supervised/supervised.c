#include "supervised.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/parallel.h"

const patron_design *sup_design(const patron_host *h, patron_ctx *ctx)
{
	const patron_design *d = PATRON_HOST_HAS(h, design) ? h->design(ctx) : NULL;
	if (!d)
		h->fail(ctx, "no training table: this plugin serves the churn job (patron train "
			"churn), with a patron of plugin ABI 1.4 or later");
	return d;
}

int sup_whole(const patron_host *h, patron_ctx *ctx, const char *key, double lo, double hi,
	      size_t *out)
{
	double v = (double)*out;
	if (h->option_number(ctx, key, &v) < 0 || v != floor(v) || v < lo || v > hi) {
		h->fail(ctx, "option %s: expected a whole number from %g to %g", key, lo, hi);
		return -1;
	}
	*out = (size_t)v;
	return 0;
}

size_t sup_train_rows(const patron_design *d, size_t **rows)
{
	size_t n = 0;
	*rows = malloc((d->rows ? d->rows : 1) * sizeof **rows);
	if (!*rows)
		return 0;
	for (size_t r = 0; d->y && r < d->rows; r++)
		if (d->y[r] == 0 || d->y[r] == 1)
			(*rows)[n++] = r;
	return n;
}

/* The value of column NAME in ROW, in its own units; NaN when the design has
 * no such column or the value was missing (its indicator is set). */
static double raw(const patron_design *d, const double *row, const char *name)
{
	char missing[160];
	snprintf(missing, sizeof missing, "%s (missing)", name);
	double v = NAN;
	for (size_t j = 0; j < d->cols; j++) {
		if (strcmp(d->names[j], missing) == 0 && row[j] > 0.5)
			return NAN;
		if (strcmp(d->names[j], name) == 0)
			v = row[j] * d->sd[j] + d->mean[j];
	}
	return v;
}

/* The snapshot's own columns, said as an owner would say them. */
static int plain(const patron_design *d, const double *row, const char *name, double v,
		 char *out, size_t cap)
{
	double n = round(v) + 0.0;	/* never "-0" */
	if (strcmp(name, "recency_days") == 0) {
		double usual = raw(d, row, "mean_gap_days");
		if (!isnan(usual) && usual >= 1)
			snprintf(out, cap, "no order for %.0f days, usually every %.0f", n,
				 round(usual));
		else
			snprintf(out, cap, "no order for %.0f days", n);
	} else if (strcmp(name, "frequency") == 0) {
		snprintf(out, cap, "%.0f order%s in all", n, n == 1 ? "" : "s");
	} else if (strcmp(name, "monetary_total") == 0) {
		snprintf(out, cap, "spent %.2f in all", v);
	} else if (strcmp(name, "monetary_mean") == 0) {
		snprintf(out, cap, "%.2f an order", v);
	} else if (strcmp(name, "tenure_days") == 0) {
		snprintf(out, cap, "a customer for %.0f days", n);
	} else if (strcmp(name, "mean_gap_days") == 0) {
		snprintf(out, cap, "orders every %.0f days", n);
	} else if (strncmp(name, "orders_", 7) == 0 && strchr(name + 7, 'd')) {
		snprintf(out, cap, "%.0f order%s in the last %.*s days", n, n == 1 ? "" : "s",
			 (int)(strchr(name + 7, 'd') - name - 7), name + 7);
	} else {
		return 0;
	}
	return 1;
}

void sup_reason(const patron_design *d, size_t c, const double *row, char *out, size_t cap)
{
	double x = row[c];
	const char *name = d->names[c];
	const char *shown = strncmp(name, "attr.", 5) == 0 ? name + 5 : name;
	size_t len = strlen(shown);
	if (len > 10 && strcmp(shown + len - 10, " (missing)") == 0) {
		/* the snapshot leaves these out when there is no second order */
		int gap = len - 10 == 13 && strncmp(shown, "mean_gap_days", 13) == 0;
		int recency = len - 10 == 12 && strncmp(shown, "recency_days", 12) == 0;
		if (gap)
			snprintf(out, cap, "%s", x > 0.5 ? "one order only" : "more than one order");
		else if (recency)
			snprintf(out, cap, "%s", x > 0.5 ? "no order yet" : "has ordered");
		else
			snprintf(out, cap, "%.*s %s", (int)(len - 10), shown, x > 0.5 ? "unknown"
											   : "known");
		return;
	}
	const char *eq = strchr(shown, '=');
	if (eq) {
		snprintf(out, cap, "%.*s is %s%s", (int)(eq - shown), shown, x > 0.5 ? "" : "not ",
			 eq + 1);
		return;
	}
	if (!plain(d, row, name, x * d->sd[c] + d->mean[c], out, cap))
		snprintf(out, cap, "%s=%.4g", shown, x * d->sd[c] + d->mean[c]);
}

/* The reasons of rows part, part + parts, ... into LABELS (NULL: none);
 * FAILED set when out of memory. */
typedef struct {
	const patron_design *d;
	const double *contrib;
	char **labels;
	int failed[2];
} reasons;

static void reasons_part(void *arg, size_t part, size_t parts)
{
	reasons *rs = arg;
	const patron_design *d = rs->d;
	for (size_t r = part; r < d->rows; r += parts) {
		const double *c = rs->contrib + r * d->cols;
		size_t best[SUP_REASONS];
		size_t nb = 0;
		for (size_t j = 0; j < d->cols; j++) {
			size_t at;
			if (!(c[j] > 0))
				continue;
			if (nb < SUP_REASONS)
				at = nb++;
			else if (c[j] > c[best[SUP_REASONS - 1]])
				at = SUP_REASONS - 1;
			else
				continue;
			while (at > 0 && c[j] > c[best[at - 1]]) {
				best[at] = best[at - 1];
				at--;
			}
			best[at] = j;
		}
		char text[3 * 300] = "";
		size_t len = 0;
		for (size_t k = 0; k < nb; k++) {
			char one[280];
			sup_reason(d, best[k], d->x + r * d->cols, one, sizeof one);
			len += (size_t)snprintf(text + len, sizeof text - len, "%s%s", k ? "; " : "", one);
			if (len >= sizeof text)
				break;
		}
		if (nb && !(rs->labels[r] = strdup(text)))
			rs->failed[part] = 1;
	}
}

int sup_write(const patron_host *h, patron_ctx *ctx, const patron_design *d, const double *p,
	      const double *contrib)
{
	if (h->write_scores(ctx, "churn", d->rows, d->customer_ids, p) < 0)
		return -1;
	if (!contrib)
		return 0;
	char **labels = calloc(d->rows ? d->rows : 1, sizeof *labels);
	if (!labels) {
		h->fail(ctx, "out of memory");
		return -1;
	}
	/* A million customers' reasons, worded on both cores. */
	reasons rs = {d, contrib, labels, {0, 0}};
	plugin_parallel(reasons_part, &rs, 2);
	int rc = 0;
	if (rs.failed[0] || rs.failed[1]) {
		h->fail(ctx, "out of memory");
		rc = -1;
	} else {
		rc = h->write_score_labels(ctx, "churn_reasons", d->rows, d->customer_ids,
					   (const char *const *)labels);
	}
	for (size_t r = 0; r < d->rows; r++)
		free(labels[r]);
	free(labels);
	return rc;
}

typedef struct {
	const patron_design *d;
	sup_predict_fn predict;
	const void *model;
	double *p, *contrib;
} scoring;

static void score_rows(void *arg, size_t part, size_t parts)
{
	scoring *sc = arg;
	const patron_design *d = sc->d;
	for (size_t r = part; r < d->rows; r += parts)
		sc->p[r] = sc->predict(sc->model, d->x + r * d->cols, sc->contrib + r * d->cols);
}

int sup_score(const patron_host *h, patron_ctx *ctx, const patron_design *d,
	      sup_predict_fn predict, const void *model)
{
	double *p = malloc((d->rows ? d->rows : 1) * sizeof *p);
	double *contrib = calloc((d->rows ? d->rows : 1) * (d->cols ? d->cols : 1), sizeof *contrib);
	int rc = -1;
	if (!p || !contrib) {
		h->fail(ctx, "out of memory");
	} else {
		scoring sc = {d, predict, model, p, contrib};
		plugin_parallel(score_rows, &sc, 2);
		rc = sup_write(h, ctx, d, p, contrib);
	}
	free(p), free(contrib);
	return rc;
}

json_t *sup_load(const patron_host *h, patron_ctx *ctx, const patron_design *d)
{
	const char *text = h->load_model(ctx);
	json_error_t jerr;
	json_t *j = text ? json_loads(text, 0, &jerr) : NULL;
	if (!j) {
		h->fail(ctx, "no trained model to score with: patron train churn");
		return NULL;
	}
	json_int_t cols = json_integer_value(json_object_get(j, "columns"));
	if (cols != (json_int_t)d->cols) {
		h->fail(ctx, "the model has %lld columns, the table %zu: train it again",
			(long long)cols, d->cols);
		json_decref(j);
		return NULL;
	}
	return j;
}

int sup_save(const patron_host *h, patron_ctx *ctx, const patron_design *d, json_t *params)
{
	json_object_set_new(params, "columns", json_integer((json_int_t)d->cols));
	char *text = json_dumps(params, JSON_COMPACT);
	json_decref(params);
	if (!text) {
		h->fail(ctx, "out of memory");
		return -1;
	}
	int rc = h->save_model(ctx, text);
	free(text);
	return rc;
}

json_t *sup_array(const double *v, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_real(isfinite(v[i]) ? v[i] : 0));
	return a;
}

int sup_doubles(json_t *a, double *v, size_t n)
{
	if (!json_is_array(a) || json_array_size(a) != n)
		return -1;
	for (size_t i = 0; i < n; i++) {
		json_t *x = json_array_get(a, i);
		if (!json_is_number(x))
			return -1;
		v[i] = json_number_value(x);
	}
	return 0;
}
