/* The demo-shop generator: a deterministic (seeded) shop written as CSV
 * files: customers.csv, products.csv, orders.csv (one row per order line)
 * and feedback.csv. Customers buy at rates that differ (a few heavy buyers,
 * many one-timers) and drop out after any purchase with a probability of
 * their own, so some have really lapsed; products sell by a power law. */
#ifndef PATRON_GEN_H
#define PATRON_GEN_H

#include <stdint.h>

typedef struct {
	const char *dir;	/* written into; must exist */
	uint64_t customers;
	uint64_t lines;		/* target order lines; 0 = what the customers buy */
	uint64_t products;	/* 0 = chosen from the number of customers */
	uint64_t seed;
	int64_t end;		/* the last day of the shop's history, Unix seconds */
} patron_gen_opts;

typedef struct {
	uint64_t customers, products, orders, lines, feedback;
} patron_gen_stats;

/* 0, or -1 with a message in err (ERR_MAX bytes). */
int patron_gen(const patron_gen_opts *o, patron_gen_stats *st, char *err, int err_max);

#endif
