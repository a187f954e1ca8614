#define _XOPEN_SOURCE 700
#include "helpers.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[256];

const char *scratch_new(void)
{
	const char *tmp = getenv("TMPDIR");
	snprintf(dir, sizeof dir, "%s/patron-test-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	return dir;
}

static int remove_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb, (void)flag, (void)ftw;
	return remove(path);
}

void scratch_free(void)
{
	if (dir[0])
		nftw(dir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
	dir[0] = '\0';
}

const char *scratch_file(const char *name, const char *content)
{
	static char path[512];
	if (!dir[0])
		scratch_new();
	snprintf(path, sizeof path, "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	ck_assert_ptr_nonnull(f);
	fputs(content, f);
	fclose(f);
	return path;
}

patron_store *test_store(void)
{
	char path[512];
	if (!dir[0])
		scratch_new();
	snprintf(path, sizeof path, "%s/patron.db", dir);
	patron_store *s;
	patron_err err;
	ck_assert_msg(patron_store_open(path, &s, &err) == 0, "%s", err.msg);
	return s;
}

int64_t sql_int(patron_store *s, const char *sql)
{
	sqlite3_stmt *st;
	ck_assert_msg(sqlite3_prepare_v2(patron_store_db(s), sql, -1, &st, NULL) == SQLITE_OK,
		      "%s: %s", sql, sqlite3_errmsg(patron_store_db(s)));
	int64_t v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
	sqlite3_finalize(st);
	return v;
}

const char *sql_text(patron_store *s, const char *sql)
{
	static char buf[4096];
	sqlite3_stmt *st;
	ck_assert_msg(sqlite3_prepare_v2(patron_store_db(s), sql, -1, &st, NULL) == SQLITE_OK,
		      "%s: %s", sql, sqlite3_errmsg(patron_store_db(s)));
	buf[0] = '\0';
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
		snprintf(buf, sizeof buf, "%s", sqlite3_column_text(st, 0));
	else
		snprintf(buf, sizeof buf, "(null)");
	sqlite3_finalize(st);
	return buf;
}

int import_with(patron_store *s, const char *path, const patron_import_opts *o,
		patron_import_stats *st, patron_err *err)
{
	return patron_import_file(s, path, o, st, err);
}

int import_as(patron_store *s, const char *path, patron_import_kind kind,
	      patron_import_stats *st, patron_err *err)
{
	patron_import_opts o = {.kind = kind, .now = TEST_NOW};
	return patron_import_file(s, path, &o, st, err);
}
