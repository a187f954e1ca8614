/* What a rule can do: send, reply, tag, untag, set, emit, log. Each action writes
 * its effect and an audit row in the transaction of the call that made it;
 * consent and the frequency cap are checked here, whatever the rule says. */
#include <lauxlib.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "inbox/faq.h"
#include "inbox/inbox.h"
#include "outbox.h"
#include "rules_impl.h"
#include "template.h"
#include "value.h"

static patron_rules *owner(lua_State *L)
{
	return lua_touserdata(L, lua_upvalueindex(1));
}

/* The call an action belongs to; a Lua error outside act. */
static rule_call *acting(lua_State *L, patron_rules *r, const char *what)
{
	if (!r->call || !r->o.store)
		luaL_error(L, "%s can only be called while a rule acts", what);
	if (!r->call->acting)
		luaL_error(L, "%s called in where: where only decides, act acts", what);
	return r->call;
}

void patron_rules_show(patron_rules *r, const char *fmt, ...)
{
	if (!r->call)
		return;
	va_list ap;
	char line[1024];
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	patron_buf_printf(&r->call->lines, "  [%s] %s%s\n", r->call->r->name,
			  r->o.dry_run ? "would " : "", line);
}

int64_t patron_rules_audit(patron_rules *r, const char *action, int64_t cid, json_t *detail,
			   const char *status, const char *reason)
{
	rule_call *k = r->call;
	sqlite3_stmt *st = patron_rules_stmt(r, A_AUDIT);
	if (!st)
		return -1;
	char *text = detail ? json_dumps(detail, JSON_COMPACT | JSON_REAL_PRECISION(15)) : NULL;
	sqlite3_bind_text(st, 1, k->r->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, k->trigger, -1, SQLITE_STATIC);
	if (k->event_id)
		sqlite3_bind_int64(st, 3, k->event_id);
	if (cid)
		sqlite3_bind_int64(st, 4, cid);
	sqlite3_bind_text(st, 5, action, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, text ? text : "{}", -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 7, status, -1, SQLITE_STATIC);
	if (reason)
		sqlite3_bind_text(st, 8, reason, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 9, r->o.now);
	free(text);
	if (sqlite3_step(st) != SQLITE_DONE)
		return -1;
	return sqlite3_last_insert_rowid(patron_store_db(r->o.store));
}

static void audit_or_fail(lua_State *L, patron_rules *r, const char *action, int64_t cid,
			  json_t *detail, const char *status, const char *reason, int64_t *id)
{
	if (r->call->why_json)
		json_object_set(detail, "why", r->call->why_json);
	int64_t got = patron_rules_audit(r, action, cid, detail, status, reason);
	json_decref(detail);
	if (got < 0)
		luaL_error(L, "%s: writing the audit: %s", action,
			   sqlite3_errmsg(patron_store_db(r->o.store)));
	if (id)
		*id = got;
}

/* The customer an action is about: a view at IDX, or the rule's own
 * customer when IDX is absent and ALLOW_DEFAULT. */
static int64_t customer_arg(lua_State *L, int idx, const char *what, int allow_default)
{
	int64_t cid = patron_view_id(L, idx);
	if (cid)
		return cid;
	patron_rules *r = owner(L);
	if (allow_default && lua_isnoneornil(L, idx) && r->call->cid)
		return r->call->cid;
	return luaL_error(L, "%s: expected a customer (the c a rule is given), got %s", what,
			  luaL_typename(L, idx));
}

static const char *identity_of(patron_rules *r, int64_t cid, const char *kind, char *buf,
			       size_t cap)
{
	sqlite3_stmt *st = patron_rules_stmt(r, A_IDENTITY);
	if (!st)
		return NULL;
	sqlite3_bind_int64(st, 1, cid);
	sqlite3_bind_text(st, 2, kind, -1, SQLITE_STATIC);
	const char *out = NULL;
	if (sqlite3_step(st) == SQLITE_ROW) {
		snprintf(buf, cap, "%s", (const char *)sqlite3_column_text(st, 0));
		out = buf;
	}
	sqlite3_reset(st);
	return out;
}

