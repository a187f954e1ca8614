/* What patron serve writes. See ingest.h. */
#include "ingest.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../bus.h"
#include "../csv.h"
#include "../consent.h"
#include "../value.h"
#include "hooks.h"

/* ---- shared ---- */

static int exec1(patron_store *s, const char *sql, const char *a, const char *b,
		 const char *c, int64_t n, int *changed, patron_err *err)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(patron_store_db(s), sql, -1, &st, NULL) != SQLITE_OK)
		return patron_store_fail(s, err, "serve");
	const char *v[3] = {a, b, c};
	for (int i = 0; i < 3; i++)
		if (v[i])
			sqlite3_bind_text(st, i + 1, v[i], -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, n);
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return patron_store_fail(s, err, "serve");
	if (changed)
		*changed = sqlite3_changes(patron_store_db(s)) > 0;
	return 0;
}

/* 1 when SOURCE's KEY was seen before; else records it (with VALUE) and 0. */
static int seen(patron_store *s, const char *source, const char *key, const char *value,
		int64_t now, patron_err *err)
{
	int fresh;
	if (exec1(s, "INSERT OR IGNORE INTO webhook_seen(source, key, value, at) VALUES "
		  "(?1, ?2, ?3, ?4)", source, key, value, now, &fresh, err) < 0)
		return -1;
	return !fresh;
}

static int import_csv(patron_store *s, const char *name, patron_import_kind kind,
		      const char *format, const patron_buf *csv, const patron_ingest_opts *o,
		      patron_err *err)
{
	patron_import_opts io = {.kind = kind, .format = format, .currency = o->currency,
				 .now = o->now};
	patron_import_stats st;
	return patron_import_mem(s, name, csv->data, csv->len, &io, &st, err);
}

/* Runs F inside savepoint "ingest": all of it or nothing. */
#define WITHIN(s, err, body)                                                  \
	do {                                                                  \
		int began_;                                                   \
		if (patron_store_savepoint(s, "ingest", &began_, err) < 0)    \
			return -1;                                            \
		int rc_ = (body);                                             \
		if (rc_ < 0) {                                                \
			patron_store_undo(s, "ingest", began_);               \
			return -1;                                            \
		}                                                             \
		if (patron_store_release(s, "ingest", began_, err) < 0)       \
			return -1;                                            \
		return rc_;                                                   \
	} while (0)

/* ---- Shopify ---- */

/* The stored order NAME restated as the export writes it, with REFUNDED
 * (hundredths) given back in all. */
