/* intent.linear: what a customer's message is about, by logistic
 * regression one label against the rest over the TF-IDF weights of its
 * words, word pairs and character 3-grams (textclass.h). For each label,
 * the weights w and intercept b minimize
 *     1/2 |w|^2 + C sum_i log(1 + exp(-y_i (w . x_i + b)))
 * (y_i = +1 for the label's texts, -1 for the others; the intercept is not
 * penalized), a smooth convex function minimized by BFGS (GSL's vector_bfgs2)
 * until its gradient is below 1e-6 in size. A text's label is the one whose
 * sigmoid is highest, its probability that sigmoid over their sum.
 * `patron train intents FILE.csv --plugin linear` fits and stores it.
 * Options: c = 1 (less regularization when larger), iterations = 500. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_errno.h>
#include <gsl/gsl_multimin.h>
#include <patron/plugin.h>

#include "textclass.h"

typedef struct {
	const patron_host *h;
	double c;
	double iterations;
	textclass_held held;
} state;

static int init(const patron_host *h, patron_ctx *ctx, void **out)
{
	state *s = calloc(1, sizeof *s);
	if (!s)
		return h->fail(ctx, "out of memory"), -1;
	s->h = h;
	s->c = 1;
	s->iterations = 500;
	if (h->option_number(ctx, "c", &s->c) < 0 || !(s->c > 0)) {
		h->fail(ctx, "c: expected a number above 0");
		free(s);
		return -1;
	}
	if (h->option_number(ctx, "iterations", &s->iterations) < 0 || !(s->iterations >= 1)) {
		h->fail(ctx, "iterations: expected a number of at least 1");
		free(s);
		return -1;
	}
	*out = s;
	return 0;
}

/* One label's problem: the data, which label is +1, C, and z = Xw + b. */
typedef struct {
	const textclass_data *d;
	int label;
	double c;
	double *z;
} problem;

static void margins(const problem *p, const gsl_vector *x)
{
	const textclass_data *d = p->d;
	double b = gsl_vector_get(x, d->v);
	for (size_t i = 0; i < d->n; i++) {
		double z = b;
		for (size_t e = d->start[i]; e < d->start[i + 1]; e++)
			z += gsl_vector_get(x, d->idx[e]) * d->val[e];
		p->z[i] = z;
	}
}

/* log(1 + exp(t)) without overflow */
static double softplus(double t)
{
	return t > 0 ? t + log1p(exp(-t)) : log1p(exp(t));
}

static double f(const gsl_vector *x, void *param)
{
	problem *p = param;
	margins(p, x);
	double sum = 0;
	for (size_t i = 0; i < p->d->v; i++)
		sum += 0.5 * gsl_vector_get(x, i) * gsl_vector_get(x, i);
	for (size_t i = 0; i < p->d->n; i++) {
		double y = p->d->y[i] == p->label ? 1 : -1;
		sum += p->c * softplus(-y * p->z[i]);
	}
	return sum;
}

static void df(const gsl_vector *x, void *param, gsl_vector *g)
{
	problem *p = param;
	const textclass_data *d = p->d;
	margins(p, x);
	for (size_t i = 0; i < d->v; i++)
		gsl_vector_set(g, i, gsl_vector_get(x, i));
	double gb = 0;
	for (size_t i = 0; i < d->n; i++) {
		double y = d->y[i] == p->label ? 1 : -1;
		double r = -y * p->c / (1 + exp(y * p->z[i]));	/* d/dz of C softplus(-y z) */
		gb += r;
		for (size_t e = d->start[i]; e < d->start[i + 1]; e++)
			gsl_vector_set(g, d->idx[e], gsl_vector_get(g, d->idx[e]) + r * d->val[e]);
	}
	gsl_vector_set(g, d->v, gb);
}

static void fdf(const gsl_vector *x, void *param, double *fx, gsl_vector *g)
{
	*fx = f(x, param);
	df(x, param, g);
}

/* Fits label L's weights into W (V) and *B; the iterations it took. */
static size_t fit(const textclass_data *d, int l, double c, size_t max_iter, double *w,
		  double *b)
{
	problem p = {d, l, c, calloc(d->n, sizeof(double))};
	if (!p.z)
		abort();
	gsl_multimin_function_fdf fn = {.n = d->v + 1, .f = f, .df = df, .fdf = fdf, .params = &p};
	gsl_vector *x = gsl_vector_calloc(d->v + 1);
	gsl_multimin_fdfminimizer *m =
		gsl_multimin_fdfminimizer_alloc(gsl_multimin_fdfminimizer_vector_bfgs2, d->v + 1);
	gsl_multimin_fdfminimizer_set(m, &fn, x, 0.1, 0.1);
	size_t it = 0;
	int status = GSL_CONTINUE;
	while (status == GSL_CONTINUE && it < max_iter) {
		it++;
		if (gsl_multimin_fdfminimizer_iterate(m) != GSL_SUCCESS)
			break;	/* no step lowers it further: at the minimum to precision */
		status = gsl_multimin_test_gradient(m->gradient, 1e-6);
	}
	for (size_t i = 0; i < d->v; i++)
		w[i] = gsl_vector_get(m->x, i);
	*b = gsl_vector_get(m->x, d->v);
	gsl_multimin_fdfminimizer_free(m);
	gsl_vector_free(x);
	free(p.z);
	return it;
}

static int train(void *p, patron_ctx *ctx)
{
	state *s = p;
	const patron_host *h = s->h;
	textclass m;
	textclass_data d;
	if (textclass_prepare(h, ctx, PATRON_HOST_HAS(h, texts) ? h->texts(ctx) : NULL, &m, &d) < 0)
		return -1;
	gsl_error_handler_t *old = gsl_set_error_handler_off();
	m.link = LINK_OVR;
	size_t most = 0;
	for (size_t c = 0; c < m.k; c++) {
		size_t it = fit(&d, (int)c, s->c, (size_t)s->iterations, m.w + c * d.v, &m.b[c]);
		most = it > most ? it : most;
	}
	gsl_set_error_handler(old);
	int rc = textclass_save(h, ctx, &m);
	h->log(ctx, PATRON_LOG_INFO, "learnt %zu labels from %zu texts (%zu features; at most %zu "
	       "iterations)", m.k, d.n, d.v, most);
	textclass_data_free(&d);
	textclass_free(&m);
	return rc;
}

static int classify(void *p, patron_ctx *ctx, size_t n, const char *const *texts,
		    const char **labels, double *confidence)
{
	state *s = p;
	return textclass_classify(&s->held, s->h, ctx, n, texts, labels, confidence);
}

static void destroy(void *p)
{
	state *s = p;
	if (s)
		textclass_held_free(&s->held);
	free(s);
}

static const char *const options[] = {"c", "iterations", NULL};

static const patron_plugin plugin = {
	PATRON_PLUGIN_ABI,
	.name = "intent.linear",
	.kind = PATRON_KIND_ANALYZER,
	.version = "1.0",
	.description = "what a message is about, by one-vs-rest logistic regression over TF-IDF "
		       "of words and character 3-grams",
	.init = init,
	.free = destroy,
	.train = train,
	.options = options,
	.classify = classify,
};

const patron_plugin *patron_plugin_entry(void) { return &plugin; }
