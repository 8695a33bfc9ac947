/* The dense Gauss–Newton pieces: Jacobian rows of the scaled residuals ρ chunk by chunk, the normal
 * equations JᵀJ, Jᵀρ summed independently of the rank count (reduce.c, fold.c), and the rows themselves. */
#include "lossimpl.h"
#include <cblas.h>

/* Visit the scaled residual rows ρ and their Jacobian rows chunk by chunk: of term ksel (every term
 * with ksel < 0), of owned group g, or with g < 0 of every owned group (term by term, the groups in
 * order within each term) */
PetscErrorCode AzLossForEachJacobianChunk(AzLoss L, PetscInt ksel, PetscInt gsel, AzRowsFn fn, void *ctx)
{
  PetscInt nrmax = 0;

  PetscFunctionBegin;
  PetscCall(AzLossSetUp(L));
  for (PetscInt k = 0; k < L->nterms; k++) nrmax = PetscMax(nrmax, L->term[k].nres);
  if (!L->Jrows) PetscCall(PetscMalloc1((size_t)L->chunk * nrmax * L->nparam, &L->Jrows));
  for (PetscInt k = 0; k < L->nterms; k++)
    for (PetscInt g = L->g0; g < L->g1; g++)
      if ((ksel < 0 || k == ksel) && (gsel < 0 || g == gsel)) PetscCall(L->term[k].ops->jacobian_rows(L, &L->term[k], g, fn, ctx));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Dense normal equations in two passes over the rows. First, per group: diag(JᵀJ), Jᵀρ and Σ ρ²,
 * added in group order (reduce.c); then per group JᵀJ (dsyrk over the group's chunks, term by term),
 * folded exactly with scales from the total diagonal, the accumulators summed over ranks exactly. */
typedef struct {
  PetscScalar *part;       /* per owned group: diag (P), Jᵀρ (P), Σ ρ² */
  PetscScalar *store;      /* the first pass's rows, group after group (NULL: over the memory budget) */
  PetscInt     nstored;
  PetscScalar *S;          /* the current group's JᵀJ (upper triangle) */
  PetscScalar *rows;       /* the current group's rows, up to cap of them, for one rank-k update */
  PetscInt     n, cap;
  PetscBool    started;    /* S holds rows of the current group */
} NormalCtx;

static PetscErrorCode AccumulateFirst(AzLoss L, PetscInt g, PetscInt nrows, const PetscScalar rho[], const PetscScalar J[], void *ctx)
{
  NormalCtx     *c = (NormalCtx *)ctx;
  const PetscInt P = L->nparam;
  PetscScalar   *d = c->part + (size_t)(g - L->g0) * (2 * P + 1), *jr = d + P;

  PetscFunctionBegin;
  for (PetscInt i = 0; i < nrows; i++) {
    const PetscScalar *Ji = J + (size_t)i * P;
    for (PetscInt j = 0; j < P; j++) d[j] += Ji[j] * Ji[j];
  }
  /* J is row-major (nrows × P) = column-major (P × nrows) */
  cblas_dgemv(CblasColMajor, CblasNoTrans, (int)P, (int)nrows, 1.0, J, (int)P, rho, 1, 1.0, jr, 1);
  for (PetscInt i = 0; i < nrows; i++) jr[P] += rho[i] * rho[i];
  if (c->store) PetscCall(PetscArraycpy(c->store + (size_t)c->nstored * P, J, (size_t)nrows * P));
  c->nstored += nrows;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* S (+)= RᵀR for n rows R: a group's rows go in blocks of exactly cap rows (the last one shorter),
 * one rank-k update each, whether they were stored or are recomputed, so S does not depend on which;
 * the first update of a group overwrites S. Few large updates are also cheaper than one per chunk. */
static void Gram(AzLoss L, NormalCtx *c, PetscInt n, const PetscScalar R[])
{
  const PetscInt P = L->nparam;

  if (!n) return;
  /* R is row-major (n × P) = column-major (P × n): RᵀR is dsyrk NoTrans in column-major terms */
  cblas_dsyrk(CblasColMajor, CblasUpper, CblasNoTrans, (int)P, (int)n, 1.0, R, (int)P, c->started ? 1.0 : 0.0, c->S, (int)P);
  c->started = PETSC_TRUE;
}

static PetscErrorCode AccumulateGram(AzLoss L, PetscInt g, PetscInt nrows, const PetscScalar rho[], const PetscScalar J[], void *ctx)
{
  NormalCtx     *c = (NormalCtx *)ctx;
  const PetscInt P = L->nparam;

  PetscFunctionBegin;
  (void)g, (void)rho;
  while (nrows > 0) {
    const PetscInt take = PetscMin(nrows, c->cap - c->n);
    PetscCall(PetscArraycpy(c->rows + (size_t)c->n * P, J, (size_t)take * P));
    c->n += take;
    J += (size_t)take * P;
    nrows -= take;
    if (c->n == c->cap) {
      Gram(L, c, c->n, c->rows);
      c->n = 0;
    }
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzLossNormalEquations(AzLoss L, PetscScalar JtJ[], PetscScalar Jtr[], PetscReal *value, PetscReal term[])
{
  NormalCtx      c;
  const PetscInt P = L->nparam;
  const size_t   npk = (size_t)P * (P + 1) / 2;
  PetscScalar   *sum, *acc;
  PetscReal     *m;
  PetscInt       nrmax = 1, nrows, *goff;

  PetscFunctionBegin;
  PetscCall(AzLossSetUp(L));
  for (PetscInt k = 0; k < L->nterms; k++) nrmax = PetscMax(nrmax, L->term[k].nres);
  PetscCall(PetscLogEventBegin(AZ_LOSS_Normal, 0, 0, 0, 0));
  PetscCall(AzChainUpdate(L->chain));
  PetscCall(AzChainSideJacobian(L->chain));
  PetscCall(PetscCalloc2((size_t)PetscMax(L->g1 - L->g0, 1) * (2 * P + 1), &c.part, 2 * P + 1, &sum));
  /* the rows are kept for the second pass when they fit in 1 GiB, else computed again */
  PetscCall(AzLossGetLocalResidualSize(L, &nrows));
  PetscCall(PetscMalloc1(L->g1 - L->g0 + 1, &goff));
  c.store   = NULL;
  c.nstored = 0;
  if ((double)nrows * P * sizeof(PetscScalar) <= 1073741824.0) PetscCall(PetscMalloc1((size_t)PetscMax(nrows, 1) * P, &c.store));
  for (PetscInt g = L->g0; g < L->g1; g++) {
    goff[g - L->g0] = c.nstored;
    PetscCall(AzLossForEachJacobianChunk(L, -1, g, AccumulateFirst, &c));
  }
  goff[L->g1 - L->g0] = c.nstored;
  PetscCheck(c.nstored == nrows, PETSC_COMM_SELF, PETSC_ERR_PLIB, "%" PetscInt_FMT " Jacobian rows visited, %" PetscInt_FMT " expected", c.nstored, nrows);
  PetscCall(AzLossGroupSum(L, 2 * P + 1, c.part, sum));
  PetscCall(PetscArraycpy(Jtr, sum + P, P));
  *value = PetscRealPart(sum[2 * P]);
  PetscCall(PetscMalloc1(P, &m));
  AzFoldScales(P, sum, m);
  /* JtJ holds the group matrix, acc the folded sum (packed upper triangle); without stored rows a
   * group's rows are gathered up to 64 MB (at least a chunk's) for each rank-k update */
  c.S   = JtJ;
  c.cap = PetscMax(L->chunk * nrmax, (PetscInt)((64 << 20) / (sizeof(PetscScalar) * P)));
  c.rows = NULL;
  if (!c.store) PetscCall(PetscMalloc1((size_t)c.cap * P, &c.rows));
  PetscCall(PetscCalloc1(npk, &acc));
  for (PetscInt g = L->g0; g < L->g1; g++) {
    c.n       = 0;
    c.started = PETSC_FALSE;
    if (c.store) {
      const PetscInt n = goff[g + 1 - L->g0] - goff[g - L->g0];
      for (PetscInt b0 = 0; b0 < n; b0 += c.cap) Gram(L, &c, PetscMin(c.cap, n - b0), c.store + ((size_t)goff[g - L->g0] + b0) * P);
    } else {
      PetscCall(AzLossForEachJacobianChunk(L, -1, g, AccumulateGram, &c));
      Gram(L, &c, c.n, c.rows);
    }
    if (c.started) { /* a group without rows adds nothing */
      PetscCall(PetscLogEventBegin(AZ_LOSS_Fold, 0, 0, 0, 0));
      AzFoldUpper(P, m, JtJ, acc);
      PetscCall(PetscLogEventEnd(AZ_LOSS_Fold, 0, 0, 0, 0));
    }
  }
  PetscCall(PetscFree(c.rows));
  PetscCall(PetscFree(c.store));
  PetscCall(PetscFree(goff));
  PetscCheck(npk < PETSC_MPI_INT_MAX, L->comm, PETSC_ERR_ARG_OUTOFRANGE, "%" PetscInt_FMT " parameters are too many for dense Gauss-Newton's one MPI message: use -az_gn_solver cg", P);
  PetscCall(MPIU_Allreduce(MPI_IN_PLACE, acc, (PetscMPIInt)npk, MPIU_SCALAR, MPIU_SUM, L->comm)); /* exact: see reduce.c */
  for (PetscInt j = 0; j < P; j++)
    for (PetscInt i = 0; i <= j; i++) JtJ[i + (size_t)j * P] = JtJ[j + (size_t)i * P] = acc[(size_t)j * (j + 1) / 2 + i];
  PetscCall(PetscFree(acc));
  PetscCall(PetscFree(m));
  PetscCall(PetscFree2(c.part, sum));
  PetscCall(PetscLogEventEnd(AZ_LOSS_Normal, 0, 0, 0, 0));
  if (term) {
    PetscReal v;
    PetscCall(AzLossEvaluate(L, &v, term, NULL));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

typedef struct {
  PetscScalar *rho, *J;
  PetscInt     off;
} CopyCtx;

static PetscErrorCode CopyRows(AzLoss L, PetscInt g, PetscInt nrows, const PetscScalar rho[], const PetscScalar J[], void *ctx)
{
  CopyCtx *c = (CopyCtx *)ctx;

  PetscFunctionBegin;
  (void)g;
  if (c->rho) PetscCall(PetscArraycpy(c->rho + c->off, rho, nrows));
  if (c->J) PetscCall(PetscArraycpy(c->J + (size_t)c->off * L->nparam, J, (size_t)nrows * L->nparam));
  c->off += nrows;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzLossResidualJacobian(AzLoss L, PetscScalar rho[], PetscScalar J[])
{
  CopyCtx c = {rho, J, 0};

  PetscFunctionBegin;
  PetscCall(AzLossSetUp(L));
  PetscCall(AzChainUpdate(L->chain));
  PetscCall(AzChainSideJacobian(L->chain));
  PetscCall(AzLossForEachJacobianChunk(L, -1, -1, CopyRows, &c));
  PetscFunctionReturn(PETSC_SUCCESS);
}