static int restate_order(patron_store *s, const char *name, int64_t refunded,
			 const patron_ingest_opts *o, patron_buf *csv, patron_err *err)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(patron_store_db(s),
			       "SELECT o.id, o.placed_at, o.gross_cents, o.currency, o.status,"
			       " (SELECT value FROM identities i WHERE i.customer_id = o.customer_id"
			       "  AND kind = 'email' LIMIT 1)"
			       " FROM orders o WHERE source = 'shopify' AND order_key = ?1", -1, &st,
			       NULL) != SQLITE_OK)
		return patron_store_fail(s, err, "reading the order");
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_finalize(st);
		return patron_err_set(err, "order %s: not in the store", name);
	}
	int64_t id = sqlite3_column_int64(st, 0), gross = sqlite3_column_int64(st, 2);
	char when[32], total[32], back[32], currency[8] = "";
	patron_format_date(sqlite3_column_int64(st, 1), when);
	patron_format_money(gross, total);
	patron_format_money(refunded, back);
	if (sqlite3_column_type(st, 3) != SQLITE_NULL)
		snprintf(currency, sizeof currency, "%s", (const char *)sqlite3_column_text(st, 3));
	else
		patron_base_currency(s, o->currency, currency);
	const char *status = refunded >= gross ? "refunded" : refunded > 0 ? "partially_refunded"
			   : (const char *)sqlite3_column_text(st, 4);
	char *email = sqlite3_column_type(st, 5) == SQLITE_NULL ? NULL
		      : patron_xstrdup((const char *)sqlite3_column_text(st, 5));
	sqlite3_finalize(st);
	if (sqlite3_prepare_v2(patron_store_db(s),
			       "SELECT l.quantity, p.name, l.unit_cents, p.sku FROM order_lines l"
			       " JOIN products p ON p.id = l.product_id WHERE l.order_id = ?1"
			       " ORDER BY l.line_no", -1, &st, NULL) != SQLITE_OK) {
		free(email);
		return patron_store_fail(s, err, "reading the order");
	}
	sqlite3_bind_int64(st, 1, id);
	json_t *order = json_pack("{s:s, s:s?, s:s, s:s, s:s, s:[], s:[{s:[{s:s, s:s, s:s}]}]}",
				  "name", name, "email", email, "created_at", when,
				  "financial_status", status, "total_price", total, "line_items",
				  "refunds", "transactions", "kind", "refund", "status", "success",
				  "amount", back);
	json_object_set_new(order, "currency", json_string(currency));
	json_t *lines = json_object_get(order, "line_items");
	while (sqlite3_step(st) == SQLITE_ROW) {
		char price[32];
		patron_format_money(sqlite3_column_int64(st, 2), price);
		const char *pname = (const char *)sqlite3_column_text(st, 1);
		json_array_append_new(lines, json_pack("{s:I, s:s, s:s, s:s}", "quantity",
						       (json_int_t)sqlite3_column_int64(st, 0),
						       "name", pname ? pname : "",
						       "price", price, "sku",
						       (const char *)sqlite3_column_text(st, 3)));
	}
	sqlite3_finalize(st);
	int rc = patron_shopify_order_csv(order, csv, err);
	json_decref(order);
	free(email);
	return rc;
}

static int shopify_order(patron_store *s, const char *topic, json_t *body,
			 const patron_ingest_opts *o, patron_err *err)
{
	patron_buf csv = {0};
	char name[128];
	snprintf(name, sizeof name, "shopify %s", topic);
	int rc = patron_shopify_order_csv(body, &csv, err);
	if (rc == 0)
		rc = import_csv(s, name, PATRON_IMPORT_ORDERS, "shopify", &csv, o, err);
	patron_buf_free(&csv);
	if (rc < 0)
		return -1;
	/* The order's id names it in its refunds; its refunds are counted. */
	char key[64];
	json_t *id = json_object_get(body, "id");
	if (json_is_integer(id)) {
		snprintf(key, sizeof key, "order:%lld", (long long)json_integer_value(id));
		if (exec1(s, "INSERT OR REPLACE INTO webhook_seen(source, key, value, at) VALUES "
			  "('shopify', ?1, ?2, ?4)", key, json_string_value(json_object_get(body,
			  "name")), NULL, o->now, NULL, err) < 0)
			return -1;
	}
	size_t i;
	json_t *r;
	json_array_foreach(json_object_get(body, "refunds"), i, r) {
		json_t *rid = json_object_get(r, "id");
		if (!json_is_integer(rid))
			continue;
		snprintf(key, sizeof key, "refund:%lld", (long long)json_integer_value(rid));
		if (seen(s, "shopify", key, NULL, o->now, err) < 0)
			return -1;
	}
	return 0;
}

