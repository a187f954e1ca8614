/* The inbox from the command line: patron import inbox, patron inbox,
 * patron ticket. */
#include <libgen.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../config.h"
#include "../inbox/faq.h"
#include "../inbox/inbox.h"
#include "../mime.h"
#include "../value.h"
#include "cli.h"

/* ---- patron import inbox ---- */

/* The shop's own addresses: inbox.addresses (comma-separated) and the
 * sender of every channel. Strings in *OUT, owned by BUF's caller. */
static size_t shop_addresses(const patron_config *cfg, char (*out)[320], size_t cap)
{
	size_t n = 0;
	patron_buf list = {0}, names = {0};
	const char *a = patron_config_string(cfg, "inbox", "addresses");
	if (a)
		patron_buf_adds(&list, a);
	patron_config_channel_names(cfg, &names);
	for (char *p = names.data; p && *p;) {
		size_t len = strcspn(p, ",");
		char job[200];
		snprintf(job, sizeof job, "channels.%.*s", (int)len, p);
		const char *from = patron_config_string(cfg, job, "from");
		if (from) {
			char addr[320];
			patron_mail_address(from, addr, sizeof addr);
			patron_buf_printf(&list, "%s%s", list.len ? "," : "", addr);
		}
		p += len + (p[len] == ',');
	}
	for (char *p = list.data; p && *p && n < cap;) {
		size_t len = strcspn(p, ",");
		char one[320];
		snprintf(one, sizeof one, "%.*s", (int)(len < 319 ? len : 319), p);
		if (patron_normalize_email(one, out[n], sizeof out[n]) == 0)
			n++;
		p += len + (p[len] == ',');
	}
	patron_buf_free(&list);
	patron_buf_free(&names);
	return n;
}

static json_t *inbox_json(const char *path, const patron_inbox_stats *st)
{
	return json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "source",
			 path,
			 "messages", (json_int_t)st->read, "added", (json_int_t)st->added,
			 "answers", (json_int_t)st->answers, "already_stored",
			 (json_int_t)st->present, "tickets_new", (json_int_t)st->tickets_new,
			 "customers_new", (json_int_t)st->customers_new, "automatic",
			 (json_int_t)st->automatic, "without_sender", (json_int_t)st->unreadable,
			 "shop_outside_tickets", (json_int_t)st->outside, "answered",
			 (json_int_t)st->auto_sent, "drafts", (json_int_t)st->drafts);
}

static void inbox_summary(const char *path, const patron_inbox_stats *st)
{
	printf("%s: %llu messages: %llu new from customers in %llu new tickets, %llu answers "
	       "from the shop, %llu already in the store; %llu new customers\n", path,
	       (unsigned long long)st->read, (unsigned long long)st->added,
	       (unsigned long long)st->tickets_new, (unsigned long long)st->answers,
	       (unsigned long long)st->present, (unsigned long long)st->customers_new);
	if (st->automatic)
		printf("  %llu automatic messages (bounces, out-of-office answers, mailing lists) "
		       "left out\n", (unsigned long long)st->automatic);
	if (st->unreadable)
		printf("  %llu messages without a sender address left out\n",
		       (unsigned long long)st->unreadable);
	if (st->outside)
		printf("  %llu messages from the shop's own addresses that answer no ticket left "
		       "out\n", (unsigned long long)st->outside);
	if (st->auto_sent || st->drafts)
		printf("  %llu answered at once, %llu suggested answers waiting for your approval "
		       "(patron ticket ID --approve)\n", (unsigned long long)st->auto_sent,
		       (unsigned long long)st->drafts);
}

