#include "common.h"
const AzProblemInfo az_problem_wrongname = {AZ_TEST_BASE("poisson3d")};
