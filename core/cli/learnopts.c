/* The options of supervised jobs that train and eval share: where labels
 * come from, how many customers are held out, the seed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../value.h"
#include "learnopts.h"

int cli_learn_option(int argc, char **argv, int *i, learn_cli *o, const char **missing)
{
	static const char *const names[] = {"--label", "--cutoff", "--horizon", "--holdout",
					    "--seed", NULL};
	const char **slots[] = {&o->label, &o->cutoff, &o->horizon, &o->holdout, &o->seed};
	for (int k = 0; names[k]; k++) {
		const char *v;
		int r = cli_opt_value(argc, argv, i, names[k], &v);
		if (r < 0) {
			*missing = names[k];
			return -1;
		}
		if (r > 0) {
			*slots[k] = v;
			return 1;
		}
	}
	return 0;
}

int cli_learn_finish(cli *c, const patron_config *cfg, const char *job, learn_cli *o,
		     learn_opts *out, const cli_command *cmd)
{
	memset(out, 0, sizeof *out);
	out->holdout = 0.2;
	out->seed = 1;
	/* Unset on the command line: the job's options in patron.conf. */
	if (!o->label && !o->cutoff && !o->horizon) {
		o->label = patron_config_string(cfg, job, "label");
		o->horizon = patron_config_string(cfg, job, "horizon");
	}
	if (o->label && (o->cutoff || o->horizon))
		return cli_usage(cmd, "--label or --cutoff/--horizon: labels come from an attribute "
				 "or from history, not both");
	if (!o->label && !o->cutoff && !o->horizon)
		return cli_usage(cmd, "where do labels come from? --label ATTRIBUTE (yes/no per "
				 "customer), or --horizon 90d (no order within 90 days of a cutoff)");
	if (o->label) {
		out->lab.label = patron_xstrdup(o->label);
	} else {
		int64_t horizon = 90 * 86400;
		if (o->horizon && patron_parse_duration(o->horizon, &horizon) < 0)
			return cli_usage(cmd, "--horizon: expected a duration such as 90d, got \"%s\"",
					 o->horizon);
		int64_t cutoff = c->now - horizon;
		if (o->cutoff && patron_parse_date(o->cutoff, PATRON_DATE_MDY, &cutoff) < 0)
			return cli_usage(cmd, "--cutoff: expected a date (YYYY-MM-DD), got \"%s\"",
					 o->cutoff);
		out->lab.cutoff = cutoff;
		out->lab.horizon = horizon;
	}
	if (o->holdout) {
		char *end;
		out->holdout = strtod(o->holdout, &end);
		if (*end || !(out->holdout >= 0 && out->holdout < 1))
			return cli_usage(cmd, "--holdout: expected a share from 0 to below 1, got "
					 "\"%s\"", o->holdout);
	}
	if (o->seed) {
		char *end;
		long long s = strtoll(o->seed, &end, 10);
		if (*end || end == o->seed || s < 0)
			return cli_usage(cmd, "--seed: expected a whole number, got \"%s\"", o->seed);
		out->seed = (uint64_t)s;
	}
	return EXIT_OK;
}
