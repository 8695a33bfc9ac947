/* Sampler: collocation points, reproducible whatever the number of ranks.
 *
 * A point's coordinates depend only on the sampler's seed and the point's global index: rank r holds
 * the indices [start, end) of a PETSc ownership split and computes them itself, so 1, 2 or 16 ranks
 * see the same set. Types: grid (tensor grid; cell centres or including the ends), uniform random,
 * Latin hypercube (strata assigned by a keyed permutation of the index, so no global shuffle is
 * needed), Halton and Sobol (first four dimensions, Cranley–Patterson shifted by the seed).
 */
#ifndef ANSATZ_SAMPLER_H
#define ANSATZ_SAMPLER_H

#include <petscvec.h>
#include <ansatz/problem.h>

typedef enum {
  AZ_SAMPLE_GRID,
  AZ_SAMPLE_UNIFORM,
  AZ_SAMPLE_LHS,
  AZ_SAMPLE_HALTON,
  AZ_SAMPLE_SOBOL
} AzSampleType;
PETSC_EXTERN const char *const AzSampleTypes[];

/* The unit-cube sample of global index i in dimension d (values in [0,1)^d), for a set of n points. */
PETSC_EXTERN PetscErrorCode AzSampleUnit(AzSampleType type, PetscInt d, PetscInt n, PetscInt64 seed, PetscInt64 i, PetscReal u[]);

/* Counter-based random numbers: a uniform in (0,1) that is a pure function of (seed, a, b), and a new
 * non-negative seed from (seed, a, b) (e.g. a fresh stream per iteration). Resampling draws its
 * candidate points and its selections from these, so they do not depend on the rank count. */
PETSC_EXTERN PetscReal  AzSampleHash(PetscInt64 seed, PetscInt64 a, PetscInt64 b);
PETSC_EXTERN PetscInt64 AzSampleSeed(PetscInt64 seed, PetscInt64 a, PetscInt64 b);

/* Points of one condition of a problem: the interior of the space-time box, one face (at the face's
 * coordinate, spread over the others, over the whole time span), or the initial slice t = t0.
 * The result is a distributed Vec of block size ncoord holding this rank's share of n points. */
PETSC_EXTERN PetscErrorCode AzSampleCondition(MPI_Comm comm, AzProblem prob, PetscInt cond, AzSampleType type, PetscInt n, PetscInt64 seed, Vec *points);
/* The same with this rank's number of points given (PETSC_DECIDE: PETSc's split); a point's
 * coordinates depend on its global index only, whatever the split. */
PETSC_EXTERN PetscErrorCode AzSampleConditionLocal(MPI_Comm comm, AzProblem prob, PetscInt cond, AzSampleType type, PetscInt n, PetscInt nlocal, PetscInt64 seed, Vec *points);

#endif
