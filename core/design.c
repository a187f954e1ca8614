#include "design.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "csv.h"
#include "import.h"
#include "snapshot.h"
#include "value.h"

void design_schema_free(design_schema *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->c[i].name);
	free(s->c);
	free(s->lab.label);
	memset(s, 0, sizeof *s);
}

void design_table_free(design_table *t)
{
	for (size_t i = 0; i < t->d.cols; i++)
		free(t->names[i]);
	free(t->names), free(t->x), free(t->y), free(t->mean), free(t->sd), free(t->ids);
	memset(t, 0, sizeof *t);
}

/* 1, 0, or -1 when TEXT is not a label value. */
static int label_value(const char *text)
{
	static const char *const yes[] = {"yes", "true", "1", "1.0", NULL};
	static const char *const no[] = {"no", "false", "0", "0.0", NULL};
	for (int i = 0; yes[i]; i++)
		if (strcasecmp(text, yes[i]) == 0)
			return 1;
	for (int i = 0; no[i]; i++)
		if (strcasecmp(text, no[i]) == 0)
			return 0;
	return -1;
}


static int attribute_labels(patron_store *st, const char *label, const patron_features *f,
			    double *y, patron_err *err)
{
	sqlite3_stmt *q;
	if (sqlite3_prepare_v2(patron_store_db(st), "SELECT customer_id, value FROM attributes "
			       "WHERE name = ?1 ORDER BY customer_id", -1, &q, NULL) != SQLITE_OK)
		return patron_store_fail(st, err, "reading labels");
	sqlite3_bind_text(q, 1, label, -1, SQLITE_STATIC);
	size_t seen = 0;
	int rc = 0;
	while (sqlite3_step(q) == SQLITE_ROW) {
		int64_t id = sqlite3_column_int64(q, 0);
		const char *v = (const char *)sqlite3_column_text(q, 1);
		long r = patron_features_row(f, id);
		seen++;
		if (r < 0)
			continue;
		int l = label_value(v ? v : "");
		if (l < 0) {
			rc = patron_err_set(err, "label \"%s\" of customer %lld: expected yes/no, "
					    "true/false or 1/0, got \"%s\"", label, (long long)id,
					    v ? v : "");
			break;
		}
		y[r] = l;
	}
	sqlite3_finalize(q);
	if (rc == 0 && !seen)
		rc = patron_err_set(err, "no customer has the attribute \"%s\" to learn from "
				    "(import it with the customers, e.g. a cancelled flag)", label);
	return rc;
}

int design_labels_read(patron_store *st, const design_labels *lab, const patron_features *f,
		       int64_t now, double *y, patron_err *err)
{
	for (size_t r = 0; r < f->rows; r++)
		y[r] = NAN;
	if (lab->label)
		return attribute_labels(st, lab->label, f, y, err);
	/* Derived: F is as of the cutoff; a buyer by then churned when no paid
	 * order came in the horizon after it. */
	int64_t end = lab->cutoff + lab->horizon;
	if (end > now)
		return patron_err_set(err, "the horizon runs to %lld, after --now: those customers' "
				      "labels are not known yet (choose an earlier --cutoff)",
				      (long long)end);
	size_t cf = patron_feature_column(f, "frequency");
	sqlite3_stmt *q;
	if (sqlite3_prepare_v2(patron_store_db(st), "SELECT DISTINCT customer_id FROM orders "
			       "WHERE revenue AND placed_at > ?1 AND placed_at <= ?2", -1, &q,
			       NULL) != SQLITE_OK)
		return patron_store_fail(st, err, "reading orders");
	for (size_t r = 0; r < f->rows; r++)
		if (cf < f->cols && f->x[r * f->cols + cf] > 0)
			y[r] = 1;
	sqlite3_bind_int64(q, 1, lab->cutoff);
	sqlite3_bind_int64(q, 2, end);
	while (sqlite3_step(q) == SQLITE_ROW) {
		long r = patron_features_row(f, sqlite3_column_int64(q, 0));
		if (r >= 0 && y[r] == 1)
			y[r] = 0;	/* bought again: stayed */
	}
	sqlite3_finalize(q);
	return 0;
}

/* Whether column NAME of the snapshot belongs to the label attribute. */
static int is_label_column(const char *name, const char *label)
{
	if (!label || strncmp(name, "attr.", 5) != 0)
		return 0;
	size_t n = strlen(label);
	return strncmp(name + 5, label, n) == 0 && (name[5 + n] == '\0' || name[5 + n] == '=');
}

static int by_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

