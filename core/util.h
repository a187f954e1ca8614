/* Small helpers every part of the core uses: the error buffer, growable
 * buffers, and checked allocation. */
#ifndef PATRON_UTIL_H
#define PATRON_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* Every fallible function fills one of these; the CLI prints it as one line. */
#define PATRON_ERR_MAX 512
typedef struct {
	char msg[PATRON_ERR_MAX];
} patron_err;

/* Formats into err (when not NULL) and returns -1, so callers write
 * `return patron_err_set(err, "...")`. */
int patron_err_set(patron_err *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Allocation that cannot return NULL: on exhaustion it prints and aborts,
 * because no caller could do better than losing the whole command. */
void *patron_xmalloc(size_t n);
void *patron_xcalloc(size_t n, size_t size);
void *patron_xrealloc(void *p, size_t n);
char *patron_xstrdup(const char *s);

/* A growable byte buffer, always NUL-terminated after its len bytes. */
typedef struct {
	char *data;
	size_t len, cap;
} patron_buf;

void patron_buf_reserve(patron_buf *b, size_t extra);
void patron_buf_add(patron_buf *b, const void *p, size_t n);
void patron_buf_adds(patron_buf *b, const char *s);
/* Appends V in decimal, without printf (which costs more than the rest of
 * writing a number, and bulk writers make millions of them). */
void patron_buf_add_int(patron_buf *b, int64_t v);
void patron_buf_printf(patron_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void patron_buf_clear(patron_buf *b);
void patron_buf_free(patron_buf *b);

/* Monotonic seconds, for progress and timing. */
double patron_clock(void);

/* IN as it can be shown in a one-line message: control characters, quotes
 * and backslashes escaped (\n, \x01), cut to fit CAP bytes. */
void patron_escape(const char *in, char *out, size_t cap);

/* The bytes of secret file PATH (a key, a passphrase, a password) into BUF,
 * NUL-terminated, *LEN of them: refused, named, when anyone but its owner
 * may read the file, or when it holds CAP bytes or more. */
int patron_read_secret(const char *path, char *buf, size_t cap, size_t *len, patron_err *err);

/* Text's bytes: the length of the valid UTF-8 sequence at P (N bytes left;
 * overlong forms, surrogates and code points past U+10FFFF are not), or 0;
 * code point CP appended as UTF-8 (U+FFFD for 0, a surrogate or one past
 * U+10FFFF); and the character of Windows-1252 byte C (0 for the five it
 * leaves unassigned; a byte outside 0x80-0x9F is its ISO-8859-1 self). */
size_t patron_utf8_len(const unsigned char *p, size_t n);
void patron_utf8_put(patron_buf *b, uint32_t cp);
uint32_t patron_cp1252(unsigned char c);

#endif
