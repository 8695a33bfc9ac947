/* Inverse problems: named plugin parameters as unknowns of the training (-az_infer nu,kappa).
 *
 * θ = (the network's parameters, s_1 .. s_n): the field carries the s_k as extra entries it does not
 * read (AzFieldSetExtraParameters); the problem's parameter p_k = T_k(s_k) is set from θ before every
 * evaluation (AzInferSync, called by AzChainUpdate), and the point terms of the plugin's conditions add
 * ∂r/∂s_k = ∂r/∂p_k · T_k'(s_k) to their gradient, Jacobian rows, tangents and adjoints (term.c), with
 * ∂r/∂p_k from the plugin or by differences (AzProblemEvaluateParamDerivative). Every optimiser sees
 * one θ. What the parameters must not enter: the hard-constraint lift and data, and the densities of
 * laws that are penalised or projected (those are not differentiated in p): refused at set-up. */
#include "lossimpl.h"
#include <petsc/private/petscimpl.h> /* PetscObjectStateGet */

static PetscReal Sigmoid(PetscReal s)
{
  return s >= 0 ? 1 / (1 + PetscExpReal(-s)) : PetscExpReal(s) / (1 + PetscExpReal(s));
}

/* p = T(s) and dp/ds */
static void Transform(AzLoss L, PetscInt k, PetscReal s, PetscReal *p, PetscReal *dp)
{
  if (L->infer_bounded[k]) {
    const PetscReal lo = L->infer_log[k] ? PetscLogReal(L->infer_lo[k]) : L->infer_lo[k];
    const PetscReal hi = L->infer_log[k] ? PetscLogReal(L->infer_hi[k]) : L->infer_hi[k];
    const PetscReal g = Sigmoid(s), q = lo + (hi - lo) * g, dq = (hi - lo) * g * (1 - g);
    *p  = L->infer_log[k] ? PetscExpReal(q) : q;
    *dp = L->infer_log[k] ? *p * dq : dq;
  } else if (L->infer_log[k]) {
    *p = *dp = PetscExpReal(s);
  } else {
    *p  = s;
    *dp = 1;
  }
}

/* s = T⁻¹(p) */
static PetscReal Inverse(AzLoss L, PetscInt k, PetscReal p)
{
  if (L->infer_bounded[k]) {
    const PetscReal lo = L->infer_log[k] ? PetscLogReal(L->infer_lo[k]) : L->infer_lo[k];
    const PetscReal hi = L->infer_log[k] ? PetscLogReal(L->infer_hi[k]) : L->infer_hi[k];
    const PetscReal g  = ((L->infer_log[k] ? PetscLogReal(p) : p) - lo) / (hi - lo);
    return PetscLogReal(g / (1 - g));
  }
  return L->infer_log[k] ? PetscLogReal(p) : p;
}

