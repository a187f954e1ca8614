#include "rules.h"

#include <lauxlib.h>
#include <libgen.h>
#include <lualib.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "rules_impl.h"
#include "value.h"

#define STEP_CHUNK 1000		/* instructions between two budget checks */
#define BYTES_PER_STEP 64	/* a string function's work, charged to the budget */
/* The most work a pattern may need in the worst case (its length times the
 * text's length to the power of its repetitions, one more unanchored):
 * about a second. Lua's matcher backtracks in C, where no hook can stop it,
 * so a pattern that could run for hours is refused before it starts. */
#define PATTERN_WORK 1e9
#define ERRORS_SHOWN 5		/* rule errors printed per rule; the rest counted */
#define DEFAULT_MAX_AGE (7 * 86400)

static const char *const stmt_sql[A_COUNT_] = {
	[A_AUDIT] = "INSERT INTO audit(rule, trigger, event_id, customer_id, action, detail,"
		    " status, reason, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
	[A_COOLDOWN] = "SELECT 1 FROM audit WHERE rule = ?1 AND customer_id = ?2 AND at > ?3"
		       " AND status = 'done' LIMIT 1",
	[A_CONSENT] = "SELECT granted FROM consent WHERE customer_id = ?1 AND channel = ?2",
	[A_CAP] = "SELECT count(*) FROM outbox WHERE customer_id = ?1 AND created_at > ?2",
	[A_OUTBOX] = "INSERT INTO outbox(key, channel, customer_id, address, template,"
		     " template_path, vars, rule, audit_id, created_at, next_at)"
		     " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10)"
		     " ON CONFLICT(key) DO NOTHING",
	[A_IDENTITY] = "SELECT value FROM identities WHERE customer_id = ?1 AND kind = ?2"
		       " ORDER BY value LIMIT 1",
	[A_TAG] = "INSERT OR IGNORE INTO tags(customer_id, tag, created_at) VALUES (?1, ?2, ?3)",
	[A_UNTAG] = "DELETE FROM tags WHERE customer_id = ?1 AND tag = ?2",
	[A_ATTR_DEF] = "SELECT type FROM attribute_defs WHERE name = ?1",
	[A_ATTR_DEF_PUT] = "INSERT INTO attribute_defs(name, type) VALUES (?1, ?2)",
	[A_ATTR_PUT] = "INSERT INTO attributes(customer_id, name, value) VALUES (?1, ?2, ?3)"
		       " ON CONFLICT(customer_id, name) DO UPDATE SET value = excluded.value",
	[A_ATTR_DEL] = "DELETE FROM attributes WHERE customer_id = ?1 AND name = ?2",
	[A_SCHEDULE_GET] = "SELECT last_at FROM schedules WHERE name = ?1",
	[A_SCHEDULE_PUT] = "INSERT INTO schedules(name, last_at) VALUES (?1, ?2)"
			   " ON CONFLICT(name) DO UPDATE SET last_at = excluded.last_at",
	[A_ORDER] = "SELECT id, order_key, placed_at, total_cents, status, revenue, customer_id"
		    " FROM orders WHERE id = ?1",
	[A_ORDER_NUMBER] = "SELECT count(*) FROM orders WHERE customer_id = ?1 AND revenue"
			   " AND (placed_at < ?2 OR (placed_at = ?2 AND id <= ?3))",
};

sqlite3_stmt *patron_rules_stmt(patron_rules *r, int id)
{
	sqlite3 *db = patron_store_db(r->o.store);
	if (!r->st[id] && sqlite3_prepare_v3(db, stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT,
					     &r->st[id], NULL) != SQLITE_OK)
		return NULL;
	sqlite3_reset(r->st[id]);
	sqlite3_clear_bindings(r->st[id]);
	return r->st[id];
}

patron_rules *patron_rules_new(const patron_rules_opts *o)
{
	patron_rules *r = patron_xcalloc(1, sizeof *r);
	r->o = *o;
	if (!r->o.steps)
		r->o.steps = PATRON_RULE_STEPS;
	if (!r->o.memory)
		r->o.memory = PATRON_RULE_MEMORY;
	if (!r->o.seconds)
		r->o.seconds = PATRON_RULE_SECONDS;
	if (o->store)
		r->view = patron_view_new(o->store, o->now);
	return r;
}

void patron_rules_free(patron_rules *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->nrules; i++) {
		rule *ru = r->rules[i];
		free(ru->name);
		free(ru->file);
		free(ru->pattern);
		free(ru->description);
		free(ru);
	}
	free(r->rules);
	for (size_t i = 0; i < r->nfiles; i++) {
		lua_close(r->files[i]->L);
		free(r->files[i]->path);
		free(r->files[i]->dir);
		free(r->files[i]);
	}
	free(r->files);
	for (int i = 0; i < A_COUNT_; i++)
		sqlite3_finalize(r->st[i]);
	patron_bus_free(r->bus);
	patron_view_free(r->view);
	patron_actions_free(r);
	free(r);
}

size_t patron_rules_count(const patron_rules *r) { return r->nrules; }

/* ---- the sandbox ---- */

static rule_file *file_of(lua_State *L) { return *(rule_file **)lua_getextraspace(L); }

/* The allocator: a cap on what the state holds while a rule runs. Lua
 * collects garbage and retries before it reports that memory ran out. */
static void *capped_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
	rule_file *f = ud;
	if (ptr == NULL)
		osize = 0;
	if (nsize == 0) {
		free(ptr);
		f->used -= osize;
		return NULL;
	}
	if (f->capped && nsize > osize && f->used + (nsize - osize) > f->cap) {
		f->over = 1;
		return NULL;
	}
	void *p = realloc(ptr, nsize);
	if (p)
		f->used += nsize - osize;
	return p;
}

/* Starts the limits of one call (or of loading a file). */
static void limits_start(rule_file *f)
{
	f->steps = 0;
	f->over = 0;
	f->deadline = patron_clock() + (double)f->owner->o.seconds;
}

