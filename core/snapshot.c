#include "snapshot.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "value.h"

#define DAY 86400.0
/* Page cache while scanning: sequential scans gain nothing from the 64 MiB
 * the store keeps for lookups, and every page of it costs a fault. */
#define SCAN_CACHE_KIB 4096

void patron_snapshot_init(patron_snapshot *sn, patron_store *s, int64_t now)
{
	memset(sn, 0, sizeof *sn);
	sn->store = s;
	sn->now = now;
}

void patron_snapshot_free(patron_snapshot *sn)
{
	for (size_t c = 0; sn->names && c < sn->features.cols; c++)
		free(sn->names[c]);
	void *owned[] = {
		sn->names, sn->x, sn->ids, sn->created, sn->row_of, sn->offsets, sn->cols, sn->quantity,
		sn->spend, sn->last_at, sn->product_ids, sn->freq, sn->c30, sn->c90, sn->c365,
		sn->cents, sn->first, sn->last, sn->order_row, sn->order_at, sn->order_cents,
		sn->day_offsets,
		sn->days, sn->day_amounts, sn->summary_x,
	};
	for (size_t i = 0; i < sizeof owned / sizeof *owned; i++)
		free(owned[i]);
	memset(sn, 0, sizeof *sn);
}

void patron_snapshot_release_features(patron_snapshot *sn)
{
	for (size_t c = 0; sn->names && c < sn->features.cols; c++)
		free(sn->names[c]);
	free(sn->names), free(sn->x), free(sn->summary_x);
	free(sn->day_offsets), free(sn->days), free(sn->day_amounts);
	sn->names = NULL, sn->x = NULL, sn->summary_x = NULL;
	memset(&sn->summary, 0, sizeof sn->summary);
	sn->built_summary = 0;
	sn->day_offsets = NULL, sn->days = NULL, sn->day_amounts = NULL;
	memset(&sn->features, 0, sizeof sn->features);
	memset(&sn->purchases, 0, sizeof sn->purchases);
	sn->built_features = sn->built_purchases = 0;
}

/* Statements on DB: the store's own connection, or a worker's. */
static sqlite3_stmt *prepare_on(patron_snapshot *sn, sqlite3 *db, const char *sql,
				patron_err *err)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		patron_err_set(err, "%s: reading the store: %s", patron_store_path(sn->store),
			       sqlite3_errmsg(db));
		return NULL;
	}
	return st;
}

static int finish_on(patron_snapshot *sn, sqlite3 *db, sqlite3_stmt *st, int rc, patron_err *err)
{
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return patron_err_set(err, "%s: reading the store: %s", patron_store_path(sn->store),
				      sqlite3_errmsg(db));
	return 0;
}

static sqlite3_stmt *prepare(patron_snapshot *sn, const char *sql, patron_err *err)
{
	return prepare_on(sn, patron_store_db(sn->store), sql, err);
}

static int finish(patron_snapshot *sn, sqlite3_stmt *st, int rc, patron_err *err)
{
	return finish_on(sn, patron_store_db(sn->store), st, rc, err);
}

/* The second core: a job run on a thread of its own, reading through a
 * read-only connection of its own (WAL lets readers run side by side).
 * Where no second connection can be had, the job runs on the caller's. */
typedef struct {
	patron_snapshot *sn;
	sqlite3 *db;
	int (*fn)(patron_snapshot *sn, sqlite3 *db, void *arg, patron_err *err);
	void *arg;
	patron_err err;
	int rc, threaded;
	pthread_t thread;
} worker;

static void *worker_main(void *p)
{
	worker *w = p;
	w->rc = w->fn(w->sn, w->db, w->arg, &w->err);
	return NULL;
}

static void worker_start(worker *w, patron_snapshot *sn,
			 int (*fn)(patron_snapshot *, sqlite3 *, void *, patron_err *), void *arg)
{
	*w = (worker){.sn = sn, .fn = fn, .arg = arg};
	char pragma[64];
	snprintf(pragma, sizeof pragma, "PRAGMA cache_size = -%d", SCAN_CACHE_KIB);
	if (sqlite3_open_v2(patron_store_path(sn->store), &w->db,
			    SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) == SQLITE_OK &&
	    sqlite3_exec(w->db, pragma, NULL, NULL, NULL) == SQLITE_OK &&
	    pthread_create(&w->thread, NULL, worker_main, w) == 0) {
		w->threaded = 1;
		return;
	}
	sqlite3_close(w->db);
	w->db = NULL;
}

