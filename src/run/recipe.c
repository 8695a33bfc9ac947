/* The recipe: defaults for the options a user did not give, so that `ansatz train -problem P` with no
 * other option trains well. Three layers, each option taken from the first that has it:
 *   1. the user's own options (command line, option files, PETSC_OPTIONS): never overridden;
 *   2. the problem's recipe (AzProblemInfo.recipe, ABI 5): what its author found to work (causal
 *      training for a travelling wave, more collocation points for an interface, ...);
 *   3. ansatz's recipe for every problem: hard conditions where the problem has a lift (and neither the
 *      user nor its recipe chose how conditions are enforced), a 3 × 32 network, so that Gauss–Newton solves densely
 *      (2,000-3,000 parameters), trained by Adam 500 then Gauss–Newton/LM 300. Gauss–Newton is what
 *      reaches 1e-5..1e-8 (bench/accuracy/README.md); Adam first moves the network off its random
 *      start, where Gauss–Newton's steps are poor. Where the network and points the user chose
 *      make a dense Gauss–Newton iteration slow (DenseGNSlow), Adam 200 (learning rate 2e-3) then
 *      the dense self-scaled Broyden stage 1000 instead. The optimiser chain is the recipe's only when
 *      the user gave neither -az_trainer_type nor -az_trainer_max_it (a count alone keeps the
 *      single Adam stage it always meant).
 * Options that decide one thing together form a group (Groups below: the optimiser chain; causal
 * training or time-marching; the constraint strategies; the PDE's points, resampled or a solved layer's): where the user gave any option of a group,
 * no recipe sets another of it (a recipe's -az_causal 1 would refuse the user's -az_time_march, its
 * -az_constraint_initial hard would override the user's -az_constraint soft). How conditions are
 * enforced is a recipe's to choose only where the caller lets it (train; not compare, whose strategies
 * choose, nor eval of a run, whose options.txt does), and never hard beside an option that refuses hard
 * conditions (RefusesHard; a solved output layer takes them, but not with -az_moe_blend interface).
 * -az_recipe none uses neither recipe (the library's own defaults: 4 × 50, Adam 1000).
 * Each option the recipe sets goes into the options database (so options.txt repeats the run) and
 * into the text returned, written to summary.json and printed. */
#include "runimpl.h"
#include <ctype.h>