/* Raises the error of a call over its limits, at the Lua line AR names. */
static int over_limits(lua_State *L, rule_file *f, lua_Debug *ar)
{
	int time = patron_clock() > f->deadline;
	if (!time && f->steps <= f->budget)
		return 0;
	f->over = 1;
	lua_getinfo(L, "Sl", ar);
	/* Not luaL_error: from a C function it would name the place twice. */
	if (time)
		lua_pushfstring(L, "%s:%d: stopped after %I s (the time limit of one call)",
				ar->short_src, ar->currentline, (lua_Integer)f->owner->o.seconds);
	else
		lua_pushfstring(L, "%s:%d: stopped after %I instructions (the budget of one call)",
				ar->short_src, ar->currentline, (lua_Integer)f->budget);
	return lua_error(L);
}

static void budget_hook(lua_State *L, lua_Debug *ar)
{
	rule_file *f = file_of(L);
	f->steps += STEP_CHUNK;
	over_limits(L, f, ar);
}

/* Charges BYTES of a string function's work to the call's budget, and
 * stops the call there if it is over its limits. */
static void charge(lua_State *L, size_t bytes)
{
	rule_file *f = file_of(L);
	f->steps += (long)(bytes / BYTES_PER_STEP);
	lua_Debug ar;
	if (lua_getstack(L, 1, &ar))
		over_limits(L, f, &ar);
}

/* The repetitions (*, +, -) of Lua pattern P, and whether it is anchored;
 * a balance %bxy scans too, so it counts as one. */
static int pattern_repeats(const char *p, size_t n, int *anchored)
{
	size_t i = 0;
	int q = 0;
	*anchored = n && p[0] == '^';
	i = *anchored;
	while (i < n) {
		char c = p[i++];
		if (c == '(' || c == ')')
			continue;
		if (c == '%' && i < n) {
			char k = p[i++];
			if (k == 'b') {
				i += 2;
				q++;
				continue;
			}
			if (k == 'f' && i < n && p[i] == '[')
				c = p[i++];	/* the frontier's set: read below */
			else
				goto item;
		}
		if (c == '[') {
			if (i < n && p[i] == '^')
				i++;
			do {	/* a ']' first is part of the set */
				if (i < n && p[i] == '%')
					i++;
				i++;
			} while (i < n && p[i] != ']');
			i++;
		}
item:
		if (i < n && (p[i] == '*' || p[i] == '+' || p[i] == '-')) {
			q++;
			i++;
		} else if (i < n && p[i] == '?') {
			i++;
		}
	}
	return q;
}

/* A string library function, metered: the bytes it is given and returns
 * are charged to the call's budget, and a pattern that could backtrack for
 * too long on its text is refused before it runs. */
static int metered(lua_State *L)
{
	lua_CFunction fn = lua_tocfunction(L, lua_upvalueindex(1));
	const char *name = lua_tostring(L, lua_upvalueindex(2));
	int nargs = lua_gettop(L);
	size_t in = 0, len;
	for (int i = 1; i <= nargs; i++)
		if (lua_type(L, i) == LUA_TSTRING)
			in += lua_rawlen(L, i);
	int finds = strcmp(name, "find") == 0, gmatch = strcmp(name, "gmatch") == 0;
	if ((finds || gmatch || strcmp(name, "match") == 0 || strcmp(name, "gsub") == 0) &&
	    lua_type(L, 1) == LUA_TSTRING && lua_type(L, 2) == LUA_TSTRING &&
	    !(finds && lua_toboolean(L, 4))) {
		size_t n = lua_rawlen(L, 1);
		const char *p = lua_tolstring(L, 2, &len);
		int anchored, q = pattern_repeats(p, len, &anchored);
		if (gmatch)
			anchored = 0;	/* gmatch takes ^ as a character */
		double work = (double)(len ? len : 1);
		for (int i = 0; i < q + !anchored && work <= PATTERN_WORK; i++)
			work *= (double)(n ? n : 1);
		if (work > PATTERN_WORK)
			return luaL_error(L, "string.%s: a pattern with %d repetitions (*, +, -) on a "
					  "text of %I bytes could take hours; shorten the text or "
					  "use fewer repetitions", name, q, (lua_Integer)n);
	} else if (strcmp(name, "rep") == 0 && lua_type(L, 1) == LUA_TSTRING) {
		lua_Integer times = lua_tointeger(L, 2);
		size_t sep = lua_type(L, 3) == LUA_TSTRING ? lua_rawlen(L, 3) : 0;
		double total = times > 0 ? (double)times * (double)(lua_rawlen(L, 1) + sep) : 0;
		in += total < 1e18 ? (size_t)total : (size_t)1e18;
	}
	charge(L, in);
	int nres = fn(L), top = lua_gettop(L);
	size_t out = 0;
	for (int i = top - nres + 1; i <= top; i++)
		if (lua_type(L, i) == LUA_TSTRING)
			out += lua_rawlen(L, i);
	charge(L, out);
	return nres;
}

/* Meters every function of the library table at -1 (string, table). */
static void meter_library(lua_State *L)
{
	lua_pushnil(L);
	while (lua_next(L, -2)) {
		if (lua_iscfunction(L, -1)) {
			lua_pushvalue(L, -2);	/* the name */
			lua_pushcclosure(L, metered, 2);
			lua_pushvalue(L, -2);
			lua_insert(L, -2);
			lua_rawset(L, -4);
		} else {
			lua_pop(L, 1);
		}
	}
}

/* The message handler of a call: an error raised with a value that is not
 * a text (error({})) gets the file and line it was raised at. */
static int error_place(lua_State *L)
{
	if (lua_type(L, 1) == LUA_TSTRING || lua_type(L, 1) == LUA_TNUMBER)
		return 1;
	lua_Debug ar;
	for (int level = 1; lua_getstack(L, level, &ar); level++) {
		lua_getinfo(L, "Sl", &ar);
		if (ar.currentline > 0) {
			lua_pushfstring(L, "%s:%d: error raised with a %s, not a message",
					ar.short_src, ar.currentline, luaL_typename(L, 1));
			return 1;
		}
	}
	lua_pushfstring(L, "error raised with a %s, not a message", luaL_typename(L, 1));
	return 1;
}

/* pcall that cannot swallow the end of the budget or of memory. */
static int sandbox_pcall(lua_State *L)
{
	luaL_checkany(L, 1);
	int status = lua_pcall(L, lua_gettop(L) - 1, LUA_MULTRET, 0);
	if (file_of(L)->over || status == LUA_ERRMEM)
		return lua_error(L);
	lua_pushboolean(L, status == LUA_OK);
	lua_insert(L, 1);
	return lua_gettop(L);
}

