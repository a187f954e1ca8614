/* Delivery: drains the outbox through the channel plugins. See outbox.h. */
#include "outbox.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <libgen.h>
#include <math.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "bus.h"
#include "consent.h"
#include "mime.h"
#include "inbox/survey.h"
#include "profile.h"
#include "serve/tokens.h"
#include "template.h"
#include "value.h"

void patron_templates_dir(const patron_config *c, const char *rules_dir, char *dir, size_t cap)
{
	const char *conf = c ? patron_config_top_string(c, "templates") : NULL;
	if (conf && conf[0] == '/') {
		snprintf(dir, cap, "%s", conf);
	} else if (conf) {
		const char *cp = patron_config_path(c);
		const char *slash = strrchr(cp, '/');
		snprintf(dir, cap, "%.*s%s", slash ? (int)(slash - cp + 1) : 0, cp, conf);
	} else {
		snprintf(dir, cap, "%s/templates", rules_dir);
	}
}

/* ---- one channel, as configured ---- */

typedef struct {
	char name[128];
	char job[160];		/* "channels.NAME" */
	char plugin[160];	/* "channel.smtp" */
	const char *from;
	char domain[256];	/* of the Message-ID */
	const char *unsubscribe_mailto;
	/* unsubscribe_url as configured, else patron serve's page under
	 * public_url ("" for none): read through unsubscribe_url(), since
	 * channels move when the array holding them grows */
	const char *unsubscribe_conf;
	char serve_unsub[900];
	const char *public_url;	/* patron serve's address: links tracked through it */
	int email;		/* addressed by email: unsubscribe header and footer */
	double rate;		/* per second, 0: none */
	double next_ok;		/* monotonic seconds */
	int attempts;
	int64_t backoff, backoff_max;
	patron_channel *open;
	int down;		/* stopped for this run */
	char why_down[1100];
} channel;

static const char *unsubscribe_url(const channel *ch)
{
	return ch->unsubscribe_conf ? ch->unsubscribe_conf : ch->serve_unsub[0] ? ch->serve_unsub
											: NULL;
}

static double mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int duration_option(const patron_config *c, const char *job, const char *key,
			   int64_t dflt, int64_t *out, patron_err *err)
{
	*out = dflt;
	const char *v = c ? patron_config_string(c, job, key) : NULL;
	if (v && patron_parse_duration(v, out) < 0)
		return patron_err_set(err, "%s: %s.%s: expected a duration like \"1m\", got \"%s\"",
				      patron_config_path(c), job, key, v);
	return 0;
}

/* Reads channels.NAME; does not open the plugin yet. */
static int channel_setup(channel *ch, const patron_config *c, const char *name, patron_err *err)
{
	memset(ch, 0, sizeof *ch);
	snprintf(ch->name, sizeof ch->name, "%s", name);
	snprintf(ch->job, sizeof ch->job, "channels.%s", name);
	const char *plugin = c ? patron_config_plugin(c, ch->job) : NULL;
	snprintf(ch->plugin, sizeof ch->plugin, "channel.%s", plugin ? plugin : "outbox-file");
	ch->from = c ? patron_config_string(c, ch->job, "from") : NULL;
	if (!ch->from)
		ch->from = "Patron <patron@localhost>";
	char addr[320];
	patron_mail_address(ch->from, addr, sizeof addr);
	const char *at = strrchr(addr, '@');
	const char *dom = c ? patron_config_string(c, ch->job, "domain") : NULL;
	snprintf(ch->domain, sizeof ch->domain, "%s", dom ? dom : at ? at + 1 : "patron.invalid");
	const char *kind = NULL;
	if (c)
		patron_config_channel(c, name, &kind);
	ch->email = kind ? strcmp(kind, "email") == 0 : strcmp(name, "sms") != 0;
	ch->unsubscribe_conf = c ? patron_config_string(c, ch->job, "unsubscribe_url") : NULL;
	ch->unsubscribe_mailto = c ? patron_config_string(c, ch->job, "unsubscribe_mailto") : NULL;
	ch->public_url = c ? patron_config_top_string(c, "public_url") : NULL;
	if (ch->public_url && strncmp(ch->public_url, "http://", 7) != 0 &&
	    strncmp(ch->public_url, "https://", 8) != 0)
		return patron_err_set(err, "%s: public_url: expected the address patron serve is "
				      "reached at, like \"https://shop.example/patron\", got \"%s\"",
				      patron_config_path(c), ch->public_url);
	if (ch->public_url && !ch->unsubscribe_conf && ch->email) {
		size_t n = strlen(ch->public_url);
		while (n && ch->public_url[n - 1] == '/')
			n--;
		snprintf(ch->serve_unsub, sizeof ch->serve_unsub, "%.*s/u/{token}", (int)n,
			 ch->public_url);
	}
	double num;
	int has = c ? patron_config_number(c, ch->job, "rate", &num) : 0;
	if (has < 0 || (has > 0 && num <= 0))
		return patron_err_set(err, "%s: %s.rate: expected messages per second above 0",
				      patron_config_path(c), ch->job);
	ch->rate = has > 0 ? num : 0;
	has = c ? patron_config_number(c, ch->job, "attempts", &num) : 0;
	if (has < 0 || (has > 0 && (num < 1 || num > 100 || num != (int)num)))
		return patron_err_set(err, "%s: %s.attempts: expected a whole number from 1 to 100",
				      patron_config_path(c), ch->job);
	ch->attempts = has > 0 ? (int)num : 8;
	/* 5m, 10m, 20m ... at most 6h: eight attempts span about ten hours */
	if (duration_option(c, ch->job, "backoff", 300, &ch->backoff, err) < 0 ||
	    duration_option(c, ch->job, "backoff_max", 6 * 3600, &ch->backoff_max, err) < 0)
		return -1;
	return 0;
}

