/* patron demo: generate a demo shop, import it, and show where to look. */
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../scripts/gen/gen.h"
#include "../config.h"
#include "../import.h"
#include "../rules.h"
#include "../value.h"
#include "cli.h"
#include "learnopts.h"

static int import_one(cli *c, const char *dir, const char *file, patron_import_kind kind)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/%s", dir, file);
	patron_import_opts o = {.kind = kind, .now = c->now, .progress = isatty(2)};
	patron_import_stats st;
	patron_err err;
	/* feedback is scored for sentiment as it lands, as patron import does */
	patron_config *cfg = NULL;
	patron_plugins ps = {0};
	patron_analyzer *a = NULL;
	if (kind == PATRON_IMPORT_FEEDBACK &&
	    (!(cfg = cli_config(c)) || cli_analyzer_open(c, cfg, "sentiment", NULL, &ps, &a) < 0)) {
		patron_plugins_free(&ps);
		patron_config_free(cfg);
		return EXIT_FAIL;
	}
	if (a) {
		o.sentiment = cli_sentiment_one;
		o.sentiment_ctx = a;
	}
	int rc = patron_import_file(c->store, path, &o, &st, &err);
	patron_analyzer_close(a);
	patron_plugins_free(&ps);
	patron_config_free(cfg);
	if (rc < 0)
		return cli_fail(EXIT_FAIL, "%s", err.msg);
	printf("  ");
	cli_import_summary(path, kind, &st);
	return EXIT_OK;
}

static int run_examples(cli *c, const char *dir)
{
	printf("\nthe example rules (%s), in a dry run: what Patron would do today\n", dir);
	fflush(stdout);
	patron_config *cfg = cli_config(c);
	if (!cfg)
		return EXIT_FAIL;
	patron_rules_opts o = {.store = c->store, .config = cfg, .now = c->now, .dry_run = 1,
			       .out = stdout, .show_max = 3};
	patron_rules *r = patron_rules_new(&o);
	int files = 0;
	int rc = cli_load_rules(r, dir, &files);
	patron_rules_totals t;
	patron_err err;
	if (rc == EXIT_OK && patron_rules_run(r, &t, &err) < 0)
		rc = cli_fail(EXIT_FAIL, "%s", err.msg);
	patron_rules_free(r);
	patron_config_free(cfg);
	return rc;
}

static int count(const char *v, uint64_t *out)
{
	int64_t n;
	if (patron_parse_int(v, &n) < 0 || n < 0)
		return -1;
	*out = (uint64_t)n;
	return 0;
}