/* Waits for the job (or runs it here when it has no thread). */
static int worker_join(worker *w, patron_err *err)
{
	if (w->threaded) {
		pthread_join(w->thread, NULL);
		sqlite3_close(w->db);
	} else {
		w->rc = w->fn(w->sn, patron_store_db(w->sn->store), w->arg, &w->err);
	}
	if (w->rc < 0)
		*err = w->err;
	return w->rc;
}

/* One integer from SQL (a count or a max), or -1. */
static int64_t scalar(patron_snapshot *sn, const char *sql, patron_err *err)
{
	sqlite3_stmt *st = prepare(sn, sql, err);
	if (!st)
		return -1;
	int64_t v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
	sqlite3_finalize(st);
	if (v < 0)
		patron_store_fail(sn->store, err, "reading the store");
	return v;
}

/* Shrinks the page cache for the scans (ON) and gives it back (OFF). */
static void scan_cache(patron_snapshot *sn, int on)
{
	char sql[64];
	snprintf(sql, sizeof sql, "PRAGMA cache_size = -%d", on ? SCAN_CACHE_KIB : PATRON_CACHE_KIB);
	sqlite3_exec(patron_store_db(sn->store), sql, NULL, NULL, NULL);
}

static void *zeroed(size_t n, size_t size) { return patron_xcalloc(n ? n : 1, size); }

static int32_t row_of(const patron_snapshot *sn, int64_t id)
{
	return id > 0 && id <= sn->max_id ? sn->row_of[id] : -1;
}

/* The rows both views share: customers who existed at now. */
static int build_rows(patron_snapshot *sn, patron_err *err)
{
	if (sn->ids)
		return 0;
	if ((sn->max_id = scalar(sn, "SELECT coalesce(max(id), 0) FROM customers", err)) < 0)
		return -1;
	size_t n = (size_t)sn->max_id + 1;
	sn->ids = patron_xmalloc(n * sizeof *sn->ids);
	sn->row_of = patron_xmalloc(n * sizeof *sn->row_of);
	memset(sn->row_of, 0xff, n * sizeof *sn->row_of);
	sn->created = patron_xmalloc(n * sizeof *sn->created);
	sqlite3_stmt *st = prepare(sn, "SELECT id, created_at FROM customers WHERE created_at <= ?1"
				   " ORDER BY id", err);
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, sn->now);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t id = sqlite3_column_int64(st, 0);
		if (id < 1 || id > sn->max_id)
			continue;
		sn->row_of[id] = (int32_t)sn->rows;
		sn->created[sn->rows] = sqlite3_column_int64(st, 1);
		sn->ids[sn->rows++] = id;
	}
	return finish(sn, st, rc, err);
}

/* What a range of order ids adds up to per row (the snapshot's own arrays
 * for the first range, the worker's for the second). */
typedef struct {
	int64_t lo, hi;
	uint32_t *freq, *c30, *c90, *c365;
	int64_t *cents, *first, *last;
} orders_part;

static void orders_part_alloc(orders_part *p, size_t rows)
{
	p->freq = zeroed(rows, sizeof *p->freq);
	p->c30 = zeroed(rows, sizeof *p->c30);
	p->c90 = zeroed(rows, sizeof *p->c90);
	p->c365 = zeroed(rows, sizeof *p->c365);
	p->cents = zeroed(rows, sizeof *p->cents);
	p->first = zeroed(rows, sizeof *p->first);
	p->last = zeroed(rows, sizeof *p->last);
}

static void orders_part_free(orders_part *p)
{
	free(p->freq), free(p->c30), free(p->c90), free(p->c365);
	free(p->cents), free(p->first), free(p->last);
}

/* Paid orders up to now with ids LO..HI. Each order id is one range's, so
 * the per-order arrays are written by one thread only. */
static int orders_range(patron_snapshot *sn, sqlite3 *db, void *arg, patron_err *err)
{
	orders_part *p = arg;
	sqlite3_stmt *st = prepare_on(sn, db, "SELECT id, customer_id, placed_at, total_cents FROM"
				      " orders WHERE id BETWEEN ?2 AND ?3 AND revenue AND"
				      " placed_at <= ?1", err);
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, sn->now);
	sqlite3_bind_int64(st, 2, p->lo);
	sqlite3_bind_int64(st, 3, p->hi);
	int64_t d30 = sn->now - 30 * 86400, d90 = sn->now - 90 * 86400, d365 = sn->now - 365 * 86400;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t oid = sqlite3_column_int64(st, 0);
		int32_t r = row_of(sn, sqlite3_column_int64(st, 1));
		int64_t at = sqlite3_column_int64(st, 2);
		if (r < 0 || oid < 1 || oid > sn->max_oid)
			continue;
		int64_t cents = sqlite3_column_int64(st, 3);
		sn->order_row[oid] = r;
		sn->order_at[oid] = at;
		sn->order_cents[oid] = cents;
		if (!p->freq)
			continue;	/* the per-order arrays made again */
		if (p->freq[r]++ == 0 || at < p->first[r])
			p->first[r] = at;
		if (p->freq[r] == 1 || at > p->last[r])
			p->last[r] = at;
		p->cents[r] += cents;
		p->c30[r] += at > d30;
		p->c90[r] += at > d90;
		p->c365[r] += at > d365;
	}
	return finish_on(sn, db, st, rc, err);
}

