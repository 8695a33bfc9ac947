/* Projection of the solution onto linear conservation laws (AzConservationType in loss.h).
 *
 * A law Q_l(t) = ∫ q_l(x, u) dx whose density is linear in the solution values,
 * q_l = Σ_c a_lc(x) u_c + b_l(x), is imposed on its quadrature Q_h,l(t) = Σ_j w_j q_l(x_j, u(x_j, t))
 * by the correction
 *     ũ(x, t) = u(x, t) + s(x) Σ_l c_l(t) β_l,      c(t) = G⁻¹ (M − Q_h(t)),
 * with β_l the law's mean coefficient vector, s a shape (1, or the product of the hard faces' linear
 * factors so that hard Dirichlet values stay exact) and G_lm = Σ_j w_j s(x_j) a_l(x_j)·β_m. Then
 * Q_h(ũ(·, t)) = M at every t for every θ. Time derivatives follow from the nodes' jets,
 * c⁽ᵏ⁾(t) = −G⁻¹ Q_h⁽ᵏ⁾(t) for k ≥ 1, and spatial derivatives fall on s, so ũ's jet is exact.
 *
 * The correction at a point depends on θ through the network at the nq nodes of the point's time.
 * In training the points lie on a few time slices: c at every slice is computed once per evaluation
 * (the slices shared out over the ranks, then summed), and so are its adjoint (gradient), tangent
 * and dense Jacobian (Gauss–Newton), exactly.
 */
#include "lossimpl.h"
#include <cblas.h>
#include <petsc/private/petscimpl.h> /* PetscObjectStateGet */


PetscBool AzProjectionInTraining(AzLoss L)
{
  return L->proj_mode == AZ_CONSERVE_PROJECT ? PETSC_TRUE : PETSC_FALSE;
}

/* the shape's jet at a point: vanishing on the hard faces, else 1 */
void AzProjectionShapeJet(AzLoss L, const PetscReal x[], PetscScalar s[])
{
  if (L->transform) (void)AzTransformShapeJet(L->transform, x, s);
  else {
    for (PetscInt q = 0; q < L->nslot; q++) s[q] = 0;
    s[0] = 1;
  }
}

static void ProjectionAdd(AzLoss L, const PetscReal x[], const PetscScalar c[], PetscScalar jet[])
{
  const AzProjection *P = &L->proj;
  PetscScalar         s[AZ_JET_MAX_NSLOT];

  AzProjectionShapeJet(L, x, s);
  for (PetscInt q = 0; q < L->nslot; q++) {
    if (P->kof[q] < 0) continue;
    for (PetscInt comp = 0; comp < L->ncomp; comp++) {
      PetscScalar v = 0;
      for (PetscInt l = 0; l < P->nlaw; l++) v += P->beta[l][comp] * c[P->kof[q] * P->nlaw + l];
      jet[comp * L->nslot + q] += s[P->sof[q]] * v;
    }
  }
}

static void ProjectionAddAdjoint(AzLoss L, const PetscReal x[], const PetscScalar ubar[], PetscScalar e[])
{
  const AzProjection *P = &L->proj;
  PetscScalar         s[AZ_JET_MAX_NSLOT];

  AzProjectionShapeJet(L, x, s);
  for (PetscInt q = 0; q < L->nslot; q++) {
    if (P->kof[q] < 0) continue;
    for (PetscInt comp = 0; comp < L->ncomp; comp++) {
      const PetscScalar ub = ubar[comp * L->nslot + q] * s[P->sof[q]];
      if (ub == 0) continue;
      for (PetscInt l = 0; l < P->nlaw; l++) e[P->kof[q] * P->nlaw + l] += P->beta[l][comp] * ub;
    }
  }
}

/* The nodes only need the value and its time derivatives: the field computes just those slots there
 * (about half the work of the full request of a second-order problem), then goes back. */
PetscInt AzNodesMask(AzLoss L)
{
  PetscInt mask = 0;
  for (PetscInt k = 0; k < L->proj.nk; k++) mask |= (PetscInt)1 << L->proj.tslot[k];
  return mask;
}

