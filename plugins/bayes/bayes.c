/* intent.bayes: what a customer's message is about (order status, a
 * return, billing, ...) by multinomial naive Bayes over the TF-IDF weights
 * of its words, word pairs and character 3-grams (textclass.h), as in
 * Manning, Raghavan and Schuetze, "Introduction to Information Retrieval",
 * 13.2: log P(label) + sum of weight x log P(feature | label), with
 * P(feature | label) = (its weight in the label's texts + alpha) / (all
 * weights in them + alpha x features). `patron train intents FILE.csv`
 * fits and stores it. Option: alpha = 1. */
#include <math.h>
#include <stdlib.h>

#include <patron/plugin.h>

#include "textclass.h"

typedef struct {
	const patron_host *h;
	double alpha;
	textclass_held held;
} state;

static int init(const patron_host *h, patron_ctx *ctx, void **out)
{
	state *s = calloc(1, sizeof *s);
	if (!s)
		return h->fail(ctx, "out of memory"), -1;
	s->h = h;
	s->alpha = 1;
	if (h->option_number(ctx, "alpha", &s->alpha) < 0 || !(s->alpha > 0)) {
		h->fail(ctx, "alpha: expected a number above 0");
		free(s);
		return -1;
	}
	*out = s;
	return 0;
}

static int train(void *p, patron_ctx *ctx)
{
	state *s = p;
	const patron_host *h = s->h;
	textclass m;
	textclass_data d;
	if (textclass_prepare(h, ctx, PATRON_HOST_HAS(h, texts) ? h->texts(ctx) : NULL, &m, &d) < 0)
		return -1;
	size_t k = m.k, v = d.v;
	double *count = calloc(k * v, sizeof *count), *total = calloc(k, sizeof *total);
	size_t *docs = calloc(k, sizeof *docs);
	if (!count || !total || !docs)
		abort();
	for (size_t i = 0; i < d.n; i++) {
		int c = d.y[i];
		docs[c]++;
		for (size_t e = d.start[i]; e < d.start[i + 1]; e++) {
			count[c * v + d.idx[e]] += d.val[e];
			total[c] += d.val[e];
		}
	}
	m.link = LINK_SOFTMAX;
	for (size_t c = 0; c < k; c++) {
		m.b[c] = log((double)docs[c] / (double)d.n);
		double denom = log(total[c] + s->alpha * (double)v);
		for (size_t f = 0; f < v; f++)
			m.w[c * v + f] = log(count[c * v + f] + s->alpha) - denom;
	}
	int rc = textclass_save(h, ctx, &m);
	h->log(ctx, PATRON_LOG_INFO, "learnt %zu labels from %zu texts (%zu features)", k, d.n, v);
	free(count);
	free(total);
	free(docs);
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

static const char *const options[] = {"alpha", NULL};

static const patron_plugin plugin = {
	PATRON_PLUGIN_ABI,
	.name = "intent.bayes",
	.kind = PATRON_KIND_ANALYZER,
	.version = "1.0",
	.description = "what a message is about, by naive Bayes over TF-IDF of words and "
		       "character 3-grams",
	.init = init,
	.free = destroy,
	.train = train,
	.options = options,
	.classify = classify,
};

const patron_plugin *patron_plugin_entry(void) { return &plugin; }
