/* burgers1d: u_t + u u_x = ν u_xx on [−1,1] × [0,1], u = 0 at x = ±1, u(x,0) = −sin(πx), given in
 * conservation form u_t + (u²/2 − ν u_x)_x = 0: ansatz derives the residual u_t + u u_x − ν u_xx.
 * With ν = 0.01/π a steep front forms at x = 0 (the PINN benchmark of Raissi et al.); no closed-form
 * solution, so the reference solver provides the yardstick. The data are odd in x and so is the
 * solution: its mass ∫u dx stays 0, a linear law to measure drift against (or to project onto).
 * The convection coefficient a (1: Burgers) makes Raissi et al.'s two-parameter inverse problem,
 * u_t + λ₁ u u_x = λ₂ u_xx: -az_infer a,nu. */
#include <ansatz/problem.h>

enum { NU, A };

/* the flux F = a u²/2 − ν u_x */
static PetscErrorCode Flux(const AzPoint *p, const AzJet *J, PetscScalar F[], PetscScalar dFdjet[])
{
  const PetscReal   nu = p->param[NU], a = p->param[A];
  const PetscInt    X  = 0;
  const PetscScalar u  = AzU(J, 0);

  F[0] = 0.5 * a * u * u - nu * AzD(J, 0, X);
  if (dFdjet) {
    dFdjet[AzIdxU(J, 0)]    = a * u;
    dFdjet[AzIdxD(J, 0, X)] = -nu;
  }
  return PETSC_SUCCESS;
}

/* r = u − 0 at x = ±1 */
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
  u[0] = -PetscSinReal(PETSC_PI * p->x[0]);
  return PETSC_SUCCESS;
}

/* r = u + sin(πx) at t = 0 */
static PetscErrorCode Initial(const AzPoint *p, const AzJet *J, PetscScalar r[], PetscScalar drdjet[])
{
  r[0] = AzU(J, 0) + PetscSinReal(PETSC_PI * p->x[0]);
  if (drdjet) drdjet[AzIdxU(J, 0)] = 1;
  return PETSC_SUCCESS;
}

/* mass density q = u: the solution stays odd in x, so its mass ∫u dx stays 0 */
static PetscErrorCode Mass(const AzPoint *p, const AzJet *J, PetscScalar q[], PetscScalar dqdjet[])
{
  (void)p;
  q[0] = AzU(J, 0);
  if (dqdjet) dqdjet[AzIdxU(J, 0)] = 1;
  return PETSC_SUCCESS;
}

/* lift for hard constraints: g(x, t) = −sin(πx), the initial data, which is zero at x = ±1 */
static PetscErrorCode Lift(const AzPoint *p, PetscScalar jet[])
{
  const PetscInt  n = p->ncoord, X = 0;
  const PetscReal s = PetscSinReal(PETSC_PI * p->x[0]), c = PetscCosReal(PETSC_PI * p->x[0]), k = PETSC_PI;

  for (PetscInt q = 0; q < AZ_JET_NSLOT(n); q++) jet[q] = 0;
  jet[0]                    = -s;
  jet[AzJetSlotD1(n, X)]    = -k * c;
  jet[AzJetSlotD2(n, X, X)] = k * k * s;
  jet[AzJetSlotD3(n, X)]    = k * k * k * c;
  jet[AzJetSlotD4(n, X)]    = -k * k * k * k * s;
  return PETSC_SUCCESS;
}

const AzProblemInfo az_problem_burgers1d = {
  .abi             = AZ_PROBLEM_ABI,
  .name            = "burgers1d",
  .description     = "Viscous Burgers: u_t + u u_x = nu u_xx on [-1,1] x [0,1], u = 0 at x = -1, 1, u(x,0) = -sin(pi x)",
  .dim             = 1,
  .time_dependent  = PETSC_TRUE,
  .ncomp           = 1,
  .lower           = {-1},
  .upper           = {1},
  .t0              = 0,
  .t1              = 1,
  .component_names = "u",
  .params          = {{"nu", 0.01 / PETSC_PI, "viscosity"}, {"a", 1, "convection coefficient: u_t + a u u_x = nu u_xx (1 for Burgers)"}},
  .flux            = Flux,
  .flux_derivatives = "x",
  .boundary        = {{AZ_BC_DIRICHLET, Wall, Zero}, {AZ_BC_DIRICHLET, Wall, Zero}},
  .initial         = Initial,
  .initial_value   = InitialValue,
  .exact_jacobian  = PETSC_TRUE,
  .lift            = Lift,
  .conservation    = {{"mass", Mass, PETSC_TRUE, 0}},
  /* the recipe: bench/accuracy/burgers1d.sh's ssb-rad row (2.24e-6, Urban, Stefanou & Pons's Burgers
     recipe). 3 x 20 on the exact periodic embedding of x (the odd solution of the Dirichlet problem is
     the 2-periodic one), the initial condition hard, the walls soft; on a fixed set of points the loss
     falls to 1e-9 while the error stays at 1e-3 between the points at the front, so 10,000 points are
     replaced every 500 iterations by RAD (drawn by the residual from 50,000 fresh ones), the
     quasi-Newton stage's segments as long; Adam 500 moves the network off its start, then the dense
     self-scaled Broyden stage (941 parameters) */
  .recipe          = "-az_field_depth 3 -az_field_width 20 -az_field_periodic 0:2 -az_constraint_initial hard -az_n_interior 10000 -az_resample rad -az_resample_every 500 -az_resample_pool 50000 -az_lbfgs_segment 500 -az_adam_lr 2e-3 -az_trainer_type adam,bfgs -az_trainer_max_it 500,7000",
};
