/* patron eval recs: how well a recommender predicts a purchase it was not
 * shown. One product per customer is held out, the plugin is run on what
 * is left (its results kept in memory, nothing stored), and its lists are
 * scored against the held-out products. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../csv.h"
#include "../learn.h"
#include "../plugin.h"
#include "../results.h"
#include "../value.h"
#include "cli.h"
#include "learnopts.h"

/* One held-out product per evaluated row (column index), or -1. */
typedef struct {
	int32_t *held;
	size_t evaluated;
} holdout;

/* Store mode: the product of each customer's latest purchase (ties: the
 * higher column) is held out of the graph, for customers with two or more
 * products; the graph's arrays are compacted in place. */
static void hold_latest(patron_snapshot *sn, holdout *ho)
{
	patron_graph *g = &sn->graph;
	ho->held = patron_xmalloc((g->rows ? g->rows : 1) * sizeof *ho->held);
	ho->evaluated = 0;
	size_t out = 0;
	for (size_t u = 0; u < g->rows; u++) {
		size_t b = sn->offsets[u], e = sn->offsets[u + 1], drop = e;
		ho->held[u] = -1;
		if (e - b >= 2) {
			drop = b;
			for (size_t k = b + 1; k < e; k++)
				if (sn->last_at[k] >= sn->last_at[drop])
					drop = k;
			ho->held[u] = (int32_t)sn->cols[drop];
			ho->evaluated++;
		}
		sn->offsets[u] = out;
		for (size_t k = b; k < e; k++) {
			if (k == drop)
				continue;
			sn->cols[out] = sn->cols[k];
			sn->quantity[out] = sn->quantity[k];
			sn->spend[out] = sn->spend[k];
			sn->last_at[out] = sn->last_at[k];
			out++;
		}
	}
	sn->offsets[g->rows] = out;
	g->nnz = out;
}

static int is_label_header(const char *h)
{
	static const char *const names[] = {"", "id", "user", "user_id", "customer",
					    "customer_id", "respondent", "row", NULL};
	for (int i = 0; names[i]; i++)
		if (strcasecmp(h, names[i]) == 0)
			return 1;
	return 0;
}

/* Matrix mode: PATH is a user x item 0/1 CSV with a header of item names
 * (and a first column of user labels when its header says so). Builds the
 * graph of SN with every 1 as a purchase at NOW, the item with the highest
 * column index of each user with two or more held out. */