/* "joan@example.com (customer 12)" or "customer 12". */
static const char *who(patron_rules *r, int64_t cid, char *buf, size_t cap)
{
	char email[320];
	if (identity_of(r, cid, "email", email, sizeof email))
		snprintf(buf, cap, "%s (customer %lld)", email, (long long)cid);
	else
		snprintf(buf, cap, "customer %lld", (long long)cid);
	return buf;
}

static int name_ok(const char *s, size_t max)
{
	size_t n = strlen(s);
	if (!n || n > max)
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '_' || *s == '-'))
			return 0;
	return 1;
}

struct rule_template {
	char *key;		/* DIR/NAME */
	patron_template *t;	/* NULL when it could not be read */
	char *err;		/* why not */
};

void patron_actions_free(patron_rules *r)
{
	for (size_t i = 0; i < r->ntpls; i++) {
		free(r->tpls[i].key);
		patron_template_free(r->tpls[i].t);
		free(r->tpls[i].err);
	}
	free(r->tpls);
}

/* Template NAME from the configured templates folder, else templates/
 * beside the rule file; read once per run. NULL with *WHY when it cannot be
 * used; *DIR the folder. */
static const patron_template *template_for(patron_rules *r, const char *name, char *dir,
					   size_t dircap, const char **why)
{
	patron_templates_dir(r->o.config, r->call->r->f->dir, dir, dircap);
	char key[4600];
	snprintf(key, sizeof key, "%s/%s", dir, name);
	for (size_t i = 0; i < r->ntpls; i++)
		if (strcmp(r->tpls[i].key, key) == 0) {
			*why = r->tpls[i].err;
			return r->tpls[i].t;
		}
	r->tpls = patron_xrealloc(r->tpls, (r->ntpls + 1) * sizeof *r->tpls);
	struct rule_template *c = &r->tpls[r->ntpls++];
	memset(c, 0, sizeof *c);
	c->key = patron_xstrdup(key);
	patron_err err;
	if (patron_template_load(dir, name, &c->t, &err) < 0)
		c->err = patron_xstrdup(err.msg);
	*why = c->err;
	return c->t;
}

static void check_fields(lua_State *L, const char *what, const char *const *keys)
{
	lua_pushnil(L);
	while (lua_next(L, 1)) {
		int ok = 0;
		for (int i = 0; keys[i] && lua_type(L, -2) == LUA_TSTRING; i++)
			ok |= strcmp(keys[i], lua_tostring(L, -2)) == 0;
		if (!ok) {
			patron_buf k = {0};
			for (int i = 0; keys[i]; i++)
				patron_buf_printf(&k, "%s%s", i ? ", " : "", keys[i]);
			luaL_where(L, 1);
			lua_pushfstring(L, "%s: unknown field %s (expected %s)", what,
					lua_type(L, -3) == LUA_TSTRING ? lua_tostring(L, -3) : "?",
					k.data);
			lua_concat(L, 2);
			patron_buf_free(&k);
			lua_error(L);
		}
		lua_pop(L, 1);
	}
}

static const char *string_field(lua_State *L, const char *what, const char *key, int required)
{
	int t = lua_getfield(L, 1, key);
	if (t == LUA_TNIL && !required) {
		lua_pop(L, 1);
		return NULL;
	}
	if (t != LUA_TSTRING)
		luaL_error(L, "%s: %s: expected a name, got %s", what, key, luaL_typename(L, -1));
	const char *s = lua_tostring(L, -1);
	lua_pop(L, 1);	/* still held by the table */
	return s;
}

/* send{channel=, to=, template=, vars=}: queues one message in the outbox,
 * unless consent or the frequency cap refuse it. */
