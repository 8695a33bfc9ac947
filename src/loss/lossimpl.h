/* Private to src/loss: the loss object and its terms. */
#ifndef ANSATZ_LOSSIMPL_H
#define ANSATZ_LOSSIMPL_H

#include <ansatz/loss.h>
#include <ansatz/compat.h>
#include <ansatz/constraint.h>
#include <ansatz/laplace.h>

/* ---- the chain: the maps from the network's jets to the solution's (chain.c) ------------------------
 * An ordered list of maps, each a small object with an ops table (forward jets, tangent, adjoint), the
 * only place where stream function, hard transform, softplus and projection are composed. A map is
 * registered once (AzChainRegisterAll, in chain order) by a create function that returns NULL when its
 * options leave it out. A map may have side inputs: per time slice, a few global quantities computed
 * from θ (the projection's coefficients c), with their own update, tangent, adjoint and Jacobian. */
typedef struct _p_AzChainMap *AzChainMap;
typedef struct _p_AzChain    *AzChain;

/* where a map is applied: npts points x; their time slices (slice[p * sstride], NULL: not on slices);
 * the jet slots that hold values (mask); whether the chain keeps the maps' inputs for a later tangent
 * or adjoint at these points (save); training's solution or the report's (a post-hoc projection) */
typedef struct {
  PetscInt         npts;
  const PetscReal *x;
  const PetscInt  *slice;
  PetscInt         sstride;
  PetscInt         mask;
  PetscBool        save;
  PetscBool        training; /* the solution as training sees it (else as the report sees it) */
  PetscBool        jump;     /* the points lie on the experts' interfaces: the solved output layer gives the
                                jump u_{i-1} − u_i between the two experts that meet there (map_hardpde.c) */
} AzChainArgs;

typedef struct {
  const char *name;
  /* out = map(in) at every point; in == out is allowed when the map keeps the jet size */
  PetscErrorCode (*forward)(AzChainMap, const AzChainArgs *, const PetscScalar in[], PetscScalar out[]);
  /* dout = (∂out/∂in) din at the input in (the side inputs held) */
  PetscErrorCode (*tangent)(AzChainMap, const AzChainArgs *, const PetscScalar in[], const PetscScalar din[], PetscScalar dout[]);
  /* nrow rows per point: rin = rout (∂out/∂in) at in, and, with side rows (nside per row, zeroed by
   * the chain), side += rout ∂out/∂side; rin == rout is allowed when the map keeps the jet size */
  PetscErrorCode (*adjoint)(AzChainMap, const AzChainArgs *, const PetscScalar in[], PetscInt nrow, const PetscScalar rout[], PetscScalar rin[], PetscScalar side[]);
  PetscErrorCode (*destroy)(AzChainMap);
  /* side inputs (optional): collective update at the current θ; grad += (∂side/∂θ)ᵀ side_bar over the
   * slices of owned group g; side_dot = (∂side/∂θ) v; side_jac = ∂side/∂θ dense */
  PetscErrorCode (*update)(AzChainMap);
  PetscErrorCode (*side_backward)(AzChainMap, PetscInt g, Vec grad);
  PetscErrorCode (*side_tangent)(AzChainMap, Vec v);
  PetscErrorCode (*side_jacobian)(AzChainMap);
} AzChainMapOps;

struct _p_AzChainMap {
  const AzChainMapOps *ops;
  AzLoss               L;
  void                *data;
  PetscInt             index;        /* position in the chain */
  PetscInt             ncin, ncout;  /* components of the input and output jets */
  PetscBool            keep_input;   /* the tangent and adjoint read the input */
  PetscInt             nside;        /* side inputs per slice (0: none) */
  PetscInt             nslice;       /* slices they are given for (the projection: the time slices; a
                                        global block, as the solved output layer's: 1, every point's slice 0) */
  PetscScalar         *side, *side_bar, *side_dot, *side_jac; /* per slice: values, adjoints, tangents, ∂/∂θ */
  PetscScalar         *saved;        /* the input of the last forward with save */
  size_t               cap;
};

/* a map's create function: *m NULL when the loss's options leave the map out */
typedef PetscErrorCode (*AzChainMapCreateFn)(AzLoss, AzChainMap *);
PETSC_INTERN PetscErrorCode AzChainMapAllocate(AzLoss L, const AzChainMapOps *ops, PetscInt ncin, PetscInt ncout, AzChainMap *m);
PETSC_INTERN PetscErrorCode AzChainRegister(const char name[], AzChainMapCreateFn create);

