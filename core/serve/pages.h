/* The pages patron serve shows: plain server-rendered HTML, every value
 * escaped, no script. */
#ifndef PATRON_SERVE_PAGES_H
#define PATRON_SERVE_PAGES_H

#include <stdint.h>

#include "../store.h"
#include "../util.h"

/* A page with a heading and a line of text. SHOP may be NULL. */
void patron_page_message(patron_buf *b, const char *shop, const char *heading,
			 const char *text);
/* The login form; NEXT is where it leads, ERROR shown when not NULL. */
void patron_page_login(patron_buf *b, const char *shop, const char *next, const char *error);
/* The unsubscribe confirmation for customer CID's CHANNEL: one button for
 * it, one for every message. Posts back to /u/TOKEN. */
/* A survey's answer SCORE from link TOKEN: the form that records it (with
 * room for a comment), or, once RECORDED, the thanks. */
void patron_page_survey(patron_buf *b, const char *shop, const char *token, int score,
			int recorded);
void patron_page_unsubscribe(patron_buf *b, const char *shop, patron_store *s, int64_t cid,
			     const char *channel, const char *token);
/* The report REPORT with the owner's bar (refresh, log out) after <body>. */
void patron_page_wrap_report(patron_buf *b, const patron_buf *report, const char *csrf);
/* Customer ID's page: profile, orders, recent events. 0 when there is no
 * such customer (a not-found page written instead). */
int patron_page_customer(patron_buf *b, const char *shop, patron_store *s, int64_t id,
			 int64_t now, const char *csrf);

#endif
