/* Orders: money (refunds, cancellations, disputes), currencies and their
 * conversion, guest orders, and orders a later file changes. Every figure
 * is worked out by hand from the rows in the test. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"

static patron_import_stats st;
static patron_err err;

static void must_import(patron_store *s, const char *name, const char *csv)
{
	ck_assert_msg(import_as(s, scratch_file(name, csv), PATRON_IMPORT_ORDERS, &st, &err) == 0,
		      "%s", err.msg);
}

static const char *head = "order_id,email,created_at,sku,quantity,price,total,refunded,"
			  "currency,status,cancelled_at\n";

static char *csv(const char *rows)
{
	static char buf[4096];
	snprintf(buf, sizeof buf, "%s%s", head, rows);
	return buf;
}

START_TEST(revenue_is_paid_minus_refunds_and_nothing_for_cancelled_or_pending)
{
	patron_store *s = test_store();
	must_import(s, "o.csv", csv("1,a@x.com,2026-01-01,S,2,10.00,20.00,,,paid,\n"
				    "2,a@x.com,2026-01-02,S,1,30.00,30.00,12.50,,paid,\n"
				    "3,a@x.com,2026-01-03,S,1,40.00,40.00,40.00,,paid,\n"
				    "4,b@x.com,2026-01-04,S,1,50.00,50.00,,,paid,2026-01-05\n"
				    "5,b@x.com,2026-01-05,S,1,60.00,60.00,,,pending,\n"
				    "6,b@x.com,2026-01-06,S,1,70.00,70.00,,,voided,\n"));
	ck_assert_str_eq(sql_text(s, "SELECT group_concat(order_key || ':' || status || ':' ||"
				     " revenue || ':' || amount_cents, ' ') FROM orders"),
			 "1:paid:1:2000 2:partially_refunded:1:1750 3:refunded:0:0"
			 " 4:cancelled:0:5000 5:pending:0:6000 6:voided:0:7000");
	ck_assert_int_eq(sql_int(s, "SELECT sum(total_cents) FROM orders WHERE revenue"), 3750);
	patron_store_close(s);
	scratch_free();
}
END_TEST

START_TEST(an_order_without_identity_is_a_guest_order)
{
	patron_store *s = test_store();
	must_import(s, "o.csv", csv("1,,2026-01-01,S,1,10.00,,,,,\n"
				    "2,a@x.com,2026-01-02,S,1,5.00,,,,,\n"));
	ck_assert_uint_eq(st.orders_new, 2);
	ck_assert_uint_eq(st.orders_guest, 1);
	ck_assert_uint_eq(st.customers_new, 1);
	ck_assert_int_eq(sql_int(s, "SELECT count(*) FROM orders WHERE customer_id IS NULL AND"
				    " revenue AND total_cents = 1000"), 1);
	ck_assert_int_eq(sql_int(s, "SELECT count(*) FROM events WHERE topic = 'order.created'"
				    " AND customer_id IS NULL"), 1);
	patron_store_close(s);
	scratch_free();
}
END_TEST

START_TEST(a_later_file_updates_changed_orders_with_one_event_each)
{
	patron_store *s = test_store();
	must_import(s, "sep.csv", csv("1,a@x.com,2026-01-01,S,1,10.00,10.00,,USD,paid,\n"
				      "2,a@x.com,2026-01-02,S,1,20.00,20.00,,USD,paid,\n"
				      "3,b@x.com,2026-01-03,S,1,30.00,30.00,,USD,paid,\n"
				      "4,b@x.com,2026-01-04,S,1,40.00,40.00,,USD,pending,\n"));
	must_import(s, "oct.csv", csv("1,a@x.com,2026-01-01,S,1,10.00,10.00,,USD,paid,\n"
				      "2,a@x.com,2026-01-02,S,1,20.00,20.00,5.00,USD,paid,\n"
				      "3,b@x.com,2026-01-03,S,1,30.00,30.00,,USD,paid,2026-02-01\n"
				      "4,b@x.com,2026-01-04,S,1,40.00,40.00,,USD,paid,\n"));
	ck_assert_uint_eq(st.orders_new, 0);
	ck_assert_uint_eq(st.orders_updated, 3);
	ck_assert_uint_eq(st.orders_unchanged, 1);
	/* The events carry what changed; a cancelled or pending order keeps its
	 * amount, and its revenue flag says it does not count. */
	ck_assert_str_eq(sql_text(s, "SELECT group_concat(topic || ':' || (payload ->> '$.order')"
				     " || ':' || (payload ->> '$.old.status') || '/' ||"
				     " (payload ->> '$.old.revenue') || '/' ||"
				     " (payload ->> '$.old.total_cents') || '>' ||"
				     " (payload ->> '$.new.status') || '/' ||"
				     " (payload ->> '$.new.revenue') || '/' ||"
				     " (payload ->> '$.new.total_cents'), ' ') FROM events WHERE topic"
				     " LIKE 'order.%' AND topic != 'order.created'"),
			 "order.refunded:2:paid/1/2000>partially_refunded/1/1500"
			 " order.cancelled:3:paid/1/3000>cancelled/0/3000"
			 " order.updated:4:pending/0/4000>paid/1/4000");
	ck_assert_int_eq(sql_int(s, "SELECT sum(total_cents) FROM orders WHERE revenue"),
			 1000 + 1500 + 4000);
	/* The same file again: nothing. */
	int64_t events = sql_int(s, "SELECT count(*) FROM events");
	must_import(s, "oct.csv", csv("1,a@x.com,2026-01-01,S,1,10.00,10.00,,USD,paid,\n"
				      "2,a@x.com,2026-01-02,S,1,20.00,20.00,5.00,USD,paid,\n"
				      "3,b@x.com,2026-01-03,S,1,30.00,30.00,,USD,paid,2026-02-01\n"
				      "4,b@x.com,2026-01-04,S,1,40.00,40.00,,USD,paid,\n"));
	ck_assert_uint_eq(st.orders_unchanged, 4);
	ck_assert_int_eq(sql_int(s, "SELECT count(*) FROM events"), events);
	patron_store_close(s);
	scratch_free();
}
END_TEST

