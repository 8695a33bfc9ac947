/* The conservative finite-volume reference (-az_ref_method fv, src/reference/fv.c).
 *
 * - Order 2: consform (tests/consform.c: u_t + ((1 + x/2) u − κ u_x)_x = S, a Dirichlet face and a
 *   prescribed flux face) against its exact cell averages at t = 1, 64/128/256 cells: the relative L2
 *   error falls by 2^p with p ≥ 1.8 on each doubling.
 * - Porous medium u_t = (u² u_x)_x from the Barenblatt solution (tests/barenblatt.c; degenerate
 *   diffusion, u = 0 outside a moving front, no-flux walls): ≤ 1e-3 relative L2 at 1024 cells against
 *   the exact cell averages at t1, and the discrete mass Σ h ū_i equal to its initial value to ≤ 1e-12
 *   (relative) at every output time: the face fluxes telescope, and a direct linear solve keeps every
 *   Newton correction's sum.
 * - A Stefan-type jump of k(u) (k = 1 below u* = 1/2, 0.01 above) from a step: runs (stiff, implicit),
 *   mass ≤ 1e-12, no value outside the data's range [0, 1] beyond 1e-9.
 * - Inviscid Burgers u_t + (u²/2)_x = 0 (burgers1d with ν = 0) from −sin πx, a shock at x = 0 from
 *   t = 1/π on: no new extrema, max ū and min ū within the initial ones + 1e-9 at every output time
 *   (the limited reconstruction and the Lax–Friedrichs dissipation; BDF is not strictly monotone, so
 *   the bound is at the integrator's tolerance, not at round-off).
 * - A steady problem (Newton on the rates): −u_xx = π² sin πx with Dirichlet ends, order 2.
 * - The method choice: auto picks fv for a conservation form (consform, burgers1d), spectral for a
 *   periodic problem, fd for a problem without a flux; fv refuses a problem without flux or with a
 *   Neumann face, saying why and what to use; summary.json names the method; an integrator failure
 *   advises fv for a conservation form solved by fd, and not after fv itself failed.
 * - 2 ranks against 1 (under mpiexec): the same solution to the integrator's tolerance (1e-8) and the
 *   mass to 1e-12 (the linear systems are solved directly on every rank count). */
#include <ansatz.h>
#include <ansatz/reference.h>
#include <petscdmda.h>
#include <check.h>
#include "azcheck.h"
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>


static AzProblem LoadTestPlugin(MPI_Comm comm, const char *name)
{
  AzProblem prob = NULL;
  char      path[PETSC_MAX_PATH_LEN];

  snprintf(path, sizeof path, "%s/%s.so", getenv("AZ_TEST_PLUGIN_DIR") ? getenv("AZ_TEST_PLUGIN_DIR") : "tests/.libs", name);
  ck_assert_msg(AzProblemLoad(comm, path, &prob) == 0, "cannot load %s", path);
  OK(AzProblemSetFromOptions(prob));
  return prob;
}

static AzReference SolveFV(MPI_Comm comm, AzProblem prob, PetscInt n, PetscReal rtol, PetscInt nt, PetscBool verify)
{
  AzReference ref;

  OK(AzReferenceCreate(comm, prob, &ref));
  OK(AzReferenceSetMethod(ref, AZ_REFERENCE_FV));
  OK(AzReferenceSetGrid(ref, 1, &n));
  OK(AzReferenceSetTolerances(ref, rtol, 1e-2 * rtol));
  OK(AzReferenceSetNumOutputTimes(ref, nt));
  if (!verify) OK(PetscOptionsSetValue(NULL, "-az_ref_verify", "0"));
  OK(AzReferenceSetFromOptions(ref));
  OK(PetscOptionsClearValue(NULL, "-az_ref_verify"));
  OK(AzReferenceSolve(ref));
  return ref;
}

