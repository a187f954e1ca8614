/* patron audit and patron outbox: what the rules did, and the messages
 * they queued. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../profile.h"
#include "../value.h"
#include "cli.h"

#define OUTBOX_STATES "queued, sending, sent, dead, bounced or cancelled"
static const char *const outbox_states[] = {"queued", "sending", "sent", "dead", "bounced",
					    "cancelled", NULL};

typedef struct {
	const char *rule, *who, *status;
	int64_t limit;
} filters;

static int parse_filters(const cli_command *cmd, int argc, char **argv, filters *f)
{
	for (int i = 1; i < argc; i++) {
		const char *v;
		int r;
		if ((r = cli_opt_value(argc, argv, &i, "--rule", &v)) != 0 && cmd == &cmd_audit) {
			if (r < 0)
				return cli_usage(cmd, "--rule needs a rule name");
			f->rule = v;
		} else if ((r = cli_opt_value(argc, argv, &i, "--customer", &v)) != 0) {
			if (r < 0)
				return cli_usage(cmd, "--customer needs an id or email");
			f->who = v;
		} else if ((r = cli_opt_value(argc, argv, &i, "--status", &v)) != 0 &&
			   cmd == &cmd_outbox) {
			if (r < 0)
				return cli_usage(cmd, "--status needs %s", OUTBOX_STATES);
			int known = 0;
			for (const char *const *k = outbox_states; *k; k++)
				known |= strcmp(*k, v) == 0;
			if (!known)
				return cli_usage(cmd, "--status: expected %s, got \"%s\"", OUTBOX_STATES,
						 v);
			f->status = v;
		} else if ((r = cli_opt_value(argc, argv, &i, "--limit", &v)) != 0) {
			if (r < 0 || patron_parse_int(v, &f->limit) < 0 || f->limit < 1)
				return cli_usage(cmd, "--limit: expected a number above 0");
		} else {
			return cli_usage(cmd, "unexpected argument \"%s\"", argv[i]);
		}
	}
	return EXIT_OK;
}

/* The listing both commands print: the store opened, --customer resolved,
 * and SQL prepared with ?1 = FIRST (a filter or NULL), ?2 = the customer or
 * 0, ?3 = the limit. NULL when it failed (the error already printed). */
static sqlite3_stmt *listing(cli *c, const filters *f, const char *first, const char *sql)
{
	if (!cli_store(c))
		return NULL;
	int64_t cid = 0;
	if (f->who && !(cid = patron_customer_resolve(c->store, f->who))) {
		cli_fail(EXIT_FAIL, "--customer: no customer \"%s\"", f->who);
		return NULL;
	}
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(patron_store_db(c->store), sql, -1, &st, NULL) != SQLITE_OK) {
		cli_fail(EXIT_FAIL, "%s", sqlite3_errmsg(patron_store_db(c->store)));
		return NULL;
	}
	if (first)
		sqlite3_bind_text(st, 1, first, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, cid);
	sqlite3_bind_int64(st, 3, f->limit);
	return st;
}

static int audit(cli *c, int argc, char **argv)
{
	filters f = {.limit = 100};
	int rc = parse_filters(&cmd_audit, argc, argv, &f);
	if (rc != EXIT_OK)
		return rc;
	sqlite3_stmt *st = listing(c, &f, f.rule,
				   "SELECT * FROM (SELECT id, at, rule, trigger, customer_id, action,"
				   " status, reason, detail FROM audit WHERE (?1 IS NULL OR rule = ?1)"
				   " AND (?2 = 0 OR customer_id = ?2) ORDER BY id DESC LIMIT ?3)"
				   " ORDER BY id");
	if (!st)
		return EXIT_FAIL;
	json_t *all = c->json ? json_array() : NULL;
	int n = 0;
	while (sqlite3_step(st) == SQLITE_ROW) {
		char when[32];
		patron_format_date(sqlite3_column_int64(st, 1), when);
		n++;
		if (all) {
			json_error_t je;
			json_t *detail = json_loads((const char *)sqlite3_column_text(st, 8), 0, &je);
			json_array_append_new(all, json_pack(
				"{s:o, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "id",
				patron_column_json(st, 0), "at", when, "rule", patron_column_json(st, 2),
				"trigger", patron_column_json(st, 3), "customer", patron_column_json(st, 4),
				"action", patron_column_json(st, 5), "status", patron_column_json(st, 6),
				"reason", patron_column_json(st, 7), "detail",
				detail ? detail : json_object()));
		} else {
			const char *reason = (const char *)sqlite3_column_text(st, 7);
			printf("%-19s  %-24s  %-14s  customer %-8lld  %-6s  %s%s%s  %s\n", when,
			       sqlite3_column_text(st, 2), sqlite3_column_text(st, 3),
			       (long long)sqlite3_column_int64(st, 4), sqlite3_column_text(st, 5),
			       sqlite3_column_text(st, 6), reason ? ": " : "", reason ? reason : "",
			       sqlite3_column_text(st, 8));
		}
	}
	sqlite3_finalize(st);
	if (all)
		cli_print_json(all);
	else if (!n)
		printf("nothing in the audit\n");
	return EXIT_OK;
}

