/* Retraining on a schedule (patron run): a supervised job whose options in
 * patron.conf say `retrain = "7d"` is trained again when that long has
 * passed since the last time. The new model (the challenger) is kept in use
 * only if its ROC AUC is not worse than that of the model in use (the
 * champion) by more than `margin` (0.01), both measured on the customers
 * that neither trained on; otherwise the champion stays pinned. Each decision is an event,
 * model.retrained, with both figures. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../plugin.h"
#include "../value.h"
#include "learnopts.h"

static int64_t last_run(patron_store *s, const char *name)
{
	sqlite3_stmt *q;
	int64_t at = -1;
	sqlite3_prepare_v2(patron_store_db(s), "SELECT last_at FROM schedules WHERE name = ?1", -1,
			   &q, NULL);
	sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
	if (sqlite3_step(q) == SQLITE_ROW)
		at = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	return at;
}

static void mark_run(patron_store *s, const char *name, int64_t now)
{
	sqlite3_stmt *q;
	sqlite3_prepare_v2(patron_store_db(s), "INSERT OR REPLACE INTO schedules(name, last_at) "
			   "VALUES (?1, ?2)", -1, &q, NULL);
	sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 2, now);
	sqlite3_step(q);
	sqlite3_finalize(q);
}

/* One job: train a challenger, compare, pin the winner, say so. */
static int retrain_job(cli *c, const patron_config *cfg, const patron_job *j, double margin,
		       int quiet)
{
	learn_cli lo = {0};
	learn_opts o;
	patron_err err;
	/* Labels from patron.conf's label or horizon, as `patron train` reads them. */
	if (cli_learn_finish(c, cfg, j->job, &lo, &o, &cmd_run) != EXIT_OK)
		return EXIT_FAIL;
	patron_plugins ps = {0};
	const patron_plugin_file *pf = cli_job_plugin(c, cfg, j->job, NULL, &ps);
	const char *name = pf ? pf->desc->name : "";
	learn_model champion = {0};
	learn_report r = {0};
	patron_snapshot sn;
	patron_snapshot_init(&sn, c->store, o.lab.label ? c->now : o.lab.cutoff);
	int rc = EXIT_FAIL, have = 0;
	if (!pf)
		goto out;
	have = learn_model_load(c->store, name, 0, &champion, &err);
	if (have < 0) {
		cli_fail(EXIT_FAIL, "retrain %s: %s", j->job, err.msg);
		goto out;
	}
	o.champion = have == 0 ? &champion : NULL;
	patron_run_env env = {.store = c->store, .snapshot = &sn, .config = cfg, .job = j->job,
			      .now = c->now};
	if (learn_train(pf, &env, c->now, &o, &r, &err) < 0) {
		cli_fail(EXIT_FAIL, "retrain %s: %s", j->job, err.msg);
		goto out;
	}
	/* Both measured on the customers neither model trained on. */
	double ch = r.champion_auc, cha = r.challenger_auc;
	int promote = !o.champion || isnan(ch) || (!isnan(cha) && cha >= ch - margin);
	int64_t keep = promote ? r.version : champion.version;
	if (learn_model_use(c->store, name, keep, &err) < 0) {
		cli_fail(EXIT_FAIL, "retrain %s: %s", j->job, err.msg);
		goto out;
	}
	char payload[400];
	snprintf(payload, sizeof payload, "{\"model\":\"%s\",\"challenger\":%lld,\"challenger_auc\":"
		 "%.6f,\"champion\":%lld,\"champion_auc\":%.6f,\"compared\":%zu,\"margin\":%g,\"in_use\":%lld}", name,
		 (long long)r.version, isnan(cha) ? -1.0 : cha,
		 (long long)(o.champion ? champion.version : 0), isnan(ch) ? -1.0 : ch, r.compared, margin,
		 (long long)keep);
	if (patron_event_append(c->store, "model.retrained", 0, payload, c->now, c->now, &err) < 0) {
		cli_fail(EXIT_FAIL, "%s", err.msg);
		goto out;
	}
	char key[64];
	snprintf(key, sizeof key, "retrain:%s", j->job);
	mark_run(c->store, key, c->now);
	if (!quiet) {
		printf("retrained %s: v%lld has held-out ROC AUC %.4f", name, (long long)r.version,
		       r.holdout.n ? r.holdout.roc_auc : NAN);
		if (o.champion && r.compared)
			printf("; on the %zu customers neither model trained on, %.4f against "
			       "v%lld's %.4f", r.compared, cha, (long long)champion.version, ch);
		else if (o.champion)
			printf("; v%lld held out none of its customers, so the two cannot be "
			       "compared on unseen customers", (long long)champion.version);
		printf(": %s\n", promote ? "the new model is in use"
		       : "kept the old one (the new one is worse by more than the margin)");
	}
	rc = EXIT_OK;
out:
	json_decref(r.importances);
	learn_model_free(&champion);
	free(o.lab.label);
	patron_snapshot_free(&sn);
	patron_plugins_free(&ps);
	return rc;
}

int cli_retrain_due(cli *c, const patron_config *cfg, int dry, int quiet)
{
	int rc = EXIT_OK;
	for (const patron_job *j = patron_jobs; j->job; j++) {
		const char *every = j->supervised ? patron_config_string(cfg, j->job, "retrain") : NULL;
		if (!every)
			continue;
		int64_t period;
		if (patron_parse_duration(every, &period) < 0) {
			rc = cli_fail(EXIT_FAIL, "%s: %s.retrain: expected a duration such as \"7d\", "
				      "got \"%s\"", patron_config_path(cfg), j->job, every);
			continue;
		}
		double margin = 0.01;
		if (patron_config_number(cfg, j->job, "margin", &margin) < 0 || !(margin >= 0)) {
			rc = cli_fail(EXIT_FAIL, "%s: %s.margin: expected a number of at least 0",
				      patron_config_path(cfg), j->job);
			continue;
		}
		char key[64];
		snprintf(key, sizeof key, "retrain:%s", j->job);
		int64_t last = last_run(c->store, key);
		if (last >= 0 && c->now - last < period)
			continue;	/* not due */
		if (dry) {
			if (!quiet)
				printf("retrain %s is due: not in a dry run\n", j->job);
			continue;
		}
		if (retrain_job(c, cfg, j, margin, quiet) != EXIT_OK)
			rc = EXIT_FAIL;
	}
	return rc;
}