int cli_import_inbox(cli *c, int argc, char **argv)
{
	const char *imap = NULL, *user = NULL, *paths[256];
	int npaths = 0;
	for (int i = 2; i < argc; i++) {
		const char *v;
		int r;
		if ((r = cli_opt_value(argc, argv, &i, "--imap", &v)) != 0) {
			if (r < 0)
				return cli_usage(&cmd_import, "--imap needs the mailbox's address, such as "
						 "imaps://mail.shop.example/INBOX");
			imap = v;
		} else if ((r = cli_opt_value(argc, argv, &i, "--user", &v)) != 0) {
			if (r < 0)
				return cli_usage(&cmd_import, "--user needs the mailbox's user name");
			user = v;
		} else if (argv[i][0] == '-' && argv[i][1]) {
			return cli_usage(&cmd_import, "unknown option \"%s\" (inbox takes --imap URL "
					 "and --user NAME)", argv[i]);
		} else if (npaths < 256) {
			paths[npaths++] = argv[i];
		}
	}
	patron_store *s = cli_store(c);
	patron_config *cfg = s ? cli_config(c) : NULL;
	if (!cfg)
		return EXIT_FAIL;
	if (!imap && !npaths)
		imap = patron_config_string(cfg, "inbox", "imap");
	if (!imap && !npaths) {
		patron_config_free(cfg);
		return cli_usage(&cmd_import, "expected a Maildir, an mbox file or message files, or "
				 "--imap URL (or inbox.imap in patron.conf)");
	}
	char *password = NULL;
	patron_err err;
	if (imap) {
		if (!user)
			user = patron_config_string(cfg, "inbox", "user");
		if (patron_config_secret(cfg, "inbox", "password", "PATRON_IMAP_PASSWORD", &password,
					 &err) < 0) {
			patron_config_free(cfg);
			return cli_fail(EXIT_FAIL, "%s", err.msg);
		}
	}
	char addrs[32][320];
	const char *shop[32];
	size_t nshop = shop_addresses(cfg, addrs, 32);
	for (size_t i = 0; i < nshop; i++)
		shop[i] = addrs[i];
	patron_inbox_opts o = {.now = c->now, .shop = shop, .nshop = nshop, .progress = isatty(2)};
	patron_config_number(cfg, "churn", "threshold", &o.churn_threshold);
	patron_plugins ps = {0};
	patron_analyzer *analyzer = NULL;
	if (cli_analyzer_open(c, cfg, "sentiment", NULL, &ps, &analyzer) < 0) {
		free(password);
		patron_plugins_free(&ps);
		patron_config_free(cfg);
		return EXIT_FAIL;
	}
	if (analyzer) {
		o.sentiment = cli_sentiment_one;
		o.sentiment_ctx = analyzer;
	}
	/* answers written as messages arrive: auto_reply = { shipping = "send",
	 * order_status = "draft", confidence = 0.7, min_score = 1 } */
	patron_reply_from via;	/* inbox.channel, its sender and domain */
	char via_from[320];
	patron_reply_from_config(cfg, &via, via_from);
	o.reply = &via;
	double cap;
	const char *per = patron_config_string(cfg, "frequency_cap", "per");
	if (per && patron_config_number(cfg, "frequency_cap", "messages", &cap) > 0 &&
	    patron_parse_duration(per, &o.cap_per) == 0)
		o.cap_messages = (int64_t)cap;
	o.auto_confidence = 0.7;
	o.faq_min_score = 1.0;
	patron_buf aj = {0};
	patron_config_job_json(cfg, "auto_reply", &aj);
	json_t *auto_conf = json_loads(aj.data ? aj.data : "{}", 0, NULL);
	patron_buf_free(&aj);
	const char *modes[64];
	size_t nm = 0;
	const char *key;
	json_t *val;
	json_object_foreach(auto_conf, key, val) {
		if (strcmp(key, "confidence") == 0)
			o.auto_confidence = json_number_value(val);
		else if (strcmp(key, "min_score") == 0)
			o.faq_min_score = json_number_value(val);
		else if (json_is_string(val) && nm + 3 < sizeof modes / sizeof *modes) {
			modes[nm++] = key;
			modes[nm++] = json_string_value(val);
		}
	}
	modes[nm] = NULL;
	o.auto_reply = modes;
	patron_faq *faq = NULL;
	if (patron_faq_load_for(cfg, c->db_path, &faq, &err) < 0) {
		json_decref(auto_conf);
		free(password);
		patron_plugins_free(&ps);
		patron_config_free(cfg);
		return cli_fail(EXIT_FAIL, "%s", err.msg);
	}
	o.faq = faq;
	patron_analyzer *intents = NULL;
	if (cli_analyzer_open(c, cfg, "intent", NULL, &ps, &intents) < 0) {
		free(password);
		patron_faq_free(faq);
		json_decref(auto_conf);
		patron_analyzer_close(analyzer);
		patron_plugins_free(&ps);
		patron_config_free(cfg);
		return EXIT_FAIL;
	}
	if (intents) {
		o.intent = cli_intent_one;
		o.intent_ctx = intents;
	}
	json_t *all = c->json ? json_array() : NULL;
	int rc = EXIT_OK, untrained = 0;
	for (int i = imap ? -1 : 0; i < npaths; i++) {
		patron_inbox_stats st;
		const char *source = i < 0 ? imap : paths[i];
		int r = i < 0 ? patron_inbox_import_imap(s, imap, user, password, &o, &st, &err)
			      : patron_inbox_import(s, paths[i], &o, &st, &err);
		if (r < 0) {
			rc = cli_fail(EXIT_FAIL, "%s", err.msg);	/* nothing of it landed */
			break;
		}
		untrained |= st.untrained;
		if (all)
			json_array_append_new(all, inbox_json(source, &st));
		else
			inbox_summary(source, &st);
	}
	if (untrained && !all)
		printf("  what each message is about is not known yet: patron train intents "
		       "FILE.csv (examples/intents.csv to start) learns it\n");
	if (all)
		cli_print_json(all);
	if (password) {
		sodium_memzero(password, strlen(password));
		free(password);
	}
	patron_analyzer_close(intents);
	patron_analyzer_close(analyzer);
	patron_faq_free(faq);
	json_decref(auto_conf);
	patron_plugins_free(&ps);
	patron_config_free(cfg);
	return rc;
}

