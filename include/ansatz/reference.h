/* Reference: a trusted numerical solution of a problem, computed from the plugin's own residuals.
 *
 * The interior residual is evaluated on a uniform grid (a PETSc DMDA) with finite-difference jets:
 * central differences of order 2 or 4, one-sided stencils of the same order where a central one
 * does not fit. Boundary nodes carry the face residuals as algebraic equations. So no problem is
 * written twice: the plugin that training sees is the plugin the reference solves.
 *
 *   time-dependent:  F(t, y, y') = 0, method of lines, SUNDIALS IDA (default), or CVODE/ARKODE
 *                    when the residual is explicit in time (u_t + A^{-1} r(u_t = 0) form)
 *   steady:          F(y) = 0, PETSc SNES (default) or SUNDIALS KINSOL
 *
 * Newton's linear systems are solved by a Krylov method preconditioned with a PETSc KSP on the
 * Jacobian, assembled exactly from the plugin's jet Jacobian (-az_ref_jacobian jet, default) or by
 * colored finite differences on the DMDA (-az_ref_jacobian color).
 *
 * Solutions are kept at -az_ref_nt_out equally spaced output times (snapshots), distributed like
 * the grid. AzReferenceInterpolate evaluates the reference at arbitrary space-time points (tensor
 * cubic Lagrange interpolation in space and time); it gathers the snapshots onto every rank the
 * first time it is called, so it is collective and needs nt_out × nodes × ncomp scalars per rank
 * (-az_ref_interp_max_mb, default 1024).
 *
 * Options (all -az_ref_...): method (auto|fd|spectral), n (nodes per axis, one value or one per axis), order (2 or 4), rtol,
 * atol, nt_out, max_steps, integrator (ida|cvode|arkode), arkode_explicit, cvode_lmm (bdf|adams),
 * solver (snes|kinsol, steady problems), jacobian (jet|color), maxl (Krylov dimension),
 * format (binary|hdf5), cache (reuse a stored reference whose options match), interp_max_mb,
 * verify (0 skips the half-resolution solve of the self-verification), verify_tol (its threshold).
 * The preconditioner and the steady solver take the prefix az_ref_: -az_ref_pc_type, -az_ref_snes_rtol ...
 */
#ifndef ANSATZ_REFERENCE_H
#define ANSATZ_REFERENCE_H

#include <petscdm.h>
#include <petscviewer.h>
#include <ansatz/problem.h>

typedef struct _p_AzReference *AzReference;

/* How space is discretized (-az_ref_method):
 *   AZ_REFERENCE_FD        finite differences on the DMDA, any problem (the method of lines above)
 *   AZ_REFERENCE_SPECTRAL  Fourier pseudo-spectral, time-dependent problems periodic in every axis
 *                          and explicit in time (1-D for now; see spectral.c)
 *   AZ_REFERENCE_FV        conservative finite volumes for problems in conservation form (1-D for
 *                          now; see fv.c): cell averages, mass kept to round-off, monotone at shocks
 *   AZ_REFERENCE_AUTO      spectral when every spatial axis is periodic (1-D), else fv when the
 *                          problem has a conservation form (1-D), else fd */
typedef enum { AZ_REFERENCE_AUTO = 0, AZ_REFERENCE_FD, AZ_REFERENCE_SPECTRAL, AZ_REFERENCE_FV } AzReferenceMethod;

/* Counters of the last solve (those that do not apply stay 0). */
typedef struct {
  long      steps;          /* time steps (steady: nonlinear iterations) */
  long      residual_evals; /* discrete residual evaluations */
  long      nonlinear_iters;
  long      linear_iters;
  long      jacobian_evals; /* preconditioner (Jacobian) assemblies */
  long      error_test_fails;
  PetscReal wall_seconds;   /* of the solve (0 when loaded from the cache) */
  PetscBool from_cache;
} AzReferenceStats;

/* Self-verification (verify.c), made after every solve and every cached load:
 *   drift[l]           max over the snapshots of |Q(t_k) − Q*| for law l, Q(t) = ∫ density dx by the
 *                      trapezoid rule on the reference's own nodes (the rectangle rule on a periodic
 *                      axis), the density fed the finite-difference jets of the solve; Q* the law's
 *                      declared value or, without one, the law at the problem's initial data on the
 *                      same nodes (AzLossConservationSeries' definition, on the reference's grid).
 *   drift_rel[l]       drift[l] / max_k ∫|density| dx (the size of the conserved quantity).
 *   halfres_difference the relative discrete L2 difference between this solution and a second solve
 *                      at half the resolution (every axis; time too: tolerances × 2^p), at the coarse
 *                      grid's nodes at every snapshot time (the fine solution interpolated there,
 *                      exactly at shared nodes).
 *   estimated_error    halfres_difference / (2^p − 1), p = order: Richardson's estimate of this
 *                      solution's own error (the coarse error is 2^p times the fine, in space by the
 *                      order, in time by the integrator's tolerance proportionality).
 *   bound_violation    where the problem declares bounds (.positive, .bounded): the largest distance
 *                      of a snapshot's nodal value outside them (an undershoot below 0 at a front).
 * verified: estimated_error, every drift_rel and bound_violation_rel at most tol (-az_ref_verify_tol,
 * 1e-6). The spectral method's estimate is halfres_difference itself (no order to scale by). A law
 * whose target varies in time (.target, a conservation-form mass law) drifts from Q*(t_k). */
