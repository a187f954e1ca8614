/* Webhook bodies: any bytes, read as a Shopify order or customer and a
 * Stripe charge or customer, either give one clear error or rows that land
 * through the import whole (or are refused whole, the store as before). */
#include <jansson.h>

#include "../../core/import.h"
#include "../../core/serve/hooks.h"
#include "common.h"

static int64_t count(patron_store *s)
{
	sqlite3_stmt *q;
	sqlite3_prepare_v2(patron_store_db(s), "SELECT (SELECT count(*) FROM orders) +"
			   " (SELECT count(*) FROM order_lines) + (SELECT count(*) FROM customers)"
			   " + (SELECT count(*) FROM events)", -1, &q, NULL);
	sqlite3_step(q);
	int64_t n = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static patron_store *s;
	patron_err err;
	if (!s && patron_store_open(":memory:", &s, &err) < 0)
		abort();
	json_t *j = json_loadb((const char *)data, size, 0, NULL);
	if (!j)
		return 0;
	int (*const map[])(json_t *, patron_buf *, patron_err *) = {
		patron_shopify_order_csv, patron_shopify_customer_csv, patron_stripe_charge_csv,
		patron_stripe_customer_csv};
	const int kind[] = {PATRON_IMPORT_ORDERS, PATRON_IMPORT_CUSTOMERS, PATRON_IMPORT_ORDERS,
			    PATRON_IMPORT_CUSTOMERS};
	const char *format[] = {"shopify", "shopify", "stripe", "stripe"};
	for (int i = 0; i < 4; i++) {
		patron_buf csv = {0};
		if (map[i](j, &csv, &err) == 0) {
			patron_import_opts o = {.kind = kind[i], .format = format[i],
						.currency = "USD", .now = 1790000000};
			patron_import_stats st;
			patron_store_exec(s, "BEGIN", &err);
			int64_t before = count(s);
			int rc = patron_import_mem(s, "hook", csv.data, csv.len, &o, &st, &err);
			if (rc < 0 && count(s) != before)
				abort();	/* a refused body left something behind */
			patron_store_exec(s, "ROLLBACK", &err);
		}
		patron_buf_free(&csv);
	}
	int64_t refund;
	patron_shopify_refund_amount(j, &refund, &err);
	json_decref(j);
	return 0;
}