/* ---- patron inbox ---- */

static const char *age(int64_t seconds, char *buf, size_t cap)
{
	if (seconds < 3600)
		snprintf(buf, cap, "%lldm", (long long)(seconds > 0 ? seconds / 60 : 0));
	else if (seconds < 2 * 86400)
		snprintf(buf, cap, "%lldh", (long long)(seconds / 3600));
	else
		snprintf(buf, cap, "%lldd", (long long)(seconds / 86400));
	return buf;
}

#define TICKET_COLUMNS \
	"t.id, t.customer_id, t.subject, t.status, t.priority, t.opened_at," \
	" coalesce(t.waiting_since, t.updated_at), t.sentiment, t.intent," \
	" (SELECT count(*) FROM ticket_messages WHERE ticket_id = t.id)," \
	" trim(coalesce(c.first_name, '') || ' ' || coalesce(c.last_name, ''))," \
	" (SELECT value FROM identities WHERE customer_id = t.customer_id AND kind = 'email'" \
	"  ORDER BY value LIMIT 1)," \
	" (SELECT label FROM scores WHERE customer_id = t.customer_id AND name = 'segment')," \
	" (SELECT value FROM scores WHERE customer_id = t.customer_id AND name = 'clv')," \
	" (SELECT value FROM scores WHERE customer_id = t.customer_id AND name = 'churn')," \
	" coalesce(co.spent_cents, 0), coalesce(co.orders, 0), t.first_response_at, t.solved_at," \
	" t.overdue_at, t.updated_at"

/* One ticket row (TICKET_COLUMNS) as JSON. */
static json_t *ticket_json(sqlite3_stmt *st)
{
	char d1[32], d2[32];
	json_t *j = json_pack("{s:I, s:I, s:s, s:s, s:s, s:s, s:s, s:I}", "id",
			      (json_int_t)sqlite3_column_int64(st, 0), "customer_id",
			      (json_int_t)sqlite3_column_int64(st, 1), "subject",
			      (const char *)sqlite3_column_text(st, 2), "status",
			      (const char *)sqlite3_column_text(st, 3), "priority",
			      (const char *)sqlite3_column_text(st, 4), "opened_at",
			      patron_format_date(sqlite3_column_int64(st, 5), d1), "last_at",
			      patron_format_date(sqlite3_column_int64(st, 6), d2), "messages",
			      (json_int_t)sqlite3_column_int64(st, 9));
	static const struct {
		int col;
		const char *key;
	} optional[] = {{7, "sentiment"}, {8, "intent"}, {10, "name"}, {11, "email"},
			{12, "segment"}, {13, "clv"}, {14, "churn"}};
	for (size_t i = 0; i < sizeof optional / sizeof *optional; i++) {
		int c = optional[i].col, t = sqlite3_column_type(st, c);
		json_t *v = t == SQLITE_NULL ? json_null()
			    : t == SQLITE_TEXT ? json_string((const char *)sqlite3_column_text(st, c))
			    : json_real(sqlite3_column_double(st, c));
		if (t == SQLITE_TEXT && !*sqlite3_column_text(st, c)) {
			json_decref(v);
			v = json_null();
		}
		json_object_set_new(j, optional[i].key, v);
	}
	json_object_set_new(j, "spent", json_real((double)sqlite3_column_int64(st, 15) / 100.0));
	json_object_set_new(j, "orders", json_integer(sqlite3_column_int64(st, 16)));
	static const struct {
		int col;
		const char *key;
	} times[] = {{17, "first_response_at"}, {18, "solved_at"}, {19, "overdue_at"}};
	for (size_t i = 0; i < sizeof times / sizeof *times; i++)
		json_object_set_new(j, times[i].key,
				    sqlite3_column_type(st, times[i].col) == SQLITE_NULL
					    ? json_null()
					    : json_string(patron_format_date(
						      sqlite3_column_int64(st, times[i].col), d1)));
	return j;
}

