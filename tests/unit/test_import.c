#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "helpers.h"
#include "util.h"

static patron_import_stats st;
static patron_err err;

static void must_import(patron_store *s, const char *path, patron_import_kind kind)
{
	ck_assert_msg(import_as(s, path, kind, &st, &err) == 0, "%s", err.msg);
}

/* The import fails with exactly "PATH:" followed by WANT, and the store
 * holds nothing at all. */
static void must_fail(patron_store *s, const char *path, patron_import_kind kind, const char *want)
{
	ck_assert_int_eq(import_as(s, path, kind, &st, &err), -1);
	char full[1024];
	snprintf(full, sizeof full, "%s:%s", path, want);
	ck_assert_str_eq(err.msg, full);
	ck_assert_int_eq(sql_int(s, "SELECT (SELECT count(*) FROM customers) + (SELECT count(*)"
				    " FROM orders) + (SELECT count(*) FROM events) + (SELECT count(*)"
				    " FROM products) + (SELECT count(*) FROM imports)"), 0);
}

/* Every row of every table but the import log, for "nothing changed". */
static char *fingerprint(patron_store *s)
{
	static const char *const tables[] = {
		"customers", "identities", "attribute_defs", "attributes", "tags", "consent",
		"products", "orders", "order_lines", "feedback", "events", "scores",
	};
	patron_buf b = {0};
	for (size_t t = 0; t < sizeof tables / sizeof *tables; t++) {
		char sql[128];
		snprintf(sql, sizeof sql, "SELECT * FROM %s ORDER BY 1, 2", tables[t]);
		sqlite3_stmt *q;
		ck_assert_int_eq(sqlite3_prepare_v2(patron_store_db(s), sql, -1, &q, NULL), SQLITE_OK);
		patron_buf_printf(&b, "[%s]", tables[t]);
		while (sqlite3_step(q) == SQLITE_ROW) {
			for (int c = 0; c < sqlite3_column_count(q); c++)
				patron_buf_printf(&b, "%s,", sqlite3_column_text(q, c)
						  ? (const char *)sqlite3_column_text(q, c) : "NULL");
			patron_buf_adds(&b, "\n");
		}
		sqlite3_finalize(q);
	}
	return b.data;
}

static const char *customers_csv =
	"customer_id,email,first_name,last_name,signup_date,accepts_marketing,tags,country,age\n"
	"C1, Ada.Lovelace@Example.COM ,Ada,Lovelace,2024-01-05,yes,\"vip, early\",GB,36\n"
	"C2,alan@example.com,Alan,Turing,2024-02-01,no,,GB,41\n"
	"C3,grace@example.com,Grace,Hopper,2024-03-01,,,US,\n";

static const char *orders_csv =
	"order_id,email,created_at,sku,product,quantity,price,status\n"
	"1001,ada.lovelace@example.com,2024-02-01 10:00:00,SKU-1,Beans,2,12.50,paid\n"
	"1001,ada.lovelace@example.com,2024-02-01 10:00:00,SKU-2,Mug,1,8.00,paid\n"
	"1002,alan@example.com,2024-03-01,SKU-1,Beans,1,12.50,refunded\n"
	"1003,newbie@example.com,2024-04-01,SKU-3,Kettle,1,40,paid\n";

