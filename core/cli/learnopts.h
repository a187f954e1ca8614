/* Options of the supervised jobs, shared by patron train and patron eval. */
#ifndef PATRON_CLI_LEARNOPTS_H
#define PATRON_CLI_LEARNOPTS_H

#include "../config.h"
#include "../learn.h"
#include "cli.h"

typedef struct {
	const char *label, *cutoff, *horizon, *holdout, *seed;
	int skip_small;		/* a store too small to train on: one line, not a failure */
} learn_cli;

/* 1 when argv[*i] is one of --label --cutoff --horizon --holdout --seed
 * (taken, *i past its value), 0 when not, -1 when its value is missing
 * (*MISSING names the option). */
int cli_learn_option(int argc, char **argv, int *i, learn_cli *o, const char **missing);

/* Completes O from the job's options in patron.conf (label, horizon) and
 * checks it into OUT (out->lab.label is malloc'd). EXIT_OK, or the usage
 * error printed. With only --horizon, the cutoff is --now minus it: the
 * newest window whose labels are known. */
int cli_learn_finish(cli *c, const patron_config *cfg, const char *job, learn_cli *o,
		     learn_opts *out, const cli_command *cmd);

/* The churn risk at which a customer counts as at risk: churn.threshold in
 * patron.conf, else the threshold chosen from the held-out customers when
 * the model in use was trained, else 0.7. *SOURCE says which. -1 with the
 * line printed when patron.conf's is not a probability. */
int cli_churn_threshold(cli *c, const patron_config *cfg, double *t, const char **source);

/* patron train for a supervised job J (churn): CHOICE, or patron.conf's
 * plugin; prints the report. */
int cli_train_supervised(cli *c, const patron_job *j, const char *choice, learn_cli *lo);

/* patron run: retrains every supervised job whose `retrain` period has
 * passed (none in a dry run). EXIT_FAIL when one failed; the others go on. */
int cli_retrain_due(cli *c, const patron_config *cfg, int dry, int quiet);

#endif
