/* Emails as RFC 5322 text: headers encoded (RFC 2047) where they hold more
 * than ASCII, bodies quoted-printable (RFC 2045), text and HTML together as
 * multipart/alternative, CRLF line ends throughout. */
#ifndef PATRON_MIME_H
#define PATRON_MIME_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

typedef struct {
	const char *from;		/* "Shop <hi@shop.example>" or "hi@shop.example" */
	const char *to;			/* the address */
	const char *to_name;		/* the display name, or NULL */
	const char *subject;		/* NULL: no Subject header */
	const char *text;		/* never NULL */
	const char *html;		/* NULL: a text-only email */
	const char *message_id;		/* "<...@...>" */
	const char *list_unsubscribe;	/* the header's value, or NULL */
	int one_click;			/* List-Unsubscribe-Post (RFC 8058) */
	const char *in_reply_to;	/* an answer: the "<id>" it answers, or NULL */
	const char *references;		/* and the conversation's ids, space-separated */
	int64_t date;			/* Unix seconds */
} patron_email;

/* The whole email, NUL-terminated; *LEN its length. */
char *patron_mime_compose(const patron_email *e, size_t *len);

/* "<HASH@DOMAIN>": HASH the 32 hex digits of the BLAKE2b-128 of KEY (the
 * message's idempotency key), so each key gives one Message-ID that says
 * nothing of the rule, the template or the customer. */
void patron_message_id(patron_buf *out, const char *key, const char *domain);

/* The address inside FROM ("Shop <a@b>" -> "a@b"), into OUT. */
void patron_mail_address(const char *from, char *out, size_t cap);

/* Appends S as a header value: as it is when plain ASCII, else as RFC 2047
 * encoded words (UTF-8, base64) folded to fit the line limit. */
void patron_header_encode(patron_buf *b, const char *s);

#endif