START_TEST(an_order_in_two_places_of_a_file_is_compared_whole)
{
	patron_store *s = test_store();
	const char *h = "order_id,email,created_at,sku,quantity,price\n";
	char a[512], b[512];
	snprintf(a, sizeof a, "%sA,a@x.com,2024-01-01,S1,1,1.00\nB,b@x.com,2024-01-02,S1,1,1.00\n"
		 "A,a@x.com,2024-01-01,S2,3,2.00\n", h);
	snprintf(b, sizeof b, "%sA,a@x.com,2024-01-01,S1,1,1.00\nB,b@x.com,2024-01-02,S1,1,1.00\n"
		 "A,a@x.com,2024-01-01,S2,4,2.00\n", h);
	must_import(s, "a.csv", a);
	must_import(s, "a.csv", a);
	ck_assert_uint_eq(st.orders_unchanged, 2);
	ck_assert_uint_eq(st.orders_updated, 0);
	/* A's second place changed: one update, its lines and money follow. */
	must_import(s, "b.csv", b);
	ck_assert_uint_eq(st.orders_updated, 1);
	ck_assert_uint_eq(st.orders_unchanged, 1);
	ck_assert_int_eq(sql_int(s, "SELECT total_cents FROM orders WHERE order_key = 'A'"), 900);
	ck_assert_str_eq(sql_text(s, "SELECT group_concat(line_no || ':' || quantity) FROM"
				     " order_lines WHERE order_id = 1"), "1:1,2:4");
	ck_assert_int_eq(sql_int(s, "SELECT count(*) FROM events WHERE topic = 'order.updated'"), 1);
	patron_store_close(s);
	scratch_free();
}
END_TEST

