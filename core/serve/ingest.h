/* What patron serve writes: each request's effect on the store, inside the
 * caller's transaction (the server commits many requests together). Each
 * function is all-or-nothing: on error nothing of its request stays and
 * the transaction goes on. Errors name the field ("batch[3].event: ...").
 * Returns 0, PATRON_INGEST_DUPLICATE (seen before: nothing changed),
 * PATRON_INGEST_IGNORED (a topic Patron does not use), or -1. */
#ifndef PATRON_SERVE_INGEST_H
#define PATRON_SERVE_INGEST_H

#include <jansson.h>
#include <stdint.h>

#include "../import.h"
#include "../store.h"

enum { PATRON_INGEST_DUPLICATE = 1, PATRON_INGEST_IGNORED = 2 };

typedef struct {
	int64_t now;		/* the wall clock */
	const char *currency;	/* patron.conf's base currency, or NULL */
} patron_ingest_opts;

/* A Shopify webhook of TOPIC (X-Shopify-Topic) with delivery id ID
 * (X-Shopify-Webhook-Id, or NULL): orders/create|updated|paid|cancelled|
 * fulfilled, refunds/create, customers/create|update. Another topic is
 * accepted and ignored. */
int patron_ingest_shopify(patron_store *s, const char *topic, const char *id, json_t *body,
			  const patron_ingest_opts *o, patron_err *err);

/* A Stripe event ({"id", "type", "data": {"object"}}): charge.* and
 * customer.created|updated land; others are ignored. */
int patron_ingest_stripe(patron_store *s, json_t *event, const patron_ingest_opts *o,
			 patron_err *err);

/* A site's own events: one message or {"batch": [...]}. A track message
 * {"event", "userId" | "email" | "anonymousId", "properties", "timestamp"}
 * becomes an event (topic "track.NAME" unless EVENT is already a topic of
 * the site's own); identify {"userId", "email", "traits"} lands as a row of
 * a customers file. *N is the count of messages. */
int patron_ingest_track(patron_store *s, json_t *body, const patron_ingest_opts *o, long *n,
			patron_err *err);
int patron_ingest_identify(patron_store *s, json_t *body, const patron_ingest_opts *o, long *n,
			   patron_err *err);

/* The first open of outbox message ID (message.opened, once), or a click on
 * URL (message.clicked, every time). */
int patron_ingest_open(patron_store *s, int64_t outbox_id, int64_t now, patron_err *err);
int patron_ingest_click(patron_store *s, int64_t outbox_id, const char *url, int64_t now,
			patron_err *err);

/* Consent withdrawn by an unsubscribe link: CHANNEL (or several,
 * comma-separated), or every channel the customer has consent for when
 * NULL; customer.unsubscribed is emitted for each. */
int patron_ingest_unsubscribe(patron_store *s, int64_t cid, const char *channel, int64_t now,
			      patron_err *err);

/* Site keys: made (the key printed once: "pk_..."), checked, listed,
 * revoked. Only a hash is kept. */
int patron_api_key_new(patron_store *s, const char *name, int64_t now, char *key, size_t cap,
		       patron_err *err);
/* 1 when KEY is a live key, 0 when not. */
int patron_api_key_check(patron_store *s, const char *key);
int patron_api_key_revoke(patron_store *s, const char *name, int64_t now, patron_err *err);

#endif
