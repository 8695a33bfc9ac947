/* Tests of AzField: the network's jets and parameter derivatives.
 *
 * What is checked, and how:
 *  - input derivatives: every slot of order k (∂_i, ∂_i∂_j incl. mixed, ∂_i³, ∂_i⁴) against the
 *    Richardson-extrapolated central difference, along x_i, of the field's own slot of order k−1:
 *        ∂_i u ≈ δ_i u,   ∂_i∂_j u ≈ δ_i(∂_j u),   ∂_i³ u ≈ δ_i(∂_i² u),   ∂_i⁴ u ≈ δ_i(∂_i³ u),
 *    δ_i g = [g(x + h e_i) − g(x − h e_i)]/2h at h, h/2, h/4, h/8 (h = 0.0025 × the box width),
 *    extrapolated in h² (truncation O(h⁸)), to 1e-9 (measured errors are 1e-13 .. 2e-11);
 *    for every activation, with the periodic and the Fourier embeddings, in 1, 2, 3 and 4 coordinates;
 *  - the value against a plain reference MLP written in this file from the documented θ layout;
 *  - a one-hidden-layer tanh network against its closed-form derivatives;
 *  - θ derivatives: ⟨J v, w⟩ = ⟨v, Jᵀ w⟩ (tangent against backward), dense Jacobian rows against
 *    backward with unit seeds and against the tangent (all to 1e-12), and the tangent against
 *    Richardson-extrapolated central differences in θ (to 1e-9);
 *  - the periodic embedding is exactly periodic, chunking does not change results, bad options fail.
 * Errors are relative to the largest magnitude of the same slot over the test points ("slot-max
 * relative"), because pointwise relative errors are meaningless where a derivative crosses zero.
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ansatz/field.h>
#include <unistd.h>
#include "azcheck.h"
#include "../src/field/fieldimpl.h" /* AzExpFast, the exponential inside tanh */

