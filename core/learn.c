#include "learn.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "results.h"

#define IMPORTANCE_ROWS 5000	/* held-out customers the importances are measured on */
#define IMPORTANCE_CELLS (4u << 20)	/* values of shuffled copies scored in one call */

void learn_model_free(learn_model *m)
{
	design_schema_free(&m->schema);
	free(m->params);
	json_decref(m->stored);
	memset(m, 0, sizeof *m);
}

int learn_model_load(patron_store *s, const char *name, int64_t version, learn_model *m,
		     patron_err *err)
{
	memset(m, 0, sizeof *m);
	sqlite3_stmt *q;
	if (sqlite3_prepare_v2(patron_store_db(s), "SELECT version, params, as_of FROM models "
			       "WHERE name = ?1 AND version = coalesce(?2, (SELECT CAST(value AS "
			       "INTEGER) FROM settings WHERE name = 'model.' || ?1), (SELECT "
			       "max(version) FROM models WHERE name = ?1))", -1, &q,
			       NULL) != SQLITE_OK)
		return patron_store_fail(s, err, "reading models");
	sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
	if (version > 0)
		sqlite3_bind_int64(q, 2, version);
	int rc = 1;
	if (sqlite3_step(q) == SQLITE_ROW) {
		m->version = sqlite3_column_int64(q, 0);
		m->as_of = sqlite3_column_int64(q, 2);
		json_error_t jerr;
		m->stored = json_loads((const char *)sqlite3_column_text(q, 1), 0, &jerr);
		json_t *params = json_object_get(m->stored, "params");
		rc = 0;
		if (!json_is_object(params)) {
			rc = patron_err_set(err, "model %s v%lld was not stored by a supervised "
					    "training: train it again", name, (long long)m->version);
		} else if (design_schema_parse(json_object_get(m->stored, "schema"), &m->schema,
					       err) < 0) {
			rc = -1;
		} else {
			m->params = json_dumps(params, JSON_COMPACT);
		}
	}
	sqlite3_finalize(q);
	if (rc != 0 && rc != 1)
		learn_model_free(m);
	return rc;
}

int learn_model_use(patron_store *s, const char *name, int64_t version, patron_err *err)
{
	sqlite3_stmt *q;
	sqlite3_prepare_v2(patron_store_db(s), "SELECT 1 FROM models WHERE name = ?1 AND "
			   "version = ?2", -1, &q, NULL);
	sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 2, version);
	int found = sqlite3_step(q) == SQLITE_ROW;
	sqlite3_finalize(q);
	if (!found)
		return patron_err_set(err, "there is no model %s@%lld (see patron models)", name,
				      (long long)version);
	sqlite3_prepare_v2(patron_store_db(s), "INSERT OR REPLACE INTO settings(name, value) "
			   "VALUES ('model.' || ?1, ?2)", -1, &q, NULL);
	sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 2, version);
	int rc = sqlite3_step(q) == SQLITE_DONE ? 0 : patron_store_fail(s, err, "pinning a model");
	sqlite3_finalize(q);
	return rc;
}

/* Whether customer ID is among the held-out share: a hash of the id and
 * the seed, so a customer stays on one side from run to run. */
static int held_out(uint64_t seed, int64_t id, double share)
{
	uint64_t z = seed * 0x9e3779b97f4a7c15ull + (uint64_t)id * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	z ^= z >> 31;
	return (double)(z >> 11) / 9007199254740992.0 < share;
}

