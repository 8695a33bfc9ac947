/* The chain of maps from the network's jets to the solution's: the one place where they are composed,
 * forward, tangent and in reverse (see lossimpl.h). The maps come in the order they were registered;
 * a new map is one file with its ops table and create function, and one line in AzChainRegisterAll. */
#include "lossimpl.h"
#include <petsc/private/petscimpl.h> /* PetscObjectStateGet */

#define AZ_MAX_MAP_TYPES 16

typedef struct {
  char               name[32];
  AzChainMapCreateFn create;
} MapType;

static MapType   types[AZ_MAX_MAP_TYPES];
static PetscInt  ntypes;
static PetscBool registered;

struct _p_AzChain {
  AzLoss       L;
  PetscInt     nmap;
  AzChainMap   map[AZ_MAX_MAP_TYPES];
  PetscInt     side; /* the map with side inputs (-1: none) */
  PetscScalar *work; /* network jets when the first map changes the jet size */
  size_t       wcap;
};

PetscErrorCode AzChainRegister(const char name[], AzChainMapCreateFn create)
{
  PetscFunctionBegin;
  for (PetscInt i = 0; i < ntypes; i++)
    if (!strcmp(types[i].name, name)) {
      types[i].create = create;
      PetscFunctionReturn(PETSC_SUCCESS);
    }
  PetscCheck(ntypes < AZ_MAX_MAP_TYPES, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "At most %d chain maps can be registered", AZ_MAX_MAP_TYPES);
  PetscCall(PetscStrncpy(types[ntypes].name, name, sizeof types[ntypes].name));
  types[ntypes++].create = create;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PETSC_INTERN PetscErrorCode AzChainMapCreate_HardPDE(AzLoss, AzChainMap *);
PETSC_INTERN PetscErrorCode AzChainMapCreate_Stream(AzLoss, AzChainMap *);
PETSC_INTERN PetscErrorCode AzChainMapCreate_Transform(AzLoss, AzChainMap *);
PETSC_INTERN PetscErrorCode AzChainMapCreate_Softplus(AzLoss, AzChainMap *);
PETSC_INTERN PetscErrorCode AzChainMapCreate_Bounds(AzLoss, AzChainMap *);
PETSC_INTERN PetscErrorCode AzChainMapCreate_Projection(AzLoss, AzChainMap *);
PETSC_INTERN PetscErrorCode AzChainMapCreate_ProbConserv(AzLoss, AzChainMap *);

/* the maps in chain order: network -> solved output layer (hardpde, alone) -> stream function -> hard transform
 * -> softplus -> bounds -> projection -> probconserv (its update after training, last: it reads the solution of
 * every map before it) */
static PetscErrorCode AzChainRegisterAll(void)
{
  PetscFunctionBegin;
  if (registered) PetscFunctionReturn(PETSC_SUCCESS);
  registered = PETSC_TRUE;
  PetscCall(AzChainRegister("hardpde", AzChainMapCreate_HardPDE));
  PetscCall(AzChainRegister("stream", AzChainMapCreate_Stream));
  PetscCall(AzChainRegister("transform", AzChainMapCreate_Transform));
  PetscCall(AzChainRegister("softplus", AzChainMapCreate_Softplus));
  PetscCall(AzChainRegister("bounds", AzChainMapCreate_Bounds));
  PetscCall(AzChainRegister("projection", AzChainMapCreate_Projection));
  PetscCall(AzChainRegister("probconserv", AzChainMapCreate_ProbConserv));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzChainMapAllocate(AzLoss L, const AzChainMapOps *ops, PetscInt ncin, PetscInt ncout, AzChainMap *m)
{
  PetscFunctionBegin;
  PetscCall(PetscNew(m));
  (*m)->ops   = ops;
  (*m)->L     = L;
  (*m)->ncin  = ncin;
  (*m)->ncout = ncout;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* the chain is *chain from the start, so that a refusal while it is built leaves it to AzChainDestroy */
PetscErrorCode AzChainCreate(AzLoss L, AzChain *chain)
{
  AzChain C;

  PetscFunctionBegin;
  PetscCall(AzChainRegisterAll());
  PetscCall(PetscNew(&C));
  C->L    = L;
  C->side = -1;
  *chain  = C;
  for (PetscInt i = 0; i < ntypes; i++) {
    AzChainMap m = NULL;
    PetscCall(types[i].create(L, &m));
    if (!m) continue;
    m->index          = C->nmap;
    C->map[C->nmap++] = m; /* owned by the chain from here on */
    PetscCheck(m->index == 0 || m->ncin == C->map[m->index - 1]->ncout, L->comm, PETSC_ERR_PLIB, "Chain map %s takes %" PetscInt_FMT " components, its predecessor gives %" PetscInt_FMT, m->ops->name, m->ncin, C->map[m->index - 1]->ncout);
    PetscCheck(m->ncin == m->ncout || m->index == 0, L->comm, PETSC_ERR_SUP, "Chain map %s changes the number of components: only the first map may", m->ops->name);
    if (m->nside) {
      PetscCheck(C->side < 0, L->comm, PETSC_ERR_SUP, "Chain maps %s and %s both have side inputs: at most one may", C->map[C->side]->ops->name, m->ops->name);
      C->side = m->index;
    }
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzChainDestroy(AzChain *chain)
{
  PetscFunctionBegin;
  if (!*chain) PetscFunctionReturn(PETSC_SUCCESS);
  for (PetscInt i = 0; i < (*chain)->nmap; i++) {
    AzChainMap m = (*chain)->map[i];
    if (m->ops->destroy) PetscCall(m->ops->destroy(m));
    PetscCall(PetscFree(m->saved));
    PetscCall(PetscFree(m));
  }
  PetscCall(PetscFree((*chain)->work));
  PetscCall(PetscFree(*chain));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscInt AzChainNumMaps(AzChain C)
{
  return C ? C->nmap : 0;
}

AzChainMap AzChainGetMap(AzChain C, PetscInt i)
{
  return C->map[i];
}

static PetscErrorCode Reserve(PetscScalar **buf, size_t *cap, size_t n)
{
  PetscFunctionBegin;
  if (n <= *cap) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(PetscFree(*buf));
  PetscCall(PetscMalloc1(n, buf));
  *cap = n;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzChainForward(AzChain C, PetscInt stop, const AzChainArgs *a, const PetscScalar net[], PetscScalar sol[])
{
  AzLoss             L  = C->L;
  const PetscInt     ns = L->nslot, end = stop < 0 ? C->nmap : stop;
  const PetscScalar *cur = net;

  PetscFunctionBegin;
  if (!cur) {
    PetscScalar *dst = sol;
    if (end > 0 && C->map[0]->ncin != C->map[0]->ncout) {
      PetscCall(Reserve(&C->work, &C->wcap, (size_t)PetscMax(a->npts, 1) * C->map[0]->ncin * ns));
      dst = C->work;
    }
    PetscCall(AzFieldEvaluateJets(L->field, a->npts, a->x, dst));
    cur = dst;
  }
  for (PetscInt i = 0; i < end; i++) {
    AzChainMap     m   = C->map[i];
    const size_t   lin = (size_t)a->npts * m->ncin * ns;
    if (a->save && m->keep_input) {
      PetscCall(Reserve(&m->saved, &m->cap, PetscMax(lin, 1)));
      PetscCall(PetscArraycpy(m->saved, cur, lin));
    }
    if (m->ncin == m->ncout && cur != sol) {
      PetscCall(PetscArraycpy(sol, cur, lin));
      cur = sol;
    }
    PetscCall(m->ops->forward(m, a, cur, sol));
    cur = sol;
  }
  if (cur != sol) PetscCall(PetscArraycpy(sol, cur, (size_t)a->npts * L->ncompN * ns)); /* no map */
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzChainTangent(AzChain C, PetscInt stop, const AzChainArgs *a, const PetscScalar dnet[], PetscScalar dsol[])
{
  AzLoss             L   = C->L;
  const PetscInt     ns  = L->nslot, end = stop < 0 ? C->nmap : stop;
  const PetscScalar *cur = dnet;

  PetscFunctionBegin;
  for (PetscInt i = 0; i < end; i++) {
    AzChainMap   m   = C->map[i];
    const size_t lin = (size_t)a->npts * m->ncin * ns;
    if (m->ncin == m->ncout && cur != dsol) {
      PetscCall(PetscArraycpy(dsol, cur, lin));
      cur = dsol;
    }
    PetscCall(m->ops->tangent(m, a, m->keep_input ? m->saved : NULL, cur, dsol));
    cur = dsol;
  }
  if (cur != dsol) PetscCall(PetscArraycpy(dsol, cur, (size_t)a->npts * L->ncompN * ns));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzChainAdjoint(AzChain C, PetscInt stop, const AzChainArgs *a, PetscInt nrow, PetscScalar rows[], PetscScalar netrows[], PetscScalar side[])
{
  AzLoss         L   = C->L;
  const PetscInt end = stop < 0 ? C->nmap : stop;
  PetscScalar   *cur = rows;

  PetscFunctionBegin;
  if (side && C->side >= 0 && C->side < end) PetscCall(PetscArrayzero(side, (size_t)a->npts * nrow * C->map[C->side]->nside));
  for (PetscInt i = end - 1; i >= 0; i--) {
    AzChainMap   m   = C->map[i];
    PetscScalar *out = m->ncin == m->ncout ? cur : netrows;
    PetscCall(m->ops->adjoint(m, a, m->keep_input ? m->saved : NULL, nrow, cur, out, i == C->side ? side : NULL));
    cur = out;
  }
  if (cur != netrows) PetscCall(PetscArraycpy(netrows, cur, (size_t)a->npts * nrow * L->ncompN * L->nslot));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscInt AzChainSideSize(AzChain C)
{
  return (C && C->side >= 0) ? C->map[C->side]->nside : 0;
}

AzChainMap AzChainSideMap(AzChain C)
{
  return (C && C->side >= 0) ? C->map[C->side] : NULL;
}

PetscInt AzChainSideSlices(AzChain C)
{
  return (C && C->side >= 0) ? C->map[C->side]->nslice : 0;
}

PetscErrorCode AzChainUpdate(AzChain C)
{
  PetscFunctionBegin;
  PetscCall(AzInferSync(C->L)); /* the inferred parameters at the current θ */
  for (PetscInt i = 0; i < AzChainNumMaps(C); i++)
    if (C->map[i]->ops->update) PetscCall(C->map[i]->ops->update(C->map[i]));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzChainSideBackward(AzChain C, PetscInt g, Vec grad)
{
  AzChainMap m = AzChainSideMap(C);

  PetscFunctionBegin;
  if (m) PetscCall(m->ops->side_backward(m, g, grad));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzChainSideTangent(AzChain C, Vec v)
{
  AzChainMap m = AzChainSideMap(C);

  PetscFunctionBegin;
  if (m) PetscCall(m->ops->side_tangent(m, v));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzChainSideJacobian(AzChain C)
{
  AzChainMap m = AzChainSideMap(C);

  PetscFunctionBegin;
  if (m) PetscCall(m->ops->side_jacobian(m));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* the kept inputs' masked slots, map by map, component by component */
static PetscInt Popcount(PetscInt mask, PetscInt ns)
{
  PetscInt n = 0;
  for (PetscInt s = 0; s < ns; s++) n += (mask >> s) & 1;
  return n;
}

PetscInt AzChainStateSize(AzChain C, PetscInt mask)
{
  PetscInt n = 0;
  for (PetscInt i = 0; i < AzChainNumMaps(C); i++)
    if (C->map[i]->keep_input) n += C->map[i]->ncin * Popcount(mask, C->L->nslot);
  return n;
}

static PetscErrorCode State(AzChain C, PetscInt npts, PetscInt mask, PetscScalar state[], PetscBool get)
{
  const PetscInt ns = C->L->nslot, per = AzChainStateSize(C, mask);

  PetscFunctionBegin;
  for (PetscInt i = 0, off = 0; i < AzChainNumMaps(C); i++) {
    AzChainMap m = C->map[i];
    if (!m->keep_input) continue;
    if (!get) PetscCall(Reserve(&m->saved, &m->cap, (size_t)PetscMax(npts, 1) * m->ncin * ns));
    for (PetscInt p = 0; p < npts; p++)
      for (PetscInt c = 0, k = 0; c < m->ncin; c++)
        for (PetscInt s = 0; s < ns; s++) {
          PetscScalar *v = &m->saved[((size_t)p * m->ncin + c) * ns + s];
          if (!((mask >> s) & 1)) {
            if (!get) *v = 0;
            continue;
          }
          if (get) state[(size_t)p * per + off + k] = *v;
          else *v = state[(size_t)p * per + off + k];
          k++;
        }
    off += m->ncin * Popcount(mask, ns);
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzChainStateGet(AzChain C, PetscInt npts, PetscInt mask, PetscScalar state[])
{
  PetscFunctionBegin;
  PetscCall(State(C, npts, mask, state, PETSC_TRUE));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzChainStateSet(AzChain C, PetscInt npts, PetscInt mask, const PetscScalar state[])
{
  PetscFunctionBegin;
  PetscCall(State(C, npts, mask, (PetscScalar *)state, PETSC_FALSE));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* ---- the chain through the loss's public API: the solution as the report sees it (a projection's
 * coefficients follow from θ, not from the jets given here) --------------------------------------- */
PetscErrorCode AzLossSyncSolution(AzLoss L)
{
  PetscFunctionBegin;
  PetscCall(AzLossSetUp(L));
  PetscCall(AzChainUpdate(L->chain));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzLossGetChainMaps(AzLoss L, PetscInt *nmaps, const char *names[])
{
  PetscFunctionBegin;
  PetscCall(AzLossSetUp(L));
  *nmaps = AzChainNumMaps(L->chain);
  if (names)
    for (PetscInt i = 0; i < *nmaps; i++) names[i] = L->chain->map[i]->ops->name;
  PetscFunctionReturn(PETSC_SUCCESS);
}

static AzChainArgs PublicArgs(AzLoss L, PetscInt npts, const PetscReal x[])
{
  AzChainArgs a = {npts, x, NULL, 0, L->mask, PETSC_TRUE, PETSC_FALSE, PETSC_FALSE};
  return a;
}

PetscErrorCode AzLossChainForward(AzLoss L, PetscInt npts, const PetscReal x[], const PetscScalar net[], PetscScalar sol[])
{
  AzChainArgs a;

  PetscFunctionBegin;
  PetscCall(AzLossSetUp(L));
  a = PublicArgs(L, npts, x);
  PetscCheck(net != sol || L->ncompN == L->ncomp, L->comm, PETSC_ERR_ARG_WRONG, "AzLossChainForward: net and sol may coincide only when the network has the solution's components");
  PetscCall(AzChainForward(L->chain, -1, &a, net, sol));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzLossChainTangent(AzLoss L, PetscInt npts, const PetscReal x[], const PetscScalar dnet[], PetscScalar dsol[])
{
  AzChainArgs a;

  PetscFunctionBegin;
  PetscCall(AzLossSetUp(L));
  a = PublicArgs(L, npts, x);
  PetscCall(AzChainTangent(L->chain, -1, &a, dnet, dsol));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzLossChainAdjoint(AzLoss L, PetscInt npts, const PetscReal x[], PetscInt nrow, PetscScalar rows[], PetscScalar netrows[])
{
  AzChainArgs a;

  PetscFunctionBegin;
  PetscCall(AzLossSetUp(L));
  a = PublicArgs(L, npts, x);
  PetscCall(AzChainAdjoint(L->chain, -1, &a, nrow, rows, netrows, NULL));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzLossThetaState(AzLoss L, PetscObjectState *st)
{
  Vec theta;

  PetscFunctionBegin;
  PetscCall(AzFieldGetParameters(L->field, &theta));
  PetscCall(PetscObjectStateGet((PetscObject)theta, st));
  PetscFunctionReturn(PETSC_SUCCESS);
}
