/* Problem: a PDE problem, defined once as a plugin.
 *
 * A plugin is one C file that exports one versioned descriptor,
 *
 *     const AzProblemInfo az_problem_NAME = { .abi = AZ_PROBLEM_ABI, .name = "NAME", ... };
 *
 * built into NAME.so. Every condition is a pointwise residual of a point and a jet (see jet.h):
 * training evaluates it with exact network jets, the reference solver with finite-difference jets,
 * and the report reads the same functions. Nothing about the physics is written twice.
 */
#ifndef ANSATZ_PROBLEM_H
#define ANSATZ_PROBLEM_H

#include <petscsys.h>
#include <petscviewer.h>
#include <ansatz/jet.h>

/* Bump when AzProblemInfo or the callback signatures change; the loader rejects a mismatch.
 * 3: the conservation form (.flux, .source, .flux_derivatives, AZ_BC_FLUX). A plugin's source from
 * ABI 2 compiles unchanged; a binary built for ABI 2 is refused (its descriptor is shorter).
 * 4: .ninitial (initial conditions on time derivatives, u_t(x, t0) for u_tt). Appended at the end: a
 * binary built for ABI 3 still loads (its shorter descriptor is read up to .ninitial, which is 0).
 * 5: .recipe (the options the problem trains well with). Appended: ABI-3 and ABI-4 binaries load.
 * 6: .param_derivative (∂r/∂param for inverse problems). Appended: ABI-3 to ABI-5 binaries load. */
#define AZ_PROBLEM_ABI     6
#define AZ_PROBLEM_ABI_MIN 3 /* the oldest ABI whose binaries still load */

#define AZ_MAX_DIM    3
#define AZ_MAX_PARAMS 16
#define AZ_MAX_COMP   8
#define AZ_MAX_RES    8
#define AZ_MAX_LAWS   4

/* What a residual callback knows about where it is evaluated. */
typedef struct {
  const PetscReal *x;      /* coordinates, x[0 .. ncoord-1], time last */
  PetscInt         ncoord; /* spatial dimension + (time-dependent ? 1 : 0) */
  const PetscReal *param;  /* parameter values, in the order the descriptor declares them */
  PetscInt         face;   /* for a boundary residual: 2*axis + side (side 0 = lower, 1 = upper); else -1 */
} AzPoint;

/* A pointwise residual: r[0 .. nres-1] at the point. If drdjet is not NULL, also fill the exact
 * derivative of the residual with respect to the jet, drdjet[k*ncomp*nslot + idx] (zeroed on entry;
 * see AzIdxU/AzIdxD/... in jet.h). A plugin may leave it out (set the descriptor's exact_jacobian
 * to PETSC_FALSE); ansatz then differentiates the residual numerically, and says so. */
typedef PetscErrorCode (*AzResidualFn)(const AzPoint *p, const AzJet *jet, PetscScalar r[], PetscScalar drdjet[]);

/* A pointwise function of the point only: exact solution, Dirichlet data, initial data (u[0..ncomp-1]). */
typedef PetscErrorCode (*AzPointFn)(const AzPoint *p, PetscScalar u[]);

/* The derivative of condition cond's residuals (cond: AZ_COND_INTERIOR, a face, AZ_COND_INITIAL) with
 * respect to parameter k (its index in .params) at a point and jet: drdp[0 .. nres-1]. Set *provided to
 * PETSC_FALSE (it is PETSC_TRUE on entry) for a condition or parameter the function does not cover:
 * ansatz then differentiates the residual numerically in the parameter. */
typedef PetscErrorCode (*AzParamDerivativeFn)(PetscInt cond, PetscInt k, const AzPoint *p, const AzJet *jet, PetscScalar drdp[], PetscBool *provided);

/* A lift g for hard constraints: a smooth function that equals the Dirichlet data on the Dirichlet
 * faces and the initial data at t0. It fills the jet of g at the point (all ncomp components, the
 * layout of jet.h; every derivative the problem declares). The field is then u = g + φ·N, with φ a
 * product of linear factors that vanish on those faces and at t0, so the conditions hold exactly. */