/* Σ_i h ū_i of snapshot k, Σ h |ū_i|, and the extreme cell averages */
static void Mass(AzReference ref, PetscInt k, PetscReal *mass, PetscReal *mabs, PetscReal *umin, PetscReal *umax)
{
  Vec       u;
  PetscReal h, s[2];
  PetscInt  n;

  OK(AzReferenceGetSnapshot(ref, k, NULL, &u));
  OK(AzReferenceGetGrid(ref, &n, &h));
  OK(VecSum(u, &s[0]));
  OK(VecNorm(u, NORM_1, &s[1]));
  *mass = h * s[0];
  if (mabs) *mabs = h * s[1];
  if (umin) OK(VecMin(u, NULL, umin));
  if (umax) OK(VecMax(u, NULL, umax));
}

/* the largest relative change of the discrete mass over the snapshots */
static PetscReal MassDrift(AzReference ref)
{
  PetscInt  nt;
  PetscReal m0, a0, worst = 0;

  OK(AzReferenceGetNumSnapshots(ref, &nt));
  Mass(ref, 0, &m0, &a0, NULL, NULL);
  for (PetscInt k = 1; k < nt; k++) {
    PetscReal m;
    Mass(ref, k, &m, NULL, NULL, NULL);
    worst = PetscMax(worst, PetscAbsReal(m - m0) / a0);
  }
  return worst;
}

START_TEST(test_fv_order)
{
  AzProblem      prob = LoadTestPlugin(PETSC_COMM_WORLD, "consform");
  const PetscInt n[3] = {64, 128, 256};
  PetscReal      e[3];

  for (int k = 0; k < 3; k++) {
    AzReference ref = SolveFV(PETSC_COMM_WORLD, prob, n[k], 1e-11, 5, PETSC_FALSE);
    OK(AzReferenceComputeError(ref, NULL, &e[k]));
    OK(AzReferenceDestroy(&ref));
  }
  PetscPrintf(PETSC_COMM_WORLD, "# fv consform: relative L2 %.3e %.3e %.3e, orders %.2f %.2f\n", (double)e[0], (double)e[1], (double)e[2], (double)PetscLog2Real(e[0] / e[1]), (double)PetscLog2Real(e[1] / e[2]));
  for (int k = 0; k < 2; k++) ck_assert_msg(PetscLog2Real(e[k] / e[k + 1]) >= 1.8, "fv on consform: observed order %.2f between %d and %d cells (errors %.3e, %.3e)", (double)PetscLog2Real(e[k] / e[k + 1]), (int)n[k], (int)n[k + 1], (double)e[k], (double)e[k + 1]);
  ck_assert_msg(e[2] < 1e-4, "fv on consform at 256 cells: relative L2 %g", (double)e[2]);
  OK(AzProblemDestroy(&prob));
}
END_TEST

START_TEST(test_fv_barenblatt)
{
  AzProblem   prob = LoadTestPlugin(PETSC_COMM_WORLD, "barenblatt");
  AzReference ref  = SolveFV(PETSC_COMM_WORLD, prob, 1024, 1e-6, 11, PETSC_FALSE);
  PetscReal   emax, erel, drift, umin;
  PetscInt    nt;

  OK(AzReferenceComputeError(ref, &emax, &erel));
  drift = MassDrift(ref);
  OK(AzReferenceGetNumSnapshots(ref, &nt));
  Mass(ref, nt - 1, &(PetscReal){0}, NULL, &umin, NULL);
  PetscPrintf(PETSC_COMM_WORLD, "# fv barenblatt (m = 2) at 1024 cells: relative L2 %.3e, max %.3e, mass drift %.1e, min %.1e\n", (double)erel, (double)emax, (double)drift, (double)umin);
  ck_assert_msg(erel <= 1e-3, "fv on the porous medium equation at 1024 cells: relative L2 %g against Barenblatt", (double)erel);
  ck_assert_msg(drift <= 1e-12, "fv on the porous medium equation: the mass drifts by %g (relative)", (double)drift);
  OK(AzReferenceDestroy(&ref));
  OK(AzProblemDestroy(&prob));
}
END_TEST

/* gpme1d's porous-medium kind from the Barenblatt profile: the initial cell averages are the data's
 * exact integrals over the cells (adaptive quadrature at the front, where u ~ (x_f − x)^(1/3)), so the
 * reference's mass equals the law's target Q* (the exact solution's mass) to round-off, not only its
 * own initial mass: one 5-point Gauss rule a cell left it 9.9e-5 off at 64 cells */
