/* patron run: events to event rules, due schedules to scheduled rules.
 * patron rules check: a rule file's syntax and shape, without a store. */
#include <dirent.h>
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../config.h"
#include "../outbox.h"
#include "../rules.h"
#include "../template.h"
#include "../value.h"
#include "../inbox/inbox.h"
#include "cli.h"
#include "learnopts.h"

static int lua_file(const struct dirent *d)
{
	size_t n = strlen(d->d_name);
	return d->d_name[0] != '.' && n > 4 && strcmp(d->d_name + n - 4, ".lua") == 0;
}

int cli_load_rules(patron_rules *r, const char *path, int *nfiles)
{
	struct stat sb;
	if (stat(path, &sb) != 0)
		return cli_fail(EXIT_FAIL, "%s: cannot read: %s", path, strerror(errno));
	patron_err err;
	if (!S_ISDIR(sb.st_mode)) {
		(*nfiles)++;
		if (patron_rules_load(r, path, &err) < 0)
			return cli_fail(EXIT_FAIL, "%s (the file's rules are left out)", err.msg);
		return EXIT_OK;
	}
	struct dirent **list;
	int n = scandir(path, &list, lua_file, alphasort);
	if (n < 0)
		return cli_fail(EXIT_FAIL, "%s: cannot read: %s", path, strerror(errno));
	int rc = EXIT_OK;
	for (int i = 0; i < n; i++) {
		char file[4400];
		snprintf(file, sizeof file, "%s/%s", path, list[i]->d_name);
		(*nfiles)++;
		if (patron_rules_load(r, file, &err) < 0)
			rc = cli_fail(EXIT_FAIL, "%s (the file's rules are left out)", err.msg);
		free(list[i]);
	}
	free(list);
	return rc;
}

static int run(cli *c, int argc, char **argv)
{
	int dry = 0, verbose = 0, quiet = 0, send = 1, wait = 0;
	const char **paths = calloc((size_t)argc, sizeof *paths);
	int npaths = 0;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--dry-run") == 0 || strcmp(argv[i], "-n") == 0)
			dry = 1;
		else if (strcmp(argv[i], "--verbose") == 0 || strcmp(argv[i], "-v") == 0)
			verbose = 1;
		else if (strcmp(argv[i], "--quiet") == 0 || strcmp(argv[i], "-q") == 0)
			quiet = 1;
		else if (strcmp(argv[i], "--no-deliver") == 0)
			send = 0;
		else if (strcmp(argv[i], "--wait") == 0)
			wait = 1;
		else if (argv[i][0] == '-' && argv[i][1])
			return free(paths), cli_usage(&cmd_run, "unknown option \"%s\"", argv[i]);
		else
			paths[npaths++] = argv[i];
	}
	char fallback[4200];
	if (!npaths) {
		char *copy = patron_xstrdup(c->db_path);
		snprintf(fallback, sizeof fallback, "%s/rules", dirname(copy));
		free(copy);
		struct stat sb;
		if (stat(fallback, &sb) != 0) {
			free(paths);
			return cli_fail(EXIT_FAIL, "no rules: name rule files or folders, or put "
					"them in %s/", fallback);
		}
		paths[npaths++] = fallback;
	}
	patron_config *cfg = cli_config(c);
	if (!cfg || !cli_store(c)) {
		free(paths);
		patron_config_free(cfg);
		return EXIT_FAIL;
	}
	/* One run at a time: two would hand the same events to the rules. */
	patron_err lerr;
	int lock = patron_store_lock(c->store, "run", wait, &lerr);
	if (lock < 0) {
		free(paths);
		patron_config_free(cfg);
		return cli_fail(EXIT_FAIL, "%s%s", lerr.msg,
				lock == PATRON_LOCK_HELD ? " (--wait waits for it)" : "");
	}
	/* rules = { time_limit = "5s" }: the wall-clock limit of one call
	 * (checked when the config was read). */
	int64_t seconds = 0;
	const char *limit = patron_config_string(cfg, "rules", "time_limit");
	if (limit)
		patron_parse_duration(limit, &seconds);
	/* Models due for retraining first, so the rules see today's. */
	int retrained = cli_retrain_due(c, cfg, dry, quiet);
	/* sla.first_response: tickets unanswered longer are said, once each,
	 * before the rules read the events */
	const char *sla = patron_config_string(cfg, "sla", "first_response");
	int64_t sla_secs = 0, overdue = 0;
	if (sla && !dry && patron_parse_duration(sla, &sla_secs) == 0 && sla_secs > 0) {
		patron_err serr;
		if (patron_tickets_overdue(c->store, sla_secs, c->now, &overdue, &serr) < 0) {
			patron_config_free(cfg);
			free(paths);
			return cli_fail(EXIT_FAIL, "%s", serr.msg);
		}
		if (overdue && !quiet)
			printf("%lld tickets waited longer than sla.first_response (%s) for an "
			       "answer: ticket.overdue\n", (long long)overdue, sla);
	}
	patron_rules_opts o = {.store = c->store, .config = cfg, .now = c->now, .dry_run = dry,
			       .out = quiet ? NULL : stdout, .verbose = verbose, .show_max = -1,
			       .seconds = seconds};
	patron_rules *r = patron_rules_new(&o);
	/* A file that cannot be loaded is left out; the others still run, and
	 * the exit status says that one failed. */
	int files = 0, rc = EXIT_OK, loaded = EXIT_OK;
	for (int i = 0; i < npaths; i++)
		if (cli_load_rules(r, paths[i], &files) != EXIT_OK)
			loaded = EXIT_FAIL;
	free(paths);
	patron_rules_totals t;
	patron_err err;
	if (dry && !quiet)
		printf("dry run: nothing is written, sent or moved\n");
	if (patron_rules_run(r, &t, &err) < 0)
		rc = cli_fail(EXIT_FAIL, "%s", err.msg);
	if (rc == EXIT_OK && !quiet)
		printf("%ld rules from %d files: %ld events, %ld customers checked, %ld acted, "
		       "%ld refused, %ld errors%s\n", t.rules, files, t.events, t.checked,
		       t.acted, t.refused, t.errors, dry ? " (dry run: nothing changed)" : "");
	patron_rules_free(r);
	/* What the rules queued goes out now, unless this was a dry run. */
	int sent = rc == EXIT_OK && send && !dry ? cli_deliver(c, cfg, 0, verbose, quiet, 1)
						 : EXIT_OK;
	/* retention.events: what is older than it goes, once what is due ran. */
	int pruned = EXIT_OK;
	if (rc == EXIT_OK && !dry) {
		patron_plugins ps = {0};
		patron_plugins_load(&ps, c->exe_dir);
		long events, messages;
		if (patron_retention(c->store, cfg, &ps, c->now, &events, &messages, &err) < 0)
			pruned = cli_fail(EXIT_FAIL, "retention: %s", err.msg);
		else if ((events || messages) && !quiet)
			printf("retention: %ld events and the contents of %ld messages older than %s "
			       "removed\n", events, messages,
			       patron_config_string(cfg, "retention", "events"));
		patron_plugins_free(&ps);
	}
	if (rc == EXIT_OK && (t.errors || sent != EXIT_OK || retrained != EXIT_OK ||
			      loaded != EXIT_OK || pruned != EXIT_OK))
		rc = EXIT_FAIL;	/* the others ran; the exit status still tells cron */
	patron_config_free(cfg);
	close(lock);
	return rc;
}

