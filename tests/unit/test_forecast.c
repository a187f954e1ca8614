/* Holt-Winters against series whose future is known: a trend and a season
 * with no noise must be continued exactly; a series simulated from the
 * model with known smoothing must give those parameters back; and the
 * simulated interval must match the book's closed form. */
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../../plugins/holtwinters/hw.h"
#include "../../plugins/theta/theta.h"
#include "helpers.h"

static const double season12[12] = {-30, -22, -5, 4, 10, 18, 25, 20, 8, -6, -10, -12};

START_TEST(an_exact_trend_and_season_are_continued_exactly)
{
	/* y = 200 + 3t + s[t mod 12]: the first two seasons give the level,
	 * trend and season exactly, so whatever the smoothing, the forecast
	 * is the line and the season carried on. */
	double y[60];
	for (int t = 0; t < 60; t++)
		y[t] = 200 + 3 * t + season12[t % 12];
	hw_model m;
	char err[256];
	ck_assert_msg(hw_fit(y, 48, HW_ADDITIVE, 12, &m, err, sizeof err) == 0, "%s", err);
	ck_assert_msg(m.sse < 1e-12, "sse %g", m.sse);
	for (int h = 1; h <= 12; h++)
		ck_assert_msg(fabs(hw_point(&m, (size_t)h) - y[47 + h]) < 1e-9, "step %d: %g, want %g",
			      h, hw_point(&m, (size_t)h), y[47 + h]);
	/* and the trend alone, without a season */
	double line[20];
	for (int t = 0; t < 20; t++)
		line[t] = 50 - 1.5 * t;
	ck_assert_int_eq(hw_fit(line, 16, HW_NONE, 0, &m, err, sizeof err), 0);
	for (int h = 1; h <= 4; h++)
		ck_assert(fabs(hw_point(&m, (size_t)h) - line[15 + h]) < 1e-9);
}
END_TEST

START_TEST(a_multiplicative_season_is_found_and_continued)
{
	/* A season that scales with the level: the multiplicative form fits it
	 * better than the additive one and forecasts it within 1%. */
	double y[96];
	for (int t = 0; t < 96; t++)
		y[t] = (100 + 4 * t) * (1 + season12[t % 12] / 100);
	hw_model mul, add;
	char err[256];
	ck_assert_msg(hw_fit(y, 84, HW_MULTIPLICATIVE, 12, &mul, err, sizeof err) == 0, "%s", err);
	ck_assert_msg(hw_fit(y, 84, HW_ADDITIVE, 12, &add, err, sizeof err) == 0, "%s", err);
	ck_assert_msg(mul.sse < add.sse, "multiplicative %g, additive %g", mul.sse, add.sse);
	for (int h = 1; h <= 12; h++)
		ck_assert_msg(fabs(hw_point(&mul, (size_t)h) / y[83 + h] - 1) < 0.01,
			      "step %d: %g, want %g", h, hw_point(&mul, (size_t)h), y[83 + h]);
	/* a value at zero rules the multiplicative form out, by name */
	y[5] = 0;
	ck_assert_int_eq(hw_fit(y, 84, HW_MULTIPLICATIVE, 12, &mul, err, sizeof err), -1);
	ck_assert_msg(strstr(err, "period 6 is 0"), "%s", err);
	/* two seasons are needed to start a season */
	ck_assert_int_eq(hw_fit(y, 23, HW_ADDITIVE, 12, &add, err, sizeof err), -1);
	ck_assert_msg(strstr(err, "23 periods of history; a season needs 24"), "%s", err);
}
END_TEST

/* A series drawn from the additive model itself, with known smoothing. */
static void simulate(double *y, size_t n, double alpha, double beta, double gamma, double sd,
		     unsigned long seed)
{
	gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
	gsl_rng_set(rng, seed);
	double l = 500, b = 1, s[12];
	memcpy(s, season12, sizeof s);
	for (size_t t = 0; t < n; t++) {
		double e = gsl_ran_gaussian(rng, sd);
		double st = s[t % 12];
		y[t] = l + b + st + e;
		l = l + b + alpha * e;
		b = b + beta * e;
		s[t % 12] = st + gamma * e;
	}
	gsl_rng_free(rng);
}

START_TEST(the_smoothing_of_a_simulated_series_is_recovered)
{
	enum { N = 1200 };
	static double y[N];
	simulate(y, N, 0.4, 0.05, 0.2, 5, 7);
	hw_model m;
	char err[256];
	ck_assert_msg(hw_fit(y, N, HW_ADDITIVE, 12, &m, err, sizeof err) == 0, "%s", err);
	ck_assert_msg(fabs(m.alpha - 0.4) < 0.06, "alpha %g", m.alpha);
	ck_assert_msg(fabs(m.beta - 0.05) < 0.03, "beta %g", m.beta);
	ck_assert_msg(fabs(m.gamma - 0.2) < 0.06, "gamma %g", m.gamma);
	ck_assert_msg(fabs(sqrt(m.sigma2) - 5) < 0.4, "sigma %g", sqrt(m.sigma2));
}
END_TEST

