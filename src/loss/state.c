/* The constraint strategies' state (weights, penalties, multipliers) in checkpoints, in an order that
 * does not depend on the rank count. */
#include "lossimpl.h"

/* The strategies' state, for checkpoints: [nterms, then per term w, μ, violation, m, then the m
 * multipliers in global order (point-major)]. The global order does not depend on the rank count. */
PetscErrorCode AzLossConstraintStateSave(AzLoss L, Vec *state)
{
  PetscMPIInt rank;
  PetscInt    total = 1;
  PetscScalar *buf = NULL;

  PetscFunctionBegin;
  PetscCall(AzLossSetUp(L));
  PetscCallMPI(MPI_Comm_rank(L->comm, &rank));
  for (PetscInt k = 0; k < L->nterms; k++) total += 4 + (L->term[k].lambda ? L->term[k].n * L->term[k].nres : 0);
  if (L->causal) total += 1 + L->causal_m; /* causal training: the index of ε, the weights */
  *state = NULL;
  if (rank == 0) {
    PetscCall(VecCreateSeq(PETSC_COMM_SELF, total, state));
    PetscCall(VecGetArray(*state, &buf));
    buf[0] = L->nterms;
  }
  for (PetscInt k = 0, off = 1; k < L->nterms; k++) {
    AzTerm      *t = &L->term[k];
    PetscInt     nr, m = t->lambda ? t->n * t->nres : 0;
    PetscScalar *all;
    if (rank == 0) {
      buf[off]     = t->w;
      buf[off + 1] = t->mu;
      buf[off + 2] = t->violation;
      buf[off + 3] = m;
    }
    off += 4;
    if (!m) continue;
    /* each row's multiplier at its global index; every row has one owner, the others add zeros */
    PetscCall(PetscCalloc1(m, &all));
    PetscCall(t->ops->local_rows(L, t, &nr));
    for (PetscInt i = 0; i < nr; i++) {
      PetscInt gi;
      PetscCall(t->ops->row_index(L, t, i, &gi));
      all[gi] = t->lambda[i];
    }
    PetscCallMPI(MPI_Reduce(all, rank == 0 ? buf + off : NULL, (PetscMPIInt)m, MPIU_SCALAR, MPIU_SUM, 0, L->comm));
    PetscCall(PetscFree(all));
    off += m;
  }
  if (rank == 0 && L->causal) {
    buf[total - 1 - L->causal_m] = L->causal_k;
    for (PetscInt i = 0; i < L->causal_m; i++) buf[total - L->causal_m + i] = L->causal_w[i];
  }
  if (rank == 0) PetscCall(VecRestoreArray(*state, &buf));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzLossConstraintStateLoad(AzLoss L, Vec state)
{
  const PetscScalar *buf;
  PetscInt           n, off = 1;

  PetscFunctionBegin;
  PetscCall(AzLossSetUp(L));
  PetscCall(VecGetSize(state, &n));
  PetscCall(VecGetArrayRead(state, &buf));
  PetscCheck(n >= 1 && (PetscInt)PetscRealPart(buf[0]) == L->nterms, L->comm, PETSC_ERR_FILE_UNEXPECTED, "The checkpoint's constraint state is for %d terms, this loss has %" PetscInt_FMT ": restart with the same problem and strategy options", n >= 1 ? (int)PetscRealPart(buf[0]) : -1, L->nterms);
  for (PetscInt k = 0; k < L->nterms; k++) {
    AzTerm  *t = &L->term[k];
    PetscInt m = t->lambda ? t->n * t->nres : 0;
    PetscCheck(off + 4 <= n && (PetscInt)PetscRealPart(buf[off + 3]) == m && off + 4 + m <= n, L->comm, PETSC_ERR_FILE_UNEXPECTED, "The checkpoint's constraint state does not match term %s (strategy or point count changed?)", t->name);
    t->w         = PetscRealPart(buf[off]);
    t->mu        = PetscRealPart(buf[off + 1]);
    t->violation = PetscRealPart(buf[off + 2]);
    off += 4;
    if (!m) continue;
    {
      PetscInt nr;
      PetscCall(t->ops->local_rows(L, t, &nr));
      for (PetscInt i = 0; i < nr; i++) {
        PetscInt gi;
        PetscCall(t->ops->row_index(L, t, i, &gi));
        t->lambda[i] = buf[off + gi];
      }
    }
    off += m;
  }
  if (L->causal) {
    PetscCheck(off + 1 + L->causal_m == n && PetscRealPart(buf[off]) >= 0 && PetscRealPart(buf[off]) < L->causal_neps, L->comm, PETSC_ERR_FILE_UNEXPECTED, "The checkpoint's constraint state has no causal state for %" PetscInt_FMT " slices and %" PetscInt_FMT " eps values: restart with the same -az_causal options", L->causal_m, L->causal_neps);
    L->causal_k = (PetscInt)PetscRealPart(buf[off]);
    for (PetscInt i = 0; i < L->causal_m; i++) L->causal_w[i] = PetscRealPart(buf[off + 1 + i]);
  } else PetscCheck(off == n, L->comm, PETSC_ERR_FILE_UNEXPECTED, "The checkpoint's constraint state holds %" PetscInt_FMT " values more than this loss's: it was written with -az_causal 1; restart with the same options", n - off);
  PetscCall(VecRestoreArrayRead(state, &buf));
  PetscFunctionReturn(PETSC_SUCCESS);
}