static void order_arrays_alloc(patron_snapshot *sn)
{
	size_t no = (size_t)sn->max_oid + 1;
	sn->order_row = patron_xmalloc(no * sizeof *sn->order_row);
	sn->order_at = patron_xmalloc(no * sizeof *sn->order_at);
	sn->order_cents = patron_xmalloc(no * sizeof *sn->order_cents);
	memset(sn->order_row, 0xff, no * sizeof *sn->order_row);
}

/* Frees each counted order's row, time and money (120 MB for six million
 * orders) once the graph has them: made again if the purchase days are
 * asked for after. */
static void order_arrays_free(patron_snapshot *sn)
{
	free(sn->order_row), free(sn->order_at), free(sn->order_cents);
	sn->order_row = NULL, sn->order_at = NULL, sn->order_cents = NULL;
}

/* Reads the paid orders into A (ids up to the middle, here) and B (the
 * rest, on a worker): 0, or -1 with err. */
static int read_order_halves(patron_snapshot *sn, orders_part *a, orders_part *b,
			     patron_err *err)
{
	int64_t mid = sn->max_oid / 2;
	a->lo = 1, a->hi = mid;
	b->lo = mid + 1, b->hi = sn->max_oid;
	worker w;
	worker_start(&w, sn, orders_range, b);
	int rc = orders_range(sn, patron_store_db(sn->store), a, err);
	patron_err werr;
	if (worker_join(&w, &werr) < 0 && rc == 0) {
		*err = werr;
		rc = -1;
	}
	return rc;
}

/* The largest order id, once: 0, or -1. */
static int max_order_id(patron_snapshot *sn, patron_err *err)
{
	if (sn->max_oid > 0)
		return 0;
	sn->max_oid = scalar(sn, "SELECT coalesce(max(id), 0) FROM orders", err);
	return sn->max_oid < 0 ? -1 : 0;
}

/* Each counted order's row, time and money, without the per-row sums (the
 * graph needs only these; the orders pass makes both): read in two halves,
 * the per-row sums left as they are. */
static int order_arrays(patron_snapshot *sn, patron_err *err)
{
	if (sn->order_row)
		return 0;
	if (build_rows(sn, err) < 0 || max_order_id(sn, err) < 0)
		return -1;
	order_arrays_alloc(sn);
	orders_part a = {0}, b = {0};
	int rc = read_order_halves(sn, &a, &b, err);
	if (rc < 0)
		order_arrays_free(sn);
	return rc;
}

/* The one pass over paid orders up to now, its two halves of order ids on
 * both cores (the pass was most of a snapshot's time). */
static int orders_pass(patron_snapshot *sn, patron_err *err)
{
	if (sn->orders_done)
		return 0;
	if (build_rows(sn, err) < 0 || max_order_id(sn, err) < 0)
		return -1;
	size_t rows = sn->rows;
	order_arrays_free(sn);	/* made again with the sums */
	order_arrays_alloc(sn);
	orders_part a = {0}, b = {0};
	orders_part_alloc(&a, rows);
	orders_part_alloc(&b, rows);
	int rc = read_order_halves(sn, &a, &b, err);
	for (size_t r = 0; r < rows && rc == 0; r++) {
		if (!b.freq[r])
			continue;
		if (!a.freq[r] || b.first[r] < a.first[r])
			a.first[r] = b.first[r];
		if (!a.freq[r] || b.last[r] > a.last[r])
			a.last[r] = b.last[r];
		a.freq[r] += b.freq[r];
		a.cents[r] += b.cents[r];
		a.c30[r] += b.c30[r];
		a.c90[r] += b.c90[r];
		a.c365[r] += b.c365[r];
	}
	orders_part_free(&b);
	sn->freq = a.freq, sn->c30 = a.c30, sn->c90 = a.c90, sn->c365 = a.c365;
	sn->cents = a.cents, sn->first = a.first, sn->last = a.last;
	if (rc < 0)
		return -1;
	sn->orders_done = 1;
	return 0;
}

