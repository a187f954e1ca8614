/* The inbox: customers' messages into tickets. */
#include <jansson.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "inbox.h"
#include "entities.h"
#include "faq.h"
#include "mail.h"
#include "../import.h"
#include "../value.h"

#define BODY_MAX (256u << 10)	/* what a message's kept text may hold */
#define EVENT_TEXT_MAX 4000	/* the text inquiry.received carries */
#define THREAD_DAYS 30		/* a reply found by its subject: within a month */

enum {
	Q_BY_MID, Q_BY_TOPIC, Q_TICKET, Q_TICKET_NEW, Q_TICKET_IN, Q_TICKET_OUT, Q_MSG_NEW,
	Q_NAMES, Q_SPENT, Q_CHURN, Q_TICKET_ORDER, NQ
};

static const char *const sql[NQ] = {
	[Q_BY_MID] = ("SELECT ticket_id FROM ticket_messages WHERE message_id = ?1"),
	[Q_BY_TOPIC] = ("SELECT id FROM tickets WHERE customer_id = ?1 AND topic = ?2 AND"
		       " updated_at >= ?3 AND (?4 OR status <> 'solved')"
		       " ORDER BY updated_at DESC LIMIT 1"),
	[Q_TICKET] = ("SELECT customer_id, status, priority FROM tickets WHERE id = ?1"),
	[Q_TICKET_NEW] = ("INSERT INTO tickets(customer_id, subject, topic, priority, sentiment,"
			 " opened_at, updated_at, waiting_since, intent, confidence) VALUES (?1, ?2,"
			 " ?3, ?4, ?5, ?6, ?6, ?6, ?7, ?8)"),
	/* a customer's message: the ticket is theirs to answer again */
	[Q_TICKET_IN] = ("UPDATE tickets SET status = 'open', priority = ?2,"
			" sentiment = coalesce(?3, sentiment),"
			" updated_at = max(updated_at, ?4),"
			" intent = coalesce(intent, ?5), confidence = CASE WHEN intent IS NULL"
			"  THEN ?6 ELSE confidence END,"
			" waiting_since = CASE WHEN status = 'open' THEN"
			"  min(coalesce(waiting_since, ?4), ?4) ELSE ?4 END,"
			" solved_at = NULL WHERE id = ?1"),
	/* the shop's answer, sent from its own mail program */
	[Q_TICKET_OUT] = ("UPDATE tickets SET first_response_at = min(coalesce(first_response_at,"
			 " ?2), ?2), updated_at = max(updated_at, ?2),"
			 " status = CASE WHEN status = 'open' AND ?2 >= coalesce(waiting_since, 0)"
			 "  THEN 'waiting' ELSE status END,"
			 " waiting_since = CASE WHEN ?2 >= coalesce(waiting_since, 0) THEN NULL"
			 "  ELSE waiting_since END WHERE id = ?1"),
	[Q_MSG_NEW] = ("INSERT INTO ticket_messages(ticket_id, message_id, direction, sender,"
		      " subject, sent_at, body, attachments, sentiment, refs, recorded_at, entities)"
		      " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)"),
	[Q_TICKET_ORDER] = ("UPDATE tickets SET order_id = coalesce(order_id, ?2) WHERE id = ?1"),
	[Q_NAMES] = ("UPDATE customers SET first_name = ?2, last_name = ?3 WHERE id = ?1"
		    " AND first_name IS NULL AND last_name IS NULL"),
	[Q_SPENT] = ("SELECT spent_cents FROM customer_orders WHERE customer_id = ?1"),
	[Q_CHURN] = ("SELECT value FROM scores WHERE customer_id = ?1 AND name = 'churn'"),
};

struct patron_inbox {
	patron_store *s;
	patron_inbox_opts o;
	sqlite3_stmt *q[NQ];
	int64_t valuable_cents;	/* spending at or above this: the top fifth of customers */
	patron_catalogue *catalogue;	/* the products, to find them named */
};

