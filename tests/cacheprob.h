/* cacheprob: -u'' = F on [0,1], u = 0 at both ends. Two builds with the same name, description and
 * parameters but different F (tests/cachea.c: F = 1, tests/cacheb.c: F = 2): the reference cache
 * must tell them apart by the plugin file's content. */
#include <ansatz/problem.h>

static PetscErrorCode Interior(const AzPoint *p, const AzJet *J, PetscScalar r[], PetscScalar drdjet[])
{
  (void)p;
  r[0] = -AzD2(J, 0, 0, 0) - CACHEPROB_F;
  if (drdjet) drdjet[AzIdxD2(J, 0, 0, 0)] = -1;
  return PETSC_SUCCESS;
}

static PetscErrorCode Wall(const AzPoint *p, const AzJet *J, PetscScalar r[], PetscScalar drdjet[])
{
  (void)p;
  r[0] = AzU(J, 0);
  if (drdjet) drdjet[AzIdxU(J, 0)] = 1;
  return PETSC_SUCCESS;
}

static PetscErrorCode Zero(const AzPoint *p, PetscScalar u[])
{
  (void)p;
  u[0] = 0;
  return PETSC_SUCCESS;
}

const AzProblemInfo az_problem_cacheprob = {
  .abi            = AZ_PROBLEM_ABI,
  .name           = "cacheprob",
  .description    = "-u'' = F on [0,1], u = 0 at both ends (two builds, F = 1 or 2)",
  .dim            = 1,
  .ncomp          = 1,
  .lower          = {0},
  .upper          = {1},
  .derivatives    = "xx",
  .interior       = Interior,
  .boundary       = {{AZ_BC_DIRICHLET, Wall, Zero}, {AZ_BC_DIRICHLET, Wall, Zero}},
  .exact_jacobian = PETSC_TRUE,
};
