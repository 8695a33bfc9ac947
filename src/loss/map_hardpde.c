/* Chain map: hard PDE constraints by a solved output layer (Chalapathi, Du & Krishnapriyan, ICLR 2024):
 * the options, the map on the jets (one expert, or E experts blended by a partition of unity), the
 * experts' constraint points, and the map's side inputs (the solved weights). Each expert's solve and
 * the derivatives through it are in hardpde_solve.c. */
#include "hardpde.h"
#include <petscblaslapack.h>
#include <petsc/private/petscimpl.h> /* PetscObjectStateGet */

PetscErrorCode AzHardPDENetworkComponents(MPI_Comm comm, const char prefix[], PetscInt ncomp, PetscInt *ncompN)
{
  PetscBool on = PETSC_FALSE;
  PetscInt  K  = 32;

  PetscFunctionBegin;
  PetscOptionsBegin(comm, prefix, "Hard PDE constraints by a solved output layer", "AzLoss");
  PetscCall(PetscOptionsBool("-az_hardpde", "the network outputs basis functions; the output weights are solved so that the PDE, boundary and initial residuals are least at constraint points", "AzLossSetUp", on, &on, NULL));
  /* its options only with it, so that a stray -az_hardpde_* is reported as unused */
  if (on) PetscCall(PetscOptionsInt("-az_hardpde_basis", "basis functions per solution component (the network's outputs: this times the components)", "AzLossSetUp", K, &K, NULL));
  PetscOptionsEnd();
  PetscCheck(K >= 1 && K <= 4096, comm, PETSC_ERR_ARG_OUTOFRANGE, "-az_hardpde_basis must be between 1 and 4096, not %" PetscInt_FMT, K);
  *ncompN = on ? ncomp * K : ncomp;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzHardPDEOptions(AzLoss L)
{
  char             blend[32] = "pou", start[32] = "warm", damp[32] = "halve", solve[32] = "independent";
  PetscBool        damp_set = PETSC_FALSE;
  PetscBool        final_set = PETSC_FALSE;
  const char *const axes[AZ_MAX_COORD] = {"x", "y", "z", "t"};

  PetscFunctionBegin;
  L->hardpde_K     = 32;
  L->hardpde_ridge = 1e-12;
  L->hardpde_final_ridge = -1; /* not given: set below from the number of experts */
  L->hardpde_tol   = 1e-10;
  L->hardpde_rcond = 3.16227766016838e-8; /* √1e-15: σ² + α below 1e-15 σ²_max left out */
  L->hardpde_maxit = 50;
  L->moe_experts   = 1;
  L->w_interface   = 1;
  L->moe_ngrid     = 0;
  for (PetscInt d = 0; d < AZ_MAX_COORD; d++) L->moe_ncuts[d] = -1;
  PetscOptionsBegin(L->comm, L->prefix, "Hard PDE constraints by a solved output layer", "AzLoss");
  PetscCall(PetscOptionsBool("-az_hardpde", "the network outputs basis functions; the output weights are solved so that the PDE, boundary and initial residuals are least at constraint points", "AzLossSetUp", L->hardpde, &L->hardpde, NULL));
  if (L->hardpde) { /* its options only with it: a stray one is reported as unused */
    PetscCall(PetscOptionsInt("-az_hardpde_basis", "basis functions per solution component", "AzLossSetUp", L->hardpde_K, &L->hardpde_K, NULL));
    PetscCall(PetscOptionsInt("-az_hardpde_points", "interior constraint points (0: four per unknown weight); each face and the initial slice get a quarter as many", "AzLossSetUp", L->hardpde_n, &L->hardpde_n, NULL));
    PetscCall(PetscOptionsReal("-az_hardpde_ridge", "ridge alpha |w|^2 added to the solve's objective", "AzLossSetUp", L->hardpde_ridge, &L->hardpde_ridge, NULL));
    PetscCall(PetscOptionsReal("-az_hardpde_final_ridge", "the ridge of the solve at the trained parameters (after training: what theta.bin's solution, the summary and ansatz eval report; default 0 for one solve, -az_hardpde_ridge's value for a mixture of experts)", "AzLossHardPDEFinalSolve", L->hardpde_final_ridge, &L->hardpde_final_ridge, &final_set));
    PetscCall(PetscOptionsReal("-az_hardpde_rcond", "the solve leaves out the directions of its rows with sigma^2 + alpha <= rcond^2 sigma_max^2 (a truncated SVD)", "AzLossSetUp", L->hardpde_rcond, &L->hardpde_rcond, NULL));
    PetscCall(PetscOptionsReal("-az_hardpde_tol", "the solve stops when a Gauss-Newton step is below tol (1 + |w|)", "AzLossSetUp", L->hardpde_tol, &L->hardpde_tol, NULL));
    PetscCall(PetscOptionsInt("-az_moe_experts", "hardpde-moe: experts (along the first axis unless -az_moe_grid or -az_moe_cuts_*), each with its own solved weights (from its own points, or all together: -az_moe_solve), blended by a partition of unity (0: one per rank)", "AzLossSetUp", L->moe_experts, &L->moe_experts, NULL));
    if (L->moe_experts != 1) { /* how the experts tile the box: only with more than one */
      PetscBool set;
      L->moe_ngrid = AZ_MAX_COORD + 1;
      PetscCall(PetscOptionsIntArray("-az_moe_grid", "hardpde-moe: experts per axis, n0,n1,... (time last; axes left out: 1), their product the number of experts (default: all along the first axis)", "AzLossSetUp", L->moe_grid, &L->moe_ngrid, &set));
      if (!set) L->moe_ngrid = 0;
      PetscCall(PetscOptionsString("-az_moe_solve", "hardpde-moe: each expert's weights solved from its own points (independent) or all together from the blended solution's residual at the global solve's points (coupled)", "AzLossSetUp", solve, solve, sizeof solve, NULL));
      for (PetscInt d = 0; d < AZ_MAX_COORD; d++) {
        char opt[32];
        PetscCall(PetscSNPrintf(opt, sizeof opt, "-az_moe_cuts_%s", axes[d]));
        L->moe_ncuts[d] = AZ_MOE_MAX_EXPERTS;
        PetscCall(PetscOptionsRealArray(opt, "hardpde-moe: the cuts between the experts along this axis (coordinate name x, y, z or t), increasing and inside the box (default: even cuts)", "AzLossSetUp", L->moe_cuts[d], &L->moe_ncuts[d], &set));
        if (!set) L->moe_ncuts[d] = -1;
      }
    }
    PetscCall(PetscOptionsString("-az_hardpde_start", "a nonlinear PDE's solve starts from the last solve's weights (warm) or from w = 0 at every parameter vector (cold: the loss a function of the parameters alone)", "AzLossSetUp", start, start, sizeof start, NULL));
    PetscCall(PetscOptionsString("-az_hardpde_damping", "a nonlinear solve's step when the Gauss-Newton one raises the objective: halve (up to 10 times) or lm (Levenberg-Marquardt, mu raised tenfold up to 16 times; the default with -az_moe_solve coupled)", "AzLossSetUp", damp, damp, sizeof damp, &damp_set));
    PetscCall(PetscOptionsInt("-az_hardpde_maxit", "at most this many Gauss-Newton steps per solve", "AzLossSetUp", L->hardpde_maxit, &L->hardpde_maxit, NULL));
    PetscCall(PetscOptionsString("-az_moe_blend", "hardpde-moe: how the experts join: pou (a smooth partition of unity) or interface (crisp boxes and a penalty on the jumps at the cuts)", "AzLossSetUp", blend, blend, sizeof blend, NULL));
    if (!strcmp(blend, "interface")) {
      PetscCall(PetscOptionsReal("-az_moe_interface_weight", "-az_moe_blend interface: weight of the penalty on the experts' jumps at the cuts", "AzLossSetWeight", L->w_interface, &L->w_interface, NULL));
      PetscCall(PetscOptionsInt("-az_moe_interface_points", "-az_moe_blend interface: points on the cuts in all (0: -az_n_boundary per cut; one per cut in 1-D)", "AzLossSetUp", L->moe_interface_n, &L->moe_interface_n, NULL));
    }
  }
  PetscOptionsEnd();
  PetscCheck(!strcmp(blend, "pou") || !strcmp(blend, "interface"), L->comm, PETSC_ERR_ARG_OUTOFRANGE, "-az_moe_blend %s: the experts join by pou (a smooth partition of unity) or interface (crisp boxes and a penalty on the jumps at the cuts)", blend);
  L->moe_interface = !strcmp(blend, "interface") ? PETSC_TRUE : PETSC_FALSE;
  PetscCheck(!strcmp(solve, "independent") || !strcmp(solve, "coupled"), L->comm, PETSC_ERR_ARG_OUTOFRANGE, "-az_moe_solve %s: the experts' weights are solved independent (each from its own points) or coupled (all together, from the blended solution's residual)", solve);
  L->moe_coupled = !strcmp(solve, "coupled") ? PETSC_TRUE : PETSC_FALSE;
  PetscCheck(!L->moe_coupled || !L->moe_interface, L->comm, PETSC_ERR_ARG_WRONG, "-az_moe_solve coupled solves the blended solution of -az_moe_blend pou; with -az_moe_blend interface (crisp boxes and jumps) use -az_moe_solve independent");
  PetscCheck(!strcmp(start, "warm") || !strcmp(start, "cold"), L->comm, PETSC_ERR_ARG_OUTOFRANGE, "-az_hardpde_start %s: a nonlinear solve starts warm (from the last solve's weights) or cold (from w = 0 at every parameter vector)", start);
  L->hardpde_cold = !strcmp(start, "cold") ? PETSC_TRUE : PETSC_FALSE;
  PetscCheck(!strcmp(damp, "halve") || !strcmp(damp, "lm"), L->comm, PETSC_ERR_ARG_OUTOFRANGE, "-az_hardpde_damping %s: a nonlinear solve's step is halved (halve) or damped by Levenberg-Marquardt (lm)", damp);
  /* the coupled solve damps by LM unless told: with halving, its unconverged solves leave a w that
   * depends on the path, and L-BFGS's trial points doubled the error on 2 of 4 seeds of
   * diffusion_sorption1d (LM: better than the global solve on 4 of 4; bench/hardpde/README.md) */
  L->hardpde_lm = !strcmp(damp, "lm") || (!damp_set && L->moe_coupled) ? PETSC_TRUE : PETSC_FALSE;
  PetscCheck(L->w_interface > 0 && !PetscIsInfOrNanReal(L->w_interface), L->comm, PETSC_ERR_ARG_OUTOFRANGE, "-az_moe_interface_weight must be positive and finite (the penalty that joins the experts), not %g", (double)L->w_interface);
  PetscCheck(L->moe_interface_n >= 0 && L->moe_interface_n <= 10000000, L->comm, PETSC_ERR_ARG_OUTOFRANGE, "-az_moe_interface_points must be 0 (-az_n_boundary per cut) or a count up to 10000000, not %" PetscInt_FMT, L->moe_interface_n);
  PetscCheck(L->hardpde_K >= 1 && L->hardpde_K <= 4096, L->comm, PETSC_ERR_ARG_OUTOFRANGE, "-az_hardpde_basis must be between 1 and 4096, not %" PetscInt_FMT, L->hardpde_K);
  PetscCheck(L->moe_experts >= 0 && L->moe_experts <= AZ_HP_MAX_EXPERTS, L->comm, PETSC_ERR_ARG_OUTOFRANGE, "-az_moe_experts must be between 0 (one per rank) and %d, not %" PetscInt_FMT, AZ_HP_MAX_EXPERTS, L->moe_experts);
  PetscCheck(L->hardpde_n >= 0 && L->hardpde_n <= 10000000, L->comm, PETSC_ERR_ARG_OUTOFRANGE, "-az_hardpde_points must be 0 (four per unknown) or a count up to 10000000, not %" PetscInt_FMT, L->hardpde_n);
  if (!final_set) { /* one solve: α = 0 at the trained θ, never worse in bench/hardpde/README.md (26-94x
                     * better at 96 wide); a mixture keeps its training ridge, which bounds each
                     * expert's weights beyond its own points (heat1d, 4 experts: α = 0 is 28-43x worse) */
    PetscMPIInt size;
    PetscCallMPI(MPI_Comm_size(L->comm, &size));
    L->hardpde_final_ridge = (L->moe_experts ? L->moe_experts : size) == 1 ? 0 : L->hardpde_ridge;
  }
  PetscCheck(L->hardpde_final_ridge >= 0 && !PetscIsInfOrNanReal(L->hardpde_final_ridge), L->comm, PETSC_ERR_ARG_OUTOFRANGE, "-az_hardpde_final_ridge must be >= 0 and finite (the ridge of the solve at the trained parameters; give -az_hardpde_ridge's value to keep it), not %g", (double)L->hardpde_final_ridge);
  PetscCheck(L->hardpde_ridge >= 0 && !PetscIsInfOrNanReal(L->hardpde_ridge), L->comm, PETSC_ERR_ARG_OUTOFRANGE, "-az_hardpde_ridge must be >= 0 and finite (the ridge alpha |w|^2 of the solve), not %g", (double)L->hardpde_ridge);
  PetscCheck(L->hardpde_tol > 0 && !PetscIsInfOrNanReal(L->hardpde_tol), L->comm, PETSC_ERR_ARG_OUTOFRANGE, "-az_hardpde_tol must be > 0 and finite (the solve stops at a step below tol (1 + |w|)), not %g", (double)L->hardpde_tol);
  PetscCheck(L->hardpde_maxit >= 1, L->comm, PETSC_ERR_ARG_OUTOFRANGE, "-az_hardpde_maxit must be >= 1 (Gauss-Newton steps per solve), not %" PetscInt_FMT, L->hardpde_maxit);
  PetscCheck(L->hardpde_rcond >= 0 && L->hardpde_rcond < 1, L->comm, PETSC_ERR_ARG_OUTOFRANGE, "-az_hardpde_rcond must be in [0, 1) (a singular value cut-off relative to the largest), not %g", (double)L->hardpde_rcond);
  PetscFunctionReturn(PETSC_SUCCESS);
}


/* ---- the map on the jets: u = Σ_e χ_e Σ w_e φ -------------------------------------------------- */
/* out (+)= χ ⊙ v for the ncomp components (the slots carried; the others χ v) */
static void Blend(AzLoss L, const HPMap *M, PetscReal f[][5], const PetscScalar v[], PetscScalar out[], PetscBool add)
{
  const PetscInt  ns = L->nslot, zero[AZ_MAX_COORD] = {0};
  const PetscReal f0 = ChiD(M, f, zero);
  for (PetscInt c = 0; c < L->ncomp; c++)
    for (PetscInt s = 0; s < ns; s++) {
      PetscScalar y = 0;
      if ((L->mask >> s) & 1)
        for (PetscInt t = 0; t < M->nprod[s]; t++) y += M->pcoef[s][t] * ChiD(M, f, M->pb[s][t]) * v[c * ns + M->pslot[s][t]];
      else y = f0 * v[c * ns + s];
      out[c * ns + s] = add ? out[c * ns + s] + y : y;
    }
}

/* vbar = (χ ⊙)ᵀ ubar (the slots carried) */
static void BlendAdjoint(AzLoss L, const HPMap *M, PetscReal f[][5], const PetscScalar ub[], PetscScalar vb[])
{
  const PetscInt ns = L->nslot;
  for (PetscInt q = 0; q < L->ncomp * ns; q++) vb[q] = 0;
  for (PetscInt c = 0; c < L->ncomp; c++)
    for (PetscInt s = 0; s < ns; s++)
      if ((L->mask >> s) & 1)
        for (PetscInt t = 0; t < M->nprod[s]; t++) vb[c * ns + M->pslot[s][t]] += M->pcoef[s][t] * ChiD(M, f, M->pb[s][t]) * ub[c * ns + s];
}

/* crisp boxes (-az_moe_blend interface): the experts a point's output combines, with their signs: the
 * one whose box [c_e, c_{e+1}) holds x_0; at an interface point (a->jump, x_0 = c_i) u_{i−1} − u_i */
static PetscInt Experts(const HPMap *M, PetscInt ncoord, const AzChainArgs *a, PetscInt p, PetscInt e[2], PetscReal sg[2])
{
  const PetscReal z = (a->x[p * ncoord] - M->cut[0][0]) / (M->cut[0][M->E] - M->cut[0][0]) * M->E;

  if (a->jump) {
    const PetscInt i = PetscMax(1, PetscMin(M->E - 1, (PetscInt)PetscFloorReal(z + 0.5)));
    e[0]             = i - 1;
    e[1]             = i;
    sg[0]            = 1;
    sg[1]            = -1;
    return 2;
  }
  e[0]  = PetscMax(0, PetscMin(M->E - 1, (PetscInt)PetscFloorReal(z)));
  sg[0] = 1;
  return 1;
}

static PetscErrorCode Forward(AzChainMap m, const AzChainArgs *a, const PetscScalar in[], PetscScalar out[])
{
  AzLoss         L = m->L;
  HPMap         *M = (HPMap *)m->data;
  const PetscInt ns = L->nslot, Lo = L->ncomp * ns;
  PetscScalar    v[AZ_MAX_COMP * AZ_JET_MAX_NSLOT];

  PetscFunctionBegin;
  if (!a->training) {
    PetscObjectState st;
    PetscCall(AzLossThetaState(L, &st));
    PetscCheck(M->valid && st == M->state, PETSC_COMM_SELF, PETSC_ERR_ORDER, "-az_hardpde: the output weights were solved at other network parameters; bring them to these parameters first (AzLossSyncSolution or AzLossEvaluate, collective)");
  }
  PetscCheck(!a->jump || M->crisp, PETSC_COMM_SELF, PETSC_ERR_PLIB, "-az_hardpde: jumps at the cuts need -az_moe_blend interface");
  for (PetscInt p = 0; p < a->npts; p++) {
    const PetscScalar *phi = in + (size_t)p * m->ncin * ns;
    if (M->E == 1) {
      Combine(L->ncomp, M->ex[0].K, ns, M->ex[0].w, phi, out + (size_t)p * Lo);
      continue;
    }
    if (M->crisp) { /* u = Σ_k sg_k u_{e_k}: one expert, or a jump */
      PetscInt  ne, e[2];
      PetscReal sg[2];
      ne = Experts(M, L->ncoord, a, p, e, sg);
      Combine(L->ncomp, M->ex[e[0]].K, ns, M->ex[e[0]].w, phi, out + (size_t)p * Lo);
      for (PetscInt k = 1; k < ne; k++) {
        Combine(L->ncomp, M->ex[e[k]].K, ns, M->ex[e[k]].w, phi, v);
        for (PetscInt s = 0; s < Lo; s++) out[(size_t)p * Lo + s] += sg[k] * v[s];
      }
      continue;
    }
    for (PetscInt e = 0; e < M->E; e++) {
      PetscReal f[AZ_MAX_COORD][5];
      AzHPChi(M, e, a->x + p * L->ncoord, f);
      Combine(L->ncomp, M->ex[e].K, ns, M->ex[e].w, phi, v);
      Blend(L, M, f, v, out + (size_t)p * Lo, e > 0 ? PETSC_TRUE : PETSC_FALSE);
    }
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* du = Σ_e χ_e (Σ w_e dφ + Σ ẇ_e φ where training sees the solve) */
static PetscErrorCode Tangent(AzChainMap m, const AzChainArgs *a, const PetscScalar in[], const PetscScalar din[], PetscScalar dout[])
{
  AzLoss         L  = m->L;
  HPMap         *M  = (HPMap *)m->data;
  const PetscInt ns = L->nslot, Lo = L->ncomp * ns;
  PetscScalar    v[AZ_MAX_COMP * AZ_JET_MAX_NSLOT], e2[AZ_MAX_COMP * AZ_JET_MAX_NSLOT];

  PetscFunctionBegin;
  for (PetscInt p = 0; p < a->npts && M->crisp; p++) { /* du = Σ_k sg_k (Σ w_{e_k} dφ + Σ ẇ_{e_k} φ) */
    PetscInt  ne, ex[2];
    PetscReal sg[2];
    ne = Experts(M, L->ncoord, a, p, ex, sg);
    for (PetscInt s = 0; s < Lo; s++) dout[(size_t)p * Lo + s] = 0;
    for (PetscInt k = 0; k < ne; k++) {
      HardPDE *h = &M->ex[ex[k]];
      Combine(L->ncomp, h->K, ns, h->w, din + (size_t)p * m->ncin * ns, v);
      if (a->training) {
        Combine(L->ncomp, h->K, ns, h->wdot, in + (size_t)p * m->ncin * ns, e2);
        for (PetscInt s = 0; s < Lo; s++) v[s] += e2[s];
      }
      for (PetscInt s = 0; s < Lo; s++) dout[(size_t)p * Lo + s] += sg[k] * v[s];
    }
  }
  for (PetscInt p = 0; p < a->npts && !M->crisp; p++)
    for (PetscInt e = 0; e < M->E; e++) {
      HardPDE *h = &M->ex[e];
      PetscReal f[AZ_MAX_COORD][5];
      Combine(L->ncomp, h->K, ns, h->w, din + (size_t)p * m->ncin * ns, v);
      if (a->training) {
        Combine(L->ncomp, h->K, ns, h->wdot, in + (size_t)p * m->ncin * ns, e2);
        for (PetscInt s = 0; s < Lo; s++) v[s] += e2[s];
      }
      if (M->E > 1) AzHPChi(M, e, a->x + p * L->ncoord, f);
      if (M->E == 1) PetscCall(PetscArraycpy(dout + (size_t)p * Lo, v, Lo));
      else Blend(L, M, f, v, dout + (size_t)p * Lo, e > 0 ? PETSC_TRUE : PETSC_FALSE);
    }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* v̄_e = χ_eᵀ rout; rin_{(c,k),σ} = Σ_e w_{e,c,k} v̄_{e,c,σ}; side_{e,(c,k)} = Σ_σ v̄_{e,c,σ} φ_{c,k,σ} */
static PetscErrorCode Adjoint(AzChainMap m, const AzChainArgs *a, const PetscScalar in[], PetscInt nrow, const PetscScalar rout[], PetscScalar rin[], PetscScalar side[])
{
  AzLoss         L = m->L;
  HPMap         *M = (HPMap *)m->data;
  const PetscInt ns = L->nslot, K = M->ex[0].K, R = M->ex[0].R, Lo = L->ncomp * ns, Li = m->ncin * ns;
  PetscScalar    vb[AZ_MAX_COMP * AZ_JET_MAX_NSLOT];

  PetscFunctionBegin;
  for (PetscInt p = 0; p < a->npts && M->crisp; p++) { /* rin = Σ_k sg_k w_{e_k} ⊗ rout; side_{e_k} = sg_k Σ_σ rout φ */
    PetscInt  ne, ex[2];
    PetscReal sg[2];
    ne = Experts(M, L->ncoord, a, p, ex, sg);
    for (PetscInt q = 0; q < nrow; q++) {
      const PetscScalar *ro = rout + ((size_t)p * nrow + q) * Lo;
      PetscScalar       *ri = rin + ((size_t)p * nrow + q) * Li;
      PetscScalar       *rs = side ? side + ((size_t)p * nrow + q) * R * M->E : NULL;
      for (PetscInt i = 0; i < Li; i++) ri[i] = 0;
      for (PetscInt i = 0; rs && i < R * M->E; i++) rs[i] = 0;
      for (PetscInt k = 0; k < ne; k++) {
        const PetscScalar *w = M->ex[ex[k]].w;
        for (PetscInt c = 0; c < L->ncomp; c++)
          for (PetscInt j = 0; j < K; j++)
            for (PetscInt s = 0; s < ns; s++) ri[(c * K + j) * ns + s] += sg[k] * w[c * K + j] * ro[c * ns + s];
        if (rs) {
          const PetscScalar *phi = in + (size_t)p * Li;
          PetscScalar       *es  = rs + ex[k] * R;
          for (PetscInt c = 0; c < L->ncomp; c++)
            for (PetscInt j = 0; j < K; j++) {
              PetscScalar v = 0;
              for (PetscInt s = 0; s < ns; s++)
                if (((a->mask >> s) & 1) && ro[c * ns + s] != 0) v += ro[c * ns + s] * phi[(c * K + j) * ns + s];
              es[c * K + j] += sg[k] * v;
            }
        }
      }
    }
  }
  for (PetscInt p = 0; p < a->npts && !M->crisp; p++)
    for (PetscInt q = 0; q < nrow; q++) {
      const PetscScalar *ro = rout + ((size_t)p * nrow + q) * Lo;
      PetscScalar       *ri = rin + ((size_t)p * nrow + q) * Li;
      for (PetscInt e = 0; e < M->E; e++) {
        const PetscScalar *w = M->ex[e].w, *vbar = ro;
        if (M->E > 1) {
          PetscReal f[AZ_MAX_COORD][5];
          AzHPChi(M, e, a->x + p * L->ncoord, f);
          BlendAdjoint(L, M, f, ro, vb);
          vbar = vb;
        }
        for (PetscInt c = 0; c < L->ncomp; c++)
          for (PetscInt k = 0; k < K; k++)
            for (PetscInt s = 0; s < ns; s++) {
              const PetscScalar y = w[c * K + k] * vbar[c * ns + s];
              ri[(c * K + k) * ns + s] = e ? ri[(c * K + k) * ns + s] + y : y;
            }
        if (side) {
          const PetscScalar *phi = in + (size_t)p * Li;
          PetscScalar       *es  = side + ((size_t)p * nrow + q) * R * M->E + e * R;
          for (PetscInt c = 0; c < L->ncomp; c++)
            for (PetscInt k = 0; k < K; k++) {
              PetscScalar v = 0;
              for (PetscInt s = 0; s < ns; s++)
                if (((a->mask >> s) & 1) && vbar[c * ns + s] != 0) v += vbar[c * ns + s] * phi[(c * K + k) * ns + s];
              es[c * K + k] = v;
            }
        }
      }
    }
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode Update(AzChainMap m)
{
  AzLoss           L = m->L;
  HPMap           *M = (HPMap *)m->data;
  PetscObjectState st;

  PetscFunctionBegin;
  PetscCall(AzLossThetaState(L, &st));
  if (M->valid && st == M->state) PetscFunctionReturn(PETSC_SUCCESS);
  if (M->coupled) {
    PetscCall(AzHPCoupledUpdate(L, M, m->side));
    M->state = st;
    M->valid = PETSC_TRUE;
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  /* the basis at every expert's points, gathered onto its owner; the owners' solves (in parallel, no
   * communication); their solutions to every rank in one collective */
  PetscCall(PetscLogEventBegin(AZ_HP_Gather, 0, 0, 0, 0));
  for (PetscInt e = 0; e < M->E; e++) PetscCall(AzHPGather(L, &M->ex[e]));
  PetscCall(PetscLogEventEnd(AZ_HP_Gather, 0, 0, 0, 0));
  PetscCall(PetscLogEventBegin(AZ_HP_Solve, 0, 0, 0, 0));
  for (PetscInt e = 0; e < M->E; e++)
    if (M->ex[e].mine) PetscCall(AzHPSolve(L, &M->ex[e]));
  PetscCall(PetscLogEventEnd(AZ_HP_Solve, 0, 0, 0, 0));
  PetscCall(PetscLogEventBegin(AZ_HP_Share, 0, 0, 0, 0)); /* with the wait for the slowest owner */
  PetscCall(AzHPShare(L, M->ex, M->E));
  PetscCall(PetscLogEventEnd(AZ_HP_Share, 0, 0, 0, 0));
  M->state = st;
  M->valid = PETSC_TRUE;
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SideBackward(AzChainMap m, PetscInt g, Vec grad)
{
  HPMap *M = (HPMap *)m->data;

  PetscFunctionBegin;
  PetscCall(PetscLogEventBegin(AZ_HP_Backward, 0, 0, 0, 0));
  if (M->coupled) PetscCall(AzHPCoupledBackward(m->L, M, m->side_bar, g, grad));
  for (PetscInt e = 0; e < M->E && !M->coupled; e++) PetscCall(AzHPBackward(m->L, &M->ex[e], g, grad));
  PetscCall(PetscLogEventEnd(AZ_HP_Backward, 0, 0, 0, 0));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SideTangent(AzChainMap m, Vec v)
{
  HPMap *M = (HPMap *)m->data;

  PetscFunctionBegin;
  if (M->coupled) PetscCall(AzHPCoupledTangent(m->L, M, v, m->side_dot));
  for (PetscInt e = 0; e < M->E && !M->coupled; e++) PetscCall(AzHPTangent(m->L, &M->ex[e], v));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SideJacobian(AzChainMap m)
{
  HPMap *M = (HPMap *)m->data;

  PetscFunctionBegin;
  if (M->coupled) PetscCall(AzHPCoupledJacobian(m->L, M, m->side_jac));
  for (PetscInt e = 0; e < M->E && !M->coupled; e++) PetscCall(AzHPJacobian(m->L, &M->ex[e]));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode Destroy(AzChainMap m)
{
  HPMap *M = (HPMap *)m->data;

  PetscFunctionBegin;
  if (!M) PetscFunctionReturn(PETSC_SUCCESS);
  for (PetscInt e = 0; e < M->E; e++) PetscCall(AzHPDestroySolver(&M->ex[e]));
  if (M->coupled) PetscCall(AzHPDestroySolver(&M->cp));
  if (M->coupled) PetscCall(PetscFree4(M->cp.w, M->cp.wbar, M->cp.wdot, M->cp.wjac));
  PetscCall(PetscFree4(m->side, m->side_bar, m->side_dot, m->side_jac));
  PetscCall(PetscFree(m->data));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static const AzChainMapOps ops = {"hardpde", Forward, Tangent, Adjoint, Destroy, Update, SideBackward, SideTangent, SideJacobian};

/* the options the solved layer does not combine with (checked before the network's width) */
static PetscErrorCode Refusals(AzLoss L)
{
  PetscBool laws = PETSC_FALSE;

  PetscFunctionBegin;
  for (PetscInt l = 0; l < AZ_MAX_LAWS; l++) laws = laws || L->law_mode[l] != AZ_CONSERVE_NONE;
  /* hard conditions (the transform u = g + C N after this map) combine: u = g + Σ w C φ is affine in w;
   * but the interface term's jump u_{i−1} − u_i would gain the lift g */
  PetscCheck(!L->transform || !L->moe_interface, L->comm, PETSC_ERR_ARG_WRONG, "-az_hardpde with -az_moe_blend interface does not combine with hard boundary or initial conditions (-az_constraint hard): the jumps between experts would carry the lift; use -az_moe_blend pou or soft conditions");
  PetscCheck(L->positivity != AZ_POSITIVE_HARD && L->bounds != AZ_POSITIVE_HARD, L->comm, PETSC_ERR_ARG_WRONG, "-az_hardpde: the solution must be linear in the solved weights, so -az_positivity hard and -az_bounds hard (a nonlinear output map) are refused; their penalties (soft, linear, cosine, adaptive, auglag) are allowed");
  PetscCheck(!L->stream, L->comm, PETSC_ERR_ARG_WRONG, "-az_hardpde does not combine with -az_divfree (a stream function): choose one output map");
  PetscCheck(!laws, L->comm, PETSC_ERR_ARG_WRONG, "-az_hardpde does not combine with -az_conservation (projection or penalties of conservation laws) here: use -az_conservation none");
  PetscCheck(L->ninfer == 0, L->comm, PETSC_ERR_ARG_WRONG, "-az_hardpde does not combine with -az_infer: the solve's derivatives in the inferred parameters are not implemented");
  PetscCheck(L->resample == AZ_RESAMPLE_NONE, L->comm, PETSC_ERR_ARG_WRONG, "-az_hardpde does not combine with -az_resample %s here: use -az_resample none", AzResampleTypes[L->resample]);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* expert e's constraint sets: its share of the points, in its box (every axis with more than one expert);
 * a face of axis d is the experts' at that end of d, the initial slice the first experts' along time.
 * e < 0: the coupled solve's (M->cp): the sets of one expert on the whole box (E = 1), E·R unknowns */
static PetscErrorCode ExpertSetUp(AzLoss L, HPMap *M, PetscInt e, PetscInt N, PetscScalar *side, PetscScalar *bar, PetscScalar *dot, PetscScalar *jac)
{
  const AzProblemInfo *info;
  const PetscBool      whole = e < 0 ? PETSC_TRUE : PETSC_FALSE;
  HardPDE             *h = whole ? &M->cp : &M->ex[e];
  const PetscInt       R = (whole ? M->E : 1) * L->hardpde_K * L->ncomp, E = whole ? 1 : M->E, T = L->ncoord - 1;
  PetscReal            lo[AZ_MAX_COORD], hi[AZ_MAX_COORD], a[AZ_MAX_COORD], b[AZ_MAX_COORD];
  PetscInt             idx[AZ_MAX_COORD], nn[AZ_MAX_COORD];
  PetscBool            timed;

  PetscFunctionBegin;
  PetscCall(AzProblemGetInfo(L->prob, &info));
  PetscCall(AzProblemGetBox(L->prob, lo, hi));
  timed = L->ncoord > info->dim ? PETSC_TRUE : PETSC_FALSE;
  for (PetscInt d = 0; d < L->ncoord; d++) { /* widened by the margin at each inner cut (none for crisp boxes) */
    const PetscInt i = whole ? 0 : (e / M->stride[d]) % M->n[d];
    idx[d]           = i;
    nn[d]            = whole ? 1 : M->n[d];
    a[d]             = i > 0 ? PetscMax(lo[d], M->cut[d][i] - M->mg[d][i]) : lo[d];
    b[d]             = i < nn[d] - 1 ? PetscMin(hi[d], M->cut[d][i + 1] + M->mg[d][i + 1]) : hi[d];
  }
  h->K  = (whole ? M->E : 1) * L->hardpde_K;
  h->R  = R;
  h->LN = R * L->nslot;
  if (!whole) {
    h->w    = side + e * R;
    h->wbar = bar + e * R;
    h->wdot = dot + e * R;
    h->wjac = jac + (size_t)e * R * L->nparam;
  }
  for (PetscInt cond = AZ_COND_INTERIOR; cond <= AZ_COND_INITIAL; cond++) {
    HPSet         *S    = &h->set[h->nset];
    const PetscInt fd   = cond >= 0 && cond < 2 * info->dim ? cond / 2 : -1; /* a face's axis */
    PetscInt       nres, share;
    PetscBool      hard = PETSC_FALSE;
    if (cond >= 2 * info->dim && cond != AZ_COND_INITIAL) continue;
    if (L->transform) PetscCall(AzTransformIsHard(L->transform, cond, &hard));
    if (hard) continue; /* imposed exactly by the transform: its rows would vanish */
    if (fd >= 0 && ((cond % 2 == 0 && idx[fd] > 0) || (cond % 2 == 1 && idx[fd] < nn[fd] - 1))) continue; /* the face's end experts' */
    if (cond == AZ_COND_INITIAL && timed && idx[T] > 0) continue; /* the first experts' along time */
    PetscCall(AzProblemGetNumResiduals(L->prob, cond, &nres));
    if (!nres) continue;
    PetscCheck(nres <= 64, L->comm, PETSC_ERR_SUP, "-az_hardpde: condition %" PetscInt_FMT " has %" PetscInt_FMT " residuals per point; at most 64 are supported", cond, nres);
    share   = fd >= 0 ? E / nn[fd] : (timed ? E / nn[T] : E); /* the experts the set's points are shared by */
    S->cond = cond;
    S->nres = nres;
    S->n    = cond == AZ_COND_INTERIOR ? PetscMax(1, N / E) : ((L->ncoord == 1 && cond != AZ_COND_INITIAL) ? 1 : PetscMax(1, (share == 1 ? N : N / share) / 4));
    S->sq   = PetscSqrtReal((cond == AZ_COND_INTERIOR ? L->w_interior : (cond == AZ_COND_INITIAL ? L->w_initial : L->w_boundary)) / ((PetscReal)S->n * nres));
    /* its own points: the loss's sampler (Sobol for a grid) with another seed, each free axis onto [a, b] */
    PetscCall(AzSampleConditionLocal(L->comm, L->prob, cond, L->type == AZ_SAMPLE_GRID ? AZ_SAMPLE_SOBOL : L->type, S->n, AzLossGroupsLocalSize(L, S->n), L->seed + 7919 + 104729 * (whole ? 0 : e), &S->x));
    PetscCall(VecGetLocalSize(S->x, &S->nloc));
    S->nloc /= L->ncoord;
    for (PetscInt j = 0; j < (whole ? 0 : M->nact); j++) {
      const PetscInt d = M->act[j];
      PetscScalar   *xa;
      if (d == fd || (cond == AZ_COND_INITIAL && timed && d == T)) continue; /* the axis the set lies across */
      PetscCall(VecGetArray(S->x, &xa));
      for (PetscInt p = 0; p < S->nloc; p++) xa[p * L->ncoord + d] = a[d] + (PetscRealPart(xa[p * L->ncoord + d]) - lo[d]) * (b[d] - a[d]) / (hi[d] - lo[d]);
      PetscCall(VecRestoreArray(S->x, &xa));
    }
    PetscCall(PetscMalloc1((size_t)PetscMax(S->nloc, 1) * R * L->nslot, &S->phi));
    h->nrows += S->n * nres;
    h->nset++;
  }
  PetscCheck(h->nrows >= R, L->comm, PETSC_ERR_ARG_OUTOFRANGE, "-az_hardpde: %" PetscInt_FMT " constraint residuals for %" PetscInt_FMT " unknown weights of %s(-az_hardpde_basis %" PetscInt_FMT " times %" PetscInt_FMT " components); at least as many residuals as unknowns are needed: raise -az_hardpde_points (now %" PetscInt_FMT " in all), lower -az_hardpde_basis%s", h->nrows, R, E > 1 ? "an expert " : (whole ? "all the experts together " : ""), L->hardpde_K, L->ncomp, N, E > 1 || whole ? " or use fewer experts (-az_moe_experts)" : "");
  PetscCall(AzHPSetUpSolver(L, h, whole ? 0 : e, E));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* how E experts tile the box: experts per axis (-az_moe_grid, else the axes given cuts, else all along
 * the first axis), the cuts (-az_moe_cuts_<axis>, else even), the blend's width τ at each cut and the
 * boxes' margin there (even cuts: τ = box / 16, half a box, as before; given cuts: τ = the smaller
 * neighbouring box / 16 and 8τ, where χ has fallen below 4e-4) */
static PetscErrorCode Layout(AzLoss L, HPMap *M, PetscInt E)
{
  const AzProblemInfo *info;
  const char *const    names[AZ_MAX_COORD] = {"x", "y", "z", "t"};
  PetscReal            lo[AZ_MAX_COORD], hi[AZ_MAX_COORD];
  PetscInt             prod = 1, anycut = 0, opt[AZ_MAX_COORD];
  PetscBool            timed;

  PetscFunctionBegin;
  PetscCall(AzProblemGetInfo(L->prob, &info));
  PetscCall(AzProblemGetBox(L->prob, lo, hi));
  timed = L->ncoord > info->dim ? PETSC_TRUE : PETSC_FALSE;
  for (PetscInt d = 0; d < L->ncoord; d++) opt[d] = timed && d == L->ncoord - 1 ? 3 : d; /* the option's axis name */
  for (PetscInt k = 0; k < AZ_MAX_COORD; k++) {
    PetscBool has = PETSC_FALSE;
    for (PetscInt d = 0; d < L->ncoord; d++) has = has || opt[d] == k;
    PetscCheck(L->moe_ncuts[k] < 0 || has, L->comm, PETSC_ERR_ARG_WRONG, "-az_moe_cuts_%s: the problem has no axis %s (its coordinates: %" PetscInt_FMT " spatial%s)", names[k], names[k], info->dim, timed ? " and t" : "");
    anycut += L->moe_ncuts[k] >= 0;
  }
  PetscCheck(L->moe_ngrid <= L->ncoord, L->comm, PETSC_ERR_ARG_WRONG, "-az_moe_grid: %s%" PetscInt_FMT " counts for a problem of %" PetscInt_FMT " coordinates (time last): give at most one per coordinate", L->moe_ngrid > AZ_MAX_COORD ? "more than " : "", L->moe_ngrid > AZ_MAX_COORD ? (PetscInt)AZ_MAX_COORD : L->moe_ngrid, L->ncoord);
  for (PetscInt d = 0; d < L->ncoord; d++) {
    if (L->moe_ngrid) M->n[d] = d < L->moe_ngrid ? L->moe_grid[d] : 1;
    else if (anycut) M->n[d] = L->moe_ncuts[opt[d]] >= 0 ? L->moe_ncuts[opt[d]] + 1 : 1;
    else M->n[d] = d ? 1 : E;
    PetscCheck(M->n[d] >= 1 && M->n[d] <= AZ_HP_MAX_EXPERTS, L->comm, PETSC_ERR_ARG_OUTOFRANGE, "-az_moe_grid: %" PetscInt_FMT " experts along %s; between 1 and %d", M->n[d], names[opt[d]], AZ_HP_MAX_EXPERTS);
    prod *= M->n[d];
    PetscCheck(prod <= AZ_HP_MAX_EXPERTS, L->comm, PETSC_ERR_ARG_OUTOFRANGE, "-az_moe_grid: more than %d experts", AZ_HP_MAX_EXPERTS);
  }
  if (prod != E) {
    char list[64] = "";
    for (PetscInt d = 0; d < L->ncoord; d++) PetscCall(PetscSNPrintf(list + strlen(list), sizeof list - strlen(list), "%s%" PetscInt_FMT, d ? "," : "", M->n[d]));
    SETERRQ(L->comm, PETSC_ERR_ARG_INCOMP, "-az_moe_grid/-az_moe_cuts_*: %s experts per axis (time last) make %" PetscInt_FMT ", but there are %" PetscInt_FMT " experts (-az_moe_experts %" PetscInt_FMT "%s): make them agree", list, prod, E, L->moe_experts, L->moe_experts ? "" : ", one per rank");
  }
  PetscCheck(!M->crisp || (M->n[0] == E && !anycut), L->comm, PETSC_ERR_ARG_WRONG, "-az_moe_blend interface joins experts along the first axis at even cuts only: leave out -az_moe_grid and -az_moe_cuts_*, or use -az_moe_blend pou");
  M->nact = 0;
  for (PetscInt d = 0; d < L->ncoord; d++) {
    const PetscInt n = M->n[d], nc = L->moe_ncuts[opt[d]];
    const PetscReal *c = L->moe_cuts[opt[d]];
    M->stride[d] = d ? M->stride[d - 1] * M->n[d - 1] : 1;
    if (n > 1) M->act[M->nact++] = d;
    PetscCheck(nc < 0 || nc == n - 1, L->comm, PETSC_ERR_ARG_INCOMP, "-az_moe_cuts_%s: %" PetscInt_FMT " cuts for %" PetscInt_FMT " experts along %s; give %" PetscInt_FMT, names[opt[d]], nc, n, names[opt[d]], n - 1);
    for (PetscInt i = 0; i <= n; i++) M->cut[d][i] = lo[d] + (hi[d] - lo[d]) * i / n;
    for (PetscInt i = 0; i <= n; i++) {
      M->tau[d][i] = (hi[d] - lo[d]) / (16 * n); /* the blend's width: a steep one makes u's derivatives at the cuts large */
      M->mg[d][i]  = M->crisp ? 0 : (hi[d] - lo[d]) / (2 * n); /* half a neighbour's box: χ_e is below 4e-4 beyond it; crisp boxes: none */
    }
    if (nc <= 0) continue;
    for (PetscInt i = 0; i < nc; i++) {
      PetscCheck(c[i] > lo[d] && c[i] < hi[d], L->comm, PETSC_ERR_ARG_OUTOFRANGE, "-az_moe_cuts_%s: cut %g is not inside the box's (%g, %g) along %s", names[opt[d]], (double)c[i], (double)lo[d], (double)hi[d], names[opt[d]]);
      PetscCheck(i == 0 || c[i] > c[i - 1], L->comm, PETSC_ERR_ARG_OUTOFRANGE, "-az_moe_cuts_%s: the cuts must increase (%g after %g)", names[opt[d]], (double)c[i], (double)c[i - 1]);
      M->cut[d][i + 1] = c[i];
    }
    /* the blend's width is a sixteenth of the narrower neighbouring box and χ's derivatives (to the
     * fourth) go as its inverse powers: a box of 1e-300 made them overflow to NaN */
    for (PetscInt i = 0; i < n; i++)
      PetscCheck(M->cut[d][i + 1] - M->cut[d][i] >= 1e-6 * (hi[d] - lo[d]), L->comm, PETSC_ERR_ARG_OUTOFRANGE, "-az_moe_cuts_%s: expert %" PetscInt_FMT "'s box along %s, [%g, %g], is narrower than 1e-6 of the axis (%g); move the cuts apart", names[opt[d]], i, names[opt[d]], (double)M->cut[d][i], (double)M->cut[d][i + 1], (double)(hi[d] - lo[d]));
    for (PetscInt i = 1; i < n; i++) {
      M->tau[d][i] = PetscMin(M->cut[d][i] - M->cut[d][i - 1], M->cut[d][i + 1] - M->cut[d][i]) / 16;
      M->mg[d][i]  = 8 * M->tau[d][i];
    }
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzChainMapCreate_HardPDE(AzLoss L, AzChainMap *m)
{
  HPMap      *M;
  PetscInt    N, R, E = L->moe_experts;
  PetscMPIInt size;

  PetscFunctionBegin;
  *m = NULL;
  if (!L->hardpde) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCallMPI(MPI_Comm_size(L->comm, &size));
  if (E == 0) E = size; /* one expert per rank */
  PetscCheck(E >= 1 && E <= AZ_HP_MAX_EXPERTS, L->comm, PETSC_ERR_ARG_OUTOFRANGE, "-az_moe_experts %" PetscInt_FMT ": between 1 and %d experts (0: one per rank)", E, AZ_HP_MAX_EXPERTS);
  R = L->hardpde_K * L->ncomp;
  PetscCall(AzChainMapAllocate(L, &ops, R, L->ncomp, m));
  PetscCall(PetscNew(&M));
  (*m)->data       = M;
  (*m)->keep_input = PETSC_TRUE;
  (*m)->nside      = R * E;
  (*m)->nslice     = 1;
  M->E             = E;
  M->crisp         = L->moe_interface && E > 1 ? PETSC_TRUE : PETSC_FALSE;
  PetscCall(Layout(L, M, E));
  if (!M->crisp) PetscCall(AzHPProductTable(L, M));
  N = L->hardpde_n ? L->hardpde_n : 4 * R * E;
  PetscCall(PetscCalloc4(R * E, &(*m)->side, R * E, &(*m)->side_bar, R * E, &(*m)->side_dot, (size_t)R * E * L->nparam, &(*m)->side_jac));
  M->coupled = L->moe_coupled && E > 1 ? PETSC_TRUE : PETSC_FALSE; /* one expert: the global solve */
  for (PetscInt e = 0; e < E && !M->coupled; e++) PetscCall(ExpertSetUp(L, M, e, N, (*m)->side, (*m)->side_bar, (*m)->side_dot, (*m)->side_jac));
  if (M->coupled) {
    for (PetscInt e = 0; e < E; e++) { /* the experts' views of the side inputs, for the map */
      M->ex[e].K = L->hardpde_K;
      M->ex[e].R = R;
      M->ex[e].w    = (*m)->side + e * R;
      M->ex[e].wbar = (*m)->side_bar + e * R;
      M->ex[e].wdot = (*m)->side_dot + e * R;
      M->ex[e].wjac = (*m)->side_jac + (size_t)e * R * L->nparam;
    }
    PetscCall(AzHPCoupledSetUp(L, M));
    PetscCall(ExpertSetUp(L, M, -1, N, NULL, NULL, NULL, NULL));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* the jump slots: ∂^k/∂x_0^k for k below the highest order in x_0 the problem's jets carry (at least u) */
PetscInt AzHardPDEJumpSlots(AzLoss L, PetscInt slots[])
{
  const PetscInt n = L->ncoord, all[5] = {0, AzJetSlotD1(n, 0), AzJetSlotD2(n, 0, 0), AzJetSlotD3(n, 0), AzJetSlotD4(n, 0)};
  PetscInt       order = 0, nj = 0;

  for (PetscInt k = 1; k < 5; k++)
    if ((L->mask >> all[k]) & 1) order = k;
  for (PetscInt k = 0; k < PetscMax(order, 1); k++)
    if (!k || ((L->mask >> all[k]) & 1)) slots[nj++] = all[k];
  return nj;
}

/* the interface term's points: the interior sampler with its own seed, the first coordinate then put on
 * cut i = 1 + (global index mod (E − 1)), c_i = lo + (hi − lo) i / E as the map's cuts: the same points on
 * any number of ranks */
PetscErrorCode AzHardPDEInterfacePoints(AzLoss L, PetscInt *n, PetscInt *nres, Vec *x)
{
  PetscMPIInt  size;
  PetscInt     E = L->moe_experts, slot[5], start, nloc;
  PetscReal    lo[AZ_MAX_COORD], hi[AZ_MAX_COORD];
  PetscScalar *xa;

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_size(L->comm, &size));
  if (E == 0) E = size;
  PetscCheck(E >= 2, L->comm, PETSC_ERR_ARG_WRONG, "-az_moe_blend interface joins experts at the cuts between them: it needs at least 2 experts, and -az_moe_experts %" PetscInt_FMT " gives %" PetscInt_FMT " (0: one per rank, here %d ranks); use -az_moe_blend pou or more experts", L->moe_experts, E, (int)size);
  *nres = L->ncomp * AzHardPDEJumpSlots(L, slot);
  *n    = L->moe_interface_n ? L->moe_interface_n : (L->ncoord == 1 ? 1 : L->n_boundary) * (E - 1);
  PetscCheck(*n >= E - 1, L->comm, PETSC_ERR_ARG_OUTOFRANGE, "-az_moe_interface_points %" PetscInt_FMT ": at least one point per cut (%" PetscInt_FMT " cuts between %" PetscInt_FMT " experts)", *n, E - 1, E);
  PetscCall(AzProblemGetBox(L->prob, lo, hi));
  PetscCall(AzSampleConditionLocal(L->comm, L->prob, AZ_COND_INTERIOR, L->type == AZ_SAMPLE_GRID ? AZ_SAMPLE_SOBOL : L->type, *n, AzLossGroupsLocalSize(L, *n), L->seed + 15485863, x));
  PetscCall(VecGetOwnershipRange(*x, &start, NULL));
  PetscCall(VecGetLocalSize(*x, &nloc));
  PetscCall(VecGetArray(*x, &xa));
  for (PetscInt p = 0; p < nloc / L->ncoord; p++) {
    const PetscInt i       = 1 + (start / L->ncoord + p) % (E - 1);
    xa[p * L->ncoord] = lo[0] + (hi[0] - lo[0]) * i / E;
  }
  PetscCall(VecRestoreArray(*x, &xa));
  PetscCall(AzLossSnapTimes(L, *x));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzHardPDECheck(AzLoss L)
{
  PetscFunctionBegin;
  if (L->hardpde) PetscCall(Refusals(L));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static AzChainMap HardPDEMap(AzLoss L)
{
  for (PetscInt i = 0; i < AzChainNumMaps(L->chain); i++)
    if (!strcmp(AzChainGetMap(L->chain, i)->ops->name, "hardpde")) return AzChainGetMap(L->chain, i);
  return NULL;
}

/* the set-up loss's solved output layer, for the public function fn; with expert, e must name an expert */
static PetscErrorCode HardPDEData(AzLoss L, const char fn[], PetscBool expert, PetscInt e, HPMap **M)
{
  AzChainMap m;

  PetscFunctionBegin;
  PetscCall(AzLossSetUp(L));
  m = HardPDEMap(L);
  PetscCheck(m, L->comm, PETSC_ERR_ARG_WRONG, "%s: the loss has no solved output layer (-az_hardpde)", fn);
  *M = (HPMap *)m->data;
  PetscCheck(!expert || (e >= 0 && e < (*M)->E), L->comm, PETSC_ERR_ARG_OUTOFRANGE, "%s: expert %" PetscInt_FMT " of %" PetscInt_FMT, fn, e, (*M)->E);
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzLossHardPDEInfo(AzLoss L, PetscInt *its, PetscReal *obj, PetscInt *R, const PetscScalar *w[])
{
  AzChainMap m;
  HPMap     *M;

  PetscFunctionBegin;
  PetscCall(AzLossSetUp(L));
  m = HardPDEMap(L);
  M = m ? (HPMap *)m->data : NULL;
  if (its) *its = M ? 0 : -1;
  if (obj) *obj = 0;
  for (PetscInt e = 0; M && e < (M->coupled ? 1 : M->E); e++) {
    const HardPDE *h = M->coupled ? &M->cp : &M->ex[e];
    if (its) *its = PetscMax(*its, h->its);
    if (obj) *obj += h->obj;
  }
  if (R) *R = m ? m->nside : 0;
  if (w) *w = m ? m->side : NULL;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzLossHardPDEFinalSolve(AzLoss L)
{
  AzChainMap m;

  PetscFunctionBegin;
  PetscCall(AzLossSetUp(L));
  m = HardPDEMap(L);
  if (!m) PetscFunctionReturn(PETSC_SUCCESS);
  L->hardpde_ridge           = L->hardpde_final_ridge;
  ((HPMap *)m->data)->valid = PETSC_FALSE; /* solved again at this θ, with the final ridge */
  PetscCall(AzLossSyncSolution(L));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzLossHardPDEObjective(AzLoss L, const PetscScalar w[], PetscReal *obj, PetscScalar grad[])
{
  HPMap *M;

  PetscFunctionBegin;
  PetscCall(HardPDEData(L, "AzLossHardPDEObjective", PETSC_FALSE, 0, &M));
  PetscCall(AzChainUpdate(L->chain)); /* the basis at the current θ */
  *obj = 0;
  if (M->coupled) PetscCall(AzHPCoupledObjective(L, M, w, obj, grad));
  for (PetscInt e = 0; e < M->E && !M->coupled; e++) {
    const PetscInt R = M->ex[e].R;
    PetscReal      oe;
    PetscCall(AzHPObjective(L, &M->ex[e], w + e * R, &oe, grad ? grad + e * R : NULL));
    *obj += oe;
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzLossHardPDEExpertBox(AzLoss L, PetscInt e, PetscReal xmin[], PetscReal xmax[])
{
  HPMap    *M;
  PetscReal mm[2 * AZ_MAX_COORD];

  PetscFunctionBegin;
  PetscCall(HardPDEData(L, "AzLossHardPDEExpertBox", PETSC_TRUE, e, &M));
  for (PetscInt d = 0; d < 2 * AZ_MAX_COORD; d++) mm[d] = PETSC_MAX_REAL;
  for (PetscInt si = 0; si < (M->coupled ? M->cp.nset : M->ex[e].nset); si++) { /* coupled: the one solve's */
    const HPSet       *S = M->coupled ? &M->cp.set[si] : &M->ex[e].set[si];
    const PetscScalar *xa;
    PetscCall(VecGetArrayRead(S->x, &xa));
    for (PetscInt p = 0; p < S->nloc; p++)
      for (PetscInt d = 0; d < L->ncoord; d++) {
        mm[2 * d]     = PetscMin(mm[2 * d], PetscRealPart(xa[p * L->ncoord + d]));
        mm[2 * d + 1] = PetscMin(mm[2 * d + 1], -PetscRealPart(xa[p * L->ncoord + d]));
      }
    PetscCall(VecRestoreArrayRead(S->x, &xa));
  }
  PetscCallMPI(MPIU_Allreduce(MPI_IN_PLACE, mm, (PetscMPIInt)(2 * L->ncoord), MPIU_REAL, MPIU_MIN, L->comm));
  for (PetscInt d = 0; d < L->ncoord; d++) {
    xmin[d] = mm[2 * d];
    xmax[d] = -mm[2 * d + 1];
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzLossHardPDEExpertRange(AzLoss L, PetscInt e, PetscReal *xmin, PetscReal *xmax)
{
  PetscReal a[AZ_MAX_COORD], b[AZ_MAX_COORD];

  PetscFunctionBegin;
  PetscCall(AzLossHardPDEExpertBox(L, e, a, b));
  *xmin = a[0];
  *xmax = b[0];
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzLossHardPDEExpertOwner(AzLoss L, PetscInt e, PetscMPIInt *owner, PetscInt *rows_here)
{
  HPMap *M;

  PetscFunctionBegin;
  PetscCall(HardPDEData(L, "AzLossHardPDEExpertOwner", PETSC_TRUE, e, &M));
  *owner     = M->coupled ? M->cp.owner : M->ex[e].owner; /* coupled: the one solve's rows, counted at expert 0 */
  *rows_here = M->coupled ? (M->cp.Fall && e == 0 ? M->cp.nrows : 0) : (M->ex[e].Fall ? M->ex[e].nrows : 0);
  PetscFunctionReturn(PETSC_SUCCESS);
}
