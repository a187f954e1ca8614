/* The import's batches: new orders, their lines and its events held in
 * memory and written a few thousand at a time, each table with one
 * INSERT ... SELECT from patron_rows (rows.h). Row by row, binding and
 * stepping three statements per order was most of an import's time. */
#include "import_impl.h"

#include <stdlib.h>
#include <string.h>

#include "rows.h"

/* A batch is written when it holds this many orders (or four times as
 * many lines or twice as many events): big enough that each statement's
 * own cost vanishes, small enough to stay in the caches. */
#define BATCH_ORDERS 4096

static const char *const put_sql[3] = {
	"INSERT INTO orders(id, source, order_key, customer_id, placed_at, total_cents, currency,"
	" status, revenue, amount_cents, gross_cents, refunded_cents, disputed_cents)"
	" SELECT c0, ?2, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11 FROM patron_rows(?1)",
	"INSERT INTO order_lines(order_id, line_no, product_id, quantity, unit_cents,"
	" amount_cents) SELECT c0, c1, c2, c3, c4, c5 FROM patron_rows(?1)",
	"INSERT INTO events(topic, customer_id, payload, occurred_at, recorded_at)"
	" SELECT c0, c1, c2, c3, ?3 FROM patron_rows(?1)",
};

int batch_start(importer *im, uint64_t bytes, patron_err *err)
{
	import_batch *b = &im->batch;
	sqlite3 *db = patron_store_db(im->s);
	if (patron_rows_register(db) != SQLITE_OK)
		return patron_store_fail(im->s, err, "preparing the import");
	for (int i = 0; i < 3; i++) {
		if (sqlite3_prepare_v3(db, put_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &b->put[i],
				       NULL) != SQLITE_OK)
			return patron_store_fail(im->s, err, "preparing the import");
		if (i == 0)
			sqlite3_bind_text(b->put[i], 2, im->fmt->name, -1, SQLITE_STATIC);
		else if (i == 2)
			sqlite3_bind_int64(b->put[i], 3, im->o->now);
	}
	/* A bit per two bytes of the file: a row is tens of bytes, so there
	 * are dozens of bits per order and a false "may have" is rare. */
	uint64_t bits = 1u << 16;
	while (bits < bytes / 2 && bits < (1ull << 29))
		bits <<= 1;
	b->seen = patron_xcalloc(bits / 64, sizeof *b->seen);
	b->seen_mask = bits - 1;
	b->next_order = im->max_order_before + 1;
	patron_buf_add(&b->text, "", 1);	/* offset 0: no currency */
	b->on = 1;
	return 0;
}

void batch_free(importer *im)
{
	import_batch *b = &im->batch;
	for (int i = 0; i < 3; i++)
		sqlite3_finalize(b->put[i]);
	free(b->orders), free(b->lines), free(b->events), free(b->seen);
	patron_buf_free(&b->text);
	memset(b, 0, sizeof *b);
}

/* FNV-1a, 64 bits; its halves give the filter's four probes. */
static uint64_t key_hash(const char *key)
{
	uint64_t h = 14695981039346656037ull;
	for (const unsigned char *p = (const unsigned char *)key; *p; p++)
		h = (h ^ *p) * 1099511628211ull;
	return h;
}

int batch_may_have(const importer *im, const char *key)
{
	const import_batch *b = &im->batch;
	uint64_t h = key_hash(key), step = (h >> 32) | 1;
	for (int i = 0; i < 4; i++, h += step)
		if (!(b->seen[(h & b->seen_mask) / 64] >> (h & 63) & 1))
			return 0;
	return 1;
}

void batch_saw(importer *im, const char *key)
{
	import_batch *b = &im->batch;
	if (!b->on)
		return;
	uint64_t h = key_hash(key), step = (h >> 32) | 1;
	for (int i = 0; i < 4; i++, h += step)
		b->seen[(h & b->seen_mask) / 64] |= 1ull << (h & 63);
}

