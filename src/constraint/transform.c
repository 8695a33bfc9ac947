/* Hard constraints by transform, u = g + φ·N (see constraint.h). */
#include <ansatz/constraint.h>
#include <ansatz/compat.h>

struct _p_AzTransform {
  AzProblem            prob;
  const AzProblemInfo *info;
  MPI_Comm             comm;
  PetscInt             ncoord, ncomp, nslot;
  PetscInt             mask; /* slots propagated (the closed request) */
  PetscBool            hard[2 * AZ_MAX_DIM + 1];
  PetscReal            lo[AZ_MAX_COORD], hi[AZ_MAX_COORD];
};

/* out = a·b for full jets in n coordinates (Leibniz) */
static void JetMul(PetscInt n, const PetscScalar a[], const PetscScalar b[], PetscScalar out[])
{
  out[0] = a[0] * b[0];
  for (PetscInt i = 0; i < n; i++) {
    const PetscInt i1 = AzJetSlotD1(n, i), ii = AzJetSlotD2(n, i, i), i3 = AzJetSlotD3(n, i), i4 = AzJetSlotD4(n, i);
    out[i1] = a[i1] * b[0] + a[0] * b[i1];
    for (PetscInt j = i; j < n; j++) {
      const PetscInt j1 = AzJetSlotD1(n, j), ij = AzJetSlotD2(n, i, j);
      out[ij] = a[ij] * b[0] + a[i1] * b[j1] + a[j1] * b[i1] + a[0] * b[ij];
    }
    out[i3] = a[i3] * b[0] + 3 * a[ii] * b[i1] + 3 * a[i1] * b[ii] + a[0] * b[i3];
    out[i4] = a[i4] * b[0] + 4 * a[i3] * b[i1] + 6 * a[ii] * b[ii] + 4 * a[i1] * b[i3] + a[0] * b[i4];
  }
}

/* φ's jet at x: the product of the linear factors of the hard conditions (of the faces only, not of
 * the initial condition, when spatial_only) */
static void PhiJetFaces(AzTransform T, const PetscReal x[], PetscScalar phi[], PetscBool spatial_only)
{
  const PetscInt n = T->ncoord;
  PetscScalar    lin[AZ_JET_MAX_NSLOT], tmp[AZ_JET_MAX_NSLOT];

  for (PetscInt s = 0; s < T->nslot; s++) phi[s] = 0;
  phi[0] = 1;
  for (PetscInt f = 0; f <= AZ_COND_INITIAL; f++) {
    PetscInt  a;
    PetscReal L;
    if (!T->hard[f] || (spatial_only && f == AZ_COND_INITIAL)) continue;
    a = (f == AZ_COND_INITIAL) ? n - 1 : f / 2;
    L = T->hi[a] - T->lo[a];
    for (PetscInt s = 0; s < T->nslot; s++) lin[s] = 0;
    if (f != AZ_COND_INITIAL && f % 2) {
      lin[0]                  = (T->hi[a] - x[a]) / L;
      lin[AzJetSlotD1(n, a)]  = -1 / L;
    } else {
      lin[0]                  = (x[a] - T->lo[a]) / L;
      lin[AzJetSlotD1(n, a)]  = 1 / L;
    }
    JetMul(n, phi, lin, tmp);
    for (PetscInt s = 0; s < T->nslot; s++) phi[s] = tmp[s];
  }
}

static void PhiJet(AzTransform T, const PetscReal x[], PetscScalar phi[])
{
  PhiJetFaces(T, x, phi, PETSC_FALSE);
}

