/* Activations and the chain rule of their jets (Faà di Bruno), forward, reverse and tangent.
 *
 * For a = σ(z) elementwise, with z_i = ∂_i z, z_ij = ∂_i∂_j z, z₁ z₂ z₃ z₄ the pure derivatives along one
 * coordinate and σk = σ^(k)(z₀):
 *     a₀    = σ(z₀)
 *     a_i   = σ1 z_i
 *     a_ij  = σ2 z_i z_j + σ1 z_ij                                   (i = j included)
 *     a₃    = σ3 z₁³ + 3σ2 z₁z₂ + σ1 z₃
 *     a₄    = σ4 z₁⁴ + 6σ3 z₁²z₂ + σ2 (3z₂² + 4z₁z₃) + σ1 z₄
 * Reverse and tangent mode differentiate these polynomials in (z₀, z_s): ∂/∂z₀ raises every σk to
 * σ(k+1), so they need σ one order beyond the highest propagated slot.
 *
 * Every routine works on "slot blocks" (see fieldimpl.h): slot a of X is X + a*n, n = np*width numbers,
 * and each rule is one flat loop over n numbers. The loops run tile by tile (AZ_TILE numbers of every
 * block at a time), so that all the blocks one tile touches stay in the L1 cache from one rule to the
 * next, and a full tile's loops have a trip count known to the compiler (no remainder loop). Tiling
 * changes no arithmetic: every number is computed by the same expression as in one loop over the
 * whole block.
 */
#include "fieldimpl.h"

/* GCC's -O2 vectorises only loops it needs no run-time check for, and it does not take the blocks'
 * restrict qualifiers as proof that they do not overlap: with its dynamic cost model it vectorises
 * every loop here behind one overlap check per tile loop. */
#if defined(__GNUC__) && !defined(__clang__)
  #pragma GCC optimize("tree-vectorize", "vect-cost-model=dynamic")
#endif

/* numbers of a block per tile: a tile of the ~15 blocks one layer's reverse step touches is 15 KB */
#define AZ_TILE 128

#if defined(__GNUC__)
  #define AZ_TILE_FN static inline __attribute__((always_inline)) void
#else
  #define AZ_TILE_FN static inline void
#endif

const char *const AzActivations[] = {"tanh", "sin", "softplus", "gelu", "swish", "AzActivation", "AZ_ACT_", NULL};