/* ---- the run ---- */

typedef struct {
	char key[4600];
	patron_template *t;
	char err[600];		/* why it cannot be loaded, when t is NULL */
} cached_template;

typedef struct {
	patron_store *s;
	const patron_deliver_opts *o;
	patron_deliver_stats *st;
	patron_bus *bus;
	channel *chans;
	size_t nchans;
	cached_template *tpls;
	size_t ntpls;
	sqlite3_stmt *consent;
	int quiet;		/* a channel that cannot open is the caller's to say */
} run;

typedef struct {
	int64_t id, cid;
	char *key, *channel, *address, *tmpl, *tmpl_path, *vars, *rule;
	int attempts;
	int64_t created_at;
} row;

static void row_free(row *r)
{
	free(r->key);
	free(r->channel);
	free(r->address);
	free(r->tmpl);
	free(r->tmpl_path);
	free(r->vars);
	free(r->rule);
}

static char *col_dup(sqlite3_stmt *st, int c)
{
	const char *s = (const char *)sqlite3_column_text(st, c);
	return patron_xstrdup(s ? s : "");
}

/* An outbox row: SELECT ROW_COLUMNS, read by read_row. */
#define ROW_COLUMNS "id, key, channel, coalesce(customer_id, 0), address, template," \
		    " coalesce(template_path, ''), vars, coalesce(rule, ''), attempts, created_at"
static void read_row(sqlite3_stmt *st, row *m)
{
	m->id = sqlite3_column_int64(st, 0);
	m->key = col_dup(st, 1);
	m->channel = col_dup(st, 2);
	m->cid = sqlite3_column_int64(st, 3);
	m->address = col_dup(st, 4);
	m->tmpl = col_dup(st, 5);
	m->tmpl_path = col_dup(st, 6);
	m->vars = col_dup(st, 7);
	m->rule = col_dup(st, 8);
	m->attempts = sqlite3_column_int(st, 9);
	m->created_at = sqlite3_column_int64(st, 10);
}

static channel *channel_of(run *r, const char *name, patron_err *err)
{
	for (size_t i = 0; i < r->nchans; i++)
		if (strcmp(r->chans[i].name, name) == 0)
			return &r->chans[i];
	r->chans = patron_xrealloc(r->chans, (r->nchans + 1) * sizeof *r->chans);
	channel *ch = &r->chans[r->nchans];
	if (channel_setup(ch, r->o->config, name, err) < 0)
		return NULL;
	r->nchans++;
	const patron_plugin_file *pf = patron_plugins_find(r->o->plugins, ch->plugin);
	patron_err perr;
	if (!pf || !pf->desc) {
		ch->down = 1;
		snprintf(ch->why_down, sizeof ch->why_down, "no channel plugin %s%s%s", ch->plugin,
			 pf && pf->refused ? ": " : "", pf && pf->refused ? pf->refused : "");
	} else {
		patron_run_env env = {.store = r->s, .config = r->o->config, .job = ch->job,
				      .now = r->o->now};
		if (patron_channel_open(pf, &env, &ch->open, &perr) < 0) {
			ch->down = 1;
			snprintf(ch->why_down, sizeof ch->why_down, "%s", perr.msg);
		}
	}
	if (ch->down && !r->quiet) {
		fprintf(stderr, "patron: channel %s: %s; its messages stay queued\n", ch->name,
			ch->why_down);
		r->st->channels_down++;
	}
	return ch;
}

static void channels_close(run *r)
{
	for (size_t i = 0; i < r->nchans; i++)
		patron_channel_close(r->chans[i].open);
	free(r->chans);
}

static patron_template *template_of(run *r, const row *m, char *why, size_t cap)
{
	char dir[4400];
	snprintf(dir, sizeof dir, "%s", m->tmpl_path);
	char *d = dirname(dir);
	char key[4600];
	snprintf(key, sizeof key, "%s/%s", d, m->tmpl);
	for (size_t i = 0; i < r->ntpls; i++)
		if (strcmp(r->tpls[i].key, key) == 0) {
			snprintf(why, cap, "%s", r->tpls[i].err);
			return r->tpls[i].t;
		}
	r->tpls = patron_xrealloc(r->tpls, (r->ntpls + 1) * sizeof *r->tpls);
	cached_template *c = &r->tpls[r->ntpls++];
	memset(c, 0, sizeof *c);
	snprintf(c->key, sizeof c->key, "%s", key);
	patron_err err;
	if (patron_template_load(d, m->tmpl, &c->t, &err) < 0)
		snprintf(c->err, sizeof c->err, "%s", err.msg);
	snprintf(why, cap, "%s", c->err);
	return c->t;
}

