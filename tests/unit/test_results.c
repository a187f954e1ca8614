#include <math.h>
#include <stdio.h>
#include <string.h>

#include "helpers.h"
#include "results.h"

static void customers(patron_store *s, int n)
{
	patron_err err;
	char sql[128];
	for (int i = 1; i <= n; i++) {
		snprintf(sql, sizeof sql, "INSERT INTO customers VALUES (%d, 'C', NULL, 0, 0)", i);
		ck_assert_int_eq(patron_store_exec(s, sql, &err), 0);
	}
}

START_TEST(scores_land_in_key_order_with_the_later_batch_winning)
{
	patron_store *s = test_store();
	patron_err err;
	customers(s, 4);
	patron_results *r = patron_results_new();
	/* Ids out of order, a duplicate within one batch (its later row wins),
	 * a later batch of the same name replacing a value, a NaN meaning no
	 * score (customer 4 has a segment but no rfm.r). */
	const int64_t ids1[] = {3, 1, 2, 1};
	const double v1[] = {30, 10, 20, 11};
	patron_results_add_scores(r, "rfm.r", 4, ids1, v1, NULL);
	const int64_t ids2[] = {2, 4};
	const double v2[] = {22, NAN};
	patron_results_add_scores(r, "rfm.r", 2, ids2, v2, NULL);
	char a[] = "champions", b[] = "lost";
	const char *labels[] = {a, b};
	const int64_t ids3[] = {4, 1};
	patron_results_add_scores(r, "segment", 2, ids3, NULL, labels);
	a[0] = 'X';	/* the labels were copied */
	ck_assert_uint_eq(patron_results_count(r), 8);
	/* Nothing is in the store before the commit. */
	ck_assert_int_eq(sql_int(s, "SELECT count(*) FROM scores"), 0);
	ck_assert_int_eq(patron_results_commit(r, s, "segment.test 1.0", TEST_NOW, &err), 0);
	patron_results_free(r);
	ck_assert_str_eq(sql_text(s, "SELECT group_concat(customer_id || ':' || name || '=' || "
				     "coalesce(value, label, 'null'), ' ') FROM (SELECT * FROM scores"
				     " ORDER BY customer_id, name)"),
			 "1:rfm.r=11.0 1:segment=lost 2:rfm.r=22.0 3:rfm.r=30.0 "
			 "4:segment=champions");
	ck_assert_int_eq(sql_int(s, "SELECT count(*) FROM scores WHERE model = 'segment.test 1.0'"
				    " AND computed_at = 1795392000"), 5);
	/* One row per customer for the run's two names. */
	ck_assert_int_eq(sql_int(s, "SELECT count(*) FROM score_rows"), 4);
	patron_store_close(s);
	scratch_free();
}
END_TEST

START_TEST(a_failed_commit_leaves_the_store_as_it_was)
{
	patron_store *s = test_store();
	patron_err err;
	customers(s, 2);
	ck_assert_int_eq(patron_store_exec(s, "INSERT INTO scores VALUES (1, 'clv', 5, NULL, "
					   "'value.old 1.0', 0)", &err), 0);
	patron_results *r = patron_results_new();
	const int64_t ids[] = {1, 2, 99};	/* 99 is no customer */
	const double v[] = {1, 2, 3};
	patron_results_add_scores(r, "clv", 3, ids, v, NULL);
	ck_assert_int_eq(patron_results_commit(r, s, "value.clv 1.0", TEST_NOW, &err), -1);
	ck_assert_str_eq(err.msg, "writing results: score clv: no customer 99 in the store");
	patron_results_free(r);
	ck_assert_str_eq(sql_text(s, "SELECT group_concat(customer_id || '=' || value) FROM scores"),
			 "1=5.0");
	patron_store_close(s);
	scratch_free();
}
END_TEST

