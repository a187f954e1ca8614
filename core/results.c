#include "results.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rows.h"
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
	size_t n, k;
	int64_t *ids, *products;	/* products: n * k, when kept */
	patron_buf text;		/* each row's list as stored (JSON), one after another */
	size_t *at;			/* n + 1: row i's text at [at[i], at[i + 1]) */
} rec_batch;

struct patron_results {
	score_batch *sb;
	size_t nsb;
	rec_batch *rb;
	size_t nrb;
	int keep_products;	/* patron_results_keep_products */
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
	for (size_t i = 0; i < r->nrb; i++) {
		free(r->rb[i].ids), free(r->rb[i].products), free(r->rb[i].at);
		patron_buf_free(&r->rb[i].text);
	}
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
		/* A segmenter hands the same few strings over and over (a million
		 * labels, a dozen pointers): within one batch a pointer seen
		 * before is the same text, so only new pointers are looked up. */
		const char *seen[16] = {0};
		uint32_t seen_at[16];
		b->labels = patron_xmalloc((n ? n : 1) * sizeof *b->labels);
		for (size_t i = 0; i < n; i++) {
			size_t h = ((uintptr_t)labels[i] >> 3) % 16;
			if (!labels[i] || seen[h] != labels[i]) {
				seen[h] = labels[i];
				seen_at[h] = intern(r, labels[i]);
			}
			b->labels[i] = seen_at[h];
		}
	}
	b->order = id_order(b->ids, n);
	r->rows += n;
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
	patron_buf_add_int(b, micro / 1000000);
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

/* Appends one customer's list as stored: [[product, score, "why,..."|null],
 * ...], products up to the first 0. */
static void add_list(patron_buf *out, size_t k, const int64_t *products, const double *scores,
		     size_t m, const int64_t *because)
{
	patron_buf_adds(out, "[");
	for (size_t j = 0; j < k && products[j]; j++) {
		patron_buf_adds(out, j ? ",[" : "[");
		patron_buf_add_int(out, products[j]);
		patron_buf_adds(out, ",");
		add_score(out, scores ? scores[j] : 0.0);
		patron_buf_adds(out, ",");
		const int64_t *by = m ? because + j * m : NULL;
		if (!by || !by[0]) {
			patron_buf_adds(out, "null]");
			continue;
		}
		patron_buf_adds(out, "\"");
		for (size_t t = 0; t < m && by[t]; t++) {
			if (t)
				patron_buf_adds(out, ",");
			patron_buf_add_int(out, by[t]);
		}
		patron_buf_adds(out, "\"]");
	}
	patron_buf_adds(out, "]");
}

/* The lists are kept as the text they are stored as (a million customers'
 * ten products, scores and reasons were 400 MB as numbers, 200 MB as text),
 * and their products for patron_results_recommendations. */
