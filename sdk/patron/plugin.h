/*
 * patron/plugin.h -- the one header a Patron plugin includes.
 *
 * A plugin is a shared object exporting one symbol, patron_plugin_entry,
 * which returns a pointer to a constant descriptor (struct patron_plugin).
 * The core checks the descriptor's ABI major version before touching
 * anything else, then calls init with the host table: everything a plugin
 * may do goes through that table. A plugin never links against the core and
 * never includes a core header.
 *
 * Compatibility rules, the same as SQLite's extension API:
 *  - PATRON_ABI_MAJOR changes only when something is removed or changed;
 *    a plugin built for another major is refused.
 *  - Within a major, members are only ever appended to struct patron_host
 *    and struct patron_plugin. Each struct carries its size as compiled, so
 *    an older plugin works with a newer core (it sees a prefix of the host
 *    table) and a newer plugin can check host->size before calling a member
 *    the running core may not have (PATRON_HOST_HAS).
 *
 * Build a plugin with nothing but:
 *   cc -shared -fPIC $(pkg-config --cflags patron-sdk) my.c -o segment.mine.so
 */
#ifndef PATRON_PLUGIN_H
#define PATRON_PLUGIN_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

#define PATRON_ABI_MAJOR 1
#define PATRON_ABI_MINOR 11

/* What a plugin does. The job it serves is the first part of its name:
 * "segment.tiers" is the segmenter chosen by `segment = "tiers"` in
 * patron.conf. */
typedef enum {
	PATRON_KIND_SEGMENTER = 1,	/* assigns each customer a segment label */
	PATRON_KIND_SCORER = 2,		/* writes a number per customer */
	PATRON_KIND_RECOMMENDER = 3,	/* top-N products per customer */
	PATRON_KIND_CHANNEL = 4,	/* delivers messages (the deliver callback) */
	PATRON_KIND_ANALYZER = 5,	/* turns text into scores (analyze, ABI 1.8) or
					 * labels (classify, ABI 1.10) */
	PATRON_KIND_FORECASTER = 6,	/* fits a time series, predicts it (ABI 1.7) */
} patron_kind;

/* Opaque: the core's state for one plugin during one command. */
typedef struct patron_ctx patron_ctx;

/*
 * The feature matrix: one row per customer who existed at "now", in
 * ascending customer id; one named float64 column per feature, row-major
 * (x[row * cols + col]). Missing values (no order yet, no such attribute)
 * are NaN. Always present, in this order:
 *   recency_days      days from the last paid order to now
 *   frequency         paid orders
 *   monetary_total    money spent in paid orders (currency units)
 *   monetary_mean     monetary_total / frequency
 *   tenure_days       days from the customer's first appearance to now
 *   mean_gap_days     mean days between consecutive paid orders
 *   orders_30d, orders_90d, orders_365d   paid orders in those last days
 * then numeric attributes ("attr.NAME"), then one-hot text attributes with
 * few distinct values ("attr.NAME=VALUE", 1 or 0). Orders after now are
 * ignored, so the past can be replayed.
 */
typedef struct {
	size_t rows, cols;
	const double *x;
	const char *const *names;
	const int64_t *customer_ids;	/* rows entries */
} patron_features;

/*
 * The customer x product interaction graph in CSR form: row r (the same
 * rows as the feature matrix) has the entries offsets[r] .. offsets[r+1]-1,
 * each a product column (0 .. products-1, ascending within a row) with the
 * quantity bought, the money spent and the time of the last purchase.
 */
typedef struct {
	size_t rows, products, nnz;
	const int64_t *customer_ids;	/* rows entries */
	const int64_t *product_ids;	/* products entries: column -> product id */
	const size_t *offsets;		/* rows + 1 entries */
	const uint32_t *cols;		/* nnz entries */
	const double *quantity, *spend;	/* nnz entries */
	const int64_t *last_at;		/* nnz entries, Unix seconds */
} patron_graph;

/*
 * ABI 1.9: each customer's purchase days, for models defined on repeat
 * purchase occasions (BG/NBD, Gamma-Gamma): row r (the feature matrix's
 * rows) has the entries offsets[r] .. offsets[r+1]-1, one per UTC day with
 * a paid order up to now, ascending, with the money spent that day (all of
 * that day's orders, in the base currency's units). Several orders on one
 * day are one purchase.
 */
typedef struct {
	size_t rows, n;
	const int64_t *customer_ids;	/* rows entries */
	const size_t *offsets;		/* rows + 1 entries */
	const int32_t *days;		/* n entries: days since 1970-01-01 */
	const double *amounts;		/* n entries */
} patron_purchases;

