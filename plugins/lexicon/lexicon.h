/* Sentiment by a lexicon with rules for how people write: each word of the
 * lexicon has a valence (-4 very negative .. +4 very positive); a negation
 * ("not", "never", "don't", ...) within the three words before flips and
 * damps it ("not good" is mildly negative, "not bad" mildly positive); an
 * intensifier ("very", "really") or a softener ("slightly", "a bit") just
 * before scales it; a word in capitals in text that is not all capitals
 * counts more; after "but" the words count more than before it; each "!"
 * (up to three) adds emphasis in the text's direction. The sum s becomes
 * s / sqrt(s^2 + 15), from -1 to 1. English only: text with no lexicon
 * word scores 0. */
#ifndef PATRON_LEXICON_H
#define PATRON_LEXICON_H

/* The valence of a lowercase word, or 0 when the lexicon lacks it. */
double lexicon_valence(const char *word);

/* 1 when the word list is in byte order, as the search needs. */
int lexicon_sorted(void);

/* The sentiment of TEXT, from -1 to 1. */
double lexicon_score(const char *text);

#endif
