/* Private to src/loss: the loss object and its terms. */
#ifndef ANSATZ_LOSSIMPL_H
#define ANSATZ_LOSSIMPL_H

#include <ansatz/loss.h>
#include <ansatz/compat.h>
#include <ansatz/constraint.h>

typedef struct {
  char      name[32];
  PetscInt  cond; /* AZ_COND_INTERIOR, a face, AZ_COND_INITIAL */
  PetscInt  n;    /* global points */
  PetscInt  nres; /* residuals per point */
  PetscReal w;
  Vec       x;    /* distributed points, block size ncoord */
  Vec       obs;  /* data term only: observed values, block size ncomp, distributed like x */
  /* the Gauss–Newton linearisation (gnop.c): scaled residuals, their jet derivatives, work */
  PetscScalar *lin_rho, *lin_D, *lin_jet, *lin_w;
  /* how a boundary or initial term is enforced (strategy.c); the PDE and data terms are plain */
  AzConstraintType ctype;
  PetscReal        w0;        /* the configured weight: where a schedule starts */
  PetscScalar     *lambda;    /* augmented Lagrangian: a multiplier per local residual */
  PetscReal        mu;        /* augmented Lagrangian: penalty (the term's weight is μ/2) */
  PetscReal        violation; /* augmented Lagrangian: max |r| at the last multiplier update */
  /* in-training projection (project.c): each local point's time slice, and for matrix-free
   * Gauss–Newton the rows E = ∂ρ/∂c (nk·nlaw per residual row) */
  PetscInt    *group;
  PetscScalar *lin_E;
  /* a conservation-law penalty (AZ_COND_LAW): which law of the problem, and its target M */
  PetscInt  law;
  PetscReal lawM;
} AzTerm;

#define AZ_PROJ_CACHE 64

/* The projection onto linear conservation laws (project.c) */
typedef struct {
  PetscInt     nlaw, law[AZ_MAX_LAWS];
  PetscInt     nk;                         /* time-derivative orders carried by c: k = 0 .. nk-1 */
  PetscInt     tslot[AZ_MAX_ORDER + 1];    /* jet slot of ∂ₜᵏ */
  PetscInt     kof[AZ_JET_MAX_NSLOT];      /* slot σ = ∂ₜᵏ∂^α: k (-1: slot not propagated) */
  PetscInt     sof[AZ_JET_MAX_NSLOT];      /*                  the slot of ∂^α in the shape's jet */
  PetscInt     nq;                         /* spatial quadrature nodes */
  PetscReal   *qx;                         /* nq × dim */
  PetscReal   *qw;                         /* nq: the quadrature weights */
  PetscReal   *qa;                         /* nq × nlaw × ncomp: w_j ∂q_l/∂u_c (x_j) */
  PetscReal    qb[AZ_MAX_LAWS];            /* Σ_j w_j q_l(x_j, 0) */
  PetscReal    M[AZ_MAX_LAWS];             /* the laws' targets */
  PetscReal    beta[AZ_MAX_LAWS][AZ_MAX_COMP];
  PetscReal    Ginv[AZ_MAX_LAWS * AZ_MAX_LAWS];
  PetscReal   *xw;                         /* workspace: nq × ncoord node coordinates */
  PetscScalar *jw, *jw2;                   /* workspace: nq × ncomp·nslot jets */
  PetscScalar *dq, *vw;                    /* law penalties: w_j ∂q/∂u at the nodes; the network's jets before softplus */
  /* training: the distinct collocation times of all terms over all ranks, and c at each */
  PetscInt     ng;
  PetscReal   *gt;
  PetscScalar *gc, *gcbar, *gcdot, *gjac;  /* ng × nk·nlaw (gjac: × nparam) */
  PetscBool    gvalid;
  PetscObjectState gstate;
  /* the report: c at recently used times */
  PetscInt         cn, cnext;
  PetscReal        ct[AZ_PROJ_CACHE];
  PetscScalar      cc[AZ_PROJ_CACHE][(AZ_MAX_ORDER + 1) * AZ_MAX_LAWS];
  PetscObjectState cstate;
} AzProjection;

#define AZ_COND_DATA     (-2) /* a data term: r = u − u_obs at observation points */
#define AZ_COND_POSITIVE (-3) /* a positivity penalty: r_c = min(u_c, 0) at the interior points */
#define AZ_COND_LAW      (-4) /* a conservation-law penalty: r = Q_h(t_g) − M per time slice (no points) */