/*
 * ABI 1.2: one message for a channel, rendered by the core. The strings are
 * valid until deliver returns. An email channel sends `mime` (the whole
 * RFC 5322 message, CRLF line ends, Message-ID derived from the key); a
 * webhook channel posts `json`.
 */
typedef struct {
	int64_t id;			/* the outbox row */
	const char *key;		/* the idempotency key: the same on every attempt */
	const char *message_id;		/* "<...@domain>", the email's Message-ID */
	const char *channel;		/* the channel's name in patron.conf */
	int64_t customer_id;
	const char *to;			/* the address: an email, a phone, "customer:ID" */
	const char *from;		/* the channel's from address, or NULL */
	const char *subject;		/* may be NULL */
	const char *text;		/* the text body, never NULL */
	const char *html;		/* the HTML body, or NULL */
	const char *mime;		/* the whole email */
	size_t mime_len;
	const char *json;		/* the message as one JSON object */
	unsigned attempt;		/* 1 on the first try */
} patron_message;

/*
 * ABI 1.4: the table a supervised scorer (the churn job) learns from and
 * scores, prepared by the core from the feature matrix: label columns left
 * out, missing values imputed (with "NAME (missing)" indicator columns),
 * numeric columns standardized, one-hot columns 0/1. The preparation is
 * fitted on the training rows and stored with the model, so x never holds
 * a NaN and scoring sees the columns training saw, in the same order.
 */
typedef struct {
	size_t rows, cols;
	const double *x;		/* rows x cols, row-major */
	const char *const *names;	/* cols: "frequency", "attr.plan=pro", "x (missing)" */
	const int64_t *customer_ids;	/* rows */
	/* rows: 1 (churned), 0, or NaN (not to train on). NULL when scoring. */
	const double *y;
	/* cols: a value v of the column was given as (v - mean) / sd. */
	const double *mean, *sd;
} patron_design;

/*
 * ABI 1.7: one series for a forecaster: Y holds N values, oldest first, one
 * per period (a week's revenue, say), with SEASON periods to a season (52
 * weeks, 12 months; 0 when none is known). The plugin writes the next
 * HORIZON values into MEAN and the bounds of an interval that holds each
 * with probability LEVEL into LO and HI, and says in METHOD what it fitted
 * ("Holt-Winters, additive season of 52", with its parameters).
 */
typedef struct {
	const double *y;
	size_t n, season, horizon;
	double level;
	double *mean, *lo, *hi;		/* horizon entries each */
	char method[256];
} patron_forecast;

/*
 * ABI 1.8: texts an analyzer learns from: what customers wrote (feedback),
 * with the rating each gave (1 to 5, NaN for none).
 */
typedef struct {
	size_t n;
	const char *const *texts;	/* UTF-8 */
	const double *ratings;
	/* ABI 1.10: for a text classifier (the intent job), each text's
	 * label ("order_status"); NULL otherwise. */
	const char *const *labels;
} patron_texts;

/* What deliver answers. A failure also gives its reason with host->fail. */
enum {
	PATRON_DELIVERED = 0,	/* the server took it */
	PATRON_RETRY = 1,	/* a temporary failure of this message: try it later */
	PATRON_DOWN = 2,	/* the server cannot be reached: try later, stop for now */
	PATRON_REJECTED = 3,	/* a permanent failure: never retried */
	PATRON_BOUNCED = 4,	/* the recipient was refused for good */
};

/* The index of the feature column NAME, or f->cols when there is none. */
static inline size_t patron_feature_column(const patron_features *f, const char *name)
{
	size_t c = 0;
	while (c < f->cols && strcmp(f->names[c], name) != 0)
		c++;
	return c;
}

enum { PATRON_LOG_DEBUG, PATRON_LOG_INFO, PATRON_LOG_WARN, PATRON_LOG_ERROR };

/*
 * The host table. Functions returning int return 0 on success and -1 on
 * failure; after a failure the core's message is already recorded for the
 * command, and the plugin should return -1 from its callback.
 */