/* "Ada Lovelace <ada@example.com>" for a ticket row. */
static void who(sqlite3_stmt *st, char *buf, size_t cap)
{
	const char *name = (const char *)sqlite3_column_text(st, 10);
	const char *email = (const char *)sqlite3_column_text(st, 11);
	if (name && *name)
		snprintf(buf, cap, "%s <%s>", name, email ? email : "?");
	else
		snprintf(buf, cap, "%s", email ? email : "?");
}

/* "champions, spent 1234.00 in 5 orders, clv 560.00, churn 0.72" */
static void standing(sqlite3_stmt *st, char *buf, size_t cap)
{
	char money[40];
	size_t n = 0;
	const char *segment = (const char *)sqlite3_column_text(st, 12);
	if (segment)
		n += (size_t)snprintf(buf + n, cap - n, "%s, ", segment);
	int64_t orders = sqlite3_column_int64(st, 16);
	if (orders && n < cap)
		n += (size_t)snprintf(buf + n, cap - n, "spent %s in %lld order%s",
				      patron_format_money(sqlite3_column_int64(st, 15), money),
				      (long long)orders, orders == 1 ? "" : "s");
	else if (n < cap)
		n += (size_t)snprintf(buf + n, cap - n, "no orders");
	if (sqlite3_column_type(st, 13) != SQLITE_NULL && n < cap)
		n += (size_t)snprintf(buf + n, cap - n, ", clv %.2f", sqlite3_column_double(st, 13));
	if (sqlite3_column_type(st, 14) != SQLITE_NULL && n < cap)
		snprintf(buf + n, cap - n, ", churn risk %.2f", sqlite3_column_double(st, 14));
}

