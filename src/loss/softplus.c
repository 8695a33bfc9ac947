/* Chain map: positivity by construction (-az_positivity hard): u_c = softplus(v_c) = log(1 + e^v) for every component the problem
 * declares positive, v the network. The elementwise machinery here (jets, tangent, adjoint of any
 * u_c = f(v_c)) is shared with bounds.c. The jet of u follows from v's by Faà di
 * Bruno's formula (all slots up to the pure fourth derivatives), and the adjoint is the transpose of
 * that map's Jacobian A = ∂u/∂v, lower triangular in the derivative order:
 *   u       = f(v)
 *   u_i     = f' v_i
 *   u_ij    = f'' v_i v_j + f' v_ij
 *   u_iii   = f''' v_i³ + 3 f'' v_i v_ii + f' v_iii
 *   u_iiii  = f'''' v_i⁴ + 6 f''' v_i² v_ii + 3 f'' v_ii² + 4 f'' v_i v_iii + f' v_iiii
 * with f' = σ, f'' = σ(1−σ), f''' = σ(1−σ)(1−2σ), f'''' = σ(1−σ)(1−6σ+6σ²),
 * f⁽⁵⁾ = σ(1−σ)(1−14σ+36σ²−24σ³), σ the logistic function. */
#include "lossimpl.h"
#include <math.h>

/* f⁽ᵏ⁾(v), k = 0 .. 5 */
static void Softplus(PetscReal v, PetscReal f[6])
{
  const PetscReal s = v >= 0 ? 1 / (1 + PetscExpReal(-v)) : PetscExpReal(v) / (1 + PetscExpReal(v)), d = s * (1 - s);

  f[0] = v > 0 ? v + log1p(PetscExpReal(-v)) : log1p(PetscExpReal(v));
  f[1] = s;
  f[2] = d;
  f[3] = d * (1 - 2 * s);
  f[4] = d * (1 - 6 * s + 6 * s * s);
  f[5] = d * (1 - 14 * s + 36 * s * s - 24 * s * s * s);
}

static void SoftplusFn(PetscReal v, PetscReal a, PetscReal b, PetscReal f[6])
{
  (void)a, (void)b;
  Softplus(v, f);
}

/* u = f(v) (one component's jet, slots in mask) from v, f⁽ᵏ⁾ at v's value given by fn; if A is not
 * NULL, A[s*ns + q] = ∂u_s/∂v_q */
static void ElementwiseJet(AzElementwiseFn fn, PetscReal a, PetscReal b, PetscInt n, PetscInt mask, const PetscScalar v[], PetscScalar u[], PetscScalar A[])
{
  const PetscInt ns = AZ_JET_NSLOT(n);
  PetscReal      f[6];

#define IN(s_) (mask & ((PetscInt)1 << (s_)))
  fn(PetscRealPart(v[0]), a, b, f);
  if (A)
    for (PetscInt q = 0; q < ns * ns; q++) A[q] = 0;
  u[0] = f[0];
  if (A) A[0] = f[1];
  for (PetscInt i = 0; i < n; i++) {
    const PetscInt    i1 = AzJetSlotD1(n, i), ii = AzJetSlotD2(n, i, i), i3 = AzJetSlotD3(n, i), i4 = AzJetSlotD4(n, i);
    const PetscScalar vi = IN(i1) ? v[i1] : 0, vii = IN(ii) ? v[ii] : 0, v3 = IN(i3) ? v[i3] : 0;
    if (IN(i1)) {
      u[i1] = f[1] * vi;
      if (A) A[i1 * ns] = f[2] * vi, A[i1 * ns + i1] = f[1];
    }
    for (PetscInt j = i; j < n; j++) {
      const PetscInt    j1 = AzJetSlotD1(n, j), ij = AzJetSlotD2(n, i, j);
      const PetscScalar vj = IN(j1) ? v[j1] : 0;
      if (!IN(ij)) continue;
      u[ij] = f[2] * vi * vj + f[1] * v[ij];
      if (A) {
        A[ij * ns] = f[3] * vi * vj + f[2] * v[ij];
        A[ij * ns + i1] += f[2] * vj;
        A[ij * ns + j1] += f[2] * vi;
        A[ij * ns + ij] = f[1];
      }
    }
    if (IN(i3)) {
      u[i3] = f[3] * vi * vi * vi + 3 * f[2] * vi * vii + f[1] * v3;
      if (A) {
        A[i3 * ns]      = f[4] * vi * vi * vi + 3 * f[3] * vi * vii + f[2] * v3;
        A[i3 * ns + i1] = 3 * f[3] * vi * vi + 3 * f[2] * vii;
        A[i3 * ns + ii] = 3 * f[2] * vi;
        A[i3 * ns + i3] = f[1];
      }
    }
    if (IN(i4)) {
      u[i4] = f[4] * vi * vi * vi * vi + 6 * f[3] * vi * vi * vii + 3 * f[2] * vii * vii + 4 * f[2] * vi * v3 + f[1] * v[i4];
      if (A) {
        A[i4 * ns]      = f[5] * vi * vi * vi * vi + 6 * f[4] * vi * vi * vii + 3 * f[3] * vii * vii + 4 * f[3] * vi * v3 + f[2] * v[i4];
        A[i4 * ns + i1] = 4 * f[4] * vi * vi * vi + 12 * f[3] * vi * vii + 4 * f[2] * v3;
        A[i4 * ns + ii] = 6 * f[3] * vi * vi + 6 * f[2] * vii;
        A[i4 * ns + i3] = 4 * f[2] * vi;
        A[i4 * ns + i4] = f[1];
      }
    }
  }
#undef IN
}

