/* Sums over points that do not depend on the number of ranks.
 *
 * Floating-point addition is not associative, so a sum over points reduced over ranks changes in its
 * last bits with the rank count, and an optimiser that follows the loss closely (L-BFGS) drifts
 * apart. Here every set of n items (a term's points in global index order, or the time slices) is
 * split into G = -az_loss_groups fixed groups, group g holding items [g n/G, (g+1) n/G); a rank owns
 * whole groups (rank r of R: groups [r G/R, (r+1) G/R)), processes each group from its first item in
 * chunks, and keeps one partial sum per group. The partials are gathered and added in group order on
 * every rank. The chunks, the BLAS calls on them and the order of every addition are then functions
 * of global indices alone: a run gives the same bits on any number of ranks up to G.
 *
 * Dense JᵀJ is too large to gather per group: there each group's matrix S_g is folded exactly into an
 * accumulator whose sum does not depend on the order (pre-rounding, as in Demmel and Nguyen's
 * reproducible summation, fold.c): with the total diagonal D, Σ_g |S_g,ij| ≤ √(D_i D_j) (Cauchy–
 * Schwarz), so for the power of two M_ij = m_i m_j > 4 √(D_i D_j), q = (M + x) − M is x rounded to a
 * multiple of ulp(M), exactly; the q's of all groups add up exactly in any order (all are multiples
 * of ulp(M) and their sum stays below M), so an MPI sum of the accumulators is exact too. Each group
 * entry is rounded once, by at most ulp(M)/2 ≤ 2⁻⁴⁹ √(D_i D_j): about the rounding error of the rank-k
 * update that computed it (its rows times 2⁻⁵³ √(D_i D_j) at worst), so JᵀJ stays as accurate as a
 * plain sum. One fold per group and entry costs about 5% of a Gauss–Newton iteration's time on
 * Burgers (bench/README.md); a second fold of the remainder x − q would keep ~90 bits, at twice that. */
#include "lossimpl.h"

PetscErrorCode AzLossGroupsSetUp(AzLoss L)
{
  PetscMPIInt rank, size;

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_rank(L->comm, &rank));
  PetscCallMPI(MPI_Comm_size(L->comm, &size));
  L->g0 = AzGroupStart(L->ngroups, size, rank);
  L->g1 = AzGroupStart(L->ngroups, size, rank + 1);
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscInt AzLossGroupsLocalSize(AzLoss L, PetscInt n)
{
  return AzGroupStart(n, L->ngroups, L->g1) - AzGroupStart(n, L->ngroups, L->g0);
}

void AzLossGroupItems(AzLoss L, PetscInt n, PetscInt g, PetscInt *lo, PetscInt *cnt)
{
  const PetscInt G = L->ngroups;

  *lo  = AzGroupStart(n, G, g) - AzGroupStart(n, G, L->g0);
  *cnt = AzGroupStart(n, G, g + 1) - AzGroupStart(n, G, g);
}

PetscErrorCode AzLossGroupSum(AzLoss L, PetscInt n, const PetscScalar part[], PetscScalar out[])
{
  PetscMPIInt  size, *counts, *displs;
  PetscScalar *all;
  const PetscInt G = L->ngroups;

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_size(L->comm, &size));
  PetscCheck((PetscInt64)G * n < PETSC_MPI_INT_MAX, L->comm, PETSC_ERR_ARG_OUTOFRANGE, "%" PetscInt_FMT " groups of %" PetscInt_FMT " partial sums are too many for one MPI message: use fewer -az_loss_groups", G, n);
  PetscCall(PetscMalloc3(size, &counts, size, &displs, (size_t)G * n, &all));
  for (PetscMPIInt r = 0; r < size; r++) {
    displs[r] = (PetscMPIInt)(AzGroupStart(G, size, r) * n);
    counts[r] = (PetscMPIInt)((AzGroupStart(G, size, r + 1) - AzGroupStart(G, size, r)) * n);
  }
  PetscCallMPI(MPI_Allgatherv(part, (PetscMPIInt)((L->g1 - L->g0) * n), MPIU_SCALAR, all, counts, displs, MPIU_SCALAR, L->comm));
  for (PetscInt i = 0; i < n; i++) out[i] = all[i];
  for (PetscInt g = 1; g < G; g++)
    for (PetscInt i = 0; i < n; i++) out[i] += all[(size_t)g * n + i];
  PetscCall(PetscFree3(counts, displs, all));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* the side inputs' share of a gradient: (∂c/∂θ)ᵀ c̄ slice by slice, in each slice's group */
