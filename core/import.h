/* Importing CSV files into the store: customers, products, orders and
 * feedback, in Patron's own columns or a shop's export (formats.h). A file
 * is one transaction: it lands whole or not at all, unless skip_bad sends
 * bad rows to FILE.rejected.csv and lands the rest. */
#ifndef PATRON_IMPORT_H
#define PATRON_IMPORT_H

#include <stdint.h>

#include "store.h"
#include "value.h"

typedef enum {
	PATRON_IMPORT_CUSTOMERS,
	PATRON_IMPORT_PRODUCTS,
	PATRON_IMPORT_ORDERS,
	PATRON_IMPORT_FEEDBACK,
} patron_import_kind;

typedef enum {
	PATRON_ENCODING_UTF8,	/* the default: anything else is refused */
	PATRON_ENCODING_LATIN1,	/* ISO-8859-1, transcoded to UTF-8 */
	PATRON_ENCODING_CP1252,	/* Windows-1252, transcoded to UTF-8 */
} patron_encoding;

typedef struct {
	patron_import_kind kind;
	const char *format;	/* a format's name (formats.h), or NULL/"auto": by the headers */
	const char *map;	/* "field=Header,field=Header", or NULL */
	int skip_bad;
	patron_date_order date_order;
	patron_encoding encoding;
	const char *currency;	/* patron.conf's base currency, or NULL */
	int64_t now;		/* recorded_at of events, created_at when a file has none */
	int progress;		/* draw a progress bar on stderr after a second */
	/* Feedback: scores a text's sentiment (-1 to 1) into *out, 0, or -1
	 * with err (which fails the import); NULL when no analyzer is chosen.
	 * The sentiment is stored and carried by the feedback.received event. */
	int (*sentiment)(void *ctx, const char *text, double *out, patron_err *err);
	void *sentiment_ctx;
} patron_import_opts;

typedef struct {
	const char *format;	/* the one used, after detection: "shopify" */
	const char *format_title;	/* "the Shopify orders export" */
	uint64_t rows, rejected;
	uint64_t customers_new, customers_matched, customers_merged;
	uint64_t orders_new, orders_updated, orders_unchanged, orders_guest, lines;
	uint64_t products_new, products_updated, products_present;
	uint64_t feedback_new, feedback_present;
	uint64_t phones_unread;	/* a shop export's phones that were not phone numbers */
	char base_currency_set[8];	/* set when this import chose the base currency */
	char rejected_path[4096];	/* set when rows were rejected */
} patron_import_stats;

int patron_import_kind_parse(const char *s, patron_import_kind *out);
/* A column header as imports match it, and as a customers file names an
 * attribute: runs of letters and digits, lower-cased, joined by '_', a
 * lower-case letter followed by a capital starting a word too
 * ("Total Day-Minutes" -> "total_day_minutes", "CustomerID" -> "customer_id"). */
void patron_normalize_header(const char *in, char *out, size_t cap);
/* The format names --format accepts for orders, comma-separated, for help. */
const char *patron_import_format_names(void);

/* Reads a rates file (date, currency, rate: one unit of the currency is
 * RATE units of the base currency from that date on) into the store, in one
 * transaction. *N is the count of rates. */
int patron_import_rates(patron_store *s, const char *path, const char *base, int64_t *n,
			patron_err *err);

/* The shop's base currency: patron.conf's, else the one the store chose at
 * its first import, else "" (not known yet). */
void patron_base_currency(patron_store *s, const char *configured, char out[8]);

/* Imports PATH. On error nothing of the file is in the store and err holds
 * one line, "FILE:LINE: column \"X\": expected ..., got \"...\"" for bad
 * data. Returns 0 or -1. */
int patron_import_file(patron_store *s, const char *path, const patron_import_opts *opts,
		       patron_import_stats *stats, patron_err *err);

/* Imports LEN bytes of CSV at DATA as a file named NAME would be, inside
 * the caller's transaction when one is open (a savepoint: on error nothing
 * of it stays, and the caller's transaction goes on). skip_bad is ignored. */
int patron_import_mem(patron_store *s, const char *name, const char *data, size_t len,
		      const patron_import_opts *opts, patron_import_stats *stats,
		      patron_err *err);

/* The field names --map accepts for KIND, space-separated, for help text. */
const char *patron_import_fields(patron_import_kind kind);

#endif
