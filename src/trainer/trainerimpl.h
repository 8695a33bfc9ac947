#ifndef ANSATZ_TRAINERIMPL_H
#define ANSATZ_TRAINERIMPL_H

#include <ansatz/trainer.h>

struct _p_AzTrainer {
  MPI_Comm      comm;
  AzLoss        loss;
  AzField       field;
  Vec           theta; /* the field's parameters (not owned) */
  PetscInt      nparam, nterms;
  PetscInt      nstages;
  AzTrainerType stage[AZ_MAX_STAGES];
  PetscInt      max_it[AZ_MAX_STAGES];

  /* Adam */
  PetscReal lr, lr_decay, lr_decay_steps, beta1, beta2, eps;
  /* Gauss–Newton / Levenberg–Marquardt */
  PetscReal mu0, mu_min, mu_max;
  enum { AZ_GN_AUTO, AZ_GN_DENSE, AZ_GN_CG } gn_solver;
  /* robustness */
  PetscInt max_failures;
  PetscInt lbfgs_segment; /* L-BFGS iterations between constraint updates when they move */
  PetscInt nrollback; /* steps undone because of NaN/Inf */
  AzTrainerReason reason;     /* why training stopped */
  char            reason_msg[512];

  /* progress */
  PetscInt  monitor_every; /* history line (and error measurement) every N iterations */
  PetscBool quiet, tty;
  PetscInt  it;            /* global iteration count */
  PetscInt  cur_stage;
  PetscInt  total_it;
  PetscLogDouble t0;
  PetscInt       nhist, caphist;
  AzHistoryEntry *hist;

  /* checkpoints */
  char     checkpoint[PETSC_MAX_PATH_LEN];
  PetscInt checkpoint_every;
  char     restart[PETSC_MAX_PATH_LEN];
  PetscInt restart_stage, restart_it; /* where the restart file left off, -1 for none */
  Vec      restart_state;             /* optimiser state to resume (Adam moments; GN damping) */
};

PETSC_INTERN PetscErrorCode AzTrainerRecord(AzTrainer tr, PetscReal loss, const PetscReal term[], PetscBool force);
PETSC_INTERN PetscErrorCode AzTrainerCheckpoint(AzTrainer tr, PetscInt stage_it, Vec state);
PETSC_INTERN PetscBool      AzTrainerVecIsFinite(Vec v);

PETSC_INTERN PetscErrorCode AzTrainAdam(AzTrainer tr, PetscInt max_it);
PETSC_INTERN PetscErrorCode AzTrainLBFGS(AzTrainer tr, PetscInt max_it);
PETSC_INTERN PetscErrorCode AzTrainGN(AzTrainer tr, PetscInt max_it);

#endif
