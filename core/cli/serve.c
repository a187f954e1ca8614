/* patron serve, patron keys and patron passwd: the HTTP server, the keys a
 * site sends its events with, and the owner's password for the pages. */
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "../config.h"
#include "../serve/ingest.h"
#include "../serve/server.h"
#include "../value.h"
#include "cli.h"

/* A webhook secret of serve's table (patron_config_secret), or NULL when
 * none is given or it is empty; -1 with the line printed. */
static int secret(const patron_config *cfg, const char *name, const char *env, char **out)
{
	patron_err err;
	if (patron_config_secret(cfg, "serve", name, env, out, &err) < 0) {
		cli_fail(EXIT_FAIL, "%s: serve: %s", patron_config_path(cfg), err.msg);
		return -1;
	}
	if (*out && !**out) {
		free(*out);
		*out = NULL;
	}
	return 0;
}

typedef struct {
	cli copy;	/* the report's own connection to the store */
	char path[4200];
} report_ctx;

static int read_file(const char *path, patron_buf *out)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return -1;
	char chunk[65536];
	size_t n;
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		patron_buf_add(out, chunk, n);
	fclose(f);
	return 0;
}

static int make_report(void *ctx, int fresh, patron_buf *page, patron_err *err)
{
	report_ctx *r = ctx;
	if (!fresh && read_file(r->path, page) == 0)
		return 0;
	r->copy.now = (int64_t)time(NULL);
	const char *written;
	/* cli_report prints its own failure; the page says that it failed. */
	if (cli_report(&r->copy, r->path, 7, &written) != EXIT_OK)
		return patron_err_set(err, "patron report failed: the server's log says why");
	patron_buf_clear(page);
	if (read_file(r->path, page) < 0)
		return patron_err_set(err, "%s: cannot read", r->path);
	return 0;
}

static void ready(void *ctx, unsigned port)
{
	const char *host = ctx;
	printf("patron serve: listening on http://%s:%u\n", host, port);
	fflush(stdout);
}

