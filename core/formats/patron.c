/* Patron's own columns, with the common names other tools give them: the
 * format of a file no export format recognises. */
#include "../formats.h"
#include "../import.h"

static const patron_field_spec customers[] = {
	{F_CUSTOMER_ID, "customer_id id customer", 0},
	{F_EMAIL, "email e_mail email_address customer_email", 0},
	{F_PHONE, "phone phone_number mobile telephone", 0},
	{F_FIRST_NAME, "first_name firstname given_name", 0},
	{F_LAST_NAME, "last_name lastname surname family_name", 0},
	{F_NAME, "name full_name customer_name", 0},
	{F_CREATED_AT, "created_at signup_date signed_up_at signup_at joined_at customer_since", 0},
	{F_CONSENT, "accepts_email_marketing accepts_marketing marketing_consent email_consent "
		    "consent subscribed opt_in", 0},
	{F_SMS_CONSENT, "accepts_sms_marketing sms_consent sms_marketing_consent", 0},
	{F_TAGS, "tags", 0},
	PATRON_FIELDS_END,
};

const patron_format patron_format_customers = {
	.name = "patron", .title = "a customers file", .kind = PATRON_IMPORT_CUSTOMERS,
	.fields = customers, .id_kind = "id",
};

static const patron_field_spec products[] = {
	{F_SKU, "sku variant_sku product_id id code handle", 1},
	{F_NAME, "name title product_name product", 0},
	{F_CATEGORY, "category product_type type product_category", 0},
	{F_PRICE, "price unit_price variant_price", 0},
	PATRON_FIELDS_END,
};

const patron_format patron_format_products = {
	.name = "patron", .title = "a products file", .kind = PATRON_IMPORT_PRODUCTS,
	.fields = products,
};

/* Money: a line's price and quantity, a line's amount, or the order's total;
 * a file without any of them is refused, never read as zero revenue. */
static const patron_field_spec orders[] = {
	{F_ORDER_ID, "order_id order order_number order_no invoice_id invoice invoice_no "
		     "invoice_number transaction_id", 0},
	{F_CUSTOMER_ID, "customer_id customer customer_no user_id", 0},
	{F_EMAIL, "email customer_email e_mail", 0},
	{F_PHONE, "phone customer_phone", 0},
	{F_NAME, "customer_name billing_name", 0},
	{F_CREATED_AT, "created_at date order_date placed_at ordered_at invoice_date "
		       "transaction_date purchase_date", 1},
	{F_SKU, "sku product_sku item_sku stock_code stockcode", 0},
	{F_PRODUCT, "product product_name item item_name title description", 0},
	{F_QUANTITY, "quantity qty", 0},
	{F_PRICE, "price unit_price item_price", 0},
	{F_AMOUNT, "amount line_total line_amount revenue value sales sales_amount", 0},
	{F_TOTAL, "total order_total total_amount grand_total", 0},
	{F_REFUNDED, "refunded refunded_amount amount_refunded", 0},
	{F_CURRENCY, "currency currency_code", 0},
	{F_STATUS, "status financial_status payment_status", 0},
	{F_CANCELLED_AT, "cancelled_at canceled_at", 0},
	{F_CONSENT, "accepts_marketing marketing_consent", 0},
	{F_COUNTRY, "country", 0},
	{F_CITY, "city", 0},
	PATRON_FIELDS_END,
};

const patron_format patron_format_orders = {
	.name = "patron", .title = "an orders file", .kind = PATRON_IMPORT_ORDERS,
	.fields = orders, .id_kind = "id",
};

static const patron_field_spec feedback[] = {
	{F_CUSTOMER_ID, "customer_id customer", 0},
	{F_EMAIL, "email customer_email", 0},
	{F_PHONE, "phone", 0},
	{F_CREATED_AT, "created_at date received_at submitted_at", 1},
	{F_RATING, "rating score stars", 0},
	{F_TEXT, "text feedback comment body message review", 1},
	PATRON_FIELDS_END,
};

const patron_format patron_format_feedback = {
	.name = "patron", .title = "a feedback file", .kind = PATRON_IMPORT_FEEDBACK,
	.fields = feedback,
};
