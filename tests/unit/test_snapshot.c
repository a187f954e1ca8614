#include <math.h>
#include <stdio.h>
#include <string.h>

#include "helpers.h"
#include "value.h"
#include "snapshot.h"

/* A tiny store, dates as days after 2024-01-01 (D0):
 *   customer 1: created D0; paid orders D10 ($10: 2 x P1), D40 ($30: P1 + P2),
 *               D100 ($20: P2, after the "now" below), a failed order D50
 *   customer 2: created D5; one paid order D20 ($5: P3); tier=3, vip=no
 *   customer 3: created D60 (after now: not a row)
 *   customer 4: created D1; no orders; tier=1.5 */
#define D0 1704067200
#define D(n) (D0 + (n) * 86400)

static patron_store *tiny_store(void)
{
	patron_store *s = test_store();
	patron_err err;
	char sql[4096];
	snprintf(sql, sizeof sql,
		 "INSERT INTO customers(id, created_at, updated_at) VALUES"
		 " (1, %d, 0), (2, %d, 0), (3, %d, 0), (4, %d, 0);"
		 "INSERT INTO products(id, sku, created_at) VALUES (1,'P1',0), (2,'P2',0), (3,'P3',0);"
		 "INSERT INTO orders(id, source, order_key, customer_id, placed_at, total_cents,"
		 " amount_cents, gross_cents, status, revenue) VALUES"
		 " (1,'t','a',1,%d,1000,1000,1000,'paid',1), (2,'t','b',1,%d,3000,3000,3000,'paid',1),"
		 " (3,'t','c',1,%d,2000,2000,2000,'paid',1), (4,'t','d',1,%d,9900,9900,9900,'failed',0),"
		 " (5,'t','e',2,%d,500,500,500,'paid',1);"
		 "INSERT INTO order_lines VALUES (1,1,1,2,500,1000), (2,1,1,1,1000,1000),"
		 " (2,2,2,1,2000,2000), (3,1,2,1,2000,2000), (4,1,3,1,9900,9900), (5,1,3,1,500,500);"
		 "INSERT INTO attribute_defs VALUES ('tier','real'), ('vip','text');"
		 "INSERT INTO attributes VALUES (2,'tier',3), (4,'tier',1.5), (2,'vip','no'),"
		 " (1,'vip','yes');",
		 D0, D(5), D(60), D(1), D(10), D(40), D(100), D(50), D(20));
	ck_assert_msg(patron_store_exec(s, sql, &err) == 0, "%s", err.msg);
	return s;
}

static double at(const patron_features *f, size_t row, const char *col)
{
	for (size_t c = 0; c < f->cols; c++)
		if (strcmp(f->names[c], col) == 0)
			return f->x[row * f->cols + c];
	ck_abort_msg("no column %s", col);
	return 0;
}

START_TEST(features_match_hand_computed_values_as_of_a_past_now)
{
	patron_store *s = tiny_store();
	patron_snapshot sn;
	patron_snapshot_init(&sn, s, D(50) + 3600);	/* "now" is day 50, 01:00 */
	patron_err err;
	const patron_features *f = patron_snapshot_features(&sn, &err);
	ck_assert_msg(f != NULL, "%s", err.msg);
	ck_assert_uint_eq(f->rows, 3);	/* customer 3 did not exist yet */
	ck_assert_int_eq(f->customer_ids[0], 1);
	ck_assert_int_eq(f->customer_ids[1], 2);
	ck_assert_int_eq(f->customer_ids[2], 4);
	/* Customer 1: paid D10 and D40; D100 is after now, D50 failed. */
	ck_assert_double_eq(at(f, 0, "frequency"), 2);
	ck_assert_double_eq(at(f, 0, "monetary_total"), 40);
	ck_assert_double_eq(at(f, 0, "monetary_mean"), 20);
	ck_assert_double_eq(at(f, 0, "recency_days"), 10);
	ck_assert_double_eq(at(f, 0, "tenure_days"), 50);
	ck_assert_double_eq(at(f, 0, "mean_gap_days"), 30);
	ck_assert_double_eq(at(f, 0, "orders_30d"), 1);
	ck_assert_double_eq(at(f, 0, "orders_90d"), 2);
	ck_assert_double_eq(at(f, 0, "orders_365d"), 2);
	ck_assert(isnan(at(f, 0, "attr.tier")));
	ck_assert_double_eq(at(f, 0, "attr.vip=yes"), 1);
	ck_assert_double_eq(at(f, 0, "attr.vip=no"), 0);
	/* Customer 2: one order, so no gap. */
	ck_assert_double_eq(at(f, 1, "frequency"), 1);
	ck_assert_double_eq(at(f, 1, "recency_days"), 30);
	ck_assert(isnan(at(f, 1, "mean_gap_days")));
	ck_assert_double_eq(at(f, 1, "attr.tier"), 3);
	ck_assert_double_eq(at(f, 1, "attr.vip=no"), 1);
	/* Customer 4: never ordered. */
	ck_assert_double_eq(at(f, 2, "frequency"), 0);
	ck_assert(isnan(at(f, 2, "recency_days")));
	ck_assert(isnan(at(f, 2, "monetary_mean")));
	ck_assert_double_eq(at(f, 2, "tenure_days"), 49);
	ck_assert_double_eq(at(f, 2, "attr.tier"), 1.5);
	ck_assert_uint_eq(f->cols, 9 + 3);
	/* Released (as a score does before its recommender), the features are
	 * built again when asked for, the same. */
	patron_snapshot_release_features(&sn);
	f = patron_snapshot_features(&sn, &err);
	ck_assert_msg(f != NULL, "%s", err.msg);
	ck_assert_uint_eq(f->rows, 3);
	ck_assert_double_eq(at(f, 0, "monetary_total"), 40);
	ck_assert_double_eq(at(f, 2, "attr.tier"), 1.5);
	const patron_purchases *p = patron_snapshot_purchases(&sn, &err);
	ck_assert_msg(p != NULL, "%s", err.msg);
	ck_assert_uint_eq(p->offsets[1], 2);	/* customer 1's two paid days */
	patron_snapshot_free(&sn);
	patron_store_close(s);
	scratch_free();
}
END_TEST

