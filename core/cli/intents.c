/* What customers' messages are about: patron train intents FILE.csv,
 * patron eval intents --test FILE.csv, and the labelling of tickets by the
 * intent plugin patron.conf chooses (intent = "bayes" unless set). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../config.h"
#include "../csv.h"
#include "../import.h"
#include "cli.h"

typedef struct {
	char **texts, **labels;
	size_t n, cap;
} labelled;

static void labelled_free(labelled *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->texts[i]);
		free(l->labels[i]);
	}
	free(l->texts);
	free(l->labels);
	memset(l, 0, sizeof *l);
}

/* PATH's rows: columns text (or message, body) and intent (or label). */
static int read_labelled(const char *path, labelled *out, patron_err *err)
{
	memset(out, 0, sizeof *out);
	patron_csv_record rec;
	patron_csv *r = patron_csv_open_header(path, &rec, "columns text and intent", err);
	if (!r)
		return -1;
	long text = -1, label = -1;
	for (size_t i = 0; i < rec.n; i++) {
		char h[64];
		patron_normalize_header(rec.field[i], h, sizeof h);
		if (text < 0 && (!strcmp(h, "text") || !strcmp(h, "message") || !strcmp(h, "body")))
			text = (long)i;
		else if (label < 0 && (!strcmp(h, "intent") || !strcmp(h, "label")))
			label = (long)i;
	}
	if (text < 0 || label < 0) {
		patron_csv_close(r);
		return patron_err_set(err, "%s:1: expected the columns text and intent, got none "
				      "named %s", path, text < 0 ? "text" : "intent");
	}
	int got;
	while ((got = patron_csv_next(r, &rec, err)) == 1) {
		const char *t = (size_t)text < rec.n ? rec.field[text] : "";
		const char *l = (size_t)label < rec.n ? rec.field[label] : "";
		if (!*t && !*l)
			continue;	/* an empty line */
		if (!*t || !*l) {
			patron_err_set(err, "%s:%ld: column \"%s\": expected %s", path, rec.line,
				       !*t ? "text" : "intent", !*t ? "the message's text"
								    : "its intent, such as order_status");
			got = -1;
			break;
		}
		if (out->n == out->cap) {
			out->cap = out->cap ? 2 * out->cap : 256;
			out->texts = patron_xrealloc(out->texts, out->cap * sizeof *out->texts);
			out->labels = patron_xrealloc(out->labels, out->cap * sizeof *out->labels);
		}
		out->texts[out->n] = patron_xstrdup(t);
		out->labels[out->n++] = patron_xstrdup(l);
	}
	patron_csv_close(r);
	if (got < 0) {
		labelled_free(out);
		return -1;
	}
	if (!out->n)
		return patron_err_set(err, "%s: no rows (expected text,intent rows)", path);
	return 0;
}

int cli_intent_one(void *ctx, const char *text, const char **label, double *confidence,
		   patron_err *err)
{
	return patron_analyzer_classify(ctx, 1, &text, label, confidence, err);
}

/* Labels the open tickets that have no intent yet with A, by the first
 * message of each. The count, or -1 with the line printed. */
static long label_open_tickets(cli *c, patron_analyzer *a)
{
	sqlite3 *db = patron_store_db(c->store);
	sqlite3_stmt *st, *up;
	/* as the import labels a message: its subject and text */
	if (sqlite3_prepare_v2(db, "SELECT t.id, t.subject || char(10) || coalesce((SELECT body FROM"
			       " ticket_messages WHERE ticket_id = t.id AND direction = 'in' ORDER BY"
			       " sent_at, id LIMIT 1), '') FROM tickets t WHERE t.status <> 'solved'"
			       " AND t.intent IS NULL", -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "UPDATE tickets SET intent = ?2, confidence = ?3 WHERE id = ?1",
			       -1, &up, NULL) != SQLITE_OK)
		return cli_fail(EXIT_FAIL, "labelling the tickets: %s", sqlite3_errmsg(db)), -1;
	patron_err err;
	long n = 0;
	int rc = patron_store_begin(c->store, &err);
	while (rc == 0 && sqlite3_step(st) == SQLITE_ROW) {
		const char *text = (const char *)sqlite3_column_text(st, 1), *label;
		double p;
		if (patron_analyzer_classify(a, 1, &text, &label, &p, &err) != 0) {
			rc = -1;
			break;
		}
		sqlite3_bind_int64(up, 1, sqlite3_column_int64(st, 0));
		sqlite3_bind_text(up, 2, label, -1, SQLITE_TRANSIENT);
		sqlite3_bind_double(up, 3, p);
		rc = sqlite3_step(up) == SQLITE_DONE ? 0 : patron_store_fail(c->store, &err, "labelling");
		sqlite3_reset(up);
		n++;
	}
	sqlite3_finalize(st);
	sqlite3_finalize(up);
	if (rc < 0) {
		patron_store_rollback(c->store);
		return cli_fail(EXIT_FAIL, "%s", err.msg), -1;
	}
	if (patron_store_commit(c->store, &err) < 0)
		return cli_fail(EXIT_FAIL, "%s", err.msg), -1;
	return n;
}