static int run(cli *c, int argc, char **argv)
{
	const char *listen = NULL, *log_path = NULL;
	double threads = 0, timeout = 0, max_body = 0;
	for (int i = 1; i < argc; i++) {
		const char *v;
		int m;
		if ((m = cli_opt_value(argc, argv, &i, "--listen", &v)) != 0) {
			if (m < 0)
				return cli_usage(&cmd_serve, "--listen needs HOST:PORT");
			listen = v;
		} else if ((m = cli_opt_value(argc, argv, &i, "--access-log", &v)) != 0) {
			if (m < 0)
				return cli_usage(&cmd_serve, "--access-log needs a file, or -");
			log_path = v;
		} else if ((m = cli_opt_value(argc, argv, &i, "--threads", &v)) != 0) {
			if (m < 0 || patron_parse_real(v, &threads) < 0 || threads < 1 ||
			    threads > 256 || threads != (int)threads)
				return cli_usage(&cmd_serve, "--threads: expected a whole number from "
						 "1 to 256");
		} else if ((m = cli_opt_value(argc, argv, &i, "--timeout", &v)) != 0) {
			int64_t secs;
			if (m < 0 || patron_parse_duration(v, &secs) < 0 || secs > 3600)
				return cli_usage(&cmd_serve, "--timeout: expected a duration like "
						 "\"10s\", at most 1h");
			timeout = (double)secs;
		} else if ((m = cli_opt_value(argc, argv, &i, "--max-body", &v)) != 0) {
			if (m < 0 || patron_parse_real(v, &max_body) < 0 || max_body < 1024 ||
			    max_body > 1 << 30)
				return cli_usage(&cmd_serve, "--max-body: expected bytes, from 1024 "
						 "to 1073741824");
		} else {
			return cli_usage(&cmd_serve, "unexpected argument \"%s\"", argv[i]);
		}
	}
	patron_store *s = cli_store(c);
	if (!s)
		return EXIT_FAIL;
	patron_config *cfg = cli_config(c);
	if (!cfg)
		return EXIT_FAIL;
	int rc = EXIT_FAIL;
	char *shopify = NULL, *stripe = NULL;
	char host[64] = "127.0.0.1";
	unsigned port = 8080;
	if (!listen)
		listen = patron_config_string(cfg, "serve", "listen");
	if (listen) {
		const char *colon = strrchr(listen, ':');
		int64_t p;
		if (!colon || colon == listen || (size_t)(colon - listen) >= sizeof host ||
		    patron_parse_int(colon + 1, &p) < 0 || p < 0 || p > 65535) {
			cli_usage(&cmd_serve, "--listen: expected HOST:PORT like 127.0.0.1:8080, "
				  "got \"%s\"", listen);
			rc = EXIT_USAGE;
			goto out;
		}
		snprintf(host, sizeof host, "%.*s", (int)(colon - listen), listen);
		port = (unsigned)p;
	}
	if (secret(cfg, "shopify_secret", "PATRON_SHOPIFY_SECRET", &shopify) < 0 ||
	    secret(cfg, "stripe_secret", "PATRON_STRIPE_SECRET", &stripe) < 0)
		goto out;
	int64_t tolerance = 300;
	const char *tol = patron_config_string(cfg, "serve", "stripe_tolerance");
	if (tol && patron_parse_duration(tol, &tolerance) < 0) {
		cli_fail(EXIT_FAIL, "%s: serve.stripe_tolerance: expected a duration like \"5m\", "
			 "got \"%s\"", patron_config_path(cfg), tol);
		goto out;
	}
	char base[8];
	if (cli_base_currency(c, s, base) < 0)
		goto out;
	FILE *log = stderr;
	if (log_path && strcmp(log_path, "-") != 0 && !(log = fopen(log_path, "a"))) {
		cli_fail(EXIT_FAIL, "%s: cannot write: %m", log_path);
		goto out;
	}
	report_ctx rep = {.copy = *c};
	rep.copy.store = NULL;
	rep.copy.json = 0;
	char *dir = patron_xstrdup(c->db_path);
	snprintf(rep.path, sizeof rep.path, "%s/report.html", dirname(dir));
	free(dir);
	const char *shop = patron_config_top_string(cfg, "shop");
	patron_server_opts o = {
		.db_path = c->db_path, .host = host, .port = port, .threads = (unsigned)threads,
		.max_body = max_body > 0 ? (size_t)max_body : (size_t)1 << 20,
		.timeout = timeout > 0 ? (unsigned)timeout : 10, .max_connections = 1000,
		.access_log = log, .shopify_secret = shopify, .stripe_secret = stripe,
		.stripe_tolerance = tolerance, .currency = base[0] ? base : NULL,
		.public_url = patron_config_top_string(cfg, "public_url"),
		.title = shop ? shop : "Patron", .report = make_report, .report_ctx = &rep,
		.ready = ready, .ready_ctx = host,
	};
	if (!shopify)
		fprintf(stderr, "patron serve: no Shopify secret (PATRON_SHOPIFY_SECRET or "
			"serve.shopify_secret_env): /hooks/shopify refuses every delivery\n");
	if (!stripe)
		fprintf(stderr, "patron serve: no Stripe secret (PATRON_STRIPE_SECRET or "
			"serve.stripe_secret_env): /hooks/stripe refuses every delivery\n");
	patron_serve_block_signals();
	patron_err err;
	if (patron_serve(&o, &err) < 0)
		cli_fail(EXIT_FAIL, "serve: %s", err.msg);
	else
		rc = EXIT_OK;
	if (rep.copy.store)
		patron_store_close(rep.copy.store);
	if (log != stderr)
		fclose(log);
out:
	free(shopify);
	free(stripe);
	patron_config_free(cfg);
	return rc;
}

