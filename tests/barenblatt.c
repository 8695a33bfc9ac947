/* barenblatt: the porous medium equation in conservation form, a test problem with an exact solution,
 *     u_t + (−u^m u_x)_x = 0   on [−1, 1] × [0.3, 3], no-flux walls (AZ_BC_FLUX, g = 0),
 * from the Barenblatt–Pattle solution (u_t = (u^{m+1})_xx/(m+1) is u_t = Δ(u^M), M = m+1, in time τ = t/M):
 *     u(x, t) = τ^{−a} (C − k x² τ^{−2a})_+^{1/m},   a = 1/(m+2),  k = m/(2(m+1)(m+2)),  τ = t/(m+1).
 * k(u) = u^m vanishes where u = 0: the diffusion is degenerate, the front x = ±√(C/k) τ^a moves at a
 * finite speed and u is only Hölder continuous there (u ~ dist^{1/m}). The support stays inside the
 * box (radius 0.49 at t = 3 with C = 0.02, m = 2), so the walls see u = 0 and the exact solution holds;
 * the mass ∫u dx is constant. tests/test_fv.c solves it with -az_ref_method fv. */
#include <ansatz/problem.h>

enum { M, CB };

static PetscReal Barenblatt(const PetscReal *param, PetscReal x, PetscReal t)
{
  const PetscReal m = param[M], a = 1 / (m + 2), k = m / (2 * (m + 1) * (m + 2)), tau = t / (m + 1);
  const PetscReal s = param[CB] - k * x * x * PetscPowReal(tau, -2 * a);

  return s > 0 ? PetscPowReal(tau, -a) * PetscPowReal(s, 1 / m) : 0;
}

/* F = −|u|^m u_x (|u|: a cell average may dip below 0 at the front by the integrator's tolerance) */
static PetscErrorCode Flux(const AzPoint *p, const AzJet *J, PetscScalar F[], PetscScalar dFdjet[])
{
  const PetscReal m = p->param[M], u = PetscAbsScalar(AzU(J, 0)), ux = AzD(J, 0, 0), km = PetscPowReal(u, m);

  F[0] = -km * ux;
  if (dFdjet) {
    dFdjet[AzIdxU(J, 0)]    = u > 0 ? -m * km / u * ux * (AzU(J, 0) < 0 ? -1 : 1) : 0;
    dFdjet[AzIdxD(J, 0, 0)] = -km;
  }
  return PETSC_SUCCESS;
}

static PetscErrorCode InitialValue(const AzPoint *p, PetscScalar u[])
{
  u[0] = Barenblatt(p->param, p->x[0], 0.3);
  return PETSC_SUCCESS;
}

static PetscErrorCode Initial(const AzPoint *p, const AzJet *J, PetscScalar r[], PetscScalar drdjet[])
{
  r[0] = AzU(J, 0) - Barenblatt(p->param, p->x[0], 0.3);
  if (drdjet) drdjet[AzIdxU(J, 0)] = 1;
  return PETSC_SUCCESS;
}

static PetscErrorCode Exact(const AzPoint *p, PetscScalar u[])
{
  u[0] = Barenblatt(p->param, p->x[0], p->x[p->ncoord - 1]);
  return PETSC_SUCCESS;
}

const AzProblemInfo az_problem_barenblatt = {
  .abi              = AZ_PROBLEM_ABI,
  .name             = "barenblatt",
  .description      = "porous medium u_t = (u^m u_x)_x from the Barenblatt solution, no-flux walls",
  .dim              = 1,
  .time_dependent   = PETSC_TRUE,
  .ncomp            = 1,
  .lower            = {-1},
  .upper            = {1},
  .t0               = 0.3,
  .t1               = 3,
  .params           = {{"m", 2, "exponent of k(u) = u^m"}, {"c", 0.02, "Barenblatt constant (mass and support)"}},
  .flux             = Flux,
  .flux_derivatives = "x",
  .boundary         = {{AZ_BC_FLUX, NULL, NULL}, {AZ_BC_FLUX, NULL, NULL}},
  .initial          = Initial,
  .initial_value    = InitialValue,
  .exact            = Exact,
  .exact_jacobian   = PETSC_TRUE,
  .positive         = {PETSC_TRUE},
};