START_TEST(foreign_money_takes_the_rate_of_its_day_or_the_nearest_earlier)
{
	patron_store *s = test_store();
	int64_t n;
	ck_assert_msg(patron_import_rates(s, scratch_file("r.csv", "date,currency,rate\n"
				  "2026-01-01,EUR,1.10\n2026-01-10,eur,1.20\n"), "USD", &n, &err) == 0,
		      "%s", err.msg);
	ck_assert_int_eq(n, 2);
	patron_import_opts o = {.kind = PATRON_IMPORT_ORDERS, .now = TEST_NOW, .currency = "usd"};
	ck_assert_msg(import_with(s, scratch_file("o.csv", csv(
		"1,a@x.com,2026-01-09 23:59:59,S,1,10.00,,,EUR,paid,\n"
		"2,a@x.com,2026-01-10 00:00:00,S,1,10.00,,,EUR,paid,\n"
		"3,a@x.com,2026-01-11,S,1,0.05,,,EUR,paid,\n"
		"4,a@x.com,2026-01-11,S,1,3.00,,,,paid,\n")), &o, &st, &err) == 0, "%s", err.msg);
	/* 11.00, 12.00, 0.06 (0.05 x 1.2 rounded to the cent), 3.00 as it is. */
	ck_assert_str_eq(sql_text(s, "SELECT group_concat(total_cents) FROM orders"),
			 "1100,1200,6,300");
	ck_assert_str_eq(sql_text(s, "SELECT value FROM settings WHERE name = 'currency'"), "USD");
	/* Before any rate: refused, naming the currency and the way out. */
	ck_assert_int_eq(import_with(s, scratch_file("early.csv", csv(
		"9,a@x.com,2025-12-31,S,1,10.00,,,EUR,paid,\n")), &o, &st, &err), -1);
	ck_assert_msg(strstr(err.msg, "early.csv:2: currency EUR is not the shop's base currency"
			     " USD, and there is no rate for it on or before 2025-12-31") != NULL,
		      "%s", err.msg);
	/* A payment that is not revenue needs no rate. */
	ck_assert_msg(import_with(s, scratch_file("failed.csv", csv(
		"10,a@x.com,2025-12-31,S,1,10.00,,,GBP,failed,\n")), &o, &st, &err) == 0, "%s",
		      err.msg);
	ck_assert_int_eq(sql_int(s, "SELECT total_cents FROM orders WHERE order_key = '10'"), 0);
	/* patron.conf cannot move the store to another base currency. */
	o.currency = "EUR";
	ck_assert_int_eq(import_with(s, scratch_file("x.csv", csv(
		"11,a@x.com,2026-01-11,S,1,1.00,,,EUR,paid,\n")), &o, &st, &err), -1);
	ck_assert_msg(strstr(err.msg, "patron.conf sets currency = \"EUR\", but the store's money"
			     " has been in USD") != NULL, "%s", err.msg);
	patron_store_close(s);
	scratch_free();
}
END_TEST

START_TEST(the_export_s_converted_amount_wins_over_rates)
{
	patron_store *s = test_store();
	const char *stripe =
		"id,Created date (UTC),Amount,Amount Refunded,Currency,Converted Amount,"
		"Converted Amount Refunded,Converted Currency,Status,Customer Email\n"
		"py_1,2026-01-01 10:00,100.00,10.00,eur,108.00,10.80,usd,Paid,a@x.com\n"
		"py_2,2026-01-02 10:00,50.00,0.00,usd,50.00,0.00,usd,Paid,a@x.com\n";
	int64_t n;
	ck_assert_int_eq(patron_import_rates(s, scratch_file("r.csv", "date,currency,rate\n"
						"2025-01-01,EUR,2\n"), "USD", &n, &err), 0);
	must_import(s, "p.csv", stripe);
	ck_assert_str_eq(st.base_currency_set, "USD");
	ck_assert_str_eq(sql_text(s, "SELECT group_concat(currency || ':' || amount_cents || ':' ||"
				     " total_cents) FROM orders"), "EUR:9000:9720,USD:5000:5000");
	/* Without the converted refund, the refunded share comes off the
	 * converted amount: 108.00 x 90/100. */
	must_import(s, "q.csv", "id,Created date (UTC),Amount,Amount Refunded,Currency,"
		    "Converted Amount,Converted Currency,Status,Customer Email\n"
		    "py_3,2026-01-03 10:00,100.00,10.00,eur,108.00,usd,Paid,a@x.com\n");
	ck_assert_int_eq(sql_int(s, "SELECT total_cents FROM orders WHERE order_key = 'py_3'"), 9720);
	patron_store_close(s);
	scratch_free();
}
END_TEST

