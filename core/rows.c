#include "rows.h"

#include <string.h>

#define ROWS_POINTER "patron_rows_source"
/* The hidden column patron_rows(?1) binds its source to. */
enum { COL_SOURCE = PATRON_ROWS_COLUMNS };

typedef struct {
	sqlite3_vtab_cursor base;
	patron_rows_source *src;
	int at;		/* the source's last answer */
} rows_cursor;

static int rows_connect(sqlite3 *db, void *aux, int argc, const char *const *argv,
			sqlite3_vtab **vtab, char **err)
{
	(void)aux, (void)argc, (void)argv, (void)err;
	int rc = sqlite3_declare_vtab(db, "CREATE TABLE x(c0, c1, c2, c3, c4, c5, c6, c7, c8, c9,"
				      " c10, c11, c12, c13, c14, c15, source HIDDEN)");
	if (rc != SQLITE_OK)
		return rc;
	if (!(*vtab = sqlite3_malloc(sizeof **vtab)))
		return SQLITE_NOMEM;
	memset(*vtab, 0, sizeof **vtab);
	return SQLITE_OK;
}

static int rows_disconnect(sqlite3_vtab *vtab)
{
	sqlite3_free(vtab);
	return SQLITE_OK;
}

/* Only as a function of its source: patron_rows(?). */
static int rows_best_index(sqlite3_vtab *vtab, sqlite3_index_info *info)
{
	(void)vtab;
	for (int i = 0; i < info->nConstraint; i++)
		if (info->aConstraint[i].iColumn == COL_SOURCE &&
		    info->aConstraint[i].op == SQLITE_INDEX_CONSTRAINT_EQ &&
		    info->aConstraint[i].usable) {
			info->aConstraintUsage[i].argvIndex = 1;
			info->aConstraintUsage[i].omit = 1;
			info->estimatedCost = 1;
			return SQLITE_OK;
		}
	return SQLITE_CONSTRAINT;
}

static int rows_open(sqlite3_vtab *vtab, sqlite3_vtab_cursor **cur)
{
	(void)vtab;
	rows_cursor *c = sqlite3_malloc(sizeof *c);
	if (!c)
		return SQLITE_NOMEM;
	memset(c, 0, sizeof *c);
	*cur = &c->base;
	return SQLITE_OK;
}

static int rows_close(sqlite3_vtab_cursor *cur)
{
	sqlite3_free(cur);
	return SQLITE_OK;
}

static int rows_step(rows_cursor *c)
{
	c->at = c->src ? c->src->next(c->src) : 0;
	if (c->at >= 0)
		return SQLITE_OK;
	c->base.pVtab->zErrMsg = sqlite3_mprintf("%s", c->src->failure);
	return SQLITE_ERROR;
}

static int rows_filter(sqlite3_vtab_cursor *cur, int plan, const char *plan_s, int argc,
		       sqlite3_value **argv)
{
	(void)plan, (void)plan_s;
	rows_cursor *c = (rows_cursor *)cur;
	c->src = argc == 1 ? sqlite3_value_pointer(argv[0], ROWS_POINTER) : NULL;
	return rows_step(c);
}

static int rows_next(sqlite3_vtab_cursor *cur) { return rows_step((rows_cursor *)cur); }

static int rows_eof(sqlite3_vtab_cursor *cur) { return ((rows_cursor *)cur)->at <= 0; }

static int rows_column(sqlite3_vtab_cursor *cur, sqlite3_context *ctx, int col)
{
	rows_cursor *c = (rows_cursor *)cur;
	if (col < COL_SOURCE)
		c->src->column(c->src, ctx, col);
	else
		sqlite3_result_null(ctx);
	return SQLITE_OK;
}

static int rows_rowid(sqlite3_vtab_cursor *cur, sqlite3_int64 *rowid)
{
	(void)cur;
	*rowid = 0;
	return SQLITE_OK;
}

static sqlite3_module rows_module = {
	.xConnect = rows_connect, .xBestIndex = rows_best_index,
	.xDisconnect = rows_disconnect, .xOpen = rows_open, .xClose = rows_close,
	.xFilter = rows_filter, .xNext = rows_next, .xEof = rows_eof,
	.xColumn = rows_column, .xRowid = rows_rowid,
};

int patron_rows_register(sqlite3 *db)
{
	return sqlite3_create_module(db, "patron_rows", &rows_module, NULL);
}

void patron_rows_bind(sqlite3_stmt *st, patron_rows_source *src)
{
	sqlite3_bind_pointer(st, 1, src, ROWS_POINTER, NULL);
}

int patron_rows_insert(sqlite3 *db, const char *sql, patron_rows_source *src, int64_t b2,
		       const char *b3)
{
	sqlite3_stmt *put;
	if (patron_rows_register(db) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, sql, -1, &put, NULL) != SQLITE_OK)
		return -1;
	patron_rows_bind(put, src);
	sqlite3_bind_int64(put, 2, b2);
	if (b3)
		sqlite3_bind_text(put, 3, b3, -1, SQLITE_STATIC);
	int rc = sqlite3_step(put) == SQLITE_DONE ? 0 : -1;
	sqlite3_finalize(put);
	return rc;
}
