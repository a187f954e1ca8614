/* Item-item cosine similarities against values worked by hand. */
#include <math.h>

#include "../../plugins/itemknn/knn.h"
#include "helpers.h"

/* Four customers x four items, binary:
 *   u0: 0 1       u1: 0 1 2       u2: 1 2       u3: 3
 * Columns: item 0 {u0,u1}, 1 {u0,u1,u2}, 2 {u1,u2}, 3 {u3}; norms
 * sqrt 2, sqrt 3, sqrt 2, 1. Co-buyers: (0,1) 2, (0,2) 1, (1,2) 2, none
 * with 3. So sim(0,1) = 2/sqrt 6, sim(0,2) = 1/2, sim(1,2) = 2/sqrt 6. */
static const size_t offsets[] = {0, 2, 5, 7, 8};
static const uint32_t cols[] = {0, 1, 0, 1, 2, 1, 2, 3};
static const double ones[] = {1, 1, 1, 1, 1, 1, 1, 1};

START_TEST(cosine_similarities_match_hand_computed_values)
{
	knn_model m;
	for (size_t threads = 1; threads <= 2; threads++) {
		ck_assert_int_eq(knn_build(4, 4, offsets, cols, ones, 0, 0, threads, &m), 0);
		ck_assert_double_eq_tol(knn_similarity(&m, 0, 1), 2 / sqrt(6), 1e-12);
		ck_assert_double_eq_tol(knn_similarity(&m, 1, 0), 2 / sqrt(6), 1e-12);
		ck_assert_double_eq_tol(knn_similarity(&m, 0, 2), 0.5, 1e-12);
		ck_assert_double_eq_tol(knn_similarity(&m, 1, 2), 2 / sqrt(6), 1e-12);
		ck_assert_double_eq(knn_similarity(&m, 0, 3), 0);
		ck_assert_double_eq(knn_similarity(&m, 0, 0), 0);	/* no self-pairs */
		ck_assert_uint_eq(m.off[4], 6);	/* three pairs, both ways */
		ck_assert_uint_eq(m.off[4] - m.off[3], 0);	/* item 3 has nobody alike */
		knn_free(&m);
	}
}
END_TEST

START_TEST(neighbours_keep_the_most_similar_and_shrink_damps)
{
	knn_model m;
	/* One neighbour each: item 0's best is 1 (2/sqrt 6 > 1/2); item 1 has
	 * 0 and 2 equally alike, and keeps the lower. */
	ck_assert_int_eq(knn_build(4, 4, offsets, cols, ones, 1, 0, 2, &m), 0);
	ck_assert_uint_eq(m.off[1] - m.off[0], 1);
	ck_assert_uint_eq(m.col[m.off[0]], 1);
	ck_assert_uint_eq(m.col[m.off[1]], 0);
	ck_assert_double_eq(knn_similarity(&m, 1, 2), 0);
	knn_free(&m);
	/* shrink 1: sim(0,2) = 1 / (sqrt 2 sqrt 2 + 1) = 1/3. */
	ck_assert_int_eq(knn_build(4, 4, offsets, cols, ones, 0, 1, 1, &m), 0);
	ck_assert_double_eq_tol(knn_similarity(&m, 0, 2), 1.0 / 3, 1e-12);
	knn_free(&m);
	/* Weights: u1 bought item 0 twice as much; (0,1): (1 + 2) / (sqrt 5 sqrt 3). */
	const double w[] = {1, 1, 2, 1, 1, 1, 1, 1};
	ck_assert_int_eq(knn_build(4, 4, offsets, cols, w, 0, 0, 2, &m), 0);
	ck_assert_double_eq_tol(knn_similarity(&m, 0, 1), 3 / (sqrt(5) * sqrt(3)), 1e-12);
	knn_free(&m);
}
END_TEST

Suite *suite_knn(void)
{
	Suite *s = suite_create("knn");
	TCase *t = tcase_create("knn");
	tcase_add_test(t, cosine_similarities_match_hand_computed_values);
	tcase_add_test(t, neighbours_keep_the_most_similar_and_shrink_damps);
	suite_add_tcase(s, t);
	return s;
}
