#include <string.h>

#include "helpers.h"
#include "value.h"

static int64_t date(const char *s, patron_date_order order)
{
	int64_t t = -1;
	ck_assert_msg(patron_parse_date(s, order, &t) == 0, "\"%s\" should be a date", s);
	return t;
}

static void not_date(const char *s)
{
	int64_t t = 42;
	ck_assert_msg(patron_parse_date(s, PATRON_DATE_MDY, &t) == -1, "\"%s\" is no date", s);
	ck_assert_int_eq(t, 42);
}

START_TEST(reads_iso_dates_and_times_in_utc)
{
	ck_assert_int_eq(date("1970-01-01", PATRON_DATE_MDY), 0);
	ck_assert_int_eq(date("2026-11-23", PATRON_DATE_MDY), TEST_NOW);
	ck_assert_int_eq(date("2026-11-23T01:02:03Z", PATRON_DATE_MDY), TEST_NOW + 3723);
	ck_assert_int_eq(date("2026-11-23T01:02:03.250+01:00", PATRON_DATE_MDY), TEST_NOW + 123);
	ck_assert_int_eq(date("1969-12-31", PATRON_DATE_MDY), -86400);
}
END_TEST

START_TEST(reads_shop_export_date_forms)
{
	/* Shopify: local time with an offset; Stripe: "Created (UTC)". */
	ck_assert_int_eq(date("2026-11-22 19:00:00 -0500", PATRON_DATE_MDY), TEST_NOW);
	ck_assert_int_eq(date("2026-11-23 00:30", PATRON_DATE_MDY), TEST_NOW + 1800);
	ck_assert_int_eq(date("2026/11/23", PATRON_DATE_MDY), TEST_NOW);
	ck_assert_int_eq(date("11/23/2026", PATRON_DATE_MDY), TEST_NOW);
	ck_assert_int_eq(date("23/11/2026", PATRON_DATE_DMY), TEST_NOW);
	ck_assert_int_eq(date("23.11.2026", PATRON_DATE_DMY), TEST_NOW);
	ck_assert_int_eq(date("2024-02-29", PATRON_DATE_MDY), date("2024-03-01", PATRON_DATE_MDY) - 86400);
	/* Spreadsheet exports write the hour without its leading zero. */
	ck_assert_int_eq(date("11/23/2026 8:26", PATRON_DATE_MDY), TEST_NOW + 8 * 3600 + 26 * 60);
	not_date("11/23/2026 8:6");
}
END_TEST

START_TEST(refuses_impossible_and_malformed_dates)
{
	not_date("31/02/2024");
	not_date("2024-02-30");
	not_date("2023-02-29");
	not_date("2024-13-01");
	not_date("2024-1-1x");
	not_date("2024-01-01T25:00");
	not_date("yesterday");
	not_date("20240101");
	not_date("");
}
END_TEST

START_TEST(formats_dates_back)
{
	char buf[24];
	ck_assert_str_eq(patron_format_date(TEST_NOW, buf), "2026-11-23");
	ck_assert_str_eq(patron_format_date(TEST_NOW + 3723, buf), "2026-11-23 01:02:03");
	ck_assert_str_eq(patron_format_day(-1, buf), "1969-12-31");
}
END_TEST

static int64_t money(const char *s)
{
	int64_t c = -1;
	ck_assert_msg(patron_parse_money(s, &c) == 0, "\"%s\" should be money", s);
	return c;
}

START_TEST(reads_money_as_exact_cents)
{
	ck_assert_int_eq(money("12.34"), 1234);
	ck_assert_int_eq(money("12.3"), 1230);
	ck_assert_int_eq(money("12"), 1200);
	ck_assert_int_eq(money("0.10"), 10);
	ck_assert_int_eq(money(".5"), 50);
	ck_assert_int_eq(money("12.340"), 1234);
	ck_assert_int_eq(money("-5.00"), -500);
	ck_assert_int_eq(money("$1,234.56"), 123456);
	ck_assert_int_eq(money("-$3"), -300);
	ck_assert_int_eq(money("\xE2\x82\xAC" "9.99"), 999);
	/* 0.1 + 0.2 in cents is exact: no float was involved. */
	ck_assert_int_eq(money("0.1") + money("0.2"), money("0.3"));
}
END_TEST

START_TEST(refuses_fractions_of_cents_and_bad_grouping)
{
	const char *bad[] = {"12.345", "1,23", "1,2345", "12.", "abc", "", "$", "1.2.3", "12 34"};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		int64_t c = 7;
		ck_assert_msg(patron_parse_money(bad[i], &c) == -1, "\"%s\" is no money", bad[i]);
		ck_assert_int_eq(c, 7);
	}
	char buf[32];
	ck_assert_str_eq(patron_format_money(-123456, buf), "-1234.56");
	ck_assert_str_eq(patron_format_money(5, buf), "0.05");
}
END_TEST