START_TEST(test_fv_initial_mass)
{
  AzProblem               prob;
  AzReference             ref;
  AzReferenceVerification v;

  OK(PetscOptionsSetValue(NULL, "-az_gpme1d_kind", "pme"));
  prob = LoadProblem("gpme1d");
  OK(PetscOptionsClearValue(NULL, "-az_gpme1d_kind"));
  ref = SolveFV(PETSC_COMM_WORLD, prob, 64, 1e-6, 3, PETSC_FALSE);
  OK(AzReferenceGetVerification(ref, &v));
  PetscPrintf(PETSC_COMM_WORLD, "# gpme1d pme, 64 cells: drift of law %s from its target %.3e\n", v.nlaws ? "mass" : "(none)", v.nlaws ? (double)v.drift[0] : 0.0);
  ck_assert_msg(v.nlaws == 1 && v.drift[0] <= 1e-12, "gpme1d pme: the mass drifts %g from the exact solution's", v.nlaws ? (double)v.drift[0] : -1.0);
  OK(AzReferenceDestroy(&ref));
  OK(AzProblemDestroy(&prob));
}
END_TEST

/* ---- a Stefan-type jump in k(u) ----------------------------------------------------------------- */
static PetscErrorCode StefanFlux(const AzPoint *p, const AzJet *J, PetscScalar F[], PetscScalar dFdjet[])
{
  const PetscReal k = AzU(J, 0) < 0.5 ? 1.0 : 0.01;

  (void)p;
  F[0] = -k * AzD(J, 0, 0);
  if (dFdjet) dFdjet[AzIdxD(J, 0, 0)] = -k;
  return PETSC_SUCCESS;
}

static PetscErrorCode StefanInitialValue(const AzPoint *p, PetscScalar u[])
{
  u[0] = p->x[0] < 0.3 ? 1 : 0;
  return PETSC_SUCCESS;
}

static PetscErrorCode StefanInitial(const AzPoint *p, const AzJet *J, PetscScalar r[], PetscScalar drdjet[])
{
  r[0] = AzU(J, 0) - (p->x[0] < 0.3 ? 1 : 0);
  if (drdjet) drdjet[AzIdxU(J, 0)] = 1;
  return PETSC_SUCCESS;
}

static const AzProblemInfo stefan = {
  .abi              = AZ_PROBLEM_ABI,
  .name             = "stefanjump",
  .description      = "u_t = (k(u) u_x)_x, k = 1 below u = 1/2 and 0.01 above, from a step, no-flux walls",
  .dim              = 1,
  .time_dependent   = PETSC_TRUE,
  .ncomp            = 1,
  .lower            = {0},
  .upper            = {1},
  .t0               = 0,
  .t1               = 0.05,
  .flux             = StefanFlux,
  .flux_derivatives = "x",
  .boundary         = {{AZ_BC_FLUX, NULL, NULL}, {AZ_BC_FLUX, NULL, NULL}},
  .initial          = StefanInitial,
  .initial_value    = StefanInitialValue,
  .exact_jacobian   = PETSC_TRUE,
};

