/* Customers' emails as they arrive: MIME shapes, encodings and charsets,
 * dates, the reply without what it quotes, and mail that is broken. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../../core/inbox/entities.h"
#include "../../core/inbox/faq.h"
#include "../../core/inbox/mail.h"
#include "helpers.h"

static patron_mail parse(const char *s)
{
	patron_mail m;
	patron_mail_parse(s, strlen(s), &m);
	return m;
}

static const char *decode(const char *s)
{
	static char out[512];
	patron_buf b = {0};
	patron_mail_decode_header(s, strlen(s), &b);
	snprintf(out, sizeof out, "%s", b.data);
	patron_buf_free(&b);
	return out;
}

START_TEST(encoded_headers_are_decoded_in_any_charset)
{
	/* RFC 2047's own examples: space between encoded words is not text */
	ck_assert_str_eq(decode("=?ISO-8859-1?Q?a?= =?ISO-8859-1?Q?b?="), "ab");
	ck_assert_str_eq(decode("=?ISO-8859-1?Q?a?= b"), "a b");
	ck_assert_str_eq(decode("a =?ISO-8859-1?Q?b?="), "a b");
	ck_assert_str_eq(decode("=?ISO-8859-1?Q?a_b?="), "a b");
	ck_assert_str_eq(decode("=?iso-8859-1?q?this=20is=20some=20text?="), "this is some text");
	/* base64 UTF-8, a character split between two words */
	ck_assert_str_eq(decode("=?UTF-8?B?V2hlcmUgaXMgbXkgb3JkZXIg?= =?UTF-8?B?IzEwNDI/?="),
			 "Where is my order #1042?");
	ck_assert_str_eq(decode("=?UTF-8?B?Q2Fmw6k=?="), "Café");
	ck_assert_str_eq(decode("=?utf-8?B?w6k=?= =?utf-8?B?w6k=?="), "éé");
	ck_assert_str_eq(decode("=?UTF-8?B?ww==?= =?UTF-8?B?qQ==?="), "é");
	/* a charset iconv knows, and the language tail of RFC 2231 */
	ck_assert_str_eq(decode("=?GB2312?B?zsrM4g==?="), "问题");
	ck_assert_str_eq(decode("=?ISO-8859-1*fr?Q?tr=E8s?="), "très");
	/* 8-bit bytes sent raw: UTF-8 stays, anything else is read as Windows-1252 */
	ck_assert_str_eq(decode("Caf\xc3\xa9"), "Café");
	ck_assert_str_eq(decode("Caf\xe9 \x80"), "Café €");
	/* not encoded words: left as they are */
	ck_assert_str_eq(decode("=?broken"), "=?broken");
	ck_assert_str_eq(decode("=?UTF-8?X?abc?="), "=?UTF-8?X?abc?=");
}
END_TEST

START_TEST(dates_of_every_shape_read_as_unix_seconds)
{
	/* the values from Python's email.utils on the same strings */
	ck_assert_int_eq(patron_mail_date("Sun, 30 Nov 2025 11:53:20 +0100"), 1764500000);
	ck_assert_int_eq(patron_mail_date("30 Nov 2025 16:00 -0500"), 1764536400);
	ck_assert_int_eq(patron_mail_date("Mon, 1 Dec 25 09:00:00 EST"), 1764597600);
	ck_assert_int_eq(patron_mail_date("Tue Nov 30 14:07:34 2026"), 1796047654);
	ck_assert_int_eq(patron_mail_date("Sun, 30 Nov 2025 10:53:20 GMT (UTC)"), 1764500000);
	ck_assert_int_eq(patron_mail_date("Sun,30 Nov 2025 10:53:20"), 1764500000);
	ck_assert_int_eq(patron_mail_date("yesterday"), -1);
	ck_assert_int_eq(patron_mail_date("32 Nov 2025 10:00:00 +0000"), -1);
	ck_assert_int_eq(patron_mail_date("30 Foo 2025 10:00:00 +0000"), -1);
	ck_assert_int_eq(patron_mail_date(""), -1);
	ck_assert_int_eq(patron_mail_date("Nov 30 1"), -1);	/* ends early: found by fuzzing */
}
END_TEST