typedef PetscErrorCode (*AzLiftFn)(const AzPoint *p, PetscScalar jet[]);

typedef enum {
  AZ_BC_NONE = 0,  /* no condition on this face (the problem leaves it free) */
  AZ_BC_DIRICHLET, /* u = g: the residual is u - g and `value` gives g (used by hard constraints) */
  AZ_BC_NEUMANN,   /* a condition on the normal derivative */
  AZ_BC_ROBIN,     /* any other pointwise condition */
  AZ_BC_PERIODIC,  /* u(lower) = u(upper): set on both faces of an axis, no residual */
  AZ_BC_FLUX       /* conservation form only: the outward normal flux F·n = g; the residual F·n − g is
                    * derived from .flux (no .residual), `value` gives g (NULL: no flux, g = 0) */
} AzBCType;

typedef struct {
  AzBCType     type;
  AzResidualFn residual; /* ncomp residuals on the face (NULL for AZ_BC_NONE and AZ_BC_PERIODIC) */
  AzPointFn    value;    /* Dirichlet data g (AZ_BC_DIRICHLET: optional but needed for hard constraints), or the
                          * outward normal flux g (AZ_BC_FLUX, optional: NULL is a no-flux face) */
} AzBoundaryInfo;

/* A parameter: a real number, or a choice among names when its help begins with them in braces,
 * "{heat|pme|stefan} which member of the family": then -az_<problem>_<name> takes one of the names,
 * anything else is refused with the list, and the value the callbacks read is the name's index
 * (0, 1, 2, ...), as is the default. Older ansatz (ABI 3 without choices) reads the index as a number. */
#define AZ_MAX_CHOICES 8
typedef struct {
  const char *name;  /* option -az_<problem>_<name> */
  PetscReal   value; /* default */
  const char *help;
} AzParamInfo;

/* A law's target that varies in time: Q*(t) at t = p->x[p->ncoord − 1] (the spatial coordinates unset). */
typedef PetscErrorCode (*AzLawTargetFn)(const AzPoint *p, PetscReal *Q);

/* A conservation law: Q(t) = ∫ density(x, u) dx over the spatial box must stay equal to its initial
 * value (or to `value` when has_value, or to target(t) when given: ProbConserv's integral constraint).
 * density returns q[0] and, if dqdjet is not NULL, ∂q/∂jet. A problem in conservation form gets the
 * mass law "mass_<component>" of every component whose mass its data fix (AzProblemGetMassTarget). */
typedef struct {
  const char   *name;
  AzResidualFn  density;
  PetscBool     has_value;
  PetscReal     value;
  AzLawTargetFn target; /* optional (ABI 3): a target that varies in time; not with has_value */
} AzConservationInfo;

