/* patron stats: what the store holds. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "../config.h"
#include "../report/kpi.h"
#include "../value.h"
#include "cli.h"
#include "learnopts.h"

enum { COUNT, MONEY, DATE };

static const struct {
	const char *name, *sql;
	int kind;
} counts[] = {
	{"customers", "SELECT count(*) FROM customers", COUNT},
	{"identities", "SELECT count(*) FROM identities", COUNT},
	{"attributes", "SELECT count(*) FROM attributes", COUNT},
	{"tags", "SELECT count(*) FROM tags", COUNT},
	{"consented", "SELECT count(*) FROM consent WHERE granted", COUNT},
	{"products", "SELECT count(*) FROM products", COUNT},
	{"orders", "SELECT count(*) FROM orders", COUNT},
	{"paid_orders", "SELECT count(*) FROM orders WHERE revenue", COUNT},
	{"guest_orders", "SELECT count(*) FROM orders WHERE customer_id IS NULL", COUNT},
	{"order_lines", "SELECT count(*) FROM order_lines", COUNT},
	{"feedback", "SELECT count(*) FROM feedback", COUNT},
	{"events", "SELECT count(*) FROM events", COUNT},
	{"scores", "SELECT count(*) FROM scores", COUNT},
	{"revenue_cents", "SELECT coalesce(sum(total_cents), 0) FROM orders WHERE revenue", MONEY},
	{"first_order_at", "SELECT min(placed_at) FROM orders", DATE},
	{"last_order_at", "SELECT max(placed_at) FROM orders", DATE},
};

int cli_period_days(const char *period)
{
	return strcmp(period, "week") == 0 ? 7 : strcmp(period, "month") == 0 ? 30 : 0;
}

int cli_kpis(cli *c, patron_store *s, int days, patron_kpis *k)
{
	patron_config *cfg = cli_config(c);
	if (!cfg)
		return -1;
	double threshold;
	const char *source;
	if (cli_churn_threshold(c, cfg, &threshold, &source) < 0) {
		patron_config_free(cfg);
		return -1;
	}
	patron_config_free(cfg);
	patron_err err;
	if (patron_kpis_compute(s, c->now, days, threshold, k, &err) < 0) {
		cli_fail(EXIT_FAIL, "%s", err.msg);
		return -1;
	}
	return 0;
}

/* "+12.5%" for the change from B to A; "" when there is nothing to compare. */
static const char *change(double a, double b, char *buf, size_t cap)
{
	if (isnan(a) || isnan(b) || b == 0)
		snprintf(buf, cap, "%s", "");
	else
		snprintf(buf, cap, "%+.1f%%", 100 * (a - b) / fabs(b));
	return buf;
}

static const char *percent(double v, char *buf, size_t cap)
{
	if (isnan(v))
		snprintf(buf, cap, "-");
	else
		snprintf(buf, cap, "%.1f%%", 100 * v);
	return buf;
}

