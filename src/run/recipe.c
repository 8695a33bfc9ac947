/* The recipe: defaults for the options a user did not give, so that `ansatz train -problem P` with no
 * other option trains well. Two layers, each option taken from the first that has it:
 *   1. the user's own options (command line, option files, PETSC_OPTIONS): never overridden;
 *   2. the problem's recipe (AzProblemInfo.recipe, ABI 5): what its author found to work (causal
 *      training for a travelling wave, more collocation points for an interface, ...);
 *   3. ansatz's recipe for every problem: a 3 × 32 network, so that Gauss–Newton solves densely
 *      (2,000-3,000 parameters), trained by Adam 500 then Gauss–Newton/LM 300. Gauss–Newton is what
 *      reaches 1e-5..1e-8 (bench/accuracy/README.md); Adam first moves the network off its random
 *      start, where Gauss–Newton's steps are poor. The optimiser chain is the recipe's only when
 *      the user gave neither -az_trainer_type nor -az_trainer_max_it (a count alone keeps the
 *      single Adam stage it always meant).
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

PetscErrorCode AzRunApplyRecipe(AzProblem prob, char applied[], size_t len)
{
  const AzProblemInfo *info;
  MPI_Comm             comm;
  const char *const    choices[] = {"auto", "none"};
  PetscInt             which     = 0;
  PetscBool            type_given, its_given;

  PetscFunctionBegin;
  PetscCall(AzProblemGetComm(prob, &comm));
  PetscCall(AzProblemGetInfo(prob, &info));
  applied[0] = 0;
  PetscOptionsBegin(comm, NULL, "Recipe", "ansatz");
  PetscCall(PetscOptionsEList("-az_recipe", "defaults for the options not given: auto (the problem's recipe, then ansatz's: 3 x 32, Adam 500 + Gauss-Newton 300) or none (the library's: 4 x 50, Adam 1000)", "AzRunApplyRecipe", choices, 2, choices[which], &which, NULL));
  PetscOptionsEnd();
  if (which == 1) {
    PetscCall(PetscStrncpy(applied, "none", len));
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  PetscCall(PetscOptionsHasName(NULL, NULL, "-az_trainer_type", &type_given));
  PetscCall(PetscOptionsHasName(NULL, NULL, "-az_trainer_max_it", &its_given));
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
      /* the chain is one choice: the problem's chain only where the user chose no part of it */
      if ((!strcmp(name, "-az_trainer_type") || !strcmp(name, "-az_trainer_max_it")) && (type_given || its_given)) continue;
      PetscCall(SetUnlessGiven(name, value, applied, len));
    }
  }
  PetscCall(SetUnlessGiven("-az_field_depth", "3", applied, len));
  PetscCall(SetUnlessGiven("-az_field_width", "32", applied, len));
  if (!type_given && !its_given) {
    PetscCall(SetUnlessGiven("-az_trainer_type", "adam,gn", applied, len));
    PetscCall(SetUnlessGiven("-az_trainer_max_it", "500,300", applied, len));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}