int design_fit(design_schema *s, const patron_features *f, const uint8_t *train,
	       patron_err *err)
{
	size_t n = 0;
	for (size_t r = 0; r < f->rows; r++)
		n += train[r] != 0;
	if (n == 0)
		return patron_err_set(err, "no labelled customer to train on");
	double *v = patron_xmalloc(n * sizeof *v);
	s->c = patron_xcalloc(f->cols ? f->cols : 1, sizeof *s->c);
	s->n = 0;
	for (size_t c = 0; c < f->cols; c++) {
		if (is_label_column(f->names[c], s->lab.label))
			continue;
		size_t seen = 0;
		for (size_t r = 0; r < f->rows; r++)
			if (train[r] && !isnan(f->x[r * f->cols + c]))
				v[seen++] = f->x[r * f->cols + c];
		if (seen == 0)
			continue;	/* nothing known of it */
		qsort(v, seen, sizeof *v, by_double);
		double median = seen % 2 ? v[seen / 2] : (v[seen / 2 - 1] + v[seen / 2]) / 2;
		int missing = seen < n;
		if (v[0] == v[seen - 1] && !missing)
			continue;	/* the same for everyone: tells nothing */
		/* Mean and deviation of the imputed values. */
		double sum = 0, sq = 0;
		for (size_t r = 0; r < f->rows; r++) {
			if (!train[r])
				continue;
			double x = f->x[r * f->cols + c];
			sum += isnan(x) ? median : x;
		}
		double mean = sum / (double)n;
		for (size_t r = 0; r < f->rows; r++) {
			if (!train[r])
				continue;
			double x = f->x[r * f->cols + c];
			x = isnan(x) ? median : x;
			sq += (x - mean) * (x - mean);
		}
		double sd = sqrt(sq / (double)n);
		design_col *d = &s->c[s->n++];
		d->name = patron_xstrdup(f->names[c]);
		d->onehot = strchr(f->names[c], '=') != NULL;
		d->median = median;
		d->mean = d->onehot ? 0 : mean;
		d->sd = d->onehot || !(sd > 0) ? 1 : sd;
		d->indicator = missing;
	}
	free(v);
	if (s->n == 0)
		return patron_err_set(err, "no feature varies over the labelled customers: nothing "
				      "to learn from");
	return 0;
}

static size_t out_cols(const design_schema *s)
{
	size_t n = 0;
	for (size_t i = 0; i < s->n; i++)
		n += 1 + (size_t)s->c[i].indicator;
	return n;
}

/* The table's columns and their scales. */
static void table_init(const design_schema *s, size_t rows, design_table *t)
{
	memset(t, 0, sizeof *t);
	size_t cols = out_cols(s);
	t->names = patron_xcalloc(cols ? cols : 1, sizeof *t->names);
	t->mean = patron_xmalloc((cols ? cols : 1) * sizeof *t->mean);
	t->sd = patron_xmalloc((cols ? cols : 1) * sizeof *t->sd);
	t->x = patron_xmalloc((rows ? rows : 1) * (cols ? cols : 1) * sizeof *t->x);
	t->ids = patron_xmalloc((rows ? rows : 1) * sizeof *t->ids);
	size_t o = 0;
	for (size_t i = 0; i < s->n; i++) {
		t->names[o] = patron_xstrdup(s->c[i].name);
		t->mean[o] = s->c[i].mean;
		t->sd[o++] = s->c[i].sd;
		if (s->c[i].indicator) {
			char name[600];
			snprintf(name, sizeof name, "%s (missing)", s->c[i].name);
			t->names[o] = patron_xstrdup(name);
			t->mean[o] = 0;
			t->sd[o++] = 1;
		}
	}
	t->d = (patron_design){rows, cols, t->x, (const char *const *)t->names, t->ids, NULL,
			       t->mean, t->sd};
}

/* Writes column I of the schema for value V into the row at OUT; returns
 * the next output column. */
static size_t put(const design_col *c, double v, double *out, size_t o)
{
	int missing = isnan(v);
	out[o++] = ((missing ? c->median : v) - c->mean) / c->sd;
	if (c->indicator)
		out[o++] = missing;
	return o;
}

