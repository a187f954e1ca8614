/* patron train JOB, patron models: fitting models and what is stored. */
#include <stdio.h>
#include <string.h>

#include "../plugin.h"
#include "../value.h"
#include "cli.h"

static int train(cli *c, int argc, char **argv)
{
	const char *job = NULL, *choice = NULL;
	for (int i = 1; i < argc; i++) {
		const char *v;
		int r = cli_opt_value(argc, argv, &i, "--plugin", &v);
		if (r < 0)
			return cli_usage(&cmd_train, "--plugin needs a name");
		if (r > 0)
			choice = v;
		else if (!job)
			job = argv[i];
		else
			return cli_usage(&cmd_train, "unexpected argument \"%s\"", argv[i]);
	}
	if (!job)
		return cli_usage(&cmd_train, "expected a job (segment, churn, value, ...)");
	const patron_job *j = patron_jobs;
	while (j->job && strcmp(j->job, job) != 0)
		j++;
	if (!j->job)
		return cli_usage(&cmd_train, "no job \"%s\" (expected segment, churn, value, "
				 "recommend or sentiment)", job);
	patron_config *cfg = cli_config(c);
	if (!cfg)
		return EXIT_FAIL;
	patron_store *s = cli_store(c);
	if (!choice)
		choice = patron_config_plugin(cfg, job);
	int rc = EXIT_FAIL;
	patron_plugins ps = {0};
	patron_snapshot sn;
	patron_snapshot_init(&sn, s, c->now);
	char name[256];
	snprintf(name, sizeof name, "%s.%s", job, choice ? choice : "");
	const patron_plugin_file *pf = NULL;
	if (!s)
		goto out;
	if (!choice) {
		cli_fail(EXIT_FAIL, "%s: no plugin is chosen for %s", patron_config_path(cfg), job);
		goto out;
	}
	patron_plugins_load(&ps, c->exe_dir);
	pf = patron_plugins_find(&ps, name);
	if (!pf) {
		cli_fail(EXIT_FAIL, "there is no plugin %s (see patron plugins)", name);
		goto out;
	}
	patron_run_env env = {.store = s, .snapshot = &sn, .config = cfg, .job = job, .now = c->now};
	int64_t version = 0;
	patron_err err;
	double t0 = patron_clock();
	if (patron_plugin_train(pf, &env, &version, &err) < 0) {
		cli_fail(EXIT_FAIL, "%s", err.msg);
		goto out;
	}
	if (c->json)
		cli_print_json(json_pack("{s:s, s:s, s:I, s:f}", "job", job, "plugin", name,
					 "version", (json_int_t)version, "seconds",
					 patron_clock() - t0));
	else
		printf("%s: %s trained in %.2f s; stored as model version %lld\n", job, name,
		       patron_clock() - t0, (long long)version);
	rc = EXIT_OK;
out:
	patron_snapshot_free(&sn);
	patron_plugins_free(&ps);
	patron_config_free(cfg);
	return rc;
}

static int models(cli *c, int argc, char **argv)
{
	if (argc > 1)
		return cli_usage(&cmd_models, "unexpected argument \"%s\"", argv[1]);
	patron_store *s = cli_store(c);
	if (!s)
		return EXIT_FAIL;
	sqlite3_stmt *st;
	sqlite3_prepare_v2(patron_store_db(s), "SELECT name, version, plugin_version, trained_at,"
			   " as_of, params FROM models ORDER BY name, version", -1, &st, NULL);
	json_t *all = c->json ? json_array() : NULL;
	int n = 0;
	while (sqlite3_step(st) == SQLITE_ROW) {
		char trained[24], asof[24];
		patron_format_date(sqlite3_column_int64(st, 3), trained);
		patron_format_day(sqlite3_column_int64(st, 4), asof);
		const char *name = (const char *)sqlite3_column_text(st, 0);
		const char *params = (const char *)sqlite3_column_text(st, 5);
		if (all) {
			json_error_t jerr;
			json_array_append_new(all, json_pack("{s:s, s:I, s:s, s:s, s:s, s:o}", "name",
				name, "version", (json_int_t)sqlite3_column_int64(st, 1),
				"plugin_version", sqlite3_column_text(st, 2), "trained_at", trained,
				"as_of", asof, "params", json_loads(params, 0, &jerr)));
		} else {
			printf("%-18s v%-3lld trained %s (data as of %s)\n  %s\n", name,
			       (long long)sqlite3_column_int64(st, 1), trained, asof, params);
		}
		n++;
	}
	sqlite3_finalize(st);
	if (all)
		cli_print_json(all);
	else if (!n)
		printf("no models yet: patron train JOB, or patron score\n");
	return EXIT_OK;
}

const cli_command cmd_train = {
	"train", train, "fit a job's model and store it as a new version",
	"usage: patron train JOB [--plugin NAME] [--now DATE] [--json]\n"
	"\n"
	"Fits the model of JOB's plugin (patron.conf's choice, or --plugin NAME) on the\n"
	"store as of --now and stores its parameters as the plugin's next model version;\n"
	"patron score then uses the newest. `patron models` lists what is stored.\n"
	"Example: patron train value   (BG/NBD and Gamma-Gamma for value = \"clv\").\n",
};

const cli_command cmd_models = {
	"models", models, "list the trained models stored",
	"usage: patron models [--json]\n"
	"\n"
	"Every model a plugin trained: its name, version, when it was trained, the\n"
	"date its data ran to, and its parameters.\n",
};
