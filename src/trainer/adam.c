/* Adam (Kingma & Ba 2015) with an exponentially decaying learning rate,
 *   lr_t = lr · scale · decay^(t / decay_steps),
 * where scale halves each time a step produces NaN/Inf (the step is undone and retried). */
#include "trainerimpl.h"
#include <ansatz/compat.h>

PetscErrorCode AzTrainAdam(AzTrainer tr, PetscInt max_it)
{
  const PetscInt P = tr->nparam;
  Vec            grad, good, state, goodstate;
  PetscScalar   *th, *g, *st;
  PetscReal      f, term[AZ_MAX_TERMS];
  PetscInt       start = 0, fails = 0;

  PetscFunctionBegin;
  /* state = [m (P), v (P), lr scale, step count t] */
  PetscCall(VecDuplicate(tr->theta, &grad));
  PetscCall(VecDuplicate(tr->theta, &good));
  PetscCall(VecCreateSeq(PETSC_COMM_SELF, 2 * P + 2, &state));
  PetscCall(VecZeroEntries(state));
  PetscCall(VecSetValue(state, 2 * P, 1.0, INSERT_VALUES));
  PetscCall(VecAssemblyBegin(state));
  PetscCall(VecAssemblyEnd(state));
  if (tr->restart_state && tr->restart_stage == tr->cur_stage) {
    PetscInt n;
    PetscCall(VecGetSize(tr->restart_state, &n));
    PetscCheck(n == 2 * P + 2, tr->comm, PETSC_ERR_ARG_SIZ, "Restart state has %" PetscInt_FMT " entries; Adam expects %" PetscInt_FMT, n, 2 * P + 2);
    PetscCall(VecCopy(tr->restart_state, state));
    start = tr->restart_it;
  }
  PetscCall(VecDuplicate(state, &goodstate));
  for (PetscInt k = 0; k < max_it;) {
    PetscReal gnorm;

    PetscCall(AzLossUpdateConstraints(tr->loss, tr->it, tr->total_it));
    PetscCall(AzLossEvaluate(tr->loss, &f, term, grad));
    PetscCall(VecNorm(grad, NORM_2, &gnorm));
    if (PetscIsInfOrNanReal(f) || PetscIsInfOrNanReal(gnorm)) {
      PetscCheck(k > 0 || start > 0, tr->comm, PETSC_ERR_FP, "The loss or its gradient is %s at the initial parameters: check the problem's residuals (an undeclared derivative reads as NaN)", PetscIsNanReal(f) || PetscIsNanReal(gnorm) ? "NaN" : "Inf");
      PetscCheck(++fails < tr->max_failures, tr->comm, PETSC_ERR_FP, "Adam: NaN/Inf in the loss or gradient %" PetscInt_FMT " time(s) in a row at iteration %" PetscInt_FMT ", even after halving the learning rate each time; the last good parameters are kept. Lower -az_adam_lr (now %g)", fails, tr->it, (double)tr->lr);
      tr->nrollback++;
      PetscCall(VecCopy(good, tr->theta));
      PetscCall(VecCopy(goodstate, state));
      PetscCall(VecGetArray(state, &st));
      st[2 * P] *= 0.5;
      PetscCall(VecRestoreArray(state, &st));
      if (!tr->quiet) PetscCall(PetscPrintf(tr->comm, "\nAdam: NaN/Inf at iteration %" PetscInt_FMT ": step undone, learning rate halved\n", tr->it));
    } else {
      fails = 0;
      PetscCall(VecCopy(tr->theta, good));
      PetscCall(VecCopy(state, goodstate));
    }
    /* the update from the last good point */
    PetscCall(VecGetArray(tr->theta, &th));
    PetscCall(VecGetArray(grad, &g));
    PetscCall(VecGetArray(state, &st));
    if (fails) { /* re-evaluate after a rollback before stepping again */
      PetscCall(VecRestoreArray(state, &st));
      PetscCall(VecRestoreArray(grad, &g));
      PetscCall(VecRestoreArray(tr->theta, &th));
      continue;
    }
    {
      PetscScalar    *m = st, *v = st + P;
      const PetscReal t  = st[2 * P + 1] + 1;
      const PetscReal lr = tr->lr * st[2 * P] * PetscPowReal(tr->lr_decay, t / tr->lr_decay_steps);
      const PetscReal c1 = 1 - PetscPowReal(tr->beta1, t), c2 = 1 - PetscPowReal(tr->beta2, t);
      for (PetscInt i = 0; i < P; i++) {
        m[i]  = tr->beta1 * m[i] + (1 - tr->beta1) * g[i];
        v[i]  = tr->beta2 * v[i] + (1 - tr->beta2) * g[i] * g[i];
        th[i] -= lr * (m[i] / c1) / (PetscSqrtReal(v[i] / c2) + tr->eps);
      }
      st[2 * P + 1] = t;
    }
    PetscCall(VecRestoreArray(state, &st));
    PetscCall(VecRestoreArray(grad, &g));
    PetscCall(VecRestoreArray(tr->theta, &th));
    k++;
    tr->it++;
    PetscCall(AzTrainerRecord(tr, f, term, (PetscBool)(k == 1 || k == max_it)));
    PetscCall(AzTrainerCheckpoint(tr, start + k, state));
  }
  PetscCall(VecDestroy(&grad));
  PetscCall(VecDestroy(&good));
  PetscCall(VecDestroy(&state));
  PetscCall(VecDestroy(&goodstate));
  PetscFunctionReturn(PETSC_SUCCESS);
}
