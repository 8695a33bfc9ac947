/* The matrix-free Gauss–Newton operator of the loss: v ↦ JᵀJ v with J = ∂ρ/∂θ, never formed.
 * At a linearisation point the scaled residuals ρ and their jet derivatives D = ∂ρ/∂jet are stored
 * per local point (rows × ncomp·nslot numbers, a few per point); then
 *   J v  = D · (∂jets/∂θ) v      (one tangent pass, AzFieldJetsTangent)
 *   Jᵀ w = (∂jets/∂θ)ᵀ (Dᵀ w)    (one reverse pass, AzFieldJetsVJP)
 * and JᵀJ v is summed group by group in a fixed order (reduce.c), so every rank holds the same result,
 * whatever the rank count. */
#include "lossimpl.h"

/* the linearisation data of owned group g's points of every term, Σ ρ² into extra[0] */
static PetscErrorCode LinearizeGroup(AzLoss L, PetscInt g, Vec grad, PetscScalar extra[], void *ctx)
{
  const PetscInt Ljet = L->ncomp * L->nslot, LjetN = L->LjetN;
  PetscReal      sum  = 0;

  PetscFunctionBegin;
  (void)grad, (void)ctx;
  for (PetscInt k = 0; k < L->nterms; k++) {
    AzTerm            *t = &L->term[k];
    const PetscScalar *xa;
    PetscInt           nloc, lo, np;
    const PetscReal    sq = PetscSqrtReal(t->w / ((PetscReal)t->n * t->nres));
    const PetscInt     R  = AzProjectionInTraining(L) ? L->proj.nk * L->proj.nlaw : 0;

    if (t->cond == AZ_COND_LAW) { /* ρ of the group's slices and their node data */
      PetscReal s;
      PetscCall(AzLawTermLinearize(L, t, g, &s));
      sum += s;
      continue;
    }
    PetscCall(VecGetLocalSize(t->x, &nloc));
    nloc /= L->ncoord;
    if (!t->lin_rho) PetscCall(PetscMalloc3((size_t)PetscMax(nloc, 1) * t->nres, &t->lin_rho, (size_t)PetscMax(nloc, 1) * t->nres * LjetN, &t->lin_D, (size_t)PetscMax(nloc, 1) * LjetN, &t->lin_jet));
    if (R && !t->lin_E) PetscCall(PetscMalloc1((size_t)PetscMax(nloc, 1) * t->nres * R, &t->lin_E));
    AzLossGroupItems(L, t->n, g, &lo, &np);
    PetscCall(VecGetArrayRead(t->x, &xa));
    for (PetscInt p0 = lo; p0 < lo + np; p0 += L->chunk) {
      const PetscInt   nc = PetscMin(L->chunk, lo + np - p0);
      const PetscReal *x  = (const PetscReal *)xa + p0 * L->ncoord;

      PetscCall(AzLossTermSolution(L, t, p0, nc, x, L->jets));
      PetscCall(TermResiduals(L, t, p0, nc, x, L->D)); /* ∂r/∂u, solution side */
      for (PetscInt i = 0; i < nc * t->nres && R; i++) { /* E = ∂ρ/∂c */
        PetscScalar *E = t->lin_E + ((size_t)p0 * t->nres + i) * R;
        for (PetscInt r = 0; r < R; r++) E[r] = 0;
        AzProjectionAddAdjoint(L, x + (i / t->nres) * L->ncoord, L->D + (size_t)i * Ljet, E);
        for (PetscInt r = 0; r < R; r++) E[r] *= sq;
      }
      PetscCall(AzPositivityAdjoint(L, nc, L->vjets, t->nres, L->D));
      if (L->transform) PetscCall(AzTransformAdjoint(L->transform, nc, x, t->nres, L->D));
      if (L->stream) PetscCall(AzStreamAdjoint(L->stream, nc, t->nres, L->D, t->lin_D + (size_t)p0 * t->nres * LjetN));
      else PetscCall(PetscArraycpy(t->lin_D + (size_t)p0 * t->nres * LjetN, L->D, (size_t)nc * t->nres * LjetN));
      for (PetscInt i = 0; i < nc * t->nres; i++) {
        t->lin_rho[p0 * t->nres + i] = sq * L->r[i];
        sum += PetscSqr(sq * L->r[i]);
      }
      for (PetscInt i = 0; i < nc * t->nres * LjetN; i++) t->lin_D[(size_t)p0 * t->nres * LjetN + i] *= sq;
    }
    PetscCall(VecRestoreArrayRead(t->x, &xa));
  }
  extra[0] = sum;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzLossLinearize(AzLoss L, PetscReal *value)
{
  PetscScalar v;

  PetscFunctionBegin;
  PetscCall(AzLossSetUp(L));
  PetscCall(AzProjectionUpdate(L));
  PetscCall(AzLossReduceGroups(L, LinearizeGroup, NULL, 1, &v, NULL));
  *value = PetscRealPart(v);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* jetbar_p = Σ_i w_i D_i for the points of a chunk (and c̄ += Σ_i w_i E_i when projecting) */
typedef struct {
  AzLoss             L;
  AzTerm            *t;
  PetscInt           Ljet;
  const PetscScalar *w; /* per local row */
  PetscInt           off; /* the first point's local index */
} AdjCtx;

static PetscErrorCode RowsAdjoint(void *ptr, PetscInt p0, PetscInt np, const PetscScalar jets[], PetscScalar jetbar[])
{
  AdjCtx        *c = (AdjCtx *)ptr;
  const PetscInt L = c->Ljet, nr = c->t->nres;

  PetscFunctionBegin;
  (void)jets;
  p0 += c->off; /* local point index */
  for (PetscInt p = 0; p < np; p++) {
    PetscScalar *jb = jetbar + p * L;
    for (PetscInt s = 0; s < L; s++) jb[s] = 0;
    for (PetscInt i = 0; i < nr; i++) {
      const PetscScalar  wi = c->w[(p0 + p) * nr + i];
      const PetscScalar *Di = c->t->lin_D + ((size_t)(p0 + p) * nr + i) * L;
      for (PetscInt s = 0; s < L; s++) jb[s] += wi * Di[s];
      if (c->t->lin_E && AzProjectionInTraining(c->L)) {
        const PetscInt     R  = c->L->proj.nk * c->L->proj.nlaw;
        const PetscScalar *Ei = c->t->lin_E + ((size_t)(p0 + p) * nr + i) * R;
        PetscScalar       *cb = c->L->proj.gcbar + c->t->group[p0 + p] * R;
        for (PetscInt r = 0; r < R; r++) cb[r] += wi * Ei[r];
      }
    }
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* grad += Jᵀ w over owned group g's rows (w: per local row, term by term) */
static PetscErrorCode TransposeGroup(AzLoss L, PetscInt g, Vec grad, PetscScalar extra[], void *ctx)
{
  PetscScalar *const *w = (PetscScalar *const *)ctx;

  PetscFunctionBegin;
  (void)extra;
  for (PetscInt k = 0; k < L->nterms; k++) {
    AzTerm            *t = &L->term[k];
    const PetscScalar *xa;
    PetscInt           lo, np;
    AdjCtx             c;

    if (t->cond == AZ_COND_LAW) {
      PetscCall(AzLawTermAdjoint(L, t, g, w[k], grad));
      continue;
    }
    AzLossGroupItems(L, t->n, g, &lo, &np);
    c.L    = L;
    c.t    = t;
    c.Ljet = L->LjetN; /* network side */
    c.w    = w[k];
    c.off  = lo;
    PetscCall(VecGetArrayRead(t->x, &xa));
    PetscCall(AzFieldJetsVJP(L->field, np, (const PetscReal *)xa + lo * L->ncoord, RowsAdjoint, &c, grad));
    PetscCall(VecRestoreArrayRead(t->x, &xa));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* out = Jᵀ w, summed group by group in a fixed order */
static PetscErrorCode JacobianTransposeMult(AzLoss L, PetscScalar *const w[], Vec out)
{
  PetscFunctionBegin;
  PetscCall(AzLossReduceGroups(L, TransposeGroup, (void *)w, 0, NULL, out));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzLossGNGradient(AzLoss L, Vec Jtr)
{
  PetscScalar *w[AZ_MAX_TERMS];

  PetscFunctionBegin;
  for (PetscInt k = 0; k < L->nterms; k++) w[k] = L->term[k].lin_rho;
  PetscCall(JacobianTransposeMult(L, w, Jtr));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzLossGNMult(AzLoss L, Vec v, Vec JtJv)
{
  const PetscInt Ljet = L->LjetN; /* network side */
  PetscScalar   *w[AZ_MAX_TERMS];

  PetscFunctionBegin;
  PetscCall(AzProjectionTangent(L, v));
  for (PetscInt k = 0; k < L->nterms; k++) {
    AzTerm            *t = &L->term[k];
    const PetscScalar *xa;
    PetscInt           nloc;
    const PetscInt     R = AzProjectionInTraining(L) ? L->proj.nk * L->proj.nlaw : 0;

    if (t->cond == AZ_COND_LAW) {
      PetscCall(AzLawTermTangent(L, t, v, t->lin_w));
      w[k] = t->lin_w;
      continue;
    }
    PetscCall(VecGetLocalSize(t->x, &nloc));
    nloc /= L->ncoord;
    if (!t->lin_w) PetscCall(PetscMalloc1((size_t)PetscMax(nloc, 1) * t->nres, &t->lin_w));
    PetscCall(VecGetArrayRead(t->x, &xa));
    /* (J v)_row = D_row · jetdot, group by group: the field's chunks start at a group's first point */
    for (PetscInt g = L->g0; g < L->g1; g++) {
      PetscInt lo, np;
      AzLossGroupItems(L, t->n, g, &lo, &np);
      PetscCall(AzFieldJetsTangent(L->field, np, (const PetscReal *)xa + lo * L->ncoord, v, t->lin_jet + (size_t)lo * Ljet));
    }
    PetscCall(VecRestoreArrayRead(t->x, &xa));
    for (PetscInt p = 0; p < nloc; p++)
      for (PetscInt i = 0; i < t->nres; i++) {
        const PetscScalar *Di = t->lin_D + ((size_t)p * t->nres + i) * Ljet;
        const PetscScalar *jd = t->lin_jet + (size_t)p * Ljet;
        PetscScalar        s  = 0;
        for (PetscInt q = 0; q < Ljet; q++)
          if (Di[q] != 0) s += Di[q] * jd[q]; /* slots not requested hold NaN in jd and 0 in D */
        for (PetscInt r = 0; r < R; r++) s += t->lin_E[((size_t)p * t->nres + i) * R + r] * L->proj.gcdot[t->group[p] * R + r];
        t->lin_w[p * t->nres + i] = s;
      }
    w[k] = t->lin_w;
  }
  PetscCall(JacobianTransposeMult(L, w, JtJv));
  PetscFunctionReturn(PETSC_SUCCESS);
}