/* 1, saying so in WHY, when customer CID has had frequency_cap's messages. */
static int capped(patron_rules *r, int64_t cid, char *why, size_t cap)
{
	if (r->cap_messages <= 0)
		return 0;
	sqlite3_stmt *st = patron_rules_stmt(r, A_CAP);
	sqlite3_bind_int64(st, 1, cid);
	sqlite3_bind_int64(st, 2, r->o.now - r->cap_per);
	int64_t n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_reset(st);
	if (n < r->cap_messages)
		return 0;
	snprintf(why, cap, "frequency cap: %lld messages in %lld days", (long long)n,
		 (long long)(r->cap_per / 86400));
	return 1;
}

static int l_send(lua_State *L)
{
	patron_rules *r = owner(L);
	rule_call *k = acting(L, r, "send");
	luaL_checktype(L, 1, LUA_TTABLE);
	static const char *const keys[] = {"channel", "to", "template", "vars", NULL};
	check_fields(L, "send", keys);
	const char *channel = string_field(L, "send", "channel", 1);
	const char *tmpl = string_field(L, "send", "template", 1);
	const char *address_kind = NULL;
	int known = strcmp(channel, "email") == 0;
	if (r->o.config && patron_config_channel(r->o.config, channel, &address_kind))
		known = 1;
	if (!known) {
		patron_buf names = {0};
		patron_buf_adds(&names, "email");
		if (r->o.config)
			patron_config_channel_names(r->o.config, &names);
		luaL_where(L, 1);
		lua_pushfstring(L, "send: unknown channel \"%s\" (configured: %s)", channel,
				names.data);
		lua_concat(L, 2);
		patron_buf_free(&names);
		return lua_error(L);
	}
	if (!name_ok(tmpl, 100))
		return luaL_error(L, "send: template: expected a name of letters, digits, _ and -, "
				  "got \"%s\"", tmpl);
	char path[4400], dir[4200];
	const char *bad;
	const patron_template *tp = template_for(r, tmpl, dir, sizeof dir, &bad);
	if (!tp)
		return luaL_error(L, "send: %s", bad);
	snprintf(path, sizeof path, "%s/%s", dir, tmpl);
	lua_getfield(L, 1, "to");
	int64_t cid = customer_arg(L, -1, "send: to", 1);
	lua_pop(L, 1);
	json_t *vars = NULL;
	if (lua_getfield(L, 1, "vars") != LUA_TNIL) {
		const char *why = NULL;
		if (!lua_istable(L, -1) || !(vars = patron_lua_to_json(L, -1, &why)) ||
		    !json_is_object(vars)) {
			json_decref(vars);
			return luaL_error(L, "send: vars: expected a table of names to values (%s)",
					  why ? why : "not a list");
		}
	}
	lua_pop(L, 1);
	if (!vars)
		vars = json_object();
	patron_err terr;
	if (patron_template_check_vars(tp, vars, &terr) < 0) {
		json_decref(vars);
		return luaL_error(L, "send: %s", terr.msg);
	}

	if (!address_kind)
		address_kind = strcmp(channel, "sms") == 0 ? "phone" : "email";
	char address[400], whom[512];
	const char *reason = NULL;
	char why_cap[128];
	if (strcmp(address_kind, "none") == 0) {
		snprintf(address, sizeof address, "customer:%lld", (long long)cid);
	} else if (!identity_of(r, cid, address_kind, address, sizeof address)) {
		snprintf(why_cap, sizeof why_cap, "no %s address", address_kind);
		reason = why_cap;
	}
	if (!reason) {	/* consent: only a recorded yes lets a message out */
		sqlite3_stmt *st = patron_rules_stmt(r, A_CONSENT);
		sqlite3_bind_int64(st, 1, cid);
		sqlite3_bind_text(st, 2, channel, -1, SQLITE_STATIC);
		int granted = sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) == 1;
		sqlite3_reset(st);
		if (!granted) {
			snprintf(why_cap, sizeof why_cap, "no consent for %s", channel);
			reason = why_cap;
		}
	}
	if (!reason && capped(r, cid, why_cap, sizeof why_cap))
		reason = why_cap;
	json_t *detail = json_pack("{s:s, s:s, s:O}", "channel", channel, "template", tmpl,
				   "vars", vars);
	if (!reason)
		json_object_set_new(detail, "to", json_string(address));
	who(r, cid, whom, sizeof whom);
	int64_t audit_id;
	if (reason) {
		audit_or_fail(L, r, "send", cid, detail, "refused", reason, &audit_id);
		json_decref(vars);
		k->r->st.refused++;
		if (!k->r->refusal[0])
			snprintf(k->r->refusal, sizeof k->r->refusal, "%s", reason);
		patron_rules_show(r, "refuse %s \"%s\" to %s: %s", channel, tmpl, whom, reason);
		return 0;
	}
	audit_or_fail(L, r, "send", cid, detail, "done", NULL, &audit_id);
	char key[512];
	snprintf(key, sizeof key, "%s|%s|%lld|%d", k->r->name, k->trigger, (long long)cid,
		 ++k->sends);
	char *vtext = json_dumps(vars, JSON_COMPACT | JSON_REAL_PRECISION(15));
	json_decref(vars);
	sqlite3_stmt *st = patron_rules_stmt(r, A_OUTBOX);
	sqlite3_bind_text(st, 1, key, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, channel, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, cid);
	sqlite3_bind_text(st, 4, address, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 5, tmpl, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, path, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 7, vtext, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 8, k->r->name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 9, audit_id);
	sqlite3_bind_int64(st, 10, r->o.now);
	free(vtext);
	if (sqlite3_step(st) != SQLITE_DONE)
		return luaL_error(L, "send: writing the outbox: %s",
				  sqlite3_errmsg(patron_store_db(r->o.store)));
	k->r->st.send++;
	patron_rules_show(r, "send %s \"%s\" to %s%s%s", channel, tmpl, whom,
			  k->why.len ? " because " : "", k->why.len ? k->why.data : "");
	return 0;
}

