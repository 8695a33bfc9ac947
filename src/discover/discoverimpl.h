#ifndef ANSATZ_DISCOVERIMPL_H
#define ANSATZ_DISCOVERIMPL_H
#include <ansatz/discover.h>
#include <ansatz/field.h>
#include <ansatz/loss.h>

/* A source of the solution: nodes qx and weights qw of a rule on the spatial box (nq of them), nt
 * sample times, and at the current time vals[(q*ncomp + c)*(AZ_DISCOVER_MAX_ORDER+1) + k] = ∂^k u_c at
 * node q and jets (nq × ncomp*nslot, what the declared densities read; NaN where unknown). */
typedef struct {
  PetscInt   ncomp, ncoord, nslot;
  char       comp[AZ_MAX_COMP][32];
  char       desc[PETSC_MAX_PATH_LEN + 64];
  PetscInt   nq, nt;
  /* the source's own error on an integral, a relative drift (0: unknown), and where it comes from */
  PetscReal  accuracy;
  char       accuracy_desc[128];
  PetscReal *qx, *qw, *t;
  PetscReal *vals;
  PetscScalar *jets;
  /* a field */
  AzField field;
  AzLoss  loss;
  /* a grid: gv[(i*nq + q)*ncomp + c] at the nt times, spacing h */
  PetscReal *gv, h;
  PetscBool  periodic;
} AzDiscoverSource;

PETSC_INTERN PetscErrorCode AzDiscoverSourceField(AzProblem, PetscInt nodes, PetscInt nt, PetscInt maxorder, AzDiscoverSource *);
PETSC_INTERN PetscErrorCode AzDiscoverSourceReference(AzProblem, PetscInt nt, AzDiscoverSource *);
PETSC_INTERN PetscErrorCode AzDiscoverSourceData(AzProblem, const char path[], PetscInt nt, AzDiscoverSource *);
PETSC_INTERN PetscErrorCode AzDiscoverSourceSnapshot(AzDiscoverSource *, PetscInt i);
PETSC_INTERN PetscErrorCode AzDiscoverSourceDestroy(AzDiscoverSource *);
PETSC_INTERN PetscErrorCode AzDiscoverLeastSquares(PetscInt m, PetscInt k, const PetscReal A[], const PetscReal b[], PetscReal x[]);
#endif
