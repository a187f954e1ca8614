/* patron customer ID|EMAIL: one customer's profile. */
#include <stdio.h>
#include <string.h>

#include "../value.h"
#include "cli.h"

static json_t *date_json(sqlite3_stmt *st, int col)
{
	char buf[24];
	if (sqlite3_column_type(st, col) == SQLITE_NULL)
		return json_null();
	return json_string(patron_format_date(sqlite3_column_int64(st, col), buf));
}

static json_t *column_json(sqlite3_stmt *st, int col)
{
	switch (sqlite3_column_type(st, col)) {
	case SQLITE_INTEGER: return json_integer(sqlite3_column_int64(st, col));
	case SQLITE_FLOAT: return json_real(sqlite3_column_double(st, col));
	case SQLITE_NULL: return json_null();
	default: return json_string((const char *)sqlite3_column_text(st, col));
	}
}

static sqlite3_stmt *query(patron_store *s, const char *sql, int64_t id)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(patron_store_db(s), sql, -1, &st, NULL) != SQLITE_OK)
		return NULL;
	sqlite3_bind_int64(st, 1, id);
	return st;
}

/* The whole profile as JSON; the text output is printed from it too, so the
 * two can never disagree. */
static json_t *profile(patron_store *s, int64_t id, int64_t now)
{
	json_t *p = json_object();
	sqlite3_stmt *st = query(s, "SELECT first_name, last_name, created_at FROM customers "
				 "WHERE id = ?1", id);
	json_object_set_new(p, "id", json_integer(id));
	if (sqlite3_step(st) == SQLITE_ROW) {
		json_object_set_new(p, "first_name", column_json(st, 0));
		json_object_set_new(p, "last_name", column_json(st, 1));
		json_object_set_new(p, "created_at", date_json(st, 2));
	}
	sqlite3_finalize(st);

	json_t *ids = json_array();
	st = query(s, "SELECT kind, value FROM identities WHERE customer_id = ?1 "
		   "ORDER BY kind, value", id);
	while (sqlite3_step(st) == SQLITE_ROW)
		json_array_append_new(ids, json_pack("{s:s, s:s}", "kind",
						     sqlite3_column_text(st, 0), "value",
						     sqlite3_column_text(st, 1)));
	sqlite3_finalize(st);
	json_object_set_new(p, "identities", ids);

	json_t *attrs = json_object();
	st = query(s, "SELECT name, value FROM attributes WHERE customer_id = ?1 ORDER BY name", id);
	while (sqlite3_step(st) == SQLITE_ROW)
		json_object_set_new(attrs, (const char *)sqlite3_column_text(st, 0),
				    column_json(st, 1));
	sqlite3_finalize(st);
	json_object_set_new(p, "attributes", attrs);

	json_t *tags = json_array();
	st = query(s, "SELECT tag FROM tags WHERE customer_id = ?1 ORDER BY tag", id);
	while (sqlite3_step(st) == SQLITE_ROW)
		json_array_append_new(tags, json_string((const char *)sqlite3_column_text(st, 0)));
	sqlite3_finalize(st);
	json_object_set_new(p, "tags", tags);

	json_t *consent = json_object();
	st = query(s, "SELECT channel, granted, source, updated_at FROM consent "
		   "WHERE customer_id = ?1 ORDER BY channel", id);
	while (sqlite3_step(st) == SQLITE_ROW)
		json_object_set_new(consent, (const char *)sqlite3_column_text(st, 0),
				    json_pack("{s:b, s:s, s:o}", "granted",
					      sqlite3_column_int(st, 1), "source",
					      sqlite3_column_text(st, 2), "updated_at",
					      date_json(st, 3)));
	sqlite3_finalize(st);
	json_object_set_new(p, "consent", consent);

	/* Only revenue orders count as spending; the others are shown apart. */
	st = query(s, "SELECT count(*) FILTER (WHERE revenue),"
		   " coalesce(sum(total_cents) FILTER (WHERE revenue), 0),"
		   " min(placed_at) FILTER (WHERE revenue), max(placed_at) FILTER (WHERE revenue),"
		   " count(*) FILTER (WHERE NOT revenue) FROM orders WHERE customer_id = ?1", id);
	if (sqlite3_step(st) == SQLITE_ROW) {
		char money[32];
		int64_t cents = sqlite3_column_int64(st, 1);
		json_object_set_new(p, "orders", json_integer(sqlite3_column_int64(st, 0)));
		json_object_set_new(p, "total_spent", json_string(patron_format_money(cents, money)));
		json_object_set_new(p, "total_spent_cents", json_integer(cents));
		json_object_set_new(p, "first_order_at", date_json(st, 2));
		json_object_set_new(p, "last_order_at", date_json(st, 3));
		if (sqlite3_column_type(st, 3) != SQLITE_NULL) {
			int64_t last = sqlite3_column_int64(st, 3);
			/* Calendar days, as a person counts them: 1 April to 1 June is 61. */
			json_object_set_new(p, "days_since_last_order",
					    json_integer(patron_day_number(now) -
							 patron_day_number(last)));
		} else {
			json_object_set_new(p, "days_since_last_order", json_null());
		}
		json_object_set_new(p, "orders_not_revenue", json_integer(sqlite3_column_int64(st, 4)));
	}
	sqlite3_finalize(st);

	st = query(s, "SELECT count(*), avg(rating) FROM feedback WHERE customer_id = ?1", id);
	if (sqlite3_step(st) == SQLITE_ROW)
		json_object_set_new(p, "feedback", json_pack("{s:I, s:o}", "count",
			(json_int_t)sqlite3_column_int64(st, 0), "mean_rating", column_json(st, 1)));
	sqlite3_finalize(st);

	json_t *scores = json_array();
	st = query(s, "SELECT name, value, label, model, computed_at FROM scores "
		   "WHERE customer_id = ?1 ORDER BY name", id);
	while (sqlite3_step(st) == SQLITE_ROW)
		json_array_append_new(scores, json_pack("{s:s, s:o, s:o, s:s, s:o}", "name",
			sqlite3_column_text(st, 0), "value", column_json(st, 1), "label",
			column_json(st, 2), "model", sqlite3_column_text(st, 3), "computed_at",
			date_json(st, 4)));
	sqlite3_finalize(st);
	json_object_set_new(p, "scores", scores);
	return p;
}

