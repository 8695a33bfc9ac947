#include "common.h"
#include <stdint.h>
/* its interior residual reads an unmapped address: the crash must name the plugin and the callback.
 * (Address 8, not NULL: under `make check-asan` UBSan would stop a NULL load itself, before the
 * segmentation fault that this plugin stands for.) */
static PetscErrorCode Crash(const AzPoint *p, const AzJet *J, PetscScalar r[], PetscScalar drdjet[])
{
  volatile PetscScalar *volatile nowhere = (volatile PetscScalar *)(uintptr_t)8;
  (void)p;
  (void)drdjet;
  r[0] = AzU(J, 0) + *nowhere;
  return PETSC_SUCCESS;
}
const AzProblemInfo az_problem_segvinterior = {AZ_TEST_BASE("segvinterior"), .interior = Crash};
