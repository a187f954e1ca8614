/* patron serve's HTTP side. See server.h. */
#include "server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../consent.h"
#include "../inbox/survey.h"
#include "../profile.h"
#include "../store.h"
#include "../template.h"
#include "../value.h"
#include "hooks.h"
#include "ingest.h"
#include "pages.h"
#include "tokens.h"

/* ---- what a request is doing ---- */

typedef enum {
	R_NONE, R_TRACK, R_IDENTIFY, R_SHOPIFY, R_STRIPE, R_OPEN, R_CLICK, R_UNSUB_PAGE,
	R_UNSUB, R_SURVEY_PAGE, R_SURVEY, R_LOGIN_PAGE, R_LOGIN, R_LOGOUT, R_REPORT, R_REFRESH, R_CUSTOMER,
	R_HEALTH, R_NOT_FOUND, R_BAD_METHOD
} route;

typedef struct job job;

typedef struct {
	route r;
	const char *token;	/* into the URL (MHD keeps it for the request) */
	char path[96];		/* for the access log: tokens left out */
	patron_buf body;
	int too_big;
	double t0;
	unsigned status;
	size_t bytes;
	job *job;
} req;

struct job {
	route r;
	json_t *body;
	char topic[128], id[192];
	int64_t n;		/* outbox id, customer id */
	char *url;		/* a click's address (owned) */
	char channel[128];	/* comma-separated, "" for every channel */
	int keep_all;		/* a preference form that stops nothing */
	int score;		/* a survey answer's */
	struct MHD_Connection *conn;
	/* the outcome, set by the writer */
	int rc;
	long count;
	patron_err err;
	job *next;
};

typedef struct {
	const patron_server_opts *o;
	struct MHD_Daemon *d;
	unsigned char track_key[32], session_key[32];
	/* the writer */
	pthread_t writer;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	job *head, *tail;
	int stopping;
	patron_store *w;
	/* the requests under way, for a graceful stop */
	atomic_long inflight;
	atomic_long served;
	pthread_mutex_t log_mu;
	pthread_mutex_t report_mu;
	pthread_key_t reader_key;
} server;


static double mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---- the readers: one store connection per worker thread ---- */

static void reader_close(void *p)
{
	patron_store_close(p);
}

static patron_store *reader(server *sv)
{
	patron_store *s = pthread_getspecific(sv->reader_key);
	if (s)
		return s;
	patron_err err;
	if (patron_store_open(sv->o->db_path, &s, &err) < 0)
		return NULL;
	patron_store_busy(s, 5000);
	pthread_setspecific(sv->reader_key, s);
	return s;
}

/* ---- the writer: group commit ---- */

static void run_job(server *sv, job *j)
{
	patron_ingest_opts io = {.now = (int64_t)time(NULL), .currency = sv->o->currency};
	patron_store *s = sv->w;
	j->count = 0;
	switch (j->r) {
	case R_TRACK:
		j->rc = patron_ingest_track(s, j->body, &io, &j->count, &j->err);
		break;
	case R_IDENTIFY:
		j->rc = patron_ingest_identify(s, j->body, &io, &j->count, &j->err);
		break;
	case R_SHOPIFY:
		j->rc = patron_ingest_shopify(s, j->topic, j->id[0] ? j->id : NULL, j->body, &io,
					      &j->err);
		break;
	case R_STRIPE:
		j->rc = patron_ingest_stripe(s, j->body, &io, &j->err);
		break;
	case R_OPEN:
		j->rc = patron_ingest_open(s, j->n, io.now, &j->err);
		break;
	case R_CLICK:
		j->rc = patron_ingest_click(s, j->n, j->url, io.now, &j->err);
		break;
	case R_UNSUB:
		j->rc = j->keep_all ? 0
			: patron_ingest_unsubscribe(s, j->n, j->channel[0] ? j->channel : NULL, io.now,
						    &j->err);
		break;
	case R_SURVEY:	/* the comment, when the page's form sent one, in url */
		j->rc = patron_survey_record_tx(s, j->n, j->score, j->url, "link", io.now, &j->err);
		break;
	default:
		j->rc = patron_err_set(&j->err, "no such work");
	}
}

/* The most requests one transaction commits. */
#define BATCH_MAX 4096

static void *writer_main(void *arg)
{
	server *sv = arg;
	for (;;) {
		pthread_mutex_lock(&sv->mu);
		while (!sv->head && !sv->stopping)
			pthread_cond_wait(&sv->cv, &sv->mu);
		if (!sv->head) {
			pthread_mutex_unlock(&sv->mu);
			break;
		}
		job *batch = sv->head, *last = batch;
		int n = 1;
		while (last->next && n < BATCH_MAX)
			last = last->next, n++;
		sv->head = last->next;
		if (!sv->head)
			sv->tail = NULL;
		last->next = NULL;
		pthread_mutex_unlock(&sv->mu);

		patron_err err;
		int ok = patron_store_begin(sv->w, &err) == 0;
		for (job *j = batch; j && ok; j = j->next)
			run_job(sv, j);
		if (ok && patron_store_commit(sv->w, &err) < 0) {
			patron_store_rollback(sv->w);
			ok = 0;
		}
		for (job *j = batch, *next; j; j = next) {
			next = j->next;
			if (!ok) {
				j->rc = -2;
				j->err = err;
			}
			MHD_resume_connection(j->conn);
		}
	}
	return NULL;
}

