/* Shared by the Check suites: capture the message of the first PETSc error raised while a test
 * expects one, so the test can assert what the message says; OK() for a call that must succeed;
 * LoadProblem() for a shipped problem by name with its options applied. */
#ifndef AZ_TESTS_AZCHECK_H
#define AZ_TESTS_AZCHECK_H

#include <ansatz.h>
#include <check.h>
#include <petscsys.h>
#include <stdio.h>

#define OK(call) ck_assert_int_eq((int)(call), 0)

static char last_error[4096];

static PetscErrorCode CaptureError(MPI_Comm comm, int line, const char *fun, const char *file, PetscErrorCode n, PetscErrorType p, const char *mess, void *ctx)
{
  (void)comm, (void)line, (void)fun, (void)file, (void)ctx;
  if (p == PETSC_ERROR_INITIAL && mess) snprintf(last_error, sizeof last_error, "%s", mess);
  return n;
}

static inline AzProblem LoadProblem(const char *name)
{
  AzProblem prob = NULL;
  ck_assert_msg(AzProblemLoad(PETSC_COMM_WORLD, name, &prob) == 0, "cannot load problem %s", name);
  ck_assert_int_eq(AzProblemSetFromOptions(prob), 0);
  return prob;
}

#endif
