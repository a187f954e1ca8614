/* What the shop does with a ticket: answers it, solves it, and hears when
 * an answer is late. */
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "inbox.h"
#include "../config.h"
#include "../mime.h"
#include "../value.h"

#define REFERENCES_MAX 20	/* ids a reply's References keeps, the latest */

/* Runs SQL binding ?1.. from FMT ('i' int64, 't' text or NULL); -1 with
 * err on failure. */
static int run(patron_store *s, const char *sql, patron_err *err, const char *fmt, ...)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(patron_store_db(s), sql, -1, &st, NULL) != SQLITE_OK)
		return patron_store_fail(s, err, "updating the ticket");
	va_list ap;
	va_start(ap, fmt);
	for (int i = 0; fmt[i]; i++) {
		if (fmt[i] == 'i') {
			sqlite3_bind_int64(st, i + 1, va_arg(ap, int64_t));
		} else {
			const char *t = va_arg(ap, const char *);
			if (t)
				sqlite3_bind_text(st, i + 1, t, -1, SQLITE_TRANSIENT);
		}
	}
	va_end(ap);
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : patron_store_fail(s, err, "updating the ticket");
}

static int event(patron_store *s, const char *topic, int64_t cid, json_t *payload, int64_t now,
		 patron_err *err)
{
	char *p = json_dumps(payload, JSON_COMPACT);
	json_decref(payload);
	int rc = patron_event_append(s, topic, cid, p, now, now, err);
	free(p);
	return rc;
}

/* The latest ids of LIST (space-separated) and then ID, at most MAX. */
static void references(const char *list, const char *id, patron_buf *out)
{
	const char *ids[REFERENCES_MAX];
	size_t lens[REFERENCES_MAX], n = 0;
	for (const char *p = list ? list : ""; *p;) {
		while (*p == ' ')
			p++;
		size_t len = strcspn(p, " ");
		if (!len)
			break;
		if (n == REFERENCES_MAX - 1) {
			memmove(ids, ids + 1, (n - 1) * sizeof *ids);
			memmove(lens, lens + 1, (n - 1) * sizeof *lens);
			n--;
		}
		ids[n] = p, lens[n++] = len;
		p += len;
	}
	for (size_t i = 0; i < n; i++)
		patron_buf_printf(out, "%.*s ", (int)lens[i], ids[i]);
	patron_buf_adds(out, id);
}

void patron_reply_from_config(const patron_config *cfg, patron_reply_from *r, char from[320])
{
	const char *channel = cfg ? patron_config_string(cfg, "inbox", "channel") : NULL;
	r->channel = channel ? channel : "email";
	char job[200], addr[320];
	snprintf(job, sizeof job, "channels.%s", r->channel);
	const char *f = cfg ? patron_config_string(cfg, job, "from") : NULL;
	patron_mail_address(f ? f : "patron@localhost", addr, sizeof addr);
	if (patron_normalize_email(addr, from, 320) < 0)
		snprintf(from, 320, "%s", addr);
	r->from = from;
	const char *domain = cfg ? patron_config_string(cfg, job, "domain") : NULL;
	const char *at = strrchr(from, '@');
	r->domain = domain ? domain : at ? at + 1 : "patron.invalid";
}