int patron_inbox_open(patron_store *s, const patron_inbox_opts *o, patron_inbox **out,
		      patron_err *err)
{
	patron_inbox *in = patron_xcalloc(1, sizeof *in);
	in->s = s;
	in->o = *o;
	if (!(in->o.churn_threshold > 0))
		in->o.churn_threshold = 0.5;
	sqlite3 *db = patron_store_db(s);
	for (int i = 0; i < NQ; i++)
		if (sqlite3_prepare_v3(db, sql[i], -1, SQLITE_PREPARE_PERSISTENT, &in->q[i], NULL) !=
		    SQLITE_OK) {
			patron_store_fail(s, err, "reading the inbox");
			patron_inbox_close(in);
			return -1;
		}
	sqlite3_stmt *st;
	in->valuable_cents = INT64_MAX;
	if (sqlite3_prepare_v2(db, "SELECT spent_cents FROM customer_orders ORDER BY spent_cents"
			       " DESC LIMIT 1 OFFSET (SELECT count(*) / 5 FROM customer_orders)",
			       -1, &st, NULL) == SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW)
			in->valuable_cents = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
	}
	in->catalogue = patron_catalogue_load(s);
	*out = in;
	return 0;
}

void patron_inbox_close(patron_inbox *in)
{
	if (!in)
		return;
	patron_catalogue_free(in->catalogue);
	for (int i = 0; i < NQ; i++)
		sqlite3_finalize(in->q[i]);
	free(in);
}

static sqlite3_stmt *q(patron_inbox *in, int i)
{
	sqlite3_reset(in->q[i]);
	sqlite3_clear_bindings(in->q[i]);
	return in->q[i];
}

static int done(patron_inbox *in, sqlite3_stmt *st, patron_err *err)
{
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : patron_store_fail(in->s, err, "storing a message");
}

static void bind_text(sqlite3_stmt *st, int i, const char *s)
{
	if (s)
		sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, i);
}

static int64_t one_int(sqlite3_stmt *st, int64_t none)
{
	int64_t v = sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL
			    ? sqlite3_column_int64(st, 0) : none;
	sqlite3_reset(st);
	return v;
}

/* The ticket a message belongs to by the ids it answers, newest first. */
static int64_t ticket_by_refs(patron_inbox *in, const patron_mail *m)
{
	const char *lists[2] = {m->in_reply_to, m->references};
	for (int l = 0; l < 2; l++) {
		const char *s = lists[l];
		if (!s)
			continue;
		/* References is oldest first: the last id is the closest */
		for (const char *end = s + strlen(s); end > s;) {
			const char *start = end;
			while (start > s && start[-1] != ' ')
				start--;
			sqlite3_stmt *st = q(in, Q_BY_MID);
			sqlite3_bind_text(st, 1, start, (int)(end - start), SQLITE_STATIC);
			int64_t t = one_int(st, 0);
			if (t)
				return t;
			end = start > s ? start - 1 : s;
		}
	}
	return 0;
}

static int is_shop(const patron_inbox *in, const char *addr)
{
	for (size_t i = 0; i < in->o.nshop; i++)
		if (strcmp(in->o.shop[i], addr) == 0)
			return 1;
	return 0;
}

/* "Ada Lovelace" -> "Ada", "Lovelace"; "Lovelace, Ada" -> the same. */
static void split_name(const char *name, char *first, char *last, size_t cap)
{
	first[0] = last[0] = 0;
	if (!name || strchr(name, '@'))
		return;
	const char *comma = strchr(name, ',');
	if (comma) {
		snprintf(last, cap, "%.*s", (int)(comma - name), name);
		const char *f = comma + 1;
		while (*f == ' ')
			f++;
		snprintf(first, cap, "%s", f);
		return;
	}
	const char *sp = strchr(name, ' ');
	if (!sp) {
		snprintf(first, cap, "%s", name);
		return;
	}
	snprintf(first, cap, "%.*s", (int)(sp - name), name);
	while (*sp == ' ')
		sp++;
	snprintf(last, cap, "%s", sp);
}

/* The customer a sender is: found by address, else made (customer.created);
 * named from the display name when they have no name yet. */