enum {
	C_RECENCY, C_FREQUENCY, C_MONETARY, C_MEAN, C_TENURE, C_GAP, C_30, C_90, C_365, C_FIXED
};
static const char *const fixed_names[C_FIXED] = {
	"recency_days", "frequency", "monetary_total", "monetary_mean", "tenure_days",
	"mean_gap_days", "orders_30d", "orders_90d", "orders_365d",
};

/* An attribute that may give columns: numeric ones one column, text ones a
 * column per distinct value while they have few. */
typedef struct {
	char *name;
	int text;
	char *values[PATRON_ONEHOT_MAX];
	int nvalues, too_many;
	size_t col;	/* its first column */
	int order[PATRON_ONEHOT_MAX];	/* value index -> rank in sorted order */
} attr_def;

/* What the pass over attributes keeps of each cell, until the columns are
 * known. */
typedef struct {
	int32_t row;
	uint16_t def, value;	/* value: the text's index, for text attributes */
	double number;
} attr_cell;

static int by_string(const void *a, const void *b)
{
	return strcmp(**(char **const *)a, **(char **const *)b);
}

/* What the attributes pass finds. */
typedef struct {
	attr_def *defs;
	size_t ndefs;
	attr_cell *cells;
	size_t ncells;
} attr_scan;

/* Reads the attributes in one pass: their definitions, the distinct values
 * of text ones, and the cells. Only reads the rows, so it can run beside the
 * orders pass. */
static int attributes_pass(patron_snapshot *sn, sqlite3 *db, void *arg, patron_err *err)
{
	attr_scan *out = arg;
	attr_def **defs_out = &out->defs;
	size_t *ndefs = &out->ndefs;
	attr_cell **cells_out = &out->cells;
	size_t *ncells = &out->ncells;
	attr_def *defs = NULL;
	size_t nd = 0;
	sqlite3_stmt *st = prepare_on(sn, db, "SELECT name, type FROM attribute_defs "
				      "WHERE type IN ('integer', 'real', 'text') ORDER BY name", err);
	if (!st)
		return -1;
	while (sqlite3_step(st) == SQLITE_ROW) {
		defs = patron_xrealloc(defs, (nd + 1) * sizeof *defs);
		memset(&defs[nd], 0, sizeof *defs);
		defs[nd].name = patron_xstrdup((const char *)sqlite3_column_text(st, 0));
		defs[nd].text = strcmp((const char *)sqlite3_column_text(st, 1), "text") == 0;
		nd++;
	}
	sqlite3_finalize(st);
	*defs_out = defs;
	*ndefs = nd;
	*cells_out = NULL;
	*ncells = 0;
	if (nd == 0)
		return 0;

	size_t cap = 0, n = 0;
	attr_cell *cells = NULL;
	st = prepare_on(sn, db, "SELECT customer_id, name, value FROM attributes", err);
	if (!st)
		return -1;
	int rc;
	size_t last = 0;	/* rows come grouped by customer, names sorted */
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int32_t r = row_of(sn, sqlite3_column_int64(st, 0));
		if (r < 0)
			continue;
		const char *name = (const char *)sqlite3_column_text(st, 1);
		size_t d = last < nd && strcmp(defs[last].name, name) == 0 ? last : nd;
		for (size_t k = 0; d == nd && k < nd; k++)
			if (strcmp(defs[k].name, name) == 0)
				d = k;
		if (d == nd)
			continue;	/* a date attribute */
		last = d;
		attr_def *a = &defs[d];
		attr_cell cell = {r, (uint16_t)d, 0, 0.0};
		if (!a->text) {
			int t = sqlite3_column_type(st, 2);
			if (t != SQLITE_INTEGER && t != SQLITE_FLOAT)
				continue;
			cell.number = sqlite3_column_double(st, 2);
		} else {
			if (a->too_many)
				continue;
			const char *v = (const char *)sqlite3_column_text(st, 2);
			int k = 0;
			while (k < a->nvalues && strcmp(a->values[k], v) != 0)
				k++;
			if (k == a->nvalues) {
				if (a->nvalues == PATRON_ONEHOT_MAX) {
					a->too_many = 1;	/* free text, names: no columns */
					continue;
				}
				a->values[a->nvalues++] = patron_xstrdup(v);
			}
			cell.value = (uint16_t)k;
		}
		if (n == cap)
			cells = patron_xrealloc(cells, (cap = cap ? cap * 2 : 4096) * sizeof *cells);
		cells[n++] = cell;
	}
	*cells_out = cells;
	*ncells = n;
	return finish_on(sn, db, st, rc, err);
}