static int run(cli *c, int argc, char **argv)
{
	patron_gen_opts g = {.customers = 5000, .seed = 1, .end = c->now};
	const char *out = NULL;
	for (int i = 1; i < argc; i++) {
		const char *v;
		int r;
		if ((r = cli_opt_value(argc, argv, &i, "--out", &v)) != 0) {
			if (r < 0)
				return cli_usage(&cmd_demo, "--out needs a folder");
			out = v;
		} else if ((r = cli_opt_value(argc, argv, &i, "--customers", &v)) != 0) {
			if (r < 0 || count(v, &g.customers) < 0 || g.customers == 0)
				return cli_usage(&cmd_demo, "--customers: expected a number above 0");
		} else if ((r = cli_opt_value(argc, argv, &i, "--seed", &v)) != 0) {
			if (r < 0 || count(v, &g.seed) < 0)
				return cli_usage(&cmd_demo, "--seed: expected a whole number");
		} else {
			return cli_usage(&cmd_demo, "unexpected argument \"%s\"", argv[i]);
		}
	}
	char dir[4096];
	if (out) {
		snprintf(dir, sizeof dir, "%s", out);
	} else {
		char *copy = patron_xstrdup(c->db_path);
		snprintf(dir, sizeof dir, "%s/demo-data", dirname(copy));
		free(copy);
	}
	if (mkdir(dir, 0777) < 0 && errno != EEXIST)
		return cli_fail(EXIT_FAIL, "%s: cannot create: %s", dir, strerror(errno));
	g.dir = dir;
	patron_gen_stats gs;
	char err[512];
	printf("generating a demo shop in %s ...\n", dir);
	if (patron_gen(&g, &gs, err, sizeof err) < 0)
		return cli_fail(EXIT_FAIL, "%s", err);
	printf("  %llu customers, %llu products, %llu orders (%llu lines), %llu feedback\n",
	       (unsigned long long)gs.customers, (unsigned long long)gs.products,
	       (unsigned long long)gs.orders, (unsigned long long)gs.lines,
	       (unsigned long long)gs.feedback);
	if (!cli_store(c))
		return EXIT_FAIL;
	printf("importing into %s ...\n", c->db_path);
	if (import_one(c, dir, "products.csv", PATRON_IMPORT_PRODUCTS) ||
	    import_one(c, dir, "customers.csv", PATRON_IMPORT_CUSTOMERS) ||
	    import_one(c, dir, "orders.csv", PATRON_IMPORT_ORDERS) ||
	    import_one(c, dir, "feedback.csv", PATRON_IMPORT_FEEDBACK))
		return EXIT_FAIL;

	/* Who churned is learnt from history: the customers who had bought by a
	 * cutoff, and whether they bought again within the horizon after it, a
	 * horizon the shop's own rhythm sets. */
	printf("training the churn model (the horizon: how long this shop's customers take to "
	       "come back) ...\n  ");
	learn_cli lo = {.skip_small = 1};
	for (const patron_job *j = patron_jobs; j->job; j++)
		if (strcmp(j->job, "churn") == 0 && cli_train_supervised(c, j, NULL, &lo) != EXIT_OK)
			return EXIT_FAIL;
	printf("scoring (plugins chosen in patron.conf beside the store; default segment = "
	       "\"rfm\") ...\n  ");
	if (cli_score(c, NULL) != EXIT_OK)
		return EXIT_FAIL;

	/* Show the best customer: the one who spent most. */
	sqlite3_stmt *st;
	int64_t best = 0;
	if (sqlite3_prepare_v2(patron_store_db(c->store),
			       "SELECT customer_id FROM orders WHERE revenue AND customer_id IS NOT NULL "
			       "GROUP BY customer_id "
			       "ORDER BY sum(total_cents) DESC, customer_id LIMIT 1", -1, &st,
			       NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
		best = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	char email[320] = "";
	if (best) {
		sqlite3_prepare_v2(patron_store_db(c->store), "SELECT value FROM identities WHERE "
				   "customer_id = ?1 AND kind = 'email'", -1, &st, NULL);
		sqlite3_bind_int64(st, 1, best);
		if (sqlite3_step(st) == SQLITE_ROW)
			snprintf(email, sizeof email, "%s", sqlite3_column_text(st, 0));
		sqlite3_finalize(st);
		printf("\nyour best customer:\n");
		cli_show_customer(c, best);
	}
	/* The example rules, in a dry run: what Patron would send today. */
	char rules[4400] = "";
	const char *where[] = {"examples/rules", "share/patron/examples/rules"};
	for (int i = 0; i < 2 && !*rules; i++) {
		struct stat sb;
		snprintf(rules, sizeof rules, "%s/../%s", c->exe_dir, where[i]);
		if (stat(rules, &sb) != 0 || !S_ISDIR(sb.st_mode))
			rules[0] = '\0';
	}
	if (*rules && run_examples(c, rules) != EXIT_OK)
		return EXIT_FAIL;

	/* The owner's page, last: what the demo ends on. */
	printf("\n");
	fflush(stdout);
	const char *report;
	if (cli_report(c, NULL, 7, &report) != EXIT_OK)
		return EXIT_FAIL;
	printf("the week's report: %s (open it in a browser)\n", report);

	const char *db = c->db_path, *me = c->argv0;
	char today[24];
	patron_format_day(c->now, today);
	printf("\nthe demo shop is in %s. Try:\n"
	       "  %s --db %s stats\n"
	       "  %s --db %s customers --segment at_risk --sort 'value*risk' --csv\n"
	       "  %s --db %s forecast --test 13\n"
	       "  %s --db %s customer %s\n"
	       "  %s --db %s customer C0000042 --json\n"
	       "  %s --db %s --now %s segments\n"
	       "  %s --db %s recommend %s\n"
	       "  %s --db %s --now %s eval recs --plugin als\n"
	       "  %s --db %s plugins\n"
	       "  %s --db %s snapshot\n"
	       "  %s --db %s run %s --dry-run\n"
	       "  %s --db %s run %s    (sends: the emails land in outbox/ beside the store)\n"
	       "  %s --db %s preview winback --customer %s --rules %s --vars '{\"discount\":\"15%%\"}'\n"
	       "  %s --db %s import orders MY-SHOPIFY-EXPORT.csv\n"
	       "  sqlite3 %s 'SELECT topic, count(*) FROM events GROUP BY topic'\n",
	       db, me, db, me, db, me, db, me, db, *email ? email : "1", me, db, me, db, today, me, db,
	       *email ? email : "1", me, db, today, me, db, me, db,
	       me, db, *rules ? rules : "RULES/", me, db, *rules ? rules : "RULES/", me, db,
	       *email ? email : "1", *rules ? rules : "RULES/", me, db, db);
	return EXIT_OK;
}

const cli_command cmd_demo = {
	"demo", run, "generate a demo shop, import it, show where to look",
	"usage: patron [--db PATH] demo [--customers N] [--seed N] [--out DIR]\n"
	"\n"
	"Generates a small coffee shop (default 5000 customers, seed 1, three years of\n"
	"history up to --now) as CSV files in DIR (default demo-data/ beside the store),\n"
	"imports them, scores them, shows the best customer, runs the example rules\n"
	"(examples/rules) in a dry run to show what they would send, and writes the\n"
	"week's report (report.html beside the store). The same seed\n"
	"and --now give the same shop; running it twice imports nothing new.\n",
};
