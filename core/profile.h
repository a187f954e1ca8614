/* A customer as JSON: the profile `patron customer` shows, and the fields
 * templates see. */
#ifndef PATRON_PROFILE_H
#define PATRON_PROFILE_H

#include <jansson.h>
#include <stdint.h>

#include "store.h"

/* Column COL of the current row as JSON: an integer, a real, text or null. */
json_t *patron_column_json(sqlite3_stmt *st, int col);

/* Identities, attributes, tags, consent, orders (as of NOW), feedback,
 * scores and recommendations [{sku, name, category, score}]. The text output of `patron customer` is printed from it too, so
 * the two can never disagree. */
json_t *patron_customer_profile(patron_store *s, int64_t id, int64_t now);

/* The profile plus what a template names: email, phone, name, segment,
 * churn, clv and p_alive. */
json_t *patron_customer_for_template(patron_store *s, int64_t id, int64_t now);

#endif
