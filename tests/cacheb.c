#define CACHEPROB_F 2
#include "cacheprob.h"