const cli_command cmd_audit = {
	"audit", audit, "what the rules did, and what they were refused",
	"usage: patron audit [--rule NAME] [--customer ID|EMAIL] [--limit N] [--json]\n"
	"\n"
	"Prints the newest audit rows (100 unless --limit), oldest first: when, the\n"
	"rule, its trigger (event:ID or schedule:TIME), the customer, the action (send,\n"
	"tag, untag, set, emit, log, error), its status (done, refused, error) with the\n"
	"reason, and the details, including why the rule matched.\n",
};

/* patron outbox retry ID...: a dead, bounced or cancelled message (or one
 * waiting out its backoff) goes back in the queue, due now, with its
 * attempts counted from zero. */
static int retry(cli *c, int argc, char **argv)
{
	if (argc < 3)
		return cli_usage(&cmd_outbox, "retry needs a message id");
	int64_t *ids = calloc((size_t)argc, sizeof *ids);
	for (int i = 2; i < argc; i++)
		if (patron_parse_int(argv[i], &ids[i]) < 0 || ids[i] < 1) {
			free(ids);
			return cli_usage(&cmd_outbox, "retry: expected message ids, got \"%s\"",
					 argv[i]);
		}
	if (!cli_store(c)) {
		free(ids);
		return EXIT_FAIL;
	}
	patron_err err;
	sqlite3_stmt *st = NULL;
	int rc = EXIT_OK;
	if (patron_store_begin(c->store, &err) < 0 ||
	    sqlite3_prepare_v2(patron_store_db(c->store), "UPDATE outbox SET status = 'queued',"
			       " attempts = 0, next_at = NULL WHERE id = ?1 AND status IN"
			       " ('queued', 'dead', 'bounced', 'cancelled') RETURNING status",
			       -1, &st, NULL) != SQLITE_OK) {
		free(ids);
		patron_store_rollback(c->store);
		return cli_fail(EXIT_FAIL, "%s", sqlite3_errmsg(patron_store_db(c->store)));
	}
	for (int i = 2; i < argc && rc == EXIT_OK; i++) {
		sqlite3_bind_int64(st, 1, ids[i]);
		int step = sqlite3_step(st);
		sqlite3_reset(st);
		if (step == SQLITE_ROW)
			continue;
		sqlite3_stmt *q;
		sqlite3_prepare_v2(patron_store_db(c->store), "SELECT status FROM outbox WHERE "
				   "id = ?1", -1, &q, NULL);
		sqlite3_bind_int64(q, 1, ids[i]);
		if (sqlite3_step(q) == SQLITE_ROW)
			rc = cli_fail(EXIT_FAIL, "message %lld is %s: only dead, bounced, cancelled "
				      "or waiting messages can be retried", (long long)ids[i],
				      sqlite3_column_text(q, 0));
		else
			rc = cli_fail(EXIT_FAIL, "no message %lld in the outbox", (long long)ids[i]);
		sqlite3_finalize(q);
	}
	sqlite3_finalize(st);
	if (rc == EXIT_OK && patron_store_commit(c->store, &err) < 0)
		rc = cli_fail(EXIT_FAIL, "%s", err.msg);
	if (rc != EXIT_OK)
		patron_store_rollback(c->store);
	else
		printf("%d message%s queued again; patron deliver sends %s\n", argc - 2,
		       argc == 3 ? "" : "s", argc == 3 ? "it" : "them");
	free(ids);
	return rc;
}

