/* kdv1d: the Korteweg–de Vries equation u_t + u u_x + δ u_xxx = 0, δ = 0.0025, periodic on [−1, 1],
 * u(x, 0) = cos πx, t ∈ [0, 1]: the setting of Zabusky & Kruskal (1965), where the cosine breaks into
 * a train of solitons, and the KdV benchmark of Raissi, Perdikaris & Karniadakis (J. Comput. Phys.
 * 378, 2019). No closed-form solution; it conserves ∫u dx = 0 and ∫u² dx = 1 (and infinitely many
 * more). Dispersive: BDF above order 2 is not stable on the imaginary axis, so its reference is the
 * Fourier pseudo-spectral one (-az_ref_method spectral, chosen automatically: every axis is periodic). */
#include <ansatz/problem.h>

enum { DELTA };

/* r = u_t + u u_x + δ u_xxx */
static PetscErrorCode Interior(const AzPoint *p, const AzJet *J, PetscScalar r[], PetscScalar drdjet[])
{
  const PetscReal   delta = p->param[DELTA];
  const PetscInt    X = 0, T = 1;
  const PetscScalar u = AzU(J, 0), ux = AzD(J, 0, X);

  r[0] = AzD(J, 0, T) + u * ux + delta * AzD3(J, 0, X);
  if (drdjet) {
    drdjet[AzIdxD(J, 0, T)]  = 1;
    drdjet[AzIdxU(J, 0)]     = ux;
    drdjet[AzIdxD(J, 0, X)]  = u;
    drdjet[AzIdxD3(J, 0, X)] = delta;
  }
  return PETSC_SUCCESS;
}

/* r = u − cos πx at t = 0 */
static PetscErrorCode Initial(const AzPoint *p, const AzJet *J, PetscScalar r[], PetscScalar drdjet[])
{
  r[0] = AzU(J, 0) - PetscCosReal(PETSC_PI * p->x[0]);
  if (drdjet) drdjet[AzIdxU(J, 0)] = 1;
  return PETSC_SUCCESS;
}

static PetscErrorCode InitialValue(const AzPoint *p, PetscScalar u[])
{
  u[0] = PetscCosReal(PETSC_PI * p->x[0]);
  return PETSC_SUCCESS;
}

/* q = u and q = u² */
static PetscErrorCode Mass(const AzPoint *p, const AzJet *J, PetscScalar q[], PetscScalar dqdjet[])
{
  (void)p;
  q[0] = AzU(J, 0);
  if (dqdjet) dqdjet[AzIdxU(J, 0)] = 1;
  return PETSC_SUCCESS;
}

static PetscErrorCode Energy(const AzPoint *p, const AzJet *J, PetscScalar q[], PetscScalar dqdjet[])
{
  (void)p;
  q[0] = AzU(J, 0) * AzU(J, 0);
  if (dqdjet) dqdjet[AzIdxU(J, 0)] = 2 * AzU(J, 0);
  return PETSC_SUCCESS;
}

/* lift for a hard initial condition: g(x, t) = cos πx */
static PetscErrorCode Lift(const AzPoint *p, PetscScalar jet[])
{
  const PetscInt  n = p->ncoord, X = 0;
  const PetscReal k = PETSC_PI, c = PetscCosReal(k * p->x[0]), s = PetscSinReal(k * p->x[0]);

  for (PetscInt q = 0; q < AZ_JET_NSLOT(n); q++) jet[q] = 0;
  jet[0]                    = c;
  jet[AzJetSlotD1(n, X)]    = -k * s;
  jet[AzJetSlotD2(n, X, X)] = -k * k * c;
  jet[AzJetSlotD3(n, X)]    = k * k * k * s;
  jet[AzJetSlotD4(n, X)]    = k * k * k * k * c;
  return PETSC_SUCCESS;
}

const AzProblemInfo az_problem_kdv1d = {
  .abi             = AZ_PROBLEM_ABI,
  .name            = "kdv1d",
  .description     = "Korteweg-de Vries: u_t + u u_x + delta u_xxx = 0, delta = 0.0025, periodic on [-1,1], u(x,0) = cos(pi x), t in [0,1] (Zabusky-Kruskal)",
  .dim             = 1,
  .time_dependent  = PETSC_TRUE,
  .ncomp           = 1,
  .lower           = {-1},
  .upper           = {1},
  .t0              = 0,
  .t1              = 1,
  .component_names = "u",
  .params          = {{"delta", 0.0025, "dispersion coefficient"}},
  .derivatives     = "t,x,xxx",
  .interior        = Interior,
  .boundary        = {{AZ_BC_PERIODIC, NULL, NULL}, {AZ_BC_PERIODIC, NULL, NULL}},
  .initial         = Initial,
  .initial_value   = InitialValue,
  .exact_jacobian  = PETSC_TRUE,
  .conservation    = {{"mass", Mass, PETSC_TRUE, 0.0}, {"energy", Energy, PETSC_TRUE, 1.0}},
  .lift            = Lift,
  /* the recipe (bench/accuracy/kdv1d.sh): the initial condition exact, the slices in time order, enough points for the solitons */
  .recipe          = "-az_constraint_initial hard -az_causal 1 -az_n_interior 4000 -az_trainer_type adam,gn -az_trainer_max_it 500,500",
};
