/* The training loop: stages, progress, history and checkpoints. */
#include "trainerimpl.h"
#include "../util/blas.h"
#include <ansatz/compat.h>
#include <unistd.h>
#include <stdarg.h>

/* stage k runs the registered type name (AzTrainerTypeFind: its function and default iterations) */
static PetscErrorCode SetStage(AzTrainer tr, PetscInt k, const char name[], PetscInt *default_its)
{
  PetscBool found;
  char      valid[256];

  PetscFunctionBegin;
  PetscCall(AzTrainerTypeFind(name, tr->stage[k], &tr->stagefn[k], default_its, &found));
  if (!found) {
    PetscCall(AzTrainerTypeList(valid, sizeof valid));
    SETERRQ(tr->comm, PETSC_ERR_ARG_UNKNOWN_TYPE, "Unknown trainer type '%s' in -az_trainer_type: valid types are %s (a comma-separated chain, e.g. adam,lbfgs,gn)", name, valid);
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzTrainerCreate(AzLoss loss, AzField field, AzTrainer *trainer)
{
  AzTrainer tr;

  PetscFunctionBegin;
  PetscCall(PetscNew(&tr));
  PetscCall(AzLossGetComm(loss, &tr->comm));
  tr->loss  = loss;
  tr->field = field;
  PetscCall(AzLossSetUp(loss));
  PetscCall(AzLossGetNumTerms(loss, &tr->nterms));
  PetscCall(AzFieldGetParameters(field, &tr->theta));
  PetscCall(AzFieldGetNumParameters(field, &tr->nparam));
  tr->nstages        = 1;
  PetscCall(SetStage(tr, 0, "adam", NULL));
  tr->max_it[0]      = 1000;
  tr->lr             = 1e-3;
  tr->lr_decay       = 0.9;
  tr->lr_decay_steps = 1000;
  tr->beta1          = 0.9;
  tr->beta2          = 0.999;
  tr->eps            = 1e-8;
  tr->mu0            = 1e-3;
  tr->gn_pc          = AZ_GN_PC_NYSTROM;
  tr->nystrom_rank   = 60;
  tr->nystrom_every  = 1;
  tr->mu_min         = 1e-15;
  tr->mu_max         = 1e10;
  tr->max_failures   = 10;
  tr->blas_threads   = 1;
  tr->lbfgs_segment  = 50;
  tr->march          = 1;
  tr->lbfgs_m        = 10;
  tr->lbfgs_diag     = PETSC_TRUE;
  tr->bfgs_update    = 0; /* ssbroyden */
  tr->bfgs_max_params = 20000;
  tr->monitor_every  = 100;
  tr->tty            = isatty(1) ? PETSC_TRUE : PETSC_FALSE;
  tr->restart_stage  = -1;
  *trainer           = tr;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzTrainerSetFromOptions(AzTrainer tr)
{
  /* one slot more than allowed: PETSc fills at most the array's size, so a full array means too many */
  char      *types[AZ_MAX_STAGES + 1];
  PetscInt   ntypes = AZ_MAX_STAGES + 1, nits = AZ_MAX_STAGES + 1, its[AZ_MAX_STAGES + 1];
  PetscBool  set, setit;
  char       valid[256] = "";
  PetscInt   default_its[AZ_MAX_STAGES];

  PetscFunctionBegin;
  PetscCall(AzTrainerTypeList(valid, sizeof valid));
  PetscOptionsBegin(tr->comm, tr->prefix, "Trainer: optimisers and the training loop", "AzTrainer");
  PetscCall(PetscOptionsStringArray("-az_trainer_type", "stages, comma separated: a registered type (adam, lbfgs, gn, or one added with AzTrainerRegister)", "AzTrainerSetFromOptions", types, &ntypes, &set));
  PetscCall(PetscOptionsIntArray("-az_trainer_max_it", "iterations of each stage, comma separated", "AzTrainerSetFromOptions", its, &nits, &setit));
  PetscCall(PetscOptionsReal("-az_adam_lr", "Adam learning rate", "AzTrainAdam", tr->lr, &tr->lr, NULL));
  PetscCall(PetscOptionsReal("-az_adam_lr_decay", "Adam learning-rate decay factor per -az_adam_lr_decay_steps iterations", "AzTrainAdam", tr->lr_decay, &tr->lr_decay, NULL));
  PetscCall(PetscOptionsReal("-az_adam_lr_decay_steps", "iterations per learning-rate decay", "AzTrainAdam", tr->lr_decay_steps, &tr->lr_decay_steps, NULL));
  {
    const char *const solvers[] = {"auto", "dense", "cg", "AzGNSolver", "AZ_GN_", NULL};
    PetscCall(PetscOptionsEnum("-az_gn_solver", "Gauss-Newton linear solve: dense Cholesky of J^T J, matrix-free CG (preconditioned: -az_gn_pc), or auto (dense up to 4000 parameters, CG above)", "AzTrainGN", solvers, (PetscEnum)tr->gn_solver, (PetscEnum *)&tr->gn_solver, NULL));
  }
  {
    const char *const pcs[] = {"none", "nystrom", "AzGNPC", "AZ_GN_PC_", NULL};
    PetscCall(PetscOptionsEnum("-az_gn_pc", "preconditioner of the matrix-free CG solve: none, or nystrom (a randomized rank -az_gn_nystrom_rank approximation of J^T J, NNCG)", "AzTrainGN", pcs, (PetscEnum)tr->gn_pc, (PetscEnum *)&tr->gn_pc, NULL));
  }
  PetscCall(PetscOptionsInt("-az_gn_nystrom_rank", "directions of the Nystrom sketch of J^T J (each costs one J^T J product)", "AzTrainGN", tr->nystrom_rank, &tr->nystrom_rank, NULL));
  PetscCall(PetscOptionsInt("-az_gn_nystrom_every", "Gauss-Newton iterations between Nystrom sketches", "AzTrainGN", tr->nystrom_every, &tr->nystrom_every, NULL));
  PetscCall(PetscOptionsReal("-az_gn_mu_init", "initial Levenberg–Marquardt damping itself (0: -az_gn_mu0 times the mean diagonal of JᵀJ)", "AzTrainGN", tr->mu_init, &tr->mu_init, NULL));
  PetscCall(PetscOptionsReal("-az_gn_mu0", "initial Levenberg–Marquardt damping, relative to the mean diagonal of JᵀJ", "AzTrainGN", tr->mu0, &tr->mu0, NULL));
  {
    const char *const scales[] = {"scalar", "diagonal", "AzLBFGSScale", "AZ_LBFGS_", NULL};
    PetscEnum         sc       = tr->lbfgs_diag ? 1 : 0;
    PetscCall(PetscOptionsEnum("-az_lbfgs_scale", "L-BFGS initial Hessian: diagonal (per parameter, Gilbert-Lemarechal; the default) or scalar (gamma I, gamma = s'y/y'y)", "AzTrainLBFGS", scales, sc, &sc, NULL));
    tr->lbfgs_diag = sc == 1 ? PETSC_TRUE : PETSC_FALSE;
  }
  PetscCall(PetscOptionsInt("-az_lbfgs_m", "L-BFGS memory: curvature pairs kept (default 10)", "AzTrainLBFGS", tr->lbfgs_m, &tr->lbfgs_m, NULL));
  {
    const char *const updates[] = {"ssbroyden", "ssbfgs", "bfgs"};
    PetscCall(PetscOptionsEList("-az_bfgs_update", "bfgs stage: update of the dense inverse Hessian: ssbroyden (self-scaled Broyden, Urban et al. 2025), ssbfgs (self-scaled BFGS) or bfgs", "AzTrainBFGS", updates, 3, updates[tr->bfgs_update], &tr->bfgs_update, NULL));
  }
  PetscCall(PetscOptionsInt("-az_bfgs_max_params", "bfgs stage: largest network accepted (its inverse Hessian is P^2 numbers on every rank)", "AzTrainBFGS", tr->bfgs_max_params, &tr->bfgs_max_params, NULL));
  PetscCall(PetscOptionsInt("-az_lbfgs_segment", "L-BFGS iterations between updates of moving constraints (schedules, adaptive weights, multipliers)", "AzTrainLBFGS", tr->lbfgs_segment, &tr->lbfgs_segment, NULL));
  PetscCall(PetscOptionsInt("-az_time_march", "time-marching: train on K growing windows [t0, t0 + (t1 - t0) j/K], j = 1..K, warm-started, every stage's iterations split evenly over them (1: no marching)", "AzTrainerTrain", tr->march, &tr->march, NULL));
  PetscCall(PetscOptionsInt("-az_trainer_blas_threads", "OpenBLAS threads for the dense linear algebra of training (the Gauss-Newton normal matrix and its Cholesky, the Nystrom sketch, the dense quasi-Newton products); the same count gives the same bits whatever OPENBLAS_NUM_THREADS says (0: OpenBLAS's own setting)", "AzTrainerTrain", tr->blas_threads, &tr->blas_threads, NULL));
  PetscCall(PetscOptionsInt("-az_trainer_max_failures", "NaN/Inf or failed steps tolerated in a row before training stops", "AzTrainerTrain", tr->max_failures, &tr->max_failures, NULL));
  PetscCall(PetscOptionsInt("-az_monitor_every", "iterations between history lines (and error measurements)", "AzTrainerTrain", tr->monitor_every, &tr->monitor_every, NULL));
  PetscCall(PetscOptionsBool("-az_quiet", "no progress output", "AzTrainerTrain", tr->quiet, &tr->quiet, NULL));
  PetscCall(PetscOptionsInt("-az_checkpoint_every", "iterations between checkpoints (0: none)", "AzTrainerCheckpoint", tr->checkpoint_every, &tr->checkpoint_every, NULL));
  PetscCall(PetscOptionsString("-az_restart", "continue from this checkpoint file", "AzTrainerTrain", tr->restart, tr->restart, sizeof tr->restart, NULL));
  PetscOptionsEnd();
  if (set && ntypes > AZ_MAX_STAGES) {
    for (PetscInt k = 0; k < ntypes; k++) PetscCall(PetscFree(types[k]));
    SETERRQ(tr->comm, PETSC_ERR_ARG_OUTOFRANGE, "-az_trainer_type gives more than %d stages: at most %d are allowed", AZ_MAX_STAGES, AZ_MAX_STAGES);
  }
  PetscCheck(!setit || nits <= AZ_MAX_STAGES, tr->comm, PETSC_ERR_ARG_OUTOFRANGE, "-az_trainer_max_it gives more than %d iteration counts: at most %d stages are allowed", AZ_MAX_STAGES, AZ_MAX_STAGES);
  PetscCheck(!set || ntypes >= 1, tr->comm, PETSC_ERR_ARG_WRONG, "-az_trainer_type needs at least one stage: %s", valid);
  if (set) {
    PetscErrorCode ierr = PETSC_SUCCESS;
    tr->nstages         = ntypes;
    for (PetscInt k = 0; k < ntypes; k++) {
      if (!ierr) ierr = SetStage(tr, k, types[k], &default_its[k]);
      PetscCall(PetscFree(types[k]));
    }
    PetscCall(ierr);
  } else
    for (PetscInt k = 0; k < tr->nstages; k++) {
      char name[AZ_TRAINER_NAME_LEN];
      PetscCall(PetscStrncpy(name, tr->stage[k], sizeof name));
      PetscCall(SetStage(tr, k, name, &default_its[k]));
    }
  if (setit) {
    PetscCheck(nits == tr->nstages || nits == 1, tr->comm, PETSC_ERR_ARG_SIZ, "-az_trainer_max_it gives %" PetscInt_FMT " iteration counts for %" PetscInt_FMT " stage(s): give one per stage, or one for all", nits, tr->nstages);
    for (PetscInt k = 0; k < tr->nstages; k++) tr->max_it[k] = its[nits == 1 ? 0 : k];
  } else
    for (PetscInt k = 0; k < tr->nstages; k++) tr->max_it[k] = default_its[k];
  {
    PetscInt64 total = 0;
    for (PetscInt k = 0; k < tr->nstages; k++) {
      PetscCheck(tr->max_it[k] >= 0, tr->comm, PETSC_ERR_ARG_OUTOFRANGE, "-az_trainer_max_it: iteration count %" PetscInt_FMT " of stage %" PetscInt_FMT " must be non-negative", tr->max_it[k], k);
      total += tr->max_it[k];
    }
    PetscCheck(total <= PETSC_MAX_INT / 2, tr->comm, PETSC_ERR_ARG_OUTOFRANGE, "-az_trainer_max_it: %lld iterations in all; at most %d are allowed", (long long)total, (int)(PETSC_MAX_INT / 2));
  }
#define AZ_CHECK_REAL(cond, opt, val, allowed) PetscCheck(!PetscIsInfOrNanReal(val) && (cond), tr->comm, PETSC_ERR_ARG_OUTOFRANGE, opt " must be " allowed ", not %g", (double)(val))
  AZ_CHECK_REAL(tr->lr > 0, "-az_adam_lr", tr->lr, "positive and finite");
  AZ_CHECK_REAL(tr->lr_decay > 0 && tr->lr_decay <= 1, "-az_adam_lr_decay", tr->lr_decay, "in (0, 1]");
  AZ_CHECK_REAL(tr->lr_decay_steps > 0, "-az_adam_lr_decay_steps", tr->lr_decay_steps, "positive and finite");
  AZ_CHECK_REAL(tr->mu0 > 0, "-az_gn_mu0", tr->mu0, "positive and finite");
  AZ_CHECK_REAL(tr->mu_init >= 0, "-az_gn_mu_init", tr->mu_init, "non-negative and finite (0: relative, -az_gn_mu0)");
#undef AZ_CHECK_REAL
  PetscCheck(tr->nystrom_rank >= 1 && tr->nystrom_rank <= 10000, tr->comm, PETSC_ERR_ARG_OUTOFRANGE, "-az_gn_nystrom_rank must be in 1..10000, not %" PetscInt_FMT, tr->nystrom_rank);
  PetscCheck(tr->nystrom_every >= 1, tr->comm, PETSC_ERR_ARG_OUTOFRANGE, "-az_gn_nystrom_every must be at least 1, not %" PetscInt_FMT, tr->nystrom_every);
  PetscCheck(tr->monitor_every >= 1, tr->comm, PETSC_ERR_ARG_OUTOFRANGE, "-az_monitor_every must be at least 1, not %" PetscInt_FMT, tr->monitor_every);
  PetscCheck(tr->lbfgs_segment >= 1, tr->comm, PETSC_ERR_ARG_OUTOFRANGE, "-az_lbfgs_segment must be at least 1, not %" PetscInt_FMT, tr->lbfgs_segment);
  PetscCheck(tr->lbfgs_m >= 1 && tr->lbfgs_m <= 1000, tr->comm, PETSC_ERR_ARG_OUTOFRANGE, "-az_lbfgs_m must be in 1..1000, not %" PetscInt_FMT, tr->lbfgs_m);
  PetscCheck(tr->bfgs_max_params >= 1, tr->comm, PETSC_ERR_ARG_OUTOFRANGE, "-az_bfgs_max_params must be at least 1, not %" PetscInt_FMT, tr->bfgs_max_params);
  for (PetscInt k = 0; k < tr->nstages; k++)
    PetscCheck(tr->stagefn[k] != AzTrainBFGS || tr->nparam <= tr->bfgs_max_params, tr->comm, PETSC_ERR_ARG_OUTOFRANGE, "-az_trainer_type: stage %" PetscInt_FMT " (%s) keeps a dense inverse Hessian, but the network has %" PetscInt_FMT " parameters, above -az_bfgs_max_params %" PetscInt_FMT ": %.2f GB on every rank. Use lbfgs (-az_lbfgs_m x %" PetscInt_FMT " numbers) or gn (-az_gn_solver cg, matrix-free) for this network, or raise -az_bfgs_max_params", k + 1, tr->stage[k], tr->nparam, tr->bfgs_max_params, 8e-9 * (double)tr->nparam * (double)tr->nparam, tr->nparam);
  PetscCheck(tr->march >= 1 && tr->march <= 1000, tr->comm, PETSC_ERR_ARG_OUTOFRANGE, "-az_time_march must be between 1 (no marching) and 1000 windows, not %" PetscInt_FMT, tr->march);
  PetscCheck(tr->march == 1 || (!tr->restart[0] && !tr->checkpoint_every), tr->comm, PETSC_ERR_ARG_WRONG, "-az_time_march does not combine with checkpoints (-az_checkpoint_every, -az_restart): a checkpoint does not record the time window");
  PetscCheck(tr->blas_threads >= 0 && tr->blas_threads <= 1024, tr->comm, PETSC_ERR_ARG_OUTOFRANGE, "-az_trainer_blas_threads %" PetscInt_FMT " must be between 0 (OpenBLAS's own setting) and 1024", tr->blas_threads);
  PetscCheck(tr->max_failures >= 1, tr->comm, PETSC_ERR_ARG_OUTOFRANGE, "-az_trainer_max_failures must be at least 1, not %" PetscInt_FMT, tr->max_failures);
  PetscCheck(tr->checkpoint_every >= 0, tr->comm, PETSC_ERR_ARG_OUTOFRANGE, "-az_checkpoint_every must be non-negative (0: no checkpoints), not %" PetscInt_FMT, tr->checkpoint_every);
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzTrainerSetCheckpointFile(AzTrainer tr, const char path[])
{
  PetscFunctionBegin;
  tr->checkpoint[0] = 0;
  if (path) PetscCall(PetscStrncpy(tr->checkpoint, path, sizeof tr->checkpoint));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscBool AzTrainerVecIsFinite(Vec v)
{
  PetscReal n;
  if (VecNorm(v, NORM_INFINITY, &n)) return PETSC_FALSE;
  return PetscIsInfOrNanReal(n) ? PETSC_FALSE : PETSC_TRUE;
}

PetscBool AzTrainerFailed(AzTrainer tr)
{
  return tr->reason == AZ_TRAINER_FAILED ? PETSC_TRUE : PETSC_FALSE;
}

PetscErrorCode AzTrainerFail(AzTrainer tr, const char fmt[], ...)
{
  va_list ap;
  size_t  off;

  PetscFunctionBegin;
  tr->reason = AZ_TRAINER_FAILED;
  off        = (size_t)snprintf(tr->reason_msg, sizeof tr->reason_msg, "%s stage %" PetscInt_FMT ", iteration %" PetscInt_FMT ": ", tr->stage[tr->cur_stage], tr->cur_stage + 1, tr->it);
  va_start(ap, fmt);
  if (off < sizeof tr->reason_msg) vsnprintf(tr->reason_msg + off, sizeof tr->reason_msg - off, fmt, ap);
  va_end(ap);
  PetscCall(PetscPrintf(tr->comm, "%straining failed: %s\n", tr->tty && !tr->quiet ? "\n" : "", tr->reason_msg));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzTrainerStop(AzTrainer tr, const char fmt[], ...)
{
  va_list ap;
  size_t  off;

  PetscFunctionBegin;
  off = (size_t)snprintf(tr->reason_msg, sizeof tr->reason_msg, "%s stage %" PetscInt_FMT ", iteration %" PetscInt_FMT ": ", tr->stage[tr->cur_stage], tr->cur_stage + 1, tr->it);
  va_start(ap, fmt);
  if (off < sizeof tr->reason_msg) vsnprintf(tr->reason_msg + off, sizeof tr->reason_msg - off, fmt, ap);
  va_end(ap);
  if (!tr->quiet) PetscCall(PetscPrintf(tr->comm, "%s%s\n", tr->tty ? "\n" : "", tr->reason_msg));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzTrainerDiagnose(AzTrainer tr, const PetscReal term_in[], char buf[], size_t len)
{
  PetscReal   f, term[AZ_MAX_TERMS];
  const char *name;
  Vec         g;

  PetscFunctionBegin;
  if (term_in) PetscCall(PetscArraycpy(term, term_in, tr->nterms));
  else PetscCall(AzLossEvaluate(tr->loss, &f, term, NULL));
  if (!AzTrainerVecIsFinite(tr->theta)) {
    snprintf(buf, len, "the parameters are NaN/Inf");
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  for (PetscInt k = 0; k < tr->nterms; k++)
    if (PetscIsInfOrNanReal(term[k])) {
      PetscCall(AzLossGetTermName(tr->loss, k, &name));
      snprintf(buf, len, "term %s: residual is %s", name, PetscIsNanReal(term[k]) ? "NaN" : "Inf");
      PetscFunctionReturn(PETSC_SUCCESS);
    }
  /* finite residuals: a term's Jacobian (its gradient alone) */
  PetscCall(VecDuplicate(tr->theta, &g));
  for (PetscInt k = 0; k < tr->nterms; k++) {
    PetscReal n;
    PetscCall(AzLossTermGradient(tr->loss, k, g));
    PetscCall(VecNorm(g, NORM_INFINITY, &n));
    if (PetscIsInfOrNanReal(n)) {
      PetscCall(AzLossGetTermName(tr->loss, k, &name));
      snprintf(buf, len, "term %s: Jacobian is %s", name, PetscIsNanReal(n) ? "NaN" : "Inf");
      PetscCall(VecDestroy(&g));
      PetscFunctionReturn(PETSC_SUCCESS);
    }
  }
  PetscCall(VecDestroy(&g));
  snprintf(buf, len, "every term's residual and Jacobian are finite, their weighted sum is not (a weight is NaN/Inf, or it overflows)");
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Record the state after tr->it iterations (one history line = one θ: its loss, terms and error):
 * a line every monitor_every iterations, and when forced (the first and last state of a stage); a
 * state already recorded (same iteration) is not recorded twice. */
PetscErrorCode AzTrainerRecord(AzTrainer tr, PetscReal loss, const PetscReal term[], PetscBool force)
{
  AzHistoryEntry *h;
  PetscLogDouble  now;
  PetscBool       has_exact;
  PetscReal       rel, maxabs;
  PetscInt        ninfer;
  const char *const *inames;

  PetscFunctionBegin;
  if (!force && tr->it % tr->monitor_every) PetscFunctionReturn(PETSC_SUCCESS);
  if (tr->nhist && tr->hist[tr->nhist - 1].it == tr->it) PetscFunctionReturn(PETSC_SUCCESS);
  if (tr->nhist == tr->caphist) {
    AzHistoryEntry *bigger;
    tr->caphist = tr->caphist ? 2 * tr->caphist : 256;
    PetscCall(PetscMalloc1(tr->caphist, &bigger));
    if (tr->nhist) PetscCall(PetscArraycpy(bigger, tr->hist, tr->nhist));
    PetscCall(PetscFree(tr->hist));
    tr->hist = bigger;
  }
  PetscCall(PetscTime(&now));
  PetscCall(AzLossExactError(tr->loss, &has_exact, &rel, &maxabs));
  h         = &tr->hist[tr->nhist++];
  h->it     = tr->it;
  h->stage  = tr->cur_stage;
  h->loss   = loss;
  h->rel_l2 = rel;
  h->wall   = now - tr->t0;
  for (PetscInt k = 0; k < tr->nterms; k++) h->term[k] = term ? term[k] : (PetscReal)NAN;
  {
    PetscInt         m;
    const PetscReal *w;
    PetscCall(AzLossGetCausal(tr->loss, &m, &w, &h->causal_eps));
    h->causal_wmin = m ? w[m - 1] : (PetscReal)NAN;
  }
  PetscCall(AzLossGetResample(tr->loss, NULL, NULL, &h->npde, &h->nresampled));
  PetscCall(AzLossGetInferred(tr->loss, &ninfer, &inames, h->infer));
  if (!tr->quiet) {
    /* the rate of this stage alone: stages differ by orders of magnitude in time per iteration */
    const PetscReal elapsed = (PetscReal)(now - tr->stage_t0);
    const PetscInt  done    = tr->it - tr->stage_it0;
    const PetscReal rate    = elapsed > 0 && done > 0 ? done / elapsed : 0;
    const PetscReal eta     = AzTrainerETA(done, elapsed, tr->total_it - tr->it);
    char            line[512];
    size_t          off = 0;
    off += (size_t)snprintf(line + off, sizeof line - off, "%-5s it %6" PetscInt_FMT "  loss %.3e", tr->stage[tr->cur_stage], tr->it, (double)loss);
    for (PetscInt k = 0; k < tr->nterms && off < sizeof line; k++) {
      const char *name;
      PetscCall(AzLossGetTermName(tr->loss, k, &name));
      off += (size_t)snprintf(line + off, sizeof line - off, "  %s %.2e", name, (double)h->term[k]);
    }
    if (!PetscIsNanReal(h->causal_wmin) && off < sizeof line) off += (size_t)snprintf(line + off, sizeof line - off, "  eps %g min_w %.3f", (double)h->causal_eps, (double)h->causal_wmin);
    for (PetscInt k = 0; k < ninfer && off < sizeof line; k++) off += (size_t)snprintf(line + off, sizeof line - off, "  %s %.6g", inames[k], (double)h->infer[k]);
    if (has_exact && off < sizeof line) off += (size_t)snprintf(line + off, sizeof line - off, "  rel_l2 %.3e", (double)rel);
    if (off < sizeof line) snprintf(line + off, sizeof line - off, "  %.0f it/s  eta %.0fs", (double)rate, (double)eta);
    /* one updating line on a terminal, plain lines otherwise (files, pipes, CI logs) */
    if (tr->tty) PetscCall(PetscPrintf(tr->comm, "\r%s\033[K%s", line, force ? "\n" : ""));
    else PetscCall(PetscPrintf(tr->comm, "%s\n", line));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Checkpoint file: the field header of theta.bin with magic "AZCKPT" (the architecture, see
 * src/field/save.c), then int64 [format version, number of stages, stage, the stage's trainer type,
 * iteration within the stage, global iteration, optimiser state length, constraint state length],
 * then doubles: θ, the stage's optimiser state, the constraint strategies' state (weights, penalties,
 * multipliers). Written by rank 0 (θ is the same on every rank) through AzFile: a temporary file
 * renamed into place, so a crash or a full disk never leaves a half-written checkpoint. */
#define AZ_CHECKPOINT_VERSION 1

PetscErrorCode AzTrainerCheckpoint(AzTrainer tr, PetscInt stage_it, Vec state)
{
  Vec                cstate = NULL;
  AzFile             file;
  int64_t            rec[8];
  const PetscScalar *a;
  PetscInt           n;

  PetscFunctionBegin;
  if (!tr->checkpoint[0] || !tr->checkpoint_every || stage_it % tr->checkpoint_every) PetscFunctionReturn(PETSC_SUCCESS);
  if (!AzTrainerVecIsFinite(tr->theta)) PetscFunctionReturn(PETSC_SUCCESS); /* never a bad point to restart from */
  PetscCall(AzLossConstraintStateSave(tr->loss, &cstate)); /* collective; the Vec on rank 0 only */
  PetscCall(AzFileOpen(tr->comm, tr->checkpoint, &file));
  PetscCall(AzFieldWriteHeader(tr->field, file, "AZCKPT"));
  rec[0] = AZ_CHECKPOINT_VERSION;
  rec[1] = tr->nstages;
  rec[2] = tr->cur_stage;
  rec[3] = AzTrainerTypeNumber(tr->stage[tr->cur_stage]);
  rec[4] = stage_it;
  rec[5] = tr->it;
  rec[6] = 0;
  rec[7] = 0;
  if (state) {
    PetscCall(VecGetSize(state, &n));
    rec[6] = n;
  }
  if (cstate) {
    PetscCall(VecGetSize(cstate, &n));
    rec[7] = n;
  }
  PetscCall(AzFileWrite(file, rec, sizeof rec));
  PetscCall(VecGetArrayRead(tr->theta, &a));
  PetscCall(AzFileWrite(file, a, sizeof(PetscScalar) * (size_t)tr->nparam));
  PetscCall(VecRestoreArrayRead(tr->theta, &a));
  if (state) {
    PetscCall(VecGetArrayRead(state, &a));
    PetscCall(AzFileWrite(file, a, sizeof(PetscScalar) * (size_t)rec[6]));
    PetscCall(VecRestoreArrayRead(state, &a));
  }
  if (cstate) {
    PetscCall(VecGetArrayRead(cstate, &a));
    PetscCall(AzFileWrite(file, a, sizeof(PetscScalar) * (size_t)rec[7]));
    PetscCall(VecRestoreArrayRead(cstate, &a));
  }
  PetscCall(VecDestroy(&cstate));
  PetscCall(AzFileClose(&file));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* n doubles from the checkpoint into a new sequential Vec; every one must be finite (on an error the
 * Vec is destroyed and *v is NULL) */
static PetscErrorCode ReadFinite(AzTrainer tr, FILE *fp, PetscInt n, const char what[], Vec *v)
{
  PetscScalar   *a;
  PetscErrorCode ierr;
  PetscInt       bad = -1;

  PetscFunctionBegin;
  PetscCall(VecCreateSeq(PETSC_COMM_SELF, n, v));
  PetscCall(VecGetArrayWrite(*v, &a));
  ierr = AzFieldFileRead(tr->comm, fp, tr->restart, a, sizeof(PetscScalar) * (size_t)n, what);
  for (PetscInt i = 0; i < n && !ierr && bad < 0; i++)
    if (PetscIsInfOrNanScalar(a[i])) bad = i;
  PetscCall(VecRestoreArrayWrite(*v, &a));
  if (ierr || bad >= 0) PetscCall(VecDestroy(v));
  PetscCall(ierr);
  PetscCheck(bad < 0, tr->comm, PETSC_ERR_FILE_UNEXPECTED, "Restart file %s: %s hold NaN/Inf (entry %" PetscInt_FMT ")", tr->restart, what, bad);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* the checkpoint's header, checked, then θ and the constraint state into new Vecs (the optimiser's
 * state into tr->restart_state) */
static PetscErrorCode ReadRestart(AzTrainer tr, FILE *fp, int64_t rec[8], Vec *theta, Vec *cstate)
{
  long pos, end;

  PetscFunctionBegin;
  PetscCall(AzFieldReadHeader(tr->field, fp, tr->restart, "AZCKPT", "a checkpoint"));
  PetscCall(AzFieldFileRead(tr->comm, fp, tr->restart, rec, 8 * sizeof(int64_t), "its header (stage and iteration)"));
  PetscCheck(rec[0] == AZ_CHECKPOINT_VERSION, tr->comm, PETSC_ERR_FILE_UNEXPECTED, "Restart file %s has checkpoint version %lld; this ansatz reads version %d", tr->restart, (long long)rec[0], AZ_CHECKPOINT_VERSION);
  /* rec[1]: the stages of the run that wrote it; a restart may add stages after the one it stopped in */
  PetscCheck(rec[2] >= 0 && rec[2] < tr->nstages, tr->comm, PETSC_ERR_FILE_UNEXPECTED, "Restart file %s stopped in stage %lld; stages are 0..%" PetscInt_FMT, tr->restart, (long long)rec[2], tr->nstages - 1);
  PetscCheck(rec[3] == AzTrainerTypeNumber(tr->stage[rec[2]]), tr->comm, PETSC_ERR_FILE_UNEXPECTED, "Restart file %s stopped in a stage of type %s; stage %lld is now %s: restart with the same -az_trainer_type", tr->restart, AzTrainerTypeName(rec[3]), (long long)rec[2] + 1, tr->stage[rec[2]]);
  PetscCheck(rec[4] >= 0 && rec[4] <= tr->max_it[rec[2]], tr->comm, PETSC_ERR_FILE_UNEXPECTED, "Restart file %s stopped at iteration %lld of stage %lld, outside 0..%" PetscInt_FMT " (its -az_trainer_max_it)", tr->restart, (long long)rec[4], (long long)rec[2] + 1, tr->max_it[rec[2]]);
  PetscCheck(rec[5] >= rec[4] && rec[5] <= tr->total_it, tr->comm, PETSC_ERR_FILE_UNEXPECTED, "Restart file %s: global iteration %lld is not between the stage's %lld and the %" PetscInt_FMT " of all stages", tr->restart, (long long)rec[5], (long long)rec[4], tr->total_it);
  /* the lengths must account for the rest of the file exactly (no huge allocation from a bad count) */
  pos = ftell(fp);
  PetscCheck(pos >= 0 && fseek(fp, 0, SEEK_END) == 0 && (end = ftell(fp)) >= pos && fseek(fp, pos, SEEK_SET) == 0, tr->comm, PETSC_ERR_FILE_READ, "Cannot determine the size of the restart file %s", tr->restart);
  PetscCheck(rec[6] >= 0 && rec[7] >= 1 && rec[6] <= (end - pos) / 8 && rec[7] <= (end - pos) / 8 && (tr->nparam + rec[6] + rec[7]) * 8 == end - pos, tr->comm, PETSC_ERR_FILE_UNEXPECTED, "Restart file %s is truncated or corrupt: it announces %lld optimiser and %lld constraint state values after %" PetscInt_FMT " parameters, but %ld bytes follow", tr->restart, (long long)rec[6], (long long)rec[7], tr->nparam, end - pos);
  PetscCall(ReadFinite(tr, fp, tr->nparam, "the parameters", theta));
  if (rec[6]) PetscCall(ReadFinite(tr, fp, (PetscInt)rec[6], "the optimiser state", &tr->restart_state));
  PetscCall(ReadFinite(tr, fp, (PetscInt)rec[7], "the constraint state", cstate));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* on any error the file is closed and nothing read is kept */
static PetscErrorCode LoadRestart(AzTrainer tr)
{
  FILE          *fp;
  int64_t        rec[8];
  Vec            theta = NULL, cstate = NULL;
  PetscErrorCode ierr;

  PetscFunctionBegin;
  fp = fopen(tr->restart, "rb");
  PetscCheck(fp, tr->comm, PETSC_ERR_FILE_OPEN, "Cannot read the restart file %s given by -az_restart", tr->restart);
  ierr = ReadRestart(tr, fp, rec, &theta, &cstate);
  fclose(fp);
  if (!ierr) ierr = AzLossConstraintStateLoad(tr->loss, cstate);
  if (ierr) {
    PetscCall(VecDestroy(&theta));
    PetscCall(VecDestroy(&cstate));
    PetscCall(VecDestroy(&tr->restart_state));
  }
  PetscCall(ierr);
  PetscCall(VecDestroy(&cstate));
  PetscCall(VecCopy(theta, tr->theta));
  PetscCall(VecDestroy(&theta));
  tr->restart_stage = (PetscInt)rec[2];
  tr->restart_it    = (PetscInt)rec[4];
  tr->it            = (PetscInt)rec[5];
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode Train(AzTrainer tr)
{
  PetscFunctionBegin;
  PetscCall(PetscTime(&tr->t0));
  tr->reason        = AZ_TRAINER_COMPLETED;
  tr->reason_msg[0] = 0;
  tr->total_it      = 0;
  for (PetscInt s = 0; s < tr->nstages; s++) tr->total_it += tr->max_it[s];
  if (tr->restart[0]) {
    AzResampleType rs;
    PetscCall(AzLossGetResample(tr->loss, &rs, NULL, NULL, NULL));
    PetscCheck(rs == AZ_RESAMPLE_NONE, tr->comm, PETSC_ERR_ARG_WRONG, "-az_restart does not combine with -az_resample %s: a checkpoint does not hold the resampled collocation set, so the run could not continue where it stopped", AzResampleTypes[rs]);
    PetscCall(LoadRestart(tr));
  }
  /* time-marching: windows 1 .. K−1 with every stage's share of iterations, then the whole span with
   * the rest below (its share and the remainders) */
  for (PetscInt j = 1; j < tr->march && !AzTrainerFailed(tr); j++) {
    PetscCall(AzLossSetTimeWindow(tr->loss, j, tr->march));
    if (!tr->quiet) PetscCall(PetscPrintf(tr->comm, "time-marching: window %" PetscInt_FMT " of %" PetscInt_FMT "\n", j, tr->march));
    for (PetscInt s = 0; s < tr->nstages && !AzTrainerFailed(tr); s++) {
      tr->cur_stage = s;
      tr->stage_it0 = tr->it;
      PetscCall(PetscTime(&tr->stage_t0));
      PetscCall(tr->stagefn[s](tr, tr->max_it[s] / tr->march));
    }
  }
  if (tr->march > 1) {
    PetscCall(AzLossSetTimeWindow(tr->loss, tr->march, tr->march));
    if (!tr->quiet) PetscCall(PetscPrintf(tr->comm, "time-marching: window %" PetscInt_FMT " of %" PetscInt_FMT " (the whole span)\n", tr->march, tr->march));
  }
  for (PetscInt s = 0; s < tr->nstages && !AzTrainerFailed(tr); s++) {
    PetscInt its = tr->max_it[s];
    if (tr->restart_stage > s) continue;
    tr->cur_stage = s;
    tr->stage_it0 = tr->it;
    PetscCall(PetscTime(&tr->stage_t0));
    if (tr->restart_stage == s) its -= tr->restart_it;
    if (tr->march > 1) its -= (tr->march - 1) * (its / tr->march); /* what the earlier windows left */
    PetscCall(tr->stagefn[s](tr, its));
    tr->restart_stage = -1;
    PetscCall(VecDestroy(&tr->restart_state));
  }
  /* every optimiser keeps finite parameters; this is the last line of defence, never "completed" */
  if (!AzTrainerFailed(tr)) {
    PetscReal f, term[AZ_MAX_TERMS];
    PetscCall(AzLossEvaluate(tr->loss, &f, term, NULL));
    if (PetscIsInfOrNanReal(f) || !AzTrainerVecIsFinite(tr->theta)) {
      char why[256];
      PetscCall(AzTrainerDiagnose(tr, term, why, sizeof why));
      PetscCall(AzTrainerFail(tr, "training ended in a non-finite state: %s", why));
    }
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* OpenBLAS's threads pinned for the whole of training (src/util/blas.h), restored after it, an error
 * included: the dense Gauss-Newton step (normal.c's dsyrk, gn.c's Cholesky), the Nystrom sketch and the
 * dense quasi-Newton products split their sums by the thread count, so without the pin a run's results
 * followed OPENBLAS_NUM_THREADS. The field's GEMMs inside pin their own count (-az_field_blas_threads). */
PetscErrorCode AzTrainerTrain(AzTrainer tr)
{
  PetscErrorCode ierr;
  int            old;

  PetscFunctionBegin;
  AzBlasThreadsPush(tr->blas_threads, &old);
  ierr = Train(tr);
  AzBlasThreadsPop(tr->blas_threads, old);
  PetscCall(ierr);
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzTrainerGetBlasThreads(AzTrainer tr, PetscInt *n)
{
  PetscFunctionBegin;
  *n = tr->blas_threads;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzTrainerDestroy(AzTrainer *tr)
{
  PetscFunctionBegin;
  if (!*tr) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(PetscFree((*tr)->hist));
  PetscCall(VecDestroy(&(*tr)->restart_state));
  PetscCall(PetscFree((*tr)->prefix));
  PetscCall(PetscFree(*tr));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzTrainerGetHistory(AzTrainer tr, PetscInt *n, const AzHistoryEntry **h)
{
  PetscFunctionBegin;
  *n = tr->nhist;
  *h = tr->hist;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzTrainerGetStopReason(AzTrainer tr, AzTrainerReason *reason, const char **msg)
{
  PetscFunctionBegin;
  if (reason) *reason = tr->reason;
  if (msg) *msg = tr->reason_msg[0] ? tr->reason_msg : "completed";
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzTrainerGetLinearIterations(AzTrainer tr, PetscInt *solves, PetscInt *iterations, PetscInt *sketch_products)
{
  PetscFunctionBegin;
  if (solves) *solves = tr->lin_solves;
  if (iterations) *iterations = tr->lin_its;
  if (sketch_products) *sketch_products = tr->sketch_products;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzTrainerGetNumRollbacks(AzTrainer tr, PetscInt *n)
{
  PetscFunctionBegin;
  *n = tr->nrollback;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzTrainerGetIterations(AzTrainer tr, PetscInt *its)
{
  PetscFunctionBegin;
  *its = tr->it;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzTrainerGetDescription(AzTrainer tr, char buf[], size_t len)
{
  PetscFunctionBegin;
  buf[0] = 0;
  for (PetscInt s = 0; s < tr->nstages; s++) {
    PetscCall(PetscStrlcat(buf, s ? "," : "", len));
    PetscCall(PetscStrlcat(buf, tr->stage[s], len));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzTrainerSetOptionsPrefix(AzTrainer tr, const char prefix[])
{
  PetscFunctionBegin;
  PetscCheck(!prefix || prefix[0] != '-', tr->comm, PETSC_ERR_ARG_WRONG, "An options prefix must not start with '-' (got '%s')", prefix);
  PetscCall(PetscFree(tr->prefix));
  if (prefix && prefix[0]) PetscCall(PetscStrallocpy(prefix, &tr->prefix));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzTrainerGetOptionsPrefix(AzTrainer tr, const char *prefix[])
{
  PetscFunctionBegin;
  *prefix = tr->prefix;
  PetscFunctionReturn(PETSC_SUCCESS);
}