/* reply{ ticket = e.ticket, faq = "shipping" } or reply{ ticket = ..., text =
 * "..." }: the shop's answer to a ticket, threaded (In-Reply-To) and kept in
 * it, on inbox.channel. An answer is not marketing: it needs no consent,
 * but a customer who withdrew it, or the frequency cap, refuses it. */
static int l_reply(lua_State *L)
{
	patron_rules *r = owner(L);
	rule_call *k = acting(L, r, "reply");
	luaL_checktype(L, 1, LUA_TTABLE);
	static const char *const keys[] = {"ticket", "text", "faq", NULL};
	check_fields(L, "reply", keys);
	lua_getfield(L, 1, "ticket");
	if (!lua_isinteger(L, -1))
		return luaL_error(L, "reply: ticket: expected a ticket's number (e.ticket)");
	int64_t ticket = lua_tointeger(L, -1);
	lua_pop(L, 1);
	lua_getfield(L, 1, "text");
	lua_getfield(L, 1, "faq");
	const char *text = lua_tostring(L, -2), *faq_name = lua_tostring(L, -1);
	if (!text == !faq_name)
		return luaL_error(L, "reply: expected text = \"...\" or faq = \"NAME\" (faq/NAME.md)");
	sqlite3 *db = patron_store_db(r->o.store);
	sqlite3_stmt *st;
	int64_t cid = 0;
	char first[200] = "";
	if (sqlite3_prepare_v2(db, "SELECT t.customer_id, coalesce(c.first_name, '') FROM tickets t"
			       " JOIN customers c ON c.id = t.customer_id WHERE t.id = ?1", -1, &st,
			       NULL) == SQLITE_OK) {
		sqlite3_bind_int64(st, 1, ticket);
		if (sqlite3_step(st) == SQLITE_ROW) {
			cid = sqlite3_column_int64(st, 0);
			snprintf(first, sizeof first, "%s", sqlite3_column_text(st, 1));
		}
		sqlite3_finalize(st);
	}
	if (!cid)
		return luaL_error(L, "reply: there is no ticket %lld", (long long)ticket);
	patron_buf answer = {0};
	if (faq_name) {
		patron_faq *f = NULL;
		patron_err ferr;
		if (patron_faq_load_for(r->o.config, patron_store_path(r->o.store), &f, &ferr) < 0)
			return luaL_error(L, "reply: %s", ferr.msg);
		for (size_t i = 0; i < patron_faq_size(f) && !answer.len; i++)
			if (strcmp(patron_faq_name(f, i), faq_name) == 0) {
				const char *vars[] = {"first_name", first, NULL};
				patron_faq_fill(patron_faq_answer(f, i), vars, &answer);
			}
		patron_faq_free(f);
		if (!answer.len)
			return luaL_error(L, "reply: faq: no faq/%s.md", faq_name);
	} else {
		patron_buf_adds(&answer, text);
	}
	lua_pop(L, 2);
	patron_reply_from via;
	char from[320];
	patron_reply_from_config(r->o.config, &via, from);
	const char *reason = NULL;
	char why[128];
	st = patron_rules_stmt(r, A_CONSENT);
	sqlite3_bind_int64(st, 1, cid);
	sqlite3_bind_text(st, 2, via.channel, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) == 0) {
		snprintf(why, sizeof why, "consent for %s withdrawn", via.channel);
		reason = why;
	}
	sqlite3_reset(st);
	if (!reason && capped(r, cid, why, sizeof why))
		reason = why;
	char whom[512];
	who(r, cid, whom, sizeof whom);
	if (reason) {
		audit_or_fail(L, r, "reply", cid, json_pack("{s:I}", "ticket", (json_int_t)ticket),
			      "refused", reason, NULL);
		patron_buf_free(&answer);
		k->r->st.refused++;
		if (!k->r->refusal[0])
			snprintf(k->r->refusal, sizeof k->r->refusal, "%s", reason);
		patron_rules_show(r, "refuse reply to ticket %lld (%s): %s", (long long)ticket, whom,
				  reason);
		return 0;
	}
	int64_t outbox_id;
	patron_err err;
	int rc = patron_ticket_reply_tx(r->o.store, ticket, &via, answer.data, k->r->name, r->o.now,
					&outbox_id, &err);
	patron_buf_free(&answer);
	if (rc < 0)
		return luaL_error(L, "reply: %s", err.msg);
	k->r->st.send++;
	patron_rules_show(r, "reply to ticket %lld (%s)", (long long)ticket, whom);
	return 0;
}

