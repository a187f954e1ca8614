/* churn.logreg: L2-regularized logistic regression (irls.c: Newton's
 * method to convergence), scikit-learn's LogisticRegression(C=C) objective.
 * A customer's reasons are the columns with the largest coefficient x
 * standardized value, the terms that push the risk up the most.
 *
 * patron.conf:  churn = "logreg"   or   churn = { plugin = "logreg", C = 0.5 }
 * Options: C (1; smaller is stronger regularization), max_iter (100).
 */
#include <math.h>
#include <stdlib.h>

#include <patron/plugin.h>

#include "irls.h"
#include "supervised.h"

typedef struct {
	const patron_host *host;
	double C, max_iter;
} lr_state;

static int init(const patron_host *host, patron_ctx *ctx, void **state)
{
	lr_state *s = malloc(sizeof *s);
	if (!s) {
		host->fail(ctx, "out of memory");
		return -1;
	}
	*s = (lr_state){host, 1, 100};
	if (host->option_number(ctx, "C", &s->C) < 0 || !(s->C > 0) || !isfinite(s->C)) {
		host->fail(ctx, "option C: expected a number above 0");
		free(s);
		return -1;
	}
	if (host->option_number(ctx, "max_iter", &s->max_iter) < 0 || !(s->max_iter >= 1) ||
	    s->max_iter != floor(s->max_iter)) {
		host->fail(ctx, "option max_iter: expected a whole number of at least 1");
		free(s);
		return -1;
	}
	*state = s;
	return 0;
}

static int train(void *state, patron_ctx *ctx)
{
	lr_state *s = state;
	const patron_host *h = s->host;
	const patron_design *d = sup_design(h, ctx);
	if (!d)
		return -1;
	size_t *rows, n = sup_train_rows(d, &rows);
	double *beta = calloc(d->cols + 1, sizeof *beta);
	int rc = -1;
	if (!rows || !beta) {
		h->fail(ctx, "out of memory");
		goto out;
	}
	double obj;
	char err[256];
	int it = irls_fit(d->x, d->cols, rows, n, d->y, s->C, 1e-10, (int)s->max_iter, beta, &obj,
			  err, sizeof err);
	if (it < 0) {
		h->fail(ctx, "logistic regression on %zu customers: %s", n, err);
		goto out;
	}
	h->log(ctx, PATRON_LOG_INFO, "%zu customers x %zu columns: converged in %d Newton steps "
	       "(objective %.10g)", n, d->cols, it, obj);
	json_t *params = json_pack("{s:f, s:o, s:f, s:i}", "intercept", beta[0], "coef",
				   sup_array(beta + 1, d->cols), "C", s->C, "iterations", it);
	rc = sup_save(h, ctx, d, params);
out:
	free(rows), free(beta);
	return rc;
}

typedef struct {
	const double *beta;
	size_t cols;
} lr_model;

/* The probability, and coefficient x value as each column's share. */
static double predict(const void *model, const double *x, double *contrib)
{
	const lr_model *m = model;
	for (size_t j = 0; j < m->cols; j++)
		contrib[j] = m->beta[1 + j] * x[j];
	return irls_predict(m->beta, x, m->cols);
}

static int run(void *state, patron_ctx *ctx)
{
	lr_state *s = state;
	const patron_host *h = s->host;
	const patron_design *d = sup_design(h, ctx);
	if (!d)
		return -1;
	json_t *m = sup_load(h, ctx, d);
	if (!m)
		return -1;
	double *beta = malloc((d->cols + 1) * sizeof *beta);
	int rc = -1;
	if (!beta) {
		h->fail(ctx, "out of memory");
		goto out;
	}
	beta[0] = json_number_value(json_object_get(m, "intercept"));
	if (sup_doubles(json_object_get(m, "coef"), beta + 1, d->cols) < 0) {
		h->fail(ctx, "the stored model's coefficients cannot be read: train it again");
		goto out;
	}
	lr_model model = {beta, d->cols};
	rc = sup_score(h, ctx, d, predict, &model);
out:
	json_decref(m);
	free(beta);
	return rc;
}

static void done(void *state) { free(state); }

/* What this plugin reads from its job's table in patron.conf. */
static const char *const options[] = {"C", "max_iter", NULL};

static const patron_plugin descriptor = {
	PATRON_PLUGIN_ABI,
	.name = "churn.logreg",
	.kind = PATRON_KIND_SCORER,
	.version = "1.0",
	.description = "churn by L2 logistic regression (Newton), with each customer's reasons",
	.init = init,
	.run = run,
	.free = done,
	.train = train,
	.options = options,
};

const patron_plugin *patron_plugin_entry(void) { return &descriptor; }
