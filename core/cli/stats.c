/* patron stats: what the store holds. */
#include <stdio.h>
#include <string.h>

#include "../value.h"
#include "cli.h"

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

static int run(cli *c, int argc, char **argv)
{
	if (argc > 1)
		return cli_usage(&cmd_stats, "unexpected argument \"%s\"", argv[1]);
	patron_store *s = cli_store(c);
	if (!s)
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
	json_decref(j);
	return EXIT_OK;
}

const cli_command cmd_stats = {
	"stats", run, "count what the store holds",
	"usage: patron stats [--json]\n"
	"\n"
	"Counts customers, identities, products, orders (all, paid, and guests' orders,\n"
	"which have no customer), order lines, feedback, events and scores, with the\n"
	"revenue (paid minus refunded) in the shop's base currency and, when orders\n"
	"came in other currencies, in each currency as the shop's dashboard shows it;\n"
	"refunds, money under an open dispute, and the span of order dates.\n",
};
