#include "value.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Days since 1970-01-01 of a proleptic Gregorian date. Counts in 400-year
 * eras that start on March 1st, so the leap day is the last day of a year. */
int64_t patron_days_from_civil(int y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;				/* [0, 399] */
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;	/* [0, 365] */
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;	/* [0, 146096] */
	return era * 146097 + doe - 719468;
}

void patron_civil_from_days(int64_t days, int *y, int *m, int *d)
{
	days += 719468;
	int64_t era = (days >= 0 ? days : days - 146096) / 146097;
	int64_t doe = days - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = (int)(yoe + era * 400 + (*m <= 2));
}

static int days_in_month(int y, int m)
{
	static const int dim[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return dim[m - 1];
}

/* Reads MIN..MAX decimal digits at *p. */
static int read_digits(const char **p, int min, int max, int *out)
{
	int n = 0, v = 0;
	while (n < max && isdigit((unsigned char)(*p)[n])) {
		v = v * 10 + ((*p)[n] - '0');
		n++;
	}
	if (n < min || isdigit((unsigned char)(*p)[n]))
		return -1;
	*p += n;
	*out = v;
	return 0;
}

/* [T| ]HH:MM[:SS[.fff]][ ][Z|UTC|+HH[:]MM|-HH[:]MM], all optional as a
 * whole. Adds the seconds of the day, less the zone offset, to *secs. */
static int parse_time(const char *p, int64_t *secs)
{
	int h, mi, s = 0;
	if (*p == '\0')
		return 0;
	if (*p != 'T' && *p != ' ')
		return -1;
	p++;
	if (read_digits(&p, 1, 2, &h) < 0 || *p++ != ':' || read_digits(&p, 2, 2, &mi) < 0)
		return -1;
	if (*p == ':') {
		p++;
		if (read_digits(&p, 2, 2, &s) < 0)
			return -1;
		if (*p == '.' || *p == ',') {
			p++;
			if (!isdigit((unsigned char)*p))
				return -1;
			while (isdigit((unsigned char)*p))
				p++;
		}
	}
	if (h > 23 || mi > 59 || s > 60)
		return -1;
	if (s == 60)
		s = 59;	/* a leap second is kept inside its minute */
	int64_t off = 0;
	if (*p == ' ')
		p++;
	if (*p == 'Z' || strcmp(p, "UTC") == 0) {
		p += *p == 'Z' ? 1 : 3;
	} else if (*p == '+' || *p == '-') {
		int sign = *p++ == '-' ? -1 : 1, oh, om = 0;
		const char *z = p;
		if (read_digits(&p, 2, 4, &oh) < 0 || p - z == 3)
			return -1;
		if (p - z == 4) {	/* +HHMM */
			om = oh % 100;
			oh /= 100;
		} else if (*p == ':' && (p++, read_digits(&p, 2, 2, &om) < 0)) {
			return -1;
		}
		if (oh > 14 || om > 59)
			return -1;
		off = sign * (oh * 3600 + om * 60);
	}
	if (*p != '\0')
		return -1;
	*secs += h * 3600 + mi * 60 + s - off;
	return 0;
}

int patron_parse_date(const char *s, patron_date_order order, int64_t *out)
{
	const char *p = s;
	int y, m, d, a, b;
	if (read_digits(&p, 4, 4, &y) == 0) {
		char sep = *p;
		if (sep != '-' && sep != '/')
			return -1;
		p++;
		if (read_digits(&p, 1, 2, &m) < 0 || *p++ != sep || read_digits(&p, 1, 2, &d) < 0)
			return -1;
	} else {
		p = s;
		if (read_digits(&p, 1, 2, &a) < 0)
			return -1;
		char sep = *p;
		if (sep != '/' && sep != '.' && sep != '-')
			return -1;
		p++;
		if (read_digits(&p, 1, 2, &b) < 0 || *p++ != sep || read_digits(&p, 4, 4, &y) < 0)
			return -1;
		m = order == PATRON_DATE_MDY ? a : b;
		d = order == PATRON_DATE_MDY ? b : a;
	}
	if (y < 1 || m < 1 || m > 12 || d < 1 || d > days_in_month(y, m))
		return -1;
	int64_t secs = patron_days_from_civil(y, m, d) * 86400;
	if (parse_time(p, &secs) < 0)
		return -1;
	*out = secs;
	return 0;
}

int64_t patron_day_number(int64_t t)
{
	return t / 86400 - (t % 86400 < 0);
}

const char *patron_format_day(int64_t t, char *buf)
{
	int y, m, d;
	patron_civil_from_days(patron_day_number(t), &y, &m, &d);
	snprintf(buf, 24, "%04d-%02d-%02d", y, m, d);
	return buf;
}

const char *patron_format_date(int64_t t, char *buf)
{
	int64_t sod = t - patron_day_number(t) * 86400;
	patron_format_day(t, buf);
	if (sod)
		snprintf(buf + 10, 14, " %02d:%02d:%02d", (int)(sod / 3600),
			 (int)(sod / 60 % 60), (int)(sod % 60));
	return buf;
}

int patron_parse_money(const char *s, int64_t *cents)
{
	const char *p = s;
	int neg = 0;
	if (*p == '-' || *p == '+')
		neg = *p++ == '-';
	static const char *const symbols[] = {"$", "\xE2\x82\xAC", "\xC2\xA3", "\xC2\xA5"};
	for (size_t i = 0; i < sizeof symbols / sizeof *symbols; i++) {
		size_t n = strlen(symbols[i]);
		if (strncmp(p, symbols[i], n) == 0) {
			p += n;
			break;
		}
	}
	if (!neg && *p == '-') {
		neg = 1;
		p++;
	}
	int64_t whole = 0;
	int ndigits = 0, group = 0, grouped = 0;
	while (isdigit((unsigned char)*p) || *p == ',') {
		if (*p == ',') {
			/* Thousands separators: first group 1-3 digits, then exactly 3. */
			if ((!grouped && (group < 1 || group > 3)) || (grouped && group != 3))
				return -1;
			grouped = 1;
			group = 0;
			p++;
			continue;
		}
		if (++ndigits > 15)
			return -1;
		whole = whole * 10 + (*p++ - '0');
		group++;
	}
	if (grouped && group != 3)
		return -1;
	int64_t frac = 0;
	int nfrac = 0;
	if (*p == '.') {
		p++;
		while (isdigit((unsigned char)*p)) {
			if (nfrac < 2)
				frac = frac * 10 + (*p - '0');
			else if (*p != '0')
				return -1;	/* a fraction of a cent */
			nfrac++;
			p++;
		}
		if (nfrac == 0)
			return -1;
	}
	if (ndigits == 0 && nfrac == 0)
		return -1;
	if (*p != '\0')
		return -1;
	if (nfrac == 1)
		frac *= 10;
	int64_t v = whole * 100 + frac;
	*cents = neg ? -v : v;
	return 0;
}

const char *patron_format_money(int64_t cents, char *buf)
{
	uint64_t a = cents < 0 ? (uint64_t)0 - (uint64_t)cents : (uint64_t)cents;
	snprintf(buf, 32, "%s%llu.%02u", cents < 0 ? "-" : "", (unsigned long long)(a / 100),
		 (unsigned)(a % 100));
	return buf;
}

/* Numbers with a leading zero ("02134", a postcode) are text, not numbers:
 * reading them as numbers would lose the zero. */
static int leading_zero(const char *p)
{
	if (*p == '-' || *p == '+')
		p++;
	return p[0] == '0' && isdigit((unsigned char)p[1]);
}

int patron_parse_int(const char *s, int64_t *out)
{
	const char *p = s;
	if (*p == '-' || *p == '+')
		p++;
	if (!isdigit((unsigned char)*p) || leading_zero(s))
		return -1;
	while (isdigit((unsigned char)*p))
		p++;
	if (*p != '\0')
		return -1;
	errno = 0;
	long long v = strtoll(s, NULL, 10);
	if (errno == ERANGE)
		return -1;
	*out = v;
	return 0;
}

int patron_parse_real(const char *s, double *out)
{
	if (*s == '\0' || leading_zero(s))
		return -1;
	for (const char *p = s; *p; p++)
		if (!isdigit((unsigned char)*p) && !strchr("+-.eE", *p))
			return -1;
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (*end != '\0' || errno == ERANGE || !isfinite(v))
		return -1;
	*out = v;
	return 0;
}

int patron_parse_bool(const char *s, int *out)
{
	static const char *const yes[] = {"yes", "y", "true", "t", "1", "subscribed", "on"};
	static const char *const no[] = {"no", "n", "false", "f", "0", "unsubscribed", "off"};
	for (size_t i = 0; i < sizeof yes / sizeof *yes; i++) {
		if (strcasecmp(s, yes[i]) == 0)
			return *out = 1, 0;
		if (strcasecmp(s, no[i]) == 0)
			return *out = 0, 0;
	}
	return -1;
}

static void trim(const char **s, size_t *n)
{
	while (*n && isspace((unsigned char)**s))
		(*s)++, (*n)--;
	while (*n && isspace((unsigned char)(*s)[*n - 1]))
		(*n)--;
}

int patron_normalize_email(const char *s, char *out, size_t cap)
{
	size_t n = strlen(s);
	trim(&s, &n);
	if (n == 0 || n >= cap)
		return -1;
	const char *at = memchr(s, '@', n);
	if (!at || at == s || memchr(at + 1, '@', n - (size_t)(at - s) - 1))
		return -1;
	const char *dom = at + 1;
	size_t dn = n - (size_t)(dom - s);
	if (dn < 3 || dom[0] == '.' || dom[dn - 1] == '.' || !memchr(dom, '.', dn))
		return -1;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (isspace(c) || c < 0x20 || strchr(",;<>()[]\"", c))
			return -1;
		out[i] = (char)tolower(c);
	}
	out[n] = '\0';
	return 0;
}

