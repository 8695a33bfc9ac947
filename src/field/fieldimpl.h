/* Private to src/field: the AzField struct and the layer kernels the drivers share.
 *
 * Data layout used everywhere in the kernels ("slot blocks"): a layer's jets over a chunk of np points
 * are one column-major matrix of n rows (neurons) and nact*np columns, column (a*np + p) holding active
 * slot a at point p:
 *     X[(a*np + p)*n + i]            neuron i, point p, active slot a
 * so slot a is the contiguous block X + a*np*n, elementwise activation steps are flat loops over
 * np*n numbers, and a linear layer is one GEMM over all nact*np columns.
 */
#ifndef ANSATZ_FIELDIMPL_H
#define ANSATZ_FIELDIMPL_H

#include <ansatz/field.h>
#include <stdint.h>
#include <string.h>

#if defined(PETSC_USE_COMPLEX)
  #error "ansatz's field needs real PetscScalar (PETSc configured without complex scalars)"
#endif

/* Kind of a jet slot; the Faà di Bruno rule of each is in activation.c. */
typedef enum {
  AZ_SLOT_VALUE, /* u */
  AZ_SLOT_D1,    /* ∂_i u */
  AZ_SLOT_D2,    /* ∂_i ∂_j u, i <= j */
  AZ_SLOT_D3,    /* ∂_i³ u */
  AZ_SLOT_D4     /* ∂_i⁴ u */
} AzSlotKind;

/* One propagated ("active") slot. The p* fields are positions in the active list of the lower slots
 * the chain rule for this slot reads (present because the request is closed). */
typedef struct {
  PetscInt   slot;  /* slot number in the jet.h layout */
  AzSlotKind kind;
  PetscInt   order; /* total derivative order 0..4 */
  PetscInt   i, j;  /* coordinates (j == i for pure derivatives; unused for the value) */
  PetscInt   pi;    /* D2: ∂_i;  D3, D4: ∂_i */
  PetscInt   pj;    /* D2: ∂_j */
  PetscInt   pii;   /* D3, D4: ∂_i² */
  PetscInt   piii;  /* D4: ∂_i³ */
} AzActiveSlot;

/* One input feature ψ-function of the inputs: f = g(ψ), ψ = Σ_i c_i u_i, where u = x̂ (the box mapped
 * onto [-1, 1]) when mapped, the raw coordinates x otherwise (the periodic embedding, so that the
 * period is exact). g is the identity, cos or sin. */
typedef enum {
  AZ_FEAT_LINEAR,
  AZ_FEAT_COS,
  AZ_FEAT_SIN
} AzFeatureKind;

typedef struct {
  AzFeatureKind kind;
  PetscBool     mapped;
  PetscReal     c[AZ_MAX_COORD];
} AzFeature;

/* A linear layer Z = W·A + b: W (nout, nin) row-major at theta + offW, then b (nout) at theta + offb.
 * With random weight factorisation (offs >= 0) θ holds V at offW and s (nout) at offs, and the kernels
 * read W = diag(exp(s))·V from the effective parameters (rwf.c), which have W at offW. */
typedef struct {
  PetscInt nin, nout;
  PetscInt offW, offb;
  PetscInt offs; /* -1: no factorisation */
} AzLayer;

/* Per-chunk workspace, allocated once (grown only when a request or a Jacobian needs more). */
typedef struct {
  PetscScalar *mem;
  size_t       capacity; /* PetscScalars in mem */
  PetscInt     np;       /* points per chunk the pointers below are laid out for */
  PetscInt     nact;
  PetscScalar *H;    /* (nin, nact*np) input features and their jets */
  PetscScalar **Z;   /* [depth] (width, nact*np) pre-activation jets of hidden layer l */
  PetscScalar **A;   /* [depth] (width, nact*np) post-activation jets */
  PetscScalar **S;   /* [depth] (width, K*np): σ^(k)(z) for k = 1..K, block k-1 */
  PetscScalar *U;    /* (ncomp, nact*np) output jets */
  PetscScalar *G[2]; /* (max(width,ncomp), nact*gcols) adjoint / tangent ping-pong buffers */
  PetscScalar **P;   /* [nP] buffers of other architectures (pirate.c) */
  PetscInt      nP;
} AzFieldWork;

