/* The import's batches: new orders, their lines and its events (and, in a
 * bulk import, its new customers and their identities) held in memory and
 * written a few thousand at a time, each table with one INSERT ... SELECT
 * from patron_rows (rows.h). Row by row, binding and stepping a statement
 * per row was most of an import's time. In a bulk import a thread writes
 * each batch while the import gathers the next (import_impl.h). */
#include "import_impl.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "rows.h"

/* A batch is written when it holds this many orders (or four times as
 * many lines, twice as many events or customers' changes): big enough
 * that each statement's own cost vanishes, small enough to stay in the
 * caches. */
#define BATCH_ORDERS 4096

/* Makes room for one more of ARR (N held, CAP room). */
#define GROW(arr, n, cap)                                                     \
	do {                                                                  \
		if ((n) == (cap)) {                                           \
			(cap) = (cap) ? 2 * (cap) : 1024;                     \
			(arr) = patron_xrealloc((arr), (cap) * sizeof *(arr)); \
		}                                                             \
	} while (0)

enum { PUT_CUSTOMERS, PUT_IDENTITIES, PUT_ORDERS, PUT_LINES, PUT_EVENTS, PUTS };

/* In this order: a batch's rows name customers and orders held before
 * them, and its statements change customers it holds. */
static const char *const put_sql[PUTS] = {
	[PUT_CUSTOMERS] = "INSERT INTO customers(id, created_at, updated_at)"
			  " SELECT c0, c1, c1 FROM patron_rows(?1)",
	[PUT_IDENTITIES] = "INSERT OR IGNORE INTO identities(kind, value, customer_id)"
			   " SELECT c0, c1, c2 FROM patron_rows(?1)",
	[PUT_ORDERS] = "INSERT INTO orders(id, source, order_key, customer_id, placed_at,"
		       " total_cents, currency, status, revenue, amount_cents, gross_cents,"
		       " refunded_cents, disputed_cents)"
		       " SELECT c0, ?2, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11"
		       " FROM patron_rows(?1)",
	[PUT_LINES] = "INSERT INTO order_lines(order_id, line_no, product_id, quantity,"
		      " unit_cents, amount_cents) SELECT c0, c1, c2, c3, c4, c5 FROM patron_rows(?1)",
	[PUT_EVENTS] = "INSERT INTO events(topic, customer_id, payload, occurred_at, recorded_at)"
		       " SELECT c0, c1, c2, c3, ?3 FROM patron_rows(?1)",
};

/* A Bloom filter of at least BITS bits (a power of two, from 2^16), in
 * blocks of one cache line: a key's four bits are in one block, so a
 * look-up costs one miss of the cache, not four. */
static uint64_t *bloom_new(uint64_t bits, uint64_t *mask)
{
	uint64_t n = 1u << 16;
	while (n < bits && n < (1ull << 30))
		n <<= 1;
	*mask = n / 512 - 1;	/* of the blocks */
	return patron_xcalloc(n / 64, sizeof(uint64_t));
}

/* FNV-1a, 64 bits, of A and B (which may be NULL), its bits then mixed
 * (keys such as 100001, 100002 differ in a byte or two, and FNV's high
 * bits alone spread them badly). Its high half picks the block, four
 * nine-bit pieces of the low half the bits in it. */
static uint64_t key_hash(const char *a, const char *b)
{
	uint64_t h = 14695981039346656037ull;
	for (const unsigned char *p = (const unsigned char *)a; *p; p++)
		h = (h ^ *p) * 1099511628211ull;
	if (b) {
		h = (h ^ 0x1f) * 1099511628211ull;
		for (const unsigned char *p = (const unsigned char *)b; *p; p++)
			h = (h ^ *p) * 1099511628211ull;
	}
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	return h ^ (h >> 33);
}

