/* Reading customers' emails: headers, MIME parts, charsets, the reply. */
#define _GNU_SOURCE	/* memmem */
#include <ctype.h>
#include <errno.h>
#include <iconv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mail.h"
#include "../value.h"

#define MAX_HEADERS 200
#define MAX_DEPTH 16	/* multiparts inside multiparts: deeper ones are left out */
#define MAX_PARTS 2000

/* ---- headers ---- */

typedef struct {
	const char *name, *val;	/* VAL spans the folded lines, raw */
	size_t nlen, vlen;
} header;

typedef struct {
	header h[MAX_HEADERS];
	size_t n;
	const char *body;
	size_t blen;
} entity;

/* The index just past the line at I (its '\n'), and in *END where its text
 * ends (before "\r\n" or "\n"). */
static size_t next_line(const char *d, size_t n, size_t i, size_t *end)
{
	const char *nl = memchr(d + i, '\n', n - i);
	size_t e = nl ? (size_t)(nl - d) : n;
	if (end)
		*end = e > i && d[e - 1] == '\r' ? e - 1 : e;
	return nl ? e + 1 : n;
}

static void split_headers(const char *d, size_t n, entity *e)
{
	size_t i = 0, end;
	e->n = 0;
	/* an mbox "From " line left at the top */
	if (n >= 5 && memcmp(d, "From ", 5) == 0)
		i = next_line(d, n, 0, NULL);
	while (i < n) {
		if (d[i] == '\n' || (d[i] == '\r' && i + 1 < n && d[i + 1] == '\n')) {
			i = next_line(d, n, i, NULL);
			break;
		}
		if (d[i] == ' ' || d[i] == '\t') {	/* a fold: the header goes on */
			size_t next = next_line(d, n, i, &end);
			if (e->n)
				e->h[e->n - 1].vlen = end - (size_t)(e->h[e->n - 1].val - d);
			i = next;
			continue;
		}
		size_t j = i;
		while (j < n && d[j] != ':' && (unsigned char)d[j] > 32 && (unsigned char)d[j] < 127)
			j++;
		if (j >= n || d[j] != ':' || j == i)
			break;	/* not a header: what follows is the body */
		size_t next = next_line(d, n, j + 1, &end);
		if (e->n < MAX_HEADERS)
			e->h[e->n++] = (header){d + i, d + j + 1, j - i, end - (j + 1)};
		i = next;
	}
	e->body = d + i;
	e->blen = n - i;
}

static const header *find(const entity *e, const char *name)
{
	size_t len = strlen(name);
	for (size_t i = 0; i < e->n; i++)
		if (e->h[i].nlen == len && strncasecmp(e->h[i].name, name, len) == 0)
			return &e->h[i];
	return NULL;
}

/* H's value with its folds joined and its ends trimmed, into OUT (cleared). */
static void unfold(const header *h, patron_buf *out)
{
	patron_buf_clear(out);
	patron_buf_add(out, "", 0);
	for (size_t i = 0; h && i < h->vlen; i++)
		if (h->val[i] != '\r' && h->val[i] != '\n')
			patron_buf_add(out, h->val[i] == '\t' ? " " : &h->val[i], 1);
	size_t a = 0, b = out->len;
	while (a < b && isspace((unsigned char)out->data[a]))
		a++;
	while (b > a && isspace((unsigned char)out->data[b - 1]))
		b--;
	memmove(out->data, out->data + a, b - a);
	out->len = b - a;
	patron_buf_add(out, "", 0);
}

/* ---- bytes ---- */

static int hexval(int c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
		: c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* Quoted-printable (RFC 2045 6.7), or a Q encoded word's text (RFC 2047
 * 4.2, '_' a space). A '=' that starts no escape is kept as it is. */
static void qp_decode(const char *s, size_t n, int q_word, patron_buf *out)
{
	patron_buf_reserve(out, n);
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (c == '=' && i + 2 < n && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
			char b = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
			patron_buf_add(out, &b, 1);
			i += 2;
		} else if (c == '=' && !q_word) {
			size_t j = i + 1;	/* a soft line break: '=', spaces, end of line */
			while (j < n && (s[j] == ' ' || s[j] == '\t'))
				j++;
			if (j < n && s[j] == '\r')
				j++;
			if (j < n && s[j] == '\n')
				i = j;
			else if (j >= n)
				i = j;
			else
				patron_buf_add(out, "=", 1);
		} else if (c == '_' && q_word) {
			patron_buf_add(out, " ", 1);
		} else {
			patron_buf_add(out, &c, 1);
		}
	}
}

/* Base64, leniently: characters outside the alphabet are skipped, and
 * decoding stops at the padding. */
static void b64_decode(const char *s, size_t n, patron_buf *out)
{
	uint32_t acc = 0;
	int bits = 0;
	patron_buf_reserve(out, n / 4 * 3 + 3);
	for (size_t i = 0; i < n && s[i] != '='; i++) {
		int c = (unsigned char)s[i], v = c >= 'A' && c <= 'Z' ? c - 'A'
			: c >= 'a' && c <= 'z' ? c - 'a' + 26 : c >= '0' && c <= '9' ? c - '0' + 52
			: c == '+' || c == '-' ? 62 : c == '/' || c == '_' ? 63 : -1;
		if (v < 0)
			continue;
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			char b = (char)(acc >> bits & 0xff);
			patron_buf_add(out, &b, 1);
		}
	}
}

