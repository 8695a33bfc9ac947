/* Gauss–Newton / Levenberg–Marquardt on the dense normal equations:
 *   (JᵀJ + μ I) δ = −Jᵀρ,   loss = ‖ρ‖²,
 * solved by Cholesky. The damping follows Nielsen's rule: with the gain ratio
 *   ϱ = (actual decrease) / (decrease predicted by the linear model) = ΔL / δᵀ(μδ − Jᵀρ),
 * a step with ϱ > 0 is taken and μ ← μ·max(1/3, 1 − (2ϱ − 1)³), ν ← 2; otherwise it is refused and
 * μ ← μ·ν, ν ← 2ν. μ starts at mu0 times the mean diagonal of JᵀJ (or at -az_gn_mu_init).
 * Two ways to solve for δ (-az_gn_solver): dense forms JᵀJ (nparam² numbers, reduced over ranks) and
 * factors it by Cholesky, for small networks; cg never forms J: conjugate gradients on the operator
 * v ↦ JᵀJ v + μv, each product one tangent and one reverse pass (-az_gn_ksp_* options reach the KSP). */
#include "trainerimpl.h"
#include <ansatz/compat.h>
#include <petscblaslapack.h>
#include <petscksp.h>

static PetscBool ArrayIsFinite(size_t n, const PetscScalar a[])
{
  for (size_t i = 0; i < n; i++)
    if (PetscIsInfOrNanScalar(a[i])) return PETSC_FALSE;
  return PETSC_TRUE;
}

