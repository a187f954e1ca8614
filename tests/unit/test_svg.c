/* The report's charts: round ticks, escaped text, and no NaN, infinity or
 * negative size in what a browser is asked to draw, whatever the data:
 * no point, one point, gaps, huge values. */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "report/svg.h"

/* Fails when the SVG holds nan or inf, a negative width, height or radius,
 * or unbalanced tags. */
static void check_drawable(const patron_buf *b)
{
	ck_assert_msg(b->len > 0, "nothing written");
	const char *s = b->data;
	ck_assert_msg(!strstr(s, "nan") && !strstr(s, "inf"), "%s", s);
	static const char *const sizes[] = {"width=\"-", "height=\"-", " r=\"-", NULL};
	for (int i = 0; sizes[i]; i++)
		ck_assert_msg(!strstr(s, sizes[i]), "%s in %s", sizes[i], s);
	/* every <svg, <text, <path opened is closed */
	int depth = 0;
	for (const char *p = s; (p = strchr(p, '<')); p++) {
		if (p[1] == '/')
			depth--;
		else if (!strchr(p, '>') || *(strchr(p, '>') - 1) != '/')
			depth++;
	}
	ck_assert_int_eq(depth, 0);
	ck_assert(strncmp(s, "<svg ", 5) == 0 && strstr(s, "</svg>"));
}

START_TEST(axis_steps_are_round_numbers)
{
	ck_assert(fabs(patron_svg_step(0, 8000, 5) - 2000) < 1e-9);
	ck_assert(fabs(patron_svg_step(0, 7, 5) - 2) < 1e-9);
	ck_assert(fabs(patron_svg_step(0, 1, 5) - 0.2) < 1e-9);
	ck_assert(fabs(patron_svg_step(0, 1e12, 5) - 2e11) < 1);
	ck_assert(fabs(patron_svg_step(3, 3, 5) - 1) < 1e-9);	/* no span: a step of one */
	char t[32];
	patron_svg_number(t, sizeof t, 12500);
	ck_assert_str_eq(t, "12.5k");
	patron_svg_number(t, sizeof t, 3.2e6);
	ck_assert_str_eq(t, "3.2M");
	patron_svg_number(t, sizeof t, 950);
	ck_assert_str_eq(t, "950");
}
END_TEST

START_TEST(text_is_escaped)
{
	patron_buf b = {0};
	patron_xml_text(&b, "<script>\"a\" & 'b'</script>\x01");
	ck_assert_str_eq(b.data, "&lt;script&gt;&quot;a&quot; &amp; &#39;b&#39;&lt;/script&gt; ");
	patron_buf_free(&b);
	const char *labels[] = {"<b>", "x&y"};
	double y[2] = {1, 2};
	patron_svg_series s = {"a<b", y, NULL, NULL, 0};
	patron_buf c = {0};
	patron_svg_lines(&c, "Title & <more>", labels, 2, &s, 1, "u<");
	ck_assert(!strstr(c.data, "<b>") && strstr(c.data, "&lt;b&gt;"));
	ck_assert(strstr(c.data, "Title &amp; &lt;more&gt;"));
	check_drawable(&c);
	patron_buf_free(&c);
}
END_TEST

START_TEST(charts_with_no_one_or_gapped_points_are_drawable)
{
	const char *labels[4] = {"a", "b", "c", "d"};
	double none[1] = {NAN}, one[1] = {42}, gaps[4] = {1, NAN, 3, NAN};
	double huge[4] = {1e15, 2e15, INFINITY, -1e15};
	double lo[4] = {0, NAN, 2, NAN}, hi[4] = {2, NAN, 4, NAN};
	struct {
		const double *y;
		size_t n;
	} cases[] = {{none, 0}, {none, 1}, {one, 1}, {gaps, 4}, {huge, 4}};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		patron_svg_series s[2] = {{"x", cases[i].y, NULL, NULL, 0},
					  {"band", cases[i].y, cases[i].n == 4 ? lo : NULL,
					   cases[i].n == 4 ? hi : NULL, 1}};
		patron_buf b = {0};
		patron_svg_lines(&b, "t", labels, cases[i].n, s, 2, "u");
		check_drawable(&b);
		/* one point, or a point between gaps, is drawn as a dot */
		if (cases[i].y == one || cases[i].y == gaps)
			ck_assert_msg(strstr(b.data, "<circle"), "case %zu", i);
		patron_buf_free(&b);
	}
	double cells[4] = {0, NAN, 5, 1e9};
	const char *rows[2] = {"r1", "r2"}, *cols[2] = {"c1", "c2"};
	patron_buf b = {0};
	patron_svg_heatmap(&b, "h", cells, 2, 2, rows, cols, "%.0f", "rows", "cols");
	check_drawable(&b);
	ck_assert_int_eq((int)(strstr(b.data, "<rect") != NULL), 1);
	patron_buf_free(&b);
	double counts[5] = {0, 3, NAN, 1e12, 2};
	b = (patron_buf){0};
	patron_svg_histogram(&b, "h", counts, 5, 0, 1, 0.7, "alert", "x");
	check_drawable(&b);
	ck_assert(strstr(b.data, "alert"));
	patron_buf_free(&b);
	b = (patron_buf){0};
	patron_svg_histogram(&b, "empty", counts, 0, 0, 1, NAN, NULL, NULL);
	check_drawable(&b);
	patron_buf_free(&b);
}
END_TEST

Suite *suite_svg(void)
{
	Suite *s = suite_create("svg");
	TCase *t = tcase_create("svg");
	tcase_add_test(t, axis_steps_are_round_numbers);
	tcase_add_test(t, text_is_escaped);
	tcase_add_test(t, charts_with_no_one_or_gapped_points_are_drawable);
	suite_add_tcase(s, t);
	return s;
}