/* The environment's __index: named refusals for what the sandbox leaves
 * out, nil for any other unset name. */
static int env_index(lua_State *L)
{
	const char *k = lua_tostring(L, 2);
	for (int i = 0; k && patron_rules_banned[i]; i++)
		if (strcmp(k, patron_rules_banned[i]) == 0)
			return luaL_error(L, "%s is not available in rules (they run in a sandbox)",
					  k);
	return 0;
}

static int os_index(lua_State *L)
{
	const char *k = lua_tostring(L, 2);
	return luaL_error(L, "os.%s is not available in rules (they run in a sandbox)",
			  k ? k : "?");
}

static int l_days_since(lua_State *L)
{
	if (lua_isnoneornil(L, 1))
		return 0;
	const char *s = luaL_checkstring(L, 1);
	int64_t t;
	if (patron_parse_date(s, PATRON_DATE_MDY, &t) < 0)
		return luaL_error(L, "days_since: expected a date like 2026-11-23, got \"%s\"", s);
	rule_file *f = file_of(L);
	lua_pushinteger(L, patron_day_number(f->owner->o.now) - patron_day_number(t));
	return 1;
}

static int l_rule(lua_State *L);

/* Builds the environment rule files run in, and leaves it at -1. */
static void push_sandbox(lua_State *L, patron_rules *r)
{
	static const char *const base[] = {"assert", "error", "ipairs", "next", "pairs",
					   "rawequal", "rawget", "rawlen", "rawset", "select",
					   "setmetatable", "getmetatable", "tonumber", "tostring",
					   "type", "_VERSION", NULL};
	static const luaL_Reg libs_open[] = {{LUA_GNAME, luaopen_base},
					     {LUA_STRLIBNAME, luaopen_string},
					     {LUA_TABLIBNAME, luaopen_table},
					     {LUA_MATHLIBNAME, luaopen_math},
					     {LUA_UTF8LIBNAME, luaopen_utf8},
					     {LUA_OSLIBNAME, luaopen_os},
					     {NULL, NULL}};
	for (const luaL_Reg *l = libs_open; l->name; l++) {	/* then copy what is safe */
		luaL_requiref(L, l->name, l->func, 1);
		lua_pop(L, 1);
	}
	lua_newtable(L);
	for (int i = 0; base[i]; i++) {
		lua_getglobal(L, base[i]);
		lua_setfield(L, -2, base[i]);
	}
	lua_pushcfunction(L, sandbox_pcall);
	lua_setfield(L, -2, "pcall");
	const char *libs[] = {"string", "table", "math", "utf8", NULL};
	for (int i = 0; libs[i]; i++) {
		lua_getglobal(L, libs[i]);
		lua_setfield(L, -2, libs[i]);
	}
	/* string.dump makes binary chunks; the shared string metatable reaches
	 * this same table, so it goes for good. */
	lua_getglobal(L, "string");
	lua_pushnil(L);
	lua_setfield(L, -2, "dump");
	meter_library(L);
	lua_pop(L, 1);
	const char *metered_libs[] = {"table", "utf8", NULL};
	for (int i = 0; metered_libs[i]; i++) {
		lua_getglobal(L, metered_libs[i]);
		meter_library(L);
		lua_pop(L, 1);
	}
	lua_newtable(L);	/* os: the clock only */
	lua_getglobal(L, "os");
	for (int i = 0; patron_rules_os_allowed[i]; i++) {
		lua_getfield(L, -1, patron_rules_os_allowed[i]);
		lua_setfield(L, -3, patron_rules_os_allowed[i]);
	}
	lua_pop(L, 1);
	lua_newtable(L);
	lua_pushcfunction(L, os_index);
	lua_setfield(L, -2, "__index");
	lua_setmetatable(L, -2);
	lua_setfield(L, -2, "os");
	char buf[32];
	lua_pushstring(L, patron_format_date(r->o.now, buf));
	lua_setfield(L, -2, "now");
	lua_pushstring(L, patron_format_day(r->o.now, buf));
	lua_setfield(L, -2, "today");
	lua_pushcfunction(L, l_days_since);
	lua_setfield(L, -2, "days_since");
	lua_pushcfunction(L, l_rule);
	lua_setfield(L, -2, "rule");
	patron_actions_register(L, r);
	lua_newtable(L);
	lua_pushcfunction(L, env_index);
	lua_setfield(L, -2, "__index");
	lua_setmetatable(L, -2);
	/* Drop the full libraries from the real globals: nothing reaches them. */
	lua_pushglobaltable(L);
	lua_pushnil(L);
	while (lua_next(L, -2)) {
		lua_pop(L, 1);
		lua_pushvalue(L, -1);
		lua_pushnil(L);
		lua_rawset(L, -4);
	}
	lua_pop(L, 1);
}

/* ---- rule{} ---- */

static int duration_field(lua_State *L, const char *key, int64_t *out)
{
	int t = lua_getfield(L, 1, key);
	if (t == LUA_TNIL) {
		lua_pop(L, 1);
		return 0;
	}
	if (t != LUA_TSTRING || patron_parse_duration(lua_tostring(L, -1), out) < 0)
		return luaL_error(L, "rule %s: expected a duration like \"30d\", \"12h\" or "
				  "\"15m\", got %s", key, t == LUA_TSTRING ? lua_tostring(L, -1)
							     : luaL_typename(L, -1));
	lua_pop(L, 1);
	return 1;
}

