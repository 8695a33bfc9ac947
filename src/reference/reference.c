/* AzReference: create, configure from the options database, set up the grid, solve, view, destroy. */
#include "refimpl.h"

const char *const AzRefIntegratorNames[]   = {"ida", "cvode", "arkode"};
const char *const AzRefSteadySolverNames[] = {"snes", "kinsol"};
const char *const AzRefJacobianNames[]     = {"jet", "color"};
const char *const AzRefFormatNames[]       = {"binary", "hdf5"};
const char *const AzRefMethodNames[]       = {"auto", "fd", "spectral", "fv"};

static PetscLogEvent AZ_REF_Solve;
PetscLogEvent        AZ_REF_Residual, AZ_REF_Jacobian;

PetscErrorCode AzReferenceCreate(MPI_Comm comm, AzProblem prob, AzReference *ref)
{
  AzReference r;
  PetscInt    nres;

  PetscFunctionBegin;
  PetscCheck(prob, comm, PETSC_ERR_ARG_NULL, "AzReferenceCreate needs a problem (AzProblemLoad)");
  if (!AZ_REF_Solve) {
    PetscClassId cid;
    PetscCall(PetscClassIdRegister("AzReference", &cid));
    PetscCall(PetscLogEventRegister("AzReferenceSolve", cid, &AZ_REF_Solve));
    PetscCall(PetscLogEventRegister("AzRefResidual", cid, &AZ_REF_Residual));
    PetscCall(PetscLogEventRegister("AzRefJacobian", cid, &AZ_REF_Jacobian));
  }
  PetscCall(PetscNew(&r));
  r->comm = comm;
  r->prob = prob;
  PetscCall(AzProblemGetInfo(prob, &r->info));
  PetscCall(AzProblemGetNumCoords(prob, &r->ncoord));
  r->dim   = r->info->dim;
  r->ncomp = r->info->ncomp;
  r->td    = r->info->time_dependent;
  r->nslot = AZ_JET_NSLOT(r->ncoord);
  PetscCall(AzProblemGetNumResiduals(prob, AZ_COND_INTERIOR, &nres));
  PetscCheck(nres == r->ncomp, comm, PETSC_ERR_SUP, "Problem %s has %" PetscInt_FMT " interior residuals for %" PetscInt_FMT " components: the reference solver needs one equation per component at every node", r->info->name, nres, r->ncomp);
  /* defaults: the sizes the issue asks to be fast (2^12 nodes in 1-D, 256^2 in 2-D) */
  for (PetscInt a = 0; a < AZ_MAX_DIM; a++) r->n[a] = r->dim == 1 ? 4096 : (r->dim == 2 ? 256 : 48);
  r->order         = 4;
  r->rtol          = 1e-8;
  r->atol          = 1e-10;
  r->nt_out        = r->td ? 101 : 1;
  r->max_steps     = 100000;
  r->maxl          = 20;
  r->integrator    = AZ_REF_IDA;
  r->solver        = AZ_REF_SNES;
  r->jactype       = AZ_REF_JAC_JET;
  r->format        = AZ_REF_FORMAT_BINARY;
  r->cache         = PETSC_TRUE;
  r->interp_max_mb = 1024;
  r->verify        = PETSC_TRUE;
  r->verify_tol    = 1e-6;
  r->method_opt    = AZ_REFERENCE_AUTO;
  r->method        = AZ_REFERENCE_FD;
  *ref             = r;
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode CheckNotSetUp(AzReference ref, const char what[])
{
  PetscFunctionBegin;
  PetscCheck(!ref->setup, ref->comm, PETSC_ERR_ORDER, "%s must be called before the reference is solved or loaded", what);
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzReferenceSetGrid(AzReference ref, PetscInt naxes, const PetscInt n[])
{
  PetscFunctionBegin;
  PetscCall(CheckNotSetUp(ref, "AzReferenceSetGrid"));
  PetscCheck(naxes == 1 || naxes == ref->dim, ref->comm, PETSC_ERR_ARG_SIZ, "Give one node count for all axes or one per axis (%" PetscInt_FMT "), not %" PetscInt_FMT, ref->dim, naxes);
  for (PetscInt a = 0; a < ref->dim; a++) {
    ref->n[a] = n[naxes == 1 ? 0 : a];
    PetscCheck(ref->n[a] >= 3, ref->comm, PETSC_ERR_ARG_OUTOFRANGE, "The reference grid needs at least 3 nodes per axis, not %" PetscInt_FMT, ref->n[a]);
  }
  ref->nset = PETSC_TRUE;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzReferenceSetMethod(AzReference ref, AzReferenceMethod method)
{
  PetscFunctionBegin;
  PetscCall(CheckNotSetUp(ref, "AzReferenceSetMethod"));
  PetscCheck(method >= AZ_REFERENCE_AUTO && method <= AZ_REFERENCE_FV, ref->comm, PETSC_ERR_ARG_OUTOFRANGE, "Unknown reference method %d: use auto, fd, fv or spectral", (int)method);
  ref->method_opt = method;
  PetscCall(AzRefResolveMethod(ref));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzReferenceGetMethod(AzReference ref, AzReferenceMethod *method)
{
  PetscFunctionBegin;
  PetscCall(AzRefResolveMethod(ref));
  *method = ref->method;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* auto -> spectral, fv or fd; a grid nobody gave gets the method's default size. The spectral method
 * needs every axis periodic and a time-dependent problem; it is 1-D for now. The conservative
 * finite-volume method needs a conservation form (.flux) and is 1-D for now; it is second order. */
PetscErrorCode AzRefResolveMethod(AzReference ref)
{
  PetscBool periodic = PETSC_TRUE, flux;
  PetscInt  axis     = -1;

  PetscFunctionBegin;
  if (ref->setup) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(AzProblemHasFlux(ref->prob, &flux));
  for (PetscInt a = 0; a < ref->dim; a++)
    if (ref->info->boundary[2 * a].type != AZ_BC_PERIODIC && periodic) {
      periodic = PETSC_FALSE;
      axis     = a;
    }
  if (ref->method_opt == AZ_REFERENCE_AUTO) {
    if (ref->td && periodic && ref->dim == 1) ref->method = AZ_REFERENCE_SPECTRAL;
    else if (flux && ref->dim == 1 && AzRefFVSupports(ref, NULL, 0)) ref->method = AZ_REFERENCE_FV;
    else ref->method = AZ_REFERENCE_FD;
  } else ref->method = ref->method_opt;
  if (ref->method == AZ_REFERENCE_FV) {
    char why[256];

    PetscCheck(flux, ref->comm, PETSC_ERR_SUP, "-az_ref_method fv needs a problem in conservation form (u_t + div F = S: the descriptor's .flux), but problem %s gives only residuals: use -az_ref_method fd", ref->info->name);
    PetscCheck(ref->dim == 1, ref->comm, PETSC_ERR_SUP, "-az_ref_method fv is 1-D only for now, and problem %s is %" PetscInt_FMT "-D: use -az_ref_method fd", ref->info->name, ref->dim);
    PetscCheck(AzRefFVSupports(ref, why, sizeof why), ref->comm, PETSC_ERR_SUP, "-az_ref_method fv cannot solve problem %s: %s. Use -az_ref_method fd", ref->info->name, why);
    ref->order = 2; /* the method's order (Richardson's scaling in verify.c, the cache key) */
  }
  if (ref->method == AZ_REFERENCE_SPECTRAL) {
    PetscCheck(ref->td, ref->comm, PETSC_ERR_SUP, "-az_ref_method spectral integrates in time, but problem %s is steady: use -az_ref_method fd", ref->info->name);
    PetscCheck(periodic, ref->comm, PETSC_ERR_SUP, "-az_ref_method spectral needs every spatial axis periodic, but axis %" PetscInt_FMT " of problem %s is not: use -az_ref_method fd", axis, ref->info->name);
    PetscCheck(ref->dim == 1, ref->comm, PETSC_ERR_SUP, "-az_ref_method spectral is 1-D only for now, and problem %s is %" PetscInt_FMT "-D: use -az_ref_method fd", ref->info->name, ref->dim);
  }
  /* the spectral reference is cheap, and its integrating factor makes it exact for the linear part:
   * tight tolerances are what keep NLS mass to 1e-10 (the drift follows the tolerance) */
  if (!ref->tolset) {
    ref->rtol = ref->method == AZ_REFERENCE_SPECTRAL ? 1e-11 : 1e-8;
    ref->atol = ref->method == AZ_REFERENCE_SPECTRAL ? 1e-13 : 1e-10;
  }
  if (!ref->nset)
    for (PetscInt a = 0; a < AZ_MAX_DIM; a++) {
      ref->n[a] = ref->method == AZ_REFERENCE_SPECTRAL ? 512 : ref->method == AZ_REFERENCE_FV ? AZ_REF_FV_DEFAULT_N : (ref->dim == 1 ? 4096 : (ref->dim == 2 ? 256 : 48));
      if (a < ref->dim) ref->n[a] = PetscMax(ref->n[a], ref->info->min_reference_n[a]); /* the problem's finest scale */
    }
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzReferenceSetOrder(AzReference ref, PetscInt order)
{
  PetscFunctionBegin;
  PetscCall(CheckNotSetUp(ref, "AzReferenceSetOrder"));
  PetscCheck(order == 2 || order == 4, ref->comm, PETSC_ERR_ARG_OUTOFRANGE, "Finite-difference order %" PetscInt_FMT " is not supported: use 2 or 4", order);
  ref->order = order;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzReferenceSetTolerances(AzReference ref, PetscReal rtol, PetscReal atol)
{
  PetscFunctionBegin;
  PetscCall(CheckNotSetUp(ref, "AzReferenceSetTolerances"));
  PetscCheck(rtol > 0 && atol > 0, ref->comm, PETSC_ERR_ARG_OUTOFRANGE, "Tolerances must be positive (rtol %g, atol %g)", (double)rtol, (double)atol);
  ref->rtol   = rtol;
  ref->atol   = atol;
  ref->tolset = PETSC_TRUE;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzReferenceSetNumOutputTimes(AzReference ref, PetscInt nt_out)
{
  PetscFunctionBegin;
  PetscCall(CheckNotSetUp(ref, "AzReferenceSetNumOutputTimes"));
  PetscCheck(!ref->td || nt_out >= 2, ref->comm, PETSC_ERR_ARG_OUTOFRANGE, "A time-dependent reference needs at least 2 output times (t0 and t1), not %" PetscInt_FMT, nt_out);
  if (ref->td) ref->nt_out = nt_out;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzReferenceSetFromOptions(AzReference ref)
{
  PetscInt  n[AZ_MAX_DIM + 1], nn = ref->dim + 1, e; /* room for one value too many: PETSc drops the rest silently */
  PetscBool set;

  PetscFunctionBegin;
  PetscCall(CheckNotSetUp(ref, "AzReferenceSetFromOptions"));
  for (PetscInt a = 0; a < ref->dim; a++) n[a] = ref->n[a];
  PetscOptionsBegin(ref->comm, NULL, "Reference solver (method of lines with SUNDIALS / PETSc)", "AzReference");
  e = ref->method_opt;
  PetscCall(PetscOptionsEList("-az_ref_method", "spatial discretization: auto (spectral when every axis is periodic, else fv for a conservation form, else fd), fd (finite differences), fv (conservative finite volumes, 1-D) or spectral (Fourier, periodic 1-D)", "AzReferenceSetMethod", AzRefMethodNames, 4, AzRefMethodNames[e], &e, &set));
  if (set) PetscCall(AzReferenceSetMethod(ref, (AzReferenceMethod)e));
  PetscCall(AzRefResolveMethod(ref));
  for (PetscInt a = 0; a < ref->dim; a++) n[a] = ref->n[a];
  PetscCall(PetscOptionsIntArray("-az_ref_n", "grid nodes per axis (fv: cells; one value for all axes, or one per axis; default 4096 in 1-D, 256^2, 48^3; spectral: 512; fv: " PetscStringize(AZ_REF_FV_DEFAULT_N) ")", "AzReferenceSetGrid", n, &nn, &set));
  PetscCheck(!set || nn <= ref->dim, ref->comm, PETSC_ERR_ARG_SIZ, "-az_ref_n: more than %" PetscInt_FMT " value(s) for a problem of %" PetscInt_FMT " spatial axes: give one node count for all axes or one per axis", ref->dim, ref->dim);
  if (set) PetscCall(AzReferenceSetGrid(ref, nn, n));
  PetscCall(PetscOptionsInt("-az_ref_order", "order of the finite differences (2 or 4; fv is second order)", "AzReferenceSetOrder", ref->order, &ref->order, &set));
  if (set) PetscCall(AzReferenceSetOrder(ref, ref->order));
  if (ref->method == AZ_REFERENCE_FV) ref->order = 2;
  {
    PetscReal rtol = ref->rtol, atol = ref->atol;
    PetscBool s1, s2;

    PetscCall(PetscOptionsReal("-az_ref_rtol", "relative tolerance of the integrator (steady: of the nonlinear solver; default 1e-8, spectral 1e-11)", "AzReferenceSetTolerances", rtol, &rtol, &s1));
    PetscCall(PetscOptionsReal("-az_ref_atol", "absolute tolerance (default 1e-10, spectral 1e-13)", "AzReferenceSetTolerances", atol, &atol, &s2));
    if (s1 || s2) PetscCall(AzReferenceSetTolerances(ref, rtol, atol));
  }
  if (ref->td) {
    PetscCall(PetscOptionsInt("-az_ref_nt_out", "output times kept for interpolation, equally spaced in [t0, t1]", "AzReferenceSetNumOutputTimes", ref->nt_out, &ref->nt_out, NULL));
    PetscCall(AzReferenceSetNumOutputTimes(ref, ref->nt_out));
    e = ref->integrator;
    PetscCall(PetscOptionsEList("-az_ref_integrator", "time integrator: ida (any problem), cvode or arkode (problems explicit in time)", "AzReferenceSolve", AzRefIntegratorNames, 3, AzRefIntegratorNames[e], &e, NULL));
    ref->integrator = (AzRefIntegrator)e;
    PetscCall(PetscOptionsBool("-az_ref_arkode_explicit", "ARKODE: an explicit Runge-Kutta method (non-stiff problems) instead of DIRK", "AzReferenceSolve", ref->arkode_explicit, &ref->arkode_explicit, NULL));
    {
      const char *lmm[] = {"bdf", "adams"};
      PetscInt    l     = ref->cvode_adams ? 1 : 0;
      PetscCall(PetscOptionsEList("-az_ref_cvode_lmm", "CVODE's multistep method", "AzReferenceSolve", lmm, 2, lmm[l], &l, NULL));
      ref->cvode_adams = l == 1 ? PETSC_TRUE : PETSC_FALSE;
    }
  } else {
    e = ref->solver;
    PetscCall(PetscOptionsEList("-az_ref_solver", "nonlinear solver of a steady problem", "AzReferenceSolve", AzRefSteadySolverNames, 2, AzRefSteadySolverNames[e], &e, NULL));
    ref->solver = (AzRefSteadySolver)e;
  }
  PetscCall(PetscOptionsInt("-az_ref_max_steps", "most time steps (steady: Newton iterations)", "AzReferenceSolve", ref->max_steps, &ref->max_steps, NULL));
  PetscCheck(ref->max_steps >= 1, ref->comm, PETSC_ERR_ARG_OUTOFRANGE, "-az_ref_max_steps must be at least 1, not %" PetscInt_FMT, ref->max_steps);
  PetscCall(PetscOptionsInt("-az_ref_maxl", "Krylov subspace dimension of SPGMR", "AzReferenceSolve", ref->maxl, &ref->maxl, NULL));
  PetscCheck(ref->maxl >= 1, ref->comm, PETSC_ERR_ARG_OUTOFRANGE, "-az_ref_maxl must be at least 1, not %" PetscInt_FMT, ref->maxl);
  e = ref->jactype;
  PetscCall(PetscOptionsEList("-az_ref_jacobian", "Newton's Jacobian: jet (exact, from the plugin's dr/djet) or color (colored differences on the DMDA)", "AzReferenceSolve", AzRefJacobianNames, 2, AzRefJacobianNames[e], &e, NULL));
  ref->jactype = (AzRefJacobianType)e;
  e            = ref->format;
  PetscCall(PetscOptionsEList("-az_ref_format", "file format of the stored reference", "AzReferenceWrite", AzRefFormatNames, 2, AzRefFormatNames[e], &e, NULL));
  ref->format = (AzRefFormat)e;
#if !defined(PETSC_HAVE_HDF5)
  PetscCheck(ref->format != AZ_REF_FORMAT_HDF5, ref->comm, PETSC_ERR_SUP, "-az_ref_format hdf5 needs a PETSc built with HDF5: use -az_ref_format binary");
#endif
  PetscCall(PetscOptionsBool("-az_ref_cache", "reuse a stored reference whose options match", "AzReferenceSolveCached", ref->cache, &ref->cache, NULL));
  PetscCall(PetscOptionsBool("-az_ref_verify", "self-verification: estimate the reference's error by a second solve at half the resolution", "AzReferenceGetVerification", ref->verify, &ref->verify, NULL));
  PetscCall(PetscOptionsReal("-az_ref_verify_tol", "threshold of the self-verification: a larger estimated error or relative drift of a law marks the reference unverified", "AzReferenceGetVerification", ref->verify_tol, &ref->verify_tol, NULL));
  PetscCheck(ref->verify_tol > 0, ref->comm, PETSC_ERR_ARG_OUTOFRANGE, "-az_ref_verify_tol must be positive, not %g", (double)ref->verify_tol);
  PetscCall(PetscOptionsReal("-az_ref_interp_max_mb", "most memory per rank for the gathered snapshots used by interpolation (MB)", "AzReferenceInterpolate", ref->interp_max_mb, &ref->interp_max_mb, NULL));
  PetscOptionsEnd();
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* a DMDA with stencil width s; with ownership ranges lx, ly, lz over np[] ranks per axis, or (NULL) PETSc's split */
static PetscErrorCode CreateDA(AzReference ref, const DMBoundaryType bt[], DMDAStencilType stype, PetscInt s, const PetscInt np[], const PetscInt lx[], const PetscInt ly[], const PetscInt lz[], DM *da)
{
  PetscFunctionBegin;
  switch (ref->dim) {
  case 1:
    PetscCall(DMDACreate1d(ref->comm, bt[0], ref->n[0], ref->ncomp, s, lx, da));
    break;
  case 2:
    PetscCall(DMDACreate2d(ref->comm, bt[0], bt[1], stype, ref->n[0], ref->n[1], np ? np[0] : PETSC_DECIDE, np ? np[1] : PETSC_DECIDE, ref->ncomp, s, lx, ly, da));
    break;
  default:
    PetscCall(DMDACreate3d(ref->comm, bt[0], bt[1], bt[2], stype, ref->n[0], ref->n[1], ref->n[2], np ? np[0] : PETSC_DECIDE, np ? np[1] : PETSC_DECIDE, np ? np[2] : PETSC_DECIDE, ref->ncomp, s, lx, ly, lz, da));
  }
  /* no DMSetFromOptions: -da_grid_x and friends would change the grid behind ref->n and the cache key */
  PetscCall(DMSetUp(*da));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The grid, the stencils, the DMDA and Newton's matrix. */
PetscErrorCode AzRefSetUp(AzReference ref)
{
  DMBoundaryType bt[AZ_MAX_DIM] = {DM_BOUNDARY_NONE, DM_BOUNDARY_NONE, DM_BOUNDARY_NONE};
  DMDAStencilType stype         = DMDA_STENCIL_STAR;

  PetscFunctionBegin;
  if (ref->setup) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(AzRefResolveMethod(ref));
  PetscCall(AzProblemGetBox(ref->prob, ref->lo, ref->hi));
  for (PetscInt a = 0; a < ref->dim; a++) {
    ref->periodic[a] = ref->info->boundary[2 * a].type == AZ_BC_PERIODIC ? PETSC_TRUE : PETSC_FALSE;
    bt[a]            = ref->periodic[a] ? DM_BOUNDARY_PERIODIC : DM_BOUNDARY_NONE;
    /* fv: n cells of width h, index i at the centre lo + (i + 1/2) h; otherwise nodes lo + i h */
    ref->h[a]        = (ref->hi[a] - ref->lo[a]) / ((ref->periodic[a] || ref->method == AZ_REFERENCE_FV) ? ref->n[a] : ref->n[a] - 1);
    ref->x0[a]       = ref->lo[a] + (ref->method == AZ_REFERENCE_FV ? 0.5 * ref->h[a] : 0);
  }
  if (ref->method == AZ_REFERENCE_FV) {
    ref->order   = 2;
    ref->jactype = AZ_REF_JAC_COLOR; /* the numerical flux has no jet Jacobian: colored differences on the DMDA */
  }
  PetscCall(AzRefStencilSetUp(ref));
  if (ref->method == AZ_REFERENCE_FV) ref->swidth = 2; /* a face reads two cells on each side */
  for (PetscInt s = 0; s < ref->nslots; s++)
    if (ref->slots[s].m == 2 && ref->slots[s].a != ref->slots[s].b && ref->slots[s].b < ref->dim) stype = DMDA_STENCIL_BOX;
  {
    DM              probe;
    const PetscInt *own[3] = {NULL, NULL, NULL};
    PetscInt        np[3] = {1, 1, 1}, narrow = PETSC_MAX_INT, axis = 0;
    PetscInt       *lx = NULL, *ly = NULL, *lz = NULL;
    PetscMPIInt     size;

    /* Split the grid with a stencil-free DMDA first: a rank owning fewer nodes than the stencils reach
     * fails inside DMSetUp on that rank alone, which cannot be reported collectively. */
    PetscCall(CreateDA(ref, bt, stype, 0, NULL, NULL, NULL, NULL, &probe));
    PetscCall(DMDAGetInfo(probe, NULL, NULL, NULL, NULL, &np[0], &np[1], &np[2], NULL, NULL, NULL, NULL, NULL, NULL));
    PetscCall(DMDAGetOwnershipRanges(probe, &own[0], &own[1], &own[2]));
    for (PetscInt a = 0; a < ref->dim; a++)
      for (PetscInt r = 0; r < np[a]; r++)
        if (own[a][r] < narrow) {
          narrow = own[a][r];
          axis   = a;
        }
    PetscCallMPI(MPI_Comm_size(ref->comm, &size));
    if (narrow < ref->swidth) PetscCall(DMDestroy(&probe));
    PetscCheck(narrow >= ref->swidth, ref->comm, PETSC_ERR_ARG_OUTOFRANGE, "The reference grid of %s is split over %d ranks too finely: a rank owns %" PetscInt_FMT " nodes along axis %" PetscInt_FMT ", but the order-%" PetscInt_FMT " stencils (one-sided ones included) reach %" PetscInt_FMT " nodes. Use more nodes (-az_ref_n) or fewer ranks", ref->info->name, size, narrow, axis, ref->order, ref->swidth);
    PetscCall(PetscMalloc3(np[0], &lx, np[1], &ly, np[2], &lz));
    PetscCall(PetscArraycpy(lx, own[0], np[0]));
    if (ref->dim > 1) PetscCall(PetscArraycpy(ly, own[1], np[1]));
    if (ref->dim > 2) PetscCall(PetscArraycpy(lz, own[2], np[2]));
    PetscCall(DMDestroy(&probe));
    PetscCall(CreateDA(ref, bt, stype, ref->swidth, np, lx, ref->dim > 1 ? ly : NULL, ref->dim > 2 ? lz : NULL, &ref->da));
    PetscCall(PetscFree3(lx, ly, lz));
  }
  {
    PetscReal cmin[3] = {0, 0, 0}, cmax[3] = {1, 1, 1};
    for (PetscInt a = 0; a < ref->dim; a++) {
      cmin[a] = ref->x0[a];
      cmax[a] = ref->x0[a] + (ref->n[a] - 1) * ref->h[a];
    }
    PetscCall(DMDASetUniformCoordinates(ref->da, cmin[0], cmax[0], cmin[1], cmax[1], cmin[2], cmax[2]));
  }
  PetscCall(DMCreateLocalVector(ref->da, &ref->yloc));
  PetscCall(VecDuplicate(ref->yloc, &ref->yploc));
  PetscCall(DMCreateGlobalVector(ref->da, &ref->work));
  /* Newton's matrix and solver: not for the spectral method, which would leave their options unused */
  if (ref->method != AZ_REFERENCE_SPECTRAL) {
    /* the exact Jacobian inserts exactly its stencils; the colored one needs the DMDA's full pattern */
    PetscCall(DMSetMatrixPreallocateOnly(ref->da, ref->jactype == AZ_REF_JAC_JET ? PETSC_TRUE : PETSC_FALSE));
    PetscCall(DMCreateMatrix(ref->da, &ref->J));
    PetscCall(KSPCreate(ref->comm, &ref->ksp));
    PetscCall(AzRefSetUpLinearSolver(ref, ref->ksp, PETSC_TRUE));
  }
  ref->setup = PETSC_TRUE;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzRefAllocSnapshots(AzReference ref)
{
  PetscFunctionBegin;
  if (ref->snap) PetscFunctionReturn(PETSC_SUCCESS);
  ref->nt = ref->td ? ref->nt_out : 1;
  PetscCall(PetscMalloc1(ref->nt, &ref->tout));
  PetscCall(PetscCalloc1(ref->nt, &ref->snap));
  for (PetscInt k = 0; k < ref->nt; k++) {
    ref->tout[k] = ref->td ? ref->info->t0 + (ref->info->t1 - ref->info->t0) * k / (ref->nt - 1) : 0;
    PetscCall(DMCreateGlobalVector(ref->da, &ref->snap[k]));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzReferenceSolve(AzReference ref)
{
  PetscLogDouble t0, t1;

  PetscFunctionBegin;
  PetscCall(AzRefSetUp(ref));
  PetscCall(AzRefAllocSnapshots(ref));
  PetscCall(PetscFree(ref->all));
  PetscCall(PetscMemzero(&ref->stats, sizeof ref->stats));
  ref->solved    = PETSC_FALSE;
  ref->has_error = PETSC_FALSE;
  ref->nan_count = 0;
  PetscCall(PetscLogEventBegin(AZ_REF_Solve, 0, 0, 0, 0));
  PetscCall(PetscTime(&t0));
  if (ref->method == AZ_REFERENCE_SPECTRAL) PetscCall(AzRefSolveSpectral(ref));
  else if (ref->td) {
    if (ref->integrator == AZ_REF_IDA) PetscCall(AzRefSolveIDA(ref));
    else PetscCall(AzRefSolveODE(ref));
  } else {
    if (ref->solver == AZ_REF_SNES) PetscCall(AzRefSolveSNES(ref));
    else PetscCall(AzRefSolveKINSOL(ref));
  }
  PetscCall(PetscTime(&t1));
  PetscCall(PetscLogEventEnd(AZ_REF_Solve, 0, 0, 0, 0));
  ref->stats.wall_seconds = (PetscReal)(t1 - t0);
  ref->solved             = PETSC_TRUE;
  if (ref->info->exact) {
    PetscCall(AzReferenceComputeError(ref, &ref->err_max, &ref->err_rel));
    ref->has_error = PETSC_TRUE;
  }
  if (!ref->halfres) {
    PetscCall(AzRefVerify(ref, PETSC_TRUE));
    PetscCall(AzRefVerifyWarn(ref));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode CheckSolved(AzReference ref, const char what[])
{
  PetscFunctionBegin;
  PetscCheck(ref->solved, ref->comm, PETSC_ERR_ORDER, "%s needs a solved reference: call AzReferenceSolve or AzReferenceSolveCached first", what);
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzReferenceGetSolution(AzReference ref, Vec *u, DM *da)
{
  PetscFunctionBegin;
  PetscCall(CheckSolved(ref, "AzReferenceGetSolution"));
  if (u) *u = ref->snap[ref->nt - 1];
  if (da) *da = ref->da;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzReferenceGetNumSnapshots(AzReference ref, PetscInt *nt)
{
  PetscFunctionBegin;
  PetscCall(CheckSolved(ref, "AzReferenceGetNumSnapshots"));
  *nt = ref->nt;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzReferenceGetSnapshot(AzReference ref, PetscInt k, PetscReal *t, Vec *u)
{
  PetscFunctionBegin;
  PetscCall(CheckSolved(ref, "AzReferenceGetSnapshot"));
  PetscCheck(k >= 0 && k < ref->nt, ref->comm, PETSC_ERR_ARG_OUTOFRANGE, "Snapshot %" PetscInt_FMT " does not exist: there are %" PetscInt_FMT, k, ref->nt);
  if (t) *t = ref->tout[k];
  if (u) *u = ref->snap[k];
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzReferenceGetGrid(AzReference ref, PetscInt n[], PetscReal h[])
{
  PetscFunctionBegin;
  PetscCall(AzRefSetUp(ref));
  for (PetscInt a = 0; a < ref->dim; a++) {
    if (n) n[a] = ref->n[a];
    if (h) h[a] = ref->h[a];
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzReferenceGetStats(AzReference ref, AzReferenceStats *stats)
{
  PetscFunctionBegin;
  *stats = ref->stats;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzReferenceView(AzReference ref, PetscViewer viewer)
{
  PetscMPIInt size;
  char        line[512];
  size_t      off = 0;

  PetscFunctionBegin;
  if (!viewer) viewer = PETSC_VIEWER_STDOUT_(ref->comm);
  PetscCallMPI(MPI_Comm_size(ref->comm, &size));
  /* numbers are formatted by the C library: PETSc's %g prints 1 as "1." */
  off += (size_t)snprintf(line + off, sizeof line - off, "reference for problem %s: %d-D grid", ref->info->name, (int)ref->dim);
  for (PetscInt a = 0; a < ref->dim; a++) off += (size_t)snprintf(line + off, sizeof line - off, "%s%d", a ? " x " : " ", (int)ref->n[a]);
  if (ref->method == AZ_REFERENCE_SPECTRAL) {
    snprintf(line + off, sizeof line - off, " nodes, Fourier pseudo-spectral (2/3 dealiased), %d rank%s (solved on rank 0)", size, size > 1 ? "s" : "");
    PetscCall(PetscViewerASCIIPrintf(viewer, "%s\n", line));
  } else if (ref->method == AZ_REFERENCE_FV) {
    snprintf(line + off, sizeof line - off, " cells, conservative finite volumes (MC-limited reconstruction, local Lax-Friedrichs), %d rank%s", size, size > 1 ? "s" : "");
    PetscCall(PetscViewerASCIIPrintf(viewer, "%s\n", line));
  } else {
    snprintf(line + off, sizeof line - off, " nodes, order-%d differences, %d rank%s", (int)ref->order, size, size > 1 ? "s" : "");
    PetscCall(PetscViewerASCIIPrintf(viewer, "%s\n", line));
  }
  if (ref->method == AZ_REFERENCE_SPECTRAL)
    snprintf(line, sizeof line, "  integrating factor of the linear part + ARKODE ERK Verner 8(7) over [%g, %g], rtol %g, atol %g, %d output times", (double)ref->info->t0, (double)ref->info->t1, (double)ref->rtol, (double)ref->atol, (int)ref->nt_out);
  else if (ref->td)
    snprintf(line, sizeof line, "  %s%s over [%g, %g], rtol %g, atol %g, %d output times", AzRefIntegratorNames[ref->integrator], ref->integrator == AZ_REF_ARKODE ? (ref->arkode_explicit ? " (ERK)" : " (DIRK)") : (ref->integrator == AZ_REF_CVODE ? (ref->cvode_adams ? " (Adams)" : " (BDF)") : ""), (double)ref->info->t0, (double)ref->info->t1, (double)ref->rtol, (double)ref->atol, (int)ref->nt_out);
  else snprintf(line, sizeof line, "  steady, %s, rtol %g, atol %g", AzRefSteadySolverNames[ref->solver], (double)ref->rtol, (double)ref->atol);
  PetscCall(PetscViewerASCIIPrintf(viewer, "%s\n", line));
  if (ref->method != AZ_REFERENCE_SPECTRAL) PetscCall(PetscViewerASCIIPrintf(viewer, "  Jacobian: %s; Newton's linear systems: %s (-az_ref_ksp_type, -az_ref_pc_type)\n", AzRefJacobianNames[ref->jactype], ref->td || ref->solver == AZ_REF_KINSOL ? "SPGMR preconditioned by a PETSc KSP" : "a PETSc KSP"));
  if (!ref->solved) PetscFunctionReturn(PETSC_SUCCESS);
  if (ref->stats.from_cache) PetscCall(PetscViewerASCIIPrintf(viewer, "  loaded from the cache (its options match)\n"));
  else {
    snprintf(line, sizeof line, "  %ld %s, %ld residual evaluations, %ld Newton and %ld linear iterations, %ld Jacobians, %ld error-test failures, %.3g s", ref->stats.steps, ref->td ? "steps" : "Newton steps", ref->stats.residual_evals, ref->stats.nonlinear_iters, ref->stats.linear_iters, ref->stats.jacobian_evals, ref->stats.error_test_fails, (double)ref->stats.wall_seconds);
    PetscCall(PetscViewerASCIIPrintf(viewer, "%s\n", line));
  }
  if (ref->has_error) {
    if (ref->td) snprintf(line, sizeof line, "  error vs the exact solution at t = %g: max %.3e, relative L2 %.3e", (double)ref->tout[ref->nt - 1], (double)ref->err_max, (double)ref->err_rel);
    else snprintf(line, sizeof line, "  error vs the exact solution: max %.3e, relative L2 %.3e", (double)ref->err_max, (double)ref->err_rel);
    PetscCall(PetscViewerASCIIPrintf(viewer, "%s\n", line));
  }
  if (!ref->halfres) {
    PetscCall(AzReferenceGetVerificationLine(ref, line, sizeof line));
    PetscCall(PetscViewerASCIIPrintf(viewer, "  %s\n", line));
    if (ref->ver.estimated) {
      snprintf(line, sizeof line, "  half-resolution solve (grid");
      for (PetscInt a = 0; a < ref->dim; a++) snprintf(line + strlen(line), sizeof line - strlen(line), "%s%d", a ? " x " : " ", (int)ref->ver.coarse_n[a]);
      snprintf(line + strlen(line), sizeof line - strlen(line), "): relative L2 difference %.3e, %.3g s", (double)ref->ver.halfres_difference, (double)ref->ver.seconds);
      PetscCall(PetscViewerASCIIPrintf(viewer, "%s\n", line));
    }
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzReferenceDestroy(AzReference *ref)
{
  AzReference r;

  PetscFunctionBegin;
  if (!ref || !*ref) PetscFunctionReturn(PETSC_SUCCESS);
  r = *ref;
  for (PetscInt k = 0; k < r->nt && r->snap; k++) PetscCall(VecDestroy(&r->snap[k]));
  PetscCall(PetscFree(r->snap));
  PetscCall(PetscFree(r->tout));
  PetscCall(PetscFree(r->all));
  PetscCall(VecDestroy(&r->yloc));
  PetscCall(VecDestroy(&r->yploc));
  PetscCall(VecDestroy(&r->cy0));
  PetscCall(VecDestroy(&r->cyp0));
  PetscCall(VecDestroy(&r->work));
  PetscCall(MatFDColoringDestroy(&r->fdc));
  PetscCall(KSPDestroy(&r->ksp));
  PetscCall(MatDestroy(&r->J));
  PetscCall(DMDestroy(&r->da));
  PetscCall(AzRefStencilDestroy(r));
  if (r->sunctx) SUNContext_Free(&r->sunctx);
  PetscCall(PetscFree(r));
  *ref = NULL;
  PetscFunctionReturn(PETSC_SUCCESS);
}
