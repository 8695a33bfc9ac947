/* The PDE residual weighted in time: causal training and time-marching.
 *
 * Causal training (Wang, Sankaran & Perdikaris 2022, "Respecting causality is all you need for
 * training physics-informed neural networks", arXiv 2203.07404): the PDE term's points fall into M
 * time slices of equal length (-az_causal_slices, 32), and
 *     loss_pde = (1/m) Σ_p w_{s(p)} r_p²,   w_i = exp(−ε Σ_{k<i} L_k),   L_k = mean r² over slice k,
 * m the term's rows. The weights are constants of the loss (no gradient flows through them): they are
 * computed at the current θ by AzLossUpdateConstraints, which the trainers call between iterations
 * (Adam and Gauss–Newton before every iteration, L-BFGS at the start of each -az_lbfgs_segment, whose
 * line searches and curvature pairs then see one objective), and are frozen in between. With the
 * paper's equal point counts per slice this is its (1/M) Σ_i w_i L_i; here every row keeps its weight
 * 1/m, so that w ≡ 1 (ε = 0) is the plain loss, bit for bit, whatever the counts. Gauss–Newton sees
 * the rows ρ = √(w_{s(p)} w_pde / m) r_p.
 * ε steps through -az_causal_eps_list (the paper's 1e-2, 1e-1, 1, 10, 100 by default; -az_causal_eps E
 * holds one value): at an update where min_i w_i > δ (-az_causal_delta, 0.99), the next ε is taken.
 * The slice sums are sums over the fixed groups of points (reduce.c), added in group order: the
 * weights, and so training, do not depend on the rank count. */
#include "lossimpl.h"

