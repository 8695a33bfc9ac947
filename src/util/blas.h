/* OpenBLAS's thread count pinned around ansatz's dense linear algebra (src/util/blas.c).
 * OpenBLAS splits a GEMM, SYRK or Cholesky over its threads, and another split adds the same numbers in
 * another order: a run's results would depend on OPENBLAS_NUM_THREADS (on convection1d it decided which
 * solution Gauss–Newton reached). The field's GEMMs (-az_field_blas_threads) and the trainer's dense
 * algebra (-az_trainer_blas_threads) each pin their own count; 0 leaves OpenBLAS's setting. */
#ifndef ANSATZ_UTIL_BLAS_H
#define ANSATZ_UTIL_BLAS_H

#include <petscsys.h>

/* set OpenBLAS's threads to n (> 0) and return the count before in *old; n = 0 changes nothing */
PETSC_INTERN void AzBlasThreadsPush(PetscInt n, int *old);
/* restore the count AzBlasThreadsPush returned */
PETSC_INTERN void AzBlasThreadsPop(PetscInt n, int old);
/* OpenBLAS's threads now (what OPENBLAS_NUM_THREADS or the cores gave outside a pinned section; 0 when
 * the BLAS is not OpenBLAS), its build ("OpenBLAS 0.3.21 DYNAMIC_ARCH ...") and the core kernels it
 * chose ("Zen", "Haswell"; OPENBLAS_CORETYPE overrides it) */
PETSC_INTERN void AzBlasGetInfo(int *threads, const char **config, const char **core);

#endif
