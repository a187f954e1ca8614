/* patron serve's pure parts: webhook signatures against values computed
 * with Python's hmac module (and RFC 4231's HMAC-SHA256 case 2), payloads
 * written as the exports' rows, and tracking tokens that refuse any
 * change. */
#include <string.h>

#include "helpers.h"
#include "serve/hooks.h"
#include "serve/tokens.h"

START_TEST(hmac_sha256_gives_rfc_4231s_answer)
{
	unsigned char mac[32];
	char hex[65];
	const char *data = "what do ya want for nothing?";
	patron_hmac_sha256("Jefe", 4, data, strlen(data), mac);
	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", mac[i]);
	ck_assert_str_eq(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}
END_TEST

START_TEST(shopify_signatures_are_checked_on_the_raw_body)
{
	const char *body = "{\"id\":1}";
	const char *sig = "xocA3LkeJ/RvNrkxep1EUtFHuj7rIoIqZYaLU26LyPQ=";
	ck_assert_int_eq(patron_shopify_verify("shpss_secret", body, strlen(body), sig), 1);
	ck_assert_int_eq(patron_shopify_verify("shpss_secret", "{\"id\":2}", 8, sig), 0);
	ck_assert_int_eq(patron_shopify_verify("other", body, strlen(body), sig), 0);
	ck_assert_int_eq(patron_shopify_verify("shpss_secret", body, strlen(body), NULL), 0);
	ck_assert_int_eq(patron_shopify_verify("shpss_secret", body, strlen(body), "eA=="), 0);
	ck_assert_int_eq(patron_shopify_verify(NULL, body, strlen(body), sig), 0);
	ck_assert_int_eq(patron_shopify_verify("", body, strlen(body), sig), 0);
}
END_TEST

START_TEST(stripe_signatures_are_timestamped)
{
	const char *body = "{\"id\":\"evt_1\"}";
	const char *good = "366e40c480fe3a9e6a03609dca079cea86d77ae82d5a56b5348208247317a8d1";
	char h[256];
	int64_t t;
	patron_err why;
	snprintf(h, sizeof h, "t=1700000000,v1=%s,v0=6ffbb59b2300aae63f272406069a9788598b792a944a07aba816edb039989a39", good);
	ck_assert_int_eq(patron_stripe_verify("whsec_x", body, strlen(body), h, 1700000010, 300,
					      &t, &why), 1);
	ck_assert_int_eq(t, 1700000000);
	/* a second v1 (a secret being rolled) may be the right one */
	snprintf(h, sizeof h, "t=1700000000,v1=%064d,v1=%s", 0, good);
	ck_assert_int_eq(patron_stripe_verify("whsec_x", body, strlen(body), h, 1700000000, 300,
					      &t, &why), 1);
	/* replayed later than the tolerance */
	snprintf(h, sizeof h, "t=1700000000,v1=%s", good);
	ck_assert_int_eq(patron_stripe_verify("whsec_x", body, strlen(body), h, 1700000301, 300,
					      &t, &why), 0);
	ck_assert_ptr_nonnull(strstr(why.msg, "refused as a replay"));
	/* another timestamp, body or secret */
	snprintf(h, sizeof h, "t=1700000001,v1=%s", good);
	ck_assert_int_eq(patron_stripe_verify("whsec_x", body, strlen(body), h, 1700000000, 300,
					      &t, &why), 0);
	snprintf(h, sizeof h, "t=1700000000,v1=%s", good);
	ck_assert_int_eq(patron_stripe_verify("whsec_y", body, strlen(body), h, 1700000000, 300,
					      &t, &why), 0);
	ck_assert_int_eq(patron_stripe_verify("whsec_x", "{}", 2, h, 1700000000, 300, &t, &why), 0);
	static const char *const broken[] = {"", "t=1700000000", "v1=abc", "t=x,v1=00",
					     "t=-5,v1=00", ",,,", "t=1700000000,v0=00", NULL};
	for (int i = 0; broken[i]; i++)
		ck_assert_msg(patron_stripe_verify("whsec_x", body, strlen(body), broken[i],
						   1700000000, 300, &t, &why) == 0, "%s", broken[i]);
}
END_TEST

START_TEST(a_shopify_order_is_its_exports_rows)
{
	json_t *o = json_loads(
		"{\"name\": \"#1001\", \"email\": \"ada@example.com\", \"created_at\":"
		" \"2026-11-20T10:30:00-05:00\", \"financial_status\": \"partially_refunded\","
		" \"total_price\": \"59.98\", \"currency\": \"USD\", \"cancelled_at\": null,"
		" \"buyer_accepts_marketing\": false, \"tags\": \"a, \\\"b\\\"\","
		" \"customer\": {\"email_marketing_consent\": {\"state\": \"subscribed\"}},"
		" \"billing_address\": {\"name\": \"Ada L\", \"country_code\": \"GB\"},"
		" \"refunds\": [{\"transactions\": [{\"kind\": \"refund\", \"status\": \"success\","
		" \"amount\": \"10.50\"}, {\"kind\": \"refund\", \"status\": \"failure\", \"amount\":"
		" \"9.00\"}, {\"kind\": \"sale\", \"status\": \"success\", \"amount\": \"59.98\"}]},"
		" {\"transactions\": [{\"kind\": \"refund\", \"amount\": \"1.00\"}]}],"
		" \"line_items\": [{\"name\": \"Beans, 250g\", \"quantity\": 2, \"price\": \"18.00\","
		" \"sku\": \"B-250\"}, {\"title\": \"Filters\", \"quantity\": 1, \"price\": \"23.98\"}]}",
		0, NULL);
	ck_assert_ptr_nonnull(o);
	patron_buf b = {0};
	patron_err err;
	ck_assert_int_eq(patron_shopify_order_csv(o, &b, &err), 0);
	patron_buf_add(&b, "", 1);
	const char *want =
		"\"Name\",\"Email\",\"Phone\",\"Billing Name\",\"Billing Phone\",\"Created at\","
		"\"Financial Status\",\"Lineitem quantity\",\"Lineitem name\",\"Lineitem price\","
		"\"Lineitem sku\",\"Total\",\"Refunded Amount\",\"Currency\",\"Cancelled at\","
		"\"Accepts Email Marketing\",\"Tags\",\"Billing Country\",\"Billing Province Name\","
		"\"Billing City\",\"Billing Zip\",\"Billing Company\",\"Source\"\r\n"
		"\"#1001\",\"ada@example.com\",\"\",\"Ada L\",\"\",\"2026-11-20T10:30:00-05:00\","
		"\"partially_refunded\",\"2\",\"Beans, 250g\",\"18.00\",\"B-250\",\"59.98\",\"11.50\","
		"\"USD\",\"\",\"yes\",\"a, \"\"b\"\"\",\"GB\",\"\",\"\",\"\",\"\",\"\"\r\n"
		"\"#1001\",\"\",\"\",\"\",\"\",\"2026-11-20T10:30:00-05:00\",\"\",\"1\",\"Filters\","
		"\"23.98\",\"\",\"\",\"\",\"\",\"\",\"\",\"\",\"\",\"\",\"\",\"\",\"\",\"\"\r\n";
	ck_assert_str_eq(b.data, want);
	patron_buf_free(&b);
	/* what the export always has, missing: the field is named */
	json_object_del(o, "line_items");
	b = (patron_buf){0};
	ck_assert_int_eq(patron_shopify_order_csv(o, &b, &err), -1);
	ck_assert_str_eq(err.msg, "line_items: expected a list of at least one line");
	json_object_set_new(o, "refunds", json_string("x"));
	ck_assert_int_eq(patron_shopify_order_csv(o, &b, &err), -1);
	ck_assert_str_eq(err.msg, "refunds: expected a list");
	patron_buf_free(&b);
	json_decref(o);
}
END_TEST

/* The Amount column Stripe's export would write for AMOUNT in CURRENCY. */
static const char *stripe_amount_of(long long amount, const char *currency, char *out)
{
	json_t *c = json_pack("{s:s, s:I, s:I, s:s, s:s}", "id", "ch_1", "amount",
			      (json_int_t)amount, "created", (json_int_t)1795000000, "currency",
			      currency, "status", "succeeded");
	patron_buf b = {0};
	patron_err err;
	ck_assert_int_eq(patron_stripe_charge_csv(c, &b, &err), 0);
	patron_buf_add(&b, "", 1);
	/* the second line's third cell */
	const char *row = strstr(b.data, "\r\n") + 2;
	const char *cell = row;
	for (int i = 0; i < 2; i++)
		cell = strstr(cell, "\",\"") + 3;
	snprintf(out, 64, "%.*s", (int)(strchr(cell, '"') - cell), cell);
	ck_assert_ptr_nonnull(strstr(row, "\"2026-11-18 11:06:40\""));
	ck_assert_ptr_nonnull(strstr(row, "\"Paid\""));
	patron_buf_free(&b);
	json_decref(c);
	return out;
}

START_TEST(stripe_amounts_are_in_the_currencys_smallest_unit)
{
	char out[64];
	ck_assert_str_eq(stripe_amount_of(4200, "usd", out), "42.00");
	ck_assert_str_eq(stripe_amount_of(5, "eur", out), "0.05");
	ck_assert_str_eq(stripe_amount_of(1000, "jpy", out), "1000");
	ck_assert_str_eq(stripe_amount_of(1000, "KRW", out), "1000");
	ck_assert_str_eq(stripe_amount_of(1234, "bhd", out), "1.234");
	ck_assert_str_eq(stripe_amount_of(-250, "usd", out), "-2.50");
	json_t *c = json_pack("{s:s, s:s, s:I, s:s, s:s}", "id", "ch_1", "amount", "12",
			      "created", (json_int_t)1, "currency", "usd", "status", "succeeded");
	patron_buf b = {0};
	patron_err err;
	ck_assert_int_eq(patron_stripe_charge_csv(c, &b, &err), -1);
	ck_assert_str_eq(err.msg, "data.object.amount: expected a whole number of the currency's "
			 "smallest unit");
	patron_buf_free(&b);
	json_decref(c);
}
END_TEST

static const unsigned char key[32] = "0123456789abcdef0123456789abcdef";

START_TEST(tracking_tokens_refuse_any_change)
{
	patron_buf t = {0};
	patron_track_token(key, 42, "https://shop.example/a?b=1&c=2", &t);
	patron_buf_add(&t, "", 1);
	int64_t id = 0;
	char url[PATRON_TRACK_URL_MAX + 1];
	ck_assert_int_eq(patron_track_check(key, t.data, 1, &id, url, sizeof url), 1);
	ck_assert_int_eq(id, 42);
	ck_assert_str_eq(url, "https://shop.example/a?b=1&c=2");
	/* a click token is no open token */
	ck_assert_int_eq(patron_track_check(key, t.data, 0, &id, url, sizeof url), 0);
	/* every character changed, one at a time */
	size_t n = strlen(t.data);
	for (size_t i = 0; i < n; i++) {
		char *copy = strdup(t.data);
		copy[i] = copy[i] == 'A' ? 'B' : 'A';
		ck_assert_msg(patron_track_check(key, copy, 1, &id, url, sizeof url) == 0,
			      "changed at %zu: %s", i, copy);
		free(copy);
	}
	/* another key */
	unsigned char other[32];
	memcpy(other, key, 32);
	other[0] ^= 1;
	ck_assert_int_eq(patron_track_check(other, t.data, 1, &id, url, sizeof url), 0);
	patron_buf_free(&t);
	t = (patron_buf){0};
	patron_track_token(key, 7, NULL, &t);
	patron_buf_add(&t, "", 1);
	ck_assert_int_eq(patron_track_check(key, t.data, 0, &id, url, sizeof url), 1);
	ck_assert_int_eq(id, 7);
	ck_assert_int_eq(patron_track_check(key, t.data, 1, &id, url, sizeof url), 0);
	char *zero = malloc(t.len + 2);
	snprintf(zero, t.len + 2, "0%s", t.data);
	ck_assert_int_eq(patron_track_check(key, zero, 0, &id, url, sizeof url), 0);
	free(zero);
	patron_buf_free(&t);
	static const char *const junk[] = {"", ".", "1.", "x.AAAAAAAAAAAAAAAAAAAAAA", "..",
					   "1..AAAAAAAAAAAAAAAAAAAAAA", NULL};
	for (int i = 0; junk[i]; i++) {
		ck_assert_int_eq(patron_track_check(key, junk[i], 0, &id, url, sizeof url), 0);
		ck_assert_int_eq(patron_track_check(key, junk[i], 1, &id, url, sizeof url), 0);
	}
}
END_TEST

START_TEST(emails_links_come_back_through_the_server)
{
	const char *html = "<p><a href=\"https://shop.example/x?a=1&amp;b=2\">x</a> "
			   "<a href='mailto:hi@shop.example'>mail</a> "
			   "<a HREF=\"https://s.example/u/9\">stop</a> "
			   "<a href=\"https://t.example/p/\">ours</a></p></body></html>";
	patron_buf out = {0};
	patron_track_html(key, "https://t.example/p/", 5, html, "https://s.example/u/9", &out);
	const char *s = out.data;
	ck_assert_ptr_nonnull(strstr(s, "href='mailto:hi@shop.example'"));
	ck_assert_ptr_nonnull(strstr(s, "HREF=\"https://s.example/u/9\""));
	ck_assert_ptr_nonnull(strstr(s, "href=\"https://t.example/p/\""));
	ck_assert_ptr_null(strstr(s, "shop.example/x"));
	const char *c = strstr(s, "href=\"https://t.example/p/t/c/");
	ck_assert_ptr_nonnull(c);
	c += strlen("href=\"https://t.example/p/t/c/");
	char token[600], url[PATRON_TRACK_URL_MAX + 1];
	snprintf(token, sizeof token, "%.*s", (int)(strchr(c, '"') - c), c);
	int64_t id;
	ck_assert_int_eq(patron_track_check(key, token, 1, &id, url, sizeof url), 1);
	ck_assert_int_eq(id, 5);
	ck_assert_str_eq(url, "https://shop.example/x?a=1&b=2");
	/* the pixel, before </body> */
	const char *px = strstr(s, "<img src=\"https://t.example/p/t/o/");
	ck_assert_ptr_nonnull(px);
	ck_assert(px < strstr(s, "</body>"));
	patron_buf_free(&out);
}
END_TEST

Suite *suite_serve(void)
{
	Suite *s = suite_create("serve");
	TCase *t = tcase_create("serve");
	tcase_add_test(t, hmac_sha256_gives_rfc_4231s_answer);
	tcase_add_test(t, shopify_signatures_are_checked_on_the_raw_body);
	tcase_add_test(t, stripe_signatures_are_timestamped);
	tcase_add_test(t, a_shopify_order_is_its_exports_rows);
	tcase_add_test(t, stripe_amounts_are_in_the_currencys_smallest_unit);
	tcase_add_test(t, tracking_tokens_refuse_any_change);
	tcase_add_test(t, emails_links_come_back_through_the_server);
	suite_add_tcase(s, t);
	return s;
}
