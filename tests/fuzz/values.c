/* The parsers of dates, money, numbers, durations, emails, phones and
 * currency codes: any text is either read or refused, and what is read
 * formats back to something the parser reads to the same value. */
#include "../../core/value.h"
#include "common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = text_of(data, size), buf[400];
	int64_t v, w;
	double d;
	int b;
	for (int order = 0; order < 2; order++)
		if (patron_parse_date(s, order ? PATRON_DATE_DMY : PATRON_DATE_MDY, &v) == 0) {
			char out[32];
			patron_format_date(v, out);
			if (patron_parse_date(out, PATRON_DATE_MDY, &w) < 0 || w != v)
				abort();	/* a date that does not read back */
		}
	if (patron_parse_money(s, &v) == 0) {
		char out[32];
		patron_format_money(v, out);
		if (patron_parse_money(out, &w) < 0 || w != v)
			abort();	/* an amount that does not read back */
	}
	patron_parse_int(s, &v);
	patron_parse_duration(s, &v);
	patron_parse_real(s, &d);
	patron_parse_bool(s, &b);
	patron_normalize_email(s, buf, sizeof buf);
	patron_normalize_phone(s, buf, sizeof buf);
	patron_currency_code(s, buf);
	free(s);
	return 0;
}
