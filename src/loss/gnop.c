/* The matrix-free Gauss–Newton operator of the loss: v ↦ JᵀJ v with J = ∂ρ/∂θ, never formed.
 * At a linearisation point the scaled residuals ρ and their jet derivatives D = ∂ρ/∂jet are stored
 * per local point (rows × ncomp·nslot numbers, a few per point); then
 *   J v  = D · (∂jets/∂θ) v      (one tangent pass, AzFieldJetsTangent)
 *   Jᵀ w = (∂jets/∂θ)ᵀ (Dᵀ w)    (one reverse pass, AzFieldJetsVJP)
 * and JᵀJ v is summed group by group in a fixed order (reduce.c), so every rank holds the same result,
 * whatever the rank count. */
#include "lossimpl.h"

/* the linearisation data of owned group g's rows of every term, Σ ρ² into extra[0] */
static PetscErrorCode LinearizeGroup(AzLoss L, PetscInt g, Vec grad, PetscScalar extra[], void *ctx)
{
  PetscReal sum = 0;

  PetscFunctionBegin;
  (void)grad, (void)ctx;
  for (PetscInt k = 0; k < L->nterms; k++) {
    PetscReal s;
    PetscCall(L->term[k].ops->linearize(L, &L->term[k], g, &s));
    sum += s;
  }
  extra[0] = sum;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzLossLinearize(AzLoss L, PetscReal *value)
{
  PetscScalar v;

  PetscFunctionBegin;
  PetscCall(AzLossSetUp(L));
  PetscCall(AzChainUpdate(L->chain));
  PetscCall(AzLossReduceGroups(L, LinearizeGroup, NULL, 1, &v, NULL));
  *value = PetscRealPart(v);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* grad += Jᵀ w over owned group g's rows (w: per local row, term by term) */
static PetscErrorCode TransposeGroup(AzLoss L, PetscInt g, Vec grad, PetscScalar extra[], void *ctx)
{
  PetscScalar *const *w = (PetscScalar *const *)ctx;

  PetscFunctionBegin;
  (void)extra;
  for (PetscInt k = 0; k < L->nterms; k++) PetscCall(L->term[k].ops->adjoint(L, &L->term[k], g, w[k], grad));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzLossGNGradient(AzLoss L, Vec Jtr)
{
  PetscScalar *w[AZ_MAX_TERMS];

  PetscFunctionBegin;
  for (PetscInt k = 0; k < L->nterms; k++) w[k] = L->term[k].lin_rho;
  PetscCall(AzLossReduceGroups(L, TransposeGroup, (void *)w, 0, NULL, Jtr));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzLossGNMult(AzLoss L, Vec v, Vec JtJv)
{
  PetscScalar *w[AZ_MAX_TERMS];

  PetscFunctionBegin;
  PetscCall(AzChainSideTangent(L->chain, v));
  for (PetscInt k = 0; k < L->nterms; k++) {
    AzTerm  *t = &L->term[k];
    PetscInt nrows;
    PetscCall(t->ops->local_rows(L, t, &nrows));
    if (!t->lin_w) PetscCall(PetscMalloc1((size_t)PetscMax(nrows, 1), &t->lin_w));
    PetscCall(t->ops->tangent(L, t, v, t->lin_w));
    w[k] = t->lin_w;
  }
  PetscCall(AzLossReduceGroups(L, TransposeGroup, (void *)w, 0, NULL, JtJv));
  PetscFunctionReturn(PETSC_SUCCESS);
}
