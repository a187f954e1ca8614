/* Supervised jobs (churn): training, scoring and evaluating a plugin on the
 * design table (design.h), and the models this stores.
 *
 * A stored model is one row of `models`, its params a JSON object the core
 * writes: {"schema": the design schema, "params": the plugin's own,
 * "metrics": held-out figures, "importances": [...], "options": {...},
 * "rows": {...}}. The plugin sees only "params" (load_model). A store
 * setting "model.NAME" pins the version in use (`patron models use`);
 * without it the newest is used. */
#ifndef PATRON_LEARN_H
#define PATRON_LEARN_H

#include <jansson.h>

#include "design.h"
#include "metrics.h"
#include "plugin.h"

typedef struct {
	int64_t version, as_of;
	design_schema schema;
	char *params;		/* the plugin's own, as JSON text */
	json_t *stored;		/* the whole stored object */
} learn_model;

typedef struct {
	design_labels lab;
	double holdout;		/* share of the labelled customers held out (0.2) */
	uint64_t seed;
	/* When set, this model and the new one are scored on the customers
	 * both held out (learn_report.champion_auc, challenger_auc): the one a
	 * retrained model must match. */
	learn_model *champion;
	/* How the horizon was chosen, when the store chose it (for the report). */
	char horizon_note[200];
} learn_opts;

#define LEARN_ALERT_SHARE 0.10

/* The alert threshold stored with the model of plugin NAME in use: 0 and
 * *THRESHOLD, 1 when there is none (no model, or one held out nothing). */
int learn_alert_threshold(patron_store *s, const char *name, double *threshold);

/* The model of plugin NAME in use (VERSION 0), or that version. 0, or 1
 * when there is none, or -1 with err. */
int learn_model_load(patron_store *s, const char *name, int64_t version, learn_model *m,
		     patron_err *err);
void learn_model_free(learn_model *m);
/* Pins VERSION of NAME as the one in use. */
int learn_model_use(patron_store *s, const char *name, int64_t version, patron_err *err);

typedef struct {
	int64_t version;
	size_t labelled, train_rows, holdout_rows, cols;
	metrics holdout;	/* n = 0 when nothing was held out */
	json_t *importances;	/* [{"feature", "auc_drop"}], largest first */
	/* The champion's and the new model's ROC AUC on the COMPARED customers
	 * neither trained on (NaN: no champion, or no such customer). */
	double champion_auc, challenger_auc;
	size_t compared;
	double fit_secs;	/* the plugin's own training */
	double importance_secs;	/* the permutation importances */
	/* The alert threshold chosen from the held-out customers: the risk of
	 * the riskiest LEARN_ALERT_SHARE of them, and the precision and recall
	 * of an alert at it there (NaN when nothing was held out). */
	double alert, alert_precision, alert_recall;
	int too_little;		/* on failure: too few labelled customers (or of one class) */
} learn_report;

/* Trains PF on ENV's snapshot (as of the cutoff for derived labels; NOW is
 * the command's --now, which labels must not run past), evaluates it on the
 * held-out customers, and stores it. */
int learn_train(const patron_plugin_file *pf, const patron_run_env *env, int64_t now,
		const learn_opts *o, learn_report *r, patron_err *err);

/* For `patron score`: the table of ENV's snapshot under the model in use,
 * and its params, for env->design and env->held_model. 1 (with err saying
 * so) when the plugin has no model yet. */
int learn_score_prepare(const patron_plugin_file *pf, const patron_run_env *env,
			design_table *t, char **params, int64_t *version, patron_err *err);

/* After scoring: a score.changed event for every customer whose churn
 * probability crossed THRESHOLD (either way, or first seen above it), with
 * {"score": "churn", "value", "previous"}. BEFORE holds the values as they
 * were (learn_scores_read). Returns how many, or -1. */
typedef struct {
	int64_t *ids;
	double *values;
	size_t n;
} learn_scores;
int learn_scores_read(patron_store *s, const char *name, learn_scores *out, patron_err *err);
void learn_scores_free(learn_scores *v);
long learn_emit_crossings(patron_store *s, const learn_scores *before, double threshold,
			  int64_t now, patron_err *err);

/* `patron eval churn`: trains on the store's labelled customers but for a
 * TEST_SHARE held out by SEED (or all of them when TEST_FILE is given, then
 * scored on that file's rows), and gives the figures on the test rows. A
 * file's rows that name a customer the model trained on are left out (their
 * count in *SEEN) and never credited to it. */
int learn_eval(const patron_plugin_file *pf, const patron_run_env *env, int64_t now,
	       const learn_opts *o, const char *test_file, double test_share, metrics *m,
	       size_t *seen, patron_err *err);

/* `patron eval churn --drift`: the AUC of the model in use on the newest
 * labelled data: the attribute as it is now, or (derived labels) features
 * as of now minus the horizon. ENV's snapshot must be as of that time. */
int learn_drift(const patron_plugin_file *pf, const patron_run_env *env, int64_t now,
		learn_model *model, metrics *m, patron_err *err);

#endif
