/* bench/hardpde/span: where the error of a solved output layer (-az_hardpde) comes from, at a trained
 * θ (-az_field_load a run's theta.bin, with the options the run took). For a one-component problem
 * with an exact solution u*, on a grid of -span_n points per axis:
 *   hardpde   the rel L2 of u = Σ w φ with w solved from the PDE at the constraint points (the loss's);
 *   best      the rel L2 of the best u* in the span of the basis (least squares on the grid's values,
 *             the SVD cut at rcond = 1e-8 .. 1e-15 of the largest singular value): what the basis can
 *             express, whatever the solve;
 *   the basis values' singular values (cond), |w| and |w| |φ|∞ (the cancellation in u = Σ w φ).
 * If best ≪ hardpde the solve (its rows, weights or conditioning) is what limits; if best ≈ hardpde, the
 * basis (the optimiser in θ). With hard conditions (-az_constraint hard, -az_constraint_boundary hard)
 * u = g + Σ w C φ: the basis is the transformed C φ_k and best fits u* − g.
 *   bench/hardpde/span -problem heat1d -az_hardpde -az_hardpde_basis 24 -az_field_width 24 ... \
 *       -az_field_load RUN/theta.bin [-span_n 64]
 */
#include <ansatz.h>
#include <petscblaslapack.h>

