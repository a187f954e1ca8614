/* Holt-Winters exponential smoothing in its error-correction form (Hyndman,
 * Koehler, Ord and Snyder, "Forecasting with Exponential Smoothing", 2008):
 * a level, a trend and, when the series has a season, one seasonal term per
 * period of the season, added to the level (additive) or multiplying it
 * (multiplicative). With e_t = y_t - yhat_t, the one-step error:
 *
 *   additive:        yhat_t = l + b + s[t-m]
 *                    l' = l + b + alpha e,  b' = b + beta e,  s[t] = s[t-m] + gamma e
 *   multiplicative:  yhat_t = (l + b) s[t-m]
 *                    l' = l + b + alpha e / s[t-m],  b' = b + beta e / s[t-m],
 *                    s[t] = s[t-m] + gamma e / (l + b)
 *   no season:       Holt's linear trend, the additive form without s.
 *
 * The smoothing parameters minimise the sum of squared one-step errors,
 * within 0 < alpha < 1, 0 < beta < alpha, 0 < gamma < 1 - alpha (the
 * usual admissible region). The forecast's interval comes from paths
 * simulated with normal errors of the fitted variance; for the additive
 * forms it matches the closed form of the book (hw_variance). */
#ifndef PATRON_HW_H
#define PATRON_HW_H

#include <stddef.h>
#include <stdint.h>

typedef enum { HW_NONE, HW_ADDITIVE, HW_MULTIPLICATIVE } hw_kind;

typedef struct {
	hw_kind kind;
	size_t m;		/* periods in a season; 0 with HW_NONE */
	double alpha, beta, gamma;
	double sse, sigma2;	/* one-step errors: their sum of squares, their variance */
	size_t n;		/* observations fitted */
	/* the state after the last observation */
	double level, trend;
	double season[512];	/* season[j]: the term of the period n + j (j < m) */
} hw_model;

#define HW_MAX_SEASON 512

/* The starting state from the first two seasons (or the first points
 * without one), then the filter over Y with the parameters given: the sum
 * of squared one-step errors, INFINITY where the model breaks down (a
 * multiplicative level or season at or below zero). MOD gets the final
 * state when not NULL. */
double hw_filter(const double *y, size_t n, hw_kind kind, size_t m, double alpha, double beta,
		 double gamma, hw_model *mod);

/* Fits KIND to Y. 0, or -1 with the reason in ERR (too short a series, a
 * multiplicative season over values that are not all above zero). */
int hw_fit(const double *y, size_t n, hw_kind kind, size_t m, hw_model *mod, char *err,
	   size_t cap);

/* The point forecast H steps ahead (1-based). */
double hw_point(const hw_model *mod, size_t h);

/* The closed-form variance of the error H steps ahead, additive forms only. */
double hw_variance(const hw_model *mod, size_t h);

/* MEAN, LO, HI for steps 1..H: the point forecast and the bounds of an
 * interval of probability LEVEL, from PATHS simulated paths (SEED makes
 * them repeatable). */
void hw_forecast(const hw_model *mod, size_t h, double level, size_t paths, uint64_t seed,
		 double *mean, double *lo, double *hi);

#endif
