/* One CART tree made readable: minimal cost-complexity pruning (Breiman,
 * Friedman, Olshen and Stone, "Classification and Regression Trees", 1984,
 * chapter 3). A node t costs R(t) = (n_t / n) Gini(t); a subtree T_t costs
 * the sum over its leaves. Pruning at alpha keeps a split only while it
 * lowers that cost by more than alpha per leaf it adds: the weakest link,
 * the node of least (R(t) - R(T_t)) / (leaves(T_t) - 1), is collapsed
 * first, and each node's collapse alpha is the one at which it goes. */
#ifndef PATRON_PRUNE_H
#define PATRON_PRUNE_H

#include <stddef.h>

#include "../forest/cart.h"

/* ALPHA[i]: the alpha at which node i becomes a leaf (INFINITY for a node
 * that is one; the root's is the largest). The tree must have counts (as
 * grown). 0, or -1 when out of memory. */
int tree_alphas(const cart_tree *t, double *alpha);

/* The tree pruned at A, as a tree of its own (compact, root 0, counts
 * kept). -1 when out of memory. */
int tree_prune(const cart_tree *t, const double *alpha, double a, cart_tree *out);

/* The probability for X; with CONTRIB (zeroed), each column's share along
 * the path (the change in the positive share at each split). */
double tree_predict(const cart_tree *t, const double *x, double *contrib);

void tree_free(cart_tree *t);

#endif
