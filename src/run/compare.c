/* `ansatz compare`: every enforcement strategy on one problem with the same network, points, seed
 * and budget, measured against the same yardstick, in one table with plots. */
#include "compareimpl.h"
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define AZ_MAX_STRATEGIES 16

typedef AzCompareResult Result;

/* the directory of setting p's runs: dir itself without a sweep, dir/LABEL with one */
static void SettingDirectory(const char dir[], const AzCompareSweep *sw, PetscInt p, char out[], size_t len)
{
  char label[PETSC_MAX_PATH_LEN];
  if (!sw->nopt) {
    snprintf(out, len, "%s", dir);
    return;
  }
  AzCompareSweepLabel(sw, p, PETSC_TRUE, label, sizeof label);
  snprintf(out, len, "%s/%s", dir, label);
}

static PetscBool PositiveFinite(const char *s)
{
  char  *end;
  double w = strtod(s, &end);
  return (end != s && !*end && isfinite(w) && w > 0) ? PETSC_TRUE : PETSC_FALSE;
}

/* "soft", "soft@100" (constant weight 100), "soft-linear", "soft-cosine", "adaptive", "auglag", "hard"
 * for the boundary and initial conditions; "project" and "posthoc" (soft conditions, the conservation
 * laws projected in training or after it) and "probconserv" (soft conditions, the laws imposed after training
 * by the ProbConserv update with the Laplace covariance), or any of the first with "+project" / "+posthoc" / "+probconserv" /
 * "+conserve" (a penalty on the laws; "+conserve-linear", "-cosine", "-adaptive", "-auglag" for its
 * other strategies) and "+softplus" (positive components by construction) or "+positivity" (its
 * penalty, with the same variants), "+bounds" (bounded components by construction) or "+bounds-soft"
 * (their penalty; "+bounds-linear", ... as for positivity) or "+divfree" (velocity from a stream function) */
static const char *PenaltyVariant(const char *tok, const char *stem)
{
  const char *variants[] = {"linear", "cosine", "adaptive", "auglag"};
  size_t      n          = strlen(stem);
  if (strncmp(tok, stem, n)) return NULL;
  if (!tok[n]) return "soft";
  if (tok[n] != '-') return NULL;
  for (int k = 0; k < 4; k++)
    if (!strcmp(tok + n + 1, variants[k])) return variants[k];
  return NULL;
}

/* Strategy k (from 0) reads its options under the prefix "s<k+1>_": -s2_az_adam_lr 3e-3 is strategy
 * 2's learning rate. Its own settings (the constraint, law and positivity strategies, the weight of
 * soft@w, a stream function) are entries -s<k+1>_az_X in the options database, inserted only where
 * the user gave none; the global options are never written. Precedence for each strategy: the user's
 * -s<k+1>_az_X, then the strategy's own setting, then the user's global -az_X, then compare's
 * defaults (-az_time_slices, -az_monitor_every), then the built-in default. */
static void StrategyPrefix(PetscInt k, char prefix[], size_t len)
{
  snprintf(prefix, len, "s%d_", (int)(k + 1));
}

/* -PREFIXname value in the database unless the user gave it; marked used (it is compare's, not the
 * user's: a stage that does not read it is no misspelling) */
