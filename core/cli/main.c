/* patron: the customer engine's command line. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libgen.h>
#include <unistd.h>

#include "../config.h"
#include "../import.h"
#include "../value.h"
#include "cli.h"

#define PATRON_VERSION "0.1.0"

static const cli_command *const commands[] = {
	&cmd_init, &cmd_import, &cmd_customer, &cmd_customers, &cmd_stats, &cmd_report, &cmd_forecast, &cmd_score, &cmd_segments, &cmd_train,
	&cmd_models, &cmd_recommend, &cmd_eval, &cmd_plugins,
	&cmd_run, &cmd_rules, &cmd_emit, &cmd_events, &cmd_audit, &cmd_outbox, &cmd_deliver,
	&cmd_preview, &cmd_unsubscribe, &cmd_inbox, &cmd_ticket, &cmd_survey, &cmd_serve, &cmd_keys, &cmd_passwd,
	&cmd_snapshot, &cmd_export, &cmd_erase, &cmd_backup, &cmd_restore, &cmd_check, &cmd_demo,
	NULL,
};

static void usage(FILE *f)
{
	fprintf(f, "usage: patron [--db PATH] [--now DATE] [--json] COMMAND [ARGS]\n"
		   "\n"
		   "Patron keeps a one-person business's customers in one SQLite file and\n"
		   "learns who is valuable, who is slipping away and what each would buy next.\n"
		   "\n"
		   "commands:\n");
	for (int i = 0; commands[i]; i++)
		fprintf(f, "  %-10s %s\n", commands[i]->name, commands[i]->summary);
	fprintf(f, "\n"
		   "global options (before or after the command):\n"
		   "  --db PATH     the store (default $PATRON_DB, else ./patron.db)\n"
		   "  --config PATH the config (default patron.conf beside the store)\n"
		   "  --now DATE    the date taken as today, YYYY-MM-DD, at 00:00 UTC: orders\n"
		   "                dated that day count, later times on it not yet\n"
		   "                (default: the clock)\n"
		   "  --json        print data as JSON\n"
		   "  --busy-timeout DURATION\n"
		   "                how long to wait for a store another patron is writing\n"
		   "                (default 30s)\n"
		   "  --version     print the version\n"
		   "\n"
		   "`patron COMMAND --help` describes a command. Exit status: 0 ok, 1 failure,\n"
		   "2 usage error.\n");
}

int cli_fail(int status, const char *fmt, ...)
{
	va_list ap;
	fputs("patron: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return status;
}

int cli_usage(const cli_command *cmd, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "patron %s: ", cmd->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n%.*s\n(see patron %s --help)\n",
		(int)strcspn(cmd->help, "\n"), cmd->help, cmd->name);
	return EXIT_USAGE;
}

int cli_is_help(const char *arg)
{
	return strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0;
}

void cli_print_json(json_t *j)
{
	/* 15 digits: what a double holds exactly, so 42.98 prints as 42.98 */
	json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15));
	fputc('\n', stdout);
	json_decref(j);
}

int cli_opt_value(int argc, char **argv, int *i, const char *name, const char **val)
{
	size_t n = strlen(name);
	const char *a = argv[*i];
	if (strncmp(a, name, n) != 0)
		return 0;
	if (a[n] == '=') {
		*val = a + n + 1;
		return 1;
	}
	if (a[n] != '\0')
		return 0;
	if (*i + 1 >= argc)
		return -1;
	*val = argv[++*i];
	return 1;
}

patron_config *cli_config(cli *c)
{
	char path[4200];
	if (c->config_path) {
		snprintf(path, sizeof path, "%s", c->config_path);
	} else {
		char *copy = patron_xstrdup(c->db_path);
		snprintf(path, sizeof path, "%s/patron.conf", dirname(copy));
		free(copy);
	}
	patron_config *cfg;
	patron_err err;
	if (patron_config_load(path, c->config_path != NULL, &cfg, &err) < 0) {
		cli_fail(EXIT_FAIL, "%s", err.msg);
		return NULL;
	}
	return cfg;
}

int cli_base_currency(cli *c, patron_store *s, char out[8])
{
	patron_config *cfg = cli_config(c);
	if (!cfg)
		return -1;
	patron_base_currency(s, patron_config_top_string(cfg, "currency"), out);
	patron_config_free(cfg);
	return 0;
}

const patron_plugin_file *cli_job_plugin(cli *c, const patron_config *cfg, const char *job,
					 const char *choice, patron_plugins *ps)
{
	if (!choice)
		choice = patron_config_plugin(cfg, job);
	if (!choice) {
		cli_fail(EXIT_FAIL, "%s: no plugin is chosen for %s", patron_config_path(cfg), job);
		return NULL;
	}
	char name[256];
	snprintf(name, sizeof name, "%s.%s", job, choice);
	/* loaded once per set: loading again would move the files an open
	 * plugin of an earlier call points at */
	if (!ps->n)
		patron_plugins_load(ps, c->exe_dir);
	const patron_plugin_file *pf = patron_plugins_find(ps, name);
	if (!pf)
		cli_fail(EXIT_FAIL, "there is no plugin %s (see patron plugins)", name);
	return pf;
}

