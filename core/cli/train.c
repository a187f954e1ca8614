/* patron train JOB, patron models: fitting models and what is stored. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <stdlib.h>

#include "../plugin.h"
#include "../value.h"
#include "cli.h"
#include "learnopts.h"

/* Prints what a supervised training found. */
static void print_report(cli *c, const char *job, const char *name, const learn_opts *o,
			 const learn_report *r, double secs)
{
	if (c->json) {
		json_t *j = json_pack("{s:s, s:s, s:I, s:f, s:f, s:I, s:I, s:I, s:I}", "job", job,
				      "plugin", name, "version", (json_int_t)r->version, "seconds",
				      secs, "fit_seconds", r->fit_secs, "labelled",
				      (json_int_t)r->labelled, "trained_on",
				      (json_int_t)r->train_rows, "held_out",
				      (json_int_t)r->holdout_rows, "columns", (json_int_t)r->cols);
		json_object_set_new(j, "metrics", r->holdout.n ? metrics_json(&r->holdout)
								: json_null());
		json_object_set(j, "importances", r->importances ? r->importances : json_null());
		json_object_set_new(j, "importance_seconds", json_real(r->importance_secs));
		json_object_set_new(j, "alert_threshold", isnan(r->alert) ? json_null()
									  : json_real(r->alert));
		if (o->horizon_note[0])
			json_object_set_new(j, "horizon_days", json_integer(o->lab.horizon / 86400));
		cli_print_json(j);
		return;
	}
	char label[160];
	if (o->lab.label) {
		snprintf(label, sizeof label, "the attribute %s", o->lab.label);
	} else {
		char day[24];
		snprintf(label, sizeof label, "no order in the %lld days after %s",
			 (long long)(o->lab.horizon / 86400), patron_format_day(o->lab.cutoff, day));
	}
	printf("%s: %s trained on %zu of %zu labelled customers (label: %s), %zu columns, in "
	       "%.2f s (the fit itself %.3f s); stored as model version %lld\n", job, name,
	       r->train_rows, r->labelled, label, r->cols, secs, r->fit_secs,
	       (long long)r->version);
	if (o->horizon_note[0])
		printf("  the horizon is %s\n", o->horizon_note);
	if (!r->holdout.n) {
		printf("  nothing held out (--holdout 0): no figures\n");
		return;
	}
	const metrics *m = &r->holdout;
	printf("  on the %zu held out: ROC AUC %.4f, PR AUC %.4f, log loss %.4f, accuracy %.4f "
	       "at 0.5\n", m->n, m->roc_auc, m->pr_auc, m->log_loss, m->at_half.accuracy);
	if (!isnan(r->alert))
		printf("  alert threshold %.3g: the riskiest %.0f%% of the held-out customers; %.0f%% "
		       "of those alerted did churn (precision), %.0f%% of those who churned were "
		       "alerted (recall); churn.threshold in patron.conf sets another\n", r->alert,
		       100 * LEARN_ALERT_SHARE, 100 * r->alert_precision, 100 * r->alert_recall);
	printf("  what matters most (the held-out AUC lost when the column is shuffled; measured "
	       "in %.2f s):\n", r->importance_secs);
	size_t i;
	json_t *v;
	json_array_foreach(r->importances, i, v) {
		if (i == 10)
			break;
		printf("    %-40s %.4f\n", json_string_value(json_object_get(v, "feature")),
		       json_real_value(json_object_get(v, "auc_drop")));
	}
}

int cli_train_supervised(cli *c, const patron_job *j, const char *choice, learn_cli *lo)
{
	patron_config *cfg = cli_config(c);
	if (!cfg)
		return EXIT_FAIL;
	learn_opts o;
	int rc = cli_learn_finish(c, cfg, j->job, lo, &o, &cmd_train);
	if (rc != EXIT_OK) {
		patron_config_free(cfg);
		return rc;
	}
	rc = EXIT_FAIL;
	patron_plugins ps = {0};
	patron_snapshot sn;
	patron_store *s = cli_store(c);
	/* Derived labels: the features as they were at the cutoff. */
	patron_snapshot_init(&sn, s, o.lab.label ? c->now : o.lab.cutoff);
	const patron_plugin_file *pf = NULL;
	learn_report r = {0};
	if (!s || !(pf = cli_job_plugin(c, cfg, j->job, choice, &ps)))
		goto out;
	const char *name = pf->desc->name;
	if (!patron_plugin_has_train(pf)) {
		cli_fail(EXIT_FAIL, "plugin %s has nothing to train", name);
		goto out;
	}
	patron_run_env env = {.store = s, .snapshot = &sn, .config = cfg, .job = j->job,
			      .now = c->now};
	patron_err err;
	double t0 = patron_clock();
	if (learn_train(pf, &env, c->now, &o, &r, &err) < 0) {
		if (r.too_little && lo->skip_small) {
			printf("%s skipped: %s; it trains once the store has more history\n", name,
			       err.msg);
			rc = EXIT_OK;
		} else {
			cli_fail(EXIT_FAIL, "%s", err.msg);
		}
		goto out;
	}
	print_report(c, j->job, name, &o, &r, patron_clock() - t0);
	rc = EXIT_OK;
out:
	json_decref(r.importances);
	free(o.lab.label);
	patron_snapshot_free(&sn);
	patron_plugins_free(&ps);
	patron_config_free(cfg);
	return rc;
}

