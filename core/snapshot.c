#include "snapshot.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "value.h"

#define DAY 86400.0

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
	free(sn->names);
	free(sn->x);
	free(sn->ids);
	free(sn->row_of);
	free(sn->offsets);
	free(sn->cols);
	free(sn->quantity);
	free(sn->spend);
	free(sn->last_at);
	free(sn->product_ids);
	memset(sn, 0, sizeof *sn);
}

static sqlite3_stmt *prepare(patron_snapshot *sn, const char *sql, patron_err *err)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(patron_store_db(sn->store), sql, -1, &st, NULL) != SQLITE_OK) {
		patron_store_fail(sn->store, err, "reading the store");
		return NULL;
	}
	return st;
}

static int finish(patron_snapshot *sn, sqlite3_stmt *st, int rc, patron_err *err)
{
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return patron_store_fail(sn->store, err, "reading the store");
	return 0;
}

/* The rows both views share: customers who existed at now. */
static int build_rows(patron_snapshot *sn, patron_err *err)
{
	if (sn->ids)
		return 0;
	sqlite3_stmt *st = prepare(sn, "SELECT coalesce(max(id), 0), count(*) FROM customers", err);
	if (!st)
		return -1;
	sqlite3_step(st);
	sn->max_id = sqlite3_column_int64(st, 0);
	size_t cap = (size_t)sqlite3_column_int64(st, 1);
	sqlite3_finalize(st);

	sn->ids = patron_xmalloc((cap ? cap : 1) * sizeof *sn->ids);
	sn->row_of = patron_xmalloc((size_t)(sn->max_id + 1) * sizeof *sn->row_of);
	memset(sn->row_of, 0xff, (size_t)(sn->max_id + 1) * sizeof *sn->row_of);
	st = prepare(sn, "SELECT id FROM customers WHERE created_at <= ?1 ORDER BY id", err);
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, sn->now);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && sn->rows < cap) {
		int64_t id = sqlite3_column_int64(st, 0);
		sn->row_of[id] = (int32_t)sn->rows;
		sn->ids[sn->rows++] = id;
	}
	return finish(sn, st, rc == SQLITE_ROW ? SQLITE_DONE : rc, err);
}

static int32_t row_of(const patron_snapshot *sn, int64_t id)
{
	return id > 0 && id <= sn->max_id ? sn->row_of[id] : -1;
}

enum {
	C_RECENCY, C_FREQUENCY, C_MONETARY, C_MEAN, C_TENURE, C_GAP, C_30, C_90, C_365, C_FIXED
};
static const char *const fixed_names[C_FIXED] = {
	"recency_days", "frequency", "monetary_total", "monetary_mean", "tenure_days",
	"mean_gap_days", "orders_30d", "orders_90d", "orders_365d",
};

/* Columns from attributes: numeric ones as themselves, text ones with few
 * distinct values one-hot. Fills NAMES (appending) and, per column, the
 * attribute name and (for one-hot) the value it stands for. */
typedef struct {
	char *attr, *value;	/* value NULL: a numeric column */
} attr_col;