START_TEST(normalizes_emails_and_phones)
{
	char out[320];
	ck_assert_int_eq(patron_normalize_email("  Ada.Lovelace@Example.COM ", out, sizeof out), 0);
	ck_assert_str_eq(out, "ada.lovelace@example.com");
	ck_assert_int_eq(patron_normalize_email("no-at-sign", out, sizeof out), -1);
	ck_assert_int_eq(patron_normalize_email("a@b@c.com", out, sizeof out), -1);
	ck_assert_int_eq(patron_normalize_email("a b@c.com", out, sizeof out), -1);
	ck_assert_int_eq(patron_normalize_email("a@localhost", out, sizeof out), -1);
	ck_assert_int_eq(patron_normalize_phone("+44 (20) 7946-0958", out, sizeof out), 0);
	ck_assert_str_eq(out, "+442079460958");
	ck_assert_int_eq(patron_normalize_phone("call me", out, sizeof out), -1);
	ck_assert_int_eq(patron_normalize_phone("123", out, sizeof out), -1);
}
END_TEST

START_TEST(reads_yes_and_no_in_their_usual_spellings)
{
	const char *yes[] = {"yes", "YES", "true", "1", "y", "Subscribed"};
	const char *no[] = {"no", "False", "0", "n", "unsubscribed"};
	int v;
	for (size_t i = 0; i < sizeof yes / sizeof *yes; i++)
		ck_assert(patron_parse_bool(yes[i], &v) == 0 && v == 1);
	for (size_t i = 0; i < sizeof no / sizeof *no; i++)
		ck_assert(patron_parse_bool(no[i], &v) == 0 && v == 0);
	ck_assert_int_eq(patron_parse_bool("maybe", &v), -1);
}
END_TEST

static patron_type infer(const char *const *values)
{
	patron_infer in;
	patron_infer_init(&in);
	for (; *values; values++)
		patron_infer_add(&in, *values, PATRON_DATE_MDY);
	return patron_infer_result(&in);
}

START_TEST(reads_durations_in_their_units)
{
	int64_t d = 0;
	ck_assert_int_eq(patron_parse_duration("30d", &d), 0);
	ck_assert_int_eq(d, 30 * 86400);
	ck_assert_int_eq(patron_parse_duration("1h", &d), 0);
	ck_assert_int_eq(d, 3600);
	ck_assert_int_eq(patron_parse_duration("2w", &d), 0);
	ck_assert_int_eq(d, 14 * 86400);
	ck_assert_int_eq(patron_parse_duration("15m", &d), 0);
	ck_assert_int_eq(d, 900);
	const char *bad[] = {"", "d", "0d", "-1d", "1", "1x", "1dd", " 1d", "1.5d",
			     "99999999999999999w"};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		ck_assert_msg(patron_parse_duration(bad[i], &d) < 0, "took \"%s\"", bad[i]);
}
END_TEST

START_TEST(infers_a_column_type_from_all_its_values)
{
	const char *ints[] = {"1", "", "-42", "7", NULL};
	const char *reals[] = {"1", "2.5", "-3e2", NULL};
	const char *dates[] = {"2024-01-05", "", "1990-12-31", NULL};
	const char *texts[] = {"1", "2", "three", NULL};
	const char *zips[] = {"02134", "10001", NULL};	/* a leading zero is text */
	const char *late[] = {"1", "2", "3", "4", "2024-01-01", NULL};
	const char *empty[] = {"", "", NULL};
	ck_assert_int_eq(infer(ints), PATRON_TYPE_INTEGER);
	ck_assert_int_eq(infer(reals), PATRON_TYPE_REAL);
	ck_assert_int_eq(infer(dates), PATRON_TYPE_DATE);
	ck_assert_int_eq(infer(texts), PATRON_TYPE_TEXT);
	ck_assert_int_eq(infer(zips), PATRON_TYPE_TEXT);
	ck_assert_int_eq(infer(late), PATRON_TYPE_TEXT);
	ck_assert_int_eq(infer(empty), PATRON_TYPE_TEXT);
	ck_assert_int_eq(patron_type_join(PATRON_TYPE_INTEGER, PATRON_TYPE_REAL), PATRON_TYPE_REAL);
	ck_assert_int_eq(patron_type_join(PATRON_TYPE_DATE, PATRON_TYPE_INTEGER), PATRON_TYPE_TEXT);
	ck_assert_int_eq(patron_type_join(PATRON_TYPE_DATE, PATRON_TYPE_DATE), PATRON_TYPE_DATE);
}
END_TEST

Suite *suite_value(void)
{
	Suite *s = suite_create("value");
	TCase *t = tcase_create("parse");
	tcase_add_test(t, reads_iso_dates_and_times_in_utc);
	tcase_add_test(t, reads_shop_export_date_forms);
	tcase_add_test(t, refuses_impossible_and_malformed_dates);
	tcase_add_test(t, formats_dates_back);
	tcase_add_test(t, reads_money_as_exact_cents);
	tcase_add_test(t, refuses_fractions_of_cents_and_bad_grouping);
	tcase_add_test(t, normalizes_emails_and_phones);
	tcase_add_test(t, reads_yes_and_no_in_their_usual_spellings);
	tcase_add_test(t, infers_a_column_type_from_all_its_values);
	tcase_add_test(t, reads_durations_in_their_units);
	suite_add_tcase(s, t);
	return s;
}
