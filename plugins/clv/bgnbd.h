/* The BG/NBD model of purchase counts (Fader, Hardie and Lee, "Counting your
 * customers the easy way", 2005) and the Gamma-Gamma model of spend per
 * purchase (Fader, Hardie and Lee, "RFM and CLV: using iso-value curves",
 * 2005), fitted by maximum likelihood. Times are in weeks. */
#ifndef PATRON_BGNBD_H
#define PATRON_BGNBD_H

#include <stddef.h>

/* One customer: x repeat purchases, the last at tx after the first, and T
 * from the first purchase to now (0 <= tx <= T). */
typedef struct {
	double x, tx, T;
} bgnbd_obs;

typedef struct {
	double r, alpha, a, b;
} bgnbd_params;

typedef struct {
	double p, q, gamma;
} gg_params;

/* Sum of the customers' log-likelihoods. */
double bgnbd_loglik(const bgnbd_params *p, const bgnbd_obs *o, size_t n);

/* Maximises the log-likelihood over log-parameters with BFGS. 0, or -1 with
 * ERR saying why (no convergence: the iterations and last log-likelihood). */
int bgnbd_fit(const bgnbd_obs *o, size_t n, bgnbd_params *out, double *loglik, char *err,
	      size_t errlen);

/* Expected purchases in (T, T + t] for a customer with this history. */
double bgnbd_expected(const bgnbd_params *p, const bgnbd_obs *o, double t);
/* Probability the customer is still active. */
double bgnbd_p_alive(const bgnbd_params *p, const bgnbd_obs *o);

/* Gamma-Gamma over customers with X[i] >= 1 purchases of mean value M[i] > 0. */
double gg_loglik(const gg_params *p, const double *x, const double *m, size_t n);
int gg_fit(const double *x, const double *m, size_t n, gg_params *out, double *loglik, char *err,
	   size_t errlen);
/* Expected mean spend per purchase for a customer with X purchases of mean M. */
double gg_expected_spend(const gg_params *p, double x, double m);

#endif