static int bloom_has(const uint64_t *bits, uint64_t mask, uint64_t h)
{
	const uint64_t *block = bits + 8 * ((h >> 32) & mask);
	for (int i = 0; i < 4; i++) {
		unsigned bit = (unsigned)(h >> (9 * i)) & 511;
		if (!(block[bit / 64] >> (bit % 64) & 1))
			return 0;
	}
	return 1;
}

static void bloom_add(uint64_t *bits, uint64_t mask, uint64_t h)
{
	uint64_t *block = bits + 8 * ((h >> 32) & mask);
	for (int i = 0; i < 4; i++) {
		unsigned bit = (unsigned)(h >> (9 * i)) & 511;
		block[bit / 64] |= 1ull << (bit % 64);
	}
}

static void held_clear(batch_rows_held *h)
{
	h->ncustomers = h->nidentities = h->norders = h->nlines = h->nevents = h->nops = 0;
	h->text.len = 0;
	patron_buf_add(&h->text, "", 1);	/* offset 0: NULL */
}

static void held_free(batch_rows_held *h)
{
	free(h->customers), free(h->identities), free(h->orders), free(h->lines);
	free(h->events), free(h->ops);
	patron_buf_free(&h->text);
}

static int write_held(importer *im, batch_rows_held *h, patron_err *err);

/* The store's guard while the writer runs: waits until it is idle. The
 * writer itself goes through. */
static void wait_for_writer(void *arg)
{
	import_batch *b = arg;
	if (pthread_equal(pthread_self(), b->writer))
		return;
	pthread_mutex_lock(&b->mu);
	while (b->busy)
		pthread_cond_wait(&b->cv, &b->mu);
	pthread_mutex_unlock(&b->mu);
}

static void *writer_run(void *arg)
{
	importer *im = arg;
	import_batch *b = &im->batch;
	pthread_mutex_lock(&b->mu);
	for (;;) {
		while (!b->busy && !b->stop)
			pthread_cond_wait(&b->cv, &b->mu);
		if (!b->busy)
			break;	/* stopped, and nothing left to write */
		pthread_mutex_unlock(&b->mu);
		patron_err e;
		int rc = b->failed ? 0 : write_held(im, b->write, &e);
		held_clear(b->write);
		pthread_mutex_lock(&b->mu);
		if (rc < 0) {
			b->failed = 1;
			b->failure = e;
		}
		b->busy = 0;
		pthread_cond_broadcast(&b->cv);
	}
	pthread_mutex_unlock(&b->mu);
	return NULL;
}

/* Every identity the store has, into the filter: hashed in one pass, then
 * added once their number sizes it. */
static int identities_seen(importer *im, uint64_t bytes, patron_err *err)
{
	import_batch *b = &im->batch;
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(patron_store_db(im->s), "SELECT kind, value FROM identities", -1, &st,
			       NULL) != SQLITE_OK)
		return patron_store_fail(im->s, err, "reading identities");
	uint64_t *h = NULL;
	size_t n = 0, cap = 0;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		GROW(h, n, cap);
		h[n++] = key_hash((const char *)sqlite3_column_text(st, 0),
				  (const char *)sqlite3_column_text(st, 1));
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		free(h);
		return patron_store_fail(im->s, err, "reading identities");
	}
	b->ids_seen = bloom_new(32 * (uint64_t)n + bytes / 2, &b->ids_mask);
	for (size_t i = 0; i < n; i++)
		bloom_add(b->ids_seen, b->ids_mask, h[i]);
	free(h);
	return 0;
}

