/* What customers say: the analyzers patron.conf chooses, opened once per
 * command. The sentiment one (sentiment = "lexicon" unless set) is used by
 * the import of feedback and of the inbox (each new text scored as it
 * lands) and by patron score (every text scored again, and each customer's
 * mean sentiment stored). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../config.h"
#include "cli.h"

int cli_analyzer_open(cli *c, const patron_config *cfg, const char *job, const char *choice,
		      patron_plugins *ps, patron_analyzer **out)
{
	*out = NULL;
	if (!choice && !patron_config_plugin(cfg, job))
		return 0;	/* JOB = false */
	const patron_plugin_file *pf = cli_job_plugin(c, cfg, job, choice, ps);
	if (!pf)
		return -1;
	if (pf->desc->kind != PATRON_KIND_ANALYZER) {
		cli_fail(EXIT_FAIL, "%s: %s: plugin %s is a %s, the job needs an analyzer",
			 patron_config_path(cfg), job, pf->desc->name, patron_kind_name(pf->desc->kind));
		return -1;
	}
	patron_run_env env = {.store = c->store, .config = cfg, .job = job, .now = c->now};
	patron_err err;
	if (patron_analyzer_open(pf, &env, out, &err) < 0) {
		cli_fail(EXIT_FAIL, "%s", err.msg);
		return -1;
	}
	return 0;
}

int cli_sentiment_one(void *ctx, const char *text, double *out, patron_err *err)
{
	return patron_analyzer_score(ctx, 1, &text, out, err);
}

/* Customers' sentiment: the mean of what they wrote in the last year. */
#define SENTIMENT_DAYS 365
#define BATCH 1024

int cli_score_sentiment(cli *c, const patron_config *cfg, int quiet, json_t *all)
{
	patron_plugins ps = {0};
	patron_analyzer *a;
	if (cli_analyzer_open(c, cfg, "sentiment", NULL, &ps, &a) < 0) {
		patron_plugins_free(&ps);
		return EXIT_FAIL;
	}
	if (!a) {
		patron_plugins_free(&ps);
		return EXIT_OK;
	}
	double t0 = patron_clock();
	sqlite3 *db = patron_store_db(c->store);
	patron_err err;
	int began, rc = EXIT_OK;
	size_t scored = 0, customers = 0;
	if (patron_store_savepoint(c->store, "patron_sentiment", &began, &err) < 0) {
		patron_analyzer_close(a);
		patron_plugins_free(&ps);
		return cli_fail(EXIT_FAIL, "%s", err.msg);
	}
	/* Every text again: a retrained model or another analyzer rescores. */
	sqlite3_stmt *sel = NULL, *put = NULL, *agg = NULL;
	int ok = sqlite3_prepare_v2(db, "SELECT id, body FROM feedback ORDER BY id", -1, &sel,
				    NULL) == SQLITE_OK &&
		 sqlite3_prepare_v2(db, "UPDATE feedback SET sentiment = ?2 WHERE id = ?1", -1,
				    &put, NULL) == SQLITE_OK;
	int64_t ids[BATCH];
	char *texts[BATCH];
	double out[BATCH];
	size_t n = 0;
	int step = SQLITE_ROW;
	while (ok && rc == EXIT_OK) {
		step = sqlite3_step(sel);
		if (step == SQLITE_ROW) {
			ids[n] = sqlite3_column_int64(sel, 0);
			texts[n++] = patron_xstrdup((const char *)sqlite3_column_text(sel, 1));
		}
		if (n && (n == BATCH || step != SQLITE_ROW)) {
			if (patron_analyzer_score(a, n, (const char *const *)texts, out, &err) < 0)
				rc = cli_fail(EXIT_FAIL, "%s", err.msg);
			for (size_t i = 0; i < n; i++) {
				if (rc == EXIT_OK) {
					sqlite3_bind_int64(put, 1, ids[i]);
					sqlite3_bind_double(put, 2, out[i]);
					ok &= sqlite3_step(put) == SQLITE_DONE;
					sqlite3_reset(put);
				}
				free(texts[i]);
			}
			scored += n;
			n = 0;
		}
		if (step != SQLITE_ROW)
			break;
	}
	ok &= step == SQLITE_DONE || rc != EXIT_OK;
	char model[300];
	snprintf(model, sizeof model, "%s", patron_analyzer_model(a));
	if (ok && rc == EXIT_OK) {
		/* one score per customer who wrote in the last year, replacing
		 * the last run's; those who have not stop having one */
		ok = sqlite3_prepare_v2(db, "DELETE FROM scores WHERE name = 'sentiment'", -1, &agg,
					NULL) == SQLITE_OK && sqlite3_step(agg) == SQLITE_DONE;
		sqlite3_finalize(agg);
		agg = NULL;
		ok = ok && sqlite3_prepare_v2(db, "INSERT INTO scores(customer_id, name, value, model,"
					      " computed_at) SELECT customer_id, 'sentiment',"
					      " avg(sentiment), ?1, ?2 FROM feedback WHERE sentiment"
					      " IS NOT NULL AND received_at <= ?2 AND received_at > ?2"
					      " - ?3 GROUP BY customer_id", -1, &agg, NULL) == SQLITE_OK;
		if (ok) {
			sqlite3_bind_text(agg, 1, model, -1, SQLITE_STATIC);
			sqlite3_bind_int64(agg, 2, c->now);
			sqlite3_bind_int64(agg, 3, (int64_t)SENTIMENT_DAYS * 86400);
			ok = sqlite3_step(agg) == SQLITE_DONE;
			customers = (size_t)sqlite3_changes(db);
		}
	}
	sqlite3_finalize(sel);
	sqlite3_finalize(put);
	sqlite3_finalize(agg);
	if (!ok && rc == EXIT_OK)
		rc = cli_fail(EXIT_FAIL, "%s: scoring the feedback: %s", c->db_path,
			      sqlite3_errmsg(db));
	if (rc == EXIT_OK && patron_store_release(c->store, "patron_sentiment", began, &err) < 0)
		rc = cli_fail(EXIT_FAIL, "%s", err.msg);
	if (rc != EXIT_OK)
		patron_store_undo(c->store, "patron_sentiment", began);
	double secs = patron_clock() - t0;
	if (rc == EXIT_OK && all)
		json_array_append_new(all, json_pack("{s:s, s:s, s:I, s:I, s:f}", "job", "sentiment",
						     "plugin", model, "texts", (json_int_t)scored,
						     "customers", (json_int_t)customers,
						     "seconds", secs));
	else if (rc == EXIT_OK && !quiet)
		printf("sentiment: %s scored %zu texts in %.2f s; %zu customers have a sentiment "
		       "(the mean of their last %d days)\n", model, scored, secs, customers,
		       SENTIMENT_DAYS);
	patron_analyzer_close(a);
	patron_plugins_free(&ps);
	return rc;
}