/* an elementwise map u_c = f(v_c) on the components with on[c] (softplus.c: softplus; bounds.c: the
 * scaled sigmoid), jets by Faà di Bruno; fn gives f⁽ᵏ⁾(v), k = 0 .. 5, with the component's a, b */
typedef void (*AzElementwiseFn)(PetscReal v, PetscReal a, PetscReal b, PetscReal f[6]);
typedef struct {
  AzElementwiseFn fn;
  PetscBool       on[AZ_MAX_COMP];
  PetscReal       a[AZ_MAX_COMP], b[AZ_MAX_COMP];
  PetscInt        mask; /* the slots the problem's jets carry */
} AzElementwise_Ctx;
PETSC_INTERN PetscErrorCode AzElementwiseForward(AzChainMap, const AzChainArgs *, const PetscScalar[], PetscScalar[]);
PETSC_INTERN PetscErrorCode AzElementwiseTangent(AzChainMap, const AzChainArgs *, const PetscScalar[], const PetscScalar[], PetscScalar[]);
PETSC_INTERN PetscErrorCode AzElementwiseAdjoint(AzChainMap, const AzChainArgs *, const PetscScalar[], PetscInt, const PetscScalar[], PetscScalar[], PetscScalar[]);
PETSC_INTERN PetscErrorCode AzElementwiseDestroy(AzChainMap);
/* The set-up both elementwise maps share: refuses a problem without a component in on[] ("OPTION hard:
 * problem P declares no KIND component (.KIND in its descriptor)"), hard conditions ("OPTION hard
 * (FORMULA) and hard boundary or initial conditions ... cannot both be exact"), then runs check (may be
 * NULL), then refuses a projected law (the projection adds a shift that EFFECT); allocates the map
 * (ncomp in and out, ops) with its context: fn, on[], the jets' mask, keep_input. */
PETSC_INTERN PetscErrorCode AzElementwiseCreate(AzLoss L, const AzChainMapOps *ops, AzElementwiseFn fn, const PetscBool on[], const char option[], const char formula[], const char kind[], const char effect[], PetscErrorCode (*check)(AzLoss), AzChainMap *m);

/* the state of the field's θ Vec (it changes whenever θ does): what a map's cache is keyed on */
PETSC_INTERN PetscErrorCode AzLossThetaState(AzLoss L, PetscObjectState *st);
PETSC_INTERN PetscErrorCode AzChainCreate(AzLoss L, AzChain *C);
PETSC_INTERN PetscErrorCode AzChainDestroy(AzChain *C);
PETSC_INTERN PetscInt       AzChainNumMaps(AzChain C);
PETSC_INTERN AzChainMap     AzChainGetMap(AzChain C, PetscInt i);
/* maps [0, stop) (stop < 0: all): forward, tangent and adjoint over npts points. net may be NULL: the
 * field is evaluated at a->x first. net == sol is allowed when no map changes the jet size. The tangent
 * and adjoint use the inputs kept by the last forward with a->save over the same points. */
PETSC_INTERN PetscErrorCode AzChainForward(AzChain C, PetscInt stop, const AzChainArgs *a, const PetscScalar net[], PetscScalar sol[]);
PETSC_INTERN PetscErrorCode AzChainTangent(AzChain C, PetscInt stop, const AzChainArgs *a, const PetscScalar dnet[], PetscScalar dsol[]);
/* rows: nrow per point, ncomp·nslot each, overwritten; netrows receives the network-side rows (may be
 * rows itself when no map changes the jet size); side: npts·nrow × AzChainSideSize rows (or NULL) */
PETSC_INTERN PetscErrorCode AzChainAdjoint(AzChain C, PetscInt stop, const AzChainArgs *a, PetscInt nrow, PetscScalar rows[], PetscScalar netrows[], PetscScalar side[]);
/* the side inputs: per slice R = AzChainSideSize values (0: no map has side inputs); bar accumulates
 * their adjoints, dot their tangents, jac their Jacobian (R × nparam per slice) */
PETSC_INTERN PetscInt       AzChainSideSize(AzChain C);
PETSC_INTERN AzChainMap     AzChainSideMap(AzChain C);
PETSC_INTERN PetscInt       AzChainSideSlices(AzChain C);
PETSC_INTERN PetscErrorCode AzChainUpdate(AzChain C);
PETSC_INTERN PetscErrorCode AzChainSideBackward(AzChain C, PetscInt g, Vec grad);
PETSC_INTERN PetscErrorCode AzChainSideTangent(AzChain C, Vec v);
PETSC_INTERN PetscErrorCode AzChainSideJacobian(AzChain C);
/* the inputs the maps kept for npts points, value and masked slots only (for a later tangent/adjoint
 * at a stored linearisation point): size per point, copy out, copy back */