static int shopify_refund(patron_store *s, json_t *body, const patron_ingest_opts *o,
			  patron_err *err)
{
	json_t *oid = json_object_get(body, "order_id"), *rid = json_object_get(body, "id");
	if (!json_is_integer(oid))
		return patron_err_set(err, "order_id: expected the refunded order's id");
	if (!json_is_integer(rid))
		return patron_err_set(err, "id: expected the refund's id");
	int64_t amount;
	if (patron_shopify_refund_amount(body, &amount, err) < 0)
		return -1;
	char key[64];
	snprintf(key, sizeof key, "refund:%lld", (long long)json_integer_value(rid));
	int dup = seen(s, "shopify", key, NULL, o->now, err);
	if (dup)
		return dup;
	/* The order's name, from its own webhook; its refunds so far. */
	snprintf(key, sizeof key, "order:%lld", (long long)json_integer_value(oid));
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(patron_store_db(s),
			       "SELECT w.value, o.refunded_cents FROM webhook_seen w JOIN orders o"
			       " ON o.source = 'shopify' AND o.order_key = w.value"
			       " WHERE w.source = 'shopify' AND w.key = ?1", -1, &st, NULL) != SQLITE_OK)
		return patron_store_fail(s, err, "reading the order");
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_finalize(st);
		/* Shopify sends it again later: by then the order may be here. */
		return patron_err_set(err, "order_id: no order %lld received yet",
				      (long long)json_integer_value(oid));
	}
	char *name = patron_xstrdup((const char *)sqlite3_column_text(st, 0));
	int64_t before = sqlite3_column_int64(st, 1);
	sqlite3_finalize(st);
	patron_buf csv = {0};
	int rc = restate_order(s, name, before + amount, o, &csv, err);
	if (rc == 0)
		rc = import_csv(s, "shopify refunds/create", PATRON_IMPORT_ORDERS, "shopify", &csv, o,
				err);
	patron_buf_free(&csv);
	free(name);
	return rc;
}

static int shopify_any(patron_store *s, const char *topic, const char *id, json_t *body,
		       const patron_ingest_opts *o, patron_err *err)
{
	if (!json_is_object(body))
		return patron_err_set(err, "the body: expected a JSON object");
	if (id && *id) {
		char key[200];
		snprintf(key, sizeof key, "delivery:%.180s", id);
		int dup = seen(s, "shopify", key, NULL, o->now, err);
		if (dup)
			return dup;
	}
	if (strncmp(topic, "orders/", 7) == 0 && strcmp(topic, "orders/delete") != 0 &&
	    strcmp(topic, "orders/edited") != 0)
		return shopify_order(s, topic, body, o, err);
	if (strcmp(topic, "refunds/create") == 0)
		return shopify_refund(s, body, o, err);
	if (strcmp(topic, "customers/create") == 0 || strcmp(topic, "customers/update") == 0) {
		patron_buf csv = {0};
		int rc = patron_shopify_customer_csv(body, &csv, err);
		if (rc == 0)
			rc = import_csv(s, "shopify customers", PATRON_IMPORT_CUSTOMERS, "shopify",
					&csv, o, err);
		patron_buf_free(&csv);
		return rc;
	}
	return PATRON_INGEST_IGNORED;
}

int patron_ingest_shopify(patron_store *s, const char *topic, const char *id, json_t *body,
			  const patron_ingest_opts *o, patron_err *err)
{
	if (!topic || !*topic)
		return patron_err_set(err, "X-Shopify-Topic: expected a topic like orders/create");
	WITHIN(s, err, shopify_any(s, topic, id, body, o, err));
}

/* ---- Stripe ---- */

static int stripe_any(patron_store *s, json_t *ev, const patron_ingest_opts *o, patron_err *err)
{
	if (!json_is_object(ev))
		return patron_err_set(err, "the body: expected a Stripe event object");
	const char *id = json_string_value(json_object_get(ev, "id"));
	const char *type = json_string_value(json_object_get(ev, "type"));
	json_t *obj = json_object_get(json_object_get(ev, "data"), "object");
	if (!id || !*id)
		return patron_err_set(err, "id: expected the event's id");
	if (!type)
		return patron_err_set(err, "type: expected the event's type");
	if (!json_is_object(obj))
		return patron_err_set(err, "data.object: expected an object");
	char key[200];
	snprintf(key, sizeof key, "event:%.180s", id);
	int dup = seen(s, "stripe", key, NULL, o->now, err);
	if (dup)
		return dup;
	patron_buf csv = {0};
	int rc = PATRON_INGEST_IGNORED;
	if (strncmp(type, "charge.", 7) == 0 && strncmp(type, "charge.dispute.", 15) != 0) {
		rc = patron_stripe_charge_csv(obj, &csv, err);
		if (rc == 0)
			rc = import_csv(s, "stripe charge", PATRON_IMPORT_ORDERS, "stripe", &csv, o,
					err);
	} else if (strcmp(type, "customer.created") == 0 || strcmp(type, "customer.updated") == 0) {
		rc = patron_stripe_customer_csv(obj, &csv, err);
		if (rc == 0)
			rc = import_csv(s, "stripe customer", PATRON_IMPORT_CUSTOMERS, "stripe", &csv,
					o, err);
	}
	patron_buf_free(&csv);
	return rc;
}

