/* patron deliver: the outbox through the channels.
 * patron preview: a template rendered for one customer.
 * patron unsubscribe: a customer withdraws consent. */
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../bus.h"
#include "../config.h"
#include "../consent.h"
#include "../outbox.h"
#include "../plugin.h"
#include "../value.h"
#include "cli.h"

int cli_deliver(cli *c, const struct patron_config *cfg, int64_t limit, int verbose, int quiet,
		int after_run)
{
	patron_plugins ps = {0};
	patron_plugins_load(&ps, c->exe_dir);
	patron_deliver_opts o = {.config = cfg, .plugins = &ps, .now = c->now, .limit = limit,
				 .out = stdout, .verbose = verbose};
	patron_deliver_stats st;
	patron_err err;
	int rc = patron_deliver(c->store, &o, &st, &err);
	patron_plugins_free(&ps);
	if (rc < 0 && st.other_running && after_run) {
		/* What this run queued is that deliverer's to send. */
		if (!quiet)
			printf("deliver: %s; it sends what this run queued\n", err.msg);
		return EXIT_OK;
	}
	if (rc < 0)
		return cli_fail(EXIT_FAIL, "%s", err.msg);
	if (!quiet) {
		printf("deliver: %lld sent, %lld to retry, %lld failed, %lld bounced, %lld cancelled "
		       "(no consent)", (long long)st.sent, (long long)st.retrying,
		       (long long)st.dead, (long long)st.bounced, (long long)st.cancelled);
		if (st.waiting)
			printf("; %lld waiting", (long long)st.waiting);
		printf("\n");
	}
	/* A channel that could not be reached is a failure cron should see. */
	return st.channels_down ? EXIT_FAIL : EXIT_OK;
}

static int deliver(cli *c, int argc, char **argv)
{
	int verbose = 0, quiet = 0;
	int64_t limit = 0;
	for (int i = 1; i < argc; i++) {
		const char *v;
		int r;
		if (strcmp(argv[i], "--verbose") == 0 || strcmp(argv[i], "-v") == 0)
			verbose = 1;
		else if (strcmp(argv[i], "--quiet") == 0 || strcmp(argv[i], "-q") == 0)
			quiet = 1;
		else if ((r = cli_opt_value(argc, argv, &i, "--limit", &v)) != 0) {
			if (r < 0 || patron_parse_int(v, &limit) < 0 || limit < 1)
				return cli_usage(&cmd_deliver, "--limit: expected a number above 0");
		} else
			return cli_usage(&cmd_deliver, "unexpected argument \"%s\"", argv[i]);
	}
	struct patron_config *cfg = cli_config(c);
	if (!cfg || !cli_store(c)) {
		patron_config_free(cfg);
		return EXIT_FAIL;
	}
	int rc = cli_deliver(c, cfg, limit, verbose, quiet, 0);
	patron_config_free(cfg);
	return rc;
}

const cli_command cmd_deliver = {
	"deliver", deliver, "send what the outbox holds, through the channels",
	"usage: patron deliver [--limit N] [--verbose] [--quiet]\n"
	"\n"
	"Sends the queued messages that are due, oldest first, each through its\n"
	"channel's plugin (patron.conf channels.NAME.plugin: outbox-file, the default,\n"
	"writes .eml files to outbox/ beside the store; smtp; webhook). patron run\n"
	"delivers at its end too.\n"
	"\n"
	"Before a message goes, its customer's consent for the channel is checked\n"
	"again. A temporary failure (SMTP 4xx, HTTP 408/429/5xx, a server that\n"
	"cannot be reached or is too slow) is retried later with a doubling backoff,\n"
	"up to channels.NAME.attempts (8) tries; a permanent one (SMTP 5xx, HTTP 4xx)\n"
	"is dead at once. Each outcome is an event: message.sent, message.failed,\n"
	"message.bounced. A message sent again after a crash keeps its Message-ID.\n"
	"\n"
	"  --limit N       send at most N messages\n"
	"  --verbose, -v   a line per message\n"
	"  --quiet, -q     print nothing but errors\n"
	"\n"
	"Exit status 1 when a channel could not be reached (its messages wait).\n",
};

