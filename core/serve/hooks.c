/* Shops' webhooks as their exports' rows. See hooks.h. */
#include "hooks.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../csv.h"
#include "../value.h"

void patron_hmac_sha256(const void *key, size_t klen, const void *msg, size_t len,
			unsigned char out[32])
{
	crypto_auth_hmacsha256_state st;
	crypto_auth_hmacsha256_init(&st, key, klen);
	crypto_auth_hmacsha256_update(&st, msg, len);
	crypto_auth_hmacsha256_final(&st, out);
	sodium_memzero(&st, sizeof st);
}

int patron_shopify_verify(const char *secret, const char *body, size_t len,
			  const char *header)
{
	if (!secret || !*secret || !header)
		return 0;
	unsigned char got[64], want[32];
	size_t n = 0;
	if (sodium_base642bin(got, sizeof got, header, strlen(header), " ", &n, NULL,
			      sodium_base64_VARIANT_ORIGINAL) != 0 || n != 32)
		return 0;
	patron_hmac_sha256(secret, strlen(secret), body, len, want);
	return sodium_memcmp(got, want, 32) == 0;
}

int patron_stripe_verify(const char *secret, const char *body, size_t len,
			 const char *header, int64_t now, int64_t tolerance, int64_t *t,
			 patron_err *why)
{
	*t = 0;
	if (!secret || !*secret)
		return patron_err_set(why, "no stripe secret in patron.conf"), 0;
	if (!header || !*header)
		return patron_err_set(why, "no Stripe-Signature header"), 0;
	int64_t ts = -1;
	int have_v1 = 0;
	for (const char *p = header; *p;) {
		size_t n = strcspn(p, ",");
		char num[24];
		int64_t x;
		if (n > 2 && n - 2 < sizeof num && memcmp(p, "t=", 2) == 0) {
			memcpy(num, p + 2, n - 2);
			num[n - 2] = '\0';
			if (patron_parse_int(num, &x) == 0 && x > 0)
				ts = x;
		} else if (n > 3 && memcmp(p, "v1=", 3) == 0) {
			have_v1 = 1;
		}
		p += n;
		if (*p == ',')
			p++;
	}
	if (ts < 0)
		return patron_err_set(why, "Stripe-Signature: no timestamp (t=)"), 0;
	if (!have_v1)
		return patron_err_set(why, "Stripe-Signature: no v1 signature"), 0;
	*t = ts;
	/* The signed text is "T.BODY". */
	char prefix[32];
	int pl = snprintf(prefix, sizeof prefix, "%lld.", (long long)ts);
	crypto_auth_hmacsha256_state st;
	unsigned char want[32];
	crypto_auth_hmacsha256_init(&st, (const unsigned char *)secret, strlen(secret));
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)prefix, (size_t)pl);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)body, len);
	crypto_auth_hmacsha256_final(&st, want);
	int match = 0;
	for (const char *p = header; *p;) {
		size_t n = strcspn(p, ",");
		unsigned char sig[32];
		size_t got = 0;
		if (n == 67 && memcmp(p, "v1=", 3) == 0 &&
		    sodium_hex2bin(sig, sizeof sig, p + 3, 64, NULL, &got, NULL) == 0 && got == 32 &&
		    sodium_memcmp(sig, want, 32) == 0)
			match = 1;
		p += n;
		if (*p == ',')
			p++;
	}
	if (!match)
		return patron_err_set(why, "Stripe-Signature: the signature does not match"), 0;
	if (ts < now - tolerance || ts > now + tolerance)
		return patron_err_set(why, "Stripe-Signature: signed at %lld, more than %llds from "
				      "now: refused as a replay", (long long)ts,
				      (long long)tolerance), 0;
	return 1;
}

/* ---- rows ---- */

/* A member as text: strings as they are, numbers written out, booleans as
 * yes/no; NULL for null or absent. BUF holds 32 bytes. */
static const char *text(json_t *o, const char *key, char *buf)
{
	json_t *v = o ? json_object_get(o, key) : NULL;
	if (json_is_string(v))
		return json_string_value(v);
	if (json_is_integer(v)) {
		snprintf(buf, 32, "%lld", (long long)json_integer_value(v));
		return buf;
	}
	if (json_is_real(v)) {
		snprintf(buf, 32, "%.17g", json_real_value(v));
		return buf;
	}
	if (json_is_boolean(v))
		return json_is_true(v) ? "yes" : "no";
	return NULL;
}

