/* sentiment.textnb: sentiment learnt from the shop's own rated feedback by
 * multinomial naive Bayes (mnb.h): texts rated 4 or 5 are positive, 1 or 2
 * negative, 3 left out. `patron train sentiment --plugin textnb` fits and
 * stores the model; a text's sentiment is P(positive) - P(negative).
 * Option: alpha = 1 (the smoothing). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include <jansson.h>
#include <patron/plugin.h>

#include "mnb.h"

#define MIN_TEXTS 5	/* of each class, to train */

typedef struct {
	const patron_host *h;
	double alpha;
	mnb *model;	/* the stored one, NULL when none */
} state;

static mnb *load(const patron_host *h, patron_ctx *ctx)
{
	const char *text = h->load_model(ctx);
	if (!text)
		return NULL;
	json_error_t je;
	json_t *j = json_loads(text, 0, &je);
	json_t *vocab = json_object_get(j, "features"), *docs = json_object_get(j, "docs");
	mnb *m = j && json_is_object(vocab) && json_array_size(docs) == 2
		 ? mnb_new(json_number_value(json_object_get(j, "alpha"))) : NULL;
	if (!m) {
		json_decref(j);
		h->fail(ctx, "the stored model is not one this plugin wrote");
		return NULL;
	}
	mnb_set_docs(m, json_number_value(json_array_get(docs, 0)),
		     json_number_value(json_array_get(docs, 1)));
	const char *key;
	json_t *v;
	json_object_foreach(vocab, key, v)
		mnb_set(m, key, json_number_value(json_array_get(v, 0)),
			json_number_value(json_array_get(v, 1)));
	json_decref(j);
	return m;
}

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

static int analyze(void *p, patron_ctx *ctx, size_t n, const char *const *texts, double *out)
{
	state *s = p;
	if (!s->model && !(s->model = load(s->h, ctx))) {
		s->h->fail(ctx, "no model yet: patron train sentiment --plugin textnb learns one "
			   "from the rated feedback");
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		out[i] = 2 * mnb_positive(s->model, texts[i] ? texts[i] : "") - 1;
	return 0;
}

static int train(void *p, patron_ctx *ctx)
{
	state *s = p;
	const patron_host *h = s->h;
	const patron_texts *t = PATRON_HOST_HAS(h, texts) ? h->texts(ctx) : NULL;
	if (!t)
		return h->fail(ctx, "the core gave no texts to learn from"), -1;
	size_t count[2] = {0, 0};
	for (size_t i = 0; i < t->n; i++)
		if (!isnan(t->ratings[i]) && t->ratings[i] != 3)
			count[t->ratings[i] > 3]++;
	if (count[0] < MIN_TEXTS || count[1] < MIN_TEXTS) {
		h->not_ready(ctx, "needs at least %d texts rated 1-2 and %d rated 4-5 to learn "
			     "from; the feedback has %zu and %zu", MIN_TEXTS, MIN_TEXTS, count[0],
			     count[1]);
		return -1;
	}
	mnb *m = mnb_new(s->alpha);
	if (!m)
		return h->fail(ctx, "out of memory"), -1;
	for (size_t i = 0; i < t->n; i++)
		if (!isnan(t->ratings[i]) && t->ratings[i] != 3)
			mnb_add(m, t->texts[i] ? t->texts[i] : "", t->ratings[i] > 3);
	json_t *features = json_object();
	size_t it = 0;
	const char *f;
	double neg, pos;
	while (mnb_next(m, &it, &f, &neg, &pos))
		json_object_set_new(features, f, json_pack("[f, f]", neg, pos));
	mnb_docs(m, &neg, &pos);
	json_t *j = json_pack("{s:f, s:[f, f], s:o}", "alpha", s->alpha, "docs", neg, pos,
			      "features", features);
	char *text = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	mnb_free(m);
	int rc = text ? h->save_model(ctx, text) : -1;
	free(text);
	h->log(ctx, PATRON_LOG_INFO, "learnt from %zu negative and %zu positive texts", count[0],
	       count[1]);
	return rc;
}

static void destroy(void *p)
{
	state *s = p;
	if (s)
		mnb_free(s->model);
	free(s);
}

static const char *const options[] = {"alpha", NULL};

static const patron_plugin plugin = {
	PATRON_PLUGIN_ABI,
	.name = "sentiment.textnb",
	.kind = PATRON_KIND_ANALYZER,
	.version = "1.0",
	.description = "sentiment learnt from the shop's rated feedback (multinomial naive Bayes)",
	.init = init,
	.free = destroy,
	.train = train,
	.options = options,
	.analyze = analyze,
};

const patron_plugin *patron_plugin_entry(void) { return &plugin; }
