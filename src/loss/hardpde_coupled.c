/* The partition of unity of a mixture of experts of the solved output layer (χ_e and the product
 * rule of its jets, AzHPChi and AzHPProductTable, for the map's blend in map_hardpde.c), and the
 * coupled solve of the mixture (-az_moe_solve coupled).
 *
 * Independent experts (the default) each solve their own w_e from their own points, and the blend
 * u = Σ_e χ_e u_e then leaves a residual where χ changes (χ'' (u_e − u_e'), χ' ∂(u_e − u_e')) that no
 * expert's solve sees. The coupled solve finds all the experts' weights W = (w_1 .. w_E) in ONE
 * least-squares (Gauss–Newton for a nonlinear PDE) solve, with the residual of the blended field
 *     u = g + C Σ_e χ_e Σ_{c,k} w_{e,c,k} φ_{c,k}
 * at the constraint points of the global solve (one expert on the whole box: -az_hardpde_points
 * interior points, the non-hard faces, the initial slice). That is the global solve with the E·R basis
 * functions ψ_{c,e,k} = χ_e φ_{c,k}: their jets are the partition of unity's product rule on φ's jets
 * (the map's Blend, per basis function), the transform's C then acts on them as on any basis, and the
 * derivatives through the solve go back to the network's R basis jets through Cᵀ and Σ_e (χ_e ⊙)ᵀ.
 * χ does not depend on θ, so the derivatives stay exact. hardpde_solve.c does the rest unchanged: its
 * HardPDE has R' = E·R unknowns, K' = E·K per component, and a hook (HardPDE.moe) where the network's
 * jets enter (AzHPExpand) and leave (AzHPCollapse).
 *
 * The basis is ordered (c, e, k), index (c E + e) K + k, so that Combine's w[c K' + k'] pairs with basis
 * c K' + k'; the map's side inputs are ordered (e, c, k), index e R + c K + k, as the independent
 * experts': the two differ for more than one component, and W is permuted between them here.
 *
 * Since Σ_e χ_e = 1, W = (w, .., w) reproduces the global solution: the coupled objective's minimum is
 * at most the global one at the same θ. The experts are no longer independent (one solve, on one owner
 * rank, as the global solve): the coupling trades the experts' independence for the blend's accuracy. */
#include "hardpde.h"

/* ---- the partition of unity (the map's blend, map_hardpde.c, and the coupled basis) ---------------- */
/* along each active axis j (axis act[j]) χ_{d,i_d} and its derivatives at x_d: f[j][0..4] */
void AzHPChi(const HPMap *M, PetscInt e, const PetscReal x[], PetscReal f[][5])
{
  for (PetscInt j = 0; j < M->nact; j++) {
    const PetscInt d = M->act[j], i = (e / M->stride[d]) % M->n[d];
    PetscReal      lo[5] = {1, 0, 0, 0, 0}, hi[5] = {0, 0, 0, 0, 0};
    for (int side = 0; side < 2; side++) {
      PetscReal     *g = side ? hi : lo;
      const PetscInt c = side ? i + 1 : i;
      PetscReal      z, sg, s1, s2, s3, s4, it;
      if ((side == 0 && i == 0) || (side == 1 && i == M->n[d] - 1)) continue;
      it   = 1 / M->tau[d][c];
      z    = (x[d] - M->cut[d][c]) * it;
      sg   = 1 / (1 + PetscExpReal(-z));
      s1   = sg * (1 - sg);
      s2   = s1 * (1 - 2 * sg);
      s3   = s2 * (1 - 2 * sg) - 2 * s1 * s1;
      s4   = s3 * (1 - 2 * sg) - 6 * s1 * s2;
      g[0] = sg;
      g[1] = s1 * it;
      g[2] = s2 * it * it;
      g[3] = s3 * it * it * it;
      g[4] = s4 * it * it * it * it;
    }
    for (int k = 0; k < 5; k++) f[j][k] = lo[k] - hi[k];
  }
}

