/* churn.mlp: a neural network with one hidden layer of rectified linear
 * units and a logistic output, trained on log loss with Adam (Kingma and
 * Ba, 2015) in mini-batches, with early stopping: a share of the training
 * customers is kept aside, and the weights of the epoch with the lowest
 * loss on them are kept once `patience` epochs bring no improvement.
 * Weights start from Glorot's uniform draw, from `seed`. A customer's
 * reasons are the columns of largest input x gradient of the output's
 * logit (the terms of its first-order expansion).
 *
 * patron.conf:  churn = { plugin = "mlp", hidden = 64 }
 * Options: hidden (32), learning_rate (0.001), alpha (0.0001, L2), batch
 * (200), max_epochs (200), patience (10), validation (0.1), seed (1).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <patron/plugin.h>

#include "../common/random.h"
#include "supervised.h"

#define MAX_HIDDEN 4096	/* the largest `hidden` option */

typedef struct {
	const patron_host *host;
	double hidden, lr, alpha, batch, epochs, patience, validation, seed;
} mlp_state;

typedef struct {
	size_t in, hid;
	double *w1, *b1, *w2, b2;	/* w1: in x hid, row-major */
} net;

static int init(const patron_host *host, patron_ctx *ctx, void **state)
{
	mlp_state *s = malloc(sizeof *s);
	if (!s) {
		host->fail(ctx, "out of memory");
		return -1;
	}
	*s = (mlp_state){host, 32, 1e-3, 1e-4, 200, 200, 10, 0.1, 1};
	struct {
		const char *key;
		double *v, lo, hi;
		int whole;
	} opts[] = {
		{"hidden", &s->hidden, 1, MAX_HIDDEN, 1}, {"learning_rate", &s->lr, 1e-9, 10, 0},
		{"alpha", &s->alpha, 0, 1e6, 0}, {"batch", &s->batch, 1, 1e7, 1},
		{"max_epochs", &s->epochs, 1, 1e5, 1}, {"patience", &s->patience, 1, 1e4, 1},
		{"validation", &s->validation, 0.01, 0.5, 0}, {"seed", &s->seed, 0, 1e15, 1},
	};
	for (size_t i = 0; i < sizeof opts / sizeof *opts; i++) {
		double *v = opts[i].v;
		if (host->option_number(ctx, opts[i].key, v) < 0 || !(*v >= opts[i].lo) ||
		    !(*v <= opts[i].hi) || (opts[i].whole && *v != floor(*v))) {
			host->fail(ctx, "option %s: expected a%s number from %g to %g", opts[i].key,
				   opts[i].whole ? " whole" : "", opts[i].lo, opts[i].hi);
			free(s);
			return -1;
		}
	}
	*state = s;
	return 0;
}

static void net_free(net *n) { free(n->w1), free(n->b1), free(n->w2); }

static int net_alloc(net *n, size_t in, size_t hid)
{
	n->in = in;
	n->hid = hid;
	n->w1 = calloc(in * hid > 0 ? in * hid : 1, sizeof *n->w1);
	n->b1 = calloc(hid, sizeof *n->b1);
	n->w2 = calloc(hid, sizeof *n->w2);
	n->b2 = 0;
	return n->w1 && n->b1 && n->w2 ? 0 : -1;
}

static void net_copy(net *to, const net *from)
{
	memcpy(to->w1, from->w1, from->in * from->hid * sizeof *to->w1);
	memcpy(to->b1, from->b1, from->hid * sizeof *to->b1);
	memcpy(to->w2, from->w2, from->hid * sizeof *to->w2);
	to->b2 = from->b2;
}

/* The output's logit for X; the hidden activations into A (hid). */
static double forward(const net *n, const double *x, double *a)
{
	for (size_t h = 0; h < n->hid; h++)
		a[h] = n->b1[h];
	for (size_t j = 0; j < n->in; j++) {
		double xj = x[j];
		if (xj == 0)
			continue;
		const double *w = n->w1 + j * n->hid;
		for (size_t h = 0; h < n->hid; h++)
			a[h] += xj * w[h];
	}
	double z = n->b2;
	for (size_t h = 0; h < n->hid; h++) {
		a[h] = a[h] > 0 ? a[h] : 0;
		z += a[h] * n->w2[h];
	}
	return z;
}

static double sigmoid(double z)
{
	return z >= 0 ? 1 / (1 + exp(-z)) : exp(z) / (1 + exp(z));
}

