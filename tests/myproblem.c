/* myproblem: a nonlinear reaction-diffusion problem written the way a user writes one, out of tree.
 *   −u_xx + c u³ = π² sin(πx) + c sin³(πx) on [0,1], u(0) = u(1) = 0, exact u = sin(πx).
 * It leaves out the exact jet Jacobian, so ansatz differentiates the residual itself. Build it with
 *   cc -shared -fPIC myproblem.c $(pkg-config --cflags --libs ansatz) -o myproblem.so */
#include <ansatz/problem.h>

enum { C };

static PetscErrorCode Interior(const AzPoint *p, const AzJet *J, PetscScalar r[], PetscScalar drdjet[])
{
  const PetscReal s = PetscSinReal(PETSC_PI * p->x[0]), c = p->param[C];
  const PetscScalar u = AzU(J, 0);

  (void)drdjet; /* .exact_jacobian is false: ansatz never asks */
  r[0] = -AzD2(J, 0, 0, 0) + c * u * u * u - (PETSC_PI * PETSC_PI * s + c * s * s * s);
  return PETSC_SUCCESS;
}

static PetscErrorCode Wall(const AzPoint *p, const AzJet *J, PetscScalar r[], PetscScalar drdjet[])
{
  (void)p;
  (void)drdjet;
  r[0] = AzU(J, 0);
  return PETSC_SUCCESS;
}

static PetscErrorCode Exact(const AzPoint *p, PetscScalar u[])
{
  u[0] = PetscSinReal(PETSC_PI * p->x[0]);
  return PETSC_SUCCESS;
}

const AzProblemInfo az_problem_myproblem = {
  .abi         = AZ_PROBLEM_ABI,
  .name        = "myproblem",
  .description = "nonlinear reaction-diffusion -u_xx + c u^3 = f on [0,1], u = 0 at both ends",
  .dim         = 1,
  .ncomp       = 1,
  .lower       = {0},
  .upper       = {1},
  .params      = {{"c", 1.0, "reaction coefficient"}},
  .derivatives = "xx",
  .interior    = Interior,
  .boundary    = {{AZ_BC_DIRICHLET, Wall, NULL}, {AZ_BC_DIRICHLET, Wall, NULL}},
  .exact       = Exact,
};