static int customer_of(patron_inbox *in, const char *email, const char *name, int64_t when,
		       patron_inbox_stats *st, int64_t *cid, patron_err *err)
{
	*cid = patron_customer_find(in->s, "email", email);
	int known = *cid != 0;
	if (!known && (patron_customer_new(in->s, when, cid, err) < 0 ||
		       patron_identity_add(in->s, *cid, "email", email, err) < 0))
		return -1;
	st->customers_new += !known;
	/* the name the sender signs with, for a customer who has none yet */
	char first[200], last[200];
	split_name(name, first, last, sizeof first);
	if (first[0] || last[0]) {
		sqlite3_stmt *s = q(in, Q_NAMES);
		sqlite3_bind_int64(s, 1, *cid);
		bind_text(s, 2, first[0] ? first : NULL);
		bind_text(s, 3, last[0] ? last : NULL);
		if (done(in, s, err) < 0)
			return -1;
	}
	if (known)
		return 0;
	sqlite3_stmt *ev = patron_store_stmt(in->s, ST_EVENT_CUSTOMER_CREATED);
	sqlite3_bind_int64(ev, 1, *cid);
	sqlite3_bind_text(ev, 2, "email", -1, SQLITE_STATIC);
	sqlite3_bind_text(ev, 3, email, -1, SQLITE_STATIC);
	sqlite3_bind_text(ev, 4, "inbox", -1, SQLITE_STATIC);
	sqlite3_bind_int64(ev, 5, when);
	sqlite3_bind_int64(ev, 6, in->o.now);
	return done(in, ev, err);
}

/* High for an angry message from a customer who matters (the top fifth by
 * spending, or at risk of leaving) and for a very angry one. */
static const char *priority_of(patron_inbox *in, int64_t cid, double sentiment)
{
	if (isnan(sentiment) || sentiment > -0.3)
		return "normal";
	if (sentiment <= -0.6)
		return "high";
	sqlite3_stmt *st = q(in, Q_SPENT);
	sqlite3_bind_int64(st, 1, cid);
	int64_t spent = one_int(st, 0);
	if (spent > 0 && spent >= in->valuable_cents)
		return "high";
	st = q(in, Q_CHURN);
	sqlite3_bind_int64(st, 1, cid);
	int at_risk = sqlite3_step(st) == SQLITE_ROW &&
		      sqlite3_column_double(st, 0) >= in->o.churn_threshold;
	sqlite3_reset(st);
	return at_risk ? "high" : "normal";
}

static int rank(const char *priority)
{
	return strcmp(priority, "high") == 0 ? 2 : strcmp(priority, "normal") == 0 ? 1 : 0;
}

/* S cut to at most MAX bytes, at a character's start. */
static size_t utf8_cut(const char *s, size_t max)
{
	size_t n = strlen(s);
	if (n <= max)
		return n;
	while (max > 0 && ((unsigned char)s[max] & 0xc0) == 0x80)
		max--;
	return max;
}

/* ---- answers written as messages arrive ---- */

static const char *mode_of(const patron_inbox *in, const char *intent)
{
	for (const char *const *p = in->o.auto_reply; intent && p && p[0]; p += 2)
		if (strcmp(p[0], intent) == 0)
			return p[1];
	return "off";
}

static const char *status_words(const char *status)
{
	static const struct {
		const char *status, *words;
	} w[] = {{"paid", "paid"}, {"pending", "waiting for payment"}, {"refunded", "refunded"},
		 {"partially_refunded", "partly refunded"}, {"cancelled", "cancelled"},
		 {"voided", "cancelled"}, {"failed", "not paid (the payment failed)"},
		 {"disputed", "under a payment dispute"}};
	for (size_t i = 0; i < sizeof w / sizeof *w; i++)
		if (strcmp(status, w[i].status) == 0)
			return w[i].words;
	return status;
}

/* The answer to an order-status question: the order ORDER_ID, else the
 * customer's latest, in faq/order_status.md's words or Patron's own. 0
 * when there is no order to speak of. */
