#include "view.h"

#include <lauxlib.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "strmap.h"
#include "value.h"

#define META "patron.customer"
#define WHY_MAX 8

typedef struct {
	int64_t cid, row;
} cview;

/* One field of every customer, by bulk row: a typed value per row, text
 * interned (segments and countries repeat). */
enum { V_NIL, V_INT, V_REAL, V_TEXT };
typedef struct {
	unsigned char type;
	union {
		int64_t i;
		double d;
		uint32_t text;
	} u;
} cell;
typedef struct {
	char *key;	/* "orders", "score:churn", "label:segment", "attr:birthday" */
	cell *cells;
} column;

/* The fields a view knows; anything else is read as an attribute. */
typedef enum {
	F_ID, F_EMAIL, F_PHONE, F_FIRST_NAME, F_LAST_NAME, F_NAME, F_CREATED_AT,
	F_ORDERS, F_TOTAL_SPENT, F_FIRST_ORDER_AT, F_LAST_ORDER_AT, F_DAYS_SINCE_LAST_ORDER,
	F_SEGMENT, F_CHURN, F_CLV, F_P_ALIVE, F_EXPECTED_PURCHASES, F_SENTIMENT, F_NPS, F_CSAT,
	F_RFM, F_SCORES,
	F_TAGS, F_CONSENT, F_ATTRIBUTES, F_RECOMMENDATIONS, F_SEGMENTS, F_CHURN_REASONS,
	F_ATTRIBUTE
} field;
static const char *const field_names[] = {
	"id", "email", "phone", "first_name", "last_name", "name", "created_at",
	"orders", "total_spent", "first_order_at", "last_order_at", "days_since_last_order",
	"segment", "churn", "clv", "p_alive", "expected_purchases", "sentiment", "nps", "csat",
	"rfm", "scores",
	"tags", "consent", "attributes", "recommendations", "segments", "churn_reasons", NULL,
};

/* The per-customer queries, prepared once. */
enum {
	Q_IDENTITY, Q_CUSTOMER, Q_ORDERS, Q_SCORE, Q_RFM, Q_SCORES, Q_TAGS, Q_CONSENT,
	Q_ATTRIBUTE, Q_ATTRIBUTES, Q_RECS, Q_SEGMENTS, Q_COUNT_
};
static const char *const query_sql[Q_COUNT_] = {
	[Q_IDENTITY] = "SELECT value FROM identities WHERE customer_id = ?1 AND kind = ?2"
		       " ORDER BY value LIMIT 1",
	[Q_CUSTOMER] = "SELECT first_name, last_name, created_at FROM customers WHERE id = ?1",
	[Q_ORDERS] = "SELECT orders, spent_cents, first_at, last_at FROM customer_orders"
		     " WHERE customer_id = ?1",
	[Q_SCORE] = "SELECT value, label FROM scores WHERE customer_id = ?1 AND name = ?2",
	[Q_RFM] = "SELECT substr(name, 5), value FROM scores WHERE customer_id = ?1"
		  " AND name GLOB 'rfm.*'",
	[Q_SCORES] = "SELECT name, value, label FROM scores WHERE customer_id = ?1",
	[Q_TAGS] = "SELECT tag FROM tags WHERE customer_id = ?1",
	[Q_CONSENT] = "SELECT channel, granted FROM consent WHERE customer_id = ?1",
	[Q_ATTRIBUTE] = "SELECT value FROM attributes WHERE customer_id = ?1 AND name = ?2",
	[Q_ATTRIBUTES] = "SELECT name, value FROM attributes WHERE customer_id = ?1",
	[Q_RECS] = "SELECT p.sku, p.name, p.category, r.score FROM recommendations r"
		   " JOIN products p ON p.id = r.product_id WHERE r.customer_id = ?1"
		   " ORDER BY r.rank",
	/* every segmentation: the first under "segment" (its plugin in the
	 * model), the others under "segment.NAME" */
	[Q_SEGMENTS] = "SELECT CASE WHEN name = 'segment' THEN substr(model, 9,"
		       " instr(model || ' ', ' ') - 9) ELSE substr(name, 9) END, label"
		       " FROM scores WHERE customer_id = ?1 AND (name = 'segment'"
		       " OR name GLOB 'segment.*')",
};

