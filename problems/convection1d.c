/* convection1d: u_t + β u_x = 0 on the periodic interval [0, 2π], t ∈ [0, 1], u(x, 0) = sin x,
 * β = -az_convection1d_beta (40 by default). Exact solution u = sin(x − βt). The convection benchmark
 * of Krishnapriyan et al. (NeurIPS 2021) in the setting of Rathore, Lei, Frangella, Lu & Udell,
 * "Challenges in training PINNs: a loss landscape perspective" (ICML 2024), β = 40, where
 * Adam+L-BFGS+NNCG reaches 1.94e-3 rel L2. Both axes' data are smooth and x is periodic, so the
 * reference is the Fourier pseudo-spectral one by default. */
#include <ansatz/problem.h>

enum { BETA };

/* r = u_t + β u_x */
static PetscErrorCode Interior(const AzPoint *p, const AzJet *J, PetscScalar r[], PetscScalar drdjet[])
{
  const PetscReal beta = p->param[BETA];
  const PetscInt  X = 0, T = 1;

  r[0] = AzD(J, 0, T) + beta * AzD(J, 0, X);
  if (drdjet) {
    drdjet[AzIdxD(J, 0, T)] = 1;
    drdjet[AzIdxD(J, 0, X)] = beta;
  }
  return PETSC_SUCCESS;
}

/* r = u − sin x at t = 0 */
static PetscErrorCode Initial(const AzPoint *p, const AzJet *J, PetscScalar r[], PetscScalar drdjet[])
{
  r[0] = AzU(J, 0) - PetscSinReal(p->x[0]);
  if (drdjet) drdjet[AzIdxU(J, 0)] = 1;
  return PETSC_SUCCESS;
}

static PetscErrorCode InitialValue(const AzPoint *p, PetscScalar u[])
{
  u[0] = PetscSinReal(p->x[0]);
  return PETSC_SUCCESS;
}

static PetscErrorCode Exact(const AzPoint *p, PetscScalar u[])
{
  u[0] = PetscSinReal(p->x[0] - p->param[BETA] * p->x[1]);
  return PETSC_SUCCESS;
}

/* lift for a hard initial condition: g(x, t) = sin x */
static PetscErrorCode Lift(const AzPoint *p, PetscScalar jet[])
{
  const PetscInt  n = p->ncoord, X = 0;
  const PetscReal s = PetscSinReal(p->x[0]), c = PetscCosReal(p->x[0]);

  for (PetscInt q = 0; q < AZ_JET_NSLOT(n); q++) jet[q] = 0;
  jet[0]                    = s;
  jet[AzJetSlotD1(n, X)]    = c;
  jet[AzJetSlotD2(n, X, X)] = -s;
  jet[AzJetSlotD3(n, X)]    = -c;
  jet[AzJetSlotD4(n, X)]    = s;
  return PETSC_SUCCESS;
}

const AzProblemInfo az_problem_convection1d = {
  .abi             = AZ_PROBLEM_ABI,
  .name            = "convection1d",
  .description     = "Convection: u_t + beta u_x = 0 on the periodic [0, 2 pi], u(x,0) = sin x, t in [0,1], beta = 40 (Rathore et al. 2024); exact sin(x - beta t)",
  .dim             = 1,
  .time_dependent  = PETSC_TRUE,
  .ncomp           = 1,
  .lower           = {0},
  .upper           = {2 * PETSC_PI},
  .t0              = 0,
  .t1              = 1,
  .component_names = "u",
  .params          = {{"beta", 40.0, "convection speed"}},
  .derivatives     = "t,x",
  .interior        = Interior,
  .boundary        = {{AZ_BC_PERIODIC, NULL, NULL}, {AZ_BC_PERIODIC, NULL, NULL}},
  .initial         = Initial,
  .initial_value   = InitialValue,
  .exact_jacobian  = PETSC_TRUE,
  .exact           = Exact,
  .lift            = Lift,
  /* the recipe (bench/accuracy/convection1d.sh): without causal weights Gauss-Newton fits a wrong solution;
     with 1,000 points it may fit one even with them, and at weight 1 the initial condition's fit bounds the error;
     the conditions soft: the hard initial condition (ansatz's recipe for a problem with a lift) fitted a wrong field */
  .recipe          = "-az_constraint soft -az_causal 1 -az_field_width 20 -az_n_interior 3000 -az_n_initial 200 -az_weight_initial 100 -az_trainer_type adam,gn -az_trainer_max_it 300,1500",
};