static double loss_of(const net *n, const patron_design *d, const size_t *rows, size_t m,
		      double *a)
{
	double l = 0;
	for (size_t i = 0; i < m; i++) {
		double p = sigmoid(forward(n, d->x + rows[i] * d->cols, a));
		p = fmin(fmax(p, 1e-15), 1 - 1e-15);
		l -= d->y[rows[i]] > 0.5 ? log(p) : log(1 - p);
	}
	return m ? l / (double)m : 0;
}

/* Adam's state for one array of parameters. */
typedef struct {
	double *m, *v;
} moments;

static void adam(double *w, const double *g, moments *mo, size_t n, double lr, long t)
{
	const double b1 = 0.9, b2 = 0.999, eps = 1e-8;
	double c1 = 1 - pow(b1, (double)t), c2 = 1 - pow(b2, (double)t);
	for (size_t i = 0; i < n; i++) {
		mo->m[i] = b1 * mo->m[i] + (1 - b1) * g[i];
		mo->v[i] = b2 * mo->v[i] + (1 - b2) * g[i] * g[i];
		w[i] -= lr * (mo->m[i] / c1) / (sqrt(mo->v[i] / c2) + eps);
	}
}

static int train(void *state, patron_ctx *ctx)
{
	mlp_state *s = state;
	const patron_host *h = s->host;
	const patron_design *d = sup_design(h, ctx);
	if (!d)
		return -1;
	size_t *rows, n = sup_train_rows(d, &rows), in = d->cols, hid = (size_t)s->hidden;
	uint64_t seed = (uint64_t)s->seed;
	/* The validation customers: a seeded shuffle's first share. */
	for (size_t i = n; rows && i > 1; i--) {
		size_t j = (size_t)(plugin_random(&seed) % i), t = rows[i - 1];
		rows[i - 1] = rows[j];
		rows[j] = t;
	}
	size_t nval = (size_t)ceil(s->validation * (double)n), ntr = n - nval;
	size_t *val = rows, *tr = rows + nval;
	size_t np = in * hid + 2 * hid + 1;
	net w = {0}, best = {0};
	double *g = calloc(np, sizeof *g), *a = malloc(hid * sizeof *a), *da = malloc(hid * sizeof *da);
	moments mo = {calloc(np, sizeof(double)), calloc(np, sizeof(double))};
	int rc = -1;
	if (!rows || !g || !a || !da || !mo.m || !mo.v || net_alloc(&w, in, hid) < 0 ||
	    net_alloc(&best, in, hid) < 0) {
		h->fail(ctx, "out of memory");
		goto out;
	}
	if (ntr < 2 || nval < 1) {
		h->fail(ctx, "%zu labelled customers: too few to train and validate a network", n);
		goto out;
	}
	double lim1 = sqrt(6.0 / (double)(in + hid)), lim2 = sqrt(6.0 / (double)(hid + 1));
	for (size_t i = 0; i < in * hid; i++)
		w.w1[i] = (2 * plugin_uniform(&seed) - 1) * lim1;
	for (size_t k = 0; k < hid; k++) {
		w.b1[k] = (2 * plugin_uniform(&seed) - 1) * lim1;
		w.w2[k] = (2 * plugin_uniform(&seed) - 1) * lim2;
	}
	w.b2 = (2 * plugin_uniform(&seed) - 1) * lim2;
	double best_loss = INFINITY;
	size_t since = 0, epoch = 0, best_epoch = 0, batch = (size_t)s->batch;
	long t = 0;
	if (batch > ntr)
		batch = ntr;
	for (epoch = 1; epoch <= (size_t)s->epochs; epoch++) {
		for (size_t i = ntr; i > 1; i--) {
			size_t j = (size_t)(plugin_random(&seed) % i), tmp = tr[i - 1];
			tr[i - 1] = tr[j];
			tr[j] = tmp;
		}
		for (size_t b0 = 0; b0 < ntr; b0 += batch) {
			size_t nb = ntr - b0 < batch ? ntr - b0 : batch;
			double *gw1 = g, *gb1 = g + in * hid, *gw2 = gb1 + hid, *gb2 = gw2 + hid;
			memset(g, 0, np * sizeof *g);
			for (size_t i = 0; i < nb; i++) {
				const double *x = d->x + tr[b0 + i] * d->cols;
				double dz = sigmoid(forward(&w, x, a)) - d->y[tr[b0 + i]];
				*gb2 += dz;
				for (size_t k = 0; k < hid; k++) {
					gw2[k] += dz * a[k];
					da[k] = a[k] > 0 ? dz * w.w2[k] : 0;
					gb1[k] += da[k];
				}
				for (size_t j = 0; j < in; j++) {
					if (x[j] == 0)
						continue;
					double *gw = gw1 + j * hid;
					for (size_t k = 0; k < hid; k++)
						gw[k] += x[j] * da[k];
				}
			}
			for (size_t i = 0; i < np; i++)
				g[i] /= (double)nb;
			for (size_t i = 0; i < in * hid; i++)
				gw1[i] += s->alpha * w.w1[i] / (double)nb;
			for (size_t k = 0; k < hid; k++)
				gw2[k] += s->alpha * w.w2[k] / (double)nb;
			t++;
			moments m1 = {mo.m, mo.v}, m2 = {mo.m + in * hid, mo.v + in * hid};
			moments m3 = {m2.m + hid, m2.v + hid}, m4 = {m3.m + hid, m3.v + hid};
			adam(w.w1, gw1, &m1, in * hid, s->lr, t);
			adam(w.b1, gb1, &m2, hid, s->lr, t);
			adam(w.w2, gw2, &m3, hid, s->lr, t);
			adam(&w.b2, gb2, &m4, 1, s->lr, t);
		}
		double vl = loss_of(&w, d, val, nval, a);
		if (vl < best_loss - 1e-4) {
			best_loss = vl;
			best_epoch = epoch;
			since = 0;
			net_copy(&best, &w);
		} else if (++since >= (size_t)s->patience) {
			break;
		}
	}
	h->log(ctx, PATRON_LOG_INFO, "%zu customers (%zu to validate), %zu hidden units: best "
	       "validation loss %.5f at epoch %zu of %zu", n, nval, hid, best_loss, best_epoch,
	       epoch > (size_t)s->epochs ? (size_t)s->epochs : epoch);
	rc = sup_save(h, ctx, d, json_pack("{s:i, s:o, s:o, s:o, s:f}", "hidden", (int)hid, "w1",
					   sup_array(best.w1, in * hid), "b1",
					   sup_array(best.b1, hid), "w2", sup_array(best.w2, hid),
					   "b2", best.b2));
out:
	net_free(&w), net_free(&best);
	free(rows), free(g), free(a), free(da), free(mo.m), free(mo.v);
	return rc;
}

