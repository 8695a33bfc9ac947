/* A randomized Nyström preconditioner for the Gauss–Newton CG solve (NNCG: Rathore, Lei, Frangella,
 * Lu, Udell, "Challenges in training PINNs: a loss landscape perspective", ICML 2024; the construction
 * is Frangella, Tropp & Udell, "Randomized Nyström preconditioning", SIAM J. Matrix Anal. Appl. 44,
 * 2023, Algorithm 2.1 and eq. (5.3)).
 *
 * H = JᵀJ (P × P, only products H v: one tangent and one reverse pass each) is sketched with s random
 * directions: Ω = qr(G), G Gaussian P × s; Y = HΩ; a shift ν = √P·ε·‖Y‖ keeps the small core
 * positive definite; C = chol(Ωᵀ(Y + νΩ)); B = (Y + νΩ)C⁻¹ = U Σ Vᵀ; λ_i = max(0, σ_i² − ν). Then
 * Ĥ = U diag(λ) Uᵀ ≈ H, and for the damped system H + μI the preconditioner's inverse is
 *     P⁻¹ = (λ_s + μ) U (Λ + μI)⁻¹ Uᵀ + (I − UUᵀ),
 * symmetric positive definite, applied in O(Ps). It flattens the s largest eigenvalues of H + μI to
 * about λ_s + μ, so CG converges at the rate of the spectrum's tail. The random directions come from a
 * fixed seed and the iteration (the same on every rank: θ is replicated and H v is summed
 * rank-independently), so the preconditioner, and training, do not depend on the rank count. */
#include "trainerimpl.h"
#include <petscblaslapack.h>