static int by_id(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

/* The plugin's churn probability for each row of D (P, d->rows entries),
 * from a run that stores nothing. */
static int predict(const patron_plugin_file *pf, const patron_run_env *base,
		   const patron_design *d, char **params, double *p, patron_err *err)
{
	patron_results *res = patron_results_new();
	patron_run_env env = *base;
	env.design = d;
	env.held_model = params;
	env.capture = res;
	env.progress = 0;
	patron_run_stats st;
	int rc = patron_plugin_run(pf, &env, &st, err);
	size_t n = 0;
	const int64_t *ids;
	const double *v;
	if (rc == 0 && patron_results_scores(res, "churn", &n, &ids, &v) < 0)
		rc = patron_err_set(err, "plugin %s wrote no \"churn\" scores", pf->desc->name);
	for (size_t r = 0; r < d->rows; r++)
		p[r] = NAN;
	for (size_t i = 0; rc == 0 && i < n; i++) {
		const int64_t *at = bsearch(&ids[i], d->customer_ids, d->rows, sizeof *ids, by_id);
		if (at)
			p[at - d->customer_ids] = v[i];
	}
	for (size_t r = 0; rc == 0 && r < d->rows; r++)
		if (!(p[r] >= 0 && p[r] <= 1))
			rc = patron_err_set(err, "plugin %s gave no probability for customer %lld",
					    pf->desc->name, (long long)d->customer_ids[r]);
	patron_results_free(res);
	return rc;
}

/* Fits the plugin on the rows of D with a label; its params into *PARAMS. */
static int fit(const patron_plugin_file *pf, const patron_run_env *base, const patron_design *d,
	       char **params, patron_err *err)
{
	patron_run_env env = *base;
	env.design = d;
	env.held_model = params;
	int64_t version;
	if (patron_plugin_train(pf, &env, &version, err) < 0)
		return -1;
	if (!*params)
		return patron_err_set(err, "plugin %s: trained, but saved no model", pf->desc->name);
	return 0;
}

/* Labels, both classes present among the training rows, enough rows. */
static int check_labels(const double *y, const uint8_t *train, size_t rows, size_t *labelled,
			size_t *ntrain, const design_labels *lab, patron_err *err)
{
	size_t pos = 0, neg = 0, tpos = 0, tneg = 0;
	for (size_t r = 0; r < rows; r++) {
		if (isnan(y[r]))
			continue;
		pos += y[r] > 0.5;
		neg += y[r] <= 0.5;
		if (train[r]) {
			tpos += y[r] > 0.5;
			tneg += y[r] <= 0.5;
		}
	}
	*labelled = pos + neg;
	*ntrain = tpos + tneg;
	const char *what = lab->label ? lab->label : "the derived label";
	if (pos + neg == 0)
		return patron_err_set(err, "no customer has a label to learn from");
	if (!pos || !neg)
		return patron_err_set(err, "%s has one class only: all %zu labelled customers %s; "
				      "a model needs both", what, pos + neg,
				      pos ? "churned" : "stayed");
	if (!tpos || !tneg)
		return patron_err_set(err, "the training share has one class only (%zu churned, "
				      "%zu stayed): hold out less", tpos, tneg);
	return 0;
}

/* Rows ROWS of D (ascending) as a table of their own, sharing D's names. */
static patron_design subset(const patron_design *d, const size_t *rows, size_t n, double **x,
			    int64_t **ids)
{
	*x = patron_xmalloc((n ? n : 1) * d->cols * sizeof **x);
	*ids = patron_xmalloc((n ? n : 1) * sizeof **ids);
	for (size_t i = 0; i < n; i++) {
		memcpy(*x + i * d->cols, d->x + rows[i] * d->cols, d->cols * sizeof **x);
		(*ids)[i] = d->customer_ids[rows[i]];
	}
	return (patron_design){n, d->cols, *x, d->names, *ids, NULL, d->mean, d->sd};
}

typedef struct {
	const char *name;
	double drop;
} importance;

static int by_drop(const void *a, const void *b)
{
	double x = ((const importance *)a)->drop, y = ((const importance *)b)->drop;
	return (x < y) - (x > y);
}

/* Permutation importance on held-out rows H (labels Y): how much the AUC
 * falls when one column's values are shuffled among the rows. It needs
 * nothing of the plugin but its predictions, so every plugin gets it. The
 * shuffled copies are scored many columns to a call (as many as
 * IMPORTANCE_CELLS values hold): each call reads the model afresh, which
 * for a forest costs more than predicting. */
static json_t *importances(const patron_plugin_file *pf, const patron_run_env *base,
			   const patron_design *d, const size_t *h, size_t nh, const double *y,
			   char **params, uint64_t seed, patron_err *err)
{
	size_t n = nh < IMPORTANCE_ROWS ? nh : IMPORTANCE_ROWS, cols = d->cols;
	double *x;
	int64_t *ids;
	patron_design sub = subset(d, h, n, &x, &ids);
	size_t per = IMPORTANCE_CELLS / (n * (cols ? cols : 1));
	per = per < 1 ? 1 : per > cols ? (cols ? cols : 1) : per;
	double *p = patron_xmalloc(per * n * sizeof *p), *yy = patron_xmalloc(n * sizeof *yy);
	double *bx = patron_xmalloc(per * n * (cols ? cols : 1) * sizeof *bx);
	int64_t *bids = patron_xmalloc(per * n * sizeof *bids);
	size_t *perm = patron_xmalloc(n * sizeof *perm);
	importance *imp = patron_xcalloc(cols ? cols : 1, sizeof *imp);
	json_t *out = NULL;
	for (size_t i = 0; i < n; i++)
		yy[i] = y[h[i]];
	if (predict(pf, base, &sub, params, p, err) < 0)
		goto done;
	double auc = metrics_auc(p, yy, n);
	for (size_t i = 0; i < per * n; i++)
		bids[i] = (int64_t)i + 1;
	uint64_t state = seed ^ 0x5851f42d4c957f2dull;
	for (size_t c0 = 0; c0 < cols; c0 += per) {
		size_t k = cols - c0 < per ? cols - c0 : per;
		for (size_t b = 0; b < k; b++) {
			size_t c = c0 + b;
			for (size_t i = 0; i < n; i++)
				perm[i] = i;
			for (size_t i = n; i > 1; i--) {	/* Fisher-Yates */
				state = state * 6364136223846793005ull + 1442695040888963407ull;
				size_t j = (size_t)((state >> 33) % i), t = perm[i - 1];
				perm[i - 1] = perm[j];
				perm[j] = t;
			}
			/* The held-out rows with column c shuffled among them. */
			double *blk = bx + b * n * cols;
			memcpy(blk, x, n * cols * sizeof *x);
			for (size_t i = 0; i < n; i++)
				blk[i * cols + c] = x[perm[i] * cols + c];
		}
		patron_design batch = {k * n, cols, bx, d->names, bids, NULL, d->mean, d->sd};
		if (predict(pf, base, &batch, params, p, err) < 0)
			goto done;
		for (size_t b = 0; b < k; b++)
			imp[c0 + b] = (importance){d->names[c0 + b],
						   auc - metrics_auc(p + b * n, yy, n)};
	}
	qsort(imp, cols, sizeof *imp, by_drop);
	out = json_array();
	for (size_t c = 0; c < cols; c++)
		json_array_append_new(out, json_pack("{s:s, s:f}", "feature", imp[c].name,
						     "auc_drop", isfinite(imp[c].drop) ? imp[c].drop : 0));
done:
	free(x), free(ids), free(p), free(yy), free(bx), free(bids), free(perm), free(imp);
	return out;
}

static json_t *label_json(const design_labels *lab)
{
	return lab->label ? json_pack("{s:s}", "attribute", lab->label)
			  : json_pack("{s:I, s:I}", "cutoff", (json_int_t)lab->cutoff, "horizon",
				      (json_int_t)lab->horizon);
}

/* The design and labels of ENV's snapshot, split by O: TRAIN marks the
 * labelled rows trained on; Y_TRAIN is Y with the others NaN. */
typedef struct {
	const patron_features *f;
	double *y, *y_train;
	uint8_t *train;
	design_schema schema;
	design_table t;
	size_t labelled, ntrain;
	int too_little;		/* failed for want of labelled customers, not for an error */
} prepared;

static void prepared_free(prepared *p)
{
	free(p->y), free(p->y_train), free(p->train);
	design_schema_free(&p->schema);
	design_table_free(&p->t);
}

static int prepare(const patron_run_env *env, int64_t now, const design_labels *lab,
		   double share, uint64_t seed, prepared *p, patron_err *err)
{
	memset(p, 0, sizeof *p);
	p->f = patron_snapshot_features(env->snapshot, err);
	if (!p->f)
		return -1;
	size_t rows = p->f->rows;
	p->y = patron_xmalloc((rows ? rows : 1) * sizeof *p->y);
	p->y_train = patron_xmalloc((rows ? rows : 1) * sizeof *p->y_train);
	p->train = patron_xcalloc(rows ? rows : 1, 1);
	if (design_labels_read(env->store, lab, p->f, now, p->y, err) < 0)
		return -1;
	for (size_t r = 0; r < rows; r++) {
		p->train[r] = !isnan(p->y[r]) && !held_out(seed, p->f->customer_ids[r], share);
		p->y_train[r] = p->train[r] ? p->y[r] : NAN;
	}
	if (check_labels(p->y, p->train, rows, &p->labelled, &p->ntrain, lab, err) < 0) {
		p->too_little = 1;
		return -1;
	}
	p->schema.lab.label = lab->label ? patron_xstrdup(lab->label) : NULL;
	p->schema.lab.cutoff = lab->cutoff;
	p->schema.lab.horizon = lab->horizon;
	if (design_fit(&p->schema, p->f, p->train, err) < 0 ||
	    design_apply(&p->schema, p->f, p->y_train, NULL, &p->t, err) < 0)
		return -1;
	p->too_little = p->t.d.cols > p->ntrain;
	if (p->too_little)
		return patron_err_set(err, "%zu labelled customers to train on, but %zu feature "
				      "columns: a model needs more customers than columns",
				      p->ntrain, p->t.d.cols);
	return 0;
}

/* The ROC AUC of model CH on the rows H of F (labels Y), prepared by its
 * own schema; NaN when it cannot score them (its columns are gone). */
static double auc_on(const patron_plugin_file *pf, const patron_run_env *env,
		     const design_schema *schema, char **params, const patron_features *f,
		     const size_t *h, size_t nh, const double *y)
{
	uint8_t *keep = patron_xcalloc(f->rows ? f->rows : 1, 1);
	for (size_t i = 0; i < nh; i++)
		keep[h[i]] = 1;
	design_table t = {0};
	patron_err err;
	double auc = NAN;
	double *p = patron_xmalloc((nh ? nh : 1) * sizeof *p), *yy = patron_xmalloc((nh ? nh : 1) *
										  sizeof *yy);
	/* H ascends, so the table's rows are H's in order. */
	if (design_apply(schema, f, NULL, keep, &t, &err) == 0 && t.d.rows == nh &&
	    predict(pf, env, &t.d, params, p, &err) == 0) {
		for (size_t i = 0; i < nh; i++)
			yy[i] = y[h[i]];
		auc = metrics_auc(p, yy, nh);
	}
	design_table_free(&t);
	free(keep), free(p), free(yy);
	return auc;
}

/* The rows of P held out (labelled, not trained on), ascending, into *H
 * (malloc'd; *NH of them), and the figures of the plugin's predictions for
 * them into M when there are any. */
static int by_value_desc(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x < y) - (x > y);
}

