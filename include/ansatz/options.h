/* Strict options: every option ansatz reads goes through these checks (included by compat.h, so
 * every file that uses PetscOptionsInt and friends gets them without asking).
 *  - an integer that does not fit PetscInt is an error (PETSc's atoi would wrap it silently);
 *  - a real must be finite;
 *  - an option that needs a value (integer, real, string, choice) but has none is an error;
 *  - every option read is recorded, so AzOptionsCheckUnused can suggest the closest valid name
 *    for an -az_ option nothing read (a misspelling), and AzOptionsCheckpoint can stop a mode
 *    after its options were read when -help was given.
 * Options prefixes (PETSc's PetscObjectSetOptionsPrefix pattern): an object under prefix P (its
 * PetscOptionsBegin(comm, P, ...), or PetscOptionsGetX(NULL, P, ...)) reading -az_X takes -Paz_X
 * when given, else falls back to the global -az_X, else keeps its default. So -az_n_interior 500
 * applies to every strategy of `compare` and -s2_az_n_interior 800 to strategy 2 only. The checks
 * above name the option actually read. A prefixed -P_az_X nothing read is refused like a misspelled
 * -az_X; a global -az_X counts as read when an object read it, with or without a prefix (also when
 * every such object had its own -Paz_X). */
#ifndef ANSATZ_OPTIONS_H
#define ANSATZ_OPTIONS_H

#include <petscsys.h>

/* returned (quietly) by AzOptionsCheckpoint under -help: the mode printed its options and stops */
#define AZ_ERR_HELP_DONE 190

PETSC_EXTERN PetscErrorCode AzOptionsInt_Private(PetscOptionItems *, const char[], const char[], const char[], PetscInt, PetscInt *, PetscBool *, PetscInt, PetscInt);
PETSC_EXTERN PetscErrorCode AzOptionsReal_Private(PetscOptionItems *, const char[], const char[], const char[], PetscReal, PetscReal *, PetscBool *);
PETSC_EXTERN PetscErrorCode AzOptionsString_Private(PetscOptionItems *, const char[], const char[], const char[], const char[], char *, size_t, PetscBool *);
PETSC_EXTERN PetscErrorCode AzOptionsEnum_Private(PetscOptionItems *, const char[], const char[], const char[], const char *const *, PetscEnum, PetscEnum *, PetscBool *);
PETSC_EXTERN PetscErrorCode AzOptionsEList_Private(PetscOptionItems *, const char[], const char[], const char[], const char *const *, PetscInt, const char[], PetscInt *, PetscBool *);
PETSC_EXTERN PetscErrorCode AzOptionsBool_Private(PetscOptionItems *, const char[], const char[], const char[], PetscBool, PetscBool *, PetscBool *);
PETSC_EXTERN PetscErrorCode AzOptionsIntArray_Private(PetscOptionItems *, const char[], const char[], const char[], PetscInt[], PetscInt *, PetscBool *);
PETSC_EXTERN PetscErrorCode AzOptionsRealArray_Private(PetscOptionItems *, const char[], const char[], const char[], PetscReal[], PetscInt *, PetscBool *);
PETSC_EXTERN PetscErrorCode AzOptionsStringArray_Private(PetscOptionItems *, const char[], const char[], const char[], char *[], PetscInt *, PetscBool *);
PETSC_EXTERN PetscErrorCode AzOptionsGetInt(PetscOptions, const char[], const char[], PetscInt *, PetscBool *);
PETSC_EXTERN PetscErrorCode AzOptionsGetReal(PetscOptions, const char[], const char[], PetscReal *, PetscBool *);
PETSC_EXTERN PetscErrorCode AzOptionsGetBool(PetscOptions, const char[], const char[], PetscBool *, PetscBool *);
PETSC_EXTERN PetscErrorCode AzOptionsGetString(PetscOptions, const char[], const char[], char[], size_t, PetscBool *);
PETSC_EXTERN PetscErrorCode AzOptionsGetIntArray(PetscOptions, const char[], const char[], PetscInt[], PetscInt *, PetscBool *);

/* Every -az_ option given but never read is an error that names the closest option that was read;
 * other unused options are a warning, as PETSc's -options_left. */
