#include "config.h"

#include <errno.h>
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <stdio.h>
#include <stdlib.h>
#include <math.h>
#include <string.h>
#include <sys/stat.h>

#include "../sdk/patron/plugin.h"
#include "value.h"

const patron_job patron_jobs[] = {
	{"segment", PATRON_KIND_SEGMENTER, "rfm", 0},
	{"churn", PATRON_KIND_SCORER, "logreg", 1},
	{"value", PATRON_KIND_SCORER, "clv", 0},
	{"recommend", PATRON_KIND_RECOMMENDER, "itemknn", 0},
	{"sentiment", PATRON_KIND_ANALYZER, "lexicon", 0},
	{"forecast", PATRON_KIND_FORECASTER, "holtwinters", 0},
	{"intent", PATRON_KIND_ANALYZER, "bayes", 0},
	{NULL, 0, NULL, 0},
};

/* Keys patron.conf may set besides the jobs. */
static const char *const other_keys[] = {"channels", "frequency_cap", "templates", "currency",
					 "rules", "retention", "attribution", "shop",
					 "campaign_costs", "public_url", "serve", "inbox", "sla", "auto_reply",
					 NULL};

#define CONFIG_MEMORY (8u << 20)	/* bytes a config may allocate */
#define CONFIG_STEPS 1000000		/* instructions it may run */

struct patron_config {
	lua_State *L;
	char *path;
	size_t used;	/* bytes allocated by L */
};

/* Lua allocator with a cap, so a config cannot exhaust memory. */
static void *capped_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
	patron_config *c = ud;
	if (ptr == NULL)
		osize = 0;
	if (nsize == 0) {
		free(ptr);
		c->used -= osize;
		return NULL;
	}
	if (nsize > osize && c->used + (nsize - osize) > CONFIG_MEMORY)
		return NULL;
	void *p = realloc(ptr, nsize);
	if (p)
		c->used += nsize - osize;
	return p;
}

static void too_long(lua_State *L, lua_Debug *ar)
{
	lua_getinfo(L, "Sl", ar);	/* where the config was when time ran out */
	luaL_error(L, "%s:%d: the config runs too long (over %d instructions)", ar->short_src,
		   ar->currentline, CONFIG_STEPS);
}

static const char *type_of(lua_State *L, int idx) { return luaL_typename(L, idx); }

static int is_job(const char *key)
{
	for (const patron_job *j = patron_jobs; j->job; j++)
		if (strcmp(j->job, key) == 0)
			return 1;
	return 0;
}

/* 1 when the table at IDX is a list of choices ({ "rfm", "kmeans" }), not
 * one choice with options. */
static int is_list(lua_State *L, int idx)
{
	if (lua_type(L, idx) != LUA_TTABLE || lua_rawlen(L, idx) == 0)
		return 0;
	int plugin = lua_getfield(L, idx, "plugin") != LUA_TNIL;
	lua_pop(L, 1);
	return !plugin;
}

/* Checks what the config set: every key known, every job a name or a table
 * with a string `plugin`. Works on the environment table at the top. */
/* The limits every command obeys, refused by each command alike (the
 * frequency cap is read by run and deliver, the rules' time limit by run). */
static int check_limits(patron_config *c, patron_err *err)
{
	double m;
	int64_t d;
	int has = patron_config_number(c, "frequency_cap", "messages", &m);
	if (has < 0 || (has > 0 && !(m >= 1 && m <= 1e9 && m == floor(m))))
		return patron_err_set(err, "%s: frequency_cap.messages: expected a whole number "
				      "above 0", c->path);
	const char *per = patron_config_string(c, "frequency_cap", "per");
	if ((has > 0 || per) && (!per || patron_parse_duration(per, &d) < 0))
		return patron_err_set(err, "%s: frequency_cap.per: expected a duration like "
				      "\"7d\"%s", c->path, has > 0 ? "" : " (and messages, a number)");
	if (per && has == 0)
		return patron_err_set(err, "%s: frequency_cap.messages: expected a whole number "
				      "above 0", c->path);
	const char *keep = patron_config_string(c, "retention", "events");
	if (keep && patron_parse_duration(keep, &d) < 0)
		return patron_err_set(err, "%s: retention.events: expected a duration like \"2y\", "
				      "got \"%s\"", c->path, keep);
	const char *window = patron_config_string(c, "attribution", "window");
	if (window && patron_parse_duration(window, &d) < 0)
		return patron_err_set(err, "%s: attribution.window: expected a duration like "
				      "\"7d\", got \"%s\"", c->path, window);
	double cost;
	if (patron_config_number(c, "attribution", "cost_per_message", &cost) < 0 ||
	    (patron_config_number(c, "attribution", "cost_per_message", &cost) > 0 &&
	     !(cost >= 0)))
		return patron_err_set(err, "%s: attribution.cost_per_message: expected a number, "
				      "0 or more (in the base currency)", c->path);
	const char *limit = patron_config_string(c, "rules", "time_limit");
	if (limit && patron_parse_duration(limit, &d) < 0)
		return patron_err_set(err, "%s: rules.time_limit: expected a duration like \"5s\", "
				      "got \"%s\"", c->path, limit);
	return 0;
}

