/* What rules.c and actions.c share: the loaded rules, the state of the
 * current call of where/act, and the audit. Not part of any other file's
 * contract. */
#ifndef PATRON_RULES_IMPL_H
#define PATRON_RULES_IMPL_H

#include <jansson.h>
#include <lua.h>

#include "bus.h"
#include "consent.h"
#include "rules.h"
#include "view.h"

typedef struct rule_file rule_file;

/* What one rule did during a run. */
typedef struct {
	long checked, matched, acted, cooling, stale, refused, errors, held;
	long send, tag, untag, set, emit, log;
	long shown, hidden;
} rule_stats;

typedef struct {
	char *name, *file, *pattern, *description;
	int line;
	int64_t every, cooldown, max_age;
	long limit;
	int ran;		/* a scheduled rule was due this run */
	char stopped[PATRON_ERR_MAX];	/* why the rule was stopped for this run */
	int where_ref, act_ref;
	rule_file *f;
	patron_rules *owner;
	char refusal[160];	/* the first refusal's reason, for the summary */
	rule_stats st;
} rule;

struct rule_file {
	lua_State *L;
	char *path, *dir;
	size_t used, cap, base;	/* base: what it held once loaded */
	int capped;		/* the cap applies only while a rule runs */
	long steps, budget;
	double deadline;	/* patron_clock() past which the call is stopped */
	int over;		/* ran over its budget or cap in this call */
	patron_rules *owner;
};

/* The call being made: which rule, what triggered it, for whom. */
typedef struct {
	rule *r;
	char trigger[64];
	int64_t event_id, cid;
	int acting;		/* 0 in where: actions are refused there */
	int sends;		/* send{} calls so far, for the idempotency key */
	patron_buf lines;	/* what to print once the call succeeds */
	patron_buf why;
	json_t *why_json;
} rule_call;

/* Statements of the actions, prepared once. */
enum {
	A_AUDIT, A_COOLDOWN, A_CONSENT, A_CAP, A_OUTBOX, A_IDENTITY, A_TAG, A_UNTAG,
	A_ATTR_DEF, A_ATTR_DEF_PUT, A_ATTR_PUT, A_ATTR_DEL, A_SCHEDULE_GET, A_SCHEDULE_PUT,
	A_ORDER, A_ORDER_NUMBER, A_COUNT_
};

struct patron_rules {
	patron_rules_opts o;
	rule_file **files;
	size_t nfiles;
	rule **rules;
	size_t nrules;
	patron_view *view;
	patron_bus *bus;
	patron_consent_keeper keeper;	/* the core's unsubscribe handler on the bus */
	sqlite3_stmt *st[A_COUNT_];
	rule_call *call;	/* NULL outside where/act */
	int64_t cap_messages, cap_per;
	struct rule_template *tpls;	/* templates read by send, by folder and name */
	size_t ntpls;
};

/* The globals rules may not use, and the os functions they may. */
extern const char *const patron_rules_banned[];
extern const char *const patron_rules_os_allowed[];
/* Refuses, with PATH:LINE, a rule file's TEXT that names what the sandbox
 * refuses (rules_scan.c). */
int patron_rules_scan(const char *path, const char *text, size_t len, patron_err *err);

/* Registers send, tag, untag, set, emit, log and print in the table at -1. */
void patron_actions_register(lua_State *L, patron_rules *r);
/* Frees what the actions keep between calls (the templates). */
void patron_actions_free(patron_rules *r);
/* A statement of the actions, reset; NULL with the error in err. */
sqlite3_stmt *patron_rules_stmt(patron_rules *r, int id);
/* Writes an audit row for the current call; its id, or -1 on failure. */
int64_t patron_rules_audit(patron_rules *r, const char *action, int64_t cid, json_t *detail,
			   const char *status, const char *reason);
/* Buffers one line of what the current call did. */
void patron_rules_show(patron_rules *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