/* OBJ.KEY must be an object (or absent/null: NULL). */
static int member_object(json_t *obj, const char *key, json_t **out, const char *where,
			 patron_err *err)
{
	json_t *v = json_object_get(obj, key);
	*out = json_is_object(v) ? v : NULL;
	if (v && !json_is_null(v) && !json_is_object(v))
		return patron_err_set(err, "%s%s: expected an object", where, key);
	return 0;
}

int patron_shopify_refund_amount(json_t *refund, int64_t *minor, patron_err *err)
{
	*minor = 0;
	json_t *tx = json_object_get(refund, "transactions");
	if (tx && !json_is_array(tx))
		return patron_err_set(err, "transactions: expected a list");
	size_t i;
	json_t *t;
	json_array_foreach(tx, i, t) {
		char b1[32], b2[32], b3[32];
		const char *kind = text(t, "kind", b1), *status = text(t, "status", b2);
		if (!kind || strcmp(kind, "refund") != 0 || (status && strcmp(status, "success") != 0))
			continue;
		const char *amount = text(t, "amount", b3);
		int64_t c;
		if (!amount || patron_parse_money(amount, &c) < 0)
			return patron_err_set(err, "transactions[%zu].amount: expected an amount "
					      "like \"12.50\", got %s%s%s", i, amount ? "\"" : "",
					      amount ? amount : "nothing", amount ? "\"" : "");
		*minor += c;
	}
	return 0;
}

int patron_shopify_order_csv(json_t *order, patron_buf *csv, patron_err *err)
{
	static const char *const head[] = {
		"Name", "Email", "Phone", "Billing Name", "Billing Phone", "Created at",
		"Financial Status", "Lineitem quantity", "Lineitem name", "Lineitem price",
		"Lineitem sku", "Total", "Refunded Amount", "Currency", "Cancelled at",
		"Accepts Email Marketing", "Tags", "Billing Country", "Billing Province Name",
		"Billing City", "Billing Zip", "Billing Company", "Source"};
	enum { N = sizeof head / sizeof *head };
	if (!json_is_object(order))
		return patron_err_set(err, "the body: expected an order object");
	char b[18][32];
	const char *name = text(order, "name", b[0]);
	if (!name || !*name)
		return patron_err_set(err, "name: expected the order's name, like \"#1001\"");
	const char *created = text(order, "created_at", b[1]);
	if (!created || !*created)
		return patron_err_set(err, "created_at: expected the order's date");
	json_t *cust, *bill, *consent = NULL;
	if (member_object(order, "customer", &cust, "", err) < 0 ||
	    member_object(order, "billing_address", &bill, "", err) < 0 ||
	    (cust && member_object(cust, "email_marketing_consent", &consent, "customer.",
				   err) < 0))
		return -1;
	const char *email = text(order, "email", b[2]);
	if (!email || !*email)
		email = text(order, "contact_email", b[2]);
	if ((!email || !*email) && cust)
		email = text(cust, "email", b[2]);
	const char *phone = text(order, "phone", b[3]);
	if ((!phone || !*phone) && cust)
		phone = text(cust, "phone", b[3]);
	/* The customer's consent as Shopify keeps it today, else the order's
	 * checkbox. */
	const char *accepts = NULL;
	const char *state = consent ? text(consent, "state", b[4]) : NULL;
	if (state)
		accepts = strcmp(state, "subscribed") == 0 ? "yes" : "no";
	else
		accepts = text(order, "buyer_accepts_marketing", b[4]);
	int64_t refunded = 0;
	json_t *refunds = json_object_get(order, "refunds");
	if (refunds && !json_is_null(refunds) && !json_is_array(refunds))
		return patron_err_set(err, "refunds: expected a list");
	size_t i;
	json_t *r;
	json_array_foreach(refunds, i, r) {
		int64_t one;
		patron_err why;
		if (patron_shopify_refund_amount(r, &one, &why) < 0)
			return patron_err_set(err, "refunds[%zu].%s", i, why.msg);
		refunded += one;
	}
	char refunded_text[32];
	patron_format_money(refunded, refunded_text);
	json_t *lines = json_object_get(order, "line_items");
	if (!json_is_array(lines) || !json_array_size(lines))
		return patron_err_set(err, "line_items: expected a list of at least one line");
	patron_csv_buf_row(csv, head, N);
	json_array_foreach(lines, i, r) {
		if (!json_is_object(r))
			return patron_err_set(err, "line_items[%zu]: expected an object", i);
		char lb[4][32];
		const char *lname = text(r, "name", lb[0]);
		if (!lname || !*lname)
			lname = text(r, "title", lb[0]);
		const char *cells[N] = {
			name, i ? NULL : email, i ? NULL : phone,
			i ? NULL : text(bill, "name", b[5]), i ? NULL : text(bill, "phone", b[6]),
			created, i ? NULL : text(order, "financial_status", b[7]),
			text(r, "quantity", lb[1]), lname, text(r, "price", lb[2]),
			text(r, "sku", lb[3]), i ? NULL : text(order, "total_price", b[8]),
			i ? NULL : refunded_text, i ? NULL : text(order, "currency", b[9]),
			i ? NULL : text(order, "cancelled_at", b[10]), i ? NULL : accepts,
			i ? NULL : text(order, "tags", b[11]),
			i ? NULL : text(bill, "country_code", b[12]),
			i ? NULL : text(bill, "province", b[13]), i ? NULL : text(bill, "city", b[14]),
			i ? NULL : text(bill, "zip", b[15]), i ? NULL : text(bill, "company", b[16]),
			i ? NULL : text(order, "source_name", b[17]),
		};
		patron_csv_buf_row(csv, cells, N);
	}
	return 0;
}