PETSC_INTERN PetscInt       AzChainStateSize(AzChain C, PetscInt mask);
PETSC_INTERN PetscErrorCode AzChainStateGet(AzChain C, PetscInt npts, PetscInt mask, PetscScalar state[]);
PETSC_INTERN PetscErrorCode AzChainStateSet(AzChain C, PetscInt npts, PetscInt mask, const PetscScalar state[]);

/* ---- terms (term.c: residuals at points; lawterm.c: a law over time slices) -----------------------
 * A term is an object with an ops table: the loss iterates over its terms and never asks their kind.
 * Rows are the term's residuals that this rank owns (points × nres, or slices), in global order. */
typedef struct _AzTerm     AzTerm;
#define AZ_TERM_NO_CONDITION (-100) /* a term that is not one of the plugin's conditions */
typedef PetscErrorCode (*AzRowsFn)(AzLoss, PetscInt g, PetscInt nrows, const PetscScalar rho[], const PetscScalar J[], void *ctx);
typedef struct {
  const char *kind;
  PetscErrorCode (*local_rows)(AzLoss, AzTerm *, PetscInt *nrows);
  PetscErrorCode (*row_index)(AzLoss, AzTerm *, PetscInt i, PetscInt *global);
  /* Σ r² over the rows of owned group g; with grad, grad += ∇θ (w/m) Σ r² for the weight w given */
  PetscErrorCode (*evaluate)(AzLoss, AzTerm *, PetscInt g, PetscReal w, PetscReal *sumsq, Vec grad);
  /* the scaled residuals ρ of owned group g and their Jacobian rows, chunk by chunk through fn */
  PetscErrorCode (*jacobian_rows)(AzLoss, AzTerm *, PetscInt g, AzRowsFn fn, void *ctx);
  /* matrix-free Gauss–Newton: keep ρ and ∂ρ/∂(network) of owned group g; J v for all local rows;
   * grad += Jᵀ w over owned group g */
  PetscErrorCode (*linearize)(AzLoss, AzTerm *, PetscInt g, PetscReal *sumsq);
  PetscErrorCode (*tangent)(AzLoss, AzTerm *, Vec v, PetscScalar out[]);
  PetscErrorCode (*adjoint)(AzLoss, AzTerm *, PetscInt g, const PetscScalar w[], Vec grad);
  /* augmented Lagrangian: λ ← λ + μ r (or the inequality's update) at every local row; *vmax the
   * violation over all ranks */
  PetscErrorCode (*update_multipliers)(AzLoss, AzTerm *, PetscReal *vmax);
  PetscErrorCode (*destroy)(AzTerm *);
} AzTermOps;

/* a point term's residual at one point (local index i) from its solution jet, and ∂r/∂jet into D */
typedef PetscErrorCode (*AzPointResidualFn)(AzLoss, AzTerm *, PetscInt i, const PetscReal x[], const PetscScalar jet[], PetscScalar r[], PetscScalar D[]);

struct _AzTerm {
  char             name[32];
  const AzTermOps *ops;
  PetscInt         cond; /* the plugin's condition: AZ_COND_INTERIOR, a face, AZ_COND_INITIAL; or none */
  PetscInt         n;    /* global points (or slices) */
  PetscInt         nres; /* residuals per point */
  PetscReal        w;
  Vec              x;    /* distributed points, block size ncoord (point terms) */
  Vec              obs;  /* data term only: observed values, block size ncomp, distributed like x */
  AzPointResidualFn residual;   /* point terms */
  PetscBool         inequality; /* multipliers of an inequality r = min(u, 0) (positivity) */
  /* the Gauss–Newton linearisation: scaled residuals, their derivatives, work */
  PetscScalar *lin_rho, *lin_D, *lin_jet, *lin_w;
  /* how the term is enforced (strategy.c) */
  AzConstraintType ctype;
  PetscReal        w0;        /* the configured weight: where a schedule starts */
  PetscScalar     *lambda;    /* augmented Lagrangian: a multiplier per local row */
  PetscReal        mu;        /* augmented Lagrangian: penalty (the term's weight is μ/2) */
  PetscReal        violation; /* augmented Lagrangian: max |r| at the last multiplier update */
  /* each local point's time slice (NULL: not on slices), and for matrix-free Gauss–Newton the rows
   * E = ∂ρ/∂(side inputs) (R per residual row) */
  PetscInt    *group;
  PetscScalar *lin_E;
  PetscScalar *lin_P; /* inverse problems: ∂ρ/∂s of every local row (ninfer per row) */
  /* a conservation-law penalty: which law of the problem, and its target M */
  PetscInt  law;
  PetscReal lawM;
  PetscBool lawvaries; /* the target varies in time: P->gM at the slices' times instead of lawM */
  /* causal training (causal.c): each local point's causal time slice (NULL: the term is not weighted);
   * its rows are weighted by the slice's w (L->causal_w), ρ by √w */
  PetscInt *cslice;
  /* time-marching (AzLossSetTimeWindow): each local point's weight, n/n_in inside the window, 0 beyond
   * it (NULL: every point counts, weight 1) */
  PetscReal *rw;
  /* the experts' interfaces (-az_moe_blend interface): the chain gives the jump between the two experts
   * that meet at each point, not the solution (AzChainArgs.jump) */
  PetscBool jump;
};

