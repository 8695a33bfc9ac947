#include "common.h"
const AzProblemInfo az_problem_highorder = {AZ_TEST_BASE("highorder"), .derivatives = "xxxxx"};