static int validate(patron_config *c, patron_err *err)
{
	lua_State *L = c->L;
	lua_pushnil(L);
	while (lua_next(L, -2)) {
		if (lua_type(L, -2) != LUA_TSTRING) {
			lua_pop(L, 2);
			return patron_err_set(err, "%s: only names can be set at the top level",
					      c->path);
		}
		const char *key = lua_tostring(L, -2);
		int other = 0;
		for (int i = 0; other_keys[i]; i++)
			other |= strcmp(other_keys[i], key) == 0;
		if (!is_job(key) && !other) {
			patron_buf known = {0};
			for (const patron_job *j = patron_jobs; j->job; j++)
				patron_buf_printf(&known, "%s%s", known.len ? ", " : "", j->job);
			for (int i = 0; other_keys[i]; i++)
				patron_buf_printf(&known, ", %s", other_keys[i]);
			patron_err_set(err, "%s: unknown key \"%s\" (expected one of: %s)", c->path,
				       key, known.data);
			patron_buf_free(&known);
			lua_pop(L, 2);
			return -1;
		}
		if (is_job(key) && is_list(L, -1)) {
			if (strcmp(key, "segment") != 0) {
				patron_err_set(err, "%s: %s: a list of plugins is for segment only "
					       "(several segmentations at once); expected one plugin",
					       c->path, key);
				lua_pop(L, 2);
				return -1;
			}
			size_t n = (size_t)lua_rawlen(L, -1);
			for (size_t k = 1; k <= n; k++) {
				int et = lua_rawgeti(L, -1, (lua_Integer)k);
				int ok = et == LUA_TSTRING;
				if (et == LUA_TTABLE) {
					ok = lua_getfield(L, -1, "plugin") == LUA_TSTRING;
					lua_pop(L, 1);
				}
				lua_pop(L, 1);
				if (!ok) {
					patron_err_set(err, "%s: %s[%zu]: expected a plugin name or a "
						       "table { plugin = NAME, ... }", c->path, key, k);
					lua_pop(L, 2);
					return -1;
				}
			}
		} else if (is_job(key)) {
			int t = lua_type(L, -1);
			if (t == LUA_TTABLE) {
				lua_getfield(L, -1, "plugin");
				int ok = lua_type(L, -1) == LUA_TSTRING;
				const char *got = type_of(L, -1);
				lua_pop(L, 1);
				if (!ok) {
					patron_err_set(err, "%s: %s.plugin: expected a plugin name, got "
						       "%s", c->path, key, got);
					lua_pop(L, 2);
					return -1;
				}
			} else if (t != LUA_TSTRING && !(t == LUA_TBOOLEAN && !lua_toboolean(L, -1))) {
				patron_err_set(err, "%s: %s: expected a plugin name, a table "
					       "{ plugin = NAME, ... } or false, got %s", c->path, key,
					       type_of(L, -1));
				lua_pop(L, 2);
				return -1;
			}
		} else if (strcmp(key, "templates") == 0) {
			if (lua_type(L, -1) != LUA_TSTRING) {
				patron_err_set(err, "%s: templates: expected a folder name, got %s",
					       c->path, type_of(L, -1));
				lua_pop(L, 2);
				return -1;
			}
		} else if (strcmp(key, "currency") == 0) {
			const char *v = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
			char code[8];
			if (!v || strlen(v) != 3 || patron_currency_code(v, code) < 0) {
				patron_err_set(err, "%s: currency: expected the shop's base currency as "
					       "a three-letter code such as \"EUR\", got %s", c->path,
					       v ? v : type_of(L, -1));
				lua_pop(L, 2);
				return -1;
			}
		} else if (strcmp(key, "public_url") == 0) {
			const char *v = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
			if (!v || (strncmp(v, "http://", 7) != 0 && strncmp(v, "https://", 8) != 0)) {
				patron_err_set(err, "%s: public_url: expected the address patron serve "
					       "is reached at, like \"https://shop.example/patron\", got %s",
					       c->path, v ? v : type_of(L, -1));
				lua_pop(L, 2);
				return -1;
			}
		} else if (strcmp(key, "serve") == 0) {
			if (lua_type(L, -1) != LUA_TTABLE) {
				patron_err_set(err, "%s: serve: expected a table such as { listen = "
					       "\"127.0.0.1:8080\" }, got %s", c->path, type_of(L, -1));
				lua_pop(L, 2);
				return -1;
			}
		} else if (strcmp(key, "inbox") == 0) {
			if (lua_type(L, -1) != LUA_TTABLE) {
				patron_err_set(err, "%s: inbox: expected a table such as { addresses = "
					       "\"help@shop.example\" }, got %s", c->path, type_of(L, -1));
				lua_pop(L, 2);
				return -1;
			}
		} else if (strcmp(key, "auto_reply") == 0) {
			/* { INTENT = "off"|"draft"|"send", ..., confidence = 0.7, min_score = 1 } */
			int ok = lua_type(L, -1) == LUA_TTABLE;
			const char *bad = NULL;
			lua_pushnil(L);
			while (ok && lua_next(L, -2)) {
				const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : NULL;
				const char *v = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
				double x = lua_type(L, -1) == LUA_TNUMBER ? lua_tonumber(L, -1) : NAN;
				if (!k)
					ok = 0;
				else if (!strcmp(k, "confidence"))
					ok = x >= 0 && x <= 1;
				else if (!strcmp(k, "min_score"))
					ok = x >= 0;
				else
					ok = v && (!strcmp(v, "off") || !strcmp(v, "draft") ||
						   !strcmp(v, "send"));
				if (!ok)
					bad = k;
				lua_pop(L, 1);
			}
			if (!ok) {
				lua_pop(L, 1);	/* the key lua_next left, or the nil */
				patron_err_set(err, "%s: auto_reply%s%s: expected { INTENT = \"off\", "
					       "\"draft\" or \"send\", confidence = 0 to 1, min_score = "
					       "0 or more }", c->path, bad ? "." : "", bad ? bad : "");
				lua_pop(L, 2);
				return -1;
			}
		} else if (strcmp(key, "sla") == 0) {
			int64_t secs;
			int ok = lua_type(L, -1) == LUA_TTABLE;
			if (ok) {
				lua_getfield(L, -1, "first_response");
				ok = lua_isnil(L, -1) || (lua_type(L, -1) == LUA_TSTRING &&
					patron_parse_duration(lua_tostring(L, -1), &secs) == 0 && secs > 0);
				lua_pop(L, 1);
			}
			if (!ok) {
				patron_err_set(err, "%s: sla: expected a table such as { first_response "
					       "= \"24h\" }", c->path);
				lua_pop(L, 2);
				return -1;
			}
		} else if (strcmp(key, "campaign_costs") == 0) {
			/* { ["rule name"] = 50, ... }: each a cost in the base currency */
			if (lua_type(L, -1) != LUA_TTABLE) {
				patron_err_set(err, "%s: campaign_costs: expected a table of costs by "
					       "rule, such as { [\"winback\"] = 50 }, got %s", c->path,
					       type_of(L, -1));
				lua_pop(L, 2);
				return -1;
			}
			lua_pushnil(L);
			while (lua_next(L, -2)) {
				int bad = lua_type(L, -2) != LUA_TSTRING ||
					  lua_type(L, -1) != LUA_TNUMBER ||
					  !(lua_tonumber(L, -1) >= 0) || !isfinite(lua_tonumber(L, -1));
				if (bad) {
					patron_err_set(err, "%s: campaign_costs[%s]: expected a rule's "
						       "name and a cost, 0 or more, in the base currency",
						       c->path, lua_type(L, -2) == LUA_TSTRING ?
						       lua_tostring(L, -2) : "?");
					lua_pop(L, 4);
					return -1;
				}
				lua_pop(L, 1);
			}
		} else if (strcmp(key, "shop") == 0) {
			if (lua_type(L, -1) != LUA_TSTRING) {
				patron_err_set(err, "%s: shop: expected the shop's name as a string, "
					       "got %s", c->path, type_of(L, -1));
				lua_pop(L, 2);
				return -1;
			}
		} else if (lua_type(L, -1) != LUA_TTABLE) {
			patron_err_set(err, "%s: %s: expected a table, got %s", c->path, key,
				       type_of(L, -1));
			lua_pop(L, 2);
			return -1;
		}
		lua_pop(L, 1);
	}
	return check_limits(c, err);
}

