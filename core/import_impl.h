/* What import.c (the file, its columns and bytes, customers, products and
 * feedback) shares with import_orders.c (orders: money, currencies, guests
 * and orders that change). Nothing else includes this. */
#ifndef PATRON_IMPORT_IMPL_H
#define PATRON_IMPORT_IMPL_H

#include <pthread.h>

#include "csv.h"
#include "formats.h"
#include "import.h"
#include "strmap.h"

#define F_N PATRON_NFIELDS

/* An order's line, gathered until the order is written. */
typedef struct {
	int64_t qty, unit, amount;
	size_t sku, name;	/* offsets into the order's text arena */
} order_line;

/* A customer's paid orders: count, base-currency cents, first and last. */
typedef struct {
	int64_t n, cents, first, last;
} order_sum;

/* How an order's money reaches the base currency. */
typedef enum { CONV_SAME, CONV_EXPORT, CONV_RATE, CONV_NONE } conversion;

/* An order's own columns, read from its first row before anything is
 * written, so a rejected row leaves nothing behind. */
typedef struct {
	char vals[3][320], status[32], first[256], last[256], currency[8];
	const char *kinds[3];
	size_t nids;
	int64_t placed_at, total, refunded, disputed, conv_total, conv_refunded;
	int has_total, consent, sms_consent, revenue, dispute_open;
	conversion conv;
	double rate;
} order_head;

/* The order being gathered: written whole when the next one starts, so its
 * total and line count are known when it lands. */
typedef struct {
	int active;
	order_head heads[2];	/* the pending order's, and the next one's being read */
	order_head *h;		/* the pending order's */
	patron_buf text;	/* key, attributes, tags and line names, NUL-separated */
	size_t key, tags, attr[F_N];
	int64_t loose;		/* money of rows without a line (no product) */
	order_line *lines;
	size_t nlines, cap;
	long line;		/* where the order starts in the file */
	/* an order whose first row was rejected (--skip-bad): its other rows
	 * go with it */
	char *bad_key;		/* owned; freed by orders_free */
	long bad_line;
} pending_order;

/* New orders, their lines and the import's events, held and written a few
 * thousand at a time with one INSERT ... SELECT per table (import_batch.c).
 * Anything else that reads or writes orders or events writes the batch
 * first (batch_flush), so the store reads as if each row had been written
 * at once.
 *
 * A bulk import (foreign keys off) also holds its new customers, their
 * identities and its changes to customers (names, consent, tags,
 * attributes, as statements to run), and a thread of its own writes each
 * batch while the next one is gathered. The store's guard
 * (patron_store_guard) makes any other use of the connection wait for
 * that thread, so the rest of the import reads and writes as before. */
typedef struct {
	int64_t id, customer, placed_at, total, amount, gross, refunded, disputed;
	int revenue;
	size_t key, currency, status;	/* offsets into the batch's text; currency 0: none */
} batch_order;

typedef struct {
	int64_t order, line_no, product, qty, unit, amount;
} batch_line;

/* order.created or customer.created, its payload made already */
typedef struct {
	int64_t customer, occurred;
	size_t payload;		/* offset into the batch's text */
	int order_created;
} batch_event;

typedef struct {
	int64_t id, created;
} batch_customer;

typedef struct {
	int64_t customer;
	size_t kind, value;
} batch_identity;

/* One of the store's statements, run with these values (a text's offset
 * into the batch's text, or 0 for NULL). */
#define BATCH_OP_VALUES 5
typedef struct {
	patron_stmt_id stmt;
	const char *what;	/* for its error: "updating a customer" */
	int n;
	struct {
		int text;
		int64_t i;
	} v[BATCH_OP_VALUES];
} batch_op;

typedef struct {
	batch_customer *customers;
	batch_identity *identities;
	batch_order *orders;
	batch_line *lines;
	batch_event *events;
	batch_op *ops;
	size_t ncustomers, nidentities, norders, nlines, nevents, nops;
	size_t ccustomers, cidentities, corders, clines, cevents, cops;
	patron_buf text;	/* keys, currencies, statuses, payloads; NUL-ended */
} batch_rows_held;

typedef struct {
	int on;
	int parallel;		/* a writer thread, customers held too */
	int64_t next_order, next_customer;	/* the ids the next ones get */
	batch_rows_held held[2];
	batch_rows_held *fill;	/* gathered by the import */
	batch_rows_held *write;	/* being written by the writer */
	/* A Bloom filter of the order keys this import wrote: a key it says
	 * is new certainly is; one it may have seen takes the row-at-a-time
	 * path, which finds out. */
	uint64_t *seen;
	uint64_t seen_mask;
	/* parallel: the identities of this import's customers, and a Bloom
	 * filter of every identity the store has or this import made */
	patron_strmap ids;
	uint64_t *ids_seen;
	uint64_t ids_mask;
	sqlite3_stmt *put[5];	/* customers, identities, orders, lines, events */
	/* the writer */
	pthread_t writer;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int busy, stop, failed;
	patron_err failure;
} import_batch;

