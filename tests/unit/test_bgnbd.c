/* BG/NBD and Gamma-Gamma against the processes they model: customers are
 * simulated with known parameters (Fader, Hardie and Lee's CDNOW figures),
 * the fits must recover them, and the predictions must match what the
 * simulation does next. */
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../../plugins/clv/bgnbd.h"
#include "helpers.h"

#define N 20000
#define WEEKS 39.0

static void near(double got, double want, double tolerance, const char *what)
{
	ck_assert_msg(fabs(got - want) <= tolerance * fabs(want), "%s: got %g, want %g within %g%%",
		      what, got, want, tolerance * 100);
}

START_TEST(bgnbd_recovers_cdnow_parameters_and_predicts_the_holdout)
{
	const bgnbd_params truth = {0.243, 4.414, 0.793, 2.426};
	gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
	gsl_rng_set(rng, 42);
	bgnbd_obs *o = malloc(N * sizeof *o);
	double actual = 0;
	for (int i = 0; i < N; i++) {
		double lambda = gsl_ran_gamma(rng, truth.r, 1.0 / truth.alpha);
		double p = gsl_ran_beta(rng, truth.a, truth.b);
		/* First purchases spread over the first 12 weeks, as in CDNOW's
		 * cohort; everyone observed to week 39. */
		double T = WEEKS - gsl_rng_uniform(rng) * 12.0;
		double t = 0, x = 0, tx = 0;
		int alive = 1;
		for (;;) {
			t += gsl_ran_exponential(rng, 1.0 / lambda);
			if (t > T + WEEKS)
				break;
			if (t > T) {
				actual++;	/* a purchase in the holdout weeks */
			} else {
				x++;
				tx = t;
			}
			if (gsl_rng_uniform(rng) < p) {
				alive = 0;	/* gone after this purchase */
				break;
			}
		}
		(void)alive;
		o[i] = (bgnbd_obs){x, tx, T};
	}
	bgnbd_params fit;
	double ll;
	char err[256];
	ck_assert_msg(bgnbd_fit(o, N, &fit, &ll, err, sizeof err) == 0, "%s", err);
	near(fit.r, truth.r, 0.10, "r");
	near(fit.alpha, truth.alpha, 0.10, "alpha");
	near(fit.a, truth.a, 0.10, "a");
	near(fit.b, truth.b, 0.10, "b");
	ck_assert(ll >= bgnbd_loglik(&truth, o, N) - 1e-6);	/* the fit is the maximum */
	double predicted = 0;
	for (int i = 0; i < N; i++) {
		double e = bgnbd_expected(&fit, &o[i], WEEKS);
		double pa = bgnbd_p_alive(&fit, &o[i]);
		ck_assert(isfinite(e) && e >= 0);
		ck_assert(pa > 0 && pa <= 1);
		predicted += e;
	}
	near(predicted, actual, 0.05, "holdout purchases");
	free(o);
	gsl_rng_free(rng);
}
END_TEST

START_TEST(bgnbd_p_alive_and_expectation_follow_the_history)
{
	const bgnbd_params p = {0.243, 4.414, 0.793, 2.426};
	bgnbd_obs recent = {5, 38, 39}, lapsed = {5, 10, 39}, none = {0, 0, 39};
	/* Values worked out apart, with 2F1 summed as its power series. */
	ck_assert_double_eq(bgnbd_p_alive(&p, &none), 1.0);
	ck_assert_double_eq_tol(bgnbd_p_alive(&p, &recent), 0.877622, 1e-6);
	ck_assert_double_eq_tol(bgnbd_p_alive(&p, &lapsed), 0.024398, 1e-6);
	ck_assert_double_eq_tol(bgnbd_expected(&p, &recent, 39), 3.332570934, 1e-8);
	ck_assert_double_eq_tol(bgnbd_expected(&p, &lapsed, 39), 0.092645885, 1e-8);
	ck_assert_double_eq_tol(bgnbd_expected(&p, &none, 39), 0.194530722, 1e-8);
	/* Nothing is expected in no time. */
	ck_assert_double_eq_tol(bgnbd_expected(&p, &recent, 0), 0.0, 1e-12);
}
END_TEST

START_TEST(gamma_gamma_recovers_its_parameters)
{
	const gg_params truth = {6.25, 3.74, 15.44};
	gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
	gsl_rng_set(rng, 7);
	double *x = malloc(N * sizeof *x), *m = malloc(N * sizeof *m);
	double spend_truth = 0, spend_pred = 0;
	for (int i = 0; i < N; i++) {
		double nu = gsl_ran_gamma(rng, truth.q, 1.0 / truth.gamma);
		int n = 1 + (int)gsl_ran_poisson(rng, 4.0);
		double sum = 0;
		for (int k = 0; k < n; k++)
			sum += gsl_ran_gamma(rng, truth.p, 1.0 / nu);
		x[i] = n;
		m[i] = sum / n;
		spend_truth += truth.p / nu;	/* the customer's true mean spend */
	}
	gg_params fit;
	double ll;
	char err[256];
	ck_assert_msg(gg_fit(x, m, N, &fit, &ll, err, sizeof err) == 0, "%s", err);
	near(fit.p, truth.p, 0.10, "p");
	near(fit.q, truth.q, 0.10, "q");
	near(fit.gamma, truth.gamma, 0.10, "gamma");
	for (int i = 0; i < N; i++)
		spend_pred += gg_expected_spend(&fit, x[i], m[i]);
	near(spend_pred, spend_truth, 0.02, "total expected spend");
	free(x);
	free(m);
	gsl_rng_free(rng);
}
END_TEST

START_TEST(a_fit_that_cannot_converge_says_so_with_its_log_likelihood)
{
	/* Every purchase worth exactly 10: Gamma-Gamma's q and gamma run off to
	 * infinity together, and the fit must say so rather than return them. */
	double x[50], m[50];
	for (int i = 0; i < 50; i++) {
		x[i] = 2 + i % 3;
		m[i] = 10.0;
	}
	gg_params p;
	double ll;
	char err[256];
	ck_assert_int_eq(gg_fit(x, m, 50, &p, &ll, err, sizeof err), -1);
	ck_assert_msg(strstr(err, "the fit did not converge after ") &&
		      strstr(err, "(log-likelihood "), "%s", err);
}
END_TEST

Suite *suite_bgnbd(void)
{
	Suite *s = suite_create("bgnbd");
	TCase *t = tcase_create("bgnbd");
	tcase_set_timeout(t, 60);
	tcase_add_test(t, bgnbd_recovers_cdnow_parameters_and_predicts_the_holdout);
	tcase_add_test(t, bgnbd_p_alive_and_expectation_follow_the_history);
	tcase_add_test(t, gamma_gamma_recovers_its_parameters);
	tcase_add_test(t, a_fit_that_cannot_converge_says_so_with_its_log_likelihood);
	suite_add_tcase(s, t);
	return s;
}