static const patron_features *build_features(patron_snapshot *sn, patron_err *err)
{
	const patron_features *result = NULL;
	attr_scan as = {0};
	scan_cache(sn, 1);
	if (build_rows(sn, err) < 0) {
		scan_cache(sn, 0);
		return NULL;
	}
	worker w;
	worker_start(&w, sn, attributes_pass, &as);
	int orders_rc = orders_pass(sn, err);
	patron_err werr;
	int attrs_rc = worker_join(&w, &werr);
	attr_def *defs = as.defs;
	attr_cell *cells = as.cells;
	size_t nd = as.ndefs, ncells = as.ncells;
	if (orders_rc < 0)
		goto out;
	if (attrs_rc < 0) {
		*err = werr;
		goto out;
	}

	/* The columns: the fixed ones, then each attribute's, values sorted. */
	size_t cols = C_FIXED;
	for (size_t d = 0; d < nd; d++) {
		attr_def *a = &defs[d];
		a->col = cols;
		if (!a->text) {
			cols++;
			continue;
		}
		if (a->too_many)
			continue;
		char **idx[PATRON_ONEHOT_MAX];
		for (int k = 0; k < a->nvalues; k++)
			idx[k] = &a->values[k];
		qsort(idx, (size_t)a->nvalues, sizeof *idx, by_string);
		for (int k = 0; k < a->nvalues; k++)
			a->order[idx[k] - a->values] = k;
		cols += (size_t)a->nvalues;
	}
	sn->names = patron_xcalloc(cols, sizeof *sn->names);
	for (size_t c = 0; c < C_FIXED; c++)
		sn->names[c] = patron_xstrdup(fixed_names[c]);
	for (size_t d = 0; d < nd; d++) {
		attr_def *a = &defs[d];
		patron_buf b = {0};
		if (!a->text) {
			patron_buf_printf(&b, "attr.%s", a->name);
			sn->names[a->col] = b.data;
		}
		for (int k = 0; a->text && !a->too_many && k < a->nvalues; k++) {
			b = (patron_buf){0};
			patron_buf_printf(&b, "attr.%s=%s", a->name, a->values[k]);
			sn->names[a->col + (size_t)a->order[k]] = b.data;
		}
	}
	sn->features.cols = cols;

	size_t rows = sn->rows;
	double *x = sn->x = patron_xmalloc((rows ? rows : 1) * cols * sizeof *x);
	int64_t today = patron_day_number(sn->now);
	for (size_t r = 0; r < rows; r++) {
		double *row = x + r * cols;
		double f = sn->freq[r];
		/* Calendar days, as the customer profile counts them. */
		row[C_TENURE] = (double)(today - patron_day_number(sn->created[r]));
		row[C_FREQUENCY] = f;
		row[C_MONETARY] = (double)sn->cents[r] / 100.0;
		row[C_30] = sn->c30[r];
		row[C_90] = sn->c90[r];
		row[C_365] = sn->c365[r];
		row[C_RECENCY] = f > 0 ? (double)(today - patron_day_number(sn->last[r])) : NAN;
		row[C_MEAN] = f > 0 ? row[C_MONETARY] / f : NAN;
		row[C_GAP] = f > 1 ? (double)(sn->last[r] - sn->first[r]) / DAY / (f - 1) : NAN;
		for (size_t d = 0; d < nd; d++) {
			attr_def *a = &defs[d];
			if (!a->text)
				row[a->col] = NAN;	/* missing until a cell says otherwise */
			for (int k = 0; a->text && !a->too_many && k < a->nvalues; k++)
				row[a->col + (size_t)k] = 0.0;
		}
	}
	for (size_t i = 0; i < ncells; i++) {
		attr_def *a = &defs[cells[i].def];
		double *row = x + (size_t)cells[i].row * cols;
		if (!a->text)
			row[a->col] = cells[i].number;
		else if (!a->too_many)
			row[a->col + (size_t)a->order[cells[i].value]] = 1.0;
	}
	sn->features = (patron_features){rows, cols, x, (const char *const *)sn->names, sn->ids};
	sn->built_features = 1;
	result = &sn->features;
out:
	for (size_t d = 0; d < nd; d++) {
		free(defs[d].name);
		for (int k = 0; k < defs[d].nvalues; k++)
			free(defs[d].values[k]);
	}
	free(defs);
	free(cells);
	scan_cache(sn, 0);
	return result;
}

