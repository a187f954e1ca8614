/* patron serve's pages. See pages.h. */
#include "pages.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../profile.h"
#include "../template.h"
#include "../value.h"

static void esc(patron_buf *b, const char *s)
{
	if (s)
		patron_html_escape(b, s, strlen(s));
}

static void head(patron_buf *b, const char *shop, const char *title)
{
	patron_buf_adds(b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
			   "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
			   "<title>");
	esc(b, title);
	if (shop) {
		patron_buf_adds(b, " · ");
		esc(b, shop);
	}
	patron_buf_adds(b, "</title><style>"
			   "body{font:16px/1.5 system-ui,sans-serif;max-width:52rem;margin:2rem auto;"
			   "padding:0 1rem;color:#222}h1{font-size:1.5rem}table{border-collapse:"
			   "collapse;width:100%;margin:.5rem 0 1.5rem}td,th{text-align:left;padding:"
			   ".25rem .5rem;border-bottom:1px solid #ddd;vertical-align:top}"
			   "th{font-weight:600}button{font:inherit;padding:.4rem 1rem}"
			   ".err{color:#a00}.muted{color:#666}nav{display:flex;gap:1rem;"
			   "align-items:center;justify-content:flex-end}nav form{margin:0}"
			   "</style></head><body>\n");
}

void patron_page_message(patron_buf *b, const char *shop, const char *heading,
			 const char *text)
{
	head(b, shop, heading);
	patron_buf_adds(b, "<h1>");
	esc(b, heading);
	patron_buf_adds(b, "</h1>\n<p>");
	esc(b, text);
	patron_buf_adds(b, "</p>\n</body></html>\n");
}

void patron_page_survey(patron_buf *b, const char *shop, const char *token, int score,
			int recorded)
{
	if (recorded) {
		head(b, shop, "Thank you");
		patron_buf_printf(b, "<h1>Thank you</h1>\n<p>Your answer, %d, is recorded.</p>\n"
				  "</body></html>\n", score);
		return;
	}
	head(b, shop, "Your answer");
	patron_buf_printf(b, "<h1>Your answer: %d</h1>\n<form method=\"post\" action=\"/s/", score);
	esc(b, token);
	patron_buf_adds(b, "\"><p><label for=\"comment\">Anything you would like to tell us? "
			"(you may leave it empty)</label></p>\n<p><textarea id=\"comment\" "
			"name=\"comment\" rows=\"5\" cols=\"50\" maxlength=\"1900\"></textarea></p>\n"
			"<p><button type=\"submit\">Send my answer</button></p></form>\n"
			"</body></html>\n");
}

void patron_page_login(patron_buf *b, const char *shop, const char *next, const char *error)
{
	head(b, shop, "Log in");
	patron_buf_adds(b, "<h1>Log in</h1>\n");
	if (error) {
		patron_buf_adds(b, "<p class=\"err\" role=\"alert\">");
		esc(b, error);
		patron_buf_adds(b, "</p>\n");
	}
	patron_buf_adds(b, "<form method=\"post\" action=\"/login\"><input type=\"hidden\" "
			   "name=\"next\" value=\"");
	esc(b, next && next[0] == '/' ? next : "/");
	patron_buf_adds(b, "\"><p><label>Password <input type=\"password\" name=\"password\" "
			   "id=\"password\" autocomplete=\"current-password\" required autofocus>"
			   "</label></p><p><button type=\"submit\" id=\"login\">Log in</button></p>"
			   "</form>\n</body></html>\n");
}

