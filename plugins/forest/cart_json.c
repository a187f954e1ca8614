#include "cart_json.h"

#include <stdlib.h>
#include <string.h>

#include "supervised.h"

static json_t *ints(const int32_t *v, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_integer(v[i]));
	return a;
}

json_t *cart_tree_json(const cart_tree *t)
{
	return json_pack("{s:o, s:o, s:o, s:o, s:o}", "feature", ints(t->feature, t->n),
			 "threshold", sup_array(t->threshold, t->n), "left", ints(t->left, t->n),
			 "right", ints(t->right, t->n), "value", sup_array(t->value, t->n));
}

int cart_tree_read(json_t *j, size_t cols, cart_tree *t)
{
	memset(t, 0, sizeof *t);
	json_t *fe = json_object_get(j, "feature"), *le = json_object_get(j, "left");
	json_t *ri = json_object_get(j, "right");
	size_t n = json_array_size(fe);
	t->n = n;
	t->feature = malloc((n ? n : 1) * sizeof *t->feature);
	t->left = malloc((n ? n : 1) * sizeof *t->left);
	t->right = malloc((n ? n : 1) * sizeof *t->right);
	t->threshold = malloc((n ? n : 1) * sizeof *t->threshold);
	t->value = malloc((n ? n : 1) * sizeof *t->value);
	if (!n || !t->feature || !t->left || !t->right || !t->threshold || !t->value ||
	    json_array_size(le) != n || json_array_size(ri) != n ||
	    sup_doubles(json_object_get(j, "threshold"), t->threshold, n) < 0 ||
	    sup_doubles(json_object_get(j, "value"), t->value, n) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		t->feature[i] = (int32_t)json_integer_value(json_array_get(fe, i));
		t->left[i] = (int32_t)json_integer_value(json_array_get(le, i));
		t->right[i] = (int32_t)json_integer_value(json_array_get(ri, i));
		/* A damaged node must not send a walk outside the tree. */
		if (t->feature[i] >= (int32_t)cols ||
		    (t->feature[i] >= 0 && (t->left[i] <= (int32_t)i || t->right[i] <= (int32_t)i ||
					    t->left[i] >= (int32_t)n || t->right[i] >= (int32_t)n)))
			return -1;
	}
	return 0;
}
