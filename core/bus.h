/* The event bus. Every event is appended to the store's event log before
 * anyone sees it; subscribers receive, in id order, the events whose topic
 * matches their pattern, and keep a durable cursor: the id of the last
 * event they were handed. The handling of a batch of events and the move of
 * the cursor past them commit together, so a run killed midway redelivers
 * exactly the batch that did not commit, and nothing twice. */
#ifndef PATRON_BUS_H
#define PATRON_BUS_H

#include <stdint.h>

#include "store.h"

typedef struct {
	int64_t id;
	const char *topic;
	int64_t customer_id;	/* 0 when the event is about no customer */
	const char *payload;	/* a JSON object text */
	int64_t occurred_at;
} patron_event;

/* What a subscriber's handler returns: the event was handled; it failed
 * (the error is recorded, delivery goes on); or the subscriber wants no more
 * events this time (the cursor stays before this event). */
enum { PATRON_BUS_OK = 0, PATRON_BUS_FAILED = -1, PATRON_BUS_HOLD = 1 };
typedef int (*patron_bus_fn)(void *ud, const patron_event *ev, patron_err *err);

typedef struct patron_bus patron_bus;

patron_bus *patron_bus_new(patron_store *s);
void patron_bus_free(patron_bus *b);

/* A topic is lower-case letters, digits, '_' and '-' in dot-separated
 * words ("order.created"). A pattern may also use '*' for any run of
 * characters ("order.*", "*"). */
int patron_topic_valid(const char *topic);
int patron_pattern_valid(const char *pattern);
int patron_topic_matches(const char *pattern, const char *topic);

/* Appends an event (PAYLOAD a JSON object text, or NULL). Durable once the
 * surrounding transaction commits. */
int patron_bus_publish(patron_bus *b, const char *topic, int64_t cid, const char *payload,
		       int64_t occurred_at, int64_t now, patron_err *err);

/* Registers NAME (unique; its cursor is kept under it) for PATTERN. A new
 * subscriber starts at the beginning of the log. */
int patron_bus_subscribe(patron_bus *b, const char *name, const char *pattern,
			 patron_bus_fn fn, void *ud, patron_err *err);

typedef struct {
	int64_t delivered;	/* events handed to handlers */
	int64_t failed;		/* of which the handler failed */
	int64_t held;		/* subscribers that stopped early */
} patron_bus_stats;

/* Hands every subscriber the events after its cursor, up to the last
 * event in the log when the call began (events published by handlers wait
 * for the next call), in batches each committed with its cursor. Inside a
 * caller's transaction the batches become savepoints of it. */
int patron_bus_deliver(patron_bus *b, int64_t now, patron_bus_stats *st, patron_err *err);

/* The id of the last event in the log (0 when it is empty). */
int64_t patron_bus_last(patron_bus *b);

/* The cursor of subscriber NAME (0 when it has none). */
int64_t patron_bus_cursor(patron_bus *b, const char *name);

#endif
