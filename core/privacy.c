#include "privacy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "outbox.h"
#include "profile.h"
#include "util.h"
#include "value.h"

/* The rows SQL gives for ID (bound as ?1), each an object by column name. */
static json_t *rows(patron_store *s, const char *sql, int64_t id)
{
	json_t *out = json_array();
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(patron_store_db(s), sql, -1, &st, NULL) != SQLITE_OK)
		return out;
	sqlite3_bind_int64(st, 1, id);
	while (sqlite3_step(st) == SQLITE_ROW) {
		json_t *o = json_object();
		for (int c = 0; c < sqlite3_column_count(st); c++)
			json_object_set_new(o, sqlite3_column_name(st, c), patron_column_json(st, c));
		json_array_append_new(out, o);
	}
	sqlite3_finalize(st);
	return out;
}

json_t *patron_person_export(patron_store *s, int64_t cid, int64_t now)
{
	json_t *customer = rows(s, "SELECT * FROM customers WHERE id = ?1", cid);
	if (!json_array_size(customer)) {
		json_decref(customer);
		return NULL;
	}
	char when[32];
	json_t *doc = json_pack("{s:i, s:s, s:O}", "patron_export", 1, "exported_at",
				patron_format_date(now, when), "customer", json_array_get(customer, 0));
	json_decref(customer);
	static const struct {
		const char *key, *sql;
	} parts[] = {
		{"identities", "SELECT kind, value FROM identities WHERE customer_id = ?1 ORDER BY 1, 2"},
		{"attributes", "SELECT name, value FROM attributes WHERE customer_id = ?1 ORDER BY 1"},
		{"tags", "SELECT tag, created_at FROM tags WHERE customer_id = ?1 ORDER BY 1"},
		{"consent", "SELECT channel, granted, source, updated_at FROM consent WHERE "
			    "customer_id = ?1 ORDER BY 1"},
		{"orders", "SELECT * FROM orders WHERE customer_id = ?1 ORDER BY placed_at, id"},
		{"order_lines", "SELECT l.*, p.sku, p.name AS product FROM order_lines l JOIN orders o "
				"ON o.id = l.order_id JOIN products p ON p.id = l.product_id WHERE "
				"o.customer_id = ?1 ORDER BY l.order_id, l.line_no"},
		{"feedback", "SELECT * FROM feedback WHERE customer_id = ?1 ORDER BY received_at, id"},
		{"events", "SELECT id, topic, payload, occurred_at, recorded_at FROM events WHERE "
			   "customer_id = ?1 ORDER BY id"},
		{"messages", "SELECT * FROM outbox WHERE customer_id = ?1 ORDER BY id"},
		{"scores", "SELECT name, value, label, model, computed_at FROM scores WHERE "
			   "customer_id = ?1 ORDER BY name"},
		{"recommendations", "SELECT rank, product_id, score, model, computed_at FROM "
				    "recommendations WHERE customer_id = ?1 ORDER BY rank"},
		{"audit", "SELECT * FROM audit WHERE customer_id = ?1 ORDER BY id"},
		{"tickets", "SELECT * FROM tickets WHERE customer_id = ?1 ORDER BY id"},
		{"survey_answers", "SELECT * FROM survey_answers WHERE customer_id = ?1 ORDER BY id"},
		{"ticket_messages", "SELECT m.* FROM ticket_messages m JOIN tickets t ON t.id ="
				    " m.ticket_id WHERE t.customer_id = ?1 ORDER BY m.ticket_id,"
				    " m.sent_at, m.id"},
	};
	for (size_t i = 0; i < sizeof parts / sizeof *parts; i++)
		json_object_set_new(doc, parts[i].key, rows(s, parts[i].sql, cid));
	return doc;
}

/* Runs SQL with ?1 = A, ?2 = B and ?3 = TEXT (those it names: SQLite
 * takes a value for a number below the highest used); the rows it
 * changed, or -1. */