int cli_train_intents(cli *c, const char *choice, const char *path)
{
	patron_config *cfg = cli_config(c);
	if (!cfg)
		return EXIT_FAIL;
	patron_store *s = cli_store(c);
	patron_plugins ps = {0};
	labelled l;
	patron_err err;
	int rc = EXIT_FAIL;
	if (read_labelled(path, &l, &err) < 0) {
		patron_config_free(cfg);
		return cli_fail(EXIT_FAIL, "%s", err.msg);
	}
	const patron_plugin_file *pf = s ? cli_job_plugin(c, cfg, "intent", choice, &ps) : NULL;
	if (!pf)
		goto out;
	double *ratings = patron_xmalloc(l.n * sizeof *ratings);
	for (size_t i = 0; i < l.n; i++)
		ratings[i] = NAN;
	patron_texts texts = {.n = l.n, .texts = (const char *const *)l.texts, .ratings = ratings,
			      .labels = (const char *const *)l.labels};
	patron_run_env env = {.store = s, .config = cfg, .job = "intent", .now = c->now,
			      .texts = &texts};
	int64_t version = 0;
	double t0 = patron_clock();
	int trained = patron_plugin_train(pf, &env, &version, &err);
	free(ratings);
	if (trained < 0) {
		cli_fail(EXIT_FAIL, "%s", err.msg);
		goto out;
	}
	double secs = patron_clock() - t0;
	/* The open tickets without an intent get one now. */
	patron_analyzer *a = NULL;
	long labelled_now = 0;
	if (cli_analyzer_open(c, cfg, "intent", pf->desc->name + strlen("intent."), &ps, &a) < 0 ||
	    (a && (labelled_now = label_open_tickets(c, a)) < 0)) {
		patron_analyzer_close(a);
		goto out;
	}
	patron_analyzer_close(a);
	if (c->json)
		cli_print_json(json_pack("{s:s, s:s, s:I, s:I, s:f, s:I}", "job", "intent", "plugin",
					 pf->desc->name, "version", (json_int_t)version, "texts",
					 (json_int_t)l.n, "seconds", secs, "tickets_labelled",
					 (json_int_t)labelled_now));
	else
		printf("intent: %s learnt from %zu texts in %.2f s; stored as model version %lld; "
		       "%ld open tickets labelled\n", pf->desc->name, l.n, secs, (long long)version,
		       labelled_now);
	rc = EXIT_OK;
out:
	labelled_free(&l);
	patron_plugins_free(&ps);
	patron_config_free(cfg);
	return rc;
}

