#include "store.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "schema.sql.h"
#include "value.h"


struct patron_store {
	sqlite3 *db;
	char *path;
	int busy_ms;
	sqlite3_stmt *stmt[ST_COUNT_];
	void (*guard)(void *);	/* patron_store_guard's */
	void *guard_arg;
};

/* The connection, once the guard (if any) has let this thread have it. */
static sqlite3 *db_of(patron_store *s)
{
	if (s->guard)
		s->guard(s->guard_arg);
	return s->db;
}

void patron_store_guard(patron_store *s, void (*guard)(void *), void *arg)
{
	s->guard = guard;
	s->guard_arg = arg;
}

static const char *const stmt_sql[ST_COUNT_] = {
	[ST_IDENTITY_FIND] = "SELECT customer_id FROM identities WHERE kind = ?1 AND value = ?2",
	[ST_IDENTITY_ADD] = "INSERT OR IGNORE INTO identities(kind, value, customer_id) "
			    "VALUES (?1, ?2, ?3)",
	[ST_CUSTOMER_NEW] = "INSERT INTO customers(created_at, updated_at) VALUES (?1, ?1)",
	/* Only a name the file actually gives replaces the stored one. */
	[ST_CUSTOMER_NAMES] = "UPDATE customers SET first_name = coalesce(?2, first_name),"
			      " last_name = coalesce(?3, last_name), updated_at = ?4 "
			      "WHERE id = ?1 AND (first_name IS NOT coalesce(?2, first_name)"
			      " OR last_name IS NOT coalesce(?3, last_name))",
	[ST_CUSTOMER_EXISTS] = "SELECT 1 FROM customers WHERE id = ?1",
	[ST_CUSTOMER_EARLIER] = "UPDATE customers SET created_at = ?2 "
				"WHERE id = ?1 AND created_at > ?2",
	[ST_ATTR_DEF_GET] = "SELECT type FROM attribute_defs WHERE name = ?1",
	[ST_ATTR_DEF_PUT] = "INSERT INTO attribute_defs(name, type) VALUES (?1, ?2) "
			    "ON CONFLICT(name) DO UPDATE SET type = excluded.type",
	[ST_ATTR_PUT] = "INSERT INTO attributes(customer_id, name, value) VALUES (?1, ?2, ?3) "
			"ON CONFLICT(customer_id, name) DO UPDATE SET value = excluded.value "
			"WHERE value IS NOT excluded.value",
	[ST_TAG_ADD] = "INSERT OR IGNORE INTO tags(customer_id, tag, created_at) VALUES (?1, ?2, ?3)",
	[ST_CONSENT_PUT] = "INSERT INTO consent(customer_id, channel, granted, source, updated_at) "
			   "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT(customer_id, channel) DO UPDATE "
			   "SET granted = excluded.granted, source = excluded.source,"
			   " updated_at = excluded.updated_at WHERE granted IS NOT excluded.granted"
			   /* a customer's own unsubscribe outranks a later import's yes */
			   " AND NOT (consent.source = 'unsubscribe' AND excluded.source = 'import')",
	[ST_PRODUCT_FIND] = "SELECT id, name IS ?2 AND category IS ?3 AND price_cents IS ?4 "
			    "FROM products WHERE sku = ?1",
	[ST_PRODUCT_NEW] = "INSERT INTO products(sku, name, category, price_cents, created_at) "
			   "VALUES (?1, ?2, ?3, ?4, ?5)",
	[ST_PRODUCT_UPDATE] = "UPDATE products SET name = coalesce(?2, name),"
			      " category = coalesce(?3, category),"
			      " price_cents = coalesce(?4, price_cents) WHERE id = ?1",
	/* DO NOTHING: an order this import already wrote on rows further up; the
	 * caller sees no change and adds its lines to it. */
	/* What an import compares a re-exported order with. */
	[ST_ORDER_GET] = "SELECT id, customer_id, status, revenue, total_cents, amount_cents,"
			 " gross_cents, refunded_cents, disputed_cents, coalesce(currency, ''),"
			 " placed_at, (SELECT count(*) FROM order_lines WHERE order_id = o.id),"
			 " (SELECT coalesce(sum(amount_cents), 0) FROM order_lines"
			 " WHERE order_id = o.id) FROM orders o WHERE source = ?1 AND order_key = ?2",
	/* DO NOTHING: an order this import already wrote on rows further up; the
	 * caller sees no change and adds its lines to it. */
	[ST_ORDER_NEW] = "INSERT INTO orders(source, order_key, customer_id, placed_at,"
			 " total_cents, currency, status, revenue, amount_cents, gross_cents,"
			 " refunded_cents, disputed_cents) "
			 "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)"
			 " ON CONFLICT DO NOTHING",
	[ST_ORDER_UPDATE] = "UPDATE orders SET customer_id = ?2, placed_at = ?3, total_cents = ?4,"
			    " currency = ?5, status = ?6, revenue = ?7, amount_cents = ?8,"
			    " gross_cents = ?9, refunded_cents = ?10, disputed_cents = ?11,"
			    " updated_at = ?12 WHERE id = ?1",
	/* An order's lines in order, to compare a re-export's with; and the
	 * lines from a place on, which a changed re-export replaces. */
	[ST_ORDER_LINES] = "SELECT product_id, quantity, unit_cents, amount_cents FROM order_lines"
			   " WHERE order_id = ?1 ORDER BY line_no",
	[ST_ORDER_LINES_FROM] = "DELETE FROM order_lines WHERE order_id = ?1 AND line_no > ?2",
	[ST_ORDER_LAST_LINE] = "SELECT coalesce(max(line_no), 0) FROM order_lines WHERE order_id = ?1",
	/* Lines of an order met again further down a file, when the order's
	 * money is the sum of its lines. */
	[ST_ORDER_ADD_TOTAL] = "UPDATE orders SET total_cents = total_cents + ?2,"
			       " amount_cents = amount_cents + ?3, gross_cents = gross_cents + ?3"
			       " WHERE id = ?1",
	[ST_LINE_NEW] = "INSERT INTO order_lines(order_id, line_no, product_id, quantity,"
			" unit_cents, amount_cents) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	[ST_FEEDBACK_FIND] = "SELECT id FROM feedback WHERE customer_id = ?1 AND received_at = ?2"
			     " AND body = ?3",
	[ST_FEEDBACK_NEW] = "INSERT INTO feedback(customer_id, received_at, rating, body, sentiment)"
			    " VALUES (?1, ?2, ?3, ?4, ?5)",
	[ST_EVENT_NEW] = "INSERT INTO events(topic, customer_id, payload, occurred_at, recorded_at) "
			 "VALUES (?1, ?2, coalesce(?3, '{}'), ?4, ?5)",
	/* The import's events build their payloads here, in one statement each. */
	[ST_EVENT_CUSTOMER_CREATED] = "INSERT INTO events(topic, customer_id, payload, occurred_at,"
				      " recorded_at) VALUES ('customer.created', ?1,"
				      " json_object(?2, ?3, 'source', ?4), ?5, ?6)",
	/* The order row has the rest (status, currency, lines); the payload
	 * points at it, since the log holds one event per order ever made. */
	[ST_EVENT_ORDER_CREATED] = "INSERT INTO events(topic, customer_id, payload, occurred_at,"
				   " recorded_at) VALUES ('order.created', ?1, json_object('order_id',"
				   " ?2, 'order', ?3, 'total_cents', ?4), ?5, ?6)",
	/* order.updated, order.refunded or order.cancelled: OLD and NEW are
	 * JSON objects of the values that changed. */
	[ST_EVENT_ORDER_CHANGED] = "INSERT INTO events(topic, customer_id, payload, occurred_at,"
				   " recorded_at) VALUES (?1, ?2, json_object('order_id', ?3,"
				   " 'order', ?4, 'old', json(?5), 'new', json(?6)), ?7, ?8)",
	[ST_RATE_FIND] = "SELECT rate FROM rates WHERE currency = ?1 AND day <= ?2 "
			 "ORDER BY day DESC LIMIT 1",
	[ST_RATE_PUT] = "INSERT INTO rates(currency, day, rate) VALUES (?1, ?2, ?3) "
			"ON CONFLICT(currency, day) DO UPDATE SET rate = excluded.rate",
	[ST_SETTING_GET] = "SELECT value FROM settings WHERE name = ?1",
	[ST_SETTING_PUT] = "INSERT INTO settings(name, value) VALUES (?1, ?2) "
			   "ON CONFLICT(name) DO UPDATE SET value = excluded.value",
	[ST_EVENT_FEEDBACK_RECEIVED] = "INSERT INTO events(topic, customer_id, payload, occurred_at,"
				       " recorded_at) VALUES ('feedback.received', ?1,"
				       " json_object('feedback_id', ?2, 'rating', ?3, 'sentiment', ?6),"
				       " ?4, ?5)",
	[ST_MODEL_SAVE] = "INSERT INTO models(name, version, plugin_version, params, trained_at, as_of) "
			  "SELECT ?1, coalesce(max(version), 0) + 1, ?2, ?3, ?4, ?5 FROM models "
			  "WHERE name = ?1 RETURNING version",
	/* The version `patron models use` pinned, else the newest. */
	[ST_MODEL_LOAD] = "SELECT params, version FROM models WHERE name = ?1 ORDER BY version ="
			  " (SELECT CAST(value AS INTEGER) FROM settings WHERE name = 'model.' || ?1)"
			  " DESC, version DESC LIMIT 1",
	[ST_IMPORT_LOG] = "INSERT INTO imports(kind, file, rows, rejected, at) "
			  "VALUES (?1, ?2, ?3, ?4, ?5)",
};

