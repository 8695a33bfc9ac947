/* -az_conservation probconserv: the ProbConserv update (Hansen et al., ICML 2023) of the trained
 * solution, with the Gauss–Newton Laplace covariance as the prior (laplace.h: AzLossProbConserv).
 *
 * The constraints G u = b: each projected law's quadrature Q_h,l(t) = Σ_j w_j q_l(x_j, u(x_j, t)) on the
 * projection's nodes (the same nodes and densities as posthoc: project.c, laws.c) equals its target
 * M_l(t) at T equally spaced times. Linearised in θ, u(x) ≈ μ(x) + J_u(x) δθ, they read A δθ = −r with
 * A = G J_u (row (t, l): Σ_j qa_jl · ∂u(x_j, t)/∂θ, one adjoint pass through the chain and the network
 * per node) and r = Gμ − b. Conditioning the Laplace posterior θ ~ N(θ*, Σθ) on them
 * (AzLaplaceCondition) gives δθ, and the report's solution becomes μ̃(x) = μ(x) + J_u(x) δθ, a tangent
 * of the network in the direction δθ through the chain's maps before this one: the function-space
 * update μ̃ = μ − ΣGᵀ(σ_c²I + GΣGᵀ)⁻¹(Gμ − b) with Σ = J_u Σθ J_uᵀ, never formed over the points.
 * Training does not see the map (the identity until the update, and for training always).
 *
 * -az_probconserv_mode pertime (the default; joint is the above): ProbConserv's own update, one
 * Bayesian update of u(·, t) per time t with that time's covariance Σ_t = J_u(·,t) Σθ J_u(·,t)ᵀ and
 * that time's laws g_tᵀu(·,t) = b(t) alone: with A(t) = G_t J_u (nl × P) and r(t) = G_t μ_t − b(t),
 *     μ̃(x,t) = μ(x,t) + J_u(x,t) c(t),   c(t) = −Σθ A(t)ᵀ (σ_c² I + A(t) Σθ A(t)ᵀ)⁻¹ r(t),
 * exact at every t (σ_c = 0), not only at sampled times, each time's correction the smallest in Σθ's
 * norm. c(t) is computed at each distinct time the report asks for and cached. Jets: slots without a
 * t-derivative are J_{∂u}(x,t) c(t) exactly (c depends on t only); a slot ∂ₜ∂^α gets J_{∂ₜ∂u} c +
 * J_{∂u} c'(t), c' by a second-order difference of c over h = 1e-4 (t1 − t0); slots with ∂ₜ² or
 * higher are refused (use -az_probconserv_mode joint). Σ̃_t, the rank-nl downdate of Σ_t, gives
 * the field's std (AzProbConservAt, AzLaplaceFieldStd).
 */
#include "lossimpl.h"
#include <ansatz/laplace.h>
#include <petsc/private/petscimpl.h> /* PetscObjectStateGet */
#include <petscblaslapack.h>

/* pertime: c(t), B(t) = L⁻¹A(t)ᵀ and M(t)⁻¹ at the times asked so far */
typedef struct {
  PetscInt     n, cap, P, nl;
  PetscReal   *t;     /* n */
  PetscInt    *order; /* n: entries by increasing t */
  PetscScalar *c;     /* n × P */
  PetscScalar *B;     /* n × P × nl */
  PetscScalar *Mi;    /* n × nl × nl */
  PetscReal   *miss;  /* n: |r(t)| before, max over the laws */
} TimeCache;

typedef struct {
  Vec               dtheta; /* NULL until the update */
  PetscObjectState  state;  /* θ's state at the update */
  AzProbConservInfo info;
  PetscScalar      *dnet, *dsol;
  size_t            cap;
  /* pertime */
  PetscBool    pertime;
  PetscInt     P, stop;
  PetscScalar *Lf; /* a copy of the Laplace factor (the approximation may be destroyed before the report) */
  PetscReal    s2, sig2, h, t0, t1;
  TimeCache    tc;
  PetscScalar *rows, *jac, *A, *r, *jw, *dnet2, *dsol2;
  PetscReal   *xw, *xg, *tp;
  PetscInt    *perm;
  size_t       gcap;
} ProbConserv;