static int utf8_valid(const char *s, size_t n)
{
	for (size_t i = 0, k; i < n; i += k)
		if (!(k = patron_utf8_len((const unsigned char *)s + i, n - i)))
			return 0;
	return 1;
}

/* Windows-1252, the five bytes it leaves unassigned read as ISO-8859-1's
 * (C1) characters, so nothing is refused. */
static void cp1252_to_utf8(const char *s, size_t n, patron_buf *out)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == 0)
			continue;
		uint32_t cp = patron_cp1252(c);
		patron_utf8_put(out, cp ? cp : c);
	}
}

/* Text in CHARSET (a MIME charset name, "" when not said) into UTF-8 on
 * OUT. UTF-8, ASCII and unnamed text that is not valid UTF-8 is read as
 * Windows-1252, as ISO-8859-1 is (mail labelled Latin-1 is Windows-1252 in
 * practice); a charset iconv does not know is read the same way. */
static void to_utf8(const char *charset, const char *s, size_t n, patron_buf *out)
{
	char cs[48];
	size_t k = 0;
	for (; charset[k] && charset[k] != '*' && k + 1 < sizeof cs; k++)
		cs[k] = (char)tolower((unsigned char)charset[k]);	/* '*': RFC 2231 language */
	cs[k] = 0;
	int latin = strcmp(cs, "iso-8859-1") == 0 || strcmp(cs, "latin1") == 0 ||
		    strcmp(cs, "iso_8859-1") == 0 || strcmp(cs, "windows-1252") == 0 ||
		    strcmp(cs, "cp1252") == 0 || strcmp(cs, "iso-8859-15") == 0;
	int plain = !cs[0] || strcmp(cs, "utf-8") == 0 || strcmp(cs, "utf8") == 0 ||
		    strcmp(cs, "us-ascii") == 0 || strcmp(cs, "ascii") == 0 ||
		    strcmp(cs, "ansi_x3.4-1968") == 0 || strcmp(cs, "unknown-8bit") == 0 ||
		    strcmp(cs, "x-unknown") == 0;
	if (latin && strcmp(cs, "iso-8859-15") != 0) {
		cp1252_to_utf8(s, n, out);
		return;
	}
	if (plain) {
		if (utf8_valid(s, n)) {
			for (size_t i = 0; i < n; i++)
				if (s[i])
					patron_buf_add(out, &s[i], 1);
		} else {
			cp1252_to_utf8(s, n, out);
		}
		return;
	}
	iconv_t cd = iconv_open("UTF-8", cs);
	if (cd == (iconv_t)-1) {
		to_utf8("", s, n, out);
		return;
	}
	char *in = (char *)s;
	size_t left = n;
	char tmp[4096];
	while (left > 0) {
		char *o = tmp;
		size_t room = sizeof tmp;
		size_t r = iconv(cd, &in, &left, &o, &room);
		for (char *p = tmp; p < o; p++)
			if (*p)
				patron_buf_add(out, p, 1);
		if (r == (size_t)-1 && errno != E2BIG) {	/* a byte the charset has no use for */
			patron_utf8_put(out, 0xfffd);
			in++;
			left--;
			iconv(cd, NULL, NULL, NULL, NULL);
		}
	}
	iconv_close(cd);
}

/* ---- header values ---- */

/* Reads the encoded word at S (=?charset?B|Q?text?=): 1 with its parts, its
 * length in *LEN; 0 when S is not one. */
static int encoded_word(const char *s, size_t n, size_t *len, char *cs, size_t cs_cap,
			char *enc, const char **text, size_t *tlen)
{
	if (n < 8 || s[0] != '=' || s[1] != '?')
		return 0;
	size_t i = 2;
	while (i < n && s[i] != '?' && !isspace((unsigned char)s[i]))
		i++;
	if (i >= n || s[i] != '?' || i - 2 == 0 || i - 2 >= cs_cap)
		return 0;
	memcpy(cs, s + 2, i - 2);
	cs[i - 2] = 0;
	if (i + 2 >= n || s[i + 2] != '?')
		return 0;
	*enc = (char)toupper((unsigned char)s[i + 1]);
	if (*enc != 'B' && *enc != 'Q')
		return 0;
	size_t t = i + 3, j = t;
	while (j + 1 < n && !(s[j] == '?' && s[j + 1] == '=') && s[j] != '\r' && s[j] != '\n')
		j++;
	if (j + 1 >= n || s[j] != '?')
		return 0;
	*text = s + t;
	*tlen = j - t;
	*len = j + 2;
	return 1;
}

