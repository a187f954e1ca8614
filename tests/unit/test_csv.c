#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "helpers.h"

/* Reads every record of DATA into one string: fields joined by '|', records
 * by '\n' with their start line in front ("3:a|b"). */
static const char *read_all(const char *data, patron_err *err, int *rc)
{
	static char out[8192];
	patron_csv *r = patron_csv_open_mem("t.csv", data, strlen(data));
	patron_csv_record rec;
	size_t n = 0;
	out[0] = '\0';
	while ((*rc = patron_csv_next(r, &rec, err)) > 0) {
		n += (size_t)snprintf(out + n, sizeof out - n, "%ld:", rec.line);
		for (size_t i = 0; i < rec.n; i++)
			n += (size_t)snprintf(out + n, sizeof out - n, "%s%s", i ? "|" : "",
					      rec.field[i]);
		n += (size_t)snprintf(out + n, sizeof out - n, "\n");
	}
	patron_csv_close(r);
	return out;
}

static const char *ok(const char *data)
{
	patron_err err;
	int rc;
	const char *out = read_all(data, &err, &rc);
	ck_assert_msg(rc == 0, "unexpected error: %s", err.msg);
	return out;
}

START_TEST(reads_plain_records_with_their_line_numbers)
{
	ck_assert_str_eq(ok("a,b,c\n1,2,3\n"), "1:a|b|c\n2:1|2|3\n");
}
END_TEST

/* Lines without quotes are split without libcsv: they must read as the
 * lines libcsv reads (blanks around unquoted fields trimmed, a line of
 * blanks skipped), beside lines it does read, and a middle line of a
 * quoted field without quotes of its own stays in its field. */
START_TEST(unquoted_lines_read_as_libcsv_reads_them)
{
	ck_assert_str_eq(ok(" a , b\t,\tc d ,\n , \n  \n\"q\", r \r\nx,\"1\n2, 3\n4\"\n"
			    "a\tb,  c  d  \r\n"),
			 "1:a|b|c d|\n2:|\n4:q|r\n5:x|1\n2, 3\n4\n8:a\tb|c  d\n");
}
END_TEST

START_TEST(reads_quoted_fields_with_commas_quotes_and_newlines)
{
	ck_assert_str_eq(ok("name,note\n\"Smith, Ann\",\"said \"\"hi\"\"\"\n"
			    "\"Bo\",\"two\nlines\"\nx,y\n"),
			 "1:name|note\n2:Smith, Ann|said \"hi\"\n3:Bo|two\nlines\n5:x|y\n");
}
END_TEST

START_TEST(reads_crlf_line_ends)
{
	ck_assert_str_eq(ok("a,b\r\n1,2\r\n3,\"x\r\ny\"\r\n"), "1:a|b\n2:1|2\n3:3|x\r\ny\n");
}
END_TEST

START_TEST(skips_a_utf8_byte_order_mark)
{
	ck_assert_str_eq(ok("\xEF\xBB\xBFid,email\n1,a@b.co\n"), "1:id|email\n2:1|a@b.co\n");
}
END_TEST

START_TEST(keeps_empty_fields)
{
	ck_assert_str_eq(ok("a,b,c\n,,\n1,,\"\"\n"), "1:a|b|c\n2:||\n3:1||\n");
}
END_TEST

START_TEST(skips_blank_lines_and_counts_them)
{
	ck_assert_str_eq(ok("a\n\n1\n\r\n2"), "1:a\n3:1\n5:2\n");
}
END_TEST

START_TEST(reads_a_last_record_without_a_line_end)
{
	ck_assert_str_eq(ok("a,b\n1,\"2\""), "1:a|b\n2:1|2\n");
}
END_TEST

START_TEST(keeps_utf8_text)
{
	ck_assert_str_eq(ok("name\nZoë Ångström\n\"Łukasz, 北京\"\n"),
			 "1:name\n2:Zoë Ångström\n3:Łukasz, 北京\n");
}
END_TEST

