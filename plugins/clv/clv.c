/* value.clv: customer lifetime value from BG/NBD (how many more purchases)
 * and Gamma-Gamma (how much each), discounted monthly.
 *
 * From each buyer's features: x = orders - 1 repeat purchases, the last at
 * tx = mean_gap_days * x after the first, and T = recency_days + tx since the
 * first, in weeks. BG/NBD is fitted on a deterministic sample of buyers
 * (every k-th, at most fit_sample); Gamma-Gamma on the customers with two or
 * more paid orders, using their mean order value (one-order customers are
 * left out of that fit, and the log says how many). Then, per buyer:
 *   expected_purchases  over the next horizon_months
 *   p_alive             the probability the customer has not lapsed
 *   clv                 sum over months m of the purchases expected in month m
 *                       x the expected spend per purchase / (1 + discount_monthly)^m
 * Customers who never paid get no value scores.
 *
 * patron.conf:  value = "clv"   or
 *               value = { plugin = "clv", horizon_months = 24, discount_monthly = 0.01 }
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <patron/plugin.h>

#include "bgnbd.h"

#define WEEKS_PER_MONTH (52.0 / 12.0)
#define MIN_BUYERS 20

typedef struct {
	const patron_host *host;
	double horizon, discount, sample;
} clv_state;

static int option(const patron_host *h, patron_ctx *ctx, const char *key, double *v, double lo,
		  double hi, const char *what)
{
	if (h->option_number(ctx, key, v) < 0 || !(*v >= lo && *v <= hi)) {
		h->fail(ctx, "option %s: expected %s", key, what);
		return -1;
	}
	return 0;
}

static int init(const patron_host *host, patron_ctx *ctx, void **state)
{
	clv_state *s = malloc(sizeof *s);
	if (!s) {
		host->fail(ctx, "out of memory");
		return -1;
	}
	*s = (clv_state){host, 12, 0.01, 100000};
	if (option(host, ctx, "horizon_months", &s->horizon, 1, 600, "1 to 600 months") < 0 ||
	    option(host, ctx, "discount_monthly", &s->discount, 0, 1, "a rate from 0 to 1") < 0 ||
	    option(host, ctx, "fit_sample", &s->sample, 100, 1e9, "at least 100 customers") < 0) {
		free(s);
		return -1;
	}
	*state = s;
	return 0;
}

static size_t column(const patron_features *f, const char *name)
{
	size_t c = 0;
	while (c < f->cols && strcmp(f->names[c], name) != 0)
		c++;
	return c;
}

static int run(void *state, patron_ctx *ctx)
{
	clv_state *s = state;
	const patron_host *h = s->host;
	const patron_features *f = h->features(ctx);
	if (!f)
		return -1;
	size_t cf = column(f, "frequency"), cr = column(f, "recency_days"),
	       cg = column(f, "mean_gap_days"), cm = column(f, "monetary_mean");
	if (cf == f->cols || cr == f->cols || cg == f->cols || cm == f->cols) {
		h->fail(ctx, "the feature matrix lacks frequency, recency_days, mean_gap_days or "
			"monetary_mean");
		return -1;
	}
	size_t n = f->rows, nb = 0, nr = 0;
	bgnbd_obs *o = malloc((n ? n : 1) * sizeof *o);
	int64_t *ids = malloc((n ? n : 1) * sizeof *ids);
	double *orders = malloc((n ? n : 1) * sizeof *orders), *mean = malloc((n ? n : 1) * sizeof *mean);
	double *gx = malloc((n ? n : 1) * sizeof *gx), *gm = malloc((n ? n : 1) * sizeof *gm);
	double *out = malloc((n ? n : 1) * 3 * sizeof *out);
	bgnbd_obs *sample = NULL;
	int rc = -1;
	if (!o || !ids || !orders || !mean || !gx || !gm || !out) {
		h->fail(ctx, "out of memory");
		goto done;
	}
	for (size_t r = 0; r < n; r++) {
		const double *row = f->x + r * f->cols;
		double fr = row[cf];
		if (!(fr >= 1) || isnan(row[cr]))
			continue;
		double x = fr - 1, tx = fr > 1 ? row[cg] * x : 0;
		o[nb] = (bgnbd_obs){x, tx / 7.0, (row[cr] + tx) / 7.0};
		ids[nb] = f->customer_ids[r];
		orders[nb] = fr;
		mean[nb] = row[cm];
		if (fr >= 2 && row[cm] > 0) {
			gx[nr] = fr;
			gm[nr] = row[cm];
			nr++;
		}
		nb++;
	}
	if (nb < MIN_BUYERS) {
		h->fail(ctx, "needs at least %d customers with a paid order, the store has %zu",
			MIN_BUYERS, nb);
		goto done;
	}
	size_t step = (size_t)ceil((double)nb / s->sample), ns = 0;
	sample = malloc(((nb + step - 1) / step) * sizeof *sample);
	if (!sample) {
		h->fail(ctx, "out of memory");
		goto done;
	}
	for (size_t i = 0; i < nb; i += step)
		sample[ns++] = o[i];
	bgnbd_params bp;
	gg_params gp;
	double ll;
	char err[256];
	if (bgnbd_fit(sample, ns, &bp, &ll, err, sizeof err) < 0) {
		h->fail(ctx, "BG/NBD on %zu customers: %s", ns, err);
		goto done;
	}
	h->log(ctx, PATRON_LOG_INFO, "BG/NBD on %zu customers: r %.4g, alpha %.4g, a %.4g, b %.4g "
	       "(log-likelihood %.6g)", ns, bp.r, bp.alpha, bp.a, bp.b, ll);
	if (nr < MIN_BUYERS) {
		h->fail(ctx, "Gamma-Gamma needs at least %d customers with two or more paid orders, "
			"the store has %zu", MIN_BUYERS, nr);
		goto done;
	}
	if (gg_fit(gx, gm, nr, &gp, &ll, err, sizeof err) < 0) {
		h->fail(ctx, "Gamma-Gamma on %zu repeat customers: %s", nr, err);
		goto done;
	}
	h->log(ctx, PATRON_LOG_INFO, "Gamma-Gamma on %zu repeat customers (%zu one-order customers "
	       "left out of the fit): p %.4g, q %.4g, gamma %.4g", nr, nb - nr, gp.p, gp.q,
	       gp.gamma);
	for (size_t i = 0; i < nb; i++) {
		double spend = gg_expected_spend(&gp, orders[i], mean[i]), clv = 0, before = 0;
		for (int m = 1; m <= (int)s->horizon; m++) {
			double upto = bgnbd_expected(&bp, &o[i], m * WEEKS_PER_MONTH);
			clv += (upto - before) * spend / pow(1 + s->discount, m);
			before = upto;
		}
		out[i] = before;
		out[nb + i] = bgnbd_p_alive(&bp, &o[i]);
		out[2 * nb + i] = clv;
		if (!isfinite(before) || !isfinite(out[nb + i]) || !isfinite(clv)) {
			h->fail(ctx, "the model gave no finite value for customer %lld",
				(long long)ids[i]);
			goto done;	/* nothing half-written */
		}
		if ((i & 16383) == 0)
			h->progress(ctx, (double)i / (double)nb, "value");
	}
	h->progress(ctx, 1.0, "value");
	if (h->write_scores(ctx, "expected_purchases", nb, ids, out) < 0 ||
	    h->write_scores(ctx, "p_alive", nb, ids, out + nb) < 0 ||
	    h->write_scores(ctx, "clv", nb, ids, out + 2 * nb) < 0)
		goto done;
	rc = 0;
done:
	free(o), free(ids), free(orders), free(mean), free(gx), free(gm), free(out), free(sample);
	return rc;
}

static void done_state(void *state) { free(state); }

static const patron_plugin descriptor = {
	PATRON_PLUGIN_ABI,
	.name = "value.clv",
	.kind = PATRON_KIND_SCORER,
	.version = "1.0",
	.description = "lifetime value: BG/NBD purchases x Gamma-Gamma spend, discounted",
	.init = init,
	.run = run,
	.free = done_state,
};

const patron_plugin *patron_plugin_entry(void) { return &descriptor; }
