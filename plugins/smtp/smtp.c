/* channel.smtp: email through an SMTP server, with libcurl.
 *
 * patron.conf:
 *   channels = { email = { plugin = "smtp", url = "smtp://mail.example:587",
 *                          from = "Shop <hi@shop.example>", username = "hi@shop.example",
 *                          starttls = "required" } }
 * url       smtp://HOST[:PORT] or smtps://HOST[:PORT] (TLS from the start)
 * from      the sender, also the envelope's MAIL FROM
 * starttls  "try" (default: when the server offers it), "required" or "no"
 * username  AUTH login; the password comes from the environment variable
 *           password_env names, else from password_file, a file readable by
 *           its owner only, else from PATRON_SMTP_PASSWORD (host->secret). It
 *           is never logged. (A password written in patron.conf is refused.)
 * timeout   seconds for one message (default 30)
 *
 * One connection serves every message of a delivery run (libcurl keeps it
 * open between transfers). The server's answer decides what happens next:
 * 4xx is tried again later, 550/551/553 is a bounce, other 5xx a permanent
 * failure, and a server that cannot be reached stops the channel for now. */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <patron/plugin.h>

typedef struct {
	const patron_host *host;
	CURL *curl;
	char from[320];		/* the envelope address */
	const patron_message *m;	/* the one being read by curl */
	size_t off;
	char errbuf[CURL_ERROR_SIZE];
} smtp_state;

static size_t read_body(char *buf, size_t size, size_t n, void *ud)
{
	smtp_state *s = ud;
	size_t left = s->m->mime_len - s->off, want = size * n;
	size_t take = left < want ? left : want;
	memcpy(buf, s->m->mime + s->off, take);
	s->off += take;
	return take;
}

static void envelope_address(const char *from, char *out, size_t cap)
{
	const char *lt = strrchr(from, '<');
	const char *gt = lt ? strchr(lt, '>') : NULL;
	if (lt && gt)
		snprintf(out, cap, "<%.*s>", (int)(gt - lt - 1), lt + 1);
	else
		snprintf(out, cap, "<%s>", from);
}

static int init(const patron_host *host, patron_ctx *ctx, void **state)
{
	const char *url = host->option_string(ctx, "url");
	const char *from = host->option_string(ctx, "from");
	const char *tls = host->option_string(ctx, "starttls");
	const char *user = host->option_string(ctx, "username");
	double timeout = 30;
	if (!url || (strncmp(url, "smtp://", 7) != 0 && strncmp(url, "smtps://", 8) != 0)) {
		host->fail(ctx, "option url: expected smtp://HOST[:PORT] or smtps://HOST[:PORT]");
		return -1;
	}
	if (!from || !strchr(from, '@')) {
		host->fail(ctx, "option from: expected the sender's address, like "
			   "\"Shop <hi@shop.example>\"");
		return -1;
	}
	if (tls && strcmp(tls, "try") != 0 && strcmp(tls, "required") != 0 &&
	    strcmp(tls, "no") != 0) {
		host->fail(ctx, "option starttls: expected \"try\", \"required\" or \"no\"");
		return -1;
	}
	if (host->option_number(ctx, "timeout", &timeout) < 0 || timeout <= 0) {
		host->fail(ctx, "option timeout: expected seconds above 0");
		return -1;
	}
	char *pass;
	if (host->secret(ctx, "password", "PATRON_SMTP_PASSWORD", &pass) < 0)
		return -1;
	if (user && !pass) {
		host->fail(ctx, "option username is set, but there is no password (set the "
			   "environment variable PATRON_SMTP_PASSWORD, or password_env or "
			   "password_file)");
		return -1;
	}
	smtp_state *s = calloc(1, sizeof *s);
	if (!s || curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK ||
	    !(s->curl = curl_easy_init())) {
		free(s), free(pass);
		host->fail(ctx, "libcurl cannot start");
		return -1;
	}
	s->host = host;
	envelope_address(from, s->from, sizeof s->from);
	CURL *c = s->curl;
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_MAIL_FROM, s->from);
	curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(c, CURLOPT_READFUNCTION, read_body);
	curl_easy_setopt(c, CURLOPT_READDATA, s);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, s->errbuf);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)(timeout * 1000));
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)(timeout * 1000) < 10000
							     ? (long)(timeout * 1000) : 10000L);
	curl_easy_setopt(c, CURLOPT_USE_SSL, !tls || strcmp(tls, "try") == 0 ? (long)CURLUSESSL_TRY
					     : strcmp(tls, "required") == 0 ? (long)CURLUSESSL_ALL
									    : (long)CURLUSESSL_NONE);
	if (user) {
		curl_easy_setopt(c, CURLOPT_USERNAME, user);
		curl_easy_setopt(c, CURLOPT_PASSWORD, pass);	/* libcurl keeps a copy */
	}
	free(pass);
	*state = s;
	return 0;
}

static int deliver(void *state, patron_ctx *ctx, const patron_message *m)
{
	smtp_state *s = state;
	const patron_host *h = s->host;
	char rcpt[400];
	snprintf(rcpt, sizeof rcpt, "<%s>", m->to);
	struct curl_slist *to = curl_slist_append(NULL, rcpt);
	s->m = m;
	s->off = 0;
	s->errbuf[0] = '\0';
	curl_easy_setopt(s->curl, CURLOPT_MAIL_RCPT, to);
	curl_easy_setopt(s->curl, CURLOPT_INFILESIZE_LARGE, (curl_off_t)m->mime_len);
	CURLcode rc = curl_easy_perform(s->curl);
	long code = 0;
	curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_setopt(s->curl, CURLOPT_MAIL_RCPT, NULL);
	curl_slist_free_all(to);
	s->m = NULL;
	if (rc == CURLE_OK)
		return PATRON_DELIVERED;
	const char *why = s->errbuf[0] ? s->errbuf : curl_easy_strerror(rc);
	switch (rc) {
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_USE_SSL_FAILED:
	case CURLE_LOGIN_DENIED:
	case CURLE_GOT_NOTHING:
		h->fail(ctx, "%s", why);
		return PATRON_DOWN;
	default:
		break;
	}
	if (code >= 400 && code < 500) {
		h->fail(ctx, "server answered %ld: %s", code, why);
		return PATRON_RETRY;
	}
	if (code == 550 || code == 551 || code == 553) {
		h->fail(ctx, "recipient refused (%ld): %s", code, why);
		return PATRON_BOUNCED;
	}
	if (code >= 500) {
		h->fail(ctx, "server answered %ld: %s", code, why);
		return PATRON_REJECTED;
	}
	h->fail(ctx, "%s", why);	/* the connection broke: try again */
	return PATRON_DOWN;
}

static void done(void *state)
{
	smtp_state *s = state;
	if (!s)
		return;
	curl_easy_cleanup(s->curl);
	free(s);
	curl_global_cleanup();
}

static const patron_plugin descriptor = {
	PATRON_PLUGIN_ABI,
	.name = "channel.smtp",
	.kind = PATRON_KIND_CHANNEL,
	.version = "1.0",
	.description = "email through an SMTP server (libcurl), one connection per run",
	.init = init,
	.free = done,
	.deliver = deliver,
};

const patron_plugin *patron_plugin_entry(void) { return &descriptor; }
