#include "mnb.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "text.h"

typedef struct {
	char *key;
	double count[2];
} entry;

struct mnb {
	double alpha;
	entry *slots;		/* open addressing, linear probing */
	size_t cap, n;
	double total[2], docs[2];
};

static uint64_t hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;	/* FNV-1a */
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

mnb *mnb_new(double alpha)
{
	mnb *m = calloc(1, sizeof *m);
	if (!m)
		return NULL;
	m->alpha = alpha;
	m->cap = 1024;
	m->slots = calloc(m->cap, sizeof *m->slots);
	if (!m->slots) {
		free(m);
		return NULL;
	}
	return m;
}

void mnb_free(mnb *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->cap; i++)
		free(m->slots[i].key);
	free(m->slots);
	free(m);
}

static entry *find(const mnb *m, const char *key)
{
	size_t i = hash(key) & (m->cap - 1);
	while (m->slots[i].key) {
		if (strcmp(m->slots[i].key, key) == 0)
			return &m->slots[i];
		i = (i + 1) & (m->cap - 1);
	}
	return &m->slots[i];	/* the empty slot it would go in */
}

static entry *slot(mnb *m, const char *key)
{
	if ((m->n + 1) * 2 > m->cap) {	/* keep it at most half full */
		entry *old = m->slots;
		size_t cap = m->cap;
		entry *grown = calloc(cap * 2, sizeof *grown);
		if (!grown)
			return NULL;
		m->slots = grown;
		m->cap = cap * 2;
		for (size_t i = 0; i < cap; i++)
			if (old[i].key)
				*find(m, old[i].key) = old[i];
		free(old);
	}
	entry *e = find(m, key);
	if (!e->key) {
		e->key = strdup(key);
		if (!e->key)
			return NULL;
		m->n++;
	}
	return e;
}

typedef struct {
	void (*fn)(const char *f, void *ud);
	void *ud;
	int negated;
} walk;

static int is_negation(const char *w)
{
	static const char *const list[] = {
		"not", "no", "never", "nothing", "none", "nobody", "neither", "nor", "cannot",
		"can't", "cant", "don't", "dont", "doesn't", "doesnt", "didn't", "didnt", "isn't",
		"isnt", "wasn't", "wasnt", "aren't", "weren't", "won't", "wont", "wouldn't",
		"couldn't", "hasn't", "haven't", "without", "hardly", NULL,
	};
	for (int i = 0; list[i]; i++)
		if (strcmp(list[i], w) == 0)
			return 1;
	return 0;
}

static int feature(const text_token *t, void *ud)
{
	walk *w = ud;
	if (t->kind == TOK_PUNCT) {
		w->negated = 0;	/* a clause ends a negation's reach */
		return 0;
	}
	if (t->kind == TOK_WORD && is_negation(t->text)) {
		w->negated = 1;
		w->fn(t->text, w->ud);
		return 0;
	}
	if (t->kind == TOK_WORD && w->negated) {
		char marked[80];
		strcpy(marked, "not_");
		strcat(marked, t->text);
		w->fn(marked, w->ud);
		return 0;
	}
	w->fn(t->text, w->ud);
	return 0;
}

void mnb_features(const char *text, void (*fn)(const char *f, void *ud), void *ud)
{
	walk w = {fn, ud, 0};
	text_tokens(text ? text : "", feature, &w);
}

typedef struct {
	mnb *m;
	int label;
} adding;

static void add_one(const char *f, void *ud)
{
	adding *a = ud;
	entry *e = slot(a->m, f);
	if (!e)
		return;
	e->count[a->label]++;
	a->m->total[a->label]++;
}

void mnb_add(mnb *m, const char *text, int label)
{
	adding a = {m, label ? 1 : 0};
	m->docs[a.label]++;
	mnb_features(text, add_one, &a);
}

void mnb_set(mnb *m, const char *feature, double neg, double pos)
{
	entry *e = slot(m, feature);
	if (!e)
		return;
	m->total[0] += neg - e->count[0];
	m->total[1] += pos - e->count[1];
	e->count[0] = neg;
	e->count[1] = pos;
}

void mnb_set_docs(mnb *m, double neg, double pos)
{
	m->docs[0] = neg;
	m->docs[1] = pos;
}

typedef struct {
	const mnb *m;
	double ll[2];
} scoring;

static void score_one(const char *f, void *ud)
{
	scoring *s = ud;
	const entry *e = find(s->m, f);
	if (!e->key)
		return;	/* never seen in training: says nothing */
	double v = (double)s->m->n;
	for (int c = 0; c < 2; c++)
		s->ll[c] += log((e->count[c] + s->m->alpha) / (s->m->total[c] + s->m->alpha * v));
}

double mnb_positive(const mnb *m, const char *text)
{
	/* the classes' shares of the training texts (both above zero: a model
	 * is trained on both) */
	double docs = m->docs[0] + m->docs[1];
	scoring s = {m, {log(m->docs[0] / docs), log(m->docs[1] / docs)}};
	mnb_features(text, score_one, &s);
	/* P(1) = 1 / (1 + exp(ll0 - ll1)), without overflow */
	double d = s.ll[0] - s.ll[1];
	return d > 0 ? exp(-d) / (1 + exp(-d)) : 1 / (1 + exp(d));
}

int mnb_next(const mnb *m, size_t *i, const char **feature, double *neg, double *pos)
{
	while (*i < m->cap && !m->slots[*i].key)
		(*i)++;
	if (*i >= m->cap)
		return 0;
	*feature = m->slots[*i].key;
	*neg = m->slots[*i].count[0];
	*pos = m->slots[*i].count[1];
	(*i)++;
	return 1;
}

void mnb_docs(const mnb *m, double *neg, double *pos)
{
	*neg = m->docs[0];
	*pos = m->docs[1];
}

double mnb_alpha(const mnb *m) { return m->alpha; }
