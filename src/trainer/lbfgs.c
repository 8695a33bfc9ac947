/* L-BFGS through TAO (TAOLMVM with its More–Thuente line search), on every rank the same:
 * θ is replicated and the objective is reduced over ranks, so all ranks take identical steps. */
#include "trainerimpl.h"
#include <ansatz/compat.h>
#include <petsctao.h>

typedef struct {
  AzTrainer tr;
  Vec       best;
  PetscReal fbest, term[AZ_MAX_TERMS], fterm[AZ_MAX_TERMS];
  PetscInt  nonfinite, max_it, last_it, offset; /* offset: iterations of earlier segments */
} LBFGSCtx;

static PetscErrorCode FormFunctionGradient(Tao tao, Vec X, PetscReal *f, Vec G, void *ptr)
{
  LBFGSCtx *c  = (LBFGSCtx *)ptr;
  AzTrainer tr = c->tr;
  PetscReal gnorm;

  PetscFunctionBegin;
  (void)tao;
  PetscCall(VecCopy(X, tr->theta));
  PetscCall(AzLossEvaluate(tr->loss, f, c->fterm, G));
  PetscCall(VecNorm(G, NORM_2, &gnorm));
  if (PetscIsInfOrNanReal(*f) || PetscIsInfOrNanReal(gnorm)) {
    /* tell the line search this point is useless: a huge value, no slope */
    c->nonfinite++;
    *f = PETSC_MAX_REAL;
    PetscCall(VecZeroEntries(G));
  } else if (*f < c->fbest) {
    c->fbest = *f;
    PetscCall(PetscArraycpy(c->term, c->fterm, AZ_MAX_TERMS));
    PetscCall(VecCopy(X, c->best));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode Monitor(Tao tao, void *ptr)
{
  LBFGSCtx *c = (LBFGSCtx *)ptr;
  PetscInt  its;
  PetscReal f;

  PetscFunctionBegin;
  PetscCall(TaoGetSolutionStatus(tao, &its, &f, NULL, NULL, NULL, NULL));
  for (; c->last_it < c->offset + its; c->last_it++) {
    c->tr->it++;
    PetscCall(AzTrainerRecord(c->tr, c->fbest, c->term, (PetscBool)(c->last_it == 0 || c->last_it + 1 == c->max_it)));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* One TaoSolve of at most n iterations from the current θ; θ becomes the best point seen. */
static PetscErrorCode Segment(LBFGSCtx *c, PetscInt n, TaoConvergedReason *reason)
{
  AzTrainer tr = c->tr;
  Tao       tao;
  Vec       x;

  PetscFunctionBegin;
  PetscCall(VecDuplicate(tr->theta, &x));
  PetscCall(VecCopy(tr->theta, x));
  PetscCall(VecCopy(tr->theta, c->best));
  c->offset = c->last_it;
  PetscCall(TaoCreate(PETSC_COMM_SELF, &tao));
  PetscCall(TaoSetType(tao, TAOLMVM));
  PetscCall(TaoSetOptionsPrefix(tao, "az_lbfgs_"));
  PetscCall(TaoSetSolution(tao, x));
  PetscCall(TaoSetObjectiveAndGradient(tao, NULL, FormFunctionGradient, c));
  PetscCall(TaoSetMaximumIterations(tao, n));
  PetscCall(TaoSetMaximumFunctionEvaluations(tao, 20 * n + 20));
  PetscCall(TaoSetTolerances(tao, 0, 0, 0));
  PetscCall(TaoSetMonitor(tao, Monitor, c, NULL));
  PetscCall(TaoSetFromOptions(tao));
  PetscCall(TaoSolve(tao));
  PetscCall(TaoGetConvergedReason(tao, reason));
  /* keep the best point seen (the line search may end on a worse trial) */
  PetscCall(VecCopy(c->best, tr->theta));
  PetscCall(TaoDestroy(&tao));
  PetscCall(VecDestroy(&x));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* When the objective moves during training (weight schedules, adaptive weights, multipliers), TAO's
 * line search cannot follow it: L-BFGS then runs in segments of -az_lbfgs_segment iterations with
 * the constraints advanced between them, each segment a fresh L-BFGS from the current point. */
PetscErrorCode AzTrainLBFGS(AzTrainer tr, PetscInt max_it)
{
  LBFGSCtx           c;
  TaoConvergedReason reason = TAO_CONTINUE_ITERATING;
  PetscBool          changes;
  PetscInt           segment, stalls = 0;

  PetscFunctionBegin;
  if (max_it <= 0) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(PetscMemzero(&c, sizeof c));
  c.tr     = tr;
  c.max_it = max_it;
  PetscCall(VecDuplicate(tr->theta, &c.best));
  PetscCall(AzLossConstraintsChange(tr->loss, &changes));
  segment = changes ? tr->lbfgs_segment : max_it;
  while (c.last_it < max_it) {
    const PetscInt before = c.last_it;
    if (changes) PetscCall(AzLossUpdateConstraints(tr->loss, tr->it, tr->total_it));
    c.fbest = PETSC_MAX_REAL; /* the objective may have changed: compare afresh */
    PetscCall(Segment(&c, PetscMin(segment, max_it - c.last_it), &reason));
    if (c.last_it == before) {
      if (!changes || ++stalls >= 2) break; /* no progress: TAO stopped at its first iteration */
    } else stalls = 0;
    if (!changes && c.last_it < max_it) break; /* one solve, stopped early */
  }
  /* make every rank hold rank 0's θ bit for bit */
  {
    PetscScalar *th;
    PetscCall(VecGetArray(tr->theta, &th));
    PetscCallMPI(MPI_Bcast(th, (PetscMPIInt)tr->nparam, MPIU_SCALAR, 0, tr->comm));
    PetscCall(VecRestoreArray(tr->theta, &th));
  }
  if (c.last_it < max_it && !tr->quiet) PetscCall(PetscPrintf(tr->comm, "%sL-BFGS stopped after %" PetscInt_FMT " of %" PetscInt_FMT " iterations: %s\n", tr->tty ? "\n" : "", c.last_it, max_it, TaoConvergedReasons[reason]));
  if (c.nonfinite && !tr->quiet) PetscCall(PetscPrintf(tr->comm, "L-BFGS: %" PetscInt_FMT " trial point(s) gave NaN/Inf and were rejected by the line search\n", c.nonfinite));
  if (c.last_it > 0 && tr->nhist && tr->hist[tr->nhist - 1].it != tr->it) PetscCall(AzTrainerRecord(tr, c.fbest, c.term, PETSC_TRUE));
  PetscCall(VecDestroy(&c.best));
  PetscFunctionReturn(PETSC_SUCCESS);
}
