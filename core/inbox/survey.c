/* Satisfaction surveys: signed answer links, answers, scores. */
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "survey.h"
#include "../consent.h"
#include "../csv.h"
#include "../import.h"
#include "../serve/tokens.h"
#include "../value.h"

int patron_survey_range(const char *kind, int *lo, int *hi)
{
	if (kind && strcmp(kind, "nps") == 0)
		return *lo = 0, *hi = 10, 0;
	if (kind && strcmp(kind, "csat") == 0)
		return *lo = 1, *hi = 5, 0;
	return -1;
}

static void mac_of(const unsigned char key[32], int64_t id, int score, char mac[32])
{
	char text[64];
	int n = score >= 0 ? snprintf(text, sizeof text, "s.%lld.%d", (long long)id, score)
			   : snprintf(text, sizeof text, "s.%lld", (long long)id);
	patron_mac16(key, text, (size_t)n, mac);
}

void patron_survey_token(const unsigned char key[32], int64_t outbox_id, int score, char *out,
			 size_t cap)
{
	char mac[32];
	mac_of(key, outbox_id, score, mac);
	if (score >= 0)
		snprintf(out, cap, "%lld.%d.%s", (long long)outbox_id, score, mac);
	else
		snprintf(out, cap, "%lld.%s", (long long)outbox_id, mac);
}

int patron_survey_check(const unsigned char key[32], const char *token, int64_t *outbox_id,
			int *score)
{
	char *end;
	long long id = strtoll(token, &end, 10);
	if (end == token || *end != '.' || id <= 0)
		return 0;
	const char *rest = end + 1, *mac = rest;
	int s = -1;
	if (strchr(rest, '.')) {	/* a score before the MAC */
		long v = strtol(rest, &end, 10);
		if (end == rest || *end != '.' || v < 0 || v > 10 || end - rest > 2)
			return 0;
		s = (int)v;
		mac = end + 1;
	}
	char want[32];
	mac_of(key, id, s, want);
	if (strlen(mac) != strlen(want) || sodium_memcmp(mac, want, strlen(want)) != 0)
		return 0;
	*outbox_id = id;
	*score = s;
	return 1;
}

int patron_survey_key(patron_store *s, int create, unsigned char key[32], patron_err *err)
{
	if (create)
		return patron_store_secret(s, "survey_key", key, err);
	sqlite3_stmt *st;
	int rc = 1;
	if (sqlite3_prepare_v2(patron_store_db(s), "SELECT value FROM settings WHERE name ="
			       " 'survey_key'", -1, &st, NULL) != SQLITE_OK)
		return patron_store_fail(s, err, "reading the survey key");
	size_t got = 0;
	if (sqlite3_step(st) == SQLITE_ROW) {
		const char *hex = (const char *)sqlite3_column_text(st, 0);
		rc = sodium_hex2bin(key, 32, hex, strlen(hex), NULL, &got, NULL) == 0 && got == 32
			     ? 0 : 1;
	}
	sqlite3_finalize(st);
	return rc;
}

/* The customer's latest answer of KIND as their score KIND. */
static int store_score(patron_store *s, int64_t cid, const char *kind, int64_t now,
		       patron_err *err)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(patron_store_db(s), "INSERT INTO scores(customer_id, name, value,"
			       " label, model, computed_at) SELECT ?1, ?2, score, NULL, 'survey', ?3"
			       " FROM survey_answers WHERE customer_id = ?1 AND kind = ?2 ORDER BY"
			       " answered_at DESC, id DESC LIMIT 1", -1, &st, NULL) != SQLITE_OK)
		return patron_store_fail(s, err, "storing the score");
	sqlite3_bind_int64(st, 1, cid);
	sqlite3_bind_text(st, 2, kind, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, now);
	int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : patron_store_fail(s, err, "storing the score");
	sqlite3_finalize(st);
	return rc;
}

