#include "bgnbd.h"

#include <gsl/gsl_blas.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_multimin.h>
#include <gsl/gsl_sf_hyperg.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static double lbeta(double a, double b) { return lgamma(a) + lgamma(b) - lgamma(a + b); }

/* log(e^u + e^v) without overflow. */
static double logsumexp(double u, double v)
{
	double m = u > v ? u : v;
	return m + log(exp(u - m) + exp(v - m));
}

double bgnbd_loglik(const bgnbd_params *p, const bgnbd_obs *o, size_t n)
{
	double r = p->r, al = p->alpha, a = p->a, b = p->b;
	double lb = lbeta(a, b), lgr = lgamma(r), sum = 0;
	/* The terms that depend on x alone, kept for the last x seen: customers
	 * come in any order, but small x repeat often. */
	double last_x = -1, cx = 0, ca = 0, cb = 0;
	for (size_t i = 0; i < n; i++) {
		double x = o[i].x;
		if (x != last_x) {
			cx = lgamma(r + x) - lgr + r * log(al);
			ca = lbeta(a, b + x) - lb;
			cb = x > 0 ? lbeta(a + 1, b + x - 1) - lb : 0;
			last_x = x;
		}
		double A = ca - (r + x) * log(al + o[i].T);
		double ll = x > 0 ? logsumexp(A, cb - (r + x) * log(al + o[i].tx)) : A;
		sum += cx + ll;
	}
	return sum;
}

/* ---- minimising over log-parameters with GSL's BFGS ---- */

typedef struct {
	double (*loglik)(const double *theta, const void *data);
	const void *data;
	size_t n;	/* to scale the objective to a mean */
} objective;

static double f_obj(const gsl_vector *v, void *params)
{
	objective *o = params;
	double theta[4];
	for (size_t i = 0; i < v->size; i++) {
		theta[i] = exp(gsl_vector_get(v, i));
		if (!isfinite(theta[i]) || theta[i] <= 0)
			return GSL_POSINF;
	}
	double ll = o->loglik(theta, o->data);
	return isfinite(ll) ? -ll / (double)o->n : GSL_POSINF;
}

/* Central differences: the likelihoods are smooth, and this keeps each
 * model's code to its formula. */
static void df_obj(const gsl_vector *v, void *params, gsl_vector *g)
{
	gsl_vector *w = gsl_vector_alloc(v->size);
	gsl_vector_memcpy(w, v);
	for (size_t i = 0; i < v->size; i++) {
		double h = 1e-6 * fmax(1.0, fabs(gsl_vector_get(v, i)));
		double x0 = gsl_vector_get(v, i);
		gsl_vector_set(w, i, x0 + h);
		double up = f_obj(w, params);
		gsl_vector_set(w, i, x0 - h);
		double down = f_obj(w, params);
		gsl_vector_set(w, i, x0);
		gsl_vector_set(g, i, (up - down) / (2 * h));
	}
	gsl_vector_free(w);
}

static void fdf_obj(const gsl_vector *v, void *params, double *f, gsl_vector *g)
{
	*f = f_obj(v, params);
	df_obj(v, params, g);
}

/* Minimises from START (natural units); writes the optimum to OUT. */
static int minimise(objective *ob, size_t dim, const double *start, double *out, double *loglik,
		    char *err, size_t errlen)
{
	gsl_set_error_handler_off();	/* failures come back as statuses */
	gsl_multimin_function_fdf fn = {f_obj, df_obj, fdf_obj, dim, ob};
	gsl_vector *x = gsl_vector_alloc(dim);
	for (size_t i = 0; i < dim; i++)
		gsl_vector_set(x, i, log(start[i]));
	gsl_multimin_fdfminimizer *m =
		gsl_multimin_fdfminimizer_alloc(gsl_multimin_fdfminimizer_vector_bfgs2, dim);
	gsl_multimin_fdfminimizer_set(m, &fn, x, 0.1, 0.1);
	int status = GSL_CONTINUE, iter = 0;
	while (status == GSL_CONTINUE && iter < 1000) {
		iter++;
		if (gsl_multimin_fdfminimizer_iterate(m))
			break;	/* no further progress along the line */
		status = gsl_multimin_test_gradient(m->gradient, 1e-7);
	}
	/* A stalled line search at a flat optimum is fine; a gradient that is
	 * still large is not. */
	double gnorm = gsl_blas_dnrm2(m->gradient);
	double f = m->f;
	int ok = isfinite(f) && (status == GSL_SUCCESS || gnorm < 1e-4);
	for (size_t i = 0; i < dim; i++)
		out[i] = exp(gsl_vector_get(m->x, i));
	*loglik = -f * (double)ob->n;
	if (!ok)
		snprintf(err, errlen, "the fit did not converge after %d iterations (log-likelihood "
			 "%.6g, gradient %.3g)", iter, *loglik, gnorm);
	gsl_multimin_fdfminimizer_free(m);
	gsl_vector_free(x);
	return ok ? 0 : -1;
}

static double bgnbd_theta(const double *t, const void *data)
{
	const struct {
		const bgnbd_obs *o;
		size_t n;
	} *d = data;
	bgnbd_params p = {t[0], t[1], t[2], t[3]};
	return bgnbd_loglik(&p, d->o, d->n);
}