/* The message as its channel gets it: rendered, and as an email and as JSON. */
typedef struct {
	patron_message m;
	patron_rendered body;
	patron_buf mid;
	char *mime, *json;
	char unsub_url[1024], token[160];
} built;

static void built_free(built *b)
{
	patron_rendered_free(&b->body);
	patron_buf_free(&b->mid);
	free(b->mime);
	free(b->json);
}

/* Mentions of the unsubscribe link the template did not make itself. */
static char *with_footer(char *body, const char *url, int html)
{
	if (!url[0] || strstr(body, url))
		return body;
	patron_buf b = {0};
	patron_buf_adds(&b, body);
	if (html) {
		patron_buf_adds(&b, "\n<p style=\"font-size:small\"><a href=\"");
		patron_html_escape(&b, url, strlen(url));
		patron_buf_adds(&b, "\">Unsubscribe</a></p>\n");
	} else {
		patron_buf_printf(&b, "%s\n--\nTo stop these emails: %s\n",
				  b.len && b.data[b.len - 1] != '\n' ? "\n" : "", url);
	}
	free(body);
	patron_buf_add(&b, "", 1);
	return b.data;
}

static int build(patron_store *s, const channel *ch, const patron_template *t, const row *m,
		 int64_t now, built *b, patron_err *err)
{
	memset(b, 0, sizeof *b);
	json_t *vars = json_loads(m->vars, 0, NULL);
	if (!vars)
		vars = json_object();
	json_t *cust = m->cid > 0 ? patron_customer_for_template(s, m->cid, now) : json_object();
	if (m->cid > 0 &&
	    patron_unsubscribe_token(s, m->cid, ch->name, b->token, sizeof b->token, err) < 0) {
		json_decref(vars);
		json_decref(cust);
		return -1;
	}
	char from_addr[320];
	patron_mail_address(ch->from, from_addr, sizeof from_addr);
	const char *unsub = unsubscribe_url(ch);
	if (b->token[0] && unsub) {
		const char *at = strstr(unsub, "{token}");
		if (at)
			snprintf(b->unsub_url, sizeof b->unsub_url, "%.*s%s%s",
				 (int)(at - unsub), unsub, b->token, at + 7);
		else
			snprintf(b->unsub_url, sizeof b->unsub_url, "%s", unsub);
	} else if (b->token[0]) {
		snprintf(b->unsub_url, sizeof b->unsub_url, "mailto:%s?subject=unsubscribe%%20%s",
			 ch->unsubscribe_mailto ? ch->unsubscribe_mailto : from_addr, b->token);
	}
	json_t *ctx = json_pack("{s:O, s:O, s:s}", "customer", cust, "vars", vars,
				"unsubscribe_url", b->unsub_url);
	/* vars = { survey = "nps" }: a signed link per score (survey.h) */
	const char *survey = json_string_value(json_object_get(vars, "survey"));
	int lo, hi;
	if (m->id > 0 && patron_survey_range(survey, &lo, &hi) == 0) {
		unsigned char key[32];
		if (patron_survey_key(s, 1, key, err) < 0) {
			json_decref(ctx);
			json_decref(vars);
			json_decref(cust);
			return -1;
		}
		char token[80];
		json_t *links = json_array();
		size_t base = ch->public_url ? strlen(ch->public_url) : 0;
		while (base && ch->public_url[base - 1] == '/')
			base--;
		for (int score = lo; score <= hi && ch->public_url; score++) {
			patron_survey_token(key, m->id, score, token, sizeof token);
			patron_buf url = {0};
			patron_buf_printf(&url, "%.*s/s/%s", (int)base, ch->public_url, token);
			json_array_append_new(links, json_pack("{s:i, s:s}", "score", score, "url",
							       url.data));
			patron_buf_free(&url);
		}
		patron_survey_token(key, m->id, -1, token, sizeof token);
		sodium_memzero(key, sizeof key);
		json_object_set_new(ctx, "survey", json_pack("{s:s, s:s, s:o, s:i, s:i}", "kind",
							     survey, "token", token, "links", links,
							     "low", lo, "high", hi));
	}
	int rc = patron_template_render(t, ctx, &b->body, err);
	json_decref(ctx);
	if (rc < 0) {
		json_decref(vars);
		json_decref(cust);
		return -1;
	}
	if (ch->email) {	/* every marketing email says how to stop them */
		b->body.text = with_footer(b->body.text, b->unsub_url, 0);
		if (b->body.html)
			b->body.html = with_footer(b->body.html, b->unsub_url, 1);
	}

	/* Through patron serve: each link and an open pixel come back to it. */
	if (ch->email && ch->public_url && b->body.html && m->id > 0) {
		unsigned char key[32];
		if (patron_store_secret(s, "tracking_key", key, err) < 0) {
			json_decref(vars);
			json_decref(cust);
			return -1;
		}
		patron_buf tracked = {0};
		patron_track_html(key, ch->public_url, m->id, b->body.html, b->unsub_url, &tracked);
		sodium_memzero(key, sizeof key);
		free(b->body.html);
		b->body.html = tracked.data;
	}
	patron_message_id(&b->mid, m->key, ch->domain);
	const char *name = json_string_value(json_object_get(cust, "name"));
	patron_buf lu = {0};
	if (b->token[0] && ch->email) {
		if (unsub)
			patron_buf_printf(&lu, "<%s>, ", b->unsub_url);
		patron_buf_printf(&lu, "<mailto:%s?subject=unsubscribe%%20%s>",
				  ch->unsubscribe_mailto ? ch->unsubscribe_mailto : from_addr, b->token);
	}
	patron_email e = {.from = ch->from, .to = m->address, .to_name = name,
			  .subject = b->body.subject, .text = b->body.text, .html = b->body.html,
			  .message_id = b->mid.data, .list_unsubscribe = lu.len ? lu.data : NULL,
			  .one_click = unsub != NULL, .date = now};
	size_t mime_len;
	b->mime = patron_mime_compose(&e, &mime_len);
	patron_buf_free(&lu);

	json_t *who = json_pack("{s:I, s:O, s:O, s:O, s:O}", "id", (json_int_t)m->cid, "email",
				json_object_get(cust, "email") ? json_object_get(cust, "email")
							       : json_null(),
				"phone", json_object_get(cust, "phone") ? json_object_get(cust, "phone")
									: json_null(),
				"first_name", json_object_get(cust, "first_name")
						  ? json_object_get(cust, "first_name") : json_null(),
				"last_name", json_object_get(cust, "last_name")
						 ? json_object_get(cust, "last_name") : json_null());
	json_t *j = json_pack("{s:s, s:I, s:s, s:s, s:o, s:s, s:s?, s:s, s:s?, s:o, s:s?, "
			      "s:s?, s:I}",
			      "id", m->key, "outbox_id", (json_int_t)m->id, "channel", ch->name,
			      "to", m->address, "customer", who, "template", m->tmpl,
			      "subject", b->body.subject, "text", b->body.text, "html",
			      b->body.html, "vars", vars, "rule", m->rule[0] ? m->rule : NULL,
			      "unsubscribe_url", b->unsub_url[0] ? b->unsub_url : NULL,
			      "created_at", (json_int_t)m->created_at);
	b->json = json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(15));
	json_decref(j);
	json_decref(cust);

	b->m = (patron_message){
		.id = m->id, .key = m->key, .message_id = b->mid.data, .channel = ch->name,
		.customer_id = m->cid, .to = m->address, .from = ch->from,
		.subject = b->body.subject, .text = b->body.text, .html = b->body.html,
		.mime = b->mime, .mime_len = mime_len, .json = b->json,
		.attempt = (unsigned)m->attempts + 1,
	};
	return 0;
}

