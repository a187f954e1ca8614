/* A CART tree as the churn plugins store it (forest, tree): the JSON object
 * {"feature", "threshold", "left", "right", "value"} of node arrays. */
#ifndef PATRON_CART_JSON_H
#define PATRON_CART_JSON_H

#include <jansson.h>

#include "cart.h"

json_t *cart_tree_json(const cart_tree *t);

/* The tree stored in J (its arrays malloc'd into T, which the caller frees
 * whatever the outcome), checked so that no walk leaves it and no split
 * names a column past COLS. 0, or -1 when J is not such a tree. */
int cart_tree_read(json_t *j, size_t cols, cart_tree *t);

#endif