int patron_shopify_customer_csv(json_t *c, patron_buf *csv, patron_err *err)
{
	static const char *const head[] = {
		"Customer ID", "First Name", "Last Name", "Email", "Accepts Email Marketing",
		"Phone", "Tags", "Default Address Country Code", "Default Address Province Code",
		"Default Address City", "Default Address Zip", "Default Address Company",
		"Total Spent", "Total Orders"};
	enum { N = sizeof head / sizeof *head };
	if (!json_is_object(c))
		return patron_err_set(err, "the body: expected a customer object");
	char b[14][32];
	const char *id = text(c, "id", b[0]);
	if (!id || !*id)
		return patron_err_set(err, "id: expected the customer's id");
	json_t *addr, *consent;
	if (member_object(c, "default_address", &addr, "", err) < 0 ||
	    member_object(c, "email_marketing_consent", &consent, "", err) < 0)
		return -1;
	const char *state = consent ? text(consent, "state", b[1]) : NULL;
	const char *accepts = state ? (strcmp(state, "subscribed") == 0 ? "yes" : "no")
				    : text(c, "accepts_marketing", b[1]);
	const char *cells[N] = {
		id, text(c, "first_name", b[2]), text(c, "last_name", b[3]), text(c, "email", b[4]),
		accepts, text(c, "phone", b[5]), text(c, "tags", b[6]),
		text(addr, "country_code", b[7]), text(addr, "province_code", b[8]),
		text(addr, "city", b[9]), text(addr, "zip", b[10]), text(addr, "company", b[11]),
		text(c, "total_spent", b[12]), text(c, "orders_count", b[13]),
	};
	patron_csv_buf_row(csv, head, N);
	patron_csv_buf_row(csv, cells, N);
	return 0;
}

/* Stripe's amounts are in the currency's smallest unit: none below the
 * unit for these, thousandths for the next, hundredths for the rest. */
static int stripe_decimals(const char *currency)
{
	static const char zero[] = "bif clp djf gnf jpy kmf krw mga pyg rwf ugx vnd vuv xaf xof "
				   "xpf";
	static const char three[] = "bhd jod kwd omr tnd";
	char c[4] = "";
	for (int i = 0; i < 3 && currency && currency[i]; i++)
		c[i] = (char)(currency[i] | 0x20);
	if (strlen(c) != 3)
		return 2;
	return strstr(zero, c) ? 0 : strstr(three, c) ? 3 : 2;
}