static long change(patron_store *s, const char *sql, int64_t a, int64_t b, const char *text)
{
	sqlite3 *db = patron_store_db(s);
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	int params = sqlite3_bind_parameter_count(st);
	if (params >= 1)
		sqlite3_bind_int64(st, 1, a);
	if (params >= 2)
		sqlite3_bind_int64(st, 2, b);
	if (params >= 3 && text)
		sqlite3_bind_text(st, 3, text, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? (long)sqlite3_changes(db) : -1;
}

int patron_person_erase(patron_store *s, int64_t cid, const patron_config *cfg,
			const patron_plugins *ps, int64_t now, patron_erase_stats *st,
			patron_err *err)
{
	memset(st, 0, sizeof *st);
	sqlite3 *db = patron_store_db(s);
	/* The copies channels keep of what they sent go first, while the
	 * outbox still says which they are; a channel that cannot forget
	 * stops the erasure before anything in the store changes. */
	if (patron_outbox_forget(s, cfg, ps, cid, 0, now, &st->files, err) < 0)
		return -1;
	/* Deleted and overwritten bytes are zeroed, not left in free space. */
	if (patron_store_exec(s, "PRAGMA secure_delete = ON", err) < 0 ||
	    patron_store_begin(s, err) < 0)
		return -1;
	/* The addresses, to find them in other rows' text. */
	json_t *values = rows(s, "SELECT value FROM identities WHERE customer_id = ?1", cid);
	int64_t created = 0;
	int buyer = 0;
	sqlite3_stmt *q;
	if (sqlite3_prepare_v2(db, "SELECT created_at, EXISTS (SELECT 1 FROM orders WHERE "
			       "customer_id = ?1) FROM customers WHERE id = ?1", -1, &q,
			       NULL) == SQLITE_OK) {
		sqlite3_bind_int64(q, 1, cid);
		if (sqlite3_step(q) == SQLITE_ROW) {
			created = sqlite3_column_int64(q, 0);
			buyer = sqlite3_column_int(q, 1);
		}
		sqlite3_finalize(q);
	}
	/* Orders need someone to belong to: an anonymous customer, made only
	 * for a person who has orders (else t stays 0 and no one is made). */
	long n = buyer ? change(s, "INSERT INTO customers(first_name, last_name, created_at, "
				"updated_at) VALUES (NULL, NULL, ?1, ?2)", created, now, NULL) : 0;
	st->tombstone = buyer && n > 0 ? sqlite3_last_insert_rowid(db) : 0;
	int64_t t = st->tombstone;
	long counts[14];
	static const char *const steps[] = {
		/* The shop's figures stay: orders move to the anonymous customer. */
		"UPDATE orders SET customer_id = ?2 WHERE customer_id = ?1",
		"UPDATE events SET payload = '{}', customer_id = nullif(?2, 0) WHERE customer_id = ?1",
		("UPDATE outbox SET address = '', vars = '{}', last_error = NULL, customer_id = NULL "
		 "WHERE customer_id = ?1"),
		"UPDATE audit SET detail = '{}', customer_id = NULL WHERE customer_id = ?1",
		"DELETE FROM feedback WHERE customer_id = ?1",
		/* what they wrote to the shop, and its answers (messages go with
		 * their tickets) */
		"DELETE FROM tickets WHERE customer_id = ?1",
		"DELETE FROM survey_answers WHERE customer_id = ?1",
		("DELETE FROM score_rows WHERE set_id IN (SELECT set_id FROM score_names) AND "
		 "customer_id = ?1"),
		"DELETE FROM recommendation_lists WHERE customer_id = ?1",
		"DELETE FROM tags WHERE customer_id = ?1",
		"DELETE FROM attributes WHERE customer_id = ?1",
		"DELETE FROM consent WHERE customer_id = ?1",
		"DELETE FROM identities WHERE customer_id = ?1",
		"DELETE FROM customers WHERE id = ?1",
	};
	for (size_t i = 0; n >= 0 && i < sizeof steps / sizeof *steps; i++)
		n = counts[i] = change(s, steps[i], cid, t, NULL);
	/* Other rows that spell out one of the person's addresses. */
	size_t k;
	json_t *v;
	json_array_foreach(values, k, v) {
		const char *text = json_string_value(json_object_get(v, "value"));
		if (n < 0 || !text)
			continue;
		long e = change(s, "UPDATE events SET payload = '{}' WHERE instr(payload, ?3) > 0",
				0, 0, text);
		long b = e < 0 ? -1 : change(s, "UPDATE bus_failures SET error = '(erased)' WHERE "
					     "instr(error, ?3) > 0", 0, 0, text);
		long a = b < 0 ? -1 : change(s, "UPDATE audit SET detail = '{}', reason = NULL WHERE "
					     "instr(detail, ?3) > 0 OR instr(coalesce(reason, ''), ?3) "
					     "> 0", 0, 0, text);
		/* a message they wrote into someone else's conversation */
		n = a < 0 ? -1 : change(s, "UPDATE ticket_messages SET sender = '(erased)', body ="
					" '(erased)', subject = '' WHERE sender = ?3", 0, 0, text);
		if (e > 0)
			counts[1] += e;
	}
	if (n >= 0) {
		st->identities = json_array_size(values);
		st->orders = counts[0], st->events = counts[1], st->messages = counts[2];
		st->audit = counts[3], st->feedback = counts[4], st->scores = counts[7];
		st->tickets = counts[5];
		char detail[300];
		snprintf(detail, sizeof detail, "{\"identities\":%ld,\"orders\":%ld,\"events\":%ld,"
			 "\"messages\":%ld,\"files\":%ld,\"audit\":%ld,\"feedback\":%ld,"
			 "\"tickets\":%ld}",
			 st->identities, st->orders, st->events, st->messages, st->files, st->audit,
			 st->feedback, st->tickets);
		n = change(s, "INSERT INTO erasures(at, tombstone, counts) VALUES (?1, nullif(?2, 0), "
			   "?3)", now,
			   t, detail);
	}
	json_decref(values);
	if (n < 0) {
		patron_store_fail(s, err, "erasing");
		patron_store_rollback(s);
		return -1;
	}
	if (patron_store_commit(s, err) < 0)
		return -1;
	/* Out of the write-ahead log, then the file rewritten: no page of the
	 * old file, free or not, keeps an erased byte. */
	return patron_store_exec(s, "PRAGMA wal_checkpoint(TRUNCATE); VACUUM; "
				 "PRAGMA wal_checkpoint(TRUNCATE)", err);
}
