#include "tfidf.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "text.h"

struct tfidf {
	char **names;		/* feature i */
	double *idf;
	size_t n, cap;
	uint32_t *slots;	/* open addressing: index + 1, 0 empty */
	size_t nslots;
};

static uint64_t hash(const char *s)
{
	uint64_t h = 1469598103934665603ull;	/* FNV-1a */
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

static void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (!q)
		abort();	/* as the core's allocation: nothing better to do */
	return q;
}

tfidf *tfidf_new(void)
{
	tfidf *t = calloc(1, sizeof *t);
	if (!t)
		abort();
	t->nslots = 1024;
	t->slots = calloc(t->nslots, sizeof *t->slots);
	if (!t->slots)
		abort();
	return t;
}

void tfidf_free(tfidf *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n; i++)
		free(t->names[i]);
	free(t->names);
	free(t->idf);
	free(t->slots);
	free(t);
}

/* The index of FEATURE, or -1. */
static long find(const tfidf *t, const char *f)
{
	for (size_t i = hash(f) & (t->nslots - 1);; i = (i + 1) & (t->nslots - 1)) {
		if (!t->slots[i])
			return -1;
		if (strcmp(t->names[t->slots[i] - 1], f) == 0)
			return (long)t->slots[i] - 1;
	}
}

static void grow(tfidf *t)
{
	size_t n = t->nslots * 2;
	uint32_t *s = calloc(n, sizeof *s);
	if (!s)
		abort();
	for (size_t k = 0; k < t->n; k++) {
		size_t i = hash(t->names[k]) & (n - 1);
		while (s[i])
			i = (i + 1) & (n - 1);
		s[i] = (uint32_t)k + 1;
	}
	free(t->slots);
	t->slots = s;
	t->nslots = n;
}

/* The index of FEATURE, added when new. */
static size_t intern(tfidf *t, const char *f)
{
	long i = find(t, f);
	if (i >= 0)
		return (size_t)i;
	if (2 * (t->n + 1) > t->nslots)
		grow(t);
	if (t->n == t->cap) {
		t->cap = t->cap ? 2 * t->cap : 256;
		t->names = xrealloc(t->names, t->cap * sizeof *t->names);
		t->idf = xrealloc(t->idf, t->cap * sizeof *t->idf);
	}
	size_t k = t->n++;
	t->names[k] = strdup(f);
	if (!t->names[k])
		abort();
	t->idf[k] = 1;
	size_t s = hash(f) & (t->nslots - 1);
	while (t->slots[s])
		s = (s + 1) & (t->nslots - 1);
	t->slots[s] = (uint32_t)k + 1;
	return k;
}

void tfidf_add(tfidf *t, const char *feature, double idf)
{
	size_t i = intern(t, feature);	/* it may move idf */
	t->idf[i] = idf;
}

size_t tfidf_size(const tfidf *t) { return t->n; }
const char *tfidf_feature(const tfidf *t, size_t i) { return t->names[i]; }
double tfidf_idf(const tfidf *t, size_t i) { return t->idf[i]; }

/* ---- features ---- */

typedef struct {
	void (*fn)(const char *f, void *ud);
	void *ud;
	char prev[64];	/* the word before, for pairs; "" after a mark */
} walk;

/* The length of the UTF-8 character that starts with byte C. */
static size_t char_len(unsigned char c)
{
	return c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
}

static int on_token(const text_token *tk, void *p)
{
	walk *w = p;
	char f[200];
	if (tk->kind == TOK_PUNCT) {
		w->prev[0] = 0;
		return 0;
	}
	snprintf(f, sizeof f, "w:%s", tk->text);
	w->fn(f, w->ud);
	if (w->prev[0]) {
		snprintf(f, sizeof f, "w:%s %s", w->prev, tk->text);
		w->fn(f, w->ud);
	}
	snprintf(w->prev, sizeof w->prev, "%s", tk->text);
	if (tk->kind != TOK_WORD)
		return 0;
	/* " word ": each run of three characters */
	char padded[72];
	snprintf(padded, sizeof padded, " %s ", tk->text);
	size_t starts[72], n = 0;
	for (size_t i = 0; padded[i]; i += char_len((unsigned char)padded[i]))
		starts[n++] = i;
	starts[n] = strlen(padded);
	for (size_t i = 0; i + 3 <= n; i++) {
		snprintf(f, sizeof f, "c:%.*s", (int)(starts[i + 3] - starts[i]), padded + starts[i]);
		w->fn(f, w->ud);
	}
	return 0;
}