/* a PETSc call inside a test body */
#define TRY(call) \
  do { \
    PetscErrorCode e_ = (call); \
    ck_assert_msg(e_ == PETSC_SUCCESS, "%s failed with PETSc error %d", #call, (int)e_); \
  } while (0)

static void Report(const char *label, double err, double tol)
{
  printf("  %-62s max err %.2e  (tol %.0e)\n", label, err, tol);
  fflush(stdout);
  ck_assert_msg(err <= tol, "%s: error %.3e exceeds tolerance %.1e", label, err, tol);
  ck_assert_msg(!isnan(err), "%s: error is NaN", label);
}

/* ---------------------------------------------------------------------------------------------- */
/* building fields */

typedef struct {
  PetscInt     ncoord, ncomp, depth, width;
  AzActivation act;
  PetscBool    td;   /* last coordinate is time (for the request letters) */
  const char  *spec; /* derivatives, as a problem declares them */
  PetscReal    lo[AZ_MAX_COORD], hi[AZ_MAX_COORD];
  PetscInt     pcoord; /* periodic coordinate, or -1 */
  PetscReal    period;
  PetscInt     nharm;
  PetscInt     nfourier;
  PetscReal    fscale;
  PetscInt     seed, chunk;
  PetscBool    randbias; /* replace the zero initial biases by random ones (to exercise b) */
  AzNetwork    net;      /* mlp or pirate (depth = blocks) */
  PetscBool    rwf;      /* random weight factorisation, initial s ~ N(1, 0.1²) */
} Config;

static void Uniform(unsigned long long *st, PetscInt n, PetscReal lo, PetscReal hi, PetscReal v[])
{
  for (PetscInt k = 0; k < n; k++) {
    unsigned long long z = (*st += 0x9E3779B97F4A7C15ULL);
    z                    = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z                    = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    z ^= z >> 31;
    v[k] = lo + (hi - lo) * ((double)(z >> 11) * 0x1.0p-53);
  }
}

static PetscErrorCode MakeField(const Config *c, AzField *field)
{
  AzField      f;
  AzJetRequest req;
  char         err[256];

  PetscFunctionBegin;
  PetscCall(AzFieldCreate(PETSC_COMM_WORLD, &f));
  PetscCall(AzFieldSetDimensions(f, c->ncoord, c->ncomp));
  PetscCall(AzFieldSetBox(f, c->lo, c->hi));
  PetscCall(AzJetRequestParse(c->ncoord, c->td, c->spec, &req, err, sizeof(err)));
  PetscCheck(req.mask >= 0, PETSC_COMM_SELF, PETSC_ERR_ARG_WRONG, "bad request in test: %s", err);
  PetscCall(AzFieldSetJetRequest(f, &req));
  PetscCall(AzFieldSetArchitecture(f, c->depth, c->width, c->act));
  PetscCall(AzFieldSetNetwork(f, c->net));
  if (c->rwf) PetscCall(AzFieldSetWeightFactorization(f, PETSC_TRUE, 1.0, 0.1));
  if (c->pcoord >= 0) PetscCall(AzFieldSetPeriodic(f, c->pcoord, c->period, c->nharm));
  if (c->nfourier) PetscCall(AzFieldSetFourierFeatures(f, c->nfourier, c->fscale));
  PetscCall(AzFieldSetSeed(f, c->seed));
  if (c->chunk) PetscCall(AzFieldSetChunkSize(f, c->chunk));
  PetscCall(AzFieldSetUp(f));
  if (c->randbias) {
    /* the biases are the last nout entries of each layer: rewrite θ as a whole with small random
     * perturbations of every entry, which makes every bias nonzero */
    Vec                theta;
    PetscInt           n;
    PetscScalar       *t;
    unsigned long long st = 77 + (unsigned long long)c->seed;
    PetscReal         *r;

    PetscCall(AzFieldGetParameters(f, &theta));
    PetscCall(VecGetLocalSize(theta, &n));
    PetscCall(PetscMalloc1(n, &r));
    Uniform(&st, n, -0.3, 0.3, r);
    PetscCall(VecGetArray(theta, &t));
    for (PetscInt k = 0; k < n; k++) t[k] += r[k];
    PetscCall(VecRestoreArray(theta, &t));
    PetscCall(PetscFree(r));
  }
  *field = f;
  PetscFunctionReturn(PETSC_SUCCESS);
}

static Config BaseConfig(PetscInt ncoord, const char *spec, AzActivation act)
{
  Config c;
  memset(&c, 0, sizeof(c));
  c.ncoord = ncoord;
  c.ncomp  = 1;
  c.depth  = 3;
  c.width  = 12;
  c.act    = act;
  c.spec   = spec;
  c.pcoord = -1;
  c.fscale = 1.0;
  c.seed   = 3;
  for (PetscInt i = 0; i < AZ_MAX_COORD; i++) {
    c.lo[i] = -0.5 + 0.25 * i;
    c.hi[i] = 1.5 + 0.5 * i;
  }
  c.randbias = PETSC_TRUE;
  return c;
}

/* npts random points inside the box */
static void RandomPoints(const Config *c, PetscInt npts, unsigned long long seed, PetscReal x[])
{
  for (PetscInt p = 0; p < npts; p++)
    for (PetscInt i = 0; i < c->ncoord; i++) Uniform(&seed, 1, c->lo[i] + 0.1 * (c->hi[i] - c->lo[i]), c->hi[i] - 0.1 * (c->hi[i] - c->lo[i]), &x[p * c->ncoord + i]);
}

static PetscInt ClosedMask(const Config *c)
{
  AzJetRequest req;
  char         err[128];
  PetscCallAbort(PETSC_COMM_SELF, AzJetRequestParse(c->ncoord, c->td, c->spec, &req, err, sizeof(err)));
  PetscCallAbort(PETSC_COMM_SELF, AzJetRequestClose(&req));
  return req.mask;
}

/* ---------------------------------------------------------------------------------------------- */
/* input derivatives against finite differences of the field's own lower-order slots */

/* slot of order k-1 whose derivative along `dir` is slot s */
typedef struct {
  PetscInt slot, src, dir, order;
} FDPair;

static PetscInt FDPairs(PetscInt n, PetscInt mask, FDPair pr[])
{
  PetscInt m = 0;
#define AZ_PAIR(s_, src_, dir_, ord_) \
  do { \
    if (mask & ((PetscInt)1 << (s_))) pr[m].slot = (s_), pr[m].src = (src_), pr[m].dir = (dir_), pr[m].order = (ord_), m++; \
  } while (0)
  for (PetscInt i = 0; i < n; i++) AZ_PAIR(AzJetSlotD1(n, i), 0, i, 1);
  for (PetscInt i = 0; i < n; i++)
    for (PetscInt j = i; j < n; j++) {
      AZ_PAIR(AzJetSlotD2(n, i, j), AzJetSlotD1(n, j), i, 2); /* ∂_i(∂_j u) */
      if (i != j) AZ_PAIR(AzJetSlotD2(n, i, j), AzJetSlotD1(n, i), j, 2); /* and ∂_j(∂_i u) */
    }
  for (PetscInt i = 0; i < n; i++) AZ_PAIR(AzJetSlotD3(n, i), AzJetSlotD2(n, i, i), i, 3);
  for (PetscInt i = 0; i < n; i++) AZ_PAIR(AzJetSlotD4(n, i), AzJetSlotD3(n, i), i, 4);
#undef AZ_PAIR
  return m;
}

/* err[k] = the largest slot-max relative error among the slots of order k (k = 1..4; -1 if none) */
static PetscErrorCode CheckInputDerivatives(const Config *c, AzField f, PetscInt npts, const PetscReal x[], PetscReal hfrac, PetscReal err[5])
{
  const PetscInt n = c->ncoord, nslot = AZ_JET_NSLOT(n), L = c->ncomp * nslot, M = 4;
  const PetscInt mask = ClosedMask(c);
  FDPair         pr[64];
  const PetscInt npair = FDPairs(n, mask, pr);
  PetscReal     *xs;
  PetscScalar   *J0, *Js;

  PetscFunctionBegin;
  for (PetscInt k = 0; k < 5; k++) err[k] = -1;
  PetscCall(PetscMalloc3(npts * n * 2 * M * n, &xs, npts * L, &J0, npts * 2 * M * n * L, &Js));
  PetscCall(AzFieldEvaluateJets(f, npts, x, J0));
  /* shifted points: (p, dir, m, ±) */
  for (PetscInt p = 0; p < npts; p++)
    for (PetscInt d = 0; d < n; d++)
      for (PetscInt m = 0; m < M; m++)
        for (PetscInt sg = 0; sg < 2; sg++) {
          PetscReal *y = xs + (((p * n + d) * M + m) * 2 + sg) * n;
          for (PetscInt i = 0; i < n; i++) y[i] = x[p * n + i];
          y[d] += (sg ? -1 : 1) * hfrac * (c->hi[d] - c->lo[d]) / (PetscReal)(1 << m);
        }
  PetscCall(AzFieldEvaluateJets(f, npts * n * 2 * M, xs, Js));
  for (PetscInt q = 0; q < npair; q++) {
    const PetscInt d = pr[q].dir;
    PetscReal      emax = 0, vmax = 0;
    for (PetscInt p = 0; p < npts; p++)
      for (PetscInt cc = 0; cc < c->ncomp; cc++) {
        PetscReal T[8][8];
        for (PetscInt m = 0; m < M; m++) {
          const PetscReal    h  = hfrac * (c->hi[d] - c->lo[d]) / (PetscReal)(1 << m);
          const PetscScalar *jp = Js + (((p * n + d) * M + m) * 2 + 0) * L, *jm = Js + (((p * n + d) * M + m) * 2 + 1) * L;
          T[m][0]                 = (jp[cc * nslot + pr[q].src] - jm[cc * nslot + pr[q].src]) / (2 * h);
          for (PetscInt j = 1; j <= m; j++) T[m][j] = T[m][j - 1] + (T[m][j - 1] - T[m - 1][j - 1]) / (pow(4.0, (double)j) - 1);
        }
        const PetscReal ex = J0[p * L + cc * nslot + pr[q].slot];
        emax               = PetscMax(emax, PetscAbsReal(ex - T[M - 1][M - 1]));
        vmax               = PetscMax(vmax, PetscAbsReal(ex));
      }
    PetscCheck(vmax > 0, PETSC_COMM_SELF, PETSC_ERR_PLIB, "slot %" PetscInt_FMT " is identically zero at the test points", pr[q].slot);
    err[pr[q].order] = PetscMax(err[pr[q].order], emax / vmax);
  }
  /* non-requested slots must be NaN, requested ones finite */
  for (PetscInt p = 0; p < npts; p++)
    for (PetscInt s = 0; s < L; s++) {
      const PetscBool active = (mask >> (s % nslot)) & 1 ? PETSC_TRUE : PETSC_FALSE;
      PetscCheck(active ? isfinite(J0[p * L + s]) : isnan(J0[p * L + s]), PETSC_COMM_SELF, PETSC_ERR_PLIB, "slot %" PetscInt_FMT " should be %s", s % nslot, active ? "finite" : "NaN");
    }
  PetscCall(PetscFree3(xs, J0, Js));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* a plain MLP from the documented θ layout (no Fourier features): u at one point, written
 * independently of the implementation (libm activations, point-by-point loops) */
static PetscReal RefActivation(AzActivation a, PetscReal z)
{
  switch (a) {
  case AZ_ACT_TANH:
    return tanh(z);
  case AZ_ACT_SIN:
    return sin(z);
  case AZ_ACT_SOFTPLUS:
    return log(1 + exp(z));
  case AZ_ACT_GELU:
    return 0.5 * z * (1 + erf(z / sqrt(2.0)));
  case AZ_ACT_SWISH:
    return z / (1 + exp(-z));
  }
  return NAN;
}

/* one dense layer of the documented θ layout at *off: W (nout, nin) row-major (with RWF: V, and
 * W = diag(exp(s))·V), b (nout), with RWF s (nout); out = W·in + b, then σ if act */
static void RefDense(const Config *c, const PetscScalar t[], PetscInt *off, PetscInt nout, PetscInt nin, const PetscReal in[], PetscBool act, PetscReal out[])
{
  const PetscInt o0 = *off;
  for (PetscInt o = 0; o < nout; o++) {
    const PetscReal e = c->rwf ? exp(t[o0 + nout * nin + nout + o]) : 1.0;
    PetscReal       z = t[o0 + nout * nin + o]; /* b[o] */
    for (PetscInt i = 0; i < nin; i++) z += e * t[o0 + o * nin + i] * in[i];
    out[o] = act ? RefActivation(c->act, z) : z;
  }
  *off = o0 + nout * nin + nout + (c->rwf ? nout : 0);
}

static PetscErrorCode ReferenceValue(const Config *c, AzField f, const PetscReal x[], PetscReal u[])
{
  Vec                theta;
  const PetscScalar *t;
  PetscReal          h[512], g[512];
  PetscInt           nin = 0, off = 0;

  PetscFunctionBegin;
  PetscCheck(c->nfourier == 0, PETSC_COMM_SELF, PETSC_ERR_SUP, "reference MLP without Fourier features only");
  for (PetscInt i = 0; i < c->ncoord; i++) {
    if (i == c->pcoord)
      for (PetscInt k = 1; k <= c->nharm; k++) {
        h[nin++] = cos(2 * M_PI * k * x[i] / c->period);
        h[nin++] = sin(2 * M_PI * k * x[i] / c->period);
      }
    else h[nin++] = 2 * (x[i] - c->lo[i]) / (c->hi[i] - c->lo[i]) - 1;
  }
  PetscCall(AzFieldGetParameters(f, &theta));
  PetscCall(VecGetArrayRead(theta, &t));
  if (c->net == AZ_NET_PIRATE) {
    /* U = σ(W_u Φ + b_u), V = σ(W_v Φ + b_v), x₀ = Φ; per block: f = σ(W₁x + b₁), z₁ = f U + (1 − f) V,
     * g = σ(W₂z₁ + b₂), z₂ = g U + (1 − g) V, h = σ(W₃z₂ + b₃), x ← α h + (1 − α) x; u = W x + b */
    PetscReal U[64], V[64], a1[64], a2[64], a3[512];
    RefDense(c, t, &off, c->width, nin, h, PETSC_TRUE, U);
    RefDense(c, t, &off, c->width, nin, h, PETSC_TRUE, V);
    for (PetscInt b = 0; b < c->depth; b++) {
      PetscReal alpha;
      RefDense(c, t, &off, c->width, nin, h, PETSC_TRUE, a1);
      for (PetscInt k = 0; k < c->width; k++) a1[k] = a1[k] * U[k] + (1 - a1[k]) * V[k];
      RefDense(c, t, &off, c->width, c->width, a1, PETSC_TRUE, a2);
      for (PetscInt k = 0; k < c->width; k++) a2[k] = a2[k] * U[k] + (1 - a2[k]) * V[k];
      RefDense(c, t, &off, nin, c->width, a2, PETSC_TRUE, a3);
      alpha = t[off++];
      for (PetscInt k = 0; k < nin; k++) h[k] = alpha * a3[k] + (1 - alpha) * h[k];
    }
    RefDense(c, t, &off, c->ncomp, nin, h, PETSC_FALSE, g);
    for (PetscInt cc = 0; cc < c->ncomp; cc++) h[cc] = g[cc];
  } else {
    for (PetscInt l = 0; l <= c->depth; l++) {
      const PetscInt nout = l == c->depth ? c->ncomp : c->width;
      RefDense(c, t, &off, nout, nin, h, (PetscBool)(l < c->depth), g);
      nin = nout;
      for (PetscInt o = 0; o < nout; o++) h[o] = g[o];
    }
  }
  {
    PetscInt n;
    PetscCall(VecGetLocalSize(theta, &n));
    PetscCheck(off == n, PETSC_COMM_SELF, PETSC_ERR_PLIB, "the reference read %" PetscInt_FMT " parameters of the documented layout, the field has %" PetscInt_FMT, off, n);
  }
  for (PetscInt cc = 0; cc < c->ncomp; cc++) u[cc] = h[cc];
  PetscCall(VecRestoreArrayRead(theta, &t));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* value vs the reference MLP (slot-max relative) */
static PetscErrorCode CheckValue(const Config *c, AzField f, PetscInt npts, const PetscReal x[], PetscReal *err)
{
  const PetscInt L = c->ncomp * AZ_JET_NSLOT(c->ncoord);
  PetscScalar   *J;
  PetscReal      emax = 0, vmax = 0, u[16];

  PetscFunctionBegin;
  PetscCall(PetscMalloc1(npts * L, &J));
  PetscCall(AzFieldEvaluateJets(f, npts, x, J));
  for (PetscInt p = 0; p < npts; p++) {
    PetscCall(ReferenceValue(c, f, x + p * c->ncoord, u));
    for (PetscInt cc = 0; cc < c->ncomp; cc++) {
      emax = PetscMax(emax, PetscAbsReal(J[p * L + cc * AZ_JET_NSLOT(c->ncoord)] - u[cc]));
      vmax = PetscMax(vmax, PetscAbsReal(u[cc]));
    }
  }
  *err = emax / vmax;
  PetscCall(PetscFree(J));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static void RunInputCheck(const char *label, const Config *c, PetscReal hfrac, PetscReal tol)
{
  AzField   f;
  PetscReal x[4 * 12], err[5], ev = -1;
  char      buf[128];
  const PetscInt npts = 12;

  TRY(MakeField(c, &f));
  RandomPoints(c, npts, 1234, x);
  TRY(CheckInputDerivatives(c, f, npts, x, hfrac, err));
  if (c->nfourier == 0) {
    TRY(CheckValue(c, f, npts, x, &ev));
    snprintf(buf, sizeof(buf), "%s: value vs reference MLP", label);
    Report(buf, ev, 1e-13);
  }
  for (PetscInt k = 1; k <= 4; k++) {
    if (err[k] < 0) continue;
    snprintf(buf, sizeof(buf), "%s: order %d vs FD of order %d", label, (int)k, (int)k - 1);
    Report(buf, err[k], tol);
  }
  TRY(AzFieldDestroy(&f));
}

#define FULL3 "x,y,t,xx,xy,xt,yy,yt,tt,xxx,yyy,ttt,xxxx,yyyy,tttt"

START_TEST(test_activations_fd)
{
  /* every activation, 2 space + time, every slot kind: u, 1st, all 2nd (incl. mixed), pure 3rd and 4th */
  for (int a = AZ_ACT_TANH; a <= AZ_ACT_SWISH; a++) {
    Config c = BaseConfig(3, FULL3, (AzActivation)a);
    char   label[64];
    c.td     = PETSC_TRUE;
    snprintf(label, sizeof(label), "%s, 3 coords", AzActivations[a]);
    RunInputCheck(label, &c, 0.0025, 1e-9);
  }
}
END_TEST

START_TEST(test_embeddings_fd)
{
  {
    /* 1 coordinate, periodic (KS-like: u_x .. u_xxxx), 2 harmonics */
    Config c = BaseConfig(1, "x,xx,xxx,xxxx", AZ_ACT_SWISH);
    c.pcoord = 0, c.period = 2.0, c.nharm = 2;
    RunInputCheck("swish, 1 coord, periodic x (2 harmonics)", &c, 0.0025, 1e-9);
  }
  {
    Config c = BaseConfig(3, FULL3, AZ_ACT_TANH);
    c.td     = PETSC_TRUE;
    c.pcoord = 1, c.period = 2.5, c.nharm = 3;
    RunInputCheck("tanh, 3 coords, periodic y (3 harmonics)", &c, 0.0025, 1e-9);
  }
  {
    Config c   = BaseConfig(2, "x,y,xx,xy,yy,xxx,yyy,xxxx,yyyy", AZ_ACT_GELU);
    c.nfourier = 8, c.fscale = 1.0;
    RunInputCheck("gelu, 2 coords, 8 Fourier features", &c, 0.0025, 1e-9);
  }
  {
    /* 4 coordinates (x, y, z, t): every second derivative, pure 3rd and 4th, Fourier + periodic z */
    Config c   = BaseConfig(4, "x,y,z,t,xx,xy,xz,xt,yy,yz,yt,zz,zt,tt,xxx,yyy,zzz,ttt,xxxx,yyyy,zzzz,tttt", AZ_ACT_SIN);
    c.td       = PETSC_TRUE;
    c.nfourier = 6, c.fscale = 0.7;
    c.pcoord = 2, c.period = 1.0, c.nharm = 1;
    c.width    = 10;
    RunInputCheck("sin, 4 coords, 6 Fourier features + periodic z", &c, 0.0025, 1e-9);
  }
  {
    /* a sparse request: only u_t and u_xx (needs u_x), two components */
    Config c = BaseConfig(2, "t,xx", AZ_ACT_SOFTPLUS);
    c.td     = PETSC_TRUE;
    c.ncomp  = 2;
    RunInputCheck("softplus, 2 coords, 2 components, request t,xx", &c, 0.0025, 1e-9);
  }
}
END_TEST

/* ---------------------------------------------------------------------------------------------- */
/* one hidden tanh layer against closed forms:
 *   u = Σ_k a_k tanh(z_k) + c,  z_k = Σ_i w_ki x̂_i + b_k,  x̂_i = 2(x_i − lo_i)/(hi_i − lo_i) − 1, s_i = 2/(hi_i − lo_i)
 *   ∂_i u = Σ a_k T1(z_k) w_ki s_i,  ∂_i∂_j u = Σ a_k T2(z_k) w_ki s_i w_kj s_j,
 *   ∂_i³ u = Σ a_k T3(z_k) (w_ki s_i)³,  ∂_i⁴ u = Σ a_k T4(z_k) (w_ki s_i)⁴,
 * with, in terms of t = tanh z and q = sech² z = 1/cosh² z,
 *   T1 = q,  T2 = −2qt,  T3 = 4qt² − 2q²,  T4 = −8qt³ + 16q²t;
 * and θ derivatives ∂u/∂a_k = tanh z_k, ∂u/∂c = 1, ∂u/∂b_k = a_k T1, ∂u/∂w_ki = a_k T1 x̂_i,
 *   ∂(∂_i u)/∂a_k = T1 w_ki s_i,  ∂(∂_i u)/∂b_k = a_k T2 w_ki s_i,  ∂(∂_i u)/∂w_kj = a_k (T2 x̂_j w_ki + T1 δ_ij) s_i.
 * θ = [w (K×2 row-major), b (K), a (1×K), c]. */
START_TEST(test_closed_form_tanh)
{
  Config             c = BaseConfig(2, "x,y,xx,xy,yy,xxx,yyy,xxxx,yyyy", AZ_ACT_TANH);
  const PetscInt     K = 5, n = 2, nslot = AZ_JET_NSLOT(2), npts = 7;
  AzField            f;
  Vec                theta;
  const PetscScalar *t;
  PetscReal          x[2 * 7], emax = 0, jmax = 0;
  PetscScalar        J[7 * 10], *Jac, D[7 * 3 * 10];
  PetscInt           nparam;

  c.depth = 1, c.width = K;
  TRY(MakeField(&c, &f));
  TRY(AzFieldGetNumParameters(f, &nparam));
  ck_assert_int_eq(nparam, K * n + K + K + 1); /* = 21 */
  RandomPoints(&c, npts, 99, x);
  TRY(AzFieldEvaluateJets(f, npts, x, J));
  /* Jacobian of u, u_x, u_y */
  for (PetscInt q = 0; q < npts * 3 * nslot; q++) D[q] = 0;
  for (PetscInt p = 0; p < npts; p++)
    for (PetscInt r = 0; r < 3; r++) D[(p * 3 + r) * nslot + r] = 1; /* slots 0, 1, 2 = u, u_x, u_y */
  TRY(PetscMalloc1(npts * 3 * nparam, &Jac));
  TRY(AzFieldResidualJacobian(f, npts, x, 3, D, Jac));
  TRY(AzFieldGetParameters(f, &theta));
  TRY(VecGetArrayRead(theta, &t));
  {
    const PetscScalar *w = t, *b = t + K * n, *a = t + K * n + K, cc = t[K * n + 2 * K];
    PetscReal          maxs[10] = {0}, errs[10] = {0};
    for (PetscInt p = 0; p < npts; p++) {
      PetscReal xh[2], s[2], ex[10] = {0}, dJ[3][21];
      for (PetscInt i = 0; i < n; i++) {
        s[i]  = 2 / (c.hi[i] - c.lo[i]);
        xh[i] = s[i] * (x[p * n + i] - c.lo[i]) - 1;
      }
      ex[0] = cc;
      for (PetscInt r = 0; r < 3; r++)
        for (PetscInt j = 0; j < nparam; j++) dJ[r][j] = 0;
      dJ[0][nparam - 1] = 1;
      for (PetscInt k = 0; k < K; k++) {
        const PetscReal z = w[k * n] * xh[0] + w[k * n + 1] * xh[1] + b[k], th = tanh(z), q = 1 / (cosh(z) * cosh(z));
        const PetscReal T1 = q, T2 = -2 * q * th, T3 = 4 * q * th * th - 2 * q * q, T4 = -8 * q * th * th * th + 16 * q * q * th;
        ex[0] += a[k] * th;
        for (PetscInt i = 0; i < n; i++) {
          const PetscReal g = w[k * n + i] * s[i];
          ex[AzJetSlotD1(n, i)] += a[k] * T1 * g;
          ex[AzJetSlotD3(n, i)] += a[k] * T3 * g * g * g;
          ex[AzJetSlotD4(n, i)] += a[k] * T4 * g * g * g * g;
          for (PetscInt j = i; j < n; j++) ex[AzJetSlotD2(n, i, j)] += a[k] * T2 * g * w[k * n + j] * s[j];
        }
        /* θ derivatives of u (row 0), u_x (row 1), u_y (row 2) */
        dJ[0][K * n + K + k] = th;                /* a_k */
        dJ[0][K * n + k]     = a[k] * T1;         /* b_k */
        for (PetscInt i = 0; i < n; i++) dJ[0][k * n + i] = a[k] * T1 * xh[i];
        for (PetscInt i = 0; i < n; i++) {
          dJ[1 + i][K * n + K + k] = T1 * w[k * n + i] * s[i];
          dJ[1 + i][K * n + k]     = a[k] * T2 * w[k * n + i] * s[i];
          for (PetscInt j = 0; j < n; j++) dJ[1 + i][k * n + j] = a[k] * (T2 * xh[j] * w[k * n + i] + (i == j ? T1 : 0)) * s[i];
        }
      }
      for (PetscInt sl = 0; sl < nslot; sl++) {
        errs[sl] = PetscMax(errs[sl], PetscAbsReal(J[p * nslot + sl] - ex[sl]));
        maxs[sl] = PetscMax(maxs[sl], PetscAbsReal(ex[sl]));
      }
      for (PetscInt r = 0; r < 3; r++)
        for (PetscInt j = 0; j < nparam; j++) {
          emax = PetscMax(emax, PetscAbsReal(Jac[(p * 3 + r) * nparam + j] - dJ[r][j]));
          jmax = PetscMax(jmax, PetscAbsReal(dJ[r][j]));
        }
    }
    {
      PetscReal e = 0;
      for (PetscInt sl = 0; sl < nslot; sl++) e = PetscMax(e, errs[sl] / maxs[sl]);
      Report("depth-1 tanh: all 10 slots vs closed form", e, 1e-13);
      Report("depth-1 tanh: Jacobian of u, u_x, u_y vs closed form", emax / jmax, 1e-13);
    }
  }
  TRY(VecRestoreArrayRead(theta, &t));
  TRY(PetscFree(Jac));
  TRY(AzFieldDestroy(&f));
}
END_TEST

/* ---------------------------------------------------------------------------------------------- */
/* θ derivatives */

/* Checks, for a field and points:
 *   (1) ⟨J v, w⟩ = ⟨v, Jᵀ w⟩, relative to Σ|terms| of ⟨J v, w⟩;
 *   (2) the Jacobian with D = identity on the active slots: every row equals backward with that unit seed,
 *       and Jac·v equals the tangent;
 *   (3) the tangent against central differences in θ, (jets(θ + εv) − jets(θ − εv))/2ε at ε, ε/2, ε/4,
 *       Richardson-extrapolated (error O(ε⁶)), slot-max relative;
 *   (4) a random D with 2 residuals per point: Jac·v = D·(J v).
 * Non-active slots of w and D hold NaN: they must be ignored. */
static void RunThetaCheck(const char *label, const Config *c, PetscReal eps0, PetscReal tol_fd)
{
  const PetscInt     npts = 6, n = c->ncoord, nslot = AZ_JET_NSLOT(n), L = c->ncomp * nslot, mask = ClosedMask(c);
  AzField            f;
  Vec                theta, v, g, th0;
  PetscInt           nparam, nact = 0, act[AZ_JET_MAX_NSLOT * 8];
  PetscReal          x[4 * 6];
  PetscScalar       *w, *jd, *jp, *jm, *Jac, *D, *row;
  const PetscScalar *vv, *gg;
  unsigned long long st = 5;
  char               buf[160];

  TRY(MakeField(c, &f));
  RandomPoints(c, npts, 4321, x);
  TRY(AzFieldGetNumParameters(f, &nparam));
  TRY(AzFieldGetParameters(f, &theta));
  TRY(VecDuplicate(theta, &v));
  TRY(VecDuplicate(theta, &g));
  TRY(VecDuplicate(theta, &th0));
  TRY(VecCopy(theta, th0));
  {
    PetscScalar *a;
    TRY(VecGetArray(v, &a));
    Uniform(&st, nparam, -1, 1, a);
    TRY(VecRestoreArray(v, &a));
  }
  for (PetscInt cc = 0; cc < c->ncomp; cc++)
    for (PetscInt s = 0; s < nslot; s++)
      if ((mask >> s) & 1) act[nact++] = cc * nslot + s;
  TRY(PetscMalloc4(npts * L, &w, npts * L, &jd, npts * L, &jp, npts * L, &jm));
  for (PetscInt q = 0; q < npts * L; q++) w[q] = NAN;
  for (PetscInt p = 0; p < npts; p++)
    for (PetscInt k = 0; k < nact; k++) Uniform(&st, 1, -1, 1, &w[p * L + act[k]]);

  /* (1) */
  TRY(AzFieldJetsTangent(f, npts, x, v, jd));
  TRY(VecSet(g, 0));
  TRY(AzFieldJetsBackward(f, npts, x, w, NULL, g));
  {
    PetscReal jvw = 0, sabs = 0, vjtw = 0;
    for (PetscInt p = 0; p < npts; p++)
      for (PetscInt k = 0; k < nact; k++) {
        jvw += jd[p * L + act[k]] * w[p * L + act[k]];
        sabs += PetscAbsReal(jd[p * L + act[k]] * w[p * L + act[k]]);
      }
    TRY(VecDot(v, g, &vjtw));
    snprintf(buf, sizeof(buf), "%s: <Jv,w> = <v,J^T w>", label);
    Report(buf, PetscAbsReal(jvw - vjtw) / sabs, 1e-12);
  }

  /* (2) */
  TRY(PetscMalloc2(npts * nact * L, &D, npts * nact * nparam, &Jac));
  for (PetscInt q = 0; q < npts * nact * L; q++) D[q] = NAN;
  for (PetscInt p = 0; p < npts; p++)
    for (PetscInt r = 0; r < nact; r++) {
      for (PetscInt k = 0; k < nact; k++) D[(p * nact + r) * L + act[k]] = 0;
      D[(p * nact + r) * L + act[r]] = 1;
    }
  TRY(AzFieldResidualJacobian(f, npts, x, nact, D, Jac));
  {
    PetscReal    erow = 0, ejv = 0;
    PetscScalar *seed;
    TRY(PetscMalloc1(npts * L, &seed));
    TRY(VecGetArrayRead(v, &vv));
    for (PetscInt p = 0; p < npts; p++)
      for (PetscInt r = 0; r < nact; r++) {
        PetscReal rmax = 0, jv = 0, jvabs = 0;
        row = Jac + (p * nact + r) * nparam;
        for (PetscInt q = 0; q < npts * L; q++) seed[q] = 0;
        seed[p * L + act[r]] = 1;
        TRY(VecSet(g, 0));
        TRY(AzFieldJetsBackward(f, npts, x, seed, NULL, g));
        TRY(VecGetArrayRead(g, &gg));
        for (PetscInt j = 0; j < nparam; j++) rmax = PetscMax(rmax, PetscAbsReal(gg[j]));
        for (PetscInt j = 0; j < nparam; j++) erow = PetscMax(erow, PetscAbsReal(row[j] - gg[j]) / rmax);
        TRY(VecRestoreArrayRead(g, &gg));
        for (PetscInt j = 0; j < nparam; j++) {
          jv += row[j] * vv[j];
          jvabs += PetscAbsReal(row[j] * vv[j]);
        }
        ejv = PetscMax(ejv, PetscAbsReal(jv - jd[p * L + act[r]]) / jvabs);
      }
    TRY(VecRestoreArrayRead(v, &vv));
    TRY(PetscFree(seed));
    snprintf(buf, sizeof(buf), "%s: Jacobian rows = backward(unit seed)", label);
    Report(buf, erow, 1e-12);
    snprintf(buf, sizeof(buf), "%s: Jacobian * v = tangent", label);
    Report(buf, ejv, 1e-12);
  }

  /* (3) */
  {
    const PetscInt M = 3;
    PetscReal      eps = eps0, vmax[AZ_JET_MAX_NSLOT * 8] = {0}, e = 0;
    PetscReal     *T;
    TRY(PetscMalloc1(M * npts * L, &T));
    for (PetscInt m = 0; m < M; m++, eps /= 2) {
      TRY(VecWAXPY(theta, eps, v, th0));
      TRY(AzFieldEvaluateJets(f, npts, x, jp));
      TRY(VecWAXPY(theta, -eps, v, th0));
      TRY(AzFieldEvaluateJets(f, npts, x, jm));
      for (PetscInt q = 0; q < npts * L; q++) T[m * npts * L + q] = (jp[q] - jm[q]) / (2 * eps);
    }
    TRY(VecCopy(th0, theta));
    for (PetscInt p = 0; p < npts; p++)
      for (PetscInt k = 0; k < nact; k++) {
        PetscReal R[3][3];
        for (PetscInt m = 0; m < M; m++) {
          R[m][0] = T[m * npts * L + p * L + act[k]];
          for (PetscInt j = 1; j <= m; j++) R[m][j] = R[m][j - 1] + (R[m][j - 1] - R[m - 1][j - 1]) / (pow(4.0, (double)j) - 1);
        }
        vmax[k]  = PetscMax(vmax[k], PetscAbsReal(jd[p * L + act[k]]));
        T[p * L + act[k]] = PetscAbsReal(R[M - 1][M - 1] - jd[p * L + act[k]]); /* reuse level 0 for the error */
      }
    for (PetscInt p = 0; p < npts; p++)
      for (PetscInt k = 0; k < nact; k++) e = PetscMax(e, T[p * L + act[k]] / vmax[k]);
    TRY(PetscFree(T));
    snprintf(buf, sizeof(buf), "%s: tangent vs FD in theta", label);
    Report(buf, e, tol_fd);
  }

  /* (4) */
  {
    const PetscInt nres = 2;
    PetscScalar   *D2, *J2;
    PetscReal      e = 0;
    TRY(PetscMalloc2(npts * nres * L, &D2, npts * nres * nparam, &J2));
    for (PetscInt q = 0; q < npts * nres * L; q++) D2[q] = NAN;
    for (PetscInt p = 0; p < npts; p++)
      for (PetscInt r = 0; r < nres; r++)
        for (PetscInt k = 0; k < nact; k++) Uniform(&st, 1, -1, 1, &D2[(p * nres + r) * L + act[k]]);
    TRY(AzFieldResidualJacobian(f, npts, x, nres, D2, J2));
    TRY(VecGetArrayRead(v, &vv));
    for (PetscInt p = 0; p < npts; p++)
      for (PetscInt r = 0; r < nres; r++) {
        PetscReal a = 0, aabs = 0, b = 0;
        for (PetscInt j = 0; j < nparam; j++) {
          a += J2[(p * nres + r) * nparam + j] * vv[j];
          aabs += PetscAbsReal(J2[(p * nres + r) * nparam + j] * vv[j]);
        }
        for (PetscInt k = 0; k < nact; k++) b += D2[(p * nres + r) * L + act[k]] * jd[p * L + act[k]];
        e = PetscMax(e, PetscAbsReal(a - b) / aabs);
      }
    TRY(VecRestoreArrayRead(v, &vv));
    TRY(PetscFree2(D2, J2));
    snprintf(buf, sizeof(buf), "%s: residual Jacobian (random D) * v = D * tangent", label);
    Report(buf, e, 1e-12);
  }
  TRY(PetscFree2(D, Jac));
  TRY(PetscFree4(w, jd, jp, jm));
  TRY(VecDestroy(&v));
  TRY(VecDestroy(&g));
  TRY(VecDestroy(&th0));
  TRY(AzFieldDestroy(&f));
}

START_TEST(test_theta_derivatives)
{
  for (int a = AZ_ACT_TANH; a <= AZ_ACT_SWISH; a++) {
    Config c = BaseConfig(3, FULL3, (AzActivation)a);
    char   label[64];
    c.td     = PETSC_TRUE;
    c.depth = 2, c.width = 8;
    snprintf(label, sizeof(label), "%s, 3 coords", AzActivations[a]);
    RunThetaCheck(label, &c, 2.5e-3, 1e-9);
  }
  {
    Config c   = BaseConfig(2, "x,y,xx,xy,yy,xxx,xxxx", AZ_ACT_TANH);
    c.ncomp    = 2;
    c.nfourier = 4;
    c.pcoord = 1, c.period = 3.0, c.nharm = 2;
    c.depth = 3, c.width = 7;
    RunThetaCheck("tanh, 2 coords, 2 comps, Fourier + periodic", &c, 2.5e-3, 1e-9);
  }
  {
    Config c = BaseConfig(1, "", AZ_ACT_GELU); /* value only */
    c.depth = 2, c.width = 6;
    RunThetaCheck("gelu, 1 coord, value only", &c, 2.5e-3, 1e-9);
  }
}
END_TEST

/* ---------------------------------------------------------------------------------------------- */

/* u(x + L e_i) = u(x), and every derivative too, with the periodic embedding of x_i */
START_TEST(test_periodic_exact)
{
  Config         c = BaseConfig(3, FULL3, AZ_ACT_TANH);
  const PetscInt npts = 20, L = AZ_JET_NSLOT(3);
  AzField        f;
  PetscReal      x[3 * 20], xs[3 * 20], e = 0, vmax[AZ_JET_MAX_NSLOT] = {0};
  PetscScalar    J0[20 * 16], J1[20 * 16];

  c.td     = PETSC_TRUE;
  c.pcoord = 0, c.period = 1.7, c.nharm = 3;
  c.nfourier = 5;
  TRY(MakeField(&c, &f));
  RandomPoints(&c, npts, 17, x);
  for (PetscInt p = 0; p < npts; p++)
    for (PetscInt i = 0; i < 3; i++) xs[p * 3 + i] = x[p * 3 + i] + (i == 0 ? (p % 2 ? 1.0 : -2.0) * c.period : 0);
  TRY(AzFieldEvaluateJets(f, npts, x, J0));
  TRY(AzFieldEvaluateJets(f, npts, xs, J1));
  for (PetscInt p = 0; p < npts; p++)
    for (PetscInt s = 0; s < L; s++) vmax[s] = PetscMax(vmax[s], PetscAbsReal(J0[p * L + s]));
  for (PetscInt p = 0; p < npts; p++)
    for (PetscInt s = 0; s < L; s++) e = PetscMax(e, PetscAbsReal(J0[p * L + s] - J1[p * L + s]) / vmax[s]);
  Report("periodic x (period 1.7, 3 harmonics, + Fourier): u(x+L) = u(x), all slots", e, 1e-13);
  TRY(AzFieldDestroy(&f));
}
END_TEST

/* results do not depend on the chunk size: chunk 7 (many chunks, a ragged last one) vs one chunk */
static void RunChunking(AzNetwork net, PetscBool rwf)
{
  Config         c = BaseConfig(2, "x,y,xx,xy,yy,xxx,xxxx", AZ_ACT_GELU);
  const PetscInt npts = 300, L = AZ_JET_NSLOT(2), nres = 3, nj = 40;
  AzField        f1, f2;
  PetscReal     *x, e = 0, vmax = 0;
  PetscScalar   *Ja, *Jb, *W, *Da, *Ka, *Kb;
  Vec            th1, th2, g1, g2, v;
  PetscInt       nparam;

  c.net      = net;
  c.rwf      = rwf;
  c.nfourier = 4;
  c.chunk    = 7;
  TRY(MakeField(&c, &f1));
  c.chunk = 1000;
  TRY(MakeField(&c, &f2));
  TRY(AzFieldGetNumParameters(f1, &nparam));
  TRY(PetscMalloc6(npts * 2, &x, npts * L, &Ja, npts * L, &Jb, npts * L, &W, nj * nres * L, &Da, 2 * nj * nres * nparam, &Ka));
  Kb = Ka + nj * nres * nparam;
  RandomPoints(&c, npts, 8, x);
  {
    unsigned long long st = 9;
    Uniform(&st, npts * L, -1, 1, W);
    Uniform(&st, nj * nres * L, -1, 1, Da);
  }
  TRY(AzFieldEvaluateJets(f1, npts, x, Ja));
  TRY(AzFieldEvaluateJets(f2, npts, x, Jb));
  for (PetscInt q = 0; q < npts * L; q++)
    if (!isnan(Ja[q])) {
      e    = PetscMax(e, PetscAbsReal(Ja[q] - Jb[q]));
      vmax = PetscMax(vmax, PetscAbsReal(Jb[q]));
    }
  Report("chunk 7 vs 1000: jets", e / vmax, 1e-14);

  TRY(AzFieldGetParameters(f1, &th1));
  TRY(AzFieldGetParameters(f2, &th2));
  TRY(VecDuplicate(th1, &g1));
  TRY(VecDuplicate(th1, &g2));
  TRY(VecDuplicate(th1, &v));
  TRY(VecSet(g1, 0));
  TRY(VecSet(g2, 0));
  TRY(AzFieldJetsBackward(f1, npts, x, W, Ja, g1));
  TRY(AzFieldJetsBackward(f2, npts, x, W, NULL, g2));
  {
    PetscReal n2, d;
    TRY(VecNorm(g2, NORM_INFINITY, &n2));
    TRY(VecAXPY(g1, -1, g2));
    TRY(VecNorm(g1, NORM_INFINITY, &d));
    Report("chunk 7 vs 1000: backward gradient", d / n2, 1e-13);
  }
  e = 0;
  for (PetscInt q = 0; q < npts * L; q++)
    if (!isnan(Jb[q])) e = PetscMax(e, PetscAbsReal(Ja[q] - Jb[q]) / vmax);
  Report("chunk 7: jets from backward = jets from evaluate", e, 1e-14);

  TRY(VecSet(v, 0.5));
  TRY(AzFieldJetsTangent(f1, npts, x, v, Ja));
  TRY(AzFieldJetsTangent(f2, npts, x, v, Jb));
  e = vmax = 0;
  for (PetscInt q = 0; q < npts * L; q++)
    if (!isnan(Ja[q])) {
      e    = PetscMax(e, PetscAbsReal(Ja[q] - Jb[q]));
      vmax = PetscMax(vmax, PetscAbsReal(Jb[q]));
    }
  Report("chunk 7 vs 1000: tangent", e / vmax, 1e-14);

  TRY(AzFieldResidualJacobian(f1, nj, x, nres, Da, Ka)); /* chunk 7, 3 residuals: 2 points at a time */
  TRY(AzFieldResidualJacobian(f2, nj, x, nres, Da, Kb));
  e = vmax = 0;
  for (PetscInt q = 0; q < nj * nres * nparam; q++) {
    e    = PetscMax(e, PetscAbsReal(Ka[q] - Kb[q]));
    vmax = PetscMax(vmax, PetscAbsReal(Kb[q]));
  }
  Report("chunk 7 vs 1000: residual Jacobian", e / vmax, 1e-14);
  TRY(AzFieldSetChunkSize(f1, 2)); /* chunk < nres: one point at a time, adjoint buffers hold nres columns */
  TRY(AzFieldResidualJacobian(f1, nj, x, nres, Da, Ka));
  e = 0;
  for (PetscInt q = 0; q < nj * nres * nparam; q++) e = PetscMax(e, PetscAbsReal(Ka[q] - Kb[q]));
  Report("chunk 2 (< nres) vs 1000: residual Jacobian", e / vmax, 1e-14);

  TRY(VecDestroy(&g1));
  TRY(VecDestroy(&g2));
  TRY(VecDestroy(&v));
  TRY(PetscFree6(x, Ja, Jb, W, Da, Ka));
  TRY(AzFieldDestroy(&f1));
  TRY(AzFieldDestroy(&f2));
}

START_TEST(test_chunking)
{
  RunChunking(AZ_NET_MLP, PETSC_FALSE);
  printf("  pirate + rwf:\n");
  RunChunking(AZ_NET_PIRATE, PETSC_TRUE);
}
END_TEST

/* the request can change between calls (interior vs boundary sets): the value and first derivatives
 * are the same whether or not higher slots are propagated alongside */
START_TEST(test_request_switch)
{
  Config         c = BaseConfig(2, "x,y,xx,xy,yy,xxxx", AZ_ACT_SIN);
  const PetscInt npts = 50, L = AZ_JET_NSLOT(2);
  AzField        f;
  AzJetRequest   req;
  char           err[64];
  PetscReal      x[100], e = 0, vmax = 0;
  PetscScalar    Ja[50 * 15], Jb[50 * 15];

  TRY(MakeField(&c, &f));
  RandomPoints(&c, npts, 1, x);
  TRY(AzFieldEvaluateJets(f, npts, x, Ja));
  TRY(AzJetRequestParse(2, PETSC_FALSE, "y", &req, err, sizeof(err)));
  TRY(AzFieldSetJetRequest(f, &req));
  TRY(AzFieldEvaluateJets(f, npts, x, Jb));
  for (PetscInt p = 0; p < npts; p++) {
    for (PetscInt s = 0; s < L; s++) {
      const PetscReal b = Jb[p * L + s];
      if (s == 0 || s == AzJetSlotD1(2, 1)) {
        e    = PetscMax(e, PetscAbsReal(Ja[p * L + s] - b));
        vmax = PetscMax(vmax, PetscAbsReal(b));
      } else ck_assert_msg(isnan(b), "slot %d not requested after the switch should be NaN", (int)s);
    }
  }
  Report("request switch: u, u_y alone = u, u_y with 2nd/4th slots", e / vmax, 1e-14);
  TRY(AzFieldDestroy(&f));
}
END_TEST

/* ---------------------------------------------------------------------------------------------- */
/* other architectures: random weight factorisation (RWF) and PirateNet, through the same checks as the
 * MLP (input derivatives against FD of the lower slots, the value against the reference written here
 * from the documented θ layout, Jᵀw / J·v / dense Jacobian against each other and against FD in θ) */

static Config ArchConfig(PetscInt ncoord, const char *spec, AzActivation act, AzNetwork net, PetscBool rwf)
{
  Config c = BaseConfig(ncoord, spec, act);
  c.net    = net;
  c.rwf    = rwf;
  if (net == AZ_NET_PIRATE) c.depth = 2; /* blocks */
  return c;
}

static void RunArchChecks(AzNetwork net, PetscBool rwf)
{
  /* FD in θ from half the MLP's first step for pirate+rwf: its O(ε⁶) truncation reached 2.8e-9 at
   * ε = 2.5e-3 (4.3e-11 at 1.25e-3, 6.4e-13 at 6.25e-4, the tangent being exact) */
  const PetscReal eps = net == AZ_NET_PIRATE && rwf ? 1.25e-3 : 2.5e-3;
  const char *tag = net == AZ_NET_PIRATE ? (rwf ? "pirate+rwf" : "pirate") : (rwf ? "mlp+rwf" : "mlp");
  char        label[96];

  /* every activation, 2 space + time, every slot kind (as test_activations_fd) */
  for (int a = AZ_ACT_TANH; a <= AZ_ACT_SWISH; a++) {
    Config c = ArchConfig(3, FULL3, (AzActivation)a, net, rwf);
    c.td     = PETSC_TRUE;
    snprintf(label, sizeof(label), "%s, %s, 3 coords", tag, AzActivations[a]);
    RunInputCheck(label, &c, 0.0025, 1e-9);
  }
  {
    Config c = ArchConfig(1, "x,xx,xxx,xxxx", AZ_ACT_SWISH, net, rwf);
    c.pcoord = 0, c.period = 2.0, c.nharm = 2;
    snprintf(label, sizeof(label), "%s, swish, 1 coord, periodic x", tag);
    RunInputCheck(label, &c, 0.0025, 1e-9);
  }
  {
    Config c   = ArchConfig(4, "x,y,z,t,xx,xy,xz,xt,yy,yz,yt,zz,zt,tt,xxx,yyy,zzz,ttt,xxxx,yyyy,zzzz,tttt", AZ_ACT_SIN, net, rwf);
    c.td       = PETSC_TRUE;
    c.nfourier = 6, c.fscale = 0.7;
    c.pcoord = 2, c.period = 1.0, c.nharm = 1;
    c.width    = 10;
    snprintf(label, sizeof(label), "%s, sin, 4 coords, Fourier + periodic z", tag);
    /* half the MLP's step: pirate+rwf (perturbed V, s) is rougher here and the O(h⁸) truncation of the
     * FD reference itself reached 5e-9 at h = 0.0025 (2e-11 at 0.00125, 1e-12 at 0.000625: exact jets) */
    RunInputCheck(label, &c, 0.00125, 1e-9);
  }
  {
    Config c = ArchConfig(2, "t,xx", AZ_ACT_SOFTPLUS, net, rwf);
    c.td     = PETSC_TRUE;
    c.ncomp  = 2;
    snprintf(label, sizeof(label), "%s, softplus, 2 components, request t,xx", tag);
    RunInputCheck(label, &c, 0.0025, 1e-9);
  }
  /* θ derivatives (as test_theta_derivatives) */
  for (int a = AZ_ACT_TANH; a <= AZ_ACT_SWISH; a++) {
    Config c = ArchConfig(3, FULL3, (AzActivation)a, net, rwf);
    c.td     = PETSC_TRUE;
    c.depth = 2, c.width = 8;
    snprintf(label, sizeof(label), "%s, %s, 3 coords", tag, AzActivations[a]);
    RunThetaCheck(label, &c, eps, 1e-9);
  }
  {
    Config c   = ArchConfig(2, "x,y,xx,xy,yy,xxx,xxxx", AZ_ACT_TANH, net, rwf);
    c.ncomp    = 2;
    c.nfourier = 4;
    c.pcoord = 1, c.period = 3.0, c.nharm = 2;
    c.depth = 3, c.width = 7;
    snprintf(label, sizeof(label), "%s, tanh, 2 coords, 2 comps, Fourier + periodic", tag);
    RunThetaCheck(label, &c, eps, 1e-9);
  }
  {
    Config c = ArchConfig(1, "", AZ_ACT_GELU, net, rwf);
    c.depth = 2, c.width = 6;
    snprintf(label, sizeof(label), "%s, gelu, 1 coord, value only", tag);
    RunThetaCheck(label, &c, eps, 1e-9);
  }
}

START_TEST(test_rwf_fd)
{
  RunArchChecks(AZ_NET_MLP, PETSC_TRUE);
}
END_TEST

/* RWF at initialisation: θ holds V = W/exp(s) and s ~ N(1, 0.1²) besides the MLP's W, so with the
 * same seed the network is the same function as without RWF, with one s per neuron more */
START_TEST(test_rwf_init)
{
  Config         c = BaseConfig(2, "x,y,xx,xy,yy", AZ_ACT_TANH);
  const PetscInt npts = 30, L = AZ_JET_NSLOT(2);
  AzField        f0, f1;
  PetscInt       n0, n1;
  PetscReal      x[60], e = 0, vmax = 0, smean = 0, svar = 0;
  PetscScalar    J0[30 * AZ_JET_NSLOT(2)], J1[30 * AZ_JET_NSLOT(2)];

  c.randbias = PETSC_FALSE;
  TRY(MakeField(&c, &f0));
  c.rwf = PETSC_TRUE;
  TRY(MakeField(&c, &f1));
  TRY(AzFieldGetNumParameters(f0, &n0));
  TRY(AzFieldGetNumParameters(f1, &n1));
  ck_assert_int_eq(n1, n0 + c.depth * c.width + c.ncomp);
  RandomPoints(&c, npts, 3, x);
  TRY(AzFieldEvaluateJets(f0, npts, x, J0));
  TRY(AzFieldEvaluateJets(f1, npts, x, J1));
  for (PetscInt q = 0; q < npts * L; q++) {
    if (isnan(J0[q])) {
      ck_assert_msg(isnan(J1[q]), "slot %d: not requested, so NaN in both", (int)(q % L));
      continue;
    }
    e    = PetscMax(e, PetscAbsReal(J0[q] - J1[q]));
    vmax = PetscMax(vmax, PetscAbsReal(J0[q]));
  }
  Report("rwf at initialisation = the same seed's MLP, all slots", e / vmax, 1e-14);
  {
    /* the s of the first layer: after W_0 (width × 2) and b_0 */
    Vec                th;
    const PetscScalar *t;
    const PetscInt     off = c.width * 2 + c.width;
    TRY(AzFieldGetParameters(f1, &th));
    TRY(VecGetArrayRead(th, &t));
    for (PetscInt o = 0; o < c.width; o++) smean += t[off + o] / c.width;
    for (PetscInt o = 0; o < c.width; o++) svar += PetscSqr(t[off + o] - smean) / (c.width - 1);
    TRY(VecRestoreArrayRead(th, &t));
  }
  printf("  rwf: first layer's s: mean %.3f, std %.3f (drawn from N(1, 0.1^2), %d of them)\n", (double)smean, (double)PetscSqrtReal(svar), (int)c.width);
  ck_assert_msg(PetscAbsReal(smean - 1.0) < 0.1 && PetscSqrtReal(svar) > 0.03 && PetscSqrtReal(svar) < 0.3, "s is not drawn from N(1, 0.1^2): mean %g std %g", (double)smean, (double)PetscSqrtReal(svar));
  TRY(AzFieldDestroy(&f0));
  TRY(AzFieldDestroy(&f1));
}
END_TEST

START_TEST(test_pirate_fd)
{
  RunArchChecks(AZ_NET_PIRATE, PETSC_FALSE);
  RunArchChecks(AZ_NET_PIRATE, PETSC_TRUE);
}
END_TEST

/* PirateNet at initialisation: every α is 0, so x_depth = Φ exactly and u = W_o Φ + b_o is linear in the
 * mapped inputs x̂: the first derivatives are constants, the second ones exactly 0; θ has
 * 2(wE + w) + depth(wE + w + w² + w + Ew + E + 1) + cE + c entries (E = embedded inputs, w = width) */
START_TEST(test_pirate_init)
{
  Config         c = BaseConfig(2, "x,y,xx,xy,yy", AZ_ACT_TANH);
  const PetscInt npts = 20, L = AZ_JET_NSLOT(2), E = 2, w = 12, d = 2;
  AzField        f;
  PetscInt       n;
  PetscReal      x[40], e1 = 0, e2 = 0;
  PetscScalar    J[20 * AZ_JET_NSLOT(2)];

  c.randbias = PETSC_FALSE;
  c.net      = AZ_NET_PIRATE;
  c.depth = d, c.width = w;
  TRY(MakeField(&c, &f));
  TRY(AzFieldGetNumParameters(f, &n));
  ck_assert_int_eq(n, 2 * (w * E + w) + d * (w * E + w + w * w + w + E * w + E + 1) + E + 1);
  RandomPoints(&c, npts, 5, x);
  TRY(AzFieldEvaluateJets(f, npts, x, J));
  for (PetscInt p = 0; p < npts; p++) {
    for (PetscInt i = 0; i < 2; i++) e1 = PetscMax(e1, PetscAbsReal(J[p * L + AzJetSlotD1(2, i)] - J[AzJetSlotD1(2, i)]));
    for (PetscInt i = 0; i < 2; i++)
      for (PetscInt j = i; j < 2; j++) e2 = PetscMax(e2, PetscAbsReal(J[p * L + AzJetSlotD2(2, i, j)]));
  }
  ck_assert_msg(PetscAbsReal(J[1]) > 1e-3, "u_x at initialisation %g: the linear map should not vanish", (double)J[1]);
  Report("pirate at initialisation (alpha = 0): u_x, u_y constant", e1, 1e-15);
  Report("pirate at initialisation (alpha = 0): second derivatives 0", e2, 0.0);
  TRY(AzFieldDestroy(&f));
}
END_TEST

/* theta.bin round trip; a file of another network is refused naming what differs; a version-1 file
 * (an MLP without RWF, before the network kind joined the header) still loads */
static PetscErrorCode LoadInto(const Config *c, const char *path, PetscErrorCode *ierr, AzField *out)
{
  AzField f;

  PetscFunctionBegin;
  PetscCall(MakeField(c, &f));
  last_error[0] = 0;
  PetscCall(PetscPushErrorHandler(CaptureError, NULL));
  *ierr = AzFieldLoad(f, path);
  PetscCall(PetscPopErrorHandler());
  if (out) *out = f;
  else PetscCall(AzFieldDestroy(&f));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* a file name of this run, the same on every rank (rank 0's pid): the suite may run alone and under
 * mpiexec at the same time in one directory */
static const char *RunPath(const char *name)
{
  static char p[4][PETSC_MAX_PATH_LEN];
  static int  k = 0;
  long        pid = (long)getpid();
  char       *q   = p[k++ % 4];

  MPI_Bcast(&pid, 1, MPI_LONG, 0, PETSC_COMM_WORLD);
  snprintf(q, PETSC_MAX_PATH_LEN, "/tmp/az_test_field_%ld_%s", pid, name);
  return q;
}

/* every rank is done with the file before rank 0 removes it */
static void RemoveShared(const char *path)
{
  PetscMPIInt rank;
  MPI_Barrier(PETSC_COMM_WORLD);
  MPI_Comm_rank(PETSC_COMM_WORLD, &rank);
  if (!rank) unlink(path);
  MPI_Barrier(PETSC_COMM_WORLD);
}

static void SaveLoadCase(const Config *c, const Config *other, const char *want)
{
  const char    *path = RunPath("arch_theta.bin");
  AzField        f, g;
  Vec            t1, t2;
  PetscReal      d;
  PetscErrorCode ierr;

  TRY(MakeField(c, &f)); /* random biases: not the initial θ */
  TRY(AzFieldSave(f, PETSC_COMM_WORLD, path));
  {
    Config c2   = *c;
    c2.randbias = PETSC_FALSE;
    TRY(LoadInto(&c2, path, &ierr, &g));
  }
  ck_assert_msg(ierr == 0, "loading into the same network failed: %s", last_error);
  TRY(AzFieldGetParameters(f, &t1));
  TRY(AzFieldGetParameters(g, &t2));
  TRY(VecAXPY(t2, -1, t1));
  TRY(VecNorm(t2, NORM_INFINITY, &d));
  ck_assert_msg(d == 0, "theta.bin round trip changed θ by %g", (double)d);
  TRY(AzFieldDestroy(&g));
  TRY(LoadInto(other, path, &ierr, NULL));
  ck_assert_msg(ierr != 0 && strstr(last_error, want), "expected '%s', got: %s", want, last_error);
  printf("  refused: %s\n", last_error);
  TRY(AzFieldDestroy(&f));
  RemoveShared(path);
}

START_TEST(test_arch_save_load)
{
  Config mlp = BaseConfig(2, "x,y", AZ_ACT_TANH), rwf = mlp, pir = mlp, pirrwf;
  rwf.rwf    = PETSC_TRUE;
  pir.net    = AZ_NET_PIRATE;
  pirrwf     = pir;
  pirrwf.rwf = PETSC_TRUE;
  SaveLoadCase(&rwf, &mlp, "weight factorisation on in the file, off here");
  SaveLoadCase(&mlp, &rwf, "weight factorisation off in the file, on (-az_field_rwf) here");
  SaveLoadCase(&pir, &mlp, "network pirate in the file, mlp here");
  SaveLoadCase(&mlp, &pir, "network mlp in the file, pirate here");
  SaveLoadCase(&pirrwf, &pir, "weight factorisation on in the file, off here");
  {
    /* a version-1 file: the version 2 header less the network kind and RWF (16 bytes before θ) */
    const char    *path = RunPath("v1_theta.bin");
    PetscMPIInt    rank;
    const long     hdr  = 8 + 8 * (8 + AZ_MAX_COORD + 1) + 8 * (1 + AZ_MAX_COORD);
    AzField        f, g;
    FILE          *fp;
    unsigned char *buf;
    long           n;
    int64_t        one = 1;
    Vec            t1, t2;
    PetscReal      d;
    PetscErrorCode ierr;

    TRY(MakeField(&mlp, &f));
    TRY(AzFieldSave(f, PETSC_COMM_WORLD, path));
    MPI_Comm_rank(PETSC_COMM_WORLD, &rank);
    fp = fopen(path, "rb");
    ck_assert(fp != NULL);
    fseek(fp, 0, SEEK_END);
    n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    buf = malloc((size_t)n);
    ck_assert(fread(buf, 1, (size_t)n, fp) == (size_t)n);
    fclose(fp);
    ck_assert(((int64_t *)(buf + 8))[0] == 2);
    memcpy(buf + 8, &one, 8);
    MPI_Barrier(PETSC_COMM_WORLD); /* every rank has read the version-2 file */
    if (!rank) {
      fp = fopen(path, "wb");
      ck_assert(fwrite(buf, 1, (size_t)hdr, fp) == (size_t)hdr && fwrite(buf + hdr + 16, 1, (size_t)(n - hdr - 16), fp) == (size_t)(n - hdr - 16));
      fclose(fp);
    }
    MPI_Barrier(PETSC_COMM_WORLD);
    free(buf);
    TRY(LoadInto(&mlp, path, &ierr, &g));
    ck_assert_msg(ierr == 0, "a version-1 file of the same MLP is refused: %s", last_error);
    TRY(AzFieldGetParameters(f, &t1));
    TRY(AzFieldGetParameters(g, &t2));
    TRY(VecAXPY(t2, -1, t1));
    TRY(VecNorm(t2, NORM_INFINITY, &d));
    ck_assert_msg(d == 0, "version-1 file: θ differs by %g", (double)d);
    TRY(AzFieldDestroy(&g));
    TRY(LoadInto(&rwf, path, &ierr, NULL));
    ck_assert_msg(ierr != 0 && strstr(last_error, "weight factorisation off in the file"), "version-1 file into an RWF field: %s", last_error);
    printf("  version-1 theta.bin loads into its MLP; refused by an RWF one: %s\n", last_error);
    TRY(AzFieldDestroy(&f));
    RemoveShared(path);
  }
}
END_TEST

/* ---------------------------------------------------------------------------------------------- */
/* options */

static PetscErrorCode TryOptions(const char *name, const char *value, PetscErrorCode *ierr, PetscInt *nparam)
{
  AzField f;

  PetscFunctionBegin;
  PetscCall(PetscOptionsSetValue(NULL, name, value));
  PetscCall(AzFieldCreate(PETSC_COMM_WORLD, &f));
  PetscCall(AzFieldSetDimensions(f, 2, 1));
  PetscCall(PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
  *ierr = AzFieldSetFromOptions(f);
  if (!*ierr) *ierr = AzFieldSetUp(f);
  PetscCall(PetscPopErrorHandler());
  if (!*ierr && nparam) PetscCall(AzFieldGetNumParameters(f, nparam));
  PetscCall(AzFieldDestroy(&f));
  PetscCall(PetscOptionsClearValue(NULL, name));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* tanh's exponential (fieldimpl.h's AzExpFast: Cody-Waite reduction, degree-13 Taylor polynomial,
 * 2^k in the exponent field) against libm's exp on its whole range [0, 80] (tanh clamps 2|z| there),
 * relative error within 2 ulp (2 · 2^-52); measured 1.8e-16 */
START_TEST(test_fast_exp)
{
  double         err = 0, a;
  const PetscInt n = 400000;
  for (PetscInt k = 0; k <= n + 8; k++) {
    if (k <= n) a = 80.0 * (double)k / (double)n;
    else a = (k - n) * 0.69314718055994530942 + (k % 2 ? 1e-12 : -1e-12); /* next to the reduction's k ln2 */
    if (a < 0) a = 0;
    err = PetscMax(err, fabs(AzExpFast(a) - exp(a)) / exp(a));
  }
  Report("fast exp vs libm exp on [0, 80], relative", err, 4.5e-16);
}
END_TEST

/* The AVX2 + FMA passes of activation.c against the baseline code (-az_field_avx2 false) on one field:
 * FMA contracts a·b + c, so they agree to round-off, here 1e-13 relative to each slot's largest value
 * and to the gradient's largest entry. Burgers' request (u_t, u_x, u_xx) at a few widths and chunks
 * (full tiles of 128 numbers and a ragged last one, or a single short one). Where the CPU has no AVX2
 * both runs take the baseline and agree exactly. */
static void RunAVX2(PetscInt width, PetscInt chunk)
{
  Config         c = BaseConfig(2, "t,x,xx", AZ_ACT_TANH);
  const PetscInt npts = 301, L = AZ_JET_NSLOT(2);
  AzField        f;
  PetscReal     *x, e = 0, vmax = 0;
  PetscScalar   *Ja, *Jb, *W;
  Vec            g1, g2, th;
  char           label[96];

  c.td    = PETSC_TRUE;
  c.width = width;
  c.depth = 4;
  c.chunk = chunk;
  TRY(MakeField(&c, &f));
  TRY(PetscMalloc4(npts * 2, &x, npts * L, &Ja, npts * L, &Jb, npts * L, &W));
  RandomPoints(&c, npts, 21, x);
  {
    unsigned long long st = 22;
    Uniform(&st, npts * L, -1, 1, W);
  }
  TRY(AzFieldGetParameters(f, &th));
  TRY(VecDuplicate(th, &g1));
  TRY(VecDuplicate(th, &g2));
  TRY(VecSet(g1, 0));
  TRY(VecSet(g2, 0));
  TRY(PetscOptionsSetValue(NULL, "-az_field_avx2", "false"));
  TRY(AzFieldSetFromOptions(f));
  TRY(AzFieldJetsBackward(f, npts, x, W, Ja, g1));
  TRY(PetscOptionsSetValue(NULL, "-az_field_avx2", "true"));
  TRY(AzFieldSetFromOptions(f));
  TRY(AzFieldJetsBackward(f, npts, x, W, Jb, g2));
  TRY(PetscOptionsClearValue(NULL, "-az_field_avx2"));
  for (PetscInt s = 0; s < L; s++) {
    PetscReal es = 0, ms = 0;
    if (isnan(Jb[s])) continue;
    for (PetscInt p = 0; p < npts; p++) {
      es = PetscMax(es, PetscAbsReal(Ja[p * L + s] - Jb[p * L + s]));
      ms = PetscMax(ms, PetscAbsReal(Jb[p * L + s]));
    }
    e    = PetscMax(e, es / ms);
    vmax = PetscMax(vmax, ms);
  }
  snprintf(label, sizeof label, "AVX2 vs baseline, width %d, chunk %d: jets", (int)width, (int)chunk);
  Report(label, e, 1e-13);
  {
    PetscReal n2, d;
    TRY(VecNorm(g2, NORM_INFINITY, &n2));
    TRY(VecAXPY(g1, -1, g2));
    TRY(VecNorm(g1, NORM_INFINITY, &d));
    snprintf(label, sizeof label, "AVX2 vs baseline, width %d, chunk %d: gradient", (int)width, (int)chunk);
    Report(label, d / n2, 1e-13);
  }
  TRY(VecDestroy(&g1));
  TRY(VecDestroy(&g2));
  TRY(PetscFree4(x, Ja, Jb, W));
  TRY(AzFieldDestroy(&f));
}

START_TEST(test_avx2_kernels)
{
  RunAVX2(20, 256);
  RunAVX2(20, 7);
  RunAVX2(12, 1000);
  RunAVX2(10, 64);
}
END_TEST

START_TEST(test_bad_options)
{
  const char *bad[][2] = {
    {"-az_field_depth", "0"},
    {"-az_field_width", "0"},
    {"-az_field_activation", "relu"},
    {"-az_field_periodic", "2:1.0"}, /* 2 coordinates: 0..1 */
    {"-az_field_periodic", "0:-1"},
    {"-az_field_periodic", "0"},
    {"-az_field_periodic", "0:1,0:2"},
    {"-az_field_periodic_harmonics", "0"},
    {"-az_field_fourier_features", "-1"},
    {"-az_field_fourier_scale", "0"},
    {"-az_field_chunk", "0"},
    {"-az_field_arch", "resnet"},
    {"-az_field_rwf_std", "-0.1"},
    {"-az_field_rwf_mean", "50"},
  };
  for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
    PetscErrorCode ierr = 0;
    TRY(TryOptions(bad[k][0], bad[k][1], &ierr, NULL));
    ck_assert_msg(ierr != 0, "%s %s was accepted", bad[k][0], bad[k][1]);
  }
  printf("  %zu bad option values rejected\n", sizeof(bad) / sizeof(bad[0]));
  {
    /* good ones: 2 inputs -> 3 x 7 -> 1 with x periodic (2 harmonics: 4 features) + y: nin = 5 */
    PetscErrorCode ierr;
    PetscInt       nparam = 0;
    TRY(PetscOptionsSetValue(NULL, "-az_field_depth", "3"));
    TRY(PetscOptionsSetValue(NULL, "-az_field_width", "7"));
    TRY(PetscOptionsSetValue(NULL, "-az_field_activation", "gelu"));
    TRY(PetscOptionsSetValue(NULL, "-az_field_periodic_harmonics", "2"));
    TRY(TryOptions("-az_field_periodic", "0:6.28", &ierr, &nparam));
    ck_assert_int_eq(ierr, 0);
    ck_assert_int_eq(nparam, (7 * 5 + 7) + 2 * (7 * 7 + 7) + (7 + 1));
    TRY(PetscOptionsSetValue(NULL, "-az_field_fourier_features", "3"));
    TRY(TryOptions("-az_field_periodic", "0:6.28", &ierr, &nparam));
    ck_assert_int_eq(ierr, 0);
    ck_assert_int_eq(nparam, (7 * 11 + 7) + 2 * (7 * 7 + 7) + (7 + 1));
    TRY(PetscOptionsClearValue(NULL, "-az_field_depth"));
    TRY(PetscOptionsClearValue(NULL, "-az_field_width"));
    TRY(PetscOptionsClearValue(NULL, "-az_field_activation"));
    TRY(PetscOptionsClearValue(NULL, "-az_field_periodic_harmonics"));
    TRY(PetscOptionsClearValue(NULL, "-az_field_fourier_features"));
  }
  {
    /* API misuse: architecture after SetUp, periodic coordinate out of range, wrong request */
    AzField        f;
    AzJetRequest   req = {3, 1};
    PetscErrorCode ierr;
    TRY(AzFieldCreate(PETSC_COMM_WORLD, &f));
    TRY(AzFieldSetDimensions(f, 2, 1));
    TRY(PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
    ierr = AzFieldSetPeriodic(f, 2, 1.0, 1);
    ck_assert_msg(ierr != 0, "periodic coordinate 2 of 2 accepted");
    ierr = AzFieldSetJetRequest(f, &req);
    ck_assert_msg(ierr != 0, "request for 3 coordinates accepted by a 2-coordinate field");
    ierr = AzFieldSetArchitecture(f, 2, 0, AZ_ACT_TANH);
    ck_assert_msg(ierr != 0, "width 0 accepted");
    TRY(PetscPopErrorHandler());
    TRY(AzFieldSetUp(f));
    TRY(PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
    ierr = AzFieldSetArchitecture(f, 2, 5, AZ_ACT_TANH);
    TRY(PetscPopErrorHandler());
    ck_assert_msg(ierr != 0, "architecture change after SetUp accepted");
    TRY(AzFieldView(f, PETSC_VIEWER_STDOUT_SELF));
    TRY(AzFieldDestroy(&f));
  }
}
END_TEST

static Suite *FieldSuite(void)
{
  Suite *s  = suite_create("field");
  TCase *tc = tcase_create("core");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, test_fast_exp);
  tcase_add_test(tc, test_avx2_kernels);
  tcase_add_test(tc, test_closed_form_tanh);
  tcase_add_test(tc, test_activations_fd);
  tcase_add_test(tc, test_embeddings_fd);
  tcase_add_test(tc, test_theta_derivatives);
  tcase_add_test(tc, test_periodic_exact);
  tcase_add_test(tc, test_chunking);
  tcase_add_test(tc, test_request_switch);
  tcase_add_test(tc, test_bad_options);
  tcase_add_test(tc, test_rwf_init);
  tcase_add_test(tc, test_rwf_fd);
  tcase_add_test(tc, test_pirate_init);
  tcase_add_test(tc, test_pirate_fd);
  tcase_add_test(tc, test_arch_save_load);
  suite_add_tcase(s, tc);
  return s;
}

int main(int argc, char **argv)
{
  SRunner *sr;
  int      nfail;

  PetscCall(PetscInitialize(&argc, &argv, NULL, NULL));
  /* Keep PETSc's inner communicator of PETSC_COMM_WORLD alive for the whole run: a test that fails
   * on one rank may leave an object there that the other ranks destroyed, and the next object created
   * would then duplicate the communicator on some ranks only (a hang instead of a reported failure). */
  MPI_Comm pinned;
  PetscCall(PetscCommDuplicate(PETSC_COMM_WORLD, &pinned, NULL));
  sr = srunner_create(FieldSuite());
  srunner_set_fork_status(sr, CK_NOFORK); /* MPI cannot be initialised in forked children */
  srunner_run_all(sr, CK_NORMAL);
  nfail = srunner_ntests_failed(sr);
  srunner_free(sr);
  PetscCall(PetscCommDestroy(&pinned));
  PetscCall(PetscFinalize());
  return nfail == 0 ? 0 : 1;
}