static void enqueue(server *sv, job *j)
{
	pthread_mutex_lock(&sv->mu);
	j->next = NULL;
	if (sv->tail)
		sv->tail->next = j;
	else
		sv->head = j;
	sv->tail = j;
	pthread_cond_signal(&sv->cv);
	pthread_mutex_unlock(&sv->mu);
}

/* ---- responses ---- */

static enum MHD_Result respond(struct MHD_Connection *c, req *q, unsigned status,
			       const char *type, const char *body, size_t len,
			       const char *const *headers)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, (void *)body,
								 MHD_RESPMEM_MUST_COPY);
	if (!r)
		return MHD_NO;
	if (type)
		MHD_add_response_header(r, "Content-Type", type);
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(r, "Cache-Control", "no-store");
	if (type && strncmp(type, "text/html", 9) == 0)
		MHD_add_response_header(r, "Content-Security-Policy",
					"default-src 'none'; style-src 'unsafe-inline'; "
					"img-src 'self' data:; form-action 'self'; "
					"frame-ancestors 'none'");
	for (size_t i = 0; headers && headers[i]; i += 2)
		MHD_add_response_header(r, headers[i], headers[i + 1]);
	enum MHD_Result rc = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	q->status = status;
	q->bytes = len;
	return rc;
}

static enum MHD_Result json_reply(struct MHD_Connection *c, req *q, unsigned status,
				  json_t *j)
{
	char *text = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	size_t n = strlen(text);
	text = realloc(text, n + 2);
	text[n] = '\n';
	enum MHD_Result rc = respond(c, q, status, "application/json", text, n + 1, NULL);
	free(text);
	return rc;
}

static enum MHD_Result json_error(struct MHD_Connection *c, req *q, unsigned status,
				  const char *msg)
{
	return json_reply(c, q, status, json_pack("{s:s}", "error", msg));
}

static enum MHD_Result html_reply(struct MHD_Connection *c, req *q, unsigned status,
				  patron_buf *page, const char *const *headers)
{
	enum MHD_Result rc = respond(c, q, status, "text/html; charset=utf-8", page->data,
				     page->len, headers);
	patron_buf_free(page);
	return rc;
}

static enum MHD_Result redirect(struct MHD_Connection *c, req *q, unsigned status,
				const char *to, const char *cookie)
{
	const char *h[] = {"Location", to, cookie ? "Set-Cookie" : NULL, cookie, NULL};
	return respond(c, q, status, "text/plain; charset=utf-8", "", 0, h);
}

/* ---- routing ---- */

static route route_of(const char *method, const char *url, const char **token, char *path,
		      size_t cap)
{
	int get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
	int post = strcmp(method, "POST") == 0;
	*token = NULL;
	snprintf(path, cap, "%.*s", (int)(cap - 1), url);
	static const struct { const char *prefix, *shown; route get, post; } tokened[] = {
		{"/t/o/", "/t/o/:token", R_OPEN, R_NONE},
		{"/t/c/", "/t/c/:token", R_CLICK, R_NONE},
		{"/u/", "/u/:token", R_UNSUB_PAGE, R_UNSUB},
		{"/s/", "/s/:token", R_SURVEY_PAGE, R_SURVEY},
	};
	for (size_t i = 0; i < sizeof tokened / sizeof *tokened; i++) {
		size_t n = strlen(tokened[i].prefix);
		if (strncmp(url, tokened[i].prefix, n) == 0 && url[n] && !strchr(url + n, '/')) {
			*token = url + n;
			snprintf(path, cap, "%s", tokened[i].shown);
			route r = get ? tokened[i].get : post ? tokened[i].post : R_NONE;
			return r == R_NONE ? R_BAD_METHOD : r;
		}
	}
	static const struct { const char *path; route get, post; } fixed[] = {
		{"/v1/track", R_NONE, R_TRACK},
		{"/v1/identify", R_NONE, R_IDENTIFY},
		{"/hooks/shopify", R_NONE, R_SHOPIFY},
		{"/hooks/stripe", R_NONE, R_STRIPE},
		{"/login", R_LOGIN_PAGE, R_LOGIN},
		{"/logout", R_NONE, R_LOGOUT},
		{"/refresh", R_NONE, R_REFRESH},
		{"/", R_REPORT, R_NONE},
		{"/healthz", R_HEALTH, R_NONE},
	};
	for (size_t i = 0; i < sizeof fixed / sizeof *fixed; i++)
		if (strcmp(url, fixed[i].path) == 0) {
			route r = get ? fixed[i].get : post ? fixed[i].post : R_NONE;
			return r == R_NONE ? R_BAD_METHOD : r;
		}
	if (strncmp(url, "/customers/", 11) == 0) {
		const char *id = url + 11;
		if (*id && strspn(id, "0123456789") == strlen(id) && strlen(id) < 19)
			return get ? R_CUSTOMER : R_BAD_METHOD;
	}
	snprintf(path, cap, "(other)");
	return R_NOT_FOUND;
}