static int order_answer(patron_inbox *in, int64_t cid, int64_t order_id, patron_buf *out)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(patron_store_db(in->s),
			       "SELECT o.order_key, o.placed_at, o.total_cents, o.status,"
			       " coalesce(c.first_name, '') FROM orders o JOIN customers c ON c.id ="
			       " o.customer_id WHERE o.customer_id = ?1 AND (?2 = 0 OR o.id = ?2)"
			       " ORDER BY o.placed_at DESC, o.id DESC LIMIT 1", -1, &st,
			       NULL) != SQLITE_OK)
		return 0;
	sqlite3_bind_int64(st, 1, cid);
	sqlite3_bind_int64(st, 2, order_id);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_finalize(st);
		return 0;
	}
	char date[32], money[40], base[8], total[64];
	patron_format_day(sqlite3_column_int64(st, 1), date);
	patron_base_currency(in->s, NULL, base);
	snprintf(total, sizeof total, "%s%s%s", patron_format_money(sqlite3_column_int64(st, 2), money),
		 *base ? " " : "", base);
	const char *vars[] = {"order", (const char *)sqlite3_column_text(st, 0), "order_date", date,
			      "order_total", total, "order_status",
			      status_words((const char *)sqlite3_column_text(st, 3)), "first_name",
			      (const char *)sqlite3_column_text(st, 4), NULL};
	const char *wording = NULL;
	for (size_t i = 0; i < patron_faq_size(in->o.faq); i++)
		if (strcmp(patron_faq_name(in->o.faq, i), "order_status") == 0)
			wording = patron_faq_answer(in->o.faq, i);
	patron_faq_fill(wording ? wording
				: "Hello {{first_name | there}},\n\nyour order {{order}} of "
				  "{{order_date}} ({{order_total}}) is {{order_status}}.",
			vars, out);
	sqlite3_finalize(st);
	return 1;
}

static int audit_draft(patron_inbox *in, int64_t ticket, int64_t cid, const char *source,
		       double score, patron_err *err)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(patron_store_db(in->s), "INSERT INTO audit(rule, trigger, customer_id,"
			       " action, detail, status, at) VALUES ('inbox.auto_reply', 'ticket', ?1,"
			       " 'draft', json_object('ticket', ?2, 'source', ?3, 'score', ?4), 'done',"
			       " ?5)", -1, &st, NULL) != SQLITE_OK)
		return patron_store_fail(in->s, err, "auditing a draft");
	sqlite3_bind_int64(st, 1, cid);
	sqlite3_bind_int64(st, 2, ticket);
	sqlite3_bind_text(st, 3, source, -1, SQLITE_STATIC);
	sqlite3_bind_double(st, 4, score);
	sqlite3_bind_int64(st, 5, in->o.now);
	int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : patron_store_fail(in->s, err, "auditing");
	sqlite3_finalize(st);
	return rc;
}

/* Writes an answer to the customer's message TEXT in ticket TICKET when
 * auto_reply says so for INTENT: sent, or kept as the ticket's draft. */
