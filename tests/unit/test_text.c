/* What customers write: the tokenizer the text analyzers share, the
 * lexicon's sentiment on hand-labelled sentences, and naive Bayes on a
 * corpus small enough to work out by hand. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../../plugins/lexicon/lexicon.h"
#include "../../plugins/text/text.h"
#include "../../plugins/text/tfidf.h"
#include "../../plugins/textnb/mnb.h"
#include "helpers.h"

static int collect(const text_token *t, void *ud)
{
	char *out = ud;
	if (*out)
		strcat(out, "|");
	if (t->kind == TOK_PUNCT) {
		size_t n = strlen(out);
		out[n] = t->mark;
		out[n + 1] = 0;
	} else {
		strcat(out, t->text);
		if (t->caps)
			strcat(out, "^");
	}
	return 0;
}

static const char *tokens(const char *s)
{
	static char out[1024];
	out[0] = 0;
	text_tokens(s, collect, out);
	return out;
}

START_TEST(text_is_split_into_words_pairs_and_marks)
{
	ck_assert_str_eq(tokens("Don't LOVE it, really!"), "don't|love^|it|,|really|!");
	ck_assert_str_eq(tokens("Don\u2019t"), "don't");	/* a typographic apostrophe */
	ck_assert_str_eq(tokens("Très bien, Müller"), "très|bien|,|müller");
	ck_assert_str_eq(tokens("质量很好"), "质量|量很|很好");
	ck_assert_str_eq(tokens("好!"), "好|!");
	ck_assert_str_eq(tokens("ok 很好 ok"), "ok|很好|ok");
	/* invalid UTF-8 is skipped, never split into a token */
	ck_assert_str_eq(tokens("a\xff\xfe b \xc3"), "a|b");
	ck_assert_str_eq(tokens(""), "");
}
END_TEST

START_TEST(the_lexicon_reads_negation_intensity_and_emphasis)
{
	ck_assert(lexicon_sorted());
	static const struct {
		const char *text;
		int sign;	/* hand-labelled: 1 positive, -1 negative, 0 neutral */
	} labelled[] = {
		{"Great quality, arrived fast!", 1},
		{"Really happy with the granola.", 1},
		{"Not bad at all", 1},
		{"not good", -1},
		{"Very disappointed with the gift box.", -1},
		{"The mug arrived damaged, please refund.", -1},
		{"The package was delivered on Tuesday.", 0},
		{"I would never recommend this shop", -1},
		{"It was not terrible, but the coffee was stale.", -1},
		{"Slow delivery but the tea is excellent", 1},
		{"", 0},
		{"质量很好", 0},	/* no Chinese in the word list: no opinion */
	};
	for (size_t i = 0; i < sizeof labelled / sizeof *labelled; i++) {
		double v = lexicon_score(labelled[i].text);
		ck_assert_msg(v >= -1 && v <= 1, "%s: %g", labelled[i].text, v);
		int sign = v > 0.05 ? 1 : v < -0.05 ? -1 : 0;
		ck_assert_msg(sign == labelled[i].sign, "\"%s\": %g, labelled %d", labelled[i].text, v,
			      labelled[i].sign);
	}
	/* stronger words, intensifiers, capitals and "!" move it further */
	ck_assert(lexicon_score("good") < lexicon_score("very good"));
	ck_assert(lexicon_score("very good") < lexicon_score("very GOOD service"));
	ck_assert(lexicon_score("good") < lexicon_score("good!!"));
	ck_assert(lexicon_score("good!!!") == lexicon_score("good!!!!!!"));	/* three at most */
	ck_assert(lexicon_score("bad") > lexicon_score("terrible"));
	ck_assert(lexicon_score("slightly bad") > lexicon_score("bad"));
	/* a negation reaches three words, and stops at the end of a clause */
	ck_assert(lexicon_score("not very good") < 0);
	ck_assert(lexicon_score("no. good") > 0);
	/* all capitals is the writer's habit, not emphasis */
	ck_assert(fabs(lexicon_score("GOOD PRODUCT") - lexicon_score("good product")) < 1e-12);
	ck_assert(fabs(lexicon_valence("great") - 3.1) < 1e-12);
	ck_assert(lexicon_valence("granola") == 0);
}
END_TEST

