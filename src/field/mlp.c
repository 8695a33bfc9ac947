/* The multilayer perceptron over one chunk of points, in Taylor mode: forward (jets), reverse
 * (adjoints of the jets → ∂/∂θ), tangent (J·v) and per-row reverse (dense Jacobian rows).
 *
 * Layer l (l = 0..depth-1 hidden, l = depth the output layer) is Z_l = W_l·A_{l-1} + b_l, A_{-1} = H (the
 * input features), A_l = σ(Z_l) for hidden layers, U = Z_depth. On jets every active slot is a column
 * block (fieldimpl.h), the weights act on all of them alike and the bias only on the value, so a layer
 * is one GEMM of (nout × nin) by (nin × nact·np); the activation step is activation.c's.
 */
#include "fieldimpl.h"
#include <cblas.h>

/* at most this many weights: a layer small enough to copy on the stack (32 KB) */
#define AZ_SMALL_LAYER 4096

/* The closed request as a list of active slots, in slot order (so the value is first and every slot
 * comes after the lower ones its chain rule reads). */
PetscErrorCode AzFieldSetActiveSlots(AzField f)
{
  const PetscInt n = f->ncoord;
  PetscInt       pos[AZ_JET_MAX_NSLOT], na = 0;

#define AZ_ADD(s_, kind_, ord_, i_, j_) \
  do { \
    if (f->req.mask & ((PetscInt)1 << (s_))) { \
      AzActiveSlot *q_ = &f->slots[na]; \
      PetscCall(PetscMemzero(q_, sizeof(*q_))); \
      q_->slot = (s_), q_->kind = (kind_), q_->order = (ord_), q_->i = (i_), q_->j = (j_); \
      pos[s_] = na++; \
    } \
  } while (0)

  PetscFunctionBegin;
  for (PetscInt s = 0; s < AZ_JET_MAX_NSLOT; s++) pos[s] = -1;
  AZ_ADD(0, AZ_SLOT_VALUE, 0, 0, 0);
  for (PetscInt i = 0; i < n; i++) AZ_ADD(AzJetSlotD1(n, i), AZ_SLOT_D1, 1, i, i);
  for (PetscInt i = 0; i < n; i++)
    for (PetscInt j = i; j < n; j++) AZ_ADD(AzJetSlotD2(n, i, j), AZ_SLOT_D2, 2, i, j);
  for (PetscInt i = 0; i < n; i++) AZ_ADD(AzJetSlotD3(n, i), AZ_SLOT_D3, 3, i, i);
  for (PetscInt i = 0; i < n; i++) AZ_ADD(AzJetSlotD4(n, i), AZ_SLOT_D4, 4, i, i);
#undef AZ_ADD
  f->nact     = na;
  f->maxorder = 0;
  for (PetscInt a = 0; a < na; a++) {
    AzActiveSlot *q = &f->slots[a];
    f->maxorder     = PetscMax(f->maxorder, q->order);
    if (q->kind == AZ_SLOT_VALUE) continue;
    q->pi = pos[AzJetSlotD1(n, q->i)];
    q->pj = pos[AzJetSlotD1(n, q->j)];
    if (q->kind >= AZ_SLOT_D3) q->pii = pos[AzJetSlotD2(n, q->i, q->i)];
    if (q->kind == AZ_SLOT_D4) q->piii = pos[AzJetSlotD3(n, q->i)];
    PetscCheck(q->pi >= 0 && q->pj >= 0 && (q->kind < AZ_SLOT_D3 || q->pii >= 0) && (q->kind < AZ_SLOT_D4 || q->piii >= 0), PETSC_COMM_SELF, PETSC_ERR_PLIB, "jet request is not closed (slot %" PetscInt_FMT ")", q->slot);
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzFieldWorkDestroy(AzFieldWork *w)
{
  PetscFunctionBegin;
  PetscCall(PetscFree(w->mem));
  PetscCall(PetscFree3(w->Z, w->A, w->S));
  PetscCall(PetscFree(w->P));
  w->capacity = 0;
  w->nP       = 0;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* the one allocation of the workspace holds at least need numbers */
PetscErrorCode AzFieldWorkReserve(AzFieldWork *w, size_t need)
{
  PetscFunctionBegin;
  if (need > w->capacity) {
    PetscCall(PetscFree(w->mem));
    PetscCall(PetscMalloc1(need, &w->mem));
    w->capacity = need;
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Layers l = 0..depth: depth hidden layers of width neurons, then the linear output layer */
static PetscErrorCode MLPLayout(AzField f)
{
  PetscInt off = 0;

  PetscFunctionBegin;
  f->nlayer = f->depth + 1;
  PetscCall(PetscMalloc1(f->nlayer, &f->layer));
  for (PetscInt l = 0; l <= f->depth; l++) {
    AzLayer *L = &f->layer[l];
    L->nin     = l == 0 ? f->nin : f->width;
    L->nout    = l == f->depth ? f->ncomp : f->width;
    L->offW    = off;
    L->offb    = off + L->nout * L->nin;
    off        = L->offb + L->nout;
    L->offs    = -1;
    if (f->rwf) L->offs = off, off += L->nout;
  }
  f->nparam = off;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Lay the workspace out for np points per chunk and gcols adjoint columns per slot (>= np; the
 * Jacobian batches nres rows per point), growing the one allocation if it is too small. */
static PetscErrorCode MLPWorkSetUp(AzField f, PetscInt np, PetscInt gcols)
{
  AzFieldWork   *w = &f->work;
  const PetscInt nact = f->nact, K = f->maxorder + 1, W = f->width, maxw = PetscMax(f->width, f->ncomp);
  size_t         need = 0, off = 0;

  PetscFunctionBegin;
  need = (size_t)np * nact * (f->nin + 2 * f->depth * W + f->ncomp) + (size_t)np * K * f->depth * W + 2 * (size_t)gcols * nact * maxw;
  if (!w->Z) PetscCall(PetscMalloc3(f->depth, &w->Z, f->depth, &w->A, f->depth, &w->S));
  PetscCall(AzFieldWorkReserve(w, need));
  w->np   = np;
  w->nact = nact;
  w->H    = w->mem + off, off += (size_t)np * nact * f->nin;
  for (PetscInt l = 0; l < f->depth; l++) {
    w->Z[l] = w->mem + off, off += (size_t)np * nact * W;
    w->A[l] = w->mem + off, off += (size_t)np * nact * W;
    w->S[l] = w->mem + off, off += (size_t)np * K * W;
  }
  w->U    = w->mem + off, off += (size_t)np * nact * f->ncomp;
  w->G[0] = w->mem + off, off += (size_t)gcols * nact * maxw;
  w->G[1] = w->mem + off, off += (size_t)gcols * nact * maxw;
  PetscCheck(off == need, PETSC_COMM_SELF, PETSC_ERR_PLIB, "workspace layout mismatch");
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Z = W·A + b on the value columns. Z (nout, ncol), A (nin, ncol) column-major; W (nout, nin) row-major,
 * which is W's transpose in column-major terms. The first nval columns are the value slot. */
void AzLinearForward(PetscScalar Z[], const PetscScalar A[], const PetscScalar W[], const PetscScalar b[], PetscInt nout, PetscInt nin, PetscInt ncol, PetscInt nval)
{
  if (nout * nin <= AZ_SMALL_LAYER) {
    /* OpenBLAS runs small products without packing its operands only in the NoTrans·NoTrans form:
     * with W's column-major copy the forward product is that form (bench/jets 8 × 20: the whole loss
     * gradient 1.2-2x faster than with the Trans form, 3 paired runs on a loaded machine, 2026-11-27) */
    PetscScalar Wc[AZ_SMALL_LAYER];
    for (PetscInt o = 0; o < nout; o++)
      for (PetscInt i = 0; i < nin; i++) Wc[i * nout + o] = W[o * nin + i];
    cblas_dgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, (int)nout, (int)ncol, (int)nin, 1.0, Wc, (int)nout, A, (int)nin, 0.0, Z, (int)nout);
  } else cblas_dgemm(CblasColMajor, CblasTrans, CblasNoTrans, (int)nout, (int)ncol, (int)nin, 1.0, W, (int)nin, A, (int)nin, 0.0, Z, (int)nout);
  for (PetscInt c = 0; c < nval; c++)
    for (PetscInt o = 0; o < nout; o++) Z[c * nout + o] += b[o];
}

/* Reverse of LinearForward: dW += Z̄·Aᵀ (summed over every point and slot), db += Σ_value-columns Z̄,
 * and, if Abar is not NULL, Ā = Wᵀ·Z̄. */
void AzLinearBackward(PetscScalar Abar[], PetscScalar dW[], PetscScalar db[], const PetscScalar Zbar[], const PetscScalar A[], const PetscScalar W[], PetscInt nout, PetscInt nin, PetscInt ncol, PetscInt nval)
{
  /* dW row-major (nout, nin) is the column-major (nin, nout) matrix A·Z̄ᵀ */
  cblas_dgemm(CblasColMajor, CblasNoTrans, CblasTrans, (int)nin, (int)nout, (int)ncol, 1.0, A, (int)nin, Zbar, (int)nout, 1.0, dW, (int)nin);
  for (PetscInt c = 0; c < nval; c++)
    for (PetscInt o = 0; o < nout; o++) db[o] += Zbar[c * nout + o];
  if (Abar) cblas_dgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, (int)nin, (int)ncol, (int)nout, 1.0, W, (int)nin, Zbar, (int)nout, 0.0, Abar, (int)nin);
}

/* Tangent of LinearForward: Ż = Ẇ·A + W·Ȧ + ḃ on the value columns (Ȧ = NULL: the inputs do not
 * depend on θ). */
void AzLinearTangent(PetscScalar Zdot[], const PetscScalar Adot[], const PetscScalar A[], const PetscScalar W[], const PetscScalar Wdot[], const PetscScalar bdot[], PetscInt nout, PetscInt nin, PetscInt ncol, PetscInt nval)
{
  cblas_dgemm(CblasColMajor, CblasTrans, CblasNoTrans, (int)nout, (int)ncol, (int)nin, 1.0, Wdot, (int)nin, A, (int)nin, 0.0, Zdot, (int)nout);
  if (Adot) cblas_dgemm(CblasColMajor, CblasTrans, CblasNoTrans, (int)nout, (int)ncol, (int)nin, 1.0, W, (int)nin, Adot, (int)nin, 1.0, Zdot, (int)nout);
  for (PetscInt c = 0; c < nval; c++)
    for (PetscInt o = 0; o < nout; o++) Zdot[c * nout + o] += bdot[o];
}

/* σ^(k) block pointers of hidden layer l: S[0] = σ (the value block of A_l), S[k] = block k-1 of S_l */
static void SigmaBlocks(AzField f, PetscInt l, PetscInt np, PetscScalar *S[])
{
  const PetscInt n = np * f->width;
  S[0]             = f->work.A[l];
  for (PetscInt k = 1; k <= AZ_MAX_ORDER + 1; k++) S[k] = k <= f->maxorder + 1 ? f->work.S[l] + (k - 1) * n : NULL;
}

static PetscLogDouble GemmFlops(PetscInt m, PetscInt n, PetscInt k)
{
  return 2.0 * (PetscLogDouble)m * (PetscLogDouble)n * (PetscLogDouble)k;
}

/* Forward pass over np points: H, then Z_l, σ^(k)(Z_l) for k <= K, A_l, and U. K = maxorder for jets
 * alone, maxorder + 1 when a reverse or tangent pass follows. */
static PetscErrorCode MLPForward(AzField f, PetscInt np, const PetscReal x[], const PetscScalar theta[], PetscInt K)
{
  AzFieldWork       *w    = &f->work;
  const PetscInt     nact = f->nact, ncol = nact * np;
  const PetscScalar *in   = w->H;

  PetscFunctionBegin;
  PetscCall(AzFieldFeatureJets(f, np, x, w->H));
  for (PetscInt l = 0; l <= f->depth; l++) {
    const AzLayer *L = &f->layer[l];
    PetscScalar   *S[AZ_MAX_ORDER + 2];

    if (l == f->depth) {
      AzLinearForward(w->U, in, theta + L->offW, theta + L->offb, L->nout, L->nin, ncol, np);
      PetscCall(PetscLogFlops(GemmFlops(L->nout, ncol, L->nin)));
      break;
    }
    AzLinearForward(w->Z[l], in, theta + L->offW, theta + L->offb, L->nout, L->nin, ncol, np);
    SigmaBlocks(f, l, np, S);
    PetscCall(AzActivationForward(w->A[l], S, w->Z[l], f->act, K, f->slots, nact, np * L->nout));
    PetscCall(PetscLogFlops(GemmFlops(L->nout, ncol, L->nin)));
    in = w->A[l];
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Reverse pass after the forward pass (K = maxorder + 1): G[0] holds Ū (ncomp, nact*np) on entry
 * (it is overwritten); grad += ∂/∂θ ⟨Ū, U⟩ in the θ layout. */
static PetscErrorCode MLPBackward(AzField f, PetscInt np, const PetscScalar theta[], PetscScalar grad[])
{
  AzFieldWork   *w    = &f->work;
  const PetscInt nact = f->nact, ncol = nact * np;
  PetscScalar   *bar = w->G[0], *abar = w->G[1];

  PetscFunctionBegin;
  for (PetscInt l = f->depth; l >= 0; l--) {
    const AzLayer     *L  = &f->layer[l];
    const PetscScalar *in = l > 0 ? w->A[l - 1] : w->H;

    AzLinearBackward(l > 0 ? abar : NULL, grad + L->offW, grad + L->offb, bar, in, theta + L->offW, L->nout, L->nin, ncol, np);
    PetscCall(PetscLogFlops(GemmFlops(L->nout, ncol, L->nin) * (l > 0 ? 2 : 1)));
    if (l > 0) {
      PetscScalar *S[AZ_MAX_ORDER + 2];
      SigmaBlocks(f, l - 1, np, S);
      PetscCall(AzActivationJetsBackward(bar, abar, w->Z[l - 1], (const PetscScalar *const *)S, f->slots, nact, np * L->nin));
    }
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Tangent pass after the forward pass (K = maxorder + 1): U̇ = (∂U/∂θ)·v into G[1] (ncomp, nact*np). */
static PetscErrorCode MLPTangent(AzField f, PetscInt np, const PetscScalar theta[], const PetscScalar v[])
{
  AzFieldWork       *w    = &f->work;
  const PetscInt     nact = f->nact, ncol = nact * np;
  const PetscScalar *adot = NULL;

  PetscFunctionBegin;
  for (PetscInt l = 0; l <= f->depth; l++) {
    const AzLayer     *L  = &f->layer[l];
    const PetscScalar *in = l > 0 ? w->A[l - 1] : w->H;

    AzLinearTangent(w->G[1], adot, in, theta + L->offW, v + L->offW, v + L->offb, L->nout, L->nin, ncol, np);
    PetscCall(PetscLogFlops(GemmFlops(L->nout, ncol, L->nin) * (adot ? 2 : 1)));
    if (l < f->depth) {
      PetscScalar *S[AZ_MAX_ORDER + 2];
      SigmaBlocks(f, l, np, S);
      PetscCall(AzActivationJetsTangent(w->G[0], w->G[1], w->Z[l], (const PetscScalar *const *)S, f->slots, nact, np * L->nout));
      adot = w->G[0];
    }
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The weight and bias entries of a linear layer's Jacobian rows, row (p, k) = Jac + (p*nres + k)*nparam:
 * Jac[row, W] = Σ_a Z̄[row, a] ⊗ A[p, a] (one small GEMM (nout × nact)(nact × nin)), Jac[row, b] = Z̄[row,
 * value]. Z̄ holds nres stacked blocks of (nout, nact*np), A is (nin, nact*np). */
void AzLinearJacobianRows(PetscScalar Jac[], PetscInt nparam, const AzLayer *L, const PetscScalar Zbar[], const PetscScalar A[], PetscInt np, PetscInt nres, PetscInt nact)
{
  const PetscInt nout = L->nout, nin = L->nin, ncol = nact * np;

  for (PetscInt p = 0; p < np; p++) {
    for (PetscInt k = 0; k < nres; k++) {
      PetscScalar       *row = Jac + (size_t)(p * nres + k) * nparam;
      const PetscScalar *zb  = Zbar + ((size_t)k * ncol + p) * nout; /* slot a at zb + a*np*nout */

      if (nact == 1) {
        for (PetscInt o = 0; o < nout; o++)
          for (PetscInt i = 0; i < nin; i++) row[L->offW + o * nin + i] = zb[o] * A[p * nin + i];
      } else {
        cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)nout, (int)nin, (int)nact, 1.0, zb, (int)(np * nout), A + p * nin, (int)(np * nin), 0.0, row + L->offW, (int)nin);
      }
      for (PetscInt o = 0; o < nout; o++) row[L->offb + o] = zb[o];
    }
  }
}

/* Per-row reverse pass after the forward pass (K = maxorder + 1) on np points, for nres adjoint
 * seeds per point: G[0] holds Ū as nres stacked blocks, Ū[((k*nact + a)*np + p)*ncomp + c] for row
 * (p, k). Every row is propagated like a separate point (a row's adjoints live only at its point),
 * so Ā = Wᵀ·Z̄ is still one GEMM over all nres·nact·np columns, but the weight gradients are kept
 * per row: Jac[row, W_l] = Σ_a Z̄_l[row, a] ⊗ A_{l-1}[p, a], one small GEMM (nout × nact)(nact × nin).
 * Jac points at the chunk's first row; rows are nparam long and every entry is written. */
static PetscErrorCode MLPJacobian(AzField f, PetscInt np, PetscInt nres, const PetscScalar theta[], PetscScalar Jac[])
{
  AzFieldWork   *w    = &f->work;
  const PetscInt nact = f->nact, ncol = nact * np;
  PetscScalar   *bar = w->G[0], *abar = w->G[1];

  PetscFunctionBegin;
  for (PetscInt l = f->depth; l >= 0; l--) {
    const AzLayer     *L    = &f->layer[l];
    const PetscInt     nout = L->nout, nin = L->nin;
    const PetscScalar *in   = l > 0 ? w->A[l - 1] : w->H;

    AzLinearJacobianRows(Jac, f->ldj, L, bar, in, np, nres, nact);
    PetscCall(PetscLogFlops(GemmFlops(nout, nin, nact) * np * nres));
    if (l > 0) {
      PetscScalar *S[AZ_MAX_ORDER + 2];

      cblas_dgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, (int)nin, (int)(nres * ncol), (int)nout, 1.0, theta + L->offW, (int)nin, bar, (int)nout, 0.0, abar, (int)nin);
      PetscCall(PetscLogFlops(GemmFlops(nin, nres * ncol, nout)));
      SigmaBlocks(f, l - 1, np, S);
      for (PetscInt k = 0; k < nres; k++) PetscCall(AzActivationJetsBackward(bar + (size_t)k * ncol * nin, abar + (size_t)k * ncol * nin, w->Z[l - 1], (const PetscScalar *const *)S, f->slots, nact, np * nin));
    }
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

const AzFieldOps AzFieldOps_MLP = {MLPLayout, MLPWorkSetUp, MLPForward, MLPBackward, MLPTangent, MLPJacobian};
