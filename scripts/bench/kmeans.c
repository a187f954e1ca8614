/* bench-kmeans: the k-means benchmark's two halves, on a binary matrix file
 * (n x d float64, row-major) that scikit-learn reads too.
 *   bench-kmeans gen FILE N D K SEED   writes K Gaussian blobs
 *   bench-kmeans run FILE N D K SEED   prints "seconds inertia iterations"
 * The time is the fit alone, as the peer's is. */
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../plugins/kmeans/lloyd.h"

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	if (argc != 7) {
		fprintf(stderr, "usage: bench-kmeans gen|run FILE N D K SEED\n");
		return 2;
	}
	size_t n = strtoull(argv[3], NULL, 10), d = strtoull(argv[4], NULL, 10),
	       k = strtoull(argv[5], NULL, 10);
	unsigned long seed = strtoul(argv[6], NULL, 10);
	double *x = malloc(n * d * sizeof *x);
	if (!x || !n || !d || !k) {
		fprintf(stderr, "bench-kmeans: bad sizes or out of memory\n");
		return 1;
	}
	if (strcmp(argv[1], "gen") == 0) {
		gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
		gsl_rng_set(rng, seed);
		double *centers = malloc(k * d * sizeof *centers);
		for (size_t i = 0; i < k * d; i++)
			centers[i] = gsl_rng_uniform(rng) * 20.0;
		for (size_t i = 0; i < n; i++)
			for (size_t j = 0; j < d; j++)
				x[i * d + j] = centers[(i % k) * d + j] + gsl_ran_gaussian(rng, 1.5);
		FILE *f = fopen(argv[2], "wb");
		if (!f || fwrite(x, sizeof *x, n * d, f) != n * d || fclose(f) != 0) {
			fprintf(stderr, "bench-kmeans: cannot write %s\n", argv[2]);
			return 1;
		}
		return 0;
	}
	FILE *f = fopen(argv[2], "rb");
	if (!f || fread(x, sizeof *x, n * d, f) != n * d) {
		fprintf(stderr, "bench-kmeans: cannot read %s\n", argv[2]);
		return 1;
	}
	fclose(f);
	kmeans_opts o = {k, 1, 300, seed, 2};
	kmeans_result r;
	char err[256];
	double t0 = now();
	if (kmeans_run(x, n, d, &o, &r, err, sizeof err) < 0) {
		fprintf(stderr, "bench-kmeans: %s\n", err);
		return 1;
	}
	printf("%.4f %.10g %zu\n", now() - t0, r.inertia, r.iterations);
	return 0;
}
