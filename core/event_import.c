#include "event_import.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus.h"
#include "csv.h"
#include "value.h"

/* One event from its parts; LOC is "FILE:LINE" for messages. */
static int add_event(patron_store *s, const char *loc, const char *topic, const char *who,
		     const char *at, json_t *data, int64_t now, patron_err *err)
{
	if (!topic || !*topic)
		return patron_err_set(err, "%s: topic: expected a topic like order.created, got "
				      "nothing", loc);
	if (!patron_topic_valid(topic))
		return patron_err_set(err, "%s: topic: expected dot-separated words of a-z, 0-9, "
				      "_ and -, got \"%s\"", loc, topic);
	int64_t cid = 0, when = now;
	if (who && *who && !(cid = patron_customer_resolve(s, who)))
		return patron_err_set(err, "%s: customer: no customer \"%s\" in the store", loc,
				      who);
	if (at && *at && patron_parse_date(at, PATRON_DATE_MDY, &when) < 0)
		return patron_err_set(err, "%s: at: expected a date like 2026-11-23 or "
				      "2026-11-23T10:00:00Z, got \"%s\"", loc, at);
	char *payload = data ? json_dumps(data, JSON_COMPACT) : NULL;
	int rc = patron_event_append(s, topic, cid, payload, when, now, err);
	free(payload);
	return rc;
}

static int is_name(const char *h, const char *const *names)
{
	for (int i = 0; names[i]; i++)
		if (strcasecmp(h, names[i]) == 0)
			return 1;
	return 0;
}

static int import_csv(patron_store *s, const char *path, int64_t now, int64_t *count,
		      patron_err *err)
{
	static const char *const topic_n[] = {"topic", "event", NULL};
	static const char *const who_n[] = {"customer", "email", "customer_id", NULL};
	static const char *const at_n[] = {"at", "occurred_at", "time", "date", "timestamp", NULL};
	static const char *const data_n[] = {"data", "payload", NULL};
	patron_csv_record rec;
	patron_csv *csv = patron_csv_open_header(path, &rec, "a header with a topic column", err);
	if (!csv)
		return -1;
	int rc;
	size_t nh = rec.n;
	char **head = patron_xcalloc(nh, sizeof *head);
	int col_topic = -1, col_who = -1, col_at = -1, col_data = -1;
	for (size_t i = 0; i < nh; i++) {
		head[i] = patron_xstrdup(rec.field[i]);
		int *slot = is_name(head[i], topic_n) ? &col_topic : is_name(head[i], who_n)
			    ? &col_who : is_name(head[i], at_n) ? &col_at
			    : is_name(head[i], data_n) ? &col_data : NULL;
		if (slot && *slot < 0)
			*slot = (int)i;
	}
	if (col_topic < 0) {
		rc = patron_err_set(err, "%s:1: no topic column (expected a header with topic, "
				    "and optionally customer, at, data)", path);
		goto out;
	}
	while ((rc = patron_csv_next(csv, &rec, err)) > 0) {
		char loc[4200];
		snprintf(loc, sizeof loc, "%s:%ld", path, rec.line);
		if (rec.n != nh) {
			rc = patron_err_set(err, "%s: expected %zu fields like the header, got %zu",
					    loc, nh, rec.n);
			break;
		}
		json_t *data = json_object();
		if (col_data >= 0 && *rec.field[col_data]) {
			json_error_t je;
			json_decref(data);
			data = json_loads(rec.field[col_data], JSON_REJECT_DUPLICATES, &je);
			if (!data || !json_is_object(data)) {
				json_decref(data);
				rc = patron_err_set(err, "%s: column \"%s\": expected a JSON object, "
						    "got \"%.60s\"", loc, head[col_data],
						    rec.field[col_data]);
				break;
			}
		}
		for (size_t i = 0; i < nh; i++)
			if ((int)i != col_topic && (int)i != col_who && (int)i != col_at &&
			    (int)i != col_data && *rec.field[i])
				json_object_set_new(data, head[i], json_string(rec.field[i]));
		rc = add_event(s, loc, rec.field[col_topic], col_who >= 0 ? rec.field[col_who] : NULL,
			       col_at >= 0 ? rec.field[col_at] : NULL,
			       json_object_size(data) ? data : NULL, now, err);
		json_decref(data);
		if (rc < 0)
			break;
		++*count;
	}
out:
	for (size_t i = 0; i < nh; i++)
		free(head[i]);
	free(head);
	patron_csv_close(csv);
	return rc < 0 ? -1 : 0;
}

static const char *text_of(json_t *o, const char *key, char *buf, size_t cap)
{
	json_t *v = json_object_get(o, key);
	if (json_is_string(v))
		return json_string_value(v);
	if (json_is_integer(v)) {
		snprintf(buf, cap, "%lld", (long long)json_integer_value(v));
		return buf;
	}
	return NULL;
}

static int import_jsonl(patron_store *s, const char *path, int64_t now, int64_t *count,
			patron_err *err)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return patron_err_set(err, "%s: cannot read: %m", path);
	char *line = NULL;
	size_t cap = 0;
	long no = 0;
	int rc = 0;
	while (getline(&line, &cap, f) > 0) {
		no++;
		char loc[4200];
		snprintf(loc, sizeof loc, "%s:%ld", path, no);
		if (strspn(line, " \t\r\n") == strlen(line))
			continue;
		json_error_t je;
		json_t *o = json_loads(line, JSON_REJECT_DUPLICATES, &je);
		if (!o || !json_is_object(o)) {
			rc = patron_err_set(err, "%s: expected a JSON object per line%s%s", loc,
					    o ? "" : ": ", o ? "" : je.text);
			json_decref(o);
			break;
		}
		json_t *data = json_object_get(o, "data");
		if (data && !json_is_object(data)) {
			json_decref(o);
			rc = patron_err_set(err, "%s: data: expected an object", loc);
			break;
		}
		json_t *topic = json_object_get(o, "topic");
		char b1[32], b2[32];
		const char *who = text_of(o, "customer", b1, sizeof b1);
		if (!who)
			who = text_of(o, "email", b2, sizeof b2);
		rc = add_event(s, loc, json_is_string(topic) ? json_string_value(topic) : NULL, who,
			       text_of(o, "at", b2, sizeof b2), data, now, err);
		json_decref(o);
		if (rc < 0)
			break;
		++*count;
	}
	if (rc == 0 && ferror(f))
		rc = patron_err_set(err, "%s: cannot read: %m", path);
	free(line);
	fclose(f);
	return rc;
}

int patron_events_import(patron_store *s, const char *path, int64_t now, int64_t *count,
			 patron_err *err)
{
	*count = 0;
	size_t n = strlen(path);
	int jsonl = (n > 6 && strcmp(path + n - 6, ".jsonl") == 0) ||
		    (n > 7 && strcmp(path + n - 7, ".ndjson") == 0);
	if (patron_store_begin(s, err) < 0)
		return -1;
	int rc = jsonl ? import_jsonl(s, path, now, count, err)
		       : import_csv(s, path, now, count, err);
	if (rc < 0) {
		patron_store_rollback(s);
		*count = 0;
		return -1;
	}
	return patron_store_commit(s, err);
}
