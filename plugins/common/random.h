/* Reproducible random numbers for the plugins' maths: SplitMix64 (Steele,
 * Lea and Flood, 2014), one 64-bit state a stream, so a fixed seed gives
 * the same forest, network or factors on every machine. Header only. */
#ifndef PATRON_PLUGIN_RANDOM_H
#define PATRON_PLUGIN_RANDOM_H

#include <stdint.h>

/* The next number of the stream *S. */
static inline uint64_t plugin_random(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Uniform on [0, 1), 53 random bits. */
static inline double plugin_uniform(uint64_t *s)
{
	return (double)(plugin_random(s) >> 11) / 9007199254740992.0;
}

#endif