struct _p_AzLoss {
  MPI_Comm     comm;
  char        *prefix; /* options prefix (NULL: none) */
  AzProblem    prob;
  AzField      field;
  PetscInt     ncoord, ncomp, nslot, nparam;
  AzSampleType type;
  PetscInt64   seed;
  PetscInt     n_interior, n_boundary, n_initial, eval_n, chunk;
  PetscReal    w_interior, w_boundary, w_initial, w_data, w_positive, w_law;
  char         data_file[PETSC_MAX_PATH_LEN];
  PetscInt     nterms;
  AzTerm       term[AZ_MAX_TERMS];
  PetscBool    setup;
  AzReference  ref; /* yardstick when the problem has no exact solution (not owned) */
  PetscBool    hard_boundary, hard_initial;
  AzConstraintType con_boundary, con_initial;
  AzConstraintType con_face[2 * AZ_MAX_DIM];  /* per face (-az_constraint_bc_x0 ...), default con_boundary */
  PetscBool        hard_face[2 * AZ_MAX_DIM];
  PetscReal    weight_max, peak;             /* schedules: final weight, fraction of training where it is reached */
  PetscInt     adaptive_every;               /* adaptive balancing: update period */
  PetscReal    adaptive_alpha;               /* adaptive balancing: moving-average factor */
  AzAdaptiveRule adaptive_rule;              /* adaptive balancing: which ratio of gradients */
  PetscReal    adaptive_min, adaptive_max;   /* adaptive balancing: weight bounds */
  PetscInt     auglag_every;                 /* augmented Lagrangian: multiplier update period */
  PetscReal    auglag_mu0, auglag_grow, auglag_mu_max;
  AzTransform  transform; /* u = g + φN when some conditions are hard (NULL otherwise) */
  AzStream     stream;   /* divergence-free velocity by a stream function (NULL otherwise) */
  PetscInt     ncompN, LjetN; /* the network's components and jet length (= the solution's without a stream function) */
  PetscScalar *njets, *nD; /* chunk × LjetN network jets; chunk × nrmax × LjetN network-side rows */
  AzConservationType conservation;            /* -az_conservation: the default for the laws */
  AzConservationType law_mode[AZ_MAX_LAWS];   /* each law's (-az_conservation_NAME) */
  AzConservationType proj_mode;               /* the projected laws': none, project or posthoc */
  AzPositivityType   positivity;
  PetscInt           pos_mask; /* jet slots the softplus map propagates */
  PetscScalar       *vjets;    /* chunk × ncomp·nslot: the network's jets before softplus */
  PetscInt     project_nodes, time_slices, drift_nodes;
  char        *law_names[AZ_MAX_LAWS]; /* -az_conservation_laws: which laws (none given: all) */
  PetscInt     nlaw_names;
  AzProjection proj;
  /* chunk workspace */
  PetscScalar *jets, *D, *r, *Jrows; /* jets: chunk × L; D: chunk × nres × L; r: chunk × nres */
  /* sums that do not depend on the rank count (reduce.c): every term's points, in global index order,
   * and the time slices, fall into ngroups fixed groups; this rank owns groups [g0, g1) */
  PetscInt     ngroups, g0, g1;
};


extern PetscLogEvent AZ_LOSS_Eval, AZ_LOSS_Normal, AZ_LOSS_Fold; /* loss.c */

PETSC_INTERN PetscErrorCode AzLossConstraintOptions(AzLoss L);
PETSC_INTERN PetscErrorCode AzLossConstraintSetUpTerm(AzLoss L, AzTerm *t);
/* Reproducible sums (reduce.c). Group g of a set of n items (points of a term in global order, or
 * time slices) holds items [AzGroupStart(n, G, g), AzGroupStart(n, G, g + 1)). */