/* One network kind: its parameter layout and its passes over one chunk of points (mlp.c, pirate.c).
 * Every pass reads the effective parameters (plain W, b: rwf.c maps θ onto them) and writes
 * gradients, tangents and Jacobian rows in terms of them; evaluate.c maps those back onto θ. */
typedef struct {
  /* fills f->layer, f->nlayer, f->offalpha and f->nparam from f->nin, width, depth, ncomp */
  PetscErrorCode (*layout)(AzField f);
  /* lays out f->work for np points per chunk and gcols adjoint columns per slot: H, U, G[0..1] and its own */
  PetscErrorCode (*worksetup)(AzField f, PetscInt np, PetscInt gcols);
  PetscErrorCode (*forward)(AzField f, PetscInt np, const PetscReal x[], const PetscScalar theta[], PetscInt K);
  PetscErrorCode (*backward)(AzField f, PetscInt np, const PetscScalar theta[], PetscScalar grad[]);
  PetscErrorCode (*tangent)(AzField f, PetscInt np, const PetscScalar theta[], const PetscScalar v[]);
  PetscErrorCode (*jacobian)(AzField f, PetscInt np, PetscInt nres, const PetscScalar theta[], PetscScalar Jac[]);
} AzFieldOps;

struct _p_AzField {
  MPI_Comm comm;

  /* configuration */
  PetscInt     ncoord, ncomp;
  PetscReal    lo[AZ_MAX_COORD], hi[AZ_MAX_COORD];
  AzJetRequest req; /* closed */
  AzNetwork    net;   /* the network kind */
  PetscInt     depth, width; /* mlp: hidden layers; pirate: residual blocks */
  AzActivation act;
  PetscBool    rwf; /* random weight factorisation of every dense kernel */
  PetscReal    rwf_mean, rwf_std;
  PetscReal    period[AZ_MAX_COORD]; /* 0: coordinate not periodic */
  PetscInt     nharm[AZ_MAX_COORD];
  PetscInt     nfourier;
  PetscReal    fourier_scale;
  PetscInt     seed;
  PetscInt     chunk;
  PetscInt     blas_threads; /* OpenBLAS threads during field work; 0: leave OpenBLAS's own setting */
  PetscBool    setupcalled;
  char         load[PETSC_MAX_PATH_LEN]; /* θ from this file (PETSc binary, e.g. a run's theta.bin) instead of Glorot */

  /* built by AzFieldSetUp */
  PetscInt   nin;  /* inputs of the first layer (after the embeddings) */
  AzFeature *feat; /* [nin] */
  PetscReal *B;    /* (nfourier, ncoord) Fourier frequencies, row-major */
  const AzFieldOps *ops;
  AzLayer   *layer;    /* [nlayer] dense layers (mlp: depth hidden layers, then the output layer) */
  PetscInt   nlayer;
  PetscInt  *offalpha; /* [depth] pirate: offset of each block's α in θ */
  PetscInt   nparam;  /* the network's parameters */
  PetscInt   nextra;  /* unknowns appended to θ that the network does not read (inferred problem parameters) */
  PetscInt   ldj;     /* θ's length nparam + nextra: the stride of Jacobian rows */
  Vec        theta;
  PetscScalar *teff, *geff, *veff; /* [nparam] with rwf: effective parameters, their gradient, a tangent */

  /* active slots of the current request */
  PetscInt     nact, maxorder;
  AzActiveSlot slots[AZ_JET_MAX_NSLOT];

  AzFieldWork work;
};

