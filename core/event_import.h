/* Importing events from a file: CSV with a header, or JSON Lines. Each
 * file is one transaction; a bad record fails the file with FILE:LINE. */
#ifndef PATRON_EVENT_IMPORT_H
#define PATRON_EVENT_IMPORT_H

#include <stdint.h>

#include "store.h"

/* CSV columns: topic (required); customer, email or customer_id (a known
 * customer, found as patron_customer_resolve finds one; optional); at (or occurred_at,
 * time, date; default NOW); data (a JSON object; optional). Any other column
 * becomes a text field of data. JSON Lines (a .jsonl or .ndjson file): one
 * object per line with the same names, data an object. */
int patron_events_import(patron_store *s, const char *path, int64_t now, int64_t *count,
			 patron_err *err);

#endif
