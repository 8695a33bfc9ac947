/* Private to src/loss: the loss object and its terms. */
#ifndef ANSATZ_LOSSIMPL_H
#define ANSATZ_LOSSIMPL_H

#include <ansatz/loss.h>
#include <ansatz/compat.h>
#include <ansatz/constraint.h>

typedef struct {
  char      name[32];
  PetscInt  cond; /* AZ_COND_INTERIOR, a face, AZ_COND_INITIAL */
  PetscInt  n;    /* global points */
  PetscInt  nres; /* residuals per point */
  PetscReal w;
  Vec       x;    /* distributed points, block size ncoord */
  Vec       obs;  /* data term only: observed values, block size ncomp, distributed like x */
  /* the Gauss–Newton linearisation (gnop.c): scaled residuals, their jet derivatives, work */
  PetscScalar *lin_rho, *lin_D, *lin_jet, *lin_w;
  /* how a boundary or initial term is enforced (strategy.c); the PDE and data terms are plain */
  AzConstraintType ctype;
  PetscReal        w0;        /* the configured weight: where a schedule starts */
  PetscScalar     *lambda;    /* augmented Lagrangian: a multiplier per local residual */
  PetscReal        mu;        /* augmented Lagrangian: penalty (the term's weight is μ/2) */
  PetscReal        violation; /* augmented Lagrangian: max |r| at the last multiplier update */
} AzTerm;

#define AZ_COND_DATA (-2) /* a data term: r = u − u_obs at observation points */

struct _p_AzLoss {
  MPI_Comm     comm;
  AzProblem    prob;
  AzField      field;
  PetscInt     ncoord, ncomp, nslot, nparam;
  AzSampleType type;
  PetscInt64   seed;
  PetscInt     n_interior, n_boundary, n_initial, eval_n, chunk;
  PetscReal    w_interior, w_boundary, w_initial, w_data;
  char         data_file[PETSC_MAX_PATH_LEN];
  PetscInt     nterms;
  AzTerm       term[AZ_MAX_TERMS];
  PetscBool    setup;
  AzReference  ref; /* yardstick when the problem has no exact solution (not owned) */
  PetscBool    hard_boundary, hard_initial;
  AzConstraintType con_boundary, con_initial;
  PetscReal    weight_max, peak;             /* schedules: final weight, fraction of training where it is reached */
  PetscInt     adaptive_every;               /* adaptive balancing: update period */
  PetscReal    adaptive_alpha;               /* adaptive balancing: moving-average factor */
  PetscInt     auglag_every;                 /* augmented Lagrangian: multiplier update period */
  PetscReal    auglag_mu0, auglag_grow, auglag_mu_max;
  AzTransform  transform; /* u = g + φN when some conditions are hard (NULL otherwise) */
  /* chunk workspace */
  PetscScalar *jets, *D, *r, *Jrows; /* jets: chunk × L; D: chunk × nres × L; r: chunk × nres */
};


PETSC_INTERN PetscErrorCode AzLossConstraintOptions(AzLoss L);
PETSC_INTERN PetscErrorCode AzLossConstraintSetUpTerm(AzLoss L, AzTerm *t);
/* ∇θ mean(r_k²) of term k alone, unweighted, reduced over ranks */
PETSC_INTERN PetscErrorCode AzLossTermGradient(AzLoss L, PetscInt k, Vec g);

/* residuals (and ∂r/∂jet into D if not NULL) of term t at local points p0 .. p0+nc-1, from L->jets */
PETSC_INTERN PetscErrorCode TermResiduals(AzLoss L, AzTerm *t, PetscInt p0, PetscInt nc, const PetscReal *x, PetscScalar *D);

#endif