int patron_ingest_stripe(patron_store *s, json_t *event, const patron_ingest_opts *o,
			 patron_err *err)
{
	WITHIN(s, err, stripe_any(s, event, o, err));
}

/* ---- a site's own events ---- */

/* Member KEY of M as a string: NULL when absent; -1 when not a string. */
static int str_member(json_t *m, const char *key, const char **out, const char *where,
		      patron_err *err)
{
	json_t *v = json_object_get(m, key);
	*out = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return patron_err_set(err, "%s%s: expected a string", where, key);
	*out = json_string_value(v);
	return 0;
}

/* The customer a message names by userId (the site's id) or email, made
 * when new through a customers file's row: *CID, or 0 for nobody named. */
static int who(patron_store *s, json_t *m, const char *where, const patron_ingest_opts *o,
	       int64_t *cid, json_t *traits, patron_err *err)
{
	const char *uid, *email;
	*cid = 0;
	if (str_member(m, "userId", &uid, where, err) < 0 ||
	    (!uid && str_member(m, "user_id", &uid, where, err) < 0) ||
	    str_member(m, "email", &email, where, err) < 0)
		return -1;
	json_t *tm = traits ? json_object_get(traits, "email") : NULL;
	if (!email && json_is_string(tm))
		email = json_string_value(tm);
	char norm[320] = "";
	if (email && *email && patron_normalize_email(email, norm, sizeof norm) < 0)
		return patron_err_set(err, "%semail: expected an email address, got \"%.80s\"",
				      where, email);
	if (uid && !*uid)
		uid = NULL;
	if (uid)
		*cid = patron_customer_find(s, "id", uid);
	if (!*cid && norm[0])
		*cid = patron_customer_find(s, "email", norm);
	if ((*cid && !traits) || (!uid && !norm[0]))
		return 0;
	/* New, or traits to record: a customers file of one row. */
	json_t *cols = json_object();
	if (uid)
		json_object_set_new(cols, "customer_id", json_string(uid));
	if (norm[0])
		json_object_set_new(cols, "email", json_string(norm));
	const char *k;
	json_t *v;
	json_object_foreach(traits, k, v) {
		char key[128];
		patron_normalize_header(k, key, sizeof key);
		if (!key[0] || strcmp(key, "customer_id") == 0 || strcmp(key, "email") == 0 ||
		    json_is_null(v))
			continue;
		if (json_is_string(v))
			json_object_set(cols, key, v);
		else if (json_is_boolean(v))
			json_object_set_new(cols, key, json_string(json_is_true(v) ? "yes" : "no"));
		else if (json_is_number(v)) {
			char num[40];
			if (json_is_integer(v))
				snprintf(num, sizeof num, "%lld", (long long)json_integer_value(v));
			else
				snprintf(num, sizeof num, "%.17g", json_real_value(v));
			json_object_set_new(cols, key, json_string(num));
		} else {
			json_decref(cols);
			return patron_err_set(err, "%straits.%s: expected a string, number or "
					      "yes/no", where, k);
		}
	}
	/* the header, then the row */
	size_t ncols = json_object_size(cols), c = 0;
	const char **head = patron_xmalloc(ncols * sizeof *head);
	const char **cells = patron_xmalloc(ncols * sizeof *cells);
	json_object_foreach(cols, k, v) {
		head[c] = k;
		cells[c++] = json_string_value(v);
	}
	patron_buf csv = {0};
	patron_csv_buf_row(&csv, head, ncols);
	patron_csv_buf_row(&csv, cells, ncols);
	free(head);
	free(cells);
	json_decref(cols);
	char name[160];
	snprintf(name, sizeof name, "%.150s", where[0] ? where : "identify");
	size_t nl = strlen(name);
	if (nl && name[nl - 1] == '.')
		name[nl - 1] = '\0';
	int rc = import_csv(s, name, PATRON_IMPORT_CUSTOMERS, "patron", &csv, o, err);
	patron_buf_free(&csv);
	if (rc < 0)
		return -1;
	*cid = uid ? patron_customer_find(s, "id", uid) : 0;
	if (!*cid && norm[0])
		*cid = patron_customer_find(s, "email", norm);
	return 0;
}