/* The answer a row carries when it is the shop's reply to a customer's
 * email (patron ticket --reply): a new reference, or NULL. */
static json_t *reply_of(const row *m)
{
	if (m->tmpl_path[0] || strcmp(m->tmpl, "reply") != 0)
		return NULL;
	json_t *vars = json_loads(m->vars, 0, NULL);
	json_t *r = json_incref(json_object_get(vars, "reply"));
	json_decref(vars);
	if (r && !json_is_object(r)) {
		json_decref(r);
		r = NULL;
	}
	return r;
}

static char *reply_str(json_t *reply, const char *key)
{
	const char *v = json_string_value(json_object_get(reply, key));
	return v ? patron_xstrdup(v) : NULL;
}

/* A reply as its channel gets it: the shop's own words as they were
 * written, threaded by In-Reply-To and References under the Message-ID it
 * was kept with in its ticket. No template, no unsubscribe footer, no
 * tracking, and no marketing consent asked: the customer wrote first. */
static void build_reply(const channel *ch, const row *m, json_t *reply, int64_t now, built *b)
{
	memset(b, 0, sizeof *b);
	b->body.subject = reply_str(reply, "subject");
	b->body.text = reply_str(reply, "text");
	if (!b->body.text)
		b->body.text = patron_xstrdup("");
	char *mid = reply_str(reply, "message_id");
	if (mid)
		patron_buf_adds(&b->mid, mid);
	else
		patron_message_id(&b->mid, m->key, ch->domain);
	free(mid);
	const char *irt = json_string_value(json_object_get(reply, "in_reply_to"));
	const char *refs = json_string_value(json_object_get(reply, "references"));
	patron_email e = {.from = ch->from, .to = m->address, .subject = b->body.subject,
			  .text = b->body.text, .message_id = b->mid.data, .date = now,
			  .in_reply_to = irt, .references = refs};
	size_t mime_len;
	b->mime = patron_mime_compose(&e, &mime_len);
	json_t *j = json_pack("{s:s, s:I, s:s, s:s, s:{s:I}, s:s, s:s?, s:s, s:s?, s:s?, s:I}",
			      "id", m->key, "outbox_id", (json_int_t)m->id, "channel", ch->name,
			      "to", m->address, "customer", "id", (json_int_t)m->cid, "template",
			      m->tmpl, "subject", b->body.subject, "text", b->body.text,
			      "in_reply_to", irt, "references", refs, "created_at",
			      (json_int_t)m->created_at);
	b->json = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	b->m = (patron_message){
		.id = m->id, .key = m->key, .message_id = b->mid.data, .channel = ch->name,
		.customer_id = m->cid, .to = m->address, .from = ch->from,
		.subject = b->body.subject, .text = b->body.text, .mime = b->mime,
		.mime_len = mime_len, .json = b->json, .attempt = (unsigned)m->attempts + 1,
	};
}