static int auto_reply(patron_inbox *in, int64_t ticket, int64_t cid, int64_t order_id,
		      const char *intent, double confidence, const char *text,
		      patron_inbox_stats *st, patron_err *err)
{
	const char *mode = mode_of(in, intent);
	if (strcmp(mode, "draft") != 0 && strcmp(mode, "send") != 0)
		return 0;
	patron_buf answer = {0};
	char source[300] = "";
	double score = 0;
	if (strcmp(intent, "order_status") == 0 && order_answer(in, cid, order_id, &answer)) {
		snprintf(source, sizeof source, "order_status");
	} else if (patron_faq_size(in->o.faq)) {
		/* the best entry but faq/order_status.md, which only words an
		 * order's state: without an order its fields would be empty */
		patron_faq_hit hits[2], hit = {0, 0};
		size_t nh = patron_faq_search(in->o.faq, text, hits, 2);
		for (size_t i = nh; i-- > 0;)
			if (strcmp(patron_faq_name(in->o.faq, hits[i].entry), "order_status") != 0)
				hit = hits[i];
		if (hit.score > 0 && hit.score >= in->o.faq_min_score) {
			sqlite3_stmt *q;
			const char *first = "";
			char name[200] = "";
			if (sqlite3_prepare_v2(patron_store_db(in->s), "SELECT coalesce(first_name, '')"
					       " FROM customers WHERE id = ?1", -1, &q, NULL) == SQLITE_OK) {
				sqlite3_bind_int64(q, 1, cid);
				if (sqlite3_step(q) == SQLITE_ROW)
					snprintf(name, sizeof name, "%s", sqlite3_column_text(q, 0));
				sqlite3_finalize(q);
				first = name;
			}
			const char *vars[] = {"first_name", first, NULL};
			patron_faq_fill(patron_faq_answer(in->o.faq, hit.entry), vars, &answer);
			snprintf(source, sizeof source, "faq:%s", patron_faq_name(in->o.faq, hit.entry));
			score = hit.score;
		}
	}
	if (!source[0])
		return 0;	/* nothing fits: the owner answers */
	int withdrawn = 0;
	sqlite3_stmt *q;
	if (in->o.reply && sqlite3_prepare_v2(patron_store_db(in->s), "SELECT NOT granted FROM"
					      " consent WHERE customer_id = ?1 AND channel = ?2", -1,
					      &q, NULL) == SQLITE_OK) {
		sqlite3_bind_int64(q, 1, cid);
		sqlite3_bind_text(q, 2, in->o.reply->channel, -1, SQLITE_STATIC);
		withdrawn = sqlite3_step(q) == SQLITE_ROW && sqlite3_column_int(q, 0);
		sqlite3_finalize(q);
	}
	int capped = 0;	/* frequency_cap, as for any message */
	if (in->o.cap_messages > 0 &&
	    sqlite3_prepare_v2(patron_store_db(in->s), "SELECT count(*) FROM outbox WHERE"
			       " customer_id = ?1 AND created_at > ?2", -1, &q, NULL) == SQLITE_OK) {
		sqlite3_bind_int64(q, 1, cid);
		sqlite3_bind_int64(q, 2, in->o.now - in->o.cap_per);
		capped = sqlite3_step(q) == SQLITE_ROW && sqlite3_column_int64(q, 0) >= in->o.cap_messages;
		sqlite3_finalize(q);
	}
	int rc;
	if (strcmp(mode, "send") == 0 && in->o.reply && confidence >= in->o.auto_confidence &&
	    !withdrawn && !capped) {
		int64_t outbox_id;
		rc = patron_ticket_reply_tx(in->s, ticket, in->o.reply, answer.data, "inbox.auto_reply",
					    in->o.now, &outbox_id, err);
		if (rc == 0)
			st->auto_sent++;
	} else {
		sqlite3_stmt *up;
		rc = sqlite3_prepare_v2(patron_store_db(in->s), "UPDATE tickets SET draft = ?2,"
					" draft_source = ?3, draft_score = ?4 WHERE id = ?1", -1, &up,
					NULL) == SQLITE_OK ? 0 : -1;
		if (rc == 0) {
			sqlite3_bind_int64(up, 1, ticket);
			sqlite3_bind_text(up, 2, answer.data, -1, SQLITE_STATIC);
			sqlite3_bind_text(up, 3, source, -1, SQLITE_STATIC);
			sqlite3_bind_double(up, 4, score);
			rc = sqlite3_step(up) == SQLITE_DONE ? 0 : -1;
			sqlite3_finalize(up);
		}
		rc = rc < 0 ? patron_store_fail(in->s, err, "keeping a draft")
			    : audit_draft(in, ticket, cid, source, score, err);
		if (rc == 0)
			st->drafts++;
	}
	patron_buf_free(&answer);
	return rc;
}

