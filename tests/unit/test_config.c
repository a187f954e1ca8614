#include <stdio.h>
#include <string.h>

#include "config.h"
#include "helpers.h"

static patron_config *cfg;
static patron_err err;

static int load(const char *text)
{
	return patron_config_load(scratch_file("patron.conf", text), 1, &cfg, &err);
}

/* The message after the "PATH: " or "PATH:LINE: " prefix. */
static const char *message(void)
{
	const char *p = strstr(err.msg, "patron.conf");
	ck_assert_ptr_nonnull(p);
	p += strlen("patron.conf");
	return p;
}

START_TEST(chooses_plugins_and_reads_their_options)
{
	ck_assert_int_eq(load("segment = \"rfm\"\nvalue = false\n"
			      "churn = { plugin = \"forest\", trees = 2 * 100, note = \"x\" }\n"
			      "channels = { email = { plugin = \"smtp\" } }\n"), 0);
	ck_assert_str_eq(patron_config_plugin(cfg, "segment"), "rfm");
	ck_assert_str_eq(patron_config_plugin(cfg, "churn"), "forest");
	ck_assert_str_eq(patron_config_plugin(cfg, "recommend"), "itemknn");	/* the default */
	ck_assert_str_eq(patron_config_plugin(cfg, "sentiment"), "lexicon");	/* the default */
	ck_assert_str_eq(patron_config_plugin(cfg, "forecast"), "holtwinters");
	ck_assert_ptr_null(patron_config_plugin(cfg, "value"));	/* switched off */
	double v = 0;
	ck_assert_int_eq(patron_config_number(cfg, "churn", "trees", &v), 1);
	ck_assert_double_eq(v, 200);
	ck_assert_int_eq(patron_config_number(cfg, "churn", "depth", &v), 0);
	ck_assert_int_eq(patron_config_number(cfg, "churn", "note", &v), -1);
	ck_assert_str_eq(patron_config_string(cfg, "churn", "note"), "x");
	patron_config_free(cfg);
	/* A boolean reads as 1 or 0 (repurchase = true). */
	ck_assert_int_eq(load("recommend = { plugin = \"itemknn\", repurchase = true, x = false }\n"), 0);
	ck_assert_int_eq(patron_config_number(cfg, "recommend", "repurchase", &v), 1);
	ck_assert_double_eq(v, 1);
	ck_assert_int_eq(patron_config_number(cfg, "recommend", "x", &v), 1);
	ck_assert_double_eq(v, 0);
	ck_assert_ptr_null(patron_config_string(cfg, "segment", "note"));
	patron_config_free(cfg);
	scratch_free();
}
END_TEST

START_TEST(a_missing_optional_config_means_the_fallbacks)
{
	ck_assert_int_eq(patron_config_load("/nonexistent/patron.conf", 0, &cfg, &err), 0);
	ck_assert_str_eq(patron_config_plugin(cfg, "segment"), "rfm");
	ck_assert_str_eq(patron_config_plugin(cfg, "value"), "clv");
	ck_assert_str_eq(patron_config_plugin(cfg, "churn"), "logreg");
	ck_assert_str_eq(patron_config_plugin(cfg, "recommend"), "itemknn");
	ck_assert_str_eq(patron_config_plugin(cfg, "sentiment"), "lexicon");
	patron_config_free(cfg);
	ck_assert_int_eq(patron_config_load("/nonexistent/patron.conf", 1, &cfg, &err), -1);
	ck_assert_str_eq(err.msg, "/nonexistent/patron.conf: cannot read: No such file or directory");
}
END_TEST

START_TEST(names_the_key_and_what_was_expected)
{
	static const struct {
		const char *text, *want;
	} cases[] = {
		{"segmnt = \"rfm\"\n", ": unknown key \"segmnt\" (expected one of: segment, churn,"
		 " value, recommend, sentiment, forecast, intent, channels, frequency_cap, templates,"
		 " currency, rules, retention, attribution, shop, campaign_costs, public_url, serve, inbox, sla, auto_reply)"},
		{"campaign_costs = { winback = -1 }\n", ": campaign_costs[winback]: expected a rule's "
		 "name and a cost, 0 or more, in the base currency"},
		{"shop = { name = \"x\" }\n", ": shop: expected the shop's name as a string, got "
		 "table"},
		{"attribution = { window = \"a week\" }\n", ": attribution.window: expected a "
		 "duration like \"7d\", got \"a week\""},
		{"attribution = { cost_per_message = -1 }\n", ": attribution.cost_per_message: "
		 "expected a number, 0 or more (in the base currency)"},
		{"rules = \"5s\"\n", ": rules: expected a table, got string"},
		{"rules = { time_limit = \"soon\" }\n", ": rules.time_limit: expected a duration like"
		 " \"5s\", got \"soon\""},
		{"retention = { events = \"forever\" }\n", ": retention.events: expected a duration"
		 " like \"2y\", got \"forever\""},
		{"frequency_cap = { per = \"7d\" }\n", ": frequency_cap.messages: expected a whole"
		 " number above 0"},
		{"segment = 42\n", ": segment: expected a plugin name, a table { plugin = NAME,"
		 " ... } or false, got number"},
		{"segment = true\n", ": segment: expected a plugin name, a table { plugin = NAME,"
		 " ... } or false, got boolean"},
		{"churn = { trees = 200 }\n", ": churn.plugin: expected a plugin name, got nil"},
		{"channels = \"smtp\"\n", ": channels: expected a table, got string"},
		{"currency = \"euro\"\n", ": currency: expected the shop's base currency as a"
		 " three-letter code such as \"EUR\", got euro"},
		{"currency = 978\n", ": currency: expected the shop's base currency as a"
		 " three-letter code such as \"EUR\", got number"},
		{"segment = \"rfm\"\nchurn = {\n", ":3: unexpected symbol near <eof>"},
		{"x = io.open('/etc/passwd')\n", ":1: attempt to index a nil value (global 'io')"},
		{"os.execute('true')\n", ":1: attempt to index a nil value (global 'os')"},
		{"require('os')\n", ":1: attempt to call a nil value (global 'require')"},
		{"while true do end\n", ":1: the config runs too long (over 1000000 instructions)"},
		{"s = string.rep('x', 1 << 30)\n", ": uses more than 8 MiB"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		ck_assert_msg(load(cases[i].text) == -1, "case %zu loaded", i);
		ck_assert_msg(strncmp(message(), cases[i].want, strlen(cases[i].want)) == 0,
			      "case %zu: got \"%s\"", i, err.msg);
		scratch_free();
	}
}
END_TEST

Suite *suite_config(void)
{
	Suite *s = suite_create("config");
	TCase *t = tcase_create("config");
	tcase_add_test(t, chooses_plugins_and_reads_their_options);
	tcase_add_test(t, a_missing_optional_config_means_the_fallbacks);
	tcase_add_test(t, names_the_key_and_what_was_expected);
	suite_add_tcase(s, t);
	return s;
}