static inline PetscInt AzGroupStart(PetscInt n, PetscInt G, PetscInt g)
{
  return (PetscInt)((PetscInt64)n * g / G);
}
/* set L->ngroups' owned range [g0, g1) on this rank */
PETSC_INTERN PetscErrorCode AzLossGroupsSetUp(AzLoss L);
/* this rank's share of n items: its groups' items */
PETSC_INTERN PetscInt AzLossGroupsLocalSize(AzLoss L, PetscInt n);
/* the local items [*lo, *lo + *cnt) of owned group g in a set of n items */
PETSC_INTERN void AzLossGroupItems(AzLoss L, PetscInt n, PetscInt g, PetscInt *lo, PetscInt *cnt);
/* collective: out = Σ_g part_g in group order g = 0 .. ngroups-1, with part (g1-g0) × n holding this
 * rank's groups' partial sums: the same bits on every rank and for every rank count */
PETSC_INTERN PetscErrorCode AzLossGroupSum(AzLoss L, PetscInt n, const PetscScalar part[], PetscScalar out[]);
/* a group's share of a reduction: grad (a sequential work Vec over this group's slot, may be NULL)
 * and nextra scalars (zeroed before the call) */
typedef PetscErrorCode (*AzGroupFn)(AzLoss L, PetscInt g, Vec grad, PetscScalar extra[], void *ctx);
/* collective: grad = Σ_g grad_g and extra = Σ_g extra_g in group order (grad may be NULL); with the
 * projection in training, fn also accumulates c̄ into L->proj.gcbar (zeroed per group) and grad then
 * gets (∂c/∂θ)ᵀ c̄, summed over the slices' groups the same way */
PETSC_INTERN PetscErrorCode AzLossReduceGroups(AzLoss L, AzGroupFn fn, void *ctx, PetscInt nextra, PetscScalar extra[], Vec grad);
/* exact, order-free sum of symmetric P × P group matrices (upper triangles, fold.c): scales from the
 * total diagonal, then each group folded into one accumulator (packed upper, P(P+1)/2) */
PETSC_INTERN void AzFoldScales(PetscInt P, const PetscScalar diag[], PetscReal m[]);
PETSC_INTERN void AzFoldUpper(PetscInt P, const PetscReal *restrict m, const PetscScalar *restrict S, PetscScalar *restrict acc);

/* ∇θ mean(r_k²) of term k alone, unweighted, reduced over ranks */
PETSC_INTERN PetscErrorCode AzLossTermGradient(AzLoss L, PetscInt k, Vec g);

/* residuals (and ∂r/∂jet into D if not NULL) of term t at local points p0 .. p0+nc-1, from L->jets */
PETSC_INTERN PetscErrorCode TermResiduals(AzLoss L, AzTerm *t, PetscInt p0, PetscInt nc, const PetscReal *x, PetscScalar *D);

/* projection onto conservation laws (project.c) */
PETSC_INTERN PetscErrorCode AzGaussLegendre(PetscInt n, PetscReal x[], PetscReal w[]);
/* tensor quadrature on the spatial box: composite 8-point Gauss–Legendre with about n nodes per axis;
 * with periodic_midpoint, a periodic axis gets the n-point midpoint rule instead */
