/* Texts as TF-IDF vectors, for the intent classifiers. A text's features
 * are in two groups: words and pairs of adjacent words ("w:where",
 * "w:where is"), and the character 3-grams of each word padded with a space
 * at each end ("c: wh", "c:whe", ..., "c:re "), so a misspelt or inflected
 * word still shares most of its features. CJK text comes as the
 * tokenizer's character pairs (words). A feature's weight is its count
 * times its idf, ln((1 + N) / (1 + df)) + 1 over the N training texts, and
 * each group is scaled to unit length on its own: the weighting of
 * scikit-learn's TfidfVectorizer (smooth idf, l2 norm) applied to each
 * group, as its FeatureUnion does. */
#ifndef PATRON_TFIDF_H
#define PATRON_TFIDF_H

#include <stddef.h>
#include <stdint.h>

typedef struct tfidf tfidf;

/* A sparse row: N features, IDX ascending, VAL their weights. */
typedef struct {
	uint32_t *idx;
	double *val;
	size_t n, cap;
} tfidf_row;

/* The vocabulary of N texts (every feature they have) and its idf. */
tfidf *tfidf_fit(size_t n, const char *const *texts);
/* An empty vocabulary, for a stored one: add each feature with its idf. */
tfidf *tfidf_new(void);
void tfidf_add(tfidf *t, const char *feature, double idf);
void tfidf_free(tfidf *t);

size_t tfidf_size(const tfidf *t);
const char *tfidf_feature(const tfidf *t, size_t i);
double tfidf_idf(const tfidf *t, size_t i);

/* TEXT's weighted vector into OUT (reused; tfidf_row_free frees it).
 * Features the vocabulary lacks are left out. */
void tfidf_vector(const tfidf *t, const char *text, tfidf_row *out);
void tfidf_row_free(tfidf_row *r);

/* Calls FN with each feature of TEXT, in order, repeats included. */
void tfidf_features(const char *text, void (*fn)(const char *feature, void *ud), void *ud);

#endif