int patron_config_load(const char *path, int required, patron_config **out, patron_err *err)
{
	patron_config *c = patron_xcalloc(1, sizeof *c);
	c->path = patron_xstrdup(path);
	c->L = lua_newstate(capped_alloc, c);
	if (!c->L) {
		free(c->path);
		free(c);
		return patron_err_set(err, "%s: out of memory", path);
	}
	lua_State *L = c->L;
	/* The environment the file runs in: an empty table for what it sets,
	 * which reads math and string (and nothing else) through __index. */
	lua_newtable(L);	/* the environment */
	lua_newtable(L);	/* its metatable */
	lua_newtable(L);	/* what it may read */
	luaL_requiref(L, LUA_MATHLIBNAME, luaopen_math, 0);
	lua_setfield(L, -2, "math");
	luaL_requiref(L, LUA_STRLIBNAME, luaopen_string, 0);
	lua_setfield(L, -2, "string");
	lua_setfield(L, -2, "__index");
	lua_setmetatable(L, -2);	/* the environment is alone, at index 1 */

	struct stat st;
	if (stat(path, &st) != 0) {
		if (!required && errno == ENOENT) {
			lua_newtable(L);	/* nothing set: every job on its fallback */
			lua_replace(L, 1);
			*out = c;
			return 0;
		}
		patron_err_set(err, "%s: cannot read: %s", path, strerror(errno));
		patron_config_free(c);
		return -1;
	}
	char chunk[4200];
	snprintf(chunk, sizeof chunk, "@%s", path);
	FILE *f = fopen(path, "rb");
	patron_buf text = {0};
	if (f) {
		char b[4096];
		size_t n;
		while ((n = fread(b, 1, sizeof b, f)) > 0)
			patron_buf_add(&text, b, n);
		fclose(f);
	}
	if (!f) {
		patron_err_set(err, "%s: cannot read: %s", path, strerror(errno));
		patron_config_free(c);
		return -1;
	}
	/* Text only: a precompiled chunk could break the sandbox. */
	int rc = luaL_loadbufferx(L, text.data ? text.data : "", text.len, chunk, "t");
	patron_buf_free(&text);
	if (rc == LUA_OK) {
		lua_pushvalue(L, 1);
		lua_setupvalue(L, -2, 1);	/* _ENV */
		lua_sethook(L, too_long, LUA_MASKCOUNT, CONFIG_STEPS);
		rc = lua_pcall(L, 0, 0, 0);
		lua_sethook(L, NULL, 0, 0);
	}
	if (rc != LUA_OK) {
		const char *msg = lua_tostring(L, -1);
		if (rc == LUA_ERRMEM)
			patron_err_set(err, "%s: uses more than %u MiB", path, CONFIG_MEMORY >> 20);
		else
			patron_err_set(err, "%s", msg ? msg : "error");
		patron_config_free(c);
		return -1;
	}
	lua_settop(L, 1);
	if (validate(c, err) < 0) {
		patron_config_free(c);
		return -1;
	}
	*out = c;
	return 0;
}

