/* Emails as RFC 5322 text. See mime.h. */
#include "mime.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* Whether S may stand in a header as it is: printable ASCII with nothing
 * that reads as an RFC 2047 encoded word ("=?"), which a mail client would
 * decode into other text than the customer's. */
static int plain_ascii(const char *s)
{
	if (strstr(s, "=?"))
		return 0;
	for (; *s; s++)
		if ((unsigned char)*s >= 0x7f || ((unsigned char)*s < 0x20 && *s != '\t'))
			return 0;
	return 1;
}

/* The length of the longest prefix of S, at most MAX bytes, that ends on a
 * UTF-8 character boundary. */
static size_t utf8_cut(const char *s, size_t n, size_t max)
{
	if (n <= max)
		return n;
	size_t cut = max;
	while (cut > 0 && ((unsigned char)s[cut] & 0xc0) == 0x80)
		cut--;
	return cut ? cut : max;
}

void patron_header_encode(patron_buf *b, const char *s)
{
	if (plain_ascii(s)) {
		patron_buf_adds(b, s);
		return;
	}
	/* 45 bytes become 60 characters of base64: with "=?UTF-8?B?" and "?="
	 * each word stays within the 75 RFC 2047 allows. */
	size_t n = strlen(s);
	int first = 1;
	while (n) {
		size_t take = utf8_cut(s, n, 45);
		char enc[128];
		sodium_bin2base64(enc, sizeof enc, (const unsigned char *)s, take,
				  sodium_base64_VARIANT_ORIGINAL);
		for (char *c = enc; *c; c++)	/* a header is one line */
			if (*c == '\r' || *c == '\n')
				*c = ' ';
		patron_buf_printf(b, "%s=?UTF-8?B?%s?=", first ? "" : "\r\n ", enc);
		first = 0;
		s += take;
		n -= take;
	}
}

/* A display name: quoted when plain, encoded when not. */
static void display_name(patron_buf *b, const char *name)
{
	if (!plain_ascii(name)) {
		patron_header_encode(b, name);
		return;
	}
	patron_buf_adds(b, "\"");
	for (const char *c = name; *c; c++) {
		if (*c == '"' || *c == '\\')
			patron_buf_adds(b, "\\");
		patron_buf_add(b, c, 1);
	}
	patron_buf_adds(b, "\"");
}

void patron_mail_address(const char *from, char *out, size_t cap)
{
	const char *lt = strrchr(from, '<');
	const char *gt = lt ? strchr(lt, '>') : NULL;
	if (lt && gt)
		snprintf(out, cap, "%.*s", (int)(gt - lt - 1), lt + 1);
	else
		snprintf(out, cap, "%s", from);
}

static void from_header(patron_buf *b, const char *from)
{
	const char *lt = strrchr(from, '<');
	if (!lt || plain_ascii(from)) {
		patron_buf_adds(b, from);
		return;
	}
	size_t nl = (size_t)(lt - from);
	while (nl && from[nl - 1] == ' ')
		nl--;
	char name[512];
	snprintf(name, sizeof name, "%.*s", (int)nl, from);
	if (name[0] == '"' && nl > 1 && name[nl - 1] == '"') {
		name[nl - 1] = '\0';
		memmove(name, name + 1, nl - 1);
	}
	display_name(b, name);
	patron_buf_printf(b, " %s", lt);
}

void patron_message_id(patron_buf *out, const char *key, const char *domain)
{
	unsigned char h[16];
	char hex[33];
	crypto_generichash(h, sizeof h, (const unsigned char *)key, strlen(key), NULL, 0);
	sodium_bin2hex(hex, sizeof hex, h, sizeof h);
	patron_buf_printf(out, "<%s@%s>", hex, domain && *domain ? domain : "patron.invalid");
}

/* Quoted-printable (RFC 2045 6.7), every line end made CRLF. */
static void quoted_printable(patron_buf *b, const char *s)
{
	int col = 0;
	for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
		if (*c == '\r' && c[1] == '\n')
			continue;
		if (*c == '\n') {
			patron_buf_adds(b, "\r\n");
			col = 0;
			continue;
		}
		int at_end = c[1] == '\0' || c[1] == '\n' || (c[1] == '\r' && c[2] == '\n');
		int literal = (*c >= 33 && *c <= 126 && *c != '=') ||
			      ((*c == ' ' || *c == '\t') && !at_end);
		int width = literal ? 1 : 3;
		if (col + width > 75) {
			patron_buf_adds(b, "=\r\n");
			col = 0;
		}
		if (literal)
			patron_buf_add(b, c, 1);
		else
			patron_buf_printf(b, "=%02X", *c);
		col += width;
	}
	patron_buf_adds(b, "\r\n");
}

static void part(patron_buf *b, const char *type, const char *body)
{
	patron_buf_printf(b, "Content-Type: %s; charset=UTF-8\r\n"
			     "Content-Transfer-Encoding: quoted-printable\r\n\r\n", type);
	quoted_printable(b, body);
}

char *patron_mime_compose(const patron_email *e, size_t *len)
{
	patron_buf b = {0};
	char date[64];
	time_t t = (time_t)e->date;
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &tm);

	patron_buf_adds(&b, "From: ");
	from_header(&b, e->from);
	patron_buf_adds(&b, "\r\nTo: ");
	if (e->to_name && *e->to_name) {
		display_name(&b, e->to_name);
		patron_buf_printf(&b, " <%s>", e->to);
	} else {
		patron_buf_adds(&b, e->to);
	}
	if (e->subject) {
		patron_buf_adds(&b, "\r\nSubject: ");
		patron_header_encode(&b, e->subject);
	}
	patron_buf_printf(&b, "\r\nDate: %s\r\nMessage-ID: %s\r\nMIME-Version: 1.0\r\n", date,
			  e->message_id);
	/* ids are "<...>" words of printable ASCII: nothing to encode, and
	 * folded at their spaces to keep lines short */
	if (e->in_reply_to)
		patron_buf_printf(&b, "In-Reply-To: %s\r\n", e->in_reply_to);
	if (e->references) {
		patron_buf_adds(&b, "References:");
		for (const char *p = e->references; *p;) {
			size_t n = strcspn(p, " ");
			if (n)
				patron_buf_printf(&b, "%s%.*s", p == e->references ? " " : "\r\n ",
						  (int)n, p);
			p += n;
			while (*p == ' ')
				p++;
		}
		patron_buf_adds(&b, "\r\n");
	}
	if (e->list_unsubscribe) {
		patron_buf_printf(&b, "List-Unsubscribe: %s\r\n", e->list_unsubscribe);
		if (e->one_click)
			patron_buf_adds(&b, "List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n");
	}
	if (!e->html) {
		part(&b, "text/plain", e->text);
	} else {
		/* "=_" never occurs in quoted-printable text, so it cannot clash. */
		unsigned char h[8];
		crypto_generichash(h, sizeof h, (const unsigned char *)e->message_id,
				   strlen(e->message_id), NULL, 0);
		char boundary[40];
		snprintf(boundary, sizeof boundary, "=_patron_%02x%02x%02x%02x%02x%02x%02x%02x",
			 h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7]);
		patron_buf_printf(&b, "Content-Type: multipart/alternative; boundary=\"%s\"\r\n\r\n"
				      "--%s\r\n", boundary, boundary);
		part(&b, "text/plain", e->text);
		patron_buf_printf(&b, "--%s\r\n", boundary);
		part(&b, "text/html", e->html);
		patron_buf_printf(&b, "--%s--\r\n", boundary);
	}
	patron_buf_add(&b, "", 1);
	*len = b.len - 1;
	return b.data;
}