static int train(cli *c, int argc, char **argv)
{
	const char *job = NULL, *choice = NULL, *file = NULL;
	learn_cli lo = {0};
	int learn_opts_given = 0;
	for (int i = 1; i < argc; i++) {
		const char *v, *missing;
		int r = cli_opt_value(argc, argv, &i, "--plugin", &v);
		if (r < 0)
			return cli_usage(&cmd_train, "--plugin needs a name");
		if (r > 0) {
			choice = v;
			continue;
		}
		r = cli_learn_option(argc, argv, &i, &lo, &missing);
		if (r < 0)
			return cli_usage(&cmd_train, "%s needs a value", missing);
		if (r > 0)
			learn_opts_given = 1;
		else if (!job)
			job = argv[i];
		else if (!file && (strcmp(job, "intents") == 0 || strcmp(job, "intent") == 0))
			file = argv[i];
		else
			return cli_usage(&cmd_train, "unexpected argument \"%s\"", argv[i]);
	}
	if (!job)
		return cli_usage(&cmd_train, "expected a job (segment, churn, value, ...)");
	if (strcmp(job, "intents") == 0 || strcmp(job, "intent") == 0) {
		if (!file)
			return cli_usage(&cmd_train, "intents learn from a CSV file of labelled "
					 "messages (columns text, intent), e.g. "
					 "examples/intents.csv");
		if (learn_opts_given)
			return cli_usage(&cmd_train, "intents take --plugin only");
		return cli_train_intents(c, choice, file);
	}
	const patron_job *j = patron_jobs;
	while (j->job && strcmp(j->job, job) != 0)
		j++;
	if (!j->job)
		return cli_usage(&cmd_train, "no job \"%s\" (expected segment, churn, value, "
				 "recommend or sentiment)", job);
	if (j->kind == PATRON_KIND_FORECASTER)
		return cli_fail(EXIT_FAIL, "a forecast is fitted when it is made, on the sales up "
				"to --now: patron forecast (or patron report)");
	if (j->supervised)
		return cli_train_supervised(c, j, choice, &lo);
	if (learn_opts_given)
		return cli_usage(&cmd_train, "--label, --cutoff, --horizon, --holdout and --seed are "
				 "for jobs that learn from labels (churn)");
	patron_config *cfg = cli_config(c);
	if (!cfg)
		return EXIT_FAIL;
	patron_store *s = cli_store(c);
	int rc = EXIT_FAIL;
	patron_plugins ps = {0};
	patron_snapshot sn;
	patron_snapshot_init(&sn, s, c->now);
	const patron_plugin_file *pf = NULL;
	if (!s || !(pf = cli_job_plugin(c, cfg, job, choice, &ps)))
		goto out;
	const char *name = pf->desc->name;
	patron_run_env env = {.store = s, .snapshot = &sn, .config = cfg, .job = job, .now = c->now};
	int64_t version = 0;
	patron_err err;
	double t0 = patron_clock();
	/* An analyzer learns from what customers wrote up to --now, with
	 * their ratings. */
	patron_texts texts = {0};
	char **bodies = NULL;
	double *ratings = NULL;
	if (pf->desc->kind == PATRON_KIND_ANALYZER) {
		sqlite3_stmt *st;
		if (sqlite3_prepare_v2(patron_store_db(s), "SELECT body, rating FROM feedback WHERE"
				       " received_at <= ?1 ORDER BY id", -1, &st, NULL) != SQLITE_OK) {
			cli_fail(EXIT_FAIL, "%s: %s", c->db_path, sqlite3_errmsg(patron_store_db(s)));
			goto out;
		}
		sqlite3_bind_int64(st, 1, c->now);
		size_t cap = 0;
		while (sqlite3_step(st) == SQLITE_ROW) {
			if (texts.n == cap) {
				cap = cap ? 2 * cap : 256;
				bodies = patron_xrealloc(bodies, cap * sizeof *bodies);
				ratings = patron_xrealloc(ratings, cap * sizeof *ratings);
			}
			bodies[texts.n] = patron_xstrdup((const char *)sqlite3_column_text(st, 0));
			ratings[texts.n++] = sqlite3_column_type(st, 1) == SQLITE_NULL
					     ? NAN : sqlite3_column_double(st, 1);
		}
		sqlite3_finalize(st);
		texts.texts = (const char *const *)bodies;
		texts.ratings = ratings;
		env.texts = &texts;
	}
	int trained = patron_plugin_train(pf, &env, &version, &err);
	for (size_t i = 0; i < texts.n; i++)
		free(bodies[i]);
	free(bodies);
	free(ratings);
	if (trained < 0) {
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

/* patron models use NAME@VERSION */
static int models_use(cli *c, const char *what)
{
	const char *at = strrchr(what, '@');
	char *end;
	long long version = at ? strtoll(at + 1, &end, 10) : 0;
	if (!at || at == what || *end || version < 1)
		return cli_usage(&cmd_models, "use: expected NAME@VERSION (churn.forest@2), got \"%s\"",
				 what);
	patron_store *s = cli_store(c);
	if (!s)
		return EXIT_FAIL;
	char name[256];
	snprintf(name, sizeof name, "%.*s", (int)(at - what), what);
	patron_err err;
	if (learn_model_use(s, name, version, &err) < 0)
		return cli_fail(EXIT_FAIL, "%s", err.msg);
	printf("%s: version %lld is in use from now on (patron score uses it)\n", name, version);
	return EXIT_OK;
}

/* patron models show NAME: the model in use, with its rules when it has
 * them (a decision tree's, as if-then text). */
static int models_show(cli *c, const char *name)
{
	patron_store *s = cli_store(c);
	if (!s)
		return EXIT_FAIL;
	learn_model m;
	patron_err err;
	int rc = learn_model_load(s, name, 0, &m, &err);
	if (rc < 0)
		return cli_fail(EXIT_FAIL, "%s", err.msg);
	if (rc == 1)
		return cli_fail(EXIT_FAIL, "there is no model %s (see patron models)", name);
	json_error_t jerr;
	json_t *own = json_loads(m.params ? m.params : "{}", 0, &jerr);
	json_t *rules = json_object_get(own, "rules"), *metrics = json_object_get(m.stored, "metrics");
	json_t *alert = json_object_get(json_object_get(m.stored, "alert"), "threshold");
	if (c->json) {
		json_t *j = json_pack("{s:s, s:I, s:O, s:O, s:O}", "name", name, "version",
				      (json_int_t)m.version, "metrics", metrics ? metrics : json_null(),
				      "alert_threshold", alert ? alert : json_null(), "rules",
				      rules ? rules : json_null());
		cli_print_json(j);
	} else {
		char asof[24];
		printf("%s v%lld (data as of %s)", name, (long long)m.version,
		       patron_format_day(m.as_of, asof));
		if (json_is_object(metrics))
			printf(": held-out ROC AUC %.4f",
			       json_number_value(json_object_get(metrics, "roc_auc")));
		if (alert)
			printf(", alert threshold %.3g", json_number_value(alert));
		printf("\n");
		size_t i;
		json_t *r;
		if (!json_array_size(rules))
			printf("  (this model has no rules to read: its figures are in patron models)\n");
		json_array_foreach(rules, i, r)
			printf("  %s\n", json_string_value(r));
	}
	json_decref(own);
	learn_model_free(&m);
	return EXIT_OK;
}

static int models(cli *c, int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "use") == 0)
		return models_use(c, argv[2]);
	if (argc == 3 && strcmp(argv[1], "show") == 0)
		return models_show(c, argv[2]);
	if (argc > 1)
		return cli_usage(&cmd_models, "unexpected argument \"%s\"", argv[1]);
	patron_store *s = cli_store(c);
	if (!s)
		return EXIT_FAIL;
	sqlite3_stmt *st;
	sqlite3_prepare_v2(patron_store_db(s), "SELECT name, version, plugin_version, trained_at,"
			   " as_of, params, version = coalesce((SELECT CAST(value AS INTEGER) FROM "
			   "settings WHERE name = 'model.' || m.name), (SELECT max(version) FROM "
			   "models WHERE name = m.name)) FROM models m ORDER BY name, version", -1, &st,
			   NULL);
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
			json_array_append_new(all, json_pack("{s:s, s:I, s:s, s:s, s:s, s:b, s:o}",
				"name", name, "version", (json_int_t)sqlite3_column_int64(st, 1),
				"plugin_version", sqlite3_column_text(st, 2), "trained_at", trained,
				"as_of", asof, "in_use", sqlite3_column_int(st, 6),
				"params", json_loads(params, 0, &jerr)));
		} else {
			printf("%-18s v%-3lld trained %s (data as of %s)%s\n", name,
			       (long long)sqlite3_column_int64(st, 1), trained, asof,
			       sqlite3_column_int(st, 6) ? "  in use" : "");
			json_error_t jerr;
			json_t *p = json_loads(params, 0, &jerr);
			json_t *m = json_object_get(p, "metrics");
			if (json_is_object(json_object_get(p, "schema"))) {
				/* A supervised model: its figures, not its weights. */
				printf("  %lld columns, trained on %lld customers",
				       (long long)json_integer_value(json_object_get(json_object_get(p,
					"rows"), "columns")), (long long)json_integer_value(
					json_object_get(json_object_get(p, "rows"), "trained_on")));
				if (json_is_object(m))
					printf("; held out %lld: ROC AUC %.4f, log loss %.4f",
					       (long long)json_integer_value(json_object_get(m, "customers")),
					       json_number_value(json_object_get(m, "roc_auc")),
					       json_number_value(json_object_get(m, "log_loss")));
				printf("\n");
			} else if (json_is_object(json_object_get(p, "units"))) {
				/* Each figure with its unit, as the model states them. */
				json_t *units = json_object_get(p, "units"), *v;
				const char *k;
				int col = 0;
				printf(" ");
				json_object_foreach(p, k, v) {
					if (!json_is_number(v))
						continue;
					const char *u = json_string_value(json_object_get(units, k));
					char item[160];
					int len = snprintf(item, sizeof item, " %s %.6g%s%s", k,
							   json_number_value(v), u ? " " : "", u ? u : "");
					if (col + len > 88) {
						printf("\n ");
						col = 0;
					}
					printf("%s", item);
					col += len;
				}
				printf("\n");
			} else {
				printf("  %s\n", params);
			}
			json_decref(p);
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
	"       patron train intents FILE.csv [--plugin bayes|linear]\n"
	"       patron train churn [--plugin NAME] (--label ATTRIBUTE | [--cutoff DATE]\n"
	"                          --horizon 90d) [--holdout 0.2] [--seed N]\n"
	"\n"
	"Fits the model of JOB's plugin (patron.conf's choice, or --plugin NAME) on the\n"
	"store as of --now and stores its parameters as the plugin's next model version;\n"
	"patron score then uses the newest (or the one `patron models use` pins).\n"
	"Example: patron train value   (BG/NBD and Gamma-Gamma for value = \"clv\").\n"
	"\n"
	"churn learns from labels:\n"
	"  --label ATTRIBUTE   a customer attribute saying who churned: yes/no, true/false\n"
	"                      or 1/0 (e.g. a cancelled flag from a billing export)\n"
	"  --horizon 90d       derived from history: features as of a cutoff (--cutoff\n"
	"                      DATE; default --now minus the horizon), and churned = no\n"
	"                      paid order within the horizon after it\n"
	"  --holdout 0.2       the share of labelled customers held out to measure the\n"
	"                      model (ROC AUC, PR AUC, log loss) and the importance of\n"
	"                      each column; they are not trained on\n"
	"  --seed N            which customers are held out (1)\n"
	"Text attributes become one-hot columns, numbers are standardized and missing\n"
	"values take the median with a missing-indicator column, all fitted on the\n"
	"training customers and stored with the model. `label` and `horizon` may be set\n"
	"in patron.conf: churn = { plugin = \"forest\", label = \"churned\" }.\n"
	"\n"
	"intents learn what customers' messages are about from FILE.csv, labelled\n"
	"examples with the columns text and intent (examples/intents.csv covers what a\n"
	"small shop hears: order_status, shipping, return_refund, product_question,\n"
	"complaint, billing, unsubscribe, other): intent.bayes (naive Bayes, the\n"
	"default) or intent.linear (logistic regression, one label against the rest),\n"
	"both over TF-IDF of words, word pairs and character 3-grams. The open tickets\n"
	"without an intent are labelled at once; new messages as they are imported.\n",
};

const cli_command cmd_models = {
	"models", models, "list the trained models stored",
	"usage: patron models [--json]\n"
	"       patron models use NAME@VERSION\n"
	"       patron models show NAME [--json]\n"
	"\n"
	"Every model a plugin trained: its name, version, when it was trained, the\n"
	"date its data ran to, and its parameters (for churn models, the held-out\n"
	"figures). The newest version of each is in use unless `models use` pinned\n"
	"another: `patron models use churn.forest@2` rolls back to version 2.\n"
	"`patron models show churn.tree` prints the model in use with its rules: a\n"
	"decision tree's leaves as if-then text, the riskiest first.\n",
};
