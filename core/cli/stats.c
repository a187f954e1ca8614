/* patron stats: what the store holds. */
#include <stdio.h>

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
	if (c->json) {
		json_object_set_new(j, "store", json_string(c->db_path));
		cli_print_json(j);
		return EXIT_OK;
	}
	char money[32];
	printf("%s\n", c->db_path);
	for (size_t i = 0; i < sizeof counts / sizeof *counts; i++) {
		json_t *v = json_object_get(j, counts[i].name);
		if (counts[i].kind == MONEY)
			printf("  %-15s %s\n", "revenue",
			       patron_format_money(json_integer_value(v), money));
		else if (counts[i].kind == COUNT)
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
	"Counts customers, identities, products, orders (all, and paid), order lines,\n"
	"feedback, events and scores, with the revenue and the span of order dates.\n",
};