START_TEST(refuses_a_quote_inside_an_unquoted_field_naming_the_line)
{
	patron_err err;
	int rc;
	read_all("a,b\n1,2\n3,ab\"c\n", &err, &rc);
	ck_assert_int_eq(rc, -1);
	ck_assert_str_eq(err.msg, "t.csv:3: malformed CSV: a quote inside an unquoted field or "
			 "text after a closing quote (RFC 4180 wants \"\" for a quote inside a "
			 "quoted field)");
}
END_TEST

START_TEST(refuses_an_unterminated_quote_naming_where_it_opened)
{
	patron_err err;
	int rc;
	read_all("a,b\n1,2\n3,\"never closed\n4,5\n", &err, &rc);
	ck_assert_int_eq(rc, -1);
	ck_assert_str_eq(err.msg, "t.csv:3: malformed CSV: the quoted field that starts here is "
			 "never closed");
}
END_TEST

START_TEST(streams_a_file_larger_than_its_buffer)
{
	/* 3 MiB crosses the 1 MiB read window; a quoted field spans a refill. */
	size_t n = 0, cap = 4 << 20;
	char *data = malloc(cap);
	n += (size_t)sprintf(data + n, "id,text\n");
	long rows = 0;
	while (n < (3u << 20)) {
		rows++;
		n += (size_t)sprintf(data + n, "%ld,\"row %ld, with\nnewline\"\n", rows, rows);
	}
	const char *path = scratch_file("big.csv", data);
	patron_err err;
	patron_csv *r = patron_csv_open(path, &err);
	ck_assert_ptr_nonnull(r);
	patron_csv_record rec;
	long seen = 0;
	ck_assert_int_eq(patron_csv_next(r, &rec, &err), 1);
	while (patron_csv_next(r, &rec, &err) == 1) {
		seen++;
		char want[64];
		snprintf(want, sizeof want, "row %ld, with\nnewline", seen);
		ck_assert_int_eq(rec.n, 2);
		ck_assert_str_eq(rec.field[1], want);
		ck_assert_int_eq(rec.line, 2 * seen);
	}
	ck_assert_int_eq(seen, rows);
	ck_assert_uint_eq(patron_csv_offset(r), n);
	patron_csv_close(r);
	free(data);
	scratch_free();
}
END_TEST

/* A file of ROWS records, every third with a quoted field over two lines
 * and every fifth with a non-ASCII byte; BAD > 0 puts a stray quote on
 * that record. */
static char *many_rows(long rows, long bad)
{
	patron_buf b = {0};
	patron_buf_adds(&b, "id,text\n");
	for (long i = 1; i <= rows; i++) {
		if (i == bad)
			patron_buf_printf(&b, "%ld,broken \"quote\n", i);
		else if (i % 3 == 0)
			patron_buf_printf(&b, "%ld,\"row %ld,\nsecond line\"\n", i, i);
		else
			patron_buf_printf(&b, "%ld,row %ld%s\n", i, i, i % 5 ? "" : " caf\xc3\xa9");
	}
	return b.data;
}

/* Every record of PATH as one string ("line:ascii:a|b" per record), read
 * ahead or not; *RC and ERR as the last call left them. */
static char *read_file_all(const char *path, int ahead, int *rc, patron_err *err)
{
	patron_csv *r = patron_csv_open(path, err);
	ck_assert_ptr_nonnull(r);
	if (ahead)
		ck_assert_int_eq(patron_csv_read_ahead(r), 0);
	patron_buf out = {0};
	patron_csv_record rec;
	while ((*rc = patron_csv_next(r, &rec, err)) > 0) {
		patron_buf_printf(&out, "%ld:%d:", rec.line, rec.ascii);
		for (size_t i = 0; i < rec.n; i++)
			patron_buf_printf(&out, "%s%s", i ? "|" : "", rec.field[i]);
		patron_buf_adds(&out, "\n");
	}
	/* the end (or the error) stays where it is */
	patron_err again;
	ck_assert_int_eq(patron_csv_next(r, &rec, &again), *rc);
	if (*rc == 0)
		ck_assert_uint_eq(patron_csv_offset(r), patron_csv_size(r));
	patron_csv_close(r);
	return out.data;
}