static int read_matrix(const char *path, int64_t now, patron_snapshot *sn, holdout *ho,
		       size_t *items_out)
{
	patron_err err;
	patron_csv_record rec;
	patron_csv *csv = patron_csv_open_header(path, &rec, "a header of item names", &err);
	if (!csv)
		return cli_fail(EXIT_FAIL, "%s", err.msg);
	int rc;
	size_t first = is_label_header(rec.field[0]) ? 1 : 0, items = rec.n - first;
	if (items < 2) {
		patron_csv_close(csv);
		return cli_fail(EXIT_FAIL, "%s:%ld: expected at least two item columns", path,
				rec.line);
	}
	char **names = patron_xmalloc(items * sizeof *names);
	for (size_t c = 0; c < items; c++)
		names[c] = patron_xstrdup(rec.field[first + c]);
	size_t rows = 0, cap_rows = 1024, nnz = 0, cap = 4096;
	size_t *offsets = patron_xmalloc((cap_rows + 1) * sizeof *offsets);
	uint32_t *cols = patron_xmalloc(cap * sizeof *cols);
	offsets[0] = 0;
	long header_line = rec.line;
	while ((rc = patron_csv_next(csv, &rec, &err)) == 1) {
		if (rec.n == 1 && !rec.len[0])
			continue;	/* a blank line */
		if (rec.n != items + first) {
			cli_fail(EXIT_FAIL, "%s:%ld: expected %zu fields as in the header (line %ld), "
				 "got %zu", path, rec.line, items + first, header_line, rec.n);
			rc = -2;
			break;
		}
		for (size_t c = 0; c < items; c++) {
			const char *v = rec.field[first + c];
			if (strcmp(v, "1") == 0) {
				if (nnz == cap)
					cols = patron_xrealloc(cols, (cap *= 2) * sizeof *cols);
				cols[nnz++] = (uint32_t)c;
			} else if (strcmp(v, "0") != 0) {
				cli_fail(EXIT_FAIL, "%s:%ld: column \"%s\": expected 0 or 1, got \"%s\"",
					 path, rec.line, names[c], v);
				rc = -2;
				break;
			}
		}
		if (rc == -2)
			break;
		if (rows + 1 == cap_rows)
			offsets = patron_xrealloc(offsets, ((cap_rows *= 2) + 1) * sizeof *offsets);
		offsets[++rows] = nnz;
	}
	patron_csv_close(csv);
	for (size_t c = 0; c < items; c++)
		free(names[c]);
	free(names);
	if (rc == -1)
		cli_fail(EXIT_FAIL, "%s", err.msg);
	if (rc < 0 || rows == 0) {
		if (rc == 0)
			cli_fail(EXIT_FAIL, "%s: no rows under the header", path);
		free(offsets), free(cols);
		return EXIT_FAIL;
	}
	memset(sn, 0, sizeof *sn);
	sn->now = now;
	sn->offsets = offsets;
	sn->cols = cols;
	sn->ids = patron_xmalloc(rows * sizeof *sn->ids);
	sn->product_ids = patron_xmalloc(items * sizeof *sn->product_ids);
	sn->quantity = patron_xmalloc((nnz ? nnz : 1) * sizeof *sn->quantity);
	sn->spend = patron_xmalloc((nnz ? nnz : 1) * sizeof *sn->spend);
	sn->last_at = patron_xmalloc((nnz ? nnz : 1) * sizeof *sn->last_at);
	for (size_t u = 0; u < rows; u++)
		sn->ids[u] = (int64_t)u + 1;
	for (size_t c = 0; c < items; c++)
		sn->product_ids[c] = (int64_t)c + 1;
	for (size_t e = 0; e < nnz; e++) {
		sn->quantity[e] = 1;
		sn->spend[e] = 1;
		sn->last_at[e] = now;
	}
	sn->graph = (patron_graph){rows, items, nnz, sn->ids, sn->product_ids, sn->offsets,
				   sn->cols, sn->quantity, sn->spend, sn->last_at};
	sn->built_graph = 1;
	/* The highest column of a row is its last entry (columns ascend); to
	 * hold it out is to move the row's end one back. */
	ho->held = patron_xmalloc(rows * sizeof *ho->held);
	ho->evaluated = 0;
	size_t out = 0;
	for (size_t u = 0; u < rows; u++) {
		size_t b = offsets[u], e = offsets[u + 1];
		ho->held[u] = -1;
		if (e - b >= 2) {
			ho->held[u] = (int32_t)cols[e - 1];
			ho->evaluated++;
			e--;
		}
		offsets[u] = out;
		memmove(cols + out, cols + b, (e - b) * sizeof *cols);
		out += e - b;
	}
	offsets[rows] = out;
	sn->graph.nnz = out;
	*items_out = items;
	return EXIT_OK;
}