int patron_inbox_add(patron_inbox *in, const char *data, size_t len, patron_inbox_stats *st,
		     patron_err *err)
{
	st->read++;
	patron_mail m;
	patron_mail_parse(data, len, &m);
	int rc = -1;
	patron_buf both = {0};	/* subject and text, as the intent and the entities read them */
	char email[320], mid_buf[80];
	const char *mid = m.message_id;
	if (!mid) {	/* the same bytes get the same made-up id: kept once all the same */
		unsigned char h[16];
		crypto_generichash(h, sizeof h, (const unsigned char *)data, len, NULL, 0);
		char hex[33];
		sodium_bin2hex(hex, sizeof hex, h, sizeof h);
		snprintf(mid_buf, sizeof mid_buf, "<%s@no-message-id.patron>", hex);
		mid = mid_buf;
	}
	sqlite3_stmt *s = q(in, Q_BY_MID);
	sqlite3_bind_text(s, 1, mid, -1, SQLITE_STATIC);
	if (one_int(s, 0)) {
		st->present++;
		rc = 0;
		goto out;
	}
	if (m.automatic) {
		st->automatic++;
		rc = 0;
		goto out;
	}
	if (!m.from_addr || patron_normalize_email(m.from_addr, email, sizeof email) < 0) {
		st->unreadable++;
		rc = 0;
		goto out;
	}
	int64_t when = m.date > 0 ? m.date : in->o.now;
	if (when > in->o.now + 86400)	/* a sender's clock in the future */
		when = in->o.now;
	int from_shop = is_shop(in, email);
	int64_t ticket = ticket_by_refs(in, &m), cid = 0;
	char topic[512];
	patron_mail_base_subject(m.subject, topic, sizeof topic);
	if (from_shop) {
		if (!ticket) {
			st->outside++;
			rc = 0;
			goto out;
		}
		s = q(in, Q_TICKET_OUT);
		sqlite3_bind_int64(s, 1, ticket);
		sqlite3_bind_int64(s, 2, when);
		if (done(in, s, err) < 0)
			goto out;
	} else if (customer_of(in, email, m.from_name, when, st, &cid, err) < 0) {
		goto out;
	}
	double sentiment = NAN;
	if (!from_shop && in->o.sentiment &&
	    in->o.sentiment(in->o.sentiment_ctx, m.reply, &sentiment, err) < 0)
		goto out;
	const char *priority = from_shop ? "normal" : priority_of(in, cid, sentiment);
	/* what it is about and what it names, from its subject and what the
	 * customer wrote */
	patron_buf_printf(&both, "%s\n%s", m.subject, m.reply);
	const char *intent = NULL;
	double confidence = NAN;
	if (!from_shop && in->o.intent) {
		int irc = in->o.intent(in->o.intent_ctx, both.data, &intent, &confidence, err);
		if (irc < 0)
			goto out;
		if (irc == 1) {	/* nothing trained: the import goes on without */
			in->o.intent = NULL;
			st->untrained = 1;
			intent = NULL;
			confidence = NAN;
		}
	}
	int new_ticket = 0;
	if (!from_shop && !ticket && topic[0]) {
		/* no references: the same customer's conversation of this subject */
		char plain[512];
		snprintf(plain, sizeof plain, "%s", m.subject);
		for (char *p = plain; *p; p++)
			*p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
		s = q(in, Q_BY_TOPIC);
		sqlite3_bind_int64(s, 1, cid);
		sqlite3_bind_text(s, 2, topic, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 3, when - THREAD_DAYS * 86400);
		sqlite3_bind_int(s, 4, strcmp(plain, topic) != 0);	/* "Re:": even a solved one */
		ticket = one_int(s, 0);
	}
	if (!from_shop && ticket) {
		s = q(in, Q_TICKET);
		sqlite3_bind_int64(s, 1, ticket);
		if (sqlite3_step(s) == SQLITE_ROW) {
			const char *was = (const char *)sqlite3_column_text(s, 2);
			int solved = strcmp((const char *)sqlite3_column_text(s, 1), "solved") == 0;
			if (!solved && rank(was) > rank(priority))
				priority = rank(was) == 2 ? "high" : "normal";
		}
		sqlite3_reset(s);
		s = q(in, Q_TICKET_IN);
		sqlite3_bind_int64(s, 1, ticket);
		sqlite3_bind_text(s, 2, priority, -1, SQLITE_STATIC);
		if (!isnan(sentiment))
			sqlite3_bind_double(s, 3, sentiment);
		sqlite3_bind_int64(s, 4, when);
		bind_text(s, 5, intent);
		if (intent)
			sqlite3_bind_double(s, 6, confidence);
		if (done(in, s, err) < 0)
			goto out;
	} else if (!from_shop) {
		s = q(in, Q_TICKET_NEW);
		sqlite3_bind_int64(s, 1, cid);
		sqlite3_bind_text(s, 2, m.subject, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 3, topic, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 4, priority, -1, SQLITE_STATIC);
		if (!isnan(sentiment))
			sqlite3_bind_double(s, 5, sentiment);
		sqlite3_bind_int64(s, 6, when);
		bind_text(s, 7, intent);
		if (intent)
			sqlite3_bind_double(s, 8, confidence);
		if (done(in, s, err) < 0)
			goto out;
		ticket = sqlite3_last_insert_rowid(patron_store_db(in->s));
		new_ticket = 1;
		st->tickets_new++;
	}
	/* what it names: the sender's order ties the ticket to it */
	patron_entity ents[16];
	size_t nents = 0;
	int64_t order_id = 0;
	json_t *ej = NULL;
	if (!from_shop) {
		nents = patron_entities(in->s, in->catalogue, cid, both.data, when, ents, 16);
		ej = json_array();
		for (size_t i = 0; i < nents; i++) {
			json_t *e = json_pack("{s:s, s:s}", "kind", ents[i].kind, "value", ents[i].value);
			if (ents[i].id)
				json_object_set_new(e, "id", json_integer(ents[i].id));
			json_array_append_new(ej, e);
			if (!order_id && ents[i].id && strcmp(ents[i].kind, "order") == 0)
				order_id = ents[i].id;
		}
	}
	char *ents_text = ej && nents ? json_dumps(ej, JSON_COMPACT) : NULL;
	if (order_id) {
		s = q(in, Q_TICKET_ORDER);
		sqlite3_bind_int64(s, 1, ticket);
		sqlite3_bind_int64(s, 2, order_id);
		if (done(in, s, err) < 0) {
			free(ents_text);
			json_decref(ej);
			goto out;
		}
	}
	/* what an answer's References start from (RFC 5322 3.6.4) */
	const char *refs = m.references ? m.references : m.in_reply_to;
	size_t body_len = utf8_cut(m.reply, BODY_MAX);
	s = q(in, Q_MSG_NEW);
	sqlite3_bind_int64(s, 1, ticket);
	sqlite3_bind_text(s, 2, mid, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, from_shop ? "out" : "in", -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, email, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 5, m.subject, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 6, when);
	sqlite3_bind_text(s, 7, m.reply, (int)body_len, SQLITE_STATIC);
	sqlite3_bind_int64(s, 8, (int64_t)m.attachments);
	if (!isnan(sentiment))
		sqlite3_bind_double(s, 9, sentiment);
	bind_text(s, 10, refs);
	sqlite3_bind_int64(s, 11, in->o.now);
	bind_text(s, 12, ents_text);
	int mrc = done(in, s, err);
	free(ents_text);
	if (mrc < 0) {
		json_decref(ej);
		goto out;
	}
	int64_t msg = sqlite3_last_insert_rowid(patron_store_db(in->s));
	if (from_shop) {
		st->answers++;
		rc = 0;
		goto out;
	}
	st->added++;
	json_t *p = json_pack("{s:I, s:I, s:s, s:s%, s:s, s:s, s:b, s:I}", "ticket",
			      (json_int_t)ticket, "message", (json_int_t)msg, "subject", m.subject,
			      "text", m.reply, utf8_cut(m.reply, EVENT_TEXT_MAX), "from", email,
			      "priority", priority, "new_ticket", new_ticket, "attachments",
			      (json_int_t)m.attachments);
	json_object_set_new(p, "sentiment", isnan(sentiment) ? json_null() : json_real(sentiment));
	json_object_set_new(p, "entities", ej);
	if (order_id)	/* e.order reads it */
		json_object_set_new(p, "order_id", json_integer(order_id));
	json_object_set_new(p, "intent", intent ? json_string(intent) : json_null());
	json_object_set_new(p, "intent_confidence", intent ? json_real(confidence) : json_null());
	char *payload = json_dumps(p, JSON_COMPACT | JSON_REAL_PRECISION(6));
	json_decref(p);
	rc = patron_event_append(in->s, "inquiry.received", cid, payload, when, in->o.now, err);
	free(payload);
	if (rc == 0 && intent)
		rc = auto_reply(in, ticket, cid, order_id, intent, confidence, both.data, st, err);
out:
	patron_buf_free(&both);
	patron_mail_free(&m);
	return rc;
}

