/* consmass: consform with the flux prescribed on both faces and a source that does not read u (see
 * tests/consform.c), so its mass law mass_u0 follows from the data with a target that varies in time */
#define CONSFORM_MASS
#include "consform.c"
