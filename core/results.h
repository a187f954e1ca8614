/* The results of one plugin run, held until the run ends and then written
 * in one transaction: all of them, or (when the plugin fails) none.
 *
 * Scores are stored a name's rows together (score_values, keyed by name id
 * and customer): a run empties each of its names' range and writes it
 * again in customer order, so each page is filled once and no row spells
 * out the name or the model (the scores view puts them back for reading). */
#ifndef PATRON_RESULTS_H
#define PATRON_RESULTS_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"
#include "util.h"

typedef struct patron_results patron_results;

patron_results *patron_results_new(void);
void patron_results_free(patron_results *r);

/* N values (NaN: none) or labels (NULL: none) of score NAME, one per id.
 * Everything is copied. A later batch replaces an earlier one's value for
 * the same customer and name. What a run writes under NAME replaces every
 * row the store had under it: a customer the run leaves out has no NAME
 * score afterwards. */
void patron_results_add_scores(patron_results *r, const char *name, size_t n,
			       const int64_t *ids, const double *values,
			       const char *const *labels);
/* K products per customer, best first (0 ends a list early), with scores
 * or NULL, and M products that led to each (BECAUSE, 0-ended; or NULL and
 * M 0). A customer's list replaces what the store had for them. */
void patron_results_add_recommendations(patron_results *r, size_t n, const int64_t *ids,
					size_t k, const int64_t *products, const double *scores,
					size_t m, const int64_t *because);

/* Batch I of the recommendation lists held (in the order added): 0 and
 * its arrays, or -1 past the last. */
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

#endif
