/* patron import KIND FILE...: load CSV exports into the store. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../import.h"
#include "../config.h"
#include "../formats.h"
#include "../event_import.h"
#include "../csv.h"
#include "cli.h"

static json_t *stats_json(const char *path, patron_import_kind kind,
			  const patron_import_stats *st)
{
	json_t *j = json_pack("{s:s, s:I, s:I, s:I, s:I}", "file", path, "rows",
			      (json_int_t)st->rows, "rejected", (json_int_t)st->rejected,
			      "customers_new", (json_int_t)st->customers_new,
			      "customers_merged", (json_int_t)st->customers_merged);
	switch (kind) {
	case PATRON_IMPORT_CUSTOMERS:
		json_object_set_new(j, "customers_matched", json_integer((json_int_t)st->customers_matched));
		break;
	case PATRON_IMPORT_PRODUCTS:
		json_object_set_new(j, "products_new", json_integer((json_int_t)st->products_new));
		json_object_set_new(j, "products_updated", json_integer((json_int_t)st->products_updated));
		json_object_set_new(j, "products_unchanged", json_integer((json_int_t)st->products_present));
		break;
	case PATRON_IMPORT_ORDERS:
		json_object_set_new(j, "format", json_string(st->format));
		json_object_set_new(j, "orders_new", json_integer((json_int_t)st->orders_new));
		json_object_set_new(j, "orders_updated", json_integer((json_int_t)st->orders_updated));
		json_object_set_new(j, "orders_unchanged",
				    json_integer((json_int_t)st->orders_unchanged));
		json_object_set_new(j, "guest_orders", json_integer((json_int_t)st->orders_guest));
		json_object_set_new(j, "lines", json_integer((json_int_t)st->lines));
		json_object_set_new(j, "products_new", json_integer((json_int_t)st->products_new));
		if (st->base_currency_set[0])
			json_object_set_new(j, "base_currency_set", json_string(st->base_currency_set));
		json_object_set_new(j, "phones_unread", json_integer((json_int_t)st->phones_unread));
		break;
	case PATRON_IMPORT_FEEDBACK:
		json_object_set_new(j, "feedback_new", json_integer((json_int_t)st->feedback_new));
		json_object_set_new(j, "feedback_present", json_integer((json_int_t)st->feedback_present));
		break;
	}
	if (st->rejected)
		json_object_set_new(j, "rejected_file", json_string(st->rejected_path));
	return j;
}

void cli_import_summary(const char *path, int k, const void *stats)
{
	patron_import_kind kind = (patron_import_kind)k;
	const patron_import_stats *st = stats;
	printf("%s: %llu rows: ", path, (unsigned long long)st->rows);
	switch (kind) {
	case PATRON_IMPORT_CUSTOMERS:
		printf("%llu new customers, %llu matched existing ones",
		       (unsigned long long)st->customers_new,
		       (unsigned long long)st->customers_matched);
		break;
	case PATRON_IMPORT_PRODUCTS:
		printf("%llu new products, %llu updated, %llu unchanged",
		       (unsigned long long)st->products_new, (unsigned long long)st->products_updated,
		       (unsigned long long)st->products_present);
		break;
	case PATRON_IMPORT_ORDERS:
		printf("%s; %llu new orders (%llu lines), %llu updated, %llu unchanged",
		       st->format_title, (unsigned long long)st->orders_new,
		       (unsigned long long)st->lines, (unsigned long long)st->orders_updated,
		       (unsigned long long)st->orders_unchanged);
		if (st->orders_guest)
			printf(", %llu of them guest orders (no customer)",
			       (unsigned long long)st->orders_guest);
		printf("; %llu new customers, %llu new products",
		       (unsigned long long)st->customers_new, (unsigned long long)st->products_new);
		break;
	case PATRON_IMPORT_FEEDBACK:
		printf("%llu new feedback, %llu already in the store; %llu new customers",
		       (unsigned long long)st->feedback_new, (unsigned long long)st->feedback_present,
		       (unsigned long long)st->customers_new);
		break;
	}
	if (st->customers_merged)
		printf("; %llu customers merged", (unsigned long long)st->customers_merged);
	printf("; %llu rejected\n", (unsigned long long)st->rejected);
	if (st->rejected)
		printf("  the rejected rows, with their line numbers and reasons: %s\n",
		       st->rejected_path);
	if (st->phones_unread)
		printf("  %llu phone values that are not phone numbers were not used to recognise "
		       "the customer\n", (unsigned long long)st->phones_unread);
	if (st->base_currency_set[0])
		printf("  the shop's base currency is now %s, the most common in this file: every "
		       "figure is in it (set currency = \"...\" in patron.conf to choose another "
		       "before the first import)\n", st->base_currency_set);
}

/* patron import rates FILE...: exchange rates into the base currency. */
static int import_rates(cli *c, int argc, char **argv)
{
	if (argc < 3)
		return cli_usage(&cmd_import, "expected at least one rates file");
	patron_store *s = cli_store(c);
	char base[8];
	if (!s || cli_base_currency(c, s, base) < 0)
		return EXIT_FAIL;
	for (int i = 2; i < argc; i++) {
		int64_t n;
		patron_err err;
		if (argv[i][0] == '-')
			return cli_usage(&cmd_import, "rates take no options, got \"%s\"", argv[i]);
		if (patron_import_rates(s, argv[i], base, &n, &err) < 0)
			return cli_fail(EXIT_FAIL, "%s", err.msg);
		if (c->json)
			cli_print_json(json_pack("{s:s, s:I}", "file", argv[i], "rates", (json_int_t)n));
		else
			printf("%s: %lld rates into %s\n", argv[i], (long long)n,
			       *base ? base : "the base currency");
	}
	return EXIT_OK;
}

