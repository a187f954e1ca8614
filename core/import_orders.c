/* Orders: an order's rows gathered and written whole, its money (charged,
 * refunded, disputed, cancelled) and its currency, guest orders, and orders
 * that a later export changed. What the columns are called is the format's
 * business (formats.h); how money and states combine is decided here. */
#include "import_impl.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rows.h"

/* How many rows the base currency is chosen from, when nothing names it. */
#define CURRENCY_SAMPLE 100000

static size_t arena_add(patron_buf *b, const char *s)
{
	size_t at = b->len;
	patron_buf_add(b, s, strlen(s) + 1);
	return at;
}

void patron_base_currency(patron_store *s, const char *configured, char out[8])
{
	out[0] = '\0';
	if (configured && patron_currency_code(configured, out) == 0)
		return;
	out[0] = '\0';
	sqlite3_stmt *st = patron_store_stmt(s, ST_SETTING_GET);
	sqlite3_bind_text(st, 1, "currency", -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		snprintf(out, 8, "%s", (const char *)sqlite3_column_text(st, 0));
	sqlite3_reset(st);
}

/* The most common currency in column COL of the file's first rows, or "". */
static void common_currency(importer *im, int col, char out[8])
{
	char seen[16][8];
	uint64_t count[16] = {0};
	size_t n = 0, rows = 0;
	patron_err ignored;
	out[0] = '\0';
	patron_csv *r = import_reopen(im, &ignored);
	if (!r)
		return;
	patron_csv_record rec;
	while (rows++ <= CURRENCY_SAMPLE && patron_csv_next(r, &rec, &ignored) > 0) {
		char code[8];
		if (rows == 1 || (size_t)col >= rec.n || patron_currency_code(rec.field[col], code) < 0)
			continue;	/* the header, or not a currency */
		size_t i = 0;
		while (i < n && strcmp(seen[i], code) != 0)
			i++;
		if (i == n && n < 16)
			snprintf(seen[n++], sizeof seen[0], "%s", code);
		if (i < n)
			count[i]++;
	}
	patron_csv_close(r);
	uint64_t best = 0;
	for (size_t i = 0; i < n; i++)
		if (count[i] > best)
			best = count[i], snprintf(out, 8, "%s", seen[i]);
}

static int put_setting(importer *im, const char *name, const char *value, patron_err *err)
{
	sqlite3_stmt *st = patron_store_stmt(im->s, ST_SETTING_PUT);
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
	return import_step(im, st, "recording the base currency", err);
}

/* The base currency: patron.conf's, else the store's, else chosen now from
 * this file (Stripe's converted currency is the account's own) and kept. */
static int choose_base(importer *im, patron_err *err)
{
	char stored[8];
	patron_base_currency(im->s, NULL, stored);
	if (im->o->currency) {
		if (patron_currency_code(im->o->currency, im->base) < 0)
			return patron_err_set(err, "currency: expected a three-letter code, got "
					      "\"%s\"", im->o->currency);
		if (*stored && strcmp(stored, im->base) != 0 && im->max_order_before)
			return patron_err_set(err, "%s: patron.conf sets currency = \"%s\", but the "
					      "store's money has been in %s since its first import; "
					      "keep currency = \"%s\" (a store cannot change its "
					      "base currency yet)", im->path, im->base, stored, stored);
		return *stored ? 0 : put_setting(im, "currency", im->base, err);
	}
	if (*stored) {
		snprintf(im->base, sizeof im->base, "%s", stored);
		return 0;
	}
	int col = im->col[F_CONVERTED_CURRENCY] >= 0 ? im->col[F_CONVERTED_CURRENCY]
						     : im->col[F_CURRENCY];
	if (col < 0)
		return 0;	/* no currencies: every order is in the base, whatever it is */
	common_currency(im, col, im->base);
	if (!*im->base)
		return 0;
	snprintf(im->st->base_currency_set, sizeof im->st->base_currency_set, "%s", im->base);
	return put_setting(im, "currency", im->base, err);
}

int orders_prepare(importer *im, patron_err *err)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(patron_store_db(im->s), "SELECT coalesce(max(id), 0), NOT EXISTS"
			       " (SELECT 1 FROM orders WHERE source = ?1) FROM orders", -1, &st,
			       NULL) != SQLITE_OK)
		return patron_store_fail(im->s, err, "reading orders");
	sqlite3_bind_text(st, 1, im->fmt->name, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		im->max_order_before = sqlite3_column_int64(st, 0);
		im->source_was_empty = sqlite3_column_int(st, 1);
	}
	sqlite3_finalize(st);
	im->sums_kept = im->max_order_before == 0;
	if (choose_base(im, err) < 0)
		return -1;
	/* Customer-level columns become text attributes. */
	for (int f = 0; f < F_N; f++) {
		const char *name = patron_field_attribute((patron_field)f);
		if (!name || im->col[f] < 0)
			continue;
		im->attr_fields[im->nattr_fields++] = (patron_field)f;
		st = patron_store_stmt(im->s, ST_ATTR_DEF_GET);
		sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
		int known = sqlite3_step(st) == SQLITE_ROW;
		sqlite3_reset(st);
		if (known)
			continue;
		st = patron_store_stmt(im->s, ST_ATTR_DEF_PUT);
		sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, "text", -1, SQLITE_STATIC);
		if (import_step(im, st, "typing an attribute", err) < 0)
			return -1;
	}
	return 0;
}

void orders_free(importer *im)
{
	patron_buf_free(&im->ord.text);
	free(im->ord.lines);
	free(im->ord.bad_key);
	free(im->touched);
	free(im->sums);
	batch_free(im);
}

