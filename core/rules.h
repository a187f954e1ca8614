/* The rules runtime: the owner's Lua rule files, run in a sandbox.
 *
 *   rule { name = "email lapsed VIPs", every = "1d",
 *     where = function(c) return c.segment == "champions" and
 *                                c.days_since_last_order > 60 end,
 *     act = function(c) send{ channel = "email", to = c, template = "winback" } end,
 *     cooldown = "30d" }
 *
 * A rule is triggered by events (`on = "order.*"`, delivered through the
 * bus with a cursor of its own) or by a schedule (`every = "1d"`, evaluated
 * in bulk over every customer against --now). Each file runs in its own Lua
 * state with no io, os.execute, require, load or debug, an instruction
 * budget per call of where/act and a memory cap per state. What a rule does
 * (send, tag, untag, set, emit, log) is written to the audit table in the
 * same transaction as its effect and as the move of the rule's cursor or
 * schedule, so a run killed midway is redone exactly on the next run. */
#ifndef PATRON_RULES_H
#define PATRON_RULES_H

#include <stdint.h>
#include <stdio.h>

#include "config.h"
#include "store.h"

/* Per call of where or act (instructions, seconds; a string function's
 * work counts too), and per rule file (memory). A rule that runs over
 * either, or fails PATRON_RULE_MAX_ERRORS times in a run, is stopped for
 * the run: its events wait and its schedule stays due, for a fixed rule. */
#define PATRON_RULE_STEPS 1000000L
#define PATRON_RULE_MEMORY (64u << 20)
#define PATRON_RULE_SECONDS 5	/* wall-clock limit of one call */
#define PATRON_RULE_MAX_ERRORS 100

typedef struct patron_rules patron_rules;

typedef struct {
	patron_store *store;		/* NULL to load and check only */
	const patron_config *config;	/* channels, frequency cap, templates; may be NULL */
	int64_t now;
	int dry_run;		/* do everything in a transaction rolled back at the end */
	FILE *out;		/* where what happened is printed; NULL for nowhere */
	int verbose;		/* print every action (a dry run always does) */
	long show_max;		/* action lines printed per rule; < 0 for all */
	long steps;		/* instruction budget per call; 0 for PATRON_RULE_STEPS */
	size_t memory;		/* memory cap per file; 0 for PATRON_RULE_MEMORY */
	int64_t seconds;	/* time limit per call; 0 for PATRON_RULE_SECONDS */
} patron_rules_opts;

patron_rules *patron_rules_new(const patron_rules_opts *o);
void patron_rules_free(patron_rules *r);

/* Loads a rule file: a syntax error, a bad rule{} or a name used twice is
 * an error naming the file and line. */
int patron_rules_load(patron_rules *r, const char *path, patron_err *err);
size_t patron_rules_count(const patron_rules *r);

/* A condition as a rule's where reads it, from one Lua expression over the
 * customer `c` (patron customers --where "c.churn > 0.5"): loaded as rule
 * NAME, in the same sandbox and with the same view as every rule. */
int patron_rules_load_where(patron_rules *r, const char *name, const char *expr,
			    patron_err *err);
/* Rule I's where for customer CID (ROW: its index in the bulk list, or -1):
 * 1 true, 0 false, -1 with the message in err. Nothing is acted on. */
int patron_rules_where(patron_rules *r, size_t i, int64_t cid, int64_t row, patron_err *err);
/* Every customer id, ascending, with the view switched to bulk reading. */
int patron_rules_bulk(patron_rules *r, const int64_t **ids, size_t *n, patron_err *err);
/* Describes rule I ("name (file:line): every 1d") into BUF. */
void patron_rules_describe(const patron_rules *r, size_t i, char *buf, size_t cap);

typedef struct {
	long rules, events, checked, matched, acted, refused, errors;
} patron_rules_totals;

/* Delivers pending events to the event rules and runs the scheduled rules
 * that are due, printing what each rule did. Rule errors are reported and
 * counted, not returned: -1 means the store failed. */
int patron_rules_run(patron_rules *r, patron_rules_totals *t, patron_err *err);

#endif
