/* The problem's conservation laws: each law's mode from the options, and the set-up they share —
 * the spatial quadrature, the time slices and the projection's matrices. */
#include "lossimpl.h"

const char *const AzConservationTypes[] = {"none", "project", "posthoc", "probconserv", "soft", "linear", "cosine", "adaptive", "auglag", "AzConservationType", "AZ_CONSERVE_", NULL};

PetscBool AzConservationIsPenalty(AzConservationType mode)
{
  return mode >= AZ_CONSERVE_SOFT ? PETSC_TRUE : PETSC_FALSE;
}

/* imposed on the quadrature of the projection's nodes: in training (project) or after it (posthoc, probconserv) */
PetscBool AzConservationIsProjected(AzConservationType mode)
{
  return mode == AZ_CONSERVE_PROJECT || mode == AZ_CONSERVE_POSTHOC || mode == AZ_CONSERVE_PROBCONSERV ? PETSC_TRUE : PETSC_FALSE;
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
      if (strncmp(tok, pre, strlen(pre)) || !strcmp(name, "laws") || !strcmp(name, "from")) continue; /* options, not laws (-az_conservation_from: discovered laws) */
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
    if (!AzConservationIsProjected(L->law_mode[l])) continue;
    PetscCheck(L->proj_mode == AZ_CONSERVE_NONE || L->proj_mode == L->law_mode[l], L->comm, PETSC_ERR_ARG_WRONG, "Law '%s' is imposed by %s and law '%s' by %s: the projected laws share one projection, in training (project) or after it (posthoc or probconserv)", info->conservation[first].name, AzConservationTypes[L->proj_mode], info->conservation[l].name, AzConservationTypes[L->law_mode[l]]);
    L->proj_mode = L->law_mode[l];
    if (first < 0) first = l;
  }
  /* read only where it applies, so that a stray -az_probconserv_* is reported as unused */
  L->pc_sigma = 0;
  L->pc_times = AZ_DRIFT_TIMES;
  L->pc_joint = PETSC_FALSE;
  if (L->proj_mode == AZ_CONSERVE_PROBCONSERV) PetscCall(AzProbConservOptions(L));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Gauss–Jordan with partial pivoting: Ginv = G⁻¹ (n ≤ AZ_MAX_LAWS); false if G is (nearly) singular */
static PetscBool Invert(PetscInt n, const PetscReal G[], PetscReal Ginv[])
{
  PetscReal A[AZ_MAX_LAWS * 2 * AZ_MAX_LAWS], big = 0;
  const PetscInt w = 2 * n;

  for (PetscInt i = 0; i < n; i++)
    for (PetscInt j = 0; j < w; j++) A[i * w + j] = j < n ? G[i * n + j] : (j - n == i ? 1 : 0);
  for (PetscInt i = 0; i < n * n; i++) big = PetscMax(big, PetscAbsReal(G[i]));
  for (PetscInt c = 0; c < n; c++) {
    PetscInt p = c;
    for (PetscInt r = c + 1; r < n; r++)
      if (PetscAbsReal(A[r * w + c]) > PetscAbsReal(A[p * w + c])) p = r;
    if (!(PetscAbsReal(A[p * w + c]) > 1e-12 * big)) return PETSC_FALSE;
    for (PetscInt j = 0; j < w; j++) {
      PetscReal tmp = A[c * w + j];
      A[c * w + j]  = A[p * w + j];
      A[p * w + j]  = tmp;
    }
    for (PetscInt r = 0; r < n; r++) {
      PetscReal f;
      if (r == c) continue;
      f = A[r * w + c] / A[c * w + c];
      for (PetscInt j = 0; j < w; j++) A[r * w + j] -= f * A[c * w + j];
    }
  }
  for (PetscInt i = 0; i < n; i++)
    for (PetscInt j = 0; j < n; j++) Ginv[i * n + j] = A[i * w + n + j] / A[i * w + i];
  return PETSC_TRUE;
}