typedef struct patron_host {
	uint32_t size;		/* sizeof(struct patron_host) in the running core */
	uint32_t abi_major, abi_minor;

	void (*log)(patron_ctx *ctx, int level, const char *fmt, ...)
		__attribute__((format(printf, 3, 4)));
	/* Records why the plugin failed; shown as "plugin NAME: MESSAGE". */
	void (*fail)(patron_ctx *ctx, const char *fmt, ...)
		__attribute__((format(printf, 2, 3)));

	/* The plugin's options from patron.conf (the table of its job).
	 * option_string: NULL when unset. option_number: 1 and *out when set to
	 * a number (or a boolean: 1 for true, 0 for false), 0 when unset, -1
	 * when set to something else. */
	const char *(*option_string)(patron_ctx *ctx, const char *key);
	int (*option_number)(patron_ctx *ctx, const char *key, double *out);

	/* "Now" of the command (--now, else the clock), Unix seconds. */
	int64_t (*now)(patron_ctx *ctx);

	/* The snapshot views, built once per command on first request and
	 * valid until the plugin's callback returns. NULL on failure. */
	const patron_features *(*features)(patron_ctx *ctx);
	const patron_graph *(*graph)(patron_ctx *ctx);

	/* Results, tagged with the plugin's name and version and the time.
	 * The arrays are copied; what a callback writes is stored together,
	 * in one transaction, when it returns 0, and not at all when it fails.
	 * Arrays hold n entries. */
	int (*write_segments)(patron_ctx *ctx, size_t n, const int64_t *customer_ids,
			      const char *const *labels);
	int (*write_scores)(patron_ctx *ctx, const char *score, size_t n,
			    const int64_t *customer_ids, const double *values);
	/* k products per customer, best first: product_ids[i * k + j]; an id
	 * of 0 ends a customer's list early. */
	int (*write_recommendations)(patron_ctx *ctx, size_t n, const int64_t *customer_ids,
				     size_t k, const int64_t *product_ids, const double *scores);

	/* Appends an event (topic, customer or 0, JSON object text or NULL). */
	int (*emit)(patron_ctx *ctx, const char *topic, int64_t customer_id, const char *json);
	/* Progress of long work, 0..1; drawn only when stderr is a terminal. */
	void (*progress)(patron_ctx *ctx, double done, const char *what);

	/* ABI 1.1: trained models, stored in the store under the plugin's name
	 * with a version that counts up. save_model keeps PARAMS (a JSON object
	 * text) as the newest version; load_model gives the newest, or NULL when
	 * the plugin has none, valid until the callback returns. */
	int (*save_model)(patron_ctx *ctx, const char *params);
	const char *(*load_model)(patron_ctx *ctx);

	/* ABI 1.2: the folder the store is in (for files kept beside it). */
	const char *(*store_dir)(patron_ctx *ctx);

	/* ABI 1.3: FIELD ("sku", "name" or "category") of a product of the
	 * graph, or NULL when it has none (or when the graph did not come from
	 * a store, as in `patron eval recs --matrix`). Valid until the next call. */
	const char *(*product_field)(patron_ctx *ctx, int64_t product_id, const char *field);
	/* ABI 1.3: write_recommendations, with why: for recommendation j of
	 * customer i, up to M products the customer bought that led to it, most
	 * first, at because[(i * k + j) * m + t] (0 ends the list early). */
	int (*write_recommendations_because)(patron_ctx *ctx, size_t n,
					     const int64_t *customer_ids, size_t k,
					     const int64_t *product_ids, const double *scores,
					     size_t m, const int64_t *because);

	/* ABI 1.4, supervised scorers: the table to train on or to score (see
	 * patron_design), NULL outside such a job. */
	const patron_design *(*design)(patron_ctx *ctx);
	/* ABI 1.4: a text result per customer under SCORE (not "segment"),
	 * such as "churn_reasons" (a NULL label is stored as none). */
	int (*write_score_labels)(patron_ctx *ctx, const char *score, size_t n,
				  const int64_t *customer_ids, const char *const *labels);
	/* ABI 1.5: like fail, for a job that cannot run on this store yet
	 * (too few buyers, no history): the command says why, with what would
	 * make it run, skips the job and goes on with the others. */
	void (*not_ready)(patron_ctx *ctx, const char *fmt, ...)
		__attribute__((format(printf, 2, 3)));
	/* ABI 1.6: the secret NAME among the plugin's options (a password, a
	 * signing key): from the environment variable that option NAME_env
	 * names, else from the first line of the file NAME_file names, which
	 * only its owner may read, else from the environment variable
	 * ENV_DEFAULT (NULL: none). A secret written as NAME itself in
	 * patron.conf, which others may read, is refused. 0 with *OUT
	 * malloc'd (the plugin frees it) or NULL when none is given; -1 with
	 * the failure recorded. Never logged. */
	int (*secret)(patron_ctx *ctx, const char *name, const char *env_default, char **out);
	/* ABI 1.8, analyzers being trained: the texts to learn from, NULL
	 * elsewhere. */
	const patron_texts *(*texts)(patron_ctx *ctx);
	/* ABI 1.9: the snapshot's purchase days (see patron_purchases), built
	 * on first request like the other views; NULL on failure. */
	const patron_purchases *(*purchases)(patron_ctx *ctx);
	/* ABI 1.11: a feature matrix with at least recency_days, frequency and
	 * monetary_total (the same rows and values as features), for a plugin
	 * that needs no more: the core may make it from the store's
	 * per-customer totals without a pass over the orders. Find columns by
	 * name. NULL on failure. */
	const patron_features *(*summary)(patron_ctx *ctx);
} patron_host;

