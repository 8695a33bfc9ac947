/* twolaws: heat1d (u_t = u_xx on [0,1], u = 0 at the walls, u(x,0) = sin πx) with a valid lift and two
 * laws, one linear (mass ∫u dx) and one nonlinear (energy ∫u² dx), both held at their initial values.
 * The heat equation keeps neither: the laws exist to check the derivatives of a projection onto one
 * law and a penalty on the other under hard conditions, not to be satisfied by the solution. */
#include <ansatz/problem.h>

static PetscErrorCode Interior(const AzPoint *p, const AzJet *J, PetscScalar r[], PetscScalar drdjet[])
{
  (void)p;
  r[0] = AzD(J, 0, 1) - AzD2(J, 0, 0, 0);
  if (drdjet) {
    drdjet[AzIdxD(J, 0, 1)]     = 1;
    drdjet[AzIdxD2(J, 0, 0, 0)] = -1;
  }
  return PETSC_SUCCESS;
}

static PetscErrorCode Wall(const AzPoint *p, const AzJet *J, PetscScalar r[], PetscScalar drdjet[])
{
  (void)p;
  r[0] = AzU(J, 0);
  if (drdjet) drdjet[AzIdxU(J, 0)] = 1;
  return PETSC_SUCCESS;
}

static PetscErrorCode Initial(const AzPoint *p, const AzJet *J, PetscScalar r[], PetscScalar drdjet[])
{
  r[0] = AzU(J, 0) - PetscSinReal(PETSC_PI * p->x[0]);
  if (drdjet) drdjet[AzIdxU(J, 0)] = 1;
  return PETSC_SUCCESS;
}

static PetscErrorCode InitialValue(const AzPoint *p, PetscScalar u[])
{
  u[0] = PetscSinReal(PETSC_PI * p->x[0]);
  return PETSC_SUCCESS;
}

/* g(x, t) = sin πx: zero at the walls, the initial data at t = 0 */
static PetscErrorCode Lift(const AzPoint *p, PetscScalar jet[])
{
  const PetscInt  n = p->ncoord;
  const PetscReal k = PETSC_PI, s = PetscSinReal(k * p->x[0]), c = PetscCosReal(k * p->x[0]);
  for (PetscInt q = 0; q < AZ_JET_NSLOT(n); q++) jet[q] = 0;
  jet[0]                    = s;
  jet[AzJetSlotD1(n, 0)]    = k * c;
  jet[AzJetSlotD2(n, 0, 0)] = -k * k * s;
  jet[AzJetSlotD3(n, 0)]    = -k * k * k * c;
  jet[AzJetSlotD4(n, 0)]    = k * k * k * k * s;
  return PETSC_SUCCESS;
}

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

const AzProblemInfo az_problem_twolaws = {
  .abi            = AZ_PROBLEM_ABI,
  .name           = "twolaws",
  .description    = "test problem: heat1d with a linear and a nonlinear law and a valid lift",
  .dim            = 1,
  .time_dependent = PETSC_TRUE,
  .ncomp          = 1,
  .lower          = {0},
  .upper          = {1},
  .t0             = 0,
  .t1             = 1,
  .derivatives    = "t,xx",
  .interior       = Interior,
  .boundary       = {{AZ_BC_DIRICHLET, Wall, NULL}, {AZ_BC_DIRICHLET, Wall, NULL}},
  .initial        = Initial,
  .initial_value  = InitialValue,
  .exact_jacobian = PETSC_TRUE,
  .lift           = Lift,
  .conservation   = {{"mass", Mass, PETSC_FALSE, 0}, {"energy", Energy, PETSC_FALSE, 0}},
};