static PetscErrorCode NodeRequest(AzLoss L, PetscBool nodes)
{
  AzJetRequest req;

  PetscFunctionBegin;
  PetscCall(AzProblemGetJetRequest(L->prob, &req));
  if (nodes) req.mask = AzNodesMask(L);
  PetscCall(AzFieldSetJetRequest(L->field, &req));
  PetscFunctionReturn(PETSC_SUCCESS);
}

void AzNodesAt(AzLoss L, PetscReal t)
{
  AzProjection  *P   = &L->proj;
  const PetscInt dim = L->ncoord - 1;

  for (PetscInt j = 0; j < P->nq; j++) {
    for (PetscInt d = 0; d < dim; d++) P->xw[j * L->ncoord + d] = P->qx[j * dim + d];
    P->xw[j * L->ncoord + dim] = t;
  }
}

PetscErrorCode AzNodesField(AzLoss L, PetscScalar jets[])
{
  PetscFunctionBegin;
  PetscCall(NodeRequest(L, PETSC_TRUE));
  PetscCall(AzFieldEvaluateJets(L->field, L->proj.nq, L->proj.xw, jets));
  PetscCall(NodeRequest(L, PETSC_FALSE));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzNodesFieldTangent(AzLoss L, Vec v, PetscScalar dots[])
{
  PetscFunctionBegin;
  PetscCall(NodeRequest(L, PETSC_TRUE));
  PetscCall(AzFieldJetsTangent(L->field, L->proj.nq, L->proj.xw, v, dots));
  PetscCall(NodeRequest(L, PETSC_FALSE));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzNodesFieldBackward(AzLoss L, PetscScalar jb[], Vec grad)
{
  PetscFunctionBegin;
  PetscCall(NodeRequest(L, PETSC_TRUE));
  PetscCall(AzFieldJetsBackward(L->field, L->proj.nq, L->proj.xw, jb, NULL, grad));
  PetscCall(NodeRequest(L, PETSC_FALSE));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzNodesFieldJacobian(AzLoss L, PetscInt j0, PetscInt nc, PetscInt nrow, const PetscScalar rows[], PetscScalar jac[])
{
  PetscFunctionBegin;
  PetscCall(NodeRequest(L, PETSC_TRUE));
  PetscCall(AzFieldResidualJacobian(L->field, nc, L->proj.xw + j0 * L->ncoord, nrow, rows, jac));
  PetscCall(NodeRequest(L, PETSC_FALSE));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* the chain's arguments at the nodes in P->xw: the maps before the projection (stop), or all of them */
static AzChainArgs NodeArgs(AzLoss L, const PetscInt *slice, PetscBool training, PetscBool save)
{
  AzChainArgs a = {L->proj.nq, L->proj.xw, slice, 0, AzNodesMask(L), save, training, PETSC_FALSE};
  return a;
}

/* c (nk × nlaw) at time t from the solution's jets at the nodes (P->jw, already filled); affine: with
 * the targets (dᵏ/dtᵏ of a target that varies in time), else the linear part only */
static PetscErrorCode CoefficientsFromNodes(AzLoss L, const PetscScalar jw[], PetscBool affine, PetscReal t, PetscScalar c[])
{
  const AzProjection *P    = &L->proj;
  const PetscInt      Ljet = L->ncomp * L->nslot, nl = P->nlaw;
  PetscScalar         Q[(AZ_MAX_ORDER + 1) * AZ_MAX_LAWS];
  PetscReal           Mt[AZ_MAX_LAWS][AZ_MAX_ORDER + 1];

  PetscFunctionBegin;
  for (PetscInt m = 0; m < nl; m++) {
    PetscBool varies;
    if (affine && P->varies[m]) PetscCall(AzProblemGetLawTarget(L->prob, P->law[m], t, P->nk, &varies, Mt[m]));
  }
  for (PetscInt k = 0; k < P->nk; k++)
    for (PetscInt l = 0; l < nl; l++) Q[k * nl + l] = (affine && k == 0) ? P->qb[l] : 0;
  for (PetscInt j = 0; j < P->nq; j++)
    for (PetscInt l = 0; l < nl; l++)
      for (PetscInt comp = 0; comp < L->ncomp; comp++) {
        const PetscReal a = P->qa[(j * nl + l) * L->ncomp + comp];
        if (a == 0) continue;
        for (PetscInt k = 0; k < P->nk; k++) Q[k * nl + l] += a * jw[j * Ljet + comp * L->nslot + P->tslot[k]];
      }
  for (PetscInt k = 0; k < P->nk; k++)
    for (PetscInt l = 0; l < nl; l++) {
      PetscScalar v = 0;
      for (PetscInt m = 0; m < nl; m++) v += P->Ginv[l * nl + m] * ((affine && P->varies[m] ? Mt[m][k] : ((affine && k == 0) ? P->M[m] : 0)) - Q[k * nl + m]);
      c[k * nl + l] = v;
    }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* the index of the projection in the chain: the maps before it give the solution c is computed from */
static PetscInt Stop(AzLoss L)
{
  for (PetscInt i = 0; i < AzChainNumMaps(L->chain); i++)
    if (!strcmp(AzChainGetMap(L->chain, i)->ops->name, "projection")) return i;
  return AzChainNumMaps(L->chain);
}

/* c at time t (local: the network at the nodes, through the maps before the projection) */
static PetscErrorCode ComputeC(AzLoss L, PetscReal t, PetscScalar c[])
{
  AzProjection     *P = &L->proj;
  const AzChainArgs a = NodeArgs(L, NULL, PETSC_FALSE, PETSC_FALSE);

  PetscFunctionBegin;
  AzNodesAt(L, t);
  PetscCall(AzNodesField(L, P->jw));
  PetscCall(AzChainForward(L->chain, Stop(L), &a, P->jw, P->jw));
  PetscCall(CoefficientsFromNodes(L, P->jw, PETSC_TRUE, t, c));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* this rank's time slices [*s0, *s1): those of its groups (reduce.c), or with grp >= 0 those of owned
 * group grp only; *i0 is the first one's local row */
void AzLossSliceRange(AzLoss L, PetscInt grp, PetscInt *s0, PetscInt *s1, PetscInt *i0)
{
  const PetscInt ng = L->proj.ng, G = L->ngroups, first = AzGroupStart(ng, G, L->g0);

  *s0 = grp < 0 ? first : AzGroupStart(ng, G, grp);
  *s1 = grp < 0 ? AzGroupStart(ng, G, L->g1) : AzGroupStart(ng, G, grp + 1);
  *i0 = *s0 - first;
}

static PetscErrorCode ProjectionUpdate(AzLoss L)
{
  AzProjection    *P = &L->proj;
  PetscObjectState st;
  PetscInt         stale, anystale, s0, s1, i0;
  const PetscInt   R = P->nk * P->nlaw;
  PetscScalar     *buf;

  PetscFunctionBegin;
  if (!AzProjectionInTraining(L)) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(AzLossThetaState(L, &st));
  stale = (!P->gvalid || st != P->gstate) ? 1 : 0;
  PetscCall(MPIU_Allreduce(&stale, &anystale, 1, MPIU_INT, MPI_MAX, L->comm)); /* decide together */
  if (!anystale) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(PetscCalloc1((size_t)P->ng * R, &buf));
  AzLossSliceRange(L, -1, &s0, &s1, &i0);
  for (PetscInt g = s0; g < s1; g++) PetscCall(ComputeC(L, P->gt[g], buf + g * R));
  /* exact: each slice has one rank's value, the others add zeros */
  PetscCall(MPIU_Allreduce(buf, P->gc, (PetscMPIInt)(P->ng * R), MPIU_SCALAR, MPIU_SUM, L->comm));
  PetscCall(PetscFree(buf));
  P->gvalid = PETSC_TRUE;
  P->gstate = st;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* node adjoint rows: ∂c_r/∂u at node j (rows r = k·nlaw + l), nrow = R of them per node, or the
 * adjoint ū_j = Σ_r cbar_r ∂c_r/∂u_j when cbar is given (one row) */
static void NodeRows(AzLoss L, const PetscScalar *cbar, PetscScalar rows[])
{
  const AzProjection *P = &L->proj;
  const PetscInt      Ljet = L->ncomp * L->nslot, nl = P->nlaw, R = P->nk * nl, nrow = cbar ? 1 : R;

  for (PetscInt j = 0; j < P->nq; j++) {
    PetscScalar *rj = rows + (size_t)j * nrow * Ljet;
    for (PetscInt i = 0; i < nrow * Ljet; i++) rj[i] = 0;
    for (PetscInt k = 0; k < P->nk; k++)
      for (PetscInt l = 0; l < nl; l++)
        for (PetscInt comp = 0; comp < L->ncomp; comp++) {
          /* ∂c_kl/∂u_c,tslot(k) at node j = −Σ_m Ginv[l][m] qa[j][m][c] */
          PetscScalar d = 0;
          for (PetscInt m = 0; m < nl; m++) d -= P->Ginv[l * nl + m] * P->qa[(j * nl + m) * L->ncomp + comp];
          if (cbar) rj[comp * L->nslot + P->tslot[k]] += cbar[k * nl + l] * d;
          else rj[(k * nl + l) * Ljet + comp * L->nslot + P->tslot[k]] = d;
        }
  }
}

static PetscErrorCode ProjectionBackwardGroup(AzLoss L, PetscInt grp, Vec grad)
{
  AzProjection  *P = &L->proj;
  const PetscInt R = P->nk * P->nlaw;
  PetscInt       s0, s1, i0;

  PetscFunctionBegin;
  if (!AzProjectionInTraining(L)) PetscFunctionReturn(PETSC_SUCCESS);
  AzLossSliceRange(L, grp, &s0, &s1, &i0);
  for (PetscInt g = s0; g < s1; g++) {
    PetscBool any = PETSC_FALSE;
    for (PetscInt r = 0; r < R; r++) any = any || P->gcbar[g * R + r] != 0;
    if (!any) continue;
    const AzChainArgs a = NodeArgs(L, NULL, PETSC_FALSE, PETSC_FALSE);
    AzNodesAt(L, P->gt[g]);
    NodeRows(L, P->gcbar + g * R, P->jw);
    PetscCall(AzChainAdjoint(L->chain, Stop(L), &a, 1, P->jw, P->jw, NULL));
    PetscCall(AzNodesFieldBackward(L, P->jw, grad));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode ProjectionTangent(AzLoss L, Vec v)
{
  AzProjection  *P = &L->proj;
  const PetscInt R = P->nk * P->nlaw;
  PetscInt       s0, s1, i0;
  PetscScalar   *buf;

  PetscFunctionBegin;
  if (!AzProjectionInTraining(L)) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(PetscCalloc1((size_t)P->ng * R, &buf));
  AzLossSliceRange(L, -1, &s0, &s1, &i0);
  for (PetscInt g = s0; g < s1; g++) {
    const AzChainArgs a = NodeArgs(L, NULL, PETSC_FALSE, PETSC_FALSE);
    AzNodesAt(L, P->gt[g]);
    PetscCall(AzNodesFieldTangent(L, v, P->jw));
    PetscCall(AzChainTangent(L->chain, Stop(L), &a, P->jw, P->jw));
    PetscCall(CoefficientsFromNodes(L, P->jw, PETSC_FALSE, P->gt[g], buf + g * R));
  }
  PetscCall(MPIU_Allreduce(buf, P->gcdot, /* exact: one rank per slice */ (PetscMPIInt)(P->ng * R), MPIU_SCALAR, MPIU_SUM, L->comm));
  PetscCall(PetscFree(buf));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode ProjectionJacobian(AzLoss L)
{
  AzProjection  *P = &L->proj;
  const PetscInt R = P->nk * P->nlaw, Ljet = L->ncomp * L->nslot, np = L->nparam, chunk = 32;
  PetscInt       s0, s1, i0;
  PetscScalar   *buf, *rows, *jac;

  PetscFunctionBegin;
  if (!AzProjectionInTraining(L)) PetscFunctionReturn(PETSC_SUCCESS);
  AzLossSliceRange(L, -1, &s0, &s1, &i0);
  if (!P->gjac) PetscCall(PetscMalloc1((size_t)P->ng * R * np, &P->gjac));
  PetscCall(PetscCalloc1((size_t)P->ng * R * np, &buf));
  PetscCall(PetscMalloc2((size_t)P->nq * R * Ljet, &rows, (size_t)chunk * R * np, &jac));
  for (PetscInt g = s0; g < s1; g++) {
    const AzChainArgs a = NodeArgs(L, NULL, PETSC_FALSE, PETSC_FALSE);
    AzNodesAt(L, P->gt[g]);
    NodeRows(L, NULL, rows);
    PetscCall(AzChainAdjoint(L->chain, Stop(L), &a, R, rows, rows, NULL));
    for (PetscInt j0 = 0; j0 < P->nq; j0 += chunk) {
      const PetscInt nc = PetscMin(chunk, P->nq - j0);
      PetscCall(NodeRequest(L, PETSC_TRUE));
      PetscCall(AzFieldResidualJacobian(L->field, nc, P->xw + j0 * L->ncoord, R, rows + (size_t)j0 * R * Ljet, jac));
      PetscCall(NodeRequest(L, PETSC_FALSE));
      for (PetscInt j = 0; j < nc; j++)
        for (PetscInt i = 0; i < R * np; i++) buf[(size_t)g * R * np + i] += jac[(size_t)j * R * np + i];
    }
  }
  PetscCall(PetscFree2(rows, jac));
  PetscCall(MPIU_Allreduce(buf, P->gjac, /* exact: one rank per slice */ (PetscMPIInt)(P->ng * R * np), MPIU_SCALAR, MPIU_SUM, L->comm));
  PetscCall(PetscFree(buf));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode ProjectionApplyLocal(AzLoss L, PetscInt npts, const PetscReal x[], PetscScalar jets[])
{
  AzProjection    *P = &L->proj;
  PetscObjectState st;
  const PetscInt   Ljet = L->ncomp * L->nslot, tidx = L->ncoord - 1;
  PetscInt         hit  = -1;

  PetscFunctionBegin;
  if (L->proj_mode != AZ_CONSERVE_PROJECT && L->proj_mode != AZ_CONSERVE_POSTHOC) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(AzLossThetaState(L, &st));
  if (st != P->cstate) {
    P->cn     = 0;
    P->cnext  = 0;
    P->cstate = st;
  }
  for (PetscInt p = 0; p < npts; p++) {
    const PetscReal t = x[p * L->ncoord + tidx];
    if (hit < 0 || P->ct[hit] != t) {
      hit = -1;
      for (PetscInt i = 0; i < P->cn; i++)
        if (P->ct[i] == t) {
          hit = i;
          break;
        }
      if (hit < 0) {
        /* ComputeC overwrites the workspace, not the caller's jets */
        hit = P->cnext;
        PetscCall(ComputeC(L, t, P->cc[hit]));
        P->ct[hit] = t;
        P->cnext   = (P->cnext + 1) % AZ_PROJ_CACHE;
        P->cn      = PetscMin(P->cn + 1, AZ_PROJ_CACHE);
      }
    }
    ProjectionAdd(L, x + p * L->ncoord, P->cc[hit], jets + p * Ljet);
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}


/* ---- the projection as a map of the chain: in training (-az_conservation project) ũ = u + s Σ c β
 * with c of the point's slice (side inputs); for the report (project or posthoc) c at the point's time */
static PetscErrorCode Forward(AzChainMap m, const AzChainArgs *a, const PetscScalar in[], PetscScalar out[])
{
  AzLoss         L    = m->L;
  const PetscInt Ljet = L->ncomp * L->nslot, R = L->proj.nk * L->proj.nlaw;

  PetscFunctionBegin;
  (void)in; /* in place */
  if (!a->training) PetscCall(ProjectionApplyLocal(L, a->npts, a->x, out));
  else if (AzProjectionInTraining(L))
    for (PetscInt p = 0; p < a->npts; p++) ProjectionAdd(L, a->x + p * L->ncoord, L->proj.gc + a->slice[p * a->sstride] * R, out + p * Ljet);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* c held: the identity on the jets, plus the side inputs' tangent ċ where training sees them */
static PetscErrorCode Tangent(AzChainMap m, const AzChainArgs *a, const PetscScalar in[], const PetscScalar din[], PetscScalar dout[])
{
  AzLoss         L    = m->L;
  const PetscInt Ljet = L->ncomp * L->nslot, R = L->proj.nk * L->proj.nlaw;

  PetscFunctionBegin;
  (void)in, (void)din; /* in place */
  if (a->training && AzProjectionInTraining(L))
    for (PetscInt p = 0; p < a->npts; p++) ProjectionAdd(L, a->x + p * L->ncoord, L->proj.gcdot + a->slice[p * a->sstride] * R, dout + p * Ljet);
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode Adjoint(AzChainMap m, const AzChainArgs *a, const PetscScalar in[], PetscInt nrow, const PetscScalar rout[], PetscScalar rin[], PetscScalar side[])
{
  AzLoss         L    = m->L;
  const PetscInt Ljet = L->ncomp * L->nslot, R = L->proj.nk * L->proj.nlaw;

  PetscFunctionBegin;
  (void)in, (void)rin; /* the identity on the rows */
  if (side && a->training && AzProjectionInTraining(L))
    for (PetscInt p = 0; p < a->npts; p++)
      for (PetscInt k = 0; k < nrow; k++) ProjectionAddAdjoint(L, a->x + p * L->ncoord, rout + ((size_t)p * nrow + k) * Ljet, side + ((size_t)p * nrow + k) * R);
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode Update(AzChainMap m)
{
  PetscFunctionBegin;
  PetscCall(ProjectionUpdate(m->L));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SideBackward(AzChainMap m, PetscInt g, Vec grad)
{
  PetscFunctionBegin;
  PetscCall(ProjectionBackwardGroup(m->L, g, grad));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SideTangent(AzChainMap m, Vec v)
{
  PetscFunctionBegin;
  PetscCall(ProjectionTangent(m->L, v));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SideJacobian(AzChainMap m)
{
  PetscFunctionBegin;
  PetscCall(ProjectionJacobian(m->L));
  m->side_jac = m->L->proj.gjac;
  PetscFunctionReturn(PETSC_SUCCESS);
}

static const AzChainMapOps ops = {"projection", Forward, Tangent, Adjoint, NULL, Update, SideBackward, SideTangent, SideJacobian};

PetscErrorCode AzChainMapCreate_Projection(AzLoss L, AzChainMap *m)
{
  PetscFunctionBegin;
  *m = NULL;
  if (L->proj_mode != AZ_CONSERVE_PROJECT && L->proj_mode != AZ_CONSERVE_POSTHOC) PetscFunctionReturn(PETSC_SUCCESS); /* probconserv: its own map */
  PetscCall(AzChainMapAllocate(L, &ops, L->ncomp, L->ncomp, m));
  if (AzProjectionInTraining(L)) {
    (*m)->nside    = L->proj.nk * L->proj.nlaw;
    (*m)->nslice   = L->proj.ng;
    (*m)->side     = L->proj.gc;
    (*m)->side_bar = L->proj.gcbar;
    (*m)->side_dot = L->proj.gcdot;
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}