#define AZ_PROJ_CACHE 64
#define AZ_CAUSAL_MAX_EPS 16
#define AZ_MOE_MAX_EXPERTS 64 /* experts of a solved output layer (-az_moe_experts) */

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
  PetscReal    M[AZ_MAX_LAWS];             /* the laws' targets (constant ones) */
  PetscBool    varies[AZ_MAX_LAWS];        /* projected law l's target varies in time (AzProblemGetLawTarget) */
  PetscReal   *gM;                         /* ng × AZ_MAX_LAWS: law l's target at slice g's time (varying laws; else NULL) */
  PetscReal    beta[AZ_MAX_LAWS][AZ_MAX_COMP];
  PetscReal    Ginv[AZ_MAX_LAWS * AZ_MAX_LAWS];
  PetscReal   *xw;                         /* workspace: nq × ncoord node coordinates */
  PetscScalar *jw, *jw2;                   /* workspace: nq × ncomp·nslot jets */
  PetscScalar *dq, *vw;                    /* law penalties: w_j ∂q/∂u at the nodes; side-input rows at the nodes */
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


struct _p_AzLoss {
  MPI_Comm     comm;
  char        *prefix; /* options prefix (NULL: none) */
  AzProblem    prob;
  AzField      field;
  PetscInt     ncoord, ncomp, nslot, nparam;
  AzSampleType type;
  PetscInt64   seed;
  PetscInt     n_interior, n_boundary, n_initial, eval_n, chunk;
  PetscReal    w_interior, w_boundary, w_initial, w_data, w_positive, w_bounds, w_law;
  char         data_file[PETSC_MAX_PATH_LEN];
  PetscReal    data_sigma[AZ_MAX_COMP];  /* -az_data_noise: σ_c of each component's observations (default 1) */
  PetscReal    data_weight[AZ_MAX_COMP]; /* -az_data_weights: w_c (default 1) */
  PetscReal    data_scale[AZ_MAX_COMP];  /* the data residual's factor √w_c/σ_c */
  PetscInt     data_n;                   /* observations read (0: no data) */
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
  PetscScalar *nD;  /* chunk × nrmax × LjetN network-side rows */
  PetscScalar *E;   /* chunk × nrmax × side size: side-input rows */
  AzConservationType conservation;            /* -az_conservation: the default for the laws */
  AzConservationType law_mode[AZ_MAX_LAWS];   /* each law's (-az_conservation_NAME) */
  AzConservationType proj_mode;               /* the projected laws': none, project, posthoc or probconserv */
  PetscReal          pc_sigma;                /* -az_probconserv_sigma: σ_c of the constraints G u = b */
  PetscInt           pc_times;                /* -az_probconserv_times: the times they are imposed at */
  PetscBool          pc_joint;                /* -az_probconserv_mode joint: one δθ for all times (else pertime) */
  AzPositivityType   positivity;
  AzPositivityType   bounds;     /* -az_bounds: the same strategies for the two-sided bounds (.bounded) */
  AzChain            chain;    /* network -> solution (chain.c) */
  PetscInt           mask;     /* the jet slots the problem's jets carry */
  PetscInt     project_nodes, time_slices, drift_nodes;
  char        *law_names[AZ_MAX_LAWS]; /* -az_conservation_laws: which laws (none given: all) */
  PetscInt     nlaw_names;
  AzProjection proj;
  /* chunk workspace */
  PetscScalar *jets, *D, *r, *Jrows; /* jets: chunk × L; D: chunk × nres × L; r: chunk × nres */
  /* sums that do not depend on the rank count (reduce.c): every term's points, in global index order,
   * and the time slices, fall into ngroups fixed groups; this rank owns groups [g0, g1) */
  PetscInt     ngroups, g0, g1;
  /* causal training (causal.c, Wang, Sankaran & Perdikaris 2022): the PDE term's points fall into
   * causal_m time slices; slice i's rows carry the weight w_i = exp(−ε Σ_{k<i} L_k), L_k the mean r² of
   * slice k, frozen between updates (AzLossUpdateConstraints); ε steps through causal_eps[] */
  PetscBool  causal;
  PetscInt   causal_m;
  PetscReal  causal_eps[AZ_CAUSAL_MAX_EPS];
  PetscInt   causal_neps, causal_k; /* the schedule, and the index of the current ε */
  PetscReal  causal_delta;          /* the next ε when min w > δ */
  PetscReal *causal_w, *causal_L, *causal_count; /* per slice: weight, mean r² at the last update, global points */
  /* resampling of the PDE's collocation set (resample.c) */
  AzResampleType resample;
  PetscInt       rs_every, rs_pool, rs_add, rs_max;
  PetscReal      rs_k, rs_c;
  PetscInt       rs_next;  /* the next iteration due */
  PetscInt       rs_total; /* points resampled or added so far */
  PetscInt       win_j, win_K; /* the time window (AzLossSetTimeWindow; 0: none set), kept for new points */
  /* inverse problems (infer.c): ninfer problem parameters are unknowns, θ's entries nnet .. nnet+ninfer-1
   * after the network's; parameter k = T_k(s_k), s_k the θ entry: s (plain), exp(s) (log), or a sigmoid
   * onto [lo, hi] (of log p with log) */
  PetscInt         nnet, ninfer;
  PetscInt         infer_param[AZ_MAX_PARAMS]; /* the problem's parameter index */
  PetscBool        infer_log[AZ_MAX_PARAMS], infer_bounded[AZ_MAX_PARAMS];
  PetscReal        infer_lo[AZ_MAX_PARAMS], infer_hi[AZ_MAX_PARAMS];
  PetscReal        infer_init[AZ_MAX_PARAMS]; /* the initial guesses */
  PetscReal        infer_dp[AZ_MAX_PARAMS];   /* dp/ds at the last sync */
  PetscObjectState infer_state;               /* θ's state at the last sync */
  PetscBool        infer_synced;
  char            *infer_names[AZ_MAX_PARAMS], *infer_log_names[AZ_MAX_PARAMS], *infer_bound_specs[AZ_MAX_PARAMS];
  PetscInt         ninfer_names, ninfer_log_names, ninfer_bound_specs;
  PetscScalar     *Pd; /* chunk × nrmax × ninfer: ∂r/∂s of a chunk's rows */
  /* hard PDE constraints by a solved output layer (map_hardpde.c): K basis functions per component,
   * interior constraint points (0: 4 per unknown), the ridge, the Gauss–Newton tolerance and steps */
  PetscBool        hardpde;
  PetscInt         hardpde_K, hardpde_n, hardpde_maxit, moe_experts; /* moe: experts (0: one per rank) */
  PetscReal        hardpde_ridge, hardpde_tol, hardpde_rcond; /* rcond: directions with σ² + α <= rcond² σ²_max left out */
  PetscReal        hardpde_final_ridge;                       /* the ridge from AzLossHardPDEFinalSolve on */
  /* -az_moe_blend interface: crisp boxes, continuity by a penalty on the jumps at interface points (its
   * weight, its points: 0 for a face's count per interface) */
  PetscBool        moe_interface;
  PetscBool        moe_coupled; /* -az_moe_solve coupled: one solve for all the experts' weights (hardpde_coupled.c) */
  PetscInt         moe_interface_n;
  PetscReal        w_interface;
  /* how the experts tile the box (map_hardpde.c): experts per axis (-az_moe_grid, time last; moe_ngrid 0:
   * not given) and cuts per axis (-az_moe_cuts_x|y|z|t; moe_ncuts[d] −1: not given, uniform cuts) */
  PetscInt         moe_grid[AZ_MAX_COORD + 1], moe_ngrid, /* room for one count too many: PETSc drops the rest silently */ moe_ncuts[AZ_MAX_COORD];
  PetscReal        moe_cuts[AZ_MAX_COORD][AZ_MOE_MAX_EXPERTS];
  PetscBool        hardpde_cold; /* -az_hardpde_start cold: a nonlinear solve starts from w = 0 at every θ */
  PetscBool        hardpde_lm;   /* -az_hardpde_damping lm: Levenberg–Marquardt in place of halving the step */
};


