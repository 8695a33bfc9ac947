/* A divergence-free 2-D velocity by construction: the curl of a stream function (see constraint.h). */
#include <ansatz/constraint.h>
#include <ansatz/compat.h>

struct _p_AzStream {
  PetscInt     ncoord, ncomp, nslot, a, b;
  PetscInt     mask;                                  /* the solution's slots (closed request) */
  AzJetRequest netreq;                                /* the network's: one order more */
  PetscInt     upx[AZ_JET_MAX_NSLOT], upy[AZ_JET_MAX_NSLOT]; /* slot of ∂_x ∂^α and ∂_y ∂^α */
  PetscInt     net[AZ_MAX_COMP];                      /* network component of solution component c (0: ψ) */
};

PetscErrorCode AzStreamCreate(AzProblem prob, PetscInt a, PetscInt b, AzStream *S)
{
  const AzProblemInfo *info;
  MPI_Comm             comm;
  AzJetRequest         req;
  AzStream             s;
  PetscInt             order, n, k = 1;

  PetscFunctionBegin;
  PetscCall(AzProblemGetInfo(prob, &info));
  PetscCall(AzProblemGetComm(prob, &comm));
  PetscCheck(info->dim == 2, comm, PETSC_ERR_ARG_WRONG, "-az_divfree: a stream function gives a divergence-free velocity in 2-D; problem %s has %" PetscInt_FMT " spatial dimension(s)", info->name, info->dim);
  PetscCheck(a >= 0 && b >= 0 && a < info->ncomp && b < info->ncomp && a != b, comm, PETSC_ERR_ARG_OUTOFRANGE, "-az_divfree_components %" PetscInt_FMT ",%" PetscInt_FMT ": need two different components of the %" PetscInt_FMT " of problem %s (the velocity along x, then along y)", a, b, info->ncomp, info->name);
  PetscCall(AzProblemGetJetRequest(prob, &req));
  PetscCall(AzJetRequestClose(&req));
  PetscCall(AzJetRequestMaxOrder(&req, &order));
  PetscCheck(order <= 1, comm, PETSC_ERR_SUP, "-az_divfree: problem %s reads derivatives of order %" PetscInt_FMT "; through a stream function they need mixed derivatives of order %" PetscInt_FMT " of psi, beyond the jets ansatz propagates (all first and second, pure third and fourth): a stream function works for first-order problems", info->name, order, order + 1);
  PetscCall(PetscNew(&s));
  PetscCall(AzProblemGetNumCoords(prob, &s->ncoord));
  n         = s->ncoord;
  s->ncomp  = info->ncomp;
  s->nslot  = AZ_JET_NSLOT(n);
  s->a      = a;
  s->b      = b;
  s->mask   = req.mask;
  s->netreq = req;
  for (PetscInt q = 0; q < s->nslot; q++) s->upx[q] = s->upy[q] = -1;
  s->upx[0] = AzJetSlotD1(n, 0);
  s->upy[0] = AzJetSlotD1(n, 1);
  for (PetscInt i = 0; i < n; i++) {
    s->upx[AzJetSlotD1(n, i)] = AzJetSlotD2(n, i, 0);
    s->upy[AzJetSlotD1(n, i)] = AzJetSlotD2(n, i, 1);
  }
  for (PetscInt q = 0; q < s->nslot; q++)
    if (s->mask & ((PetscInt)1 << q)) s->netreq.mask |= ((PetscInt)1 << s->upx[q]) | ((PetscInt)1 << s->upy[q]);
  PetscCall(AzJetRequestClose(&s->netreq));
  for (PetscInt c = 0; c < s->ncomp; c++) s->net[c] = (c == a || c == b) ? 0 : k++;
  *S = s;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzStreamDestroy(AzStream *S)
{
  PetscFunctionBegin;
  PetscCall(PetscFree(*S));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzStreamGetNetwork(AzStream S, PetscInt *ncomp, AzJetRequest *req)
{
  PetscFunctionBegin;
  if (ncomp) *ncomp = S->ncomp - 1;
  if (req) *req = S->netreq;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzStreamApply(AzStream S, PetscInt npts, const PetscScalar net[], PetscScalar sol[])
{
  const PetscInt ns = S->nslot, Ln = (S->ncomp - 1) * ns, Ls = S->ncomp * ns;

  PetscFunctionBegin;
  for (PetscInt p = 0; p < npts; p++) {
    const PetscScalar *N = net + p * Ln;
    PetscScalar       *u = sol + p * Ls;
    for (PetscInt c = 0; c < S->ncomp; c++)
      for (PetscInt q = 0; q < ns; q++) {
        if (!(S->mask & ((PetscInt)1 << q))) u[c * ns + q] = (PetscScalar)NAN;
        else if (c == S->a) u[c * ns + q] = N[S->upy[q]];  /* u_a = ∂ψ/∂y */
        else if (c == S->b) u[c * ns + q] = -N[S->upx[q]]; /* u_b = −∂ψ/∂x */
        else u[c * ns + q] = N[S->net[c] * ns + q];
      }
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzStreamAdjoint(AzStream S, PetscInt npts, PetscInt nrow, const PetscScalar solrows[], PetscScalar netrows[])
{
  const PetscInt ns = S->nslot, Ln = (S->ncomp - 1) * ns, Ls = S->ncomp * ns;

  PetscFunctionBegin;
  for (PetscInt r = 0; r < npts * nrow; r++) {
    const PetscScalar *ub = solrows + (size_t)r * Ls;
    PetscScalar       *nb = netrows + (size_t)r * Ln;
    for (PetscInt q = 0; q < Ln; q++) nb[q] = 0;
    for (PetscInt c = 0; c < S->ncomp; c++)
      for (PetscInt q = 0; q < ns; q++) {
        const PetscScalar w = ub[c * ns + q];
        if (!(S->mask & ((PetscInt)1 << q)) || w == 0) continue;
        if (c == S->a) nb[S->upy[q]] += w;
        else if (c == S->b) nb[S->upx[q]] -= w;
        else nb[S->net[c] * ns + q] += w;
      }
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzStreamCreateFromOptions(AzProblem prob, const char prefix[], AzStream *S)
{
  MPI_Comm  comm;
  PetscBool on = PETSC_FALSE, set = PETSC_FALSE;
  PetscInt  comps[8] = {0, 1}, n = 8; /* room for more than two: PETSc drops values beyond n silently */

  PetscFunctionBegin;
  *S = NULL;
  PetscCall(AzProblemGetComm(prob, &comm));
  PetscOptionsBegin(comm, prefix, "Divergence-free velocity by a stream function", "AzStream");
  PetscCall(PetscOptionsBool("-az_divfree", "the velocity is the curl of a stream function (exactly divergence-free)", "AzStreamCreate", on, &on, NULL));
  PetscCall(PetscOptionsIntArray("-az_divfree_components", "the velocity's components along x and y", "AzStreamCreate", comps, &n, &set));
  PetscOptionsEnd();
  if (!on) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCheck(!set || n == 2, comm, PETSC_ERR_ARG_SIZ, "-az_divfree_components takes two component numbers (the velocity along x, then y), not %" PetscInt_FMT, n);
  PetscCall(AzStreamCreate(prob, comps[0], comps[1], S));
  PetscFunctionReturn(PETSC_SUCCESS);
}
