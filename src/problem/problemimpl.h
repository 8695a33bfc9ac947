#ifndef ANSATZ_PROBLEMIMPL_H
#define ANSATZ_PROBLEMIMPL_H

#include <ansatz/problem.h>

#define AZ_MASS_PANELS 64

struct _p_AzProblem {
  MPI_Comm             comm;
  const AzProblemInfo *info; /* &guarded: every callback goes through a guard (guard.c) */
  const AzProblemInfo *orig; /* the plugin's own descriptor */
  AzProblemInfo        guarded;
  char                 code_hash[40]; /* FNV-1a 64 of the file that holds the plugin's code */
  void                *dl; /* dlopen handle, NULL for a descriptor linked into the program */
  char                 path[PETSC_MAX_PATH_LEN];
  PetscInt             ncoord;
  PetscInt             nparam;
  PetscReal            param[AZ_MAX_PARAMS];
  AzJetRequest         request;  /* the declared derivatives (not closed), and those the conservation form needs */
  PetscInt             fluxmask; /* conservation form: the jet slots .flux and .source read (0: no flux) */
  PetscInt             law_comp[AZ_MAX_LAWS];    /* law l is the automatic mass law of this component (−1: declared) */
  char                 law_name[AZ_MAX_LAWS][64]; /* the automatic laws' names */
  PetscBool            mass_ready[AZ_MAX_COMP];   /* mass_cum computed */
  PetscReal            mass_cum[AZ_MAX_COMP][AZ_MASS_PANELS + 1]; /* Q*(t0 + k (t1 − t0)/AZ_MASS_PANELS) */
  /* -az_conservation_from: laws l ≥ nbase are discovered ones, evaluated by discovered.c from disc[l] */
  PetscInt                nbase; /* the laws before them (−1: none added yet) */
  struct AzDiscoveredLaw_ *disc[AZ_MAX_LAWS];
};
/* the problem whose parameter array a point carries (guard.c's registry) */
PETSC_INTERN PetscErrorCode AzProblemFind(const AzPoint *, AzProblem *);
PETSC_INTERN PetscErrorCode AzProblemConservationFromOptions(AzProblem);
PETSC_INTERN PetscErrorCode AzProblemDestroyDiscovered(AzProblem);

/* the names of a choice parameter ("{a|b|c} help"): *n of them (0: a real parameter), each at most 31 characters */
PETSC_INTERN PetscErrorCode AzParamChoices(const AzParamInfo *, PetscInt *n, char names[][32]);
PETSC_INTERN PetscErrorCode AzProblemGuard(AzProblem);
PETSC_INTERN PetscErrorCode AzProblemUnguard(AzProblem);
PETSC_INTERN PetscErrorCode AzProblemSetUpFlux(AzProblem);
PETSC_INTERN PetscErrorCode AzProblemAddMassLaws(AzProblem);
PETSC_INTERN PetscErrorCode AzProblemFluxResidual(AzProblem, PetscInt, const PetscReal[], const PetscScalar[], PetscScalar[], PetscScalar[]);

#endif
