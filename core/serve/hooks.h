/* Shops' webhooks: their signatures, and their payloads written as the rows
 * of the same shop's export, so that a webhook lands through the very import
 * a downloaded file goes through (same columns, money, statuses, identity
 * merge and idempotency). Nothing here touches the store. */
#ifndef PATRON_SERVE_HOOKS_H
#define PATRON_SERVE_HOOKS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "../util.h"

/* HMAC-SHA256 of MSG under KEY (any length). */
void patron_hmac_sha256(const void *key, size_t klen, const void *msg, size_t len,
			unsigned char out[32]);

/* 1 when HEADER (X-Shopify-Hmac-Sha256: base64 of the HMAC-SHA256 of the
 * raw body under the app's secret) is right for BODY; 0 when it is missing
 * or wrong. Compared in constant time. */
int patron_shopify_verify(const char *secret, const char *body, size_t len,
			  const char *header);

/* Stripe-Signature: "t=TIMESTAMP,v1=HEX[,v1=HEX...]", the HMAC-SHA256 of
 * "TIMESTAMP.BODY" under the endpoint's secret. 1 when a v1 signature is
 * right and the timestamp within TOLERANCE seconds of NOW; else 0 and WHY
 * says which ("no signature", "too old: replayed?", ...). *T is the
 * signed timestamp. */
int patron_stripe_verify(const char *secret, const char *body, size_t len,
			 const char *header, int64_t now, int64_t tolerance, int64_t *t,
			 patron_err *why);

/* A Shopify order (orders/create, orders/updated, orders/paid,
 * orders/cancelled) as the rows of Shopify's orders export, one per line
 * item, into CSV. -1 with err naming the field when the order lacks what
 * the export always has. */
int patron_shopify_order_csv(json_t *order, patron_buf *csv, patron_err *err);
/* A Shopify customer (customers/create, customers/update) as a row of the
 * customers export. */
int patron_shopify_customer_csv(json_t *customer, patron_buf *csv, patron_err *err);
/* The successful refund transactions of a Shopify refund object, summed
 * into *MINOR (hundredths of the shop's currency). 0, or -1 with err. */
int patron_shopify_refund_amount(json_t *refund, int64_t *minor, patron_err *err);

/* A Stripe charge (charge.succeeded, charge.refunded, charge.failed ...) as
 * a row of Stripe's payments export. */
int patron_stripe_charge_csv(json_t *charge, patron_buf *csv, patron_err *err);
/* A Stripe customer (customer.created, customer.updated) as a row of
 * Stripe's customers export. */
int patron_stripe_customer_csv(json_t *customer, patron_buf *csv, patron_err *err);

#endif
