/* The churn models' maths against answers worked out independently: the
 * closed form of a one-feature logistic regression, the optimality of a
 * regularized one, a forest on separable data, naive Bayes by hand, and
 * the evaluation figures. */
#include <math.h>
#include <stdlib.h>

#include "../../plugins/forest/cart.h"
#include "../../plugins/logreg/irls.h"
#include "../../plugins/nbayes/nb.h"
#include "helpers.h"
#include "metrics.h"

static double logit(double p) { return log(p / (1 - p)); }

START_TEST(logistic_regression_matches_the_closed_form)
{
	/* One 0/1 feature: 10 rows at x = 0 with 3 churned, 10 at x = 1 with 8.
	 * Without regularization the maximum likelihood is exact:
	 * b = logit(0.3), b + w = logit(0.8). C = 1e10 leaves a penalty far
	 * below 1e-6 on w. */
	double x[20], y[20], beta[2] = {0, 0}, obj;
	size_t rows[20];
	for (int i = 0; i < 20; i++) {
		x[i] = i >= 10;
		y[i] = i < 10 ? i < 3 : i < 18;
		rows[i] = (size_t)i;
	}
	char err[200];
	int it = irls_fit(x, 1, rows, 20, y, 1e10, 1e-14, 100, beta, &obj, err, sizeof err);
	ck_assert_msg(it >= 0, "%s", err);
	ck_assert_double_eq_tol(beta[0], logit(0.3), 1e-6);
	ck_assert_double_eq_tol(beta[1], logit(0.8) - logit(0.3), 1e-6);
	ck_assert_double_eq_tol(irls_predict(beta, &x[15], 1), 0.8, 1e-7);
}
END_TEST

START_TEST(regularized_logistic_regression_is_at_its_optimum)
{
	/* Three features, 200 rows drawn from a fixed logistic model, C = 0.5:
	 * at the solution the gradient C X'(p - y) + w (intercept unpenalized)
	 * is zero, checked here by its own sums to 1e-6. */
	enum { N = 200, P = 3 };
	double x[N * P], y[N], beta[P + 1] = {0}, obj;
	size_t rows[N];
	uint64_t s = 7;
	for (int i = 0; i < N; i++) {
		double eta = 0.3;
		for (int j = 0; j < P; j++) {
			s = s * 6364136223846793005ull + 1442695040888963407ull;
			x[i * P + j] = (double)(s >> 11) / 9007199254740992.0 * 4 - 2;
			eta += (j - 1.0) * x[i * P + j];
		}
		s = s * 6364136223846793005ull + 1442695040888963407ull;
		y[i] = (double)(s >> 11) / 9007199254740992.0 < 1 / (1 + exp(-eta));
		rows[i] = (size_t)i;
	}
	char err[200];
	const double C = 0.5;
	ck_assert_msg(irls_fit(x, P, rows, N, y, C, 1e-14, 100, beta, &obj, err, sizeof err) >= 0,
		      "%s", err);
	double g[P + 1] = {0};
	for (int i = 0; i < N; i++) {
		double r = C * (irls_predict(beta, &x[i * P], P) - y[i]);
		g[0] += r;
		for (int j = 0; j < P; j++)
			g[1 + j] += r * x[i * P + j];
	}
	for (int j = 0; j < P; j++)
		g[1 + j] += beta[1 + j];
	for (int j = 0; j <= P; j++)
		ck_assert_double_eq_tol(g[j], 0, 1e-6);
	/* The penalty pulls the coefficients toward 0 from the generating -1, 0, 1. */
	ck_assert(beta[1] < 0 && beta[3] > 0 && fabs(beta[2]) < 0.5);
}
END_TEST

START_TEST(a_forest_separates_separable_customers)
{
	/* Churned exactly when x0 > 0.5, whatever x1 says; 300 rows to train,
	 * 100 others to test: ROC AUC 1. */
	enum { N = 400 };
	double x[N * 2], y[N], p[100], yt[100];
	size_t rows[300];
	uint64_t s = 11;
	for (int i = 0; i < N; i++) {
		for (int j = 0; j < 2; j++) {
			s = s * 6364136223846793005ull + 1442695040888963407ull;
			x[i * 2 + j] = (double)(s >> 11) / 9007199254740992.0;
		}
		y[i] = x[i * 2] > 0.5;
		if (i < 300)
			rows[i] = (size_t)i;
	}
	forest f;
	forest_opts o = {.trees = 25, .min_leaf = 1, .bootstrap = 1, .seed = 3, .threads = 2};
	ck_assert_int_eq(forest_fit(x, 2, rows, 300, y, &o, &f), 0);
	for (int i = 0; i < 100; i++) {
		p[i] = forest_predict(&f, &x[(300 + i) * 2], NULL);
		yt[i] = y[300 + i];
	}
	ck_assert_double_eq(metrics_auc(p, yt, 100), 1.0);
	/* Every path's split credits go to x0, and sum to p minus the root's share. */
	double contrib[2] = {0, 0};
	double q = forest_predict(&f, &x[300 * 2], contrib);
	double root = 0;
	for (size_t k = 0; k < f.n; k++)
		root += f.tree[k].value[0] / (double)f.n;
	ck_assert_double_eq_tol(contrib[0] + contrib[1], q - root, 1e-12);
	ck_assert(fabs(contrib[0]) > fabs(contrib[1]));
	forest_free(&f);
	/* One tree, no bootstrap: a decision tree that fits the training rows. */
	o = (forest_opts){.trees = 1, .min_leaf = 1, .bootstrap = 0, .seed = 1, .threads = 1};
	ck_assert_int_eq(forest_fit(x, 2, rows, 300, y, &o, &f), 0);
	for (int i = 0; i < 300; i++)
		ck_assert_double_eq(forest_predict(&f, &x[i * 2], NULL), y[i]);
	forest_free(&f);
}
END_TEST

