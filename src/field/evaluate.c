/* The public evaluation entry points: split the points into chunks, run the network's passes on each
 * (f->ops: mlp.c, pirate.c), and move jets between the compact active-slot blocks and the jet.h layout
 *     jets[p*ncomp*nslot + c*nslot + slot]   (slots not requested: NaN).
 * The passes see the effective parameters; with random weight factorisation rwf.c maps θ onto them
 * before and the gradient, tangent and Jacobian rows back onto θ after.
 */
#include "fieldimpl.h"
#include "../util/blas.h"

/* BLAS threads while the field computes (src/util/blas.h). The layer GEMMs are thin (width × width ×
 * nact·chunk): at width 50 OpenBLAS ran them about twice as fast on one thread as on two (about 44 vs 18
 * GFlop/s for 50 × 1536 × 50 on a 2-core EPYC), and ansatz's parallelism is one MPI rank per core. The
 * caller's setting is restored on return; -az_field_blas_threads 0 leaves OpenBLAS alone. */
static int BlasThreadsPush(AzField f)
{
  int old;
  AzBlasThreadsPush(f->blas_threads, &old);
  return old;
}

static void BlasThreadsPop(AzField f, int old)
{
  AzBlasThreadsPop(f->blas_threads, old);
}

static PetscErrorCode AzFieldCheckReady(AzField f, PetscInt npts, const PetscReal x[])
{
  PetscFunctionBegin;
  PetscCheck(npts >= 0, f->comm, PETSC_ERR_ARG_OUTOFRANGE, "number of points %" PetscInt_FMT " must be >= 0", npts);
  PetscCheck(npts == 0 || x, f->comm, PETSC_ERR_ARG_NULL, "no points given");
  if (!f->setupcalled) PetscCall(AzFieldSetUp(f));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* jets of np points from the blocks U[(a*np + p)*ncomp + c]; the other slots get NaN */
static void ScatterJets(AzField f, PetscInt np, const PetscScalar U[], PetscScalar jets[])
{
  const PetscInt nslot = AZ_JET_NSLOT(f->ncoord), L = f->ncomp * nslot;

  for (PetscInt q = 0; q < np * L; q++) jets[q] = (PetscScalar)NAN;
  for (PetscInt a = 0; a < f->nact; a++) {
    const PetscInt s = f->slots[a].slot;
    for (PetscInt p = 0; p < np; p++)
      for (PetscInt c = 0; c < f->ncomp; c++) jets[p * L + c * nslot + s] = U[(a * np + p) * f->ncomp + c];
  }
}

/* Ū blocks from a jet-layout array (only the active slots are read) */
static void GatherJets(AzField f, PetscInt np, const PetscScalar jets[], PetscScalar U[])
{
  const PetscInt nslot = AZ_JET_NSLOT(f->ncoord), L = f->ncomp * nslot;

  for (PetscInt a = 0; a < f->nact; a++) {
    const PetscInt s = f->slots[a].slot;
    for (PetscInt p = 0; p < np; p++)
      for (PetscInt c = 0; c < f->ncomp; c++) U[(a * np + p) * f->ncomp + c] = jets[p * L + c * nslot + s];
  }
}

PetscErrorCode AzFieldEvaluateJets(AzField f, PetscInt npts, const PetscReal x[], PetscScalar jets[])
{
  const PetscScalar *theta, *teff;
  PetscInt           L;
  int                nthr;

  PetscFunctionBegin;
  PetscCall(AzFieldCheckReady(f, npts, x));
  L = f->ncomp * AZ_JET_NSLOT(f->ncoord);
  PetscCall(PetscLogEventBegin(AZ_FIELD_Jets, 0, 0, 0, 0));
  nthr = BlasThreadsPush(f);
  PetscCall(f->ops->worksetup(f, f->chunk, f->chunk));
  PetscCall(VecGetArrayRead(f->theta, &theta));
  PetscCall(AzFieldEffectiveParameters(f, theta, &teff));
  for (PetscInt p0 = 0; p0 < npts; p0 += f->chunk) {
    const PetscInt np = PetscMin(f->chunk, npts - p0);
    PetscCall(f->ops->forward(f, np, x + p0 * f->ncoord, teff, f->maxorder));
    ScatterJets(f, np, f->work.U, jets + p0 * L);
  }
  PetscCall(VecRestoreArrayRead(f->theta, &theta));
  BlasThreadsPop(f, nthr);
  PetscCall(PetscLogEventEnd(AZ_FIELD_Jets, 0, 0, 0, 0));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode AzFieldCheckParameterVec(AzField f, Vec v, const char name[])
{
  PetscInt n;

  PetscFunctionBegin;
  PetscCall(VecGetLocalSize(v, &n));
  PetscCheck(n == f->ldj, f->comm, PETSC_ERR_ARG_SIZ, "%s has local size %" PetscInt_FMT " but the field has %" PetscInt_FMT " parameters (use a sequential Vec like AzFieldGetParameters' one, e.g. VecDuplicate of it)", name, n, f->ldj);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Vector-Jacobian product with the adjoint computed from the jets, one forward pass per chunk:
 * forward, fn(jets) -> jetbar, backward. */
PetscErrorCode AzFieldJetsVJP(AzField f, PetscInt npts, const PetscReal x[], AzJetAdjointFn fn, void *ctx, Vec grad)
{
  const PetscScalar *theta, *teff;
  PetscScalar       *g, *jets, *jetbar, *ge;
  PetscInt           L;
  int                nthr;

  PetscFunctionBegin;
  PetscCall(AzFieldCheckReady(f, npts, x));
  PetscCall(AzFieldCheckParameterVec(f, grad, "grad"));
  L = f->ncomp * AZ_JET_NSLOT(f->ncoord);
  PetscCall(PetscMalloc2((size_t)f->chunk * L, &jets, (size_t)f->chunk * L, &jetbar));
  PetscCall(PetscLogEventBegin(AZ_FIELD_Backward, 0, 0, 0, 0));
  nthr = BlasThreadsPush(f);
  PetscCall(f->ops->worksetup(f, f->chunk, f->chunk));
  PetscCall(VecGetArrayRead(f->theta, &theta));
  PetscCall(VecGetArray(grad, &g));
  PetscCall(AzFieldEffectiveParameters(f, theta, &teff));
  ge = g;
  if (f->rwf) { /* the gradient in the effective parameters, mapped onto θ at the end */
    ge = f->geff;
    PetscCall(PetscArrayzero(ge, f->nparam));
  }
  for (PetscInt p0 = 0; p0 < npts; p0 += f->chunk) {
    const PetscInt np = PetscMin(f->chunk, npts - p0);
    PetscCall(f->ops->forward(f, np, x + p0 * f->ncoord, teff, f->maxorder + 1));
    ScatterJets(f, np, f->work.U, jets);
    PetscCall(fn(ctx, p0, np, jets, jetbar));
    GatherJets(f, np, jetbar, f->work.G[0]);
    PetscCall(f->ops->backward(f, np, teff, ge));
  }
  if (f->rwf) AzFieldPullBackGradient(f, theta, teff, ge, g);
  PetscCall(VecRestoreArray(grad, &g));
  PetscCall(VecRestoreArrayRead(f->theta, &theta));
  BlasThreadsPop(f, nthr);
  PetscCall(PetscLogEventEnd(AZ_FIELD_Backward, 0, 0, 0, 0));
  PetscCall(PetscFree2(jets, jetbar));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* JetsBackward is the VJP whose adjoint is given: copy it in (and the jets out, when asked) */
typedef struct {
  PetscInt           L;
  const PetscScalar *jetbar;
  PetscScalar       *jets;
} GivenAdjoint;

static PetscErrorCode CopyGivenAdjoint(void *ptr, PetscInt p0, PetscInt np, const PetscScalar jets[], PetscScalar jetbar[])
{
  GivenAdjoint *g = (GivenAdjoint *)ptr;

  PetscFunctionBegin;
  PetscCall(PetscArraycpy(jetbar, g->jetbar + p0 * g->L, np * g->L));
  if (g->jets) PetscCall(PetscArraycpy(g->jets + p0 * g->L, jets, np * g->L));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzFieldJetsBackward(AzField f, PetscInt npts, const PetscReal x[], const PetscScalar jetbar[], PetscScalar jets[], Vec grad)
{
  GivenAdjoint g;

  PetscFunctionBegin;
  PetscCall(AzFieldCheckReady(f, npts, x));
  g.L      = f->ncomp * AZ_JET_NSLOT(f->ncoord);
  g.jetbar = jetbar;
  g.jets   = jets;
  PetscCall(AzFieldJetsVJP(f, npts, x, CopyGivenAdjoint, &g, grad));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzFieldJetsTangent(AzField f, PetscInt npts, const PetscReal x[], Vec v, PetscScalar jetdot[])
{
  const PetscScalar *theta, *vv, *teff, *veff;
  PetscInt           L;
  int                nthr;

  PetscFunctionBegin;
  PetscCall(AzFieldCheckReady(f, npts, x));
  PetscCall(AzFieldCheckParameterVec(f, v, "v"));
  L = f->ncomp * AZ_JET_NSLOT(f->ncoord);
  PetscCall(PetscLogEventBegin(AZ_FIELD_Tangent, 0, 0, 0, 0));
  nthr = BlasThreadsPush(f);
  PetscCall(f->ops->worksetup(f, f->chunk, f->chunk));
  PetscCall(VecGetArrayRead(f->theta, &theta));
  PetscCall(VecGetArrayRead(v, &vv));
  PetscCall(AzFieldEffectiveParameters(f, theta, &teff));
  PetscCall(AzFieldEffectiveTangent(f, theta, teff, vv, &veff));
  for (PetscInt p0 = 0; p0 < npts; p0 += f->chunk) {
    const PetscInt np = PetscMin(f->chunk, npts - p0);
    PetscCall(f->ops->forward(f, np, x + p0 * f->ncoord, teff, f->maxorder + 1));
    PetscCall(f->ops->tangent(f, np, teff, veff));
    ScatterJets(f, np, f->work.G[1], jetdot + p0 * L);
  }
  PetscCall(VecRestoreArrayRead(v, &vv));
  PetscCall(VecRestoreArrayRead(f->theta, &theta));
  BlasThreadsPop(f, nthr);
  PetscCall(PetscLogEventEnd(AZ_FIELD_Tangent, 0, 0, 0, 0));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Rows are batched nres per point, so a chunk of the Jacobian covers chunk/nres points (at least one):
 * the adjoint buffers then hold nres·(chunk/nres)·nact columns, no more than a plain backward pass. */
PetscErrorCode AzFieldResidualJacobian(AzField f, PetscInt npts, const PetscReal x[], PetscInt nres, const PetscScalar drdjet[], PetscScalar Jac[])
{
  const PetscScalar *theta, *teff;
  PetscInt           L, cj;
  int                nthr;

  PetscFunctionBegin;
  PetscCall(AzFieldCheckReady(f, npts, x));
  PetscCheck(nres >= 0, f->comm, PETSC_ERR_ARG_OUTOFRANGE, "number of residuals per point %" PetscInt_FMT " must be >= 0", nres);
  if (nres == 0 || npts == 0) PetscFunctionReturn(PETSC_SUCCESS);
  L  = f->ncomp * AZ_JET_NSLOT(f->ncoord);
  cj = PetscMax(1, f->chunk / nres);
  PetscCall(PetscLogEventBegin(AZ_FIELD_Jacobian, 0, 0, 0, 0));
  nthr = BlasThreadsPush(f);
  PetscCall(f->ops->worksetup(f, cj, cj * nres));
  PetscCall(VecGetArrayRead(f->theta, &theta));
  PetscCall(AzFieldEffectiveParameters(f, theta, &teff));
  for (PetscInt p0 = 0; p0 < npts; p0 += cj) {
    const PetscInt     np = PetscMin(cj, npts - p0);
    const PetscScalar *D  = drdjet + (size_t)p0 * nres * L;
    PetscScalar       *G  = f->work.G[0];
    const PetscInt     nc = f->ncomp, ncol = f->nact * np;

    PetscCall(f->ops->forward(f, np, x + p0 * f->ncoord, teff, f->maxorder + 1));
    /* seed of row (p, k): Ū[k block][a][p][c] = D_p[k, c*nslot + slot_a] */
    for (PetscInt k = 0; k < nres; k++)
      for (PetscInt a = 0; a < f->nact; a++) {
        const PetscInt s = f->slots[a].slot;
        for (PetscInt p = 0; p < np; p++)
          for (PetscInt c = 0; c < nc; c++) G[(k * ncol + a * np + p) * nc + c] = D[(p * nres + k) * L + c * AZ_JET_NSLOT(f->ncoord) + s];
      }
    PetscCall(f->ops->jacobian(f, np, nres, teff, Jac + (size_t)p0 * nres * f->ldj));
    if (f->rwf) AzFieldPullBackRows(f, teff, np * nres, Jac + (size_t)p0 * nres * f->ldj);
    for (PetscInt r = 0; r < np * nres && f->nextra; r++) PetscCall(PetscArrayzero(Jac + ((size_t)p0 * nres + r) * f->ldj + f->nparam, f->nextra)); /* the network does not read them */
  }
  PetscCall(VecRestoreArrayRead(f->theta, &theta));
  BlasThreadsPop(f, nthr);
  PetscCall(PetscLogEventEnd(AZ_FIELD_Jacobian, 0, 0, 0, 0));
  PetscFunctionReturn(PETSC_SUCCESS);
}
