/* -az_conservation probconserv: the ProbConserv update (Hansen et al., ICML 2023) of the trained
 * solution, with the Gauss–Newton Laplace covariance as the prior (laplace.h: AzLossProbConserv).
 *
 * The constraints G u = b: each projected law's quadrature Q_h,l(t) = Σ_j w_j q_l(x_j, u(x_j, t)) on the
 * projection's nodes (the same nodes and densities as posthoc: project.c, laws.c) equals its target
 * M_l(t) at T equally spaced times. Linearised in θ, u(x) ≈ μ(x) + J_u(x) δθ, they read A δθ = −r with
 * A = G J_u (row (t, l): Σ_j qa_jl · ∂u(x_j, t)/∂θ, one adjoint pass through the chain and the network
 * per node) and r = Gμ − b. Conditioning the Laplace posterior θ ~ N(θ*, Σθ) on them
 * (AzLaplaceCondition) gives δθ, and the report's solution becomes μ̃(x) = μ(x) + J_u(x) δθ, a tangent
 * of the network in the direction δθ through the chain's maps before this one: the function-space
 * update μ̃ = μ − ΣGᵀ(σ_c²I + GΣGᵀ)⁻¹(Gμ − b) with Σ = J_u Σθ J_uᵀ, never formed over the points.
 * Training does not see the map (the identity until the update, and for training always).
 */
#include "lossimpl.h"
#include <ansatz/laplace.h>
#include <petsc/private/petscimpl.h> /* PetscObjectStateGet */

typedef struct {
  Vec               dtheta; /* NULL until the update */
  PetscObjectState  state;  /* θ's state at the update */
  AzProbConservInfo info;
  PetscScalar      *dnet, *dsol;
  size_t            cap;
} ProbConserv;