typedef struct {
  int         abi; /* AZ_PROBLEM_ABI */
  const char *name;
  const char *description; /* one line */

  PetscInt  dim;            /* spatial dimension, 1 to 3 */
  PetscBool time_dependent; /* if so, time is the last coordinate */
  PetscInt  ncomp;          /* solution components, 1 to AZ_MAX_COMP */
  PetscInt  nres;           /* interior residuals (0 means ncomp) */
  PetscReal lower[AZ_MAX_DIM], upper[AZ_MAX_DIM];
  PetscReal t0, t1;
  const char *component_names; /* comma separated, e.g. "u" or "u,v,p"; NULL means u0,u1,... */

  AzParamInfo params[AZ_MAX_PARAMS]; /* ends at the first entry with a NULL name */

  /* derivatives the residuals read, comma separated, named by the coordinates x, y, z, t:
   * "t,x,xx" (heat), "xx,yy" (Poisson), "t,x,xxx" (KdV). Supported: all first and second
   * derivatives (mixed included), pure third and fourth derivatives. */
  const char *derivatives;

  AzResidualFn   interior;                  /* the PDE, nres residuals */
  AzBoundaryInfo boundary[2 * AZ_MAX_DIM];  /* face 2*axis + side */
  AzResidualFn   initial;                   /* ncomp residuals at t = t0 (time-dependent only) */
  AzPointFn      initial_value;             /* u(x, t0), for hard constraints and the reference */
  PetscBool      exact_jacobian;            /* the residuals fill drdjet */

  /* optional */
  AzPointFn          exact;                     /* exact solution */
  AzConservationInfo conservation[AZ_MAX_LAWS]; /* ends at the first entry with a NULL name */
  PetscBool          positive[AZ_MAX_COMP];     /* component c must stay >= 0 */
  AzLiftFn           lift;                      /* lift of the Dirichlet and initial data (hard constraints) */

  /* Conservation form (ABI 3, optional; instead of .interior): per component c,
   *     u_c,t + Σ_d ∂_d F_cd(x, t, u, ∇u) = S_c(x, t, u, ∇u)      (no u_t for a steady problem).
   * .flux fills F[c*dim + d] (ncomp × dim values) and, with exact_jacobian, dFdjet[(c*dim + d)*ncomp*nslot
   * + idx]; .source (optional: NULL is S = 0) fills S[c] and dSdjet[c*ncomp*nslot + idx]. Both read the
   * values u and the first spatial derivatives listed in .flux_derivatives ("x", "x,y"; NULL: values
   * only); every other jet slot is NaN. ansatz derives the strong residual and its jet request
   * (t, the flux's slots, one spatial order more), the residual of AZ_BC_FLUX faces, and the mass
   * law of every component (AzProblemGetMassTarget). */
  AzResidualFn flux;
  AzResidualFn source;
  const char  *flux_derivatives;

  /* ABI 4 (optional): the number of initial residuals (0 means ncomp). An equation of second order in
   * time needs u and u_t at t0: .initial then returns ncomp more residuals that read the jet's t slot
   * (declare "t" in .derivatives), e.g. wave1d's r = (u − u0, u_t). Up to AZ_MAX_RES. */
  PetscInt ninitial;

  /* ABI 4 (optional): the fewest reference nodes per spatial axis that resolve the problem's finest
   * scale (an interface, a boundary layer); a reference grid nobody gave (-az_ref_n) below it is raised
   * to it, whatever the method. 0: the method's default. */
  PetscInt min_reference_n[AZ_MAX_DIM];

  /* ABI 4 (optional): component c stays in [bound_lower[c], bound_upper[c]] when bounded[c] (a maximum
   * principle, |u| ≤ 1 for Allen–Cahn): declared for strategies that enforce bounds and shown by
   * `ansatz list`; .positive[c] is the bound [0, ∞). */
  PetscBool bounded[AZ_MAX_COMP];
  PetscReal bound_lower[AZ_MAX_COMP], bound_upper[AZ_MAX_COMP];

  /* ABI 5 (optional): the recipe, options this problem trains well with, as on a command line
   * ("-az_causal 1 -az_n_interior 4000"): `ansatz train` and `ansatz compare` use each one the user
   * did not give (before ansatz's own recipe; -az_recipe none uses neither). Only -az_ options
   * (not -az_output_dir, -az_recipe or the run's files), each at most once. */
  const char *recipe;

  /* ABI 6 (optional): ∂r/∂param for inverse problems (-az_infer makes parameters unknowns of the
   * training); NULL: fourth-order differences of the residual in the parameter. -az_check_jacobian
   * compares it with the differences. */
  AzParamDerivativeFn param_derivative;
} AzProblemInfo;

/* A loaded problem: the descriptor plus its parameter values and derivative request. */
typedef struct _p_AzProblem *AzProblem;