PETSC_INTERN PetscErrorCode AzLossSpatialQuadrature(AzLoss L, PetscInt n, PetscBool periodic_midpoint, PetscInt *nq, PetscReal **qx, PetscReal **qw);
/* each law's mode from -az_conservation, -az_conservation_laws and -az_conservation_NAME (checked) */
PETSC_INTERN PetscErrorCode AzConservationOptions(AzLoss L);
PETSC_INTERN PetscBool      AzConservationIsPenalty(AzConservationType mode);
PETSC_INTERN PetscErrorCode AzProjectionSetUp(AzLoss L);
/* a penalty term for law `law` (after AzProjectionSetUp): its target, name and slices */
PETSC_INTERN PetscErrorCode AzLawTermSetUp(AzLoss L, PetscInt law, AzTerm *t);
PETSC_INTERN PetscErrorCode AzProjectionDestroy(AzLoss L);
PETSC_INTERN PetscBool      AzProjectionInTraining(AzLoss L);
/* collective: c at every time slice for the current θ (recomputed only when θ changed) */
PETSC_INTERN PetscErrorCode AzProjectionUpdate(AzLoss L);
/* add the correction s(x) Σ_l c_l β_l (jets, all slots) at one point, from c (nk × nlaw) */
PETSC_INTERN void           AzProjectionAdd(AzLoss L, const PetscReal x[], const PetscScalar c[], PetscScalar jet[]);
/* e[k·nlaw + l] += Σ_σ ū_σ ∂ũ_σ/∂c_kl at one point: the adjoint of AzProjectionAdd */
PETSC_INTERN void           AzProjectionAddAdjoint(AzLoss L, const PetscReal x[], const PetscScalar ubar[], PetscScalar e[]);
/* grad += (∂c/∂θ)ᵀ c̄ over the slices of owned group g, for c̄ = L->proj.gcbar (summed over all points) */
PETSC_INTERN PetscErrorCode AzProjectionBackwardGroup(AzLoss L, PetscInt g, Vec grad);
/* collective: gcdot = (∂c/∂θ) v */
PETSC_INTERN PetscErrorCode AzProjectionTangent(AzLoss L, Vec v);
/* collective: gjac = ∂c/∂θ, dense */
PETSC_INTERN PetscErrorCode AzProjectionJacobian(AzLoss L);
/* the report's path: apply the projection at any local points (no communication) */
PETSC_INTERN PetscErrorCode AzProjectionApplyLocal(AzLoss L, PetscInt npts, const PetscReal x[], PetscScalar jets[]);
/* positivity by softplus (positive.c) */
PETSC_INTERN PetscErrorCode AzPositivitySetUp(AzLoss L);
PETSC_INTERN PetscBool      AzPositivityActive(AzLoss L);
PETSC_INTERN PetscErrorCode AzPositivityApply(AzLoss L, PetscInt npts, PetscScalar jets[]);
/* rows (nrow per point) of ∂·/∂u -> ∂·/∂v at the network jets vjets */
PETSC_INTERN PetscErrorCode AzPositivityAdjoint(AzLoss L, PetscInt npts, const PetscScalar vjets[], PetscInt nrow, PetscScalar rows[]);
/* the tangent of the values only: u̇_c = softplus'(v_c) v̇_c in the value slots of the positive components */
PETSC_INTERN PetscErrorCode AzPositivityTangentValues(AzLoss L, PetscInt npts, const PetscScalar vjets[], PetscScalar dots[]);
/* the strategy of the positivity penalty term (-az_positivity soft ... auglag) */
PETSC_INTERN AzConstraintType AzPositivityPenaltyType(AzLoss L);
/* the conservation penalty's term (project.c): this rank owns the time slices of its groups */
PETSC_INTERN PetscErrorCode AzLawTermLocalRows(AzLoss L, PetscInt *nrows);
/* augmented Lagrangian: λ ← λ + μ r at this rank's slices; *vmax = max |r| over all ranks */
PETSC_INTERN PetscErrorCode AzLawTermUpdateMultipliers(AzLoss L, AzTerm *t, PetscReal *vmax);
/* checkpoints: this rank's slice rows in global (slice) order */
PETSC_INTERN PetscErrorCode AzLawTermRowIndex(AzLoss L, PetscInt i, PetscInt *global);
/* the slices of owned group g only: Σ r² and, with grad, grad += ∇θ of the term's weighted mean */
PETSC_INTERN PetscErrorCode AzLawTermEvaluate(AzLoss L, AzTerm *t, PetscInt g, PetscReal *sumsq, Vec grad);
/* Jacobian rows of the slices of owned group g, one by one through fn (rho: this rank's rows) */
PETSC_INTERN PetscErrorCode AzLawTermRows(AzLoss L, AzTerm *t, PetscInt g, PetscScalar rho[], PetscErrorCode (*fn)(AzLoss, PetscInt, PetscInt, const PetscScalar[], const PetscScalar[], void *), void *ctx);
/* matrix-free Gauss–Newton: ρ of the slices of owned group g (Σ ρ² into *sumsq) and the node data J v and Jᵀw use */
PETSC_INTERN PetscErrorCode AzLawTermLinearize(AzLoss L, AzTerm *t, PetscInt g, PetscReal *sumsq);
PETSC_INTERN PetscErrorCode AzLawTermTangent(AzLoss L, AzTerm *t, Vec v, PetscScalar out[]);
PETSC_INTERN PetscErrorCode AzLawTermAdjoint(AzLoss L, AzTerm *t, PetscInt g, const PetscScalar w[], Vec grad);
/* the solution jets at local points p0 .. p0+nc-1 of term t, as training sees them */
PETSC_INTERN PetscErrorCode AzLossTermSolution(AzLoss L, AzTerm *t, PetscInt p0, PetscInt nc, const PetscReal *x, PetscScalar jets[]);

#endif