struct patron_view {
	patron_store *s;
	int64_t now;
	sqlite3_stmt *q[Q_COUNT_];
	/* bulk reading */
	int bulk;
	int64_t *ids;
	size_t n;
	int32_t *row_of;	/* customer id -> row, -1 for none */
	int64_t max_id;
	column *cols;
	size_t ncols;
	const cell *orders[4];	/* count, cents, first, last once loaded: read for
				 * every customer, so not looked up by name */
	patron_strmap interned;
	char **texts;
	size_t ntexts;
	/* why a rule matched */
	int recording;
	char why[WHY_MAX][48];
	int nwhy;
};

patron_view *patron_view_new(patron_store *s, int64_t now)
{
	patron_view *v = patron_xcalloc(1, sizeof *v);
	v->s = s;
	v->now = now;
	return v;
}

void patron_view_free(patron_view *v)
{
	if (!v)
		return;
	for (int i = 0; i < Q_COUNT_; i++)
		sqlite3_finalize(v->q[i]);
	for (size_t i = 0; i < v->ncols; i++) {
		free(v->cols[i].key);
		free(v->cols[i].cells);
	}
	free(v->cols);
	for (size_t i = 0; i < v->ntexts; i++)
		free(v->texts[i]);
	free(v->texts);
	patron_strmap_free(&v->interned);
	free(v->ids);
	free(v->row_of);
	free(v);
}

/* A reset statement of the per-customer queries, or a Lua error. */
static sqlite3_stmt *query(lua_State *L, patron_view *v, int q, int64_t cid)
{
	if (!v->q[q] && sqlite3_prepare_v3(patron_store_db(v->s), query_sql[q], -1,
					   SQLITE_PREPARE_PERSISTENT, &v->q[q], NULL) != SQLITE_OK)
		luaL_error(L, "reading a customer: %s", sqlite3_errmsg(patron_store_db(v->s)));
	sqlite3_reset(v->q[q]);
	sqlite3_bind_int64(v->q[q], 1, cid);
	return v->q[q];
}

static void push_column_value(lua_State *L, sqlite3_stmt *st, int col)
{
	switch (sqlite3_column_type(st, col)) {
	case SQLITE_INTEGER:
		lua_pushinteger(L, sqlite3_column_int64(st, col));
		break;
	case SQLITE_FLOAT:
		lua_pushnumber(L, sqlite3_column_double(st, col));
		break;
	case SQLITE_NULL:
		lua_pushnil(L);
		break;
	default:
		lua_pushstring(L, (const char *)sqlite3_column_text(st, col));
	}
}

static void push_time(lua_State *L, int64_t t)
{
	char buf[32];
	lua_pushstring(L, patron_format_date(t, buf));
}

/* ---- bulk columns ---- */

static uint32_t intern(patron_view *v, const char *s)
{
	int64_t id;
	if (patron_strmap_get(&v->interned, s, &id))
		return (uint32_t)id;
	if ((v->ntexts & (v->ntexts - 1)) == 0)	/* grow at powers of two */
		v->texts = patron_xrealloc(v->texts, (v->ntexts ? 2 * v->ntexts : 1) *
					   sizeof *v->texts);
	v->texts[v->ntexts] = patron_xstrdup(s);
	patron_strmap_put(&v->interned, s, (int64_t)v->ntexts);
	return (uint32_t)v->ntexts++;
}

static cell *find_column(patron_view *v, const char *key)
{
	for (size_t i = 0; i < v->ncols; i++)
		if (strcmp(v->cols[i].key, key) == 0)
			return v->cols[i].cells;
	return NULL;
}

static cell *add_column(patron_view *v, const char *key)
{
	v->cols = patron_xrealloc(v->cols, (v->ncols + 1) * sizeof *v->cols);
	column *c = &v->cols[v->ncols++];
	c->key = patron_xstrdup(key);
	c->cells = patron_xcalloc(v->n ? v->n : 1, sizeof *c->cells);
	return c->cells;
}

static void set_cell(patron_view *v, cell *c, sqlite3_stmt *st, int col)
{
	switch (sqlite3_column_type(st, col)) {
	case SQLITE_INTEGER:
		*c = (cell){.type = V_INT, .u.i = sqlite3_column_int64(st, col)};
		break;
	case SQLITE_FLOAT:
		*c = (cell){.type = V_REAL, .u.d = sqlite3_column_double(st, col)};
		break;
	case SQLITE_TEXT:
	case SQLITE_BLOB:
		*c = (cell){.type = V_TEXT,
			    .u.text = intern(v, (const char *)sqlite3_column_text(st, col))};
		break;
	default:
		c->type = V_NIL;
	}
}