static int exec_id(patron_store *s, const char *sql, int64_t id, patron_err *err)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(patron_store_db(s), sql, -1, &st, NULL) != SQLITE_OK)
		return patron_store_fail(s, err, "updating the outbox");
	sqlite3_bind_int64(st, 1, id);
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : patron_store_fail(s, err, "updating the outbox");
}

/* Records the outcome of one message and its event in one transaction. */
static int settle(run *r, const row *m, const char *status, int64_t next_at, const char *error,
		  const char *topic, patron_err *err)
{
	patron_store *s = r->s;
	if (patron_store_begin(s, err) < 0)
		return -1;
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(patron_store_db(s), "UPDATE outbox SET status = ?2, next_at = ?3,"
			       " last_error = ?4, sent_at = CASE WHEN ?2 = 'sent' THEN ?5 END"
			       " WHERE id = ?1", -1, &st, NULL) != SQLITE_OK) {
		patron_store_rollback(s);
		return patron_store_fail(s, err, "updating the outbox");
	}
	sqlite3_bind_int64(st, 1, m->id);
	sqlite3_bind_text(st, 2, status, -1, SQLITE_STATIC);
	if (next_at)
		sqlite3_bind_int64(st, 3, next_at);
	else
		sqlite3_bind_null(st, 3);
	if (error)
		sqlite3_bind_text(st, 4, error, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, 4);
	sqlite3_bind_int64(st, 5, r->o->now);
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		patron_store_fail(s, err, "updating the outbox");
		patron_store_rollback(s);
		return -1;
	}
	if (topic) {
		json_t *p = json_pack("{s:I, s:s, s:s, s:s, s:s?, s:s?}", "outbox_id",
				      (json_int_t)m->id, "key", m->key, "channel", m->channel,
				      "template", m->tmpl, "rule", m->rule[0] ? m->rule : NULL,
				      "error", error);
		char *text = json_dumps(p, JSON_COMPACT);
		json_decref(p);
		rc = patron_bus_publish(r->bus, topic, m->cid, text, r->o->now, r->o->now, err);
		free(text);
		if (rc < 0) {
			patron_store_rollback(s);
			return -1;
		}
	}
	return patron_store_commit(s, err);
}

static void say(run *r, const row *m, const char *what, const char *why)
{
	if (r->o->out && r->o->verbose)
		fprintf(r->o->out, "%s #%lld %s to %s%s%s\n", what, (long long)m->id, m->tmpl,
			m->address, why && *why ? ": " : "", why && *why ? why : "");
}

/* One message, start to end. -1 only when the store fails. */
static int one(run *r, const row *m, patron_err *err)
{
	channel *ch = channel_of(r, m->channel, err);
	if (!ch)
		return -1;
	if (ch->down)
		return 0;
	json_t *reply = reply_of(m);
	if (m->cid > 0 && !reply) {	/* consent again: it may have gone since the rule ran */
		sqlite3_reset(r->consent);
		sqlite3_bind_int64(r->consent, 1, m->cid);
		sqlite3_bind_text(r->consent, 2, m->channel, -1, SQLITE_STATIC);
		int granted = sqlite3_step(r->consent) == SQLITE_ROW &&
			      sqlite3_column_int(r->consent, 0) == 1;
		sqlite3_reset(r->consent);
		if (!granted) {
			char why[200];
			snprintf(why, sizeof why, "no consent for %s at delivery", m->channel);
			r->st->cancelled++;
			say(r, m, "cancelled", why);
			return settle(r, m, "cancelled", 0, why, NULL, err);
		}
	}
	char why[1024];
	built b;
	int ok = 1;
	if (reply) {
		build_reply(ch, m, reply, r->o->now, &b);
		json_decref(reply);
	} else {
		patron_template *t = template_of(r, m, why, sizeof why);
		patron_err berr;
		if (t && build(r->s, ch, t, m, r->o->now, &b, &berr) < 0) {
			snprintf(why, sizeof why, "%s", berr.msg);	/* build left nothing to free */
			t = NULL;
		}
		ok = t != NULL;
	}
	if (!ok) {
		r->st->dead++;
		say(r, m, "failed", why);
		return settle(r, m, "dead", 0, why, "message.failed", err);
	}
	/* Its attempts used up without an answer: each ended in a delivery that
	 * stopped (a crash of the channel's plugin, or a kill) while sending it. */
	if (m->attempts >= ch->attempts) {
		built_free(&b);
		snprintf(why, sizeof why, "the delivery stopped while sending it, %d times (the "
			 "channel's plugin crashed or the process was killed)", m->attempts);
		r->st->dead++;
		say(r, m, "failed", why);
		return settle(r, m, "dead", 0, why, "message.failed", err);
	}
	if (exec_id(r->s, "UPDATE outbox SET status = 'sending', attempts = attempts + 1 "
		    "WHERE id = ?1", m->id, err) < 0) {
		built_free(&b);
		return -1;
	}
	if (ch->rate > 0) {
		double now = mono();
		if (ch->next_ok > now) {
			double wait = ch->next_ok - now;
			struct timespec ts = {(time_t)wait, (long)((wait - (time_t)wait) * 1e9)};
			nanosleep(&ts, NULL);
		}
		ch->next_ok = (ch->next_ok > now ? ch->next_ok : now) + 1.0 / ch->rate;
	}
	int ans = patron_channel_deliver(ch->open, &b.m, why, sizeof why);
	built_free(&b);
	int tries = m->attempts + 1;
	switch (ans) {
	case PATRON_DELIVERED:
		r->st->sent++;
		say(r, m, "sent", NULL);
		return settle(r, m, "sent", 0, NULL, "message.sent", err);
	case PATRON_BOUNCED:
		r->st->bounced++;
		say(r, m, "bounced", why);
		return settle(r, m, "bounced", 0, why, "message.bounced", err);
	case PATRON_REJECTED:
		r->st->dead++;
		say(r, m, "failed", why);
		return settle(r, m, "dead", 0, why, "message.failed", err);
	default:
		if (ans == PATRON_DOWN) {
			ch->down = 1;
			snprintf(ch->why_down, sizeof ch->why_down, "%s", why);
			fprintf(stderr, "patron: channel %s: %s; trying again later\n", ch->name, why);
			r->st->channels_down++;
		}
		if (tries >= ch->attempts) {
			char last[1100];
			snprintf(last, sizeof last, "%s (after %d attempts)", why, tries);
			r->st->dead++;
			say(r, m, "failed", last);
			return settle(r, m, "dead", 0, last, "message.failed", err);
		}
		/* backoff * 2^(tries-1), capped, times a jitter of 0.8 to 1.2 */
		double wait = (double)ch->backoff * pow(2.0, tries - 1);
		if (wait > (double)ch->backoff_max)
			wait = (double)ch->backoff_max;
		wait *= 0.8 + 0.4 * (randombytes_uniform(1000001) / 1e6);
		r->st->retrying++;
		say(r, m, "retrying", why);
		return settle(r, m, "queued", r->o->now + (int64_t)ceil(wait), why, NULL, err);
	}
}

