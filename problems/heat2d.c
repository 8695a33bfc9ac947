/* heat2d: u_t = κ (u_xx + u_yy) on [0,1]² × [0,1], u = 0 on the boundary, u(x,y,0) = sin(πx) sin(πy).
 * Exact solution u = exp(−2κπ²t) sin(πx) sin(πy). */
#include <ansatz/problem.h>

enum { KAPPA };

/* r = u_t − κ (u_xx + u_yy) */
static PetscErrorCode Interior(const AzPoint *p, const AzJet *J, PetscScalar r[], PetscScalar drdjet[])
{
  const PetscReal kappa = p->param[KAPPA];
  const PetscInt  X = 0, Y = 1, T = 2;

  r[0] = AzD(J, 0, T) - kappa * (AzD2(J, 0, X, X) + AzD2(J, 0, Y, Y));
  if (drdjet) {
    drdjet[AzIdxD(J, 0, T)]     = 1;
    drdjet[AzIdxD2(J, 0, X, X)] = -kappa;
    drdjet[AzIdxD2(J, 0, Y, Y)] = -kappa;
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

static PetscErrorCode InitialValue(const AzPoint *p, PetscScalar u[])
{
  u[0] = PetscSinReal(PETSC_PI * p->x[0]) * PetscSinReal(PETSC_PI * p->x[1]);
  return PETSC_SUCCESS;
}

/* r = u − sin(πx) sin(πy) at t = 0 */
static PetscErrorCode Initial(const AzPoint *p, const AzJet *J, PetscScalar r[], PetscScalar drdjet[])
{
  r[0] = AzU(J, 0) - PetscSinReal(PETSC_PI * p->x[0]) * PetscSinReal(PETSC_PI * p->x[1]);
  if (drdjet) drdjet[AzIdxU(J, 0)] = 1;
  return PETSC_SUCCESS;
}

static PetscErrorCode Exact(const AzPoint *p, PetscScalar u[])
{
  const PetscReal kappa = p->param[KAPPA];

  u[0] = PetscExpReal(-2 * kappa * PETSC_PI * PETSC_PI * p->x[2]) * PetscSinReal(PETSC_PI * p->x[0]) * PetscSinReal(PETSC_PI * p->x[1]);
  return PETSC_SUCCESS;
}

const AzProblemInfo az_problem_heat2d = {
  .abi             = AZ_PROBLEM_ABI,
  .name            = "heat2d",
  .description     = "Heat equation: u_t = kappa (u_xx + u_yy) on [0,1]^2 x [0,1], u = 0 on the boundary, u(x,y,0) = sin(pi x) sin(pi y)",
  .dim             = 2,
  .time_dependent  = PETSC_TRUE,
  .ncomp           = 1,
  .lower           = {0, 0},
  .upper           = {1, 1},
  .t0              = 0,
  .t1              = 1,
  .component_names = "u",
  .params          = {{"kappa", 0.1, "diffusivity"}},
  .derivatives     = "t,xx,yy",
  .interior        = Interior,
  .boundary        = {{AZ_BC_DIRICHLET, Wall, Zero}, {AZ_BC_DIRICHLET, Wall, Zero}, {AZ_BC_DIRICHLET, Wall, Zero}, {AZ_BC_DIRICHLET, Wall, Zero}},
  .initial         = Initial,
  .initial_value   = InitialValue,
  .exact_jacobian  = PETSC_TRUE,
  .exact           = Exact,
};
