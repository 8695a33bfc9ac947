/* AzField: the object — creation, configuration, options, parameter layout and initialisation, view.
 *
 * Parameter layout (θ, one sequential Vec, identical on every rank): the network kind's dense layers
 * (mlp.c, pirate.c) one after the other, each stored as
 *     W_l  (nout_l, nin_l) row-major: W_l[o*nin_l + i]      (with RWF: V_l, W_l = diag(exp(s_l))·V_l)
 *     b_l  (nout_l)
 *     s_l  (nout_l)                                         (with RWF only)
 * and PirateNet's α of each block after the block's third layer (pirate.c).
 * Initialisation: rwf.c (Glorot-uniform W, zero b and α, s ~ N(mean, std²)).
 *
 * Memory bound. Workspace is allocated once per field and reused for every chunk (it grows only if a
 * later request propagates more slots); with C = chunk points, w = width, d = depth, n_a the number of
 * active slots, m = maxorder of the request, nin the first layer's inputs, c = ncomp:
 *     8 · [ C·n_a·(nin + 2·d·w + c)  +  C·(m+1)·d·w  +  2·C·n_a·max(w, c) ]   bytes
 * (input feature jets; pre- and post-activation jets and σ^(1..m+1) of every hidden layer, kept for the
 * reverse pass; output jets; two adjoint/tangent buffers). The dense Jacobian processes C/nres points
 * at a time, so it needs no more (for nres > C: replace C by nres in the last term).
 * Example: C = 256, w = 50, d = 4, 2-D with u, all first and second derivatives (n_a = 6, m = 2):
 *     8·[256·6·(2 + 400 + 1) + 256·3·200 + 2·256·6·50] ≈ 7.4 MB, whatever the number of points.
 * That is the MLP's (mlp.c); PirateNet (pirate.c) keeps per block 6 jet arrays of width w, 3 of E = nin and
 * σ^(1..m+1) of its 3 layers, plus 5 of width w for the gates, and 9 adjoint/tangent buffers of
 * max(w, E, c): about 8·C·[n_a·(E + c + 5w + d·(6w + 3E)) + (m+1)·(2w + d·(2w + E)) + 9·n_a·max(w, E, c)]
 * bytes. RWF adds three vectors of the parameters' length (rwf.c).
 */
#include "fieldimpl.h"

const char *const AzNetworks[] = {"mlp", "pirate", "AzNetwork", "AZ_NET_", NULL};

