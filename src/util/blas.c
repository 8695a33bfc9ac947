/* OpenBLAS's thread count, pinned around dense linear algebra: see blas.h. */
#include "blas.h"
#include <cblas.h>

void AzBlasThreadsPush(PetscInt n, int *old)
{
#if defined(OPENBLAS_VERSION)
  *old = openblas_get_num_threads();
  if (n > 0 && *old != (int)n) openblas_set_num_threads((int)n);
#else
  (void)n;
  *old = 0;
#endif
}

void AzBlasThreadsPop(PetscInt n, int old)
{
#if defined(OPENBLAS_VERSION)
  if (n > 0 && old != (int)n) openblas_set_num_threads(old);
#else
  (void)n, (void)old;
#endif
}

void AzBlasGetInfo(int *threads, const char **config, const char **core)
{
#if defined(OPENBLAS_VERSION)
  if (threads) *threads = openblas_get_num_threads();
  if (config) *config = openblas_get_config();
  if (core) *core = openblas_get_corename();
#else
  if (threads) *threads = 0;
  if (config) *config = "not OpenBLAS";
  if (core) *core = "unknown";
#endif
}
