/* Finite-difference jets: which derivative each declared jet slot is, and its stencil at a node.
 *
 * Along one axis the m-th derivative of order p uses the central stencil of half-width
 * w = floor((m+1)/2) + p/2 - 1 where it fits, and otherwise the one-sided stencil of m+p points
 * nearest the boundary (also of order p). Mixed second derivatives are tensor products of first
 * derivatives; derivatives in time come from y' (IDA's time derivative of the state). */
#include "refimpl.h"

/* Fornberg (1988): weights c[k*n + j] of the k-th derivative (k <= M) at x0 from the values at x[j]. */
static void Fornberg(PetscReal x0, PetscInt n, const PetscReal x[], PetscInt M, PetscReal c[])
{
  PetscReal c1 = 1, c4 = x[0] - x0;

  for (PetscInt q = 0; q < (M + 1) * n; q++) c[q] = 0;
  c[0] = 1;
  for (PetscInt i = 1; i < n; i++) {
    const PetscInt mn = PetscMin(i, M);
    PetscReal      c2 = 1, c5 = c4;

    c4 = x[i] - x0;
    for (PetscInt j = 0; j < i; j++) {
      const PetscReal c3 = x[i] - x[j];

      c2 *= c3;
      if (j == i - 1) {
        for (PetscInt k = mn; k >= 1; k--) c[k * n + i] = c1 * (k * c[(k - 1) * n + i - 1] - c5 * c[k * n + i - 1]) / c2;
        c[i] = -c1 * c5 * c[i - 1] / c2;
      }
      for (PetscInt k = mn; k >= 1; k--) c[k * n + j] = (c4 * c[k * n + j] - k * c[(k - 1) * n + j]) / c3;
      c[j] = c4 * c[j] / c3;
    }
    c1 = c2;
  }
}

/* weights of the m-th derivative at node x0 from nodes first .. first+n-1, divided by h^m */
static PetscErrorCode StencilWeights(PetscInt m, PetscReal h, PetscInt x0, PetscInt first, PetscInt n, PetscReal w[])
{
  PetscReal x[16], c[5 * 16];

  PetscFunctionBegin;
  PetscCheck(n <= 16 && m <= 4, PETSC_COMM_SELF, PETSC_ERR_PLIB, "Stencil of %" PetscInt_FMT " points for derivative order %" PetscInt_FMT " is out of range", n, m);
  for (PetscInt j = 0; j < n; j++) x[j] = (PetscReal)(first + j);
  Fornberg((PetscReal)x0, n, x, m, c);
  for (PetscInt j = 0; j < n; j++) w[j] = c[m * n + j] / PetscPowRealInt(h, m);
  PetscFunctionReturn(PETSC_SUCCESS);
}

static const char *AxisName(AzReference ref, PetscInt a)
{
  static const char *names[] = {"x", "y", "z"};
  return (ref->td && a == ref->dim) ? "t" : names[a];
}

