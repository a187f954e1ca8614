/* Delivery: drains the outbox through the channel plugins.
 *
 * Messages go in outbox order. Each is checked against consent again (it
 * may have been withdrawn since the rule queued it), rendered from its
 * template, marked `sending` (committed), handed to its channel, and then
 * marked with the answer in one transaction with the event it causes:
 *   delivered            -> sent        message.sent
 *   temporary failure    -> queued again, next_at = now + backoff (doubling,
 *                           with jitter), until `attempts` tries, then dead
 *                           (message.failed)
 *   permanent failure    -> dead        message.failed
 *   recipient refused    -> bounced     message.bounced
 *   no consent any more  -> cancelled
 * A process killed while a message is `sending` leaves it so; the next run
 * sends it again with the same Message-ID (and webhook key), which is how a
 * receiver tells the one message from a repeat. One delivery runs at a time
 * per store (a lock beside it).
 *
 * Per channel, patron.conf sets (channels.NAME):
 *   plugin = "smtp"        the channel plugin (default "outbox-file")
 *   from = "Shop <hi@shop.example>"
 *   rate = 50              messages per second at most (default: no limit)
 *   attempts = 8           tries before a message is dead
 *   backoff = "5m"         the wait after the first failure, doubled after
 *                          each further one, at most backoff_max ("6h")
 *   unsubscribe_url = "https://shop.example/unsubscribe?t={token}"
 * and the plugin's own options. */
#ifndef PATRON_OUTBOX_H
#define PATRON_OUTBOX_H

#include <stdint.h>
#include <stdio.h>

#include "config.h"
#include "plugin.h"
#include "store.h"

typedef struct {
	const patron_config *config;	/* may be NULL */
	const patron_plugins *plugins;
	int64_t now;
	int64_t limit;		/* at most this many messages; 0 for all */
	FILE *out;		/* a line per message with verbose, else NULL */
	int verbose;
} patron_deliver_opts;

typedef struct {
	int64_t sent, retrying, dead, bounced, cancelled;
	int64_t resumed;	/* found `sending` after a crash, sent again */
	int64_t waiting;	/* queued, not yet due */
	int channels_down;
	int other_running;	/* -1 because another patron deliver holds the outbox */
} patron_deliver_stats;

/* 0 when the run went through (failed messages are counted, not errors);
 * -1 when delivery could not run at all. Channel problems are printed to
 * stderr as they happen. */
int patron_deliver(patron_store *s, const patron_deliver_opts *o, patron_deliver_stats *st,
		   patron_err *err);

/* The template folder for messages: the config's `templates`, relative to
 * the config file, else RULES_DIR/templates. Into DIR. */
void patron_templates_dir(const patron_config *c, const char *rules_dir, char *dir, size_t cap);

/* Renders outbox message ID (or, with ID 0, template TEMPLATE_DIR/NAME for
 * customer CID with VARS, a JSON object) as its channel would send it: the
 * whole email with RAW, else the headers that matter and the bodies as
 * they read. For `patron preview`. */
int patron_outbox_render(patron_store *s, const patron_config *c, int64_t now, int64_t id,
			 const char *template_dir, const char *name, int64_t cid,
			 const char *vars, int raw, char **out, patron_err *err);

/* For patron erase and retention: every message that went out to CID (0:
 * anyone) created before BEFORE (0: any time) is handed to its channel's
 * forget, so a channel that keeps copies (the outbox-file channel's .eml
 * files) removes them; *FORGOTTEN counts the copies removed. A channel
 * that cannot be opened or cannot forget is an error. */
int patron_outbox_forget(patron_store *s, const patron_config *cfg, const patron_plugins *ps,
			 int64_t cid, int64_t before, int64_t now, long *forgotten,
			 patron_err *err);

/* retention.events in patron.conf: events and the contents and addresses
 * of delivered messages older than it go (the newest event always stays,
 * so event ids never repeat). The counts into *EVENTS and *MESSAGES; 0
 * when no retention is set. */
int patron_retention(patron_store *s, const patron_config *cfg, const patron_plugins *ps,
		     int64_t now, long *events, long *messages, patron_err *err);

#endif
