/* Shared by the Check suites: capture the message of the first PETSc error raised while a test
 * expects one, so the test can assert what the message says; OK() for a call that must succeed;
 * LoadProblem() for a shipped problem by name with its options applied; and the helpers several
 * suites had each written out: options set and cleared from a table (Opt), a loss term's index by
 * name, a temporary path private to the run, a small CSV file of rows in a temporary directory, a
 * problem + field + loss built from a few sizes, and its teardown. */
#ifndef AZ_TESTS_AZCHECK_H
#define AZ_TESTS_AZCHECK_H

#include <ansatz.h>
#include <check.h>
#include <petscsys.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <unistd.h>

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

/* an option and its value; tables end with {NULL, NULL} */
typedef struct {
  const char *name, *value;
} Opt;

/* set (clear) every option of o, under the prefix when one is given: "-az_x" → "-PREFIXaz_x" */
static inline void SetOpts(const char *prefix, const Opt *o)
{
  for (; o && o->name; o++) {
    char full[256];
    snprintf(full, sizeof full, "-%s%s", prefix ? prefix : "", o->name + 1);
    PetscOptionsSetValue(NULL, full, o->value);
  }
}

static inline void ClearOpts(const char *prefix, const Opt *o)
{
  for (; o && o->name; o++) {
    char full[256];
    snprintf(full, sizeof full, "-%s%s", prefix ? prefix : "", o->name + 1);
    PetscOptionsClearValue(NULL, full);
  }
}

/* the index of the loss's term called name, -1 when it has none */
static inline PetscInt LossTermIndex(AzLoss loss, const char *name)
{
  PetscInt    nt;
  const char *nm;
  AzLossGetNumTerms(loss, &nt);
  for (PetscInt k = 0; k < nt; k++) {
    AzLossGetTermName(loss, k, &nm);
    if (!strcmp(nm, name)) return k;
  }
  return -1;
}

/* a temporary file name private to this run (other checkouts may run the suites at the same time):
 * /tmp/az_test_<AZ_TEST_TAG><rank 0's pid>_<name>, the same on every rank; eight live at a time */
#ifndef AZ_TEST_TAG
  #define AZ_TEST_TAG ""
#endif
static inline const char *TmpPath(const char *name)
{
  static char path[8][PETSC_MAX_PATH_LEN];
  static int  next;
  long        pid = (long)getpid();
  char       *p   = path[next++ % 8];
  MPI_Bcast(&pid, 1, MPI_LONG, 0, PETSC_COMM_WORLD);
  snprintf(p, PETSC_MAX_PATH_LEN, "/tmp/az_test_%s%ld_%s", AZ_TEST_TAG, pid, name);
  return p;
}

/* rows (nrows × ncols, row-major) under a header line into dir/obs.csv, dir a fresh directory
 * /tmp/az_test_TAG_XXXXXX made by rank 0; dir and file broadcast to every rank */
static inline void WriteRowsCSV(const char *tag, const char *header, int nrows, int ncols, const double rows[], char dir[PETSC_MAX_PATH_LEN], char file[PETSC_MAX_PATH_LEN])
{
  PetscMPIInt rank;
  MPI_Comm_rank(PETSC_COMM_WORLD, &rank);
  if (!rank) {
    FILE *fp;
    snprintf(dir, PETSC_MAX_PATH_LEN, "/tmp/az_test_%s_XXXXXX", tag);
    ck_assert_msg(mkdtemp(dir) != NULL, "cannot create a temporary directory");
    snprintf(file, PETSC_MAX_PATH_LEN, "%s/obs.csv", dir);
    fp = fopen(file, "w");
    ck_assert(fp != NULL);
    fprintf(fp, "%s\n", header);
    for (int i = 0; i < nrows; i++)
      for (int j = 0; j < ncols; j++) fprintf(fp, "%.17g%s", rows[i * ncols + j], j + 1 < ncols ? "," : "\n");
    fclose(fp);
  }
  MPI_Bcast(dir, PETSC_MAX_PATH_LEN, MPI_CHAR, 0, PETSC_COMM_WORLD);
  MPI_Bcast(file, PETSC_MAX_PATH_LEN, MPI_CHAR, 0, PETSC_COMM_WORLD);
}