START_TEST(plain_text_is_preferred_in_multipart_alternative)
{
	patron_mail m = parse("From: =?UTF-8?Q?Ad=C3=A1_Lovelace?= <Ada@Example.com>\r\n"
			      "Subject: Where is\r\n my order?\r\n"
			      "Message-ID: <CAF1@mail.gmail.com>\r\n"
			      "Date: Sun, 30 Nov 2025 11:53:20 +0100\r\n"
			      "MIME-Version: 1.0\r\n"
			      "Content-Type: multipart/alternative; boundary=\"000abc\"\r\n"
			      "\r\n"
			      "preamble, not text\r\n"
			      "--000abc\r\n"
			      "Content-Type: text/plain; charset=\"UTF-8\"\r\n"
			      "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
			      "It has not arrived. I am =\r\nvery disappointed!\r\n"
			      "\r\n--000abc\r\n"
			      "Content-Type: text/html; charset=\"UTF-8\"\r\n\r\n"
			      "<div>HTML version</div>\r\n"
			      "--000abc--\r\n"
			      "epilogue, not text\r\n");
	ck_assert_str_eq(m.from_addr, "Ada@Example.com");
	ck_assert_str_eq(m.from_name, "Adá Lovelace");
	ck_assert_str_eq(m.subject, "Where is my order?");
	ck_assert_str_eq(m.message_id, "<CAF1@mail.gmail.com>");
	ck_assert_int_eq(m.date, 1764500000);
	ck_assert_str_eq(m.text, "It has not arrived. I am very disappointed!");
	ck_assert_int_eq(m.attachments, 0);
	ck_assert_ptr_null(m.automatic);
	patron_mail_free(&m);
}
END_TEST

START_TEST(html_only_mail_becomes_text_and_files_are_left_out)
{
	/* Outlook-style: HTML in base64 (GB2312), a PDF attached */
	patron_mail m = parse(
		"From: \"Chen, Li\" <li@example.cn>\n"
		"Subject: =?GB2312?B?zsrM4g==?=\n"
		"Content-Type: multipart/mixed; boundary=XYZ\n\n"
		"--XYZ\n"
		"Content-Type: text/html; charset=gb2312\n"
		"Content-Transfer-Encoding: base64\n\n"
		"PGh0bWw+PGhlYWQ+PHN0eWxlPnB7fTwvc3R5bGU+PC9oZWFkPjxib2R5PjxwPsTjusMmYW1wOzwv\n"
		"cD48c2NyaXB0PmFsZXJ0KDEpPC9zY3JpcHQ+PC9ib2R5PjwvaHRtbD4=\n"
		"--XYZ\n"
		"Content-Type: application/pdf; name=\"invoice.pdf\"\n"
		"Content-Disposition: attachment; filename=\"invoice.pdf\"\n"
		"Content-Transfer-Encoding: base64\n\n"
		"JVBERi0xLjQK\n"
		"--XYZ\n"
		"Content-Type: text/plain; name=\"notes.txt\"\n"
		"Content-Disposition: attachment; filename=\"notes.txt\"\n\n"
		"an attached text file is a file, not the message\n"
		"--XYZ--\n");
	ck_assert_str_eq(m.from_name, "Chen, Li");
	ck_assert_str_eq(m.subject, "问题");
	ck_assert_str_eq(m.text, "你好&");	/* style and script left out, &amp; decoded */
	ck_assert_int_eq(m.attachments, 2);
	patron_mail_free(&m);

	/* blockquotes are the quoted message: the reply leaves them out */
	m = parse("From: a@b.example\nContent-Type: text/html\n\n"
		  "<p>Yes&nbsp;please &lt;3 &#233;&#x20AC;</p><div>On Mon, Bob wrote:</div>"
		  "<blockquote><p>Do you want it?</p></blockquote>");
	ck_assert_str_eq(m.text, "Yes please <3 é€\nOn Mon, Bob wrote:\n> Do you want it?");
	ck_assert_str_eq(m.reply, "Yes please <3 é€");
	patron_mail_free(&m);
}
END_TEST

START_TEST(latin1_and_unlabelled_bodies_become_utf8)
{
	patron_mail m = parse("From: x@y.example\nContent-Type: text/plain; charset=iso-8859-1\n"
			      "Content-Transfer-Encoding: quoted-printable\n\nTr=E8s bien =80=\n");
	ck_assert_str_eq(m.text, "Très bien €");
	patron_mail_free(&m);
	/* no MIME at all, 8-bit bytes that are not UTF-8 */
	m = parse("From: x@y.example\n\nna\xefve caf\xe9\n");
	ck_assert_str_eq(m.text, "naïve café");
	patron_mail_free(&m);
	/* a charset nobody knows: read as UTF-8 when it is */
	m = parse("From: x@y.example\nContent-Type: text/plain; charset=x-made-up\n\n"
		  "\xc3\xa9t\xc3\xa9\n");
	ck_assert_str_eq(m.text, "été");
	patron_mail_free(&m);
}
END_TEST