extern PetscLogEvent AZ_LOSS_Eval, AZ_LOSS_Normal, AZ_LOSS_Fold, AZ_HP_Gather, AZ_HP_Solve, AZ_HP_Share, AZ_HP_Backward; /* loss.c */

/* term kinds: each adds its terms to the loss (term.c: the PDE, faces and initial condition, the
 * positivity penalty, data; lawterm.c: a penalty per conservation law, after AzProjectionSetUp) */
PETSC_INTERN PetscErrorCode AzPointTermsAdd(AzLoss L);
PETSC_INTERN PetscErrorCode AzLawTermsAdd(AzLoss L);
PETSC_INTERN PetscErrorCode AzDataRead(AzLoss L, AzTerm *t); /* data.c */
/* normal.c: the scaled rows ρ and their Jacobian rows chunk by chunk, of term ksel (< 0: every term)
 * and owned group gsel (< 0: every owned group), after AzChainUpdate and AzChainSideJacobian */
PETSC_INTERN PetscErrorCode AzLossForEachJacobianChunk(AzLoss L, PetscInt ksel, PetscInt gsel, AzRowsFn fn, void *ctx);
/* the solution jets at term t's local points p0 .. p0+nc-1 as training sees them (chain inputs kept) */
PETSC_INTERN PetscErrorCode AzLossTermSolution(AzLoss L, AzTerm *t, PetscInt p0, PetscInt nc, const PetscReal *x, PetscScalar jets[]);

