/* What the fuzz targets share: the input as a NUL-terminated copy, and a
 * scratch file to hand it to code that reads files. */
#ifndef PATRON_FUZZ_COMMON_H
#define PATRON_FUZZ_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* DATA as a C string (its NULs end it early, as for any C caller). */
static inline char *text_of(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	if (!s)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/* Writes DATA to DIR/NAME (DIR made once per process under /tmp). */
static inline const char *scratch_file(const char *name, const uint8_t *data, size_t size)
{
	static char dir[64], path[160];
	if (!dir[0]) {
		snprintf(dir, sizeof dir, "/tmp/patron-fuzz-XXXXXX");
		if (!mkdtemp(dir))
			abort();
	}
	snprintf(path, sizeof path, "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(data, 1, size, f) != size || fclose(f) != 0)
		abort();
	return path;
}

static inline const char *scratch_dir(void)
{
	static char path[160];
	strcpy(path, scratch_file(".keep", (const uint8_t *)"", 0));
	*strrchr(path, '/') = '\0';
	return path;
}

#endif
