/* Chain map: hard PDE constraints by a solved output layer (Chalapathi, Du & Krishnapriyan, ICLR 2024).
 *
 * The network outputs K basis functions per component, φ_{c,k}(x; θ) (output c·K + k); the solution is
 * u_c = Σ_k w_{c,k} φ_{c,k}, and the R = K·ncomp weights w are not trained but solved at every θ:
 *     w(θ) = argmin_w Σ_sets (ω_s / (n_s m_s)) Σ_{i in s} |r_s(x_i, u(x_i))|² + α |w|²,
 * the problem's PDE, boundary and initial residuals at their own constraint points (-az_hardpde_points),
 * weighted as the loss weights its terms (ω the configured weight, n points, m residuals per point),
 * α a small ridge (-az_hardpde_ridge) that keeps the solve well posed when the basis is nearly
 * dependent. The rows [F | ρ] (F = ∂ρ/∂w, ρ the scaled residuals) are gathered in group order on every
 * rank (reduce.c's groups: the same bits on any number of ranks), and w follows by Gauss–Newton with
 * the SVD of F, in double precision: one step for a linear PDE (its residual is affine in w), a step
 * that does not decrease the objective halved; w starts from the previous solve.
 *
 * Gradients through the solve by the implicit function theorem, not by unrolling: at the optimum
 * Fᵀρ + αw = 0; with H = FᵀF + αI (exact for a linear PDE, Gauss–Newton's for a nonlinear one) and
 * w̄ = ∂ℓ/∂w, λ = H⁻¹ w̄, and ∇θ ℓ gains −∇θ[(Fλ)ᵀρ] at fixed w and λ. At a point, with v = Σ λ φ (a
 * jet like u) and D = ∂r/∂u, (Fλ)ᵀρ = s² r·(D v) (s the row scale), whose derivative in u is
 * s²[Dᵀ D v + (∂D/∂u·v)ᵀ r] (the second part by a central difference of D along v: zero for a linear
 * PDE, O(ε²) otherwise) and in v is s² Dᵀ r; back to the basis jets through u = Σ w φ and v = Σ λ φ.
 * The tangent ẇ = −H⁻¹ d(Fᵀρ)/dθ·v and the dense ∂w/∂θ (Gauss–Newton, the Laplace approximation)
 * follow the same way. */
#include "lossimpl.h"
#include <petscblaslapack.h>
#include <petsc/private/petscimpl.h> /* PetscObjectStateGet */

#define AZ_HP_MAX_SETS (2 * AZ_MAX_DIM + 1)

typedef struct {
  PetscInt     cond, n, nres, nloc;
  PetscReal    sq;  /* the row scale √(ω/(n m)) */
  Vec          x;   /* the constraint points, distributed by groups like a term's */
  PetscScalar *phi; /* nloc × LjetN: the basis jets at the last update */
} HPSet;

typedef struct {
  PetscInt         K, R, nset;
  HPSet            set[AZ_HP_MAX_SETS];
  PetscInt         nrows, nrows_loc; /* rows of F over all ranks and on this one */
  PetscScalar     *w, *wbar, *wdot, *wjac;
  PetscReal       *V, *s2;           /* H = V diag(s2 + α) Vᵀ: F's right singular vectors (column j: V + j R), σ² */
  PetscReal       *Floc, *Fall, *A, *VT, *sv, *work;
  PetscBLASInt     lwork;
  PetscMPIInt     *counts, *displs;
  PetscObjectState state;
  PetscBool        valid;
  PetscInt         its;
  PetscReal        obj;
  PetscBool        linear; /* D = ∂r/∂u did not change with u at the first solve's points: a linear PDE */
} HardPDE;

/* the map: E experts (hardpde-moe: -az_moe_experts), expert e solving its own w_e (side inputs e R ..
 * (e+1) R − 1) from its own points in the box [c_e − m, c_{e+1} + m] of the first axis, blended by the
 * partition of unity χ_e = S((x − c_e)/τ) − S((x − c_{e+1})/τ) (S the logistic; S ≡ 1 below c_0 and 0
 * above c_E), so that u = Σ_e χ_e Σ_k w_{e,c,k} φ_{c,k}; one expert: u = Σ_k w_{c,k} φ_{c,k} */
#define AZ_HP_MAX_EXPERTS 64
typedef struct {
  PetscInt         E;
  HardPDE          ex[AZ_HP_MAX_EXPERTS];
  PetscReal        cut[AZ_HP_MAX_EXPERTS + 1], tau;
  PetscObjectState state;
  PetscBool        valid;
  /* the product of a jet with χ(x_0): (χv)_σ = Σ_t coef_t χ^(k_t) v_(slot_t) */
  PetscInt  nprod[AZ_JET_MAX_NSLOT], pk[AZ_JET_MAX_NSLOT][5], pslot[AZ_JET_MAX_NSLOT][5];
  PetscReal pcoef[AZ_JET_MAX_NSLOT][5];
} HPMap;

