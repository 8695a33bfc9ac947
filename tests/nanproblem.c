/* nanproblem: a residual that turns NaN where the field grows past a threshold, to test that
 * training detects NaN, undoes the step and stops with a clear message instead of writing garbage.
 *   r = u − 10 in the interior (drives u up), but NaN wherever u > cap (a parameter);
 *   r = u at x = 0 and 1 (so the initial field, u ≈ 0 there, is finite). */
#include <ansatz/problem.h>

enum { CAP };

static PetscErrorCode Interior(const AzPoint *p, const AzJet *J, PetscScalar r[], PetscScalar drdjet[])
{
  const PetscScalar u = AzU(J, 0);

  r[0] = u > p->param[CAP] ? (PetscScalar)NAN : u - 10;
  if (drdjet) drdjet[AzIdxU(J, 0)] = 1;
  return PETSC_SUCCESS;
}

static PetscErrorCode Wall(const AzPoint *p, const AzJet *J, PetscScalar r[], PetscScalar drdjet[])
{
  (void)p;
  r[0] = AzU(J, 0);
  if (drdjet) drdjet[AzIdxU(J, 0)] = 1;
  return PETSC_SUCCESS;
}

const AzProblemInfo az_problem_nanproblem = {
  .abi            = AZ_PROBLEM_ABI,
  .name           = "nanproblem",
  .description    = "test problem whose residual is NaN where u exceeds a cap",
  .dim            = 1,
  .ncomp          = 1,
  .lower          = {0},
  .upper          = {1},
  .params         = {{"cap", 3.0, "u above this makes the residual NaN"}},
  .derivatives    = "",
  .interior       = Interior,
  .boundary       = {{AZ_BC_DIRICHLET, Wall, NULL}, {AZ_BC_DIRICHLET, Wall, NULL}},
  .exact_jacobian = PETSC_TRUE,
};
