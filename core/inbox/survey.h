/* Satisfaction surveys: NPS (0 to 10, "how likely are you to recommend
 * us?") and CSAT (1 to 5, "how satisfied were you?"). A rule sends one as
 * any message, with vars = { survey = "nps" } (or "csat"): its template
 * then gets survey.links, one signed link per score (patron serve's
 * /s/TOKEN shows it, and records it when its form is sent, without a
 * login), and survey.token for an
 * answer given another way (patron survey record TOKEN SCORE). A token is
 * "OUTBOX_ID.SCORE.MAC" (or "OUTBOX_ID.MAC" without a score): the MAC, an
 * HMAC-SHA256 under the store's survey key, covers the score, so a changed
 * score is refused. Each answer becomes the customer's score nps or csat
 * (c.nps in rules) and the event survey.answered. */
#ifndef PATRON_SURVEY_H
#define PATRON_SURVEY_H

#include <stdint.h>

#include "../store.h"

/* 0 to 10 for NPS, 1 to 5 for CSAT; KIND "nps" or "csat". */
int patron_survey_range(const char *kind, int *lo, int *hi);

/* The token of survey OUTBOX_ID for SCORE (-1: none) into OUT (64 bytes). */
void patron_survey_token(const unsigned char key[32], int64_t outbox_id, int score, char *out,
			 size_t cap);
/* 1 with *OUTBOX_ID and *SCORE (-1 when the token has none) for a token
 * KEY signed, 0 for any other. */
int patron_survey_check(const unsigned char key[32], const char *token, int64_t *outbox_id,
			int *score);
/* The store's survey key: made on first use when CREATE, else 1 when there
 * is none yet (no survey was sent). */
int patron_survey_key(patron_store *s, int create, unsigned char key[32], patron_err *err);

/* Records SCORE (and COMMENT, NULL for none) for survey OUTBOX_ID, the
 * latest answer replacing an earlier one, inside the caller's transaction.
 * SOURCE says how it came ("link", "cli"). -1 with err for a survey that
 * is not one or a score out of its range. */
int patron_survey_record_tx(patron_store *s, int64_t outbox_id, int score, const char *comment,
			    const char *source, int64_t now, patron_err *err);
int patron_survey_record(patron_store *s, int64_t outbox_id, int score, const char *comment,
			 const char *source, int64_t now, patron_err *err);

/* Imports answers from PATH (columns email or customer_id, score, kind
 * nps/csat, default nps, date, comment) in one transaction; *N of them. */
int patron_survey_import(patron_store *s, const char *path, int64_t now, int64_t *n,
			 patron_err *err);

#endif