START_TEST(normalizes_headers_by_words_camel_case_too)
{
	static const char *const cases[][2] = {
		{"Total Day-Minutes", "total_day_minutes"}, {"CustomerID", "customer_id"},
		{"InvoiceNo", "invoice_no"}, {"Created date (UTC)", "created_date_utc"},
		{"SKU", "sku"}, {"Lineitem SKU", "lineitem_sku"}, {"e-mail", "e_mail"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		char out[64];
		patron_normalize_header(cases[i][0], out, sizeof out);
		ck_assert_str_eq(out, cases[i][1]);
	}
}
END_TEST

START_TEST(a_field_takes_its_next_alias_when_the_first_is_empty)
{
	patron_store *s = test_store();
	must_import(s, scratch_file("o.csv", "order_id,email,customer_email,created_at,total\n"
				    "1,a@x.com,,2024-01-01,5\n2,,b@x.com,2024-01-02,6\n"
				    "3,c@x.com,d@x.com,2024-01-03,7\n"),
		    PATRON_IMPORT_ORDERS);
	ck_assert_uint_eq(st.orders_guest, 0);
	ck_assert_str_eq(sql_text(s, "SELECT group_concat(value) FROM (SELECT value FROM identities"
				     " ORDER BY value)"), "a@x.com,b@x.com,c@x.com");
	patron_store_close(s);
	scratch_free();
}
END_TEST

START_TEST(merges_customers_by_normalized_email)
{
	patron_store *s = test_store();
	must_import(s, scratch_file("customers.csv", customers_csv), PATRON_IMPORT_CUSTOMERS);
	ck_assert_uint_eq(st.customers_new, 3);
	must_import(s, scratch_file("orders.csv", orders_csv), PATRON_IMPORT_ORDERS);
	ck_assert_uint_eq(st.customers_new, 1);	/* only newbie@ is new */
	ck_assert_uint_eq(st.orders_new, 3);
	ck_assert_uint_eq(st.lines, 4);
	ck_assert_int_eq(sql_int(s, "SELECT count(*) FROM customers"), 4);
	int64_t ada = patron_customer_find(s, "email", "ada.lovelace@example.com");
	ck_assert_int_eq(ada, patron_customer_find(s, "id", "C1"));
	ck_assert_int_eq(sql_int(s, "SELECT total_cents FROM orders WHERE order_key='1001'"), 3300);
	ck_assert_int_eq(sql_int(s, "SELECT customer_id FROM orders WHERE order_key='1001'"), ada);
	/* Refunded orders are kept but are not revenue. */
	ck_assert_int_eq(sql_int(s, "SELECT sum(total_cents) FROM orders WHERE revenue"), 7300);
	ck_assert_str_eq(sql_text(s, "SELECT status FROM orders WHERE order_key='1002'"), "refunded");
	/* The new customer's first appearance is their first order. */
	ck_assert_int_eq(sql_int(s, "SELECT created_at FROM customers c JOIN identities i ON"
				    " i.customer_id=c.id WHERE i.value='newbie@example.com'"),
			 1711929600);
	patron_store_close(s);
	scratch_free();
}
END_TEST

START_TEST(merges_two_known_customers_when_a_row_links_them)
{
	patron_store *s = test_store();
	must_import(s, scratch_file("a.csv", "email,name\nbo@example.com,Bo Diddley\n"),
		    PATRON_IMPORT_CUSTOMERS);
	must_import(s, scratch_file("b.csv", "customer_id,phone\nC9,+1 555 0100 200\n"),
		    PATRON_IMPORT_CUSTOMERS);
	ck_assert_int_eq(sql_int(s, "SELECT count(*) FROM customers"), 2);
	must_import(s, scratch_file("c.csv", "customer_id,email\nC9,BO@example.com\n"),
		    PATRON_IMPORT_CUSTOMERS);
	ck_assert_uint_eq(st.customers_merged, 1);
	ck_assert_int_eq(sql_int(s, "SELECT count(*) FROM customers"), 1);
	int64_t bo = patron_customer_find(s, "email", "bo@example.com");
	ck_assert_int_eq(patron_customer_find(s, "phone", "+15550100200"), bo);
	ck_assert_int_eq(patron_customer_find(s, "id", "C9"), bo);
	ck_assert_str_eq(sql_text(s, "SELECT first_name || '/' || last_name FROM customers"),
			 "Bo/Diddley");
	patron_store_close(s);
	scratch_free();
}
END_TEST

START_TEST(reimporting_the_same_files_changes_nothing)
{
	patron_store *s = test_store();
	const char *c = scratch_file("customers.csv", customers_csv);
	char cpath[512], opath[512], fpath[512], ppath[512];
	snprintf(cpath, sizeof cpath, "%s", c);
	snprintf(ppath, sizeof ppath, "%s", scratch_file("products.csv",
		 "sku,name,category,price\nSKU-1,Beans,coffee,12.50\nSKU-9,Filter,brewing,3\n"));
	snprintf(opath, sizeof opath, "%s", scratch_file("orders.csv", orders_csv));
	snprintf(fpath, sizeof fpath, "%s", scratch_file("feedback.csv",
		 "email,created_at,rating,text\nalan@example.com,2024-03-05,2,\"Refund, please\"\n"));
	must_import(s, ppath, PATRON_IMPORT_PRODUCTS);
	must_import(s, cpath, PATRON_IMPORT_CUSTOMERS);
	must_import(s, opath, PATRON_IMPORT_ORDERS);
	must_import(s, fpath, PATRON_IMPORT_FEEDBACK);
	char *before = fingerprint(s);
	must_import(s, ppath, PATRON_IMPORT_PRODUCTS);
	ck_assert_uint_eq(st.products_present, 2);
	must_import(s, cpath, PATRON_IMPORT_CUSTOMERS);
	ck_assert_uint_eq(st.customers_new, 0);
	ck_assert_uint_eq(st.customers_matched, 3);
	must_import(s, opath, PATRON_IMPORT_ORDERS);
	ck_assert_uint_eq(st.orders_new, 0);
	ck_assert_uint_eq(st.orders_unchanged, 3);
	must_import(s, fpath, PATRON_IMPORT_FEEDBACK);
	ck_assert_uint_eq(st.feedback_present, 1);
	char *after = fingerprint(s);
	ck_assert_str_eq(after, before);
	free(before);
	free(after);
	patron_store_close(s);
	scratch_free();
}
END_TEST

START_TEST(keeps_identities_tags_consent_and_names)
{
	patron_store *s = test_store();
	must_import(s, scratch_file("customers.csv", customers_csv), PATRON_IMPORT_CUSTOMERS);
	int64_t ada = patron_customer_find(s, "email", "ada.lovelace@example.com");
	ck_assert_int_eq(ada, 1);
	ck_assert_str_eq(sql_text(s, "SELECT group_concat(tag, ',') FROM (SELECT tag FROM tags"
				     " WHERE customer_id=1 ORDER BY tag)"), "early,vip");
	ck_assert_int_eq(sql_int(s, "SELECT granted FROM consent WHERE customer_id=1"), 1);
	ck_assert_int_eq(sql_int(s, "SELECT granted FROM consent WHERE customer_id=2"), 0);
	ck_assert_int_eq(sql_int(s, "SELECT count(*) FROM consent WHERE customer_id=3"), 0);
	ck_assert_int_eq(sql_int(s, "SELECT created_at FROM customers WHERE id=1"), 1704412800);
	ck_assert_int_eq(sql_int(s, "SELECT count(*) FROM events WHERE topic='customer.created'"), 3);
	ck_assert_str_eq(sql_text(s, "SELECT json_extract(payload, '$.email') FROM events"
				     " WHERE customer_id=1"), "ada.lovelace@example.com");
	patron_store_close(s);
	scratch_free();
}
END_TEST

START_TEST(infers_attribute_types_over_the_whole_column)
{
	patron_store *s = test_store();
	must_import(s, scratch_file("c.csv",
		    "email,age,score,birthday,zip,note\n"
		    "a@x.com,36,1,1990-05-17,02134,hello\n"
		    "b@x.com,41,2.5,17/05/1991,10001,\n"
		    "c@x.com,,3,,94110,\"likes tea, not coffee\"\n"), PATRON_IMPORT_CUSTOMERS);
	ck_assert_str_eq(sql_text(s, "SELECT group_concat(name || ':' || type, ' ') FROM"
				     " (SELECT * FROM attribute_defs ORDER BY name)"),
			 "age:integer birthday:text note:text score:real zip:text");
	ck_assert_str_eq(sql_text(s, "SELECT typeof(value) FROM attributes WHERE name='age'"),
			 "integer");
	ck_assert_str_eq(sql_text(s, "SELECT typeof(value) FROM attributes WHERE name='score'"
				     " AND customer_id=1"), "real");
	ck_assert_str_eq(sql_text(s, "SELECT value FROM attributes WHERE name='zip'"
				     " AND customer_id=1"), "02134");
	/* No attribute row for an empty cell. */
	ck_assert_int_eq(sql_int(s, "SELECT count(*) FROM attributes WHERE name='age'"), 2);
	patron_store_close(s);
	scratch_free();
}
END_TEST

START_TEST(stores_dates_and_widens_types_across_imports)
{
	patron_store *s = test_store();
	must_import(s, scratch_file("a.csv", "email,birthday,visits\na@x.com,05/17/1990,3\n"),
		    PATRON_IMPORT_CUSTOMERS);
	ck_assert_str_eq(sql_text(s, "SELECT type FROM attribute_defs WHERE name='birthday'"), "date");
	ck_assert_str_eq(sql_text(s, "SELECT value FROM attributes WHERE name='birthday'"),
			 "1990-05-17");
	must_import(s, scratch_file("b.csv", "email,visits\nb@x.com,many\n"),
		    PATRON_IMPORT_CUSTOMERS);
	ck_assert_str_eq(sql_text(s, "SELECT type FROM attribute_defs WHERE name='visits'"), "text");
	ck_assert_str_eq(sql_text(s, "SELECT group_concat(typeof(value)) FROM attributes"
				     " WHERE name='visits'"), "text,text");
	patron_store_close(s);
	scratch_free();
}
END_TEST

START_TEST(reads_the_shopify_orders_export)
{
	patron_store *s = test_store();
	const char *path = scratch_file("shopify.csv",
		"Name,Email,Financial Status,Paid at,Fulfillment Status,Currency,Subtotal,Total,"
		"Created at,Lineitem quantity,Lineitem name,Lineitem price,Lineitem sku,"
		"Accepts Marketing,Billing Name,Phone\n"
		"#1001,ada@example.com,paid,2024-03-05 14:22:10 -0500,fulfilled,USD,45.00,53.50,"
		"2024-03-05 14:22:10 -0500,2,Espresso Beans,15.00,BEAN-1,yes,Ada Lovelace,\n"
		"#1001,ada@example.com,,,,,,,,1,\"Mug, large\",15.00,MUG-L,,,\n"
		"#1002,ADA@example.com,refunded,,,USD,9.00,9.00,2024-04-01 09:00:00 -0400,1,"
		"Filter Papers,9.00,FIL-1,yes,Ada Lovelace,\n"
		"#1003,,paid,,,USD,20.00,20.00,2024-04-02 10:00:00 +0000,1,Gift Card,20.00,,no,"
		"Grace Hopper,+1 (555) 010-0300\n");
	must_import(s, path, PATRON_IMPORT_ORDERS);
	ck_assert_str_eq(st.format, "shopify");
	ck_assert_uint_eq(st.orders_new, 3);
	ck_assert_uint_eq(st.lines, 4);
	ck_assert_uint_eq(st.customers_new, 2);
	ck_assert_int_eq(sql_int(s, "SELECT total_cents FROM orders WHERE order_key='#1001'"), 5350);
	ck_assert_int_eq(sql_int(s, "SELECT count(*) FROM order_lines l JOIN orders o ON"
				    " o.id=l.order_id WHERE o.order_key='#1001'"), 2);
	ck_assert_int_eq(sql_int(s, "SELECT placed_at FROM orders WHERE order_key='#1001'"),
			 1709666530);
	ck_assert_int_eq(sql_int(s, "SELECT sum(amount_cents) FROM order_lines"), 7400);
	ck_assert_int_eq(sql_int(s, "SELECT revenue FROM orders WHERE order_key='#1002'"), 0);
	ck_assert_str_eq(sql_text(s, "SELECT name FROM products WHERE sku='MUG-L'"), "Mug, large");
	/* A line without a SKU is keyed by its name. */
	ck_assert_int_eq(sql_int(s, "SELECT count(*) FROM products WHERE sku='Gift Card'"), 1);
	ck_assert_str_eq(sql_text(s, "SELECT first_name || ' ' || last_name FROM customers"
				     " WHERE id=1"), "Ada Lovelace");
	ck_assert_int_eq(sql_int(s, "SELECT granted FROM consent WHERE customer_id=1"), 1);
	ck_assert_int_eq(patron_customer_find(s, "phone", "+15550100300"), 2);
	ck_assert_int_eq(sql_int(s, "SELECT granted FROM consent WHERE customer_id=2"), 0);
	ck_assert_str_eq(sql_text(s, "SELECT currency FROM orders WHERE order_key='#1001'"), "USD");
	patron_store_close(s);
	scratch_free();
}
END_TEST

START_TEST(reads_the_stripe_payments_export)
{
	patron_store *s = test_store();
	const char *path = scratch_file("stripe.csv",
		"id,Description,Created (UTC),Amount,Amount Refunded,Currency,Converted Amount,"
		"Fee,Status,Customer ID,Customer Description,Customer Email\n"
		"ch_1,Plan,2024-05-01 12:00,25.00,0.00,usd,25.00,1.03,Paid,cus_A,,ada@example.com\n"
		"ch_2,Plan,2024-06-01 12:00,25.00,0.00,usd,25.00,0.00,Failed,cus_A,,ada@example.com\n"
		"ch_3,Plan,2024-07-01 12:00,25.00,25.00,usd,25.00,1.03,Refunded,cus_A,,ada@example.com\n"
		"ch_4,Plan,2024-08-01 12:00,25.00,10.00,usd,25.00,1.03,Paid,cus_B,,\n");
	must_import(s, path, PATRON_IMPORT_ORDERS);
	ck_assert_str_eq(st.format, "stripe");
	ck_assert_uint_eq(st.orders_new, 4);
	ck_assert_uint_eq(st.lines, 0);
	ck_assert_uint_eq(st.customers_new, 2);
	/* Failed and refunded payments are not revenue; a partial refund keeps the rest. */
	ck_assert_int_eq(sql_int(s, "SELECT sum(total_cents) FROM orders WHERE revenue"), 4000);
	ck_assert_str_eq(sql_text(s, "SELECT group_concat(status, ',') FROM (SELECT status FROM"
				     " orders ORDER BY order_key)"),
			 "paid,failed,refunded,partially_refunded");
	int64_t ada = patron_customer_find(s, "email", "ada@example.com");
	ck_assert_int_eq(patron_customer_find(s, "stripe", "cus_A"), ada);
	ck_assert_int_ne(patron_customer_find(s, "stripe", "cus_B"), 0);
	patron_store_close(s);
	scratch_free();
}
END_TEST

START_TEST(emits_events_in_the_same_transaction)
{
	patron_store *s = test_store();
	must_import(s, scratch_file("orders.csv", orders_csv), PATRON_IMPORT_ORDERS);
	ck_assert_int_eq(sql_int(s, "SELECT count(*) FROM events WHERE topic='order.created'"), 3);
	ck_assert_int_eq(sql_int(s, "SELECT count(*) FROM events WHERE topic='customer.created'"), 3);
	ck_assert_int_eq(sql_int(s, "SELECT json_extract(payload, '$.total_cents') FROM events"
				    " WHERE topic='order.created' AND json_extract(payload,"
				    " '$.order')='1001'"), 3300);
	ck_assert_int_eq(sql_int(s, "SELECT json_extract(payload, '$.order_id') FROM events"
				    " WHERE json_extract(payload, '$.order')='1001'"),
			 sql_int(s, "SELECT id FROM orders WHERE order_key='1001'"));
	ck_assert_int_eq(sql_int(s, "SELECT count(*) FROM events e JOIN orders o ON"
				    " o.id=json_extract(e.payload, '$.order_id') AND"
				    " o.customer_id=e.customer_id"), 3);
	/* The event time is when it happened; recorded_at is when Patron learnt it. */
	ck_assert_int_eq(sql_int(s, "SELECT occurred_at FROM events WHERE"
				    " json_extract(payload, '$.order')='1003'"), 1711929600);
	ck_assert_int_eq(sql_int(s, "SELECT min(recorded_at) FROM events"), TEST_NOW);
	patron_store_close(s);
	scratch_free();
}
END_TEST

START_TEST(gathers_lines_of_an_order_that_are_not_adjacent)
{
	patron_store *s = test_store();
	must_import(s, scratch_file("o.csv",
		    "order_id,email,created_at,sku,quantity,price\n"
		    "A,a@x.com,2024-01-01,S1,1,1.00\n"
		    "B,b@x.com,2024-01-02,S1,1,1.00\n"
		    "A,a@x.com,2024-01-01,S2,3,2.00\n"), PATRON_IMPORT_ORDERS);
	ck_assert_uint_eq(st.orders_new, 2);
	ck_assert_int_eq(sql_int(s, "SELECT count(*) FROM orders"), 2);
	ck_assert_int_eq(sql_int(s, "SELECT total_cents FROM orders WHERE order_key='A'"), 700);
	ck_assert_str_eq(sql_text(s, "SELECT group_concat(line_no || ':' || quantity) FROM"
				     " order_lines WHERE order_id=1"), "1:1,2:3");
	patron_store_close(s);
	scratch_free();
}
END_TEST

START_TEST(maps_columns_by_name_with_map)
{
	patron_store *s = test_store();
	const char *path = scratch_file("c.csv", "Mail Address,Given,When\na@x.com,Ann,2024-01-01\n");
	patron_import_opts o = {.kind = PATRON_IMPORT_CUSTOMERS, .now = TEST_NOW,
				.map = "email=Mail Address,first_name=given,created_at=When"};
	ck_assert_msg(import_with(s, path, &o, &st, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(patron_customer_find(s, "email", "a@x.com"), 1);
	ck_assert_str_eq(sql_text(s, "SELECT first_name FROM customers"), "Ann");
	ck_assert_int_eq(sql_int(s, "SELECT count(*) FROM attributes"), 0);
	patron_store_close(s);
	scratch_free();
}
END_TEST

START_TEST(reports_each_kind_of_bad_row_with_file_line_and_column)
{
	static const struct {
		patron_import_kind kind;
		const char *csv, *want;
	} cases[] = {
		{PATRON_IMPORT_ORDERS,
		 "order_id,email,created_at,sku,price\n1,a@x.com,2024-01-01,S,1\n"
		 "2,a@x.com,31/02/2024,S,1\n",
		 "3: column \"created_at\": expected a date, got \"31/02/2024\""},
		{PATRON_IMPORT_ORDERS,
		 "order_id,email,created_at,sku,price\n1,a@x.com,2024-01-01,S,12.345\n",
		 "2: column \"price\": expected an amount of money like 12.34, got \"12.345\""},
		{PATRON_IMPORT_ORDERS,
		 "order_id,email,created_at,sku,quantity,price\n1,a@x.com,2024-01-01,S,two,1\n",
		 "2: column \"quantity\": expected a whole number of items, got \"two\""},
		{PATRON_IMPORT_ORDERS,
		 "order_id,email,created_at,sku,price\n1,bob,2024-01-01,S,1\n",
		 "2: column \"email\": expected an email address, got \"bob\""},
		{PATRON_IMPORT_ORDERS,
		 "order_id,email,created_at,sku,price\n1,a@x.com,2024-01-01,S,-5.99\n",
		 "2: column \"price\": expected a price of zero or more (a refund belongs in the"
		 " order's refunded amount or status), got \"-5.99\""},
		{PATRON_IMPORT_ORDERS,
		 "order_id,email,created_at,sku,price,currency\n1,a@x.com,2024-01-01,S,1,euro\n",
		 "2: column \"currency\": expected a currency code like EUR, got \"euro\""},
		{PATRON_IMPORT_ORDERS,
		 "order_id,email,created_at,sku,price,status\n1,a@x.com,2024-01-01,S,1,\"pa\nid\"\n",
		 "2: column \"status\": expected a payment status (paid, pending, refunded, failed,"
		 " voided, cancelled, ...), got \"pa\\nid\""},
		{PATRON_IMPORT_FEEDBACK,
		 "email,created_at,text\n,2024-01-01,ok\n",
		 "2: no customer: expected an email, phone or customer id"},
		{PATRON_IMPORT_ORDERS,
		 "order_id,email,created_at,sku,price\n1,a@x.com,2024-01-01,S\n",
		 "2: expected 5 fields as in the header, got 4"},
		{PATRON_IMPORT_ORDERS,
		 "order_id,email,created_at,sku,price,status\n1,a@x.com,2024-01-01,S,1,lost\n",
		 "2: column \"status\": expected a payment status (paid, pending, refunded, failed,"
		 " voided, cancelled, ...), got \"lost\""},
		{PATRON_IMPORT_ORDERS,
		 "order_id,email,created_at,sku,price\n,a@x.com,2024-01-01,S,1\n",
		 "2: column \"order_id\": expected an order id, got \"\""},
		{PATRON_IMPORT_ORDERS,
		 "order_id,email,created_at,sku\n1,a@x.com,2024-01-01,S\n",
		 "1: no column gives the money (looked for: price, amount, total, revenue, value,"
		 " sales); an orders file without one would import as zero revenue: name it with"
		 " --map total=HEADER or --map price=HEADER"},
		{PATRON_IMPORT_ORDERS, "email,amount\na@x.com,2024-01-01\n",
		 "1: no column for \"created_at\" (looked for: created_at date order_date placed_at"
		 " ordered_at invoice_date transaction_date purchase_date); name it with"
		 " --map created_at=HEADER"},
		{PATRON_IMPORT_ORDERS, "order_id,created_at,sku\n1,2024-01-01,S\n",
		 "1: no column names the customer (looked for an email, phone or customer id"
		 " column); name one with --map email=HEADER"},
		{PATRON_IMPORT_CUSTOMERS, "email,E mail,Email\na@x.com,x,b@x.com\n",
		 "1: columns \"email\" and \"Email\" have the same name"},
		{PATRON_IMPORT_CUSTOMERS, "email,accepts_marketing\na@x.com,maybe\n",
		 "2: column \"accepts_marketing\": expected yes or no, got \"maybe\""},
		{PATRON_IMPORT_CUSTOMERS, "email,phone\na@x.com,call me\n",
		 "2: column \"phone\": expected a phone number, got \"call me\""},
		{PATRON_IMPORT_FEEDBACK, "email,created_at,rating,text\na@x.com,2024-01-01,6,ok\n",
		 "2: column \"rating\": expected a rating from 1 to 5, got \"6\""},
		{PATRON_IMPORT_PRODUCTS, "sku,price\nS1,cheap\n",
		 "2: column \"price\": expected an amount of money like 12.34, got \"cheap\""},
		{PATRON_IMPORT_CUSTOMERS, "email,note\na@x.com,\"unterminated\n",
		 "2: malformed CSV: the quoted field that starts here is never closed"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		patron_store *s = test_store();
		ck_assert_msg(import_as(s, scratch_file("bad.csv", cases[i].csv), cases[i].kind, &st,
					&err) == -1, "case %zu imported", i);
		patron_store_close(s);
		scratch_free();
		s = test_store();
		must_fail(s, scratch_file("bad.csv", cases[i].csv), cases[i].kind, cases[i].want);
		patron_store_close(s);
		scratch_free();
	}
}
END_TEST

START_TEST(refuses_an_empty_file_and_a_bad_map)
{
	patron_store *s = test_store();
	const char *path = scratch_file("empty.csv", "");
	ck_assert_int_eq(import_as(s, path, PATRON_IMPORT_CUSTOMERS, &st, &err), -1);
	char want[600];
	snprintf(want, sizeof want, "%s: the file is empty (expected a header line naming the "
		 "columns)", path);
	ck_assert_str_eq(err.msg, want);
	path = scratch_file("c.csv", "email\na@x.com\n");
	patron_import_opts o = {.kind = PATRON_IMPORT_CUSTOMERS, .map = "colour=email"};
	ck_assert_int_eq(import_with(s, path, &o, &st, &err), -1);
	ck_assert_str_eq(err.msg, "--map: unknown field \"colour\" for this import (expected one of:"
			 " customer_id email phone first_name last_name name created_at consent sms_consent"
			 " tags)");
	o.map = "email=Mail";
	ck_assert_int_eq(import_with(s, path, &o, &st, &err), -1);
	snprintf(want, sizeof want, "%s:1: --map email=Mail: there is no column \"Mail\"", path);
	ck_assert_str_eq(err.msg, want);
	patron_store_close(s);
	scratch_free();
}
END_TEST

START_TEST(a_bad_last_row_rolls_back_the_whole_file)
{
	patron_store *s = test_store();
	patron_buf csv = {0};
	patron_buf_adds(&csv, "order_id,email,created_at,sku,price\n");
	for (int i = 1; i <= 500; i++)
		patron_buf_printf(&csv, "%d,c%d@x.com,2024-01-01,S%d,1.00\n", i, i % 50, i % 7);
	patron_buf_adds(&csv, "501,c1@x.com,2024-13-01,S1,1.00\n");
	const char *path = scratch_file("orders.csv", csv.data);
	must_fail(s, path, PATRON_IMPORT_ORDERS,
		  "502: column \"created_at\": expected a date, got \"2024-13-01\"");
	char rejected[600];
	snprintf(rejected, sizeof rejected, "%s.rejected.csv", path);
	ck_assert_int_eq(access(rejected, F_OK), -1);
	patron_buf_free(&csv);
	patron_store_close(s);
	scratch_free();
}
END_TEST

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	ck_assert_ptr_nonnull(f);
	patron_buf b = {0};
	char chunk[4096];
	size_t n;
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		patron_buf_add(&b, chunk, n);
	fclose(f);
	return b.data;
}

START_TEST(skip_bad_lands_the_good_rows_and_sets_the_bad_ones_aside)
{
	patron_store *s = test_store();
	const char *path = scratch_file("orders.csv",
		"order_id,email,created_at,sku,price\n"
		"1,a@x.com,2024-01-01,S1,1.00\n"
		"2,a@x.com,31/02/2024,S1,1.00\n"
		"3,b@x.com,2024-01-03,\"S,2\",2.50\n"
		"4,nobody,2024-01-04,S1,1.00\n"
		"5,c@x.com,2024-01-05,S1\n");
	char rejected[600];
	snprintf(rejected, sizeof rejected, "%s.rejected.csv", path);
	patron_import_opts o = {.kind = PATRON_IMPORT_ORDERS, .now = TEST_NOW, .skip_bad = 1};
	ck_assert_msg(import_with(s, path, &o, &st, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(st.rows, 5);
	ck_assert_uint_eq(st.rejected, 3);
	ck_assert_uint_eq(st.orders_new, 2);
	ck_assert_str_eq(st.rejected_path, rejected);
	ck_assert_int_eq(sql_int(s, "SELECT count(*) FROM orders"), 2);
	ck_assert_int_eq(sql_int(s, "SELECT count(*) FROM customers"), 2);
	char *text = slurp(rejected);
	ck_assert_str_eq(text,
		"line,reason,order_id,email,created_at,sku,price\n"
		"3,\"column \"\"created_at\"\": expected a date, got \"\"31/02/2024\"\"\",2,a@x.com,"
		"31/02/2024,S1,1.00\n"
		"5,\"column \"\"email\"\": expected an email address, got \"\"nobody\"\"\",4,nobody,"
		"2024-01-04,S1,1.00\n"
		"6,\"expected 5 fields as in the header, got 4\",5,c@x.com,2024-01-05,S1\n");
	free(text);
	/* A clean rerun of a fixed file leaves no stale rejected file. */
	path = scratch_file("orders.csv", "order_id,email,created_at,sku,price\n"
			    "2,a@x.com,2024-02-01,S1,1.00\n");
	ck_assert_msg(import_with(s, path, &o, &st, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(st.rejected, 0);
	ck_assert_int_eq(sql_int(s, "SELECT count(*) FROM orders"), 3);
	patron_store_close(s);
	scratch_free();
}
END_TEST

Suite *suite_import(void)
{
	Suite *s = suite_create("import");
	TCase *t = tcase_create("import");
	tcase_set_timeout(t, 30);
	tcase_add_test(t, normalizes_headers_by_words_camel_case_too);
	tcase_add_test(t, a_field_takes_its_next_alias_when_the_first_is_empty);
	tcase_add_test(t, merges_customers_by_normalized_email);
	tcase_add_test(t, merges_two_known_customers_when_a_row_links_them);
	tcase_add_test(t, reimporting_the_same_files_changes_nothing);
	tcase_add_test(t, keeps_identities_tags_consent_and_names);
	tcase_add_test(t, infers_attribute_types_over_the_whole_column);
	tcase_add_test(t, stores_dates_and_widens_types_across_imports);
	tcase_add_test(t, reads_the_shopify_orders_export);
	tcase_add_test(t, reads_the_stripe_payments_export);
	tcase_add_test(t, emits_events_in_the_same_transaction);
	tcase_add_test(t, gathers_lines_of_an_order_that_are_not_adjacent);
	tcase_add_test(t, maps_columns_by_name_with_map);
	tcase_add_test(t, reports_each_kind_of_bad_row_with_file_line_and_column);
	tcase_add_test(t, refuses_an_empty_file_and_a_bad_map);
	tcase_add_test(t, a_bad_last_row_rolls_back_the_whole_file);
	tcase_add_test(t, skip_bad_lands_the_good_rows_and_sets_the_bad_ones_aside);
	suite_add_tcase(s, t);
	return s;
}
