#include "common.h"
/* time-dependent without an initial condition */
const AzProblemInfo az_problem_noinitial = {AZ_TEST_BASE("noinitial"), .time_dependent = PETSC_TRUE, .t0 = 0, .t1 = 1};