void patron_results_add_recommendations(patron_results *r, size_t n, const int64_t *ids,
					size_t k, const int64_t *products, const double *scores,
					size_t m, const int64_t *because)
{
	r->rb = patron_xrealloc(r->rb, (r->nrb + 1) * sizeof *r->rb);
	rec_batch *b = &r->rb[r->nrb++];
	memset(b, 0, sizeof *b);
	b->n = n;
	b->k = k;
	b->ids = copy(ids, n * sizeof *ids);
	if (r->keep_products)
		b->products = copy(products, n * k * sizeof *products);
	b->at = patron_xmalloc((n + 1) * sizeof *b->at);
	patron_buf_reserve(&b->text, n * (k * 20 + 2));
	if (!because)
		m = 0;
	for (size_t i = 0; i < n; i++) {
		b->at[i] = b->text.len;
		add_list(&b->text, k, products + i * k, scores ? scores + i * k : NULL, m,
			 m ? because + i * k * m : NULL);
	}
	b->at[n] = b->text.len;
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

void patron_results_keep_products(patron_results *r) { r->keep_products = 1; }

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

/* The ids in score_labels of the run's labels, made when new, into IDS:
 * 0, or -1. A churn run's reasons are a hundred thousand labels, so the
 * statements are made once. */
static int label_keys(sqlite3 *db, char *const *labels, size_t n, int64_t *ids)
{
	sqlite3_stmt *put = NULL, *get = NULL;
	int rc = 0;
	if (sqlite3_prepare_v2(db, "INSERT OR IGNORE INTO score_labels(label) VALUES (?1)", -1, &put,
			       NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "SELECT id FROM score_labels WHERE label = ?1", -1, &get, NULL) !=
	    SQLITE_OK)
		rc = -1;
	for (size_t i = 0; i < n && rc == 0; i++) {
		sqlite3_bind_text(put, 1, labels[i], -1, SQLITE_STATIC);
		sqlite3_bind_text(get, 1, labels[i], -1, SQLITE_STATIC);
		if (sqlite3_step(put) != SQLITE_DONE || sqlite3_step(get) != SQLITE_ROW)
			rc = -1;
		else
			ids[i] = sqlite3_column_int64(get, 0);
		sqlite3_reset(put);
		sqlite3_reset(get);
	}
	sqlite3_finalize(put);
	sqlite3_finalize(get);
	return rc;
}

static int by_name(const void *a, const void *b)
{
	const score_batch *x = *(const score_batch *const *)a, *y = *(const score_batch *const *)b;
	int c = strcmp(x->name, y->name);
	return c ? c : (x < y ? -1 : x > y);
}

/* Names a set holds: the slots s0 to s7 of score_rows. */
#define SLOTS 8

/* One name's rows as the run leaves them: a batch's own arrays when the
 * name has one batch, else its batches joined in the order added. ORDER
 * visits them by ascending id, a later row last among equal ids. */
typedef struct {
	const score_batch *b;	/* the only batch, or JOINED */
	score_batch joined;
	size_t pos;		/* the merge's place in ORDER */
} name_rows;

static void name_rows_init(name_rows *nr, score_batch *const *batches, size_t n)
{
	memset(nr, 0, sizeof *nr);
	if (n == 1) {
		nr->b = batches[0];
		return;
	}
	score_batch *j = &nr->joined;
	int values = 0, labels = 0;
	for (size_t i = 0; i < n; i++) {
		j->n += batches[i]->n;
		values |= batches[i]->values != NULL;
		labels |= batches[i]->labels != NULL;
	}
	j->name = batches[0]->name;
	j->ids = patron_xmalloc((j->n ? j->n : 1) * sizeof *j->ids);
	j->values = values ? patron_xmalloc((j->n ? j->n : 1) * sizeof *j->values) : NULL;
	j->labels = labels ? patron_xmalloc((j->n ? j->n : 1) * sizeof *j->labels) : NULL;
	size_t at = 0;
	for (size_t i = 0; i < n; i++) {
		const score_batch *b = batches[i];
		for (size_t k = 0; k < b->n; k++, at++) {
			j->ids[at] = b->ids[k];
			if (j->values)
				j->values[at] = b->values ? b->values[k] : NAN;
			if (j->labels)
				j->labels[at] = b->labels ? b->labels[k] : NO_LABEL;
		}
	}
	j->order = id_order(j->ids, j->n);
	nr->b = j;
}

static void name_rows_free(name_rows *nr)
{
	if (nr->b == &nr->joined)
		free(nr->joined.ids), free(nr->joined.values), free(nr->joined.labels),
			free(nr->joined.order);
}

/* The id at the merge's place, or INT64_MAX past the end. */
static int64_t name_rows_id(const name_rows *nr)
{
	return nr->pos < nr->b->n ? nr->b->ids[row_at(nr->b, nr->pos)] : INT64_MAX;
}

/* A name holds labels when any of its rows was given one. */
static int name_rows_labels(const name_rows *nr) { return nr->b->labels != NULL; }

/* One slot of the row being written: none, a value, or a label's id. */
typedef struct {
	enum { SLOT_NONE, SLOT_VALUE, SLOT_LABEL } kind;
	double value;
	int64_t label;
} slot;

/* Takes the name's row for ID (the last of equal ids) into *OUT and moves
 * past them: 1 when it gave a score. */
static int name_rows_take(name_rows *nr, int64_t id, const int64_t *label_ids, slot *out)
{
	const score_batch *b = nr->b;
	size_t row = 0;
	int found = 0;
	while (nr->pos < b->n && b->ids[row_at(b, nr->pos)] == id) {
		row = row_at(b, nr->pos++);
		found = 1;
	}
	out->kind = SLOT_NONE;
	if (found && b->labels && b->labels[row] != NO_LABEL) {
		out->kind = SLOT_LABEL;
		out->label = label_ids[b->labels[row]];
	} else if (found && !b->labels && b->values && b->values[row] == b->values[row]) {
		out->kind = SLOT_VALUE;	/* NaN: no score */
		out->value = b->values[row];
	}
	return out->kind != SLOT_NONE;
}

/* The customers' ids, as bits: every result must name one (what a foreign
 * key checked, one look-up per row, when results had keys). */
typedef struct {
	uint64_t *bits;
	int64_t max_id;
} customer_set;

static void customer_set_read(sqlite3 *db, customer_set *c)
{
	sqlite3_stmt *ids = NULL;
	c->bits = NULL;
	c->max_id = -1;
	if (sqlite3_prepare_v2(db, "SELECT id FROM customers ORDER BY id DESC", -1, &ids, NULL) ==
	    SQLITE_OK)
		while (sqlite3_step(ids) == SQLITE_ROW) {
			int64_t id = sqlite3_column_int64(ids, 0);
			if (!c->bits) {
				c->max_id = id;
				c->bits = patron_xcalloc((size_t)(id > 0 ? id / 64 + 1 : 1),
							 sizeof *c->bits);
			}
			if (id >= 0)
				c->bits[id / 64] |= 1ull << (id % 64);
		}
	sqlite3_finalize(ids);
}

static int is_customer(const customer_set *c, int64_t id)
{
	return id >= 0 && id <= c->max_id && (c->bits[id / 64] >> (id % 64) & 1);
}

/* What a result named that is no customer: "score NAME" or
 * "recommendations", and the id. */
typedef struct {
	char what[160];
	int64_t id;
} stranger;

/* The rows of one set, merged from its names' rows in customer order: a
 * row per customer any of them scores. */
typedef struct {
	patron_rows_source src;
	name_rows nr[SLOTS];
	size_t n;
	const int64_t *label_ids;
	const customer_set *customers;
	int64_t id;		/* the current row's customer */
	slot slots[SLOTS];
	stranger *stranger;	/* filled at a customer not in the store */
} set_merge;

/* Moves to the next row: 1, 0 past the last, -1 at an id that is no
 * customer's. */
static int set_merge_next(patron_rows_source *src)
{
	set_merge *m = (set_merge *)src;
	for (;;) {
		int64_t id = INT64_MAX;
		for (size_t k = 0; k < m->n; k++) {
			int64_t at = name_rows_id(&m->nr[k]);
			id = at < id ? at : id;
		}
		if (id == INT64_MAX)
			return 0;
		if (!is_customer(m->customers, id)) {
			const char *name = "";
			for (size_t k = 0; k < m->n && !*name; k++)
				if (name_rows_id(&m->nr[k]) == id)
					name = m->nr[k].b->name;
			snprintf(m->stranger->what, sizeof m->stranger->what, "score %s", name);
			m->stranger->id = id;
			snprintf(src->failure, sizeof src->failure, "no customer %lld", (long long)id);
			return -1;
		}
		int any = 0;
		for (size_t k = 0; k < m->n; k++)
			any |= name_rows_take(&m->nr[k], id, m->label_ids, &m->slots[k]);
		if (any) {	/* else no score at all: no row */
			m->id = id;
			return 1;
		}
	}
}

static void set_merge_column(patron_rows_source *src, sqlite3_context *ctx, int col)
{
	const set_merge *m = (const set_merge *)src;
	const slot *sl = col >= 1 && col <= (int)m->n ? &m->slots[col - 1] : NULL;
	if (col == 0)
		sqlite3_result_int64(ctx, m->id);
	else if (sl && sl->kind == SLOT_VALUE)
		sqlite3_result_double(ctx, sl->value);
	else if (sl && sl->kind == SLOT_LABEL)
		sqlite3_result_int64(ctx, sl->label);
	else
		sqlite3_result_null(ctx);
}

/* Writes set SET_ID from M in one statement: 0, or -1 (*M->stranger
 * filled when a row named no customer). */
static int write_set(sqlite3 *db, int64_t set_id, set_merge *m)
{
	m->src.next = set_merge_next;
	m->src.column = set_merge_column;
	/* c0 the customer, c1 to c8 the slots */
	return patron_rows_insert(db, "INSERT INTO score_rows SELECT ?2, c0, c1, c2, c3, c4, c5,"
				  " c6, c7, c8 FROM patron_rows(?1)", &m->src, set_id, NULL);
}

/* Points NAME at slot SLOT of SET_ID, putting the set it had (0: none) in
 * *OLD: 0, or -1. */
static int move_name(sqlite3 *db, const char *name, const char *model, int64_t now,
		     int64_t set_id, int slot, int labels, int64_t *old)
{
	sqlite3_stmt *st;
	*old = 0;
	if (sqlite3_prepare_v2(db, "SELECT set_id FROM score_names WHERE name = ?1", -1, &st,
			       NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		*old = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (sqlite3_prepare_v2(db, "INSERT INTO score_names(name, model, computed_at, set_id, slot,"
			       " labels) VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (name) DO"
			       " UPDATE SET model = excluded.model, computed_at ="
			       " excluded.computed_at, set_id = excluded.set_id, slot ="
			       " excluded.slot, labels = excluded.labels", -1, &st, NULL) !=
	    SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, model, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, now);
	sqlite3_bind_int64(st, 4, set_id);
	sqlite3_bind_int(st, 5, slot);
	sqlite3_bind_int(st, 6, labels);
	int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
	sqlite3_finalize(st);
	return rc;
}

/* Deletes the rows of set SET_ID when no name points at it any more. */
static int drop_set_if_unused(sqlite3 *db, int64_t set_id)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db, "DELETE FROM score_rows WHERE set_id = ?1 AND NOT EXISTS"
			       " (SELECT 1 FROM score_names WHERE set_id = ?1)", -1, &st, NULL) !=
	    SQLITE_OK)
		return -1;
	sqlite3_bind_int64(st, 1, set_id);
	int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
	sqlite3_finalize(st);
	return rc;
}