typedef struct {
	patron_store *s;
	const patron_import_opts *o;
	patron_import_stats *st;
	const char *path;	/* the file's, or the name of the bytes in data */
	const char *data;	/* the CSV in memory (patron_import_mem), or NULL */
	size_t data_len;
	const patron_format *fmt;
	int col[F_N];		/* column index of each field, -1 when absent */
	/* A field's next alias present in the file, read when the first is
	 * empty on a row (Shopify's Billing Phone, then Phone) */
	patron_field alt_field[F_N];
	int alt_col[F_N];
	size_t nalt;
	char **header;		/* the file's own header names, for messages */
	char **norm;		/* the same, normalized, for matching */
	size_t ncols;
	/* customers: the columns that become attributes */
	int *attr_col;
	char **attr_name;
	patron_type *attr_type;
	size_t nattr;
	const char *v[F_N];	/* the current row's value of each field */
	long line;		/* the current row's line */
	int64_t max_order_before;
	patron_strmap products;
	/* Order keys met again in this file (their rows not adjacent): the
	 * order's id as written (> 0) or updated (< 0), 0 unchanged; and for
	 * files without order ids, rows per customer and day. */
	patron_strmap keys;
	patron_strmap offsets;	/* stored orders seen again: their lines compared so far */
	pending_order ord;
	char base[8];		/* the shop's base currency, "" while unknown */
	/* orders: the fields of the file that become attributes */
	patron_field attr_fields[F_N];
	size_t nattr_fields;
	int attr_defs_done;	/* orders: the attribute columns are typed */
	/* the last identity resolved, since consecutive rows often repeat it */
	char last_kind[16], last_value[320];
	int64_t last_cid;
	int64_t last_created;	/* an upper bound of last_cid's created_at */
	int source_was_empty;	/* no orders of this source before this import */
	/* customers given a new paid order: their totals are summed at the end */
	int64_t *touched;
	size_t ntouched, touched_cap;
	/* Into a store without orders, every order of the import new and
	 * written whole at once (none met again, updated or moved by a merge):
	 * the customers' totals summed as the orders are held, indexed by
	 * customer, so the end need not read the orders again. */
	int sums_kept;
	order_sum *sums;
	size_t nsums;
	import_batch batch;
} importer;

/* import.c */
/* A new reader of the file (or the bytes) from its first line. */
patron_csv *import_reopen(importer *im, patron_err *err);
int import_bad(importer *im, patron_err *why, patron_field f, const char *expected);
int import_identities(importer *im, char (*vals)[320], const char **kinds, size_t *n,
		      patron_err *why);
int import_resolve(importer *im, char vals[][320], const char *kinds[], size_t n, int64_t when,
		   int64_t *cid, int *created, patron_err *err);
int import_step(importer *im, sqlite3_stmt *st, const char *what, patron_err *err);
void import_bind_text(sqlite3_stmt *st, int i, const char *s);
int import_put_consent(importer *im, int64_t cid, const char *channel, int granted,
		       patron_err *err);
int import_put_names(importer *im, int64_t cid, const char *first, const char *last,
		     patron_err *err);
int import_put_created(importer *im, int64_t cid, int64_t when, patron_err *err);
int import_put_tags(importer *im, int64_t cid, const char *list, patron_err *err);
void import_split_name(const char *name, char *first, char *last, size_t cap);
int import_when(importer *im, patron_field f, int64_t *out, patron_err *why);

/* import_batch.c */
/* Starts batching for a file of about BYTES, in parallel when PARALLEL
 * (a bulk import, foreign keys off): 0, or -1 with err. */
int batch_start(importer *im, uint64_t bytes, int parallel, patron_err *err);
/* 0 when no order of KEY was written by this import; 1 when one may have
 * been. */
int batch_may_have(const importer *im, const char *key);
/* Notes that an order of KEY was written (by the batch or row by row). */
void batch_saw(importer *im, const char *key);
/* Holds a new order (its id returned), one of its lines, an event. */
int64_t batch_order_add(importer *im, const batch_order *o, const char *key,
			const char *currency, const char *status);
void batch_line_add(importer *im, const batch_line *l);
void batch_order_created(importer *im, int64_t customer, int64_t order, const char *key,
			 int64_t total, int64_t occurred);
void batch_customer_created(importer *im, int64_t customer, const char *kind,
			    const char *value, int64_t occurred);
/* Parallel only: the customer KIND/VALUE names (0: none), a new customer
 * made at CREATED (its id), an identity given to a customer, and a
 * statement to run in its turn with N values (T: "i" an integer, "t" a
 * text, empty for NULL, "s" a text as given). */
int64_t batch_identity_find(importer *im, const char *kind, const char *value);
int64_t batch_customer_add(importer *im, int64_t created);
void batch_identity_add(importer *im, int64_t customer, const char *kind, const char *value);
void batch_op_add(importer *im, patron_stmt_id stmt, const char *what, const char *types,
		  ...);
/* Parallel only: customer FROM merged into INTO. */
void batch_merged(importer *im, int64_t into, int64_t from);
/* 1 when the batch should be written now. */
int batch_full(const importer *im);
/* Hands the batch to the writer (parallel) or writes it: 0, or -1 with
 * err (an earlier batch's failure, in parallel). */
int batch_send(importer *im, patron_err *err);
/* Writes what is held and waits until it is written: 0, or -1 with err. */
int batch_flush(importer *im, patron_err *err);
/* Called after a row-at-a-time order was written, with its id. */
void batch_order_written(importer *im, int64_t id);
/* Stops the writer (waiting for it) and frees everything. */
void batch_free(importer *im);

/* import_orders.c */
int orders_prepare(importer *im, patron_err *err);
int orders_row(importer *im, patron_err *why, patron_err *err);
int orders_flush(importer *im, patron_err *err);
/* From now on the customers' totals are not summed as orders are held
 * (an order or a customer changed after it was held). */
void orders_sums_forget(importer *im);
/* customer_orders brought up to date for the customers this import gave
 * new paid orders (store.h's schema 11), at its end. */
int orders_totals(importer *im, patron_err *err);
void orders_free(importer *im);

#endif
