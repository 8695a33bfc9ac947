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
    PetscInt nloc;
    if (t->cond == AZ_COND_LAW) PetscCall(AzLawTermLocalRows(L, &nloc)); /* one multiplier per slice this rank owns */
    else {
      PetscCall(VecGetLocalSize(t->x, &nloc));
      nloc /= L->ncoord;
    }
    PetscCall(PetscCalloc1((size_t)PetscMax(nloc, 1) * t->nres, &t->lambda));
    t->mu        = L->auglag_mu0;
    t->w         = t->mu / 2;
    t->violation = PETSC_MAX_REAL;
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* λ ← λ + μ r at every local residual (for positivity, an inequality: λ ← max(0, λ − μu)); the
 * violation max |r| (max(0, −u)) decides whether μ grows */
static PetscErrorCode UpdateMultipliers(AzLoss L, AzTerm *t)
{
  PetscReal gv;

  PetscFunctionBegin;
  if (t->cond == AZ_COND_LAW) PetscCall(AzLawTermUpdateMultipliers(L, t, &gv));
  else {
    const PetscScalar *xa;
    PetscInt           nloc;
    PetscReal          v = 0;
    PetscCall(VecGetLocalSize(t->x, &nloc));
    nloc /= L->ncoord;
    PetscCall(VecGetArrayRead(t->x, &xa));
    for (PetscInt p0 = 0; p0 < nloc; p0 += L->chunk) {
      const PetscInt   nc = PetscMin(L->chunk, nloc - p0);
      const PetscReal *x  = (const PetscReal *)xa + p0 * L->ncoord;
      PetscCall(AzLossTermSolution(L, t, p0, nc, x, L->jets));
      PetscCall(TermResiduals(L, t, p0, nc, x, NULL)); /* r + λ/μ; for positivity min(u − λ/μ, 0) */
      for (PetscInt i = 0; i < nc * t->nres; i++) {
        PetscScalar *lam = &t->lambda[p0 * t->nres + i];
        if (t->cond == AZ_COND_POSITIVE) {
          /* where r < 0, u = r + λ/μ; elsewhere u ≥ λ/μ ≥ 0 */
          if (PetscRealPart(L->r[i]) < 0) v = PetscMax(v, PetscMax(0, -PetscRealPart(L->r[i] + *lam / t->mu)));
          *lam = -t->mu * L->r[i];
        } else {
          const PetscScalar r = L->r[i] - *lam / t->mu;
          v                   = PetscMax(v, PetscAbsScalar(r));
          *lam += t->mu * r;
        }
      }
    }
    PetscCall(VecRestoreArrayRead(t->x, &xa));
    PetscCall(MPIU_Allreduce(&v, &gv, 1, MPIU_REAL, MPIU_MAX, L->comm));
  }
  if (gv > 0.25 * t->violation) t->mu = PetscMin(t->mu * L->auglag_grow, L->auglag_mu_max);
  t->violation = gv;
  t->w         = t->mu / 2;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzLossUpdateConstraints(AzLoss L, PetscInt it, PetscInt total)
{
  const PetscReal s     = total > 0 ? (PetscReal)it / total : 1;
  const PetscReal frac  = PetscMin(s / L->peak, 1);
  PetscBool       adapt = PETSC_FALSE;

  PetscFunctionBegin;
  PetscCall(AzLossSetUp(L));
  PetscCall(AzProjectionUpdate(L));
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
        PetscCall(AzLossTermGradient(L, k, g));
        PetscCall(VecNorm(g, L->adaptive_rule == AZ_ADAPTIVE_MAXMEAN ? NORM_INFINITY : NORM_2, &gpde));
      }
    for (PetscInt k = 0; k < L->nterms; k++) {
      AzTerm   *t = &L->term[k];
      PetscReal gk;
      if (t->ctype != AZ_CON_ADAPTIVE) continue;
      PetscCall(AzLossTermGradient(L, k, g));
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

PetscErrorCode AzLossConstraintsChange(AzLoss L, PetscBool *changes)
{
  PetscFunctionBegin;
  PetscCall(AzLossSetUp(L));
  *changes = PETSC_FALSE;
  for (PetscInt k = 0; k < L->nterms; k++)
    if (L->term[k].ctype != AZ_CON_SOFT && L->term[k].ctype != AZ_CON_HARD) *changes = PETSC_TRUE;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzLossGetNumConservationLaws(AzLoss L, PetscInt *nlaws)
{
  const AzProblemInfo *info;

  PetscFunctionBegin;
  PetscCall(AzProblemGetInfo(L->prob, &info));
  *nlaws = 0;
  while (*nlaws < AZ_MAX_LAWS && info->conservation[*nlaws].name) (*nlaws)++;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzLossGetConditionStrategy(AzLoss L, PetscInt cond, const char **strategy)
{
  const AzProblemInfo *info;

  PetscFunctionBegin;
  PetscCall(AzLossSetUp(L));
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

PetscErrorCode AzLossGetLawStrategy(AzLoss L, PetscInt law, const char **strategy)
{
  PetscInt nlaws;

  PetscFunctionBegin;
  PetscCall(AzLossSetUp(L));
  PetscCall(AzLossGetNumConservationLaws(L, &nlaws));
  PetscCheck(law >= 0 && law < nlaws, L->comm, PETSC_ERR_ARG_OUTOFRANGE, "Law %" PetscInt_FMT ": the problem has %" PetscInt_FMT " law(s)", law, nlaws);
  *strategy = AzConservationTypes[L->law_mode[law]];
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Q* of law `law`: its value, or the law at the initial data by the same quadrature (qx, qw: nq nodes);
 * NaN when there is neither, or the density reads derivatives (the initial data gives values only) */
static PetscErrorCode LawTarget(AzLoss L, PetscInt law, PetscInt nq, const PetscReal qx[], const PetscReal qw[], PetscReal *target)
{
  const AzProblemInfo      *info;
  const AzConservationInfo *cl;
  const PetscReal          *param;
  const PetscInt            dim = L->ncoord - 1, Ljet = L->ncomp * L->nslot;
  PetscScalar              *jet, *dq;

  PetscFunctionBegin;
  PetscCall(AzProblemGetInfo(L->prob, &info));
  PetscCall(AzProblemGetParams(L->prob, &param));
  cl = &info->conservation[law];
  if (cl->has_value) {
    *target = cl->value;
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  *target = (PetscReal)NAN;
  if (!info->initial_value) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(PetscMalloc2(Ljet, &jet, Ljet, &dq));
  *target = 0;
  for (PetscInt j = 0; j < nq; j++) {
    PetscReal   x[AZ_MAX_COORD];
    AzPoint     pt = {x, L->ncoord, param, -1};
    AzJet       J  = {L->ncoord, L->ncomp, L->nslot, jet};
    PetscScalar q, u0[AZ_MAX_COMP];
    for (PetscInt d = 0; d < dim; d++) x[d] = qx[j * dim + d];
    x[dim] = info->t0;
    PetscCall(info->initial_value(&pt, u0));
    for (PetscInt s = 0; s < Ljet; s++) jet[s] = dq[s] = 0;
    for (PetscInt c = 0; c < L->ncomp; c++) jet[c * L->nslot] = u0[c];
    PetscCall(cl->density(&pt, &J, &q, dq));
    for (PetscInt s = 0; s < Ljet; s++)
      if (s % L->nslot && dq[s] != 0) *target = (PetscReal)NAN; /* reads a derivative */
    *target += qw[j] * PetscRealPart(q);
  }
  PetscCall(PetscFree2(jet, dq));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Q(t) by composite Gauss–Legendre on the box, all nodes of a time in one batch (local) */
PetscErrorCode AzLossConservationSeries(AzLoss L, PetscInt law, PetscInt nt, PetscReal t[], PetscReal Q[], PetscReal *target)
{
  const AzProblemInfo *info;
  const PetscReal     *param;
  const PetscInt       dim = L->ncoord - 1, Ljet = L->ncomp * L->nslot, batch = 256;
  PetscInt             nlaws, nq;
  PetscReal           *qx, *qw, x[256 * AZ_MAX_COORD];
  PetscScalar         *jets;

  PetscFunctionBegin;
  PetscCall(AzLossSetUp(L));
  PetscCall(AzProblemGetInfo(L->prob, &info));
  PetscCall(AzLossGetNumConservationLaws(L, &nlaws));
  PetscCheck(law >= 0 && law < nlaws, L->comm, PETSC_ERR_ARG_OUTOFRANGE, "Problem %s has %" PetscInt_FMT " conservation law(s): no law %" PetscInt_FMT, info->name, nlaws, law);
  PetscCheck(info->time_dependent && nt >= 2, L->comm, PETSC_ERR_ARG_WRONG, "A conservation series needs a time-dependent problem and at least 2 times");
  PetscCall(AzProblemGetParams(L->prob, &param));
  PetscCall(AzLossSpatialQuadrature(L, L->drift_nodes > 0 ? L->drift_nodes : (dim == 1 ? 1024 : (dim == 2 ? 128 : 32)), PETSC_FALSE, &nq, &qx, &qw));
  PetscCall(PetscMalloc1((size_t)batch * Ljet, &jets));
  for (PetscInt j = 0; j < nt; j++) {
    t[j] = info->t0 + (info->t1 - info->t0) * j / (nt - 1);
    Q[j] = 0;
    for (PetscInt i0 = 0; i0 < nq; i0 += batch) {
      const PetscInt nc = PetscMin(batch, nq - i0);
      for (PetscInt i = 0; i < nc; i++) {
        for (PetscInt d = 0; d < dim; d++) x[i * L->ncoord + d] = qx[(i0 + i) * dim + d];
        x[i * L->ncoord + dim] = t[j];
      }
      PetscCall(AzLossEvaluateSolution(L, nc, x, jets));
      for (PetscInt i = 0; i < nc; i++) {
        AzPoint     pt = {x + i * L->ncoord, L->ncoord, param, -1};
        AzJet       J  = {L->ncoord, L->ncomp, L->nslot, jets + i * Ljet};
        PetscScalar q;
        PetscCall(info->conservation[law].density(&pt, &J, &q, NULL));
        Q[j] += qw[i0 + i] * PetscRealPart(q);
      }
    }
  }
  PetscCall(LawTarget(L, law, nq, qx, qw, target));
  PetscCall(PetscFree(jets));
  PetscCall(PetscFree(qx));
  PetscCall(PetscFree(qw));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* max over the laws and over AZ_DRIFT_TIMES times of |Q(t) − Q*| (see loss.h). NaN without laws. */
PetscErrorCode AzLossConservationDrift(AzLoss L, PetscReal *drift)
{
  PetscInt  nlaws;
  PetscReal t[AZ_DRIFT_TIMES], Q[AZ_DRIFT_TIMES], target;

  PetscFunctionBegin;
  PetscCall(AzLossGetNumConservationLaws(L, &nlaws));
  *drift = (PetscReal)NAN;
  if (!nlaws) PetscFunctionReturn(PETSC_SUCCESS);
  *drift = 0;
  for (PetscInt law = 0; law < nlaws; law++) {
    PetscCall(AzLossConservationSeries(L, law, AZ_DRIFT_TIMES, t, Q, &target));
    if (PetscIsNanReal(target)) {
      *drift = (PetscReal)NAN; /* no Q* to measure against */
      PetscFunctionReturn(PETSC_SUCCESS);
    }
    for (PetscInt j = 0; j < AZ_DRIFT_TIMES; j++) *drift = PetscMax(*drift, PetscIsInfOrNanReal(Q[j]) ? PETSC_MAX_REAL : PetscAbsReal(Q[j] - target));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The strategies' state, for checkpoints: [nterms, then per term w, μ, violation, m, then the m
 * multipliers in global order (point-major)]. The global order does not depend on the rank count. */
PetscErrorCode AzLossConstraintStateSave(AzLoss L, Vec *state)
{
  PetscMPIInt rank, size;
  PetscInt    total = 1;
  PetscScalar *buf = NULL;

  PetscFunctionBegin;
  PetscCall(AzLossSetUp(L));
  PetscCallMPI(MPI_Comm_rank(L->comm, &rank));
  PetscCallMPI(MPI_Comm_size(L->comm, &size));
  for (PetscInt k = 0; k < L->nterms; k++) total += 4 + (L->term[k].lambda ? L->term[k].n * L->term[k].nres : 0);
  *state = NULL;
  if (rank == 0) {
    PetscCall(VecCreateSeq(PETSC_COMM_SELF, total, state));
    PetscCall(VecGetArray(*state, &buf));
    buf[0] = L->nterms;
  }
  for (PetscInt k = 0, off = 1; k < L->nterms; k++) {
    AzTerm     *t = &L->term[k];
    PetscInt    nloc, m = t->lambda ? t->n * t->nres : 0;
    PetscMPIInt cnt, *counts = NULL, *displs = NULL;
    if (rank == 0) {
      buf[off]     = t->w;
      buf[off + 1] = t->mu;
      buf[off + 2] = t->violation;
      buf[off + 3] = m;
    }
    off += 4;
    if (!m) continue;
    if (t->cond == AZ_COND_LAW) {
      /* one multiplier per slice, slices dealt out over the ranks: sum them into slice order */
      PetscScalar *all;
      PetscInt     nr;
      PetscCall(PetscCalloc1(m, &all));
      PetscCall(AzLawTermLocalRows(L, &nr));
      for (PetscInt i = 0; i < nr; i++) {
        PetscInt gi;
        PetscCall(AzLawTermRowIndex(L, i, &gi));
        all[gi] = t->lambda[i];
      }
      PetscCallMPI(MPI_Reduce(all, rank == 0 ? buf + off : NULL, (PetscMPIInt)m, MPIU_SCALAR, MPIU_SUM, 0, L->comm));
      PetscCall(PetscFree(all));
      off += m;
      continue;
    }
    PetscCall(VecGetLocalSize(t->x, &nloc));
    cnt = (PetscMPIInt)(nloc / L->ncoord * t->nres);
    if (rank == 0) PetscCall(PetscMalloc2(size, &counts, size, &displs));
    PetscCallMPI(MPI_Gather(&cnt, 1, MPI_INT, counts, 1, MPI_INT, 0, L->comm));
    if (rank == 0) {
      displs[0] = 0;
      for (PetscMPIInt r = 1; r < size; r++) displs[r] = displs[r - 1] + counts[r - 1];
    }
    PetscCallMPI(MPI_Gatherv(t->lambda, cnt, MPIU_SCALAR, rank == 0 ? buf + off : NULL, counts, displs, MPIU_SCALAR, 0, L->comm));
    if (rank == 0) PetscCall(PetscFree2(counts, displs));
    off += m;
  }
  if (rank == 0) PetscCall(VecRestoreArray(*state, &buf));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzLossConstraintStateLoad(AzLoss L, Vec state)
{
  const PetscScalar *buf;
  PetscInt           n;

  PetscFunctionBegin;
  PetscCall(AzLossSetUp(L));
  PetscCall(VecGetSize(state, &n));
  PetscCall(VecGetArrayRead(state, &buf));
  PetscCheck(n >= 1 && (PetscInt)PetscRealPart(buf[0]) == L->nterms, L->comm, PETSC_ERR_FILE_UNEXPECTED, "The checkpoint's constraint state is for %d terms, this loss has %" PetscInt_FMT ": restart with the same problem and strategy options", n >= 1 ? (int)PetscRealPart(buf[0]) : -1, L->nterms);
  for (PetscInt k = 0, off = 1; k < L->nterms; k++) {
    AzTerm  *t = &L->term[k];
    PetscInt m = t->lambda ? t->n * t->nres : 0, start, end;
    PetscCheck(off + 4 <= n && (PetscInt)PetscRealPart(buf[off + 3]) == m && off + 4 + m <= n, L->comm, PETSC_ERR_FILE_UNEXPECTED, "The checkpoint's constraint state does not match term %s (strategy or point count changed?)", t->name);
    t->w         = PetscRealPart(buf[off]);
    t->mu        = PetscRealPart(buf[off + 1]);
    t->violation = PetscRealPart(buf[off + 2]);
    off += 4;
    if (!m) continue;
    if (t->cond == AZ_COND_LAW) {
      PetscInt nr;
      PetscCall(AzLawTermLocalRows(L, &nr));
      for (PetscInt i = 0; i < nr; i++) {
        PetscInt gi;
        PetscCall(AzLawTermRowIndex(L, i, &gi));
        t->lambda[i] = buf[off + gi];
      }
      off += m;
      continue;
    }
    PetscCall(VecGetOwnershipRange(t->x, &start, &end));
    start = start / L->ncoord * t->nres;
    end   = end / L->ncoord * t->nres;
    for (PetscInt i = start; i < end; i++) t->lambda[i - start] = buf[off + i];
    off += m;
  }
  PetscCall(VecRestoreArrayRead(state, &buf));
  PetscFunctionReturn(PETSC_SUCCESS);
}