/* The alert threshold: the risk of the riskiest LEARN_ALERT_SHARE of the
 * held-out customers, so that the alerts are a list an owner can work
 * through, with the precision and recall an alert has there. */
static void choose_alert(const double *p, const double *y, size_t n, learn_report *r)
{
	double *sorted = patron_xmalloc(n * sizeof *sorted);
	memcpy(sorted, p, n * sizeof *sorted);
	qsort(sorted, n, sizeof *sorted, by_value_desc);
	size_t k = (size_t)ceil(LEARN_ALERT_SHARE * (double)n);
	r->alert = sorted[k ? k - 1 : 0];
	free(sorted);
	double tp = 0, flagged = 0, positives = 0;
	for (size_t i = 0; i < n; i++) {
		int on = p[i] >= r->alert;
		flagged += on;
		positives += y[i] == 1;
		tp += on && y[i] == 1;
	}
	r->alert_precision = flagged ? tp / flagged : NAN;
	r->alert_recall = positives ? tp / positives : NAN;
}

static int holdout_figures(const patron_plugin_file *pf, const patron_run_env *env,
			   const prepared *p, char **params, size_t **h, size_t *nh, metrics *m,
			   learn_report *alert, patron_err *err)
{
	size_t rows = p->f->rows, n = 0;
	*h = patron_xmalloc((rows ? rows : 1) * sizeof **h);
	for (size_t i = 0; i < rows; i++)
		if (!isnan(p->y[i]) && !p->train[i])
			(*h)[n++] = i;
	*nh = n;
	if (!n)
		return 0;
	double *x, *ph = patron_xmalloc(n * sizeof *ph), *yh = patron_xmalloc(n * sizeof *yh);
	int64_t *ids;
	patron_design sub = subset(&p->t.d, *h, n, &x, &ids);
	for (size_t i = 0; i < n; i++)
		yh[i] = p->y[(*h)[i]];
	int rc = predict(pf, env, &sub, params, ph, err);
	if (rc == 0)
		metrics_compute(ph, yh, n, m);
	if (rc == 0 && alert)
		choose_alert(ph, yh, n, alert);
	free(x), free(ids), free(ph), free(yh);
	return rc;
}

