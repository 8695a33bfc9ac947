/* consform: a conservation-form test problem with an exact solution,
 *     u_t + (a(x) u − κ u_x)_x = S(x, t, u),  a(x) = 1 + x/2,  on [0, 1] × [0, 1],
 *     S = s(x, t) − β (u − u*(x, t)),  u*(x, t) = 2 + e^{−t} sin πx,
 * with s chosen so that u* is the solution; u = 2 at x = 0 (Dirichlet) and the outward normal flux
 * F·n = a(1) u*(1, t) − κ u*_x(1, t) = 3 + κπ e^{−t} prescribed at x = 1 (AZ_BC_FLUX). The flux reads x
 * (the chain rule's explicit part), the source reads u (its Jacobian). Mass: Q(t) = ∫u* dx = 2 + 2e^{−t}/π.
 * tests/consmass.c builds the variant CONSFORM_MASS: the flux prescribed at x = 0 too (g = −(2 − κπe^{−t}))
 * and the source s(x, t) alone, so the data fix the mass and ansatz adds the law mass_u0 with the target
 * Q*(t) = 2 + 2e^{−t}/π, which varies in time. */
#include <ansatz/problem.h>

enum { KAPPA, BETA };

static PetscReal A(PetscReal x)
{
  return 1 + 0.5 * x;
}

static void Exact3(const AzPoint *p, PetscReal *u, PetscReal *ux, PetscReal *ut, PetscReal *uxx)
{
  const PetscReal x = p->x[0], t = p->x[p->ncoord - 1], e = PetscExpReal(-t), k = PETSC_PI;

  *u   = 2 + e * PetscSinReal(k * x);
  *ux  = k * e * PetscCosReal(k * x);
  *ut  = -e * PetscSinReal(k * x);
  *uxx = -k * k * e * PetscSinReal(k * x);
}

static PetscErrorCode Flux(const AzPoint *p, const AzJet *J, PetscScalar F[], PetscScalar dFdjet[])
{
  const PetscReal kappa = p->param[KAPPA], a = A(p->x[0]);

  F[0] = a * AzU(J, 0) - kappa * AzD(J, 0, 0);
  if (dFdjet) {
    dFdjet[AzIdxU(J, 0)]    = a;
    dFdjet[AzIdxD(J, 0, 0)] = -kappa;
  }
  return PETSC_SUCCESS;
}

/* s = u*_t + a' u* + a u*_x − κ u*_xx */
static PetscErrorCode Source(const AzPoint *p, const AzJet *J, PetscScalar S[], PetscScalar dSdjet[])
{
  const PetscReal kappa = p->param[KAPPA], beta = p->param[BETA];
  PetscReal       u, ux, ut, uxx;

  Exact3(p, &u, &ux, &ut, &uxx);
#ifdef CONSFORM_MASS
  (void)J, (void)beta, (void)dSdjet;
  S[0] = ut + 0.5 * u + A(p->x[0]) * ux - kappa * uxx;
#else
  S[0] = ut + 0.5 * u + A(p->x[0]) * ux - kappa * uxx - beta * (AzU(J, 0) - u);
  if (dSdjet) dSdjet[AzIdxU(J, 0)] = -beta;
#endif
  return PETSC_SUCCESS;
}

#ifndef CONSFORM_MASS
static PetscErrorCode Wall(const AzPoint *p, const AzJet *J, PetscScalar r[], PetscScalar drdjet[])
{
  (void)p;
  r[0] = AzU(J, 0) - 2;
  if (drdjet) drdjet[AzIdxU(J, 0)] = 1;
  return PETSC_SUCCESS;
}

static PetscErrorCode Two(const AzPoint *p, PetscScalar u[])
{
  (void)p;
  u[0] = 2;
  return PETSC_SUCCESS;
}

#endif

static PetscErrorCode OutFlux(const AzPoint *p, PetscScalar g[])
{
  g[0] = 3 + p->param[KAPPA] * PETSC_PI * PetscExpReal(-p->x[p->ncoord - 1]);
  return PETSC_SUCCESS;
}

#ifdef CONSFORM_MASS
static PetscErrorCode InFlux(const AzPoint *p, PetscScalar g[])
{
  g[0] = -(2 - p->param[KAPPA] * PETSC_PI * PetscExpReal(-p->x[p->ncoord - 1]));
  return PETSC_SUCCESS;
}
#endif

static PetscErrorCode InitialValue(const AzPoint *p, PetscScalar u[])
{
  u[0] = 2 + PetscSinReal(PETSC_PI * p->x[0]);
  return PETSC_SUCCESS;
}

static PetscErrorCode Initial(const AzPoint *p, const AzJet *J, PetscScalar r[], PetscScalar drdjet[])
{
  r[0] = AzU(J, 0) - 2 - PetscSinReal(PETSC_PI * p->x[0]);
  if (drdjet) drdjet[AzIdxU(J, 0)] = 1;
  return PETSC_SUCCESS;
}

static PetscErrorCode Exact(const AzPoint *p, PetscScalar u[])
{
  PetscReal ux, ut, uxx;

  Exact3(p, &u[0], &ux, &ut, &uxx);
  return PETSC_SUCCESS;
}

#ifdef CONSFORM_MASS
#define CONSFORM_NAME "consmass"
const AzProblemInfo az_problem_consmass = {
#else
#define CONSFORM_NAME "consform"
const AzProblemInfo az_problem_consform = {
#endif
  .abi              = AZ_PROBLEM_ABI,
  .name             = CONSFORM_NAME,
  .description      = "u_t + ((1 + x/2) u - kappa u_x)_x = s - beta (u - u*), u* = 2 + exp(-t) sin(pi x)",
  .dim              = 1,
  .time_dependent   = PETSC_TRUE,
  .ncomp            = 1,
  .lower            = {0},
  .upper            = {1},
  .t0               = 0,
  .t1               = 1,
  .params           = {{"kappa", 0.1, "diffusivity"}, {"beta", 0.7, "relaxation to u*"}},
  .flux             = Flux,
  .source           = Source,
  .flux_derivatives = "x",
#ifdef CONSFORM_MASS
  .boundary = {{AZ_BC_FLUX, NULL, InFlux}, {AZ_BC_FLUX, NULL, OutFlux}},
#else
  .boundary = {{AZ_BC_DIRICHLET, Wall, Two}, {AZ_BC_FLUX, NULL, OutFlux}},
#endif
  .initial          = Initial,
  .initial_value    = InitialValue,
  .exact            = Exact,
  .exact_jacobian   = PETSC_TRUE,
};