PetscErrorCode AzProbConservOptions(AzLoss L)
{
  PetscFunctionBegin;
  L->pc_sigma = 0;
  L->pc_times = AZ_DRIFT_TIMES;
  PetscOptionsBegin(L->comm, L->prefix, "ProbConserv: the laws' Bayesian update after training (-az_conservation probconserv)", "AzLoss");
  PetscCall(PetscOptionsReal("-az_probconserv_sigma", "standard deviation sigma_c of the constraints G u = b (0: imposed exactly at the times)", "AzLossProbConserv", L->pc_sigma, &L->pc_sigma, NULL));
  PetscCall(PetscOptionsInt("-az_probconserv_times", "equally spaced times t0 .. t1 at which the laws are imposed (default: the drift's 101)", "AzLossProbConserv", L->pc_times, &L->pc_times, NULL));
  PetscOptionsEnd();
  PetscCheck(L->pc_sigma >= 0 && !PetscIsInfOrNanReal(L->pc_sigma), L->comm, PETSC_ERR_ARG_OUTOFRANGE, "-az_probconserv_sigma %g must be finite and >= 0 (0: the laws imposed exactly)", (double)L->pc_sigma);
  PetscCheck(L->pc_times >= 1 && L->pc_times <= 100000, L->comm, PETSC_ERR_ARG_OUTOFRANGE, "-az_probconserv_times %" PetscInt_FMT " must be between 1 and 100000", L->pc_times);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* at set-up, before any training: what the update will need */
PetscErrorCode AzProbConservCheck(AzLoss L)
{
  PetscInt maxp, m;

  PetscFunctionBegin;
  if (L->proj_mode != AZ_CONSERVE_PROBCONSERV) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(AzLaplaceMaxParameters(L, &maxp));
  PetscCheck(L->nparam <= maxp, L->comm, PETSC_ERR_ARG_OUTOFRANGE,
             "-az_conservation probconserv needs the Laplace approximation's dense %" PetscInt_FMT " x %" PetscInt_FMT " matrix J^T J + lambda I (%.0f MB) and its Cholesky factorisation: θ has %" PetscInt_FMT " parameters, more than -az_laplace_max_parameters %" PetscInt_FMT ". Use a smaller network (-az_field_width, -az_field_depth), raise the limit if memory and time allow, or use -az_conservation posthoc",
             L->nparam, L->nparam, (double)L->nparam * L->nparam * sizeof(PetscScalar) / 1048576.0, L->nparam, maxp);
  m = L->pc_times * L->proj.nlaw;
  PetscCheck(L->pc_sigma > 0 || m <= L->nparam, L->comm, PETSC_ERR_ARG_OUTOFRANGE,
             "-az_conservation probconserv with -az_probconserv_sigma 0 imposes %" PetscInt_FMT " constraints exactly (%" PetscInt_FMT " times x %" PetscInt_FMT " laws) through %" PetscInt_FMT " parameters: at most %" PetscInt_FMT " can be. Use fewer -az_probconserv_times, a larger network, or -az_probconserv_sigma > 0",
             m, L->pc_times, L->proj.nlaw, L->nparam, L->nparam);
  for (PetscInt i = 0; i < AzChainNumMaps(L->chain); i++) {
    AzChainMap mp = AzChainGetMap(L->chain, i);
    /* the maps before it must be affine in the network's jets, or the tangent is not the update */
    PetscCheck(!mp->keep_input, L->comm, PETSC_ERR_ARG_WRONG, "-az_conservation probconserv does not combine with the chain map %s (not affine in the network)", mp->ops->name);
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscInt MapIndex(AzLoss L)
{
  for (PetscInt i = 0; i < AzChainNumMaps(L->chain); i++)
    if (!strcmp(AzChainGetMap(L->chain, i)->ops->name, "probconserv")) return i;
  return -1;
}

static PetscErrorCode ThetaState(AzLoss L, PetscObjectState *st)
{
  Vec theta;

  PetscFunctionBegin;
  PetscCall(AzFieldGetParameters(L->field, &theta));
  PetscCall(PetscObjectStateGet((PetscObject)theta, st));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode Reserve(ProbConserv *pc, size_t n)
{
  PetscFunctionBegin;
  if (n <= pc->cap) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(PetscFree2(pc->dnet, pc->dsol));
  PetscCall(PetscMalloc2(n, &pc->dnet, n, &pc->dsol));
  pc->cap = n;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* the report's solution: + J_u(x) δθ (every jet slot), once the update is in place; training: the identity */
static PetscErrorCode Forward(AzChainMap m, const AzChainArgs *a, const PetscScalar in[], PetscScalar out[])
{
  AzLoss           L  = m->L;
  ProbConserv     *pc = (ProbConserv *)m->data;
  PetscObjectState st;
  const size_t     n = (size_t)PetscMax(a->npts, 1) * PetscMax(L->LjetN, L->ncomp * L->nslot);

  PetscFunctionBegin;
  (void)in; /* in place */
  if (a->training || !pc->dtheta || !a->npts) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(ThetaState(L, &st));
  PetscCheck(st == pc->state, L->comm, PETSC_ERR_ARG_WRONGSTATE, "The probconserv update was made at other parameters than the field's now: make it again (AzLossProbConserv) after changing θ");
  PetscCall(Reserve(pc, n));
  PetscCall(AzFieldJetsTangent(L->field, a->npts, a->x, pc->dtheta, pc->dnet));
  PetscCall(AzChainTangent(L->chain, m->index, a, pc->dnet, pc->dsol));
  for (size_t i = 0; i < (size_t)a->npts * L->ncomp * L->nslot; i++) out[i] += pc->dsol[i];
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* δθ is held: the identity on the jets */
static PetscErrorCode Tangent(AzChainMap m, const AzChainArgs *a, const PetscScalar in[], const PetscScalar din[], PetscScalar dout[])
{
  PetscFunctionBegin;
  (void)m, (void)a, (void)in, (void)din, (void)dout;
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode Adjoint(AzChainMap m, const AzChainArgs *a, const PetscScalar in[], PetscInt nrow, const PetscScalar rout[], PetscScalar rin[], PetscScalar side[])
{
  PetscFunctionBegin;
  (void)m, (void)a, (void)in, (void)nrow, (void)rout, (void)rin, (void)side;
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode Destroy(AzChainMap m)
{
  ProbConserv *pc = (ProbConserv *)m->data;

  PetscFunctionBegin;
  PetscCall(VecDestroy(&pc->dtheta));
  PetscCall(PetscFree2(pc->dnet, pc->dsol));
  PetscCall(PetscFree(m->data));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static const AzChainMapOps ops = {"probconserv", Forward, Tangent, Adjoint, Destroy, NULL, NULL, NULL, NULL};

PetscErrorCode AzChainMapCreate_ProbConserv(AzLoss L, AzChainMap *m)
{
  ProbConserv *pc;

  PetscFunctionBegin;
  *m = NULL;
  if (L->proj_mode != AZ_CONSERVE_PROBCONSERV) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(AzChainMapAllocate(L, &ops, L->ncomp, L->ncomp, m));
  PetscCall(PetscNew(&pc));
  (*m)->data = pc;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* rows of A and entries of r at time t: the solution before this map at the nodes, its quadratures
 * (r_l = Q_h,l − M_l(t)), and A_l = Σ_j qa_jl ∂u(x_j)/∂θ by the chain's adjoint and the network's
 * Jacobian rows, node chunk by node chunk */
static PetscErrorCode RowsAt(AzLoss L, PetscInt stop, PetscReal t, PetscScalar *rows, PetscScalar *jac, PetscScalar A[], PetscScalar r[])
{
  AzProjection  *P = &L->proj;
  const PetscInt nl = P->nlaw, Ljet = L->ncomp * L->nslot, np = L->nparam, chunk = 32;
  AzChainArgs    a  = {P->nq, P->xw, NULL, 0, AzNodesMask(L), PETSC_TRUE, PETSC_FALSE};

  PetscFunctionBegin;
  AzNodesAt(L, t);
  PetscCall(AzNodesField(L, P->jw));
  PetscCall(AzChainForward(L->chain, stop, &a, P->jw, P->jw));
  for (PetscInt l = 0; l < nl; l++) {
    PetscBool varies;
    PetscReal Mt;
    PetscScalar Q = P->qb[l];
    for (PetscInt j = 0; j < P->nq; j++)
      for (PetscInt c = 0; c < L->ncomp; c++) Q += P->qa[(j * nl + l) * L->ncomp + c] * P->jw[j * Ljet + c * L->nslot];
    PetscCall(AzProblemGetLawTarget(L->prob, P->law[l], t, 1, &varies, &Mt));
    r[l] = Q - (varies ? Mt : P->M[l]);
  }
  PetscCall(PetscArrayzero(rows, (size_t)P->nq * nl * Ljet));
  for (PetscInt j = 0; j < P->nq; j++)
    for (PetscInt l = 0; l < nl; l++)
      for (PetscInt c = 0; c < L->ncomp; c++) rows[((size_t)j * nl + l) * Ljet + c * L->nslot] = P->qa[(j * nl + l) * L->ncomp + c];
  PetscCall(AzChainAdjoint(L->chain, stop, &a, nl, rows, rows, NULL));
  PetscCall(PetscArrayzero(A, (size_t)nl * np));
  for (PetscInt j0 = 0; j0 < P->nq; j0 += chunk) {
    const PetscInt nc = PetscMin(chunk, P->nq - j0);
    PetscCall(PetscArrayzero(jac, (size_t)nc * nl * np));
    PetscCall(AzNodesFieldJacobian(L, j0, nc, nl, rows + (size_t)j0 * nl * Ljet, jac));
    for (PetscInt j = 0; j < nc; j++)
      for (PetscInt i = 0; i < nl * np; i++) A[i] += jac[(size_t)j * nl * np + i];
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzLossProbConserv(AzLoss L, AzLaplace lap, AzProbConservInfo *info)
{
  AzProjection        *P = &L->proj;
  const AzProblemInfo *pinfo;
  AzChainMap           map;
  ProbConserv         *pc;
  PetscInt             stop, T, nl, np, m, ncond;
  PetscMPIInt          rank, size;
  PetscScalar         *A, *r, *rows, *jac, *dth;
  Vec                  theta;

  PetscFunctionBegin;
  PetscCall(AzLossSetUp(L));
  PetscCall(AzProblemGetInfo(L->prob, &pinfo));
  PetscCheck(L->proj_mode == AZ_CONSERVE_PROBCONSERV, L->comm, PETSC_ERR_ARG_WRONGSTATE, "AzLossProbConserv: the loss's laws are not imposed by probconserv (-az_conservation probconserv)");
  stop = MapIndex(L);
  PetscCheck(stop >= 0, L->comm, PETSC_ERR_PLIB, "AzLossProbConserv: no probconserv map in the chain");
  map = AzChainGetMap(L->chain, stop);
  pc  = (ProbConserv *)map->data;
  PetscCheck(!pc->dtheta, L->comm, PETSC_ERR_ARG_WRONGSTATE, "AzLossProbConserv: the update is already in place");
  PetscCall(AzLaplaceGetNumConditions(lap, &ncond));
  PetscCheck(!ncond, L->comm, PETSC_ERR_ARG_WRONGSTATE, "AzLossProbConserv: the Laplace approximation is already conditioned: create it again at the trained θ");
  PetscCall(AzInferSync(L));
  T  = L->pc_times;
  nl = P->nlaw;
  np = L->nparam;
  m  = T * nl;
  PetscCallMPI(MPI_Comm_rank(L->comm, &rank));
  PetscCallMPI(MPI_Comm_size(L->comm, &size));
  /* the times shared out over the ranks, then summed: exact, each row has one rank's values */
  {
    PetscScalar *Aloc, *rloc;
    const PetscInt Ljet = L->ncomp * L->nslot, t0i = (PetscInt)((PetscInt64)T * rank / size), t1i = (PetscInt)((PetscInt64)T * (rank + 1) / size);
    PetscCall(PetscCalloc2((size_t)m * np, &Aloc, m, &rloc));
    PetscCall(PetscMalloc2((size_t)P->nq * nl * Ljet, &rows, (size_t)32 * nl * np, &jac));
    for (PetscInt k = t0i; k < t1i; k++) {
      const PetscReal t = T == 1 ? pinfo->t1 : pinfo->t0 + (pinfo->t1 - pinfo->t0) * k / (T - 1);
      PetscCall(RowsAt(L, stop, t, rows, jac, Aloc + (size_t)k * nl * np, rloc + k * nl));
    }
    PetscCall(PetscFree2(rows, jac));
    PetscCall(PetscMalloc2((size_t)m * np, &A, m, &r));
    PetscCall(MPIU_Allreduce(Aloc, A, (PetscMPIInt)(m * np), MPIU_SCALAR, MPIU_SUM, L->comm));
    PetscCall(MPIU_Allreduce(rloc, r, (PetscMPIInt)m, MPIU_SCALAR, MPIU_SUM, L->comm));
    PetscCall(PetscFree2(Aloc, rloc));
  }
  PetscCall(PetscMalloc1(np, &dth));
  {
    /* a refusal of the conditioning says which options change it */
    PetscErrorCode ierr;
    PetscCall(PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
    ierr = AzLaplaceCondition(lap, m, A, r, L->pc_sigma * L->pc_sigma, dth);
    PetscCall(PetscPopErrorHandler());
    if (ierr) {
      const char *text;
      char       *specific = NULL;
      PetscCall(PetscErrorMessage(ierr, &text, &specific));
      PetscCall(PetscFree(dth));
      PetscCall(PetscFree2(A, r));
      SETERRQ(L->comm, ierr, "-az_conservation probconserv: %s. The %" PetscInt_FMT " constraints are %" PetscInt_FMT " times x %" PetscInt_FMT " laws: use fewer -az_probconserv_times or -az_probconserv_sigma > 0", specific && specific[0] ? specific : text, m, T, nl);
    }
  }
  pc->info.m           = m;
  pc->info.ntimes      = T;
  pc->info.sigma       = L->pc_sigma;
  pc->info.misfit      = 0;
  pc->info.misfit_after = 0;
  pc->info.dtheta_norm = 0;
  for (PetscInt i = 0; i < np; i++) pc->info.dtheta_norm += PetscRealPart(dth[i] * dth[i]);
  pc->info.dtheta_norm = PetscSqrtReal(pc->info.dtheta_norm);
  for (PetscInt k = 0; k < m; k++) {
    PetscScalar after = r[k];
    for (PetscInt i = 0; i < np; i++) after += A[(size_t)k * np + i] * dth[i];
    pc->info.misfit       = PetscMax(pc->info.misfit, PetscAbsScalar(r[k]));
    pc->info.misfit_after = PetscMax(pc->info.misfit_after, PetscAbsScalar(after));
  }
  PetscCall(AzFieldGetParameters(L->field, &theta));
  PetscCall(VecDuplicate(theta, &pc->dtheta));
  {
    PetscScalar *v;
    PetscInt     n;
    PetscCall(VecGetLocalSize(pc->dtheta, &n));
    PetscCheck(n == np, PETSC_COMM_SELF, PETSC_ERR_PLIB, "AzLossProbConserv: θ has %" PetscInt_FMT " local entries, the loss %" PetscInt_FMT, n, np);
    PetscCall(VecGetArray(pc->dtheta, &v));
    PetscCall(PetscArraycpy(v, dth, np));
    PetscCall(VecRestoreArray(pc->dtheta, &v));
  }
  PetscCall(ThetaState(L, &pc->state));
  PetscCall(PetscFree(dth));
  PetscCall(PetscFree2(A, r));
  if (info) *info = pc->info;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzLossGetProbConserv(AzLoss L, PetscBool *on, PetscBool *applied, AzProbConservInfo *info)
{
  PetscInt i;

  PetscFunctionBegin;
  PetscCall(AzLossSetUp(L));
  i = MapIndex(L);
  if (on) *on = i >= 0 ? PETSC_TRUE : PETSC_FALSE;
  if (applied) *applied = i >= 0 && ((ProbConserv *)AzChainGetMap(L->chain, i)->data)->dtheta ? PETSC_TRUE : PETSC_FALSE;
  if (info) {
    PetscCall(PetscMemzero(info, sizeof *info));
    if (i >= 0) *info = ((ProbConserv *)AzChainGetMap(L->chain, i)->data)->info;
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}
