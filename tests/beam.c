/* beam: a test problem for positivity through the fourth derivative: u'''' = 24 on [0,1], u = 1 at
 * both ends, one solution being u = 1 + x²(1 − x)² > 0 (one condition per end: enough to check jets
 * and derivatives, not a well-posed beam). */
#include <ansatz/problem.h>

static PetscErrorCode Interior(const AzPoint *p, const AzJet *J, PetscScalar r[], PetscScalar drdjet[])
{
  (void)p;
  r[0] = AzD4(J, 0, 0) - 24;
  if (drdjet) drdjet[AzIdxD4(J, 0, 0)] = 1;
  return PETSC_SUCCESS;
}

static PetscErrorCode End(const AzPoint *p, const AzJet *J, PetscScalar r[], PetscScalar drdjet[])
{
  (void)p;
  r[0] = AzU(J, 0) - 1;
  if (drdjet) drdjet[AzIdxU(J, 0)] = 1;
  return PETSC_SUCCESS;
}

static PetscErrorCode Exact(const AzPoint *p, PetscScalar u[])
{
  const PetscReal x = p->x[0];
  u[0]              = 1 + x * x * (1 - x) * (1 - x);
  return PETSC_SUCCESS;
}

const AzProblemInfo az_problem_beam = {
  .abi            = AZ_PROBLEM_ABI,
  .name           = "beam",
  .description    = "test problem: u'''' = 24 on [0,1], u = 1 at both ends, a solution 1 + x^2 (1-x)^2 > 0",
  .dim            = 1,
  .ncomp          = 1,
  .lower          = {0},
  .upper          = {1},
  .derivatives    = "xxxx",
  .interior       = Interior,
  .boundary       = {{AZ_BC_ROBIN, End, NULL}, {AZ_BC_ROBIN, End, NULL}},
  .exact          = Exact,
  .exact_jacobian = PETSC_TRUE,
  .positive       = {PETSC_TRUE},
};
