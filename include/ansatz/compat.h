/* The one place for differences between PETSc releases (we build against 3.18). */
#ifndef ANSATZ_COMPAT_H
#define ANSATZ_COMPAT_H

#include <petscsys.h>

#if PETSC_VERSION_LT(3, 19, 0)
  #ifndef PETSC_SUCCESS
    #define PETSC_SUCCESS ((PetscErrorCode)0)
  #endif
#endif

#include <ansatz/options.h>

#endif
