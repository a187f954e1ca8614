/* The `patron` command line: global options, the command table, and the
 * helpers commands share. Each command lives in its own file here. */
#ifndef PATRON_CLI_H
#define PATRON_CLI_H

#include <jansson.h>
#include <stdint.h>

#include "../report/kpi.h"
#include "../plugin.h"
#include "../store.h"

/* Exit statuses: ok, failure, usage error. */
enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

typedef struct {
	const char *db_path;	/* --db, $PATRON_DB, or patron.db */
	int64_t now;		/* --now, or the wall clock */
	int json;		/* --json */
	patron_store *store;	/* opened by cli_store */
	const char *argv0;	/* how patron was invoked, for hints */
	const char *config_path;	/* --config, or NULL: patron.conf beside the store */
	int may_create;		/* the command may create the store (init, import, demo) */
	int quiet_create;	/* and says so itself (init) */
	int busy_ms;		/* --busy-timeout, or 0 for the store's default */
	char exe_dir[4096];	/* the folder of the running binary, for plugins */
} cli;

typedef struct {
	const char *name;
	int (*run)(cli *c, int argc, char **argv);
	const char *summary;
	const char *help;	/* the full --help text, usage line first */
} cli_command;

/* Opens the store on first use; prints the error and returns NULL on failure. */
patron_store *cli_store(cli *c);

/* Prints "patron: MSG" on stderr; returns STATUS. */
int cli_fail(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prints a command's usage error and the hint to --help; returns EXIT_USAGE. */
int cli_usage(const cli_command *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* 1 when ARG is -h or --help. */
int cli_is_help(const char *arg);
/* Prints JSON to stdout with a newline and frees it. */
void cli_print_json(json_t *j);

/* Matches argv[*i] against an option NAME that takes a value ("--map X" or
 * "--map=X"): 1 and *val when it matches (advancing *i past the value), 0
 * when it does not, -1 when the value is missing. */
int cli_opt_value(int argc, char **argv, int *i, const char *name, const char **val);

/* Loads PATH into R: a rule file, or every *.lua of a folder in name order,
 * counting the files in *NFILES. Each file is loaded on its own: one that
 * fails is reported (file:line) and left out, and the others are loaded;
 * then EXIT_FAIL. */
struct patron_rules;
int cli_load_rules(struct patron_rules *r, const char *path, int *nfiles);

/* Prints the one-line summary of an import. */
void cli_import_summary(const char *path, int kind, const void *stats);

/* Drains the outbox (patron deliver); prints the summary unless QUIET.
 * EXIT_FAIL when the store failed or a channel could not be reached. AFTER_RUN
 * (patron run): another deliverer running is no failure, it sends the rest. */
struct patron_config;
int cli_deliver(cli *c, const struct patron_config *cfg, int64_t limit, int verbose, int quiet,
		int after_run);

/* Runs the configured plugins (only job ONLY when not NULL), as patron score. */
int cli_score(cli *c, const char *only);

/* Prints customer ID's profile (as JSON under --json); the store is open. */
int cli_show_customer(cli *c, int64_t id);

/* Loads the config: --config (which must exist), else patron.conf beside
 * the store (which may not). Prints the error and returns NULL on failure. */
struct patron_config *cli_config(cli *c);
/* The shop's base currency into OUT ("" while none is known): patron.conf's,
 * else the store's. -1, with the line printed, when the config fails. */
int cli_base_currency(cli *c, patron_store *s, char out[8]);

/* Loads the plugins into PS (unless it holds them already) and finds JOB's:
 * JOB.CHOICE, or the one patron.conf chooses when CHOICE is NULL. NULL,
 * with the line printed, when none is chosen or there is no such plugin. */
const patron_plugin_file *cli_job_plugin(cli *c, const struct patron_config *cfg,
					 const char *job, const char *choice, patron_plugins *ps);

/* Days of a --period: week 7, month 30; 0 for anything else. */
int cli_period_days(const char *period);
/* The headline figures of the DAYS before --now, with churn.threshold from
 * the config; -1 with the line printed. */
int cli_kpis(cli *c, patron_store *s, int days, patron_kpis *k);

/* Writes the report (patron report) to OUT, or report.html beside the
 * store; *WRITTEN is where. Prints the error itself. */
int cli_report(cli *c, const char *out, int days, const char **written);

/* What the orders say up to --now (patron_sales_read): the paid revenue
 * (base-currency units) and orders per period of DAYS days, oldest first,
 * from the first period with an order (four seasons at most, and at least
 * what the report's chart shows), with THRESHOLD the churn risk that counts
 * as at risk. */
typedef struct {
	int days;
	size_t n, season;
	const double *revenue, *orders;	/* n each, inside sales */
	patron_sales sales;
} cli_sales;
int cli_sales_history(cli *c, int days, double threshold, cli_sales *out);
void cli_sales_free(cli_sales *s);
/* Forecasts Y with the forecaster patron.conf chooses: 0 (METHOD says
 * what was fitted), 1 when there is none yet (WHY says why), -1 with the
 * line printed. */
int cli_forecast_series(cli *c, const struct patron_config *cfg, const double *y, size_t n,
			size_t season, size_t horizon, double *mean, double *lo, double *hi,
			char *method, size_t cap, char *why, size_t why_cap);

/* The analyzer patron.conf chooses for JOB ("sentiment", "intent"), or
 * JOB.CHOICE, opened (*OUT NULL when JOB = false); -1 with the line
 * printed. Its plugins live in PS. */
int cli_analyzer_open(cli *c, const struct patron_config *cfg, const char *job,
		      const char *choice, patron_plugins *ps, patron_analyzer **out);
/* Scores one text with the analyzer CTX (for patron_import_opts). */
int cli_sentiment_one(void *ctx, const char *text, double *out, patron_err *err);
/* The sentiment job of patron score: every feedback scored again, and each
 * customer's mean sentiment of the last year stored as the score
 * "sentiment"; a line printed (or an object appended to ALL). */
int cli_score_sentiment(cli *c, const struct patron_config *cfg, int quiet, json_t *all);

extern const cli_command cmd_init, cmd_import, cmd_customer, cmd_customers, cmd_stats, cmd_report, cmd_forecast, cmd_demo, cmd_plugins,
	cmd_score, cmd_segments, cmd_snapshot, cmd_train, cmd_models, cmd_run, cmd_rules,
	cmd_emit, cmd_events, cmd_audit, cmd_outbox, cmd_deliver, cmd_preview, cmd_unsubscribe,
	cmd_recommend, cmd_eval, cmd_backup, cmd_restore, cmd_check, cmd_export, cmd_erase,
	cmd_serve, cmd_keys, cmd_passwd, cmd_inbox, cmd_ticket, cmd_survey;

/* The surveys of the last DAYS as JSON (NPS, CSAT, detractors, NPS by month). */
int cli_survey_summary(cli *c, patron_store *s, int days, json_t **out);

/* Labels one text with the intent analyzer CTX (1: nothing trained yet). */
int cli_intent_one(void *ctx, const char *text, const char **label, double *confidence,
		   patron_err *err);
/* patron train intents FILE.csv, patron eval intents --test FILE.csv */
int cli_train_intents(cli *c, const char *choice, const char *path);
int cli_eval_intents(cli *c, const char *choice, const char *path);

/* patron import inbox PATH...: customers' emails into tickets. */
int cli_import_inbox(cli *c, int argc, char **argv);

#endif
