/* The table a supervised model (churn) learns from: the snapshot's feature
 * columns made ready for a model, and each customer's label.
 *
 * The schema is fitted on the training rows only and stored with the model,
 * so scoring and evaluation prepare new rows exactly as training did:
 *  - the label's own columns (attr.LABEL, attr.LABEL=...) are left out, and
 *    so is every column that does not vary over the training rows;
 *  - a missing value (NaN) takes the column's training median, and a column
 *    that had missing values gains an indicator column "NAME (missing)";
 *  - numeric columns are standardized (training mean and standard
 *    deviation, after imputation); one-hot columns stay 0/1.
 * Labels come from an attribute (yes/no, true/false, 1/0, any case) or are
 * derived from history: with features as of a cutoff, 1 when a customer who
 * had bought did not buy again within the horizon after it. */
#ifndef PATRON_DESIGN_H
#define PATRON_DESIGN_H

#include <jansson.h>
#include <stdint.h>

#include "../sdk/patron/plugin.h"
#include "store.h"
#include "util.h"

typedef struct {
	char *name;		/* the snapshot column */
	int onehot;		/* "attr.X=V": kept 0/1 */
	double median, mean, sd;
	int indicator;		/* followed by a "NAME (missing)" column */
} design_col;

/* Where labels come from. */
typedef struct {
	char *label;		/* an attribute's name, or NULL: derived from history */
	int64_t cutoff, horizon;	/* derived: the features' "now", and seconds after it */
} design_labels;

typedef struct {
	design_col *c;
	size_t n;
	design_labels lab;
} design_schema;

/* A prepared table: what plugins see as patron_design. Owns its arrays. */
typedef struct {
	patron_design d;
	double *x, *y, *mean, *sd;
	char **names;
	int64_t *ids;
} design_table;

void design_schema_free(design_schema *s);
void design_table_free(design_table *t);

/* Y (f->rows entries): 1, 0 or NaN (no label) for each row of F. */
int design_labels_read(patron_store *st, const design_labels *lab, const patron_features *f,
		       int64_t now, double *y, patron_err *err);

/* Fits S on the rows of F where TRAIN is set. */
int design_fit(design_schema *s, const patron_features *f, const uint8_t *train,
	       patron_err *err);

/* The table of every row of F (Y may be NULL: no labels), or of the rows
 * KEEP marks when it is not NULL. A schema column the snapshot no longer
 * has is an error naming it. */
int design_apply(const design_schema *s, const patron_features *f, const double *y,
		 const uint8_t *keep, design_table *t, patron_err *err);

/* The table of a CSV file's rows (a test file): each schema column read
 * from the file's column of the same attribute, the label from LABEL's
 * column. Columns the schema needs and the file lacks are named. With
 * WHO, *WHO (malloc'd, a row each) is the customer of ST a row names by
 * its customer id or email column, or 0. */
int design_apply_csv(const design_schema *s, const char *path, const char *label,
		     patron_store *st, int64_t **who, design_table *t, patron_err *err);

/* To and from the JSON stored with a model. */
json_t *design_schema_json(const design_schema *s);
int design_schema_parse(json_t *j, design_schema *s, patron_err *err);

#endif
