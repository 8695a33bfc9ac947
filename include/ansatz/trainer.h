/* Trainer: the optimisation loop over a Loss, chained stages chosen by name.
 *
 *   -az_trainer_type adam,lbfgs,gn   stages run in order (each from where the previous stopped), each a
 *                                    type registered by name (AzTrainerRegister below)
 *   -az_trainer_max_it 2000,500,50   iterations of each stage
 * adam: Adam with an exponentially decaying learning rate; lbfgs: limited-memory BFGS (two-loop
 * recursion over -az_lbfgs_m pairs, default 10; strong-Wolfe line search with cubic interpolation);
 * gn: Gauss–Newton / Levenberg–Marquardt on the normal equations (dense Cholesky or matrix-free CG),
 * with adaptive damping; bfgs: dense quasi-Newton (a P×P inverse Hessian on every rank, refused above
 * -az_bfgs_max_params) with the self-scaled Broyden (default), self-scaled BFGS or plain BFGS update
 * (-az_bfgs_update) and a strong-Wolfe line search. At most AZ_MAX_STAGES stages.
 * NaN or Inf in the loss or gradient is detected: Adam undoes the step and shortens it, L-BFGS
 * shrinks its trial step; after -az_trainer_max_failures failures in a row, or a non-finite state
 * the optimiser cannot step away from, training stops with AZ_TRAINER_FAILED (see below) and a
 * message naming the term and the cause; non-finite parameters are never kept.
 * The history holds one line per recorded state: iteration it (0 = the initial state), the loss, the
 * terms and the error of the same θ.
 */
#ifndef ANSATZ_TRAINER_H
#define ANSATZ_TRAINER_H

#include <ansatz/loss.h>

#define AZ_MAX_STAGES 8

#define AZ_TRAINER_NAME_LEN 32 /* a trainer type's name: at most 31 characters */

typedef struct _p_AzTrainer *AzTrainer;

/* A stage: max_it iterations of one optimiser from the current θ (src/trainer/trainerimpl.h: the
 * trainer's state, AzTrainerRecord for the history, AzTrainerCheckpoint, AzTrainerFail). */
typedef PetscErrorCode (*AzTrainerStageFn)(AzTrainer tr, PetscInt max_it);
/* Trainer types are registered by name (a PetscFunctionList, like PETSc's TaoRegister) and chosen
 * with -az_trainer_type. A new optimiser is one file with its stage function and one register line:
 * in AzTrainerInitializePackage (src/trainer/registry.c) for a built-in, or
 *   PetscCall(AzTrainerRegister("myopt", MyOptStage));
 * in a program before AzTrainerSetFromOptions (default -az_trainer_max_it of a registered stage:
 * 1000). A name registered again gets the new function. AzTrainerRegisterAll registers the
 * built-ins (adam, lbfgs, gn, bfgs); AzTrainerCreate calls it. */
PETSC_EXTERN PetscErrorCode AzTrainerRegister(const char name[], AzTrainerStageFn fn);
PETSC_EXTERN PetscErrorCode AzTrainerRegisterAll(void);

/* one line of the training history */
typedef struct {
  PetscInt  it;    /* global iteration count, over all stages */
  PetscInt  stage; /* index into the stage list */
  PetscReal loss;
  PetscReal term[AZ_MAX_TERMS];
  PetscReal rel_l2; /* against the exact solution; NaN when unknown or not measured at this line */
  PetscReal wall;   /* seconds since training started */
  PetscReal causal_eps, causal_wmin; /* causal training (AzLossGetCausal): ε and the smallest weight; NaN when off */
  PetscInt  npde, nresampled;        /* resampling (AzLossGetResample): the PDE set's size, points resampled or added so far */
  PetscReal infer[AZ_MAX_PARAMS];    /* inverse problems (AzLossGetInferred): the inferred parameters' values */
} AzHistoryEntry;

PETSC_EXTERN PetscErrorCode AzTrainerCreate(AzLoss loss, AzField field, AzTrainer *tr);
PETSC_EXTERN PetscErrorCode AzTrainerSetFromOptions(AzTrainer tr);
/* Options prefix (e.g. "s2_", compare's strategy 2): the trainer reads -s2_az_trainer_type,
 * -s2_az_adam_lr, ..., each falling back to the global -az_... when absent (ansatz/options.h). Set
 * it before AzTrainerSetFromOptions. */
PETSC_EXTERN PetscErrorCode AzTrainerSetOptionsPrefix(AzTrainer tr, const char prefix[]);
PETSC_EXTERN PetscErrorCode AzTrainerGetOptionsPrefix(AzTrainer tr, const char *prefix[]);
PETSC_EXTERN PetscErrorCode AzTrainerTrain(AzTrainer tr);
PETSC_EXTERN PetscErrorCode AzTrainerDestroy(AzTrainer *tr);
PETSC_EXTERN PetscErrorCode AzTrainerGetHistory(AzTrainer tr, PetscInt *n, const AzHistoryEntry **h);
/* e.g. "adam,lbfgs" */
PETSC_EXTERN PetscErrorCode AzTrainerGetDescription(AzTrainer tr, char buf[], size_t len);
/* steps undone because the loss or gradient was NaN/Inf */
PETSC_EXTERN PetscErrorCode AzTrainerGetNumRollbacks(AzTrainer tr, PetscInt *n);
/* Gauss-Newton's matrix-free solver: the linear solves and the CG iterations they took, and the
 * products J^T J v its Nystrom sketches cost (all 0 for the dense solver) */
PETSC_EXTERN PetscErrorCode AzTrainerGetLinearIterations(AzTrainer tr, PetscInt *solves, PetscInt *iterations, PetscInt *sketch_products);
PETSC_EXTERN PetscErrorCode AzTrainerGetIterations(AzTrainer tr, PetscInt *its);
/* OpenBLAS threads pinned while training (-az_trainer_blas_threads, default 1; 0: OpenBLAS's own) */
PETSC_EXTERN PetscErrorCode AzTrainerGetBlasThreads(AzTrainer tr, PetscInt *n);
/* Why training stopped. AzTrainerTrain returns success in every case below; on AZ_TRAINER_FAILED the
 * field holds the last good (finite) parameters and the history ends there, so the caller writes its
 * results and then reports the failure (a non-zero exit). */
typedef enum {
  AZ_TRAINER_COMPLETED = 0, /* every stage ran its iterations, or stopped early without error (the message then says where and why, e.g. bfgs: no strong-Wolfe step left) */
  AZ_TRAINER_FAILED         /* NaN/Inf, repeated failed steps, or a non-finite end state */
} AzTrainerReason;
/* the reason and a one-line message saying what happened (stage, iteration, term, cause) */
PETSC_EXTERN PetscErrorCode AzTrainerGetStopReason(AzTrainer tr, AzTrainerReason *reason, const char **msg);
/* where to write checkpoints (NULL: none); the run directory sets it */
PETSC_EXTERN PetscErrorCode AzTrainerSetCheckpointFile(AzTrainer tr, const char path[]);

#endif
