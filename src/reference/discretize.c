/* The method of lines on the DMDA: the plugin's residuals at every node, evaluated with
 * finite-difference jets, and their Jacobian (exact by the chain rule through the stencils, or by
 * colored differences).
 *
 *   interior node:    r(x, t, jet(y, y')) = 0     (the PDE)
 *   boundary node:    r_face(x, t, jet(y, y')) = 0 (Dirichlet: u - g; Neumann: one-sided u_n ...)
 *   explicit form:    y' = f(y) = -A^{-1} r(jet with u_t = 0), A = dr/du_t, and y' = dg/dt on a
 *                     Dirichlet face, whose nodes always hold g(t) when the interior is evaluated. */
#include "refimpl.h"

/* the owned and ghosted boxes of this rank, 3-D even for a 1-D grid */
typedef struct {
  PetscInt xs[3], xm[3], gs[3], gm[3];
} Box;

static PetscErrorCode GetBox(AzReference ref, Box *b)
{
  PetscFunctionBegin;
  PetscCall(DMDAGetCorners(ref->da, &b->xs[0], &b->xs[1], &b->xs[2], &b->xm[0], &b->xm[1], &b->xm[2]));
  PetscCall(DMDAGetGhostCorners(ref->da, &b->gs[0], &b->gs[1], &b->gs[2], &b->gm[0], &b->gm[1], &b->gm[2]));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* index of a node in the ghosted local array, and of an owned node in the global array */
static inline PetscInt LocalIndex(const Box *b, const PetscInt idx[])
{
  return ((idx[2] - b->gs[2]) * b->gm[1] + (idx[1] - b->gs[1])) * b->gm[0] + (idx[0] - b->gs[0]);
}
static inline PetscInt OwnedIndex(const Box *b, const PetscInt idx[])
{
  return ((idx[2] - b->xs[2]) * b->xm[1] + (idx[1] - b->xs[1])) * b->xm[0] + (idx[0] - b->xs[0]);
}

#define FOR_OWNED(b, idx) \
  for (idx[2] = (b).xs[2]; idx[2] < (b).xs[2] + (b).xm[2]; idx[2]++) \
    for (idx[1] = (b).xs[1]; idx[1] < (b).xs[1] + (b).xm[1]; idx[1]++) \
      for (idx[0] = (b).xs[0]; idx[0] < (b).xs[0] + (b).xm[0]; idx[0]++)

static inline void NodeCoords(AzReference ref, const PetscInt idx[], PetscReal t, PetscReal x[])
{
  for (PetscInt a = 0; a < ref->dim; a++) x[a] = ref->lo[a] + idx[a] * ref->h[a];
  if (ref->td) x[ref->dim] = t;
}

static PetscErrorCode CallPointFn(AzReference ref, AzPointFn fn, const PetscReal x[], PetscInt face, PetscScalar u[])
{
  const PetscReal *param;
  AzPoint          p;

  PetscFunctionBegin;
  PetscCall(AzProblemGetParams(ref->prob, &param));
  p = (AzPoint){x, ref->ncoord, param, face};
  PetscCall(fn(&p, u));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The jet at a node: every declared slot from its stencil; undeclared slots stay NaN. y' may be
 * NULL (steady, or the explicit form, which sets u_t itself): then u_t reads 0. */
static void BuildJet(AzReference ref, const Box *b, const PetscInt idx[], const PetscScalar *y, const PetscScalar *yp, PetscScalar jet[])
{
  const PetscInt nc = ref->ncomp, base = LocalIndex(b, idx);
  AzRefEntry     e[AZ_REF_MAX_ENTRIES];
  PetscInt       ne;

  for (PetscInt q = 0; q < nc * ref->nslot; q++) jet[q] = (PetscScalar)NAN;
  for (PetscInt s = 0; s < ref->nslots; s++) {
    const AzRefSlot *sl = &ref->slots[s];

    AzRefSlotEntries(ref, idx, sl, e, &ne);
    for (PetscInt c = 0; c < nc; c++) jet[c * ref->nslot + sl->slot] = 0;
    for (PetscInt q = 0; q < ne; q++) {
      const PetscScalar *f = e[q].field ? yp : y;
      const PetscInt     l = base + e[q].off[0] + b->gm[0] * (e[q].off[1] + b->gm[1] * e[q].off[2]);

      if (!f) continue;
      for (PetscInt c = 0; c < nc; c++) jet[c * ref->nslot + sl->slot] += e[q].w * f[l * nc + c];
    }
  }
}

/* Solve the small dense system A x = r in place (A is n x n, row major; partial pivoting). */
static PetscBool SmallSolve(PetscInt n, PetscScalar A[], PetscScalar r[], PetscInt nrhs)
{
  for (PetscInt k = 0; k < n; k++) {
    PetscInt p = k;
    for (PetscInt i = k + 1; i < n; i++)
      if (PetscAbsScalar(A[i * n + k]) > PetscAbsScalar(A[p * n + k])) p = i;
    if (PetscAbsScalar(A[p * n + k]) == 0) return PETSC_FALSE;
    for (PetscInt j = 0; j < n; j++) {
      PetscScalar t = A[k * n + j];
      A[k * n + j]  = A[p * n + j];
      A[p * n + j]  = t;
    }
    for (PetscInt j = 0; j < nrhs; j++) {
      PetscScalar t  = r[k * nrhs + j];
      r[k * nrhs + j] = r[p * nrhs + j];
      r[p * nrhs + j] = t;
    }
    for (PetscInt i = k + 1; i < n; i++) {
      const PetscScalar f = A[i * n + k] / A[k * n + k];
      for (PetscInt j = k; j < n; j++) A[i * n + j] -= f * A[k * n + j];
      for (PetscInt j = 0; j < nrhs; j++) r[i * nrhs + j] -= f * r[k * nrhs + j];
    }
  }
  for (PetscInt k = n - 1; k >= 0; k--) {
    for (PetscInt j = 0; j < nrhs; j++) {
      PetscScalar s = r[k * nrhs + j];
      for (PetscInt i = k + 1; i < n; i++) s -= A[k * n + i] * r[i * nrhs + j];
      r[k * nrhs + j] = s / A[k * n + k];
    }
  }
  return PETSC_TRUE;
}

/* u_t at an interior node for the explicit form: r(u_t) = r0 + A u_t is affine, so u_t = -A^{-1} r0. */
static PetscErrorCode ExplicitRate(AzReference ref, const PetscReal x[], PetscScalar jet[], PetscScalar f[])
{
  const PetscInt nc = ref->ncomp;
  PetscScalar    r0[AZ_MAX_COMP], r1[AZ_MAX_COMP], A[AZ_MAX_COMP * AZ_MAX_COMP];

  PetscFunctionBegin;
  PetscCall(AzProblemEvaluateResidual(ref->prob, AZ_COND_INTERIOR, x, jet, r0, NULL));
  for (PetscInt c = 0; c < nc; c++) {
    jet[c * ref->nslot + ref->tslot] = 1;
    PetscCall(AzProblemEvaluateResidual(ref->prob, AZ_COND_INTERIOR, x, jet, r1, NULL));
    jet[c * ref->nslot + ref->tslot] = 0;
    for (PetscInt k = 0; k < nc; k++) A[k * nc + c] = r1[k] - r0[k];
  }
  for (PetscInt k = 0; k < nc; k++) f[k] = -r0[k];
  if (!SmallSolve(nc, A, f, 1)) {
    for (PetscInt k = 0; k < nc; k++) f[k] = (PetscScalar)NAN; /* the caller reports it */
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzRefExplicitRate(AzReference ref, const PetscReal x[], PetscScalar jet[], PetscScalar f[])
{
  PetscFunctionBegin;
  PetscCall(ExplicitRate(ref, x, jet, f));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Dirichlet data g(x, t) into the nodes of Dirichlet faces: of the owned nodes of a global vector,
 * or of every node (ghosts included) of a local one. Nodes on other faces are left alone. */
static PetscErrorCode ApplyDirichlet(AzReference ref, PetscReal t, Vec v, PetscBool ghosted)
{
  Box          b;
  PetscInt     idx[3] = {0, 0, 0}, lo[3], hi[3];
  PetscScalar *a;
  PetscReal    x[AZ_MAX_COORD];

  PetscFunctionBegin;
  PetscCall(GetBox(ref, &b));
  for (PetscInt d = 0; d < 3; d++) {
    lo[d] = ghosted ? b.gs[d] : b.xs[d];
    hi[d] = lo[d] + (ghosted ? b.gm[d] : b.xm[d]);
  }
  PetscCall(VecGetArray(v, &a));
  for (idx[2] = lo[2]; idx[2] < hi[2]; idx[2]++)
    for (idx[1] = lo[1]; idx[1] < hi[1]; idx[1]++)
      for (idx[0] = lo[0]; idx[0] < hi[0]; idx[0]++) {
        const PetscInt cond = AzRefNodeCondition(ref, idx);
        PetscInt       l;

        if (cond < 0 || ref->info->boundary[cond].type != AZ_BC_DIRICHLET || !ref->info->boundary[cond].value) continue;
        l = ghosted ? LocalIndex(&b, idx) : OwnedIndex(&b, idx);
        NodeCoords(ref, idx, t, x);
        PetscCall(CallPointFn(ref, ref->info->boundary[cond].value, x, cond, a + l * ref->ncomp));
      }
  PetscCall(VecRestoreArray(v, &a));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzRefFormFunction(AzReference ref, AzRefForm form, PetscReal t, Vec Y, Vec Yp, Vec F, PetscBool *bad)
{
  const PetscInt     nc = ref->ncomp;
  const PetscScalar *y, *yp = NULL;
  PetscScalar       *f, jet[AZ_MAX_COMP * AZ_JET_MAX_NSLOT];
  PetscReal          x[AZ_MAX_COORD];
  PetscInt           idx[3] = {0, 0, 0}, nonfinite = 0;
  Box                b;

  PetscFunctionBegin;
  if (ref->method == AZ_REFERENCE_FV) {
    PetscCall(AzRefFVFunction(ref, form, t, Y, Yp, F, bad));
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  PetscCall(PetscLogEventBegin(AZ_REF_Residual, 0, 0, 0, 0));
  PetscCall(GetBox(ref, &b));
  PetscCall(DMGlobalToLocal(ref->da, Y, INSERT_VALUES, ref->yloc));
  if (form == AZ_REF_FORM_RHS) PetscCall(ApplyDirichlet(ref, t, ref->yloc, PETSC_TRUE));
  if (form == AZ_REF_FORM_DAE) PetscCall(DMGlobalToLocal(ref->da, Yp, INSERT_VALUES, ref->yploc));
  PetscCall(VecGetArrayRead(ref->yloc, &y));
  if (form == AZ_REF_FORM_DAE) PetscCall(VecGetArrayRead(ref->yploc, &yp));
  PetscCall(VecGetArray(F, &f));
  FOR_OWNED(b, idx)
  {
    const PetscInt cond = AzRefNodeCondition(ref, idx);
    PetscScalar   *r    = f + OwnedIndex(&b, idx) * nc;

    NodeCoords(ref, idx, t, x);
    BuildJet(ref, &b, idx, y, yp, jet);
    if (form != AZ_REF_FORM_RHS) PetscCall(AzProblemEvaluateResidual(ref->prob, cond, x, jet, r, NULL));
    else if (cond == AZ_COND_INTERIOR || ref->info->boundary[cond].type != AZ_BC_DIRICHLET) PetscCall(ExplicitRate(ref, x, jet, r));
    else {
      /* dg/dt by fourth-order differences in time */
      const PetscReal dt = 1e-3 * PetscMax(ref->info->t1 - ref->info->t0, 1e-8), off[4] = {-2, -1, 1, 2}, c[4] = {1, -8, 8, -1};
      PetscScalar     g[AZ_MAX_COMP];

      for (PetscInt k = 0; k < nc; k++) r[k] = 0;
      for (PetscInt q = 0; q < 4; q++) {
        x[ref->dim] = t + off[q] * dt;
        PetscCall(CallPointFn(ref, ref->info->boundary[cond].value, x, cond, g));
        for (PetscInt k = 0; k < nc; k++) r[k] += c[q] * g[k] / (12 * dt);
      }
    }
    for (PetscInt k = 0; k < nc; k++)
      if (PetscIsInfOrNanScalar(r[k])) nonfinite = 1;
  }
  PetscCall(VecRestoreArray(F, &f));
  PetscCall(VecRestoreArrayRead(ref->yloc, &y));
  if (yp) PetscCall(VecRestoreArrayRead(ref->yploc, &yp));
  /* every rank must give SUNDIALS the same answer */
  PetscCall(MPIU_Allreduce(MPI_IN_PLACE, &nonfinite, 1, MPIU_INT, MPI_MAX, ref->comm));
  if (bad) *bad = nonfinite ? PETSC_TRUE : PETSC_FALSE;
  if (nonfinite) {
    ref->nan_count++;
    ref->nan_t = t;
  }
  ref->stats.residual_evals++;
  PetscCall(PetscLogEventEnd(AZ_REF_Residual, 0, 0, 0, 0));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* ---- Jacobians ------------------------------------------------------------------------------- */

/* dF/dy + cj dF/dy' (DAE), dF/dy (steady), or cj I - df/dy (explicit form), exactly: the chain rule
 * through the stencils, d r/d y_m = sum over slots of d r/d slot * (weight of y_m in the slot). */
static PetscErrorCode InsertJet(AzReference ref, AzRefForm form, PetscReal t, Vec Y, Vec Yp, PetscReal cj, Mat J)
{
  const PetscInt     nc = ref->ncomp, L = nc * ref->nslot, cap = nc * ref->nslots * AZ_REF_MAX_ENTRIES + nc;
  const PetscScalar *y, *yp = NULL;
  PetscScalar        jet[AZ_MAX_COMP * AZ_JET_MAX_NSLOT], r[AZ_MAX_RES], *D, *vals;
  PetscReal          x[AZ_MAX_COORD];
  PetscInt           idx[3] = {0, 0, 0};
  MatStencil        *cols, row;
  AzRefEntry         e[AZ_REF_MAX_ENTRIES];
  Box                b;

  PetscFunctionBegin;
  PetscCall(GetBox(ref, &b));
  PetscCall(PetscMalloc3(AZ_MAX_RES * L, &D, cap, &vals, cap, &cols));
  PetscCall(DMGlobalToLocal(ref->da, Y, INSERT_VALUES, ref->yloc));
  if (form == AZ_REF_FORM_RHS) PetscCall(ApplyDirichlet(ref, t, ref->yloc, PETSC_TRUE));
  if (form == AZ_REF_FORM_DAE) PetscCall(DMGlobalToLocal(ref->da, Yp, INSERT_VALUES, ref->yploc));
  PetscCall(VecGetArrayRead(ref->yloc, &y));
  if (form == AZ_REF_FORM_DAE) PetscCall(VecGetArrayRead(ref->yploc, &yp));
  FOR_OWNED(b, idx)
  {
    const PetscInt  cond      = AzRefNodeCondition(ref, idx);
    const PetscBool dirichlet = (cond >= 0 && ref->info->boundary[cond].type == AZ_BC_DIRICHLET) ? PETSC_TRUE : PETSC_FALSE;

    row = (MatStencil){idx[2], idx[1], idx[0], 0};
    if (form == AZ_REF_FORM_RHS && dirichlet) { /* y' = dg/dt does not depend on y */
      for (PetscInt k = 0; k < nc; k++) {
        row.c = k;
        PetscCall(MatSetValuesStencil(J, 1, &row, 1, &row, &cj, ADD_VALUES));
      }
      continue;
    }
    NodeCoords(ref, idx, t, x);
    BuildJet(ref, &b, idx, y, yp, jet);
    PetscCall(AzProblemEvaluateResidual(ref->prob, cond, x, jet, r, D));
    if (form == AZ_REF_FORM_RHS) { /* rows of A^{-1} dr/djet with A = dr/du_t: then -df/dy = A^{-1} dr/dy */
      PetscScalar A[AZ_MAX_COMP * AZ_MAX_COMP];
      for (PetscInt k = 0; k < nc; k++)
        for (PetscInt c = 0; c < nc; c++) A[k * nc + c] = D[k * L + c * ref->nslot + ref->tslot];
      PetscCheck(SmallSolve(nc, A, D, L), PETSC_COMM_SELF, PETSC_ERR_ARG_WRONG, "Problem %s: the interior residual does not determine u_t at x = %g (dr/du_t is singular), so it is not explicit in time: use -az_ref_integrator ida", ref->info->name, (double)x[0]);
    }
    for (PetscInt k = 0; k < nc; k++) {
      PetscInt ncols = 0;

      row.c = k;
      for (PetscInt c = 0; c < nc; c++)
        for (PetscInt s = 0; s < ref->nslots; s++) {
          const AzRefSlot  *sl = &ref->slots[s];
          const PetscScalar d  = D[k * L + c * ref->nslot + sl->slot];
          PetscInt          ne;

          if (form == AZ_REF_FORM_RHS && sl->slot == ref->tslot) continue;
          /* a Dirichlet row keeps only what its residual reads, so its pattern stays diagonal */
          if (dirichlet && d == 0) continue;
          AzRefSlotEntries(ref, idx, sl, e, &ne);
          for (PetscInt q = 0; q < ne; q++) {
            cols[ncols]   = (MatStencil){idx[2] + e[q].off[2], idx[1] + e[q].off[1], idx[0] + e[q].off[0], c};
            vals[ncols++] = d * e[q].w * (e[q].field ? cj : 1.0);
          }
        }
      if (form == AZ_REF_FORM_RHS) {
        cols[ncols]   = row;
        vals[ncols++] = cj;
      }
      PetscCall(MatSetValuesStencil(J, 1, &row, ncols, cols, vals, ADD_VALUES));
    }
  }
  PetscCall(VecRestoreArrayRead(ref->yloc, &y));
  if (yp) PetscCall(VecRestoreArrayRead(ref->yploc, &yp));
  PetscCall(MatAssemblyBegin(J, MAT_FINAL_ASSEMBLY));
  PetscCall(MatAssemblyEnd(J, MAT_FINAL_ASSEMBLY));
  PetscCall(PetscFree3(D, vals, cols));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The pattern is found once, by inserting into a MATPREALLOCATOR (DMDA's preallocation would hold
 * the full stencil width, and the one-sided stencils make that wide), then values are added. */
static PetscErrorCode AssembleJet(AzReference ref, AzRefForm form, PetscReal t, Vec Y, Vec Yp, PetscReal cj, Mat J)
{
  PetscFunctionBegin;
  if (!ref->jprealloc) {
    Mat                    P;
    PetscInt               m, n, M, N, starts[3], dims[3];
    ISLocalToGlobalMapping l2g;

    PetscCall(MatGetLocalSize(J, &m, &n));
    PetscCall(MatGetSize(J, &M, &N));
    PetscCall(MatCreate(ref->comm, &P));
    PetscCall(MatSetType(P, MATPREALLOCATOR));
    PetscCall(MatSetSizes(P, m, n, M, N));
    PetscCall(DMGetLocalToGlobalMapping(ref->da, &l2g));
    PetscCall(MatSetLocalToGlobalMapping(P, l2g, l2g));
    PetscCall(DMDAGetGhostCorners(ref->da, &starts[0], &starts[1], &starts[2], &dims[0], &dims[1], &dims[2]));
    PetscCall(MatSetStencil(P, ref->dim, dims, starts, ref->ncomp));
    PetscCall(MatSetUp(P));
    PetscCall(InsertJet(ref, form, t, Y, Yp, cj, P));
    PetscCall(MatPreallocatorPreallocate(P, PETSC_TRUE, J));
    PetscCall(MatDestroy(&P));
    PetscCall(MatSetOption(J, MAT_NEW_NONZERO_ALLOCATION_ERR, PETSC_FALSE));
    PetscCall(MatSetOption(J, MAT_SORTED_FULL, PETSC_FALSE)); /* our rows come in pieces, unsorted */
    ref->jprealloc = PETSC_TRUE;
  }
  PetscCall(MatZeroEntries(J));
  PetscCall(InsertJet(ref, form, t, Y, Yp, cj, J));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The function MatFDColoring differences: G(y) = F(t, y, y'0 + cj (y - y0)), F(y), or cj y - f(y). */
static PetscErrorCode ColoredFunction(void *unused, Vec Y, Vec G, void *ctx)
{
  AzReference ref = (AzReference)ctx;

  PetscFunctionBegin;
  (void)unused;
  switch (ref->cform) {
  case AZ_REF_FORM_DAE:
    PetscCall(VecWAXPY(ref->work, -1.0, ref->cy0, Y));
    PetscCall(VecAYPX(ref->work, ref->ccj, ref->cyp0));
    PetscCall(AzRefFormFunction(ref, AZ_REF_FORM_DAE, ref->ct, Y, ref->work, G, NULL));
    break;
  case AZ_REF_FORM_STEADY:
    PetscCall(AzRefFormFunction(ref, AZ_REF_FORM_STEADY, ref->ct, Y, NULL, G, NULL));
    break;
  case AZ_REF_FORM_RHS:
    PetscCall(AzRefFormFunction(ref, AZ_REF_FORM_RHS, ref->ct, Y, NULL, G, NULL));
    PetscCall(VecAXPBY(G, ref->ccj, -1.0, Y));
    break;
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzRefAssembleJacobian(AzReference ref, AzRefForm form, PetscReal t, Vec Y, Vec Yp, PetscReal cj, Mat J)
{
  PetscFunctionBegin;
  ref->stats.jacobian_evals++;
  if (ref->jactype == AZ_REF_JAC_JET && ref->method != AZ_REFERENCE_FV) {
    PetscCall(PetscLogEventBegin(AZ_REF_Jacobian, 0, 0, 0, 0));
    PetscCall(AssembleJet(ref, form, t, Y, Yp, cj, J));
    PetscCall(PetscLogEventEnd(AZ_REF_Jacobian, 0, 0, 0, 0));
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  if (!ref->fdc) {
    ISColoring iscoloring;

    PetscCall(DMCreateColoring(ref->da, IS_COLORING_GLOBAL, &iscoloring));
    PetscCall(MatFDColoringCreate(J, iscoloring, &ref->fdc));
    PetscCall(MatFDColoringSetFunction(ref->fdc, (PetscErrorCode(*)(void))(void (*)(void))ColoredFunction, ref));
    PetscCall(PetscObjectSetOptionsPrefix((PetscObject)ref->fdc, "az_ref_"));
    PetscCall(MatFDColoringSetFromOptions(ref->fdc));
    PetscCall(MatFDColoringSetUp(J, iscoloring, ref->fdc));
    PetscCall(ISColoringDestroy(&iscoloring));
    PetscCall(DMCreateGlobalVector(ref->da, &ref->cy0));
    PetscCall(VecDuplicate(ref->cy0, &ref->cyp0));
  }
  ref->cform = form;
  ref->ct    = t;
  ref->ccj   = cj;
  PetscCall(VecCopy(Y, ref->cy0));
  if (Yp) PetscCall(VecCopy(Yp, ref->cyp0));
  PetscCall(MatFDColoringApply(J, ref->fdc, Y, ref));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* ---- initial state, differential components, the explicit form --------------------------------- */

/* u(x, t0) from the plugin's initial_value (steady: 0), with the Dirichlet data on Dirichlet faces. */
PetscErrorCode AzRefInitialState(AzReference ref, PetscReal t, Vec Y)
{
  PetscScalar *a;
  PetscReal    x[AZ_MAX_COORD];
  PetscInt     idx[3] = {0, 0, 0};
  Box          b;

  PetscFunctionBegin;
  PetscCheck(!ref->td || ref->info->initial_value, ref->comm, PETSC_ERR_ARG_WRONG, "Problem %s gives no initial_value: the reference solver starts from u(x, t0) = initial_value(x), so the plugin must define it", ref->info->name);
  if (ref->method == AZ_REFERENCE_FV) {
    PetscCall(AzRefFVInitialState(ref, t, Y));
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  PetscCall(GetBox(ref, &b));
  PetscCall(VecGetArray(Y, &a));
  FOR_OWNED(b, idx)
  {
    PetscScalar *u = a + OwnedIndex(&b, idx) * ref->ncomp;

    NodeCoords(ref, idx, t, x);
    if (ref->td) PetscCall(CallPointFn(ref, ref->info->initial_value, x, -1, u));
    else
      for (PetscInt c = 0; c < ref->ncomp; c++) u[c] = 0;
  }
  PetscCall(VecRestoreArray(Y, &a));
  PetscCall(ApplyDirichlet(ref, t, Y, PETSC_FALSE));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* IDA's id vector: 1 for a differential unknown (its node's equations read its u_t), 0 for an algebraic
 * one (boundary conditions, constraints), judged from dr/djet at the initial state. */
PetscErrorCode AzRefDifferentialId(AzReference ref, PetscReal t, Vec Y, Vec id)
{
  const PetscInt     nc = ref->ncomp, L = nc * ref->nslot;
  const PetscScalar *y;
  PetscScalar       *ida, jet[AZ_MAX_COMP * AZ_JET_MAX_NSLOT], r[AZ_MAX_RES], *D;
  PetscReal          x[AZ_MAX_COORD];
  PetscInt           idx[3] = {0, 0, 0};
  Box                b;

  PetscFunctionBegin;
  if (ref->method == AZ_REFERENCE_FV) { /* every cell average obeys d/dt ū = rate: all differential */
    PetscCall(VecSet(id, 1.0));
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  PetscCall(GetBox(ref, &b));
  PetscCall(PetscMalloc1(AZ_MAX_RES * L, &D));
  PetscCall(DMGlobalToLocal(ref->da, Y, INSERT_VALUES, ref->yloc));
  PetscCall(VecZeroEntries(ref->yploc));
  PetscCall(VecGetArrayRead(ref->yloc, &y));
  PetscCall(VecGetArray(id, &ida));
  FOR_OWNED(b, idx)
  {
    const PetscInt cond = AzRefNodeCondition(ref, idx);
    PetscScalar   *out  = ida + OwnedIndex(&b, idx) * nc;

    NodeCoords(ref, idx, t, x);
    BuildJet(ref, &b, idx, y, NULL, jet);
    for (PetscInt c = 0; c < nc; c++) jet[c * ref->nslot + ref->tslot] = 0;
    PetscCall(AzProblemEvaluateResidual(ref->prob, cond, x, jet, r, D));
    for (PetscInt c = 0; c < nc; c++) {
      out[c] = 0;
      for (PetscInt k = 0; k < nc; k++)
        for (PetscInt s = 0; s < ref->nslots; s++) {
          const AzRefSlot *sl = &ref->slots[s];
          if ((sl->a == ref->dim || sl->b == ref->dim) && sl->m >= 1 && D[k * L + c * ref->nslot + sl->slot] != 0) out[c] = 1;
        }
    }
  }
  PetscCall(VecRestoreArray(id, &ida));
  PetscCall(VecRestoreArrayRead(ref->yloc, &y));
  PetscCall(PetscFree(D));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* CVODE and ARKODE need y' = f(y): every face Dirichlet with data (or periodic), no mixed derivative
 * in time and space, and a residual affine in u_t (checked at the initial state, node by node). */
PetscErrorCode AzRefCheckExplicit(AzReference ref)
{
  const PetscInt     nc = ref->ncomp;
  const PetscScalar *y;
  PetscScalar        jet[AZ_MAX_COMP * AZ_JET_MAX_NSLOT], f[AZ_MAX_COMP], r[AZ_MAX_RES];
  PetscReal          x[AZ_MAX_COORD], worst = 0;
  PetscInt           idx[3] = {0, 0, 0};
  Vec                Y;
  Box                b;

  PetscFunctionBegin;
  if (ref->method == AZ_REFERENCE_FV) PetscFunctionReturn(PETSC_SUCCESS); /* y' = rate(y) by construction, on any face it supports */
  for (PetscInt face = 0; face < 2 * ref->dim; face++) {
    const AzBoundaryInfo *bc = &ref->info->boundary[face];
    PetscCheck(bc->type == AZ_BC_PERIODIC || (bc->type == AZ_BC_DIRICHLET && bc->value), ref->comm, PETSC_ERR_SUP, "-az_ref_integrator %s needs every face of problem %s to be periodic or Dirichlet with data (.value), but face %" PetscInt_FMT " is not: its boundary condition is algebraic, so use -az_ref_integrator ida", AzRefIntegratorNames[ref->integrator], ref->info->name, face);
  }
  for (PetscInt s = 0; s < ref->nslots; s++) {
    const AzRefSlot *sl = &ref->slots[s];
    PetscCheck(!(sl->m == 2 && sl->a != sl->b && sl->b == ref->dim), ref->comm, PETSC_ERR_SUP, "Problem %s reads a mixed derivative in space and time, so it is not explicit in time: use -az_ref_integrator ida", ref->info->name);
  }
  PetscCall(DMGetGlobalVector(ref->da, &Y));
  PetscCall(AzRefInitialState(ref, ref->info->t0, Y));
  PetscCall(GetBox(ref, &b));
  PetscCall(DMGlobalToLocal(ref->da, Y, INSERT_VALUES, ref->yloc));
  PetscCall(VecGetArrayRead(ref->yloc, &y));
  FOR_OWNED(b, idx)
  {
    PetscReal scale = 1;

    if (AzRefNodeCondition(ref, idx) != AZ_COND_INTERIOR) continue;
    NodeCoords(ref, idx, ref->info->t0, x);
    BuildJet(ref, &b, idx, y, NULL, jet);
    for (PetscInt c = 0; c < nc; c++) jet[c * ref->nslot + ref->tslot] = 0;
    PetscCall(ExplicitRate(ref, x, jet, f));
    for (PetscInt c = 0; c < nc; c++) {
      PetscCheck(!PetscIsInfOrNanScalar(f[c]), PETSC_COMM_SELF, PETSC_ERR_ARG_WRONG, "Problem %s: at x = %g the interior residual does not determine u_t of component %" PetscInt_FMT ", so it is not explicit in time: use -az_ref_integrator ida", ref->info->name, (double)x[0], c);
      jet[c * ref->nslot + ref->tslot] = f[c];
      scale                            = PetscMax(scale, PetscAbsScalar(f[c]));
    }
    /* r(f) must vanish if r is affine in u_t */
    PetscCall(AzProblemEvaluateResidual(ref->prob, AZ_COND_INTERIOR, x, jet, r, NULL));
    for (PetscInt k = 0; k < nc; k++) worst = PetscMax(worst, PetscAbsScalar(r[k]) / scale);
  }
  PetscCall(VecRestoreArrayRead(ref->yloc, &y));
  PetscCall(DMRestoreGlobalVector(ref->da, &Y));
  PetscCall(MPIU_Allreduce(MPI_IN_PLACE, &worst, 1, MPIU_REAL, MPIU_MAX, ref->comm));
  PetscCheck(worst < 1e-8, ref->comm, PETSC_ERR_ARG_WRONG, "Problem %s: the interior residual is not affine in u_t (residual %g after solving for u_t), so it is not explicit in time: use -az_ref_integrator ida", ref->info->name, (double)worst);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Newton's linear solver (-az_ref_ksp_type, -az_ref_pc_type ... override). As the preconditioner of
 * a time integrator's (or KINSOL's) SPGMR, applied hundreds of times:
 *   serial:             LU;
 *   parallel:           additive Schwarz with LU on each rank's block, overlapping by the stencil
 *                       width (MUMPS's parallel triangular solves cost 14 ms each on 8192 nodes);
 *   2-D/3-D, scalar, more than 20000 unknowns: one BoomerAMG V-cycle (heat2d 256^2, order 4:
 *                       51 s with LU at every Jacobian, 6 s with BoomerAMG).
 * As SNES's linear solver (a few solves): LU, MUMPS in parallel; GMRES with BoomerAMG for a large
 * scalar 3-D grid, where LU fills in too much. */
PetscErrorCode AzRefSetUpLinearSolver(AzReference ref, KSP ksp, PetscBool inner)
{
  PC          pc;
  PetscMPIInt size;
  PetscInt    unknowns = ref->ncomp;

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_size(ref->comm, &size));
  for (PetscInt a = 0; a < ref->dim; a++) unknowns *= ref->n[a];
  PetscCall(KSPSetOptionsPrefix(ksp, "az_ref_"));
  PetscCall(KSPSetType(ksp, KSPPREONLY));
  PetscCall(KSPGetPC(ksp, &pc));
#if defined(PETSC_HAVE_HYPRE)
  if (inner && ref->dim >= 2 && ref->ncomp == 1 && unknowns > 20000) {
    PetscCall(PCSetType(pc, PCHYPRE));
    PetscCall(KSPSetFromOptions(ksp));
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  if (!inner && ref->dim == 3 && ref->ncomp == 1 && unknowns > 20000) { /* a 3-D LU fills in too much */
    PetscCall(KSPSetType(ksp, KSPGMRES));
    PetscCall(KSPSetTolerances(ksp, 1e-3 * ref->rtol, 0.0, PETSC_DEFAULT, 1000));
    PetscCall(PCSetType(pc, PCHYPRE));
    PetscCall(KSPSetFromOptions(ksp));
    PetscFunctionReturn(PETSC_SUCCESS);
  }
#endif
  if (size > 1 && ref->method == AZ_REFERENCE_FV && ref->dim == 1) {
    /* fv in 1-D: a direct solve, so that every Newton correction keeps the mass (a Krylov solve
     * preconditioned by ASM blocks keeps it only to the Krylov tolerance): the banded matrix is
     * gathered and factored by LU on every rank (PCREDUNDANT), far cheaper than MUMPS's distributed
     * triangular solves on a 1-D grid */
    PetscCall(PCSetType(pc, PCREDUNDANT));
    PetscCall(KSPSetFromOptions(ksp));
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  if (size > 1 && inner) {
    PetscBool set;

    PetscCall(PCSetType(pc, PCASM));
    PetscCall(PCASMSetOverlap(pc, ref->swidth));
    /* the blocks' solver is chosen through the options database: LU unless the user says otherwise */
    PetscCall(PetscOptionsHasName(NULL, NULL, "-az_ref_sub_pc_type", &set));
    if (!set) {
      PetscCall(PetscOptionsSetValue(NULL, "-az_ref_sub_pc_type", "lu"));
      /* ours, not the user's: a run that never builds the blocks (a cached reference) has not left it unused */
      PetscCall(PetscOptionsHasName(NULL, NULL, "-az_ref_sub_pc_type", &set));
    }
    PetscCall(KSPSetFromOptions(ksp));
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  PetscCall(PCSetType(pc, PCLU));
#if defined(PETSC_HAVE_MUMPS)
  if (size > 1) PetscCall(PCFactorSetMatSolverType(pc, MATSOLVERMUMPS));
#else
  if (size > 1) {
    PetscCall(PCSetType(pc, PCBJACOBI));
    PetscCall(KSPSetType(ksp, KSPGMRES));
  }
#endif
  PetscCall(KSPSetFromOptions(ksp));
  PetscFunctionReturn(PETSC_SUCCESS);
}
