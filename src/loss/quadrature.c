/* Quadrature on the spatial box: Gauss–Legendre rules and their tensor products, shared by the
 * projection, the conservation penalties and the drift measurements. */
#include "lossimpl.h"

/* Gauss–Legendre nodes and weights on [−1, 1] by Newton's method on P_n */
PetscErrorCode AzGaussLegendre(PetscInt n, PetscReal x[], PetscReal w[])
{
  PetscFunctionBegin;
  for (PetscInt i = 0; i < (n + 1) / 2; i++) {
    PetscReal z = PetscCosReal(PETSC_PI * (i + 0.75) / (n + 0.5)), dp = 1;
    for (PetscInt it = 0; it < 100; it++) {
      PetscReal p0 = 1, p1 = z, dz;
      for (PetscInt k = 2; k <= n; k++) {
        PetscReal p2 = ((2 * k - 1) * z * p1 - (k - 1) * p0) / k;
        p0           = p1;
        p1           = p2;
      }
      if (n == 1) p1 = z, p0 = 1;
      dp = n * (z * p1 - p0) / (z * z - 1);
      dz = p1 / dp;
      z -= dz;
      if (PetscAbsReal(dz) < 1e-16) break;
    }
    {
      PetscReal p0 = 1, p1 = z;
      for (PetscInt k = 2; k <= n; k++) {
        PetscReal p2 = ((2 * k - 1) * z * p1 - (k - 1) * p0) / k;
        p0           = p1;
        p1           = p2;
      }
      dp = n * (z * p1 - p0) / (z * z - 1);
    }
    x[i]         = -z;
    x[n - 1 - i] = z;
    w[i] = w[n - 1 - i] = 2 / ((1 - z * z) * dp * dp);
  }
  if (n % 2) x[n / 2] = 0;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzLossSpatialQuadrature(AzLoss L, PetscInt n, PetscBool periodic_midpoint, PetscInt *nq, PetscReal **qx, PetscReal **qw)
{
  const AzProblemInfo *info;
  const PetscInt       dim = L->ncoord - 1;
  PetscReal            lo[AZ_MAX_COORD], hi[AZ_MAX_COORD], gx[8], gw[8];
  PetscReal           *ax[AZ_MAX_DIM], *aw[AZ_MAX_DIM];
  PetscInt             na[AZ_MAX_DIM], total = 1;

  PetscFunctionBegin;
  PetscCall(AzProblemGetInfo(L->prob, &info));
  PetscCall(AzProblemGetBox(L->prob, lo, hi));
  PetscCall(AzGaussLegendre(8, gx, gw));
  for (PetscInt d = 0; d < dim; d++) {
    const PetscReal len = hi[d] - lo[d];
    if (periodic_midpoint && info->boundary[2 * d].type == AZ_BC_PERIODIC) {
      na[d] = n;
      PetscCall(PetscMalloc2(n, &ax[d], n, &aw[d]));
      for (PetscInt i = 0; i < n; i++) {
        ax[d][i] = lo[d] + len * (i + 0.5) / n;
        aw[d][i] = len / n;
      }
    } else {
      const PetscInt np = (n + 7) / 8;
      na[d]             = 8 * np;
      PetscCall(PetscMalloc2(na[d], &ax[d], na[d], &aw[d]));
      for (PetscInt p = 0; p < np; p++)
        for (PetscInt i = 0; i < 8; i++) {
          ax[d][8 * p + i] = lo[d] + len * (p + 0.5 * (gx[i] + 1)) / np;
          aw[d][8 * p + i] = len * 0.5 * gw[i] / np;
        }
    }
    total *= na[d];
  }
  PetscCall(PetscMalloc1((size_t)total * PetscMax(dim, 1), qx));
  PetscCall(PetscMalloc1(total, qw));
  for (PetscInt j = 0; j < total; j++) {
    PetscInt r = j;
    (*qw)[j]   = 1;
    for (PetscInt d = 0; d < dim; d++) {
      (*qx)[j * dim + d] = ax[d][r % na[d]];
      (*qw)[j] *= aw[d][r % na[d]];
      r /= na[d];
    }
  }
  for (PetscInt d = 0; d < dim; d++) PetscCall(PetscFree2(ax[d], aw[d]));
  *nq = total;
  PetscFunctionReturn(PETSC_SUCCESS);
}