START_TEST(test_fv_stefan_jump)
{
  AzProblem   prob;
  AzReference ref;
  PetscReal   drift, lo = PETSC_MAX_REAL, hi = -PETSC_MAX_REAL, m0, m1;
  PetscInt    nt;

  OK(AzProblemCreateFromInfo(PETSC_COMM_WORLD, &stefan, NULL, &prob));
  /* about 2200 steps; a rate that jumps where k does stalls the integrator (100000 steps at t = 1e-4) */
  OK(PetscOptionsSetValue(NULL, "-az_ref_max_steps", "20000"));
  ref = SolveFV(PETSC_COMM_WORLD, prob, 256, 1e-6, 11, PETSC_FALSE);
  OK(PetscOptionsClearValue(NULL, "-az_ref_max_steps"));
  drift = MassDrift(ref);
  OK(AzReferenceGetNumSnapshots(ref, &nt));
  for (PetscInt k = 0; k < nt; k++) {
    PetscReal m, a, b;
    Mass(ref, k, &m, NULL, &a, &b);
    lo = PetscMin(lo, a);
    hi = PetscMax(hi, b);
  }
  Mass(ref, 0, &m0, NULL, NULL, NULL);
  Mass(ref, nt - 1, &m1, NULL, NULL, NULL);
  PetscPrintf(PETSC_COMM_WORLD, "# fv Stefan-type jump: mass %.15f -> %.15f (drift %.1e), range [%.3e, 1 + %.3e]\n", (double)m0, (double)m1, (double)drift, (double)lo, (double)(hi - 1));
  ck_assert_msg(drift <= 1e-12, "fv with a jump in k: the mass drifts by %g", (double)drift);
  ck_assert_msg(lo >= -1e-9 && hi <= 1 + 1e-9, "fv with a jump in k: values in [%g, %g], outside the data's [0, 1]", (double)lo, (double)hi);
  OK(AzReferenceDestroy(&ref));
  OK(AzProblemDestroy(&prob));
}
END_TEST

START_TEST(test_fv_shock)
{
  AzProblem   prob;
  AzReference ref;
  PetscReal   lo0, hi0, lo = PETSC_MAX_REAL, hi = -PETSC_MAX_REAL, m;
  PetscInt    nt;

  OK(PetscOptionsSetValue(NULL, "-az_burgers1d_nu", "0"));
  prob = LoadProblem("burgers1d");
  OK(PetscOptionsClearValue(NULL, "-az_burgers1d_nu"));
  ref = SolveFV(PETSC_COMM_WORLD, prob, 400, 1e-8, 21, PETSC_FALSE);
  OK(AzReferenceGetNumSnapshots(ref, &nt));
  Mass(ref, 0, &m, NULL, &lo0, &hi0);
  for (PetscInt k = 1; k < nt; k++) {
    PetscReal a, b;
    Mass(ref, k, &m, NULL, &a, &b);
    lo = PetscMin(lo, a);
    hi = PetscMax(hi, b);
  }
  PetscPrintf(PETSC_COMM_WORLD, "# fv inviscid Burgers: initial range [%.12f, %.12f], later [%.12f, %.12f]\n", (double)lo0, (double)hi0, (double)lo, (double)hi);
  ck_assert_msg(hi <= hi0 + 1e-9 && lo >= lo0 - 1e-9, "fv on inviscid Burgers: new extrema, range [%.12g, %.12g] against the initial [%.12g, %.12g]", (double)lo, (double)hi, (double)lo0, (double)hi0);
  OK(AzReferenceDestroy(&ref));
  OK(AzProblemDestroy(&prob));
}
END_TEST

/* ---- a steady problem: −u_xx = π² sin πx on [0, 1], u = 0 at both ends (Newton on −rate(ū) = 0) ---- */
static PetscErrorCode PoissonFlux(const AzPoint *p, const AzJet *J, PetscScalar F[], PetscScalar dFdjet[])
{
  (void)p;
  F[0] = -AzD(J, 0, 0);
  if (dFdjet) dFdjet[AzIdxD(J, 0, 0)] = -1;
  return PETSC_SUCCESS;
}

static PetscErrorCode PoissonSource(const AzPoint *p, const AzJet *J, PetscScalar S[], PetscScalar dSdjet[])
{
  (void)J, (void)dSdjet;
  S[0] = PETSC_PI * PETSC_PI * PetscSinReal(PETSC_PI * p->x[0]);
  return PETSC_SUCCESS;
}

static PetscErrorCode PoissonWall(const AzPoint *p, const AzJet *J, PetscScalar r[], PetscScalar drdjet[])
{
  (void)p;
  r[0] = AzU(J, 0);
  if (drdjet) drdjet[AzIdxU(J, 0)] = 1;
  return PETSC_SUCCESS;
}

static PetscErrorCode PoissonZero(const AzPoint *p, PetscScalar u[])
{
  (void)p;
  u[0] = 0;
  return PETSC_SUCCESS;
}

