/* value.clv: customer lifetime value from BG/NBD (how many more purchases)
 * and Gamma-Gamma (how much each), discounted monthly.
 *
 * Both models count purchase occasions, as their papers define them (Fader,
 * Hardie and Lee 2005): a customer's paid orders are grouped by period (a
 * UTC day unless period_days says otherwise), so several orders on one day
 * are one purchase. From those periods: x = periods - 1 repeat purchases,
 * tx from the first purchase to the last, T from the first purchase to now
 * (both in weeks). BG/NBD is fitted on a deterministic sample of buyers
 * (every k-th, at most fit_sample). Gamma-Gamma is fitted on the customers
 * with a repeat purchase, on x and the mean value of the repeat purchases
 * (the first purchase left out, as the model is defined). Then, per buyer:
 *   expected_purchases  over the next horizon_months
 *   p_alive             the probability the customer has not lapsed
 *   clv                 sum over months m of the purchases expected in month m
 *                       x the expected spend per purchase / (1 + discount_monthly)^m
 * Customers who never paid (prospects) are scored as if their signup were
 * their first purchase: x = 0, tx = 0, T = tenure, and the population's mean
 * spend per purchase (Gamma-Gamma's p gamma / (q - 1)); as BG/NBD lets a
 * customer lapse only just after a purchase, their p_alive is 1 and their
 * expected purchases fall with the time since signup. They are not part of
 * either fit. The fitted parameters are stored as a model (patron train
 * value refits; patron models lists them, alpha in weeks and in days);
 * scoring uses the newest, and fits and stores one when there is none.
 * A core older than ABI 1.9 has no purchase days: orders are counted then.
 *
 * patron.conf:  value = "clv"   or
 *               value = { plugin = "clv", horizon_months = 24, discount_monthly = 0.01,
 *                         period_days = 1 }
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <patron/plugin.h>

#include "../common/parallel.h"
#include "bgnbd.h"

#define WEEKS_PER_MONTH (52.0 / 12.0)
#define MAX_HORIZON 600
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
	double horizon, discount, sample, period;
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
	*s = (clv_state){host, 12, 0.01, 100000, 1};
	if (option(host, ctx, "horizon_months", &s->horizon, 1, MAX_HORIZON, "1 to 600 months") < 0 ||
	    option(host, ctx, "discount_monthly", &s->discount, 0, 1, "a rate from 0 to 1") < 0 ||
	    option(host, ctx, "fit_sample", &s->sample, 100, 1e9, "at least 100 customers") < 0 ||
	    option(host, ctx, "period_days", &s->period, 1, 366, "a whole number of days, 1 to "
		   "366") < 0 || (s->period != floor(s->period) &&
				    (host->fail(ctx, "option period_days: expected a whole number of "
						"days"), 1))) {
		free(s);
		return -1;
	}
	*state = s;
	return 0;
}

/* The buyers' histories. */
typedef struct {
	size_t n, repeat;	/* buyers; of them with a repeat purchase */
	size_t scored;		/* buyers, then prospects: o, ids, x, mean */
	bgnbd_obs *o;
	int64_t *ids;
	double *x, *mean;	/* per scored customer: repeat purchases, their mean value */
	double *gx, *gm;	/* per repeat buyer: the same, for Gamma-Gamma */
} buyers;

static void buyers_free(buyers *b)
{
	free(b->o), free(b->ids), free(b->x), free(b->mean), free(b->gx), free(b->gm);
}

static int64_t floor_div(int64_t a, int64_t b) { return a / b - (a % b != 0 && (a < 0) != (b < 0)); }

/* One buyer from the purchase days of row R: the days grouped into periods
 * of PERIOD days (several orders in one period are one purchase). */
static void buyer_from_days(const patron_purchases *p, size_t r, int64_t period, int64_t now_day,
			    bgnbd_obs *o, double *x, double *mean)
{
	size_t from = p->offsets[r], to = p->offsets[r + 1];
	int64_t first = floor_div(p->days[from], period), last = first;
	double repeat = 0, value = 0, first_value = 0;
	for (size_t i = from; i < to; i++) {
		int64_t q = floor_div(p->days[i], period);
		if (q == first)
			first_value += p->amounts[i];
		else
			value += p->amounts[i];
		if (q != last)
			repeat++;
		last = q;
	}
	double week = (double)period / 7.0;
	*o = (bgnbd_obs){repeat, (double)(last - first) * week,
			 (double)(floor_div(now_day, period) - first) * week};
	*x = repeat;
	*mean = repeat ? value / repeat : 0;
	(void)first_value;	/* the first purchase is not part of either model's spend */
}