void patron_config_free(patron_config *c)
{
	if (!c)
		return;
	lua_close(c->L);
	free(c->path);
	free(c);
}

const char *patron_config_path(const patron_config *c) { return c->path; }

/* Pushes the value of JOB (string or table); returns its Lua type. */
static int push_job(const patron_config *c, const char *job)
{
	const char *bracket = strchr(job, '[');
	if (bracket && strncmp(job, "channels.", 9) != 0) {
		/* "segment[2]": the second choice of a list */
		char name[64];
		snprintf(name, sizeof name, "%.*s", (int)(bracket - job), job);
		long k = strtol(bracket + 1, NULL, 10);
		lua_getfield(c->L, 1, name);
		if (!is_list(c->L, -1)) {
			if (k != 1) {	/* one choice: it is the first and only */
				lua_pop(c->L, 1);
				lua_pushnil(c->L);
				return LUA_TNIL;
			}
			return lua_type(c->L, -1);
		}
		int t = lua_rawgeti(c->L, -1, k);
		lua_remove(c->L, -2);
		return t;
	}
	if (strncmp(job, "channels.", 9) != 0) {
		int t = lua_getfield(c->L, 1, job);
		if (is_list(c->L, -1)) {	/* a list's first is the job's default */
			t = lua_rawgeti(c->L, -1, 1);
			lua_remove(c->L, -2);
		}
		return t;
	}
	if (lua_getfield(c->L, 1, "channels") != LUA_TTABLE) {
		lua_pop(c->L, 1);
		lua_pushnil(c->L);
		return LUA_TNIL;
	}
	int t = lua_getfield(c->L, -1, job + 9);
	lua_remove(c->L, -2);
	return t;
}