static PetscErrorCode Append(char applied[], size_t len, const char name[], const char value[])
{
  PetscFunctionBegin;
  if (applied[0]) PetscCall(PetscStrlcat(applied, " ", len));
  PetscCall(PetscStrlcat(applied, name, len));
  if (value && value[0]) {
    PetscCall(PetscStrlcat(applied, " ", len));
    PetscCall(PetscStrlcat(applied, value, len));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* -name value unless the user (or an earlier layer) gave -name; marked used (it is the recipe's, not
 * a misspelling of the user's, when a stage does not read it) */
static PetscErrorCode SetUnlessGiven(const char name[], const char value[], char applied[], size_t len)
{
  PetscBool given;

  PetscFunctionBegin;
  PetscCall(PetscOptionsHasName(NULL, NULL, name, &given));
  if (given) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(PetscOptionsSetValue(NULL, name, value && value[0] ? value : NULL));
  PetscCall(PetscOptionsHasName(NULL, NULL, name, &given));
  PetscCall(Append(applied, len, name, value));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* options that decide one thing together: a name belongs to a group when it is one of its names or
 * starts with one followed by '_' */
static const char *const Groups[][5] = { /* a row ends at its NULL */
  {"-az_trainer_type", "-az_trainer_max_it", NULL},
  {"-az_causal", "-az_time_march", NULL},
  {"-az_constraint", "-az_hard", NULL}, /* -az_hard_boundary, -az_hard_initial: -az_constraint_* hard */
  /* the PDE's points: how many, resampled, or a solved layer's fixed ones (which refuses resampling); a
   * recipe's resampling is sized for its own count (-az_resample_max at least -az_n_interior) */
  {"-az_resample", "-az_hardpde", "-az_n_interior", NULL},
};
#define NGROUPS ((int)(sizeof Groups / sizeof Groups[0]))

static int GroupOf(const char name[])
{
  for (int g = 0; g < NGROUPS; g++)
    for (int k = 0; Groups[g][k]; k++) {
      size_t n = strlen(Groups[g][k]);
      if (!strncmp(name, Groups[g][k], n) && (!name[n] || name[n] == '_')) return g;
    }
  return -1;
}

/* which groups the user touched: any option in the database (given before the recipe) in the group */
static PetscErrorCode GroupsGiven(PetscBool given[])
{
  char *all = NULL;

  PetscFunctionBegin;
  for (int g = 0; g < NGROUPS; g++) given[g] = PETSC_FALSE;
  PetscCall(PetscOptionsGetAll(NULL, &all));
  for (char *save = NULL, *tok = strtok_r(all, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
    int g;
    if (tok[0] != '-' || !isalpha((unsigned char)tok[1])) continue;
    if ((g = GroupOf(tok)) >= 0) given[g] = PETSC_TRUE;
  }
  PetscCall(PetscFree(all));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* whether an option that refuses hard conditions was given (each says so where it is read): an inferred
 * parameter the lift may depend on, a stream function, positivity or bounds by construction; and a
 * solved output layer, which takes hard conditions when the user gives them but is not given them by a
 * recipe (its runs were measured and tuned with soft ones) */
static PetscErrorCode RefusesHard(PetscBool *refuses)
{
  const char *const excl[] = {"-az_infer", "-az_divfree", "-az_positivity", "-az_bounds"};
  char              blend[32] = "";
  PetscBool         hardpde = PETSC_FALSE, set;

  PetscFunctionBegin;
  *refuses = PETSC_FALSE;
  for (size_t k = 0; k < sizeof excl / sizeof excl[0]; k++) {
    PetscCall(PetscOptionsHasName(NULL, NULL, excl[k], &set));
    if (set) *refuses = PETSC_TRUE;
  }
  /* a solved output layer takes hard conditions (u = g + d Σ w φ: bench/hardpde/README.md, 39-7000x
   * more accurate than with soft ones), except with crisp experts joined by jump penalties */
  PetscCall(PetscOptionsGetBool(NULL, NULL, "-az_hardpde", &hardpde, NULL));
  PetscCall(PetscOptionsGetString(NULL, NULL, "-az_moe_blend", blend, sizeof blend, &set));
  if (hardpde && set && !strcmp(blend, "interface")) *refuses = PETSC_TRUE;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* whether an option that refuses resampled points was given (each says so where it is read): a solved
 * output layer's fixed points, or a conservation law projected in training or penalised, whose time
 * slices are fixed at set-up (-az_conservation or -az_conservation_NAME other than none, posthoc or
 * probconserv) */
static PetscErrorCode RefusesResample(PetscBool *refuses)
{
  char *all = NULL;

  PetscFunctionBegin;
  PetscCall(PetscOptionsHasName(NULL, NULL, "-az_hardpde", refuses));
  PetscCall(PetscOptionsGetAll(NULL, &all));
  for (char *save = NULL, *tok = strtok_r(all, " ", &save); tok && !*refuses; tok = strtok_r(NULL, " ", &save)) {
    char      value[64];
    PetscBool set;
    if (strncmp(tok, "-az_conservation", 16) || (tok[16] && tok[16] != '_') || !strncmp(tok, "-az_conservation_laws", 21)) continue;
    PetscCall(PetscOptionsGetString(NULL, NULL, tok, value, sizeof value, &set));
    if (set && strcmp(value, "none") && strcmp(value, "posthoc") && strcmp(value, "probconserv")) *refuses = PETSC_TRUE;
  }
  PetscCall(PetscFree(all));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Whether a dense Gauss–Newton iteration would be slow for the network and points of this run: rows ×
 * P² (the flops of forming JᵀJ) above AZ_RECIPE_GN_FLOPS, P estimated for the plain MLP of
 * -az_field_depth × -az_field_width on the problem's coordinates and components, the rows
 * -az_n_interior (default 2000) times the interior residuals. There the dense self-scaled Broyden
 * stage is the faster road (Burgers, 8 × 20, 10,000 points: 9.1e10, dense GN 2.2 s per iteration,
 * the bfgs stage 0.05 s and 1e-3 in 570 iterations; bench/README.md, issue 18), up to the parameters
 * whose dense inverse Hessian it keeps (-az_bfgs_max_params' default, 20,000). */
#define AZ_RECIPE_GN_FLOPS 5e10
static PetscErrorCode DenseGNSlow(const AzProblemInfo *info, PetscBool *slow)
{
  PetscInt  depth = 3, width = 32, n = 2000;
  PetscReal P, rows;

  PetscFunctionBegin;
  PetscCall(PetscOptionsGetInt(NULL, NULL, "-az_field_depth", &depth, NULL));
  PetscCall(PetscOptionsGetInt(NULL, NULL, "-az_field_width", &width, NULL));
  PetscCall(PetscOptionsGetInt(NULL, NULL, "-az_n_interior", &n, NULL));
  /* bad values are refused later, where they are read, with their own messages: no estimate here */
  if (depth < 1 || width < 1 || n < 1) {
    *slow = PETSC_FALSE;
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  P     = (PetscReal)(info->dim + (info->time_dependent ? 1 : 0) + 1) * width + (PetscReal)(depth - 1) * (width + 1) * width + (PetscReal)(width + 1) * info->ncomp;
  rows  = (PetscReal)n * (info->nres ? info->nres : info->ncomp);
  *slow = (PetscBool)(rows * P * P > AZ_RECIPE_GN_FLOPS && P <= 20000);
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzRunApplyRecipe(AzProblem prob, PetscBool conditions, PetscBool resample, char applied[], size_t len)
{
  const AzProblemInfo *info;
  MPI_Comm             comm;
  const char *const    choices[] = {"auto", "none"};
  PetscInt             which     = 0;
  PetscBool            group_given[NGROUPS], user_chain;
  char                 chain[2][512] = {"", ""}; /* the problem's recipe's chain: type, iterations */

  PetscFunctionBegin;
  PetscCall(AzProblemGetComm(prob, &comm));
  PetscCall(AzProblemGetInfo(prob, &info));
  applied[0] = 0;
  PetscOptionsBegin(comm, NULL, "Recipe", "ansatz");
  PetscCall(PetscOptionsEList("-az_recipe", "defaults for the options not given: auto (the problem's recipe, then ansatz's: hard conditions with a lift, 3 x 32, Adam 500 + Gauss-Newton 300) or none (the library's: 4 x 50, Adam 1000)", "AzRunApplyRecipe", choices, 2, choices[which], &which, NULL));
  PetscOptionsEnd();
  if (which == 1) {
    PetscCall(PetscStrncpy(applied, "none", len));
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  PetscCall(GroupsGiven(group_given));
  user_chain = group_given[0];
  if (info->recipe) {
    char        name[128], value[512];
    const char *s = info->recipe;
    PetscBool   valid;
    char        msg[256];

    PetscCall(AzProblemRecipeCheck(info->recipe, &valid, msg, sizeof msg));
    PetscCheck(valid, comm, PETSC_ERR_ARG_WRONG, "Problem '%s' has a bad recipe: %s", info->name, msg);
    while (*s) {
      size_t n = 0;
      while (isspace((unsigned char)*s)) s++;
      if (!*s) break;
      while (s[n] && !isspace((unsigned char)s[n])) n++;
      snprintf(name, sizeof name, "%.*s", (int)n, s);
      s += n;
      while (isspace((unsigned char)*s)) s++;
      value[0] = 0;
      if (*s && !AzRecipeIsOption(s)) {
        n = 0;
        while (s[n] && !isspace((unsigned char)s[n])) n++;
        snprintf(value, sizeof value, "%.*s", (int)n, s);
        s += n;
      }
      /* a group is one choice: the problem's only where the user chose no part of it */
      if (GroupOf(name) >= 0 && group_given[GroupOf(name)]) continue;
      if (GroupOf(name) == 2) { /* how conditions are enforced: not where the caller decides them (a
                                 * comparison's strategies, a run's own options.txt), and no hard
                                 * condition beside an option that refuses them (kdv1d's initial
                                 * condition with the user's -az_infer) */
        PetscBool refuses;
        PetscCall(RefusesHard(&refuses));
        if (!conditions || (refuses && (strstr(value, "hard") || !strncmp(name, "-az_hard", 8)))) continue;
      }
      if (!strncmp(name, "-az_resample", 12)) { /* resampled points: not where the caller or an option
                                                  * needs them fixed (its -az_n_interior still applies) */
        PetscBool refuses;
        PetscCall(RefusesResample(&refuses));
        if (!resample || refuses) continue;
      }
      if (GroupOf(name) == 0) { /* the chain: decided below, with the network and points known */
        PetscCall(PetscStrncpy(chain[strcmp(name, "-az_trainer_type") ? 1 : 0], value, sizeof chain[0]));
        continue;
      }
      PetscCall(SetUnlessGiven(name, value, applied, len));
    }
  }
  /* ansatz's recipe by class of problem, only in a group that neither the user nor the problem's recipe
   * chose (a recipe's -az_constraint_boundary hard with ansatz's -az_constraint hard would also harden
   * its initial condition): a problem with a lift (its author's transform onto the Dirichlet and initial
   * data) takes hard conditions, exact to round-off and, under Gauss-Newton, 10x and more below the
   * soft ones (bench/accuracy/README.md, "Defaults": heat1d 2.15e-7 soft, 2.25e-8 hard; advection1d's best
   * is hard). A problem where they fail says -az_constraint soft in its recipe (convection1d). */
  PetscCall(GroupsGiven(group_given));
  if (conditions && info->lift && !group_given[2]) {
    PetscBool refuses;
    PetscCall(RefusesHard(&refuses));
    /* a steady problem has no initial condition: its boundary alone */
    if (!refuses) PetscCall(SetUnlessGiven(info->time_dependent ? "-az_constraint" : "-az_constraint_boundary", "hard", applied, len));
  }
  PetscCall(SetUnlessGiven("-az_field_depth", "3", applied, len));
  PetscCall(SetUnlessGiven("-az_field_width", "32", applied, len));
  if (!user_chain) { /* the chain (Groups[0]): where dense Gauss-Newton would be slow for the network and
                      * points of this run, the bfgs stage, even over the problem's recipe (its chain was
                      * chosen for its own network and points); else the problem's, else ansatz's */
    PetscBool dense_gn_slow = PETSC_FALSE;
    PetscCall(DenseGNSlow(info, &dense_gn_slow));
    if (dense_gn_slow) {
      PetscCall(SetUnlessGiven("-az_trainer_type", "adam,bfgs", applied, len));
      PetscCall(SetUnlessGiven("-az_trainer_max_it", "200,1000", applied, len));
      PetscCall(SetUnlessGiven("-az_adam_lr", "2e-3", applied, len));
    } else if (chain[0][0]) {
      PetscCall(SetUnlessGiven("-az_trainer_type", chain[0], applied, len));
      PetscCall(SetUnlessGiven("-az_trainer_max_it", chain[1], applied, len));
    } else {
      PetscCall(SetUnlessGiven("-az_trainer_type", "adam,gn", applied, len));
      PetscCall(SetUnlessGiven("-az_trainer_max_it", "500,300", applied, len));
    }
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}
