/* Private to src/reference: the reference solver's object, its grid and its stencils. */
#ifndef ANSATZ_REFIMPL_H
#define ANSATZ_REFIMPL_H

#include <ansatz/reference.h>
#include <petscdmda.h>
#include <petscksp.h>
#include <sundials/sundials_context.h>

typedef enum { AZ_REF_IDA, AZ_REF_CVODE, AZ_REF_ARKODE } AzRefIntegrator;
typedef enum { AZ_REF_SNES, AZ_REF_KINSOL } AzRefSteadySolver;
typedef enum { AZ_REF_JAC_JET, AZ_REF_JAC_COLOR } AzRefJacobianType;
typedef enum { AZ_REF_FORMAT_BINARY, AZ_REF_FORMAT_HDF5 } AzRefFormat;

extern const char *const AzRefIntegratorNames[];   /* "ida", "cvode", "arkode" */
extern const char *const AzRefSteadySolverNames[]; /* "snes", "kinsol" */
extern const char *const AzRefJacobianNames[];     /* "jet", "color" */
extern const char *const AzRefFormatNames[];       /* "binary", "hdf5" */
extern const char *const AzRefMethodNames[];       /* "auto", "fd", "spectral", "fv" */

/* What the discrete function means. */
typedef enum {
  AZ_REF_FORM_DAE,    /* F(t, y, y'): the plugin's residuals at every node (IDA) */
  AZ_REF_FORM_STEADY, /* F(y) (SNES, KINSOL) */
  AZ_REF_FORM_RHS     /* f(t, y) with y' = f (CVODE, ARKODE): the residual solved for u_t */
} AzRefForm;

/* Weights of the m-th derivative along one axis, already divided by h^m. */
typedef struct {
  PetscInt   w;       /* central half-width: offsets -w..w */
  PetscReal *central; /* 2w+1 weights */
  PetscInt   n1;      /* points of the one-sided stencil used where the central one does not fit */
  PetscReal *lower;   /* w rows of n1: node i < w uses nodes 0 .. n1-1 */
  PetscReal *upper;   /* w rows of n1: node N-1-i (i < w) uses nodes N-n1 .. N-1 */
} AzRefStencil;

/* A jet slot the problem declared, and how it is made: order m along axes a <= b (time = dim). */
typedef struct {
  PetscInt slot, m, a, b;
} AzRefSlot;

/* One term of a slot's finite difference: weight times y or y' at a neighbour. */
typedef struct {
  PetscInt  off[3];
  PetscReal w;
  PetscInt  field; /* 0: y, 1: y' */
} AzRefEntry;
#define AZ_REF_MAX_ENTRIES 64

struct _p_AzReference {
  MPI_Comm             comm;
  AzProblem            prob;
  const AzProblemInfo *info;
  PetscInt             dim, ncomp, ncoord, nslot;
  PetscBool            td; /* time-dependent */

  /* settings */
  PetscInt          n[AZ_MAX_DIM]; /* nodes per axis */
  PetscInt          order;         /* 2 or 4 */
  PetscReal         rtol, atol;
  PetscInt          nt_out, max_steps, maxl;
  AzRefIntegrator   integrator;
  PetscBool         arkode_explicit, cvode_adams;
  AzRefSteadySolver solver;
  AzRefJacobianType jactype;
  AzRefFormat       format;
  PetscBool         cache;
  PetscReal         interp_max_mb;
  AzReferenceMethod method_opt; /* as asked (auto by default) */
  AzReferenceMethod method;     /* as resolved (AzRefResolveMethod): fd, fv or spectral */
  PetscBool         tolset;     /* the tolerances were given (-az_ref_rtol/atol, AzReferenceSetTolerances): no method default */
  PetscBool         nset;       /* the grid was given (-az_ref_n, AzReferenceSetGrid): no method default */

  /* grid and discretization (AzRefSetUp) */
  PetscBool    setup;
  DM           da;
  PetscInt     swidth;
  PetscReal    lo[AZ_MAX_DIM], hi[AZ_MAX_DIM], h[AZ_MAX_DIM];
  PetscReal    fv_du;     /* fv: the lattice spacing in u of the diffusive flux average (fv.c; 0 until the initial state) */
  PetscBool    halfres_du; /* fv_du was given (the half-resolution solve takes the fine one's) */
  PetscReal    x0[AZ_MAX_DIM]; /* coordinate of index 0: lo (fd, spectral: nodes), lo + h/2 (fv: cell centres) */
  PetscBool    periodic[AZ_MAX_DIM];
  AzRefStencil st[AZ_MAX_DIM][AZ_MAX_ORDER + 1]; /* [axis][m] */
  AzRefSlot    slots[AZ_JET_MAX_NSLOT];
  PetscInt     nslots, tslot; /* tslot: the jet slot of u_t, -1 for a steady problem */
  Vec          yloc, yploc;

  /* Newton's linear systems */
  Mat           J;
  PetscBool     jprealloc; /* J has the exact pattern of the jet Jacobian */
  KSP           ksp;
  MatFDColoring fdc;
  Vec           cy0, cyp0, work; /* base point of a colored Jacobian; scratch */
  PetscReal     ct, ccj;
  AzRefForm     cform;

  /* results: snapshots at tout[0 .. nt-1] */
  PetscBool        solved;
  PetscInt         nt;
  PetscReal       *tout;
  Vec             *snap;
  PetscScalar     *all; /* every snapshot in natural ordering, on every rank (for interpolation) */
  AzReferenceStats stats;
  PetscBool        has_error;
  PetscReal        err_max, err_rel;