static int by_string(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int cli_eval_intents(cli *c, const char *choice, const char *path)
{
	patron_config *cfg = cli_config(c);
	if (!cfg)
		return EXIT_FAIL;
	labelled l;
	patron_err err;
	if (!cli_store(c)) {
		patron_config_free(cfg);
		return EXIT_FAIL;
	}
	if (read_labelled(path, &l, &err) < 0) {
		patron_config_free(cfg);
		return cli_fail(EXIT_FAIL, "%s", err.msg);
	}
	patron_plugins ps = {0};
	patron_analyzer *a = NULL;
	int rc = EXIT_FAIL;
	const char **got = patron_xcalloc(l.n, sizeof *got);
	double *conf = patron_xcalloc(l.n, sizeof *conf);
	char **names = patron_xcalloc(2 * l.n, sizeof *names);
	size_t *m = NULL;
	if (cli_analyzer_open(c, cfg, "intent", choice, &ps, &a) < 0)
		goto out;
	if (!a) {
		cli_fail(EXIT_FAIL, "intent = false in patron.conf: no classifier to evaluate");
		goto out;
	}
	double t0 = patron_clock();
	int k = patron_analyzer_classify(a, l.n, (const char *const *)l.texts, got, conf, &err);
	double secs = patron_clock() - t0;
	if (k != 0) {
		cli_fail(EXIT_FAIL, "%s", err.msg);
		goto out;
	}
	/* the labels of the truth and of the answers, as scikit-learn's
	 * macro average takes them */
	size_t nl = 0;
	for (size_t i = 0; i < l.n; i++) {
		names[nl++] = l.labels[i];
		names[nl++] = (char *)got[i];
	}
	qsort(names, nl, sizeof *names, by_string);
	size_t u = 0;
	for (size_t i = 0; i < nl; i++)
		if (!u || strcmp(names[i], names[u - 1]) != 0)
			names[u++] = names[i];
	m = patron_xcalloc(u * u, sizeof *m);	/* m[truth * u + answer] */
	size_t right = 0;
	for (size_t i = 0; i < l.n; i++) {
		char **t = bsearch(&l.labels[i], names, u, sizeof *names, by_string);
		char **g = bsearch(&got[i], names, u, sizeof *names, by_string);
		m[(size_t)(t - names) * u + (size_t)(g - names)]++;
		right += strcmp(l.labels[i], got[i]) == 0;
	}
	double f1_sum = 0;
	json_t *per = json_object();
	for (size_t i = 0; i < u; i++) {
		size_t tp = m[i * u + i], truth = 0, answered = 0;
		for (size_t j = 0; j < u; j++) {
			truth += m[i * u + j];
			answered += m[j * u + i];
		}
		double p = answered ? (double)tp / (double)answered : 0;
		double r = truth ? (double)tp / (double)truth : 0;
		double f1 = p + r > 0 ? 2 * p * r / (p + r) : 0;
		f1_sum += f1;
		json_object_set_new(per, names[i], json_pack("{s:f, s:f, s:f, s:I}", "precision", p,
							     "recall", r, "f1", f1, "support",
							     (json_int_t)truth));
	}
	double accuracy = (double)right / (double)l.n, macro = f1_sum / (double)u;
	const char *model = patron_analyzer_model(a);
	if (c->json) {
		json_t *matrix = json_array(), *labels = json_array();
		for (size_t i = 0; i < u; i++) {
			json_array_append_new(labels, json_string(names[i]));
			json_t *row = json_array();
			for (size_t j = 0; j < u; j++)
				json_array_append_new(row, json_integer((json_int_t)m[i * u + j]));
			json_array_append_new(matrix, row);
		}
		cli_print_json(json_pack("{s:s, s:I, s:f, s:f, s:f, s:o, s:o, s:o}", "model", model,
					 "texts", (json_int_t)l.n, "accuracy", accuracy, "macro_f1",
					 macro, "seconds", secs, "labels", labels, "confusion", matrix,
					 "per_label", per));
	} else {
		printf("intent: %s on %zu texts of %s: accuracy %.3f, macro-F1 %.3f (%.0f texts/s)\n",
		       model, l.n, path, accuracy, macro, secs > 0 ? (double)l.n / secs : 0);
		printf("\n%-22s %9s %9s %9s %8s\n", "label", "precision", "recall", "F1", "texts");
		for (size_t i = 0; i < u; i++) {
			json_t *o = json_object_get(per, names[i]);
			printf("%-22s %9.3f %9.3f %9.3f %8lld\n", names[i],
			       json_real_value(json_object_get(o, "precision")),
			       json_real_value(json_object_get(o, "recall")),
			       json_real_value(json_object_get(o, "f1")),
			       (long long)json_integer_value(json_object_get(o, "support")));
		}
		printf("\nconfusion (rows: the true label, columns: the answer, in the order above)\n");
		for (size_t i = 0; i < u; i++) {
			printf("%-22s", names[i]);
			for (size_t j = 0; j < u; j++)
				printf(" %4zu", m[i * u + j]);
			printf("\n");
		}
		json_decref(per);
	}
	rc = EXIT_OK;
out:
	free(m);
	free(names);
	free(got);
	free(conf);
	patron_analyzer_close(a);
	labelled_free(&l);
	patron_plugins_free(&ps);
	patron_config_free(cfg);
	return rc;
}
