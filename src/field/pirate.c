#include "fieldimpl.h"
static PetscErrorCode PirateLayout(AzField f)
{
  PetscFunctionBegin;
  SETERRQ(f->comm, PETSC_ERR_SUP, "PirateNet is not implemented yet");
}
const AzFieldOps AzFieldOps_Pirate = {PirateLayout, NULL, NULL, NULL, NULL, NULL};