static PetscErrorCode PoissonExact(const AzPoint *p, PetscScalar u[])
{
  u[0] = PetscSinReal(PETSC_PI * p->x[0]);
  return PETSC_SUCCESS;
}

static const AzProblemInfo poisson = {
  .abi              = AZ_PROBLEM_ABI,
  .name             = "fvpoisson",
  .description      = "-u_xx = pi^2 sin(pi x), u(0) = u(1) = 0",
  .dim              = 1,
  .ncomp            = 1,
  .lower            = {0},
  .upper            = {1},
  .flux             = PoissonFlux,
  .source           = PoissonSource,
  .flux_derivatives = "x",
  .boundary         = {{AZ_BC_DIRICHLET, PoissonWall, PoissonZero}, {AZ_BC_DIRICHLET, PoissonWall, PoissonZero}},
  .exact            = PoissonExact,
  .exact_jacobian   = PETSC_TRUE,
};

START_TEST(test_fv_steady)
{
  AzProblem         prob;
  AzReferenceMethod m;
  PetscReal         e[2];

  OK(AzProblemCreateFromInfo(PETSC_COMM_WORLD, &poisson, NULL, &prob));
  for (int k = 0; k < 2; k++) {
    AzReference ref;
    PetscInt    n = 64 << k;

    OK(AzReferenceCreate(PETSC_COMM_WORLD, prob, &ref));
    OK(AzReferenceGetMethod(ref, &m));
    ck_assert_msg(m == AZ_REFERENCE_FV, "auto chose method %d for a steady conservation form, not fv", (int)m);
    OK(AzReferenceSetGrid(ref, 1, &n));
    OK(PetscOptionsSetValue(NULL, "-az_ref_verify", "0"));
    OK(AzReferenceSetFromOptions(ref));
    OK(PetscOptionsClearValue(NULL, "-az_ref_verify"));
    OK(AzReferenceSolve(ref));
    OK(AzReferenceComputeError(ref, NULL, &e[k]));
    OK(AzReferenceDestroy(&ref));
  }
  PetscPrintf(PETSC_COMM_WORLD, "# fv steady Poisson: relative L2 %.3e %.3e, order %.2f\n", (double)e[0], (double)e[1], (double)PetscLog2Real(e[0] / e[1]));
  ck_assert_msg(e[0] < 1e-3 && PetscLog2Real(e[0] / e[1]) >= 1.8, "fv on a steady problem: relative L2 %g, %g at 64, 128 cells", (double)e[0], (double)e[1]);
  OK(AzProblemDestroy(&prob));
}
END_TEST

/* ---- the method choice -------------------------------------------------------------------------- */
static PetscErrorCode NeumannFluxFace(const AzPoint *p, const AzJet *J, PetscScalar r[], PetscScalar drdjet[])
{
  (void)p;
  r[0] = AzD(J, 0, 0);
  if (drdjet) drdjet[AzIdxD(J, 0, 0)] = 1;
  return PETSC_SUCCESS;
}

