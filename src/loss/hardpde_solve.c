/* One expert of the solved output layer (map_hardpde.c): its constrained solve and the derivatives through it.
 *
 * The network outputs K basis functions per component, φ_{c,k}(x; θ) (output c·K + k); the solution is
 * u_c = Σ_k w_{c,k} φ_{c,k}, and the R = K·ncomp weights w are not trained but solved at every θ:
 *     w(θ) = argmin_w Σ_sets (ω_s / (n_s m_s)) Σ_{i in s} |r_s(x_i, u(x_i))|² + α |w|²,
 * the problem's PDE, boundary and initial residuals at their own constraint points (-az_hardpde_points),
 * weighted as the loss weights its terms (ω the configured weight, n points, m residuals per point),
 * α a small ridge (-az_hardpde_ridge) that keeps the solve well posed when the basis is nearly
 * dependent. The basis at the expert's points is gathered in global order onto the rank that owns the
 * expert, which alone builds the rows [F | ρ] (F = ∂ρ/∂w, ρ the scaled residuals) in group order
 * (reduce.c's groups: the same bits on any number of ranks) and finds w by Gauss–Newton with the SVD
 * of F, in double precision: one step for a linear PDE (its residual is affine in w, solved from
 * w = 0), a step that does not decrease the objective halved, warm-started for a nonlinear one (from
 * w = 0 with -az_hardpde_start cold, so that w is a function of θ alone). w, V
 * and σ² then go to every rank (AzHPShare), where the derivatives below run over each rank's points.
 *
 * Gradients through the solve by the implicit function theorem, not by unrolling: at the optimum
 * Fᵀρ + αw = 0; with H = FᵀF + αI (exact for a linear PDE, Gauss–Newton's for a nonlinear one) and
 * w̄ = ∂ℓ/∂w, λ = H⁻¹ w̄, and ∇θ ℓ gains −∇θ[(Fλ)ᵀρ] at fixed w and λ. At a point, with v = Σ λ φ (a
 * jet like u) and D = ∂r/∂u, (Fλ)ᵀρ = s² r·(D v) (s the row scale), whose derivative in u is
 * s²[Dᵀ D v + (∂D/∂u·v)ᵀ r] (the second part by a central difference of D along v: zero for a linear
 * PDE, O(ε²) otherwise) and in v is s² Dᵀ r; back to the basis jets through u = Σ w φ and v = Σ λ φ.
 * The tangent ẇ = −H⁻¹ d(Fᵀρ)/dθ·v and the dense ∂w/∂θ (Gauss–Newton, the Laplace approximation)
 * follow the same way.
 *
 * With hard boundary or initial conditions (-az_constraint hard: the transform u = g + C(d) N of
 * constraint.h, after this map in the chain) the solution is u = g + Σ_k w_k C φ_k, still affine in w:
 * the basis becomes C φ_k (AzTransformApplyLinearBlocks on the network's jets at the constraint points),
 * the lift g enters the residual as an offset, and the conditions the transform imposes have no rows
 * (map_hardpde.c drops their sets). The derivatives above then run on C φ and go back to the network's
 * jets through Cᵀ (AzTransformAdjointBlocks): C does not depend on θ, so they stay exact.
 *
 * The coupled solve of a mixture (-az_moe_solve coupled, hardpde_coupled.c) is this solve with R = E·R₀
 * unknowns on the basis χ_e φ (h->moe set): the network's jets are expanded where they enter
 * (AzHPExpand: AzHPGather, AzHPTangent, BackwardPoints) and the rows collapsed back where they leave
 * (AzHPCollapse, after Cᵀ: BackwardPoints, AzHPJacobian); h->LN is the basis' stride per point. */
#include "hardpde.h"
#include <petscblaslapack.h>