PetscErrorCode AzCausalOptions(AzLoss L)
{
  PetscReal eps = 0, list[AZ_CAUSAL_MAX_EPS + 1];
  PetscInt  n = AZ_CAUSAL_MAX_EPS + 1;
  PetscBool eps_set, list_set, m_set, d_set;

  PetscFunctionBegin;
  L->causal_m     = 32;
  L->causal_delta = 0.99;
  PetscOptionsBegin(L->comm, L->prefix, "Causal training: the PDE residual weighted by time slice (Wang, Sankaran & Perdikaris 2022)", "AzLoss");
  PetscCall(PetscOptionsBool("-az_causal", "weight the PDE residual's time slices by exp(-eps * (the earlier slices' losses))", "AzLossUpdateConstraints", L->causal, &L->causal, NULL));
  PetscCall(PetscOptionsInt("-az_causal_slices", "time slices of causal training", "AzLossUpdateConstraints", L->causal_m, &L->causal_m, &m_set));
  PetscCall(PetscOptionsReal("-az_causal_eps", "causal training: one fixed eps (instead of -az_causal_eps_list)", "AzLossUpdateConstraints", eps, &eps, &eps_set));
  PetscCall(PetscOptionsRealArray("-az_causal_eps_list", "causal training: eps values in turn, the next when min w > -az_causal_delta (default 1e-2,1e-1,1,10,100)", "AzLossUpdateConstraints", list, &n, &list_set));
  PetscCall(PetscOptionsReal("-az_causal_delta", "causal training: take the next eps when every weight exceeds this", "AzLossUpdateConstraints", L->causal_delta, &L->causal_delta, &d_set));
  PetscOptionsEnd();
  PetscCheck(L->causal || !(m_set || eps_set || list_set || d_set), L->comm, PETSC_ERR_ARG_WRONG, "%s is set but causal training is off: add -az_causal 1", m_set ? "-az_causal_slices" : eps_set ? "-az_causal_eps" : list_set ? "-az_causal_eps_list" : "-az_causal_delta");
  PetscCheck(!(eps_set && list_set), L->comm, PETSC_ERR_ARG_WRONG, "Give either -az_causal_eps (one fixed eps) or -az_causal_eps_list (a schedule), not both");
  PetscCheck(!list_set || n <= AZ_CAUSAL_MAX_EPS, L->comm, PETSC_ERR_ARG_OUTOFRANGE, "-az_causal_eps_list gives more than %d values: at most %d are allowed", AZ_CAUSAL_MAX_EPS, AZ_CAUSAL_MAX_EPS);
  PetscCheck(!list_set || n >= 1, L->comm, PETSC_ERR_ARG_WRONG, "-az_causal_eps_list needs at least one value");
  PetscCheck(L->causal_m >= 1 && L->causal_m <= 100000, L->comm, PETSC_ERR_ARG_OUTOFRANGE, "-az_causal_slices must be between 1 and 100000, not %" PetscInt_FMT, L->causal_m);
  PetscCheck(L->causal_delta > 0 && L->causal_delta <= 1, L->comm, PETSC_ERR_ARG_OUTOFRANGE, "-az_causal_delta must be in (0, 1], not %g", (double)L->causal_delta);
  if (eps_set) {
    L->causal_neps    = 1;
    L->causal_eps[0] = eps;
  } else if (list_set) {
    L->causal_neps = n;
    for (PetscInt k = 0; k < n; k++) L->causal_eps[k] = list[k];
  } else {
    const PetscReal paper[] = {1e-2, 1e-1, 1, 10, 100};
    L->causal_neps          = 5;
    for (PetscInt k = 0; k < 5; k++) L->causal_eps[k] = paper[k];
  }
  for (PetscInt k = 0; k < L->causal_neps; k++) PetscCheck(L->causal_eps[k] >= 0 && !PetscIsInfOrNanReal(L->causal_eps[k]), L->comm, PETSC_ERR_ARG_OUTOFRANGE, "Causal eps %g (-az_causal_eps or -az_causal_eps_list entry %" PetscInt_FMT ") must be finite and non-negative", (double)L->causal_eps[k], k);
  L->causal_k = 0;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* every local point of the PDE term to its slice; the global count of each slice (group sums: exact) */
PetscErrorCode AzCausalSetUp(AzLoss L)
{
  const AzProblemInfo *info;
  const PetscInt       M = L->causal_m;

  PetscFunctionBegin;
  if (!L->causal) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(AzProblemGetInfo(L->prob, &info));
  PetscCheck(info->time_dependent, L->comm, PETSC_ERR_ARG_WRONG, "-az_causal: causal training weights a time-dependent PDE by time slice; problem %s is steady", info->name);
  PetscCall(PetscMalloc3(M, &L->causal_w, M, &L->causal_L, M, &L->causal_count));
  for (PetscInt s = 0; s < M; s++) {
    L->causal_w[s] = 1;
    L->causal_L[s] = 0;
  }
  PetscCall(AzCausalAssign(L));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzCausalAssign(AzLoss L)
{
  const AzProblemInfo *info;
  AzTerm              *t = NULL;
  const PetscInt       M = L->causal_m;
  const PetscScalar   *xa;
  PetscScalar         *part, *count;
  PetscInt             nloc;

  PetscFunctionBegin;
  if (!L->causal) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(AzProblemGetInfo(L->prob, &info));
  for (PetscInt k = 0; k < L->nterms; k++)
    if (L->term[k].cond == AZ_COND_INTERIOR) t = &L->term[k];
  PetscCheck(t, L->comm, PETSC_ERR_PLIB, "-az_causal: no PDE term");
  PetscCall(VecGetLocalSize(t->x, &nloc));
  nloc /= L->ncoord;
  PetscCall(PetscFree(t->cslice));
  PetscCall(PetscMalloc1(PetscMax(nloc, 1), &t->cslice));
  PetscCall(VecGetArrayRead(t->x, &xa));
  for (PetscInt p = 0; p < nloc; p++) {
    const PetscReal tp = PetscRealPart(xa[p * L->ncoord + L->ncoord - 1]);
    PetscInt        s  = (PetscInt)PetscFloorReal((tp - info->t0) / (info->t1 - info->t0) * M);
    t->cslice[p]       = PetscMax(0, PetscMin(s, M - 1));
  }
  PetscCall(VecRestoreArrayRead(t->x, &xa));
  PetscCall(PetscCalloc2((size_t)PetscMax(L->g1 - L->g0, 1) * M, &part, M, &count));
  for (PetscInt g = L->g0; g < L->g1; g++) {
    PetscInt lo, np;
    AzLossGroupItems(L, t->n, g, &lo, &np);
    for (PetscInt p = lo; p < lo + np; p++) part[(size_t)(g - L->g0) * M + t->cslice[p]] += 1;
  }
  PetscCall(AzLossGroupSum(L, M, part, count));
  for (PetscInt s = 0; s < M; s++) L->causal_count[s] = PetscRealPart(count[s]);
  PetscCall(PetscFree2(part, count));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SliceGroup(AzLoss L, PetscInt g, Vec grad, PetscScalar extra[], void *ctx)
{
  PetscFunctionBegin;
  (void)grad;
  PetscCall(AzPointTermSliceSums(L, (AzTerm *)ctx, g, extra));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* w from the slice means L at ε */
static PetscReal Weights(AzLoss L, PetscReal eps)
{
  PetscReal cum = 0;

  for (PetscInt s = 0; s < L->causal_m; s++) {
    L->causal_w[s] = PetscExpReal(-eps * cum);
    cum += L->causal_L[s];
  }
  return L->causal_w[L->causal_m - 1]; /* the smallest: the weights do not increase */
}

PetscErrorCode AzCausalUpdate(AzLoss L)
{
  const PetscInt M = L->causal_m;
  AzTerm        *t = NULL;
  PetscScalar   *sums;
  PetscReal      wmin;

  PetscFunctionBegin;
  if (!L->causal) PetscFunctionReturn(PETSC_SUCCESS);
  for (PetscInt k = 0; k < L->nterms; k++)
    if (L->term[k].cslice) t = &L->term[k];
  PetscCall(PetscMalloc1(M, &sums));
  PetscCall(AzLossReduceGroups(L, SliceGroup, t, M, sums, NULL));
  for (PetscInt s = 0; s < M; s++) L->causal_L[s] = L->causal_count[s] > 0 ? PetscRealPart(sums[s]) / (L->causal_count[s] * t->nres) : 0;
  PetscCall(PetscFree(sums));
  wmin = Weights(L, L->causal_eps[L->causal_k]);
  if (wmin > L->causal_delta && L->causal_k < L->causal_neps - 1) (void)Weights(L, L->causal_eps[++L->causal_k]);
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzCausalDestroy(AzLoss L)
{
  PetscFunctionBegin;
  PetscCall(PetscFree3(L->causal_w, L->causal_L, L->causal_count));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzLossGetCausal(AzLoss L, PetscInt *nslices, const PetscReal *w[], PetscReal *eps)
{
  PetscFunctionBegin;
  PetscCall(AzLossSetUp(L));
  if (nslices) *nslices = L->causal ? L->causal_m : 0;
  if (w) *w = L->causal ? L->causal_w : NULL;
  if (eps) *eps = L->causal ? L->causal_eps[L->causal_k] : (PetscReal)NAN;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Time-marching: window j of K holds the times t <= t0 + (t1 − t0) j/K; a point term's points beyond it
 * weigh 0, those within n/n_in (the term stays the mean over the points that count); j == K: all. The
 * initial slice always counts; conservation-law penalties are not windowed. */
PetscErrorCode AzLossSetTimeWindow(AzLoss L, PetscInt j, PetscInt K)
{
  const AzProblemInfo *info;
  PetscReal            tw;

  PetscFunctionBegin;
  PetscCall(AzLossSetUp(L));
  PetscCall(AzProblemGetInfo(L->prob, &info));
  PetscCheck(K >= 1 && j >= 1 && j <= K, L->comm, PETSC_ERR_ARG_OUTOFRANGE, "Time window %" PetscInt_FMT " of %" PetscInt_FMT ": windows are 1..K", j, K);
  PetscCheck(info->time_dependent || K == 1, L->comm, PETSC_ERR_ARG_WRONG, "-az_time_march: problem %s is steady; time-marching needs a time-dependent problem", info->name);
  PetscCheck(!L->causal || K == 1, L->comm, PETSC_ERR_ARG_WRONG, "-az_time_march does not combine with -az_causal 1: both order training in time; choose one");
  L->win_j = j; /* kept: points added later are weighted by the same window */
  L->win_K = K;
  tw       = info->t0 + (info->t1 - info->t0) * (PetscReal)j / (PetscReal)K;
  for (PetscInt k = 0; k < L->nterms; k++) {
    AzTerm            *t = &L->term[k];
    const PetscScalar *xa;
    PetscInt           nloc, in = 0, nin;
    if (!t->x || t->cond == AZ_COND_INITIAL || !info->time_dependent) continue;
    PetscCall(PetscFree(t->rw));
    if (j == K) continue;
    PetscCall(VecGetLocalSize(t->x, &nloc));
    nloc /= L->ncoord;
    PetscCall(PetscMalloc1(PetscMax(nloc, 1), &t->rw));
    PetscCall(VecGetArrayRead(t->x, &xa));
    for (PetscInt p = 0; p < nloc; p++) {
      t->rw[p] = PetscRealPart(xa[p * L->ncoord + L->ncoord - 1]) <= tw ? 1 : 0;
      in += t->rw[p] > 0;
    }
    PetscCall(VecRestoreArrayRead(t->x, &xa));
    PetscCall(MPIU_Allreduce(&in, &nin, 1, MPIU_INT, MPI_SUM, L->comm));
    for (PetscInt p = 0; p < nloc; p++) t->rw[p] *= nin ? (PetscReal)t->n / (PetscReal)nin : 0;
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}