static size_t text_add(import_batch *b, const char *s)
{
	size_t at = b->text.len;
	patron_buf_add(&b->text, s, strlen(s) + 1);
	return at;
}

#define GROW(arr, n, cap)                                                     \
	do {                                                                  \
		if ((n) == (cap)) {                                           \
			(cap) = (cap) ? 2 * (cap) : 1024;                     \
			(arr) = patron_xrealloc((arr), (cap) * sizeof *(arr)); \
		}                                                             \
	} while (0)

int64_t batch_order_add(importer *im, const batch_order *o, const char *key,
			const char *currency, const char *status)
{
	import_batch *b = &im->batch;
	GROW(b->orders, b->norders, b->corders);
	batch_order *x = &b->orders[b->norders++];
	*x = *o;
	x->id = b->next_order++;
	x->key = text_add(b, key);
	x->currency = currency && *currency ? text_add(b, currency) : 0;
	x->status = text_add(b, status);
	batch_saw(im, key);
	return x->id;
}

void batch_line_add(importer *im, const batch_line *l)
{
	import_batch *b = &im->batch;
	GROW(b->lines, b->nlines, b->clines);
	b->lines[b->nlines++] = *l;
}

/* S as a JSON string, as SQLite's json_object writes it. */
static void json_text(patron_buf *b, const char *s)
{
	patron_buf_add(b, "\"", 1);
	for (const char *p = s; *p; p++) {
		unsigned char c = (unsigned char)*p;
		const char *run = p;
		while (c >= 0x20 && c != '"' && c != '\\')
			c = (unsigned char)*++p;
		patron_buf_add(b, run, (size_t)(p - run));
		if (!c)
			break;
		static const char brief[] = "btn.fr";	/* \b \t \n, then \f \r */
		if (c == '"' || c == '\\')
			patron_buf_printf(b, "\\%c", c);
		else if (c >= 8 && c <= 13 && c != 11)
			patron_buf_printf(b, "\\%c", brief[c - 8]);
		else
			patron_buf_printf(b, "\\u%04x", c);
	}
	patron_buf_add(b, "\"", 1);
}

static batch_event *event_add(importer *im, int order_created, int64_t customer,
			      int64_t occurred)
{
	import_batch *b = &im->batch;
	GROW(b->events, b->nevents, b->cevents);
	batch_event *e = &b->events[b->nevents++];
	*e = (batch_event){.order_created = order_created, .customer = customer,
			   .occurred = occurred, .payload = b->text.len};
	return e;
}

/* The payloads are the row-at-a-time statements' (store.c). */
void batch_order_created(importer *im, int64_t customer, int64_t order, const char *key,
			 int64_t total, int64_t occurred)
{
	patron_buf *t = &im->batch.text;
	event_add(im, 1, customer, occurred);
	patron_buf_printf(t, "{\"order_id\":%lld,\"order\":", (long long)order);
	json_text(t, key);
	patron_buf_printf(t, ",\"total_cents\":%lld}", (long long)total);
	patron_buf_add(t, "", 1);
}

void batch_customer_created(importer *im, int64_t customer, const char *kind,
			    const char *value, int64_t occurred)
{
	patron_buf *t = &im->batch.text;
	event_add(im, 0, customer, occurred);
	patron_buf_add(t, "{", 1);
	json_text(t, kind);
	patron_buf_add(t, ":", 1);
	json_text(t, value);
	patron_buf_add(t, ",\"source\":", 10);
	json_text(t, im->fmt->name);
	patron_buf_add(t, "}", 2);
}

void batch_order_written(importer *im, int64_t id)
{
	if (id >= im->batch.next_order)
		im->batch.next_order = id + 1;
}

/* The rows of one of the batch's tables. */
typedef struct {
	patron_rows_source src;
	const import_batch *b;
	size_t n, at;
} batch_rows;

