/* Steady problems, F(y) = 0 on the grid: PETSc SNES (default; -az_ref_snes_*, -az_ref_ksp_*,
 * -az_ref_pc_* apply) or SUNDIALS KINSOL (Newton with line search, SPGMR preconditioned by the same
 * PETSc KSP). Both stop when ||F|| <= max(atol, rtol ||F(y0)||). */
#include "refimpl.h"
#include <kinsol/kinsol.h>
#include <nvector/nvector_petsc.h>
#include <petscsnes.h>
#include <sunlinsol/sunlinsol_spgmr.h>

/* ---- SNES ------------------------------------------------------------------------------------- */
static PetscErrorCode SnesFunction(SNES snes, Vec Y, Vec F, void *ctx)
{
  AzReference ref = (AzReference)ctx;
  PetscBool   bad;

  PetscFunctionBegin;
  PetscCall(AzRefFormFunction(ref, AZ_REF_FORM_STEADY, 0, Y, NULL, F, &bad));
  if (bad) PetscCall(SNESSetFunctionDomainError(snes));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SnesJacobian(SNES snes, Vec Y, Mat A, Mat P, void *ctx)
{
  AzReference ref = (AzReference)ctx;

  PetscFunctionBegin;
  (void)snes, (void)A;
  PetscCall(AzRefAssembleJacobian(ref, AZ_REF_FORM_STEADY, 0, Y, NULL, 0, P));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzRefSolveSNES(AzReference ref)
{
  SNES                snes;
  KSP                 ksp;
  Vec                 Y, F;
  SNESConvergedReason reason;
  PetscInt            its, lits;
  PetscReal           fnorm;

  PetscFunctionBegin;
  PetscCall(DMCreateGlobalVector(ref->da, &Y));
  PetscCall(VecDuplicate(Y, &F));
  PetscCall(AzRefInitialState(ref, 0, Y));
  PetscCall(SNESCreate(ref->comm, &snes));
  PetscCall(SNESSetOptionsPrefix(snes, "az_ref_"));
  PetscCall(SNESSetFunction(snes, F, SnesFunction, ref));
  PetscCall(SNESSetJacobian(snes, ref->J, ref->J, SnesJacobian, ref));
  PetscCall(SNESSetTolerances(snes, ref->atol, ref->rtol, 0.0, PetscMax(ref->max_steps, 1), PETSC_DEFAULT));
  PetscCall(SNESGetKSP(snes, &ksp));
  PetscCall(AzRefSetUpLinearSolver(ref, ksp, PETSC_FALSE));
  PetscCall(SNESSetFromOptions(snes));
  PetscCall(SNESSolve(snes, NULL, Y));
  PetscCall(SNESGetConvergedReason(snes, &reason));
  PetscCall(SNESGetIterationNumber(snes, &its));
  PetscCall(SNESGetLinearSolveIterations(snes, &lits));
  PetscCall(SNESGetFunctionNorm(snes, &fnorm));
  PetscCheck(reason > 0, ref->comm, PETSC_ERR_NOT_CONVERGED, "SNES failed on the reference of problem %s: %s after %" PetscInt_FMT " Newton iterations, residual norm %g (asked: below %g, or %g relative). Try -az_ref_snes_monitor -az_ref_snes_linesearch_type bt, a finer grid, or -az_ref_solver kinsol", ref->info->name, SNESConvergedReasons[reason], its, (double)fnorm, (double)ref->atol, (double)ref->rtol);
  ref->stats.steps           = its;
  ref->stats.nonlinear_iters = its;
  ref->stats.linear_iters    = lits;
  PetscCall(VecCopy(Y, ref->snap[0]));
  PetscCall(SNESDestroy(&snes));
  PetscCall(VecDestroy(&Y));
  PetscCall(VecDestroy(&F));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* ---- KINSOL ----------------------------------------------------------------------------------- */
static int KinFunction(N_Vector u, N_Vector f, void *ctx)
{
  AzReference    ref = (AzReference)ctx;
  PetscBool      bad = PETSC_FALSE;
  PetscErrorCode ierr;

  ierr = AzRefFormFunction(ref, AZ_REF_FORM_STEADY, 0, N_VGetVector_Petsc(u), NULL, N_VGetVector_Petsc(f), &bad);
  return AzRefCallbackResult(ref, ierr, bad);
}

static PetscErrorCode KinSetupPetsc(AzReference ref, Vec U, PetscBool *failed)
{
  KSPConvergedReason reason;

  PetscFunctionBegin;
  PetscCall(AzRefAssembleJacobian(ref, AZ_REF_FORM_STEADY, 0, U, NULL, 0, ref->J));
  PetscCall(KSPSetOperators(ref->ksp, ref->J, ref->J));
  PetscCall(KSPSetUp(ref->ksp));
  PetscCall(KSPGetConvergedReason(ref->ksp, &reason));
  *failed = reason < 0 ? PETSC_TRUE : PETSC_FALSE;
  PetscFunctionReturn(PETSC_SUCCESS);
}

static int KinPSetup(N_Vector u, N_Vector uscale, N_Vector f, N_Vector fscale, void *ctx)
{
  AzReference    ref    = (AzReference)ctx;
  PetscBool      failed = PETSC_FALSE;
  PetscErrorCode ierr;

  (void)uscale, (void)f, (void)fscale;
  ierr = KinSetupPetsc(ref, N_VGetVector_Petsc(u), &failed);
  return AzRefCallbackResult(ref, ierr, failed);
}

/* KINSOL solves in place: v <- P^{-1} v */
static PetscErrorCode KinSolvePetsc(AzReference ref, Vec v, PetscBool *failed)
{
  KSPConvergedReason reason;

  PetscFunctionBegin;
  PetscCall(KSPSolve(ref->ksp, v, ref->work));
  PetscCall(VecCopy(ref->work, v));
  PetscCall(KSPGetConvergedReason(ref->ksp, &reason));
  *failed = reason < 0 ? PETSC_TRUE : PETSC_FALSE;
  PetscFunctionReturn(PETSC_SUCCESS);
}

static int KinPSolve(N_Vector u, N_Vector uscale, N_Vector f, N_Vector fscale, N_Vector v, void *ctx)
{
  AzReference    ref    = (AzReference)ctx;
  PetscBool      failed = PETSC_FALSE;
  PetscErrorCode ierr;

  (void)u, (void)uscale, (void)f, (void)fscale;
  ierr = KinSolvePetsc(ref, N_VGetVector_Petsc(v), &failed);
  return AzRefCallbackResult(ref, ierr, failed);
}

static PetscErrorCode SolveKINSOL(AzReference ref, void *mem, N_Vector u, N_Vector scale, SUNLinearSolver LS)
{
  Vec       U = N_VGetVector_Petsc(u);
  PetscReal f0;
  long      nni, nli, nfe;

  PetscFunctionBegin;
  PetscCall(AzRefFormFunction(ref, AZ_REF_FORM_STEADY, 0, U, NULL, ref->work, NULL));
  PetscCall(VecNorm(ref->work, NORM_INFINITY, &f0));
  AzSunCall(ref, KINSetErrHandlerFn(mem, AzRefSunErrHandler, ref));
  AzSunCall(ref, KINInit(mem, KinFunction, u));
  AzSunCall(ref, KINSetUserData(mem, ref));
  AzSunCall(ref, KINSetFuncNormTol(mem, PetscMax(ref->atol, ref->rtol * f0)));
  AzSunCall(ref, KINSetScaledStepTol(mem, 1e-3 * ref->rtol));
  AzSunCall(ref, KINSetMaxSetupCalls(mem, 1)); /* a fresh Jacobian every Newton step */
  AzSunCall(ref, KINSetMaxNewtonStep(mem, 1e10)); /* the default scales with ||u0||, which may be 0 */
  AzSunCall(ref, KINSetNumMaxIters(mem, PetscMax(ref->max_steps, 1)));
  AzSunCall(ref, KINSetLinearSolver(mem, LS, NULL));
  AzSunCall(ref, KINSetPreconditioner(mem, KinPSetup, KinPSolve));
  PetscCall(VecSet(N_VGetVector_Petsc(scale), 1.0));
  AzSunCall(ref, KINSol(mem, u, KIN_LINESEARCH, scale, scale));
  AzSunCall(ref, KINGetNumNonlinSolvIters(mem, &nni));
  AzSunCall(ref, KINGetNumLinIters(mem, &nli));
  AzSunCall(ref, KINGetNumFuncEvals(mem, &nfe));
  ref->stats.steps           = nni;
  ref->stats.nonlinear_iters = nni;
  ref->stats.linear_iters    = nli;
  PetscCall(VecCopy(U, ref->snap[0]));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzRefSolveKINSOL(AzReference ref)
{
  Vec             U, S;
  N_Vector        u, scale;
  SUNLinearSolver LS;
  PetscErrorCode  ierr;

  PetscFunctionBegin;
  PetscCall(AzRefSunContextCreate(ref));
  PetscCall(DMCreateGlobalVector(ref->da, &U));
  PetscCall(VecDuplicate(U, &S));
  PetscCall(AzRefInitialState(ref, 0, U));
  u              = N_VMake_Petsc(U, ref->sunctx);
  scale          = N_VMake_Petsc(S, ref->sunctx);
  LS             = SUNLinSol_SPGMR(u, SUN_PREC_RIGHT, (int)ref->maxl, ref->sunctx); /* KINSOL preconditions on the right */
  ref->sunmem    = KINCreate(ref->sunctx);
  ref->sunkind   = 3;
  ref->cb_err    = 0;
  ref->sunmsg[0] = 0;
  PetscCheck(u && scale && LS && ref->sunmem, ref->comm, PETSC_ERR_MEM, "Cannot create KINSOL's vectors, linear solver or memory");
  if (!ref->ksp) {
    PetscCall(KSPCreate(ref->comm, &ref->ksp));
    PetscCall(AzRefSetUpLinearSolver(ref, ref->ksp, PETSC_TRUE));
  }
  ierr = SolveKINSOL(ref, ref->sunmem, u, scale, LS);
  KINFree(&ref->sunmem);
  SUNLinSolFree(LS);
  N_VDestroy(u);
  N_VDestroy(scale);
  PetscCall(VecDestroy(&U));
  PetscCall(VecDestroy(&S));
  PetscCall(ierr);
  PetscFunctionReturn(PETSC_SUCCESS);
}
