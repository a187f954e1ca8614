/* patron_rows(?): an eponymous virtual table over rows held in memory, so
 * that one INSERT ... SELECT writes a whole batch of them. Binding and
 * stepping an INSERT per row cost two and a half times as much (the per
 * statement work: reset, bindings, cursors opened and closed).
 *
 * The table's columns are c0 to c15 and whatever the source gives for
 * them; the source is bound to ?1 with patron_rows_bind. Used by the
 * results of a plugin run and by the import's batches of orders. */
#ifndef PATRON_ROWS_H
#define PATRON_ROWS_H

#include <sqlite3.h>
#include <stdint.h>

#define PATRON_ROWS_COLUMNS 16

/* NEXT moves to the next row (1; 0 past the last; -1 when it cannot, with
 * FAILURE saying why, which becomes the statement's error) and COLUMN
 * gives the current row's column COL (0 to PATRON_ROWS_COLUMNS - 1). */
typedef struct patron_rows_source patron_rows_source;
struct patron_rows_source {
	int (*next)(patron_rows_source *src);
	void (*column)(patron_rows_source *src, sqlite3_context *ctx, int col);
	char failure[128];
};

/* Makes patron_rows known to DB (again: it is cheap): SQLITE_OK or an
 * SQLite error code. */
int patron_rows_register(sqlite3 *db);

/* Binds SRC to ?1 of ST, a statement reading patron_rows(?1). */
void patron_rows_bind(sqlite3_stmt *st, patron_rows_source *src);

/* Prepares and runs SQL once over SRC, with ?2 and ?3 bound to B2 and the
 * text B3 when given: 0, or -1 (the error is DB's). */
int patron_rows_insert(sqlite3 *db, const char *sql, patron_rows_source *src, int64_t b2,
		       const char *b3);

#endif