START_TEST(recommendation_lists_replace_the_old_ones)
{
	patron_store *s = test_store();
	patron_err err;
	customers(s, 3);
	ck_assert_int_eq(patron_store_exec(s, "INSERT INTO products VALUES (1,'A',NULL,NULL,NULL,0),"
					   "(2,'B',NULL,NULL,NULL,0),(3,'C',NULL,NULL,NULL,0);"
					   "INSERT INTO recommendation_lists VALUES (1, "
					   "'[[1,0.1,null],[2,0.1,null],[3,0.1,null]]', 'm', 0),"
					   " (3, '[[1,0.5,null]]', 'm', 0)", &err), 0);
	ck_assert_int_eq(sql_int(s, "SELECT count(*) FROM recommendations"), 4);
	patron_results *r = patron_results_new();
	const int64_t ids[] = {2, 1};
	const int64_t products[] = {3, 1, 2, 0};	/* customer 1's list ends early */
	const double scores[] = {0.9, -1.25, 1234.5000004, 0};
	/* Why: for customer 2's first, products 1 then 2; for its second, 3. */
	const int64_t because[] = {1, 2, 3, 0, 0, 0, 0, 0};
	patron_results_add_recommendations(r, 2, ids, 2, products, scores, 2, because);
	ck_assert_int_eq(patron_results_commit(r, s, "recommend.test 1.0", TEST_NOW, &err), 0);
	patron_results_free(r);
	ck_assert_str_eq(sql_text(s, "SELECT group_concat(customer_id || '.' || rank || '=' || "
				     "product_id, ' ') FROM recommendations"), "1.1=2 2.1=3 2.2=1");
	ck_assert_str_eq(sql_text(s, "SELECT group_concat(coalesce(because, '-'), ' ') FROM "
				     "recommendations"), "- 1,2 3");
	/* The run's lists replace all the old ones: customer 3, left out of
	 * it, has none now. One row per customer, scores to six decimals. */
	ck_assert_str_eq(sql_text(s, "SELECT group_concat(items, ' ') FROM recommendation_lists"),
			 "[[2,1234.5,null]] [[3,0.9,\"1,2\"],[1,-1.25,\"3\"]]");
	ck_assert_str_eq(sql_text(s, "SELECT group_concat(model, ' ') FROM recommendation_lists"),
			 "recommend.test 1.0 recommend.test 1.0");
	/* A list for no customer fails the run and keeps the lists. */
	r = patron_results_new();
	const int64_t stranger[] = {1, 99};
	patron_results_add_recommendations(r, 2, stranger, 2, products, scores, 0, NULL);
	ck_assert_int_eq(patron_results_commit(r, s, "recommend.test 2.0", TEST_NOW, &err), -1);
	ck_assert_str_eq(err.msg, "writing results: recommendations: no customer 99 in the store");
	patron_results_free(r);
	ck_assert_int_eq(sql_int(s, "SELECT count(*) FROM recommendation_lists WHERE model ="
				    " 'recommend.test 1.0'"), 2);
	/* A customer's list goes with them. */
	ck_assert_int_eq(patron_store_exec(s, "DELETE FROM customers WHERE id = 2", &err), 0);
	ck_assert_int_eq(sql_int(s, "SELECT count(*) FROM recommendation_lists"), 1);
	patron_store_close(s);
	scratch_free();
}
END_TEST

/* The scores of the store, "customer:name=value|label" in order. */
static const char *all_scores(patron_store *s)
{
	return sql_text(s, "SELECT group_concat(customer_id || ':' || name || '=' || coalesce(value,"
			" label), ' ') FROM (SELECT * FROM scores ORDER BY customer_id, name)");
}

static void run_of(patron_store *s, const char *model, size_t names, const char *const *name,
		   size_t n, const int64_t *ids, double base)
{
	patron_err err;
	patron_results *r = patron_results_new();
	double v[8];
	for (size_t k = 0; k < names; k++) {
		for (size_t i = 0; i < n; i++)
			v[i] = base + (double)(10 * k + i);
		patron_results_add_scores(r, name[k], n, ids, v, NULL);
	}
	ck_assert_int_eq(patron_results_commit(r, s, model, TEST_NOW, &err), 0);
	patron_results_free(r);
}