START_TEST(the_reply_leaves_out_what_it_quotes)
{
	static const struct {
		const char *text, *reply;
	} cases[] = {
		/* Gmail */
		{"Thanks, it arrived.\n\nOn Sun, Nov 30, 2025 at 2:00 PM Shop <h@s.example> "
		 "wrote:\n> It left yesterday.\n", "Thanks, it arrived."},
		/* the attribution wrapped over two lines */
		{"Great\n\nOn Sun, Nov 30, 2025 at 2:00 PM Shop Help <help@shop.example>\n"
		 "wrote:\n\n> quoted\n", "Great"},
		/* Outlook */
		{"Please cancel it.\n\n________________________________\nFrom: Shop\nSent: Monday\n"
		 "To: me\nSubject: Your order\n\nYour order shipped.\n", "Please cancel it."},
		{"Please cancel.\r\n\r\nFrom: Shop <h@s.example>\r\nSent: Monday, 1 December 2025\r\n"
		 "To: me\r\n", "Please cancel."},
		{"See below\n-----Original Message-----\nFrom: Shop\n", "See below"},
		/* French, interleaved quoting, a signature, a phone's footer */
		{"> Do you ship to Lyon?\nYes please.\n> And Paris?\nAlso.\n\n-- \nMarie\n",
		 "Yes please.\nAlso."},
		{"Merci !\n\nLe lun. 1 déc. 2025 à 10:00, Shop <h@s.example> a écrit :\n> Bonjour\n",
		 "Merci !"},
		{"Where is it?\n\nSent from my iPhone\n", "Where is it?"},
		/* everything quoted (a forward): the whole text stays */
		{"> forwarded line\n> another\n", "> forwarded line\n> another"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		patron_buf b = {0};
		patron_mail_reply_text(cases[i].text, &b);
		ck_assert_msg(strcmp(b.data, cases[i].reply) == 0, "case %zu: got \"%s\"", i, b.data);
		patron_buf_free(&b);
	}
}
END_TEST

START_TEST(threads_are_found_by_ids_and_subjects)
{
	patron_mail m = parse("From: Ada <ada@example.com>\n"
			      "Message-ID: <a2@x>\n"
			      "In-Reply-To: <s1@shop.example> (from the shop)\n"
			      "References: <a1@x>\n <s1@shop.example>\n"
			      "Subject: RE: Re[2]: [Shop] Fwd: Where is  my order\n\nok\n");
	ck_assert_str_eq(m.in_reply_to, "<s1@shop.example>");
	ck_assert_str_eq(m.references, "<a1@x> <s1@shop.example>");
	char base[100];
	patron_mail_base_subject(m.subject, base, sizeof base);
	ck_assert_str_eq(base, "where is my order");
	patron_mail_free(&m);
	/* a Message-ID without brackets, and none at all */
	m = parse("From: a@b.example\nMessage-ID: abc@host\n\nx");
	ck_assert_str_eq(m.message_id, "<abc@host>");
	patron_mail_free(&m);
	m = parse("From: a@b.example\n\nx");
	ck_assert_ptr_null(m.message_id);
	ck_assert_str_eq(m.subject, "");
	patron_mail_free(&m);
	/* a From without an address: the Reply-To's, with its own name */
	m = parse("From: \"Shop Form\" <>\nReply-To: Zoe <zoe@example.com>\n\nx");
	ck_assert_str_eq(m.from_addr, "zoe@example.com");
	ck_assert_str_eq(m.from_name, "Zoe");
	patron_mail_free(&m);
	/* an address in Latin-1 bytes comes out as UTF-8 */
	m = parse("From: caf\xe9@example.com\n\nx");
	ck_assert_str_eq(m.from_addr, "café@example.com");
	patron_mail_free(&m);
	/* an address in the older form "a@b (Name)" */
	m = parse("From: bob@example.org (Bob Smith)\n\nx");
	ck_assert_str_eq(m.from_addr, "bob@example.org");
	ck_assert_str_eq(m.from_name, "Bob Smith");
	patron_mail_free(&m);
}
END_TEST

START_TEST(automatic_messages_are_told_apart)
{
	static const struct {
		const char *mail, *why;
	} cases[] = {
		{"From: a@b.example\nAuto-Submitted: auto-replied\n\nAway", "Auto-Submitted"},
		{"From: a@b.example\nAuto-Submitted: no\n\nHello", NULL},
		{"From: a@b.example\nPrecedence: bulk\n\nNews", "Precedence"},
		{"From: a@b.example\nList-Id: <news.b.example>\n\nNews", "List-Id"},
		{"From: MAILER-DAEMON@mx.example\n\nUndeliverable", "From"},
		{"From: x@mx.example\nContent-Type: multipart/report; report-type=delivery-status;"
		 " boundary=b\n\n--b\nContent-Type: text/plain\n\nfailed\n--b--\n", "multipart/report"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		patron_mail m = parse(cases[i].mail);
		if (cases[i].why)
			ck_assert_str_eq(m.automatic, cases[i].why);
		else
			ck_assert_ptr_null(m.automatic);
		patron_mail_free(&m);
	}
}
END_TEST

START_TEST(broken_mail_is_read_as_far_as_it_goes)
{
	/* the closing boundary missing: the last part runs to the end */
	patron_mail m = parse("From: a@b.example\nContent-Type: multipart/mixed; boundary=q\n\n"
			      "--q\nContent-Type: text/plain\n\nstill here\n");
	ck_assert_str_eq(m.text, "still here");
	patron_mail_free(&m);
	/* a multipart without a boundary: its body is the text */
	m = parse("From: a@b.example\nContent-Type: multipart/mixed\n\nplain after all\n");
	ck_assert_str_eq(m.text, "plain after all");
	patron_mail_free(&m);
	/* bad base64, a bad escape, headers only, no From, nothing at all */
	m = parse("From: a@b.example\nContent-Transfer-Encoding: base64\n\n@@SGk=!!\n");
	ck_assert_str_eq(m.text, "Hi");
	patron_mail_free(&m);
	m = parse("From: a@b.example\nContent-Transfer-Encoding: quoted-printable\n\n100%=ZZ =\n");
	ck_assert_str_eq(m.text, "100%=ZZ");
	patron_mail_free(&m);
	m = parse("From: a@b.example\nSubject: only headers");
	ck_assert_str_eq(m.text, "");
	patron_mail_free(&m);
	m = parse("Subject: who?\n\nbody");
	ck_assert_ptr_null(m.from_addr);
	patron_mail_free(&m);
	m = parse("");
	ck_assert_ptr_null(m.from_addr);
	patron_mail_free(&m);
	/* multiparts nested far deeper than any mail program writes */
	patron_buf deep = {0};
	patron_buf_adds(&deep, "From: a@b.example\n");
	for (int i = 0; i < 500; i++)
		patron_buf_printf(&deep, "Content-Type: multipart/mixed; boundary=b%d\n\n--b%d\n", i, i);
	patron_buf_adds(&deep, "Content-Type: text/plain\n\ntoo deep\n");
	m = parse(deep.data);
	ck_assert_str_eq(m.from_addr, "a@b.example");
	patron_mail_free(&m);
	patron_buf_free(&deep);
}
END_TEST

START_TEST(a_twenty_megabyte_message_is_read)
{
	/* a photo of 15 MB in base64 beside a short question */
	patron_buf b = {0};
	patron_buf_adds(&b, "From: a@b.example\nSubject: photo\nContent-Type: multipart/mixed; "
			"boundary=zz\n\n--zz\nContent-Type: text/plain\n\nIs it broken?\n--zz\n"
			"Content-Type: image/jpeg\nContent-Transfer-Encoding: base64\n\n");
	while (b.len < 20u << 20)
		patron_buf_adds(&b, "/9j/4AAQSkZJRgABAQEASABIAAD/2wBDAAMCAgMCAgMDAwMEAwMEBQgFBQQEBQoH"
				"BwYIDAoMDAsKCwsNDhIQDQ4RDgsLEBYQERMUFRUVDA8XGBYUGBIUFRT/2wBD\n");
	patron_buf_adds(&b, "--zz--\n");
	patron_mail m;
	patron_mail_parse(b.data, b.len, &m);
	ck_assert_str_eq(m.text, "Is it broken?");
	ck_assert_int_eq(m.attachments, 1);
	patron_mail_free(&m);
	patron_buf_free(&b);
}
END_TEST

/* a.value for the entity of KIND number K (0-based), or "" */
static const char *ent(const patron_entity *e, size_t n, const char *kind, size_t k, int64_t *id)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(e[i].kind, kind) == 0 && k-- == 0) {
			if (id)
				*id = e[i].id;
			return e[i].value;
		}
	return "";
}

