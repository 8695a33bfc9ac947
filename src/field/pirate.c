/* PirateNet (Wang, Li, Chen, Perdikaris 2024, "PirateNets: Physics-informed deep learning with residual
 * adaptive networks"; jaxpi's PirateNet and PIModifiedBottleneck) over one chunk of points, in Taylor mode:
 * forward (jets), reverse (Jᵀw), tangent (J·v) and per-row reverse (dense Jacobian rows).
 *
 * With Φ the embedded inputs (E = nin features: embed.c), σ the activation, width w:
 *     U = σ(W_u Φ + b_u),  V = σ(W_v Φ + b_v)                    gates, (w)
 *     x₀ = Φ                                                     (E)
 *     block l = 0..depth-1:
 *         f  = σ(W₁ x_l + b₁),   z₁ = f ⊙ U + (1 − f) ⊙ V        (w)
 *         g  = σ(W₂ z₁ + b₂),    z₂ = g ⊙ U + (1 − g) ⊙ V        (w)
 *         h  = σ(W₃ z₂ + b₃)                                     (E: jaxpi's output_dim = x.shape[-1])
 *         x_{l+1} = α_l h + (1 − α_l) x_l                        α_l trainable, initially 0
 *     u = W_o x_depth + b_o                                      (ncomp)
 * so at initialisation u is a linear map of the embedding. jaxpi's optional "physics-informed
 * initialisation" (W_o by least squares against the initial condition) is not done here.
 * The gates are z = V + f ⊙ D with D = U − V; the jets of f ⊙ D come from product.c (Leibniz), the
 * jets of σ from activation.c, and α acts alike on every slot.
 *
 * θ: [W_u, b_u, W_v, b_v, then per block W₁, b₁, W₂, b₂, W₃, b₃, α, then W_o, b_o] (each W row-major
 * (nout, nin); with RWF each b is followed by its s, see rwf.c).
 */
#include "fieldimpl.h"
#include <cblas.h>

/* forward buffers in work.P: the gates, then 12 per block, then the scratch of the reverse and tangent */
enum { P_ZU, P_AU, P_SU, P_ZV, P_AV, P_SV, P_D, P_NGATE };
enum { B_Z1, B_A1, B_S1, B_Q1, B_Z2, B_A2, B_S2, B_Q2, B_Z3, B_A3, B_S3, B_X, B_N };
#define NSCRATCH 7
#define BLK(f, b, k) ((f)->work.P[P_NGATE + (b) * B_N + (k)])
#define SCR(f, k)    ((f)->work.P[P_NGATE + (f)->depth * B_N + (k)])