void orders_sums_forget(importer *im)
{
	im->sums_kept = 0;
	free(im->sums);
	im->sums = NULL;
	im->nsums = 0;
}

static void sum_in(order_sum *x, int64_t cents, int64_t at)
{
	if (!x->n++ || at < x->first)
		x->first = at;
	if (x->n == 1 || at > x->last)
		x->last = at;
	x->cents += cents;
}

/* Adds a new paid order of customer CID to the sums kept. */
static void sums_add(importer *im, int64_t cid, int64_t cents, int64_t at)
{
	if ((size_t)cid >= im->nsums) {
		size_t n = im->nsums ? im->nsums : 1024;
		while (n <= (size_t)cid)
			n *= 2;
		im->sums = patron_xrealloc(im->sums, n * sizeof *im->sums);
		memset(im->sums + im->nsums, 0, (n - im->nsums) * sizeof *im->sums);
		im->nsums = n;
	}
	sum_in(&im->sums[cid], cents, at);
}

/* ---- an order's own columns ---- */

static const patron_status_rule *status_rule(const patron_format *fmt, const char *norm)
{
	for (const patron_status_rule *r = fmt->statuses; r && r->word; r++)
		if (strcmp(r->word, norm) == 0)
			return r;
	for (const patron_status_rule *r = patron_common_statuses; r->word; r++)
		if (strcmp(r->word, norm) == 0)
			return r;
	return NULL;
}

/* A dispute's state: 1 open (money at risk), 0 none or won, -1 lost,
 * -2 not a dispute state. */
static int dispute_state(const char *s)
{
	char n[64];
	if (!*s)
		return 0;
	patron_normalize_header(s, n, sizeof n);
	static const char *const open[] = {"needs_response", "under_review",
		"warning_needs_response", "warning_under_review", "open", NULL};
	static const char *const settled[] = {"won", "warning_closed", "charge_refunded",
		"closed", NULL};
	if (!*n)
		return 0;
	for (int i = 0; open[i]; i++)
		if (strcmp(n, open[i]) == 0)
			return 1;
	for (int i = 0; settled[i]; i++)
		if (strcmp(n, settled[i]) == 0)
			return 0;
	return strcmp(n, "lost") == 0 ? -1 : -2;
}

static int money(importer *im, patron_field f, int64_t *out, patron_err *why)
{
	*out = 0;
	if (!*im->v[f])
		return 0;
	if (patron_parse_money(im->v[f], out) < 0)
		return import_bad(im, why, f, "an amount of money like 12.34");
	if (*out < 0)
		return import_bad(im, why, f, "an amount of zero or more");
	return 0;
}

/* The rate of one unit of CUR in the base currency on AT's day; 0 when
 * none is known. */
static double rate_on(importer *im, const char *cur, int64_t at)
{
	sqlite3_stmt *st = patron_store_stmt(im->s, ST_RATE_FIND);
	sqlite3_bind_text(st, 1, cur, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, at);
	double r = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_double(st, 0) : 0;
	sqlite3_reset(st);
	return r;
}