int main(int argc, char **argv)
{
  AzProblem            prob  = NULL;
  AzField              field = NULL;
  AzLoss               loss  = NULL;
  const AzProblemInfo *info;
  const PetscReal     *param;
  char                 name[256] = "heat1d";
  PetscInt             ncoord, ncomp, nslot, nout, n1 = 64, N = 1, K, its, R;
  PetscReal            lo[AZ_MAX_COORD], hi[AZ_MAX_COORD], f, rel, mx, obj, nu = 0, eh = 0, nw = 0, phimax = 0;
  PetscReal           *x, *Phi, *A, *b, *ue, *sv, *work, wq, *gl;
  AzTransform          T = NULL;
  PetscBool            hface[2 * AZ_MAX_DIM] = {PETSC_FALSE}, hinit = PETSC_FALSE, anyhard = PETSC_FALSE;
  PetscScalar         *jets;
  const PetscScalar   *w;
  PetscBool            has;
  const PetscReal      cuts[] = {1e-6, 1e-8, 1e-10, 1e-12, 1e-13, 1e-14, 1e-15};

  PetscFunctionBeginUser;
  PetscCall(PetscInitialize(&argc, &argv, NULL, NULL));
  PetscCall(PetscOptionsGetString(NULL, NULL, "-problem", name, sizeof name, NULL));
  PetscCall(PetscOptionsGetInt(NULL, NULL, "-span_n", &n1, NULL));
  PetscCall(AzProblemLoad(PETSC_COMM_WORLD, name, &prob));
  PetscCall(AzProblemSetFromOptions(prob));
  PetscCall(AzRunCreateField(prob, &field));
  PetscCall(AzLossCreate(prob, field, &loss));
  PetscCall(AzLossSetFromOptions(loss));
  PetscCall(AzLossSetUp(loss));
  PetscCall(AzProblemGetInfo(prob, &info));
  PetscCall(AzProblemGetNumCoords(prob, &ncoord));
  PetscCall(AzProblemGetBox(prob, lo, hi));
  PetscCall(AzProblemGetParams(prob, &param));
  PetscCall(AzFieldGetJetSize(field, &nout, &nslot));
  PetscCall(AzLossEvaluate(loss, &f, NULL, NULL));
  PetscCall(AzLossHardPDEInfo(loss, &its, &obj, &R, &w));
  ncomp = info->ncomp;
  PetscCheck(info->exact && ncomp == 1 && R == nout, PETSC_COMM_WORLD, PETSC_ERR_ARG_WRONG, "span needs -az_hardpde on a one-component problem with an exact solution");
  K = nout;
  PetscCall(AzLossExactError(loss, &has, &rel, &mx));
  for (PetscInt d = 0; d < ncoord; d++) N *= n1;
  PetscCall(PetscMalloc5((size_t)N * ncoord, &x, (size_t)N * K, &Phi, (size_t)N * K, &A, N, &b, N, &ue));
  PetscCall(PetscMalloc2(K, &sv, (size_t)N * nout * nslot, &jets));
  for (PetscInt p = 0; p < N; p++) {
    PetscInt q = p;
    for (PetscInt d = 0; d < ncoord; d++) {
      x[p * ncoord + d] = lo[d] + (hi[d] - lo[d]) * (PetscReal)(q % n1) / (n1 - 1);
      q /= n1;
    }
  }
  PetscCall(AzFieldEvaluateJets(field, N, x, jets));
  for (PetscInt cond = 0; cond <= AZ_COND_INITIAL; cond++) { /* the loss's hard conditions: the same transform */
    const char *st;
    PetscInt    nres = 0;
    if (cond >= 2 * info->dim && cond != AZ_COND_INITIAL) continue;
    PetscCall(AzProblemGetNumResiduals(prob, cond, &nres));
    if (!nres) continue;
    PetscCall(AzLossGetConditionStrategy(loss, cond, &st));
    if (strcmp(st, "hard")) continue;
    if (cond == AZ_COND_INITIAL) hinit = PETSC_TRUE;
    else hface[cond] = PETSC_TRUE;
    anyhard = PETSC_TRUE;
  }
  PetscCall(PetscCalloc1(N, &gl));
  if (anyhard) {
    PetscScalar *g0;
    PetscCall(AzTransformCreateFaces(prob, hface, hinit, &T));
    PetscCall(AzTransformApplyLinearBlocks(T, N, x, nout, jets)); /* C φ_k */
    PetscCall(PetscCalloc1((size_t)N * nslot, &g0));
    PetscCall(AzTransformApply(T, N, x, g0)); /* the lift g */
    for (PetscInt p = 0; p < N; p++) gl[p] = PetscRealPart(g0[(size_t)p * nslot]);
    PetscCall(PetscFree(g0));
    PetscCall(AzTransformDestroy(&T));
  }
  for (PetscInt p = 0; p < N; p++) {
    AzPoint     pt = {x + p * ncoord, ncoord, param, -1};
    PetscScalar u;
    PetscReal   uh = gl[p];
    PetscCall(info->exact(&pt, &u));
    ue[p] = PetscRealPart(u);
    nu += ue[p] * ue[p];
    for (PetscInt k = 0; k < K; k++) {
      Phi[(size_t)k * N + p] = PetscRealPart(jets[((size_t)p * nout + k) * nslot]);
      uh += PetscRealPart(w[k]) * Phi[(size_t)k * N + p];
      phimax = PetscMax(phimax, PetscAbsReal(Phi[(size_t)k * N + p]));
    }
    eh += (uh - ue[p]) * (uh - ue[p]);
  }
  for (PetscInt k = 0; k < K; k++) nw += PetscRealPart(w[k] * w[k]);
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "hardpde rel L2 %.3e (loss's grid), %.3e (this grid); loss %.3e, solve objective %.3e, |w| %.3e, |w| |phi|inf %.3e\n", (double)rel, (double)PetscSqrtReal(eh / nu), (double)f, (double)obj, (double)PetscSqrtReal(nw), (double)(PetscSqrtReal(nw) * phimax)));
  for (size_t c = 0; c < sizeof cuts / sizeof cuts[0]; c++) {
    PetscBLASInt M, Nn, one = 1, lda, ldb, rank, lwork = -1, info_ = 0;
    PetscReal    rc = cuts[c], e = 0;
    PetscCall(PetscBLASIntCast(N, &M));
    PetscCall(PetscBLASIntCast(K, &Nn));
    lda = ldb = M;
    PetscCall(PetscArraycpy(A, Phi, (size_t)N * K));
    for (PetscInt p = 0; p < N; p++) b[p] = ue[p] - gl[p];
    LAPACKgelss_(&M, &Nn, &one, A, &lda, b, &ldb, sv, &rc, &rank, &wq, &lwork, &info_);
    lwork = (PetscBLASInt)wq + 1;
    PetscCall(PetscMalloc1(lwork, &work));
    LAPACKgelss_(&M, &Nn, &one, A, &lda, b, &ldb, sv, &rc, &rank, work, &lwork, &info_);
    PetscCall(PetscFree(work));
    PetscCheck(info_ == 0, PETSC_COMM_WORLD, PETSC_ERR_LIB, "gelss failed (info %d)", (int)info_);
    for (PetscInt p = 0; p < N; p++) {
      PetscReal u = gl[p];
      for (PetscInt k = 0; k < K; k++) u += b[k] * Phi[(size_t)k * N + p];
      e += (u - ue[p]) * (u - ue[p]);
    }
    if (c == 0) PetscCall(PetscPrintf(PETSC_COMM_WORLD, "basis values: sigma_max %.3e sigma_min %.3e (cond %.3e)\n", (double)sv[0], (double)sv[K - 1], (double)(sv[0] / sv[K - 1])));
    PetscCall(PetscPrintf(PETSC_COMM_WORLD, "best in span, rcond %.0e: rel L2 %.3e (rank %d of %d)\n", (double)rc, (double)PetscSqrtReal(e / nu), (int)rank, (int)K));
  }
  PetscCall(PetscFree5(x, Phi, A, b, ue));
  PetscCall(PetscFree2(sv, jets));
  PetscCall(PetscFree(gl));
  PetscCall(AzLossDestroy(&loss));
  PetscCall(AzFieldDestroy(&field));
  PetscCall(AzProblemDestroy(&prob));
  PetscCall(PetscFinalize());
  return 0;
}
