/* patron customer ID|EMAIL: one customer's profile. */
#include <stdio.h>
#include <string.h>

#include "../profile.h"
#include "../value.h"
#include "cli.h"

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
	json_t *churn = NULL, *reasons = NULL;
	json_array_foreach(json_object_get(p, "scores"), i, v) {
		if (strcmp(str(v, "name"), "churn") == 0)
			churn = v;
		else if (strcmp(str(v, "name"), "churn_reasons") == 0)
			reasons = v;
	}
	if (churn && json_is_number(json_object_get(churn, "value"))) {
		printf("  churn risk  %.0f%% (%s)", 100 * json_number_value(json_object_get(churn,
		       "value")), str(churn, "model"));
		if (reasons && *str(reasons, "label"))
			printf(", mostly: %s", str(reasons, "label"));
		printf("\n");
	}
	json_t *recs = json_object_get(p, "recommendations");
	if (json_array_size(recs)) {
		printf("  recommended");
		json_array_foreach(recs, i, v) {
			if (i == 5) {
				printf(", ... (patron recommend)");
				break;
			}
			printf("%s %s", i ? "," : "", *str(v, "name") ? str(v, "name") : str(v, "sku"));
		}
		printf("\n");
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
	json_t *p = patron_customer_profile(c->store, id, c->now);
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
