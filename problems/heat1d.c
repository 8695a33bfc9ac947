/* heat1d: u_t = κ u_xx on [0,1] × [0,1], u = 0 at x = 0 and x = 1, u(x,0) = sin(πx).
 * Exact solution u = exp(−κπ²t) sin(πx). */
#include <ansatz/problem.h>

enum { KAPPA };

/* r = u_t − κ u_xx */
static PetscErrorCode Interior(const AzPoint *p, const AzJet *J, PetscScalar r[], PetscScalar drdjet[])
{
  const PetscReal kappa = p->param[KAPPA];
  const PetscInt  X = 0, T = 1;

  r[0] = AzD(J, 0, T) - kappa * AzD2(J, 0, X, X);
  if (drdjet) {
    drdjet[AzIdxD(J, 0, T)]     = 1;
    drdjet[AzIdxD2(J, 0, X, X)] = -kappa;
  }
  return PETSC_SUCCESS;
}

/* ∂r/∂κ for inverse problems (-az_infer kappa): −u_xx inside; the other conditions do not read κ */
static PetscErrorCode ParamDerivative(PetscInt cond, PetscInt k, const AzPoint *p, const AzJet *J, PetscScalar drdp[], PetscBool *provided)
{
  (void)p;
  (void)k;
  (void)provided;
  if (cond == AZ_COND_INTERIOR) drdp[0] = -AzD2(J, 0, 0, 0);
  return PETSC_SUCCESS;
}

/* r = u − 0 at x = 0 and x = 1 */
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
  u[0] = PetscSinReal(PETSC_PI * p->x[0]);
  return PETSC_SUCCESS;
}

/* r = u − sin(πx) at t = 0 */
static PetscErrorCode Initial(const AzPoint *p, const AzJet *J, PetscScalar r[], PetscScalar drdjet[])
{
  r[0] = AzU(J, 0) - PetscSinReal(PETSC_PI * p->x[0]);
  if (drdjet) drdjet[AzIdxU(J, 0)] = 1;
  return PETSC_SUCCESS;
}

static PetscErrorCode Exact(const AzPoint *p, PetscScalar u[])
{
  const PetscReal kappa = p->param[KAPPA];

  u[0] = PetscExpReal(-kappa * PETSC_PI * PETSC_PI * p->x[1]) * PetscSinReal(PETSC_PI * p->x[0]);
  return PETSC_SUCCESS;
}

/* lift for hard constraints: g(x, t) = sin(πx), the initial data, which is zero at x = 0 and 1 */
static PetscErrorCode Lift(const AzPoint *p, PetscScalar jet[])
{
  const PetscInt  n = p->ncoord, X = 0;
  const PetscReal s = PetscSinReal(PETSC_PI * p->x[0]), c = PetscCosReal(PETSC_PI * p->x[0]), k = PETSC_PI;

  for (PetscInt q = 0; q < AZ_JET_NSLOT(n); q++) jet[q] = 0;
  jet[0]                    = s;
  jet[AzJetSlotD1(n, X)]    = k * c;
  jet[AzJetSlotD2(n, X, X)] = -k * k * s;
  jet[AzJetSlotD3(n, X)]    = -k * k * k * c;
  jet[AzJetSlotD4(n, X)]    = k * k * k * k * s;
  return PETSC_SUCCESS;
}

const AzProblemInfo az_problem_heat1d = {
  .abi             = AZ_PROBLEM_ABI,
  .name            = "heat1d",
  .description     = "Heat equation: u_t = kappa u_xx on [0,1] x [0,1], u = 0 at x = 0, 1, u(x,0) = sin(pi x)",
  .dim             = 1,
  .time_dependent  = PETSC_TRUE,
  .ncomp           = 1,
  .lower           = {0},
  .upper           = {1},
  .t0              = 0,
  .t1              = 1,
  .component_names = "u",
  .params          = {{"kappa", 0.1, "diffusivity"}},
  .derivatives     = "t,xx",
  .interior        = Interior,
  .boundary        = {{AZ_BC_DIRICHLET, Wall, Zero}, {AZ_BC_DIRICHLET, Wall, Zero}},
  .initial         = Initial,
  .initial_value   = InitialValue,
  .exact_jacobian  = PETSC_TRUE,
  .exact           = Exact,
  .lift            = Lift,
  .param_derivative = ParamDerivative,
};
