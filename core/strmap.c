#include "strmap.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

static uint64_t hash(const char *s)
{
	uint64_t h = 1469598103934665603ull;	/* FNV-1a */
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

static size_t slot(const patron_strmap *m, const char *key)
{
	size_t i = hash(key) & (m->cap - 1);
	while (m->keys[i] && strcmp(m->keys[i], key) != 0)
		i = (i + 1) & (m->cap - 1);
	return i;
}

int patron_strmap_get(const patron_strmap *m, const char *key, int64_t *val)
{
	if (!m->cap)
		return 0;
	size_t i = slot(m, key);
	if (!m->keys[i])
		return 0;
	*val = m->vals[i];
	return 1;
}

void patron_strmap_put(patron_strmap *m, const char *key, int64_t val)
{
	if ((m->n + 1) * 4 > m->cap * 3) {	/* keep the load under 3/4 */
		patron_strmap old = *m;
		m->cap = old.cap ? old.cap * 2 : 64;
		m->keys = patron_xcalloc(m->cap, sizeof *m->keys);
		m->vals = patron_xmalloc(m->cap * sizeof *m->vals);
		for (size_t i = 0; i < old.cap; i++) {
			if (old.keys[i]) {
				size_t j = slot(m, old.keys[i]);
				m->keys[j] = old.keys[i];
				m->vals[j] = old.vals[i];
			}
		}
		free(old.keys);
		free(old.vals);
	}
	size_t i = slot(m, key);
	if (!m->keys[i]) {
		m->keys[i] = patron_xstrdup(key);
		m->n++;
	}
	m->vals[i] = val;
}

void patron_strmap_free(patron_strmap *m)
{
	for (size_t i = 0; i < m->cap; i++)
		free(m->keys[i]);
	free(m->keys);
	free(m->vals);
	memset(m, 0, sizeof *m);
}
