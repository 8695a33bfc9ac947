/* Chain map: hard boundary and initial conditions by the transform u = g + φN (AzTransform,
 * constraint.h). Affine in the jets: the tangent and adjoint are those of its linear part. */
#include "lossimpl.h"

static PetscErrorCode Forward(AzChainMap m, const AzChainArgs *a, const PetscScalar in[], PetscScalar out[])
{
  PetscFunctionBegin;
  (void)in; /* in place: in == out */
  PetscCall(AzTransformApply(m->L->transform, a->npts, a->x, out));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode Tangent(AzChainMap m, const AzChainArgs *a, const PetscScalar in[], const PetscScalar din[], PetscScalar dout[])
{
  PetscFunctionBegin;
  (void)in, (void)din; /* in place: din == dout */
  PetscCall(AzTransformApplyLinear(m->L->transform, a->npts, a->x, dout));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode Adjoint(AzChainMap m, const AzChainArgs *a, const PetscScalar in[], PetscInt nrow, const PetscScalar rout[], PetscScalar rin[], PetscScalar side[])
{
  PetscFunctionBegin;
  (void)in, (void)rout, (void)side; /* in place: rout == rin */
  PetscCall(AzTransformAdjoint(m->L->transform, a->npts, a->x, nrow, rin));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static const AzChainMapOps ops = {"transform", Forward, Tangent, Adjoint, NULL, NULL, NULL, NULL, NULL};

PetscErrorCode AzChainMapCreate_Transform(AzLoss L, AzChainMap *m)
{
  PetscFunctionBegin;
  *m = NULL;
  if (!L->transform) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(AzChainMapAllocate(L, &ops, L->ncomp, L->ncomp, m));
  PetscFunctionReturn(PETSC_SUCCESS);
}