int bgnbd_fit(const bgnbd_obs *o, size_t n, bgnbd_params *out, double *loglik, char *err,
	      size_t errlen)
{
	if (n == 0) {
		snprintf(err, errlen, "no customers to fit");
		return -1;
	}
	struct {
		const bgnbd_obs *o;
		size_t n;
	} d = {o, n};
	objective ob = {bgnbd_theta, &d, n};
	double start[4] = {1, 1, 1, 1}, best[4];
	int rc = minimise(&ob, 4, start, best, loglik, err, errlen);
	*out = (bgnbd_params){best[0], best[1], best[2], best[3]};
	return rc;
}

double bgnbd_p_alive(const bgnbd_params *p, const bgnbd_obs *o)
{
	if (o->x == 0)
		return 1.0;
	double v = log(p->a / (p->b + o->x - 1)) +
		   (p->r + o->x) * log((p->alpha + o->T) / (p->alpha + o->tx));
	return 1.0 / (1.0 + exp(v));
}

/* 2F1(a, b; c; z) for 0 <= z < 1: GSL's, or the series where GSL gives up. */
static double hyp2f1(double a, double b, double c, double z)
{
	gsl_sf_result res;
	if (gsl_sf_hyperg_2F1_e(a, b, c, z, &res) == GSL_SUCCESS && isfinite(res.val))
		return res.val;
	double term = 1, sum = 1;
	for (int k = 0; k < 100000 && fabs(term) > 1e-15 * fabs(sum); k++) {
		term *= (a + k) * (b + k) / ((c + k) * (k + 1)) * z;
		sum += term;
	}
	return sum;
}

double bgnbd_expected(const bgnbd_params *p, const bgnbd_obs *o, double t)
{
	double r = p->r, al = p->alpha, a = p->a, b = p->b, x = o->x;
	double z = t / (al + o->T + t);
	double head = (a + b + x - 1) / (a - 1);
	double tail = 1 - pow((al + o->T) / (al + o->T + t), r + x) *
			  hyp2f1(r + x, b + x, a + b + x - 1, z);
	double den = 1;
	if (x > 0)
		den += a / (b + x - 1) * pow((al + o->T) / (al + o->tx), r + x);
	return head * tail / den;
}

double gg_loglik(const gg_params *p, const double *x, const double *m, size_t n)
{
	double sum = 0, lq = lgamma(p->q), qlg = p->q * log(p->gamma);
	for (size_t i = 0; i < n; i++) {
		double px = p->p * x[i];
		sum += lgamma(px + p->q) - lgamma(px) - lq + qlg + (px - 1) * log(m[i]) +
		       px * log(x[i]) - (px + p->q) * log(p->gamma + x[i] * m[i]);
	}
	return sum;
}

/* What the Gamma-Gamma fit keeps fixed while it searches: the logs that do
 * not depend on the parameters, and a table of the lgamma terms by x (x is
 * a whole number of purchases; others take the direct path). */
typedef struct {
	const double *x, *m;
	double *lnm, *xlnx, *table;
	size_t n, max_x;
} gg_data;

static double gg_theta(const double *t, const void *data)
{
	const gg_data *d = data;
	double p = t[0], q = t[1], g = t[2];
	double base = -lgamma(q) + q * log(g), sum = 0;
	for (size_t x = 1; x <= d->max_x; x++)
		d->table[x] = lgamma(p * (double)x + q) - lgamma(p * (double)x);
	for (size_t i = 0; i < d->n; i++) {
		double x = d->x[i], px = p * x;
		size_t xi = (size_t)x;
		double lg = (double)xi == x && xi <= d->max_x ? d->table[xi]
			    : lgamma(px + q) - lgamma(px);
		sum += lg + base + (px - 1) * d->lnm[i] + p * d->xlnx[i] -
		       (px + q) * log(g + x * d->m[i]);
	}
	return sum;
}

int gg_fit(const double *x, const double *m, size_t n, gg_params *out, double *loglik, char *err,
	   size_t errlen)
{
	if (n == 0) {
		snprintf(err, errlen, "no repeat customers to fit spend on");
		return -1;
	}
	gg_data d = {x, m, malloc(n * sizeof(double)), malloc(n * sizeof(double)), NULL, n, 0};
	for (size_t i = 0; i < n; i++) {
		if (x[i] == floor(x[i]) && x[i] > (double)d.max_x && x[i] <= 100000)
			d.max_x = (size_t)x[i];
	}
	d.table = malloc((d.max_x + 1) * sizeof(double));
	if (!d.lnm || !d.xlnx || !d.table) {
		free(d.lnm), free(d.xlnx), free(d.table);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		d.lnm[i] = log(m[i]);
		d.xlnx[i] = x[i] * log(x[i]);
	}
	/* Start on the data's scale: with p = 1 and q = 2 the prior mean spend
	 * p gamma / (q - 1) is the sample's mean when gamma is. Starting at
	 * gamma = 1 costs hundreds of iterations along the p-q-gamma ridge. */
	double mean = 0;
	for (size_t i = 0; i < n; i++)
		mean += m[i] / (double)n;
	objective ob = {gg_theta, &d, n};
	double start[3] = {1, 2, mean > 0 ? mean : 1}, best[3];
	int rc = minimise(&ob, 3, start, best, loglik, err, errlen);
	*out = (gg_params){best[0], best[1], best[2]};
	free(d.lnm), free(d.xlnx), free(d.table);
	return rc;
}

double gg_expected_spend(const gg_params *p, double x, double m)
{
	return p->p * (p->gamma + x * m) / (p->p * x + p->q - 1);
}
