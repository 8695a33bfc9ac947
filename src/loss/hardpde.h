/* Private to the solved output layer (map_hardpde.c: the map, the experts and their blend;
 * hardpde_solve.c: one expert's constrained solve and the derivatives through it; hardpde_coupled.c:
 * the partition of unity and the experts' coupled solve). */
#ifndef AZ_HARDPDE_H
#define AZ_HARDPDE_H
#include "lossimpl.h"

#define AZ_HP_MAX_SETS (2 * AZ_MAX_DIM + 1)

typedef struct {
  PetscInt     cond, n, nres, nloc;
  PetscReal    sq;  /* the row scale √(ω/(n m)) */
  Vec          x;   /* the constraint points, distributed by groups like a term's */
  PetscScalar *phi; /* nloc × LjetN: the basis jets at the last update (with hard conditions, those of
                       the transformed basis C φ_k, u = g + Σ w C φ: AzTransformApplyLinearBlocks) */
  PetscScalar *g;   /* with hard conditions: nloc × ncomp·nslot, the lift's jets at the points (else NULL) */
  /* on the expert's owner rank only: all n points and their basis jets in global order, gathered there */
  PetscReal   *xall;
  PetscScalar *phiall, *gall;
  PetscMPIInt *cnt, *dsp; /* every rank's share of the points (Gatherv, in points) */
} HPSet;

typedef struct {
  PetscInt         K, R, nset;
  PetscInt         LN;  /* one point's basis jets, R·nslot (the network's L->LjetN but for a coupled solve) */
  const void      *moe; /* a coupled solve (-az_moe_solve coupled): the map (HPMap) whose partition of unity
                         * expands the network's R/E basis jets φ into the R = E·R/E jets χ_e φ; else NULL */
  HPSet            set[AZ_HP_MAX_SETS];
  PetscInt         nrows;            /* rows of F */
  PetscMPIInt      owner;            /* the rank that gathers the rows and solves (block distribution of the experts) */
  PetscBool        mine;             /* this rank is the owner */
  MPI_Datatype     tjet, tx;         /* one point's basis jets (LjetN scalars) and coordinates (ncoord reals) */
  PetscBool        typed;            /* tjet and tx are committed */
  PetscScalar     *w, *wbar, *wdot, *wjac;
  PetscReal       *V, *s2;           /* H = V diag(s2 + α) Vᵀ: F's right singular vectors (column j: V + j R), σ², on every rank */
  PetscReal       *Fall, *A, *work; /* the owner's: the rows [F | ρ] (by rows), their copy by columns and the solve's workspace */
  PetscInt         nwork;
  PetscObjectState state;
  PetscBool        valid;
  PetscInt         its;
  PetscReal        obj;
  PetscBool        linear; /* D = ∂r/∂u did not change with u at the first solve's points: a linear PDE */
} HardPDE;

/* the map: E experts (hardpde-moe: -az_moe_experts), tiling the box in a grid of n_d experts along each
 * axis d (-az_moe_grid; default all along the first axis), expert e = Σ_d i_d stride_d (the first axis
 * fastest), cut along axis d at c_{d,0} = lo_d < c_{d,1} < … < c_{d,n_d} = hi_d (even, or -az_moe_cuts_x|y|z|t).
 * Expert e solves its own w_e (side inputs e R .. (e+1) R − 1) from its own points in its box widened by
 * a margin m at each cut, Π_d [c_{d,i_d} − m, c_{d,i_d+1} + m], and the experts are blended by the
 * tensor-product partition of unity χ_e(x) = Π_d χ_{d,i_d}(x_d), χ_{d,i} = S((x_d − c_{d,i})/τ_{d,i}) −
 * S((x_d − c_{d,i+1})/τ_{d,i+1}) (S the logistic; S ≡ 1 below c_{d,0} and 0 above c_{d,n_d}), so that
 * u = Σ_e χ_e Σ_k w_{e,c,k} φ_{c,k}; one expert: u = Σ_k w_{c,k} φ_{c,k}. The product rule of the jets
 * runs over the axes with more than one expert only (the others' χ ≡ 1).
 * -az_moe_blend interface (crisp; experts along the first axis, even cuts only): m = 0 and
 * u = Σ_k w_{e,c,k} φ_{c,k} for x_0 in [c_e, c_{e+1}); at the interface term's points (AzChainArgs.jump,
 * x_0 = c_i) the map gives the jump u_{i−1} − u_i instead */