static int parse_head(importer *im, order_head *h, patron_err *why)
{
	/* Field by field: the whole head is kilobytes of names, cleared once
	 * per order of a file of millions. */
	h->vals[0][0] = h->status[0] = h->first[0] = h->last[0] = h->currency[0] = '\0';
	h->nids = 0;
	h->placed_at = h->total = h->refunded = h->disputed = h->conv_total = 0;
	h->conv_refunded = 0;
	h->has_total = h->revenue = h->dispute_open = 0;
	h->conv = CONV_SAME;
	h->rate = 0;
	h->consent = h->sms_consent = -1;
	if (import_identities(im, h->vals, h->kinds, &h->nids, why) ||
	    import_when(im, F_CREATED_AT, &h->placed_at, why))
		return 1;
	h->has_total = *im->v[F_TOTAL] != '\0';
	if (money(im, F_TOTAL, &h->total, why) || money(im, F_REFUNDED, &h->refunded, why) ||
	    money(im, F_DISPUTED, &h->disputed, why) ||
	    money(im, F_CONVERTED_TOTAL, &h->conv_total, why) ||
	    money(im, F_CONVERTED_REFUNDED, &h->conv_refunded, why))
		return 1;
	if (*im->v[F_CONSENT] && patron_parse_bool(im->v[F_CONSENT], &h->consent) < 0)
		return import_bad(im, why, F_CONSENT, "yes or no");
	if (*im->v[F_SMS_CONSENT] && patron_parse_bool(im->v[F_SMS_CONSENT], &h->sms_consent) < 0)
		return import_bad(im, why, F_SMS_CONSENT, "yes or no");

	const patron_status_rule *rule = NULL;
	if (*im->v[F_STATUS]) {
		char norm[64];
		patron_normalize_header(im->v[F_STATUS], norm, sizeof norm);
		if (!(rule = status_rule(im->fmt, norm)))
			return import_bad(im, why, F_STATUS, "a payment status (paid, pending, "
					  "refunded, failed, voided, cancelled, ...)");
	} else if (im->fmt->flags & PATRON_FORMAT_STATUS_REQUIRED) {
		return import_bad(im, why, F_STATUS, "a payment status (paid, refunded, failed, ...)");
	}
	snprintf(h->status, sizeof h->status, "%s", rule ? rule->as : "paid");
	h->revenue = rule ? rule->revenue : 1;
	int dispute = dispute_state(im->v[F_DISPUTE_STATUS]);
	if (dispute == -2)
		return import_bad(im, why, F_DISPUTE_STATUS, "a dispute status (needs_response, "
				  "under_review, won, lost, ...)");
	if (dispute == 0 && !*im->v[F_DISPUTE_STATUS] &&
	    (strcmp(h->status, "disputed") == 0 || h->disputed > 0))
		dispute = 1;	/* disputed, with no word on how it stands */
	if (*im->v[F_CANCELLED_AT]) {
		int64_t when;
		if (import_when(im, F_CANCELLED_AT, &when, why))
			return 1;
		snprintf(h->status, sizeof h->status, "cancelled");
		h->revenue = 0;
	} else if (dispute == 1 && h->revenue) {
		snprintf(h->status, sizeof h->status, "disputed");
		h->revenue = 0;
		h->dispute_open = 1;
	} else if (dispute == -1 && h->revenue) {
		snprintf(h->status, sizeof h->status, "dispute_lost");
		h->revenue = 0;
	} else if (strcmp(h->status, "disputed") == 0) {
		snprintf(h->status, sizeof h->status, "paid");	/* a dispute won */
	}

	if (*im->v[F_CURRENCY] && patron_currency_code(im->v[F_CURRENCY], h->currency) < 0)
		return import_bad(im, why, F_CURRENCY, "a currency code like EUR");
	char conv_cur[8] = "";
	if (*im->v[F_CONVERTED_CURRENCY] &&
	    patron_currency_code(im->v[F_CONVERTED_CURRENCY], conv_cur) < 0)
		return import_bad(im, why, F_CONVERTED_CURRENCY, "a currency code like EUR");
	if (!*h->currency || !*im->base || strcmp(h->currency, im->base) == 0) {
		h->conv = CONV_SAME;
	} else if (*conv_cur && strcmp(conv_cur, im->base) == 0 && *im->v[F_CONVERTED_TOTAL]) {
		h->conv = CONV_EXPORT;
	} else if ((h->rate = rate_on(im, h->currency, h->placed_at)) > 0) {
		h->conv = CONV_RATE;
	} else if (h->revenue) {
		char day[16];
		patron_err_set(why, "currency %s is not the shop's base currency %s, and there is "
			       "no rate for it on or before %s: give rates with patron import "
			       "rates FILE.csv (date,currency,rate), or choose the base currency "
			       "with currency = \"...\" in patron.conf", h->currency, im->base,
			       patron_format_day(h->placed_at, day));
		return 1;
	} else {
		h->conv = CONV_NONE;	/* not revenue: nothing to convert */
	}
	if (*im->v[F_FIRST_NAME] || *im->v[F_LAST_NAME]) {
		snprintf(h->first, sizeof h->first, "%s", im->v[F_FIRST_NAME]);
		snprintf(h->last, sizeof h->last, "%s", im->v[F_LAST_NAME]);
	} else if (*im->v[F_NAME]) {
		import_split_name(im->v[F_NAME], h->first, h->last, sizeof h->first);
	}
	return 0;
}

/* ---- money of a gathered order ---- */

typedef struct {
	int64_t gross, refunded, amount, base, disputed;
	int revenue;
	char status[32];
} order_money;

static void order_figures(const pending_order *o, order_money *m)
{
	const order_head *h = o->h;
	int64_t sum = o->loose;
	for (size_t i = 0; i < o->nlines; i++)
		sum += o->lines[i].amount;
	m->gross = h->has_total ? h->total : sum;
	m->refunded = h->refunded;
	m->amount = m->gross - m->refunded > 0 ? m->gross - m->refunded : 0;
	m->revenue = h->revenue;
	snprintf(m->status, sizeof m->status, "%s", h->status);
	if (m->gross < 0) {
		/* lines given back, more than bought: a return, not revenue */
		snprintf(m->status, sizeof m->status, "returned");
		m->revenue = 0;
	}
	if (m->refunded > 0 && m->revenue) {
		/* Money given back is not revenue; a partial refund keeps the rest. */
		if (m->amount == 0) {
			snprintf(m->status, sizeof m->status, "refunded");
			m->revenue = 0;
		} else {
			snprintf(m->status, sizeof m->status, "partially_refunded");
		}
	}
	m->disputed = h->dispute_open ? (h->disputed ? h->disputed : m->amount) : 0;
	switch (h->conv) {
	case CONV_SAME: m->base = m->amount; break;
	case CONV_EXPORT:
		if (h->conv_refunded || !m->refunded || m->gross <= 0)
			m->base = h->conv_total - h->conv_refunded > 0
					  ? h->conv_total - h->conv_refunded : 0;
		else	/* a refund the export gives in the order's currency only */
			m->base = llround((double)h->conv_total * (double)m->amount /
					  (double)m->gross);
		break;
	case CONV_RATE: m->base = llround((double)m->amount * h->rate); break;
	case CONV_NONE: m->base = 0; break;
	}
}

/* ---- writing ---- */

static int product_id(importer *im, const char *sku, const char *name, int64_t unit, int create,
		      int64_t *id, patron_err *err)
{
	if (patron_strmap_get(&im->products, sku, id))
		return 0;
	sqlite3_stmt *st = patron_store_stmt(im->s, ST_PRODUCT_FIND);
	sqlite3_bind_text(st, 1, sku, -1, SQLITE_STATIC);
	*id = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_reset(st);
	if (!*id && !create)
		return 0;
	if (!*id) {
		st = patron_store_stmt(im->s, ST_PRODUCT_NEW);
		sqlite3_bind_text(st, 1, sku, -1, SQLITE_STATIC);
		import_bind_text(st, 2, name);
		sqlite3_bind_int64(st, 4, unit);
		sqlite3_bind_int64(st, 5, im->o->now);
		if (import_step(im, st, "adding a product", err) < 0)
			return -1;
		*id = sqlite3_last_insert_rowid(patron_store_db(im->s));
		im->st->products_new++;
	}
	patron_strmap_put(&im->products, sku, *id);
	return 0;
}

