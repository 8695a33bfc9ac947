/* advection1d: u_t + a u_x = 0 on the periodic interval [0,1], t ∈ [0,1], u(x,0) = 1 + A sin(2πx),
 * A = -az_advection1d_amp (½ by default). Exact solution u = 1 + A sin(2π(x − a t)): it conserves its
 * mass ∫u dx = 1 and stays positive for A ≤ 1 (at A = 1 its minimum touches 0, where a network that
 * is not kept positive dips below). */
#include <ansatz/problem.h>

enum { A, AMP };

/* r = u_t + a u_x */
static PetscErrorCode Interior(const AzPoint *p, const AzJet *J, PetscScalar r[], PetscScalar drdjet[])
{
  const PetscReal a = p->param[A];
  const PetscInt  X = 0, T = 1;

  r[0] = AzD(J, 0, T) + a * AzD(J, 0, X);
  if (drdjet) {
    drdjet[AzIdxD(J, 0, T)] = 1;
    drdjet[AzIdxD(J, 0, X)] = a;
  }
  return PETSC_SUCCESS;
}

/* r = u − 1 − A sin(2πx) at t = 0 */
static PetscErrorCode Initial(const AzPoint *p, const AzJet *J, PetscScalar r[], PetscScalar drdjet[])
{
  r[0] = AzU(J, 0) - 1 - p->param[AMP] * PetscSinReal(2 * PETSC_PI * p->x[0]);
  if (drdjet) drdjet[AzIdxU(J, 0)] = 1;
  return PETSC_SUCCESS;
}

static PetscErrorCode InitialValue(const AzPoint *p, PetscScalar u[])
{
  u[0] = 1 + p->param[AMP] * PetscSinReal(2 * PETSC_PI * p->x[0]);
  return PETSC_SUCCESS;
}

static PetscErrorCode Exact(const AzPoint *p, PetscScalar u[])
{
  u[0] = 1 + p->param[AMP] * PetscSinReal(2 * PETSC_PI * (p->x[0] - p->param[A] * p->x[1]));
  return PETSC_SUCCESS;
}

/* mass density q = u */
static PetscErrorCode Mass(const AzPoint *p, const AzJet *J, PetscScalar q[], PetscScalar dqdjet[])
{
  (void)p;
  q[0] = AzU(J, 0);
  if (dqdjet) dqdjet[AzIdxU(J, 0)] = 1;
  return PETSC_SUCCESS;
}

/* lift for a hard initial condition: g(x, t) = u(x, 0) */
static PetscErrorCode Lift(const AzPoint *p, PetscScalar jet[])
{
  const PetscInt  n = p->ncoord, X = 0;
  const PetscReal k = 2 * PETSC_PI, A0 = p->param[AMP], s = A0 * PetscSinReal(k * p->x[0]), c = A0 * PetscCosReal(k * p->x[0]);

  for (PetscInt q = 0; q < AZ_JET_NSLOT(n); q++) jet[q] = 0;
  jet[0]                    = 1 + s;
  jet[AzJetSlotD1(n, X)]    = k * c;
  jet[AzJetSlotD2(n, X, X)] = -k * k * s;
  jet[AzJetSlotD3(n, X)]    = -k * k * k * c;
  jet[AzJetSlotD4(n, X)]    = k * k * k * k * s;
  return PETSC_SUCCESS;
}

const AzProblemInfo az_problem_advection1d = {
  .abi             = AZ_PROBLEM_ABI,
  .name            = "advection1d",
  .description     = "Advection: u_t + a u_x = 0 on the periodic [0,1], u(x,0) = 1 + amp sin(2 pi x), amp = 1/2 (mass 1, positive for amp <= 1)",
  .dim             = 1,
  .time_dependent  = PETSC_TRUE,
  .ncomp           = 1,
  .lower           = {0},
  .upper           = {1},
  .t0              = 0,
  .t1              = 1,
  .component_names = "u",
  .params          = {{"a", 1.0, "advection speed"}, {"amp", 0.5, "amplitude of the initial wave (the solution stays positive for amp <= 1)"}},
  .derivatives     = "t,x",
  .interior        = Interior,
  .boundary        = {{AZ_BC_PERIODIC, NULL, NULL}, {AZ_BC_PERIODIC, NULL, NULL}},
  .initial         = Initial,
  .initial_value   = InitialValue,
  .exact_jacobian  = PETSC_TRUE,
  .exact           = Exact,
  .conservation    = {{"mass", Mass, PETSC_TRUE, 1.0}},
  .positive        = {PETSC_TRUE},
  .lift            = Lift,
};
