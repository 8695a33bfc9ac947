/* Resampling of the PDE's collocation set during training (-az_resample; AzResampleType in loss.h).
 *
 * RAR-D and RAD (Wu, Zhu, Tan, Kartha & Lu 2023, "A comprehensive study of non-adaptive and
 * residual-based adaptive sampling for physics-informed neural networks", CMAME 403, 115671): a pool
 * S of fresh uniform points, ε = |r|₂ at each, and the density
 *     p(x) ∝ ε(x)^k / E_S[ε^k] + c;
 * RAR-D adds m points drawn from S by p without replacement (the set grows), RAD replaces the set by
 * as many. The paper's code draws from a pool of 100 000 points with numpy's choice without
 * replacement; here the draw is Efraimidis & Spirakis's (2006): the m largest keys log(u_i)/p_i,
 * u_i a counter-based uniform of (seed, iteration, pool index), the same distribution as sequential
 * draws without replacement and a pure function of the values, so every rank makes it alike.
 * R3 (Daw, Bu, Wang, Perdikaris & Karpatne 2023, "Mitigating propagation failures in physics-informed
 * neural networks using retain-resample-release (R3) sampling", ICML): the points with ε above the
 * set's mean ε are retained, the rest released, and as many fresh uniform points take their place.
 *
 * Rank independence: the pool and the fresh points come from the sampler (a point is a function of
 * its seed, here mixed with the iteration, and its global index), laid out by the loss's fixed
 * groups; ε is evaluated chunk by chunk from each group's first point (the loss's own order) and
 * gathered in global index order; the mean, the density and the selection are computed from the
 * gathered values on every rank. The new set is [the kept points in their order, the new points in
 * pool order], laid out by groups again: 1 or 4 ranks hold the same set, bit for bit.
 *
 * What depends on the points is refreshed: the PDE term (and the positivity penalty, which shares its
 * points) gets the new set and count (the term stays the mean over its points), their Gauss–Newton
 * linearisations are dropped, causal slices are reassigned and the time window reapplied. Optimisers
 * see a new objective: L-BFGS resamples only at the start of a segment (its memory starts afresh). */
#include "lossimpl.h"

const char *const AzResampleTypes[] = {"none", "rard", "rad", "r3", "AzResampleType", "AZ_RESAMPLE_", NULL};

