/* nanpositive: a residual that turns NaN where the field goes below −cap, for a problem whose only
 * component is declared positive, to test what compare and train do when one training fails:
 *   r = u + 10 in the interior (drives u down), NaN wherever u < −cap (a parameter);
 *   r = u at x = 0 and 1.
 * Trained plainly, u falls past −cap and training fails; with positivity by construction (softplus,
 * u > 0) the residual stays finite. The "exact" solution u = 0 is only a yardstick for the tables.
 * u is also declared bounded, in [0, 100], so that the refusal of two exact maps on one component
 * (-az_bounds hard with -az_positivity hard) has a problem to be tested on. */
#include <ansatz/problem.h>

enum { CAP };

static PetscErrorCode Interior(const AzPoint *p, const AzJet *J, PetscScalar r[], PetscScalar drdjet[])
{
  const PetscScalar u = AzU(J, 0);

  r[0] = u < -p->param[CAP] ? (PetscScalar)NAN : u + 10;
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

static PetscErrorCode Exact(const AzPoint *p, PetscScalar u[])
{
  (void)p;
  u[0] = 0;
  return PETSC_SUCCESS;
}

const AzProblemInfo az_problem_nanpositive = {
  .abi            = AZ_PROBLEM_ABI,
  .name           = "nanpositive",
  .description    = "test problem whose residual is NaN where u falls below -cap; u is declared positive",
  .dim            = 1,
  .ncomp          = 1,
  .lower          = {0},
  .upper          = {1},
  .params         = {{"cap", 3.0, "u below minus this makes the residual NaN"}},
  .derivatives    = "",
  .interior       = Interior,
  .boundary       = {{AZ_BC_DIRICHLET, Wall, NULL}, {AZ_BC_DIRICHLET, Wall, NULL}},
  .exact_jacobian = PETSC_TRUE,
  .exact          = Exact,
  .positive       = {PETSC_TRUE},
  .bounded        = {PETSC_TRUE},
  .bound_lower    = {0},
  .bound_upper    = {100},
};
