/* `ansatz compare`: every enforcement strategy on one problem with the same network, points, seed
 * and budget, measured against the same yardstick, in one table with plots. */
#include "compareimpl.h"
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

/* name is hardpde, hardpde-moe or hardpde-moe-coupled: the solved output layer, a mixture of experts, their coupled solve */
static PetscBool HardPDEName(const char name[], PetscBool *moe, PetscBool *coupled)
{
  if (strcmp(name, "hardpde") && strcmp(name, "hardpde-moe") && strcmp(name, "hardpde-moe-coupled")) return PETSC_FALSE;
  *moe     = name[7] ? PETSC_TRUE : PETSC_FALSE;
  *coupled = name[7] && name[11] ? PETSC_TRUE : PETSC_FALSE;
  return PETSC_TRUE;
}

/* Check the strategy's name; with a prefix, apply its settings under it (see StrategyPrefix) */
static PetscErrorCode StrategyOptions(MPI_Comm comm, const char *name, const char prefix[])
{
  char        base[64], *at, *plus;
  const char *con = NULL, *conserve = NULL, *penalty = NULL, *v;
  const char *bpenalty = NULL;
  PetscBool   positive = PETSC_FALSE, bounded = PETSC_FALSE, divfree = PETSC_FALSE, hardpde = PETSC_FALSE, moe = PETSC_FALSE, coupled = PETSC_FALSE;
  const char *choices = "soft, soft@WEIGHT (a constant penalty weight), soft-linear, soft-cosine, adaptive, auglag, hard, project, posthoc, probconserv, hardpde (a solved output layer: -az_hardpde), hardpde-moe (its mixture of experts: -az_moe_experts, default one per rank), hardpde-moe-coupled (the experts' weights in one solve: -az_moe_solve coupled), or one of the first seven with +project, +posthoc, +probconserv or +conserve[-linear|-cosine|-adaptive|-auglag] (a penalty on the laws; e.g. hard+project) and/or +softplus (positivity by construction), +positivity[-linear|-cosine|-adaptive|-auglag] (its penalty), +bounds (bounds by construction), +bounds-soft|-linear|-cosine|-adaptive|-auglag (their penalty) or +divfree (a divergence-free velocity from a stream function); soft or hard +hardpde, +hardpde-moe or +hardpde-moe-coupled (hard+hardpde: the solved layer with hard conditions)";

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
      else if (HardPDEName(tok, &moe, &coupled)) hardpde = PETSC_TRUE; /* hard+hardpde: the solved layer on the lift's hard conditions */
      else SETERRQ(comm, PETSC_ERR_ARG_UNKNOWN_TYPE, "Strategy '%s': after + comes project, posthoc, conserve[-linear|-cosine|-adaptive|-auglag], probconserv, softplus, positivity[-linear|-cosine|-adaptive|-auglag], bounds, bounds-soft|-linear|-cosine|-adaptive|-auglag, divfree, hardpde, hardpde-moe or hardpde-moe-coupled, not '%s'", name, tok);
    }
  }
  if (!strcmp(base, "project") || !strcmp(base, "posthoc") || !strcmp(base, "probconserv")) {
    PetscCheck(!conserve, comm, PETSC_ERR_ARG_WRONG, "Strategy '%s': choose from %s", name, choices);
    conserve = !strcmp(base, "project") ? "project" : (!strcmp(base, "posthoc") ? "posthoc" : "probconserv");
    PetscCall(PetscStrncpy(base, "soft", sizeof base));
  }
  PetscCheck(!hardpde || ((!strcmp(base, "soft") || !strcmp(base, "hard")) && !conserve && !positive && !penalty && !bounded && !bpenalty && !divfree), comm, PETSC_ERR_ARG_WRONG, "Strategy '%s': +hardpde, +hardpde-moe and +hardpde-moe-coupled go alone after soft or hard (hard+hardpde: the solved output layer with hard conditions)", name);
  if (HardPDEName(base, &moe, &coupled)) { /* the PDE, boundary and initial residuals least at constraint points by solved output weights */
    PetscCheck(!plus, comm, PETSC_ERR_ARG_WRONG, "Strategy '%s': %s takes no +suffix (it does not combine with projections, exact positivity or bounds, or a stream function)", name, base);
    hardpde = PETSC_TRUE;
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
  if (hardpde && !moe) PetscCall(SetUnlessGiven(prefix, "-az_moe_blend", "pou"));  /* one expert: no cuts to join under a global -az_moe_blend interface */
  if (moe) PetscCall(DefaultUnlessGiven(prefix, "-az_moe_experts", "0"));          /* one expert per rank unless the user says */
  if (moe) PetscCall(SetUnlessGiven(prefix, "-az_moe_solve", coupled ? "coupled" : "independent")); /* the name says which, even under a global -az_moe_solve */
  if (at) {
    PetscCall(SetUnlessGiven(prefix, "-az_weight_boundary", at));
    PetscCall(SetUnlessGiven(prefix, "-az_weight_initial", at));
  }
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
  PetscBool            plots = PETSC_FALSE, projects = PETSC_FALSE, fixed_points = PETSC_FALSE;
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
  PetscCall(PetscOptionsString("-az_strategies", "strategies to compare: soft, soft@WEIGHT, soft-linear, soft-cosine, adaptive, auglag, hard, project, posthoc, probconserv, hardpde, hardpde-moe, hardpde-moe-coupled, X+project, X+posthoc, X+probconserv, X+conserve[-linear|-cosine|-adaptive|-auglag], X+softplus, X+positivity[-linear|-cosine|-adaptive|-auglag], X+bounds, X+bounds-soft|-linear|-cosine|-adaptive|-auglag, X+divfree, hard+hardpde, hard+hardpde-moe, hard+hardpde-moe-coupled", "AzRunCompare", list, list, sizeof list, NULL));
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
  {
    size_t len = strlen(list);
    PetscCheck(len && list[0] != ',' && list[len - 1] != ',' && !strstr(list, ",,"), comm, PETSC_ERR_ARG_WRONG, "-az_strategies '%s' has an empty entry: give strategy names separated by single commas, e.g. soft,hard", list);
  }
  for (char *save = NULL, *tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
    PetscCheck(n < AZ_MAX_STRATEGIES, comm, PETSC_ERR_ARG_SIZ, "At most %d strategies at a time", AZ_MAX_STRATEGIES);
    PetscCall(StrategyOptions(comm, tok, NULL)); /* validates the name */
    for (PetscInt k = 0; k < n; k++) PetscCheck(strcmp(strategies[k], tok), comm, PETSC_ERR_ARG_WRONG, "-az_strategies names '%s' twice: each strategy once (use -az_repeats N for several runs of one)", tok);
    PetscCall(PetscStrallocpy(tok, &strategies[n++]));
    if (strstr(tok, "project") || strstr(tok, "conserve")) projects = PETSC_TRUE; /* time slices */
    /* points that stay put for every strategy: time slices, or a solved layer's (no recipe resampling) */
    if (projects || strstr(tok, "hardpde")) fixed_points = PETSC_TRUE;
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
  PetscCall(AzRunApplyRecipe(prob, PETSC_FALSE, (PetscBool)!fixed_points, recipe, sizeof recipe));
  PetscCall(PetscPrintf(comm, "recipe (options not given, -az_recipe none for none): %s\n", recipe[0] ? recipe : "(every option given)"));
  PetscCall(AzProblemGetInfo(prob, &info));
  PetscCall(AzProblemGetNumCoords(prob, &ncoord));
  PetscCall(AzComparePlotComponents(comm, prob, plotlist, &nplot, plot));
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
  snprintf(path, sizeof path, "%s/field.h5.tmp", dir); /* refused before training, not when field.h5 is written */
  PetscCall(AzFileCheckHDF5Path(comm, path, "-az_output_dir"));
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
      /* the yardstick is the exact solution: the reference is only a figure for scale, taken from its
       * cache when `ansatz reference` made one with these settings, never solved here (gpme1d's porous
       * medium takes minutes); a cache that does not load is only a missing figure */
      PetscErrorCode ierr;
      PetscBool      loaded = PETSC_FALSE;
      PetscCall(PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
      ierr = AzReferenceLoadCached(ref, refdir, &loaded);
      PetscCall(PetscPopErrorHandler());
      if (ierr || !loaded) {
        PetscCall(PetscPrintf(comm, "ansatz compare: the exact solution of %s is the yardstick; no cached SUNDIALS/PETSc reference with these settings (`ansatz reference -problem %s` makes one), so report.md leaves the reference time out\n", info->name, info->name));
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
    PetscCall(AzRunApplyRecipe(gprob, PETSC_FALSE, (PetscBool)!fixed_points, recipe, sizeof recipe));
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
        PetscCall(AzLossHardPDEFinalSolve(loss)); /* hardpde: the weights at the final ridge, as train */
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
        PetscCall(AzCompareBoundViolation(gprob, loss, PETSC_FALSE, &x->positivity));
        PetscCall(AzCompareBoundViolation(gprob, loss, PETSC_TRUE, &x->bounds));
        PetscCall(AzCompareDivergenceViolation(gprob, loss, &x->divergence));
        PetscCall(AzLossConservationDrift(loss, &x->drift));
        PetscCall(AzRunMakeDirectory(gcomm, sub));
        PetscCall(AzRunWriteStrategyOptions(gcomm, gprob, sub, "options.txt", strategies[k], prefix));
        PetscCall(AzRunWriteHistory(gcomm, sub, tr, loss));
        if (nlaws > 0 && info->time_dependent) PetscCall(AzCompareWriteConservation(gcomm, sub, info, loss, nlaws));
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
      PetscCall(AzCompareWriteFieldData(gcomm, dir, gprob, loss, info->exact ? NULL : (sref ? sref : gref)));
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
  if (best >= 0) PetscCall(AzComparePlots(comm, dir, prob, res, n, &sweep, nrep, best, nplot, plot, nlaws, &plots));
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
        AzComparePlotName("solution", cname, ncomp, sol, sizeof sol);
        AzComparePlotName("error", cname, ncomp, err, sizeof err);
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
