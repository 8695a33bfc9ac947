/* Time-dependent problems with SUNDIALS IDA: F(t, y, y') = 0 is exactly the plugin's residuals on
 * the grid. Newton's systems (dF/dy + cj dF/dy') are solved by SPGMR, matrix-free, preconditioned by
 * a PETSc KSP (LU by default) on the Jacobian assembled in the preconditioner setup. */
#include "refimpl.h"
#include <ida/ida.h>
#include <nvector/nvector_petsc.h>
#include <sunlinsol/sunlinsol_spgmr.h>

static int Residual(realtype t, N_Vector yy, N_Vector yp, N_Vector rr, void *ctx)
{
  AzReference    ref = (AzReference)ctx;
  PetscBool      bad = PETSC_FALSE;
  PetscErrorCode ierr;

  ierr = AzRefFormFunction(ref, AZ_REF_FORM_DAE, t, N_VGetVector_Petsc(yy), N_VGetVector_Petsc(yp), N_VGetVector_Petsc(rr), &bad);
  return AzRefCallbackResult(ref, ierr, bad);
}

static PetscErrorCode PrecSetup(AzReference ref, PetscReal t, Vec Y, Vec Yp, PetscReal cj, PetscBool *failed)
{
  KSPConvergedReason reason;

  PetscFunctionBegin;
  PetscCall(AzRefAssembleJacobian(ref, AZ_REF_FORM_DAE, t, Y, Yp, cj, ref->J));
  PetscCall(KSPSetOperators(ref->ksp, ref->J, ref->J));
  PetscCall(KSPSetUp(ref->ksp));
  PetscCall(KSPGetConvergedReason(ref->ksp, &reason));
  *failed = reason < 0 ? PETSC_TRUE : PETSC_FALSE;
  PetscFunctionReturn(PETSC_SUCCESS);
}

static int PSetup(realtype t, N_Vector yy, N_Vector yp, N_Vector rr, realtype cj, void *ctx)
{
  AzReference    ref    = (AzReference)ctx;
  PetscBool      failed = PETSC_FALSE;
  PetscErrorCode ierr;

  (void)rr;
  ierr = PrecSetup(ref, t, N_VGetVector_Petsc(yy), N_VGetVector_Petsc(yp), cj, &failed);
  return AzRefCallbackResult(ref, ierr, failed);
}

static PetscErrorCode PrecSolve(AzReference ref, Vec r, Vec z, PetscBool *failed)
{
  KSPConvergedReason reason;

  PetscFunctionBegin;
  PetscCall(KSPSolve(ref->ksp, r, z));
  PetscCall(KSPGetConvergedReason(ref->ksp, &reason));
  *failed = reason < 0 ? PETSC_TRUE : PETSC_FALSE;
  PetscFunctionReturn(PETSC_SUCCESS);
}

static int PSolve(realtype t, N_Vector yy, N_Vector yp, N_Vector rr, N_Vector rvec, N_Vector zvec, realtype cj, realtype delta, void *ctx)
{
  AzReference    ref    = (AzReference)ctx;
  PetscBool      failed = PETSC_FALSE;
  PetscErrorCode ierr;

  (void)t, (void)yy, (void)yp, (void)rr, (void)cj, (void)delta;
  ierr = PrecSolve(ref, N_VGetVector_Petsc(rvec), N_VGetVector_Petsc(zvec), &failed);
  return AzRefCallbackResult(ref, ierr, failed);
}