START_TEST(naive_bayes_matches_the_hand_computation)
{
	/* Columns: a number, and the group plan=a, plan=b (neither: a third
	 * level). Class 0: x 1, 2, 3 with plans a, a, b; class 1: x 4, 5 with
	 * plans b, none. By hand, with alpha 1 and no variance smoothing:
	 *   P(0) = 3/5, P(1) = 2/5
	 *   x | 0 ~ N(2, 2/3), x | 1 ~ N(4.5, 1/4)
	 *   plan | 0: a (2+1)/(3+3), b (1+1)/6, none 1/6
	 *   plan | 1: a 1/5, b 2/5, none 2/5
	 * For x = 3.5, plan b: */
	const char *names[] = {"frequency", "attr.plan=a", "attr.plan=b"};
	double x[] = {1, 1, 0, 2, 1, 0, 3, 0, 1, 4, 0, 1, 5, 0, 0};
	double y[] = {0, 0, 0, 1, 1};
	size_t rows[] = {0, 1, 2, 3, 4};
	nb_model m;
	ck_assert_int_eq(nb_fit(x, 3, names, rows, 5, y, 1, 0, &m), 0);
	ck_assert_uint_eq(m.vars, 2);
	double q[] = {3.5, 0, 1};
	double l0 = log(3.0 / 5) - 0.5 * log(2 * M_PI * 2 / 3) - (3.5 - 2) * (3.5 - 2) / (2 * 2.0 / 3) +
		    log(2.0 / 6);
	double l1 = log(2.0 / 5) - 0.5 * log(2 * M_PI * 0.25) - (3.5 - 4.5) * (3.5 - 4.5) / (2 * 0.25) +
		    log(2.0 / 5);
	double llr[3] = {0, 0, 0};
	double p = nb_predict(&m, q, llr);
	ck_assert_double_eq_tol(p, exp(l1) / (exp(l0) + exp(l1)), 1e-12);
	ck_assert_double_eq_tol(llr[2], log(2.0 / 5) - log(2.0 / 6), 1e-12);	/* plan=b's column */
	ck_assert_double_eq(llr[1], 0);
	nb_free(&m);
}
END_TEST

START_TEST(evaluation_figures_match_worked_values)
{
	/* Scores with a tie across classes (0.4):
	 *   p 0.9 0.8 0.4 0.4 0.3 0.1,  y 1 0 1 0 1 0
	 * AUC: pairs (pos, neg) ordered right: 0.9 beats all 3 negatives; the
	 * 0.4 positive beats 0.1, ties the 0.4 negative (1/2), loses to 0.8;
	 * 0.3 beats 0.1: (3 + 1.5 + 1) / 9. Average precision over the
	 * thresholds 0.9, 0.8, 0.4, 0.3, 0.1: recall steps of 1/3 at precision
	 * 1, 2/4 and 3/5. */
	double p[] = {0.9, 0.8, 0.4, 0.4, 0.3, 0.1}, y[] = {1, 0, 1, 0, 1, 0};
	metrics m;
	metrics_compute(p, y, 6, &m);
	ck_assert_double_eq_tol(m.roc_auc, 5.5 / 9, 1e-12);
	ck_assert_double_eq_tol(m.pr_auc, (1 + 0.5 + 0.6) / 3, 1e-12);
	double ll = -(log(0.9) + log(0.2) + log(0.4) + log(0.6) + log(0.3) + log(0.9)) / 6;
	ck_assert_double_eq_tol(m.log_loss, ll, 1e-12);
	/* At 0.5: predicted churned 0.9, 0.8: tp 1, fp 1, fn 2, tn 2. */
	ck_assert_uint_eq(m.at_half.tp, 1);
	ck_assert_uint_eq(m.at_half.fp, 1);
	ck_assert_uint_eq(m.at_half.fn, 2);
	ck_assert_uint_eq(m.at_half.tn, 2);
	/* The best F1: at 0.3, precision 3/5, recall 1, F1 0.75. */
	ck_assert_double_eq(m.at_best.threshold, 0.3);
	ck_assert_double_eq_tol(m.at_best.f1, 0.75, 1e-12);
}
END_TEST

Suite *suite_churn(void)
{
	Suite *s = suite_create("churn");
	TCase *t = tcase_create("churn");
	tcase_add_test(t, logistic_regression_matches_the_closed_form);
	tcase_add_test(t, regularized_logistic_regression_is_at_its_optimum);
	tcase_add_test(t, a_forest_separates_separable_customers);
	tcase_add_test(t, naive_bayes_matches_the_hand_computation);
	tcase_add_test(t, evaluation_figures_match_worked_values);
	suite_add_tcase(s, t);
	return s;
}
