/* patron score: run the configured plugins over the snapshot. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <stdlib.h>

#include "../learn.h"
#include "../plugin.h"
#include "../results.h"
#include "cli.h"
#include "learnopts.h"

/* "top 1667, middle 1667, low 1666" for the segments a model wrote under
 * NAME ("segment", or "segment.kmeans" for a second segmentation). */
static void segment_counts(patron_store *s, const char *name, const char *model, json_t *out,
			   int print)
{
	patron_label_count *counts;
	size_t n;
	patron_err err;
	if (patron_label_counts(s, name, model, &counts, &n, &err) < 0) {
		cli_fail(0, "%s", err.msg);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		if (out)
			json_object_set_new(out, counts[i].label, json_integer(counts[i].count));
		if (print)
			printf("%s%s %lld", i ? ", " : " (", counts[i].label,
			       (long long)counts[i].count);
	}
	if (print && n)
		printf(")");
	patron_label_counts_free(counts, n);
}

/* Runs the plugin chosen at PATH (JOB, or "segment[2]" in a list) for job J;
 * a second segmentation's labels go under SEGMENT ("segment.kmeans"). */
static void score_choice(cli *c, const patron_config *cfg, patron_plugins *ps,
			 patron_snapshot *sn, const patron_job *j, const char *path,
			 const char *segment, json_t *all, int *rc, int *ran, int *waiting)
{
	patron_store *s = c->store;
	const char *choice = patron_config_plugin(cfg, path);
	if (!choice)
		return;	/* nothing chosen */
	char name[256];
	snprintf(name, sizeof name, "%s.%s", j->job, choice);
	const patron_plugin_file *pf = patron_plugins_find(ps, name);
	if (!pf) {
		*rc = cli_fail(EXIT_FAIL, "%s: %s = \"%s\": there is no plugin %s (see patron "
			      "plugins)", patron_config_path(cfg), path, choice, name);
		return;
	}
	if (pf->desc->kind != j->kind) {
		*rc = cli_fail(EXIT_FAIL, "%s: %s: plugin %s is a %s, the job needs a %s",
			      patron_config_path(cfg), j->job, name,
			      patron_kind_name(pf->desc->kind), patron_kind_name(j->kind));
		return;
	}
	if (j->kind == PATRON_KIND_ANALYZER) {	/* texts, not the snapshot */
		if (cli_score_sentiment(c, cfg, 0, all) != EXIT_OK)
			*rc = EXIT_FAIL;
		else
			(*ran)++;
		return;
	}
	patron_run_env env = {.store = s, .snapshot = sn, .config = cfg, .job = path,
			      .now = c->now, .progress = isatty(2), .segment_name = segment};
	patron_run_stats stats;
	patron_err err;
	double t0 = patron_clock(), built = sn->build_secs;
	/* A supervised job scores with its stored model, through the table
	 * that model's schema makes of the snapshot. */
	design_table table = {0};
	char *params = NULL;
	int64_t version = 0;
	learn_scores before = {0};
	double threshold = 0.7;
	const char *source = "the default";
	if (j->supervised) {
		if (cli_churn_threshold(c, cfg, &threshold, &source) < 0) {
			*rc = EXIT_FAIL;
			return;
		}
		int prc = learn_score_prepare(pf, &env, &table, &params, &version, &err);
		if (prc == 1) {	/* nothing trained yet: said, not a failure */
			if (!all)
				printf("%s: %s\n", j->job, err.msg);
			(*waiting)++;
			return;
		}
		if (prc < 0 || learn_scores_read(s, j->job, &before, &err) < 0) {
			*rc = cli_fail(EXIT_FAIL, "%s", err.msg);
			design_table_free(&table);
			free(params);
			return;
		}
		env.design = &table.d;
		env.held_model = &params;
	}
	int run_rc = patron_plugin_run(pf, &env, &stats, &err);
	long crossed = 0;
	if (run_rc == 0 && j->supervised &&
	    (crossed = learn_emit_crossings(s, &before, threshold, c->now, &err)) < 0)
		run_rc = -1;
	design_table_free(&table);
	learn_scores_free(&before);
	free(params);
	if (run_rc == 1) {	/* too little data yet: said, not a failure */
		if (all)
			json_array_append_new(all, json_pack("{s:s, s:s, s:s}", "job", j->job,
							     "plugin", name, "skipped",
							     err.msg));
		else
			printf("%s: %s skipped: %s\n", j->job, name, err.msg);
		(*waiting)++;
		return;
	}
	if (run_rc < 0) {
		*rc = cli_fail(EXIT_FAIL, "%s", err.msg);
		return;
	}
	(*ran)++;
	/* Where the time went: building the snapshot (the first job that
	 * reads a view pays for it), the plugin's own work, storing. */
	double secs = patron_clock() - t0, snap = sn->build_secs - built;
	double work = secs - snap - stats.store_secs;
	size_t wrote = stats.wrote;
	char model[300];
	snprintf(model, sizeof model, "%s %s", pf->desc->name,
		 pf->desc->version ? pf->desc->version : "");
	if (all) {
		json_t *o = json_pack("{s:s, s:s, s:I, s:f, s:f, s:f, s:f}", "job", j->job,
				      "plugin", name, "wrote", (json_int_t)wrote,
				      "seconds", secs, "snapshot_seconds", snap,
				      "plugin_seconds", work, "store_seconds",
				      stats.store_secs);
		if (j->supervised) {
			json_object_set_new(o, "model_version", json_integer(version));
			json_object_set_new(o, "crossed", json_integer(crossed));
		}
		if (j->kind == PATRON_KIND_SEGMENTER) {
			json_t *seg = json_object();
			segment_counts(s, segment, model, seg, 0);
			json_object_set_new(o, "segments", seg);
		}
		json_array_append_new(all, o);
	} else {
		printf("%s: %s wrote %zu results in %.2f s (snapshot %.2f, plugin %.2f, "
		       "storing %.2f)", j->job, model, wrote, secs, snap, work,
		       stats.store_secs);
		if (j->kind == PATRON_KIND_SEGMENTER)
			segment_counts(s, segment, model, NULL, 1);
		if (j->supervised)
			printf(" with model v%lld; %ld crossed the alert threshold %.3g (%s; "
			       "score.changed)", (long long)version, crossed, threshold, source);
		printf("\n");
	}
}

