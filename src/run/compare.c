/* `ansatz compare`: every enforcement strategy on one problem with the same network, points, seed
 * and budget, measured against the same yardstick, in one table with plots. */
#include "runimpl.h"
#include <unistd.h>

#define AZ_MAX_STRATEGIES 16

typedef struct {
  char      name[64];
  PetscReal rel_l2, max_abs, viol_bc, viol_ic, drift, positivity, divergence, loss, wall;
  PetscInt  its;
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
 * penalty, with the same variants) or "+divfree" (velocity from a stream function) */
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

static PetscErrorCode StrategyOptions(MPI_Comm comm, const char *name, PetscBool set)
{
  char        base[64], *at, *plus;
  const char *con = NULL, *conserve = NULL, *penalty = NULL, *v;
  PetscBool   positive = PETSC_FALSE, divfree = PETSC_FALSE;
  const char *choices = "soft, soft@WEIGHT (a constant penalty weight), soft-linear, soft-cosine, adaptive, auglag, hard, project, posthoc, or one of the first seven with +project, +posthoc or +conserve[-linear|-cosine|-adaptive|-auglag] (a penalty on the laws; e.g. hard+project) and/or +softplus (positivity by construction), +positivity[-linear|-cosine|-adaptive|-auglag] (its penalty) or +divfree (a divergence-free velocity from a stream function)";

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
      else if (!strcmp(tok, "divfree")) divfree = PETSC_TRUE;
      else SETERRQ(comm, PETSC_ERR_ARG_UNKNOWN_TYPE, "Strategy '%s': after + comes project, posthoc, conserve[-linear|-cosine|-adaptive|-auglag], softplus, positivity[-linear|-cosine|-adaptive|-auglag] or divfree, not '%s'", name, tok);
    }
  }
  if (!strcmp(base, "project") || !strcmp(base, "posthoc")) {
    PetscCheck(!conserve, comm, PETSC_ERR_ARG_WRONG, "Strategy '%s': choose from %s", name, choices);
    conserve = !strcmp(base, "project") ? "project" : "posthoc";
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
  if (set) {
    PetscCall(PetscOptionsSetValue(NULL, "-az_constraint", con));
    if (conserve) PetscCall(PetscOptionsSetValue(NULL, "-az_conservation", conserve));
    PetscCheck(!(positive && penalty), comm, PETSC_ERR_ARG_WRONG, "Strategy '%s': +softplus (positivity by construction) and +positivity (its penalty) exclude each other", name);
    if (positive) PetscCall(PetscOptionsSetValue(NULL, "-az_positivity", "hard"));
    if (penalty) PetscCall(PetscOptionsSetValue(NULL, "-az_positivity", penalty));
    if (divfree) PetscCall(PetscOptionsSetValue(NULL, "-az_divfree", "1"));
    if (at) {
      char     *end;
      PetscReal w = strtod(at, &end);
      PetscCheck(end != at && !*end && w > 0, comm, PETSC_ERR_ARG_WRONG, "Strategy '%s': the weight after @ must be a positive number", name);
      PetscCall(PetscOptionsSetValue(NULL, "-az_weight_boundary", at));
      PetscCall(PetscOptionsSetValue(NULL, "-az_weight_initial", at));
    }
  } else {
    PetscCall(PetscOptionsClearValue(NULL, "-az_constraint"));
    if (conserve) PetscCall(PetscOptionsClearValue(NULL, "-az_conservation"));
    if (positive || penalty) PetscCall(PetscOptionsClearValue(NULL, "-az_positivity"));
    if (divfree) PetscCall(PetscOptionsClearValue(NULL, "-az_divfree"));
    if (at) {
      PetscCall(PetscOptionsClearValue(NULL, "-az_weight_boundary"));
      PetscCall(PetscOptionsClearValue(NULL, "-az_weight_initial"));
    }
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* conservation.csv in a strategy's directory: t and Q(t) − Q* for every law */
static PetscErrorCode WriteConservation(const char dir[], AzLoss loss, PetscInt nlaws)
{
  const PetscInt nt = 101;
  PetscReal      t[101], Q[AZ_MAX_LAWS][101], target[AZ_MAX_LAWS];
  char           path[PETSC_MAX_PATH_LEN + 128];
  FILE          *fp;

  PetscFunctionBegin;
  for (PetscInt l = 0; l < nlaws; l++) PetscCall(AzLossConservationSeries(loss, l, nt, t, Q[l], &target[l]));
  snprintf(path, sizeof path, "%s/conservation.csv", dir);
  fp = fopen(path, "w");
  PetscCheck(fp, PETSC_COMM_SELF, PETSC_ERR_FILE_OPEN, "Cannot write %s", path);
  fprintf(fp, "t");
  for (PetscInt l = 0; l < nlaws; l++) fprintf(fp, ",drift_%" PetscInt_FMT, l);
  fprintf(fp, "\n");
  for (PetscInt j = 0; j < nt; j++) {
    fprintf(fp, "%.6g", (double)t[j]);
    for (PetscInt l = 0; l < nlaws; l++) fprintf(fp, ",%.6e", (double)(Q[l][j] - target[l]));
    fprintf(fp, "\n");
  }
  fclose(fp);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* max(0, −min u_c) over the evaluation grid for the components the problem requires positive */
static PetscErrorCode PositivityViolation(AzProblem prob, AzLoss loss, PetscReal *viol)
{
  const AzProblemInfo *info;
  PetscInt             ncoord, m = 41, total = 1, nslot;
  PetscReal            lo[AZ_MAX_COORD], hi[AZ_MAX_COORD];
  PetscBool            any = PETSC_FALSE;

  PetscFunctionBegin;
  PetscCall(AzProblemGetInfo(prob, &info));
  for (PetscInt c = 0; c < info->ncomp; c++) any = any || info->positive[c];
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
      if (info->positive[c]) *viol = PetscMax(*viol, -PetscRealPart(jet[c * nslot]));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* max |∂u_a/∂x + ∂u_b/∂y| over the evaluation grid, (a, b) from -az_divfree_components (default 0, 1):
 * for a 2-D problem with a velocity; NaN otherwise (or when the problem does not read those derivatives) */
static PetscErrorCode DivergenceViolation(AzProblem prob, AzLoss loss, PetscReal *viol)
{
  const AzProblemInfo *info;
  PetscInt             ncoord, m = 41, total = 1, nslot, comps[2] = {0, 1}, n = 2;
  PetscReal            lo[AZ_MAX_COORD], hi[AZ_MAX_COORD];
  AzJetRequest         req;

  PetscFunctionBegin;
  PetscCall(AzProblemGetInfo(prob, &info));
  *viol = (PetscReal)NAN;
  PetscBool            set;
  PetscCall(PetscOptionsGetIntArray(NULL, NULL, "-az_divfree_components", comps, &n, &set));
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

/* field.dat: the best strategy's solution and its error on a grid (1 or 2 coordinates) */
static PetscErrorCode WriteFieldData(const char dir[], AzProblem prob, AzLoss loss, AzReference ref)
{
  const AzProblemInfo *info;
  const PetscReal     *param;
  PetscInt             ncoord, m;
  PetscReal            lo[AZ_MAX_COORD], hi[AZ_MAX_COORD];
  char                 path[PETSC_MAX_PATH_LEN + 16];
  FILE                *fp;

  PetscFunctionBegin;
  PetscCall(AzProblemGetInfo(prob, &info));
  PetscCall(AzProblemGetNumCoords(prob, &ncoord));
  PetscCall(AzProblemGetParams(prob, &param));
  PetscCall(AzProblemGetBox(prob, lo, hi));
  if (ncoord > 2) PetscFunctionReturn(PETSC_SUCCESS);
  m = ncoord == 1 ? 401 : 121;
  snprintf(path, sizeof path, "%s/field.dat", dir);
  fp = fopen(path, "w");
  PetscCheck(fp, PETSC_COMM_SELF, PETSC_ERR_FILE_OPEN, "Cannot write %s", path);
  fprintf(fp, "# coordinates, u (component 0), yardstick, error\n");
  for (PetscInt j = 0; j < (ncoord == 2 ? m : 1); j++) {
    for (PetscInt i = 0; i < m; i++) {
      PetscReal   x[2] = {lo[0] + (hi[0] - lo[0]) * i / (m - 1), ncoord == 2 ? lo[1] + (hi[1] - lo[1]) * j / (m - 1) : 0};
      PetscScalar jet[AZ_MAX_COMP * AZ_JET_MAX_NSLOT], ue[AZ_MAX_COMP] = {NAN};
      AzPoint     p = {x, ncoord, param, -1};
      PetscCall(AzLossEvaluateSolution(loss, 1, x, jet));
      if (info->exact) PetscCall(info->exact(&p, ue));
      else if (ref) PetscCall(AzReferenceInterpolate(ref, 1, x, ue));
      if (ncoord == 2) fprintf(fp, "%.8g %.8g %.10g %.10g %.10g\n", (double)x[0], (double)x[1], (double)jet[0], (double)ue[0], (double)(jet[0] - ue[0]));
      else fprintf(fp, "%.8g %.10g %.10g %.10g\n", (double)x[0], (double)jet[0], (double)ue[0], (double)(jet[0] - ue[0]));
    }
    if (ncoord == 2) fprintf(fp, "\n");
  }
  fclose(fp);
  PetscFunctionReturn(PETSC_SUCCESS);
}

static void Num(FILE *fp, PetscReal v)
{
  if (PetscIsInfOrNanReal(v)) fprintf(fp, "n/a");
  else fprintf(fp, "%.3e", (double)v);
}

/* gnuplot scripts and PNGs: error against iteration for every strategy, the best field and its error */
static PetscErrorCode Plots(const char dir[], Result res[], PetscInt n, PetscInt best, PetscInt ncoord, PetscBool time_dependent, PetscInt nlaws, PetscBool *made)
{
  char  path[PETSC_MAX_PATH_LEN + 32], cmd[2 * PETSC_MAX_PATH_LEN + 64];
  FILE *fp;

  PetscFunctionBegin;
  *made = PETSC_FALSE;
  snprintf(path, sizeof path, "%s/plots.gp", dir);
  fp = fopen(path, "w");
  PetscCheck(fp, PETSC_COMM_SELF, PETSC_ERR_FILE_OPEN, "Cannot write %s", path);
  fprintf(fp, "# gnuplot plots.gp (in this directory) remakes the figures\nset terminal pngcairo size 900,600\nset datafile separator ','\nset datafile columnheaders\n");
  fprintf(fp, "set output 'error_vs_iteration.png'\nset logscale y\nset xlabel 'iteration'\nset ylabel 'relative L2 error'\nset key outside right\nset grid\n");
  fprintf(fp, "plot ");
  for (PetscInt k = 0; k < n; k++) fprintf(fp, "%s'%s/history.csv' using (column(\"iteration\")):(column(\"rel_l2\")) with lines lw 2 title '%s'", k ? ", \\\n     " : "", res[k].name, res[k].name);
  if (nlaws > 0 && time_dependent) {
    /* |Q(t) − Q*| of the first law; a floor of 1e-17 keeps exact zeros on the log scale */
    fprintf(fp, "\nset output 'drift_vs_time.png'\nset xlabel 't'\nset ylabel '|Q(t) - Q*| (first conservation law)'\nset format y '%%.0e'\n");
    fprintf(fp, "plot ");
    for (PetscInt k = 0; k < n; k++) fprintf(fp, "%s'%s/conservation.csv' using 1:(abs($2) + 1e-17) with lines lw 2 title '%s'", k ? ", \\\n     " : "", res[k].name, res[k].name);
    fprintf(fp, "\nset format y '%%g'");
  }
  fprintf(fp, "\nunset logscale y\nset datafile separator whitespace\nunset key\n");
  if (ncoord == 2) {
    fprintf(fp, "set autoscale fix\nset output 'solution.png'\nset xlabel 'x'\nset ylabel '%s'\nset title 'u, strategy %s'\nplot 'field.dat' using 1:2:3 with image\n", time_dependent ? "t" : "y", res[best].name);
    fprintf(fp, "set output 'error.png'\nset title 'u - yardstick, strategy %s'\nplot 'field.dat' using 1:2:5 with image\n", res[best].name);
  } else if (ncoord == 1) {
    fprintf(fp, "set output 'solution.png'\nset xlabel 'x'\nset key\nset title 'strategy %s'\nplot 'field.dat' using 1:2 with lines lw 2 title 'u', '' using 1:3 with lines dt 2 title 'yardstick'\n", res[best].name);
    fprintf(fp, "set output 'error.png'\nunset key\nset title 'u - yardstick, strategy %s'\nplot 'field.dat' using 1:4 with lines lw 2\n", res[best].name);
  }
  fclose(fp);
  snprintf(cmd, sizeof cmd, "cd '%s' && gnuplot plots.gp > plots.log 2>&1", dir);
  if (system(cmd) == 0) *made = PETSC_TRUE;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzRunCompare(MPI_Comm comm)
{
  char                 name[PETSC_MAX_PATH_LEN] = "poisson2d", dir[PETSC_MAX_PATH_LEN] = "", list[1024] = "soft,soft-cosine,adaptive,auglag,hard", path[PETSC_MAX_PATH_LEN + 32];
  char                *strategies[AZ_MAX_STRATEGIES];
  PetscInt             n = 0, ncoord, best = 0, its;
  AzProblem            prob;
  const AzProblemInfo *info;
  AzReference          ref = NULL;
  AzReferenceStats     rstats;
  Result               res[AZ_MAX_STRATEGIES];
  PetscMPIInt          rank, size;
  PetscBool            plots = PETSC_FALSE, projects = PETSC_FALSE;
  char                 trainer[128] = "";
  PetscInt             nlaws = 0;

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  PetscCallMPI(MPI_Comm_size(comm, &size));
  PetscOptionsBegin(comm, NULL, "ansatz compare", "ansatz");
  PetscCall(PetscOptionsString("-problem", "problem: a name from `ansatz list` or a path to a plugin .so", "AzProblemLoad", name, name, sizeof name, NULL));
  PetscCall(PetscOptionsString("-az_output_dir", "run directory (default runs/compare-PROBLEM)", "AzRunCompare", dir, dir, sizeof dir, NULL));
  PetscCall(PetscOptionsString("-az_strategies", "strategies to compare: soft, soft@WEIGHT, soft-linear, soft-cosine, adaptive, auglag, hard, project, posthoc, X+project, X+posthoc, X+conserve[-linear|-cosine|-adaptive|-auglag], X+softplus, X+positivity[-linear|-cosine|-adaptive|-auglag], X+divfree", "AzRunCompare", list, list, sizeof list, NULL));
  PetscOptionsEnd();
  for (char *save = NULL, *tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
    PetscCheck(n < AZ_MAX_STRATEGIES, comm, PETSC_ERR_ARG_SIZ, "At most %d strategies at a time", AZ_MAX_STRATEGIES);
    PetscCall(StrategyOptions(comm, tok, PETSC_FALSE)); /* validates the name */
    PetscCall(PetscStrallocpy(tok, &strategies[n++]));
    if (strstr(tok, "project") || strstr(tok, "conserve")) projects = PETSC_TRUE; /* time slices */
  }
  PetscCheck(n > 0, comm, PETSC_ERR_ARG_WRONG, "-az_strategies is empty");
  PetscCall(AzProblemLoad(comm, name, &prob));
  PetscCall(AzProblemSetFromOptions(prob));
  PetscCall(AzProblemGetInfo(prob, &info));
  PetscCall(AzProblemGetNumCoords(prob, &ncoord));
  while (nlaws < AZ_MAX_LAWS && info->conservation[nlaws].name) nlaws++;
  if (projects) {
    /* in-training projection needs the points on time slices: every strategy gets the same ones */
    PetscBool set;
    PetscCall(PetscOptionsHasName(NULL, NULL, "-az_time_slices", &set));
    if (!set) PetscCall(PetscOptionsSetValue(NULL, "-az_time_slices", "100"));
  }
  if (!dir[0]) snprintf(dir, sizeof dir, "runs/compare-%s", info->name);
  PetscCall(AzOptionsCheckpoint(comm, PETSC_FALSE)); /* -help stops here; unused options are checked at the end */
  PetscCall(AzRunMakeDirectory(comm, dir));
  {
    PetscViewer v;
    snprintf(path, sizeof path, "%s/options.txt", dir);
    PetscCall(PetscViewerASCIIOpen(comm, path, &v));
    PetscCall(PetscOptionsView(NULL, v));
    PetscCall(PetscViewerDestroy(&v));
  }
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
  }
  {
    /* finer error curves than train's default */
    PetscBool set;
    PetscCall(PetscOptionsHasName(NULL, NULL, "-az_monitor_every", &set));
    if (!set) PetscCall(PetscOptionsSetValue(NULL, "-az_monitor_every", "10"));
  }
  PetscCall(PetscPrintf(comm, "ansatz compare: problem %s, %d rank(s), %" PetscInt_FMT " strategies, run directory %s\n", info->name, size, n, dir));
  for (PetscInt k = 0; k < n; k++) {
    AzField        field;
    AzLoss         loss;
    AzTrainer      tr;
    PetscLogDouble t0, t1;
    PetscBool      has;
    char           sub[PETSC_MAX_PATH_LEN + 72];

    PetscCall(StrategyOptions(comm, strategies[k], PETSC_TRUE));
    PetscCall(AzRunCreateField(prob, &field)); /* the same seed: the same initial network */
    PetscCall(AzLossCreate(prob, field, &loss));
    PetscCall(AzLossSetFromOptions(loss));
    PetscCall(AzLossSetUp(loss));
    if (!info->exact) PetscCall(AzLossSetReference(loss, ref));
    PetscCall(AzTrainerCreate(loss, field, &tr));
    PetscCall(AzTrainerSetFromOptions(tr));
    PetscCall(AzTrainerGetDescription(tr, trainer, sizeof trainer));
    PetscCall(PetscPrintf(comm, "== %s\n", strategies[k]));
    PetscCall(PetscTime(&t0));
    PetscCall(AzTrainerTrain(tr));
    PetscCall(PetscTime(&t1));
    PetscCall(PetscStrncpy(res[k].name, strategies[k], sizeof res[k].name));
    res[k].wall = t1 - t0;
    PetscCall(AzTrainerGetIterations(tr, &its));
    res[k].its = its;
    PetscCall(AzLossEvaluate(loss, &res[k].loss, NULL, NULL));
    PetscCall(AzLossExactError(loss, &has, &res[k].rel_l2, &res[k].max_abs));
    PetscCall(AzLossConstraintViolation(loss, 200, &res[k].viol_bc, &res[k].viol_ic));
    PetscCall(PositivityViolation(prob, loss, &res[k].positivity));
    PetscCall(DivergenceViolation(prob, loss, &res[k].divergence));
    PetscCall(AzLossConservationDrift(loss, &res[k].drift));
    snprintf(sub, sizeof sub, "%s/%s", dir, strategies[k]);
    PetscCall(AzRunMakeDirectory(comm, sub));
    PetscCall(AzRunWriteHistory(comm, sub, tr, loss));
    if (rank == 0 && nlaws > 0 && info->time_dependent) PetscCall(WriteConservation(sub, loss, nlaws));
    if (k == 0 || res[k].rel_l2 < res[best].rel_l2) {
      best = k;
      if (rank == 0) PetscCall(WriteFieldData(dir, prob, loss, info->exact ? NULL : ref));
    }
    PetscCall(PetscPrintf(comm, "   rel_l2 %.3e  boundary violation %.3e  initial violation %.3e  %.1f s\n", (double)res[k].rel_l2, (double)res[k].viol_bc, (double)res[k].viol_ic, (double)res[k].wall));
    PetscCall(AzTrainerDestroy(&tr));
    PetscCall(AzLossDestroy(&loss));
    PetscCall(AzFieldDestroy(&field));
    PetscCall(StrategyOptions(comm, strategies[k], PETSC_FALSE));
  }
  if (rank == 0) {
    FILE *csv, *md;
    snprintf(path, sizeof path, "%s/compare.csv", dir);
    csv = fopen(path, "w");
    snprintf(path, sizeof path, "%s/compare.md", dir);
    md = fopen(path, "w");
    PetscCheck(csv && md, PETSC_COMM_SELF, PETSC_ERR_FILE_OPEN, "Cannot write the tables in %s", dir);
    fprintf(csv, "strategy,rel_l2,max_abs_error,max_boundary_violation,max_initial_violation,conservation_drift,positivity_violation,final_loss,iterations,wall_seconds,max_divergence\n");
    fprintf(md, "| strategy | rel L2 | max abs error | max boundary violation | max initial violation | conservation drift | positivity violation | max divergence | final loss | iterations | wall (s) |\n| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n");
    for (PetscInt k = 0; k < n; k++) {
      fprintf(csv, "%s,%.6e,%.6e,%.6e,%.6e,%.6e,%.6e,%.6e,%d,%.3f,%.6e\n", res[k].name, (double)res[k].rel_l2, (double)res[k].max_abs, (double)res[k].viol_bc, (double)res[k].viol_ic, (double)res[k].drift, (double)res[k].positivity, (double)res[k].loss, (int)res[k].its, (double)res[k].wall, (double)res[k].divergence);
      fprintf(md, "| %s | ", res[k].name);
      Num(md, res[k].rel_l2), fprintf(md, " | "), Num(md, res[k].max_abs), fprintf(md, " | "), Num(md, res[k].viol_bc), fprintf(md, " | "), Num(md, res[k].viol_ic);
      fprintf(md, " | "), Num(md, res[k].drift), fprintf(md, " | "), Num(md, res[k].positivity), fprintf(md, " | "), Num(md, res[k].divergence), fprintf(md, " | "), Num(md, res[k].loss);
      fprintf(md, " | %d | %.1f |\n", (int)res[k].its, (double)res[k].wall);
    }
    fclose(csv);
    fclose(md);
    PetscCall(Plots(dir, res, n, best, ncoord, info->time_dependent, nlaws, &plots));
    snprintf(path, sizeof path, "%s/report.md", dir);
    md = fopen(path, "w");
    PetscCheck(md, PETSC_COMM_SELF, PETSC_ERR_FILE_OPEN, "Cannot write %s", path);
    fprintf(md, "# ansatz compare: %s\n\n%s\n\n", info->name, info->description);
    fprintf(md, "Every strategy trained the same network from the same initial parameters on the same collocation points with the same budget (trainer %s, %d rank(s)). ", trainer, size);
    fprintf(md, "Errors are measured against the %s. ", info->exact ? "exact solution" : "SUNDIALS/PETSc reference");
    if (ref) fprintf(md, "The reference solve took %.2f s (%ld steps) for scale%s.\n\n", (double)rstats.wall_seconds, rstats.steps, rstats.wall_seconds == 0 ? " (reused from its cache: see its summary.json for the original time)" : "");
    else fprintf(md, "The SUNDIALS/PETSc reference failed on this problem (see `ansatz reference -problem %s`), so no reference time is given.\n\n", info->name);
    {
      FILE *tab;
      char  line[1024];
      snprintf(path, sizeof path, "%s/compare.md", dir);
      tab = fopen(path, "r");
      while (tab && fgets(line, sizeof line, tab)) fputs(line, md);
      if (tab) fclose(tab);
    }
    fprintf(md, "\nConservation drift is max_t |Q(t) - Q*| over 51 times for the problem's laws (n/a: %s), Q(t) by composite Gauss-Legendre quadrature independent of the projection's own nodes.", info->conservation[0].name ? "none measured" : "the problem declares no conservation law");
    if (projects) fprintf(md, " Strategies with +project train the solution projected onto the laws, +conserve adds a penalty on them; every strategy here trained on collocation points whose times lie on the same time slices.");
    fprintf(md, "\n\n");
    if (plots) {
      fprintf(md, "![error against iteration](error_vs_iteration.png)\n\n![solution, best strategy (%s)](solution.png)\n\n![error, best strategy](error.png)\n\n", res[best].name);
      if (nlaws > 0 && info->time_dependent) fprintf(md, "![conservation drift over time](drift_vs_time.png)\n\n");
    }
    else fprintf(md, "(No plots: gnuplot is missing or failed; see plots.log. plots.gp remakes them.)\n\n");
    fprintf(md, "Files: compare.csv, compare.md, one directory per strategy with its history.csv%s, field.dat, plots.gp, options.txt.\n", nlaws > 0 && info->time_dependent ? " and conservation.csv" : "");
    fclose(md);
  }
  PetscCall(PetscPrintf(comm, "\n"));
  {
    /* the table on the terminal too */
    FILE *tab;
    char  line[1024];
    snprintf(path, sizeof path, "%s/compare.md", dir);
    if (rank == 0 && (tab = fopen(path, "r"))) {
      while (fgets(line, sizeof line, tab)) PetscCall(PetscPrintf(PETSC_COMM_SELF, "%s", line));
      fclose(tab);
    }
  }
  PetscCall(PetscPrintf(comm, "\nreport: %s/report.md\n", dir));
  for (PetscInt k = 0; k < n; k++) PetscCall(PetscFree(strategies[k]));
  PetscCall(AzReferenceDestroy(&ref));
  PetscCall(AzProblemDestroy(&prob));
  PetscFunctionReturn(PETSC_SUCCESS);
}