PETSC_EXTERN PetscErrorCode AzProblemLoad(MPI_Comm comm, const char name_or_path[], AzProblem *prob);
PETSC_EXTERN PetscErrorCode AzProblemCreateFromInfo(MPI_Comm comm, const AzProblemInfo *info, const char path[], AzProblem *prob);
PETSC_EXTERN PetscErrorCode AzProblemSetFromOptions(AzProblem prob);
PETSC_EXTERN PetscErrorCode AzProblemView(AzProblem prob, PetscViewer viewer);
PETSC_EXTERN PetscErrorCode AzProblemDestroy(AzProblem *prob);

PETSC_EXTERN PetscErrorCode AzProblemGetInfo(AzProblem prob, const AzProblemInfo **info);
PETSC_EXTERN PetscErrorCode AzProblemGetComm(AzProblem prob, MPI_Comm *comm);
PETSC_EXTERN PetscErrorCode AzProblemGetName(AzProblem prob, const char **name);
/* A hash of the file that holds the problem's code ("fnv1a64:..."): it changes when the code does. */
PETSC_EXTERN PetscErrorCode AzProblemGetCodeHash(AzProblem prob, const char **hash);
PETSC_EXTERN PetscErrorCode AzProblemGetPath(AzProblem prob, const char **path);
PETSC_EXTERN PetscErrorCode AzProblemGetNumCoords(AzProblem prob, PetscInt *ncoord);
PETSC_EXTERN PetscErrorCode AzProblemGetNumParams(AzProblem prob, PetscInt *nparam);
PETSC_EXTERN PetscErrorCode AzProblemGetParams(AzProblem prob, const PetscReal **param);
/* Set parameter k's value (a finite number; an inverse problem's current estimate). Caches of the
 * problem that depend on the parameters (the mass laws' targets) are dropped. */
PETSC_EXTERN PetscErrorCode AzProblemSetParam(AzProblem prob, PetscInt k, PetscReal value);
/* The index of the parameter called name; an unknown name is an error that lists the valid ones
 * (opt names the option that gave it, for the message). A choice parameter is refused when
 * numeric_only (it cannot be inferred). */
PETSC_EXTERN PetscErrorCode AzProblemGetParamIndex(AzProblem prob, const char name[], const char opt[], PetscBool numeric_only, PetscInt *k);
/* ∂r/∂param_k of a condition's residuals at x from a jet (nres values): exact from the plugin's
 * .param_derivative when it covers the condition and parameter, else by fourth-order central
 * differences in the parameter. */
PETSC_EXTERN PetscErrorCode AzProblemEvaluateParamDerivative(AzProblem prob, PetscInt cond, PetscInt k, const PetscReal x[], const PetscScalar jet[], PetscScalar drdp[]);
/* Compare a plugin's exact ∂r/∂param_k with differences at ntrial random points and jets (*maxrelerr 0
 * when the plugin gives none for this condition and parameter; Inf/NaN when not finite). */
PETSC_EXTERN PetscErrorCode AzProblemCheckParamJacobian(AzProblem prob, PetscInt cond, PetscInt k, PetscInt ntrial, PetscReal *maxrelerr);
PETSC_EXTERN PetscErrorCode AzProblemGetJetRequest(AzProblem prob, AzJetRequest *req);
PETSC_EXTERN PetscErrorCode AzProblemGetBox(AzProblem prob, PetscReal lower[], PetscReal upper[]);

/* Conditions are numbered: AZ_COND_INTERIOR, the faces 0 .. 2*dim-1 (2*axis + side), AZ_COND_INITIAL. */
#define AZ_COND_INTERIOR (-1)
#define AZ_COND_INITIAL  (2 * AZ_MAX_DIM)

/* Number of residuals of a condition (0 when the problem has no such condition). */
PETSC_EXTERN PetscErrorCode AzProblemGetNumResiduals(AzProblem prob, PetscInt cond, PetscInt *nres);
/* Evaluate one condition's residual at a point x (ncoord values) from a jet (ncomp*nslot values).
 * If drdjet is not NULL it receives ∂r/∂jet (nres × ncomp*nslot): exact from the plugin when it
 * provides it, otherwise by fourth-order central differences of the residual. */
