/* recipe: myproblem's equation (−u_xx + u³ = f on [0, 1], u = 0 at both ends, exact sin πx) with a
 * recipe (ABI 5): a 1 × 5 network, 40 interior points, Adam 7 iterations. tests/test_cli.sh checks
 * that `ansatz train` uses each of its options the user did not give, and none the user did. */
#include <ansatz/problem.h>

static PetscErrorCode Interior(const AzPoint *p, const AzJet *J, PetscScalar r[], PetscScalar drdjet[])
{
  const PetscReal   s = PetscSinReal(PETSC_PI * p->x[0]);
  const PetscScalar u = AzU(J, 0);

  (void)drdjet;
  r[0] = -AzD2(J, 0, 0, 0) + u * u * u - (PETSC_PI * PETSC_PI * s + s * s * s);
  return PETSC_SUCCESS;
}

static PetscErrorCode Wall(const AzPoint *p, const AzJet *J, PetscScalar r[], PetscScalar drdjet[])
{
  (void)p;
  (void)drdjet;
  r[0] = AzU(J, 0);
  return PETSC_SUCCESS;
}

static PetscErrorCode Exact(const AzPoint *p, PetscScalar u[])
{
  u[0] = PetscSinReal(PETSC_PI * p->x[0]);
  return PETSC_SUCCESS;
}

const AzProblemInfo az_problem_recipe = {
  .abi         = AZ_PROBLEM_ABI,
  .name        = "recipe",
  .description = "-u_xx + u^3 = f on [0,1], u = 0 at both ends, with a recipe",
  .dim         = 1,
  .ncomp       = 1,
  .lower       = {0},
  .upper       = {1},
  .derivatives = "xx",
  .interior    = Interior,
  .boundary    = {{AZ_BC_DIRICHLET, Wall, NULL}, {AZ_BC_DIRICHLET, Wall, NULL}},
  .exact       = Exact,
  .recipe      = "-az_field_depth 1 -az_field_width 5 -az_n_interior 40 -az_trainer_type adam -az_trainer_max_it 7 -az_adam_lr 2e-3",
};
