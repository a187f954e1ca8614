/* The shop's answers to the questions it is asked most: the Markdown
 * files of a folder (faq/ beside the store), each
 *
 *     # How long does shipping take?
 *     - When will my order arrive?
 *     - how many days for delivery
 *
 *     Standard shipping takes 3 to 5 working days, {{first_name | "friend"}}.
 *
 * a question, its other wordings, and the answer (everything after them,
 * {{first_name}}, {{order}}, {{order_date}}, {{order_total}} and
 * {{order_status}} filled in). A customer's message finds the entries
 * whose question and wordings match it best by Okapi BM25 (Robertson and
 * Zaragoza, "The Probabilistic Relevance Framework: BM25 and Beyond", 2009):
 * for each distinct word q of the message found in entry D,
 *     idf(q) tf(q, D) (k1 + 1) / (tf(q, D) + k1 (1 - b + b |D| / avgdl)),
 * idf(q) = ln(1 + (N - n(q) + 0.5) / (n(q) + 0.5)), k1 = 1.2, b = 0.75,
 * words as the text analyzers read them (lower-cased, CJK as pairs). */
#ifndef PATRON_FAQ_H
#define PATRON_FAQ_H

#include <stddef.h>

#include "../util.h"

typedef struct patron_faq patron_faq;


typedef struct {
	size_t entry;
	double score;
} patron_faq_hit;

/* Reads the .md files of DIR in name order. A missing folder is an empty FAQ;
 * a file without its "# question" line is refused, naming it. */
int patron_faq_load(const char *dir, patron_faq **out, patron_err *err);
void patron_faq_free(patron_faq *f);
/* The shop's FAQ: inbox.faq of CFG (relative to the folder of the store at
 * STORE_PATH), default faq/ beside the store. */
struct patron_config;
int patron_faq_load_for(const struct patron_config *cfg, const char *store_path,
			patron_faq **out, patron_err *err);

size_t patron_faq_size(const patron_faq *f);
const char *patron_faq_name(const patron_faq *f, size_t i);	/* the file's name, no .md */
const char *patron_faq_question(const patron_faq *f, size_t i);
const char *patron_faq_answer(const patron_faq *f, size_t i);

/* The K best entries for TEXT, best first, those scoring above 0; how many. */
size_t patron_faq_search(const patron_faq *f, const char *text, patron_faq_hit *hits, size_t k);

/* ANSWER with its {{first_name}} and {{order...}} filled in from VARS
 * (name, value pairs, NULL-terminated), appended to OUT; a field not given
 * or empty is left empty, or takes its default: {{first_name | "there"}}. */
void patron_faq_fill(const char *answer, const char *const *vars, patron_buf *out);

#endif