/* Everything between IDACreate and IDAFree, so that the caller frees IDA's memory on any error. */
static PetscErrorCode Integrate(AzReference ref, void *mem, N_Vector yy, N_Vector yp, N_Vector id, SUNLinearSolver LS)
{
  Vec      Y = N_VGetVector_Petsc(yy);
  realtype tret;

  PetscFunctionBegin;
  AzSunCall(ref, IDASetErrHandlerFn(mem, AzRefSunErrHandler, ref));
  AzSunCall(ref, IDAInit(mem, Residual, ref->info->t0, yy, yp));
  AzSunCall(ref, IDASStolerances(mem, ref->rtol, ref->atol));
  AzSunCall(ref, IDASetUserData(mem, ref));
  AzSunCall(ref, IDASetMaxNumSteps(mem, ref->max_steps));
  AzSunCall(ref, IDASetStopTime(mem, ref->info->t1));
  AzSunCall(ref, IDASetId(mem, id));
  AzSunCall(ref, IDASetSuppressAlg(mem, SUNTRUE)); /* boundary unknowns are algebraic: no error test on them */
  AzSunCall(ref, IDASetLinearSolver(mem, LS, NULL));
  AzSunCall(ref, IDASetPreconditioner(mem, PSetup, PSolve));

  /* consistent initial conditions: the algebraic unknowns, and y' of the differential ones */
  AzSunCall(ref, IDACalcIC(mem, IDA_YA_YDP_INIT, ref->tout[1]));
  AzSunCall(ref, IDAGetConsistentIC(mem, yy, yp));
  PetscCall(VecCopy(Y, ref->snap[0]));
  for (PetscInt k = 1; k < ref->nt; k++) {
    AzSunCall(ref, IDASolve(mem, ref->tout[k], &tret, yy, yp, IDA_NORMAL));
    PetscCall(VecCopy(Y, ref->snap[k]));
  }
  {
    long nst, nni, nli, netf;
    AzSunCall(ref, IDAGetNumSteps(mem, &nst));
    AzSunCall(ref, IDAGetNumNonlinSolvIters(mem, &nni));
    AzSunCall(ref, IDAGetNumLinIters(mem, &nli));
    AzSunCall(ref, IDAGetNumErrTestFails(mem, &netf));
    ref->stats.steps            = nst;
    ref->stats.nonlinear_iters  = nni;
    ref->stats.linear_iters     = nli;
    ref->stats.error_test_fails = netf;
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzRefSolveIDA(AzReference ref)
{
  const PetscReal t0 = ref->info->t0;
  Vec             Y, Yp, Id;
  N_Vector        yy, yp, id;
  SUNLinearSolver LS;
  PetscErrorCode  ierr;

  PetscFunctionBegin;
  PetscCall(AzRefSunContextCreate(ref));
  PetscCall(DMCreateGlobalVector(ref->da, &Y));
  PetscCall(VecDuplicate(Y, &Yp));
  PetscCall(VecDuplicate(Y, &Id));
  PetscCall(AzRefInitialState(ref, t0, Y));
  PetscCall(VecZeroEntries(Yp));
  PetscCall(AzRefDifferentialId(ref, t0, Y, Id));
  yy = N_VMake_Petsc(Y, ref->sunctx);
  yp = N_VMake_Petsc(Yp, ref->sunctx);
  id = N_VMake_Petsc(Id, ref->sunctx);
  LS = SUNLinSol_SPGMR(yy, SUN_PREC_LEFT, (int)ref->maxl, ref->sunctx);
  ref->sunmem    = IDACreate(ref->sunctx);
  ref->sunkind   = 0;
  ref->cb_err    = 0;
  ref->sunmsg[0] = 0;
  PetscCheck(yy && yp && id && LS && ref->sunmem, ref->comm, PETSC_ERR_MEM, "Cannot create IDA's vectors, linear solver or memory");
  ierr = Integrate(ref, ref->sunmem, yy, yp, id, LS);
  IDAFree(&ref->sunmem);
  SUNLinSolFree(LS);
  N_VDestroy(yy);
  N_VDestroy(yp);
  N_VDestroy(id);
  PetscCall(VecDestroy(&Y));
  PetscCall(VecDestroy(&Yp));
  PetscCall(VecDestroy(&Id));
  PetscCall(ierr);
  PetscFunctionReturn(PETSC_SUCCESS);
}