START_TEST(test_fv_method_choice)
{
  const char       *names[] = {"burgers1d", "advection1d", "heat1d", "heat2d"};
  const AzReferenceMethod want[] = {AZ_REFERENCE_FV, AZ_REFERENCE_SPECTRAL, AZ_REFERENCE_FD, AZ_REFERENCE_FD};
  AzReferenceMethod m;
  AzReference       ref;
  AzProblem         prob;
  PetscInt          n[1];
  PetscReal         h[1];

  for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
    prob = LoadProblem(names[k]);
    OK(AzReferenceCreate(PETSC_COMM_WORLD, prob, &ref));
    OK(AzReferenceGetMethod(ref, &m));
    ck_assert_msg(m == want[k], "auto chose method %d for %s, not %d", (int)m, names[k], (int)want[k]);
    OK(AzReferenceDestroy(&ref));
    OK(AzProblemDestroy(&prob));
  }
  prob = LoadTestPlugin(PETSC_COMM_WORLD, "consform");
  OK(AzReferenceCreate(PETSC_COMM_WORLD, prob, &ref));
  OK(AzReferenceGetMethod(ref, &m));
  ck_assert_msg(m == AZ_REFERENCE_FV, "auto chose method %d for consform, not fv", (int)m);
  /* fv's own default grid, in cells, and cell-centred spacing h = L/n */
  OK(AzReferenceGetGrid(ref, n, h));
  ck_assert_int_eq((int)n[0], 32768);
  ck_assert_msg(PetscAbsReal(h[0] - 1.0 / n[0]) < 1e-15, "fv spacing %g for %d cells on [0, 1]", (double)h[0], (int)n[0]);
  OK(AzReferenceDestroy(&ref));
  /* the option */
  OK(PetscOptionsSetValue(NULL, "-az_ref_method", "fd"));
  OK(AzReferenceCreate(PETSC_COMM_WORLD, prob, &ref));
  OK(AzReferenceSetFromOptions(ref));
  OK(AzReferenceGetMethod(ref, &m));
  ck_assert_msg(m == AZ_REFERENCE_FD, "-az_ref_method fd not taken on consform");
  OK(AzReferenceDestroy(&ref));
  OK(PetscOptionsSetValue(NULL, "-az_ref_method", "fv"));
  OK(AzProblemDestroy(&prob));
  prob = LoadProblem("burgers1d");
  OK(AzReferenceCreate(PETSC_COMM_WORLD, prob, &ref));
  OK(AzReferenceSetFromOptions(ref));
  OK(AzReferenceGetMethod(ref, &m));
  ck_assert_msg(m == AZ_REFERENCE_FV, "-az_ref_method fv not taken on burgers1d");
  OK(AzReferenceDestroy(&ref));
  OK(PetscOptionsClearValue(NULL, "-az_ref_method"));
  OK(AzProblemDestroy(&prob));

  /* what fv refuses, and says */
  OK(PetscPushErrorHandler(CaptureError, NULL));
  prob = LoadProblem("heat1d");
  OK(AzReferenceCreate(PETSC_COMM_WORLD, prob, &ref));
  last_error[0] = 0;
  ck_assert_int_ne(AzReferenceSetMethod(ref, AZ_REFERENCE_FV), 0);
  ck_assert_msg(strstr(last_error, "conservation form") && strstr(last_error, "-az_ref_method fd"), "fv on a problem without flux: %s", last_error);
  OK(AzReferenceDestroy(&ref));
  OK(AzProblemDestroy(&prob));
  {
    AzProblemInfo info = stefan;

    info.name        = "stefanneumann";
    info.boundary[1] = (AzBoundaryInfo){AZ_BC_NEUMANN, NeumannFluxFace, NULL};
    OK(PetscPopErrorHandler());
    OK(AzProblemCreateFromInfo(PETSC_COMM_WORLD, &info, NULL, &prob));
    OK(PetscPushErrorHandler(CaptureError, NULL));
    OK(AzReferenceCreate(PETSC_COMM_WORLD, prob, &ref));
    OK(AzReferenceGetMethod(ref, &m));
    ck_assert_msg(m == AZ_REFERENCE_FD, "auto chose method %d for a flux problem with a Neumann face, not fd", (int)m);
    last_error[0] = 0;
    ck_assert_int_ne(AzReferenceSetMethod(ref, AZ_REFERENCE_FV), 0);
    ck_assert_msg(strstr(last_error, "face 1") && strstr(last_error, "Neumann") && strstr(last_error, "-az_ref_method fd"), "fv with a Neumann face: %s", last_error);
    OK(AzReferenceDestroy(&ref));
    OK(AzProblemDestroy(&prob));
  }
  OK(PetscPopErrorHandler());
}
END_TEST