/* dense layers: 0 = U, 1 = V, 2 + 3l + {0,1,2} = block l, 2 + 3·depth = the output */
static PetscErrorCode PirateLayout(AzField f)
{
  const PetscInt E = f->nin, w = f->width;
  PetscInt       off = 0, m = 0;

  PetscFunctionBegin;
  f->nlayer = 3 + 3 * f->depth;
  PetscCall(PetscMalloc1(f->nlayer, &f->layer));
  PetscCall(PetscMalloc1(f->depth, &f->offalpha));
#define AZ_DENSE(nout_, nin_) \
  do { \
    AzLayer *L = &f->layer[m++]; \
    L->nin = (nin_), L->nout = (nout_), L->offW = off, L->offb = off + L->nout * L->nin; \
    off = L->offb + L->nout, L->offs = -1; \
    if (f->rwf) L->offs = off, off += L->nout; \
  } while (0)
  AZ_DENSE(w, E);
  AZ_DENSE(w, E);
  for (PetscInt l = 0; l < f->depth; l++) {
    AZ_DENSE(w, E);
    AZ_DENSE(w, w);
    AZ_DENSE(E, w);
    f->offalpha[l] = off++;
  }
  AZ_DENSE(f->ncomp, E);
#undef AZ_DENSE
  f->nparam = off;
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode PirateWorkSetUp(AzField f, PetscInt np, PetscInt gcols)
{
  AzFieldWork   *w = &f->work;
  const PetscInt nact = f->nact, K = f->maxorder + 1, W = f->width, E = f->nin, ncol = nact * np;
  const PetscInt maxn = PetscMax(PetscMax(W, E), f->ncomp), nP = P_NGATE + B_N * f->depth + NSCRATCH;
  size_t         need, off = 0;
  PetscInt       sz[P_NGATE + B_N];

  PetscFunctionBegin;
  sz[P_ZU] = sz[P_AU] = sz[P_ZV] = sz[P_AV] = sz[P_D] = ncol * W;
  sz[P_SU] = sz[P_SV] = K * np * W;
  for (PetscInt k = 0; k < B_N; k++) sz[P_NGATE + k] = ncol * W;
  sz[P_NGATE + B_S1] = sz[P_NGATE + B_S2] = K * np * W;
  sz[P_NGATE + B_Z3] = sz[P_NGATE + B_A3] = sz[P_NGATE + B_X] = ncol * E;
  sz[P_NGATE + B_S3] = K * np * E;
  need = (size_t)ncol * (E + f->ncomp) + 2 * (size_t)gcols * nact * maxn + (size_t)NSCRATCH * gcols * nact * maxn;
  for (PetscInt k = 0; k < P_NGATE; k++) need += (size_t)sz[k];
  for (PetscInt k = 0; k < B_N; k++) need += (size_t)f->depth * sz[P_NGATE + k];
  if (w->nP != nP) {
    PetscCall(PetscFree(w->P));
    PetscCall(PetscMalloc1(nP, &w->P));
    w->nP = nP;
  }
  PetscCall(AzFieldWorkReserve(w, need));
  w->np   = np;
  w->nact = nact;
  w->H    = w->mem + off, off += (size_t)ncol * E;
  w->U    = w->mem + off, off += (size_t)ncol * f->ncomp;
  w->G[0] = w->mem + off, off += (size_t)gcols * nact * maxn;
  w->G[1] = w->mem + off, off += (size_t)gcols * nact * maxn;
  for (PetscInt k = 0; k < P_NGATE; k++) w->P[k] = w->mem + off, off += (size_t)sz[k];
  for (PetscInt l = 0; l < f->depth; l++)
    for (PetscInt k = 0; k < B_N; k++) BLK(f, l, k) = w->mem + off, off += (size_t)sz[P_NGATE + k];
  for (PetscInt k = 0; k < NSCRATCH; k++) SCR(f, k) = w->mem + off, off += (size_t)gcols * nact * maxn;
  PetscCheck(off == need, PETSC_COMM_SELF, PETSC_ERR_PLIB, "workspace layout mismatch");
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* σ^(k) blocks of a layer with n = np*nout numbers per slot: S[0] = σ (the value block of A) */
static void Sigma(AzField f, PetscScalar *A, PetscScalar *Sb, PetscInt n, PetscScalar *S[])
{
  S[0] = A;
  for (PetscInt k = 1; k <= AZ_MAX_ORDER + 1; k++) S[k] = k <= f->maxorder + 1 ? Sb + (k - 1) * n : NULL;
}

/* A = σ(W·in + b) with its jets and σ^(k) for k <= K */
static PetscErrorCode DenseAct(AzField f, const AzLayer *L, const PetscScalar theta[], const PetscScalar in[], PetscInt np, PetscInt K, PetscScalar Z[], PetscScalar A[], PetscScalar Sb[])
{
  PetscScalar   *S[AZ_MAX_ORDER + 2];
  const PetscInt ncol = f->nact * np;

  PetscFunctionBegin;
  AzLinearForward(Z, in, theta + L->offW, theta + L->offb, L->nout, L->nin, ncol, np);
  Sigma(f, A, Sb, np * L->nout, S);
  PetscCall(AzActivationForward(A, S, Z, f->act, K, f->slots, f->nact, np * L->nout));
  PetscCall(PetscLogFlops(2.0 * L->nout * L->nin * ncol));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode PirateForward(AzField f, PetscInt np, const PetscReal x[], const PetscScalar theta[], PetscInt K)
{
  AzFieldWork       *w = &f->work;
  const PetscInt     ncol = f->nact * np, W = f->width, E = f->nin;
  const AzLayer     *Ly = f->layer;
  const PetscScalar *X  = w->H;

  PetscFunctionBegin;
  PetscCall(AzFieldFeatureJets(f, np, x, w->H));
  PetscCall(DenseAct(f, &Ly[0], theta, w->H, np, K, w->P[P_ZU], w->P[P_AU], w->P[P_SU]));
  PetscCall(DenseAct(f, &Ly[1], theta, w->H, np, K, w->P[P_ZV], w->P[P_AV], w->P[P_SV]));
  for (PetscInt q = 0; q < ncol * W; q++) w->P[P_D][q] = w->P[P_AU][q] - w->P[P_AV][q];
  for (PetscInt l = 0; l < f->depth; l++) {
    const AzLayer    *L = &Ly[2 + 3 * l];
    const PetscScalar a = theta[f->offalpha[l]];
    PetscScalar      *Xn = BLK(f, l, B_X), *A3 = BLK(f, l, B_A3);

    PetscCall(DenseAct(f, &L[0], theta, X, np, K, BLK(f, l, B_Z1), BLK(f, l, B_A1), BLK(f, l, B_S1)));
    PetscCall(PetscArraycpy(BLK(f, l, B_Q1), w->P[P_AV], ncol * W));
    AzJetProductAdd(BLK(f, l, B_Q1), BLK(f, l, B_A1), w->P[P_D], f->slots, f->nact, np * W);
    PetscCall(DenseAct(f, &L[1], theta, BLK(f, l, B_Q1), np, K, BLK(f, l, B_Z2), BLK(f, l, B_A2), BLK(f, l, B_S2)));
    PetscCall(PetscArraycpy(BLK(f, l, B_Q2), w->P[P_AV], ncol * W));
    AzJetProductAdd(BLK(f, l, B_Q2), BLK(f, l, B_A2), w->P[P_D], f->slots, f->nact, np * W);
    PetscCall(DenseAct(f, &L[2], theta, BLK(f, l, B_Q2), np, K, BLK(f, l, B_Z3), A3, BLK(f, l, B_S3)));
    for (PetscInt q = 0; q < ncol * E; q++) Xn[q] = a * A3[q] + (1.0 - a) * X[q];
    X = Xn;
  }
  AzLinearForward(w->U, X, theta + Ly[f->nlayer - 1].offW, theta + Ly[f->nlayer - 1].offb, f->ncomp, E, ncol, np);
  PetscCall(PetscLogFlops(2.0 * f->ncomp * E * ncol));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Where the reverse pass puts θ derivatives: one gradient summed over all points (nres = 1), or one
 * Jacobian row per point and seed (nres seeds per point, rows nparam long). */
typedef struct {
  PetscScalar *grad; /* accumulate, or NULL */
  PetscScalar *Jac;  /* rows, or NULL */
  PetscInt     np, nres;
} Sink;

/* the weights and bias of L from Z̄ (nres blocks) and the layer's input A; Ā = Wᵀ Z̄ (beta: 0 overwrite, 1 add) if Abar */
static PetscErrorCode DenseBackward(AzField f, const Sink *sk, const AzLayer *L, const PetscScalar theta[], const PetscScalar Zbar[], const PetscScalar A[], PetscScalar Abar[], PetscReal beta)
{
  const PetscInt ncol = f->nact * sk->np;

  PetscFunctionBegin;
  if (sk->grad) AzLinearBackward(NULL, sk->grad + L->offW, sk->grad + L->offb, Zbar, A, theta + L->offW, L->nout, L->nin, ncol, sk->np);
  else AzLinearJacobianRows(sk->Jac, f->ldj, L, Zbar, A, sk->np, sk->nres, f->nact);
  if (Abar) cblas_dgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, (int)L->nin, (int)(sk->nres * ncol), (int)L->nout, 1.0, theta + L->offW, (int)L->nin, Zbar, (int)L->nout, beta, Abar, (int)L->nin);
  PetscCall(PetscLogFlops(2.0 * L->nout * L->nin * ncol * sk->nres * (Abar ? 2 : 1)));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Z̄ = (∂A/∂Z)ᵀ Ā for each of the nres blocks (Z and σ^(k) of the forward pass) */
static PetscErrorCode ActBackward(AzField f, const Sink *sk, PetscScalar Zbar[], const PetscScalar Abar[], const PetscScalar Z[], PetscScalar A[], PetscScalar Sb[], PetscInt nout)
{
  PetscScalar   *S[AZ_MAX_ORDER + 2];
  const PetscInt n = sk->np * nout, blk = f->nact * n;

  PetscFunctionBegin;
  Sigma(f, A, Sb, n, S);
  for (PetscInt k = 0; k < sk->nres; k++) PetscCall(AzActivationJetsBackward(Zbar + k * blk, Abar + k * blk, Z, (const PetscScalar *const *)S, f->slots, f->nact, n));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* the gate z = V + s ⊙ D backwards from z̄ (nres blocks): V̄ += z̄, D̄ += z̄ ⊙ s, s̄ = z̄ ⊙ D (overwritten) */
static void GateBackward(AzField f, const Sink *sk, PetscScalar sbar[], PetscScalar Dbar[], PetscScalar Vbar[], const PetscScalar zbar[], const PetscScalar s[])
{
  const PetscInt n = sk->np * f->width, blk = f->nact * n;

  for (PetscInt q = 0; q < sk->nres * blk; q++) {
    Vbar[q] += zbar[q];
    sbar[q] = 0;
  }
  for (PetscInt k = 0; k < sk->nres; k++) AzJetProductBackward(sbar + k * blk, Dbar + k * blk, zbar + k * blk, s, f->work.P[P_D], f->slots, f->nact, n);
}

/* The reverse pass of the forward above, from Ū in G[0] (nres blocks of (ncomp, nact*np)) */
static PetscErrorCode PirateReverse(AzField f, const Sink *sk, const PetscScalar theta[])
{
  AzFieldWork   *w = &f->work;
  const PetscInt np = sk->np, nres = sk->nres, ncol = f->nact * np, E = f->nin, W = f->width;
  const AzLayer *Ly = f->layer;
  PetscScalar   *XB = SCR(f, 0), *T1 = SCR(f, 1), *T2 = SCR(f, 2), *QB = SCR(f, 3), *DB = SCR(f, 4), *VB = SCR(f, 5);

  PetscFunctionBegin;
  PetscCall(DenseBackward(f, sk, &Ly[f->nlayer - 1], theta, w->G[0], f->depth ? BLK(f, f->depth - 1, B_X) : w->H, XB, 0.0));
  PetscCall(PetscArrayzero(DB, nres * ncol * W));
  PetscCall(PetscArrayzero(VB, nres * ncol * W));
  for (PetscInt l = f->depth - 1; l >= 0; l--) {
    const AzLayer     *L  = &Ly[2 + 3 * l];
    const PetscScalar  a  = theta[f->offalpha[l]];
    const PetscScalar *X  = l ? BLK(f, l - 1, B_X) : w->H, *A3 = BLK(f, l, B_A3);

    /* x_{l+1} = α h + (1 − α) x_l: ᾱ = Σ x̄_{l+1}·(h − x_l), h̄ = α x̄_{l+1}, x̄_l = (1 − α) x̄_{l+1} + W₁ᵀ z̄₁ */
    if (sk->grad) {
      PetscScalar ab = 0;
      for (PetscInt q = 0; q < ncol * E; q++) ab += XB[q] * (A3[q] - X[q]);
      sk->grad[f->offalpha[l]] += ab;
    } else {
      for (PetscInt p = 0; p < np; p++)
        for (PetscInt k = 0; k < nres; k++) {
          PetscScalar ab = 0;
          for (PetscInt s = 0; s < f->nact; s++) {
            const PetscScalar *xb = XB + ((size_t)k * ncol + s * np + p) * E, *h = A3 + ((size_t)s * np + p) * E, *xl = X + ((size_t)s * np + p) * E;
            for (PetscInt e = 0; e < E; e++) ab += xb[e] * (h[e] - xl[e]);
          }
          sk->Jac[(size_t)(p * nres + k) * f->ldj + f->offalpha[l]] = ab;
        }
    }
    for (PetscInt q = 0; q < nres * ncol * E; q++) {
      T1[q] = a * XB[q];
      XB[q] *= 1.0 - a;
    }
    PetscCall(ActBackward(f, sk, T2, T1, BLK(f, l, B_Z3), BLK(f, l, B_A3), BLK(f, l, B_S3), E));
    PetscCall(DenseBackward(f, sk, &L[2], theta, T2, BLK(f, l, B_Q2), QB, 0.0));
    GateBackward(f, sk, T1, DB, VB, QB, BLK(f, l, B_A2));
    PetscCall(ActBackward(f, sk, T2, T1, BLK(f, l, B_Z2), BLK(f, l, B_A2), BLK(f, l, B_S2), W));
    PetscCall(DenseBackward(f, sk, &L[1], theta, T2, BLK(f, l, B_Q1), QB, 0.0));
    GateBackward(f, sk, T1, DB, VB, QB, BLK(f, l, B_A1));
    PetscCall(ActBackward(f, sk, T2, T1, BLK(f, l, B_Z1), BLK(f, l, B_A1), BLK(f, l, B_S1), W));
    PetscCall(DenseBackward(f, sk, &L[0], theta, T2, X, l ? XB : NULL, 1.0));
  }
  /* D = U − V: Ū = D̄, V̄ −= D̄ */
  PetscCall(ActBackward(f, sk, T2, DB, w->P[P_ZU], w->P[P_AU], w->P[P_SU], W));
  PetscCall(DenseBackward(f, sk, &Ly[0], theta, T2, w->H, NULL, 0.0));
  for (PetscInt q = 0; q < nres * ncol * W; q++) VB[q] -= DB[q];
  PetscCall(ActBackward(f, sk, T2, VB, w->P[P_ZV], w->P[P_AV], w->P[P_SV], W));
  PetscCall(DenseBackward(f, sk, &Ly[1], theta, T2, w->H, NULL, 0.0));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode PirateBackward(AzField f, PetscInt np, const PetscScalar theta[], PetscScalar grad[])
{
  const Sink sk = {grad, NULL, np, 1};

  PetscFunctionBegin;
  PetscCall(PirateReverse(f, &sk, theta));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode PirateJacobian(AzField f, PetscInt np, PetscInt nres, const PetscScalar theta[], PetscScalar Jac[])
{
  const Sink sk = {NULL, Jac, np, nres};

  PetscFunctionBegin;
  PetscCall(PirateReverse(f, &sk, theta));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Ȧ of A = σ(W·in + b): Ż = Ẇ·in + W·i̇n + ḃ (i̇n NULL: 0) into Zd, then Ȧ into Ad */
static PetscErrorCode DenseActTangent(AzField f, const AzLayer *L, const PetscScalar theta[], const PetscScalar v[], const PetscScalar in[], const PetscScalar indot[], PetscInt np, PetscScalar Z[], PetscScalar A[], PetscScalar Sb[], PetscScalar Zd[], PetscScalar Ad[])
{
  PetscScalar   *S[AZ_MAX_ORDER + 2];
  const PetscInt ncol = f->nact * np;

  PetscFunctionBegin;
  AzLinearTangent(Zd, indot, in, theta + L->offW, v + L->offW, v + L->offb, L->nout, L->nin, ncol, np);
  Sigma(f, A, Sb, np * L->nout, S);
  PetscCall(AzActivationJetsTangent(Ad, Zd, Z, (const PetscScalar *const *)S, f->slots, f->nact, np * L->nout));
  PetscCall(PetscLogFlops(2.0 * L->nout * L->nin * ncol * (indot ? 2 : 1)));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* ż = V̇ + ṡ ⊙ D + s ⊙ Ḋ */
static void GateTangent(AzField f, PetscInt np, PetscScalar zd[], const PetscScalar sd[], const PetscScalar s[], const PetscScalar Vd[], const PetscScalar Dd[])
{
  const PetscInt n = np * f->width;
  for (PetscInt q = 0; q < f->nact * n; q++) zd[q] = Vd[q];
  AzJetProductAdd(zd, sd, f->work.P[P_D], f->slots, f->nact, n);
  AzJetProductAdd(zd, s, Dd, f->slots, f->nact, n);
}

static PetscErrorCode PirateTangent(AzField f, PetscInt np, const PetscScalar theta[], const PetscScalar v[])
{
  AzFieldWork       *w = &f->work;
  const PetscInt     ncol = f->nact * np, E = f->nin, W = f->width;
  const AzLayer     *Ly = f->layer;
  PetscScalar       *Zd = SCR(f, 0), *Ud = SCR(f, 1), *Vd = SCR(f, 2), *Dd = SCR(f, 3), *Xd = SCR(f, 4), *Ad = SCR(f, 5), *Qd = SCR(f, 6);
  const PetscScalar *X = w->H, *xdot = NULL;

  PetscFunctionBegin;
  PetscCall(DenseActTangent(f, &Ly[0], theta, v, w->H, NULL, np, w->P[P_ZU], w->P[P_AU], w->P[P_SU], Zd, Ud));
  PetscCall(DenseActTangent(f, &Ly[1], theta, v, w->H, NULL, np, w->P[P_ZV], w->P[P_AV], w->P[P_SV], Zd, Vd));
  for (PetscInt q = 0; q < ncol * W; q++) Dd[q] = Ud[q] - Vd[q];
  for (PetscInt l = 0; l < f->depth; l++) {
    const AzLayer    *L = &Ly[2 + 3 * l];
    const PetscScalar a = theta[f->offalpha[l]], ad = v[f->offalpha[l]];
    const PetscScalar *A3 = BLK(f, l, B_A3);

    PetscCall(DenseActTangent(f, &L[0], theta, v, X, xdot, np, BLK(f, l, B_Z1), BLK(f, l, B_A1), BLK(f, l, B_S1), Zd, Ad));
    GateTangent(f, np, Qd, Ad, BLK(f, l, B_A1), Vd, Dd);
    PetscCall(DenseActTangent(f, &L[1], theta, v, BLK(f, l, B_Q1), Qd, np, BLK(f, l, B_Z2), BLK(f, l, B_A2), BLK(f, l, B_S2), Zd, Ad));
    GateTangent(f, np, Qd, Ad, BLK(f, l, B_A2), Vd, Dd);
    PetscCall(DenseActTangent(f, &L[2], theta, v, BLK(f, l, B_Q2), Qd, np, BLK(f, l, B_Z3), BLK(f, l, B_A3), BLK(f, l, B_S3), Zd, Ad));
    /* ẋ_{l+1} = α̇ (h − x_l) + α ḣ + (1 − α) ẋ_l */
    for (PetscInt q = 0; q < ncol * E; q++) Xd[q] = ad * (A3[q] - X[q]) + a * Ad[q] + (xdot ? (1.0 - a) * Xd[q] : 0.0);
    X    = BLK(f, l, B_X);
    xdot = Xd;
  }
  {
    const AzLayer *L = &Ly[f->nlayer - 1];
    AzLinearTangent(w->G[1], xdot, X, theta + L->offW, v + L->offW, v + L->offb, f->ncomp, E, ncol, np);
    PetscCall(PetscLogFlops(2.0 * f->ncomp * E * ncol * (xdot ? 2 : 1)));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

const AzFieldOps AzFieldOps_Pirate = {PirateLayout, PirateWorkSetUp, PirateForward, PirateBackward, PirateTangent, PirateJacobian};
