/* euler2d: steady incompressible Euler flow, the Taylor–Green cellular flow on [0,1]²,
 *   u·∇u + ∇p = 0,  ∇·u = 0,
 *   u = sin(πx) cos(πy),  v = −cos(πx) sin(πy),  p = (cos 2πx + cos 2πy)/4,
 * with the exact values on the boundary. The velocity is divergence-free; a stream function
 * (-az_divfree: u = ψ_y, v = −ψ_x) makes it so by construction, while a plain network only
 * approaches ∇·u = 0 through the continuity residual. */
#include <ansatz/problem.h>

enum { U, V, P };

static void ExactValues(const PetscReal x[], PetscScalar u[])
{
  const PetscReal pi = PETSC_PI;
  u[U]               = PetscSinReal(pi * x[0]) * PetscCosReal(pi * x[1]);
  u[V]               = -PetscCosReal(pi * x[0]) * PetscSinReal(pi * x[1]);
  u[P]               = 0.25 * (PetscCosReal(2 * pi * x[0]) + PetscCosReal(2 * pi * x[1]));
}

/* r = (u u_x + v u_y + p_x, u v_x + v v_y + p_y, u_x + v_y) */
static PetscErrorCode Interior(const AzPoint *p, const AzJet *J, PetscScalar r[], PetscScalar drdjet[])
{
  const PetscInt    X = 0, Y = 1, L = J->ncomp * J->nslot;
  const PetscScalar u = AzU(J, U), v = AzU(J, V), ux = AzD(J, U, X), uy = AzD(J, U, Y), vx = AzD(J, V, X), vy = AzD(J, V, Y);

  (void)p;
  r[0] = u * ux + v * uy + AzD(J, P, X);
  r[1] = u * vx + v * vy + AzD(J, P, Y);
  r[2] = ux + vy;
  if (drdjet) {
    drdjet[AzIdxU(J, U)]     = ux;
    drdjet[AzIdxU(J, V)]     = uy;
    drdjet[AzIdxD(J, U, X)]  = u;
    drdjet[AzIdxD(J, U, Y)]  = v;
    drdjet[AzIdxD(J, P, X)]  = 1;
    drdjet[L + AzIdxU(J, U)] = vx;
    drdjet[L + AzIdxU(J, V)] = vy;
    drdjet[L + AzIdxD(J, V, X)] = u;
    drdjet[L + AzIdxD(J, V, Y)] = v;
    drdjet[L + AzIdxD(J, P, Y)] = 1;
    drdjet[2 * L + AzIdxD(J, U, X)] = 1;
    drdjet[2 * L + AzIdxD(J, V, Y)] = 1;
  }
  return PETSC_SUCCESS;
}

/* every component equals its exact value on the boundary */
static PetscErrorCode Wall(const AzPoint *p, const AzJet *J, PetscScalar r[], PetscScalar drdjet[])
{
  PetscScalar e[3];

  ExactValues(p->x, e);
  for (PetscInt c = 0; c < 3; c++) {
    r[c] = AzU(J, c) - e[c];
    if (drdjet) drdjet[c * J->ncomp * J->nslot + AzIdxU(J, c)] = 1;
  }
  return PETSC_SUCCESS;
}

static PetscErrorCode Exact(const AzPoint *p, PetscScalar u[])
{
  ExactValues(p->x, u);
  return PETSC_SUCCESS;
}

const AzProblemInfo az_problem_euler2d = {
  .abi             = AZ_PROBLEM_ABI,
  .name            = "euler2d",
  .description     = "Steady incompressible Euler, Taylor-Green cells on [0,1]^2: u.grad u + grad p = 0, div u = 0 (exact u, v, p on the boundary)",
  .dim             = 2,
  .ncomp           = 3,
  .nres            = 3,
  .lower           = {0, 0},
  .upper           = {1, 1},
  .component_names = "u,v,p",
  .derivatives     = "x,y",
  .interior        = Interior,
  .boundary        = {{AZ_BC_DIRICHLET, Wall, Exact}, {AZ_BC_DIRICHLET, Wall, Exact}, {AZ_BC_DIRICHLET, Wall, Exact}, {AZ_BC_DIRICHLET, Wall, Exact}},
  .exact           = Exact,
  .exact_jacobian  = PETSC_TRUE,
};