static const char *category(const char *kind, int score)
{
	if (strcmp(kind, "nps") == 0)
		return score >= 9 ? "promoter" : score >= 7 ? "passive" : "detractor";
	return score >= 4 ? "satisfied" : score == 3 ? "neutral" : "dissatisfied";
}

/* One answer of CID (OUTBOX_ID 0: none) stored, scored and announced. */
static int answer(patron_store *s, int64_t cid, int64_t outbox_id, int64_t ticket,
		  const char *kind, int score, const char *comment, const char *source,
		  int64_t at, int64_t now, patron_err *err)
{
	int lo = 0, hi = 0;
	if (patron_survey_range(kind, &lo, &hi) < 0 || score < lo || score > hi)
		return patron_err_set(err, "a %s answer is a score from %d to %d, got %d",
				      kind, lo, hi, score);
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(patron_store_db(s),
			       "INSERT INTO survey_answers(customer_id, kind, score, outbox_id, ticket_id,"
			       " comment, answered_at, source) VALUES (?1, ?2, ?3, nullif(?4, 0),"
			       " nullif(?5, 0), ?6, ?7, ?8) ON CONFLICT (outbox_id) DO UPDATE SET"
			       " score = excluded.score, comment = coalesce(excluded.comment, comment),"
			       " answered_at = excluded.answered_at, source = excluded.source", -1, &st,
			       NULL) != SQLITE_OK)
		return patron_store_fail(s, err, "recording the answer");
	sqlite3_bind_int64(st, 1, cid);
	sqlite3_bind_text(st, 2, kind, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, score);
	sqlite3_bind_int64(st, 4, outbox_id);
	sqlite3_bind_int64(st, 5, ticket);
	if (comment && *comment)
		sqlite3_bind_text(st, 6, comment, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 7, at);
	sqlite3_bind_text(st, 8, source, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : patron_store_fail(s, err, "recording");
	sqlite3_finalize(st);
	if (rc < 0 || store_score(s, cid, kind, now, err) < 0)
		return -1;
	json_t *p = json_pack("{s:s, s:i, s:s, s:s}", "kind", kind, "score", score, "category",
			      category(kind, score), "source", source);
	if (outbox_id)
		json_object_set_new(p, "outbox", json_integer(outbox_id));
	if (ticket)
		json_object_set_new(p, "ticket", json_integer(ticket));
	if (comment && *comment)
		json_object_set_new(p, "comment", json_string(comment));
	char *text = json_dumps(p, JSON_COMPACT);
	json_decref(p);
	rc = patron_event_append(s, "survey.answered", cid, text, at, now, err);
	free(text);
	return rc;
}

int patron_survey_record_tx(patron_store *s, int64_t outbox_id, int score, const char *comment,
			    const char *source, int64_t now, patron_err *err)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(patron_store_db(s), "SELECT customer_id, json_extract(vars,"
			       " '$.survey'), json_extract(vars, '$.ticket') FROM outbox WHERE id = ?1",
			       -1, &st, NULL) != SQLITE_OK)
		return patron_store_fail(s, err, "reading the survey");
	sqlite3_bind_int64(st, 1, outbox_id);
	if (sqlite3_step(st) != SQLITE_ROW || sqlite3_column_type(st, 1) != SQLITE_TEXT ||
	    sqlite3_column_type(st, 0) == SQLITE_NULL) {
		sqlite3_finalize(st);
		return patron_err_set(err, "message %lld asked no survey (or its customer was erased)",
				      (long long)outbox_id);
	}
	int64_t cid = sqlite3_column_int64(st, 0), ticket = sqlite3_column_int64(st, 2);
	char kind[8];
	snprintf(kind, sizeof kind, "%s", sqlite3_column_text(st, 1));
	sqlite3_finalize(st);
	return answer(s, cid, outbox_id, ticket, kind, score, comment, source, now, now, err);
}

