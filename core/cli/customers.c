/* patron customers: the morning's list. Every customer with the fields a
 * rule sees, filtered by segment or by a rule's where, sorted, as a table,
 * CSV for a spreadsheet or a mail merge, or JSON. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../csv.h"
#include "../rules.h"
#include "../value.h"
#include "cli.h"

typedef struct {
	int64_t id, orders, last;	/* last: 0 when never ordered */
	int64_t spent;			/* cents, base currency */
	double churn, clv;		/* NAN when not scored */
	char *email, *name, *segment, *reasons, *rec, *consent;
} row;

/* What a customer is worth for sorting and for the list: the predicted
 * value when a CLV model scored them, else what they have spent. */
static double value_of(const row *r)
{
	return isnan(r->clv) ? (double)r->spent / 100.0 : r->clv;
}

typedef enum {
	K_ID, K_NAME, K_EMAIL, K_SEGMENT, K_ORDERS, K_SPENT, K_DAYS, K_CHURN, K_CLV, K_VALUE,
	K_VALUE_RISK
} sort_key;
static const struct {
	const char *name;
	sort_key key;
} sort_names[] = {
	{"id", K_ID}, {"name", K_NAME}, {"email", K_EMAIL}, {"segment", K_SEGMENT},
	{"orders", K_ORDERS}, {"total_spent", K_SPENT}, {"spent", K_SPENT},
	{"days_since_last_order", K_DAYS}, {"days", K_DAYS}, {"churn", K_CHURN},
	{"risk", K_CHURN}, {"clv", K_CLV}, {"value", K_VALUE}, {"value*risk", K_VALUE_RISK},
	{"clv*churn", K_VALUE_RISK},
};

static sort_key g_key;
static int g_asc;
static int64_t g_today;

/* The sort value of a number key; NAN when the customer has none. */
static double number_of(const row *r, sort_key k)
{
	switch (k) {
	case K_ID: return (double)r->id;
	case K_ORDERS: return (double)r->orders;
	case K_SPENT: return (double)r->spent;
	case K_DAYS: return r->last ? (double)(g_today - patron_day_number(r->last)) : NAN;
	case K_CHURN: return r->churn;
	case K_CLV: return r->clv;
	case K_VALUE: return value_of(r);
	case K_VALUE_RISK: return isnan(r->churn) ? NAN : value_of(r) * r->churn;
	default: return NAN;
	}
}

static const char *text_of(const row *r, sort_key k)
{
	return k == K_NAME ? r->name : k == K_EMAIL ? r->email : r->segment;
}

/* Numbers largest first and text A to Z (reversed by :asc / :desc); a
 * customer without the value comes last either way; ties by id. */
static int compare(const void *pa, const void *pb)
{
	const row *a = pa, *b = pb;
	int c = 0;
	if (g_key == K_NAME || g_key == K_EMAIL || g_key == K_SEGMENT) {
		const char *x = text_of(a, g_key), *y = text_of(b, g_key);
		if (!x || !y)
			c = !x - !y;
		else
			c = g_asc ? strcmp(x, y) : strcmp(y, x);
	} else {
		double x = number_of(a, g_key), y = number_of(b, g_key);
		if (isnan(x) || isnan(y))
			c = isnan(x) - isnan(y);
		else if (x != y)
			c = (x < y) == g_asc ? -1 : 1;
	}
	return c ? c : (a->id > b->id) - (a->id < b->id);
}

static char *dup_text(sqlite3_stmt *st, int col)
{
	const char *s = (const char *)sqlite3_column_text(st, col);
	return s ? patron_xstrdup(s) : NULL;
}