/* an integrator failure names fv for a conservation-form problem solved by fd, and not when fv failed */
START_TEST(test_fv_failure_advice)
{
  AzProblem   prob = LoadTestPlugin(PETSC_COMM_WORLD, "barenblatt");
  AzReference ref;
  PetscInt    n = 64;

  OK(PetscPushErrorHandler(CaptureError, NULL));
  for (int fv = 0; fv < 2; fv++) {
    OK(PetscOptionsSetValue(NULL, "-az_ref_max_steps", "3"));
    OK(AzReferenceCreate(PETSC_COMM_WORLD, prob, &ref));
    OK(AzReferenceSetMethod(ref, fv ? AZ_REFERENCE_FV : AZ_REFERENCE_FD));
    OK(AzReferenceSetGrid(ref, 1, &n));
    OK(AzReferenceSetFromOptions(ref));
    OK(PetscOptionsClearValue(NULL, "-az_ref_max_steps"));
    last_error[0] = 0;
    ck_assert_int_ne(AzReferenceSolve(ref), 0);
    ck_assert_msg(strstr(last_error, "What to try for barenblatt"), "no advice after a failure: %s", last_error);
    if (fv) ck_assert_msg(!strstr(last_error, "-az_ref_method fv"), "the advice after an fv failure names fv: %s", last_error);
    else ck_assert_msg(strstr(last_error, "-az_ref_method fv"), "the advice after an fd failure on a conservation-form problem does not name fv: %s", last_error);
    OK(AzReferenceDestroy(&ref));
  }
  OK(PetscPopErrorHandler());
  OK(AzProblemDestroy(&prob));
}
END_TEST

/* summary.json and the cache key name the method: an fd reference does not reuse a stored fv one */
START_TEST(test_fv_cache)
{
  AzProblem   prob = LoadTestPlugin(PETSC_COMM_WORLD, "consform");
  AzReference a, b;
  char        dir[PETSC_MAX_PATH_LEN], path[PETSC_MAX_PATH_LEN + 32], text[8192] = "";
  PetscMPIInt rank;
  PetscBool   loaded;
  PetscInt    n = 64;
  FILE       *f;

  OK(MPI_Comm_rank(PETSC_COMM_WORLD, &rank));
  if (rank == 0) {
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/azfv-XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
    ck_assert_ptr_nonnull(mkdtemp(dir));
  }
  OK(MPI_Bcast(dir, (int)sizeof dir, MPI_CHAR, 0, PETSC_COMM_WORLD));
  OK(AzReferenceCreate(PETSC_COMM_WORLD, prob, &a));
  OK(AzReferenceSetGrid(a, 1, &n));
  OK(AzReferenceSetNumOutputTimes(a, 5));
  OK(AzReferenceSolveCached(a, dir));
  snprintf(path, sizeof path, "%s/summary.json", dir);
  f = fopen(path, "r");
  ck_assert_ptr_nonnull(f);
  text[fread(text, 1, sizeof text - 1, f)] = 0;
  fclose(f);
  ck_assert_msg(strstr(text, "\"method\": \"fv\"") && strstr(text, "\"order\": 2"), "summary.json of an fv reference: %s", text);
  OK(AzReferenceCreate(PETSC_COMM_WORLD, prob, &b));
  OK(AzReferenceSetMethod(b, AZ_REFERENCE_FD));
  OK(AzReferenceSetGrid(b, 1, &n));
  OK(AzReferenceSetNumOutputTimes(b, 5));
  OK(AzReferenceLoadCached(b, dir, &loaded));
  ck_assert_msg(!loaded, "an fd reference reused a stored fv one");
  OK(AzReferenceDestroy(&b));
  OK(AzReferenceCreate(PETSC_COMM_WORLD, prob, &b));
  OK(AzReferenceSetGrid(b, 1, &n));
  OK(AzReferenceSetNumOutputTimes(b, 5));
  OK(AzReferenceLoadCached(b, dir, &loaded));
  ck_assert_msg(loaded, "the stored fv reference was not reused");
  OK(AzReferenceDestroy(&a));
  OK(AzReferenceDestroy(&b));
  OK(AzProblemDestroy(&prob));
  OK(MPI_Barrier(PETSC_COMM_WORLD));
  if (rank == 0) PetscRMTree(dir);
}
END_TEST

