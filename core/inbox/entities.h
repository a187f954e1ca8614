/* What a customer's message names, found by rules over its words: order
 * numbers in the shops' forms ("#1042", "order 1042", "order no. 1042",
 * Stripe's "ch_..." and "pi_..."), tracking numbers (UPS 1Z..., the
 * international post's AB123456789CD, USPS's 20 to 22 digits, and 10 to 15
 * digits when the message speaks of tracking), amounts with their currency
 * ("$12.50", "12,50 EUR", "40 euros"), dates ("2026-11-28", "28 November",
 * "Nov 28th, 2026") and the catalogue's products (by SKU, or by a name of
 * four letters or more). Orders and products are looked up in the store:
 * an order is tied to the message only when it is the sender's. */
#ifndef PATRON_ENTITIES_H
#define PATRON_ENTITIES_H

#include <stddef.h>
#include <stdint.h>

#include "../store.h"

typedef struct {
	const char *kind;	/* "order", "tracking", "amount", "date", "product" */
	char value[96];		/* "#1042", "1Z999AA10123456784", "12.50 EUR", "2026-11-28" */
	int64_t id;		/* the order's or product's row, 0 when not in the store */
} patron_entity;

typedef struct patron_catalogue patron_catalogue;

/* The products of S (their SKUs and names), read once for many messages. */
patron_catalogue *patron_catalogue_load(patron_store *s);
void patron_catalogue_free(patron_catalogue *c);

/* The entities of TEXT, at most CAP, in the order they appear (each value
 * once). Orders are looked up among customer CID's (0: none). NOW dates a
 * day named without its year (the latest such day not after NOW). */
size_t patron_entities(patron_store *s, const patron_catalogue *cat, int64_t cid,
		       const char *text, int64_t now, patron_entity *out, size_t cap);

#endif
