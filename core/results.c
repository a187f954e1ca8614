#include "results.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strmap.h"

#define NO_LABEL UINT32_MAX

typedef struct {
	char *name;
	size_t n;
	int64_t *ids;
	double *values;		/* n, or NULL */
	uint32_t *labels;	/* n indexes into patron_results.labels, or NULL */
	size_t *order;		/* rows in ascending id (stable); NULL when ids ascend */
} score_batch;

typedef struct {
	size_t n, k, m;
	int64_t *ids, *products;
	double *scores;		/* n * k, or NULL */
	int64_t *because;	/* n * k * m, or NULL */
} rec_batch;

struct patron_results {
	score_batch *sb;
	size_t nsb;
	rec_batch *rb;
	size_t nrb;
	char **labels;		/* each distinct label once */
	size_t nlabels;
	patron_strmap label_index;
	size_t rows;
};

patron_results *patron_results_new(void) { return patron_xcalloc(1, sizeof(patron_results)); }

void patron_results_free(patron_results *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->nsb; i++) {
		free(r->sb[i].name), free(r->sb[i].ids), free(r->sb[i].values);
		free(r->sb[i].labels), free(r->sb[i].order);
	}
	for (size_t i = 0; i < r->nrb; i++)
		free(r->rb[i].ids), free(r->rb[i].products), free(r->rb[i].scores),
			free(r->rb[i].because);
	for (size_t i = 0; i < r->nlabels; i++)
		free(r->labels[i]);
	free(r->sb), free(r->rb), free(r->labels);
	patron_strmap_free(&r->label_index);
	free(r);
}

size_t patron_results_count(const patron_results *r) { return r->rows; }

static void *copy(const void *p, size_t bytes)
{
	void *c = patron_xmalloc(bytes ? bytes : 1);
	memcpy(c, p, bytes);
	return c;
}

static uint32_t intern(patron_results *r, const char *label)
{
	int64_t at;
	if (!label)
		return NO_LABEL;
	if (patron_strmap_get(&r->label_index, label, &at))
		return (uint32_t)at;
	r->labels = patron_xrealloc(r->labels, (r->nlabels + 1) * sizeof *r->labels);
	r->labels[r->nlabels] = patron_xstrdup(label);
	patron_strmap_put(&r->label_index, label, (int64_t)r->nlabels);
	return (uint32_t)r->nlabels++;
}

static const int64_t *sort_ids;

static int by_id_then_row(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	if (sort_ids[x] != sort_ids[y])
		return sort_ids[x] < sort_ids[y] ? -1 : 1;
	return (x > y) - (x < y);
}

/* The rows of IDS in ascending id, equal ids in their given order; NULL when
 * they ascend already (the usual case: snapshot rows ascend). */
static size_t *id_order(const int64_t *ids, size_t n)
{
	size_t i = 1;
	while (i < n && ids[i - 1] <= ids[i])
		i++;
	if (i >= n)
		return NULL;
	size_t *order = patron_xmalloc(n * sizeof *order);
	for (i = 0; i < n; i++)
		order[i] = i;
	sort_ids = ids;
	qsort(order, n, sizeof *order, by_id_then_row);
	return order;
}

void patron_results_add_scores(patron_results *r, const char *name, size_t n,
			       const int64_t *ids, const double *values,
			       const char *const *labels)
{
	r->sb = patron_xrealloc(r->sb, (r->nsb + 1) * sizeof *r->sb);
	score_batch *b = &r->sb[r->nsb++];
	memset(b, 0, sizeof *b);
	b->name = patron_xstrdup(name);
	b->n = n;
	b->ids = copy(ids, n * sizeof *ids);
	if (values)
		b->values = copy(values, n * sizeof *values);
	if (labels) {
		b->labels = patron_xmalloc((n ? n : 1) * sizeof *b->labels);
		for (size_t i = 0; i < n; i++)
			b->labels[i] = intern(r, labels[i]);
	}
	b->order = id_order(b->ids, n);
	r->rows += n;
}

