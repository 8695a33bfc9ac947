/* Measures of the current solution: error against the exact solution or the reference, constraint
 * violations, conservation drift. They see the solution as the report does (AzLossEvaluateSolution). */
#include "lossimpl.h"

PetscErrorCode AzLossSetReference(AzLoss L, AzReference ref)
{
  PetscFunctionBegin;
  L->ref = ref;
  /* the first interpolation gathers the snapshots on every rank (collective); later ones are local */
  if (ref) PetscCall(AzReferenceInterpolate(ref, 0, NULL, NULL));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Σ e², Σ u² and max |e| over the points of owned group g of the evaluation grid */
typedef struct {
  const AzProblemInfo *info;
  const PetscReal     *param;
  PetscReal            lo[AZ_MAX_COORD], hi[AZ_MAX_COORD], max;
  PetscInt             total;
} ErrorCtx;

static PetscErrorCode ErrorGroup(AzLoss L, PetscInt g, Vec grad, PetscScalar s[], void *ptr)
{
  ErrorCtx      *c    = (ErrorCtx *)ptr;
  const PetscInt Ljet = L->ncomp * L->nslot;
  PetscInt       lo, np;

  PetscFunctionBegin;
  (void)grad;
  AzLossGroupItems(L, c->total, g, &lo, &np);
  lo += AzGroupStart(c->total, L->ngroups, L->g0); /* global index */
  for (PetscInt i0 = lo; i0 < lo + np; i0 += L->chunk) {
    const PetscInt nc = PetscMin(L->chunk, lo + np - i0);
    PetscReal      x[128 * AZ_MAX_COORD], *xs = x;

    if (nc * L->ncoord > 128 * AZ_MAX_COORD) PetscCall(PetscMalloc1(nc * L->ncoord, &xs));
    for (PetscInt p = 0; p < nc; p++) {
      PetscInt64 q = i0 + p;
      for (PetscInt d = 0; d < L->ncoord; d++) {
        xs[p * L->ncoord + d] = c->lo[d] + (c->hi[d] - c->lo[d]) * (PetscReal)(q % L->eval_n) / (L->eval_n - 1);
        q /= L->eval_n;
      }
    }
    PetscCall(AzLossEvaluateSolution(L, nc, xs, L->jets));
    for (PetscInt p = 0; p < nc; p++) {
      PetscScalar ue[AZ_MAX_COMP];
      AzPoint     pt = {xs + p * L->ncoord, L->ncoord, c->param, -1};
      if (c->info->exact) PetscCall(c->info->exact(&pt, ue));
      else PetscCall(AzReferenceInterpolate(L->ref, 1, xs + p * L->ncoord, ue));
      for (PetscInt k = 0; k < L->ncomp; k++) {
        const PetscReal e = PetscAbsScalar(L->jets[p * Ljet + k * L->nslot] - ue[k]);
        s[0] += e * e;
        s[1] += PetscRealPart(ue[k] * ue[k]);
        c->max = PetscMax(c->max, PetscIsInfOrNanReal(e) ? PETSC_MAX_REAL : e);
      }
    }
    if (xs != x) PetscCall(PetscFree(xs));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzLossExactError(AzLoss L, PetscBool *has_exact, PetscReal *rel_l2, PetscReal *max_abs)
{
  ErrorCtx    c;
  PetscInt64  total = 1;
  PetscScalar g[2];

  PetscFunctionBegin;
  if (L->setup) PetscCall(AzInferSync(L)); /* an inverse problem's parameters at the current θ */
  PetscCall(AzProblemGetInfo(L->prob, &c.info));
  *has_exact = (c.info->exact || L->ref) ? PETSC_TRUE : PETSC_FALSE;
  *rel_l2 = *max_abs = (PetscReal)NAN;
  if (!*has_exact) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(AzLossSetUp(L));
  PetscCall(AzProblemGetParams(L->prob, &c.param));
  PetscCall(AzProblemGetBox(L->prob, c.lo, c.hi));
  for (PetscInt d = 0; d < L->ncoord; d++) total *= L->eval_n;
  PetscCheck(total <= PETSC_MAX_INT / 2, L->comm, PETSC_ERR_ARG_OUTOFRANGE, "-az_eval_n %" PetscInt_FMT " gives %" PetscInt64_FMT " evaluation points in %" PetscInt_FMT " coordinates: too many", L->eval_n, total, L->ncoord);
  c.total = (PetscInt)total;
  c.max   = 0;
  /* the sums group by group (no projection terms here: ReduceGroups' c̄ stays zero) */
  PetscCall(AzLossReduceGroups(L, ErrorGroup, &c, 2, g, NULL));
  PetscCall(MPIU_Allreduce(MPI_IN_PLACE, &c.max, 1, MPIU_REAL, MPIU_MAX, L->comm)); /* a maximum is exact in any order */
  *rel_l2  = PetscSqrtReal(PetscRealPart(g[0]) / PetscMax(PetscRealPart(g[1]), PETSC_SMALL));
  *max_abs = c.max;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzLossConstraintViolation(AzLoss L, PetscInt n, PetscReal *boundary, PetscReal *initial)
{
  const AzProblemInfo *info;
  const PetscInt       Ljet = L->ncomp * L->nslot;
  PetscReal            v[2] = {0, 0}, g[2];
  PetscBool            faces = PETSC_FALSE; /* any face with a condition */

  PetscFunctionBegin;
  if (L->setup) PetscCall(AzInferSync(L)); /* an inverse problem's parameters at the current θ */
  PetscCall(AzLossSetUp(L));
  PetscCall(AzProblemGetInfo(L->prob, &info));
  for (PetscInt cond = 0; cond <= AZ_COND_INITIAL; cond++) {
    Vec                x;
    const PetscScalar *xa;
    PetscInt           nres, nloc;
    const PetscInt     which = cond == AZ_COND_INITIAL ? 1 : 0;

    if (cond >= 2 * info->dim && cond != AZ_COND_INITIAL) continue;
    PetscCall(AzProblemGetNumResiduals(L->prob, cond, &nres));
    if (!nres) continue;
    if (cond != AZ_COND_INITIAL) faces = PETSC_TRUE;
    PetscCall(AzSampleCondition(L->comm, L->prob, cond, AZ_SAMPLE_SOBOL, L->ncoord == 1 ? 1 : n, L->seed + 7919, &x));
    PetscCall(VecGetLocalSize(x, &nloc));
    nloc /= L->ncoord;
    PetscCall(VecGetArrayRead(x, &xa));
    for (PetscInt p = 0; p < nloc; p++) {
      const PetscReal *xp = (const PetscReal *)xa + p * L->ncoord;
      PetscScalar      r[AZ_MAX_RES];
      PetscCall(AzLossEvaluateSolution(L, 1, xp, L->jets));
      PetscCall(AzProblemEvaluateResidual(L->prob, cond, xp, L->jets, r, NULL));
      (void)Ljet;
      for (PetscInt i = 0; i < nres; i++) v[which] = PetscMax(v[which], PetscIsInfOrNanReal(PetscAbsScalar(r[i])) ? PETSC_MAX_REAL : PetscAbsScalar(r[i]));
    }
    PetscCall(VecRestoreArrayRead(x, &xa));
    PetscCall(VecDestroy(&x));
  }
  PetscCall(MPIU_Allreduce(v, g, 2, MPIU_REAL, MPIU_MAX, L->comm));
  *boundary = faces ? g[0] : (PetscReal)NAN;
  *initial  = info->time_dependent ? g[1] : (PetscReal)NAN;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Q* of law `law`: its value, or the law at the initial data by the same quadrature (qx, qw: nq nodes);
 * NaN when there is neither, or the density reads derivatives (the initial data gives values only) */
static PetscErrorCode LawTarget(AzLoss L, PetscInt law, PetscInt nq, const PetscReal qx[], const PetscReal qw[], PetscReal *target)
{
  const AzProblemInfo      *info;
  const AzConservationInfo *cl;
  const PetscReal          *param;
  const PetscInt            dim = L->ncoord - 1, Ljet = L->ncomp * L->nslot;
  PetscScalar              *jet, *dq;

  PetscFunctionBegin;
  PetscCall(AzProblemGetInfo(L->prob, &info));
  PetscCall(AzProblemGetParams(L->prob, &param));
  cl = &info->conservation[law];
  if (cl->has_value) {
    *target = cl->value;
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  *target = (PetscReal)NAN;
  if (!info->initial_value) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(PetscMalloc2(Ljet, &jet, Ljet, &dq));
  *target = 0;
  for (PetscInt j = 0; j < nq; j++) {
    PetscReal   x[AZ_MAX_COORD];
    AzPoint     pt = {x, L->ncoord, param, -1};
    AzJet       J  = {L->ncoord, L->ncomp, L->nslot, jet};
    PetscScalar q, u0[AZ_MAX_COMP];
    for (PetscInt d = 0; d < dim; d++) x[d] = qx[j * dim + d];
    x[dim] = info->t0;
    PetscCall(info->initial_value(&pt, u0));
    for (PetscInt s = 0; s < Ljet; s++) jet[s] = dq[s] = 0;
    for (PetscInt c = 0; c < L->ncomp; c++) jet[c * L->nslot] = u0[c];
    PetscCall(cl->density(&pt, &J, &q, dq));
    for (PetscInt s = 0; s < Ljet; s++)
      if (s % L->nslot && dq[s] != 0) *target = (PetscReal)NAN; /* reads a derivative */
    *target += qw[j] * PetscRealPart(q);
  }
  PetscCall(PetscFree2(jet, dq));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Q(t) by composite Gauss–Legendre on the box, all nodes of a time in one batch (local) */
PetscErrorCode AzLossConservationSeries(AzLoss L, PetscInt law, PetscInt nt, PetscReal t[], PetscReal Q[], PetscReal *target)
{
  const AzProblemInfo *info;
  const PetscReal     *param;
  const PetscInt       dim = L->ncoord - 1, Ljet = L->ncomp * L->nslot, batch = 256;
  PetscInt             nlaws, nq;
  PetscReal           *qx, *qw, x[256 * AZ_MAX_COORD];
  PetscScalar         *jets;

  PetscFunctionBegin;
  if (L->setup) PetscCall(AzInferSync(L)); /* an inverse problem's parameters at the current θ */
  PetscCall(AzLossSetUp(L));
  PetscCall(AzProblemGetInfo(L->prob, &info));
  PetscCall(AzLossGetNumConservationLaws(L, &nlaws));
  PetscCheck(law >= 0 && law < nlaws, L->comm, PETSC_ERR_ARG_OUTOFRANGE, "Problem %s has %" PetscInt_FMT " conservation law(s): no law %" PetscInt_FMT, info->name, nlaws, law);
  PetscCheck(info->time_dependent && nt >= 2, L->comm, PETSC_ERR_ARG_WRONG, "A conservation series needs a time-dependent problem and at least 2 times");
  PetscCall(AzProblemGetParams(L->prob, &param));
  PetscCall(AzLossSpatialQuadrature(L, L->drift_nodes > 0 ? L->drift_nodes : (dim == 1 ? 1024 : (dim == 2 ? 128 : 32)), PETSC_FALSE, &nq, &qx, &qw));
  PetscCall(PetscMalloc1((size_t)batch * Ljet, &jets));
  for (PetscInt j = 0; j < nt; j++) {
    t[j] = info->t0 + (info->t1 - info->t0) * j / (nt - 1);
    Q[j] = 0;
    for (PetscInt i0 = 0; i0 < nq; i0 += batch) {
      const PetscInt nc = PetscMin(batch, nq - i0);
      for (PetscInt i = 0; i < nc; i++) {
        for (PetscInt d = 0; d < dim; d++) x[i * L->ncoord + d] = qx[(i0 + i) * dim + d];
        x[i * L->ncoord + dim] = t[j];
      }
      PetscCall(AzLossEvaluateSolution(L, nc, x, jets));
      for (PetscInt i = 0; i < nc; i++) {
        AzPoint     pt = {x + i * L->ncoord, L->ncoord, param, -1};
        AzJet       J  = {L->ncoord, L->ncomp, L->nslot, jets + i * Ljet};
        PetscScalar q;
        PetscCall(info->conservation[law].density(&pt, &J, &q, NULL));
        Q[j] += qw[i0 + i] * PetscRealPart(q);
      }
    }
  }
  PetscCall(LawTarget(L, law, nq, qx, qw, target));
  PetscCall(PetscFree(jets));
  PetscCall(PetscFree(qx));
  PetscCall(PetscFree(qw));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzLossConservationTargets(AzLoss L, PetscInt law, PetscInt nt, const PetscReal t[], PetscReal M[])
{
  const AzProblemInfo *info;
  const PetscInt       dim = L->ncoord - 1;
  PetscInt             nlaws, nq;
  PetscReal           *qx, *qw, target, Mk[1];
  PetscBool            varies;

  PetscFunctionBegin;
  PetscCall(AzLossSetUp(L));
  PetscCall(AzProblemGetInfo(L->prob, &info));
  PetscCall(AzLossGetNumConservationLaws(L, &nlaws));
  PetscCheck(law >= 0 && law < nlaws, L->comm, PETSC_ERR_ARG_OUTOFRANGE, "Problem %s has %" PetscInt_FMT " conservation law(s): no law %" PetscInt_FMT, info->name, nlaws, law);
  PetscCall(AzProblemGetLawTarget(L->prob, law, info->t0, 1, &varies, Mk));
  if (varies) {
    for (PetscInt j = 0; j < nt; j++) PetscCall(AzProblemGetLawTarget(L->prob, law, t[j], 1, &varies, &M[j]));
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  PetscCall(AzLossSpatialQuadrature(L, L->drift_nodes > 0 ? L->drift_nodes : (dim == 1 ? 1024 : (dim == 2 ? 128 : 32)), PETSC_FALSE, &nq, &qx, &qw));
  PetscCall(LawTarget(L, law, nq, qx, qw, &target));
  for (PetscInt j = 0; j < nt; j++) M[j] = target;
  PetscCall(PetscFree(qx));
  PetscCall(PetscFree(qw));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* max over the laws and over AZ_DRIFT_TIMES times of |Q(t) − Q*(t)| (see loss.h). NaN without laws. */
PetscErrorCode AzLossConservationDrift(AzLoss L, PetscReal *drift)
{
  PetscInt  nlaws;
  PetscReal t[AZ_DRIFT_TIMES], Q[AZ_DRIFT_TIMES], target;

  PetscFunctionBegin;
  if (L->setup) PetscCall(AzInferSync(L)); /* an inverse problem's parameters at the current θ */
  PetscCall(AzLossGetNumConservationLaws(L, &nlaws));
  *drift = (PetscReal)NAN;
  if (!nlaws) PetscFunctionReturn(PETSC_SUCCESS);
  *drift = 0;
  for (PetscInt law = 0; law < nlaws; law++) {
    PetscReal Mt[AZ_DRIFT_TIMES], Mk[1];
    PetscBool varies;
    PetscCall(AzLossConservationSeries(L, law, AZ_DRIFT_TIMES, t, Q, &target));
    if (PetscIsNanReal(target)) {
      *drift = (PetscReal)NAN; /* no Q* to measure against */
      PetscFunctionReturn(PETSC_SUCCESS);
    }
    PetscCall(AzProblemGetLawTarget(L->prob, law, t[0], 1, &varies, Mk));
    if (varies) PetscCall(AzLossConservationTargets(L, law, AZ_DRIFT_TIMES, t, Mt));
    for (PetscInt j = 0; j < AZ_DRIFT_TIMES; j++) *drift = PetscMax(*drift, PetscIsInfOrNanReal(Q[j]) ? PETSC_MAX_REAL : PetscAbsReal(Q[j] - (varies ? Mt[j] : target)));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