PetscLogEvent         AZ_FIELD_Jets, AZ_FIELD_Backward, AZ_FIELD_Tangent, AZ_FIELD_Jacobian;
static PetscClassId   AZ_FIELD_CLASSID;
static PetscBool      AzFieldPackageInitialized = PETSC_FALSE;
static PetscErrorCode AzFieldFinalizePackage(void)
{
  PetscFunctionBegin;
  AzFieldPackageInitialized = PETSC_FALSE;
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode AzFieldInitializePackage(void)
{
  PetscFunctionBegin;
  if (AzFieldPackageInitialized) PetscFunctionReturn(PETSC_SUCCESS);
  AzFieldPackageInitialized = PETSC_TRUE;
  PetscCall(PetscClassIdRegister("AzField", &AZ_FIELD_CLASSID));
  PetscCall(PetscLogEventRegister("AzFieldJets", AZ_FIELD_CLASSID, &AZ_FIELD_Jets));
  PetscCall(PetscLogEventRegister("AzFieldBackward", AZ_FIELD_CLASSID, &AZ_FIELD_Backward));
  PetscCall(PetscLogEventRegister("AzFieldTangent", AZ_FIELD_CLASSID, &AZ_FIELD_Tangent));
  PetscCall(PetscLogEventRegister("AzFieldJacobian", AZ_FIELD_CLASSID, &AZ_FIELD_Jacobian));
  PetscCall(PetscRegisterFinalize(AzFieldFinalizePackage));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzFieldCreate(MPI_Comm comm, AzField *field)
{
  AzField f;

  PetscFunctionBegin;
  PetscCheck(field, comm, PETSC_ERR_ARG_NULL, "AzFieldCreate() needs a place to put the new field");
  PetscCall(AzFieldInitializePackage());
  PetscCall(PetscNew(&f));
  f->comm          = comm;
  f->depth         = 4;
  f->width         = 50;
  f->act           = AZ_ACT_TANH;
  f->net           = AZ_NET_MLP;
  f->rwf_mean      = 1.0; /* jaxpi's defaults */
  f->rwf_std       = 0.1;
  f->fourier_scale = 1.0;
  f->chunk         = 256;
  f->blas_threads  = 1;
  for (PetscInt i = 0; i < AZ_MAX_COORD; i++) {
    f->lo[i]    = -1.0;
    f->hi[i]    = 1.0;
    f->nharm[i] = 1;
  }
  *field = f;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzFieldDestroy(AzField *field)
{
  AzField f;

  PetscFunctionBegin;
  if (!field || !*field) PetscFunctionReturn(PETSC_SUCCESS);
  f = *field;
  PetscCall(AzFieldWorkDestroy(&f->work));
  PetscCall(VecDestroy(&f->theta));
  PetscCall(PetscFree(f->layer));
  PetscCall(PetscFree(f->offalpha));
  PetscCall(PetscFree3(f->teff, f->geff, f->veff));
  PetscCall(PetscFree(f->feat));
  PetscCall(PetscFree(f->B));
  PetscCall(PetscFree(f));
  *field = NULL;
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode AzFieldCheckNotSetUp(AzField f, const char fn[])
{
  PetscFunctionBegin;
  PetscCheck(!f->setupcalled, f->comm, PETSC_ERR_ORDER, "%s() changes the network's parameters and must be called before AzFieldSetUp()", fn);
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzFieldSetDimensions(AzField f, PetscInt ncoord, PetscInt ncomp)
{
  PetscFunctionBegin;
  PetscCall(AzFieldCheckNotSetUp(f, "AzFieldSetDimensions"));
  PetscCheck(ncoord >= 1 && ncoord <= AZ_MAX_COORD, f->comm, PETSC_ERR_ARG_OUTOFRANGE, "number of coordinates %" PetscInt_FMT " must be in 1..%d (space, then time)", ncoord, AZ_MAX_COORD);
  PetscCheck(ncomp >= 1, f->comm, PETSC_ERR_ARG_OUTOFRANGE, "number of components %" PetscInt_FMT " must be >= 1", ncomp);
  for (PetscInt i = ncoord; i < AZ_MAX_COORD; i++) PetscCheck(f->period[i] == 0, f->comm, PETSC_ERR_ARG_OUTOFRANGE, "coordinate %" PetscInt_FMT " was made periodic but the field has only %" PetscInt_FMT " coordinates", i, ncoord);
  if (ncoord != f->ncoord) {
    /* a request for other coordinates means nothing now: back to the value alone */
    f->req.ncoord = ncoord;
    f->req.mask   = 1;
  }
  f->ncoord = ncoord;
  f->ncomp  = ncomp;
  PetscCall(AzFieldSetActiveSlots(f));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The box only changes the input map x̂ = 2(x − lo)/(hi − lo) − 1, so it may change at any time. */
PetscErrorCode AzFieldSetBox(AzField f, const PetscReal lower[], const PetscReal upper[])
{
  PetscFunctionBegin;
  PetscCheck(f->ncoord > 0, f->comm, PETSC_ERR_ORDER, "call AzFieldSetDimensions() before AzFieldSetBox()");
  for (PetscInt i = 0; i < f->ncoord; i++) {
    PetscCheck(upper[i] > lower[i], f->comm, PETSC_ERR_ARG_OUTOFRANGE, "box coordinate %" PetscInt_FMT ": upper %g must be greater than lower %g", i, (double)upper[i], (double)lower[i]);
    f->lo[i] = lower[i];
    f->hi[i] = upper[i];
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The request may change at any time (e.g. interior and boundary sets need different slots); it is
 * closed here, so the caller need not close it. */
PetscErrorCode AzFieldSetJetRequest(AzField f, const AzJetRequest *req)
{
  const PetscInt nslot = AZ_JET_NSLOT(f->ncoord);

  PetscFunctionBegin;
  PetscCheck(f->ncoord > 0, f->comm, PETSC_ERR_ORDER, "call AzFieldSetDimensions() before AzFieldSetJetRequest()");
  PetscCheck(req->ncoord == f->ncoord, f->comm, PETSC_ERR_ARG_INCOMP, "jet request is for %" PetscInt_FMT " coordinates but the field has %" PetscInt_FMT, req->ncoord, f->ncoord);
  PetscCheck(req->mask >= 0 && (req->mask >> nslot) == 0, f->comm, PETSC_ERR_ARG_WRONG, "jet request mask %" PetscInt_FMT " is invalid (a failed AzJetRequestParse?)", req->mask);
  f->req = *req;
  PetscCall(AzJetRequestClose(&f->req));
  PetscCall(AzFieldSetActiveSlots(f));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzFieldSetArchitecture(AzField f, PetscInt depth, PetscInt width, AzActivation act)
{
  PetscFunctionBegin;
  PetscCall(AzFieldCheckNotSetUp(f, "AzFieldSetArchitecture"));
  PetscCheck(depth >= 1, f->comm, PETSC_ERR_ARG_OUTOFRANGE, "depth (hidden layers of an MLP, blocks of a PirateNet) %" PetscInt_FMT " must be >= 1", depth);
  PetscCheck(width >= 1, f->comm, PETSC_ERR_ARG_OUTOFRANGE, "width (neurons per hidden layer) %" PetscInt_FMT " must be >= 1", width);
  PetscCheck((int)act >= 0 && act <= AZ_ACT_SWISH, f->comm, PETSC_ERR_ARG_OUTOFRANGE, "unknown activation %d: use tanh, sin, softplus, gelu or swish", (int)act);
  f->depth = depth;
  f->width = width;
  f->act   = act;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzFieldSetNetwork(AzField f, AzNetwork net)
{
  PetscFunctionBegin;
  PetscCall(AzFieldCheckNotSetUp(f, "AzFieldSetNetwork"));
  PetscCheck((int)net >= 0 && net <= AZ_NET_PIRATE, f->comm, PETSC_ERR_ARG_OUTOFRANGE, "unknown network kind %d: use mlp or pirate", (int)net);
  f->net = net;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzFieldSetWeightFactorization(AzField f, PetscBool rwf, PetscReal mean, PetscReal std)
{
  PetscFunctionBegin;
  PetscCall(AzFieldCheckNotSetUp(f, "AzFieldSetWeightFactorization"));
  PetscCheck(!PetscIsInfOrNanReal(mean), f->comm, PETSC_ERR_ARG_OUTOFRANGE, "weight factorisation mean %g must be finite", (double)mean);
  PetscCheck(std >= 0 && std < PETSC_INFINITY, f->comm, PETSC_ERR_ARG_OUTOFRANGE, "weight factorisation standard deviation %g must be finite and >= 0", (double)std);
  PetscCheck(PetscAbsReal(mean) + 10 * std <= 20, f->comm, PETSC_ERR_ARG_OUTOFRANGE, "weight factorisation mean %g and standard deviation %g: |mean| + 10 std must be <= 20 (the scales exp(s) would over- or underflow)", (double)mean, (double)std);
  f->rwf      = rwf;
  f->rwf_mean = mean;
  f->rwf_std  = std;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzFieldSetPeriodic(AzField f, PetscInt coord, PetscReal period, PetscInt nharm)
{
  PetscFunctionBegin;
  PetscCall(AzFieldCheckNotSetUp(f, "AzFieldSetPeriodic"));
  PetscCheck(f->ncoord > 0, f->comm, PETSC_ERR_ORDER, "call AzFieldSetDimensions() before AzFieldSetPeriodic()");
  PetscCheck(coord >= 0 && coord < f->ncoord, f->comm, PETSC_ERR_ARG_OUTOFRANGE, "periodic coordinate %" PetscInt_FMT " is out of range 0..%" PetscInt_FMT, coord, f->ncoord - 1);
  PetscCheck(period > 0, f->comm, PETSC_ERR_ARG_OUTOFRANGE, "period %g of coordinate %" PetscInt_FMT " must be > 0", (double)period, coord);
  PetscCheck(nharm >= 1, f->comm, PETSC_ERR_ARG_OUTOFRANGE, "number of harmonics %" PetscInt_FMT " must be >= 1", nharm);
  f->period[coord] = period;
  f->nharm[coord]  = nharm;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzFieldSetFourierFeatures(AzField f, PetscInt count, PetscReal scale)
{
  PetscFunctionBegin;
  PetscCall(AzFieldCheckNotSetUp(f, "AzFieldSetFourierFeatures"));
  PetscCheck(count >= 0, f->comm, PETSC_ERR_ARG_OUTOFRANGE, "number of Fourier features %" PetscInt_FMT " must be >= 0 (0: none)", count);
  PetscCheck(scale > 0, f->comm, PETSC_ERR_ARG_OUTOFRANGE, "Fourier feature scale %g must be > 0", (double)scale);
  f->nfourier      = count;
  f->fourier_scale = scale;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzFieldSetSeed(AzField f, PetscInt seed)
{
  PetscFunctionBegin;
  PetscCall(AzFieldCheckNotSetUp(f, "AzFieldSetSeed"));
  f->seed = seed;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzFieldSetChunkSize(AzField f, PetscInt chunk)
{
  PetscFunctionBegin;
  PetscCheck(chunk >= 1, f->comm, PETSC_ERR_ARG_OUTOFRANGE, "chunk size %" PetscInt_FMT " must be >= 1 point", chunk);
  f->chunk = chunk;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* "i:L[,j:L...]" -> coordinates and periods */
static PetscErrorCode ParsePeriodic(AzField f, const char spec[], PetscInt *n, PetscInt coord[], PetscReal period[])
{
  const char *s = spec;

  PetscFunctionBegin;
  *n = 0;
  while (*s) {
    char    *e;
    long     i;
    double   L;
    PetscInt k;

    while (*s == ',' || *s == ' ') s++;
    if (!*s) break;
    i = strtol(s, &e, 10);
    PetscCheck(e != s && *e == ':', f->comm, PETSC_ERR_ARG_WRONG, "-az_field_periodic \"%s\": expected coordinate:period pairs such as 0:2.0 or 0:1,1:6.283", spec);
    s = e + 1;
    L = strtod(s, &e);
    PetscCheck(e != s && (*e == ',' || *e == 0 || *e == ' '), f->comm, PETSC_ERR_ARG_WRONG, "-az_field_periodic \"%s\": expected coordinate:period pairs such as 0:2.0 or 0:1,1:6.283", spec);
    s = e;
    PetscCheck(i >= 0 && (f->ncoord == 0 || i < f->ncoord) && i < AZ_MAX_COORD, f->comm, PETSC_ERR_ARG_OUTOFRANGE, "-az_field_periodic: coordinate %ld is out of range 0..%" PetscInt_FMT, i, (f->ncoord ? f->ncoord : AZ_MAX_COORD) - 1);
    PetscCheck(L > 0, f->comm, PETSC_ERR_ARG_OUTOFRANGE, "-az_field_periodic: period %g of coordinate %ld must be > 0", L, i);
    PetscCheck(*n < AZ_MAX_COORD, f->comm, PETSC_ERR_ARG_OUTOFRANGE, "-az_field_periodic: at most %d coordinates", AZ_MAX_COORD);
    for (k = 0; k < *n; k++) PetscCheck(coord[k] != i, f->comm, PETSC_ERR_ARG_WRONG, "-az_field_periodic: coordinate %ld given twice", i);
    coord[*n]  = (PetscInt)i;
    period[*n] = (PetscReal)L;
    (*n)++;
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzFieldSetFromOptions(AzField f)
{
  PetscInt     depth = f->depth, width = f->width, seed = f->seed, nff = f->nfourier, chunk = f->chunk, nharm = 1, np = 0, pc[AZ_MAX_COORD];
  PetscInt     nthreads = f->blas_threads;
  PetscReal    scale = f->fourier_scale, pl[AZ_MAX_COORD];
  AzActivation act   = f->act;
  AzNetwork    net   = f->net;
  PetscBool    rwf   = f->rwf;
  PetscReal    rwf_mean = f->rwf_mean, rwf_std = f->rwf_std;
  char         periodic[256] = "";
  PetscBool    flg_periodic = PETSC_FALSE, flg_harm = PETSC_FALSE, avx2 = AzUseAVX2(), flg_avx2 = PETSC_FALSE;

  PetscFunctionBegin;
  for (PetscInt i = 0; i < AZ_MAX_COORD; i++)
    if (f->period[i] > 0) {
      nharm = f->nharm[i];
      break;
    }
  PetscOptionsBegin(f->comm, NULL, "Neural field (AzField) options", "AzField");
  PetscCall(PetscOptionsEnum("-az_field_arch", "network kind: mlp (multilayer perceptron) or pirate (PirateNet)", "AzFieldSetNetwork", AzNetworks, (PetscEnum)net, (PetscEnum *)&net, NULL));
  PetscCall(PetscOptionsInt("-az_field_depth", "number of hidden layers (mlp) or residual blocks (pirate) (>= 1)", "AzFieldSetArchitecture", depth, &depth, NULL));
  PetscCall(PetscOptionsInt("-az_field_width", "neurons per hidden layer (>= 1)", "AzFieldSetArchitecture", width, &width, NULL));
  PetscCall(PetscOptionsEnum("-az_field_activation", "activation function", "AzFieldSetArchitecture", AzActivations, (PetscEnum)act, (PetscEnum *)&act, NULL));
  PetscCall(PetscOptionsBool("-az_field_rwf", "random weight factorisation W = diag(exp(s)) V of every dense kernel", "AzFieldSetWeightFactorization", rwf, &rwf, NULL));
  PetscCall(PetscOptionsReal("-az_field_rwf_mean", "mean of the initial log-scales s", "AzFieldSetWeightFactorization", rwf_mean, &rwf_mean, NULL));
  PetscCall(PetscOptionsReal("-az_field_rwf_std", "standard deviation of the initial log-scales s (>= 0)", "AzFieldSetWeightFactorization", rwf_std, &rwf_std, NULL));
  PetscCall(PetscOptionsString("-az_field_load", "start from these parameters (a run's theta.bin) instead of random ones", "AzFieldSetUp", f->load, f->load, sizeof f->load, NULL));
  PetscCall(PetscOptionsInt("-az_field_seed", "seed of the initial weights and the Fourier frequencies", "AzFieldSetSeed", seed, &seed, NULL));
  PetscCall(PetscOptionsInt("-az_field_fourier_features", "number of random Fourier features (0: none)", "AzFieldSetFourierFeatures", nff, &nff, NULL));
  PetscCall(PetscOptionsReal("-az_field_fourier_scale", "standard deviation of the Fourier frequencies (> 0)", "AzFieldSetFourierFeatures", scale, &scale, NULL));
  PetscCall(PetscOptionsString("-az_field_periodic", "exactly periodic coordinates, i:period[,j:period]", "AzFieldSetPeriodic", periodic, periodic, sizeof(periodic), &flg_periodic));
  PetscCall(PetscOptionsInt("-az_field_periodic_harmonics", "harmonics k = 1..n of each periodic coordinate (>= 1)", "AzFieldSetPeriodic", nharm, &nharm, &flg_harm));
  PetscCall(PetscOptionsInt("-az_field_chunk", "points evaluated at a time (bounds memory; >= 1)", "AzFieldSetChunkSize", chunk, &chunk, NULL));
  PetscCall(PetscOptionsInt("-az_field_blas_threads", "OpenBLAS threads for the field's GEMMs (0: OpenBLAS's own setting)", "AzFieldSetFromOptions", nthreads, &nthreads, NULL));
  PetscCall(PetscOptionsBool("-az_field_avx2", "the field's AVX2 + FMA kernels where the CPU has them (false: the baseline code; for the whole process)", "AzFieldSetFromOptions", avx2, &avx2, &flg_avx2));
  PetscOptionsEnd();
  if (flg_avx2) AzSetAVX2(avx2);

  PetscCheck(depth >= 1, f->comm, PETSC_ERR_ARG_OUTOFRANGE, "-az_field_depth %" PetscInt_FMT ": the number of hidden layers must be >= 1", depth);
  PetscCheck(width >= 1, f->comm, PETSC_ERR_ARG_OUTOFRANGE, "-az_field_width %" PetscInt_FMT ": the number of neurons per layer must be >= 1", width);
  PetscCheck(nff >= 0, f->comm, PETSC_ERR_ARG_OUTOFRANGE, "-az_field_fourier_features %" PetscInt_FMT " must be >= 0 (0: none)", nff);
  PetscCheck(scale > 0, f->comm, PETSC_ERR_ARG_OUTOFRANGE, "-az_field_fourier_scale %g must be > 0", (double)scale);
  PetscCheck(nharm >= 1, f->comm, PETSC_ERR_ARG_OUTOFRANGE, "-az_field_periodic_harmonics %" PetscInt_FMT " must be >= 1", nharm);
  PetscCheck(chunk >= 1 && chunk <= 1000000, f->comm, PETSC_ERR_ARG_OUTOFRANGE, "-az_field_chunk %" PetscInt_FMT " must be between 1 and 1000000", chunk);
  PetscCheck(nthreads >= 0 && nthreads <= 1024, f->comm, PETSC_ERR_ARG_OUTOFRANGE, "-az_field_blas_threads %" PetscInt_FMT " must be between 0 (OpenBLAS's own setting) and 1024", nthreads);
  PetscCheck(seed >= 0, f->comm, PETSC_ERR_ARG_OUTOFRANGE, "-az_field_seed %" PetscInt_FMT " must be >= 0", seed);
  PetscCheck(depth <= 1000 && nff <= 100000 && nharm <= 10000, f->comm, PETSC_ERR_ARG_OUTOFRANGE, "Field options out of range: -az_field_depth %" PetscInt_FMT " (at most 1000), -az_field_fourier_features %" PetscInt_FMT " (at most 100000), -az_field_periodic_harmonics %" PetscInt_FMT " (at most 10000)", depth, nff, nharm);
  /* about depth * width^2 parameters: they must be countable (PetscInt) and fit in memory */
  PetscCheck((PetscReal)depth * width * width + (PetscReal)width * (2 * nff + 3 * AZ_MAX_COORD * nharm + AZ_MAX_COORD + 8) <= 1e9, f->comm, PETSC_ERR_ARG_OUTOFRANGE, "-az_field_depth %" PetscInt_FMT " and -az_field_width %" PetscInt_FMT ": the network would have about %g parameters; at most 1e9 are allowed", depth, width, (double)depth * width * width);
  if (flg_periodic) PetscCall(ParsePeriodic(f, periodic, &np, pc, pl));

  /* architecture options only before SetUp; say so instead of silently ignoring them */
  PetscCheck(!PetscIsInfOrNanReal(rwf_mean), f->comm, PETSC_ERR_ARG_OUTOFRANGE, "-az_field_rwf_mean %g must be finite", (double)rwf_mean);
  PetscCheck(rwf_std >= 0 && PetscAbsReal(rwf_mean) + 10 * rwf_std <= 20, f->comm, PETSC_ERR_ARG_OUTOFRANGE, "-az_field_rwf_mean %g -az_field_rwf_std %g: the standard deviation must be >= 0 and |mean| + 10 std <= 20 (the scales exp(s) would over- or underflow)", (double)rwf_mean, (double)rwf_std);
  if (depth != f->depth || width != f->width || act != f->act || seed != f->seed || nff != f->nfourier || scale != f->fourier_scale || np > 0 || flg_harm || net != f->net || rwf != f->rwf || rwf_mean != f->rwf_mean || rwf_std != f->rwf_std) {
    PetscCall(AzFieldCheckNotSetUp(f, "AzFieldSetFromOptions"));
  }
  f->net      = net;
  f->rwf      = rwf;
  f->rwf_mean = rwf_mean;
  f->rwf_std  = rwf_std;
  f->depth         = depth;
  f->width         = width;
  f->act           = act;
  f->seed          = seed;
  f->nfourier      = nff;
  f->fourier_scale = scale;
  f->chunk         = chunk;
  f->blas_threads  = nthreads;
  for (PetscInt k = 0; k < np; k++) {
    f->period[pc[k]] = pl[k];
    f->nharm[pc[k]]  = nharm;
  }
  if (flg_harm)
    for (PetscInt i = 0; i < AZ_MAX_COORD; i++) f->nharm[i] = nharm;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzFieldSetUp(AzField f)
{
  PetscFunctionBegin;
  if (f->setupcalled) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCheck(f->ncoord > 0 && f->ncomp > 0, f->comm, PETSC_ERR_ORDER, "call AzFieldSetDimensions() before AzFieldSetUp()");
  for (PetscInt i = f->ncoord; i < AZ_MAX_COORD; i++) PetscCheck(f->period[i] == 0, f->comm, PETSC_ERR_ARG_OUTOFRANGE, "periodic coordinate %" PetscInt_FMT " is out of range 0..%" PetscInt_FMT, i, f->ncoord - 1);
  PetscCall(AzFieldBuildFeatures(f));
  PetscCall(PetscFree(f->layer));
  PetscCall(PetscFree(f->offalpha));
  f->ops = f->net == AZ_NET_PIRATE ? &AzFieldOps_Pirate : &AzFieldOps_MLP;
  PetscCall(f->ops->layout(f));
  PetscCall(PetscFree3(f->teff, f->geff, f->veff));
  if (f->rwf) PetscCall(PetscMalloc3(f->nparam, &f->teff, f->nparam, &f->geff, f->nparam, &f->veff));
  PetscCall(VecDestroy(&f->theta));
  f->ldj = f->nparam + f->nextra;
  PetscCall(VecCreateSeq(PETSC_COMM_SELF, f->ldj, &f->theta));
  PetscCall(PetscObjectSetName((PetscObject)f->theta, "theta"));
  PetscCall(AzFieldInitParameters(f));
  PetscCall(AzFieldSetActiveSlots(f));
  f->setupcalled = PETSC_TRUE;
  if (f->load[0]) PetscCall(AzFieldLoad(f, f->load)); /* -az_field_load: a run's theta.bin */
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzFieldGetBlasThreads(AzField f, PetscInt *n)
{
  PetscFunctionBegin;
  *n = f->blas_threads;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzFieldGetParameters(AzField f, Vec *theta)
{
  PetscFunctionBegin;
  if (!f->setupcalled) PetscCall(AzFieldSetUp(f));
  *theta = f->theta;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzFieldGetNumParameters(AzField f, PetscInt *n)
{
  PetscFunctionBegin;
  if (!f->setupcalled) PetscCall(AzFieldSetUp(f));
  *n = f->ldj;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzFieldGetNumNetworkParameters(AzField f, PetscInt *n)
{
  PetscFunctionBegin;
  if (!f->setupcalled) PetscCall(AzFieldSetUp(f));
  *n = f->nparam;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* θ = (the network's parameters, n extra unknowns): the extras start at 0, the network's are kept */
PetscErrorCode AzFieldSetExtraParameters(AzField f, PetscInt n)
{
  Vec                th;
  const PetscScalar *a;
  PetscScalar       *b;

  PetscFunctionBegin;
  PetscCheck(n >= 0 && n <= 1024, f->comm, PETSC_ERR_ARG_OUTOFRANGE, "Extra parameters: %" PetscInt_FMT " is outside 0..1024", n);
  if (!f->setupcalled) PetscCall(AzFieldSetUp(f));
  if (n == f->nextra) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(VecCreateSeq(PETSC_COMM_SELF, f->nparam + n, &th));
  PetscCall(PetscObjectSetName((PetscObject)th, "theta"));
  PetscCall(VecGetArrayRead(f->theta, &a));
  PetscCall(VecGetArray(th, &b));
  PetscCall(PetscArraycpy(b, a, f->nparam));
  for (PetscInt i = f->nparam; i < f->nparam + n; i++) b[i] = 0;
  PetscCall(VecRestoreArray(th, &b));
  PetscCall(VecRestoreArrayRead(f->theta, &a));
  PetscCall(VecDestroy(&f->theta));
  f->theta  = th;
  f->nextra = n;
  f->ldj    = f->nparam + n;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzFieldGetJetSize(AzField f, PetscInt *ncomp, PetscInt *nslot)
{
  PetscFunctionBegin;
  PetscCheck(f->ncoord > 0, f->comm, PETSC_ERR_ORDER, "call AzFieldSetDimensions() first");
  if (ncomp) *ncomp = f->ncomp;
  if (nslot) *nslot = AZ_JET_NSLOT(f->ncoord);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* slot name by coordinate number: u, d0, d01, d000, d0000 */
static void SlotName(const AzActiveSlot *s, char buf[], size_t len)
{
  switch (s->kind) {
  case AZ_SLOT_VALUE:
    snprintf(buf, len, "u");
    break;
  case AZ_SLOT_D1:
    snprintf(buf, len, "d%d", (int)s->i);
    break;
  case AZ_SLOT_D2:
    snprintf(buf, len, "d%d%d", (int)s->i, (int)s->j);
    break;
  case AZ_SLOT_D3:
    snprintf(buf, len, "d%d%d%d", (int)s->i, (int)s->i, (int)s->i);
    break;
  case AZ_SLOT_D4:
    snprintf(buf, len, "d%d%d%d%d", (int)s->i, (int)s->i, (int)s->i, (int)s->i);
    break;
  }
}

PetscErrorCode AzFieldView(AzField f, PetscViewer viewer)
{
  PetscBool iascii;
  char      slots[256] = "";
  size_t    off        = 0;

  PetscFunctionBegin;
  if (!viewer) viewer = PETSC_VIEWER_STDOUT_(f->comm);
  PetscCall(PetscObjectTypeCompare((PetscObject)viewer, PETSCVIEWERASCII, &iascii));
  if (!iascii) PetscFunctionReturn(PETSC_SUCCESS);
  if (f->net == AZ_NET_PIRATE) PetscCall(PetscViewerASCIIPrintf(viewer, "AzField: PirateNet, %" PetscInt_FMT " coordinates -> embedding -> gates U, V -> %" PetscInt_FMT " residual blocks x %" PetscInt_FMT " %s -> %" PetscInt_FMT " component%s\n", f->ncoord, f->depth, f->width, AzActivations[f->act], f->ncomp, f->ncomp == 1 ? "" : "s"));
  else PetscCall(PetscViewerASCIIPrintf(viewer, "AzField: multilayer perceptron, %" PetscInt_FMT " coordinates -> %" PetscInt_FMT " hidden layers x %" PetscInt_FMT " %s -> %" PetscInt_FMT " component%s\n", f->ncoord, f->depth, f->width, AzActivations[f->act], f->ncomp, f->ncomp == 1 ? "" : "s"));
  PetscCall(PetscViewerASCIIPushTab(viewer));
  if (f->rwf) PetscCall(PetscViewerASCIIPrintf(viewer, "random weight factorisation W = diag(exp(s)) V of every dense kernel, initial s ~ N(%g, %g^2)\n", (double)f->rwf_mean, (double)f->rwf_std));
  {
    char   box[256];
    size_t o = 0;
    for (PetscInt i = 0; i < f->ncoord && o < sizeof(box); i++) o += (size_t)snprintf(box + o, sizeof(box) - o, "%s[%g, %g]", i ? " x " : "", (double)f->lo[i], (double)f->hi[i]);
    PetscCall(PetscViewerASCIIPrintf(viewer, "inputs mapped onto [-1, 1] from the box %s\n", box));
  }
  for (PetscInt i = 0; i < f->ncoord; i++)
    if (f->period[i] > 0) PetscCall(PetscViewerASCIIPrintf(viewer, "periodic embedding: coordinate %" PetscInt_FMT ", period %g, harmonics 1..%" PetscInt_FMT " (exact)\n", i, (double)f->period[i], f->nharm[i]));
  if (f->nfourier) PetscCall(PetscViewerASCIIPrintf(viewer, "random Fourier features: %" PetscInt_FMT " (cos and sin of 2 pi B x^, B ~ N(0, %g^2)), concatenated with the inputs\n", f->nfourier, (double)f->fourier_scale));
  PetscCall(PetscViewerASCIIPrintf(viewer, "seed %" PetscInt_FMT ", chunk %" PetscInt_FMT " points, BLAS threads %" PetscInt_FMT "%s, elementwise steps %s\n", f->seed, f->chunk, f->blas_threads, f->blas_threads ? "" : " (OpenBLAS default)", AzUseAVX2() ? "AVX2 + FMA" : "baseline"));
  if (f->setupcalled) {
    PetscCall(PetscViewerASCIIPrintf(viewer, "first-layer inputs after embedding: %" PetscInt_FMT "\n", f->nin));
    PetscCall(PetscViewerASCIIPrintf(viewer, "parameters: %" PetscInt_FMT " (per dense layer W (out, in) row-major, then b%s%s)\n", f->nparam, f->rwf ? ", then s" : "", f->net == AZ_NET_PIRATE ? "; alpha after each block" : ""));
  } else PetscCall(PetscViewerASCIIPrintf(viewer, "(not set up)\n"));
  for (PetscInt a = 0; a < f->nact; a++) {
    char nm[16];
    SlotName(&f->slots[a], nm, sizeof(nm));
    off += (size_t)snprintf(slots + off, sizeof(slots) - PetscMin(off, sizeof(slots)), "%s%s", a ? " " : "", nm);
    if (off >= sizeof(slots)) break;
  }
  PetscCall(PetscViewerASCIIPrintf(viewer, "jet slots propagated (%" PetscInt_FMT ", derivatives by coordinate number): %s\n", f->nact, slots));
  PetscCall(PetscViewerASCIIPopTab(viewer));
  PetscFunctionReturn(PETSC_SUCCESS);
}
