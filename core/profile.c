/* A customer as JSON. See profile.h. */
#include "profile.h"

#include <stdio.h>
#include <string.h>

#include "value.h"

static json_t *date_json(sqlite3_stmt *st, int col)
{
	char buf[24];
	if (sqlite3_column_type(st, col) == SQLITE_NULL)
		return json_null();
	return json_string(patron_format_date(sqlite3_column_int64(st, col), buf));
}

json_t *patron_column_json(sqlite3_stmt *st, int col)
{
	switch (sqlite3_column_type(st, col)) {
	case SQLITE_INTEGER: return json_integer(sqlite3_column_int64(st, col));
	case SQLITE_FLOAT: return json_real(sqlite3_column_double(st, col));
	case SQLITE_NULL: return json_null();
	default: return json_string((const char *)sqlite3_column_text(st, col));
	}
}

static sqlite3_stmt *query(patron_store *s, const char *sql, int64_t id)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(patron_store_db(s), sql, -1, &st, NULL) != SQLITE_OK)
		return NULL;
	sqlite3_bind_int64(st, 1, id);
	return st;
}

json_t *patron_customer_profile(patron_store *s, int64_t id, int64_t now)
{
	json_t *p = json_object();
	sqlite3_stmt *st = query(s, "SELECT first_name, last_name, created_at FROM customers "
				 "WHERE id = ?1", id);
	json_object_set_new(p, "id", json_integer(id));
	if (sqlite3_step(st) == SQLITE_ROW) {
		json_object_set_new(p, "first_name", patron_column_json(st, 0));
		json_object_set_new(p, "last_name", patron_column_json(st, 1));
		json_object_set_new(p, "created_at", date_json(st, 2));
	}
	sqlite3_finalize(st);

	json_t *ids = json_array();
	st = query(s, "SELECT kind, value FROM identities WHERE customer_id = ?1 "
		   "ORDER BY kind, value", id);
	while (sqlite3_step(st) == SQLITE_ROW)
		json_array_append_new(ids, json_pack("{s:s, s:s}", "kind",
						     sqlite3_column_text(st, 0), "value",
						     sqlite3_column_text(st, 1)));
	sqlite3_finalize(st);
	json_object_set_new(p, "identities", ids);

	json_t *attrs = json_object();
	st = query(s, "SELECT name, value FROM attributes WHERE customer_id = ?1 ORDER BY name", id);
	while (sqlite3_step(st) == SQLITE_ROW)
		json_object_set_new(attrs, (const char *)sqlite3_column_text(st, 0),
				    patron_column_json(st, 1));
	sqlite3_finalize(st);
	json_object_set_new(p, "attributes", attrs);

	json_t *tags = json_array();
	st = query(s, "SELECT tag FROM tags WHERE customer_id = ?1 ORDER BY tag", id);
	while (sqlite3_step(st) == SQLITE_ROW)
		json_array_append_new(tags, json_string((const char *)sqlite3_column_text(st, 0)));
	sqlite3_finalize(st);
	json_object_set_new(p, "tags", tags);

	json_t *consent = json_object();
	st = query(s, "SELECT channel, granted, source, updated_at FROM consent "
		   "WHERE customer_id = ?1 ORDER BY channel", id);
	while (sqlite3_step(st) == SQLITE_ROW)
		json_object_set_new(consent, (const char *)sqlite3_column_text(st, 0),
				    json_pack("{s:b, s:s, s:o}", "granted",
					      sqlite3_column_int(st, 1), "source",
					      sqlite3_column_text(st, 2), "updated_at",
					      date_json(st, 3)));
	sqlite3_finalize(st);
	json_object_set_new(p, "consent", consent);

	/* Only revenue orders count as spending; the others are shown apart. */
	st = query(s, "SELECT count(*) FILTER (WHERE revenue),"
		   " coalesce(sum(total_cents) FILTER (WHERE revenue), 0),"
		   " min(placed_at) FILTER (WHERE revenue), max(placed_at) FILTER (WHERE revenue),"
		   " count(*) FILTER (WHERE NOT revenue) FROM orders WHERE customer_id = ?1", id);
	if (sqlite3_step(st) == SQLITE_ROW) {
		char money[32];
		int64_t cents = sqlite3_column_int64(st, 1);
		json_object_set_new(p, "orders", json_integer(sqlite3_column_int64(st, 0)));
		json_object_set_new(p, "total_spent", json_string(patron_format_money(cents, money)));
		json_object_set_new(p, "total_spent_cents", json_integer(cents));
		json_object_set_new(p, "first_order_at", date_json(st, 2));
		json_object_set_new(p, "last_order_at", date_json(st, 3));
		if (sqlite3_column_type(st, 3) != SQLITE_NULL) {
			int64_t last = sqlite3_column_int64(st, 3);
			/* Calendar days, as a person counts them: 1 April to 1 June is 61. */
			json_object_set_new(p, "days_since_last_order",
					    json_integer(patron_day_number(now) -
							 patron_day_number(last)));
		} else {
			json_object_set_new(p, "days_since_last_order", json_null());
		}
		json_object_set_new(p, "orders_not_revenue", json_integer(sqlite3_column_int64(st, 4)));
	}
	sqlite3_finalize(st);

	st = query(s, "SELECT count(*), avg(rating) FROM feedback WHERE customer_id = ?1", id);
	if (sqlite3_step(st) == SQLITE_ROW)
		json_object_set_new(p, "feedback", json_pack("{s:I, s:o}", "count",
			(json_int_t)sqlite3_column_int64(st, 0), "mean_rating", patron_column_json(st, 1)));
	sqlite3_finalize(st);

	json_t *scores = json_array();
	st = query(s, "SELECT name, value, label, model, computed_at FROM scores "
		   "WHERE customer_id = ?1 ORDER BY name", id);
	while (sqlite3_step(st) == SQLITE_ROW)
		json_array_append_new(scores, json_pack("{s:s, s:o, s:o, s:s, s:o}", "name",
			sqlite3_column_text(st, 0), "value", patron_column_json(st, 1), "label",
			patron_column_json(st, 2), "model", sqlite3_column_text(st, 3), "computed_at",
			date_json(st, 4)));
	sqlite3_finalize(st);
	json_object_set_new(p, "scores", scores);

	json_t *recs = json_array();
	st = query(s, "SELECT p.sku, p.name, p.category, r.score FROM recommendations r "
		   "JOIN products p ON p.id = r.product_id WHERE r.customer_id = ?1 "
		   "ORDER BY r.rank", id);
	while (sqlite3_step(st) == SQLITE_ROW)
		json_array_append_new(recs, json_pack("{s:o, s:o, s:o, s:o}", "sku",
			patron_column_json(st, 0), "name", patron_column_json(st, 1), "category",
			patron_column_json(st, 2), "score", patron_column_json(st, 3)));
	sqlite3_finalize(st);
	json_object_set_new(p, "recommendations", recs);
	return p;
}


