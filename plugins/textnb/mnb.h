/* Multinomial naive Bayes over the words of a text, two classes (0
 * negative, 1 positive), with add-alpha (Laplace) smoothing, as in
 * Manning, Raghavan and Schuetze, "Introduction to Information Retrieval",
 * 13.2. A text's features are its words (text.h), each word after a
 * negation and before the end of its clause marked "not_WORD" (so "not
 * good" does not count as "good"), and its CJK character pairs. Words the
 * training never saw are left out when scoring. */
#ifndef PATRON_MNB_H
#define PATRON_MNB_H

#include <stddef.h>
#include <stdint.h>

typedef struct mnb mnb;

mnb *mnb_new(double alpha);
void mnb_free(mnb *m);

/* Counts TEXT's features under class LABEL (0 or 1). */
void mnb_add(mnb *m, const char *text, int label);
/* Sets a feature's counts directly (a stored model). */
void mnb_set(mnb *m, const char *feature, double neg, double pos);
void mnb_set_docs(mnb *m, double neg, double pos);

/* P(positive | TEXT). */
double mnb_positive(const mnb *m, const char *text);

/* The model's features in turn: *I from 0; 1 while there is one. */
int mnb_next(const mnb *m, size_t *i, const char **feature, double *neg, double *pos);
void mnb_docs(const mnb *m, double *neg, double *pos);
double mnb_alpha(const mnb *m);

/* Calls FN with each feature of TEXT. */
void mnb_features(const char *text, void (*fn)(const char *f, void *ud), void *ud);

#endif
