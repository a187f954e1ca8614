/* patron emit and patron events: putting an event on the bus by hand, and
 * reading the event log. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../bus.h"
#include "../value.h"
#include "cli.h"

static int emit(cli *c, int argc, char **argv)
{
	const char *topic = NULL, *who = NULL, *data = NULL, *at = NULL;
	for (int i = 1; i < argc; i++) {
		const char *v;
		int r;
		if ((r = cli_opt_value(argc, argv, &i, "--customer", &v)) != 0) {
			if (r < 0)
				return cli_usage(&cmd_emit, "--customer needs an id or email");
			who = v;
		} else if ((r = cli_opt_value(argc, argv, &i, "--data", &v)) != 0) {
			if (r < 0)
				return cli_usage(&cmd_emit, "--data needs a JSON object");
			data = v;
		} else if ((r = cli_opt_value(argc, argv, &i, "--at", &v)) != 0) {
			if (r < 0)
				return cli_usage(&cmd_emit, "--at needs a date");
			at = v;
		} else if (argv[i][0] == '-') {
			return cli_usage(&cmd_emit, "unknown option \"%s\"", argv[i]);
		} else if (!topic) {
			topic = argv[i];
		} else {
			return cli_usage(&cmd_emit, "unexpected argument \"%s\"", argv[i]);
		}
	}
	if (!topic)
		return cli_usage(&cmd_emit, "expected a topic");
	if (!patron_topic_valid(topic))
		return cli_usage(&cmd_emit, "topic \"%s\": expected dot-separated words of a-z, "
				 "0-9, _ and - (like order.created)", topic);
	char *payload = NULL;
	if (data) {
		json_error_t je;
		json_t *j = json_loads(data, JSON_REJECT_DUPLICATES, &je);
		if (!j || !json_is_object(j)) {
			json_decref(j);
			return cli_usage(&cmd_emit, "--data: expected a JSON object%s%s",
					 j ? "" : ": ", j ? "" : je.text);
		}
		payload = json_dumps(j, JSON_COMPACT);
		json_decref(j);
	}
	int64_t when = c->now;
	if (at && patron_parse_date(at, PATRON_DATE_MDY, &when) < 0) {
		free(payload);
		return cli_usage(&cmd_emit, "--at: expected a date like 2026-11-23, got \"%s\"", at);
	}
	if (!cli_store(c)) {
		free(payload);
		return EXIT_FAIL;
	}
	int64_t cid = 0;
	if (who && !(cid = patron_customer_resolve(c->store, who))) {
		free(payload);
		return cli_fail(EXIT_FAIL, "--customer: no customer \"%s\"", who);
	}
	patron_bus *b = patron_bus_new(c->store);
	patron_err err;
	int rc = patron_bus_publish(b, topic, cid, payload, when, c->now, &err);
	patron_bus_free(b);
	free(payload);
	if (rc < 0)
		return cli_fail(EXIT_FAIL, "%s", err.msg);
	int64_t id = sqlite3_last_insert_rowid(patron_store_db(c->store));
	if (c->json)
		cli_print_json(json_pack("{s:I, s:s}", "id", (json_int_t)id, "topic", topic));
	else
		printf("event %lld: %s\n", (long long)id, topic);
	return EXIT_OK;
}

const cli_command cmd_emit = {
	"emit", emit, "put an event on the bus (order.created, vip.promoted, ...)",
	"usage: patron emit TOPIC [--customer ID|EMAIL] [--data JSON] [--at DATE]\n"
	"\n"
	"Appends an event to the event log; the event rules listening to TOPIC (or a\n"
	"pattern matching it, like order.*) get it at the next patron run. --data is a\n"
	"JSON object, seen by rules as event.data; --at is when it happened (default\n"
	"--now). A topic is dot-separated words of a-z, 0-9, _ and -.\n",
};

static int events(cli *c, int argc, char **argv)
{
	const char *topic = "*", *since = NULL, *who = NULL;
	int64_t limit = 50;
	for (int i = 1; i < argc; i++) {
		const char *v;
		int r;
		if ((r = cli_opt_value(argc, argv, &i, "--topic", &v)) != 0) {
			if (r < 0 || !patron_pattern_valid(v))
				return cli_usage(&cmd_events, "--topic: expected a topic or a pattern "
						 "like order.*");
			topic = v;
		} else if ((r = cli_opt_value(argc, argv, &i, "--since", &v)) != 0) {
			if (r < 0)
				return cli_usage(&cmd_events, "--since needs a date");
			since = v;
		} else if ((r = cli_opt_value(argc, argv, &i, "--customer", &v)) != 0) {
			if (r < 0)
				return cli_usage(&cmd_events, "--customer needs an id or email");
			who = v;
		} else if ((r = cli_opt_value(argc, argv, &i, "--limit", &v)) != 0) {
			if (r < 0 || patron_parse_int(v, &limit) < 0 || limit < 1)
				return cli_usage(&cmd_events, "--limit: expected a number above 0");
		} else {
			return cli_usage(&cmd_events, "unexpected argument \"%s\"", argv[i]);
		}
	}
	int64_t from = INT64_MIN;
	if (since && patron_parse_date(since, PATRON_DATE_MDY, &from) < 0)
		return cli_usage(&cmd_events, "--since: expected a date like 2026-11-23, got \"%s\"",
				 since);
	if (!cli_store(c))
		return EXIT_FAIL;
	int64_t cid = 0;
	if (who && !(cid = patron_customer_resolve(c->store, who)))
		return cli_fail(EXIT_FAIL, "--customer: no customer \"%s\"", who);
	sqlite3_stmt *st;
	/* the newest LIMIT, printed oldest first */
	if (sqlite3_prepare_v2(patron_store_db(c->store),
			       "SELECT * FROM (SELECT e.id, e.topic, e.customer_id, e.payload,"
			       " e.occurred_at, (SELECT value FROM identities i WHERE"
			       " i.customer_id = e.customer_id AND kind = 'email' LIMIT 1)"
			       " FROM events e WHERE topic GLOB ?1 AND occurred_at >= ?2"
			       " AND (?3 = 0 OR customer_id = ?3) ORDER BY id DESC LIMIT ?4)"
			       " ORDER BY id", -1, &st, NULL) != SQLITE_OK)
		return cli_fail(EXIT_FAIL, "%s", sqlite3_errmsg(patron_store_db(c->store)));
	sqlite3_bind_text(st, 1, topic, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, from);
	sqlite3_bind_int64(st, 3, cid);
	sqlite3_bind_int64(st, 4, limit);
	json_t *all = c->json ? json_array() : NULL;
	int n = 0;
	while (sqlite3_step(st) == SQLITE_ROW) {
		char when[32];
		const char *email = (const char *)sqlite3_column_text(st, 5);
		const char *payload = (const char *)sqlite3_column_text(st, 3);
		patron_format_date(sqlite3_column_int64(st, 4), when);
		n++;
		if (all) {
			json_error_t je;
			json_t *data = json_loads(payload, 0, &je);
			json_array_append_new(all, json_pack(
				"{s:I, s:s, s:s, s:o, s:o, s:o}", "id",
				(json_int_t)sqlite3_column_int64(st, 0), "topic",
				sqlite3_column_text(st, 1), "at", when, "customer",
				sqlite3_column_type(st, 2) == SQLITE_NULL ? json_null()
				: json_integer(sqlite3_column_int64(st, 2)),
				"email", email ? json_string(email) : json_null(),
				"data", data ? data : json_object()));
		} else {
			printf("%8lld  %-19s  %-20s  %-28s  %s\n",
			       (long long)sqlite3_column_int64(st, 0), when,
			       sqlite3_column_text(st, 1), email ? email : "-", payload);
		}
	}
	sqlite3_finalize(st);
	if (all)
		cli_print_json(all);
	else if (!n)
		printf("no events\n");
	return EXIT_OK;
}

const cli_command cmd_events = {
	"events", events, "list the event log",
	"usage: patron events [--topic PATTERN] [--since DATE] [--customer ID|EMAIL]\n"
	"                     [--limit N] [--json]\n"
	"\n"
	"Prints the newest events (50 unless --limit), oldest first: id, when it\n"
	"happened, topic, the customer's email and the data. --topic takes a topic or a\n"
	"pattern (order.*); --since keeps events that happened on or after DATE.\n",
};