int patron_survey_record(patron_store *s, int64_t outbox_id, int score, const char *comment,
			 const char *source, int64_t now, patron_err *err)
{
	if (patron_store_begin(s, err) < 0)
		return -1;
	if (patron_survey_record_tx(s, outbox_id, score, comment, source, now, err) < 0) {
		patron_store_rollback(s);
		return -1;
	}
	return patron_store_commit(s, err);
}

int patron_survey_import(patron_store *s, const char *path, int64_t now, int64_t *n,
			 patron_err *err)
{
	*n = 0;
	patron_csv_record rec;
	patron_csv *r = patron_csv_open_header(path, &rec, "columns email, score", err);
	if (!r)
		return -1;
	long col[5] = {-1, -1, -1, -1, -1};	/* email, customer_id, score, kind, date */
	long comment_col = -1;
	static const char *const names[] = {"email", "customer_id", "score", "kind", "date"};
	for (size_t i = 0; i < rec.n; i++) {
		char h[64];
		patron_normalize_header(rec.field[i], h, sizeof h);
		for (int k = 0; k < 5; k++)
			if (col[k] < 0 && strcmp(h, names[k]) == 0)
				col[k] = (long)i;
		if (col[4] < 0 && (!strcmp(h, "answered_at") || !strcmp(h, "created_at")))
			col[4] = (long)i;
		if (col[2] < 0 && (!strcmp(h, "nps") || !strcmp(h, "rating")))
			col[2] = (long)i;
		if (comment_col < 0 && (!strcmp(h, "comment") || !strcmp(h, "text")))
			comment_col = (long)i;
	}
	if ((col[0] < 0 && col[1] < 0) || col[2] < 0) {
		patron_csv_close(r);
		return patron_err_set(err, "%s:1: expected the columns email (or customer_id) and "
				      "score", path);
	}
	if (patron_store_begin(s, err) < 0) {
		patron_csv_close(r);
		return -1;
	}
	int got, rc = 0;
#define F(k) (col[k] >= 0 && (size_t)col[k] < rec.n ? rec.field[col[k]] : "")
	while (rc == 0 && (got = patron_csv_next(r, &rec, err)) == 1) {
		int64_t cid = 0, score, at = now;
		char email[320];
		if (*F(0) && patron_normalize_email(F(0), email, sizeof email) == 0)
			cid = patron_customer_find(s, "email", email);
		if (!cid && *F(1))
			cid = patron_customer_find(s, "id", F(1));
		const char *kind = *F(3) ? F(3) : "nps";
		if (!cid)
			rc = patron_err_set(err, "%s:%ld: no customer \"%s\" in the store", path,
					    rec.line, *F(0) ? F(0) : F(1));
		else if (patron_parse_int(F(2), &score) < 0)
			rc = patron_err_set(err, "%s:%ld: column \"score\": expected a whole number, "
					    "got \"%s\"", path, rec.line, F(2));
		else if (*F(4) && patron_parse_date(F(4), PATRON_DATE_MDY, &at) < 0)
			rc = patron_err_set(err, "%s:%ld: column \"date\": expected a date, got \"%s\"",
					    path, rec.line, F(4));
		else if (strcmp(kind, "nps") != 0 && strcmp(kind, "csat") != 0)
			rc = patron_err_set(err, "%s:%ld: column \"kind\": expected nps or csat, got "
					    "\"%s\"", path, rec.line, kind);
		else {
			const char *comment = comment_col >= 0 && (size_t)comment_col < rec.n
						      ? rec.field[comment_col] : NULL;
			patron_err why;
			rc = answer(s, cid, 0, 0, kind, (int)score, comment, "import", at, now, &why);
			if (rc < 0)
				patron_err_set(err, "%s:%ld: %s", path, rec.line, why.msg);
			else
				(*n)++;
		}
	}
#undef F
	patron_csv_close(r);
	if (rc < 0 || got < 0) {
		patron_store_rollback(s);
		return -1;
	}
	return patron_store_commit(s, err);
}