int design_apply(const design_schema *s, const patron_features *f, const double *y,
		 const uint8_t *keep, design_table *t, patron_err *err)
{
	size_t *src = patron_xmalloc((s->n ? s->n : 1) * sizeof *src);
	for (size_t i = 0; i < s->n; i++) {
		src[i] = patron_feature_column(f, s->c[i].name);
		/* A one-hot value nobody has now is simply 0 for everyone. */
		if (src[i] == f->cols && !s->c[i].onehot) {
			free(src);
			return patron_err_set(err, "the model was trained on the column \"%s\", which "
					      "the store no longer has: train it again",
					      s->c[i].name);
		}
	}
	size_t rows = 0;
	for (size_t r = 0; r < f->rows; r++)
		rows += !keep || keep[r];
	table_init(s, rows, t);
	if (y)
		t->y = patron_xmalloc((rows ? rows : 1) * sizeof *t->y);
	size_t k = 0;
	for (size_t r = 0; r < f->rows; r++) {
		if (keep && !keep[r])
			continue;
		double *out = t->x + k * t->d.cols;
		size_t o = 0;
		for (size_t i = 0; i < s->n; i++)
			o = put(&s->c[i], src[i] < f->cols ? f->x[r * f->cols + src[i]] : 0, out, o);
		t->ids[k] = f->customer_ids[r];
		if (y)
			t->y[k] = y[r];
		k++;
	}
	t->d.y = t->y;
	free(src);
	return 0;
}

/* The column of the normalized headers KEYS that names NAME (an attribute
 * as a customers import made it from its header), or -1. */
static long find_column(char **keys, size_t n, const char *name)
{
	char k[256];
	patron_normalize_header(name, k, sizeof k);
	for (size_t i = 0; i < n; i++)
		if (strcmp(keys[i], k) == 0)
			return (long)i;
	return -1;
}

/* The store's customer a test file's row names: its id column as an import
 * of customers reads it, else its email. 0 when it names no one. */
static int64_t row_customer(patron_store *st, const patron_csv_record *rec, long idcol,
			    long emailcol)
{
	int64_t cid = 0;
	if (idcol >= 0 && *rec->field[idcol])
		cid = patron_customer_find(st, "id", rec->field[idcol]);
	char email[320];
	if (!cid && emailcol >= 0 &&
	    patron_normalize_email(rec->field[emailcol], email, sizeof email) == 0)
		cid = patron_customer_find(st, "email", email);
	return cid;
}

int design_apply_csv(const design_schema *s, const char *path, const char *label,
		     patron_store *st, int64_t **who, design_table *t, patron_err *err)
{
	patron_csv_record rec;
	patron_csv *csv = patron_csv_open_header(path, &rec, "a header", err);
	if (!csv)
		return -1;
	int rc;
	size_t nh = rec.n;
	char **keys = patron_xmalloc(nh * sizeof *keys);
	for (size_t i = 0; i < nh; i++) {
		char k[256];
		patron_normalize_header(rec.field[i], k, sizeof k);
		keys[i] = patron_xstrdup(k);
	}
	/* Each schema column: the file column of its attribute, and for a
	 * one-hot column the value it stands for. */
	long *col = patron_xmalloc((s->n ? s->n : 1) * sizeof *col);
	patron_buf lacking = {0};
	for (size_t i = 0; i < s->n; i++) {
		const char *name = s->c[i].name;
		char attr[512];
		snprintf(attr, sizeof attr, "%s", strncmp(name, "attr.", 5) == 0 ? name + 5 : name);
		char *eq = strchr(attr, '=');
		if (eq)
			*eq = '\0';
		col[i] = find_column(keys, nh, attr);
		char quoted[520];
		snprintf(quoted, sizeof quoted, "\"%s\"", attr);
		if (col[i] < 0 && !strstr(lacking.data ? lacking.data : "", quoted))
			patron_buf_printf(&lacking, "%s%s", lacking.len ? ", " : "", quoted);
	}
	long lcol = find_column(keys, nh, label);
	long idcol = -1, emailcol = -1;
	if (who) {
		static const char *const ids[] = {"customer_id", "id", "customer"},
					  *const emails[] = {"email", "email_address", "customer_email"};
		for (size_t i = 0; i < 3 && idcol < 0; i++)
			idcol = find_column(keys, nh, ids[i]);
		for (size_t i = 0; i < 3 && emailcol < 0; i++)
			emailcol = find_column(keys, nh, emails[i]);
	}
	int64_t *whom = NULL;
	if (lcol < 0)
		patron_buf_printf(&lacking, "%s\"%s\" (the label)", lacking.len ? ", " : "", label);
	rc = 0;
	if (lacking.len)
		rc = patron_err_set(err, "%s: the model was trained on columns this file lacks: %s",
				    path, lacking.data);
	patron_buf_free(&lacking);
	size_t rows = 0, cap = 1024;
	double *x = NULL, *y = NULL;
	size_t cols = out_cols(s);
	if (rc == 0) {
		x = patron_xmalloc(cap * (cols ? cols : 1) * sizeof *x);
		y = patron_xmalloc(cap * sizeof *y);
		if (who)
			whom = patron_xmalloc(cap * sizeof *whom);
	}
	while (rc == 0 && (rc = patron_csv_next(csv, &rec, err)) == 1) {
		rc = 0;
		if (rec.n == 1 && !rec.len[0])
			continue;
		if (rec.n != nh) {
			rc = patron_err_set(err, "%s:%ld: expected %zu fields as in the header, got %zu",
					    path, rec.line, nh, rec.n);
			break;
		}
		if (rows == cap) {
			cap *= 2;
			x = patron_xrealloc(x, cap * (cols ? cols : 1) * sizeof *x);
			y = patron_xrealloc(y, cap * sizeof *y);
			if (who)
				whom = patron_xrealloc(whom, cap * sizeof *whom);
		}
		int l = label_value(rec.field[lcol]);
		if (l < 0) {
			rc = patron_err_set(err, "%s:%ld: column \"%s\": expected yes/no, true/false or "
					    "1/0, got \"%s\"", path, rec.line, label, rec.field[lcol]);
			break;
		}
		y[rows] = l;
		if (who)
			whom[rows] = row_customer(st, &rec, idcol, emailcol);
		double *out = x + rows * cols;
		size_t o = 0;
		for (size_t i = 0; i < s->n; i++) {
			const char *cell = rec.field[col[i]];
			const char *eq = strchr(s->c[i].name, '=');
			double v;
			if (eq) {
				v = strcmp(cell, eq + 1) == 0;	/* an unseen value: all 0 */
			} else if (!*cell) {
				v = NAN;
			} else {
				char *end;
				v = strtod(cell, &end);
				if (*end) {
					rc = patron_err_set(err, "%s:%ld: column \"%s\": expected a number, "
							    "got \"%s\"", path, rec.line,
							    s->c[i].name + 5, cell);
					break;
				}
			}
			o = put(&s->c[i], v, out, o);
		}
		rows++;
	}
	patron_csv_close(csv);
	for (size_t i = 0; i < nh; i++)
		free(keys[i]);
	free(keys), free(col);
	if (rc < 0) {
		free(x), free(y), free(whom);
		return -1;
	}
	if (!rows) {
		free(x), free(y), free(whom);
		return patron_err_set(err, "%s: no rows under the header", path);
	}
	if (who)
		*who = whom;
	table_init(s, rows, t);
	free(t->x);
	t->x = x;
	t->y = y;
	for (size_t r = 0; r < rows; r++)
		t->ids[r] = (int64_t)r + 1;
	t->d.x = t->x;
	t->d.y = t->y;
	return 0;
}

