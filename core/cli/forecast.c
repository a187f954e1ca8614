/* patron forecast: revenue and orders of the coming weeks or months, from
 * the forecaster patron.conf chooses (forecast = "holtwinters"), and how
 * well it would have done on periods held out. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../config.h"
#include "../report/report.h"
#include "../value.h"
#include "cli.h"

#define DAY 86400
#define LEVEL 0.8

int cli_sales_history(cli *c, int days, double threshold, cli_sales *out)
{
	memset(out, 0, sizeof *out);
	patron_store *s = cli_store(c);
	if (!s)
		return -1;
	out->days = days;
	out->season = days == 7 ? 52 : 12;
	size_t cap = 4 * out->season;	/* four seasons are plenty to fit on */
	if (cap < patron_report_periods(days))
		cap = patron_report_periods(days);
	patron_err err;
	if (patron_sales_read(s, c->now, days, cap, threshold, &out->sales, &err) < 0) {
		cli_fail(EXIT_FAIL, "%s", err.msg);
		return -1;
	}
	/* From the first period with an order: the shop did not exist before. */
	size_t first = 0;
	while (first < cap && !out->sales.orders[first])
		first++;
	out->n = cap - first;
	out->revenue = out->sales.revenue + first;
	out->orders = out->sales.orders + first;
	return 0;
}

void cli_sales_free(cli_sales *s)
{
	patron_sales_free(&s->sales);
	memset(s, 0, sizeof *s);
}

int cli_forecast_series(cli *c, const patron_config *cfg, const double *y, size_t n,
			size_t season, size_t horizon, double *mean, double *lo, double *hi,
			char *method, size_t cap, char *why, size_t why_cap)
{
	const char *choice = patron_config_plugin(cfg, "forecast");
	if (!choice) {
		snprintf(why, why_cap, "no forecaster is chosen (forecast = false in %s)",
			 patron_config_path(cfg));
		return 1;
	}
	patron_plugins ps = {0};
	const patron_plugin_file *pf = cli_job_plugin(c, cfg, "forecast", NULL, &ps);
	if (!pf) {
		patron_plugins_free(&ps);
		return -1;
	}
	patron_run_env env = {.store = c->store, .config = cfg, .job = "forecast", .now = c->now};
	patron_forecast f = {.y = y, .n = n, .season = season, .horizon = horizon, .level = LEVEL,
			     .mean = mean, .lo = lo, .hi = hi};
	patron_err err;
	int rc = patron_plugin_forecast(pf, &env, &f, &err);
	if (rc == 1)
		snprintf(why, why_cap, "%s", err.msg);
	else if (rc < 0)
		cli_fail(EXIT_FAIL, "%s", err.msg);
	else
		snprintf(method, cap, "%s: %s", pf->desc->name, f.method);
	patron_plugins_free(&ps);
	return rc;
}

/* Mean absolute percentage error of F against Y over the N periods whose
 * actual value is not zero; NAN when there is none. */
static double mape(const double *y, const double *f, size_t n)
{
	double sum = 0;
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (y[i] != 0) {
			sum += fabs(y[i] - f[i]) / fabs(y[i]);
			k++;
		}
	return k ? 100 * sum / (double)k : NAN;
}

/* The seasonal naive forecast: the value one season before (the last
 * value when there is less than a season of history). */
static void seasonal_naive(const double *y, size_t n, size_t season, size_t h, double *out)
{
	for (size_t i = 0; i < h; i++) {
		if (n >= season && season) {
			size_t back = season * ((i / season) + 1);
			out[i] = y[n + i - back];
		} else {
			out[i] = y[n - 1];
		}
	}
}

static void money(double v, char *buf)
{
	patron_format_money((int64_t)llround(v * 100), buf);
}

