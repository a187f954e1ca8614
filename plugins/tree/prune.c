#include "prune.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int tree_alphas(const cart_tree *t, double *alpha)
{
	size_t n = t->n;
	double *r = malloc(n * sizeof *r), *sub = malloc(n * sizeof *sub);
	double *leaves = malloc(n * sizeof *leaves);
	int32_t *parent = malloc(n * sizeof *parent);
	unsigned char *gone = calloc(n, 1);
	if (!r || !sub || !leaves || !parent || !gone) {
		free(r), free(sub), free(leaves), free(parent), free(gone);
		return -1;
	}
	double total = t->count[0];
	for (size_t i = 0; i < n; i++) {
		double p = t->value[i];
		r[i] = t->count[i] / total * 2 * p * (1 - p);
		alpha[i] = INFINITY;
		parent[i] = -1;
	}
	for (size_t i = 0; i < n; i++)
		if (t->feature[i] >= 0)
			parent[t->left[i]] = parent[t->right[i]] = (int32_t)i;
	/* children come after their parent: one pass from the end sums subtrees */
	for (size_t i = n; i-- > 0;) {
		if (t->feature[i] < 0) {
			sub[i] = r[i];
			leaves[i] = 1;
		} else {
			sub[i] = sub[t->left[i]] + sub[t->right[i]];
			leaves[i] = leaves[t->left[i]] + leaves[t->right[i]];
		}
	}
	/* Collapse the weakest link until only the root is left. */
	for (;;) {
		double best = INFINITY;
		for (size_t i = 0; i < n; i++) {
			if (gone[i] || t->feature[i] < 0 || isfinite(alpha[i]))
				continue;
			double g = (r[i] - sub[i]) / (leaves[i] - 1);
			if (g < best)
				best = g;
		}
		if (!isfinite(best))
			break;
		double a = best < 0 ? 0 : best;
		for (size_t i = 0; i < n; i++) {
			if (gone[i] || t->feature[i] < 0 || isfinite(alpha[i]))
				continue;
			double g = (r[i] - sub[i]) / (leaves[i] - 1);
			if (g > best + 1e-15 * (1 + fabs(best)))
				continue;
			alpha[i] = a;
			/* its subtree goes, and its ancestors lose what it held */
			double dr = sub[i] - r[i], dl = leaves[i] - 1;
			for (int32_t up = parent[i]; up >= 0; up = parent[up]) {
				sub[up] -= dr;
				leaves[up] -= dl;
			}
			sub[i] = r[i];
			leaves[i] = 1;
			/* mark the descendants, which are no longer in the tree */
			size_t stack_n = 0;
			int32_t *stack = malloc(n * sizeof *stack);
			if (!stack) {
				free(r), free(sub), free(leaves), free(parent), free(gone);
				return -1;
			}
			stack[stack_n++] = t->left[i];
			stack[stack_n++] = t->right[i];
			while (stack_n) {
				int32_t k = stack[--stack_n];
				gone[k] = 1;
				if (t->feature[k] >= 0) {
					stack[stack_n++] = t->left[k];
					stack[stack_n++] = t->right[k];
				}
			}
			free(stack);
		}
	}
	free(r), free(sub), free(leaves), free(parent), free(gone);
	return 0;
}

int tree_prune(const cart_tree *t, const double *alpha, double a, cart_tree *out)
{
	memset(out, 0, sizeof *out);
	size_t cap = t->n ? t->n : 1;
	out->feature = malloc(cap * sizeof *out->feature);
	out->threshold = malloc(cap * sizeof *out->threshold);
	out->left = malloc(cap * sizeof *out->left);
	out->right = malloc(cap * sizeof *out->right);
	out->value = malloc(cap * sizeof *out->value);
	out->count = malloc(cap * sizeof *out->count);
	int32_t *from = malloc(cap * sizeof *from);	/* new node -> old node */
	if (!out->feature || !out->threshold || !out->left || !out->right || !out->value ||
	    !out->count || !from) {
		free(from);
		tree_free(out);
		return -1;
	}
	/* Breadth first: each kept node's children get the next slots. */
	size_t n = 1, at = 0;
	from[0] = 0;
	while (at < n) {
		int32_t o = from[at];
		int split = t->feature[o] >= 0 && alpha[o] > a;
		out->feature[at] = split ? t->feature[o] : -1;
		out->threshold[at] = split ? t->threshold[o] : 0;
		out->value[at] = t->value[o];
		out->count[at] = t->count ? t->count[o] : 0;
		out->left[at] = out->right[at] = -1;
		if (split) {
			out->left[at] = (int32_t)n;
			from[n++] = t->left[o];
			out->right[at] = (int32_t)n;
			from[n++] = t->right[o];
		}
		at++;
	}
	out->n = n;
	free(from);
	return 0;
}

double tree_predict(const cart_tree *t, const double *x, double *contrib)
{
	int32_t i = 0;
	while (t->feature[i] >= 0) {
		int32_t next = x[t->feature[i]] <= t->threshold[i] ? t->left[i] : t->right[i];
		if (contrib)
			contrib[t->feature[i]] += t->value[next] - t->value[i];
		i = next;
	}
	return t->value[i];
}

void tree_free(cart_tree *t)
{
	free(t->feature), free(t->threshold), free(t->left), free(t->right), free(t->value);
	free(t->count);
	memset(t, 0, sizeof *t);
}