static const char *const list_sql =
	"SELECT c.id,"
	" (SELECT value FROM identities WHERE customer_id = c.id AND kind = 'email'"
	"  ORDER BY value LIMIT 1),"
	" CASE WHEN c.first_name IS NOT NULL AND c.last_name IS NOT NULL"
	"  THEN c.first_name || ' ' || c.last_name ELSE coalesce(c.first_name, c.last_name) END,"
	" coalesce(o.n, 0), coalesce(o.cents, 0), coalesce(o.last, 0),"
	" (SELECT label FROM scores WHERE customer_id = c.id AND name = 'segment'),"
	" (SELECT value FROM scores WHERE customer_id = c.id AND name = 'churn'),"
	" (SELECT value FROM scores WHERE customer_id = c.id AND name = 'clv'),"
	" (SELECT label FROM scores WHERE customer_id = c.id AND name = 'churn_reasons'),"
	" (SELECT coalesce(p.name, p.sku) FROM recommendations r JOIN products p"
	"  ON p.id = r.product_id WHERE r.customer_id = c.id AND r.rank = 1),"
	" (SELECT group_concat(channel, ';') FROM (SELECT channel FROM consent"
	"  WHERE customer_id = c.id AND granted ORDER BY channel))"
	" FROM customers c LEFT JOIN (SELECT customer_id, count(*) AS n, sum(total_cents) AS cents,"
	"  max(placed_at) AS last FROM orders WHERE revenue GROUP BY customer_id) o"
	"  ON o.customer_id = c.id"
	" WHERE ?1 IS NULL OR c.id IN (SELECT customer_id FROM scores WHERE name = 'segment'"
	"  AND label = ?1)"
	" ORDER BY c.id";

static void free_rows(row *rows, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(rows[i].email), free(rows[i].name), free(rows[i].segment);
		free(rows[i].reasons), free(rows[i].rec), free(rows[i].consent);
	}
	free(rows);
}

/* The segments there are, as "a, b, c", for the error on an unknown one. */
static void known_segments(patron_store *s, char *buf, size_t cap)
{
	buf[0] = 0;
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(patron_store_db(s), "SELECT DISTINCT label FROM scores WHERE name"
			       " = 'segment' ORDER BY 1", -1, &st, NULL) != SQLITE_OK)
		return;
	size_t len = 0;
	while (sqlite3_step(st) == SQLITE_ROW && len + 1 < cap)
		len += (size_t)snprintf(buf + len, cap - len, "%s%s", len ? ", " : "",
					(const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
}

/* A spreadsheet runs a cell that starts with = + - @ as a formula: a
 * customer's name must not. Such text gets a leading apostrophe. */
static void csv_text(const char *s)
{
	if (!s)
		return;
	if (s[0] && strchr("=+-@\t\r", s[0])) {
		patron_buf b = {0};
		patron_buf_printf(&b, "'%s", s);
		patron_csv_write_field(stdout, b.data, b.len);
		patron_buf_free(&b);
	} else {
		patron_csv_write_field(stdout, s, strlen(s));
	}
}

static void csv_number(double v, const char *fmt)
{
	if (!isnan(v))
		printf(fmt, v);
}

static json_t *list_json(const char *s)
{
	json_t *a = json_array();
	while (s && *s) {
		const char *end = strchr(s, ';');
		size_t len = end ? (size_t)(end - s) : strlen(s);
		json_array_append_new(a, json_stringn(s, len));
		s = end ? end + 1 + (end[1] == ' ') : NULL;
	}
	return a;
}

static json_t *num_or_null(double v) { return isnan(v) ? json_null() : json_real(v); }
static json_t *str_or_null(const char *s) { return s ? json_string(s) : json_null(); }

static void print_json(const row *rows, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++) {
		const row *r = &rows[i];
		char day[32];
		json_t *o = json_object();
		json_object_set_new(o, "id", json_integer(r->id));
		json_object_set_new(o, "email", str_or_null(r->email));
		json_object_set_new(o, "name", str_or_null(r->name));
		json_object_set_new(o, "segment", str_or_null(r->segment));
		json_object_set_new(o, "orders", json_integer(r->orders));
		json_object_set_new(o, "total_spent", json_real((double)r->spent / 100.0));
		json_object_set_new(o, "last_order_at",
				    r->last ? json_string(patron_format_day(r->last, day)) : json_null());
		json_object_set_new(o, "days_since_last_order", r->last ? json_integer(
			g_today - patron_day_number(r->last)) : json_null());
		json_object_set_new(o, "churn", num_or_null(r->churn));
		json_object_set_new(o, "churn_reasons", list_json(r->reasons));
		json_object_set_new(o, "clv", num_or_null(r->clv));
		json_object_set_new(o, "value", json_real(value_of(r)));
		json_object_set_new(o, "top_recommendation", str_or_null(r->rec));
		json_object_set_new(o, "consent", list_json(r->consent));
		json_array_append_new(a, o);
	}
	cli_print_json(a);
}