/* strategies (strategy.c) */
PETSC_INTERN PetscErrorCode AzLossConstraintOptions(AzLoss L);
PETSC_INTERN PetscErrorCode AzLossConstraintSetUpTerm(AzLoss L, AzTerm *t);
PETSC_INTERN AzConstraintType AzPositivityPenaltyType(AzLoss L);
PETSC_INTERN AzConstraintType AzBoundsPenaltyType(AzLoss L);
/* the work of the public entry points of the same names (loss.c), the loss set up */
PETSC_INTERN PetscErrorCode AzStrategyTermGradient(AzLoss L, PetscInt k, Vec g);
PETSC_INTERN PetscErrorCode AzStrategyUpdate(AzLoss L, PetscInt it, PetscInt total);
PETSC_INTERN PetscErrorCode AzStrategyChanges(AzLoss L, PetscBool *changes);
PETSC_INTERN PetscErrorCode AzStrategyNumLaws(AzLoss L, PetscInt *nlaws);
PETSC_INTERN PetscErrorCode AzStrategyCondition(AzLoss L, PetscInt cond, const char **strategy);
PETSC_INTERN PetscErrorCode AzStrategyLaw(AzLoss L, PetscInt law, const char **strategy);
PETSC_INTERN PetscErrorCode AzStrategyPositivity(AzLoss L, const char **strategy);
PETSC_INTERN PetscErrorCode AzStrategyBounds(AzLoss L, const char **strategy);

/* Reproducible sums (reduce.c). Group g of a set of n items (points of a term in global order, or
 * time slices) holds items [AzGroupStart(n, G, g), AzGroupStart(n, G, g + 1)). */
static inline PetscInt AzGroupStart(PetscInt n, PetscInt G, PetscInt g)
{
  return (PetscInt)((PetscInt64)n * g / G);
}
PETSC_INTERN PetscErrorCode AzLossGroupsSetUp(AzLoss L);
PETSC_INTERN PetscInt AzLossGroupsLocalSize(AzLoss L, PetscInt n);
PETSC_INTERN void AzLossGroupItems(AzLoss L, PetscInt n, PetscInt g, PetscInt *lo, PetscInt *cnt);
PETSC_INTERN PetscErrorCode AzLossGroupSum(AzLoss L, PetscInt n, const PetscScalar part[], PetscScalar out[]);
/* a group's share of a reduction: grad (a sequential work Vec over this group's slot, may be NULL)
 * and nextra scalars (zeroed before the call) */
typedef PetscErrorCode (*AzGroupFn)(AzLoss L, PetscInt g, Vec grad, PetscScalar extra[], void *ctx);
/* collective: grad = Σ_g grad_g and extra = Σ_g extra_g in group order (grad may be NULL); with side
 * inputs in the chain, fn also accumulates their adjoints into the side map's side_bar (zeroed per
 * group) and grad then gets (∂side/∂θ)ᵀ side_bar, summed over the slices' groups the same way */
