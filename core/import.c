#include "import.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "csv.h"
#include "strmap.h"

/* The fields an import understands. A file's columns are matched to them by
 * header name (normalized: lower case, runs of other characters as one '_'),
 * through the aliases of the kind and format, or through --map. */
typedef enum {
	F_CUSTOMER_ID, F_EMAIL, F_PHONE, F_FIRST_NAME, F_LAST_NAME, F_NAME, F_CREATED_AT,
	F_CONSENT, F_TAGS, F_ORDER_ID, F_SKU, F_PRODUCT, F_QUANTITY, F_PRICE, F_AMOUNT,
	F_TOTAL, F_REFUNDED, F_CURRENCY, F_STATUS, F_CATEGORY, F_RATING, F_TEXT,
	NFIELDS
} field;

static const char *const field_name[NFIELDS] = {
	"customer_id", "email", "phone", "first_name", "last_name", "name", "created_at",
	"consent", "tags", "order_id", "sku", "product", "quantity", "price", "amount",
	"total", "refunded", "currency", "status", "category", "rating", "text",
};

typedef struct {
	field f;
	const char *aliases;	/* normalized header names, space-separated */
	int required;
} field_spec;

#define END {NFIELDS, NULL, 0}

static const field_spec customer_fields[] = {
	{F_CUSTOMER_ID, "customer_id id customer", 0},
	{F_EMAIL, "email e_mail email_address customer_email", 0},
	{F_PHONE, "phone phone_number mobile telephone", 0},
	{F_FIRST_NAME, "first_name firstname given_name", 0},
	{F_LAST_NAME, "last_name lastname surname family_name", 0},
	{F_NAME, "name full_name customer_name", 0},
	{F_CREATED_AT, "created_at signup_date signed_up_at signup_at joined_at customer_since", 0},
	{F_CONSENT, "accepts_marketing marketing_consent email_consent consent subscribed opt_in", 0},
	{F_TAGS, "tags", 0},
	END,
};

static const field_spec product_fields[] = {
	{F_SKU, "sku product_id id code", 1},
	{F_NAME, "name title product_name product", 0},
	{F_CATEGORY, "category product_type type", 0},
	{F_PRICE, "price unit_price", 0},
	END,
};

static const field_spec order_fields[] = {
	{F_ORDER_ID, "order_id order order_number order_no", 1},
	{F_CUSTOMER_ID, "customer_id customer", 0},
	{F_EMAIL, "email customer_email e_mail", 0},
	{F_PHONE, "phone customer_phone", 0},
	{F_NAME, "customer_name billing_name", 0},
	{F_CREATED_AT, "created_at date order_date placed_at ordered_at", 1},
	{F_SKU, "sku product_sku item_sku", 0},
	{F_PRODUCT, "product product_name item item_name title", 0},
	{F_QUANTITY, "quantity qty", 0},
	{F_PRICE, "price unit_price item_price", 0},
	{F_AMOUNT, "amount line_total line_amount", 0},
	{F_TOTAL, "total order_total", 0},
	{F_CURRENCY, "currency", 0},
	{F_STATUS, "status financial_status payment_status", 0},
	{F_CONSENT, "accepts_marketing marketing_consent", 0},
	END,
};

/* The Shopify orders export: one row per line item; order-level columns
 * (Financial Status, Total, Created at) are filled on the order's first row. */
static const field_spec shopify_fields[] = {
	{F_ORDER_ID, "name", 1},
	{F_EMAIL, "email", 0},
	{F_PHONE, "phone billing_phone", 0},
	{F_NAME, "billing_name", 0},
	{F_CREATED_AT, "created_at", 1},
	{F_STATUS, "financial_status", 0},
	{F_QUANTITY, "lineitem_quantity", 1},
	{F_PRODUCT, "lineitem_name", 1},
	{F_PRICE, "lineitem_price", 1},
	{F_SKU, "lineitem_sku", 0},
	{F_TOTAL, "total", 0},
	{F_REFUNDED, "refunded_amount", 0},
	{F_CURRENCY, "currency", 0},
	{F_CONSENT, "accepts_marketing", 0},
	END,
};

/* The Stripe payments export: one row per payment, no line items. */
static const field_spec stripe_fields[] = {
	{F_ORDER_ID, "id", 1},
	{F_CREATED_AT, "created_utc created", 1},
	{F_TOTAL, "amount", 1},
	{F_REFUNDED, "amount_refunded", 0},
	{F_CURRENCY, "currency", 0},
	{F_STATUS, "status", 1},
	{F_CUSTOMER_ID, "customer_id", 0},
	{F_EMAIL, "customer_email", 0},
	END,
};

static const field_spec feedback_fields[] = {
	{F_CUSTOMER_ID, "customer_id customer", 0},
	{F_EMAIL, "email customer_email", 0},
	{F_PHONE, "phone", 0},
	{F_CREATED_AT, "created_at date received_at submitted_at", 1},
	{F_RATING, "rating score stars", 0},
	{F_TEXT, "text feedback comment body message review", 1},
	END,
};

static const field_spec *specs_for(patron_import_kind kind, patron_import_format format)
{
	switch (kind) {
	case PATRON_IMPORT_CUSTOMERS: return customer_fields;
	case PATRON_IMPORT_PRODUCTS: return product_fields;
	case PATRON_IMPORT_FEEDBACK: return feedback_fields;
	case PATRON_IMPORT_ORDERS: break;
	}
	return format == PATRON_FORMAT_SHOPIFY ? shopify_fields
	       : format == PATRON_FORMAT_STRIPE ? stripe_fields : order_fields;
}

const char *patron_import_fields(patron_import_kind kind)
{
	switch (kind) {
	case PATRON_IMPORT_CUSTOMERS:
		return "customer_id email phone first_name last_name name created_at consent tags";
	case PATRON_IMPORT_PRODUCTS: return "sku name category price";
	case PATRON_IMPORT_ORDERS:
		return "order_id customer_id email phone name created_at sku product quantity "
		       "price amount total currency status consent";
	case PATRON_IMPORT_FEEDBACK: return "customer_id email phone created_at rating text";
	}
	return "";
}

int patron_import_kind_parse(const char *s, patron_import_kind *out)
{
	static const char *const names[] = {"customers", "products", "orders", "feedback"};
	for (int i = 0; i < 4; i++)
		if (strcmp(s, names[i]) == 0)
			return *out = (patron_import_kind)i, 0;
	return -1;
}

static const char *const format_names[] = {"auto", "patron", "shopify", "stripe"};

int patron_import_format_parse(const char *s, patron_import_format *out)
{
	for (int i = 0; i < 4; i++)
		if (strcmp(s, format_names[i]) == 0)
			return *out = (patron_import_format)i, 0;
	return -1;
}

