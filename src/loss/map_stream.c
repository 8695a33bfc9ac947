/* Chain map: a divergence-free velocity as the curl of a stream function (AzStream, constraint.h).
 * Linear, so its tangent is the map itself; it changes the number of components (ψ -> velocity). */
#include "lossimpl.h"

static PetscErrorCode Forward(AzChainMap m, const AzChainArgs *a, const PetscScalar in[], PetscScalar out[])
{
  PetscFunctionBegin;
  PetscCall(AzStreamApply(m->L->stream, a->npts, in, out));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode Tangent(AzChainMap m, const AzChainArgs *a, const PetscScalar in[], const PetscScalar din[], PetscScalar dout[])
{
  PetscFunctionBegin;
  (void)in;
  PetscCall(AzStreamApply(m->L->stream, a->npts, din, dout));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode Adjoint(AzChainMap m, const AzChainArgs *a, const PetscScalar in[], PetscInt nrow, const PetscScalar rout[], PetscScalar rin[], PetscScalar side[])
{
  PetscFunctionBegin;
  (void)in, (void)side;
  PetscCall(AzStreamAdjoint(m->L->stream, a->npts, nrow, rout, rin));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static const AzChainMapOps ops = {"stream", Forward, Tangent, Adjoint, NULL, NULL, NULL, NULL, NULL};

PetscErrorCode AzChainMapCreate_Stream(AzLoss L, AzChainMap *m)
{
  PetscInt ncompN;

  PetscFunctionBegin;
  *m = NULL;
  if (!L->stream) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(AzStreamGetNetwork(L->stream, &ncompN, NULL));
  PetscCall(AzChainMapAllocate(L, &ops, ncompN, L->ncomp, m));
  PetscFunctionReturn(PETSC_SUCCESS);
}