PETSC_INTERN PetscErrorCode AzLossReduceGroups(AzLoss L, AzGroupFn fn, void *ctx, PetscInt nextra, PetscScalar extra[], Vec grad);
PETSC_INTERN void AzFoldScales(PetscInt P, const PetscScalar diag[], PetscReal m[]);
PETSC_INTERN void AzFoldUpper(PetscInt P, const PetscReal *restrict m, const PetscScalar *restrict S, PetscScalar *restrict acc);

/* quadrature (quadrature.c) */
PETSC_INTERN PetscErrorCode AzGaussLegendre(PetscInt n, PetscReal x[], PetscReal w[]);
/* tensor quadrature on the spatial box: composite 8-point Gauss–Legendre with about n nodes per axis;
 * with periodic_midpoint, a periodic axis gets the n-point midpoint rule instead */
PETSC_INTERN PetscErrorCode AzLossSpatialQuadrature(AzLoss L, PetscInt n, PetscBool periodic_midpoint, PetscInt *nq, PetscReal **qx, PetscReal **qw);
/* the laws' modes (laws.c) */
PETSC_INTERN PetscErrorCode AzConservationOptions(AzLoss L);
PETSC_INTERN PetscBool      AzConservationIsPenalty(AzConservationType mode);
PETSC_INTERN PetscBool      AzConservationIsProjected(AzConservationType mode);
/* probconserv (probconserv.c): its options (after the laws' modes), its checks at set-up (the dense
 * Laplace approximation's size, the number of constraints) */
PETSC_INTERN PetscErrorCode AzProbConservOptions(AzLoss L);
PETSC_INTERN PetscErrorCode AzProbConservCheck(AzLoss L);
/* the largest P of the dense Laplace approximation (-az_laplace_max_parameters, laplace.c) */
PETSC_INTERN PetscErrorCode AzLaplaceMaxParameters(AzLoss L, PetscInt *maxp);
/* the Laplace approximation's factor: H + λI = L Lᵀ (P × P column-major, lower), Σ = s² L⁻ᵀL⁻¹ (probconserv pertime) */
PETSC_INTERN PetscErrorCode AzLaplaceGetFactor(AzLaplace lap, PetscInt *P, const PetscScalar **Lf, PetscReal *s2);
/* probconserv pertime, for the field's std: at time t the nl columns B = L⁻¹A(t)ᵀ (P × nl) and
 * M(t)⁻¹ = (σ_c² I + s² BᵀB)⁻¹ (nl × nl), so that gᵀΣ̃_t g = s²‖L⁻¹g‖² − s⁴ (BᵀL⁻¹g)ᵀ M⁻¹ (BᵀL⁻¹g) */
PETSC_INTERN PetscErrorCode AzProbConservAt(AzLoss L, PetscReal t, PetscInt *nl, const PetscScalar **B, const PetscScalar **Minv);
/* causal training (causal.c): options, the slices of the PDE term's points (after AzPointTermsAdd),
 * the weights' update at the current θ (collective), the row weight of local point i of term t */
PETSC_INTERN PetscErrorCode AzCausalOptions(AzLoss L);
PETSC_INTERN PetscErrorCode AzCausalSetUp(AzLoss L);
PETSC_INTERN PetscErrorCode AzCausalUpdate(AzLoss L);
PETSC_INTERN PetscErrorCode AzCausalDestroy(AzLoss L);
/* each local point of the PDE term to its causal slice, and the slices' global counts (again after
 * the points change) */
PETSC_INTERN PetscErrorCode AzCausalAssign(AzLoss L);
/* resampling (resample.c): options, the checks after set-up, a round at iteration it when one is due */
PETSC_INTERN PetscErrorCode AzResampleOptions(AzLoss L);
PETSC_INTERN PetscErrorCode AzResampleCheck(AzLoss L);
PETSC_INTERN PetscErrorCode AzResampleUpdate(AzLoss L, PetscInt it);
/* term.c: |r|₂ of term t's residual at the local points of xv (n global points laid out by groups),
 * chunk by chunk from each group's first point; times onto the -az_time_slices midpoints */