void patron_mail_decode_header(const char *value, size_t len, patron_buf *out)
{
	patron_buf raw = {0}, plain = {0};
	char raw_cs[48] = "";
	size_t i = 0, ws_from = 0;
	int after_word = 0;	/* the last thing read was an encoded word */
	while (i < len) {
		char cs[48], enc;
		const char *text;
		size_t wlen, tlen;
		if (encoded_word(value + i, len - i, &wlen, cs, sizeof cs, &enc, &text, &tlen)) {
			/* space between two encoded words is not text (RFC 2047 6.2) */
			if (after_word)
				plain.len = ws_from;
			if (plain.len) {
				to_utf8("", plain.data, plain.len, out);
				patron_buf_clear(&plain);
			}
			if (raw.len && strcasecmp(cs, raw_cs) != 0) {
				to_utf8(raw_cs, raw.data, raw.len, out);
				patron_buf_clear(&raw);
			}
			snprintf(raw_cs, sizeof raw_cs, "%s", cs);
			/* words of one charset are joined as bytes first: a character
			 * may be split between two */
			if (enc == 'B')
				b64_decode(text, tlen, &raw);
			else
				qp_decode(text, tlen, 1, &raw);
			i += wlen;
			after_word = 1;
			ws_from = 0;
			continue;
		}
		char c = value[i++];
		if (c == '\r' || c == '\n')
			continue;
		if (c == ' ' || c == '\t') {
			if (!plain.len || !after_word)
				ws_from = plain.len;
			patron_buf_add(&plain, " ", 1);
			continue;
		}
		if (raw.len) {
			to_utf8(raw_cs, raw.data, raw.len, out);
			patron_buf_clear(&raw);
		}
		if (after_word && plain.len)
			ws_from = plain.len;
		after_word = 0;
		patron_buf_add(&plain, &c, 1);
	}
	if (raw.len)
		to_utf8(raw_cs, raw.data, raw.len, out);
	if (plain.len)
		to_utf8("", plain.data, plain.len, out);
	patron_buf_free(&raw);
	patron_buf_free(&plain);
	patron_buf_add(out, "", 0);
}

/* ---- Content-Type and Content-Disposition ---- */

typedef struct {
	char type[32], sub[48];
	char charset[48], boundary[256];
	int named;	/* a name or filename parameter: a file */
} ctype;

/* Reads "token; a=b; c=\"d\"": the token lower-cased into TOK, and the
 * parameters the caller wants. */
static void parse_params(const char *v, size_t n, char *tok, size_t tok_cap, ctype *ct)
{
	size_t i = 0, k = 0;
	while (i < n && isspace((unsigned char)v[i]))
		i++;
	while (i < n && v[i] != ';' && !isspace((unsigned char)v[i])) {
		if (k + 1 < tok_cap)
			tok[k++] = (char)tolower((unsigned char)v[i]);
		i++;
	}
	tok[k] = 0;
	while (i < n) {
		while (i < n && (v[i] == ';' || isspace((unsigned char)v[i])))
			i++;
		char name[64];
		size_t nk = 0;
		while (i < n && v[i] != '=' && v[i] != ';' && !isspace((unsigned char)v[i])) {
			if (nk + 1 < sizeof name)
				name[nk++] = (char)tolower((unsigned char)v[i]);
			i++;
		}
		name[nk] = 0;
		while (i < n && isspace((unsigned char)v[i]))
			i++;
		if (i >= n || v[i] != '=') {
			while (i < n && v[i] != ';')
				i++;
			continue;
		}
		i++;
		while (i < n && isspace((unsigned char)v[i]))
			i++;
		char val[256];
		size_t vk = 0;
		if (i < n && v[i] == '"') {
			for (i++; i < n && v[i] != '"'; i++) {
				if (v[i] == '\\' && i + 1 < n)
					i++;
				if (vk + 1 < sizeof val)
					val[vk++] = v[i];
			}
			i++;
		} else {
			for (; i < n && v[i] != ';' && !isspace((unsigned char)v[i]); i++)
				if (vk + 1 < sizeof val)
					val[vk++] = v[i];
		}
		val[vk] = 0;
		if (!ct)
			continue;
		if (strcmp(name, "charset") == 0)
			snprintf(ct->charset, sizeof ct->charset, "%.*s", (int)sizeof ct->charset - 1, val);
		else if (strcmp(name, "boundary") == 0)
			snprintf(ct->boundary, sizeof ct->boundary, "%.*s", (int)sizeof ct->boundary - 1, val);
		else if (strncmp(name, "name", 4) == 0 || strncmp(name, "filename", 8) == 0)
			ct->named = 1;
	}
}

static void read_ctype(const entity *e, int in_digest, ctype *ct)
{
	memset(ct, 0, sizeof *ct);
	const header *h = find(e, "content-type");
	char tok[96] = "";
	patron_buf v = {0};
	if (h) {
		unfold(h, &v);
		parse_params(v.data, v.len, tok, sizeof tok, ct);
	}
	char *slash = strchr(tok, '/');
	if (!slash || !slash[1]) {	/* missing or broken: the default (RFC 2045 5.2) */
		snprintf(ct->type, sizeof ct->type, "%s", in_digest ? "message" : "text");
		snprintf(ct->sub, sizeof ct->sub, "%s", in_digest ? "rfc822" : "plain");
	} else {
		*slash = 0;
		snprintf(ct->type, sizeof ct->type, "%.*s", (int)sizeof ct->type - 1, tok);
		snprintf(ct->sub, sizeof ct->sub, "%.*s", (int)sizeof ct->sub - 1, slash + 1);
	}
	patron_buf_free(&v);
}

/* ---- HTML as text ---- */

static int tag_is(const char *name, const char *const *list)
{
	for (; *list; list++)
		if (strcmp(name, *list) == 0)
			return 1;
	return 0;
}