static void json_text(patron_buf *b, const char *s, size_t n)
{
	patron_buf_adds(b, "\"");
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch == '"' || ch == '\\')
			patron_buf_printf(b, "\\%c", ch);
		else if (ch < 0x20)
			patron_buf_printf(b, "\\u%04x", ch);
		else
			patron_buf_add(b, &s[i], 1);
	}
	patron_buf_adds(b, "\"");
}

void patron_config_job_json(const patron_config *c, const char *job, patron_buf *buf)
{
	lua_State *L = c->L;
	int t = push_job(c, job), n = 0;
	patron_buf_adds(buf, "{");
	if (t == LUA_TSTRING) {
		size_t len;
		const char *v = lua_tolstring(L, -1, &len);
		patron_buf_adds(buf, "\"plugin\":");
		json_text(buf, v, len);
	} else if (t == LUA_TTABLE) {
		lua_pushnil(L);
		while (lua_next(L, -2)) {
			int vt = lua_type(L, -1);
			if (lua_type(L, -2) == LUA_TSTRING &&
			    (vt == LUA_TSTRING || vt == LUA_TNUMBER || vt == LUA_TBOOLEAN)) {
				size_t klen;
				const char *k = lua_tolstring(L, -2, &klen);
				patron_buf_adds(buf, n++ ? "," : "");
				json_text(buf, k, klen);
				patron_buf_adds(buf, ":");
				if (vt == LUA_TBOOLEAN) {
					patron_buf_adds(buf, lua_toboolean(L, -1) ? "true" : "false");
				} else if (vt == LUA_TNUMBER) {
					double d = lua_tonumber(L, -1);
					if (isfinite(d))
						patron_buf_printf(buf, "%.17g", d);
					else
						patron_buf_adds(buf, "null");
				} else {
					size_t vlen;
					const char *v = lua_tolstring(L, -1, &vlen);
					json_text(buf, v, vlen);
				}
			}
			lua_pop(L, 1);
		}
	}
	lua_pop(L, 1);
	patron_buf_adds(buf, "}");
}

const char *patron_config_plugin(const patron_config *c, const char *job)
{
	lua_State *L = c->L;
	int t = push_job(c, job);
	const char *name = NULL;
	if (t == LUA_TSTRING) {
		name = lua_tostring(L, -1);
	} else if (t == LUA_TTABLE) {
		lua_getfield(L, -1, "plugin");
		name = lua_tostring(L, -1);
		lua_pop(L, 1);
	}
	int off = t == LUA_TBOOLEAN;	/* JOB = false: the job does not run */
	lua_pop(L, 1);	/* the strings stay alive: the environment holds them */
	if (name || off)
		return name;
	for (const patron_job *j = patron_jobs; j->job; j++)
		if (strcmp(j->job, job) == 0)
			return j->fallback;
	return NULL;
}

/* Pushes option KEY of JOB (nil when the job is not a table). */
static int push_option(const patron_config *c, const char *job, const char *key)
{
	lua_State *L = c->L;
	if (push_job(c, job) != LUA_TTABLE) {
		lua_pop(L, 1);
		lua_pushnil(L);
		return LUA_TNIL;
	}
	int t = lua_getfield(L, -1, key);
	lua_remove(L, -2);
	return t;
}