const char *patron_import_format_name(patron_import_format f) { return format_names[f]; }

/* Where an order's rows are gathered until the next order starts: it is
 * written whole, so its total and line count are known when it lands. */
typedef struct {
	int64_t qty, unit, amount;
	size_t sku, name;	/* offsets into the order's text arena */
} order_line;

typedef struct {
	int active, skip;	/* skip: the order was already in the store */
	int64_t append_to;	/* an order this file created earlier: add lines to it */
	patron_buf text;	/* key, identities and line names, NUL-separated */
	size_t key;
	size_t ids[3], nids;
	const char *id_kind[3];
	size_t first_name, last_name, status, currency;
	int64_t placed_at, total;
	int has_total, has_consent, consent, revenue;
	order_line *lines;
	size_t nlines, cap;
} pending_order;

typedef struct {
	patron_store *s;
	const patron_import_opts *o;
	patron_import_stats *st;
	const char *path;
	const char *source;	/* orders.source: patron, shopify or stripe */
	int col[NFIELDS];	/* column index of each field, -1 when absent */
	char **header;		/* the file's own header names, for messages */
	char **norm;		/* the same, normalized, for matching */
	size_t ncols;
	/* customers: the columns that become attributes */
	int *attr_col;
	char **attr_name;
	patron_type *attr_type;
	size_t nattr;
	const char *v[NFIELDS];	/* the current row's value of each field */
	int64_t max_order_before;
	patron_strmap products;
	pending_order ord;
	/* the last identity resolved, since consecutive rows often repeat it */
	char last_kind[16], last_value[320];
	int64_t last_cid;
	int64_t last_created;	/* an upper bound of last_cid's created_at */
	int source_was_empty;	/* no orders of this source before this import */
} importer;

void patron_normalize_header(const char *in, char *out, size_t cap)
{
	size_t n = 0;
	int gap = 0;
	for (; *in && n + 2 < cap; in++) {
		unsigned char c = (unsigned char)*in;
		if (isalnum(c)) {
			if (gap && n)
				out[n++] = '_';
			out[n++] = (char)tolower(c);
			gap = 0;
		} else {
			gap = 1;
		}
	}
	out[n] = '\0';
}

/* The column whose normalized name is NORM, or -1. */
static int column_named(const importer *im, const char *norm)
{
	for (size_t c = 0; c < im->ncols; c++)
		if (strcmp(im->norm[c], norm) == 0)
			return (int)c;
	return -1;
}

static int find_column(importer *im, const char *want)
{
	char norm[128];
	patron_normalize_header(want, norm, sizeof norm);
	return column_named(im, norm);
}

/* 1 when a field already takes column C. */
static int column_taken(const importer *im, size_t c)
{
	for (int f = 0; f < NFIELDS; f++)
		if (im->col[f] == (int)c)
			return 1;
	return 0;
}

static int field_parse(const char *name, field *out)
{
	for (int f = 0; f < NFIELDS; f++)
		if (strcmp(field_name[f], name) == 0)
			return *out = (field)f, 0;
	return -1;
}

static int spec_has(const field_spec *spec, field f)
{
	for (; spec->aliases; spec++)
		if (spec->f == f)
			return 1;
	return 0;
}

/* Matches header columns to fields: --map first, then each field's aliases
 * in order of preference. */