static void html_entity(const char *s, size_t n, size_t *i, patron_buf *out)
{
	static const struct {
		const char *name;
		uint32_t cp;
	} names[] = {{"amp", '&'},   {"lt", '<'},	  {"gt", '>'},	     {"quot", '"'},
		     {"apos", '\''}, {"nbsp", ' '},	  {"eacute", 0xe9},  {"egrave", 0xe8},
		     {"agrave", 0xe0}, {"ccedil", 0xe7}, {"uuml", 0xfc},  {"ouml", 0xf6},
		     {"auml", 0xe4}, {"szlig", 0xdf},	  {"euro", 0x20ac},  {"pound", 0xa3},
		     {"copy", 0xa9}, {"rsquo", 0x2019}, {"lsquo", 0x2018}, {"rdquo", 0x201d},
		     {"ldquo", 0x201c}, {"hellip", 0x2026}, {"mdash", 0x2014}, {"ndash", 0x2013}};
	size_t j = *i + 1;
	while (j < n && j - *i < 12 && s[j] != ';' && (isalnum((unsigned char)s[j]) || s[j] == '#'))
		j++;
	if (j >= n || s[j] != ';') {
		patron_buf_add(out, "&", 1);
		return;
	}
	char name[16];
	size_t len = j - *i - 1;
	memcpy(name, s + *i + 1, len);
	name[len] = 0;
	if (name[0] == '#') {
		char *end;
		unsigned long cp = name[1] == 'x' || name[1] == 'X' ? strtoul(name + 2, &end, 16)
								     : strtoul(name + 1, &end, 10);
		if (*end || end == name + 1) {
			patron_buf_add(out, "&", 1);
			return;
		}
		patron_utf8_put(out, cp == 0xa0 ? ' ' : cp > 0x10ffff ? 0xfffd : (uint32_t)cp);
		*i = j;
		return;
	}
	for (size_t k = 0; k < sizeof names / sizeof *names; k++)
		if (strcmp(name, names[k].name) == 0) {
			patron_utf8_put(out, names[k].cp);
			*i = j;
			return;
		}
	patron_buf_add(out, "&", 1);
}

/* The text of HTML (UTF-8 already): tags out, blocks as lines, script and
 * style left out, entities decoded, a blockquote's lines quoted with "> "
 * so the reply's quoted part can be told from the rest. */
static void html_text(const char *s, size_t n, patron_buf *out)
{
	static const char *const blocks[] = {"p", "div", "tr", "li", "h1", "h2", "h3", "h4",
					     "h5", "h6", "table", "ul", "ol", "br", "hr",
					     "blockquote", "pre", "section", NULL};
	static const char *const hidden[] = {"script", "style", "head", "title", NULL};
	int quote = 0, at_line = 1, space = 0;
	const char *skip_until = NULL;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '<') {
			if (n - i >= 4 && memcmp(s + i, "<!--", 4) == 0) {
				const char *e = memmem(s + i + 4, n - i - 4, "-->", 3);
				i = e ? (size_t)(e - s) + 2 : n;
				continue;
			}
			size_t j = i + 1;
			int closing = j < n && s[j] == '/';
			j += (size_t)closing;
			char name[16];
			size_t k = 0;
			while (j < n && isalnum((unsigned char)s[j])) {
				if (k + 1 < sizeof name)
					name[k++] = (char)tolower((unsigned char)s[j]);
				j++;
			}
			name[k] = 0;
			char q = 0;
			while (j < n && (q || s[j] != '>')) {
				if (q && s[j] == q)
					q = 0;
				else if (!q && (s[j] == '"' || s[j] == '\''))
					q = s[j];
				j++;
			}
			i = j;
			if (skip_until) {
				if (closing && strcmp(name, skip_until) == 0)
					skip_until = NULL;
				continue;
			}
			if (!closing && tag_is(name, hidden)) {
				for (size_t h = 0; hidden[h]; h++)
					if (strcmp(name, hidden[h]) == 0)
						skip_until = hidden[h];
				continue;
			}
			if (strcmp(name, "blockquote") == 0)
				quote += closing ? (quote > 0 ? -1 : 0) : 1;
			if (tag_is(name, blocks)) {
				if (!at_line || strcmp(name, "br") == 0)
					patron_buf_add(out, "\n", 1);
				at_line = 1;
				space = 0;
				if (strcmp(name, "li") == 0 && !closing) {
					patron_buf_adds(out, "- ");
					at_line = 0;
				}
			} else {
				space = 1;
			}
			continue;
		}
		if (skip_until)
			continue;
		if (isspace((unsigned char)s[i])) {
			space = 1;
			continue;
		}
		if (at_line) {
			for (int d = 0; d < quote; d++)
				patron_buf_adds(out, "> ");
			at_line = 0;
		} else if (space) {
			patron_buf_add(out, " ", 1);
		}
		space = 0;
		if (s[i] == '&')
			html_entity(s, n, &i, out);
		else
			patron_buf_add(out, &s[i], 1);
	}
}

/* ---- the MIME tree ---- */

typedef struct {
	patron_buf plain, html;
	size_t attachments, parts;
	int report;	/* multipart/report: a delivery status notice */
} walk;

static void walk_free(walk *w)
{
	patron_buf_free(&w->plain);
	patron_buf_free(&w->html);
}

static void body_of(const entity *e, const ctype *ct, patron_buf *out)
{
	patron_buf cte = {0}, raw = {0};
	unfold(find(e, "content-transfer-encoding"), &cte);
	const char *d = e->body;
	size_t n = e->blen;
	if (cte.len && strncasecmp(cte.data, "quoted-printable", 16) == 0) {
		qp_decode(d, n, 0, &raw);
		d = raw.data, n = raw.len;
	} else if (cte.len && strncasecmp(cte.data, "base64", 6) == 0) {
		b64_decode(d, n, &raw);
		d = raw.data, n = raw.len;
	}
	to_utf8(ct->charset, d ? d : "", n, out);
	patron_buf_free(&cte);
	patron_buf_free(&raw);
}

