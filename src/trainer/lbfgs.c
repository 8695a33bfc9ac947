/* L-BFGS (Nocedal & Wright, Numerical Optimization, 2nd ed.): the two-loop recursion (Alg. 7.4) over
 * the last m = -az_lbfgs_m (default 10) curvature pairs (s, y), with a diagonal initial Hessian
 * updated from every pair of the memory (-az_lbfgs_scale diagonal, the default; see UpdateDiagonal)
 * or γI with γ = sᵀy / yᵀy of the newest pair (scalar); a pair with sᵀy ≤ 1e-10 ‖s‖‖y‖ is skipped (it would make H
 * indefinite). The step length comes from a strong-Wolfe line search with cubic interpolation
 * (Alg. 3.5 / 3.6, as PyTorch's _strong_wolfe: c1 = 1e-4, c2 = 0.9, at most 25 evaluations; the
 * first step of a run is min(1, 1/‖g‖₁), later ones 1). A trial point whose loss or gradient is
 * NaN/Inf is never accepted: the step is shrunk. Everything is local arithmetic on values that every
 * rank sees identically (θ is replicated and the loss reduces over ranks), so the ranks step alike.
 *
 * When the objective moves during training (weight schedules, adaptive weights, multipliers), the
 * constraints are advanced every -az_lbfgs_segment iterations and the memory starts afresh (pairs
 * from another objective would mislead). The whole state (pairs, counters) goes into checkpoints, so
 * a restarted stage continues exactly like an uninterrupted one. */
#include "trainerimpl.h"
#include <ansatz/compat.h>

#define LS_C1     1e-4
#define LS_C2     0.9
#define LS_MAXEV  25
#define LS_TOLCHG 1e-9
#define PAIR_EPS  1e-10

typedef struct {
  AzTrainer  tr;
  PetscInt   P, m, npairs, head; /* pairs in the ring buffer; head: slot of the next pair */
  PetscReal *S, *Y, *rho;        /* (m, P) each, and 1/(yᵀs) */
  PetscReal *x, *d, *q, *alpha;  /* x: the current point */
  PetscBool  diag, hasB;         /* diagonal initial Hessian B (-az_lbfgs_scale diagonal), and whether it is set */
  PetscReal *B;
  PetscInt   nonfinite;          /* trial points with NaN/Inf, this stage */
  Vec        gtmp;
} LBFGS;

/* f and ∇f at x + t d (θ set to it); finite says whether both are */
static PetscErrorCode Eval(LBFGS *c, PetscReal t, PetscReal *f, PetscReal term[], Vec g, PetscBool *finite)
{
  AzTrainer    tr = c->tr;
  PetscScalar *th;
  PetscReal    gn;

  PetscFunctionBegin;
  PetscCall(VecGetArray(tr->theta, &th));
  if (t == 0) /* exactly x (d may not be set yet) */
    for (PetscInt i = 0; i < c->P; i++) th[i] = c->x[i];
  else
    for (PetscInt i = 0; i < c->P; i++) th[i] = c->x[i] + t * c->d[i];
  PetscCall(VecRestoreArray(tr->theta, &th));
  PetscCall(AzLossEvaluate(tr->loss, f, term, g));
  PetscCall(VecNorm(g, NORM_INFINITY, &gn));
  *finite = (PetscBool)(!PetscIsInfOrNanReal(*f) && !PetscIsInfOrNanReal(gn));
  if (!*finite) c->nonfinite++;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* θ = x, the current point */
static PetscErrorCode SetTheta(LBFGS *c)
{
  PetscScalar *th;

  PetscFunctionBegin;
  PetscCall(VecGetArray(c->tr->theta, &th));
  for (PetscInt i = 0; i < c->P; i++) th[i] = c->x[i];
  PetscCall(VecRestoreArray(c->tr->theta, &th));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscReal Dot(PetscInt n, const PetscReal a[], const PetscReal b[])
{
  PetscReal s = 0;
  for (PetscInt i = 0; i < n; i++) s += a[i] * b[i];
  return s;
}

/* minimiser of the cubic through (x1, f1, g1), (x2, f2, g2), clipped to the bounds; their midpoint
 * when the cubic has no minimiser or anything is not finite */
static PetscReal Cubic(PetscReal x1, PetscReal f1, PetscReal g1, PetscReal x2, PetscReal f2, PetscReal g2, PetscReal lo, PetscReal hi)
{
  const PetscReal d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2), d2sq = d1 * d1 - g1 * g2;
  PetscReal       t;
  if (lo > hi) {
    t  = lo;
    lo = hi;
    hi = t;
  }
  if (!(d2sq >= 0)) return (lo + hi) / 2;
  {
    const PetscReal d2 = PetscSqrtReal(d2sq);
    if (x1 <= x2) t = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2));
    else t = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2));
  }
  if (PetscIsInfOrNanReal(t)) return (lo + hi) / 2;
  return PetscMin(PetscMax(t, lo), hi);
}

