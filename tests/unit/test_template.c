/* Templates and emails: rendering, escaping, the errors a founder sees, and
 * the MIME encodings checked against values worked out by hand (RFC 2045,
 * RFC 2047, RFC 5322). */
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "mime.h"
#include "template.h"

/* Template t of an empty folder. */
static patron_template *load_missing(patron_err *err)
{
	patron_template *t = NULL;
	return patron_template_load(scratch_new(), "t", &t, err) == 0 ? t : NULL;
}

/* Writes template t from FILES (name, content pairs) and loads it. */
static patron_template *make(patron_err *err, const char *f1, const char *c1, const char *f2,
			     const char *c2)
{
	const char *dir = scratch_new();
	scratch_file(f1, c1);
	if (f2)
		scratch_file(f2, c2);
	patron_template *t = NULL;
	return patron_template_load(dir, "t", &t, err) == 0 ? t : NULL;
}

START_TEST(renders_values_defaults_loops_and_escapes_only_html)
{
	patron_err err;
	patron_template *t = make(&err, "t.txt",
				  "Subject: Hi {{customer.first_name | \"there\"}}\n\n"
				  "Dear {{customer.first_name}},{{! a note }}\n"
				  "{{#customer.recommendations}}- {{name}} ({{customer.email}})\n"
				  "{{/customer.recommendations}}{{^vars.code}}no code{{/vars.code}}",
				  "t.html", "<p>{{customer.first_name}} & {{vars.n}}</p>");
	ck_assert_msg(t != NULL, "%s", err.msg);
	json_t *ctx = json_pack("{s:{s:s, s:s, s:[{s:s}, {s:s}]}, s:{s:f}}", "customer",
				"first_name", "<Al & Bo>", "email", "a@b", "recommendations", "name",
				"Tea", "name", "Cup", "vars", "n", 2.5);
	patron_rendered r;
	ck_assert_int_eq(patron_template_render(t, ctx, &r, &err), 0);
	ck_assert_str_eq(r.subject, "Hi <Al & Bo>");
	ck_assert_str_eq(r.text, "Dear <Al & Bo>,\n- Tea (a@b)\n- Cup (a@b)\nno code");
	ck_assert_str_eq(r.html, "<p>&lt;Al &amp; Bo&gt; & 2.50</p>");
	patron_rendered_free(&r);
	json_decref(ctx);
	patron_template_free(t);
	scratch_free();
}
END_TEST

START_TEST(a_subject_stays_one_line_whatever_a_value_holds)
{
	patron_err err;
	patron_template *t = make(&err, "t.subject", "Hi {{vars.x}}\n", "t.txt", "body");
	ck_assert_msg(t != NULL, "%s", err.msg);
	json_t *ctx = json_pack("{s:{s:s}}", "vars", "x", "a\r\nBcc: evil@example.com");
	patron_rendered r;
	ck_assert_int_eq(patron_template_render(t, ctx, &r, &err), 0);
	ck_assert_str_eq(r.subject, "Hi a  Bcc: evil@example.com");
	patron_rendered_free(&r);
	json_decref(ctx);
	patron_template_free(t);
	scratch_free();
}
END_TEST

START_TEST(one_file_with_sections)
{
	patron_err err;
	patron_template *t = make(&err, "t.tmpl",
				  "--- subject\nS {{vars.a}}\n--- text\nT\n--- html\n<i>H</i>\n",
				  NULL, NULL);
	ck_assert_msg(t != NULL, "%s", err.msg);
	json_t *ctx = json_pack("{s:{s:i}}", "vars", "a", 7);
	patron_rendered r;
	ck_assert_int_eq(patron_template_render(t, ctx, &r, &err), 0);
	ck_assert_str_eq(r.subject, "S 7");
	ck_assert_str_eq(r.text, "T\n");
	ck_assert_str_eq(r.html, "<i>H</i>\n");
	patron_rendered_free(&r);
	json_decref(ctx);
	patron_template_free(t);
	scratch_free();
}
END_TEST

START_TEST(mistakes_name_the_file_and_line)
{
	patron_err err;
	ck_assert_ptr_null(make(&err, "t.txt", "a\nb {{customer.nme}}", NULL, NULL));
	ck_assert_ptr_nonnull(strstr(err.msg, "t.txt:2: customer.nme: no such customer field"));
	scratch_free();
	ck_assert_ptr_null(make(&err, "t.txt", "{{#vars.x}}\n\nopen", NULL, NULL));
	ck_assert_ptr_nonnull(strstr(err.msg, "t.txt:1: {{#vars.x}} is never closed"));
	scratch_free();
	ck_assert_ptr_null(make(&err, "t.txt", "x {{ordr}}", NULL, NULL));
	ck_assert_ptr_nonnull(strstr(err.msg, "t.txt:1: {{ordr}}: unknown name"));
	scratch_free();
	ck_assert_ptr_null(make(&err, "t.txt", "x {{vars.a | 3}}", NULL, NULL));
	ck_assert_ptr_nonnull(strstr(err.msg, "expected a default in double quotes"));
	scratch_free();
	ck_assert_ptr_null(make(&err, "t.subject", "only a subject", NULL, NULL));
	ck_assert_ptr_nonnull(strstr(err.msg, "no body"));
	scratch_free();
	ck_assert_ptr_null(load_missing(&err));
	ck_assert_ptr_nonnull(strstr(err.msg, "no template \"t\""));
	scratch_free();

	/* missing when rendered, and missing from a send's vars */
	patron_template *t = make(&err, "t.txt", "x\n{{vars.a}} {{customer.first_name}}", NULL, NULL);
	ck_assert_msg(t != NULL, "%s", err.msg);
	json_t *vars = json_pack("{s:s}", "b", "1");
	ck_assert_int_eq(patron_template_check_vars(t, vars, &err), -1);
	ck_assert_ptr_nonnull(strstr(err.msg, "t.txt:2: the template uses {{vars.a}}"));
	json_object_set_new(vars, "a", json_string("1"));
	ck_assert_int_eq(patron_template_check_vars(t, vars, &err), 0);
	json_t *ctx = json_pack("{s:O, s:{}}", "vars", vars, "customer");
	patron_rendered r;
	ck_assert_int_eq(patron_template_render(t, ctx, &r, &err), -1);
	ck_assert_ptr_nonnull(strstr(err.msg, "t.txt:2: {{customer.first_name}} has no value here"));
	json_decref(ctx);
	json_decref(vars);
	patron_template_free(t);
	scratch_free();
}
END_TEST

