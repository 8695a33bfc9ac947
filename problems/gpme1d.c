/* gpme1d: the generalized porous medium equation u_t = ∂x(k(u) ∂x u) in conservation form,
 *     u_t + ∂x F = 0,  F = −k(u) u_x,  on x ∈ [0, 1], t ∈ [0.01, 0.1],
 * the family of ProbConserv (Hansen, Maddix, Alizadeh, Gupta & Mahoney, "Learning Physical Models that
 * Can Respect Conservation Laws", ICML 2023; the settings below are those of its code, amazon-science/
 * probconserv: deep_pdes/datasets/pme.py and experiments/conf/experiments/{1b_pme_var_m,2b_stefan_var_p,
 * 3b_heat_var_c}.yaml), chosen by -az_gpme1d_kind:
 *   heat    k = κ (ProbConserv's range κ ∈ [1, 5], test values 1 and 5); exact u = e^(−κπ²t/4) sin(πx/2).
 *           Not ProbConserv's periodic u0 = sin x on [0, 2π], t ∈ [0, 1] (mass 0): the box and faces are
 *           shared by the three kinds, and this mode has u = 0 at x = 0 and u_x = 0 at x = 1.
 *   pme     k = |u|^m (m ≥ 1; ProbConserv trains m ∈ [1, 6], tests 1, 3, 6; default 3, the u³):
 *           the exact Barenblatt–Pattle solution centred at x = 1/2,
 *               u = t^(−a) C^(1/m) (1 − ((x − 1/2)/w(t))²)_+^(1/m),  a = 1/(m + 2),  w(t) = 0.4 (t/0.1)^a,
 *           C = (m a/2) w(t)² t^(−2a) (constant): its support [1/2 − w, 1/2 + w] ⊂ [0.1, 0.9] for all t ≤ 0.1, so
 *           u = 0 at both walls and no flux crosses them; mass constant. (ProbConserv's own PME case is the
 *           travelling wave u = (m (t − x))_+^(1/m) with Dirichlet data at x = 0; the issue asks Barenblatt.)
 *   stefan  k = 1 for u ≥ u*, 0 below (ProbConserv's StefanPME: k_max = 1, k_min = 0; u* ∈ [0.55, 0.7] in
 *           training, 0.5 and 0.6 in tests, x ∈ [0, 1], t ∈ [0, 0.1]); u(0, t) = 1. Exact similarity solution
 *               u = 1 − (1 − u*) erf(x/(2√t))/erf(z)  for x ≤ x*(t) = 2z√t,  0 beyond,
 *           z the root of u* erf(z) z e^(z²) = (1 − u*)/√π (solved by bisection to the last bit, once per u*).
 *           u jumps from u* to 0 at the front (the Stefan condition u* x*' = −u_x(x*−) carries the mass).
 * Shared setting (one descriptor serves the three kinds, so they share the box and the face types; Stefan
 * needs its Dirichlet inlet, so pme's left wall is Dirichlet u = 0 too, which passes no flux since k(0) = 0):
 * u = exact(0, t) at x = 0 (Dirichlet: 0, 0, 1),
 * no flux at x = 1 (AZ_BC_FLUX: u_x = 0 for heat, u = 0 and k(0) = 0 for pme and stefan), data the exact
 * solution at t0 = 0.01 > 0 (the Barenblatt profile; Stefan's start without its t = 0 corner; ProbConserv's
 * Stefan window is [0, 0.1]). u ≥ 0. Mass: Q(t) = ∫u dx changes only through x = 0, so the law "mass" has
 * the time-varying target of the exact solution's boundary flux (ProbConserv's integral constraint):
 * heat (2/π) e^(−κπ²t/4); pme constant; stefan 2 (1 − u*)/erf(z) √(t/π) (ProbConserv's mass_stefan).
 * k(u) = |u|^m keeps F and the derived residual u_t − k u_xx − k'(u) u_x² finite for every u when m ≥ 1;
 * the Stefan jump in k enters the derived residual as u_t − k(u) u_xx (k' = 0 away from u*). */
#include <ansatz/problem.h>

enum { KIND, KAPPA, M, USTAR };
enum { HEAT, PME, STEFAN };

#define XC 0.5 /* Barenblatt centre */
#define W1 0.4 /* its support's half-width at T1 */
#define T0 0.01
#define T1 0.1