int batch_start(importer *im, uint64_t bytes, int parallel, patron_err *err)
{
	import_batch *b = &im->batch;
	sqlite3 *db = patron_store_db(im->s);
	if (patron_rows_register(db) != SQLITE_OK)
		return patron_store_fail(im->s, err, "preparing the import");
	for (int i = 0; i < PUTS; i++) {
		if (sqlite3_prepare_v3(db, put_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &b->put[i],
				       NULL) != SQLITE_OK)
			return patron_store_fail(im->s, err, "preparing the import");
		if (i == PUT_ORDERS)
			sqlite3_bind_text(b->put[i], 2, im->fmt->name, -1, SQLITE_STATIC);
		else if (i == PUT_EVENTS)
			sqlite3_bind_int64(b->put[i], 3, im->o->now);
	}
	/* A bit per two bytes of the file: a row is tens of bytes, so there
	 * are dozens of bits per order, and a false "may have" (which costs
	 * a wait for the writer) comes once in a million orders. */
	b->seen = bloom_new(bytes / 2, &b->seen_mask);
	b->next_order = im->max_order_before + 1;
	for (int i = 0; i < 2; i++)
		held_clear(&b->held[i]);
	b->fill = &b->held[0];
	b->write = &b->held[1];
	b->on = 1;
	if (!parallel)
		return 0;
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db, "SELECT coalesce(max(id), 0) + 1 FROM customers", -1, &st,
			       NULL) != SQLITE_OK)
		return patron_store_fail(im->s, err, "reading customers");
	b->next_customer = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 1;
	sqlite3_finalize(st);
	if (identities_seen(im, bytes, err) < 0)
		return -1;
	pthread_mutex_init(&b->mu, NULL);
	pthread_cond_init(&b->cv, NULL);
	if (pthread_create(&b->writer, NULL, writer_run, im) != 0) {
		/* no thread: everything is written by the import itself */
		pthread_cond_destroy(&b->cv);
		pthread_mutex_destroy(&b->mu);
		return 0;
	}
	b->parallel = 1;
	patron_store_guard(im->s, wait_for_writer, b);
	return 0;
}

void batch_free(importer *im)
{
	import_batch *b = &im->batch;
	if (b->parallel) {
		pthread_mutex_lock(&b->mu);
		b->stop = 1;
		pthread_cond_broadcast(&b->cv);
		pthread_mutex_unlock(&b->mu);
		pthread_join(b->writer, NULL);
		patron_store_guard(im->s, NULL, NULL);
		pthread_cond_destroy(&b->cv);
		pthread_mutex_destroy(&b->mu);
	}
	for (int i = 0; i < PUTS; i++)
		sqlite3_finalize(b->put[i]);
	for (int i = 0; i < 2; i++)
		held_free(&b->held[i]);
	free(b->seen), free(b->ids_seen);
	patron_strmap_free(&b->ids);
	memset(b, 0, sizeof *b);
}

int batch_may_have(const importer *im, const char *key)
{
	return bloom_has(im->batch.seen, im->batch.seen_mask, key_hash(key, NULL));
}

void batch_saw(importer *im, const char *key)
{
	if (im->batch.on)
		bloom_add(im->batch.seen, im->batch.seen_mask, key_hash(key, NULL));
}

static size_t text_add(batch_rows_held *h, const char *s)
{
	size_t at = h->text.len;
	patron_buf_add(&h->text, s, strlen(s) + 1);
	return at;
}

int64_t batch_order_add(importer *im, const batch_order *o, const char *key,
			const char *currency, const char *status)
{
	batch_rows_held *h = im->batch.fill;
	GROW(h->orders, h->norders, h->corders);
	batch_order *x = &h->orders[h->norders++];
	*x = *o;
	x->id = im->batch.next_order++;
	x->key = text_add(h, key);
	x->currency = currency && *currency ? text_add(h, currency) : 0;
	x->status = text_add(h, status);
	batch_saw(im, key);
	return x->id;
}

