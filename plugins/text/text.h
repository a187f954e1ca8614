/* Tokens of what customers write, for the text analyzers: words (letters,
 * digits and inner apostrophes; ASCII lower-cased, other letters kept as
 * they are, so accented words stay whole), CJK text (Han, kana, Hangul) as
 * overlapping pairs of characters (a lone character as itself), and the
 * punctuation that ends a clause or adds emphasis. Invalid UTF-8 bytes are
 * skipped, never split into a token. */
#ifndef PATRON_TEXT_H
#define PATRON_TEXT_H

#include <stddef.h>

typedef enum { TOK_WORD, TOK_CJK, TOK_PUNCT } tok_kind;

typedef struct {
	tok_kind kind;
	char text[64];	/* lower-cased; a word longer than this is cut at a character */
	int caps;	/* a word written in capitals (two letters or more) */
	char mark;	/* TOK_PUNCT: '!', '?', '.', ',', ';' or ':' */
} text_token;

/* Calls FN for each token of S, in order; stops early when FN returns
 * nonzero. */
void text_tokens(const char *s, int (*fn)(const text_token *t, void *ud), void *ud);

#endif