/* The champion CH and the challenger (P's schema, PARAMS) on the customers
 * both held out: the challenger's held-out rows H that CH's own seed and
 * share held out too, so neither is credited with a customer it trained
 * on. Into R's champion_auc, challenger_auc and compared. */
static void compare(const patron_plugin_file *pf, const patron_run_env *env, const prepared *p,
		    char **params, learn_model *ch, const size_t *h, size_t nh, learn_report *r)
{
	json_t *opts = json_object_get(ch->stored, "options");
	double share = json_number_value(json_object_get(opts, "holdout"));
	uint64_t seed = (uint64_t)json_integer_value(json_object_get(opts, "seed"));
	size_t *both = patron_xmalloc((nh ? nh : 1) * sizeof *both), n = 0;
	for (size_t i = 0; i < nh; i++)
		if (share > 0 && held_out(seed, p->f->customer_ids[h[i]], share))
			both[n++] = h[i];
	r->compared = n;
	if (n) {
		r->champion_auc = auc_on(pf, env, &ch->schema, &ch->params, p->f, both, n, p->y);
		r->challenger_auc = auc_on(pf, env, &p->schema, params, p->f, both, n, p->y);
	}
	free(both);
}

int learn_alert_threshold(patron_store *s, const char *name, double *threshold)
{
	learn_model m;
	patron_err err;
	if (learn_model_load(s, name, 0, &m, &err) != 0)
		return 1;
	json_t *t = json_object_get(json_object_get(m.stored, "alert"), "threshold");
	int rc = json_is_number(t) ? (*threshold = json_number_value(t), 0) : 1;
	learn_model_free(&m);
	return rc;
}