/* standard normal numbers from PETSc's uniform generator (Box–Muller) */
static PetscErrorCode Gaussian(PetscRandom r, PetscInt n, PetscScalar a[])
{
  PetscFunctionBegin;
  for (PetscInt i = 0; i < n; i += 2) {
    PetscReal u1, u2, rad;
    PetscCall(PetscRandomGetValueReal(r, &u1));
    PetscCall(PetscRandomGetValueReal(r, &u2));
    rad  = PetscSqrtReal(-2 * PetscLogReal(PetscMax(u1, PETSC_MIN_REAL)));
    a[i] = rad * PetscCosReal(2 * PETSC_PI * u2);
    if (i + 1 < n) a[i + 1] = rad * PetscSinReal(2 * PETSC_PI * u2);
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzNystromDestroy(AzNystrom *ny)
{
  PetscFunctionBegin;
  PetscCall(PetscFree2(ny->U, ny->lambda));
  PetscCall(PetscFree(ny->c));
  ny->s = 0;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Sketch H = JᵀJ at the current linearization with s = min(rank, P) directions; seed picks them.
 * ny->s is 0 afterwards when the sketch is unusable (H v not finite, or a core that is not positive
 * definite even after the shift): the caller then solves without preconditioner. Collective. */
PetscErrorCode AzNystromBuild(AzTrainer tr, PetscInt rank, PetscInt seed, AzNystrom *ny)
{
  const PetscInt P = tr->nparam, s = PetscMin(rank, P);
  PetscScalar   *Om, *Y, *M, *tau, *work, *Vt = NULL, wq;
  PetscReal     *sig, nrm = 0, shift;
  PetscBLASInt   bP, bs, lwork, info, one = 1;
  Vec            v, y;
  PetscRandom    r;
  PetscBool      ok = PETSC_TRUE;

  PetscFunctionBegin;
  PetscCall(AzNystromDestroy(ny));
  ny->P = P;
  if (s < 1) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(PetscBLASIntCast(P, &bP));
  PetscCall(PetscBLASIntCast(s, &bs));
  PetscCall(PetscMalloc4((size_t)P * s, &Om, (size_t)P * s, &Y, (size_t)s * s, &M, s, &tau));
  PetscCall(PetscMalloc1(s, &sig));
  /* Ω: orthonormal columns from a Gaussian matrix */
  PetscCall(PetscRandomCreate(PETSC_COMM_SELF, &r));
  PetscCall(PetscRandomSetSeed(r, (unsigned long)(0x5eed + 7919 * seed)));
  PetscCall(PetscRandomSeed(r));
  PetscCall(Gaussian(r, P * s, Om));
  PetscCall(PetscRandomDestroy(&r));
  lwork = -1;
  LAPACKgeqrf_(&bP, &bs, Om, &bP, tau, &wq, &lwork, &info);
  PetscCall(PetscBLASIntCast((PetscInt)PetscRealPart(wq), &lwork));
  lwork = PetscMax(lwork, bs);
  PetscCall(PetscMalloc1(lwork, &work));
  LAPACKgeqrf_(&bP, &bs, Om, &bP, tau, work, &lwork, &info);
  PetscCheck(!info, PETSC_COMM_SELF, PETSC_ERR_LIB, "Nyström sketch: LAPACK geqrf returned %d", (int)info);
  LAPACKorgqr_(&bP, &bs, &bs, Om, &bP, tau, work, &lwork, &info);
  PetscCheck(!info, PETSC_COMM_SELF, PETSC_ERR_LIB, "Nyström sketch: LAPACK orgqr returned %d", (int)info);
  PetscCall(PetscFree(work));
  /* Y = H Ω, one product per column */
  PetscCall(VecDuplicate(tr->theta, &v));
  PetscCall(VecDuplicate(tr->theta, &y));
  for (PetscInt j = 0; j < s; j++) {
    PetscScalar *a;
    PetscCall(VecGetArray(v, &a));
    PetscCall(PetscArraycpy(a, Om + (size_t)j * P, P));
    PetscCall(VecRestoreArray(v, &a));
    PetscCall(AzLossGNMult(tr->loss, v, y));
    PetscCall(VecGetArray(y, &a));
    PetscCall(PetscArraycpy(Y + (size_t)j * P, a, P));
    PetscCall(VecRestoreArray(y, &a));
  }
  PetscCall(VecDestroy(&v));
  PetscCall(VecDestroy(&y));
  for (size_t i = 0; i < (size_t)P * s; i++) {
    if (PetscIsInfOrNanScalar(Y[i])) ok = PETSC_FALSE;
    nrm += PetscRealPart(Y[i] * PetscConj(Y[i]));
  }
  if (ok) {
    /* Y_ν = Y + νΩ; M = Ωᵀ Y_ν (symmetrised); M = CᵀC; B = Y_ν C⁻¹ */
    const PetscScalar a1 = 1, z = 0;
    shift                = PetscSqrtReal((PetscReal)P) * PETSC_MACHINE_EPSILON * PetscSqrtReal(nrm);
    for (size_t i = 0; i < (size_t)P * s; i++) Y[i] += shift * Om[i];
    BLASgemm_("T", "N", &bs, &bs, &bP, &a1, Om, &bP, Y, &bP, &z, M, &bs);
    for (PetscInt i = 0; i < s; i++)
      for (PetscInt j = 0; j < i; j++) M[i + j * s] = M[j + i * s] = 0.5 * (M[i + j * s] + M[j + i * s]);
    LAPACKpotrf_("U", &bs, M, &bs, &info);
    if (info) ok = PETSC_FALSE;
  }
  if (ok) {
    const PetscScalar a1 = 1;
    BLAStrsm_("R", "U", "N", "N", &bP, &bs, &a1, M, &bs, Y, &bP);
    /* U Σ from the thin SVD of B (in Y; U overwrites Om) */
    lwork = -1;
#if defined(PETSC_USE_COMPLEX)
    SETERRQ(PETSC_COMM_SELF, PETSC_ERR_SUP, "The Nyström preconditioner is for real scalars");
#else
    LAPACKgesvd_("S", "N", &bP, &bs, Y, &bP, sig, Om, &bP, Vt, &one, &wq, &lwork, &info);
    PetscCall(PetscBLASIntCast((PetscInt)PetscRealPart(wq), &lwork));
    PetscCall(PetscMalloc1(lwork, &work));
    LAPACKgesvd_("S", "N", &bP, &bs, Y, &bP, sig, Om, &bP, Vt, &one, work, &lwork, &info);
    PetscCall(PetscFree(work));
#endif
    if (info) ok = PETSC_FALSE;
  }
  if (ok) {
    PetscCall(PetscMalloc2((size_t)P * s, &ny->U, s, &ny->lambda));
    PetscCall(PetscMalloc1(s, &ny->c));
    PetscCall(PetscArraycpy(ny->U, Om, (size_t)P * s));
    for (PetscInt i = 0; i < s; i++) ny->lambda[i] = PetscMax(0, sig[i] * sig[i] - shift);
    ny->s = s;
  }
  PetscCall(PetscFree4(Om, Y, M, tau));
  PetscCall(PetscFree(sig));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* y = P⁻¹ x for the damping mu: x + U[((λ_s + μ)/(λ_i + μ) − 1) Uᵀx] */
PetscErrorCode AzNystromApply(const AzNystrom *ny, PetscReal mu, Vec x, Vec y)
{
  const PetscScalar *xa;
  PetscScalar       *ya;
  const PetscScalar  a1 = 1, z = 0;
  PetscBLASInt       bP, bs, one = 1;

  PetscFunctionBegin;
  PetscCall(VecCopy(x, y));
  if (!ny->s) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(PetscBLASIntCast(ny->P, &bP));
  PetscCall(PetscBLASIntCast(ny->s, &bs));
  PetscCall(VecGetArrayRead(x, &xa));
  PetscCall(VecGetArray(y, &ya));
  BLASgemv_("T", &bP, &bs, &a1, ny->U, &bP, xa, &one, &z, ny->c, &one);
  for (PetscInt j = 0; j < ny->s; j++) ny->c[j] *= (ny->lambda[ny->s - 1] + mu) / (ny->lambda[j] + mu) - 1;
  BLASgemv_("N", &bP, &bs, &a1, ny->U, &bP, ny->c, &one, &a1, ya, &one);
  PetscCall(VecRestoreArrayRead(x, &xa));
  PetscCall(VecRestoreArray(y, &ya));
  PetscCall(PetscLogFlops(4.0 * ny->P * ny->s));
  PetscFunctionReturn(PETSC_SUCCESS);
}