START_TEST(a_run_replaces_its_names_and_leaves_the_others)
{
	patron_store *s = test_store();
	patron_err err;
	customers(s, 3);
	static const char *const ab[] = {"a", "b"}, *const b[] = {"b"};
	const int64_t all[] = {1, 2, 3}, two[] = {2};
	run_of(s, "m1", 2, ab, 3, all, 0);
	ck_assert_str_eq(all_scores(s), "1:a=0.0 1:b=10.0 2:a=1.0 2:b=11.0 3:a=2.0 3:b=12.0");
	/* A run writing only b: b is what it wrote (customer 2 alone), a is
	 * left as it was, still read from the first run's rows. */
	run_of(s, "m2", 1, b, 1, two, 100);
	ck_assert_str_eq(all_scores(s), "1:a=0.0 2:a=1.0 2:b=100.0 3:a=2.0");
	ck_assert_str_eq(sql_text(s, "SELECT group_concat(name || '@' || model, ' ') FROM (SELECT"
				     " DISTINCT name, model FROM scores ORDER BY name)"), "a@m1 b@m2");
	ck_assert_int_eq(sql_int(s, "SELECT count(*) FROM score_rows"), 4);
	/* Writing a too: the first run's rows have no name left and go. */
	run_of(s, "m3", 2, ab, 1, two, 200);
	ck_assert_str_eq(all_scores(s), "2:a=200.0 2:b=210.0");
	ck_assert_int_eq(sql_int(s, "SELECT count(*) FROM score_rows"), 1);
	/* Deleting a customer deletes their scores. */
	ck_assert_int_eq(patron_store_exec(s, "DELETE FROM customers WHERE id = 2", &err), 0);
	ck_assert_int_eq(sql_int(s, "SELECT count(*) FROM score_rows"), 0);
	patron_store_close(s);
	scratch_free();
}
END_TEST

START_TEST(more_names_than_a_set_holds_and_single_rows_through_the_view)
{
	patron_store *s = test_store();
	patron_err err;
	customers(s, 2);
	static const char *const names[] = {"n0", "n1", "n2", "n3", "n4", "n5", "n6", "n7",
					    "n8", "n9"};
	const int64_t ids[] = {1, 2};
	run_of(s, "wide", 10, names, 2, ids, 0);
	ck_assert_int_eq(sql_int(s, "SELECT count(*) FROM scores"), 20);
	ck_assert_int_eq(sql_int(s, "SELECT count(DISTINCT set_id) FROM score_names"), 2);
	ck_assert_int_eq(sql_int(s, "SELECT count(*) FROM score_rows"), 4);
	ck_assert_str_eq(sql_text(s, "SELECT group_concat(value, ' ') FROM (SELECT value FROM scores"
				     " WHERE customer_id = 2 ORDER BY name)"),
			 "1.0 11.0 21.0 31.0 41.0 51.0 61.0 71.0 81.0 91.0");
	/* The view's triggers write and delete the odd row in any slot. */
	ck_assert_int_eq(patron_store_exec(s, "INSERT INTO scores VALUES (1, 'n5', 7, NULL, 'hand',"
					   " 9); DELETE FROM scores WHERE customer_id = 2 AND name"
					   " = 'n3'; INSERT INTO scores VALUES (2, 'vip', NULL,"
					   " 'yes', 'hand', 9)", &err), 0);
	ck_assert_str_eq(sql_text(s, "SELECT group_concat(value, ' ') FROM (SELECT value FROM scores"
				     " WHERE customer_id = 1 ORDER BY name)"),
			 "0.0 10.0 20.0 30.0 40.0 7.0 60.0 70.0 80.0 90.0");
	ck_assert_int_eq(sql_int(s, "SELECT count(*) FROM scores WHERE customer_id = 2"), 10);
	ck_assert_str_eq(sql_text(s, "SELECT label || '@' || model FROM scores WHERE name = 'vip'"),
			 "yes@hand");
	ck_assert_str_eq(sql_text(s, "SELECT typeof(value) FROM scores WHERE name = 'n5' AND"
				     " customer_id = 1"), "real");
	patron_store_close(s);
	scratch_free();
}
END_TEST

Suite *suite_results(void)
{
	Suite *s = suite_create("results");
	TCase *t = tcase_create("results");
	tcase_add_test(t, scores_land_in_key_order_with_the_later_batch_winning);
	tcase_add_test(t, a_failed_commit_leaves_the_store_as_it_was);
	tcase_add_test(t, a_run_replaces_its_names_and_leaves_the_others);
	tcase_add_test(t, more_names_than_a_set_holds_and_single_rows_through_the_view);
	tcase_add_test(t, recommendation_lists_replace_the_old_ones);
	suite_add_tcase(s, t);
	return s;
}