void patron_results_add_recommendations(patron_results *r, size_t n, const int64_t *ids,
					size_t k, const int64_t *products, const double *scores,
					size_t m, const int64_t *because)
{
	r->rb = patron_xrealloc(r->rb, (r->nrb + 1) * sizeof *r->rb);
	rec_batch *b = &r->rb[r->nrb++];
	b->n = n;
	b->k = k;
	b->m = because ? m : 0;
	b->ids = copy(ids, n * sizeof *ids);
	b->products = copy(products, n * k * sizeof *products);
	b->scores = scores ? copy(scores, n * k * sizeof *scores) : NULL;
	b->because = b->m ? copy(because, n * k * b->m * sizeof *because) : NULL;
	r->rows += n;
}

int patron_results_scores(const patron_results *r, const char *name, size_t *n,
			  const int64_t **ids, const double **values)
{
	for (size_t i = r->nsb; i-- > 0;)
		if (strcmp(r->sb[i].name, name) == 0 && r->sb[i].values) {
			*n = r->sb[i].n;
			*ids = r->sb[i].ids;
			*values = r->sb[i].values;
			return 0;
		}
	return -1;
}

int patron_results_recommendations(const patron_results *r, size_t i, size_t *n,
				   const int64_t **ids, size_t *k, const int64_t **products)
{
	if (i >= r->nrb)
		return -1;
	*n = r->rb[i].n;
	*ids = r->rb[i].ids;
	*k = r->rb[i].k;
	*products = r->rb[i].products;
	return 0;
}

/* ---- writing ---- */

static size_t row_at(const score_batch *b, size_t pos) { return b->order ? b->order[pos] : pos; }

/* The id of NAME in table TABLE (score_names with MODEL and NOW, or
 * score_labels), made when new: > 0, or -1. */
static int64_t key_of(patron_store *s, const char *table, const char *name, const char *model,
		      int64_t now)
{
	sqlite3 *db = patron_store_db(s);
	char sql[300];
	sqlite3_stmt *st;
	if (model)
		snprintf(sql, sizeof sql, "INSERT INTO %s(name, model, computed_at) VALUES (?1, ?2, ?3)"
			 " ON CONFLICT (name) DO UPDATE SET model = excluded.model,"
			 " computed_at = excluded.computed_at", table);
	else
		snprintf(sql, sizeof sql, "INSERT OR IGNORE INTO %s(label) VALUES (?1)", table);
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	if (model) {
		sqlite3_bind_text(st, 2, model, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, now);
	}
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return -1;
	snprintf(sql, sizeof sql, "SELECT id FROM %s WHERE %s = ?1", table,
		 model ? "name" : "label");
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	int64_t id = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
	sqlite3_finalize(st);
	return id;
}

static int by_name(const void *a, const void *b)
{
	const score_batch *x = *(const score_batch *const *)a, *y = *(const score_batch *const *)b;
	int c = strcmp(x->name, y->name);
	return c ? c : (x < y ? -1 : x > y);
}

/* Each name's rows replace what the store had under that name: its range
 * emptied, then written in customer order (a later batch of a name
 * replacing an earlier one's row for the same customer). */