void patron_page_unsubscribe(patron_buf *b, const char *shop, patron_store *s, int64_t cid,
			     const char *channel, const char *token)
{
	head(b, shop, "Unsubscribe");
	patron_buf_adds(b, "<h1>Unsubscribe</h1>\n<p>Stop receiving ");
	esc(b, channel);
	patron_buf_adds(b, " messages from ");
	esc(b, shop ? shop : "us");
	patron_buf_adds(b, "?</p>\n<form method=\"post\" action=\"/u/");
	esc(b, token);
	patron_buf_adds(b, "\"><p><button type=\"submit\" name=\"stop\" value=\"this\" "
			   "id=\"stop\">Unsubscribe from ");
	esc(b, channel);
	patron_buf_adds(b, "</button></p><p><button type=\"submit\" name=\"stop\" value=\"all\" "
			   "id=\"stop-all\">Stop every message</button></p></form>\n");
	/* Or choose: each channel the person has said yes to, ticked. */
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(patron_store_db(s), "SELECT channel FROM consent WHERE customer_id"
			       " = ?1 AND granted = 1 ORDER BY channel", -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_int64(st, 1, cid);
		int any = 0;
		while (sqlite3_step(st) == SQLITE_ROW) {
			const char *ch = (const char *)sqlite3_column_text(st, 0);
			if (!any++) {
				patron_buf_adds(b, "<h2>Or choose</h2>\n<form method=\"post\" "
						   "action=\"/u/");
				esc(b, token);
				patron_buf_adds(b, "\"><input type=\"hidden\" name=\"save\" "
						   "value=\"1\"><p>Keep sending me:</p>");
			}
			patron_buf_adds(b, "<p><label><input type=\"checkbox\" name=\"keep\" value=\"");
			esc(b, ch);
			patron_buf_adds(b, "\" checked> ");
			esc(b, ch);
			patron_buf_adds(b, "</label></p>");
		}
		if (any)
			patron_buf_adds(b, "<p><button type=\"submit\" id=\"save\">Save my choices"
					   "</button></p></form>\n");
		sqlite3_finalize(st);
	}
	patron_buf_adds(b, "</body></html>\n");
}

void patron_page_wrap_report(patron_buf *b, const patron_buf *report, const char *csrf)
{
	const char *r = report->data ? report->data : "";
	const char *body = strstr(r, "<body");
	const char *after = body ? strchr(body, '>') : NULL;
	size_t cut = after ? (size_t)(after + 1 - r) : 0;
	patron_buf_add(b, r, cut);
	patron_buf_adds(b, "\n<nav class=\"owner\"><form method=\"post\" action=\"/refresh\">"
			   "<input type=\"hidden\" name=\"csrf\" value=\"");
	esc(b, csrf);
	patron_buf_adds(b, "\"><button type=\"submit\">Refresh</button></form>"
			   "<form method=\"post\" action=\"/logout\"><input type=\"hidden\" "
			   "name=\"csrf\" value=\"");
	esc(b, csrf);
	patron_buf_adds(b, "\"><button type=\"submit\" id=\"logout\">Log out</button></form>"
			   "</nav>\n");
	patron_buf_add(b, r + cut, report->len - cut);
}

/* A JSON value as text: strings as they are, numbers, yes/no, "" for null. */
static void value(patron_buf *b, json_t *v)
{
	if (json_is_string(v))
		esc(b, json_string_value(v));
	else if (json_is_integer(v))
		patron_buf_printf(b, "%lld", (long long)json_integer_value(v));
	else if (json_is_real(v))
		patron_buf_printf(b, "%.4g", json_real_value(v));
	else if (json_is_boolean(v))
		patron_buf_adds(b, json_is_true(v) ? "yes" : "no");
	else if (!json_is_null(v) && v) {
		char *t = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
		esc(b, t);
		free(t);
	}
}

/* An object's members as a two-column table. */
static void pairs(patron_buf *b, const char *title, json_t *o)
{
	if (!json_is_object(o) || !json_object_size(o))
		return;
	patron_buf_adds(b, "<h2>");
	esc(b, title);
	patron_buf_adds(b, "</h2>\n<table>");
	const char *k;
	json_t *v;
	json_object_foreach(o, k, v) {
		patron_buf_adds(b, "<tr><th>");
		esc(b, k);
		patron_buf_adds(b, "</th><td>");
		if (json_is_object(v) && json_object_get(v, "value"))
			value(b, json_object_get(v, json_object_get(v, "label") &&
						    !json_is_null(json_object_get(v, "label"))
						    ? "label" : "value"));
		else
			value(b, v);
		patron_buf_adds(b, "</td></tr>");
	}
	patron_buf_adds(b, "</table>\n");
}

