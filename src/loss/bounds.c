/* Chain map: two-sided bounds by construction (-az_bounds hard): u_c = a + (b − a) σ(v_c) for every
 * component the problem declares bounded (.bounded, a = .bound_lower, b = .bound_upper), σ the
 * logistic function, v the network; the other components pass through. Jets, tangent and adjoint are
 * softplus.c's elementwise ones (Faà di Bruno up to the pure fourth derivatives) with
 * f' = (b − a)σ(1−σ), f'' = f'(1−2σ), f''' = f'(1−6σ+6σ²), f'''' = f'(1−14σ+36σ²−24σ³),
 * f⁽⁵⁾ = f'(1−30σ+150σ²−240σ³+120σ⁴). */
#include "lossimpl.h"

static void Sigmoid(PetscReal v, PetscReal a, PetscReal b, PetscReal f[6])
{
  const PetscReal s = v >= 0 ? 1 / (1 + PetscExpReal(-v)) : PetscExpReal(v) / (1 + PetscExpReal(v)), d = (b - a) * s * (1 - s);

  f[0] = a + (b - a) * s;
  f[1] = d;
  f[2] = d * (1 - 2 * s);
  f[3] = d * (1 - 6 * s + 6 * s * s);
  f[4] = d * (1 - 14 * s + 36 * s * s - 24 * s * s * s);
  f[5] = d * (1 - 30 * s + 150 * s * s - 240 * s * s * s + 120 * s * s * s * s);
}

static const AzChainMapOps ops = {"bounds", AzElementwiseForward, AzElementwiseTangent, AzElementwiseAdjoint, AzElementwiseDestroy, NULL, NULL, NULL, NULL};

/* a bounded component may not be mapped by softplus too */
static PetscErrorCode CheckNotPositiveHard(AzLoss L)
{
  const AzProblemInfo *info;

  PetscFunctionBegin;
  PetscCall(AzProblemGetInfo(L->prob, &info));
  for (PetscInt c = 0; c < L->ncomp; c++)
    PetscCheck(!(info->bounded[c] && info->positive[c] && L->positivity == AZ_POSITIVE_HARD), L->comm, PETSC_ERR_ARG_WRONG, "-az_bounds hard and -az_positivity hard would both map component %" PetscInt_FMT " of %s: choose one (the bounds imply positivity when the lower bound is >= 0)", c, info->name);
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzChainMapCreate_Bounds(AzLoss L, AzChainMap *m)
{
  const AzProblemInfo *info;
  AzElementwise_Ctx   *sp;

  PetscFunctionBegin;
  *m = NULL;
  if (L->bounds != AZ_POSITIVE_HARD) PetscFunctionReturn(PETSC_SUCCESS); /* otherwise a penalty term or nothing */
  PetscCall(AzProblemGetInfo(L->prob, &info));
  PetscCall(AzElementwiseCreate(L, &ops, Sigmoid, info->bounded, "-az_bounds", "u = a + (b - a) sigmoid(N)", "bounded", "may leave the bounds", CheckNotPositiveHard, m));
  sp = (AzElementwise_Ctx *)(*m)->data;
  for (PetscInt c = 0; c < L->ncomp; c++) {
    PetscCheck(!info->bounded[c] || info->bound_lower[c] < info->bound_upper[c], L->comm, PETSC_ERR_ARG_WRONG, "-az_bounds hard: component %" PetscInt_FMT " of %s has bounds [%g, %g]; the lower must be below the upper", c, info->name, (double)info->bound_lower[c], (double)info->bound_upper[c]);
    sp->a[c] = info->bound_lower[c];
    sp->b[c] = info->bound_upper[c];
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}
