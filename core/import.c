#include "import_impl.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A file's columns are matched to fields (formats.h) by header name
 * (normalized: lower case, runs of other characters as one '_'), through
 * the aliases of the file's format, or through --map. */

const char *patron_import_fields(patron_import_kind kind)
{
	switch (kind) {
	case PATRON_IMPORT_CUSTOMERS:
		return "customer_id email phone first_name last_name name created_at consent "
		       "sms_consent tags";
	case PATRON_IMPORT_PRODUCTS: return "sku name category price";
	case PATRON_IMPORT_ORDERS:
		return "order_id customer_id email phone name created_at sku product quantity "
		       "price amount total refunded currency status cancelled_at consent "
		       "sms_consent tags country region city postcode company source "
		       "converted_total converted_refunded converted_currency disputed "
		       "dispute_status";
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

const char *patron_import_format_names(void)
{
	static char names[256];
	if (!names[0]) {
		size_t n = 0;
		n += (size_t)snprintf(names, sizeof names, "auto");
		for (int i = 0; patron_formats[i]; i++)
			if (patron_formats[i]->kind == PATRON_IMPORT_ORDERS && n < sizeof names)
				n += (size_t)snprintf(names + n, sizeof names - n, ", %s",
						      patron_formats[i]->name);
	}
	return names;
}

void patron_normalize_header(const char *in, char *out, size_t cap)
{
	size_t n = 0;
	int gap = 0;
	for (const char *start = in; *in && n + 2 < cap; in++) {
		unsigned char c = (unsigned char)*in;
		/* camelCase joins words too: "InvoiceNo", "CustomerID" */
		if (isupper(c) && in > start && islower((unsigned char)in[-1]))
			gap = 1;
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
	for (int f = 0; f < F_N; f++)
		if (im->col[f] == (int)c)
			return 1;
	return 0;
}

static int field_parse(const char *name, patron_field *out)
{
	for (int f = 0; f < F_N; f++)
		if (strcmp(patron_field_names[f], name) == 0)
			return *out = (patron_field)f, 0;
	return -1;
}

static int spec_has(const patron_field_spec *spec, patron_field f)
{
	for (; spec->aliases; spec++)
		if (spec->f == f)
			return 1;
	return 0;
}


/* "FILE:1: WHAT", and when the file was read as a plain file but comes
 * close to an export format, which one and the columns it lacks. */
static int header_error(importer *im, patron_err *err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int header_error(importer *im, patron_err *err, const char *fmt, ...)
{
	char what[600], hint[400] = "";
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	if (!im->fmt->signature) {
		int best = 0;
		for (int i = 0; patron_formats[i]; i++) {
			const patron_format *f = patron_formats[i];
			char missing[300];
			int total;
			if (f->kind != (int)im->o->kind || !f->signature)
				continue;
			int have = patron_format_match(f, im->norm, im->ncols, &total, missing,
						       sizeof missing);
			if (have > best && 2 * have >= total) {
				best = have;
				snprintf(hint, sizeof hint, "; it looks like %s, which also has %s "
					 "(--format %s reads it as one)", f->title, missing, f->name);
			}
		}
	}
	return patron_err_set(err, "%s:1: %s%s", im->path, what, hint);
}

/* Matches header columns to fields: --map first, then each field's aliases
 * in order of preference. */
static int map_columns(importer *im, const patron_field_spec *spec, patron_err *err)
{
	for (int f = 0; f < F_N; f++)
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
			patron_field f;
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
	for (const patron_field_spec *sp = spec; sp->aliases; sp++) {
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
			return header_error(im, err, "no column for \"%s\" (looked for: %s); name "
					    "it with --map %s=HEADER", patron_field_names[sp->f],
					    sp->aliases, patron_field_names[sp->f]);
	}
	/* Each field's next alias in the file, for rows where the first is
	 * empty: the first alias with a value wins. */
	for (const patron_field_spec *sp = spec; sp->aliases; sp++) {
		int chosen = im->col[sp->f], past = 0;
		for (const char *p = sp->aliases; *p && chosen >= 0;) {
			const char *e = strchr(p, ' ');
			size_t len = e ? (size_t)(e - p) : strlen(p);
			char alias[64];
			snprintf(alias, sizeof alias, "%.*s", (int)len, p);
			int c = column_named(im, alias);
			if (c == chosen) {
				past = 1;
			} else if (past && c >= 0 && !column_taken(im, (size_t)c)) {
				im->alt_field[im->nalt] = sp->f;
				im->alt_col[im->nalt++] = c;
				break;
			}
			p += len + (e != NULL);
		}
	}
	/* A recognised export may leave every order a guest's; a plain file
	 * that names no one is more likely a mistake. */
	if (im->o->kind != PATRON_IMPORT_PRODUCTS && im->col[F_CUSTOMER_ID] < 0 &&
	    im->col[F_EMAIL] < 0 && im->col[F_PHONE] < 0 &&
	    (im->o->kind != PATRON_IMPORT_ORDERS || !im->fmt->signature))
		return header_error(im, err, "no column names the customer (looked for an "
				    "email, phone or customer id column); name one with "
				    "--map email=HEADER");
	if (im->o->kind == PATRON_IMPORT_ORDERS && im->col[F_PRICE] < 0 &&
	    im->col[F_AMOUNT] < 0 && im->col[F_TOTAL] < 0)
		return header_error(im, err, "no column gives the money (looked for: price, "
				    "amount, total, revenue, value, sales); an orders file without "
				    "one would import as zero revenue: name it with "
				    "--map total=HEADER or --map price=HEADER");
	return 0;
}


/* "column "Created at": " — how a bad value's column is named in messages. */
int import_bad(importer *im, patron_err *why, patron_field f, const char *expected)
{
	char got[200];
	patron_escape(im->v[f], got, sizeof got);
	return patron_err_set(why, "column \"%s\": expected %s, got \"%s\"",
			      im->header[im->col[f]], expected, got) , 1;
}

/* Parses the row's identities into KINDS/VALUES (normalized, at most 3;
 * none for a guest's order). 0 ok, 1 bad row. */
int import_identities(importer *im, char (*vals)[320], const char **kinds, size_t *n,
			  patron_err *why)
{
	*n = 0;
	if (*im->v[F_EMAIL]) {
		if (patron_normalize_email(im->v[F_EMAIL], vals[*n], 320) < 0)
			return import_bad(im, why, F_EMAIL, "an email address");
		kinds[(*n)++] = "email";
	}
	if (*im->v[F_PHONE]) {
		const char *ph = im->v[F_PHONE];
		if (ph[0] == '\'' && (im->fmt->flags & PATRON_FORMAT_APOSTROPHE_NUMBERS))
			ph++;	/* '+1 555 0100 */
		if (patron_normalize_phone(ph, vals[*n], 320) == 0)
			kinds[(*n)++] = "phone";
		else if (!(im->o->kind == PATRON_IMPORT_ORDERS && im->fmt->signature))
			return import_bad(im, why, F_PHONE, "a phone number");
		else
			/* A shop's checkout takes any text as a phone; in its export
			 * such a value names no one, and the order is kept. */
			im->st->phones_unread++;
	}
	const char *id = im->v[F_CUSTOMER_ID];
	if (*id && !((im->fmt->flags & PATRON_FORMAT_ZERO_ID_IS_GUEST) && strcmp(id, "0") == 0)) {
		snprintf(vals[*n], 320, "%s", id);
		kinds[(*n)++] = im->fmt->id_kind ? im->fmt->id_kind : "id";
	}
	/* Orders may be a guest's; the other kinds are about a customer. */
	if (*n == 0 && im->o->kind != PATRON_IMPORT_ORDERS) {
		patron_err_set(why, "no customer: expected an email, phone or customer id");
		return 1;
	}
	return 0;
}

/* Finds the customer the identities name, creating one when none does and
 * merging when they name several (the lowest id survives). */
int import_resolve(importer *im, char vals[][320], const char *kinds[], size_t n,
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
		int64_t c = owner[i] = im->batch.parallel ? batch_identity_find(im, kinds[i], vals[i])
				       : patron_customer_find(im->s, kinds[i], vals[i]);
		int dup = 0;
		for (size_t k = 0; k < nf; k++)
			dup |= found[k] == c;
		if (c && !dup)
			found[nf++] = c;
	}
	if (nf == 0) {
		if (im->batch.parallel)
			*cid = batch_customer_add(im, when);
		else if (patron_customer_new(im->s, when, cid, err) < 0)
			return -1;
		*created = 1;
		im->st->customers_new++;
		im->last_created = when;
		if (im->batch.on) {
			/* held with the orders, so the log keeps its order */
			batch_customer_created(im, *cid, kinds[0], vals[0], when);
		} else {
			sqlite3_stmt *st = patron_store_stmt(im->s, ST_EVENT_CUSTOMER_CREATED);
			sqlite3_bind_int64(st, 1, *cid);
			sqlite3_bind_text(st, 2, kinds[0], -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 3, vals[0], -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 4, im->fmt->name, -1, SQLITE_STATIC);
			sqlite3_bind_int64(st, 5, when);
			sqlite3_bind_int64(st, 6, im->o->now);
			if (import_step(im, st, "appending an event", err) < 0)
				return -1;
		}
	} else {
		int64_t into = found[0];
		for (size_t k = 1; k < nf; k++)
			into = found[k] < into ? found[k] : into;
		for (size_t k = 0; k < nf; k++) {
			if (found[k] == into)
				continue;
			/* a merge moves orders and events, some perhaps held */
			if (batch_flush(im, err) < 0 ||
			    patron_customer_merge(im->s, into, found[k], im->o->now, err) < 0)
				return -1;
			if (im->batch.parallel)
				batch_merged(im, into, found[k]);
			orders_sums_forget(im);	/* the merged customer's orders moved */
			im->st->customers_merged++;
		}
		*cid = into;
		im->last_created = INT64_MAX;	/* not known */
	}
	for (size_t i = 0; i < n; i++) {
		if (owner[i])
			continue;
		if (im->batch.parallel)
			batch_identity_add(im, *cid, kinds[i], vals[i]);
		else if (patron_identity_add(im->s, *cid, kinds[i], vals[i], err) < 0)
			return -1;
	}
	snprintf(im->last_kind, sizeof im->last_kind, "%s", kinds[0]);
	snprintf(im->last_value, sizeof im->last_value, "%s", vals[0]);
	im->last_cid = *cid;
	return 0;
}

int import_step(importer *im, sqlite3_stmt *st, const char *what, patron_err *err)
{
	if (sqlite3_step(st) != SQLITE_DONE)
		return patron_store_fail(im->s, err, what);
	return 0;
}

void import_bind_text(sqlite3_stmt *st, int i, const char *s)
{
	if (s && *s)
		sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, i);
}

int import_put_consent(importer *im, int64_t cid, const char *channel, int granted,
		       patron_err *err)
{
	if (im->batch.parallel) {
		batch_op_add(im, ST_CONSENT_PUT, "recording consent", "isiti", cid, channel,
			     (int64_t)granted, "import", im->o->now);
		return 0;
	}
	sqlite3_stmt *st = patron_store_stmt(im->s, ST_CONSENT_PUT);
	sqlite3_bind_int64(st, 1, cid);
	sqlite3_bind_text(st, 2, channel, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, granted);
	sqlite3_bind_text(st, 4, "import", -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, im->o->now);
	return import_step(im, st, "recording consent", err);
}

/* LIST: tags separated by commas, semicolons or bars. */
int import_put_tags(importer *im, int64_t cid, const char *list, patron_err *err)
{
	char *tags = patron_xstrdup(list), *save = NULL;
	int rc = 0;
	for (char *t = strtok_r(tags, ",;|", &save); t && rc == 0; t = strtok_r(NULL, ",;|", &save)) {
		while (isspace((unsigned char)*t))
			t++;
		size_t len = strlen(t);
		while (len && isspace((unsigned char)t[len - 1]))
			t[--len] = '\0';
		if (!len)
			continue;
		if (im->batch.parallel) {
			batch_op_add(im, ST_TAG_ADD, "adding a tag", "isi", cid, t, im->o->now);
			continue;
		}
		sqlite3_stmt *st = patron_store_stmt(im->s, ST_TAG_ADD);
		sqlite3_bind_int64(st, 1, cid);
		sqlite3_bind_text(st, 2, t, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, im->o->now);
		rc = import_step(im, st, "adding a tag", err);
	}
	free(tags);
	return rc;
}

int import_put_names(importer *im, int64_t cid, const char *first, const char *last,
		     patron_err *err)
{
	if (!*first && !*last)
		return 0;
	if (im->batch.parallel) {
		batch_op_add(im, ST_CUSTOMER_NAMES, "updating a customer", "itti", cid, first, last,
			     im->o->now);
		return 0;
	}
	sqlite3_stmt *st = patron_store_stmt(im->s, ST_CUSTOMER_NAMES);
	sqlite3_bind_int64(st, 1, cid);
	import_bind_text(st, 2, first);
	import_bind_text(st, 3, last);
	sqlite3_bind_int64(st, 4, im->o->now);
	return import_step(im, st, "updating a customer", err);
}

int import_put_created(importer *im, int64_t cid, int64_t when, patron_err *err)
{
	if (im->batch.parallel) {
		batch_op_add(im, ST_CUSTOMER_EARLIER, "updating a customer", "ii", cid, when);
		return 0;
	}
	sqlite3_stmt *st = patron_store_stmt(im->s, ST_CUSTOMER_EARLIER);
	sqlite3_bind_int64(st, 1, cid);
	sqlite3_bind_int64(st, 2, when);
	return import_step(im, st, "updating a customer", err);
}

/* "Ada Lovelace" -> first "Ada", last "Lovelace". */
void import_split_name(const char *name, char *first, char *last, size_t cap)
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

int import_when(importer *im, patron_field f, int64_t *out, patron_err *why)
{
	if (patron_parse_date(im->v[f], im->o->date_order, out) < 0)
		return import_bad(im, why, f, "a date");
	return 0;
}

/* V without the apostrophe some exports put before numbers ('02134). */
static const char *unquote(const importer *im, const char *v)
{
	if ((im->fmt->flags & PATRON_FORMAT_APOSTROPHE_NUMBERS) && v[0] == '\'' &&
	    isdigit((unsigned char)v[1]))
		return v + 1;
	return v;
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
	int consent = -1, sms = -1;
	if (import_identities(im, vals, kinds, &n, why))
		return 1;
	if (*im->v[F_CREATED_AT] && import_when(im, F_CREATED_AT, &created_at, why))
		return 1;
	if (*im->v[F_CONSENT] && patron_parse_bool(im->v[F_CONSENT], &consent) < 0)
		return import_bad(im, why, F_CONSENT, "yes or no");
	if (*im->v[F_SMS_CONSENT] && patron_parse_bool(im->v[F_SMS_CONSENT], &sms) < 0)
		return import_bad(im, why, F_SMS_CONSENT, "yes or no");

	int64_t cid;
	int created;
	if (import_resolve(im, vals, kinds, n, created_at, &cid, &created, err) < 0)
		return -1;
	if (!created)
		im->st->customers_matched++;
	char first[256], last[256];
	snprintf(first, sizeof first, "%s", im->v[F_FIRST_NAME]);
	snprintf(last, sizeof last, "%s", im->v[F_LAST_NAME]);
	if (!*first && !*last && *im->v[F_NAME])
		import_split_name(im->v[F_NAME], first, last, sizeof first);
	if (import_put_names(im, cid, first, last, err) < 0 ||
	    import_put_created(im, cid, created_at, err) < 0)
		return -1;
	if (consent >= 0 && import_put_consent(im, cid, "email", consent, err) < 0)
		return -1;
	if (sms >= 0 && import_put_consent(im, cid, "sms", sms, err) < 0)
		return -1;
	if (*im->v[F_TAGS] && import_put_tags(im, cid, im->v[F_TAGS], err) < 0)
		return -1;
	return row_attributes(im, rec, cid, err);
}

/* Attributes are written after the row passed, from the values the first
 * pass proved to fit their column's type. */
static int row_attributes(importer *im, const patron_csv_record *rec, int64_t cid,
			  patron_err *err)
{
	for (size_t a = 0; a < im->nattr; a++) {
		const char *v = unquote(im, rec->field[im->attr_col[a]]);
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
		if (import_step(im, st, "writing an attribute", err) < 0)
			return -1;
	}
	return 0;
}

/* First pass over a customers file: every column no field claimed becomes
 * an attribute (and the columns of fields such as country, under the
 * field's name), typed by what all of its values are, joined with the type an
 * earlier import gave it. */
static int infer_attributes(importer *im, patron_err *err)
{
	size_t n = 0;
	im->attr_col = patron_xmalloc(im->ncols * sizeof *im->attr_col);
	im->attr_name = patron_xcalloc(im->ncols, sizeof *im->attr_name);
	im->attr_type = patron_xmalloc(im->ncols * sizeof *im->attr_type);
	for (size_t c = 0; c < im->ncols; c++) {
		const char *name = im->norm[c];
		for (int f = 0; f < F_N; f++)
			if (im->col[f] == (int)c)
				name = patron_field_attribute((patron_field)f);
		if (!name || !name[0])
			continue;	/* a field's, or an empty header */
		im->attr_col[n] = (int)c;
		im->attr_name[n] = patron_xstrdup(name);
		n++;
	}
	im->nattr = n;
	if (n == 0)
		return 0;

	patron_infer *inf = patron_xmalloc(n * sizeof *inf);
	for (size_t a = 0; a < n; a++)
		patron_infer_init(&inf[a]);
	patron_csv *r = import_reopen(im, err);
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
				patron_infer_add(&inf[a], unquote(im, rec.field[im->attr_col[a]]),
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
		if (import_step(im, st, "typing an attribute", err) < 0) {
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
		return import_bad(im, why, F_PRICE, "an amount of money like 12.34");

	sqlite3_stmt *st = patron_store_stmt(im->s, ST_PRODUCT_FIND);
	sqlite3_bind_text(st, 1, sku, -1, SQLITE_STATIC);
	import_bind_text(st, 2, im->v[F_NAME]);
	import_bind_text(st, 3, im->v[F_CATEGORY]);
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
	import_bind_text(st, 2, im->v[F_NAME]);
	import_bind_text(st, 3, im->v[F_CATEGORY]);
	if (*im->v[F_PRICE])
		sqlite3_bind_int64(st, 4, price);
	if (!id)
		sqlite3_bind_int64(st, 5, im->o->now);
	if (import_step(im, st, "writing a product", err) < 0)
		return -1;
	if (id)
		im->st->products_updated++;
	else
		im->st->products_new++;
	return 0;
}

/* ---- feedback ---- */

static int row_feedback(importer *im, patron_err *why, patron_err *err)
{
	char vals[3][320];
	const char *kinds[3];
	size_t n;
	int64_t when, rating = 0;
	if (import_identities(im, vals, kinds, &n, why) || import_when(im, F_CREATED_AT, &when, why))
		return 1;
	if (*im->v[F_RATING] &&
	    (patron_parse_int(im->v[F_RATING], &rating) < 0 || rating < 1 || rating > 5))
		return import_bad(im, why, F_RATING, "a rating from 1 to 5");
	if (!*im->v[F_TEXT])
		return import_bad(im, why, F_TEXT, "the feedback's text");
	int64_t cid;
	int created;
	if (import_resolve(im, vals, kinds, n, when, &cid, &created, err) < 0)
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
	double sentiment = NAN;
	if (im->o->sentiment &&
	    im->o->sentiment(im->o->sentiment_ctx, im->v[F_TEXT], &sentiment, err) < 0)
		return -1;
	st = patron_store_stmt(im->s, ST_FEEDBACK_NEW);
	sqlite3_bind_int64(st, 1, cid);
	sqlite3_bind_int64(st, 2, when);
	if (rating)
		sqlite3_bind_int64(st, 3, rating);
	sqlite3_bind_text(st, 4, im->v[F_TEXT], -1, SQLITE_STATIC);
	if (!isnan(sentiment))
		sqlite3_bind_double(st, 5, sentiment);
	if (import_step(im, st, "adding feedback", err) < 0)
		return -1;
	im->st->feedback_new++;
	st = patron_store_stmt(im->s, ST_EVENT_FEEDBACK_RECEIVED);
	sqlite3_bind_int64(st, 1, cid);
	sqlite3_bind_int64(st, 2, sqlite3_last_insert_rowid(patron_store_db(im->s)));
	if (rating)
		sqlite3_bind_int64(st, 3, rating);
	sqlite3_bind_int64(st, 4, when);
	sqlite3_bind_int64(st, 5, im->o->now);
	if (!isnan(sentiment))
		sqlite3_bind_double(st, 6, sentiment);
	return import_step(im, st, "appending an event", err);
}

/* ---- bytes ---- */

/* The 1-based byte of S's first NUL or invalid UTF-8, or 0 when it is clean. */
static size_t first_bad_byte(const char *s, size_t len, int *nul)
{
	const unsigned char *p = (const unsigned char *)s;
	for (size_t i = 0; i < len;) {
		if (p[i] == 0) {
			*nul = 1;
			return i + 1;
		}
		if (p[i] < 0x80) {
			i++;
			continue;
		}
		size_t k = patron_utf8_len(p + i, len - i);
		if (!k) {
			*nul = 0;
			return i + 1;
		}
		i += k;
	}
	return 0;
}

/* Appends S (LEN bytes in ENC) to B as UTF-8; the 1-based byte that has no
 * character in ENC, or 0. */
static size_t transcode(patron_buf *b, const char *s, size_t len, patron_encoding enc)
{
	for (size_t i = 0; i < len; i++) {
		unsigned c = (unsigned char)s[i];
		if (c == 0)
			return i + 1;
		if (enc == PATRON_ENCODING_CP1252 && !(c = patron_cp1252((unsigned char)c)))
			return i + 1;
		patron_utf8_put(b, c);
	}
	patron_buf_add(b, "", 1);
	return 0;
}

/* Makes REC's fields clean UTF-8: checked as they are, or transcoded into
 * the importer's buffers with --encoding. 0, or 1 with WHY naming the column
 * and the byte. */
static int clean_bytes(importer *im, patron_csv_record *rec, patron_buf *buf,
		       const char ***fields, size_t *cap, const char *const *names, patron_err *why)
{
	if (rec->ascii)
		return 0;	/* the common case, known from the reader */
	if (im->o->encoding == PATRON_ENCODING_UTF8) {
		for (size_t i = 0; i < rec->n; i++) {
			int nul = 0;
			size_t at = first_bad_byte(rec->field[i], rec->len[i], &nul);
			if (!at)
				continue;
			patron_err_set(why, "column \"%s\": %s at byte %zu%s",
				       names && i < im->ncols ? names[i] : "?",
				       nul ? "a NUL byte" : "invalid UTF-8", at,
				       nul ? "" : " (if the file is not UTF-8, give --encoding latin1 "
						  "or cp1252)");
			return 1;
		}
		return 0;
	}
	patron_buf_clear(buf);
	size_t *off = patron_xmalloc((rec->n + 1) * sizeof *off);
	for (size_t i = 0; i < rec->n; i++) {
		off[i] = buf->len;
		size_t at = transcode(buf, rec->field[i], rec->len[i], im->o->encoding);
		if (at) {
			patron_err_set(why, "column \"%s\": %s at byte %zu",
				       names && i < im->ncols ? names[i] : "?",
				       rec->field[i][at - 1] ? "a byte with no character in the "
				       "encoding" : "a NUL byte", at);
			free(off);
			return 1;
		}
	}
	if (*cap < rec->n) {
		*cap = rec->n;
		*fields = patron_xrealloc((void *)*fields, *cap * sizeof **fields);
	}
	for (size_t i = 0; i < rec->n; i++) {
		(*fields)[i] = buf->data + off[i];
		rec->len[i] = strlen((*fields)[i]);
	}
	rec->field = *fields;
	free(off);
	return 0;
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

static int write_rejected(FILE *f, long line, const char *why, const char *const *field,
			  const size_t *len, size_t n)
{
	fprintf(f, "%ld,", line);
	patron_csv_write_field(f, why, strlen(why));
	for (size_t i = 0; i < n; i++) {
		fputc(',', f);
		patron_csv_write_field(f, field[i], len[i]);
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
	patron_strmap_free(&im->keys);
	patron_strmap_free(&im->offsets);
	orders_free(im);
}

static int import_rows(importer *im, patron_csv *r, FILE *rejected, patron_err *err)
{
	static const char *const empty = "";
	patron_csv_record rec;
	patron_err why;
	patron_buf bytes = {0};
	const char **fields = NULL;
	size_t cap = 0, *saved_len = NULL, saved_cap = 0;
	const char *const *names = (const char *const *)im->header;
	double start = patron_clock();
	int rc;
	while ((rc = patron_csv_next(r, &rec, err)) > 0) {
		im->st->rows++;
		im->line = rec.line;
		if ((im->st->rows & 8191) == 0)
			progress(im, r, start, 0);
		/* the raw record, for the rejected file: transcoding replaces the
		 * fields and their lengths */
		const char *const *raw = rec.field;
		size_t *raw_len = rec.len;
		if (im->o->encoding != PATRON_ENCODING_UTF8) {
			if (saved_cap < rec.n) {
				saved_cap = rec.n;
				saved_len = patron_xrealloc(saved_len, saved_cap * sizeof *saved_len);
			}
			memcpy(saved_len, rec.len, rec.n * sizeof *rec.len);
		}
		int res;
		if (rec.n != im->ncols) {
			patron_err_set(&why, "expected %zu fields as in the header, got %zu",
				       im->ncols, rec.n);
			res = 1;
		} else if ((res = clean_bytes(im, &rec, &bytes, &fields, &cap, names, &why)) == 0) {
			for (int f = 0; f < F_N; f++)
				im->v[f] = im->col[f] >= 0 ? unquote(im, rec.field[im->col[f]]) : empty;
			for (size_t a = 0; a < im->nalt; a++)
				if (!*im->v[im->alt_field[a]])
					im->v[im->alt_field[a]] = unquote(im, rec.field[im->alt_col[a]]);
			switch (im->o->kind) {
			case PATRON_IMPORT_CUSTOMERS:
				res = row_customer(im, &rec, &why, err);
				break;
			case PATRON_IMPORT_PRODUCTS: res = row_product(im, &why, err); break;
			case PATRON_IMPORT_ORDERS: res = orders_row(im, &why, err); break;
			default: res = row_feedback(im, &why, err); break;
			}
		}
		if (res < 0) {
			rc = -1;
			break;
		}
		if (res > 0) {
			if (!rejected) {
				rc = patron_err_set(err, "%s:%ld: %s", im->path, rec.line, why.msg);
				break;
			}
			im->st->rejected++;
			if (im->o->encoding != PATRON_ENCODING_UTF8)
				memcpy(raw_len, saved_len, rec.n * sizeof *rec.len);
			if (write_rejected(rejected, rec.line, why.msg, raw, raw_len, rec.n) < 0) {
				rc = patron_err_set(err, "%s: cannot write: %s",
						    im->st->rejected_path, strerror(errno));
				break;
			}
		}
	}
	free(saved_len);
	patron_buf_free(&bytes);
	free((void *)fields);
	progress(im, r, start, 1);
	if (rc < 0)
		return -1;
	return im->o->kind == PATRON_IMPORT_ORDERS ? orders_flush(im, err) : 0;
}

/* The format OPTS names, or the one the headers recognise, or the kind's
 * plain one. */
static int choose_format(importer *im, patron_err *err)
{
	const char *want = im->o->format;
	if (want && *want && strcmp(want, "auto") != 0) {
		im->fmt = patron_format_find((int)im->o->kind, want);
		if (!im->fmt)
			return patron_err_set(err, "--format: there is no %s format \"%s\" (expected "
					      "one of: %s)", im->o->kind == PATRON_IMPORT_ORDERS ?
					      "orders" : "such", want, patron_import_format_names());
		return 0;
	}
	for (int i = 0; patron_formats[i]; i++) {
		const patron_format *f = patron_formats[i];
		int total;
		if (f->kind != (int)im->o->kind || !f->signature)
			continue;
		if (patron_format_match(f, im->norm, im->ncols, &total, NULL, 0) == total) {
			im->fmt = f;
			return 0;
		}
	}
	im->fmt = patron_format_plain((int)im->o->kind);
	return 0;
}

/* Files from this size on are imported under a rollback journal. */
#define BULK_BYTES (32u << 20)

patron_csv *import_reopen(importer *im, patron_err *err)
{
	return im->data ? patron_csv_open_mem(im->path, im->data, im->data_len)
			: patron_csv_open(im->path, err);
}

/* The import of PATH, or of DATA (LEN bytes, named PATH) when not NULL. */
static int import_any(patron_store *s, const char *path, const char *data, size_t len,
		      const patron_import_opts *opts, patron_import_stats *stats, patron_err *err)
{
	int bulk = 0, began = 0;
	importer im = {.s = s, .o = opts, .st = stats, .path = path, .data = data,
		       .data_len = len};
	memset(stats, 0, sizeof *stats);
	patron_csv_record rec;
	patron_csv *r;
	if (data) {
		r = patron_csv_open_mem(path, data, len);
		int got = patron_csv_next(r, &rec, err);
		if (got <= 0) {
			if (got == 0)
				patron_err_set(err, "%s: empty (expected a header line naming the "
					       "columns)", path);
			patron_csv_close(r);
			return -1;
		}
	} else {
		r = patron_csv_open_header(path, &rec, "a header line naming the columns", err);
	}
	if (!r)
		return -1;
	int rc;
	patron_buf hbytes = {0};
	const char **hfields = NULL;
	size_t hcap = 0;
	patron_err why;
	im.ncols = rec.n;
	if (clean_bytes(&im, &rec, &hbytes, &hfields, &hcap, NULL, &why)) {
		patron_err_set(err, "%s:%ld: the header: %s", path, rec.line,
			       strstr(why.msg, ": ") ? strstr(why.msg, ": ") + 2 : why.msg);
		patron_buf_free(&hbytes);
		free((void *)hfields);
		patron_csv_close(r);
		return -1;
	}
	im.header = patron_xmalloc(rec.n * sizeof *im.header);
	im.norm = patron_xmalloc(rec.n * sizeof *im.norm);
	for (size_t c = 0; c < rec.n; c++) {
		char norm[128];
		patron_normalize_header(rec.field[c], norm, sizeof norm);
		im.header[c] = patron_xstrdup(rec.field[c]);
		im.norm[c] = patron_xstrdup(norm);
	}
	patron_buf_free(&hbytes);
	free((void *)hfields);

	FILE *rejected = NULL;
	char tmp[4200];
	snprintf(stats->rejected_path, sizeof stats->rejected_path, "%s.rejected.csv", path);
	snprintf(tmp, sizeof tmp, "%s.tmp", stats->rejected_path);

	rc = -1;
	if (choose_format(&im, err) < 0)
		goto out;
	stats->format = im.fmt->name;
	stats->format_title = im.fmt->title;
	if (map_columns(&im, im.fmt->fields, err) < 0)
		goto out;
	/* Worth it from tens of megabytes; small files keep the WAL, which lets
	 * readers go on during the import. */
	bulk = !data && sqlite3_get_autocommit(patron_store_db(s)) &&
	       patron_csv_size(r) >= BULK_BYTES && patron_store_bulk(s, 1);
	/* Every key the import writes it has just found or made (customers,
	 * products, orders), so SQLite's checks of them, a look-up per order
	 * line and per order, only repeat it. Merges delete what they leave
	 * behind themselves (patron_customer_merge). Outside a transaction
	 * only, which bulk implies. */
	if (bulk && patron_store_exec(s, "PRAGMA foreign_keys = OFF", err) < 0)
		goto out;
	/* A savepoint: the file is its own transaction, or lands whole
	 * inside the caller's (patron_import_mem). */
	if (patron_store_savepoint(s, "import", &began, err) < 0)
		goto out;
	if (opts->kind == PATRON_IMPORT_CUSTOMERS && infer_attributes(&im, err) < 0)
		goto fail;
	if (opts->kind == PATRON_IMPORT_ORDERS &&
	    (orders_prepare(&im, err) < 0 || (!data && batch_start(&im, patron_csv_size(r), bulk, err) < 0)))
		goto fail;
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
	/* The file is parsed on the other core while this one validates and
	 * writes (a failure to start the thread only costs time). */
	if (!data)
		patron_csv_read_ahead(r);
	if (import_rows(&im, r, rejected, err) < 0 || batch_flush(&im, err) < 0)
		goto fail;
	if (opts->kind == PATRON_IMPORT_ORDERS && orders_totals(&im, err) < 0)
		goto fail;
	sqlite3_stmt *st = patron_store_stmt(s, ST_IMPORT_LOG);
	sqlite3_bind_text(st, 1, opts->kind == PATRON_IMPORT_CUSTOMERS ? "customers"
				 : opts->kind == PATRON_IMPORT_PRODUCTS ? "products"
				 : opts->kind == PATRON_IMPORT_ORDERS ? "orders" : "feedback",
			  -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, path, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, (int64_t)stats->rows);
	sqlite3_bind_int64(st, 4, (int64_t)stats->rejected);
	sqlite3_bind_int64(st, 5, opts->now);
	if (import_step(&im, st, "logging the import", err) < 0)
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
	if (patron_store_release(s, "import", began, err) < 0) {
		if (began)
			patron_store_rollback(s);
		goto fail_after;
	}
	if (!stats->rejected)
		stats->rejected_path[0] = '\0';
	rc = 0;
	goto out;
fail:
	patron_store_undo(s, "import", began);
fail_after:
	if (rejected)
		fclose(rejected);
	unlink(tmp);
	stats->rejected_path[0] = '\0';
	stats->base_currency_set[0] = '\0';
out:
	if (bulk) {
		patron_store_exec(s, "PRAGMA foreign_keys = ON", NULL);
		patron_store_bulk(s, 0);
	}
	patron_csv_close(r);
	importer_free(&im);
	return rc;
}

int patron_import_file(patron_store *s, const char *path, const patron_import_opts *opts,
		       patron_import_stats *stats, patron_err *err)
{
	return import_any(s, path, NULL, 0, opts, stats, err);
}

int patron_import_mem(patron_store *s, const char *name, const char *data, size_t len,
		      const patron_import_opts *opts, patron_import_stats *stats,
		      patron_err *err)
{
	patron_import_opts o = *opts;
	o.skip_bad = 0;
	o.progress = 0;
	return import_any(s, name, data, len, &o, stats, err);
}
