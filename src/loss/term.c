/* Point terms: residuals at distributed collocation points (the PDE, each boundary face with a
 * condition, the initial slice), at the interior points (the positivity penalty) or at observation
 * points (data). They differ only in the residual at a point; their ops table is shared. */
#include "lossimpl.h"
#include <cblas.h>

/* the plugin's residual, shifted by the multiplier: (μ/2)(r + λ/μ)² = λr + (μ/2)r² + const */
static PetscErrorCode PluginResidual(AzLoss L, AzTerm *t, PetscInt i, const PetscReal x[], const PetscScalar jet[], PetscScalar r[], PetscScalar D[])
{
  PetscFunctionBegin;
  PetscCall(AzProblemEvaluateResidual(L->prob, t->cond, x, jet, r, D));
  if (t->lambda)
    for (PetscInt k = 0; k < t->nres; k++) r[k] += t->lambda[i * t->nres + k] / t->mu;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* the inequality g = sign·(u_c − offset) ≥ 0 as residual k: r = min(g, 0); with multipliers (the
 * method of multipliers) r = min(g − λ/μ, 0) */
static void Inequality(AzLoss L, AzTerm *t, PetscInt i, PetscInt k, PetscInt c, PetscReal sign, PetscReal offset, const PetscScalar jet[], PetscScalar r[], PetscScalar D[])
{
  const PetscInt    Ljet = L->ncomp * L->nslot;
  const PetscScalar g    = sign * (jet[c * L->nslot] - offset) - (t->lambda ? t->lambda[i * t->nres + k] / t->mu : 0);

  r[k] = PetscRealPart(g) < 0 ? g : 0;
  if (D && PetscRealPart(g) < 0) D[k * Ljet + c * L->nslot] = sign;
}

/* r_c = min(u_c, 0) for the positive components (u_c ≥ 0) */
static PetscErrorCode PositiveResidual(AzLoss L, AzTerm *t, PetscInt i, const PetscReal x[], const PetscScalar jet[], PetscScalar r[], PetscScalar D[])
{
  const AzProblemInfo *info;
  PetscInt             k = 0;

  PetscFunctionBegin;
  (void)x;
  PetscCall(AzProblemGetInfo(L->prob, &info));
  if (D) PetscCall(PetscArrayzero(D, t->nres * L->ncomp * L->nslot));
  for (PetscInt c = 0; c < L->ncomp; c++)
    if (info->positive[c]) Inequality(L, t, i, k++, c, 1, 0, jet, r, D);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* two residuals per bounded component (a_c ≤ u_c ≤ b_c): min(u_c − a_c, 0) and min(b_c − u_c, 0) =
 * −max(u_c − b_c, 0) */
static PetscErrorCode BoundsResidual(AzLoss L, AzTerm *t, PetscInt i, const PetscReal x[], const PetscScalar jet[], PetscScalar r[], PetscScalar D[])
{
  const AzProblemInfo *info;
  PetscInt             k = 0;

  PetscFunctionBegin;
  (void)x;
  PetscCall(AzProblemGetInfo(L->prob, &info));
  if (D) PetscCall(PetscArrayzero(D, t->nres * L->ncomp * L->nslot));
  for (PetscInt c = 0; c < L->ncomp; c++) {
    if (!info->bounded[c]) continue;
    Inequality(L, t, i, k++, c, 1, info->bound_lower[c], jet, r, D);
    Inequality(L, t, i, k++, c, -1, info->bound_upper[c], jet, r, D);
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* r_c = √w_c (u_c − obs_c)/σ_c at an observation point */
static PetscErrorCode DataResidual(AzLoss L, AzTerm *t, PetscInt i, const PetscReal x[], const PetscScalar jet[], PetscScalar r[], PetscScalar D[])
{
  const PetscInt     Ljet = L->ncomp * L->nslot;
  const PetscScalar *obs;

  PetscFunctionBegin;
  (void)x;
  PetscCall(VecGetArrayRead(t->obs, &obs));
  for (PetscInt c = 0; c < L->ncomp; c++) r[c] = L->data_scale[c] * (jet[c * L->nslot] - obs[i * L->ncomp + c]);
  PetscCall(VecRestoreArrayRead(t->obs, &obs));
  if (D) {
    PetscCall(PetscArrayzero(D, L->ncomp * Ljet));
    for (PetscInt c = 0; c < L->ncomp; c++) D[c * Ljet + c * L->nslot] = L->data_scale[c];
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* the experts' interfaces: the chain gives the jump u_{i-1} − u_i there (Args); r = its slots ∂^k/∂x_0^k,
 * k below the PDE's order in x_0, per component */
static PetscErrorCode JumpResidual(AzLoss L, AzTerm *t, PetscInt i, const PetscReal x[], const PetscScalar jet[], PetscScalar r[], PetscScalar D[])
{
  const PetscInt Ljet = L->ncomp * L->nslot;
  PetscInt       slot[5], nj;

  PetscFunctionBegin;
  (void)i;
  (void)x;
  nj = AzHardPDEJumpSlots(L, slot);
  if (D) PetscCall(PetscArrayzero(D, t->nres * Ljet));
  for (PetscInt c = 0; c < L->ncomp; c++)
    for (PetscInt j = 0; j < nj; j++) {
      r[c * nj + j] = jet[c * L->nslot + slot[j]];
      if (D) D[(c * nj + j) * Ljet + c * L->nslot + slot[j]] = 1;
    }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* the chain's arguments at term t's local points p0 .. p0+nc-1 */
static AzChainArgs Args(AzLoss L, AzTerm *t, PetscInt p0, PetscInt nc, const PetscReal *x)
{
  AzChainArgs a = {nc, x, t->group ? t->group + p0 : NULL, 1, L->mask, PETSC_TRUE, PETSC_TRUE, t->jump};
  return a;
}

PetscErrorCode AzLossTermSolution(AzLoss L, AzTerm *t, PetscInt p0, PetscInt nc, const PetscReal *x, PetscScalar jets[])
{
  const AzChainArgs a = Args(L, t, p0, nc, x);

  PetscFunctionBegin;
  PetscCall(AzChainForward(L->chain, -1, &a, NULL, jets));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* residuals into L->r (and, if D is not NULL, ∂r/∂jet) of term t at nc points x (local indices p0,
 * p0+1, ...), from their jets in L->jets */
static PetscErrorCode Residuals(AzLoss L, AzTerm *t, PetscInt p0, PetscInt nc, const PetscReal *x, PetscScalar *D)
{
  const PetscInt Ljet = L->ncomp * L->nslot;

  PetscFunctionBegin;
  for (PetscInt p = 0; p < nc; p++) PetscCall(t->residual(L, t, p0 + p, x + p * L->ncoord, L->jets + p * Ljet, L->r + p * t->nres, D ? D + p * t->nres * Ljet : NULL));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* side-input adjoints of one point's rows: bar[slice] += Σ rows' side parts */
static void AddSide(AzLoss L, AzTerm *t, PetscInt ip, PetscInt nrow, const PetscScalar E[])
{
  const PetscInt R  = AzChainSideSize(L->chain);
  PetscScalar   *cb = AzChainSideMap(L->chain)->side_bar + AzTermSideSlice(t, ip) * R;

  for (PetscInt k = 0; k < nrow; k++)
    for (PetscInt r = 0; r < R; r++) cb[r] += E[k * R + r];
}

/* grad's inferred-parameter entries += pg */
static PetscErrorCode AddParamGradient(AzLoss L, const PetscScalar pg[], Vec grad)
{
  PetscScalar *g;

  PetscFunctionBegin;
  PetscCall(VecGetArray(grad, &g));
  for (PetscInt k = 0; k < L->ninfer; k++) g[L->nnet + k] += pg[k];
  PetscCall(VecRestoreArray(grad, &g));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* ---- gradient: one forward pass per chunk of the field, then back per point ---------------------- */
typedef struct {
  AzLoss           L;
  AzTerm          *t;
  const PetscReal *x;   /* the term's local points from local index off on */
  PetscInt         off;
  PetscReal        w;   /* the weight of the gradient */
  PetscReal        sum;
  PetscScalar      pg[AZ_MAX_PARAMS]; /* inverse problems: the gradient in the inferred parameters' unknowns */
} AdjointCtx;

/* jetbar_p = Σ_i (2 w / m) r_i ∂r_i/∂jet back through the chain, and Σ r² */
static PetscErrorCode PointAdjoint(void *ptr, PetscInt p0, PetscInt nc, const PetscScalar jets[], PetscScalar jetbar[])
{
  AdjointCtx     *c = (AdjointCtx *)ptr;
  AzLoss          L = c->L;
  AzTerm         *t = c->t;
  const PetscInt  Ljet = L->ncomp * L->nslot, LjetN = L->LjetN, R = AzChainSideSize(L->chain);
  const PetscReal scale = 2 * c->w / ((PetscReal)t->n * t->nres);
  PetscScalar     ub[AZ_MAX_COMP * AZ_JET_MAX_NSLOT], *e = L->E; /* the side rows: R of them (a solved output layer's R is not bounded by the laws') */

  PetscFunctionBegin;
  for (PetscInt p = 0; p < nc; p++) {
    const PetscInt    ip = c->off + p0 + p; /* local point index */
    const PetscReal  *xp = c->x + (p0 + p) * L->ncoord;
    const AzChainArgs a  = Args(L, t, ip, 1, xp);

    const PetscReal   cw = AzTermRowWeight(L, t, ip); /* causal slice weight × time window: a constant */

    PetscCall(AzChainForward(L->chain, -1, &a, jets + p * LjetN, L->jets));
    PetscCall(t->residual(L, t, ip, xp, L->jets, L->r, L->D));
    for (PetscInt s = 0; s < Ljet; s++) ub[s] = 0;
    for (PetscInt i = 0; i < t->nres; i++) {
      const PetscScalar  ri = cw * scale * L->r[i];
      const PetscScalar *Di = L->D + i * Ljet;
      c->sum += cw * L->r[i] * L->r[i];
      for (PetscInt s = 0; s < Ljet; s++) ub[s] += ri * Di[s];
    }
    if (AzInferReads(L, t)) {
      PetscCall(AzInferRows(L, t, xp, L->jets, L->Pd));
      for (PetscInt i = 0; i < t->nres; i++)
        for (PetscInt k = 0; k < L->ninfer; k++) c->pg[k] += cw * scale * L->r[i] * L->Pd[i * L->ninfer + k];
    }
    PetscCall(AzChainAdjoint(L->chain, -1, &a, 1, ub, jetbar + p * LjetN, R ? e : NULL));
    if (R) AddSide(L, t, ip, 1, e);
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode Evaluate(AzLoss L, AzTerm *t, PetscInt g, PetscReal w, PetscReal *sum, Vec grad)
{
  const PetscScalar *xa;
  PetscInt           lo, np;

  PetscFunctionBegin;
  *sum = 0;
  AzLossGroupItems(L, t->n, g, &lo, &np);
  PetscCall(VecGetArrayRead(t->x, &xa));
  if (grad) {
    AdjointCtx c = {L, t, (const PetscReal *)xa + lo * L->ncoord, lo, w, 0, {0}};
    PetscCall(AzFieldJetsVJP(L->field, np, c.x, PointAdjoint, &c, grad));
    *sum = c.sum;
    if (AzInferReads(L, t)) PetscCall(AddParamGradient(L, c.pg, grad));
  } else {
    for (PetscInt p0 = lo; p0 < lo + np; p0 += L->chunk) {
      const PetscInt   nc = PetscMin(L->chunk, lo + np - p0);
      const PetscReal *x  = (const PetscReal *)xa + p0 * L->ncoord;

      PetscCall(AzLossTermSolution(L, t, p0, nc, x, L->jets));
      PetscCall(Residuals(L, t, p0, nc, x, NULL));
      for (PetscInt p = 0; p < nc; p++) {
        const PetscReal cw = AzTermRowWeight(L, t, p0 + p);
        for (PetscInt i = p * t->nres; i < (p + 1) * t->nres; i++) *sum += cw * L->r[i] * L->r[i];
      }
    }
  }
  PetscCall(VecRestoreArrayRead(t->x, &xa));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* causal training: Σ r² (unweighted) of owned group g's points, slice by slice into sums[] */
PetscErrorCode AzPointTermSliceSums(AzLoss L, AzTerm *t, PetscInt g, PetscScalar sums[])
{
  const PetscScalar *xa;
  PetscInt           lo, np;

  PetscFunctionBegin;
  AzLossGroupItems(L, t->n, g, &lo, &np);
  PetscCall(VecGetArrayRead(t->x, &xa));
  for (PetscInt p0 = lo; p0 < lo + np; p0 += L->chunk) {
    const PetscInt   nc = PetscMin(L->chunk, lo + np - p0);
    const PetscReal *x  = (const PetscReal *)xa + p0 * L->ncoord;

    PetscCall(AzLossTermSolution(L, t, p0, nc, x, L->jets));
    PetscCall(Residuals(L, t, p0, nc, x, NULL));
    for (PetscInt p = 0; p < nc; p++)
      for (PetscInt i = p * t->nres; i < (p + 1) * t->nres; i++) sums[t->cslice[p0 + p]] += L->r[i] * L->r[i];
  }
  PetscCall(VecRestoreArrayRead(t->x, &xa));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* ---- dense Jacobian rows of ρ = √(w/m) r, chunk by chunk ---------------------------------------- */
static PetscErrorCode Rows(AzLoss L, AzTerm *t, PetscInt g, AzRowsFn fn, void *ctx)
{
  const PetscInt     Ljet = L->ncomp * L->nslot, R = AzChainSideSize(L->chain), P = L->nparam;
  const PetscReal    sq   = PetscSqrtReal(t->w / ((PetscReal)t->n * t->nres));
  const PetscScalar *xa;
  PetscInt           lo, np;

  PetscFunctionBegin;
  AzLossGroupItems(L, t->n, g, &lo, &np);
  PetscCall(VecGetArrayRead(t->x, &xa));
  for (PetscInt p0 = lo; p0 < lo + np; p0 += L->chunk) {
    const PetscInt    nc = PetscMin(L->chunk, lo + np - p0);
    const PetscReal  *x  = (const PetscReal *)xa + p0 * L->ncoord;
    const AzChainArgs a  = Args(L, t, p0, nc, x);

    PetscCall(AzLossTermSolution(L, t, p0, nc, x, L->jets));
    PetscCall(Residuals(L, t, p0, nc, x, L->D));
    for (PetscInt p = 0; p < nc; p++) { /* ρ = √(w cw / m) r: causal training scales the rows by √cw */
      const PetscReal sp = sq * PetscSqrtReal(AzTermRowWeight(L, t, p0 + p));
      for (PetscInt i = p * t->nres; i < (p + 1) * t->nres; i++) L->r[i] *= sp;
      for (PetscInt i = p * t->nres * Ljet; i < (p + 1) * t->nres * Ljet; i++) L->D[i] *= sp;
    }
    PetscScalar      *N  = L->ncompN != L->ncomp ? L->nD : L->D;
    PetscCall(AzChainAdjoint(L->chain, -1, &a, t->nres, L->D, N, R ? L->E : NULL)); /* ∂ρ/∂u -> ∂ρ/∂network, ∂ρ/∂side */
    PetscCall(AzFieldResidualJacobian(L->field, nc, x, t->nres, N, L->Jrows));
    for (PetscInt p = 0; p < nc && AzInferReads(L, t); p++) { /* the inferred parameters' columns: ∂ρ/∂s */
      const PetscReal sp = sq * PetscSqrtReal(AzTermRowWeight(L, t, p0 + p));
      PetscCall(AzInferRows(L, t, x + p * L->ncoord, L->jets + p * Ljet, L->Pd));
      for (PetscInt i = 0; i < t->nres; i++)
        for (PetscInt k = 0; k < L->ninfer; k++) L->Jrows[(size_t)(p * t->nres + i) * P + L->nnet + k] = sp * L->Pd[i * L->ninfer + k];
    }
    for (PetscInt i = 0; i < nc * t->nres && R; i++) { /* + ∂ρ/∂c ∂c/∂θ of the row's slice */
      const PetscScalar *Gj = AzChainSideMap(L->chain)->side_jac + (size_t)AzTermSideSlice(t, p0 + i / t->nres) * R * P;
      for (PetscInt r = 0; r < R; r++)
        if (L->E[i * R + r] != 0) cblas_daxpy((int)P, L->E[i * R + r], Gj + (size_t)r * P, 1, L->Jrows + (size_t)i * P, 1);
    }
    PetscCall(fn(L, g, nc * t->nres, L->r, L->Jrows, ctx));
  }
  PetscCall(VecRestoreArrayRead(t->x, &xa));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* ---- matrix-free Gauss–Newton: ρ and D = ∂ρ/∂(network jets) at the linearisation point ----------- */
static PetscErrorCode LocalPoints(AzLoss L, AzTerm *t, PetscInt *nloc)
{
  PetscFunctionBegin;
  PetscCall(VecGetLocalSize(t->x, nloc));
  *nloc /= L->ncoord;
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode Linearize(AzLoss L, AzTerm *t, PetscInt g, PetscReal *sumsq)
{
  const PetscInt     LjetN = L->LjetN, R = AzChainSideSize(L->chain);
  const PetscReal    sq    = PetscSqrtReal(t->w / ((PetscReal)t->n * t->nres));
  const PetscScalar *xa;
  PetscInt           nloc, lo, np;

  PetscFunctionBegin;
  *sumsq = 0;
  PetscCall(LocalPoints(L, t, &nloc));
  if (!t->lin_rho) PetscCall(PetscMalloc3((size_t)PetscMax(nloc, 1) * t->nres, &t->lin_rho, (size_t)PetscMax(nloc, 1) * t->nres * LjetN, &t->lin_D, (size_t)PetscMax(nloc, 1) * LjetN, &t->lin_jet));
  if (R && !t->lin_E) PetscCall(PetscMalloc1((size_t)PetscMax(nloc, 1) * t->nres * R, &t->lin_E));
  if (AzInferReads(L, t) && !t->lin_P) PetscCall(PetscMalloc1((size_t)PetscMax(nloc, 1) * t->nres * L->ninfer, &t->lin_P));
  AzLossGroupItems(L, t->n, g, &lo, &np);
  PetscCall(VecGetArrayRead(t->x, &xa));
  for (PetscInt p0 = lo; p0 < lo + np; p0 += L->chunk) {
    const PetscInt    nc = PetscMin(L->chunk, lo + np - p0);
    const PetscReal  *x  = (const PetscReal *)xa + p0 * L->ncoord;
    const AzChainArgs a  = Args(L, t, p0, nc, x);
    PetscScalar      *E  = R ? t->lin_E + (size_t)p0 * t->nres * R : NULL, *D = t->lin_D + (size_t)p0 * t->nres * LjetN;

    PetscCall(AzLossTermSolution(L, t, p0, nc, x, L->jets));
    PetscCall(Residuals(L, t, p0, nc, x, L->D)); /* ∂r/∂u, solution side */
    PetscCall(AzChainAdjoint(L->chain, -1, &a, t->nres, L->D, D, E));
    for (PetscInt p = 0; p < nc; p++) { /* ρ = √(w cw / m) r */
      const PetscReal sp = sq * PetscSqrtReal(AzTermRowWeight(L, t, p0 + p));
      for (PetscInt i = p * t->nres * R; i < (p + 1) * t->nres * R; i++) E[i] *= sp;
      for (PetscInt i = p * t->nres; i < (p + 1) * t->nres; i++) {
        t->lin_rho[p0 * t->nres + i] = sp * L->r[i];
        *sumsq += PetscSqr(sp * L->r[i]);
      }
      for (PetscInt i = p * t->nres * LjetN; i < (p + 1) * t->nres * LjetN; i++) D[i] *= sp;
      if (AzInferReads(L, t)) {
        PetscScalar *Pp = t->lin_P + (size_t)(p0 + p) * t->nres * L->ninfer;
        PetscCall(AzInferRows(L, t, x + p * L->ncoord, L->jets + p * L->ncomp * L->nslot, Pp));
        for (PetscInt i = 0; i < t->nres * L->ninfer; i++) Pp[i] *= sp;
      }
    }
  }
  PetscCall(VecRestoreArrayRead(t->x, &xa));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* out = J v at every local row: D · (∂jets/∂θ) v, the field's chunks starting at each group's first point */
static PetscErrorCode Tangent(AzLoss L, AzTerm *t, Vec v, PetscScalar out[])
{
  const PetscInt     Ljet = L->LjetN, R = AzChainSideSize(L->chain); /* network side */
  const PetscScalar *xa, *cdot = R ? AzChainSideMap(L->chain)->side_dot : NULL;
  PetscScalar        vs[AZ_MAX_PARAMS];
  PetscInt           nloc;

  PetscFunctionBegin;
  PetscCall(LocalPoints(L, t, &nloc));
  PetscCall(VecGetArrayRead(t->x, &xa));
  for (PetscInt g = L->g0; g < L->g1; g++) {
    PetscInt lo, np;
    AzLossGroupItems(L, t->n, g, &lo, &np);
    PetscCall(AzFieldJetsTangent(L->field, np, (const PetscReal *)xa + lo * L->ncoord, v, t->lin_jet + (size_t)lo * Ljet));
  }
  PetscCall(VecRestoreArrayRead(t->x, &xa));
  if (AzInferReads(L, t)) {
    const PetscScalar *va;
    PetscCall(VecGetArrayRead(v, &va));
    for (PetscInt k = 0; k < L->ninfer; k++) vs[k] = va[L->nnet + k];
    PetscCall(VecRestoreArrayRead(v, &va));
  }
  for (PetscInt p = 0; p < nloc; p++)
    for (PetscInt i = 0; i < t->nres; i++) {
      const PetscScalar *Di = t->lin_D + ((size_t)p * t->nres + i) * Ljet;
      const PetscScalar *jd = t->lin_jet + (size_t)p * Ljet;
      PetscScalar        s  = 0;
      for (PetscInt q = 0; q < Ljet; q++)
        if (Di[q] != 0) s += Di[q] * jd[q]; /* slots not requested hold NaN in jd and 0 in D */
      for (PetscInt r = 0; r < R; r++) s += t->lin_E[((size_t)p * t->nres + i) * R + r] * cdot[AzTermSideSlice(t, p) * R + r];
      if (AzInferReads(L, t))
        for (PetscInt k = 0; k < L->ninfer; k++) s += t->lin_P[((size_t)p * t->nres + i) * L->ninfer + k] * vs[k];
      out[p * t->nres + i] = s;
    }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* jetbar_p = Σ_i w_i D_i for the points of a chunk (and the side adjoints += Σ_i w_i E_i) */
typedef struct {
  AzLoss             L;
  AzTerm            *t;
  const PetscScalar *w;   /* per local row */
  PetscInt           off; /* the first point's local index */
} RowsAdjointCtx;

static PetscErrorCode RowsAdjoint(void *ptr, PetscInt p0, PetscInt np, const PetscScalar jets[], PetscScalar jetbar[])
{
  RowsAdjointCtx *c = (RowsAdjointCtx *)ptr;
  AzTerm         *t = c->t;
  const PetscInt  L = c->L->LjetN, nr = t->nres, R = AzChainSideSize(c->L->chain);

  PetscFunctionBegin;
  (void)jets;
  p0 += c->off; /* local point index */
  for (PetscInt p = 0; p < np; p++) {
    PetscScalar *jb = jetbar + p * L;
    for (PetscInt s = 0; s < L; s++) jb[s] = 0;
    for (PetscInt i = 0; i < nr; i++) {
      const PetscScalar  wi = c->w[(p0 + p) * nr + i];
      const PetscScalar *Di = t->lin_D + ((size_t)(p0 + p) * nr + i) * L;
      for (PetscInt s = 0; s < L; s++) jb[s] += wi * Di[s];
      if (R) {
        const PetscScalar *Ei = t->lin_E + ((size_t)(p0 + p) * nr + i) * R;
        PetscScalar       *cb = AzChainSideMap(c->L->chain)->side_bar + AzTermSideSlice(t, p0 + p) * R;
        for (PetscInt r = 0; r < R; r++) cb[r] += wi * Ei[r];
      }
    }
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode Adjoint(AzLoss L, AzTerm *t, PetscInt g, const PetscScalar w[], Vec grad)
{
  const PetscScalar *xa;
  PetscInt           lo, np;
  RowsAdjointCtx     c;

  PetscFunctionBegin;
  AzLossGroupItems(L, t->n, g, &lo, &np);
  c.L   = L;
  c.t   = t;
  c.w   = w;
  c.off = lo;
  PetscCall(VecGetArrayRead(t->x, &xa));
  PetscCall(AzFieldJetsVJP(L->field, np, (const PetscReal *)xa + lo * L->ncoord, RowsAdjoint, &c, grad));
  PetscCall(VecRestoreArrayRead(t->x, &xa));
  if (AzInferReads(L, t)) {
    PetscScalar pg[AZ_MAX_PARAMS] = {0};
    for (PetscInt i = lo * t->nres; i < (lo + np) * t->nres; i++)
      for (PetscInt k = 0; k < L->ninfer; k++) pg[k] += w[i] * t->lin_P[(size_t)i * L->ninfer + k];
    PetscCall(AddParamGradient(L, pg, grad));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* λ ← λ + μ r at every local residual (an inequality g ≥ 0: λ ← max(0, λ − μg)); *vmax = max |r| (max(0, −g)) */
static PetscErrorCode UpdateMultipliers(AzLoss L, AzTerm *t, PetscReal *vmax)
{
  const PetscScalar *xa;
  PetscInt           nloc;
  PetscReal          v = 0;

  PetscFunctionBegin;
  PetscCall(LocalPoints(L, t, &nloc));
  PetscCall(VecGetArrayRead(t->x, &xa));
  for (PetscInt p0 = 0; p0 < nloc; p0 += L->chunk) {
    const PetscInt   nc = PetscMin(L->chunk, nloc - p0);
    const PetscReal *x  = (const PetscReal *)xa + p0 * L->ncoord;
    PetscCall(AzLossTermSolution(L, t, p0, nc, x, L->jets));
    PetscCall(Residuals(L, t, p0, nc, x, NULL)); /* r + λ/μ; for an inequality min(g − λ/μ, 0) */
    for (PetscInt i = 0; i < nc * t->nres; i++) {
      PetscScalar *lam = &t->lambda[p0 * t->nres + i];
      if (t->inequality) {
        /* where r < 0, g = r + λ/μ; elsewhere g ≥ λ/μ ≥ 0 */
        if (PetscRealPart(L->r[i]) < 0) v = PetscMax(v, PetscMax(0, -PetscRealPart(L->r[i] + *lam / t->mu)));
        *lam = -t->mu * L->r[i];
      } else {
        const PetscScalar r = L->r[i] - *lam / t->mu;
        v                   = PetscMax(v, PetscAbsScalar(r));
        *lam += t->mu * r;
      }
    }
  }
  PetscCall(VecRestoreArrayRead(t->x, &xa));
  PetscCall(MPIU_Allreduce(&v, vmax, 1, MPIU_REAL, MPIU_MAX, L->comm));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode LocalRows(AzLoss L, AzTerm *t, PetscInt *nrows)
{
  PetscFunctionBegin;
  PetscCall(LocalPoints(L, t, nrows));
  *nrows *= t->nres;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* point-major: the rows of global point p are p·nres .. p·nres + nres − 1 */
static PetscErrorCode RowIndex(AzLoss L, AzTerm *t, PetscInt i, PetscInt *global)
{
  PetscInt start, end;

  PetscFunctionBegin;
  PetscCall(VecGetOwnershipRange(t->x, &start, &end));
  *global = start / L->ncoord * t->nres + i;
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode Destroy(AzTerm *t)
{
  PetscFunctionBegin;
  PetscCall(VecDestroy(&t->x));
  PetscCall(VecDestroy(&t->obs));
  PetscCall(PetscFree3(t->lin_rho, t->lin_D, t->lin_jet));
  PetscCall(PetscFree(t->lin_w));
  PetscCall(PetscFree(t->lambda));
  PetscCall(PetscFree(t->group));
  PetscCall(PetscFree(t->lin_E));
  PetscCall(PetscFree(t->lin_P));
  PetscCall(PetscFree(t->cslice));
  PetscCall(PetscFree(t->rw));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static const AzTermOps ops = {"points", LocalRows, RowIndex, Evaluate, Rows, Linearize, Tangent, Adjoint, UpdateMultipliers, Destroy};

/* times to the midpoints of -az_time_slices equal slices (none: unchanged): the points share few times */
PetscErrorCode AzLossSnapTimes(AzLoss L, Vec x)
{
  const AzProblemInfo *info;
  PetscScalar         *xa;
  PetscInt             nloc;

  PetscFunctionBegin;
  PetscCall(AzProblemGetInfo(L->prob, &info));
  if (L->time_slices <= 0 || !info->time_dependent) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(VecGetLocalSize(x, &nloc));
  PetscCall(VecGetArray(x, &xa));
  for (PetscInt p = 0; p < nloc / L->ncoord; p++) {
    PetscScalar *tp = &xa[p * L->ncoord + L->ncoord - 1];
    PetscInt     s  = (PetscInt)PetscFloorReal((PetscRealPart(*tp) - info->t0) / (info->t1 - info->t0) * L->time_slices);
    s               = PetscMax(0, PetscMin(s, L->time_slices - 1));
    *tp             = info->t0 + (info->t1 - info->t0) * (s + 0.5) / L->time_slices;
  }
  PetscCall(VecRestoreArray(x, &xa));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzPointTermResidualNorms(AzLoss L, AzTerm *t, Vec xv, PetscInt n, PetscReal out[])
{
  const PetscScalar *xa;

  PetscFunctionBegin;
  PetscCall(VecGetArrayRead(xv, &xa));
  for (PetscInt g = L->g0; g < L->g1; g++) {
    PetscInt lo, np;
    AzLossGroupItems(L, n, g, &lo, &np);
    for (PetscInt p0 = lo; p0 < lo + np; p0 += L->chunk) {
      const PetscInt    nc = PetscMin(L->chunk, lo + np - p0);
      const PetscReal  *x  = (const PetscReal *)xa + p0 * L->ncoord;
      const AzChainArgs a  = {nc, x, NULL, 1, L->mask, PETSC_FALSE, PETSC_TRUE, PETSC_FALSE};

      PetscCall(AzChainForward(L->chain, -1, &a, NULL, L->jets));
      PetscCall(Residuals(L, t, p0, nc, x, NULL));
      for (PetscInt p = 0; p < nc; p++) {
        PetscReal s = 0;
        for (PetscInt i = p * t->nres; i < (p + 1) * t->nres; i++) s += PetscRealPart(L->r[i] * L->r[i]);
        out[p0 + p] = PetscSqrtReal(s);
      }
    }
  }
  PetscCall(VecRestoreArrayRead(xv, &xa));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* ---- the point terms of a loss: the PDE, the faces and the initial slice with a condition (none for
 * those imposed exactly), the positivity penalty, the data ------------------------------------------ */
static PetscErrorCode AddConditions(AzLoss L)
{
  const AzProblemInfo *info;
  const char           axes[] = "xyz";

  PetscFunctionBegin;
  PetscCall(AzProblemGetInfo(L->prob, &info));
  for (PetscInt cond = AZ_COND_INTERIOR; cond <= AZ_COND_INITIAL; cond++) {
    AzTerm  *t = &L->term[L->nterms];
    PetscInt nres;

    if (cond >= 2 * info->dim && cond != AZ_COND_INITIAL) continue;
    PetscCall(AzProblemGetNumResiduals(L->prob, cond, &nres));
    if (!nres) continue;
    if (L->transform && cond != AZ_COND_INTERIOR) {
      PetscBool hard;
      PetscCall(AzTransformIsHard(L->transform, cond, &hard));
      if (hard) continue; /* imposed exactly: no term */
    }
    t->ops      = &ops;
    t->residual = PluginResidual;
    t->cond     = cond;
    t->nres     = nres;
    if (cond == AZ_COND_INTERIOR) {
      PetscCall(PetscStrncpy(t->name, "pde", sizeof t->name));
      t->n = L->n_interior;
      t->w = L->w_interior;
    } else if (cond == AZ_COND_INITIAL) {
      PetscCall(PetscStrncpy(t->name, "initial", sizeof t->name));
      t->n = L->n_initial;
      t->w = L->w_initial;
    } else {
      snprintf(t->name, sizeof t->name, "bc_%c%s", axes[cond / 2], cond % 2 ? "1" : "0");
      /* a face of a 1-D steady problem is a single point */
      t->n = (L->ncoord == 1) ? 1 : L->n_boundary;
      t->w = L->w_boundary;
    }
    t->ctype = AZ_CON_SOFT;
    if (cond != AZ_COND_INTERIOR) t->ctype = cond == AZ_COND_INITIAL ? L->con_initial : L->con_face[cond];
    t->w0 = t->w;
    /* a grid needs a perfect power: round the count to the nearest one */
    if (L->type == AZ_SAMPLE_GRID) {
      PetscInt d = L->ncoord - (cond == AZ_COND_INTERIOR ? 0 : 1), m, mm = 1;
      if (d > 0) {
        m = (PetscInt)PetscFloorReal(PetscPowReal((PetscReal)t->n, 1.0 / d) + 0.5);
        for (PetscInt k = 0; k < d; k++) mm *= PetscMax(m, 1);
        t->n = mm;
      }
    }
    PetscCall(AzSampleConditionLocal(L->comm, L->prob, cond, L->type, t->n, AzLossGroupsLocalSize(L, t->n), L->seed, &t->x));
    if (cond != AZ_COND_INITIAL) PetscCall(AzLossSnapTimes(L, t->x));
    PetscCall(AzLossConstraintSetUpTerm(L, t));
    L->nterms++;
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* a penalty on inequalities of the solution at the interior points: min(u_c, 0) for the positive
 * components (-az_positivity), min(u_c − a_c, 0) and max(u_c − b_c, 0) for the bounded ones (-az_bounds) */
static PetscErrorCode AddInequality(AzLoss L, PetscBool bounds)
{
  const AzProblemInfo *info;
  AzTerm              *t    = &L->term[L->nterms];
  AzPositivityType     type = bounds ? L->bounds : L->positivity;

  PetscFunctionBegin;
  if (type == AZ_POSITIVE_NONE || type == AZ_POSITIVE_HARD) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(AzProblemGetInfo(L->prob, &info));
  PetscCheck(L->nterms > 0 && L->term[0].cond == AZ_COND_INTERIOR, L->comm, PETSC_ERR_PLIB, "%s penalty: no interior term", bounds ? "bounds" : "positivity");
  PetscCall(PetscStrncpy(t->name, bounds ? "bounds" : "positive", sizeof t->name));
  t->ops        = &ops;
  t->residual   = bounds ? BoundsResidual : PositiveResidual;
  t->inequality = PETSC_TRUE;
  t->cond       = AZ_TERM_NO_CONDITION;
  t->nres       = 0;
  for (PetscInt c = 0; c < L->ncomp; c++) t->nres += bounds ? (info->bounded[c] ? 2 : 0) : (info->positive[c] ? 1 : 0);
  PetscCheck(t->nres > 0, L->comm, PETSC_ERR_ARG_WRONG, "-az_%s %s: problem %s declares no %s component (%s in its descriptor)", bounds ? "bounds" : "positivity", AzPositivityTypes[type], info->name, bounds ? "bounded" : "positive", bounds ? ".bounded" : ".positive");
  t->n = L->term[0].n;
  t->w = t->w0 = bounds ? L->w_bounds : L->w_positive;
  t->ctype     = bounds ? AzBoundsPenaltyType(L) : AzPositivityPenaltyType(L);
  t->x         = L->term[0].x;
  PetscCall(PetscObjectReference((PetscObject)t->x));
  PetscCall(AzLossConstraintSetUpTerm(L, t));
  L->nterms++;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* r_c = √w_c (u_c − u_obs,c)/σ_c at the observations of -az_data (σ: -az_data_noise, w: -az_data_weights) */
static PetscErrorCode AddData(AzLoss L)
{
  AzTerm *t = &L->term[L->nterms];

  PetscFunctionBegin;
  if (!L->data_file[0]) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(PetscStrncpy(t->name, "data", sizeof t->name));
  t->ops      = &ops;
  t->residual = DataResidual;
  t->cond     = AZ_TERM_NO_CONDITION;
  t->nres     = L->ncomp;
  t->w        = L->w_data;
  PetscCall(AzDataRead(L, t));
  L->data_n = t->n;
  L->nterms++;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* -az_moe_blend interface: the jumps of the experts' solutions and their derivatives along x_0 at points
 * on the cuts (map_hardpde.c places them) */
static PetscErrorCode AddInterface(AzLoss L)
{
  AzTerm *t = &L->term[L->nterms];

  PetscFunctionBegin;
  if (!L->hardpde || !L->moe_interface) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(PetscStrncpy(t->name, "interface", sizeof t->name));
  t->ops      = &ops;
  t->residual = JumpResidual;
  t->jump     = PETSC_TRUE;
  t->cond     = AZ_TERM_NO_CONDITION;
  t->w = t->w0 = L->w_interface;
  t->ctype     = AZ_CON_SOFT;
  PetscCall(AzHardPDEInterfacePoints(L, &t->n, &t->nres, &t->x));
  L->nterms++;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzPointTermsAdd(AzLoss L)
{
  PetscFunctionBegin;
  PetscCall(AddConditions(L));
  PetscCall(AddInequality(L, PETSC_FALSE));
  PetscCall(AddInequality(L, PETSC_TRUE));
  PetscCall(AddData(L));
  PetscCall(AddInterface(L));
  PetscFunctionReturn(PETSC_SUCCESS);
}