static int by_id(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

static int fetch(run *r, int64_t after, row *rows, size_t cap, size_t *n, patron_err *err)
{
	sqlite3_stmt *st;
	*n = 0;
	if (sqlite3_prepare_v2(patron_store_db(r->s),
			       "SELECT " ROW_COLUMNS " FROM outbox WHERE status = 'queued' AND id > ?1"
			       " AND coalesce(next_at, 0) <= ?2 ORDER BY id LIMIT ?3",
			       -1, &st, NULL) != SQLITE_OK)
		return patron_store_fail(r->s, err, "reading the outbox");
	sqlite3_bind_int64(st, 1, after);
	sqlite3_bind_int64(st, 2, r->o->now);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)cap);
	while (sqlite3_step(st) == SQLITE_ROW)
		read_row(st, &rows[(*n)++]);
	int rc = sqlite3_errcode(patron_store_db(r->s));
	sqlite3_finalize(st);
	if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW)
		return patron_store_fail(r->s, err, "reading the outbox");
	return 0;
}

int patron_deliver(patron_store *s, const patron_deliver_opts *o, patron_deliver_stats *st,
		   patron_err *err)
{
	memset(st, 0, sizeof *st);
	if (sodium_init() < 0)
		return patron_err_set(err, "libsodium cannot start");
	int fd = patron_store_lock(s, "deliver", 0, err);
	if (fd < 0) {
		st->other_running = fd == PATRON_LOCK_HELD;
		return -1;
	}
	run r = {.s = s, .o = o, .st = st, .bus = patron_bus_new(s)};
	int64_t *resumed = NULL;	/* ascending */
	size_t nresumed = 0;
	/* Unsubscribes that came in as events count before anything is sent. */
	patron_consent_keeper keeper = {.s = s, .now = o->now};
	patron_bus_stats bs;
	int rc = patron_consent_subscribe(r.bus, &keeper, err);
	if (rc == 0)	/* the outcomes published below wait for the next run */
		rc = patron_bus_deliver(r.bus, o->now, &bs, err);
	if (rc == 0) {
		sqlite3 *db = patron_store_db(s);
		/* A message left `sending` was in a channel's hands when the
		 * delivery stopped: killed, or the plugin crashed on it. Its attempt
		 * is counted; it is sent again after all the others, so that one
		 * that crashes its channel cannot hold back the ones behind it, and
		 * it goes dead at the channel's maximum of attempts. */
		sqlite3_stmt *q;
		if (sqlite3_prepare_v2(db, "UPDATE outbox SET status = 'queued', last_error = "
				       "'the delivery stopped while sending it' WHERE status = "
				       "'sending' RETURNING id", -1, &q, NULL) != SQLITE_OK)
			rc = patron_store_fail(s, err, "resuming the outbox");
		size_t cap = 0;
		while (rc == 0 && sqlite3_step(q) == SQLITE_ROW) {
			if (nresumed == cap) {
				cap = cap ? 2 * cap : 16;
				resumed = patron_xrealloc(resumed, cap * sizeof *resumed);
			}
			resumed[nresumed++] = sqlite3_column_int64(q, 0);
		}
		if (rc == 0 && sqlite3_finalize(q) != SQLITE_OK)
			rc = patron_store_fail(s, err, "resuming the outbox");
		if (nresumed)
			qsort(resumed, nresumed, sizeof *resumed, by_id);
		st->resumed = (int64_t)nresumed;
		if (st->resumed)
			fprintf(stderr, "patron: %lld messages were being sent when a delivery "
				"stopped; each is sent again after the others, with the same "
				"Message-ID\n", (long long)st->resumed);
	}
	if (rc == 0 && sqlite3_prepare_v2(patron_store_db(s), "SELECT granted FROM consent WHERE "
					  "customer_id = ?1 AND channel = ?2", -1, &r.consent,
					  NULL) != SQLITE_OK)
		rc = patron_store_fail(s, err, "reading consent");
	enum { BATCH = 256 };
	row rows[BATCH];
	int64_t after = 0, done = 0;
	while (rc == 0) {
		size_t n;
		if (fetch(&r, after, rows, BATCH, &n, err) < 0) {
			rc = -1;
			break;
		}
		for (size_t i = 0; i < n; i++) {
			int later = nresumed &&
				    bsearch(&rows[i].id, resumed, nresumed, sizeof *resumed, by_id);
			if (rc == 0 && !later && (!o->limit || done < o->limit)) {
				rc = one(&r, &rows[i], err);
				done++;
			}
			after = rows[i].id;
			row_free(&rows[i]);
		}
		if (n < BATCH || (o->limit && done >= o->limit))
			break;
	}
	/* Then the ones a delivery stopped on. */
	for (size_t i = 0; rc == 0 && i < nresumed && (!o->limit || done < o->limit); i++) {
		size_t n;
		if (fetch(&r, resumed[i] - 1, rows, 1, &n, err) < 0) {
			rc = -1;
			break;
		}
		if (n && rows[0].id == resumed[i]) {
			rc = one(&r, &rows[0], err);
			done++;
		}
		if (n)
			row_free(&rows[0]);
	}
	free(resumed);
	if (rc == 0) {
		sqlite3_stmt *q;
		if (sqlite3_prepare_v2(patron_store_db(s), "SELECT count(*) FROM outbox WHERE "
				       "status = 'queued'", -1, &q, NULL) == SQLITE_OK &&
		    sqlite3_step(q) == SQLITE_ROW)
			st->waiting = sqlite3_column_int64(q, 0);
		sqlite3_finalize(q);
	}
	sqlite3_finalize(r.consent);
	channels_close(&r);
	for (size_t i = 0; i < r.ntpls; i++)
		patron_template_free(r.tpls[i].t);
	free(r.tpls);
	patron_bus_free(r.bus);
	close(fd);
	return rc;
}