static int64_t row_of(const patron_view *v, int64_t cid)
{
	return cid >= 0 && cid <= v->max_id ? v->row_of[cid] : -1;
}

/* Loads columns KEYS[0..n) from SQL whose rows are (customer_id, one value
 * per key), for every customer at once. */
static void load_columns(lua_State *L, patron_view *v, const char *sql, const char *bind,
			 const char *const *keys, int nkeys)
{
	cell *cols[8];
	for (int k = 0; k < nkeys; k++)
		cols[k] = add_column(v, keys[k]);
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(patron_store_db(v->s), sql, -1, &st, NULL) != SQLITE_OK)
		luaL_error(L, "reading customers: %s", sqlite3_errmsg(patron_store_db(v->s)));
	if (bind)
		sqlite3_bind_text(st, 1, bind, -1, SQLITE_STATIC);
	while (sqlite3_step(st) == SQLITE_ROW) {
		int64_t r = row_of(v, sqlite3_column_int64(st, 0));
		if (r < 0)
			continue;
		for (int k = 0; k < nkeys; k++)
			set_cell(v, &cols[k][r], st, k + 1);
	}
	sqlite3_finalize(st);
}

/* The orders group (count, cents, first, last) of every customer, from
 * the summary the store keeps (customer_orders): one row a customer. */
static void load_orders(lua_State *L, patron_view *v)
{
	cell *count = add_column(v, "o:count"), *cents = add_column(v, "o:cents");
	cell *first = add_column(v, "o:first"), *last = add_column(v, "o:last");
	for (size_t r = 0; r < v->n; r++)
		count[r].type = cents[r].type = first[r].type = last[r].type = V_INT;
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(patron_store_db(v->s), "SELECT customer_id, orders, spent_cents,"
			       " first_at, last_at FROM customer_orders", -1, &st, NULL) != SQLITE_OK)
		luaL_error(L, "reading orders: %s", sqlite3_errmsg(patron_store_db(v->s)));
	while (sqlite3_step(st) == SQLITE_ROW) {
		int64_t r = row_of(v, sqlite3_column_int64(st, 0));
		if (r < 0)
			continue;
		count[r].u.i = sqlite3_column_int64(st, 1);
		cents[r].u.i = sqlite3_column_int64(st, 2);
		first[r].u.i = sqlite3_column_int64(st, 3);
		last[r].u.i = sqlite3_column_int64(st, 4);
	}
	sqlite3_finalize(st);
}

int patron_view_bulk(patron_view *v, const int64_t **ids, size_t *n, patron_err *err)
{
	if (!v->bulk) {
		sqlite3_stmt *st;
		if (sqlite3_prepare_v2(patron_store_db(v->s), "SELECT id FROM customers ORDER BY id",
				       -1, &st, NULL) != SQLITE_OK)
			return patron_store_fail(v->s, err, "listing customers");
		size_t cap = 0;
		while (sqlite3_step(st) == SQLITE_ROW) {
			if (v->n == cap) {
				cap = cap ? 2 * cap : 1024;
				v->ids = patron_xrealloc(v->ids, cap * sizeof *v->ids);
			}
			v->ids[v->n++] = sqlite3_column_int64(st, 0);
		}
		sqlite3_finalize(st);
		v->max_id = v->n ? v->ids[v->n - 1] : 0;
		v->row_of = patron_xmalloc((size_t)(v->max_id + 1) * sizeof *v->row_of);
		memset(v->row_of, 0xff, (size_t)(v->max_id + 1) * sizeof *v->row_of);
		for (size_t i = 0; i < v->n; i++)
			v->row_of[v->ids[i]] = (int32_t)i;
		v->bulk = 1;
	}
	*ids = v->ids;
	*n = v->n;
	return 0;
}