PetscErrorCode AzHardPDENetworkComponents(MPI_Comm comm, const char prefix[], PetscInt ncomp, PetscInt *ncompN)
{
  PetscBool on = PETSC_FALSE;
  PetscInt  K  = 32;

  PetscFunctionBegin;
  PetscOptionsBegin(comm, prefix, "Hard PDE constraints by a solved output layer", "AzLoss");
  PetscCall(PetscOptionsBool("-az_hardpde", "the network outputs basis functions; the output weights are solved so that the PDE, boundary and initial residuals are least at constraint points", "AzLossSetUp", on, &on, NULL));
  PetscCall(PetscOptionsInt("-az_hardpde_basis", "basis functions per solution component (the network's outputs: this times the components)", "AzLossSetUp", K, &K, NULL));
  PetscOptionsEnd();
  PetscCheck(K >= 1 && K <= 4096, comm, PETSC_ERR_ARG_OUTOFRANGE, "-az_hardpde_basis must be between 1 and 4096, not %" PetscInt_FMT, K);
  *ncompN = on ? ncomp * K : ncomp;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzHardPDEOptions(AzLoss L)
{
  PetscFunctionBegin;
  L->hardpde_K     = 32;
  L->hardpde_ridge = 1e-12;
  L->hardpde_tol   = 1e-10;
  L->hardpde_maxit = 50;
  L->moe_experts   = 1;
  PetscOptionsBegin(L->comm, L->prefix, "Hard PDE constraints by a solved output layer", "AzLoss");
  PetscCall(PetscOptionsBool("-az_hardpde", "the network outputs basis functions; the output weights are solved so that the PDE, boundary and initial residuals are least at constraint points", "AzLossSetUp", L->hardpde, &L->hardpde, NULL));
  PetscCall(PetscOptionsInt("-az_hardpde_basis", "basis functions per solution component", "AzLossSetUp", L->hardpde_K, &L->hardpde_K, NULL));
  PetscCall(PetscOptionsInt("-az_hardpde_points", "interior constraint points (0: four per unknown weight); each face and the initial slice get a quarter as many", "AzLossSetUp", L->hardpde_n, &L->hardpde_n, NULL));
  PetscCall(PetscOptionsReal("-az_hardpde_ridge", "ridge alpha |w|^2 added to the solve's objective", "AzLossSetUp", L->hardpde_ridge, &L->hardpde_ridge, NULL));
  PetscCall(PetscOptionsReal("-az_hardpde_tol", "the solve stops when a Gauss-Newton step is below tol (1 + |w|)", "AzLossSetUp", L->hardpde_tol, &L->hardpde_tol, NULL));
  PetscCall(PetscOptionsInt("-az_moe_experts", "hardpde-moe: experts along the first axis, each with its own solved weights from its own points, blended by a partition of unity (0: one per rank)", "AzLossSetUp", L->moe_experts, &L->moe_experts, NULL));
  PetscCall(PetscOptionsInt("-az_hardpde_maxit", "at most this many Gauss-Newton steps per solve", "AzLossSetUp", L->hardpde_maxit, &L->hardpde_maxit, NULL));
  PetscOptionsEnd();
  PetscCheck(L->hardpde_K >= 1 && L->hardpde_K <= 4096, L->comm, PETSC_ERR_ARG_OUTOFRANGE, "-az_hardpde_basis must be between 1 and 4096, not %" PetscInt_FMT, L->hardpde_K);
  PetscCheck(L->moe_experts >= 0 && L->moe_experts <= AZ_HP_MAX_EXPERTS, L->comm, PETSC_ERR_ARG_OUTOFRANGE, "-az_moe_experts must be between 0 (one per rank) and %d, not %" PetscInt_FMT, AZ_HP_MAX_EXPERTS, L->moe_experts);
  PetscCheck(L->hardpde_n >= 0 && L->hardpde_n <= 10000000, L->comm, PETSC_ERR_ARG_OUTOFRANGE, "-az_hardpde_points must be 0 (four per unknown) or a count up to 10000000, not %" PetscInt_FMT, L->hardpde_n);
  PetscCheck(L->hardpde_ridge >= 0 && L->hardpde_tol > 0 && L->hardpde_maxit >= 1, L->comm, PETSC_ERR_ARG_OUTOFRANGE, "-az_hardpde_ridge must be >= 0, -az_hardpde_tol > 0 and -az_hardpde_maxit >= 1");
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* u_c = Σ_k w_{c,k} φ_{c,k}, every slot */
static inline void Combine(PetscInt nc, PetscInt K, PetscInt ns, const PetscScalar w[], const PetscScalar phi[], PetscScalar u[])
{
  for (PetscInt c = 0; c < nc; c++)
    for (PetscInt s = 0; s < ns; s++) {
      PetscScalar v = 0;
      for (PetscInt k = 0; k < K; k++) v += w[c * K + k] * phi[(c * K + k) * ns + s];
      u[c * ns + s] = v;
    }
}

/* dv = H⁻¹ b (σ² below 1e-15 σ²_max left out when α = 0) */
static void SolveH(AzLoss L, HardPDE *h, const PetscScalar b[], PetscScalar x[])
{
  const PetscInt R = h->R;
  PetscReal      smax = 0;

  for (PetscInt j = 0; j < R; j++) smax = PetscMax(smax, h->s2[j]);
  for (PetscInt i = 0; i < R; i++) x[i] = 0;
  for (PetscInt j = 0; j < R; j++) {
    const PetscReal *v = h->V + j * R, d = h->s2[j] + L->hardpde_ridge;
    PetscReal        c = 0;
    if (d <= 1e-15 * smax || d <= 0) continue;
    for (PetscInt i = 0; i < R; i++) c += v[i] * PetscRealPart(b[i]);
    c /= d;
    for (PetscInt i = 0; i < R; i++) x[i] += c * v[i];
  }
}

/* the residuals at the constraint points of set s, local point p, at the solution jet u */
static PetscErrorCode Residual(AzLoss L, HPSet *S, const PetscReal x[], const PetscScalar u[], PetscScalar r[], PetscScalar D[])
{
  PetscFunctionBegin;
  PetscCall(AzProblemEvaluateResidual(L->prob, S->cond, x, u, r, D));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* the local rows [F | ρ] at w, group by group, set by set; gathered in group order into Fall; the
 * objective Σ ρ² + α|w|² (the same on every rank) */
static PetscErrorCode BuildRows(AzLoss L, HardPDE *h, const PetscScalar w[], PetscReal *obj)
{
  const PetscInt ns = L->nslot, Ljet = L->ncomp * ns, K = h->K, R = h->R;
  PetscScalar    u[AZ_MAX_COMP * AZ_JET_MAX_NSLOT], r[64];
  PetscScalar   *D;
  PetscInt       row = 0;
  PetscReal      o   = 0;

  PetscFunctionBegin;
  PetscCall(PetscMalloc1((size_t)64 * Ljet, &D));
  for (PetscInt g = L->g0; g < L->g1; g++)
    for (PetscInt si = 0; si < h->nset; si++) {
      HPSet             *S = &h->set[si];
      const PetscScalar *xa;
      PetscInt           lo, cnt;
      AzLossGroupItems(L, S->n, g, &lo, &cnt);
      PetscCall(VecGetArrayRead(S->x, &xa));
      for (PetscInt p = lo; p < lo + cnt; p++) {
        const PetscScalar *phi = S->phi + (size_t)p * L->LjetN;
        Combine(L->ncomp, K, ns, w, phi, u);
        PetscCall(Residual(L, S, (const PetscReal *)xa + p * L->ncoord, u, r, D));
        for (PetscInt i = 0; i < S->nres; i++, row++) {
          PetscReal *fr = h->Floc + (size_t)row * (R + 1);
          for (PetscInt c = 0; c < L->ncomp; c++)
            for (PetscInt k = 0; k < K; k++) {
              PetscScalar f = 0;
              for (PetscInt s = 0; s < ns; s++)
                if ((L->mask >> s) & 1) f += D[i * Ljet + c * ns + s] * phi[(c * K + k) * ns + s];
              fr[c * K + k] = S->sq * PetscRealPart(f);
            }
          fr[R] = S->sq * PetscRealPart(r[i]);
        }
      }
      PetscCall(VecRestoreArrayRead(S->x, &xa));
    }
  PetscCall(PetscFree(D));
  PetscCallMPI(MPI_Allgatherv(h->Floc, (PetscMPIInt)(h->nrows_loc * (R + 1)), MPIU_REAL, h->Fall, h->counts, h->displs, MPIU_REAL, L->comm));
  for (PetscInt i = 0; i < h->nrows; i++) o += h->Fall[(size_t)i * (R + 1) + R] * h->Fall[(size_t)i * (R + 1) + R];
  for (PetscInt j = 0; j < R; j++) o += L->hardpde_ridge * PetscRealPart(w[j] * w[j]);
  *obj = o;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* V and σ² of the gathered F (every rank the same), and grad = Fᵀρ + αw */
static PetscErrorCode Factor(AzLoss L, HardPDE *h, const PetscScalar w[], PetscScalar grad[])
{
  const PetscInt R = h->R, n = h->nrows;
  PetscBLASInt   M, N, lda, one = 1, ldvt, info;

  PetscFunctionBegin;
  for (PetscInt j = 0; j < R; j++) {
    PetscReal gj = 0;
    for (PetscInt i = 0; i < n; i++) {
      h->A[(size_t)j * n + i] = h->Fall[(size_t)i * (R + 1) + j];
      gj += h->Fall[(size_t)i * (R + 1) + j] * h->Fall[(size_t)i * (R + 1) + R];
    }
    grad[j] = gj + L->hardpde_ridge * w[j];
  }
  PetscCall(PetscBLASIntCast(n, &M));
  PetscCall(PetscBLASIntCast(R, &N));
  lda = M;
  ldvt = N;
  PetscCall(PetscFPTrapPush(PETSC_FP_TRAP_OFF));
  PetscCallBLAS("LAPACKgesvd", LAPACKgesvd_("N", "A", &M, &N, h->A, &lda, h->sv, NULL, &one, h->VT, &ldvt, h->work, &h->lwork, &info));
  PetscCall(PetscFPTrapPop());
  PetscCheck(info == 0, L->comm, PETSC_ERR_LIB, "-az_hardpde: the SVD of the constraint rows failed (LAPACK info %d)", (int)info);
  for (PetscInt j = 0; j < R; j++) {
    h->s2[j] = h->sv[j] * h->sv[j];
    for (PetscInt i = 0; i < R; i++) h->V[j * R + i] = h->VT[j + i * R]; /* column j of V = row j of Vᵀ */
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode Work(AzLoss L, PetscScalar **D, PetscScalar **Dp, PetscScalar **Dm)
{
  const size_t n = (size_t)64 * L->ncomp * L->nslot;

  PetscFunctionBegin;
  PetscCall(PetscMalloc3(n, D, n, Dp, n, Dm));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* the second-order part of H for a nonlinear PDE, S = Σ s² r_i ∂²r_i/∂w² (column j by a central
 * difference of D along φ_j, exact for a residual quadratic in u), summed group by group; where it is
 * not zero, H = FᵀF + S + αI by its eigenvectors in place of F's singular ones, so that the implicit
 * derivatives are exact at the solved w (a linear PDE keeps F's SVD) */
static PetscErrorCode SecondOrder(AzLoss L, HardPDE *h)
{
  const PetscInt ns = L->nslot, K = h->K, R = h->R, Ljet = L->ncomp * ns, nl = L->g1 - L->g0;
  PetscScalar   *part, *S, *D, *Dp, *Dm;
  PetscScalar    u[AZ_MAX_COMP * AZ_JET_MAX_NSLOT], up[AZ_MAX_COMP * AZ_JET_MAX_NSLOT], r[64], rr[64];
  PetscBool      any = PETSC_FALSE;
  PetscMPIInt    anyd = 0;

  PetscFunctionBegin;
  PetscCall(PetscCalloc2((size_t)PetscMax(nl, 1) * R * R, &part, (size_t)R * R, &S));
  PetscCall(Work(L, &D, &Dp, &Dm));
  for (PetscInt g = L->g0; g < L->g1; g++)
    for (PetscInt si = 0; si < h->nset; si++) {
      HPSet             *St  = &h->set[si];
      PetscScalar       *acc = part + (size_t)(g - L->g0) * R * R;
      const PetscScalar *xa;
      PetscInt           lo, cnt;
      AzLossGroupItems(L, St->n, g, &lo, &cnt);
      PetscCall(VecGetArrayRead(St->x, &xa));
      for (PetscInt p = lo; p < lo + cnt; p++) {
        const PetscScalar *phi = St->phi + (size_t)p * L->LjetN;
        const PetscReal   *x   = (const PetscReal *)xa + p * L->ncoord;
        PetscReal          nu  = 0;
        Combine(L->ncomp, K, ns, h->w, phi, u);
        PetscCall(Residual(L, St, x, u, r, D));
        for (PetscInt q = 0; q < Ljet; q++)
          if ((L->mask >> (q % ns)) & 1) nu = PetscMax(nu, PetscAbsScalar(u[q]));
        for (PetscInt j = 0; j < R; j++) {
          const PetscInt cj = j / K;
          PetscReal      nv = 0, eps;
          for (PetscInt s = 0; s < ns; s++)
            if ((L->mask >> s) & 1) nv = PetscMax(nv, PetscAbsScalar(phi[j * ns + s]));
          if (nv == 0) continue;
          eps = 1e-4 * (1 + nu) / nv;
          PetscCall(PetscArraycpy(up, u, Ljet));
          for (PetscInt s = 0; s < ns; s++) up[cj * ns + s] = u[cj * ns + s] + eps * phi[j * ns + s];
          PetscCall(Residual(L, St, x, up, rr, Dp));
          for (PetscInt s = 0; s < ns; s++) up[cj * ns + s] = u[cj * ns + s] - eps * phi[j * ns + s];
          PetscCall(Residual(L, St, x, up, rr, Dm));
          for (PetscInt i = 0; i < St->nres; i++)
            for (PetscInt k = 0; k < R; k++) {
              const PetscInt ck = k / K;
              PetscScalar    v  = 0;
              for (PetscInt s = 0; s < ns; s++)
                if (((L->mask >> s) & 1) && Dp[i * Ljet + ck * ns + s] != Dm[i * Ljet + ck * ns + s]) {
                  v += (Dp[i * Ljet + ck * ns + s] - Dm[i * Ljet + ck * ns + s]) / (2 * eps) * phi[k * ns + s];
                  anyd = 1;
                }
              acc[k * R + j] += St->sq * St->sq * r[i] * v;
            }
        }
      }
      PetscCall(VecRestoreArrayRead(St->x, &xa));
    }
  PetscCall(AzLossGroupSum(L, R * R, part, S));
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, &anyd, 1, MPI_INT, MPI_MAX, L->comm));
  h->linear = anyd ? PETSC_FALSE : PETSC_TRUE; /* then later solves take one step, and skip this */
  for (PetscInt i = 0; i < R * R; i++) any = any || S[i] != 0;
  if (any) {
    PetscBLASInt n, lw = -1, info = 0;
    PetscReal    wq = 0, *wk, *Hm;
    PetscCall(PetscBLASIntCast(R, &n));
    PetscCall(PetscMalloc1((size_t)R * R, &Hm));
    for (PetscInt a = 0; a < R; a++)
      for (PetscInt b = 0; b < R; b++) {
        PetscReal v = 0.5 * PetscRealPart(S[a * R + b] + S[b * R + a]);
        for (PetscInt j = 0; j < R; j++) v += h->V[j * R + a] * h->s2[j] * h->V[j * R + b];
        Hm[a + b * R] = v;
      }
    LAPACKsyev_("V", "U", &n, Hm, &n, h->s2, &wq, &lw, &info);
    lw = (PetscBLASInt)wq + 1;
    PetscCall(PetscMalloc1(lw, &wk));
    PetscCall(PetscFPTrapPush(PETSC_FP_TRAP_OFF));
    PetscCallBLAS("LAPACKsyev", LAPACKsyev_("V", "U", &n, Hm, &n, h->s2, wk, &lw, &info));
    PetscCall(PetscFPTrapPop());
    PetscCheck(info == 0, L->comm, PETSC_ERR_LIB, "-az_hardpde: the eigendecomposition of the solve's Hessian failed (LAPACK info %d)", (int)info);
    PetscCall(PetscArraycpy(h->V, Hm, (size_t)R * R)); /* column j: eigenvector j */
    PetscCall(PetscFree(wk));
    PetscCall(PetscFree(Hm));
  }
  PetscCall(PetscFree3(D, Dp, Dm));
  PetscCall(PetscFree2(part, S));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* one expert's w at the current θ (collective): the basis at the constraint points, then Gauss–Newton in w */
static PetscErrorCode Solve(AzLoss L, HardPDE *h)
{
  const PetscInt   R = h->R;
  PetscScalar     *g, *d, *wn;
  PetscReal        obj;
  PetscBool        conv = PETSC_FALSE;
  PetscReal        ndprev = PETSC_MAX_REAL;

  PetscFunctionBegin;
  for (PetscInt si = 0; si < h->nset; si++) {
    HPSet             *S = &h->set[si];
    const PetscScalar *xa;
    PetscCall(VecGetArrayRead(S->x, &xa));
    PetscCall(AzFieldEvaluateJets(L->field, S->nloc, (const PetscReal *)xa, S->phi));
    PetscCall(VecRestoreArrayRead(S->x, &xa));
  }
  PetscCall(PetscMalloc3(R, &g, R, &d, R, &wn));
  /* a linear PDE starts from w = 0: one step, and w(θ) a function of θ alone (a warm start would make
   * its rounding depend on the path, and a line search on the loss see that noise) */
  if (h->linear) PetscCall(PetscArrayzero(h->w, R));
  PetscCall(BuildRows(L, h, h->w, &obj));
  for (h->its = 0; h->its < L->hardpde_maxit; h->its++) {
    PetscReal nd = 0, nw = 0, t = 1, objn = obj;
    PetscBool down = PETSC_FALSE;
    PetscCall(Factor(L, h, h->w, g));
    SolveH(L, h, g, d);
    for (PetscInt j = 0; j < R; j++) {
      nd += PetscRealPart(d[j] * d[j]);
      nw += PetscRealPart(h->w[j] * h->w[j]);
    }
    nd = PetscSqrtReal(nd);
    nw = PetscSqrtReal(nw);
    if (nd <= L->hardpde_tol * (1 + nw)) {
      conv = PETSC_TRUE;
      break;
    }
    if (nd > 0.5 * ndprev && nd <= 1e-6 * (1 + nw)) { /* steps of rounding's size that no longer shrink */
      conv = PETSC_TRUE;
      break;
    }
    ndprev = nd;
    if (nd <= 1e-6 * (1 + nw)) { /* a step of rounding's size in the objective: it cannot judge, the step is accurate */
      for (PetscInt j = 0; j < R; j++) wn[j] = h->w[j] - d[j];
      PetscCall(BuildRows(L, h, wn, &objn));
    } else {
      for (PetscInt k = 0; k < 10 && !down; k++, t /= 2) { /* the step, halved while the objective grows */
        for (PetscInt j = 0; j < R; j++) wn[j] = h->w[j] - t * d[j];
        PetscCall(BuildRows(L, h, wn, &objn));
        down = objn <= obj ? PETSC_TRUE : PETSC_FALSE;
      }
      if (!down) break; /* no decrease along a real step: stop where we are */
    }
    PetscCall(PetscArraycpy(h->w, wn, R));
    obj = objn;
    if (h->linear) { /* F does not depend on w: one step is the solution, and F's SVD stays H's */
      h->its++;
      conv = PETSC_TRUE;
      break;
    }
  }
  if (!conv) {
    PetscCall(Factor(L, h, h->w, g)); /* H at the final w */
    PetscCall(PetscInfo(NULL, "-az_hardpde: the solve stopped after %" PetscInt_FMT " Gauss-Newton steps without converging\n", h->its));
  }
  PetscCall(PetscFree3(g, d, wn));
  if (!h->linear) PetscCall(SecondOrder(L, h));
  h->obj = obj;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* ---- the map on the jets: u = Σ_e χ_e Σ w_e φ -------------------------------------------------- */
/* χ_e and its derivatives along the first axis at x0 */
static void Chi(const HPMap *M, PetscInt e, PetscReal x0, PetscReal f[5])
{
  PetscReal lo[5] = {1, 0, 0, 0, 0}, hi[5] = {0, 0, 0, 0, 0};

  for (int side = 0; side < 2; side++) {
    PetscReal *g = side ? hi : lo;
    PetscInt   c = side ? e + 1 : e;
    PetscReal  z, sg, s1, s2, s3, s4, it = 1 / M->tau;
    if ((side == 0 && e == 0) || (side == 1 && e == M->E - 1)) continue;
    z     = (x0 - M->cut[c]) * it;
    sg    = 1 / (1 + PetscExpReal(-z));
    s1    = sg * (1 - sg);
    s2    = s1 * (1 - 2 * sg);
    s3    = s2 * (1 - 2 * sg) - 2 * s1 * s1;
    s4    = s3 * (1 - 2 * sg) - 6 * s1 * s2;
    g[0]  = sg;
    g[1]  = s1 * it;
    g[2]  = s2 * it * it;
    g[3]  = s3 * it * it * it;
    g[4]  = s4 * it * it * it * it;
  }
  for (int k = 0; k < 5; k++) f[k] = lo[k] - hi[k];
}

/* out (+)= χ ⊙ v for the ncomp components (the slots carried; the others χ v) */
static void Blend(AzLoss L, const HPMap *M, const PetscReal f[5], const PetscScalar v[], PetscScalar out[], PetscBool add)
{
  const PetscInt ns = L->nslot;
  for (PetscInt c = 0; c < L->ncomp; c++)
    for (PetscInt s = 0; s < ns; s++) {
      PetscScalar y = 0;
      if ((L->mask >> s) & 1)
        for (PetscInt t = 0; t < M->nprod[s]; t++) y += M->pcoef[s][t] * f[M->pk[s][t]] * v[c * ns + M->pslot[s][t]];
      else y = f[0] * v[c * ns + s];
      out[c * ns + s] = add ? out[c * ns + s] + y : y;
    }
}

/* vbar = (χ ⊙)ᵀ ubar (the slots carried) */
static void BlendAdjoint(AzLoss L, const HPMap *M, const PetscReal f[5], const PetscScalar ub[], PetscScalar vb[])
{
  const PetscInt ns = L->nslot;
  for (PetscInt q = 0; q < L->ncomp * ns; q++) vb[q] = 0;
  for (PetscInt c = 0; c < L->ncomp; c++)
    for (PetscInt s = 0; s < ns; s++)
      if ((L->mask >> s) & 1)
        for (PetscInt t = 0; t < M->nprod[s]; t++) vb[c * ns + M->pslot[s][t]] += M->pcoef[s][t] * f[M->pk[s][t]] * ub[c * ns + s];
}

static PetscErrorCode Forward(AzChainMap m, const AzChainArgs *a, const PetscScalar in[], PetscScalar out[])
{
  AzLoss         L = m->L;
  HPMap         *M = (HPMap *)m->data;
  const PetscInt ns = L->nslot, Lo = L->ncomp * ns;
  PetscScalar    v[AZ_MAX_COMP * AZ_JET_MAX_NSLOT];

  PetscFunctionBegin;
  if (!a->training) {
    PetscObjectState st;
    PetscCall(AzLossThetaState(L, &st));
    PetscCheck(M->valid && st == M->state, PETSC_COMM_SELF, PETSC_ERR_ORDER, "-az_hardpde: the output weights were solved at other network parameters; bring them to these parameters first (AzLossSyncSolution or AzLossEvaluate, collective)");
  }
  for (PetscInt p = 0; p < a->npts; p++) {
    const PetscScalar *phi = in + (size_t)p * m->ncin * ns;
    if (M->E == 1) {
      Combine(L->ncomp, M->ex[0].K, ns, M->ex[0].w, phi, out + (size_t)p * Lo);
      continue;
    }
    for (PetscInt e = 0; e < M->E; e++) {
      PetscReal f[5];
      Chi(M, e, a->x[p * L->ncoord], f);
      Combine(L->ncomp, M->ex[e].K, ns, M->ex[e].w, phi, v);
      Blend(L, M, f, v, out + (size_t)p * Lo, e > 0 ? PETSC_TRUE : PETSC_FALSE);
    }
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* du = Σ_e χ_e (Σ w_e dφ + Σ ẇ_e φ where training sees the solve) */
static PetscErrorCode Tangent(AzChainMap m, const AzChainArgs *a, const PetscScalar in[], const PetscScalar din[], PetscScalar dout[])
{
  AzLoss         L  = m->L;
  HPMap         *M  = (HPMap *)m->data;
  const PetscInt ns = L->nslot, Lo = L->ncomp * ns;
  PetscScalar    v[AZ_MAX_COMP * AZ_JET_MAX_NSLOT], e2[AZ_MAX_COMP * AZ_JET_MAX_NSLOT];

  PetscFunctionBegin;
  for (PetscInt p = 0; p < a->npts; p++)
    for (PetscInt e = 0; e < M->E; e++) {
      HardPDE *h = &M->ex[e];
      PetscReal f[5] = {1, 0, 0, 0, 0};
      Combine(L->ncomp, h->K, ns, h->w, din + (size_t)p * m->ncin * ns, v);
      if (a->training) {
        Combine(L->ncomp, h->K, ns, h->wdot, in + (size_t)p * m->ncin * ns, e2);
        for (PetscInt s = 0; s < Lo; s++) v[s] += e2[s];
      }
      if (M->E > 1) Chi(M, e, a->x[p * L->ncoord], f);
      if (M->E == 1) PetscCall(PetscArraycpy(dout + (size_t)p * Lo, v, Lo));
      else Blend(L, M, f, v, dout + (size_t)p * Lo, e > 0 ? PETSC_TRUE : PETSC_FALSE);
    }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* v̄_e = χ_eᵀ rout; rin_{(c,k),σ} = Σ_e w_{e,c,k} v̄_{e,c,σ}; side_{e,(c,k)} = Σ_σ v̄_{e,c,σ} φ_{c,k,σ} */
static PetscErrorCode Adjoint(AzChainMap m, const AzChainArgs *a, const PetscScalar in[], PetscInt nrow, const PetscScalar rout[], PetscScalar rin[], PetscScalar side[])
{
  AzLoss         L = m->L;
  HPMap         *M = (HPMap *)m->data;
  const PetscInt ns = L->nslot, K = M->ex[0].K, R = M->ex[0].R, Lo = L->ncomp * ns, Li = m->ncin * ns;
  PetscScalar    vb[AZ_MAX_COMP * AZ_JET_MAX_NSLOT];

  PetscFunctionBegin;
  for (PetscInt p = 0; p < a->npts; p++)
    for (PetscInt q = 0; q < nrow; q++) {
      const PetscScalar *ro = rout + ((size_t)p * nrow + q) * Lo;
      PetscScalar       *ri = rin + ((size_t)p * nrow + q) * Li;
      for (PetscInt e = 0; e < M->E; e++) {
        const PetscScalar *w = M->ex[e].w, *vbar = ro;
        if (M->E > 1) {
          PetscReal f[5];
          Chi(M, e, a->x[p * L->ncoord], f);
          BlendAdjoint(L, M, f, ro, vb);
          vbar = vb;
        }
        for (PetscInt c = 0; c < L->ncomp; c++)
          for (PetscInt k = 0; k < K; k++)
            for (PetscInt s = 0; s < ns; s++) {
              const PetscScalar y = w[c * K + k] * vbar[c * ns + s];
              ri[(c * K + k) * ns + s] = e ? ri[(c * K + k) * ns + s] + y : y;
            }
        if (side) {
          const PetscScalar *phi = in + (size_t)p * Li;
          PetscScalar       *es  = side + ((size_t)p * nrow + q) * R * M->E + e * R;
          for (PetscInt c = 0; c < L->ncomp; c++)
            for (PetscInt k = 0; k < K; k++) {
              PetscScalar v = 0;
              for (PetscInt s = 0; s < ns; s++)
                if (((a->mask >> s) & 1) && vbar[c * ns + s] != 0) v += vbar[c * ns + s] * phi[(c * K + k) * ns + s];
              es[c * K + k] = v;
            }
        }
      }
    }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* ---- derivatives through the solve ----------------------------------------------------------------
 * At one constraint point with basis jets φ, the rows gu = ∂/∂u and gv = ∂/∂v of Σ_i s² r_i (D_i v)
 * at u = Σ w φ and v = Σ λ φ (the slots carried; the others 0) */
static PetscErrorCode PointRows(AzLoss L, HPSet *S, PetscBool linear, const PetscReal x[], const PetscScalar u[], const PetscScalar v[], PetscScalar D[], PetscScalar Dp[], PetscScalar Dm[], PetscScalar gu[], PetscScalar gv[])
{
  const PetscInt ns = L->nslot, Ljet = L->ncomp * ns;
  PetscScalar    r[64], rr[64], up[AZ_MAX_COMP * AZ_JET_MAX_NSLOT], um[AZ_MAX_COMP * AZ_JET_MAX_NSLOT];
  PetscReal      nu = 0, nv = 0, eps = 1;

  PetscFunctionBegin;
  PetscCall(Residual(L, S, x, u, r, D));
  for (PetscInt q = 0; q < Ljet; q++) {
    gu[q] = gv[q] = 0;
    if (!((L->mask >> (q % ns)) & 1)) continue;
    nu = PetscMax(nu, PetscAbsScalar(u[q]));
    nv = PetscMax(nv, PetscAbsScalar(v[q]));
  }
  if (nv == 0) { /* v = 0: only ∂/∂v = s² Dᵀr */
    for (PetscInt i = 0; i < S->nres; i++)
      for (PetscInt q = 0; q < Ljet; q++)
        if ((L->mask >> (q % ns)) & 1) gv[q] += S->sq * S->sq * r[i] * D[i * Ljet + q];
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  if (linear) { /* D does not depend on u: no second-order part */
    PetscCall(PetscArraycpy(Dp, D, S->nres * Ljet));
    PetscCall(PetscArraycpy(Dm, D, S->nres * Ljet));
  } else {
    eps = 1e-4 * (1 + nu) / nv;
    for (PetscInt q = 0; q < Ljet; q++) {
      up[q] = u[q] + eps * v[q];
      um[q] = u[q] - eps * v[q];
    }
    PetscCall(Residual(L, S, x, up, rr, Dp));
    PetscCall(Residual(L, S, x, um, rr, Dm));
  }
  for (PetscInt i = 0; i < S->nres; i++) {
    const PetscScalar *Di = D + i * Ljet;
    PetscScalar        dv = 0;
    const PetscReal    s2 = S->sq * S->sq;
    for (PetscInt q = 0; q < Ljet; q++)
      if ((L->mask >> (q % ns)) & 1) dv += Di[q] * v[q];
    for (PetscInt q = 0; q < Ljet; q++) {
      if (!((L->mask >> (q % ns)) & 1)) continue;
      const PetscScalar dd = Dp[i * Ljet + q] - Dm[i * Ljet + q]; /* 0 for a linear PDE: exact */
      gu[q] += s2 * (Di[q] * dv + (dd != 0 ? r[i] * dd / (2 * eps) : 0));
      gv[q] += s2 * r[i] * Di[q];
    }
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

typedef struct {
  AzLoss             L;
  HardPDE           *h;
  HPSet             *S;
  const PetscReal   *x;   /* the chunk's points from the group's first */
  const PetscScalar *lam; /* λ */
  PetscScalar       *D, *Dp, *Dm;
} BackCtx;

/* jetbar_{(c,k),σ} = −(w_{c,k} gu_{c,σ} + λ_{c,k} gv_{c,σ}) */
static PetscErrorCode BackwardPoints(void *ptr, PetscInt p0, PetscInt np, const PetscScalar jets[], PetscScalar jetbar[])
{
  BackCtx       *b = (BackCtx *)ptr;
  AzLoss         L = b->L;
  HardPDE       *h = b->h;
  const PetscInt ns = L->nslot, K = h->K;
  PetscScalar    u[AZ_MAX_COMP * AZ_JET_MAX_NSLOT], v[AZ_MAX_COMP * AZ_JET_MAX_NSLOT], gu[AZ_MAX_COMP * AZ_JET_MAX_NSLOT], gv[AZ_MAX_COMP * AZ_JET_MAX_NSLOT];

  PetscFunctionBegin;
  for (PetscInt p = 0; p < np; p++) {
    const PetscScalar *phi = jets + (size_t)p * L->LjetN;
    PetscScalar       *jb  = jetbar + (size_t)p * L->LjetN;
    Combine(L->ncomp, K, ns, h->w, phi, u);
    Combine(L->ncomp, K, ns, b->lam, phi, v);
    PetscCall(PointRows(L, b->S, h->linear, b->x + (p0 + p) * L->ncoord, u, v, b->D, b->Dp, b->Dm, gu, gv));
    for (PetscInt c = 0; c < L->ncomp; c++)
      for (PetscInt k = 0; k < K; k++)
        for (PetscInt s = 0; s < ns; s++) jb[(c * K + k) * ns + s] = -(h->w[c * K + k] * gu[c * ns + s] + b->lam[c * K + k] * gv[c * ns + s]);
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* grad += (∂w/∂θ)ᵀ w̄ over the constraint points of owned group g: −∇θ[(Fλ)ᵀρ], λ = H⁻¹ w̄ */
static PetscErrorCode BackwardExpert(AzLoss L, HardPDE *h, PetscInt g, Vec grad)
{
  PetscScalar *lam;
  PetscBool    any = PETSC_FALSE;
  BackCtx      b;

  PetscFunctionBegin;
  for (PetscInt j = 0; j < h->R; j++) any = any || h->wbar[j] != 0;
  if (!any) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(PetscMalloc1(h->R, &lam));
  SolveH(L, h, h->wbar, lam);
  PetscCall(Work(L, &b.D, &b.Dp, &b.Dm));
  b.L   = L;
  b.h   = h;
  b.lam = lam;
  for (PetscInt si = 0; si < h->nset; si++) {
    const PetscScalar *xa;
    PetscInt           lo, cnt;
    b.S = &h->set[si];
    AzLossGroupItems(L, b.S->n, g, &lo, &cnt);
    if (!cnt) continue;
    PetscCall(VecGetArrayRead(b.S->x, &xa));
    b.x = (const PetscReal *)xa + lo * L->ncoord;
    PetscCall(AzFieldJetsVJP(L->field, cnt, b.x, BackwardPoints, &b, grad));
    PetscCall(VecRestoreArrayRead(b.S->x, &xa));
  }
  PetscCall(PetscFree3(b.D, b.Dp, b.Dm));
  PetscCall(PetscFree(lam));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* ẇ = −H⁻¹ d(Fᵀρ)/dθ·v: per point, with φ̇ the basis' tangent, u̇ = Σ w φ̇ and (F e_j)ᵀρ = s² r·(D φ_j),
 * d/dθ = s²[(D u̇)·(D φ_j) + r·(Ḋ φ_j) + r·(D φ̇_j)], Ḋ = ∂D/∂u·u̇ by a central difference */
static PetscErrorCode TangentExpert(AzLoss L, HardPDE *h, Vec v)
{
  const PetscInt ns = L->nslot, K = h->K, R = h->R, Ljet = L->ncomp * ns, nl = L->g1 - L->g0;
  PetscScalar   *part, *sum, *pd, *D, *Dp, *Dm;
  PetscScalar    u[AZ_MAX_COMP * AZ_JET_MAX_NSLOT], ud[AZ_MAX_COMP * AZ_JET_MAX_NSLOT], up[AZ_MAX_COMP * AZ_JET_MAX_NSLOT], r[64], rr[64];
  PetscInt       nmax = 1;

  PetscFunctionBegin;
  for (PetscInt si = 0; si < h->nset; si++) nmax = PetscMax(nmax, h->set[si].nloc);
  PetscCall(PetscCalloc2((size_t)PetscMax(nl, 1) * R, &part, R, &sum));
  PetscCall(PetscMalloc1((size_t)nmax * L->LjetN, &pd));
  PetscCall(Work(L, &D, &Dp, &Dm));
  for (PetscInt si = 0; si < h->nset; si++) {
    HPSet             *S = &h->set[si];
    const PetscScalar *xa;
    PetscCall(VecGetArrayRead(S->x, &xa));
    PetscCall(AzFieldJetsTangent(L->field, S->nloc, (const PetscReal *)xa, v, pd));
    for (PetscInt g = L->g0; g < L->g1; g++) {
      PetscScalar *acc = part + (size_t)(g - L->g0) * R;
      PetscInt     lo, cnt;
      AzLossGroupItems(L, S->n, g, &lo, &cnt);
      for (PetscInt p = lo; p < lo + cnt; p++) {
        const PetscScalar *phi = S->phi + (size_t)p * L->LjetN, *phid = pd + (size_t)p * L->LjetN;
        const PetscReal   *x   = (const PetscReal *)xa + p * L->ncoord;
        PetscReal          nu = 0, nv = 0, eps = 0;
        Combine(L->ncomp, K, ns, h->w, phi, u);
        Combine(L->ncomp, K, ns, h->w, phid, ud);
        PetscCall(Residual(L, S, x, u, r, D));
        for (PetscInt q = 0; q < Ljet; q++)
          if ((L->mask >> (q % ns)) & 1) {
            nu = PetscMax(nu, PetscAbsScalar(u[q]));
            nv = PetscMax(nv, PetscAbsScalar(ud[q]));
          }
        if (nv > 0 && !h->linear) {
          eps = 1e-4 * (1 + nu) / nv;
          for (PetscInt q = 0; q < Ljet; q++) up[q] = u[q] + eps * ud[q];
          PetscCall(Residual(L, S, x, up, rr, Dp));
          for (PetscInt q = 0; q < Ljet; q++) up[q] = u[q] - eps * ud[q];
          PetscCall(Residual(L, S, x, up, rr, Dm));
        }
        for (PetscInt i = 0; i < S->nres; i++) {
          const PetscScalar *Di  = D + i * Ljet;
          PetscScalar        dud = 0;
          for (PetscInt q = 0; q < Ljet; q++)
            if ((L->mask >> (q % ns)) & 1) dud += Di[q] * ud[q];
          for (PetscInt c = 0; c < L->ncomp; c++)
            for (PetscInt k = 0; k < K; k++) {
              PetscScalar f = 0, fd = 0;
              for (PetscInt s = 0; s < ns; s++) {
                const PetscInt q = c * ns + s;
                if (!((L->mask >> s) & 1)) continue;
                f += Di[q] * phi[(c * K + k) * ns + s];
                fd += Di[q] * phid[(c * K + k) * ns + s];
                if (nv > 0 && !h->linear) fd += (Dp[i * Ljet + q] - Dm[i * Ljet + q]) / (2 * eps) * phi[(c * K + k) * ns + s];
              }
              acc[c * K + k] += S->sq * S->sq * (dud * f + r[i] * fd);
            }
        }
      }
    }
    PetscCall(VecRestoreArrayRead(S->x, &xa));
  }
  PetscCall(AzLossGroupSum(L, R, part, sum));
  SolveH(L, h, sum, h->wdot);
  for (PetscInt j = 0; j < R; j++) h->wdot[j] = -h->wdot[j];
  PetscCall(PetscFree3(D, Dp, Dm));
  PetscCall(PetscFree(pd));
  PetscCall(PetscFree2(part, sum));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* ∂w/∂θ = −H⁻¹ G, row j of G = ∇θ (Fᵀρ)_j: per point the jet rows of λ = e_j (BackwardPoints' without
 * the sign), through the field's dense Jacobian, summed group by group */
static PetscErrorCode JacobianExpert(AzLoss L, HardPDE *h)
{
  const PetscInt ns = L->nslot, K = h->K, R = h->R, P = L->nparam, LN = L->LjetN, nl = L->g1 - L->g0;
  PetscScalar   *part, *G, *rows, *jac, *D, *Dp, *Dm, *e, *Hi;
  PetscScalar    u[AZ_MAX_COMP * AZ_JET_MAX_NSLOT], v[AZ_MAX_COMP * AZ_JET_MAX_NSLOT], gu[AZ_MAX_COMP * AZ_JET_MAX_NSLOT], gv[AZ_MAX_COMP * AZ_JET_MAX_NSLOT];
  const PetscInt cp = PetscMax(1, PetscMin(L->chunk, (PetscInt)(4000000 / ((PetscInt64)R * P + 1))));

  PetscFunctionBegin;
  PetscCall(PetscCalloc2((size_t)PetscMax(nl, 1) * R * P, &part, (size_t)R * P, &G));
  PetscCall(PetscMalloc4((size_t)cp * R * LN, &rows, (size_t)cp * R * P, &jac, R, &e, (size_t)R * R, &Hi));
  PetscCall(Work(L, &D, &Dp, &Dm));
  for (PetscInt g = L->g0; g < L->g1; g++) {
    PetscScalar *acc = part + (size_t)(g - L->g0) * R * P;
    for (PetscInt si = 0; si < h->nset; si++) {
      HPSet             *S = &h->set[si];
      const PetscScalar *xa;
      PetscInt           lo, cnt;
      AzLossGroupItems(L, S->n, g, &lo, &cnt);
      PetscCall(VecGetArrayRead(S->x, &xa));
      for (PetscInt p0 = lo; p0 < lo + cnt; p0 += cp) {
        const PetscInt nc = PetscMin(cp, lo + cnt - p0);
        for (PetscInt p = 0; p < nc; p++) {
          const PetscScalar *phi = S->phi + (size_t)(p0 + p) * LN;
          Combine(L->ncomp, K, ns, h->w, phi, u);
          for (PetscInt j = 0; j < R; j++) {
            PetscScalar *jr = rows + ((size_t)p * R + j) * LN;
            for (PetscInt i = 0; i < R; i++) e[i] = i == j;
            Combine(L->ncomp, K, ns, e, phi, v);
            PetscCall(PointRows(L, S, h->linear, (const PetscReal *)xa + (p0 + p) * L->ncoord, u, v, D, Dp, Dm, gu, gv));
            for (PetscInt c = 0; c < L->ncomp; c++)
              for (PetscInt k = 0; k < K; k++)
                for (PetscInt s = 0; s < ns; s++) jr[(c * K + k) * ns + s] = h->w[c * K + k] * gu[c * ns + s] + (c * K + k == j ? gv[c * ns + s] : 0);
          }
        }
        PetscCall(AzFieldResidualJacobian(L->field, nc, (const PetscReal *)xa + p0 * L->ncoord, R, rows, jac));
        for (PetscInt p = 0; p < nc; p++)
          for (size_t i = 0; i < (size_t)R * P; i++) acc[i] += jac[(size_t)p * R * P + i];
      }
      PetscCall(VecRestoreArrayRead(S->x, &xa));
    }
  }
  PetscCall(AzLossGroupSum(L, R * P, part, G));
  for (PetscInt j = 0; j < R; j++) { /* H⁻¹ column by column */
    for (PetscInt i = 0; i < R; i++) e[i] = i == j;
    SolveH(L, h, e, Hi + (size_t)j * R);
  }
  for (PetscInt i = 0; i < R; i++) {
    PetscScalar *ji = h->wjac + (size_t)i * P;
    for (PetscInt q = 0; q < P; q++) ji[q] = 0;
    for (PetscInt j = 0; j < R; j++) {
      const PetscScalar c = -Hi[(size_t)j * R + i]; /* H⁻¹ symmetric */
      for (PetscInt q = 0; q < P; q++) ji[q] += c * G[(size_t)j * P + q];
    }
  }
  PetscCall(PetscFree3(D, Dp, Dm));
  PetscCall(PetscFree4(rows, jac, e, Hi));
  PetscCall(PetscFree2(part, G));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode Update(AzChainMap m)
{
  AzLoss           L = m->L;
  HPMap           *M = (HPMap *)m->data;
  PetscObjectState st;

  PetscFunctionBegin;
  PetscCall(AzLossThetaState(L, &st));
  if (M->valid && st == M->state) PetscFunctionReturn(PETSC_SUCCESS);
  for (PetscInt e = 0; e < M->E; e++) PetscCall(Solve(L, &M->ex[e]));
  M->state = st;
  M->valid = PETSC_TRUE;
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SideBackward(AzChainMap m, PetscInt g, Vec grad)
{
  HPMap *M = (HPMap *)m->data;

  PetscFunctionBegin;
  for (PetscInt e = 0; e < M->E; e++) PetscCall(BackwardExpert(m->L, &M->ex[e], g, grad));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SideTangent(AzChainMap m, Vec v)
{
  HPMap *M = (HPMap *)m->data;

  PetscFunctionBegin;
  for (PetscInt e = 0; e < M->E; e++) PetscCall(TangentExpert(m->L, &M->ex[e], v));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SideJacobian(AzChainMap m)
{
  HPMap *M = (HPMap *)m->data;

  PetscFunctionBegin;
  for (PetscInt e = 0; e < M->E; e++) PetscCall(JacobianExpert(m->L, &M->ex[e]));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode Destroy(AzChainMap m)
{
  HPMap *M = (HPMap *)m->data;

  PetscFunctionBegin;
  if (!M) PetscFunctionReturn(PETSC_SUCCESS);
  for (PetscInt e = 0; e < M->E; e++) {
    HardPDE *h = &M->ex[e];
    for (PetscInt si = 0; si < h->nset; si++) {
      PetscCall(VecDestroy(&h->set[si].x));
      PetscCall(PetscFree(h->set[si].phi));
    }
    PetscCall(PetscFree4(h->V, h->s2, h->VT, h->sv));
    PetscCall(PetscFree4(h->Floc, h->Fall, h->A, h->work));
    PetscCall(PetscFree2(h->counts, h->displs));
  }
  PetscCall(PetscFree4(m->side, m->side_bar, m->side_dot, m->side_jac));
  PetscCall(PetscFree(m->data));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static const AzChainMapOps ops = {"hardpde", Forward, Tangent, Adjoint, Destroy, Update, SideBackward, SideTangent, SideJacobian};

/* the options the solved layer does not combine with (checked before the network's width) */
static PetscErrorCode Refusals(AzLoss L)
{
  PetscBool laws = PETSC_FALSE;

  PetscFunctionBegin;
  for (PetscInt l = 0; l < AZ_MAX_LAWS; l++) laws = laws || L->law_mode[l] != AZ_CONSERVE_NONE;
  PetscCheck(!L->transform, L->comm, PETSC_ERR_ARG_WRONG, "-az_hardpde (a solved output layer) does not combine with hard boundary or initial conditions (-az_constraint hard): the solve already imposes them at its constraint points; use soft conditions with it");
  PetscCheck(L->positivity != AZ_POSITIVE_HARD && L->bounds != AZ_POSITIVE_HARD, L->comm, PETSC_ERR_ARG_WRONG, "-az_hardpde: the solution must be linear in the solved weights, so -az_positivity hard and -az_bounds hard (a nonlinear output map) are refused; their penalties (soft, linear, cosine, adaptive, auglag) are allowed");
  PetscCheck(!L->stream, L->comm, PETSC_ERR_ARG_WRONG, "-az_hardpde does not combine with -az_divfree (a stream function): choose one output map");
  PetscCheck(!laws, L->comm, PETSC_ERR_ARG_WRONG, "-az_hardpde does not combine with -az_conservation (projection or penalties of conservation laws) here: use -az_conservation none");
  PetscCheck(L->ninfer == 0, L->comm, PETSC_ERR_ARG_WRONG, "-az_hardpde does not combine with -az_infer: the solve's derivatives in the inferred parameters are not implemented");
  PetscCheck(L->resample == AZ_RESAMPLE_NONE, L->comm, PETSC_ERR_ARG_WRONG, "-az_hardpde does not combine with -az_resample %s here: use -az_resample none", AzResampleTypes[L->resample]);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* the product table of a jet with a function of x_0: slot σ = ∂^α, (χv)_α = Σ_k C(α_0, k) χ^(k) v_(α − k e_0) */
static PetscErrorCode ProductTable(AzLoss L, HPMap *M)
{
  const PetscInt n = L->ncoord, ns = L->nslot;
  PetscInt       alpha[AZ_JET_MAX_NSLOT][AZ_MAX_COORD];

  PetscFunctionBegin;
  PetscCall(PetscArrayzero(&alpha[0][0], AZ_JET_MAX_NSLOT * AZ_MAX_COORD));
  for (PetscInt i = 0; i < n; i++) {
    alpha[AzJetSlotD1(n, i)][i] = 1;
    alpha[AzJetSlotD3(n, i)][i] = 3;
    alpha[AzJetSlotD4(n, i)][i] = 4;
    for (PetscInt j = i; j < n; j++) {
      alpha[AzJetSlotD2(n, i, j)][i] += 1;
      alpha[AzJetSlotD2(n, i, j)][j] += 1;
    }
  }
  for (PetscInt s = 0; s < ns; s++) {
    const PetscReal binom[5][5] = {{1}, {1, 1}, {1, 2, 1}, {1, 3, 3, 1}, {1, 4, 6, 4, 1}};
    M->nprod[s] = 0;
    for (PetscInt k = 0; k <= alpha[s][0]; k++) {
      PetscInt t = -1;
      for (PetscInt q = 0; q < ns && t < 0; q++) {
        PetscBool same = PETSC_TRUE;
        for (PetscInt d = 0; d < n; d++) same = same && alpha[q][d] == alpha[s][d] - (d == 0 ? k : 0);
        if (same) t = q;
      }
      PetscCheck(t >= 0 && (!((L->mask >> s) & 1) || ((L->mask >> t) & 1)), L->comm, PETSC_ERR_SUP, "-az_moe_experts: the blend of the experts needs jet slot %" PetscInt_FMT " for slot %" PetscInt_FMT ", which the problem's jets do not carry", t, s);
      M->pk[s][M->nprod[s]]    = k;
      M->pslot[s][M->nprod[s]] = t;
      M->pcoef[s][M->nprod[s]] = binom[alpha[s][0]][k];
      M->nprod[s]++;
    }
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* expert e's constraint sets: its share of the points, in its box of the first axis */
static PetscErrorCode ExpertSetUp(AzLoss L, HPMap *M, PetscInt e, PetscInt N, PetscScalar *side, PetscScalar *bar, PetscScalar *dot, PetscScalar *jac)
{
  const AzProblemInfo *info;
  HardPDE             *h = &M->ex[e];
  const PetscInt       R = L->hardpde_K * L->ncomp, E = M->E;
  PetscReal            lo[AZ_MAX_COORD], hi[AZ_MAX_COORD], a, b, mg;
  PetscMPIInt          size;

  PetscFunctionBegin;
  PetscCall(AzProblemGetInfo(L->prob, &info));
  PetscCall(AzProblemGetBox(L->prob, lo, hi));
  mg   = (hi[0] - lo[0]) / (2 * E); /* half a neighbour's box: χ_e is below 4e-4 beyond it */
  a    = E > 1 ? PetscMax(lo[0], M->cut[e] - mg) : lo[0];
  b    = E > 1 ? PetscMin(hi[0], M->cut[e + 1] + mg) : hi[0];
  h->K = L->hardpde_K;
  h->R = R;
  h->w = side + e * R;
  h->wbar = bar + e * R;
  h->wdot = dot + e * R;
  h->wjac = jac + (size_t)e * R * L->nparam;
  for (PetscInt cond = AZ_COND_INTERIOR; cond <= AZ_COND_INITIAL; cond++) {
    HPSet   *S = &h->set[h->nset];
    PetscInt nres;
    if (cond >= 2 * info->dim && cond != AZ_COND_INITIAL) continue;
    if ((cond == 0 && e > 0) || (cond == 1 && e < E - 1)) continue; /* the first axis' faces: the end experts' */
    PetscCall(AzProblemGetNumResiduals(L->prob, cond, &nres));
    if (!nres) continue;
    PetscCheck(nres <= 64, L->comm, PETSC_ERR_SUP, "-az_hardpde: condition %" PetscInt_FMT " has %" PetscInt_FMT " residuals per point; at most 64 are supported", cond, nres);
    S->cond = cond;
    S->nres = nres;
    S->n    = cond == AZ_COND_INTERIOR ? PetscMax(1, N / E) : ((L->ncoord == 1 && cond != AZ_COND_INITIAL) ? 1 : PetscMax(1, (cond < 2 ? N : N / E) / 4));
    S->sq   = PetscSqrtReal((cond == AZ_COND_INTERIOR ? L->w_interior : (cond == AZ_COND_INITIAL ? L->w_initial : L->w_boundary)) / ((PetscReal)S->n * nres));
    /* its own points: the loss's sampler (Sobol for a grid) with another seed, the first axis onto [a, b] */
    PetscCall(AzSampleConditionLocal(L->comm, L->prob, cond, L->type == AZ_SAMPLE_GRID ? AZ_SAMPLE_SOBOL : L->type, S->n, AzLossGroupsLocalSize(L, S->n), L->seed + 7919 + 104729 * e, &S->x));
    PetscCall(VecGetLocalSize(S->x, &S->nloc));
    S->nloc /= L->ncoord;
    if (E > 1 && cond != 0 && cond != 1) { /* all but the first axis' own faces */
      PetscScalar *xa;
      PetscCall(VecGetArray(S->x, &xa));
      for (PetscInt p = 0; p < S->nloc; p++) xa[p * L->ncoord] = a + (PetscRealPart(xa[p * L->ncoord]) - lo[0]) * (b - a) / (hi[0] - lo[0]);
      PetscCall(VecRestoreArray(S->x, &xa));
    }
    PetscCall(PetscMalloc1((size_t)PetscMax(S->nloc, 1) * R * L->nslot, &S->phi));
    h->nrows += S->n * nres;
    h->nrows_loc += S->nloc * nres;
    h->nset++;
  }
  PetscCheck(h->nrows >= R, L->comm, PETSC_ERR_ARG_OUTOFRANGE, "-az_hardpde: %" PetscInt_FMT " constraint residuals for %" PetscInt_FMT " unknown weights of %s(-az_hardpde_basis %" PetscInt_FMT " times %" PetscInt_FMT " components); at least as many residuals as unknowns are needed: raise -az_hardpde_points (now %" PetscInt_FMT " in all), lower -az_hardpde_basis%s", h->nrows, R, E > 1 ? "an expert " : "", h->K, L->ncomp, N, E > 1 ? " or use fewer experts (-az_moe_experts)" : "");
  {
    PetscBLASInt Mm, Nn, lda, one = 1, ldvt, info = 0, lw = -1;
    PetscReal    wq = 0;
    PetscCall(PetscMalloc4((size_t)R * R, &h->V, R, &h->s2, (size_t)R * R, &h->VT, R, &h->sv));
    PetscCall(PetscBLASIntCast(h->nrows, &Mm));
    PetscCall(PetscBLASIntCast(R, &Nn));
    lda  = Mm;
    ldvt = Nn;
    LAPACKgesvd_("N", "A", &Mm, &Nn, NULL, &lda, NULL, NULL, &one, NULL, &ldvt, &wq, &lw, &info);
    PetscCheck(info == 0, L->comm, PETSC_ERR_LIB, "-az_hardpde: LAPACK's workspace query failed (info %d)", (int)info);
    h->lwork = (PetscBLASInt)wq + 1;
    PetscCall(PetscMalloc4((size_t)PetscMax(h->nrows_loc, 1) * (R + 1), &h->Floc, (size_t)h->nrows * (R + 1), &h->Fall, (size_t)h->nrows * R, &h->A, (size_t)h->lwork, &h->work));
  }
  PetscCallMPI(MPI_Comm_size(L->comm, &size));
  PetscCall(PetscMalloc2(size, &h->counts, size, &h->displs));
  {
    PetscMPIInt mine = (PetscMPIInt)(h->nrows_loc * (R + 1));
    PetscCallMPI(MPI_Allgather(&mine, 1, MPI_INT, h->counts, 1, MPI_INT, L->comm));
    h->displs[0] = 0;
    for (PetscMPIInt r = 1; r < size; r++) h->displs[r] = h->displs[r - 1] + h->counts[r - 1];
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzChainMapCreate_HardPDE(AzLoss L, AzChainMap *m)
{
  HPMap      *M;
  PetscInt    N, R, E = L->moe_experts;
  PetscMPIInt size;
  PetscReal   lo[AZ_MAX_COORD], hi[AZ_MAX_COORD];

  PetscFunctionBegin;
  *m = NULL;
  if (!L->hardpde) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCallMPI(MPI_Comm_size(L->comm, &size));
  if (E == 0) E = size; /* one expert per rank */
  PetscCheck(E >= 1 && E <= AZ_HP_MAX_EXPERTS, L->comm, PETSC_ERR_ARG_OUTOFRANGE, "-az_moe_experts %" PetscInt_FMT ": between 1 and %d experts (0: one per rank)", E, AZ_HP_MAX_EXPERTS);
  R = L->hardpde_K * L->ncomp;
  PetscCall(AzChainMapAllocate(L, &ops, R, L->ncomp, m));
  PetscCall(PetscNew(&M));
  (*m)->data       = M;
  (*m)->keep_input = PETSC_TRUE;
  (*m)->nside      = R * E;
  (*m)->nslice     = 1;
  M->E             = E;
  PetscCall(AzProblemGetBox(L->prob, lo, hi));
  for (PetscInt e = 0; e <= E; e++) M->cut[e] = lo[0] + (hi[0] - lo[0]) * e / E;
  M->tau = (hi[0] - lo[0]) / (16 * E); /* the blend's width: a steep one makes u's derivatives at the cuts large */
  PetscCall(ProductTable(L, M));
  N = L->hardpde_n ? L->hardpde_n : 4 * R * E;
  PetscCall(PetscCalloc4(R * E, &(*m)->side, R * E, &(*m)->side_bar, R * E, &(*m)->side_dot, (size_t)R * E * L->nparam, &(*m)->side_jac));
  for (PetscInt e = 0; e < E; e++) PetscCall(ExpertSetUp(L, M, e, N, (*m)->side, (*m)->side_bar, (*m)->side_dot, (*m)->side_jac));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzHardPDECheck(AzLoss L)
{
  PetscFunctionBegin;
  if (L->hardpde) PetscCall(Refusals(L));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static AzChainMap HardPDEMap(AzLoss L)
{
  for (PetscInt i = 0; i < AzChainNumMaps(L->chain); i++)
    if (!strcmp(AzChainGetMap(L->chain, i)->ops->name, "hardpde")) return AzChainGetMap(L->chain, i);
  return NULL;
}

PetscErrorCode AzLossHardPDEInfo(AzLoss L, PetscInt *its, PetscReal *obj, PetscInt *R, const PetscScalar *w[])
{
  AzChainMap m;
  HPMap     *M;

  PetscFunctionBegin;
  PetscCall(AzLossSetUp(L));
  m = HardPDEMap(L);
  M = m ? (HPMap *)m->data : NULL;
  if (its) *its = M ? 0 : -1;
  if (obj) *obj = 0;
  for (PetscInt e = 0; M && e < M->E; e++) {
    if (its) *its = PetscMax(*its, M->ex[e].its);
    if (obj) *obj += M->ex[e].obj;
  }
  if (R) *R = m ? m->nside : 0;
  if (w) *w = m ? m->side : NULL;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzLossHardPDEObjective(AzLoss L, const PetscScalar w[], PetscReal *obj, PetscScalar grad[])
{
  AzChainMap m;
  HPMap     *M;

  PetscFunctionBegin;
  PetscCall(AzLossSetUp(L));
  m = HardPDEMap(L);
  PetscCheck(m, L->comm, PETSC_ERR_ARG_WRONG, "AzLossHardPDEObjective: the loss has no solved output layer (-az_hardpde)");
  M = (HPMap *)m->data;
  PetscCall(AzChainUpdate(L->chain)); /* the basis at the current θ */
  *obj = 0;
  for (PetscInt e = 0; e < M->E; e++) {
    HardPDE        *h = &M->ex[e];
    const PetscInt  R = h->R;
    PetscReal       oe;
    PetscCall(BuildRows(L, h, w + e * R, &oe));
    *obj += oe;
    if (grad)
      for (PetscInt j = 0; j < R; j++) {
        PetscReal gj = 0;
        for (PetscInt i = 0; i < h->nrows; i++) gj += h->Fall[(size_t)i * (R + 1) + j] * h->Fall[(size_t)i * (R + 1) + R];
        grad[e * R + j] = gj + L->hardpde_ridge * w[e * R + j];
      }
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzLossHardPDEExpertRange(AzLoss L, PetscInt e, PetscReal *xmin, PetscReal *xmax)
{
  AzChainMap m;
  HPMap     *M;
  PetscReal  mm[2] = {PETSC_MAX_REAL, PETSC_MAX_REAL};

  PetscFunctionBegin;
  PetscCall(AzLossSetUp(L));
  m = HardPDEMap(L);
  PetscCheck(m, L->comm, PETSC_ERR_ARG_WRONG, "AzLossHardPDEExpertRange: the loss has no solved output layer (-az_hardpde)");
  M = (HPMap *)m->data;
  PetscCheck(e >= 0 && e < M->E, L->comm, PETSC_ERR_ARG_OUTOFRANGE, "AzLossHardPDEExpertRange: expert %" PetscInt_FMT " of %" PetscInt_FMT, e, M->E);
  for (PetscInt si = 0; si < M->ex[e].nset; si++) {
    const HPSet       *S = &M->ex[e].set[si];
    const PetscScalar *xa;
    PetscCall(VecGetArrayRead(S->x, &xa));
    for (PetscInt p = 0; p < S->nloc; p++) {
      mm[0] = PetscMin(mm[0], PetscRealPart(xa[p * L->ncoord]));
      mm[1] = PetscMin(mm[1], -PetscRealPart(xa[p * L->ncoord]));
    }
    PetscCall(VecRestoreArrayRead(S->x, &xa));
  }
  PetscCallMPI(MPIU_Allreduce(MPI_IN_PLACE, mm, 2, MPIU_REAL, MPIU_MIN, L->comm));
  *xmin = mm[0];
  *xmax = -mm[1];
  PetscFunctionReturn(PETSC_SUCCESS);
}