static const char *tag_arg(lua_State *L, const char *what)
{
	const char *tag = luaL_checkstring(L, 2);
	if (!*tag || strlen(tag) > 100)
		luaL_error(L, "%s: expected a tag of 1 to 100 characters", what);
	return tag;
}

static int tag_or_untag(lua_State *L, int add)
{
	patron_rules *r = owner(L);
	const char *what = add ? "tag" : "untag";
	rule_call *k = acting(L, r, what);
	int64_t cid = customer_arg(L, 1, what, 0);
	const char *tag = tag_arg(L, what);
	sqlite3_stmt *st = patron_rules_stmt(r, add ? A_TAG : A_UNTAG);
	sqlite3_bind_int64(st, 1, cid);
	sqlite3_bind_text(st, 2, tag, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, r->o.now);
	if (sqlite3_step(st) != SQLITE_DONE)
		return luaL_error(L, "%s: %s", what, sqlite3_errmsg(patron_store_db(r->o.store)));
	audit_or_fail(L, r, what, cid, json_pack("{s:s}", "tag", tag), "done", NULL, NULL);
	if (add)
		k->r->st.tag++;
	else
		k->r->st.untag++;
	char whom[512];
	patron_rules_show(r, "%s %s \"%s\"", what, who(r, cid, whom, sizeof whom), tag);
	return 0;
}