static void walk_entity(walk *w, const char *d, size_t n, int depth, int in_digest);

/* The parts between "--BOUNDARY" lines; the preamble and epilogue are not
 * text. A part missing its closing line runs to the end. */
static void walk_multipart(walk *w, const entity *e, const ctype *ct, int depth)
{
	size_t blen = strlen(ct->boundary), i = 0, start = 0, end;
	int in_part = 0, alternative = strcmp(ct->sub, "alternative") == 0;
	int digest = strcmp(ct->sub, "digest") == 0;
	const char *d = e->body;
	size_t n = e->blen;
	walk alt = {0};
	while (i <= n) {
		size_t line = i, next = i < n ? next_line(d, n, i, &end) : n + 1;
		if (i == n)
			end = n;
		int delim = i < n && end - line >= blen + 2 && d[line] == '-' && d[line + 1] == '-' &&
			    memcmp(d + line + 2, ct->boundary, blen) == 0;
		if (delim || i == n) {
			if (in_part && line > start) {
				/* the line break before the delimiter belongs to it */
				size_t stop = line;
				if (stop > start && d[stop - 1] == '\n')
					stop--;
				if (stop > start && d[stop - 1] == '\r')
					stop--;
				if (alternative) {
					walk one = {0};
					walk_entity(&one, d + start, stop - start, depth + 1, 0);
					w->parts += one.parts;
					w->attachments += one.attachments;
					w->report |= one.report;
					/* the plain text the sender wrote first, and the HTML */
					if (!alt.plain.len && one.plain.len)
						patron_buf_add(&alt.plain, one.plain.data, one.plain.len);
					if (!alt.html.len && one.html.len)
						patron_buf_add(&alt.html, one.html.data, one.html.len);
					walk_free(&one);
				} else {
					walk_entity(w, d + start, stop - start, depth + 1, digest);
				}
			}
			if (i == n)
				break;
			in_part = 1;
			start = next;
			if (end - line >= blen + 4 && d[line + blen + 2] == '-' && d[line + blen + 3] == '-')
				break;	/* the closing delimiter */
		}
		i = next;
	}
	if (alternative) {
		if (alt.plain.len) {
			if (w->plain.len)
				patron_buf_add(&w->plain, "\n", 1);
			patron_buf_add(&w->plain, alt.plain.data, alt.plain.len);
		}
		if (alt.html.len) {
			if (w->html.len)
				patron_buf_add(&w->html, "\n", 1);
			patron_buf_add(&w->html, alt.html.data, alt.html.len);
		}
		walk_free(&alt);
	}
}

static void walk_entity(walk *w, const char *d, size_t n, int depth, int in_digest)
{
	if (depth > MAX_DEPTH || ++w->parts > MAX_PARTS)
		return;
	entity *e = patron_xmalloc(sizeof *e);
	split_headers(d, n, e);
	ctype ct;
	read_ctype(e, in_digest, &ct);
	patron_buf disp = {0};
	unfold(find(e, "content-disposition"), &disp);
	char dtok[32] = "";
	ctype dparams = {0};
	parse_params(disp.data ? disp.data : "", disp.len, dtok, sizeof dtok, &dparams);
	int attached = strcmp(dtok, "attachment") == 0 ||
		       ((ct.named || dparams.named) && strcmp(dtok, "inline") != 0);
	if (strcmp(ct.type, "multipart") == 0 && ct.boundary[0]) {
		if (strcmp(ct.sub, "report") == 0)
			w->report = 1;
		walk_multipart(w, e, &ct, depth);
	} else if (strcmp(ct.type, "multipart") == 0 ||
		   (strcmp(ct.type, "text") == 0 && !attached &&
		    (strcmp(ct.sub, "plain") == 0 || strcmp(ct.sub, "html") == 0))) {
		/* a multipart without a boundary is read as the text it holds */
		patron_buf *into = strcmp(ct.sub, "html") == 0 ? &w->html : &w->plain;
		if (into->len)
			patron_buf_add(into, "\n", 1);
		body_of(e, &ct, into);
	} else if (e->blen || ct.named || dparams.named) {
		w->attachments++;	/* a file, an image, a forwarded message */
	}
	patron_buf_free(&disp);
	free(e);
}

/* ---- addresses, ids, dates ---- */

