#include "common.h"
const AzProblemInfo az_problem_badabi = {AZ_TEST_BASE("badabi"), .abi = AZ_PROBLEM_ABI + 99};
