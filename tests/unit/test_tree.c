/* Cost-complexity pruning on a tree small enough to prune by hand. */
#include <math.h>
#include <stdlib.h>

#include "../../plugins/svm/dcd.h"
#include "../../plugins/tree/prune.h"
#include "helpers.h"

START_TEST(pruning_collapses_the_weakest_link_first)
{
	/*            root (100 rows, 40% positive)
	 *           /                          \
	 *     L (60, 10%)                   R (40, 85%)
	 *     /        \
	 *  LL (50, 0%)  LR (10, 60%)
	 * R(t) = n_t / n x 2 p (1 - p): root 0.48, L 0.108, LL 0, LR 0.048, R 0.102.
	 * g(L) = (0.108 - 0.048) / 1 = 0.06, g(root) = (0.48 - 0.150) / 2 = 0.165:
	 * L goes first, at 0.06; then g(root) = (0.48 - 0.21) / 1 = 0.27. */
	int32_t feature[] = {0, 1, -1, -1, -1}, left[] = {1, 3, -1, -1, -1};
	int32_t right[] = {2, 4, -1, -1, -1};
	double threshold[] = {0.5, 1.5, 0, 0, 0}, value[] = {0.4, 0.1, 0.85, 0, 0.6};
	double count[] = {100, 60, 40, 50, 10};
	cart_tree t = {5, feature, threshold, left, right, value, count};
	double alpha[5];
	ck_assert_int_eq(tree_alphas(&t, alpha), 0);
	ck_assert(fabs(alpha[1] - 0.06) < 1e-12);
	ck_assert(fabs(alpha[0] - 0.27) < 1e-12);
	ck_assert(isinf(alpha[2]) && isinf(alpha[3]) && isinf(alpha[4]));
	/* pruned between the two: the root's split stays, L is a leaf */
	cart_tree p;
	ck_assert_int_eq(tree_prune(&t, alpha, 0.1, &p), 0);
	ck_assert_uint_eq(p.n, 3);
	ck_assert_int_eq(p.feature[0], 0);
	ck_assert_int_eq(p.feature[1], -1);
	ck_assert(fabs(p.value[1] - 0.1) < 1e-12 && p.count[1] == 60);
	double x[2] = {0, 9}, contrib[2] = {0, 0};
	ck_assert(fabs(tree_predict(&p, x, contrib) - 0.1) < 1e-12);
	ck_assert(fabs(contrib[0] - (0.1 - 0.4)) < 1e-12 && contrib[1] == 0);
	tree_free(&p);
	/* at 0 nothing goes; past 0.27 the root is all that is left */
	ck_assert_int_eq(tree_prune(&t, alpha, 0, &p), 0);
	ck_assert_uint_eq(p.n, 5);
	tree_free(&p);
	ck_assert_int_eq(tree_prune(&t, alpha, 0.3, &p), 0);
	ck_assert_uint_eq(p.n, 1);
	ck_assert(fabs(tree_predict(&p, x, NULL) - 0.4) < 1e-12);
	tree_free(&p);
}
END_TEST

START_TEST(the_svm_and_platt_give_the_hand_worked_answers)
{
	/* x = +1 (churned) and -1 (not), no bias: the hinge loss gives
	 * 1/2 w^2 + 2C (1 - w) for w <= 1, so w = 2C below C = 1/2 and w = 1
	 * (the margin) from there on. */
	const double x[2] = {1, -1}, y[2] = {1, 0};
	const size_t rows[2] = {0, 1};
	double w[2];
	svm_opts o = {.c = 1, .bias = 0, .tol = 1e-9, .max_iter = 1000, .seed = 1};
	ck_assert(svm_fit(x, 1, rows, 2, y, &o, w) > 0);
	ck_assert_msg(fabs(w[0] - 1) < 1e-9, "w %g", w[0]);
	o.c = 0.25;
	svm_fit(x, 1, rows, 2, y, &o, w);
	ck_assert_msg(fabs(w[0] - 0.5) < 1e-9, "w %g", w[0]);
	/* the squared hinge: 1/2 w^2 + 2C (1 - w)^2, so w = 4C / (1 + 4C) */
	o.c = 1, o.squared = 1;
	svm_fit(x, 1, rows, 2, y, &o, w);
	ck_assert_msg(fabs(w[0] - 0.8) < 1e-6, "w %g", w[0]);
	ck_assert(fabs(svm_decision(w, 1, 0, &x[1]) + 0.8) < 1e-6);
	/* Platt on decisions -1 and +1, one of each class: the targets are 1/3
	 * and 2/3, met exactly by A = -ln 2, B = 0. */
	const double f[2] = {-1, 1}, lab[2] = {0, 1};
	double a, b;
	ck_assert_int_eq(platt_fit(f, lab, 2, &a, &b), 0);
	ck_assert_msg(fabs(a + log(2)) < 1e-5 && fabs(b) < 1e-5, "A %g B %g", a, b);
	ck_assert(fabs(platt_p(a, b, 1) - 2.0 / 3) < 1e-5);
}
END_TEST

Suite *suite_tree(void)
{
	Suite *s = suite_create("tree");
	TCase *t = tcase_create("tree");
	tcase_add_test(t, pruning_collapses_the_weakest_link_first);
	tcase_add_test(t, the_svm_and_platt_give_the_hand_worked_answers);
	suite_add_tcase(s, t);
	return s;
}
