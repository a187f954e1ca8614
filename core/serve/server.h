/* patron serve: the HTTP server (libmicrohttpd, a pool of worker threads)
 * that takes a shop's webhooks, a site's events, the clicks, opens and
 * unsubscribes of its emails, and shows the owner's report behind a login.
 *
 * Writes go to one writer thread that commits the requests waiting
 * together (group commit, synchronous=FULL): a 2xx is sent only once the
 * request's effect is on disk, and many requests share one fsync. A
 * request waiting for its commit is suspended, so waiting holds no worker.
 * Reads (keys, tokens, pages) use a connection of each worker's own. */
#ifndef PATRON_SERVE_SERVER_H
#define PATRON_SERVE_SERVER_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "../util.h"

typedef struct {
	const char *db_path;
	const char *host;		/* "127.0.0.1" */
	unsigned port;			/* 0: any free port (printed) */
	unsigned threads;		/* workers; 0: the machine's cores */
	size_t max_body;		/* bytes; larger bodies get 413 */
	unsigned timeout;		/* seconds a connection may idle or dribble */
	unsigned max_connections;
	FILE *access_log;		/* one JSON object per request, or NULL */
	const char *shopify_secret;	/* NULL: /hooks/shopify refuses all */
	const char *stripe_secret;
	int64_t stripe_tolerance;	/* seconds */
	const char *currency;		/* patron.conf's base currency, or NULL */
	const char *public_url;		/* for Secure cookies and links; may be NULL */
	const char *title;		/* the shop's name, for pages */
	/* The owner's report as HTML into PAGE, written again when FRESH (else
	 * the last one written, made when there is none): 0, or -1 with err. */
	int (*report)(void *ctx, int fresh, patron_buf *page, patron_err *err);
	void *report_ctx;
	/* Called once listening, with the port (for --port 0). */
	void (*ready)(void *ctx, unsigned port);
	void *ready_ctx;
} patron_server_opts;

/* Serves until SIGTERM or SIGINT, then stops taking connections, lets the
 * requests under way finish (their writes committed) and returns 0; -1
 * with err when it cannot start. Call with SIGTERM, SIGINT and SIGPIPE
 * blocked in every thread (patron_serve_block_signals). */
int patron_serve(const patron_server_opts *o, patron_err *err);
void patron_serve_block_signals(void);

/* A password for the owner's login, hashed with Argon2id (libsodium's
 * interactive limits) into OUT (crypto_pwhash_STRBYTES). */
int patron_password_hash(const char *password, char *out, size_t cap, patron_err *err);

#endif
