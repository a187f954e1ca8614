#include "bus.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#define BATCH 4096	/* events handled per committed batch */

typedef struct {
	char *name, *pattern;
	patron_bus_fn fn;
	void *ud;
} subscriber;

struct patron_bus {
	patron_store *s;
	subscriber *subs;
	size_t n, cap;
	sqlite3_stmt *fetch, *last, *cursor_get, *cursor_put, *failure,
		*ev, *ev_release, *ev_undo;
};

static int topic_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

/* Words of topic characters (and '*' in patterns) joined by single dots. */
static int shape_ok(const char *s, int star)
{
	if (!*s || strlen(s) > 100)
		return 0;
	int word = 0;
	for (; *s; s++) {
		if (*s == '.') {
			if (!word)
				return 0;
			word = 0;
		} else if (topic_char(*s) || (star && *s == '*')) {
			word++;
		} else {
			return 0;
		}
	}
	return word > 0;
}

int patron_topic_valid(const char *topic) { return shape_ok(topic, 0); }
int patron_pattern_valid(const char *pattern) { return shape_ok(pattern, 1); }

int patron_topic_matches(const char *p, const char *t)
{
	/* Topics never hold GLOB's other special characters, so GLOB is this. */
	return sqlite3_strglob(p, t) == 0;
}

patron_bus *patron_bus_new(patron_store *s)
{
	patron_bus *b = patron_xcalloc(1, sizeof *b);
	b->s = s;
	return b;
}

void patron_bus_free(patron_bus *b)
{
	if (!b)
		return;
	for (size_t i = 0; i < b->n; i++) {
		free(b->subs[i].name);
		free(b->subs[i].pattern);
	}
	free(b->subs);
	sqlite3_stmt *all[] = {b->fetch, b->last, b->cursor_get, b->cursor_put, b->failure,
			       b->ev, b->ev_release, b->ev_undo};
	for (size_t i = 0; i < sizeof all / sizeof *all; i++)
		sqlite3_finalize(all[i]);
	free(b);
}

static sqlite3_stmt *prepared(patron_bus *b, sqlite3_stmt **st, const char *sql)
{
	if (!*st && sqlite3_prepare_v3(patron_store_db(b->s), sql, -1, SQLITE_PREPARE_PERSISTENT,
				       st, NULL) != SQLITE_OK)
		return NULL;
	sqlite3_reset(*st);
	sqlite3_clear_bindings(*st);
	return *st;
}

static int step_done(patron_bus *b, sqlite3_stmt *st, const char *what, patron_err *err)
{
	if (!st || sqlite3_step(st) != SQLITE_DONE) {
		if (st)
			sqlite3_reset(st);
		return patron_store_fail(b->s, err, what);
	}
	return 0;
}

int patron_bus_publish(patron_bus *b, const char *topic, int64_t cid, const char *payload,
		       int64_t occurred_at, int64_t now, patron_err *err)
{
	if (!patron_topic_valid(topic))
		return patron_err_set(err, "topic \"%s\": expected dot-separated words of a-z, "
				      "0-9, _ and - (like order.created)", topic);
	return patron_event_append(b->s, topic, cid, payload, occurred_at, now, err);
}

int patron_bus_subscribe(patron_bus *b, const char *name, const char *pattern,
			 patron_bus_fn fn, void *ud, patron_err *err)
{
	if (!patron_pattern_valid(pattern))
		return patron_err_set(err, "\"%s\": expected a topic or a pattern like order.*",
				      pattern);
	for (size_t i = 0; i < b->n; i++)
		if (strcmp(b->subs[i].name, name) == 0)
			return patron_err_set(err, "two subscribers named \"%s\"", name);
	if (b->n == b->cap) {
		b->cap = b->cap ? 2 * b->cap : 8;
		b->subs = patron_xrealloc(b->subs, b->cap * sizeof *b->subs);
	}
	b->subs[b->n++] = (subscriber){patron_xstrdup(name), patron_xstrdup(pattern), fn, ud};
	return 0;
}

int64_t patron_bus_last(patron_bus *b)
{
	sqlite3_stmt *st = prepared(b, &b->last, "SELECT coalesce(max(id), 0) FROM events");
	int64_t id = st && sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	if (st)
		sqlite3_reset(st);
	return id;
}

int64_t patron_bus_cursor(patron_bus *b, const char *name)
{
	sqlite3_stmt *st = prepared(b, &b->cursor_get,
				    "SELECT event_id FROM cursors WHERE subscriber = ?1");
	if (!st)
		return 0;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	int64_t id = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_reset(st);
	return id;
}

static int record_failure(patron_bus *b, const subscriber *sub, int64_t event_id,
			  const char *msg, int64_t now, patron_err *err)
{
	sqlite3_stmt *st = prepared(b, &b->failure, "INSERT INTO bus_failures(subscriber, "
				    "event_id, error, at) VALUES (?1, ?2, ?3, ?4)");
	if (st) {
		sqlite3_bind_text(st, 1, sub->name, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, event_id);
		sqlite3_bind_text(st, 3, *msg ? msg : "failed", -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 4, now);
	}
	return step_done(b, st, "recording a subscriber's failure", err);
}

