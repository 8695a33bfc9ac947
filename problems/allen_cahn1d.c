/* allen_cahn1d: the Allen–Cahn equation u_t − ε u_xx + γ(u³ − u) = 0, ε = 1e-4, γ = 5, periodic on
 * [−1, 1], u(x, 0) = x² cos πx, t ∈ [0, 1]: the Allen–Cahn benchmark of Raissi, Perdikaris &
 * Karniadakis (J. Comput. Phys. 378, 2019) and of Wight & Zhao (2020), where sharp interfaces form
 * between the stable states u = ±1. No closed-form solution; the solution keeps |u| ≤ 1 (the initial
 * data do, and ±1 are stable equilibria: the maximum principle), a bound a strategy may enforce.
 * Every axis is periodic, so its reference is the Fourier pseudo-spectral one by default; the
 * finite-difference one (-az_ref_method fd) agrees with it (bench/reference). */
#include <ansatz/problem.h>

enum { EPS, GAMMA };

/* r = u_t − ε u_xx + γ(u³ − u) */
static PetscErrorCode Interior(const AzPoint *p, const AzJet *J, PetscScalar r[], PetscScalar drdjet[])
{
  const PetscReal   eps = p->param[EPS], g = p->param[GAMMA];
  const PetscInt    X = 0, T = 1;
  const PetscScalar u = AzU(J, 0);

  r[0] = AzD(J, 0, T) - eps * AzD2(J, 0, X, X) + g * (u * u * u - u);
  if (drdjet) {
    drdjet[AzIdxD(J, 0, T)]     = 1;
    drdjet[AzIdxD2(J, 0, X, X)] = -eps;
    drdjet[AzIdxU(J, 0)]        = g * (3 * u * u - 1);
  }
  return PETSC_SUCCESS;
}

/* r = u − x² cos πx at t = 0 */
static PetscErrorCode Initial(const AzPoint *p, const AzJet *J, PetscScalar r[], PetscScalar drdjet[])
{
  const PetscReal x = p->x[0];

  r[0] = AzU(J, 0) - x * x * PetscCosReal(PETSC_PI * x);
  if (drdjet) drdjet[AzIdxU(J, 0)] = 1;
  return PETSC_SUCCESS;
}

static PetscErrorCode InitialValue(const AzPoint *p, PetscScalar u[])
{
  const PetscReal x = p->x[0];

  u[0] = x * x * PetscCosReal(PETSC_PI * x);
  return PETSC_SUCCESS;
}

const AzProblemInfo az_problem_allen_cahn1d = {
  .abi             = AZ_PROBLEM_ABI,
  .name            = "allen_cahn1d",
  .description     = "Allen-Cahn: u_t - eps u_xx + gamma (u^3 - u) = 0, eps = 1e-4, gamma = 5, periodic on [-1,1], u(x,0) = x^2 cos(pi x), t in [0,1]; |u| <= 1",
  .dim             = 1,
  .time_dependent  = PETSC_TRUE,
  .ncomp           = 1,
  .lower           = {-1},
  .upper           = {1},
  .t0              = 0,
  .t1              = 1,
  .component_names = "u",
  .params          = {{"eps", 1e-4, "diffusion coefficient"}, {"gamma", 5.0, "reaction rate"}},
  .derivatives     = "t,x,xx",
  .interior        = Interior,
  .boundary        = {{AZ_BC_PERIODIC, NULL, NULL}, {AZ_BC_PERIODIC, NULL, NULL}},
  .initial         = Initial,
  .initial_value   = InitialValue,
  .exact_jacobian  = PETSC_TRUE,
  /* interfaces ~ √(ε/γ) ≈ 0.0045 wide: 512 Fourier modes miss them by 3e-4, 2048 agree with 8192 fd
   * nodes to 7e-7 (bench/reference/README.md) */
  .min_reference_n = {2048},
  .bounded         = {PETSC_TRUE},
  .bound_lower     = {-1},
  .bound_upper     = {1},
  /* the recipe (bench/accuracy/allen_cahn1d.sh): the slices in time order, points for the interfaces */
  .recipe          = "-az_causal 1 -az_n_interior 5000 -az_n_initial 512 -az_trainer_type adam,gn -az_trainer_max_it 500,500",
};
