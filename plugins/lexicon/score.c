#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lexicon.h"
#include "text.h"

/* Patron's own word list, for what customers of a shop write. */
static const struct {
	const char *word;
	double v;
} words[] = {
	{"able", 0.5}, {"amazing", 3.3}, {"angry", -3.0}, {"annoyed", -2.2}, {"annoying", -2.3},
	{"appalling", -3.3}, {"appreciate", 2.2}, {"appreciated", 2.2}, {"awesome", 3.2},
	{"awful", -3.3}, {"bad", -2.5}, {"bargain", 1.8}, {"beautiful", 2.8},
	{"beautifully", 2.8}, {"best", 3.0}, {"better", 1.6}, {"bland", -1.4}, {"bliss", 3.0},
	{"broke", -2.2}, {"broken", -2.5}, {"bug", -1.5}, {"burnt", -2.0}, {"careful", 1.2},
	{"carefully", 1.5}, {"cheap", -0.8}, {"clean", 1.2}, {"complaint", -2.0},
	{"confused", -1.4}, {"confusing", -1.8}, {"cracked", -2.2}, {"crap", -3.0},
	{"crazy", -0.8}, {"damaged", -2.5}, {"decent", 1.0}, {"defective", -2.8}, {"delay", -1.6},
	{"delayed", -1.8}, {"delicious", 3.0}, {"delight", 3.0}, {"delighted", 3.2},
	{"dirty", -2.2}, {"disappointed", -2.4}, {"disappointing", -2.4},
	{"disappointment", -2.5}, {"disaster", -3.2}, {"disgusting", -3.4}, {"dislike", -2.0},
	{"easy", 1.6}, {"elegant", 2.3}, {"enjoy", 2.2}, {"enjoyed", 2.3}, {"excellent", 3.4},
	{"exceptional", 3.2}, {"expensive", -1.2}, {"fabulous", 3.3}, {"fail", -2.2},
	{"failed", -2.2}, {"fake", -2.5}, {"fantastic", 3.4}, {"fast", 1.5}, {"faulty", -2.6},
	{"favorite", 2.5}, {"favourite", 2.5}, {"fine", 0.8}, {"flawless", 3.0}, {"fresh", 1.5},
	{"friendly", 2.2}, {"frustrated", -2.4}, {"frustrating", -2.5}, {"fun", 2.2},
	{"generous", 2.3}, {"glad", 2.2}, {"good", 1.9}, {"gorgeous", 3.0}, {"grateful", 2.5},
	{"great", 3.1}, {"happy", 2.7}, {"hate", -3.0}, {"hated", -3.0}, {"helpful", 2.2},
	{"horrible", -3.4}, {"ideal", 2.4}, {"impressed", 2.6}, {"impressive", 2.6},
	{"incorrect", -2.0}, {"issue", -1.2}, {"issues", -1.3}, {"joke", -1.5}, {"junk", -2.8},
	{"kind", 1.6}, {"late", -1.5}, {"lousy", -2.8}, {"love", 3.2}, {"loved", 3.2},
	{"lovely", 2.8}, {"loves", 3.0}, {"mediocre", -1.4}, {"mess", -2.0}, {"messy", -1.8},
	{"missing", -1.8}, {"mistake", -1.8}, {"nice", 1.8}, {"nightmare", -3.2}, {"ok", 0.5},
	{"okay", 0.5}, {"outstanding", 3.4}, {"overpriced", -2.0}, {"pathetic", -3.0},
	{"perfect", 3.2}, {"perfectly", 3.0}, {"pleasant", 2.3}, {"pleased", 2.3},
	{"pleasure", 2.6}, {"poor", -2.2}, {"poorly", -2.2}, {"pricey", -1.0}, {"problem", -1.7},
	{"problems", -1.8}, {"prompt", 1.6}, {"quick", 1.2}, {"quickly", 1.2}, {"recommend", 2.0},
	{"recommended", 2.0}, {"refund", -1.0}, {"reliable", 2.0}, {"ridiculous", -2.2},
	{"rude", -2.8}, {"sad", -2.0}, {"satisfied", 2.2}, {"scam", -3.5}, {"shame", -2.0},
	{"slow", -1.5}, {"smooth", 1.2}, {"sorry", -0.8}, {"special", 1.5}, {"spoiled", -2.5},
	{"stale", -2.0}, {"stunning", 3.2}, {"superb", 3.3}, {"sure", 0.3}, {"sweet", 1.8},
	{"tasty", 2.6}, {"terrible", -3.4}, {"thank", 1.6}, {"thanks", 1.6}, {"thrilled", 3.2},
	{"torn", -1.8}, {"trouble", -1.8}, {"ugly", -2.5}, {"unacceptable", -3.0},
	{"unfortunately", -1.6}, {"unhappy", -2.5}, {"upset", -2.4}, {"useful", 1.8},
	{"useless", -2.8}, {"waste", -2.6}, {"wasted", -2.6}, {"weak", -1.6}, {"well", 1.1},
	{"wonderful", 3.2}, {"worse", -2.4}, {"worst", -3.4}, {"worth", 1.6}, {"worthless", -3.0},
	{"wow", 2.5}, {"wrong", -2.0},
};