const cli_command cmd_serve = {
	"serve", run, "take webhooks, events, clicks and unsubscribes over HTTP",
	"usage: patron serve [--listen HOST:PORT] [--threads N] [--timeout 10s]\n"
	"                    [--max-body BYTES] [--access-log FILE|-]\n"
	"\n"
	"Serves, on 127.0.0.1:8080 unless told (serve.listen in patron.conf):\n"
	"  POST /hooks/shopify   Shopify webhooks: orders/create, orders/updated,\n"
	"                        orders/paid, orders/cancelled, refunds/create,\n"
	"                        customers/create, customers/update; signed\n"
	"                        (X-Shopify-Hmac-Sha256), each delivery kept once\n"
	"  POST /hooks/stripe    Stripe events: charge.*, customer.created|updated;\n"
	"                        signed (Stripe-Signature), older than\n"
	"                        serve.stripe_tolerance (5m) refused, each event once\n"
	"  POST /v1/track        a site's events: {\"event\", \"userId\"|\"email\",\n"
	"                        \"properties\", \"timestamp\"} or {\"batch\": [...]}\n"
	"  POST /v1/identify     who a site's visitor is: {\"userId\", \"email\", \"traits\"}\n"
	"                        (both with Authorization: Bearer KEY, see patron keys)\n"
	"  GET  /t/o/TOKEN       an email's open pixel: message.opened, once\n"
	"  GET  /t/c/TOKEN       an email's link: message.clicked, then on to it\n"
	"  GET|POST /u/TOKEN     unsubscribe (RFC 8058 one-click POST too)\n"
	"  GET  /                the owner's report, after /login (see patron passwd)\n"
	"  GET  /customers/ID    a customer's page\n"
	"\n"
	"Webhooks land through the same import as the shops' export files. A 2xx\n"
	"is sent only once what a request brought is committed to disk; requests\n"
	"arriving together share one commit. SIGTERM or Ctrl-C stops taking\n"
	"connections and lets the requests under way finish.\n"
	"\n"
	"  --threads N      worker threads (default: the machine's cores)\n"
	"  --timeout D      close a connection idle or dribbling this long (10s)\n"
	"  --max-body B     larger request bodies get 413 (default 1048576)\n"
	"  --access-log F   one JSON line per request (default: stderr)\n"
	"\n"
	"Secrets never sit in patron.conf: PATRON_SHOPIFY_SECRET and\n"
	"PATRON_STRIPE_SECRET, or serve = { shopify_secret_env = \"VAR\",\n"
	"stripe_secret_file = \"/path\" }. With public_url = \"https://shop.example/p\"\n"
	"in patron.conf, emails carry tracked links, an open pixel and a one-click\n"
	"unsubscribe link to this server.\n",
};

/* ---- patron keys ---- */

static int keys(cli *c, int argc, char **argv)
{
	if (argc < 2)
		return cli_usage(&cmd_keys, "expected add NAME, list or revoke NAME");
	const char *what = argv[1];
	if ((strcmp(what, "add") == 0 || strcmp(what, "revoke") == 0) && argc != 3)
		return cli_usage(&cmd_keys, "%s needs a NAME", what);
	if (strcmp(what, "list") == 0 && argc != 2)
		return cli_usage(&cmd_keys, "list takes nothing more");
	if (strcmp(what, "add") && strcmp(what, "revoke") && strcmp(what, "list"))
		return cli_usage(&cmd_keys, "expected add, list or revoke, got \"%s\"", what);
	patron_store *s = cli_store(c);
	if (!s)
		return EXIT_FAIL;
	patron_err err;
	if (strcmp(what, "add") == 0) {
		char key[96];
		if (patron_api_key_new(s, argv[2], c->now, key, sizeof key, &err) < 0)
			return cli_fail(EXIT_FAIL, "keys: %s", err.msg);
		printf("%s\n", key);
		fprintf(stderr, "patron keys: \"%s\" made; it is shown only now: send it as "
			"Authorization: Bearer KEY\n", argv[2]);
		return EXIT_OK;
	}
	if (strcmp(what, "revoke") == 0) {
		if (patron_api_key_revoke(s, argv[2], c->now, &err) < 0)
			return cli_fail(EXIT_FAIL, "keys: %s", err.msg);
		printf("revoked \"%s\"\n", argv[2]);
		return EXIT_OK;
	}
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(patron_store_db(s), "SELECT name, created_at, revoked_at FROM"
			       " api_keys ORDER BY name", -1, &st, NULL) != SQLITE_OK)
		return cli_fail(EXIT_FAIL, "keys: %s", sqlite3_errmsg(patron_store_db(s)));
	json_t *all = json_array();
	while (sqlite3_step(st) == SQLITE_ROW) {
		char d1[32], d2[32];
		const char *name = (const char *)sqlite3_column_text(st, 0);
		const char *made = patron_format_date(sqlite3_column_int64(st, 1), d1);
		const char *gone = sqlite3_column_type(st, 2) == SQLITE_NULL ? NULL
				   : patron_format_date(sqlite3_column_int64(st, 2), d2);
		if (c->json)
			json_array_append_new(all, json_pack("{s:s, s:s, s:s?}", "name", name,
							     "created", made, "revoked", gone));
		else
			printf("%-24s made %s%s%s\n", name, made, gone ? ", revoked " : "",
			       gone ? gone : "");
	}
	sqlite3_finalize(st);
	if (c->json)
		cli_print_json(all);
	else
		json_decref(all);
	return EXIT_OK;
}