int patron_store_fail(patron_store *s, patron_err *err, const char *what)
{
	return patron_err_set(err, "%s: %s: %s", s->path, what, sqlite3_errmsg(db_of(s)));
}

int patron_store_exec(patron_store *s, const char *sql, patron_err *err)
{
	char *msg = NULL;
	if (sqlite3_exec(db_of(s), sql, NULL, NULL, &msg) != SQLITE_OK) {
		patron_err_set(err, "%s: %s", s->path, msg ? msg : sqlite3_errmsg(db_of(s)));
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

static int migrate_steps(patron_store *s, int version, int latest, patron_err *err);

static int migrate(patron_store *s, patron_err *err)
{
	sqlite3_stmt *st;
	int version = 0;
	if (sqlite3_prepare_v2(db_of(s), "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
		return patron_store_fail(s, err, "reading the schema version");
	if (sqlite3_step(st) == SQLITE_ROW)
		version = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);

	int latest = (int)(sizeof patron_migrations / sizeof *patron_migrations);
	if (version > latest)
		return patron_err_set(err, "%s: the store has schema version %d, this patron "
				      "knows up to %d: use a newer patron", s->path, version, latest);
	if (version == latest)
		return 0;
	/* Off while migrating: a migration that rebuilds a table drops the old
	 * one, which with foreign keys on would delete the rows that refer to
	 * it (order_lines cascade from orders). It can only change outside a
	 * transaction, and the rebuilt table keeps every id. */
	if (patron_store_exec(s, "PRAGMA foreign_keys = OFF", err) < 0)
		return -1;
	int rc = migrate_steps(s, version, latest, err);
	if (patron_store_exec(s, "PRAGMA foreign_keys = ON", rc < 0 ? NULL : err) < 0)
		return -1;
	return rc;
}

static int migrate_steps(patron_store *s, int version, int latest, patron_err *err)
{
	if (patron_store_begin(s, err) < 0)
		return -1;
	for (int v = version; v < latest; v++) {
		char pragma[64];
		snprintf(pragma, sizeof pragma, "PRAGMA user_version = %d", v + 1);
		if (patron_store_exec(s, patron_migrations[v], err) < 0 ||
		    patron_store_exec(s, pragma, err) < 0) {
			patron_store_rollback(s);
			return -1;
		}
	}
	return patron_store_commit(s, err);
}

int patron_store_open(const char *path, patron_store **out, patron_err *err)
{
	/* Patron reads no memory statistics; keeping them costs a global mutex
	 * on every allocation. Refused (harmlessly) once SQLite is running. */
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
	patron_store *s = calloc(1, sizeof *s);
	if (!s)
		return patron_err_set(err, "out of memory");
	s->path = patron_xstrdup(path);
	/* NOMUTEX: a store is used by one thread at a time, so SQLite's own
	 * per-call locking is pure cost. */
	if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
			    SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		patron_err_set(err, "%s: cannot open the store: %s", path,
			       s->db ? sqlite3_errmsg(s->db) : "out of memory");
		patron_store_close(s);
		return -1;
	}
	s->busy_ms = PATRON_BUSY_MS;
	sqlite3_busy_timeout(db_of(s), s->busy_ms);
	/* WAL with synchronous=NORMAL: a committed transaction survives a crash
	 * of the process; only a power cut can lose the last commits, never
	 * corrupt the file. */
	/* 16 KiB pages (new stores only; an existing file keeps its own): bulk
	 * imports and full scans move fewer, fuller pages. */
	char pragmas[256];
	snprintf(pragmas, sizeof pragmas, "PRAGMA page_size = 16384; PRAGMA journal_mode = WAL;"
		 " PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;"
		 " PRAGMA cache_size = -%d; PRAGMA temp_store = MEMORY;", PATRON_CACHE_KIB);
	if (patron_store_exec(s, pragmas, err) < 0 ||
	    migrate(s, err) < 0) {
		if (strstr(err->msg, "file is not a database"))
			patron_err_set(err, "%s: not a Patron store (not an SQLite database)", path);
		patron_store_close(s);
		return -1;
	}
	*out = s;
	return 0;
}

void patron_store_close(patron_store *s)
{
	if (!s)
		return;
	for (int i = 0; i < ST_COUNT_; i++)
		sqlite3_finalize(s->stmt[i]);
	sqlite3_close(s->db);
	free(s->path);
	free(s);
}

sqlite3 *patron_store_db(patron_store *s) { return db_of(s); }
const char *patron_store_path(const patron_store *s) { return s->path; }

sqlite3_stmt *patron_store_stmt(patron_store *s, patron_stmt_id id)
{
	if (s->guard)
		s->guard(s->guard_arg);
	sqlite3_stmt *st = s->stmt[id];
	if (!st) {
		if (sqlite3_prepare_v3(db_of(s), stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT, &st,
				       NULL) != SQLITE_OK) {
			/* The SQL is ours and the schema migrated: this is a bug. */
			fprintf(stderr, "patron: internal error preparing statement %d: %s\n",
				(int)id, sqlite3_errmsg(db_of(s)));
			abort();
		}
		s->stmt[id] = st;
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return st;
}

int patron_store_bulk(patron_store *s, int on)
{
	sqlite3_stmt *st;
	int done = 0;
	if (sqlite3_prepare_v2(db_of(s), on ? "PRAGMA journal_mode = DELETE" : "PRAGMA journal_mode = WAL",
			       -1, &st, NULL) != SQLITE_OK)
		return 0;
	/* Leaving the WAL needs the store to ourselves: ask once, do not wait
	 * for others to go. Coming back waits as usual. */
	if (on)
		sqlite3_busy_timeout(db_of(s), 0);
	if (sqlite3_step(st) == SQLITE_ROW)
		done = strcmp((const char *)sqlite3_column_text(st, 0), on ? "delete" : "wal") == 0;
	sqlite3_finalize(st);
	sqlite3_busy_timeout(db_of(s), s->busy_ms);
	return done;
}

int patron_store_lock(patron_store *s, const char *what, int wait, patron_err *err)
{
	return patron_store_lock_path(s->path, what, wait, err);
}

int patron_store_lock_path(const char *store, const char *what, int wait, patron_err *err)
{
	char path[4200];
	snprintf(path, sizeof path, "%s.%s.lock", store, what);
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return patron_err_set(err, "%s: cannot open: %s", path, strerror(errno));
	int rc;
	while ((rc = flock(fd, LOCK_EX | (wait ? 0 : LOCK_NB))) < 0 && errno == EINTR)
		;
	if (rc < 0) {
		int e = errno;
		close(fd);
		if (e == EWOULDBLOCK) {
			patron_err_set(err, "another patron %s is running on %s", what, store);
			return PATRON_LOCK_HELD;
		}
		return patron_err_set(err, "%s: cannot lock: %s", path, strerror(e));
	}
	return fd;
}

void patron_store_busy(patron_store *s, int ms)
{
	s->busy_ms = ms;
	sqlite3_busy_timeout(db_of(s), ms);
}

int patron_store_savepoint(patron_store *s, const char *name, int *began, patron_err *err)
{
	*began = sqlite3_get_autocommit(db_of(s));
	if (*began && patron_store_begin(s, err) < 0)
		return -1;
	char sql[96];
	snprintf(sql, sizeof sql, "SAVEPOINT %s", name);
	if (patron_store_exec(s, sql, err) < 0) {
		if (*began)
			patron_store_rollback(s);
		return -1;
	}
	return 0;
}

int patron_store_release(patron_store *s, const char *name, int began, patron_err *err)
{
	char sql[96];
	snprintf(sql, sizeof sql, "RELEASE %s", name);
	if (patron_store_exec(s, sql, err) < 0)
		return -1;
	return began ? patron_store_commit(s, err) : 0;
}

void patron_store_undo(patron_store *s, const char *name, int began)
{
	char sql[96];
	snprintf(sql, sizeof sql, "ROLLBACK TO %s", name);
	sqlite3_exec(db_of(s), sql, NULL, NULL, NULL);
	snprintf(sql, sizeof sql, "RELEASE %s", name);
	sqlite3_exec(db_of(s), sql, NULL, NULL, NULL);
	if (began)
		patron_store_rollback(s);
}

int patron_store_begin(patron_store *s, patron_err *err)
{
	return patron_store_exec(s, "BEGIN IMMEDIATE", err);
}

int patron_store_commit(patron_store *s, patron_err *err)
{
	return patron_store_exec(s, "COMMIT", err);
}

void patron_store_rollback(patron_store *s)
{
	if (!sqlite3_get_autocommit(db_of(s)))
		sqlite3_exec(db_of(s), "ROLLBACK", NULL, NULL, NULL);
}

int64_t patron_customer_find(patron_store *s, const char *kind, const char *value)
{
	sqlite3_stmt *st = patron_store_stmt(s, ST_IDENTITY_FIND);
	sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
	int64_t id = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_reset(st);
	return id;
}

int64_t patron_customer_resolve(patron_store *s, const char *arg)
{
	char norm[320];
	if (strchr(arg, '@'))
		return patron_normalize_email(arg, norm, sizeof norm) == 0
		       ? patron_customer_find(s, "email", norm) : 0;
	int64_t id;
	if (patron_parse_int(arg, &id) == 0) {
		sqlite3_stmt *st = patron_store_stmt(s, ST_CUSTOMER_EXISTS);
		sqlite3_bind_int64(st, 1, id);
		int found = sqlite3_step(st) == SQLITE_ROW;
		sqlite3_reset(st);
		if (found)
			return id;
	}
	static const char *const kinds[] = {"id", "stripe", "shopify"};
	for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++)
		if ((id = patron_customer_find(s, kinds[i], arg)) != 0)
			return id;
	if (patron_normalize_phone(arg, norm, sizeof norm) == 0)
		return patron_customer_find(s, "phone", norm);
	return 0;
}

int patron_customer_new(patron_store *s, int64_t created_at, int64_t *id, patron_err *err)
{
	sqlite3_stmt *st = patron_store_stmt(s, ST_CUSTOMER_NEW);
	sqlite3_bind_int64(st, 1, created_at);
	if (sqlite3_step(st) != SQLITE_DONE)
		return patron_store_fail(s, err, "adding a customer");
	*id = sqlite3_last_insert_rowid(db_of(s));
	return 0;
}

int patron_identity_add(patron_store *s, int64_t cid, const char *kind, const char *value,
			patron_err *err)
{
	sqlite3_stmt *st = patron_store_stmt(s, ST_IDENTITY_ADD);
	sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, cid);
	if (sqlite3_step(st) != SQLITE_DONE)
		return patron_store_fail(s, err, "adding an identity");
	return 0;
}

int patron_customer_merge(patron_store *s, int64_t into, int64_t from, int64_t now,
			  patron_err *err)
{
	/* Merges are rare (two files naming one person two ways), so these
	 * statements are not worth keeping prepared. */
	static const char *const sql[] = {
		"UPDATE identities SET customer_id = ?1 WHERE customer_id = ?2",
		"UPDATE OR IGNORE attributes SET customer_id = ?1 WHERE customer_id = ?2",
		"UPDATE OR IGNORE tags SET customer_id = ?1 WHERE customer_id = ?2",
		"UPDATE consent SET granted = 0, updated_at = ?3 WHERE customer_id = ?1 AND granted"
		" AND channel IN (SELECT channel FROM consent WHERE customer_id = ?2 AND NOT granted)",
		"UPDATE OR IGNORE consent SET customer_id = ?1 WHERE customer_id = ?2",
		"UPDATE orders SET customer_id = ?1 WHERE customer_id = ?2",
		"UPDATE feedback SET customer_id = ?1 WHERE customer_id = ?2",
		"UPDATE tickets SET customer_id = ?1 WHERE customer_id = ?2",
		"UPDATE survey_answers SET customer_id = ?1 WHERE customer_id = ?2",
		"UPDATE events SET customer_id = ?1 WHERE customer_id = ?2",
		"UPDATE audit SET customer_id = ?1 WHERE customer_id = ?2",
		"UPDATE outbox SET customer_id = ?1 WHERE customer_id = ?2",
		"UPDATE customers SET"
		" first_name = coalesce(first_name, (SELECT first_name FROM customers WHERE id = ?2)),"
		" last_name = coalesce(last_name, (SELECT last_name FROM customers WHERE id = ?2)),"
		" created_at = min(created_at, (SELECT created_at FROM customers WHERE id = ?2)),"
		" updated_at = ?3 WHERE id = ?1",
		/* what stayed behind, deleted here and not by cascade, since a
		 * bulk import runs without foreign keys */
		"DELETE FROM identities WHERE customer_id = ?2",
		"DELETE FROM attributes WHERE customer_id = ?2",
		"DELETE FROM tags WHERE customer_id = ?2",
		"DELETE FROM consent WHERE customer_id = ?2",
		"DELETE FROM customers WHERE id = ?2",
	};
	for (size_t i = 0; i < sizeof sql / sizeof *sql; i++) {
		sqlite3_stmt *st;
		if (sqlite3_prepare_v2(db_of(s), sql[i], -1, &st, NULL) != SQLITE_OK)
			return patron_store_fail(s, err, "merging customers");
		sqlite3_bind_int64(st, 1, into);
		sqlite3_bind_int64(st, 2, from);
		if (sqlite3_bind_parameter_count(st) >= 3)
			sqlite3_bind_int64(st, 3, now);
		int rc = sqlite3_step(st);
		sqlite3_finalize(st);
		if (rc != SQLITE_DONE)
			return patron_store_fail(s, err, "merging customers");
	}
	char payload[64];
	snprintf(payload, sizeof payload, "{\"merged_from\":%lld}", (long long)from);
	return patron_event_append(s, "customer.merged", into, payload, now, now, err);
}

int patron_event_append(patron_store *s, const char *topic, int64_t cid, const char *payload,
			int64_t occurred_at, int64_t recorded_at, patron_err *err)
{
	sqlite3_stmt *st = patron_store_stmt(s, ST_EVENT_NEW);
	sqlite3_bind_text(st, 1, topic, -1, SQLITE_STATIC);
	if (cid)
		sqlite3_bind_int64(st, 2, cid);
	if (payload)
		sqlite3_bind_text(st, 3, payload, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, occurred_at);
	sqlite3_bind_int64(st, 5, recorded_at);
	if (sqlite3_step(st) != SQLITE_DONE)
		return patron_store_fail(s, err, "appending an event");
	return 0;
}