static const char *header(struct MHD_Connection *c, const char *name)
{
	return MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);
}

/* The site key: "Authorization: Bearer KEY" or "X-Patron-Key: KEY". */
static const char *api_key(struct MHD_Connection *c)
{
	const char *a = header(c, "Authorization");
	if (a && strncasecmp(a, "Bearer ", 7) == 0)
		return a + 7;
	return header(c, "X-Patron-Key");
}

/* 1 when KEY is a live site key. A worker remembers the last key it found
 * live for a second, so a revoked key stops within a second and a busy
 * site costs one look-up a second per worker, not one per event. */
static int key_ok(server *sv, patron_store *rd, const char *key)
{
	static __thread char last[128];
	static __thread double last_at;
	double now = mono();
	if (key && strlen(key) < sizeof last && strcmp(key, last) == 0 && now - last_at < 1.0)
		return 1;
	(void)sv;
	if (!patron_api_key_check(rd, key))
		return 0;
	snprintf(last, sizeof last, "%s", key);
	last_at = now;
	return 1;
}

static json_t *parse_body(req *q, patron_err *err)
{
	json_error_t je;
	json_t *j = json_loadb(q->body.data ? q->body.data : "", q->body.len,
			       JSON_REJECT_DUPLICATES, &je);
	if (!j)
		patron_err_set(err, "the body: line %d, column %d: %s", je.line, je.column,
			       je.text);
	return j;
}

/* ---- the owner's login ---- */

#define SESSION_SECONDS (12 * 3600)

/* The owner's password hash, or "" when none is set. */
static void password_hash(patron_store *s, char *out, size_t cap)
{
	out[0] = '\0';
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(patron_store_db(s), "SELECT value FROM settings WHERE name ="
			       " 'owner_password'", -1, &st, NULL) != SQLITE_OK)
		return;
	if (sqlite3_step(st) == SQLITE_ROW)
		snprintf(out, cap, "%s", (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
}

/* A session is "EXPIRY.MAC", the MAC over the expiry and the password's
 * hash: a new password ends every session. */
static void session_mac(server *sv, const char *expiry, const char *pw, char out[32])
{
	patron_buf t = {0};
	patron_buf_printf(&t, "s.%s.%s", expiry, pw);
	patron_mac16(sv->session_key, t.data, t.len, out);
	patron_buf_free(&t);
}

/* The session cookie's value when it is valid, into OUT; else 0. */
static int session(server *sv, struct MHD_Connection *c, patron_store *s, char *out,
		   size_t cap)
{
	const char *v = MHD_lookup_connection_value(c, MHD_COOKIE_KIND, "patron_session");
	if (!v || strlen(v) >= cap || strlen(v) > 80)
		return 0;
	const char *dot = strchr(v, '.');
	if (!dot)
		return 0;
	char expiry[24];
	snprintf(expiry, sizeof expiry, "%.*s", (int)(dot - v), v);
	int64_t exp;
	if (patron_parse_int(expiry, &exp) < 0 || exp < (int64_t)time(NULL))
		return 0;
	char pw[256], want[32];
	password_hash(s, pw, sizeof pw);
	if (!pw[0])
		return 0;
	session_mac(sv, expiry, pw, want);
	if (strlen(dot + 1) != strlen(want) || sodium_memcmp(dot + 1, want, strlen(want)) != 0)
		return 0;
	snprintf(out, cap, "%s", v);
	return 1;
}

/* The form token of a session: forms carry it, and a POST without it is
 * refused (with SameSite=Strict, a second guard against forged forms). */
static void csrf_of(server *sv, const char *sess, char out[32])
{
	patron_buf t = {0};
	patron_buf_printf(&t, "csrf.%s", sess);
	patron_mac16(sv->session_key, t.data, t.len, out);
	patron_buf_free(&t);
}

/* ---- the handler ---- */

static enum MHD_Result finish_job(server *sv, struct MHD_Connection *c, req *q);
static enum MHD_Result start(server *sv, struct MHD_Connection *c, req *q, const char *method);

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url,
			       const char *method, const char *version, const char *upload,
			       size_t *upload_size, void **con_cls)
{
	(void)version;
	server *sv = cls;
	req *q = *con_cls;
	if (!q) {
		q = patron_xcalloc(1, sizeof *q);
		q->t0 = mono();
		q->r = route_of(method, url, &q->token, q->path, sizeof q->path);
		*con_cls = q;
		atomic_fetch_add(&sv->inflight, 1);
		const char *cl = header(c, "Content-Length");
		int64_t n;
		if (cl && patron_parse_int(cl, &n) == 0 && (uint64_t)n > sv->o->max_body)
			return json_error(c, q, MHD_HTTP_CONTENT_TOO_LARGE, "the body is larger than "
					  "the server takes (serve.max_body)");
		return MHD_YES;
	}
	if (*upload_size) {
		if (q->body.len + *upload_size > sv->o->max_body)
			q->too_big = 1;
		else
			patron_buf_add(&q->body, upload, *upload_size);
		*upload_size = 0;
		return MHD_YES;
	}
	if (q->job)
		return finish_job(sv, c, q);
	if (q->too_big)
		return json_error(c, q, MHD_HTTP_CONTENT_TOO_LARGE, "the body is larger than the "
				  "server takes (serve.max_body)");
	return start(sv, c, q, method);
}