PetscErrorCode AzProjectionSetUp(AzLoss L)
{
  AzProjection        *P = &L->proj;
  const AzProblemInfo *info;
  const PetscReal     *param;
  const PetscInt       n = L->ncoord, tt = n - 1, Ljet = L->ncomp * L->nslot;
  AzJetRequest         req;
  PetscReal            G[AZ_MAX_LAWS * AZ_MAX_LAWS], wsum = 0;
  PetscScalar         *jet;
  PetscBool            any = PETSC_FALSE, penalty = PETSC_FALSE;

  PetscFunctionBegin;
  for (PetscInt l = 0; l < AZ_MAX_LAWS; l++) {
    any     = any || L->law_mode[l] != AZ_CONSERVE_NONE;
    penalty = penalty || AzConservationIsPenalty(L->law_mode[l]);
  }
  if (!any) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(AzProblemGetInfo(L->prob, &info));
  PetscCall(AzProblemGetParams(L->prob, &param));
  for (PetscInt l = 0; l < AZ_MAX_LAWS; l++)
    PetscCheck(L->law_mode[l] == AZ_CONSERVE_NONE || info->time_dependent, L->comm, PETSC_ERR_ARG_WRONG, "Law '%s' (%s): problem %s is steady; conservation laws Q(t) = M are imposed at every time of a time-dependent problem", info->conservation[l].name, AzConservationTypes[L->law_mode[l]], info->name);
  /* which jet slots carry which time derivative of c, and which derivative of the shape */
  PetscCall(AzProblemGetJetRequest(L->prob, &req));
  PetscCall(AzJetRequestClose(&req));
  P->nk = 1;
  P->tslot[0] = 0;
  for (PetscInt q = 0; q < L->nslot; q++) P->kof[q] = -1;
  if (L->proj_mode != AZ_CONSERVE_NONE) {
    P->kof[0] = 0;
    P->sof[0] = 0;
    for (PetscInt i = 0; i < n; i++) {
      const PetscInt s1 = AzJetSlotD1(n, i), s3 = AzJetSlotD3(n, i), s4 = AzJetSlotD4(n, i);
      P->kof[s1] = i == tt ? 1 : 0;
      P->sof[s1] = i == tt ? 0 : s1;
      P->kof[s3] = i == tt ? 3 : 0;
      P->sof[s3] = i == tt ? 0 : s3;
      P->kof[s4] = i == tt ? 4 : 0;
      P->sof[s4] = i == tt ? 0 : s4;
      for (PetscInt j = i; j < n; j++) {
        const PetscInt s2 = AzJetSlotD2(n, i, j), nt = (i == tt) + (j == tt);
        P->kof[s2] = nt;
        P->sof[s2] = nt == 2 ? 0 : (nt == 1 ? AzJetSlotD1(n, i == tt ? j : i) : s2);
      }
    }
    for (PetscInt q = 0; q < L->nslot; q++) {
      if (!(req.mask & ((PetscInt)1 << q))) P->kof[q] = -1;
      if (P->kof[q] >= 0) P->nk = PetscMax(P->nk, P->kof[q] + 1);
    }
    if (P->nk > 1) P->tslot[1] = AzJetSlotD1(n, tt);
    if (P->nk > 2) P->tslot[2] = AzJetSlotD2(n, tt, tt);
    if (P->nk > 3) P->tslot[3] = AzJetSlotD3(n, tt);
    if (P->nk > 4) P->tslot[4] = AzJetSlotD4(n, tt);
    for (PetscInt k = 0; k < P->nk; k++) PetscCheck(req.mask & ((PetscInt)1 << P->tslot[k]), L->comm, PETSC_ERR_SUP, "Projection needs the time derivative of order %" PetscInt_FMT " that problem %s does not declare", k, info->name);
  }
  /* the quadrature, shared by the projection and the penalties */
  PetscCall(AzLossSpatialQuadrature(L, L->project_nodes, PETSC_TRUE, &P->nq, &P->qx, &P->qw));
  P->nlaw = 0;
  for (PetscInt l = 0; l < AZ_MAX_LAWS; l++)
    if (AzConservationIsProjected(L->law_mode[l])) P->law[P->nlaw++] = l;
  PetscCall(PetscCalloc1((size_t)PetscMax(P->nq * P->nlaw * L->ncomp, 1), &P->qa));
  PetscCall(PetscMalloc3((size_t)P->nq * n, &P->xw, (size_t)P->nq * Ljet, &P->jw, (size_t)P->nq * Ljet, &P->jw2));
  PetscCall(PetscMalloc2((size_t)P->nq * Ljet, &P->dq, (size_t)P->nq * PetscMax(Ljet, (AZ_MAX_ORDER + 1) * AZ_MAX_LAWS), &P->vw));
  PetscCall(PetscMalloc1(Ljet, &jet));
  for (PetscInt j = 0; j < P->nq; j++) wsum += P->qw[j];
  for (PetscInt l = 0; l < P->nlaw; l++) {
    const AzConservationInfo *law = &info->conservation[P->law[l]];
    PetscReal                 Qu0 = 0;
    P->qb[l]                      = 0;
    for (PetscInt j = 0; j < P->nq; j++) {
      PetscReal   x[AZ_MAX_COORD];
      AzPoint     pt = {x, n, param, -1};
      AzJet       J  = {n, L->ncomp, L->nslot, jet};
      PetscScalar b, q, pred, u0[AZ_MAX_COMP];
      PetscReal   a[AZ_MAX_COMP];

      for (PetscInt d = 0; d < tt; d++) x[d] = P->qx[j * tt + d];
      x[tt] = info->t0;
      for (PetscInt s = 0; s < Ljet; s++) jet[s] = 0;
      PetscCall(law->density(&pt, &J, &b, NULL));
      for (PetscInt comp = 0; comp < L->ncomp; comp++) {
        jet[comp * L->nslot] = 1;
        PetscCall(law->density(&pt, &J, &q, NULL));
        a[comp]              = PetscRealPart(q - b);
        jet[comp * L->nslot] = 0;
      }
      /* linear in the values and nothing else: check at a jet with every slot set, at another time */
      x[tt] = info->t0 + 0.618 * (info->t1 - info->t0);
      pred  = b;
      for (PetscInt s = 0; s < Ljet; s++) jet[s] = 0.3 + 1.7 * PetscSinReal(1.3 * s + 0.7 * j + 0.1 * l);
      for (PetscInt comp = 0; comp < L->ncomp; comp++) pred += a[comp] * jet[comp * L->nslot];
      PetscCall(law->density(&pt, &J, &q, NULL));
      PetscCheck(PetscAbsScalar(q - pred) <= 1e-10 * (1 + PetscAbsScalar(q)), L->comm, PETSC_ERR_ARG_WRONG,
                 "-az_conservation %s: law '%s' of problem %s is not of the form q = a(x)·u + b(x) (linear in the solution values, independent of derivatives and time): projection (and probconserv's linear update) imposes linear laws only; penalise it instead (-az_conservation_%s soft, linear, cosine, adaptive or auglag) or use none",
                 AzConservationTypes[L->proj_mode], law->name, info->name, law->name);
      for (PetscInt comp = 0; comp < L->ncomp; comp++) P->qa[(j * P->nlaw + l) * L->ncomp + comp] = P->qw[j] * a[comp];
      P->qb[l] += P->qw[j] * PetscRealPart(b);
      if (!law->has_value) {
        PetscCheck(info->initial_value, L->comm, PETSC_ERR_ARG_WRONG, "Law '%s' of problem %s has no value and the problem no initial_value: projection has no target", law->name, info->name);
        x[tt] = info->t0;
        PetscCall(info->initial_value(&pt, u0));
        Qu0 += P->qw[j] * PetscRealPart(b);
        for (PetscInt comp = 0; comp < L->ncomp; comp++) Qu0 += P->qw[j] * a[comp] * PetscRealPart(u0[comp]);
      }
    }
    P->M[l] = law->has_value ? law->value : Qu0;
    {
      PetscReal Mk[1];
      PetscCall(AzProblemGetLawTarget(L->prob, P->law[l], info->t0, 1, &P->varies[l], Mk));
    }
    {
      PetscReal nb = 0;
      for (PetscInt comp = 0; comp < L->ncomp; comp++) {
        P->beta[l][comp] = 0;
        for (PetscInt j = 0; j < P->nq; j++) P->beta[l][comp] += P->qa[(j * P->nlaw + l) * L->ncomp + comp] / wsum;
        nb += PetscAbsReal(P->beta[l][comp]);
      }
      PetscCheck(nb > 0, L->comm, PETSC_ERR_ARG_WRONG, "Law '%s' of problem %s: its density does not depend on the solution", law->name, info->name);
    }
  }
  if (P->nlaw > 0) {
    /* G_lm = Σ_j w_j s(x_j) a_l(x_j)·β_m */
    for (PetscInt l = 0; l < P->nlaw; l++)
      for (PetscInt m = 0; m < P->nlaw; m++) G[l * P->nlaw + m] = 0;
    for (PetscInt j = 0; j < P->nq; j++) {
      PetscScalar s[AZ_JET_MAX_NSLOT];
      PetscReal   x[AZ_MAX_COORD];
      for (PetscInt d = 0; d < tt; d++) x[d] = P->qx[j * tt + d];
      x[tt] = info->t0;
      AzProjectionShapeJet(L, x, s);
      for (PetscInt l = 0; l < P->nlaw; l++)
        for (PetscInt m = 0; m < P->nlaw; m++)
          for (PetscInt comp = 0; comp < L->ncomp; comp++) G[l * P->nlaw + m] += PetscRealPart(s[0]) * P->qa[(j * P->nlaw + l) * L->ncomp + comp] * P->beta[m][comp];
    }
    PetscCheck(Invert(P->nlaw, G, P->Ginv), L->comm, PETSC_ERR_ARG_WRONG, "The conservation laws of problem %s are not independent (or vanish under the hard faces' shape): they cannot be projected onto together", info->name);
  }
  PetscCall(PetscFree(jet));
  if (L->proj_mode == AZ_CONSERVE_PROJECT || penalty) PetscCall(AzLossSlicesSetUp(L));
  /* the targets that vary in time, at the slices' times, once */
  P->gM = NULL;
  if (L->proj_mode == AZ_CONSERVE_PROJECT || penalty) {
    for (PetscInt l = 0; l < AZ_MAX_LAWS && info->conservation[l].name; l++) {
      PetscBool varies;
      PetscReal Mk[1];
      if (L->law_mode[l] == AZ_CONSERVE_NONE) continue;
      PetscCall(AzProblemGetLawTarget(L->prob, l, info->t0, 1, &varies, Mk));
      if (!varies) continue;
      if (!P->gM) PetscCall(PetscCalloc1((size_t)PetscMax(P->ng, 1) * AZ_MAX_LAWS, &P->gM));
      for (PetscInt g = 0; g < P->ng; g++) PetscCall(AzProblemGetLawTarget(L->prob, l, P->gt[g], 1, &varies, &P->gM[g * AZ_MAX_LAWS + l]));
    }
  }
  P->gvalid = PETSC_FALSE;
  P->cn     = 0;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzProjectionDestroy(AzLoss L)
{
  AzProjection *P = &L->proj;

  PetscFunctionBegin;
  PetscCall(PetscFree(P->qx));
  PetscCall(PetscFree(P->qw));
  PetscCall(PetscFree(P->qa));
  PetscCall(PetscFree2(P->dq, P->vw));
  PetscCall(PetscFree3(P->xw, P->jw, P->jw2));
  PetscCall(PetscFree(P->gt));
  PetscCall(PetscFree(P->gM));
  PetscCall(PetscFree3(P->gc, P->gcbar, P->gcdot));
  PetscCall(PetscFree(P->gjac));
  PetscFunctionReturn(PETSC_SUCCESS);
}

