/* k-means against answers known apart from it. */
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <math.h>
#include <stdlib.h>

#include "../../plugins/kmeans/lloyd.h"
#include "helpers.h"

START_TEST(recovers_well_separated_blobs_exactly)
{
	/* 3 blobs of 700 points (enough for the two-thread path), sd 1, 100 apart. */
	const double cx[3] = {0, 100, 0}, cy[3] = {0, 0, 100};
	size_t n = 2100;
	double *x = malloc(n * 2 * sizeof *x);
	gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
	gsl_rng_set(rng, 3);
	for (size_t i = 0; i < n; i++) {
		x[2 * i] = cx[i % 3] + gsl_ran_gaussian(rng, 1.0);
		x[2 * i + 1] = cy[i % 3] + gsl_ran_gaussian(rng, 1.0);
	}
	kmeans_opts o = {3, 2, 300, 11, 2};
	kmeans_result r;
	char err[128];
	ck_assert_int_eq(kmeans_run(x, n, 2, &o, &r, err, sizeof err), 0);
	/* Every blob is one cluster, and the three clusters differ. */
	for (size_t i = 3; i < n; i++)
		ck_assert_uint_eq(r.labels[i], r.labels[i % 3]);
	ck_assert(r.labels[0] != r.labels[1] && r.labels[1] != r.labels[2] &&
		  r.labels[0] != r.labels[2]);
	for (int b = 0; b < 3; b++) {
		const double *c = r.centers + 2 * r.labels[b];
		ck_assert(fabs(c[0] - cx[b]) < 0.2 && fabs(c[1] - cy[b]) < 0.2);
	}
	free(x), free(r.centers), free(r.labels);
	gsl_rng_free(rng);
}
END_TEST

START_TEST(inertia_matches_the_brute_force_optimum)
{
	/* In one dimension the best 2-means split is a cut of the sorted
	 * points; trying every cut gives the optimum independently. */
	double x[14] = {0.3, 1.1, 1.9, 2.2, 3.0, 3.4, 4.8, 7.7, 8.1, 8.9, 9.4, 12.0, 12.5, 13.9};
	double best = INFINITY;
	for (int cut = 1; cut < 14; cut++) {
		double m1 = 0, m2 = 0, in = 0;
		for (int i = 0; i < cut; i++)
			m1 += x[i] / cut;
		for (int i = cut; i < 14; i++)
			m2 += x[i] / (14 - cut);
		for (int i = 0; i < 14; i++)
			in += (x[i] - (i < cut ? m1 : m2)) * (x[i] - (i < cut ? m1 : m2));
		best = fmin(best, in);
	}
	kmeans_opts o = {2, 10, 300, 5, 1};
	kmeans_result r;
	char err[128];
	ck_assert_int_eq(kmeans_run(x, 14, 1, &o, &r, err, sizeof err), 0);
	ck_assert_double_eq_tol(r.inertia, best, 1e-9);
	free(r.centers), free(r.labels);
	/* And a square: (0,0) (0,2) (10,0) (10,2) in two columns has inertia 4. */
	double sq[8] = {0, 0, 0, 2, 10, 0, 10, 2};
	ck_assert_int_eq(kmeans_run(sq, 4, 2, &o, &r, err, sizeof err), 0);
	ck_assert_double_eq_tol(r.inertia, 4.0, 1e-12);
	free(r.centers), free(r.labels);
}
END_TEST

START_TEST(refuses_more_clusters_than_points)
{
	double x[3] = {1, 2, 3};
	kmeans_opts o = {5, 1, 10, 1, 1};
	kmeans_result r;
	char err[128];
	ck_assert_int_eq(kmeans_run(x, 3, 1, &o, &r, err, sizeof err), -1);
	ck_assert_str_eq(err, "k = 5, but there are 3 customers to cluster");
}
END_TEST

START_TEST(silhouette_matches_a_hand_computed_value)
{
	/* {0, 1} and {10, 11}: s = (10.5 - 1) / 10.5 for the outer points and
	 * (9.5 - 1) / 9.5 for the inner ones. */
	double x[4] = {0, 1, 10, 11};
	uint32_t labels[4] = {0, 0, 1, 1};
	size_t sample[4] = {0, 1, 2, 3};
	double want = (9.5 / 10.5 + 8.5 / 9.5) / 2;
	ck_assert_double_eq_tol(kmeans_silhouette(x, 1, labels, 2, sample, 4), want, 1e-12);
}
END_TEST

Suite *suite_kmeans(void)
{
	Suite *s = suite_create("kmeans");
	TCase *t = tcase_create("kmeans");
	tcase_set_timeout(t, 30);
	tcase_add_test(t, recovers_well_separated_blobs_exactly);
	tcase_add_test(t, inertia_matches_the_brute_force_optimum);
	tcase_add_test(t, refuses_more_clusters_than_points);
	tcase_add_test(t, silhouette_matches_a_hand_computed_value);
	suite_add_tcase(s, t);
	return s;
}
