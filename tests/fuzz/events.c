/* The event importer's JSON Lines: any file lands whole or is refused with
 * its line, and a refused one leaves the store as it was. */
#include "../../core/event_import.h"
#include "common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static patron_store *s;
	patron_err err;
	if (!s) {
		if (patron_store_open(":memory:", &s, &err) < 0)
			abort();
		patron_store_exec(s, "INSERT INTO customers(id, created_at, updated_at) VALUES "
				  "(1, 0, 0); INSERT INTO identities VALUES ('email', "
				  "'ada@example.com', 1)", &err);
	}
	const char *path = scratch_file("events.jsonl", data, size);
	sqlite3_stmt *q;
	sqlite3_prepare_v2(patron_store_db(s), "SELECT count(*) FROM events", -1, &q, NULL);
	sqlite3_step(q);
	int64_t before = sqlite3_column_int64(q, 0), count = 0;
	sqlite3_reset(q);
	int rc = patron_events_import(s, path, 1790000000, &count, &err);
	sqlite3_step(q);
	int64_t after = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	if (rc < 0 ? after != before : after != before + count)
		abort();	/* half a file landed, or a count that is not what landed */
	return 0;
}
