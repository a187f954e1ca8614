/* A secret (a password, a signing key) read from a file that only its owner
 * may read: a file others can read is refused, named, so a secret never
 * sits where another account could copy it. Header-only: each plugin that
 * takes one compiles it in. */
#ifndef PATRON_PLUGIN_SECRET_H
#define PATRON_PLUGIN_SECRET_H

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <patron/plugin.h>

/* The first line of PATH (malloc'd), or NULL with host->fail saying why;
 * OPTION names the option that gave the path. */
static inline char *secret_from_file(const patron_host *host, patron_ctx *ctx,
				     const char *option, const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0) {
		host->fail(ctx, "option %s: %s: cannot read: %s", option, path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	if (st.st_mode & 077) {
		close(fd);
		host->fail(ctx, "option %s: %s: readable by others (mode %03o): a secret must be "
			   "readable by its owner only (chmod 600 %s)", option, path,
			   (unsigned)(st.st_mode & 0777), path);
		return NULL;
	}
	char buf[4096];
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n < 0)
		n = 0;
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	if (!buf[0]) {
		host->fail(ctx, "option %s: %s: empty", option, path);
		return NULL;
	}
	char *s = strdup(buf);
	memset(buf, 0, sizeof buf);
	return s;
}

/* Refuses a secret written in patron.conf itself as option NAME (which
 * others may read): it belongs in NAME_env or NAME_file. -1 when refused. */
static inline int secret_not_inline(const patron_host *host, patron_ctx *ctx, const char *name)
{
	if (!host->option_string(ctx, name))
		return 0;
	host->fail(ctx, "option %s: a %s does not belong in patron.conf; give %s_env (an "
		   "environment variable) or %s_file (a file only you can read)", name, name, name,
		   name);
	return -1;
}

#endif
