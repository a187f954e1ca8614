/* Work split over the two cores, for the plugins' maths. Header only: a
 * plugin is one shared object and links nothing of another's.
 *
 * plugin_parallel(fn, arg, threads) runs fn(arg, part, parts) for every
 * part: with threads >= 2, parts 1 and 0 of 2 at once (part 1 on a new
 * thread, part 0 on the caller's); else part 0 of 1. When no thread can be
 * made it runs both parts of 2 one after the other, so the split, and the
 * result, never depend on whether the thread was made. */
#ifndef PATRON_PLUGIN_PARALLEL_H
#define PATRON_PLUGIN_PARALLEL_H

#include <pthread.h>
#include <stddef.h>

typedef void (*plugin_part_fn)(void *arg, size_t part, size_t parts);

struct plugin_part {
	plugin_part_fn fn;
	void *arg;
};

static inline void *plugin_second_part(void *p)
{
	struct plugin_part *s = p;
	s->fn(s->arg, 1, 2);
	return NULL;
}

static inline void plugin_parallel(plugin_part_fn fn, void *arg, int threads)
{
	if (threads < 2) {
		fn(arg, 0, 1);
		return;
	}
	struct plugin_part second = {fn, arg};
	pthread_t tid;
	int spawned = pthread_create(&tid, NULL, plugin_second_part, &second) == 0;
	if (!spawned)
		fn(arg, 1, 2);
	fn(arg, 0, 2);
	if (spawned)
		pthread_join(tid, NULL);
}

#endif
