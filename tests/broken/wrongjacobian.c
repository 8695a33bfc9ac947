#include "common.h"
/* its exact jet Jacobian on face x = upper is wrong (2 instead of 1): -az_check_jacobian must fail and name the face */
static PetscErrorCode Good(const AzPoint *p, const AzJet *J, PetscScalar r[], PetscScalar drdjet[])
{
  (void)p;
  r[0] = AzU(J, 0);
  if (drdjet) drdjet[AzIdxU(J, 0)] = 1;
  return PETSC_SUCCESS;
}
static PetscErrorCode Wrong(const AzPoint *p, const AzJet *J, PetscScalar r[], PetscScalar drdjet[])
{
  (void)p;
  r[0] = AzU(J, 0);
  if (drdjet) drdjet[AzIdxU(J, 0)] = 2;
  return PETSC_SUCCESS;
}
const AzProblemInfo az_problem_wrongjacobian = {AZ_TEST_BASE("wrongjacobian"), .interior = Good, .boundary = {{AZ_BC_DIRICHLET, Good, NULL}, {AZ_BC_DIRICHLET, Wrong, NULL}}, .exact_jacobian = PETSC_TRUE};