START_TEST(disputes_hold_revenue_until_won)
{
	patron_store *s = test_store();
	must_import(s, "p.csv",
		    "id,Created (UTC),Amount,Currency,Status,Customer Email,Disputed Amount,"
		    "Dispute Status\n"
		    "ch_1,2026-01-01 10:00,100.00,usd,Paid,a@x.com,100.00,needs_response\n"
		    "ch_2,2026-01-01 11:00,100.00,usd,Paid,a@x.com,100.00,won\n"
		    "ch_3,2026-01-01 12:00,100.00,usd,Paid,a@x.com,100.00,lost\n"
		    "ch_4,2026-01-01 13:00,100.00,usd,Paid,a@x.com,40.00,\n");
	ck_assert_str_eq(sql_text(s, "SELECT group_concat(status || ':' || revenue || ':' ||"
				     " disputed_cents, ' ') FROM orders"),
			 "disputed:0:10000 paid:1:0 dispute_lost:0:0 disputed:0:4000");
	patron_store_close(s);
	scratch_free();
}
END_TEST

START_TEST(bytes_that_are_not_utf8_are_named_and_transcoded_on_request)
{
	static const struct {
		const char *value, *why;
	} bad[] = {
		{"B\xc3", "invalid UTF-8 at byte 2"},		/* cut short */
		{"\xc0\xaf", "invalid UTF-8 at byte 1"},	/* overlong '/' */
		{"x\xed\xa0\x80", "invalid UTF-8 at byte 2"},	/* a surrogate */
		{"\xf4\x90\x80\x80", "invalid UTF-8 at byte 1"},	/* past U+10FFFF */
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		patron_store *s = test_store();
		char text[128], want[256];
		snprintf(text, sizeof text, "email,first_name\na@x.com,%s\n", bad[i].value);
		const char *path = scratch_file("c.csv", text);
		ck_assert_int_eq(import_as(s, path, PATRON_IMPORT_CUSTOMERS, &st, &err), -1);
		snprintf(want, sizeof want, "%s:2: column \"first_name\": %s (if the file is not "
			 "UTF-8, give --encoding latin1 or cp1252)", path, bad[i].why);
		ck_assert_str_eq(err.msg, want);
		patron_store_close(s);
		scratch_free();
	}
	/* Valid UTF-8 of every length passes as it is. */
	patron_store *s = test_store();
	ck_assert_int_eq(import_as(s, scratch_file("c.csv", "email,first_name\n"
				   "a@x.com,\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\n"),
				   PATRON_IMPORT_CUSTOMERS, &st, &err), 0);
	ck_assert_str_eq(sql_text(s, "SELECT first_name FROM customers"), "é€😀");
	/* cp1252 has no character at 0x81. */
	patron_import_opts o = {.kind = PATRON_IMPORT_CUSTOMERS, .now = TEST_NOW,
				.encoding = PATRON_ENCODING_CP1252};
	const char *path = scratch_file("w.csv", "email,first_name\nb@x.com,A\x81\n");
	ck_assert_int_eq(import_with(s, path, &o, &st, &err), -1);
	ck_assert_msg(strstr(err.msg, ":2: column \"first_name\": a byte with no character in the"
			     " encoding at byte 2") != NULL, "%s", err.msg);
	o.encoding = PATRON_ENCODING_LATIN1;
	ck_assert_int_eq(import_with(s, path, &o, &st, &err), 0);
	ck_assert_str_eq(sql_text(s, "SELECT first_name FROM customers WHERE id = 2"), "A\xc2\x81");
	patron_store_close(s);
	scratch_free();
}
END_TEST