static int write_lines(importer *im, int64_t oid, int64_t first_line, int batched,
		       patron_err *err)
{
	pending_order *o = &im->ord;
	for (size_t i = 0; i < o->nlines; i++) {
		order_line *l = &o->lines[i];
		int64_t pid;
		if (product_id(im, o->text.data + l->sku, o->text.data + l->name, l->unit, 1, &pid,
			       err) < 0)
			return -1;
		if (batched) {
			batch_line_add(im, &(batch_line){.order = oid, .line_no = first_line +
							 (int64_t)i, .product = pid, .qty = l->qty,
							 .unit = l->unit, .amount = l->amount});
			im->st->lines++;
			continue;
		}
		sqlite3_stmt *st = patron_store_stmt(im->s, ST_LINE_NEW);
		sqlite3_bind_int64(st, 1, oid);
		sqlite3_bind_int64(st, 2, first_line + (int64_t)i);
		sqlite3_bind_int64(st, 3, pid);
		sqlite3_bind_int64(st, 4, l->qty);
		sqlite3_bind_int64(st, 5, l->unit);
		sqlite3_bind_int64(st, 6, l->amount);
		if (import_step(im, st, "adding an order line", err) < 0)
			return -1;
		im->st->lines++;
	}
	return 0;
}

/* The customer the order names (0 for a guest), with what the order says
 * of them: names, consent, tags and attributes. */
static int order_customer(importer *im, int64_t *cid, patron_err *err)
{
	pending_order *o = &im->ord;
	order_head *h = o->h;
	*cid = 0;
	if (h->nids == 0)
		return 0;
	int created;
	if (import_resolve(im, h->vals, h->kinds, h->nids, h->placed_at, cid, &created, err) < 0)
		return -1;
	if (h->placed_at < im->last_created) {
		/* The customer may have appeared later than this order. */
		if (import_put_created(im, *cid, h->placed_at, err) < 0)
			return -1;
		im->last_created = h->placed_at;
	}
	if (import_put_names(im, *cid, h->first, h->last, err) < 0)
		return -1;
	if (h->consent >= 0 && import_put_consent(im, *cid, "email", h->consent, err) < 0)
		return -1;
	if (h->sms_consent >= 0 && import_put_consent(im, *cid, "sms", h->sms_consent, err) < 0)
		return -1;
	if (o->text.data[o->tags] && import_put_tags(im, *cid, o->text.data + o->tags, err) < 0)
		return -1;
	for (size_t a = 0; a < im->nattr_fields; a++) {
		patron_field f = im->attr_fields[a];
		const char *name = patron_field_attribute(f);
		if (!o->text.data[o->attr[f]])
			continue;
		if (im->batch.parallel) {
			batch_op_add(im, ST_ATTR_PUT, "writing an attribute", "iss", *cid, name,
				     o->text.data + o->attr[f]);
			continue;
		}
		sqlite3_stmt *st = patron_store_stmt(im->s, ST_ATTR_PUT);
		sqlite3_bind_int64(st, 1, *cid);
		sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, o->text.data + o->attr[f], -1, SQLITE_STATIC);
		if (import_step(im, st, "writing an attribute", err) < 0)
			return -1;
	}
	return 0;
}

static void bind_customer(sqlite3_stmt *st, int i, int64_t cid)
{
	if (cid)
		sqlite3_bind_int64(st, i, cid);
	else
		sqlite3_bind_null(st, i);
}

/* What the store holds of an order, for comparing a re-export with it. */
typedef struct {
	int64_t id, customer, total, amount, gross, refunded, disputed, placed_at, nlines, lines_sum;
	int revenue;
	char status[32], currency[8];
} stored_order;