static int map_columns(importer *im, const field_spec *spec, patron_err *err)
{
	for (int f = 0; f < NFIELDS; f++)
		im->col[f] = -1;
	for (size_t a = 0; a < im->ncols; a++) {
		for (size_t b = a + 1; b < im->ncols; b++) {
			if (im->norm[a][0] && strcmp(im->norm[a], im->norm[b]) == 0)
				return patron_err_set(err, "%s:1: columns \"%s\" and \"%s\" have the same "
						      "name", im->path, im->header[a], im->header[b]);
		}
	}
	if (im->o->map) {
		char *copy = patron_xstrdup(im->o->map), *save = NULL;
		for (char *item = strtok_r(copy, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
			char *eq = strchr(item, '=');
			field f;
			if (!eq || eq == item || !eq[1]) {
				patron_err_set(err, "--map: expected field=Header, got \"%s\"", item);
				free(copy);
				return -1;
			}
			*eq = '\0';
			if (field_parse(item, &f) < 0 || !spec_has(spec, f)) {
				patron_err_set(err, "--map: unknown field \"%s\" for this import "
					       "(expected one of: %s)", item,
					       patron_import_fields(im->o->kind));
				free(copy);
				return -1;
			}
			im->col[f] = find_column(im, eq + 1);
			if (im->col[f] < 0) {
				patron_err_set(err, "%s:1: --map %s=%s: there is no column \"%s\"",
					       im->path, item, eq + 1, eq + 1);
				free(copy);
				return -1;
			}
		}
		free(copy);
	}
	for (const field_spec *sp = spec; sp->aliases; sp++) {
		if (im->col[sp->f] >= 0)
			continue;
		/* The first alias that names a column wins: aliases are listed in
		 * order of preference. */
		for (const char *p = sp->aliases; *p && im->col[sp->f] < 0;) {
			const char *e = strchr(p, ' ');
			size_t len = e ? (size_t)(e - p) : strlen(p);
			char alias[64];
			snprintf(alias, sizeof alias, "%.*s", (int)len, p);
			int c = column_named(im, alias);
			if (c >= 0 && !column_taken(im, (size_t)c))
				im->col[sp->f] = c;
			p += len + (e != NULL);
		}
		if (sp->required && im->col[sp->f] < 0)
			return patron_err_set(err, "%s:1: no column for \"%s\" (looked for: %s); "
					      "name it with --map %s=HEADER", im->path,
					      field_name[sp->f], sp->aliases, field_name[sp->f]);
	}
	if (im->o->kind != PATRON_IMPORT_PRODUCTS && im->col[F_CUSTOMER_ID] < 0 &&
	    im->col[F_EMAIL] < 0 && im->col[F_PHONE] < 0)
		return patron_err_set(err, "%s:1: no column names the customer (looked for an "
				      "email, phone or customer id column); name one with "
				      "--map email=HEADER", im->path);
	return 0;
}

static patron_import_format detect_format(importer *im)
{
	int lineitems = 0, financial = 0, created_utc = 0, amount = 0, cust = 0;
	for (size_t c = 0; c < im->ncols; c++) {
		const char *h = im->norm[c];
		lineitems |= strcmp(h, "lineitem_quantity") == 0;
		financial |= strcmp(h, "financial_status") == 0;
		created_utc |= strcmp(h, "created_utc") == 0;
		amount |= strcmp(h, "amount") == 0;
		cust |= strcmp(h, "customer_email") == 0 || strcmp(h, "customer_id") == 0;
	}
	if (lineitems && financial)
		return PATRON_FORMAT_SHOPIFY;
	if (created_utc && amount && cust)
		return PATRON_FORMAT_STRIPE;
	return PATRON_FORMAT_PATRON;
}

/* "column "Created at": " — how a bad value's column is named in messages. */
static int bad(importer *im, patron_err *why, field f, const char *expected)
{
	return patron_err_set(why, "column \"%s\": expected %s, got \"%s\"",
			      im->header[im->col[f]], expected, im->v[f]) , 1;
}

/* Parses the row's identities into KINDS/VALUES (normalized, at most 3).
 * 0 ok, 1 bad row. */
static int row_identities(importer *im, char vals[3][320], const char *kinds[3], size_t *n,
			  patron_err *why)
{
	*n = 0;
	if (*im->v[F_EMAIL]) {
		if (patron_normalize_email(im->v[F_EMAIL], vals[*n], 320) < 0)
			return bad(im, why, F_EMAIL, "an email address");
		kinds[(*n)++] = "email";
	}
	if (*im->v[F_PHONE]) {
		if (patron_normalize_phone(im->v[F_PHONE], vals[*n], 320) < 0)
			return bad(im, why, F_PHONE, "a phone number");
		kinds[(*n)++] = "phone";
	}
	if (*im->v[F_CUSTOMER_ID]) {
		snprintf(vals[*n], 320, "%s", im->v[F_CUSTOMER_ID]);
		kinds[(*n)++] = im->o->format == PATRON_FORMAT_STRIPE ? "stripe" : "id";
	}
	if (*n == 0) {
		patron_err_set(why, "no customer: expected an email, phone or customer id");
		return 1;
	}
	return 0;
}

static int step_done(importer *im, sqlite3_stmt *st, const char *what, patron_err *err);

/* Finds the customer the identities name, creating one when none does and
 * merging when they name several (the lowest id survives). */
static int resolve_customer(importer *im, char vals[][320], const char *kinds[], size_t n,
			    int64_t when, int64_t *cid, int *created, patron_err *err)
{
	*created = 0;
	if (im->last_cid && strcmp(kinds[0], im->last_kind) == 0 &&
	    strcmp(vals[0], im->last_value) == 0 && n == 1) {
		*cid = im->last_cid;
		return 0;
	}
	int64_t found[3], owner[3];
	size_t nf = 0;
	for (size_t i = 0; i < n; i++) {
		int64_t c = owner[i] = patron_customer_find(im->s, kinds[i], vals[i]);
		int dup = 0;
		for (size_t k = 0; k < nf; k++)
			dup |= found[k] == c;
		if (c && !dup)
			found[nf++] = c;
	}
	if (nf == 0) {
		if (patron_customer_new(im->s, when, cid, err) < 0)
			return -1;
		*created = 1;
		im->st->customers_new++;
		im->last_created = when;
		sqlite3_stmt *st = patron_store_stmt(im->s, ST_EVENT_CUSTOMER_CREATED);
		sqlite3_bind_int64(st, 1, *cid);
		sqlite3_bind_text(st, 2, kinds[0], -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, vals[0], -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, im->source, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 5, when);
		sqlite3_bind_int64(st, 6, im->o->now);
		if (step_done(im, st, "appending an event", err) < 0)
			return -1;
	} else {
		int64_t into = found[0];
		for (size_t k = 1; k < nf; k++)
			into = found[k] < into ? found[k] : into;
		for (size_t k = 0; k < nf; k++) {
			if (found[k] == into)
				continue;
			if (patron_customer_merge(im->s, into, found[k], im->o->now, err) < 0)
				return -1;
			im->st->customers_merged++;
		}
		*cid = into;
		im->last_created = INT64_MAX;	/* not known */
	}
	for (size_t i = 0; i < n; i++)
		if (!owner[i] && patron_identity_add(im->s, *cid, kinds[i], vals[i], err) < 0)
			return -1;
	snprintf(im->last_kind, sizeof im->last_kind, "%s", kinds[0]);
	snprintf(im->last_value, sizeof im->last_value, "%s", vals[0]);
	im->last_cid = *cid;
	return 0;
}

static int step_done(importer *im, sqlite3_stmt *st, const char *what, patron_err *err)
{
	if (sqlite3_step(st) != SQLITE_DONE)
		return patron_store_fail(im->s, err, what);
	return 0;
}

static void bind_text_or_null(sqlite3_stmt *st, int i, const char *s)
{
	if (s && *s)
		sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, i);
}

static int put_consent(importer *im, int64_t cid, int granted, patron_err *err)
{
	sqlite3_stmt *st = patron_store_stmt(im->s, ST_CONSENT_PUT);
	sqlite3_bind_int64(st, 1, cid);
	sqlite3_bind_text(st, 2, "email", -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, granted);
	sqlite3_bind_text(st, 4, "import", -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, im->o->now);
	return step_done(im, st, "recording consent", err);
}

static int put_names(importer *im, int64_t cid, const char *first, const char *last,
		     patron_err *err)
{
	if (!*first && !*last)
		return 0;
	sqlite3_stmt *st = patron_store_stmt(im->s, ST_CUSTOMER_NAMES);
	sqlite3_bind_int64(st, 1, cid);
	bind_text_or_null(st, 2, first);
	bind_text_or_null(st, 3, last);
	sqlite3_bind_int64(st, 4, im->o->now);
	return step_done(im, st, "updating a customer", err);
}

static int put_created(importer *im, int64_t cid, int64_t when, patron_err *err)
{
	sqlite3_stmt *st = patron_store_stmt(im->s, ST_CUSTOMER_EARLIER);
	sqlite3_bind_int64(st, 1, cid);
	sqlite3_bind_int64(st, 2, when);
	return step_done(im, st, "updating a customer", err);
}

/* "Ada Lovelace" -> first "Ada", last "Lovelace". */
static void split_name(const char *name, char *first, char *last, size_t cap)
{
	const char *sp = strchr(name, ' ');
	if (!sp) {
		snprintf(first, cap, "%s", name);
		last[0] = '\0';
		return;
	}
	snprintf(first, cap, "%.*s", (int)(sp - name), name);
	while (*sp == ' ')
		sp++;
	snprintf(last, cap, "%s", sp);
}

static int parse_when(importer *im, field f, int64_t *out, patron_err *why)
{
	if (patron_parse_date(im->v[f], im->o->date_order, out) < 0)
		return bad(im, why, f, "a date");
	return 0;
}

