/* churn.nbayes: naive Bayes (nb.c): normal densities for numbers, smoothed
 * categorical likelihoods for one-hot groups and missing indicators. A
 * customer's reasons are the columns whose likelihood ratio favours
 * churning the most.
 *
 * patron.conf:  churn = "nbayes"   or   churn = { plugin = "nbayes", alpha = 0.5 }
 * Options: alpha (1, the count added to every categorical level),
 * var_smoothing (1e-9).
 */
#include <math.h>
#include <stdlib.h>

#include <patron/plugin.h>

#include "nb.h"
#include "supervised.h"

typedef struct {
	const patron_host *host;
	double alpha, epsilon;
} nb_state;

static int init(const patron_host *host, patron_ctx *ctx, void **state)
{
	nb_state *s = malloc(sizeof *s);
	if (!s) {
		host->fail(ctx, "out of memory");
		return -1;
	}
	*s = (nb_state){host, 1, 1e-9};
	if (host->option_number(ctx, "alpha", &s->alpha) < 0 || !(s->alpha > 0) ||
	    host->option_number(ctx, "var_smoothing", &s->epsilon) < 0 || !(s->epsilon >= 0)) {
		host->fail(ctx, "options alpha (above 0) and var_smoothing (at least 0): expected "
			"numbers");
		free(s);
		return -1;
	}
	*state = s;
	return 0;
}

/* The stored params: the class statistics. */
static json_t *lists(const nb_model *m)
{
	json_t *logp[2] = {json_array(), json_array()};
	for (int c = 0; c < 2; c++)
		for (size_t v = 0; v < m->vars; v++)
			json_array_append_new(logp[c], m->kind[v] == 1
					      ? sup_array(m->logp[c][v], m->levels[v]) : json_null());
	return json_pack("{s:[f, f], s:[o, o], s:[o, o], s:[o, o]}", "prior", m->prior[0],
			 m->prior[1], "mean", sup_array(m->mean[0], m->cols),
			 sup_array(m->mean[1], m->cols), "var", sup_array(m->var[0], m->cols),
			 sup_array(m->var[1], m->cols), "logp", logp[0], logp[1]);
}

static int train(void *state, patron_ctx *ctx)
{
	nb_state *s = state;
	const patron_host *h = s->host;
	const patron_design *d = sup_design(h, ctx);
	if (!d)
		return -1;
	size_t *rows, n = sup_train_rows(d, &rows);
	nb_model m;
	if (!rows || nb_fit(d->x, d->cols, d->names, rows, n, d->y, s->alpha, s->epsilon, &m) < 0) {
		free(rows);
		h->fail(ctx, "out of memory");
		return -1;
	}
	free(rows);
	h->log(ctx, PATRON_LOG_INFO, "%zu customers: %zu variables from %zu columns", n, m.vars,
	       d->cols);
	json_t *params = lists(&m);
	nb_free(&m);
	return sup_save(h, ctx, d, params);
}

static int restore(json_t *j, const patron_design *d, nb_model *m)
{
	/* The variables come from the names again; the numbers from the model. */
	if (nb_init(m, d->names, d->cols) < 0)
		return -1;
	json_t *prior = json_object_get(j, "prior"), *logp = json_object_get(j, "logp");
	for (int c = 0; c < 2; c++) {
		m->prior[c] = json_number_value(json_array_get(prior, (size_t)c));
		if (sup_doubles(json_array_get(json_object_get(j, "mean"), (size_t)c), m->mean[c],
				d->cols) < 0 ||
		    sup_doubles(json_array_get(json_object_get(j, "var"), (size_t)c), m->var[c],
				d->cols) < 0)
			return -1;
		for (size_t v = 0; v < m->vars; v++)
			if (m->kind[v] == 1 &&
			    sup_doubles(json_array_get(json_array_get(logp, (size_t)c), v),
					m->logp[c][v], m->levels[v]) < 0)
				return -1;
	}
	return 0;
}

/* The probability, and each column's log-likelihood ratio as its share. */
static double predict(const void *model, const double *x, double *contrib)
{
	return nb_predict(model, x, contrib);
}

static int run(void *state, patron_ctx *ctx)
{
	nb_state *s = state;
	const patron_host *h = s->host;
	const patron_design *d = sup_design(h, ctx);
	if (!d)
		return -1;
	json_t *j = sup_load(h, ctx, d);
	if (!j)
		return -1;
	nb_model m;
	int rc = -1;
	if (restore(j, d, &m) < 0)
		h->fail(ctx, "the stored model cannot be read: train it again");
	else
		rc = sup_score(h, ctx, d, predict, &m);
	nb_free(&m);
	json_decref(j);
	return rc;
}

static void done(void *state) { free(state); }

/* What this plugin reads from its job's table in patron.conf. */
static const char *const options[] = {"alpha", "var_smoothing", NULL};

static const patron_plugin descriptor = {
	PATRON_PLUGIN_ABI,
	.name = "churn.nbayes",
	.kind = PATRON_KIND_SCORER,
	.version = "1.0",
	.description = "churn by naive Bayes: normal densities and categorical likelihoods",
	.init = init,
	.run = run,
	.free = done,
	.train = train,
	.options = options,
};

const patron_plugin *patron_plugin_entry(void) { return &descriptor; }
