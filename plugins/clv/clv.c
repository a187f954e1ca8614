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
 * Customers who never paid (prospects) are scored as if their signup were
 * their first purchase: x = 0, tx = 0, T = tenure, and the population's mean
 * spend per purchase (Gamma-Gamma's p gamma / (q - 1)); as BG/NBD lets a
 * customer lapse only just after a purchase, their p_alive is 1 and their
 * expected purchases fall with the time since signup. They are not part of
 * either fit. The fitted parameters are
 * stored as a model (patron train value refits; patron models lists them);
 * scoring uses the newest, and fits and stores one when there is none.
 *
 * patron.conf:  value = "clv"   or
 *               value = { plugin = "clv", horizon_months = 24, discount_monthly = 0.01 }
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <patron/plugin.h>

#include "bgnbd.h"

#define WEEKS_PER_MONTH (52.0 / 12.0)
#define MIN_BUYERS 20

/* Too few buyers is the store's state, not a fault: the command says so
 * and runs the other jobs (ABI 1.5; an older core hears a failure). */
#define NOT_READY(h, ctx, ...) \
	(PATRON_HOST_HAS(h, not_ready) ? (h)->not_ready(ctx, __VA_ARGS__) \
				       : (h)->fail(ctx, __VA_ARGS__))
/* The stored parameters' JSON, written (all 17 digits) and read back by this
 * plugin. */
#define MODEL_WRITE "{\"r\":%.17g,\"alpha\":%.17g,\"a\":%.17g,\"b\":%.17g,\"p\":%.17g," \
		    "\"q\":%.17g,\"gamma\":%.17g"
#define MODEL_READ "{\"r\":%lg,\"alpha\":%lg,\"a\":%lg,\"b\":%lg,\"p\":%lg,\"q\":%lg," \
		   "\"gamma\":%lg"

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

/* The buyers' histories, from the feature matrix. */
typedef struct {
	size_t n, repeat;	/* buyers; of them with two or more orders */
	size_t scored;		/* buyers, then prospects: o, ids, orders, mean */
	bgnbd_obs *o;
	int64_t *ids;
	double *orders, *mean;	/* per scored customer */
	double *gx, *gm;	/* per repeat buyer: orders and mean order value */
} buyers;

static void buyers_free(buyers *b)
{
	free(b->o), free(b->ids), free(b->orders), free(b->mean), free(b->gx), free(b->gm);
}

static int buyers_read(const patron_host *h, patron_ctx *ctx, buyers *b)
{
	memset(b, 0, sizeof *b);
	const patron_features *f = h->features(ctx);
	if (!f)
		return -1;
	size_t cf = patron_feature_column(f, "frequency");
	size_t cr = patron_feature_column(f, "recency_days");
	size_t cg = patron_feature_column(f, "mean_gap_days");
	size_t cm = patron_feature_column(f, "monetary_mean");
	size_t ct = patron_feature_column(f, "tenure_days");
	if (cf == f->cols || cr == f->cols || cg == f->cols || cm == f->cols || ct == f->cols) {
		h->fail(ctx, "the feature matrix lacks frequency, recency_days, mean_gap_days, "
			"monetary_mean or tenure_days");
		return -1;
	}
	size_t n = f->rows ? f->rows : 1;
	b->o = malloc(n * sizeof *b->o);
	b->ids = malloc(n * sizeof *b->ids);
	b->orders = malloc(n * sizeof *b->orders);
	b->mean = malloc(n * sizeof *b->mean);
	b->gx = malloc(n * sizeof *b->gx);
	b->gm = malloc(n * sizeof *b->gm);
	if (!b->o || !b->ids || !b->orders || !b->mean || !b->gx || !b->gm) {
		h->fail(ctx, "out of memory");
		return -1;
	}
	for (size_t r = 0; r < f->rows; r++) {
		const double *row = f->x + r * f->cols;
		double fr = row[cf];
		if (!(fr >= 1) || isnan(row[cr]))
			continue;
		double x = fr - 1, tx = fr > 1 ? row[cg] * x : 0;
		b->o[b->n] = (bgnbd_obs){x, tx / 7.0, (row[cr] + tx) / 7.0};
		b->ids[b->n] = f->customer_ids[r];
		b->orders[b->n] = fr;
		b->mean[b->n] = row[cm];
		if (fr >= 2 && row[cm] > 0) {
			b->gx[b->repeat] = fr;
			b->gm[b->repeat] = row[cm];
			b->repeat++;
		}
		b->n++;
	}
	b->scored = b->n;
	for (size_t r = 0; r < f->rows; r++) {
		const double *row = f->x + r * f->cols;
		if (row[cf] >= 1 || !(row[ct] >= 0))
			continue;
		b->o[b->scored] = (bgnbd_obs){0, 0, row[ct] / 7.0};
		b->ids[b->scored] = f->customer_ids[r];
		b->orders[b->scored] = 0;
		b->mean[b->scored] = 0;
		b->scored++;
	}
	if (b->n < MIN_BUYERS) {
		NOT_READY(h, ctx, "needs at least %d customers with a paid order, the store has "
			  "%zu; it runs once the shop has that many buyers", MIN_BUYERS, b->n);
		return -1;
	}
	return 0;
}

/* Fits both models and saves them as the plugin's next model version. */
static int fit_and_save(clv_state *s, patron_ctx *ctx, const buyers *b, bgnbd_params *bp,
			gg_params *gp)
{
	const patron_host *h = s->host;
	size_t step = (size_t)ceil((double)b->n / s->sample), ns = 0;
	bgnbd_obs *sample = malloc(((b->n + step - 1) / step) * sizeof *sample);
	if (!sample) {
		h->fail(ctx, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < b->n; i += step)
		sample[ns++] = b->o[i];
	double ll;
	char err[256];
	int rc = bgnbd_fit(sample, ns, bp, &ll, err, sizeof err);
	free(sample);
	if (rc < 0) {
		h->fail(ctx, "BG/NBD on %zu customers: %s", ns, err);
		return -1;
	}
	h->log(ctx, PATRON_LOG_INFO, "BG/NBD on %zu customers: r %.4g, alpha %.4g, a %.4g, b %.4g "
	       "(log-likelihood %.6g)", ns, bp->r, bp->alpha, bp->a, bp->b, ll);
	if (b->repeat < MIN_BUYERS) {
		NOT_READY(h, ctx, "Gamma-Gamma needs at least %d customers with two or more paid "
			  "orders, the store has %zu; it runs once that many have come back",
			  MIN_BUYERS, b->repeat);
		return -1;
	}
	if (gg_fit(b->gx, b->gm, b->repeat, gp, &ll, err, sizeof err) < 0) {
		h->fail(ctx, "Gamma-Gamma on %zu repeat customers: %s", b->repeat, err);
		return -1;
	}
	h->log(ctx, PATRON_LOG_INFO, "Gamma-Gamma on %zu repeat customers (%zu one-order customers "
	       "left out of the fit): p %.4g, q %.4g, gamma %.4g", b->repeat, b->n - b->repeat,
	       gp->p, gp->q, gp->gamma);
	char params[512];
	snprintf(params, sizeof params, MODEL_WRITE ",\"fit_customers\":%zu,"
		 "\"repeat_customers\":%zu}", bp->r, bp->alpha, bp->a, bp->b, gp->p, gp->q,
		 gp->gamma, ns, b->repeat);
	return h->save_model(ctx, params);
}

static int train(void *state, patron_ctx *ctx)
{
	clv_state *s = state;
	buyers b;
	bgnbd_params bp;
	gg_params gp;
	int rc = buyers_read(s->host, ctx, &b) < 0 ? -1 : fit_and_save(s, ctx, &b, &bp, &gp);
	buyers_free(&b);
	return rc;
}

static int run(void *state, patron_ctx *ctx)
{
	clv_state *s = state;
	const patron_host *h = s->host;
	buyers b;
	bgnbd_params bp;
	gg_params gp;
	double *out = NULL;
	int rc = -1;
	if (buyers_read(h, ctx, &b) < 0)
		goto done;
	/* The newest stored model; with none yet, fit one and store it. */
	const char *model = h->load_model(ctx);
	if (!model) {
		h->log(ctx, PATRON_LOG_INFO, "no stored model: fitting one (patron train value "
		       "refits)");
		if (fit_and_save(s, ctx, &b, &bp, &gp) < 0)
			goto done;
	} else if (sscanf(model, MODEL_READ, &bp.r, &bp.alpha, &bp.a, &bp.b, &gp.p, &gp.q,
			  &gp.gamma) != 7) {
		h->fail(ctx, "the stored model cannot be read: patron train value fits a new one");
		goto done;
	}
	size_t nb = b.scored;
	if (nb > b.n && !(gp.q > 1)) {
		/* The population's mean spend p gamma / (q - 1) is unbounded. */
		h->log(ctx, PATRON_LOG_WARN, "Gamma-Gamma's q is %.4g, so spend has no finite mean: "
		       "the %zu customers without a paid order get no value scores", gp.q, nb - b.n);
		nb = b.n;
	}
	out = malloc((nb ? nb : 1) * 3 * sizeof *out);
	if (!out) {
		h->fail(ctx, "out of memory");
		goto done;
	}
	for (size_t i = 0; i < nb; i++) {
		double spend = gg_expected_spend(&gp, b.orders[i], b.mean[i]), clv = 0, before = 0;
		for (int m = 1; m <= (int)s->horizon; m++) {
			double upto = bgnbd_expected(&bp, &b.o[i], m * WEEKS_PER_MONTH);
			clv += (upto - before) * spend / pow(1 + s->discount, m);
			before = upto;
		}
		out[i] = before;
		out[nb + i] = bgnbd_p_alive(&bp, &b.o[i]);
		out[2 * nb + i] = clv;
		if (!isfinite(before) || !isfinite(out[nb + i]) || !isfinite(clv)) {
			h->fail(ctx, "the model gave no finite value for customer %lld",
				(long long)b.ids[i]);
			goto done;	/* nothing half-written */
		}
		if ((i & 16383) == 0)
			h->progress(ctx, (double)i / (double)nb, "value");
	}
	h->progress(ctx, 1.0, "value");
	if (h->write_scores(ctx, "expected_purchases", nb, b.ids, out) < 0 ||
	    h->write_scores(ctx, "p_alive", nb, b.ids, out + nb) < 0 ||
	    h->write_scores(ctx, "clv", nb, b.ids, out + 2 * nb) < 0)
		goto done;
	rc = 0;
done:
	buyers_free(&b);
	free(out);
	return rc;
}

static void done_state(void *state) { free(state); }

/* What this plugin reads from its job's table in patron.conf. */
static const char *const options[] = {"horizon_months", "discount_monthly", "fit_sample", NULL};

static const patron_plugin descriptor = {
	PATRON_PLUGIN_ABI,
	.name = "value.clv",
	.kind = PATRON_KIND_SCORER,
	.version = "1.0",
	.description = "lifetime value: BG/NBD purchases x Gamma-Gamma spend, discounted",
	.init = init,
	.run = run,
	.free = done_state,
	.train = train,
	.options = options,
};

const patron_plugin *patron_plugin_entry(void) { return &descriptor; }