/* 1 when the running core's host table has MEMBER. */
#define PATRON_HOST_HAS(host, member) \
	((host)->size >= offsetof(struct patron_host, member) + sizeof((host)->member))

/* The descriptor a plugin returns. Callbacks a kind does not use are NULL. */
typedef struct patron_plugin {
	uint32_t abi_major, abi_minor;	/* PATRON_ABI_MAJOR, PATRON_ABI_MINOR */
	uint32_t size;			/* sizeof(struct patron_plugin) */
	const char *name;		/* "JOB.NAME", e.g. "segment.tiers" */
	uint32_t kind;			/* a patron_kind */
	const char *version;		/* "1.0" */
	const char *description;	/* one line */

	/* Reads options and allocates state; -1 (with host->fail) refuses. */
	int (*init)(const patron_host *host, patron_ctx *ctx, void **state);
	/* Segmenters, scorers, recommenders, analyzers: read the snapshot,
	 * write results through the host. */
	int (*run)(void *state, patron_ctx *ctx);
	void (*free)(void *state);

	/* ABI 1.1, optional: fits the model on the snapshot and saves it with
	 * host->save_model (`patron train JOB`). */
	int (*train)(void *state, patron_ctx *ctx);

	/* ABI 1.2, channels: sends one message and answers PATRON_DELIVERED or
	 * a failure. State lives from init to free, so a connection opened for
	 * the first message serves the next. */
	int (*deliver)(void *state, patron_ctx *ctx, const patron_message *m);

	/* ABI 1.5, optional: the names of the options the plugin reads from
	 * its job's table in patron.conf, NULL-terminated. When given, a key
	 * the plugin does not know is refused before it runs, naming the key
	 * and these, so a misspelt option is an error and never a silent
	 * default. */
	const char *const *options;

	/* ABI 1.6, optional, channels that keep a copy of what they sent (a
	 * file, a log): removes the copy of message M (only id, key, channel,
	 * customer_id and to are set), for `patron erase`. Answers how many
	 * copies it removed (0 when it had none), or -1 with host->fail. */
	int (*forget)(void *state, patron_ctx *ctx, const patron_message *m);

	/* ABI 1.7, forecasters (instead of run): fits F->y and fills F's
	 * forecast. 0, or -1 with host->fail (host->not_ready when the series
	 * is too short to fit). */
	int (*forecast)(void *state, patron_ctx *ctx, patron_forecast *f);

	/* ABI 1.8, analyzers (instead of run): scores N texts into OUT, each
	 * from -1 (the most negative) to 1 (the most positive). Called as often
	 * as there are texts, between init and free. 0, or -1 with host->fail. */
	int (*analyze)(void *state, patron_ctx *ctx, size_t n, const char *const *texts,
		       double *out);

	/* ABI 1.10, text classifiers (the intent job; instead of analyze):
	 * the label of each of N texts into LABELS (strings the plugin keeps
	 * until free) and the model's probability of it into CONFIDENCE. 0,
	 * or -1 with host->fail (host->not_ready when nothing is trained). */
	int (*classify)(void *state, patron_ctx *ctx, size_t n, const char *const *texts,
			const char **labels, double *confidence);
} patron_plugin;

/* Recommenders read the length of each customer's list from the option "n"
 * (PATRON_RECS_DEFAULT when unset); `patron eval recs --k K` sets it to K. */
#define PATRON_RECS_DEFAULT 10

/* The one symbol a plugin exports. */
const patron_plugin *patron_plugin_entry(void);

/* Fills the ABI fields of a descriptor: PATRON_PLUGIN_ABI, .name = ... */
#define PATRON_PLUGIN_ABI \
	.abi_major = PATRON_ABI_MAJOR, .abi_minor = PATRON_ABI_MINOR, \
	.size = sizeof(struct patron_plugin)

#ifdef __cplusplus
}
#endif

#endif
