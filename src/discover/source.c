/* Where discovery's solution comes from: a trained field (the loss chain's solution, so hard
 * constraints apply), the problem's reference (cached), or values on a space-time grid (CSV). Each gives
 * the nodes and weights of a spatial rule and, at each sample time, u, u_x, u_xx of every component at
 * the nodes, plus full jets for the declared laws' densities. */
#include "discoverimpl.h"
#include <ansatz/loss.h>
#include <ansatz/reference.h>
#include <ansatz/run.h>
#include <petscvec.h>

PETSC_INTERN PetscErrorCode AzGaussLegendre(PetscInt n, PetscReal x[], PetscReal w[]);

/* ---- derivatives on a uniform grid -------------------------------------------------------------- */
/* periodic: the trigonometric interpolant's derivatives (a DFT of n values, O(n²): exact for a
 * spectral reference); otherwise fourth-order differences, one-sided near the ends */
static PetscErrorCode GridDerivatives(PetscInt n, PetscReal h, PetscBool periodic, const PetscReal u[], PetscReal ux[], PetscReal uxx[])
{
  PetscFunctionBegin;
  if (periodic) {
    const PetscReal L = n * h;
    const PetscInt  kmax = n / 2;
    PetscReal      *a, *b;
    PetscCall(PetscMalloc2(kmax + 1, &a, kmax + 1, &b));
    for (PetscInt k = 0; k <= kmax; k++) {
      a[k] = b[k] = 0;
      for (PetscInt i = 0; i < n; i++) {
        const PetscReal th = 2 * PETSC_PI * k * i / n;
        a[k] += u[i] * PetscCosReal(th);
        b[k] += u[i] * PetscSinReal(th);
      }
    }
    for (PetscInt i = 0; i < n; i++) {
      PetscReal d1 = 0, d2 = 0;
      for (PetscInt k = 1; k <= kmax; k++) {
        /* u ≈ Σ_k (2/n)(a_k cos θ + b_k sin θ), the Nyquist mode halved and its odd derivative dropped */
        const PetscReal th = 2 * PETSC_PI * k * i / n, w = 2 * PETSC_PI * k / L, f = (2 * k == n) ? 1.0 / n : 2.0 / n;
        const PetscReal c = PetscCosReal(th), s = PetscSinReal(th);
        if (2 * k != n) d1 += f * w * (-a[k] * s + b[k] * c);
        d2 += -f * w * w * (a[k] * c + b[k] * s);
      }
      ux[i]  = d1;
      uxx[i] = d2;
    }
    PetscCall(PetscFree2(a, b));
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  PetscCheck(n >= 7, PETSC_COMM_SELF, PETSC_ERR_ARG_SIZ, "A grid of %" PetscInt_FMT " nodes is too coarse for the derivatives (at least 7)", n);
  for (PetscInt i = 0; i < n; i++) {
    /* Fornberg's weights on the 7 nodes nearest i (centred where they fit): u_x to sixth order inside,
     * one-sided near the ends */
    const PetscInt s = PetscMin(PetscMax(i - 3, 0), n - 7);
    PetscReal      c[3][7] = {{0}}, c1 = 1, c4 = (s - i) * h;
    c[0][0] = 1;
    for (PetscInt a = 1; a < 7; a++) {
      const PetscInt  mn = PetscMin(a, 2);
      const PetscReal c5 = c4;
      PetscReal       c2 = 1;
      c4                 = (s + a - i) * h;
      for (PetscInt j = 0; j < a; j++) {
        const PetscReal c3 = (a - j) * h;
        c2 *= c3;
        if (j == a - 1) {
          for (PetscInt k = mn; k >= 1; k--) c[k][a] = c1 * (k * c[k - 1][a - 1] - c5 * c[k][a - 1]) / c2;
          c[0][a] = -c1 * c5 * c[0][a - 1] / c2;
        }
        for (PetscInt k = mn; k >= 1; k--) c[k][j] = (c4 * c[k][j] - k * c[k - 1][j]) / c3;
        c[0][j] = c4 * c[0][j] / c3;
      }
      c1 = c2;
    }
    ux[i] = uxx[i] = 0;
    for (PetscInt a = 0; a < 7; a++) {
      ux[i] += c[1][a] * u[s + a];
      uxx[i] += c[2][a] * u[s + a];
    }
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* grid values gv[(i*nx + node)*ncomp + c] at nt times: the snapshot values and derivatives in vals */
static PetscErrorCode GridSnapshot(AzDiscoverSource *s, PetscInt i)
{
  const PetscInt nc = s->ncomp, nx = s->nq, K = AZ_DISCOVER_MAX_ORDER + 1;
  PetscReal     *u, *ux, *uxx;

  PetscFunctionBegin;
  PetscCall(PetscMalloc3(nx, &u, nx, &ux, nx, &uxx));
  for (PetscInt c = 0; c < nc; c++) {
    for (PetscInt q = 0; q < nx; q++) u[q] = s->gv[((size_t)i * nx + q) * nc + c];
    PetscCall(GridDerivatives(nx, s->h, s->periodic, u, ux, uxx));
    for (PetscInt q = 0; q < nx; q++) {
      s->vals[(q * nc + c) * K + 0] = u[q];
      s->vals[(q * nc + c) * K + 1] = ux[q];
      s->vals[(q * nc + c) * K + 2] = uxx[q];
    }
  }
  PetscCall(PetscFree3(u, ux, uxx));
  /* the jets the declared densities see: u, u_x, u_xx; every other slot NaN (unknown) */
  for (PetscInt q = 0; q < nx; q++)
    for (PetscInt c = 0; c < nc; c++) {
      PetscScalar *J = s->jets + (size_t)q * nc * s->nslot + c * s->nslot;
      for (PetscInt sl = 0; sl < s->nslot; sl++) J[sl] = (PetscScalar)NAN;
      J[0]                            = s->vals[(q * nc + c) * K + 0];
      J[AzJetSlotD1(s->ncoord, 0)]    = s->vals[(q * nc + c) * K + 1];
      J[AzJetSlotD2(s->ncoord, 0, 0)] = s->vals[(q * nc + c) * K + 2];
    }
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode FieldSnapshot(AzDiscoverSource *s, PetscInt i)
{
  const PetscInt nc = s->ncomp, K = AZ_DISCOVER_MAX_ORDER + 1, Ljet = nc * s->nslot;
  PetscReal     *x;

  PetscFunctionBegin;
  PetscCall(PetscMalloc1((size_t)s->nq * 2, &x));
  for (PetscInt q = 0; q < s->nq; q++) {
    x[2 * q]     = s->qx[q];
    x[2 * q + 1] = s->t[i];
  }
  PetscCall(AzLossEvaluateSolution(s->loss, s->nq, x, s->jets));
  PetscCall(PetscFree(x));
  for (PetscInt q = 0; q < s->nq; q++)
    for (PetscInt c = 0; c < nc; c++) {
      const PetscScalar *J = s->jets + (size_t)q * Ljet + c * s->nslot;
      s->vals[(q * nc + c) * K + 0] = PetscRealPart(J[0]);
      s->vals[(q * nc + c) * K + 1] = PetscRealPart(J[AzJetSlotD1(s->ncoord, 0)]);
      s->vals[(q * nc + c) * K + 2] = PetscRealPart(J[AzJetSlotD2(s->ncoord, 0, 0)]);
    }
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzDiscoverSourceSnapshot(AzDiscoverSource *s, PetscInt i)
{
  PetscFunctionBegin;
  if (s->loss) PetscCall(FieldSnapshot(s, i));
  else PetscCall(GridSnapshot(s, i));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode Allocate(AzDiscoverSource *s)
{
  PetscFunctionBegin;
  PetscCall(PetscMalloc1((size_t)s->nq * s->ncomp * (AZ_DISCOVER_MAX_ORDER + 1), &s->vals));
  PetscCall(PetscMalloc1((size_t)s->nq * s->ncomp * s->nslot, &s->jets));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* the trained field: composite Gauss–Legendre (8 nodes a panel) over the box, as the drift diagnostics */
PetscErrorCode AzDiscoverSourceField(AzProblem prob, PetscInt nodes, PetscInt nt, PetscInt maxorder, AzDiscoverSource *s)
{
  const AzProblemInfo *info;
  AzJetRequest         req;
  PetscReal            gx[8], gw[8];
  PetscInt             np;
  char                 load[PETSC_MAX_PATH_LEN] = "";
  PetscBool            set;

  PetscFunctionBegin;
  PetscCall(AzProblemGetInfo(prob, &info));
  PetscCall(PetscOptionsGetString(NULL, NULL, "-az_field_load", load, sizeof load, &set));
  PetscCheck(set && load[0], PETSC_COMM_WORLD, PETSC_ERR_ARG_WRONG, "-az_discover_from field needs the trained parameters: -az_field_load RUN/theta.bin (with the run's options), or -az_run RUN (reads RUN/options.txt and RUN/theta.bin)");
  PetscCall(PetscSNPrintf(s->desc, sizeof s->desc, "field %s", load));
  PetscCall(AzProblemGetJetRequest(prob, &req));
  PetscCall(AzJetRequestClose(&req));
  if (maxorder >= 1) PetscCheck(req.mask & ((PetscInt)1 << AzJetSlotD1(s->ncoord, 0)), PETSC_COMM_WORLD, PETSC_ERR_ARG_WRONG, "The library reads u_x, but problem %s's solution jets carry no x-derivative (its derivatives: \"%s\"): use -az_discover_derivatives \"\"", info->name, info->derivatives ? info->derivatives : "");
  if (maxorder >= 2) PetscCheck(req.mask & ((PetscInt)1 << AzJetSlotD2(s->ncoord, 0, 0)), PETSC_COMM_WORLD, PETSC_ERR_ARG_WRONG, "The library reads u_xx, but problem %s's solution jets carry no second x-derivative (its derivatives: \"%s\"): use -az_discover_derivatives x", info->name, info->derivatives ? info->derivatives : "");
  PetscCall(AzRunCreateField(prob, &s->field));
  PetscCall(AzLossCreate(prob, s->field, &s->loss));
  PetscCall(AzLossSetFromOptions(s->loss));
  PetscCall(AzLossSetUp(s->loss));
  PetscCall(AzGaussLegendre(8, gx, gw));
  np    = PetscMax(1, (nodes + 7) / 8);
  s->nq = 8 * np;
  PetscCall(PetscMalloc2(s->nq, &s->qx, s->nq, &s->qw));
  for (PetscInt p = 0; p < np; p++)
    for (PetscInt i = 0; i < 8; i++) {
      const PetscReal len = info->upper[0] - info->lower[0];
      s->qx[8 * p + i]    = info->lower[0] + len * (p + 0.5 * (gx[i] + 1)) / np;
      s->qw[8 * p + i]    = len * 0.5 * gw[i] / np;
    }
  s->nt = nt;
  PetscCall(PetscMalloc1(nt, &s->t));
  for (PetscInt i = 0; i < nt; i++) s->t[i] = info->t0 + (info->t1 - info->t0) * i / (nt - 1);
  PetscCall(Allocate(s));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* nt (≤ the snapshots; 0: all) equally spaced snapshots of the stored grid */
static PetscErrorCode PickTimes(AzDiscoverSource *s, PetscInt nsnap, PetscInt nt, const PetscReal tsnap[], const PetscReal *all)
{
  const PetscInt nx = s->nq, nc = s->ncomp;

  PetscFunctionBegin;
  if (nt <= 0) nt = nsnap;
  PetscCheck(nt <= nsnap, PETSC_COMM_WORLD, PETSC_ERR_ARG_OUTOFRANGE, "-az_discover_times %" PetscInt_FMT ": the %s has only %" PetscInt_FMT " times (for more, store more: -az_ref_nt_out for the reference)", nt, s->desc, nsnap);
  PetscCheck(nt >= 3, PETSC_COMM_WORLD, PETSC_ERR_ARG_OUTOFRANGE, "Discovery needs at least 3 times, the %s has %" PetscInt_FMT, s->desc, nt);
  s->nt = nt;
  PetscCall(PetscMalloc1(nt, &s->t));
  PetscCall(PetscMalloc1((size_t)nt * nx * nc, &s->gv));
  for (PetscInt i = 0; i < nt; i++) {
    const PetscInt k = (PetscInt)PetscFloorReal((PetscReal)i * (nsnap - 1) / (nt - 1) + 0.5);
    s->t[i]          = tsnap[k];
    PetscCall(PetscArraycpy(s->gv + (size_t)i * nx * nc, all + (size_t)k * nx * nc, (size_t)nx * nc));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* the grid's own rule: rectangles on a periodic axis or finite-volume cells, the trapezoid otherwise */
static PetscErrorCode GridRule(AzDiscoverSource *s, PetscReal x0, PetscBool cells)
{
  PetscFunctionBegin;
  PetscCall(PetscMalloc2(s->nq, &s->qx, s->nq, &s->qw));
  for (PetscInt q = 0; q < s->nq; q++) {
    s->qx[q] = x0 + q * s->h;
    s->qw[q] = s->h * ((!s->periodic && !cells && (q == 0 || q == s->nq - 1)) ? 0.5 : 1.0);
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzDiscoverSourceReference(AzProblem prob, PetscInt nt, AzDiscoverSource *s)
{
  const AzProblemInfo *info;
  AzReference          ref;
  AzReferenceMethod    method;
  char                 dir[PETSC_MAX_PATH_LEN];
  PetscInt             n[AZ_MAX_DIM], nsnap, nc;
  PetscReal            h[AZ_MAX_DIM], *all, *tsnap;

  PetscFunctionBegin;
  PetscCall(AzProblemGetInfo(prob, &info));
  nc = info->ncomp;
  PetscCall(AzReferenceCreate(PETSC_COMM_WORLD, prob, &ref));
  PetscCall(AzReferenceSetFromOptions(ref));
  PetscCall(AzReferenceGetDefaultDir(prob, dir, sizeof dir));
  PetscCall(AzReferenceSolveCached(ref, dir));
  PetscCall(AzReferenceGetMethod(ref, &method));
  PetscCall(AzReferenceGetGrid(ref, n, h));
  PetscCall(AzReferenceGetNumSnapshots(ref, &nsnap));
  PetscCall(PetscSNPrintf(s->desc, sizeof s->desc, "reference in %s", dir));
  s->nq       = n[0];
  s->h        = h[0];
  s->periodic = info->boundary[0].type == AZ_BC_PERIODIC ? PETSC_TRUE : PETSC_FALSE;
  PetscCall(PetscMalloc2((size_t)nsnap * n[0] * nc, &all, nsnap, &tsnap));
  for (PetscInt k = 0; k < nsnap; k++) {
    Vec                u, whole;
    VecScatter         sc;
    const PetscScalar *a;
    PetscCall(AzReferenceGetSnapshot(ref, k, &tsnap[k], &u));
    /* a 1-D DMDA's global ordering is the natural one: gather it whole on every rank */
    PetscCall(VecScatterCreateToAll(u, &sc, &whole));
    PetscCall(VecScatterBegin(sc, u, whole, INSERT_VALUES, SCATTER_FORWARD));
    PetscCall(VecScatterEnd(sc, u, whole, INSERT_VALUES, SCATTER_FORWARD));
    PetscCall(VecGetArrayRead(whole, &a));
    for (PetscInt i = 0; i < n[0] * nc; i++) all[(size_t)k * n[0] * nc + i] = PetscRealPart(a[i]);
    PetscCall(VecRestoreArrayRead(whole, &a));
    PetscCall(VecScatterDestroy(&sc));
    PetscCall(VecDestroy(&whole));
  }
  PetscCall(GridRule(s, info->lower[0] + (method == AZ_REFERENCE_FV ? 0.5 * h[0] : 0), method == AZ_REFERENCE_FV ? PETSC_TRUE : PETSC_FALSE));
  PetscCall(PickTimes(s, nsnap, nt, tsnap, all));
  PetscCall(PetscFree2(all, tsnap));
  PetscCall(AzReferenceDestroy(&ref));
  PetscCall(Allocate(s));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* ---- values on a grid from CSV: a header "t,x,NAME,..." with the problem's component names, then one
 * row per (time, node): every time has the same nodes, equally spaced, covering [lower, upper] (on a
 * periodic axis the upper end may be left out); rows in any order. Or from HDF5 (a name ending in .h5):
 * the observations' layout, /coords (x, t per row) and /values (the components per row). -------- */
static int CompareRow(const void *a, const void *b)
{
  const PetscReal *x = (const PetscReal *)a, *y = (const PetscReal *)b;
  if (x[0] != y[0]) return x[0] < y[0] ? -1 : 1;
  if (x[1] != y[1]) return x[1] < y[1] ? -1 : 1;
  return 0;
}

PetscErrorCode AzDiscoverSourceData(AzProblem prob, const char path[], PetscInt nt, AzDiscoverSource *s)
{
  const AzProblemInfo *info;
  FILE                *fp;
  char                 line[8192];
  PetscInt             nc, ncol, nrow = 0, cap = 1024, lineno = 1, ntime, nx;
  PetscReal           *rows, *all, *tsnap;
  PetscMPIInt          rank;

  PetscFunctionBegin;
  PetscCall(AzProblemGetInfo(prob, &info));
  PetscCallMPI(MPI_Comm_rank(PETSC_COMM_WORLD, &rank));
  nc   = info->ncomp;
  ncol = 2 + nc;
  PetscCall(PetscSNPrintf(s->desc, sizeof s->desc, "data %s", path));
  if (strlen(path) > 3 && !strcmp(path + strlen(path) - 3, ".h5")) {
    /* HDF5: the layout of -az_data, /coords (n × 2: x, t) and /values (n × ncomp), read with its checks */
    PetscReal *pts;
    PetscCall(AzPointsFileRead(prob, path, "-az_discover_data", nc, &nrow, &pts));
    PetscCall(PetscMalloc1((size_t)PetscMax(nrow, 1) * ncol, &rows));
    for (PetscInt i = 0; i < nrow; i++) {
      rows[i * ncol + 0] = pts[i * ncol + 1];
      rows[i * ncol + 1] = pts[i * ncol + 0];
      for (PetscInt c = 0; c < nc; c++) rows[i * ncol + 2 + c] = pts[i * ncol + 2 + c];
    }
    PetscCall(PetscFree(pts));
  } else {
  fp = fopen(path, "r");
  PetscCheck(fp, PETSC_COMM_WORLD, PETSC_ERR_FILE_OPEN, "-az_discover_data: cannot open %s", path);
  {
    char expect[512] = "t,x";
    for (PetscInt c = 0; c < nc; c++) {
      PetscCall(PetscStrlcat(expect, ",", sizeof expect));
      PetscCall(PetscStrlcat(expect, s->comp[c], sizeof expect));
    }
    if (!fgets(line, sizeof line, fp)) line[0] = 0;
    line[strcspn(line, "\r\n")] = 0;
    if (strcmp(line, expect)) {
      fclose(fp);
      SETERRQ(PETSC_COMM_WORLD, PETSC_ERR_FILE_UNEXPECTED, "%s, line 1: the header is \"%s\"; problem %s's grid data need the header \"%s\" (one row per time and node)", path, line, info->name, expect);
    }
  }
  PetscCall(PetscMalloc1((size_t)cap * ncol, &rows));
  while (fgets(line, sizeof line, fp)) {
    char *p = line, *end;
    lineno++;
    line[strcspn(line, "\r\n")] = 0;
    if (!line[0]) continue;
    if (nrow == cap) {
      PetscReal *bigger;
      cap *= 2;
      PetscCall(PetscMalloc1((size_t)cap * ncol, &bigger));
      PetscCall(PetscArraycpy(bigger, rows, (size_t)nrow * ncol));
      PetscCall(PetscFree(rows));
      rows = bigger;
    }
    for (PetscInt k = 0; k < ncol; k++) {
      double v = strtod(p, &end);
      if (end == p || (k < ncol - 1 && *end != ',') || (k == ncol - 1 && *end) || !isfinite(v)) {
        fclose(fp);
        PetscCall(PetscFree(rows));
        SETERRQ(PETSC_COMM_WORLD, PETSC_ERR_FILE_UNEXPECTED, "%s, line %" PetscInt_FMT ": column %" PetscInt_FMT " is not a finite number (each row: t, x, then %" PetscInt_FMT " value(s), comma separated)", path, lineno, k + 1, nc);
      }
      rows[nrow * ncol + k] = v;
      p                     = end + 1;
    }
    nrow++;
  }
  fclose(fp);
  }
  PetscCheck(nrow > 0, PETSC_COMM_WORLD, PETSC_ERR_FILE_UNEXPECTED, "%s has no data rows", path);
  qsort(rows, (size_t)nrow, sizeof(PetscReal) * ncol, CompareRow);
  for (nx = 1; nx < nrow && rows[nx * ncol] == rows[0]; nx++) {}
  ntime = nrow / nx;
  PetscCheck(ntime * nx == nrow, PETSC_COMM_WORLD, PETSC_ERR_FILE_UNEXPECTED, "%s: %" PetscInt_FMT " rows do not form a grid of %" PetscInt_FMT " nodes at each time (the first time has %" PetscInt_FMT ")", path, nrow, nx, nx);
  PetscCheck(nx >= 7, PETSC_COMM_WORLD, PETSC_ERR_FILE_UNEXPECTED, "%s: %" PetscInt_FMT " nodes a time; at least 7 are needed for the derivatives", path, nx);
  s->h = (rows[(nx - 1) * ncol + 1] - rows[1]) / (nx - 1);
  for (PetscInt i = 0; i < ntime; i++)
    for (PetscInt q = 0; q < nx; q++) {
      const PetscReal *r = rows + ((size_t)i * nx + q) * ncol;
      PetscCheck(r[0] == rows[i * nx * ncol], PETSC_COMM_WORLD, PETSC_ERR_FILE_UNEXPECTED, "%s: time %g has %s nodes than time %g: every time needs the same %" PetscInt_FMT " nodes", path, (double)r[0], q < nx ? "fewer" : "more", (double)rows[0], nx);
      PetscCheck(PetscAbsReal(r[1] - (rows[1] + q * s->h)) <= 1e-9 * (PetscAbsReal(s->h) * nx), PETSC_COMM_WORLD, PETSC_ERR_FILE_UNEXPECTED, "%s: at time %g the nodes are not those of the first time, equally spaced (node %" PetscInt_FMT " is x = %g, expected %g)", path, (double)r[0], q, (double)r[1], (double)(rows[1] + q * s->h));
      PetscCheck(r[0] >= info->t0 - 1e-12 && r[0] <= info->t1 + 1e-12, PETSC_COMM_WORLD, PETSC_ERR_ARG_OUTOFRANGE, "%s: time %g is outside problem %s's [%g, %g]", path, (double)r[0], info->name, (double)info->t0, (double)info->t1);
    }
  s->periodic = info->boundary[0].type == AZ_BC_PERIODIC ? PETSC_TRUE : PETSC_FALSE;
  {
    const PetscReal L = info->upper[0] - info->lower[0], tolx = 1e-9 * L;
    PetscBool       full = (PetscAbsReal(rows[1] - info->lower[0]) <= tolx && PetscAbsReal(rows[(nx - 1) * ncol + 1] - info->upper[0]) <= tolx) ? PETSC_TRUE : PETSC_FALSE;
    PetscBool       open = (s->periodic && PetscAbsReal(rows[1] - info->lower[0]) <= tolx && PetscAbsReal(rows[(nx - 1) * ncol + 1] + s->h - info->upper[0]) <= tolx) ? PETSC_TRUE : PETSC_FALSE;
    PetscCheck(full || open, PETSC_COMM_WORLD, PETSC_ERR_ARG_OUTOFRANGE, "%s: the nodes span [%g, %g]; they must cover problem %s's [%g, %g] (on a periodic axis the upper end may be left out)", path, (double)rows[1], (double)rows[(nx - 1) * ncol + 1], info->name, (double)info->lower[0], (double)info->upper[0]);
    s->nq = (full && s->periodic) ? nx - 1 : nx; /* a periodic grid with both ends: the upper one is the lower one */
  }
  PetscCall(PetscMalloc2((size_t)ntime * s->nq * nc, &all, ntime, &tsnap));
  for (PetscInt i = 0; i < ntime; i++) {
    tsnap[i] = rows[(size_t)i * nx * ncol];
    for (PetscInt q = 0; q < s->nq; q++)
      for (PetscInt c = 0; c < nc; c++) all[((size_t)i * s->nq + q) * nc + c] = rows[((size_t)i * nx + q) * ncol + 2 + c];
  }
  PetscCall(PetscFree(rows));
  PetscCall(GridRule(s, info->lower[0], PETSC_FALSE));
  PetscCall(PickTimes(s, ntime, nt, tsnap, all));
  PetscCall(PetscFree2(all, tsnap));
  PetscCall(Allocate(s));
  (void)rank;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzDiscoverSourceDestroy(AzDiscoverSource *s)
{
  PetscFunctionBegin;
  PetscCall(AzLossDestroy(&s->loss));
  PetscCall(AzFieldDestroy(&s->field));
  PetscCall(PetscFree2(s->qx, s->qw));
  PetscCall(PetscFree(s->t));
  PetscCall(PetscFree(s->gv));
  PetscCall(PetscFree(s->vals));
  PetscCall(PetscFree(s->jets));
  PetscFunctionReturn(PETSC_SUCCESS);
}