patron_store *cli_store(cli *c)
{
	if (c->store)
		return c->store;
	patron_err err;
	/* A typo in --db must not look like a store with nothing in it. */
	if (access(c->db_path, F_OK) != 0) {
		if (!c->may_create) {
			cli_fail(EXIT_FAIL, "no store at %s; create one with patron init (or import "
				 "into it, which creates it)", c->db_path);
			return NULL;
		}
		if (!c->quiet_create)
			fprintf(stderr, "patron: creating a new store at %s\n", c->db_path);
	}
	if (patron_store_open(c->db_path, &c->store, &err) < 0) {
		cli_fail(EXIT_FAIL, "%s", err.msg);
		return NULL;
	}
	if (c->busy_ms)
		patron_store_busy(c->store, c->busy_ms);
	return c->store;
}

/* Takes the global options out of argv wherever they stand, leaving the
 * command and its own arguments in order. */
static int global_options(cli *c, int *argc, char **argv)
{
	int out = 1;
	for (int i = 1; i < *argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--") == 0) {
			while (i < *argc)
				argv[out++] = argv[i++];
			break;
		}
		int takes = strcmp(a, "--db") == 0 || strcmp(a, "--now") == 0 ||
			    strcmp(a, "--config") == 0 || strcmp(a, "--busy-timeout") == 0;
		const char *val = NULL;
		if (takes) {
			if (i + 1 >= *argc)
				return cli_fail(EXIT_USAGE, "%s needs a value", a);
			val = argv[++i];
		} else if (strncmp(a, "--db=", 5) == 0 || strncmp(a, "--now=", 6) == 0 ||
			   strncmp(a, "--config=", 9) == 0 || strncmp(a, "--busy-timeout=", 15) == 0) {
			val = strchr(a, '=') + 1;
		}
		int64_t secs;
		if (val && strncmp(a, "--busy-timeout", 14) == 0) {
			if (patron_parse_duration(val, &secs) < 0 || secs > 86400)
				return cli_fail(EXIT_USAGE, "--busy-timeout: expected a duration like "
						"\"30s\" or \"2m\", at most a day, got \"%s\"", val);
			c->busy_ms = (int)secs * 1000;
		} else if (val && strncmp(a, "--db", 4) == 0) {
			c->db_path = val;
		} else if (val && strncmp(a, "--config", 8) == 0) {
			c->config_path = val;
		} else if (val) {
			int64_t t;
			if (patron_parse_date(val, PATRON_DATE_MDY, &t) < 0)
				return cli_fail(EXIT_USAGE, "--now: expected a date like 2026-11-23, "
						"got \"%s\"", val);
			c->now = t;
		} else if (strcmp(a, "--json") == 0) {
			c->json = 1;
		} else {
			argv[out++] = argv[i];
		}
	}
	*argc = out;
	argv[out] = NULL;
	return 0;
}

int main(int argc, char **argv)
{
	/* Plugins use both cores with threads of their own; a numeric library
	 * a plugin links (OpenBLAS, OpenMP code) would otherwise start a pool of
	 * threads of its own as it loads, to fight them for the same two cores.
	 * A user's own setting wins. */
	setenv("OPENBLAS_NUM_THREADS", "1", 0);
	setenv("OMP_NUM_THREADS", "1", 0);
	cli c = {.db_path = getenv("PATRON_DB"), .now = (int64_t)time(NULL), .argv0 = argv[0]};
	if (!c.db_path || !*c.db_path)
		c.db_path = "patron.db";
	ssize_t n = readlink("/proc/self/exe", c.exe_dir, sizeof c.exe_dir - 1);
	if (n > 0) {
		c.exe_dir[n] = '\0';
		char *slash = strrchr(c.exe_dir, '/');
		if (slash)
			*slash = '\0';
	} else {
		c.exe_dir[0] = '\0';
	}
	int rc = global_options(&c, &argc, argv);
	if (rc)
		return rc;
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	const char *name = argv[1];
	if (cli_is_help(name) || strcmp(name, "help") == 0) {
		if (argc > 2 && strcmp(name, "help") == 0) {
			for (int i = 0; commands[i]; i++)
				if (strcmp(commands[i]->name, argv[2]) == 0)
					return fputs(commands[i]->help, stdout), EXIT_OK;
			return cli_fail(EXIT_USAGE, "no command \"%s\"", argv[2]);
		}
		usage(stdout);
		return EXIT_OK;
	}
	if (strcmp(name, "--version") == 0 || strcmp(name, "version") == 0) {
		printf("patron %s (schema %d, SQLite %s)\n", PATRON_VERSION, PATRON_SCHEMA_VERSION,
		       sqlite3_libversion());
		return EXIT_OK;
	}
	for (int i = 0; commands[i]; i++) {
		if (strcmp(commands[i]->name, name) != 0)
			continue;
		for (int k = 2; k < argc; k++) {
			if (strcmp(argv[k], "--") == 0)
				break;
			if (cli_is_help(argv[k])) {
				fputs(commands[i]->help, stdout);
				return EXIT_OK;
			}
		}
		c.may_create = commands[i] == &cmd_init || commands[i] == &cmd_import ||
			       commands[i] == &cmd_demo || commands[i] == &cmd_restore ||
			       commands[i] == &cmd_serve || commands[i] == &cmd_keys ||
			       commands[i] == &cmd_passwd;
		/* init says it in its own words */
		c.quiet_create = commands[i] == &cmd_init;
		rc = commands[i]->run(&c, argc - 1, argv + 1);
		patron_store_close(c.store);
		return rc;
	}
	fprintf(stderr, "patron: unknown command \"%s\"\n", name);
	usage(stderr);
	return EXIT_USAGE;
}
