/* nls1d: the focusing nonlinear Schrödinger equation i h_t + 0.5 h_xx + |h|² h = 0, periodic on
 * [−5, 5], h(x, 0) = 2 sech x, t ∈ [0, π/2]: the Schrödinger benchmark of Raissi, Perdikaris &
 * Karniadakis (J. Comput. Phys. 378, 2019), a second-order soliton that focuses and splits again.
 * Two real components h = u + i v:
 *     u_t + 0.5 v_xx + (u² + v²) v = 0,      v_t − 0.5 u_xx − (u² + v²) u = 0.
 * No closed-form solution; it conserves the mass ∫|h|² dx = 8 tanh 5 and the Hamiltonian
 * ∫ ½|h_x|² − ½|h|⁴ dx (both checked against their values at t = 0). Dispersive: its reference is the
 * Fourier pseudo-spectral one (-az_ref_method spectral, chosen automatically: every axis is periodic).
 * -az_nls1d_k gives the soliton a momentum: h(x, 0) = 2 sech x · e^{ikx} (k = 0: the benchmark; a
 * multiple of π/5 keeps the phase periodic), so that ∫(u v_x − v u_x) dx is not zero by symmetry. */
#include <ansatz/problem.h>

static PetscErrorCode Interior(const AzPoint *p, const AzJet *J, PetscScalar r[], PetscScalar drdjet[])
{
  const PetscInt    X = 0, T = 1;
  const PetscScalar u = AzU(J, 0), v = AzU(J, 1), m = u * u + v * v;

  (void)p;
  r[0] = AzD(J, 0, T) + 0.5 * AzD2(J, 1, X, X) + m * v;
  r[1] = AzD(J, 1, T) - 0.5 * AzD2(J, 0, X, X) - m * u;
  if (drdjet) {
    const PetscInt L = J->ncomp * J->nslot;

    drdjet[AzIdxD(J, 0, T)]     = 1;
    drdjet[AzIdxD2(J, 1, X, X)] = 0.5;
    drdjet[AzIdxU(J, 0)]        = 2 * u * v;
    drdjet[AzIdxU(J, 1)]        = m + 2 * v * v;
    drdjet[L + AzIdxD(J, 1, T)]     = 1;
    drdjet[L + AzIdxD2(J, 0, X, X)] = -0.5;
    drdjet[L + AzIdxU(J, 0)]        = -(m + 2 * u * u);
    drdjet[L + AzIdxU(J, 1)]        = -2 * u * v;
  }
  return PETSC_SUCCESS;
}

/* u = 2 sech x cos kx, v = 2 sech x sin kx at t = 0 */
static PetscErrorCode Initial(const AzPoint *p, const AzJet *J, PetscScalar r[], PetscScalar drdjet[])
{
  const PetscReal k = p->param[0], a = 2 / PetscCoshReal(p->x[0]);

  r[0] = AzU(J, 0) - a * PetscCosReal(k * p->x[0]);
  r[1] = AzU(J, 1) - a * PetscSinReal(k * p->x[0]);
  if (drdjet) {
    drdjet[AzIdxU(J, 0)]                     = 1;
    drdjet[J->ncomp * J->nslot + AzIdxU(J, 1)] = 1;
  }
  return PETSC_SUCCESS;
}

static PetscErrorCode InitialValue(const AzPoint *p, PetscScalar u[])
{
  const PetscReal k = p->param[0], a = 2 / PetscCoshReal(p->x[0]);

  u[0] = a * PetscCosReal(k * p->x[0]);
  u[1] = a * PetscSinReal(k * p->x[0]);
  return PETSC_SUCCESS;
}

/* q = |h|² */
static PetscErrorCode Mass(const AzPoint *p, const AzJet *J, PetscScalar q[], PetscScalar dqdjet[])
{
  (void)p;
  q[0] = AzU(J, 0) * AzU(J, 0) + AzU(J, 1) * AzU(J, 1);
  if (dqdjet) {
    dqdjet[AzIdxU(J, 0)] = 2 * AzU(J, 0);
    dqdjet[AzIdxU(J, 1)] = 2 * AzU(J, 1);
  }
  return PETSC_SUCCESS;
}

/* q = ½|h_x|² − ½|h|⁴ */
static PetscErrorCode Hamiltonian(const AzPoint *p, const AzJet *J, PetscScalar q[], PetscScalar dqdjet[])
{
  const PetscInt    X = 0;
  const PetscScalar u = AzU(J, 0), v = AzU(J, 1), ux = AzD(J, 0, X), vx = AzD(J, 1, X), m = u * u + v * v;

  (void)p;
  q[0] = 0.5 * (ux * ux + vx * vx) - 0.5 * m * m;
  if (dqdjet) {
    dqdjet[AzIdxU(J, 0)]    = -2 * m * u;
    dqdjet[AzIdxU(J, 1)]    = -2 * m * v;
    dqdjet[AzIdxD(J, 0, X)] = ux;
    dqdjet[AzIdxD(J, 1, X)] = vx;
  }
  return PETSC_SUCCESS;
}

const AzProblemInfo az_problem_nls1d = {
  .abi             = AZ_PROBLEM_ABI,
  .name            = "nls1d",
  .description     = "Nonlinear Schroedinger: i h_t + 0.5 h_xx + |h|^2 h = 0, h = u + i v, periodic on [-5,5], h(x,0) = 2 sech x, t in [0,pi/2]",
  .dim             = 1,
  .time_dependent  = PETSC_TRUE,
  .ncomp           = 2,
  .lower           = {-5},
  .upper           = {5},
  .t0              = 0,
  .t1              = 1.5707963267948966,
  .component_names = "u,v",
  .params          = {{"k", 0, "wavenumber of the initial phase, h(x,0) = 2 sech(x) exp(i k x) (0: the benchmark; multiples of pi/5 keep it periodic)"}},
  .derivatives     = "t,x,xx",
  .interior        = Interior,
  .boundary        = {{AZ_BC_PERIODIC, NULL, NULL}, {AZ_BC_PERIODIC, NULL, NULL}},
  .initial         = Initial,
  .initial_value   = InitialValue,
  .exact_jacobian  = PETSC_TRUE,
  .conservation    = {{"mass", Mass, PETSC_FALSE, 0.0}, {"hamiltonian", Hamiltonian, PETSC_FALSE, 0.0}},
};
