/* patron.conf: a Lua file of assignments, read in a sandbox (no io, os,
 * require or load; an instruction budget and a memory cap), that chooses the
 * plugin for each job and passes it options:
 *
 *   segment = "rfm"
 *   churn = { plugin = "forest", trees = 200 }
 *   value = false                -- this job does not run
 *   channels = { email = { plugin = "smtp", url = "smtp://127.0.0.1:2525" } }
 *   frequency_cap = { messages = 3, per = "7d" }   -- sends per customer
 *   templates = "templates"      -- where send{} finds its templates
 *
 * A job's plugin is named JOB.NAME ("segment.tiers"). Unknown keys and
 * values of the wrong type are errors naming the key and what was expected. */
#ifndef PATRON_CONFIG_H
#define PATRON_CONFIG_H

#include "util.h"

typedef struct patron_config patron_config;

/* The jobs `patron score` runs, in order, with the plugin kind each needs. */
typedef struct {
	const char *job;
	unsigned kind;
	const char *fallback;	/* used when patron.conf names none, or NULL */
	int supervised;		/* learns from labels: trained by the core (learn.h) */
} patron_job;
extern const patron_job patron_jobs[];

/* Reads PATH. When PATH does not exist and REQUIRED is 0, an empty config
 * (every job on its fallback) is returned. */
int patron_config_load(const char *path, int required, patron_config **out, patron_err *err);
void patron_config_free(patron_config *c);
const char *patron_config_path(const patron_config *c);

/* The short plugin name chosen for JOB ("tiers"), its fallback, or NULL. */
const char *patron_config_plugin(const patron_config *c, const char *job);
/* How many plugins JOB runs: a list ({ "rfm", "kmeans" }, segment only)
 * gives each; 1 for one plugin, 0 for none. "JOB[K]" names the Kth of a
 * list (1-based) wherever a job's name is taken; JOB alone is the first. */
size_t patron_config_choices(const patron_config *c, const char *job);

/* Options of JOB's table. string: NULL when unset or not a string (is_set
 * tells which); number: 1 and *out when a number, 0 unset, -1 otherwise. */
const char *patron_config_string(const patron_config *c, const char *job, const char *key);
int patron_config_number(const patron_config *c, const char *job, const char *key, double *out);

/* A secret of JOB's table (a password, a signing key), never written in
 * patron.conf itself: from the variable NAME_env names (which must be
 * set), else the file NAME_file names (which only its owner may read;
 * its first line), else the variable ENV_DEFAULT. *OUT, owned by the
 * caller, is NULL when none is given. -1 with err ("option NAME: a NAME
 * does not belong in patron.conf; ...") when NAME is set, a variable is
 * missing or the file is refused or empty. */
int patron_config_secret(const patron_config *c, const char *job, const char *name,
			 const char *env_default, char **out, patron_err *err);

/* JOB's options (its table's strings, numbers and booleans; "plugin"
 * included), appended to BUF as one JSON object; {} when it has none. */
void patron_config_job_json(const patron_config *c, const char *job, patron_buf *buf);

/* A top-level string (templates), or NULL. */
const char *patron_config_top_string(const patron_config *c, const char *key);
/* 1 when channels.NAME is configured; *address is its `address` option
 * (which identity a message goes to: email, phone or none) or NULL. */
int patron_config_channel(const patron_config *c, const char *name, const char **address);
/* Appends the configured channel names, comma-separated. */
void patron_config_channel_names(const patron_config *c, patron_buf *names);

#endif