static int batch_rows_next(patron_rows_source *src)
{
	batch_rows *r = (batch_rows *)src;
	return ++r->at <= r->n;
}

static void result_text_or_null(sqlite3_context *ctx, const import_batch *b, size_t at)
{
	if (at)
		sqlite3_result_text(ctx, b->text.data + at, -1, SQLITE_STATIC);
	else
		sqlite3_result_null(ctx);
}

static void result_customer(sqlite3_context *ctx, int64_t id)
{
	if (id)
		sqlite3_result_int64(ctx, id);
	else
		sqlite3_result_null(ctx);	/* a guest's */
}

static void order_column(patron_rows_source *src, sqlite3_context *ctx, int col)
{
	const batch_rows *r = (const batch_rows *)src;
	const batch_order *o = &r->b->orders[r->at - 1];
	const int64_t num[] = {o->id, 0, o->customer, o->placed_at, o->total, 0, 0, o->revenue,
			       o->amount, o->gross, o->refunded, o->disputed};
	switch (col) {
	case 1: result_text_or_null(ctx, r->b, o->key); break;
	case 2: result_customer(ctx, o->customer); break;
	case 5: result_text_or_null(ctx, r->b, o->currency); break;
	case 6: result_text_or_null(ctx, r->b, o->status); break;
	default:
		if (col < (int)(sizeof num / sizeof *num))
			sqlite3_result_int64(ctx, num[col]);
		else
			sqlite3_result_null(ctx);
	}
}

static void line_column(patron_rows_source *src, sqlite3_context *ctx, int col)
{
	const batch_rows *r = (const batch_rows *)src;
	const batch_line *l = &r->b->lines[r->at - 1];
	const int64_t num[] = {l->order, l->line_no, l->product, l->qty, l->unit, l->amount};
	if (col < (int)(sizeof num / sizeof *num))
		sqlite3_result_int64(ctx, num[col]);
	else
		sqlite3_result_null(ctx);
}

static void event_column(patron_rows_source *src, sqlite3_context *ctx, int col)
{
	const batch_rows *r = (const batch_rows *)src;
	const batch_event *e = &r->b->events[r->at - 1];
	switch (col) {
	case 0:
		sqlite3_result_text(ctx, e->order_created ? "order.created" : "customer.created",
				    -1, SQLITE_STATIC);
		break;
	case 1: result_customer(ctx, e->customer); break;
	case 2: result_text_or_null(ctx, r->b, e->payload); break;
	case 3: sqlite3_result_int64(ctx, e->occurred); break;
	default: sqlite3_result_null(ctx);
	}
}

static int put(importer *im, int i, size_t n,
	       void (*column)(patron_rows_source *, sqlite3_context *, int), const char *what,
	       patron_err *err)
{
	if (!n)
		return 0;
	batch_rows r = {.src = {.next = batch_rows_next, .column = column}, .b = &im->batch,
			.n = n};
	sqlite3_stmt *st = im->batch.put[i];
	patron_rows_bind(st, &r.src);
	int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : patron_store_fail(im->s, err, what);
	sqlite3_reset(st);
	return rc;
}

int batch_flush(importer *im, patron_err *err)
{
	import_batch *b = &im->batch;
	if (!b->on)
		return 0;
	if (put(im, 0, b->norders, order_column, "adding an order", err) < 0 ||
	    put(im, 1, b->nlines, line_column, "adding an order line", err) < 0 ||
	    put(im, 2, b->nevents, event_column, "appending an event", err) < 0)
		return -1;
	b->norders = b->nlines = b->nevents = 0;
	b->text.len = 1;
	return 0;
}

int batch_full(const importer *im)
{
	const import_batch *b = &im->batch;
	return b->norders >= BATCH_ORDERS || b->nlines >= 4 * BATCH_ORDERS ||
	       b->nevents >= 2 * BATCH_ORDERS;
}
