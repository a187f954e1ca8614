#include "textclass.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

static void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size);
	if (!p)
		abort();
	return p;
}

static const char *or_empty(const char *s)
{
	return s ? s : "";
}

static int by_string(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static long label_index(const textclass *m, const char *label)
{
	char *const *hit = bsearch(&label, m->labels, m->k, sizeof *m->labels, by_string);
	return hit ? hit - m->labels : -1;
}

int textclass_prepare(const patron_host *h, patron_ctx *ctx, const patron_texts *t,
		      textclass *m, textclass_data *d)
{
	memset(m, 0, sizeof *m);
	memset(d, 0, sizeof *d);
	if (!t || !t->labels)
		return h->fail(ctx, "no labelled texts to learn from"), -1;
	/* the distinct labels, sorted */
	char **all = xcalloc(t->n, sizeof *all);
	size_t n = 0;
	for (size_t i = 0; i < t->n; i++)
		if (t->labels[i] && *t->labels[i])
			all[n++] = (char *)t->labels[i];
	qsort(all, n, sizeof *all, by_string);
	m->labels = xcalloc(n, sizeof *m->labels);
	for (size_t i = 0; i < n; i++)
		if (!m->k || strcmp(all[i], m->labels[m->k - 1]) != 0)
			m->labels[m->k++] = strdup(all[i]);
	free(all);
	if (m->k < 2) {
		size_t k = m->k;
		textclass_free(m);
		return h->fail(ctx, "the texts carry %zu label%s: at least two are needed to tell "
			       "apart", k, k == 1 ? "" : "s"), -1;
	}
	const char **texts = xcalloc(t->n, sizeof *texts);
	for (size_t i = 0; i < t->n; i++)
		if (t->labels[i] && *t->labels[i])
			texts[d->n++] = t->texts[i] ? t->texts[i] : "";
	m->vocab = tfidf_fit(d->n, texts);
	d->v = tfidf_size(m->vocab);
	d->y = xcalloc(d->n, sizeof *d->y);
	d->start = xcalloc(d->n + 1, sizeof *d->start);
	size_t cap = 0, k = 0;
	tfidf_row r = {0};
	for (size_t i = 0; i < t->n; i++) {
		if (!t->labels[i] || !*t->labels[i])
			continue;
		d->y[k] = (int)label_index(m, t->labels[i]);
		tfidf_vector(m->vocab, texts[k], &r);
		size_t at = d->start[k];
		if (at + r.n > cap) {
			cap = (at + r.n) * 2;
			d->idx = realloc(d->idx, cap * sizeof *d->idx);
			d->val = realloc(d->val, cap * sizeof *d->val);
			if (!d->idx || !d->val)
				abort();
		}
		if (r.n) {
			memcpy(d->idx + at, r.idx, r.n * sizeof *r.idx);
			memcpy(d->val + at, r.val, r.n * sizeof *r.val);
		}
		d->start[++k] = at + r.n;
	}
	tfidf_row_free(&r);
	free(texts);
	m->w = xcalloc(m->k * d->v, sizeof *m->w);
	m->b = xcalloc(m->k, sizeof *m->b);
	return 0;
}

void textclass_data_free(textclass_data *d)
{
	free(d->start);
	free(d->idx);
	free(d->val);
	free(d->y);
	memset(d, 0, sizeof *d);
}

void textclass_free(textclass *m)
{
	for (size_t i = 0; i < m->k; i++)
		free(m->labels[i]);
	free(m->labels);
	tfidf_free(m->vocab);
	free(m->w);
	free(m->b);
	memset(m, 0, sizeof *m);
}

int textclass_save(const patron_host *h, patron_ctx *ctx, const textclass *m)
{
	size_t v = tfidf_size(m->vocab);
	json_t *labels = json_array(), *features = json_array(), *idf = json_array(),
	       *w = json_array(), *b = json_array();
	for (size_t c = 0; c < m->k; c++) {
		json_array_append_new(labels, json_string(m->labels[c]));
		json_array_append_new(b, json_real(m->b[c]));
		json_t *row = json_array();
		for (size_t f = 0; f < v; f++)
			json_array_append_new(row, json_real(m->w[c * v + f]));
		json_array_append_new(w, row);
	}
	for (size_t f = 0; f < v; f++) {
		json_array_append_new(features, json_string(tfidf_feature(m->vocab, f)));
		json_array_append_new(idf, json_real(tfidf_idf(m->vocab, f)));
	}
	json_t *j = json_pack("{s:s, s:o, s:o, s:o, s:o, s:o}", "link",
			      m->link == LINK_SOFTMAX ? "softmax" : "ovr", "labels", labels,
			      "features", features, "idf", idf, "weights", w, "bias", b);
	char *text = json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(10));
	json_decref(j);
	int rc = text ? h->save_model(ctx, text) : (h->fail(ctx, "out of memory"), -1);
	free(text);
	return rc;
}

