/* How the problem's conservation laws are enforced: each law's mode from the options. */
#include "lossimpl.h"

const char *const AzConservationTypes[] = {"none", "project", "posthoc", "soft", "linear", "cosine", "adaptive", "auglag", "AzConservationType", "AZ_CONSERVE_", NULL};

PetscBool AzConservationIsPenalty(AzConservationType mode)
{
  return mode >= AZ_CONSERVE_SOFT ? PETSC_TRUE : PETSC_FALSE;
}

/* the problem's laws by name, for messages */
static PetscErrorCode LawList(const AzProblemInfo *info, char known[], size_t len)
{
  PetscFunctionBegin;
  known[0] = 0;
  for (PetscInt m = 0; m < AZ_MAX_LAWS && info->conservation[m].name; m++) {
    PetscCall(PetscStrlcat(known, m ? ", " : "", len));
    PetscCall(PetscStrlcat(known, info->conservation[m].name, len));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzConservationOptions(AzLoss L)
{
  const AzProblemInfo *info;
  PetscInt             nlaws = 0, first = -1;
  char                 known[256];

  PetscFunctionBegin;
  PetscCall(AzProblemGetInfo(L->prob, &info));
  while (nlaws < AZ_MAX_LAWS && info->conservation[nlaws].name) nlaws++;
  PetscCall(LawList(info, known, sizeof known));
  for (PetscInt l = 0; l < AZ_MAX_LAWS; l++) L->law_mode[l] = AZ_CONSERVE_NONE;
  PetscCheck(L->conservation == AZ_CONSERVE_NONE || nlaws > 0, L->comm, PETSC_ERR_ARG_WRONG, "-az_conservation %s: problem %s declares no conservation law to enforce; use -az_conservation none", AzConservationTypes[L->conservation], info->name);
  if (L->nlaw_names == 0) {
    for (PetscInt l = 0; l < nlaws; l++) L->law_mode[l] = L->conservation;
  } else {
    /* -az_conservation_laws a,b: the default strategy for the named laws only */
    for (PetscInt i = 0; i < L->nlaw_names; i++) {
      PetscInt l = 0;
      while (l < nlaws && strcmp(info->conservation[l].name, L->law_names[i])) l++;
      PetscCheck(l < nlaws, L->comm, PETSC_ERR_ARG_WRONG, "-az_conservation_laws: problem %s has no law '%s' (its laws: %s)", info->name, L->law_names[i], nlaws ? known : "none");
      for (PetscInt j = 0; j < i; j++) PetscCheck(strcmp(L->law_names[j], L->law_names[i]), L->comm, PETSC_ERR_ARG_WRONG, "-az_conservation_laws names '%s' twice", L->law_names[i]);
      L->law_mode[l] = L->conservation;
    }
  }
  {
    /* -az_conservation_NAME for a NAME the problem does not have is an error, not an unused option */
    char *all, *save = NULL;
    PetscCall(PetscOptionsGetAll(NULL, &all));
    char pfx[128];
    snprintf(pfx, sizeof pfx, "-%saz_conservation_", L->prefix ? L->prefix : "");
    for (char *tok = strtok_r(all, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
      const char *pre = strncmp(tok, pfx, strlen(pfx)) ? "-az_conservation_" : pfx, *name = tok + strlen(pre);
      PetscInt    l   = 0;
      if (strncmp(tok, pre, strlen(pre)) || !strcmp(name, "laws")) continue;
      while (l < nlaws && strcmp(info->conservation[l].name, name)) l++;
      if (l == nlaws) {
        char opt[128];
        PetscCall(PetscStrncpy(opt, tok, sizeof opt));
        PetscCall(PetscFree(all));
        SETERRQ(L->comm, PETSC_ERR_ARG_WRONG, "%s: problem %s has no law '%s' (its laws: %s)", opt, info->name, opt + strlen(pre), nlaws ? known : "none");
      }
    }
    PetscCall(PetscFree(all));
  }
  PetscOptionsBegin(L->comm, L->prefix, "Conservation laws, one at a time", "AzLoss");
  for (PetscInt l = 0; l < nlaws; l++) {
    char opt[64], text[128];
    snprintf(opt, sizeof opt, "-az_conservation_%s", info->conservation[l].name);
    snprintf(text, sizeof text, "how law '%s' is enforced", info->conservation[l].name);
    PetscCall(PetscOptionsEnum(opt, text, "AzLossSetUp", AzConservationTypes, (PetscEnum)L->law_mode[l], (PetscEnum *)&L->law_mode[l], NULL));
  }
  PetscOptionsEnd();
  /* the projected laws share one projection: in training or after it */
  L->proj_mode = AZ_CONSERVE_NONE;
  for (PetscInt l = 0; l < nlaws; l++) {
    if (L->law_mode[l] != AZ_CONSERVE_PROJECT && L->law_mode[l] != AZ_CONSERVE_POSTHOC) continue;
    PetscCheck(L->proj_mode == AZ_CONSERVE_NONE || L->proj_mode == L->law_mode[l], L->comm, PETSC_ERR_ARG_WRONG, "Law '%s' is projected %s and law '%s' %s: the projected laws share one projection, in training (project) or after it (posthoc)", info->conservation[first].name, L->proj_mode == AZ_CONSERVE_PROJECT ? "in training" : "post hoc", info->conservation[l].name, L->law_mode[l] == AZ_CONSERVE_PROJECT ? "in training" : "post hoc");
    L->proj_mode = L->law_mode[l];
    if (first < 0) first = l;
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}