/* the same solve on every rank (PETSC_COMM_WORLD: 2 ranks under test_mpi.sh) and on PETSC_COMM_SELF */
START_TEST(test_fv_parallel)
{
  AzProblem    pw = LoadTestPlugin(PETSC_COMM_WORLD, "barenblatt"), ps = LoadTestPlugin(PETSC_COMM_SELF, "barenblatt");
  AzReference  par = SolveFV(PETSC_COMM_WORLD, pw, 256, 1e-8, 5, PETSC_FALSE), ser = SolveFV(PETSC_COMM_SELF, ps, 256, 1e-8, 5, PETSC_FALSE);
  PetscInt     npts = 101;
  PetscReal   *x, worst = 0, drift;
  PetscScalar *up, *us;

  x  = malloc(sizeof(PetscReal) * 2 * npts);
  up = malloc(sizeof(PetscScalar) * npts);
  us = malloc(sizeof(PetscScalar) * npts);
  for (PetscInt p = 0; p < npts; p++) {
    x[2 * p]     = -1 + 2.0 * p / (npts - 1);
    x[2 * p + 1] = 0.3 + 2.7 * p / (npts - 1);
  }
  OK(AzReferenceInterpolate(par, npts, x, up));
  OK(AzReferenceInterpolate(ser, npts, x, us));
  for (PetscInt p = 0; p < npts; p++) worst = PetscMax(worst, PetscAbsScalar(up[p] - us[p]));
  OK(MPI_Allreduce(MPI_IN_PLACE, &worst, 1, MPIU_REAL, MPIU_MAX, PETSC_COMM_WORLD));
  drift = MassDrift(par);
  PetscPrintf(PETSC_COMM_WORLD, "# fv barenblatt on all ranks against one: max difference %.1e, mass drift %.1e\n", (double)worst, (double)drift);
  /* not bit for bit: the integrator's error norms are sums in another order, so its steps differ in
   * the last digits and the solutions by far less than its tolerance (rtol 1e-8, max u 0.25: 2e-10) */
  ck_assert_msg(worst <= 1e-8, "the fv reference on all ranks differs from a serial one by %g, more than its tolerance", (double)worst);
  ck_assert_msg(drift <= 1e-12, "the fv reference on all ranks: mass drift %g", (double)drift);
  free(x);
  free(up);
  free(us);
  OK(AzReferenceDestroy(&par));
  OK(AzReferenceDestroy(&ser));
  OK(AzProblemDestroy(&pw));
  OK(AzProblemDestroy(&ps));
}
END_TEST

static void ClearOptions(void)
{
  const char *opts[] = {"-az_ref_method", "-az_ref_n", "-az_ref_verify", "-az_burgers1d_nu", "-az_ref_max_steps"};
  for (size_t k = 0; k < sizeof opts / sizeof opts[0]; k++) (void)PetscOptionsClearValue(NULL, opts[k]);
}

int main(int argc, char **argv)
{
  SRunner *sr;
  Suite   *s;
  TCase   *t;
  int      failed;
  MPI_Comm pinned;

  PetscCall(PetscInitialize(&argc, &argv, NULL, NULL));
  PetscCall(PetscCommDuplicate(PETSC_COMM_WORLD, &pinned, NULL));
  s = suite_create("fv");
  t = tcase_create("fv");
  tcase_set_timeout(t, 300);
  tcase_add_checked_fixture(t, ClearOptions, ClearOptions);
  tcase_add_test(t, test_fv_method_choice);
  tcase_add_test(t, test_fv_order);
  tcase_add_test(t, test_fv_barenblatt);
  tcase_add_test(t, test_fv_initial_mass);
  tcase_add_test(t, test_fv_stefan_jump);
  tcase_add_test(t, test_fv_shock);
  tcase_add_test(t, test_fv_steady);
  tcase_add_test(t, test_fv_failure_advice);
  tcase_add_test(t, test_fv_cache);
  tcase_add_test(t, test_fv_parallel);
  suite_add_tcase(s, t);
  sr = srunner_create(s);
  srunner_set_fork_status(sr, CK_NOFORK);
  srunner_run_all(sr, CK_NORMAL);
  failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  PetscCall(PetscCommDestroy(&pinned));
  PetscCall(PetscFinalize());
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