/* One event to one handler, inside a savepoint of its own: a handler that
 * fails leaves nothing of what it wrote before failing. */
static int hand_over(patron_bus *b, const subscriber *sub, const patron_event *ev, int64_t now,
		     patron_bus_stats *st, patron_err *err)
{
	if (step_done(b, prepared(b, &b->ev, "SAVEPOINT patron_event"), "delivering", err) < 0)
		return -1;
	patron_err herr = {{0}};
	int rc = sub->fn(sub->ud, ev, &herr);
	if (rc == PATRON_BUS_FAILED || rc == PATRON_BUS_HOLD) {
		if (step_done(b, prepared(b, &b->ev_undo, "ROLLBACK TO patron_event"),
			      "delivering", err) < 0)
			return -1;
	}
	if (step_done(b, prepared(b, &b->ev_release, "RELEASE patron_event"), "delivering",
		      err) < 0)
		return -1;
	if (rc == PATRON_BUS_HOLD)
		return 1;
	st->delivered++;
	if (rc == PATRON_BUS_FAILED) {
		st->failed++;
		if (record_failure(b, sub, ev->id, herr.msg, now, err) < 0)
			return -1;
	}
	return 0;
}

/* One batch after *cursor: 1 when the subscriber is done for now. */
static int deliver_batch(patron_bus *b, const subscriber *sub, int64_t *cursor, int64_t last,
			 int64_t now, patron_bus_stats *st, patron_err *err)
{
	sqlite3_stmt *q = prepared(b, &b->fetch,
				   "SELECT id, topic, customer_id, payload, occurred_at FROM events"
				   " WHERE id > ?1 AND id <= ?2 AND topic GLOB ?3 ORDER BY id"
				   " LIMIT ?4");
	if (!q)
		return patron_store_fail(b->s, err, "reading the event log");
	sqlite3_bind_int64(q, 1, *cursor);
	sqlite3_bind_int64(q, 2, last);
	sqlite3_bind_text(q, 3, sub->pattern, -1, SQLITE_STATIC);
	sqlite3_bind_int(q, 4, BATCH);
	int n = 0, held = 0, rc;
	int64_t at = *cursor;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		patron_event ev = {
			.id = sqlite3_column_int64(q, 0),
			.topic = (const char *)sqlite3_column_text(q, 1),
			.customer_id = sqlite3_column_int64(q, 2),
			.payload = (const char *)sqlite3_column_text(q, 3),
			.occurred_at = sqlite3_column_int64(q, 4),
		};
		n++;
		int h = hand_over(b, sub, &ev, now, st, err);
		if (h < 0) {
			sqlite3_reset(q);
			return -1;
		}
		if (h > 0) {
			held = 1;
			break;
		}
		at = ev.id;
	}
	sqlite3_reset(q);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return patron_store_fail(b->s, err, "reading the event log");
	if (!held && n < BATCH)
		at = last;	/* nothing more matches up to LAST */
	sqlite3_stmt *put = prepared(b, &b->cursor_put,
				     "INSERT INTO cursors(subscriber, event_id, updated_at) VALUES"
				     " (?1, ?2, ?3) ON CONFLICT(subscriber) DO UPDATE SET"
				     " event_id = excluded.event_id, updated_at = excluded.updated_at");
	if (put) {
		sqlite3_bind_text(put, 1, sub->name, -1, SQLITE_STATIC);
		sqlite3_bind_int64(put, 2, at);
		sqlite3_bind_int64(put, 3, now);
	}
	if (step_done(b, put, "moving a cursor", err) < 0)
		return -1;
	*cursor = at;
	if (held)
		st->held++;
	return held || at >= last;
}

int patron_bus_deliver(patron_bus *b, int64_t now, patron_bus_stats *st, patron_err *err)
{
	memset(st, 0, sizeof *st);
	int64_t last = patron_bus_last(b);
	for (size_t i = 0; i < b->n; i++) {
		const subscriber *sub = &b->subs[i];
		int64_t cursor = patron_bus_cursor(b, sub->name);
		int done = cursor >= last;
		while (!done) {
			/* Outside a transaction this takes the write lock first: a
			 * batch reads, then writes. */
			int began;
			if (patron_store_savepoint(b->s, "patron_batch", &began, err) < 0)
				return -1;
			done = deliver_batch(b, sub, &cursor, last, now, st, err);
			if (done < 0) {
				patron_err keep = *err;
				patron_store_undo(b->s, "patron_batch", began);
				*err = keep;
				return -1;
			}
			if (patron_store_release(b->s, "patron_batch", began, err) < 0)
				return -1;
		}
	}
	return 0;
}
