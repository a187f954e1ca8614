/* Tracking tokens and links. See tokens.h. */
#define _GNU_SOURCE	/* strcasestr */
#include "tokens.h"

#include <ctype.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../serve/hooks.h"

#define MAC_CHARS 22	/* 16 bytes, base64url without padding */

void patron_mac16(const unsigned char key[32], const char *text, size_t len, char out[32])
{
	unsigned char full[32];
	patron_hmac_sha256(key, 32, text, len, full);
	sodium_bin2base64(out, 32, full, 16, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

void patron_track_token(const unsigned char key[32], int64_t id, const char *url,
			patron_buf *out)
{
	patron_buf t = {0};
	patron_buf_printf(&t, "%lld", (long long)id);
	if (url) {
		size_t n = strlen(url);
		size_t cap = sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
		char *enc = patron_xmalloc(cap);
		sodium_bin2base64(enc, cap, (const unsigned char *)url, n,
				  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
		patron_buf_printf(&t, ".%s", enc);
		free(enc);
	}
	char mac[32];
	/* The kind is signed too: an open token is never a click's. */
	patron_buf signed_text = {0};
	patron_buf_printf(&signed_text, "%c.%.*s", url ? 'c' : 'o', (int)t.len, t.data);
	patron_mac16(key, signed_text.data, signed_text.len, mac);
	patron_buf_add(out, t.data, t.len);
	patron_buf_printf(out, ".%s", mac);
	patron_buf_free(&t);
	patron_buf_free(&signed_text);
}

int patron_track_check(const unsigned char key[32], const char *token, int click, int64_t *id,
		       char *url, size_t cap)
{
	size_t n = strlen(token);
	if (n < MAC_CHARS + 2 || n > 4 * PATRON_TRACK_URL_MAX)
		return 0;
	const char *mac = token + n - MAC_CHARS;
	if (mac[-1] != '.')
		return 0;
	size_t body = (size_t)(mac - 1 - token);
	const char *dot = memchr(token, '.', body);
	if ((dot != NULL) != (click != 0))
		return 0;
	/* the id: digits only, no sign, no leading zero */
	size_t idlen = dot ? (size_t)(dot - token) : body;
	if (idlen == 0 || idlen > 18 || token[0] == '0')
		return 0;
	int64_t v = 0;
	for (size_t i = 0; i < idlen; i++) {
		if (!isdigit((unsigned char)token[i]))
			return 0;
		v = v * 10 + (token[i] - '0');
	}
	patron_buf t = {0};
	patron_buf_printf(&t, "%c.%.*s", click ? 'c' : 'o', (int)body, token);
	char want[32];
	patron_mac16(key, t.data, t.len, want);
	patron_buf_free(&t);
	if (sodium_memcmp(want, mac, MAC_CHARS) != 0)
		return 0;
	if (click) {
		size_t got = 0;
		const char *enc = dot + 1;
		size_t elen = body - idlen - 1;
		if (!cap || sodium_base642bin((unsigned char *)url, cap - 1, enc, elen, NULL, &got,
					      NULL, sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0)
			return 0;
		url[got] = '\0';
		if (strlen(url) != got)
			return 0;	/* a NUL inside */
	}
	*id = v;
	return 1;
}

/* S[0..N) with the entities an href may hold (&amp; &quot; &#39; &lt; &gt;)
 * undone, into OUT. */
static void unescape(const char *s, size_t n, patron_buf *out)
{
	static const struct { const char *ent; char c; } ents[] = {
		{"&amp;", '&'}, {"&quot;", '"'}, {"&#39;", '\''}, {"&#x27;", '\''},
		{"&lt;", '<'}, {"&gt;", '>'}};
	for (size_t i = 0; i < n;) {
		size_t k = 0;
		for (; k < sizeof ents / sizeof *ents; k++) {
			size_t el = strlen(ents[k].ent);
			if (i + el <= n && strncasecmp(s + i, ents[k].ent, el) == 0) {
				patron_buf_add(out, &ents[k].c, 1);
				i += el;
				break;
			}
		}
		if (k == sizeof ents / sizeof *ents)
			patron_buf_add(out, s + i++, 1);
	}
	patron_buf_add(out, "", 1);
	out->len--;
}

void patron_track_html(const unsigned char key[32], const char *base, int64_t id,
		       const char *html, const char *skip, patron_buf *out)
{
	size_t blen = strlen(base);
	while (blen && base[blen - 1] == '/')
		blen--;
	const char *p = html;
	for (;;) {
		const char *h = strcasestr(p, "href=");
		if (!h)
			break;
		const char *v = h + 5;
		char q = *v;
		const char *end = (q == '"' || q == '\'') ? strchr(v + 1, q) : NULL;
		if (!end) {
			patron_buf_add(out, p, (size_t)(v - p));
			p = v;
			continue;
		}
		patron_buf url = {0};
		unescape(v + 1, (size_t)(end - v - 1), &url);
		int web = url.len && (strncasecmp(url.data, "http://", 7) == 0 ||
				      strncasecmp(url.data, "https://", 8) == 0);
		int ours = url.len >= blen && strncmp(url.data, base, blen) == 0;
		int keep = !web || ours || (skip && *skip && strcmp(url.data, skip) == 0) ||
			   url.len > PATRON_TRACK_URL_MAX;
		patron_buf_add(out, p, (size_t)(v + 1 - p));
		if (keep) {
			patron_buf_add(out, v + 1, (size_t)(end - v - 1));
		} else {
			patron_buf_printf(out, "%.*s/t/c/", (int)blen, base);
			patron_track_token(key, id, url.data, out);
		}
		patron_buf_free(&url);
		p = end;
	}
	const char *close = strcasestr(p, "</body>");
	size_t rest = close ? (size_t)(close - p) : strlen(p);
	patron_buf_add(out, p, rest);
	patron_buf_printf(out, "<img src=\"%.*s/t/o/", (int)blen, base);
	patron_track_token(key, id, NULL, out);
	patron_buf_adds(out, "\" width=\"1\" height=\"1\" alt=\"\" style=\"display:block\">");
	if (close)
		patron_buf_adds(out, close);
	patron_buf_add(out, "", 1);
	out->len--;
}
