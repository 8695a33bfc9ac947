/* Field: the neural ansatz u_θ(x) and its exact derivative jets.
 *
 * A network of one kind (AzNetwork: a multilayer perceptron, or PirateNet) with optional input
 * embeddings (random Fourier features; an exact periodic embedding in chosen coordinates), inputs
 * mapped to [-1, 1] from the problem's box, and optional random weight factorisation (RWF) of every
 * dense kernel. All parameters θ live in one PETSc Vec. Derivatives with respect to the inputs
 * propagate forward through the layers (Taylor mode, one GEMM per layer over width × points·slots);
 * derivatives with respect to θ come from reverse mode through that propagation (Jᵀw), forward mode
 * (J·v), or the dense Jacobian.
 *
 * Jets use the layout of jet.h: jets[p*ncomp*nslot + c*nslot + slot], slots that were not
 * requested hold NaN. Points are x[p*ncoord + i]. Work is done in chunks of points, so memory does
 * not grow with npts.
 *
 * θ layout: the network's dense layers one after the other, each stored as W (nout, nin) row-major,
 * W[o*nin + i], followed by b (nout), and with RWF followed by s (nout), W = diag(exp(s))·V and V
 * stored in W's place. E = the number of embedded inputs, w = width, c = ncomp:
 *   mlp (depth hidden layers):  θ = [W_0, b_0, W_1, b_1, ..., W_depth, b_depth], W_0 (w, E),
 *                               W_l (w, w), W_depth (c, w).
 *   pirate (depth blocks):      θ = [W_u, b_u, W_v, b_v, then per block W_1, b_1, W_2, b_2, W_3, b_3, α,
 *                               then W_o, b_o], W_u, W_v, W_1 (w, E), W_2 (w, w), W_3 (E, w), W_o (c, E).
 * Embedded inputs, in order: for each coordinate i, x̂_i (or, if periodic, cos and sin of 2πk x_i/L for
 * k = 1..nharm), then the Fourier features cos(2π B_r·x̂) for r = 1..count, then sin(2π B_r·x̂)
 * (concatenated with the inputs; B's columns of periodic coordinates are zero, so periodicity stays exact).
 *
 * The architecture, embeddings and seed are fixed by AzFieldSetUp; the box, the jet request and the
 * chunk size may change at any time.
 */
#ifndef ANSATZ_FIELD_H
#define ANSATZ_FIELD_H

#include <petscvec.h>
#include <ansatz/jet.h>
#include <ansatz/file.h>

typedef struct _p_AzField *AzField;

typedef enum {
  AZ_ACT_TANH,
  AZ_ACT_SIN,
  AZ_ACT_SOFTPLUS,
  AZ_ACT_GELU,
  AZ_ACT_SWISH
} AzActivation;
PETSC_EXTERN const char *const AzActivations[];

/* The network kind (-az_field_arch): a multilayer perceptron, or PirateNet (Wang, Li, Chen, Perdikaris
 * 2024: gated residual blocks with a trainable skip weight α, initially 0) */
typedef enum {
  AZ_NET_MLP,
  AZ_NET_PIRATE
} AzNetwork;
PETSC_EXTERN const char *const AzNetworks[];

PETSC_EXTERN PetscErrorCode AzFieldCreate(MPI_Comm comm, AzField *field);
PETSC_EXTERN PetscErrorCode AzFieldDestroy(AzField *field);
/* ncoord inputs (space, then time), ncomp outputs */
PETSC_EXTERN PetscErrorCode AzFieldSetDimensions(AzField field, PetscInt ncoord, PetscInt ncomp);
/* the box the inputs are mapped from onto [-1, 1] */
PETSC_EXTERN PetscErrorCode AzFieldSetBox(AzField field, const PetscReal lower[], const PetscReal upper[]);
/* which slots to compute (closed here with AzJetRequestClose; the value alone if never set) */
PETSC_EXTERN PetscErrorCode AzFieldSetJetRequest(AzField field, const AzJetRequest *req);
/* mlp: depth hidden layers of width neurons; pirate: depth residual blocks of width neurons */
PETSC_EXTERN PetscErrorCode AzFieldSetArchitecture(AzField field, PetscInt depth, PetscInt width, AzActivation act);
PETSC_EXTERN PetscErrorCode AzFieldSetNetwork(AzField field, AzNetwork net);
/* random weight factorisation (Wang et al. 2022) of every dense kernel: W = diag(exp(s))·V with
 * s ~ N(mean, std²) at initialisation and V = W_Glorot/exp(s); θ holds s and V */
