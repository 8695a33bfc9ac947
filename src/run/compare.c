/* `ansatz compare`: every enforcement strategy on one problem with the same network, points, seed
 * and budget, measured against the same yardstick, in one table with plots. */
#include "runimpl.h"
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define AZ_MAX_STRATEGIES 16

typedef struct {
  char      name[64];
  PetscReal rel_l2, max_abs, viol_bc, viol_ic, drift, positivity, bounds, divergence, loss, wall;
  PetscInt  its;
  PetscBool failed;   /* training stopped on a failure (AZ_TRAINER_FAILED): the row describes the last good parameters */
  char      why[256]; /* the trainer's stop reason */
  PetscInt  ninfer;   /* an inverse problem (-az_infer): the parameters this strategy inferred */
  char      iname[AZ_MAX_PARAMS][32];
  PetscReal ival[AZ_MAX_PARAMS];
} Result;

static PetscBool PositiveFinite(const char *s)
{
  char  *end;
  double w = strtod(s, &end);
  return (end != s && !*end && isfinite(w) && w > 0) ? PETSC_TRUE : PETSC_FALSE;
}

/* "soft", "soft@100" (constant weight 100), "soft-linear", "soft-cosine", "adaptive", "auglag", "hard"
 * for the boundary and initial conditions; "project" and "posthoc" (soft conditions, the conservation
 * laws projected in training or after it), or any of the first with "+project" / "+posthoc" /
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
  const char *choices = "soft, soft@WEIGHT (a constant penalty weight), soft-linear, soft-cosine, adaptive, auglag, hard, project, posthoc, hardpde (a solved output layer: -az_hardpde), hardpde-moe (its mixture of experts: -az_moe_experts, default one per rank), or one of the first seven with +project, +posthoc or +conserve[-linear|-cosine|-adaptive|-auglag] (a penalty on the laws; e.g. hard+project) and/or +softplus (positivity by construction), +positivity[-linear|-cosine|-adaptive|-auglag] (its penalty), +bounds (bounds by construction), +bounds-soft|-linear|-cosine|-adaptive|-auglag (their penalty) or +divfree (a divergence-free velocity from a stream function)";

  PetscFunctionBegin;
  PetscCall(PetscStrncpy(base, name, sizeof base));
  plus = strchr(base, '+');
  if (plus) {
    *plus++ = 0;
    for (char *save = NULL, *tok = strtok_r(plus, "+", &save); tok; tok = strtok_r(NULL, "+", &save)) {
      if (!strcmp(tok, "project") || !strcmp(tok, "posthoc") || (v = PenaltyVariant(tok, "conserve"))) {
        PetscCheck(!conserve, comm, PETSC_ERR_ARG_WRONG, "Strategy '%s': project, posthoc and conserve exclude each other", name);
        conserve = !strcmp(tok, "project") ? "project" : (!strcmp(tok, "posthoc") ? "posthoc" : v);
      } else if (!strcmp(tok, "softplus")) positive = PETSC_TRUE;
      else if ((v = PenaltyVariant(tok, "positivity"))) penalty = v;
      else if (!strcmp(tok, "bounds")) bounded = PETSC_TRUE;
      else if (!strcmp(tok, "bounds-soft")) bpenalty = "soft";
      else if (!strncmp(tok, "bounds-", 7) && (v = PenaltyVariant(tok, "bounds")) && strcmp(v, "soft")) bpenalty = v;
      else if (!strcmp(tok, "divfree")) divfree = PETSC_TRUE;
      else SETERRQ(comm, PETSC_ERR_ARG_UNKNOWN_TYPE, "Strategy '%s': after + comes project, posthoc, conserve[-linear|-cosine|-adaptive|-auglag], softplus, positivity[-linear|-cosine|-adaptive|-auglag], bounds, bounds-soft|-linear|-cosine|-adaptive|-auglag or divfree, not '%s'", name, tok);
    }
  }
  if (!strcmp(base, "project") || !strcmp(base, "posthoc")) {
    PetscCheck(!conserve, comm, PETSC_ERR_ARG_WRONG, "Strategy '%s': choose from %s", name, choices);
    conserve = !strcmp(base, "project") ? "project" : "posthoc";
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

static void Num(FILE *fp, PetscReal v)
{
  if (PetscIsInfOrNanReal(v)) fprintf(fp, "n/a");
  else fprintf(fp, "%.3e", (double)v);
}

static void CsvNum(FILE *fp, PetscReal v)
{
  if (PetscIsInfOrNanReal(v)) fprintf(fp, ",n/a");
  else fprintf(fp, ",%.6e", (double)v);
}

/* The table of the first n results, as Markdown (md) and CSV (csv); malloc'd strings */
static PetscErrorCode Tables(Result res[], PetscInt n, char **md, char **csv)
{
  size_t szm, szc;
  FILE  *m = open_memstream(md, &szm), *c = open_memstream(csv, &szc);

  PetscFunctionBegin;
  PetscCheck(m && c, PETSC_COMM_SELF, PETSC_ERR_MEM, "Cannot build the comparison table");
  /* an inverse problem: a column per inferred parameter (the first strategy's names) */
  const PetscInt ni = n > 0 ? res[0].ninfer : 0;
  fprintf(c, "strategy,rel_l2,max_abs_error,max_boundary_violation,max_initial_violation,drift_vs_Qstar,positivity_violation,final_loss,iterations,wall_seconds,max_divergence,bounds_violation");
  for (PetscInt i = 0; i < ni; i++) fprintf(c, ",inferred_%s", res[0].iname[i]);
  fprintf(c, ",status\n");
  fprintf(m, "| strategy | rel L2 | max abs error | max boundary violation | max initial violation | drift vs Q* | positivity violation | bounds violation | max divergence | final loss | iterations | wall (s) |");
  for (PetscInt i = 0; i < ni; i++) fprintf(m, " inferred %s |", res[0].iname[i]);
  fprintf(m, " status |\n| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
  for (PetscInt i = 0; i < ni; i++) fprintf(m, " --- |");
  fprintf(m, " --- |\n");
  for (PetscInt k = 0; k < n; k++) {
    fprintf(c, "%s", res[k].name);
    CsvNum(c, res[k].rel_l2), CsvNum(c, res[k].max_abs), CsvNum(c, res[k].viol_bc), CsvNum(c, res[k].viol_ic), CsvNum(c, res[k].drift), CsvNum(c, res[k].positivity), CsvNum(c, res[k].loss);
    fprintf(c, ",%d,%.3f", (int)res[k].its, (double)res[k].wall);
    CsvNum(c, res[k].divergence);
    CsvNum(c, res[k].bounds);
    for (PetscInt i = 0; i < ni; i++) {
      PetscReal v = (PetscReal)NAN;
      for (PetscInt j = 0; j < res[k].ninfer; j++)
        if (!strcmp(res[k].iname[j], res[0].iname[i])) v = res[k].ival[j];
      if (PetscIsInfOrNanReal(v)) fprintf(c, ",n/a");
      else fprintf(c, ",%.10e", (double)v);
    }
    fprintf(c, ",%s\n", res[k].failed ? "failed" : "completed");
    fprintf(m, "| %s | ", res[k].name);
    Num(m, res[k].rel_l2), fprintf(m, " | "), Num(m, res[k].max_abs), fprintf(m, " | "), Num(m, res[k].viol_bc), fprintf(m, " | "), Num(m, res[k].viol_ic);
    fprintf(m, " | "), Num(m, res[k].drift), fprintf(m, " | "), Num(m, res[k].positivity), fprintf(m, " | "), Num(m, res[k].bounds), fprintf(m, " | "), Num(m, res[k].divergence), fprintf(m, " | "), Num(m, res[k].loss);
    fprintf(m, " | %d | %.1f |", (int)res[k].its, (double)res[k].wall);
    for (PetscInt i = 0; i < ni; i++) {
      PetscReal v = (PetscReal)NAN;
      for (PetscInt j = 0; j < res[k].ninfer; j++)
        if (!strcmp(res[k].iname[j], res[0].iname[i])) v = res[k].ival[j];
      if (PetscIsInfOrNanReal(v)) fprintf(m, " n/a |");
      else fprintf(m, " %.6g |", (double)v);
    }
    fprintf(m, " %s |\n", res[k].failed ? "**failed**" : "completed");
  }
  fclose(m);
  fclose(c);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* compare.csv and compare.md, rewritten whole after every strategy so a later failure loses nothing */
/* refline: the yardstick's verification line (the reference's, when it is the yardstick), or NULL */
static PetscErrorCode WriteTables(MPI_Comm comm, const char dir[], Result res[], PetscInt n, const char refline[])
{
  char       *md = NULL, *csv = NULL, path[PETSC_MAX_PATH_LEN + 16];
  PetscMPIInt rank;
  AzFile      f;

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  if (rank == 0) PetscCall(Tables(res, n, &md, &csv));
  snprintf(path, sizeof path, "%s/compare.csv", dir);
  PetscCall(AzFileOpen(comm, path, &f));
  if (csv) PetscCall(AzFilePrintf(f, "%s", csv));
  PetscCall(AzFileClose(&f));
  snprintf(path, sizeof path, "%s/compare.md", dir);
  PetscCall(AzFileOpen(comm, path, &f));
  if (md) PetscCall(AzFilePrintf(f, "%s", md));
  if (refline) PetscCall(AzFilePrintf(f, "\n%s\n", refline));
  PetscCall(AzFileClose(&f));
  free(md);
  free(csv);
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
static PetscErrorCode Plots(MPI_Comm comm, const char dir[], AzProblem prob, Result res[], PetscInt n, PetscInt best, PetscInt nplot, const PetscInt plot[], PetscInt nlaws, PetscBool *made)
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
  PetscCall(AzFilePrintf(f, "set output 'error_vs_iteration.png'\nset logscale y\nset xlabel 'iteration'\nset ylabel 'relative L2 error'\nset key outside right\nset grid\n"));
  PetscCall(AzFilePrintf(f, "plot "));
  for (PetscInt k = 0; k < n; k++) PetscCall(AzFilePrintf(f, "%s'%s/history.csv' using (column(\"iteration\")):(column(\"rel_l2\")) with lines lw 2 title '%s'", k ? ", \\\n     " : "", res[k].name, res[k].name));
  if (nlaws > 0 && info->time_dependent) {
    /* |Q(t) − Q*| of the first law; a floor of 1e-17 keeps exact zeros on the log scale */
    PetscCall(AzFilePrintf(f, "\nset output 'drift_vs_time.png'\nset xlabel 't'\nset ylabel '|Q(t) - Q*| (%s)'\nset format y '%%.0e'\n", info->conservation[0].name));
    PetscCall(AzFilePrintf(f, "plot "));
    for (PetscInt k = 0; k < n; k++) PetscCall(AzFilePrintf(f, "%s'%s/conservation.csv' using 1:(abs($2) + 1e-17) with lines lw 2 title '%s'", k ? ", \\\n     " : "", res[k].name, res[k].name));
    PetscCall(AzFilePrintf(f, "\nset format y '%%g'"));
  }
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
static const char *const CompareFiles[]  = {"compare.csv", "compare.md", "report.md", "plots.gp", "plots.log", "field.dat", "field.h5", "field.xmf", "options.txt", "*.png", NULL};
static const char *const StrategyFiles[] = {"history.csv", "conservation.csv", "options.txt", NULL};

PetscErrorCode AzRunCompare(MPI_Comm comm)
{
  char                 name[PETSC_MAX_PATH_LEN] = "poisson2d", dir[PETSC_MAX_PATH_LEN] = "", list[1024] = "soft,soft-cosine,adaptive,auglag,hard", path[PETSC_MAX_PATH_LEN + 32], plotlist[256] = "";
  char                *strategies[AZ_MAX_STRATEGIES];
  PetscInt             n = 0, ncoord, best = -1, its, nplot, plot[AZ_MAX_COMP], nfailed = 0;
  AzProblem            prob;
  const AzProblemInfo *info;
  AzReference          ref = NULL;
  AzReferenceStats     rstats;
  Result               res[AZ_MAX_STRATEGIES];
  PetscMPIInt          rank, size;
  PetscBool            plots = PETSC_FALSE, projects = PETSC_FALSE;
  char                 trainer[128] = "";
  PetscInt             nlaws = 0;
  char                 refline[1024] = "", recipe[2048];
  PetscReal            param0[AZ_MAX_PARAMS];
  PetscInt             nparam0 = 0;
  PetscBool            inverse = PETSC_FALSE; /* a strategy infers parameters (-az_infer) */

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  PetscCallMPI(MPI_Comm_size(comm, &size));
  PetscCall(PetscMemzero(res, sizeof res));
  PetscOptionsBegin(comm, NULL, "ansatz compare", "ansatz");
  PetscCall(PetscOptionsString("-problem", "problem: a name from `ansatz list` or a path to a plugin .so", "AzProblemLoad", name, name, sizeof name, NULL));
  PetscCall(PetscOptionsString("-az_output_dir", "run directory (default runs/compare-PROBLEM)", "AzRunCompare", dir, dir, sizeof dir, NULL));
  PetscCall(PetscOptionsString("-az_strategies", "strategies to compare: soft, soft@WEIGHT, soft-linear, soft-cosine, adaptive, auglag, hard, project, posthoc, hardpde, hardpde-moe, X+project, X+posthoc, X+conserve[-linear|-cosine|-adaptive|-auglag], X+softplus, X+positivity[-linear|-cosine|-adaptive|-auglag], X+bounds, X+bounds-soft|-linear|-cosine|-adaptive|-auglag, X+divfree", "AzRunCompare", list, list, sizeof list, NULL));
  PetscCall(PetscOptionsString("-az_plot_components", "components to plot, by index or name (e.g. 0,2 or u,p; default all)", "AzRunCompare", plotlist, plotlist, sizeof plotlist, NULL));
  PetscOptionsEnd();
  for (char *save = NULL, *tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
    PetscCheck(n < AZ_MAX_STRATEGIES, comm, PETSC_ERR_ARG_SIZ, "At most %d strategies at a time", AZ_MAX_STRATEGIES);
    PetscCall(StrategyOptions(comm, tok, NULL)); /* validates the name */
    PetscCall(PetscStrallocpy(tok, &strategies[n++]));
    if (strstr(tok, "project") || strstr(tok, "conserve")) projects = PETSC_TRUE; /* time slices */
  }
  PetscCheck(n > 0, comm, PETSC_ERR_ARG_WRONG, "-az_strategies is empty");
  PetscCall(AzProblemLoad(comm, name, &prob));
  PetscCall(AzProblemSetFromOptions(prob));
  {
    const PetscReal *p;
    PetscCall(AzProblemGetNumParams(prob, &nparam0));
    PetscCall(AzProblemGetParams(prob, &p));
    for (PetscInt k = 0; k < nparam0; k++) param0[k] = p[k];
  }
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
  }
  /* every strategy against the problem before any training: one that cannot run fails the run now */
  for (PetscInt k = 0; k < n; k++) {
    AzField        field;
    AzLoss         loss;
    AzTrainer      tr;
    PetscErrorCode ierr;

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
      SETERRQ(comm, ierr, "Strategy '%s' cannot run on problem %s (checked before any training): %s", strategies[k], info->name, specific && specific[0] ? specific : (text ? text : "unknown error"));
    }
    PetscCall(AzTrainerDestroy(&tr));
    PetscCall(AzLossDestroy(&loss));
    PetscCall(AzFieldDestroy(&field));
  }
  if (!dir[0]) snprintf(dir, sizeof dir, "runs/compare-%s", info->name);
  PetscCall(AzOptionsCheckpoint(comm, PETSC_FALSE)); /* -help stops here; unused options are checked at the end */
  PetscCall(AzRunMakeDirectory(comm, dir));
  PetscCall(AzRunRemoveStale(comm, dir, CompareFiles));
  for (PetscInt k = 0; k < n; k++) {
    char sub[PETSC_MAX_PATH_LEN + 72];
    snprintf(sub, sizeof sub, "%s/%s", dir, strategies[k]);
    PetscCall(AzRunRemoveStale(comm, sub, StrategyFiles));
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
  PetscCall(PetscPrintf(comm, "ansatz compare: problem %s, %d rank(s), %" PetscInt_FMT " strategies, run directory %s\n", info->name, size, n, dir));
  for (PetscInt k = 0; k < n; k++) {
    AzField         field;
    AzLoss          loss;
    AzTrainer       tr;
    PetscLogDouble  t0, t1;
    PetscBool       has;
    AzTrainerReason reason;
    const char     *msg;
    char            sub[PETSC_MAX_PATH_LEN + 72];

    AzReference sref = NULL; /* an inverse problem's yardstick: the reference at this strategy's inferred parameters */

    PetscCall(RestoreParams(prob, nparam0, param0)); /* every strategy from the same initial guesses */
    PetscCall(SetUpStrategy(comm, prob, k, strategies[k], &field, &loss, &tr));
    if (!info->exact && !inverse) PetscCall(AzLossSetReference(loss, ref));
    PetscCall(AzTrainerGetDescription(tr, trainer, sizeof trainer));
    PetscCall(PetscPrintf(comm, "== %s\n", strategies[k]));
    PetscCall(PetscTime(&t0));
    PetscCall(AzTrainerTrain(tr));
    PetscCall(PetscTime(&t1));
    /* a strategy whose training failed is a row marked failed; the others still run */
    PetscCall(AzTrainerGetStopReason(tr, &reason, &msg));
    PetscCall(PetscStrncpy(res[k].name, strategies[k], sizeof res[k].name));
    res[k].failed = reason == AZ_TRAINER_FAILED ? PETSC_TRUE : PETSC_FALSE;
    PetscCall(PetscStrncpy(res[k].why, msg, sizeof res[k].why));
    res[k].wall = t1 - t0;
    PetscCall(AzTrainerGetIterations(tr, &its));
    res[k].its = its;
    PetscCall(AzLossEvaluate(loss, &res[k].loss, NULL, NULL));
    if (inverse) { /* the problem is now at this strategy's inferred parameters: its yardstick too */
      const char *const *inames;
      PetscCall(AzLossGetInferred(loss, &res[k].ninfer, &inames, res[k].ival));
      for (PetscInt i = 0; i < res[k].ninfer; i++) PetscCall(PetscStrncpy(res[k].iname[i], inames[i], sizeof res[k].iname[i]));
      for (PetscInt i = 0; i < res[k].ninfer; i++) PetscCall(PetscPrintf(comm, "   inferred %s = %.10g\n", inames[i], (double)res[k].ival[i]));
      if (!info->exact) {
        char refdir[PETSC_MAX_PATH_LEN];
        PetscCall(AzReferenceCreate(comm, prob, &sref));
        PetscCall(AzReferenceSetFromOptions(sref));
        PetscCall(AzReferenceGetDefaultDir(prob, refdir, sizeof refdir));
        PetscCall(AzReferenceSolveCached(sref, refdir));
        PetscCall(AzLossSetReference(loss, sref));
      }
    }
    PetscCall(AzLossExactError(loss, &has, &res[k].rel_l2, &res[k].max_abs));
    PetscCall(AzLossConstraintViolation(loss, 200, &res[k].viol_bc, &res[k].viol_ic));
    PetscCall(BoundViolation(prob, loss, PETSC_FALSE, &res[k].positivity));
    PetscCall(BoundViolation(prob, loss, PETSC_TRUE, &res[k].bounds));
    PetscCall(DivergenceViolation(prob, loss, &res[k].divergence));
    PetscCall(AzLossConservationDrift(loss, &res[k].drift));
    snprintf(sub, sizeof sub, "%s/%s", dir, strategies[k]);
    PetscCall(AzRunMakeDirectory(comm, sub));
    {
      const char *prefix;
      PetscCall(AzLossGetOptionsPrefix(loss, &prefix));
      PetscCall(AzRunWriteStrategyOptions(comm, prob, sub, strategies[k], prefix));
    }
    PetscCall(AzRunWriteHistory(comm, sub, tr, loss));
    if (nlaws > 0 && info->time_dependent) PetscCall(WriteConservation(comm, sub, info, loss, nlaws));
    if (!res[k].failed && (best < 0 || res[k].rel_l2 < res[best].rel_l2)) {
      best = k;
      PetscCall(WriteFieldData(comm, dir, prob, loss, info->exact ? NULL : (sref ? sref : ref)));
      PetscCall(AzRunWriteField(comm, dir, prob, loss, info->exact ? NULL : (sref ? sref : ref), 0, NULL, NULL)); /* field.h5 + field.xmf */
    }
    if (res[k].failed) {
      nfailed++;
      PetscCall(PetscPrintf(comm, "   FAILED: %s\n", res[k].why));
    } else {
      char bc[32] = "n/a", ic[32] = "n/a";
      if (!PetscIsInfOrNanReal(res[k].viol_bc)) snprintf(bc, sizeof bc, "%.3e", (double)res[k].viol_bc);
      if (!PetscIsInfOrNanReal(res[k].viol_ic)) snprintf(ic, sizeof ic, "%.3e", (double)res[k].viol_ic);
      PetscCall(PetscPrintf(comm, "   rel_l2 %.3e  boundary violation %s  initial violation %s  %.1f s\n", (double)res[k].rel_l2, bc, ic, (double)res[k].wall));
    }
    PetscCall(AzTrainerDestroy(&tr));
    PetscCall(AzLossDestroy(&loss));
    PetscCall(AzFieldDestroy(&field));
    PetscCall(AzReferenceDestroy(&sref));
    PetscCall(WriteTables(comm, dir, res, k + 1, !info->exact && refline[0] ? refline : NULL));
  }
  if (best >= 0) PetscCall(Plots(comm, dir, prob, res, n, best, nplot, plot, nlaws, &plots));
  {
    char  *md = NULL, *csv = NULL;
    AzFile f;
    if (rank == 0) PetscCall(Tables(res, n, &md, &csv));
    snprintf(path, sizeof path, "%s/report.md", dir);
    PetscCall(AzFileOpen(comm, path, &f));
    PetscCall(AzFilePrintf(f, "# ansatz compare: %s\n\n%s\n\n", info->name, info->description));
    PetscCall(AzFilePrintf(f, "Every strategy trained the same network from the same initial parameters on the same collocation points with the same budget (trainer %s, %d rank(s)). ", trainer, size));
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
    for (PetscInt k = 0; k < n; k++)
      if (res[k].failed) PetscCall(AzFilePrintf(f, "\nStrategy %s failed: %s. Its row describes the last good parameters.\n", res[k].name, res[k].why));
    if (nlaws > 0 && info->time_dependent) PetscCall(AzFilePrintf(f, "\nDrift vs Q* is max_t |Q(t) - Q*| over the %d times of each strategy's conservation.csv (t0 to t1) for the problem's laws, Q* the law's declared value or, without one, the law at the initial data (so an initial error shows at t0); Q(t) by composite Gauss-Legendre quadrature independent of the projection's own nodes.", (int)AZ_DRIFT_TIMES));
    else PetscCall(AzFilePrintf(f, "\nDrift vs Q*: n/a, %s.", nlaws ? "the problem is steady" : "the problem declares no conservation law"));
    if (projects) PetscCall(AzFilePrintf(f, " Strategies with +project train the solution projected onto the laws, +conserve adds a penalty on them; every strategy here trained on collocation points whose times lie on the same time slices."));
    PetscCall(AzFilePrintf(f, " n/a: not measured (no such condition, law or component).\n\n"));
    if (plots) {
      PetscInt ncomp, nslot;
      PetscCall(AzRunSolutionJetSize(prob, &ncomp, &nslot));
      PetscCall(AzFilePrintf(f, "![error against iteration](error_vs_iteration.png)\n\n"));
      for (PetscInt i = 0; i < nplot; i++) {
        char cname[64], sol[128], err[128];
        PetscCall(AzRunComponentName(prob, plot[i], cname, sizeof cname));
        PlotName("solution", cname, ncomp, sol, sizeof sol);
        PlotName("error", cname, ncomp, err, sizeof err);
        PetscCall(AzFilePrintf(f, "![%s, best strategy (%s)](%s)\n\n![%s error, best strategy](%s)\n\n", cname, res[best].name, sol, cname, err));
      }
      if (nlaws > 0 && info->time_dependent) PetscCall(AzFilePrintf(f, "![conservation drift over time](drift_vs_time.png)\n\n"));
    } else PetscCall(AzFilePrintf(f, "(No plots: %s. plots.gp remakes them.)\n\n", best < 0 ? "every strategy failed" : "gnuplot is missing or failed; see plots.log"));
    PetscCall(AzFilePrintf(f, "Files: compare.csv, compare.md, one directory per strategy with its history.csv%s, field.dat, field.h5 and field.xmf (the best strategy's field for ParaView), plots.gp, options.txt.\n", nlaws > 0 && info->time_dependent ? " and conservation.csv" : ""));
    PetscCall(AzFileClose(&f));
    /* the table on the terminal too */
    PetscCall(PetscPrintf(comm, "\n%s", md ? md : ""));
    free(md);
    free(csv);
  }
  PetscCall(PetscPrintf(comm, "\nreport: %s/report.md\n", dir));
  for (PetscInt k = 0; k < n; k++) PetscCall(PetscFree(strategies[k]));
  PetscCall(AzReferenceDestroy(&ref));
  PetscCall(AzProblemDestroy(&prob));
  PetscCheck(!nfailed, comm, PETSC_ERR_NOT_CONVERGED, "%" PetscInt_FMT " of %" PetscInt_FMT " strategies failed (marked failed in %s/compare.md; the others' results are complete)", nfailed, n, dir);
  PetscFunctionReturn(PETSC_SUCCESS);
}