static int l_rule(lua_State *L)
{
	rule_file *f = file_of(L);
	patron_rules *r = f->owner;
	if (r->call)
		return luaL_error(L, "rule{} declares a rule at the top of a rules file, not "
				  "inside one");
	if (lua_type(L, 1) != LUA_TTABLE)
		return luaL_error(L, "rule: expected a table, as in rule { name = ..., ... }");
	static const char *const keys[] = {"name", "on", "every", "where", "act", "cooldown",
					   "limit", "max_age", "description", NULL};
	lua_pushnil(L);
	while (lua_next(L, 1)) {
		int ok = 0;
		for (int i = 0; keys[i] && lua_type(L, -2) == LUA_TSTRING; i++)
			ok |= strcmp(keys[i], lua_tostring(L, -2)) == 0;
		if (!ok)
			return luaL_error(L, "rule: unknown key %s (expected name, on or every, "
					  "where, act, cooldown, limit, max_age, description)",
					  lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : "?");
		lua_pop(L, 1);
	}
	if (lua_getfield(L, 1, "name") != LUA_TSTRING || !*lua_tostring(L, -1))
		return luaL_error(L, "rule: name: expected a non-empty text");
	const char *name = lua_tostring(L, -1);
	if (strlen(name) > 200)
		return luaL_error(L, "rule: name: at most 200 characters");
	for (size_t i = 0; i < r->nrules; i++)
		if (strcmp(r->rules[i]->name, name) == 0)
			return luaL_error(L, "rule \"%s\" is already declared at %s:%d", name,
					  r->rules[i]->file, r->rules[i]->line);
	rule ru = {.where_ref = LUA_NOREF, .act_ref = LUA_NOREF, .max_age = DEFAULT_MAX_AGE};
	int t_on = lua_getfield(L, 1, "on");
	if (t_on != LUA_TNIL && (t_on != LUA_TSTRING || !patron_pattern_valid(lua_tostring(L, -1))))
		return luaL_error(L, "rule \"%s\": on: expected a topic like \"order.created\" "
				  "or a pattern like \"order.*\"", name);
	int has_every = duration_field(L, "every", &ru.every);
	if ((t_on != LUA_TNIL) == has_every)
		return luaL_error(L, "rule \"%s\": expected one trigger: on = \"TOPIC\" or "
				  "every = \"1d\"", name);
	duration_field(L, "cooldown", &ru.cooldown);
	if (lua_getfield(L, 1, "max_age") == LUA_TBOOLEAN && !lua_toboolean(L, -1)) {
		ru.max_age = 0;
	} else if (!lua_isnil(L, -1)) {
		if (has_every)
			return luaL_error(L, "rule \"%s\": max_age is for event rules (on = ...)",
					  name);
		duration_field(L, "max_age", &ru.max_age);
	}
	lua_pop(L, 1);
	if (has_every)
		ru.max_age = 0;
	if (lua_getfield(L, 1, "limit") != LUA_TNIL) {
		if (!lua_isinteger(L, -1) || lua_tointeger(L, -1) < 1)
			return luaL_error(L, "rule \"%s\": limit: expected a whole number above 0",
					  name);
		ru.limit = (long)lua_tointeger(L, -1);
	}
	int tw = lua_getfield(L, 1, "where");
	if (tw != LUA_TNIL && tw != LUA_TFUNCTION)
		return luaL_error(L, "rule \"%s\": where: expected a function(c), got %s", name,
				  luaL_typename(L, -1));
	if (lua_getfield(L, 1, "act") != LUA_TFUNCTION)
		return luaL_error(L, "rule \"%s\": act: expected a function(c, event), got %s",
				  name, luaL_typename(L, -1));
	int td = lua_getfield(L, 1, "description");
	if (td != LUA_TNIL && td != LUA_TSTRING)
		return luaL_error(L, "rule \"%s\": description: expected a text", name);

	lua_Debug ar = {.currentline = 0};
	if (lua_getstack(L, 1, &ar))
		lua_getinfo(L, "l", &ar);
	rule *nr = patron_xmalloc(sizeof *nr);
	*nr = ru;
	nr->line = ar.currentline;
	nr->name = patron_xstrdup(name);
	nr->file = patron_xstrdup(f->path);
	nr->pattern = t_on == LUA_TSTRING ? patron_xstrdup(lua_tostring(L, 3)) : NULL;
	nr->description = td == LUA_TSTRING ? patron_xstrdup(lua_tostring(L, -1)) : NULL;
	lua_pop(L, 1);
	nr->act_ref = luaL_ref(L, LUA_REGISTRYINDEX);
	nr->where_ref = tw == LUA_TFUNCTION ? luaL_ref(L, LUA_REGISTRYINDEX)
					    : (lua_pop(L, 1), LUA_NOREF);
	nr->f = f;
	nr->owner = r;
	r->rules = patron_xrealloc(r->rules, (r->nrules + 1) * sizeof *r->rules);
	r->rules[r->nrules++] = nr;
	return 0;
}

static int load_text(patron_rules *r, const char *path, const char *dir, patron_buf *text,
		     patron_err *err);

int patron_rules_load(patron_rules *r, const char *path, patron_err *err)
{
	FILE *fp = fopen(path, "rb");
	if (!fp)
		return patron_err_set(err, "%s: cannot read: %m", path);
	patron_buf text = {0};
	char b[8192];
	size_t n;
	while ((n = fread(b, 1, sizeof b, fp)) > 0)
		patron_buf_add(&text, b, n);
	fclose(fp);
	char *copy = patron_xstrdup(path);
	int rc = load_text(r, path, dirname(copy), &text, err);
	free(copy);
	return rc;
}

int patron_rules_load_where(patron_rules *r, const char *name, const char *expr, patron_err *err)
{
	patron_buf text = {0};
	/* The expression on the first line, so that an error's line is its
	 * own, and alone on it, so that a comment in it ends there. */
	patron_buf_printf(&text, "rule { name = \"%s\", every = \"1d\", where = function(c) "
			  "return (%s\n) end, act = function() end }", name, expr);
	if (load_text(r, name, ".", &text, err) == 0)
		return 0;
	/* "--where:2: unexpected symbol": the user wrote one line, not two */
	size_t len = strlen(name);
	char *p = err->msg + len;
	if (strncmp(err->msg, name, len) == 0 && p[0] == ':' && p[1] >= '0' && p[1] <= '9') {
		char *q = p + 1;
		while (*q >= '0' && *q <= '9')
			q++;
		if (*q == ':')
			memmove(p, q, strlen(q) + 1);
	}
	return -1;
}

/* Loads TEXT, read from PATH (a file's name, or what stands for it in
 * messages), whose templates are under DIR; frees TEXT. */