int patron_normalize_phone(const char *s, char *out, size_t cap)
{
	size_t n = 0, digits = 0;
	const char *p = s;
	while (isspace((unsigned char)*p))
		p++;
	if (*p == '+') {
		if (cap < 2)
			return -1;
		out[n++] = '+';
		p++;
	}
	for (; *p; p++) {
		if (isdigit((unsigned char)*p)) {
			if (n + 1 >= cap)
				return -1;
			out[n++] = *p;
			digits++;
		} else if (!strchr(" -.()/\t", *p)) {
			return -1;
		}
	}
	if (digits < 5 || digits > 20)
		return -1;
	out[n] = '\0';
	return 0;
}

int patron_currency_code(const char *s, char out[8])
{
	while (isspace((unsigned char)*s))
		s++;
	size_t n = 0;
	for (; *s && !isspace((unsigned char)*s) && n < 7; s++)
		out[n++] = (char)toupper((unsigned char)*s);
	out[n] = '\0';
	while (isspace((unsigned char)*s))
		s++;
	if (n != 3 || *s)
		return -1;
	for (size_t i = 0; i < 3; i++)
		if (!isalpha((unsigned char)out[i]))
			return -1;
	return 0;
}

static const char *const type_names[] = {"integer", "real", "date", "text"};