static int by_id(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

typedef struct {
	double hit, ndcg, coverage;
	size_t evaluated, recommended;
} rec_metrics;

/* Scores the captured lists against the held-out products. */
static void score_lists(const patron_results *res, const patron_graph *g, const holdout *ho,
			size_t k, rec_metrics *m)
{
	memset(m, 0, sizeof *m);
	unsigned char *shown = calloc(g->products ? g->products : 1, 1);
	size_t n, kk;
	const int64_t *ids, *products;
	for (size_t bi = 0; patron_results_recommendations(res, bi, &n, &ids, &kk, &products) == 0;
	     bi++) {
		for (size_t i = 0; i < n; i++) {
			const int64_t *row_id = bsearch(&ids[i], g->customer_ids, g->rows,
							sizeof *ids, by_id);
			if (!row_id)
				continue;
			size_t u = (size_t)(row_id - g->customer_ids);
			if (ho->held[u] < 0)
				continue;
			int64_t want = g->product_ids[ho->held[u]];
			for (size_t j = 0; j < kk && j < k && products[i * kk + j]; j++) {
				int64_t p = products[i * kk + j];
				/* product ids are columns + 1 in matrix mode, else looked up */
				const int64_t *col = bsearch(&p, g->product_ids, g->products,
							     sizeof p, by_id);
				if (col && shown)
					shown[col - g->product_ids] = 1;
				if (p == want) {
					m->hit += 1;
					m->ndcg += 1 / log2((double)j + 2);
				}
			}
		}
	}
	m->evaluated = ho->evaluated;
	for (size_t c = 0; shown && c < g->products; c++)
		m->recommended += shown[c];
	free(shown);
	if (m->evaluated) {
		m->hit /= (double)m->evaluated;
		m->ndcg /= (double)m->evaluated;
	}
	m->coverage = g->products ? (double)m->recommended / (double)g->products : 0;
}

static int eval_recs(cli *c, const char *plugin, size_t k, const char *matrix)
{
	patron_config *cfg = cli_config(c);
	if (!cfg)
		return EXIT_FAIL;
	patron_plugins ps = {0};
	patron_snapshot sn;
	holdout ho = {0};
	patron_results *res = patron_results_new();
	patron_results_keep_products(res);	/* the lists are scored, not stored */
	int rc = EXIT_FAIL;
	patron_store *s = NULL;
	memset(&sn, 0, sizeof sn);
	const patron_plugin_file *pf = cli_job_plugin(c, cfg, "recommend", plugin, &ps);
	if (!pf)
		goto out;
	const char *name = pf->desc->name;
	if (pf->desc->kind != PATRON_KIND_RECOMMENDER) {
		cli_fail(EXIT_FAIL, "plugin %s is a %s, not a recommender", name,
			 patron_kind_name(pf->desc->kind));
		goto out;
	}
	size_t items = 0;
	if (matrix) {
		if (read_matrix(matrix, c->now, &sn, &ho, &items) != EXIT_OK)
			goto out;
	} else {
		if (!(s = cli_store(c)))
			goto out;
		patron_snapshot_init(&sn, s, c->now);
		patron_err err;
		const patron_graph *g = patron_snapshot_graph(&sn, &err);
		if (!g) {
			cli_fail(EXIT_FAIL, "%s", err.msg);
			goto out;
		}
		if (g->rows == 0 || g->nnz == 0) {
			cli_fail(EXIT_FAIL, "%s: no purchases as of --now: nothing to evaluate",
				 patron_store_path(s));
			goto out;
		}
		hold_latest(&sn, &ho);
		items = g->products;
	}
	if (ho.evaluated == 0) {
		cli_fail(EXIT_FAIL, "no customer has two or more products: nothing to hold out");
		goto out;
	}
	if (k > items)
		fprintf(stderr, "patron: warning: k = %zu is more than the %zu products: every "
			"list holds all a customer may be offered\n", k, items);
	patron_run_env env = {.store = s, .snapshot = &sn, .config = cfg, .job = "recommend",
			      .now = c->now, .capture = res, .list_length = k};
	patron_run_stats stats;
	patron_err err;
	double t0 = patron_clock();
	if (patron_plugin_run(pf, &env, &stats, &err) < 0) {
		cli_fail(EXIT_FAIL, "%s", err.msg);
		goto out;
	}
	double secs = patron_clock() - t0;
	rec_metrics m;
	score_lists(res, &sn.graph, &ho, k, &m);
	const char *protocol = matrix ? "leave-one-out, highest-index item held out"
				      : "leave-last-out, the latest purchase held out";
	if (c->json) {
		cli_print_json(json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:f, s:f, s:f, s:I, s:f}",
			"plugin", name, "data", matrix ? matrix : patron_store_path(s), "protocol",
			protocol, "customers", (json_int_t)sn.graph.rows, "evaluated",
			(json_int_t)m.evaluated, "k", (json_int_t)k, "hit_rate", m.hit, "ndcg", m.ndcg,
			"coverage", m.coverage, "products_recommended", (json_int_t)m.recommended,
			"seconds", secs));
	} else {
		printf("%s on %s (%s): %zu of %zu customers evaluated\n", name,
		       matrix ? matrix : patron_store_path(s), protocol, m.evaluated, sn.graph.rows);
		printf("  hit rate@%zu  %.4f\n  NDCG@%zu      %.4f\n  coverage     %.4f (%zu of %zu "
		       "products recommended)\n  time         %.2f s (fit and recommend)\n", k,
		       m.hit, k, m.ndcg, m.coverage, m.recommended, sn.graph.products, secs);
	}
	rc = EXIT_OK;
out:
	free(ho.held);
	patron_results_free(res);
	patron_snapshot_free(&sn);
	patron_plugins_free(&ps);
	patron_config_free(cfg);
	return rc;
}