/* One order line, as kept between the scan and the grouping by row: its row
 * and time are the order's, looked up when needed. */
typedef struct {
	uint32_t order, col;
	float quantity;
	/* 16 bytes a line, as ten million lines are held at once: a line of
	 * more than 21,474,836.47 counts as that much in the graph's spend
	 * (the store keeps its amount). */
	int32_t cents;
} line;

/* The lines of a range of order ids, scanned on one core. */
typedef struct {
	line *v;
	size_t n, cap;
	int64_t lo, hi;
	const int32_t *col_of;
	int64_t max_pid;
} line_scan;

static int lines_pass(patron_snapshot *sn, sqlite3 *db, void *arg, patron_err *err)
{
	line_scan *ls = arg;
	sqlite3_stmt *st = prepare_on(sn, db, "SELECT order_id, product_id, quantity, amount_cents "
				      "FROM order_lines WHERE order_id BETWEEN ?1 AND ?2", err);
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, ls->lo);
	sqlite3_bind_int64(st, 2, ls->hi);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t oid = sqlite3_column_int64(st, 0), pid = sqlite3_column_int64(st, 1);
		if (oid < 1 || oid > sn->max_oid || sn->order_row[oid] < 0 || pid < 1 ||
		    pid > ls->max_pid)
			continue;
		if (ls->n == ls->cap)
			ls->v = patron_xrealloc(ls->v, (ls->cap = ls->cap ? ls->cap * 2 : 65536) *
						sizeof *ls->v);
		int64_t cents = sqlite3_column_int64(st, 3);
		cents = cents > INT32_MAX ? INT32_MAX : cents < -INT32_MAX ? -INT32_MAX : cents;
		ls->v[ls->n++] = (line){(uint32_t)oid, (uint32_t)ls->col_of[pid],
					(float)sqlite3_column_int64(st, 2), (int32_t)cents};
	}
	return finish_on(sn, db, st, rc, err);
}

/* Line I of the two scanned halves, taken as one array. */
static const line *line_at(const line_scan *ls, uint32_t i)
{
	return i < ls[0].n ? &ls[0].v[i] : &ls[1].v[i - ls[0].n];
}

/* Sorts one row's lines (indices) by product column; rows are short. */
static void sort_row(uint32_t *idx, size_t n, const line_scan *ls)
{
	for (size_t i = 1; i < n; i++) {
		uint32_t v = idx[i];
		size_t j = i;
		while (j > 0 && line_at(ls, idx[j - 1])->col > line_at(ls, v)->col) {
			idx[j] = idx[j - 1];
			j--;
		}
		idx[j] = v;
	}
}