int learn_train(const patron_plugin_file *pf, const patron_run_env *env, int64_t now,
		const learn_opts *o, learn_report *r, patron_err *err)
{
	memset(r, 0, sizeof *r);
	r->champion_auc = r->challenger_auc = NAN;
	prepared p;
	char *params = NULL;
	size_t *h = NULL;
	int rc = -1;
	if (prepare(env, now, &o->lab, o->holdout, o->seed, &p, err) < 0) {
		r->too_little = p.too_little;
		goto out;
	}
	r->labelled = p.labelled;
	r->train_rows = p.ntrain;
	r->cols = p.t.d.cols;
	double t0 = patron_clock();
	if (fit(pf, env, &p.t.d, &params, err) < 0)
		goto out;
	r->fit_secs = patron_clock() - t0;
	/* The held-out figures and the importances. */
	r->alert = r->alert_precision = r->alert_recall = NAN;
	if (holdout_figures(pf, env, &p, &params, &h, &r->holdout_rows, &r->holdout, r, err) < 0)
		goto out;
	size_t nh = r->holdout_rows;
	if (nh) {
		double ti = patron_clock();
		r->importances = importances(pf, env, &p.t.d, h, nh, p.y, &params, o->seed, err);
		r->importance_secs = patron_clock() - ti;
		if (!r->importances)
			goto out;
		if (o->champion)
			compare(pf, env, &p, &params, o->champion, h, nh, r);
	}
	/* Stored: the schema, the plugin's params, the figures. */
	json_error_t jerr;
	json_t *stored = json_pack("{s:o, s:o, s:o, s:o, s:{s:f, s:I}, s:{s:I, s:I, s:I, s:I}}",
		"schema", design_schema_json(&p.schema), "params", json_loads(params, 0, &jerr),
		"metrics", nh ? metrics_json(&r->holdout) : json_null(), "importances",
		r->importances ? json_incref(r->importances) : json_array(), "options",
		"holdout", o->holdout, "seed", (json_int_t)o->seed, "rows", "labelled",
		(json_int_t)p.labelled, "trained_on", (json_int_t)p.ntrain, "held_out",
		(json_int_t)nh, "columns", (json_int_t)p.t.d.cols);
	json_object_set_new(stored, "label", label_json(&o->lab));
	if (!isnan(r->alert))
		json_object_set_new(stored, "alert", json_pack(
			"{s:f, s:f, s:f, s:f}", "threshold", r->alert, "share", LEARN_ALERT_SHARE,
			"precision", isnan(r->alert_precision) ? 0 : r->alert_precision, "recall",
			isnan(r->alert_recall) ? 0 : r->alert_recall));
	/* The plugin's options from patron.conf, as they were for this fit. */
	patron_buf conf = {0};
	patron_config_job_json(env->config, env->job, &conf);
	json_t *conf_json = json_loads(conf.data, 0, &jerr);
	json_object_set_new(json_object_get(stored, "options"), "config",
			    conf_json ? conf_json : json_object());
	patron_buf_free(&conf);
	char *text = json_dumps(stored, JSON_COMPACT);
	json_decref(stored);
	sqlite3_stmt *st = patron_store_stmt(env->store, ST_MODEL_SAVE);
	sqlite3_bind_text(st, 1, pf->desc->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, pf->desc->version ? pf->desc->version : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, text, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, (int64_t)time(NULL));
	sqlite3_bind_int64(st, 5, p.f ? env->snapshot->now : now);
	if (sqlite3_step(st) == SQLITE_ROW) {
		r->version = sqlite3_column_int64(st, 0);
		rc = 0;
	} else {
		patron_store_fail(env->store, err, "storing the model");
	}
	sqlite3_reset(st);
	free(text);
out:
	free(params), free(h);
	prepared_free(&p);
	return rc;
}