static void print_kpis(const patron_kpis *k, const char *base)
{
	char a[32], b[32], d[32], x[32], y[32];
	const patron_kpi_period *p = &k->cur, *q = &k->prev;
	printf("  the %d days up to %s, against the %d days before\n", k->days,
	       patron_format_date(p->end - 1, b), k->days);
	(void)a;
	printf("    %-22s %14s %14s %9s\n", "", "now", "before", "change");
	printf("    %-22s %14s %14s %9s\n", "revenue", patron_format_money(p->revenue_cents, x),
	       patron_format_money(q->revenue_cents, y),
	       change((double)p->revenue_cents, (double)q->revenue_cents, d, sizeof d));
	printf("    %-22s %14lld %14lld %9s\n", "orders", (long long)p->orders,
	       (long long)q->orders, change((double)p->orders, (double)q->orders, d, sizeof d));
	snprintf(x, sizeof x, isnan(p->aov) ? "-" : "%.2f", p->aov);
	snprintf(y, sizeof y, isnan(q->aov) ? "-" : "%.2f", q->aov);
	printf("    %-22s %14s %14s %9s\n", "average order value", x, y,
	       change(p->aov, q->aov, d, sizeof d));
	printf("    %-22s %14lld %14lld %9s\n", "active customers", (long long)p->active,
	       (long long)q->active, change((double)p->active, (double)q->active, d, sizeof d));
	printf("    %-22s %14lld %14lld %9s\n", "new customers", (long long)p->new_customers,
	       (long long)q->new_customers,
	       change((double)p->new_customers, (double)q->new_customers, d, sizeof d));
	printf("    %-22s %14s %14s\n", "repeat-purchase rate", percent(p->repeat_rate, x, sizeof x),
	       percent(q->repeat_rate, y, sizeof y));
	printf("    %-22s %14s %14s\n", "retention", percent(p->retention, x, sizeof x),
	       percent(q->retention, y, sizeof y));
	printf("    %-22s %14s %14s\n", "churn rate", percent(p->churn_rate, x, sizeof x),
	       percent(q->churn_rate, y, sizeof y));
	if (k->scored)
		printf("    %-22s %14lld   (churn risk %.3g or more, of %lld scored)\n", "at risk",
		       (long long)k->at_risk, k->threshold, (long long)k->scored);
	else
		printf("    %-22s %14s   (no churn scores yet: patron train churn, patron score)\n",
		       "at risk", "-");
	if (k->clv_scored)
		printf("    %-22s %14.2f %s (%lld customers)\n", "predicted CLV", k->clv_total, base,
		       (long long)k->clv_scored);
	else
		printf("    %-22s %14s   (no CLV yet: patron score fits one)\n",
		       "predicted CLV", "-");
}

