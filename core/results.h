/* The results of one plugin run, held until the run ends and then written
 * in one transaction: all of them, or (when the plugin fails) none.
 *
 * Scores are stored one row per customer per run (score_rows: the names
 * a run writes share a set, each name a slot of it): a run writes its
 * sets in customer order, so each page is filled once and no row spells
 * out a name or the model (the scores view puts them back for reading),
 * then points its names at them and deletes the sets they leave. */
#ifndef PATRON_RESULTS_H
#define PATRON_RESULTS_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"
#include "util.h"

typedef struct patron_results patron_results;

patron_results *patron_results_new(void);
void patron_results_free(patron_results *r);

/* N values (NaN: none) or labels (NULL: none) of score NAME, one per id:
 * a name holds values or labels, labels when any batch of it has them.
 * Everything is copied. A later batch replaces an earlier one's value for
 * the same customer and name. What a run writes under NAME replaces every
 * row the store had under it: a customer the run leaves out has no NAME
 * score afterwards. */
void patron_results_add_scores(patron_results *r, const char *name, size_t n,
			       const int64_t *ids, const double *values,
			       const char *const *labels);
/* K products per customer, best first (0 ends a list early), with scores
 * or NULL, and M products that led to each (BECAUSE, 0-ended; or NULL and
 * M 0). The lists a run writes replace every list the store had (a later
 * batch's list for the same customer winning). */
void patron_results_add_recommendations(patron_results *r, size_t n, const int64_t *ids,
					size_t k, const int64_t *products, const double *scores,
					size_t m, const int64_t *because);

/* Holds the products of the lists added from now on, for
 * patron_results_recommendations (an evaluation reads them; a run that
 * only stores its lists does not need the copy). */
void patron_results_keep_products(patron_results *r);

/* Batch I of the recommendation lists held (in the order added): 0 and
 * its arrays (PRODUCTS NULL unless kept), or -1 past the last. */
int patron_results_recommendations(const patron_results *r, size_t i, size_t *n,
				   const int64_t **ids, size_t *k, const int64_t **products);

/* The values of the last batch of scores named NAME: 0 with its arrays, or
 * -1 when there is none. */
int patron_results_scores(const patron_results *r, const char *name, size_t *n,
			  const int64_t **ids, const double **values);

/* Rows held so far (score rows plus recommendation lists). */
size_t patron_results_count(const patron_results *r);

/* Writes everything in one transaction, tagged MODEL and NOW. */
int patron_results_commit(patron_results *r, patron_store *s, const char *model, int64_t now,
			  patron_err *err);

/* How many customers have each label of score NAME, as written by MODEL
 * (none when another model wrote it last): *N labels with their counts,
 * most first, then by label. 0 (free *OUT with patron_label_counts_free),
 * or -1 with err. Counted from the stored rows, not through the scores
 * view (a million rows grouped by their text took a second). */
typedef struct {
	char *label;
	int64_t count;
} patron_label_count;

int patron_label_counts(patron_store *s, const char *name, const char *model,
			patron_label_count **out, size_t *n, patron_err *err);
void patron_label_counts_free(patron_label_count *counts, size_t n);

#endif