/* "Name <a@b>", "a@b (Name)", "a@b": the first address and its name. */
static void parse_from(const char *v, char **addr, char **name)
{
	const char *lt = NULL;
	int q = 0;
	for (const char *p = v; *p; p++) {
		if (*p == '"' && (p == v || p[-1] != '\\'))
			q = !q;
		else if (!q && *p == '<') {
			lt = p;
			break;
		}
	}
	patron_buf b = {0};
	if (lt) {
		const char *gt = strchr(lt, '>');
		size_t len = gt ? (size_t)(gt - lt - 1) : strlen(lt + 1);
		patron_buf_add(&b, lt + 1, len);
		const char *s = v, *e = lt;
		while (s < e && isspace((unsigned char)*s))
			s++;
		while (e > s && isspace((unsigned char)e[-1]))
			e--;
		if (e - s >= 2 && *s == '"' && e[-1] == '"')
			s++, e--;
		if (e > s) {
			patron_buf raw = {0}, dec = {0};
			for (const char *p = s; p < e; p++)
				if (!(*p == '\\' && p + 1 < e))
					patron_buf_add(&raw, p, 1);
			patron_mail_decode_header(raw.data, raw.len, &dec);
			*name = dec.len ? patron_xstrdup(dec.data) : NULL;
			patron_buf_free(&raw);
			patron_buf_free(&dec);
		}
	} else {
		const char *s = v;
		while (*s && isspace((unsigned char)*s))
			s++;
		size_t len = strcspn(s, " \t(,;");
		patron_buf_add(&b, s, len);
		const char *open = strchr(s + len, '('), *close = open ? strchr(open, ')') : NULL;
		if (open && close && close > open + 1) {
			patron_buf dec = {0};
			patron_mail_decode_header(open + 1, (size_t)(close - open - 1), &dec);
			*name = dec.len ? patron_xstrdup(dec.data) : NULL;
			patron_buf_free(&dec);
		}
	}
	/* an address is printable ASCII (or UTF-8, RFC 6531) without spaces */
	size_t k = 0;
	for (size_t i = 0; i < b.len; i++)
		if ((unsigned char)b.data[i] > ' ' && b.data[i] != 0x7f)
			b.data[k++] = b.data[i];
	b.len = k;
	patron_buf utf = {0};	/* 8-bit bytes as UTF-8, as everything this returns */
	to_utf8("", b.data ? b.data : "", k, &utf);
	patron_buf_add(&utf, "", 0);
	*addr = utf.len && strchr(utf.data, '@') ? patron_xstrdup(utf.data) : NULL;
	patron_buf_free(&utf);
	patron_buf_free(&b);
}

/* The "<...>" ids of V, space-separated (at most MAX, the last ones). */
static char *ids(const char *v, size_t max)
{
	const char *found[64];
	size_t lens[64], n = 0;
	for (const char *p = v; (p = strchr(p, '<'));) {
		const char *e = strchr(p, '>');
		if (!e)
			break;
		if (e - p > 2 && !memchr(p + 1, '<', (size_t)(e - p - 1)) &&
		    !memchr(p, ' ', (size_t)(e - p))) {
			if (n == sizeof found / sizeof *found) {
				memmove(found, found + 1, (n - 1) * sizeof *found);
				memmove(lens, lens + 1, (n - 1) * sizeof *lens);
				n--;
			}
			found[n] = p, lens[n++] = (size_t)(e - p + 1);
		}
		p = e + 1;
	}
	if (!n) {	/* an id without its brackets */
		size_t len = strcspn(v, " \t");
		if (!len || !strchr(v, '@') || len > 990)
			return NULL;
		patron_buf b = {0};
		patron_buf_printf(&b, "<%.*s>", (int)len, v);
		return b.data;
	}
	patron_buf b = {0};
	for (size_t i = n > max ? n - max : 0; i < n; i++) {
		if (b.len)
			patron_buf_add(&b, " ", 1);
		patron_buf_add(&b, found[i], lens[i] > 990 ? 990 : lens[i]);
	}
	return b.data;
}

static int month_of(const char *s)
{
	static const char *const m[] = {"jan", "feb", "mar", "apr", "may", "jun",
					"jul", "aug", "sep", "oct", "nov", "dec"};
	for (int i = 0; i < 12; i++)
		if (strncasecmp(s, m[i], 3) == 0)
			return i + 1;
	return 0;
}

static const char *skip_space(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == ',')
		p++;
	return p;
}

static int read_num(const char **p, int max_digits, int *out)
{
	int v = 0, k = 0;
	while (isdigit((unsigned char)**p) && k < max_digits)
		v = v * 10 + (*(*p)++ - '0'), k++;
	*out = v;
	return k;
}