int patron_page_customer(patron_buf *b, const char *shop, patron_store *s, int64_t id,
			 int64_t now, const char *csrf)
{
	(void)csrf;
	json_t *p = id > 0 ? patron_customer_profile(s, id, now) : NULL;
	if (!p) {
		patron_page_message(b, shop, "No such customer",
				    "There is no customer with this number.");
		return 0;
	}
	char title[64];
	snprintf(title, sizeof title, "Customer %lld", (long long)id);
	head(b, shop, title);
	patron_buf_adds(b, "<nav><a href=\"/\">Report</a></nav>\n<h1 id=\"name\">");
	const char *first = json_string_value(json_object_get(p, "first_name"));
	const char *last = json_string_value(json_object_get(p, "last_name"));
	if (first || last) {
		esc(b, first);
		patron_buf_adds(b, first && last ? " " : "");
		esc(b, last);
	} else {
		esc(b, title);
	}
	patron_buf_adds(b, "</h1>\n<table id=\"summary\">");
	static const char *const keys[] = {"orders", "total_spent", "first_order_at",
					   "last_order_at", "days_since_last_order", "created_at",
					   NULL};
	static const char *const names[] = {"Orders", "Spent", "First order", "Last order",
					    "Days since last order", "Customer since"};
	for (int i = 0; keys[i]; i++) {
		json_t *v = json_object_get(p, keys[i]);
		if (!v || json_is_null(v))
			continue;
		patron_buf_printf(b, "<tr><th>%s</th><td data-field=\"%s\">", names[i], keys[i]);
		value(b, v);
		patron_buf_adds(b, "</td></tr>");
	}
	patron_buf_adds(b, "</table>\n");
	json_t *ids = json_object_get(p, "identities");
	if (json_is_array(ids) && json_array_size(ids)) {
		patron_buf_adds(b, "<h2>Known as</h2>\n<ul>");
		size_t i;
		json_t *v;
		json_array_foreach(ids, i, v) {
			patron_buf_adds(b, "<li>");
			value(b, json_object_get(v, "kind"));
			patron_buf_adds(b, ": ");
			value(b, json_object_get(v, "value"));
			patron_buf_adds(b, "</li>");
		}
		patron_buf_adds(b, "</ul>\n");
	}
	pairs(b, "Scores", json_object_get(p, "scores"));
	pairs(b, "Consent", json_object_get(p, "consent"));
	pairs(b, "Attributes", json_object_get(p, "attributes"));
	json_decref(p);

	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(patron_store_db(s),
			       "SELECT order_key, placed_at, amount_cents, coalesce(currency, ''),"
			       " status FROM orders WHERE customer_id = ?1 ORDER BY placed_at DESC"
			       " LIMIT 50", -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_int64(st, 1, id);
		int any = 0;
		while (sqlite3_step(st) == SQLITE_ROW) {
			if (!any++)
				patron_buf_adds(b, "<h2>Orders</h2>\n<table id=\"orders\"><tr><th>Order"
						   "</th><th>Date</th><th>Amount</th><th>Status</th>"
						   "</tr>");
			char day[32], money[32];
			patron_buf_adds(b, "<tr><td>");
			esc(b, (const char *)sqlite3_column_text(st, 0));
			patron_buf_printf(b, "</td><td>%s</td><td>%s ",
					  patron_format_date(sqlite3_column_int64(st, 1), day),
					  patron_format_money(sqlite3_column_int64(st, 2), money));
			esc(b, (const char *)sqlite3_column_text(st, 3));
			patron_buf_adds(b, "</td><td>");
			esc(b, (const char *)sqlite3_column_text(st, 4));
			patron_buf_adds(b, "</td></tr>");
		}
		if (any)
			patron_buf_adds(b, "</table>\n");
		sqlite3_finalize(st);
	}
	if (sqlite3_prepare_v2(patron_store_db(s),
			       "SELECT topic, occurred_at, payload FROM events WHERE customer_id = ?1"
			       " ORDER BY id DESC LIMIT 30", -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_int64(st, 1, id);
		int any = 0;
		while (sqlite3_step(st) == SQLITE_ROW) {
			if (!any++)
				patron_buf_adds(b, "<h2>Recently</h2>\n<table id=\"events\"><tr><th>"
						   "When</th><th>What</th><th>Details</th></tr>");
			char day[32];
			patron_buf_printf(b, "<tr><td>%s</td><td>",
					  patron_format_date(sqlite3_column_int64(st, 1), day));
			esc(b, (const char *)sqlite3_column_text(st, 0));
			patron_buf_adds(b, "</td><td class=\"muted\">");
			const char *payload = (const char *)sqlite3_column_text(st, 2);
			patron_buf_printf(b, "%s", "");
			if (payload && strlen(payload) > 200) {
				patron_html_escape(b, payload, 200);
				patron_buf_adds(b, "…");
			} else {
				esc(b, payload);
			}
			patron_buf_adds(b, "</td></tr>");
		}
		if (any)
			patron_buf_adds(b, "</table>\n");
		sqlite3_finalize(st);
	}
	patron_buf_adds(b, "</body></html>\n");
	return 1;
}