static const char *str(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? s : "";
}

static void print_value(json_t *v)
{
	if (json_is_integer(v))
		printf("%lld", (long long)json_integer_value(v));
	else if (json_is_real(v))
		printf("%g", json_real_value(v));
	else if (json_is_string(v))
		printf("%s", json_string_value(v));
	else
		printf("-");
}

static void print_profile(json_t *p)
{
	const char *first = str(p, "first_name"), *last = str(p, "last_name");
	printf("customer %lld%s%s%s%s\n", (long long)json_integer_value(json_object_get(p, "id")),
	       *first || *last ? "  " : "", first, *first && *last ? " " : "", last);
	printf("  since       %s\n", str(p, "created_at"));

	size_t i;
	json_t *v;
	const char *k;
	printf("  identities ");
	json_array_foreach(json_object_get(p, "identities"), i, v)
		printf(" %s %s%s", str(v, "kind"), str(v, "value"),
		       i + 1 < json_array_size(json_object_get(p, "identities")) ? "," : "");
	printf("\n");
	if (json_object_size(json_object_get(p, "attributes"))) {
		printf("  attributes ");
		json_object_foreach(json_object_get(p, "attributes"), k, v) {
			printf(" %s=", k);
			print_value(v);
		}
		printf("\n");
	}
	if (json_array_size(json_object_get(p, "tags"))) {
		printf("  tags       ");
		json_array_foreach(json_object_get(p, "tags"), i, v)
			printf(" %s", json_string_value(v));
		printf("\n");
	}
	printf("  consent    ");
	if (!json_object_size(json_object_get(p, "consent")))
		printf(" none recorded (nothing will be sent)");
	json_object_foreach(json_object_get(p, "consent"), k, v)
		printf(" %s: %s (%s, %s)", k, json_is_true(json_object_get(v, "granted")) ? "yes" : "no",
		       str(v, "source"), str(v, "updated_at"));
	printf("\n");
	long long orders = (long long)json_integer_value(json_object_get(p, "orders"));
	printf("  orders      %lld, total spent %s", orders, str(p, "total_spent"));
	if (orders)
		printf(", first %s, last %s (%lld days ago)", str(p, "first_order_at"),
		       str(p, "last_order_at"),
		       (long long)json_integer_value(json_object_get(p, "days_since_last_order")));
	long long other = (long long)json_integer_value(json_object_get(p, "orders_not_revenue"));
	if (other)
		printf("; %lld more not paid (failed, refunded, pending...)", other);
	printf("\n");
	json_t *fb = json_object_get(p, "feedback");
	if (json_integer_value(json_object_get(fb, "count"))) {
		printf("  feedback    %lld, mean rating ",
		       (long long)json_integer_value(json_object_get(fb, "count")));
		json_t *m = json_object_get(fb, "mean_rating");
		if (json_is_real(m))
			printf("%.1f\n", json_real_value(m));
		else
			printf("-\n");
	}
	printf("  scores     ");
	if (!json_array_size(json_object_get(p, "scores")))
		printf(" none yet\n");
	else
		printf("\n");
	json_array_foreach(json_object_get(p, "scores"), i, v) {
		printf("    %-18s ", str(v, "name"));
		json_t *label = json_object_get(v, "label"), *value = json_object_get(v, "value");
		if (json_is_string(label))
			printf("%s", json_string_value(label));
		if (!json_is_null(value) || !json_is_string(label)) {
			printf(json_is_string(label) ? " " : "");
			print_value(value);
		}
		printf("  (%s, %s)\n", str(v, "model"), str(v, "computed_at"));
	}
}

int cli_show_customer(cli *c, int64_t id)
{
	json_t *p = profile(c->store, id, c->now);
	if (c->json) {
		cli_print_json(p);
	} else {
		print_profile(p);
		json_decref(p);
	}
	return EXIT_OK;
}

static int run(cli *c, int argc, char **argv)
{
	if (argc != 2)
		return cli_usage(&cmd_customer, argc < 2 ? "expected a customer"
				 : "expected one customer");
	patron_store *s = cli_store(c);
	if (!s)
		return EXIT_FAIL;
	int64_t id = patron_customer_resolve(s, argv[1]);
	if (!id)
		return cli_fail(EXIT_FAIL, "no customer \"%s\" in %s", argv[1], c->db_path);
	return cli_show_customer(c, id);
}

const cli_command cmd_customer = {
	"customer", run, "show one customer's profile",
	"usage: patron customer ID|EMAIL|EXTERNAL-ID [--json]\n"
	"\n"
	"Shows a customer: identities, attributes, tags, consent per channel, orders\n"
	"(count, total spent, first and last, days since the last as of --now),\n"
	"feedback and the scores plugins wrote. The customer is found by Patron's id,\n"
	"an email address, the shop's or Stripe's customer id, or a phone number.\n",
};
