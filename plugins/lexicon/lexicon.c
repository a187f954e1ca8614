/* sentiment.lexicon: the sentiment of what customers write, by Patron's
 * word list and its rules for negation, intensifiers and emphasis
 * (lexicon.h). Nothing to train, no options. */
#include <stdlib.h>

#include <patron/plugin.h>

#include "lexicon.h"

static int init(const patron_host *h, patron_ctx *ctx, void **state)
{
	(void)h, (void)ctx;
	*state = NULL;
	return 0;
}

static int analyze(void *state, patron_ctx *ctx, size_t n, const char *const *texts,
		   double *out)
{
	(void)state, (void)ctx;
	for (size_t i = 0; i < n; i++)
		out[i] = lexicon_score(texts[i] ? texts[i] : "");
	return 0;
}

static const char *const options[] = {NULL};

static const patron_plugin plugin = {
	PATRON_PLUGIN_ABI,
	.name = "sentiment.lexicon",
	.kind = PATRON_KIND_ANALYZER,
	.version = "1.0",
	.description = "sentiment by a word list, with negation, intensifiers and emphasis",
	.init = init,
	.options = options,
	.analyze = analyze,
};

const patron_plugin *patron_plugin_entry(void) { return &plugin; }