json_t *design_schema_json(const design_schema *s)
{
	json_t *cols = json_array();
	for (size_t i = 0; i < s->n; i++)
		json_array_append_new(cols, json_pack("{s:s, s:f, s:f, s:f, s:b}", "name",
			s->c[i].name, "median", s->c[i].median, "mean", s->c[i].mean, "sd",
			s->c[i].sd, "indicator", s->c[i].indicator));
	json_t *lab = s->lab.label ? json_pack("{s:s}", "attribute", s->lab.label)
		      : json_pack("{s:I, s:I}", "cutoff", (json_int_t)s->lab.cutoff, "horizon",
				  (json_int_t)s->lab.horizon);
	return json_pack("{s:o, s:o}", "columns", cols, "label", lab);
}

int design_schema_parse(json_t *j, design_schema *s, patron_err *err)
{
	memset(s, 0, sizeof *s);
	json_t *cols = json_object_get(j, "columns"), *lab = json_object_get(j, "label");
	if (!json_is_array(cols) || !json_is_object(lab))
		return patron_err_set(err, "the stored model has no feature schema: train it again");
	s->n = json_array_size(cols);
	s->c = patron_xcalloc(s->n ? s->n : 1, sizeof *s->c);
	for (size_t i = 0; i < s->n; i++) {
		json_t *c = json_array_get(cols, i);
		const char *name = json_string_value(json_object_get(c, "name"));
		if (!name) {
			design_schema_free(s);
			return patron_err_set(err, "the stored model's schema is damaged: train it "
					      "again");
		}
		s->c[i].name = patron_xstrdup(name);
		s->c[i].onehot = strchr(name, '=') != NULL;
		s->c[i].median = json_number_value(json_object_get(c, "median"));
		s->c[i].mean = json_number_value(json_object_get(c, "mean"));
		s->c[i].sd = json_number_value(json_object_get(c, "sd"));
		if (!(s->c[i].sd > 0))
			s->c[i].sd = 1;
		s->c[i].indicator = json_is_true(json_object_get(c, "indicator"));
	}
	const char *attr = json_string_value(json_object_get(lab, "attribute"));
	if (attr)
		s->lab.label = patron_xstrdup(attr);
	s->lab.cutoff = json_integer_value(json_object_get(lab, "cutoff"));
	s->lab.horizon = json_integer_value(json_object_get(lab, "horizon"));
	return 0;
}
