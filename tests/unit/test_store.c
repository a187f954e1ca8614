#include <stdio.h>
#include <string.h>

#include "helpers.h"
#include "import.h"

START_TEST(creates_a_versioned_schema_in_wal_mode)
{
	patron_store *s = test_store();
	ck_assert_int_eq(sql_int(s, "PRAGMA user_version"), PATRON_SCHEMA_VERSION);
	ck_assert_str_eq(sql_text(s, "PRAGMA journal_mode"), "wal");
	ck_assert_int_eq(sql_int(s, "PRAGMA foreign_keys"), 1);
	ck_assert_int_eq(sql_int(s, "SELECT count(*) FROM sqlite_schema WHERE name IN ("
				    "'customers','identities','attributes','tags','consent','products',"
				    "'orders','order_lines','events','scores','feedback')"), 11);
	patron_store_close(s);
	s = test_store();	/* reopening migrates nothing and loses nothing */
	ck_assert_int_eq(sql_int(s, "PRAGMA user_version"), PATRON_SCHEMA_VERSION);
	patron_store_close(s);
	scratch_free();
}
END_TEST

/* Undoes migrations 15 to 7: scores a table, no order totals, no serve
 * tables, the orders table of schema 6, no rates, no erasures, feedback
 * without its sentiment. */
#define BACK_TO_6 \
	"DROP TRIGGER customer_recommendations_delete;" \
	"DROP TABLE survey_answers; DROP TABLE ticket_messages; DROP TABLE tickets;" \
	"DROP VIEW scores; DROP TRIGGER customer_scores_delete; DROP TABLE score_rows;" \
	"DROP TABLE score_names; DROP TABLE score_labels;" \
	"CREATE TABLE scores (customer_id INTEGER NOT NULL REFERENCES customers(id)" \
	" ON DELETE CASCADE, name TEXT NOT NULL, value REAL, label TEXT, model TEXT NOT NULL," \
	" computed_at INTEGER NOT NULL, PRIMARY KEY (customer_id, name)) WITHOUT ROWID;" \
	"DROP TRIGGER customer_orders_update; DROP TRIGGER customer_orders_delete;" \
	"DROP TABLE customer_orders;" \
	"DROP TABLE webhook_seen; DROP TABLE api_keys; DROP TABLE message_opens;" \
	"ALTER TABLE feedback DROP COLUMN sentiment;" \
	"DROP TABLE erasures; DROP TABLE rates; DROP TABLE order_lines; DROP TABLE orders;" \
	"CREATE TABLE orders (id INTEGER PRIMARY KEY, source TEXT NOT NULL," \
	" order_key TEXT NOT NULL, customer_id INTEGER NOT NULL REFERENCES customers(id)," \
	" placed_at INTEGER NOT NULL, total_cents INTEGER NOT NULL, currency TEXT," \
	" status TEXT NOT NULL, revenue INTEGER NOT NULL CHECK (revenue IN (0, 1))," \
	" UNIQUE (source, order_key));" \
	"CREATE INDEX orders_customer ON orders(customer_id, placed_at);" \
	"CREATE TABLE order_lines (order_id INTEGER NOT NULL REFERENCES orders(id)" \
	" ON DELETE CASCADE, line_no INTEGER NOT NULL, product_id INTEGER NOT NULL" \
	" REFERENCES products(id), quantity INTEGER NOT NULL, unit_cents INTEGER NOT NULL," \
	" amount_cents INTEGER NOT NULL, PRIMARY KEY (order_id, line_no)) WITHOUT ROWID;"

