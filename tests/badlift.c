/* badlift: heat1d with a lift that misses its initial data by 0.1, so hard constraints must refuse it,
 * and with a nonlinear law, so projection must refuse it. */
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

/* wrong on purpose: sin(πx) + 0.1 is neither zero at the walls nor the initial data */
static PetscErrorCode Lift(const AzPoint *p, PetscScalar jet[])
{
  for (PetscInt q = 0; q < AZ_JET_NSLOT(p->ncoord); q++) jet[q] = 0;
  jet[0] = PetscSinReal(PETSC_PI * p->x[0]) + 0.1;
  return PETSC_SUCCESS;
}

/* a linear law, mass ∫u dx (= 2/π at t = 0), and one that projection cannot impose: q = u² */
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

const AzProblemInfo az_problem_badlift = {
  .abi            = AZ_PROBLEM_ABI,
  .name           = "badlift",
  .description    = "test problem whose lift does not match its data",
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
  .exact_jacobian = PETSC_TRUE,
  .lift           = Lift,
  .conservation   = {{"mass", Mass, PETSC_TRUE, 2 / PETSC_PI}, {"energy", Energy, PETSC_TRUE, 0.5}},
};
