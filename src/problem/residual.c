/* Evaluating a problem's pointwise residuals, and their derivative with respect to the jet. */
#include "problemimpl.h"

static AzResidualFn ResidualOf(const AzProblemInfo *info, PetscInt cond)
{
  if (cond == AZ_COND_INTERIOR) return info->interior;
  if (cond == AZ_COND_INITIAL) return info->time_dependent ? info->initial : NULL;
  if (cond >= 0 && cond < 2 * info->dim) return info->boundary[cond].residual;
  return NULL;
}

/* a residual ansatz derives from the conservation form: the interior, and faces with a prescribed flux */
static PetscBool Derived(const AzProblemInfo *info, PetscInt cond)
{
  if (!info->flux) return PETSC_FALSE;
  if (cond == AZ_COND_INTERIOR) return PETSC_TRUE;
  return (cond >= 0 && cond < 2 * info->dim && info->boundary[cond].type == AZ_BC_FLUX) ? PETSC_TRUE : PETSC_FALSE;
}

PetscErrorCode AzProblemGetNumResiduals(AzProblem prob, PetscInt cond, PetscInt *nres)
{
  const AzProblemInfo *info = prob->info;

  PetscFunctionBegin;
  PetscCheck(cond == AZ_COND_INTERIOR || cond == AZ_COND_INITIAL || (cond >= 0 && cond < 2 * info->dim), prob->comm, PETSC_ERR_ARG_OUTOFRANGE, "Condition %" PetscInt_FMT " does not exist: use AZ_COND_INTERIOR, a face 0..%" PetscInt_FMT " or AZ_COND_INITIAL", cond, 2 * info->dim - 1);
  if (!ResidualOf(info, cond) && !Derived(info, cond)) *nres = 0;
  else if (cond == AZ_COND_INTERIOR) *nres = info->nres ? info->nres : info->ncomp;
  else if (cond == AZ_COND_INITIAL) *nres = info->ninitial ? info->ninitial : info->ncomp;
  else *nres = info->ncomp;
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode CallResidual(AzProblem prob, PetscInt cond, const PetscReal x[], const PetscScalar jet[], PetscScalar r[], PetscScalar drdjet[])
{
  const AzProblemInfo *info = prob->info;
  AzPoint              p    = {x, prob->ncoord, prob->param, (cond >= 0 && cond < 2 * AZ_MAX_DIM) ? cond : -1};
  AzJet                J    = {prob->ncoord, info->ncomp, AZ_JET_NSLOT(prob->ncoord), jet};

  PetscFunctionBegin;
  if (Derived(info, cond)) PetscCall(AzProblemFluxResidual(prob, cond, x, jet, r, drdjet));
  else PetscCall(ResidualOf(info, cond)(&p, &J, r, drdjet));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzProblemEvaluateResidual(AzProblem prob, PetscInt cond, const PetscReal x[], const PetscScalar jet[], PetscScalar r[], PetscScalar drdjet[])
{
  const AzProblemInfo *info  = prob->info;
  const PetscInt       L     = info->ncomp * AZ_JET_NSLOT(prob->ncoord);
  PetscInt             nres;

  PetscFunctionBegin;
  PetscCall(AzProblemGetNumResiduals(prob, cond, &nres));
  PetscCheck(nres > 0, prob->comm, PETSC_ERR_ARG_WRONG, "Problem %s has no residual for condition %" PetscInt_FMT, info->name, cond);
  if (drdjet) PetscCall(PetscArrayzero(drdjet, nres * L));
  if (!drdjet || info->exact_jacobian) {
    PetscCall(CallResidual(prob, cond, x, jet, r, drdjet));
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  /* No exact Jacobian: fourth-order central differences in each slot that the problem reads.
   * Residuals are polynomials of low degree in the jet in practice (degree ≤ 4 makes this exact
   * up to rounding, about 1e-12 relative with the step below). */
  {
    PetscScalar jp[AZ_MAX_COMP * AZ_JET_MAX_NSLOT], rp[4][AZ_MAX_RES];
    const PetscInt nslot = AZ_JET_NSLOT(prob->ncoord);
    AzJetRequest   req   = prob->request;

    PetscCall(CallResidual(prob, cond, x, jet, r, NULL));
    PetscCall(PetscArraycpy(jp, jet, L));
    for (PetscInt s = 0; s < L; s++) {
      const PetscScalar v0    = jet[s];
      const PetscReal   h     = 1e-3 * PetscMax(1.0, PetscAbsScalar(v0));
      const PetscReal   off[] = {-2, -1, 1, 2};

      if (!(req.mask & ((PetscInt)1 << (s % nslot)))) continue;
      for (PetscInt q = 0; q < 4; q++) {
        jp[s] = v0 + off[q] * h;
        PetscCall(CallResidual(prob, cond, x, jp, rp[q], NULL));
      }
      jp[s] = v0;
      for (PetscInt k = 0; k < nres; k++) drdjet[k * L + s] = (rp[0][k] - 8 * rp[1][k] + 8 * rp[2][k] - rp[3][k]) / (12 * h);
    }
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* splitmix64: a tiny deterministic generator, so the check is reproducible */
static PetscReal Uniform(unsigned long long *s)
{
  unsigned long long z = (*s += 0x9E3779B97F4A7C15ULL);
  z                    = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z                    = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  z ^= z >> 31;
  return (PetscReal)(z >> 11) / 9007199254740992.0;
}

PetscErrorCode AzProblemCheckJetJacobian(AzProblem prob, PetscInt cond, PetscInt ntrial, PetscReal *maxrelerr)
{
  const AzProblemInfo *info  = prob->info;
  const PetscInt       nslot = AZ_JET_NSLOT(prob->ncoord), L = info->ncomp * nslot;
  unsigned long long   seed  = 12345;
  PetscInt             nres;
  PetscScalar          jet[AZ_MAX_COMP * AZ_JET_MAX_NSLOT], r[AZ_MAX_RES], rp[4][AZ_MAX_RES];
  PetscScalar         *D;
  PetscReal            x[AZ_MAX_COORD], lo[AZ_MAX_COORD], hi[AZ_MAX_COORD];

  PetscFunctionBegin;
  *maxrelerr = 0;
  PetscCall(AzProblemGetNumResiduals(prob, cond, &nres));
  if (!nres) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(AzProblemGetBox(prob, lo, hi));
  PetscCall(PetscMalloc1(nres * L, &D));
  for (PetscInt t = 0; t < ntrial; t++) {
    PetscReal scale = 0;

    for (PetscInt i = 0; i < prob->ncoord; i++) x[i] = lo[i] + (hi[i] - lo[i]) * Uniform(&seed);
    if (cond >= 0 && cond < 2 * AZ_MAX_DIM) x[cond / 2] = (cond % 2) ? hi[cond / 2] : lo[cond / 2];
    if (cond == AZ_COND_INITIAL) x[prob->ncoord - 1] = lo[prob->ncoord - 1];
    for (PetscInt s = 0; s < L; s++) jet[s] = 2 * Uniform(&seed) - 1;
    PetscCall(AzProblemEvaluateResidual(prob, cond, x, jet, r, D));
    for (PetscInt s = 0; s < nres * L; s++) scale = PetscMax(scale, PetscAbsScalar(D[s]));
    for (PetscInt s = 0; s < L; s++) {
      const PetscScalar v0    = jet[s];
      const PetscReal   h     = 1e-3;
      const PetscReal   off[] = {-2, -1, 1, 2};

      for (PetscInt q = 0; q < 4; q++) {
        jet[s] = v0 + off[q] * h;
        PetscCall(CallResidual(prob, cond, x, jet, rp[q], NULL));
      }
      jet[s] = v0;
      for (PetscInt k = 0; k < nres; k++) {
        PetscScalar fd = (rp[0][k] - 8 * rp[1][k] + 8 * rp[2][k] - rp[3][k]) / (12 * h);
        if (!(prob->request.mask & ((PetscInt)1 << (s % nslot)))) continue; /* undeclared slots are never read */
        {
          const PetscReal d = PetscAbsScalar(fd - D[k * L + s]) / PetscMax(scale, 1e-300);
          /* a NaN must not vanish in the max (PetscMax drops it): once seen, the result is NaN */
          if (!PetscIsInfOrNanReal(*maxrelerr)) *maxrelerr = PetscIsInfOrNanReal(d) ? d : PetscMax(*maxrelerr, d);
        }
      }
    }
  }
  PetscCall(PetscFree(D));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* ∂r/∂param_k: the plugin's, or fourth-order central differences of the residual in the parameter.
 * The parameter is perturbed in place (the guards find the problem by its parameter array). */
PetscErrorCode AzProblemEvaluateParamDerivative(AzProblem prob, PetscInt cond, PetscInt k, const PetscReal x[], const PetscScalar jet[], PetscScalar drdp[])
{
  const AzProblemInfo *info = prob->info;
  PetscInt             nres;
  PetscBool            provided = PETSC_FALSE;

  PetscFunctionBegin;
  PetscCheck(k >= 0 && k < prob->nparam, prob->comm, PETSC_ERR_ARG_OUTOFRANGE, "Problem %s: parameter index %" PetscInt_FMT " outside 0..%" PetscInt_FMT, info->name, k, prob->nparam - 1);
  PetscCall(AzProblemGetNumResiduals(prob, cond, &nres));
  if (!nres) PetscFunctionReturn(PETSC_SUCCESS);
  if (info->param_derivative && !Derived(info, cond)) {
    AzPoint p = {x, prob->ncoord, prob->param, (cond >= 0 && cond < 2 * AZ_MAX_DIM) ? cond : -1};
    AzJet   J = {prob->ncoord, info->ncomp, AZ_JET_NSLOT(prob->ncoord), jet};
    provided  = PETSC_TRUE;
    for (PetscInt i = 0; i < nres; i++) drdp[i] = 0;
    PetscCall(info->param_derivative(cond, k, &p, &J, drdp, &provided));
  }
  if (!provided) {
    PetscScalar     rp[4][AZ_MAX_RES];
    const PetscReal v0 = prob->param[k], h = 1e-3 * PetscMax(1e-3, PetscAbsReal(v0)), off[] = {-2, -1, 1, 2};
    PetscErrorCode  ierr = PETSC_SUCCESS;

    for (PetscInt q = 0; q < 4 && !ierr; q++) {
      prob->param[k] = v0 + off[q] * h;
      ierr           = CallResidual(prob, cond, x, jet, rp[q], NULL);
    }
    prob->param[k] = v0;
    PetscCall(ierr);
    for (PetscInt i = 0; i < nres; i++) drdp[i] = (rp[0][i] - 8 * rp[1][i] + 8 * rp[2][i] - rp[3][i]) / (12 * h);
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzProblemCheckParamJacobian(AzProblem prob, PetscInt cond, PetscInt k, PetscInt ntrial, PetscReal *maxrelerr)
{
  const AzProblemInfo *info  = prob->info;
  const PetscInt       nslot = AZ_JET_NSLOT(prob->ncoord), L = info->ncomp * nslot;
  unsigned long long   seed  = 54321;
  PetscInt             nres;
  PetscScalar          jet[AZ_MAX_COMP * AZ_JET_MAX_NSLOT], d[AZ_MAX_RES], rp[4][AZ_MAX_RES];
  PetscReal            x[AZ_MAX_COORD], lo[AZ_MAX_COORD], hi[AZ_MAX_COORD];

  PetscFunctionBegin;
  *maxrelerr = 0;
  PetscCall(AzProblemGetNumResiduals(prob, cond, &nres));
  if (!nres || !info->param_derivative || Derived(info, cond)) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(AzProblemGetBox(prob, lo, hi));
  for (PetscInt t = 0; t < ntrial; t++) {
    AzPoint         p;
    AzJet           J        = {prob->ncoord, info->ncomp, nslot, jet};
    PetscBool       provided = PETSC_TRUE;
    PetscReal       scale    = 0;
    const PetscReal v0 = prob->param[k], h = 1e-3 * PetscMax(1e-3, PetscAbsReal(v0)), off[] = {-2, -1, 1, 2};
    PetscErrorCode  ierr = PETSC_SUCCESS;

    for (PetscInt i = 0; i < prob->ncoord; i++) x[i] = lo[i] + (hi[i] - lo[i]) * Uniform(&seed);
    if (cond >= 0 && cond < 2 * AZ_MAX_DIM) x[cond / 2] = (cond % 2) ? hi[cond / 2] : lo[cond / 2];
    if (cond == AZ_COND_INITIAL) x[prob->ncoord - 1] = lo[prob->ncoord - 1];
    for (PetscInt s = 0; s < L; s++) jet[s] = 2 * Uniform(&seed) - 1;
    p = (AzPoint){x, prob->ncoord, prob->param, (cond >= 0 && cond < 2 * AZ_MAX_DIM) ? cond : -1};
    for (PetscInt i = 0; i < nres; i++) d[i] = 0;
    PetscCall(info->param_derivative(cond, k, &p, &J, d, &provided));
    if (!provided) continue;
    for (PetscInt q = 0; q < 4 && !ierr; q++) {
      prob->param[k] = v0 + off[q] * h;
      ierr           = CallResidual(prob, cond, x, jet, rp[q], NULL);
    }
    prob->param[k] = v0;
    PetscCall(ierr);
    for (PetscInt i = 0; i < nres; i++) scale = PetscMax(scale, PetscAbsScalar(d[i]));
    for (PetscInt q = 0; q < 4; q++) /* above the differences' rounding, about ε|r|/h: a residual independent of the parameter passes */
      for (PetscInt i = 0; i < nres; i++) scale = PetscMax(scale, 1e-8 * PetscAbsScalar(rp[q][i]) / h);
    for (PetscInt i = 0; i < nres; i++) {
      const PetscScalar fd = (rp[0][i] - 8 * rp[1][i] + 8 * rp[2][i] - rp[3][i]) / (12 * h);
      const PetscReal   e  = PetscAbsScalar(fd - d[i]) / PetscMax(PetscMax(scale, PetscAbsScalar(fd)), 1e-300);
      if (!PetscIsInfOrNanReal(*maxrelerr)) *maxrelerr = PetscIsInfOrNanReal(e) || PetscIsInfOrNanReal(PetscAbsScalar(d[i])) ? (PetscReal)NAN : PetscMax(*maxrelerr, e);
    }
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}
