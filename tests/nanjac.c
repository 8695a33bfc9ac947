/* nanjac: exact solution x(1 − x)/2; finite residuals whose exact Jacobian ∂r/∂jet is NaN (a broken plugin), to test that every
 * optimiser stops with a message naming the term and the cause instead of looping or writing garbage.
 *   r = u_xx + 1 in the interior with ∂r/∂u_xx reported as NaN; r = u at x = 0 and 1 (correct). */
#include <ansatz/problem.h>

static PetscErrorCode Interior(const AzPoint *p, const AzJet *J, PetscScalar r[], PetscScalar drdjet[])
{
  (void)p;
  r[0] = AzD2(J, 0, 0, 0) + 1;
  if (drdjet) drdjet[AzIdxD2(J, 0, 0, 0)] = (PetscScalar)NAN;
  return PETSC_SUCCESS;
}

static PetscErrorCode Wall(const AzPoint *p, const AzJet *J, PetscScalar r[], PetscScalar drdjet[])
{
  (void)p;
  r[0] = AzU(J, 0);
  if (drdjet) drdjet[AzIdxU(J, 0)] = 1;
  return PETSC_SUCCESS;
}

static PetscErrorCode Exact(const AzPoint *p, PetscScalar u[])
{
  u[0] = p->x[0] * (1 - p->x[0]) / 2;
  return PETSC_SUCCESS;
}

const AzProblemInfo az_problem_nanjac = {
  .abi            = AZ_PROBLEM_ABI,
  .name           = "nanjac",
  .description    = "test problem whose exact Jacobian is NaN",
  .dim            = 1,
  .ncomp          = 1,
  .lower          = {0},
  .upper          = {1},
  .derivatives    = "xx",
  .interior       = Interior,
  .boundary       = {{AZ_BC_DIRICHLET, Wall, NULL}, {AZ_BC_DIRICHLET, Wall, NULL}},
  .exact_jacobian = PETSC_TRUE,
  .exact          = Exact,
};
