/* The customer view: what a Lua rule sees as `c`. A view is a small
 * userdata holding a customer id; every field is read when the rule first
 * asks for it, so a rule that looks at one field costs one field.
 *
 * Two ways of reading: one customer at a time (event rules: each field is
 * one indexed query), or in bulk over every customer (scheduled rules: the
 * first access to a field loads that field for all customers in one scan,
 * and later accesses are array lookups). */
#ifndef PATRON_VIEW_H
#define PATRON_VIEW_H

#include <jansson.h>
#include <lua.h>
#include <stdint.h>

#include "store.h"

typedef struct patron_view patron_view;

patron_view *patron_view_new(patron_store *s, int64_t now);
void patron_view_free(patron_view *v);

/* Makes views usable in L (their metatable); one view serves many states. */
void patron_view_open(lua_State *L, patron_view *v);

/* Switches to bulk reading and lists every customer id, ascending; the
 * array belongs to the view. */
int patron_view_bulk(patron_view *v, const int64_t **ids, size_t *n, patron_err *err);

/* Pushes the view of customer CID. ROW is CID's index in the bulk list, or
 * -1 to read one customer at a time. */
void patron_view_push(lua_State *L, int64_t cid, int64_t row);
/* The customer id of the view at IDX, or 0 when it is not a view. */
int64_t patron_view_id(lua_State *L, int idx);

/* While recording, the view notes the fields a rule reads (the first eight),
 * which is why a rule matched. patron_view_why turns them, read again from
 * the view at IDX, into "field=value ..." text and a JSON object. */
void patron_view_record(patron_view *v, int on);
void patron_view_why(patron_view *v, lua_State *L, int idx, patron_buf *text, json_t *obj);

/* Pushes a JSON value as Lua (objects and arrays as tables), and turns the
 * Lua value at IDX into JSON: NULL with *what set when it cannot. */
void patron_lua_push_json(lua_State *L, json_t *j);
json_t *patron_lua_to_json(lua_State *L, int idx, const char **what);

#endif
