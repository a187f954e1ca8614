/* What the recommender plugins (popular, itemknn, als) share: their common
 * options, the products a customer may be offered, popularity, picking
 * each customer's best N, and writing the lists. Built into each of them;
 * like every plugin, it sees only <patron/plugin.h>.
 *
 * Options every recommender reads:
 *   n                   products per customer (default 10)
 *   repurchase          true: offer what the customer bought before too
 *                       (consumables); default false
 *   window_days         popularity counts buyers in these last days (90);
 *                       all time when the window saw no purchase
 *   exclude_products    SKUs never offered, comma-separated
 *   exclude_categories  categories never offered, comma-separated
 *   weight              how a purchase counts: "binary" (default),
 *                       "quantity" or "log_spend" (log(1 + money spent))
 * A customer without purchases gets the most popular products, and the log
 * says how many customers that was.
 */
#ifndef PATRON_RECS_H
#define PATRON_RECS_H

#include <stddef.h>
#include <stdint.h>

#include <patron/plugin.h>

#define RECS_BECAUSE 3	/* products named as why, per recommendation */

enum { RECS_BINARY, RECS_QUANTITY, RECS_LOG_SPEND };

typedef struct {
	const patron_host *h;
	patron_ctx *ctx;
	const patron_graph *g;
	size_t n;		/* list length */
	int repurchase, weighting;
	double window_days;
	unsigned char *banned;	/* per product column: excluded by the options */
	uint32_t *popular;	/* columns offered to anyone, most popular first */
	double *popularity;	/* per column: buyers in the window */
	size_t npopular;
	/* The lists: row u's at [u * n], best first, as product columns + 1 (0
	 * past its end; ids when written, four bytes each instead of eight:
	 * a million customers' lists and their reasons were 400 MB). BECAUSE:
	 * RECS_BECAUSE columns + 1 per recommendation, 0-ended. */
	uint32_t *products, *because;
	double *scores;
	size_t fallback;	/* customers with no history, given popular products */
} recs;

/* Reads the options and the graph; allocates the lists. -1 with h->fail. */
int recs_open(recs *r, const patron_host *h, patron_ctx *ctx);
void recs_close(recs *r);

/* The weight of graph entry E under r->weighting. */
double recs_weight(const recs *r, size_t e);

/* Per-thread scratch for picking: scores of the columns touched. */
typedef struct {
	double *score;		/* per column, 0 when untouched */
	uint32_t *touched, *mark;
	size_t ntouched;
	uint32_t stamp;
	uint32_t *best;		/* n + 1 */
	size_t products;
} recs_scratch;

int recs_scratch_init(recs_scratch *s, size_t products, size_t n);
void recs_scratch_free(recs_scratch *s);
/* Adds V to column C's score for the current customer. */
static inline void recs_add(recs_scratch *s, uint32_t c, double v)
{
	if (s->mark[c] != s->stamp) {
		s->mark[c] = s->stamp;
		s->score[c] = 0;
		s->touched[s->ntouched++] = c;
	}
	s->score[c] += v;
}
/* Starts a customer: forgets the previous one's scores. */
void recs_begin(recs_scratch *s);
/* Picks row U's list from the scores added since recs_begin: the best N
 * columns the customer may be offered (score, then lower column first),
 * filled up from the popular ones. Returns how many came from the scores. */
size_t recs_pick(recs *r, recs_scratch *s, size_t u);

/* The same for a score of every column at once (ROW, products entries):
 * the best N the customer may be offered. */
void recs_pick_dense(recs *r, recs_scratch *s, size_t u, const double *row);

/* Writes every row's list (with r->because when WITH_BECAUSE), in
 * batches of ids. */
int recs_write(recs *r, int with_because);

#endif