PETSC_INTERN PetscLogEvent AZ_FIELD_Jets, AZ_FIELD_Backward, AZ_FIELD_Tangent, AZ_FIELD_Jacobian;

/* x86-64 with GCC or Clang: activation.c's elementwise passes are compiled a second time for AVX2 + FMA
 * (a function attribute, no build flag), and AzUseAVX2 (simd.c) picks them at run time where the CPU
 * has both; elsewhere the baseline code runs. */
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__)) && !defined(AZ_NO_X86_CLONES)
  #define AZ_X86_CLONES
  #define AZ_TARGET_AVX2 __attribute__((target("avx2,fma")))
#endif
PETSC_INTERN PetscBool AzUseAVX2(void);
PETSC_INTERN void      AzSetAVX2(PetscBool use); /* PETSC_FALSE: the baseline code even where the CPU has AVX2 */


/* activation.c: σ and its derivatives, and the Faà di Bruno steps over slot blocks of n numbers each.
 * S[k] points to the block of σ^(k)(z₀) (S[0] is σ itself, the value block of A). */
PETSC_INTERN PetscErrorCode AzActivationForward(PetscScalar A[], PetscScalar *const S[], const PetscScalar Z[], AzActivation act, PetscInt K, const AzActiveSlot slots[], PetscInt nact, PetscInt n);
PETSC_INTERN PetscErrorCode AzActivationJetsBackward(PetscScalar Zbar[], const PetscScalar Abar[], const PetscScalar Z[], const PetscScalar *const S[], const AzActiveSlot slots[], PetscInt nact, PetscInt n);
PETSC_INTERN PetscErrorCode AzActivationJetsTangent(PetscScalar Adot[], const PetscScalar Zdot[], const PetscScalar Z[], const PetscScalar *const S[], const AzActiveSlot slots[], PetscInt nact, PetscInt n);

/* embed.c: the input features and their exact jets, the random numbers */
PETSC_INTERN PetscErrorCode AzFieldBuildFeatures(AzField field);
PETSC_INTERN PetscErrorCode AzFieldFeatureJets(AzField field, PetscInt np, const PetscReal x[], PetscScalar H[]);

/* product.c: jets of an elementwise product c = a ⊙ b (Leibniz), on slot blocks of n numbers */
PETSC_INTERN void AzJetProductAdd(PetscScalar C[], const PetscScalar A[], const PetscScalar B[], const AzActiveSlot slots[], PetscInt nact, PetscInt n);
PETSC_INTERN void AzJetProductBackward(PetscScalar Abar[], PetscScalar Bbar[], const PetscScalar Cbar[], const PetscScalar A[], const PetscScalar B[], const AzActiveSlot slots[], PetscInt nact, PetscInt n);

/* mlp.c: the multilayer perceptron over one chunk of np points (see there), and the shared helpers */
PETSC_INTERN const AzFieldOps AzFieldOps_MLP;
PETSC_INTERN PetscErrorCode   AzFieldSetActiveSlots(AzField field);
PETSC_INTERN PetscErrorCode   AzFieldWorkDestroy(AzFieldWork *work);
PETSC_INTERN PetscErrorCode   AzFieldWorkReserve(AzFieldWork *w, size_t need);
PETSC_INTERN void AzLinearForward(PetscScalar Z[], const PetscScalar A[], const PetscScalar W[], const PetscScalar b[], PetscInt nout, PetscInt nin, PetscInt ncol, PetscInt nval);
PETSC_INTERN void AzLinearBackward(PetscScalar Abar[], PetscScalar dW[], PetscScalar db[], const PetscScalar Zbar[], const PetscScalar A[], const PetscScalar W[], PetscInt nout, PetscInt nin, PetscInt ncol, PetscInt nval);
PETSC_INTERN void AzLinearTangent(PetscScalar Zdot[], const PetscScalar Adot[], const PetscScalar A[], const PetscScalar W[], const PetscScalar Wdot[], const PetscScalar bdot[], PetscInt nout, PetscInt nin, PetscInt ncol, PetscInt nval);
PETSC_INTERN void AzLinearJacobianRows(PetscScalar Jac[], PetscInt nparam, const AzLayer *L, const PetscScalar Zbar[], const PetscScalar A[], PetscInt np, PetscInt nres, PetscInt nact);

