/* Export formats as data. A format is a table: which header names (old and
 * new) carry each field, which headers together recognise the file, and how
 * its payment states read. The import's loop (import.c) knows no format by
 * name; adding one is adding a file under core/formats/ and its line in
 * formats.c. */
#ifndef PATRON_FORMATS_H
#define PATRON_FORMATS_H

#include <stddef.h>

/* The fields an import understands. */
typedef enum {
	F_CUSTOMER_ID, F_EMAIL, F_PHONE, F_FIRST_NAME, F_LAST_NAME, F_NAME, F_CREATED_AT,
	F_CONSENT, F_SMS_CONSENT, F_TAGS, F_ORDER_ID, F_SKU, F_PRODUCT, F_QUANTITY, F_PRICE,
	F_AMOUNT, F_TOTAL, F_REFUNDED, F_CURRENCY, F_STATUS, F_CANCELLED_AT,
	F_CONVERTED_TOTAL, F_CONVERTED_REFUNDED, F_CONVERTED_CURRENCY, F_DISPUTED,
	F_DISPUTE_STATUS, F_CATEGORY, F_RATING, F_TEXT,
	/* customer-level columns of an orders export, kept as attributes */
	F_COUNTRY, F_REGION, F_CITY, F_POSTCODE, F_COMPANY, F_SOURCE,
	PATRON_NFIELDS
} patron_field;

extern const char *const patron_field_names[PATRON_NFIELDS];
/* The attribute a field becomes on the customer (F_COUNTRY: "country"), or NULL. */
const char *patron_field_attribute(patron_field f);

typedef struct {
	patron_field f;
	const char *aliases;	/* normalized header names, space-separated, preferred first */
	int required;
} patron_field_spec;

/* How a status word reads: REVENUE 1 when it is money the customer spent;
 * AS the status stored ("paid", "pending", ...). */
typedef struct {
	const char *word;	/* normalized: "partially_refunded" */
	int revenue;
	const char *as;
} patron_status_rule;

enum {
	PATRON_FORMAT_STATUS_REQUIRED = 1,	/* a row without a status is bad */
	PATRON_FORMAT_ZERO_ID_IS_GUEST = 2,	/* customer id 0 names no one (a guest) */
	/* numbers written '0123 so that a spreadsheet keeps the leading zero:
	 * the apostrophe is not part of the value */
	PATRON_FORMAT_APOSTROPHE_NUMBERS = 4,
};

typedef struct {
	const char *name;	/* "shopify": --format and orders.source */
	const char *title;	/* "the Shopify orders export", for messages */
	int kind;		/* patron_import_kind */
	/* Normalized headers that together recognise the file, space-separated;
	 * "a|b" accepts either (an old and a new name). NULL: never detected. */
	const char *signature;
	const patron_field_spec *fields;	/* ends with {PATRON_NFIELDS, NULL, 0} */
	const patron_status_rule *statuses;	/* ends with {NULL}; NULL for none */
	const char *id_kind;	/* what the customer_id column identifies ("stripe") */
	unsigned flags;
} patron_format;

#define PATRON_FIELDS_END {PATRON_NFIELDS, NULL, 0}

/* The formats, in the order detection tries them; NULL-terminated. */
extern const patron_format *const patron_formats[];

/* The format named NAME for KIND, or NULL. */
const patron_format *patron_format_find(int kind, const char *name);
/* KIND's plain format (Patron's own column names). */
const patron_format *patron_format_plain(int kind);

/* The status rules every format shares: paid, refunded, pending, ... */
extern const patron_status_rule patron_common_statuses[];

/* How well HEADERS (normalized) match F's signature: the count of its
 * entries present, and in *missing (when not NULL) the first absent ones,
 * as the export names them, comma-separated. */
int patron_format_match(const patron_format *f, char *const *headers, size_t n, int *total,
			char *missing, size_t cap);

#endif