static job *new_job(req *q, route r)
{
	q->job = patron_xcalloc(1, sizeof *q->job);
	q->job->r = r;
	return q->job;
}

static enum MHD_Result submit(server *sv, struct MHD_Connection *c, job *j)
{
	j->conn = c;
	MHD_suspend_connection(c);
	enqueue(sv, j);
	return MHD_YES;
}

static const unsigned char pixel_gif[] = {
	0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00, 0x00,
	0x00, 0x00, 0xff, 0xff, 0xff, 0x21, 0xf9, 0x04, 0x01, 0x00, 0x00, 0x00, 0x00, 0x2c,
	0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x02, 0x02, 0x44, 0x01, 0x00,
	0x3b};

static enum MHD_Result finish_job(server *sv, struct MHD_Connection *c, req *q)
{
	job *j = q->job;
	if (j->rc == -2) {	/* the commit failed: nothing of it was kept */
		char msg[1200];
		snprintf(msg, sizeof msg, "not stored, try again: %s", j->err.msg);
		return json_error(c, q, MHD_HTTP_SERVICE_UNAVAILABLE, msg);
	}
	switch (j->r) {
	case R_TRACK:
	case R_IDENTIFY:
		if (j->rc < 0)
			return json_error(c, q, MHD_HTTP_BAD_REQUEST, j->err.msg);
		return json_reply(c, q, MHD_HTTP_OK, json_pack("{s:b, s:i}", "ok", 1, "accepted",
							       (int)j->count));
	case R_SHOPIFY:
	case R_STRIPE:
		if (j->rc < 0)
			return json_error(c, q, MHD_HTTP_UNPROCESSABLE_CONTENT, j->err.msg);
		if (j->rc == PATRON_INGEST_IGNORED)
			return json_reply(c, q, MHD_HTTP_OK, json_pack("{s:b, s:b}", "ok", 1,
								       "ignored", 1));
		return json_reply(c, q, MHD_HTTP_OK, json_pack("{s:b, s:b}", "ok", 1, "duplicate",
							       j->rc == PATRON_INGEST_DUPLICATE));
	case R_OPEN:
		if (j->rc < 0)
			return respond(c, q, MHD_HTTP_NOT_FOUND, "text/plain", "", 0, NULL);
		return respond(c, q, MHD_HTTP_OK, "image/gif", (const char *)pixel_gif,
			       sizeof pixel_gif, NULL);
	case R_CLICK:
		if (j->rc < 0) {
			patron_buf page = {0};
			patron_page_message(&page, sv->o->title, "This link is not valid",
					    "The message it came from is no longer here.");
			return html_reply(c, q, MHD_HTTP_NOT_FOUND, &page, NULL);
		}
		return redirect(c, q, MHD_HTTP_FOUND, j->url, NULL);
	case R_UNSUB: {
		patron_buf page = {0};
		if (j->rc < 0)
			patron_page_message(&page, sv->o->title, "Not done",
					    "Your choice could not be recorded. Please try again.");
		else if (j->keep_all)
			patron_page_message(&page, sv->o->title, "Your choices are saved",
					    "You will go on getting the messages you kept.");
		else
			patron_page_message(&page, sv->o->title, "You are unsubscribed",
					    j->channel[0] ? "You will get no more of these "
					    "messages." : "You will get no more messages from us.");
		return html_reply(c, q, j->rc < 0 ? MHD_HTTP_INTERNAL_SERVER_ERROR : MHD_HTTP_OK,
				  &page, NULL);
	}
	case R_SURVEY: {
		patron_buf page = {0};
		if (j->rc < 0)
			patron_page_message(&page, sv->o->title, "Not recorded", j->err.msg);
		else
			patron_page_survey(&page, sv->o->title, q->token, j->score, 1);
		return html_reply(c, q, j->rc < 0 ? MHD_HTTP_UNPROCESSABLE_CONTENT : MHD_HTTP_OK,
				  &page, NULL);
	}
	default:
		return json_error(c, q, MHD_HTTP_INTERNAL_SERVER_ERROR, "no such work");
	}
}

/* Form field NAME of an application/x-www-form-urlencoded body, decoded
 * into OUT; 0 when absent. The Nth (from 0) when it repeats. */
