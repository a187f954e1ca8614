/* patron report: the owner's report as one HTML page. */
#include <libgen.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../config.h"
#include "../report/report.h"
#include "../value.h"
#include "cli.h"
#include "learnopts.h"

/* Writes DATA to PATH whole or not at all: a reader never finds half a page. */
static int write_whole(const char *path, const patron_buf *data)
{
	char tmp[4200];
	snprintf(tmp, sizeof tmp, "%s.partial", path);
	FILE *f = fopen(tmp, "wb");
	if (!f)
		return cli_fail(EXIT_FAIL, "%s: cannot write: %m", tmp);
	int ok = fwrite(data->data, 1, data->len, f) == data->len;
	ok = fclose(f) == 0 && ok;
	if (!ok || rename(tmp, path) < 0) {
		int rc = cli_fail(EXIT_FAIL, "%s: cannot write: %m", path);
		unlink(tmp);
		return rc;
	}
	return EXIT_OK;
}

int cli_report(cli *c, const char *out, int days, const char **written)
{
	static char where[4096];
	patron_store *s = cli_store(c);
	if (!s)
		return EXIT_FAIL;
	patron_config *cfg = cli_config(c);
	if (!cfg)
		return EXIT_FAIL;
	patron_report_opts o = {.now = c->now, .days = days, .threshold = 0.7,
				.window = 7 * 86400, .cost_per_message = NAN};
	int rc = EXIT_OK;
	const char *source;
	if (cli_churn_threshold(c, cfg, &o.threshold, &source) < 0)
		rc = EXIT_FAIL;
	const char *window = patron_config_string(cfg, "attribution", "window");
	if (window)
		patron_parse_duration(window, &o.window);	/* checked when loaded */
	patron_config_number(cfg, "attribution", "cost_per_message", &o.cost_per_message);
	char base[8];
	if (rc == EXIT_OK && cli_base_currency(c, s, base) < 0)
		rc = EXIT_FAIL;
	o.currency = base;
	const char *name = patron_config_top_string(cfg, "shop");
	char *copy = patron_xstrdup(c->db_path);
	o.title = name ? name : basename(copy);
	/* The forecast continues the sales chart; the report goes on without
	 * one, saying why, when the history is too short. */
	cli_sales sales = {0};
	size_t h = days == 7 ? 8 : 6;
	double *fc = patron_xcalloc(6 * h, sizeof *fc);
	char method[2][320], why[256] = "", note[400];
	patron_report_forecast forecast = {.horizon = h, .level = 0.8, .revenue = fc,
					   .revenue_lo = fc + h, .revenue_hi = fc + 2 * h,
					   .orders = fc + 3 * h, .orders_lo = fc + 4 * h,
					   .orders_hi = fc + 5 * h};
	/* One read of the store: every section sees the same moment. */
	sqlite3_exec(patron_store_db(s), "BEGIN", NULL, NULL, NULL);
	if (rc == EXIT_OK && cli_sales_history(c, days, o.threshold, &sales) < 0)
		rc = EXIT_FAIL;
	int frc = rc == EXIT_OK && !sales.n ? 1 : 0;
	if (!sales.n)
		snprintf(why, sizeof why, "no paid orders yet");
	for (int k = 0; k < 2 && rc == EXIT_OK && frc == 0; k++) {
		frc = cli_forecast_series(c, cfg, k ? sales.orders : sales.revenue, sales.n,
					  sales.season, h, fc + 3 * h * (size_t)k,
					  fc + 3 * h * (size_t)k + h, fc + 3 * h * (size_t)k + 2 * h,
					  method[k], sizeof method[k], why, sizeof why);
		if (frc < 0)
			rc = EXIT_FAIL;
	}
	if (rc == EXIT_OK && frc == 0) {
		/* Sales are never below zero, whatever a symmetric interval says. */
		for (size_t i = 0; i < 6 * h; i++)
			fc[i] = fmax(fc[i], 0);
		forecast.method = method[0];
		o.forecast = &forecast;
	} else {
		snprintf(note, sizeof note, "No forecast yet: %s.", why);
		o.forecast_note = note;
	}
	if (out)
		snprintf(where, sizeof where, "%s", out);
	else {	/* beside the store */
		char *dir = patron_xstrdup(c->db_path);
		snprintf(where, sizeof where, "%s/report.html", dirname(dir));
		free(dir);
	}
	patron_buf page = {0};
	patron_err err;
	o.sales = &sales.sales;
	o.config = cfg;
	if (rc == EXIT_OK && patron_report_html(s, &o, &page, &err) < 0)
		rc = cli_fail(EXIT_FAIL, "%s", err.msg);
	sqlite3_exec(patron_store_db(s), "COMMIT", NULL, NULL, NULL);
	if (rc == EXIT_OK)
		rc = write_whole(where, &page);
	if (written)
		*written = where;
	patron_buf_free(&page);
	cli_sales_free(&sales);
	free(fc);
	free(copy);
	patron_config_free(cfg);
	return rc;
}

static int run(cli *c, int argc, char **argv)
{
	const char *out = NULL, *period = "week";
	for (int i = 1; i < argc; i++) {
		const char *v;
		int m;
		if ((m = cli_opt_value(argc, argv, &i, "--out", &v)) != 0) {
			if (m < 0)
				return cli_usage(&cmd_report, "--out needs a file name");
			out = v;
		} else if ((m = cli_opt_value(argc, argv, &i, "--period", &v)) != 0) {
			if (m < 0 || !cli_period_days(v))
				return cli_usage(&cmd_report, "--period: expected week or month");
			period = v;
		} else {
			return cli_usage(&cmd_report, "unexpected argument \"%s\"", argv[i]);
		}
	}
	const char *where;
	int rc = cli_report(c, out, cli_period_days(period), &where);
	if (rc == EXIT_OK)
		printf("report: %s\n", where);
	return rc;
}

const cli_command cmd_report = {
	"report", run, "write the owner's report, one HTML page",
	"usage: patron report [--out FILE] [--period week|month]\n"
	"\n"
	"Writes the week's (or the month's: 30 days) report up to and including the\n"
	"day of --now, as one HTML file that opens from disk in any browser and\n"
	"prints well (no script, nothing fetched). Beside the store as report.html\n"
	"unless --out says where.\n"
	"\n"
	"It holds the headline figures against the period before (as patron stats\n"
	"shows them), revenue and orders per period, the share of each month's new\n"
	"customers who came back, the RFM grid and each segment's profile, the churn\n"
	"risk of every scored customer with the 20 at-risk customers worth the most\n"
	"and why, what each rule's messages earned (orders within the attribution\n"
	"window after a message), and what customers said (ratings per month, the\n"
	"phrases said most in good and bad comments, the lowest-rated comments).\n"
	"\n"
	"patron.conf:\n"
	"  shop = \"Acme Coffee\"                        -- the report's title\n"
	"  attribution = { window = \"7d\",              -- an order this soon after a\n"
	"                  cost_per_message = 0.01 }   -- message is its; gives the ROI\n"
	"  campaign_costs = { [\"winback\"] = 50 }      -- a rule's own fixed cost, too\n"
	"  churn = { threshold = 0.7 }                 -- who counts as at risk\n",
};