static int inbox(cli *c, int argc, char **argv)
{
	const char *status = "open", *sort = "priority";
	int64_t limit = 50;
	for (int i = 1; i < argc; i++) {
		const char *v;
		int r;
		if ((r = cli_opt_value(argc, argv, &i, "--status", &v)) != 0) {
			if (r < 0 || (strcmp(v, "open") && strcmp(v, "waiting") && strcmp(v, "solved") &&
				      strcmp(v, "all")))
				return cli_usage(&cmd_inbox, "--status: expected open, waiting, solved "
						 "or all");
			status = v;
		} else if ((r = cli_opt_value(argc, argv, &i, "--sort", &v)) != 0) {
			if (r < 0 || (strcmp(v, "priority") && strcmp(v, "oldest") &&
				      strcmp(v, "value")))
				return cli_usage(&cmd_inbox, "--sort: expected priority, oldest or "
						 "value");
			sort = v;
		} else if ((r = cli_opt_value(argc, argv, &i, "--limit", &v)) != 0) {
			if (r < 0 || patron_parse_int(v, &limit) < 0 || limit < 1)
				return cli_usage(&cmd_inbox, "--limit: expected a number above 0");
		} else {
			return cli_usage(&cmd_inbox, "unknown option \"%s\"", argv[i]);
		}
	}
	patron_store *s = cli_store(c);
	if (!s)
		return EXIT_FAIL;
	/* The owner answers first what matters most: high priority (an angry
	 * customer who matters), then by the sort asked, oldest first. */
	const char *order = strcmp(sort, "oldest") == 0
		? "coalesce(t.waiting_since, t.opened_at), t.id"
		: strcmp(sort, "value") == 0
		? "coalesce(co.spent_cents, 0) DESC, coalesce(t.waiting_since, t.opened_at), t.id"
		: "CASE t.priority WHEN 'high' THEN 0 WHEN 'normal' THEN 1 ELSE 2 END,"
		  " coalesce(t.waiting_since, t.opened_at), t.id";
	patron_buf q = {0};
	patron_buf_printf(&q, "SELECT " TICKET_COLUMNS " FROM tickets t JOIN customers c ON"
			  " c.id = t.customer_id LEFT JOIN customer_orders co ON co.customer_id ="
			  " t.customer_id WHERE (?1 = 'all' OR t.status = ?1) ORDER BY %s LIMIT ?2",
			  order);
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(patron_store_db(s), q.data, -1, &st, NULL) != SQLITE_OK) {
		patron_buf_free(&q);
		return cli_fail(EXIT_FAIL, "reading the tickets: %s",
				sqlite3_errmsg(patron_store_db(s)));
	}
	patron_buf_free(&q);
	sqlite3_bind_text(st, 1, status, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, limit);
	json_t *all = c->json ? json_array() : NULL;
	int n = 0;
	while (sqlite3_step(st) == SQLITE_ROW) {
		n++;
		if (all) {
			json_array_append_new(all, ticket_json(st));
			continue;
		}
		char ago[32], person[700], stand[300];
		who(st, person, sizeof person);
		standing(st, stand, sizeof stand);
		printf("#%-5lld %-6s %-7s %4s  %s\n", (long long)sqlite3_column_int64(st, 0),
		       (const char *)sqlite3_column_text(st, 4), (const char *)sqlite3_column_text(st, 3),
		       age(c->now - sqlite3_column_int64(st, 6), ago, sizeof ago), person);
		printf("       %s\n", stand);
		const char *subject = (const char *)sqlite3_column_text(st, 2);
		printf("       \"%s\" (%lld message%s%s%s)\n", *subject ? subject : "(no subject)",
		       (long long)sqlite3_column_int64(st, 9),
		       sqlite3_column_int64(st, 9) == 1 ? "" : "s",
		       sqlite3_column_type(st, 8) != SQLITE_NULL ? ", " : "",
		       sqlite3_column_type(st, 8) != SQLITE_NULL
			       ? (const char *)sqlite3_column_text(st, 8) : "");
	}
	sqlite3_finalize(st);
	if (all)
		cli_print_json(all);
	else if (!n)
		printf("no %s tickets\n", strcmp(status, "all") == 0 ? "" : status);
	return EXIT_OK;
}

const cli_command cmd_inbox = {
	"inbox", inbox, "list the customers' questions, the ones that matter most first",
	"usage: patron inbox [--status open|waiting|solved|all]\n"
	"                    [--sort priority|oldest|value] [--limit N] [--json]\n"
	"\n"
	"Lists the tickets made from the customers' emails (patron import inbox): open\n"
	"ones wait for the shop's answer, waiting ones for the customer's, solved ones\n"
	"are done. Beside each: its priority, how long it has waited, the customer,\n"
	"their segment, what they spent, their value (clv) and churn risk, and the\n"
	"subject. By default the open ones, high priority first (an angry message from a\n"
	"customer in the top fifth by spending, or at risk of leaving, or a very angry\n"
	"one), then the oldest first.\n"
	"\n"
	"options:\n"
	"  --status S   open (default), waiting, solved or all\n"
	"  --sort S     priority (default), oldest, or value (the biggest spenders first)\n"
	"  --limit N    at most N tickets (default 50)\n",
};

/* ---- patron ticket ---- */