PetscErrorCode AzElementwiseForward(AzChainMap m, const AzChainArgs *a, const PetscScalar in[], PetscScalar out[])
{
  AzElementwise_Ctx *sp = (AzElementwise_Ctx *)m->data;
  const PetscInt n = m->L->ncoord, ns = m->L->nslot, Ljet = m->ncout * ns, mask = sp->mask & a->mask;
  PetscScalar    v[AZ_JET_MAX_NSLOT];

  PetscFunctionBegin;
  (void)in; /* in place */
  for (PetscInt p = 0; p < a->npts; p++)
    for (PetscInt c = 0; c < m->ncout; c++) {
      PetscScalar *u = out + p * Ljet + c * ns;
      if (!sp->on[c]) continue;
      for (PetscInt s = 0; s < ns; s++) v[s] = u[s];
      ElementwiseJet(sp->fn, sp->a[c], sp->b[c], n, mask, v, u, NULL);
    }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* dout = A din in the slots of the mask (A = ∂u/∂v at the kept input), the other slots unchanged */
PetscErrorCode AzElementwiseTangent(AzChainMap m, const AzChainArgs *a, const PetscScalar in[], const PetscScalar din[], PetscScalar dout[])
{
  AzElementwise_Ctx *sp = (AzElementwise_Ctx *)m->data;
  const PetscInt n = m->L->ncoord, ns = m->L->nslot, Ljet = m->ncout * ns, mask = sp->mask & a->mask;
  PetscScalar    u[AZ_JET_MAX_NSLOT], A[AZ_JET_MAX_NSLOT * AZ_JET_MAX_NSLOT], d[AZ_JET_MAX_NSLOT];

  PetscFunctionBegin;
  (void)din; /* in place */
  for (PetscInt p = 0; p < a->npts; p++)
    for (PetscInt c = 0; c < m->ncout; c++) {
      PetscScalar *r = dout + p * Ljet + c * ns;
      if (!sp->on[c]) continue;
      ElementwiseJet(sp->fn, sp->a[c], sp->b[c], n, mask, in + p * Ljet + c * ns, u, A);
      for (PetscInt s = 0; s < ns; s++) d[s] = (mask & ((PetscInt)1 << s)) ? r[s] : 0;
      for (PetscInt s = 0; s < ns; s++) {
        PetscScalar w = 0;
        if (!(mask & ((PetscInt)1 << s))) continue;
        for (PetscInt q = 0; q < ns; q++)
          if (A[s * ns + q] != 0) w += A[s * ns + q] * d[q];
        r[s] = w;
      }
    }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* rows ∂·/∂u -> ∂·/∂v = rows A, in the slots of the mask */
PetscErrorCode AzElementwiseAdjoint(AzChainMap m, const AzChainArgs *a, const PetscScalar in[], PetscInt nrow, const PetscScalar rout[], PetscScalar rin[], PetscScalar side[])
{
  AzElementwise_Ctx *sp = (AzElementwise_Ctx *)m->data;
  const PetscInt n = m->L->ncoord, ns = m->L->nslot, Ljet = m->ncout * ns, mask = sp->mask & a->mask;
  PetscScalar    u[AZ_JET_MAX_NSLOT], A[AZ_JET_MAX_NSLOT * AZ_JET_MAX_NSLOT], ub[AZ_JET_MAX_NSLOT];

  PetscFunctionBegin;
  (void)rout, (void)side; /* in place */
  for (PetscInt p = 0; p < a->npts; p++)
    for (PetscInt c = 0; c < m->ncout; c++) {
      if (!sp->on[c]) continue;
      ElementwiseJet(sp->fn, sp->a[c], sp->b[c], n, mask, in + p * Ljet + c * ns, u, A);
      for (PetscInt k = 0; k < nrow; k++) {
        PetscScalar *r = rin + ((size_t)p * nrow + k) * Ljet + c * ns;
        for (PetscInt s = 0; s < ns; s++) ub[s] = (mask & ((PetscInt)1 << s)) ? r[s] : 0;
        for (PetscInt q = 0; q < ns; q++) {
          PetscScalar w = 0;
          if (!(mask & ((PetscInt)1 << q))) continue;
          for (PetscInt s = 0; s < ns; s++)
            if (A[s * ns + q] != 0) w += A[s * ns + q] * ub[s];
          r[q] = w;
        }
      }
    }
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzElementwiseDestroy(AzChainMap m)
{
  PetscFunctionBegin;
  PetscCall(PetscFree(m->data));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static const AzChainMapOps ops = {"softplus", AzElementwiseForward, AzElementwiseTangent, AzElementwiseAdjoint, AzElementwiseDestroy, NULL, NULL, NULL, NULL};

PetscErrorCode AzElementwiseCreate(AzLoss L, const AzChainMapOps *ops, AzElementwiseFn fn, const PetscBool on[], const char option[], const char formula[], const char kind[], const char effect[], PetscErrorCode (*check)(AzLoss), AzChainMap *m)
{
  const AzProblemInfo *info;
  AzJetRequest         req;
  PetscBool            any = PETSC_FALSE;
  AzElementwise_Ctx   *sp;

  PetscFunctionBegin;
  PetscCall(AzProblemGetInfo(L->prob, &info));
  for (PetscInt c = 0; c < L->ncomp; c++) any = any || on[c];
  PetscCheck(any, L->comm, PETSC_ERR_ARG_WRONG, "%s hard: problem %s declares no %s component (.%s in its descriptor)", option, info->name, kind, kind);
  PetscCheck(!L->transform, L->comm, PETSC_ERR_ARG_WRONG, "%s hard (%s) and hard boundary or initial conditions (u = g + phi N) cannot both be exact: choose one, the other soft", option, formula);
  if (check) PetscCall(check(L));
  for (PetscInt l = 0; l < AZ_MAX_LAWS; l++)
    PetscCheck(!AzConservationIsProjected(L->law_mode[l]), L->comm, PETSC_ERR_ARG_WRONG, "%s hard and law '%s' projected (%s) cannot both be exact (the projection adds a shift that %s): choose one, or penalise the law (-az_conservation_%s soft, linear, cosine, adaptive or auglag)", option, info->conservation[l].name, AzConservationTypes[L->law_mode[l]], effect, info->conservation[l].name);
  PetscCall(AzProblemGetJetRequest(L->prob, &req));
  PetscCall(AzJetRequestClose(&req));
  PetscCall(AzChainMapAllocate(L, ops, L->ncomp, L->ncomp, m));
  PetscCall(PetscNew(&sp));
  sp->mask = req.mask;
  sp->fn   = fn;
  for (PetscInt c = 0; c < L->ncomp; c++) sp->on[c] = on[c];
  (*m)->data       = sp;
  (*m)->keep_input = PETSC_TRUE;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzChainMapCreate_Softplus(AzLoss L, AzChainMap *m)
{
  const AzProblemInfo *info;

  PetscFunctionBegin;
  *m = NULL;
  if (L->positivity != AZ_POSITIVE_HARD) PetscFunctionReturn(PETSC_SUCCESS); /* otherwise a penalty term or nothing */
  PetscCall(AzProblemGetInfo(L->prob, &info));
  PetscCall(AzElementwiseCreate(L, &ops, SoftplusFn, info->positive, "-az_positivity", "u = softplus(N)", "positive", "may turn u negative", NULL, m));
  PetscFunctionReturn(PETSC_SUCCESS);
}
