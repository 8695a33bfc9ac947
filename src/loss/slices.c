/* Time slices: the distinct collocation times of every term over all ranks, and each local point's
 * slice. The projection in training and the conservation penalties work slice by slice. */
#include "lossimpl.h"

static int CompareReal(const void *a, const void *b)
{
  const PetscReal x = *(const PetscReal *)a, y = *(const PetscReal *)b;
  return x < y ? -1 : (x > y ? 1 : 0);
}

static PetscInt SortUnique(PetscInt n, PetscReal v[])
{
  PetscInt m = 0;
  qsort(v, (size_t)n, sizeof(PetscReal), CompareReal);
  for (PetscInt i = 0; i < n; i++)
    if (!m || v[i] != v[m - 1]) v[m++] = v[i];
  return m;
}

/* whether a term's times are slices: observation times only when the projection in training needs c
 * there (a penalty's slices are the sampled terms') */
static PetscBool Grouped(AzLoss L, const AzTerm *t)
{
  return !t->obs || AzProjectionInTraining(L) ? PETSC_TRUE : PETSC_FALSE;
}

/* the distinct times of every term's points over all ranks, and each local point's slice */
PetscErrorCode AzLossSlicesSetUp(AzLoss L)
{
  AzProjection *P = &L->proj;
  PetscInt      nloc = 0, m, tidx = L->ncoord - 1;
  PetscReal    *tl, *all;
  PetscMPIInt   size, *counts, *displs, mm;
  const PetscInt max_slices = 8192;

  PetscFunctionBegin;
  for (PetscInt k = 0; k < L->nterms; k++) {
    PetscInt n;
    if (!Grouped(L, &L->term[k])) continue;
    PetscCall(VecGetLocalSize(L->term[k].x, &n));
    nloc += n / L->ncoord;
  }
  PetscCall(PetscMalloc1(PetscMax(nloc, 1), &tl));
  nloc = 0;
  for (PetscInt k = 0; k < L->nterms; k++) {
    const PetscScalar *xa;
    PetscInt           n;
    if (!Grouped(L, &L->term[k])) continue;
    PetscCall(VecGetLocalSize(L->term[k].x, &n));
    PetscCall(VecGetArrayRead(L->term[k].x, &xa));
    for (PetscInt p = 0; p < n / L->ncoord; p++) tl[nloc++] = PetscRealPart(xa[p * L->ncoord + tidx]);
    PetscCall(VecRestoreArrayRead(L->term[k].x, &xa));
  }
  m = SortUnique(nloc, tl);
  PetscCallMPI(MPI_Comm_size(L->comm, &size));
  PetscCall(PetscMalloc2(size, &counts, size, &displs));
  mm = (PetscMPIInt)PetscMin(m, max_slices + 1);
  PetscCallMPI(MPI_Allgather(&mm, 1, MPI_INT, counts, 1, MPI_INT, L->comm));
  displs[0] = 0;
  for (PetscMPIInt r = 1; r < size; r++) displs[r] = displs[r - 1] + counts[r - 1];
  PetscCall(PetscMalloc1(PetscMax(displs[size - 1] + counts[size - 1], 1), &all));
  PetscCallMPI(MPI_Allgatherv(tl, mm, MPIU_REAL, all, counts, displs, MPIU_REAL, L->comm));
  P->ng = SortUnique(displs[size - 1] + counts[size - 1], all);
  PetscCall(PetscFree2(counts, displs));
  PetscCall(PetscFree(tl));
  PetscCheck(P->ng <= max_slices, L->comm, PETSC_ERR_ARG_OUTOFRANGE,
             "Projecting a conservation law in training or penalising one evaluates the network at the quadrature nodes of every distinct collocation time, and these points have more than %" PetscInt_FMT " distinct times: put them on time slices with -az_time_slices N (for example 100)", max_slices);
  PetscCall(PetscMalloc1(P->ng, &P->gt));
  PetscCall(PetscArraycpy(P->gt, all, P->ng));
  PetscCall(PetscFree(all));
  PetscCall(PetscCalloc3((size_t)P->ng * P->nk * P->nlaw, &P->gc, (size_t)P->ng * P->nk * P->nlaw, &P->gcbar, (size_t)P->ng * P->nk * P->nlaw, &P->gcdot));
  for (PetscInt k = 0; k < L->nterms; k++) {
    AzTerm            *t = &L->term[k];
    const PetscScalar *xa;
    PetscInt           n;
    if (!Grouped(L, t)) continue;
    PetscCall(VecGetLocalSize(t->x, &n));
    n /= L->ncoord;
    PetscCall(PetscMalloc1(PetscMax(n, 1), &t->group));
    PetscCall(VecGetArrayRead(t->x, &xa));
    for (PetscInt p = 0; p < n; p++) {
      const PetscReal tp = PetscRealPart(xa[p * L->ncoord + tidx]);
      PetscInt        lo = 0, hi = P->ng - 1;
      while (lo < hi) {
        PetscInt mid = (lo + hi) / 2;
        if (P->gt[mid] < tp) lo = mid + 1;
        else hi = mid;
      }
      t->group[p] = lo;
    }
    PetscCall(VecRestoreArrayRead(t->x, &xa));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

