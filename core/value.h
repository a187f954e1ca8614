/* Parsing and formatting the values that arrive in CSV columns: dates,
 * money, numbers, emails, phones, yes/no; and the inference of a column's
 * type from all of its values. Every parser returns 0 on success and -1
 * when the text is not such a value, leaving *out untouched. */
#ifndef PATRON_VALUE_H
#define PATRON_VALUE_H

#include <stddef.h>
#include <stdint.h>

/* How to read a slashed date such as 03/04/2024. */
typedef enum { PATRON_DATE_MDY, PATRON_DATE_DMY } patron_date_order;

/* ISO 8601 (2024-03-05, 2024-03-05T14:22:10Z, +01:00 offsets), the shop
 * export forms "2024-03-05 14:22:10 -0500" and "2024-03-05 14:22", and
 * slashed dates (2024/03/05, or 03/05/2024 read by ORDER). Out: seconds since
 * the Unix epoch, UTC. Impossible dates (2024-02-30) are refused. */
int patron_parse_date(const char *s, patron_date_order order, int64_t *out);

/* Calendar date of a day number (days since 1970-01-01) and back. */
int64_t patron_days_from_civil(int y, int m, int d);
void patron_civil_from_days(int64_t days, int *y, int *m, int *d);

/* The day (days since 1970-01-01, UTC) a time falls on, for times before
 * 1970 too. */
int64_t patron_day_number(int64_t t);

/* "2024-03-05", or "2024-03-05 14:22:10" when the time is not midnight.
 * BUF holds at least 24 bytes. */
const char *patron_format_date(int64_t t, char *buf);
const char *patron_format_day(int64_t t, char *buf);	/* always the day only */

/* Money as exact cents: "12.34", "-5", "$1,234.50", "€3.5", "12.340".
 * Refuses a fraction of a cent ("1.005") and malformed grouping ("1,23"). */
int patron_parse_money(const char *s, int64_t *cents);
/* "-1234.50" from -123450; BUF holds at least 32 bytes. */
const char *patron_format_money(int64_t cents, char *buf);

int patron_parse_int(const char *s, int64_t *out);
/* A duration: a whole number and a unit, s m h d w or y (365 days) ("30d",
 * "1h", "2y"), in seconds; above zero. */
int patron_parse_duration(const char *s, int64_t *seconds);
int patron_parse_real(const char *s, double *out);
/* yes/no, true/false, y/n, 1/0, subscribed/unsubscribed (any case). */
int patron_parse_bool(const char *s, int *out);

/* Trimmed and lower-cased into OUT (CAP bytes); refuses what has no single
 * '@' between a local part and a dotted domain, or holds blanks. */
int patron_normalize_email(const char *s, char *out, size_t cap);
/* Digits only, with a leading '+' kept; refuses fewer than 5 digits or
 * letters. Separators ( ) - . and blanks are dropped. */
int patron_normalize_phone(const char *s, char *out, size_t cap);
/* " usd" -> "USD": a three-letter currency code, blanks around it allowed,
 * upper-cased into OUT. 0, or -1 when S is not one. */
int patron_currency_code(const char *s, char out[8]);

typedef enum {
	PATRON_TYPE_INTEGER,
	PATRON_TYPE_REAL,
	PATRON_TYPE_DATE,
	PATRON_TYPE_TEXT,
} patron_type;

const char *patron_type_name(patron_type t);
int patron_type_parse(const char *name, patron_type *out);

/* Type inference over a whole column: feed every non-empty value, then ask. */
typedef struct {
	unsigned could_int : 1, could_real : 1, could_date : 1;
	uint64_t seen;
} patron_infer;

void patron_infer_init(patron_infer *in);
void patron_infer_add(patron_infer *in, const char *value, patron_date_order order);
/* The narrowest type every value fitted; TEXT when the column was empty. */
patron_type patron_infer_result(const patron_infer *in);
/* The type that holds both: an attribute typed by an earlier import and a
 * new column's inference widen to integer < real < text, date < text. */
patron_type patron_type_join(patron_type a, patron_type b);

#endif