static int show(cli *c, patron_store *s, int64_t id)
{
	sqlite3 *db = patron_store_db(s);
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db, "SELECT " TICKET_COLUMNS " FROM tickets t JOIN customers c ON"
			       " c.id = t.customer_id LEFT JOIN customer_orders co ON"
			       " co.customer_id = t.customer_id WHERE t.id = ?1", -1, &st,
			       NULL) != SQLITE_OK)
		return cli_fail(EXIT_FAIL, "reading the ticket: %s", sqlite3_errmsg(db));
	sqlite3_bind_int64(st, 1, id);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_finalize(st);
		return cli_fail(EXIT_FAIL, "there is no ticket %lld (patron inbox lists them)",
				(long long)id);
	}
	json_t *j = c->json ? ticket_json(st) : NULL;
	if (!j) {
		char person[700], stand[300], d[32];
		who(st, person, sizeof person);
		standing(st, stand, sizeof stand);
		const char *subject = (const char *)sqlite3_column_text(st, 2);
		printf("ticket %lld: %s\n", (long long)id, *subject ? subject : "(no subject)");
		printf("  customer  %lld  %s\n", (long long)sqlite3_column_int64(st, 1), person);
		printf("            %s\n", stand);
		printf("  status    %s, priority %s", (const char *)sqlite3_column_text(st, 3),
		       (const char *)sqlite3_column_text(st, 4));
		if (sqlite3_column_type(st, 7) != SQLITE_NULL)
			printf(", sentiment %.2f", sqlite3_column_double(st, 7));
		if (sqlite3_column_type(st, 8) != SQLITE_NULL)
			printf(", intent %s", (const char *)sqlite3_column_text(st, 8));
		printf("\n  opened    %s", patron_format_date(sqlite3_column_int64(st, 5), d));
		if (sqlite3_column_type(st, 17) != SQLITE_NULL)
			printf(", first answer %s",
			       patron_format_date(sqlite3_column_int64(st, 17), d));
		if (sqlite3_column_type(st, 18) != SQLITE_NULL)
			printf(", solved %s", patron_format_date(sqlite3_column_int64(st, 18), d));
		printf("\n");
	}
	sqlite3_finalize(st);
	if (sqlite3_prepare_v2(db, "SELECT m.direction, m.sender, m.sent_at, m.body, m.attachments,"
			       " m.message_id, o.status FROM ticket_messages m LEFT JOIN outbox o ON"
			       " o.id = m.outbox_id WHERE m.ticket_id = ?1 ORDER BY m.sent_at, m.id",
			       -1, &st, NULL) != SQLITE_OK) {
		json_decref(j);
		return cli_fail(EXIT_FAIL, "reading the ticket: %s", sqlite3_errmsg(db));
	}
	sqlite3_bind_int64(st, 1, id);
	json_t *msgs = j ? json_array() : NULL;
	while (sqlite3_step(st) == SQLITE_ROW) {
		char d[32];
		const char *dir = (const char *)sqlite3_column_text(st, 0);
		const char *sender = (const char *)sqlite3_column_text(st, 1);
		const char *body = (const char *)sqlite3_column_text(st, 3);
		const char *delivery = (const char *)sqlite3_column_text(st, 6);
		int64_t files = sqlite3_column_int64(st, 4);
		patron_format_date(sqlite3_column_int64(st, 2), d);
		if (msgs) {
			json_array_append_new(msgs, json_pack("{s:s, s:s, s:s, s:s, s:I, s:s, s:s?}",
							      "direction", dir, "from", sender, "at", d,
							      "text", body, "attachments",
							      (json_int_t)files, "message_id",
							      (const char *)sqlite3_column_text(st, 5),
							      "delivery", delivery));
			continue;
		}
		printf("\n--- %s  %s %s", d, strcmp(dir, "in") == 0 ? "from" : "answer from", sender);
		if (delivery)
			printf(" (%s)", delivery);
		if (files)
			printf(", %lld attachment%s not shown", (long long)files, files == 1 ? "" : "s");
		printf("\n%s\n", body);
	}
	sqlite3_finalize(st);
	/* the answer waiting for approval, and the FAQ's best matches for the
	 * customer's latest message */
	json_t *draft = json_null(), *sugg = json_array();
	if (sqlite3_prepare_v2(db, "SELECT t.draft, t.draft_source, t.draft_score, t.subject ||"
			       " char(10) || coalesce((SELECT body FROM ticket_messages WHERE ticket_id"
			       " = t.id AND direction = 'in' ORDER BY sent_at DESC, id DESC LIMIT 1),"
			       " '') FROM tickets t WHERE t.id = ?1", -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_int64(st, 1, id);
		if (sqlite3_step(st) == SQLITE_ROW) {
			if (sqlite3_column_type(st, 0) != SQLITE_NULL) {
				json_decref(draft);
				draft = json_pack("{s:s, s:s, s:f}", "text", sqlite3_column_text(st, 0),
						  "source", sqlite3_column_text(st, 1), "score",
						  sqlite3_column_double(st, 2));
			}
			patron_config *cfg = cli_config(c);
			patron_faq *faq = NULL;
			patron_err err;
			if (cfg && patron_faq_load_for(cfg, c->db_path, &faq, &err) == 0) {
				patron_faq_hit hits[3];
				size_t n = patron_faq_search(faq, (const char *)sqlite3_column_text(st, 3),
							     hits, 3);
				for (size_t i = 0; i < n; i++)
					json_array_append_new(sugg, json_pack(
						"{s:s, s:s, s:f, s:s}", "faq",
						patron_faq_name(faq, hits[i].entry), "question",
						patron_faq_question(faq, hits[i].entry), "score",
						hits[i].score, "answer", patron_faq_answer(faq, hits[i].entry)));
			} else if (cfg) {
				fprintf(stderr, "patron: %s\n", err.msg);
			}
			patron_faq_free(faq);
			patron_config_free(cfg);
		}
		sqlite3_finalize(st);
	}
	if (j) {
		json_object_set_new(j, "thread", msgs);
		json_object_set_new(j, "draft", draft);
		json_object_set_new(j, "suggestions", sugg);
		cli_print_json(j);
		return EXIT_OK;
	}
	if (!json_is_null(draft)) {
		printf("\n--- a suggested answer waits for your approval (%s, score %.2f): patron "
		       "ticket %lld --approve\n%s\n",
		       json_string_value(json_object_get(draft, "source")),
		       json_real_value(json_object_get(draft, "score")), (long long)id,
		       json_string_value(json_object_get(draft, "text")));
	}
	if (json_array_size(sugg)) {
		printf("\nFAQ answers that match the latest message, best first (faq/NAME.md):\n");
		size_t i;
		json_t *h;
		json_array_foreach(sugg, i, h)
			printf("  %-20s %6.2f  %s\n", json_string_value(json_object_get(h, "faq")),
			       json_real_value(json_object_get(h, "score")),
			       json_string_value(json_object_get(h, "question")));
	}
	json_decref(draft);
	json_decref(sugg);
	return EXIT_OK;
}

