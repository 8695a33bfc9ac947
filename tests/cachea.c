#define CACHEPROB_F 1
#include "cacheprob.h"