static PetscErrorCode Kind(const PetscReal *param, PetscInt *kind)
{
  PetscFunctionBegin;
  *kind = (PetscInt)param[KIND];
  PetscCheck(param[KIND] == (PetscReal)*kind && *kind >= HEAT && *kind <= STEFAN, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "gpme1d: kind %g is not one of heat (0), pme (1), stefan (2)", (double)param[KIND]);
  if (*kind == HEAT) PetscCheck(param[KAPPA] > 0, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "gpme1d: -az_gpme1d_kappa %g: the conductivity must be > 0", (double)param[KAPPA]);
  if (*kind == PME) PetscCheck(param[M] >= 1 && param[M] <= 20, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "gpme1d: -az_gpme1d_m %g: allowed 1 <= m <= 20 (k(u) = |u|^m needs m >= 1 for a finite k'(0))", (double)param[M]);
  if (*kind == STEFAN) PetscCheck(param[USTAR] > 0 && param[USTAR] < 1, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "gpme1d: -az_gpme1d_ustar %g: the threshold u* must lie in (0, 1)", (double)param[USTAR]);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Stefan: the root z of f(z) = u* erf(z) z e^(z²) − (1 − u*)/√π, increasing on (0, ∞) from f(0) < 0; by
 * bisection on [0, 6] until the bracket is two adjacent doubles; kept for the last u* asked */
static PetscReal StefanZ(PetscReal us)
{
  static PetscReal last_us = -1, last_z = 0;
  PetscReal        lo = 0, hi = 6;

  if (us == last_us) return last_z;
  for (;;) {
    const PetscReal mid = 0.5 * (lo + hi);
    if (mid <= lo || mid >= hi) break;
    if (us * erf(mid) * mid * PetscExpReal(mid * mid) - (1 - us) / PetscSqrtReal(PETSC_PI) < 0) lo = mid;
    else hi = mid;
  }
  last_us = us;
  last_z  = 0.5 * (lo + hi);
  return last_z;
}

/* Barenblatt: a = 1/(m + 2), C^(1/m) with w(T1) = W1 */
static void Barenblatt(PetscReal m, PetscReal *a, PetscReal *Cm)
{
  *a  = 1 / (m + 2);
  *Cm = PetscPowReal(0.5 * m * (*a) * W1 * W1 * PetscPowReal(T1, -2 * (*a)), 1 / m);
}

static PetscErrorCode ExactAt(const PetscReal *param, PetscReal x, PetscReal t, PetscReal *u)
{
  PetscInt kind;

  PetscFunctionBegin;
  PetscCall(Kind(param, &kind));
  if (kind == HEAT) *u = PetscExpReal(-param[KAPPA] * PETSC_PI * PETSC_PI * t / 4) * PetscSinReal(0.5 * PETSC_PI * x);
  else if (kind == PME) {
    PetscReal a, Cm, w, y;
    Barenblatt(param[M], &a, &Cm);
    w  = W1 * PetscPowReal(t / T1, a);
    y  = (x - XC) / w;
    *u = y * y < 1 ? PetscPowReal(t, -a) * Cm * PetscPowReal(1 - y * y, 1 / param[M]) : 0;
  } else {
    const PetscReal us = param[USTAR], z = StefanZ(us), s = 2 * PetscSqrtReal(t);
    *u = x <= z * s ? 1 - (1 - us) * erf(x / s) / erf(z) : 0;
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode Exact(const AzPoint *p, PetscScalar u[])
{
  return ExactAt(p->param, p->x[0], p->x[1], &u[0]);
}

/* F = −k(u) u_x; ∂F/∂u = −k'(u) u_x, ∂F/∂u_x = −k(u) */
static PetscErrorCode Flux(const AzPoint *p, const AzJet *J, PetscScalar F[], PetscScalar dFdjet[])
{
  const PetscScalar u = AzU(J, 0), ux = AzD(J, 0, 0);
  PetscReal         k, dk = 0;
  PetscInt          kind;

  PetscFunctionBegin;
  PetscCall(Kind(p->param, &kind));
  if (kind == HEAT) k = p->param[KAPPA];
  else if (kind == PME) {
    const PetscReal m = p->param[M], au = PetscAbsReal(u);
    k  = PetscPowReal(au, m);
    dk = m * PetscPowReal(au, m - 1) * (u > 0 ? 1 : (u < 0 ? -1 : 0));
  } else k = u >= p->param[USTAR] ? 1 : 0;
  F[0] = -k * ux;
  if (dFdjet) {
    dFdjet[AzIdxU(J, 0)]    = -dk * ux;
    dFdjet[AzIdxD(J, 0, 0)] = -k;
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode WallValue(const AzPoint *p, PetscScalar g[])
{
  return ExactAt(p->param, 0, p->x[1], &g[0]);
}

/* r = u − exact(0, t) at x = 0 */
static PetscErrorCode Wall(const AzPoint *p, const AzJet *J, PetscScalar r[], PetscScalar drdjet[])
{
  PetscReal g;

  PetscFunctionBegin;
  PetscCall(ExactAt(p->param, 0, p->x[1], &g));
  r[0] = AzU(J, 0) - g;
  if (drdjet) drdjet[AzIdxU(J, 0)] = 1;
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode InitialValue(const AzPoint *p, PetscScalar u[])
{
  return ExactAt(p->param, p->x[0], T0, &u[0]);
}

/* r = u − exact(x, t0) */
static PetscErrorCode Initial(const AzPoint *p, const AzJet *J, PetscScalar r[], PetscScalar drdjet[])
{
  PetscReal u0;

  PetscFunctionBegin;
  PetscCall(ExactAt(p->param, p->x[0], T0, &u0));
  r[0] = AzU(J, 0) - u0;
  if (drdjet) drdjet[AzIdxU(J, 0)] = 1;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* q = u */
static PetscErrorCode Mass(const AzPoint *p, const AzJet *J, PetscScalar q[], PetscScalar dqdjet[])
{
  (void)p;
  q[0] = AzU(J, 0);
  if (dqdjet) dqdjet[AzIdxU(J, 0)] = 1;
  return PETSC_SUCCESS;
}

/* Q*(t) = ∫₀¹ u dx of the exact solution: Q(t0) minus what left through x = 0 */
static PetscErrorCode MassTarget(const AzPoint *p, PetscReal *Q)
{
  const PetscReal t = p->x[p->ncoord - 1];
  PetscInt        kind;

  PetscFunctionBegin;
  PetscCall(Kind(p->param, &kind));
  if (kind == HEAT) *Q = 2 / PETSC_PI * PetscExpReal(-p->param[KAPPA] * PETSC_PI * PETSC_PI * t / 4);
  else if (kind == PME) { /* t^(−a) C^(1/m) w(t) ∫_{−1}^{1} (1 − y²)^(1/m) dy, with t^(−a) w(t) = W1 T1^(−a) */
    const PetscReal m = p->param[M];
    PetscReal       a, Cm;
    Barenblatt(m, &a, &Cm);
    *Q = Cm * W1 * PetscPowReal(T1, -a) * PetscSqrtReal(PETSC_PI) * tgamma(1 + 1 / m) / tgamma(1.5 + 1 / m);
  } else {
    const PetscReal us = p->param[USTAR];
    *Q = 2 * (1 - us) / erf(StefanZ(us)) * PetscSqrtReal(t / PETSC_PI);
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

const AzProblemInfo az_problem_gpme1d = {
  .abi              = AZ_PROBLEM_ABI,
  .name             = "gpme1d",
  .description      = "Generalized porous medium u_t = (k(u) u_x)_x (ProbConserv), -az_gpme1d_kind heat|pme|stefan, x in [0,1], t in [0.01,0.1], exact solutions",
  .dim              = 1,
  .time_dependent   = PETSC_TRUE,
  .ncomp            = 1,
  .lower            = {0},
  .upper            = {1},
  .t0               = T0,
  .t1               = T1,
  .component_names  = "u",
  .params           = {{"kind", PME, "{heat|pme|stefan} k = kappa, k = |u|^m (Barenblatt), or k = 1 for u >= u*, 0 below (Stefan)"},
                       {"kappa", 1, "heat: the conductivity k"},
                       {"m", 3, "pme: the exponent of k = |u|^m, m >= 1"},
                       {"ustar", 0.5, "stefan: the threshold u* where k jumps from 0 to 1"}},
  .flux             = Flux,
  .flux_derivatives = "x",
  .boundary         = {{AZ_BC_DIRICHLET, Wall, WallValue}, {AZ_BC_FLUX, NULL, NULL}},
  .initial          = Initial,
  .initial_value    = InitialValue,
  .exact            = Exact,
  .exact_jacobian   = PETSC_TRUE,
  .positive         = {PETSC_TRUE},
  .conservation     = {{"mass", Mass, PETSC_FALSE, 0, MassTarget}},
};