/* An integer amount of the smallest unit, written in the unit. BUF 40 bytes. */
static const char *stripe_amount(json_t *o, const char *key, int decimals, char *buf,
				 patron_err *err)
{
	json_t *v = json_object_get(o, key);
	if (!v || json_is_null(v))
		return NULL;
	if (!json_is_integer(v)) {
		patron_err_set(err, "%s: expected a whole number of the currency's smallest unit",
			       key);
		return "";
	}
	long long a = json_integer_value(v), unit = decimals == 0 ? 1 : decimals == 3 ? 1000 : 100;
	const char *sign = a < 0 ? "-" : "";
	unsigned long long u = a < 0 ? 0ULL - (unsigned long long)a : (unsigned long long)a;
	if (decimals == 0)
		snprintf(buf, 40, "%s%llu", sign, u);
	else
		snprintf(buf, 40, "%s%llu.%0*llu", sign, u / (unsigned long long)unit, decimals,
			 u % (unsigned long long)unit);
	return buf;
}

int patron_stripe_charge_csv(json_t *ch, patron_buf *csv, patron_err *err)
{
	static const char *const head[] = {
		"id", "Created date (UTC)", "Amount", "Amount Refunded", "Currency", "Status",
		"Customer ID", "Customer Email", "Customer Phone", "Customer Name",
		"Card Address Country", "Card Address City", "Card Address Zip"};
	enum { N = sizeof head / sizeof *head };
	if (!json_is_object(ch))
		return patron_err_set(err, "data.object: expected a charge");
	char b[10][32], amount[40], refunded[40], when[32];
	const char *id = text(ch, "id", b[0]);
	if (!id || !*id)
		return patron_err_set(err, "data.object.id: expected the charge's id");
	json_t *created = json_object_get(ch, "created");
	if (!json_is_integer(created) || json_integer_value(created) <= 0)
		return patron_err_set(err, "data.object.created: expected Unix seconds");
	patron_format_date(json_integer_value(created), when);
	if (!strchr(when, ' '))
		strcat(when, " 00:00:00");
	const char *currency = text(ch, "currency", b[1]);
	if (!currency)
		return patron_err_set(err, "data.object.currency: expected a currency code");
	int dec = stripe_decimals(currency);
	patron_err why = {0};
	const char *a = stripe_amount(ch, "amount", dec, amount, &why);
	const char *r = stripe_amount(ch, "amount_refunded", dec, refunded, &why);
	if (why.msg[0])
		return patron_err_set(err, "data.object.%s", why.msg);
	if (!a)
		return patron_err_set(err, "data.object.amount: expected the amount charged");
	json_t *bill, *addr = NULL;
	if (member_object(ch, "billing_details", &bill, "data.object.", err) < 0 ||
	    (bill && member_object(bill, "address", &addr, "data.object.billing_details.",
				   err) < 0))
		return -1;
	/* The payments export's words for a charge's state. */
	const char *status = text(ch, "status", b[2]);
	if (!status)
		return patron_err_set(err, "data.object.status: expected the charge's status");
	if (strcmp(status, "succeeded") == 0)
		status = json_is_true(json_object_get(ch, "refunded")) ? "Refunded" : "Paid";
	const char *email = text(bill, "email", b[3]);
	if (!email || !*email)
		email = text(ch, "receipt_email", b[3]);
	const char *cells[N] = {
		id, when, a, r, currency, status, text(ch, "customer", b[4]), email,
		text(bill, "phone", b[5]), text(bill, "name", b[6]), text(addr, "country", b[7]),
		text(addr, "city", b[8]), text(addr, "postal_code", b[9]),
	};
	patron_csv_buf_row(csv, head, N);
	patron_csv_buf_row(csv, cells, N);
	return 0;
}

int patron_stripe_customer_csv(json_t *c, patron_buf *csv, patron_err *err)
{
	static const char *const head[] = {"id", "Description", "Email", "Name",
					   "Created (UTC)", "Phone"};
	enum { N = sizeof head / sizeof *head };
	if (!json_is_object(c))
		return patron_err_set(err, "data.object: expected a customer");
	char b[6][32], when[32] = "";
	const char *id = text(c, "id", b[0]);
	if (!id || !*id)
		return patron_err_set(err, "data.object.id: expected the customer's id");
	json_t *created = json_object_get(c, "created");
	if (json_is_integer(created) && json_integer_value(created) > 0) {
		patron_format_date(json_integer_value(created), when);
		if (!strchr(when, ' '))
			strcat(when, " 00:00:00");
	}
	const char *cells[N] = {id, text(c, "description", b[1]), text(c, "email", b[2]),
				text(c, "name", b[3]), when[0] ? when : NULL, text(c, "phone", b[4])};
	patron_csv_buf_row(csv, head, N);
	patron_csv_buf_row(csv, cells, N);
	return 0;
}