static void print_at(const char *what, const metrics_at *a)
{
	printf("  %-14s accuracy %.4f  precision %.4f  recall %.4f  F1 %.4f  (tp %zu, fp %zu, "
	       "tn %zu, fn %zu)\n", what, a->accuracy, a->precision, a->recall, a->f1, a->tp, a->fp,
	       a->tn, a->fn);
}

static void print_metrics(const metrics *m)
{
	printf("  ROC AUC        %.4f\n  PR AUC         %.4f\n  log loss       %.4f\n", m->roc_auc,
	       m->pr_auc, m->log_loss);
	char best[40];
	snprintf(best, sizeof best, "at %.4f", m->at_best.threshold);
	print_at("at 0.5", &m->at_half);
	print_at(best, &m->at_best);
	printf("  (the second threshold is the one of the best F1 on these customers)\n");
}

static int eval_churn(cli *c, const char *plugin, learn_cli *lo, const char *test,
		      const char *split, int drift)
{
	patron_config *cfg = cli_config(c);
	if (!cfg)
		return EXIT_FAIL;
	learn_opts o = {0};
	int rc = EXIT_OK;
	if (!drift)
		rc = cli_learn_finish(c, cfg, "churn", lo, &o, &cmd_eval);
	double share = 0.2;
	if (rc == EXIT_OK && split) {
		char *end;
		share = strtod(split, &end);
		if (*end || !(share > 0 && share < 1))
			rc = cli_usage(&cmd_eval, "--test-split: expected a share between 0 and 1, got "
				       "\"%s\"", split);
	}
	if (rc == EXIT_OK && test && split)
		rc = cli_usage(&cmd_eval, "--test FILE or --test-split SHARE, not both");
	if (rc != EXIT_OK) {
		free(o.lab.label);
		patron_config_free(cfg);
		return rc;
	}
	if (!lo->seed)
		o.seed = 1;
	patron_plugins ps = {0};
	patron_snapshot sn;
	learn_model model = {0};
	patron_store *s = cli_store(c);
	memset(&sn, 0, sizeof sn);
	rc = EXIT_FAIL;
	const patron_plugin_file *pf = NULL;
	patron_err err;
	metrics m;
	if (!s || !(pf = cli_job_plugin(c, cfg, "churn", plugin, &ps)))
		goto out;
	const char *name = pf->desc->name;
	patron_run_env env = {.store = s, .snapshot = &sn, .config = cfg, .job = "churn",
			      .now = c->now};
	if (drift) {
		int lrc = learn_model_load(s, name, 0, &model, &err);
		if (lrc != 0) {
			cli_fail(EXIT_FAIL, "%s", lrc == 1 ? "no trained model to check for drift: "
				 "patron train churn" : err.msg);
			goto out;
		}
		int64_t at = model.schema.lab.label ? c->now : c->now - model.schema.lab.horizon;
		patron_snapshot_init(&sn, s, at);
		if (learn_drift(pf, &env, c->now, &model, &m, &err) < 0) {
			cli_fail(EXIT_FAIL, "%s", err.msg);
			goto out;
		}
		json_t *trained = json_object_get(json_object_get(model.stored, "metrics"), "roc_auc");
		char day[24], asof[24];
		patron_format_day(at, day);
		patron_format_day(model.as_of, asof);
		if (c->json) {
			json_t *j = json_pack("{s:s, s:I, s:s, s:o, s:s, s:f}", "plugin", name,
					      "version", (json_int_t)model.version, "data_as_of", asof,
					      "trained_auc", json_is_number(trained)
					      ? json_real(json_number_value(trained)) : json_null(),
					      "window", day, "auc", m.roc_auc);
			json_object_set_new(j, "metrics", metrics_json(&m));
			cli_print_json(j);
		} else {
			printf("drift: %s v%lld (data as of %s, held-out ROC AUC ", name,
			       (long long)model.version, asof);
			if (json_is_number(trained))
				printf("%.4f", json_number_value(trained));
			else
				printf("-");
			printf(") has ROC AUC %.4f on the %zu customers of its held-out share "
			       "labelled in the newest window (features as of %s; it trained on none "
			       "of them)\n", m.roc_auc, m.n, day);
		}
		rc = EXIT_OK;
		goto out;
	}
	patron_snapshot_init(&sn, s, o.lab.label ? c->now : o.lab.cutoff);
	double t0 = patron_clock();
	size_t seen = 0;
	if (learn_eval(pf, &env, c->now, &o, test, share, &m, &seen, &err) < 0) {
		cli_fail(EXIT_FAIL, "%s", err.msg);
		goto out;
	}
	double secs = patron_clock() - t0;
	if (c->json) {
		json_t *j = metrics_json(&m);
		json_object_set_new(j, "plugin", json_string(name));
		json_object_set_new(j, "test", test ? json_string(test)
						   : json_pack("{s:f, s:I}", "split", share, "seed",
							       (json_int_t)o.seed));
		if (test)
			json_object_set_new(j, "left_out_trained", json_integer((json_int_t)seen));
		json_object_set_new(j, "seconds", json_real(secs));
		cli_print_json(j);
	} else {
		if (test && seen)
			printf("%s: %zu rows are customers the model was trained on; left out\n",
			       test, seen);
		if (test)
			printf("%s, trained on the store's labelled customers, tested on %s (%zu "
			       "customers, %zu churned):\n", name, test, m.n, m.positives);
		else
			printf("%s, tested on %zu labelled customers held out (share %g, seed %llu; "
			       "%zu churned), trained on the rest:\n", name, m.n, share,
			       (unsigned long long)o.seed, m.positives);
		print_metrics(&m);
		printf("  time           %.2f s (fit and score)\n", secs);
	}
	rc = EXIT_OK;
out:
	learn_model_free(&model);
	free(o.lab.label);
	patron_snapshot_free(&sn);
	patron_plugins_free(&ps);
	patron_config_free(cfg);
	return rc;
}

