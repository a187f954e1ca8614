/* What the intent classifiers share: the labelled texts as TF-IDF rows
 * (tfidf.h), and a linear model over them: a score per label, W[label] . x
 * + B[label], turned into probabilities by a softmax (naive Bayes, whose
 * scores are log-probabilities) or by each label's sigmoid normalized to
 * sum to 1 (one-vs-rest logistic regression). Stored as JSON: the labels,
 * the vocabulary with its idf, and the weights. */
#ifndef PATRON_TEXTCLASS_H
#define PATRON_TEXTCLASS_H

#include <stddef.h>
#include <stdint.h>

#include <patron/plugin.h>

#include "tfidf.h"

typedef enum { LINK_SOFTMAX, LINK_OVR } textclass_link;

typedef struct {
	char **labels;	/* K, sorted */
	size_t k;
	tfidf *vocab;	/* V features */
	double *w;	/* K x V */
	double *b;	/* K */
	textclass_link link;
} textclass;

/* The training set: N texts as CSR rows of the vocabulary fitted on them,
 * and each text's label index. */
typedef struct {
	size_t n, v;
	size_t *start;		/* n + 1 */
	uint32_t *idx;
	double *val;
	int *y;
} textclass_data;

/* Fits the vocabulary of T's texts into M (labels, vocab; weights zeroed)
 * and the rows into D. -1 with host->fail when T has no labels or fewer
 * than two of them. */
int textclass_prepare(const patron_host *h, patron_ctx *ctx, const patron_texts *t,
		      textclass *m, textclass_data *d);
void textclass_data_free(textclass_data *d);

/* Saves M with host->save_model; loads the stored one (0, or -1 with
 * host->fail, or 1 with host->not_ready when none is stored). */
int textclass_save(const patron_host *h, patron_ctx *ctx, const textclass *m);
int textclass_load(const patron_host *h, patron_ctx *ctx, textclass *m);
void textclass_free(textclass *m);

/* What a plugin keeps between calls: the stored model, read on first use. */
typedef struct {
	textclass model;
	int loaded;
	tfidf_row row;
} textclass_held;

/* The classify callback's work: labels N texts with the stored model. */
int textclass_classify(textclass_held *held, const patron_host *h, patron_ctx *ctx, size_t n,
		       const char *const *texts, const char **labels, double *confidence);
void textclass_held_free(textclass_held *held);

/* The label of TEXT and its probability. */
const char *textclass_label(const textclass *m, const char *text, tfidf_row *scratch,
			    double *probability);

#endif
