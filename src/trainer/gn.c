/* Gauss–Newton / Levenberg–Marquardt on the dense normal equations:
 *   (JᵀJ + μ I) δ = −Jᵀρ,   loss = ‖ρ‖²,
 * solved by Cholesky. The damping follows Nielsen's rule: with the gain ratio
 *   ϱ = (actual decrease) / (decrease predicted by the linear model) = ΔL / δᵀ(μδ − Jᵀρ),
 * a step with ϱ > 0 is taken and μ ← μ·max(1/3, 1 − (2ϱ − 1)³), ν ← 2; otherwise it is refused and
 * μ ← μ·ν, ν ← 2ν. μ starts at mu0 times the mean diagonal of JᵀJ. */
#include "trainerimpl.h"
#include <ansatz/compat.h>
#include <petscblaslapack.h>

PetscErrorCode AzTrainGN(AzTrainer tr, PetscInt max_it)
{
  const PetscInt P = tr->nparam;
  PetscScalar   *JtJ, *A, *Jtr, *delta;
  Vec            old, state;
  PetscReal      f, term[AZ_MAX_TERMS], mu = -1, nu = 2;
  PetscInt       start = 0;
  PetscBLASInt   n, info, one = 1;

  PetscFunctionBegin;
  if (max_it <= 0) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(PetscBLASIntCast(P, &n));
  PetscCall(PetscMalloc4((size_t)P * P, &JtJ, (size_t)P * P, &A, P, &Jtr, P, &delta));
  PetscCall(VecDuplicate(tr->theta, &old));
  PetscCall(VecCreateSeq(PETSC_COMM_SELF, 1, &state));
  if (tr->restart_state && tr->restart_stage == tr->cur_stage) {
    const PetscScalar *s;
    PetscCall(VecGetArrayRead(tr->restart_state, &s));
    mu = PetscRealPart(s[0]);
    PetscCall(VecRestoreArrayRead(tr->restart_state, &s));
    start = tr->restart_it;
  }
  for (PetscInt k = 0; k < max_it; k++) {
    PetscBool accepted = PETSC_FALSE;
    PetscReal ftrial   = PETSC_MAX_REAL;

    PetscCall(AzLossNormalEquations(tr->loss, JtJ, Jtr, &f, term));
    PetscCheck(!PetscIsInfOrNanReal(f), tr->comm, PETSC_ERR_FP, "Gauss-Newton: the loss is not finite at iteration %" PetscInt_FMT "; the last good parameters are kept", tr->it);
    if (mu < 0) {
      PetscReal tr_diag = 0;
      for (PetscInt i = 0; i < P; i++) tr_diag += PetscRealPart(JtJ[i + i * P]);
      mu = tr->mu0 * PetscMax(tr_diag / P, PETSC_SMALL);
    }
    PetscCall(VecCopy(tr->theta, old));
    while (!accepted) {
      PetscCall(PetscArraycpy(A, JtJ, (size_t)P * P));
      for (PetscInt i = 0; i < P; i++) A[i + i * P] += mu;
      PetscCallBLAS("LAPACKpotrf", LAPACKpotrf_("U", &n, A, &n, &info));
      if (!info) {
        for (PetscInt i = 0; i < P; i++) delta[i] = -Jtr[i];
        PetscCallBLAS("LAPACKpotrs", LAPACKpotrs_("U", &n, &one, A, &n, delta, &n, &info));
        PetscCheck(!info, PETSC_COMM_SELF, PETSC_ERR_LIB, "LAPACK potrs failed with info %d", (int)info);
        {
          PetscScalar *th;
          PetscCall(VecGetArray(tr->theta, &th));
          for (PetscInt i = 0; i < P; i++) th[i] += delta[i];
          PetscCall(VecRestoreArray(tr->theta, &th));
        }
        PetscCall(AzLossEvaluate(tr->loss, &ftrial, NULL, NULL));
        {
          PetscReal pred = 0, gain;
          for (PetscInt i = 0; i < P; i++) pred += PetscRealPart(delta[i] * (mu * delta[i] - Jtr[i]));
          gain = (f - ftrial) / PetscMax(pred, PETSC_MIN_REAL);
          if (!PetscIsInfOrNanReal(ftrial) && ftrial < f && gain > 0) {
            const PetscReal c = 2 * gain - 1;
            accepted          = PETSC_TRUE;
            mu                = PetscMax(mu * PetscMax(1.0 / 3, 1 - c * c * c), tr->mu_min);
            nu                = 2;
          } else PetscCall(VecCopy(old, tr->theta));
        }
      }
      if (!accepted) {
        mu *= nu;
        nu *= 2;
        if (mu > tr->mu_max) break;
      }
    }
    tr->it++;
    PetscCall(AzTrainerRecord(tr, f, term, (PetscBool)(k == 0 || k + 1 == max_it || !accepted)));
    {
      PetscCall(VecSetValue(state, 0, mu, INSERT_VALUES));
      PetscCall(VecAssemblyBegin(state));
      PetscCall(VecAssemblyEnd(state));
      PetscCall(AzTrainerCheckpoint(tr, start + k + 1, state));
    }
    if (!accepted) {
      if (!tr->quiet) PetscCall(PetscPrintf(tr->comm, "Gauss-Newton: no step lowers the loss (damping %g exceeds %g): stopping at loss %.6e\n", (double)mu, (double)tr->mu_max, (double)f));
      break;
    }
  }
  PetscCall(PetscFree4(JtJ, A, Jtr, delta));
  PetscCall(VecDestroy(&old));
  PetscCall(VecDestroy(&state));
  PetscFunctionReturn(PETSC_SUCCESS);
}