/* The orders pass reads the two halves of the order ids on two threads:
 * a customer whose orders are in both halves (the latest with the lowest
 * id, the earliest with the highest) adds up as one. */
START_TEST(orders_in_both_halves_of_the_ids_add_up)
{
	patron_store *s = test_store();
	patron_err err;
	char sql[2048];
	snprintf(sql, sizeof sql,
		 "INSERT INTO customers(id, created_at, updated_at) VALUES (1, %d, 0), (2, %d, 0);"
		 "INSERT INTO orders(id, source, order_key, customer_id, placed_at, total_cents,"
		 " amount_cents, gross_cents, status, revenue) VALUES"
		 " (1,'t','a',1,%d,100,100,100,'paid',1), (2,'t','b',2,%d,700,700,700,'paid',1),"
		 " (3,'t','c',1,%d,200,200,200,'paid',1), (4,'t','d',1,%d,400,400,400,'paid',1),"
		 " (5,'t','e',1,%d,800,800,800,'paid',1), (6,'t','f',2,%d,900,900,900,'paid',1)",
		 D0, D0, D(48), D(2), D(30), D(45), D(10), D(49));
	ck_assert_msg(patron_store_exec(s, sql, &err) == 0, "%s", err.msg);
	patron_snapshot sn;
	patron_snapshot_init(&sn, s, D(50));
	const patron_features *f = patron_snapshot_features(&sn, &err);
	ck_assert_msg(f != NULL, "%s", err.msg);
	ck_assert_double_eq(at(f, 0, "frequency"), 4);
	ck_assert_double_eq(at(f, 0, "monetary_total"), 15);
	ck_assert_double_eq(at(f, 0, "recency_days"), 2);	/* D48, order 1 */
	ck_assert_double_eq(at(f, 0, "mean_gap_days"), 38.0 / 3);	/* D10 (order 5) to D48 */
	ck_assert_double_eq(at(f, 0, "orders_30d"), 3);	/* D30, D45, D48 */
	ck_assert_double_eq(at(f, 1, "frequency"), 2);
	ck_assert_double_eq(at(f, 1, "monetary_total"), 16);
	ck_assert_double_eq(at(f, 1, "recency_days"), 1);
	ck_assert_double_eq(at(f, 1, "mean_gap_days"), 47);
	patron_snapshot_free(&sn);
	patron_store_close(s);
	scratch_free();
}
END_TEST

START_TEST(graph_merges_repeat_purchases_and_ignores_the_future)
{
	patron_store *s = tiny_store();
	patron_snapshot sn;
	patron_snapshot_init(&sn, s, D(50) + 3600);
	patron_err err;
	const patron_graph *g = patron_snapshot_graph(&sn, &err);
	ck_assert_msg(g != NULL, "%s", err.msg);
	ck_assert_uint_eq(g->rows, 3);
	ck_assert_uint_eq(g->products, 3);
	/* Customer 1: P1 twice (2 + 1 items, $20, last D40), P2 once ($20);
	 * the D100 order is after now and the D50 one failed. */
	ck_assert_uint_eq(g->offsets[0], 0);
	ck_assert_uint_eq(g->offsets[1], 2);
	ck_assert_int_eq(g->product_ids[g->cols[0]], 1);
	ck_assert_double_eq(g->quantity[0], 3);
	ck_assert_double_eq(g->spend[0], 20);
	ck_assert_int_eq(g->last_at[0], D(40));
	ck_assert_int_eq(g->product_ids[g->cols[1]], 2);
	ck_assert_double_eq(g->spend[1], 20);
	/* Customer 2: P3; customer 4: nothing. */
	ck_assert_uint_eq(g->offsets[2], 3);
	ck_assert_uint_eq(g->offsets[3], 3);
	ck_assert_int_eq(g->product_ids[g->cols[2]], 3);
	ck_assert_uint_eq(g->nnz, 3);
	/* The graph let each order's row and time go; the purchase days, asked
	 * for after it, read the orders again and are whole: customer 1's
	 * $10 on D10 and $30 on D40, customer 2's $5 on D20. */
	const patron_purchases *p = patron_snapshot_purchases(&sn, &err);
	ck_assert_msg(p != NULL, "%s", err.msg);
	ck_assert_uint_eq(p->offsets[1], 2);
	ck_assert_int_eq(p->days[0], patron_day_number(D(10)));
	ck_assert_double_eq(p->amounts[0], 10);
	ck_assert_double_eq(p->amounts[1], 30);
	ck_assert_uint_eq(p->offsets[2], 3);
	ck_assert_double_eq(p->amounts[2], 5);
	ck_assert_uint_eq(p->offsets[3], 3);
	patron_snapshot_free(&sn);
	patron_store_close(s);
	scratch_free();
}
END_TEST

