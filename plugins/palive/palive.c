/* churn.palive: churn as 1 - P(alive) from BG/NBD (Fader, Hardie and Lee,
 * 2005), for a shop without subscriptions, where nobody says they leave:
 * the model fitted on the training customers' purchase histories, as of
 * the cutoff, gives each customer the probability they have already
 * lapsed. It learns nothing from the labels, so `patron eval churn
 * --plugin palive` beside `--plugin logreg` says which the shop should use.
 *
 * A history is read from the design table's own columns: x = frequency - 1
 * repeat orders, t_x = mean_gap_days x, T = recency_days + t_x (weeks). As
 * the table holds orders, not purchase days, two orders on one day count
 * twice here (value.clv counts days). BG/NBD lets a customer lapse only
 * just after a repeat purchase, so a one-order customer's risk is 0.
 *
 * patron.conf:  churn = "palive"   or   churn = { plugin = "palive", fit_sample = 50000 }
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <patron/plugin.h>

#include "../clv/bgnbd.h"
#include "supervised.h"

typedef struct {
	const patron_host *host;
	double sample;
} palive_state;

typedef struct {
	size_t recency, frequency, gap, gap_missing;	/* columns; cols when absent */
	const patron_design *d;
	bgnbd_params p;
} model;

static int init(const patron_host *h, patron_ctx *ctx, void **state)
{
	palive_state *s = malloc(sizeof *s);
	if (!s)
		return h->fail(ctx, "out of memory"), -1;
	*s = (palive_state){h, 100000};
	if (h->option_number(ctx, "fit_sample", &s->sample) < 0 || !(s->sample >= 100)) {
		h->fail(ctx, "option fit_sample: expected at least 100 customers");
		free(s);
		return -1;
	}
	*state = s;
	return 0;
}

static size_t column(const patron_design *d, const char *name)
{
	size_t c = 0;
	while (c < d->cols && strcmp(d->names[c], name) != 0)
		c++;
	return c;
}

static int columns(const patron_host *h, patron_ctx *ctx, const patron_design *d, model *m)
{
	m->d = d;
	m->recency = column(d, "recency_days");
	m->frequency = column(d, "frequency");
	m->gap = column(d, "mean_gap_days");
	m->gap_missing = column(d, "mean_gap_days (missing)");
	if (m->recency == d->cols || m->frequency == d->cols) {
		h->fail(ctx, "the table has no recency_days or frequency: BG/NBD reads purchase "
			"histories, so churn labels must come from history or from customers "
			"with orders");
		return -1;
	}
	return 0;
}

/* The column's value in its own units. */
static double raw(const model *m, const double *x, size_t c)
{
	return x[c] * m->d->sd[c] + m->d->mean[c];
}

static bgnbd_obs history(const model *m, const double *x)
{
	double freq = round(raw(m, x, m->frequency)), x_rep = freq > 1 ? freq - 1 : 0;
	double rec = raw(m, x, m->recency), gap = 0;
	if (x_rep > 0 && m->gap < m->d->cols &&
	    !(m->gap_missing < m->d->cols && x[m->gap_missing] > 0.5))
		gap = raw(m, x, m->gap);
	double tx = x_rep * (gap > 0 ? gap : 0);
	rec = rec > 0 ? rec : 0;
	return (bgnbd_obs){x_rep, tx / 7.0, (rec + tx) / 7.0};
}

static int train(void *state, patron_ctx *ctx)
{
	palive_state *s = state;
	const patron_host *h = s->host;
	const patron_design *d = sup_design(h, ctx);
	model m;
	if (!d || columns(h, ctx, d, &m) < 0)
		return -1;
	size_t *rows, n = sup_train_rows(d, &rows);
	size_t step = (size_t)ceil((double)n / s->sample), ns = 0;
	bgnbd_obs *o = malloc(((n + step - 1) / (step ? step : 1) + 1) * sizeof *o);
	if (!rows || !o) {
		free(rows), free(o);
		return h->fail(ctx, "out of memory"), -1;
	}
	for (size_t i = 0; i < n; i += step)
		o[ns++] = history(&m, d->x + rows[i] * d->cols);
	free(rows);
	double ll;
	char err[256];
	int rc = bgnbd_fit(o, ns, &m.p, &ll, err, sizeof err);
	free(o);
	if (rc < 0)
		return h->fail(ctx, "BG/NBD on %zu customers: %s", ns, err), -1;
	h->log(ctx, PATRON_LOG_INFO, "BG/NBD on %zu customers: r %.4g, alpha %.4g weeks, a %.4g, "
	       "b %.4g (log-likelihood %.6g)", ns, m.p.r, m.p.alpha, m.p.a, m.p.b, ll);
	return sup_save(h, ctx, d, json_pack("{s:f, s:f, s:f, s:f}", "r", m.p.r, "alpha",
					     m.p.alpha, "a", m.p.a, "b", m.p.b));
}

/* 1 - P(alive); the recency column carries it as the reason. */
static double predict(const void *p, const double *x, double *contrib)
{
	const model *m = p;
	bgnbd_obs o = history(m, x);
	double risk = 1 - bgnbd_p_alive(&m->p, &o);
	if (!isfinite(risk))
		risk = 0;
	risk = risk < 0 ? 0 : risk > 1 ? 1 : risk;
	if (contrib)
		contrib[m->recency] = risk;
	return risk;
}

static int run(void *state, patron_ctx *ctx)
{
	palive_state *s = state;
	const patron_host *h = s->host;
	const patron_design *d = sup_design(h, ctx);
	model m;
	if (!d || columns(h, ctx, d, &m) < 0)
		return -1;
	json_t *j = sup_load(h, ctx, d);
	if (!j)
		return -1;
	m.p = (bgnbd_params){json_number_value(json_object_get(j, "r")),
			     json_number_value(json_object_get(j, "alpha")),
			     json_number_value(json_object_get(j, "a")),
			     json_number_value(json_object_get(j, "b"))};
	json_decref(j);
	if (!(m.p.r > 0 && m.p.alpha > 0 && m.p.a > 0 && m.p.b > 0))
		return h->fail(ctx, "the stored model cannot be read: train it again"), -1;
	return sup_score(h, ctx, d, predict, &m);
}

static void done(void *state) { free(state); }

static const char *const options[] = {"fit_sample", NULL};

static const patron_plugin descriptor = {
	PATRON_PLUGIN_ABI,
	.name = "churn.palive",
	.kind = PATRON_KIND_SCORER,
	.version = "1.0",
	.description = "churn as 1 - P(alive) from BG/NBD, for shops without subscriptions",
	.init = init,
	.run = run,
	.free = done,
	.train = train,
	.options = options,
};

const patron_plugin *patron_plugin_entry(void) { return &descriptor; }
