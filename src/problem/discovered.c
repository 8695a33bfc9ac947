/* Discovered laws fed back (-az_conservation_from discovered.json): appended to the loaded problem's
 * conservation laws, so every strategy and diagnostic that reads info->conservation[l] sees them. A
 * law's density is ansatz's own function of slot l (no context pointer in AzResidualFn): it finds its
 * problem by the point's parameter array, as the guards do (guard.c), and evaluates the law's
 * polynomial from the problem's table, with its exact ∂q/∂jet. */
#include "problemimpl.h"
#include <ansatz/discover.h>

static PetscErrorCode DiscoveredDensity(PetscInt l, const AzPoint *p, const AzJet *J, PetscScalar q[], PetscScalar dq[])
{
  AzProblem              prob;
  const AzDiscoveredLaw *law;
  const PetscInt         K = AZ_DISCOVER_MAX_ORDER + 1, slot[3] = {0, AzJetSlotD1(J->ncoord, 0), AzJetSlotD2(J->ncoord, 0, 0)};
  PetscReal              u[AZ_MAX_COMP * (AZ_DISCOVER_MAX_ORDER + 1)];

  PetscFunctionBegin;
  PetscCall(AzProblemFind(p, &prob));
  law = prob->disc[l];
  PetscCheck(law, PETSC_COMM_SELF, PETSC_ERR_PLIB, "Conservation law %" PetscInt_FMT " of problem %s is not a discovered one", l, prob->info->name);
  for (PetscInt c = 0; c < J->ncomp; c++)
    for (PetscInt k = 0; k < K; k++) u[c * K + k] = PetscRealPart(J->v[c * J->nslot + slot[k]]);
  q[0] = 0;
  for (PetscInt t = 0; t < law->nterm; t++) {
    const AzMonomial *m = &law->mono[t];
    q[0] += law->coef[t] * AzMonomialEvaluate(m, J->ncomp, p->x[0], u);
    if (!dq) continue;
    for (PetscInt c = 0; c < J->ncomp; c++)
      for (PetscInt k = 0; k < K; k++) {
        AzMonomial d;
        if (!m->e[c][k]) continue;
        d = *m;
        d.e[c][k]--;
        dq[c * J->nslot + slot[k]] += law->coef[t] * m->e[c][k] * AzMonomialEvaluate(&d, J->ncomp, p->x[0], u);
      }
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

#define AZ_DISCOVERED(l) \
  static PetscErrorCode DiscoveredDensity##l(const AzPoint *p, const AzJet *J, PetscScalar q[], PetscScalar dq[]) \
  { \
    return DiscoveredDensity(l, p, J, q, dq); \
  }
AZ_DISCOVERED(0)
AZ_DISCOVERED(1)
AZ_DISCOVERED(2)
AZ_DISCOVERED(3)
static const AzResidualFn discovered_density[AZ_MAX_LAWS] = {DiscoveredDensity0, DiscoveredDensity1, DiscoveredDensity2, DiscoveredDensity3};

/* the laws added before (a second AzProblemSetFromOptions) are taken away first */
static PetscErrorCode RemoveDiscovered(AzProblem prob)
{
  PetscFunctionBegin;
  if (prob->nbase <= 0 && !prob->disc[0]) PetscFunctionReturn(PETSC_SUCCESS);
  for (PetscInt l = 0; l < AZ_MAX_LAWS; l++)
    if (prob->disc[l]) {
      PetscCall(PetscFree(prob->disc[l]));
      prob->guarded.conservation[l] = (AzConservationInfo){NULL, NULL, PETSC_FALSE, 0, NULL};
    }
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzProblemAddDiscoveredLaws(AzProblem prob, const char path[])
{
  AzProblemInfo   *info = &prob->guarded;
  AzDiscoveredLaw *laws;
  PetscInt         nlaws, nl = 0, nadd = 0;
  AzJetRequest     req;
  char             have[512] = "";

  PetscFunctionBegin;
  PetscCall(RemoveDiscovered(prob));
  PetscCheck(info->time_dependent && info->dim == 1, prob->comm, PETSC_ERR_ARG_WRONG, "-az_conservation_from %s: problem %s is %s; discovered laws are laws in time of a problem in one spatial dimension", path, info->name, info->time_dependent ? "not one-dimensional" : "steady");
  PetscCall(AzDiscoveredRead(prob, path, &nlaws, &laws));
  while (nl < AZ_MAX_LAWS && info->conservation[nl].name) {
    PetscCall(PetscStrlcat(have, nl ? ", " : "", sizeof have));
    PetscCall(PetscStrlcat(have, info->conservation[nl].name, sizeof have));
    nl++;
  }
  for (PetscInt k = 0; k < nlaws; k++) nadd += laws[k].declared[0] ? 0 : 1;
  if (nl + nadd > AZ_MAX_LAWS) {
    PetscCall(PetscFree(laws));
    SETERRQ(prob->comm, PETSC_ERR_ARG_OUTOFRANGE, "-az_conservation_from %s adds %" PetscInt_FMT " law(s) to problem %s's %" PetscInt_FMT " (%s): at most %d laws in all (AZ_MAX_LAWS). Delete the laws you do not want from the file's \"laws\" array", path, nadd, info->name, nl, nl ? have : "none", AZ_MAX_LAWS);
  }
  PetscCall(AzProblemGetJetRequest(prob, &req));
  PetscCall(AzJetRequestClose(&req));
  prob->nbase = nl;
  for (PetscInt k = 0; k < nlaws; k++) {
    const AzDiscoveredLaw *law = &laws[k];
    if (law->declared[0]) continue; /* the plugin declares it already (discovery flagged it) */
    for (PetscInt l = 0; l < nl; l++)
      if (!strcmp(info->conservation[l].name, law->name)) {
        char name[64];
        PetscCall(PetscStrncpy(name, law->name, sizeof name));
        PetscCall(PetscFree(laws));
        SETERRQ(prob->comm, PETSC_ERR_ARG_WRONG, "-az_conservation_from %s: law %s has the name of one of problem %s's laws (%s): rename it in the file", path, name, info->name, have);
      }
    for (PetscInt t = 0; t < law->nterm; t++)
      for (PetscInt c = 0; c < info->ncomp; c++)
        for (PetscInt o = 1; o <= AZ_DISCOVER_MAX_ORDER; o++) {
          const PetscInt slot = o == 1 ? AzJetSlotD1(prob->ncoord, 0) : AzJetSlotD2(prob->ncoord, 0, 0);
          if (law->mono[t].e[c][o] && !(req.mask & ((PetscInt)1 << slot))) {
            char name[64];
            PetscCall(PetscStrncpy(name, law->name, sizeof name));
            PetscCall(PetscFree(laws));
            SETERRQ(prob->comm, PETSC_ERR_ARG_WRONG, "-az_conservation_from %s: law %s reads the %s x-derivative, which problem %s's solution jets do not carry (its derivatives: \"%s\")", path, name, o == 1 ? "first" : "second", info->name, info->derivatives ? info->derivatives : "");
          }
        }
    PetscCall(PetscNew(&prob->disc[nl]));
    *prob->disc[nl] = *law;
    {
      /* the target Q*: the law at the initial data (as for a declared law without a value), which gives
       * values only; a law that reads derivatives takes the value measured at t0 by discovery */
      PetscBool deriv = PETSC_FALSE;
      for (PetscInt t = 0; t < law->nterm; t++)
        for (PetscInt c = 0; c < info->ncomp; c++) deriv = deriv || law->mono[t].e[c][1] || law->mono[t].e[c][2];
      info->conservation[nl] = (AzConservationInfo){prob->disc[nl]->name, discovered_density[nl], (deriv && !PetscIsNanReal(law->value)) ? PETSC_TRUE : PETSC_FALSE, deriv ? law->value : 0, NULL};
    }
    prob->law_comp[nl]     = -1;
    nl++;
  }
  PetscCall(PetscFree(laws));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzProblemConservationFromOptions(AzProblem prob)
{
  char      path[PETSC_MAX_PATH_LEN] = "";
  PetscBool set;

  PetscFunctionBegin;
  PetscOptionsBegin(prob->comm, NULL, "Discovered conservation laws", "AzProblem");
  PetscCall(PetscOptionsString("-az_conservation_from", "add the laws of a discovered.json (`ansatz discover`) to the problem's conservation laws", "AzProblemAddDiscoveredLaws", path, path, sizeof path, &set));
  PetscOptionsEnd();
  if (set && path[0]) PetscCall(AzProblemAddDiscoveredLaws(prob, path));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzProblemDestroyDiscovered(AzProblem prob)
{
  PetscFunctionBegin;
  for (PetscInt l = 0; l < AZ_MAX_LAWS; l++) PetscCall(PetscFree(prob->disc[l]));
  PetscFunctionReturn(PETSC_SUCCESS);
}