/* The bulk cell of KEY for ROW, loading the column on first use. */
static const cell *bulk_cell(lua_State *L, patron_view *v, const char *key, int64_t row)
{
	cell *c = find_column(v, key);
	if (!c) {
		if (strncmp(key, "score:", 6) == 0 || strncmp(key, "label:", 6) == 0) {
			char k2[2][80];
			snprintf(k2[0], sizeof k2[0], "score:%s", key + 6);
			snprintf(k2[1], sizeof k2[1], "label:%s", key + 6);
			const char *keys[] = {k2[0], k2[1]};
			load_columns(L, v, "SELECT customer_id, value, label FROM scores WHERE name = ?1",
				     key + 6, keys, 2);
		} else if (strncmp(key, "attr:", 5) == 0) {
			const char *keys[] = {key};
			load_columns(L, v, "SELECT customer_id, value FROM attributes WHERE name = ?1",
				     key + 5, keys, 1);
		} else if (strcmp(key, "email") == 0) {
			const char *keys[] = {key};
			load_columns(L, v, "SELECT customer_id, min(value) FROM identities WHERE"
				     " kind = 'email' GROUP BY customer_id", NULL, keys, 1);
		} else {
			load_orders(L, v);
		}
		c = find_column(v, key);
	}
	return &c[row];
}

static void push_cell(lua_State *L, const patron_view *v, const cell *c)
{
	switch (c->type) {
	case V_INT:
		lua_pushinteger(L, c->u.i);
		break;
	case V_REAL:
		lua_pushnumber(L, c->u.d);
		break;
	case V_TEXT:
		lua_pushstring(L, v->texts[c->u.text]);
		break;
	default:
		lua_pushnil(L);
	}
}

/* ---- fields ---- */

/* Orders: count, cents, first, last, for one customer or from the columns. */
typedef struct {
	int64_t count, cents, first, last;
} orders_summary;

static void orders_of(lua_State *L, patron_view *v, const cview *cv, orders_summary *o)
{
	memset(o, 0, sizeof *o);
	if (cv->row >= 0) {
		if (!v->orders[0]) {
			static const char *const keys[] = {"o:count", "o:cents", "o:first", "o:last"};
			for (int k = 0; k < 4; k++)
				v->orders[k] = bulk_cell(L, v, keys[k], 0);
		}
		o->count = v->orders[0][cv->row].u.i;
		o->cents = v->orders[1][cv->row].u.i;
		o->first = v->orders[2][cv->row].u.i;
		o->last = v->orders[3][cv->row].u.i;
		return;
	}
	sqlite3_stmt *st = query(L, v, Q_ORDERS, cv->cid);
	if (sqlite3_step(st) == SQLITE_ROW) {
		o->count = sqlite3_column_int64(st, 0);
		o->cents = sqlite3_column_int64(st, 1);
		o->first = sqlite3_column_int64(st, 2);
		o->last = sqlite3_column_int64(st, 3);
	}
	sqlite3_reset(st);
}

static void push_orders_field(lua_State *L, patron_view *v, const cview *cv, field f)
{
	orders_summary o;
	orders_of(L, v, cv, &o);
	if (f == F_ORDERS)
		lua_pushinteger(L, o.count);
	else if (f == F_TOTAL_SPENT)
		lua_pushnumber(L, (double)o.cents / 100.0);
	else if (!o.count)
		lua_pushnil(L);	/* never ordered: no dates, no days since */
	else if (f == F_FIRST_ORDER_AT)
		push_time(L, o.first);
	else if (f == F_LAST_ORDER_AT)
		push_time(L, o.last);
	else
		lua_pushinteger(L, patron_day_number(v->now) - patron_day_number(o.last));
}

/* A score's value (LABEL = 0) or label, e.g. churn or segment. */
static void push_score(lua_State *L, patron_view *v, const cview *cv, const char *name,
		       int label)
{
	if (cv->row >= 0) {
		char key[80];
		snprintf(key, sizeof key, "%s:%s", label ? "label" : "score", name);
		push_cell(L, v, bulk_cell(L, v, key, cv->row));
		return;
	}
	sqlite3_stmt *st = query(L, v, Q_SCORE, cv->cid);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		push_column_value(L, st, label);
	else
		lua_pushnil(L);
	sqlite3_reset(st);
}

