#include "plugin.h"

#include <dirent.h>
#include <stddef.h>
#include <dlfcn.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "results.h"
#include "util.h"

#ifndef PATRON_PREFIX
#define PATRON_PREFIX "/usr/local"
#endif

static const char *const kind_names[] = {
	NULL, "segmenter", "scorer", "recommender", "channel", "analyzer", "forecaster",
};

const char *patron_kind_name(unsigned kind)
{
	return kind >= 1 && kind <= PATRON_KIND_FORECASTER ? kind_names[kind] : "unknown";
}

static void refuse(patron_plugin_file *f, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void refuse(patron_plugin_file *f, const char *fmt, ...)
{
	patron_buf b = {0};
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	patron_buf_printf(&b, "%s: %s", f->path, msg);
	f->refused = b.data;
	if (f->handle)
		dlclose(f->handle);
	f->handle = NULL;
	f->desc = NULL;
}

/* "JOB.NAME" with both parts non-empty. */
static int good_name(const char *name)
{
	const char *dot = name ? strchr(name, '.') : NULL;
	return dot && dot != name && dot[1] && strlen(name) < 128;
}

static void load_one(patron_plugins *ps, const char *path)
{
	ps->files = patron_xrealloc(ps->files, (ps->n + 1) * sizeof *ps->files);
	patron_plugin_file *f = &ps->files[ps->n++];
	memset(f, 0, sizeof *f);
	f->path = patron_xstrdup(path);
	dlerror();
	/* RTLD_NODELETE: a plugin's libraries stay mapped until the process
	 * ends. Some start threads when loaded (OpenBLAS, under recommend.als),
	 * and unmapping code that live threads run would crash them. */
	f->handle = dlopen(path, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
	if (!f->handle) {
		const char *why = dlerror();
		if (why && (strstr(why, "invalid ELF header") || strstr(why, "file too short")))
			refuse(f, "not a shared object");
		else
			refuse(f, "cannot load: %s", why ? why : "unknown reason");
		return;
	}
	const patron_plugin *(*entry)(void);
	*(void **)&entry = dlsym(f->handle, "patron_plugin_entry");
	if (!entry) {
		refuse(f, "no patron_plugin_entry symbol: not a Patron plugin");
		return;
	}
	const patron_plugin *d = entry();
	if (!d) {
		refuse(f, "patron_plugin_entry returned no descriptor");
		return;
	}
	/* The ABI major first, before reading anything else of the descriptor. */
	if (d->abi_major != PATRON_ABI_MAJOR) {
		refuse(f, "built for plugin ABI %u, this patron speaks ABI %u", d->abi_major,
		       PATRON_ABI_MAJOR);
		return;
	}
	if (d->size < offsetof(patron_plugin, free) + sizeof d->free) {
		refuse(f, "descriptor is %u bytes, smaller than ABI %u.0's", d->size,
		       PATRON_ABI_MAJOR);
		return;
	}
	if (!good_name(d->name)) {
		refuse(f, "plugin name \"%s\" is not JOB.NAME (like segment.tiers)",
		       d->name ? d->name : "");
		return;
	}
	if (d->kind < PATRON_KIND_SEGMENTER || d->kind > PATRON_KIND_FORECASTER) {
		refuse(f, "plugin %s: unknown kind %u", d->name, d->kind);
		return;
	}
	if (d->kind == PATRON_KIND_CHANNEL &&
	    (!d->init || d->size < offsetof(patron_plugin, deliver) + sizeof d->deliver ||
	     !d->deliver)) {
		refuse(f, "plugin %s: a channel needs init and deliver callbacks (ABI 1.2)",
		       d->name);
		return;
	}
	if (d->kind == PATRON_KIND_FORECASTER &&
	    (!d->init || d->size < offsetof(patron_plugin, forecast) + sizeof d->forecast ||
	     !d->forecast)) {
		refuse(f, "plugin %s: a forecaster needs init and forecast callbacks (ABI 1.7)",
		       d->name);
		return;
	}
	int analyzes = d->kind == PATRON_KIND_ANALYZER &&
		       ((d->size >= offsetof(patron_plugin, analyze) + sizeof d->analyze &&
			 d->analyze) ||
			(d->size >= offsetof(patron_plugin, classify) + sizeof d->classify &&
			 d->classify));
	if (!d->init || (d->kind != PATRON_KIND_CHANNEL && d->kind != PATRON_KIND_FORECASTER &&
			 !analyzes && !d->run)) {
		refuse(f, "plugin %s: a %s needs init and run callbacks", d->name,
		       patron_kind_name(d->kind));
		return;
	}
	for (size_t i = 0; i + 1 < ps->n; i++) {
		if (ps->files[i].desc && strcmp(ps->files[i].desc->name, d->name) == 0) {
			refuse(f, "plugin %s is already loaded from %s; this file is ignored",
			       d->name, ps->files[i].path);
			return;
		}
	}
	f->desc = d;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Loads every *.so of DIR in name order; SEEN lists folders done already. */
static void load_dir(patron_plugins *ps, const char *dir, char ***seen, size_t *nseen)
{
	char real[PATH_MAX];
	if (!realpath(dir, real))
		return;
	for (size_t i = 0; i < *nseen; i++)
		if (strcmp((*seen)[i], real) == 0)
			return;
	*seen = patron_xrealloc(*seen, (*nseen + 1) * sizeof **seen);
	(*seen)[(*nseen)++] = patron_xstrdup(real);
	DIR *d = opendir(real);
	if (!d)
		return;
	char **names = NULL;
	size_t n = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		size_t len = strlen(e->d_name);
		if (len > 3 && strcmp(e->d_name + len - 3, ".so") == 0) {
			names = patron_xrealloc(names, (n + 1) * sizeof *names);
			names[n++] = patron_xstrdup(e->d_name);
		}
	}
	closedir(d);
	qsort(names, n, sizeof *names, by_name);
	for (size_t i = 0; i < n; i++) {
		char path[PATH_MAX + 256];
		snprintf(path, sizeof path, "%s/%s", real, names[i]);
		load_one(ps, path);
		free(names[i]);
	}
	free(names);
}

void patron_plugins_load(patron_plugins *ps, const char *exe_dir)
{
	char **seen = NULL;
	size_t nseen = 0;
	const char *env = getenv("PATRON_PLUGIN_PATH");
	if (env && *env) {
		char *copy = patron_xstrdup(env), *save = NULL;
		for (char *d = strtok_r(copy, ":", &save); d; d = strtok_r(NULL, ":", &save))
			load_dir(ps, d, &seen, &nseen);
		free(copy);
	}
	char dir[PATH_MAX + 64];
	if (exe_dir) {
		snprintf(dir, sizeof dir, "%s/plugins", exe_dir);
		load_dir(ps, dir, &seen, &nseen);
		snprintf(dir, sizeof dir, "%s/../lib/patron/plugins", exe_dir);
		load_dir(ps, dir, &seen, &nseen);
	}
	load_dir(ps, PATRON_PREFIX "/lib/patron/plugins", &seen, &nseen);
	for (size_t i = 0; i < nseen; i++)
		free(seen[i]);
	free(seen);
}

void patron_plugins_load_file(patron_plugins *ps, const char *path)
{
	struct stat st;
	if (stat(path, &st) != 0) {
		ps->files = patron_xrealloc(ps->files, (ps->n + 1) * sizeof *ps->files);
		patron_plugin_file *f = &ps->files[ps->n++];
		memset(f, 0, sizeof *f);
		f->path = patron_xstrdup(path);
		refuse(f, "no such file");
		return;
	}
	/* dlopen looks a bare name up in the library path; a path it opens. */
	char real[PATH_MAX];
	load_one(ps, realpath(path, real) ? real : path);
}

void patron_plugins_free(patron_plugins *ps)
{
	for (size_t i = 0; i < ps->n; i++) {
		if (ps->files[i].handle)
			dlclose(ps->files[i].handle);
		free(ps->files[i].path);
		free(ps->files[i].refused);
	}
	free(ps->files);
	memset(ps, 0, sizeof *ps);
}

const patron_plugin_file *patron_plugins_find(const patron_plugins *ps, const char *name)
{
	for (size_t i = 0; i < ps->n; i++)
		if (ps->files[i].desc && strcmp(ps->files[i].desc->name, name) == 0)
			return &ps->files[i];
	return NULL;
}

/* ---- the host table ---- */

struct patron_ctx {
	const patron_plugin_file *pf;
	const patron_run_env *env;
	char model[192];	/* "segment.tiers 1.0" */
	patron_err err;
	int failed;
	int not_ready;		/* the failure is the store's too little data */
	size_t wrote;
	char *loaded;		/* load_model's answer, freed with the context */
	int64_t saved_version;	/* the version save_model stored, or 0 */
	char dir[4096];		/* store_dir's answer */
	patron_results *results;	/* what the callback wrote, until it returns */
	sqlite3_stmt *product;		/* product_field's query, prepared on first use */
	char *field;			/* product_field's answer */
};

static void host_log(patron_ctx *ctx, int level, const char *fmt, ...)
{
	static const char *const levels[] = {"debug", "info", "warning", "error"};
	if (level == PATRON_LOG_DEBUG && !getenv("PATRON_DEBUG"))
		return;
	va_list ap;
	fprintf(stderr, "patron: %s: %s: ", ctx->pf->desc->name,
		levels[level >= 0 && level <= 3 ? level : 1]);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void host_fail(patron_ctx *ctx, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(ctx->err.msg, sizeof ctx->err.msg, fmt, ap);
	va_end(ap);
	ctx->failed = 1;
}

static void host_not_ready(patron_ctx *ctx, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(ctx->err.msg, sizeof ctx->err.msg, fmt, ap);
	va_end(ap);
	ctx->failed = ctx->not_ready = 1;
}

static const char *host_option_string(patron_ctx *ctx, const char *key)
{
	return patron_config_string(ctx->env->config, ctx->env->job, key);
}

static int host_option_number(patron_ctx *ctx, const char *key, double *out)
{
	if (ctx->env->list_length && strcmp(key, "n") == 0) {
		*out = (double)ctx->env->list_length;
		return 1;
	}
	return patron_config_number(ctx->env->config, ctx->env->job, key, out);
}

static int64_t host_now(patron_ctx *ctx) { return ctx->env->now; }

/* `patron plugins check` runs init with no store: the calls that need one
 * fail there instead of crashing. */
static int no_store(patron_ctx *ctx, const char *what)
{
	if (ctx->env->store)
		return 0;
	host_fail(ctx, "%s is not available while only checking the plugin", what);
	return 1;
}

/* Eval runs hand the plugin a snapshot that need not come from a store. */
static int no_snapshot(patron_ctx *ctx, const char *what)
{
	if (ctx->env->snapshot)
		return 0;
	host_fail(ctx, "%s is not available while only checking the plugin", what);
	return 1;
}

/* The feature matrix (or its summary, MAKE's) of the command's snapshot. */
static const patron_features *features_by(patron_ctx *ctx,
					  const patron_features *(*make)(patron_snapshot *,
									  patron_err *))
{
	if (no_snapshot(ctx, "features"))
		return NULL;
	if (!ctx->env->store) {
		host_fail(ctx, "this evaluation has a purchase matrix only: no customer features");
		return NULL;
	}
	const patron_features *f = make(ctx->env->snapshot, &ctx->err);
	if (!f)
		ctx->failed = 1;
	return f;
}

static const patron_features *host_features(patron_ctx *ctx)
{
	return features_by(ctx, patron_snapshot_features);
}

static const patron_features *host_summary(patron_ctx *ctx)
{
	return features_by(ctx, patron_snapshot_summary);
}

static const patron_graph *host_graph(patron_ctx *ctx)
{
	if (no_snapshot(ctx, "graph"))
		return NULL;
	const patron_graph *g = patron_snapshot_graph(ctx->env->snapshot, &ctx->err);
	if (!g)
		ctx->failed = 1;
	return g;
}

static int host_error(patron_ctx *ctx, const char *what)
{
	patron_store_fail(ctx->env->store, &ctx->err, what);
	patron_store_rollback(ctx->env->store);
	ctx->failed = 1;
	return -1;
}

/* Results are held in ctx->results and written when the callback returns
 * without failing (call), so a run's results land all together or not at
 * all, in the order the tables are keyed by. */
static int hold_results(patron_ctx *ctx)
{
	if (ctx->env->capture) {
		ctx->results = ctx->env->capture;
		return 0;
	}
	if (no_store(ctx, "writing results"))
		return -1;
	if (!ctx->results)
		ctx->results = patron_results_new();
	return 0;
}

static int host_write_segments(patron_ctx *ctx, size_t n, const int64_t *ids,
			       const char *const *labels)
{
	if (hold_results(ctx) < 0)
		return -1;
	const char *name = ctx->env->segment_name ? ctx->env->segment_name : "segment";
	patron_results_add_scores(ctx->results, name, n, ids, NULL, labels);
	ctx->wrote += n;
	return 0;
}

static int host_write_scores(patron_ctx *ctx, const char *score, size_t n, const int64_t *ids,
			     const double *values)
{
	if (!score || !*score || strcmp(score, "segment") == 0) {
		host_fail(ctx, "write_scores: \"%s\" is not a score name", score ? score : "");
		return -1;
	}
	if (hold_results(ctx) < 0)
		return -1;
	patron_results_add_scores(ctx->results, score, n, ids, values, NULL);
	ctx->wrote += n;
	return 0;
}

static int host_write_recommendations(patron_ctx *ctx, size_t n, const int64_t *ids, size_t k,
				      const int64_t *products, const double *scores)
{
	if (hold_results(ctx) < 0)
		return -1;
	patron_results_add_recommendations(ctx->results, n, ids, k, products, scores, 0, NULL);
	ctx->wrote += n;
	return 0;
}

static int host_write_recommendations_because(patron_ctx *ctx, size_t n, const int64_t *ids,
					      size_t k, const int64_t *products,
					      const double *scores, size_t m,
					      const int64_t *because)
{
	if (hold_results(ctx) < 0)
		return -1;
	patron_results_add_recommendations(ctx->results, n, ids, k, products, scores, m, because);
	ctx->wrote += n;
	return 0;
}

static const patron_purchases *host_purchases(patron_ctx *ctx)
{
	if (no_snapshot(ctx, "purchases"))
		return NULL;
	const patron_purchases *p = patron_snapshot_purchases(ctx->env->snapshot, &ctx->err);
	if (!p)
		ctx->failed = 1;
	return p;
}

static const patron_design *host_design(patron_ctx *ctx) { return ctx->env->design; }
static const patron_texts *host_texts(patron_ctx *ctx) { return ctx->env->texts; }

static int host_write_score_labels(patron_ctx *ctx, const char *score, size_t n,
				   const int64_t *ids, const char *const *labels)
{
	if (!score || !*score || strcmp(score, "segment") == 0) {
		host_fail(ctx, "write_score_labels: \"%s\" is not a score name", score ? score : "");
		return -1;
	}
	if (hold_results(ctx) < 0)
		return -1;
	patron_results_add_scores(ctx->results, score, n, ids, NULL, labels);
	ctx->wrote += n;
	return 0;
}

static const char *host_product_field(patron_ctx *ctx, int64_t product_id, const char *field)
{
	static const char *const fields[] = {"sku", "name", "category"};
	int col = -1;
	for (int i = 0; i < 3; i++)
		if (field && strcmp(field, fields[i]) == 0)
			col = i;
	if (col < 0 || !ctx->env->store)
		return NULL;
	if (!ctx->product && sqlite3_prepare_v2(patron_store_db(ctx->env->store), "SELECT sku, "
						"name, category FROM products WHERE id = ?1", -1,
						&ctx->product, NULL) != SQLITE_OK)
		return NULL;
	free(ctx->field);
	ctx->field = NULL;
	sqlite3_bind_int64(ctx->product, 1, product_id);
	if (sqlite3_step(ctx->product) == SQLITE_ROW && sqlite3_column_text(ctx->product, col))
		ctx->field = patron_xstrdup((const char *)sqlite3_column_text(ctx->product, col));
	sqlite3_reset(ctx->product);
	return ctx->field;
}

static int host_emit(patron_ctx *ctx, const char *topic, int64_t cid, const char *json)
{
	if (ctx->env->capture)
		return 0;	/* an evaluation changes nothing */
	if (no_store(ctx, "emit"))
		return -1;
	if (!topic || !*topic) {
		host_fail(ctx, "emit: an event needs a topic");
		return -1;
	}
	if (json) {
		sqlite3_stmt *st;
		sqlite3_prepare_v2(patron_store_db(ctx->env->store), "SELECT json_valid(?1) AND "
				   "json_type(?1) = 'object'", -1, &st, NULL);
		sqlite3_bind_text(st, 1, json, -1, SQLITE_STATIC);
		int ok = sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0);
		sqlite3_finalize(st);
		if (!ok) {
			host_fail(ctx, "emit %s: the payload is not a JSON object", topic);
			return -1;
		}
	}
	if (patron_event_append(ctx->env->store, topic, cid, json, ctx->env->now, ctx->env->now,
				&ctx->err) < 0)
		return ctx->failed = 1, -1;
	return 0;
}

static void host_progress(patron_ctx *ctx, double done, const char *what)
{
	if (!ctx->env->progress)
		return;
	int pct = (int)(done * 100 + 0.5);
	fprintf(stderr, "\r%s: %s %3d%%%s", ctx->pf->desc->name, what ? what : "",
		pct < 0 ? 0 : pct > 100 ? 100 : pct, done >= 1.0 ? "\r\033[K" : "");
	fflush(stderr);
}

static int host_save_model(patron_ctx *ctx, const char *params)
{
	if (ctx->env->held_model) {
		json_error_t jerr;
		json_t *j = json_loads(params ? params : "", 0, &jerr);
		int ok = json_is_object(j);
		json_decref(j);
		if (!ok) {
			host_fail(ctx, "save_model: the parameters are not a JSON object text");
			return -1;
		}
		free(*ctx->env->held_model);
		*ctx->env->held_model = patron_xstrdup(params);
		return 0;
	}
	if (ctx->env->capture)
		return 0;	/* an evaluation's model is not kept */
	if (no_store(ctx, "save_model"))
		return -1;
	patron_store *s = ctx->env->store;
	sqlite3_stmt *st = patron_store_stmt(s, ST_MODEL_SAVE);
	sqlite3_bind_text(st, 1, ctx->pf->desc->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, ctx->pf->desc->version ? ctx->pf->desc->version : "", -1,
			  SQLITE_STATIC);
	sqlite3_bind_text(st, 3, params ? params : "", -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, (int64_t)time(NULL));
	sqlite3_bind_int64(st, 5, ctx->env->now);
	if (sqlite3_step(st) != SQLITE_ROW) {
		int rc = sqlite3_errcode(patron_store_db(s));
		sqlite3_reset(st);
		if (rc == SQLITE_CONSTRAINT) {
			host_fail(ctx, "save_model: the parameters are not a JSON object text");
			return -1;
		}
		return host_error(ctx, "saving a model");
	}
	ctx->saved_version = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return 0;
}

static const char *host_load_model(patron_ctx *ctx)
{
	if (ctx->env->held_model)
		return *ctx->env->held_model;
	if (ctx->env->capture)
		return NULL;	/* an evaluation fits afresh on its own data */
	if (no_store(ctx, "load_model"))
		return NULL;
	sqlite3_stmt *st = patron_store_stmt(ctx->env->store, ST_MODEL_LOAD);
	sqlite3_bind_text(st, 1, ctx->pf->desc->name, -1, SQLITE_STATIC);
	free(ctx->loaded);
	ctx->loaded = NULL;
	if (sqlite3_step(st) == SQLITE_ROW)
		ctx->loaded = patron_xstrdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_reset(st);
	return ctx->loaded;
}

static const char *host_store_dir(patron_ctx *ctx)
{
	const char *path = ctx->env->store ? patron_store_path(ctx->env->store) : NULL;
	const char *slash = path ? strrchr(path, '/') : NULL;
	if (!slash)
		return ".";
	snprintf(ctx->dir, sizeof ctx->dir, "%.*s", (int)(slash - path), path);
	return ctx->dir[0] ? ctx->dir : "/";
}

static int host_secret(patron_ctx *ctx, const char *name, const char *env_default, char **out)
{
	patron_err err;
	if (patron_config_secret(ctx->env->config, ctx->env->job, name, env_default, out,
				 &err) < 0) {
		host_fail(ctx, "%s", err.msg);
		return -1;
	}
	return 0;
}

static const patron_host host = {
	.size = sizeof(patron_host),
	.abi_major = PATRON_ABI_MAJOR,
	.abi_minor = PATRON_ABI_MINOR,
	.log = host_log,
	.fail = host_fail,
	.option_string = host_option_string,
	.option_number = host_option_number,
	.now = host_now,
	.features = host_features,
	.graph = host_graph,
	.write_segments = host_write_segments,
	.write_scores = host_write_scores,
	.write_recommendations = host_write_recommendations,
	.emit = host_emit,
	.progress = host_progress,
	.save_model = host_save_model,
	.load_model = host_load_model,
	.store_dir = host_store_dir,
	.product_field = host_product_field,
	.write_recommendations_because = host_write_recommendations_because,
	.design = host_design,
	.write_score_labels = host_write_score_labels,
	.not_ready = host_not_ready,
	.secret = host_secret,
	.texts = host_texts,
	.purchases = host_purchases,
	.summary = host_summary,
};

/* The keys of a job's table the core reads itself, beside the plugin's. */
static const char *const core_options[] = {"plugin", NULL};
static const char *const supervised_options[] = {"plugin", "threshold", "horizon", "label",
						  "retrain", "margin", NULL};

static int listed(const char *const *list, const char *key)
{
	for (; list && *list; list++)
		if (strcmp(*list, key) == 0)
			return 1;
	return 0;
}

/* A plugin that lists its options (ABI 1.5) has every other key of its
 * job's table refused, naming the key and what the plugin reads. */
static int check_options(const patron_plugin *d, const patron_run_env *env, patron_err *err)
{
	if (d->size < offsetof(patron_plugin, options) + sizeof d->options || !d->options ||
	    !env->config || !env->job || d->kind == PATRON_KIND_CHANNEL)
		return 0;
	patron_buf buf = {0};
	patron_config_job_json(env->config, env->job, &buf);
	json_t *o = json_loadb(buf.data, buf.len, 0, NULL);
	patron_buf_free(&buf);
	const char *key;
	json_t *v;
	int rc = 0, supervised = 0;
	for (const patron_job *j = patron_jobs; j->job; j++)
		supervised |= strcmp(j->job, env->job) == 0 && j->supervised;
	json_object_foreach(o, key, v) {
		if (listed(d->options, key) || listed(supervised ? supervised_options : core_options,
						      key))
			continue;
		patron_buf known = {0};
		for (const char *const *k = d->options; *k; k++)
			patron_buf_printf(&known, "%s%s", known.len ? ", " : "", *k);
		rc = patron_err_set(err, "%s: %s.%s: %s has no option \"%s\" (its options: %s)",
				    patron_config_path(env->config), env->job, key, d->name, key,
				    known.len ? known.data : "none");
		patron_buf_free(&known);
		break;
	}
	json_decref(o);
	return rc;
}

/* ---- a plugin that crashes ----
 *
 * A plugin runs in Patron's process, so a fault in it ends the process. The
 * core keeps nothing of a call that did not return (results are stored
 * after it, a message's attempt is counted before it), and this handler
 * says which plugin and which call it was, on one line, before the process
 * ends as the signal says. */

static char call_line[512];	/* written before each call, read by the handler */
static volatile sig_atomic_t call_len;

static void crashed(int sig)
{
	static const struct {
		int sig;
		const char *name;
	} names[] = {{SIGSEGV, "SIGSEGV"}, {SIGBUS, "SIGBUS"}, {SIGFPE, "SIGFPE"},
		     {SIGILL, "SIGILL"}, {SIGABRT, "SIGABRT"}};
	if (call_len > 0) {
		const char *name = "a fatal signal";
		for (size_t i = 0; i < sizeof names / sizeof *names; i++)
			if (names[i].sig == sig)
				name = names[i].name;
		/* write(2) only: nothing else is safe in a handler. */
		static const char tail[] = "); nothing of that call was kept\n";
		ssize_t w = write(STDERR_FILENO, call_line, (size_t)call_len);
		w = write(STDERR_FILENO, name, strlen(name));
		w = write(STDERR_FILENO, tail, sizeof tail - 1);
		(void)w;
	}
	signal(sig, SIG_DFL);
	raise(sig);
}

/* Marks the start of call WHAT into plugin PF (NULL: the end of it). */
static void calling(const patron_plugin_file *pf, const char *what)
{
	static int installed;
	if (!installed) {
		/* Its own stack, so a plugin that overflows its stack is named too. */
		static char alt[64 * 1024];
		stack_t ss = {.ss_sp = alt, .ss_size = sizeof alt};
		sigaltstack(&ss, NULL);
		struct sigaction sa = {.sa_handler = crashed, .sa_flags = SA_ONSTACK};
		sigemptyset(&sa.sa_mask);
		const int sigs[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
		for (size_t i = 0; i < sizeof sigs / sizeof *sigs; i++)
			sigaction(sigs[i], &sa, NULL);
		installed = 1;
	}
	call_len = 0;
	if (pf) {
		int n = snprintf(call_line, sizeof call_line, "patron: plugin %s (%s) crashed in its "
				 "%s call (", pf->desc->name, pf->path, what);
		call_len = n < 0 ? 0 : n >= (int)sizeof call_line ? (int)sizeof call_line - 1 : n;
	}
}

static int init(const patron_plugin_file *pf, patron_ctx *ctx, void **state, patron_err *err)
{
	const patron_plugin *d = pf->desc;
	snprintf(ctx->model, sizeof ctx->model, "%s %s", d->name, d->version ? d->version : "");
	if (check_options(d, ctx->env, err) < 0)
		return -1;
	calling(pf, "init");
	int rc = d->init(&host, ctx, state);
	calling(NULL, NULL);
	if (rc != 0 || ctx->failed)
		return patron_err_set(err, "plugin %s: init failed: %s", d->name,
				      ctx->err.msg[0] ? ctx->err.msg : "no reason given");
	return 0;
}

int patron_plugin_init_check(const patron_plugin_file *pf, const patron_run_env *env,
			     patron_err *err)
{
	patron_ctx ctx = {.pf = pf, .env = env};
	void *state = NULL;
	if (init(pf, &ctx, &state, err) < 0)
		return -1;
	calling(pf, "free");
	if (pf->desc->free)
		pf->desc->free(state);
	calling(NULL, NULL);
	return 0;
}

int patron_plugin_has_train(const patron_plugin_file *pf)
{
	const patron_plugin *d = pf->desc;
	return d->size >= offsetof(patron_plugin, train) + sizeof d->train && d->train;
}

/* init, then TRAIN or run, then free. */
static int call(const patron_plugin_file *pf, const patron_run_env *env, int train,
		patron_run_stats *stats, int64_t *version, patron_err *err)
{
	const patron_plugin *d = pf->desc;
	patron_ctx ctx = {.pf = pf, .env = env};
	void *state = NULL;
	*stats = (patron_run_stats){0};
	if (init(pf, &ctx, &state, err) < 0)
		return -1;
	calling(pf, train ? "train" : "run");
	int rc = train ? d->train(state, &ctx) : d->run ? d->run(state, &ctx) : 0;
	calling(pf, "free");
	if (d->free)
		d->free(state);
	calling(NULL, NULL);
	free(ctx.loaded);
	sqlite3_finalize(ctx.product);
	free(ctx.field);
	if (env->capture) {
		stats->wrote = ctx.wrote;
		return rc != 0 || ctx.failed ? patron_err_set(err, "plugin %s: %s", d->name,
			ctx.err.msg[0] ? ctx.err.msg : "failed, giving no reason") : 0;
	}
	double t0 = patron_clock();
	if (rc == 0 && !ctx.failed && ctx.results &&
	    patron_results_commit(ctx.results, env->store, ctx.model, env->now, &ctx.err) < 0)
		ctx.failed = 1;
	patron_results_free(ctx.results);
	stats->store_secs = patron_clock() - t0;
	stats->wrote = ctx.failed || rc != 0 ? 0 : ctx.wrote;
	if (version)
		*version = ctx.saved_version;
	if (ctx.not_ready) {
		patron_err_set(err, "%s", ctx.err.msg);
		return 1;
	}
	if (rc != 0 || ctx.failed)
		return patron_err_set(err, "plugin %s: %s", d->name,
				      ctx.err.msg[0] ? ctx.err.msg : "failed, giving no reason");
	return 0;
}

int patron_plugin_run(const patron_plugin_file *pf, const patron_run_env *env,
		      patron_run_stats *stats, patron_err *err)
{
	return call(pf, env, 0, stats, NULL, err);
}

int patron_plugin_train(const patron_plugin_file *pf, const patron_run_env *env,
			int64_t *version, patron_err *err)
{
	patron_run_stats stats;
	if (!patron_plugin_has_train(pf))
		return patron_err_set(err, "plugin %s has nothing to train", pf->desc->name);
	/* Too little data to train on is a failure of the command asked for. */
	return call(pf, env, 1, &stats, version, err) != 0 ? -1 : 0;
}

/* ---- forecasters ---- */

int patron_plugin_forecast(const patron_plugin_file *pf, const patron_run_env *env,
			   patron_forecast *f, patron_err *err)
{
	const patron_plugin *d = pf->desc;
	if (d->kind != PATRON_KIND_FORECASTER)
		return patron_err_set(err, "plugin %s is a %s, not a forecaster", d->name,
				      patron_kind_name(d->kind));
	patron_ctx ctx = {.pf = pf, .env = env};
	void *state = NULL;
	if (init(pf, &ctx, &state, err) < 0)
		return -1;
	f->method[0] = 0;
	calling(pf, "forecast");
	int rc = d->forecast(state, &ctx, f);
	calling(pf, "free");
	if (d->free)
		d->free(state);
	calling(NULL, NULL);
	free(ctx.loaded);
	if (ctx.not_ready) {
		patron_err_set(err, "%s", ctx.err.msg);
		return 1;
	}
	if (rc != 0 || ctx.failed)
		return patron_err_set(err, "plugin %s: %s", d->name,
				      ctx.err.msg[0] ? ctx.err.msg : "failed, giving no reason");
	/* What the report draws must be numbers, in order. */
	for (size_t h = 0; h < f->horizon; h++)
		if (!isfinite(f->mean[h]) || !isfinite(f->lo[h]) || !isfinite(f->hi[h]) ||
		    f->lo[h] > f->mean[h] || f->mean[h] > f->hi[h])
			return patron_err_set(err, "plugin %s: forecast %zu is not a number within "
					      "its interval", d->name, h + 1);
	f->method[sizeof f->method - 1] = 0;
	return 0;
}

/* ---- plugins held open across calls: analyzers and channels ---- */

/* One instance from init to free: its own copy of the environment and of
 * the job's name (the caller's may not outlive it), its context and state. */
typedef struct {
	const patron_plugin_file *pf;
	patron_run_env env;
	char job[160];
	patron_ctx ctx;
	void *state;
} held;

static int held_open(const patron_plugin_file *pf, const patron_run_env *env, held *h,
		     patron_err *err)
{
	h->pf = pf;
	h->env = *env;
	snprintf(h->job, sizeof h->job, "%s", env->job ? env->job : "");
	h->env.job = h->job;
	h->ctx.pf = pf;
	h->ctx.env = &h->env;
	return init(pf, &h->ctx, &h->state, err);
}

/* Clears the last call's failure before the next. */
static void held_ready(held *h)
{
	h->ctx.failed = 0;
	h->ctx.err.msg[0] = '\0';
}

static void held_close(held *h)
{
	calling(h->pf, "free");
	if (h->pf->desc->free)
		h->pf->desc->free(h->state);
	calling(NULL, NULL);
	free(h->ctx.loaded);
}

struct patron_analyzer {
	held h;
};

int patron_analyzer_open(const patron_plugin_file *pf, const patron_run_env *env,
			 patron_analyzer **out, patron_err *err)
{
	*out = NULL;
	const patron_plugin *d = pf->desc;
	int scores = d->size >= offsetof(patron_plugin, analyze) + sizeof d->analyze && d->analyze;
	int labels = d->size >= offsetof(patron_plugin, classify) + sizeof d->classify &&
		     d->classify;
	if (d->kind != PATRON_KIND_ANALYZER || (!scores && !labels))
		return patron_err_set(err, "plugin %s does not read texts (an analyzer with "
				      "analyze, ABI 1.8, or classify, ABI 1.10)", d->name);
	patron_analyzer *a = patron_xcalloc(1, sizeof *a);
	if (held_open(pf, env, &a->h, err) < 0) {
		free(a);
		return -1;
	}
	*out = a;
	return 0;
}

int patron_analyzer_classify(patron_analyzer *a, size_t n, const char *const *texts,
			     const char **labels, double *confidence, patron_err *err)
{
	held *h = &a->h;
	const patron_plugin *d = h->pf->desc;
	if (d->size < offsetof(patron_plugin, classify) + sizeof d->classify || !d->classify)
		return patron_err_set(err, "plugin %s does not label texts (classify, ABI 1.10)",
				      d->name);
	held_ready(h);
	calling(h->pf, "classify");
	int rc = d->classify(h->state, &h->ctx, n, texts, labels, confidence);
	calling(NULL, NULL);
	if (h->ctx.not_ready) {
		patron_err_set(err, "%s", h->ctx.err.msg);
		return 1;
	}
	if (rc != 0 || h->ctx.failed)
		return patron_err_set(err, "plugin %s: %s", d->name,
				      h->ctx.err.msg[0] ? h->ctx.err.msg : "failed, giving no reason");
	for (size_t i = 0; i < n; i++)
		if (!labels[i] || !*labels[i] || !(confidence[i] >= 0 && confidence[i] <= 1))
			return patron_err_set(err, "plugin %s: text %zu got no label or a confidence "
					      "outside 0 to 1", d->name, i + 1);
	return 0;
}

int patron_analyzer_score(patron_analyzer *a, size_t n, const char *const *texts, double *out,
			  patron_err *err)
{
	held *h = &a->h;
	if (!h->pf->desc->analyze || h->pf->desc->size < offsetof(patron_plugin, analyze) +
	    sizeof h->pf->desc->analyze)
		return patron_err_set(err, "plugin %s does not score texts (analyze, ABI 1.8)",
				      h->pf->desc->name);
	held_ready(h);
	calling(h->pf, "analyze");
	int rc = h->pf->desc->analyze(h->state, &h->ctx, n, texts, out);
	calling(NULL, NULL);
	if (rc != 0 || h->ctx.failed)
		return patron_err_set(err, "plugin %s: %s", h->pf->desc->name,
				      h->ctx.err.msg[0] ? h->ctx.err.msg : "failed, giving no reason");
	for (size_t i = 0; i < n; i++)
		if (!(out[i] >= -1 && out[i] <= 1))
			return patron_err_set(err, "plugin %s: text %zu scored %g, outside -1 to 1",
					      h->pf->desc->name, i + 1, out[i]);
	return 0;
}

const char *patron_analyzer_model(const patron_analyzer *a) { return a->h.ctx.model; }

void patron_analyzer_close(patron_analyzer *a)
{
	if (!a)
		return;
	held_close(&a->h);
	free(a);
}

/* ---- channels ---- */

struct patron_channel {
	held h;
};

int patron_channel_open(const patron_plugin_file *pf, const patron_run_env *env,
			patron_channel **out, patron_err *err)
{
	*out = NULL;
	if (pf->desc->kind != PATRON_KIND_CHANNEL)
		return patron_err_set(err, "plugin %s is a %s, not a channel", pf->desc->name,
				      patron_kind_name(pf->desc->kind));
	patron_channel *ch = patron_xcalloc(1, sizeof *ch);
	if (held_open(pf, env, &ch->h, err) < 0) {
		free(ch);
		return -1;
	}
	*out = ch;
	return 0;
}

int patron_channel_deliver(patron_channel *ch, const patron_message *m, char *why, size_t cap)
{
	held *h = &ch->h;
	held_ready(h);
	calling(h->pf, "deliver");
	int rc = h->pf->desc->deliver(h->state, &h->ctx, m);
	calling(NULL, NULL);
	if (rc < PATRON_DELIVERED || rc > PATRON_BOUNCED)
		rc = PATRON_REJECTED;
	if (rc == PATRON_DELIVERED && h->ctx.failed)
		rc = PATRON_RETRY;	/* said it failed, answered delivered: not trusted */
	snprintf(why, cap, "%s", rc == PATRON_DELIVERED ? ""
				 : h->ctx.err.msg[0] ? h->ctx.err.msg : "failed, giving no reason");
	return rc;
}

int patron_channel_forget(patron_channel *ch, const patron_message *m, char *why, size_t cap)
{
	held *h = &ch->h;
	const patron_plugin *d = h->pf->desc;
	if (d->size < offsetof(patron_plugin, forget) + sizeof d->forget || !d->forget)
		return 0;	/* it keeps no copy */
	held_ready(h);
	calling(h->pf, "forget");
	int rc = d->forget(h->state, &h->ctx, m);
	calling(NULL, NULL);
	if (rc < 0 || h->ctx.failed) {
		snprintf(why, cap, "%s", h->ctx.err.msg[0] ? h->ctx.err.msg
							   : "failed, giving no reason");
		return -1;
	}
	return rc;
}

void patron_channel_close(patron_channel *ch)
{
	if (!ch)
		return;
	held_close(&ch->h);
	free(ch);
}