/* patron import events FILE...: CSV or JSON Lines onto the bus. */
static int import_events(cli *c, int argc, char **argv)
{
	if (argc < 3)
		return cli_usage(&cmd_import, "expected at least one events file");
	for (int i = 2; i < argc; i++)
		if (argv[i][0] == '-')
			return cli_usage(&cmd_import, "events take no options, got \"%s\"", argv[i]);
	if (!cli_store(c))
		return EXIT_FAIL;
	json_t *all = c->json ? json_array() : NULL;
	int rc = EXIT_OK;
	for (int i = 2; i < argc; i++) {
		int64_t n;
		patron_err err;
		if (patron_events_import(c->store, argv[i], c->now, &n, &err) < 0) {
			rc = cli_fail(EXIT_FAIL, "%s", err.msg);
			break;
		}
		if (all)
			json_array_append_new(all, json_pack("{s:s, s:I}", "file", argv[i], "events",
							     (json_int_t)n));
		else
			printf("%s: %lld events\n", argv[i], (long long)n);
	}
	if (all)
		cli_print_json(all);
	return rc;
}

static int run(cli *c, int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "events") == 0)
		return import_events(c, argc, argv);
	if (argc >= 2 && strcmp(argv[1], "rates") == 0)
		return import_rates(c, argc, argv);
	if (argc >= 2 && strcmp(argv[1], "inbox") == 0)
		return cli_import_inbox(c, argc, argv);
	patron_import_opts o = {.now = c->now, .progress = isatty(2)};
	const char *files[256];
	int nfiles = 0, have_kind = 0;
	for (int i = 1; i < argc; i++) {
		const char *v;
		int r;
		if ((r = cli_opt_value(argc, argv, &i, "--map", &v)) != 0) {
			if (r < 0)
				return cli_usage(&cmd_import, "--map needs field=Header,...");
			o.map = v;
		} else if ((r = cli_opt_value(argc, argv, &i, "--format", &v)) != 0) {
			if (r < 0)
				return cli_usage(&cmd_import, "--format: expected one of %s",
						 patron_import_format_names());
			o.format = v;
		} else if ((r = cli_opt_value(argc, argv, &i, "--encoding", &v)) != 0) {
			if (r < 0 || (strcmp(v, "utf8") && strcmp(v, "utf-8") && strcmp(v, "latin1") &&
				      strcmp(v, "iso-8859-1") && strcmp(v, "cp1252") &&
				      strcmp(v, "windows-1252")))
				return cli_usage(&cmd_import, "--encoding: expected utf8, latin1 or "
						 "cp1252");
			o.encoding = strcmp(v, "cp1252") == 0 || strcmp(v, "windows-1252") == 0
					     ? PATRON_ENCODING_CP1252
				     : strcmp(v, "latin1") == 0 || strcmp(v, "iso-8859-1") == 0
					     ? PATRON_ENCODING_LATIN1 : PATRON_ENCODING_UTF8;
		} else if ((r = cli_opt_value(argc, argv, &i, "--date-order", &v)) != 0) {
			if (r < 0 || (strcmp(v, "mdy") && strcmp(v, "dmy")))
				return cli_usage(&cmd_import, "--date-order: expected mdy or dmy");
			o.date_order = strcmp(v, "dmy") == 0 ? PATRON_DATE_DMY : PATRON_DATE_MDY;
		} else if (strcmp(argv[i], "--skip-bad") == 0) {
			o.skip_bad = 1;
		} else if ((r = cli_opt_value(argc, argv, &i, "--max-field-size", &v)) != 0) {
			char *end;
			unsigned long long n = r < 0 ? 0 : strtoull(v, &end, 10);
			int shift = r < 0 ? -1 : !*end ? 0 : strcmp(end, "K") == 0 ? 10
				    : strcmp(end, "M") == 0 ? 20 : -1;
			if (shift < 0 || n == 0 || n > (1ull << (30 - shift)))
				return cli_usage(&cmd_import, "--max-field-size: expected bytes, "
						 "or with K or M, at most 1G (e.g. 4M)");
			patron_csv_set_max_field((size_t)(n << shift));
		} else if (argv[i][0] == '-' && argv[i][1]) {
			return cli_usage(&cmd_import, "unknown option \"%s\"", argv[i]);
		} else if (!have_kind) {
			if (patron_import_kind_parse(argv[i], &o.kind) < 0)
				return cli_usage(&cmd_import, "expected customers, products, orders, "
						 "feedback or events, got \"%s\"", argv[i]);
			have_kind = 1;
		} else if (nfiles < 256) {
			files[nfiles++] = argv[i];
		} else {
			return cli_usage(&cmd_import, "at most 256 files at once");
		}
	}
	if (!have_kind || nfiles == 0)
		return cli_usage(&cmd_import, "expected what to import and at least one file");
	if (o.format && strcmp(o.format, "auto") != 0 && !patron_format_find((int)o.kind, o.format))
		return cli_usage(&cmd_import, "--format: there is no %s format \"%s\" (orders: %s)",
				 o.kind == PATRON_IMPORT_ORDERS ? "orders" : "such", o.format,
				 patron_import_format_names());
	patron_store *s = cli_store(c);
	patron_config *cfg = s ? cli_config(c) : NULL;
	if (!cfg)
		return EXIT_FAIL;
	o.currency = patron_config_top_string(cfg, "currency");
	/* Feedback is scored for sentiment as it lands, so the event that
	 * says it arrived carries it. */
	patron_plugins ps = {0};
	patron_analyzer *analyzer = NULL;
	if (o.kind == PATRON_IMPORT_FEEDBACK && cli_analyzer_open(c, cfg, "sentiment", NULL, &ps, &analyzer) < 0) {
		patron_plugins_free(&ps);
		patron_config_free(cfg);
		return EXIT_FAIL;
	}
	if (analyzer) {
		o.sentiment = cli_sentiment_one;
		o.sentiment_ctx = analyzer;
	}
	json_t *all = c->json ? json_array() : NULL;
	int rc = EXIT_OK;
	for (int f = 0; f < nfiles; f++) {
		patron_import_stats st;
		patron_err err;
		if (patron_import_file(s, files[f], &o, &st, &err) < 0) {
			/* One line; nothing of this file landed, and the files
			 * before it did (each is its own transaction). */
			rc = cli_fail(EXIT_FAIL, "%s", err.msg);
			break;
		}
		if (all)
			json_array_append_new(all, stats_json(files[f], o.kind, &st));
		else
			cli_import_summary(files[f], o.kind, &st);
	}
	if (all)
		cli_print_json(all);
	patron_analyzer_close(analyzer);
	patron_plugins_free(&ps);
	patron_config_free(cfg);
	return rc;
}