/* The probability, and input x gradient of the logit as each column's
 * share: d logit / d x_j = sum over the active units of w2 w1[j]. */
static double predict(const void *model, const double *x, double *contrib)
{
	const net *w = model;
	double a[MAX_HIDDEN];
	double p = sigmoid(forward(w, x, a));
	for (size_t c = 0; c < w->in; c++) {
		double gsum = 0;
		for (size_t k = 0; k < w->hid; k++)
			if (a[k] > 0)
				gsum += w->w2[k] * w->w1[c * w->hid + k];
		contrib[c] = gsum * x[c];
	}
	return p;
}

static int run(void *state, patron_ctx *ctx)
{
	mlp_state *s = state;
	const patron_host *h = s->host;
	const patron_design *d = sup_design(h, ctx);
	if (!d)
		return -1;
	json_t *j = sup_load(h, ctx, d);
	if (!j)
		return -1;
	size_t hid = (size_t)json_integer_value(json_object_get(j, "hidden"));
	net w = {0};
	int rc = -1;
	if (!hid || hid > MAX_HIDDEN || net_alloc(&w, d->cols, hid) < 0 ||
	    sup_doubles(json_object_get(j, "w1"), w.w1, d->cols * hid) < 0 ||
	    sup_doubles(json_object_get(j, "b1"), w.b1, hid) < 0 ||
	    sup_doubles(json_object_get(j, "w2"), w.w2, hid) < 0) {
		h->fail(ctx, "the stored network cannot be read: train it again");
	} else {
		w.b2 = json_number_value(json_object_get(j, "b2"));
		rc = sup_score(h, ctx, d, predict, &w);
	}
	net_free(&w);
	json_decref(j);
	return rc;
}

static void done(void *state) { free(state); }

/* What this plugin reads from its job's table in patron.conf. */
static const char *const options[] = {"hidden", "learning_rate", "alpha", "batch", "max_epochs", "patience", "validation", "seed", NULL};

static const patron_plugin descriptor = {
	PATRON_PLUGIN_ABI,
	.name = "churn.mlp",
	.kind = PATRON_KIND_SCORER,
	.version = "1.0",
	.description = "churn by a one-hidden-layer network (ReLU, Adam, early stopping)",
	.init = init,
	.run = run,
	.free = done,
	.train = train,
	.options = options,
};

const patron_plugin *patron_plugin_entry(void) { return &descriptor; }