static PetscErrorCode SetUnlessGiven(const char prefix[], const char name[], const char value[])
{
  char      full[128];
  PetscBool given;

  PetscFunctionBegin;
  snprintf(full, sizeof full, "-%s%s", prefix, name + 1);
  PetscCall(PetscOptionsHasName(NULL, NULL, full, &given));
  if (!given) {
    PetscCall(PetscOptionsSetValue(NULL, full, value));
    PetscCall(PetscOptionsHasName(NULL, NULL, full, &given)); /* marks it used */
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* compare's default for an option: under prefix unless the user gave it, prefixed or global */
static PetscErrorCode DefaultUnlessGiven(const char prefix[], const char name[], const char value[])
{
  PetscBool given;

  PetscFunctionBegin;
  PetscCall(PetscOptionsHasName(NULL, NULL, name, &given));
  if (!given) PetscCall(SetUnlessGiven(prefix, name, value));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Check the strategy's name; with a prefix, apply its settings under it (see StrategyPrefix) */
static PetscErrorCode StrategyOptions(MPI_Comm comm, const char *name, const char prefix[])
{
  char        base[64], *at, *plus;
  const char *con = NULL, *conserve = NULL, *penalty = NULL, *v;
  const char *bpenalty = NULL;
  PetscBool   positive = PETSC_FALSE, bounded = PETSC_FALSE, divfree = PETSC_FALSE, hardpde = PETSC_FALSE, moe = PETSC_FALSE;
  const char *choices = "soft, soft@WEIGHT (a constant penalty weight), soft-linear, soft-cosine, adaptive, auglag, hard, project, posthoc, probconserv, hardpde (a solved output layer: -az_hardpde), hardpde-moe (its mixture of experts: -az_moe_experts, default one per rank), or one of the first seven with +project, +posthoc, +probconserv or +conserve[-linear|-cosine|-adaptive|-auglag] (a penalty on the laws; e.g. hard+project) and/or +softplus (positivity by construction), +positivity[-linear|-cosine|-adaptive|-auglag] (its penalty), +bounds (bounds by construction), +bounds-soft|-linear|-cosine|-adaptive|-auglag (their penalty) or +divfree (a divergence-free velocity from a stream function)";

  PetscFunctionBegin;
  PetscCall(PetscStrncpy(base, name, sizeof base));
  plus = strchr(base, '+');
  if (plus) {
    *plus++ = 0;
    for (char *save = NULL, *tok = strtok_r(plus, "+", &save); tok; tok = strtok_r(NULL, "+", &save)) {
      if (!strcmp(tok, "project") || !strcmp(tok, "posthoc") || !strcmp(tok, "probconserv") || (v = PenaltyVariant(tok, "conserve"))) {
        PetscCheck(!conserve, comm, PETSC_ERR_ARG_WRONG, "Strategy '%s': project, posthoc, probconserv and conserve exclude each other", name);
        conserve = !strcmp(tok, "project") ? "project" : (!strcmp(tok, "posthoc") ? "posthoc" : (!strcmp(tok, "probconserv") ? "probconserv" : v));
      } else if (!strcmp(tok, "softplus")) positive = PETSC_TRUE;
      else if ((v = PenaltyVariant(tok, "positivity"))) penalty = v;
      else if (!strcmp(tok, "bounds")) bounded = PETSC_TRUE;
      else if (!strcmp(tok, "bounds-soft")) bpenalty = "soft";
      else if (!strncmp(tok, "bounds-", 7) && (v = PenaltyVariant(tok, "bounds")) && strcmp(v, "soft")) bpenalty = v;
      else if (!strcmp(tok, "divfree")) divfree = PETSC_TRUE;
      else SETERRQ(comm, PETSC_ERR_ARG_UNKNOWN_TYPE, "Strategy '%s': after + comes project, posthoc, conserve[-linear|-cosine|-adaptive|-auglag], probconserv, softplus, positivity[-linear|-cosine|-adaptive|-auglag], bounds, bounds-soft|-linear|-cosine|-adaptive|-auglag or divfree, not '%s'", name, tok);
    }
  }
  if (!strcmp(base, "project") || !strcmp(base, "posthoc") || !strcmp(base, "probconserv")) {
    PetscCheck(!conserve, comm, PETSC_ERR_ARG_WRONG, "Strategy '%s': choose from %s", name, choices);
    conserve = !strcmp(base, "project") ? "project" : (!strcmp(base, "posthoc") ? "posthoc" : "probconserv");
    PetscCall(PetscStrncpy(base, "soft", sizeof base));
  }
  if (!strcmp(base, "hardpde") || !strcmp(base, "hardpde-moe")) { /* the PDE, boundary and initial residuals least at constraint points by solved output weights */
    PetscCheck(!plus, comm, PETSC_ERR_ARG_WRONG, "Strategy '%s': %s takes no +suffix (it does not combine with projections, exact positivity or bounds, or a stream function)", name, base);
    hardpde = PETSC_TRUE;
    moe     = base[7] ? PETSC_TRUE : PETSC_FALSE;
    PetscCall(PetscStrncpy(base, "soft", sizeof base));
  }
  at = strchr(base, '@');
  if (at) *at++ = 0;
  if (!strcmp(base, "soft")) con = "soft";
  else if (!strcmp(base, "soft-linear")) con = "linear";
  else if (!strcmp(base, "soft-cosine")) con = "cosine";
  else if (!strcmp(base, "adaptive")) con = "adaptive";
  else if (!strcmp(base, "auglag")) con = "auglag";
  else if (!strcmp(base, "hard")) con = "hard";
  else SETERRQ(comm, PETSC_ERR_ARG_UNKNOWN_TYPE, "Unknown strategy '%s' in -az_strategies: choose from %s", name, choices);
  PetscCheck(!at || !strcmp(base, "soft"), comm, PETSC_ERR_ARG_WRONG, "Strategy '%s': a weight (@w) goes with soft only", name);
  PetscCheck(!at || PositiveFinite(at), comm, PETSC_ERR_ARG_OUTOFRANGE, "Strategy '%s': the weight after @ must be a positive finite number, not '%s'", name, at);
  PetscCheck(!(positive && penalty), comm, PETSC_ERR_ARG_WRONG, "Strategy '%s': +softplus (positivity by construction) and +positivity (its penalty) exclude each other", name);
  PetscCheck(!(bounded && bpenalty), comm, PETSC_ERR_ARG_WRONG, "Strategy '%s': +bounds (bounds by construction) and +bounds-%s (their penalty) exclude each other", name, bpenalty);
  if (!prefix) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(SetUnlessGiven(prefix, "-az_constraint", con));
  if (conserve) PetscCall(SetUnlessGiven(prefix, "-az_conservation", conserve));
  if (positive) PetscCall(SetUnlessGiven(prefix, "-az_positivity", "hard"));
  if (penalty) PetscCall(SetUnlessGiven(prefix, "-az_positivity", penalty));
  if (bounded) PetscCall(SetUnlessGiven(prefix, "-az_bounds", "hard"));
  if (bpenalty) PetscCall(SetUnlessGiven(prefix, "-az_bounds", bpenalty));
  if (divfree) PetscCall(SetUnlessGiven(prefix, "-az_divfree", "1"));
  if (hardpde) PetscCall(SetUnlessGiven(prefix, "-az_hardpde", "1"));
  if (hardpde && !moe) PetscCall(SetUnlessGiven(prefix, "-az_moe_experts", "1")); /* the global solve even under a global -az_moe_experts */
  if (moe) PetscCall(DefaultUnlessGiven(prefix, "-az_moe_experts", "0"));          /* one expert per rank unless the user says */
  if (at) {
    PetscCall(SetUnlessGiven(prefix, "-az_weight_boundary", at));
    PetscCall(SetUnlessGiven(prefix, "-az_weight_initial", at));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* conservation.csv in a strategy's directory: t and Q(t) − Q* for every law at AZ_DRIFT_TIMES times,
 * Q* the law's value or the law at the initial data (the times the drift in the table is taken over) */
static PetscErrorCode WriteConservation(MPI_Comm comm, const char dir[], const AzProblemInfo *info, AzLoss loss, PetscInt nlaws)
{
  const PetscInt nt = AZ_DRIFT_TIMES;
  PetscReal      t[AZ_DRIFT_TIMES], Q[AZ_MAX_LAWS][AZ_DRIFT_TIMES], target[AZ_MAX_LAWS], M[AZ_MAX_LAWS][AZ_DRIFT_TIMES];
  char           path[PETSC_MAX_PATH_LEN + 128];
  AzFile         f;

  PetscFunctionBegin;
  for (PetscInt l = 0; l < nlaws; l++) {
    PetscCall(AzLossConservationSeries(loss, l, nt, t, Q[l], &target[l]));
    PetscCall(AzLossConservationTargets(loss, l, nt, t, M[l])); /* Q*(t): constant, or varying in time */
  }
  snprintf(path, sizeof path, "%s/conservation.csv", dir);
  PetscCall(AzFileOpen(comm, path, &f));
  PetscCall(AzFilePrintf(f, "t"));
  for (PetscInt l = 0; l < nlaws; l++) PetscCall(AzFilePrintf(f, ",%s_drift_vs_Qstar", info->conservation[l].name));
  PetscCall(AzFilePrintf(f, "\n"));
  for (PetscInt j = 0; j < nt; j++) {
    PetscCall(AzFilePrintf(f, "%.6g", (double)t[j]));
    for (PetscInt l = 0; l < nlaws; l++) {
      if (PetscIsInfOrNanReal(Q[l][j] - target[l]) || PetscIsInfOrNanReal(M[l][j])) PetscCall(AzFilePrintf(f, ",n/a"));
      else PetscCall(AzFilePrintf(f, ",%.6e", (double)(Q[l][j] - M[l][j])));
    }
    PetscCall(AzFilePrintf(f, "\n"));
  }
  PetscCall(AzFileClose(&f));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* max(0, −min u_c) over the evaluation grid for the components the problem requires positive; with
 * bounds, max(a_c − u_c, u_c − b_c, 0) for the components it declares bounded (NaN: none) */
static PetscErrorCode BoundViolation(AzProblem prob, AzLoss loss, PetscBool bounds, PetscReal *viol)
{
  const AzProblemInfo *info;
  PetscInt             ncoord, m = 41, total = 1, nslot;
  PetscReal            lo[AZ_MAX_COORD], hi[AZ_MAX_COORD];
  PetscBool            any = PETSC_FALSE;

  PetscFunctionBegin;
  PetscCall(AzProblemGetInfo(prob, &info));
  for (PetscInt c = 0; c < info->ncomp; c++) any = any || (bounds ? info->bounded[c] : info->positive[c]);
  *viol = (PetscReal)NAN;
  if (!any) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(AzProblemGetNumCoords(prob, &ncoord));
  PetscCall(AzProblemGetBox(prob, lo, hi));
  nslot = AZ_JET_NSLOT(ncoord);
  for (PetscInt d = 0; d < ncoord; d++) total *= m;
  *viol = 0;
  for (PetscInt i = 0; i < total; i++) {
    PetscReal   x[AZ_MAX_COORD];
    PetscScalar jet[AZ_MAX_COMP * AZ_JET_MAX_NSLOT];
    PetscInt    q = i;
    for (PetscInt d = 0; d < ncoord; d++, q /= m) x[d] = lo[d] + (hi[d] - lo[d]) * (PetscReal)(q % m) / (m - 1);
    PetscCall(AzLossEvaluateSolution(loss, 1, x, jet));
    for (PetscInt c = 0; c < info->ncomp; c++)
      if (bounds && info->bounded[c]) *viol = PetscMax(*viol, PetscMax(info->bound_lower[c] - PetscRealPart(jet[c * nslot]), PetscRealPart(jet[c * nslot]) - info->bound_upper[c]));
      else if (!bounds && info->positive[c]) *viol = PetscMax(*viol, -PetscRealPart(jet[c * nslot]));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* max |∂u_a/∂x + ∂u_b/∂y| over the evaluation grid, (a, b) from -az_divfree_components (default 0, 1):
 * for a 2-D problem with a velocity; NaN otherwise (or when the problem does not read those derivatives) */
static PetscErrorCode DivergenceViolation(AzProblem prob, AzLoss loss, PetscReal *viol)
{
  const char          *prefix;
  const AzProblemInfo *info;
  PetscInt             ncoord, m = 41, total = 1, nslot, comps[2] = {0, 1}, n = 2;
  PetscReal            lo[AZ_MAX_COORD], hi[AZ_MAX_COORD];
  AzJetRequest         req;

  PetscFunctionBegin;
  PetscCall(AzProblemGetInfo(prob, &info));
  *viol = (PetscReal)NAN;
  PetscBool            set;
  PetscCall(AzLossGetOptionsPrefix(loss, &prefix));
  PetscCall(PetscOptionsGetIntArray(NULL, prefix, "-az_divfree_components", comps, &n, &set));
  if (!set) n = 2;
  if (info->dim != 2 || info->ncomp < 2 || n != 2 || comps[0] < 0 || comps[1] < 0 || comps[0] >= info->ncomp || comps[1] >= info->ncomp) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(AzProblemGetNumCoords(prob, &ncoord));
  PetscCall(AzProblemGetJetRequest(prob, &req));
  PetscCall(AzJetRequestClose(&req));
  if (!(req.mask & ((PetscInt)1 << AzJetSlotD1(ncoord, 0))) || !(req.mask & ((PetscInt)1 << AzJetSlotD1(ncoord, 1)))) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(AzProblemGetBox(prob, lo, hi));
  nslot = AZ_JET_NSLOT(ncoord);
  for (PetscInt d = 0; d < ncoord; d++) total *= m;
  *viol = 0;
  for (PetscInt i = 0; i < total; i++) {
    PetscReal   x[AZ_MAX_COORD];
    PetscScalar jet[AZ_MAX_COMP * AZ_JET_MAX_NSLOT], div;
    PetscInt    q = i;
    for (PetscInt d = 0; d < ncoord; d++, q /= m) x[d] = lo[d] + (hi[d] - lo[d]) * (PetscReal)(q % m) / (m - 1);
    PetscCall(AzLossEvaluateSolution(loss, 1, x, jet));
    div   = jet[comps[0] * nslot + AzJetSlotD1(ncoord, 0)] + jet[comps[1] * nslot + AzJetSlotD1(ncoord, 1)];
    *viol = PetscMax(*viol, PetscIsInfOrNanReal(PetscAbsScalar(div)) ? PETSC_MAX_REAL : PetscAbsScalar(div));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* field.dat: the best strategy's solution, the yardstick and the error of every component on a grid
 * (1 or 2 coordinates): the coordinates, then u_c, yardstick_c, error_c for each component c */
static PetscErrorCode WriteFieldData(MPI_Comm comm, const char dir[], AzProblem prob, AzLoss loss, AzReference ref)
{
  const AzProblemInfo *info;
  const PetscReal     *param;
  PetscInt             ncoord, m, ncomp, nslot;
  PetscReal            lo[AZ_MAX_COORD], hi[AZ_MAX_COORD];
  char                 path[PETSC_MAX_PATH_LEN + 16];
  PetscMPIInt          rank;
  AzFile               f;

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  PetscCall(AzProblemGetInfo(prob, &info));
  PetscCall(AzProblemGetNumCoords(prob, &ncoord));
  PetscCall(AzProblemGetParams(prob, &param));
  PetscCall(AzProblemGetBox(prob, lo, hi));
  PetscCall(AzRunSolutionJetSize(prob, &ncomp, &nslot));
  if (ncoord > 2) PetscFunctionReturn(PETSC_SUCCESS);
  m = ncoord == 1 ? 401 : 121;
  snprintf(path, sizeof path, "%s/field.dat", dir);
  PetscCall(AzFileOpen(comm, path, &f));
  if (rank == 0) {
    PetscCall(AzFilePrintf(f, "# %s", ncoord == 2 ? (info->time_dependent ? "x t" : "x y") : "x"));
    for (PetscInt c = 0; c < ncomp; c++) {
      char name[64];
      PetscCall(AzRunComponentName(prob, c, name, sizeof name));
      PetscCall(AzFilePrintf(f, " %s %s_yardstick %s_error", name, name, name));
    }
    PetscCall(AzFilePrintf(f, "\n"));
    for (PetscInt j = 0; j < (ncoord == 2 ? m : 1); j++) {
      for (PetscInt i = 0; i < m; i++) {
        PetscReal   x[2] = {lo[0] + (hi[0] - lo[0]) * i / (m - 1), ncoord == 2 ? lo[1] + (hi[1] - lo[1]) * j / (m - 1) : 0};
        PetscScalar jet[AZ_MAX_COMP * AZ_JET_MAX_NSLOT], ue[AZ_MAX_COMP];
        AzPoint     p = {x, ncoord, param, -1};
        for (PetscInt c = 0; c < AZ_MAX_COMP; c++) ue[c] = NAN;
        PetscCall(AzLossEvaluateSolution(loss, 1, x, jet));
        if (info->exact) PetscCall(info->exact(&p, ue));
        else if (ref) PetscCall(AzReferenceInterpolate(ref, 1, x, ue));
        for (PetscInt d = 0; d < ncoord; d++) PetscCall(AzFilePrintf(f, "%s%.8g", d ? " " : "", (double)x[d]));
        for (PetscInt c = 0; c < ncomp; c++) {
          const PetscReal u = PetscRealPart(jet[c * nslot]), y = PetscRealPart(ue[c]);
          PetscCall(AzFilePrintf(f, " %.10g %.10g %.10g", (double)u, (double)y, (double)(u - y)));
        }
        PetscCall(AzFilePrintf(f, "\n"));
      }
      if (ncoord == 2) PetscCall(AzFilePrintf(f, "\n"));
    }
  }
  PetscCall(AzFileClose(&f));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* the plot file of component c: solution.png for a single component, solution_NAME.png otherwise */
static void PlotName(const char stem[], const char comp[], PetscInt ncomp, char out[], size_t len)
{
  if (ncomp == 1) snprintf(out, len, "%s.png", stem);
  else {
    size_t o = (size_t)snprintf(out, len, "%s_", stem);
    for (const char *s = comp; *s && o + 5 < len; s++) out[o++] = (isalnum((unsigned char)*s) || *s == '-') ? *s : '_';
    snprintf(out + o, len - o, ".png");
  }
}

/* -az_plot_components: which components to plot, by index or name ("0,2" or "u,p"); default all */
static PetscErrorCode PlotComponents(MPI_Comm comm, AzProblem prob, const char list[], PetscInt *n, PetscInt comps[])
{
  PetscInt ncomp, nslot;
  char     buf[256], known[512] = "";

  PetscFunctionBegin;
  PetscCall(AzRunSolutionJetSize(prob, &ncomp, &nslot));
  for (PetscInt c = 0; c < ncomp; c++) {
    char name[64];
    PetscCall(AzRunComponentName(prob, c, name, sizeof name));
    PetscCall(PetscStrlcat(known, c ? ", " : "", sizeof known));
    PetscCall(PetscStrlcat(known, name, sizeof known));
  }
  *n = 0;
  if (!list[0]) {
    for (PetscInt c = 0; c < ncomp; c++) comps[(*n)++] = c;
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  PetscCall(PetscStrncpy(buf, list, sizeof buf));
  for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
    PetscInt c = -1;
    char    *end;
    long     v = strtol(tok, &end, 10);
    if (end != tok && !*end) c = (v >= 0 && v < ncomp) ? (PetscInt)v : -2;
    for (PetscInt k = 0; k < ncomp && c == -1; k++) {
      char name[64];
      PetscCall(AzRunComponentName(prob, k, name, sizeof name));
      if (!strcmp(name, tok)) c = k;
    }
    PetscCheck(c >= 0, comm, PETSC_ERR_ARG_OUTOFRANGE, "-az_plot_components: no component '%s'; the problem has %" PetscInt_FMT " (by index 0..%" PetscInt_FMT " or name: %s)", tok, ncomp, ncomp - 1, known);
    PetscCheck(*n < AZ_MAX_COMP, comm, PETSC_ERR_ARG_SIZ, "-az_plot_components: at most %d components", AZ_MAX_COMP);
    comps[(*n)++] = c;
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* gnuplot script and PNGs: error against iteration for every strategy, drift over time, the best
 * strategy's solution and error for every chosen component (field.dat's columns) */
/* (nrep > 1: the median error of each strategy with its min-max band, from history_band.csv, and the
 * drift of its first repeat; res[best] the best run) */
/* (a sweep: the error and drift plots have a panel per setting, every strategy in the same colour in
 * each; summary.png a bar per strategy and setting, coloured by strategy) */
static PetscErrorCode Plots(MPI_Comm comm, const char dir[], AzProblem prob, Result res[], PetscInt n, const AzCompareSweep *sw, PetscInt nrep, PetscInt best, PetscInt nplot, const PetscInt plot[], PetscInt nlaws, PetscBool *made)
{
  const AzProblemInfo *info;
  char                 path[PETSC_MAX_PATH_LEN + 32], cmd[2 * PETSC_MAX_PATH_LEN + 64];
  PetscInt             ncoord, ncomp, nslot, first = 1;
  PetscMPIInt          rank;
  AzFile               f;
  int                  ok = 0;

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  PetscCall(AzProblemGetInfo(prob, &info));
  PetscCall(AzProblemGetNumCoords(prob, &ncoord));
  PetscCall(AzRunSolutionJetSize(prob, &ncomp, &nslot));
  snprintf(path, sizeof path, "%s/plots.gp", dir);
  PetscCall(AzFileOpen(comm, path, &f));
  PetscCall(AzFilePrintf(f, "# gnuplot plots.gp (in this directory) remakes the figures\nset terminal pngcairo size 900,600\nset datafile separator ','\nset datafile columnheaders\n"));
  const PetscInt npts = sw->npts, ncol = n * npts, pcols = (PetscInt)PetscCeilReal(PetscSqrtReal((PetscReal)npts)), prows = (npts + pcols - 1) / pcols;
  for (int drift = 0; drift < 2; drift++) {
    if (drift && !(nlaws > 0 && info->time_dependent)) break;
    if (!drift) PetscCall(AzFilePrintf(f, "set output 'error_vs_iteration.png'\nset logscale y\nset xlabel 'iteration'\nset ylabel 'relative L2 error'\nset key outside right\nset grid\n"));
    /* |Q(t) − Q*| of the first law; a floor of 1e-17 keeps exact zeros on the log scale */
    else PetscCall(AzFilePrintf(f, "\nset output 'drift_vs_time.png'\nset xlabel 't'\nset ylabel '|Q(t) - Q*| (%s)'\nset format y '%%.0e'\n", info->conservation[0].name));
    if (sw->nopt) PetscCall(AzFilePrintf(f, "set terminal pngcairo size %d,%d\nset multiplot layout %d,%d\n", (int)(700 * pcols), (int)(450 * prows), (int)prows, (int)pcols));
    for (PetscInt p = 0; p < npts; p++) {
      char at[PETSC_MAX_PATH_LEN] = "", label[1024];
      if (sw->nopt) {
        AzCompareSweepLabel(sw, p, PETSC_TRUE, at, sizeof at - 1);
        PetscCall(PetscStrlcat(at, "/", sizeof at));
        AzCompareSweepLabel(sw, p, PETSC_FALSE, label, sizeof label);
        PetscCall(AzFilePrintf(f, "set title '%s' noenhanced\n", label));
      }
      PetscCall(AzFilePrintf(f, "plot "));
      if (drift)
        for (PetscInt k = 0; k < n; k++) PetscCall(AzFilePrintf(f, "%s'%s%s%s/conservation.csv' using 1:(abs($2) + 1e-17) with lines lw 2 lc %d title '%s%s'", k ? ", \\\n     " : "", at, res[k].name, nrep > 1 ? "/repeat-1" : "", (int)(k + 1), res[k].name, nrep > 1 ? " (repeat 1)" : ""));
      else if (nrep > 1) { /* the band first, the median over it, in the strategy's colour */
        PetscCall(AzFilePrintf(f, "%s", "\\\n     "));
        for (PetscInt k = 0; k < n; k++) PetscCall(AzFilePrintf(f, "%s'%s%s/history_band.csv' using 1:3:4 with filledcurves fs transparent solid 0.2 noborder lc %d notitle, '' using 1:2 with lines lw 2 lc %d title '%s (median of %d)'", k ? ", \\\n     " : "", at, res[k].name, (int)(k + 1), (int)(k + 1), res[k].name, (int)nrep));
      } else
        for (PetscInt k = 0; k < n; k++) PetscCall(AzFilePrintf(f, "%s'%s%s/history.csv' using (column(\"iteration\")):(column(\"rel_l2\")) with lines lw 2 lc %d title '%s'", k ? ", \\\n     " : "", at, res[k].name, (int)(k + 1), res[k].name));
      PetscCall(AzFilePrintf(f, "\n"));
    }
    if (sw->nopt) PetscCall(AzFilePrintf(f, "unset multiplot\nunset title\nset terminal pngcairo size 900,600\n"));
    if (drift) PetscCall(AzFilePrintf(f, "set format y '%%g'"));
  }
  /* the figure to look at first: each strategy's error beside its drift (without a law in time, its
   * wall time), bars on log scales from compare.csv (the medians over repeats); a floor of 1e-17 keeps a
   * zero drift visible */
  const char *med = nrep > 1 ? " (median over the repeats)" : "";
  /* with a sweep: a bar per strategy and setting, labelled with both, in the strategy's colour */
  char xtic[64], colour[2][64];
  snprintf(xtic, sizeof xtic, "%s", sw->nopt ? "xtic(strcol(1).' '.strcol(2))" : "xtic(1)");
  snprintf(colour[0], sizeof colour[0], "%s", sw->nopt ? "lc variable" : "lc rgb '#3060b0'");
  snprintf(colour[1], sizeof colour[1], "%s", sw->nopt ? "lc variable" : "lc rgb '#b04030'");
  char lcv[64] = "";
  if (sw->nopt) snprintf(lcv, sizeof lcv, ":(int($0) %% %d + 1)", (int)n);
  PetscCall(AzFilePrintf(f, "\nset terminal pngcairo size %d,600\nset output 'summary.png'\nset multiplot layout 1,2\nunset key\nset style fill solid 0.7 border -1\nset boxwidth 0.7\nset xtics rotate by -40 left noenhanced\nset format y '%%.0e'\nunset xlabel\nset xrange [-0.6:%g]\n", (int)PetscMax(1200, 300 + 80 * ncol), (double)ncol - 0.4));
  PetscCall(AzFilePrintf(f, "set title 'relative L2 error (lower is better)%s'\nset ylabel 'rel L2'\nplot 'compare.csv' using 0:(column(\"rel_l2%s\"))%s:%s with boxes %s\n", med, med[0] ? "_median" : "", lcv, xtic, colour[0]));
  if (nlaws > 0 && info->time_dependent) PetscCall(AzFilePrintf(f, "set title 'conservation drift max_t |Q(t) - Q*| (%s)'\nset ylabel 'drift'\nplot 'compare.csv' using 0:(column(\"drift_vs_Qstar%s\") + 1e-17)%s:%s with boxes %s\n", info->conservation[0].name, med[0] ? "_median" : "", lcv, xtic, colour[1]));
  else PetscCall(AzFilePrintf(f, "set title 'wall time (s)'\nset ylabel 's'\nset format y '%%g'\nplot 'compare.csv' using 0:(column(\"wall_seconds%s\"))%s:%s with boxes %s\n", med[0] ? "_median" : "", lcv, xtic, colour[1]));
  PetscCall(AzFilePrintf(f, "unset multiplot\nset terminal pngcairo size 900,600\nset output\nset xtics norotate\nset format y '%%g'\nunset xrange\nunset title\nset style fill empty\nset boxwidth\n"));
  PetscCall(AzFilePrintf(f, "\nunset logscale y\nset datafile separator whitespace\nset datafile nocolumnheaders\nunset key\n"));
  if (ncoord <= 2) {
    first = ncoord + 1; /* field.dat: the coordinates, then u, yardstick, error per component */
    if (ncoord == 2) PetscCall(AzFilePrintf(f, "set autoscale fix\nset xlabel 'x'\nset ylabel '%s'\n", info->time_dependent ? "t" : "y"));
    else PetscCall(AzFilePrintf(f, "set xlabel 'x'\n"));
  }
  for (PetscInt i = 0; i < nplot && ncoord <= 2; i++) {
    const PetscInt c = plot[i], col = first + 3 * c;
    char           name[64], sol[128], err[128];
    PetscCall(AzRunComponentName(prob, c, name, sizeof name));
    PlotName("solution", name, ncomp, sol, sizeof sol);
    PlotName("error", name, ncomp, err, sizeof err);
    if (ncoord == 2) {
      PetscCall(AzFilePrintf(f, "set output '%s'\nset title '%s, strategy %s'\nplot 'field.dat' using 1:2:%d with image\n", sol, name, res[best].name, (int)col));
      PetscCall(AzFilePrintf(f, "set output '%s'\nset title '%s - yardstick, strategy %s'\nplot 'field.dat' using 1:2:%d with image\n", err, name, res[best].name, (int)col + 2));
    } else {
      PetscCall(AzFilePrintf(f, "set output '%s'\nset key\nset title '%s, strategy %s'\nplot 'field.dat' using 1:%d with lines lw 2 title '%s', '' using 1:%d with lines dt 2 title 'yardstick'\n", sol, name, res[best].name, (int)col, name, (int)col + 1));
      PetscCall(AzFilePrintf(f, "set output '%s'\nunset key\nset title '%s - yardstick, strategy %s'\nplot 'field.dat' using 1:%d with lines lw 2\n", err, name, res[best].name, (int)col + 2));
    }
  }
  PetscCall(AzFileClose(&f));
  if (rank == 0) {
    snprintf(cmd, sizeof cmd, "cd '%s' && gnuplot plots.gp > plots.log 2>&1", dir);
    ok = system(cmd) == 0;
  }
  PetscCallMPI(MPI_Bcast(&ok, 1, MPI_INT, 0, comm));
  *made = ok ? PETSC_TRUE : PETSC_FALSE;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* an inverse problem: every strategy starts from the parameters' values as given (its initial guesses) */
static PetscErrorCode RestoreParams(AzProblem prob, PetscInt n, const PetscReal param0[])
{
  PetscFunctionBegin;
  for (PetscInt k = 0; k < n; k++) PetscCall(AzProblemSetParam(prob, k, param0[k]));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Strategy k's field, loss and trainer, set up from the options under its prefix (StrategyPrefix): the
 * same code checks every strategy before any training and builds each in its turn. The network is
 * the same for every strategy (the field's options are not prefixed; a stream function, the
 * strategy's, decides its number of outputs). */
static PetscErrorCode SetUpStrategy(MPI_Comm comm, AzProblem prob, PetscInt k, const char strategy[], AzField *field, AzLoss *loss, AzTrainer *tr)
{
  char prefix[16];

  PetscFunctionBegin;
  *field = NULL;
  *loss  = NULL;
  *tr    = NULL;
  StrategyPrefix(k, prefix, sizeof prefix);
  PetscCall(StrategyOptions(comm, strategy, prefix));
  PetscCall(AzRunCreateFieldWithPrefix(prob, prefix, field)); /* the same seed: the same initial network */
  PetscCall(AzLossCreate(prob, *field, loss));
  PetscCall(AzLossSetOptionsPrefix(*loss, prefix));
  PetscCall(AzLossSetFromOptions(*loss));
  PetscCall(AzLossSetUp(*loss));
  PetscCall(AzTrainerCreate(*loss, *field, tr));
  PetscCall(AzTrainerSetOptionsPrefix(*tr, prefix));
  PetscCall(AzTrainerSetFromOptions(*tr));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* the results a compare run writes at its top level, and in each strategy's directory */
static const char *const CompareFiles[]  = {"compare.csv", "compare.md", "compare_runs.csv", "verdicts.csv", "report.md", "plots.gp", "plots.log", "field.dat", "field.h5", "field.xmf", "options.txt", "*.png", NULL};
static const char *const StrategyFiles[] = {"history.csv", "conservation.csv", "options.txt", "result.txt", "history_band.csv", "options.check", NULL};

PetscErrorCode AzRunCompare(MPI_Comm comm)
{
  char                 name[PETSC_MAX_PATH_LEN] = "poisson2d", dir[PETSC_MAX_PATH_LEN] = "", list[1024] = "soft,soft-cosine,adaptive,auglag,hard", path[PETSC_MAX_PATH_LEN + 32], plotlist[256] = "", story[2048] = "";
  char                *strategies[AZ_MAX_STRATEGIES];
  PetscInt             n = 0, ncoord, best = -1, its, nplot, plot[AZ_MAX_COMP], nfailed = 0;
  AzProblem            prob;
  const AzProblemInfo *info;
  AzReference          ref = NULL;
  AzReferenceStats     rstats;
  Result              *res = NULL; /* run (repeat r, strategy k) at res[r * n + k] */
  PetscInt             nrep = 1, stop_after = 0, ntrained = 0, nkept = 0, fseed[AZ_MAX_STRATEGIES], cseed[AZ_MAX_STRATEGIES];
  PetscBool            resume = PETSC_FALSE;
  PetscInt             ngroups = 1, color = 0, *color_of = NULL; /* -az_compare_groups: this rank's group, every rank's */
  MPI_Comm             gcomm = comm;                              /* the group's ranks (comm itself for one group) */
  AzProblem            gprob = NULL;                              /* the problem and the reference on them */
  AzReference          gref  = NULL;
  PetscMPIInt          rank, size;
  PetscBool            plots = PETSC_FALSE, projects = PETSC_FALSE;
  char                 trainer[128] = "";
  PetscInt             nlaws = 0;
  char                 sub[2 * PETSC_MAX_PATH_LEN + 1300];
  char                 refline[1024] = "", recipe[2048];
  PetscReal            param0[AZ_MAX_PARAMS];
  PetscInt             nparam0 = 0;
  PetscBool            inverse = PETSC_FALSE; /* a strategy infers parameters (-az_infer) */
  char                 sweeptext[4096] = "";
  AzCompareSweep       sweep;                 /* -az_sweep: the settings (one, with no option, without it) */
  PetscInt             npts, ncol, nruns;     /* settings; columns (strategy, setting); runs: columns × repeats */
  char                 setdir[PETSC_MAX_PATH_LEN + 1100];

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  PetscCallMPI(MPI_Comm_size(comm, &size));
  PetscOptionsBegin(comm, NULL, "ansatz compare", "ansatz");
  PetscCall(PetscOptionsString("-problem", "problem: a name from `ansatz list` or a path to a plugin .so", "AzProblemLoad", name, name, sizeof name, NULL));
  PetscCall(PetscOptionsString("-az_output_dir", "run directory (default runs/compare-PROBLEM)", "AzRunCompare", dir, dir, sizeof dir, NULL));
  PetscCall(PetscOptionsString("-az_strategies", "strategies to compare: soft, soft@WEIGHT, soft-linear, soft-cosine, adaptive, auglag, hard, project, posthoc, probconserv, hardpde, hardpde-moe, X+project, X+posthoc, X+probconserv, X+conserve[-linear|-cosine|-adaptive|-auglag], X+softplus, X+positivity[-linear|-cosine|-adaptive|-auglag], X+bounds, X+bounds-soft|-linear|-cosine|-adaptive|-auglag, X+divfree", "AzRunCompare", list, list, sizeof list, NULL));
  PetscCall(PetscOptionsString("-az_plot_components", "components to plot, by index or name (e.g. 0,2 or u,p; default all)", "AzRunCompare", plotlist, plotlist, sizeof plotlist, NULL));
  PetscCall(PetscOptionsInt("-az_repeats", "train every strategy N times, at the network seeds (-az_field_seed) s, s+1, ... and the point seeds (-az_seed) likewise: the same N seeds for every strategy", "AzRunCompare", nrep, &nrep, NULL));
  PetscCall(PetscOptionsBool("-az_compare_resume", "keep the runs a previous compare finished in this run directory (their result.txt; their options must be the same) and train only the others", "AzRunCompare", resume, &resume, NULL));
  PetscCall(PetscOptionsInt("-az_compare_groups", "split the ranks into G groups, each training its share of the runs on its ranks (data-parallel inside the group)", "AzRunCompare", ngroups, &ngroups, NULL));
  PetscCall(PetscOptionsString("-az_sweep", "settings added to the grid: \"az_field_width=20,40;az_adam_lr=1e-3,3e-3\" trains every strategy at every combination of the values (options without '-'; values separated by ',', or by '|' where a value is a list)", "AzRunCompare", sweeptext, sweeptext, sizeof sweeptext, NULL));
  PetscCall(PetscOptionsInt("-az_compare_stop_after", "stop with an error after training this many runs (0: never), as a kill would: for testing -az_compare_resume", "AzRunCompare", stop_after, &stop_after, NULL));
  PetscOptionsEnd();
  PetscCheck(nrep >= 1 && nrep <= AZ_MAX_RUNS, comm, PETSC_ERR_ARG_OUTOFRANGE, "-az_repeats %" PetscInt_FMT ": the number of runs of every strategy must be between 1 and %d", nrep, AZ_MAX_RUNS);
  PetscCheck(ngroups >= 1 && ngroups <= size, comm, PETSC_ERR_ARG_OUTOFRANGE, "-az_compare_groups %" PetscInt_FMT ": the number of rank groups must be between 1 and the number of ranks, %d", ngroups, size);
  PetscCheck(stop_after >= 0, comm, PETSC_ERR_ARG_OUTOFRANGE, "-az_compare_stop_after %" PetscInt_FMT " must be >= 0 (0: never stop)", stop_after);
  for (char *save = NULL, *tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
    PetscCheck(n < AZ_MAX_STRATEGIES, comm, PETSC_ERR_ARG_SIZ, "At most %d strategies at a time", AZ_MAX_STRATEGIES);
    PetscCall(StrategyOptions(comm, tok, NULL)); /* validates the name */
    PetscCall(PetscStrallocpy(tok, &strategies[n++]));
    if (strstr(tok, "project") || strstr(tok, "conserve")) projects = PETSC_TRUE; /* time slices */
  }
  PetscCheck(n > 0, comm, PETSC_ERR_ARG_WRONG, "-az_strategies is empty");
  PetscCall(AzCompareSweepParse(comm, sweeptext, &sweep));
  npts  = sweep.npts;
  ncol  = n * npts;
  nruns = ncol * nrep;
  PetscCheck(nruns <= AZ_MAX_RUNS, comm, PETSC_ERR_ARG_OUTOFRANGE, "-az_sweep: %" PetscInt_FMT " strategies x %" PetscInt_FMT " settings x %" PetscInt_FMT " repeats make %" PetscInt_FMT " runs; a comparison has at most %d: fewer values, strategies or repeats", n, npts, nrep, nruns, AZ_MAX_RUNS);
  PetscCall(AzCompareSweepCheckGiven(comm, &sweep, n));
  PetscCall(AzProblemLoad(comm, name, &prob));
  PetscCall(AzProblemSetFromOptions(prob));
  {
    const PetscReal *p;
    PetscCall(AzProblemGetNumParams(prob, &nparam0));
    PetscCall(AzProblemGetParams(prob, &p));
    for (PetscInt k = 0; k < nparam0; k++) param0[k] = p[k];
  }
  /* the recipe and compare's defaults see a swept option as given (as the same run alone would) */
  PetscCall(AzCompareSweepApply(&sweep, 0));
  PetscCall(AzRunApplyRecipe(prob, recipe, sizeof recipe));
  PetscCall(PetscPrintf(comm, "recipe (options not given, -az_recipe none for none): %s\n", recipe[0] ? recipe : "(every option given)"));
  PetscCall(AzProblemGetInfo(prob, &info));
  PetscCall(AzProblemGetNumCoords(prob, &ncoord));
  PetscCall(PlotComponents(comm, prob, plotlist, &nplot, plot));
  while (nlaws < AZ_MAX_LAWS && info->conservation[nlaws].name) nlaws++;
  for (PetscInt k = 0; k < n; k++) {
    char prefix[16];
    StrategyPrefix(k, prefix, sizeof prefix);
    /* in-training projection needs the points on time slices: every strategy gets the same ones */
    if (projects) PetscCall(DefaultUnlessGiven(prefix, "-az_time_slices", "100"));
    /* finer error curves than train's default */
    PetscCall(DefaultUnlessGiven(prefix, "-az_monitor_every", "10"));
    /* the seeds of repeat 1 (the strategy's own, else the global ones, else the defaults); repeat r adds r - 1 */
    PetscCall(AzCompareBaseSeed(prefix, "-az_field_seed", 0, &fseed[k])); /* AzFieldCreate's default */
    PetscCall(AzCompareBaseSeed(prefix, "-az_seed", 1, &cseed[k]));       /* AzLossCreate's default */
  }
  PetscCall(AzCompareSweepApply(&sweep, -1));
  PetscCall(PetscCalloc1(nruns, &res));
  /* every strategy against the problem before any training: one that cannot run fails the run now */
  for (PetscInt c = 0; c < ncol; c++) { /* every strategy at every setting */
    const PetscInt k = c % n, p = c / n;
    AzField        field;
    AzLoss         loss;
    AzTrainer      tr;
    PetscErrorCode ierr;
    char           at[1100] = "";

    if (k == 0) PetscCall(AzCompareSweepApply(&sweep, p));
    if (sweep.nopt) {
      AzCompareSweepLabel(&sweep, p, PETSC_FALSE, at + 13, sizeof at - 13);
      memcpy(at, " at setting '", 13);
      PetscCall(PetscStrlcat(at, "'", sizeof at));
    }
    PetscCall(RestoreParams(prob, nparam0, param0));
    PetscCall(PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
    ierr = SetUpStrategy(comm, prob, k, strategies[k], &field, &loss, &tr);
    PetscCall(PetscPopErrorHandler());
    if (!ierr) {
      PetscInt ni;
      PetscCall(AzLossGetInferred(loss, &ni, NULL, NULL));
      if (ni) inverse = PETSC_TRUE;
    }
    if (ierr) {
      const char *text;
      char       *specific = NULL;
      PetscCall(PetscErrorMessage(ierr, &text, &specific));
      SETERRQ(comm, ierr, "Strategy '%s'%s cannot run on problem %s (checked before any training): %s", strategies[k], at, info->name, specific && specific[0] ? specific : (text ? text : "unknown error"));
    }
    PetscCall(AzTrainerGetDescription(tr, trainer, sizeof trainer));
    PetscCall(AzTrainerDestroy(&tr));
    PetscCall(AzLossDestroy(&loss));
    PetscCall(AzFieldDestroy(&field));
    for (PetscInt j = 0; j < sweep.nopt; j++) { /* the strategy's own setting of a swept option would shadow the sweep */
      char      opt[96];
      PetscBool own;
      snprintf(opt, sizeof opt, "-s%d_%s", (int)(k + 1), sweep.name[j]);
      PetscCall(PetscOptionsHasName(NULL, NULL, opt, &own));
      PetscCheck(!own, comm, PETSC_ERR_ARG_INCOMP, "-az_sweep sweeps %s, which strategy %d ('%s') sets itself (%s): the sweep would not change it there; sweep another option or leave that strategy out", sweep.name[j], (int)(k + 1), strategies[k], opt);
    }
    if (k == n - 1 && sweep.nopt) { /* every strategy set up at setting p: each swept option was read */
      PetscInt unread;
      PetscCall(AzCompareSweepUnread(&sweep, PETSC_FALSE, &unread));
      if (unread >= 0) PetscCall(AzCompareSweepUnreadError(comm, &sweep, unread));
      PetscCall(AzCompareSweepApply(&sweep, -1));
    }
  }
  PetscCheck(!(inverse && ngroups > 1), comm, PETSC_ERR_SUP, "-az_compare_groups %" PetscInt_FMT " with -az_infer: not supported (each run solves a reference at its inferred parameters, which groups would write to one cache at once); use -az_compare_groups 1", ngroups);
  if (!dir[0]) snprintf(dir, sizeof dir, "runs/compare-%s", info->name);
  PetscCall(AzOptionsCheckpoint(comm, PETSC_FALSE)); /* -help stops here; unused options are checked at the end */
  PetscCall(AzRunMakeDirectory(comm, dir));
  /* -az_compare_resume keeps what a previous run finished (and its field.dat while no run beats it) */
  if (!resume) PetscCall(AzRunRemoveStale(comm, dir, CompareFiles));
  for (PetscInt c = 0; c < ncol; c++) {
    const PetscInt k = c % n;
    SettingDirectory(dir, &sweep, c / n, setdir, sizeof setdir);
    snprintf(sub, sizeof sub, "%s/%s", setdir, strategies[k]);
    if (!resume) PetscCall(AzRunRemoveStale(comm, sub, StrategyFiles));
    for (PetscInt r = 0; r < nrep && nrep > 1 && !resume; r++) {
      AzCompareRunDirectory(setdir, strategies[k], nrep, r, sub, sizeof sub);
      PetscCall(AzRunRemoveStale(comm, sub, StrategyFiles));
    }
  }
  PetscCall(AzRunWriteOptions(comm, prob, dir));
  /* the reference: the yardstick without an exact solution, and its cost for scale either way */
  {
    char refdir[PETSC_MAX_PATH_LEN];
    PetscCall(AzReferenceCreate(comm, prob, &ref));
    PetscCall(AzReferenceSetFromOptions(ref));
    PetscCall(AzReferenceGetDefaultDir(prob, refdir, sizeof refdir));
    if (info->exact) {
      /* the yardstick is the exact solution: a reference that fails is only a missing figure */
      PetscErrorCode ierr;
      PetscCall(PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
      ierr = AzReferenceSolveCached(ref, refdir);
      PetscCall(PetscPopErrorHandler());
      if (ierr) {
        PetscCall(PetscPrintf(comm, "ansatz compare: the SUNDIALS/PETSc reference of %s failed (run `ansatz reference -problem %s` to see why); the exact solution is the yardstick, the reference time is left out\n", info->name, info->name));
        PetscCall(AzReferenceDestroy(&ref));
      }
    } else PetscCall(AzReferenceSolveCached(ref, refdir));
    if (ref) PetscCall(AzReferenceGetStats(ref, &rstats));
    if (ref) PetscCall(AzReferenceGetVerificationLine(ref, refline, sizeof refline));
  }
  PetscCall(PetscPrintf(comm, "ansatz compare: problem %s, %d rank(s), %" PetscInt_FMT " strategies, %" PetscInt_FMT " run(s) each, run directory %s\n", info->name, size, n, nrep, dir));
  if (sweep.nopt) PetscCall(PetscPrintf(comm, "ansatz compare: -az_sweep, %" PetscInt_FMT " settings: every strategy at each (%" PetscInt_FMT " runs in all)\n", npts, nruns));
  /* rank groups: rank q in group q G / size (contiguous, sizes differing by at most one); each group
   * has the problem and the yardstick on its own ranks, the reference read from the cache just written */
  PetscCall(PetscMalloc1(size, &color_of));
  for (PetscMPIInt q = 0; q < size; q++) color_of[q] = (PetscInt)(((PetscInt64)q * ngroups) / size);
  color = color_of[rank];
  gprob = prob;
  gref  = ref;
  if (ngroups > 1) {
    PetscMPIInt gsize;
    PetscCallMPI(MPI_Comm_split(comm, (PetscMPIInt)color, rank, &gcomm));
    PetscCallMPI(MPI_Comm_size(gcomm, &gsize));
    PetscCall(PetscPrintf(comm, "ansatz compare: %" PetscInt_FMT " rank groups (-az_compare_groups), %d rank(s) in group 0\n", ngroups, gsize));
    PetscCall(AzProblemLoad(gcomm, name, &gprob));
    PetscCall(AzProblemSetFromOptions(gprob));
    PetscCall(AzCompareSweepApply(&sweep, 0));
    PetscCall(AzRunApplyRecipe(gprob, recipe, sizeof recipe));
    PetscCall(AzCompareSweepApply(&sweep, -1));
    gref = NULL;
    if (!info->exact) {
      char refdir[PETSC_MAX_PATH_LEN];
      PetscCall(AzReferenceCreate(gcomm, gprob, &gref));
      PetscCall(AzReferenceSetFromOptions(gref));
      PetscCall(AzReferenceGetDefaultDir(gprob, refdir, sizeof refdir));
      PetscCall(AzReferenceSolveCached(gref, refdir));
    }
  }
  /* the grid of runs, G at a time: group g (-az_compare_groups) trains run base + g on its ranks, then
   * every rank learns every result of the round (the tables, the best run, the stop) */
  for (PetscInt base = 0; base < nruns; base += ngroups) {
    /* repeat by repeat (every strategy at every setting at a seed before the next seed), setting by setting */
    const PetscInt  i = base + color, k = i % n, p = (i / n) % npts, r = i / ncol;
    char            prefix[16];
    Result          mine, *round;
    AzField         field = NULL;
    AzLoss          loss  = NULL;
    AzTrainer       tr    = NULL;
    AzReference     sref  = NULL; /* an inverse problem's yardstick: the reference at this strategy's inferred parameters */
    PetscInt        before = best;

    PetscCall(PetscMemzero(&mine, sizeof mine));
    if (i < nruns) {
      Result         *x = &mine;
      PetscBool       kept = PETSC_FALSE, has;
      PetscLogDouble  t0, t1;
      AzTrainerReason reason;
      const char     *msg;

      StrategyPrefix(k, prefix, sizeof prefix);
      char            at[1100] = "";
      if (sweep.nopt) { /* " at field_width=20 adam_lr=1e-3" in the progress lines */
        memcpy(at, " at ", 5);
        AzCompareSweepLabel(&sweep, p, PETSC_FALSE, at + 4, sizeof at - 4);
      }
      SettingDirectory(dir, &sweep, p, setdir, sizeof setdir);
      AzCompareRunDirectory(setdir, strategies[k], nrep, r, sub, sizeof sub);
      PetscCall(AzCompareSweepApply(&sweep, p)); /* this run's setting, cleared after it */
      if (nrep > 1) { /* this repeat's seeds, the same for every strategy */
        PetscCall(AzCompareSetSeed(prefix, "-az_field_seed", fseed[k] + r));
        PetscCall(AzCompareSetSeed(prefix, "-az_seed", cseed[k] + r));
      }
      PetscCall(RestoreParams(gprob, nparam0, param0)); /* every strategy from the same initial guesses */
      if (resume) PetscCall(AzCompareKeptRun(gcomm, gprob, sub, strategies[k], prefix, &kept, x));
      x->setting = p;
      if (kept) {
        if (nrep > 1) PetscCall(PetscPrintf(gcomm, "== %s%s, repeat %" PetscInt_FMT " of %" PetscInt_FMT ": kept from the previous run (%s/result.txt)\n", strategies[k], at, r + 1, nrep, sub));
        else PetscCall(PetscPrintf(gcomm, "== %s%s: kept from the previous run (%s/result.txt)\n", strategies[k], at, sub));
      } else {
        PetscCall(AzRunRemoveStale(gcomm, sub, StrategyFiles)); /* a run stopped before its result.txt leaves nothing */
        PetscCall(SetUpStrategy(gcomm, gprob, k, strategies[k], &field, &loss, &tr));
        if (!info->exact && !inverse) PetscCall(AzLossSetReference(loss, gref));
        if (nrep > 1) PetscCall(PetscPrintf(gcomm, "== %s%s, repeat %" PetscInt_FMT " of %" PetscInt_FMT " (seeds: network %" PetscInt_FMT ", points %" PetscInt_FMT ")\n", strategies[k], at, r + 1, nrep, fseed[k] + r, cseed[k] + r));
        else PetscCall(PetscPrintf(gcomm, "== %s%s\n", strategies[k], at));
        PetscCall(PetscTime(&t0));
        PetscCall(AzTrainerTrain(tr));
        PetscCall(PetscTime(&t1));
        /* a strategy whose training failed is a row marked failed; the others still run */
        PetscCall(AzTrainerGetStopReason(tr, &reason, &msg));
        PetscCall(PetscStrncpy(x->name, strategies[k], sizeof x->name));
        x->repeat     = r + 1;
        x->field_seed = fseed[k] + r;
        x->seed       = cseed[k] + r;
        x->failed     = reason == AZ_TRAINER_FAILED ? PETSC_TRUE : PETSC_FALSE;
        PetscCall(PetscStrncpy(x->why, msg, sizeof x->why));
        x->wall = t1 - t0;
        PetscCall(AzTrainerGetIterations(tr, &its));
        x->its = its;
        PetscCall(AzLossEvaluate(loss, &x->loss, NULL, NULL));
        if (inverse) { /* the problem is now at this strategy's inferred parameters: its yardstick too */
          const char *const *inames;
          PetscCall(AzLossGetInferred(loss, &x->ninfer, &inames, x->ival));
          for (PetscInt j = 0; j < x->ninfer; j++) PetscCall(PetscStrncpy(x->iname[j], inames[j], sizeof x->iname[j]));
          for (PetscInt j = 0; j < x->ninfer; j++) PetscCall(PetscPrintf(gcomm, "   inferred %s = %.10g\n", inames[j], (double)x->ival[j]));
          if (!info->exact) {
            char refdir[PETSC_MAX_PATH_LEN];
            PetscCall(AzReferenceCreate(gcomm, gprob, &sref));
            PetscCall(AzReferenceSetFromOptions(sref));
            PetscCall(AzReferenceGetDefaultDir(gprob, refdir, sizeof refdir));
            PetscCall(AzReferenceSolveCached(sref, refdir));
            PetscCall(AzLossSetReference(loss, sref));
          }
        }
        {
          AzLaplace pclap; /* -az_conservation probconserv: the update before anything is measured */
          char pcwhy[1024];
          PetscCall(AzRunProbConserv(gcomm, loss, x->failed, "   ", &pclap, pcwhy, sizeof pcwhy));
          PetscCall(AzLaplaceDestroy(&pclap));
          if (pcwhy[0]) { /* the strategy's row is marked failed, with the reason */
            x->failed = PETSC_TRUE;
            PetscCall(PetscStrncpy(x->why, pcwhy, sizeof x->why));
          }
        }
        PetscCall(AzLossExactError(loss, &has, &x->rel_l2, &x->max_abs));
        PetscCall(AzLossConstraintViolation(loss, 200, &x->viol_bc, &x->viol_ic));
        PetscCall(BoundViolation(gprob, loss, PETSC_FALSE, &x->positivity));
        PetscCall(BoundViolation(gprob, loss, PETSC_TRUE, &x->bounds));
        PetscCall(DivergenceViolation(gprob, loss, &x->divergence));
        PetscCall(AzLossConservationDrift(loss, &x->drift));
        PetscCall(AzRunMakeDirectory(gcomm, sub));
        PetscCall(AzRunWriteStrategyOptions(gcomm, gprob, sub, "options.txt", strategies[k], prefix));
        PetscCall(AzRunWriteHistory(gcomm, sub, tr, loss));
        if (nlaws > 0 && info->time_dependent) PetscCall(WriteConservation(gcomm, sub, info, loss, nlaws));
        if (x->failed) PetscCall(PetscPrintf(gcomm, "   FAILED: %s\n", x->why));
        else {
          char bc[32] = "n/a", ic[32] = "n/a";
          if (!PetscIsInfOrNanReal(x->viol_bc)) snprintf(bc, sizeof bc, "%.3e", (double)x->viol_bc);
          if (!PetscIsInfOrNanReal(x->viol_ic)) snprintf(ic, sizeof ic, "%.3e", (double)x->viol_ic);
          PetscCall(PetscPrintf(gcomm, "   rel_l2 %.3e  boundary violation %s  initial violation %s  %.1f s\n", (double)x->rel_l2, bc, ic, (double)x->wall));
        }
        if (sweep.nopt) { /* an option read only after the set-up (a solver's, an update's): read by now */
          PetscInt unread;
          PetscCall(AzCompareSweepUnread(&sweep, PETSC_TRUE, &unread));
          x->unread = unread + 1;
        }
      }
    }
    /* the round's results on every rank: each group's from its first rank */
    round = &res[base];
    if (ngroups == 1) *round = mine;
    else {
      Result *all;
      PetscCall(PetscMalloc1(size, &all));
      PetscCallMPI(MPI_Allgather(&mine, (PetscMPIInt)sizeof mine, MPI_BYTE, all, (PetscMPIInt)sizeof mine, MPI_BYTE, comm));
      for (PetscMPIInt q = size - 1; q >= 0; q--) /* the lowest rank of each group last: its leader */
        if (base + color_of[q] < nruns) round[color_of[q]] = all[q];
      PetscCall(PetscFree(all));
    }
    for (PetscInt g = 0; g < ngroups && base + g < nruns; g++) {
      const Result *y = &res[base + g];
      if (y->unread) PetscCall(AzCompareSweepUnreadError(comm, &sweep, y->unread - 1));
      if (y->kept) nkept++;
      else ntrained++;
      nfailed += y->failed;
      if (!y->failed && (best < 0 || y->rel_l2 < res[best].rel_l2)) best = base + g;
    }
    /* a run trained in this round is the best so far: its group writes its field (a kept run's is there) */
    if (best != before && best == i && !res[best].kept) {
      PetscCall(WriteFieldData(gcomm, dir, gprob, loss, info->exact ? NULL : (sref ? sref : gref)));
      PetscCall(AzRunWriteField(gcomm, dir, gprob, loss, info->exact ? NULL : (sref ? sref : gref), 0, NULL, NULL)); /* field.h5 + field.xmf */
    }
    PetscCall(AzTrainerDestroy(&tr));
    PetscCall(AzLossDestroy(&loss));
    PetscCall(AzFieldDestroy(&field));
    PetscCall(AzReferenceDestroy(&sref));
    PetscCall(AzCompareSweepApply(&sweep, -1));
    if (i < nruns && !mine.kept) PetscCall(AzCompareWriteResult(gcomm, sub, &mine)); /* last: the run is finished */
    PetscCallMPI(MPI_Barrier(comm)); /* every result.txt of the round is written before the tables say so */
    PetscCall(AzCompareWriteTables(comm, dir, res, ncol, nrep, PetscMin(base + ngroups, nruns), !info->exact && refline[0] ? refline : NULL, &sweep, NULL));
    PetscCheck(!stop_after || ntrained < stop_after, comm, PETSC_ERR_USER, "ansatz compare: stopped after training %" PetscInt_FMT " run(s), as -az_compare_stop_after asked (%" PetscInt_FMT " of %" PetscInt_FMT " runs finished in %s; -az_compare_resume trains the rest)", ntrained, PetscMin(base + ngroups, nruns), nruns, dir);
  }
  for (PetscInt c = 0; c < ncol && nrep > 1; c++) { /* the median error curve of each strategy at each setting, with its band */
    SettingDirectory(dir, &sweep, c / n, setdir, sizeof setdir);
    snprintf(sub, sizeof sub, "%s/%s", setdir, strategies[c % n]);
    PetscCall(AzCompareWriteBand(comm, sub, nrep));
  }
  if (best >= 0) PetscCall(Plots(comm, dir, prob, res, n, &sweep, nrep, best, nplot, plot, nlaws, &plots));
  for (PetscInt p = 0; p < npts && nrep == 1; p++) { /* one run per strategy: the verdict against the first (at each setting); with repeats the paired verdicts speak */
    AzStoryRow    rows[AZ_MAX_STRATEGIES];
    const Result *y = &res[p * n];
    char          one[2048], label[1024];
    for (PetscInt k = 0; k < n; k++) {
      rows[k].name       = y[k].name;
      rows[k].rel_l2     = y[k].rel_l2;
      rows[k].drift      = nlaws > 0 && info->time_dependent ? y[k].drift : (PetscReal)NAN;
      rows[k].positivity = y[k].positivity;
      rows[k].wall       = y[k].wall;
      rows[k].failed     = y[k].failed;
    }
    PetscCall(AzRunStory(n, rows, nlaws > 0 ? info->conservation[0].name : "", one, sizeof one));
    if (!sweep.nopt) PetscCall(PetscStrncpy(story, one, sizeof story));
    else {
      AzCompareSweepLabel(&sweep, p, PETSC_FALSE, label, sizeof label);
      PetscCall(PetscStrlcat(story, p ? "\n\n" : "", sizeof story));
      PetscCall(PetscStrlcat(story, "At ", sizeof story));
      PetscCall(PetscStrlcat(story, label, sizeof story));
      PetscCall(PetscStrlcat(story, ": ", sizeof story));
      PetscCall(PetscStrlcat(story, one, sizeof story));
    }
  }
  {
    char  *md = NULL, *csv = NULL, *vmd = NULL, *vcsv = NULL;
    AzFile f;
    if (rank == 0 && nrep == 1) PetscCall(AzCompareTables(res, ncol, &sweep, &md, &csv));
    if (nrep > 1) PetscCall(AzCompareWriteTables(comm, dir, res, ncol, nrep, nruns, !info->exact && refline[0] ? refline : NULL, &sweep, &md));
    if (rank == 0) PetscCall(AzCompareVerdicts(ncol, nrep, res, &sweep, &vmd, &vcsv));
    snprintf(path, sizeof path, "%s/verdicts.csv", dir);
    PetscCall(AzFileOpen(comm, path, &f));
    if (vcsv) PetscCall(AzFilePrintf(f, "%s", vcsv));
    PetscCall(AzFileClose(&f));
    snprintf(path, sizeof path, "%s/report.md", dir);
    PetscCall(AzFileOpen(comm, path, &f));
    PetscCall(AzFilePrintf(f, "# ansatz compare: %s\n\n%s\n\n", info->name, info->description));
    if (story[0]) PetscCall(AzFilePrintf(f, "**Verdict** (against the first strategy, %s). %s\n\n", res[0].name, story));
    if (plots) PetscCall(AzFilePrintf(f, "![error and %s per strategy%s](summary.png)\n\n", nlaws > 0 && info->time_dependent ? "drift" : "time", nrep > 1 ? ", medians over the repeats" : ""));
    if (nrep > 1) PetscCall(AzFilePrintf(f, "Every strategy trained %" PetscInt_FMT " times with the same budget (trainer %s, %d rank(s)), at the same %" PetscInt_FMT " seeds as every other: repeat r at the network seed (-az_field_seed) and the collocation seed (-az_seed) of repeat 1 plus r - 1, so the runs are paired by seed. ", nrep, trainer, size, nrep));
    else PetscCall(AzFilePrintf(f, "Every strategy trained the same network from the same initial parameters on the same collocation points with the same budget (trainer %s, %d rank(s)). ", trainer, size));
    PetscCall(AzFilePrintf(f, "Errors are measured against the %s. ", info->exact ? "exact solution" : "SUNDIALS/PETSc reference"));
    if (inverse) PetscCall(AzFilePrintf(f, "An inverse problem: every strategy learned the parameters of -az_infer from the same initial guesses, and its errors are measured against the problem at the parameters it inferred (the %s at them; the columns inferred ... give them). ", info->exact ? "exact solution" : "reference solved"));
    if (ref) PetscCall(AzFilePrintf(f, "The reference solve took %.2f s (%ld steps) for scale%s.\n\n", (double)rstats.wall_seconds, rstats.steps, rstats.wall_seconds == 0 ? " (reused from its cache: see its summary.json for the original time)" : ""));
    else PetscCall(AzFilePrintf(f, "The SUNDIALS/PETSc reference failed on this problem (see `ansatz reference -problem %s`), so no reference time is given.\n\n", info->name));
    if (ref) {
      AzReferenceVerification v;
      PetscCall(AzReferenceGetVerification(ref, &v));
      PetscCall(AzFilePrintf(f, "%s.%s\n\n", refline, info->exact ? " (The exact solution is the yardstick here.)" : (v.verified ? "" : " The yardstick is unverified: errors against it below that level mean nothing (see its summary.json; a finer -az_ref_n or another -az_ref_order may verify it).")));
    }
    if (md) PetscCall(AzFilePrintf(f, "%s", md));
    if (sweep.nopt) SettingDirectory(dir, &sweep, 0, setdir, sizeof setdir);
    if (sweep.nopt) PetscCall(AzFilePrintf(f, "A sweep (-az_sweep \"%s\"): every strategy trained at each of the %" PetscInt_FMT " settings, the Cartesian product of the options' values, each applied on top of the command line for its runs only (as if given there); the tables have a row per strategy and setting, and strategies are compared within a setting. Each setting's runs are in its own directory (e.g. %s/), laid out as below.\n\n", sweep.text, npts, setdir + strlen(dir) + 1));
    for (PetscInt k = 0; k < nruns; k++)
      if (res[k].failed && nrep == 1) PetscCall(AzFilePrintf(f, "\nStrategy %s failed: %s. Its row describes the last good parameters.\n", res[k].name, res[k].why));
      else if (res[k].failed) PetscCall(AzFilePrintf(f, "\nStrategy %s failed in repeat %" PetscInt_FMT ": %s. Its row in compare_runs.csv describes the last good parameters; the statistics leave it out.\n", res[k].name, res[k].repeat, res[k].why));
    if (nlaws > 0 && info->time_dependent) PetscCall(AzFilePrintf(f, "\nDrift vs Q* is max_t |Q(t) - Q*| over the %d times of each strategy's conservation.csv (t0 to t1) for the problem's laws, Q* the law's declared value or, without one, the law at the initial data (so an initial error shows at t0); Q(t) by composite Gauss-Legendre quadrature independent of the projection's own nodes.", (int)AZ_DRIFT_TIMES));
    else PetscCall(AzFilePrintf(f, "\nDrift vs Q*: n/a, %s.", nlaws ? "the problem is steady" : "the problem declares no conservation law"));
    if (projects) PetscCall(AzFilePrintf(f, " Strategies with +project train the solution projected onto the laws, +conserve adds a penalty on them; every strategy here trained on collocation points whose times lie on the same time slices."));
    PetscCall(AzFilePrintf(f, " n/a: not measured (no such condition, law or component).\n\n"));
    if (vmd) PetscCall(AzFilePrintf(f, "%s\n", vmd));
    if (plots) {
      PetscInt ncomp, nslot;
      PetscCall(AzRunSolutionJetSize(prob, &ncomp, &nslot));
      PetscCall(AzFilePrintf(f, "![error against iteration%s](error_vs_iteration.png)\n\n", nrep > 1 ? ": the median over the repeats, the band from min to max" : ""));
      for (PetscInt i = 0; i < nplot; i++) {
        char cname[64], sol[128], err[128];
        PetscCall(AzRunComponentName(prob, plot[i], cname, sizeof cname));
        PlotName("solution", cname, ncomp, sol, sizeof sol);
        PlotName("error", cname, ncomp, err, sizeof err);
        if (nrep > 1) PetscCall(AzFilePrintf(f, "![%s, best run (%s, repeat %" PetscInt_FMT ")](%s)\n\n![%s error, best run](%s)\n\n", cname, res[best].name, res[best].repeat, sol, cname, err));
        else PetscCall(AzFilePrintf(f, "![%s, best strategy (%s)](%s)\n\n![%s error, best strategy](%s)\n\n", cname, res[best].name, sol, cname, err));
      }
      if (nlaws > 0 && info->time_dependent) PetscCall(AzFilePrintf(f, "![conservation drift over time](drift_vs_time.png)\n\n"));
    } else PetscCall(AzFilePrintf(f, "(No plots: %s. plots.gp remakes them.)\n\n", best < 0 ? "every strategy failed" : "gnuplot is missing or failed; see plots.log"));
    if (nrep > 1) PetscCall(AzFilePrintf(f, "Files: compare.csv, compare.md (statistics over the repeats), compare_runs.csv (every run), verdicts.csv, one directory per strategy with history_band.csv and a directory repeat-R per repeat with its history.csv%s, options.txt and result.txt, field.dat, field.h5 and field.xmf (the best run's field for ParaView), plots.gp, options.txt.\n", nlaws > 0 && info->time_dependent ? ", conservation.csv" : ""));
    else PetscCall(AzFilePrintf(f, "Files: compare.csv, compare.md, compare_runs.csv, verdicts.csv, one directory per strategy with its history.csv%s, options.txt and result.txt, field.dat, field.h5 and field.xmf (the best strategy's field for ParaView), plots.gp, options.txt.\n", nlaws > 0 && info->time_dependent ? ", conservation.csv" : ""));
    PetscCall(AzFileClose(&f));
    /* the table on the terminal too */
    PetscCall(PetscPrintf(comm, "\n%s", md ? md : ""));
    if (story[0]) PetscCall(PetscPrintf(comm, "\n%s\n", story));
    if (vmd && nrep > 1) PetscCall(PetscPrintf(comm, "\n%s", vmd));
    free(md);
    free(csv);
    free(vmd);
    free(vcsv);
  }
  PetscCall(PetscPrintf(comm, "\nruns: %" PetscInt_FMT " trained, %" PetscInt_FMT " kept from a previous run\nreport: %s/report.md\n", ntrained, nkept, dir));
  PetscCall(PetscFree(res));
  PetscCall(PetscFree(color_of));
  if (ngroups > 1) {
    PetscCall(AzReferenceDestroy(&gref));
    PetscCall(AzProblemDestroy(&gprob));
    PetscCallMPI(MPI_Comm_free(&gcomm));
  }
  for (PetscInt k = 0; k < n; k++) PetscCall(PetscFree(strategies[k]));
  PetscCall(AzReferenceDestroy(&ref));
  PetscCall(AzProblemDestroy(&prob));
  PetscCall(AzCompareSweepDestroy(&sweep));
  PetscCheck(!nfailed, comm, PETSC_ERR_NOT_CONVERGED, "%" PetscInt_FMT " of %" PetscInt_FMT " %s failed (marked failed in %s/compare.md; the others' results are complete)", nfailed, nruns, nrep > 1 || npts > 1 ? "runs" : "strategies", dir);
  PetscFunctionReturn(PETSC_SUCCESS);
}