static int run(cli *c, int argc, char **argv)
{
	const char *period = "week";
	for (int i = 1; i < argc; i++) {
		const char *v;
		int m = cli_opt_value(argc, argv, &i, "--period", &v);
		if (m < 0 || (m > 0 && !cli_period_days(v)))
			return cli_usage(&cmd_stats, "--period: expected week or month");
		if (m > 0)
			period = v;
		else
			return cli_usage(&cmd_stats, "unexpected argument \"%s\"", argv[i]);
	}
	patron_store *s = cli_store(c);
	if (!s)
		return EXIT_FAIL;
	patron_kpis k;
	if (cli_kpis(c, s, cli_period_days(period), &k) < 0)
		return EXIT_FAIL;
	json_t *j = json_object();
	for (size_t i = 0; i < sizeof counts / sizeof *counts; i++) {
		sqlite3_stmt *st;
		if (sqlite3_prepare_v2(patron_store_db(s), counts[i].sql, -1, &st, NULL) != SQLITE_OK) {
			json_decref(j);
			return cli_fail(EXIT_FAIL, "%s: %s", c->db_path,
					sqlite3_errmsg(patron_store_db(s)));
		}
		if (sqlite3_step(st) == SQLITE_ROW) {
			char buf[24];
			if (sqlite3_column_type(st, 0) == SQLITE_NULL)
				json_object_set_new(j, counts[i].name, json_null());
			else if (counts[i].kind == DATE)
				json_object_set_new(j, counts[i].name, json_string(
					patron_format_day(sqlite3_column_int64(st, 0), buf)));
			else
				json_object_set_new(j, counts[i].name,
						    json_integer(sqlite3_column_int64(st, 0)));
		}
		sqlite3_finalize(st);
	}
	/* Revenue in each order's own currency, as the shop's dashboard shows
	 * it, beside the total in the base currency. */
	char base[8];
	if (cli_base_currency(c, s, base) < 0) {
		json_decref(j);
		return EXIT_FAIL;
	}
	json_t *per = json_object();
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(patron_store_db(s), "SELECT coalesce(currency, ?1),"
			       " sum(amount_cents) FILTER (WHERE revenue), count(*) FILTER"
			       " (WHERE revenue), sum(refunded_cents), sum(disputed_cents)"
			       " FROM orders GROUP BY 1 ORDER BY 1", -1, &st, NULL) != SQLITE_OK) {
		json_decref(j);
		json_decref(per);
		return cli_fail(EXIT_FAIL, "%s: %s", c->db_path, sqlite3_errmsg(patron_store_db(s)));
	}
	sqlite3_bind_text(st, 1, *base ? base : "", -1, SQLITE_STATIC);
	while (sqlite3_step(st) == SQLITE_ROW)
		json_object_set_new(per, (const char *)sqlite3_column_text(st, 0),
				    json_pack("{s:I, s:I, s:I, s:I}", "revenue_cents",
					      (json_int_t)sqlite3_column_int64(st, 1), "paid_orders",
					      (json_int_t)sqlite3_column_int64(st, 2), "refunded_cents",
					      (json_int_t)sqlite3_column_int64(st, 3), "disputed_cents",
					      (json_int_t)sqlite3_column_int64(st, 4)));
	sqlite3_finalize(st);
	json_object_set_new(j, "base_currency", *base ? json_string(base) : json_null());
	json_object_set_new(j, "revenue_by_currency", per);
	json_object_set_new(j, "kpis", patron_kpis_json(&k));
	if (c->json) {
		json_object_set_new(j, "store", json_string(c->db_path));
		cli_print_json(j);
		return EXIT_OK;
	}
	char money[32];
	printf("%s\n", c->db_path);
	for (size_t i = 0; i < sizeof counts / sizeof *counts; i++) {
		json_t *v = json_object_get(j, counts[i].name);
		if (strcmp(counts[i].name, "revenue_cents") == 0) {
			printf("  %-15s %s%s%s\n", "revenue",
			       patron_format_money(json_integer_value(v), money), *base ? " " : "",
			       base);
			/* per currency: what the shop's dashboard shows */
			const char *code;
			json_t *e;
			json_object_foreach(per, code, e) {
				char refunded[32], disputed[32];
				printf("    %-13s %s %s in %lld paid orders; refunded %s",
				       *code ? code : "(none)", patron_format_money(json_integer_value(
				       json_object_get(e, "revenue_cents")), money), *code ? code : "",
				       (long long)json_integer_value(json_object_get(e, "paid_orders")),
				       patron_format_money(json_integer_value(json_object_get(e,
							   "refunded_cents")), refunded));
				json_int_t d = json_integer_value(json_object_get(e, "disputed_cents"));
				if (d)
					printf("; under dispute %s", patron_format_money(d, disputed));
				putchar('\n');
			}
		} else if (counts[i].kind == COUNT)
			printf("  %-15s %lld\n", counts[i].name, (long long)json_integer_value(v));
		else
			printf("  %-15s %s\n", counts[i].name,
			       json_is_string(v) ? json_string_value(v) : "-");
	}
	print_kpis(&k, base);
	json_decref(j);
	return EXIT_OK;
}

const cli_command cmd_stats = {
	"stats", run, "count what the store holds",
	"usage: patron stats [--period week|month] [--json]\n"
	"\n"
	"Counts customers, identities, products, orders (all, paid, and guests' orders,\n"
	"which have no customer), order lines, feedback, events and scores, with the\n"
	"revenue (paid minus refunded) in the shop's base currency and, when orders\n"
	"came in other currencies, in each currency as the shop's dashboard shows it;\n"
	"refunds, money under an open dispute, and the span of order dates.\n"
	"\n"
	"Then the headline figures of the last week (7 days) or month (30 days) up to\n"
	"and including the day of --now, against the period before: revenue, paid\n"
	"orders and their average value, active customers (an order in the last 365\n"
	"days), new customers (their first order), the repeat-purchase rate (buyers of\n"
	"the period who had ordered before), retention (customers active at the\n"
	"period's start still active at its end) and the churn rate (the rest); and,\n"
	"from the latest patron score, the customers at risk (churn risk at or over\n"
	"churn.threshold, 0.7 unless set) and the total predicted CLV.\n",
};
