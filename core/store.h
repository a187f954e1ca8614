/* The store: one SQLite file that is the source of truth for customers,
 * their identities, attributes, tags, consent, products, orders, feedback,
 * the event log and plugin-written scores. Opening a store creates or
 * migrates its schema (PRAGMA user_version); every SQL statement the core
 * runs repeatedly is prepared once and kept here. */
#ifndef PATRON_STORE_H
#define PATRON_STORE_H

#include <sqlite3.h>
#include <stdint.h>

#include "util.h"

#define PATRON_SCHEMA_VERSION 15
/* The page cache a store connection keeps, in KiB. */
#define PATRON_CACHE_KIB 65536

typedef struct patron_store patron_store;

/* The statements the core reuses, prepared on first use. */
typedef enum {
	ST_IDENTITY_FIND,
	ST_IDENTITY_ADD,
	ST_CUSTOMER_NEW,
	ST_CUSTOMER_NAMES,
	ST_CUSTOMER_EARLIER,
	ST_CUSTOMER_EXISTS,
	ST_ATTR_DEF_GET,
	ST_ATTR_DEF_PUT,
	ST_ATTR_PUT,
	ST_TAG_ADD,
	ST_CONSENT_PUT,
	ST_PRODUCT_FIND,
	ST_PRODUCT_NEW,
	ST_PRODUCT_UPDATE,
	ST_ORDER_GET,
	ST_ORDER_NEW,
	ST_ORDER_UPDATE,
	ST_ORDER_LINES,
	ST_ORDER_LINES_FROM,
	ST_ORDER_LAST_LINE,
	ST_ORDER_ADD_TOTAL,
	ST_LINE_NEW,
	ST_FEEDBACK_FIND,
	ST_FEEDBACK_NEW,
	ST_EVENT_NEW,
	ST_EVENT_CUSTOMER_CREATED,
	ST_EVENT_ORDER_CREATED,
	ST_EVENT_ORDER_CHANGED,
	ST_RATE_FIND,
	ST_RATE_PUT,
	ST_SETTING_GET,
	ST_SETTING_PUT,
	ST_EVENT_FEEDBACK_RECEIVED,
	ST_IMPORT_LOG,
	ST_MODEL_SAVE,
	ST_MODEL_LOAD,
	ST_COUNT_
} patron_stmt_id;

/* Opens (creating when absent) the store at PATH and brings its schema up
 * to PATRON_SCHEMA_VERSION. A store written by a newer Patron is refused. */
int patron_store_open(const char *path, patron_store **out, patron_err *err);
void patron_store_close(patron_store *s);
sqlite3 *patron_store_db(patron_store *s);
const char *patron_store_path(const patron_store *s);

/* A reset statement with no bindings, ready to bind and step. */
sqlite3_stmt *patron_store_stmt(patron_store *s, patron_stmt_id id);

/* Transactions: BEGIN IMMEDIATE, so a writer waits for the lock up front
 * instead of failing half-way. */
int patron_store_begin(patron_store *s, patron_err *err);
/* Holds the store's lock for WHAT ("run", "deliver"), a file beside it,
 * until the descriptor returned is closed or the process ends: only one
 * such command at a time. Waits for it when WAIT; else, when another holds
 * it, PATRON_LOCK_HELD with err saying that another is running. -1 on an
 * error. */
#define PATRON_LOCK_HELD (-2)
int patron_store_lock(patron_store *s, const char *what, int wait, patron_err *err);
/* The same for the store at STORE, not open. */
int patron_store_lock_path(const char *store, const char *what, int wait, patron_err *err);
/* How long a command waits for a store another process is writing, unless
 * told (--busy-timeout): an import of a large file holds it for a while. */
#define PATRON_BUSY_MS 30000
/* Sets that wait for S. */
void patron_store_busy(patron_store *s, int ms);
/* Savepoint NAME. Outside a transaction it first takes the write lock
 * (BEGIN IMMEDIATE, waiting as patron_store_busy says), so *BEGAN is 1 and
 * the release commits: a deferred transaction that reads and then writes
 * fails at once, without waiting, when another process wrote in between. */
int patron_store_savepoint(patron_store *s, const char *name, int *began, patron_err *err);
int patron_store_release(patron_store *s, const char *name, int began, patron_err *err);
/* Undoes savepoint NAME and ends it (and the transaction it began). */
void patron_store_undo(patron_store *s, const char *name, int began);
int patron_store_commit(patron_store *s, patron_err *err);
void patron_store_rollback(patron_store *s);

/* Bulk mode for one large write transaction: a rollback journal instead of
 * the WAL, so each page is written once instead of twice (WAL, then the
 * checkpoint). Crash safety is the same: a killed transaction is rolled back
 * from the journal on the next open. SQLite refuses the switch while another
 * connection has the store open; then this returns 0 and the WAL stays.
 * Call outside a transaction, and again with ON = 0 after it. */
int patron_store_bulk(patron_store *s, int on);

/* Runs SQL with no result rows. */
int patron_store_exec(patron_store *s, const char *sql, patron_err *err);
/* Fills err with the connection's last error, prefixed by WHAT. Returns -1. */
int patron_store_fail(patron_store *s, patron_err *err, const char *what);

/* GUARD(ARG) is called before every use of the connection through this
 * file's functions (patron_store_db, patron_store_stmt, ...), so that a
 * thread writing for the store in the background (an import's writer)
 * is waited for; NULL removes it. */
void patron_store_guard(patron_store *s, void (*guard)(void *), void *arg);

/* Identity kinds: "email", "phone", "id" (the shop's own customer id),
 * "stripe", "shopify". Values are already normalized. 0 when unknown. */
int64_t patron_customer_find(patron_store *s, const char *kind, const char *value);
/* The customer ARG names: Patron's id, an email, an external id (id,
 * stripe, shopify) or a phone, tried in that order. 0 when nobody matches. */
int64_t patron_customer_resolve(patron_store *s, const char *arg);
int patron_customer_new(patron_store *s, int64_t created_at, int64_t *id, patron_err *err);
/* Adds the identity unless it exists (for anyone). */
int patron_identity_add(patron_store *s, int64_t cid, const char *kind, const char *value,
			patron_err *err);
/* Moves everything of customer FROM onto INTO and deletes FROM. Where both
 * have a value (attribute, name) INTO's wins; consent withdrawn by either
 * stays withdrawn. Emits customer.merged. */
int patron_customer_merge(patron_store *s, int64_t into, int64_t from, int64_t now,
			  patron_err *err);

/* Appends an event; PAYLOAD is a JSON object text, or NULL for {}. */
int patron_event_append(patron_store *s, const char *topic, int64_t cid, const char *payload,
			int64_t occurred_at, int64_t recorded_at, patron_err *err);

#endif