void batch_line_add(importer *im, const batch_line *l)
{
	batch_rows_held *h = im->batch.fill;
	GROW(h->lines, h->nlines, h->clines);
	h->lines[h->nlines++] = *l;
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

static void event_add(importer *im, int order_created, int64_t customer, int64_t occurred)
{
	batch_rows_held *h = im->batch.fill;
	GROW(h->events, h->nevents, h->cevents);
	h->events[h->nevents++] = (batch_event){.order_created = order_created,
		.customer = customer, .occurred = occurred, .payload = h->text.len};
}

/* The payloads are the row-at-a-time statements' (store.c), made here
 * without printf: a million of them are an import's. */
void batch_order_created(importer *im, int64_t customer, int64_t order, const char *key,
			 int64_t total, int64_t occurred)
{
	patron_buf *t = &im->batch.fill->text;
	event_add(im, 1, customer, occurred);
	patron_buf_add(t, "{\"order_id\":", 12);
	patron_buf_add_int(t, order);
	patron_buf_add(t, ",\"order\":", 9);
	json_text(t, key);
	patron_buf_add(t, ",\"total_cents\":", 15);
	patron_buf_add_int(t, total);
	patron_buf_add(t, "}", 2);
}

void batch_customer_created(importer *im, int64_t customer, const char *kind,
			    const char *value, int64_t occurred)
{
	patron_buf *t = &im->batch.fill->text;
	event_add(im, 0, customer, occurred);
	patron_buf_add(t, "{", 1);
	json_text(t, kind);
	patron_buf_add(t, ":", 1);
	json_text(t, value);
	patron_buf_add(t, ",\"source\":", 10);
	json_text(t, im->fmt->name);
	patron_buf_add(t, "}", 2);
}

/* "kind\x1fvalue", the identity map's key (OUT holds 400 bytes; a kind is
 * a short word and a value at most 320 bytes). */
static const char *identity_key(char *out, const char *kind, const char *value)
{
	size_t k = strlen(kind), v = strlen(value);
	if (k > 64)
		k = 64;
	if (v > 320)
		v = 320;
	memcpy(out, kind, k);
	out[k] = '\x1f';
	memcpy(out + k + 1, value, v);
	out[k + 1 + v] = '\0';
	return out;
}

int64_t batch_identity_find(importer *im, const char *kind, const char *value)
{
	import_batch *b = &im->batch;
	char key[400];
	int64_t id;
	if (patron_strmap_get(&b->ids, identity_key(key, kind, value), &id))
		return id;
	if (!bloom_has(b->ids_seen, b->ids_mask, key_hash(kind, value)))
		return 0;	/* certainly no one's */
	return patron_customer_find(im->s, kind, value);	/* waits for the writer */
}

int64_t batch_customer_add(importer *im, int64_t created)
{
	batch_rows_held *h = im->batch.fill;
	GROW(h->customers, h->ncustomers, h->ccustomers);
	int64_t id = im->batch.next_customer++;
	h->customers[h->ncustomers++] = (batch_customer){.id = id, .created = created};
	return id;
}

void batch_identity_add(importer *im, int64_t customer, const char *kind, const char *value)
{
	import_batch *b = &im->batch;
	batch_rows_held *h = b->fill;
	char key[400];
	GROW(h->identities, h->nidentities, h->cidentities);
	h->identities[h->nidentities++] = (batch_identity){.customer = customer,
		.kind = text_add(h, kind), .value = text_add(h, value)};
	patron_strmap_put(&b->ids, identity_key(key, kind, value), customer);
	bloom_add(b->ids_seen, b->ids_mask, key_hash(kind, value));
}

void batch_merged(importer *im, int64_t into, int64_t from)
{
	patron_strmap *m = &im->batch.ids;
	for (size_t i = 0; i < m->cap; i++)
		if (m->keys && m->keys[i] && m->vals[i] == from)
			m->vals[i] = into;
}

void batch_op_add(importer *im, patron_stmt_id stmt, const char *what, const char *types,
		  ...)
{
	batch_rows_held *h = im->batch.fill;
	GROW(h->ops, h->nops, h->cops);
	batch_op *op = &h->ops[h->nops++];
	op->stmt = stmt;
	op->what = what;
	op->n = 0;
	va_list ap;
	va_start(ap, types);
	for (const char *t = types; *t && op->n < BATCH_OP_VALUES; t++, op->n++) {
		op->v[op->n].text = *t != 'i';
		if (*t == 'i') {
			op->v[op->n].i = va_arg(ap, int64_t);
		} else {
			const char *s = va_arg(ap, const char *);
			/* "t": an empty text is NULL, as import_bind_text has it */
			op->v[op->n].i = s && (*s || *t == 's') ? (int64_t)text_add(h, s) : 0;
		}
	}
	va_end(ap);
}

void batch_order_written(importer *im, int64_t id)
{
	if (id >= im->batch.next_order)
		im->batch.next_order = id + 1;
}

/* ---- writing ---- */

/* The rows of one of the batch's tables. */
typedef struct {
	patron_rows_source src;
	const batch_rows_held *h;
	size_t n, at;
} held_rows;

static int held_rows_next(patron_rows_source *src)
{
	held_rows *r = (held_rows *)src;
	return ++r->at <= r->n;
}

static void result_text_or_null(sqlite3_context *ctx, const batch_rows_held *h, size_t at)
{
	if (at)
		sqlite3_result_text(ctx, h->text.data + at, -1, SQLITE_STATIC);
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

/* Column COL of NUM, or NULL past it. */
static void result_of(sqlite3_context *ctx, const int64_t *num, size_t n, int col)
{
	if (col < (int)n)
		sqlite3_result_int64(ctx, num[col]);
	else
		sqlite3_result_null(ctx);
}

static void customer_column(patron_rows_source *src, sqlite3_context *ctx, int col)
{
	const held_rows *r = (const held_rows *)src;
	const batch_customer *c = &r->h->customers[r->at - 1];
	result_of(ctx, (const int64_t[]){c->id, c->created}, 2, col);
}

static void identity_column(patron_rows_source *src, sqlite3_context *ctx, int col)
{
	const held_rows *r = (const held_rows *)src;
	const batch_identity *x = &r->h->identities[r->at - 1];
	if (col < 2)
		result_text_or_null(ctx, r->h, col == 0 ? x->kind : x->value);
	else
		result_of(ctx, (const int64_t[]){0, 0, x->customer}, 3, col);
}

static void order_column(patron_rows_source *src, sqlite3_context *ctx, int col)
{
	const held_rows *r = (const held_rows *)src;
	const batch_order *o = &r->h->orders[r->at - 1];
	switch (col) {
	case 1: result_text_or_null(ctx, r->h, o->key); break;
	case 2: result_customer(ctx, o->customer); break;
	case 5: result_text_or_null(ctx, r->h, o->currency); break;
	case 6: result_text_or_null(ctx, r->h, o->status); break;
	default:
		result_of(ctx, (const int64_t[]){o->id, 0, 0, o->placed_at, o->total, 0, 0,
			  o->revenue, o->amount, o->gross, o->refunded, o->disputed}, 12, col);
	}
}

static void line_column(patron_rows_source *src, sqlite3_context *ctx, int col)
{
	const held_rows *r = (const held_rows *)src;
	const batch_line *l = &r->h->lines[r->at - 1];
	result_of(ctx, (const int64_t[]){l->order, l->line_no, l->product, l->qty, l->unit,
		  l->amount}, 6, col);
}

static void event_column(patron_rows_source *src, sqlite3_context *ctx, int col)
{
	const held_rows *r = (const held_rows *)src;
	const batch_event *e = &r->h->events[r->at - 1];
	switch (col) {
	case 0:
		sqlite3_result_text(ctx, e->order_created ? "order.created" : "customer.created",
				    -1, SQLITE_STATIC);
		break;
	case 1: result_customer(ctx, e->customer); break;
	case 2: result_text_or_null(ctx, r->h, e->payload); break;
	case 3: sqlite3_result_int64(ctx, e->occurred); break;
	default: sqlite3_result_null(ctx);
	}
}

static int put(importer *im, int i, const batch_rows_held *h, size_t n,
	       void (*column)(patron_rows_source *, sqlite3_context *, int), const char *what,
	       patron_err *err)
{
	if (!n)
		return 0;
	held_rows r = {.src = {.next = held_rows_next, .column = column}, .h = h, .n = n};
	sqlite3_stmt *st = im->batch.put[i];
	patron_rows_bind(st, &r.src);
	int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : patron_store_fail(im->s, err, what);
	sqlite3_reset(st);
	return rc;
}

static int run_op(importer *im, const batch_rows_held *h, const batch_op *op, patron_err *err)
{
	sqlite3_stmt *st = patron_store_stmt(im->s, op->stmt);
	for (int k = 0; k < op->n; k++) {
		if (!op->v[k].text)
			sqlite3_bind_int64(st, k + 1, op->v[k].i);
		else if (op->v[k].i)
			sqlite3_bind_text(st, k + 1, h->text.data + op->v[k].i, -1, SQLITE_STATIC);
		else
			sqlite3_bind_null(st, k + 1);
	}
	return sqlite3_step(st) == SQLITE_DONE ? 0 : patron_store_fail(im->s, err, op->what);
}

static int write_held(importer *im, batch_rows_held *h, patron_err *err)
{
	if (put(im, PUT_CUSTOMERS, h, h->ncustomers, customer_column, "adding a customer",
		err) < 0 ||
	    put(im, PUT_IDENTITIES, h, h->nidentities, identity_column, "adding an identity",
		err) < 0 ||
	    put(im, PUT_ORDERS, h, h->norders, order_column, "adding an order", err) < 0 ||
	    put(im, PUT_LINES, h, h->nlines, line_column, "adding an order line", err) < 0 ||
	    put(im, PUT_EVENTS, h, h->nevents, event_column, "appending an event", err) < 0)
		return -1;
	for (size_t i = 0; i < h->nops; i++)
		if (run_op(im, h, &h->ops[i], err) < 0)
			return -1;
	return 0;
}

int batch_full(const importer *im)
{
	const batch_rows_held *h = im->batch.fill;
	return h->norders >= BATCH_ORDERS || h->nlines >= 4 * BATCH_ORDERS ||
	       h->nevents >= 2 * BATCH_ORDERS || h->nops >= 2 * BATCH_ORDERS;
}

static int held_empty(const batch_rows_held *h)
{
	return !h->ncustomers && !h->nidentities && !h->norders && !h->nlines && !h->nevents &&
	       !h->nops;
}

int batch_send(importer *im, patron_err *err)
{
	import_batch *b = &im->batch;
	if (!b->on || held_empty(b->fill))
		return 0;
	if (!b->parallel) {
		int rc = write_held(im, b->fill, err);
		held_clear(b->fill);
		return rc;
	}
	pthread_mutex_lock(&b->mu);
	while (b->busy)
		pthread_cond_wait(&b->cv, &b->mu);
	int failed = b->failed;
	if (failed) {
		*err = b->failure;
	} else {
		batch_rows_held *t = b->write;
		b->write = b->fill;
		b->fill = t;
		b->busy = 1;
		pthread_cond_broadcast(&b->cv);
	}
	pthread_mutex_unlock(&b->mu);
	return failed ? -1 : 0;
}

int batch_flush(importer *im, patron_err *err)
{
	import_batch *b = &im->batch;
	if (batch_send(im, err) < 0)
		return -1;
	if (!b->parallel)
		return 0;
	pthread_mutex_lock(&b->mu);
	while (b->busy)
		pthread_cond_wait(&b->cv, &b->mu);
	int failed = b->failed;
	if (failed)
		*err = b->failure;
	pthread_mutex_unlock(&b->mu);
	return failed ? -1 : 0;
}
