#include "common.h"
const AzProblemInfo az_problem_mixedthird = {AZ_TEST_BASE("mixedthird"), .dim = 2, .lower = {0, 0}, .upper = {1, 1}, .derivatives = "xxy"};