START_TEST(migration_7_keeps_every_order_line_and_lets_guests_in)
{
	patron_store *s = test_store();
	patron_err err;
	ck_assert_int_eq(patron_store_exec(s, BACK_TO_6
					   "INSERT INTO customers VALUES (1,'Ada',NULL,0,0);"
					   "INSERT INTO products VALUES (7,'A',NULL,NULL,NULL,0);"
					   "INSERT INTO orders VALUES (3,'shopify','#1',1,100,2550,'usd',"
					   "'paid',1),(4,'stripe','ch_1',1,200,900,NULL,'failed',0);"
					   "INSERT INTO order_lines VALUES (3,1,7,1,2000,2000),(3,2,7,1,550,550);"
					   "INSERT INTO scores VALUES (1,'segment',NULL,'champions',"
					   "'segment.rfm 1.0',5),(1,'churn',0.25,NULL,'churn.logreg 2',6);"
					   "PRAGMA user_version = 6", &err), 0);
	patron_store_close(s);
	s = test_store();
	ck_assert_int_eq(sql_int(s, "PRAGMA user_version"), PATRON_SCHEMA_VERSION);
	/* 9: feedback has room for its sentiment */
	ck_assert_int_eq(sql_int(s, "SELECT count(*) FROM pragma_table_info('feedback')"
				    " WHERE name = 'sentiment'"), 1);
	/* 12: the scores, kept compact, read as they were written */
	ck_assert_str_eq(sql_text(s, "SELECT group_concat(name || '=' || coalesce(value, label) ||"
				     " '@' || model || '@' || computed_at, ' ') FROM (SELECT * FROM"
				     " scores ORDER BY name)"),
			 "churn=0.25@churn.logreg 2@6 segment=champions@segment.rfm 1.0@5");
	/* Dropping the old orders table must not have cascaded to its lines. */
	ck_assert_int_eq(sql_int(s, "SELECT count(*) FROM order_lines WHERE order_id = 3"), 2);
	ck_assert_str_eq(sql_text(s, "SELECT group_concat(id || ':' || total_cents || ':' ||"
				     " amount_cents || ':' || gross_cents || ':' || refunded_cents || ':' ||"
				     " coalesce(currency, '-'), ' ') FROM orders"),
			 "3:2550:2550:2550:0:USD 4:900:900:900:0:-");
	ck_assert_int_eq(sql_int(s, "PRAGMA foreign_keys"), 1);
	ck_assert_int_eq(sql_int(s, "SELECT count(*) FROM pragma_foreign_key_check"), 0);
	/* A guest order has no customer. */
	ck_assert_int_eq(patron_store_exec(s, "INSERT INTO orders(source, order_key, customer_id,"
					   " placed_at, total_cents, amount_cents, gross_cents, status,"
					   " revenue) VALUES ('pos', 'g1', NULL, 1, 5, 5, 5, 'paid', 1)",
					   &err), 0);
	patron_store_close(s);
	scratch_free();
}
END_TEST

START_TEST(migrates_an_older_store_keeping_its_data)
{
	patron_store *s = test_store();
	patron_err err;
	/* Make it a schema 1 store: without the tables of migrations 2 to 5. */
	ck_assert_int_eq(patron_store_exec(s, BACK_TO_6 "INSERT INTO customers VALUES (1,'Ada',NULL,0,0);"
					   "DROP VIEW recommendations; DROP TABLE recommendation_lists;"
					   "DROP TABLE models;"
					   "DROP TABLE cursors; DROP TABLE bus_failures;"
					   "DROP TABLE schedules; DROP TABLE audit; DROP TABLE outbox;"
					   "DROP TABLE settings;"
					   " PRAGMA user_version = 1",
					   &err), 0);
	patron_store_close(s);
	s = test_store();
	ck_assert_int_eq(sql_int(s, "PRAGMA user_version"), PATRON_SCHEMA_VERSION);
	ck_assert_int_eq(sql_int(s, "SELECT count(*) FROM recommendations"), 0);
	ck_assert_int_eq(sql_int(s, "SELECT count(*) FROM outbox"), 0);
	ck_assert_str_eq(sql_text(s, "SELECT first_name FROM customers"), "Ada");
	patron_store_close(s);
	scratch_free();
}
END_TEST