/* The first identity of KIND, or null. */
static json_t *identity(patron_store *s, int64_t id, const char *kind)
{
	sqlite3_stmt *st = query(s, "SELECT value FROM identities WHERE customer_id = ?1 AND "
				 "kind = ?2 ORDER BY value LIMIT 1", id);
	sqlite3_bind_text(st, 2, kind, -1, SQLITE_STATIC);
	json_t *v = sqlite3_step(st) == SQLITE_ROW ? patron_column_json(st, 0) : json_null();
	sqlite3_finalize(st);
	return v;
}

json_t *patron_customer_for_template(patron_store *s, int64_t id, int64_t now)
{
	json_t *p = patron_customer_profile(s, id, now);
	json_object_set_new(p, "email", identity(s, id, "email"));
	json_object_set_new(p, "phone", identity(s, id, "phone"));
	const char *first = json_string_value(json_object_get(p, "first_name"));
	const char *last = json_string_value(json_object_get(p, "last_name"));
	if (first || last) {
		char name[512];
		snprintf(name, sizeof name, "%s%s%s", first ? first : "", first && last ? " " : "",
			 last ? last : "");
		json_object_set_new(p, "name", json_string(name));
	}
	/* the scores by name: segment (its label), churn, clv, p_alive */
	json_t *scores = json_object_get(p, "scores");
	size_t i;
	json_t *sc;
	json_array_foreach(scores, i, sc) {
		const char *nm = json_string_value(json_object_get(sc, "name"));
		json_t *label = json_object_get(sc, "label");
		if (nm && strcmp(nm, "segment") == 0 && json_is_string(label))
			json_object_set(p, "segment", label);
		else if (nm && strchr(nm, '.') == NULL)
			json_object_set(p, nm, json_object_get(sc, "value"));
	}
	return p;
}