int64_t patron_mail_date(const char *s)
{
	const char *p = skip_space(s);
	int day = 0, mon = 0, year = 0, h = 0, mi = 0, sec = 0, k;
	if (isalpha((unsigned char)*p) && !month_of(p)) {	/* the day's name */
		while (isalpha((unsigned char)*p))
			p++;
		p = skip_space(p);
	}
	int month_first = isalpha((unsigned char)*p);	/* asctime: "Nov 30 14:07:34 2026" */
	if (month_first) {
		mon = month_of(p);
		while (isalpha((unsigned char)*p))
			p++;
		p = skip_space(p);
		if (!read_num(&p, 2, &day))
			return -1;
	} else {
		if (!read_num(&p, 2, &day))
			return -1;
		p = skip_space(p);
		while (*p == '-')
			p++;
		mon = month_of(p);
		while (isalpha((unsigned char)*p) || *p == '.')
			p++;
		while (*p == '-')
			p++;
	}
	p = skip_space(p);
	int have_year = 0;
	if (!month_first || !(isdigit((unsigned char)p[0]) && (p[1] == ':' || (p[1] && p[2] == ':')))) {
		if (!(k = read_num(&p, 4, &year)))
			return -1;
		year = k == 2 ? (year < 50 ? 2000 + year : 1900 + year) : k == 3 ? 1900 + year : year;
		have_year = 1;
		p = skip_space(p);
	}
	if (!read_num(&p, 2, &h) || *p++ != ':' || !read_num(&p, 2, &mi))
		return -1;
	if (*p == ':') {
		p++;
		read_num(&p, 2, &sec);
	}
	p = skip_space(p);
	if (!have_year) {
		if (read_num(&p, 4, &year) != 4)
			return -1;
		p = skip_space(p);
	}
	int offset = 0;
	if (*p == '+' || *p == '-') {
		int sign = *p++ == '-' ? -1 : 1, hhmm;
		if (read_num(&p, 4, &hhmm) == 4)
			offset = sign * ((hhmm / 100) * 3600 + (hhmm % 100) * 60);
	} else {
		static const struct {
			const char *name;
			int hours;
		} zones[] = {{"EST", -5}, {"EDT", -4}, {"CST", -6}, {"CDT", -5},
			     {"MST", -7}, {"MDT", -6}, {"PST", -8}, {"PDT", -7}};
		for (size_t z = 0; z < sizeof zones / sizeof *zones; z++)
			if (strncasecmp(p, zones[z].name, 3) == 0 && !isalpha((unsigned char)p[3]))
				offset = zones[z].hours * 3600;
	}
	if (!mon || day < 1 || day > 31 || year < 1900 || year > 9999 || h > 23 || mi > 59 ||
	    sec > 60 || offset < -24 * 3600 || offset > 24 * 3600)
		return -1;
	return patron_days_from_civil(year, mon, day) * 86400 + h * 3600 + mi * 60 + sec - offset;
}

/* ---- the reply ---- */

static int starts_ci(const char *s, size_t n, const char *prefix)
{
	size_t k = strlen(prefix);
	return n >= k && strncasecmp(s, prefix, k) == 0;
}

static int ends_ci(const char *s, size_t n, const char *suffix)
{
	size_t k = strlen(suffix);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	return n >= k && strncasecmp(s + n - k, suffix, k) == 0;
}

/* A line that introduces a quoted message: "On ... wrote:" and its
 * translations. */
static int attribution(const char *s, size_t n)
{
	static const char *const ends[] = {"wrote:", "a écrit :", "a écrit:", "schrieb:",
					   "escribió:", "ha scritto:", "schreef:", "skrev:",
					   "escreveu:", "napisał:", NULL};
	for (size_t i = 0; ends[i]; i++)
		if (ends_ci(s, n, ends[i]))
			return 1;
	return 0;
}

void patron_mail_reply_text(const char *text, patron_buf *out)
{
	size_t start = out->len, n = strlen(text);
	const char *lines[4096];
	size_t lens[4096], nl = 0;
	for (size_t i = 0; i < n && nl < sizeof lines / sizeof *lines;) {
		size_t end, next = next_line(text, n, i, &end);
		lines[nl] = text + i, lens[nl++] = end - i;
		i = next;
	}
	size_t keep_end = start;
	for (size_t l = 0; l < nl; l++) {
		const char *s = lines[l];
		size_t len = lens[l];
		if (len && s[0] == '>')
			continue;
		if ((len == 3 && memcmp(s, "-- ", 3) == 0) || (len == 2 && memcmp(s, "--", 2) == 0))
			break;	/* the signature */
		const char *t = s;
		size_t tl = len;
		while (tl && (*t == '-' || *t == ' ' || *t == '_'))
			t++, tl--;
		if (starts_ci(t, tl, "original message") || starts_ci(t, tl, "forwarded message") ||
		    starts_ci(t, tl, "mensaje original") || starts_ci(t, tl, "ursprüngliche nachricht"))
			break;
		if (attribution(s, len) ||
		    (starts_ci(s, len, "on ") && l + 1 < nl && attribution(lines[l + 1], lens[l + 1])))
			break;
		if (len >= 20 && strspn(s, "_") >= 20)
			break;	/* Outlook's line above the message it quotes */
		if (starts_ci(s, len, "from:") && l + 1 < nl &&
		    (starts_ci(lines[l + 1], lens[l + 1], "sent:") ||
		     starts_ci(lines[l + 1], lens[l + 1], "date:")))
			break;
		if (starts_ci(s, len, "sent from my ") || starts_ci(s, len, "get outlook for "))
			continue;
		patron_buf_add(out, s, len);
		if (len && strspn(s, " \t") < len)
			keep_end = out->len;
		patron_buf_add(out, "\n", 1);
	}
	out->len = keep_end;	/* no blank lines at the end */
	if (out->len == start) {	/* all of it quoted: a forward, say */
		while (n && (text[n - 1] == '\n' || text[n - 1] == '\r' || text[n - 1] == ' '))
			n--;
		patron_buf_add(out, text, n);
	}
	size_t a = start;	/* nor at the start */
	while (a < out->len && (out->data[a] == '\n' || out->data[a] == ' '))
		a++;
	if (a > start && a < out->len) {
		memmove(out->data + start, out->data + a, out->len - a);
		out->len -= a - start;
	}
	patron_buf_add(out, "", 0);
}

