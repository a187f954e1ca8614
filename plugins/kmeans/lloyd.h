/* k-means: greedy k-means++ seeding (Arthur and Vassilvitskii, 2007) and Lloyd's
 * iterations with Hamerly's bounds ("Making k-means even faster", 2010),
 * the assignment step on two threads; the best of several restarts. */
#ifndef PATRON_LLOYD_H
#define PATRON_LLOYD_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
	size_t k, restarts, max_iter;
	uint64_t seed;
	int threads;	/* 1 or 2 */
} kmeans_opts;

typedef struct {
	double *centers;	/* k x d, row-major */
	uint32_t *labels;	/* n */
	double inertia;		/* sum of squared distances to the assigned center */
	size_t iterations;	/* of the best restart */
} kmeans_result;

/* Clusters the n x d matrix X (row-major). Fills R (caller frees centers
 * and labels). 0, or -1 with ERR (k > n, out of memory). */
int kmeans_run(const double *x, size_t n, size_t d, const kmeans_opts *o, kmeans_result *r,
	       char *err, size_t errlen);

/* Mean silhouette of LABELS over the points in SAMPLE (indices), against
 * all of those points; O(m^2 d). */
double kmeans_silhouette(const double *x, size_t d, const uint32_t *labels, size_t k,
			 const size_t *sample, size_t m);

#endif
