/* Consent: unsubscribe tokens and withdrawing consent.
 *
 * An unsubscribe token names a customer and a channel and carries an
 * HMAC-SHA256 (libsodium) under a key the store makes on first use, so a
 * link cannot be forged to unsubscribe someone else:
 *   CUSTOMER.CHANNEL.SIGNATURE   e.g. "42.email.3f9a0c..."  */
#ifndef PATRON_CONSENT_H
#define PATRON_CONSENT_H

#include <stddef.h>
#include <stdint.h>

#include "bus.h"
#include "store.h"

/* The store's signing key NAME ("unsubscribe_key", "tracking_key",
 * "session_key"): 32 random bytes made on first use and kept in settings. */
int patron_store_secret(patron_store *s, const char *name, unsigned char key[32],
			patron_err *err);

/* The token for CID on CHANNEL, into OUT (at least 128 bytes). */
int patron_unsubscribe_token(patron_store *s, int64_t cid, const char *channel, char *out,
			     size_t cap, patron_err *err);
/* 1 and *CID, CHANNEL when TOKEN is genuine; 0 when it is not a token;
 * -1 when it looks like one but its signature is wrong. */
int patron_unsubscribe_check(patron_store *s, const char *token, int64_t *cid, char *channel,
			     size_t cap);

/* Records that CID withdrew consent for CHANNEL (source "unsubscribe"),
 * inside the caller's transaction. *CHANGED is 1 when it was granted. */
int patron_consent_withdraw(patron_store *s, int64_t cid, const char *channel, int64_t now,
			    int *changed, patron_err *err);

/* Subscribes the core's consent keeper to the bus: every customer.unsubscribed
 * event ({"channel": "email"}, all channels when none) withdraws consent. */
typedef struct {
	patron_store *s;
	int64_t now;
} patron_consent_keeper;
/* K must live as long as the bus. */
int patron_consent_subscribe(patron_bus *b, patron_consent_keeper *k, patron_err *err);

#endif
