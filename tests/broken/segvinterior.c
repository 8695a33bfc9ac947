#include "common.h"
/* its interior residual dereferences NULL: the crash must name the plugin and the callback */
static PetscErrorCode Crash(const AzPoint *p, const AzJet *J, PetscScalar r[], PetscScalar drdjet[])
{
  volatile PetscScalar *nowhere = NULL;
  (void)p;
  (void)drdjet;
  r[0] = AzU(J, 0) + *nowhere;
  return PETSC_SUCCESS;
}
const AzProblemInfo az_problem_segvinterior = {AZ_TEST_BASE("segvinterior"), .interior = Crash};
