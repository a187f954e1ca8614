/* What the unit suites share: a scratch folder per test, files written into
 * it, a fresh store, and one-line SQL queries for assertions. */
#ifndef PATRON_TEST_HELPERS_H
#define PATRON_TEST_HELPERS_H

#include <check.h>
#include <stdint.h>

#include "import.h"
#include "store.h"

/* A new empty folder, removed by scratch_free. */
const char *scratch_new(void);
void scratch_free(void);
/* Writes CONTENT to NAME in the scratch folder; returns the path (static). */
const char *scratch_file(const char *name, const char *content);

/* A new store in the scratch folder. */
patron_store *test_store(void);
/* The first column of the first row of SQL, as an integer / text (static). */
int64_t sql_int(patron_store *s, const char *sql);
const char *sql_text(patron_store *s, const char *sql);

/* Imports PATH as KIND; returns what patron_import_file returns. */
int import_as(patron_store *s, const char *path, patron_import_kind kind,
	      patron_import_stats *st, patron_err *err);
int import_with(patron_store *s, const char *path, const patron_import_opts *o,
		patron_import_stats *st, patron_err *err);

/* 2026-11-23, the "now" of every test. */
#define TEST_NOW 1795392000

Suite *suite_csv(void);
Suite *suite_value(void);
Suite *suite_import(void);
Suite *suite_import_orders(void);
Suite *suite_store(void);
Suite *suite_snapshot(void);
Suite *suite_config(void);
Suite *suite_bgnbd(void);
Suite *suite_forecast(void);
Suite *suite_svg(void);
Suite *suite_text(void);
Suite *suite_tree(void);
Suite *suite_kmeans(void);
Suite *suite_template(void);
Suite *suite_bus(void);
Suite *suite_results(void);
Suite *suite_knn(void);
Suite *suite_churn(void);
Suite *suite_serve(void);
Suite *suite_mail(void);

#endif