static int run_churn(cli *c, int argc, char **argv)
{
	const char *plugin = NULL, *test = NULL, *split = NULL;
	learn_cli lo = {0};
	int drift = 0;
	for (int i = 2; i < argc; i++) {
		const char *v, *missing;
		int r;
		if ((r = cli_opt_value(argc, argv, &i, "--plugin", &v)) != 0) {
			if (r < 0)
				return cli_usage(&cmd_eval, "--plugin needs a name");
			plugin = v;
		} else if ((r = cli_opt_value(argc, argv, &i, "--test", &v)) != 0) {
			if (r < 0)
				return cli_usage(&cmd_eval, "--test needs a file");
			test = v;
		} else if ((r = cli_opt_value(argc, argv, &i, "--test-split", &v)) != 0) {
			if (r < 0)
				return cli_usage(&cmd_eval, "--test-split needs a share");
			split = v;
		} else if (strcmp(argv[i], "--drift") == 0) {
			drift = 1;
		} else if ((r = cli_learn_option(argc, argv, &i, &lo, &missing)) != 0) {
			if (r < 0)
				return cli_usage(&cmd_eval, "%s needs a value", missing);
		} else {
			return cli_usage(&cmd_eval, "unexpected argument \"%s\"", argv[i]);
		}
	}
	return eval_churn(c, plugin, &lo, test, split, drift);
}

