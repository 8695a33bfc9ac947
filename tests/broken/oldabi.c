#include "common.h"
/* a plugin built for ABI 2 (before the conservation form): refused, with a message that says rebuild */
const AzProblemInfo az_problem_oldabi = {AZ_TEST_BASE("oldabi"), .abi = 2};