static const patron_graph *build_graph(patron_snapshot *sn, patron_err *err)
{
	scan_cache(sn, 1);
	const patron_graph *result = NULL;
	if (order_arrays(sn, err) < 0)
		goto done;

	/* Products become dense columns in id order. */
	int64_t max_pid = scalar(sn, "SELECT coalesce(max(id), 0) FROM products", err);
	if (max_pid < 0)
		goto done;
	int32_t *col_of = patron_xmalloc((size_t)(max_pid + 1) * sizeof *col_of);
	sn->product_ids = patron_xmalloc((size_t)(max_pid + 1) * sizeof *sn->product_ids);
	size_t np = 0;
	line *lines = NULL, *lines2 = NULL;
	uint32_t *idx = NULL;
	size_t *end = NULL;
	int rc;
	sqlite3_stmt *st = prepare(sn, "SELECT id FROM products ORDER BY id", err);
	if (!st)
		goto out;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t id = sqlite3_column_int64(st, 0);
		col_of[id] = (int32_t)np;
		sn->product_ids[np++] = id;
	}
	if (finish(sn, st, rc, err) < 0)
		goto out;

	/* The lines, in two halves of the order ids, one per core. */
	line_scan ls[2] = {
		{.lo = 1, .hi = sn->max_oid / 2, .col_of = col_of, .max_pid = max_pid},
		{.lo = sn->max_oid / 2 + 1, .hi = sn->max_oid, .col_of = col_of, .max_pid = max_pid},
	};
	worker w;
	worker_start(&w, sn, lines_pass, &ls[1]);
	int here = lines_pass(sn, patron_store_db(sn->store), &ls[0], err);
	patron_err werr;
	int there = worker_join(&w, &werr);
	lines = ls[0].v;
	lines2 = ls[1].v;
	if (here < 0)
		goto out;
	if (there < 0) {
		*err = werr;
		goto out;
	}
	size_t n = ls[0].n + ls[1].n, rows = sn->rows;
	if (n > UINT32_MAX) {
		patron_err_set(err, "%s: more than %u order lines", patron_store_path(sn->store),
			       UINT32_MAX);
		goto out;
	}
	end = zeroed(rows + 1, sizeof *end);
	for (uint32_t i = 0; i < n; i++)
		end[sn->order_row[line_at(ls, i)->order] + 1]++;

	/* Counting sort by row, then each row by column, merging repeated
	 * purchases of one product into one entry. */
	for (size_t r = 0; r < rows; r++)
		end[r + 1] += end[r];
	idx = patron_xmalloc((n ? n : 1) * sizeof *idx);
	for (uint32_t i = 0; i < n; i++)
		idx[end[sn->order_row[line_at(ls, i)->order]]++] = i;
	/* end[r] is now where row r ends; row r starts where row r-1 ended. */
	sn->offsets = patron_xmalloc((rows + 1) * sizeof *sn->offsets);
	sn->cols = patron_xmalloc((n ? n : 1) * sizeof *sn->cols);
	sn->quantity = patron_xmalloc((n ? n : 1) * sizeof *sn->quantity);
	sn->spend = patron_xmalloc((n ? n : 1) * sizeof *sn->spend);
	sn->last_at = patron_xmalloc((n ? n : 1) * sizeof *sn->last_at);
	size_t nnz = 0, begin = 0;
	for (size_t r = 0; r < rows; r++) {
		sn->offsets[r] = nnz;
		sort_row(idx + begin, end[r] - begin, ls);
		for (size_t k = begin; k < end[r]; k++) {
			const line *l = line_at(ls, idx[k]);
			int64_t at = sn->order_at[l->order];
			if (nnz > sn->offsets[r] && sn->cols[nnz - 1] == l->col) {
				sn->quantity[nnz - 1] += l->quantity;
				sn->spend[nnz - 1] += l->cents / 100.0;
				if (at > sn->last_at[nnz - 1])
					sn->last_at[nnz - 1] = at;
				continue;
			}
			sn->cols[nnz] = l->col;
			sn->quantity[nnz] = l->quantity;
			sn->spend[nnz] = l->cents / 100.0;
			sn->last_at[nnz] = at;
			nnz++;
		}
		begin = end[r];
	}
	sn->offsets[rows] = nnz;
	sn->graph = (patron_graph){rows, np, nnz, sn->ids, sn->product_ids, sn->offsets,
				   sn->cols, sn->quantity, sn->spend, sn->last_at};
	sn->built_graph = 1;
	result = &sn->graph;
	order_arrays_free(sn);
out:
	free(col_of);
	free(lines);
	free(lines2);
	free(idx);
	free(end);
done:
	scan_cache(sn, 0);
	return result;
}

const patron_features *patron_snapshot_features(patron_snapshot *sn, patron_err *err)
{
	if (sn->built_features)
		return &sn->features;
	double t0 = patron_clock();
	const patron_features *f = build_features(sn, err);
	sn->build_secs += patron_clock() - t0;
	return f;
}

static const char *const summary_names[] = {"recency_days", "frequency", "monetary_total"};

/* The summary from customer_orders, or NULL with *STALE set when a total
 * runs past now (or NULL with err on failure). */
static const patron_features *build_summary(patron_snapshot *sn, int *stale, patron_err *err)
{
	*stale = 0;
	if (build_rows(sn, err) < 0)
		return NULL;
	size_t rows = sn->rows;
	double *x = patron_xmalloc((rows ? rows : 1) * 3 * sizeof *x);
	for (size_t r = 0; r < rows; r++) {
		x[3 * r] = NAN;	/* no paid order: no recency, as in the matrix */
		x[3 * r + 1] = x[3 * r + 2] = 0.0;
	}
	sqlite3_stmt *st = prepare(sn, "SELECT customer_id, orders, spent_cents, last_at"
				   " FROM customer_orders", err);
	if (!st) {
		free(x);
		return NULL;
	}
	int64_t today = patron_day_number(sn->now);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t last = sqlite3_column_int64(st, 3);
		if (last > sn->now) {
			*stale = 1;
			break;
		}
		int32_t r = row_of(sn, sqlite3_column_int64(st, 0));
		int64_t n = sqlite3_column_int64(st, 1);
		if (r < 0 || n <= 0)
			continue;
		/* as build_features has them */
		x[3 * (size_t)r] = (double)(today - patron_day_number(last));
		x[3 * (size_t)r + 1] = (double)n;
		x[3 * (size_t)r + 2] = (double)sqlite3_column_int64(st, 2) / 100.0;
	}
	if (*stale)
		rc = SQLITE_DONE;
	if (finish(sn, st, rc, err) < 0 || *stale) {
		free(x);
		return NULL;
	}
	sn->summary_x = x;
	sn->summary = (patron_features){.rows = rows, .cols = 3, .x = x,
					.names = summary_names, .customer_ids = sn->ids};
	sn->built_summary = 1;
	return &sn->summary;
}