int textclass_load(const patron_host *h, patron_ctx *ctx, textclass *m)
{
	memset(m, 0, sizeof *m);
	const char *text = h->load_model(ctx);
	if (!text) {
		h->not_ready(ctx, "no model yet: patron train intents FILE.csv (columns text, "
			     "intent) learns one");
		return 1;
	}
	json_t *j = json_loads(text, 0, NULL);
	json_t *labels = json_object_get(j, "labels"), *features = json_object_get(j, "features"),
	       *idf = json_object_get(j, "idf"), *w = json_object_get(j, "weights"),
	       *b = json_object_get(j, "bias");
	size_t k = json_array_size(labels), v = json_array_size(features);
	const char *link = json_string_value(json_object_get(j, "link"));
	if (!j || k < 2 || json_array_size(idf) != v || json_array_size(w) != k ||
	    json_array_size(b) != k || !link) {
		json_decref(j);
		return h->fail(ctx, "the stored model is not one this plugin wrote"), -1;
	}
	m->k = k;
	m->link = strcmp(link, "softmax") == 0 ? LINK_SOFTMAX : LINK_OVR;
	m->labels = xcalloc(k, sizeof *m->labels);
	m->vocab = tfidf_new();
	m->w = xcalloc(k * v, sizeof *m->w);
	m->b = xcalloc(k, sizeof *m->b);
	for (size_t c = 0; c < k; c++) {
		m->labels[c] = strdup(or_empty(json_string_value(json_array_get(labels, c))));
		m->b[c] = json_number_value(json_array_get(b, c));
		json_t *row = json_array_get(w, c);
		for (size_t f = 0; f < v && f < json_array_size(row); f++)
			m->w[c * v + f] = json_number_value(json_array_get(row, f));
	}
	for (size_t f = 0; f < v; f++)
		tfidf_add(m->vocab, or_empty(json_string_value(json_array_get(features, f))),
			  json_number_value(json_array_get(idf, f)));
	json_decref(j);
	return 0;
}

const char *textclass_label(const textclass *m, const char *text, tfidf_row *r,
			    double *probability)
{
	size_t v = tfidf_size(m->vocab);
	double s[64], *score = m->k <= 64 ? s : xcalloc(m->k, sizeof *score);
	tfidf_vector(m->vocab, text ? text : "", r);
	size_t best = 0;
	for (size_t c = 0; c < m->k; c++) {
		double z = m->b[c];
		for (size_t i = 0; i < r->n; i++)
			z += m->w[c * v + r->idx[i]] * r->val[i];
		score[c] = z;
		if (z > score[best])
			best = c;
	}
	double sum = 0, top = 0;
	for (size_t c = 0; c < m->k; c++) {
		double p = m->link == LINK_SOFTMAX ? exp(score[c] - score[best])
			   : 1 / (1 + exp(-score[c]));
		sum += p;
		if (c == best)
			top = p;
	}
	*probability = sum > 0 ? top / sum : 0;
	if (score != s)
		free(score);
	return m->labels[best];
}

int textclass_classify(textclass_held *held, const patron_host *h, patron_ctx *ctx, size_t n,
		       const char *const *texts, const char **labels, double *confidence)
{
	if (!held->loaded) {
		if (textclass_load(h, ctx, &held->model) != 0)
			return -1;
		held->loaded = 1;
	}
	for (size_t i = 0; i < n; i++)
		labels[i] = textclass_label(&held->model, texts[i], &held->row, &confidence[i]);
	return 0;
}

void textclass_held_free(textclass_held *held)
{
	if (held->loaded)
		textclass_free(&held->model);
	tfidf_row_free(&held->row);
	memset(held, 0, sizeof *held);
}
