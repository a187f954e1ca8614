/* Consent: unsubscribe tokens and withdrawing consent. See consent.h. */
#include "consent.h"

#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int patron_store_secret(patron_store *s, const char *name, unsigned char key[32],
			patron_err *err)
{
	if (sodium_init() < 0)
		return patron_err_set(err, "libsodium cannot start");
	sqlite3 *db = patron_store_db(s);
	sqlite3_stmt *st;
	for (int pass = 0; pass < 2; pass++) {
		if (sqlite3_prepare_v2(db, "SELECT value FROM settings WHERE name = ?1", -1, &st,
				       NULL) != SQLITE_OK)
			return patron_store_fail(s, err, "reading a signing key");
		sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
		int found = sqlite3_step(st) == SQLITE_ROW;
		size_t got = 0;
		if (found) {
			const char *hex = (const char *)sqlite3_column_text(st, 0);
			found = sodium_hex2bin(key, crypto_auth_hmacsha256_KEYBYTES, hex, strlen(hex),
					       NULL, &got, NULL) == 0 &&
				got == crypto_auth_hmacsha256_KEYBYTES;
		}
		sqlite3_finalize(st);
		if (found)
			return 0;
		if (pass)
			break;
		unsigned char fresh[crypto_auth_hmacsha256_KEYBYTES];
		char hex[2 * sizeof fresh + 1];
		randombytes_buf(fresh, sizeof fresh);
		sodium_bin2hex(hex, sizeof hex, fresh, sizeof fresh);
		if (sqlite3_prepare_v2(db, "INSERT OR IGNORE INTO settings(name, value) VALUES "
				       "(?2, ?1)", -1, &st, NULL) != SQLITE_OK)
			return patron_store_fail(s, err, "making a signing key");
		sqlite3_bind_text(st, 1, hex, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
		int rc = sqlite3_step(st);
		sqlite3_finalize(st);
		if (rc != SQLITE_DONE)
			return patron_store_fail(s, err, "making a signing key");
	}
	return patron_err_set(err, "the store's %s is damaged", name);
}

static void sign(const unsigned char *key, const char *text, char hex[33])
{
	unsigned char mac[crypto_auth_hmacsha256_BYTES];
	crypto_auth_hmacsha256(mac, (const unsigned char *)text, strlen(text), key);
	sodium_bin2hex(hex, 33, mac, 16);	/* 128 bits are plenty for a link */
}

int patron_unsubscribe_token(patron_store *s, int64_t cid, const char *channel, char *out,
			     size_t cap, patron_err *err)
{
	unsigned char key[crypto_auth_hmacsha256_KEYBYTES];
	if (patron_store_secret(s, "unsubscribe_key", key, err) < 0)
		return -1;
	char text[160], hex[33];
	snprintf(text, sizeof text, "%lld.%s", (long long)cid, channel);
	sign(key, text, hex);
	snprintf(out, cap, "%s.%s", text, hex);
	return 0;
}

int patron_unsubscribe_check(patron_store *s, const char *token, int64_t *cid, char *channel,
			     size_t cap)
{
	const char *dot1 = strchr(token, '.');
	const char *dot2 = dot1 ? strchr(dot1 + 1, '.') : NULL;
	if (!dot1 || !dot2 || strchr(dot2 + 1, '.') || strlen(dot2 + 1) != 32 ||
	    strchr(token, '@'))
		return 0;
	char *end;
	long long id = strtoll(token, &end, 10);
	if (end != dot1 || id <= 0 || (size_t)(dot2 - dot1 - 1) >= cap || dot2 == dot1 + 1)
		return 0;
	unsigned char key[crypto_auth_hmacsha256_KEYBYTES];
	patron_err err;
	if (patron_store_secret(s, "unsubscribe_key", key, &err) < 0)
		return -1;
	char text[160], hex[33];
	snprintf(text, sizeof text, "%.*s", (int)(dot2 - token), token);
	sign(key, text, hex);
	if (sodium_memcmp(hex, dot2 + 1, 32) != 0)
		return -1;
	*cid = id;
	snprintf(channel, cap, "%.*s", (int)(dot2 - dot1 - 1), dot1 + 1);
	return 1;
}

int patron_consent_withdraw(patron_store *s, int64_t cid, const char *channel, int64_t now,
			    int *changed, patron_err *err)
{
	sqlite3_stmt *st = patron_store_stmt(s, ST_CONSENT_PUT);
	sqlite3_bind_int64(st, 1, cid);
	sqlite3_bind_text(st, 2, channel, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(st, 3, 0);
	sqlite3_bind_text(st, 4, "unsubscribe", -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, now);
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return patron_store_fail(s, err, "recording the unsubscribe");
	if (changed)
		*changed = sqlite3_changes(patron_store_db(s)) > 0;
	return 0;
}

/* customer.unsubscribed: {"channel": NAME}, or every channel the customer
 * has consent for when there is none. */
static int on_unsubscribed(void *ud, const patron_event *ev, patron_err *err)
{
	patron_consent_keeper *k = ud;
	if (ev->customer_id <= 0)
		return PATRON_BUS_OK;
	json_t *p = json_loads(ev->payload, 0, NULL);
	const char *channel = json_string_value(json_object_get(p, "channel"));
	int rc = 0;
	if (channel && *channel) {
		rc = patron_consent_withdraw(k->s, ev->customer_id, channel, k->now, NULL, err);
	} else {
		sqlite3_stmt *st;
		if (sqlite3_prepare_v2(patron_store_db(k->s), "UPDATE consent SET granted = 0, "
				       "source = 'unsubscribe', updated_at = ?2 WHERE customer_id = "
				       "?1 AND granted = 1", -1, &st, NULL) != SQLITE_OK) {
			json_decref(p);
			return patron_store_fail(k->s, err, "recording the unsubscribe");
		}
		sqlite3_bind_int64(st, 1, ev->customer_id);
		sqlite3_bind_int64(st, 2, k->now);
		rc = sqlite3_step(st) == SQLITE_DONE ? 0
			: patron_store_fail(k->s, err, "recording the unsubscribe");
		sqlite3_finalize(st);
	}
	json_decref(p);
	return rc < 0 ? PATRON_BUS_FAILED : PATRON_BUS_OK;
}

int patron_consent_subscribe(patron_bus *b, patron_consent_keeper *k, patron_err *err)
{
	return patron_bus_subscribe(b, "core:consent", "customer.unsubscribed", on_unsubscribed,
				    k, err);
}
