/* Plugins that crash, for the tests of a crash's containment. CHANNEL: a
 * channel "crashy" that delivers every message (a line each in the file
 * named by its `log` option) but faults on one addressed to a name starting
 * with "crash". SEGMENTER: "segment.crashy", which faults in run. */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <patron/plugin.h>

static int init(const patron_host *host, patron_ctx *ctx, void **state)
{
	*state = (void *)(host->option_string ? host->option_string(ctx, "log") : NULL);
	return 0;
}

static void fault(void)
{
	raise(SIGSEGV);	/* as a null dereference would, without the undefined behaviour */
}

#ifdef CHANNEL
static int deliver(void *state, patron_ctx *ctx, const patron_message *m)
{
	(void)ctx;
	if (strncmp(m->to, "crash", 5) == 0)
		fault();
	FILE *f = state ? fopen(state, "a") : NULL;
	if (f) {
		fprintf(f, "%s\n", m->to);
		fclose(f);
	}
	return PATRON_DELIVERED;
}
#else
static int run(void *state, patron_ctx *ctx)
{
	(void)state, (void)ctx;
	fault();
	return 0;
}
#endif

static const char *const options[] = {"log", NULL};

static const patron_plugin descriptor = {
	PATRON_PLUGIN_ABI,
#ifdef CHANNEL
	.name = "channel.crashy",
	.kind = PATRON_KIND_CHANNEL,
	.deliver = deliver,
#else
	.name = "segment.crashy",
	.kind = PATRON_KIND_SEGMENTER,
	.run = run,
#endif
	.version = "0",
	.description = "a test plugin that crashes",
	.init = init,
	.options = options,
};

const patron_plugin *patron_plugin_entry(void) { return &descriptor; }