/* The run's names, eight to a new set: each set's rows written, then its
 * names pointed at it, then the sets they leave deleted when no name is
 * left in them (what a run writes under a name replaces all it had). */
static int write_scores(patron_results *r, patron_store *s, const char *model, int64_t now,
			const customer_set *customers, stranger *who)
{
	if (!r->nsb)
		return 0;
	sqlite3 *db = patron_store_db(s);
	int rc = 0;
	int64_t *label_ids = patron_xmalloc((r->nlabels ? r->nlabels : 1) * sizeof *label_ids);
	if (label_keys(db, r->labels, r->nlabels, label_ids) < 0)
		rc = -1;
	score_batch **sorted = patron_xmalloc(r->nsb * sizeof *sorted);
	for (size_t i = 0; i < r->nsb; i++)
		sorted[i] = &r->sb[i];
	qsort(sorted, r->nsb, sizeof *sorted, by_name);
	/* A new set's id is above every one in use. */
	int64_t set_id = 0;
	sqlite3_stmt *st;
	if (rc == 0 && sqlite3_prepare_v2(db, "SELECT max(coalesce((SELECT max(set_id) FROM"
					  " score_names), 0), coalesce((SELECT max(set_id) FROM"
					  " score_rows), 0))", -1, &st, NULL) == SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW)
			set_id = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
	} else {
		rc = -1;
	}
	int64_t *old = patron_xmalloc(r->nsb * sizeof *old);
	size_t nold = 0;
	for (size_t i = 0; i < r->nsb && rc == 0;) {
		/* the next SLOTS names, each with its batches */
		set_merge m = {.label_ids = label_ids, .customers = customers, .stranger = who};
		while (i < r->nsb && m.n < SLOTS) {
			size_t j = i + 1;
			while (j < r->nsb && strcmp(sorted[j]->name, sorted[i]->name) == 0)
				j++;
			name_rows_init(&m.nr[m.n++], sorted + i, j - i);
			i = j;
		}
		set_id++;
		rc = write_set(db, set_id, &m);
		for (size_t k = 0; k < m.n && rc == 0; k++)
			rc = move_name(db, m.nr[k].b->name, model, now, set_id, (int)k,
				       name_rows_labels(&m.nr[k]), &old[nold++]);
		for (size_t k = 0; k < m.n; k++)
			name_rows_free(&m.nr[k]);
	}
	for (size_t k = 0; k < nold && rc == 0; k++)
		if (old[k])
			rc = drop_set_if_unused(db, old[k]);
	free(old);
	free(sorted);
	free(label_ids);
	return rc;
}

