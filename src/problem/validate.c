/* Checking a problem descriptor before anything uses it: every inconsistency gets a message that
 * names the problem, the field at fault and what is allowed. */
#include "problemimpl.h"
#include <ctype.h>
#include <stdarg.h>

static PetscBool Fail(PetscBool *valid, char msg[], size_t len, const char *fmt, ...)
{
  va_list ap;

  va_start(ap, fmt);
  vsnprintf(msg, len, fmt, ap);
  va_end(ap);
  *valid = PETSC_FALSE;
  return PETSC_FALSE;
}

static PetscBool IsIdentifier(const char *s)
{
  if (!s || !*s || !(islower((unsigned char)s[0]) || s[0] == '_')) return PETSC_FALSE;
  for (; *s; s++)
    if (!(islower((unsigned char)*s) || isdigit((unsigned char)*s) || *s == '_')) return PETSC_FALSE;
  return PETSC_TRUE;
}

/* a recipe token that starts an option: "-" then a letter ("-1e-3" is a value) */
PetscBool AzRecipeIsOption(const char s[])
{
  return s[0] == '-' && isalpha((unsigned char)s[1]) ? PETSC_TRUE : PETSC_FALSE;
}

/* A recipe: "-az_a [value] -az_b [value] ...": -az_ options only, each once, not the ones that name
 * the run's files or the recipe itself, and the optimiser chain whole (type and counts together). */