static int load_text(patron_rules *r, const char *path, const char *dir, patron_buf *text,
		     patron_err *err)
{
	rule_file *f = patron_xcalloc(1, sizeof *f);
	f->path = patron_xstrdup(path);
	f->dir = patron_xstrdup(dir);
	f->owner = r;
	f->budget = r->o.steps;
	f->L = lua_newstate(capped_alloc, f);
	if (!f->L) {
		free(f->path);
		free(f->dir);
		free(f);
		patron_buf_free(text);
		return patron_err_set(err, "%s: out of memory", path);
	}
	r->files = patron_xrealloc(r->files, (r->nfiles + 1) * sizeof *r->files);
	r->files[r->nfiles++] = f;
	lua_State *L = f->L;
	*(rule_file **)lua_getextraspace(L) = f;
	if (r->view)
		patron_view_open(L, r->view);
	push_sandbox(L, r);
	lua_setfield(L, LUA_REGISTRYINDEX, "patron.env");
	size_t before = r->nrules;

	char chunk[4200];
	snprintf(chunk, sizeof chunk, "@%s", path);
	/* Text only: a precompiled chunk could break the sandbox. */
	int binary = text->len && text->data[0] == LUA_SIGNATURE[0];
	int rc = binary ? LUA_ERRSYNTAX
		 : luaL_loadbufferx(L, text->data ? text->data : "", text->len, chunk, "t");
	if (binary)
		lua_pushfstring(L, "%s: a precompiled (binary) chunk; rule files are Lua text",
				path);
	else if (rc == LUA_OK && patron_rules_scan(path, text->data ? text->data : "", text->len,
						   err) < 0) {
		lua_pushstring(L, err->msg);
		rc = LUA_ERRSYNTAX;
	}
	patron_buf_free(text);
	if (rc == LUA_OK) {
		lua_getfield(L, LUA_REGISTRYINDEX, "patron.env");
		lua_setupvalue(L, -2, 1);	/* _ENV */
		f->cap = f->used + r->o.memory;
		f->capped = 1;
		limits_start(f);
		lua_sethook(L, budget_hook, LUA_MASKCOUNT, STEP_CHUNK);
		lua_pushcfunction(L, error_place);
		lua_insert(L, -2);
		rc = lua_pcall(L, 0, 0, -2);
		f->capped = 0;
	}
	if (rc != LUA_OK) {
		if (rc == LUA_ERRMEM)
			patron_err_set(err, "%s: uses more than %zu MiB while loading", path,
				       r->o.memory >> 20);
		else
			patron_err_set(err, "%s", lua_tostring(L, -1));
		lua_settop(L, 0);
		/* the rules of a file that failed are not kept */
		for (size_t i = before; i < r->nrules; i++) {
			free(r->rules[i]->name);
			free(r->rules[i]->file);
			free(r->rules[i]->pattern);
			free(r->rules[i]->description);
			free(r->rules[i]);
		}
		r->nrules = before;
		return -1;
	}
	lua_settop(L, 0);	/* the message handler */
	lua_gc(L, LUA_GCCOLLECT);
	f->base = f->used;
	if (r->nrules == before)
		return patron_err_set(err, "%s: declares no rule (expected rule { name = ..., "
				      "... })", path);
	return 0;
}

static const char *duration_text(int64_t secs, char *buf, size_t cap)
{
	static const struct {
		char unit;
		int64_t secs;
	} units[] = {{'w', 7 * 86400}, {'d', 86400}, {'h', 3600}, {'m', 60}, {'s', 1}};
	for (size_t i = 0; i < sizeof units / sizeof *units; i++)
		if (secs % units[i].secs == 0) {
			snprintf(buf, cap, "%lld%c", (long long)(secs / units[i].secs), units[i].unit);
			break;
		}
	return buf;
}

void patron_rules_describe(const patron_rules *r, size_t i, char *buf, size_t cap)
{
	const rule *ru = r->rules[i];
	char trig[128], d[32];
	if (ru->pattern)
		snprintf(trig, sizeof trig, "on %s", ru->pattern);
	else
		snprintf(trig, sizeof trig, "every %s", duration_text(ru->every, d, sizeof d));
	snprintf(buf, cap, "%s (%s:%d): %s", ru->name, ru->file, ru->line, trig);
}

/* ---- the event a rule is given ---- */

/* e.data decodes the payload and e.order reads the order, on first use. */
static int event_index(lua_State *L)
{
	patron_rules *r = lua_touserdata(L, lua_upvalueindex(1));
	const char *k = lua_tostring(L, 2);
	if (!k)
		return 0;
	if (strcmp(k, "data") == 0) {
		lua_getfield(L, 1, "payload");
		json_error_t je;
		json_t *j = json_loads(lua_tostring(L, -1) ? lua_tostring(L, -1) : "{}", 0, &je);
		if (j)
			patron_lua_push_json(L, j);
		else
			lua_newtable(L);
		json_decref(j);
	} else if (strcmp(k, "order") == 0) {
		lua_getfield(L, 1, "data");
		if (lua_getfield(L, -1, "order_id") != LUA_TNUMBER)
			return 0;
		sqlite3_stmt *st = patron_rules_stmt(r, A_ORDER);
		if (!st)
			return luaL_error(L, "reading an order: %s",
					  sqlite3_errmsg(patron_store_db(r->o.store)));
		sqlite3_bind_int64(st, 1, lua_tointeger(L, -1));
		if (sqlite3_step(st) != SQLITE_ROW) {
			sqlite3_reset(st);
			return 0;	/* the order is gone */
		}
		int64_t id = sqlite3_column_int64(st, 0), at = sqlite3_column_int64(st, 2);
		int64_t cid = sqlite3_column_int64(st, 6);
		int revenue = sqlite3_column_int(st, 5);
		char buf[32];
		lua_createtable(L, 0, 7);
		lua_pushinteger(L, id);
		lua_setfield(L, -2, "id");
		lua_pushstring(L, (const char *)sqlite3_column_text(st, 1));
		lua_setfield(L, -2, "key");
		lua_pushstring(L, patron_format_date(at, buf));
		lua_setfield(L, -2, "placed_at");
		lua_pushnumber(L, (double)sqlite3_column_int64(st, 3) / 100.0);
		lua_setfield(L, -2, "total");
		lua_pushstring(L, (const char *)sqlite3_column_text(st, 4));
		lua_setfield(L, -2, "status");
		sqlite3_reset(st);
		/* number: which of the customer's paid orders this is (1 = first) */
		st = patron_rules_stmt(r, A_ORDER_NUMBER);
		sqlite3_bind_int64(st, 1, cid);
		sqlite3_bind_int64(st, 2, at);
		sqlite3_bind_int64(st, 3, id);
		if (revenue && sqlite3_step(st) == SQLITE_ROW)
			lua_pushinteger(L, sqlite3_column_int64(st, 0));
		else
			lua_pushnil(L);
		sqlite3_reset(st);
		lua_setfield(L, -2, "number");
	} else {
		/* any other field is the payload's: event.text is event.data.text */
		lua_getfield(L, 1, "data");
		lua_getfield(L, -1, k);
		return 1;
	}
	lua_pushvalue(L, -1);
	lua_setfield(L, 1, k);	/* once read, kept */
	return 1;
}