/* the product table of a jet with a function of x_0: slot σ = ∂^α, (χv)_α = Σ_k C(α_0, k) χ^(k) v_(α − k e_0) */
PetscErrorCode AzHPProductTable(AzLoss L, HPMap *M)
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
    PetscInt        nb = 1, beta[AZ_MAX_COORD];
    for (PetscInt j = 0; j < M->nact; j++) nb *= alpha[s][M->act[j]] + 1;
    PetscCheck(nb <= 5, L->comm, PETSC_ERR_PLIB, "-az_moe_grid: %" PetscInt_FMT " product-rule terms for jet slot %" PetscInt_FMT ", at most 5", nb, s);
    M->nprod[s] = 0;
    for (PetscInt q = 0; q < nb; q++) { /* β ≤ α along the active axes, the first fastest */
      PetscInt  t = -1, r = q;
      PetscReal coef = 1;
      for (PetscInt d = 0; d < n; d++) beta[d] = 0;
      for (PetscInt j = 0; j < M->nact; j++) {
        const PetscInt d = M->act[j];
        beta[d] = r % (alpha[s][d] + 1);
        r /= alpha[s][d] + 1;
        coef *= binom[alpha[s][d]][beta[d]];
      }
      for (PetscInt u = 0; u < ns && t < 0; u++) {
        PetscBool same = PETSC_TRUE;
        for (PetscInt d = 0; d < n; d++) same = same && alpha[u][d] == alpha[s][d] - beta[d];
        if (same) t = u;
      }
      PetscCheck(t >= 0 && (!((L->mask >> s) & 1) || ((L->mask >> t) & 1)), L->comm, PETSC_ERR_SUP, "-az_moe_experts: the blend of the experts needs jet slot %" PetscInt_FMT " for slot %" PetscInt_FMT ", which the problem's jets do not carry", t, s);
      for (PetscInt j = 0; j < M->nact; j++) M->pb[s][M->nprod[s]][j] = beta[M->act[j]];
      M->pslot[s][M->nprod[s]] = t;
      M->pcoef[s][M->nprod[s]] = coef;
      M->nprod[s]++;
    }
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* ---- the coupled solve ----------------------------------------------------------------------------- */
/* the product rule's coefficients of χ_e at a point: cf[s][t] = coef_t ∂^β_t χ_e (the slots carried),
 * f0 = χ_e (the others) */
static void Coefs(AzLoss L, const HPMap *M, PetscReal f[][5], PetscReal cf[][5], PetscReal *f0)
{
  const PetscInt zero[AZ_MAX_COORD] = {0};

  *f0 = ChiD(M, f, zero);
  for (PetscInt s = 0; s < L->nslot; s++)
    if ((L->mask >> s) & 1)
      for (PetscInt t = 0; t < M->nprod[s]; t++) cf[s][t] = M->pcoef[s][t] * ChiD(M, f, M->pb[s][t]);
}