PetscErrorCode AzInferOptions(AzLoss L)
{
  PetscFunctionBegin;
  for (PetscInt i = 0; i < L->ninfer_names; i++) PetscCall(PetscFree(L->infer_names[i]));
  for (PetscInt i = 0; i < L->ninfer_log_names; i++) PetscCall(PetscFree(L->infer_log_names[i]));
  for (PetscInt i = 0; i < L->ninfer_bound_specs; i++) PetscCall(PetscFree(L->infer_bound_specs[i]));
  L->ninfer_names = L->ninfer_log_names = L->ninfer_bound_specs = AZ_MAX_PARAMS;
  PetscOptionsBegin(L->comm, L->prefix, "Inverse problems: problem parameters learned from data", "AzLoss");
  PetscCall(PetscOptionsStringArray("-az_infer", "problem parameters to learn with the network, by name (their initial guesses from -az_<problem>_<name>)", "AzLossSetUp", L->infer_names, &L->ninfer_names, NULL));
  PetscCall(PetscOptionsStringArray("-az_infer_log", "inferred parameters learned as log p (positive ones: p = exp(s))", "AzLossSetUp", L->infer_log_names, &L->ninfer_log_names, NULL));
  PetscCall(PetscOptionsStringArray("-az_infer_bounds", "bounds of inferred parameters, name=lo:hi each (p = lo + (hi - lo) sigmoid(s), of log p with -az_infer_log)", "AzLossSetUp", L->infer_bound_specs, &L->ninfer_bound_specs, NULL));
  PetscOptionsEnd();
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* whether f(p) at a few points changes when parameter j moves (the lift, the data, a law's density) */
typedef PetscErrorCode (*ProbeFn)(AzLoss L, const PetscReal x[], PetscScalar out[], PetscInt *nout, void *ctx);

static PetscErrorCode Depends(AzLoss L, PetscInt k, ProbeFn fn, void *ctx, PetscBool *dep)
{
  const PetscReal *param;
  PetscReal        lo[AZ_MAX_COORD], hi[AZ_MAX_COORD], x[AZ_MAX_COORD], p0;
  PetscScalar      a[AZ_MAX_COMP * AZ_JET_MAX_NSLOT], b[AZ_MAX_COMP * AZ_JET_MAX_NSLOT];
  PetscInt         na = 0, nb = 0;
  const PetscInt   j = L->infer_param[k];

  PetscFunctionBegin;
  *dep = PETSC_FALSE;
  PetscCall(AzProblemGetParams(L->prob, &param));
  PetscCall(AzProblemGetBox(L->prob, lo, hi));
  p0 = param[j];
  for (PetscInt t = 0; t < 5 && !*dep; t++) {
    for (PetscInt d = 0; d < L->ncoord; d++) x[d] = lo[d] + (hi[d] - lo[d]) * (0.137 + 0.181 * t + 0.07 * d);
    PetscCall(fn(L, x, a, &na, ctx));
    PetscCall(AzProblemSetParam(L->prob, j, p0 * 1.01 + 1e-3));
    PetscCall(fn(L, x, b, &nb, ctx));
    PetscCall(AzProblemSetParam(L->prob, j, p0));
    for (PetscInt i = 0; i < na; i++)
      if (!(PetscAbsScalar(a[i] - b[i]) <= 1e-12 * (1 + PetscAbsScalar(a[i])))) *dep = PETSC_TRUE;
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode ProbeLift(AzLoss L, const PetscReal x[], PetscScalar out[], PetscInt *nout, void *ctx)
{
  const AzProblemInfo *info;
  const PetscReal     *param;
  AzPoint              p;

  PetscFunctionBegin;
  (void)ctx;
  PetscCall(AzProblemGetInfo(L->prob, &info));
  PetscCall(AzProblemGetParams(L->prob, &param));
  p     = (AzPoint){x, L->ncoord, param, -1};
  *nout = 0;
  if (info->lift) {
    PetscCall(info->lift(&p, out));
    *nout = L->ncomp * L->nslot;
    for (PetscInt i = 0; i < *nout; i++)
      if (PetscIsInfOrNanScalar(out[i])) out[i] = 0; /* slots a lift leaves unset */
  } else if (info->initial_value) {
    PetscCall(info->initial_value(&p, out));
    *nout = L->ncomp;
  }
  for (PetscInt f = 0; f < 2 * info->dim; f++) {
    if (!info->boundary[f].value || info->boundary[f].type != AZ_BC_DIRICHLET) continue;
    p.face = f;
    PetscCall(info->boundary[f].value(&p, out + *nout));
    *nout += L->ncomp;
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode ProbeDensity(AzLoss L, const PetscReal x[], PetscScalar out[], PetscInt *nout, void *ctx)
{
  const AzProblemInfo *info;
  const PetscReal     *param;
  const PetscInt       l = *(PetscInt *)ctx;
  PetscScalar          jet[AZ_MAX_COMP * AZ_JET_MAX_NSLOT];
  AzPoint              p;
  AzJet                J = {L->ncoord, L->ncomp, L->nslot, jet};

  PetscFunctionBegin;
  PetscCall(AzProblemGetInfo(L->prob, &info));
  PetscCall(AzProblemGetParams(L->prob, &param));
  p = (AzPoint){x, L->ncoord, param, -1};
  for (PetscInt i = 0; i < L->ncomp * L->nslot; i++) jet[i] = 0.3 + 0.1 * PetscSinReal((PetscReal)i + x[0]);
  PetscCall(info->conservation[l].density(&p, &J, out, NULL));
  *nout = 1;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* a law's target: its initial value Q(t0) comes from the initial data, a varying target from the plugin */
static PetscErrorCode ProbeLawTarget(AzLoss L, const PetscReal x[], PetscScalar out[], PetscInt *nout, void *ctx)
{
  const AzProblemInfo *info;
  const PetscReal     *param;
  const PetscInt       l = *(PetscInt *)ctx;
  PetscBool            varies = PETSC_FALSE;
  PetscReal            M[1];

  PetscFunctionBegin;
  PetscCall(AzProblemGetInfo(L->prob, &info));
  PetscCall(AzProblemGetParams(L->prob, &param));
  *nout = 0;
  if (info->conservation[l].has_value) PetscFunctionReturn(PETSC_SUCCESS);
  if (info->initial_value) {
    AzPoint p = {x, L->ncoord, param, -1};
    PetscCall(info->initial_value(&p, out));
    *nout = L->ncomp;
  }
  PetscCall(AzProblemGetLawTarget(L->prob, l, info->t0 + (info->t1 - info->t0) * (x[0] - (PetscReal)(PetscInt)x[0]), 1, &varies, M));
  if (varies) out[(*nout)++] = M[0];
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* After the point terms and the chain: θ's extra entries with their initial values, and the checks */
PetscErrorCode AzInferSetUp(AzLoss L)
{
  const AzProblemInfo *info;
  const PetscReal     *param;
  char                 opt[64];
  Vec                  theta;
  PetscScalar         *th;

  PetscFunctionBegin;
  PetscCall(AzProblemGetInfo(L->prob, &info));
  PetscCall(AzFieldGetNumNetworkParameters(L->field, &L->nnet));
  L->ninfer = L->ninfer_names;
  snprintf(opt, sizeof opt, "-%saz_infer", L->prefix ? L->prefix : "");
  PetscCall(AzProblemGetParams(L->prob, &param));
  for (PetscInt k = 0; k < L->ninfer; k++) {
    PetscCheck(L->infer_names[k][0], L->comm, PETSC_ERR_ARG_WRONG, "%s: name %" PetscInt_FMT " of the list is empty: give the parameters' names, comma separated (e.g. -az_infer nu,kappa)", opt, k + 1);
    PetscCall(AzProblemGetParamIndex(L->prob, L->infer_names[k], opt, PETSC_TRUE, &L->infer_param[k]));
    for (PetscInt j = 0; j < k; j++) PetscCheck(L->infer_param[j] != L->infer_param[k], L->comm, PETSC_ERR_ARG_WRONG, "%s: parameter %s is named twice", opt, L->infer_names[k]);
    L->infer_log[k] = L->infer_bounded[k] = PETSC_FALSE;
    L->infer_init[k] = param[L->infer_param[k]];
  }
  for (PetscInt i = 0; i < L->ninfer_log_names; i++) {
    PetscInt k = -1;
    for (PetscInt j = 0; j < L->ninfer; j++)
      if (!strcmp(L->infer_log_names[i], L->infer_names[j])) k = j;
    PetscCheck(k >= 0, L->comm, PETSC_ERR_ARG_WRONG, "-az_infer_log %s: not a parameter named by -az_infer (%s)", L->infer_log_names[i], L->ninfer ? "name it there too" : "none is");
    PetscCheck(!L->infer_log[k], L->comm, PETSC_ERR_ARG_WRONG, "-az_infer_log: parameter %s is named twice", L->infer_names[k]);
    PetscCheck(L->infer_init[k] > 0, L->comm, PETSC_ERR_ARG_OUTOFRANGE, "-az_infer_log %s: its initial guess %g (from -az_%s_%s) must be positive to be learned as a logarithm", L->infer_names[k], (double)L->infer_init[k], info->name, L->infer_names[k]);
    L->infer_log[k] = PETSC_TRUE;
  }
  for (PetscInt i = 0; i < L->ninfer_bound_specs; i++) {
    char     *spec = L->infer_bound_specs[i], *eq = strchr(spec, '='), *colon, *e1, *e2;
    PetscInt  k    = -1;
    PetscReal lo, hi;

    PetscCheck(eq && (colon = strchr(eq, ':')), L->comm, PETSC_ERR_ARG_WRONG, "-az_infer_bounds %s: expected name=lo:hi (e.g. nu=1e-4:1)", spec);
    *eq = 0;
    for (PetscInt j = 0; j < L->ninfer; j++)
      if (!strcmp(spec, L->infer_names[j])) k = j;
    *eq = '=';
    PetscCheck(k >= 0, L->comm, PETSC_ERR_ARG_WRONG, "-az_infer_bounds %s: not a parameter named by -az_infer", spec);
    PetscCheck(!L->infer_bounded[k], L->comm, PETSC_ERR_ARG_WRONG, "-az_infer_bounds %s: parameter %s is given bounds twice", spec, L->infer_names[k]);
    lo = (PetscReal)strtod(eq + 1, &e1);
    hi = (PetscReal)strtod(colon + 1, &e2);
    PetscCheck(e1 == colon && e1 != eq + 1 && *e2 == 0 && e2 != colon + 1 && !PetscIsInfOrNanReal(lo) && !PetscIsInfOrNanReal(hi) && lo < hi, L->comm, PETSC_ERR_ARG_WRONG, "-az_infer_bounds %s: expected name=lo:hi with finite numbers lo < hi", spec);
    PetscCheck(!L->infer_log[k] || lo > 0, L->comm, PETSC_ERR_ARG_OUTOFRANGE, "-az_infer_bounds %s: with -az_infer_log the lower bound must be positive", spec);
    PetscCheck(L->infer_init[k] > lo && L->infer_init[k] < hi, L->comm, PETSC_ERR_ARG_OUTOFRANGE, "-az_infer_bounds %s: the initial guess %g (from -az_%s_%s) must lie strictly inside the bounds", spec, (double)L->infer_init[k], info->name, L->infer_names[k]);
    L->infer_bounded[k] = PETSC_TRUE;
    L->infer_lo[k]      = lo;
    L->infer_hi[k]      = hi;
  }
  if (!L->ninfer) PetscFunctionReturn(PETSC_SUCCESS);
  /* what the parameters must not enter */
  for (PetscInt k = 0; k < L->ninfer; k++) {
    PetscBool dep;
    if (L->transform) {
      PetscCall(Depends(L, k, ProbeLift, NULL, &dep));
      PetscCheck(!dep, L->comm, PETSC_ERR_ARG_INCOMP, "%s %s: the problem's hard-constraint data (its lift, initial or Dirichlet data) depend on %s, and hard constraints do not follow an inferred parameter: impose the conditions softly (-az_constraint soft) or infer another parameter", opt, L->infer_names[k], L->infer_names[k]);
    }
    for (PetscInt l = 0; l < AZ_MAX_LAWS && info->conservation[l].name; l++) {
      if (L->law_mode[l] == AZ_CONSERVE_NONE || L->law_mode[l] == AZ_CONSERVE_POSTHOC) continue;
      PetscCall(Depends(L, k, ProbeDensity, &l, &dep));
      if (!dep && info->time_dependent) {
        PetscCall(Depends(L, k, ProbeLawTarget, &l, &dep));
        PetscCheck(!dep, L->comm, PETSC_ERR_ARG_INCOMP, "%s %s: the target of conservation law %s (its initial value from the initial data, or its target in time) depends on %s, and an enforced law does not follow an inferred parameter: use -az_conservation_%s none (or posthoc), or infer another parameter", opt, L->infer_names[k], info->conservation[l].name, L->infer_names[k], info->conservation[l].name);
      }
      PetscCheck(!dep, L->comm, PETSC_ERR_ARG_INCOMP, "%s %s: the density of conservation law %s depends on %s, and an enforced law does not follow an inferred parameter: use -az_conservation_%s none (or posthoc), or infer another parameter", opt, L->infer_names[k], info->conservation[l].name, L->infer_names[k], info->conservation[l].name);
    }
  }
  PetscCall(AzFieldSetExtraParameters(L->field, L->ninfer));
  PetscCall(AzFieldGetParameters(L->field, &theta));
  PetscCall(VecGetArray(theta, &th));
  for (PetscInt k = 0; k < L->ninfer; k++) th[L->nnet + k] = Inverse(L, k, L->infer_init[k]);
  PetscCall(VecRestoreArray(theta, &th));
  L->infer_synced = PETSC_FALSE;
  PetscCall(AzInferSync(L));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzInferSync(AzLoss L)
{
  Vec                theta;
  PetscObjectState   st;
  const PetscScalar *th;

  PetscFunctionBegin;
  if (!L->ninfer) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(AzFieldGetParameters(L->field, &theta));
  PetscCall(PetscObjectStateGet((PetscObject)theta, &st));
  if (L->infer_synced && st == L->infer_state) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(VecGetArrayRead(theta, &th));
  for (PetscInt k = 0; k < L->ninfer; k++) {
    PetscReal p, dp;
    Transform(L, k, PetscRealPart(th[L->nnet + k]), &p, &dp);
    PetscCheck(!PetscIsInfOrNanReal(p) && !PetscIsInfOrNanReal(dp), PETSC_COMM_SELF, PETSC_ERR_FP, "Inferred parameter %s is not finite (its unknown is %g)", L->infer_names[k], (double)PetscRealPart(th[L->nnet + k]));
    PetscCall(AzProblemSetParam(L->prob, L->infer_param[k], p));
    L->infer_dp[k] = dp;
  }
  PetscCall(VecRestoreArrayRead(theta, &th));
  L->infer_state  = st;
  L->infer_synced = PETSC_TRUE;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzInferRows(AzLoss L, AzTerm *t, const PetscReal x[], const PetscScalar jet[], PetscScalar P[])
{
  PetscScalar d[AZ_MAX_RES];

  PetscFunctionBegin;
  for (PetscInt k = 0; k < L->ninfer; k++) {
    PetscCall(AzProblemEvaluateParamDerivative(L->prob, t->cond, L->infer_param[k], x, jet, d));
    for (PetscInt i = 0; i < t->nres; i++) P[i * L->ninfer + k] = d[i] * L->infer_dp[k];
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzInferDestroy(AzLoss L)
{
  PetscFunctionBegin;
  for (PetscInt i = 0; i < L->ninfer_names; i++) PetscCall(PetscFree(L->infer_names[i]));
  for (PetscInt i = 0; i < L->ninfer_log_names; i++) PetscCall(PetscFree(L->infer_log_names[i]));
  for (PetscInt i = 0; i < L->ninfer_bound_specs; i++) PetscCall(PetscFree(L->infer_bound_specs[i]));
  L->ninfer_names = L->ninfer_log_names = L->ninfer_bound_specs = 0;
  PetscCall(PetscFree(L->Pd));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* ---- public ---- */
PetscErrorCode AzLossGetInferred(AzLoss L, PetscInt *n, const char *const *names[], PetscReal values[])
{
  const PetscReal *param;

  PetscFunctionBegin;
  PetscCall(AzLossSetUp(L));
  *n = L->ninfer;
  if (names) *names = (const char *const *)L->infer_names;
  if (values) {
    PetscCall(AzInferSync(L));
    PetscCall(AzProblemGetParams(L->prob, &param));
    for (PetscInt k = 0; k < L->ninfer; k++) values[k] = param[L->infer_param[k]];
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzLossGetInferredIndex(AzLoss L, PetscInt k, PetscInt *theta_index, PetscInt *param_index, PetscReal *dpds)
{
  PetscFunctionBegin;
  PetscCall(AzLossSetUp(L));
  PetscCheck(k >= 0 && k < L->ninfer, L->comm, PETSC_ERR_ARG_OUTOFRANGE, "Inferred parameter %" PetscInt_FMT " outside 0..%" PetscInt_FMT, k, L->ninfer - 1);
  PetscCall(AzInferSync(L));
  if (theta_index) *theta_index = L->nnet + k;
  if (param_index) *param_index = L->infer_param[k];
  if (dpds) *dpds = L->infer_dp[k];
  PetscFunctionReturn(PETSC_SUCCESS);
}
