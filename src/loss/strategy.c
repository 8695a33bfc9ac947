/* How boundary and initial conditions are enforced: penalty schedules, adaptive balancing, the
 * method of multipliers, or exactly by transform (see AzConstraintType in loss.h). */
#include "lossimpl.h"

const char *const AzAdaptiveRules[] = {"maxmean", "gradnorm", "AzAdaptiveRule", "AZ_ADAPTIVE_", NULL};

const char *const AzConstraintTypes[] = {"soft", "linear", "cosine", "adaptive", "auglag", "hard", "AzConstraintType", "AZ_CON_", NULL};

PetscErrorCode AzLossConstraintOptions(AzLoss L)
{
  AzConstraintType all = AZ_CON_SOFT;
  PetscBool        set_all, hb = PETSC_FALSE, hi = PETSC_FALSE;

  PetscFunctionBegin;
  L->con_boundary   = L->con_initial = AZ_CON_SOFT;
  L->weight_max     = 100;
  L->peak           = 0.7;
  L->adaptive_every = 10;
  L->adaptive_alpha = 0.1;
  L->adaptive_rule  = AZ_ADAPTIVE_GRADNORM;
  L->adaptive_max   = 1e3;
  L->adaptive_min   = 1;
  L->auglag_every   = 200;
  L->auglag_mu0     = 1;
  L->auglag_grow    = 2;
  L->auglag_mu_max  = 100;
  PetscOptionsBegin(L->comm, L->prefix, "Constraints: how boundary and initial conditions are enforced", "AzLoss");
  PetscCall(PetscOptionsEnum("-az_constraint", "strategy for every boundary and initial condition", "AzLossConstraintOptions", AzConstraintTypes, (PetscEnum)all, (PetscEnum *)&all, &set_all));
  if (set_all) L->con_boundary = L->con_initial = all;
  PetscCall(PetscOptionsEnum("-az_constraint_boundary", "strategy for the boundary faces", "AzLossConstraintOptions", AzConstraintTypes, (PetscEnum)L->con_boundary, (PetscEnum *)&L->con_boundary, NULL));
  PetscCall(PetscOptionsEnum("-az_constraint_initial", "strategy for the initial condition", "AzLossConstraintOptions", AzConstraintTypes, (PetscEnum)L->con_initial, (PetscEnum *)&L->con_initial, NULL));
  PetscCall(PetscOptionsBool("-az_hard_boundary", "the same as -az_constraint_boundary hard", "AzLossConstraintOptions", hb, &hb, NULL));
  PetscCall(PetscOptionsBool("-az_hard_initial", "the same as -az_constraint_initial hard", "AzLossConstraintOptions", hi, &hi, NULL));
  PetscCall(PetscOptionsReal("-az_weight_max", "final weight of the linear and cosine schedules", "AzLossUpdateConstraints", L->weight_max, &L->weight_max, NULL));
  PetscCall(PetscOptionsReal("-az_schedule_peak", "fraction of training at which a schedule reaches -az_weight_max", "AzLossUpdateConstraints", L->peak, &L->peak, NULL));
  PetscCall(PetscOptionsInt("-az_adaptive_every", "iterations between adaptive weight updates", "AzLossUpdateConstraints", L->adaptive_every, &L->adaptive_every, NULL));
  PetscCall(PetscOptionsReal("-az_adaptive_alpha", "moving-average factor of adaptive weights", "AzLossUpdateConstraints", L->adaptive_alpha, &L->adaptive_alpha, NULL));
  PetscCall(PetscOptionsEnum("-az_adaptive_rule", "adaptive weights: maxmean (Wang, Teng & Perdikaris 2021) or gradnorm (Wang et al. 2023)", "AzLossUpdateConstraints", AzAdaptiveRules, (PetscEnum)L->adaptive_rule, (PetscEnum *)&L->adaptive_rule, NULL));
  PetscCall(PetscOptionsReal("-az_adaptive_min", "smallest adaptive weight", "AzLossUpdateConstraints", L->adaptive_min, &L->adaptive_min, NULL));
  PetscCall(PetscOptionsReal("-az_adaptive_max", "largest adaptive weight", "AzLossUpdateConstraints", L->adaptive_max, &L->adaptive_max, NULL));
  PetscCall(PetscOptionsInt("-az_auglag_every", "iterations between multiplier updates", "AzLossUpdateConstraints", L->auglag_every, &L->auglag_every, NULL));
  PetscCall(PetscOptionsReal("-az_auglag_mu", "initial penalty of the augmented Lagrangian", "AzLossUpdateConstraints", L->auglag_mu0, &L->auglag_mu0, NULL));
  PetscCall(PetscOptionsReal("-az_auglag_grow", "penalty growth factor when the violation stalls", "AzLossUpdateConstraints", L->auglag_grow, &L->auglag_grow, NULL));
  PetscCall(PetscOptionsReal("-az_auglag_mu_max", "largest penalty of the augmented Lagrangian", "AzLossUpdateConstraints", L->auglag_mu_max, &L->auglag_mu_max, NULL));
  PetscOptionsEnd();
  if (hb) L->con_boundary = AZ_CON_HARD;
  if (hi) L->con_initial = AZ_CON_HARD;
  {
    /* one face at a time: -az_constraint_bc_x0 hard -az_constraint_bc_x1 soft ... (the term's name) */
    const AzProblemInfo *info;
    const char           axes[] = "xyz";
    PetscCall(AzProblemGetInfo(L->prob, &info));
    L->hard_boundary = PETSC_FALSE;
    PetscOptionsBegin(L->comm, L->prefix, "Constraints, one face at a time", "AzLoss");
    for (PetscInt f = 0; f < 2 * AZ_MAX_DIM; f++) {
      char opt[64], text[96];
      L->con_face[f] = L->con_boundary;
      if (f >= 2 * info->dim) continue;
      snprintf(opt, sizeof opt, "-az_constraint_bc_%c%d", axes[f / 2], (int)(f % 2));
      snprintf(text, sizeof text, "strategy for the face %c = %s", axes[f / 2], f % 2 ? "upper" : "lower");
      PetscCall(PetscOptionsEnum(opt, text, "AzLossConstraintOptions", AzConstraintTypes, (PetscEnum)L->con_face[f], (PetscEnum *)&L->con_face[f], NULL));
      /* only faces with a condition can be hard */
      L->hard_face[f] = (L->con_face[f] == AZ_CON_HARD && info->boundary[f].type != AZ_BC_NONE && info->boundary[f].type != AZ_BC_PERIODIC) ? PETSC_TRUE : PETSC_FALSE;
      if (L->hard_face[f]) L->hard_boundary = PETSC_TRUE;
    }
    PetscOptionsEnd();
  }
  L->hard_initial  = (L->con_initial == AZ_CON_HARD) ? PETSC_TRUE : PETSC_FALSE;
  PetscCheck(L->weight_max > 0, L->comm, PETSC_ERR_ARG_OUTOFRANGE, "-az_weight_max must be positive");
  PetscCheck(L->peak > 0 && L->peak <= 1, L->comm, PETSC_ERR_ARG_OUTOFRANGE, "-az_schedule_peak must be in (0, 1], not %g", (double)L->peak);
  PetscCheck(L->adaptive_every >= 1 && L->auglag_every >= 1, L->comm, PETSC_ERR_ARG_OUTOFRANGE, "-az_adaptive_every and -az_auglag_every must be at least 1");
  PetscCheck(L->adaptive_alpha > 0 && L->adaptive_alpha <= 1, L->comm, PETSC_ERR_ARG_OUTOFRANGE, "-az_adaptive_alpha must be in (0, 1]");
  PetscCheck(L->adaptive_max > 0 && L->adaptive_min >= 0 && L->adaptive_min <= L->adaptive_max, L->comm, PETSC_ERR_ARG_OUTOFRANGE, "Adaptive weights: need 0 <= -az_adaptive_min <= -az_adaptive_max and -az_adaptive_max > 0");
  PetscCheck(L->auglag_mu0 > 0 && L->auglag_grow >= 1 && L->auglag_mu_max >= L->auglag_mu0, L->comm, PETSC_ERR_ARG_OUTOFRANGE, "Augmented Lagrangian settings: need -az_auglag_mu > 0, -az_auglag_grow >= 1, -az_auglag_mu_max >= -az_auglag_mu");
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzLossConstraintSetUpTerm(AzLoss L, AzTerm *t)
{
  PetscFunctionBegin;
  if (t->ctype == AZ_CON_AUGLAG) {
    PetscInt nrows; /* one multiplier per row this rank owns */
    PetscCall(t->ops->local_rows(L, t, &nrows));
    PetscCall(PetscCalloc1((size_t)PetscMax(nrows, 1), &t->lambda));
    t->mu        = L->auglag_mu0;
    t->w         = t->mu / 2;
    t->violation = PETSC_MAX_REAL;
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* λ ← λ + μ r at every local row (the term's update); μ grows when the violation stalls */
static PetscErrorCode UpdateMultipliers(AzLoss L, AzTerm *t)
{
  PetscReal gv;

  PetscFunctionBegin;
  PetscCall(t->ops->update_multipliers(L, t, &gv));
  if (gv > 0.25 * t->violation) t->mu = PetscMin(t->mu * L->auglag_grow, L->auglag_mu_max);
  t->violation = gv;
  t->w         = t->mu / 2;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* ∇θ mean(r_k²) of term k alone (weight 1): term k's share of a reduction over the groups */
typedef struct {
  PetscInt k;
} TermCtx;

static PetscErrorCode TermGroup(AzLoss L, PetscInt g, Vec grad, PetscScalar extra[], void *ptr)
{
  AzTerm   *t = &L->term[((TermCtx *)ptr)->k];
  PetscReal s;

  PetscFunctionBegin;
  PetscCall(t->ops->evaluate(L, t, g, 1, &s, grad));
  extra[0] = s;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzStrategyTermGradient(AzLoss L, PetscInt k, Vec g)
{
  TermCtx     c = {k};
  PetscScalar sum;

  PetscFunctionBegin;
  PetscCall(AzChainUpdate(L->chain));
  PetscCall(AzLossReduceGroups(L, TermGroup, &c, 1, &sum, g));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzStrategyUpdate(AzLoss L, PetscInt it, PetscInt total)
{
  const PetscReal s     = total > 0 ? (PetscReal)it / total : 1;
  const PetscReal frac  = PetscMin(s / L->peak, 1);
  PetscBool       adapt = PETSC_FALSE;

  PetscFunctionBegin;
  PetscCall(AzResampleUpdate(L, it)); /* first: the causal weights below are those of the new points */
  PetscCall(AzChainUpdate(L->chain));
  PetscCall(AzCausalUpdate(L)); /* the causal weights at this θ, frozen until the next update */
  for (PetscInt k = 0; k < L->nterms; k++) {
    AzTerm *t = &L->term[k];
    switch (t->ctype) {
    case AZ_CON_LINEAR:
      t->w = t->w0 + (L->weight_max - t->w0) * frac;
      break;
    case AZ_CON_COSINE:
      t->w = t->w0 + (L->weight_max - t->w0) * (1 - PetscCosReal(PETSC_PI * frac)) / 2;
      break;
    case AZ_CON_ADAPTIVE:
      if (it % L->adaptive_every == 0) adapt = PETSC_TRUE;
      break;
    case AZ_CON_AUGLAG:
      if (it > 0 && it % L->auglag_every == 0) PetscCall(UpdateMultipliers(L, t));
      break;
    default:
      break;
    }
  }
  if (adapt) {
    /* maxmean (Wang, Teng & Perdikaris 2021): ŵ_k = max|∇θ L_pde| / mean|∇θ L_k|;
     * gradnorm (Wang, Sankaran, Wang & Perdikaris 2023): ŵ_k = ‖∇θ L_pde‖ / ‖∇θ L_k‖ with the PDE's
     * weight held (the 2023 rule with every weighted gradient norm made equal to the PDE's).
     * Term losses unweighted; ŵ clipped to [-az_adaptive_min, -az_adaptive_max] (1, 1000: a condition is
 * never weighted below the PDE, which on Burgers lets training fall to the trivial u = 0); w ← (1−α)w + αŵ. */
    Vec       theta, g;
    PetscReal gpde = 0;
    PetscCall(AzFieldGetParameters(L->field, &theta));
    PetscCall(VecDuplicate(theta, &g));
    for (PetscInt k = 0; k < L->nterms; k++)
      if (L->term[k].cond == AZ_COND_INTERIOR) {
        PetscCall(AzStrategyTermGradient(L, k, g));
        PetscCall(VecNorm(g, L->adaptive_rule == AZ_ADAPTIVE_MAXMEAN ? NORM_INFINITY : NORM_2, &gpde));
      }
    for (PetscInt k = 0; k < L->nterms; k++) {
      AzTerm   *t = &L->term[k];
      PetscReal gk;
      if (t->ctype != AZ_CON_ADAPTIVE) continue;
      PetscCall(AzStrategyTermGradient(L, k, g));
      if (L->adaptive_rule == AZ_ADAPTIVE_MAXMEAN) {
        PetscCall(VecNorm(g, NORM_1, &gk));
        gk /= L->nparam;
      } else PetscCall(VecNorm(g, NORM_2, &gk));
      if (gk > 0 && gpde > 0) t->w = (1 - L->adaptive_alpha) * t->w + L->adaptive_alpha * PetscMax(L->adaptive_min, PetscMin(gpde / gk, L->adaptive_max));
    }
    PetscCall(VecDestroy(&g));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzStrategyChanges(AzLoss L, PetscBool *changes)
{
  PetscFunctionBegin;
  *changes = (L->causal || L->resample != AZ_RESAMPLE_NONE) ? PETSC_TRUE : PETSC_FALSE; /* the causal weights, the points move */
  for (PetscInt k = 0; k < L->nterms; k++)
    if (L->term[k].ctype != AZ_CON_SOFT && L->term[k].ctype != AZ_CON_HARD) *changes = PETSC_TRUE;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzStrategyNumLaws(AzLoss L, PetscInt *nlaws)
{
  const AzProblemInfo *info;

  PetscFunctionBegin;
  PetscCall(AzProblemGetInfo(L->prob, &info));
  *nlaws = 0;
  while (*nlaws < AZ_MAX_LAWS && info->conservation[*nlaws].name) (*nlaws)++;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzStrategyCondition(AzLoss L, PetscInt cond, const char **strategy)
{
  const AzProblemInfo *info;

  PetscFunctionBegin;
  PetscCall(AzProblemGetInfo(L->prob, &info));
  PetscCheck(cond == AZ_COND_INITIAL || (cond >= 0 && cond < 2 * info->dim), L->comm, PETSC_ERR_ARG_OUTOFRANGE, "Condition %" PetscInt_FMT ": use a face 0..%" PetscInt_FMT " or AZ_COND_INITIAL", cond, 2 * info->dim - 1);
  *strategy = "none";
  if (cond == AZ_COND_INITIAL ? !info->time_dependent : info->boundary[cond].type == AZ_BC_NONE) PetscFunctionReturn(PETSC_SUCCESS);
  if (cond != AZ_COND_INITIAL && info->boundary[cond].type == AZ_BC_PERIODIC) {
    *strategy = "periodic";
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  /* the term's strategy when it has one; no term: imposed by the transform */
  for (PetscInt k = 0; k < L->nterms; k++)
    if (L->term[k].cond == cond) {
      *strategy = AzConstraintTypes[L->term[k].ctype];
      PetscFunctionReturn(PETSC_SUCCESS);
    }
  if (L->transform) {
    PetscBool hard;
    PetscCall(AzTransformIsHard(L->transform, cond, &hard));
    if (hard) *strategy = AzConstraintTypes[AZ_CON_HARD];
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzStrategyLaw(AzLoss L, PetscInt law, const char **strategy)
{
  PetscInt nlaws;

  PetscFunctionBegin;
  PetscCall(AzStrategyNumLaws(L, &nlaws));
  PetscCheck(law >= 0 && law < nlaws, L->comm, PETSC_ERR_ARG_OUTOFRANGE, "Law %" PetscInt_FMT ": the problem has %" PetscInt_FMT " law(s)", law, nlaws);
  *strategy = AzConservationTypes[L->law_mode[law]];
  PetscFunctionReturn(PETSC_SUCCESS);
}

const char *const AzPositivityTypes[] = {"none", "soft", "linear", "cosine", "adaptive", "auglag", "hard", "AzPositivityType", "AZ_POSITIVE_", NULL};

AzConstraintType AzPositivityPenaltyType(AzLoss L)
{
  return (AzConstraintType)(AZ_CON_SOFT + (L->positivity - AZ_POSITIVE_SOFT));
}

PetscErrorCode AzStrategyPositivity(AzLoss L, const char **strategy)
{
  PetscFunctionBegin;
  *strategy = AzPositivityTypes[L->positivity];
  PetscFunctionReturn(PETSC_SUCCESS);
}

AzConstraintType AzBoundsPenaltyType(AzLoss L)
{
  return (AzConstraintType)(AZ_CON_SOFT + (L->bounds - AZ_POSITIVE_SOFT));
}

PetscErrorCode AzStrategyBounds(AzLoss L, const char **strategy)
{
  PetscFunctionBegin;
  *strategy = AzPositivityTypes[L->bounds];
  PetscFunctionReturn(PETSC_SUCCESS);
}
