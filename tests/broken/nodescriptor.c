#include "common.h"
/* exports a descriptor under a name that does not match the file */
const AzProblemInfo az_problem_other = {AZ_TEST_BASE("other")};