static void print_csv(const row *rows, size_t n)
{
	printf("id,email,name,segment,orders,total_spent,last_order_at,days_since_last_order,"
	       "churn,churn_reasons,clv,value,top_recommendation,consent\r\n");
	for (size_t i = 0; i < n; i++) {
		const row *r = &rows[i];
		char day[32], money[32];
		printf("%lld,", (long long)r->id);
		csv_text(r->email), putchar(',');
		csv_text(r->name), putchar(',');
		csv_text(r->segment), putchar(',');
		printf("%lld,%s,", (long long)r->orders, patron_format_money(r->spent, money));
		if (r->last)
			printf("%s,%lld", patron_format_day(r->last, day),
			       (long long)(g_today - patron_day_number(r->last)));
		else
			putchar(',');
		putchar(',');
		csv_number(r->churn, "%.4f"), putchar(',');
		csv_text(r->reasons), putchar(',');
		csv_number(r->clv, "%.2f"), putchar(',');
		csv_number(value_of(r), "%.2f"), putchar(',');
		csv_text(r->rec), putchar(',');
		csv_text(r->consent);
		printf("\r\n");
	}
}

/* Up to WIDTH characters of S (UTF-8, never cut inside a character),
 * padded with spaces. */
static void cell(const char *s, int width)
{
	if (!s)
		s = "-";
	int chars = 0;
	const char *p = s;
	while (*p && chars < width) {
		p++;
		while ((*p & 0xC0) == 0x80)
			p++;
		chars++;
	}
	int cut = *p != 0;
	if (cut) {	/* room for the ellipsis */
		p = s, chars = 0;
		while (*p && chars < width - 1) {
			p++;
			while ((*p & 0xC0) == 0x80)
				p++;
			chars++;
		}
	}
	printf("%.*s%s%*s", (int)(p - s), s, cut ? "…" : "", width - chars - cut, "");
}

static void print_table(const row *rows, size_t n, size_t total)
{
	printf("%7s  %-22s %-26s %-16s %6s %10s %5s %6s %10s  %s\n", "id", "name", "email",
	       "segment", "orders", "spent", "days", "churn", "clv", "recommend");
	for (size_t i = 0; i < n; i++) {
		const row *r = &rows[i];
		char money[32], days[24] = "-", churn[16] = "-", clv[32] = "-";
		if (r->last)
			snprintf(days, sizeof days, "%lld",
				 (long long)(g_today - patron_day_number(r->last)));
		if (!isnan(r->churn))
			snprintf(churn, sizeof churn, "%.0f%%", 100 * r->churn);
		if (!isnan(r->clv))
			patron_format_money((int64_t)llround(r->clv * 100), clv);
		printf("%7lld  ", (long long)r->id);
		cell(r->name, 22), putchar(' ');
		cell(r->email, 26), putchar(' ');
		cell(r->segment, 16);
		printf(" %6lld %10s %5s %6s %10s  ", (long long)r->orders,
		       patron_format_money(r->spent, money), days, churn, clv);
		printf("%s\n", r->rec ? r->rec : "-");
	}
	if (total > n)
		printf("... %zu more (--limit 0 shows all)\n", total - n);
	else if (!total)
		printf("no customer matches\n");
}

static int parse_sort(const char *v)
{
	size_t len = strcspn(v, ":");
	g_asc = -1;
	if (v[len]) {
		if (strcmp(v + len + 1, "asc") == 0)
			g_asc = 1;
		else if (strcmp(v + len + 1, "desc") == 0)
			g_asc = 0;
		else
			return -1;
	}
	for (size_t i = 0; i < sizeof sort_names / sizeof *sort_names; i++)
		if (strlen(sort_names[i].name) == len && strncmp(sort_names[i].name, v, len) == 0) {
			g_key = sort_names[i].key;
			int text = g_key == K_NAME || g_key == K_EMAIL || g_key == K_SEGMENT;
			if (g_asc < 0)	/* text A to Z, numbers largest first; id ascending */
				g_asc = text || g_key == K_ID;
			return 0;
		}
	return -1;
}

