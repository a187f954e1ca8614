/* What the churn plugins (logreg, forest, nbayes, mlp) share: the rows to
 * train on, the reasons shown for a customer's risk, and writing the
 * results. Built into each of them; sees only <patron/plugin.h>. */
#ifndef PATRON_SUPERVISED_H
#define PATRON_SUPERVISED_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <patron/plugin.h>

#define SUP_REASONS 3

/* The design of the job, or NULL with h->fail (not a supervised job, or a
 * core older than ABI 1.4). */
const patron_design *sup_design(const patron_host *h, patron_ctx *ctx);

/* Option KEY, a whole number from LO to HI, into *OUT (kept when the option
 * is unset). 0, or -1 with h->fail naming the key and the range. */
int sup_whole(const patron_host *h, patron_ctx *ctx, const char *key, double lo, double hi,
	      size_t *out);

/* The rows with a label (y 0 or 1): their indexes into *ROWS (malloc'd). */
size_t sup_train_rows(const patron_design *d, size_t **rows);

/* A reader's account of column C of ROW (standardized values): the
 * snapshot's own columns in plain words ("no order for 142 days, usually
 * every 35", "2 orders in the last 90 days"), attributes as "calls=5",
 * "plan=pro", "plan is not pro", "age missing". */
void sup_reason(const patron_design *d, size_t c, const double *row, char *out, size_t cap);

/* Writes "churn" (P, one per row) and "churn_reasons": for each row the
 * up to SUP_REASONS columns with the largest positive CONTRIB (rows x cols,
 * or NULL for none), most first, joined by "; ". */
int sup_write(const patron_host *h, patron_ctx *ctx, const patron_design *d, const double *p,
	      const double *contrib);

/* A model's probability for row X, and each column's share of the risk
 * into CONTRIB (cols entries, zeroed before the call). */
typedef double (*sup_predict_fn)(const void *model, const double *x, double *contrib);

/* Scores every row of D with PREDICT on two threads and writes the results
 * (sup_write). PREDICT must only read MODEL. */
int sup_score(const patron_host *h, patron_ctx *ctx, const patron_design *d,
	      sup_predict_fn predict, const void *model);

/* The model's params as JSON (from load_model), checked to be for D's
 * columns. NULL with h->fail. */
json_t *sup_load(const patron_host *h, patron_ctx *ctx, const patron_design *d);
/* Saves PARAMS (stolen) with D's column count, for sup_load to check. */
int sup_save(const patron_host *h, patron_ctx *ctx, const patron_design *d, json_t *params);

/* A JSON array of N doubles, and back (0, or -1 when not N numbers). */
json_t *sup_array(const double *v, size_t n);
int sup_doubles(json_t *a, double *v, size_t n);

#endif
