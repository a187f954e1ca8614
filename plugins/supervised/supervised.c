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

void sup_reason(const patron_design *d, size_t c, double x, char *out, size_t cap)
{
	const char *name = d->names[c];
	const char *shown = strncmp(name, "attr.", 5) == 0 ? name + 5 : name;
	size_t len = strlen(shown);
	if (len > 10 && strcmp(shown + len - 10, " (missing)") == 0) {
		snprintf(out, cap, "%.*s %s", (int)(len - 10), shown, x > 0.5 ? "missing" : "known");
		return;
	}
	const char *eq = strchr(shown, '=');
	if (eq) {
		if (x > 0.5)
			snprintf(out, cap, "%s", shown);
		else
			snprintf(out, cap, "%.*s is not %s", (int)(eq - shown), shown, eq + 1);
		return;
	}
	snprintf(out, cap, "%s=%.4g", shown, x * d->sd[c] + d->mean[c]);
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
	int rc = 0;
	for (size_t r = 0; r < d->rows && rc == 0; r++) {
		const double *c = contrib + r * d->cols;
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
			sup_reason(d, best[k], d->x[r * d->cols + best[k]], one, sizeof one);
			len += (size_t)snprintf(text + len, sizeof text - len, "%s%s", k ? "; " : "", one);
			if (len >= sizeof text)
				break;
		}
		if (nb && !(labels[r] = strdup(text)))
			rc = -1;
	}
	if (rc == 0)
		rc = h->write_score_labels(ctx, "churn_reasons", d->rows, d->customer_ids,
					   (const char *const *)labels);
	else
		h->fail(ctx, "out of memory");
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
