/* What Patron holds on one person: all of it as one JSON document (patron
 * export), or erased (patron erase) with the shop's anonymous figures kept. */
#ifndef PATRON_PRIVACY_H
#define PATRON_PRIVACY_H

#include <jansson.h>
#include <stdint.h>

#include "config.h"
#include "plugin.h"
#include "store.h"

/* Everything stored about customer CID, by table, with the store's own
 * names for the columns. NULL when there is no such customer. */
json_t *patron_person_export(patron_store *s, int64_t cid, int64_t now);

typedef struct {
	int64_t tombstone;	/* the id the orders are kept under; 0: there were none */
	long identities, orders, events, messages, files, audit, feedback, scores, tickets;
} patron_erase_stats;

/* Erases customer CID: the customer row, identities, attributes, tags,
 * consent, feedback, tickets (what they wrote to the shop), scores and
 * recommendations go; orders (amounts, dates,
 * lines) move to a new anonymous customer, made only when there are any;
 * the events, messages and audit rows about the person keep their counts
 * and times but lose their text and addresses, as do other events naming
 * the person's addresses; channels
 * that keep copies of what they sent forget them. All in one transaction,
 * with the freed bytes overwritten, then the store is rewritten (VACUUM)
 * so no erased byte stays in the file. The erasure is recorded, without
 * the erased values. */
int patron_person_erase(patron_store *s, int64_t cid, const patron_config *cfg,
			const patron_plugins *ps, int64_t now, patron_erase_stats *st,
			patron_err *err);

#endif