static int form_field(const patron_buf *body, const char *name, int nth, char *out, size_t cap)
{
	size_t nl = strlen(name);
	const char *p = body->data, *end = body->data + body->len;
	while (p && p < end) {
		const char *amp = memchr(p, '&', (size_t)(end - p));
		const char *stop = amp ? amp : end;
		if ((size_t)(stop - p) > nl && strncmp(p, name, nl) == 0 && p[nl] == '=' &&
		    nth-- == 0) {
			size_t o = 0;
			for (const char *v = p + nl + 1; v < stop && o + 1 < cap; v++) {
				if (*v == '+')
					out[o++] = ' ';
				else if (*v == '%' && stop - v > 2) {
					char hex[3] = {v[1], v[2], 0};
					char *e;
					long x = strtol(hex, &e, 16);
					if (*e)
						return 0;
					out[o++] = (char)x;
					v += 2;
				} else
					out[o++] = *v;
			}
			out[o] = '\0';
			return strlen(out) == o;	/* no NUL smuggled in */
		}
		p = amp ? amp + 1 : NULL;
	}
	return 0;
}

static enum MHD_Result start(server *sv, struct MHD_Connection *c, req *q, const char *method)
{
	(void)method;
	patron_err err;
	patron_store *rd = NULL;
	switch (q->r) {
	case R_TRACK:
	case R_IDENTIFY: {
		if (!(rd = reader(sv)))
			return json_error(c, q, MHD_HTTP_SERVICE_UNAVAILABLE, "the store cannot "
					  "be opened");
		if (!key_ok(sv, rd, api_key(c)))
			return json_error(c, q, MHD_HTTP_UNAUTHORIZED, "Authorization: expected "
					  "\"Bearer KEY\" with a key from patron keys add");
		json_t *body = parse_body(q, &err);
		if (!body)
			return json_error(c, q, MHD_HTTP_BAD_REQUEST, err.msg);
		job *j = new_job(q, q->r);
		j->body = body;
		return submit(sv, c, j);
	}
	case R_SHOPIFY: {
		if (!patron_shopify_verify(sv->o->shopify_secret, q->body.data ? q->body.data : "",
					   q->body.len, header(c, "X-Shopify-Hmac-Sha256")))
			return json_error(c, q, MHD_HTTP_UNAUTHORIZED, "X-Shopify-Hmac-Sha256: "
					  "missing or wrong for this body");
		json_t *body = parse_body(q, &err);
		if (!body)
			return json_error(c, q, MHD_HTTP_BAD_REQUEST, err.msg);
		job *j = new_job(q, R_SHOPIFY);
		j->body = body;
		const char *t = header(c, "X-Shopify-Topic"), *id = header(c, "X-Shopify-Webhook-Id");
		if (!id)
			id = header(c, "X-Shopify-Event-Id");
		snprintf(j->topic, sizeof j->topic, "%s", t ? t : "");
		snprintf(j->id, sizeof j->id, "%s", id ? id : "");
		return submit(sv, c, j);
	}
	case R_STRIPE: {
		int64_t t;
		if (!patron_stripe_verify(sv->o->stripe_secret, q->body.data ? q->body.data : "",
					  q->body.len, header(c, "Stripe-Signature"),
					  (int64_t)time(NULL), sv->o->stripe_tolerance, &t, &err))
			return json_error(c, q, MHD_HTTP_UNAUTHORIZED, err.msg);
		json_t *body = parse_body(q, &err);
		if (!body)
			return json_error(c, q, MHD_HTTP_BAD_REQUEST, err.msg);
		job *j = new_job(q, R_STRIPE);
		j->body = body;
		return submit(sv, c, j);
	}
	case R_OPEN:
	case R_CLICK: {
		job *j = new_job(q, q->r);
		char url[PATRON_TRACK_URL_MAX + 1];
		if (!patron_track_check(sv->track_key, q->token, q->r == R_CLICK, &j->n, url,
					sizeof url)) {
			if (q->r == R_OPEN)
				return respond(c, q, MHD_HTTP_NOT_FOUND, "text/plain", "", 0, NULL);
			patron_buf page = {0};
			patron_page_message(&page, sv->o->title, "This link is not valid",
					    "It may have been copied only in part.");
			return html_reply(c, q, MHD_HTTP_NOT_FOUND, &page, NULL);
		}
		if (q->r == R_CLICK)
			j->url = patron_xstrdup(url);
		return submit(sv, c, j);
	}
	case R_UNSUB_PAGE:
	case R_UNSUB: {
		if (!(rd = reader(sv)))
			return json_error(c, q, MHD_HTTP_SERVICE_UNAVAILABLE, "the store cannot "
					  "be opened");
		int64_t cid;
		char channel[128];
		if (patron_unsubscribe_check(rd, q->token, &cid, channel, sizeof channel) != 1) {
			patron_buf page = {0};
			patron_page_message(&page, sv->o->title, "This link is not valid",
					    "It may have been copied only in part.");
			return html_reply(c, q, MHD_HTTP_NOT_FOUND, &page, NULL);
		}
		if (q->r == R_UNSUB_PAGE) {
			patron_buf page = {0};
			patron_page_unsubscribe(&page, sv->o->title, rd, cid, channel, q->token);
			return html_reply(c, q, MHD_HTTP_OK, &page, NULL);
		}
		/* RFC 8058's one click ("List-Unsubscribe=One-Click"), or the
		 * page's forms: its channel, every channel ("all"), or each
		 * channel said yes to that is not ticked to keep. */
		char what[64] = "", save[4] = "";
		form_field(&q->body, "stop", 0, what, sizeof what);
		job *j = new_job(q, R_UNSUB);
		j->n = cid;
		if (form_field(&q->body, "save", 0, save, sizeof save)) {
			patron_buf stop = {0};
			sqlite3_stmt *st;
			if (sqlite3_prepare_v2(patron_store_db(rd), "SELECT channel FROM consent WHERE"
					       " customer_id = ?1 AND granted = 1", -1, &st,
					       NULL) == SQLITE_OK) {
				sqlite3_bind_int64(st, 1, cid);
				while (sqlite3_step(st) == SQLITE_ROW) {
					const char *ch = (const char *)sqlite3_column_text(st, 0);
					char keep[128];
					int kept = 0;
					for (int k = 0; k < 64 && !kept &&
					     form_field(&q->body, "keep", k, keep, sizeof keep); k++)
						kept = strcmp(keep, ch) == 0;
					if (!kept && strlen(ch) < 100)
						patron_buf_printf(&stop, "%s%s", stop.len ? "," : "", ch);
				}
				sqlite3_finalize(st);
			}
			snprintf(j->channel, sizeof j->channel, "%s", stop.len ? stop.data : "");
			j->keep_all = !stop.len;
			patron_buf_free(&stop);
		} else {
			snprintf(j->channel, sizeof j->channel, "%s",
				 strcmp(what, "all") == 0 ? "" : channel);
		}
		return submit(sv, c, j);
	}
	case R_SURVEY_PAGE:
	case R_SURVEY: {
		/* /s/ID.SCORE.MAC: the score the link signs. Opening the link shows
		 * it with a button (and room for a comment); only sending the form
		 * records it, so a mail scanner that opens every link of an email
		 * answers nothing. */
		if (!(rd = reader(sv)))
			return json_error(c, q, MHD_HTTP_SERVICE_UNAVAILABLE, "the store cannot "
					  "be opened");
		unsigned char key[32];
		patron_err kerr;
		int64_t id;
		int score;
		if (patron_survey_key(rd, 0, key, &kerr) != 0 ||
		    !patron_survey_check(key, q->token, &id, &score) || score < 0) {
			patron_buf page = {0};
			patron_page_message(&page, sv->o->title, "This link is not valid",
					    "It may have been copied only in part.");
			return html_reply(c, q, MHD_HTTP_NOT_FOUND, &page, NULL);
		}
		sodium_memzero(key, sizeof key);
		if (q->r == R_SURVEY_PAGE) {
			patron_buf page = {0};
			patron_page_survey(&page, sv->o->title, q->token, score, 0);
			return html_reply(c, q, MHD_HTTP_OK, &page, NULL);
		}
		job *j = new_job(q, R_SURVEY);
		j->n = id;
		j->score = score;
		char comment[2000];
		if (form_field(&q->body, "comment", 0, comment, sizeof comment) && comment[0])
			j->url = patron_xstrdup(comment);
		return submit(sv, c, j);
	}
	case R_HEALTH:
		return respond(c, q, MHD_HTTP_OK, "text/plain", "ok\n", 3, NULL);
	case R_NOT_FOUND:
		return json_error(c, q, MHD_HTTP_NOT_FOUND, "no such path");
	case R_BAD_METHOD:
		return json_error(c, q, MHD_HTTP_METHOD_NOT_ALLOWED, "not with this method");
	default:
		break;
	}

