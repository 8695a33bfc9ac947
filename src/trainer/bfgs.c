/* Dense quasi-Newton with a self-scaled update of the inverse Hessian (the "bfgs" stage):
 *   p_k = −H_k ∇f_k,  x_{k+1} = x_k + α_k p_k (strong-Wolfe line search, qn.c),
 *   H_{k+1} from s = α_k p_k, y = ∇f_{k+1} − ∇f_k by -az_bfgs_update ssbroyden (default), ssbfgs or
 *   bfgs (qn.c: the formulas of Urbán, Stefanou & Pons 2025 and Kiyani et al. 2025),
 * as the authors run it (scipy's BFGS driver, modified): H_0 = I; the first trial step of the line
 * search min(1, 1.01 · 2 (f_k − f_{k−1}) / ∇f_kᵀp_k) (1 when that is not positive), with
 * f_{−1} = f_0 + ‖∇f_0‖/2 at the start (a first step of length about 1); c1 = 1e-4, c2 = 0.9.
 *
 * H is P × P, its columns split in blocks over the ranks (P²/size numbers on each). θ is replicated
 * and the gradient already reduced, so each rank updates its own columns from the same vectors; one
 * pass over the block gives H_k ∇f_{k+1} and H_k y (by symmetry a column's product is a row's, each
 * summed over the rows in order: the same bits on any number of ranks), an Allgatherv joins them,
 * a second pass applies the update, and the next direction −H_{k+1}∇f_{k+1} follows from the update's
 * vectors without a third (qn.h). Networks above -az_bfgs_max_params (default 20000: 3.2 GB in all)
 * are refused when the options are read.
 *
 * Robustness. An update with yᵀs ≤ 0 or non-finite numbers is skipped (H kept; a note is printed).
 * A trial point with NaN/Inf counts as too long a step. When the line search finds no strong-Wolfe
 * point, H is reset to the scaled identity (sᵀy/yᵀy) I of the last pair ([NW] eq. 6.20; I without one)
 * and the search repeated once; when that fails too, the stage stops early: AzTrainerGetStopReason
 * says so (training completed: the loss cannot be lowered along the direction at this precision).
 * With moving constraints (weight schedules, adaptive weights, multipliers) the constraints advance
 * every -az_lbfgs_segment iterations and H is kept (as the authors keep it across their restarts).
 * Checkpoints carry H up to AZ_BFGS_CKPT_MAX_PARAMS parameters (a restart then continues bit for bit);
 * above that they carry the counters only and a restarted stage begins again from H = I. */
#include "trainerimpl.h"
#include "qn.h"
#include <ansatz/compat.h>

#define AZ_BFGS_CKPT_MAX_PARAMS 5000 /* H in checkpoints up to 5000² × 8 B = 200 MB */
#define AZ_BFGS_NOTES           5    /* skipped updates and resets noted one by one, then counted */
#define AZ_BFGS_STATE_HEAD      10

typedef struct {
  AzTrainer  tr;
  PetscInt   P;
  PetscReal *x, *d; /* the current point; the search direction */
  Vec        g;     /* ∇f at the last point evaluated */
  PetscReal  f, term[AZ_MAX_TERMS], t; /* the last point evaluated: x + t d */
  PetscInt   nonfinite;
} Line;