PetscErrorCode AzProbConservOptions(AzLoss L)
{
  PetscFunctionBegin;
  L->pc_sigma = 0;
  L->pc_times = AZ_DRIFT_TIMES;
  PetscOptionsBegin(L->comm, L->prefix, "ProbConserv: the laws' Bayesian update after training (-az_conservation probconserv)", "AzLoss");
  PetscCall(PetscOptionsReal("-az_probconserv_sigma", "standard deviation sigma_c of the constraints G u = b (0: imposed exactly at the times)", "AzLossProbConserv", L->pc_sigma, &L->pc_sigma, NULL));
  {
    const char *modes[] = {"pertime", "joint"};
    PetscInt    mode    = 0;
    PetscCall(PetscOptionsEList("-az_probconserv_mode", "pertime: one update per time (each time's laws, that time's covariance: exact at every t); joint: one shift of theta for the laws at all -az_probconserv_times times", "AzLossProbConserv", modes, 2, modes[0], &mode, NULL));
    L->pc_joint = mode == 1 ? PETSC_TRUE : PETSC_FALSE;
  }
  PetscCall(PetscOptionsInt("-az_probconserv_times", "equally spaced times t0 .. t1 at which the laws are imposed (default: the drift's 101)", "AzLossProbConserv", L->pc_times, &L->pc_times, NULL));
  PetscOptionsEnd();
  PetscCheck(L->pc_sigma >= 0 && !PetscIsInfOrNanReal(L->pc_sigma), L->comm, PETSC_ERR_ARG_OUTOFRANGE, "-az_probconserv_sigma %g must be finite and >= 0 (0: the laws imposed exactly)", (double)L->pc_sigma);
  PetscCheck(L->pc_times >= 1 && L->pc_times <= 100000, L->comm, PETSC_ERR_ARG_OUTOFRANGE, "-az_probconserv_times %" PetscInt_FMT " must be between 1 and 100000", L->pc_times);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* at set-up, before any training: what the update will need */
PetscErrorCode AzProbConservCheck(AzLoss L)
{
  PetscInt maxp, m;

  PetscFunctionBegin;
  if (L->proj_mode != AZ_CONSERVE_PROBCONSERV) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(AzLaplaceMaxParameters(L, &maxp));
  PetscCheck(L->nparam <= maxp, L->comm, PETSC_ERR_ARG_OUTOFRANGE,
             "-az_conservation probconserv needs the Laplace approximation's dense %" PetscInt_FMT " x %" PetscInt_FMT " matrix J^T J + lambda I (%.0f MB) and its Cholesky factorisation: θ has %" PetscInt_FMT " parameters, more than -az_laplace_max_parameters %" PetscInt_FMT ". Use a smaller network (-az_field_width, -az_field_depth), raise the limit if memory and time allow, or use -az_conservation posthoc",
             L->nparam, L->nparam, (double)L->nparam * L->nparam * sizeof(PetscScalar) / 1048576.0, L->nparam, maxp);
  m = L->pc_times * L->proj.nlaw;
  PetscCheck(!L->pc_joint || L->pc_sigma > 0 || m <= L->nparam, L->comm, PETSC_ERR_ARG_OUTOFRANGE,
             "-az_conservation probconserv with -az_probconserv_sigma 0 imposes %" PetscInt_FMT " constraints exactly (%" PetscInt_FMT " times x %" PetscInt_FMT " laws) through %" PetscInt_FMT " parameters: at most %" PetscInt_FMT " can be. Use fewer -az_probconserv_times, a larger network, or -az_probconserv_sigma > 0",
             m, L->pc_times, L->proj.nlaw, L->nparam, L->nparam);
  PetscCheck(L->pc_joint || L->proj.nk <= 2, L->comm, PETSC_ERR_SUP, "-az_probconserv_mode pertime gives the corrected solution's first time derivatives (through c'(t)) but not the second or higher ones that the problem's jets carry; use -az_probconserv_mode joint");
  for (PetscInt i = 0; i < AzChainNumMaps(L->chain); i++) {
    AzChainMap mp = AzChainGetMap(L->chain, i);
    /* the maps before it must be affine in the network's jets, or the tangent is not the update */
    PetscCheck(!mp->keep_input, L->comm, PETSC_ERR_ARG_WRONG, "-az_conservation probconserv does not combine with the chain map %s (not affine in the network)", mp->ops->name);
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscInt MapIndex(AzLoss L)
{
  for (PetscInt i = 0; i < AzChainNumMaps(L->chain); i++)
    if (!strcmp(AzChainGetMap(L->chain, i)->ops->name, "probconserv")) return i;
  return -1;
}

static PetscErrorCode Reserve(ProbConserv *pc, size_t n)
{
  PetscFunctionBegin;
  if (n <= pc->cap) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(PetscFree2(pc->dnet, pc->dsol));
  PetscCall(PetscMalloc2(n, &pc->dnet, n, &pc->dsol));
  pc->cap = n;
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode PerTimeForward(AzChainMap, const AzChainArgs *, PetscScalar[]);

/* the report's solution: + J_u(x) δθ (every jet slot), once the update is in place; training: the identity */
static PetscErrorCode Forward(AzChainMap m, const AzChainArgs *a, const PetscScalar in[], PetscScalar out[])
{
  AzLoss           L  = m->L;
  ProbConserv     *pc = (ProbConserv *)m->data;
  PetscObjectState st;
  const size_t     n = (size_t)PetscMax(a->npts, 1) * PetscMax(L->LjetN, L->ncomp * L->nslot);

  PetscFunctionBegin;
  (void)in; /* in place */
  if (a->training || !pc->dtheta || !a->npts) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(AzLossThetaState(L, &st));
  PetscCheck(st == pc->state, L->comm, PETSC_ERR_ARG_WRONGSTATE, "The probconserv update was made at other parameters than the field's now: make it again (AzLossProbConserv) after changing θ");
  PetscCall(Reserve(pc, n));
  if (pc->pertime) {
    PetscCall(PerTimeForward(m, a, out));
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  PetscCall(AzFieldJetsTangent(L->field, a->npts, a->x, pc->dtheta, pc->dnet));
  PetscCall(AzChainTangent(L->chain, m->index, a, pc->dnet, pc->dsol));
  for (size_t i = 0; i < (size_t)a->npts * L->ncomp * L->nslot; i++) out[i] += pc->dsol[i];
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* δθ is held: the identity on the jets */
static PetscErrorCode Tangent(AzChainMap m, const AzChainArgs *a, const PetscScalar in[], const PetscScalar din[], PetscScalar dout[])
{
  PetscFunctionBegin;
  (void)m, (void)a, (void)in, (void)din, (void)dout;
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode Adjoint(AzChainMap m, const AzChainArgs *a, const PetscScalar in[], PetscInt nrow, const PetscScalar rout[], PetscScalar rin[], PetscScalar side[])
{
  PetscFunctionBegin;
  (void)m, (void)a, (void)in, (void)nrow, (void)rout, (void)rin, (void)side;
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode Destroy(AzChainMap m)
{
  ProbConserv *pc = (ProbConserv *)m->data;

  PetscFunctionBegin;
  PetscCall(VecDestroy(&pc->dtheta));
  PetscCall(PetscFree2(pc->dnet, pc->dsol));
  PetscCall(PetscFree(pc->Lf));
  PetscCall(PetscFree6(pc->tc.t, pc->tc.order, pc->tc.c, pc->tc.B, pc->tc.Mi, pc->tc.miss));
  PetscCall(PetscFree5(pc->rows, pc->jac, pc->A, pc->r, pc->jw));
  PetscCall(PetscFree(pc->xw));
  PetscCall(PetscFree5(pc->xg, pc->tp, pc->perm, pc->dnet2, pc->dsol2));
  PetscCall(PetscFree(m->data));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static const AzChainMapOps ops = {"probconserv", Forward, Tangent, Adjoint, Destroy, NULL, NULL, NULL, NULL};

PetscErrorCode AzChainMapCreate_ProbConserv(AzLoss L, AzChainMap *m)
{
  ProbConserv *pc;

  PetscFunctionBegin;
  *m = NULL;
  if (L->proj_mode != AZ_CONSERVE_PROBCONSERV) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(AzChainMapAllocate(L, &ops, L->ncomp, L->ncomp, m));
  PetscCall(PetscNew(&pc));
  (*m)->data = pc;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* rows of A and entries of r at time t: the solution before this map at the nodes, its quadratures
 * (r_l = Q_h,l − M_l(t)), and A_l = Σ_j qa_jl ∂u(x_j)/∂θ by the chain's adjoint and the network's
 * Jacobian rows, node chunk by node chunk */
static PetscErrorCode RowsAt(AzLoss L, PetscInt stop, PetscReal t, PetscScalar *rows, PetscScalar *jac, PetscScalar A[], PetscScalar r[])
{
  AzProjection  *P = &L->proj;
  const PetscInt nl = P->nlaw, Ljet = L->ncomp * L->nslot, np = L->nparam, chunk = 32;
  AzChainArgs    a  = {P->nq, P->xw, NULL, 0, AzNodesMask(L), PETSC_TRUE, PETSC_FALSE, PETSC_FALSE};

  PetscFunctionBegin;
  AzNodesAt(L, t);
  PetscCall(AzNodesField(L, P->jw));
  PetscCall(AzChainForward(L->chain, stop, &a, P->jw, P->jw));
  for (PetscInt l = 0; l < nl; l++) {
    PetscBool varies;
    PetscReal Mt;
    PetscScalar Q = P->qb[l];
    for (PetscInt j = 0; j < P->nq; j++)
      for (PetscInt c = 0; c < L->ncomp; c++) Q += P->qa[(j * nl + l) * L->ncomp + c] * P->jw[j * Ljet + c * L->nslot];
    PetscCall(AzProblemGetLawTarget(L->prob, P->law[l], t, 1, &varies, &Mt));
    r[l] = Q - (varies ? Mt : P->M[l]);
  }
  PetscCall(PetscArrayzero(rows, (size_t)P->nq * nl * Ljet));
  for (PetscInt j = 0; j < P->nq; j++)
    for (PetscInt l = 0; l < nl; l++)
      for (PetscInt c = 0; c < L->ncomp; c++) rows[((size_t)j * nl + l) * Ljet + c * L->nslot] = P->qa[(j * nl + l) * L->ncomp + c];
  PetscCall(AzChainAdjoint(L->chain, stop, &a, nl, rows, rows, NULL));
  PetscCall(PetscArrayzero(A, (size_t)nl * np));
  for (PetscInt j0 = 0; j0 < P->nq; j0 += chunk) {
    const PetscInt nc = PetscMin(chunk, P->nq - j0);
    PetscCall(PetscArrayzero(jac, (size_t)nc * nl * np));
    PetscCall(AzNodesFieldJacobian(L, j0, nc, nl, rows + (size_t)j0 * nl * Ljet, jac));
    for (PetscInt j = 0; j < nc; j++)
      for (PetscInt i = 0; i < nl * np; i++) A[i] += jac[(size_t)j * nl * np + i];
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* pertime: the cache entry of time t (binary search over the entries by time): *k its index or -1,
 * *pos where it goes in order */
static void CacheFind(const TimeCache *tc, PetscReal t, PetscInt *k, PetscInt *pos)
{
  PetscInt lo = 0, hi = tc->n;
  while (lo < hi) {
    const PetscInt mid = (lo + hi) / 2;
    if (tc->t[tc->order[mid]] < t) lo = mid + 1;
    else hi = mid;
  }
  *pos = lo;
  *k   = lo < tc->n && tc->t[tc->order[lo]] == t ? tc->order[lo] : -1;
}

static PetscErrorCode CacheGrow(TimeCache *tc)
{
  TimeCache      o = *tc;
  const PetscInt P = tc->P, nl = tc->nl, cap = PetscMax(2 * tc->cap, 64);

  PetscFunctionBegin;
  if (tc->n < tc->cap) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(PetscMalloc6(cap, &tc->t, cap, &tc->order, (size_t)cap * P, &tc->c, (size_t)cap * P * nl, &tc->B, (size_t)cap * nl * nl, &tc->Mi, cap, &tc->miss));
  if (o.n) {
    PetscCall(PetscArraycpy(tc->t, o.t, o.n));
    PetscCall(PetscArraycpy(tc->order, o.order, o.n));
    PetscCall(PetscArraycpy(tc->c, o.c, (size_t)o.n * P));
    PetscCall(PetscArraycpy(tc->B, o.B, (size_t)o.n * P * nl));
    PetscCall(PetscArraycpy(tc->Mi, o.Mi, (size_t)o.n * nl * nl));
    PetscCall(PetscArraycpy(tc->miss, o.miss, o.n));
  }
  PetscCall(PetscFree6(o.t, o.order, o.c, o.B, o.Mi, o.miss));
  tc->cap = cap;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* the update at time t (cached): A = G_t J_u and r = G_t μ_t − b(t) (RowsAt, on this map's own node
 * buffers: the caller may be evaluating the projection's nodes), B = L⁻¹Aᵀ, M = σ_c² I + s² BᵀB,
 * c = −s² L⁻ᵀ B M⁻¹ r (Σθ Aᵀ = s² L⁻ᵀ B, A Σθ Aᵀ = s² BᵀB); after = max |r + A c| when asked */
static PetscErrorCode ShiftAt(AzLoss L, ProbConserv *pc, PetscReal t, PetscInt *kout, PetscReal *after)
{
  AzProjection  *P  = &L->proj;
  TimeCache     *tc = &pc->tc;
  const PetscInt np = pc->P, nl = tc->nl;
  PetscInt       k, pos;
  PetscScalar   *B, *Mi, *c, one = 1, z[AZ_MAX_LAWS];
  PetscBLASInt   bP, bl, info, ipiv[AZ_MAX_LAWS], lw = AZ_MAX_LAWS * AZ_MAX_LAWS, inc = 1;
  PetscScalar    work[AZ_MAX_LAWS * AZ_MAX_LAWS];
  PetscReal      mmax = 0, pmin = PETSC_MAX_REAL, miss = 0;
  PetscErrorCode ierr;

  PetscFunctionBegin;
  CacheFind(tc, t, &k, &pos);
  if (k >= 0 && !after) {
    *kout = k;
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  PetscCheck(k < 0, PETSC_COMM_SELF, PETSC_ERR_PLIB, "probconserv: time %g computed twice", (double)t);
  {
    PetscReal   *sx = P->xw;
    PetscScalar *sj = P->jw;
    P->xw = pc->xw;
    P->jw = pc->jw;
    ierr  = RowsAt(L, pc->stop, t, pc->rows, pc->jac, pc->A, pc->r);
    P->xw = sx;
    P->jw = sj;
    PetscCall(ierr);
  }
  PetscCall(CacheGrow(tc));
  k  = tc->n;
  B  = tc->B + (size_t)k * np * nl;
  Mi = tc->Mi + (size_t)k * nl * nl;
  c  = tc->c + (size_t)k * np;
  PetscCall(PetscArraycpy(B, pc->A, (size_t)nl * np)); /* A row-major nl × P = Aᵀ column-major P × nl */
  PetscCall(PetscBLASIntCast(np, &bP));
  PetscCall(PetscBLASIntCast(nl, &bl));
  BLAStrsm_("L", "L", "N", "N", &bP, &bl, &one, pc->Lf, &bP, B, &bP);
  for (PetscInt i = 0; i < nl; i++)
    for (PetscInt j = 0; j < nl; j++) {
      PetscScalar v = 0;
      for (PetscInt q = 0; q < np; q++) v += B[(size_t)i * np + q] * B[(size_t)j * np + q];
      Mi[i * nl + j] = pc->s2 * v + (i == j ? pc->sig2 : 0);
      mmax           = PetscMax(mmax, PetscAbsScalar(Mi[i * nl + j]));
    }
  LAPACKgetrf_(&bl, &bl, Mi, &bl, ipiv, &info);
  PetscCheck(info >= 0, PETSC_COMM_SELF, PETSC_ERR_LIB, "probconserv: LAPACK getrf failed (%d)", (int)info);
  for (PetscInt i = 0; i < nl; i++) pmin = PetscMin(pmin, PetscAbsScalar(Mi[i * nl + i]));
  PetscCheck(info == 0 && pmin > 1e-13 * mmax && mmax > 0, PETSC_COMM_SELF, PETSC_ERR_ARG_WRONG,
             "probconserv: at t = %g the %" PetscInt_FMT " law(s) are not moved by θ or are dependent under the covariance (A Σθ Aᵀ from %g down to pivot %g): give them -az_probconserv_sigma > 0, or use -az_probconserv_mode joint", (double)t, nl, (double)mmax, (double)pmin);
  LAPACKgetri_(&bl, Mi, &bl, ipiv, work, &lw, &info);
  PetscCheck(info == 0, PETSC_COMM_SELF, PETSC_ERR_LIB, "probconserv: LAPACK getri failed (%d)", (int)info);
  for (PetscInt i = 0; i < nl; i++) {
    z[i] = 0;
    for (PetscInt j = 0; j < nl; j++) z[i] += Mi[i * nl + j] * pc->r[j];
    miss = PetscMax(miss, PetscAbsScalar(pc->r[i]));
  }
  for (PetscInt q = 0; q < np; q++) {
    PetscScalar v = 0;
    for (PetscInt i = 0; i < nl; i++) v += B[(size_t)i * np + q] * z[i];
    c[q] = v;
  }
  BLAStrsm_("L", "L", "T", "N", &bP, &inc, &one, pc->Lf, &bP, c, &bP);
  for (PetscInt q = 0; q < np; q++) c[q] *= -pc->s2;
  if (after) {
    *after = 0;
    for (PetscInt i = 0; i < nl; i++) {
      PetscScalar v = pc->r[i];
      for (PetscInt q = 0; q < np; q++) v += pc->A[(size_t)i * np + q] * c[q];
      *after = PetscMax(*after, PetscAbsScalar(v));
    }
  }
  tc->t[k]    = t;
  tc->miss[k] = miss;
  for (PetscInt i = tc->n; i > pos; i--) tc->order[i] = tc->order[i - 1];
  tc->order[pos] = k;
  tc->n++;
  *kout = k;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* c'(t) by a second-order difference of c over h (one-sided at t0 and t1) */
static PetscErrorCode ShiftRateAt(AzLoss L, ProbConserv *pc, PetscReal t, PetscScalar cd[])
{
  const PetscReal h = pc->h;
  PetscReal       tt[3], w[3];
  PetscInt        k[3];

  PetscFunctionBegin;
  if (t - h < pc->t0) {
    tt[0] = t, tt[1] = t + h, tt[2] = t + 2 * h, w[0] = -1.5 / h, w[1] = 2 / h, w[2] = -0.5 / h;
  } else if (t + h > pc->t1) {
    tt[0] = t, tt[1] = t - h, tt[2] = t - 2 * h, w[0] = 1.5 / h, w[1] = -2 / h, w[2] = 0.5 / h;
  } else {
    tt[0] = t - h, tt[1] = t, tt[2] = t + h, w[0] = -0.5 / h, w[1] = 0, w[2] = 0.5 / h;
  }
  for (PetscInt i = 0; i < 3; i++) PetscCall(ShiftAt(L, pc, tt[i], &k[i], NULL));
  for (PetscInt q = 0; q < pc->P; q++) {
    cd[q] = 0;
    for (PetscInt i = 0; i < 3; i++) cd[q] += w[i] * pc->tc.c[(size_t)k[i] * pc->P + q];
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SetDirection(ProbConserv *pc, const PetscScalar c[])
{
  PetscScalar *v;

  PetscFunctionBegin;
  PetscCall(VecGetArray(pc->dtheta, &v));
  PetscCall(PetscArraycpy(v, c, pc->P));
  PetscCall(VecRestoreArray(pc->dtheta, &v));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* the points grouped by time; each group's tangent in the direction c(t) (and c'(t) for ∂ₜ slots) */
static PetscErrorCode PerTimeForward(AzChainMap m, const AzChainArgs *a, PetscScalar out[])
{
  AzLoss         L  = m->L;
  ProbConserv   *pc = (ProbConserv *)m->data;
  AzProjection  *P  = &L->proj;
  const PetscInt npts = a->npts, nc = L->ncoord, tci = nc - 1, ns = L->nslot, Ljet = L->ncomp * ns;
  const size_t   jl = (size_t)PetscMax(L->LjetN, Ljet);
  PetscBool      rate = PETSC_FALSE;
  PetscScalar   *cd = NULL;

  PetscFunctionBegin;
  for (PetscInt q = 0; q < ns; q++) {
    if (!(a->mask & ((PetscInt)1 << q))) continue;
    PetscCheck(P->kof[q] <= 1, PETSC_COMM_SELF, PETSC_ERR_SUP, "-az_probconserv_mode pertime: the jet slot %" PetscInt_FMT " (a second or higher time derivative) of the corrected solution is not available; use -az_probconserv_mode joint", q);
    if (P->kof[q] == 1) rate = PETSC_TRUE;
  }
  if ((size_t)npts > pc->gcap) {
    PetscCall(PetscFree5(pc->xg, pc->tp, pc->perm, pc->dnet2, pc->dsol2));
    PetscCall(PetscMalloc5((size_t)npts * nc, &pc->xg, npts, &pc->tp, npts, &pc->perm, (size_t)npts * jl, &pc->dnet2, (size_t)npts * jl, &pc->dsol2));
    pc->gcap = npts;
  }
  for (PetscInt p = 0; p < npts; p++) {
    pc->tp[p]   = a->x[(size_t)p * nc + tci];
    pc->perm[p] = p;
  }
  PetscCall(PetscSortRealWithPermutation(npts, pc->tp, pc->perm));
  if (rate) PetscCall(PetscMalloc1(pc->P, &cd));
  for (PetscInt i0 = 0, i1; i0 < npts; i0 = i1) {
    const PetscReal t = pc->tp[pc->perm[i0]];
    AzChainArgs     ag;
    PetscInt        k, ng;
    for (i1 = i0 + 1; i1 < npts && pc->tp[pc->perm[i1]] == t; i1++) {}
    ng = i1 - i0;
    for (PetscInt i = 0; i < ng; i++) PetscCall(PetscArraycpy(pc->xg + (size_t)i * nc, a->x + (size_t)pc->perm[i0 + i] * nc, nc));
    ag       = *a;
    ag.npts  = ng;
    ag.x     = pc->xg;
    ag.slice = NULL;
    ag.save  = PETSC_FALSE;
    if (rate) PetscCall(ShiftRateAt(L, pc, t, cd));
    PetscCall(ShiftAt(L, pc, t, &k, NULL));
    PetscCall(SetDirection(pc, pc->tc.c + (size_t)k * pc->P));
    PetscCall(AzFieldJetsTangent(L->field, ng, pc->xg, pc->dtheta, pc->dnet));
    PetscCall(AzChainTangent(L->chain, m->index, &ag, pc->dnet, pc->dsol));
    for (PetscInt i = 0; i < ng; i++)
      for (PetscInt q = 0; q < Ljet; q++) out[(size_t)pc->perm[i0 + i] * Ljet + q] += pc->dsol[(size_t)i * Ljet + q];
    if (rate) { /* ∂ₜ∂^α (J c) = J_{∂ₜ∂^α} c + J_{∂^α} c' */
      PetscCall(SetDirection(pc, cd));
      PetscCall(AzFieldJetsTangent(L->field, ng, pc->xg, pc->dtheta, pc->dnet2));
      PetscCall(AzChainTangent(L->chain, m->index, &ag, pc->dnet2, pc->dsol2));
      for (PetscInt i = 0; i < ng; i++)
        for (PetscInt cc = 0; cc < L->ncomp; cc++)
          for (PetscInt q = 0; q < ns; q++)
            if ((a->mask & ((PetscInt)1 << q)) && P->kof[q] == 1) out[(size_t)pc->perm[i0 + i] * Ljet + cc * ns + q] += pc->dsol2[(size_t)i * Ljet + cc * ns + P->sof[q]];
    }
  }
  PetscCall(PetscFree(cd));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzProbConservAt(AzLoss L, PetscReal t, PetscInt *nl, const PetscScalar **B, const PetscScalar **Minv)
{
  PetscInt     i = MapIndex(L), k;
  ProbConserv *pc;

  PetscFunctionBegin;
  *nl = 0;
  if (i < 0) PetscFunctionReturn(PETSC_SUCCESS);
  pc = (ProbConserv *)AzChainGetMap(L->chain, i)->data;
  if (!pc->pertime || !pc->dtheta) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(ShiftAt(L, pc, t, &k, NULL));
  *nl   = pc->tc.nl;
  *B    = pc->tc.B + (size_t)k * pc->P * pc->tc.nl;
  *Minv = pc->tc.Mi + (size_t)k * pc->tc.nl * pc->tc.nl;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* pertime: a copy of the Laplace factor, the workspaces, and the update at the T times for the info */
static PetscErrorCode PerTimeSetUp(AzLoss L, AzLaplace lap, ProbConserv *pc, PetscInt stop, PetscInt T)
{
  AzProjection        *P = &L->proj;
  const AzProblemInfo *pinfo;
  const PetscScalar   *Lf;
  const PetscInt       nl = P->nlaw, Ljet = L->ncomp * L->nslot, np = L->nparam;
  PetscInt             Pl;
  Vec                  theta;

  PetscFunctionBegin;
  PetscCall(AzProblemGetInfo(L->prob, &pinfo));
  PetscCall(AzLaplaceGetFactor(lap, &Pl, &Lf, &pc->s2));
  PetscCheck(Pl == np, PETSC_COMM_SELF, PETSC_ERR_PLIB, "AzLossProbConserv: the Laplace approximation has %" PetscInt_FMT " parameters, the loss %" PetscInt_FMT, Pl, np);
  pc->P    = np;
  pc->stop = stop;
  pc->sig2 = L->pc_sigma * L->pc_sigma;
  pc->t0   = pinfo->t0;
  pc->t1   = pinfo->t1;
  pc->h    = 1e-4 * (pinfo->t1 - pinfo->t0);
  PetscCall(PetscMalloc1((size_t)np * np, &pc->Lf));
  PetscCall(PetscArraycpy(pc->Lf, Lf, (size_t)np * np));
  PetscCall(PetscMalloc5((size_t)P->nq * nl * Ljet, &pc->rows, (size_t)32 * nl * np, &pc->jac, (size_t)nl * np, &pc->A, nl, &pc->r, (size_t)P->nq * PetscMax(Ljet, L->LjetN), &pc->jw));
  PetscCall(PetscMalloc1((size_t)P->nq * L->ncoord, &pc->xw));
  pc->tc.P  = np;
  pc->tc.nl = nl;
  pc->pertime = PETSC_TRUE;
  PetscCall(AzFieldGetParameters(L->field, &theta));
  PetscCall(VecDuplicate(theta, &pc->dtheta)); /* the direction c(t) of each tangent */
  PetscCall(AzLossThetaState(L, &pc->state));
  pc->info.m            = T * nl;
  pc->info.joint        = PETSC_FALSE;
  pc->info.ntimes       = T;
  pc->info.sigma        = L->pc_sigma;
  pc->info.misfit       = 0;
  pc->info.misfit_after = 0;
  pc->info.dtheta_norm  = 0;
  for (PetscInt k = 0; k < T; k++) {
    const PetscReal t = T == 1 ? pinfo->t1 : pinfo->t0 + (pinfo->t1 - pinfo->t0) * k / (T - 1);
    PetscReal       after, nrm = 0;
    PetscInt        e;
    PetscCall(ShiftAt(L, pc, t, &e, &after));
    for (PetscInt q = 0; q < np; q++) nrm += PetscRealPart(pc->tc.c[(size_t)e * np + q] * pc->tc.c[(size_t)e * np + q]);
    pc->info.misfit       = PetscMax(pc->info.misfit, pc->tc.miss[e]);
    pc->info.misfit_after = PetscMax(pc->info.misfit_after, after);
    pc->info.dtheta_norm  = PetscMax(pc->info.dtheta_norm, PetscSqrtReal(nrm));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzLossProbConserv(AzLoss L, AzLaplace lap, AzProbConservInfo *info)
{
  AzProjection        *P = &L->proj;
  const AzProblemInfo *pinfo;
  AzChainMap           map;
  ProbConserv         *pc;
  PetscInt             stop, T, nl, np, m, ncond;
  PetscMPIInt          rank, size;
  PetscScalar         *A, *r, *rows, *jac, *dth;
  Vec                  theta;

  PetscFunctionBegin;
  PetscCall(AzLossSetUp(L));
  PetscCall(AzProblemGetInfo(L->prob, &pinfo));
  PetscCheck(L->proj_mode == AZ_CONSERVE_PROBCONSERV, L->comm, PETSC_ERR_ARG_WRONGSTATE, "AzLossProbConserv: the loss's laws are not imposed by probconserv (-az_conservation probconserv)");
  stop = MapIndex(L);
  PetscCheck(stop >= 0, L->comm, PETSC_ERR_PLIB, "AzLossProbConserv: no probconserv map in the chain");
  map = AzChainGetMap(L->chain, stop);
  pc  = (ProbConserv *)map->data;
  PetscCheck(!pc->dtheta, L->comm, PETSC_ERR_ARG_WRONGSTATE, "AzLossProbConserv: the update is already in place");
  PetscCall(AzLaplaceGetNumConditions(lap, &ncond));
  PetscCheck(!ncond, L->comm, PETSC_ERR_ARG_WRONGSTATE, "AzLossProbConserv: the Laplace approximation is already conditioned: create it again at the trained θ");
  PetscCall(AzInferSync(L));
  T  = L->pc_times;
  nl = P->nlaw;
  np = L->nparam;
  m  = T * nl;
  PetscCallMPI(MPI_Comm_rank(L->comm, &rank));
  PetscCallMPI(MPI_Comm_size(L->comm, &size));
  if (!L->pc_joint) {
    /* a refusal (a law not moved by θ at some time) leaves no half-made update behind */
    PetscErrorCode ierr;
    PetscCall(PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
    ierr = PerTimeSetUp(L, lap, pc, stop, T);
    PetscCall(PetscPopErrorHandler());
    if (ierr) {
      const char *text;
      char       *specific = NULL;
      PetscCall(PetscErrorMessage(ierr, &text, &specific));
      PetscCall(VecDestroy(&pc->dtheta));
      pc->pertime = PETSC_FALSE;
      SETERRQ(L->comm, ierr, "-az_conservation probconserv: %s", specific && specific[0] ? specific : text);
    }
    if (info) *info = pc->info;
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  /* the times shared out over the ranks, then summed: exact, each row has one rank's values */
  {
    PetscScalar *Aloc, *rloc;
    const PetscInt Ljet = L->ncomp * L->nslot, t0i = (PetscInt)((PetscInt64)T * rank / size), t1i = (PetscInt)((PetscInt64)T * (rank + 1) / size);
    PetscCall(PetscCalloc2((size_t)m * np, &Aloc, m, &rloc));
    PetscCall(PetscMalloc2((size_t)P->nq * nl * Ljet, &rows, (size_t)32 * nl * np, &jac));
    for (PetscInt k = t0i; k < t1i; k++) {
      const PetscReal t = T == 1 ? pinfo->t1 : pinfo->t0 + (pinfo->t1 - pinfo->t0) * k / (T - 1);
      PetscCall(RowsAt(L, stop, t, rows, jac, Aloc + (size_t)k * nl * np, rloc + k * nl));
    }
    PetscCall(PetscFree2(rows, jac));
    PetscCall(PetscMalloc2((size_t)m * np, &A, m, &r));
    PetscCall(MPIU_Allreduce(Aloc, A, (PetscMPIInt)(m * np), MPIU_SCALAR, MPIU_SUM, L->comm));
    PetscCall(MPIU_Allreduce(rloc, r, (PetscMPIInt)m, MPIU_SCALAR, MPIU_SUM, L->comm));
    PetscCall(PetscFree2(Aloc, rloc));
  }
  PetscCall(PetscMalloc1(np, &dth));
  {
    /* a refusal of the conditioning says which options change it */
    PetscErrorCode ierr;
    PetscCall(PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
    ierr = AzLaplaceCondition(lap, m, A, r, L->pc_sigma * L->pc_sigma, dth);
    PetscCall(PetscPopErrorHandler());
    if (ierr) {
      const char *text;
      char       *specific = NULL;
      PetscCall(PetscErrorMessage(ierr, &text, &specific));
      PetscCall(PetscFree(dth));
      PetscCall(PetscFree2(A, r));
      SETERRQ(L->comm, ierr, "-az_conservation probconserv: %s. The %" PetscInt_FMT " constraints are %" PetscInt_FMT " times x %" PetscInt_FMT " laws: use fewer -az_probconserv_times or -az_probconserv_sigma > 0", specific && specific[0] ? specific : text, m, T, nl);
    }
  }
  pc->info.m           = m;
  pc->info.joint       = PETSC_TRUE;
  pc->info.ntimes      = T;
  pc->info.sigma       = L->pc_sigma;
  pc->info.misfit      = 0;
  pc->info.misfit_after = 0;
  pc->info.dtheta_norm = 0;
  for (PetscInt i = 0; i < np; i++) pc->info.dtheta_norm += PetscRealPart(dth[i] * dth[i]);
  pc->info.dtheta_norm = PetscSqrtReal(pc->info.dtheta_norm);
  for (PetscInt k = 0; k < m; k++) {
    PetscScalar after = r[k];
    for (PetscInt i = 0; i < np; i++) after += A[(size_t)k * np + i] * dth[i];
    pc->info.misfit       = PetscMax(pc->info.misfit, PetscAbsScalar(r[k]));
    pc->info.misfit_after = PetscMax(pc->info.misfit_after, PetscAbsScalar(after));
  }
  PetscCall(AzFieldGetParameters(L->field, &theta));
  PetscCall(VecDuplicate(theta, &pc->dtheta));
  {
    PetscScalar *v;
    PetscInt     n;
    PetscCall(VecGetLocalSize(pc->dtheta, &n));
    PetscCheck(n == np, PETSC_COMM_SELF, PETSC_ERR_PLIB, "AzLossProbConserv: θ has %" PetscInt_FMT " local entries, the loss %" PetscInt_FMT, n, np);
    PetscCall(VecGetArray(pc->dtheta, &v));
    PetscCall(PetscArraycpy(v, dth, np));
    PetscCall(VecRestoreArray(pc->dtheta, &v));
  }
  PetscCall(AzLossThetaState(L, &pc->state));
  PetscCall(PetscFree(dth));
  PetscCall(PetscFree2(A, r));
  if (info) *info = pc->info;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzLossGetProbConserv(AzLoss L, PetscBool *on, PetscBool *applied, AzProbConservInfo *info)
{
  PetscInt i;

  PetscFunctionBegin;
  PetscCall(AzLossSetUp(L));
  i = MapIndex(L);
  if (on) *on = i >= 0 ? PETSC_TRUE : PETSC_FALSE;
  if (applied) *applied = i >= 0 && ((ProbConserv *)AzChainGetMap(L->chain, i)->data)->dtheta ? PETSC_TRUE : PETSC_FALSE;
  if (info) {
    PetscCall(PetscMemzero(info, sizeof *info));
    if (i >= 0) *info = ((ProbConserv *)AzChainGetMap(L->chain, i)->data)->info;
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}