/* The topics only the core says: a site cannot say an order was placed. */
static int reserved(const char *topic)
{
	static const char *const own[] = {"order.", "customer.", "message.", "score.", "schedule.",
					  "feedback.", "inquiry.", "ticket.", NULL};
	for (int i = 0; own[i]; i++)
		if (strncmp(topic, own[i], strlen(own[i])) == 0)
			return 1;
	return 0;
}

static int track_one(patron_store *s, json_t *m, const char *where, const patron_ingest_opts *o,
		     patron_err *err)
{
	if (!json_is_object(m))
		return patron_err_set(err, "%s: expected an object", where[0] ? where : "the body");
	const char *event, *at;
	if (str_member(m, "event", &event, where, err) < 0 ||
	    str_member(m, "timestamp", &at, where, err) < 0)
		return -1;
	if (!event || !*event)
		return patron_err_set(err, "%sevent: expected the event's name", where);
	char topic[160];
	if (strchr(event, '.') && patron_topic_valid(event)) {
		if (reserved(event))
			return patron_err_set(err, "%sevent: \"%.60s\" is the core's own topic; "
					      "name the site's events otherwise", where, event);
		snprintf(topic, sizeof topic, "%s", event);
	} else {
		char norm[128];
		patron_normalize_header(event, norm, sizeof norm);
		snprintf(topic, sizeof topic, "track.%s", norm);
		if (!norm[0] || !patron_topic_valid(topic))
			return patron_err_set(err, "%sevent: expected a name of letters and digits, "
					      "got \"%.60s\"", where, event);
	}
	int64_t when = o->now;
	if (at && patron_parse_date(at, PATRON_DATE_MDY, &when) < 0)
		return patron_err_set(err, "%stimestamp: expected a date like "
				      "2026-11-23T10:00:00Z, got \"%.60s\"", where, at);
	json_t *props = json_object_get(m, "properties");
	if (props && !json_is_null(props) && !json_is_object(props))
		return patron_err_set(err, "%sproperties: expected an object", where);
	int64_t cid;
	if (who(s, m, where, o, &cid, NULL, err) < 0)
		return -1;
	json_t *payload = props && json_is_object(props) ? json_copy(props) : json_object();
	const char *anon;
	if (str_member(m, "anonymousId", &anon, where, err) < 0) {
		json_decref(payload);
		return -1;
	}
	if (anon)
		json_object_set_new(payload, "anonymous_id", json_string(anon));
	char *text = json_dumps(payload, JSON_COMPACT);
	json_decref(payload);
	int rc = patron_event_append(s, topic, cid, text, when, o->now, err);
	free(text);
	return rc;
}

static int identify_one(patron_store *s, json_t *m, const char *where,
			const patron_ingest_opts *o, patron_err *err)
{
	if (!json_is_object(m))
		return patron_err_set(err, "%s: expected an object", where[0] ? where : "the body");
	json_t *traits = json_object_get(m, "traits");
	if (traits && !json_is_null(traits) && !json_is_object(traits))
		return patron_err_set(err, "%straits: expected an object", where);
	json_t *empty = json_object();
	int64_t cid;
	int rc = who(s, m, where, o, &cid, json_is_object(traits) ? traits : empty, err);
	json_decref(empty);
	if (rc == 0 && !cid)
		rc = patron_err_set(err, "%suserId: expected the site's id of the person, or an "
				    "email", where);
	return rc;
}