static int write_scores(patron_results *r, patron_store *s, const char *model, int64_t now,
			int64_t *stranger, const char **stranger_name)
{
	if (!r->nsb)
		return 0;
	int rc = 0;
	int64_t *label_ids = patron_xmalloc((r->nlabels ? r->nlabels : 1) * sizeof *label_ids);
	for (size_t i = 0; i < r->nlabels && rc == 0; i++)
		if ((label_ids[i] = key_of(s, "score_labels", r->labels[i], NULL, 0)) < 0)
			rc = -1;
	score_batch **sorted = patron_xmalloc(r->nsb * sizeof *sorted);
	for (size_t i = 0; i < r->nsb; i++)
		sorted[i] = &r->sb[i];
	qsort(sorted, r->nsb, sizeof *sorted, by_name);
	sqlite3 *db = patron_store_db(s);
	sqlite3_stmt *del = NULL, *put = NULL;
	/* Every row must name a customer (what a foreign key checked when
	 * scores were a table of their own): the customers' ids, as bits. */
	uint64_t *known = NULL;
	int64_t max_id = -1;
	sqlite3_stmt *ids = NULL;
	if (rc == 0 && sqlite3_prepare_v2(db, "SELECT id FROM customers ORDER BY id DESC", -1, &ids,
					  NULL) == SQLITE_OK) {
		while (sqlite3_step(ids) == SQLITE_ROW) {
			int64_t id = sqlite3_column_int64(ids, 0);
			if (!known) {
				max_id = id;
				known = patron_xcalloc((size_t)(max_id / 64 + 1), sizeof *known);
			}
			if (id >= 0)
				known[id / 64] |= 1ull << (id % 64);
		}
	}
	sqlite3_finalize(ids);
	if (rc == 0 &&
	    (sqlite3_prepare_v2(db, "DELETE FROM score_values WHERE name_id = ?1", -1, &del,
				NULL) != SQLITE_OK ||
	     sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO score_values VALUES (?1, ?2, ?3, ?4)",
				-1, &put, NULL) != SQLITE_OK))
		rc = -1;
	int64_t name_id = 0;
	for (size_t i = 0; i < r->nsb && rc == 0; i++) {
		const score_batch *b = sorted[i];
		if (i == 0 || strcmp(b->name, sorted[i - 1]->name) != 0) {
			if ((name_id = key_of(s, "score_names", b->name, model, now)) < 0) {
				rc = -1;
				break;
			}
			sqlite3_bind_int64(del, 1, name_id);
			rc = sqlite3_step(del) == SQLITE_DONE ? 0 : -1;
			sqlite3_reset(del);
		}
		sqlite3_bind_int64(put, 1, name_id);
		for (size_t k = 0; k < b->n && rc == 0; k++) {
			size_t row = row_at(b, k);
			int64_t id = b->ids[row];
			if (id < 0 || id > max_id || !(known[id / 64] >> (id % 64) & 1)) {
				*stranger = id;
				*stranger_name = b->name;
				rc = -1;
				break;
			}
			sqlite3_bind_int64(put, 2, id);
			double v = b->values ? b->values[row] : NAN;
			if (v == v)	/* NaN stays NULL */
				sqlite3_bind_double(put, 3, v);
			else
				sqlite3_bind_null(put, 3);
			uint32_t label = b->labels ? b->labels[row] : NO_LABEL;
			if (label != NO_LABEL)
				sqlite3_bind_int64(put, 4, label_ids[label]);
			else
				sqlite3_bind_null(put, 4);
			if (sqlite3_step(put) != SQLITE_DONE)
				rc = -1;
			sqlite3_reset(put);
		}
	}
	sqlite3_finalize(del);
	sqlite3_finalize(put);
	free(sorted);
	free(label_ids);
	free(known);
	return rc;
}

/* Appends V in decimal. printf costs more than the rest of a list's
 * writing; ten million numbers a run make that seconds. */
static void add_int(patron_buf *b, int64_t v)
{
	char d[24];
	int n = 0;
	uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
	do
		d[n++] = (char)('0' + u % 10);
	while (u /= 10);
	if (v < 0)
		d[n++] = '-';
	patron_buf_reserve(b, (size_t)n);
	while (n > 0)
		b->data[b->len++] = d[--n];
	b->data[b->len] = '\0';
}

/* Appends V with six decimals, trailing zeros dropped: a score is read for
 * its order and size, not its seventeenth digit. */