const cli_command cmd_keys = {
	"keys", keys, "make, list and revoke the keys a site sends events with",
	"usage: patron keys add NAME | list | revoke NAME\n"
	"\n"
	"add prints a new key once (only its hash is kept): the site sends it as\n"
	"Authorization: Bearer KEY to patron serve's /v1/track and /v1/identify.\n"
	"revoke stops a key at once.\n",
};

/* ---- patron passwd ---- */

static int read_line(char *buf, size_t cap, int hide)
{
	struct termios old, quiet;
	int tty = hide && isatty(0) && tcgetattr(0, &old) == 0;
	if (tty) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(0, TCSANOW, &quiet);
	}
	char *got = fgets(buf, (int)cap, stdin);
	if (tty) {
		tcsetattr(0, TCSANOW, &old);
		fputc('\n', stderr);
	}
	if (!got)
		return -1;
	buf[strcspn(buf, "\r\n")] = '\0';
	return 0;
}

static int passwd(cli *c, int argc, char **argv)
{
	if (argc > 1)
		return cli_usage(&cmd_passwd, "unexpected argument \"%s\"", argv[1]);
	char pw[1024], again[1024];
	int tty = isatty(0);
	if (tty)
		fputs("New password for the owner's pages: ", stderr);
	if (read_line(pw, sizeof pw, 1) < 0)
		return cli_fail(EXIT_FAIL, "passwd: no password given on standard input");
	if (tty) {
		fputs("Again: ", stderr);
		if (read_line(again, sizeof again, 1) < 0 || strcmp(pw, again) != 0)
			return cli_fail(EXIT_FAIL, "passwd: the two passwords differ; nothing "
					"changed");
	}
	if (strlen(pw) < 10)
		return cli_fail(EXIT_FAIL, "passwd: expected at least 10 characters; nothing "
				"changed");
	patron_store *s = cli_store(c);
	if (!s)
		return EXIT_FAIL;
	char hash[256];
	patron_err err;
	if (patron_password_hash(pw, hash, sizeof hash, &err) < 0)
		return cli_fail(EXIT_FAIL, "passwd: %s", err.msg);
	memset(pw, 0, sizeof pw);
	memset(again, 0, sizeof again);
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(patron_store_db(s), "INSERT OR REPLACE INTO settings(name, value)"
			       " VALUES ('owner_password', ?1)", -1, &st, NULL) != SQLITE_OK)
		return cli_fail(EXIT_FAIL, "passwd: %s", sqlite3_errmsg(patron_store_db(s)));
	sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return cli_fail(EXIT_FAIL, "passwd: %s", sqlite3_errmsg(patron_store_db(s)));
	fprintf(stderr, "patron passwd: set (Argon2id); every session logged in before has "
		"ended\n");
	return EXIT_OK;
}

const cli_command cmd_passwd = {
	"passwd", passwd, "set the password of the owner's pages (patron serve)",
	"usage: patron passwd < FILE\n"
	"\n"
	"Reads the new password (at least 10 characters) from standard input, asking\n"
	"twice without echo at a terminal, and keeps only its Argon2id hash. Every\n"
	"session logged in with the old one ends.\n",
};