int cli_score(cli *c, const char *only)
{
	patron_config *cfg = cli_config(c);
	if (!cfg)
		return EXIT_FAIL;
	patron_store *s = cli_store(c);
	if (!s) {
		patron_config_free(cfg);
		return EXIT_FAIL;
	}
	patron_plugins ps = {0};
	patron_plugins_load(&ps, c->exe_dir);
	/* Refused files are said once; the jobs that do not need them go on. */
	for (size_t i = 0; i < ps.n; i++)
		if (ps.files[i].refused)
			cli_fail(0, "plugin refused: %s", ps.files[i].refused);
	patron_snapshot sn;
	patron_snapshot_init(&sn, s, c->now);
	json_t *all = c->json ? json_array() : NULL;
	int rc = EXIT_OK, ran = 0, waiting = 0;
	for (const patron_job *j = patron_jobs; j->job; j++) {
		if ((only && strcmp(only, j->job) != 0) || j->kind == PATRON_KIND_FORECASTER ||
		    strcmp(j->job, "intent") == 0)
			continue;	/* forecasts are made for the report, not stored; intents
					 * label tickets, as they arrive */
		/* The jobs that read features come before the recommender, and
		 * those after it read texts: the graph is built without the
		 * features beside it. */
		if (j->kind == PATRON_KIND_RECOMMENDER)
			patron_snapshot_release_features(&sn);
		/* segment = { "rfm", "kmeans" }: each segmentation stored, the
		 * first as c.segment and each as segment.NAME */
		size_t n = patron_config_choices(cfg, j->job);
		for (size_t k = 1; k <= n; k++) {
			char path[96], segment[160] = "segment";
			if (n > 1) {
				snprintf(path, sizeof path, "%s[%zu]", j->job, k);
				const char *choice = patron_config_plugin(cfg, path);
				if (k > 1 && choice)
					snprintf(segment, sizeof segment, "segment.%s", choice);
			} else {
				snprintf(path, sizeof path, "%s", j->job);
			}
			score_choice(c, cfg, &ps, &sn, j, path, segment, all, &rc, &ran, &waiting);
		}
	}
	if (all)
		cli_print_json(all);
	else if (!ran && !waiting && rc == EXIT_OK)
		printf("nothing to score: no job has a plugin (see patron score --help)\n");
	patron_snapshot_free(&sn);
	patron_plugins_free(&ps);
	patron_config_free(cfg);
	return rc;
}

static int run(cli *c, int argc, char **argv)
{
	const char *only = NULL;
	for (int i = 1; i < argc; i++) {
		const char *v;
		int r = cli_opt_value(argc, argv, &i, "--only", &v);
		if (r < 0)
			return cli_usage(&cmd_score, "--only needs a job");
		if (r == 0)
			return cli_usage(&cmd_score, "unexpected argument \"%s\"", argv[i]);
		only = v;
	}
	return cli_score(c, only);
}

const cli_command cmd_score = {
	"score", run, "run the configured plugins and store their results",
	"usage: patron score [--only JOB] [--json]\n"
	"\n"
	"Runs, for each job, the plugin patron.conf chooses (the file beside the store,\n"
	"or --config PATH) over the snapshot of the store as of --now, and stores what it\n"
	"writes (segments, scores, recommendations) with the plugin's name and version.\n"
	"Jobs: segment (default plugin: rfm), churn (logreg), value (clv), recommend\n"
	"(itemknn), sentiment (lexicon: every feedback text scored again, and each\n"
	"customer's mean sentiment of the last year stored as c.sentiment).\n"
	"\n"
	"  segment = \"rfm\"                         -- plugin segment.rfm\n"
	"  churn = { plugin = \"forest\", trees = 200 } -- plugin churn.forest, with options\n"
	"\n"
	"Changing a line of patron.conf swaps the algorithm; nothing is rebuilt. A job\n"
	"whose plugin is missing or fails is reported and the others still run (exit 1).\n",
};