int learn_score_prepare(const patron_plugin_file *pf, const patron_run_env *env,
			design_table *t, char **params, int64_t *version, patron_err *err)
{
	learn_model m;
	int rc = learn_model_load(env->store, pf->desc->name, 0, &m, err);
	if (rc == 1) {
		patron_err_set(err, "%s: no trained model yet (patron train %s --label ATTRIBUTE, "
			       "or --horizon 90d)", pf->desc->name, env->job);
		return 1;
	}
	if (rc < 0)
		return -1;
	const patron_features *f = patron_snapshot_features(env->snapshot, err);
	/* Labels derived from history say who stopped buying: only those who
	 * bought can, so only they are scored. */
	uint8_t *keep = NULL;
	size_t cf = f ? patron_feature_column(f, "frequency") : 0;
	if (f && !m.schema.lab.label && cf < f->cols) {
		keep = patron_xmalloc(f->rows ? f->rows : 1);
		for (size_t r = 0; r < f->rows; r++)
			keep[r] = f->x[r * f->cols + cf] > 0;
	}
	rc = f ? design_apply(&m.schema, f, NULL, keep, t, err) : -1;
	free(keep);
	if (rc == 0) {
		*params = m.params;
		m.params = NULL;
		*version = m.version;
	}
	learn_model_free(&m);
	return rc;
}