typedef struct {
  PetscReal t, f, gtd, term[AZ_MAX_TERMS];
  Vec       g;
  PetscBool finite;
} LSPoint;

static PetscErrorCode LSCopy(LSPoint *dst, const LSPoint *src)
{
  PetscFunctionBegin;
  dst->t      = src->t;
  dst->f      = src->f;
  dst->gtd    = src->gtd;
  dst->finite = src->finite;
  PetscCall(PetscArraycpy(dst->term, src->term, AZ_MAX_TERMS));
  PetscCall(VecCopy(src->g, dst->g));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode LSEval(LBFGS *c, PetscReal t, LSPoint *p)
{
  const PetscScalar *g;

  PetscFunctionBegin;
  p->t = t;
  PetscCall(Eval(c, t, &p->f, p->term, p->g, &p->finite));
  PetscCall(VecGetArrayRead(p->g, &g));
  p->gtd = Dot(c->P, (const PetscReal *)g, c->d);
  PetscCall(VecRestoreArrayRead(p->g, &g));
  if (!p->finite) {
    p->f   = PETSC_INFINITY;
    p->gtd = PETSC_INFINITY;
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Strong-Wolfe line search along d from (f0, g0·d) with initial step t; best receives the accepted
 * point (t = 0 and f0 when nothing better was found). pt[0..3]: work points with gradient vectors. */
static PetscErrorCode LineSearch(LBFGS *c, PetscReal f0, PetscReal gtd0, PetscReal t, LSPoint pt[4], LSPoint *best, PetscBool *found)
{
  LSPoint  *prev = &pt[0], *cur = &pt[1], *br[2] = {&pt[2], &pt[3]};
  PetscInt  nev = 0, low, high;
  PetscBool done = PETSC_FALSE, bracketed = PETSC_FALSE, insuf = PETSC_FALSE;
  PetscReal dnorm = 0;

  PetscFunctionBegin;
  for (PetscInt i = 0; i < c->P; i++) dnorm = PetscMax(dnorm, PetscAbsReal(c->d[i]));
  prev->t = 0, prev->f = f0, prev->gtd = gtd0, prev->finite = PETSC_TRUE;
  PetscCall(LSEval(c, t, cur));
  nev++;
  /* bracketing phase (Alg. 3.5) */
  while (nev < LS_MAXEV) {
    if (!cur->finite) { /* shrink towards the last finite point */
      PetscCall(LSEval(c, prev->t + (cur->t - prev->t) / 2, cur));
      nev++;
      continue;
    }
    if (cur->f > f0 + LS_C1 * cur->t * gtd0 || (nev > 1 && cur->f >= prev->f) || cur->gtd >= 0) {
      PetscCall(LSCopy(br[0], prev));
      PetscCall(LSCopy(br[1], cur));
      bracketed = PETSC_TRUE;
      break;
    }
    if (PetscAbsReal(cur->gtd) <= -LS_C2 * gtd0) {
      PetscCall(LSCopy(br[0], cur));
      done = bracketed = PETSC_TRUE;
      break;
    }
    {
      const PetscReal tn = Cubic(prev->t, prev->f, prev->gtd, cur->t, cur->f, cur->gtd, cur->t + 0.01 * (cur->t - prev->t), cur->t * 10);
      LSPoint        *sw = prev;
      prev               = cur;
      cur                = sw;
      PetscCall(LSEval(c, tn, cur));
      nev++;
    }
  }
  if (!bracketed) { /* out of evaluations: the better of the start and the last point */
    if (cur->finite && cur->f < f0) PetscCall(LSCopy(best, cur));
    else best->t = 0;
    *found = (PetscBool)(best->t > 0);
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  if (done) {
    PetscCall(LSCopy(best, br[0]));
    *found = PETSC_TRUE;
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  /* zoom phase (Alg. 3.6) */
  low  = br[0]->f <= br[1]->f ? 0 : 1;
  high = 1 - low;
  while (nev < LS_MAXEV) {
    const PetscReal tmax = PetscMax(br[0]->t, br[1]->t), tmin = PetscMin(br[0]->t, br[1]->t);
    PetscReal       tn, eps;
    if ((tmax - tmin) * dnorm < LS_TOLCHG) break;
    tn  = Cubic(br[0]->t, br[0]->f, br[0]->gtd, br[1]->t, br[1]->f, br[1]->gtd, br[0]->t, br[1]->t);
    eps = 0.1 * (tmax - tmin);
    if (PetscMin(tmax - tn, tn - tmin) < eps) { /* too close to an end: safeguard */
      if (insuf || tn >= tmax || tn <= tmin) {
        tn    = PetscAbsReal(tn - tmax) < PetscAbsReal(tn - tmin) ? tmax - eps : tmin + eps;
        insuf = PETSC_FALSE;
      } else insuf = PETSC_TRUE;
    } else insuf = PETSC_FALSE;
    PetscCall(LSEval(c, tn, cur));
    nev++;
    if (!cur->finite || cur->f > f0 + LS_C1 * cur->t * gtd0 || cur->f >= br[low]->f) {
      PetscCall(LSCopy(br[high], cur));
    } else {
      if (PetscAbsReal(cur->gtd) <= -LS_C2 * gtd0) done = PETSC_TRUE;
      else if (cur->gtd * (br[high]->t - br[low]->t) >= 0) PetscCall(LSCopy(br[high], br[low]));
      PetscCall(LSCopy(br[low], cur));
    }
    low  = br[0]->f <= br[1]->f ? 0 : 1;
    high = 1 - low;
    if (done) break;
  }
  if (br[low]->t > 0 && br[low]->finite && br[low]->f < f0) {
    PetscCall(LSCopy(best, br[low]));
    *found = PETSC_TRUE;
  } else {
    best->t = 0;
    *found  = PETSC_FALSE;
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The diagonal initial Hessian (Gilbert & Lemaréchal 1989, as in M1QN3): from the first pair of a
 * memory B = (yᵀy / yᵀs) I; each later pair first rescales B so that sᵀBs = yᵀs (Oren–Spedicato),
 * then applies the diagonal of the BFGS update, B_i ← B_i + y_i²/yᵀs − (B_i s_i)²/sᵀBs, which keeps
 * every B_i ≥ 0 (a B_i that would reach 0 keeps a floor relative to the mean). Per-parameter
 * curvature, where γI gives one scale to every parameter. */
static void UpdateDiagonal(LBFGS *c, const PetscReal s[], const PetscReal y[], PetscReal sy, PetscReal yy)
{
  const PetscInt P = c->P;
  if (!c->hasB) {
    for (PetscInt i = 0; i < P; i++) c->B[i] = yy / sy;
    c->hasB = PETSC_TRUE;
    return;
  }
  {
    PetscReal sBs = 0, mean = 0;
    for (PetscInt i = 0; i < P; i++) sBs += c->B[i] * s[i] * s[i];
    if (!(sBs > 0)) return;
    for (PetscInt i = 0; i < P; i++) {
      const PetscReal b  = c->B[i] * sy / sBs; /* rescaled: Σ b s² = yᵀs */
      const PetscReal bs = b * s[i];
      c->B[i]            = b + y[i] * y[i] / sy - bs * bs / sy;
      mean += c->B[i] / P;
    }
    for (PetscInt i = 0; i < P; i++) c->B[i] = PetscMax(c->B[i], 1e-12 * mean);
  }
}

/* d = −H g by the two-loop recursion */
static void Direction(LBFGS *c, const PetscReal g[])
{
  const PetscInt P = c->P;
  PetscReal     *q = c->q;
  for (PetscInt i = 0; i < P; i++) q[i] = g[i];
  for (PetscInt j = 0; j < c->npairs; j++) { /* newest first */
    const PetscInt k = (c->head - 1 - j + c->m) % c->m;
    c->alpha[k]      = c->rho[k] * Dot(P, c->S + k * P, q);
    for (PetscInt i = 0; i < P; i++) q[i] -= c->alpha[k] * c->Y[k * P + i];
  }
  if (c->npairs && c->diag && c->hasB) {
    for (PetscInt i = 0; i < P; i++) q[i] /= c->B[i];
  } else if (c->npairs) {
    const PetscInt  k     = (c->head - 1 + c->m) % c->m;
    const PetscReal gamma = 1 / (c->rho[k] * Dot(P, c->Y + k * P, c->Y + k * P));
    for (PetscInt i = 0; i < P; i++) q[i] *= gamma;
  }
  for (PetscInt j = c->npairs - 1; j >= 0; j--) { /* oldest first */
    const PetscInt  k    = (c->head - 1 - j + c->m) % c->m;
    const PetscReal beta = c->rho[k] * Dot(P, c->Y + k * P, q);
    for (PetscInt i = 0; i < P; i++) q[i] += (c->alpha[k] - beta) * c->S[k * P + i];
  }
  for (PetscInt i = 0; i < P; i++) c->d[i] = -q[i];
}

/* checkpoint state: [m, npairs, head, iterations in the segment, S (m·P), Y (m·P), rho (m), B set, B (P)] */
static PetscErrorCode SaveState(LBFGS *c, PetscInt seg_it, Vec state)
{
  PetscScalar   *st;
  const PetscInt mP = c->m * c->P;

  PetscFunctionBegin;
  PetscCall(VecGetArray(state, &st));
  st[0] = c->m;
  st[1] = c->npairs;
  st[2] = c->head;
  st[3] = seg_it;
  for (PetscInt i = 0; i < mP; i++) st[4 + i] = c->S[i];
  for (PetscInt i = 0; i < mP; i++) st[4 + mP + i] = c->Y[i];
  for (PetscInt i = 0; i < c->m; i++) st[4 + 2 * mP + i] = c->rho[i];
  st[4 + 2 * mP + c->m] = c->hasB;
  for (PetscInt i = 0; i < c->P; i++) st[5 + 2 * mP + c->m + i] = c->B[i];
  PetscCall(VecRestoreArray(state, &st));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode LoadState(LBFGS *c, Vec state, PetscInt segment, PetscInt *seg_it)
{
  const PetscScalar *st;
  const PetscInt     mP = c->m * c->P;
  PetscInt           n;
  AzTrainer          tr = c->tr;

  PetscFunctionBegin;
  PetscCall(VecGetSize(state, &n));
  PetscCheck(n == 5 + 2 * mP + c->m + c->P, tr->comm, PETSC_ERR_FILE_UNEXPECTED, "Restart file %s: its L-BFGS state has %" PetscInt_FMT " entries; L-BFGS with memory %" PetscInt_FMT " and %" PetscInt_FMT " parameters expects %" PetscInt_FMT " (was -az_lbfgs_m changed?)", tr->restart, n, c->m, c->P, 5 + 2 * mP + c->m + c->P);
  PetscCall(VecGetArrayRead(state, &st));
  PetscCheck(st[0] == c->m && st[1] >= 0 && st[1] <= c->m && st[2] >= 0 && st[2] < c->m && st[3] >= 0 && st[3] <= segment && st[3] <= tr->restart_it, tr->comm, PETSC_ERR_FILE_UNEXPECTED, "Restart file %s: invalid L-BFGS state (memory %g, pairs %g, head %g, segment iteration %g)", tr->restart, (double)st[0], (double)st[1], (double)st[2], (double)st[3]);
  PetscCheck(st[4 + 2 * mP + c->m] == 0 || st[4 + 2 * mP + c->m] == 1, tr->comm, PETSC_ERR_FILE_UNEXPECTED, "Restart file %s: invalid L-BFGS state (diagonal flag %g)", tr->restart, (double)st[4 + 2 * mP + c->m]);
  for (PetscInt i = 0; i < 2 * mP + c->m + 1 + c->P; i++) PetscCheck(!PetscIsInfOrNanScalar(st[4 + i]), tr->comm, PETSC_ERR_FILE_UNEXPECTED, "Restart file %s: the L-BFGS state holds NaN/Inf", tr->restart);
  c->npairs = (PetscInt)st[1];
  c->head   = (PetscInt)st[2];
  *seg_it   = (PetscInt)st[3];
  for (PetscInt i = 0; i < mP; i++) c->S[i] = st[4 + i];
  for (PetscInt i = 0; i < mP; i++) c->Y[i] = st[4 + mP + i];
  for (PetscInt i = 0; i < c->m; i++) c->rho[i] = st[4 + 2 * mP + i];
  c->hasB = (PetscBool)(st[4 + 2 * mP + c->m] == 1);
  for (PetscInt i = 0; i < c->P; i++) c->B[i] = st[5 + 2 * mP + c->m + i];
  PetscCall(VecRestoreArrayRead(state, &st));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzTrainLBFGS(AzTrainer tr, PetscInt max_it)
{
  LBFGS       c;
  LSPoint     pt[4], best;
  Vec         g, state;
  PetscBool   changes, fresh = PETSC_TRUE, need_eval = PETSC_TRUE;
  PetscInt    segment, seg_it = 0, start = 0, k = 0;
  PetscReal   f, term[AZ_MAX_TERMS];
  const char *why_stop = NULL;

  PetscFunctionBegin;
  if (max_it <= 0) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(PetscMemzero(&c, sizeof c));
  c.tr = tr;
  c.P  = tr->nparam;
  c.m  = tr->lbfgs_m;
  PetscCall(PetscMalloc4((size_t)c.m * c.P, &c.S, (size_t)c.m * c.P, &c.Y, c.m, &c.rho, c.m, &c.alpha));
  PetscCall(PetscMalloc4(c.P, &c.x, c.P, &c.d, c.P, &c.q, c.P, &c.B));
  PetscCall(PetscArrayzero(c.B, c.P));
  c.diag = tr->lbfgs_diag;
  PetscCall(PetscArrayzero(c.S, (size_t)c.m * c.P));
  PetscCall(PetscArrayzero(c.Y, (size_t)c.m * c.P));
  PetscCall(PetscArrayzero(c.rho, c.m));
  PetscCall(PetscArrayzero(c.d, c.P));
  PetscCall(VecDuplicate(tr->theta, &g));
  for (PetscInt i = 0; i < 4; i++) PetscCall(VecDuplicate(tr->theta, &pt[i].g));
  PetscCall(VecDuplicate(tr->theta, &best.g));
  PetscCall(VecCreateSeq(PETSC_COMM_SELF, 5 + 2 * c.m * c.P + c.m + c.P, &state));
  PetscCall(AzLossConstraintsChange(tr->loss, &changes));
  segment = changes ? tr->lbfgs_segment : PETSC_MAX_INT;
  {
    PetscInt every; /* resampling changes the objective: a segment ends where a round is due */
    PetscCall(AzLossGetResample(tr->loss, NULL, &every, NULL, NULL));
    if (every) segment = PetscMin(segment, every);
  }
  if (tr->restart_state && tr->restart_stage == tr->cur_stage) {
    PetscCall(LoadState(&c, tr->restart_state, segment, &seg_it));
    start = tr->restart_it;
    fresh = (PetscBool)(seg_it == 0 || seg_it >= segment);
  }
  {
    const PetscScalar *th;
    PetscCall(VecGetArrayRead(tr->theta, &th));
    for (PetscInt i = 0; i < c.P; i++) c.x[i] = th[i];
    PetscCall(VecRestoreArrayRead(tr->theta, &th));
  }
  for (;;) {
    PetscBool          finite, found;
    PetscReal          gtd, t;
    const PetscScalar *ga;

    if (fresh && k < max_it) { /* a new segment: the constraints advance, the memory starts afresh */
      if (changes) PetscCall(AzLossUpdateConstraints(tr->loss, tr->it, tr->total_it));
      c.npairs = c.head = 0;
      c.hasB = PETSC_FALSE;
      seg_it            = 0;
      fresh             = PETSC_FALSE;
      need_eval         = PETSC_TRUE;
    }
    if (need_eval) PetscCall(Eval(&c, 0, &f, term, g, &finite)); /* θ = x */
    else { /* the accepted line-search point is x: its values, as a new evaluation would give them */
      finite = PETSC_TRUE;
      f      = best.f;
      PetscCall(PetscArraycpy(term, best.term, AZ_MAX_TERMS));
      PetscCall(VecCopy(best.g, g));
    }
    need_eval = PETSC_FALSE;
    if (!finite) {
      char why[256];
      PetscCall(AzTrainerDiagnose(tr, term, why, sizeof why));
      PetscCall(AzTrainerFail(tr, "L-BFGS: the loss or its gradient is not finite at the %s point (%s); these parameters are kept", k ? "segment's starting" : "stage's starting", why));
      break;
    }
    PetscCall(AzTrainerRecord(tr, f, term, (PetscBool)(k == 0 || k == max_it)));
    if (k == max_it) break;
    PetscCall(VecGetArrayRead(g, &ga));
    Direction(&c, (const PetscReal *)ga);
    gtd = Dot(c.P, (const PetscReal *)ga, c.d);
    if (!(gtd < 0) && c.npairs) { /* not a descent direction (round-off in H): steepest descent */
      c.npairs = c.head = 0;
      c.hasB = PETSC_FALSE;
      Direction(&c, (const PetscReal *)ga);
      gtd = Dot(c.P, (const PetscReal *)ga, c.d);
    }
    if (seg_it == 0) {
      PetscReal g1 = 0;
      for (PetscInt i = 0; i < c.P; i++) g1 += PetscAbsReal(ga[i]);
      t = PetscMin(1, 1 / g1);
    } else t = 1;
    PetscCall(VecRestoreArrayRead(g, &ga));
    if (!(gtd < 0)) {
      why_stop = "the gradient vanishes";
      break;
    }
    PetscCall(LineSearch(&c, f, gtd, t, pt, &best, &found));
    if (!found && c.npairs) { /* retry from steepest descent with a fresh memory */
      c.npairs = c.head = 0;
      c.hasB = PETSC_FALSE;
      PetscCall(VecGetArrayRead(g, &ga));
      Direction(&c, (const PetscReal *)ga);
      gtd = Dot(c.P, (const PetscReal *)ga, c.d);
      {
        PetscReal g1 = 0;
        for (PetscInt i = 0; i < c.P; i++) g1 += PetscAbsReal(ga[i]);
        t = PetscMin(1, 1 / g1);
      }
      PetscCall(VecRestoreArrayRead(g, &ga));
      PetscCall(LineSearch(&c, f, gtd, t, pt, &best, &found));
    }
    if (!found) {
      why_stop = "the line search finds no lower loss";
      break;
    }
    /* accept x + t d; the pair s = t d, y = g_new − g */
    {
      const PetscScalar *gn;
      const PetscInt     P = c.P, slot = c.head;
      PetscReal          sy, ss, yy;
      PetscCall(VecGetArrayRead(g, &ga));
      PetscCall(VecGetArrayRead(best.g, &gn));
      for (PetscInt i = 0; i < P; i++) {
        c.S[slot * P + i] = best.t * c.d[i];
        c.Y[slot * P + i] = gn[i] - ga[i];
        c.x[i]            = c.x[i] + best.t * c.d[i];
      }
      PetscCall(VecRestoreArrayRead(best.g, &gn));
      PetscCall(VecRestoreArrayRead(g, &ga));
      sy = Dot(P, c.S + slot * P, c.Y + slot * P);
      ss = Dot(P, c.S + slot * P, c.S + slot * P);
      yy = Dot(P, c.Y + slot * P, c.Y + slot * P);
      if (sy > PAIR_EPS * PetscSqrtReal(ss * yy)) {
        if (c.diag) UpdateDiagonal(&c, c.S + slot * P, c.Y + slot * P, sy, yy);
        c.rho[slot] = 1 / sy;
        c.head      = (c.head + 1) % c.m;
        c.npairs    = PetscMin(c.npairs + 1, c.m);
      }
    }
    k++;
    seg_it++;
    tr->it++;
    if (seg_it >= segment) fresh = PETSC_TRUE;
    if (tr->checkpoint[0] && tr->checkpoint_every && (start + k) % tr->checkpoint_every == 0) {
      PetscCall(SetTheta(&c)); /* θ may be a later trial point: checkpoint x */
      PetscCall(SaveState(&c, seg_it, state));
      PetscCall(AzTrainerCheckpoint(tr, start + k, state));
    }
  }
  PetscCall(SetTheta(&c));
  if (why_stop && !tr->quiet) PetscCall(PetscPrintf(tr->comm, "%sL-BFGS stopped after %" PetscInt_FMT " of %" PetscInt_FMT " iterations: %s\n", tr->tty ? "\n" : "", k, max_it, why_stop));
  if (c.nonfinite && !tr->quiet) PetscCall(PetscPrintf(tr->comm, "L-BFGS: %" PetscInt_FMT " trial point(s) gave NaN/Inf and were rejected by the line search\n", c.nonfinite));
  PetscCall(PetscFree4(c.S, c.Y, c.rho, c.alpha));
  PetscCall(PetscFree4(c.x, c.d, c.q, c.B));
  PetscCall(VecDestroy(&g));
  for (PetscInt i = 0; i < 4; i++) PetscCall(VecDestroy(&pt[i].g));
  PetscCall(VecDestroy(&best.g));
  PetscCall(VecDestroy(&state));
  PetscFunctionReturn(PETSC_SUCCESS);
}