/* ---- a whole source in one transaction ---- */

typedef struct {
	patron_inbox *in;
	patron_inbox_stats *st;
	double start, shown;
	int progress;
} import_ctx;

static int add_one(const char *data, size_t len, void *ud, patron_err *err)
{
	import_ctx *c = ud;
	if (c->progress) {
		double now = patron_clock();
		if (now - c->start > 1 && now - c->shown > 0.5) {
			fprintf(stderr, "\r%llu messages read", (unsigned long long)c->st->read);
			c->shown = now;
		}
	}
	return patron_inbox_add(c->in, data, len, c->st, err);
}

/* One source's messages (READ gives them) in one transaction: all of it
 * or, on an error, nothing. */
typedef int (*source_fn)(patron_store *s, const void *src, patron_mail_fn fn, void *ud,
			 patron_err *err);

static int import_from(patron_store *s, const patron_inbox_opts *o, patron_inbox_stats *st,
		       source_fn read, const void *src, patron_err *err)
{
	memset(st, 0, sizeof *st);
	patron_inbox *in;
	if (patron_store_begin(s, err) < 0)
		return -1;
	if (patron_inbox_open(s, o, &in, err) < 0) {
		patron_store_rollback(s);
		return -1;
	}
	import_ctx c = {.in = in, .st = st, .start = patron_clock(), .progress = o->progress};
	int rc = read(s, src, add_one, &c, err);
	if (c.shown > 0)
		fprintf(stderr, "\r%*s\r", 40, "");
	patron_inbox_close(in);
	if (rc != 0) {
		patron_store_rollback(s);
		return -1;
	}
	return patron_store_commit(s, err);
}

