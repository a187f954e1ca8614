/* Importing CSV files into the store: customers, products, orders (Patron's
 * own columns, the Shopify orders export or the Stripe payments export) and
 * feedback. A file is one transaction: it lands whole or not at all, unless
 * skip_bad sends bad rows to FILE.rejected.csv and lands the rest. */
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
	PATRON_FORMAT_AUTO,	/* orders: recognise Shopify and Stripe by their headers */
	PATRON_FORMAT_PATRON,
	PATRON_FORMAT_SHOPIFY,
	PATRON_FORMAT_STRIPE,
} patron_import_format;

typedef struct {
	patron_import_kind kind;
	patron_import_format format;
	const char *map;	/* "field=Header,field=Header", or NULL */
	int skip_bad;
	patron_date_order date_order;
	int64_t now;		/* recorded_at of events, created_at when a file has none */
	int progress;		/* draw a progress bar on stderr after a second */
} patron_import_opts;

typedef struct {
	patron_import_format format;	/* the one used, after detection */
	uint64_t rows, rejected;
	uint64_t customers_new, customers_matched, customers_merged;
	uint64_t orders_new, orders_present, lines;
	uint64_t products_new, products_updated, products_present;
	uint64_t feedback_new, feedback_present;
	char rejected_path[4096];	/* set when rows were rejected */
} patron_import_stats;

int patron_import_kind_parse(const char *s, patron_import_kind *out);
/* A column header as imports match it, and as a customers file names an
 * attribute: runs of letters and digits, lower-cased, joined by '_'
 * ("Total Day-Minutes" -> "total_day_minutes"). */
void patron_normalize_header(const char *in, char *out, size_t cap);
int patron_import_format_parse(const char *s, patron_import_format *out);
const char *patron_import_format_name(patron_import_format f);

/* Imports PATH. On error nothing of the file is in the store and err holds
 * one line, "FILE:LINE: column \"X\": expected ..., got \"...\"" for bad
 * data. Returns 0 or -1. */
int patron_import_file(patron_store *s, const char *path, const patron_import_opts *opts,
		       patron_import_stats *stats, patron_err *err);

/* The field names --map accepts for KIND, space-separated, for help text. */
const char *patron_import_fields(patron_import_kind kind);

#endif