static PetscErrorCode SideGroup(AzLoss L, PetscInt g, Vec grad, PetscScalar extra[], void *ctx)
{
  PetscFunctionBegin;
  (void)extra, (void)ctx;
  PetscCall(AzChainSideBackward(L->chain, g, grad));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode ReduceGroups(AzLoss L, AzGroupFn fn, void *ctx, PetscInt nextra, PetscScalar extra[], Vec grad, PetscBool cbar)
{
  const PetscInt nl = L->g1 - L->g0, P = grad ? L->nparam : 0;
  const PetscInt nc = cbar ? AzChainSideSlices(L->chain) * AzChainSideSize(L->chain) : 0, stride = P + nextra + nc;
  PetscScalar   *bar = cbar ? AzChainSideMap(L->chain)->side_bar : NULL;
  PetscScalar   *part, *sum;
  Vec            work = NULL;

  PetscFunctionBegin;
  PetscCall(PetscCalloc2((size_t)PetscMax(nl, 1) * stride, &part, (size_t)PetscMax(stride, 1), &sum));
  if (grad) PetscCall(VecCreateSeqWithArray(PETSC_COMM_SELF, 1, P, NULL, &work));
  for (PetscInt g = L->g0; g < L->g1; g++) {
    PetscScalar *slot = part + (size_t)(g - L->g0) * stride;
    if (cbar) PetscCall(PetscArrayzero(bar, nc));
    if (work) PetscCall(VecPlaceArray(work, slot));
    PetscCall(fn(L, g, work, slot + P, ctx));
    if (work) PetscCall(VecResetArray(work));
    if (cbar) PetscCall(PetscArraycpy(slot + P + nextra, bar, nc));
  }
  PetscCall(AzLossGroupSum(L, stride, part, sum));
  if (nextra) PetscCall(PetscArraycpy(extra, sum + P, nextra));
  if (cbar) PetscCall(PetscArraycpy(bar, sum + P + nextra, nc));
  if (grad) {
    PetscScalar *g;
    PetscCall(VecGetArray(grad, &g));
    PetscCall(PetscArraycpy(g, sum, P));
    PetscCall(VecRestoreArray(grad, &g));
  }
  PetscCall(VecDestroy(&work));
  PetscCall(PetscFree2(part, sum));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzLossReduceGroups(AzLoss L, AzGroupFn fn, void *ctx, PetscInt nextra, PetscScalar extra[], Vec grad)
{
  const PetscBool proj = AzChainSideSize(L->chain) > 0 ? PETSC_TRUE : PETSC_FALSE;

  PetscFunctionBegin;
  PetscCall(ReduceGroups(L, fn, ctx, nextra, extra, grad, proj));
  if (proj) {
    if (grad) { /* grad += Σ_g (∂c/∂θ)ᵀ c̄ over group g's slices, in group order */
      Vec pg;
      PetscCall(VecDuplicate(grad, &pg));
      PetscCall(ReduceGroups(L, SideGroup, NULL, 0, NULL, pg, PETSC_FALSE));
      PetscCall(VecAXPY(grad, 1.0, pg));
      PetscCall(VecDestroy(&pg));
    }
    PetscCall(PetscArrayzero(AzChainSideMap(L->chain)->side_bar, (size_t)AzChainSideSlices(L->chain) * AzChainSideSize(L->chain)));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}