static void push_event(lua_State *L, patron_rules *r, const patron_event *ev)
{
	char buf[32];
	lua_createtable(L, 0, 6);
	lua_pushinteger(L, ev->id);
	lua_setfield(L, -2, "id");
	lua_pushstring(L, ev->topic);
	lua_setfield(L, -2, "topic");
	if (ev->customer_id) {
		lua_pushinteger(L, ev->customer_id);
		lua_setfield(L, -2, "customer_id");
	}
	lua_pushstring(L, patron_format_date(ev->occurred_at, buf));
	lua_setfield(L, -2, "at");
	lua_pushstring(L, ev->payload ? ev->payload : "{}");
	lua_setfield(L, -2, "payload");
	if (luaL_newmetatable(L, "patron.event")) {
		lua_pushlightuserdata(L, r);
		lua_pushcclosure(L, event_index, 1);
		lua_setfield(L, -2, "__index");
	}
	lua_setmetatable(L, -2);
}

/* ---- calling a rule ---- */

/* Calls the function REF with the view of CID (nil when 0) and the event
 * (when EV). 1 true, 0 false, -1 error with the message in err. */
static int call_rule(patron_rules *r, rule *ru, int ref, int64_t cid, int64_t row,
		     const patron_event *ev, patron_err *err)
{
	rule_file *f = ru->f;
	lua_State *L = f->L;
	int top = lua_gettop(L);
	lua_rawgeti(L, LUA_REGISTRYINDEX, ref);
	if (cid)
		patron_view_push(L, cid, row);
	else
		lua_pushnil(L);
	int nargs = 1;
	if (ev) {
		push_event(L, r, ev);
		nargs = 2;
	}
	limits_start(f);
	/* From what the file held once loaded, not from now: a rule that
	 * keeps a little more in a global on every call still meets the cap. */
	f->cap = f->base + r->o.memory;
	f->capped = 1;
	lua_pushcfunction(L, error_place);
	lua_insert(L, top + 1);
	int rc = lua_pcall(L, nargs, 1, top + 1);
	f->capped = 0;
	int result;
	if (rc == LUA_OK) {
		result = lua_toboolean(L, -1);
	} else {
		if (rc == LUA_ERRMEM)
			patron_err_set(err, "%s:%d: used more than %zu MiB (the memory cap of a "
				       "rule)", ru->file, ru->line, r->o.memory >> 20);
		else
			patron_err_set(err, "%s", lua_tostring(L, -1) ? lua_tostring(L, -1)
								      : "error");
		result = -1;
		if (f->over || rc == LUA_ERRMEM)	/* a runaway: no second chance */
			snprintf(ru->stopped, sizeof ru->stopped, "%s", err->msg);
		lua_gc(L, LUA_GCCOLLECT);
	}
	lua_settop(L, top);
	return result;
}

static void report_error(rule *ru, int64_t cid, const char *what,
			 const char *msg)
{
	if (++ru->st.errors >= PATRON_RULE_MAX_ERRORS && !ru->stopped[0])
		snprintf(ru->stopped, sizeof ru->stopped, "%d errors in one run",
			 PATRON_RULE_MAX_ERRORS);
	if (ru->st.errors > ERRORS_SHOWN)
		return;
	char whom[64] = "";
	if (cid)
		snprintf(whom, sizeof whom, ", customer %lld", (long long)cid);
	fprintf(stderr, "patron: rule \"%s\"%s: %s failed: %s\n", ru->name, whom, what, msg);
}

static int savepoint(patron_rules *r, const char *sql)
{
	return sqlite3_exec(patron_store_db(r->o.store), sql, NULL, NULL, NULL) == SQLITE_OK ? 0
												: -1;
}

static void flush_lines(patron_rules *r, rule *ru, rule_call *k)
{
	if (!k->lines.len)
		return;
	int show = r->o.out && (r->o.dry_run || r->o.verbose);
	if (show && (r->o.show_max < 0 || ru->st.shown < r->o.show_max)) {
		fputs(k->lines.data, r->o.out);
		ru->st.shown++;
	} else if (show) {
		ru->st.hidden++;
	}
}

/* One customer (or none, for events about no one) through where, the limit,
 * the cooldown and act. 0 done (acted or not), 1 held by the limit, -1 the
 * rule failed (reported; its writes undone), -2 the store failed, -3 the
 * rule is stopped for this run. */