/* pirate.c: PirateNet (Wang, Li, Chen, Perdikaris 2024) */
PETSC_INTERN const AzFieldOps AzFieldOps_Pirate;

/* rwf.c: random weight factorisation W = diag(exp(s))·V: θ -> effective parameters and back */
PETSC_INTERN PetscErrorCode AzFieldEffectiveParameters(AzField f, const PetscScalar theta[], const PetscScalar **teff);
PETSC_INTERN PetscErrorCode AzFieldEffectiveTangent(AzField f, const PetscScalar theta[], const PetscScalar teff[], const PetscScalar v[], const PetscScalar **veff);
PETSC_INTERN void           AzFieldPullBackGradient(AzField f, const PetscScalar theta[], const PetscScalar teff[], const PetscScalar geff[], PetscScalar grad[]);
PETSC_INTERN void           AzFieldPullBackRows(AzField f, const PetscScalar teff[], PetscInt nrow, PetscScalar Jac[]);
PETSC_INTERN PetscErrorCode AzFieldInitParameters(AzField f);

/* e^a for 0 <= a <= 80 in arithmetic the compiler can vectorise (libm's exp is a call per number):
 * a = k ln2 + r with k = round(a/ln2), |r| <= ln2/2 (Cody and Waite: ln2 split into a high part with
 * trailing zeros, so that k·ln2_hi is exact, and a low part), e^r by its Taylor polynomial of degree 13
 * (truncation r¹⁴/14! < 5e-18 relative), and 2^k written into the exponent field. Within a few ulp of
 * the exact value (tests/test_field's test_fast_exp checks it against libm). */
#if defined(__GNUC__)
__attribute__((always_inline))
#endif
static inline PetscScalar AzExpFast(PetscScalar a)
{
  const double shift = 0x1.8p52, ln2_hi = 0x1.62e42fee00000p-1, ln2_lo = 0x1.a39ef35793c76p-33;
  const double kd = a * 1.4426950408889634074 + shift, k = kd - shift, r = (a - k * ln2_hi) - k * ln2_lo;
  double       p, scale;
  uint64_t     u;

  p = 1.0 / 6227020800.0;
  p = p * r + 1.0 / 479001600.0;
  p = p * r + 1.0 / 39916800.0;
  p = p * r + 1.0 / 3628800.0;
  p = p * r + 1.0 / 362880.0;
  p = p * r + 1.0 / 40320.0;
  p = p * r + 1.0 / 5040.0;
  p = p * r + 1.0 / 720.0;
  p = p * r + 1.0 / 120.0;
  p = p * r + 1.0 / 24.0;
  p = p * r + 1.0 / 6.0;
  p = p * r + 0.5;
  p = p * r + 1.0;
  p = p * r + 1.0;
  memcpy(&u, &kd, sizeof u);
  u = (u - 0x4338000000000000ULL + 1023) << 52; /* kd's low mantissa bits hold k; 2^k is (k + 1023) << 52 */
  memcpy(&scale, &u, sizeof scale);
  return p * scale;
}

/* splitmix64 (Steele, Lea, Flood 2014): a small, fully deterministic generator, the same on every
 * platform and rank. */
static inline unsigned long long AzSplitMix64(unsigned long long *state)
{
  unsigned long long z = (*state += 0x9E3779B97F4A7C15ULL);
  z                    = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z                    = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}
/* uniform on [0, 1) with 53 random bits */
static inline double AzRandUniform(unsigned long long *state)
{
  return (double)(AzSplitMix64(state) >> 11) * 0x1.0p-53;
}

#endif
