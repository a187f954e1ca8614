/* Reading what customers write by email: an RFC 5322 message with its MIME
 * parts (RFC 2045-2047) turned into the few things the inbox keeps, as
 * UTF-8 text. Built for mail as it arrives in the wild: folded and encoded
 * headers, any charset iconv knows (8-bit text that is not UTF-8 read as
 * Windows-1252), bare LF line ends, missing or broken boundaries. Nothing
 * here fails on bad input: what cannot be read is left out. */
#ifndef PATRON_MAIL_H
#define PATRON_MAIL_H

#include <stddef.h>
#include <stdint.h>

#include "../util.h"

typedef struct {
	char *message_id;	/* "<id@host>", or NULL when the message has none */
	char *in_reply_to;	/* the first "<...>" of In-Reply-To, or NULL */
	char *references;	/* References' ids, space-separated, oldest first, or NULL */
	char *from_addr;	/* the sender's address as written, or NULL */
	char *from_name;	/* the display name, decoded, or NULL */
	char *subject;		/* decoded; "" when missing */
	int64_t date;		/* Unix seconds from Date, or 0 when missing or unreadable */
	char *text;		/* the body as text: text/plain parts, else the HTML's text */
	char *reply;		/* TEXT without the quoted earlier messages and signature */
	size_t attachments;	/* parts left out: files, forwarded messages, images */
	/* Set for a message no person wrote to the shop (a bounce, an
	 * out-of-office answer, a mailing list): says which header said so. */
	const char *automatic;
} patron_mail;

/* Reads the LEN bytes at DATA. Every string of OUT is owned by it. */
void patron_mail_parse(const char *data, size_t len, patron_mail *out);
void patron_mail_free(patron_mail *m);

/* A header's value as text: encoded words (RFC 2047, B and Q, in any
 * charset) decoded, folds joined, 8-bit bytes made UTF-8. Appended to OUT. */
void patron_mail_decode_header(const char *value, size_t len, patron_buf *out);

/* An RFC 5322 date ("Mon, 30 Nov 2026 14:07:34 +0100", the obsolete zone
 * names and two-digit years too) as Unix seconds; -1 when it is not one. */
int64_t patron_mail_date(const char *s);

/* The reply part of a message's TEXT: quoted lines ("> ..."), the
 * quoted message after "On ... wrote:", "-----Original Message-----" or an
 * Outlook "From:/Sent:" block, and the signature after "-- " left out.
 * Appended to OUT; when that leaves nothing, the whole TEXT is. */
void patron_mail_reply_text(const char *text, patron_buf *out);

/* "Re: Re: [Shop] Fwd: Where is my order" -> "Where is my order", into
 * OUT: the subject two messages of one conversation share. */
void patron_mail_base_subject(const char *subject, char *out, size_t cap);

#endif