const char *patron_config_string(const patron_config *c, const char *job, const char *key)
{
	int t = push_option(c, job, key);
	const char *s = t == LUA_TSTRING ? lua_tostring(c->L, -1) : NULL;
	lua_pop(c->L, 1);
	return s;
}

int patron_config_number(const patron_config *c, const char *job, const char *key, double *out)
{
	int t = push_option(c, job, key);
	int rc = t == LUA_TNIL ? 0 : t == LUA_TNUMBER || t == LUA_TBOOLEAN ? 1 : -1;
	if (t == LUA_TNUMBER)
		*out = lua_tonumber(c->L, -1);
	else if (t == LUA_TBOOLEAN)
		*out = lua_toboolean(c->L, -1) ? 1 : 0;	/* repurchase = true */
	lua_pop(c->L, 1);
	return rc;
}

size_t patron_config_choices(const patron_config *c, const char *job)
{
	lua_State *L = c->L;
	lua_getfield(L, 1, job);
	size_t n = is_list(L, -1) ? (size_t)lua_rawlen(L, -1) : 0;
	lua_pop(L, 1);
	if (n)
		return n;
	return patron_config_plugin(c, job) ? 1 : 0;
}

const char *patron_config_top_string(const patron_config *c, const char *key)
{
	int t = lua_getfield(c->L, 1, key);
	const char *s = t == LUA_TSTRING ? lua_tostring(c->L, -1) : NULL;
	lua_pop(c->L, 1);
	return s;
}

int patron_config_channel(const patron_config *c, const char *name, const char **address)
{
	lua_State *L = c->L;
	*address = NULL;
	if (lua_getfield(L, 1, "channels") != LUA_TTABLE) {
		lua_pop(L, 1);
		return 0;
	}
	int t = lua_getfield(L, -1, name);
	int known = t == LUA_TTABLE || t == LUA_TSTRING;
	if (t == LUA_TTABLE) {
		if (lua_getfield(L, -1, "address") == LUA_TSTRING)
			*address = lua_tostring(L, -1);
		lua_pop(L, 1);
	}
	lua_pop(L, 2);
	return known;
}

void patron_config_channel_names(const patron_config *c, patron_buf *names)
{
	lua_State *L = c->L;
	if (lua_getfield(L, 1, "channels") == LUA_TTABLE) {
		lua_pushnil(L);
		while (lua_next(L, -2)) {
			if (lua_type(L, -2) == LUA_TSTRING)
				patron_buf_printf(names, "%s%s", names->len ? ", " : "",
						  lua_tostring(L, -2));
			lua_pop(L, 1);
		}
	}
	lua_pop(L, 1);
}

int patron_config_secret(const patron_config *c, const char *job, const char *name,
			 const char *env_default, char **out, patron_err *err)
{
	*out = NULL;
	char key[128];
	if (c && patron_config_string(c, job, name))
		return patron_err_set(err, "option %s: a %s does not belong in patron.conf; give "
				      "%s_env (an environment variable) or %s_file (a file only "
				      "you can read)", name, name, name, name);
	snprintf(key, sizeof key, "%s_env", name);
	const char *var = c ? patron_config_string(c, job, key) : NULL;
	snprintf(key, sizeof key, "%s_file", name);
	const char *file = c ? patron_config_string(c, job, key) : NULL;
	if (var) {
		const char *v = getenv(var);
		if (!v)
			return patron_err_set(err, "option %s_env: the environment variable %s is not "
					      "set", name, var);
		*out = patron_xstrdup(v);
	} else if (file) {
		char buf[4096];
		size_t len;
		patron_err why;
		if (patron_read_secret(file, buf, sizeof buf, &len, &why) < 0)
			return patron_err_set(err, "option %s_file: %s", name, why.msg);
		buf[strcspn(buf, "\r\n")] = '\0';
		if (buf[0])
			*out = patron_xstrdup(buf);
		memset(buf, 0, sizeof buf);
		if (!*out)
			return patron_err_set(err, "option %s_file: %s: empty", name, file);
	} else if (env_default && getenv(env_default)) {
		*out = patron_xstrdup(getenv(env_default));
	}
	return 0;
}