static int by_count_then_label(const void *a, const void *b)
{
	const patron_label_count *x = a, *y = b;
	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	return strcmp(x->label, y->label);
}

int patron_label_counts(patron_store *s, const char *name, const char *model,
			patron_label_count **out, size_t *n, patron_err *err)
{
	sqlite3 *db = patron_store_db(s);
	sqlite3_stmt *st;
	*out = NULL;
	*n = 0;
	if (sqlite3_prepare_v2(db, "SELECT set_id, slot, (SELECT max(id) FROM score_labels) FROM"
			       " score_names WHERE name = ?1 AND model = ?2 AND labels", -1, &st,
			       NULL) != SQLITE_OK)
		return patron_store_fail(s, err, "counting labels");
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, model, -1, SQLITE_STATIC);
	int64_t set_id = 0, max_label = 0;
	int slot = 0;
	if (sqlite3_step(st) == SQLITE_ROW) {
		set_id = sqlite3_column_int64(st, 0);
		slot = sqlite3_column_int(st, 1);
		max_label = sqlite3_column_int64(st, 2);
	}
	sqlite3_finalize(st);
	if (!set_id || max_label < 1 || slot < 0 || slot >= SLOTS)
		return 0;
	char sql[80];
	snprintf(sql, sizeof sql, "SELECT s%d FROM score_rows WHERE set_id = ?1", slot);
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return patron_store_fail(s, err, "counting labels");
	sqlite3_bind_int64(st, 1, set_id);
	int64_t *count = patron_xcalloc((size_t)max_label + 1, sizeof *count);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t id = sqlite3_column_int64(st, 0);
		if (id >= 1 && id <= max_label)
			count[id]++;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE ||
	    sqlite3_prepare_v2(db, "SELECT id, label FROM score_labels", -1, &st, NULL) !=
	    SQLITE_OK) {
		free(count);
		return patron_store_fail(s, err, "counting labels");
	}
	while (sqlite3_step(st) == SQLITE_ROW) {
		int64_t id = sqlite3_column_int64(st, 0);
		if (id < 1 || id > max_label || !count[id])
			continue;
		*out = patron_xrealloc(*out, (*n + 1) * sizeof **out);
		(*out)[*n].label = patron_xstrdup((const char *)sqlite3_column_text(st, 1));
		(*out)[(*n)++].count = count[id];
	}
	sqlite3_finalize(st);
	free(count);
	if (*n)
		qsort(*out, *n, sizeof **out, by_count_then_label);
	return 0;
}