PETSC_EXTERN PetscErrorCode AzFieldSetWeightFactorization(AzField field, PetscBool rwf, PetscReal mean, PetscReal std);
/* exact periodic embedding of coordinate i with period L: x_i -> cos(2πk x_i/L), sin(2πk x_i/L), k = 1..nharm */
PETSC_EXTERN PetscErrorCode AzFieldSetPeriodic(AzField field, PetscInt coord, PetscReal period, PetscInt nharm);
/* random Fourier features: cos(2π B x̂), sin(2π B x̂), B (count × ncoord) ~ N(0, scale²) from the seed */
PETSC_EXTERN PetscErrorCode AzFieldSetFourierFeatures(AzField field, PetscInt count, PetscReal scale);
PETSC_EXTERN PetscErrorCode AzFieldSetSeed(AzField field, PetscInt seed);
PETSC_EXTERN PetscErrorCode AzFieldSetChunkSize(AzField field, PetscInt chunk);
/* OpenBLAS threads pinned during field work (-az_field_blas_threads; 0: OpenBLAS's own setting) */
PETSC_EXTERN PetscErrorCode AzFieldGetBlasThreads(AzField field, PetscInt *n);
/* -az_field_arch -az_field_rwf -az_field_rwf_mean -az_field_rwf_std
 * -az_field_depth -az_field_width -az_field_activation -az_field_seed -az_field_fourier_features
 * -az_field_fourier_scale -az_field_periodic i:L[,j:L] -az_field_periodic_harmonics -az_field_chunk
 * -az_field_blas_threads (OpenBLAS threads during field work, default 1; 0 leaves OpenBLAS's setting) */
PETSC_EXTERN PetscErrorCode AzFieldSetFromOptions(AzField field);
/* allocates θ and fills it with Glorot-uniform weights (zero biases and α; RWF: s ~ N(mean, std²), V = W/exp(s)) from the seed */
PETSC_EXTERN PetscErrorCode AzFieldSetUp(AzField field);
PETSC_EXTERN PetscErrorCode AzFieldView(AzField field, PetscViewer viewer);

/* What fixes the meaning of θ; the header of theta.bin and of checkpoints (see src/field/save.c) */
typedef struct {
  AzNetwork    net;
  PetscBool    rwf; /* random weight factorisation (the initial mean and std do not shape θ's meaning) */
  PetscInt     ncoord, ncomp, depth, width;
  AzActivation act;
  PetscInt     nfourier, seed; /* seed: 0 without Fourier features (it then does not shape the network) */
  PetscReal    fourier_scale;
  PetscReal    period[AZ_MAX_COORD]; /* 0: not periodic */
  PetscInt     nharm[AZ_MAX_COORD];
  PetscInt     nparam;
} AzFieldArchitecture;
PETSC_EXTERN PetscErrorCode AzFieldGetArchitecture(AzField field, AzFieldArchitecture *arch);
/* theta.bin: a versioned header (the architecture), then θ; written on rank 0 of comm through AzFile.
 * AzFieldLoad reads it on every rank and refuses a file of another network, naming what differs. */