#define AZ_HP_MAX_EXPERTS AZ_MOE_MAX_EXPERTS
typedef struct {
  PetscInt         E;
  PetscBool        crisp; /* -az_moe_blend interface: crisp boxes, no blend */
  HardPDE          ex[AZ_HP_MAX_EXPERTS]; /* coupled: views of the side inputs (K, R, w, w̄, ẇ, ∂w/∂θ) only */
  /* -az_moe_solve coupled (hardpde_coupled.c): one solve cp for all the experts' weights W, the residual of
   * the blended u at the constraint points of the global solve (E = 1), with the E·R basis ψ_{c,e,k} =
   * χ_e φ_{c,k} in the order (c, e, k) (Combine's with K' = E·K), so that W is permuted to and from the
   * map's side inputs (e, c, k) */
  PetscBool        coupled;
  HardPDE          cp;
  PetscInt         n[AZ_MAX_COORD], stride[AZ_MAX_COORD]; /* experts per axis; e = Σ_d i_d stride_d */
  PetscInt         nact, act[AZ_MAX_COORD];               /* the axes with more than one expert */
  PetscReal        cut[AZ_MAX_COORD][AZ_HP_MAX_EXPERTS + 1], tau[AZ_MAX_COORD][AZ_HP_MAX_EXPERTS + 1], mg[AZ_MAX_COORD][AZ_HP_MAX_EXPERTS + 1]; /* per cut: position, blend width, the boxes' margin */
  PetscObjectState state;
  PetscBool        valid;
  /* the product of a jet with χ: (χv)_σ = Σ_t coef_t (∂^β_t χ) v_(slot_t), β_t's orders along the active
   * axes in pb (the first active axis fastest: a single axis' terms in order of β) */
  PetscInt  nprod[AZ_JET_MAX_NSLOT], pb[AZ_JET_MAX_NSLOT][5][AZ_MAX_COORD], pslot[AZ_JET_MAX_NSLOT][5];
  PetscReal pcoef[AZ_JET_MAX_NSLOT][5];
} HPMap;

/* ∂^β χ_e = Π_j χ_{act[j]}^(b_j) (b: β's orders along the active axes; f from AzHPChi) */
static inline PetscReal ChiD(const HPMap *M, PetscReal f[][5], const PetscInt b[])
{
  PetscReal g = f[0][b[0]];
  for (PetscInt j = 1; j < M->nact; j++) g *= f[j][b[j]];
  return g;
}

/* u (+)= g, the lift's jet (hard conditions; g NULL: none) */
static inline void AddLift(PetscInt n, const PetscScalar g[], PetscScalar u[])
{
  if (g)
    for (PetscInt q = 0; q < n; q++) u[q] += g[q];
}

/* u_c = Σ_k w_{c,k} φ_{c,k}, every slot */
static inline void Combine(PetscInt nc, PetscInt K, PetscInt ns, const PetscScalar w[], const PetscScalar phi[], PetscScalar u[])
{
  for (PetscInt c = 0; c < nc; c++)
    for (PetscInt s = 0; s < ns; s++) {
      PetscScalar v = 0;
      for (PetscInt k = 0; k < K; k++) v += w[c * K + k] * phi[(c * K + k) * ns + s];
      u[c * ns + s] = v;
    }
}

/* keep direction j of H = V diag(σ² + α) Vᵀ in a solve with H (the step, λ = H⁻¹ w̄): σ_j² + α positive
 * and above rcond² σ²_max (-az_hardpde_rcond); the others are left out, as a truncated SVD does */
