/* poisson2d: −Δu = 2π² sin(πx) sin(πy) on [0,1]², u = 0 on the boundary.
 * Exact solution u = sin(πx) sin(πy). */
#include <ansatz/problem.h>

/* r = −(u_xx + u_yy) − 2π² sin(πx) sin(πy) */
static PetscErrorCode Interior(const AzPoint *p, const AzJet *J, PetscScalar r[], PetscScalar drdjet[])
{
  const PetscReal x = p->x[0], y = p->x[1];

  r[0] = -(AzD2(J, 0, 0, 0) + AzD2(J, 0, 1, 1)) - 2 * PETSC_PI * PETSC_PI * PetscSinReal(PETSC_PI * x) * PetscSinReal(PETSC_PI * y);
  if (drdjet) {
    drdjet[AzIdxD2(J, 0, 0, 0)] = -1;
    drdjet[AzIdxD2(J, 0, 1, 1)] = -1;
  }
  return PETSC_SUCCESS;
}

/* r = u − 0 on every face */
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

static PetscErrorCode Exact(const AzPoint *p, PetscScalar u[])
{
  u[0] = PetscSinReal(PETSC_PI * p->x[0]) * PetscSinReal(PETSC_PI * p->x[1]);
  return PETSC_SUCCESS;
}

/* lift for hard constraints: g = 0 (the data are zero on every face) */
static PetscErrorCode Lift(const AzPoint *p, PetscScalar jet[])
{
  for (PetscInt s = 0; s < AZ_JET_NSLOT(p->ncoord); s++) jet[s] = 0;
  return PETSC_SUCCESS;
}

const AzProblemInfo az_problem_poisson2d = {
  .abi             = AZ_PROBLEM_ABI,
  .name            = "poisson2d",
  .description     = "Poisson: -Laplace(u) = 2 pi^2 sin(pi x) sin(pi y) on [0,1]^2, u = 0 on the boundary",
  .dim             = 2,
  .ncomp           = 1,
  .lower           = {0, 0},
  .upper           = {1, 1},
  .component_names = "u",
  .derivatives     = "xx,yy",
  .interior        = Interior,
  .boundary        = {{AZ_BC_DIRICHLET, Wall, Zero}, {AZ_BC_DIRICHLET, Wall, Zero}, {AZ_BC_DIRICHLET, Wall, Zero}, {AZ_BC_DIRICHLET, Wall, Zero}},
  .exact_jacobian  = PETSC_TRUE,
  .exact           = Exact,
  .lift            = Lift,
};