PETSC_INTERN PetscErrorCode AzPointTermResidualNorms(AzLoss L, AzTerm *t, Vec xv, PetscInt n, PetscReal out[]);
PETSC_INTERN PetscErrorCode AzLossSnapTimes(AzLoss L, Vec x);
PETSC_INTERN PetscErrorCode AzPointTermSliceSums(AzLoss L, AzTerm *t, PetscInt g, PetscScalar sums[]); /* term.c */
/* a term's local point i: its slice for the side inputs (0 when the term is not on slices) */
static inline PetscInt AzTermSideSlice(const AzTerm *t, PetscInt i)
{
  return t->group ? t->group[i] : 0;
}
static inline PetscReal AzTermRowWeight(AzLoss L, const AzTerm *t, PetscInt i)
{
  return (t->cslice ? L->causal_w[t->cslice[i]] : 1) * (t->rw ? t->rw[i] : 1);
}
/* inverse problems (infer.c): options; set-up (θ's extra entries, their initial values, the checks);
 * the problem's parameters from θ (cheap when θ has not changed; every evaluation calls it through
 * AzChainUpdate); ∂r/∂s of term t's residuals at a point from its solution jet (nres × ninfer,
 * row-major, zero for terms that do not read the parameters) */
PETSC_INTERN PetscErrorCode AzInferOptions(AzLoss L);
PETSC_INTERN PetscErrorCode AzInferSetUp(AzLoss L);
PETSC_INTERN PetscErrorCode AzInferSync(AzLoss L);
PETSC_INTERN PetscErrorCode AzInferDestroy(AzLoss L);
PETSC_INTERN PetscErrorCode AzInferRows(AzLoss L, AzTerm *t, const PetscReal x[], const PetscScalar jet[], PetscScalar P[]);
static inline PetscBool AzInferReads(AzLoss L, const AzTerm *t)
{
  return L->ninfer > 0 && t->cond != AZ_TERM_NO_CONDITION ? PETSC_TRUE : PETSC_FALSE; /* the plugin's conditions */
}
/* the solved output layer (map_hardpde.c): options, the refusals of what it does not combine with */
PETSC_INTERN PetscErrorCode AzHardPDEOptions(AzLoss L);
PETSC_INTERN PetscErrorCode AzHardPDECheck(AzLoss L);
/* -az_moe_blend interface: the interface term's points (first coordinate on the cuts, deterministic in the
 * seed and the global index) and residuals per point; the jump slots ∂^k/∂x_0^k, k below the PDE's order
 * in x_0 (returns their number) */
PETSC_INTERN PetscErrorCode AzHardPDEInterfacePoints(AzLoss L, PetscInt *n, PetscInt *nres, Vec *x);
PETSC_INTERN PetscInt       AzHardPDEJumpSlots(AzLoss L, PetscInt slots[]);
/* time slices (slices.c) */
PETSC_INTERN PetscErrorCode AzLossSlicesSetUp(AzLoss L);
/* this rank's slices [*s0, *s1) (of owned group grp, or all with grp < 0), *i0 the first's local row */
PETSC_INTERN void AzLossSliceRange(AzLoss L, PetscInt grp, PetscInt *s0, PetscInt *s1, PetscInt *i0);
/* the quadrature nodes, the projection's set-up (project.c) */
PETSC_INTERN PetscErrorCode AzProjectionSetUp(AzLoss L);
PETSC_INTERN PetscErrorCode AzProjectionDestroy(AzLoss L);
PETSC_INTERN PetscBool      AzProjectionInTraining(AzLoss L);
/* the projection's shape at a point: vanishing on the hard faces, else 1 (a jet) */
PETSC_INTERN void           AzProjectionShapeJet(AzLoss L, const PetscReal x[], PetscScalar s[]);
/* the nodes at time t into P->xw; the field's jets at them (value and ∂t slots: AzNodesMask), their
 * tangent, their backward pass, their Jacobian rows (nodes j0 .. j0+nc-1) */
PETSC_INTERN PetscInt       AzNodesMask(AzLoss L);
PETSC_INTERN void           AzNodesAt(AzLoss L, PetscReal t);
PETSC_INTERN PetscErrorCode AzNodesField(AzLoss L, PetscScalar jets[]);
PETSC_INTERN PetscErrorCode AzNodesFieldTangent(AzLoss L, Vec v, PetscScalar dots[]);
PETSC_INTERN PetscErrorCode AzNodesFieldBackward(AzLoss L, PetscScalar jb[], Vec grad);
PETSC_INTERN PetscErrorCode AzNodesFieldJacobian(AzLoss L, PetscInt j0, PetscInt nc, PetscInt nrow, const PetscScalar rows[], PetscScalar jac[]);

#endif