START_TEST(reading_ahead_gives_the_same_records_lines_and_end)
{
	/* 30,000 records: several of the thread's blocks, and quoted fields
	 * over two lines on the blocks' edges */
	char *data = many_rows(30000, 0);
	const char *path = scratch_file("many.csv", data);
	patron_err e1, e2;
	int rc1, rc2;
	char *here = read_file_all(path, 0, &rc1, &e1);
	char *ahead = read_file_all(path, 1, &rc2, &e2);
	ck_assert_int_eq(rc1, 0);
	ck_assert_int_eq(rc2, 0);
	ck_assert_uint_gt(strlen(here), 30000 * 10);
	ck_assert(strcmp(here, ahead) == 0);
	ck_assert_ptr_nonnull(strstr(ahead, "\n39996:1:29997|row 29997,\nsecond line\n"));
	free(here), free(ahead), free(data);
	scratch_free();
}
END_TEST

START_TEST(reading_ahead_gives_the_records_before_an_error_then_the_error)
{
	char *data = many_rows(20000, 17001);
	const char *path = scratch_file("bad.csv", data);
	patron_err e1, e2;
	int rc1, rc2;
	char *here = read_file_all(path, 0, &rc1, &e1);
	char *ahead = read_file_all(path, 1, &rc2, &e2);
	ck_assert_int_eq(rc1, -1);
	ck_assert_int_eq(rc2, -1);
	ck_assert_str_eq(e1.msg, e2.msg);
	ck_assert_ptr_nonnull(strstr(e2.msg, ":22668: malformed CSV"));
	ck_assert(strcmp(here, ahead) == 0);
	ck_assert_ptr_nonnull(strstr(ahead, "\n22666:1:16999|row 16999\n"));
	free(here), free(ahead), free(data);
	scratch_free();
}
END_TEST

START_TEST(a_reader_reading_ahead_closes_part_way_through)
{
	char *data = many_rows(50000, 0);
	const char *path = scratch_file("many.csv", data);
	patron_err err;
	patron_csv *r = patron_csv_open(path, &err);
	ck_assert_int_eq(patron_csv_read_ahead(r), 0);
	patron_csv_record rec;
	for (int i = 0; i < 5; i++)
		ck_assert_int_eq(patron_csv_next(r, &rec, &err), 1);
	ck_assert_str_eq(rec.field[1], "row 4");
	patron_csv_close(r);	/* with the thread waiting for room: it stops */
	free(data);
	scratch_free();
}
END_TEST

START_TEST(names_a_missing_file)
{
	patron_err err;
	ck_assert_ptr_null(patron_csv_open("/nonexistent/x.csv", &err));
	ck_assert_str_eq(err.msg, "/nonexistent/x.csv: cannot open: No such file or directory");
}
END_TEST

Suite *suite_csv(void)
{
	Suite *s = suite_create("csv");
	TCase *t = tcase_create("reader");
	tcase_add_test(t, reads_plain_records_with_their_line_numbers);
	tcase_add_test(t, unquoted_lines_read_as_libcsv_reads_them);
	tcase_add_test(t, reads_quoted_fields_with_commas_quotes_and_newlines);
	tcase_add_test(t, reads_crlf_line_ends);
	tcase_add_test(t, skips_a_utf8_byte_order_mark);
	tcase_add_test(t, keeps_empty_fields);
	tcase_add_test(t, skips_blank_lines_and_counts_them);
	tcase_add_test(t, reads_a_last_record_without_a_line_end);
	tcase_add_test(t, keeps_utf8_text);
	tcase_add_test(t, refuses_a_quote_inside_an_unquoted_field_naming_the_line);
	tcase_add_test(t, refuses_an_unterminated_quote_naming_where_it_opened);
	tcase_add_test(t, streams_a_file_larger_than_its_buffer);
	tcase_add_test(t, reading_ahead_gives_the_same_records_lines_and_end);
	tcase_add_test(t, reading_ahead_gives_the_records_before_an_error_then_the_error);
	tcase_add_test(t, a_reader_reading_ahead_closes_part_way_through);
	tcase_add_test(t, names_a_missing_file);
	suite_add_tcase(s, t);
	return s;
}