int patron_ticket_reply_tx(patron_store *s, int64_t id, const patron_reply_from *via,
			   const char *text, const char *rule, int64_t now, int64_t *outbox_id,
			   patron_err *err)
{
	sqlite3 *db = patron_store_db(s);
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db, "SELECT t.customer_id, t.subject, m.message_id, m.refs, m.sender,"
			       " (SELECT count(*) FROM ticket_messages WHERE ticket_id = t.id AND"
			       "  direction = 'out') FROM tickets t LEFT JOIN ticket_messages m ON"
			       " m.id = (SELECT id FROM ticket_messages WHERE ticket_id = t.id AND"
			       "  direction = 'in' ORDER BY sent_at DESC, id DESC LIMIT 1)"
			       " WHERE t.id = ?1", -1, &st, NULL) != SQLITE_OK)
		return patron_store_fail(s, err, "reading the ticket");
	sqlite3_bind_int64(st, 1, id);
	if (sqlite3_step(st) != SQLITE_ROW || sqlite3_column_type(st, 2) == SQLITE_NULL) {
		sqlite3_finalize(st);
		return patron_err_set(err, "there is no ticket %lld (patron inbox lists them)",
				      (long long)id);
	}
	int64_t cid = sqlite3_column_int64(st, 0);
	const char *subject = (const char *)sqlite3_column_text(st, 1);
	patron_buf re = {0}, refs = {0}, mid = {0}, key = {0};
	patron_buf_printf(&re, "%s%s", strncasecmp(subject, "re:", 3) == 0 ? "" : "Re: ", subject);
	const char *parent = (const char *)sqlite3_column_text(st, 2);
	references((const char *)sqlite3_column_text(st, 3), parent, &refs);
	char *parent_id = patron_xstrdup(parent);
	char *to = patron_xstrdup((const char *)sqlite3_column_text(st, 4));
	patron_buf_printf(&key, "reply|%lld|%lld", (long long)id,
			  (long long)sqlite3_column_int64(st, 5) + 1);
	sqlite3_finalize(st);
	patron_message_id(&mid, key.data, via->domain);

	json_t *vars = json_pack("{s:{s:s, s:s, s:s, s:s, s:s}}", "reply", "subject", re.data,
				 "text", text, "in_reply_to", parent_id, "references", refs.data,
				 "message_id", mid.data);
	char *vtext = json_dumps(vars, JSON_COMPACT);
	json_decref(vars);
	int rc = run(s, "INSERT INTO outbox(key, channel, customer_id, address, template, vars,"
		     " rule, created_at) VALUES (?1, ?2, ?3, ?4, 'reply', ?5, ?6, ?7)", err, "ttittti",
		     key.data, via->channel, cid, to, vtext, rule, now);
	*outbox_id = sqlite3_last_insert_rowid(db);
	if (rc == 0)
		rc = run(s, "INSERT INTO ticket_messages(ticket_id, message_id, direction, sender,"
			 " subject, sent_at, body, refs, outbox_id, recorded_at) VALUES (?1, ?2, 'out',"
			 " ?3, ?4, ?5, ?6, ?7, ?8, ?5)", err, "itttitti", id, mid.data, via->from,
			 re.data, now, text, refs.data, *outbox_id);
	if (rc == 0)
		rc = run(s, "UPDATE tickets SET status = 'waiting', waiting_since = NULL,"
			 " first_response_at = coalesce(first_response_at, ?2), updated_at = ?2,"
			 " draft = NULL, draft_source = NULL, draft_score = NULL WHERE id = ?1", err,
			 "ii", id, now);
	if (rc == 0) {
		char detail[120];
		snprintf(detail, sizeof detail, "{\"ticket\":%lld,\"outbox\":%lld}", (long long)id,
			 (long long)*outbox_id);
		rc = run(s, "INSERT INTO audit(rule, trigger, customer_id, action, detail, status, at)"
			 " VALUES (?1, ?2, ?3, 'reply', ?4, 'done', ?5)", err, "ttiti",
			 rule ? rule : "inbox", "ticket", cid, detail, now);
	}
	if (rc == 0)
		rc = event(s, "ticket.replied", cid, json_pack("{s:I, s:I, s:s}", "ticket",
							       (json_int_t)id, "outbox",
							       (json_int_t)*outbox_id, "by",
							       rule ? rule : "the shop"),
			   now, err);
	free(vtext);
	free(parent_id);
	free(to);
	patron_buf_free(&re);
	patron_buf_free(&refs);
	patron_buf_free(&mid);
	patron_buf_free(&key);
	return rc;
}

int patron_ticket_reply(patron_store *s, int64_t id, const patron_reply_from *via,
			const char *text, int64_t now, int64_t *outbox_id, patron_err *err)
{
	if (patron_store_begin(s, err) < 0)
		return -1;
	if (patron_ticket_reply_tx(s, id, via, text, NULL, now, outbox_id, err) < 0) {
		patron_store_rollback(s);
		return -1;
	}
	return patron_store_commit(s, err);
}

