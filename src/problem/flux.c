/* The conservation form u_c,t + Σ_d ∂_d F_cd(x, t, u, ∇u) = S_c(x, t, u, ∇u): the strong residual and
 * the residual of a face with a prescribed normal flux, derived from the plugin's pointwise F and S.
 *
 * ∂_d F along the solution is a total derivative; with the first-order Taylor direction of the
 * arguments along x_d, v_d = (∂_d u, ∂_d ∇u) (jet slots one order up), the chain rule reads
 *     ∂_d F(x, J(x)) = Σ_s ∂F/∂J_s v_d,s + ∂F/∂x_d|explicit.
 * ∂F/∂J is the plugin's exact Jacobian (or fourth-order differences of F when it gives none); the
 * explicit part is a fourth-order difference in x_d at fixed J, exactly 0 for a flux that does not
 * read x. ∂r/∂J adds the curvature Σ_s ∂²F/∂J∂J_s v_d,s + ∂²F/∂J∂x_d, taken by differences of the
 * exact ∂F/∂J (exact for ∂F/∂J polynomial of degree ≤ 4 in each argument, up to rounding). A plugin
 * without an exact Jacobian gets ∂r/∂J by differences of the derived residual, as any residual. */
#include "problemimpl.h"

/* the jet slots that ∂_d moves slot s to: the value to ∂_d, ∂_e to ∂_e∂_d (−1: not a flux slot) */
static PetscInt ShiftSlot(PetscInt ncoord, PetscInt dim, PetscInt s, PetscInt d)
{
  if (s == 0) return AzJetSlotD1(ncoord, d);
  for (PetscInt e = 0; e < dim; e++)
    if (s == AzJetSlotD1(ncoord, e)) return AzJetSlotD2(ncoord, e, d);
  return -1;
}