PetscErrorCode AzResampleOptions(AzLoss L)
{
  PetscBool every_set, pool_set, add_set, max_set, k_set, c_set;

  PetscFunctionBegin;
  L->rs_every = 100;
  L->rs_pool  = PetscMax(10 * L->n_interior, 1000);
  L->rs_add   = PetscMax(1, L->n_interior / 100);
  L->rs_max   = 2 * L->n_interior;
  L->rs_k     = 2;
  L->rs_c     = 0;
  PetscOptionsBegin(L->comm, L->prefix, "Resampling of the PDE's collocation set during training", "AzLoss");
  PetscCall(PetscOptionsEnum("-az_resample", "resample the PDE's collocation set every -az_resample_every iterations: none, rard (add points drawn by the residual, Wu et al. 2023), rad (replace the set by points drawn by the residual), r3 (retain the points above the mean residual, replace the others by uniform ones, Daw et al. 2023)", "AzLossUpdateConstraints", AzResampleTypes, (PetscEnum)L->resample, (PetscEnum *)&L->resample, NULL));
  if (L->resample == AZ_RESAMPLE_RAD) L->rs_k = L->rs_c = 1; /* the paper's default for RAD */
  PetscCall(PetscOptionsInt("-az_resample_every", "iterations between resampling rounds", "AzLossUpdateConstraints", L->rs_every, &L->rs_every, &every_set));
  PetscCall(PetscOptionsInt("-az_resample_pool", "rard, rad: candidate points per round (default 10 x -az_n_interior, at least 1000)", "AzLossUpdateConstraints", L->rs_pool, &L->rs_pool, &pool_set));
  PetscCall(PetscOptionsInt("-az_resample_add", "rard: points added per round (default -az_n_interior/100)", "AzLossUpdateConstraints", L->rs_add, &L->rs_add, &add_set));
  PetscCall(PetscOptionsInt("-az_resample_max", "rard: the most points the set grows to (default 2 x -az_n_interior)", "AzLossUpdateConstraints", L->rs_max, &L->rs_max, &max_set));
  PetscCall(PetscOptionsReal("-az_resample_k", "rard, rad: the density is |r|^k/mean(|r|^k) + c (default k = 2 for rard, 1 for rad)", "AzLossUpdateConstraints", L->rs_k, &L->rs_k, &k_set));
  PetscCall(PetscOptionsReal("-az_resample_c", "rard, rad: the density's constant c (default 0 for rard, 1 for rad)", "AzLossUpdateConstraints", L->rs_c, &L->rs_c, &c_set));
  PetscOptionsEnd();
  {
    const char *given = every_set ? "-az_resample_every" : pool_set ? "-az_resample_pool" : add_set ? "-az_resample_add" : max_set ? "-az_resample_max" : k_set ? "-az_resample_k" : c_set ? "-az_resample_c" : NULL;
    PetscCheck(L->resample != AZ_RESAMPLE_NONE || !given, L->comm, PETSC_ERR_ARG_WRONG, "%s is set but resampling is off: add -az_resample rard, rad or r3", given);
  }
  PetscCheck(L->resample != AZ_RESAMPLE_R3 || !(pool_set || add_set || max_set || k_set || c_set), L->comm, PETSC_ERR_ARG_WRONG, "%s does not apply to -az_resample r3 (it keeps the points above the mean residual and replaces the others by uniform points): only -az_resample_every does", pool_set ? "-az_resample_pool" : add_set ? "-az_resample_add" : max_set ? "-az_resample_max" : k_set ? "-az_resample_k" : "-az_resample_c");
  PetscCheck(L->resample != AZ_RESAMPLE_RAD || !(add_set || max_set), L->comm, PETSC_ERR_ARG_WRONG, "%s does not apply to -az_resample rad (it replaces the whole set, whose size stays -az_n_interior): use -az_resample rard to add points", add_set ? "-az_resample_add" : "-az_resample_max");
  if (L->resample == AZ_RESAMPLE_NONE) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCheck(L->rs_every >= 1 && L->rs_every <= 1000000000, L->comm, PETSC_ERR_ARG_OUTOFRANGE, "-az_resample_every must be between 1 and 1000000000 iterations, not %" PetscInt_FMT, L->rs_every);
  PetscCheck(L->rs_pool >= 1 && L->rs_pool <= 10000000, L->comm, PETSC_ERR_ARG_OUTOFRANGE, "-az_resample_pool must be between 1 and 10000000 points, not %" PetscInt_FMT, L->rs_pool);
  PetscCheck(L->resample != AZ_RESAMPLE_RAD || L->rs_pool >= L->n_interior, L->comm, PETSC_ERR_ARG_OUTOFRANGE, "-az_resample rad draws the whole set (-az_n_interior %" PetscInt_FMT ") from the pool without replacement: -az_resample_pool %" PetscInt_FMT " must be at least that", L->n_interior, L->rs_pool);
  PetscCheck(L->rs_add >= 1 && L->rs_add <= L->rs_pool, L->comm, PETSC_ERR_ARG_OUTOFRANGE, "-az_resample_add must be between 1 and the pool's size (-az_resample_pool %" PetscInt_FMT "), not %" PetscInt_FMT, L->rs_pool, L->rs_add);
  PetscCheck(L->rs_max >= L->n_interior && L->rs_max <= 100000000, L->comm, PETSC_ERR_ARG_OUTOFRANGE, "-az_resample_max must be between -az_n_interior (%" PetscInt_FMT ") and 100000000, not %" PetscInt_FMT, L->n_interior, L->rs_max);
  PetscCheck(!PetscIsInfOrNanReal(L->rs_k) && L->rs_k >= 0 && L->rs_k <= 10, L->comm, PETSC_ERR_ARG_OUTOFRANGE, "-az_resample_k must be in [0, 10], not %g", (double)L->rs_k);
  PetscCheck(!PetscIsInfOrNanReal(L->rs_c) && L->rs_c >= 0, L->comm, PETSC_ERR_ARG_OUTOFRANGE, "-az_resample_c must be finite and non-negative, not %g", (double)L->rs_c);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* after set-up: the combinations whose structures are fixed at set-up are refused */
PetscErrorCode AzResampleCheck(AzLoss L)
{
  AzTerm *t = NULL;

  PetscFunctionBegin;
  L->rs_next  = L->rs_every;
  L->rs_total = 0;
  if (L->resample == AZ_RESAMPLE_NONE) PetscFunctionReturn(PETSC_SUCCESS);
  for (PetscInt k = 0; k < L->nterms; k++) {
    if (L->term[k].cond == AZ_COND_INTERIOR) t = &L->term[k];
    PetscCheck(!L->term[k].group && AzChainSideSize(L->chain) == 0, L->comm, PETSC_ERR_ARG_WRONG, "-az_resample %s does not combine with -az_conservation project or a conservation-law penalty (their time slices are fixed at set-up): use -az_resample none, or -az_conservation none or posthoc", AzResampleTypes[L->resample]);
  }
  PetscCheck(t, L->comm, PETSC_ERR_ARG_WRONG, "-az_resample %s: the problem has no PDE residual term to resample", AzResampleTypes[L->resample]);
  PetscCheck(L->resample != AZ_RESAMPLE_RAD || L->rs_pool >= t->n, L->comm, PETSC_ERR_ARG_OUTOFRANGE, "-az_resample rad draws the whole set (%" PetscInt_FMT " points: -az_sampler grid rounds -az_n_interior to a perfect power) from the pool without replacement: -az_resample_pool %" PetscInt_FMT " must be at least that", t->n, L->rs_pool);
  for (PetscInt k = 0; k < L->nterms; k++)
    PetscCheck(L->term[k].x != t->x || !L->term[k].lambda, L->comm, PETSC_ERR_ARG_WRONG, "-az_resample %s does not combine with -az_positivity auglag or -az_bounds auglag (their multipliers belong to the points): use soft or hard", AzResampleTypes[L->resample]);
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzResampleDensity(PetscInt n, const PetscReal eps[], PetscReal k, PetscReal c, PetscReal p[])
{
  PetscReal mean = 0, sum = 0;

  PetscFunctionBegin;
  PetscCheck(n >= 1, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "The resampling density needs at least one point, not %" PetscInt_FMT, n);
  for (PetscInt i = 0; i < n; i++) {
    PetscCheck(!PetscIsInfOrNanReal(eps[i]) && eps[i] >= 0, PETSC_COMM_SELF, PETSC_ERR_FP, "Residual norm %g at pool point %" PetscInt_FMT ": the resampling density needs finite non-negative values", (double)eps[i], i);
    p[i] = PetscPowReal(eps[i], k);
    mean += p[i];
  }
  mean /= n;
  for (PetscInt i = 0; i < n; i++) {
    p[i] = (mean > 0 ? p[i] / mean : 1) + c;
    sum += p[i];
  }
  for (PetscInt i = 0; i < n; i++) p[i] /= sum;
  PetscFunctionReturn(PETSC_SUCCESS);
}

typedef struct {
  PetscReal key;
  PetscInt  i;
} Keyed;

static int ByKey(const void *a, const void *b)
{
  const Keyed *x = (const Keyed *)a, *y = (const Keyed *)b;
  if (x->key != y->key) return x->key > y->key ? -1 : 1; /* the largest first */
  return x->i < y->i ? -1 : (x->i > y->i); /* ties: the smaller index */
}

static int ByIndex(const void *a, const void *b)
{
  const PetscInt x = *(const PetscInt *)a, y = *(const PetscInt *)b;
  return x < y ? -1 : (x > y);
}

PetscErrorCode AzResampleSelect(PetscInt n, const PetscReal p[], PetscInt m, PetscInt64 seed, PetscInt64 round, PetscInt idx[])
{
  Keyed *k;

  PetscFunctionBegin;
  PetscCheck(m >= 0 && m <= n, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "Cannot draw %" PetscInt_FMT " distinct points from %" PetscInt_FMT, m, n);
  PetscCall(PetscMalloc1(PetscMax(n, 1), &k));
  for (PetscInt i = 0; i < n; i++) {
    k[i].i   = i;
    k[i].key = p[i] > 0 ? PetscLogReal(AzSampleHash(seed, round, i)) / p[i] : -PETSC_INFINITY;
  }
  qsort(k, (size_t)n, sizeof *k, ByKey);
  for (PetscInt j = 0; j < m; j++) idx[j] = k[j].i;
  qsort(idx, (size_t)m, sizeof *idx, ByIndex);
  PetscCall(PetscFree(k));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* the coordinates of every point of x on every rank, in global order */
static PetscErrorCode GatherPoints(Vec x, PetscReal **all)
{
  Vec                seq;
  VecScatter         sc;
  const PetscScalar *a;
  PetscInt           N;

  PetscFunctionBegin;
  PetscCall(VecScatterCreateToAll(x, &sc, &seq));
  PetscCall(VecScatterBegin(sc, x, seq, INSERT_VALUES, SCATTER_FORWARD));
  PetscCall(VecScatterEnd(sc, x, seq, INSERT_VALUES, SCATTER_FORWARD));
  PetscCall(VecGetSize(seq, &N));
  PetscCall(PetscMalloc1(PetscMax(N, 1), all));
  PetscCall(VecGetArrayRead(seq, &a));
  for (PetscInt i = 0; i < N; i++) (*all)[i] = PetscRealPart(a[i]);
  PetscCall(VecRestoreArrayRead(seq, &a));
  PetscCall(VecScatterDestroy(&sc));
  PetscCall(VecDestroy(&seq));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* ε at the n points of x (laid out by groups), on every rank in global order; *finite: all finite */
static PetscErrorCode GatherNorms(AzLoss L, AzTerm *t, Vec x, PetscInt n, PetscReal eps[], PetscBool *finite)
{
  PetscReal  *loc;
  PetscInt    nloc;
  PetscMPIInt size, mine, *counts, *displs;
  int         bad = 0;

  PetscFunctionBegin;
  PetscCall(VecGetLocalSize(x, &nloc));
  nloc /= L->ncoord;
  PetscCall(PetscMalloc1(PetscMax(nloc, 1), &loc));
  PetscCall(AzPointTermResidualNorms(L, t, x, n, loc));
  PetscCallMPI(MPI_Comm_size(L->comm, &size));
  PetscCall(PetscMalloc2(size, &counts, size, &displs));
  PetscCall(PetscMPIIntCast(nloc, &mine));
  PetscCallMPI(MPI_Allgather(&mine, 1, MPI_INT, counts, 1, MPI_INT, L->comm));
  displs[0] = 0;
  for (PetscMPIInt r = 1; r < size; r++) displs[r] = displs[r - 1] + counts[r - 1];
  PetscCallMPI(MPI_Allgatherv(loc, mine, MPIU_REAL, eps, counts, displs, MPIU_REAL, L->comm));
  PetscCall(PetscFree2(counts, displs));
  PetscCall(PetscFree(loc));
  for (PetscInt i = 0; i < n; i++)
    if (PetscIsInfOrNanReal(eps[i])) bad = 1;
  *finite = bad ? PETSC_FALSE : PETSC_TRUE;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* n fresh uniform points of the interior from the stream (seed, it, tag), times snapped to the slices */
static PetscErrorCode FreshPoints(AzLoss L, PetscInt it, PetscInt tag, PetscInt n, Vec *x)
{
  PetscFunctionBegin;
  PetscCall(AzSampleConditionLocal(L->comm, L->prob, AZ_COND_INTERIOR, AZ_SAMPLE_UNIFORM, n, AzLossGroupsLocalSize(L, n), AzSampleSeed(L->seed, it, tag), x));
  PetscCall(AzLossSnapTimes(L, *x));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode DropLinearisation(AzTerm *t)
{
  PetscFunctionBegin;
  PetscCall(PetscFree3(t->lin_rho, t->lin_D, t->lin_jet));
  PetscCall(PetscFree(t->lin_w));
  PetscCall(PetscFree(t->lin_E));
  PetscCall(PetscFree(t->lin_P));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* the PDE term's (and whoever shares its points) new set: n points, all[] their coordinates in order */
static PetscErrorCode Replace(AzLoss L, AzTerm *t, PetscInt n, const PetscReal all[])
{
  Vec          x, old = t->x;
  PetscScalar *a;
  PetscInt     start, end;

  PetscFunctionBegin;
  PetscCall(VecCreate(L->comm, &x));
  PetscCall(VecSetBlockSize(x, L->ncoord));
  PetscCall(VecSetSizes(x, AzLossGroupsLocalSize(L, n) * L->ncoord, n * L->ncoord));
  PetscCall(VecSetFromOptions(x));
  PetscCall(VecGetOwnershipRange(x, &start, &end));
  PetscCall(VecGetArray(x, &a));
  for (PetscInt i = start; i < end; i++) a[i - start] = all[i];
  PetscCall(VecRestoreArray(x, &a));
  for (PetscInt k = 0; k < L->nterms; k++) {
    AzTerm *s = &L->term[k];
    if (s->x != old) continue;
    PetscCall(PetscObjectReference((PetscObject)x));
    PetscCall(VecDestroy(&s->x)); /* old stays alive until the last term lets go of it */
    s->x = x;
    s->n = n;
    PetscCall(DropLinearisation(s));
  }
  PetscCall(VecDestroy(&x));
  PetscCall(AzCausalAssign(L));
  if (L->win_K >= 1) PetscCall(AzLossSetTimeWindow(L, L->win_j, L->win_K));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* RAR-D and RAD: draw m points from a fresh pool by the density of ε there; with keep, after the
 * current set, else instead of it. Returns without change when ε is not finite somewhere. */
static PetscErrorCode RoundDistribution(AzLoss L, AzTerm *t, PetscInt it, PetscInt m, PetscBool keep, PetscInt *changed)
{
  const PetscInt N = L->rs_pool, d = L->ncoord;
  Vec            pool;
  PetscReal     *eps, *p, *pts, *cur = NULL, *all;
  PetscInt      *idx, n0 = keep ? t->n : 0;
  PetscBool      finite;

  PetscFunctionBegin;
  *changed = 0;
  PetscCall(FreshPoints(L, it, 1, N, &pool));
  PetscCall(PetscMalloc3(N, &eps, N, &p, m, &idx));
  PetscCall(GatherNorms(L, t, pool, N, eps, &finite));
  if (finite) {
    PetscCall(AzResampleDensity(N, eps, L->rs_k, L->rs_c, p));
    PetscCall(AzResampleSelect(N, p, m, L->seed, it, idx));
    PetscCall(GatherPoints(pool, &pts));
    if (keep) PetscCall(GatherPoints(t->x, &cur));
    PetscCall(PetscMalloc1((size_t)(n0 + m) * d, &all));
    if (keep) PetscCall(PetscArraycpy(all, cur, (size_t)n0 * d));
    for (PetscInt j = 0; j < m; j++) PetscCall(PetscArraycpy(all + (size_t)(n0 + j) * d, pts + (size_t)idx[j] * d, d));
    PetscCall(Replace(L, t, n0 + m, all));
    PetscCall(PetscFree(all));
    PetscCall(PetscFree(cur));
    PetscCall(PetscFree(pts));
    *changed = m;
  }
  PetscCall(PetscFree3(eps, p, idx));
  PetscCall(VecDestroy(&pool));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* R3: retain ε > mean ε, release the rest, resample as many uniform points */
static PetscErrorCode RoundR3(AzLoss L, AzTerm *t, PetscInt it, PetscInt *changed)
{
  const PetscInt n = t->n, d = L->ncoord;
  PetscReal     *eps, *cur, *all, mean = 0;
  PetscInt       kept = 0;
  PetscBool      finite;

  PetscFunctionBegin;
  *changed = 0;
  PetscCall(PetscMalloc1(n, &eps));
  PetscCall(GatherNorms(L, t, t->x, n, eps, &finite));
  if (finite) {
    for (PetscInt i = 0; i < n; i++) mean += eps[i];
    mean /= n;
    PetscCall(GatherPoints(t->x, &cur));
    PetscCall(PetscMalloc1((size_t)n * d, &all));
    for (PetscInt i = 0; i < n; i++)
      if (eps[i] > mean) PetscCall(PetscArraycpy(all + (size_t)kept++ * d, cur + (size_t)i * d, d));
    if (kept < n) {
      Vec       fresh;
      PetscReal *pts;
      PetscCall(FreshPoints(L, it, 3, n - kept, &fresh));
      PetscCall(GatherPoints(fresh, &pts));
      PetscCall(PetscArraycpy(all + (size_t)kept * d, pts, (size_t)(n - kept) * d));
      PetscCall(PetscFree(pts));
      PetscCall(VecDestroy(&fresh));
    }
    PetscCall(Replace(L, t, n, all));
    PetscCall(PetscFree(all));
    PetscCall(PetscFree(cur));
    *changed = n - kept;
  }
  PetscCall(PetscFree(eps));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzResampleUpdate(AzLoss L, PetscInt it)
{
  AzTerm  *t = NULL;
  PetscInt changed = 0;

  PetscFunctionBegin;
  if (L->resample == AZ_RESAMPLE_NONE || it <= 0 || it < L->rs_next) PetscFunctionReturn(PETSC_SUCCESS);
  L->rs_next = (it / L->rs_every + 1) * L->rs_every;
  for (PetscInt k = 0; k < L->nterms; k++)
    if (L->term[k].cond == AZ_COND_INTERIOR) t = &L->term[k];
  switch (L->resample) {
  case AZ_RESAMPLE_RARD:
    if (t->n < L->rs_max) PetscCall(RoundDistribution(L, t, it, PetscMin(L->rs_add, L->rs_max - t->n), PETSC_TRUE, &changed));
    break;
  case AZ_RESAMPLE_RAD:
    PetscCall(RoundDistribution(L, t, it, t->n, PETSC_FALSE, &changed));
    break;
  case AZ_RESAMPLE_R3:
    PetscCall(RoundR3(L, t, it, &changed));
    break;
  default:
    break;
  }
  L->rs_total += changed;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzLossGetResample(AzLoss L, AzResampleType *type, PetscInt *every, PetscInt *npde, PetscInt *nresampled)
{
  PetscFunctionBegin;
  PetscCall(AzLossSetUp(L));
  if (type) *type = L->resample;
  if (every) *every = L->resample == AZ_RESAMPLE_NONE ? 0 : L->rs_every;
  if (npde) {
    *npde = 0;
    for (PetscInt k = 0; k < L->nterms; k++)
      if (L->term[k].cond == AZ_COND_INTERIOR) *npde = L->term[k].n;
  }
  if (nresampled) *nresampled = L->rs_total;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzLossGetTermResidualNorms(AzLoss L, PetscInt k, Vec *norms)
{
  AzTerm      *t;
  PetscInt     nloc;
  PetscScalar *a;
  PetscReal   *r;

  PetscFunctionBegin;
  PetscCall(AzLossSetUp(L));
  PetscCheck(k >= 0 && k < L->nterms, L->comm, PETSC_ERR_ARG_OUTOFRANGE, "Term %" PetscInt_FMT " outside 0..%" PetscInt_FMT, k, L->nterms - 1);
  t = &L->term[k];
  PetscCheck(t->x && t->residual, L->comm, PETSC_ERR_ARG_WRONG, "Term %s has no collocation points (a conservation-law penalty lives on time slices)", t->name);
  PetscCheck(AzChainSideSize(L->chain) == 0, L->comm, PETSC_ERR_SUP, "Residual norms per point are not available with a conservation law projected in training");
  PetscCall(AzChainUpdate(L->chain));
  PetscCall(VecGetLocalSize(t->x, &nloc));
  nloc /= L->ncoord;
  PetscCall(VecCreateMPI(L->comm, nloc, t->n, norms));
  PetscCall(PetscMalloc1(PetscMax(nloc, 1), &r));
  PetscCall(AzPointTermResidualNorms(L, t, t->x, t->n, r));
  PetscCall(VecGetArrayWrite(*norms, &a));
  for (PetscInt i = 0; i < nloc; i++) a[i] = r[i];
  PetscCall(VecRestoreArrayWrite(*norms, &a));
  PetscCall(PetscFree(r));
  PetscFunctionReturn(PETSC_SUCCESS);
}
