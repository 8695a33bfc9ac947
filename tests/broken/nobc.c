#include "common.h"
/* a Dirichlet face without its residual */
const AzProblemInfo az_problem_nobc = {AZ_TEST_BASE("nobc"), .boundary = {{AZ_BC_DIRICHLET, NULL, NULL}, {AZ_BC_DIRICHLET, Res, NULL}}};