	/* The owner's pages. */
	if (!(rd = reader(sv)))
		return json_error(c, q, MHD_HTTP_SERVICE_UNAVAILABLE, "the store cannot be opened");
	char sess[96], csrf[32];
	int in = session(sv, c, rd, sess, sizeof sess);
	if (in)
		csrf_of(sv, sess, csrf);
	const char *secure = sv->o->public_url && strncmp(sv->o->public_url, "https:", 6) == 0
			     ? "; Secure" : "";
	if (q->r == R_LOGIN_PAGE || q->r == R_LOGIN) {
		char pw[256], next[256] = "/", given[1024] = "";
		password_hash(rd, pw, sizeof pw);
		form_field(&q->body, "next", 0, next, sizeof next);
		/* Only a path of this server: never an open redirect. */
		if (next[0] != '/' || next[1] == '/' || next[1] == '\\' || strpbrk(next, "\r\n"))
			snprintf(next, sizeof next, "/");
		if (q->r == R_LOGIN && pw[0] && form_field(&q->body, "password", 0, given,
							   sizeof given) &&
		    crypto_pwhash_str_verify(pw, given, strlen(given)) == 0) {
			sodium_memzero(given, sizeof given);
			char expiry[24], mac[32], cookie[256];
			snprintf(expiry, sizeof expiry, "%lld",
				 (long long)time(NULL) + SESSION_SECONDS);
			session_mac(sv, expiry, pw, mac);
			snprintf(cookie, sizeof cookie, "patron_session=%s.%s; Path=/; HttpOnly; "
				 "SameSite=Strict; Max-Age=%d%s", expiry, mac, SESSION_SECONDS, secure);
			return redirect(c, q, MHD_HTTP_SEE_OTHER, next, cookie);
		}
		sodium_memzero(given, sizeof given);
		patron_buf page = {0};
		patron_page_login(&page, sv->o->title, next,
				  !pw[0] ? "No password is set yet: run patron passwd on the "
					   "shop's computer first."
				  : q->r == R_LOGIN ? "That password is not right." : NULL);
		return html_reply(c, q, q->r == R_LOGIN ? MHD_HTTP_UNAUTHORIZED : MHD_HTTP_OK, &page,
				  NULL);
	}
	if (!in) {
		if (q->r == R_CUSTOMER || q->r == R_REPORT) {
			patron_buf page = {0};
			patron_page_login(&page, sv->o->title, q->path, NULL);
			return html_reply(c, q, MHD_HTTP_UNAUTHORIZED, &page, NULL);
		}
		return json_error(c, q, MHD_HTTP_UNAUTHORIZED, "log in first");
	}
	if (q->r == R_LOGOUT || q->r == R_REFRESH) {
		char given[64] = "";
		if (!form_field(&q->body, "csrf", 0, given, sizeof given) ||
		    strlen(given) != strlen(csrf) || sodium_memcmp(given, csrf, strlen(csrf)) != 0)
			return json_error(c, q, MHD_HTTP_FORBIDDEN, "csrf: the form is stale or "
					  "not this server's; reload the page");
		if (q->r == R_LOGOUT)
			return redirect(c, q, MHD_HTTP_SEE_OTHER, "/login",
					"patron_session=; Path=/; HttpOnly; SameSite=Strict; "
					"Max-Age=0");
	}
	if (q->r == R_REPORT || q->r == R_REFRESH) {
		patron_buf page = {0}, out = {0};
		pthread_mutex_lock(&sv->report_mu);
		int rc = sv->o->report ? sv->o->report(sv->o->report_ctx, q->r == R_REFRESH, &page,
						       &err)
				       : patron_err_set(&err, "no report here");
		pthread_mutex_unlock(&sv->report_mu);
		if (rc < 0) {
			patron_page_message(&out, sv->o->title, "The report cannot be made",
					    err.msg);
			patron_buf_free(&page);
			return html_reply(c, q, MHD_HTTP_INTERNAL_SERVER_ERROR, &out, NULL);
		}
		if (q->r == R_REFRESH) {
			patron_buf_free(&page);
			return redirect(c, q, MHD_HTTP_SEE_OTHER, "/", NULL);
		}
		patron_page_wrap_report(&out, &page, csrf);
		patron_buf_free(&page);
		return html_reply(c, q, MHD_HTTP_OK, &out, NULL);
	}
	if (q->r == R_CUSTOMER) {
		int64_t id = 0;
		patron_parse_int(q->path + strlen("/customers/"), &id);
		patron_buf page = {0};
		int found = patron_page_customer(&page, sv->o->title, rd, id, (int64_t)time(NULL),
						 csrf);
		return html_reply(c, q, found ? MHD_HTTP_OK : MHD_HTTP_NOT_FOUND, &page, NULL);
	}
	return json_error(c, q, MHD_HTTP_NOT_FOUND, "no such path");
}