/* the state at θ is not finite (θ is the last good point): stop with the term and the cause */
static PetscErrorCode FailNonFinite(AzTrainer tr, const PetscReal term[], const char what[])
{
  char why[256];

  PetscFunctionBegin;
  PetscCall(AzTrainerDiagnose(tr, term, why, sizeof why));
  PetscCall(AzTrainerFail(tr, "Gauss-Newton: NaN/Inf in %s (%s); the last good parameters are kept", what, why));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* a trial point with a non-finite loss: remember why (not yet a failure) */
static PetscErrorCode TrialFailure(AzTrainer tr, const PetscReal term[])
{
  PetscFunctionBegin;
  PetscCall(AzTrainerDiagnose(tr, term, tr->trial_msg, sizeof tr->trial_msg));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* the history's last line: the state the stage ends on */
static PetscErrorCode FinalState(AzTrainer tr)
{
  PetscReal f, term[AZ_MAX_TERMS];

  PetscFunctionBegin;
  PetscCall(AzLossEvaluate(tr->loss, &f, term, NULL));
  if (PetscIsInfOrNanReal(f)) PetscCall(FailNonFinite(tr, term, "the final loss"));
  else PetscCall(AzTrainerRecord(tr, f, term, PETSC_TRUE));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The CG solver's KSP reads -az_gn_ksp_* options; under a trainer prefix P (compare's s<k>_) it reads
 * -Paz_gn_ksp_* when any -Paz_gn_ option is given, else the global -az_gn_ksp_* (the fallback of every
 * prefixed ansatz option, by the whole set: PETSc's objects read one prefix) */
static PetscErrorCode SetKSPPrefix(AzTrainer tr, KSP ksp)
{
  char      *all = NULL, want[128];
  PetscBool  own = PETSC_FALSE;

  PetscFunctionBegin;
  if (tr->prefix) {
    PetscCall(PetscSNPrintf(want, sizeof want, "-%saz_gn_", tr->prefix));
    PetscCall(PetscOptionsGetAll(NULL, &all));
    for (const char *s = all; s && (s = strstr(s, want)); s++)
      if (s == all || s[-1] == ' ') own = PETSC_TRUE;
    PetscCall(PetscFree(all));
  }
  if (own) {
    PetscCall(KSPSetOptionsPrefix(ksp, tr->prefix));
    PetscCall(KSPAppendOptionsPrefix(ksp, "az_gn_"));
  } else PetscCall(KSPSetOptionsPrefix(ksp, "az_gn_"));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode TrainGNDense(AzTrainer tr, PetscInt max_it)
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
    PetscCheck(mu > 0, tr->comm, PETSC_ERR_FILE_UNEXPECTED, "Restart file %s: Gauss-Newton damping %g must be positive", tr->restart, (double)mu);
    start = tr->restart_it;
  }
  for (PetscInt k = 0;; k++) {
    PetscBool accepted = PETSC_FALSE;
    PetscReal ftrial   = PETSC_MAX_REAL, ttrial[AZ_MAX_TERMS];
    PetscInt  ntrial = 0, nonfinite = 0;

    if (k == max_it) { /* the final state, as it stands */
      PetscCall(FinalState(tr));
      break;
    }
    PetscCall(AzLossUpdateConstraints(tr->loss, tr->it, tr->total_it));
    PetscCall(AzLossNormalEquations(tr->loss, JtJ, Jtr, &f, term));
    if (PetscIsInfOrNanReal(f)) {
      PetscCall(FailNonFinite(tr, term, "the loss"));
      break;
    }
    PetscCall(AzTrainerRecord(tr, f, term, (PetscBool)(k == 0)));
    if (!ArrayIsFinite((size_t)P * P, JtJ) || !ArrayIsFinite(P, Jtr)) {
      PetscCall(FailNonFinite(tr, term, "the normal equations JᵀJ, Jᵀρ"));
      break;
    }
    if (mu < 0) {
      PetscReal tr_diag = 0;
      for (PetscInt i = 0; i < P; i++) tr_diag += PetscRealPart(JtJ[i + i * P]);
      mu = tr->mu_init > 0 ? tr->mu_init : tr->mu0 * PetscMax(tr_diag / P, PETSC_SMALL);
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
        PetscCall(AzLossEvaluate(tr->loss, &ftrial, ttrial, NULL));
        ntrial++;
        if (PetscIsInfOrNanReal(ftrial)) nonfinite++;
        {
          PetscReal pred = 0, gain;
          for (PetscInt i = 0; i < P; i++) pred += PetscRealPart(delta[i] * (mu * delta[i] - Jtr[i]));
          gain = (f - ftrial) / PetscMax(pred, PETSC_MIN_REAL);
          if (!PetscIsInfOrNanReal(ftrial) && ftrial < f && gain > 0) {
            const PetscReal c = 2 * gain - 1;
            accepted          = PETSC_TRUE;
            mu                = PetscMax(mu * PetscMax(1.0 / 3, 1 - c * c * c), tr->mu_min);
            nu                = 2;
          } else {
            if (PetscIsInfOrNanReal(ftrial)) PetscCall(TrialFailure(tr, ttrial));
            PetscCall(VecCopy(old, tr->theta));
          }
        }
      }
      if (!accepted) {
        mu *= nu;
        nu *= 2;
        if (!(mu <= tr->mu_max)) break; /* also when μ is NaN */
      }
    }
    if (!accepted) {
      if (ntrial && nonfinite == ntrial) {
        PetscCall(AzTrainerFail(tr, "Gauss-Newton: every trial step (%" PetscInt_FMT ") gave a non-finite loss (%s at the last one); the last good parameters are kept", ntrial, tr->trial_msg));
        break;
      }
      if (!tr->quiet) PetscCall(PetscPrintf(tr->comm, "%sGauss-Newton: no step lowers the loss (damping %g exceeds %g): stopping at loss %.6e\n", tr->tty ? "\n" : "", (double)mu, (double)tr->mu_max, (double)f));
      break;
    }
    tr->it++;
    PetscCall(VecSetValue(state, 0, mu, INSERT_VALUES));
    PetscCall(VecAssemblyBegin(state));
    PetscCall(VecAssemblyEnd(state));
    PetscCall(AzTrainerCheckpoint(tr, start + k + 1, state));
  }
  PetscCall(PetscFree4(JtJ, A, Jtr, delta));
  PetscCall(VecDestroy(&old));
  PetscCall(VecDestroy(&state));
  PetscFunctionReturn(PETSC_SUCCESS);
}

typedef struct {
  AzLoss    loss;
  PetscReal mu;
  AzNystrom ny; /* the preconditioner (s = 0: none) */
} ShellCtx;

static PetscErrorCode ShellPC(PC pc, Vec x, Vec y)
{
  ShellCtx *c;

  PetscFunctionBegin;
  PetscCall(PCShellGetContext(pc, &c));
  PetscCall(AzNystromApply(&c->ny, c->mu, x, y));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode ShellMult(Mat A, Vec v, Vec y)
{
  ShellCtx *c;

  PetscFunctionBegin;
  PetscCall(MatShellGetContext(A, &c));
  PetscCall(AzLossGNMult(c->loss, v, y));
  PetscCall(VecAXPY(y, c->mu, v));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* μ starts at mu0 times the mean diagonal of JᵀJ, estimated as ‖J e‖²/P over a few random ±1 vectors e */
static PetscErrorCode InitialDamping(AzTrainer tr, Vec work, Vec y, PetscReal *mu)
{
  PetscReal sum = 0;
  PetscRandom r;

  PetscFunctionBegin;
  if (tr->mu_init > 0) {
    *mu = tr->mu_init;
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  PetscCall(PetscRandomCreate(PETSC_COMM_SELF, &r));
  PetscCall(PetscRandomSetSeed(r, 7));
  PetscCall(PetscRandomSeed(r));
  for (PetscInt k = 0; k < 4; k++) {
    PetscScalar *a, d;
    PetscCall(VecSetRandom(work, r));
    PetscCall(VecGetArray(work, &a));
    for (PetscInt i = 0; i < tr->nparam; i++) a[i] = PetscRealPart(a[i]) < 0.5 ? -1 : 1;
    PetscCall(VecRestoreArray(work, &a));
    PetscCall(AzLossGNMult(tr->loss, work, y));
    PetscCall(VecDot(work, y, &d));
    sum += PetscRealPart(d) / tr->nparam / 4;
  }
  PetscCall(PetscRandomDestroy(&r));
  *mu = tr->mu0 * PetscMax(sum, PETSC_SMALL);
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode TrainGNMatrixFree(AzTrainer tr, PetscInt max_it)
{
  Vec       g, delta, old, state, work;
  Mat       A;
  KSP       ksp;
  ShellCtx  c = {tr->loss, -1, {0}};
  PetscReal f, term[AZ_MAX_TERMS], nu = 2;
  PetscInt  start = 0;

  PetscFunctionBegin;
  PetscCall(VecDuplicate(tr->theta, &g));
  PetscCall(VecDuplicate(tr->theta, &delta));
  PetscCall(VecDuplicate(tr->theta, &old));
  PetscCall(VecDuplicate(tr->theta, &work));
  PetscCall(VecCreateSeq(PETSC_COMM_SELF, 1, &state));
  PetscCall(MatCreateShell(PETSC_COMM_SELF, tr->nparam, tr->nparam, tr->nparam, tr->nparam, &c, &A));
  PetscCall(MatShellSetOperation(A, MATOP_MULT, (void (*)(void))ShellMult));
  PetscCall(KSPCreate(PETSC_COMM_SELF, &ksp));
  PetscCall(KSPSetOperators(ksp, A, A));
  PetscCall(KSPSetType(ksp, KSPCG));
  {
    PC pc;
    PetscCall(KSPGetPC(ksp, &pc));
    if (tr->gn_pc == AZ_GN_PC_NYSTROM) {
      PetscCall(PCSetType(pc, PCSHELL));
      PetscCall(PCShellSetContext(pc, &c));
      PetscCall(PCShellSetApply(pc, ShellPC));
      PetscCall(PCShellSetName(pc, "randomized Nystrom approximation of J^T J"));
    } else PetscCall(PCSetType(pc, PCNONE));
  }
  PetscCall(KSPSetTolerances(ksp, 1e-10, PETSC_DEFAULT, PETSC_DEFAULT, 200));
  PetscCall(SetKSPPrefix(tr, ksp));
  PetscCall(KSPSetFromOptions(ksp));
  if (tr->restart_state && tr->restart_stage == tr->cur_stage) {
    const PetscScalar *s;
    PetscCall(VecGetArrayRead(tr->restart_state, &s));
    c.mu = PetscRealPart(s[0]);
    PetscCall(VecRestoreArrayRead(tr->restart_state, &s));
    PetscCheck(c.mu > 0, tr->comm, PETSC_ERR_FILE_UNEXPECTED, "Restart file %s: Gauss-Newton damping %g must be positive", tr->restart, (double)c.mu);
    start = tr->restart_it;
  }
  for (PetscInt k = 0;; k++) {
    PetscBool accepted = PETSC_FALSE;
    PetscInt  ntrial = 0, nonfinite = 0;

    if (k == max_it) {
      PetscCall(FinalState(tr));
      break;
    }
    PetscCall(AzLossUpdateConstraints(tr->loss, tr->it, tr->total_it));
    PetscCall(AzLossEvaluate(tr->loss, &f, term, NULL));
    if (PetscIsInfOrNanReal(f)) {
      PetscCall(FailNonFinite(tr, term, "the loss"));
      break;
    }
    PetscCall(AzTrainerRecord(tr, f, term, (PetscBool)(k == 0)));
    PetscCall(AzLossLinearize(tr->loss, &f));
    PetscCall(AzLossGNGradient(tr->loss, g));
    if (c.mu < 0) PetscCall(InitialDamping(tr, work, delta, &c.mu));
    if (tr->gn_pc == AZ_GN_PC_NYSTROM && k % tr->nystrom_every == 0) {
      PetscCall(AzNystromBuild(tr, tr->nystrom_rank, start + k, &c.ny));
      tr->sketch_products += PetscMin(tr->nystrom_rank, tr->nparam);
    }
    if (!AzTrainerVecIsFinite(g) || PetscIsInfOrNanReal(c.mu)) {
      PetscCall(FailNonFinite(tr, term, PetscIsInfOrNanReal(c.mu) ? "the products JᵀJv" : "the gradient Jᵀρ"));
      break;
    }
    PetscCall(VecCopy(tr->theta, old));
    while (!accepted) {
      PetscReal   ftrial, pred, gain, dd, ttrial[AZ_MAX_TERMS];
      PetscScalar dg;
      PetscCall(VecScale(g, -1));
      PetscCall(VecZeroEntries(delta));
      PetscCall(KSPSolve(ksp, g, delta));
      {
        PetscInt its;
        PetscCall(KSPGetIterationNumber(ksp, &its));
        tr->lin_solves++;
        tr->lin_its += its;
      }
      PetscCall(VecScale(g, -1));
      if (!AzTrainerVecIsFinite(delta)) { /* CG met NaN/Inf in JᵀJv */
        PetscCall(FailNonFinite(tr, term, "the products JᵀJv in CG"));
        break;
      }
      PetscCall(VecAXPY(tr->theta, 1, delta));
      PetscCall(AzLossEvaluate(tr->loss, &ftrial, ttrial, NULL));
      ntrial++;
      if (PetscIsInfOrNanReal(ftrial)) {
        nonfinite++;
        PetscCall(TrialFailure(tr, ttrial));
      }
      PetscCall(VecDot(delta, g, &dg));
      PetscCall(VecNorm(delta, NORM_2, &dd));
      pred = c.mu * dd * dd - PetscRealPart(dg);
      gain = (f - ftrial) / PetscMax(pred, PETSC_MIN_REAL);
      if (!PetscIsInfOrNanReal(ftrial) && ftrial < f && gain > 0) {
        const PetscReal q = 2 * gain - 1;
        accepted          = PETSC_TRUE;
        c.mu              = PetscMax(c.mu * PetscMax(1.0 / 3, 1 - q * q * q), tr->mu_min);
        nu                = 2;
      } else {
        PetscCall(VecCopy(old, tr->theta));
        c.mu *= nu;
        nu *= 2;
        if (!(c.mu <= tr->mu_max)) break; /* also when μ is NaN */
      }
    }
    if (AzTrainerFailed(tr)) break;
    if (!accepted) {
      if (ntrial && nonfinite == ntrial) {
        PetscCall(AzTrainerFail(tr, "Gauss-Newton (CG): every trial step (%" PetscInt_FMT ") gave a non-finite loss (%s at the last one); the last good parameters are kept", ntrial, tr->trial_msg));
        break;
      }
      if (!tr->quiet) PetscCall(PetscPrintf(tr->comm, "%sGauss-Newton (CG): no step lowers the loss (damping %g exceeds %g): stopping at loss %.6e\n", tr->tty ? "\n" : "", (double)c.mu, (double)tr->mu_max, (double)f));
      break;
    }
    tr->it++;
    PetscCall(VecSetValue(state, 0, c.mu, INSERT_VALUES));
    PetscCall(VecAssemblyBegin(state));
    PetscCall(VecAssemblyEnd(state));
    PetscCall(AzTrainerCheckpoint(tr, start + k + 1, state));
  }
  PetscCall(AzNystromDestroy(&c.ny));
  PetscCall(KSPDestroy(&ksp));
  PetscCall(MatDestroy(&A));
  PetscCall(VecDestroy(&g));
  PetscCall(VecDestroy(&delta));
  PetscCall(VecDestroy(&old));
  PetscCall(VecDestroy(&work));
  PetscCall(VecDestroy(&state));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* -az_gn_solver auto: dense up to this many parameters, Nyström-preconditioned CG above
 * (bench/train/gn_scaling.sh: dense 2.7 s against 3.3 s per iteration at 3,441 parameters, 24.8 s
 * against 10.2 s at 7,851; CG without preconditioner is slower than both up to 8,000) */
#define AZ_GN_DENSE_MAX 4000

PetscErrorCode AzTrainGN(AzTrainer tr, PetscInt max_it)
{
  PetscFunctionBegin;
  if (max_it <= 0) PetscFunctionReturn(PETSC_SUCCESS);
  if (tr->gn_solver == AZ_GN_DENSE || (tr->gn_solver == AZ_GN_AUTO && tr->nparam <= AZ_GN_DENSE_MAX)) PetscCall(TrainGNDense(tr, max_it));
  else PetscCall(TrainGNMatrixFree(tr, max_it));
  PetscFunctionReturn(PETSC_SUCCESS);
}