  /* the bridge to SUNDIALS */
  SUNContext     sunctx;
  void          *sunmem;
  int            sunkind; /* 0 IDA, 1 CVODE, 2 ARKODE, 3 KINSOL */
  PetscErrorCode cb_err;  /* a PETSc error raised inside a callback */
  long           nan_count; /* residual evaluations that gave NaN or Inf, and the last time one did */
  PetscReal      nan_t;
  char           sunmsg[512];

  /* self-verification (verify.c) */
  PetscBool               verify;     /* make the half-resolution solve */
  PetscReal               verify_tol; /* relative threshold */
  PetscBool               halfres;    /* this is another reference's half-resolution solve: no verification */
  AzReferenceVerification ver;
};

/* reference.c */
PETSC_INTERN PetscLogEvent AZ_REF_Residual, AZ_REF_Jacobian; /* -log_view */
PETSC_INTERN PetscErrorCode AzRefSetUp(AzReference);
PETSC_INTERN PetscErrorCode AzRefAllocSnapshots(AzReference);

/* stencil.c */
PETSC_INTERN PetscErrorCode AzRefStencilSetUp(AzReference);
PETSC_INTERN PetscErrorCode AzRefStencilDestroy(AzReference);
PETSC_INTERN void           AzRefSlotEntries(AzReference, const PetscInt idx[], const AzRefSlot *, AzRefEntry e[], PetscInt *ne);
PETSC_INTERN PetscInt       AzRefNodeCondition(AzReference, const PetscInt idx[]);

/* discretize.c */
PETSC_INTERN PetscErrorCode AzRefFormFunction(AzReference, AzRefForm, PetscReal t, Vec Y, Vec Yp, Vec F, PetscBool *bad);
PETSC_INTERN PetscErrorCode AzRefAssembleJacobian(AzReference, AzRefForm, PetscReal t, Vec Y, Vec Yp, PetscReal cj, Mat J);
PETSC_INTERN PetscErrorCode AzRefInitialState(AzReference, PetscReal t, Vec Y);
PETSC_INTERN PetscErrorCode AzRefDifferentialId(AzReference, PetscReal t, Vec Y, Vec id);
PETSC_INTERN PetscErrorCode AzRefCheckExplicit(AzReference);
/* u_t from the interior residual at a point whose jet holds u_t = 0 (the residual is affine in u_t) */
PETSC_INTERN PetscErrorCode AzRefExplicitRate(AzReference, const PetscReal x[], PetscScalar jet[], PetscScalar f[]);
PETSC_INTERN PetscErrorCode AzRefSetUpLinearSolver(AzReference, KSP, PetscBool inner);

/* sunbridge.c */
PETSC_INTERN PetscErrorCode AzRefSunContextCreate(AzReference);
PETSC_INTERN PetscErrorCode AzRefSunFail(AzReference, const char call[], int flag);
PETSC_INTERN void           AzRefSunErrHandler(int code, const char *module, const char *function, char *msg, void *ctx);
PETSC_INTERN int            AzRefCallbackResult(AzReference, PetscErrorCode, PetscBool bad);
/* a SUNDIALS call whose negative flag becomes a PETSc error naming the flag and the time reached */
#define AzSunCall(ref, call) \
  do { \
    int az_flag_ = (call); \
    if (az_flag_ < 0) PetscCall(AzRefSunFail(ref, #call, az_flag_)); \
  } while (0)

/* the solvers */
PETSC_INTERN PetscErrorCode AzRefSolveIDA(AzReference);
PETSC_INTERN PetscErrorCode AzRefSolveODE(AzReference); /* CVODE or ARKODE */
PETSC_INTERN PetscErrorCode AzRefSolveSNES(AzReference);
PETSC_INTERN PetscErrorCode AzRefSolveKINSOL(AzReference);
PETSC_INTERN PetscErrorCode AzRefSolveSpectral(AzReference); /* spectral.c */
PETSC_INTERN PetscErrorCode AzRefResolveMethod(AzReference);

/* fv.c: the conservative finite-volume method (1-D); the method of lines above calls these for it */
#define AZ_REF_FV_DEFAULT_N 32768 /* second order: burgers1d verifies (estimated 3.9e-7) where fd order 4 needs 4096 nodes */
PETSC_INTERN PetscBool      AzRefFVSupports(AzReference, char why[], size_t len); /* the faces it can treat */
PETSC_INTERN PetscErrorCode AzRefFVFunction(AzReference, AzRefForm, PetscReal t, Vec Y, Vec Yp, Vec F, PetscBool *bad);
PETSC_INTERN PetscErrorCode AzRefFVInitialState(AzReference, PetscReal t, Vec Y);

/* verify.c: drift (always) and the half-resolution estimate (when ref->verify), then the warning */
PETSC_INTERN PetscErrorCode AzRefVerify(AzReference, PetscBool estimate);
PETSC_INTERN PetscErrorCode AzRefVerifyWrite(AzReference, const char dir[]);
PETSC_INTERN PetscErrorCode AzRefVerifyRead(AzReference, const char dir[], PetscBool *found);
PETSC_INTERN PetscErrorCode AzRefVerifyWarn(AzReference);

/* io.c */
PETSC_INTERN PetscErrorCode AzRefCacheKey(AzReference, char buf[], size_t len);

PETSC_INTERN PetscErrorCode AzRefCheckWritePath(AzReference, const char[]); /* io.c */
#endif