/* ---- the access log, and the end of a request ---- */

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
		      enum MHD_RequestTerminationCode toe)
{
	server *sv = cls;
	req *q = *con_cls;
	if (!q)
		return;
	*con_cls = NULL;
	if (sv->o->access_log) {
		char ip[INET6_ADDRSTRLEN] = "-";
		const union MHD_ConnectionInfo *ci =
			MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
		if (ci && ci->client_addr && ci->client_addr->sa_family == AF_INET)
			inet_ntop(AF_INET, &((const struct sockaddr_in *)ci->client_addr)->sin_addr,
				  ip, sizeof ip);
		else if (ci && ci->client_addr && ci->client_addr->sa_family == AF_INET6)
			inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)ci->client_addr)->sin6_addr,
				  ip, sizeof ip);
		char when[32];
		time_t now = time(NULL);
		struct tm tm;
		gmtime_r(&now, &tm);
		strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
		pthread_mutex_lock(&sv->log_mu);
		fprintf(sv->o->access_log,
			"{\"at\":\"%s\",\"ip\":\"%s\",\"path\":\"%s\",\"status\":%u,\"bytes\":%zu,"
			"\"ms\":%.2f%s}\n", when, ip, q->path, q->status, q->bytes,
			(mono() - q->t0) * 1000,
			toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? ""
			: toe == MHD_REQUEST_TERMINATED_TIMEOUT_REACHED ? ",\"end\":\"timeout\""
			: ",\"end\":\"aborted\"");
		fflush(sv->o->access_log);
		pthread_mutex_unlock(&sv->log_mu);
	}
	if (q->job) {
		json_decref(q->job->body);
		free(q->job->url);
		free(q->job);
	}
	patron_buf_free(&q->body);
	free(q);
	atomic_fetch_add(&sv->served, 1);
	atomic_fetch_sub(&sv->inflight, 1);
}

