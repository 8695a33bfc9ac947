/* Time-dependent problems explicit in time, y' = f(t, y), with SUNDIALS CVODE (BDF or Adams) or
 * ARKODE (ARKStep: implicit DIRK, or explicit ERK with -az_ref_arkode_explicit). The implicit
 * methods solve Newton's systems (I - gamma df/dy) with SPGMR preconditioned by a PETSc KSP on
 * M = cj I - df/dy, cj = 1/gamma, so that I - gamma df/dy = gamma M. */
#include "refimpl.h"
#include <arkode/arkode_arkstep.h>
#include <cvode/cvode.h>
#include <nvector/nvector_petsc.h>
#include <sunlinsol/sunlinsol_spgmr.h>

static int Rhs(realtype t, N_Vector y, N_Vector f, void *ctx)
{
  AzReference    ref = (AzReference)ctx;
  PetscBool      bad = PETSC_FALSE;
  PetscErrorCode ierr;

  ierr = AzRefFormFunction(ref, AZ_REF_FORM_RHS, t, N_VGetVector_Petsc(y), NULL, N_VGetVector_Petsc(f), &bad);
  return AzRefCallbackResult(ref, ierr, bad);
}

static PetscErrorCode PrecSetup(AzReference ref, PetscReal t, Vec Y, PetscReal gamma, PetscBool *failed)
{
  KSPConvergedReason reason;

  PetscFunctionBegin;
  PetscCall(AzRefAssembleJacobian(ref, AZ_REF_FORM_RHS, t, Y, NULL, 1.0 / gamma, ref->J));
  PetscCall(KSPSetOperators(ref->ksp, ref->J, ref->J));
  PetscCall(KSPSetUp(ref->ksp));
  PetscCall(KSPGetConvergedReason(ref->ksp, &reason));
  *failed = reason < 0 ? PETSC_TRUE : PETSC_FALSE;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* CVODE's and ARKODE's preconditioner setup have the same signature */
static int PSetup(realtype t, N_Vector y, N_Vector fy, booleantype jok, booleantype *jcur, realtype gamma, void *ctx)
{
  AzReference    ref    = (AzReference)ctx;
  PetscBool      failed = PETSC_FALSE;
  PetscErrorCode ierr;

  (void)fy, (void)jok;
  ierr  = PrecSetup(ref, t, N_VGetVector_Petsc(y), gamma, &failed);
  *jcur = SUNTRUE;
  return AzRefCallbackResult(ref, ierr, failed);
}

/* (I - gamma J) z = r  <=>  M z = r / gamma */
static PetscErrorCode PrecSolve(AzReference ref, Vec r, Vec z, PetscReal gamma, PetscBool *failed)
{
  KSPConvergedReason reason;

  PetscFunctionBegin;
  PetscCall(KSPSolve(ref->ksp, r, z));
  PetscCall(VecScale(z, 1.0 / gamma));
  PetscCall(KSPGetConvergedReason(ref->ksp, &reason));
  *failed = reason < 0 ? PETSC_TRUE : PETSC_FALSE;
  PetscFunctionReturn(PETSC_SUCCESS);
}

static int PSolve(realtype t, N_Vector y, N_Vector fy, N_Vector r, N_Vector z, realtype gamma, realtype delta, int lr, void *ctx)
{
  AzReference    ref    = (AzReference)ctx;
  PetscBool      failed = PETSC_FALSE;
  PetscErrorCode ierr;

  (void)t, (void)y, (void)fy, (void)delta, (void)lr;
  ierr = PrecSolve(ref, N_VGetVector_Petsc(r), N_VGetVector_Petsc(z), gamma, &failed);
  return AzRefCallbackResult(ref, ierr, failed);
}

static PetscErrorCode IntegrateCVODE(AzReference ref, void *mem, N_Vector y, SUNLinearSolver LS)
{
  Vec      Y = N_VGetVector_Petsc(y);
  realtype tret;
  long     nst, nni, nli, netf;

  PetscFunctionBegin;
  AzSunCall(ref, CVodeSetErrHandlerFn(mem, AzRefSunErrHandler, ref));
  AzSunCall(ref, CVodeInit(mem, Rhs, ref->info->t0, y));
  AzSunCall(ref, CVodeSStolerances(mem, ref->rtol, ref->atol));
  AzSunCall(ref, CVodeSetUserData(mem, ref));
  AzSunCall(ref, CVodeSetMaxNumSteps(mem, ref->max_steps));
  AzSunCall(ref, CVodeSetStopTime(mem, ref->info->t1));
  AzSunCall(ref, CVodeSetLinearSolver(mem, LS, NULL));
  AzSunCall(ref, CVodeSetPreconditioner(mem, PSetup, PSolve));
  PetscCall(VecCopy(Y, ref->snap[0]));
  for (PetscInt k = 1; k < ref->nt; k++) {
    AzSunCall(ref, CVode(mem, ref->tout[k], y, &tret, CV_NORMAL));
    PetscCall(VecCopy(Y, ref->snap[k]));
  }
  AzSunCall(ref, CVodeGetNumSteps(mem, &nst));
  AzSunCall(ref, CVodeGetNumNonlinSolvIters(mem, &nni));
  AzSunCall(ref, CVodeGetNumLinIters(mem, &nli));
  AzSunCall(ref, CVodeGetNumErrTestFails(mem, &netf));
  ref->stats.steps            = nst;
  ref->stats.nonlinear_iters  = nni;
  ref->stats.linear_iters     = nli;
  ref->stats.error_test_fails = netf;
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode IntegrateARKODE(AzReference ref, void *mem, N_Vector y, SUNLinearSolver LS)
{
  Vec      Y = N_VGetVector_Petsc(y);
  realtype tret;
  long     nst, nni = 0, nli = 0, netf;

  PetscFunctionBegin;
  AzSunCall(ref, ARKStepSetErrHandlerFn(mem, AzRefSunErrHandler, ref));
  AzSunCall(ref, ARKStepSStolerances(mem, ref->rtol, ref->atol));
  AzSunCall(ref, ARKStepSetUserData(mem, ref));
  AzSunCall(ref, ARKStepSetMaxNumSteps(mem, ref->max_steps));
  AzSunCall(ref, ARKStepSetStopTime(mem, ref->info->t1));
  if (LS) {
    AzSunCall(ref, ARKStepSetLinearSolver(mem, LS, NULL));
    AzSunCall(ref, ARKStepSetPreconditioner(mem, PSetup, PSolve));
  }
  PetscCall(VecCopy(Y, ref->snap[0]));
  for (PetscInt k = 1; k < ref->nt; k++) {
    AzSunCall(ref, ARKStepEvolve(mem, ref->tout[k], y, &tret, ARK_NORMAL));
    PetscCall(VecCopy(Y, ref->snap[k]));
  }
  AzSunCall(ref, ARKStepGetNumSteps(mem, &nst));
  AzSunCall(ref, ARKStepGetNumErrTestFails(mem, &netf));
  if (LS) {
    AzSunCall(ref, ARKStepGetNumNonlinSolvIters(mem, &nni));
    AzSunCall(ref, ARKStepGetNumLinIters(mem, &nli));
  }
  ref->stats.steps            = nst;
  ref->stats.nonlinear_iters  = nni;
  ref->stats.linear_iters     = nli;
  ref->stats.error_test_fails = netf;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Dirichlet nodes hold g(t) exactly in every snapshot (the state there integrates dg/dt). */
static PetscErrorCode FixDirichletSnapshots(AzReference ref)
{
  PetscFunctionBegin;
  for (PetscInt k = 0; k < ref->nt; k++) {
    PetscScalar *a;
    PetscInt     xs[3], xm[3], idx[3];
    PetscReal    x[AZ_MAX_COORD];
    const PetscReal *param;

    PetscCall(AzProblemGetParams(ref->prob, &param));
    PetscCall(DMDAGetCorners(ref->da, &xs[0], &xs[1], &xs[2], &xm[0], &xm[1], &xm[2]));
    PetscCall(VecGetArray(ref->snap[k], &a));
    for (idx[2] = xs[2]; idx[2] < xs[2] + xm[2]; idx[2]++)
      for (idx[1] = xs[1]; idx[1] < xs[1] + xm[1]; idx[1]++)
        for (idx[0] = xs[0]; idx[0] < xs[0] + xm[0]; idx[0]++) {
          const PetscInt cond = AzRefNodeCondition(ref, idx);
          const PetscInt l    = ((idx[2] - xs[2]) * xm[1] + (idx[1] - xs[1])) * xm[0] + (idx[0] - xs[0]);
          AzPoint        p;

          if (cond < 0) continue;
          for (PetscInt d = 0; d < ref->dim; d++) x[d] = ref->lo[d] + idx[d] * ref->h[d];
          x[ref->dim] = ref->tout[k];
          p           = (AzPoint){x, ref->ncoord, param, cond};
          PetscCall(ref->info->boundary[cond].value(&p, a + l * ref->ncomp));
        }
    PetscCall(VecRestoreArray(ref->snap[k], &a));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzRefSolveODE(AzReference ref)
{
  const PetscBool cvode    = ref->integrator == AZ_REF_CVODE ? PETSC_TRUE : PETSC_FALSE;
  const PetscBool implicit = (cvode || !ref->arkode_explicit) ? PETSC_TRUE : PETSC_FALSE;
  Vec             Y;
  N_Vector        y;
  SUNLinearSolver LS = NULL;
  PetscErrorCode  ierr;

  PetscFunctionBegin;
  PetscCall(AzRefCheckExplicit(ref));
  PetscCall(AzRefSunContextCreate(ref));
  PetscCall(DMCreateGlobalVector(ref->da, &Y));
  PetscCall(AzRefInitialState(ref, ref->info->t0, Y));
  y = N_VMake_Petsc(Y, ref->sunctx);
  if (implicit) LS = SUNLinSol_SPGMR(y, SUN_PREC_LEFT, (int)ref->maxl, ref->sunctx);
  ref->sunkind   = cvode ? 1 : 2;
  ref->cb_err    = 0;
  ref->sunmsg[0] = 0;
  if (cvode) ref->sunmem = CVodeCreate(ref->cvode_adams ? CV_ADAMS : CV_BDF, ref->sunctx);
  else ref->sunmem = implicit ? ARKStepCreate(NULL, Rhs, ref->info->t0, y, ref->sunctx) : ARKStepCreate(Rhs, NULL, ref->info->t0, y, ref->sunctx);
  PetscCheck(y && (LS || !implicit) && ref->sunmem, ref->comm, PETSC_ERR_MEM, "Cannot create the %s integrator", cvode ? "CVODE" : "ARKODE");
  ierr = cvode ? IntegrateCVODE(ref, ref->sunmem, y, LS) : IntegrateARKODE(ref, ref->sunmem, y, LS);
  if (cvode) CVodeFree(&ref->sunmem);
  else ARKStepFree(&ref->sunmem);
  if (LS) SUNLinSolFree(LS);
  N_VDestroy(y);
  PetscCall(VecDestroy(&Y));
  PetscCall(ierr);
  if (ref->method != AZ_REFERENCE_FV) PetscCall(FixDirichletSnapshots(ref)); /* fv has cells, no boundary nodes */
  PetscFunctionReturn(PETSC_SUCCESS);
}