int patron_outbox_render(patron_store *s, const patron_config *c, int64_t now, int64_t id,
			 const char *template_dir, const char *name, int64_t cid,
			 const char *vars, int raw, char **out, patron_err *err)
{
	if (sodium_init() < 0)
		return patron_err_set(err, "libsodium cannot start");
	row m = {0};
	if (id) {
		sqlite3_stmt *st;
		if (sqlite3_prepare_v2(patron_store_db(s),
				       "SELECT " ROW_COLUMNS " FROM outbox WHERE id = ?1", -1, &st,
				       NULL) != SQLITE_OK)
			return patron_store_fail(s, err, "reading the outbox");
		sqlite3_bind_int64(st, 1, id);
		if (sqlite3_step(st) != SQLITE_ROW) {
			sqlite3_finalize(st);
			return patron_err_set(err, "no message %lld in the outbox", (long long)id);
		}
		read_row(st, &m);
		sqlite3_finalize(st);
	} else {
		char path[4400], addr[400] = "";
		snprintf(path, sizeof path, "%s/%s.txt", template_dir, name);
		sqlite3_stmt *st;
		if (sqlite3_prepare_v2(patron_store_db(s), "SELECT value FROM identities WHERE "
				       "customer_id = ?1 AND kind = 'email' ORDER BY value LIMIT 1",
				       -1, &st, NULL) == SQLITE_OK) {
			sqlite3_bind_int64(st, 1, cid);
			if (sqlite3_step(st) == SQLITE_ROW)
				snprintf(addr, sizeof addr, "%s", sqlite3_column_text(st, 0));
			sqlite3_finalize(st);
		}
		char key[64];
		snprintf(key, sizeof key, "preview|%lld", (long long)cid);
		m = (row){.key = patron_xstrdup(key), .channel = patron_xstrdup("email"),
			  .cid = cid, .address = patron_xstrdup(addr[0] ? addr : "(no email)"),
			  .tmpl = patron_xstrdup(name), .tmpl_path = patron_xstrdup(path),
			  .vars = patron_xstrdup(vars ? vars : "{}"), .rule = patron_xstrdup(""),
			  .created_at = now};
	}
	run r = {.s = s};
	char why[1024];
	json_t *reply = reply_of(&m);
	patron_template *t = reply ? NULL : template_of(&r, &m, why, sizeof why);
	channel ch;
	built b;
	int rc = -1;
	if (!t && !reply)
		patron_err_set(err, "%s", why);
	else if (channel_setup(&ch, c, m.channel, err) == 0 &&
		 (reply ? (build_reply(&ch, &m, reply, now, &b), 0)
			: build(s, &ch, t, &m, now, &b, err)) == 0) {
		if (raw) {
			*out = patron_xstrdup(b.mime);
		} else {
			patron_buf v = {0};
			patron_buf_printf(&v, "To: %s\nFrom: %s\nSubject: %s\nMessage-ID: %s\n"
					  "Unsubscribe: %s\n--- text\n%s", m.address, ch.from,
					  b.body.subject ? b.body.subject : "(none)", b.mid.data,
					  b.unsub_url[0] ? b.unsub_url : "(none)", b.body.text);
			if (b.body.html)
				patron_buf_printf(&v, "--- html\n%s", b.body.html);
			patron_buf_add(&v, "", 1);
			*out = v.data;
		}
		built_free(&b);
		rc = 0;
	}
	json_decref(reply);
	for (size_t i = 0; i < r.ntpls; i++)
		patron_template_free(r.tpls[i].t);
	free(r.tpls);
	row_free(&m);
	return rc;
}