static int l_tag(lua_State *L) { return tag_or_untag(L, 1); }
static int l_untag(lua_State *L) { return tag_or_untag(L, 0); }

/* set(c, name, value): an attribute, typed as the store already types it;
 * nil removes it. */
static int l_set(lua_State *L)
{
	patron_rules *r = owner(L);
	rule_call *k = acting(L, r, "set");
	int64_t cid = customer_arg(L, 1, "set", 0);
	const char *name = luaL_checkstring(L, 2);
	if (!name_ok(name, 64) || strchr(name, '-'))
		return luaL_error(L, "set: expected an attribute name of letters, digits and _, "
				  "got \"%s\"", name);
	luaL_checkany(L, 3);
	sqlite3 *db = patron_store_db(r->o.store);
	sqlite3_stmt *st;
	json_t *detail = json_pack("{s:s}", "name", name);
	if (lua_isnil(L, 3)) {
		st = patron_rules_stmt(r, A_ATTR_DEL);
		sqlite3_bind_int64(st, 1, cid);
		sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE)
			return json_decref(detail), luaL_error(L, "set: %s", sqlite3_errmsg(db));
		json_object_set_new(detail, "value", json_null());
	} else {
		int t = lua_type(L, 3);
		if (t != LUA_TNUMBER && t != LUA_TSTRING && t != LUA_TBOOLEAN)
			return json_decref(detail),
			       luaL_error(L, "set: %s: expected text, a number or a boolean, got %s",
					  name, luaL_typename(L, 3));
		const char *want = t == LUA_TSTRING ? "text" : t == LUA_TBOOLEAN ||
				   lua_isinteger(L, 3) ? "integer" : "real";
		char have[16] = "";
		st = patron_rules_stmt(r, A_ATTR_DEF);
		sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW)
			snprintf(have, sizeof have, "%s", sqlite3_column_text(st, 0));
		sqlite3_reset(st);
		if (!*have) {
			st = patron_rules_stmt(r, A_ATTR_DEF_PUT);
			sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 2, want, -1, SQLITE_STATIC);
			if (sqlite3_step(st) != SQLITE_DONE)
				return json_decref(detail), luaL_error(L, "set: %s", sqlite3_errmsg(db));
			snprintf(have, sizeof have, "%s", want);
		}
		st = patron_rules_stmt(r, A_ATTR_PUT);
		sqlite3_bind_int64(st, 1, cid);
		sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
		int64_t day;
		if (strcmp(have, "text") == 0) {
			sqlite3_bind_text(st, 3, luaL_tolstring(L, 3, NULL), -1, SQLITE_TRANSIENT);
			lua_pop(L, 1);
		} else if (strcmp(have, "date") == 0 && t == LUA_TSTRING &&
			   patron_parse_date(lua_tostring(L, 3), PATRON_DATE_MDY, &day) == 0) {
			char buf[32];
			sqlite3_bind_text(st, 3, patron_format_day(day, buf), -1, SQLITE_TRANSIENT);
		} else if (strcmp(have, "integer") == 0 && (t == LUA_TBOOLEAN || lua_isinteger(L, 3))) {
			sqlite3_bind_int64(st, 3, t == LUA_TBOOLEAN ? lua_toboolean(L, 3)
							       : lua_tointeger(L, 3));
		} else if (strcmp(have, "real") == 0 && t == LUA_TNUMBER) {
			sqlite3_bind_double(st, 3, lua_tonumber(L, 3));
		} else {
			json_decref(detail);
			return luaL_error(L, "set: %s holds %s values; got %s", name, have,
					  luaL_typename(L, 3));
		}
		if (sqlite3_step(st) != SQLITE_DONE)
			return json_decref(detail), luaL_error(L, "set: %s", sqlite3_errmsg(db));
		json_t *v = patron_lua_to_json(L, 3, NULL);
		json_object_set_new(detail, "value", v ? v : json_null());
	}
	audit_or_fail(L, r, "set", cid, detail, "done", NULL, NULL);
	k->r->st.set++;
	char whom[512];
	patron_rules_show(r, "set %s of %s to %s", name, who(r, cid, whom, sizeof whom),
			  luaL_tolstring(L, 3, NULL));
	return 0;
}

