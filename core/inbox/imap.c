/* Messages from an IMAP mailbox, through libcurl: the UIDs after the last
 * one read (UID SEARCH), then each message by its UID (UID FETCH BODY[]),
 * all on one connection. */
#include <ctype.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inbox.h"

static size_t collect(char *p, size_t size, size_t n, void *ud)
{
	patron_buf_add(ud, p, size * n);
	return size * n;
}

/* 1 when URL's host is this machine: plain imap:// is only for it. */
static int local_host(const char *url)
{
	const char *h = strstr(url, "://");
	h = h ? h + 3 : url;
	const char *at = strchr(h, '@'), *slash = strchr(h, '/');
	if (at && (!slash || at < slash))
		h = at + 1;
	static const char *const local[] = {"127.0.0.1", "localhost", "[::1]"};
	for (size_t i = 0; i < sizeof local / sizeof *local; i++) {
		size_t n = strlen(local[i]);
		/* the whole host: "localhost.example.com" is not this machine */
		if (strncmp(h, local[i], n) == 0 && (!h[n] || h[n] == ':' || h[n] == '/'))
			return 1;
	}
	return 0;
}

/* The mailbox URL names, percent-decoded ("INBOX" when it names none). */
static void mailbox_of(const char *url, char *out, size_t cap)
{
	const char *h = strstr(url, "://");
	const char *p = h ? strchr(h + 3, '/') : NULL;
	size_t k = 0;
	for (p = p ? p + 1 : ""; *p && *p != ';' && *p != '?' && k + 1 < cap; p++) {
		if (*p == '%' && isxdigit((unsigned char)p[1]) && isxdigit((unsigned char)p[2])) {
			char hex[3] = {p[1], p[2], 0};
			out[k++] = (char)strtol(hex, NULL, 16);
			p += 2;
		} else {
			out[k++] = *p;
		}
	}
	while (k && out[k - 1] == '/')
		k--;
	out[k] = 0;
	if (!k)
		snprintf(out, cap, "INBOX");
}

static int by_value(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* The UIDs of a "* SEARCH 3 4 7" answer above ABOVE, ascending ("N:*" names
 * the last message even when it is older). */
static uint64_t *search_result(const char *answer, uint64_t above, size_t *n)
{
	uint64_t *uids = NULL;
	*n = 0;
	const char *p = strstr(answer, "* SEARCH");
	for (p = p ? p + 8 : NULL; p;) {
		while (*p == ' ')
			p++;
		if (!isdigit((unsigned char)*p))
			break;
		char *end;
		uint64_t uid = strtoull(p, &end, 10);
		p = end;
		if (uid > above) {
			uids = patron_xrealloc(uids, (*n + 1) * sizeof *uids);
			uids[(*n)++] = uid;
		}
	}
	if (*n)
		qsort(uids, *n, sizeof *uids, by_value);
	return uids;
}

static int perform(CURL *c, const char *url, const char *custom, patron_buf *b, const char *errbuf,
		   patron_err *err)
{
	patron_buf_clear(b);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, custom);
	CURLcode rc = curl_easy_perform(c);
	if (rc != CURLE_OK)
		return patron_err_set(err, "%s: %s", url, errbuf[0] ? errbuf : curl_easy_strerror(rc));
	patron_buf_add(b, "", 0);
	return 0;
}