const patron_features *patron_snapshot_summary(patron_snapshot *sn, patron_err *err)
{
	if (sn->built_features)
		return &sn->features;
	if (sn->built_summary)
		return &sn->summary;
	double t0 = patron_clock();
	int stale;
	const patron_features *f = build_summary(sn, &stale, err);
	sn->build_secs += patron_clock() - t0;
	return f || !stale ? f : patron_snapshot_features(sn, err);
}

const patron_graph *patron_snapshot_graph(patron_snapshot *sn, patron_err *err)
{
	if (sn->built_graph)
		return &sn->graph;
	double t0 = patron_clock();
	const patron_graph *g = build_graph(sn, err);
	sn->build_secs += patron_clock() - t0;
	return g;
}

/* Purchase days: each paid order up to now put in its customer's slice
 * (the orders pass counted them), then each slice sorted by day and the
 * orders of one day added together. */
typedef struct {
	int32_t day;
	int64_t cents;
} day_cents;

static int by_day(const void *a, const void *b)
{
	const day_cents *x = a, *y = b;
	return (x->day > y->day) - (x->day < y->day);
}

static const patron_purchases *build_purchases(patron_snapshot *sn, patron_err *err)
{
	if (orders_pass(sn, err) < 0 || order_arrays(sn, err) < 0)
		return NULL;
	size_t rows = sn->rows, total = 0;
	sn->day_offsets = zeroed(rows + 1, sizeof *sn->day_offsets);
	for (size_t r = 0; r < rows; r++) {
		sn->day_offsets[r] = total;
		total += sn->freq[r];
	}
	sn->day_offsets[rows] = total;
	/* The orders pass kept each counted order's row, time and money: no
	 * second scan of the orders (unless the graph was built first and let
	 * them go). */
	day_cents *all = zeroed(total, sizeof *all);
	size_t *fill = zeroed(rows, sizeof *fill);
	for (int64_t oid = 1; oid <= sn->max_oid; oid++) {
		int32_t r = sn->order_row[oid];
		if (r < 0 || fill[r] >= sn->freq[r])
			continue;
		day_cents *d = &all[sn->day_offsets[r] + fill[r]++];
		d->day = (int32_t)patron_day_number(sn->order_at[oid]);
		d->cents = sn->order_cents[oid];
	}
	free(fill);
	sn->days = zeroed(total, sizeof *sn->days);
	sn->day_amounts = zeroed(total, sizeof *sn->day_amounts);
	size_t out = 0;
	for (size_t r = 0; r < rows; r++) {
		size_t from = sn->day_offsets[r], to = sn->day_offsets[r + 1];
		if (to - from > 1)
			qsort(all + from, to - from, sizeof *all, by_day);
		sn->day_offsets[r] = out;
		for (size_t i = from; i < to; i++) {
			if (out > sn->day_offsets[r] && sn->days[out - 1] == all[i].day) {
				sn->day_amounts[out - 1] += (double)all[i].cents / 100.0;
				continue;
			}
			sn->days[out] = all[i].day;
			sn->day_amounts[out++] = (double)all[i].cents / 100.0;
		}
	}
	sn->day_offsets[rows] = out;
	free(all);
	sn->purchases = (patron_purchases){rows, out, sn->ids, sn->day_offsets, sn->days,
					   sn->day_amounts};
	sn->built_purchases = 1;
	return &sn->purchases;
}

const patron_purchases *patron_snapshot_purchases(patron_snapshot *sn, patron_err *err)
{
	if (sn->built_purchases)
		return &sn->purchases;
	double t0 = patron_clock();
	const patron_purchases *p = build_purchases(sn, err);
	sn->build_secs += patron_clock() - t0;
	return p;
}

long patron_features_row(const patron_features *f, int64_t id)
{
	size_t lo = 0, hi = f->rows;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (f->customer_ids[mid] == id)
			return (long)mid;
		if (f->customer_ids[mid] < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}