/* ---- customers ---- */

static int row_attributes(importer *im, const patron_csv_record *rec, int64_t cid,
			  patron_err *err);

static int row_customer(importer *im, const patron_csv_record *rec, patron_err *why,
			patron_err *err)
{
	char vals[3][320];
	const char *kinds[3];
	size_t n;
	int64_t created_at = im->o->now;
	int consent = -1;
	if (row_identities(im, vals, kinds, &n, why))
		return 1;
	if (*im->v[F_CREATED_AT] && parse_when(im, F_CREATED_AT, &created_at, why))
		return 1;
	if (*im->v[F_CONSENT] && patron_parse_bool(im->v[F_CONSENT], &consent) < 0)
		return bad(im, why, F_CONSENT, "yes or no");

	int64_t cid;
	int created;
	if (resolve_customer(im, vals, kinds, n, created_at, &cid, &created, err) < 0)
		return -1;
	if (!created)
		im->st->customers_matched++;
	char first[256], last[256];
	snprintf(first, sizeof first, "%s", im->v[F_FIRST_NAME]);
	snprintf(last, sizeof last, "%s", im->v[F_LAST_NAME]);
	if (!*first && !*last && *im->v[F_NAME])
		split_name(im->v[F_NAME], first, last, sizeof first);
	if (put_names(im, cid, first, last, err) < 0 || put_created(im, cid, created_at, err) < 0)
		return -1;
	if (consent >= 0 && put_consent(im, cid, consent, err) < 0)
		return -1;
	if (*im->v[F_TAGS]) {
		char *tags = patron_xstrdup(im->v[F_TAGS]), *save = NULL;
		for (char *t = strtok_r(tags, ",;|", &save); t; t = strtok_r(NULL, ",;|", &save)) {
			while (isspace((unsigned char)*t))
				t++;
			size_t len = strlen(t);
			while (len && isspace((unsigned char)t[len - 1]))
				t[--len] = '\0';
			if (!len)
				continue;
			sqlite3_stmt *st = patron_store_stmt(im->s, ST_TAG_ADD);
			sqlite3_bind_int64(st, 1, cid);
			sqlite3_bind_text(st, 2, t, -1, SQLITE_STATIC);
			sqlite3_bind_int64(st, 3, im->o->now);
			if (step_done(im, st, "adding a tag", err) < 0) {
				free(tags);
				return -1;
			}
		}
		free(tags);
	}
	return row_attributes(im, rec, cid, err);
}

/* Attributes are written after the row passed, from the values the first
 * pass proved to fit their column's type. */
static int row_attributes(importer *im, const patron_csv_record *rec, int64_t cid,
			  patron_err *err)
{
	for (size_t a = 0; a < im->nattr; a++) {
		const char *v = rec->field[im->attr_col[a]];
		if (!*v)
			continue;
		sqlite3_stmt *st = patron_store_stmt(im->s, ST_ATTR_PUT);
		sqlite3_bind_int64(st, 1, cid);
		sqlite3_bind_text(st, 2, im->attr_name[a], -1, SQLITE_STATIC);
		int64_t i;
		double r;
		char day[24];
		switch (im->attr_type[a]) {
		case PATRON_TYPE_INTEGER:
			if (patron_parse_int(v, &i) == 0) {
				sqlite3_bind_int64(st, 3, i);
				break;
			}
			/* The column was widened by an earlier import. */
			__attribute__((fallthrough));
		case PATRON_TYPE_REAL:
			if (patron_parse_real(v, &r) == 0) {
				sqlite3_bind_double(st, 3, r);
				break;
			}
			sqlite3_bind_text(st, 3, v, -1, SQLITE_STATIC);
			break;
		case PATRON_TYPE_DATE:
			if (patron_parse_date(v, im->o->date_order, &i) == 0)
				sqlite3_bind_text(st, 3, patron_format_date(i, day), -1,
						  SQLITE_TRANSIENT);
			else
				sqlite3_bind_text(st, 3, v, -1, SQLITE_STATIC);
			break;
		case PATRON_TYPE_TEXT:
			sqlite3_bind_text(st, 3, v, -1, SQLITE_STATIC);
			break;
		}
		if (step_done(im, st, "writing an attribute", err) < 0)
			return -1;
	}
	return 0;
}

/* First pass over a customers file: every column no field claimed becomes
 * an attribute, typed by what all of its values are, joined with the type an
 * earlier import gave it. */
static int infer_attributes(importer *im, patron_err *err)
{
	size_t n = 0;
	im->attr_col = patron_xmalloc(im->ncols * sizeof *im->attr_col);
	im->attr_name = patron_xcalloc(im->ncols, sizeof *im->attr_name);
	im->attr_type = patron_xmalloc(im->ncols * sizeof *im->attr_type);
	for (size_t c = 0; c < im->ncols; c++) {
		if (column_taken(im, c) || !im->norm[c][0])
			continue;
		im->attr_col[n] = (int)c;
		im->attr_name[n] = patron_xstrdup(im->norm[c]);
		n++;
	}
	im->nattr = n;
	if (n == 0)
		return 0;

	patron_infer *inf = patron_xmalloc(n * sizeof *inf);
	for (size_t a = 0; a < n; a++)
		patron_infer_init(&inf[a]);
	patron_csv *r = patron_csv_open(im->path, err);
	if (!r) {
		free(inf);
		return -1;
	}
	patron_csv_record rec;
	int rc, first = 1;
	while ((rc = patron_csv_next(r, &rec, err)) > 0) {
		if (first) {	/* the header */
			first = 0;
			continue;
		}
		for (size_t a = 0; a < n; a++)
			if ((size_t)im->attr_col[a] < rec.n)
				patron_infer_add(&inf[a], rec.field[im->attr_col[a]],
						 im->o->date_order);
	}
	patron_csv_close(r);
	for (size_t a = 0; a < n && rc == 0; a++) {
		patron_type t = patron_infer_result(&inf[a]);
		sqlite3_stmt *st = patron_store_stmt(im->s, ST_ATTR_DEF_GET);
		sqlite3_bind_text(st, 1, im->attr_name[a], -1, SQLITE_STATIC);
		patron_type old;
		int known = sqlite3_step(st) == SQLITE_ROW &&
			    patron_type_parse((const char *)sqlite3_column_text(st, 0), &old) == 0;
		sqlite3_reset(st);
		if (known && inf[a].seen == 0)
			t = old;	/* an empty column says nothing new */
		else if (known)
			t = patron_type_join(old, t);
		im->attr_type[a] = t;
		if (known && t == old)
			continue;
		st = patron_store_stmt(im->s, ST_ATTR_DEF_PUT);
		sqlite3_bind_text(st, 1, im->attr_name[a], -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, patron_type_name(t), -1, SQLITE_STATIC);
		if (step_done(im, st, "typing an attribute", err) < 0) {
			rc = -1;
			break;
		}
		if (known && t == PATRON_TYPE_TEXT) {
			/* Widened to text: earlier numbers become their text. */
			sqlite3_stmt *w;
			sqlite3_prepare_v2(patron_store_db(im->s),
					   "UPDATE attributes SET value = CAST(value AS TEXT) "
					   "WHERE name = ?1", -1, &w, NULL);
			sqlite3_bind_text(w, 1, im->attr_name[a], -1, SQLITE_STATIC);
			int ok = sqlite3_step(w) == SQLITE_DONE;
			sqlite3_finalize(w);
			if (!ok) {
				rc = patron_store_fail(im->s, err, "retyping an attribute");
				break;
			}
		}
	}
	free(inf);
	return rc < 0 ? -1 : 0;
}