int patron_ticket_approve(patron_store *s, int64_t id, const patron_reply_from *via, int64_t now,
			  int64_t *outbox_id, patron_err *err)
{
	if (patron_store_begin(s, err) < 0)
		return -1;
	sqlite3_stmt *st;
	char *draft = NULL;
	if (sqlite3_prepare_v2(patron_store_db(s), "SELECT draft FROM tickets WHERE id = ?1", -1,
			       &st, NULL) == SQLITE_OK) {
		sqlite3_bind_int64(st, 1, id);
		if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
			draft = patron_xstrdup((const char *)sqlite3_column_text(st, 0));
		sqlite3_finalize(st);
	}
	int rc = draft ? patron_ticket_reply_tx(s, id, via, draft, NULL, now, outbox_id, err)
		       : patron_err_set(err, "ticket %lld has no suggested answer waiting (patron "
					"ticket %lld --reply FILE answers it)", (long long)id,
					(long long)id);
	free(draft);
	if (rc < 0) {
		patron_store_rollback(s);
		return -1;
	}
	return patron_store_commit(s, err);
}

int patron_ticket_solve(patron_store *s, int64_t id, int64_t now, patron_err *err)
{
	if (patron_store_begin(s, err) < 0)
		return -1;
	sqlite3_stmt *st;
	int64_t cid = 0;
	if (sqlite3_prepare_v2(patron_store_db(s), "SELECT customer_id FROM tickets WHERE id = ?1",
			       -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_int64(st, 1, id);
		if (sqlite3_step(st) == SQLITE_ROW)
			cid = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
	}
	if (!cid) {
		patron_store_rollback(s);
		return patron_err_set(err, "there is no ticket %lld (patron inbox lists them)",
				      (long long)id);
	}
	int rc = run(s, "UPDATE tickets SET status = 'solved', solved_at = ?2, waiting_since = NULL,"
		     " updated_at = ?2 WHERE id = ?1", err, "ii", id, now);
	if (rc == 0)
		rc = event(s, "ticket.solved", cid, json_pack("{s:I}", "ticket", (json_int_t)id), now,
			   err);
	if (rc < 0) {
		patron_store_rollback(s);
		return -1;
	}
	return patron_store_commit(s, err);
}

int patron_tickets_overdue(patron_store *s, int64_t first_response, int64_t now, int64_t *n,
			   patron_err *err)
{
	*n = 0;
	if (patron_store_begin(s, err) < 0)
		return -1;
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(patron_store_db(s),
			       "SELECT id, customer_id, subject, priority, opened_at FROM tickets"
			       " WHERE status = 'open' AND first_response_at IS NULL AND overdue_at"
			       " IS NULL AND opened_at <= ?1 ORDER BY opened_at, id", -1, &st,
			       NULL) != SQLITE_OK) {
		patron_store_rollback(s);
		return patron_store_fail(s, err, "reading the tickets");
	}
	sqlite3_bind_int64(st, 1, now - first_response);
	int rc = 0, step;
	while (rc == 0 && (step = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t id = sqlite3_column_int64(st, 0), cid = sqlite3_column_int64(st, 1);
		int64_t opened = sqlite3_column_int64(st, 4);
		json_t *p = json_pack("{s:I, s:s, s:s, s:I}", "ticket", (json_int_t)id, "subject",
				      (const char *)sqlite3_column_text(st, 2), "priority",
				      (const char *)sqlite3_column_text(st, 3), "hours_waiting",
				      (json_int_t)((now - opened) / 3600));
		rc = run(s, "UPDATE tickets SET overdue_at = ?2 WHERE id = ?1", err, "ii", id, now);
		if (rc == 0)
			rc = event(s, "ticket.overdue", cid, p, now, err);
		else
			json_decref(p);
		(*n)++;
	}
	if (rc == 0 && step != SQLITE_DONE)
		rc = patron_store_fail(s, err, "reading the tickets");
	sqlite3_finalize(st);
	if (rc < 0) {
		patron_store_rollback(s);
		return -1;
	}
	return patron_store_commit(s, err);
}
