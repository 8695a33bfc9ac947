/* Plugins broken on purpose, one defect each, to test that the loader rejects them clearly.
 * AZ_TEST_BASE is a valid 1-D descriptor; each file overrides one field. */
#include <ansatz/problem.h>

static PetscErrorCode Res(const AzPoint *p, const AzJet *J, PetscScalar r[], PetscScalar drdjet[])
{
  (void)p;
  (void)drdjet;
  r[0] = AzU(J, 0);
  return PETSC_SUCCESS;
}

#define AZ_TEST_BASE(nm) \
  .abi = AZ_PROBLEM_ABI, .name = nm, .description = "broken on purpose", .dim = 1, .ncomp = 1, .lower = {0}, .upper = {1}, .derivatives = "xx", .interior = Res, \
  .boundary = {{AZ_BC_DIRICHLET, Res, NULL}, {AZ_BC_DIRICHLET, Res, NULL}}
