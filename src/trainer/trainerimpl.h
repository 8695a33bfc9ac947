#ifndef ANSATZ_TRAINERIMPL_H
#define ANSATZ_TRAINERIMPL_H

#include <ansatz/trainer.h>

struct _p_AzTrainer {
  MPI_Comm      comm;
  AzLoss        loss;
  AzField       field;
  Vec           theta; /* the field's parameters (not owned) */
  PetscInt      nparam, nterms;
  char         *prefix; /* options prefix (NULL: none) */
  PetscInt         nstages;
  char             stage[AZ_MAX_STAGES][AZ_TRAINER_NAME_LEN]; /* registered type names */
  AzTrainerStageFn stagefn[AZ_MAX_STAGES];
  PetscInt         max_it[AZ_MAX_STAGES];

  /* Adam */
  PetscReal lr, lr_decay, lr_decay_steps, beta1, beta2, eps;
  /* Gauss–Newton / Levenberg–Marquardt */
  PetscReal mu0, mu_min, mu_max;
  PetscReal mu_init; /* > 0: the initial damping itself (-az_gn_mu_init), else mu0 × mean diag(JᵀJ) */
  enum { AZ_GN_AUTO, AZ_GN_DENSE, AZ_GN_CG } gn_solver;
  enum { AZ_GN_PC_NONE, AZ_GN_PC_NYSTROM } gn_pc; /* the CG solver's preconditioner */
  PetscInt nystrom_rank, nystrom_every;           /* sketch size; GN iterations between sketches */
  PetscInt lin_solves, lin_its, sketch_products;   /* the CG solver's work (AzTrainerGetLinearIterations) */
  /* robustness */
  PetscInt max_failures;
  PetscInt blas_threads; /* OpenBLAS threads while training (-az_trainer_blas_threads; 0: OpenBLAS's own) */
  PetscInt lbfgs_segment; /* L-BFGS iterations between constraint updates when they move */
  PetscInt march;         /* time-marching: windows (1: none) */
  PetscInt nrollback; /* steps undone because of NaN/Inf */
  PetscInt lbfgs_m;   /* L-BFGS memory: curvature pairs kept */
  PetscBool lbfgs_diag; /* L-BFGS initial Hessian: diagonal (per parameter) instead of γI */
  PetscInt  bfgs_update;     /* dense quasi-Newton update: an AzQNUpdateType (qn.h: ssbroyden, ssbfgs, bfgs) */
  PetscInt  bfgs_max_params; /* larger networks are refused by the bfgs stage (P² numbers per rank) */
  AzTrainerReason reason;     /* why training stopped */
  char            reason_msg[512];
  char            trial_msg[256]; /* why the last rejected trial point was not finite */

  /* progress */
  PetscInt  monitor_every; /* history line (and error measurement) every N iterations */
  PetscBool quiet, tty;
  PetscInt  it;            /* global iteration count */
  PetscInt  cur_stage;
  PetscInt  total_it;
  PetscLogDouble t0;
  PetscLogDouble stage_t0; /* when the current stage started, and tr->it then: the ETA's rate */
  PetscInt       stage_it0;
  PetscInt       nhist, caphist;
  AzHistoryEntry *hist;

  /* checkpoints */
  char     checkpoint[PETSC_MAX_PATH_LEN];
  PetscInt checkpoint_every;
  char     restart[PETSC_MAX_PATH_LEN];
  PetscInt restart_stage, restart_it; /* where the restart file left off, -1 for none */
  Vec      restart_state;             /* optimiser state to resume (Adam moments; GN damping) */
};

/* The randomized Nyström preconditioner of the GN CG solve (nystrom.c): H = JᵀJ ≈ U diag(λ) Uᵀ */
typedef struct {
  PetscInt     P, s; /* parameters; sketch rank (0: none, the identity) */
  PetscScalar *U;    /* P × s, orthonormal columns */
  PetscReal   *lambda;
  PetscScalar *c; /* s, work */
} AzNystrom;
PETSC_INTERN PetscErrorCode AzNystromBuild(AzTrainer tr, PetscInt rank, PetscInt seed, AzNystrom *ny);
PETSC_INTERN PetscErrorCode AzNystromApply(const AzNystrom *ny, PetscReal mu, Vec x, Vec y);
PETSC_INTERN PetscErrorCode AzNystromDestroy(AzNystrom *ny);

/* Training stops with AZ_TRAINER_FAILED: the message (printf format) says what happened; the caller
 * leaves θ at the last good parameters and returns success. */
PETSC_INTERN PetscErrorCode AzTrainerFail(AzTrainer tr, const char fmt[], ...) PETSC_ATTRIBUTE_FORMAT(2, 3);
/* Why the state at θ is not finite: which term and whether its residual (the loss term) or its
 * Jacobian (the gradient of the term alone) is NaN or Inf; term[] from AzLossEvaluate, NULL to
 * evaluate it. Collective. */
PETSC_INTERN PetscErrorCode AzTrainerDiagnose(AzTrainer tr, const PetscReal term[], char buf[], size_t len);
PETSC_INTERN PetscBool      AzTrainerFailed(AzTrainer tr);
/* A stage ends before its iterations are done without failing (e.g. the loss cannot be lowered at this
 * precision): the reason stays AZ_TRAINER_COMPLETED, its message (printf format) says why and where */
PETSC_INTERN PetscErrorCode AzTrainerStop(AzTrainer tr, const char fmt[], ...) PETSC_ATTRIBUTE_FORMAT(2, 3);
/* the internal loss API the diagnosis uses (src/loss/lossimpl.h): ∇θ of term k alone, unweighted */

/* Remaining time, from the measured rate of the current stage: it_done iterations of this stage in
 * elapsed seconds, remaining iterations over all stages. 0 when nothing was measured yet. */
static inline PetscReal AzTrainerETA(PetscInt it_done, PetscReal elapsed, PetscInt remaining)
{
  if (it_done <= 0 || elapsed <= 0 || remaining <= 0) return 0;
  return (PetscReal)remaining * (elapsed / (PetscReal)it_done);
}

PETSC_INTERN PetscErrorCode AzTrainerRecord(AzTrainer tr, PetscReal loss, const PetscReal term[], PetscBool force);
PETSC_INTERN PetscErrorCode AzTrainerCheckpoint(AzTrainer tr, PetscInt stage_it, Vec state);
PETSC_INTERN PetscBool      AzTrainerVecIsFinite(Vec v);

/* the registry (registry.c): the registered names, comma separated; a name (any case) to its
 * canonical name, stage function and default iterations; the number a checkpoint stores */
PETSC_INTERN PetscErrorCode AzTrainerTypeList(char buf[], size_t len);
PETSC_INTERN PetscErrorCode AzTrainerTypeFind(const char name[], char canonical[], AzTrainerStageFn *fn, PetscInt *default_its, PetscBool *found);
PETSC_INTERN int64_t        AzTrainerTypeNumber(const char name[]);
PETSC_INTERN const char    *AzTrainerTypeName(int64_t number);

/* the built-in stages */
PETSC_INTERN PetscErrorCode AzTrainAdam(AzTrainer tr, PetscInt max_it);
PETSC_INTERN PetscErrorCode AzTrainLBFGS(AzTrainer tr, PetscInt max_it);
PETSC_INTERN PetscErrorCode AzTrainGN(AzTrainer tr, PetscInt max_it);
PETSC_INTERN PetscErrorCode AzTrainBFGS(AzTrainer tr, PetscInt max_it);

#endif
