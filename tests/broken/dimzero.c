#include "common.h"
const AzProblemInfo az_problem_dimzero = {AZ_TEST_BASE("dimzero"), .dim = 0};