static int run(cli *c, int argc, char **argv)
{
	const char *segment = NULL, *where = NULL, *sort = "id", *limit_text = NULL;
	int csv = 0;
	for (int i = 1; i < argc; i++) {
		const char *v;
		int m;
		if ((m = cli_opt_value(argc, argv, &i, "--segment", &v)) != 0) {
			if (m < 0)
				return cli_usage(&cmd_customers, "--segment needs a segment's name");
			segment = v;
		} else if ((m = cli_opt_value(argc, argv, &i, "--where", &v)) != 0) {
			if (m < 0)
				return cli_usage(&cmd_customers, "--where needs a Lua expression over "
						 "c, such as 'c.churn > 0.5'");
			where = v;
		} else if ((m = cli_opt_value(argc, argv, &i, "--sort", &v)) != 0) {
			if (m < 0)
				return cli_usage(&cmd_customers, "--sort needs a field");
			sort = v;
		} else if ((m = cli_opt_value(argc, argv, &i, "--limit", &v)) != 0) {
			if (m < 0)
				return cli_usage(&cmd_customers, "--limit needs a number");
			limit_text = v;
		} else if (strcmp(argv[i], "--csv") == 0) {
			csv = 1;
		} else {
			return cli_usage(&cmd_customers, "unexpected argument \"%s\"", argv[i]);
		}
	}
	if (parse_sort(sort) < 0)
		return cli_usage(&cmd_customers, "--sort %s: expected one of id, name, email, "
				 "segment, orders, total_spent, days_since_last_order, churn, clv, "
				 "value or value*risk, optionally with :asc or :desc", sort);
	/* The table shows a screenful unless told; files get everyone. */
	int64_t limit = csv || c->json ? 0 : 50;
	if (limit_text && (patron_parse_int(limit_text, &limit) < 0 || limit < 0))
		return cli_usage(&cmd_customers, "--limit %s: expected a whole number, 0 for all",
				 limit_text);
	if (csv && c->json)
		return cli_usage(&cmd_customers, "--csv and --json: choose one");
	patron_store *s = cli_store(c);
	if (!s)
		return EXIT_FAIL;
	sqlite3 *db = patron_store_db(s);
	g_today = patron_day_number(c->now);
	patron_err err;
	patron_rules *rules = NULL;
	const int64_t *ids = NULL;
	size_t nids = 0, at = 0;
	if (where) {
		patron_rules_opts o = {.store = s, .now = c->now};
		rules = patron_rules_new(&o);
		if (patron_rules_load_where(rules, "--where", where, &err) < 0) {
			patron_rules_free(rules);
			return cli_fail(EXIT_USAGE, "%s", err.msg);
		}
	}
	/* One read of the store: the list and the view see the same customers. */
	sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
	if (rules && patron_rules_bulk(rules, &ids, &nids, &err) < 0) {
		sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
		patron_rules_free(rules);
		return cli_fail(EXIT_FAIL, "%s", err.msg);
	}
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db, list_sql, -1, &st, NULL) != SQLITE_OK) {
		int rc = cli_fail(EXIT_FAIL, "%s: %s", c->db_path, sqlite3_errmsg(db));
		sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
		patron_rules_free(rules);
		return rc;
	}
	if (segment)
		sqlite3_bind_text(st, 1, segment, -1, SQLITE_STATIC);
	row *rows = NULL;
	size_t n = 0, cap = 0;
	int rc = EXIT_OK, step;
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t id = sqlite3_column_int64(st, 0);
		if (rules) {
			while (at < nids && ids[at] < id)
				at++;
			int m = patron_rules_where(rules, 0, id, at < nids && ids[at] == id ?
						   (int64_t)at : -1, &err);
			if (m < 0) {
				/* the one line the user wrote needs no number */
				if (strncmp(err.msg, "--where:1:", 10) == 0)
					memmove(err.msg + 7, err.msg + 9, strlen(err.msg + 9) + 1);
				rc = cli_fail(EXIT_FAIL, "%s (for customer %lld)%s", err.msg,
					      (long long)id, strstr(err.msg, "nil") ? "; a field a "
					      "customer lacks is nil: write (c.churn or 0) > 0.5" : "");
				break;
			}
			if (!m)
				continue;
		}
		if (n == cap)
			rows = patron_xrealloc(rows, (cap = cap ? 2 * cap : 256) * sizeof *rows);
		row *r = &rows[n++];
		r->id = id;
		r->email = dup_text(st, 1);
		r->name = dup_text(st, 2);
		r->orders = sqlite3_column_int64(st, 3);
		r->spent = sqlite3_column_int64(st, 4);
		r->last = sqlite3_column_int64(st, 5);
		r->segment = dup_text(st, 6);
		r->churn = sqlite3_column_type(st, 7) == SQLITE_NULL ? NAN
								      : sqlite3_column_double(st, 7);
		r->clv = sqlite3_column_type(st, 8) == SQLITE_NULL ? NAN
								    : sqlite3_column_double(st, 8);
		r->reasons = dup_text(st, 9);
		r->rec = dup_text(st, 10);
		r->consent = dup_text(st, 11);
	}
	if (rc == EXIT_OK && step != SQLITE_DONE)
		rc = cli_fail(EXIT_FAIL, "%s: %s", c->db_path, sqlite3_errmsg(db));
	sqlite3_finalize(st);
	if (rc == EXIT_OK && segment && !n && !where) {
		char known[1024];
		known_segments(s, known, sizeof known);
		rc = cli_fail(EXIT_FAIL, "no customer is in segment \"%s\" (%s%s)", segment,
			      *known ? "segments: " : "no segments yet: run patron score", known);
	}
	sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	patron_rules_free(rules);
	if (rc == EXIT_OK) {
		if (n)
			qsort(rows, n, sizeof *rows, compare);
		size_t shown = limit && (size_t)limit < n ? (size_t)limit : n;
		if (c->json)
			print_json(rows, shown);
		else if (csv)
			print_csv(rows, shown);
		else
			print_table(rows, shown, n);
	}
	free_rows(rows, n);
	return rc;
}