static int get_order(importer *im, const char *key, stored_order *so, patron_err *err)
{
	sqlite3_stmt *st = patron_store_stmt(im->s, ST_ORDER_GET);
	sqlite3_bind_text(st, 1, im->fmt->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	memset(so, 0, sizeof *so);
	if (rc == SQLITE_ROW) {
		so->id = sqlite3_column_int64(st, 0);
		so->customer = sqlite3_column_int64(st, 1);
		snprintf(so->status, sizeof so->status, "%s", (const char *)sqlite3_column_text(st, 2));
		so->revenue = sqlite3_column_int(st, 3);
		so->total = sqlite3_column_int64(st, 4);
		so->amount = sqlite3_column_int64(st, 5);
		so->gross = sqlite3_column_int64(st, 6);
		so->refunded = sqlite3_column_int64(st, 7);
		so->disputed = sqlite3_column_int64(st, 8);
		snprintf(so->currency, sizeof so->currency, "%s",
			 (const char *)sqlite3_column_text(st, 9));
		so->placed_at = sqlite3_column_int64(st, 10);
		so->nlines = sqlite3_column_int64(st, 11);
		so->lines_sum = sqlite3_column_int64(st, 12);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return patron_store_fail(im->s, err, "looking up an order");
	return 0;
}

/* 1 when the gathered lines are the stored order's from line OFFSET + 1 on,
 * in order; *PREFIX is the money of the stored lines before them and *ALL
 * 1 when the gathered lines are the stored order's last. */
static int same_lines(importer *im, int64_t oid, int64_t offset, int64_t *prefix, int *all,
		      patron_err *err)
{
	pending_order *o = &im->ord;
	sqlite3_stmt *st = patron_store_stmt(im->s, ST_ORDER_LINES);
	sqlite3_bind_int64(st, 1, oid);
	int same = 1;
	int64_t n = 0;
	*prefix = 0;
	while (same >= 0 && sqlite3_step(st) == SQLITE_ROW) {
		int64_t i = n++ - offset, pid = 0;
		if (i < 0) {
			*prefix += sqlite3_column_int64(st, 3);
			continue;
		}
		if (!same || (size_t)i >= o->nlines)
			continue;	/* a difference found, or lines of a later place */
		if (product_id(im, o->text.data + o->lines[i].sku, NULL, 0, 0, &pid, err) < 0)
			same = -1;
		else
			same = pid && pid == sqlite3_column_int64(st, 0) &&
			       o->lines[i].qty == sqlite3_column_int64(st, 1) &&
			       o->lines[i].unit == sqlite3_column_int64(st, 2) &&
			       o->lines[i].amount == sqlite3_column_int64(st, 3);
	}
	sqlite3_reset(st);
	*all = n == offset + (int64_t)o->nlines;
	return same < 0 ? -1 : same && n >= offset + (int64_t)o->nlines;
}

static void money_json(char *out, size_t cap, const char *status, int revenue, int64_t total,
		       int64_t refunded, int64_t disputed)
{
	snprintf(out, cap, "{\"status\":\"%s\",\"revenue\":%s,\"total_cents\":%lld,"
		 "\"refunded_cents\":%lld,\"disputed_cents\":%lld}", status,
		 revenue ? "true" : "false", (long long)total, (long long)refunded,
		 (long long)disputed);
}

/* An order the store had before this import, seen again: unchanged (and
 * left alone), or updated with the event that says how. A file may give an
 * order's rows in several places; OFFSET counts the stored lines the
 * earlier places matched, and only the first place has the order's own
 * columns. */
static int update_order(importer *im, const stored_order *so, order_money *m,
			patron_err *err)
{
	pending_order *o = &im->ord;
	const char *key = o->text.data + o->key;
	int64_t offset = 0, prefix = 0;
	int all = 1, same_l = 1;
	patron_strmap_get(&im->offsets, key, &offset);
	if (o->nlines && (same_l = same_lines(im, so->id, offset, &prefix, &all, err)) < 0)
		return -1;
	int unchanged;
	if (offset > 0) {
		unchanged = same_l;
		/* The order's own columns were on its first place. Its money is its
		 * lines' when the stored order's was (no total given), else the
		 * stored total stands. */
		int64_t gross = so->gross;
		if (so->gross == so->lines_sum) {
			gross = prefix;
			for (size_t i = 0; i < o->nlines; i++)
				gross += o->lines[i].amount;
		}
		*m = (order_money){.gross = gross, .refunded = so->refunded,
				   .disputed = so->disputed, .revenue = so->revenue};
		snprintf(m->status, sizeof m->status, "%s", so->status);
		m->amount = m->gross - m->refunded > 0 ? m->gross - m->refunded : 0;
		m->base = so->amount ? llround((double)m->amount * so->total / so->amount) : m->amount;
	} else {
		/* Without a total, the money is known once every line was seen. */
		int money_known = o->h->has_total || all;
		unchanged = same_l && !(!so->customer && o->h->nids > 0) &&
			    strcmp(so->status, m->status) == 0 && so->revenue == m->revenue &&
			    so->refunded == m->refunded && so->disputed == m->disputed &&
			    strcmp(so->currency, o->h->currency) == 0 &&
			    so->placed_at == o->h->placed_at &&
			    (!money_known || (so->total == m->base && so->amount == m->amount &&
					      so->gross == m->gross));
	}
	if (unchanged) {
		patron_strmap_put(&im->offsets, key, offset + (int64_t)o->nlines);
		im->st->orders_unchanged += offset == 0;
		return 0;
	}
	int64_t cid = so->customer;
	/* a customer it makes is written before the order names them */
	if (offset == 0 && o->h->nids && (order_customer(im, &cid, err) < 0 ||
					  batch_flush(im, err) < 0))
		return -1;
	sqlite3_stmt *st = patron_store_stmt(im->s, ST_ORDER_UPDATE);
	sqlite3_bind_int64(st, 1, so->id);
	bind_customer(st, 2, cid);
	sqlite3_bind_int64(st, 3, offset ? so->placed_at : o->h->placed_at);
	sqlite3_bind_int64(st, 4, m->base);
	import_bind_text(st, 5, offset ? so->currency : o->h->currency);
	sqlite3_bind_text(st, 6, m->status, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 7, m->revenue);
	sqlite3_bind_int64(st, 8, m->amount);
	sqlite3_bind_int64(st, 9, m->gross);
	sqlite3_bind_int64(st, 10, m->refunded);
	sqlite3_bind_int64(st, 11, m->disputed);
	sqlite3_bind_int64(st, 12, im->o->now);
	if (import_step(im, st, "updating an order", err) < 0)
		return -1;
	if (!same_l) {
		/* the lines from this place on are the file's */
		st = patron_store_stmt(im->s, ST_ORDER_LINES_FROM);
		sqlite3_bind_int64(st, 1, so->id);
		sqlite3_bind_int64(st, 2, offset);
		if (import_step(im, st, "updating an order", err) < 0 ||
		    write_lines(im, so->id, offset + 1, 0, err) < 0)
			return -1;
	}
	/* Later places of this order in the file add their lines to it. */
	patron_strmap_put(&im->keys, key, -so->id);
	im->st->orders_updated++;
	if (offset > 0)
		im->st->orders_unchanged--;	/* its first place looked unchanged */
	const char *topic = "order.updated";
	if (strcmp(m->status, "cancelled") == 0 && strcmp(so->status, "cancelled") != 0)
		topic = "order.cancelled";
	else if (m->refunded > so->refunded)
		topic = "order.refunded";
	char old[256], new[256];
	money_json(old, sizeof old, so->status, so->revenue, so->total, so->refunded, so->disputed);
	money_json(new, sizeof new, m->status, m->revenue, m->base, m->refunded, m->disputed);
	st = patron_store_stmt(im->s, ST_EVENT_ORDER_CHANGED);
	sqlite3_bind_text(st, 1, topic, -1, SQLITE_STATIC);
	bind_customer(st, 2, cid);
	sqlite3_bind_int64(st, 3, so->id);
	sqlite3_bind_text(st, 4, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, old, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 6, new, -1, SQLITE_TRANSIENT);
	/* The export says the order changed, not when: it is news as of now,
	 * so event rules (and their max_age) see it as today's. */
	sqlite3_bind_int64(st, 7, im->o->now);
	sqlite3_bind_int64(st, 8, im->o->now);
	return import_step(im, st, "appending an event", err);
}

/* Lines of an order met again further down the file: added to the order
 * this import wrote or updated. */
static int append_to_order(importer *im, int64_t oid, const order_money *m, patron_err *err)
{
	pending_order *o = &im->ord;
	sqlite3_stmt *st = patron_store_stmt(im->s, ST_ORDER_LAST_LINE);
	sqlite3_bind_int64(st, 1, oid);
	int64_t first = (sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0) + 1;
	sqlite3_reset(st);
	if (!o->h->has_total) {
		st = patron_store_stmt(im->s, ST_ORDER_ADD_TOTAL);
		sqlite3_bind_int64(st, 1, oid);
		sqlite3_bind_int64(st, 2, m->base);
		sqlite3_bind_int64(st, 3, m->amount);
		if (import_step(im, st, "updating an order", err) < 0)
			return -1;
	}
	return write_lines(im, oid, first, 0, err);
}

static void touch(importer *im, int64_t cid)
{
	if (im->ntouched == im->touched_cap) {
		im->touched_cap = im->touched_cap ? 2 * im->touched_cap : 1024;
		im->touched = patron_xrealloc(im->touched, im->touched_cap * sizeof *im->touched);
	}
	im->touched[im->ntouched++] = cid;
}

/* A new order whose key this import has certainly not written: held in
 * the batch with its lines and its event. */
static int batch_new_order(importer *im, const char *key, int64_t cid, const order_money *m,
			   patron_err *err)
{
	pending_order *o = &im->ord;
	batch_order bo = {.customer = cid, .placed_at = o->h->placed_at, .total = m->base,
			  .amount = m->amount, .gross = m->gross, .refunded = m->refunded,
			  .disputed = m->disputed, .revenue = m->revenue};
	int64_t oid = batch_order_add(im, &bo, key, o->h->currency, m->status);
	if (m->revenue && cid) {
		touch(im, cid);
		if (im->sums_kept)
			sums_add(im, cid, m->base, o->h->placed_at);
	}
	im->st->orders_new++;
	if (!cid)
		im->st->orders_guest++;
	if (write_lines(im, oid, 1, 1, err) < 0)
		return -1;
	batch_order_created(im, cid, oid, key, m->base, o->h->placed_at);
	return batch_full(im) ? batch_send(im, err) : 0;
}

/* Writes the gathered order: new, updated, unchanged or more lines of one
 * written further up. */
int orders_flush(importer *im, patron_err *err)
{
	pending_order *o = &im->ord;
	if (!o->active)
		return 0;
	o->active = 0;
	order_money m;
	order_figures(o, &m);
	const char *key = o->text.data + o->key;
	int64_t seen;
	if (patron_strmap_get(&im->keys, key, &seen) && seen != 0) {
		/* > 0: written by this import; < 0: updated by it */
		orders_sums_forget(im);
		return batch_flush(im, err) < 0 ? -1
		       : append_to_order(im, seen > 0 ? seen : -seen, &m, err);
	}
	if (!im->source_was_empty) {
		/* the orders from before this import, which no batch holds */
		stored_order so;
		if (get_order(im, key, &so, err) < 0)
			return -1;
		if (so.id && so.id <= im->max_order_before)
			return batch_flush(im, err) < 0 ? -1 : update_order(im, &so, &m, err);
	}
	int64_t cid;
	if (order_customer(im, &cid, err) < 0)
		return -1;
	if (im->batch.on && !batch_may_have(im, key))
		return batch_new_order(im, key, cid, &m, err);
	orders_sums_forget(im);
	/* Row by row, from here on: an order this file may have written
	 * further up (its rows not adjacent) is found by its key. */
	if (batch_flush(im, err) < 0)
		return -1;
	sqlite3_stmt *st = patron_store_stmt(im->s, ST_ORDER_NEW);
	sqlite3_bind_text(st, 1, im->fmt->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
	bind_customer(st, 3, cid);
	sqlite3_bind_int64(st, 4, o->h->placed_at);
	sqlite3_bind_int64(st, 5, m.base);
	import_bind_text(st, 6, o->h->currency);
	sqlite3_bind_text(st, 7, m.status, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 8, m.revenue);
	sqlite3_bind_int64(st, 9, m.amount);
	sqlite3_bind_int64(st, 10, m.gross);
	sqlite3_bind_int64(st, 11, m.refunded);
	sqlite3_bind_int64(st, 12, m.disputed);
	if (import_step(im, st, "adding an order", err) < 0)
		return -1;
	if (sqlite3_changes(patron_store_db(im->s)) == 1 && m.revenue && cid)
		touch(im, cid);
	if (sqlite3_changes(patron_store_db(im->s)) != 1) {
		/* This file wrote it on rows further up (its rows are not
		 * adjacent): its lines join it. Remembered from now on, so a
		 * file of adjacent rows keeps no map of its orders. */
		stored_order so;
		if (get_order(im, key, &so, err) < 0)
			return -1;
		if (!so.id)
			return patron_store_fail(im->s, err, "adding an order");
		patron_strmap_put(&im->keys, key, so.id);
		return append_to_order(im, so.id, &m, err);
	}
	int64_t oid = sqlite3_last_insert_rowid(patron_store_db(im->s));
	batch_saw(im, key);
	batch_order_written(im, oid);
	im->st->orders_new++;
	if (!cid)
		im->st->orders_guest++;
	if (write_lines(im, oid, 1, 0, err) < 0)
		return -1;
	st = patron_store_stmt(im->s, ST_EVENT_ORDER_CREATED);
	bind_customer(st, 1, cid);
	sqlite3_bind_int64(st, 2, oid);
	sqlite3_bind_text(st, 3, key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, m.base);
	sqlite3_bind_int64(st, 5, o->h->placed_at);
	sqlite3_bind_int64(st, 6, im->o->now);
	return import_step(im, st, "appending an event", err);
}

/* Makes the row's order the pending one. */
static void begin_order(importer *im, const char *key, order_head *h)
{
	pending_order *o = &im->ord;
	patron_buf_clear(&o->text);
	o->active = 1;
	o->h = h;
	o->line = im->line;
	o->loose = 0;
	o->nlines = 0;
	o->key = arena_add(&o->text, key);
	size_t none = arena_add(&o->text, "");
	o->tags = im->col[F_TAGS] >= 0 ? arena_add(&o->text, im->v[F_TAGS]) : none;
	for (size_t a = 0; a < im->nattr_fields; a++)
		o->attr[im->attr_fields[a]] = arena_add(&o->text, im->v[im->attr_fields[a]]);
}

/* A file without order ids: each row is an order of its customer on its
 * date, the n-th such row numbered, so a re-import finds it again. */
static const char *made_key(importer *im, char *out, size_t cap)
{
	const char *who = *im->v[F_CUSTOMER_ID] ? im->v[F_CUSTOMER_ID]
			  : *im->v[F_EMAIL] ? im->v[F_EMAIL] : *im->v[F_PHONE] ? im->v[F_PHONE]
			  : "guest";
	snprintf(out, cap, "%s|%s", who, im->v[F_CREATED_AT]);
	int64_t n = 0;
	patron_strmap_get(&im->keys, out, &n);
	patron_strmap_put(&im->keys, out, n + 1);
	size_t len = strlen(out);
	snprintf(out + len, cap - len, "|%lld", (long long)n + 1);
	return out;
}

int orders_row(importer *im, patron_err *why, patron_err *err)
{
	pending_order *o = &im->ord;
	char made[700];
	const char *key = im->col[F_ORDER_ID] >= 0 ? im->v[F_ORDER_ID] : NULL;
	if (key && !*key) {
		patron_err_set(why, "column \"%s\": expected an order id, got \"\"",
			       im->header[im->col[F_ORDER_ID]]);
		return 1;
	}
	int64_t qty = 1, unit = 0, amount = 0;
	int has_line = *im->v[F_SKU] || *im->v[F_PRODUCT];
	/* A negative quantity is a line given back (a return, as in a credit
	 * note's rows); its price is still the item's. */
	if (*im->v[F_QUANTITY] &&
	    (patron_parse_int(im->v[F_QUANTITY], &qty) < 0 || qty < -1000000 || qty > 1000000))
		return import_bad(im, why, F_QUANTITY, "a whole number of items");
	if (*im->v[F_PRICE] && patron_parse_money(im->v[F_PRICE], &unit) < 0)
		return import_bad(im, why, F_PRICE, "an amount of money like 12.34");
	if (unit < 0)
		return import_bad(im, why, F_PRICE, "a price of zero or more (a refund belongs in "
				  "the order's refunded amount or status)");
	if (*im->v[F_AMOUNT] && patron_parse_money(im->v[F_AMOUNT], &amount) < 0)
		return import_bad(im, why, F_AMOUNT, "an amount of money like 12.34");
	if (amount < 0 && qty >= 0)
		return import_bad(im, why, F_AMOUNT, "an amount of zero or more (a refund belongs "
				  "in the order's refunded amount or status, a return in a negative "
				  "quantity)");
	if (has_line) {
		if (!*im->v[F_PRICE] && !*im->v[F_AMOUNT] && im->col[F_TOTAL] < 0) {
			patron_field f = im->col[F_PRICE] >= 0 ? F_PRICE : F_AMOUNT;
			return import_bad(im, why, f, "an amount of money like 12.34");
		}
		if (!*im->v[F_AMOUNT])
			amount = unit * qty;
		else if (!*im->v[F_PRICE])
			unit = qty ? amount / qty : amount;
	} else if (!*im->v[F_AMOUNT]) {
		amount = unit * qty;	/* a row without a product: its money is the order's */
	}
	if (!key)
		key = made_key(im, made, sizeof made);
	if (o->bad_line && strcmp(o->bad_key, key) == 0) {
		/* the rest of an order whose first row was refused */
		patron_err_set(why, "its order's first row (line %ld) was rejected", o->bad_line);
		return 1;
	}
	if (!o->active || strcmp(o->text.data + o->key, key) != 0) {
		/* parsed into the spare head: the pending order keeps its own
		 * until it is written */
		order_head *h = o->h == &o->heads[0] ? &o->heads[1] : &o->heads[0];
		int rc = parse_head(im, h, why);
		if (rc) {
			free(o->bad_key);
			o->bad_key = patron_xstrdup(key);
			o->bad_line = im->line;
			return rc;
		}
		o->bad_line = 0;
		if (orders_flush(im, err) < 0)
			return -1;
		begin_order(im, key, h);
	}
	if (!has_line) {
		o->loose += amount;
		return 0;
	}
	if (o->nlines == o->cap) {
		o->cap = o->cap ? o->cap * 2 : 8;
		o->lines = patron_xrealloc(o->lines, o->cap * sizeof *o->lines);
	}
	order_line *l = &o->lines[o->nlines++];
	l->qty = qty;
	l->unit = unit;
	l->amount = amount;
	l->sku = arena_add(&o->text, *im->v[F_SKU] ? im->v[F_SKU] : im->v[F_PRODUCT]);
	l->name = arena_add(&o->text, im->v[F_PRODUCT]);
	return 0;
}

static int cmp_id(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

/* The customers of SUMS with paid orders, as rows for patron_rows. */
typedef struct {
	patron_rows_source src;
	const order_sum *sums;
	size_t n, at;
} sum_rows;

static int sum_rows_next(patron_rows_source *src)
{
	sum_rows *r = (sum_rows *)src;
	while (++r->at < r->n && !r->sums[r->at].n)
		;
	return r->at < r->n;
}

static void sum_rows_column(patron_rows_source *src, sqlite3_context *ctx, int col)
{
	const sum_rows *r = (const sum_rows *)src;
	const order_sum *x = &r->sums[r->at];
	const int64_t v[] = {(int64_t)r->at, x->n, x->cents, x->first, x->last};
	if (col < 5)
		sqlite3_result_int64(ctx, v[col]);
	else
		sqlite3_result_null(ctx);
}

/* customer_orders made again from SUMS (N, indexed by customer), in
 * customer order, in one statement. */
static int write_sums(importer *im, const order_sum *sums, size_t n, patron_err *err)
{
	sum_rows r = {.src = {.next = sum_rows_next, .column = sum_rows_column}, .sums = sums,
		      .n = n};
	if (patron_store_exec(im->s, "DELETE FROM customer_orders", err) < 0 ||
	    patron_rows_insert(patron_store_db(im->s), "INSERT INTO customer_orders SELECT c0, c1,"
			       " c2, c3, c4 FROM patron_rows(?1)", &r.src, 0, NULL) < 0)
		return patron_store_fail(im->s, err, "summing customers' orders");
	return 0;
}

/* Every customer's totals, summed over one sequential read of the orders
 * (about twice as fast as GROUP BY, which walks the customer index and
 * jumps to each row) and written in customer order. */
static int totals_all(importer *im, patron_err *err)
{
	sqlite3 *db = patron_store_db(im->s);
	sqlite3_stmt *st;
	int64_t max = 0;
	if (sqlite3_prepare_v2(db, "SELECT max(id) FROM customers", -1, &st, NULL) != SQLITE_OK)
		return patron_store_fail(im->s, err, "summing customers' orders");
	if (sqlite3_step(st) == SQLITE_ROW)
		max = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	order_sum *t = patron_xcalloc((size_t)max + 1, sizeof *t);
	int rc = -1;
	if (sqlite3_prepare_v2(db, "SELECT customer_id, total_cents, placed_at FROM orders"
			       " NOT INDEXED WHERE revenue AND customer_id IS NOT NULL", -1, &st,
			       NULL) != SQLITE_OK) {
		patron_store_fail(im->s, err, "summing customers' orders");
		goto out;
	}
	while (sqlite3_step(st) == SQLITE_ROW) {
		int64_t c = sqlite3_column_int64(st, 0), at = sqlite3_column_int64(st, 2);
		if (c >= 1 && c <= max)
			sum_in(&t[c], sqlite3_column_int64(st, 1), at);
	}
	sqlite3_finalize(st);
	rc = write_sums(im, t, (size_t)max + 1, err);
out:
	free(t);
	return rc;
}

int orders_totals(importer *im, patron_err *err)
{
	if (!im->ntouched)
		return 0;
	if (im->sums_kept)
		return write_sums(im, im->sums, im->nsums, err);
	qsort(im->touched, im->ntouched, sizeof *im->touched, cmp_id);
	size_t n = 0;
	for (size_t i = 0; i < im->ntouched; i++)
		if (!n || im->touched[i] != im->touched[n - 1])
			im->touched[n++] = im->touched[i];
	sqlite3 *db = patron_store_db(im->s);
	sqlite3_stmt *st;
	/* Many customers (over a fifth of those with totals): every total
	 * summed again in one pass over the orders; a few: each one's orders,
	 * by the customer index. Counting stops at five times N, so a
	 * webhook's one order does not count a million rows. */
	int64_t rows = 0;
	if (sqlite3_prepare_v2(db, "SELECT count(*) FROM (SELECT 1 FROM customer_orders LIMIT ?1)",
			       -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_int64(st, 1, (int64_t)n * 5 + 1);
		if (sqlite3_step(st) == SQLITE_ROW)
			rows = sqlite3_column_int64(st, 0);
	}
	sqlite3_finalize(st);
	if ((int64_t)n * 5 > rows)
		return totals_all(im, err);
	if (sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO customer_orders SELECT ?1, count(*),"
			       " sum(total_cents), min(placed_at), max(placed_at) FROM orders"
			       " WHERE customer_id = ?1 AND revenue HAVING count(*)", -1, &st,
			       NULL) != SQLITE_OK)
		return patron_store_fail(im->s, err, "summing customers' orders");
	for (size_t i = 0; i < n; i++) {
		sqlite3_bind_int64(st, 1, im->touched[i]);
		int rc = import_step(im, st, "summing customers' orders", err);
		sqlite3_reset(st);
		if (rc < 0) {
			sqlite3_finalize(st);
			return -1;
		}
	}
	sqlite3_finalize(st);
	return 0;
}