/* ---- start and stop ---- */

void patron_serve_block_signals(void)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
}

int patron_password_hash(const char *password, char *out, size_t cap, patron_err *err)
{
	if (sodium_init() < 0)
		return patron_err_set(err, "libsodium cannot start");
	if (cap < crypto_pwhash_STRBYTES)
		return patron_err_set(err, "no room for the password's hash");
	if (crypto_pwhash_str_alg(out, password, strlen(password),
				  crypto_pwhash_OPSLIMIT_INTERACTIVE,
				  crypto_pwhash_MEMLIMIT_INTERACTIVE, crypto_pwhash_ALG_ARGON2ID13) != 0)
		return patron_err_set(err, "not enough memory to hash the password");
	return 0;
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	(void)cls;
	fputs("patron serve: ", stderr);
	vfprintf(stderr, fmt, ap);
}

int patron_serve(const patron_server_opts *o, patron_err *err)
{
	if (sodium_init() < 0)
		return patron_err_set(err, "libsodium cannot start");
	server *sv = patron_xcalloc(1, sizeof *sv);
	sv->o = o;
	pthread_mutex_init(&sv->mu, NULL);
	pthread_cond_init(&sv->cv, NULL);
	pthread_mutex_init(&sv->log_mu, NULL);
	pthread_mutex_init(&sv->report_mu, NULL);
	pthread_key_create(&sv->reader_key, reader_close);
	int rc = -1;
	if (patron_store_open(o->db_path, &sv->w, err) < 0)
		goto out;
	patron_store_busy(sv->w, 10000);
	/* A 2xx means on disk: every commit of the writer is synced. */
	if (patron_store_exec(sv->w, "PRAGMA synchronous = FULL", err) < 0 ||
	    patron_store_secret(sv->w, "tracking_key", sv->track_key, err) < 0 ||
	    patron_store_secret(sv->w, "session_key", sv->session_key, err) < 0) {
		patron_store_close(sv->w);
		goto out;
	}
	unsigned char unused[32];
	if (patron_store_secret(sv->w, "unsubscribe_key", unused, err) < 0) {
		patron_store_close(sv->w);
		goto out;
	}
	struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)o->port)};
	if (inet_pton(AF_INET, o->host, &addr.sin_addr) != 1) {
		patron_err_set(err, "--listen: expected an IPv4 address and port, like "
			       "127.0.0.1:8080, got host \"%s\"", o->host);
		patron_store_close(sv->w);
		goto out;
	}
	pthread_create(&sv->writer, NULL, writer_main, sv);
	unsigned threads = o->threads ? o->threads : (unsigned)sysconf(_SC_NPROCESSORS_ONLN);
	if (threads < 1)
		threads = 1;
	sv->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO |
				 MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ITC | MHD_USE_ERROR_LOG,
				 0, NULL, NULL, handler, sv,
				 MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
				 MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
				 MHD_OPTION_THREAD_POOL_SIZE, threads,
				 MHD_OPTION_CONNECTION_TIMEOUT, o->timeout,
				 MHD_OPTION_CONNECTION_LIMIT, o->max_connections,
				 MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)32 * 1024,
				 MHD_OPTION_NOTIFY_COMPLETED, completed, sv,
				 MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024,
				 MHD_OPTION_END);
	if (!sv->d) {
		patron_err_set(err, "cannot listen on %s:%u: %s", o->host, o->port,
			       errno ? strerror(errno) : "the server did not start");
		goto stop_writer;
	}
	const union MHD_DaemonInfo *di = MHD_get_daemon_info(sv->d, MHD_DAEMON_INFO_BIND_PORT);
	if (o->ready)
		o->ready(o->ready_ctx, di ? di->port : o->port);

	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	int sig;
	sigwait(&set, &sig);
	/* Stop: no new connections; the requests under way finish (their
	 * writes committed) for up to 30 seconds. */
	MHD_quiesce_daemon(sv->d);
	for (int i = 0; i < 3000 && atomic_load(&sv->inflight) > 0; i++)
		usleep(10000);
	MHD_stop_daemon(sv->d);
	rc = 0;
	fprintf(stderr, "patron serve: stopped on %s after %ld requests\n",
		sig == SIGTERM ? "SIGTERM" : "SIGINT", (long)atomic_load(&sv->served));
stop_writer:
	pthread_mutex_lock(&sv->mu);
	sv->stopping = 1;
	pthread_cond_signal(&sv->cv);
	pthread_mutex_unlock(&sv->mu);
	pthread_join(sv->writer, NULL);
	patron_store_close(sv->w);
out:
	pthread_key_delete(sv->reader_key);
	free(sv);
	return rc;
}