START_TEST(entities_name_the_senders_orders_and_what_else_they_say)
{
	patron_store *s = test_store();
	patron_err err;
	ck_assert_int_eq(patron_store_exec(s,
		"INSERT INTO customers VALUES (1, 'Ada', NULL, 0, 0), (2, 'Bob', NULL, 0, 0);"
		"INSERT INTO products VALUES (7, 'TEA-01', 'Blue Teapot', NULL, NULL, 0),"
		" (8, 'MUG-7', 'Mug', NULL, NULL, 0);"
		"INSERT INTO orders(id, source, order_key, customer_id, placed_at, total_cents,"
		" amount_cents, gross_cents, status, revenue) VALUES"
		" (3, 'shopify', '#1042', 1, 100, 4500, 4500, 4500, 'paid', 1),"
		" (4, 'woocommerce', '1043', 2, 100, 2400, 2400, 2400, 'paid', 1),"
		" (5, 'stripe', 'ch_3Nx9', 1, 100, 900, 900, 900, 'paid', 1);", &err), 0);
	patron_catalogue *cat = patron_catalogue_load(s);
	patron_entity e[16];
	int64_t id = -1;
	size_t n = patron_entities(s, cat, 1,
		"Where is order #1042? I paid $45.00 on Nov 20th for the blue teapot. "
		"Tracking 1Z999AA10123456784 says nothing since 28 November. Is my order 1043 "
		"there (no: that is Bob's), or order no. 1042, or ch_3Nx9? Refund 12,50 EUR "
		"or 40 euros, or RR123456785GB. I want to order 2 mugs.", TEST_NOW, e, 16);
	ck_assert_str_eq(ent(e, n, "order", 0, &id), "#1042");
	ck_assert_int_eq(id, 3);	/* Ada's */
	ck_assert_str_eq(ent(e, n, "order", 1, &id), "1043");
	ck_assert_int_eq(id, 0);	/* Bob's: not tied to Ada's message */
	ck_assert_str_eq(ent(e, n, "order", 2, &id), "1042");
	ck_assert_int_eq(id, 3);
	ck_assert_str_eq(ent(e, n, "order", 3, &id), "ch_3Nx9");
	ck_assert_int_eq(id, 5);
	ck_assert_str_eq(ent(e, n, "order", 4, NULL), "");	/* "order 2 mugs" is no order */
	ck_assert_str_eq(ent(e, n, "amount", 0, NULL), "45.00 USD");
	ck_assert_str_eq(ent(e, n, "amount", 1, NULL), "12.50 EUR");
	ck_assert_str_eq(ent(e, n, "amount", 2, NULL), "40.00 EUR");
	/* 2026-11-23 is now: November 20 and 28 without a year are this year's
	 * 20th and last year's 28th */
	ck_assert_str_eq(ent(e, n, "date", 0, NULL), "2026-11-20");
	ck_assert_str_eq(ent(e, n, "date", 1, NULL), "2025-11-28");
	ck_assert_str_eq(ent(e, n, "tracking", 0, NULL), "1Z999AA10123456784");
	ck_assert_str_eq(ent(e, n, "tracking", 1, NULL), "RR123456785GB");
	ck_assert_str_eq(ent(e, n, "product", 0, &id), "TEA-01");	/* by its name */
	ck_assert_int_eq(id, 7);
	ck_assert_str_eq(ent(e, n, "product", 1, NULL), "");	/* the name "Mug" is not "mugs" */
	n = patron_entities(s, cat, 1, "Is the mug-7 dishwasher safe?", TEST_NOW, e, 16);
	ck_assert_str_eq(ent(e, n, "product", 0, &id), "MUG-7");	/* by its SKU, any case */
	ck_assert_int_eq(id, 8);
	/* nobody: no order is tied; a ten-digit number is tracking only when
	 * the message speaks of tracking */
	n = patron_entities(s, cat, 0, "Call me at 0612345678 about #1042", TEST_NOW, e, 16);
	ck_assert_str_eq(ent(e, n, "order", 0, &id), "#1042");
	ck_assert_int_eq(id, 0);
	ck_assert_str_eq(ent(e, n, "tracking", 0, NULL), "");
	n = patron_entities(s, cat, 0, "my tracking number is 0612345678", TEST_NOW, e, 16);
	ck_assert_str_eq(ent(e, n, "tracking", 0, NULL), "0612345678");
	patron_catalogue_free(cat);
	patron_store_close(s);
}
END_TEST

