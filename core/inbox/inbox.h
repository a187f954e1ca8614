/* The inbox: what customers write by email, kept as tickets. A message is
 * matched to its customer by the sender's address (a new customer is made
 * for an unknown one), threaded into a ticket by In-Reply-To and
 * References (else by subject, for the same customer), stored once under
 * its Message-ID, and announced as inquiry.received. Answers the shop sent
 * from its own mail program (its addresses in patron.conf) are kept in
 * their ticket as the first response. */
#ifndef PATRON_INBOX_H
#define PATRON_INBOX_H

#include <stdint.h>

#include "../store.h"

typedef struct {
	int64_t now;
	const char *const *shop;	/* the shop's addresses, normalized */
	size_t nshop;
	/* Scores a text's sentiment (-1 to 1) into *out; NULL when patron.conf
	 * chooses none. An angry message from a customer who matters gets
	 * high priority. */
	int (*sentiment)(void *ctx, const char *text, double *out, patron_err *err);
	void *sentiment_ctx;
	/* Labels what a message is about ("order_status") with its
	 * probability: 0, 1 when nothing is trained yet (then no message is
	 * labelled), -1 with err. NULL when patron.conf chooses none. */
	int (*intent)(void *ctx, const char *text, const char **label, double *confidence,
		      patron_err *err);
	void *intent_ctx;
	double churn_threshold;	/* churn risk that counts as at risk (0.5) */
	/* Answers written as messages arrive (auto_reply in patron.conf): per
	 * intent (AUTO_REPLY: intent, mode pairs, NULL-terminated) "draft"
	 * keeps the answer in the ticket for the owner's approval; "send"
	 * sends it when the intent is at least AUTO_CONFIDENCE sure and the
	 * customer has neither withdrawn email consent nor reached the
	 * frequency cap (else it is a draft). The answer to an order-status
	 * question is the order's state (the order named, else the latest;
	 * faq/order_status.md words it, if present); to others, the best FAQ
	 * entry scoring at least FAQ_MIN_SCORE. */
	const struct patron_faq *faq;
	const char *const *auto_reply;
	double auto_confidence, faq_min_score;
	const struct patron_reply_from *reply;
	int64_t cap_messages, cap_per;	/* frequency_cap: a "send" over it is a draft */
	int progress;		/* a progress line on stderr after a second */
} patron_inbox_opts;

typedef struct {
	uint64_t read;		/* messages read from the source */
	uint64_t added;		/* customers' messages stored */
	uint64_t answers;	/* the shop's answers stored */
	uint64_t present;	/* already in the store */
	uint64_t automatic;	/* bounces, out-of-office answers, lists: left out */
	uint64_t unreadable;	/* no sender address: left out */
	uint64_t outside;	/* the shop's messages that answer no ticket: left out */
	uint64_t tickets_new, customers_new;
	uint64_t auto_sent, drafts;	/* answers sent, and waiting for approval */
	int untrained;		/* the intent classifier has no model yet */
} patron_inbox_stats;

typedef struct patron_inbox patron_inbox;

int patron_inbox_open(patron_store *s, const patron_inbox_opts *o, patron_inbox **out,
		      patron_err *err);
/* Adds the message of LEN bytes at DATA inside the caller's transaction. */
int patron_inbox_add(patron_inbox *in, const char *data, size_t len, patron_inbox_stats *st,
		     patron_err *err);
void patron_inbox_close(patron_inbox *in);

/* Calls FN with each message of PATH in the order it arrived: a Maildir
 * (its new/ and cur/), a folder of message files, an mbox file, or one
 * message. FN's nonzero return stops the reading and is returned. -1 with
 * err when PATH cannot be read. */
typedef int (*patron_mail_fn)(const char *data, size_t len, void *ud, patron_err *err);
int patron_mailbox_read(const char *path, patron_mail_fn fn, void *ud, patron_err *err);

/* Fetches the messages of the IMAP mailbox URL ("imaps://host/INBOX";
 * plain imap:// only to this machine, else STARTTLS is required) as USER
 * with PASSWORD, those with a UID above *LAST_UID, in UID order, each given
 * to FN; *LAST_UID follows the last one read. *VALIDITY is the mailbox's
 * UIDVALIDITY: when the server's differs (the mailbox was made again) all
 * of it is read. A message the owner had not read is marked unread again
 * once fetched (fetching marks it read). */
int patron_imap_read(const char *url, const char *user, const char *password, uint64_t *validity,
		     uint64_t *last_uid, patron_mail_fn fn, void *ud, patron_err *err);

/* Imports the messages of the IMAP mailbox URL not read before (the store
 * remembers the last UID per mailbox) in one transaction. */
int patron_inbox_import_imap(patron_store *s, const char *url, const char *user,
			     const char *password, const patron_inbox_opts *o,
			     patron_inbox_stats *st, patron_err *err);

/* Imports every message of PATH (as patron_mailbox_read reads it) in one
 * transaction: all of it or, on an error, nothing. */
int patron_inbox_import(patron_store *s, const char *path, const patron_inbox_opts *o,
			patron_inbox_stats *st, patron_err *err);

/* Tickets: status "open" (waiting for the shop), "waiting" (on the
 * customer), "solved". */

/* Where the shop's answers go out: CHANNEL (an email channel of
 * patron.conf), FROM its sender's address, DOMAIN its Message-IDs'. */
typedef struct patron_reply_from {
	const char *channel, *from, *domain;
} patron_reply_from;

/* inbox.channel of CFG (default "email"), its sender (normalized into
 * FROM) and the domain of its Message-IDs (the channel's domain option,
 * else the sender's). */
struct patron_config;
void patron_reply_from_config(const struct patron_config *cfg, patron_reply_from *r,
			      char from[320]);

/* Queues the shop's answer TEXT to ticket ID as a reply to the customer's
 * latest message, with In-Reply-To and References so their mail program
 * threads it, keeps it in the ticket, and puts the ticket to waiting (on
 * the customer); any draft goes. *OUTBOX_ID is its row. _tx runs inside
 * the caller's transaction, the answer written by RULE (NULL: the owner). */
int patron_ticket_reply(patron_store *s, int64_t id, const patron_reply_from *via,
			const char *text, int64_t now, int64_t *outbox_id, patron_err *err);
int patron_ticket_reply_tx(patron_store *s, int64_t id, const patron_reply_from *via,
			   const char *text, const char *rule, int64_t now, int64_t *outbox_id,
			   patron_err *err);
/* Sends ticket ID's suggested answer (its draft) as the reply. */
int patron_ticket_approve(patron_store *s, int64_t id, const patron_reply_from *via, int64_t now,
			  int64_t *outbox_id, patron_err *err);
/* Marks ticket ID solved (ticket.solved). */
int patron_ticket_solve(patron_store *s, int64_t id, int64_t now, patron_err *err);

/* Open tickets whose first answer is later than FIRST_RESPONSE seconds
 * after they opened, not said yet: each gets ticket.overdue, once. *N is
 * how many. */
int patron_tickets_overdue(patron_store *s, int64_t first_response, int64_t now, int64_t *n,
			   patron_err *err);

#endif
