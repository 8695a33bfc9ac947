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

/* Gauss–Legendre nodes and weights on [−1, 1] by Newton's method on P_n */
PetscErrorCode AzGaussLegendre(PetscInt n, PetscReal x[], PetscReal w[])
{
  PetscFunctionBegin;
  for (PetscInt i = 0; i < (n + 1) / 2; i++) {
    PetscReal z = PetscCosReal(PETSC_PI * (i + 0.75) / (n + 0.5)), dp = 1;
    for (PetscInt it = 0; it < 100; it++) {
      PetscReal p0 = 1, p1 = z, dz;
      for (PetscInt k = 2; k <= n; k++) {
        PetscReal p2 = ((2 * k - 1) * z * p1 - (k - 1) * p0) / k;
        p0           = p1;
        p1           = p2;
      }
      if (n == 1) p1 = z, p0 = 1;
      dp = n * (z * p1 - p0) / (z * z - 1);
      dz = p1 / dp;
      z -= dz;
      if (PetscAbsReal(dz) < 1e-16) break;
    }
    {
      PetscReal p0 = 1, p1 = z;
      for (PetscInt k = 2; k <= n; k++) {
        PetscReal p2 = ((2 * k - 1) * z * p1 - (k - 1) * p0) / k;
        p0           = p1;
        p1           = p2;
      }
      dp = n * (z * p1 - p0) / (z * z - 1);
    }
    x[i]         = -z;
    x[n - 1 - i] = z;
    w[i] = w[n - 1 - i] = 2 / ((1 - z * z) * dp * dp);
  }
  if (n % 2) x[n / 2] = 0;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzLossSpatialQuadrature(AzLoss L, PetscInt n, PetscBool periodic_midpoint, PetscInt *nq, PetscReal **qx, PetscReal **qw)
{
  const AzProblemInfo *info;
  const PetscInt       dim = L->ncoord - 1;
  PetscReal            lo[AZ_MAX_COORD], hi[AZ_MAX_COORD], gx[8], gw[8];
  PetscReal           *ax[AZ_MAX_DIM], *aw[AZ_MAX_DIM];
  PetscInt             na[AZ_MAX_DIM], total = 1;

  PetscFunctionBegin;
  PetscCall(AzProblemGetInfo(L->prob, &info));
  PetscCall(AzProblemGetBox(L->prob, lo, hi));
  PetscCall(AzGaussLegendre(8, gx, gw));
  for (PetscInt d = 0; d < dim; d++) {
    const PetscReal len = hi[d] - lo[d];
    if (periodic_midpoint && info->boundary[2 * d].type == AZ_BC_PERIODIC) {
      na[d] = n;
      PetscCall(PetscMalloc2(n, &ax[d], n, &aw[d]));
      for (PetscInt i = 0; i < n; i++) {
        ax[d][i] = lo[d] + len * (i + 0.5) / n;
        aw[d][i] = len / n;
      }
    } else {
      const PetscInt np = (n + 7) / 8;
      na[d]             = 8 * np;
      PetscCall(PetscMalloc2(na[d], &ax[d], na[d], &aw[d]));
      for (PetscInt p = 0; p < np; p++)
        for (PetscInt i = 0; i < 8; i++) {
          ax[d][8 * p + i] = lo[d] + len * (p + 0.5 * (gx[i] + 1)) / np;
          aw[d][8 * p + i] = len * 0.5 * gw[i] / np;
        }
    }
    total *= na[d];
  }
  PetscCall(PetscMalloc1((size_t)total * PetscMax(dim, 1), qx));
  PetscCall(PetscMalloc1(total, qw));
  for (PetscInt j = 0; j < total; j++) {
    PetscInt r = j;
    (*qw)[j]   = 1;
    for (PetscInt d = 0; d < dim; d++) {
      (*qx)[j * dim + d] = ax[d][r % na[d]];
      (*qw)[j] *= aw[d][r % na[d]];
      r /= na[d];
    }
  }
  for (PetscInt d = 0; d < dim; d++) PetscCall(PetscFree2(ax[d], aw[d]));
  *nq = total;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscBool AzProjectionInTraining(AzLoss L)
{
  return L->proj_mode == AZ_CONSERVE_PROJECT ? PETSC_TRUE : PETSC_FALSE;
}

/* the shape's jet at a point: vanishing on the hard faces, else 1 */
static void ShapeJet(AzLoss L, const PetscReal x[], PetscScalar s[])
{
  if (L->transform) (void)AzTransformShapeJet(L->transform, x, s);
  else {
    for (PetscInt q = 0; q < L->nslot; q++) s[q] = 0;
    s[0] = 1;
  }
}

void AzProjectionAdd(AzLoss L, const PetscReal x[], const PetscScalar c[], PetscScalar jet[])
{
  const AzProjection *P = &L->proj;
  PetscScalar         s[AZ_JET_MAX_NSLOT];

  ShapeJet(L, x, s);
  for (PetscInt q = 0; q < L->nslot; q++) {
    if (P->kof[q] < 0) continue;
    for (PetscInt comp = 0; comp < L->ncomp; comp++) {
      PetscScalar v = 0;
      for (PetscInt l = 0; l < P->nlaw; l++) v += P->beta[l][comp] * c[P->kof[q] * P->nlaw + l];
      jet[comp * L->nslot + q] += s[P->sof[q]] * v;
    }
  }
}

void AzProjectionAddAdjoint(AzLoss L, const PetscReal x[], const PetscScalar ubar[], PetscScalar e[])
{
  const AzProjection *P = &L->proj;
  PetscScalar         s[AZ_JET_MAX_NSLOT];

  ShapeJet(L, x, s);
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
static PetscErrorCode NodeRequest(AzLoss L, PetscBool nodes)
{
  AzJetRequest req;

  PetscFunctionBegin;
  PetscCall(AzProblemGetJetRequest(L->prob, &req));
  if (nodes) {
    req.mask = 0;
    for (PetscInt k = 0; k < L->proj.nk; k++) req.mask |= (PetscInt)1 << L->proj.tslot[k];
  }
  PetscCall(AzFieldSetJetRequest(L->field, &req));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* node coordinates at time t into P->xw */
static void NodePoints(AzLoss L, PetscReal t)
{
  AzProjection  *P   = &L->proj;
  const PetscInt dim = L->ncoord - 1;

  for (PetscInt j = 0; j < P->nq; j++) {
    for (PetscInt d = 0; d < dim; d++) P->xw[j * L->ncoord + d] = P->qx[j * dim + d];
    P->xw[j * L->ncoord + dim] = t;
  }
}

/* c (nk × nlaw) at time t from the solution's jets at the nodes (P->jw, already filled) */
static void CoefficientsFromNodes(AzLoss L, const PetscScalar jw[], PetscBool affine, PetscScalar c[])
{
  const AzProjection *P    = &L->proj;
  const PetscInt      Ljet = L->ncomp * L->nslot, nl = P->nlaw;
  PetscScalar         Q[(AZ_MAX_ORDER + 1) * AZ_MAX_LAWS];

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
      for (PetscInt m = 0; m < nl; m++) v += P->Ginv[l * nl + m] * (((affine && k == 0) ? P->M[m] : 0) - Q[k * nl + m]);
      c[k * nl + l] = v;
    }
}

/* The solution at the nodes of time t, into P->jw (P->xw: the nodes): value and ∂t only */
static PetscErrorCode NodeSolution(AzLoss L, PetscReal t)
{
  AzProjection *P = &L->proj;

  PetscFunctionBegin;
  NodePoints(L, t);
  PetscCall(NodeRequest(L, PETSC_TRUE));
  PetscCall(AzFieldEvaluateJets(L->field, P->nq, P->xw, P->jw));
  PetscCall(NodeRequest(L, PETSC_FALSE));
  if (L->transform) PetscCall(AzTransformApply(L->transform, P->nq, P->xw, P->jw));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The tangent of the solution at the nodes of time t, into P->jw */
static PetscErrorCode NodeTangent(AzLoss L, PetscReal t, Vec v)
{
  AzProjection *P = &L->proj;

  PetscFunctionBegin;
  NodePoints(L, t);
  PetscCall(NodeRequest(L, PETSC_TRUE));
  PetscCall(AzFieldJetsTangent(L->field, P->nq, P->xw, v, P->jw));
  PetscCall(NodeRequest(L, PETSC_FALSE));
  if (L->transform) PetscCall(AzTransformApplyLinear(L->transform, P->nq, P->xw, P->jw));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* grad += Σ_j ū_j ∂u_j/∂θ for adjoints ū (jb, overwritten) at the nodes in P->xw */
static PetscErrorCode NodeBackward(AzLoss L, PetscScalar jb[], Vec grad)
{
  AzProjection *P = &L->proj;

  PetscFunctionBegin;
  if (L->transform) PetscCall(AzTransformAdjoint(L->transform, P->nq, P->xw, 1, jb));
  PetscCall(NodeRequest(L, PETSC_TRUE));
  PetscCall(AzFieldJetsBackward(L->field, P->nq, P->xw, jb, NULL, grad));
  PetscCall(NodeRequest(L, PETSC_FALSE));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* c at time t (local: the network at the nodes) */
static PetscErrorCode ComputeC(AzLoss L, PetscReal t, PetscScalar c[])
{
  AzProjection *P = &L->proj;

  PetscFunctionBegin;
  PetscCall(NodeSolution(L, t));
  CoefficientsFromNodes(L, P->jw, PETSC_TRUE, c);
  PetscFunctionReturn(PETSC_SUCCESS);
}

static int CompareReal(const void *a, const void *b)
{
  const PetscReal x = *(const PetscReal *)a, y = *(const PetscReal *)b;
  return x < y ? -1 : (x > y ? 1 : 0);
}

static PetscInt SortUnique(PetscInt n, PetscReal v[])
{
  PetscInt m = 0;
  qsort(v, (size_t)n, sizeof(PetscReal), CompareReal);
  for (PetscInt i = 0; i < n; i++)
    if (!m || v[i] != v[m - 1]) v[m++] = v[i];
  return m;
}

/* whether a term's times are slices: observation times only when the projection in training needs c
 * there (a penalty's slices are the sampled terms') */
static PetscBool Grouped(AzLoss L, const AzTerm *t)
{
  return t->cond != AZ_COND_DATA || AzProjectionInTraining(L) ? PETSC_TRUE : PETSC_FALSE;
}

/* the distinct times of every term's points over all ranks, and each local point's slice */
static PetscErrorCode SetUpGroups(AzLoss L)
{
  AzProjection *P = &L->proj;
  PetscInt      nloc = 0, m, tidx = L->ncoord - 1;
  PetscReal    *tl, *all;
  PetscMPIInt   size, *counts, *displs, mm;
  const PetscInt max_slices = 8192;

  PetscFunctionBegin;
  for (PetscInt k = 0; k < L->nterms; k++) {
    PetscInt n;
    if (!Grouped(L, &L->term[k])) continue;
    PetscCall(VecGetLocalSize(L->term[k].x, &n));
    nloc += n / L->ncoord;
  }
  PetscCall(PetscMalloc1(PetscMax(nloc, 1), &tl));
  nloc = 0;
  for (PetscInt k = 0; k < L->nterms; k++) {
    const PetscScalar *xa;
    PetscInt           n;
    if (!Grouped(L, &L->term[k])) continue;
    PetscCall(VecGetLocalSize(L->term[k].x, &n));
    PetscCall(VecGetArrayRead(L->term[k].x, &xa));
    for (PetscInt p = 0; p < n / L->ncoord; p++) tl[nloc++] = PetscRealPart(xa[p * L->ncoord + tidx]);
    PetscCall(VecRestoreArrayRead(L->term[k].x, &xa));
  }
  m = SortUnique(nloc, tl);
  PetscCallMPI(MPI_Comm_size(L->comm, &size));
  PetscCall(PetscMalloc2(size, &counts, size, &displs));
  mm = (PetscMPIInt)PetscMin(m, max_slices + 1);
  PetscCallMPI(MPI_Allgather(&mm, 1, MPI_INT, counts, 1, MPI_INT, L->comm));
  displs[0] = 0;
  for (PetscMPIInt r = 1; r < size; r++) displs[r] = displs[r - 1] + counts[r - 1];
  PetscCall(PetscMalloc1(PetscMax(displs[size - 1] + counts[size - 1], 1), &all));
  PetscCallMPI(MPI_Allgatherv(tl, mm, MPIU_REAL, all, counts, displs, MPIU_REAL, L->comm));
  P->ng = SortUnique(displs[size - 1] + counts[size - 1], all);
  PetscCall(PetscFree2(counts, displs));
  PetscCall(PetscFree(tl));
  PetscCheck(P->ng <= max_slices, L->comm, PETSC_ERR_ARG_OUTOFRANGE,
             "Projecting a conservation law in training or penalising one evaluates the network at the quadrature nodes of every distinct collocation time, and these points have more than %" PetscInt_FMT " distinct times: put them on time slices with -az_time_slices N (for example 100)", max_slices);
  PetscCall(PetscMalloc1(P->ng, &P->gt));
  PetscCall(PetscArraycpy(P->gt, all, P->ng));
  PetscCall(PetscFree(all));
  PetscCall(PetscCalloc3((size_t)P->ng * P->nk * P->nlaw, &P->gc, (size_t)P->ng * P->nk * P->nlaw, &P->gcbar, (size_t)P->ng * P->nk * P->nlaw, &P->gcdot));
  for (PetscInt k = 0; k < L->nterms; k++) {
    AzTerm            *t = &L->term[k];
    const PetscScalar *xa;
    PetscInt           n;
    if (!Grouped(L, t)) continue;
    PetscCall(VecGetLocalSize(t->x, &n));
    n /= L->ncoord;
    PetscCall(PetscMalloc1(PetscMax(n, 1), &t->group));
    PetscCall(VecGetArrayRead(t->x, &xa));
    for (PetscInt p = 0; p < n; p++) {
      const PetscReal tp = PetscRealPart(xa[p * L->ncoord + tidx]);
      PetscInt        lo = 0, hi = P->ng - 1;
      while (lo < hi) {
        PetscInt mid = (lo + hi) / 2;
        if (P->gt[mid] < tp) lo = mid + 1;
        else hi = mid;
      }
      t->group[p] = lo;
    }
    PetscCall(VecRestoreArrayRead(t->x, &xa));
  }
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
    if (L->law_mode[l] == AZ_CONSERVE_PROJECT || L->law_mode[l] == AZ_CONSERVE_POSTHOC) P->law[P->nlaw++] = l;
  PetscCall(PetscCalloc1((size_t)PetscMax(P->nq * P->nlaw * L->ncomp, 1), &P->qa));
  PetscCall(PetscMalloc3((size_t)P->nq * n, &P->xw, (size_t)P->nq * Ljet, &P->jw, (size_t)P->nq * Ljet, &P->jw2));
  PetscCall(PetscMalloc2((size_t)P->nq * Ljet, &P->dq, (size_t)P->nq * Ljet, &P->vw));
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
                 "-az_conservation %s: law '%s' of problem %s is not of the form q = a(x)·u + b(x) (linear in the solution values, independent of derivatives and time): projection imposes linear laws only; penalise it instead (-az_conservation_%s soft, linear, cosine, adaptive or auglag) or use none",
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
      ShapeJet(L, x, s);
      for (PetscInt l = 0; l < P->nlaw; l++)
        for (PetscInt m = 0; m < P->nlaw; m++)
          for (PetscInt comp = 0; comp < L->ncomp; comp++) G[l * P->nlaw + m] += PetscRealPart(s[0]) * P->qa[(j * P->nlaw + l) * L->ncomp + comp] * P->beta[m][comp];
    }
    PetscCheck(Invert(P->nlaw, G, P->Ginv), L->comm, PETSC_ERR_ARG_WRONG, "The conservation laws of problem %s are not independent (or vanish under the hard faces' shape): they cannot be projected onto together", info->name);
  }
  PetscCall(PetscFree(jet));
  if (L->proj_mode == AZ_CONSERVE_PROJECT || penalty) PetscCall(SetUpGroups(L));
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
  PetscCall(PetscFree3(P->gc, P->gcbar, P->gcdot));
  PetscCall(PetscFree(P->gjac));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode ThetaState(AzLoss L, PetscObjectState *st)
{
  Vec theta;

  PetscFunctionBegin;
  PetscCall(AzFieldGetParameters(L->field, &theta));
  PetscCall(PetscObjectStateGet((PetscObject)theta, st));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* this rank's time slices [*s0, *s1): those of its groups (reduce.c), or with grp >= 0 those of owned
 * group grp only; *i0 is the first one's local row */
static void SliceRange(AzLoss L, PetscInt grp, PetscInt *s0, PetscInt *s1, PetscInt *i0)
{
  const PetscInt ng = L->proj.ng, G = L->ngroups, first = AzGroupStart(ng, G, L->g0);

  *s0 = grp < 0 ? first : AzGroupStart(ng, G, grp);
  *s1 = grp < 0 ? AzGroupStart(ng, G, L->g1) : AzGroupStart(ng, G, grp + 1);
  *i0 = *s0 - first;
}

PetscErrorCode AzProjectionUpdate(AzLoss L)
{
  AzProjection    *P = &L->proj;
  PetscObjectState st;
  PetscInt         stale, anystale, s0, s1, i0;
  const PetscInt   R = P->nk * P->nlaw;
  PetscScalar     *buf;

  PetscFunctionBegin;
  if (!AzProjectionInTraining(L)) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(ThetaState(L, &st));
  stale = (!P->gvalid || st != P->gstate) ? 1 : 0;
  PetscCall(MPIU_Allreduce(&stale, &anystale, 1, MPIU_INT, MPI_MAX, L->comm)); /* decide together */
  if (!anystale) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(PetscCalloc1((size_t)P->ng * R, &buf));
  SliceRange(L, -1, &s0, &s1, &i0);
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

PetscErrorCode AzProjectionBackwardGroup(AzLoss L, PetscInt grp, Vec grad)
{
  AzProjection  *P = &L->proj;
  const PetscInt R = P->nk * P->nlaw;
  PetscInt       s0, s1, i0;

  PetscFunctionBegin;
  if (!AzProjectionInTraining(L)) PetscFunctionReturn(PETSC_SUCCESS);
  SliceRange(L, grp, &s0, &s1, &i0);
  for (PetscInt g = s0; g < s1; g++) {
    PetscBool any = PETSC_FALSE;
    for (PetscInt r = 0; r < R; r++) any = any || P->gcbar[g * R + r] != 0;
    if (!any) continue;
    NodePoints(L, P->gt[g]);
    NodeRows(L, P->gcbar + g * R, P->jw);
    PetscCall(NodeBackward(L, P->jw, grad));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzProjectionTangent(AzLoss L, Vec v)
{
  AzProjection  *P = &L->proj;
  const PetscInt R = P->nk * P->nlaw;
  PetscInt       s0, s1, i0;
  PetscScalar   *buf;

  PetscFunctionBegin;
  if (!AzProjectionInTraining(L)) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(PetscCalloc1((size_t)P->ng * R, &buf));
  SliceRange(L, -1, &s0, &s1, &i0);
  for (PetscInt g = s0; g < s1; g++) {
    PetscCall(NodeTangent(L, P->gt[g], v));
    CoefficientsFromNodes(L, P->jw, PETSC_FALSE, buf + g * R);
  }
  PetscCall(MPIU_Allreduce(buf, P->gcdot, /* exact: one rank per slice */ (PetscMPIInt)(P->ng * R), MPIU_SCALAR, MPIU_SUM, L->comm));
  PetscCall(PetscFree(buf));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzProjectionJacobian(AzLoss L)
{
  AzProjection  *P = &L->proj;
  const PetscInt R = P->nk * P->nlaw, Ljet = L->ncomp * L->nslot, np = L->nparam, chunk = 32;
  PetscInt       s0, s1, i0;
  PetscScalar   *buf, *rows, *jac;

  PetscFunctionBegin;
  if (!AzProjectionInTraining(L)) PetscFunctionReturn(PETSC_SUCCESS);
  SliceRange(L, -1, &s0, &s1, &i0);
  if (!P->gjac) PetscCall(PetscMalloc1((size_t)P->ng * R * np, &P->gjac));
  PetscCall(PetscCalloc1((size_t)P->ng * R * np, &buf));
  PetscCall(PetscMalloc2((size_t)P->nq * R * Ljet, &rows, (size_t)chunk * R * np, &jac));
  for (PetscInt g = s0; g < s1; g++) {
    NodePoints(L, P->gt[g]);
    NodeRows(L, NULL, rows);
    if (L->transform) PetscCall(AzTransformAdjoint(L->transform, P->nq, P->xw, R, rows));
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

PetscErrorCode AzProjectionApplyLocal(AzLoss L, PetscInt npts, const PetscReal x[], PetscScalar jets[])
{
  AzProjection    *P = &L->proj;
  PetscObjectState st;
  const PetscInt   Ljet = L->ncomp * L->nslot, tidx = L->ncoord - 1;
  PetscInt         hit  = -1;

  PetscFunctionBegin;
  if (L->proj_mode == AZ_CONSERVE_NONE) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(ThetaState(L, &st));
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
    AzProjectionAdd(L, x + p * L->ncoord, P->cc[hit], jets + p * Ljet);
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* ---- the conservation-law penalties (-az_conservation soft ... auglag): a term per law with one
 * residual per time slice, r_g = Q_h(t_g) − M = Σ_j w_j q(x_j, ũ(x_j, t_g)) − M, the solution ũ as
 * training sees it (through the transform or softplus, and projected onto the projected laws), the
 * slices shared out over the ranks with the groups of points (reduce.c) ----------------------------- */

static PetscInt OwnedSlices(AzLoss L)
{
  return AzLossGroupsLocalSize(L, L->proj.ng);
}

PetscErrorCode AzLawTermLocalRows(AzLoss L, PetscInt *nrows)
{
  PetscFunctionBegin;
  *nrows = OwnedSlices(L);
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzLawTermRowIndex(AzLoss L, PetscInt i, PetscInt *global)
{
  PetscFunctionBegin;
  *global = AzGroupStart(L->proj.ng, L->ngroups, L->g0) + i;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzLawTermSetUp(AzLoss L, PetscInt law, AzTerm *t)
{
  AzProjection             *P = &L->proj;
  const AzProblemInfo      *info;
  const AzConservationInfo *cl;
  const PetscReal          *param;
  const PetscInt            n = L->ncoord, tt = n - 1, Ljet = L->ncomp * L->nslot;
  PetscInt                  nlaws = 0;
  PetscScalar              *jet, *dq;

  PetscFunctionBegin;
  PetscCall(AzProblemGetInfo(L->prob, &info));
  PetscCall(AzProblemGetParams(L->prob, &param));
  while (nlaws < AZ_MAX_LAWS && info->conservation[nlaws].name) nlaws++;
  cl = &info->conservation[law];
  if (nlaws == 1) PetscCall(PetscStrncpy(t->name, "conservation", sizeof t->name));
  else PetscCheck(snprintf(t->name, sizeof t->name, "conservation_%s", cl->name) < (int)sizeof t->name, L->comm, PETSC_ERR_ARG_WRONG, "Law '%s' of problem %s: a penalised law's name must be shorter than %d characters (its term is conservation_NAME)", cl->name, info->name, (int)(sizeof t->name - 13));
  t->cond = AZ_COND_LAW;
  t->law  = law;
  t->n    = P->ng; /* time slices */
  t->nres = 1;
  t->w = t->w0 = L->w_law;
  t->ctype     = (AzConstraintType)(AZ_CON_SOFT + (L->law_mode[law] - AZ_CONSERVE_SOFT));
  /* the nodes carry values only: the density must not read derivatives */
  PetscCall(PetscMalloc2(Ljet, &jet, Ljet, &dq));
  t->lawM = 0;
  for (PetscInt j = 0; j < P->nq; j++) {
    PetscReal   x[AZ_MAX_COORD];
    AzPoint     pt = {x, n, param, -1};
    AzJet       J  = {n, L->ncomp, L->nslot, jet};
    PetscScalar q, u0[AZ_MAX_COMP];
    for (PetscInt d = 0; d < tt; d++) x[d] = P->qx[j * tt + d];
    x[tt] = info->t0 + 0.618 * (info->t1 - info->t0);
    for (PetscInt s = 0; s < Ljet; s++) {
      jet[s] = 0.3 + 1.7 * PetscSinReal(1.3 * s + 0.7 * j);
      dq[s]  = 0;
    }
    PetscCall(cl->density(&pt, &J, &q, dq));
    for (PetscInt s = 0; s < Ljet; s++)
      PetscCheck(s % L->nslot == 0 || dq[s] == 0, L->comm, PETSC_ERR_SUP, "Law '%s' of problem %s: its density depends on derivatives of the solution; a conservation penalty takes densities of the solution values only", cl->name, info->name);
    if (!cl->has_value) {
      /* the target: the law at the initial data */
      PetscCheck(info->initial_value, L->comm, PETSC_ERR_ARG_WRONG, "Law '%s' of problem %s has no value and the problem no initial_value: its penalty has no target", cl->name, info->name);
      x[tt] = info->t0;
      PetscCall(info->initial_value(&pt, u0));
      for (PetscInt s = 0; s < Ljet; s++) jet[s] = 0;
      for (PetscInt c = 0; c < L->ncomp; c++) jet[c * L->nslot] = u0[c];
      PetscCall(cl->density(&pt, &J, &q, NULL));
      t->lawM += P->qw[j] * PetscRealPart(q);
    }
  }
  if (cl->has_value) t->lawM = cl->value;
  PetscCall(PetscFree2(jet, dq));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* the solution at the nodes of slice g as training sees it, into P->jw (the network's jets before
 * softplus into P->vw) */
static PetscErrorCode LawNodeSolution(AzLoss L, PetscInt g)
{
  AzProjection  *P    = &L->proj;
  const PetscInt Ljet = L->ncomp * L->nslot;

  PetscFunctionBegin;
  PetscCall(NodeSolution(L, P->gt[g]));
  if (AzPositivityActive(L)) {
    PetscCall(PetscArraycpy(P->vw, P->jw, (size_t)P->nq * Ljet));
    PetscCall(AzPositivityApply(L, P->nq, P->jw));
  }
  if (AzProjectionInTraining(L))
    for (PetscInt j = 0; j < P->nq; j++) AzProjectionAdd(L, P->xw + j * L->ncoord, P->gc + g * P->nk * P->nlaw, P->jw + j * Ljet);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* r = Q_h(t_g) − M of term t at slice g (no multiplier shift), and w_j ∂q/∂u at the nodes in P->dq */
static PetscErrorCode SliceResidual(AzLoss L, AzTerm *t, PetscInt g, PetscScalar *r)
{
  AzProjection        *P    = &L->proj;
  const PetscInt       Ljet = L->ncomp * L->nslot;
  const AzProblemInfo *info;
  const PetscReal     *param;

  PetscFunctionBegin;
  PetscCall(AzProblemGetInfo(L->prob, &info));
  PetscCall(AzProblemGetParams(L->prob, &param));
  PetscCall(LawNodeSolution(L, g));
  *r = -t->lawM;
  for (PetscInt j = 0; j < P->nq; j++) {
    AzPoint      pt = {P->xw + j * L->ncoord, L->ncoord, param, -1};
    AzJet        J  = {L->ncoord, L->ncomp, L->nslot, P->jw + j * Ljet};
    PetscScalar  q, *dq = P->dq + j * Ljet;
    for (PetscInt s = 0; s < Ljet; s++) dq[s] = 0;
    PetscCall(info->conservation[t->law].density(&pt, &J, &q, dq));
    *r += P->qw[j] * q;
    for (PetscInt c = 0; c < L->ncomp; c++) dq[c * L->nslot] *= P->qw[j];
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* the multiplier shift λ/μ of this rank's i-th slice (0 without multipliers) */
static PetscScalar Shift(AzTerm *t, PetscInt i)
{
  return t->lambda ? t->lambda[i] / t->mu : 0;
}

/* grad += w ∂r/∂θ at slice g from P->dq and P->vw (SliceResidual or RestoreSlice; the nodes in
 * P->xw), and the projection's share into gcbar */
static PetscErrorCode SliceAdjoint(AzLoss L, PetscInt g, PetscScalar w, Vec grad)
{
  AzProjection  *P    = &L->proj;
  const PetscInt Ljet = L->ncomp * L->nslot;

  PetscFunctionBegin;
  for (PetscInt i = 0; i < P->nq * Ljet; i++) P->jw2[i] = w * P->dq[i];
  if (AzProjectionInTraining(L)) {
    PetscScalar *cb = P->gcbar + g * P->nk * P->nlaw;
    for (PetscInt j = 0; j < P->nq; j++) AzProjectionAddAdjoint(L, P->xw + j * L->ncoord, P->jw2 + j * Ljet, cb);
  }
  PetscCall(AzPositivityTangentValues(L, P->nq, P->vw, P->jw2)); /* diagonal in the values: its own adjoint */
  PetscCall(NodeBackward(L, P->jw2, grad));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Σ r² (shifted) over the slices of owned group grp; with grad, grad += ∇θ of the term's weighted mean */
PetscErrorCode AzLawTermEvaluate(AzLoss L, AzTerm *t, PetscInt grp, PetscReal *sumsq, Vec grad)
{
  PetscInt        s0, s1;
  const PetscReal scale = 2 * t->w / ((PetscReal)t->n * t->nres);
  PetscInt        i;

  PetscFunctionBegin;
  SliceRange(L, grp, &s0, &s1, &i);
  *sumsq = 0;
  for (PetscInt g = s0; g < s1; g++, i++) {
    PetscScalar r;
    PetscCall(SliceResidual(L, t, g, &r));
    r += Shift(t, i);
    *sumsq += PetscRealPart(r * r);
    if (grad) PetscCall(SliceAdjoint(L, g, scale * r, grad));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzLawTermUpdateMultipliers(AzLoss L, AzTerm *t, PetscReal *vmax)
{
  PetscInt      s0, s1;
  PetscReal     v = 0;
  PetscInt      i;

  PetscFunctionBegin;
  SliceRange(L, -1, &s0, &s1, &i);
  for (PetscInt g = s0; g < s1; g++, i++) {
    PetscScalar r;
    PetscCall(SliceResidual(L, t, g, &r));
    v = PetscMax(v, PetscAbsScalar(r));
    t->lambda[i] += t->mu * r;
  }
  PetscCall(MPIU_Allreduce(&v, vmax, 1, MPIU_REAL, MPIU_MAX, L->comm));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* the scaled residuals ρ = sq·(r + λ/μ) of owned group grp's slices (rho: this rank's rows), and their Jacobian rows through fn */
PetscErrorCode AzLawTermRows(AzLoss L, AzTerm *t, PetscInt grp, PetscScalar rho[], PetscErrorCode (*fn)(AzLoss, PetscInt, PetscInt, const PetscScalar[], const PetscScalar[], void *), void *ctx)
{
  AzProjection   *P    = &L->proj;
  const PetscInt  Ljet = L->ncomp * L->nslot, np = L->nparam, chunk = 32, R = P->nk * P->nlaw;
  const PetscReal sq   = PetscSqrtReal(t->w / ((PetscReal)t->n * t->nres));
  PetscInt        s0, s1;
  PetscScalar    *jac = NULL, *J = NULL;
  PetscInt        i;

  PetscFunctionBegin;
  SliceRange(L, grp, &s0, &s1, &i);
  if (fn) PetscCall(PetscMalloc2((size_t)chunk * np, &jac, (size_t)np, &J));
  for (PetscInt g = s0; g < s1; g++, i++) {
    PetscScalar r;
    PetscCall(SliceResidual(L, t, g, &r));
    rho[i] = sq * (r + Shift(t, i));
    if (!fn) continue;
    /* ∂ρ/∂ũ at each node: sq·w_j ∂q/∂u; its projection part E = ∂ρ/∂c */
    for (PetscInt k = 0; k < P->nq * Ljet; k++) P->jw2[k] = sq * P->dq[k];
    PetscCall(PetscArrayzero(J, np));
    if (AzProjectionInTraining(L)) {
      PetscScalar e[(AZ_MAX_ORDER + 1) * AZ_MAX_LAWS] = {0};
      for (PetscInt j = 0; j < P->nq; j++) AzProjectionAddAdjoint(L, P->xw + j * L->ncoord, P->jw2 + j * Ljet, e);
      for (PetscInt q = 0; q < R; q++)
        if (e[q] != 0) cblas_daxpy((int)np, e[q], P->gjac + ((size_t)g * R + q) * np, 1, J, 1);
    }
    PetscCall(AzPositivityTangentValues(L, P->nq, P->vw, P->jw2));
    if (L->transform) PetscCall(AzTransformAdjoint(L->transform, P->nq, P->xw, 1, P->jw2));
    for (PetscInt j0 = 0; j0 < P->nq; j0 += chunk) {
      const PetscInt nc = PetscMin(chunk, P->nq - j0);
      PetscCall(NodeRequest(L, PETSC_TRUE));
      PetscCall(AzFieldResidualJacobian(L->field, nc, P->xw + j0 * L->ncoord, 1, P->jw2 + (size_t)j0 * Ljet, jac));
      PetscCall(NodeRequest(L, PETSC_FALSE));
      for (PetscInt j = 0; j < nc; j++)
        for (PetscInt k = 0; k < np; k++) J[k] += jac[(size_t)j * np + k];
    }
    PetscCall(fn(L, grp, 1, rho + i, J, ctx));
  }
  if (fn) PetscCall(PetscFree2(jac, J));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Matrix-free Gauss–Newton: at the linearisation point keep, for this rank's slices, ρ and at every
 * node w_j ∂q/∂u and the network's values before softplus (value slots only: the densities read
 * values only), so that J v and Jᵀ w use the linearisation point's data, not whatever θ was tried since */
PetscErrorCode AzLawTermLinearize(AzLoss L, AzTerm *t, PetscInt grp, PetscReal *sumsq)
{
  AzProjection   *P    = &L->proj;
  const PetscInt  Ljet = L->ncomp * L->nslot, nc = L->ncomp, nr = OwnedSlices(L);
  const PetscReal sq   = PetscSqrtReal(t->w / ((PetscReal)t->n * t->nres));
  PetscInt        s0, s1;
  PetscInt        i;

  PetscFunctionBegin;
  SliceRange(L, grp, &s0, &s1, &i);
  if (!t->lin_rho) PetscCall(PetscMalloc3((size_t)PetscMax(nr, 1), &t->lin_rho, (size_t)PetscMax(nr * P->nq * nc, 1), &t->lin_D, (size_t)PetscMax(nr * P->nq * nc, 1), &t->lin_jet));
  if (!t->lin_w) PetscCall(PetscMalloc1((size_t)PetscMax(nr, 1), &t->lin_w));
  *sumsq = 0;
  for (PetscInt g = s0; g < s1; g++, i++) {
    PetscScalar r;
    PetscCall(SliceResidual(L, t, g, &r));
    t->lin_rho[i] = sq * (r + Shift(t, i));
    *sumsq += PetscRealPart(t->lin_rho[i] * t->lin_rho[i]);
    for (PetscInt j = 0; j < P->nq; j++)
      for (PetscInt c = 0; c < nc; c++) {
        t->lin_D[((size_t)i * P->nq + j) * nc + c]   = P->dq[j * Ljet + c * L->nslot];
        t->lin_jet[((size_t)i * P->nq + j) * nc + c] = AzPositivityActive(L) ? P->vw[j * Ljet + c * L->nslot] : 0;
      }
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* P->dq and the value slots of P->vw from the linearisation of this rank's i-th slice */
static void RestoreSlice(AzLoss L, AzTerm *t, PetscInt i)
{
  AzProjection  *P  = &L->proj;
  const PetscInt nc = L->ncomp, Ljet = nc * L->nslot;

  for (PetscInt k = 0; k < P->nq * Ljet; k++) P->dq[k] = 0;
  for (PetscInt j = 0; j < P->nq; j++)
    for (PetscInt c = 0; c < nc; c++) {
      P->dq[j * Ljet + c * L->nslot] = t->lin_D[((size_t)i * P->nq + j) * nc + c];
      P->vw[j * Ljet + c * L->nslot] = t->lin_jet[((size_t)i * P->nq + j) * nc + c];
    }
}

/* out[i] = (J v)_i for this rank's rows at the linearisation point (gcdot = (∂c/∂θ) v done) */
PetscErrorCode AzLawTermTangent(AzLoss L, AzTerm *t, Vec v, PetscScalar out[])
{
  AzProjection   *P    = &L->proj;
  const PetscInt  Ljet = L->ncomp * L->nslot;
  const PetscReal sq   = PetscSqrtReal(t->w / ((PetscReal)t->n * t->nres));
  PetscInt        s0, s1;
  PetscInt        i;

  PetscFunctionBegin;
  SliceRange(L, -1, &s0, &s1, &i);
  for (PetscInt g = s0; g < s1; g++, i++) {
    PetscScalar s = 0;
    RestoreSlice(L, t, i);
    PetscCall(NodeTangent(L, P->gt[g], v));
    PetscCall(AzPositivityTangentValues(L, P->nq, P->vw, P->jw));
    if (AzProjectionInTraining(L))
      for (PetscInt j = 0; j < P->nq; j++) AzProjectionAdd(L, P->xw + j * L->ncoord, P->gcdot + g * P->nk * P->nlaw, P->jw + j * Ljet);
    for (PetscInt k = 0; k < P->nq * Ljet; k++)
      if (P->dq[k] != 0) s += P->dq[k] * P->jw[k]; /* slots not requested hold NaN in jw and 0 in dq */
    out[i] = sq * s;
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* grad += Jᵀ w for owned group grp's rows at the linearisation point */
PetscErrorCode AzLawTermAdjoint(AzLoss L, AzTerm *t, PetscInt grp, const PetscScalar w[], Vec grad)
{
  AzProjection   *P  = &L->proj;
  const PetscReal sq = PetscSqrtReal(t->w / ((PetscReal)t->n * t->nres));
  PetscInt        s0, s1;
  PetscInt        i;

  PetscFunctionBegin;
  SliceRange(L, grp, &s0, &s1, &i);
  for (PetscInt g = s0; g < s1; g++, i++) {
    RestoreSlice(L, t, i);
    NodePoints(L, P->gt[g]);
    PetscCall(SliceAdjoint(L, g, sq * w[i], grad));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}