typedef int (*one_fn)(patron_store *, json_t *, const char *, const patron_ingest_opts *,
		      patron_err *);

static int each(patron_store *s, json_t *body, one_fn one, const patron_ingest_opts *o, long *n,
		patron_err *err)
{
	*n = 0;
	json_t *batch = json_is_object(body) ? json_object_get(body, "batch") : NULL;
	if (!batch) {
		*n = 1;
		return one(s, body, "", o, err);
	}
	if (!json_is_array(batch))
		return patron_err_set(err, "batch: expected a list of messages");
	size_t i;
	json_t *m;
	json_array_foreach(batch, i, m) {
		char where[48];
		snprintf(where, sizeof where, "batch[%zu].", i);
		if (one(s, m, where, o, err) < 0)
			return -1;
		++*n;
	}
	return 0;
}

int patron_ingest_track(patron_store *s, json_t *body, const patron_ingest_opts *o, long *n,
			patron_err *err)
{
	WITHIN(s, err, each(s, body, track_one, o, n, err));
}

int patron_ingest_identify(patron_store *s, json_t *body, const patron_ingest_opts *o, long *n,
			   patron_err *err)
{
	WITHIN(s, err, each(s, body, identify_one, o, n, err));
}

/* ---- opens, clicks, unsubscribes ---- */

static int message_event(patron_store *s, const char *topic, int64_t outbox_id, const char *url,
			 int64_t now, patron_err *err)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(patron_store_db(s), "SELECT key, channel, customer_id, template, rule"
			       " FROM outbox WHERE id = ?1", -1, &st, NULL) != SQLITE_OK)
		return patron_store_fail(s, err, "reading the outbox");
	sqlite3_bind_int64(st, 1, outbox_id);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_finalize(st);
		return patron_err_set(err, "no message %lld", (long long)outbox_id);
	}
	json_t *p = json_pack("{s:I, s:s, s:s, s:s, s:s?, s:s?}", "outbox_id", (json_int_t)outbox_id,
			      "key", (const char *)sqlite3_column_text(st, 0), "channel",
			      (const char *)sqlite3_column_text(st, 1), "template",
			      (const char *)sqlite3_column_text(st, 3), "rule",
			      (const char *)sqlite3_column_text(st, 4), "url", url);
	int64_t cid = sqlite3_column_int64(st, 2);
	char *text = json_dumps(p, JSON_COMPACT);
	json_decref(p);
	sqlite3_finalize(st);
	int rc = patron_event_append(s, topic, cid, text, now, now, err);
	free(text);
	return rc;
}

static int open_once(patron_store *s, int64_t id, int64_t now, patron_err *err)
{
	int fresh;
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(patron_store_db(s), "INSERT OR IGNORE INTO message_opens(outbox_id,"
			       " at) SELECT id, ?2 FROM outbox WHERE id = ?1", -1, &st,
			       NULL) != SQLITE_OK)
		return patron_store_fail(s, err, "recording the open");
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, now);
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return patron_store_fail(s, err, "recording the open");
	fresh = sqlite3_changes(patron_store_db(s)) > 0;
	if (!fresh)
		return 1;
	return message_event(s, "message.opened", id, NULL, now, err);
}

int patron_ingest_open(patron_store *s, int64_t outbox_id, int64_t now, patron_err *err)
{
	WITHIN(s, err, open_once(s, outbox_id, now, err));
}

int patron_ingest_click(patron_store *s, int64_t outbox_id, const char *url, int64_t now,
			patron_err *err)
{
	WITHIN(s, err, message_event(s, "message.clicked", outbox_id, url, now, err));
}

