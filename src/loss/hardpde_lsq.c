/* The least-squares core of the solved output layer's solve (hardpde_solve.c): one Gauss–Newton step
 * from the rows [F | ρ] themselves (a QR, then the SVD of the small triangle), never from the normal
 * equations. Self-contained (LAPACK only), so that the tests include it and check it on an
 * ill-conditioned matrix. */
#include "hardpde.h"
#include <petscblaslapack.h>

/* the workspace of AzHPLeastSquares on n × R rows (n >= R), in reals */
PetscErrorCode AzHPLeastSquaresWork(PetscInt n, PetscInt R, PetscInt *nwork)
{
  PetscBLASInt M, N, N1, lda, info = 0, lw = -1;
  PetscReal    wq = 0, wq2 = 0;

  PetscFunctionBegin;
  PetscCheck(n >= R && R >= 1, PETSC_COMM_SELF, PETSC_ERR_ARG_SIZ, "-az_hardpde: %" PetscInt_FMT " rows for %" PetscInt_FMT " unknowns: the least-squares solve needs at least as many rows as unknowns", n, R);
  PetscCall(PetscBLASIntCast(n, &M));
  PetscCall(PetscBLASIntCast(R, &N));
  PetscCall(PetscBLASIntCast(R + 1, &N1));
  lda = M;
  LAPACKgeqrf_(&M, &N1, NULL, &lda, NULL, &wq, &lw, &info);
  PetscCheck(info == 0, PETSC_COMM_SELF, PETSC_ERR_LIB, "-az_hardpde: LAPACK's workspace query (geqrf) failed (info %d)", (int)info);
  LAPACKgesvd_("A", "A", &N, &N, NULL, &N, NULL, NULL, &N, NULL, &N, &wq2, &lw, &info);
  PetscCheck(info == 0, PETSC_COMM_SELF, PETSC_ERR_LIB, "-az_hardpde: LAPACK's workspace query (gesvd) failed (info %d)", (int)info);
  /* τ (R + 1), the triangle, U and Vᵀ (R × R each), σ (R), LAPACK's own */
  *nwork = (R + 1) + 3 * R * R + R + (PetscInt)PetscMax(wq, wq2) + 1;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* A = [F | ρ] (n × (R + 1), column-major; overwritten): F = Q R₁₁ (a Householder QR of the rows with ρ
 * as their last column, so that q = (Qᵀρ)₁..R comes with it), R₁₁ = Ũ Σ Vᵀ; V (column j at V + j R) and
 * σ² into s2; with d, the Gauss–Newton step d = H⁻¹(Fᵀρ + αw), H = FᵀF + αI = V diag(σ² + α) Vᵀ, from
 *     Vᵀ(Fᵀρ + αw) = Σ Ũᵀq + α Vᵀw,
 * the directions that AzHPKeep leaves out skipped. Backward stable: the rounding of ρ reaches direction
 * j as ε|ρ|/σ_j and the residual F d as ε|ρ|, where the normal equations (Fᵀρ formed, divided by σ²)
 * carry ε|F||ρ|/σ_j² into every direction and leave a residual of ε cond(F) |ρ|. work: nwork reals
 * (AzHPLeastSquaresWork). */
PetscErrorCode AzHPLeastSquares(PetscInt n, PetscInt R, PetscReal A[], PetscReal alpha, PetscReal rcond, const PetscReal w[], PetscReal work[], PetscInt nwork, PetscReal V[], PetscReal s2[], PetscReal d[])
{
  PetscReal   *tau = work, *T = tau + R + 1, *U = T + R * R, *VT = U + R * R, *sv = VT + R * R, *lw = sv + R;
  PetscBLASInt M, N, N1, lda, info = 0, lwork;
  PetscReal    s2max = 0;

  PetscFunctionBegin;
  PetscCheck(n >= R && R >= 1, PETSC_COMM_SELF, PETSC_ERR_ARG_SIZ, "-az_hardpde: %" PetscInt_FMT " rows for %" PetscInt_FMT " unknowns: the least-squares solve needs at least as many rows as unknowns", n, R);
  PetscCall(PetscBLASIntCast(n, &M));
  PetscCall(PetscBLASIntCast(R, &N));
  PetscCall(PetscBLASIntCast(R + 1, &N1));
  PetscCall(PetscBLASIntCast(nwork - (R + 1) - 3 * R * R - R, &lwork));
  lda = M;
  PetscCall(PetscFPTrapPush(PETSC_FP_TRAP_OFF));
  PetscCallBLAS("LAPACKgeqrf", LAPACKgeqrf_(&M, &N1, A, &lda, tau, lw, &lwork, &info));
  PetscCheck(info == 0, PETSC_COMM_SELF, PETSC_ERR_LIB, "-az_hardpde: the QR of the constraint rows failed (LAPACK info %d)", (int)info);
  for (PetscInt j = 0; j < R; j++) /* R₁₁, its lower part zero */
    for (PetscInt i = 0; i < R; i++) T[j * R + i] = i <= j ? A[(size_t)j * n + i] : 0;
  PetscCallBLAS("LAPACKgesvd", LAPACKgesvd_("A", "A", &N, &N, T, &N, sv, U, &N, VT, &N, lw, &lwork, &info));
  PetscCall(PetscFPTrapPop());
  PetscCheck(info == 0, PETSC_COMM_SELF, PETSC_ERR_LIB, "-az_hardpde: the SVD of the constraint rows' triangle failed (LAPACK info %d)", (int)info);
  for (PetscInt j = 0; j < R; j++) {
    s2[j] = sv[j] * sv[j];
    s2max = PetscMax(s2max, s2[j]);
    for (PetscInt i = 0; i < R; i++) V[j * R + i] = VT[j + i * R]; /* column j of V = row j of Vᵀ */
  }
  if (!d) PetscFunctionReturn(PETSC_SUCCESS);
  for (PetscInt i = 0; i < R; i++) d[i] = 0;
  for (PetscInt j = 0; j < R; j++) {
    const PetscReal *u = U + j * R, *v = V + j * R, *q = A + (size_t)R * n; /* q: the last column's first R */
    PetscReal        c = 0, vw = 0;
    if (!AzHPKeep(s2[j], alpha, rcond, s2max)) continue;
    for (PetscInt i = 0; i < R; i++) c += u[i] * q[i];
    for (PetscInt i = 0; i < R; i++) vw += v[i] * w[i];
    c = (sv[j] * c + alpha * vw) / (s2[j] + alpha);
    for (PetscInt i = 0; i < R; i++) d[i] += c * v[i];
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}
