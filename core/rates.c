/* Exchange rates into the shop's base currency: a CSV of date, currency and
 * rate (one unit of the currency is RATE units of the base), kept in the
 * store; an order takes the rate of its day or the nearest earlier one. */
#include <stdio.h>
#include <string.h>

#include "csv.h"
#include "import.h"

static int column(patron_csv_record *rec, const char *const *names)
{
	for (size_t c = 0; c < rec->n; c++) {
		char norm[64];
		patron_normalize_header(rec->field[c], norm, sizeof norm);
		for (int i = 0; names[i]; i++)
			if (strcmp(norm, names[i]) == 0)
				return (int)c;
	}
	return -1;
}

int patron_import_rates(patron_store *s, const char *path, const char *base, int64_t *n,
			patron_err *err)
{
	static const char *const date_names[] = {"date", "day", "from", "valid_from", NULL};
	static const char *const cur_names[] = {"currency", "code", "currency_code", NULL};
	static const char *const rate_names[] = {"rate", "value", NULL};
	*n = 0;
	patron_csv_record rec;
	patron_csv *r = patron_csv_open_header(path, &rec, "the header date,currency,rate", err);
	if (!r)
		return -1;
	int rc;
	int cd = column(&rec, date_names), cc = column(&rec, cur_names),
	    cr = column(&rec, rate_names);
	size_t ncols = rec.n;
	if (cd < 0 || cc < 0 || cr < 0) {
		patron_csv_close(r);
		return patron_err_set(err, "%s:1: expected the columns date, currency and rate "
				      "(one unit of the currency in the base currency)", path);
	}
	if (patron_store_begin(s, err) < 0) {
		patron_csv_close(r);
		return -1;
	}
	while ((rc = patron_csv_next(r, &rec, err)) > 0) {
		int64_t day;
		double rate;
		char cur[8];
		char got[100];
		if (rec.n != ncols) {
			rc = patron_err_set(err, "%s:%ld: expected %zu fields as in the header, got "
					    "%zu", path, rec.line, ncols, rec.n);
			break;
		}
		if (strlen(rec.field[cc]) != 3 || patron_currency_code(rec.field[cc], cur) < 0) {
			patron_escape(rec.field[cc], got, sizeof got);
			rc = patron_err_set(err, "%s:%ld: column \"currency\": expected a code like "
					    "GBP, got \"%s\"", path, rec.line, got);
			break;
		}
		if (base && *base && strcmp(cur, base) == 0) {
			rc = patron_err_set(err, "%s:%ld: %s is the base currency itself (its rate "
					    "is 1)", path, rec.line, cur);
			break;
		}
		if (patron_parse_date(rec.field[cd], PATRON_DATE_MDY, &day) < 0) {
			patron_escape(rec.field[cd], got, sizeof got);
			rc = patron_err_set(err, "%s:%ld: column \"date\": expected a date like "
					    "2024-03-01, got \"%s\"", path, rec.line, got);
			break;
		}
		if (patron_parse_real(rec.field[cr], &rate) < 0 || !(rate > 0)) {
			patron_escape(rec.field[cr], got, sizeof got);
			rc = patron_err_set(err, "%s:%ld: column \"rate\": expected a number above "
					    "0, got \"%s\"", path, rec.line, got);
			break;
		}
		sqlite3_stmt *st = patron_store_stmt(s, ST_RATE_PUT);
		sqlite3_bind_text(st, 1, cur, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, patron_day_number(day) * 86400);
		sqlite3_bind_double(st, 3, rate);
		if (sqlite3_step(st) != SQLITE_DONE) {
			rc = patron_store_fail(s, err, "storing a rate");
			break;
		}
		(*n)++;
	}
	patron_csv_close(r);
	if (rc < 0 || patron_store_commit(s, err) < 0) {
		patron_store_rollback(s);
		return -1;
	}
	return 0;
}