/* ---- products ---- */

static int row_product(importer *im, patron_err *why, patron_err *err)
{
	const char *sku = im->v[F_SKU];
	int64_t price = 0;
	if (!*sku) {
		patron_err_set(why, "column \"%s\": expected a SKU, got \"\"",
			       im->header[im->col[F_SKU]]);
		return 1;
	}
	if (*im->v[F_PRICE] && patron_parse_money(im->v[F_PRICE], &price) < 0)
		return bad(im, why, F_PRICE, "an amount of money like 12.34");

	sqlite3_stmt *st = patron_store_stmt(im->s, ST_PRODUCT_FIND);
	sqlite3_bind_text(st, 1, sku, -1, SQLITE_STATIC);
	bind_text_or_null(st, 2, im->v[F_NAME]);
	bind_text_or_null(st, 3, im->v[F_CATEGORY]);
	if (*im->v[F_PRICE])
		sqlite3_bind_int64(st, 4, price);
	int64_t id = 0;
	int same = 0;
	if (sqlite3_step(st) == SQLITE_ROW) {
		id = sqlite3_column_int64(st, 0);
		same = sqlite3_column_int(st, 1);
	}
	sqlite3_reset(st);
	if (id && same) {
		im->st->products_present++;
		return 0;
	}
	st = patron_store_stmt(im->s, id ? ST_PRODUCT_UPDATE : ST_PRODUCT_NEW);
	if (id)
		sqlite3_bind_int64(st, 1, id);
	else
		sqlite3_bind_text(st, 1, sku, -1, SQLITE_STATIC);
	bind_text_or_null(st, 2, im->v[F_NAME]);
	bind_text_or_null(st, 3, im->v[F_CATEGORY]);
	if (*im->v[F_PRICE])
		sqlite3_bind_int64(st, 4, price);
	if (!id)
		sqlite3_bind_int64(st, 5, im->o->now);
	if (step_done(im, st, "writing a product", err) < 0)
		return -1;
	if (id)
		im->st->products_updated++;
	else
		im->st->products_new++;
	return 0;
}

/* ---- orders ---- */

/* Payment states. Only the first group is money the customer spent. */
static const char *const revenue_status[] = {
	"paid", "partially_refunded", "succeeded", "complete", "completed", "fulfilled",
	"captured", NULL,
};
static const char *const other_status[] = {
	"pending", "authorized", "partially_paid", "refunded", "voided", "failed",
	"cancelled", "canceled", "expired", "declined", "unpaid", NULL,
};

/* 1 revenue, 0 not revenue, -1 unknown. NORM gets the normalized name. */
static int status_revenue(const char *s, char *norm, size_t cap)
{
	patron_normalize_header(s, norm, cap);
	for (int i = 0; revenue_status[i]; i++)
		if (strcmp(norm, revenue_status[i]) == 0)
			return 1;
	for (int i = 0; other_status[i]; i++)
		if (strcmp(norm, other_status[i]) == 0)
			return 0;
	return -1;
}

static size_t arena_add(patron_buf *b, const char *s)
{
	size_t at = b->len;
	patron_buf_add(b, s, strlen(s) + 1);
	return at;
}

