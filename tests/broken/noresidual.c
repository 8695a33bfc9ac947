#include "common.h"
const AzProblemInfo az_problem_noresidual = {AZ_TEST_BASE("noresidual"), .interior = NULL};