void tfidf_features(const char *text, void (*fn)(const char *feature, void *ud), void *ud)
{
	walk w = {.fn = fn, .ud = ud};
	text_tokens(text ? text : "", on_token, &w);
}

/* ---- fitting and vectors ---- */

typedef struct {
	tfidf *t;
	uint32_t *seen;	/* the last text each feature was counted in, + 1 */
	size_t seen_cap;
	double *df;
	uint32_t text;
} fitting;

static void count(const char *f, void *p)
{
	fitting *c = p;
	size_t i = intern(c->t, f);
	if (i >= c->seen_cap) {
		size_t cap = c->seen_cap ? c->seen_cap : 256;
		while (cap <= i)
			cap *= 2;
		c->seen = xrealloc(c->seen, cap * sizeof *c->seen);
		c->df = xrealloc(c->df, cap * sizeof *c->df);
		memset(c->seen + c->seen_cap, 0, (cap - c->seen_cap) * sizeof *c->seen);
		memset(c->df + c->seen_cap, 0, (cap - c->seen_cap) * sizeof *c->df);
		c->seen_cap = cap;
	}
	if (c->seen[i] != c->text + 1) {
		c->seen[i] = c->text + 1;
		c->df[i]++;
	}
}

tfidf *tfidf_fit(size_t n, const char *const *texts)
{
	fitting c = {.t = tfidf_new()};
	for (size_t k = 0; k < n; k++) {
		c.text = (uint32_t)k;
		tfidf_features(texts[k], count, &c);
	}
	for (size_t i = 0; i < c.t->n; i++)
		c.t->idf[i] = log((1.0 + (double)n) / (1.0 + c.df[i])) + 1.0;
	free(c.seen);
	free(c.df);
	return c.t;
}

typedef struct {
	const tfidf *t;
	tfidf_row *r;
} vectoring;

static void add(const char *f, void *p)
{
	vectoring *v = p;
	long i = find(v->t, f);
	if (i < 0)
		return;
	tfidf_row *r = v->r;
	if (r->n == r->cap) {
		r->cap = r->cap ? 2 * r->cap : 64;
		r->idx = xrealloc(r->idx, r->cap * sizeof *r->idx);
		r->val = xrealloc(r->val, r->cap * sizeof *r->val);
	}
	r->idx[r->n] = (uint32_t)i;
	r->val[r->n++] = 1;
}

static int by_index(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

void tfidf_vector(const tfidf *t, const char *text, tfidf_row *out)
{
	out->n = 0;
	vectoring v = {t, out};
	tfidf_features(text, add, &v);
	if (!out->n)
		return;
	/* counts: sort the indexes and merge repeats */
	qsort(out->idx, out->n, sizeof *out->idx, by_index);
	size_t k = 0;
	for (size_t i = 0; i < out->n; i++) {
		if (k && out->idx[k - 1] == out->idx[i]) {
			out->val[k - 1]++;
		} else {
			out->idx[k] = out->idx[i];
			out->val[k++] = 1;
		}
	}
	out->n = k;
	double norm[2] = {0, 0};
	for (size_t i = 0; i < k; i++) {
		out->val[i] *= t->idf[out->idx[i]];
		norm[t->names[out->idx[i]][0] == 'c'] += out->val[i] * out->val[i];
	}
	for (size_t i = 0; i < k; i++) {
		double s = norm[t->names[out->idx[i]][0] == 'c'];
		out->val[i] /= sqrt(s);
	}
}

void tfidf_row_free(tfidf_row *r)
{
	free(r->idx);
	free(r->val);
	memset(r, 0, sizeof *r);
}