const cli_command cmd_run = {
	"run", run, "run the rules once: pending events and due schedules",
	"usage: patron run [RULES...] [--now DATE] [--dry-run] [--no-deliver] [--wait]\n"
	"                  [--verbose] [--quiet]\n"
	"\n"
	"Loads the rule files named (a folder means its *.lua files; default: rules/\n"
	"beside the store), hands each event rule the events it has not seen yet, and\n"
	"runs each scheduled rule that is due as of --now. Prints, per rule, what it\n"
	"checked, matched and did. Safe to run from cron: a second run at the same\n"
	"--now does nothing twice, and a run killed midway is finished by the next.\n"
	"\n"
	"  --dry-run, -n   do everything in a transaction that is rolled back, and\n"
	"                  print every action that would happen, with why\n"
	"  --no-deliver    leave the messages queued (patron deliver sends them)\n"
	"  --wait          wait for a patron run already running on the store (without\n"
	"                  it, a second run says so and exits 1)\n"
	"  --verbose, -v   print every action of a real run too\n"
	"  --quiet, -q     print nothing but errors\n"
	"\n"
	"A rule that fails (a Lua error, its instruction budget or memory cap) is\n"
	"reported with its name, the customer and the file:line, and the other rules\n"
	"go on; the exit status is then 1. Messages go to the outbox and are then\n"
	"delivered (see patron deliver, patron outbox).\n",
};

static int template_file(const struct dirent *d)
{
	const char *dot = strrchr(d->d_name, '.');
	return d->d_name[0] != '.' && dot &&
	       (strcmp(dot, ".txt") == 0 || strcmp(dot, ".html") == 0 ||
		strcmp(dot, ".subject") == 0 || strcmp(dot, ".tmpl") == 0);
}

/* Reads every template in the templates/ folder beside PATH's rules: syntax,
 * customer fields that do not exist, names that are not customer.*, vars.*
 * or unsubscribe_url. What vars a send gives is checked when it runs. */
