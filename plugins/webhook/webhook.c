/* channel.webhook: each message as an HTTP POST of JSON, with libcurl.
 *
 * patron.conf:
 *   channels = { crm = { plugin = "webhook", url = "https://hooks.example/patron",
 *                        secret_env = "PATRON_WEBHOOK_SECRET", address = "none" },
 *                sms = { plugin = "webhook", url = "https://sms.example/send",
 *                        format = "sms", address = "phone" } }
 * url         http:// or https://
 * secret_env  the environment variable holding the key of the
 *             X-Patron-Signature header, "t=TIME,v1=HEX": TIME the Unix time
 *             of sending, HEX the HMAC-SHA256 of TIME, a dot and the body, so
 *             a receiver can refuse a request replayed later; or secret_file,
 *             a file readable by its owner only that holds it. Without
 *             either, no signature is sent. (A secret written in patron.conf
 *             itself is refused.)
 * format      "message" (default: the whole message as Patron renders it)
 *             or "sms" ({"id", "to", "text"}, what SMS gateways take)
 * timeout     seconds (default 10)
 *
 * Every request carries Idempotency-Key (the message's key, the same on a
 * retry). 2xx is delivered; 408, 429 and 5xx are tried again later; other
 * answers are permanent failures; a server that cannot be reached or does
 * not answer in time stops the channel for now. Redirects are not followed. */
#include <curl/curl.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <patron/plugin.h>

typedef struct {
	const patron_host *host;
	CURL *curl;
	char *secret;		/* NULL: requests are not signed */
	int sms;
	char errbuf[CURL_ERROR_SIZE];
} hook_state;

static size_t ignore_body(char *p, size_t size, size_t n, void *ud)
{
	(void)p, (void)ud;
	return size * n;
}

static int init(const patron_host *host, patron_ctx *ctx, void **state)
{
	const char *url = host->option_string(ctx, "url");
	const char *format = host->option_string(ctx, "format");
	double timeout = 10;
	if (!url || (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0)) {
		host->fail(ctx, "option url: expected http://... or https://...");
		return -1;
	}
	if (format && strcmp(format, "message") != 0 && strcmp(format, "sms") != 0) {
		host->fail(ctx, "option format: expected \"message\" or \"sms\"");
		return -1;
	}
	if (host->option_number(ctx, "timeout", &timeout) < 0 || timeout <= 0) {
		host->fail(ctx, "option timeout: expected seconds above 0");
		return -1;
	}
	char *secret;
	if (host->secret(ctx, "secret", NULL, &secret) < 0)
		return -1;
	hook_state *s = calloc(1, sizeof *s);
	if (!s || sodium_init() < 0 || curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK ||
	    !(s->curl = curl_easy_init())) {
		free(s), free(secret);
		host->fail(ctx, "libcurl or libsodium cannot start");
		return -1;
	}
	s->host = host;
	s->sms = format && strcmp(format, "sms") == 0;
	s->secret = secret;
	CURL *c = s->curl;
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_POST, 1L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, ignore_body);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, s->errbuf);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)(timeout * 1000));
	curl_easy_setopt(c, CURLOPT_USERAGENT, "patron");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	*state = s;
	return 0;
}

static int deliver(void *state, patron_ctx *ctx, const patron_message *m)
{
	hook_state *s = state;
	const patron_host *h = s->host;
	char *sms = NULL;
	const char *body = m->json;
	if (s->sms) {
		json_t *j = json_pack("{s:s, s:s, s:s}", "id", m->key, "to", m->to, "text", m->text);
		body = sms = json_dumps(j, JSON_COMPACT);
		json_decref(j);
	}
	size_t len = strlen(body);
	struct curl_slist *hd = curl_slist_append(NULL, "Content-Type: application/json");
	hd = curl_slist_append(hd, "Expect:");	/* no 100-continue round trip */
	char line[600];
	snprintf(line, sizeof line, "Idempotency-Key: %s", m->key);
	hd = curl_slist_append(hd, line);
	if (s->secret) {
		/* the streaming form takes a key of any length (RFC 2104) */
		unsigned char mac[crypto_auth_hmacsha256_BYTES];
		crypto_auth_hmacsha256_state hs;
		char stamp[32];
		snprintf(stamp, sizeof stamp, "%lld.", (long long)time(NULL));
		crypto_auth_hmacsha256_init(&hs, (const unsigned char *)s->secret,
					    strlen(s->secret));
		crypto_auth_hmacsha256_update(&hs, (const unsigned char *)stamp, strlen(stamp));
		crypto_auth_hmacsha256_update(&hs, (const unsigned char *)body, len);
		crypto_auth_hmacsha256_final(&hs, mac);
		char hex[2 * sizeof mac + 1];
		sodium_bin2hex(hex, sizeof hex, mac, sizeof mac);
		stamp[strlen(stamp) - 1] = '\0';
		snprintf(line, sizeof line, "X-Patron-Signature: t=%s,v1=%s", stamp, hex);
		hd = curl_slist_append(hd, line);
	}
	s->errbuf[0] = '\0';
	curl_easy_setopt(s->curl, CURLOPT_HTTPHEADER, hd);
	curl_easy_setopt(s->curl, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(s->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	CURLcode rc = curl_easy_perform(s->curl);
	long code = 0;
	curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_setopt(s->curl, CURLOPT_HTTPHEADER, NULL);
	curl_slist_free_all(hd);
	free(sms);
	if (rc != CURLE_OK) {
		h->fail(ctx, "%s", s->errbuf[0] ? s->errbuf : curl_easy_strerror(rc));
		return PATRON_DOWN;
	}
	if (code >= 200 && code < 300)
		return PATRON_DELIVERED;
	h->fail(ctx, "server answered HTTP %ld", code);
	if (code == 408 || code == 429 || code >= 500)
		return PATRON_RETRY;
	return PATRON_REJECTED;
}

static void done(void *state)
{
	hook_state *s = state;
	if (!s)
		return;
	curl_easy_cleanup(s->curl);
	if (s->secret) {
		sodium_memzero(s->secret, strlen(s->secret));
		free(s->secret);
	}
	free(s);
	curl_global_cleanup();
}

static const patron_plugin descriptor = {
	PATRON_PLUGIN_ABI,
	.name = "channel.webhook",
	.kind = PATRON_KIND_CHANNEL,
	.version = "1.0",
	.description = "each message as a signed HTTP POST of JSON (libcurl); SMS gateways too",
	.init = init,
	.free = done,
	.deliver = deliver,
};

const patron_plugin *patron_plugin_entry(void) { return &descriptor; }