const cli_command cmd_customers = {
	"customers", run, "list customers, filtered and sorted (the morning's list)",
	"usage: patron customers [--segment S] [--where 'LUA EXPR'] [--sort FIELD[:asc|:desc]]\n"
	"                        [--limit N] [--csv | --json]\n"
	"\n"
	"Lists customers with the fields a rule sees: segment, orders, total spent (base\n"
	"currency), days since the last order, churn risk and its reasons, predicted\n"
	"CLV, the top recommendation and the channels they consented to.\n"
	"\n"
	"  --segment S   only customers of segment S (see patron segments)\n"
	"  --where EXPR  only customers for whom the Lua expression is true, read as a\n"
	"                rule's where reads it, in the same sandbox and with the same\n"
	"                fields: --where 'c.orders >= 3 and (c.churn or 0) > 0.5'\n"
	"  --sort FIELD  id (the default), name, email, segment, orders, total_spent,\n"
	"                days_since_last_order, churn (or risk), clv, value, or\n"
	"                value*risk: what a customer is worth (the predicted CLV when a\n"
	"                CLV model scored them, else what they spent) times their churn\n"
	"                risk, the value a save would keep. Numbers sort largest first,\n"
	"                text A to Z; :asc or :desc says otherwise. Customers without\n"
	"                the field come last.\n"
	"  --limit N     the first N; the table shows 50 unless told, --csv and --json\n"
	"                everyone (0 means all)\n"
	"  --csv         CSV with a header row, for a spreadsheet or a mail merge; text\n"
	"                that a spreadsheet would run as a formula (= + - @ first) is\n"
	"                written with a leading apostrophe\n"
	"\n"
	"The morning's list: patron customers --segment at_risk --sort value*risk --csv\n",
};
