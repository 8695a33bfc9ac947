/* The bridge to SUNDIALS: a failure flag becomes a PETSc error that names the flag, the time
 * reached and what to do about it; a PETSc error inside a callback is kept and reported. */
#include "refimpl.h"
#include <arkode/arkode_arkstep.h>
#include <cvode/cvode.h>
#include <ida/ida.h>
#include <kinsol/kinsol.h>

PetscErrorCode AzRefSunContextCreate(AzReference ref)
{
  PetscFunctionBegin;
  if (!ref->sunctx) {
    /* SUNDIALS 6 takes a pointer to the communicator */
    PetscCheck(SUNContext_Create((void *)&ref->comm, &ref->sunctx) == 0, ref->comm, PETSC_ERR_LIB, "SUNContext_Create failed");
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* SUNDIALS reports what went wrong in words before returning the flag: keep the last message. */
void AzRefSunErrHandler(int code, const char *module, const char *function, char *msg, void *ctx)
{
  AzReference ref = (AzReference)ctx;

  if (code < 0) snprintf(ref->sunmsg, sizeof ref->sunmsg, "%s/%s: %s", module ? module : "", function ? function : "", msg ? msg : "");
  else PetscInfo(NULL, "SUNDIALS %s/%s warning: %s\n", module ? module : "", function ? function : "", msg ? msg : "");
}

/* What a residual, right-hand side or preconditioner callback returns to SUNDIALS. */
int AzRefCallbackResult(AzReference ref, PetscErrorCode ierr, PetscBool bad)
{
  if (ierr) {
    if (!ref->cb_err) ref->cb_err = ierr;
    return -1; /* unrecoverable */
  }
  return bad ? 1 : 0; /* NaN or Inf: recoverable, the integrator cuts its step */
}

static const char *Hint(AzReference ref, const char *flagname)
{
  if (ref->nan_count && (strstr(flagname, "TOO_MUCH_WORK") || strstr(flagname, "CONV_FAIL") || strstr(flagname, "ERR_FAIL") || strstr(flagname, "REP")))
    return "the residual turns NaN or Inf there, so the integrator keeps cutting its step: the solution blows up, or the plugin divides by zero or leaves its domain";
  if (strstr(flagname, "TOO_MUCH_WORK")) return "the integrator took -az_ref_max_steps steps without reaching the output time: raise -az_ref_max_steps, or the problem is too stiff or its solution blows up";
  if (strstr(flagname, "TOO_MUCH_ACC")) return "the tolerances are too tight for double precision: loosen -az_ref_rtol / -az_ref_atol";
  if (strstr(flagname, "REP_RES_ERR") || strstr(flagname, "REPTD") || strstr(flagname, "FIRST_RES_FAIL") || strstr(flagname, "FIRST_RHSFUNC_ERR"))
    return "the residual was NaN or Inf at every step size tried: the solution blows up or the plugin divides by zero";
  if (strstr(flagname, "RES_FAIL") || strstr(flagname, "RHSFUNC_FAIL") || strstr(flagname, "SYSFUNC_FAIL"))
    return ref->cb_err ? "evaluating the residual raised the PETSc error shown above" : "evaluating the residual failed";
  if (strstr(flagname, "LSETUP_FAIL") || strstr(flagname, "LSOLVE_FAIL") || strstr(flagname, "PSET_FAIL") || strstr(flagname, "PSOLVE_FAIL") || strstr(flagname, "LINSOLV"))
    return "the linear solve failed (a singular Jacobian, or the preconditioner failed): check the boundary conditions, or try -az_ref_jacobian color";
  if (strstr(flagname, "CONV_FAIL") || strstr(flagname, "ERR_FAIL") || strstr(flagname, "NO_RECOVERY") || strstr(flagname, "LINESEARCH") || strstr(flagname, "MAXITER"))
    return "Newton or the error test failed repeatedly: the problem may be too stiff or singular on this grid, or its solution blows up; try a finer grid (-az_ref_n) or looser tolerances";
  if (strstr(flagname, "ILL_INPUT")) return "SUNDIALS rejected an input (see its message)";
  return "see SUNDIALS' message";
}

/* Whether the problem gives its PDE in conservation form (u_t + div F = S): the ABI-3 descriptor's .flux */
static PetscBool ConservationForm(AzReference ref)
{
#if AZ_PROBLEM_ABI >= 3
  return ref->info->flux ? PETSC_TRUE : PETSC_FALSE;
#else
  (void)ref;
  return PETSC_FALSE;
#endif
}

/* What to try for this problem after an integrator failure (flag: SUNDIALS' flag name): the cause's
 * own remedy first (more steps only when the step budget ran out), then the reference's other methods
 * that suit the problem, then a lower order and another grid. */
static void Advice(AzReference ref, const char *flagname, char out[], size_t len)
{
  size_t    off = 0;
  PetscBool periodic = ref->dim > 0 ? PETSC_TRUE : PETSC_FALSE;
  PetscInt  k = 0;

#define AZ_PUT(...) \
  do { \
    int w_ = snprintf(out + off, len > off ? len - off : 0, __VA_ARGS__); \
    if (w_ > 0) off += (size_t)w_; \
  } while (0)
  out[0] = 0;
  for (PetscInt a = 0; a < ref->dim; a++)
    if (ref->info->boundary[2 * a].type != AZ_BC_PERIODIC) periodic = PETSC_FALSE;
  AZ_PUT(" What to try for %s:", ref->info->name);
  if (strstr(flagname, "TOO_MUCH_WORK") && !ref->nan_count) AZ_PUT(" (%d) more steps, -az_ref_max_steps %ld (now %ld), if the solution is smooth and only the budget ran out;", (int)++k, 10 * (long)ref->max_steps, (long)ref->max_steps);
  if (periodic) AZ_PUT(" (%d) the Fourier pseudo-spectral reference, -az_ref_method spectral (the problem is periodic in every axis: no one-sided stencils, exact derivatives, and an integrator that suits dispersive and oscillatory problems, where BDF above order 2 is unstable);", (int)++k);
  if (ConservationForm(ref) && ref->method != AZ_REFERENCE_FV && ref->dim == 1) AZ_PUT(" (%d) the conservative finite-volume reference, -az_ref_method fv (the problem has a conservation form: mass is kept to round-off and steep or degenerate fronts stay monotone);", (int)++k);
  if (ref->order > 2) AZ_PUT(" (%d) second-order differences, -az_ref_order 2 (more robust at steep fronts, where order %d oscillates);", (int)++k, (int)ref->order);
  AZ_PUT(" (%d) another grid, -az_ref_n", (int)++k);
  for (PetscInt a = 0; a < ref->dim; a++) AZ_PUT("%s%d", a ? "," : " ", (int)(2 * ref->n[a]));
  AZ_PUT(" (finer, now");
  for (PetscInt a = 0; a < ref->dim; a++) AZ_PUT("%s%d", a ? "," : " ", (int)ref->n[a]);
  AZ_PUT(": resolves a steep front) or coarser (fewer, larger steps);");
  if (ref->td && ref->integrator == AZ_REF_IDA) AZ_PUT(" (%d) another integrator, -az_ref_integrator cvode or arkode, where the residual is explicit in u_t.", (int)++k);
  else if (off && out[off - 1] == ';') out[off - 1] = '.';
#undef AZ_PUT
}

PetscErrorCode AzRefSunFail(AzReference ref, const char call[], int flag)
{
  char advice[1536] = "";
  char      *name = NULL, fname[64], fn[64], cb[160] = "", where[256];
  realtype   t    = ref->info->t0;
  const char *lib[] = {"IDA", "CVODE", "ARKODE", "KINSOL"};
  size_t     k;

  PetscFunctionBegin;
  switch (ref->sunkind) {
  case 0:
    name = IDAGetReturnFlagName(flag);
    if (ref->sunmem) IDAGetCurrentTime(ref->sunmem, &t);
    break;
  case 1:
    name = CVodeGetReturnFlagName(flag);
    if (ref->sunmem) CVodeGetCurrentTime(ref->sunmem, &t);
    break;
  case 2:
    name = ARKStepGetReturnFlagName(flag);
    if (ref->sunmem) ARKStepGetCurrentTime(ref->sunmem, &t);
    break;
  default:
    name = KINGetReturnFlagName(flag);
    break;
  }
  snprintf(fname, sizeof fname, "%s", name ? name : "unknown flag");
  free(name); /* SUNDIALS allocates the name with malloc */
  /* "IDASolve(ref->sunmem, ...)" -> "IDASolve" */
  for (k = 0; call[k] && call[k] != '(' && k < sizeof fn - 1; k++) fn[k] = call[k];
  fn[k] = 0;
  if (ref->cb_err) snprintf(cb, sizeof cb, " (PETSc error %d in a callback)", (int)ref->cb_err);
  else if (ref->nan_count) snprintf(cb, sizeof cb, " after the residual was NaN or Inf %ld times (last at t = %.9g)", ref->nan_count, (double)ref->nan_t);
  if (ref->sunkind == 3)
    SETERRQ(ref->comm, PETSC_ERR_NOT_CONVERGED, "%s failed: %s returned %s (%d) for problem %s%s: %s. %s%s", lib[ref->sunkind], fn, fname, flag, ref->info->name, cb, Hint(ref, fname), ref->sunmsg[0] ? "SUNDIALS says: " : "", ref->sunmsg);
  /* numbers by the C library: PETSc's own %g prints 1 as "1." */
  snprintf(where, sizeof where, "at t = %.9g (integrating problem %s over [%g, %g])", (double)t, ref->info->name, (double)ref->info->t0, (double)ref->info->t1);
  /* the integrators' failures of the solution itself get advice for this problem (not bad input, nor a
   * PETSc error raised inside a callback) */
  if (!ref->cb_err && !strstr(fname, "ILL_INPUT") && !strstr(fname, "MEM_NULL") && !strstr(fname, "NO_MALLOC") && !strstr(fname, "TOO_MUCH_ACC")) Advice(ref, fname, advice, sizeof advice);
  SETERRQ(ref->comm, PETSC_ERR_NOT_CONVERGED, "%s failed: %s returned %s (%d) %s%s: %s. %s%s%s", lib[ref->sunkind], fn, fname, flag, where, cb, Hint(ref, fname), ref->sunmsg[0] ? "SUNDIALS says: " : "", ref->sunmsg, advice);
}
