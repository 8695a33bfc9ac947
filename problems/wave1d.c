/* wave1d: the wave equation u_tt = c² u_xx on [0, 1] × [0, 1], c = -az_wave1d_c (2 by default),
 * u = 0 at x = 0 and x = 1, u(x, 0) = sin πx + ½ sin 5πx and u_t(x, 0) = 0. Exact solution
 * u = sin πx cos cπt + ½ sin 5πx cos 5cπt. The wave benchmark of Rathore, Lei, Frangella, Lu & Udell,
 * "Challenges in training PINNs: a loss landscape perspective" (ICML 2024; there u_tt − 4u_xx = 0,
 * β = 5), where Adam+L-BFGS+NNCG reaches 1.27e-2 rel L2. Second order in time: two initial
 * conditions, on u and on u_t (.ninitial = 2, problem ABI 4). The finite-difference reference is a
 * method of lines for u_t (first order in time), so it refuses this problem; training measures its
 * error against the exact solution. */
#include <ansatz/problem.h>

enum { C };

/* r = u_tt − c² u_xx */
static PetscErrorCode Interior(const AzPoint *p, const AzJet *J, PetscScalar r[], PetscScalar drdjet[])
{
  const PetscReal c = p->param[C];
  const PetscInt  X = 0, T = 1;

  r[0] = AzD2(J, 0, T, T) - c * c * AzD2(J, 0, X, X);
  if (drdjet) {
    drdjet[AzIdxD2(J, 0, T, T)] = 1;
    drdjet[AzIdxD2(J, 0, X, X)] = -c * c;
  }
  return PETSC_SUCCESS;
}

static PetscReal U0(PetscReal x)
{
  return PetscSinReal(PETSC_PI * x) + 0.5 * PetscSinReal(5 * PETSC_PI * x);
}

/* two conditions at t = 0: r0 = u − u0(x), r1 = u_t */
static PetscErrorCode Initial(const AzPoint *p, const AzJet *J, PetscScalar r[], PetscScalar drdjet[])
{
  const PetscInt T = 1;

  r[0] = AzU(J, 0) - U0(p->x[0]);
  r[1] = AzD(J, 0, T);
  if (drdjet) {
    const PetscInt L = J->ncomp * J->nslot;
    drdjet[AzIdxU(J, 0)]         = 1;
    drdjet[L + AzIdxD(J, 0, T)] = 1;
  }
  return PETSC_SUCCESS;
}

static PetscErrorCode InitialValue(const AzPoint *p, PetscScalar u[])
{
  u[0] = U0(p->x[0]);
  return PETSC_SUCCESS;
}

/* u = 0 on both faces */
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
  const PetscReal x = p->x[0], t = p->x[1], c = p->param[C];

  u[0] = PetscSinReal(PETSC_PI * x) * PetscCosReal(c * PETSC_PI * t) + 0.5 * PetscSinReal(5 * PETSC_PI * x) * PetscCosReal(5 * c * PETSC_PI * t);
  return PETSC_SUCCESS;
}

/* lift for hard boundary conditions: g(x, t) = u0(x), zero on both faces */
static PetscErrorCode Lift(const AzPoint *p, PetscScalar jet[])
{
  const PetscInt n = p->ncoord, X = 0;
  PetscScalar    d[5] = {0, 0, 0, 0, 0};

  for (PetscInt q = 0; q < AZ_JET_NSLOT(n); q++) jet[q] = 0;
  for (PetscInt m = 1; m <= 5; m += 4) { /* the modes sin(mπx), amplitudes 1 and ½ */
    const PetscReal k = m * PETSC_PI, a = m == 1 ? 1 : 0.5, s = a * PetscSinReal(k * p->x[0]), c = a * PetscCosReal(k * p->x[0]);
    d[0] += s;
    d[1] += k * c;
    d[2] += -k * k * s;
    d[3] += -k * k * k * c;
    d[4] += k * k * k * k * s;
  }
  jet[0]                    = d[0];
  jet[AzJetSlotD1(n, X)]    = d[1];
  jet[AzJetSlotD2(n, X, X)] = d[2];
  jet[AzJetSlotD3(n, X)]    = d[3];
  jet[AzJetSlotD4(n, X)]    = d[4];
  return PETSC_SUCCESS;
}

const AzProblemInfo az_problem_wave1d = {
  .abi             = AZ_PROBLEM_ABI,
  .name            = "wave1d",
  .description     = "Wave: u_tt = 4 u_xx on [0,1] x [0,1], u = 0 at x = 0, 1, u(x,0) = sin(pi x) + sin(5 pi x)/2, u_t(x,0) = 0 (Rathore et al. 2024); exact",
  .dim             = 1,
  .time_dependent  = PETSC_TRUE,
  .ncomp           = 1,
  .lower           = {0},
  .upper           = {1},
  .t0              = 0,
  .t1              = 1,
  .component_names = "u",
  .params          = {{"c", 2.0, "wave speed"}},
  .derivatives     = "t,tt,xx",
  .interior        = Interior,
  .boundary        = {{AZ_BC_DIRICHLET, Wall, Zero}, {AZ_BC_DIRICHLET, Wall, Zero}},
  .initial         = Initial,
  .initial_value   = InitialValue,
  .exact_jacobian  = PETSC_TRUE,
  .exact           = Exact,
  .lift            = Lift,
  .ninitial        = 2,
  /* the recipe (bench/accuracy/wave1d.sh, stopped at 800 Gauss-Newton iterations: 1.9e-3): at weight 1 the PDE residual of the 5 pi x mode drowns the initial conditions */
  .recipe          = "-az_constraint_boundary hard -az_weight_initial 100 -az_causal 1 -az_n_interior 4000 -az_n_initial 400 -az_trainer_type adam,gn -az_trainer_max_it 500,800",
};