/* dv = H⁻¹ b (the directions AzHPKeep leaves out skipped) */
void AzHPSolveH(AzLoss L, HardPDE *h, const PetscScalar b[], PetscScalar x[])
{
  const PetscInt R = h->R;
  PetscReal      smax = 0;

  for (PetscInt j = 0; j < R; j++) smax = PetscMax(smax, h->s2[j]);
  for (PetscInt i = 0; i < R; i++) x[i] = 0;
  for (PetscInt j = 0; j < R; j++) {
    const PetscReal *v = h->V + j * R, d = h->s2[j] + L->hardpde_ridge;
    PetscReal        c = 0;
    if (!AzHPKeep(h->s2[j], L->hardpde_ridge, L->hardpde_rcond, smax)) continue;
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

/* the rows [F | ρ] at w on the expert's owner, from the gathered points and basis jets: group by group
 * (the groups of global point indices, reduce.c), set by set, so that the rows and their order do not
 * depend on the number of ranks; the objective Σ ρ² + α|w|² */
static PetscErrorCode BuildRows(AzLoss L, HardPDE *h, const PetscScalar w[], PetscReal *obj)
{
  const PetscInt ns = L->nslot, Ljet = L->ncomp * ns, K = h->K, R = h->R, G = L->ngroups;
  PetscScalar    u[AZ_MAX_COMP * AZ_JET_MAX_NSLOT], r[64];
  PetscScalar   *D;
  PetscInt       row = 0;
  PetscReal      o   = 0;

  PetscFunctionBegin;
  PetscCheck(h->mine, PETSC_COMM_SELF, PETSC_ERR_PLIB, "-az_hardpde: the rows of an expert are built on its owner rank only");
  PetscCall(PetscMalloc1((size_t)64 * Ljet, &D));
  for (PetscInt g = 0; g < G; g++)
    for (PetscInt si = 0; si < h->nset; si++) {
      HPSet         *S  = &h->set[si];
      const PetscInt lo = AzGroupStart(S->n, G, g), hi = AzGroupStart(S->n, G, g + 1);
      for (PetscInt p = lo; p < hi; p++) {
        const PetscScalar *phi = S->phiall + (size_t)p * h->LN;
        Combine(L->ncomp, K, ns, w, phi, u);
        AddLift(Ljet, S->gall ? S->gall + (size_t)p * Ljet : NULL, u);
        PetscCall(Residual(L, S, S->xall + (size_t)p * L->ncoord, u, r, D));
        for (PetscInt i = 0; i < S->nres; i++, row++) {
          PetscReal *fr = h->Fall + (size_t)row * (R + 1);
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
    }
  PetscCall(PetscFree(D));
  for (PetscInt i = 0; i < h->nrows; i++) o += h->Fall[(size_t)i * (R + 1) + R] * h->Fall[(size_t)i * (R + 1) + R];
  for (PetscInt j = 0; j < R; j++) o += L->hardpde_ridge * PetscRealPart(w[j] * w[j]);
  *obj = o;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* V and σ² of F (on the owner), and with d the Gauss–Newton step H⁻¹(Fᵀρ + αw) at w from F's SVD
 * (AzHPLeastSquares: through U, never forming Fᵀρ) */
static PetscErrorCode Factor(AzLoss L, HardPDE *h, const PetscScalar w[], PetscScalar d[])
{
  const PetscInt R = h->R, n = h->nrows;

  PetscFunctionBegin;
  for (PetscInt j = 0; j <= R; j++)
    for (PetscInt i = 0; i < n; i++) h->A[(size_t)j * n + i] = h->Fall[(size_t)i * (R + 1) + j];
  PetscCall(AzHPLeastSquares(n, R, h->A, L->hardpde_ridge, L->hardpde_rcond, (const PetscReal *)w, h->work, h->nwork, h->V, h->s2, (PetscReal *)d));
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
  const PetscInt ns = L->nslot, K = h->K, R = h->R, Ljet = L->ncomp * ns, G = L->ngroups;
  PetscScalar   *part, *S, *D, *Dp, *Dm;
  PetscScalar    u[AZ_MAX_COMP * AZ_JET_MAX_NSLOT], up[AZ_MAX_COMP * AZ_JET_MAX_NSLOT], r[64], rr[64];
  PetscBool      any = PETSC_FALSE;
  PetscBool      anyd = PETSC_FALSE;

  PetscFunctionBegin;
  PetscCall(PetscCalloc2((size_t)G * R * R, &part, (size_t)R * R, &S));
  PetscCall(Work(L, &D, &Dp, &Dm));
  for (PetscInt g = 0; g < G; g++)
    for (PetscInt si = 0; si < h->nset; si++) {
      HPSet         *St  = &h->set[si];
      PetscScalar   *acc = part + (size_t)g * R * R;
      const PetscInt lo  = AzGroupStart(St->n, G, g), hi = AzGroupStart(St->n, G, g + 1);
      for (PetscInt p = lo; p < hi; p++) {
        const PetscScalar *phi = St->phiall + (size_t)p * h->LN;
        const PetscReal   *x   = St->xall + (size_t)p * L->ncoord;
        PetscReal          nu  = 0;
        Combine(L->ncomp, K, ns, h->w, phi, u);
        AddLift(Ljet, St->gall ? St->gall + (size_t)p * Ljet : NULL, u);
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
                  anyd = PETSC_TRUE;
                }
              acc[k * R + j] += St->sq * St->sq * r[i] * v;
            }
        }
      }
    }
  for (PetscInt g = 0; g < G; g++) /* the groups' sums added in group order, as AzLossGroupSum does */
    for (PetscInt i = 0; i < R * R; i++) S[i] = g ? S[i] + part[(size_t)g * R * R + i] : part[i];
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
    PetscCheck(info == 0, PETSC_COMM_SELF, PETSC_ERR_LIB, "-az_hardpde: the eigendecomposition of the solve's Hessian failed (LAPACK info %d)", (int)info);
    PetscCall(PetscArraycpy(h->V, Hm, (size_t)R * R)); /* column j: eigenvector j */
    PetscCall(PetscFree(wk));
    PetscCall(PetscFree(Hm));
  }
  PetscCall(PetscFree3(D, Dp, Dm));
  PetscCall(PetscFree2(part, S));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* the basis at this rank's constraint points of one expert (collective), and its gather, in global
 * point order, onto the expert's owner */
PetscErrorCode AzHPGather(AzLoss L, HardPDE *h)
{
  PetscFunctionBegin;
  for (PetscInt si = 0; si < h->nset; si++) {
    HPSet             *S = &h->set[si];
    const PetscScalar *xa;
    PetscScalar       *net = NULL; /* a coupled solve: the network's jets, before their expansion */
    if (h->moe) PetscCall(PetscMalloc1((size_t)PetscMax(S->nloc, 1) * L->LjetN, &net));
    PetscCall(VecGetArrayRead(S->x, &xa));
    for (PetscInt g = L->g0; g < L->g1; g++) { /* group by group from its first point, as the terms: the
                                                * BLAS calls, so the bits, do not depend on the ranks */
      const PetscReal *x;
      PetscInt         lo, cnt;
      AzLossGroupItems(L, S->n, g, &lo, &cnt);
      x = (const PetscReal *)xa + lo * L->ncoord;
      if (cnt) PetscCall(AzFieldEvaluateJets(L->field, cnt, x, h->moe ? net : S->phi + (size_t)lo * h->LN));
      if (cnt && h->moe) PetscCall(AzHPExpand(L, h, cnt, x, net, S->phi + (size_t)lo * h->LN)); /* χ_e φ */
      if (cnt && L->transform) PetscCall(AzTransformApplyLinearBlocks(L->transform, cnt, x, h->R, S->phi + (size_t)lo * h->LN));
    }
    PetscCall(PetscFree(net));
    PetscCall(VecRestoreArrayRead(S->x, &xa));
    PetscCallMPI(MPI_Gatherv(S->phi, (PetscMPIInt)S->nloc, h->tjet, S->phiall, S->cnt, S->dsp, h->tjet, h->owner, L->comm));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* one expert's w at the current θ, on its owner (no communication; after AzHPGather): Gauss–Newton in w */
PetscErrorCode AzHPSolve(AzLoss L, HardPDE *h)
{
  const PetscInt   R = h->R;
  PetscScalar     *d, *wn;
  PetscReal        obj;
  PetscBool        conv = PETSC_FALSE;
  PetscReal        ndprev = PETSC_MAX_REAL;

  PetscFunctionBegin;
  PetscCall(PetscMalloc2(R, &d, R, &wn));
  /* a linear PDE starts from w = 0: one step, and w(θ) a function of θ alone (a warm start would make
   * its rounding depend on the path, and a line search on the loss see that noise); a nonlinear one
   * too with -az_hardpde_start cold, else from the last solve's w */
  if (h->linear || L->hardpde_cold) PetscCall(PetscArrayzero(h->w, R));
  PetscCall(BuildRows(L, h, h->w, &obj));
  for (h->its = 0; h->its < L->hardpde_maxit; h->its++) {
    PetscReal nd = 0, nw = 0, t = 1, objn = obj;
    PetscBool down = PETSC_FALSE;
    PetscCall(Factor(L, h, h->w, d));
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
    } else if (L->hardpde_lm && !h->linear) { /* Levenberg–Marquardt: (FᵀF + (α + μ)I)⁻¹ g from the step's
                                               * components in F's right singular vectors, μ raised tenfold
                                               * while the objective grows (a linear PDE's one step, the
                                               * least-squares solution, is taken as it is, below) */
      PetscReal s2max = 0, mu = 0;
      for (PetscInt j = 0; j < R; j++) s2max = PetscMax(s2max, h->s2[j]);
      for (PetscInt k = 0; k < 16 && !down; k++, mu = k == 1 ? 1e-12 * s2max : 10 * mu) {
        for (PetscInt j = 0; j < R; j++) wn[j] = h->w[j];
        for (PetscInt j = 0; j < R; j++) {
          const PetscReal *v = h->V + j * R;
          PetscReal        c = 0;
          for (PetscInt i = 0; i < R; i++) c += v[i] * PetscRealPart(d[i]);
          c *= (h->s2[j] + L->hardpde_ridge) / (h->s2[j] + L->hardpde_ridge + mu);
          for (PetscInt i = 0; i < R; i++) wn[i] -= c * v[i];
        }
        PetscCall(BuildRows(L, h, wn, &objn));
        down = objn <= obj ? PETSC_TRUE : PETSC_FALSE;
      }
      if (!down) break;
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
    PetscCall(Factor(L, h, h->w, NULL)); /* H at the final w */
    PetscCall(PetscInfo(NULL, "-az_hardpde: the solve stopped after %" PetscInt_FMT " Gauss-Newton steps without converging\n", h->its));
  }
  PetscCall(PetscFree2(d, wn));
  if (!h->linear) PetscCall(SecondOrder(L, h));
  h->obj = obj;
  PetscFunctionReturn(PETSC_SUCCESS);
}


/* every expert's solution from its owner to every rank, in one collective: w, V and σ² (what the
 * derivatives through the solve need), the steps, the objective and whether the PDE is linear; the
 * experts are owned in blocks of consecutive ranks, so each rank's part is one piece of the message */
PetscErrorCode AzHPShare(AzLoss L, HardPDE ex[], PetscInt E)
{
  const PetscInt R = ex[0].R, stride = R * R + 2 * R + 3;
  PetscMPIInt    size, rank, *counts, *displs;
  PetscReal     *all;

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_size(L->comm, &size));
  PetscCallMPI(MPI_Comm_rank(L->comm, &rank));
  PetscCheck((PetscInt64)E * stride < PETSC_MPI_INT_MAX, L->comm, PETSC_ERR_ARG_OUTOFRANGE, "-az_hardpde: %" PetscInt_FMT " experts of %" PetscInt_FMT " weights are too many to share in one MPI message: use fewer experts or basis functions", E, R);
  PetscCall(PetscMalloc3(size, &counts, size, &displs, (size_t)E * stride, &all));
  for (PetscMPIInt r = 0; r < size; r++) {
    displs[r] = (PetscMPIInt)(AzGroupStart(E, size, r) * stride);
    counts[r] = (PetscMPIInt)((AzGroupStart(E, size, r + 1) - AzGroupStart(E, size, r)) * stride);
  }
  for (PetscInt e = 0; e < E; e++) {
    PetscReal *b = all + (size_t)e * stride;
    if (!ex[e].mine) continue;
    for (PetscInt j = 0; j < R; j++) b[j] = PetscRealPart(ex[e].w[j]);
    PetscCall(PetscArraycpy(b + R, ex[e].V, (size_t)R * R));
    PetscCall(PetscArraycpy(b + R + R * R, ex[e].s2, R));
    b[stride - 3] = (PetscReal)ex[e].its;
    b[stride - 2] = ex[e].obj;
    b[stride - 1] = ex[e].linear ? 1 : 0;
  }
  PetscCallMPI(MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, all, counts, displs, MPIU_REAL, L->comm));
  for (PetscInt e = 0; e < E; e++) {
    const PetscReal *b = all + (size_t)e * stride;
    if (ex[e].mine) continue;
    for (PetscInt j = 0; j < R; j++) ex[e].w[j] = b[j];
    PetscCall(PetscArraycpy(ex[e].V, b + R, (size_t)R * R));
    PetscCall(PetscArraycpy(ex[e].s2, b + R + R * R, R));
    ex[e].its    = (PetscInt)b[stride - 3];
    ex[e].obj    = b[stride - 2];
    ex[e].linear = b[stride - 1] != 0 ? PETSC_TRUE : PETSC_FALSE;
  }
  PetscCall(PetscFree3(counts, displs, all));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* the solve's objective and its gradient Fᵀρ + αw at w for one expert (collective: computed on the
 * owner, sent from there); the basis is the last update's */
PetscErrorCode AzHPObjective(AzLoss L, HardPDE *h, const PetscScalar w[], PetscReal *obj, PetscScalar grad[])
{
  const PetscInt R = h->R;
  PetscReal     *b;

  PetscFunctionBegin;
  PetscCall(PetscCalloc1(R + 1, &b));
  if (h->mine) {
    PetscCall(BuildRows(L, h, w, &b[R]));
    for (PetscInt j = 0; j < R; j++) {
      PetscReal gj = 0;
      for (PetscInt i = 0; i < h->nrows; i++) gj += h->Fall[(size_t)i * (R + 1) + j] * h->Fall[(size_t)i * (R + 1) + R];
      b[j] = gj + L->hardpde_ridge * PetscRealPart(w[j]);
    }
  }
  PetscCallMPI(MPI_Bcast(b, (PetscMPIInt)(R + 1), MPIU_REAL, h->owner, L->comm));
  *obj = b[R];
  if (grad)
    for (PetscInt j = 0; j < R; j++) grad[j] = b[j];
  PetscCall(PetscFree(b));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* expert e of E: its owner (rank r owns experts [r E/size, (r+1) E/size)), every rank's share of its
 * points, the owner's copy of all of them, and the owner's workspace for the rows and the SVD */
PetscErrorCode AzHPSetUpSolver(AzLoss L, HardPDE *h, PetscInt e, PetscInt E)
{
  const PetscInt R = h->R;
  PetscMPIInt    size, rank;

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_size(L->comm, &size));
  PetscCallMPI(MPI_Comm_rank(L->comm, &rank));
  for (PetscMPIInt r = 0; r < size; r++)
    if (AzGroupStart(E, size, r) <= e && e < AzGroupStart(E, size, r + 1)) h->owner = r;
  h->mine = h->owner == rank ? PETSC_TRUE : PETSC_FALSE;
  PetscCallMPI(MPI_Type_contiguous((PetscMPIInt)(R * L->nslot), MPIU_SCALAR, &h->tjet));
  PetscCallMPI(MPI_Type_commit(&h->tjet));
  PetscCallMPI(MPI_Type_contiguous((PetscMPIInt)L->ncoord, MPIU_REAL, &h->tx));
  PetscCallMPI(MPI_Type_commit(&h->tx));
  h->typed = PETSC_TRUE;
  PetscCall(PetscMalloc2((size_t)R * R, &h->V, R, &h->s2));
  for (PetscInt si = 0; si < h->nset; si++) {
    HPSet             *S = &h->set[si];
    PetscMPIInt        mine;
    const PetscScalar *xa;
    PetscCall(PetscMPIIntCast(S->nloc, &mine));
    PetscCall(PetscMalloc2(size, &S->cnt, size, &S->dsp));
    PetscCallMPI(MPI_Allgather(&mine, 1, MPI_INT, S->cnt, 1, MPI_INT, L->comm));
    S->dsp[0] = 0;
    for (PetscMPIInt r = 1; r < size; r++) S->dsp[r] = S->dsp[r - 1] + S->cnt[r - 1];
    if (h->mine) PetscCall(PetscMalloc2((size_t)S->n * L->ncoord, &S->xall, (size_t)S->n * R * L->nslot, &S->phiall));
    PetscCall(VecGetArrayRead(S->x, &xa));
    PetscCallMPI(MPI_Gatherv(xa, mine, h->tx, S->xall, S->cnt, S->dsp, h->tx, h->owner, L->comm));
    if (L->transform) { /* the lift's jets at the points, here and on the owner: u = g + Σ w C φ */
      const PetscInt Lj = L->ncomp * L->nslot;
      MPI_Datatype   tg;
      PetscCall(PetscCalloc1((size_t)PetscMax(S->nloc, 1) * Lj, &S->g));
      PetscCall(AzTransformApply(L->transform, S->nloc, (const PetscReal *)xa, S->g));
      if (h->mine) PetscCall(PetscMalloc1((size_t)S->n * Lj, &S->gall));
      PetscCallMPI(MPI_Type_contiguous((PetscMPIInt)Lj, MPIU_SCALAR, &tg));
      PetscCallMPI(MPI_Type_commit(&tg));
      PetscCallMPI(MPI_Gatherv(S->g, mine, tg, S->gall, S->cnt, S->dsp, tg, h->owner, L->comm));
      PetscCallMPI(MPI_Type_free(&tg));
    }
    PetscCall(VecRestoreArrayRead(S->x, &xa));
  }
  if (h->mine) {
    PetscCall(AzHPLeastSquaresWork(h->nrows, R, &h->nwork));
    PetscCall(PetscMalloc3((size_t)h->nrows * (R + 1), &h->Fall, (size_t)h->nrows * (R + 1), &h->A, (size_t)h->nwork, &h->work));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzHPDestroySolver(HardPDE *h)
{
  PetscFunctionBegin;
  for (PetscInt si = 0; si < h->nset; si++) {
    PetscCall(VecDestroy(&h->set[si].x));
    PetscCall(PetscFree(h->set[si].phi));
    PetscCall(PetscFree2(h->set[si].cnt, h->set[si].dsp));
    PetscCall(PetscFree2(h->set[si].xall, h->set[si].phiall));
    PetscCall(PetscFree(h->set[si].g));
    PetscCall(PetscFree(h->set[si].gall));
  }
  PetscCall(PetscFree2(h->V, h->s2));
  PetscCall(PetscFree3(h->Fall, h->A, h->work));
  if (h->typed) {
    PetscCallMPI(MPI_Type_free(&h->tjet));
    PetscCallMPI(MPI_Type_free(&h->tx));
    h->typed = PETSC_FALSE;
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
  const PetscScalar *g;   /* the lift's jets from the group's first point (hard conditions; else NULL) */
  PetscScalar       *D, *Dp, *Dm, *tphi, *tjb; /* tphi, tjb: one point's basis jets and their rows (h->LN) */
} BackCtx;

/* jetbar_{(c,k),σ} = −(w_{c,k} gu_{c,σ} + λ_{c,k} gv_{c,σ}); with hard conditions on the transformed
 * basis C φ, then back to the network's jets by Cᵀ; a coupled solve's on the basis χ_e φ (AzHPExpand),
 * back by AzHPCollapse */
static PetscErrorCode BackwardPoints(void *ptr, PetscInt p0, PetscInt np, const PetscScalar jets[], PetscScalar jetbar[])
{
  BackCtx       *b = (BackCtx *)ptr;
  AzLoss         L = b->L;
  HardPDE       *h = b->h;
  const PetscInt ns = L->nslot, K = h->K;
  PetscScalar    u[AZ_MAX_COMP * AZ_JET_MAX_NSLOT], v[AZ_MAX_COMP * AZ_JET_MAX_NSLOT], gu[AZ_MAX_COMP * AZ_JET_MAX_NSLOT], gv[AZ_MAX_COMP * AZ_JET_MAX_NSLOT];

  PetscFunctionBegin;
  for (PetscInt p = 0; p < np; p++) {
    const PetscReal   *x   = b->x + (p0 + p) * L->ncoord;
    const PetscScalar *phi = jets + (size_t)p * L->LjetN;
    PetscScalar       *jb  = h->moe ? b->tjb : jetbar + (size_t)p * L->LjetN;
    if (h->moe) PetscCall(AzHPExpand(L, h, 1, x, phi, b->tphi));
    else if (L->transform) PetscCall(PetscArraycpy(b->tphi, phi, L->LjetN));
    if (h->moe || L->transform) phi = b->tphi;
    if (L->transform) PetscCall(AzTransformApplyLinearBlocks(L->transform, 1, x, h->R, b->tphi));
    Combine(L->ncomp, K, ns, h->w, phi, u);
    AddLift(L->ncomp * ns, b->g ? b->g + (size_t)(p0 + p) * L->ncomp * ns : NULL, u);
    Combine(L->ncomp, K, ns, b->lam, phi, v);
    PetscCall(PointRows(L, b->S, h->linear, x, u, v, b->D, b->Dp, b->Dm, gu, gv));
    for (PetscInt c = 0; c < L->ncomp; c++)
      for (PetscInt k = 0; k < K; k++)
        for (PetscInt s = 0; s < ns; s++) jb[(c * K + k) * ns + s] = -(h->w[c * K + k] * gu[c * ns + s] + b->lam[c * K + k] * gv[c * ns + s]);
    if (L->transform) PetscCall(AzTransformAdjointBlocks(L->transform, 1, x, h->R, jb));
    if (h->moe) PetscCall(AzHPCollapse(L, h, 1, x, jb, jetbar + (size_t)p * L->LjetN));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* grad += (∂w/∂θ)ᵀ w̄ over the constraint points of owned group g: −∇θ[(Fλ)ᵀρ], λ = H⁻¹ w̄ */
PetscErrorCode AzHPBackward(AzLoss L, HardPDE *h, PetscInt g, Vec grad)
{
  PetscScalar *lam;
  PetscBool    any = PETSC_FALSE;
  BackCtx      b;

  PetscFunctionBegin;
  for (PetscInt j = 0; j < h->R; j++) any = any || h->wbar[j] != 0;
  if (!any) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(PetscMalloc1(h->R, &lam));
  AzHPSolveH(L, h, h->wbar, lam);
  PetscCall(Work(L, &b.D, &b.Dp, &b.Dm));
  PetscCall(PetscMalloc2(h->LN, &b.tphi, h->LN, &b.tjb));
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
    b.g = b.S->g ? b.S->g + (size_t)lo * L->ncomp * L->nslot : NULL;
    PetscCall(AzFieldJetsVJP(L->field, cnt, b.x, BackwardPoints, &b, grad));
    PetscCall(VecRestoreArrayRead(b.S->x, &xa));
  }
  PetscCall(PetscFree3(b.D, b.Dp, b.Dm));
  PetscCall(PetscFree2(b.tphi, b.tjb));
  PetscCall(PetscFree(lam));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* ẇ = −H⁻¹ d(Fᵀρ)/dθ·v: per point, with φ̇ the basis' tangent, u̇ = Σ w φ̇ and (F e_j)ᵀρ = s² r·(D φ_j),
 * d/dθ = s²[(D u̇)·(D φ_j) + r·(Ḋ φ_j) + r·(D φ̇_j)], Ḋ = ∂D/∂u·u̇ by a central difference */
PetscErrorCode AzHPTangent(AzLoss L, HardPDE *h, Vec v)
{
  const PetscInt ns = L->nslot, K = h->K, R = h->R, Ljet = L->ncomp * ns, nl = L->g1 - L->g0;
  PetscScalar   *part, *sum, *pd, *net, *D, *Dp, *Dm; /* net: a coupled solve's network tangent, before its expansion */
  PetscScalar    u[AZ_MAX_COMP * AZ_JET_MAX_NSLOT], ud[AZ_MAX_COMP * AZ_JET_MAX_NSLOT], up[AZ_MAX_COMP * AZ_JET_MAX_NSLOT], r[64], rr[64];
  PetscInt       nmax = 1;

  PetscFunctionBegin;
  for (PetscInt si = 0; si < h->nset; si++) nmax = PetscMax(nmax, h->set[si].nloc);
  PetscCall(PetscCalloc2((size_t)PetscMax(nl, 1) * R, &part, R, &sum));
  PetscCall(PetscMalloc2((size_t)nmax * h->LN, &pd, h->moe ? (size_t)nmax * L->LjetN : 0, &net));
  PetscCall(Work(L, &D, &Dp, &Dm));
  for (PetscInt si = 0; si < h->nset; si++) {
    HPSet             *S = &h->set[si];
    const PetscScalar *xa;
    PetscCall(VecGetArrayRead(S->x, &xa));
    for (PetscInt g = L->g0; g < L->g1; g++) { /* group by group, as in AzHPGather */
      PetscInt lo, cnt;
      AzLossGroupItems(L, S->n, g, &lo, &cnt);
      if (cnt) PetscCall(AzFieldJetsTangent(L->field, cnt, (const PetscReal *)xa + lo * L->ncoord, v, h->moe ? net : pd + (size_t)lo * h->LN));
      if (cnt && h->moe) PetscCall(AzHPExpand(L, h, cnt, (const PetscReal *)xa + lo * L->ncoord, net, pd + (size_t)lo * h->LN)); /* χ_e φ̇ */
      if (cnt && L->transform) PetscCall(AzTransformApplyLinearBlocks(L->transform, cnt, (const PetscReal *)xa + lo * L->ncoord, R, pd + (size_t)lo * h->LN)); /* C φ̇ */
    }
    for (PetscInt g = L->g0; g < L->g1; g++) {
      PetscScalar *acc = part + (size_t)(g - L->g0) * R;
      PetscInt     lo, cnt;
      AzLossGroupItems(L, S->n, g, &lo, &cnt);
      for (PetscInt p = lo; p < lo + cnt; p++) {
        const PetscScalar *phi = S->phi + (size_t)p * h->LN, *phid = pd + (size_t)p * h->LN;
        const PetscReal   *x   = (const PetscReal *)xa + p * L->ncoord;
        PetscReal          nu = 0, nv = 0, eps = 0;
        Combine(L->ncomp, K, ns, h->w, phi, u);
        AddLift(Ljet, S->g ? S->g + (size_t)p * Ljet : NULL, u);
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
  AzHPSolveH(L, h, sum, h->wdot);
  for (PetscInt j = 0; j < R; j++) h->wdot[j] = -h->wdot[j];
  PetscCall(PetscFree3(D, Dp, Dm));
  PetscCall(PetscFree2(pd, net));
  PetscCall(PetscFree2(part, sum));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* ∂w/∂θ = −H⁻¹ G, row j of G = ∇θ (Fᵀρ)_j: per point the jet rows of λ = e_j (BackwardPoints' without
 * the sign), through the field's dense Jacobian, summed group by group */
PetscErrorCode AzHPJacobian(AzLoss L, HardPDE *h)
{
  const PetscInt ns = L->nslot, K = h->K, R = h->R, P = L->nparam, LN = L->LjetN, nl = L->g1 - L->g0;
  PetscScalar   *part, *G, *rows, *jac, *D, *Dp, *Dm, *e, *Hi, *xr; /* xr: a coupled solve's rows of one point on χ_e φ */
  PetscScalar    u[AZ_MAX_COMP * AZ_JET_MAX_NSLOT], v[AZ_MAX_COMP * AZ_JET_MAX_NSLOT], gu[AZ_MAX_COMP * AZ_JET_MAX_NSLOT], gv[AZ_MAX_COMP * AZ_JET_MAX_NSLOT];
  const PetscInt cp = PetscMax(1, PetscMin(L->chunk, (PetscInt)(4000000 / ((PetscInt64)R * P + 1))));

  PetscFunctionBegin;
  PetscCall(PetscCalloc2((size_t)PetscMax(nl, 1) * R * P, &part, (size_t)R * P, &G));
  PetscCall(PetscMalloc4((size_t)cp * R * LN, &rows, (size_t)cp * R * P, &jac, R, &e, (size_t)R * R, &Hi));
  PetscCall(Work(L, &D, &Dp, &Dm));
  PetscCall(PetscMalloc1(h->moe ? (size_t)R * h->LN : 0, &xr));
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
          const PetscScalar *phi = S->phi + (size_t)(p0 + p) * h->LN;
          const PetscReal   *x   = (const PetscReal *)xa + (p0 + p) * L->ncoord;
          PetscScalar       *pr  = h->moe ? xr : rows + (size_t)p * R * LN; /* this point's rows on the solve's basis */
          Combine(L->ncomp, K, ns, h->w, phi, u);
          AddLift(L->ncomp * ns, S->g ? S->g + (size_t)(p0 + p) * L->ncomp * ns : NULL, u);
          for (PetscInt j = 0; j < R; j++) {
            PetscScalar *jr = pr + (size_t)j * h->LN;
            for (PetscInt i = 0; i < R; i++) e[i] = i == j;
            Combine(L->ncomp, K, ns, e, phi, v);
            PetscCall(PointRows(L, S, h->linear, x, u, v, D, Dp, Dm, gu, gv));
            for (PetscInt c = 0; c < L->ncomp; c++)
              for (PetscInt k = 0; k < K; k++)
                for (PetscInt s = 0; s < ns; s++) jr[(c * K + k) * ns + s] = h->w[c * K + k] * gu[c * ns + s] + (c * K + k == j ? gv[c * ns + s] : 0);
          }
          if (L->transform) PetscCall(AzTransformAdjointBlocks(L->transform, 1, x, R * R, pr)); /* back through Cᵀ */
          for (PetscInt j = 0; j < R && h->moe; j++) PetscCall(AzHPCollapse(L, h, 1, x, xr + (size_t)j * h->LN, rows + ((size_t)p * R + j) * LN));
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
    AzHPSolveH(L, h, e, Hi + (size_t)j * R);
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
  PetscCall(PetscFree(xr));
  PetscCall(PetscFree2(part, G));
  PetscFunctionReturn(PETSC_SUCCESS);
}