static int consider(patron_rules *r, rule *ru, int64_t cid, int64_t row,
		    const patron_event *ev, const char *trigger, patron_err *err)
{
	rule_call k = {.r = ru, .event_id = ev ? ev->id : 0, .cid = cid};
	snprintf(k.trigger, sizeof k.trigger, "%s", trigger);
	r->call = &k;
	ru->st.checked++;
	int m = 1;
	patron_err rerr;
	if (ru->where_ref != LUA_NOREF) {
		patron_view_record(r->view, 1);
		m = call_rule(r, ru, ru->where_ref, cid, row, ev, &rerr);
		patron_view_record(r->view, 0);
	}
	int rc = 0;
	if (m < 0) {
		report_error(ru, cid, "where", rerr.msg);
		rc = -1;
		goto out;
	}
	if (!m)
		goto out;
	if (ru->limit && ru->st.acted >= ru->limit) {
		ru->st.held++;
		rc = 1;
		goto out;
	}
	ru->st.matched++;
	if (ru->cooldown && cid) {
		sqlite3_stmt *st = patron_rules_stmt(r, A_COOLDOWN);
		sqlite3_bind_text(st, 1, ru->name, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, cid);
		sqlite3_bind_int64(st, 3, r->o.now - ru->cooldown);
		int cooling = sqlite3_step(st) == SQLITE_ROW;
		sqlite3_reset(st);
		if (cooling) {
			ru->st.cooling++;
			goto out;
		}
	}
	if (cid && ru->where_ref != LUA_NOREF) {	/* why it matched, for the audit */
		lua_State *L = ru->f->L;
		patron_view_push(L, cid, row);
		k.why_json = json_object();
		patron_view_why(r->view, L, -1, &k.why, k.why_json);
		lua_pop(L, 1);
	}
	if (savepoint(r, "SAVEPOINT patron_act") < 0) {
		rc = -2;
		patron_store_fail(r->o.store, err, "running a rule");
		goto out;
	}
	k.acting = 1;
	rule_stats before = ru->st;
	int a = call_rule(r, ru, ru->act_ref, cid, row, ev, &rerr);
	if (a < 0) {
		savepoint(r, "ROLLBACK TO patron_act");
		ru->st = before;	/* what the failed act counted is undone too */
		report_error(ru, cid, "act", rerr.msg);
		rc = -1;
	} else {
		const rule_stats *s = &ru->st;
		/* acted: did something, not only asked for what was refused */
		if (s->send + s->tag + s->untag + s->set + s->emit + s->log >
		    before.send + before.tag + before.untag + before.set + before.emit + before.log)
			ru->st.acted++;
		flush_lines(r, ru, &k);
	}
	if (savepoint(r, "RELEASE patron_act") < 0) {
		rc = -2;
		patron_store_fail(r->o.store, err, "running a rule");
	}
out:
	if (rc == -1)
		snprintf(err->msg, sizeof err->msg, "%s", rerr.msg);
	if (rc == -1 && ru->stopped[0])
		rc = -3;
	r->call = NULL;
	patron_buf_free(&k.lines);
	patron_buf_free(&k.why);
	json_decref(k.why_json);
	return rc;
}

/* The bus handler of an event rule. */
static int on_event(void *ud, const patron_event *ev, patron_err *err)
{
	rule *ru = ud;
	patron_rules *r = ru->owner;
	if (ru->max_age && ev->occurred_at < r->o.now - ru->max_age) {
		ru->st.stale++;
		return PATRON_BUS_OK;
	}
	char trigger[64];
	snprintf(trigger, sizeof trigger, "event:%lld", (long long)ev->id);
	if (ru->stopped[0] || (ru->limit && ru->st.held))
		return PATRON_BUS_HOLD;	/* already said: the rest wait */
	int rc = consider(r, ru, ev->customer_id, -1, ev, trigger, err);
	if (rc == 1 || rc == -3)
		return PATRON_BUS_HOLD;	/* the event waits for the next run */
	return rc < 0 ? PATRON_BUS_FAILED : PATRON_BUS_OK;
}

static int64_t schedule_last(patron_rules *r, const char *name)
{
	sqlite3_stmt *st = patron_rules_stmt(r, A_SCHEDULE_GET);
	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	int64_t at = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : INT64_MIN;
	sqlite3_reset(st);
	return at;
}

static int schedule_put(patron_rules *r, const char *name, patron_err *err)
{
	sqlite3_stmt *st = patron_rules_stmt(r, A_SCHEDULE_PUT);
	if (st) {
		sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, r->o.now);
	}
	if (!st || sqlite3_step(st) != SQLITE_DONE)
		return patron_store_fail(r->o.store, err, "recording a schedule");
	return 0;
}

/* An error of a rule, kept in the audit (event failures are also kept by
 * the bus). */
static int rule_error(patron_rules *r, rule *ru, int64_t cid, const char *trigger,
		      const char *msg, patron_err *err)
{
	rule_call k = {.r = ru, .cid = cid};
	snprintf(k.trigger, sizeof k.trigger, "%s", trigger);
	r->call = &k;
	json_t *detail = json_pack("{s:s}", "error", msg);
	int64_t id = patron_rules_audit(r, "error", cid, detail, "error", msg);
	json_decref(detail);
	r->call = NULL;
	return id < 0 ? patron_store_fail(r->o.store, err, "writing the audit") : 0;
}

/* A scheduled rule, when due: where over every customer, in bulk, and act
 * on the matches; all of it and the schedule's new time in one savepoint. */
static int run_scheduled(patron_rules *r, rule *ru, patron_err *err)
{
	char key[256];
	snprintf(key, sizeof key, "rule:%s", ru->name);
	int64_t last = schedule_last(r, key);
	if (last != INT64_MIN && r->o.now < last + ru->every)
		return 0;	/* not due */
	const int64_t *ids;
	size_t n;
	if (patron_view_bulk(r->view, &ids, &n, err) < 0)
		return -1;
	ru->ran = 1;
	patron_store *st = r->o.store;
	int began;
	if (patron_store_savepoint(st, "patron_schedule", &began, err) < 0)
		return -1;
	char trigger[64], when[32];
	snprintf(trigger, sizeof trigger, "schedule:%s", patron_format_date(r->o.now, when));
	for (size_t i = 0; i < n; i++) {
		int rc = consider(r, ru, ids[i], (int64_t)i, NULL, trigger, err);
		if (rc == -2) {
			patron_store_undo(st, "patron_schedule", began);
			return -1;
		}
		if (rc == -3) {	/* undone, and still due: the next run tries again */
			patron_store_undo(st, "patron_schedule", began);
			return rule_error(r, ru, ids[i], trigger, ru->stopped, err);
		}
		if (rc == -1 && rule_error(r, ru, ids[i], trigger, err->msg, err) < 0) {
			patron_store_undo(st, "patron_schedule", began);
			return -1;
		}
		if (rc == 1)
			break;	/* the limit: the rest wait for the next time */
	}
	if (schedule_put(r, key, err) < 0 ||
	    patron_store_release(st, "patron_schedule", began, err) < 0) {
		patron_store_undo(st, "patron_schedule", began);
		return -1;
	}
	return 0;
}

