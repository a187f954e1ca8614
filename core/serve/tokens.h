/* The links an email carries back to patron serve: an open pixel
 * (/t/o/TOKEN) and each link rewritten (/t/c/TOKEN). A token names the
 * outbox message (and for a click the original address) and is signed with
 * the store's tracking key (HMAC-SHA256, 128 bits kept), so a tampered
 * token is refused and the server never redirects where no email pointed:
 *   open  "ID.MAC"          click  "ID.BASE64URL(URL).MAC"
 * Pure functions of the key: nothing here touches the store. */
#ifndef PATRON_SERVE_TOKENS_H
#define PATRON_SERVE_TOKENS_H

#include <stddef.h>
#include <stdint.h>

#include "../util.h"

/* The longest address a click token carries. */
#define PATRON_TRACK_URL_MAX 2048

/* The first 16 bytes of the HMAC-SHA256 of TEXT under KEY, base64url
 * without padding (22 characters), into OUT: what every token and cookie
 * of patron serve is signed with. */
void patron_mac16(const unsigned char key[32], const char *text, size_t len, char out[32]);

/* Appends the token for message ID (URL NULL: the open pixel's). */
void patron_track_token(const unsigned char key[32], int64_t id, const char *url,
			patron_buf *out);
/* 1 with *ID (and URL, CAP bytes, for a click token) when TOKEN is genuine
 * and of the kind asked (CLICK 1 or 0); else 0. */
int patron_track_check(const unsigned char key[32], const char *token, int click, int64_t *id,
		       char *url, size_t cap);

/* HTML with every http(s) link but SKIP (the unsubscribe link) pointing at
 * BASE/t/c/TOKEN and an open pixel BASE/t/o/TOKEN before </body> (or at the
 * end): appended to OUT. */
void patron_track_html(const unsigned char key[32], const char *base, int64_t id,
		       const char *html, const char *skip, patron_buf *out);

#endif
