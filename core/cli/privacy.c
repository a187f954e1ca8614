/* patron export, patron erase: what Patron holds on one person, all of it
 * as one JSON document, or erased. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../privacy.h"
#include "cli.h"

/* The customer WHO names (id, email, external id or phone), or 0 with the
 * error printed. */
static int64_t person(cli *c, const cli_command *cmd, const char *who)
{
	patron_store *s = cli_store(c);
	if (!s)
		return 0;
	int64_t id = patron_customer_resolve(s, who);
	if (!id)
		cli_fail(EXIT_FAIL, "no customer \"%s\" (expected an id, an email, an external id "
			 "or a phone; see patron %s --help)", who, cmd->name);
	return id;
}

static int export_person(cli *c, int argc, char **argv)
{
	const char *who = NULL, *out = NULL;
	for (int i = 1; i < argc; i++) {
		const char *v;
		int r = cli_opt_value(argc, argv, &i, "--out", &v);
		if (r < 0)
			return cli_usage(&cmd_export, "--out needs a file");
		if (r > 0)
			out = v;
		else if (argv[i][0] == '-' && argv[i][1])
			return cli_usage(&cmd_export, "unknown option \"%s\"", argv[i]);
		else if (who)
			return cli_usage(&cmd_export, "one person at a time");
		else
			who = argv[i];
	}
	if (!who)
		return cli_usage(&cmd_export, "expected a customer: an id, an email, an external id "
				 "or a phone");
	int64_t id = person(c, &cmd_export, who);
	if (!id)
		return EXIT_FAIL;
	json_t *doc = patron_person_export(c->store, id, c->now);
	if (!doc)
		return cli_fail(EXIT_FAIL, "customer %lld: cannot be read", (long long)id);
	if (!out) {
		cli_print_json(doc);
		return EXIT_OK;
	}
	/* Personal data: readable by the owner only. */
	int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	int rc = fd < 0 ? -1 : json_dumpfd(doc, fd, JSON_INDENT(2) | JSON_SORT_KEYS);
	if (fd >= 0 && (write(fd, "\n", 1) != 1 || close(fd) < 0))
		rc = -1;
	json_decref(doc);
	if (rc < 0)
		return cli_fail(EXIT_FAIL, "%s: cannot write: %s", out, strerror(errno));
	printf("wrote everything held on customer %lld to %s\n", (long long)id, out);
	return EXIT_OK;
}

static int erase_person(cli *c, int argc, char **argv)
{
	const char *who = NULL;
	int yes = 0;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--yes") == 0)
			yes = 1;
		else if (argv[i][0] == '-' && argv[i][1])
			return cli_usage(&cmd_erase, "unknown option \"%s\"", argv[i]);
		else if (who)
			return cli_usage(&cmd_erase, "one person at a time");
		else
			who = argv[i];
	}
	if (!who)
		return cli_usage(&cmd_erase, "expected a customer: an id, an email, an external id "
				 "or a phone");
	int64_t id = person(c, &cmd_erase, who);
	if (!id)
		return EXIT_FAIL;
	if (!yes)
		return cli_fail(EXIT_USAGE, "erasing customer %lld cannot be undone: run again with "
				"--yes (patron export first keeps a copy for the person)",
				(long long)id);
	patron_config *cfg = cli_config(c);
	if (!cfg)
		return EXIT_FAIL;
	patron_plugins ps = {0};
	patron_plugins_load(&ps, c->exe_dir);
	patron_erase_stats st;
	patron_err err;
	int rc = patron_person_erase(c->store, id, cfg, &ps, c->now, &st, &err);
	patron_plugins_free(&ps);
	patron_config_free(cfg);
	if (rc < 0)
		return cli_fail(EXIT_FAIL, "customer %lld: %s; nothing was erased", (long long)id,
				err.msg);
	printf("erased customer %lld: %ld identities, %ld messages (%ld delivered copies), "
	       "%ld events, %ld audit rows, %ld feedback and %ld tickets cleared", (long long)id,
	       st.identities, st.messages, st.files, st.events, st.audit, st.feedback,
	       st.tickets);
	if (st.tombstone)
		printf("; %ld orders kept, anonymous, as customer %lld\n", st.orders,
		       (long long)st.tombstone);
	else
		printf("; no orders to keep\n");
	return EXIT_OK;
}

const cli_command cmd_export = {
	"export", export_person, "everything held on one person, as one JSON document",
	"usage: patron export CUSTOMER [--out FILE]\n"
	"\n"
	"Writes everything the store holds on the customer (an id, an email, an\n"
	"external id or a phone): the customer row, identities, attributes, tags,\n"
	"consent, orders and their lines, feedback, tickets and their emails,\n"
	"events, messages, scores, recommendations and the audit of what rules did, as one JSON document; to\n"
	"FILE (readable by you only) or to stdout.\n",
};

const cli_command cmd_erase = {
	"erase", erase_person, "erase one person's data, keeping the shop's anonymous figures",
	"usage: patron erase CUSTOMER --yes\n"
	"\n"
	"Removes the customer's personal data everywhere: the customer row,\n"
	"identities, attributes, tags, consent, feedback, tickets (the emails\n"
	"they wrote and the answers), scores and recommendations; the addresses and contents of their messages, their\n"
	"events' data and the audit's details; other events that spell out one of\n"
	"their addresses; and the copies channels keep of what they sent (the\n"
	"outbox-file channel's .eml files and messages.jsonl lines). Orders keep\n"
	"their amounts, dates and lines under a new anonymous customer, so the\n"
	"shop's revenue does not change. The erasure is recorded (when, and how\n"
	"many rows) without the erased values, and the store file is rewritten so\n"
	"no erased byte stays in it. Cannot be undone: --yes says you mean it.\n",
};
