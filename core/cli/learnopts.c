/* The options of supervised jobs that train and eval share: where labels
 * come from, how many customers are held out, the seed. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../value.h"
#include "learnopts.h"

#define RHYTHM_SHARE 0.8
#define RHYTHM_MIN 7
#define RHYTHM_MAX 365

/* The days within which RHYTHM_SHARE of the shop's repeat purchases come
 * after the purchase before (purchase days, as BG/NBD counts them, up to
 * --now), within RHYTHM_MIN and RHYTHM_MAX; NOTE says so. 0 when there is
 * no repeat purchase, -1 on failure (printed). */
static int shop_rhythm(cli *c, char *note, size_t cap)
{
	patron_store *s = cli_store(c);
	if (!s)
		return -1;
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(patron_store_db(s),
			       "WITH d AS (SELECT DISTINCT customer_id, placed_at / 86400 AS day"
			       "  FROM orders WHERE revenue AND customer_id IS NOT NULL"
			       "  AND placed_at <= ?1),"
			       " g AS (SELECT day - lag(day) OVER (PARTITION BY customer_id"
			       "  ORDER BY day) AS gap FROM d)"
			       " SELECT gap FROM g WHERE gap IS NOT NULL ORDER BY gap", -1, &st,
			       NULL) != SQLITE_OK) {
		cli_fail(EXIT_FAIL, "%s: %s", c->db_path, sqlite3_errmsg(patron_store_db(s)));
		return -1;
	}
	sqlite3_bind_int64(st, 1, c->now);
	int64_t *gaps = NULL;
	size_t n = 0, cap_n = 0;
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (n == cap_n)
			gaps = patron_xrealloc(gaps, (cap_n = cap_n ? 2 * cap_n : 1024) * sizeof *gaps);
		gaps[n++] = sqlite3_column_int64(st, 0);
	}
	sqlite3_finalize(st);
	if (!n) {
		free(gaps);
		return 0;
	}
	size_t at = (size_t)ceil(RHYTHM_SHARE * (double)n);
	int64_t days = gaps[at ? at - 1 : 0];
	free(gaps);
	int64_t used = days < RHYTHM_MIN ? RHYTHM_MIN : days > RHYTHM_MAX ? RHYTHM_MAX : days;
	snprintf(note, cap, "the shop's rhythm: %.0f%% of its %zu repeat purchases came within "
		 "%lld days of the one before%s", 100 * RHYTHM_SHARE, n, (long long)days,
		 used != days ? (used < days ? "; capped at 365" : "; at least 7") : "");
	return (int)used;
}

int cli_churn_threshold(cli *c, const patron_config *cfg, double *t, const char **source)
{
	int set = patron_config_number(cfg, "churn", "threshold", t);
	if (set < 0 || (set > 0 && !(*t > 0 && *t < 1))) {
		cli_fail(EXIT_FAIL, "%s: churn.threshold: expected a probability between 0 and 1",
			 patron_config_path(cfg));
		return -1;
	}
	if (set > 0) {
		*source = "churn.threshold in patron.conf";
		return 0;
	}
	const char *plugin = patron_config_plugin(cfg, "churn");
	char name[256];
	snprintf(name, sizeof name, "churn.%s", plugin ? plugin : "");
	patron_store *s = cli_store(c);
	if (plugin && s && learn_alert_threshold(s, name, t) == 0) {
		*source = "chosen from the held-out customers when the model was trained";
		return 0;
	}
	*t = 0.7;
	*source = "the default";
	return 0;
}

int cli_learn_option(int argc, char **argv, int *i, learn_cli *o, const char **missing)
{
	static const char *const names[] = {"--label", "--cutoff", "--horizon", "--holdout",
					    "--seed", NULL};
	const char **slots[] = {&o->label, &o->cutoff, &o->horizon, &o->holdout, &o->seed};
	for (int k = 0; names[k]; k++) {
		const char *v;
		int r = cli_opt_value(argc, argv, i, names[k], &v);
		if (r < 0) {
			*missing = names[k];
			return -1;
		}
		if (r > 0) {
			*slots[k] = v;
			return 1;
		}
	}
	return 0;
}

int cli_learn_finish(cli *c, const patron_config *cfg, const char *job, learn_cli *o,
		     learn_opts *out, const cli_command *cmd)
{
	memset(out, 0, sizeof *out);
	out->holdout = 0.2;
	out->seed = 1;
	/* Unset on the command line: the job's options in patron.conf. */
	if (!o->label && !o->cutoff && !o->horizon) {
		o->label = patron_config_string(cfg, job, "label");
		o->horizon = patron_config_string(cfg, job, "horizon");
	}
	if (o->label && (o->cutoff || o->horizon))
		return cli_usage(cmd, "--label or --cutoff/--horizon: labels come from an attribute "
				 "or from history, not both");
	int64_t rhythm = 0;
	if (!o->label && !o->cutoff && !o->horizon) {
		/* The shop's own rhythm: how long its customers take to come back. */
		int days = shop_rhythm(c, &out->horizon_note[0], sizeof out->horizon_note);
		if (days < 0)
			return EXIT_FAIL;
		if (!days && o->skip_small) {	/* the demo of a tiny shop: the usual 90 days */
			days = 90;
			snprintf(out->horizon_note, sizeof out->horizon_note, "90 days: the store has "
				 "no repeat purchase to learn the shop's rhythm from yet");
		}
		if (!days)
			return cli_usage(cmd, "where do labels come from? --label ATTRIBUTE (yes/no "
					 "per customer), or --horizon 90d (no order within 90 days of "
					 "a cutoff); the store has no repeat purchases to learn the "
					 "shop's rhythm from");
		rhythm = (int64_t)days * 86400;
	}
	if (o->label) {
		out->lab.label = patron_xstrdup(o->label);
	} else {
		int64_t horizon = rhythm ? rhythm : 90 * 86400;
		if (o->horizon && patron_parse_duration(o->horizon, &horizon) < 0)
			return cli_usage(cmd, "--horizon: expected a duration such as 90d, got \"%s\"",
					 o->horizon);
		int64_t cutoff = c->now - horizon;
		if (o->cutoff && patron_parse_date(o->cutoff, PATRON_DATE_MDY, &cutoff) < 0)
			return cli_usage(cmd, "--cutoff: expected a date (YYYY-MM-DD), got \"%s\"",
					 o->cutoff);
		out->lab.cutoff = cutoff;
		out->lab.horizon = horizon;
	}
	if (o->holdout) {
		char *end;
		out->holdout = strtod(o->holdout, &end);
		if (*end || !(out->holdout >= 0 && out->holdout < 1))
			return cli_usage(cmd, "--holdout: expected a share from 0 to below 1, got "
					 "\"%s\"", o->holdout);
	}
	if (o->seed) {
		char *end;
		long long s = strtoll(o->seed, &end, 10);
		if (*end || end == o->seed || s < 0)
			return cli_usage(cmd, "--seed: expected a whole number, got \"%s\"", o->seed);
		out->seed = (uint64_t)s;
	}
	return EXIT_OK;
}