PETSC_EXTERN PetscErrorCode AzProblemEvaluateResidual(AzProblem prob, PetscInt cond, const PetscReal x[], const PetscScalar jet[], PetscScalar r[], PetscScalar drdjet[]);
/* Compare a plugin's exact ∂r/∂jet with differences of its residual at ntrial random points and jets.
 * *maxrelerr is Inf or NaN when a residual or a Jacobian entry is not finite. */
PETSC_EXTERN PetscErrorCode AzProblemCheckJetJacobian(AzProblem prob, PetscInt cond, PetscInt ntrial, PetscReal *maxrelerr);

/* Conservation form: whether the problem gives one, and its flux F[c*dim + d] and source S[c] at a
 * point from a jet (the layout of AzProblemEvaluateResidual; S is 0 without .source). */
PETSC_EXTERN PetscErrorCode AzProblemHasFlux(AzProblem prob, PetscBool *has);
PETSC_EXTERN PetscErrorCode AzProblemEvaluateFlux(AzProblem prob, const PetscReal x[], const PetscScalar jet[], PetscScalar F[], PetscScalar S[]);

/* The mass law of component c in conservation form: Q*(t) = ∫u_c(x, t0) dx − ∫_t0^t ∮ g_c dA dt' +
 * ∫_t0^t ∫ S_c dx dt', by composite Gauss quadrature of the plugin's data (never of a solution).
 * *known is PETSC_FALSE (and Q NaN) when the data do not fix it: no flux form or no initial data, a
 * face that is neither AZ_BC_FLUX nor periodic (a Dirichlet face's flux depends on the solution), or a
 * source that reads u (detected: S of a NaN jet is not finite). A no-flux box without source: Q(t0). */
PETSC_EXTERN PetscErrorCode AzProblemGetMassTarget(AzProblem prob, PetscInt c, PetscReal t, PetscBool *known, PetscReal *Q);

/* Law `law`'s target at time t and its time derivatives: Mk[k] = dᵏ/dtᵏ Q*(t), k = 0 .. nk−1 (nk ≤ 5).
 * *varies is PETSC_FALSE (Mk untouched) for a law with a constant target (its .value or Q(t0)); a
 * law with .target, or an automatic mass law, varies: derivatives exact from the rate for the mass
 * law's first, by fourth-order differences otherwise. */
PETSC_EXTERN PetscErrorCode AzProblemGetLawTarget(AzProblem prob, PetscInt law, PetscReal t, PetscInt nk, PetscBool *varies, PetscReal Mk[]);

/* A parameter's value as its option takes it: the name for a choice parameter, "%.17g" otherwise. */
PETSC_EXTERN PetscErrorCode AzParamInfoFormatValue(const AzParamInfo *param, PetscReal value, char buf[], size_t len);

/* Check a descriptor without loading anything: returns PETSC_FALSE and a message naming the problem. */
PETSC_EXTERN PetscErrorCode AzProblemInfoValidate(const AzProblemInfo *info, PetscBool *valid, char msg[], size_t len);
/* a recipe string (AzProblemInfo.recipe): valid, or msg says what is wrong and what is allowed */
PETSC_EXTERN PetscErrorCode AzProblemRecipeCheck(const char recipe[], PetscBool *valid, char msg[], size_t len);
/* whether a recipe token starts an option ("-" then a letter; "-1e-3" is a value) */
PETSC_EXTERN PetscBool AzRecipeIsOption(const char s[]);

/* Every problem visible on the search path: the build tree, AZ_PROBLEM_PATH, the installed directory. */
PETSC_EXTERN PetscErrorCode AzProblemList(MPI_Comm comm, PetscInt *n, char ***paths);
PETSC_EXTERN PetscErrorCode AzProblemGetSearchPath(char buf[], size_t len);

#endif