/* schedule.daily and schedule.hourly, published when due and listened to. */
static int tick(patron_rules *r, const char *topic, int64_t period, patron_err *err)
{
	int wanted = 0;
	for (size_t i = 0; i < r->nrules; i++)
		wanted |= r->rules[i]->pattern && patron_topic_matches(r->rules[i]->pattern, topic);
	if (!wanted)
		return 0;
	int64_t last = schedule_last(r, topic);
	if (last != INT64_MIN && r->o.now < last + period)
		return 0;
	int began;
	if (patron_store_savepoint(r->o.store, "patron_tick", &began, err) < 0)
		return -1;
	if (patron_bus_publish(r->bus, topic, 0, NULL, r->o.now, r->o.now, err) < 0 ||
	    schedule_put(r, topic, err) < 0 ||
	    patron_store_release(r->o.store, "patron_tick", began, err) < 0) {
		patron_store_undo(r->o.store, "patron_tick", began);
		return -1;
	}
	return 0;
}

/* Delivers events until the log stops growing (handlers may emit), at most
 * a few rounds: a rule that answers its own events waits for the next run. */
static int deliver(patron_rules *r, long *events, patron_err *err)
{
	for (int round = 0; round < 4; round++) {
		int64_t before = patron_bus_last(r->bus);
		patron_bus_stats bs;
		if (patron_bus_deliver(r->bus, r->o.now, &bs, err) < 0)
			return -1;
		*events += bs.delivered;
		if (patron_bus_last(r->bus) == before)
			break;
	}
	return 0;
}

static void summarize(patron_rules *r, const rule *ru)
{
	FILE *o = r->o.out;
	if (!o)
		return;
	const rule_stats *s = &ru->st;
	fprintf(o, "%s: ", ru->name);
	if (!ru->pattern && !ru->ran) {
		char d[32];
		fprintf(o, "not due (every %s)\n", duration_text(ru->every, d, sizeof d));
		return;
	}
	fprintf(o, "%ld %s, %ld matched, %ld acted", s->checked,
		ru->pattern ? "events" : "customers checked", s->matched, s->acted);
	struct {
		const char *name;
		long n;
	} acts[] = {{"send", s->send}, {"tag", s->tag}, {"untag", s->untag}, {"set", s->set},
		    {"emit", s->emit}, {"log", s->log}};
	int first = 1;
	for (size_t i = 0; i < sizeof acts / sizeof *acts; i++)
		if (acts[i].n) {
			fprintf(o, "%s%ld %s", first ? " (" : ", ", acts[i].n, acts[i].name);
			first = 0;
		}
	if (!first)
		fputc(')', o);
	if (s->refused)
		fprintf(o, "; %ld refused (%s%s)", s->refused, ru->refusal,
			s->refused > 1 ? ", ..." : "");
	if (s->cooling)
		fprintf(o, "; %ld in cooldown", s->cooling);
	if (s->stale)
		fprintf(o, "; %ld events older than max_age passed over", s->stale);
	if (s->held)
		fprintf(o, "; limit %ld reached, the rest wait for the next run", ru->limit);
	if (s->errors)
		fprintf(o, "; %ld errors", s->errors);
	if (ru->stopped[0])
		fprintf(o, "; STOPPED for this run (%s): %s", ru->pattern ?
			"its events wait" : "nothing kept, still due", ru->stopped);
	fputc('\n', o);
	if (s->hidden)
		fprintf(o, "  ... and %ld more\n", s->hidden);
}

int patron_rules_run(patron_rules *r, patron_rules_totals *t, patron_err *err)
{
	memset(t, 0, sizeof *t);
	if (!r->o.store)
		return patron_err_set(err, "no store to run rules on");
	/* The frequency cap, checked when the config was read. */
	double m;
	const char *per = r->o.config ? patron_config_string(r->o.config, "frequency_cap", "per")
				      : NULL;
	if (per && patron_config_number(r->o.config, "frequency_cap", "messages", &m) > 0 &&
	    patron_parse_duration(per, &r->cap_per) == 0)
		r->cap_messages = (int64_t)m;
	if (!r->bus) {
		r->bus = patron_bus_new(r->o.store);
		/* Unsubscribes first, so no rule acts on consent that is gone. */
		r->keeper = (patron_consent_keeper){.s = r->o.store, .now = r->o.now};
		if (patron_consent_subscribe(r->bus, &r->keeper, err) < 0)
			return -1;
		for (size_t i = 0; i < r->nrules; i++) {
			rule *ru = r->rules[i];
			char name[256];
			snprintf(name, sizeof name, "rule:%s", ru->name);
			if (ru->pattern &&
			    patron_bus_subscribe(r->bus, name, ru->pattern, on_event, ru, err) < 0)
				return -1;
		}
	}
	if (r->o.dry_run && patron_store_begin(r->o.store, err) < 0)
		return -1;
	long events = 0;
	int rc = tick(r, "schedule.daily", 86400, err);
	if (rc == 0)
		rc = tick(r, "schedule.hourly", 3600, err);
	if (rc == 0)
		rc = deliver(r, &events, err);
	for (size_t i = 0; rc == 0 && i < r->nrules; i++)
		if (!r->rules[i]->pattern)
			rc = run_scheduled(r, r->rules[i], err);
	if (rc == 0)
		rc = deliver(r, &events, err);
	if (r->o.dry_run)
		patron_store_rollback(r->o.store);
	if (rc < 0)
		return -1;
	t->rules = (long)r->nrules;
	t->events = events;
	for (size_t i = 0; i < r->nrules; i++) {
		const rule_stats *s = &r->rules[i]->st;
		summarize(r, r->rules[i]);
		t->checked += s->checked;
		t->matched += s->matched;
		t->acted += s->acted;
		t->refused += s->refused;
		t->errors += s->errors;
	}
	return 0;
}

/* ---- a where on its own (patron customers --where) ---- */

int patron_rules_where(patron_rules *r, size_t i, int64_t cid, int64_t row, patron_err *err)
{
	rule *ru = r->rules[i];
	rule_call k = {.r = ru, .cid = cid};
	r->call = &k;
	int rc = call_rule(r, ru, ru->where_ref, cid, row, NULL, err);
	r->call = NULL;
	patron_buf_free(&k.lines);
	patron_buf_free(&k.why);
	json_decref(k.why_json);
	return rc;
}

int patron_rules_bulk(patron_rules *r, const int64_t **ids, size_t *n, patron_err *err)
{
	return patron_view_bulk(r->view, ids, n, err);
}