START_TEST(migration_6_turns_recommendation_rows_into_lists)
{
	patron_store *s = test_store();
	patron_err err;
	/* A schema 5 store: one row per recommendation. */
	ck_assert_int_eq(patron_store_exec(s, BACK_TO_6 "DROP VIEW recommendations;"
					   "DROP TABLE recommendation_lists;"
					   "CREATE TABLE recommendations (customer_id INTEGER NOT NULL,"
					   " rank INTEGER NOT NULL, product_id INTEGER NOT NULL, score REAL,"
					   " model TEXT NOT NULL, computed_at INTEGER NOT NULL,"
					   " PRIMARY KEY (customer_id, rank)) WITHOUT ROWID;"
					   "INSERT INTO customers VALUES (1,'Ada',NULL,0,0),(2,'Bo',NULL,0,0);"
					   "INSERT INTO products VALUES (7,'A',NULL,NULL,NULL,0),"
					   "(8,'B',NULL,NULL,NULL,0);"
					   "INSERT INTO recommendations VALUES (1,2,7,0.5,'m',9),(1,1,8,0.75,'m',9),"
					   "(2,1,7,0.25,'m',9);"
					   "PRAGMA user_version = 5", &err), 0);
	patron_store_close(s);
	s = test_store();
	ck_assert_int_eq(sql_int(s, "PRAGMA user_version"), PATRON_SCHEMA_VERSION);
	ck_assert_str_eq(sql_text(s, "SELECT group_concat(customer_id || '.' || rank || '=' || "
				     "product_id || '@' || score, ' ') FROM recommendations"),
			 "1.1=8@0.75 1.2=7@0.5 2.1=7@0.25");
	ck_assert_int_eq(sql_int(s, "SELECT count(*) FROM recommendation_lists"), 2);
	patron_store_close(s);
	scratch_free();
}
END_TEST

START_TEST(refuses_a_store_from_a_newer_patron)
{
	patron_store *s = test_store();
	patron_store_exec(s, "PRAGMA user_version = 99", NULL);
	char path[512];
	snprintf(path, sizeof path, "%s", patron_store_path(s));
	patron_store_close(s);
	patron_err err;
	ck_assert_int_eq(patron_store_open(path, &s, &err), -1);
	ck_assert_ptr_nonnull(strstr(err.msg, "the store has schema version 99, this patron knows "
					     "up to 15: use a newer patron"));
	scratch_free();
}
END_TEST

START_TEST(refuses_a_file_that_is_not_a_store)
{
	const char *path = scratch_file("notes.db", "just some text, long enough to have a header"
					"that is not SQLite's magic string at all\n");
	patron_store *s;
	patron_err err;
	ck_assert_int_eq(patron_store_open(path, &s, &err), -1);
	char want[600];
	snprintf(want, sizeof want, "%s: not a Patron store (not an SQLite database)", path);
	ck_assert_str_eq(err.msg, want);
	scratch_free();
}
END_TEST