static int run(cli *c, int argc, char **argv)
{
	if (argc < 2)
		return cli_usage(&cmd_eval, "what to evaluate? recs, churn or intents");
	if (strcmp(argv[1], "churn") == 0)
		return run_churn(c, argc, argv);
	if (strcmp(argv[1], "intents") == 0 || strcmp(argv[1], "intent") == 0) {
		const char *plugin = NULL, *test = NULL;
		for (int i = 2; i < argc; i++) {
			const char *v;
			int r;
			if ((r = cli_opt_value(argc, argv, &i, "--plugin", &v)) != 0) {
				if (r < 0)
					return cli_usage(&cmd_eval, "--plugin needs a name");
				plugin = v;
			} else if ((r = cli_opt_value(argc, argv, &i, "--test", &v)) != 0) {
				if (r < 0)
					return cli_usage(&cmd_eval, "--test needs a CSV file (text, "
							 "intent)");
				test = v;
			} else {
				return cli_usage(&cmd_eval, "unexpected argument \"%s\"", argv[i]);
			}
		}
		if (!test)
			return cli_usage(&cmd_eval, "intents: --test FILE.csv names the labelled "
					 "messages to measure on (columns text, intent)");
		return cli_eval_intents(c, plugin, test);
	}
	if (strcmp(argv[1], "recs") != 0)
		return cli_usage(&cmd_eval, "cannot evaluate \"%s\" (expected recs, churn or intents)",
				 argv[1]);
	const char *plugin = NULL, *matrix = NULL, *kv = NULL;
	for (int i = 2; i < argc; i++) {
		const char *v;
		int r;
		if ((r = cli_opt_value(argc, argv, &i, "--plugin", &v)) != 0) {
			if (r < 0)
				return cli_usage(&cmd_eval, "--plugin needs a name");
			plugin = v;
		} else if ((r = cli_opt_value(argc, argv, &i, "--matrix", &v)) != 0) {
			if (r < 0)
				return cli_usage(&cmd_eval, "--matrix needs a file");
			matrix = v;
		} else if ((r = cli_opt_value(argc, argv, &i, "--k", &v)) != 0) {
			if (r < 0)
				return cli_usage(&cmd_eval, "--k needs a number");
			kv = v;
		} else {
			return cli_usage(&cmd_eval, "unexpected argument \"%s\"", argv[i]);
		}
	}
	size_t k = 10;
	if (kv) {
		char *end;
		long n = strtol(kv, &end, 10);
		if (*end || end == kv || n < 1 || n > 1000)
			return cli_usage(&cmd_eval, "--k: expected a whole number from 1 to 1000, "
					 "got \"%s\"", kv);
		k = (size_t)n;
	}
	return eval_recs(c, plugin, k, matrix);
}

const cli_command cmd_eval = {
	"eval", run, "measure a model offline: churn (ROC AUC, ...) or recommendations (hit rate)",
	"usage: patron eval churn [--plugin NAME] [--label ATTRIBUTE | [--cutoff DATE]\n"
	"                         --horizon 90d] [--test FILE.csv | --test-split 0.2]\n"
	"                         [--seed N] [--json]\n"
	"       patron eval churn --drift [--plugin NAME]\n"
	"       patron eval recs [--plugin NAME] [--k K] [--matrix FILE.csv] [--json]\n"
	"       patron eval intents --test FILE.csv [--plugin bayes|linear] [--json]\n"
	"\n"
	"churn: trains the plugin (patron.conf's churn, or --plugin NAME) on the store's\n"
	"labelled customers (labels as for patron train) but those held out, and reports\n"
	"on the held-out ones: ROC AUC, PR AUC (average precision), log loss, and\n"
	"accuracy, precision, recall, F1 and the confusion matrix at 0.5 and at the\n"
	"threshold of the best F1. --test-split SHARE holds out that share (0.2) by\n"
	"--seed (1); --test FILE.csv trains on every labelled customer and tests on the\n"
	"file's rows, read as customers with attributes (the same columns as the\n"
	"training customers, and the label's); a row whose customer_id or email names a\n"
	"customer the model trained on is left out and counted. Nothing is stored.\n"
	"--drift gives the ROC AUC of the model in use on the newest labelled window\n"
	"beside the one it had when trained, on its held-out customers only (the model\n"
	"trained on none).\n"
	"\n"
	"Holds out one product per customer who bought two or more, runs the recommender\n"
	"(patron.conf's recommend, or --plugin NAME, with its options) on the rest, and\n"
	"reports over those customers: hit rate@K (the held-out product among the first\n"
	"K), NDCG@K (a hit at rank r counts 1/log2(r + 1)), coverage (the share of\n"
	"products recommended to anyone) and the time to fit and recommend. K is 10 by\n"
	"default. Nothing is stored.\n"
	"\n"
	"  (the store)      leave-last-out: the product of each customer's latest purchase\n"
	"                   is held out, as of --now\n"
	"  --matrix FILE    a user x item 0/1 CSV with a header row of item names (and a\n"
	"                   first column of user labels headed id, user, customer or\n"
	"                   respondent); the 1 with the highest column index of each user\n"
	"                   is held out. Compare with published figures on public data.\n"
	"\n"
	"intents: labels each message of FILE.csv (columns text, intent) with the\n"
	"stored intent model (patron.conf's intent, or --plugin) and reports accuracy,\n"
	"macro-F1 (the mean of each label's F1, over the labels of the truth and of\n"
	"the answers), each label's precision, recall and F1, and the confusion matrix.\n",
};
