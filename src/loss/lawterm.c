/* A conservation-law penalty as a term over time slices (its ops table at the end). */
#include "lossimpl.h"
#include <cblas.h>

/* ---- the conservation-law penalties (-az_conservation soft ... auglag): a term per law with one
 * residual per time slice, r_g = Q_h(t_g) − M = Σ_j w_j q(x_j, ũ(x_j, t_g)) − M, the solution ũ as
 * training sees it (through the transform or softplus, and projected onto the projected laws), the
 * slices shared out over the ranks with the groups of points (reduce.c) ----------------------------- */

static PetscInt OwnedSlices(AzLoss L)
{
  return AzLossGroupsLocalSize(L, L->proj.ng);
}

static PetscErrorCode LocalRows(AzLoss L, AzTerm *t, PetscInt *nrows)
{
  PetscFunctionBegin;
  *nrows = OwnedSlices(L);
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode RowIndex(AzLoss L, AzTerm *t, PetscInt i, PetscInt *global)
{
  PetscFunctionBegin;
  *global = AzGroupStart(L->proj.ng, L->ngroups, L->g0) + i;
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode LawTermSetUp(AzLoss L, PetscInt law, AzTerm *t)
{
  AzProjection             *P = &L->proj;
  const AzProblemInfo      *info;
  const AzConservationInfo *cl;
  const PetscReal          *param;
  const PetscInt            n = L->ncoord, tt = n - 1, Ljet = L->ncomp * L->nslot;
  PetscInt                  nlaws = 0;
  PetscScalar              *jet, *dq;

  PetscFunctionBegin;
  PetscCall(AzProblemGetInfo(L->prob, &info));
  PetscCall(AzProblemGetParams(L->prob, &param));
  while (nlaws < AZ_MAX_LAWS && info->conservation[nlaws].name) nlaws++;
  cl = &info->conservation[law];
  if (nlaws == 1) PetscCall(PetscStrncpy(t->name, "conservation", sizeof t->name));
  else PetscCheck(snprintf(t->name, sizeof t->name, "conservation_%s", cl->name) < (int)sizeof t->name, L->comm, PETSC_ERR_ARG_WRONG, "Law '%s' of problem %s: a penalised law's name must be shorter than %d characters (its term is conservation_NAME)", cl->name, info->name, (int)(sizeof t->name - 13));
  t->cond = AZ_TERM_NO_CONDITION;
  t->law  = law;
  t->n    = P->ng; /* time slices */
  t->nres = 1;
  t->w = t->w0 = L->w_law;
  t->ctype     = (AzConstraintType)(AZ_CON_SOFT + (L->law_mode[law] - AZ_CONSERVE_SOFT));
  /* the nodes carry values only: the density must not read derivatives */
  PetscCall(PetscMalloc2(Ljet, &jet, Ljet, &dq));
  t->lawM = 0;
  for (PetscInt j = 0; j < P->nq; j++) {
    PetscReal   x[AZ_MAX_COORD];
    AzPoint     pt = {x, n, param, -1};
    AzJet       J  = {n, L->ncomp, L->nslot, jet};
    PetscScalar q, u0[AZ_MAX_COMP];
    for (PetscInt d = 0; d < tt; d++) x[d] = P->qx[j * tt + d];
    x[tt] = info->t0 + 0.618 * (info->t1 - info->t0);
    for (PetscInt s = 0; s < Ljet; s++) {
      jet[s] = 0.3 + 1.7 * PetscSinReal(1.3 * s + 0.7 * j);
      dq[s]  = 0;
    }
    PetscCall(cl->density(&pt, &J, &q, dq));
    for (PetscInt s = 0; s < Ljet; s++)
      PetscCheck(s % L->nslot == 0 || dq[s] == 0, L->comm, PETSC_ERR_SUP, "Law '%s' of problem %s: its density depends on derivatives of the solution; a conservation penalty takes densities of the solution values only", cl->name, info->name);
    if (!cl->has_value) {
      /* the target: the law at the initial data */
      PetscCheck(info->initial_value, L->comm, PETSC_ERR_ARG_WRONG, "Law '%s' of problem %s has no value and the problem no initial_value: its penalty has no target", cl->name, info->name);
      x[tt] = info->t0;
      PetscCall(info->initial_value(&pt, u0));
      for (PetscInt s = 0; s < Ljet; s++) jet[s] = 0;
      for (PetscInt c = 0; c < L->ncomp; c++) jet[c * L->nslot] = u0[c];
      PetscCall(cl->density(&pt, &J, &q, NULL));
      t->lawM += P->qw[j] * PetscRealPart(q);
    }
  }
  if (cl->has_value) t->lawM = cl->value;
  {
    PetscReal Mk[1];
    PetscCall(AzProblemGetLawTarget(L->prob, law, info->t0, 1, &t->lawvaries, Mk));
    PetscCheck(!t->lawvaries || P->gM, L->comm, PETSC_ERR_PLIB, "Law '%s': its target varies in time but was not tabulated at the time slices", cl->name);
  }
  PetscCall(PetscFree2(jet, dq));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* the chain's arguments at the nodes of slice g (P->xw), with the inputs kept for the adjoint;
 * value_only: at a stored linearisation point, where only the values are kept */
static AzChainArgs NodeArgs(AzLoss L, const PetscInt *g, PetscBool value_only)
{
  AzChainArgs a = {L->proj.nq, L->proj.xw, g, 0, value_only ? 1 : AzNodesMask(L), PETSC_TRUE, PETSC_TRUE, PETSC_FALSE};
  return a;
}

/* the solution at the nodes of slice g as training sees it, into P->jw */
static PetscErrorCode LawNodeSolution(AzLoss L, PetscInt g)
{
  AzProjection     *P = &L->proj;
  const AzChainArgs a = NodeArgs(L, &g, PETSC_FALSE);

  PetscFunctionBegin;
  AzNodesAt(L, P->gt[g]);
  PetscCall(AzNodesField(L, P->jw));
  PetscCall(AzChainForward(L->chain, -1, &a, P->jw, P->jw));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* r = Q_h(t_g) − M of term t at slice g (no multiplier shift), and w_j ∂q/∂u at the nodes in P->dq */
static PetscErrorCode SliceResidual(AzLoss L, AzTerm *t, PetscInt g, PetscScalar *r)
{
  AzProjection        *P    = &L->proj;
  const PetscInt       Ljet = L->ncomp * L->nslot;
  const AzProblemInfo *info;
  const PetscReal     *param;

  PetscFunctionBegin;
  PetscCall(AzProblemGetInfo(L->prob, &info));
  PetscCall(AzProblemGetParams(L->prob, &param));
  PetscCall(LawNodeSolution(L, g));
  *r = t->lawvaries ? -P->gM[g * AZ_MAX_LAWS + t->law] : -t->lawM;
  for (PetscInt j = 0; j < P->nq; j++) {
    AzPoint      pt = {P->xw + j * L->ncoord, L->ncoord, param, -1};
    AzJet        J  = {L->ncoord, L->ncomp, L->nslot, P->jw + j * Ljet};
    PetscScalar  q, *dq = P->dq + j * Ljet;
    for (PetscInt s = 0; s < Ljet; s++) dq[s] = 0;
    PetscCall(info->conservation[t->law].density(&pt, &J, &q, dq));
    *r += P->qw[j] * q;
    for (PetscInt c = 0; c < L->ncomp; c++) dq[c * L->nslot] *= P->qw[j];
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* the multiplier shift λ/μ of this rank's i-th slice (0 without multipliers) */
static PetscScalar Shift(AzTerm *t, PetscInt i)
{
  return t->lambda ? t->lambda[i] / t->mu : 0;
}

/* side rows of the nodes (P->dq's size): the projection's share, summed into e */
static PetscErrorCode SideSum(AzLoss L, PetscScalar e[])
{
  const PetscInt R = AzChainSideSize(L->chain);

  PetscFunctionBegin;
  for (PetscInt j = 0; j < L->proj.nq; j++)
    for (PetscInt r = 0; r < R; r++) e[r] += L->proj.vw[j * R + r];
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* grad += w ∂r/∂θ at slice g from P->dq (SliceResidual or RestoreSlice; the nodes in P->xw, the
 * chain's inputs kept), and the side inputs' share into their adjoints */
static PetscErrorCode SliceAdjoint(AzLoss L, PetscInt g, PetscScalar w, Vec grad, PetscBool value_only)
{
  AzProjection     *P    = &L->proj;
  const PetscInt    Ljet = L->ncomp * L->nslot, R = AzChainSideSize(L->chain);
  const AzChainArgs a    = NodeArgs(L, &g, value_only);

  PetscFunctionBegin;
  for (PetscInt i = 0; i < P->nq * Ljet; i++) P->jw2[i] = w * P->dq[i];
  PetscCall(AzChainAdjoint(L->chain, -1, &a, 1, P->jw2, P->jw2, R ? P->vw : NULL));
  if (R) PetscCall(SideSum(L, AzChainSideMap(L->chain)->side_bar + g * R));
  PetscCall(AzNodesFieldBackward(L, P->jw2, grad));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Σ r² (shifted) over the slices of owned group grp; with grad, grad += ∇θ of the term's weighted mean */
static PetscErrorCode Evaluate(AzLoss L, AzTerm *t, PetscInt grp, PetscReal w, PetscReal *sumsq, Vec grad)
{
  PetscInt        s0, s1;
  const PetscReal scale = 2 * w / ((PetscReal)t->n * t->nres);
  PetscInt        i;

  PetscFunctionBegin;
  AzLossSliceRange(L, grp, &s0, &s1, &i);
  *sumsq = 0;
  for (PetscInt g = s0; g < s1; g++, i++) {
    PetscScalar r;
    PetscCall(SliceResidual(L, t, g, &r));
    r += Shift(t, i);
    *sumsq += PetscRealPart(r * r);
    if (grad) PetscCall(SliceAdjoint(L, g, scale * r, grad, PETSC_FALSE));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode UpdateMultipliers(AzLoss L, AzTerm *t, PetscReal *vmax)
{
  PetscInt      s0, s1;
  PetscReal     v = 0;
  PetscInt      i;

  PetscFunctionBegin;
  AzLossSliceRange(L, -1, &s0, &s1, &i);
  for (PetscInt g = s0; g < s1; g++, i++) {
    PetscScalar r;
    PetscCall(SliceResidual(L, t, g, &r));
    v = PetscMax(v, PetscAbsScalar(r));
    t->lambda[i] += t->mu * r;
  }
  PetscCall(MPIU_Allreduce(&v, vmax, 1, MPIU_REAL, MPIU_MAX, L->comm));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* the scaled residuals ρ = sq·(r + λ/μ) of owned group grp's slices and their Jacobian rows, one by one through fn */
static PetscErrorCode Rows(AzLoss L, AzTerm *t, PetscInt grp, AzRowsFn fn, void *ctx)
{
  AzProjection   *P    = &L->proj;
  const PetscInt  Ljet = L->ncomp * L->nslot, np = L->nparam, chunk = 32, R = AzChainSideSize(L->chain);
  const PetscReal sq   = PetscSqrtReal(t->w / ((PetscReal)t->n * t->nres));
  PetscInt        s0, s1;
  PetscScalar    *jac = NULL, *J = NULL;
  PetscInt        i;

  PetscFunctionBegin;
  AzLossSliceRange(L, grp, &s0, &s1, &i);
  PetscCall(PetscMalloc2((size_t)chunk * np, &jac, (size_t)np, &J));
  for (PetscInt g = s0; g < s1; g++, i++) {
    PetscScalar r, rho;
    PetscCall(SliceResidual(L, t, g, &r));
    rho = sq * (r + Shift(t, i));
    /* ∂ρ/∂ũ at each node: sq·w_j ∂q/∂u, back through the chain; the side inputs' part E = ∂ρ/∂c */
    for (PetscInt k = 0; k < P->nq * Ljet; k++) P->jw2[k] = sq * P->dq[k];
    PetscCall(PetscArrayzero(J, np));
    {
      const AzChainArgs a = NodeArgs(L, &g, PETSC_FALSE);
      PetscCall(AzChainAdjoint(L->chain, -1, &a, 1, P->jw2, P->jw2, R ? P->vw : NULL));
    }
    if (R) {
      PetscScalar e[(AZ_MAX_ORDER + 1) * AZ_MAX_LAWS] = {0};
      PetscCall(SideSum(L, e));
      for (PetscInt q = 0; q < R; q++)
        if (e[q] != 0) cblas_daxpy((int)np, e[q], AzChainSideMap(L->chain)->side_jac + ((size_t)g * R + q) * np, 1, J, 1);
    }
    for (PetscInt j0 = 0; j0 < P->nq; j0 += chunk) {
      const PetscInt nc = PetscMin(chunk, P->nq - j0);
      PetscCall(AzNodesFieldJacobian(L, j0, nc, 1, P->jw2 + (size_t)j0 * Ljet, jac));
      for (PetscInt j = 0; j < nc; j++)
        for (PetscInt k = 0; k < np; k++) J[k] += jac[(size_t)j * np + k];
    }
    PetscCall(fn(L, grp, 1, &rho, J, ctx));
  }
  PetscCall(PetscFree2(jac, J));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Matrix-free Gauss–Newton: at the linearisation point keep, for this rank's slices, ρ and at every
 * node w_j ∂q/∂u and the chain's kept inputs (value slots only: the densities read values only), so
 * that J v and Jᵀ w use the linearisation point's data, not whatever θ was tried since */
static PetscErrorCode Linearize(AzLoss L, AzTerm *t, PetscInt grp, PetscReal *sumsq)
{
  AzProjection   *P    = &L->proj;
  const PetscInt  Ljet = L->ncomp * L->nslot, nc = L->ncomp, nr = OwnedSlices(L), ns = AzChainStateSize(L->chain, 1);
  const PetscReal sq   = PetscSqrtReal(t->w / ((PetscReal)t->n * t->nres));
  PetscInt        s0, s1;
  PetscInt        i;

  PetscFunctionBegin;
  AzLossSliceRange(L, grp, &s0, &s1, &i);
  if (!t->lin_rho) PetscCall(PetscMalloc3((size_t)PetscMax(nr, 1), &t->lin_rho, (size_t)PetscMax(nr * P->nq * nc, 1), &t->lin_D, (size_t)PetscMax(nr * P->nq * ns, 1), &t->lin_jet));
  if (!t->lin_w) PetscCall(PetscMalloc1((size_t)PetscMax(nr, 1), &t->lin_w));
  *sumsq = 0;
  for (PetscInt g = s0; g < s1; g++, i++) {
    PetscScalar r;
    PetscCall(SliceResidual(L, t, g, &r));
    t->lin_rho[i] = sq * (r + Shift(t, i));
    *sumsq += PetscRealPart(t->lin_rho[i] * t->lin_rho[i]);
    for (PetscInt j = 0; j < P->nq; j++)
      for (PetscInt c = 0; c < nc; c++) t->lin_D[((size_t)i * P->nq + j) * nc + c] = P->dq[j * Ljet + c * L->nslot];
    PetscCall(AzChainStateGet(L->chain, P->nq, 1, t->lin_jet + (size_t)i * P->nq * ns));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* P->dq and the chain's kept inputs from the linearisation of this rank's i-th slice */
static PetscErrorCode RestoreSlice(AzLoss L, AzTerm *t, PetscInt i)
{
  AzProjection  *P  = &L->proj;
  const PetscInt nc = L->ncomp, Ljet = nc * L->nslot, ns = AzChainStateSize(L->chain, 1);

  PetscFunctionBegin;
  for (PetscInt k = 0; k < P->nq * Ljet; k++) P->dq[k] = 0;
  for (PetscInt j = 0; j < P->nq; j++)
    for (PetscInt c = 0; c < nc; c++) P->dq[j * Ljet + c * L->nslot] = t->lin_D[((size_t)i * P->nq + j) * nc + c];
  PetscCall(AzChainStateSet(L->chain, P->nq, 1, t->lin_jet + (size_t)i * P->nq * ns));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* out[i] = (J v)_i for this rank's rows at the linearisation point (the side inputs' tangent done) */
static PetscErrorCode Tangent(AzLoss L, AzTerm *t, Vec v, PetscScalar out[])
{
  AzProjection   *P    = &L->proj;
  const PetscInt  Ljet = L->ncomp * L->nslot;
  const PetscReal sq   = PetscSqrtReal(t->w / ((PetscReal)t->n * t->nres));
  PetscInt        s0, s1;
  PetscInt        i;

  PetscFunctionBegin;
  AzLossSliceRange(L, -1, &s0, &s1, &i);
  for (PetscInt g = s0; g < s1; g++, i++) {
    const AzChainArgs a = NodeArgs(L, &g, PETSC_TRUE);
    PetscScalar       s = 0;
    PetscCall(RestoreSlice(L, t, i));
    AzNodesAt(L, P->gt[g]);
    PetscCall(AzNodesFieldTangent(L, v, P->jw));
    PetscCall(AzChainTangent(L->chain, -1, &a, P->jw, P->jw));
    for (PetscInt k = 0; k < P->nq * Ljet; k++)
      if (P->dq[k] != 0) s += P->dq[k] * P->jw[k]; /* slots not requested hold NaN in jw and 0 in dq */
    out[i] = sq * s;
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* grad += Jᵀ w for owned group grp's rows at the linearisation point */
static PetscErrorCode Adjoint(AzLoss L, AzTerm *t, PetscInt grp, const PetscScalar w[], Vec grad)
{
  AzProjection   *P  = &L->proj;
  const PetscReal sq = PetscSqrtReal(t->w / ((PetscReal)t->n * t->nres));
  PetscInt        s0, s1;
  PetscInt        i;

  PetscFunctionBegin;
  AzLossSliceRange(L, grp, &s0, &s1, &i);
  for (PetscInt g = s0; g < s1; g++, i++) {
    PetscCall(RestoreSlice(L, t, i));
    AzNodesAt(L, P->gt[g]);
    PetscCall(SliceAdjoint(L, g, sq * w[i], grad, PETSC_TRUE));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode Destroy(AzTerm *t)
{
  PetscFunctionBegin;
  PetscCall(PetscFree3(t->lin_rho, t->lin_D, t->lin_jet));
  PetscCall(PetscFree(t->lin_w));
  PetscCall(PetscFree(t->lambda));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static const AzTermOps ops = {"slices", LocalRows, RowIndex, Evaluate, Rows, Linearize, Tangent, Adjoint, UpdateMultipliers, Destroy};

/* a penalty term per penalised law (after AzProjectionSetUp: the quadrature and the slices) */
PetscErrorCode AzLawTermsAdd(AzLoss L)
{
  PetscFunctionBegin;
  for (PetscInt l = 0; l < AZ_MAX_LAWS; l++) {
    if (!AzConservationIsPenalty(L->law_mode[l])) continue;
    PetscCall(LawTermSetUp(L, l, &L->term[L->nterms]));
    L->term[L->nterms].ops = &ops;
    PetscCall(AzLossConstraintSetUpTerm(L, &L->term[L->nterms]));
    L->nterms++;
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}
