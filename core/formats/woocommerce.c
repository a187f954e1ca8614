/* WooCommerce's order export (Customer / Order CSV Export), in its one row
 * per item format: the order's columns repeat on each of its rows. The
 * legacy format's spaced headers ("Order ID", "Order Status") are beside
 * the default's. */
#include "../formats.h"
#include "../import.h"

static const patron_field_spec orders[] = {
	{F_ORDER_ID, "order_number order_id order_number_formatted", 1},
	{F_CREATED_AT, "order_date date", 1},
	{F_STATUS, "status order_status", 0},
	{F_TOTAL, "order_total", 0},
	{F_REFUNDED, "refunded_total order_refund", 0},
	{F_CURRENCY, "order_currency currency", 0},
	{F_CUSTOMER_ID, "customer_id customer_user", 0},
	{F_EMAIL, "billing_email", 0},
	{F_PHONE, "billing_phone", 0},
	{F_FIRST_NAME, "billing_first_name", 0},
	{F_LAST_NAME, "billing_last_name", 0},
	{F_NAME, "billing_full_name", 0},
	{F_SKU, "item_sku sku", 0},
	{F_PRODUCT, "item_name", 0},
	{F_QUANTITY, "item_quantity quantity", 0},
	{F_AMOUNT, "item_total", 0},
	{F_COUNTRY, "billing_country", 0},
	{F_REGION, "billing_state", 0},
	{F_CITY, "billing_city", 0},
	{F_POSTCODE, "billing_postcode", 0},
	{F_COMPANY, "billing_company", 0},
	PATRON_FIELDS_END,
};

/* WooCommerce's order states: processing is paid and not yet shipped. */
static const patron_status_rule statuses[] = {
	{"processing", 1, "paid"},
	{"wc_processing", 1, "paid"},
	{"wc_completed", 1, "paid"},
	{"on_hold", 0, "pending"},
	{"wc_on_hold", 0, "pending"},
	{"wc_pending", 0, "pending"},
	{"wc_cancelled", 0, "cancelled"},
	{"wc_refunded", 0, "refunded"},
	{"wc_failed", 0, "failed"},
	{"checkout_draft", 0, "pending"},
	{"draft", 0, "pending"},
	{NULL, 0, NULL},
};

const patron_format woocommerce_orders = {
	.name = "woocommerce", .title = "the WooCommerce orders export",
	.kind = PATRON_IMPORT_ORDERS,
	.signature = "order_id|order_number order_date|date status|order_status order_total "
		     "billing_email",
	.fields = orders, .statuses = statuses, .id_kind = "woocommerce",
	.flags = PATRON_FORMAT_ZERO_ID_IS_GUEST,
};

/* WooCommerce's own Analytics > Orders download: one row per order, the
 * customer by name only (so every order is a guest's), "N. Revenue" the
 * order's net revenue as shown in the dashboard. */
static const patron_field_spec analytics[] = {
	{F_ORDER_ID, "order order_number", 1},
	{F_CREATED_AT, "date", 1},
	{F_STATUS, "status", 0},
	{F_TOTAL, "n_revenue_formatted n_revenue net_sales", 1},
	PATRON_FIELDS_END,
};

const patron_format woocommerce_analytics = {
	.name = "woocommerce-analytics", .title = "the WooCommerce Analytics orders download",
	.kind = PATRON_IMPORT_ORDERS,
	.signature = "date order status customer_type n_revenue_formatted|net_sales",
	.fields = analytics, .statuses = statuses,
};
