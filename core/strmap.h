/* A string -> int64 hash map (open addressing, linear probing), for the
 * small lookups hot loops must not send to SQL, such as SKU -> product id
 * during an import. Keys are copied. */
#ifndef PATRON_STRMAP_H
#define PATRON_STRMAP_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
	char **keys;
	int64_t *vals;
	size_t cap, n;
} patron_strmap;

/* 1 and *val when KEY is present, else 0. */
int patron_strmap_get(const patron_strmap *m, const char *key, int64_t *val);
void patron_strmap_put(patron_strmap *m, const char *key, int64_t val);
void patron_strmap_free(patron_strmap *m);

#endif
