/* Shopify's exports: orders (one row per line item; the order's own columns
 * are filled on its first row), customers and products. Headers as Shopify
 * writes them today, with the names of older exports beside them. */
#include "../formats.h"
#include "../import.h"

static const patron_field_spec orders[] = {
	{F_ORDER_ID, "name", 1},
	{F_EMAIL, "email", 0},
	/* "Phone" is the order's; a point-of-sale order often has only the
	 * billing phone to say who bought. */
	{F_PHONE, "billing_phone phone", 0},
	{F_NAME, "billing_name shipping_name", 0},
	{F_CREATED_AT, "created_at", 1},
	{F_STATUS, "financial_status", 0},
	{F_QUANTITY, "lineitem_quantity", 1},
	{F_PRODUCT, "lineitem_name", 1},
	{F_PRICE, "lineitem_price", 1},
	{F_SKU, "lineitem_sku", 0},
	{F_TOTAL, "total", 0},
	{F_REFUNDED, "refunded_amount", 0},
	{F_CURRENCY, "currency", 0},
	{F_CANCELLED_AT, "cancelled_at", 0},
	{F_CONSENT, "accepts_email_marketing accepts_marketing", 0},
	{F_SMS_CONSENT, "accepts_sms_marketing", 0},
	{F_TAGS, "tags", 0},
	{F_COUNTRY, "billing_country shipping_country", 0},
	{F_REGION, "billing_province_name billing_province shipping_province_name", 0},
	{F_CITY, "billing_city shipping_city", 0},
	{F_POSTCODE, "billing_zip shipping_zip", 0},
	{F_COMPANY, "billing_company", 0},
	{F_SOURCE, "source", 0},
	PATRON_FIELDS_END,
};

/* Shopify's financial statuses beyond the common ones. */
static const patron_status_rule statuses[] = {
	{"partially_paid", 0, "partially_paid"},
	{"expired", 0, "expired"},
	{NULL, 0, NULL},
};

const patron_format shopify_orders = {
	.name = "shopify", .title = "the Shopify orders export", .kind = PATRON_IMPORT_ORDERS,
	.signature = "name created_at financial_status lineitem_quantity lineitem_name "
		     "lineitem_price",
	.fields = orders, .statuses = statuses, .id_kind = "shopify",
	.flags = PATRON_FORMAT_APOSTROPHE_NUMBERS,
};

static const patron_field_spec customers[] = {
	{F_CUSTOMER_ID, "customer_id", 0},
	{F_EMAIL, "email", 0},
	{F_PHONE, "phone default_address_phone", 0},
	{F_FIRST_NAME, "first_name", 0},
	{F_LAST_NAME, "last_name", 0},
	{F_CONSENT, "accepts_email_marketing accepts_marketing", 0},
	{F_SMS_CONSENT, "accepts_sms_marketing", 0},
	{F_TAGS, "tags", 0},
	{F_COUNTRY, "default_address_country_code country_code country", 0},
	{F_REGION, "default_address_province_code province_code province", 0},
	{F_CITY, "default_address_city city", 0},
	{F_POSTCODE, "default_address_zip zip", 0},
	{F_COMPANY, "default_address_company company", 0},
	PATRON_FIELDS_END,
};

const patron_format shopify_customers = {
	.name = "shopify", .title = "the Shopify customers export",
	.kind = PATRON_IMPORT_CUSTOMERS,
	.signature = "first_name last_name email accepts_email_marketing|accepts_marketing "
		     "total_spent total_orders",
	.fields = customers, .id_kind = "shopify",
	.flags = PATRON_FORMAT_APOSTROPHE_NUMBERS,
};

/* One row per variant; a product's later variants leave Title empty. */
static const patron_field_spec products[] = {
	{F_SKU, "variant_sku handle", 1},
	{F_NAME, "title", 0},
	{F_CATEGORY, "type product_category", 0},
	{F_PRICE, "variant_price", 0},
	PATRON_FIELDS_END,
};

const patron_format shopify_products = {
	.name = "shopify", .title = "the Shopify products export", .kind = PATRON_IMPORT_PRODUCTS,
	.signature = "handle title variant_sku variant_price",
	.fields = products,
};