static int plan_attribute_columns(patron_snapshot *sn, attr_col **out, size_t *n,
				  patron_err *err)
{
	*out = NULL;
	*n = 0;
	size_t cap = 0;
	sqlite3_stmt *defs = prepare(sn, "SELECT name, type FROM attribute_defs "
				     "WHERE type IN ('integer', 'real', 'text') ORDER BY name", err);
	if (!defs)
		return -1;
	sqlite3_stmt *vals = prepare(sn, "SELECT DISTINCT value FROM attributes WHERE name = ?1 "
				     "ORDER BY value LIMIT ?2", err);
	if (!vals) {
		sqlite3_finalize(defs);
		return -1;
	}
	while (sqlite3_step(defs) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(defs, 0);
		int text = strcmp((const char *)sqlite3_column_text(defs, 1), "text") == 0;
		if (!text) {
			if (*n == cap)
				*out = patron_xrealloc(*out, (cap = cap * 2 + 8) * sizeof **out);
			(*out)[(*n)++] = (attr_col){patron_xstrdup(name), NULL};
			continue;
		}
		/* One more than the limit tells whether it is over. */
		sqlite3_reset(vals);
		sqlite3_bind_text(vals, 1, name, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int(vals, 2, PATRON_ONEHOT_MAX + 1);
		char *v[PATRON_ONEHOT_MAX + 1];
		int nv = 0;
		while (sqlite3_step(vals) == SQLITE_ROW)
			v[nv++] = patron_xstrdup((const char *)sqlite3_column_text(vals, 0));
		for (int i = 0; i < nv; i++) {
			if (nv > PATRON_ONEHOT_MAX) {
				free(v[i]);
				continue;
			}
			if (*n == cap)
				*out = patron_xrealloc(*out, (cap = cap * 2 + 8) * sizeof **out);
			(*out)[(*n)++] = (attr_col){patron_xstrdup(name), v[i]};
		}
	}
	sqlite3_finalize(vals);
	sqlite3_finalize(defs);
	return 0;
}

/* Index of the column for (attribute, value): a binary search, the plan is
 * sorted by attribute then value. -1 when none. */
static long find_attr_col(const attr_col *ac, size_t n, const char *attr, const char *value)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(ac[mid].attr, attr);
		if (c == 0 && ac[mid].value && value)
			c = strcmp(ac[mid].value, value);
		else if (c == 0 && ac[mid].value)
			c = 1;
		else if (c == 0 && value)
			c = -1;
		if (c == 0)
			return (long)mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

const patron_features *patron_snapshot_features(patron_snapshot *sn, patron_err *err)
{
	if (sn->built_features)
		return &sn->features;
	if (build_rows(sn, err) < 0)
		return NULL;
	attr_col *ac;
	size_t nac;
	if (plan_attribute_columns(sn, &ac, &nac, err) < 0)
		return NULL;
	size_t cols = C_FIXED + nac, rows = sn->rows;
	sn->names = patron_xcalloc(cols, sizeof *sn->names);
	for (size_t c = 0; c < C_FIXED; c++)
		sn->names[c] = patron_xstrdup(fixed_names[c]);
	for (size_t a = 0; a < nac; a++) {
		patron_buf b = {0};
		patron_buf_printf(&b, "attr.%s%s%s", ac[a].attr, ac[a].value ? "=" : "",
				  ac[a].value ? ac[a].value : "");
		sn->names[C_FIXED + a] = b.data;
	}
	sn->features.cols = cols;
	double *x = sn->x = patron_xmalloc((rows ? rows : 1) * cols * sizeof *x);
	/* first/last order per row, kept apart while scanning */
	int64_t *first = patron_xmalloc((rows ? rows : 1) * sizeof *first);
	int64_t *last = patron_xmalloc((rows ? rows : 1) * sizeof *last);
	for (size_t r = 0; r < rows; r++) {
		double *row = x + r * cols;
		for (size_t c = 0; c < cols; c++)
			row[c] = c < C_FIXED ? 0.0 : (ac[c - C_FIXED].value ? 0.0 : NAN);
		first[r] = INT64_MAX;
		last[r] = INT64_MIN;
	}

	int rc = -1;
	sqlite3_stmt *st = prepare(sn, "SELECT customer_id, placed_at, total_cents FROM orders "
				   "WHERE revenue AND placed_at <= ?1", err);
	if (!st)
		goto out;
	sqlite3_bind_int64(st, 1, sn->now);
	int64_t d30 = sn->now - 30 * 86400, d90 = sn->now - 90 * 86400, d365 = sn->now - 365 * 86400;
	int step;
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		int32_t r = row_of(sn, sqlite3_column_int64(st, 0));
		if (r < 0)
			continue;
		int64_t at = sqlite3_column_int64(st, 1);
		double *row = x + (size_t)r * cols;
		row[C_FREQUENCY] += 1;
		row[C_MONETARY] += (double)sqlite3_column_int64(st, 2) / 100.0;
		row[C_30] += at > d30;
		row[C_90] += at > d90;
		row[C_365] += at > d365;
		if (at < first[r])
			first[r] = at;
		if (at > last[r])
			last[r] = at;
	}
	if (finish(sn, st, step, err) < 0)
		goto out;

	st = prepare(sn, "SELECT id, created_at FROM customers WHERE created_at <= ?1", err);
	if (!st)
		goto out;
	sqlite3_bind_int64(st, 1, sn->now);
	int64_t today = patron_day_number(sn->now);
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		int32_t r = row_of(sn, sqlite3_column_int64(st, 0));
		if (r < 0)
			continue;
		double *row = x + (size_t)r * cols;
		int64_t created = sqlite3_column_int64(st, 1);
		/* Calendar days, as the customer profile counts them. */
		row[C_TENURE] = (double)(today - patron_day_number(created));
		if (row[C_FREQUENCY] > 0) {
			row[C_RECENCY] = (double)(today - patron_day_number(last[r]));
			row[C_MEAN] = row[C_MONETARY] / row[C_FREQUENCY];
			row[C_GAP] = row[C_FREQUENCY] > 1
				     ? (double)(last[r] - first[r]) / DAY / (row[C_FREQUENCY] - 1)
				     : NAN;
		} else {
			row[C_RECENCY] = row[C_MEAN] = row[C_GAP] = NAN;
		}
	}
	if (finish(sn, st, step, err) < 0)
		goto out;

	if (nac) {
		st = prepare(sn, "SELECT customer_id, name, value FROM attributes", err);
		if (!st)
			goto out;
		while ((step = sqlite3_step(st)) == SQLITE_ROW) {
			int32_t r = row_of(sn, sqlite3_column_int64(st, 0));
			if (r < 0)
				continue;
			const char *name = (const char *)sqlite3_column_text(st, 1);
			int numeric = sqlite3_column_type(st, 2) == SQLITE_INTEGER ||
				      sqlite3_column_type(st, 2) == SQLITE_FLOAT;
			long c = numeric ? find_attr_col(ac, nac, name, NULL) : -1;
			if (c >= 0) {
				x[(size_t)r * cols + C_FIXED + (size_t)c] = sqlite3_column_double(st, 2);
				continue;
			}
			c = find_attr_col(ac, nac, name, (const char *)sqlite3_column_text(st, 2));
			if (c >= 0)
				x[(size_t)r * cols + C_FIXED + (size_t)c] = 1.0;
		}
		if (finish(sn, st, step, err) < 0)
			goto out;
	}
	sn->features = (patron_features){rows, cols, x, (const char *const *)sn->names, sn->ids};
	sn->built_features = 1;
	rc = 0;