int learn_scores_read(patron_store *s, const char *name, learn_scores *out, patron_err *err)
{
	memset(out, 0, sizeof *out);
	sqlite3_stmt *q;
	if (sqlite3_prepare_v2(patron_store_db(s), "SELECT customer_id, value FROM scores WHERE "
			       "name = ?1 AND value IS NOT NULL ORDER BY customer_id", -1, &q,
			       NULL) != SQLITE_OK)
		return patron_store_fail(s, err, "reading scores");
	sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
	size_t cap = 0;
	while (sqlite3_step(q) == SQLITE_ROW) {
		if (out->n == cap) {
			cap = cap ? cap * 2 : 1024;
			out->ids = patron_xrealloc(out->ids, cap * sizeof *out->ids);
			out->values = patron_xrealloc(out->values, cap * sizeof *out->values);
		}
		out->ids[out->n] = sqlite3_column_int64(q, 0);
		out->values[out->n++] = sqlite3_column_double(q, 1);
	}
	sqlite3_finalize(q);
	return 0;
}

void learn_scores_free(learn_scores *v)
{
	free(v->ids), free(v->values);
	memset(v, 0, sizeof *v);
}

long learn_emit_crossings(patron_store *s, const learn_scores *before, double threshold,
			  int64_t now, patron_err *err)
{
	learn_scores after;
	if (learn_scores_read(s, "churn", &after, err) < 0)
		return -1;
	if (patron_store_begin(s, err) < 0) {
		learn_scores_free(&after);
		return -1;
	}
	long emitted = 0;
	size_t b = 0;
	char payload[256];
	for (size_t a = 0; a < after.n; a++) {
		while (b < before->n && before->ids[b] < after.ids[a])
			b++;
		int had = b < before->n && before->ids[b] == after.ids[a];
		double was = had ? before->values[b] : 0, is = after.values[a];
		int up = is >= threshold && (!had || was < threshold);
		int down = had && was >= threshold && is < threshold;
		if (!up && !down)
			continue;
		/* every digit, so a rule comparing value and threshold agrees */
		if (had)
			snprintf(payload, sizeof payload, "{\"score\":\"churn\",\"value\":%.17g,"
				 "\"previous\":%.17g,\"threshold\":%.17g}", is, was, threshold);
		else
			snprintf(payload, sizeof payload, "{\"score\":\"churn\",\"value\":%.17g,"
				 "\"previous\":null,\"threshold\":%.17g}", is, threshold);
		if (patron_event_append(s, "score.changed", after.ids[a], payload, now, now, err) < 0) {
			patron_store_rollback(s);
			learn_scores_free(&after);
			return -1;
		}
		emitted++;
	}
	learn_scores_free(&after);
	if (patron_store_commit(s, err) < 0)
		return -1;
	return emitted;
}

/* The rows of the test table FT that name no customer P trained on, into
 * *KEEP (malloc'd, ascending); how many into *N. */
static void unseen_rows(const prepared *p, const design_table *ft, const int64_t *who,
			size_t **keep, size_t *n)
{
	size_t rows = p->f ? p->f->rows : 0, nt = 0;
	int64_t *trained = patron_xmalloc((rows ? rows : 1) * sizeof *trained);
	for (size_t r = 0; r < rows; r++)
		if (p->train[r])
			trained[nt++] = p->f->customer_ids[r];
	qsort(trained, nt, sizeof *trained, by_id);
	*keep = patron_xmalloc((ft->d.rows ? ft->d.rows : 1) * sizeof **keep);
	*n = 0;
	for (size_t r = 0; r < ft->d.rows; r++)
		if (!who[r] || !bsearch(&who[r], trained, nt, sizeof *trained, by_id))
			(*keep)[(*n)++] = r;
	free(trained);
}