static void add_score(patron_buf *b, double v)
{
	if (!isfinite(v) || fabs(v) >= 1e12) {
		patron_buf_printf(b, "%.9g", isfinite(v) ? v : 0.0);
		return;
	}
	int64_t micro = llround(fabs(v) * 1e6);
	if (v < 0 && micro)
		patron_buf_adds(b, "-");
	add_int(b, micro / 1000000);
	int frac = (int)(micro % 1000000);
	if (!frac)
		return;
	char d[8] = ".000000";
	for (int i = 6; i >= 1; i--, frac /= 10)
		d[i] = (char)('0' + frac % 10);
	int end = 7;
	while (d[end - 1] == '0')
		end--;
	patron_buf_add(b, d, (size_t)end);
}

/* Each customer's list as one row: [[product, score, "why,..."|null], ...]. */
static int write_recommendations(patron_results *r, patron_store *s, const char *model,
				 int64_t now)
{
	sqlite3_stmt *put = patron_store_stmt(s, ST_RECS_PUT);
	sqlite3_bind_text(put, 3, model, -1, SQLITE_STATIC);
	sqlite3_bind_int64(put, 4, now);
	patron_buf list = {0};
	int rc = 0;
	for (size_t bi = 0; bi < r->nrb && rc == 0; bi++) {
		const rec_batch *b = &r->rb[bi];
		size_t *order = id_order(b->ids, b->n);
		for (size_t o = 0; o < b->n && rc == 0; o++) {
			size_t i = order ? order[o] : o;
			patron_buf_clear(&list);
			patron_buf_adds(&list, "[");
			for (size_t j = 0; j < b->k && b->products[i * b->k + j]; j++) {
				patron_buf_adds(&list, j ? ",[" : "[");
				add_int(&list, b->products[i * b->k + j]);
				patron_buf_adds(&list, ",");
				add_score(&list, b->scores ? b->scores[i * b->k + j] : 0.0);
				patron_buf_adds(&list, ",");
				const int64_t *by = b->m ? b->because + (i * b->k + j) * b->m : NULL;
				if (!by || !by[0]) {
					patron_buf_adds(&list, "null]");
					continue;
				}
				patron_buf_adds(&list, "\"");
				for (size_t t = 0; t < b->m && by[t]; t++) {
					if (t)
						patron_buf_adds(&list, ",");
					add_int(&list, by[t]);
				}
				patron_buf_adds(&list, "\"]");
			}
			patron_buf_adds(&list, "]");
			sqlite3_bind_int64(put, 1, b->ids[i]);
			sqlite3_bind_text(put, 2, list.data, (int)list.len, SQLITE_STATIC);
			rc = sqlite3_step(put) == SQLITE_DONE ? 0 : -1;
			sqlite3_reset(put);
		}
		free(order);
	}
	sqlite3_clear_bindings(put);
	patron_buf_free(&list);
	return rc;
}

/* Results from this many rows on are written under a rollback journal. */
#define BULK_ROWS 200000

int patron_results_commit(patron_results *r, patron_store *s, const char *model, int64_t now,
			  patron_err *err)
{
	if (!r->nsb && !r->nrb)
		return 0;
	/* A run over a large store writes most of its results pages: under a
	 * rollback journal each is written once, not to the WAL and again at
	 * the checkpoint (patron_store_bulk; the WAL stays when another
	 * connection has the store open). */
	int bulk = patron_results_count(r) >= BULK_ROWS && patron_store_bulk(s, 1);
	int rc = 0;
	if (patron_store_begin(s, err) < 0) {
		rc = -1;
	} else {
		int64_t stranger = 0;
		const char *name = NULL;
		if (write_scores(r, s, model, now, &stranger, &name) < 0 ||
		    write_recommendations(r, s, model, now) < 0 || patron_store_commit(s, err) < 0) {
			if (name)
				patron_err_set(err, "writing results: score %s: no customer %lld in "
					       "the store", name, (long long)stranger);
			else
				patron_store_fail(s, err, "writing results");
			patron_store_rollback(s);
			rc = -1;
		}
	}
	if (bulk)
		patron_store_bulk(s, 0);
	return rc;
}
