/* The Theta method of Assimakopoulos and Nikolopoulos (2000), in the form
 * Hyndman and Billah (2003) showed it to take: simple exponential
 * smoothing of the series, with a drift of half the slope of the straight
 * line fitted to it by least squares:
 *
 *   yhat(n+h) = l(n) + b/2 * ((h - 1) + 1/alpha - (1 - alpha)^n / alpha)
 *
 * where l is the smoothed level (l(1) = y(1), l(t) = alpha y(t) + (1 -
 * alpha) l(t-1)), alpha minimises the squared one-step errors, and b is
 * the line's slope. A series with a season (two seasons of history, every
 * value above zero, and an autocorrelation at the season's lag that chance
 * does not explain at 90%) is first divided by multiplicative indices
 * from a classical decomposition (a centred moving average over one
 * season), and the forecast multiplied back. The interval is that of
 * simple exponential smoothing: variance sigma^2 (1 + (h - 1) alpha^2). */
#ifndef PATRON_THETA_H
#define PATRON_THETA_H

#include <stddef.h>

#define THETA_MAX_SEASON 512

typedef struct {
	size_t n, m;		/* m: 0 without a season */
	double alpha, level, slope, sigma2;
	double season[THETA_MAX_SEASON];	/* index of each position in the season */
} theta_model;

/* Fits Y (N values) with a season of M (0: none). 0, or -1 with ERR. */
int theta_fit(const double *y, size_t n, size_t m, theta_model *t, char *err, size_t cap);

/* The same with ALPHA given (for the known answers). */
int theta_fit_alpha(const double *y, size_t n, size_t m, double alpha, theta_model *t,
		    char *err, size_t cap);

/* The forecast H steps ahead (1-based), and its interval of probability
 * LEVEL. */
double theta_point(const theta_model *t, size_t h);
void theta_interval(const theta_model *t, size_t h, double level, double *lo, double *hi);

#endif