static int preview(cli *c, int argc, char **argv)
{
	const char *name = NULL, *who = NULL, *vars = NULL, *rules = NULL;
	int64_t message = 0;
	int raw = 0;
	for (int i = 1; i < argc; i++) {
		const char *v;
		int r;
		if ((r = cli_opt_value(argc, argv, &i, "--customer", &v)) != 0) {
			if (r < 0)
				return cli_usage(&cmd_preview, "--customer needs an id or email");
			who = v;
		} else if ((r = cli_opt_value(argc, argv, &i, "--vars", &v)) != 0) {
			if (r < 0)
				return cli_usage(&cmd_preview, "--vars needs a JSON object");
			vars = v;
		} else if ((r = cli_opt_value(argc, argv, &i, "--rules", &v)) != 0) {
			if (r < 0)
				return cli_usage(&cmd_preview, "--rules needs a folder");
			rules = v;
		} else if ((r = cli_opt_value(argc, argv, &i, "--message", &v)) != 0) {
			if (r < 0 || patron_parse_int(v, &message) < 0 || message < 1)
				return cli_usage(&cmd_preview, "--message: expected an outbox id");
		} else if (strcmp(argv[i], "--raw") == 0) {
			raw = 1;
		} else if (argv[i][0] == '-' && argv[i][1]) {
			return cli_usage(&cmd_preview, "unknown option \"%s\"", argv[i]);
		} else if (!name) {
			name = argv[i];
		} else {
			return cli_usage(&cmd_preview, "unexpected argument \"%s\"", argv[i]);
		}
	}
	if (!message && (!name || !who))
		return cli_usage(&cmd_preview, "expected TEMPLATE --customer ID, or --message ID");
	if (vars) {
		json_error_t je;
		json_t *j = json_loads(vars, 0, &je);
		int ok = json_is_object(j);
		json_decref(j);
		if (!ok)
			return cli_usage(&cmd_preview, "--vars: expected a JSON object like "
					 "'{\"discount\": \"15%%\"}'");
	}
	struct patron_config *cfg = cli_config(c);
	if (!cfg || !cli_store(c)) {
		patron_config_free(cfg);
		return EXIT_FAIL;
	}
	int64_t cid = 0;
	if (who && !(cid = patron_customer_resolve(c->store, who))) {
		patron_config_free(cfg);
		return cli_fail(EXIT_FAIL, "--customer: no customer \"%s\"", who);
	}
	char dir[4400], fallback[4200];
	if (!rules) {
		char *copy = patron_xstrdup(c->db_path);
		snprintf(fallback, sizeof fallback, "%s/rules", dirname(copy));
		free(copy);
		rules = fallback;
	}
	patron_templates_dir(cfg, rules, dir, sizeof dir);
	char *out = NULL;
	patron_err err;
	int rc = EXIT_OK;
	if (patron_outbox_render(c->store, cfg, c->now, message, dir, name, cid, vars, raw, &out,
				 &err) < 0)
		rc = cli_fail(EXIT_FAIL, "%s", err.msg);
	else
		fputs(out, stdout);
	free(out);
	patron_config_free(cfg);
	return rc;
}

const cli_command cmd_preview = {
	"preview", preview, "render a template for one customer, as it would be sent",
	"usage: patron preview TEMPLATE --customer ID|EMAIL [--vars JSON] [--rules DIR] [--raw]\n"
	"       patron preview --message ID [--raw]\n"
	"\n"
	"Renders template TEMPLATE (from the config's templates folder, else\n"
	"rules/templates beside the store, or DIR/templates with --rules) for the\n"
	"customer, with the variables a rule would pass (--vars '{\"discount\":\"15%\"}'),\n"
	"or renders message ID of the outbox. Prints the recipient, subject, Message-ID,\n"
	"the unsubscribe link and both bodies; --raw prints the whole email instead.\n"
	"A value the template needs and the customer lacks is an error naming the\n"
	"file and line. Nothing is sent or queued.\n",
};

static int unsubscribe(cli *c, int argc, char **argv)
{
	const char *who = NULL, *channel = NULL;
	for (int i = 1; i < argc; i++) {
		const char *v;
		int r;
		if ((r = cli_opt_value(argc, argv, &i, "--channel", &v)) != 0) {
			if (r < 0)
				return cli_usage(&cmd_unsubscribe, "--channel needs a channel name");
			channel = v;
		} else if (argv[i][0] == '-' && argv[i][1]) {
			return cli_usage(&cmd_unsubscribe, "unknown option \"%s\"", argv[i]);
		} else if (!who) {
			who = argv[i];
		} else {
			return cli_usage(&cmd_unsubscribe, "unexpected argument \"%s\"", argv[i]);
		}
	}
	if (!who)
		return cli_usage(&cmd_unsubscribe, "expected an email, a customer or a token");
	if (!cli_store(c))
		return EXIT_FAIL;
	int64_t cid = 0;
	char from_token[128];
	int t = patron_unsubscribe_check(c->store, who, &cid, from_token, sizeof from_token);
	if (t < 0)
		return cli_fail(EXIT_FAIL, "\"%s\": the unsubscribe token's signature is wrong "
				"(not made by this store, or altered)", who);
	if (t > 0 && !channel)
		channel = from_token;
	if (t == 0 && !(cid = patron_customer_resolve(c->store, who)))
		return cli_fail(EXIT_FAIL, "no customer \"%s\" in %s", who, c->db_path);
	if (!channel)
		channel = "email";
	patron_err err;
	int changed = 0;
	json_t *p = json_pack("{s:s, s:s}", "channel", channel, "source", "cli");
	char *payload = json_dumps(p, JSON_COMPACT);
	json_decref(p);
	int rc = patron_store_begin(c->store, &err);
	if (rc == 0)
		rc = patron_consent_withdraw(c->store, cid, channel, c->now, &changed, &err);
	if (rc == 0)	/* rules may answer it (a goodbye note is not a marketing email) */
		rc = patron_event_append(c->store, "customer.unsubscribed", cid, payload, c->now,
					 c->now, &err);
	if (rc == 0)
		rc = patron_store_commit(c->store, &err);
	free(payload);
	if (rc < 0) {
		patron_store_rollback(c->store);
		return cli_fail(EXIT_FAIL, "%s", err.msg);
	}
	printf("customer %lld unsubscribed from %s%s; queued messages to them on it will not "
	       "be sent\n", (long long)cid, channel, changed ? "" : " (already)");
	return EXIT_OK;
}

const cli_command cmd_unsubscribe = {
	"unsubscribe", unsubscribe, "withdraw a customer's consent for a channel",
	"usage: patron unsubscribe EMAIL|ID|TOKEN [--channel NAME]\n"
	"\n"
	"Records that the customer withdrew consent for the channel (default email;\n"
	"a token, from an email's unsubscribe link, names its own). From then on no\n"
	"rule can send to them on it, and messages already queued are cancelled when\n"
	"delivery reaches them. Appends a customer.unsubscribed event; the same event\n"
	"from elsewhere (patron emit, patron import events) has the same effect. A\n"
	"later import saying the customer accepts marketing does not undo it.\n",
};