START_TEST(faq_answers_are_ranked_by_bm25_worked_out_by_hand)
{
	char dir[4096];
	snprintf(dir, sizeof dir, "%s/faq", scratch_new());
	ck_assert_int_eq(mkdir(dir, 0700), 0);
	scratch_file("faq/shipping.md", "# How long does shipping take?\n- delivery time\n\n"
					"Three to five days, {{first_name}}.\nOrder {{order}}: {{ order_status }}.\n");
	scratch_file("faq/returns.md", "# How do I return an item?\n\nWithin 30 days.\n");
	patron_faq *f;
	patron_err err;
	ck_assert_int_eq(patron_faq_load(dir, &f, &err), 0);
	ck_assert_uint_eq(patron_faq_size(f), 2);
	ck_assert_str_eq(patron_faq_name(f, 0), "returns");
	ck_assert_str_eq(patron_faq_answer(f, 0), "Within 30 days.");
	/* 2 entries of 6 and 7 words (avgdl 6.5); "shipping" and "time" are in
	 * one entry each: idf ln(1 + 1.5 / 1.5) = ln 2, and in shipping (7
	 * words) each adds ln 2 x 2.2 / (1 + 1.2 (0.25 + 0.75 x 7 / 6.5)) */
	patron_faq_hit h[3];
	size_t n = patron_faq_search(f, "Shipping time, please?", h, 3);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(patron_faq_name(f, h[0].entry), "shipping");
	ck_assert(fabs(h[0].score - 1.3440006348484366) < 1e-12);
	/* "how" is in both, idf ln 1.2; the shorter entry ranks first */
	n = patron_faq_search(f, "how how how", h, 3);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(patron_faq_name(f, h[0].entry), "returns");
	ck_assert(fabs(h[0].score - 0.188245361888343) < 1e-12);
	ck_assert(fabs(h[1].score - 0.17675920421380006) < 1e-12);
	ck_assert_uint_eq(patron_faq_search(f, "bonjour", h, 3), 0);
	/* the answer filled in */
	patron_buf b = {0};
	const char *vars[] = {"first_name", "Ada", "order", "#1042", NULL};
	patron_faq_fill(patron_faq_answer(f, 1), vars, &b);
	ck_assert_str_eq(b.data, "Three to five days, Ada.\nOrder #1042: .");
	patron_buf_clear(&b);
	const char *none[] = {"first_name", "", NULL};
	patron_faq_fill("Hi {{first_name | \"there\"}}, {{ x|y }}!", none, &b);
	ck_assert_str_eq(b.data, "Hi there, y!");
	patron_buf_free(&b);
	patron_faq_free(f);
	/* no folder: no answers; a file without its question: named */
	ck_assert_int_eq(patron_faq_load("/nonexistent/faq", &f, &err), 0);
	ck_assert_uint_eq(patron_faq_size(f), 0);
	patron_faq_free(f);
	scratch_file("faq/zz.md", "Just an answer\n");
	ck_assert_int_eq(patron_faq_load(dir, &f, &err), -1);
	ck_assert_msg(strstr(err.msg, "zz.md:1: expected the question") != NULL, "%s", err.msg);
	scratch_free();
}
END_TEST

Suite *suite_mail(void)
{
	Suite *s = suite_create("mail");
	TCase *t = tcase_create("mail");
	tcase_add_test(t, encoded_headers_are_decoded_in_any_charset);
	tcase_add_test(t, dates_of_every_shape_read_as_unix_seconds);
	tcase_add_test(t, plain_text_is_preferred_in_multipart_alternative);
	tcase_add_test(t, html_only_mail_becomes_text_and_files_are_left_out);
	tcase_add_test(t, latin1_and_unlabelled_bodies_become_utf8);
	tcase_add_test(t, the_reply_leaves_out_what_it_quotes);
	tcase_add_test(t, threads_are_found_by_ids_and_subjects);
	tcase_add_test(t, automatic_messages_are_told_apart);
	tcase_add_test(t, broken_mail_is_read_as_far_as_it_goes);
	tcase_add_test(t, a_twenty_megabyte_message_is_read);
	tcase_add_test(t, entities_name_the_senders_orders_and_what_else_they_say);
	tcase_add_test(t, faq_answers_are_ranked_by_bm25_worked_out_by_hand);
	suite_add_tcase(s, t);
	return s;
}