static int unsubscribe(patron_store *s, int64_t cid, const char *channel, int64_t now,
		       patron_err *err)
{
	int changed = 0;
	/* CHANNEL may name several, comma-separated: one event each. */
	if (channel && strchr(channel, ',')) {
		char *list = patron_xstrdup(channel), *save = NULL;
		int rc = 0;
		for (char *one = strtok_r(list, ",", &save); one && rc == 0;
		     one = strtok_r(NULL, ",", &save))
			rc = unsubscribe(s, cid, one, now, err);
		free(list);
		return rc;
	}
	if (channel && patron_consent_withdraw(s, cid, channel, now, &changed, err) < 0)
		return -1;
	if (!channel) {
		sqlite3_stmt *st;
		if (sqlite3_prepare_v2(patron_store_db(s), "UPDATE consent SET granted = 0, source ="
				       " 'unsubscribe', updated_at = ?2 WHERE customer_id = ?1 AND"
				       " granted = 1", -1, &st, NULL) != SQLITE_OK)
			return patron_store_fail(s, err, "recording the unsubscribe");
		sqlite3_bind_int64(st, 1, cid);
		sqlite3_bind_int64(st, 2, now);
		int rc = sqlite3_step(st);
		sqlite3_finalize(st);
		if (rc != SQLITE_DONE)
			return patron_store_fail(s, err, "recording the unsubscribe");
	}
	json_t *p = channel ? json_pack("{s:s, s:s}", "channel", channel, "source", "link")
			    : json_pack("{s:s}", "source", "link");
	char *text = json_dumps(p, JSON_COMPACT);
	json_decref(p);
	int rc = patron_event_append(s, "customer.unsubscribed", cid, text, now, now, err);
	free(text);
	return rc;
}

int patron_ingest_unsubscribe(patron_store *s, int64_t cid, const char *channel, int64_t now,
			      patron_err *err)
{
	WITHIN(s, err, unsubscribe(s, cid, channel, now, err));
}

/* ---- site keys ---- */

static void key_hash(const char *key, char hex[65])
{
	unsigned char h[32];
	crypto_generichash(h, sizeof h, (const unsigned char *)key, strlen(key), NULL, 0);
	sodium_bin2hex(hex, 65, h, sizeof h);
}

int patron_api_key_new(patron_store *s, const char *name, int64_t now, char *key, size_t cap,
		       patron_err *err)
{
	unsigned char raw[24];
	char b64[64], hex[65];
	randombytes_buf(raw, sizeof raw);
	sodium_bin2base64(b64, sizeof b64, raw, sizeof raw, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	snprintf(key, cap, "pk_%s", b64);
	key_hash(key, hex);
	int fresh;
	if (exec1(s, "INSERT OR IGNORE INTO api_keys(name, hash, created_at) VALUES (?1, ?2, ?4)",
		  name, hex, NULL, now, &fresh, err) < 0)
		return -1;
	if (!fresh)
		return patron_err_set(err, "a key named \"%s\" exists: revoke it first, or choose "
				      "another name", name);
	return 0;
}

int patron_api_key_check(patron_store *s, const char *key)
{
	if (!key || strncmp(key, "pk_", 3) != 0 || strlen(key) > 200)
		return 0;
	char hex[65];
	key_hash(key, hex);
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(patron_store_db(s), "SELECT 1 FROM api_keys WHERE hash = ?1 AND"
			       " revoked_at IS NULL", -1, &st, NULL) != SQLITE_OK)
		return 0;
	sqlite3_bind_text(st, 1, hex, -1, SQLITE_STATIC);
	int ok = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	return ok;
}

int patron_api_key_revoke(patron_store *s, const char *name, int64_t now, patron_err *err)
{
	int changed;
	if (exec1(s, "UPDATE api_keys SET revoked_at = ?4 WHERE name = ?1 AND revoked_at IS NULL",
		  name, NULL, NULL, now, &changed, err) < 0)
		return -1;
	if (!changed)
		return patron_err_set(err, "no live key named \"%s\"", name);
	return 0;
}
