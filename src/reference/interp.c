/* Evaluating the reference off the grid, and its error against an exact solution.
 *
 * Interpolation is a tensor product of 4-point (cubic) Lagrange interpolation along each spatial
 * axis and in time between snapshots: error O(h^4 + dt^4) for smooth solutions. Every rank needs
 * every snapshot for points anywhere in the box, so the first call gathers them all onto every rank
 * in natural ordering (collective; nt x nodes x ncomp scalars per rank, bounded by
 * -az_ref_interp_max_mb). Later calls are local. */
#include "refimpl.h"

/* fv holds cell averages ū_i = u(x_i) + h²/24 u''(x_i) + O(h⁴): the point values at the centres are
 * u(x_i) = ū_i − (ū_{i-1} − 2ū_i + ū_{i+1})/24 + O(h⁴), along each axis in turn (at a non-periodic end
 * the second difference of the nearest interior cell). Without it the interpolant of averages would
 * be off by h²/24 u'' — at a steep front as large as the method's own error. */
static PetscErrorCode AveragesToPoints(AzReference ref, PetscScalar *v)
{
  const PetscInt nc = ref->ncomp;
  PetscInt       total = 1;
  PetscScalar   *line;

  PetscFunctionBegin;
  for (PetscInt a = 0; a < ref->dim; a++) total *= ref->n[a];
  PetscCall(PetscMalloc1(PetscMax(ref->n[0], PetscMax(ref->n[1], ref->n[2])), &line));
  for (PetscInt a = 0, stride = 1; a < ref->dim; stride *= ref->n[a], a++) {
    const PetscInt n = ref->n[a];

    if (n < 3) continue;
    for (PetscInt base = 0; base < total; base++) {
      if ((base / stride) % n) continue; /* one line per base with index 0 along axis a */
      for (PetscInt c = 0; c < nc; c++) {
        for (PetscInt i = 0; i < n; i++) line[i] = v[(base + i * stride) * nc + c];
        for (PetscInt i = 0; i < n; i++) {
          PetscInt j = i;
          if (!ref->periodic[a]) j = PetscMin(PetscMax(i, 1), n - 2);
          v[(base + i * stride) * nc + c] = line[i] - (line[(j - 1 + n) % n] - 2 * line[j] + line[(j + 1) % n]) / 24;
        }
      }
    }
  }
  PetscCall(PetscFree(line));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode GatherSnapshots(AzReference ref)
{
  PetscInt   nodes = 1, N;
  PetscReal  mb;
  VecScatter sc;
  Vec        nat;

  PetscFunctionBegin;
  if (ref->all) PetscFunctionReturn(PETSC_SUCCESS);
  for (PetscInt a = 0; a < ref->dim; a++) nodes *= ref->n[a];
  N  = nodes * ref->ncomp;
  mb = (PetscReal)ref->nt * N * sizeof(PetscScalar) / 1048576.0;
  PetscCheck(mb <= ref->interp_max_mb, ref->comm, PETSC_ERR_MEM, "Interpolating the reference of %s needs all %" PetscInt_FMT " snapshots on every rank: %.0f MB per rank, more than -az_ref_interp_max_mb %g. Raise it, or use fewer output times (-az_ref_nt_out)", ref->info->name, ref->nt, (double)mb, (double)ref->interp_max_mb);
  PetscCall(PetscMalloc1((size_t)ref->nt * N, &ref->all));
  PetscCall(DMDAGlobalToNaturalAllCreate(ref->da, &sc));
  PetscCall(VecCreateSeqWithArray(PETSC_COMM_SELF, 1, N, NULL, &nat));
  for (PetscInt k = 0; k < ref->nt; k++) {
    PetscCall(VecPlaceArray(nat, ref->all + (size_t)k * N));
    PetscCall(VecScatterBegin(sc, ref->snap[k], nat, INSERT_VALUES, SCATTER_FORWARD));
    PetscCall(VecScatterEnd(sc, ref->snap[k], nat, INSERT_VALUES, SCATTER_FORWARD));
    PetscCall(VecResetArray(nat));
    if (ref->method == AZ_REFERENCE_FV) PetscCall(AveragesToPoints(ref, ref->all + (size_t)k * N));
  }
  PetscCall(VecDestroy(&nat));
  PetscCall(VecScatterDestroy(&sc));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Lagrange weights at s (in units of the spacing) over np consecutive nodes starting at *first,
 * chosen around s and kept inside [0, n-1] unless periodic (then indices wrap). s is clamped to
 * [-ext, n-1+ext]: ext = 1/2 for cell centres (fv), whose outer half cells are extrapolated. */
static void LagrangeWeights(PetscReal s, PetscInt n, PetscBool periodic, PetscReal ext, PetscInt *first, PetscInt *np, PetscReal w[])
{
  PetscInt b;

  *np = PetscMin(4, n);
  if (periodic) {
    *np = 4;
    b   = (PetscInt)PetscFloorReal(s) - 1;
  } else {
    s = PetscMin(PetscMax(s, -ext), (PetscReal)(n - 1) + ext);
    b = (PetscInt)PetscFloorReal(s) - (*np / 2 - 1);
    b = PetscMin(PetscMax(b, 0), n - *np);
  }
  *first = b;
  for (PetscInt k = 0; k < *np; k++) {
    w[k] = 1;
    for (PetscInt j = 0; j < *np; j++)
      if (j != k) w[k] *= (s - (b + j)) / (PetscReal)(k - j);
  }
}

PetscErrorCode AzReferenceInterpolate(AzReference ref, PetscInt npts, const PetscReal x[], PetscScalar u[])
{
  const PetscInt nc = ref->ncomp, dim = ref->dim;
  PetscInt       nodes = 1;

  PetscFunctionBegin;
  PetscCheck(ref->solved, ref->comm, PETSC_ERR_ORDER, "AzReferenceInterpolate needs a solved reference: call AzReferenceSolve or AzReferenceSolveCached first");
  PetscCall(GatherSnapshots(ref));
  for (PetscInt a = 0; a < dim; a++) nodes *= ref->n[a];
  for (PetscInt p = 0; p < npts; p++) {
    const PetscReal *xp = x + p * ref->ncoord;
    PetscInt         first[AZ_MAX_DIM + 1] = {0, 0, 0, 0}, np[AZ_MAX_DIM + 1] = {1, 1, 1, 1}, k[AZ_MAX_DIM + 1];
    PetscReal        w[AZ_MAX_DIM + 1][4] = {{1}, {1}, {1}, {1}};

    for (PetscInt a = 0; a < dim; a++) LagrangeWeights((xp[a] - ref->x0[a]) / ref->h[a], ref->n[a], ref->periodic[a], ref->method == AZ_REFERENCE_FV ? 0.5 : 0, &first[a], &np[a], w[a]);
    if (ref->td) {
      const PetscReal dt = (ref->info->t1 - ref->info->t0) / (ref->nt - 1);
      LagrangeWeights((xp[dim] - ref->info->t0) / dt, ref->nt, PETSC_FALSE, 0, &first[3], &np[3], w[3]);
    }
    for (PetscInt c = 0; c < nc; c++) u[p * nc + c] = 0;
    for (k[3] = 0; k[3] < np[3]; k[3]++)
      for (k[2] = 0; k[2] < np[2]; k[2]++)
        for (k[1] = 0; k[1] < np[1]; k[1]++)
          for (k[0] = 0; k[0] < np[0]; k[0]++) {
            const PetscScalar *snap = ref->all + (size_t)(first[3] + k[3]) * nodes * nc;
            PetscInt           lin = 0;
            PetscReal          wt  = w[3][k[3]];

            for (PetscInt a = dim - 1; a >= 0; a--) {
              PetscInt i = first[a] + k[a];
              if (ref->periodic[a]) i = ((i % ref->n[a]) + ref->n[a]) % ref->n[a];
              lin = lin * ref->n[a] + i;
              wt *= w[a][k[a]];
            }
            for (PetscInt c = 0; c < nc; c++) u[p * nc + c] += wt * snap[lin * nc + c];
          }
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzReferenceComputeError(AzReference ref, PetscReal *maxerr, PetscReal *relerr)
{
  const PetscInt     nc = ref->ncomp;
  const PetscReal   *param;
  const PetscScalar *a;
  PetscInt           xs[3], xm[3], idx[3];
  PetscReal          x[AZ_MAX_COORD], sums[2] = {0, 0}, emax = 0;
  PetscScalar        ue[AZ_MAX_COMP];

  PetscFunctionBegin;
  PetscCheck(ref->solved, ref->comm, PETSC_ERR_ORDER, "AzReferenceComputeError needs a solved reference");
  PetscCheck(ref->info->exact, ref->comm, PETSC_ERR_ARG_WRONG, "Problem %s has no exact solution to compare the reference with", ref->info->name);
  PetscCall(AzProblemGetParams(ref->prob, &param));
  PetscCall(DMDAGetCorners(ref->da, &xs[0], &xs[1], &xs[2], &xm[0], &xm[1], &xm[2]));
  PetscCall(VecGetArrayRead(ref->snap[ref->nt - 1], &a));
  for (idx[2] = xs[2]; idx[2] < xs[2] + xm[2]; idx[2]++)
    for (idx[1] = xs[1]; idx[1] < xs[1] + xm[1]; idx[1]++)
      for (idx[0] = xs[0]; idx[0] < xs[0] + xm[0]; idx[0]++) {
        const PetscInt     l = ((idx[2] - xs[2]) * xm[1] + (idx[1] - xs[1])) * xm[0] + (idx[0] - xs[0]);
        AzPoint            p = {x, ref->ncoord, param, -1};

        for (PetscInt d = 0; d < ref->dim; d++) x[d] = ref->x0[d] + idx[d] * ref->h[d];
        if (ref->td) x[ref->dim] = ref->tout[ref->nt - 1];
        if (ref->method == AZ_REFERENCE_FV) { /* fv holds cell averages: against the exact cell average (5-point Gauss, 1-D) */
          static const PetscReal gx[5] = {-0.9061798459386640, -0.5384693101056831, 0, 0.5384693101056831, 0.9061798459386640};
          static const PetscReal gw[5] = {0.2369268850561891, 0.4786286704993665, 0.5688888888888889, 0.4786286704993665, 0.2369268850561891};
          const PetscReal        xc    = x[0];
          PetscScalar            uq[AZ_MAX_COMP];

          for (PetscInt c = 0; c < nc; c++) ue[c] = 0;
          for (PetscInt q = 0; q < 5; q++) {
            x[0] = xc + 0.5 * gx[q] * ref->h[0];
            PetscCall(ref->info->exact(&p, uq));
            for (PetscInt c = 0; c < nc; c++) ue[c] += 0.5 * gw[q] * uq[c];
          }
          x[0] = xc;
        } else PetscCall(ref->info->exact(&p, ue));
        for (PetscInt c = 0; c < nc; c++) {
          const PetscReal e = PetscAbsScalar(a[l * nc + c] - ue[c]);
          emax = PetscMax(emax, e);
          sums[0] += e * e;
          sums[1] += PetscRealPart(ue[c] * PetscConj(ue[c]));
        }
      }
  PetscCall(VecRestoreArrayRead(ref->snap[ref->nt - 1], &a));
  PetscCall(MPIU_Allreduce(MPI_IN_PLACE, &emax, 1, MPIU_REAL, MPIU_MAX, ref->comm));
  PetscCall(MPIU_Allreduce(MPI_IN_PLACE, sums, 2, MPIU_REAL, MPIU_SUM, ref->comm));
  if (maxerr) *maxerr = emax;
  if (relerr) *relerr = PetscSqrtReal(sums[0] / PetscMax(sums[1], PETSC_SMALL * PETSC_SMALL));
  PetscFunctionReturn(PETSC_SUCCESS);
}
