/* The plugin host: finds plugin files, loads them (dlopen, RTLD_NOW |
 * RTLD_LOCAL), checks their descriptors, and runs them with the host table.
 * A file that cannot be used is refused with one line naming it and the
 * reason; the others load. */
#ifndef PATRON_PLUGIN_HOST_H
#define PATRON_PLUGIN_HOST_H

#include "../sdk/patron/plugin.h"
#include "config.h"
#include "snapshot.h"
#include "store.h"

typedef struct {
	char *path;
	void *handle;			/* NULL when refused */
	const patron_plugin *desc;	/* NULL when refused */
	char *refused;			/* why, one line, or NULL */
} patron_plugin_file;

typedef struct {
	patron_plugin_file *files;
	size_t n;
} patron_plugins;

/* Scans, in this order (the first of two files with one name wins): each
 * folder of $PATRON_PLUGIN_PATH, EXE_DIR/plugins (the build tree),
 * EXE_DIR/../lib/patron/plugins and PREFIX/lib/patron/plugins. */
void patron_plugins_load(patron_plugins *ps, const char *exe_dir);
/* Loads one file, as `patron plugins check` does. */
void patron_plugins_load_file(patron_plugins *ps, const char *path);
void patron_plugins_free(patron_plugins *ps);
const patron_plugin_file *patron_plugins_find(const patron_plugins *ps, const char *name);
const char *patron_kind_name(unsigned kind);

/* What one run of a plugin needs around it. */
typedef struct {
	patron_store *store;
	patron_snapshot *snapshot;
	const patron_config *config;
	const char *job;	/* the config key whose options the plugin reads */
	int64_t now;
	int progress;		/* draw progress on stderr */
	/* When set, results go here and nothing is stored; the snapshot may
	 * then come from elsewhere than the store (patron eval). */
	struct patron_results *capture;
	size_t list_length;	/* when set, what recommenders read as option "n" */
	/* Supervised jobs (ABI 1.4): the table the plugin trains on or scores. */
	const patron_design *design;
	/* When set, save_model keeps the parameters here (malloc'd, replacing
	 * what was) instead of storing them, and load_model answers them: the
	 * core stores a supervised model itself, with its schema and figures. */
	char **held_model;
	/* Where write_segments stores its labels: "segment" (NULL), or
	 * "segment.NAME" for a second segmentation. */
	const char *segment_name;
	/* Analyzers' training (ABI 1.8): the texts host->texts gives, or NULL. */
	const patron_texts *texts;
} patron_run_env;

/* What one run did: results stored, and the seconds spent storing them. */
typedef struct {
	size_t wrote;
	double store_secs;
} patron_run_stats;

/* init, run, free, then the results stored in one transaction. 0; 1 when
 * the job cannot run on this store yet (err says why and what would make
 * it run: host->not_ready); or -1 with err "plugin NAME: ...". Nothing is
 * stored unless 0. */
int patron_plugin_run(const patron_plugin_file *pf, const patron_run_env *env,
		      patron_run_stats *stats, patron_err *err);

/* 1 when the plugin can be trained (ABI 1.1 train callback). */
int patron_plugin_has_train(const patron_plugin_file *pf);
/* init, train, free: fits and saves a new model version (*VERSION). */
int patron_plugin_train(const patron_plugin_file *pf, const patron_run_env *env,
			int64_t *version, patron_err *err);

/* init then free, without run: whether the plugin accepts its options. */
int patron_plugin_init_check(const patron_plugin_file *pf, const patron_run_env *env,
			     patron_err *err);

/* A forecaster's forecast of F->y (init, forecast, free): 0, 1 when the
 * series is too short (the reason in err), -1 on failure. The forecast is
 * checked: every value a number between its bounds. */
int patron_plugin_forecast(const patron_plugin_file *pf, const patron_run_env *env,
			   patron_forecast *f, patron_err *err);

/* An analyzer held open across calls (ABI 1.8): scores texts, as many
 * calls as needed, with the state init made (a model loaded once). */
typedef struct patron_analyzer patron_analyzer;
int patron_analyzer_open(const patron_plugin_file *pf, const patron_run_env *env,
			 patron_analyzer **out, patron_err *err);
/* N texts into OUT (each from -1 to 1, checked): 0, or -1 with err. */
int patron_analyzer_score(patron_analyzer *a, size_t n, const char *const *texts, double *out,
			  patron_err *err);
/* ABI 1.10, text classifiers: the label and its probability of N texts
 * (labels owned by the plugin until close). 1, with err saying why, when
 * the plugin has nothing trained yet. */
int patron_analyzer_classify(patron_analyzer *a, size_t n, const char *const *texts,
			     const char **labels, double *confidence, patron_err *err);
const char *patron_analyzer_model(const patron_analyzer *a);	/* "NAME VERSION" */
void patron_analyzer_close(patron_analyzer *a);

/* A channel plugin held open across messages (ABI 1.2). ENV->job is the
 * config path of its options, "channels.NAME". */
typedef struct patron_channel patron_channel;
int patron_channel_open(const patron_plugin_file *pf, const patron_run_env *env,
			patron_channel **out, patron_err *err);
/* One message: a PATRON_DELIVERED.. answer, and WHY the plugin failed. */
int patron_channel_deliver(patron_channel *ch, const patron_message *m, char *why, size_t cap);
/* Asks the channel to remove its copy of M (patron erase): the copies
 * removed, 0 for a channel that keeps none, or -1 with WHY. */
int patron_channel_forget(patron_channel *ch, const patron_message *m, char *why, size_t cap);
void patron_channel_close(patron_channel *ch);

#endif
