#include "text.h"

#include <stdint.h>
#include <string.h>

/* The code point at S and its length in bytes; 0 for an invalid sequence. */
static size_t decode(const unsigned char *s, uint32_t *cp)
{
	if (s[0] < 0x80)
		return *cp = s[0], 1;
	size_t n = s[0] >= 0xF0 && s[0] < 0xF5 ? 4 : s[0] >= 0xE0 ? 3 : s[0] >= 0xC2 ? 2 : 0;
	if (!n || s[0] >= 0xF5)
		return 0;
	uint32_t c = s[0] & (0x7F >> n);
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3F);
	}
	/* overlong forms and surrogates are not characters */
	if ((n == 2 && c < 0x80) || (n == 3 && c < 0x800) || (n == 4 && c < 0x10000) ||
	    (c >= 0xD800 && c <= 0xDFFF) || c > 0x10FFFF)
		return 0;
	*cp = c;
	return n;
}

static int is_cjk(uint32_t c)
{
	return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) ||
	       (c >= 0x3040 && c <= 0x30FF) || (c >= 0xAC00 && c <= 0xD7AF) ||
	       (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x20000 && c <= 0x2FA1F);
}

/* A letter or digit of a word: ASCII ones, and any other character above
 * U+00BF that is not CJK or general punctuation (so é, ß, я, ش count). */
static int is_word(uint32_t c)
{
	if (c < 0x80)
		return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
	return c >= 0xC0 && c != 0xD7 && c != 0xF7 && !(c >= 0x2000 && c <= 0x2BFF) &&
	       !(c >= 0x3000 && c <= 0x303F) && !(c >= 0xFF00 && c <= 0xFF65) && !is_cjk(c);
}

static int emit_punct(char mark, int (*fn)(const text_token *, void *), void *ud)
{
	text_token t = {.kind = TOK_PUNCT, .mark = mark};
	return fn(&t, ud);
}

void text_tokens(const char *str, int (*fn)(const text_token *t, void *ud), void *ud)
{
	const unsigned char *s = (const unsigned char *)str;
	const unsigned char *prev_cjk = NULL;	/* the CJK character before, for pairs */
	size_t prev_len = 0;
	int lone = 0;				/* a CJK run of one character so far */
	while (*s) {
		uint32_t c;
		size_t n = decode(s, &c);
		if (!n) {	/* an invalid byte: skipped */
			s++;
			continue;
		}
		if (is_cjk(c)) {
			if (prev_cjk) {
				text_token t = {.kind = TOK_CJK};
				memcpy(t.text, prev_cjk, prev_len);
				memcpy(t.text + prev_len, s, n);
				t.text[prev_len + n] = 0;
				if (fn(&t, ud))
					return;
				lone = 0;
			} else {
				lone = 1;
			}
			prev_cjk = s, prev_len = n;
			s += n;
			continue;
		}
		if (prev_cjk && lone) {	/* a single CJK character: itself */
			text_token t = {.kind = TOK_CJK};
			memcpy(t.text, prev_cjk, prev_len);
			t.text[prev_len] = 0;
			if (fn(&t, ud))
				return;
		}
		prev_cjk = NULL, lone = 0;
		if (is_word(c)) {
			text_token t = {.kind = TOK_WORD};
			size_t len = 0;
			int upper = 0, letters = 0;
			for (;;) {
				n = decode(s, &c);
				if (!n)
					break;
				int apostrophe = (c == '\'' || c == 0x2019) && s[n] &&
						 (s[n] < 0x80 ? is_word(s[n]) : 1);
				if (!is_word(c) && !apostrophe)
					break;
				if (c < 0x80 && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))) {
					letters++;
					upper += c >= 'A' && c <= 'Z';
				}
				if (apostrophe)	/* don't, don’t: one spelling */
					c = '\'';
				if (len + n < sizeof t.text) {
					if (c == '\'') {
						t.text[len++] = '\'';
					} else if (c < 0x80) {
						char ch = (char)c;
						t.text[len++] = ch >= 'A' && ch <= 'Z' ? (char)(ch + 32) : ch;
					} else {
						memcpy(t.text + len, s, n);
						len += n;
					}
				}
				s += n;
			}
			t.text[len] = 0;
			t.caps = letters >= 2 && upper == letters;
			if (fn(&t, ud))
				return;
			continue;
		}
		if (c == '!' || c == '?' || c == '.' || c == ',' || c == ';' || c == ':') {
			if (emit_punct((char)c, fn, ud))
				return;
		}
		s += n;
	}
	if (prev_cjk && lone) {
		text_token t = {.kind = TOK_CJK};
		memcpy(t.text, prev_cjk, prev_len);
		t.text[prev_len] = 0;
		fn(&t, ud);
	}
}
