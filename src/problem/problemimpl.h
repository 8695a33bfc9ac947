#ifndef ANSATZ_PROBLEMIMPL_H
#define ANSATZ_PROBLEMIMPL_H

#include <ansatz/problem.h>

struct _p_AzProblem {
  MPI_Comm             comm;
  const AzProblemInfo *info;
  void                *dl; /* dlopen handle, NULL for a descriptor linked into the program */
  char                 path[PETSC_MAX_PATH_LEN];
  PetscInt             ncoord;
  PetscInt             nparam;
  PetscReal            param[AZ_MAX_PARAMS];
  AzJetRequest         request; /* the declared derivatives (not closed) */
};

#endif