PetscErrorCode AzProblemRecipeCheck(const char recipe[], PetscBool *valid, char msg[], size_t len)
{
  const char *const forbidden[] = {"-az_output_dir", "-az_recipe", "-az_restart", "-az_field_load", "-az_data", "-az_checkpoint_every", "-az_infer", "-az_infer_log", "-az_infer_bounds", NULL};
  char              seen[32][64];
  int               nseen = 0, chain = 0;
  const char       *s     = recipe;

  PetscFunctionBegin;
  *valid = PETSC_TRUE;
  if (len) msg[0] = 0;
  if (!recipe) PetscFunctionReturn(PETSC_SUCCESS);
  if (strlen(recipe) > 1024) {
    Fail(valid, msg, len, "the recipe is %d characters long: at most 1024 are allowed", (int)strlen(recipe));
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  while (*s) {
    size_t n = 0;
    char   name[64];
    while (isspace((unsigned char)*s)) s++;
    if (!*s) break;
    while (s[n] && !isspace((unsigned char)s[n])) n++;
    if (!AzRecipeIsOption(s) || strncmp(s, "-az_", 4) || n >= sizeof name) {
      Fail(valid, msg, len, "recipe \"%s\": '%.*s' is not an -az_ option (a recipe is \"-az_name [value] ...\", -az_ options only)", recipe, (int)n, s);
      PetscFunctionReturn(PETSC_SUCCESS);
    }
    snprintf(name, sizeof name, "%.*s", (int)n, s);
    for (int k = 0; forbidden[k]; k++)
      if (!strcmp(name, forbidden[k])) {
        Fail(valid, msg, len, "recipe \"%s\" sets %s: a recipe may not name the run's files, restarts or the recipe itself (-az_output_dir, -az_recipe, -az_restart, -az_field_load, -az_data, -az_checkpoint_every)", recipe, name);
        PetscFunctionReturn(PETSC_SUCCESS);
      }
    for (int k = 0; k < nseen; k++)
      if (!strcmp(seen[k], name)) {
        Fail(valid, msg, len, "recipe \"%s\" sets %s twice: each option at most once", recipe, name);
        PetscFunctionReturn(PETSC_SUCCESS);
      }
    if (nseen == 32) {
      Fail(valid, msg, len, "recipe \"%s\" sets more than 32 options", recipe);
      PetscFunctionReturn(PETSC_SUCCESS);
    }
    snprintf(seen[nseen++], sizeof seen[0], "%s", name);
    if (!strcmp(name, "-az_trainer_type")) chain |= 1;
    if (!strcmp(name, "-az_trainer_max_it")) chain |= 2;
    s += n;
    while (isspace((unsigned char)*s)) s++;
    if (*s && !AzRecipeIsOption(s))
      while (*s && !isspace((unsigned char)*s)) s++;
  }
  if (chain == 1 || chain == 2) Fail(valid, msg, len, "recipe \"%s\" sets %s without %s: a recipe's optimiser chain gives both, the stages and their iteration counts", recipe, chain == 1 ? "-az_trainer_type" : "-az_trainer_max_it", chain == 1 ? "-az_trainer_max_it" : "-az_trainer_type");
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzProblemInfoValidate(const AzProblemInfo *info, PetscBool *valid, char msg[], size_t len)
{
  const char  *name = info && info->name ? info->name : "(unnamed)";
  PetscInt     ncoord, nres;
  AzJetRequest req;
  char         err[256];

  PetscFunctionBegin;
  *valid = PETSC_TRUE;
  if (len) msg[0] = 0;
  if (!info) {
    Fail(valid, msg, len, "no problem descriptor");
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  if (info->abi < AZ_PROBLEM_ABI_MIN || info->abi > AZ_PROBLEM_ABI) {
    Fail(valid, msg, len, "problem '%s' was built for problem ABI %d, but this ansatz expects ABI %d (or %d): rebuild the plugin against this version", name, info->abi, AZ_PROBLEM_ABI, AZ_PROBLEM_ABI_MIN);
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  if (!IsIdentifier(info->name)) {
    Fail(valid, msg, len, "problem name '%s' is not allowed: use lower-case letters, digits and '_', starting with a letter", name);
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  if (!info->description || !info->description[0]) {
    Fail(valid, msg, len, "problem '%s' has no description: give a one-line description", name);
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  if (info->dim < 1 || info->dim > AZ_MAX_DIM) {
    Fail(valid, msg, len, "problem '%s' has spatial dimension %" PetscInt_FMT ": allowed are 1 to %d", name, info->dim, AZ_MAX_DIM);
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  if (info->ncomp < 1 || info->ncomp > AZ_MAX_COMP) {
    Fail(valid, msg, len, "problem '%s' has %" PetscInt_FMT " solution components: allowed are 1 to %d", name, info->ncomp, AZ_MAX_COMP);
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  nres = info->nres ? info->nres : info->ncomp;
  if (nres < 1 || nres > AZ_MAX_RES) {
    Fail(valid, msg, len, "problem '%s' has %" PetscInt_FMT " interior residuals: allowed are 1 to %d (0 means one per component)", name, info->nres, AZ_MAX_RES);
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  for (PetscInt d = 0; d < info->dim; d++) {
    if (!(info->lower[d] < info->upper[d]) || !PetscIsNormalReal(info->upper[d] - info->lower[d])) {
      Fail(valid, msg, len, "problem '%s' has an empty domain: along axis %" PetscInt_FMT " lower = %g is not below upper = %g", name, d, (double)info->lower[d], (double)info->upper[d]);
      PetscFunctionReturn(PETSC_SUCCESS);
    }
  }
  if (info->time_dependent && !(info->t0 < info->t1)) {
    Fail(valid, msg, len, "problem '%s' has an empty time span: t0 = %g is not before t1 = %g", name, (double)info->t0, (double)info->t1);
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  if (info->time_dependent && !PetscIsNormalReal(info->t1 - info->t0)) {
    Fail(valid, msg, len, "problem '%s' has the time span [%g, %g]: t0 and t1 must be finite, with t1 - t0 a finite positive number", name, (double)info->t0, (double)info->t1);
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  if (!info->interior && !info->flux) {
    Fail(valid, msg, len, "problem '%s' has no interior residual: set .interior to the PDE's pointwise residual, or .flux (and .source) to its conservation form", name);
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  if (info->interior && info->flux) {
    Fail(valid, msg, len, "problem '%s' gives both .interior and .flux: give the PDE once, either as its residual (.interior) or in conservation form (.flux, .source), from which ansatz derives the residual", name);
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  for (PetscInt a = 0; a < AZ_MAX_DIM && info->abi >= 4; a++) /* ABI-4 fields: an ABI-3 descriptor ends before them */
    if (info->min_reference_n[a] < 0 || info->min_reference_n[a] > 1048576 || (a >= info->dim && info->min_reference_n[a])) {
      Fail(valid, msg, len, "problem '%s' has .min_reference_n[%d] = %d: allowed are 0 (the method's default) to 1048576 nodes, on the problem's %d spatial axes", name, (int)a, (int)info->min_reference_n[a], (int)info->dim);
      PetscFunctionReturn(PETSC_SUCCESS);
    }
  for (PetscInt c = 0; c < AZ_MAX_COMP && info->abi >= 4; c++)
    if (info->bounded[c] && (c >= info->ncomp || !(info->bound_lower[c] < info->bound_upper[c]) || PetscIsNanReal(info->bound_lower[c]) || PetscIsNanReal(info->bound_upper[c]))) {
      Fail(valid, msg, len, "problem '%s' declares component %d bounded in [%g, %g]: a bound needs lower < upper (either may be infinite) on one of its %d components", name, (int)c, (double)info->bound_lower[c], (double)info->bound_upper[c], (int)info->ncomp);
      PetscFunctionReturn(PETSC_SUCCESS);
    }
  if (!info->flux && (info->source || info->flux_derivatives)) {
    Fail(valid, msg, len, "problem '%s' gives %s without .flux: the source and the flux's derivatives belong to the conservation form, which needs .flux (F = 0 is a flux too)", name, info->source ? ".source" : ".flux_derivatives");
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  if (info->flux && info->nres && info->nres != info->ncomp) {
    Fail(valid, msg, len, "problem '%s' is in conservation form, one equation per component, but sets nres = %" PetscInt_FMT " for %" PetscInt_FMT " component(s): leave .nres 0", name, info->nres, info->ncomp);
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  if (info->time_dependent && !info->initial) {
    Fail(valid, msg, len, "problem '%s' is time-dependent but has no initial-condition residual: set .initial", name);
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  if (!info->time_dependent && (info->initial || info->initial_value)) {
    Fail(valid, msg, len, "problem '%s' is steady but gives an initial condition: set .time_dependent = PETSC_TRUE or remove .initial", name);
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  /* .ninitial exists from ABI 4 on (an ABI-3 descriptor ends before it) */
  if (info->abi >= 4 && (info->ninitial < 0 || info->ninitial > AZ_MAX_RES || (info->ninitial && !info->time_dependent))) {
    Fail(valid, msg, len, "problem '%s' sets ninitial = %" PetscInt_FMT ": allowed are 0 (one initial residual per component) to %d, and only for a time-dependent problem", name, info->ninitial, AZ_MAX_RES);
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  if (info->abi >= 5 && info->recipe) { /* .recipe exists from ABI 5 on */
    char why[384];
    PetscCall(AzProblemRecipeCheck(info->recipe, valid, why, sizeof why));
    if (!*valid) {
      *valid = PETSC_TRUE;
      Fail(valid, msg, len, "problem '%s': %s", name, why);
      PetscFunctionReturn(PETSC_SUCCESS);
    }
  }
  ncoord = info->dim + (info->time_dependent ? 1 : 0);
  PetscCall(AzJetRequestParse(ncoord, info->time_dependent, info->derivatives, &req, err, sizeof err));
  if (req.mask < 0) {
    Fail(valid, msg, len, "problem '%s' declares derivatives \"%s\": %s", name, info->derivatives, err);
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  if (info->flux) {
    /* F and S read values and first spatial derivatives only: ∇·F then needs one order more, which
     * the jets hold (all second derivatives, mixed included) */
    PetscCall(AzJetRequestParse(ncoord, info->time_dependent, info->flux_derivatives, &req, err, sizeof err));
    if (req.mask < 0) {
      Fail(valid, msg, len, "problem '%s' declares flux derivatives \"%s\": %s", name, info->flux_derivatives, err);
      PetscFunctionReturn(PETSC_SUCCESS);
    }
    {
      PetscInt allowed = 1;
      for (PetscInt d = 0; d < info->dim; d++) allowed |= (PetscInt)1 << AzJetSlotD1(ncoord, d);
      if (req.mask & ~allowed) {
        Fail(valid, msg, len, "problem '%s' declares flux derivatives \"%s\": the flux and the source read u and its first spatial derivatives only (of \"%s\"), since ∇·F takes one derivative more", name, info->flux_derivatives, info->dim == 1 ? "x" : info->dim == 2 ? "x,y" : "x,y,z");
        PetscFunctionReturn(PETSC_SUCCESS);
      }
    }
  }
  for (PetscInt f = 0; f < 2 * AZ_MAX_DIM; f++) {
    const AzBoundaryInfo *b    = &info->boundary[f];
    const PetscInt        axis = f / 2, side = f % 2;

    if (b->type < AZ_BC_NONE || b->type > AZ_BC_FLUX) {
      Fail(valid, msg, len, "problem '%s', face %" PetscInt_FMT ": unknown boundary type %d (allowed: AZ_BC_NONE, AZ_BC_DIRICHLET, AZ_BC_NEUMANN, AZ_BC_ROBIN, AZ_BC_PERIODIC, AZ_BC_FLUX)", name, f, (int)b->type);
      PetscFunctionReturn(PETSC_SUCCESS);
    }
    if (axis >= info->dim) {
      if (b->type != AZ_BC_NONE || b->residual) {
        Fail(valid, msg, len, "problem '%s' sets a boundary condition on face %" PetscInt_FMT " (axis %" PetscInt_FMT "), but the problem has only %" PetscInt_FMT " spatial dimension(s)", name, f, axis, info->dim);
        PetscFunctionReturn(PETSC_SUCCESS);
      }
      continue;
    }
    if (b->type == AZ_BC_FLUX) {
      if (!info->flux) {
        Fail(valid, msg, len, "problem '%s', face %" PetscInt_FMT ": AZ_BC_FLUX prescribes the normal flux F·n, but the problem has no .flux (conservation form); use AZ_BC_NEUMANN or AZ_BC_ROBIN with a residual", name, f);
        PetscFunctionReturn(PETSC_SUCCESS);
      }
      if (b->residual) {
        Fail(valid, msg, len, "problem '%s', face %" PetscInt_FMT ": an AZ_BC_FLUX face takes no residual (ansatz derives F·n − g from .flux); give g in .value, or nothing for a no-flux face", name, f);
        PetscFunctionReturn(PETSC_SUCCESS);
      }
    } else if (b->type == AZ_BC_PERIODIC) {
      if (info->boundary[2 * axis + 1 - side].type != AZ_BC_PERIODIC) {
        Fail(valid, msg, len, "problem '%s': axis %" PetscInt_FMT " is periodic on one face only; set AZ_BC_PERIODIC on both faces %" PetscInt_FMT " and %" PetscInt_FMT, name, axis, 2 * axis, 2 * axis + 1);
        PetscFunctionReturn(PETSC_SUCCESS);
      }
      if (b->residual) {
        Fail(valid, msg, len, "problem '%s', face %" PetscInt_FMT ": a periodic face takes no residual", name, f);
        PetscFunctionReturn(PETSC_SUCCESS);
      }
    } else if (b->type != AZ_BC_NONE && !b->residual) {
      Fail(valid, msg, len, "problem '%s', face %" PetscInt_FMT ": a boundary condition without a residual; set .boundary[%" PetscInt_FMT "].residual", name, f, f);
      PetscFunctionReturn(PETSC_SUCCESS);
    } else if (b->type == AZ_BC_NONE && b->residual) {
      Fail(valid, msg, len, "problem '%s', face %" PetscInt_FMT ": a residual is given but the boundary type is AZ_BC_NONE; say which kind of condition it is", name, f);
      PetscFunctionReturn(PETSC_SUCCESS);
    }
    if (b->value && b->type != AZ_BC_DIRICHLET && b->type != AZ_BC_FLUX) {
      Fail(valid, msg, len, "problem '%s', face %" PetscInt_FMT ": boundary data (.value) is only meaningful for AZ_BC_DIRICHLET and AZ_BC_FLUX", name, f);
      PetscFunctionReturn(PETSC_SUCCESS);
    }
  }
  for (PetscInt k = 0; k < AZ_MAX_PARAMS && info->params[k].name; k++) {
    if (!IsIdentifier(info->params[k].name)) {
      Fail(valid, msg, len, "problem '%s', parameter %" PetscInt_FMT ": name '%s' is not allowed (lower-case letters, digits and '_')", name, k, info->params[k].name);
      PetscFunctionReturn(PETSC_SUCCESS);
    }
    for (PetscInt l = 0; l < k; l++) {
      if (!strcmp(info->params[k].name, info->params[l].name)) {
        Fail(valid, msg, len, "problem '%s' declares parameter '%s' twice", name, info->params[k].name);
        PetscFunctionReturn(PETSC_SUCCESS);
      }
    }
    if (!PetscIsNormalReal(info->params[k].value) && info->params[k].value != 0) {
      Fail(valid, msg, len, "problem '%s', parameter '%s': default value is not a finite number", name, info->params[k].name);
      PetscFunctionReturn(PETSC_SUCCESS);
    }
    {
      char     names[AZ_MAX_CHOICES][32];
      PetscInt nchoice;
      PetscCall(AzParamChoices(&info->params[k], &nchoice, names));
      if (nchoice && !(info->params[k].value >= 0 && info->params[k].value < nchoice && info->params[k].value == PetscFloorReal(info->params[k].value))) {
        Fail(valid, msg, len, "problem '%s', parameter '%s' is a choice among %" PetscInt_FMT " names: its default must be an index 0..%" PetscInt_FMT, name, info->params[k].name, nchoice, nchoice - 1);
        PetscFunctionReturn(PETSC_SUCCESS);
      }
    }
  }
  for (PetscInt k = 0; k < AZ_MAX_LAWS && info->conservation[k].name; k++) {
    if (!info->conservation[k].density) {
      Fail(valid, msg, len, "problem '%s', conservation law '%s' has no density function", name, info->conservation[k].name);
      PetscFunctionReturn(PETSC_SUCCESS);
    }
    if (!info->time_dependent) {
      Fail(valid, msg, len, "problem '%s', conservation law '%s': a conservation law needs a time-dependent problem", name, info->conservation[k].name);
      PetscFunctionReturn(PETSC_SUCCESS);
    }
    if (info->conservation[k].has_value && info->conservation[k].target) {
      Fail(valid, msg, len, "problem '%s', conservation law '%s' gives both a constant value (.has_value) and a target function (.target): give one", name, info->conservation[k].name);
      PetscFunctionReturn(PETSC_SUCCESS);
    }
  }
  for (PetscInt c = info->ncomp; c < AZ_MAX_COMP; c++) {
    if (info->positive[c]) {
      Fail(valid, msg, len, "problem '%s' requires positivity of component %" PetscInt_FMT ", but it has only %" PetscInt_FMT " component(s)", name, c, info->ncomp);
      PetscFunctionReturn(PETSC_SUCCESS);
    }
  }
  if (info->component_names) {
    PetscInt n = 1;
    for (const char *s = info->component_names; *s; s++) n += (*s == ',');
    if (n != info->ncomp) {
      Fail(valid, msg, len, "problem '%s' names %" PetscInt_FMT " components (\"%s\") but has ncomp = %" PetscInt_FMT, name, n, info->component_names, info->ncomp);
      PetscFunctionReturn(PETSC_SUCCESS);
    }
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}
