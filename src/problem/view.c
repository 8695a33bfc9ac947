/* Describing a problem in full, for `ansatz info`. */
#include "problemimpl.h"

static const char *BCName(AzBCType t)
{
  switch (t) {
  case AZ_BC_NONE:
    return "none";
  case AZ_BC_DIRICHLET:
    return "Dirichlet";
  case AZ_BC_NEUMANN:
    return "Neumann";
  case AZ_BC_ROBIN:
    return "Robin/other";
  case AZ_BC_PERIODIC:
    return "periodic";
  case AZ_BC_FLUX:
    return "normal flux";
  }
  return "unknown";
}

/* PETSc's printf writes whole numbers as "1."; write them as people do ("1", "0.1") */
static const char *Num(char buf[32], PetscReal v)
{
  snprintf(buf, 32, "%g", (double)v);
  return buf;
}

PetscErrorCode AzProblemView(AzProblem prob, PetscViewer viewer)
{
  const AzProblemInfo *info = prob->info;
  const char           axes[] = "xyz";
  char                 deriv[256], a[32], b[32];

  PetscFunctionBegin;
  if (!viewer) viewer = PETSC_VIEWER_STDOUT_(prob->comm);
  PetscCall(PetscViewerASCIIPrintf(viewer, "problem %s: %s\n", info->name, info->description));
  PetscCall(PetscViewerASCIIPushTab(viewer));
  if (prob->path[0]) PetscCall(PetscViewerASCIIPrintf(viewer, "plugin: %s\n", prob->path));
  PetscCall(PetscViewerASCIIPrintf(viewer, "spatial dimension: %" PetscInt_FMT "%s\n", info->dim, info->time_dependent ? ", time-dependent" : ", steady"));
  PetscCall(PetscViewerASCIIPrintf(viewer, "components: %" PetscInt_FMT " (%s); interior residuals: %" PetscInt_FMT "\n", info->ncomp, info->component_names ? info->component_names : "u0,...", info->nres ? info->nres : info->ncomp));
  PetscCall(PetscViewerASCIIPrintf(viewer, "domain:"));
  PetscCall(PetscViewerASCIIUseTabs(viewer, PETSC_FALSE));
  for (PetscInt d = 0; d < info->dim; d++) PetscCall(PetscViewerASCIIPrintf(viewer, "%s %c in [%s, %s]", d ? "," : "", axes[d], Num(a, info->lower[d]), Num(b, info->upper[d])));
  if (info->time_dependent) PetscCall(PetscViewerASCIIPrintf(viewer, ", t in [%s, %s]", Num(a, info->t0), Num(b, info->t1)));
  PetscCall(PetscViewerASCIIPrintf(viewer, "\n"));
  PetscCall(PetscViewerASCIIUseTabs(viewer, PETSC_TRUE));
  if (info->flux) PetscCall(PetscViewerASCIIPrintf(viewer, "conservation form: u_t + div F(x, t, u, grad u) = %s (the residual is derived from the flux)\n", info->source ? "S(x, t, u, grad u)" : "0"));
  PetscCall(AzJetRequestView(&prob->request, info->time_dependent, deriv, sizeof deriv));
  PetscCall(PetscViewerASCIIPrintf(viewer, "derivatives used: %s\n", deriv[0] ? deriv : "(value only)"));
  if (prob->nparam) {
    PetscCall(PetscViewerASCIIPrintf(viewer, "parameters:\n"));
    PetscCall(PetscViewerASCIIPushTab(viewer));
    for (PetscInt k = 0; k < prob->nparam; k++) {
      char     names[AZ_MAX_CHOICES][32];
      PetscInt nchoice;
      PetscCall(AzParamChoices(&info->params[k], &nchoice, names));
      if (nchoice) PetscCall(PetscViewerASCIIPrintf(viewer, "%s = %s (default %s; -az_%s_%s): %s\n", info->params[k].name, names[(PetscInt)prob->param[k]], names[(PetscInt)info->params[k].value], info->name, info->params[k].name, info->params[k].help));
      else PetscCall(PetscViewerASCIIPrintf(viewer, "%s = %s (default %s; -az_%s_%s): %s\n", info->params[k].name, Num(a, prob->param[k]), Num(b, info->params[k].value), info->name, info->params[k].name, info->params[k].help ? info->params[k].help : ""));
    }
    PetscCall(PetscViewerASCIIPopTab(viewer));
  } else PetscCall(PetscViewerASCIIPrintf(viewer, "parameters: none\n"));
  PetscCall(PetscViewerASCIIPrintf(viewer, "boundary conditions:\n"));
  PetscCall(PetscViewerASCIIPushTab(viewer));
  for (PetscInt f = 0; f < 2 * info->dim; f++) {
    const AzBoundaryInfo *b = &info->boundary[f];
    PetscCall(PetscViewerASCIIPrintf(viewer, "%c = %s: %s%s\n", axes[f / 2], Num(a, f % 2 ? info->upper[f / 2] : info->lower[f / 2]), BCName(b->type), b->type == AZ_BC_DIRICHLET ? (b->value ? " (data given: hard constraint possible)" : " (no data: soft only)") : b->type == AZ_BC_FLUX ? (b->value ? " F.n = g" : " F.n = 0 (no flux)") : ""));
  }
  PetscCall(PetscViewerASCIIPopTab(viewer));
  if (info->time_dependent) PetscCall(PetscViewerASCIIPrintf(viewer, "initial condition at t = %s: residual%s%s\n", Num(a, info->t0), info->initial_value ? (info->ninitial && info->ninitial != info->ncomp ? " and data" : " and data (hard constraint possible)") : " only", info->ninitial && info->ninitial != info->ncomp ? ", with conditions on time derivatives (soft only)" : ""));
  PetscCall(PetscViewerASCIIPrintf(viewer, "exact solution: %s\n", info->exact ? "yes" : "no (the reference solver is the yardstick)"));
  PetscCall(PetscViewerASCIIPrintf(viewer, "residual jet Jacobian: %s\n", info->exact_jacobian ? "exact (from the plugin)" : "numerical (finite differences of the residual)"));
  for (PetscInt k = 0; k < AZ_MAX_LAWS && info->conservation[k].name; k++) {
    if (prob->law_comp[k] >= 0) PetscCall(PetscViewerASCIIPrintf(viewer, "conservation law %s: Q(t) = Q(t0) - int int F.n + int int S, from the flux faces' data and the source (automatic)\n", info->conservation[k].name));
    else if (info->conservation[k].target) PetscCall(PetscViewerASCIIPrintf(viewer, "conservation law %s: Q(t) = Q*(t), the plugin's target\n", info->conservation[k].name));
    else if (info->conservation[k].has_value) PetscCall(PetscViewerASCIIPrintf(viewer, "conservation law %s: Q(t) = %s for all t\n", info->conservation[k].name, Num(a, info->conservation[k].value)));
    else PetscCall(PetscViewerASCIIPrintf(viewer, "conservation law %s: Q(t) = Q(t0) for all t\n", info->conservation[k].name));
  }
  for (PetscInt c = 0; c < info->ncomp; c++)
    if (info->positive[c]) PetscCall(PetscViewerASCIIPrintf(viewer, "positivity: component %" PetscInt_FMT " >= 0\n", c));
  for (PetscInt c = 0; c < info->ncomp; c++)
    if (info->bounded[c]) PetscCall(PetscViewerASCIIPrintf(viewer, "bound: component %" PetscInt_FMT " in [%s, %s]\n", c, Num(a, info->bound_lower[c]), Num(b, info->bound_upper[c])));
  for (PetscInt d = 0; d < info->dim; d++)
    if (info->min_reference_n[d]) PetscCall(PetscViewerASCIIPrintf(viewer, "reference grid: at least %" PetscInt_FMT " nodes along %c (the problem's finest scale)\n", info->min_reference_n[d], axes[d]));
  if (info->recipe) PetscCall(PetscViewerASCIIPrintf(viewer, "recipe (train and compare use each option not given): %s\n", info->recipe));
  PetscCall(PetscViewerASCIIPopTab(viewer));
  PetscFunctionReturn(PETSC_SUCCESS);
}