static int buyers_read(const patron_host *h, patron_ctx *ctx, int64_t period, buyers *b)
{
	memset(b, 0, sizeof *b);
	const patron_features *f = h->features(ctx);
	if (!f)
		return -1;
	const patron_purchases *p = PATRON_HOST_HAS(h, purchases) ? h->purchases(ctx) : NULL;
	if (PATRON_HOST_HAS(h, purchases) && !p)
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
	if (p && p->rows != f->rows) {
		h->fail(ctx, "the purchase days and the feature matrix differ in rows");
		return -1;
	}
	size_t n = f->rows ? f->rows : 1;
	b->o = malloc(n * sizeof *b->o);
	b->ids = malloc(n * sizeof *b->ids);
	b->x = malloc(n * sizeof *b->x);
	b->mean = malloc(n * sizeof *b->mean);
	b->gx = malloc(n * sizeof *b->gx);
	b->gm = malloc(n * sizeof *b->gm);
	if (!b->o || !b->ids || !b->x || !b->mean || !b->gx || !b->gm) {
		h->fail(ctx, "out of memory");
		return -1;
	}
	int64_t now = h->now(ctx), now_day = floor_div(now, 86400);
	for (size_t r = 0; r < f->rows; r++) {
		const double *row = f->x + r * f->cols;
		if (p) {
			if (p->offsets[r + 1] == p->offsets[r])
				continue;
			buyer_from_days(p, r, period, now_day, &b->o[b->n], &b->x[b->n],
					&b->mean[b->n]);
		} else {	/* an older core: every order a purchase */
			double fr = row[cf];
			if (!(fr >= 1) || isnan(row[cr]))
				continue;
			double x = fr - 1, tx = fr > 1 ? row[cg] * x : 0;
			b->o[b->n] = (bgnbd_obs){x, tx / 7.0, (row[cr] + tx) / 7.0};
			b->x[b->n] = x;
			b->mean[b->n] = row[cm];
		}
		b->ids[b->n] = f->customer_ids[r];
		if (b->x[b->n] >= 1 && b->mean[b->n] > 0) {
			b->gx[b->repeat] = b->x[b->n];
			b->gm[b->repeat] = b->mean[b->n];
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
		b->x[b->scored] = 0;
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
		NOT_READY(h, ctx, "Gamma-Gamma needs at least %d customers with a repeat purchase "
			  "(paid orders on two or more days), the store has %zu; it runs once that "
			  "many have come back",
			  MIN_BUYERS, b->repeat);
		return -1;
	}
	/* The same deterministic sample as BG/NBD's: every k-th repeat buyer,
	 * at most fit_sample (a million customers' likelihood, each a few
	 * lgamma calls, at every step of the optimizer is the CLV fit's cost). */
	size_t gstep = (size_t)ceil((double)b->repeat / s->sample), gn = 0;
	for (size_t i = 0; i < b->repeat; i += gstep, gn++) {
		b->gx[gn] = b->gx[i];
		b->gm[gn] = b->gm[i];
	}
	if (gg_fit(b->gx, b->gm, gn, gp, &ll, err, sizeof err) < 0) {
		h->fail(ctx, "Gamma-Gamma on %zu repeat customers: %s", gn, err);
		return -1;
	}
	h->log(ctx, PATRON_LOG_INFO, "Gamma-Gamma on the mean value of the repeat purchases of %zu "
	       "customers (%zu without a repeat purchase left out of the fit): p %.4g, q %.4g, "
	       "gamma %.4g", gn, b->n - b->repeat, gp->p, gp->q, gp->gamma);
	char params[1024];
	/* alpha is a rate's scale in weeks; its value in days beside it */
	snprintf(params, sizeof params, MODEL_WRITE ",\"alpha_days\":%.17g,\"units\":{\"alpha\":"
		 "\"weeks\",\"alpha_days\":\"days\",\"gamma\":\"base currency\",\"period_days\":"
		 "\"days\"},\"period_days\":%d,\"fit_customers\":%zu,\"repeat_customers\":%zu}",
		 bp->r, bp->alpha, bp->a, bp->b, gp->p, gp->q, gp->gamma, bp->alpha * 7,
		 (int)s->period, ns, b->repeat);
	return h->save_model(ctx, params);
}

static int train(void *state, patron_ctx *ctx)
{
	clv_state *s = state;
	buyers b;
	bgnbd_params bp;
	gg_params gp;
	int rc = buyers_read(s->host, ctx, (int64_t)s->period, &b) < 0
		 ? -1 : fit_and_save(s, ctx, &b, &bp, &gp);
	buyers_free(&b);
	return rc;
}

static const bgnbd_obs *by_history;

static int by_obs(const void *a, const void *b)
{
	const bgnbd_obs *x = &by_history[*(const size_t *)a], *y = &by_history[*(const size_t *)b];
	if (x->x != y->x)
		return x->x < y->x ? -1 : 1;
	if (x->tx != y->tx)
		return x->tx < y->tx ? -1 : 1;
	return (x->T > y->T) - (x->T < y->T);
}

/* The scoring of customers ORDER[0..n) (sorted by history) into OUT: their
 * expected purchases, P(alive), CLV. BAD[part] is the first customer a
 * part found without a finite value. */
typedef struct {
	const bgnbd_params *bp;
	const gg_params *gp;
	const buyers *b;
	const size_t *order;
	size_t n;
	int horizon;
	double discount;
	double *out;
	size_t bad[2];
} scoring;

static int same_history(const bgnbd_obs *x, const bgnbd_obs *y)
{
	return x->x == y->x && x->tx == y->tx && x->T == y->T;
}

/* Part PART of PARTS: a run of the sorted customers cut at a change of
 * history, each history's monthly expectations worked out once. */
static void score_part(void *arg, size_t part, size_t parts)
{
	scoring *sc = arg;
	const bgnbd_obs *o = sc->b->o;
	size_t from = sc->n * part / parts, to = sc->n * (part + 1) / parts;
	while (from > 0 && from < sc->n && same_history(&o[sc->order[from - 1]],
							 &o[sc->order[from]]))
		from++;
	while (to < sc->n && to > 0 && same_history(&o[sc->order[to - 1]], &o[sc->order[to]]))
		to++;
	double upto[MAX_HORIZON + 1], discount[MAX_HORIZON + 1], p_alive = 0;
	for (int m = 1; m <= sc->horizon; m++)
		discount[m] = 1 / pow(1 + sc->discount, m);
	const bgnbd_obs *last = NULL;
	size_t nb = sc->n;
	for (size_t k = from; k < to; k++) {
		size_t i = sc->order[k];
		if (!last || !same_history(last, &o[i])) {
			last = &o[i];
			upto[0] = 0;
			for (int m = 1; m <= sc->horizon; m++)
				upto[m] = bgnbd_expected(sc->bp, last, m * WEEKS_PER_MONTH);
			p_alive = bgnbd_p_alive(sc->bp, last);
		}
		double spend = gg_expected_spend(sc->gp, sc->b->x[i], sc->b->mean[i]), clv = 0;
		for (int m = 1; m <= sc->horizon; m++)
			clv += (upto[m] - upto[m - 1]) * spend * discount[m];
		sc->out[i] = upto[sc->horizon];
		sc->out[nb + i] = p_alive;
		sc->out[2 * nb + i] = clv;
		if ((!isfinite(upto[sc->horizon]) || !isfinite(p_alive) || !isfinite(clv)) &&
		    i < sc->bad[part])
			sc->bad[part] = i;
	}
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
	if (buyers_read(h, ctx, (int64_t)s->period, &b) < 0)
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
	size_t *order = malloc((nb ? nb : 1) * sizeof *order);
	if (!out || !order) {
		free(order);
		h->fail(ctx, "out of memory");
		goto done;
	}
	/* Customers with one history (x, tx and T are whole periods, so a
	 * million customers have far fewer) have the same expected purchases
	 * and P(alive): each history is worked out once, on both cores. */
	for (size_t i = 0; i < nb; i++)
		order[i] = i;
	by_history = b.o;
	qsort(order, nb, sizeof *order, by_obs);
	scoring sc = {.bp = &bp, .gp = &gp, .b = &b, .order = order, .n = nb,
		      .horizon = (int)s->horizon, .discount = s->discount, .out = out,
		      .bad = {SIZE_MAX, SIZE_MAX}};
	h->progress(ctx, 0.0, "value");
	plugin_parallel(score_part, &sc, 2);
	size_t bad = sc.bad[0] < sc.bad[1] ? sc.bad[0] : sc.bad[1];
	free(order);
	if (bad != SIZE_MAX) {
		h->fail(ctx, "the model gave no finite value for customer %lld",
			(long long)b.ids[bad]);
		goto done;	/* nothing half-written */
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
static const char *const options[] = {"horizon_months", "discount_monthly", "fit_sample",
				     "period_days", NULL};

static const patron_plugin descriptor = {
	PATRON_PLUGIN_ABI,
	.name = "value.clv",
	.kind = PATRON_KIND_SCORER,
	.version = "1.1",
	.description = "lifetime value: BG/NBD purchases x Gamma-Gamma spend, discounted",
	.init = init,
	.run = run,
	.free = done_state,
	.train = train,
	.options = options,
};

const patron_plugin *patron_plugin_entry(void) { return &descriptor; }