static int run(cli *c, int argc, char **argv)
{
	const char *period = "week", *hv = NULL, *tv = NULL;
	for (int i = 1; i < argc; i++) {
		const char *v;
		int m;
		if ((m = cli_opt_value(argc, argv, &i, "--period", &v)) != 0) {
			if (m < 0 || !cli_period_days(v))
				return cli_usage(&cmd_forecast, "--period: expected week or month");
			period = v;
		} else if ((m = cli_opt_value(argc, argv, &i, "--horizon", &v)) != 0) {
			if (m < 0)
				return cli_usage(&cmd_forecast, "--horizon needs a number of periods");
			hv = v;
		} else if ((m = cli_opt_value(argc, argv, &i, "--test", &v)) != 0) {
			if (m < 0)
				return cli_usage(&cmd_forecast, "--test needs a number of periods");
			tv = v;
		} else {
			return cli_usage(&cmd_forecast, "unexpected argument \"%s\"", argv[i]);
		}
	}
	int days = cli_period_days(period);
	int64_t horizon = days == 7 ? 8 : 6, test = 0;
	if (hv && (patron_parse_int(hv, &horizon) < 0 || horizon < 1 || horizon > 520))
		return cli_usage(&cmd_forecast, "--horizon %s: expected 1 to 520 periods", hv);
	if (tv && (patron_parse_int(tv, &test) < 0 || test < 1 || test > 520))
		return cli_usage(&cmd_forecast, "--test %s: expected 1 to 520 periods", tv);
	if (tv)
		horizon = test;
	patron_config *cfg = cli_config(c);
	if (!cfg)
		return EXIT_FAIL;
	cli_sales sales;
	if (cli_sales_history(c, days, 0.7, &sales) < 0) {
		patron_config_free(cfg);
		return EXIT_FAIL;
	}
	size_t n = sales.n, h = (size_t)horizon;
	if (tv && n <= h + 4) {
		int rc = cli_fail(EXIT_FAIL, "--test %lld: the store has %zu %ss of sales; holding "
				  "out %lld leaves too few to fit on", (long long)test, n, period,
				  (long long)test);
		cli_sales_free(&sales);
		patron_config_free(cfg);
		return rc;
	}
	size_t fit_n = tv ? n - h : n;
	double *out = patron_xcalloc(6 * h, sizeof *out);
	char method[2][320] = {"", ""}, why[256] = "";
	const double *series[2] = {sales.revenue, sales.orders};
	int rc = EXIT_OK;
	for (int k = 0; k < 2 && rc == EXIT_OK; k++) {
		int r = cli_forecast_series(c, cfg, series[k], fit_n, sales.season, h,
					    out + 3 * h * (size_t)k, out + 3 * h * (size_t)k + h,
					    out + 3 * h * (size_t)k + 2 * h, method[k], sizeof method[k],
					    why, sizeof why);
		if (r == 1)
			rc = cli_fail(EXIT_FAIL, "no forecast yet: %s", why);
		else if (r < 0)
			rc = EXIT_FAIL;
	}
	char base[8] = "";
	if (rc == EXIT_OK && cli_base_currency(c, c->store, base) < 0)
		rc = EXIT_FAIL;
	int64_t start, end;
	patron_kpi_bounds(c->now, days, &start, &end);
	(void)start;
	json_t *j = c->json ? json_object() : NULL;
	if (rc == EXIT_OK && tv) {
		/* How it would have done on the last TEST periods, next to the
		 * seasonal naive forecast (the same period a season before). */
		double *naive = patron_xcalloc(h, sizeof *naive);
		double score[2][2], covered[2] = {0, 0};
		for (int k = 0; k < 2; k++) {
			const double *y = series[k] + fit_n, *m = out + 3 * h * (size_t)k;
			seasonal_naive(series[k], fit_n, sales.season, h, naive);
			score[k][0] = mape(y, m, h);
			score[k][1] = mape(y, naive, h);
			for (size_t i = 0; i < h; i++)
				covered[k] += y[i] >= m[h + i] && y[i] <= m[2 * h + i];
		}
		free(naive);
		if (j) {
			const char *names[2] = {"revenue", "orders"};
			for (int k = 0; k < 2; k++)
				json_object_set_new(j, names[k], json_pack(
					"{s:s, s:f, s:f, s:f}", "method", method[k], "mape",
					score[k][0], "seasonal_naive_mape", score[k][1],
					"interval_coverage", covered[k] / (double)h));
			json_object_set_new(j, "held_out", json_integer((json_int_t)h));
			json_object_set_new(j, "fitted_on", json_integer((json_int_t)fit_n));
			json_object_set_new(j, "period_days", json_integer(days));
		} else {
			printf("the last %zu %ss held out, fitted on the %zu before\n", h, period, fit_n);
			printf("  %s\n", method[0]);
			printf("  %-8s MAPE %6.2f%%   seasonal naive %6.2f%%   %.0f of %zu inside the "
			       "%.0f%% interval\n", "revenue", score[0][0], score[0][1], covered[0], h,
			       100 * LEVEL);
			printf("  %s\n", method[1]);
			printf("  %-8s MAPE %6.2f%%   seasonal naive %6.2f%%   %.0f of %zu inside the "
			       "%.0f%% interval\n", "orders", score[1][0], score[1][1], covered[1], h,
			       100 * LEVEL);
		}
	} else if (rc == EXIT_OK) {
		json_t *rows = j ? json_array() : NULL;
		if (!j) {
			printf("the next %zu %ss, from %zu of history, with %.0f%% intervals\n", h,
			       period, n, 100 * LEVEL);
			printf("  revenue: %s\n  orders:  %s\n", method[0], method[1]);
			printf("  %-12s %14s %25s %8s %15s\n", "up to", "revenue", "interval", "orders",
			       "interval");
		}
		for (size_t i = 0; i < h; i++) {
			char day[32], a[32], lo[32], hi[32];
			patron_format_day(end - 1 + (int64_t)(i + 1) * days * DAY, day);
			const double *r = out, *o = out + 3 * h;
			if (rows) {
				json_array_append_new(rows, json_pack(
					"{s:s, s:f, s:f, s:f, s:f, s:f, s:f}", "until", day, "revenue",
					r[i], "revenue_lo", r[h + i], "revenue_hi", r[2 * h + i], "orders",
					o[i], "orders_lo", o[h + i], "orders_hi", o[2 * h + i]));
				continue;
			}
			money(r[i], a), money(r[h + i], lo), money(r[2 * h + i], hi);
			char range[80], orange[48];
			snprintf(range, sizeof range, "%s to %s", lo, hi);
			snprintf(orange, sizeof orange, "%.0f to %.0f", o[h + i], o[2 * h + i]);
			printf("  %-12s %14s %25s %8.0f %15s\n", day, a, range, o[i], orange);
		}
		if (j) {
			json_object_set_new(j, "periods", rows);
			json_object_set_new(j, "revenue_method", json_string(method[0]));
			json_object_set_new(j, "orders_method", json_string(method[1]));
			json_object_set_new(j, "history", json_integer((json_int_t)n));
			json_object_set_new(j, "level", json_real(LEVEL));
			json_object_set_new(j, "currency", json_string(base));
		}
	}
	if (j) {
		if (rc == EXIT_OK)
			cli_print_json(j);
		else
			json_decref(j);
	}
	free(out);
	cli_sales_free(&sales);
	patron_config_free(cfg);
	return rc;
}

const cli_command cmd_forecast = {
	"forecast", run, "forecast revenue and orders of the coming weeks or months",
	"usage: patron forecast [--period week|month] [--horizon N] [--test N] [--json]\n"
	"\n"
	"Fits the forecaster patron.conf chooses (forecast = \"holtwinters\" unless\n"
	"set; forecast = { plugin = \"holtwinters\", seasonal = \"additive\" } passes\n"
	"options) to the paid revenue and orders per week (or per 30 days) up to and\n"
	"including the day of --now, from the first period with an order (four years\n"
	"at most), and prints the next N periods (8 weeks or 6 months unless told)\n"
	"with 80% intervals. A season is 52 weeks or 12 months; with less than two\n"
	"seasons of history the trend is fitted alone.\n"
	"\n"
	"  --test N   hold out the last N periods, fit on the rest, and print the mean\n"
	"             absolute percentage error (MAPE) of the forecast beside the\n"
	"             seasonal naive forecast's (each period as it was a season\n"
	"             before), and how many actual values fell inside the interval\n",
};