PetscErrorCode AzTransformShapeJet(AzTransform T, const PetscReal x[], PetscScalar s[])
{
  PetscFunctionBegin;
  PhiJetFaces(T, x, s, PETSC_TRUE);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* C[s][s'] (nslot × nslot, row-major) with u_s = Σ C[s][s'] N_s' for u = φ N */
static void LeibnizMatrix(PetscInt n, const PetscScalar phi[], PetscScalar C[])
{
  const PetscInt ns = AZ_JET_NSLOT(n);

  for (PetscInt q = 0; q < ns * ns; q++) C[q] = 0;
  C[0] = phi[0];
  for (PetscInt i = 0; i < n; i++) {
    const PetscInt i1 = AzJetSlotD1(n, i), ii = AzJetSlotD2(n, i, i), i3 = AzJetSlotD3(n, i), i4 = AzJetSlotD4(n, i);
    C[i1 * ns + 0]  = phi[i1];
    C[i1 * ns + i1] = phi[0];
    for (PetscInt j = i; j < n; j++) {
      const PetscInt j1 = AzJetSlotD1(n, j), ij = AzJetSlotD2(n, i, j);
      C[ij * ns + 0] = phi[ij];
      C[ij * ns + j1] += phi[i1];
      C[ij * ns + i1] += phi[j1];
      C[ij * ns + ij] = phi[0];
    }
    C[i3 * ns + 0]  = phi[i3];
    C[i3 * ns + i1] = 3 * phi[ii];
    C[i3 * ns + ii] = 3 * phi[i1];
    C[i3 * ns + i3] = phi[0];
    C[i4 * ns + 0]  = phi[i4];
    C[i4 * ns + i1] = 4 * phi[i3];
    C[i4 * ns + ii] = 6 * phi[ii];
    C[i4 * ns + i3] = 4 * phi[i1];
    C[i4 * ns + i4] = phi[0];
  }
}

PetscErrorCode AzTransformIsHard(AzTransform T, PetscInt cond, PetscBool *hard)
{
  PetscFunctionBegin;
  *hard = (cond >= 0 && cond <= AZ_COND_INITIAL) ? T->hard[cond] : PETSC_FALSE;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* one component's jet u ↦ g + C u (g NULL: C u) in the propagated slots; the others are left as they are */
static void MulC(AzTransform T, const PetscScalar C[], const PetscScalar g[], PetscScalar u[])
{
  const PetscInt ns = T->nslot;
  PetscScalar    N[AZ_JET_MAX_NSLOT];

  for (PetscInt s = 0; s < ns; s++) N[s] = u[s];
  for (PetscInt s = 0; s < ns; s++) {
    PetscScalar v;
    if (!(T->mask & ((PetscInt)1 << s))) continue; /* not propagated */
    v = g ? g[s] : 0;
    for (PetscInt q = 0; q < ns; q++)
      if (C[s * ns + q] != 0) v += C[s * ns + q] * N[q];
    u[s] = v;
  }
}

static PetscErrorCode ApplyPoints(AzTransform T, PetscInt npts, const PetscReal x[], PetscScalar jets[], PetscBool with_lift)
{
  const PetscInt ns = T->nslot, L = T->ncomp * ns;
  PetscScalar    phi[AZ_JET_MAX_NSLOT], C[AZ_JET_MAX_NSLOT * AZ_JET_MAX_NSLOT], g[AZ_MAX_COMP * AZ_JET_MAX_NSLOT];
  const PetscReal *param;

  PetscFunctionBegin;
  PetscCall(AzProblemGetParams(T->prob, &param));
  for (PetscInt p = 0; p < npts; p++) {
    const PetscReal *xp = x + p * T->ncoord;
    PhiJet(T, xp, phi);
    LeibnizMatrix(T->ncoord, phi, C);
    if (with_lift) {
      AzPoint pt = {xp, T->ncoord, param, -1};
      PetscCall(T->info->lift(&pt, g));
    }
    for (PetscInt c = 0; c < T->ncomp; c++) MulC(T, C, with_lift ? g + c * ns : NULL, jets + p * L + c * ns);
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* npts points, nblock jets of nslot slots each per point: every block b ↦ C b (the lift left out) */
PetscErrorCode AzTransformApplyLinearBlocks(AzTransform T, PetscInt npts, const PetscReal x[], PetscInt nblock, PetscScalar jets[])
{
  const PetscInt ns = T->nslot;
  PetscScalar    phi[AZ_JET_MAX_NSLOT], C[AZ_JET_MAX_NSLOT * AZ_JET_MAX_NSLOT];

  PetscFunctionBegin;
  for (PetscInt p = 0; p < npts; p++) {
    PhiJet(T, x + p * T->ncoord, phi);
    LeibnizMatrix(T->ncoord, phi, C);
    for (PetscInt b = 0; b < nblock; b++) MulC(T, C, NULL, jets + ((size_t)p * nblock + b) * ns);
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* the adjoint of AzTransformApplyLinearBlocks: every block b ↦ Cᵀ b (slots not propagated: 0) */
PetscErrorCode AzTransformAdjointBlocks(AzTransform T, PetscInt npts, const PetscReal x[], PetscInt nblock, PetscScalar rows[])
{
  const PetscInt ns = T->nslot;
  PetscScalar    phi[AZ_JET_MAX_NSLOT], C[AZ_JET_MAX_NSLOT * AZ_JET_MAX_NSLOT], ub[AZ_JET_MAX_NSLOT];

  PetscFunctionBegin;
  for (PetscInt p = 0; p < npts; p++) {
    PhiJet(T, x + p * T->ncoord, phi);
    LeibnizMatrix(T->ncoord, phi, C);
    for (PetscInt b = 0; b < nblock; b++) {
      PetscScalar *r = rows + ((size_t)p * nblock + b) * ns;
      for (PetscInt s = 0; s < ns; s++) ub[s] = (T->mask & ((PetscInt)1 << s)) ? r[s] : 0;
      for (PetscInt q = 0; q < ns; q++) {
        PetscScalar v = 0;
        if (!(T->mask & ((PetscInt)1 << q))) {
          r[q] = 0;
          continue;
        }
        for (PetscInt s = 0; s < ns; s++)
          if (C[s * ns + q] != 0) v += C[s * ns + q] * ub[s];
        r[q] = v;
      }
    }
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzTransformApply(AzTransform T, PetscInt npts, const PetscReal x[], PetscScalar jets[])
{
  PetscFunctionBegin;
  PetscCall(ApplyPoints(T, npts, x, jets, PETSC_TRUE));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzTransformApplyLinear(AzTransform T, PetscInt npts, const PetscReal x[], PetscScalar jets[])
{
  PetscFunctionBegin;
  PetscCall(ApplyPoints(T, npts, x, jets, PETSC_FALSE));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzTransformAdjoint(AzTransform T, PetscInt npts, const PetscReal x[], PetscInt nrow, PetscScalar rows[])
{
  const PetscInt ns = T->nslot, L = T->ncomp * ns;
  PetscScalar    phi[AZ_JET_MAX_NSLOT], C[AZ_JET_MAX_NSLOT * AZ_JET_MAX_NSLOT], ub[AZ_JET_MAX_NSLOT];

  PetscFunctionBegin;
  for (PetscInt p = 0; p < npts; p++) {
    PhiJet(T, x + p * T->ncoord, phi);
    LeibnizMatrix(T->ncoord, phi, C);
    for (PetscInt k = 0; k < nrow; k++)
      for (PetscInt c = 0; c < T->ncomp; c++) {
        PetscScalar *r = rows + ((size_t)p * nrow + k) * L + c * ns;
        for (PetscInt s = 0; s < ns; s++) ub[s] = (T->mask & ((PetscInt)1 << s)) ? r[s] : 0;
        for (PetscInt q = 0; q < ns; q++) {
          PetscScalar v = 0;
          if (!(T->mask & ((PetscInt)1 << q))) continue;
          for (PetscInt s = 0; s < ns; s++)
            if (C[s * ns + q] != 0) v += C[s * ns + q] * ub[s];
          r[q] = v;
        }
      }
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The lift must satisfy what it is meant to impose: each hard condition's residual on u = g (N = 0)
 * vanishes at points spread over that face (or the initial slice). */
static PetscErrorCode CheckLift(AzTransform T)
{
  const PetscReal *param;
  PetscScalar      g[AZ_MAX_COMP * AZ_JET_MAX_NSLOT], r[AZ_MAX_RES];

  PetscFunctionBegin;
  PetscCall(AzProblemGetParams(T->prob, &param));
  for (PetscInt f = 0; f <= AZ_COND_INITIAL; f++) {
    if (!T->hard[f]) continue;
    for (PetscInt k = 0; k < 17; k++) {
      PetscReal x[AZ_MAX_COORD];
      AzPoint   pt = {x, T->ncoord, param, -1};
      PetscReal scale = 0, err = 0;
      for (PetscInt a = 0; a < T->ncoord; a++) x[a] = T->lo[a] + (T->hi[a] - T->lo[a]) * (((k + 1) * (a + 2) * 0.6180339887) - PetscFloorReal((k + 1) * (a + 2) * 0.6180339887));
      if (f == AZ_COND_INITIAL) x[T->ncoord - 1] = T->lo[T->ncoord - 1];
      else x[f / 2] = f % 2 ? T->hi[f / 2] : T->lo[f / 2];
      PetscCall(T->info->lift(&pt, g));
      PetscCall(AzProblemEvaluateResidual(T->prob, f, x, g, r, NULL));
      for (PetscInt c = 0; c < T->ncomp; c++) {
        err   = PetscMax(err, PetscAbsScalar(r[c]));
        scale = PetscMax(scale, PetscAbsScalar(g[c * T->nslot]));
      }
      PetscCheck(err <= 1e-12 * PetscMax(1, scale), T->comm, PETSC_ERR_ARG_WRONG, "Problem %s: its lift does not satisfy the %s (residual %g at a point there): a hard constraint needs g equal to the data there", T->info->name, f == AZ_COND_INITIAL ? "initial condition" : "Dirichlet data of a face", (double)err);
    }
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzTransformCreate(AzProblem prob, PetscBool hard_boundary, PetscBool hard_initial, AzTransform *T)
{
  const AzProblemInfo *info;
  PetscBool            faces[2 * AZ_MAX_DIM] = {PETSC_FALSE};

  PetscFunctionBegin;
  PetscCall(AzProblemGetInfo(prob, &info));
  for (PetscInt f = 0; f < 2 * info->dim; f++) faces[f] = (hard_boundary && info->boundary[f].type != AZ_BC_NONE && info->boundary[f].type != AZ_BC_PERIODIC) ? PETSC_TRUE : PETSC_FALSE;
  PetscCall(AzTransformCreateFaces(prob, faces, hard_initial, T));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzTransformCreateFaces(AzProblem prob, const PetscBool hard_face[], PetscBool hard_initial, AzTransform *T)
{
  AzTransform  t;
  AzJetRequest req;

  PetscFunctionBegin;
  PetscCall(PetscNew(&t));
  *T      = t; /* the caller's from here on: a refusal below leaves it to AzTransformDestroy */
  t->prob = prob;
  PetscCall(AzProblemGetComm(prob, &t->comm));
  PetscCall(AzProblemGetInfo(prob, &t->info));
  PetscCall(AzProblemGetNumCoords(prob, &t->ncoord));
  PetscCall(AzProblemGetBox(prob, t->lo, t->hi));
  t->ncomp = t->info->ncomp;
  t->nslot = AZ_JET_NSLOT(t->ncoord);
  PetscCall(AzProblemGetJetRequest(prob, &req));
  PetscCall(AzJetRequestClose(&req));
  t->mask = req.mask;
  for (PetscInt f = 0; f < 2 * t->info->dim; f++) {
    const AzBCType type = t->info->boundary[f].type;
    if (!hard_face[f]) continue;
    if (type == AZ_BC_NONE || type == AZ_BC_PERIODIC) {
      SETERRQ(t->comm, PETSC_ERR_ARG_WRONG, "Face %" PetscInt_FMT " has no condition to impose (%s)", f, type == AZ_BC_NONE ? "free" : "periodic: exact through the periodic embedding");
    }
    if (type != AZ_BC_DIRICHLET) {
      const char *kind = type == AZ_BC_NEUMANN ? "Neumann" : type == AZ_BC_ROBIN ? "Robin" : type == AZ_BC_FLUX ? "prescribed-flux (F.n = g)" : "non-Dirichlet";
      SETERRQ(t->comm, PETSC_ERR_ARG_WRONG, "Problem's face %" PetscInt_FMT " (bc_%c%d) carries a %s condition: a hard constraint by transform imposes Dirichlet data only; constrain that face softly (-az_constraint_bc_%c%d soft, or an augmented-Lagrangian strategy) and keep hard on the others", f, "xyz"[f / 2], (int)(f % 2), kind, "xyz"[f / 2], (int)(f % 2));
    }
    t->hard[f] = PETSC_TRUE;
  }
  if (hard_initial) {
    PetscCheck(t->info->time_dependent, t->comm, PETSC_ERR_ARG_WRONG, "Problem %s is steady: it has no initial condition to impose", t->info->name);
    PetscCheck(!t->info->ninitial || t->info->ninitial == t->info->ncomp, t->comm, PETSC_ERR_ARG_WRONG, "Problem %s has %" PetscInt_FMT " initial conditions for %" PetscInt_FMT " component(s) (conditions on time derivatives, .ninitial): the transform imposes u(x, t0) only; use a soft initial condition (-az_constraint_initial soft)", t->info->name, t->info->ninitial, t->info->ncomp);
    t->hard[AZ_COND_INITIAL] = PETSC_TRUE;
  }
  {
    PetscBool any = hard_initial;
    for (PetscInt f = 0; f < 2 * t->info->dim; f++) any = any || t->hard[f];
    PetscCheck(t->info->lift || !any, t->comm, PETSC_ERR_ARG_WRONG, "Problem %s gives no lift (.lift in its descriptor): hard constraints by transform need one; use soft constraints for it", t->info->name);
  }
  if (t->info->lift) PetscCall(CheckLift(t));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzTransformDestroy(AzTransform *T)
{
  PetscFunctionBegin;
  PetscCall(PetscFree(*T));
  PetscFunctionReturn(PETSC_SUCCESS);
}