static int read_path(patron_store *s, const void *path, patron_mail_fn fn, void *ud,
		     patron_err *err)
{
	(void)s;
	return patron_mailbox_read(path, fn, ud, err);
}

int patron_inbox_import(patron_store *s, const char *path, const patron_inbox_opts *o,
			patron_inbox_stats *st, patron_err *err)
{
	if (access(path, R_OK) != 0) {
		memset(st, 0, sizeof *st);
		return patron_err_set(err, "%s: cannot read it: %s", path, strerror(errno));
	}
	return import_from(s, o, st, read_path, path, err);
}

typedef struct {
	const char *url, *user, *password;
} imap_source;

/* The mailbox's messages since the last import, and where this one stopped
 * remembered ("UIDVALIDITY:UID" per mailbox and user) in the same
 * transaction. */
static int read_imap(patron_store *s, const void *src, patron_mail_fn fn, void *ud,
		     patron_err *err)
{
	const imap_source *m = src;
	char key[1200];
	snprintf(key, sizeof key, "imap.%s.%s", m->user ? m->user : "", m->url);
	uint64_t validity = 0, last = 0;
	sqlite3_stmt *q = patron_store_stmt(s, ST_SETTING_GET);
	sqlite3_bind_text(q, 1, key, -1, SQLITE_STATIC);
	if (sqlite3_step(q) == SQLITE_ROW &&
	    sscanf((const char *)sqlite3_column_text(q, 0), "%" SCNu64 ":%" SCNu64, &validity,
		   &last) != 2)
		validity = last = 0;
	sqlite3_reset(q);
	if (patron_imap_read(m->url, m->user, m->password, &validity, &last, fn, ud, err) != 0)
		return -1;
	char value[64];
	snprintf(value, sizeof value, "%" PRIu64 ":%" PRIu64, validity, last);
	q = patron_store_stmt(s, ST_SETTING_PUT);
	sqlite3_bind_text(q, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, value, -1, SQLITE_STATIC);
	int rc = sqlite3_step(q) == SQLITE_DONE ? 0 : patron_store_fail(s, err, "remembering the "
									"mailbox");
	sqlite3_reset(q);
	return rc;
}

int patron_inbox_import_imap(patron_store *s, const char *url, const char *user,
			     const char *password, const patron_inbox_opts *o,
			     patron_inbox_stats *st, patron_err *err)
{
	imap_source m = {url, user, password};
	return import_from(s, o, st, read_imap, &m, err);
}