/* The id of this source's order KEY, 0 when there is none, -1 on error. */
static int64_t find_order(importer *im, const char *key, patron_err *err)
{
	sqlite3_stmt *st = patron_store_stmt(im->s, ST_ORDER_FIND);
	sqlite3_bind_text(st, 1, im->source, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	int64_t id = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return patron_store_fail(im->s, err, "looking up an order");
	return id;
}

static int product_id(importer *im, const char *sku, const char *name, int64_t unit,
		      int64_t *id, patron_err *err)
{
	if (patron_strmap_get(&im->products, sku, id))
		return 0;
	sqlite3_stmt *st = patron_store_stmt(im->s, ST_PRODUCT_FIND);
	sqlite3_bind_text(st, 1, sku, -1, SQLITE_STATIC);
	*id = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_reset(st);
	if (!*id) {
		st = patron_store_stmt(im->s, ST_PRODUCT_NEW);
		sqlite3_bind_text(st, 1, sku, -1, SQLITE_STATIC);
		bind_text_or_null(st, 2, name);
		sqlite3_bind_int64(st, 4, unit);
		sqlite3_bind_int64(st, 5, im->o->now);
		if (step_done(im, st, "adding a product", err) < 0)
			return -1;
		*id = sqlite3_last_insert_rowid(patron_store_db(im->s));
		im->st->products_new++;
	}
	patron_strmap_put(&im->products, sku, *id);
	return 0;
}

/* Writes the gathered order: its customer, the order row, its lines and
 * order.created. */
static int flush_order(importer *im, patron_err *err)
{
	pending_order *o = &im->ord;
	if (!o->active)
		return 0;
	o->active = 0;
	if (o->skip) {
		im->st->orders_present++;
		return 0;
	}
	char vals[3][320];
	const char *kinds[3];
	for (size_t i = 0; i < o->nids; i++) {
		snprintf(vals[i], sizeof vals[i], "%s", o->text.data + o->ids[i]);
		kinds[i] = o->id_kind[i];
	}
	int64_t cid;
	int created;
	if (resolve_customer(im, vals, kinds, o->nids, o->placed_at, &cid, &created, err) < 0)
		return -1;
	if (o->placed_at < im->last_created) {
		/* The customer may have appeared later than this order. */
		if (put_created(im, cid, o->placed_at, err) < 0)
			return -1;
		im->last_created = o->placed_at;
	}
	if (put_names(im, cid, o->text.data + o->first_name, o->text.data + o->last_name, err) < 0)
		return -1;
	if (o->has_consent && put_consent(im, cid, (int)o->consent, err) < 0)
		return -1;

	int64_t sum = 0, first_line = 1, oid = o->append_to;
	for (size_t i = 0; i < o->nlines; i++)
		sum += o->lines[i].amount;
	if (!oid) {
		sqlite3_stmt *st = patron_store_stmt(im->s, ST_ORDER_NEW);
		sqlite3_bind_text(st, 1, im->source, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, o->text.data + o->key, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, cid);
		sqlite3_bind_int64(st, 4, o->placed_at);
		sqlite3_bind_int64(st, 5, o->has_total ? o->total : sum);
		bind_text_or_null(st, 6, o->text.data + o->currency);
		sqlite3_bind_text(st, 7, o->text.data + o->status, -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 8, o->revenue);
		if (step_done(im, st, "adding an order", err) < 0)
			return -1;
		if (sqlite3_changes(patron_store_db(im->s)) == 1) {
			oid = sqlite3_last_insert_rowid(patron_store_db(im->s));
			im->st->orders_new++;
		} else {
			/* This import wrote it on rows further up: begin_order
			 * skips the lookup when the store had no such orders. */
			if ((o->append_to = find_order(im, o->text.data + o->key, err)) < 0)
				return -1;
			if (!o->append_to)
				return patron_store_fail(im->s, err, "adding an order");
			oid = o->append_to;
		}
	}
	if (o->append_to) {
		sqlite3_stmt *st = patron_store_stmt(im->s, ST_ORDER_LAST_LINE);
		sqlite3_bind_int64(st, 1, oid);
		first_line = (sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0) + 1;
		sqlite3_reset(st);
		st = patron_store_stmt(im->s, ST_ORDER_ADD_TOTAL);
		sqlite3_bind_int64(st, 1, oid);
		sqlite3_bind_int64(st, 2, o->has_total ? 0 : sum);
		if (step_done(im, st, "updating an order", err) < 0)
			return -1;
	}
	for (size_t i = 0; i < o->nlines; i++) {
		order_line *l = &o->lines[i];
		int64_t pid;
		if (product_id(im, o->text.data + l->sku, o->text.data + l->name, l->unit, &pid,
			       err) < 0)
			return -1;
		sqlite3_stmt *st = patron_store_stmt(im->s, ST_LINE_NEW);
		sqlite3_bind_int64(st, 1, oid);
		sqlite3_bind_int64(st, 2, first_line + (int64_t)i);
		sqlite3_bind_int64(st, 3, pid);
		sqlite3_bind_int64(st, 4, l->qty);
		sqlite3_bind_int64(st, 5, l->unit);
		sqlite3_bind_int64(st, 6, l->amount);
		if (step_done(im, st, "adding an order line", err) < 0)
			return -1;
		im->st->lines++;
	}
	if (o->append_to)
		return 0;
	sqlite3_stmt *st = patron_store_stmt(im->s, ST_EVENT_ORDER_CREATED);
	sqlite3_bind_int64(st, 1, cid);
	sqlite3_bind_int64(st, 2, oid);
	sqlite3_bind_text(st, 3, o->text.data + o->key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, o->has_total ? o->total : sum);
	sqlite3_bind_int64(st, 5, o->placed_at);
	sqlite3_bind_int64(st, 6, im->o->now);
	return step_done(im, st, "appending an event", err);
}

/* An order's own columns, read from its first row before anything is
 * written, so a rejected row leaves nothing behind. */
typedef struct {
	char vals[3][320], status[64], first[256], last[256], currency[16];
	const char *kinds[3];
	size_t nids;
	int64_t placed_at, total;
	int has_total, consent, revenue;
} order_head;

static int parse_order_head(importer *im, order_head *h, patron_err *why)
{
	int64_t refunded = 0;
	h->total = 0;
	h->consent = -1;
	h->revenue = 1;
	if (row_identities(im, h->vals, h->kinds, &h->nids, why) ||
	    parse_when(im, F_CREATED_AT, &h->placed_at, why))
		return 1;
	h->has_total = *im->v[F_TOTAL] != '\0';
	if (h->has_total && patron_parse_money(im->v[F_TOTAL], &h->total) < 0)
		return bad(im, why, F_TOTAL, "an amount of money like 12.34");
	if (*im->v[F_REFUNDED] && patron_parse_money(im->v[F_REFUNDED], &refunded) < 0)
		return bad(im, why, F_REFUNDED, "an amount of money like 12.34");
	if (*im->v[F_CONSENT] && patron_parse_bool(im->v[F_CONSENT], &h->consent) < 0)
		return bad(im, why, F_CONSENT, "yes or no");
	if (*im->v[F_STATUS]) {
		h->revenue = status_revenue(im->v[F_STATUS], h->status, sizeof h->status);
		if (h->revenue < 0)
			return bad(im, why, F_STATUS, "a payment status (paid, pending, refunded, "
				   "failed, voided, cancelled, ...)");
	} else if (im->o->format == PATRON_FORMAT_STRIPE) {
		return bad(im, why, F_STATUS, "a payment status (paid, refunded, failed, ...)");
	} else {
		strcpy(h->status, "paid");
	}
	if (refunded > 0) {
		/* Money given back is not revenue; a partial refund keeps the rest. */
		h->total -= refunded;
		if (h->total <= 0) {
			strcpy(h->status, "refunded");
			h->revenue = 0;
		} else if (h->revenue) {
			strcpy(h->status, "partially_refunded");
		}
	}
	h->first[0] = h->last[0] = '\0';
	if (*im->v[F_NAME])
		split_name(im->v[F_NAME], h->first, h->last, sizeof h->first);
	snprintf(h->currency, sizeof h->currency, "%s", im->v[F_CURRENCY]);
	for (char *c = h->currency; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	return 0;
}

/* Makes H the pending order: skipped when the store had it before this
 * import, appended to when this file created it on rows further up. */
static int begin_order(importer *im, const char *key, const order_head *h, patron_err *err)
{
	pending_order *o = &im->ord;
	/* When the store had no orders of this source, any order it has now
	 * came from this file, and flush_order learns that from the insert. */
	int64_t existing = im->source_was_empty ? 0 : find_order(im, key, err);
	if (existing < 0)
		return -1;

	patron_buf_clear(&o->text);
	o->active = 1;
	o->skip = existing && existing <= im->max_order_before;
	o->append_to = existing && !o->skip ? existing : 0;
	o->key = arena_add(&o->text, key);
	o->nids = h->nids;
	for (size_t i = 0; i < h->nids; i++) {
		o->ids[i] = arena_add(&o->text, h->vals[i]);
		o->id_kind[i] = h->kinds[i];
	}
	o->first_name = arena_add(&o->text, h->first);
	o->last_name = arena_add(&o->text, h->last);
	o->status = arena_add(&o->text, h->status);
	o->currency = arena_add(&o->text, h->currency);
	o->placed_at = h->placed_at;
	o->has_total = h->has_total;
	o->total = h->total;
	o->has_consent = h->consent >= 0;
	o->consent = h->consent;
	o->revenue = h->revenue;
	o->nlines = 0;
	return 0;
}

static int row_order(importer *im, patron_err *why, patron_err *err)
{
	pending_order *o = &im->ord;
	const char *key = im->v[F_ORDER_ID];
	if (!*key) {
		patron_err_set(why, "column \"%s\": expected an order id, got \"\"",
			       im->header[im->col[F_ORDER_ID]]);
		return 1;
	}
	int64_t qty = 1, unit = 0, amount = 0;
	int has_line = *im->v[F_SKU] || *im->v[F_PRODUCT];
	if (has_line) {
		if (*im->v[F_QUANTITY] &&
		    (patron_parse_int(im->v[F_QUANTITY], &qty) < 0 || qty < 0 || qty > 1000000))
			return bad(im, why, F_QUANTITY, "a whole number of items");
		if (*im->v[F_PRICE] && patron_parse_money(im->v[F_PRICE], &unit) < 0)
			return bad(im, why, F_PRICE, "an amount of money like 12.34");
		if (*im->v[F_AMOUNT] && patron_parse_money(im->v[F_AMOUNT], &amount) < 0)
			return bad(im, why, F_AMOUNT, "an amount of money like 12.34");
		if (!*im->v[F_PRICE] && !*im->v[F_AMOUNT]) {
			field f = im->col[F_PRICE] >= 0 ? F_PRICE : F_AMOUNT;
			if (im->col[f] < 0) {
				patron_err_set(why, "no price: expected a price or amount column");
				return 1;
			}
			return bad(im, why, f, "an amount of money like 12.34");
		}
		if (!*im->v[F_AMOUNT])
			amount = unit * qty;
		else if (!*im->v[F_PRICE])
			unit = qty ? amount / qty : amount;
	}
	if (!o->active || strcmp(o->text.data + o->key, key) != 0) {
		order_head h;
		int rc = parse_order_head(im, &h, why);
		if (rc)
			return rc;
		if (flush_order(im, err) < 0 || begin_order(im, key, &h, err) < 0)
			return -1;
	}
	if (!has_line)
		return 0;
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

/* ---- feedback ---- */

static int row_feedback(importer *im, patron_err *why, patron_err *err)
{
	char vals[3][320];
	const char *kinds[3];
	size_t n;
	int64_t when, rating = 0;
	if (row_identities(im, vals, kinds, &n, why) || parse_when(im, F_CREATED_AT, &when, why))
		return 1;
	if (*im->v[F_RATING] &&
	    (patron_parse_int(im->v[F_RATING], &rating) < 0 || rating < 1 || rating > 5))
		return bad(im, why, F_RATING, "a rating from 1 to 5");
	if (!*im->v[F_TEXT])
		return bad(im, why, F_TEXT, "the feedback's text");
	int64_t cid;
	int created;
	if (resolve_customer(im, vals, kinds, n, when, &cid, &created, err) < 0)
		return -1;
	sqlite3_stmt *st = patron_store_stmt(im->s, ST_FEEDBACK_FIND);
	sqlite3_bind_int64(st, 1, cid);
	sqlite3_bind_int64(st, 2, when);
	sqlite3_bind_text(st, 3, im->v[F_TEXT], -1, SQLITE_STATIC);
	int present = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_reset(st);
	if (present) {
		im->st->feedback_present++;
		return 0;
	}
	st = patron_store_stmt(im->s, ST_FEEDBACK_NEW);
	sqlite3_bind_int64(st, 1, cid);
	sqlite3_bind_int64(st, 2, when);
	if (rating)
		sqlite3_bind_int64(st, 3, rating);
	sqlite3_bind_text(st, 4, im->v[F_TEXT], -1, SQLITE_STATIC);
	if (step_done(im, st, "adding feedback", err) < 0)
		return -1;
	im->st->feedback_new++;
	st = patron_store_stmt(im->s, ST_EVENT_FEEDBACK_RECEIVED);
	sqlite3_bind_int64(st, 1, cid);
	sqlite3_bind_int64(st, 2, sqlite3_last_insert_rowid(patron_store_db(im->s)));
	if (rating)
		sqlite3_bind_int64(st, 3, rating);
	sqlite3_bind_int64(st, 4, when);
	sqlite3_bind_int64(st, 5, im->o->now);
	return step_done(im, st, "appending an event", err);
}

/* ---- the file ---- */

static void progress(importer *im, patron_csv *r, double start, int done)
{
	double t = patron_clock() - start;
	if (!im->o->progress || t < 1.0)
		return;
	if (done) {
		fputs("\r\033[K", stderr);
		return;
	}
	uint64_t size = patron_csv_size(r), off = patron_csv_offset(r);
	int pct = size ? (int)(100.0 * (double)off / (double)size) : 0;
	char bar[31];
	int fill = pct * 30 / 100;
	for (int i = 0; i < 30; i++)
		bar[i] = i < fill ? '#' : '.';
	bar[30] = '\0';
	fprintf(stderr, "\r%s [%s] %3d%% %llu rows, %.0f rows/s", im->path, bar, pct,
		(unsigned long long)im->st->rows, (double)im->st->rows / t);
	fflush(stderr);
}

static int write_rejected(FILE *f, const patron_csv_record *rec, const char *why)
{
	fprintf(f, "%ld,", rec->line);
	patron_csv_write_field(f, why, strlen(why));
	for (size_t i = 0; i < rec->n; i++) {
		fputc(',', f);
		patron_csv_write_field(f, rec->field[i], rec->len[i]);
	}
	fputc('\n', f);
	return ferror(f) ? -1 : 0;
}

static void importer_free(importer *im)
{
	for (size_t c = 0; c < im->ncols; c++) {
		free(im->header[c]);
		free(im->norm[c]);
	}
	free(im->header);
	free(im->norm);
	for (size_t a = 0; a < im->nattr; a++)
		free(im->attr_name[a]);
	free(im->attr_name);
	free(im->attr_col);
	free(im->attr_type);
	patron_strmap_free(&im->products);
	patron_buf_free(&im->ord.text);
	free(im->ord.lines);
}

static int import_rows(importer *im, patron_csv *r, FILE *rejected, patron_err *err)
{
	static const char *const empty = "";
	patron_csv_record rec;
	patron_err why;
	double start = patron_clock();
	int rc;
	while ((rc = patron_csv_next(r, &rec, err)) > 0) {
		im->st->rows++;
		if ((im->st->rows & 8191) == 0)
			progress(im, r, start, 0);
		int res;
		if (rec.n != im->ncols) {
			patron_err_set(&why, "expected %zu fields as in the header, got %zu",
				       im->ncols, rec.n);
			res = 1;
		} else {
			for (int f = 0; f < NFIELDS; f++)
				im->v[f] = im->col[f] >= 0 ? rec.field[im->col[f]] : empty;
			switch (im->o->kind) {
			case PATRON_IMPORT_CUSTOMERS:
				res = row_customer(im, &rec, &why, err);
				break;
			case PATRON_IMPORT_PRODUCTS: res = row_product(im, &why, err); break;
			case PATRON_IMPORT_ORDERS: res = row_order(im, &why, err); break;
			default: res = row_feedback(im, &why, err); break;
			}
		}
		if (res < 0)
			return -1;
		if (res > 0) {
			if (!rejected)
				return patron_err_set(err, "%s:%ld: %s", im->path, rec.line, why.msg);
			im->st->rejected++;
			if (write_rejected(rejected, &rec, why.msg) < 0)
				return patron_err_set(err, "%s: cannot write: %s",
						      im->st->rejected_path, strerror(errno));
		}
	}
	progress(im, r, start, 1);
	if (rc < 0)
		return -1;
	return im->o->kind == PATRON_IMPORT_ORDERS ? flush_order(im, err) : 0;
}

/* Files from this size on are imported under a rollback journal. */
#define BULK_BYTES (32u << 20)

int patron_import_file(patron_store *s, const char *path, const patron_import_opts *opts,
		       patron_import_stats *stats, patron_err *err)
{
	int bulk = 0;
	importer im = {.s = s, .o = opts, .st = stats, .path = path};
	memset(stats, 0, sizeof *stats);
	patron_csv *r = patron_csv_open(path, err);
	if (!r)
		return -1;
	patron_csv_record rec;
	int rc = patron_csv_next(r, &rec, err);
	if (rc <= 0) {
		patron_csv_close(r);
		return rc < 0 ? -1 : patron_err_set(err, "%s: the file is empty (expected a header "
						    "line naming the columns)", path);
	}
	im.ncols = rec.n;
	im.header = patron_xmalloc(rec.n * sizeof *im.header);
	im.norm = patron_xmalloc(rec.n * sizeof *im.norm);
	for (size_t c = 0; c < rec.n; c++) {
		char norm[128];
		patron_normalize_header(rec.field[c], norm, sizeof norm);
		im.header[c] = patron_xstrdup(rec.field[c]);
		im.norm[c] = patron_xstrdup(norm);
	}

	patron_import_format format = opts->format;
	if (opts->kind != PATRON_IMPORT_ORDERS)
		format = PATRON_FORMAT_PATRON;
	else if (format == PATRON_FORMAT_AUTO)
		format = detect_format(&im);
	stats->format = format;
	patron_import_opts o = *opts;
	o.format = format;
	im.o = &o;
	im.source = format_names[format];

	FILE *rejected = NULL;
	char tmp[4200];
	snprintf(stats->rejected_path, sizeof stats->rejected_path, "%s.rejected.csv", path);
	snprintf(tmp, sizeof tmp, "%s.tmp", stats->rejected_path);

	rc = -1;
	if (map_columns(&im, specs_for(opts->kind, format), err) < 0)
		goto out;
	/* Worth it from tens of megabytes; small files keep the WAL, which lets
	 * readers go on during the import. */
	bulk = patron_csv_size(r) >= BULK_BYTES && patron_store_bulk(s, 1);
	if (patron_store_begin(s, err) < 0)
		goto out;
	if (opts->kind == PATRON_IMPORT_CUSTOMERS && infer_attributes(&im, err) < 0)
		goto fail;
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(patron_store_db(s), "SELECT coalesce(max(id), 0), NOT EXISTS"
			       " (SELECT 1 FROM orders WHERE source = ?1) FROM orders", -1, &st,
			       NULL) != SQLITE_OK) {
		patron_store_fail(s, err, "reading orders");
		goto fail;
	}
	sqlite3_bind_text(st, 1, im.source, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		im.max_order_before = sqlite3_column_int64(st, 0);
		im.source_was_empty = sqlite3_column_int(st, 1);
	}
	sqlite3_finalize(st);
	if (opts->skip_bad) {
		rejected = fopen(tmp, "w");
		if (!rejected) {
			patron_err_set(err, "%s: cannot write: %s", tmp, strerror(errno));
			goto fail;
		}
		fputs("line,reason", rejected);
		for (size_t c = 0; c < im.ncols; c++) {
			fputc(',', rejected);
			patron_csv_write_field(rejected, im.header[c], strlen(im.header[c]));
		}
		fputc('\n', rejected);
	}
	if (import_rows(&im, r, rejected, err) < 0)
		goto fail;
	st = patron_store_stmt(s, ST_IMPORT_LOG);
	sqlite3_bind_text(st, 1, opts->kind == PATRON_IMPORT_CUSTOMERS ? "customers"
				 : opts->kind == PATRON_IMPORT_PRODUCTS ? "products"
				 : opts->kind == PATRON_IMPORT_ORDERS ? "orders" : "feedback",
			  -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, path, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, (int64_t)stats->rows);
	sqlite3_bind_int64(st, 4, (int64_t)stats->rejected);
	sqlite3_bind_int64(st, 5, opts->now);
	if (step_done(&im, st, "logging the import", err) < 0)
		goto fail;
	if (rejected) {
		int bad_write = fclose(rejected) != 0;
		rejected = NULL;
		if (bad_write) {
			patron_err_set(err, "%s: cannot write: %s", tmp, strerror(errno));
			goto fail;
		}
		/* The rejected rows are in place before the good ones commit, so a
		 * crash between the two cannot lose them. */
		if (stats->rejected && rename(tmp, stats->rejected_path) != 0) {
			patron_err_set(err, "%s: cannot write: %s", stats->rejected_path,
				       strerror(errno));
			goto fail;
		}
		if (!stats->rejected)
			unlink(tmp);
	}
	if (patron_store_commit(s, err) < 0)
		goto fail;
	if (!stats->rejected)
		stats->rejected_path[0] = '\0';
	rc = 0;
	goto out;
fail:
	patron_store_rollback(s);
	if (rejected)
		fclose(rejected);
	unlink(tmp);
	stats->rejected_path[0] = '\0';
out:
	if (bulk)
		patron_store_bulk(s, 0);
	patron_csv_close(r);
	importer_free(&im);
	return rc;
}