static void push_identity(lua_State *L, patron_view *v, const cview *cv, const char *kind)
{
	if (cv->row >= 0 && strcmp(kind, "email") == 0) {
		push_cell(L, v, bulk_cell(L, v, "email", cv->row));
		return;
	}
	sqlite3_stmt *st = query(L, v, Q_IDENTITY, cv->cid);
	sqlite3_bind_text(st, 2, kind, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		push_column_value(L, st, 0);
	else
		lua_pushnil(L);
	sqlite3_reset(st);
}

static void push_customer_row(lua_State *L, patron_view *v, const cview *cv, field f)
{
	sqlite3_stmt *st = query(L, v, Q_CUSTOMER, cv->cid);
	if (sqlite3_step(st) != SQLITE_ROW) {
		lua_pushnil(L);
	} else if (f == F_CREATED_AT) {
		push_time(L, sqlite3_column_int64(st, 2));
	} else if (f == F_NAME) {
		const char *a = (const char *)sqlite3_column_text(st, 0);
		const char *b = (const char *)sqlite3_column_text(st, 1);
		if (a && b)
			lua_pushfstring(L, "%s %s", a, b);
		else if (a || b)
			lua_pushstring(L, a ? a : b);
		else
			lua_pushnil(L);
	} else {
		push_column_value(L, st, f == F_FIRST_NAME ? 0 : 1);
	}
	sqlite3_reset(st);
}

static void push_attribute(lua_State *L, patron_view *v, const cview *cv, const char *name)
{
	if (cv->row >= 0) {
		char key[160];
		snprintf(key, sizeof key, "attr:%s", name);
		push_cell(L, v, bulk_cell(L, v, key, cv->row));
		return;
	}
	sqlite3_stmt *st = query(L, v, Q_ATTRIBUTE, cv->cid);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		push_column_value(L, st, 0);
	else
		lua_pushnil(L);
	sqlite3_reset(st);
}

/* Table-valued fields: built from one query each. */
static void push_table_field(lua_State *L, patron_view *v, const cview *cv, field f)
{
	static const int q_of[] = {[F_RFM] = Q_RFM, [F_SCORES] = Q_SCORES, [F_TAGS] = Q_TAGS,
				   [F_CONSENT] = Q_CONSENT, [F_ATTRIBUTES] = Q_ATTRIBUTES,
				   [F_RECOMMENDATIONS] = Q_RECS, [F_SEGMENTS] = Q_SEGMENTS};
	sqlite3_stmt *st = query(L, v, q_of[f], cv->cid);
	lua_newtable(L);
	lua_Integer n = 0;
	while (sqlite3_step(st) == SQLITE_ROW) {
		switch (f) {
		case F_TAGS:
			lua_pushboolean(L, 1);
			lua_setfield(L, -2, (const char *)sqlite3_column_text(st, 0));
			break;
		case F_CONSENT:
			lua_pushboolean(L, sqlite3_column_int(st, 1));
			lua_setfield(L, -2, (const char *)sqlite3_column_text(st, 0));
			break;
		case F_SCORES:
			push_column_value(L, st, sqlite3_column_type(st, 1) == SQLITE_NULL ? 2 : 1);
			lua_setfield(L, -2, (const char *)sqlite3_column_text(st, 0));
			break;
		case F_RECOMMENDATIONS:
			lua_createtable(L, 0, 5);
			lua_pushinteger(L, n + 1);
			lua_setfield(L, -2, "rank");
			const char *keys[] = {"sku", "name", "category", "score"};
			for (int k = 0; k < 4; k++) {
				push_column_value(L, st, k);
				lua_setfield(L, -2, keys[k]);
			}
			lua_rawseti(L, -2, ++n);
			break;
		default:	/* rfm, attributes: name -> value */
			push_column_value(L, st, 1);
			lua_setfield(L, -2, (const char *)sqlite3_column_text(st, 0));
		}
	}
	sqlite3_reset(st);
}

static field field_of(const char *key)
{
	for (int i = 0; field_names[i]; i++)
		if (strcmp(field_names[i], key) == 0)
			return (field)i;
	return F_ATTRIBUTE;
}

static void note_why(patron_view *v, const char *key)
{
	if (!v->recording || v->nwhy == WHY_MAX || strlen(key) >= sizeof v->why[0])
		return;
	for (int i = 0; i < v->nwhy; i++)
		if (strcmp(v->why[i], key) == 0)
			return;
	strcpy(v->why[v->nwhy++], key);
}

static int view_index(lua_State *L)
{
	patron_view *v = lua_touserdata(L, lua_upvalueindex(1));
	const cview *cv = luaL_checkudata(L, 1, META);
	if (lua_type(L, 2) != LUA_TSTRING)
		return lua_pushnil(L), 1;
	const char *key = lua_tostring(L, 2);
	note_why(v, key);
	field f = field_of(key);
	switch (f) {
	case F_ID:
		lua_pushinteger(L, cv->cid);
		break;
	case F_EMAIL:
	case F_PHONE:
		push_identity(L, v, cv, key);
		break;
	case F_FIRST_NAME:
	case F_LAST_NAME:
	case F_NAME:
	case F_CREATED_AT:
		push_customer_row(L, v, cv, f);
		break;
	case F_ORDERS:
	case F_TOTAL_SPENT:
	case F_FIRST_ORDER_AT:
	case F_LAST_ORDER_AT:
	case F_DAYS_SINCE_LAST_ORDER:
		push_orders_field(L, v, cv, f);
		break;
	case F_SEGMENT:
		push_score(L, v, cv, "segment", 1);
		break;
	case F_CHURN:
	case F_CLV:
	case F_P_ALIVE:
	case F_EXPECTED_PURCHASES:
	case F_SENTIMENT:
	case F_NPS:	/* the latest survey answers (inbox/survey.h) */
	case F_CSAT:
		push_score(L, v, cv, key, 0);
		break;
	case F_CHURN_REASONS: {
		/* "a; b; c" as the list {"a", "b", "c"}; none as an empty list. */
		push_score(L, v, cv, "churn_reasons", 1);
		const char *text = lua_tostring(L, -1);
		lua_newtable(L);
		for (lua_Integer i = 1; text && *text; i++) {
			const char *end = strstr(text, "; ");
			size_t len = end ? (size_t)(end - text) : strlen(text);
			lua_pushlstring(L, text, len);
			lua_rawseti(L, -2, i);
			text = end ? end + 2 : NULL;
		}
		lua_remove(L, -2);
		break;
	}
	case F_ATTRIBUTE:
		push_attribute(L, v, cv, key);
		break;
	default:
		/* Tables are cached in the view, so c.tags.a and c.tags.b read
		 * the tags once. */
		if (lua_getiuservalue(L, 1, 1) != LUA_TTABLE) {
			lua_pop(L, 1);
			lua_newtable(L);
			lua_pushvalue(L, -1);
			lua_setiuservalue(L, 1, 1);
		}
		if (lua_getfield(L, -1, key) != LUA_TNIL)
			return 1;
		lua_pop(L, 1);
		push_table_field(L, v, cv, f);
		lua_pushvalue(L, -1);
		lua_setfield(L, -3, key);
	}
	return 1;
}

static int view_newindex(lua_State *L)
{
	return luaL_error(L, "a customer view is read-only: use set(c, name, value)");
}

static int view_tostring(lua_State *L)
{
	const cview *cv = luaL_checkudata(L, 1, META);
	lua_pushfstring(L, "customer %I", (lua_Integer)cv->cid);
	return 1;
}

static int view_eq(lua_State *L)
{
	const cview *a = luaL_testudata(L, 1, META), *b = luaL_testudata(L, 2, META);
	lua_pushboolean(L, a && b && a->cid == b->cid);
	return 1;
}

void patron_view_open(lua_State *L, patron_view *v)
{
	luaL_newmetatable(L, META);
	lua_pushlightuserdata(L, v);
	lua_pushcclosure(L, view_index, 1);
	lua_setfield(L, -2, "__index");
	lua_pushcfunction(L, view_newindex);
	lua_setfield(L, -2, "__newindex");
	lua_pushcfunction(L, view_tostring);
	lua_setfield(L, -2, "__tostring");
	lua_pushcfunction(L, view_eq);
	lua_setfield(L, -2, "__eq");
	lua_pushboolean(L, 0);
	lua_setfield(L, -2, "__metatable");	/* rules cannot swap it */
	lua_pop(L, 1);
}

void patron_view_push(lua_State *L, int64_t cid, int64_t row)
{
	cview *cv = lua_newuserdatauv(L, sizeof *cv, 1);
	cv->cid = cid;
	cv->row = row;
	luaL_setmetatable(L, META);
}

int64_t patron_view_id(lua_State *L, int idx)
{
	const cview *cv = luaL_testudata(L, idx, META);
	return cv ? cv->cid : 0;
}

void patron_view_record(patron_view *v, int on)
{
	v->recording = on;
	if (on)
		v->nwhy = 0;
}

void patron_view_why(patron_view *v, lua_State *L, int idx, patron_buf *text, json_t *obj)
{
	int was = v->recording;
	v->recording = 0;
	idx = lua_absindex(L, idx);
	int top = lua_gettop(L);
	for (int i = 0; i < v->nwhy; i++) {
		lua_getfield(L, idx, v->why[i]);
		json_t *j;
		const char *s;
		if (lua_istable(L, -1)) {
			j = json_string("(table)");
			s = "(table)";
		} else {
			j = patron_lua_to_json(L, -1, NULL);
			s = luaL_tolstring(L, -1, NULL);
		}
		patron_buf_printf(text, "%s%s=%s", text->len ? " " : "", v->why[i], s);
		json_object_set_new(obj, v->why[i], j ? j : json_null());
		lua_settop(L, top);
	}
	v->recording = was;
}

/* ---- JSON <-> Lua ---- */

void patron_lua_push_json(lua_State *L, json_t *j)
{
	switch (json_typeof(j)) {
	case JSON_OBJECT: {
		lua_createtable(L, 0, (int)json_object_size(j));
		const char *k;
		json_t *x;
		json_object_foreach(j, k, x) {
			patron_lua_push_json(L, x);
			lua_setfield(L, -2, k);
		}
		break;
	}
	case JSON_ARRAY: {
		lua_createtable(L, (int)json_array_size(j), 0);
		size_t i;
		json_t *x;
		json_array_foreach(j, i, x) {
			patron_lua_push_json(L, x);
			lua_rawseti(L, -2, (lua_Integer)i + 1);
		}
		break;
	}
	case JSON_STRING:
		lua_pushlstring(L, json_string_value(j), json_string_length(j));
		break;
	case JSON_INTEGER:
		lua_pushinteger(L, json_integer_value(j));
		break;
	case JSON_REAL:
		lua_pushnumber(L, json_real_value(j));
		break;
	case JSON_TRUE:
	case JSON_FALSE:
		lua_pushboolean(L, json_is_true(j));
		break;
	default:
		lua_pushnil(L);
	}
}

static json_t *to_json(lua_State *L, int idx, int depth, const char **what)
{
	idx = lua_absindex(L, idx);
	switch (lua_type(L, idx)) {
	case LUA_TNIL:
		return json_null();
	case LUA_TBOOLEAN:
		return json_boolean(lua_toboolean(L, idx));
	case LUA_TNUMBER:
		if (lua_isinteger(L, idx))
			return json_integer(lua_tointeger(L, idx));
		if (!isfinite(lua_tonumber(L, idx)))
			return *what = "a finite number", NULL;
		return json_real(lua_tonumber(L, idx));
	case LUA_TSTRING: {
		size_t n;
		const char *s = lua_tolstring(L, idx, &n);
		json_t *j = json_stringn(s, n);
		return j ? j : (*what = "UTF-8 text", NULL);
	}
	case LUA_TUSERDATA:
		if (patron_view_id(L, idx))
			return json_integer(patron_view_id(L, idx));
		break;
	case LUA_TTABLE: {
		if (depth > 16)
			return *what = "tables nested at most 16 deep", NULL;
		lua_Integer len = (lua_Integer)lua_rawlen(L, idx);
		json_t *out;
		if (len > 0) {
			out = json_array();
			for (lua_Integer i = 1; i <= len; i++) {
				lua_rawgeti(L, idx, i);
				json_t *x = to_json(L, -1, depth + 1, what);
				lua_pop(L, 1);
				if (!x)
					return json_decref(out), NULL;
				json_array_append_new(out, x);
			}
			return out;
		}
		out = json_object();
		lua_pushnil(L);
		while (lua_next(L, idx)) {
			if (lua_type(L, -2) != LUA_TSTRING) {
				lua_pop(L, 2);
				json_decref(out);
				return *what = "tables with names as keys, or lists", NULL;
			}
			json_t *x = to_json(L, -1, depth + 1, what);
			if (!x) {
				lua_pop(L, 2);
				return json_decref(out), NULL;
			}
			json_object_set_new(out, lua_tostring(L, -2), x);
			lua_pop(L, 1);
		}
		return out;
	}
	}
	*what = "text, numbers, booleans and tables";
	return NULL;
}

json_t *patron_lua_to_json(lua_State *L, int idx, const char **what)
{
	const char *dummy;
	return to_json(L, idx, 0, what ? what : &dummy);
}