/* emit(topic, c?, data?): a new event, seen by event rules in this run or
 * the next. */
static int l_emit(lua_State *L)
{
	patron_rules *r = owner(L);
	rule_call *k = acting(L, r, "emit");
	const char *topic = luaL_checkstring(L, 1);
	if (!patron_topic_valid(topic))
		return luaL_error(L, "emit: topic \"%s\": expected dot-separated words of a-z, "
				  "0-9, _ and - (like vip.promoted)", topic);
	int64_t cid = lua_isnoneornil(L, 2) ? 0 : customer_arg(L, 2, "emit", 0);
	json_t *data = NULL;
	if (!lua_isnoneornil(L, 3)) {
		const char *why = NULL;
		if (!lua_istable(L, 3) || !(data = patron_lua_to_json(L, 3, &why)) ||
		    !json_is_object(data)) {
			json_decref(data);
			return luaL_error(L, "emit: data: expected a table of names to values (%s)",
					  why ? why : "not a list");
		}
	}
	char *text = data ? json_dumps(data, JSON_COMPACT) : NULL;
	patron_err err;
	int rc = patron_bus_publish(r->bus, topic, cid, text, r->o.now, r->o.now, &err);
	free(text);
	if (rc < 0) {
		json_decref(data);
		return luaL_error(L, "emit: %s", err.msg);
	}
	json_t *detail = json_pack("{s:s}", "topic", topic);
	if (data)
		json_object_set_new(detail, "data", data);
	audit_or_fail(L, r, "emit", cid, detail, "done", NULL, NULL);
	k->r->st.emit++;
	patron_rules_show(r, "emit %s", topic);
	return 0;
}

static void joined(lua_State *L, patron_buf *b)
{
	int n = lua_gettop(L);
	for (int i = 1; i <= n; i++) {
		patron_buf_printf(b, "%s%s", i > 1 ? " " : "", luaL_tolstring(L, i, NULL));
		lua_pop(L, 1);
	}
}

/* log(...): a line in the audit and the output. */
static int l_log(lua_State *L)
{
	patron_rules *r = owner(L);
	rule_call *k = acting(L, r, "log");
	patron_buf b = {0};
	joined(L, &b);
	json_t *detail = json_pack("{s:s}", "message", b.data ? b.data : "");
	patron_rules_show(r, "log: %s", b.data ? b.data : "");
	patron_buf_free(&b);
	audit_or_fail(L, r, "log", k->cid, detail, "done", NULL, NULL);
	k->r->st.log++;
	return 0;
}

/* print(...): the output only, as a rule author debugs. */
static int l_print(lua_State *L)
{
	patron_rules *r = owner(L);
	patron_buf b = {0};
	joined(L, &b);
	if (r->call)
		patron_buf_printf(&r->call->lines, "  [%s] print: %s\n", r->call->r->name,
				  b.data ? b.data : "");
	else if (r->o.out)
		fprintf(r->o.out, "%s\n", b.data ? b.data : "");
	patron_buf_free(&b);
	return 0;
}

void patron_actions_register(lua_State *L, patron_rules *r)
{
	static const luaL_Reg fns[] = {
		{"send", l_send}, {"reply", l_reply}, {"tag", l_tag}, {"untag", l_untag}, {"set", l_set},
		{"emit", l_emit}, {"log", l_log}, {"print", l_print}, {NULL, NULL},
	};
	lua_pushlightuserdata(L, r);
	luaL_setfuncs(L, fns, 1);
}
