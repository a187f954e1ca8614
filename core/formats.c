#include "formats.h"

#include <stdio.h>
#include <string.h>

#include "import.h"

const char *const patron_field_names[PATRON_NFIELDS] = {
	"customer_id", "email", "phone", "first_name", "last_name", "name", "created_at",
	"consent", "sms_consent", "tags", "order_id", "sku", "product", "quantity", "price",
	"amount", "total", "refunded", "currency", "status", "cancelled_at",
	"converted_total", "converted_refunded", "converted_currency", "disputed",
	"dispute_status", "category", "rating", "text",
	"country", "region", "city", "postcode", "company", "source",
};

const char *patron_field_attribute(patron_field f)
{
	switch (f) {
	case F_COUNTRY: return "country";
	case F_REGION: return "region";
	case F_CITY: return "city";
	case F_POSTCODE: return "postcode";
	case F_COMPANY: return "company";
	case F_SOURCE: return "source";
	default: return NULL;
	}
}

/* Payment states every export shares. Only revenue = 1 is money the
 * customer spent; the rest are kept but not counted. */
const patron_status_rule patron_common_statuses[] = {
	{"paid", 1, "paid"},
	{"succeeded", 1, "paid"},
	{"complete", 1, "paid"},
	{"completed", 1, "paid"},
	{"fulfilled", 1, "paid"},
	{"captured", 1, "paid"},
	{"partially_refunded", 1, "partially_refunded"},
	{"pending", 0, "pending"},
	{"authorized", 0, "authorized"},
	{"unpaid", 0, "pending"},
	{"refunded", 0, "refunded"},
	{"voided", 0, "voided"},
	{"void", 0, "voided"},
	{"failed", 0, "failed"},
	{"declined", 0, "failed"},
	{"cancelled", 0, "cancelled"},
	{"canceled", 0, "cancelled"},
	{"expired", 0, "expired"},
	{NULL, 0, NULL},
};

extern const patron_format patron_format_customers, patron_format_products,
	patron_format_orders, patron_format_feedback;
extern const patron_format shopify_orders, shopify_customers, shopify_products,
	stripe_payments, stripe_customers, woocommerce_orders, woocommerce_analytics;

/* Detection tries these in order; the plain formats last, and never by
 * signature. */
const patron_format *const patron_formats[] = {
	&shopify_orders, &stripe_payments, &woocommerce_orders, &woocommerce_analytics,
	&shopify_customers, &shopify_products, &stripe_customers,
	&patron_format_customers, &patron_format_products, &patron_format_orders,
	&patron_format_feedback, NULL,
};

const patron_format *patron_format_find(int kind, const char *name)
{
	for (int i = 0; patron_formats[i]; i++)
		if (patron_formats[i]->kind == kind && strcmp(patron_formats[i]->name, name) == 0)
			return patron_formats[i];
	return NULL;
}

const patron_format *patron_format_plain(int kind)
{
	return patron_format_find(kind, "patron");
}

static int has_header(char *const *headers, size_t n, const char *name, size_t len)
{
	for (size_t i = 0; i < n; i++)
		if (strlen(headers[i]) == len && memcmp(headers[i], name, len) == 0)
			return 1;
	return 0;
}

int patron_format_match(const patron_format *f, char *const *headers, size_t n, int *total,
			char *missing, size_t cap)
{
	int have = 0;
	size_t used = 0;
	*total = 0;
	if (missing && cap)
		missing[0] = '\0';
	if (!f->signature)
		return 0;
	for (const char *p = f->signature; *p;) {
		size_t len = strcspn(p, " ");
		int found = 0;
		/* an entry: alternatives joined by '|' */
		for (const char *a = p; a < p + len && !found;) {
			size_t alen = strcspn(a, "| ");
			if (alen > (size_t)(p + len - a))
				alen = (size_t)(p + len - a);
			found = has_header(headers, n, a, alen);
			a += alen + 1;
		}
		(*total)++;
		if (found) {
			have++;
		} else if (missing && used + 8 < cap) {
			size_t first = strcspn(p, "| ");
			int w = snprintf(missing + used, cap - used, "%s%.*s", used ? ", " : "",
					 (int)first, p);
			used += w > 0 ? (size_t)w : 0;
			if (used >= cap)
				used = cap - 1;
		}
		p += len;
		while (*p == ' ')
			p++;
	}
	return have;
}