/* Run with foreign keys on (_i 0) and off (1), as a bulk import runs. */
START_TEST(merging_moves_everything_and_keeps_withdrawn_consent)
{
	patron_store *s = test_store();
	patron_err err;
	int64_t a, b;
	if (_i)
		ck_assert_int_eq(patron_store_exec(s, "PRAGMA foreign_keys = OFF", &err), 0);
	ck_assert_int_eq(patron_customer_new(s, 100, &a, &err), 0);
	ck_assert_int_eq(patron_customer_new(s, 50, &b, &err), 0);
	patron_identity_add(s, a, "email", "a@x.com", &err);
	patron_identity_add(s, b, "id", "C1", &err);
	patron_store_exec(s, "INSERT INTO attribute_defs VALUES ('country','text');"
			  "INSERT INTO attributes VALUES (1,'country','GB'), (2,'country','FR');"
			  "INSERT INTO consent VALUES (1,'email',1,'import',0), (2,'email',0,'import',0);"
			  "INSERT INTO tags VALUES (2,'vip',0);"
			  "INSERT INTO orders(source,order_key,customer_id,placed_at,total_cents,"
			  "amount_cents,gross_cents,status,revenue)"
			  " VALUES ('patron','o1',2,60,500,500,500,'paid',1)", &err);
	ck_assert_int_eq(patron_customer_merge(s, a, b, 200, &err), 0);
	ck_assert_int_eq(sql_int(s, "SELECT count(*) FROM customers"), 1);
	ck_assert_int_eq(patron_customer_find(s, "id", "C1"), a);
	ck_assert_str_eq(sql_text(s, "SELECT value FROM attributes WHERE customer_id=1"), "GB");
	ck_assert_int_eq(sql_int(s, "SELECT granted FROM consent WHERE customer_id=1"), 0);
	ck_assert_int_eq(sql_int(s, "SELECT count(*) FROM tags WHERE customer_id=1"), 1);
	ck_assert_int_eq(sql_int(s, "SELECT customer_id FROM orders"), a);
	ck_assert_int_eq(sql_int(s, "SELECT created_at FROM customers"), 50);
	ck_assert_int_eq(sql_int(s, "SELECT count(*) FROM events WHERE topic='customer.merged'"), 1);
	/* nothing of the merged customer stays behind, cascade or not */
	ck_assert_int_eq(sql_int(s, "SELECT (SELECT count(*) FROM attributes WHERE customer_id = 2)"
				    " + (SELECT count(*) FROM consent WHERE customer_id = 2)"
				    " + (SELECT count(*) FROM tags WHERE customer_id = 2)"
				    " + (SELECT count(*) FROM identities WHERE customer_id = 2)"), 0);
	ck_assert_int_eq(sql_int(s, "SELECT count(*) FROM pragma_foreign_key_check"), 0);
	patron_store_close(s);
	scratch_free();
}
END_TEST

START_TEST(bulk_mode_switches_the_journal_only_when_alone)
{
	patron_store *s = test_store();
	ck_assert_int_eq(patron_store_bulk(s, 1), 1);
	ck_assert_str_eq(sql_text(s, "PRAGMA journal_mode"), "delete");
	ck_assert_int_eq(patron_store_bulk(s, 0), 1);
	ck_assert_str_eq(sql_text(s, "PRAGMA journal_mode"), "wal");
	/* Another connection reading the store keeps it in WAL. */
	patron_store *other = test_store();
	ck_assert_int_eq(sql_int(other, "SELECT count(*) FROM customers"), 0);
	ck_assert_int_eq(patron_store_bulk(s, 1), 0);
	ck_assert_str_eq(sql_text(s, "PRAGMA journal_mode"), "wal");
	patron_store_close(other);
	patron_store_close(s);
	scratch_free();
}
END_TEST

/* customer_orders, the summary a rule over every customer reads, against
 * the sum of the orders themselves after each kind of change. */
static const char *totals(patron_store *s)
{
	ck_assert_int_eq(sql_int(s, "SELECT count(*) FROM (SELECT customer_id, count(*),"
				    " sum(total_cents), min(placed_at), max(placed_at) FROM orders"
				    " WHERE revenue AND customer_id IS NOT NULL GROUP BY 1"
				    " EXCEPT SELECT * FROM customer_orders)"), 0);
	ck_assert_int_eq(sql_int(s, "SELECT count(*) FROM customer_orders c WHERE NOT EXISTS"
				    " (SELECT 1 FROM orders o WHERE o.customer_id = c.customer_id"
				    " AND o.revenue)"), 0);
	return sql_text(s, "SELECT group_concat(customer_id || ':' || orders || ':' ||"
			   " spent_cents || ':' || first_at || ':' || last_at, ' ') FROM"
			   " (SELECT * FROM customer_orders ORDER BY customer_id)");
}

