/* Stripe's payments export: one row per payment, no line items. Today's
 * dashboard writes "Created date (UTC)"; older exports "Created (UTC)". */
#include "../formats.h"
#include "../import.h"

static const patron_field_spec payments[] = {
	{F_ORDER_ID, "id", 1},
	{F_CREATED_AT, "created_date_utc created_utc created", 1},
	{F_TOTAL, "amount", 1},
	{F_REFUNDED, "amount_refunded", 0},
	{F_CURRENCY, "currency", 0},
	/* In the account's own currency: what Stripe's dashboard sums. */
	{F_CONVERTED_TOTAL, "converted_amount", 0},
	{F_CONVERTED_REFUNDED, "converted_amount_refunded", 0},
	{F_CONVERTED_CURRENCY, "converted_currency", 0},
	{F_STATUS, "status", 1},
	{F_CUSTOMER_ID, "customer_id", 0},
	{F_EMAIL, "customer_email", 0},
	{F_PHONE, "customer_phone", 0},
	/* The customer's description is the name the shop gave the customer. */
	{F_NAME, "customer_name customer_description", 0},
	{F_DISPUTED, "disputed_amount", 0},
	{F_DISPUTE_STATUS, "dispute_status", 0},
	{F_COUNTRY, "card_address_country", 0},
	{F_CITY, "card_address_city", 0},
	{F_POSTCODE, "card_address_zip", 0},
	PATRON_FIELDS_END,
};

/* The payments list's states, as the export writes them ("Paid"). */
static const patron_status_rule statuses[] = {
	{"uncaptured", 0, "authorized"},
	{"incomplete", 0, "pending"},
	{"requires_payment_method", 0, "pending"},
	{"blocked", 0, "failed"},
	{"disputed", 1, "disputed"},
	{NULL, 0, NULL},
};

const patron_format stripe_payments = {
	.name = "stripe", .title = "the Stripe payments export", .kind = PATRON_IMPORT_ORDERS,
	.signature = "id created_date_utc|created_utc amount currency status",
	.fields = payments, .statuses = statuses, .id_kind = "stripe",
	.flags = PATRON_FORMAT_STATUS_REQUIRED,
};

/* Stripe's customers export: "id", "Description", "Email", "Name",
 * "Created (UTC)", and many card and address columns. */
static const patron_field_spec customers[] = {
	{F_CUSTOMER_ID, "id", 1},
	{F_EMAIL, "email", 0},
	{F_NAME, "name description", 0},
	{F_PHONE, "phone", 0},
	{F_CREATED_AT, "created_utc created_date_utc created", 0},
	PATRON_FIELDS_END,
};

const patron_format stripe_customers = {
	.name = "stripe", .title = "the Stripe customers export", .kind = PATRON_IMPORT_CUSTOMERS,
	.signature = "id description email name created_utc|created_date_utc",
	.fields = customers, .id_kind = "stripe",
};
