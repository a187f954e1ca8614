#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int patron_err_set(patron_err *err, const char *fmt, ...)
{
	if (err) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof err->msg, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static void out_of_memory(size_t n)
{
	fprintf(stderr, "patron: out of memory (asked for %zu bytes)\n", n);
	abort();
}

void *patron_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		out_of_memory(n);
	return p;
}

void *patron_xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (!p)
		out_of_memory(n * size);
	return p;
}

void *patron_xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (!q)
		out_of_memory(n);
	return q;
}

char *patron_xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;
	return memcpy(patron_xmalloc(n), s, n);
}

void patron_buf_reserve(patron_buf *b, size_t extra)
{
	if (b->len + extra + 1 <= b->cap)
		return;
	size_t cap = b->cap ? b->cap : 64;
	while (cap < b->len + extra + 1)
		cap *= 2;
	b->data = patron_xrealloc(b->data, cap);
	b->cap = cap;
}

void patron_buf_add(patron_buf *b, const void *p, size_t n)
{
	patron_buf_reserve(b, n);
	memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void patron_buf_adds(patron_buf *b, const char *s)
{
	patron_buf_add(b, s, strlen(s));
}

void patron_buf_add_int(patron_buf *b, int64_t v)
{
	char d[24], *p = d + sizeof d;
	uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
	do
		*--p = (char)('0' + u % 10);
	while (u /= 10);
	if (v < 0)
		*--p = '-';
	patron_buf_add(b, p, (size_t)(d + sizeof d - p));
}

void patron_buf_printf(patron_buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	patron_buf_reserve(b, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

void patron_buf_clear(patron_buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

void patron_buf_free(patron_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

double patron_clock(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void patron_escape(const char *in, char *out, size_t cap)
{
	size_t n = 0;
	const unsigned char *p = (const unsigned char *)in;
	if (!cap)
		return;
	for (; *p && n + 5 < cap; p++) {
		switch (*p) {
		case '\n': out[n++] = '\\', out[n++] = 'n'; break;
		case '\r': out[n++] = '\\', out[n++] = 'r'; break;
		case '\t': out[n++] = '\\', out[n++] = 't'; break;
		case '"': out[n++] = '\\', out[n++] = '"'; break;
		case '\\': out[n++] = '\\', out[n++] = '\\'; break;
		default:
			if (*p < 0x20 || *p == 0x7f)
				n += (size_t)snprintf(out + n, cap - n, "\\x%02x", *p);
			else
				out[n++] = (char)*p;
		}
	}
	/* A cut value ends on a whole UTF-8 character. */
	if (*p)
		while (n && ((unsigned char)out[n - 1] & 0x80)) {
			unsigned char c = (unsigned char)out[--n];
			if ((c & 0xc0) == 0xc0)
				break;
		}
	out[n] = '\0';
}

int patron_read_secret(const char *path, char *buf, size_t cap, size_t *len, patron_err *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		return patron_err_set(err, "%s: cannot read: %s", path, strerror(e));
	}
	if (st.st_mode & 077) {
		close(fd);
		return patron_err_set(err, "%s: readable by others (mode %03o): a secret must be "
				      "readable by its owner only (chmod 600 %s)", path,
				      (unsigned)(st.st_mode & 0777), path);
	}
	ssize_t n = read(fd, buf, cap);
	int e = errno;
	close(fd);
	if (n < 0)
		return patron_err_set(err, "%s: cannot read: %s", path, strerror(e));
	if ((size_t)n == cap)
		return patron_err_set(err, "%s: longer than %zu bytes", path, cap - 1);
	buf[n] = '\0';
	*len = (size_t)n;
	return 0;
}

size_t patron_utf8_len(const unsigned char *p, size_t n)
{
	size_t len;
	uint32_t cp;
	if (p[0] < 0x80)
		return 1;
	if ((p[0] & 0xe0) == 0xc0)
		len = 2, cp = p[0] & 0x1f;
	else if ((p[0] & 0xf0) == 0xe0)
		len = 3, cp = p[0] & 0x0f;
	else if ((p[0] & 0xf8) == 0xf0)
		len = 4, cp = p[0] & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	/* overlong forms, surrogates and code points past Unicode's end */
	if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return len;
}

void patron_utf8_put(patron_buf *b, uint32_t cp)
{
	char u[4];
	if (cp == 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		cp = 0xfffd;
	if (cp < 0x80) {
		u[0] = (char)cp;
		patron_buf_add(b, u, 1);
	} else if (cp < 0x800) {
		u[0] = (char)(0xc0 | cp >> 6), u[1] = (char)(0x80 | (cp & 0x3f));
		patron_buf_add(b, u, 2);
	} else if (cp < 0x10000) {
		u[0] = (char)(0xe0 | cp >> 12), u[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		u[2] = (char)(0x80 | (cp & 0x3f));
		patron_buf_add(b, u, 3);
	} else {
		u[0] = (char)(0xf0 | cp >> 18), u[1] = (char)(0x80 | (cp >> 12 & 0x3f));
		u[2] = (char)(0x80 | (cp >> 6 & 0x3f)), u[3] = (char)(0x80 | (cp & 0x3f));
		patron_buf_add(b, u, 4);
	}
}

uint32_t patron_cp1252(unsigned char c)
{
	static const uint16_t high[32] = {	/* 0x80-0x9f */
		0x20ac, 0, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021,
		0x02c6, 0x2030, 0x0160, 0x2039, 0x0152, 0, 0x017d, 0,
		0, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014,
		0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0, 0x017e, 0x0178,
	};
	return c >= 0x80 && c < 0xa0 ? high[c - 0x80] : c;
}