START_TEST(order_totals_follow_every_change_of_an_order)
{
	patron_store *s = test_store();
	patron_err err;
	patron_import_opts o = {.kind = PATRON_IMPORT_ORDERS, .currency = "USD", .now = 1000};
	patron_import_stats st;
	/* An import into an empty store sums everyone at its end. */
	const char *csv = "order_id,email,created_at,total,status\n"
			  "a,ada@example.com,1970-01-02,10.00,paid\n"
			  "b,ada@example.com,1970-01-01,5.00,paid\n"
			  "c,ada@example.com,1970-01-04,9.99,failed\n"
			  "d,,1970-01-01,7.00,paid\n"
			  "e,bo@example.com,1970-01-03,3.00,paid\n"
			  "f,cy@example.com,1970-01-03,1.00,paid\n"
			  "g,di@example.com,1970-01-03,1.00,paid\n"
			  "h,ed@example.com,1970-01-03,1.00,paid\n"
			  "i,fi@example.com,1970-01-03,1.00,paid\n";
	ck_assert_msg(patron_import_mem(s, "o.csv", csv, strlen(csv), &o, &st, &err) == 0, "%s",
		      err.msg);
	const char *ada = "SELECT orders || ':' || spent_cents || ':' || (first_at / 86400) || ':' ||"
			  " (last_at / 86400) FROM customer_orders WHERE customer_id = 1";
	totals(s);
	ck_assert_str_eq(sql_text(s, ada), "2:1500:0:1");
	ck_assert_int_eq(sql_int(s, "SELECT count(*) FROM customer_orders"), 6);
	/* A later import for one customer of many sums that one's orders. */
	csv = "order_id,email,created_at,total,status\nj,ada@example.com,1970-01-09,1.01,paid\n";
	ck_assert_msg(patron_import_mem(s, "o2.csv", csv, strlen(csv), &o, &st, &err) == 0, "%s",
		      err.msg);
	totals(s);
	ck_assert_str_eq(sql_text(s, ada), "3:1601:0:8");
	/* a refund, and a failed payment that went through after all */
	patron_store_exec(s, "UPDATE orders SET total_cents = 400 WHERE order_key = 'a';"
			  "UPDATE orders SET revenue = 1, status = 'paid' WHERE order_key = 'c'", &err);
	totals(s);
	ck_assert_str_eq(sql_text(s, ada), "4:2000:0:8");
	/* a merge moves orders (an erasure too, to a tombstone customer) */
	patron_store_exec(s, "UPDATE orders SET customer_id = 2 WHERE customer_id = 1", &err);
	totals(s);
	ck_assert_int_eq(sql_int(s, "SELECT count(*) FROM customer_orders WHERE customer_id = 1"), 0);
	ck_assert_int_eq(sql_int(s, "SELECT orders FROM customer_orders WHERE customer_id = 2"), 5);
	/* a guest order claimed; an order deleted; every paid order cancelled */
	patron_store_exec(s, "UPDATE orders SET customer_id = 1 WHERE order_key = 'd';"
			  "DELETE FROM orders WHERE order_key = 'e'", &err);
	totals(s);
	ck_assert_str_eq(sql_text(s, ada), "1:700:0:0");
	patron_store_exec(s, "UPDATE orders SET revenue = 0", &err);
	totals(s);
	ck_assert_int_eq(sql_int(s, "SELECT count(*) FROM customer_orders"), 0);
	patron_store_close(s);
}
END_TEST

Suite *suite_store(void)
{
	Suite *s = suite_create("store");
	TCase *t = tcase_create("store");
	tcase_add_test(t, creates_a_versioned_schema_in_wal_mode);
	tcase_add_test(t, migrates_an_older_store_keeping_its_data);
	tcase_add_test(t, migration_6_turns_recommendation_rows_into_lists);
	tcase_add_test(t, migration_7_keeps_every_order_line_and_lets_guests_in);
	tcase_add_test(t, refuses_a_store_from_a_newer_patron);
	tcase_add_test(t, refuses_a_file_that_is_not_a_store);
	tcase_add_loop_test(t, merging_moves_everything_and_keeps_withdrawn_consent, 0, 2);
	tcase_add_test(t, bulk_mode_switches_the_journal_only_when_alone);
	tcase_add_test(t, order_totals_follow_every_change_of_an_order);
	suite_add_tcase(s, t);
	return s;
}