const char *patron_type_name(patron_type t) { return type_names[t]; }

int patron_type_parse(const char *name, patron_type *out)
{
	for (int i = 0; i < 4; i++)
		if (strcmp(name, type_names[i]) == 0)
			return *out = (patron_type)i, 0;
	return -1;
}

void patron_infer_init(patron_infer *in)
{
	in->could_int = in->could_real = in->could_date = 1;
	in->seen = 0;
}

void patron_infer_add(patron_infer *in, const char *v, patron_date_order order)
{
	int64_t i;
	double r;
	if (*v == '\0')
		return;
	in->seen++;
	if (in->could_int && patron_parse_int(v, &i) < 0)
		in->could_int = 0;
	if (in->could_real && patron_parse_real(v, &r) < 0)
		in->could_real = 0;
	if (in->could_date && patron_parse_date(v, order, &i) < 0)
		in->could_date = 0;
}

patron_type patron_infer_result(const patron_infer *in)
{
	if (in->seen == 0)
		return PATRON_TYPE_TEXT;
	if (in->could_int)
		return PATRON_TYPE_INTEGER;
	if (in->could_real)
		return PATRON_TYPE_REAL;
	if (in->could_date)
		return PATRON_TYPE_DATE;
	return PATRON_TYPE_TEXT;
}

patron_type patron_type_join(patron_type a, patron_type b)
{
	if (a == b)
		return a;
	if ((a == PATRON_TYPE_INTEGER || a == PATRON_TYPE_REAL) &&
	    (b == PATRON_TYPE_INTEGER || b == PATRON_TYPE_REAL))
		return PATRON_TYPE_REAL;
	return PATRON_TYPE_TEXT;
}

int patron_parse_duration(const char *s, int64_t *seconds)
{
	char *end;
	errno = 0;
	long long n = strtoll(s, &end, 10);
	if (end == s || errno || n <= 0 || *s == '+' || *s == ' ' || !end[0] || end[1])
		return -1;
	static const struct {
		char unit;
		int64_t secs;
	} units[] = {{'s', 1}, {'m', 60}, {'h', 3600}, {'d', 86400}, {'w', 7 * 86400},
		     {'y', 365 * 86400}};
	for (size_t i = 0; i < sizeof units / sizeof *units; i++)
		if (*end == units[i].unit) {
			if (n > INT64_MAX / units[i].secs)
				return -1;
			*seconds = n * units[i].secs;
			return 0;
		}
	return -1;
}