/* ---- patron erase ---- */

/* The messages that went out to ?1 (0: anyone) before ?2 (0: any time). */
#define SENT_BEFORE " FROM outbox WHERE (?1 = 0 OR customer_id = ?1) AND (?2 = 0 OR " \
		    "created_at < ?2) AND status IN ('sent', 'sending', 'bounced') AND address <> ''"

static sqlite3_stmt *sent_before(patron_store *s, const char *what, int64_t cid, int64_t before,
				 patron_err *err)
{
	char sql[400];
	snprintf(sql, sizeof sql, "SELECT %s" SENT_BEFORE, what);
	sqlite3_stmt *q;
	if (sqlite3_prepare_v2(patron_store_db(s), sql, -1, &q, NULL) != SQLITE_OK) {
		patron_store_fail(s, err, "reading the outbox");
		return NULL;
	}
	sqlite3_bind_int64(q, 1, cid);
	sqlite3_bind_int64(q, 2, before);
	return q;
}

int patron_outbox_forget(patron_store *s, const patron_config *cfg, const patron_plugins *ps,
			 int64_t cid, int64_t before, int64_t now, long *forgotten, patron_err *err)
{
	*forgotten = 0;
	patron_deliver_opts o = {.config = cfg, .plugins = ps, .now = now};
	patron_deliver_stats ds = {0};
	run r = {.s = s, .o = &o, .st = &ds, .quiet = 1};
	/* Every channel first: one that cannot open stops this before any
	 * copy is removed. Then the messages. */
	sqlite3_stmt *q = sent_before(s, "DISTINCT channel", cid, before, err);
	int rc = q ? 0 : -1;
	while (rc == 0 && sqlite3_step(q) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(q, 0);
		channel *ch = channel_of(&r, name, err);
		if (!ch)
			rc = -1;
		else if (ch->down)
			rc = patron_err_set(err, "channel %s cannot be opened to remove its copies of "
					    "the messages: %s", name, ch->why_down);
	}
	sqlite3_finalize(q);
	q = rc < 0 ? NULL : sent_before(s, "id, key, channel, address, coalesce(customer_id, 0)",
					cid, before, err);
	if (!q)
		rc = -1;
	while (rc == 0 && sqlite3_step(q) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(q, 2);
		channel *ch = channel_of(&r, name, err);	/* opened above */
		if (!ch || ch->down) {
			rc = -1;
			break;
		}
		patron_message m = {.id = sqlite3_column_int64(q, 0),
				    .key = (const char *)sqlite3_column_text(q, 1),
				    .channel = name, .customer_id = sqlite3_column_int64(q, 4),
				    .to = (const char *)sqlite3_column_text(q, 3)};
		char why[600];
		int f = patron_channel_forget(ch->open, &m, why, sizeof why);
		if (f < 0)
			rc = patron_err_set(err, "channel %s: removing its copy of message %lld: %s",
					    name, (long long)m.id, why);
		else
			*forgotten += f;
	}
	sqlite3_finalize(q);
	channels_close(&r);
	return rc;
}

int patron_retention(patron_store *s, const patron_config *cfg, const patron_plugins *ps,
		     int64_t now, long *events, long *messages, patron_err *err)
{
	*events = *messages = 0;
	const char *keep = cfg ? patron_config_string(cfg, "retention", "events") : NULL;
	int64_t span;
	if (!keep || patron_parse_duration(keep, &span) < 0)
		return 0;	/* checked when the config was read */
	int64_t before = now - span;
	long files;
	if (patron_outbox_forget(s, cfg, ps, 0, before, now, &files, err) < 0)
		return -1;
	sqlite3 *db = patron_store_db(s);
	char sql[400];
	if (patron_store_begin(s, err) < 0)
		return -1;
	snprintf(sql, sizeof sql, "DELETE FROM events WHERE occurred_at < %lld AND id < "
		 "(SELECT max(id) FROM events)", (long long)before);
	int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
	*events = sqlite3_changes(db);
	if (rc == SQLITE_OK) {
		snprintf(sql, sizeof sql, "UPDATE outbox SET address = '', vars = '{}', last_error = "
			 "NULL WHERE created_at < %lld AND status IN ('sent', 'dead', 'bounced', "
			 "'cancelled') AND address <> ''", (long long)before);
		rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
		*messages = sqlite3_changes(db);
	}
	if (rc != SQLITE_OK) {
		patron_store_fail(s, err, "pruning old events and messages");
		patron_store_rollback(s);
		return -1;
	}
	return patron_store_commit(s, err);
}