START_TEST(skip_bad_sets_aside_every_row_of_an_order_whose_first_row_is_bad)
{
	patron_store *s = test_store();
	patron_import_opts o = {.kind = PATRON_IMPORT_ORDERS, .now = TEST_NOW, .skip_bad = 1,
				.currency = "USD"};
	ck_assert_msg(import_with(s, scratch_file("o.csv", csv(
		"1,a@x.com,2026-01-01,S,1,5.00,,,USD,paid,\n"
		"2,a@x.com,2026-01-02,S,1,5.00,,,GBP,paid,\n"
		"2,a@x.com,2026-01-02,T,1,5.00,,,,,\n"
		"3,a@x.com,2026-01-03,S,1,5.00,,,USD,paid,\n")), &o, &st, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(st.rejected, 2);
	ck_assert_str_eq(sql_text(s, "SELECT group_concat(order_key) FROM orders"), "1,3");
	patron_store_close(s);
	scratch_free();
}
END_TEST

/* Orders K1 to K10000 of 3000 customers (two lines each), then a third
 * line of K5 far below its first place, then an order whose key needs
 * escaping in JSON. More than two batches of new orders. */
static char *many_orders(void)
{
	patron_buf b = {0};
	patron_buf_adds(&b, "order_id,email,created_at,sku,quantity,price\n");
	for (int i = 1; i <= 10000; i++) {
		int c = (i - 1) % 3000 + 1;
		for (int l = 1; l <= 2; l++)
			patron_buf_printf(&b, "K%d,c%d@x.com,2024-%02d-%02d,S%d,%d,1.%02d\n", i, c,
					  i % 12 + 1, i % 28 + 1, (i + l) % 50, l, l);
	}
	patron_buf_adds(&b, "K5,c5@x.com,2024-06-06,S7,3,2.00\n");
	patron_buf_adds(&b, "\"Q\"\"\\\t1\",c1@x.com,2024-06-07,S1,1,1.00\n");
	return b.data;
}

START_TEST(orders_written_in_batches_keep_their_ids_lines_and_events_in_order)
{
	patron_store *s = test_store();
	char *data = many_orders();
	must_import(s, "many.csv", data);
	ck_assert_uint_eq(st.orders_new, 10001);
	ck_assert_uint_eq(st.lines, 20002);
	ck_assert_uint_eq(st.customers_new, 3000);
	/* ids from 1, in the file's order */
	ck_assert_int_eq(sql_int(s, "SELECT count(*) FROM orders WHERE order_key <> 'K' || id"), 1);
	ck_assert_str_eq(sql_text(s, "SELECT order_key FROM orders WHERE id = 10001"), "Q\"\\\t1");
	/* K5's third line joined it from the end of the file */
	ck_assert_str_eq(sql_text(s, "SELECT group_concat(line_no || ':' || quantity, ' ') FROM"
				     " (SELECT * FROM order_lines WHERE order_id = 5 ORDER BY line_no)"),
			 "1:1 2:2 3:3");
	ck_assert_int_eq(sql_int(s, "SELECT total_cents FROM orders WHERE id = 5"), 101 + 204 + 600);
	ck_assert_int_eq(sql_int(s, "SELECT sum(amount_cents) FROM order_lines"),
			 10000 * (101 + 204) + 600 + 100);
	/* one event per new customer and order, each customer's before its
	 * first order's, and the payloads as SQLite's json_object makes them
	 * (K5's total as it was when made, before its third line) */
	ck_assert_int_eq(sql_int(s, "SELECT count(*) FROM events WHERE topic = 'order.created'"),
			 10001);
	ck_assert_int_eq(sql_int(s, "SELECT count(*) FROM events WHERE topic = 'customer.created'"),
			 3000);
	ck_assert_int_eq(sql_int(s, "SELECT count(*) FROM events o JOIN events c ON"
				    " c.topic = 'customer.created' AND c.customer_id = o.customer_id"
				    " WHERE o.topic = 'order.created' AND o.id < c.id"), 0);
	ck_assert_int_eq(sql_int(s, "SELECT count(*) FROM events e JOIN orders o ON"
				    " o.id = e.payload ->> 'order_id' WHERE e.topic = 'order.created'"
				    " AND e.payload = json_object('order_id', o.id, 'order', o.order_key,"
				    " 'total_cents', o.total_cents - iif(o.id = 5, 600, 0)) AND e.customer_id = o.customer_id"
				    " AND e.occurred_at = o.placed_at"), 10001);
	ck_assert_int_eq(sql_int(s, "SELECT count(*) FROM events e JOIN identities i ON"
				    " i.customer_id = e.customer_id WHERE e.topic = 'customer.created'"
				    " AND e.payload = json_object('email', i.value, 'source', 'patron')"),
			 3000);
	ck_assert_int_eq(sql_int(s, "SELECT sum(spent_cents) FROM customer_orders"),
			 10000 * (101 + 204) + 600 + 100);
	/* the same file again: all of it known, nothing written */
	must_import(s, "many.csv", data);
	ck_assert_uint_eq(st.orders_new, 0);
	ck_assert_uint_eq(st.orders_unchanged, 10001);
	ck_assert_int_eq(sql_int(s, "SELECT count(*) FROM events"), 13001);
	free(data);
	patron_store_close(s);
	scratch_free();
}
END_TEST

/* A file past the bulk size (32 MiB): 160,000 orders of two lines from
 * 40,000 customers met again all over the file, names, consent and a
 * country on every row, and the cases that leave the fast path: known
 * customers found by their identities, two known customers merged, a
 * customer made by this file merged into a known one, and an order met
 * again at the end. */
static char *bulk_orders(size_t *len)
{
	patron_buf b = {0};
	patron_buf_adds(&b, "order_id,email,phone,customer_name,created_at,sku,product,quantity,"
			    "price,currency,status,accepts_marketing,country\n");
	/* a few wide rows first, to pass the bulk size */
	for (int i = 1; i <= 1000; i++)
		patron_buf_printf(&b, "W%d,wide@example.com,,,2025-01-01,S1,%01000d,1,1.00,usd,paid,,\n",
				  i, i);
	for (int i = 1; i <= 160000; i++) {
		int c = (int)((i * 7919L) % 40000) + 1;
		char email[64], phone[32] = "";
		snprintf(email, sizeof email, "c%d@example.com", c);
		if (i == 1000 || i == 2000)
			snprintf(email, sizeof email, "pre1@example.com");
		if (i == 3000)	/* the customer of order 10 */
			snprintf(email, sizeof email, "c39191@example.com");
		if (i == 2000 || i == 3000)
			snprintf(phone, sizeof phone, "+1 555 0100 200");
		for (int l = 1; l <= 2; l++)
			patron_buf_printf(&b, "K%d,%s,%s,Name%d %s,2025-%02d-%02d %02d:00:00,S%d,"
					  "Product %d,%d,%d.%02d,usd,paid,%s,%s\n", i, email, phone,
					  c, i % 3 ? "Smith" : "Jones", i % 12 + 1, i % 28 + 1,
					  i % 24, (i + l) % 300, (i + l) % 300, l, l + 1, i % 100,
					  (c + i) % 2 ? "yes" : "no", c % 5 ? "GB" : "FR");
	}
	patron_buf_adds(&b, "K5,c1@example.com,,,2025-06-06,S7,Product 7,3,2.00,usd,paid,,\n");
	*len = b.len;
	return b.data;
}

static void two_known_customers(patron_store *s)
{
	ck_assert_msg(import_as(s, scratch_file("pre.csv", "email,phone,name,country\n"
				"pre1@example.com,,Pre One,GB\n,+1 555 0100 200,Pre Two,FR\n"),
				PATRON_IMPORT_CUSTOMERS, &st, &err) == 0, "%s", err.msg);
}

/* The count of rows of TABLE (columns COLS) in one store and not in the
 * other, both ways. */
static int64_t differ(patron_store *s, const char *table, const char *cols)
{
	char sql[512];
	snprintf(sql, sizeof sql, "SELECT (SELECT count(*) FROM (SELECT %s FROM main.%s EXCEPT"
		 " SELECT %s FROM other.%s)) + (SELECT count(*) FROM (SELECT %s FROM other.%s"
		 " EXCEPT SELECT %s FROM main.%s))", cols, table, cols, table, cols, table, cols,
		 table);
	return sql_int(s, sql);
}

START_TEST(a_bulk_import_writes_what_the_row_at_a_time_import_writes)
{
	size_t len;
	char *data = bulk_orders(&len);
	ck_assert_uint_gt(len, 32u << 20);
	/* the file through the bulk path (a thread writing batches) */
	patron_store *s = test_store();
	two_known_customers(s);
	must_import(s, "bulk.csv", data);
	patron_import_stats bulk = st;
	/* the same bytes row by row, into a store of their own */
	char other[600];
	snprintf(other, sizeof other, "%s", patron_store_path(s));
	snprintf(strrchr(other, '/'), sizeof other - (size_t)(strrchr(other, '/') - other),
		 "/other.db");
	patron_store *t;
	ck_assert_int_eq(patron_store_open(other, &t, &err), 0);
	two_known_customers(t);
	patron_import_opts o = {.kind = PATRON_IMPORT_ORDERS, .now = TEST_NOW};
	ck_assert_msg(patron_import_mem(t, "bulk.csv", data, len, &o, &st, &err) == 0, "%s",
		      err.msg);
	patron_store_close(t);
	ck_assert_uint_eq(bulk.orders_new, 161000);
	ck_assert_uint_eq(bulk.orders_new, st.orders_new);
	ck_assert_uint_eq(bulk.customers_new, st.customers_new);
	ck_assert_uint_eq(bulk.customers_merged, 2);
	ck_assert_uint_eq(st.customers_merged, 2);
	ck_assert_uint_eq(bulk.lines, 321001);
	/* foreign keys back on, and nothing dangles */
	ck_assert_int_eq(sql_int(s, "PRAGMA foreign_keys"), 1);
	ck_assert_int_eq(sql_int(s, "SELECT count(*) FROM pragma_foreign_key_check"), 0);
	char attach[700];
	snprintf(attach, sizeof attach, "ATTACH '%s' AS other", other);
	ck_assert_int_eq(patron_store_exec(s, attach, &err), 0);
	ck_assert_int_eq(differ(s, "customers", "*"), 0);
	ck_assert_int_eq(differ(s, "identities", "*"), 0);
	ck_assert_int_eq(differ(s, "orders", "*"), 0);
	ck_assert_int_eq(differ(s, "order_lines", "*"), 0);
	ck_assert_int_eq(differ(s, "events", "*"), 0);
	ck_assert_int_eq(differ(s, "consent", "*"), 0);
	ck_assert_int_eq(differ(s, "attributes", "*"), 0);
	ck_assert_int_eq(differ(s, "customer_orders", "*"), 0);
	ck_assert_int_eq(differ(s, "products", "id, sku, name, category, price_cents"), 0);
	/* and what they hold is what the file says */
	ck_assert_int_eq(sql_int(s, "SELECT count(*) FROM customers"), 40001);
	ck_assert_int_eq(sql_int(s, "SELECT count(*) FROM order_lines WHERE order_id ="
				    " (SELECT id FROM orders WHERE order_key = 'K5')"), 3);
	ck_assert_int_eq(sql_int(s, "SELECT customer_id FROM identities WHERE value = '+15550100200'"),
			 1);
	ck_assert_int_eq(sql_int(s, "SELECT customer_id FROM identities"
				    " WHERE value = 'c39191@example.com'"), 1);
	ck_assert_int_eq(sql_int(s, "SELECT count(*) FROM events WHERE topic = 'customer.merged'"),
			 2);
	patron_store_close(s);
	free(data);
	scratch_free();
}
END_TEST

/* Into a store without orders, the customers' totals are summed while the
 * orders are held: they must be what the orders say. */
START_TEST(a_first_import_sums_its_customers_totals_as_it_goes)
{
	patron_store *s = test_store();
	must_import(s, "first.csv", csv("1,a@x.com,2024-01-05,S1,1,10.00,,,USD,paid,\n"
					"2,b@x.com,2024-01-03,S1,2,10.00,,,USD,paid,\n"
					"3,a@x.com,2024-01-01,S2,1,7.50,,,USD,paid,\n"
					"4,a@x.com,2024-02-01,S2,1,9.00,,,USD,pending,\n"
					"5,b@x.com,2024-03-01,S1,1,10.00,,4.00,USD,paid,\n"
					"6,,2024-03-02,S1,1,10.00,,,USD,paid,\n"
					"7,c@x.com,2024-03-03,S1,1,10.00,,,USD,paid,2024-03-04\n"));
	ck_assert_int_eq(sql_int(s, "SELECT count(*) FROM customer_orders"), 2);
	ck_assert_str_eq(sql_text(s, "SELECT group_concat(orders || ':' || spent_cents, ' ') FROM"
				     " (SELECT * FROM customer_orders ORDER BY customer_id)"),
			 "2:1750 2:2600");
	ck_assert_int_eq(sql_int(s, "SELECT count(*) FROM (SELECT customer_id, count(*),"
				    " sum(total_cents), min(placed_at), max(placed_at) FROM orders"
				    " WHERE revenue AND customer_id IS NOT NULL GROUP BY customer_id"
				    " EXCEPT SELECT * FROM customer_orders)"), 0);
	patron_store_close(s);
	scratch_free();
}
END_TEST

Suite *suite_import_orders(void)
{
	Suite *s = suite_create("import_orders");
	TCase *t = tcase_create("import_orders");
	tcase_set_timeout(t, 30);
	tcase_add_test(t, revenue_is_paid_minus_refunds_and_nothing_for_cancelled_or_pending);
	tcase_add_test(t, an_order_without_identity_is_a_guest_order);
	tcase_add_test(t, a_later_file_updates_changed_orders_with_one_event_each);
	tcase_add_test(t, an_order_in_two_places_of_a_file_is_compared_whole);
	tcase_add_test(t, foreign_money_takes_the_rate_of_its_day_or_the_nearest_earlier);
	tcase_add_test(t, the_export_s_converted_amount_wins_over_rates);
	tcase_add_test(t, disputes_hold_revenue_until_won);
	tcase_add_test(t, bytes_that_are_not_utf8_are_named_and_transcoded_on_request);
	tcase_add_test(t, skip_bad_sets_aside_every_row_of_an_order_whose_first_row_is_bad);
	tcase_add_test(t, orders_written_in_batches_keep_their_ids_lines_and_events_in_order);
	tcase_add_test(t, a_first_import_sums_its_customers_totals_as_it_goes);
	suite_add_tcase(s, t);
	TCase *bulk = tcase_create("bulk");
	tcase_set_timeout(bulk, 300);
	tcase_add_test(bulk, a_bulk_import_writes_what_the_row_at_a_time_import_writes);
	suite_add_tcase(s, bulk);
	return s;
}