/* The summary, from the store's per-customer totals while they describe
 * now, is the feature matrix's recency, frequency and money; in a replay
 * of the past (orders after now) it is the matrix itself. */
START_TEST(the_summary_is_the_matrix_s_first_columns_from_the_totals)
{
	patron_store *s = tiny_store();
	patron_err err;
	/* as the import keeps them (tiny_store writes orders by hand) */
	ck_assert_int_eq(patron_store_exec(s, "INSERT INTO customer_orders SELECT customer_id,"
					   " count(*), sum(total_cents), min(placed_at), max(placed_at)"
					   " FROM orders WHERE revenue GROUP BY customer_id", &err), 0);
	patron_snapshot a, b;
	patron_snapshot_init(&a, s, D(200));
	patron_snapshot_init(&b, s, D(200));
	const patron_features *sum = patron_snapshot_summary(&a, &err);
	const patron_features *f = patron_snapshot_features(&b, &err);
	ck_assert_ptr_nonnull(sum);
	ck_assert_ptr_nonnull(f);
	ck_assert(a.built_summary && !a.built_features);
	ck_assert_uint_eq(sum->cols, 3);
	ck_assert_uint_eq(sum->rows, f->rows);
	ck_assert_uint_eq(sum->rows, 4);
	static const char *const cols[] = {"recency_days", "frequency", "monetary_total"};
	for (size_t r = 0; r < f->rows; r++) {
		ck_assert_int_eq(sum->customer_ids[r], f->customer_ids[r]);
		for (int c = 0; c < 3; c++) {
			double x = at(sum, r, cols[c]), y = at(f, r, cols[c]);
			ck_assert_msg(x == y || (isnan(x) && isnan(y)), "row %zu %s: %g, %g", r, cols[c],
				      x, y);
		}
	}
	ck_assert_double_eq(at(sum, 0, "monetary_total"), 60.0);
	ck_assert_double_eq(at(sum, 0, "recency_days"), 100.0);
	ck_assert(isnan(at(sum, 3, "recency_days")));
	patron_snapshot_free(&a);
	patron_snapshot_free(&b);
	/* day 50: the order of day 100 is after now, so the totals say too much */
	patron_snapshot_init(&a, s, D(50) + 3600);
	sum = patron_snapshot_summary(&a, &err);
	ck_assert_ptr_nonnull(sum);
	ck_assert(a.built_features && !a.built_summary);
	ck_assert_double_eq(at(sum, 0, "frequency"), 2.0);
	ck_assert_double_eq(at(sum, 0, "monetary_total"), 40.0);
	patron_snapshot_free(&a);
	patron_store_close(s);
	scratch_free();
}
END_TEST

START_TEST(an_empty_store_gives_empty_views)
{
	patron_store *s = test_store();
	patron_snapshot sn;
	patron_snapshot_init(&sn, s, TEST_NOW);
	patron_err err;
	const patron_features *f = patron_snapshot_features(&sn, &err);
	const patron_graph *g = patron_snapshot_graph(&sn, &err);
	ck_assert(f && g);
	ck_assert_uint_eq(f->rows, 0);
	ck_assert_uint_eq(f->cols, 9);
	ck_assert_uint_eq(g->nnz, 0);
	ck_assert_uint_eq(g->offsets[0], 0);
	patron_snapshot_free(&sn);
	patron_store_close(s);
	scratch_free();
}
END_TEST

Suite *suite_snapshot(void)
{
	Suite *s = suite_create("snapshot");
	TCase *t = tcase_create("snapshot");
	tcase_add_test(t, features_match_hand_computed_values_as_of_a_past_now);
	tcase_add_test(t, orders_in_both_halves_of_the_ids_add_up);
	tcase_add_test(t, graph_merges_repeat_purchases_and_ignores_the_future);
	tcase_add_test(t, the_summary_is_the_matrix_s_first_columns_from_the_totals);
	tcase_add_test(t, an_empty_store_gives_empty_views);
	suite_add_tcase(s, t);
	return s;
}