/* Negations: the next three words are flipped and damped. */
static const char *const negations[] = {
	"not", "no", "never", "nothing", "none", "nobody", "nowhere", "neither", "nor",
	"cannot", "can't", "cant", "don't", "dont", "doesn't", "doesnt", "didn't", "didnt",
	"isn't", "isnt", "wasn't", "wasnt", "aren't", "arent", "weren't", "werent", "won't",
	"wont", "wouldn't", "wouldnt", "shouldn't", "couldn't", "couldnt", "haven't", "hasn't",
	"hadn't", "without", "hardly", "barely", "ain't", NULL,
};

static const struct {
	const char *word;
	double by;
} scalers[] = {
	{"very", 0.3}, {"really", 0.3}, {"so", 0.25}, {"extremely", 0.45}, {"super", 0.35},
	{"incredibly", 0.45}, {"absolutely", 0.4}, {"totally", 0.35}, {"completely", 0.4},
	{"highly", 0.35}, {"truly", 0.3}, {"most", 0.25}, {"too", 0.2}, {"utterly", 0.45},
	{"slightly", -0.3}, {"somewhat", -0.3}, {"bit", -0.3}, {"kinda", -0.3},
	{"fairly", -0.2}, {"rather", -0.15}, {"little", -0.25}, {"quite", 0.1},
};

#define NEGATION (-0.74)	/* a negated word: flipped, and weaker */
#define CAPS 0.733		/* added to a word written in capitals, in its direction */
#define EXCLAIM 0.292		/* each "!", up to three */
#define ALPHA 15.0		/* s / sqrt(s^2 + ALPHA) */

int lexicon_sorted(void)
{
	for (size_t i = 1; i < sizeof words / sizeof *words; i++)
		if (strcmp(words[i - 1].word, words[i].word) >= 0)
			return 0;
	return 1;
}

/* The list is in byte order (lexicon_sorted, checked by the tests). */
double lexicon_valence(const char *word)
{
	size_t lo = 0, hi = sizeof words / sizeof *words;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(words[mid].word, word);
		if (!c)
			return words[mid].v;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

static int listed(const char *const *list, const char *w)
{
	for (; *list; list++)
		if (strcmp(*list, w) == 0)
			return 1;
	return 0;
}

static double scaler(const char *w)
{
	for (size_t i = 0; i < sizeof scalers / sizeof *scalers; i++)
		if (strcmp(scalers[i].word, w) == 0)
			return scalers[i].by;
	return 0;
}

typedef struct {
	double before, after;	/* sums before and after "but" */
	int but;
	int negated;		/* words left in a negation's reach */
	double scale;		/* from the word just before */
	int exclaim;
	int words, caps_words;
	int shouting;		/* the whole text in capitals: capitals say nothing */
} state;

static int count_caps(const text_token *t, void *ud)
{
	state *s = ud;
	if (t->kind == TOK_WORD && t->text[0] >= 'a' && t->text[0] <= 'z') {
		s->words++;
		s->caps_words += t->caps;
	}
	return 0;
}

static int step(const text_token *t, void *ud)
{
	state *s = ud;
	if (t->kind == TOK_PUNCT) {
		if (t->mark == '!')
			s->exclaim++;
		if (t->mark != '!' || s->negated)	/* a clause ends a negation's reach */
			s->negated = 0;
		s->scale = 0;
		return 0;
	}
	if (t->kind != TOK_WORD)
		return 0;
	const char *w = t->text;
	if (strcmp(w, "but") == 0) {
		s->but = 1;
		s->negated = 0;
		s->scale = 0;
		return 0;
	}
	if (listed(negations, w)) {
		s->negated = 3;
		s->scale = 0;
		return 0;
	}
	double by = scaler(w);
	double v = lexicon_valence(w);
	if (by != 0 && v == 0) {	/* "very" in "very good": the next word's */
		s->scale += by;
		if (s->negated)
			s->negated++;	/* "not very good": the scaler is inside the reach */
		if (s->negated > 3)
			s->negated = 3;
		return 0;
	}
	if (v != 0) {
		v += (v > 0 ? 1 : -1) * fabs(v) * s->scale;
		if (t->caps && !s->shouting)
			v += v > 0 ? CAPS : -CAPS;
		if (s->negated)
			v *= NEGATION;
		if (s->but)
			s->after += v;
		else
			s->before += v;
	}
	s->scale = 0;
	if (s->negated)
		s->negated--;
	return 0;
}

double lexicon_score(const char *text)
{
	state s = {0};
	text_tokens(text, count_caps, &s);
	s.shouting = s.words > 1 && s.caps_words == s.words;
	text_tokens(text, step, &s);
	double sum = s.but ? 0.5 * s.before + 1.5 * s.after : s.before;
	if (sum != 0) {
		int e = s.exclaim > 3 ? 3 : s.exclaim;
		sum += (sum > 0 ? 1 : -1) * EXCLAIM * e;
	}
	return sum / sqrt(sum * sum + ALPHA);
}