void patron_label_counts_free(patron_label_count *counts, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(counts[i].label);
	free(counts);
}

/* The run's lists, batch by batch in the order added: column 1 is a
 * list's text. */
typedef struct {
	patron_rows_source src;
	const patron_results *r;
	const customer_set *customers;
	stranger *stranger;
	size_t batch, row;
	int started;
} list_rows;

static int list_rows_next(patron_rows_source *src)
{
	list_rows *l = (list_rows *)src;
	if (l->started)
		l->row++;
	l->started = 1;
	while (l->batch < l->r->nrb && l->row >= l->r->rb[l->batch].n) {
		l->batch++;
		l->row = 0;
	}
	if (l->batch >= l->r->nrb)
		return 0;
	int64_t id = l->r->rb[l->batch].ids[l->row];
	if (is_customer(l->customers, id))
		return 1;
	snprintf(l->stranger->what, sizeof l->stranger->what, "recommendations");
	l->stranger->id = id;
	snprintf(src->failure, sizeof src->failure, "no customer %lld", (long long)id);
	return -1;
}

static void list_rows_column(patron_rows_source *src, sqlite3_context *ctx, int col)
{
	const list_rows *l = (const list_rows *)src;
	const rec_batch *b = &l->r->rb[l->batch];
	if (col == 0)
		sqlite3_result_int64(ctx, b->ids[l->row]);
	else if (col == 1)
		sqlite3_result_text(ctx, b->text.data + b->at[l->row],
				    (int)(b->at[l->row + 1] - b->at[l->row]), SQLITE_STATIC);
	else
		sqlite3_result_null(ctx);
}

/* A run's lists replace every list the store had: the table emptied in one
 * step (not a million rows replaced one by one), then written in one
 * statement, a customer's later list winning. */
static int write_recommendations(patron_results *r, patron_store *s, const char *model,
				 int64_t now, const customer_set *customers, stranger *who)
{
	if (!r->nrb)
		return 0;
	sqlite3 *db = patron_store_db(s);
	if (sqlite3_exec(db, "DELETE FROM recommendation_lists", NULL, NULL, NULL) != SQLITE_OK)
		return -1;
	list_rows l = {.src = {.next = list_rows_next, .column = list_rows_column}, .r = r,
		       .customers = customers, .stranger = who};
	return patron_rows_insert(db, "INSERT OR REPLACE INTO recommendation_lists(customer_id, items,"
				  " model, computed_at) SELECT c0, c1, ?3, ?2 FROM patron_rows(?1)",
				  &l.src, now, model);
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
		customer_set customers;
		customer_set_read(patron_store_db(s), &customers);
		stranger who = {"", 0};
		if (write_scores(r, s, model, now, &customers, &who) < 0 ||
		    write_recommendations(r, s, model, now, &customers, &who) < 0 ||
		    patron_store_commit(s, err) < 0) {
			if (*who.what)
				patron_err_set(err, "writing results: %s: no customer %lld in the "
					       "store", who.what, (long long)who.id);
			else
				patron_store_fail(s, err, "writing results");
			patron_store_rollback(s);
			rc = -1;
		}
		free(customers.bits);
	}
	if (bulk)
		patron_store_bulk(s, 0);
	return rc;
}