/* φ(t) = f(x + t d), φ'(t) = ∇f(x + t d)ᵀd (θ set to x + t d) */
static PetscErrorCode Phi(void *ctx, PetscReal t, PetscReal *f, PetscReal *dphi, PetscBool *finite)
{
  Line              *L  = (Line *)ctx;
  AzTrainer          tr = L->tr;
  PetscScalar       *th;
  const PetscScalar *g;
  PetscReal          gd = 0;

  PetscFunctionBegin;
  PetscCall(VecGetArray(tr->theta, &th));
  if (t == 0)
    for (PetscInt i = 0; i < L->P; i++) th[i] = L->x[i];
  else
    for (PetscInt i = 0; i < L->P; i++) th[i] = L->x[i] + t * L->d[i];
  PetscCall(VecRestoreArray(tr->theta, &th));
  PetscCall(AzLossEvaluate(tr->loss, &L->f, L->term, L->g));
  PetscCall(VecGetArrayRead(L->g, &g));
  for (PetscInt i = 0; i < L->P; i++) gd += g[i] * L->d[i];
  PetscCall(VecRestoreArrayRead(L->g, &g));
  L->t    = t;
  *f      = L->f;
  *dphi   = gd;
  *finite = (PetscBool)(!PetscIsInfOrNanReal(L->f) && !PetscIsInfOrNanReal(gd) && AzTrainerVecIsFinite(L->g));
  if (!*finite) L->nonfinite++;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* this rank's block of H's columns and the ownership of all blocks */
typedef struct {
  MPI_Comm     comm;
  PetscInt     P, c0, nloc;    /* columns c0 … c0 + nloc − 1, stored P × nloc */
  PetscReal   *H, *bx, *bz;    /* the block; its products (nloc each) */
  PetscMPIInt *counts, *displs; /* every rank's nloc and c0 */
} Dense;

static PetscErrorCode DenseCreate(MPI_Comm comm, PetscInt P, Dense *D)
{
  PetscMPIInt size, rank;

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_size(comm, &size));
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  D->comm = comm;
  D->P    = P;
  PetscCall(PetscMalloc2(size, &D->counts, size, &D->displs));
  for (PetscMPIInt r = 0, c = 0; r < size; r++) { /* blocks of P/size columns, the first P mod size one longer */
    D->counts[r] = (PetscMPIInt)(P / size + (r < P % size));
    D->displs[r] = c;
    c += D->counts[r];
  }
  D->c0   = D->displs[rank];
  D->nloc = D->counts[rank];
  PetscCall(PetscMalloc1((size_t)P * D->nloc, &D->H));
  PetscCall(PetscMalloc2(D->nloc, &D->bx, D->nloc, &D->bz));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode DenseDestroy(Dense *D)
{
  PetscFunctionBegin;
  PetscCall(PetscFree(D->H));
  PetscCall(PetscFree2(D->bx, D->bz));
  PetscCall(PetscFree2(D->counts, D->displs));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Hx = H x and, when z is given, Hz = H z, on every rank */
static PetscErrorCode DenseProducts(Dense *D, const PetscReal x[], const PetscReal z[], PetscReal Hx[], PetscReal Hz[])
{
  PetscFunctionBegin;
  AzQNColumnProducts(D->P, D->nloc, D->H, x, z, D->bx, z ? D->bz : NULL);
  PetscCallMPI(MPI_Allgatherv(D->bx, (PetscMPIInt)D->nloc, MPIU_REAL, Hx, D->counts, D->displs, MPIU_REAL, D->comm));
  if (z) PetscCallMPI(MPI_Allgatherv(D->bz, (PetscMPIInt)D->nloc, MPIU_REAL, Hz, D->counts, D->displs, MPIU_REAL, D->comm));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* p = −γ g: the direction of H = γI */
static void ScaledIdentity(Dense *D, PetscReal gamma, const PetscReal g[], PetscReal p[])
{
  AzQNScaledIdentity(D->P, D->c0, D->nloc, D->H, gamma);
  for (PetscInt i = 0; i < D->P; i++) p[i] = -gamma * g[i];
}

static PetscErrorCode SetTheta(AzTrainer tr, const PetscReal x[])
{
  PetscScalar *th;

  PetscFunctionBegin;
  PetscCall(VecGetArray(tr->theta, &th));
  for (PetscInt i = 0; i < tr->nparam; i++) th[i] = x[i];
  PetscCall(VecRestoreArray(tr->theta, &th));
  PetscFunctionReturn(PETSC_SUCCESS);
}

typedef struct {
  PetscInt  seg_it, nskip, nreset;
  PetscBool have_prev, have_pair;
  PetscReal f_prev, gamma; /* the loss before the last step; sᵀy/yᵀy of the last pair */
} Counters;

/* checkpoint state: [update type, P, H stored, segment iteration, f_{k−1} known, f_{k−1}, pair known,
 * γ, skipped updates, resets, then with H stored (2): the next direction d = −H∇f (P) and H (P²)];
 * checkpoints of before the direction was stored (1: H alone) are read too */
static PetscErrorCode SaveState(AzTrainer tr, const Dense *D, const PetscReal d[], const Counters *c, Vec state)
{
  PetscScalar   *st;
  const PetscInt P = tr->nparam;
  PetscInt       n;
  PetscBool      stored = (PetscBool)(P <= AZ_BFGS_CKPT_MAX_PARAMS);

  PetscFunctionBegin;
  if (stored) { /* the blocks into rank 0's state (the only copy written), collectively */
    PetscMPIInt  size, rank;
    PetscMPIInt *cnt = NULL, *dsp = NULL;
    PetscCallMPI(MPI_Comm_size(tr->comm, &size));
    PetscCallMPI(MPI_Comm_rank(tr->comm, &rank));
    PetscCall(PetscMalloc2(size, &cnt, size, &dsp));
    for (PetscMPIInt r = 0; r < size; r++) cnt[r] = (PetscMPIInt)(D->counts[r] * P), dsp[r] = (PetscMPIInt)(D->displs[r] * P);
    PetscCall(VecGetArray(state, &st));
    PetscCallMPI(MPI_Gatherv(D->H, (PetscMPIInt)(D->nloc * P), MPIU_REAL, rank ? NULL : st + AZ_BFGS_STATE_HEAD + P, cnt, dsp, MPIU_REAL, 0, tr->comm));
    if (!rank) PetscCall(PetscArraycpy(st + AZ_BFGS_STATE_HEAD, d, P));
    PetscCall(VecRestoreArray(state, &st));
    PetscCall(PetscFree2(cnt, dsp));
  }
  PetscCall(VecGetSize(state, &n));
  PetscCall(VecGetArray(state, &st));
  st[0] = tr->bfgs_update;
  st[1] = P;
  st[2] = stored ? 2 : 0;
  st[3] = c->seg_it;
  st[4] = c->have_prev;
  st[5] = c->f_prev;
  st[6] = c->have_pair;
  st[7] = c->gamma;
  st[8] = c->nskip;
  st[9] = c->nreset;
  PetscCall(VecRestoreArray(state, &st));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode LoadState(AzTrainer tr, Vec state, PetscInt segment, Dense *D, PetscReal d[], PetscBool *have_d, Counters *c)
{
  const PetscScalar *st;
  const PetscInt     P = tr->nparam;
  PetscInt           n;
  const char *const  names[] = {"ssbroyden", "ssbfgs", "bfgs"};
  const PetscInt64   nH = AZ_BFGS_STATE_HEAD + (PetscInt64)P * P, nHd = nH + P;

  PetscFunctionBegin;
  PetscCall(VecGetSize(state, &n));
  PetscCheck(n == AZ_BFGS_STATE_HEAD || n == nH || n == nHd, tr->comm, PETSC_ERR_FILE_UNEXPECTED, "Restart file %s: its bfgs state has %" PetscInt_FMT " entries; with %" PetscInt_FMT " parameters it must have %d, or %" PetscInt64_FMT " with the inverse Hessian and the direction (%" PetscInt64_FMT " with the inverse Hessian alone)", tr->restart, n, P, AZ_BFGS_STATE_HEAD, nHd, nH);
  PetscCall(VecGetArrayRead(state, &st));
  PetscCheck(st[0] == tr->bfgs_update, tr->comm, PETSC_ERR_FILE_UNEXPECTED, "Restart file %s was written with -az_bfgs_update %s; this run asks for %s: restart with the same update", tr->restart, st[0] >= 0 && st[0] <= 2 && st[0] == (PetscInt)st[0] ? names[(PetscInt)st[0]] : "(invalid)", names[tr->bfgs_update]);
  PetscCheck(st[1] == P && st[2] == (n == nHd ? 2 : n == nH ? 1 : 0) && st[3] >= 0 && st[3] <= segment && st[3] <= tr->restart_it && (st[4] == 0 || st[4] == 1) && (st[6] == 0 || st[6] == 1) && st[7] >= 0 && st[8] >= 0 && st[9] >= 0, tr->comm, PETSC_ERR_FILE_UNEXPECTED, "Restart file %s: invalid bfgs state (parameters %g, H stored %g, segment iteration %g, flags %g %g, gamma %g)", tr->restart, (double)st[1], (double)st[2], (double)st[3], (double)st[4], (double)st[6], (double)st[7]);
  c->seg_it    = (PetscInt)st[3];
  c->have_prev = (PetscBool)(st[4] == 1);
  c->f_prev    = st[5];
  c->have_pair = (PetscBool)(st[6] == 1);
  c->gamma     = st[7];
  c->nskip     = (PetscInt)st[8];
  c->nreset    = (PetscInt)st[9];
  if (n > AZ_BFGS_STATE_HEAD) PetscCall(PetscArraycpy(D->H, st + (n - (PetscInt64)P * P) + (size_t)D->c0 * P, (size_t)P * D->nloc)); /* this rank's columns */
  *have_d = (PetscBool)(n == nHd);
  if (*have_d) PetscCall(PetscArraycpy(d, st + AZ_BFGS_STATE_HEAD, P));
  PetscCall(VecRestoreArrayRead(state, &st));
  if (n == AZ_BFGS_STATE_HEAD && !tr->quiet) PetscCall(PetscPrintf(tr->comm, "bfgs: the checkpoint holds no inverse Hessian (%" PetscInt_FMT " parameters > %d): the restarted stage begins again from H = I\n", P, AZ_BFGS_CKPT_MAX_PARAMS));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode Note(AzTrainer tr, Counters *c, const char what[], const char why[])
{
  PetscFunctionBegin;
  if (!tr->quiet && c->nskip + c->nreset <= AZ_BFGS_NOTES) PetscCall(PetscPrintf(tr->comm, "%sbfgs: iteration %" PetscInt_FMT ": %s (%s)%s\n", tr->tty ? "\n" : "", tr->it, what, why, c->nskip + c->nreset == AZ_BFGS_NOTES ? "; further ones are counted at the end of the stage" : ""));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzTrainBFGS(AzTrainer tr, PetscInt max_it)
{
  const PetscInt P = tr->nparam;
  Line           L;
  Dense          D;
  PetscReal     *g, *w, *u, *s, *y;
  Vec            state;
  PetscBool      changes, fresh = PETSC_TRUE, need_eval = PETSC_TRUE, need_dir = PETSC_TRUE, dir_loaded = PETSC_FALSE;
  PetscInt       segment, start = 0, k = 0;
  PetscReal      f = 0, term[AZ_MAX_TERMS];
  Counters       c;
  PetscMPIInt    rank, size;
  const char    *why_stop = NULL;
  char           why_buf[400];

  PetscFunctionBegin;
  if (max_it <= 0) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCallMPI(MPI_Comm_rank(tr->comm, &rank));
  PetscCallMPI(MPI_Comm_size(tr->comm, &size));
  PetscCheck(P <= tr->bfgs_max_params, tr->comm, PETSC_ERR_ARG_OUTOFRANGE, "bfgs: the network has %" PetscInt_FMT " parameters, above -az_bfgs_max_params %" PetscInt_FMT ": its dense inverse Hessian would take %.2f GB (%.2f GB on each of the %d ranks). Use lbfgs (memory -az_lbfgs_m x %" PetscInt_FMT " numbers) or gn (-az_gn_solver cg, matrix-free), or raise -az_bfgs_max_params", P, tr->bfgs_max_params, 8e-9 * (double)P * (double)P, 8e-9 * (double)P * (double)P / size, (int)size, P);
  PetscCall(PetscMemzero(&L, sizeof L));
  PetscCall(PetscMemzero(&c, sizeof c));
  L.tr = tr;
  L.P  = P;
  PetscCall(DenseCreate(tr->comm, P, &D));
  PetscCall(PetscMalloc7(P, &L.x, P, &L.d, P, &g, P, &w, P, &u, P, &s, P, &y));
  PetscCall(PetscArrayzero(L.d, P)); /* φ'(0) at the first evaluation reads d: never uninitialised memory */
  PetscCall(VecDuplicate(tr->theta, &L.g));
  /* the checkpoint's copy of H lives on rank 0, the one that writes it, and only when checkpoints are written */
  PetscCall(VecCreateSeq(PETSC_COMM_SELF, AZ_BFGS_STATE_HEAD + (P <= AZ_BFGS_CKPT_MAX_PARAMS && rank == 0 && tr->checkpoint[0] && tr->checkpoint_every ? P + P * P : 0), &state));
  AzQNScaledIdentity(P, D.c0, D.nloc, D.H, 1); /* H_0 = I (the authors' hess_inv0) */
  PetscCall(AzLossConstraintsChange(tr->loss, &changes));
  segment = changes ? tr->lbfgs_segment : PETSC_MAX_INT;
  if (tr->restart_state && tr->restart_stage == tr->cur_stage) {
    PetscCall(LoadState(tr, tr->restart_state, segment, &D, L.d, &dir_loaded, &c));
    start = tr->restart_it;
    fresh = (PetscBool)(c.seg_it == 0 || c.seg_it >= segment);
  }
  {
    const PetscScalar *th;
    PetscCall(VecGetArrayRead(tr->theta, &th));
    for (PetscInt i = 0; i < P; i++) L.x[i] = th[i];
    PetscCall(VecRestoreArrayRead(tr->theta, &th));
  }
  for (;;) {
    PetscReal gtd, t1, t, ft, dt;
    PetscInt  nev;
    PetscBool found, finite;

    if (fresh && k < max_it) { /* a new segment: the constraints advance (H is kept) */
      if (changes) PetscCall(AzLossUpdateConstraints(tr->loss, tr->it, tr->total_it));
      c.seg_it    = 0;
      c.have_prev = PETSC_FALSE;
      fresh       = PETSC_FALSE;
      need_eval   = PETSC_TRUE;
      dir_loaded  = PETSC_FALSE; /* the loss changes: the direction is computed anew */
    }
    if (need_eval) { /* θ = x */
      PetscCall(Phi(&L, 0, &f, &dt, &finite));
      if (!finite) {
        char why[256];
        PetscCall(AzTrainerDiagnose(tr, L.term, why, sizeof why));
        PetscCall(AzTrainerFail(tr, "bfgs: the loss or its gradient is not finite at the %s point (%s); these parameters are kept", k ? "segment's starting" : "stage's starting", why));
        break;
      }
      need_dir   = (PetscBool)!dir_loaded; /* a restart inside a segment continues along the checkpoint's direction, bit for bit */
      dir_loaded = PETSC_FALSE;
    } /* else: the accepted line-search point is x, L holds its values, and d = −H∇f at it */
    need_eval = PETSC_FALSE;
    f         = L.f;
    PetscCall(PetscArraycpy(term, L.term, AZ_MAX_TERMS));
    {
      const PetscScalar *ga;
      PetscCall(VecGetArrayRead(L.g, &ga));
      for (PetscInt i = 0; i < P; i++) g[i] = ga[i];
      PetscCall(VecRestoreArrayRead(L.g, &ga));
    }
    PetscCall(AzTrainerRecord(tr, f, term, (PetscBool)(k == 0 || k == max_it)));
    if (k == max_it) break;
    if (need_dir) { /* p = −H ∇f by a pass over H (at the start and when the loss has changed) */
      PetscCall(DenseProducts(&D, g, NULL, w, NULL));
      for (PetscInt i = 0; i < P; i++) L.d[i] = -w[i];
      need_dir = PETSC_FALSE;
    }
    for (PetscInt attempt = 0;; attempt++) {
      PetscReal gg = 0;
      gtd          = 0;
      for (PetscInt i = 0; i < P; i++) gtd += g[i] * L.d[i], gg += g[i] * g[i];
      found = PETSC_FALSE;
      if (gg == 0) break;
      if (gtd < 0) {
        /* the first trial step, as scipy's line searches take it */
        t1 = 1.01 * 2 * (c.have_prev ? f - c.f_prev : -PetscSqrtReal(gg) / 2) / gtd;
        t1 = t1 > 0 && !PetscIsInfOrNanReal(t1) ? PetscMin(1, t1) : 1;
        PetscCall(AzQNLineSearch(Phi, &L, f, gtd, t1, &t, &ft, &dt, &nev, &found));
      }
      if (found || attempt == 1) break;
      /* no strong-Wolfe point along −H∇f (or not a descent direction): H ← γI, once */
      c.nreset++;
      PetscCall(Note(tr, &c, "the line search failed: H reset to the scaled identity", gtd < 0 ? "no strong-Wolfe point found" : "-H g is not a descent direction"));
      ScaledIdentity(&D, c.have_pair ? c.gamma : 1, g, L.d);
    }
    if (!found) {
      PetscReal gg = 0;
      for (PetscInt i = 0; i < P; i++) gg += g[i] * g[i];
      if (gg == 0) why_stop = "the gradient vanishes";
      else {
        PetscCall(PetscSNPrintf(why_buf, sizeof why_buf, "the line search finds no strong-Wolfe point along -H g, neither before nor after H was reset to the scaled identity (%" PetscInt_FMT " reset(s) of H in this stage): the loss cannot be lowered further at this precision", c.nreset));
        why_stop = why_buf;
      }
      break;
    }
    if (L.t != t) { /* the accepted point is the last one evaluated (qn.h); never otherwise, but be safe */
      PetscCall(Phi(&L, t, &ft, &dt, &finite));
    }
    /* accept x + t p; the pair s = t p, y = ∇f_new − ∇f, and sᵀ∇f (the old gradient) for b_k */
    {
      const PetscScalar *gn;
      PetscReal          sg = 0, yy = 0, ys = 0;
      AzQNUpdateInfo     info;
      PetscCall(VecGetArrayRead(L.g, &gn));
      for (PetscInt i = 0; i < P; i++) {
        s[i] = t * L.d[i];
        y[i] = gn[i] - g[i];
        sg += s[i] * g[i];
        yy += y[i] * y[i];
        ys += y[i] * s[i];
        L.x[i] = L.x[i] + t * L.d[i];
      }
      /* one pass over H_k: w = H_k ∇f_new, u = H_k y */
      PetscCall(DenseProducts(&D, gn, y, w, u));
      PetscCall(AzQNUpdateScalars((AzQNUpdateType)tr->bfgs_update, P, s, y, u, sg, t, &info));
      if (!info.skipped) { /* a second pass updates H; the next direction −H_{k+1}∇f_new from w, u, s */
        AzQNUpdateColumns(P, D.c0, D.nloc, D.H, u, s, &info, &finite);
        PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, &finite, 1, MPIU_BOOL, MPI_LAND, tr->comm));
        if (finite) {
          AzQNUpdatedProduct(P, &info, w, u, s, gn, L.d);
          for (PetscInt i = 0; i < P; i++) L.d[i] = -L.d[i];
        } else { /* overflow: the scaled identity of [NW] eq. (6.20) from this pair */
          ScaledIdentity(&D, ys / yy, gn, L.d);
          info.skipped = PETSC_TRUE;
          info.why     = "the updated H is not finite: reset to (sᵀy/yᵀy) I";
        }
      } else
        for (PetscInt i = 0; i < P; i++) L.d[i] = -w[i]; /* H kept */
      PetscCall(VecRestoreArrayRead(L.g, &gn));
      if (info.skipped) {
        c.nskip++;
        PetscCall(Note(tr, &c, "update skipped", info.why));
      }
      if (ys > 0 && yy > 0 && !PetscIsInfOrNanReal(ys / yy)) {
        c.have_pair = PETSC_TRUE;
        c.gamma     = ys / yy;
      }
    }
    c.f_prev    = f;
    c.have_prev = PETSC_TRUE;
    L.t         = 0; /* L now describes x itself */
    k++;
    c.seg_it++;
    tr->it++;
    if (c.seg_it >= segment) fresh = PETSC_TRUE;
    if (tr->checkpoint[0] && tr->checkpoint_every && (start + k) % tr->checkpoint_every == 0) {
      PetscCall(SetTheta(tr, L.x));
      PetscCall(SaveState(tr, &D, L.d, &c, state));
      PetscCall(AzTrainerCheckpoint(tr, start + k, state));
    }
  }
  PetscCall(SetTheta(tr, L.x));
  if (why_stop) PetscCall(AzTrainerStop(tr, "stopped after %" PetscInt_FMT " of %" PetscInt_FMT " iterations: %s", k, max_it, why_stop));
  if (!tr->quiet && (c.nskip || c.nreset)) PetscCall(PetscPrintf(tr->comm, "bfgs: %" PetscInt_FMT " update(s) skipped, %" PetscInt_FMT " reset(s) of H in this stage\n", c.nskip, c.nreset));
  if (!tr->quiet && L.nonfinite) PetscCall(PetscPrintf(tr->comm, "bfgs: %" PetscInt_FMT " trial point(s) gave NaN/Inf and were rejected by the line search\n", L.nonfinite));
  PetscCall(DenseDestroy(&D));
  PetscCall(PetscFree7(L.x, L.d, g, w, u, s, y));
  PetscCall(VecDestroy(&L.g));
  PetscCall(VecDestroy(&state));
  PetscFunctionReturn(PETSC_SUCCESS);
}
