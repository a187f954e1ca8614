/* Plugins that must be refused, one per build flag, and good ones: TWIN
 * (built twice, so the second copy is a duplicate name) and OLD_ABI (a
 * plugin from an older minor version of the ABI). */
#include <patron/plugin.h>

static int init(const patron_host *host, patron_ctx *ctx, void **state)
{
	(void)host, (void)ctx;
	*state = 0;
#ifdef INIT_FAILS
	host->fail(ctx, "needs an api_key option");
	return -1;
#endif
	return 0;
}

static int run(void *state, patron_ctx *ctx)
{
	(void)state, (void)ctx;
	return 0;
}

static const patron_plugin descriptor = {
#if defined(BAD_ABI)
	.abi_major = 99,
	.abi_minor = 0,
	.size = sizeof(struct patron_plugin),
#elif defined(OLD_ABI)
	/* Built against ABI 1.0: its descriptor ends before train. */
	.abi_major = 1,
	.abi_minor = 0,
	.size = offsetof(struct patron_plugin, train),
#else
	PATRON_PLUGIN_ABI,
#endif
#if defined(INIT_FAILS)
	.name = "segment.grumpy",
#elif defined(OLD_ABI)
	.name = "segment.elder",
#elif defined(UNKNOWN_KIND)
	.name = "segment.odd",
#else
	.name = "segment.twin",
#endif
#ifdef UNKNOWN_KIND
	.kind = 42,
#else
	.kind = PATRON_KIND_SEGMENTER,
#endif
	.version = "0",
	.description = "a test plugin",
	.init = init,
	.run = run,
};

#ifdef NO_ENTRY
const patron_plugin *not_the_entry(void) { return &descriptor; }
#else
const patron_plugin *patron_plugin_entry(void) { return &descriptor; }
#endif