/* Classify the declared slots, and build the stencils of every derivative order they need. */
PetscErrorCode AzRefStencilSetUp(AzReference ref)
{
  const PetscInt n = ref->ncoord, p = ref->order;
  AzJetRequest   req;
  PetscBool      need[AZ_MAX_DIM][AZ_MAX_ORDER + 1] = {{PETSC_FALSE}};

  PetscFunctionBegin;
  PetscCall(AzProblemGetJetRequest(ref->prob, &req));
  ref->nslots = 0;
  ref->tslot  = -1;
  for (PetscInt s = 0; s < ref->nslot; s++) {
    AzRefSlot sl = {s, -1, 0, 0};

    if (!(req.mask & ((PetscInt)1 << s))) continue;
    if (s == 0) sl.m = 0;
    for (PetscInt i = 0; i < n && sl.m < 0; i++) {
      if (s == AzJetSlotD1(n, i)) sl = (AzRefSlot){s, 1, i, i};
      if (s == AzJetSlotD3(n, i)) sl = (AzRefSlot){s, 3, i, i};
      if (s == AzJetSlotD4(n, i)) sl = (AzRefSlot){s, 4, i, i};
      for (PetscInt j = i; j < n && sl.m < 0; j++)
        if (s == AzJetSlotD2(n, i, j)) sl = (AzRefSlot){s, 2, i, j};
    }
    PetscCheck(sl.m >= 0, ref->comm, PETSC_ERR_PLIB, "Jet slot %" PetscInt_FMT " matches no derivative", s);
    if (ref->td && sl.m >= 1) {
      const PetscInt T    = ref->dim;
      const PetscInt tord = (sl.a == sl.b) ? (sl.a == T ? sl.m : 0) : (sl.a == T) + (sl.b == T);
      char           name[8] = {0};

      for (PetscInt k = 0; k < sl.m; k++) name[k] = AxisName(ref, (sl.a == sl.b || k == 0) ? sl.a : sl.b)[0];
      PetscCheck(tord <= 1, ref->comm, PETSC_ERR_SUP, "Problem %s declares the derivative u_%s, of order %" PetscInt_FMT " in time: the reference solver integrates problems of first order in time (write it as a first-order system with more components)", ref->info->name, name, tord);
      if (sl.m == 1 && sl.a == T) ref->tslot = s;
    }
    /* stencils in space: m along a for pure derivatives, first derivatives for mixed ones */
    if (sl.m >= 1) {
      if (sl.m == 2 && sl.a != sl.b) {
        if (sl.a < ref->dim) need[sl.a][1] = PETSC_TRUE;
        if (sl.b < ref->dim) need[sl.b][1] = PETSC_TRUE;
      } else if (sl.a < ref->dim) need[sl.a][sl.m] = PETSC_TRUE;
    }
    ref->slots[ref->nslots++] = sl;
  }
  PetscCheck(!ref->td || ref->tslot >= 0, ref->comm, PETSC_ERR_SUP, "Problem %s is time-dependent but does not declare u_t among its derivatives (\"%s\"): the reference solver needs the residual to depend on u_t", ref->info->name, ref->info->derivatives ? ref->info->derivatives : "");

  ref->swidth = 1;
  for (PetscInt a = 0; a < ref->dim; a++) {
    const PetscInt N = ref->n[a];

    for (PetscInt m = 1; m <= AZ_MAX_ORDER; m++) {
      AzRefStencil *st = &ref->st[a][m];

      if (!need[a][m]) continue;
      st->w  = (m + 1) / 2 + p / 2 - 1;
      st->n1 = m + p;
      PetscCheck(N >= 2 * st->w + 1 && (ref->periodic[a] || N >= st->n1), ref->comm, PETSC_ERR_ARG_OUTOFRANGE, "The reference grid has %" PetscInt_FMT " nodes along %s, too few for order-%" PetscInt_FMT " differences of u_%s (order %" PetscInt_FMT "): use at least %" PetscInt_FMT " (-az_ref_n)", N, AxisName(ref, a), p, AxisName(ref, a), m, PetscMax(2 * st->w + 1, ref->periodic[a] ? 0 : st->n1));
      PetscCall(PetscMalloc1(2 * st->w + 1, &st->central));
      PetscCall(StencilWeights(m, ref->h[a], 0, -st->w, 2 * st->w + 1, st->central));
      ref->swidth = PetscMax(ref->swidth, st->w);
      if (ref->periodic[a]) continue;
      PetscCall(PetscMalloc2(st->w * st->n1, &st->lower, st->w * st->n1, &st->upper));
      for (PetscInt i = 0; i < st->w; i++) {
        PetscCall(StencilWeights(m, ref->h[a], i, 0, st->n1, st->lower + i * st->n1));
        PetscCall(StencilWeights(m, ref->h[a], N - 1 - i, N - st->n1, st->n1, st->upper + i * st->n1));
      }
      /* the one-sided stencil at the boundary node reaches n1-1 nodes inward */
      ref->swidth = PetscMax(ref->swidth, st->n1 - 1);
    }
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzRefStencilDestroy(AzReference ref)
{
  PetscFunctionBegin;
  for (PetscInt a = 0; a < AZ_MAX_DIM; a++)
    for (PetscInt m = 0; m <= AZ_MAX_ORDER; m++) {
      PetscCall(PetscFree(ref->st[a][m].central));
      PetscCall(PetscFree2(ref->st[a][m].lower, ref->st[a][m].upper));
    }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The stencil of d^m/dx_a^m at node i: weights w[0 .. np-1] at offsets first .. first+np-1. */
static inline void Stencil1D(AzReference ref, PetscInt a, PetscInt m, PetscInt i, PetscInt *first, PetscInt *np, const PetscReal **w)
{
  const AzRefStencil *st = &ref->st[a][m];
  const PetscInt      N  = ref->n[a];

  if (ref->periodic[a] || (i - st->w >= 0 && i + st->w <= N - 1)) {
    *first = -st->w;
    *np    = 2 * st->w + 1;
    *w     = st->central;
  } else if (i < st->w) {
    *first = -i;
    *np    = st->n1;
    *w     = st->lower + i * st->n1;
  } else {
    *first = (N - st->n1) - i;
    *np    = st->n1;
    *w     = st->upper + (N - 1 - i) * st->n1;
  }
}

/* The terms that make slot sl at the node idx: sl = sum_e e.w * (y or y')[idx + e.off]. */
void AzRefSlotEntries(AzReference ref, const PetscInt idx[], const AzRefSlot *sl, AzRefEntry e[], PetscInt *ne)
{
  const PetscInt T = ref->td ? ref->dim : -1;
  PetscInt       first, np, first2, np2;
  const PetscReal *w, *w2;

  *ne = 0;
  if (sl->m == 0 || (sl->m == 1 && sl->a == T)) { /* u, or u_t = y' */
    e[0] = (AzRefEntry){{0, 0, 0}, 1.0, sl->m == 1};
    *ne  = 1;
    return;
  }
  if (sl->m == 2 && sl->a != sl->b) {
    if (sl->b == T) { /* u_at: the spatial first derivative of y' */
      Stencil1D(ref, sl->a, 1, idx[sl->a], &first, &np, &w);
      for (PetscInt k = 0; k < np; k++) {
        e[*ne] = (AzRefEntry){{0, 0, 0}, w[k], 1};
        e[(*ne)++].off[sl->a] = first + k;
      }
      return;
    }
    Stencil1D(ref, sl->a, 1, idx[sl->a], &first, &np, &w);
    Stencil1D(ref, sl->b, 1, idx[sl->b], &first2, &np2, &w2);
    for (PetscInt k = 0; k < np; k++)
      for (PetscInt l = 0; l < np2; l++) {
        e[*ne]                = (AzRefEntry){{0, 0, 0}, w[k] * w2[l], 0};
        e[*ne].off[sl->a]     = first + k;
        e[(*ne)++].off[sl->b] = first2 + l;
      }
    return;
  }
  Stencil1D(ref, sl->a, sl->m, idx[sl->a], &first, &np, &w);
  for (PetscInt k = 0; k < np; k++) {
    e[*ne] = (AzRefEntry){{0, 0, 0}, w[k], 0};
    e[(*ne)++].off[sl->a] = first + k;
  }
}

/* Which equation a node carries: AZ_COND_INTERIOR, or the face whose condition it imposes. A node
 * on several faces (a corner) takes a Dirichlet face first, then the first face with a condition;
 * a face without a condition (AZ_BC_NONE) carries the interior equation, one-sided. */
PetscInt AzRefNodeCondition(AzReference ref, const PetscInt idx[])
{
  PetscInt cond = AZ_COND_INTERIOR;

  for (PetscInt a = 0; a < ref->dim; a++) {
    PetscInt face;

    if (ref->periodic[a]) continue;
    if (idx[a] == 0) face = 2 * a;
    else if (idx[a] == ref->n[a] - 1) face = 2 * a + 1;
    else continue;
    if (ref->info->boundary[face].type == AZ_BC_DIRICHLET) return face;
    if (cond == AZ_COND_INTERIOR && ref->info->boundary[face].type != AZ_BC_NONE) cond = face;
  }
  return cond;
}