/* σ^(k)(z) for k = 0..K on numbers e0 .. e0+m-1 (see AzActivationDerivatives) */
AZ_TILE_FN DerivativesTile(PetscScalar *const S[], const PetscScalar z[], AzActivation act, PetscInt K, PetscInt e0, PetscInt m)
{
  const PetscScalar *restrict zz = z + e0;
  PetscScalar *restrict       s0 = S[0] + e0;

  switch (act) {
  case AZ_ACT_TANH:
    /* tanh|z| = 1 − 2/(e^{2|z|} + 1): one exponential; its error is below 2.3e-16 absolute (not relative
     * for tiny z), all a layer's sum needs. The derivatives are polynomials in s = tanh z, one loop
     * each (a condition inside the loop would keep it scalar). */
    for (PetscInt e = 0; e < m; e++) { /* three loops: GCC vectorises each of them, not their sum */
      const PetscScalar a = 2.0 * fabs(zz[e]);
      s0[e] = a < 80.0 ? a : 80.0;
    }
    for (PetscInt e = 0; e < m; e++) s0[e] = 1.0 - 2.0 / (AzExpFast(s0[e]) + 1.0);
    for (PetscInt e = 0; e < m; e++) s0[e] = zz[e] < 0 ? -s0[e] : s0[e];
    if (K >= 1) {
      PetscScalar *restrict o = S[1] + e0;
      for (PetscInt e = 0; e < m; e++) o[e] = 1.0 - s0[e] * s0[e];
    }
    if (K >= 2) {
      PetscScalar *restrict o = S[2] + e0;
      for (PetscInt e = 0; e < m; e++) o[e] = -2.0 * s0[e] * (1.0 - s0[e] * s0[e]);
    }
    if (K >= 3) {
      PetscScalar *restrict o = S[3] + e0;
      for (PetscInt e = 0; e < m; e++) {
        const PetscScalar s2 = s0[e] * s0[e];
        o[e] = (1.0 - s2) * (6.0 * s2 - 2.0);
      }
    }
    if (K >= 4) {
      PetscScalar *restrict o = S[4] + e0;
      for (PetscInt e = 0; e < m; e++) {
        const PetscScalar s = s0[e], s2 = s * s;
        o[e] = (1.0 - s2) * s * (16.0 - 24.0 * s2);
      }
    }
    if (K >= 5) {
      PetscScalar *restrict o = S[5] + e0;
      for (PetscInt e = 0; e < m; e++) {
        const PetscScalar s2 = s0[e] * s0[e];
        o[e] = (1.0 - s2) * (16.0 + s2 * (-120.0 + 120.0 * s2));
      }
    }
    break;
  case AZ_ACT_SIN:
    for (PetscInt e = 0; e < m; e++) {
      const PetscScalar s = sin(zz[e]), c = cos(zz[e]);
      s0[e] = s;
      if (K >= 1) S[1][e0 + e] = c;
      if (K >= 2) S[2][e0 + e] = -s;
      if (K >= 3) S[3][e0 + e] = -c;
      if (K >= 4) S[4][e0 + e] = s;
      if (K >= 5) S[5][e0 + e] = c;
    }
    break;
  case AZ_ACT_SOFTPLUS:
    for (PetscInt e = 0; e < m; e++) {
      /* with m = e^{−|x|} (never overflows): log(1 + eˣ) = max(x, 0) + log1p(m), p = 1/(1 + e⁻ˣ) = 1/(1 + m) or m/(1 + m) */
      const PetscScalar x = zz[e], em = exp(-fabs(x)), r = 1.0 / (1.0 + em);
      const PetscScalar p = x >= 0 ? r : em * r, q = p * (1.0 - p);
      s0[e] = (x > 0 ? x : 0.0) + log1p(em);
      if (K >= 1) S[1][e0 + e] = p;
      if (K >= 2) S[2][e0 + e] = q;
      if (K >= 3) S[3][e0 + e] = q * (1.0 - 2.0 * p);
      if (K >= 4) S[4][e0 + e] = q * (1.0 + p * (-6.0 + 6.0 * p));
      if (K >= 5) S[5][e0 + e] = q * (1.0 + p * (-14.0 + p * (36.0 - 24.0 * p)));
    }
    break;
  case AZ_ACT_GELU:
    for (PetscInt e = 0; e < m; e++) {
      const PetscScalar x = zz[e], x2 = x * x;
      const PetscScalar Phi = 0.5 * erfc(-x * 0.70710678118654752440), phi = 0.39894228040143267794 * exp(-0.5 * x2);
      s0[e] = x * Phi;
      if (K >= 1) S[1][e0 + e] = Phi + x * phi;
      if (K >= 2) S[2][e0 + e] = (2.0 - x2) * phi;
      if (K >= 3) S[3][e0 + e] = x * (x2 - 4.0) * phi;
      if (K >= 4) S[4][e0 + e] = (-4.0 + x2 * (7.0 - x2)) * phi;
      if (K >= 5) S[5][e0 + e] = x * (18.0 + x2 * (-11.0 + x2)) * phi;
    }
    break;
  case AZ_ACT_SWISH:
    for (PetscInt e = 0; e < m; e++) {
      const PetscScalar x = zz[e], p = 1.0 / (1.0 + exp(-x)), q = p * (1.0 - p);
      /* p^(k) for k = 1..5 as q times a polynomial in p */
      const PetscScalar p1 = q, p2 = q * (1.0 - 2.0 * p), p3 = q * (1.0 + p * (-6.0 + 6.0 * p)), p4 = q * (1.0 + p * (-14.0 + p * (36.0 - 24.0 * p)));
      s0[e] = x * p;
      if (K >= 1) S[1][e0 + e] = x * p1 + p;
      if (K >= 2) S[2][e0 + e] = x * p2 + 2.0 * p1;
      if (K >= 3) S[3][e0 + e] = x * p3 + 3.0 * p2;
      if (K >= 4) S[4][e0 + e] = x * p4 + 4.0 * p3;
      if (K >= 5) {
        const PetscScalar p5 = q * (1.0 + p * (-30.0 + p * (150.0 + p * (-240.0 + 120.0 * p))));
        S[5][e0 + e] = x * p5 + 5.0 * p4;
      }
    }
    break;
  default:
    break; /* checked by the callers */
  }
}