START_TEST(the_simulated_interval_matches_the_closed_form)
{
	enum { N = 240, H = 18 };
	double y[N];
	simulate(y, N, 0.3, 0.02, 0.1, 4, 11);
	hw_model m;
	char err[256];
	ck_assert_msg(hw_fit(y, N, HW_ADDITIVE, 12, &m, err, sizeof err) == 0, "%s", err);
	double mean[H], lo[H], hi[H];
	hw_forecast(&m, H, 0.8, 40000, 3, mean, lo, hi);
	for (int h = 1; h <= H; h++) {
		/* 80%: 1.2816 standard deviations either side */
		double half = 1.2815516 * sqrt(hw_variance(&m, (size_t)h));
		ck_assert_msg(fabs(mean[h - 1] - hw_point(&m, (size_t)h)) < 1e-9, "mean %d", h);
		ck_assert_msg(fabs((hi[h - 1] - lo[h - 1]) / (2 * half) - 1) < 0.03,
			      "step %d: width %g, closed form %g", h, hi[h - 1] - lo[h - 1], 2 * half);
	}
	/* the interval widens with the horizon */
	ck_assert(hi[H - 1] - lo[H - 1] > hi[0] - lo[0]);
	/* the same seed gives the same interval */
	double lo2[H], hi2[H], mean2[H];
	hw_forecast(&m, H, 0.8, 40000, 3, mean2, lo2, hi2);
	ck_assert(memcmp(lo, lo2, sizeof lo) == 0 && memcmp(hi, hi2, sizeof hi) == 0);
}
END_TEST

START_TEST(the_theta_method_gives_the_hand_computed_answer)
{
	/* y = 1, 2, 3, 4 with alpha 1/2: levels 1, 1.5, 2.25, 3.125; the
	 * line's slope 1; one step ahead 3.125 + 1/2 (0 + 2 - 0.5^4 / 0.5)
	 * = 4.0625, two steps 4.5625. */
	const double y[4] = {1, 2, 3, 4};
	theta_model t;
	char err[256];
	ck_assert_int_eq(theta_fit_alpha(y, 4, 0, 0.5, &t, err, sizeof err), 0);
	ck_assert(fabs(t.level - 3.125) < 1e-12 && fabs(t.slope - 1) < 1e-12);
	ck_assert(fabs(theta_point(&t, 1) - 4.0625) < 1e-12);
	ck_assert(fabs(theta_point(&t, 2) - 4.5625) < 1e-12);
	/* sigma^2 = (1 + 1.5^2 + 1.75^2) / (4 - 3); 80%: 1.2816 of its root */
	double lo, hi;
	theta_interval(&t, 1, 0.8, &lo, &hi);
	double sd = sqrt(1 + 1.5 * 1.5 + 1.75 * 1.75);
	ck_assert(fabs((hi - lo) / 2 - 1.2815516 * sd) < 1e-5);
	/* a season that scales the series is taken out and put back: a
	 * steady series with a season of four is continued within 2% */
	double s[48];
	const double idx[4] = {0.8, 1.1, 1.3, 0.8};
	for (int i = 0; i < 48; i++)
		s[i] = 100 * idx[i % 4];
	ck_assert_int_eq(theta_fit(s, 40, 4, &t, err, sizeof err), 0);
	ck_assert_uint_eq(t.m, 4);
	for (int h = 1; h <= 8; h++)
		ck_assert_msg(fabs(theta_point(&t, (size_t)h) / s[39 + h] - 1) < 0.02, "step %d: %g, "
			      "want %g", h, theta_point(&t, (size_t)h), s[39 + h]);
	ck_assert_int_eq(theta_fit(y, 3, 0, &t, err, sizeof err), -1);
	ck_assert_str_eq(err, "3 periods of history; the Theta method needs 4");
}
END_TEST

Suite *suite_forecast(void)
{
	Suite *s = suite_create("forecast");
	TCase *t = tcase_create("holt-winters");
	tcase_set_timeout(t, 60);
	tcase_add_test(t, an_exact_trend_and_season_are_continued_exactly);
	tcase_add_test(t, a_multiplicative_season_is_found_and_continued);
	tcase_add_test(t, the_smoothing_of_a_simulated_series_is_recovered);
	tcase_add_test(t, the_simulated_interval_matches_the_closed_form);
	tcase_add_test(t, the_theta_method_gives_the_hand_computed_answer);
	suite_add_tcase(s, t);
	return s;
}
