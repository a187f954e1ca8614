/* Solving a symmetric positive definite system with LAPACK's Cholesky
 * (dpotrf, dpotrs), which OpenBLAS carries. Declared here: the Debian
 * package ships LAPACK's symbols but no C header for them without
 * liblapacke. GSL's Cholesky was the first choice, but loading GSL from a
 * plugin linked with OpenBLAS binds GSL's own BLAS calls, for every plugin
 * of the process, to OpenBLAS, and changes other plugins' rounding. */
#include "irls.h"

void dpotrf_(const char *uplo, const int *n, double *a, const int *lda, int *info);
void dpotrs_(const char *uplo, const int *n, const int *nrhs, const double *a, const int *lda,
	     double *b, const int *ldb, int *info);

int irls_solve_spd(double *h, const double *g, double *d, size_t k)
{
	int n = (int)k, one = 1, info = 0;
	for (size_t i = 0; i < k; i++)
		d[i] = g[i];
	/* H is symmetric, so its row-major layout is its column-major one. */
	dpotrf_("U", &n, h, &n, &info);
	if (info != 0)
		return -1;
	dpotrs_("U", &n, &one, h, &n, d, &n, &info);
	return info == 0 ? 0 : -1;
}