int patron_imap_read(const char *url, const char *user, const char *password, uint64_t *validity,
		     uint64_t *last_uid, patron_mail_fn fn, void *ud, patron_err *err)
{
	if (strncmp(url, "imap://", 7) != 0 && strncmp(url, "imaps://", 8) != 0)
		return patron_err_set(err, "%s: expected an imaps:// (or imap://) address such as "
				      "imaps://mail.shop.example/INBOX", url);
	const char *h = url + (url[4] == 's' ? 8 : 7), *slash = strchr(h, '/');
	const char *at = strchr(h, '@');
	if (at && (!slash || at < slash) && memchr(h, ':', (size_t)(at - h)))
		return patron_err_set(err, "a password does not belong in the mailbox's address (it "
				      "would show in the process list and the shell's history): "
				      "give it in PATRON_IMAP_PASSWORD or inbox.password_file");
	curl_global_init(CURL_GLOBAL_DEFAULT);
	CURL *c = curl_easy_init();
	if (!c)
		return patron_err_set(err, "%s: cannot start libcurl", url);
	char errbuf[CURL_ERROR_SIZE] = "", box[512];
	patron_buf b = {0}, base = {0}, one = {0}, cmd = {0};
	/* the mailbox's own address, without a trailing '/' */
	patron_buf_adds(&base, url);
	while (base.len && base.data[base.len - 1] == '/')
		base.data[--base.len] = 0;
	if (!slash || !slash[1])
		patron_buf_adds(&base, "/INBOX");
	mailbox_of(base.data, box, sizeof box);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "imap,imaps");
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 30L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);	/* a server gone quiet */
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 60L);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	if (user)
		curl_easy_setopt(c, CURLOPT_USERNAME, user);
	if (password)
		curl_easy_setopt(c, CURLOPT_PASSWORD, password);
	/* The password never crosses the network in the clear: TLS from the
	 * start (imaps) or by STARTTLS, unless the server is this machine. */
	if (!local_host(url))
		curl_easy_setopt(c, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);

	/* A mailbox made again numbers from 1 again (a new UIDVALIDITY): then
	 * everything is read, and the store keeps each message once. */
	patron_buf_adds(&cmd, "STATUS \"");
	for (const char *q = box; *q; q++)
		patron_buf_printf(&cmd, "%s%c", *q == '"' || *q == '\\' ? "\\" : "", *q);
	patron_buf_adds(&cmd, "\" (UIDVALIDITY)");
	int rc = perform(c, base.data, cmd.data, &b, errbuf, err);
	if (rc == 0) {
		const char *v = strstr(b.data, "UIDVALIDITY ");
		uint64_t now_validity = v ? strtoull(v + 12, NULL, 10) : 0;
		if (now_validity != *validity)
			*last_uid = 0;
		*validity = now_validity;
		patron_buf_clear(&cmd);
		patron_buf_printf(&cmd, "UID SEARCH UID %llu:*", (unsigned long long)*last_uid + 1);
		rc = perform(c, base.data, cmd.data, &b, errbuf, err);
	}
	uint64_t *uids = NULL, *unseen = NULL;
	size_t n = 0, nu = 0;
	if (rc == 0)
		uids = search_result(b.data, *last_uid, &n);
	/* the messages the owner has not read yet: fetching marks them read,
	 * so they are marked unread again after */
	if (rc == 0 && n) {
		patron_buf_clear(&cmd);
		patron_buf_printf(&cmd, "UID SEARCH UNSEEN UID %llu:*", (unsigned long long)*last_uid + 1);
		rc = perform(c, base.data, cmd.data, &b, errbuf, err);
		if (rc == 0)
			unseen = search_result(b.data, *last_uid, &nu);
	}
	for (size_t i = 0; i < n && rc == 0; i++) {
		patron_buf_clear(&one);
		patron_buf_printf(&one, "%s/;UID=%llu", base.data, (unsigned long long)uids[i]);
		rc = perform(c, one.data, NULL, &b, errbuf, err);
		if (rc == 0 && b.len)
			rc = fn(b.data, b.len, ud, err);
		if (rc == 0)
			*last_uid = uids[i];
		if (rc == 0 && nu && bsearch(&uids[i], unseen, nu, sizeof *unseen, by_value)) {
			patron_buf_clear(&cmd);
			patron_buf_printf(&cmd, "UID STORE %llu -FLAGS.SILENT (\\Seen)",
					  (unsigned long long)uids[i]);
			patron_err ignored;	/* a mailbox that refuses: the message stays read */
			patron_buf store = {0};
			perform(c, base.data, cmd.data, &store, errbuf, &ignored);
			patron_buf_free(&store);
		}
	}
	free(unseen);
	free(uids);
	curl_easy_cleanup(c);
	patron_buf_free(&b);
	patron_buf_free(&base);
	patron_buf_free(&one);
	patron_buf_free(&cmd);
	return rc;
}