out:
	for (size_t a = 0; a < nac; a++) {
		free(ac[a].attr);
		free(ac[a].value);
	}
	free(ac);
	free(first);
	free(last);
	return rc == 0 ? &sn->features : NULL;
}

/* Sorts one row's entries (given by index into the line arrays) by product
 * column; rows are short, so insertion sort. */
static void sort_row(uint32_t *idx, size_t n, const uint32_t *col)
{
	for (size_t i = 1; i < n; i++) {
		uint32_t v = idx[i];
		size_t j = i;
		while (j > 0 && col[idx[j - 1]] > col[v]) {
			idx[j] = idx[j - 1];
			j--;
		}
		idx[j] = v;
	}
}

const patron_graph *patron_snapshot_graph(patron_snapshot *sn, patron_err *err)
{
	if (sn->built_graph)
		return &sn->graph;
	if (build_rows(sn, err) < 0)
		return NULL;

	/* Products become dense columns in id order. */
	sqlite3_stmt *st = prepare(sn, "SELECT coalesce(max(id), 0), count(*) FROM products", err);
	if (!st)
		return NULL;
	sqlite3_step(st);
	int64_t max_pid = sqlite3_column_int64(st, 0);
	size_t nproducts = (size_t)sqlite3_column_int64(st, 1);
	sqlite3_finalize(st);
	int32_t *col_of = patron_xmalloc((size_t)(max_pid + 1) * sizeof *col_of);
	sn->product_ids = patron_xmalloc((nproducts ? nproducts : 1) * sizeof *sn->product_ids);
	size_t np = 0;
	st = prepare(sn, "SELECT id FROM products ORDER BY id", err);
	if (!st) {
		free(col_of);
		return NULL;
	}
	while (sqlite3_step(st) == SQLITE_ROW && np < nproducts) {
		int64_t id = sqlite3_column_int64(st, 0);
		col_of[id] = (int32_t)np;
		sn->product_ids[np++] = id;
	}
	sqlite3_finalize(st);

	/* Order -> (row, time) for the paid orders up to now. */
	st = prepare(sn, "SELECT coalesce(max(id), 0) FROM orders", err);
	if (!st) {
		free(col_of);
		return NULL;
	}
	sqlite3_step(st);
	int64_t max_oid = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	int32_t *order_row = patron_xmalloc((size_t)(max_oid + 1) * sizeof *order_row);
	int64_t *order_at = patron_xmalloc((size_t)(max_oid + 1) * sizeof *order_at);
	memset(order_row, 0xff, (size_t)(max_oid + 1) * sizeof *order_row);

	uint32_t *lrow = NULL, *lcol = NULL, *idx = NULL;
	double *lqty = NULL, *lspend = NULL;
	int64_t *lat = NULL;
	size_t *count = NULL;
	const patron_graph *result = NULL;
	int step;
	st = prepare(sn, "SELECT id, customer_id, placed_at FROM orders "
		     "WHERE revenue AND placed_at <= ?1", err);
	if (!st)
		goto out;
	sqlite3_bind_int64(st, 1, sn->now);
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t oid = sqlite3_column_int64(st, 0);
		order_row[oid] = row_of(sn, sqlite3_column_int64(st, 1));
		order_at[oid] = sqlite3_column_int64(st, 2);
	}
	if (finish(sn, st, step, err) < 0)
		goto out;

	/* The lines, kept as parallel arrays, then grouped by row. */
	st = prepare(sn, "SELECT count(*) FROM order_lines", err);
	if (!st)
		goto out;
	sqlite3_step(st);
	size_t cap = (size_t)sqlite3_column_int64(st, 0), n = 0;
	sqlite3_finalize(st);
	if (!cap)
		cap = 1;
	lrow = patron_xmalloc(cap * sizeof *lrow);
	lcol = patron_xmalloc(cap * sizeof *lcol);
	lqty = patron_xmalloc(cap * sizeof *lqty);
	lspend = patron_xmalloc(cap * sizeof *lspend);
	lat = patron_xmalloc(cap * sizeof *lat);
	st = prepare(sn, "SELECT order_id, product_id, quantity, amount_cents FROM order_lines", err);
	if (!st)
		goto out;
	while ((step = sqlite3_step(st)) == SQLITE_ROW && n < cap) {
		int64_t oid = sqlite3_column_int64(st, 0), pid = sqlite3_column_int64(st, 1);
		if (oid < 1 || oid > max_oid || order_row[oid] < 0 || pid < 1 || pid > max_pid)
			continue;
		lrow[n] = (uint32_t)order_row[oid];
		lcol[n] = (uint32_t)col_of[pid];
		lqty[n] = (double)sqlite3_column_int64(st, 2);
		lspend[n] = (double)sqlite3_column_int64(st, 3) / 100.0;
		lat[n] = order_at[oid];
		n++;
	}
	if (finish(sn, st, step == SQLITE_ROW ? SQLITE_DONE : step, err) < 0)
		goto out;

	/* Counting sort of the lines by row, then each row by column, merging
	 * repeated purchases of a product into one entry. */
	size_t rows = sn->rows;
	count = patron_xcalloc(rows + 1, sizeof *count);
	for (size_t i = 0; i < n; i++)
		count[lrow[i] + 1]++;
	for (size_t r = 0; r < rows; r++)
		count[r + 1] += count[r];
	idx = patron_xmalloc((n ? n : 1) * sizeof *idx);
	for (size_t i = 0; i < n; i++)
		idx[count[lrow[i]]++] = (uint32_t)i;
	/* count[r] now holds the end of row r; the start is count[r - 1]. */
	sn->offsets = patron_xmalloc((rows + 1) * sizeof *sn->offsets);
	sn->cols = patron_xmalloc((n ? n : 1) * sizeof *sn->cols);
	sn->quantity = patron_xmalloc((n ? n : 1) * sizeof *sn->quantity);
	sn->spend = patron_xmalloc((n ? n : 1) * sizeof *sn->spend);
	sn->last_at = patron_xmalloc((n ? n : 1) * sizeof *sn->last_at);
	size_t nnz = 0, begin = 0;
	for (size_t r = 0; r < rows; r++) {
		size_t end = count[r];
		sn->offsets[r] = nnz;
		sort_row(idx + begin, end - begin, lcol);
		for (size_t k = begin; k < end; k++) {
			uint32_t i = idx[k];
			if (nnz > sn->offsets[r] && sn->cols[nnz - 1] == lcol[i]) {
				sn->quantity[nnz - 1] += lqty[i];
				sn->spend[nnz - 1] += lspend[i];
				if (lat[i] > sn->last_at[nnz - 1])
					sn->last_at[nnz - 1] = lat[i];
				continue;
			}
			sn->cols[nnz] = lcol[i];
			sn->quantity[nnz] = lqty[i];
			sn->spend[nnz] = lspend[i];
			sn->last_at[nnz] = lat[i];
			nnz++;
		}
		begin = end;
	}
	sn->offsets[rows] = nnz;
	sn->graph = (patron_graph){rows, np, nnz, sn->ids, sn->product_ids, sn->offsets,
				   sn->cols, sn->quantity, sn->spend, sn->last_at};
	sn->built_graph = 1;
	result = &sn->graph;
out:
	free(col_of);
	free(order_row);
	free(order_at);
	free(lrow);
	free(lcol);
	free(lqty);
	free(lspend);
	free(lat);
	free(idx);
	free(count);
	return result;
}
