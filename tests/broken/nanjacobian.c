#include "common.h"
#include <math.h>
/* its exact jet Jacobian is NaN: -az_check_jacobian must report it and fail */
static PetscErrorCode NanJac(const AzPoint *p, const AzJet *J, PetscScalar r[], PetscScalar drdjet[])
{
  (void)p;
  r[0] = AzU(J, 0);
  if (drdjet) drdjet[AzIdxU(J, 0)] = (PetscScalar)NAN;
  return PETSC_SUCCESS;
}
static PetscErrorCode Wall(const AzPoint *p, const AzJet *J, PetscScalar r[], PetscScalar drdjet[])
{
  (void)p;
  r[0] = AzU(J, 0);
  if (drdjet) drdjet[AzIdxU(J, 0)] = 1;
  return PETSC_SUCCESS;
}
const AzProblemInfo az_problem_nanjacobian = {AZ_TEST_BASE("nanjacobian"), .interior = NanJac, .boundary = {{AZ_BC_DIRICHLET, Wall, NULL}, {AZ_BC_DIRICHLET, Wall, NULL}}, .exact_jacobian = PETSC_TRUE};