/* removes what WriteRowsCSV made (nothing when dir is empty) and empties dir and file */
static inline void RemoveRowsCSV(char dir[], char file[])
{
  PetscMPIInt rank;
  if (!dir[0]) return;
  MPI_Barrier(PETSC_COMM_WORLD);
  MPI_Comm_rank(PETSC_COMM_WORLD, &rank);
  if (!rank) {
    unlink(file);
    rmdir(dir);
  }
  dir[0] = file[0] = 0;
}

/* problem `name` + a depth × width tanh field (seed, network, RWF off or on with mean 1, std 0.1) +
 * its loss with the sets' sizes (-az_n_interior, -az_n_boundary, -az_n_initial and, when chunk > 0,
 * -az_loss_chunk set for the set-up and cleared after it) */
static inline PetscErrorCode BuildSmallSetup(MPI_Comm comm, const char *name, PetscInt depth, PetscInt width, PetscInt seed, AzNetwork net, PetscBool rwf, PetscInt nint, PetscInt nbnd, PetscInt ninit, PetscInt chunk, AzProblem *prob, AzField *field, AzLoss *loss)
{
  const AzProblemInfo *info;
  AzJetRequest         req;
  PetscInt             ncoord;
  PetscReal            lo[AZ_MAX_COORD], hi[AZ_MAX_COORD];
  char                 b[4][32];
  Opt                  sets[5] = {{NULL, NULL}};
  PetscInt             k = 0;

  PetscFunctionBegin;
  PetscCall(AzProblemLoad(comm, name, prob));
  PetscCall(AzProblemSetFromOptions(*prob));
  PetscCall(AzProblemGetInfo(*prob, &info));
  PetscCall(AzProblemGetNumCoords(*prob, &ncoord));
  PetscCall(AzProblemGetBox(*prob, lo, hi));
  PetscCall(AzProblemGetJetRequest(*prob, &req));
  PetscCall(AzJetRequestClose(&req));
  PetscCall(AzFieldCreate(comm, field));
  PetscCall(AzFieldSetDimensions(*field, ncoord, info->ncomp));
  PetscCall(AzFieldSetBox(*field, lo, hi));
  PetscCall(AzFieldSetJetRequest(*field, &req));
  PetscCall(AzFieldSetArchitecture(*field, depth, width, AZ_ACT_TANH));
  PetscCall(AzFieldSetSeed(*field, seed));
  PetscCall(AzFieldSetNetwork(*field, net));
  PetscCall(AzFieldSetWeightFactorization(*field, rwf, 1.0, 0.1));
  PetscCall(AzFieldSetUp(*field));
  PetscCall(AzLossCreate(*prob, *field, loss));
  snprintf(b[0], sizeof b[0], "%d", (int)nint);
  snprintf(b[1], sizeof b[1], "%d", (int)nbnd);
  snprintf(b[2], sizeof b[2], "%d", (int)ninit);
  snprintf(b[3], sizeof b[3], "%d", (int)chunk);
  sets[k++] = (Opt){"-az_n_interior", b[0]};
  sets[k++] = (Opt){"-az_n_boundary", b[1]};
  sets[k++] = (Opt){"-az_n_initial", b[2]};
  if (chunk > 0) sets[k++] = (Opt){"-az_loss_chunk", b[3]};
  SetOpts(NULL, sets);
  PetscCall(AzLossSetFromOptions(*loss));
  PetscCall(AzLossSetUp(*loss));
  ClearOpts(NULL, sets);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* the teardown of any set-up struct with members prob, field and loss */
#define FreeSetup(s) \
  do { \
    AzLossDestroy(&(s)->loss); \
    AzFieldDestroy(&(s)->field); \
    AzProblemDestroy(&(s)->prob); \
  } while (0)

#endif