static int check_templates(const char *path)
{
	struct stat sb;
	char dir[4400];
	char *copy = patron_xstrdup(path);
	snprintf(dir, sizeof dir, "%s/templates",
		 stat(path, &sb) == 0 && S_ISDIR(sb.st_mode) ? path : dirname(copy));
	free(copy);
	struct dirent **list;
	int n = scandir(dir, &list, template_file, alphasort);
	if (n < 0)
		return EXIT_OK;	/* no templates folder: nothing to check */
	int rc = EXIT_OK, count = 0;
	for (int i = 0; i < n; i++) {
		char *name = list[i]->d_name;
		*strrchr(name, '.') = '\0';
		int seen = i > 0 && strcmp(list[i - 1]->d_name, name) == 0;
		patron_template *t;
		patron_err err;
		if (!seen) {
			count++;
			if (patron_template_load(dir, name, &t, &err) < 0)
				rc = cli_fail(EXIT_FAIL, "%s", err.msg);
			else
				patron_template_free(t);
		}
		if (i > 0)
			free(list[i - 1]);
	}
	if (n > 0)
		free(list[n - 1]);
	free(list);
	if (rc == EXIT_OK)
		printf("%s: %d templates ok\n", dir, count);
	return rc;
}

static int rules_check(int argc, char **argv)
{
	if (argc < 3)
		return cli_usage(&cmd_rules, "check needs a rule file or folder");
	/* One set of rules for every path, as patron run loads them, so a name
	 * used twice across files is refused here too. */
	patron_rules_opts o = {.now = 0};
	patron_rules *r = patron_rules_new(&o);
	int rc = EXIT_OK;
	for (int i = 2; i < argc; i++) {
		size_t before = patron_rules_count(r);
		int files = 0, loaded = cli_load_rules(r, argv[i], &files);
		if (loaded != EXIT_OK)
			rc = EXIT_FAIL;
		size_t after = patron_rules_count(r);
		if (loaded == EXIT_OK || after > before) {
			printf("%s: %zu rules ok\n", argv[i], after - before);
			for (size_t k = before; k < after; k++) {
				char d[600];
				patron_rules_describe(r, k, d, sizeof d);
				printf("  %s\n", d);
			}
		}
		if (check_templates(argv[i]) != EXIT_OK)
			rc = EXIT_FAIL;
	}
	patron_rules_free(r);
	return rc;
}

static int rules(cli *c, int argc, char **argv)
{
	(void)c;
	if (argc >= 2 && strcmp(argv[1], "check") == 0)
		return rules_check(argc, argv);
	return cli_usage(&cmd_rules, argc < 2 ? "expected check" : "unknown subcommand \"%s\"",
			 argc < 2 ? "" : argv[1]);
}

const cli_command cmd_rules = {
	"rules", rules, "check rule files: syntax and shape, with file:line",
	"usage: patron rules check FILE.lua|FOLDER...\n"
	"\n"
	"Loads each rule file in the sandbox without a store and reports the first\n"
	"syntax or shape error as FILE:LINE: what, then reads every template of the\n"
	"templates/ folder beside the rules (syntax, customer fields that do not\n"
	"exist). A rule file declares rules:\n"
	"\n"
	"  rule { name = \"email lapsed VIPs\", every = \"1d\",\n"
	"    where = function(c) return c.segment == \"champions\" and\n"
	"                               c.days_since_last_order > 60 end,\n"
	"    act = function(c) send{ channel = \"email\", to = c, template = \"winback\" } end,\n"
	"    cooldown = \"30d\" }\n"
	"\n"
	"Keys: name; one trigger, on = \"TOPIC\" (or a pattern like \"order.*\") or\n"
	"every = \"1d\" (s, m, h, d, w); where(c, event) deciding, act(c, event) acting;\n"
	"cooldown (per customer); limit (actions per run); max_age (an event rule\n"
	"passes over events older than this, default \"7d\"; false for none).\n"
	"\n"
	"The customer c: id, email, phone, first_name, last_name, name, created_at,\n"
	"orders, total_spent, first_order_at, last_order_at, days_since_last_order,\n"
	"segment, rfm (r, f, m, value), churn, clv, p_alive, expected_purchases,\n"
	"scores, tags, consent, attributes, recommendations, and any attribute by name\n"
	"(c.birthday). The event: id, topic, at, data, and order (key, total,\n"
	"placed_at, number: the customer's how-many-th paid order) for order events.\n"
	"Actions: send{channel=, to=c, template=, vars={}}, tag(c, t), untag(c, t),\n"
	"set(c, name, value), emit(topic, c, data), log(...). Also now, today,\n"
	"days_since(date). Not there: io, os.execute, require, load, debug.\n",
};