PetscErrorCode AzHPExpand(AzLoss L, const HardPDE *h, PetscInt np, const PetscReal x[], const PetscScalar in[], PetscScalar out[])
{
  const HPMap   *M = (const HPMap *)h->moe;
  const PetscInt E = M->E, K = h->K / E, ns = L->nslot;

  PetscFunctionBegin;
  for (PetscInt p = 0; p < np; p++) {
    const PetscScalar *ip = in + (size_t)p * L->LjetN;
    PetscScalar       *op = out + (size_t)p * h->LN;
    for (PetscInt e = 0; e < E; e++) {
      PetscReal f[AZ_MAX_COORD][5], cf[AZ_JET_MAX_NSLOT][5], f0;
      AzHPChi(M, e, x + p * L->ncoord, f);
      Coefs(L, M, f, cf, &f0);
      for (PetscInt c = 0; c < L->ncomp; c++)
        for (PetscInt k = 0; k < K; k++) {
          const PetscScalar *v = ip + (c * K + k) * ns;
          PetscScalar       *o = op + ((c * E + e) * K + k) * ns;
          for (PetscInt s = 0; s < ns; s++) {
            PetscScalar y = 0;
            if ((L->mask >> s) & 1)
              for (PetscInt t = 0; t < M->nprod[s]; t++) y += cf[s][t] * v[M->pslot[s][t]];
            else y = f0 * v[s];
            o[s] = y;
          }
        }
    }
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzHPCollapse(AzLoss L, const HardPDE *h, PetscInt np, const PetscReal x[], const PetscScalar in[], PetscScalar out[])
{
  const HPMap   *M = (const HPMap *)h->moe;
  const PetscInt E = M->E, K = h->K / E, ns = L->nslot;

  PetscFunctionBegin;
  for (PetscInt p = 0; p < np; p++) {
    const PetscScalar *ip = in + (size_t)p * h->LN;
    PetscScalar       *op = out + (size_t)p * L->LjetN;
    for (PetscInt q = 0; q < L->LjetN; q++) op[q] = 0;
    for (PetscInt e = 0; e < E; e++) {
      PetscReal f[AZ_MAX_COORD][5], cf[AZ_JET_MAX_NSLOT][5], f0;
      AzHPChi(M, e, x + p * L->ncoord, f);
      Coefs(L, M, f, cf, &f0);
      for (PetscInt c = 0; c < L->ncomp; c++)
        for (PetscInt k = 0; k < K; k++) {
          const PetscScalar *ub = ip + ((c * E + e) * K + k) * ns;
          PetscScalar       *vb = op + (c * K + k) * ns;
          for (PetscInt s = 0; s < ns; s++)
            if ((L->mask >> s) & 1)
              for (PetscInt t = 0; t < M->nprod[s]; t++) vb[M->pslot[s][t]] += cf[s][t] * ub[s];
        }
    }
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* the map's order (e, c, k) from the coupled solve's (c, e, k), n values per weight (toside), or back */
static void Permute(const HPMap *M, const PetscScalar a[], PetscScalar b[], size_t n, PetscBool toside)
{
  const PetscInt E = M->E, K = M->ex[0].K, nc = M->ex[0].R / K;

  for (PetscInt e = 0; e < E; e++)
    for (PetscInt c = 0; c < nc; c++)
      for (PetscInt k = 0; k < K; k++) {
        const size_t is = (size_t)(e * nc * K + c * K + k) * n, ic = (size_t)((c * E + e) * K + k) * n;
        for (size_t q = 0; q < n; q++) {
          if (toside) b[is + q] = a[ic + q];
          else b[ic + q] = a[is + q];
        }
      }
}

/* the coupled solve's own weights, steps and Jacobian (in its order); its sets: ExpertSetUp(-1) */
PetscErrorCode AzHPCoupledSetUp(AzLoss L, HPMap *M)
{
  const PetscInt n = M->E * L->hardpde_K * L->ncomp;
  HardPDE       *h = &M->cp;

  PetscFunctionBegin;
  h->moe = M;
  PetscCall(PetscCalloc4(n, &h->w, n, &h->wbar, n, &h->wdot, (size_t)n * L->nparam, &h->wjac));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* the basis χ_e φ at the global solve's points gathered on the owner, the solve there, W to every rank */
PetscErrorCode AzHPCoupledUpdate(AzLoss L, HPMap *M, PetscScalar side[])
{
  PetscFunctionBegin;
  PetscCall(AzHPGather(L, &M->cp));
  if (M->cp.mine) PetscCall(AzHPSolve(L, &M->cp));
  PetscCall(AzHPShare(L, &M->cp, 1));
  Permute(M, M->cp.w, side, 1, PETSC_TRUE);
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzHPCoupledBackward(AzLoss L, HPMap *M, const PetscScalar side_bar[], PetscInt g, Vec grad)
{
  PetscFunctionBegin;
  Permute(M, side_bar, M->cp.wbar, 1, PETSC_FALSE);
  PetscCall(AzHPBackward(L, &M->cp, g, grad));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzHPCoupledTangent(AzLoss L, HPMap *M, Vec v, PetscScalar side_dot[])
{
  PetscFunctionBegin;
  PetscCall(AzHPTangent(L, &M->cp, v));
  Permute(M, M->cp.wdot, side_dot, 1, PETSC_TRUE);
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzHPCoupledJacobian(AzLoss L, HPMap *M, PetscScalar side_jac[])
{
  PetscFunctionBegin;
  PetscCall(AzHPJacobian(L, &M->cp));
  Permute(M, M->cp.wjac, side_jac, (size_t)L->nparam, PETSC_TRUE);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* the coupled solve's objective and its gradient at W given in the map's order (collective) */
PetscErrorCode AzHPCoupledObjective(AzLoss L, HPMap *M, const PetscScalar w[], PetscReal *obj, PetscScalar grad[])
{
  const PetscInt n = M->cp.R;
  PetscScalar   *wc, *gc;

  PetscFunctionBegin;
  PetscCall(PetscMalloc2(n, &wc, n, &gc));
  Permute(M, w, wc, 1, PETSC_FALSE);
  PetscCall(AzHPObjective(L, &M->cp, wc, obj, grad ? gc : NULL));
  if (grad) Permute(M, gc, grad, 1, PETSC_TRUE);
  PetscCall(PetscFree2(wc, gc));
  PetscFunctionReturn(PETSC_SUCCESS);
}