const cli_command cmd_import = {
	"import", run, "import customers, products, orders or feedback from CSV",
	"usage: patron import customers|products|orders|feedback FILE.csv... [options]\n"
	"       patron import events FILE.csv|FILE.jsonl...\n"
	"       patron import rates FILE.csv...\n"
	"       patron import inbox MAILDIR|MBOX|MESSAGE...\n"
	"       patron import inbox --imap imaps://HOST/INBOX [--user NAME]\n"
	"\n"
	"Loads CSV files (RFC 4180: quoted fields, embedded commas, quotes and newlines,\n"
	"CRLF, a UTF-8 byte-order mark) into the store. Each file is one transaction:\n"
	"it lands whole or not at all, and a killed import leaves the store as it was.\n"
	"Importing the same file again changes nothing; importing a later export\n"
	"updates the orders that changed (refunds, cancellations, edits) and says so\n"
	"with order.updated, order.refunded or order.cancelled events.\n"
	"\n"
	"Shops' exports are recognised by their headers, today's and older ones:\n"
	"Shopify's orders, customers and products exports, Stripe's payments export\n"
	"and WooCommerce's orders export. Other files are read by column names\n"
	"(case, spaces and punctuation ignored). Customers are recognised by email\n"
	"(trimmed, lower-cased), phone or customer id; a person named two ways in two\n"
	"files becomes one customer. Customer columns that are not fields become\n"
	"attributes, typed integer, real, date or text from all of the column's values.\n"
	"\n"
	"  customers  customer_id email phone first_name last_name name created_at\n"
	"             consent sms_consent (yes/no) tags (comma-separated)\n"
	"  products   sku name category price\n"
	"  orders     order_id customer_id email phone name created_at sku product\n"
	"             quantity price amount (or revenue, value, sales) total refunded\n"
	"             currency status cancelled_at consent tags country city source\n"
	"             (one row per line item; rows of one order share its order_id;\n"
	"             without an order_id each row is an order)\n"
	"  feedback   customer_id email phone created_at rating (1-5) text\n"
	"\n"
	"options:\n"
	"  --map FIELD=Header,...   take FIELD from the column named Header\n"
	"  --format F               orders: auto (default: by the headers), patron,\n"
	"                           shopify, stripe, woocommerce or woocommerce-analytics\n"
	"  --skip-bad               land the good rows; write the bad ones with their line\n"
	"                           numbers and reasons to FILE.rejected.csv\n"
	"  --date-order mdy|dmy     how to read 03/04/2024 (default mdy); ISO dates\n"
	"                           (2024-04-03) are always understood\n"
	"  --encoding E             utf8 (the default: other bytes are refused, naming\n"
	"                           the line, column and byte), latin1 or cp1252\n"
	"  --max-field-size N       the most a field may hold (default 1M; K and M\n"
	"                           suffixes): a longer one is refused with its line\n"
	"\n"
	"Money is read as exact cents (12.34, $1,234.50). An order's revenue is what\n"
	"was paid minus refunds; cancelled, voided, failed and pending orders and\n"
	"charges under an open dispute are kept but not counted. An order without a\n"
	"customer (a guest's) counts in the shop's figures and belongs to no one.\n"
	"\n"
	"Currencies: every figure is in the shop's base currency: currency = \"EUR\"\n"
	"in patron.conf, else the most common currency of the first orders file. An\n"
	"order in another currency is converted by the export's own converted amount\n"
	"(Stripe's Converted Amount), else by the rate of its day or the nearest\n"
	"earlier one from `patron import rates` (columns date, currency, rate: one\n"
	"unit of the currency in the base currency); without either it is refused.\n"
	"\n"
	"Events (for the rules: patron run) come as CSV with a topic column and\n"
	"optionally customer (id or email), at (when it happened, default --now) and\n"
	"data (a JSON object; other columns become its text fields), or as JSON Lines\n"
	"(.jsonl): {\"topic\": ..., \"customer\": ..., \"at\": ..., \"data\": {...}}.\n"
	"\n"
	"Inbox: customers' emails from a Maildir (its new/ and cur/), a folder of\n"
	"message files, an mbox file or one message (MIME, any charset, quoted-\n"
	"printable and base64, HTML-only mail read as text, attachments left out).\n"
	"Each message is kept once under its Message-ID (importing the mailbox again\n"
	"adds only what is new), matched to the customer by the sender's address (an\n"
	"unknown sender becomes a new customer), threaded into a ticket by\n"
	"In-Reply-To and References (else by subject), scored for sentiment, and\n"
	"announced to the rules as inquiry.received. The shop's answers sent from its\n"
	"own mail program (inbox.addresses in patron.conf, and every channel's from)\n"
	"are kept as the ticket's first response. Bounces, out-of-office answers and\n"
	"mailing lists are left out. patron inbox lists the tickets.\n"
	"\n"
	"--imap reads an IMAP mailbox (or inbox.imap in patron.conf, with inbox.user):\n"
	"the messages since the last import (the store remembers where it stopped),\n"
	"leaving unread what the owner had not read. The password comes from the\n"
	"variable PATRON_IMAP_PASSWORD, or inbox.password_env / inbox.password_file,\n"
	"never from patron.conf or the address; imaps:// or STARTTLS is required\n"
	"except to this machine.\n",
};