int learn_eval(const patron_plugin_file *pf, const patron_run_env *env, int64_t now,
	       const learn_opts *o, const char *test_file, double test_share, metrics *m,
	       size_t *seen, patron_err *err)
{
	prepared p;
	char *params = NULL;
	double *ph = NULL, *x = NULL, *y = NULL;
	int64_t *who = NULL, *ids = NULL;
	size_t *keep = NULL;
	int rc = -1;
	design_table ft = {0};
	*seen = 0;
	if (prepare(env, now, &o->lab, test_file ? 0 : test_share, o->seed, &p, err) < 0 ||
	    fit(pf, env, &p.t.d, &params, err) < 0)
		goto out;
	if (test_file) {
		const char *label = o->lab.label ? o->lab.label : "churn";
		if (design_apply_csv(&p.schema, test_file, label, env->store, &who, &ft, err) < 0)
			goto out;
		/* A row that is one of the store's labelled customers was trained
		 * on: a model that learnt it by heart would be credited with it. */
		size_t n;
		unseen_rows(&p, &ft, who, &keep, &n);
		*seen = ft.d.rows - n;
		if (!n) {
			rc = patron_err_set(err, "%s: every row (%zu) is a customer of the store the "
					    "model was trained on, so none measures it on unseen "
					    "customers; test on other customers, or use --test-split",
					    test_file, ft.d.rows);
			goto out;
		}
		patron_design sub = subset(&ft.d, keep, n, &x, &ids);
		y = patron_xmalloc(n * sizeof *y);
		for (size_t i = 0; i < n; i++)
			y[i] = ft.y[keep[i]];
		ph = patron_xmalloc(n * sizeof *ph);
		if (predict(pf, env, &sub, &params, ph, err) < 0)
			goto out;
		metrics_compute(ph, y, n, m);
	} else {
		size_t *h = NULL, nh = 0;
		int hrc = holdout_figures(pf, env, &p, &params, &h, &nh, m, NULL, err);
		free(h);
		if (hrc < 0)
			goto out;
		if (!nh) {
			rc = patron_err_set(err, "--test-split %g holds out no labelled customer",
					    test_share);
			goto out;
		}
	}
	rc = 0;
out:
	free(params), free(ph), free(x), free(y), free(who), free(ids), free(keep);
	design_table_free(&ft);
	prepared_free(&p);
	return rc;
}

int learn_drift(const patron_plugin_file *pf, const patron_run_env *env, int64_t now,
		learn_model *model, metrics *m, patron_err *err)
{
	const patron_features *f = patron_snapshot_features(env->snapshot, err);
	if (!f)
		return -1;
	double *y = patron_xmalloc((f->rows ? f->rows : 1) * sizeof *y);
	design_labels lab = model->schema.lab;
	if (!lab.label)
		lab.cutoff = env->snapshot->now;
	design_table t = {0};
	int rc = -1;
	if (design_labels_read(env->store, &lab, f, now, y, err) < 0 ||
	    design_apply(&model->schema, f, NULL, NULL, &t, err) < 0)
		goto out;
	/* Only customers the model never trained on: its held-out share (the
	 * same hash of id and seed), so a window that has not moved since the
	 * training cannot credit the model with rows it learnt. */
	json_t *opts = json_object_get(model->stored, "options");
	double share = json_number_value(json_object_get(opts, "holdout"));
	uint64_t seed = (uint64_t)json_integer_value(json_object_get(opts, "seed"));
	if (!(share > 0)) {
		rc = patron_err_set(err, "model version %lld was trained on every labelled customer "
				    "(holdout 0), so none is left to measure drift on unseen customers; "
				    "train with --holdout above 0", (long long)model->version);
		goto out;
	}
	size_t *rows = patron_xmalloc((f->rows ? f->rows : 1) * sizeof *rows), n = 0;
	for (size_t r = 0; r < f->rows; r++)
		if (!isnan(y[r]) && held_out(seed, f->customer_ids[r], share))
			rows[n++] = r;
	if (!n) {
		free(rows);
		rc = patron_err_set(err, "no labelled customer of the model's held-out share in the "
				    "newest window");
		goto out;
	}
	double *x, *yy = patron_xmalloc(n * sizeof *yy), *p = patron_xmalloc(n * sizeof *p);
	int64_t *ids;
	patron_design sub = subset(&t.d, rows, n, &x, &ids);
	for (size_t i = 0; i < n; i++)
		yy[i] = y[rows[i]];
	rc = predict(pf, env, &sub, &model->params, p, err);
	if (rc == 0)
		metrics_compute(p, yy, n, m);
	free(x), free(ids), free(yy), free(p), free(rows);
out:
	design_table_free(&t);
	free(y);
	return rc;
}
