#include "common.h"
#include <stdlib.h>
/* its face residual calls exit(0): that must not pass for a successful run */
static PetscErrorCode Quit(const AzPoint *p, const AzJet *J, PetscScalar r[], PetscScalar drdjet[])
{
  (void)p;
  (void)J;
  (void)r;
  (void)drdjet;
  exit(0);
}
const AzProblemInfo az_problem_exitface = {AZ_TEST_BASE("exitface"), .boundary = {{AZ_BC_DIRICHLET, Res, NULL}, {AZ_BC_DIRICHLET, Quit, NULL}}};