PETSC_EXTERN PetscErrorCode AzFieldSave(AzField field, MPI_Comm comm, const char path[]);
PETSC_EXTERN PetscErrorCode AzFieldLoad(AzField field, const char path[]);
/* the header alone, for files that hold more than θ (checkpoints): magic is up to 7 characters */
PETSC_EXTERN PetscErrorCode AzFieldWriteHeader(AzField field, AzFile file, const char magic[]);
PETSC_EXTERN PetscErrorCode AzFieldReadHeader(AzField field, FILE *fp, const char path[], const char magic[], const char kind[]);
/* fread of exactly n bytes, or an error naming the file and what was being read */
PETSC_EXTERN PetscErrorCode AzFieldFileRead(MPI_Comm comm, FILE *fp, const char path[], void *buf, size_t n, const char what[]);

/* θ itself (not a copy): changing it changes the field. Sequential Vec, the same on every rank. */
PETSC_EXTERN PetscErrorCode AzFieldGetParameters(AzField field, Vec *theta);
PETSC_EXTERN PetscErrorCode AzFieldGetNumParameters(AzField field, PetscInt *n); /* θ's length: the network's and the extras */
/* the network's parameters alone (θ's first entries) */
PETSC_EXTERN PetscErrorCode AzFieldGetNumNetworkParameters(AzField field, PetscInt *n);
/* Append n unknowns to θ that the network does not read (an inverse problem's parameters): θ becomes
 * a new Vec (get it again with AzFieldGetParameters), the network's entries kept, the extras 0. Their
 * gradient and Jacobian entries are left to the caller (the loss); theta.bin holds the network's alone. */
PETSC_EXTERN PetscErrorCode AzFieldSetExtraParameters(AzField field, PetscInt n);
PETSC_EXTERN PetscErrorCode AzFieldGetJetSize(AzField field, PetscInt *ncomp, PetscInt *nslot);

/* jets at npts points */
PETSC_EXTERN PetscErrorCode AzFieldEvaluateJets(AzField field, PetscInt npts, const PetscReal x[], PetscScalar jets[]);

/* Reverse mode: grad += Σ_p Σ_s jetbar[p,s] ∂jets[p,s]/∂θ (Jᵀ·w at the jet level). Slots not requested
 * in jetbar are ignored. If jets is not NULL it also receives the jets (one forward pass serves both). */
PETSC_EXTERN PetscErrorCode AzFieldJetsBackward(AzField field, PetscInt npts, const PetscReal x[], const PetscScalar jetbar[], PetscScalar jets[], Vec grad);

/* Reverse mode with the adjoint computed from the jets themselves, one forward pass per chunk: for each
 * chunk of np points starting at p0, fn receives their jets and fills jetbar (same layout), then
 * grad += Σ jetbar · ∂jets/∂θ. This is how a loss computes its gradient without a second forward pass. */
typedef PetscErrorCode (*AzJetAdjointFn)(void *ctx, PetscInt p0, PetscInt np, const PetscScalar jets[], PetscScalar jetbar[]);
PETSC_EXTERN PetscErrorCode AzFieldJetsVJP(AzField field, PetscInt npts, const PetscReal x[], AzJetAdjointFn fn, void *ctx, Vec grad);

/* Forward mode in θ: jetdot[p,s] = Σ_k ∂jets[p,s]/∂θ_k v_k (J·v at the jet level). */
PETSC_EXTERN PetscErrorCode AzFieldJetsTangent(AzField field, PetscInt npts, const PetscReal x[], Vec v, PetscScalar jetdot[]);

/* Dense Jacobian of residuals that depend linearly on each point's jet through given rows:
 * for point p and residual k (nres per point), with D_p = drdjet[p*nres*L + k*L + s] (L = ncomp*nslot),
 *     Jac[(p*nres + k)*nparam + j] = Σ_s D_p[k,s] ∂jets[p,s]/∂θ_j.
 * Passing D = the identity on the requested slots gives the Jacobian of the jets themselves.
 * Entries of D at slots not requested are ignored; every entry of the npts*nres rows is written. */
PETSC_EXTERN PetscErrorCode AzFieldResidualJacobian(AzField field, PetscInt npts, const PetscReal x[], PetscInt nres, const PetscScalar drdjet[], PetscScalar Jac[]);

#endif
