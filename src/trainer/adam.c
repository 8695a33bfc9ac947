/* Adam (Kingma & Ba 2015) with an exponentially decaying learning rate,
 *   lr_t = lr · scale · decay^(t / decay_steps),
 * where scale halves each time a step produces NaN/Inf: the step is undone (θ and the moments go
 * back to the last good point) and retried from there. After -az_trainer_max_failures such failures
 * in a row training stops (AZ_TRAINER_FAILED) with θ at the last good point. The state after the
 * last step is evaluated too, so a stage never ends on parameters whose loss is not finite. */
#include "trainerimpl.h"
#include <ansatz/compat.h>

PetscErrorCode AzTrainAdam(AzTrainer tr, PetscInt max_it)
{
  const PetscInt P = tr->nparam;
  Vec            grad, good, goodgrad, state, goodstate;
  PetscScalar   *th, *g, *st;
  PetscReal      f, term[AZ_MAX_TERMS], goodf = 0, goodterm[AZ_MAX_TERMS];
  PetscInt       start = 0, fails = 0, k = 0, goodk = 0, goodit = 0;
  PetscBool      have_good = PETSC_FALSE;

  PetscFunctionBegin;
  /* state = [m (P), v (P), lr scale, step count t] */
  PetscCall(VecDuplicate(tr->theta, &grad));
  PetscCall(VecDuplicate(tr->theta, &good));
  PetscCall(VecDuplicate(tr->theta, &goodgrad));
  PetscCall(VecCreateSeq(PETSC_COMM_SELF, 2 * P + 2, &state));
  PetscCall(VecZeroEntries(state));
  PetscCall(VecSetValue(state, 2 * P, 1.0, INSERT_VALUES));
  PetscCall(VecAssemblyBegin(state));
  PetscCall(VecAssemblyEnd(state));
  if (tr->restart_state && tr->restart_stage == tr->cur_stage) {
    PetscInt n;
    PetscCall(VecGetSize(tr->restart_state, &n));
    PetscCheck(n == 2 * P + 2, tr->comm, PETSC_ERR_FILE_UNEXPECTED, "Restart file %s: its Adam state has %" PetscInt_FMT " entries; Adam expects %" PetscInt_FMT, tr->restart, n, 2 * P + 2);
    PetscCall(VecCopy(tr->restart_state, state));
    start = tr->restart_it;
  }
  PetscCall(VecDuplicate(state, &goodstate));
  for (;;) {
    PetscReal gnorm = 0;
    PetscBool finite;

    /* the constraints advance before each step; the final state is evaluated as it stands */
    if (k < max_it) PetscCall(AzLossUpdateConstraints(tr->loss, tr->it, tr->total_it));
    PetscCall(AzLossEvaluate(tr->loss, &f, term, k < max_it ? grad : NULL));
    if (k < max_it) PetscCall(VecNorm(grad, NORM_2, &gnorm));
    finite = (PetscBool)(!PetscIsInfOrNanReal(f) && !PetscIsInfOrNanReal(gnorm) && AzTrainerVecIsFinite(tr->theta));
    if (!finite) {
      char why[256];
      PetscCall(AzTrainerDiagnose(tr, term, why, sizeof why));
      if (!have_good) {
        PetscCall(AzTrainerFail(tr, "Adam: the loss or its gradient is not finite at the %s parameters (%s): check the problem's residuals (an undeclared derivative reads as NaN)", start ? "restarted" : "initial", why));
        break;
      }
      fails++;
      tr->nrollback++;
      /* back to the last good point */
      PetscCall(VecCopy(good, tr->theta));
      PetscCall(VecCopy(goodstate, state));
      PetscCall(VecCopy(goodgrad, grad));
      f = goodf;
      PetscCall(PetscArraycpy(term, goodterm, AZ_MAX_TERMS));
      k      = goodk;
      tr->it = goodit;
      if (fails >= tr->max_failures) {
        PetscCall(AzTrainerRecord(tr, f, term, PETSC_TRUE));
        PetscCall(AzTrainerFail(tr, "Adam: NaN/Inf %" PetscInt_FMT " time(s) in a row (%s), even after halving the learning rate each time; the parameters of iteration %" PetscInt_FMT " (the last good ones) are kept. Lower -az_adam_lr (now %g)", fails, why, tr->it, (double)tr->lr));
        break;
      }
      PetscCall(VecGetArray(goodstate, &st)); /* halved again at each failure in a row */
      st[2 * P] *= 0.5;
      PetscCall(VecRestoreArray(goodstate, &st));
      PetscCall(VecCopy(goodstate, state));
      if (!tr->quiet) PetscCall(PetscPrintf(tr->comm, "%sAdam: NaN/Inf after iteration %" PetscInt_FMT " (%s): step undone, learning rate halved\n", tr->tty ? "\n" : "", tr->it + 1, why));
    } else {
      fails = 0;
      PetscCall(AzTrainerRecord(tr, f, term, (PetscBool)(k == 0 || k == max_it)));
      if (k == max_it) break;
      have_good = PETSC_TRUE;
      goodf     = f;
      goodk     = k;
      goodit    = tr->it;
      PetscCall(PetscArraycpy(goodterm, term, AZ_MAX_TERMS));
      PetscCall(VecCopy(tr->theta, good));
      PetscCall(VecCopy(grad, goodgrad));
      PetscCall(VecCopy(state, goodstate));
    }
    /* one step from the current (good) point */
    PetscCall(VecGetArray(tr->theta, &th));
    PetscCall(VecGetArray(grad, &g));
    PetscCall(VecGetArray(state, &st));
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
    if (tr->checkpoint[0] && tr->checkpoint_every && (start + k) % tr->checkpoint_every == 0) {
      /* only a point whose loss is finite is worth restarting from */
      PetscReal fc;
      PetscCall(AzLossEvaluate(tr->loss, &fc, NULL, NULL));
      if (!PetscIsInfOrNanReal(fc)) PetscCall(AzTrainerCheckpoint(tr, start + k, state));
    }
  }
  PetscCall(VecDestroy(&grad));
  PetscCall(VecDestroy(&good));
  PetscCall(VecDestroy(&goodgrad));
  PetscCall(VecDestroy(&state));
  PetscCall(VecDestroy(&goodstate));
  PetscFunctionReturn(PETSC_SUCCESS);
}