static PetscErrorCode CheckActivation(AzActivation act, PetscInt K)
{
  PetscFunctionBegin;
  PetscCheck(K >= 0 && K <= 5, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "activation derivatives of order %" PetscInt_FMT " requested; 0..5 are available", K);
  PetscCheck(act >= AZ_ACT_TANH && act <= AZ_ACT_SWISH, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "unknown activation %d", (int)act);
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode CheckSlots(const AzActiveSlot slots[], PetscInt nact)
{
  PetscFunctionBegin;
  for (PetscInt a = 1; a < nact; a++) PetscCheck(slots[a].kind >= AZ_SLOT_D1 && slots[a].kind <= AZ_SLOT_D4, PETSC_COMM_SELF, PETSC_ERR_PLIB, "slot kind %d cannot follow the value", (int)slots[a].kind);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* the rules at the top on numbers e0 .. e0+m-1 of every slot block (see AzActivationJetsForward) */
AZ_TILE_FN JetsForwardTile(PetscScalar A[], const PetscScalar Z[], const PetscScalar *const S[], const AzActiveSlot slots[], PetscInt nact, PetscInt n, PetscInt e0, PetscInt m)
{
  const PetscScalar *restrict s1 = S[1] + e0;

  for (PetscInt a = 1; a < nact; a++) {
    const AzActiveSlot *sl = &slots[a];
    PetscScalar *restrict       o  = A + a * n + e0;
    const PetscScalar *restrict za = Z + a * n + e0;

    switch (sl->kind) {
    case AZ_SLOT_D1: /* a_i = σ1 z_i */
      for (PetscInt e = 0; e < m; e++) o[e] = s1[e] * za[e];
      break;
    case AZ_SLOT_D2: { /* a_ij = σ2 z_i z_j + σ1 z_ij */
      const PetscScalar *restrict s2 = S[2] + e0, *restrict zi = Z + sl->pi * n + e0, *restrict zj = Z + sl->pj * n + e0;
      for (PetscInt e = 0; e < m; e++) o[e] = s2[e] * zi[e] * zj[e] + s1[e] * za[e];
    } break;
    case AZ_SLOT_D3: { /* a₃ = σ3 z₁³ + 3σ2 z₁z₂ + σ1 z₃ */
      const PetscScalar *restrict s2 = S[2] + e0, *restrict s3 = S[3] + e0, *restrict z1 = Z + sl->pi * n + e0, *restrict z2 = Z + sl->pii * n + e0;
      for (PetscInt e = 0; e < m; e++) {
        const PetscScalar u1 = z1[e];
        o[e] = (s3[e] * u1 * u1 + 3.0 * s2[e] * z2[e]) * u1 + s1[e] * za[e];
      }
    } break;
    case AZ_SLOT_D4: { /* a₄ = σ4 z₁⁴ + 6σ3 z₁²z₂ + σ2 (3z₂² + 4z₁z₃) + σ1 z₄ */
      const PetscScalar *restrict s2 = S[2] + e0, *restrict s3 = S[3] + e0, *restrict s4 = S[4] + e0;
      const PetscScalar *restrict z1 = Z + sl->pi * n + e0, *restrict z2 = Z + sl->pii * n + e0, *restrict z3 = Z + sl->piii * n + e0;
      for (PetscInt e = 0; e < m; e++) {
        const PetscScalar u1 = z1[e], u2 = z2[e], q = u1 * u1;
        o[e] = s4[e] * q * q + 6.0 * s3[e] * q * u2 + s2[e] * (3.0 * u2 * u2 + 4.0 * u1 * z3[e]) + s1[e] * za[e];
      }
    } break;
    default:
      break; /* checked by the callers */
    }
  }
}

/* the reverse rules below on numbers e0 .. e0+m-1 of every slot block */
AZ_TILE_FN JetsBackwardTile(PetscScalar Zbar[], const PetscScalar Abar[], const PetscScalar Z[], const PetscScalar *const S[], const AzActiveSlot slots[], PetscInt nact, PetscInt n, PetscInt e0, PetscInt m)
{
  const PetscScalar *restrict s1 = S[1] + e0;
  PetscScalar *restrict       g0 = Zbar + e0;

  for (PetscInt a = 0; a < nact; a++) {
    PetscScalar *restrict       o  = Zbar + a * n + e0;
    const PetscScalar *restrict ab = Abar + a * n + e0;
    for (PetscInt e = 0; e < m; e++) o[e] = s1[e] * ab[e];
  }
  for (PetscInt a = 1; a < nact; a++) {
    const AzActiveSlot *sl = &slots[a];
    const PetscScalar *restrict ab = Abar + a * n + e0;
    const PetscScalar *restrict s2 = S[2] + e0;

    switch (sl->kind) {
    case AZ_SLOT_D1: {
      const PetscScalar *restrict zi = Z + a * n + e0;
      for (PetscInt e = 0; e < m; e++) g0[e] += ab[e] * s2[e] * zi[e];
    } break;
    case AZ_SLOT_D2: {
      const PetscScalar *restrict s3 = S[3] + e0, *restrict zij = Z + a * n + e0, *restrict zi = Z + sl->pi * n + e0, *restrict zj = Z + sl->pj * n + e0;
      PetscScalar *restrict gi = Zbar + sl->pi * n + e0, *restrict gj = Zbar + sl->pj * n + e0;
      for (PetscInt e = 0; e < m; e++) g0[e] += ab[e] * (s3[e] * zi[e] * zj[e] + s2[e] * zij[e]);
      if (sl->pi == sl->pj) {
        for (PetscInt e = 0; e < m; e++) gi[e] += 2.0 * ab[e] * s2[e] * zi[e];
      } else {
        for (PetscInt e = 0; e < m; e++) {
          const PetscScalar t = ab[e] * s2[e];
          gi[e] += t * zj[e];
          gj[e] += t * zi[e];
        }
      }
    } break;
    case AZ_SLOT_D3: {
      const PetscScalar *restrict s3 = S[3] + e0, *restrict s4 = S[4] + e0;
      const PetscScalar *restrict z1 = Z + sl->pi * n + e0, *restrict z2 = Z + sl->pii * n + e0, *restrict z3 = Z + a * n + e0;
      PetscScalar *restrict g1 = Zbar + sl->pi * n + e0, *restrict g2 = Zbar + sl->pii * n + e0;
      for (PetscInt e = 0; e < m; e++) {
        const PetscScalar u1 = z1[e], u2 = z2[e], b = ab[e];
        g0[e] += b * ((s4[e] * u1 * u1 + 3.0 * s3[e] * u2) * u1 + s2[e] * z3[e]);
        g1[e] += b * 3.0 * (s3[e] * u1 * u1 + s2[e] * u2);
        g2[e] += b * 3.0 * s2[e] * u1;
      }
    } break;
    case AZ_SLOT_D4: {
      const PetscScalar *restrict s3 = S[3] + e0, *restrict s4 = S[4] + e0, *restrict s5 = S[5] + e0;
      const PetscScalar *restrict z1 = Z + sl->pi * n + e0, *restrict z2 = Z + sl->pii * n + e0, *restrict z3 = Z + sl->piii * n + e0, *restrict z4 = Z + a * n + e0;
      PetscScalar *restrict g1 = Zbar + sl->pi * n + e0, *restrict g2 = Zbar + sl->pii * n + e0, *restrict g3 = Zbar + sl->piii * n + e0;
      for (PetscInt e = 0; e < m; e++) {
        const PetscScalar u1 = z1[e], u2 = z2[e], u3 = z3[e], q = u1 * u1, b = ab[e];
        g0[e] += b * (s5[e] * q * q + 6.0 * s4[e] * q * u2 + s3[e] * (3.0 * u2 * u2 + 4.0 * u1 * u3) + s2[e] * z4[e]);
        g1[e] += b * (4.0 * s4[e] * q * u1 + 12.0 * s3[e] * u1 * u2 + 4.0 * s2[e] * u3);
        g2[e] += b * 6.0 * (s3[e] * q + s2[e] * u2);
        g3[e] += b * 4.0 * s2[e] * u1;
      }
    } break;
    default:
      break; /* checked by the callers */
    }
  }
}

/* The passes over all tiles, compiled twice on x86-64 (fieldimpl.h's AZ_X86_CLONES): for the baseline
 * instruction set and for AVX2 + FMA, chosen at run time (AzUseAVX2). FMA contracts a·b + c, so the two
 * differ in the last bits; every process of a run on one kind of CPU takes the same one. */
#define AZ_PASSES(sfx, attr) \
  attr static void ForwardPass##sfx(PetscScalar A[], PetscScalar *const S[], const PetscScalar Z[], AzActivation act, PetscInt K, const AzActiveSlot slots[], PetscInt nact, PetscInt n) \
  { \
    PetscInt e0 = 0; \
    for (; e0 + AZ_TILE <= n; e0 += AZ_TILE) { \
      DerivativesTile(S, Z, act, K, e0, AZ_TILE); \
      JetsForwardTile(A, Z, (const PetscScalar *const *)S, slots, nact, n, e0, AZ_TILE); \
    } \
    if (e0 < n) { \
      DerivativesTile(S, Z, act, K, e0, n - e0); \
      JetsForwardTile(A, Z, (const PetscScalar *const *)S, slots, nact, n, e0, n - e0); \
    } \
  } \
  attr static void BackwardPass##sfx(PetscScalar Zbar[], const PetscScalar Abar[], const PetscScalar Z[], const PetscScalar *const S[], const AzActiveSlot slots[], PetscInt nact, PetscInt n) \
  { \
    PetscInt e0 = 0; \
    for (; e0 + AZ_TILE <= n; e0 += AZ_TILE) JetsBackwardTile(Zbar, Abar, Z, S, slots, nact, n, e0, AZ_TILE); \
    if (e0 < n) JetsBackwardTile(Zbar, Abar, Z, S, slots, nact, n, e0, n - e0); \
  }
AZ_PASSES(_base, )
#if defined(AZ_X86_CLONES)
AZ_PASSES(_avx2, AZ_TARGET_AVX2)
#endif

/* The forward step of a layer: σ^(k)(z₀) for k = 0..K (K <= 5) into S[k][0..n) (S[0] = A: σ itself is
 * the value block of A), then the jets of a = σ(z) from the jets of z (the rules at the top), tile by
 * tile (a tile's σ^(k) are still in the L1 cache when its jets read them):
 *   tanh:     s = tanh z: σ' = 1 − s², σ'' = −2sσ', σ''' = σ'(6s² − 2), σ⁗ = σ'(16s − 24s³)... (each
 *             σ^(k) = P_k(s), and σ^(k+1) = P_k'(s)(1 − s²))
 *   sin:      σ^(k) = sin(z + kπ/2)
 *   softplus: σ = log(1 + eᶻ), p = σ' = 1/(1 + e⁻ᶻ); p' = p(1 − p), and σ^(k+1) = Q_k'(p) p(1 − p)
 *   gelu:     σ = z Φ(z) (exact, Φ the normal CDF), φ = Φ' = e^{−z²/2}/√(2π), φ' = −zφ:
 *             σ' = Φ + zφ, σ'' = (2 − z²)φ, σ''' = (z³ − 4z)φ, σ⁗ = (−z⁴ + 7z² − 4)φ, σ⁽⁵⁾ = (z⁵ − 11z³ + 18z)φ
 *   swish:    σ = z p(z), p the logistic sigmoid: σ^(k) = z p^(k) + k p^(k−1)
 */
PetscErrorCode AzActivationForward(PetscScalar A[], PetscScalar *const S[], const PetscScalar Z[], AzActivation act, PetscInt K, const AzActiveSlot slots[], PetscInt nact, PetscInt n)
{
  PetscFunctionBegin;
  PetscCheck(S[0] == A, PETSC_COMM_SELF, PETSC_ERR_PLIB, "σ's block must be the value block of A");
  PetscCall(CheckActivation(act, K));
  PetscCall(CheckSlots(slots, nact));
#if defined(AZ_X86_CLONES)
  if (AzUseAVX2()) ForwardPass_avx2(A, S, Z, act, K, slots, nact, n);
  else
#endif
    ForwardPass_base(A, S, Z, act, K, slots, nact, n);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Reverse mode: z̄ = (∂a/∂z)ᵀ ā, overwriting Zbar. Each a_s = Σ_terms c σk Π z_f contributes
 *     z̄₀ += ā_s Σ c σ(k+1) Π z_f,     z̄_g += ā_s Σ c σk ∂(Π z_f)/∂z_g,
 * that is, with ā = ā_s:
 *     value: z̄₀ = σ1 ā₀;   every slot: z̄_s = σ1 ā_s + (terms from higher slots below)
 *     a_i:   z̄₀ += ā σ2 z_i
 *     a_ij:  z̄₀ += ā (σ3 z_i z_j + σ2 z_ij),  z̄_i += ā σ2 z_j,  z̄_j += ā σ2 z_i   (i = j: z̄_i += 2ā σ2 z_i)
 *     a₃:    z̄₀ += ā (σ4 z₁³ + 3σ3 z₁z₂ + σ2 z₃),  z̄₁ += ā (3σ3 z₁² + 3σ2 z₂),  z̄₂ += 3ā σ2 z₁
 *     a₄:    z̄₀ += ā (σ5 z₁⁴ + 6σ4 z₁²z₂ + σ3 (3z₂² + 4z₁z₃) + σ2 z₄),  z̄₁ += ā (4σ4 z₁³ + 12σ3 z₁z₂ + 4σ2 z₃),
 *            z̄₂ += ā (6σ3 z₁² + 6σ2 z₂),  z̄₃ += 4ā σ2 z₁
 * S must hold σ^(k) up to one order beyond the highest active slot. */
PetscErrorCode AzActivationJetsBackward(PetscScalar Zbar[], const PetscScalar Abar[], const PetscScalar Z[], const PetscScalar *const S[], const AzActiveSlot slots[], PetscInt nact, PetscInt n)
{
  PetscFunctionBegin;
  PetscCall(CheckSlots(slots, nact));
#if defined(AZ_X86_CLONES)
  if (AzUseAVX2()) BackwardPass_avx2(Zbar, Abar, Z, S, slots, nact, n);
  else
#endif
    BackwardPass_base(Zbar, Abar, Z, S, slots, nact, n);
  PetscFunctionReturn(PETSC_SUCCESS);
}
/* Tangent mode: ȧ = (∂a/∂z) ż, the derivative of each rule along (ż₀, ż_s):
 *     ȧ₀   = σ1 ż₀
 *     ȧ_i  = σ2 ż₀ z_i + σ1 ż_i
 *     ȧ_ij = ż₀ (σ3 z_i z_j + σ2 z_ij) + σ2 (ż_i z_j + z_i ż_j) + σ1 ż_ij
 *     ȧ₃   = ż₀ (σ4 z₁³ + 3σ3 z₁z₂ + σ2 z₃) + 3σ3 z₁² ż₁ + 3σ2 (ż₁z₂ + z₁ż₂) + σ1 ż₃
 *     ȧ₄   = ż₀ (σ5 z₁⁴ + 6σ4 z₁²z₂ + σ3 (3z₂² + 4z₁z₃) + σ2 z₄) + 4σ4 z₁³ż₁ + 6σ3 (2z₁ż₁z₂ + z₁²ż₂)
 *            + σ2 (6z₂ż₂ + 4ż₁z₃ + 4z₁ż₃) + σ1 ż₄
 * S must hold σ^(k) up to one order beyond the highest active slot. */
PetscErrorCode AzActivationJetsTangent(PetscScalar Adot[], const PetscScalar Zdot[], const PetscScalar Z[], const PetscScalar *const S[], const AzActiveSlot slots[], PetscInt nact, PetscInt n)
{
  const PetscScalar *restrict s1 = S[1], *restrict d0 = Zdot;

  PetscFunctionBegin;
  for (PetscInt e = 0; e < n; e++) Adot[e] = s1[e] * d0[e];
  for (PetscInt a = 1; a < nact; a++) {
    const AzActiveSlot *sl = &slots[a];
    PetscScalar *restrict       o  = Adot + a * n;
    const PetscScalar *restrict da = Zdot + a * n, *restrict za = Z + a * n;
    const PetscScalar *restrict s2 = S[2];

    switch (sl->kind) {
    case AZ_SLOT_D1:
      for (PetscInt e = 0; e < n; e++) o[e] = s2[e] * d0[e] * za[e] + s1[e] * da[e];
      break;
    case AZ_SLOT_D2: {
      const PetscScalar *restrict s3 = S[3], *restrict zi = Z + sl->pi * n, *restrict zj = Z + sl->pj * n;
      const PetscScalar *restrict di = Zdot + sl->pi * n, *restrict dj = Zdot + sl->pj * n;
      for (PetscInt e = 0; e < n; e++) o[e] = d0[e] * (s3[e] * zi[e] * zj[e] + s2[e] * za[e]) + s2[e] * (di[e] * zj[e] + zi[e] * dj[e]) + s1[e] * da[e];
    } break;
    case AZ_SLOT_D3: {
      const PetscScalar *restrict s3 = S[3], *restrict s4 = S[4];
      const PetscScalar *restrict z1 = Z + sl->pi * n, *restrict z2 = Z + sl->pii * n;
      const PetscScalar *restrict d1 = Zdot + sl->pi * n, *restrict d2 = Zdot + sl->pii * n;
      for (PetscInt e = 0; e < n; e++) {
        const PetscScalar u1 = z1[e], u2 = z2[e];
        o[e] = d0[e] * ((s4[e] * u1 * u1 + 3.0 * s3[e] * u2) * u1 + s2[e] * za[e]) + 3.0 * s3[e] * u1 * u1 * d1[e] + 3.0 * s2[e] * (d1[e] * u2 + u1 * d2[e]) + s1[e] * da[e];
      }
    } break;
    case AZ_SLOT_D4: {
      const PetscScalar *restrict s3 = S[3], *restrict s4 = S[4], *restrict s5 = S[5];
      const PetscScalar *restrict z1 = Z + sl->pi * n, *restrict z2 = Z + sl->pii * n, *restrict z3 = Z + sl->piii * n;
      const PetscScalar *restrict d1 = Zdot + sl->pi * n, *restrict d2 = Zdot + sl->pii * n, *restrict d3 = Zdot + sl->piii * n;
      for (PetscInt e = 0; e < n; e++) {
        const PetscScalar u1 = z1[e], u2 = z2[e], u3 = z3[e], q = u1 * u1;
        o[e] = d0[e] * (s5[e] * q * q + 6.0 * s4[e] * q * u2 + s3[e] * (3.0 * u2 * u2 + 4.0 * u1 * u3) + s2[e] * za[e]) + 4.0 * s4[e] * q * u1 * d1[e] + 6.0 * s3[e] * (2.0 * u1 * d1[e] * u2 + q * d2[e]) + s2[e] * (6.0 * u2 * d2[e] + 4.0 * (d1[e] * u3 + u1 * d3[e])) + s1[e] * da[e];
      }
    } break;
    default:
      SETERRQ(PETSC_COMM_SELF, PETSC_ERR_PLIB, "slot kind %d cannot follow the value", (int)sl->kind);
    }
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}