/* The text of FILE ("-": standard input). */
static char *read_text(const char *path, patron_err *err)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	if (!f) {
		patron_err_set(err, "%s: cannot read it", path);
		return NULL;
	}
	patron_buf b = {0};
	char chunk[8192];
	size_t n;
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		patron_buf_add(&b, chunk, n);
	if (f != stdin)
		fclose(f);
	while (b.len && (b.data[b.len - 1] == '\n' || b.data[b.len - 1] == ' '))
		b.len--;
	patron_buf_add(&b, "", 0);
	if (!b.len) {
		patron_err_set(err, "%s: the answer is empty", path);
		patron_buf_free(&b);
		return NULL;
	}
	return b.data;
}

static int ticket(cli *c, int argc, char **argv)
{
	const char *reply = NULL;
	int solve = 0, send = 0, approve = 0;
	int64_t id = 0;
	for (int i = 1; i < argc; i++) {
		const char *v;
		int r;
		if ((r = cli_opt_value(argc, argv, &i, "--reply", &v)) != 0) {
			if (r < 0)
				return cli_usage(&cmd_ticket, "--reply needs a file with the answer (- "
						 "for standard input)");
			reply = v;
		} else if (strcmp(argv[i], "--solve") == 0) {
			solve = 1;
		} else if (strcmp(argv[i], "--approve") == 0) {
			approve = 1;
		} else if (strcmp(argv[i], "--send") == 0) {
			send = 1;
		} else if (argv[i][0] == '-' && !id) {
			return cli_usage(&cmd_ticket, "unknown option \"%s\"", argv[i]);
		} else if (!id && patron_parse_int(argv[i][0] == '#' ? argv[i] + 1 : argv[i], &id) == 0 &&
			   id > 0) {
			continue;
		} else {
			return cli_usage(&cmd_ticket, "expected a ticket's number, got \"%s\"", argv[i]);
		}
	}
	if (!id)
		return cli_usage(&cmd_ticket, "expected a ticket's number (patron inbox lists them)");
	if (send && !reply && !approve)
		return cli_usage(&cmd_ticket, "--send sends a --reply or the --approve'd answer");
	if (reply && approve)
		return cli_usage(&cmd_ticket, "--reply FILE or --approve (the suggested answer), not "
				 "both");
	patron_store *s = cli_store(c);
	if (!s)
		return EXIT_FAIL;
	if (!reply && !solve && !approve)
		return show(c, s, id);
	patron_err err;
	if (reply || approve) {
		patron_config *cfg = cli_config(c);
		if (!cfg)
			return EXIT_FAIL;
		char *text = reply ? read_text(reply, &err) : NULL;
		if (reply && !text) {
			patron_config_free(cfg);
			return cli_fail(EXIT_FAIL, "%s", err.msg);
		}
		patron_reply_from via;
		char via_from[320];
		patron_reply_from_config(cfg, &via, via_from);
		int64_t outbox_id;
		int rc = reply ? patron_ticket_reply(s, id, &via, text, c->now, &outbox_id, &err)
			       : patron_ticket_approve(s, id, &via, c->now, &outbox_id, &err);
		free(text);
		if (rc < 0) {
			patron_config_free(cfg);
			return cli_fail(EXIT_FAIL, "%s", err.msg);
		}
		if (c->json && !solve && !send)
			cli_print_json(json_pack("{s:I, s:I, s:s}", "ticket", (json_int_t)id, "outbox_id",
						 (json_int_t)outbox_id, "status", "waiting"));
		else if (!c->json)
			printf("ticket %lld: %s queued as message #%lld on %s%s\n", (long long)id,
			       approve ? "the suggested answer" : "answer", (long long)outbox_id,
			       via.channel,
			       send ? "" : " (patron deliver sends it, as does the next patron run)");
		int sent = send ? cli_deliver(c, cfg, 0, 0, c->json, 0) : EXIT_OK;
		patron_config_free(cfg);
		if (sent != EXIT_OK)
			return sent;
	}
	if (solve) {
		if (patron_ticket_solve(s, id, c->now, &err) < 0)
			return cli_fail(EXIT_FAIL, "%s", err.msg);
		if (c->json)
			cli_print_json(json_pack("{s:I, s:s}", "ticket", (json_int_t)id, "status",
						 "solved"));
		else
			printf("ticket %lld: solved\n", (long long)id);
	}
	return EXIT_OK;
}

