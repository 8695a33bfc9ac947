#include "common.h"
#include <math.h>
/* its exact solution is NaN at x > 0.5: errors against it must be refused, not reported as 0 or 1.8e308 */
static PetscErrorCode Exact(const AzPoint *p, PetscScalar u[])
{
  u[0] = p->x[0] > 0.5 ? (PetscScalar)NAN : 0;
  return PETSC_SUCCESS;
}
const AzProblemInfo az_problem_nanexact = {AZ_TEST_BASE("nanexact"), .exact = Exact};
