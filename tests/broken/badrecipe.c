#include "common.h"
/* a recipe that names the run directory: refused at load, naming the option and what a recipe may set */
const AzProblemInfo az_problem_badrecipe = {AZ_TEST_BASE("badrecipe"), .recipe = "-az_field_width 8 -az_output_dir /tmp/x"};