typedef struct {
  PetscBool estimated;          /* a half-resolution solve gave estimated_error */
  PetscReal estimated_error;    /* NaN when not estimated */
  PetscReal halfres_difference; /* NaN when not estimated */
  PetscInt  coarse_n[AZ_MAX_DIM];
  PetscReal seconds; /* wall time of the half-resolution solve */
  char      note[256]; /* why there is no estimate ("" when there is) */
  PetscInt  nlaws;     /* laws measured (0 for a steady problem) */
  PetscReal drift[AZ_MAX_LAWS], drift_rel[AZ_MAX_LAWS], qstar[AZ_MAX_LAWS];
  PetscReal tol;
  PetscBool verified;
  PetscBool skipped; /* -az_ref_verify 0: no estimate was asked for (no warning for its absence) */
  PetscBool bounds;              /* the problem declares bounds (.positive, .bounded) */
  PetscReal bound_violation;     /* max over snapshots, nodes, components of the distance outside them */
  PetscReal bound_violation_rel; /* bound_violation / max |u| */
} AzReferenceVerification;

PETSC_EXTERN PetscErrorCode AzReferenceCreate(MPI_Comm comm, AzProblem prob, AzReference *ref);
PETSC_EXTERN PetscErrorCode AzReferenceSetGrid(AzReference ref, PetscInt naxes, const PetscInt n[]);
PETSC_EXTERN PetscErrorCode AzReferenceSetOrder(AzReference ref, PetscInt order);
PETSC_EXTERN PetscErrorCode AzReferenceSetTolerances(AzReference ref, PetscReal rtol, PetscReal atol);
PETSC_EXTERN PetscErrorCode AzReferenceSetNumOutputTimes(AzReference ref, PetscInt nt_out);
PETSC_EXTERN PetscErrorCode AzReferenceSetMethod(AzReference ref, AzReferenceMethod method);
/* The method that is (or will be) used: auto resolved to fd, fv or spectral. */
PETSC_EXTERN PetscErrorCode AzReferenceGetMethod(AzReference ref, AzReferenceMethod *method);
PETSC_EXTERN PetscErrorCode AzReferenceSetFromOptions(AzReference ref);
PETSC_EXTERN PetscErrorCode AzReferenceSolve(AzReference ref);
PETSC_EXTERN PetscErrorCode AzReferenceView(AzReference ref, PetscViewer viewer);
PETSC_EXTERN PetscErrorCode AzReferenceDestroy(AzReference *ref);

/* The solution at the final time (steady: the solution), a DMDA global vector with ncomp dof per
 * node, and its DMDA. Both are borrowed: do not destroy them. */
PETSC_EXTERN PetscErrorCode AzReferenceGetSolution(AzReference ref, Vec *u, DM *da);
PETSC_EXTERN PetscErrorCode AzReferenceGetNumSnapshots(AzReference ref, PetscInt *nt);
PETSC_EXTERN PetscErrorCode AzReferenceGetSnapshot(AzReference ref, PetscInt k, PetscReal *t, Vec *u);
/* Node coordinates: x_i = lower + i*h along each spatial axis. */
PETSC_EXTERN PetscErrorCode AzReferenceGetGrid(AzReference ref, PetscInt n[], PetscReal h[]);
PETSC_EXTERN PetscErrorCode AzReferenceGetStats(AzReference ref, AzReferenceStats *stats);

PETSC_EXTERN PetscErrorCode AzReferenceGetVerification(AzReference ref, AzReferenceVerification *v);
/* One line for a report: "reference: verified (estimated error 2.1e-09, drift of law mass 3.3e-16;
 * threshold 1e-06)" or "reference: unverified — estimated error 3.0e-03 (threshold 1e-06), ..." */
PETSC_EXTERN PetscErrorCode AzReferenceGetVerificationLine(AzReference ref, char line[], size_t len);
/* The verification as the members of a JSON object (no braces), each line starting with indent. */
PETSC_EXTERN PetscErrorCode AzReferenceVerificationJSON(AzReference ref, char buf[], size_t len, const char indent[]);

/* Collective. x holds npts points of ncoord coordinates each (time last for a time-dependent
 * problem); u receives npts*ncomp values. Points outside the box are clamped onto it. */
PETSC_EXTERN PetscErrorCode AzReferenceInterpolate(AzReference ref, PetscInt npts, const PetscReal x[], PetscScalar u[]);

/* Error of the final snapshot against the problem's exact solution, over the grid nodes: the max
 * norm and the relative discrete L2 norm. Errors if the problem has no exact solution. */
PETSC_EXTERN PetscErrorCode AzReferenceComputeError(AzReference ref, PetscReal *maxerr, PetscReal *relerr);

/* Storage: DIR/reference.bin (or .h5) with the snapshots in natural ordering, DIR/reference.options
 * with the settings that produced it (the cache key), DIR/summary.json. */
PETSC_EXTERN PetscErrorCode AzReferenceWrite(AzReference ref, const char dir[]);
/* Load DIR's reference if its options match this object's settings; *loaded says whether it did. */
PETSC_EXTERN PetscErrorCode AzReferenceLoadCached(AzReference ref, const char dir[], PetscBool *loaded);
/* Load from DIR when it matches (and -az_ref_cache is on), otherwise solve and write DIR. */
PETSC_EXTERN PetscErrorCode AzReferenceSolveCached(AzReference ref, const char dir[]);
/* runs/reference-<problem>: where `ansatz reference` writes and where train/compare look. */
PETSC_EXTERN PetscErrorCode AzReferenceGetDefaultDir(AzProblem prob, char dir[], size_t len);

/* The `ansatz reference -problem NAME` mode: solve (or reuse the cache) into -az_output_dir. */
PETSC_EXTERN PetscErrorCode AzReferenceRunMode(MPI_Comm comm, AzProblem prob);

#endif