static int outbox(cli *c, int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "retry") == 0)
		return retry(c, argc, argv);
	filters f = {.limit = 100};
	int rc = parse_filters(&cmd_outbox, argc, argv, &f);
	if (rc != EXIT_OK)
		return rc;
	sqlite3_stmt *st = listing(c, &f, f.status,
				   "SELECT * FROM (SELECT id, created_at, status, channel, address,"
				   " template, vars, rule, customer_id, key, attempts, last_error,"
				   " template_path FROM outbox WHERE (?1 IS NULL OR status = ?1)"
				   " AND (?2 = 0 OR customer_id = ?2) ORDER BY id DESC LIMIT ?3)"
				   " ORDER BY id");
	if (!st)
		return EXIT_FAIL;
	json_t *all = c->json ? json_array() : NULL;
	int n = 0;
	while (sqlite3_step(st) == SQLITE_ROW) {
		char when[32];
		patron_format_date(sqlite3_column_int64(st, 1), when);
		n++;
		if (all) {
			json_error_t je;
			json_t *vars = json_loads((const char *)sqlite3_column_text(st, 6), 0, &je);
			json_array_append_new(all, json_pack(
				"{s:o, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
				"id", patron_column_json(st, 0), "queued_at", when, "status",
				patron_column_json(st, 2), "channel", patron_column_json(st, 3), "to",
				patron_column_json(st, 4), "template", patron_column_json(st, 5), "vars",
				vars ? vars : json_object(), "rule", patron_column_json(st, 7), "customer",
				patron_column_json(st, 8), "key", patron_column_json(st, 9), "attempts",
				patron_column_json(st, 10), "last_error", patron_column_json(st, 11),
				"template_path", patron_column_json(st, 12)));
		} else {
			printf("%6lld  %-19s  %-9s  %-6s  %-32s  %-14s  %-24s  %s\n",
			       (long long)sqlite3_column_int64(st, 0), when,
			       sqlite3_column_text(st, 2), sqlite3_column_text(st, 3),
			       sqlite3_column_text(st, 4), sqlite3_column_text(st, 5),
			       sqlite3_column_text(st, 7), sqlite3_column_text(st, 6));
			if (sqlite3_column_type(st, 11) != SQLITE_NULL)
				printf("        attempts %d: %s\n", sqlite3_column_int(st, 10),
				       sqlite3_column_text(st, 11));
		}
	}
	sqlite3_finalize(st);
	if (all)
		cli_print_json(all);
	else if (!n)
		printf("the outbox is empty\n");
	return EXIT_OK;
}

const cli_command cmd_outbox = {
	"outbox", outbox, "the messages rules queued, and their delivery state",
	"usage: patron outbox [--status STATUS] [--customer ID|EMAIL] [--limit N] [--json]\n"
	"       patron outbox retry ID...\n"
	"\n"
	"Prints the newest messages (100 unless --limit), oldest first: id, when it was\n"
	"queued, its status, channel, address, template, the rule that sent it and its\n"
	"variables, and the last error of one that failed. Each message was written by\n"
	"send{} in the same transaction as its audit row; its key (rule, trigger,\n"
	"customer) makes it unique and is its Message-ID.\n"
	"\n"
	"Statuses: queued (waiting for patron deliver, or for its next attempt),\n"
	"sending (a delivery was stopped while sending it: the next one sends it again),\n"
	"sent, dead (failed for good, or out of attempts), bounced (the recipient was\n"
	"refused), cancelled (consent was withdrawn before it went out).\n"
	"\n"
	"retry ID... puts dead, bounced or cancelled messages (or ones waiting out a\n"
	"backoff) back in the queue, due now, with their attempts counted afresh.\n",
};