PETSC_EXTERN PetscErrorCode AzOptionsCheckUnused(MPI_Comm);
/* whether the option name (with or without its '-') was read so far, and the closest -az_ option read
 * (without '-'; "" when none is close): for a mode that checks a name given inside another option */
PETSC_EXTERN PetscErrorCode AzOptionsClosestRead(const char name[], PetscBool *read, char best[], size_t len);
/* Called by a mode once all its options are read, before it writes or computes anything heavy:
 * checks unused options (when check_unused) and, under -help, stops the mode (AZ_ERR_HELP_DONE). */
PETSC_EXTERN PetscErrorCode AzOptionsCheckpoint(MPI_Comm, PetscBool check_unused);
/* the error handler of the ansatz program: quiet for AZ_ERR_HELP_DONE, PETSc's traceback otherwise */
PETSC_EXTERN PetscErrorCode AzOptionsErrorHandler(MPI_Comm, int, const char *, const char *, PetscErrorCode, PetscErrorType, const char *, void *);

#if !defined(AZ_OPTIONS_IMPL) && !defined(PETSC_CLANG_STATIC_ANALYZER)
  #undef PetscOptionsInt
  #undef PetscOptionsBoundedInt
  #undef PetscOptionsRangeInt
  #undef PetscOptionsReal
  #undef PetscOptionsString
  #undef PetscOptionsEnum
  #undef PetscOptionsBool
  #undef PetscOptionsEList
  #undef PetscOptionsIntArray
  #undef PetscOptionsRealArray
  #undef PetscOptionsStringArray
  #define PetscOptionsInt(a, b, c, d, e, f)            AzOptionsInt_Private(PetscOptionsObject, a, b, c, d, e, f, PETSC_MIN_INT, PETSC_MAX_INT)
  #define PetscOptionsBoundedInt(a, b, c, d, e, f, g)  AzOptionsInt_Private(PetscOptionsObject, a, b, c, d, e, f, g, PETSC_MAX_INT)
  #define PetscOptionsRangeInt(a, b, c, d, e, f, g, h) AzOptionsInt_Private(PetscOptionsObject, a, b, c, d, e, f, g, h)
  #define PetscOptionsReal(a, b, c, d, e, f)           AzOptionsReal_Private(PetscOptionsObject, a, b, c, d, e, f)
  #define PetscOptionsString(a, b, c, d, e, f, g)      AzOptionsString_Private(PetscOptionsObject, a, b, c, d, e, f, g)
  #define PetscOptionsEnum(a, b, c, d, e, f, g)        AzOptionsEnum_Private(PetscOptionsObject, a, b, c, d, e, f, g)
  #define PetscOptionsBool(a, b, c, d, e, f)           AzOptionsBool_Private(PetscOptionsObject, a, b, c, d, e, f)
  #define PetscOptionsEList(a, b, c, d, e, f, g, h)    AzOptionsEList_Private(PetscOptionsObject, a, b, c, d, e, f, g, h)
  #define PetscOptionsIntArray(a, b, c, d, e, f)       AzOptionsIntArray_Private(PetscOptionsObject, a, b, c, d, e, f)
  #define PetscOptionsRealArray(a, b, c, d, e, f)      AzOptionsRealArray_Private(PetscOptionsObject, a, b, c, d, e, f)
  #define PetscOptionsStringArray(a, b, c, d, e, f)    AzOptionsStringArray_Private(PetscOptionsObject, a, b, c, d, e, f)
  #define PetscOptionsGetInt(a, b, c, d, e)            AzOptionsGetInt(a, b, c, d, e)
  #define PetscOptionsGetReal(a, b, c, d, e)           AzOptionsGetReal(a, b, c, d, e)
  #define PetscOptionsGetBool(a, b, c, d, e)           AzOptionsGetBool(a, b, c, d, e)
  #define PetscOptionsGetString(a, b, c, d, e, f)      AzOptionsGetString(a, b, c, d, e, f)
  #define PetscOptionsGetIntArray(a, b, c, d, e, f)    AzOptionsGetIntArray(a, b, c, d, e, f)
#endif

#endif