PetscErrorCode AzProblemSetUpFlux(AzProblem prob)
{
  const AzProblemInfo *info = prob->info;
  const PetscInt       n    = prob->ncoord;
  AzJetRequest         req;
  char                 msg[256];

  PetscFunctionBegin;
  prob->fluxmask = 0;
  if (!info->flux) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(AzJetRequestParse(n, info->time_dependent, info->flux_derivatives, &req, msg, sizeof msg));
  PetscCheck(req.mask >= 0, prob->comm, PETSC_ERR_ARG_WRONG, "Problem %s: flux derivatives: %s", info->name, msg);
  prob->fluxmask = req.mask | 1;
  prob->request.mask |= prob->fluxmask;
  if (info->time_dependent) prob->request.mask |= (PetscInt)1 << AzJetSlotD1(n, n - 1);
  for (PetscInt s = 0; s < AZ_JET_NSLOT(n); s++) {
    if (!(prob->fluxmask & ((PetscInt)1 << s))) continue;
    for (PetscInt d = 0; d < info->dim; d++) prob->request.mask |= (PetscInt)1 << ShiftSlot(n, info->dim, s, d);
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* F (ncomp*dim) and S (ncomp) at (x, jet), the jet restricted to the flux's slots (others NaN, so a
 * flux that reads an undeclared derivative gives NaN); with G != NULL also ∂F/∂J (ncomp*dim × L) and
 * with GS != NULL ∂S/∂J (ncomp × L), exact or by differences in the flux's slots */
static PetscErrorCode CallFlux(AzProblem prob, PetscInt face, const PetscReal x[], const PetscScalar jet[], PetscScalar F[], PetscScalar S[], PetscScalar G[], PetscScalar GS[])
{
  const AzProblemInfo *info  = prob->info;
  const PetscInt       nslot = AZ_JET_NSLOT(prob->ncoord), L = info->ncomp * nslot, nF = info->ncomp * info->dim;
  PetscScalar          Jf[AZ_MAX_COMP * AZ_JET_MAX_NSLOT];
  AzPoint              p = {x, prob->ncoord, prob->param, face};
  AzJet                J = {prob->ncoord, info->ncomp, nslot, Jf};

  PetscFunctionBegin;
  for (PetscInt k = 0; k < L; k++) Jf[k] = (prob->fluxmask & ((PetscInt)1 << (k % nslot))) ? jet[k] : (PetscScalar)NAN;
  if (G) PetscCall(PetscArrayzero(G, nF * L));
  if (GS) PetscCall(PetscArrayzero(GS, info->ncomp * L));
  if (info->exact_jacobian || (!G && !GS)) {
    PetscCall(info->flux(&p, &J, F, G));
    if (S) {
      if (info->source) PetscCall(info->source(&p, &J, S, GS));
      else PetscCall(PetscArrayzero(S, info->ncomp));
    }
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  PetscCall(info->flux(&p, &J, F, NULL));
  if (S) {
    if (info->source) PetscCall(info->source(&p, &J, S, NULL));
    else PetscCall(PetscArrayzero(S, info->ncomp));
  }
  for (PetscInt k = 0; k < L; k++) {
    const PetscScalar v0    = Jf[k];
    const PetscReal   h     = 1e-3 * PetscMax(1.0, PetscAbsScalar(v0));
    const PetscReal   off[] = {-2, -1, 1, 2};
    PetscScalar       Fp[4][AZ_MAX_COMP * AZ_MAX_DIM], Sp[4][AZ_MAX_COMP];

    if (!(prob->fluxmask & ((PetscInt)1 << (k % nslot)))) continue;
    for (PetscInt q = 0; q < 4; q++) {
      Jf[k] = v0 + off[q] * h;
      PetscCall(info->flux(&p, &J, Fp[q], NULL));
      if (GS && info->source) PetscCall(info->source(&p, &J, Sp[q], NULL));
    }
    Jf[k] = v0;
    if (G)
      for (PetscInt i = 0; i < nF; i++) G[i * L + k] = ((Fp[0][i] - Fp[3][i]) + 8 * (Fp[2][i] - Fp[1][i])) / (12 * h);
    if (GS && info->source)
      for (PetscInt i = 0; i < info->ncomp; i++) GS[i * L + k] = ((Sp[0][i] - Sp[3][i]) + 8 * (Sp[2][i] - Sp[1][i])) / (12 * h);
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* the Taylor direction along x_d: v[c*nslot + s] = jet[c*nslot + ShiftSlot(s, d)] on the flux's slots */
static void TaylorDirection(AzProblem prob, PetscInt d, const PetscScalar jet[], PetscScalar v[])
{
  const PetscInt nslot = AZ_JET_NSLOT(prob->ncoord), L = prob->info->ncomp * nslot;

  for (PetscInt k = 0; k < L; k++) v[k] = (prob->fluxmask & ((PetscInt)1 << (k % nslot))) ? jet[k - k % nslot + ShiftSlot(prob->ncoord, prob->info->dim, k % nslot, d)] : 0;
}

/* Derived residuals: the interior r_c = u_c,t + Σ_d ∂_d F_cd − S_c, or at an AZ_BC_FLUX face
 * r_c = F_c·n − g_c (n the outward normal). drdjet (zeroed by the caller) only with exact_jacobian. */
PetscErrorCode AzProblemFluxResidual(AzProblem prob, PetscInt cond, const PetscReal x[], const PetscScalar jet[], PetscScalar r[], PetscScalar drdjet[])
{
  const AzProblemInfo *info  = prob->info;
  const PetscInt       n     = prob->ncoord, dim = info->dim, nc = info->ncomp, nslot = AZ_JET_NSLOT(n), L = nc * nslot, nF = nc * dim;
  PetscScalar          F[AZ_MAX_COMP * AZ_MAX_DIM], S[AZ_MAX_COMP], *G = NULL, *GS = NULL;

  PetscFunctionBegin;
  PetscCall(PetscMalloc2(nF * L, &G, nc * L, &GS));
  if (cond != AZ_COND_INTERIOR) {
    const PetscInt  axis = cond / 2;
    const PetscReal sign = (cond % 2) ? 1.0 : -1.0;
    AzPoint         p    = {x, n, prob->param, cond};
    PetscScalar     g[AZ_MAX_COMP];

    PetscCall(CallFlux(prob, cond, x, jet, F, NULL, drdjet ? G : NULL, NULL));
    if (info->boundary[cond].value) PetscCall(info->boundary[cond].value(&p, g));
    else PetscCall(PetscArrayzero(g, nc));
    for (PetscInt c = 0; c < nc; c++) {
      r[c] = sign * F[c * dim + axis] - g[c];
      if (drdjet)
        for (PetscInt k = 0; k < L; k++) drdjet[c * L + k] = sign * G[(c * dim + axis) * L + k];
    }
    PetscCall(PetscFree2(G, GS));
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  {
    PetscScalar  Fp[4][AZ_MAX_COMP * AZ_MAX_DIM], v[AZ_MAX_COMP * AZ_JET_MAX_NSLOT], Jp[AZ_MAX_COMP * AZ_JET_MAX_NSLOT];
    PetscReal    xp[AZ_MAX_COORD], lo[AZ_MAX_COORD], hi[AZ_MAX_COORD];
    const PetscReal off[] = {-2, -1, 1, 2};

    PetscCall(AzProblemGetBox(prob, lo, hi));
    PetscCall(CallFlux(prob, -1, x, jet, F, S, G, drdjet ? GS : NULL));
    for (PetscInt c = 0; c < nc; c++) r[c] = info->time_dependent ? jet[c * nslot + AzJetSlotD1(n, n - 1)] : 0;
    for (PetscInt d = 0; d < dim; d++) {
      const PetscReal    h  = 1e-3 * (hi[d] - lo[d]);

      TaylorDirection(prob, d, jet, v);
      for (PetscInt c = 0; c < nc; c++)
        for (PetscInt k = 0; k < L; k++)
          if (prob->fluxmask & ((PetscInt)1 << (k % nslot))) r[c] += G[(c * dim + d) * L + k] * v[k];
      /* the explicit x_d-dependence of F at fixed arguments */
      PetscCall(PetscArraycpy(xp, x, n));
      for (PetscInt q = 0; q < 4; q++) {
        xp[d] = x[d] + off[q] * h;
        PetscCall(CallFlux(prob, -1, xp, jet, Fp[q], NULL, NULL, NULL));
      }
      for (PetscInt c = 0; c < nc; c++) r[c] += ((Fp[0][c * dim + d] - Fp[3][c * dim + d]) + 8 * (Fp[2][c * dim + d] - Fp[1][c * dim + d])) / (12 * h);
    }
    if (info->source)
      for (PetscInt c = 0; c < nc; c++) r[c] -= S[c];
    if (drdjet) {
      PetscScalar *Gp, V[AZ_MAX_DIM][AZ_MAX_COMP * AZ_JET_MAX_NSLOT];

      PetscCall(PetscMalloc1(4 * nF * L, &Gp));
      for (PetscInt c = 0; c < nc; c++)
        if (info->time_dependent) drdjet[c * L + c * nslot + AzJetSlotD1(n, n - 1)] = 1;
      /* the linear part: r_c ∋ ∂F_cd/∂J_k v_d,k, and v_d,k is the jet's slot ShiftSlot(k) */
      for (PetscInt d = 0; d < dim; d++) {
        TaylorDirection(prob, d, jet, V[d]);
        for (PetscInt c = 0; c < nc; c++)
          for (PetscInt k = 0; k < L; k++)
            if (prob->fluxmask & ((PetscInt)1 << (k % nslot))) drdjet[c * L + k - k % nslot + ShiftSlot(n, dim, k % nslot, d)] += G[(c * dim + d) * L + k];
      }
      /* the curvature part, Σ_d [Σ_s ∂²F_cd/∂J_k∂J_s v_d,s + ∂²F_cd/∂J_k∂x_d]: ∂(∂F/∂J)/∂J_s by
       * differences in J_s alone, with a power-of-two step 1/64 of J_s's scale (few rounding digits lost,
       * exact for ∂F/∂J polynomial of degree ≤ 4 in J_s), and ∂(∂F/∂J)/∂x_d with a step 1e-3 of the box */
      for (PetscInt s = 0; s <= L + dim; s++) {
        const PetscInt d = s - L - 1; /* s = L+1+d: the explicit x_d; s == L: nothing */
        PetscReal      h;

        if (s < L) {
          PetscBool used = PETSC_FALSE;
          if (!(prob->fluxmask & ((PetscInt)1 << (s % nslot)))) continue;
          for (PetscInt e = 0; e < dim; e++) used = used || V[e][s] != 0;
          if (!used) continue;
          h = PetscPowReal(2.0, PetscFloorReal(PetscLog2Real(PetscMax(1.0, PetscAbsScalar(jet[s]))))) / 64;
        } else if (s == L) continue;
        else h = 1e-3 * (hi[d] - lo[d]);
        PetscCall(PetscArraycpy(xp, x, n));
        PetscCall(PetscArraycpy(Jp, jet, L));
        for (PetscInt q = 0; q < 4; q++) {
          if (s < L) Jp[s] = jet[s] + off[q] * h;
          else xp[d] = x[d] + off[q] * h;
          PetscCall(CallFlux(prob, -1, xp, Jp, Fp[q], NULL, Gp + q * nF * L, NULL));
        }
        for (PetscInt c = 0; c < nc; c++)
          for (PetscInt e = 0; e < dim; e++) {
            const PetscInt    i = (c * dim + e) * L;
            const PetscScalar w = s < L ? V[e][s] : (e == d ? 1 : 0);

            if (w == 0) continue;
            for (PetscInt k = 0; k < L; k++) {
              if (!(prob->fluxmask & ((PetscInt)1 << (k % nslot)))) continue;
              drdjet[c * L + k] += w * ((Gp[i + k] - Gp[3 * nF * L + i + k]) + 8 * (Gp[2 * nF * L + i + k] - Gp[nF * L + i + k])) / (12 * h);
            }
          }
      }
      if (info->source)
        for (PetscInt k = 0; k < nc * L; k++) drdjet[k] -= GS[k];
      PetscCall(PetscFree(Gp));
    }
  }
  PetscCall(PetscFree2(G, GS));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzProblemHasFlux(AzProblem prob, PetscBool *has)
{
  PetscFunctionBegin;
  *has = prob->info->flux ? PETSC_TRUE : PETSC_FALSE;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzProblemEvaluateFlux(AzProblem prob, const PetscReal x[], const PetscScalar jet[], PetscScalar F[], PetscScalar S[])
{
  PetscFunctionBegin;
  PetscCheck(prob->info->flux, prob->comm, PETSC_ERR_ARG_WRONG, "Problem %s is not in conservation form (it has no .flux)", prob->info->name);
  PetscCall(CallFlux(prob, -1, x, jet, F, S, NULL, NULL));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Gauss–Legendre, 5 points on [0, 1] */
static const PetscReal gl_x[5] = {0.04691007703066800, 0.23076534494715845, 0.5, 0.76923465505284155, 0.95308992296933200};
static const PetscReal gl_w[5] = {0.11846344252809454, 0.23931433524968324, 0.28444444444444444, 0.23931433524968324, 0.11846344252809454};

/* ∫ over the box of the spatial axes except `skip` (−1: none) of f(x) at time t, composite Gauss: the
 * coordinates not integrated (the face's axis) are already set in x */
static PetscErrorCode BoxIntegral(AzProblem prob, PetscInt skip, PetscReal x[], PetscInt c, PetscInt what, PetscReal *sum)
{
  const AzProblemInfo *info = prob->info;
  const PetscInt       dim = info->dim, npanel = dim == 1 ? 32 : dim == 2 ? 12 : 6;
  PetscInt             axes[AZ_MAX_DIM], na = 0, total = 1;
  PetscScalar          jet[AZ_MAX_COMP * AZ_JET_MAX_NSLOT], v[AZ_MAX_COMP], F[AZ_MAX_COMP * AZ_MAX_DIM];
  AzPoint              p = {x, prob->ncoord, prob->param, -1};

  PetscFunctionBegin;
  for (PetscInt k = 0; k < AZ_MAX_COMP * AZ_JET_MAX_NSLOT; k++) jet[k] = NAN;
  for (PetscInt d = 0; d < dim; d++)
    if (d != skip) axes[na++] = d;
  for (PetscInt a = 0; a < na; a++) total *= 5 * npanel;
  *sum = 0;
  for (PetscInt idx = 0; idx < total; idx++) {
    PetscReal w = 1;
    PetscInt  rest = idx;

    for (PetscInt a = 0; a < na; a++) {
      const PetscInt  d = axes[a], q = rest % 5, panel = (rest / 5) % npanel;
      const PetscReal hp = (info->upper[d] - info->lower[d]) / npanel;

      rest /= 5 * npanel;
      x[d] = info->lower[d] + (panel + gl_x[q]) * hp;
      w *= gl_w[q] * hp;
    }
    if (what == 0) PetscCall(info->initial_value(&p, v)); /* u0 */
    else if (what == 1) PetscCall(CallFlux(prob, -1, x, jet, F, v, NULL, NULL)); /* S, which reads no u */
    else {
      p.face = what - 2;
      PetscCall(info->boundary[what - 2].value(&p, v)); /* g */
    }
    *sum += w * PetscRealPart(v[c]);
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* whether the data fix the mass of component c: flux form, initial data, every face a flux face or
 * periodic, a source that does not read u (S of a NaN jet is finite) */
static PetscErrorCode MassKnown(AzProblem prob, PetscInt c, PetscBool *known)
{
  const AzProblemInfo *info = prob->info;
  const PetscInt       n    = prob->ncoord;

  PetscFunctionBegin;
  *known = PETSC_FALSE;
  if (!info->flux || !info->time_dependent || !info->initial_value) PetscFunctionReturn(PETSC_SUCCESS);
  for (PetscInt f = 0; f < 2 * info->dim; f++)
    if (info->boundary[f].type != AZ_BC_FLUX && info->boundary[f].type != AZ_BC_PERIODIC) PetscFunctionReturn(PETSC_SUCCESS);
  if (info->source) {
    PetscScalar jet[AZ_MAX_COMP * AZ_JET_MAX_NSLOT], F[AZ_MAX_COMP * AZ_MAX_DIM], S[AZ_MAX_COMP];
    PetscReal   x[AZ_MAX_COORD];
    for (PetscInt k = 0; k < AZ_MAX_COMP * AZ_JET_MAX_NSLOT; k++) jet[k] = NAN;
    for (PetscInt d = 0; d < n; d++) x[d] = d < info->dim ? 0.5 * (info->lower[d] + info->upper[d]) : info->t0;
    PetscCall(CallFlux(prob, -1, x, jet, F, S, NULL, NULL));
    if (PetscIsInfOrNanScalar(S[c])) PetscFunctionReturn(PETSC_SUCCESS);
  }
  *known = PETSC_TRUE;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* d/dt Q* = ∫S_c dx − Σ_faces ∫ g_c dA at time t */
static PetscErrorCode MassRate(AzProblem prob, PetscInt c, PetscReal t, PetscReal *rate)
{
  const AzProblemInfo *info = prob->info;
  PetscReal            x[AZ_MAX_COORD], v;

  PetscFunctionBegin;
  *rate            = 0;
  x[prob->ncoord - 1] = t;
  if (info->source) {
    PetscCall(BoxIntegral(prob, -1, x, c, 1, &v));
    *rate += v;
  }
  for (PetscInt f = 0; f < 2 * info->dim; f++) {
    if (info->boundary[f].type != AZ_BC_FLUX || !info->boundary[f].value) continue;
    x[f / 2] = (f % 2) ? info->upper[f / 2] : info->lower[f / 2];
    PetscCall(BoxIntegral(prob, f / 2, x, c, 2 + f, &v));
    *rate -= v;
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* ∫_a^b rate dt by 5-point Gauss (b < a allowed) */
static PetscErrorCode RateIntegral(AzProblem prob, PetscInt c, PetscReal a, PetscReal b, PetscReal *sum)
{
  PetscReal r;

  PetscFunctionBegin;
  *sum = 0;
  if (a == b) PetscFunctionReturn(PETSC_SUCCESS);
  for (PetscInt k = 0; k < 5; k++) {
    PetscCall(MassRate(prob, c, a + gl_x[k] * (b - a), &r));
    *sum += gl_w[k] * (b - a) * r;
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzProblemGetMassTarget(AzProblem prob, PetscInt c, PetscReal t, PetscBool *known, PetscReal *Q)
{
  const AzProblemInfo *info = prob->info;
  const PetscReal      H    = (info->t1 - info->t0) / AZ_MASS_PANELS;
  PetscInt             i;
  PetscReal            tail;

  PetscFunctionBegin;
  *Q = NAN;
  PetscCheck(c >= 0 && c < info->ncomp, prob->comm, PETSC_ERR_ARG_OUTOFRANGE, "Component %" PetscInt_FMT " does not exist: problem %s has %" PetscInt_FMT, c, info->name, info->ncomp);
  PetscCall(MassKnown(prob, c, known));
  if (!*known) PetscFunctionReturn(PETSC_SUCCESS);
  if (!prob->mass_ready[c]) { /* Q* at the ends of AZ_MASS_PANELS panels of [t0, t1], once */
    PetscReal x[AZ_MAX_COORD], piece;
    x[prob->ncoord - 1] = info->t0;
    PetscCall(BoxIntegral(prob, -1, x, c, 0, &prob->mass_cum[c][0]));
    for (PetscInt k = 0; k < AZ_MASS_PANELS; k++) {
      PetscCall(RateIntegral(prob, c, info->t0 + k * H, info->t0 + (k + 1) * H, &piece));
      prob->mass_cum[c][k + 1] = prob->mass_cum[c][k] + piece;
    }
    prob->mass_ready[c] = PETSC_TRUE;
  }
  i = (PetscInt)PetscFloorReal((t - info->t0) / H);
  i = PetscMax(0, PetscMin(AZ_MASS_PANELS - 1, i));
  PetscCall(RateIntegral(prob, c, info->t0 + i * H, t, &tail));
  *Q = prob->mass_cum[c][i] + tail;
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode MassDensity(PetscInt c, const AzJet *J, PetscScalar q[], PetscScalar dq[])
{
  q[0] = AzU(J, c);
  if (dq) dq[AzIdxU(J, c)] = 1;
  return PETSC_SUCCESS;
}
#define AZ_MASS_DENSITY(c) \
  static PetscErrorCode MassDensity##c(const AzPoint *p, const AzJet *J, PetscScalar q[], PetscScalar dq[]) \
  { \
    (void)p; \
    return MassDensity(c, J, q, dq); \
  }
AZ_MASS_DENSITY(0)
AZ_MASS_DENSITY(1)
AZ_MASS_DENSITY(2)
AZ_MASS_DENSITY(3)
AZ_MASS_DENSITY(4)
AZ_MASS_DENSITY(5)
AZ_MASS_DENSITY(6)
AZ_MASS_DENSITY(7)
static const AzResidualFn mass_density[AZ_MAX_COMP] = {MassDensity0, MassDensity1, MassDensity2, MassDensity3, MassDensity4, MassDensity5, MassDensity6, MassDensity7};

/* the automatic mass laws: "mass_<component>" for every component whose mass the data fix, unless the
 * plugin declares a law of that name, while there is room (AZ_MAX_LAWS) */
PetscErrorCode AzProblemAddMassLaws(AzProblem prob)
{
  AzProblemInfo *info = &prob->guarded;
  PetscInt       nl   = 0;

  PetscFunctionBegin;
  for (PetscInt l = 0; l < AZ_MAX_LAWS; l++) prob->law_comp[l] = -1;
  while (nl < AZ_MAX_LAWS && info->conservation[nl].name) nl++;
  for (PetscInt c = 0; c < info->ncomp && nl < AZ_MAX_LAWS; c++) {
    PetscBool known, taken = PETSC_FALSE;
    char      comp[64] = "";

    PetscCall(MassKnown(prob, c, &known));
    if (!known) continue;
    if (info->component_names) { /* the c-th name of "u,v,p" */
      const char *s = info->component_names;
      for (PetscInt k = 0; k < c && s; k++) s = strchr(s, ',') ? strchr(s, ',') + 1 : NULL;
      if (s) {
        size_t len = strcspn(s, ",");
        snprintf(comp, sizeof comp, "%.*s", (int)PetscMin(len, sizeof comp - 1), s);
      }
    }
    if (!comp[0]) snprintf(comp, sizeof comp, "u%d", (int)c);
    snprintf(prob->law_name[nl], sizeof prob->law_name[nl], "mass_%s", comp);
    for (PetscInt l = 0; l < nl; l++) taken = taken || !strcmp(info->conservation[l].name, prob->law_name[nl]);
    if (taken) continue;
    info->conservation[nl] = (AzConservationInfo){prob->law_name[nl], mass_density[c], PETSC_FALSE, 0, NULL};
    prob->law_comp[nl++]   = c;
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzProblemGetLawTarget(AzProblem prob, PetscInt law, PetscReal t, PetscInt nk, PetscBool *varies, PetscReal Mk[])
{
  const AzProblemInfo *info = prob->info;
  const PetscInt       c    = (law >= 0 && law < AZ_MAX_LAWS) ? prob->law_comp[law] : -1;
  PetscReal            f[5], h;
  PetscBool            known;
  AzPoint              p;
  PetscReal            x[AZ_MAX_COORD] = {0};

  PetscFunctionBegin;
  PetscCheck(law >= 0 && law < AZ_MAX_LAWS && info->conservation[law].name, prob->comm, PETSC_ERR_ARG_OUTOFRANGE, "Problem %s has no conservation law %" PetscInt_FMT, info->name, law);
  PetscCheck(nk >= 1 && nk <= 5, prob->comm, PETSC_ERR_ARG_OUTOFRANGE, "A law's target has time derivatives up to order 4: nk = %" PetscInt_FMT " is not in 1..5", nk);
  *varies = (c >= 0 || info->conservation[law].target) ? PETSC_TRUE : PETSC_FALSE;
  if (!*varies) PetscFunctionReturn(PETSC_SUCCESS);
  p = (AzPoint){x, prob->ncoord, prob->param, -1};
  /* f(t + jh), j = −2..2, of the function whose derivatives are taken by differences: the rate for
   * the mass law (so Mk[1] is exact), the target itself otherwise */
  h = (nk > 3 ? 1e-2 : 1e-3) * (info->t1 - info->t0);
  if (c >= 0) {
    PetscCall(AzProblemGetMassTarget(prob, c, t, &known, &Mk[0]));
    if (nk > 1) PetscCall(MassRate(prob, c, t, &Mk[1]));
    if (nk > 2)
      for (PetscInt j = 0; j < 5; j++) PetscCall(MassRate(prob, c, t + (j - 2) * h, &f[j]));
  } else {
    x[prob->ncoord - 1] = t;
    PetscCall(info->conservation[law].target(&p, &Mk[0]));
    if (nk > 1)
      for (PetscInt j = 0; j < 5; j++) {
        x[prob->ncoord - 1] = t + (j - 2) * h;
        PetscCall(info->conservation[law].target(&p, &f[j]));
      }
  }
  {
    /* derivatives of f: first (fourth order), second (fourth order), third and fourth (second order) */
    const PetscReal d1 = ((f[0] - f[4]) + 8 * (f[3] - f[1])) / (12 * h), d2 = (-(f[0] + f[4]) + 16 * (f[1] + f[3]) - 30 * f[2]) / (12 * h * h);
    const PetscReal d3 = ((f[4] - f[0]) + 2 * (f[1] - f[3])) / (2 * h * h * h), d4 = ((f[0] + f[4]) - 4 * (f[1] + f[3]) + 6 * f[2]) / (h * h * h * h);
    const PetscReal d[4] = {d1, d2, d3, d4};
    for (PetscInt k = (c >= 0 ? 2 : 1); k < nk; k++) Mk[k] = d[k - (c >= 0 ? 2 : 1)];
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}