START_TEST(headers_are_encoded_words_only_when_needed)
{
	patron_buf b = {0};
	patron_header_encode(&b, "Plain subject");
	ck_assert_str_eq(b.data, "Plain subject");
	patron_buf_clear(&b);
	patron_header_encode(&b, "Grüße");	/* 47 72 C3 BC C3 9F 65 */
	ck_assert_str_eq(b.data, "=?UTF-8?B?R3LDvMOfZQ==?=");
	patron_buf_clear(&b);
	/* 30 two-byte letters: cut at 45 bytes is inside none of them */
	char long_[64] = "";
	for (int i = 0; i < 30; i++)
		strcat(long_, "é");
	patron_header_encode(&b, long_);
	ck_assert_ptr_nonnull(strstr(b.data, "?=\r\n =?UTF-8?B?"));
	ck_assert_uint_le(strcspn(b.data, "\r"), 75);
	patron_buf_clear(&b);
	/* Text that looks like an encoded word is encoded, so a mail client
	 * shows it as written instead of decoding it into "Admin". */
	patron_header_encode(&b, "=?UTF-8?B?QWRtaW4=?=");
	ck_assert_str_eq(b.data, "=?UTF-8?B?PT9VVEYtOD9CP1FXUnRhVzQ9Pz0=?=");
	patron_buf_free(&b);
}
END_TEST

START_TEST(message_ids_say_nothing_of_the_rule)
{
	/* BLAKE2b with a 16-byte digest of the key, as Python's
	 * hashlib.blake2b(key, digest_size=16) gives it. */
	patron_buf b = {0};
	patron_message_id(&b, "lapsed VIPs|schedule:17|42|1", "shop.example");
	ck_assert_str_eq(b.data, "<ac53b939a706912f570bfcb97e074fac@shop.example>");
	patron_buf_free(&b);
	char addr[64];
	patron_mail_address("Shop <hi@shop.example>", addr, sizeof addr);
	ck_assert_str_eq(addr, "hi@shop.example");
}
END_TEST

START_TEST(bodies_are_quoted_printable_with_crlf_lines)
{
	patron_email e = {.from = "a@b", .to = "c@d", .subject = "S",
			  .text = "x=1 \nal\xc3\xa9\n"
				  "0123456789012345678901234567890123456789012345678901234567890123456789"
				  "0123456789",
			  .message_id = "<k@b>", .date = 0};
	size_t len;
	char *m = patron_mime_compose(&e, &len);
	ck_assert_uint_eq(strlen(m), len);
	ck_assert_ptr_nonnull(strstr(m, "Date: Thu, 01 Jan 1970 00:00:00 +0000\r\n"));
	ck_assert_ptr_nonnull(strstr(m, "Content-Type: text/plain; charset=UTF-8\r\n"));
	/* '=' escaped, the space before a line end escaped, é as two bytes, a
	 * soft break after 75 characters */
	ck_assert_ptr_nonnull(strstr(m, "\r\n\r\nx=3D1=20\r\nal=C3=A9\r\n"
					"012345678901234567890123456789012345678901234567890123456789"
					"012345678901234=\r\n56789\r\n"));
	free(m);
	e.html = "<p>h</p>";
	m = patron_mime_compose(&e, &len);
	ck_assert_ptr_nonnull(strstr(m, "Content-Type: multipart/alternative; boundary=\"=_patron_"));
	ck_assert_ptr_nonnull(strstr(m, "Content-Type: text/html; charset=UTF-8"));
	for (const char *p = m; (p = strchr(p, '\n')); p++)
		ck_assert_msg(p[-1] == '\r', "a bare LF at %ld", (long)(p - m));
	free(m);
}
END_TEST

Suite *suite_template(void)
{
	Suite *s = suite_create("template");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, renders_values_defaults_loops_and_escapes_only_html);
	tcase_add_test(tc, a_subject_stays_one_line_whatever_a_value_holds);
	tcase_add_test(tc, one_file_with_sections);
	tcase_add_test(tc, mistakes_name_the_file_and_line);
	tcase_add_test(tc, headers_are_encoded_words_only_when_needed);
	tcase_add_test(tc, message_ids_say_nothing_of_the_rule);
	tcase_add_test(tc, bodies_are_quoted_printable_with_crlf_lines);
	suite_add_tcase(s, tc);
	return s;
}
