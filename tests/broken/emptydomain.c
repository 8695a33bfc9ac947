#include "common.h"
const AzProblemInfo az_problem_emptydomain = {AZ_TEST_BASE("emptydomain"), .lower = {1}, .upper = {1}};
