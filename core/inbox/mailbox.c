/* Where messages come from: a Maildir, a folder of message files, an mbox
 * file, or one message file. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "inbox.h"

#define MESSAGE_MAX (64u << 20)	/* a message bigger than this is refused */

/* The bytes of PATH, mapped: *LEN of them (NULL and 0 for an empty file). */
static int map_file(const char *path, const char **data, size_t *len, patron_err *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat sb;
	if (fd < 0 || fstat(fd, &sb) < 0) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		return patron_err_set(err, "%s: cannot read it: %s", path, strerror(e));
	}
	*data = NULL;
	*len = (size_t)sb.st_size;
	if (*len) {
		void *p = mmap(NULL, *len, PROT_READ, MAP_PRIVATE, fd, 0);
		if (p == MAP_FAILED) {
			int e = errno;
			close(fd);
			return patron_err_set(err, "%s: cannot read it: %s", path, strerror(e));
		}
		*data = p;
	}
	close(fd);
	return 0;
}

static int one_file(const char *path, patron_mail_fn fn, void *ud, patron_err *err)
{
	const char *d;
	size_t n;
	if (map_file(path, &d, &n, err) < 0)
		return -1;
	int rc = 0;
	if (n > MESSAGE_MAX)
		rc = patron_err_set(err, "%s: %zu bytes: a message of at most %u MiB was expected",
				    path, n, MESSAGE_MAX >> 20);
	else if (n)
		rc = fn(d, n, ud, err);
	if (d)
		munmap((void *)d, n);
	return rc;
}

/* A line that starts a message of an mbox: "From " at the start of the
 * file or after an empty line, followed by the sender and a date. */
static int from_line(const char *d, size_t n, size_t i)
{
	if (n - i < 5 || memcmp(d + i, "From ", 5) != 0)
		return 0;
	if (i > 0 && !(d[i - 1] == '\n' && (i < 2 || d[i - 2] == '\n' ||
					    (d[i - 2] == '\r' && i >= 3 && d[i - 3] == '\n'))))
		return 0;
	const char *nl = memchr(d + i, '\n', n - i);
	size_t end = nl ? (size_t)(nl - d) : n;
	for (size_t k = i + 5; k < end; k++)
		if (d[k] >= '0' && d[k] <= '9')
			return 1;	/* the date's digits */
	return 0;
}

/* The messages of an mbox, each without its "From " line and with the
 * ">From " quoting of its lines undone (mboxrd). */
static int mbox(const char *path, const char *d, size_t n, patron_mail_fn fn, void *ud,
		patron_err *err)
{
	patron_buf msg = {0};
	size_t i = 0;
	int rc = 0;
	while (i < n && rc == 0) {
		const char *nl = memchr(d + i, '\n', n - i);
		size_t start = nl ? (size_t)(nl - d) + 1 : n, end = start;
		while (end < n && !from_line(d, n, end)) {
			const char *e = memchr(d + end, '\n', n - end);
			end = e ? (size_t)(e - d) + 1 : n;
		}
		patron_buf_clear(&msg);
		for (size_t k = start; k < end;) {
			const char *e = memchr(d + k, '\n', end - k);
			size_t stop = e ? (size_t)(e - d) + 1 : end, q = k;
			while (q < stop && d[q] == '>')
				q++;
			if (q > k && stop - q >= 5 && memcmp(d + q, "From ", 5) == 0)
				k++;
			patron_buf_add(&msg, d + k, stop - k);
			k = stop;
		}
		if (msg.len > MESSAGE_MAX)
			rc = patron_err_set(err, "%s: a message at byte %zu is %zu bytes: at most %u "
					    "MiB was expected", path, i, msg.len, MESSAGE_MAX >> 20);
		else if (msg.len)
			rc = fn(msg.data, msg.len, ud, err);
		i = end;
	}
	patron_buf_free(&msg);
	return rc;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The files of DIR (not hidden, not folders) appended to NAMES. */
static int list_dir(const char *dir, char ***names, size_t *n, patron_err *err)
{
	DIR *dp = opendir(dir);
	if (!dp)
		return patron_err_set(err, "%s: cannot read it: %s", dir, strerror(errno));
	struct dirent *de;
	while ((de = readdir(dp))) {
		if (de->d_name[0] == '.')
			continue;
		patron_buf p = {0};
		patron_buf_printf(&p, "%s/%s", dir, de->d_name);
		struct stat sb;
		if (stat(p.data, &sb) < 0 || !S_ISREG(sb.st_mode)) {
			patron_buf_free(&p);
			continue;
		}
		*names = patron_xrealloc(*names, (*n + 1) * sizeof **names);
		(*names)[(*n)++] = p.data;
	}
	closedir(dp);
	return 0;
}

/* A Maildir's file names start with the delivery time ("1606745254.M1P2.host"),
 * so by name is by arrival, whichever of new/ and cur/ holds them. */
static int by_base_name(const void *a, const void *b)
{
	const char *x = strrchr(*(char *const *)a, '/'), *y = strrchr(*(char *const *)b, '/');
	int c = strcmp(x ? x : "", y ? y : "");
	return c ? c : by_name(a, b);
}

int patron_mailbox_read(const char *path, patron_mail_fn fn, void *ud, patron_err *err)
{
	struct stat sb;
	if (stat(path, &sb) < 0)
		return patron_err_set(err, "%s: cannot read it: %s", path, strerror(errno));
	if (!S_ISDIR(sb.st_mode)) {
		const char *d;
		size_t n;
		if (map_file(path, &d, &n, err) < 0)
			return -1;
		int rc;
		if (n >= 5 && memcmp(d, "From ", 5) == 0)
			rc = mbox(path, d, n, fn, ud, err);
		else if (n > MESSAGE_MAX)
			rc = patron_err_set(err, "%s: %zu bytes: a message of at most %u MiB was "
					    "expected (or an mbox, starting with a \"From \" line)",
					    path, n, MESSAGE_MAX >> 20);
		else
			rc = n ? fn(d, n, ud, err) : 0;
		if (d)
			munmap((void *)d, n);
		return rc;
	}
	char **names = NULL;
	size_t n = 0;
	patron_buf sub = {0};
	int maildir = 0, rc = 0;
	for (int k = 0; k < 2 && rc == 0; k++) {
		patron_buf_clear(&sub);
		patron_buf_printf(&sub, "%s/%s", path, k ? "cur" : "new");
		if (stat(sub.data, &sb) == 0 && S_ISDIR(sb.st_mode)) {
			maildir = 1;
			rc = list_dir(sub.data, &names, &n, err);
		}
	}
	if (!maildir && rc == 0)
		rc = list_dir(path, &names, &n, err);
	patron_buf_free(&sub);
	if (rc == 0 && n)
		qsort(names, n, sizeof *names, maildir ? by_base_name : by_name);
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = one_file(names[i], fn, ud, err);
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return rc;
}
