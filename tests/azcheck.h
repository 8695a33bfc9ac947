/* Shared by the Check suites: capture the message of the first PETSc error raised while a test
 * expects one, so the test can assert what the message says. */
#ifndef AZ_TESTS_AZCHECK_H
#define AZ_TESTS_AZCHECK_H

#include <petscsys.h>
#include <stdio.h>

static char last_error[4096];

static PetscErrorCode CaptureError(MPI_Comm comm, int line, const char *fun, const char *file, PetscErrorCode n, PetscErrorType p, const char *mess, void *ctx)
{
  (void)comm, (void)line, (void)fun, (void)file, (void)ctx;
  if (p == PETSC_ERROR_INITIAL && mess) snprintf(last_error, sizeof last_error, "%s", mess);
  return n;
}

#endif