START_TEST(naive_bayes_gives_the_hand_computed_answer)
{
	/* positive: "good good", "great"; negative: "bad", "bad good".
	 * Features good, great, bad (|V| = 3), alpha 1, priors 1/2 each:
	 *   P(good|+) = (2+1)/(3+3) = 1/2, P(bad|+) = 1/6
	 *   P(good|-) = (1+1)/(3+3) = 1/3, P(bad|-) = 1/2
	 * "good":    1/2 * 1/2 against 1/2 * 1/3   -> P(+) = 0.6
	 * "bad bad": (1/6)^2 against (1/2)^2       -> P(+) = 0.1 */
	mnb *m = mnb_new(1);
	mnb_add(m, "good good", 1);
	mnb_add(m, "great", 1);
	mnb_add(m, "bad", 0);
	mnb_add(m, "bad good", 0);
	ck_assert(fabs(mnb_positive(m, "good") - 0.6) < 1e-12);
	ck_assert(fabs(mnb_positive(m, "bad bad") - 0.1) < 1e-12);
	/* a word never seen says nothing: the prior, 1/2 */
	ck_assert(fabs(mnb_positive(m, "granola") - 0.5) < 1e-12);
	/* "not good" is the feature not_good, unseen: it is not "good" */
	ck_assert(fabs(mnb_positive(m, "not good") - 0.5) < 1e-12);
	/* the same model rebuilt from its counts scores the same */
	mnb *copy = mnb_new(1);
	size_t it = 0;
	const char *f;
	double neg, pos;
	while (mnb_next(m, &it, &f, &neg, &pos))
		mnb_set(copy, f, neg, pos);
	mnb_docs(m, &neg, &pos);
	mnb_set_docs(copy, neg, pos);
	ck_assert(fabs(mnb_positive(copy, "good") - 0.6) < 1e-12);
	mnb_free(copy);
	mnb_free(m);
	/* Chinese text learns from its character pairs */
	m = mnb_new(1);
	mnb_add(m, "质量很好", 1);
	mnb_add(m, "质量很差", 0);
	ck_assert(mnb_positive(m, "很好") > 0.5);
	ck_assert(mnb_positive(m, "很差") < 0.5);
	mnb_free(m);
}
END_TEST

static void join_feature(const char *f, void *ud)
{
	char *out = ud;
	if (*out)
		strcat(out, "|");
	strcat(out, f);
}

START_TEST(tfidf_weighs_words_pairs_and_trigrams_by_hand)
{
	char got[512] = "";
	tfidf_features("Don't stop! Go", join_feature, got);
	/* a mark ends the pairs; each word's 3-grams with a space at each end */
	ck_assert_str_eq(got, "w:don't|c: do|c:don|c:on'|c:n't|c:'t |w:stop|w:don't stop|c: st|"
			      "c:sto|c:top|c:op |w:go|c: go|c:go ");
	got[0] = 0;
	tfidf_features("Café", join_feature, got);	/* 3-grams of characters, not bytes */
	ck_assert_str_eq(got, "w:café|c: ca|c:caf|c:afé|c:fé ");

	/* "a" and "a b": idf ln(3/3) + 1 = 1 for what both have, ln(3/2) + 1
	 * for the rest; each group scaled to length 1 */
	const char *texts[] = {"a", "a b"};
	tfidf *t = tfidf_fit(2, texts);
	ck_assert_uint_eq(tfidf_size(t), 5);
	tfidf_row r = {0};
	tfidf_vector(t, "a b c", &r);	/* c is not in the vocabulary */
	ck_assert_uint_eq(r.n, 5);
	double want_word[3] = {0.4494364165239821, 0.6316672017376245, 0.6316672017376245};
	for (size_t i = 0; i < r.n; i++) {
		const char *f = tfidf_feature(t, r.idx[i]);
		double w = !strcmp(f, "w:a") ? want_word[0] : !strcmp(f, "w:b") ? want_word[1]
			   : !strcmp(f, "w:a b") ? want_word[2] : !strcmp(f, "c: a ") ? 0.5797386715376657
			   : !strcmp(f, "c: b ") ? 0.8148024746671689 : -1;
		ck_assert_msg(fabs(r.val[i] - w) < 1e-12, "%s: %g, expected %g", f, r.val[i], w);
		if (i)
			ck_assert_uint_lt(r.idx[i - 1], r.idx[i]);
	}
	/* a stored vocabulary gives the same vector */
	tfidf *u = tfidf_new();
	for (size_t i = 0; i < tfidf_size(t); i++)
		tfidf_add(u, tfidf_feature(t, i), tfidf_idf(t, i));
	tfidf_row r2 = {0};
	tfidf_vector(u, "a b c", &r2);
	ck_assert_uint_eq(r2.n, r.n);
	for (size_t i = 0; i < r.n; i++)
		ck_assert(fabs(r.val[i] - r2.val[i]) < 1e-15);
	tfidf_vector(u, "", &r2);
	ck_assert_uint_eq(r2.n, 0);
	tfidf_row_free(&r);
	tfidf_row_free(&r2);
	tfidf_free(t);
	tfidf_free(u);
}
END_TEST

Suite *suite_text(void)
{
	Suite *s = suite_create("text");
	TCase *t = tcase_create("text");
	tcase_add_test(t, text_is_split_into_words_pairs_and_marks);
	tcase_add_test(t, the_lexicon_reads_negation_intensity_and_emphasis);
	tcase_add_test(t, naive_bayes_gives_the_hand_computed_answer);
	tcase_add_test(t, tfidf_weighs_words_pairs_and_trigrams_by_hand);
	suite_add_tcase(s, t);
	return s;
}
