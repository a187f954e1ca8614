/* patron recommend ID|EMAIL: the products a customer was recommended, and
 * why. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../value.h"
#include "cli.h"

/* "Name (SKU)" of product ID, or "product ID" when it is gone. */
static void product_label(patron_store *s, int64_t id, char *out, size_t cap)
{
	sqlite3_stmt *st;
	sqlite3_prepare_v2(patron_store_db(s), "SELECT coalesce(name, sku), sku FROM products "
			   "WHERE id = ?1", -1, &st, NULL);
	sqlite3_bind_int64(st, 1, id);
	if (sqlite3_step(st) == SQLITE_ROW)
		snprintf(out, cap, "%s", sqlite3_column_text(st, 0));
	else
		snprintf(out, cap, "product %lld", (long long)id);
	sqlite3_finalize(st);
}

static int run(cli *c, int argc, char **argv)
{
	const char *who = NULL, *nv = NULL;
	for (int i = 1; i < argc; i++) {
		const char *v;
		int r = cli_opt_value(argc, argv, &i, "--n", &v);
		if (r < 0)
			return cli_usage(&cmd_recommend, "--n needs a number");
		if (r > 0)
			nv = v;
		else if (!who)
			who = argv[i];
		else
			return cli_usage(&cmd_recommend, "unexpected argument \"%s\"", argv[i]);
	}
	if (!who)
		return cli_usage(&cmd_recommend, "expected a customer");
	long n = 10;
	if (nv) {
		char *end;
		n = strtol(nv, &end, 10);
		if (*end || end == nv || n < 1)
			return cli_usage(&cmd_recommend, "--n: expected a whole number of at least 1, "
					 "got \"%s\"", nv);
	}
	patron_store *s = cli_store(c);
	if (!s)
		return EXIT_FAIL;
	int64_t id = patron_customer_resolve(s, who);
	if (!id)
		return cli_fail(EXIT_FAIL, "no customer \"%s\" in %s", who, c->db_path);
	sqlite3_stmt *st;
	sqlite3_prepare_v2(patron_store_db(s), "SELECT count(*) FROM orders WHERE customer_id = ?1 "
			   "AND revenue AND placed_at <= ?2", -1, &st, NULL);
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, c->now);
	int bought = sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int64(st, 0) > 0;
	sqlite3_finalize(st);
	sqlite3_prepare_v2(patron_store_db(s), "SELECT r.rank, p.sku, p.name, p.category, r.score, "
			   "r.model, r.computed_at, r.because FROM recommendations r JOIN products p "
			   "ON p.id = r.product_id WHERE r.customer_id = ?1 ORDER BY r.rank LIMIT ?2",
			   -1, &st, NULL);
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, n);
	json_t *list = json_array();
	int rows = 0;
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *sku = (const char *)sqlite3_column_text(st, 1);
		const char *name = (const char *)sqlite3_column_text(st, 2);
		const char *cat = (const char *)sqlite3_column_text(st, 3);
		const char *because = (const char *)sqlite3_column_text(st, 7);
		char day[16];
		patron_format_day(sqlite3_column_int64(st, 6), day);
		if (!rows && !c->json)
			printf("recommended for customer %lld by %s on %s%s:\n", (long long)id,
			       sqlite3_column_text(st, 5), day, bought ? ""
			       : " (no purchases yet: the most popular products)");
		json_t *why = json_array();
		patron_buf text = {0};
		for (const char *p = because; p && *p;) {
			char label[256];
			int64_t pid = strtoll(p, NULL, 10);
			product_label(s, pid, label, sizeof label);
			json_array_append_new(why, json_string(label));
			patron_buf_printf(&text, "%s%s", text.len ? ", " : "", label);
			p = strchr(p, ',');
			p = p ? p + 1 : NULL;
		}
		if (c->json) {
			json_array_append_new(list, json_pack("{s:I, s:s, s:s?, s:s?, s:f, s:o}", "rank",
				(json_int_t)sqlite3_column_int64(st, 0), "sku", sku, "name", name,
				"category", cat, "score", sqlite3_column_double(st, 4), "because", why));
		} else {
			printf("  %2lld. %-32s %-10s score %.4g%s%s\n",
			       (long long)sqlite3_column_int64(st, 0), name ? name : sku, sku,
			       sqlite3_column_double(st, 4), text.len ? "  because you bought " : "",
			       text.len ? text.data : "");
			json_decref(why);
		}
		patron_buf_free(&text);
		rows++;
	}
	sqlite3_finalize(st);
	if (c->json)
		cli_print_json(json_pack("{s:I, s:b, s:o}", "customer", (json_int_t)id, "has_purchases",
					 bought, "recommendations", list));
	else if (!rows)
		printf("no recommendations for customer %lld yet: run patron score (recommend = "
		       "\"itemknn\" in patron.conf is the default)\n", (long long)id);
	if (!c->json)
		json_decref(list);
	return EXIT_OK;
}

const cli_command cmd_recommend = {
	"recommend", run, "the products recommended to a customer, and why",
	"usage: patron recommend ID|EMAIL|EXTERNAL-ID [--n N] [--json]\n"
	"\n"
	"Prints the products the last `patron score` recommended to the customer, best\n"
	"first (at most N, 10 by default), with their scores and, for recommend =\n"
	"\"itemknn\", the products the customer bought that led to each. A customer with\n"
	"no purchases is offered the most popular products, and this says so.\n",
};