static inline PetscBool AzHPKeep(PetscReal s2j, PetscReal alpha, PetscReal rcond, PetscReal s2max)
{
  const PetscReal d = s2j + alpha;
  return d > 0 && d > rcond * rcond * s2max ? PETSC_TRUE : PETSC_FALSE;
}

/* hardpde_lsq.c: the SVD of the rows and one Gauss–Newton step from it (self-contained: the tests include it) */
PETSC_INTERN PetscErrorCode AzHPLeastSquaresWork(PetscInt, PetscInt, PetscInt *);
PETSC_INTERN PetscErrorCode AzHPLeastSquares(PetscInt, PetscInt, PetscReal[], PetscReal, PetscReal, const PetscReal[], PetscReal[], PetscInt, PetscReal[], PetscReal[], PetscReal[]);

/* hardpde_solve.c: one expert's solve on its owner rank and the implicit-function-theorem derivatives.
 * An update is AzHPGather for every expert (collective: the basis at this rank's points, sent to the
 * owner), AzHPSolve on the owner of each (no communication), then AzHPShare (one collective: w, V, σ²). */
PETSC_INTERN PetscErrorCode AzHPSetUpSolver(AzLoss, HardPDE *, PetscInt, PetscInt);
PETSC_INTERN PetscErrorCode AzHPDestroySolver(HardPDE *);
PETSC_INTERN void           AzHPSolveH(AzLoss, HardPDE *, const PetscScalar[], PetscScalar[]);
PETSC_INTERN PetscErrorCode AzHPGather(AzLoss, HardPDE *);
PETSC_INTERN PetscErrorCode AzHPSolve(AzLoss, HardPDE *);
PETSC_INTERN PetscErrorCode AzHPShare(AzLoss, HardPDE[], PetscInt);
PETSC_INTERN PetscErrorCode AzHPObjective(AzLoss, HardPDE *, const PetscScalar[], PetscReal *, PetscScalar[]);
PETSC_INTERN PetscErrorCode AzHPBackward(AzLoss, HardPDE *, PetscInt, Vec);
PETSC_INTERN PetscErrorCode AzHPTangent(AzLoss, HardPDE *, Vec);
PETSC_INTERN PetscErrorCode AzHPJacobian(AzLoss, HardPDE *);

/* hardpde_coupled.c: χ_e's factors along the active axes at x and their derivatives; the product
 * rule's table of a jet with χ (HPMap's nprod, pb, pslot, pcoef) */
PETSC_INTERN void           AzHPChi(const HPMap *, PetscInt, const PetscReal[], PetscReal[][5]);
PETSC_INTERN PetscErrorCode AzHPProductTable(AzLoss, HPMap *);
/* hardpde_coupled.c: the coupled solve (-az_moe_solve coupled). AzHPExpand: np points' network jets
 * (L->LjetN each) to the coupled basis' χ_e φ (h->LN each); AzHPCollapse its adjoint */
PETSC_INTERN PetscErrorCode AzHPExpand(AzLoss, const HardPDE *, PetscInt, const PetscReal[], const PetscScalar[], PetscScalar[]);
PETSC_INTERN PetscErrorCode AzHPCollapse(AzLoss, const HardPDE *, PetscInt, const PetscReal[], const PetscScalar[], PetscScalar[]);
PETSC_INTERN PetscErrorCode AzHPCoupledSetUp(AzLoss, HPMap *);
PETSC_INTERN PetscErrorCode AzHPCoupledUpdate(AzLoss, HPMap *, PetscScalar[]);
PETSC_INTERN PetscErrorCode AzHPCoupledBackward(AzLoss, HPMap *, const PetscScalar[], PetscInt, Vec);
PETSC_INTERN PetscErrorCode AzHPCoupledTangent(AzLoss, HPMap *, Vec, PetscScalar[]);
PETSC_INTERN PetscErrorCode AzHPCoupledJacobian(AzLoss, HPMap *, PetscScalar[]);
PETSC_INTERN PetscErrorCode AzHPCoupledObjective(AzLoss, HPMap *, const PetscScalar[], PetscReal *, PetscScalar[]);
#endif