void patron_mail_base_subject(const char *subject, char *out, size_t cap)
{
	static const char *const prefixes[] = {"re", "fw", "fwd", "aw", "wg", "sv", "vs",
					       "tr", "rif", "antw", "r", NULL};
	const char *s = subject;
	for (int changed = 1; changed;) {
		changed = 0;
		while (*s == ' ' || *s == '\t')
			s++;
		if (*s == '[') {	/* a list's or a shop's tag */
			const char *e = strchr(s, ']');
			if (e && e - s < 40) {
				s = e + 1;
				changed = 1;
				continue;
			}
		}
		for (size_t i = 0; prefixes[i]; i++) {
			size_t k = strlen(prefixes[i]);
			const char *p = s + k;
			if (strncasecmp(s, prefixes[i], k) != 0)
				continue;
			if (*p == '[' || *p == '(') {	/* "Re[2]:" */
				while (*p && *p != ']' && *p != ')')
					p++;
				if (*p)
					p++;
			}
			if (*p == ':') {
				s = p + 1;
				changed = 1;
				break;
			}
		}
	}
	size_t k = 0;
	for (; *s && k + 1 < cap; s++) {
		unsigned char c = (unsigned char)*s;
		if (isspace(c) && (k == 0 || out[k - 1] == ' '))
			continue;
		out[k++] = isspace(c) ? ' ' : (char)tolower(c);
	}
	while (k && out[k - 1] == ' ')
		k--;
	if (cap)
		out[k] = 0;
}

/* ---- the message ---- */

/* Why a message is not a person's question, or NULL. */
static const char *automatic(const entity *e, const walk *w, const char *from)
{
	patron_buf v = {0};
	const char *why = NULL;
	unfold(find(e, "auto-submitted"), &v);
	if (v.len && strncasecmp(v.data, "no", 2) != 0)
		why = "Auto-Submitted";
	unfold(find(e, "precedence"), &v);
	if (!why && v.len && (strcasecmp(v.data, "bulk") == 0 || strcasecmp(v.data, "junk") == 0 ||
			      strcasecmp(v.data, "list") == 0 || strcasecmp(v.data, "auto_reply") == 0))
		why = "Precedence";
	if (!why && (find(e, "x-autoreply") || find(e, "x-autorespond")))
		why = "X-Autoreply";
	if (!why && find(e, "list-id"))
		why = "List-Id";
	if (!why && w->report)
		why = "multipart/report";
	if (!why && from && (strncasecmp(from, "mailer-daemon@", 14) == 0 ||
			     strncasecmp(from, "postmaster@", 11) == 0))
		why = "From";
	patron_buf_free(&v);
	return why;
}

static char *trimmed(patron_buf *b)
{
	size_t a = 0, e = b->len;
	while (a < e && isspace((unsigned char)b->data[a]))
		a++;
	while (e > a && isspace((unsigned char)b->data[e - 1]))
		e--;
	char *s = patron_xmalloc(e - a + 1);
	size_t k = 0;
	for (size_t i = a; i < e; i++)	/* CRLF and CR become LF */
		if (b->data[i] == '\r')
			s[k++] = i + 1 < e && b->data[i + 1] == '\n' ? (i++, '\n') : '\n';
		else
			s[k++] = b->data[i];
	s[k] = 0;
	return s;
}

void patron_mail_parse(const char *data, size_t len, patron_mail *m)
{
	memset(m, 0, sizeof *m);
	entity *e = patron_xmalloc(sizeof *e);
	split_headers(data, len, e);
	patron_buf v = {0}, dec = {0};

	unfold(find(e, "message-id"), &v);
	m->message_id = v.len ? ids(v.data, 1) : NULL;
	unfold(find(e, "in-reply-to"), &v);
	m->in_reply_to = v.len ? ids(v.data, 1) : NULL;
	unfold(find(e, "references"), &v);
	m->references = v.len ? ids(v.data, 20) : NULL;
	const header *from = find(e, "reply-to");
	unfold(find(e, "from"), &v);
	if (v.len)
		parse_from(v.data, &m->from_addr, &m->from_name);
	if (!m->from_addr && from) {	/* a From the address cannot be read from */
		free(m->from_name);
		m->from_name = NULL;
		unfold(from, &v);
		parse_from(v.data, &m->from_addr, &m->from_name);
	}
	unfold(find(e, "subject"), &v);
	patron_mail_decode_header(v.data ? v.data : "", v.len, &dec);
	m->subject = trimmed(&dec);
	unfold(find(e, "date"), &v);
	int64_t t = v.len ? patron_mail_date(v.data) : -1;
	m->date = t > 0 ? t : 0;

	walk w = {0};
	walk_entity(&w, data, len, 0, 0);
	m->attachments = w.attachments;
	patron_buf text = {0};
	int plain = 0;
	for (size_t i = 0; i < w.plain.len && !plain; i++)
		plain = !isspace((unsigned char)w.plain.data[i]);
	if (plain)
		patron_buf_add(&text, w.plain.data, w.plain.len);
	else if (w.html.len)
		html_text(w.html.data, w.html.len, &text);
	patron_buf_add(&text, "", 0);
	m->text = trimmed(&text);
	patron_buf_clear(&text);
	patron_mail_reply_text(m->text, &text);
	m->reply = trimmed(&text);
	m->automatic = automatic(e, &w, m->from_addr);

	patron_buf_free(&text);
	walk_free(&w);
	patron_buf_free(&v);
	patron_buf_free(&dec);
	free(e);
}

void patron_mail_free(patron_mail *m)
{
	free(m->message_id);
	free(m->in_reply_to);
	free(m->references);
	free(m->from_addr);
	free(m->from_name);
	free(m->subject);
	free(m->text);
	free(m->reply);
	memset(m, 0, sizeof *m);
}
