/* Runs every unit suite; Check's summary line is the last thing printed. */
#include <stdlib.h>

#include "helpers.h"

int main(void)
{
	SRunner *sr = srunner_create(suite_csv());
	srunner_add_suite(sr, suite_value());
	srunner_add_suite(sr, suite_store());
	srunner_add_suite(sr, suite_import());
	srunner_add_suite(sr, suite_import_orders());
	srunner_add_suite(sr, suite_snapshot());
	srunner_add_suite(sr, suite_config());
	srunner_add_suite(sr, suite_bgnbd());
	srunner_add_suite(sr, suite_forecast());
	srunner_add_suite(sr, suite_svg());
	srunner_add_suite(sr, suite_text());
	srunner_add_suite(sr, suite_tree());
	srunner_add_suite(sr, suite_kmeans());
	srunner_add_suite(sr, suite_bus());
	srunner_add_suite(sr, suite_template());
	srunner_add_suite(sr, suite_results());
	srunner_add_suite(sr, suite_knn());
	srunner_add_suite(sr, suite_churn());
	srunner_add_suite(sr, suite_serve());
	srunner_add_suite(sr, suite_mail());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
