/* Read-only in-memory snapshots of the store that plugins analyse: the
 * feature matrix and the customer x product graph (see sdk/patron/plugin.h
 * for their layout). Each is built in one scan on first request, against a
 * "now" (orders after it are ignored), and freed with the snapshot. */
#ifndef PATRON_SNAPSHOT_H
#define PATRON_SNAPSHOT_H

#include <stdint.h>

#include "../sdk/patron/plugin.h"
#include "store.h"

/* Text attributes with at most this many distinct values become one-hot
 * columns; those with more (names, free text) are left out. */
#define PATRON_ONEHOT_MAX 64

typedef struct {
	patron_store *store;
	int64_t now;
	int built_features, built_graph, built_purchases, built_summary;
	double build_secs;	/* spent building the views so far */
	patron_features features;
	patron_features summary;	/* patron_snapshot_summary's, when made alone */
	double *summary_x;
	patron_graph graph;

	/* The rows: customers who existed at now, ascending id. */
	int64_t *ids, *created;	/* and when each was created */
	size_t rows;
	int32_t *row_of;	/* customer id -> row, -1 when not a row */
	int64_t max_id;

	/* From the one pass over paid orders up to now, which both views use:
	 * per row, and per order id (its row, -1 when not counted, and time). */
	int orders_done;
	uint32_t *freq, *c30, *c90, *c365;
	int64_t *cents, *first, *last;
	int32_t *order_row;
	int64_t *order_at, *order_cents, max_oid;

	double *x;
	char **names;
	size_t *offsets;
	uint32_t *cols;
	double *quantity, *spend;
	int64_t *last_at, *product_ids;

	patron_purchases purchases;
	size_t *day_offsets;
	int32_t *days;
	double *day_amounts;
} patron_snapshot;

void patron_snapshot_init(patron_snapshot *sn, patron_store *s, int64_t now);
void patron_snapshot_free(patron_snapshot *sn);

/* Frees the feature matrix and the purchase days (built again if asked
 * for): a score's recommender needs only the graph, and a million
 * customers' features are 200 MB. */
void patron_snapshot_release_features(patron_snapshot *sn);

/* The row of customer ID in F (rows ascend by id), or -1. */
long patron_features_row(const patron_features *f, int64_t id);

/* NULL with err filled on failure. */
const patron_features *patron_snapshot_features(patron_snapshot *sn, patron_err *err);
const patron_graph *patron_snapshot_graph(patron_snapshot *sn, patron_err *err);
/* The feature matrix's first three columns (recency_days, frequency,
 * monetary_total) for the same rows, made from the store's per-customer
 * totals (customer_orders) when no paid order is after now: two reads of
 * a million rows instead of a pass over every order. The whole matrix when
 * it is built already, or when the totals do not describe now (orders
 * after it: a replay of the past). NULL with err filled on failure. */
const patron_features *patron_snapshot_summary(patron_snapshot *sn, patron_err *err);
const patron_purchases *patron_snapshot_purchases(patron_snapshot *sn, patron_err *err);

#endif
