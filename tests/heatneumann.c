/* heatneumann: u_t = κ u_xx on [0,1] × [0,1] with no-flux walls u_x = 0 at x = 0 and 1,
 * u(x,0) = 2 + Σ_{m=1..6} a_m cos mπx, a_m = 0.6 (−1)^m / m. Exact: mode m decays as e^{−κπ²m²t}. Six
 * modes: the integrals of u², u³, ... are sums of many distinct exponentials, so no combination of them
 * is constant by accident (with two or three modes one is: ∫(u − 2)³ is then one exponential, or 0). It conserves its mass ∫u dx = 2 and nothing else of low degree
 * (∫u² decays); it declares no law, so
 * `ansatz discover` must find the mass by itself (tests/test_cli.sh). */
#include <ansatz/problem.h>

enum { KAPPA };

static PetscErrorCode Interior(const AzPoint *p, const AzJet *J, PetscScalar r[], PetscScalar drdjet[])
{
  const PetscInt X = 0, T = 1;

  r[0] = AzD(J, 0, T) - p->param[KAPPA] * AzD2(J, 0, X, X);
  if (drdjet) {
    drdjet[AzIdxD(J, 0, T)]     = 1;
    drdjet[AzIdxD2(J, 0, X, X)] = -p->param[KAPPA];
  }
  return PETSC_SUCCESS;
}

/* r = u_x at the walls */
static PetscErrorCode Wall(const AzPoint *p, const AzJet *J, PetscScalar r[], PetscScalar drdjet[])
{
  (void)p;
  r[0] = AzD(J, 0, 0);
  if (drdjet) drdjet[AzIdxD(J, 0, 0)] = 1;
  return PETSC_SUCCESS;
}

static PetscErrorCode Exact(const AzPoint *p, PetscScalar u[])
{
  const PetscReal k = p->param[KAPPA] * PETSC_PI * PETSC_PI, x = p->x[0], t = p->ncoord > 1 ? p->x[1] : 0;

  u[0] = 2;
  for (PetscInt m = 1; m <= 6; m++) u[0] += 0.6 * (m % 2 ? -1 : 1) / m * PetscExpReal(-k * m * m * t) * PetscCosReal(m * PETSC_PI * x);
  return PETSC_SUCCESS;
}

static PetscErrorCode InitialValue(const AzPoint *p, PetscScalar u[])
{
  const PetscReal x[2] = {p->x[0], 0};
  const AzPoint   p0   = {x, 2, p->param, -1};
  return Exact(&p0, u);
}

static PetscErrorCode Initial(const AzPoint *p, const AzJet *J, PetscScalar r[], PetscScalar drdjet[])
{
  PetscScalar u0;
  InitialValue(p, &u0);
  r[0] = AzU(J, 0) - u0;
  if (drdjet) drdjet[AzIdxU(J, 0)] = 1;
  return PETSC_SUCCESS;
}

const AzProblemInfo az_problem_heatneumann = {
  .abi             = AZ_PROBLEM_ABI,
  .name            = "heatneumann",
  .description     = "heat equation with no-flux walls: u_t = kappa u_xx, u_x = 0 at x = 0, 1 (mass conserved, not declared)",
  .dim             = 1,
  .time_dependent  = PETSC_TRUE,
  .ncomp           = 1,
  .lower           = {0},
  .upper           = {1},
  .t0              = 0,
  .t1              = 1,
  .component_names = "u",
  .params          = {{"kappa", 0.05, "diffusivity"}},
  .derivatives     = "t,x,xx",
  .interior        = Interior,
  .boundary        = {{AZ_BC_NEUMANN, Wall, NULL}, {AZ_BC_NEUMANN, Wall, NULL}},
  .initial         = Initial,
  .initial_value   = InitialValue,
  .exact           = Exact,
  .exact_jacobian  = PETSC_TRUE,
};