const cli_command cmd_ticket = {
	"ticket", ticket, "show a ticket's conversation, answer it or mark it solved",
	"usage: patron ticket ID [--json]\n"
	"       patron ticket ID --reply FILE|- [--send] [--solve]\n"
	"       patron ticket ID --approve [--send]\n"
	"       patron ticket ID --solve\n"
	"\n"
	"Shows ticket ID (from patron inbox): the customer, their standing, and every\n"
	"message of the conversation, each without the earlier ones it quoted; then the\n"
	"suggested answer waiting for approval, if any, and the FAQ entries (faq/*.md\n"
	"beside the store, or inbox.faq) that best match the latest message, by BM25.\n"
	"\n"
	"  --reply FILE   answers the customer's latest message with the text of FILE\n"
	"                 (- reads it from standard input): queued in the outbox on\n"
	"                 inbox.channel (default \"email\") as a reply their mail program\n"
	"                 threads (In-Reply-To, References). An answer to a question the\n"
	"                 customer asked is sent without asking marketing consent, with\n"
	"                 no unsubscribe footer. The ticket then waits on the customer;\n"
	"                 their next message opens it again.\n"
	"  --approve      sends the suggested answer waiting in the ticket (written from\n"
	"                 the FAQ or the order's state when auto_reply says \"draft\")\n"
	"  --send         deliver it now (else patron deliver or the next patron run do)\n"
	"  --solve        marks the ticket solved (ticket.solved, for a satisfaction\n"
	"                 survey rule)\n",
};
