/* The Fourier pseudo-spectral reference (-az_ref_method spectral).
 *
 * - Spectral convergence: the KdV soliton u = 3c sech²(√c (x − ct)/(2√δ)) of u_t + u u_x + δ u_xxx = 0,
 *   δ = 0.0025, c = 4, on the periodic [−1, 1] (its periodic images differ from it by < 1e-15), from
 *   t = 0 to 0.25: the error at t1 falls by at least 50x per 64 more nodes (exponential in N: order-4
 *   differences would gain (320/256)^4 = 2.4 on the last step) and is ≤ 1e-8 at N = 320.
 * - Heat flow from x² cos πx (a kink at ±1) against its Fourier-series solution: ≤ 1e-6 at N = 64
 *   (the initial modes by an oversampled transform; plain sampling aliases the data's tail).
 * - nls1d at its default settings keeps its mass ∫|h|² dx to ≤ 1e-10 (relative) at every output time.
 * - A smooth case against the fd reference: viscous Burgers u_t + u u_x = 0.05 u_xx, periodic on
 *   [−1, 1], u₀ = 1/2 + sin πx, t ∈ [0, 1/2]: spectral N = 128 against order-4 finite differences on
 *   1024 nodes, ≤ 1e-6 at the common nodes at every output time.
 * - auto picks spectral exactly when every axis is periodic; bad settings get clear errors; the cache
 *   key tells spectral from fd; the same solve on 2 ranks gives the serial numbers (under mpiexec). */
#include <ansatz.h>
#include <ansatz/reference.h>
#include <petscdmda.h>
#include <check.h>
#include "azcheck.h"
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>


/* ---- the KdV soliton ------------------------------------------------------------------------- */
static const PetscReal kdv_delta = 0.0025, kdv_c = 4;

static PetscErrorCode SolInterior(const AzPoint *p, const AzJet *J, PetscScalar r[], PetscScalar drdjet[])
{
  (void)p, (void)drdjet;
  r[0] = AzD(J, 0, 1) + AzU(J, 0) * AzD(J, 0, 0) + kdv_delta * AzD3(J, 0, 0);
  return PETSC_SUCCESS;
}

static PetscReal Soliton(PetscReal x, PetscReal t)
{
  PetscReal s = x - kdv_c * t, ch;
  s  = s - 2 * PetscFloorReal((s + 1) / 2); /* the nearest image, in [-1, 1) */
  ch = PetscCoshReal(PetscSqrtReal(kdv_c) * s / (2 * PetscSqrtReal(kdv_delta)));
  return 3 * kdv_c / (ch * ch);
}

static PetscErrorCode SolExact(const AzPoint *p, PetscScalar u[])
{
  u[0] = Soliton(p->x[0], p->x[1]);
  return PETSC_SUCCESS;
}

static PetscErrorCode SolInitial(const AzPoint *p, const AzJet *J, PetscScalar r[], PetscScalar drdjet[])
{
  (void)drdjet;
  r[0] = AzU(J, 0) - Soliton(p->x[0], 0);
  return PETSC_SUCCESS;
}

static PetscErrorCode SolInitialValue(const AzPoint *p, PetscScalar u[])
{
  u[0] = Soliton(p->x[0], 0);
  return PETSC_SUCCESS;
}

static const AzProblemInfo soliton = {
  .abi            = AZ_PROBLEM_ABI,
  .name           = "soliton",
  .description    = "KdV soliton, c = 4, periodic [-1,1]",
  .dim            = 1,
  .time_dependent = PETSC_TRUE,
  .ncomp          = 1,
  .lower          = {-1},
  .upper          = {1},
  .t0             = 0,
  .t1             = 0.25,
  .derivatives    = "t,x,xxx",
  .interior       = SolInterior,
  .boundary       = {{AZ_BC_PERIODIC, NULL, NULL}, {AZ_BC_PERIODIC, NULL, NULL}},
  .initial        = SolInitial,
  .initial_value  = SolInitialValue,
  .exact          = SolExact,
};

/* ---- a smooth periodic viscous Burgers problem ------------------------------------------------ */
static PetscErrorCode BuInterior(const AzPoint *p, const AzJet *J, PetscScalar r[], PetscScalar drdjet[])
{
  (void)p;
  r[0] = AzD(J, 0, 1) + AzU(J, 0) * AzD(J, 0, 0) - 0.05 * AzD2(J, 0, 0, 0);
  if (drdjet) {
    drdjet[AzIdxD(J, 0, 1)]    = 1;
    drdjet[AzIdxU(J, 0)]       = AzD(J, 0, 0);
    drdjet[AzIdxD(J, 0, 0)]    = AzU(J, 0);
    drdjet[AzIdxD2(J, 0, 0, 0)] = -0.05;
  }
  return PETSC_SUCCESS;
}

static PetscErrorCode BuInitial(const AzPoint *p, const AzJet *J, PetscScalar r[], PetscScalar drdjet[])
{
  r[0] = AzU(J, 0) - 0.5 - PetscSinReal(PETSC_PI * p->x[0]);
  if (drdjet) drdjet[AzIdxU(J, 0)] = 1;
  return PETSC_SUCCESS;
}

static PetscErrorCode BuInitialValue(const AzPoint *p, PetscScalar u[])
{
  u[0] = 0.5 + PetscSinReal(PETSC_PI * p->x[0]);
  return PETSC_SUCCESS;
}

static const AzProblemInfo pburgers = {
  .abi            = AZ_PROBLEM_ABI,
  .name           = "pburgers",
  .description    = "periodic viscous Burgers, nu = 0.05",
  .dim            = 1,
  .time_dependent = PETSC_TRUE,
  .ncomp          = 1,
  .lower          = {-1},
  .upper          = {1},
  .t0             = 0,
  .t1             = 0.5,
  .derivatives    = "t,x,xx",
  .interior       = BuInterior,
  .boundary       = {{AZ_BC_PERIODIC, NULL, NULL}, {AZ_BC_PERIODIC, NULL, NULL}},
  .initial        = BuInitial,
  .initial_value  = BuInitialValue,
  .exact_jacobian = PETSC_TRUE,
};

/* ---- heat flow from kinked data: u_t = ε u_xx, u₀ = x² cos πx (periodic on [−1, 1], its derivative
 * jumps by 4 at ±1), exact u = a₀ + Σ aₙ e^{−εn²π²t} cos nπx with aₙ = ½(I(n+1) + I(n−1)),
 * I(m) = ∫x² cos mπx dx = 4(−1)^m/(mπ)², I(0) = 2/3, a₀ = I(1)/2 --------------------------------- */
static const PetscReal kink_eps = 0.01;

static PetscReal KinkI(PetscInt m)
{
  if (m == 0) return 2.0 / 3.0;
  return 4.0 * (m % 2 ? -1 : 1) / (m * m * PETSC_PI * PETSC_PI);
}

static PetscErrorCode KinkInterior(const AzPoint *p, const AzJet *J, PetscScalar r[], PetscScalar drdjet[])
{
  (void)p, (void)drdjet;
  r[0] = AzD(J, 0, 1) - kink_eps * AzD2(J, 0, 0, 0);
  return PETSC_SUCCESS;
}

static PetscErrorCode KinkInitialValue(const AzPoint *p, PetscScalar u[])
{
  u[0] = p->x[0] * p->x[0] * PetscCosReal(PETSC_PI * p->x[0]);
  return PETSC_SUCCESS;
}

static PetscErrorCode KinkInitial(const AzPoint *p, const AzJet *J, PetscScalar r[], PetscScalar drdjet[])
{
  PetscScalar u0;
  (void)drdjet;
  KinkInitialValue(p, &u0);
  r[0] = AzU(J, 0) - u0;
  return PETSC_SUCCESS;
}

static PetscErrorCode KinkExact(const AzPoint *p, PetscScalar u[])
{
  PetscReal s = KinkI(1) / 2;
  for (PetscInt n = 1; n <= 200; n++) s += 0.5 * (KinkI(n + 1) + KinkI(n - 1)) * PetscExpReal(-kink_eps * n * n * PETSC_PI * PETSC_PI * p->x[1]) * PetscCosReal(n * PETSC_PI * p->x[0]);
  u[0] = s;
  return PETSC_SUCCESS;
}

static const AzProblemInfo kinkheat = {
  .abi            = AZ_PROBLEM_ABI,
  .name           = "kinkheat",
  .description    = "heat flow from x^2 cos(pi x), periodic [-1,1]",
  .dim            = 1,
  .time_dependent = PETSC_TRUE,
  .ncomp          = 1,
  .lower          = {-1},
  .upper          = {1},
  .t0             = 0,
  .t1             = 1,
  .derivatives    = "t,x,xx",
  .interior       = KinkInterior,
  .boundary       = {{AZ_BC_PERIODIC, NULL, NULL}, {AZ_BC_PERIODIC, NULL, NULL}},
  .initial        = KinkInitial,
  .initial_value  = KinkInitialValue,
  .exact          = KinkExact,
};

static AzReference Solve(AzProblem prob, AzReferenceMethod method, PetscInt n, PetscReal rtol, PetscReal atol, PetscInt nt)
{
  AzReference ref;

  OK(AzReferenceCreate(PETSC_COMM_WORLD, prob, &ref));
  OK(AzReferenceSetMethod(ref, method));
  OK(AzReferenceSetGrid(ref, 1, &n));
  OK(AzReferenceSetTolerances(ref, rtol, atol));
  OK(AzReferenceSetNumOutputTimes(ref, nt));
  OK(AzReferenceSetFromOptions(ref));
  OK(AzReferenceSolve(ref));
  return ref;
}

START_TEST(test_spectral_convergence)
{
  AzProblem      prob;
  const PetscInt n[4] = {128, 192, 256, 320};
  PetscReal      e[4];

  OK(AzProblemCreateFromInfo(PETSC_COMM_WORLD, &soliton, NULL, &prob));
  for (int k = 0; k < 4; k++) {
    AzReference ref = Solve(prob, AZ_REFERENCE_SPECTRAL, n[k], 1e-12, 1e-13, 2);
    PetscReal   erel;

    OK(AzReferenceComputeError(ref, &e[k], &erel));
    OK(PetscPrintf(PETSC_COMM_WORLD, "# KdV soliton, spectral, N = %d: max error %.3e at t = 0.25\n", (int)n[k], (double)e[k]));
    OK(AzReferenceDestroy(&ref));
  }
  for (int k = 0; k < 3; k++) ck_assert_msg(e[k + 1] <= e[k] / 50, "spectral error %g at N = %d is not 50x below %g at N = %d: not exponential convergence", (double)e[k + 1], (int)n[k + 1], (double)e[k], (int)n[k]);
  ck_assert_msg(e[3] <= 1e-8, "spectral error %g at N = 320 is above 1e-8", (double)e[3]);
  OK(AzProblemDestroy(&prob));
}
END_TEST

/* Data with a kink: the initial modes come from an oversampled transform, so the aliasing of the
 * data's k^-2 tail (about 2e-4 in the mean at N = 64 with plain sampling) does not reach the solution. */
START_TEST(test_spectral_kinked_data)
{
  AzProblem   prob;
  AzReference ref;
  PetscReal   emax, erel;

  OK(AzProblemCreateFromInfo(PETSC_COMM_WORLD, &kinkheat, NULL, &prob));
  ref = Solve(prob, AZ_REFERENCE_SPECTRAL, 64, 1e-11, 1e-13, 2);
  OK(AzReferenceComputeError(ref, &emax, &erel));
  OK(PetscPrintf(PETSC_COMM_WORLD, "# heat flow from x^2 cos(pi x), spectral N = 64: max error %.3e at t = 1\n", (double)emax));
  ck_assert_msg(emax <= 1e-6, "spectral heat flow from kinked data: error %g at t = 1 (allowed 1e-6)", (double)emax);
  OK(AzReferenceDestroy(&ref));
  OK(AzProblemDestroy(&prob));
}
END_TEST

/* ∫ q dx over the nodes (the periodic trapezoid rule, spectrally accurate) for every snapshot */
static void Mass(AzReference ref, PetscInt k, PetscReal *mass)
{
  Vec                u;
  const PetscScalar *a;
  PetscInt           n, nloc;
  PetscReal          h, s = 0, t;

  OK(AzReferenceGetSnapshot(ref, k, &t, &u));
  OK(AzReferenceGetGrid(ref, &n, &h));
  OK(VecGetLocalSize(u, &nloc));
  OK(VecGetArrayRead(u, &a));
  for (PetscInt q = 0; q < nloc; q += 2) s += a[q] * a[q] + a[q + 1] * a[q + 1];
  OK(VecRestoreArrayRead(u, &a));
  OK(MPI_Allreduce(MPI_IN_PLACE, &s, 1, MPIU_REAL, MPI_SUM, PETSC_COMM_WORLD));
  *mass = s * h;
}

START_TEST(test_nls_mass)
{
  AzProblem         prob = LoadProblem("nls1d");
  AzReference       ref;
  AzReferenceMethod m;
  PetscInt          nt;
  PetscReal         m0, m1, mk, worst = 0;

  OK(AzReferenceCreate(PETSC_COMM_WORLD, prob, &ref));
  OK(AzReferenceSetFromOptions(ref));
  OK(AzReferenceGetMethod(ref, &m));
  ck_assert_msg(m == AZ_REFERENCE_SPECTRAL, "nls1d (periodic) does not get the spectral reference by default");
  OK(AzReferenceSolve(ref));
  OK(AzReferenceGetNumSnapshots(ref, &nt));
  Mass(ref, 0, &m0);
  /* 8 tanh 5, up to the trapezoid rule's O(h²) error at the kink of the periodic 2 sech x at ±5 */
  ck_assert_msg(PetscAbsReal(m0 - 8 * PetscTanhReal(5)) <= 1e-6, "nls1d initial mass %.15g is not 8 tanh 5", (double)m0);
  /* The integration starts from the Fourier series of the data (an oversampled projection, less the
   * Nyquist mode), whose mass on the nodes differs from that of the samples at t0 by the tail of the
   * spectrum of the kinked 2 sech x: a representation error, bounded here, not a drift. The drift is
   * measured from the first output time on. */
  Mass(ref, 1, &m1);
  ck_assert_msg(PetscAbsReal(m1 - m0) / m0 <= 1e-7, "nls1d mass changes by %g (relative) in the first output interval", (double)(PetscAbsReal(m1 - m0) / m0));
  for (PetscInt k = 2; k < nt; k++) {
    Mass(ref, k, &mk);
    worst = PetscMax(worst, PetscAbsReal(mk - m1) / m1);
  }
  OK(PetscPrintf(PETSC_COMM_WORLD, "# nls1d spectral (defaults): mass %.15g at t0, %.15g at t1/100, relative drift from then on max %.3e over %d output times\n", (double)m0, (double)m1, (double)worst, (int)nt));
  ck_assert_msg(worst <= 1e-10, "nls1d mass drifts by %g (relative), above 1e-10", (double)worst);
  OK(AzReferenceDestroy(&ref));
  OK(AzProblemDestroy(&prob));
}
END_TEST

START_TEST(test_spectral_vs_fd)
{
  AzProblem   prob;
  AzReference sp, fd;
  PetscInt    nt;
  PetscReal   worst = 0;
  PetscReal  *x;
  PetscScalar *us, *uf;
  const PetscInt npts = 128;

  OK(AzProblemCreateFromInfo(PETSC_COMM_WORLD, &pburgers, NULL, &prob));
  sp = Solve(prob, AZ_REFERENCE_SPECTRAL, 128, 1e-10, 1e-12, 11);
  fd = Solve(prob, AZ_REFERENCE_FD, 1024, 1e-10, 1e-12, 11);
  OK(AzReferenceGetNumSnapshots(sp, &nt));
  x  = malloc(sizeof(PetscReal) * 2 * npts);
  us = malloc(sizeof(PetscScalar) * npts);
  uf = malloc(sizeof(PetscScalar) * npts);
  /* at the fd nodes, every output time: both are interpolated on their own grid (cubic, exact at nodes) */
  for (PetscInt k = 0; k < nt; k++) {
    PetscReal t;
    Vec       v;
    OK(AzReferenceGetSnapshot(sp, k, &t, &v));
    for (PetscInt p = 0; p < npts; p++) {
      x[2 * p]     = -1 + 2.0 * p / 128; /* nodes of both grids */
      x[2 * p + 1] = t;
    }
    OK(AzReferenceInterpolate(sp, npts, x, us));
    OK(AzReferenceInterpolate(fd, npts, x, uf));
    for (PetscInt p = 0; p < npts; p++) worst = PetscMax(worst, PetscAbsScalar(us[p] - uf[p]));
  }
  OK(PetscPrintf(PETSC_COMM_WORLD, "# periodic Burgers (nu 0.05): spectral N = 128 vs fd order 4 N = 1024: max difference %.3e\n", (double)worst));
  ck_assert_msg(worst <= 1e-6, "spectral and fd references of the periodic Burgers problem differ by %g (allowed 1e-6)", (double)worst);
  free(x);
  free(us);
  free(uf);
  OK(AzReferenceDestroy(&sp));
  OK(AzReferenceDestroy(&fd));
  OK(AzProblemDestroy(&prob));
}
END_TEST

START_TEST(test_method_choice)
{
  const char       *names[] = {"kdv1d", "allen_cahn1d", "advection1d", "burgers1d", "heat1d", "heat2d", "poisson2d"};
  const PetscBool   spec[]  = {PETSC_TRUE, PETSC_TRUE, PETSC_TRUE, PETSC_FALSE, PETSC_FALSE, PETSC_FALSE, PETSC_FALSE};
  AzReferenceMethod m;
  AzReference       ref;
  AzProblem         prob;

  for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
    prob = LoadProblem(names[k]);
    OK(AzReferenceCreate(PETSC_COMM_WORLD, prob, &ref));
    OK(AzReferenceGetMethod(ref, &m));
    ck_assert_msg((m == AZ_REFERENCE_SPECTRAL) == spec[k], "auto chose %s for %s", m == AZ_REFERENCE_SPECTRAL ? "spectral" : "fd", names[k]);
    OK(AzReferenceDestroy(&ref));
    OK(AzProblemDestroy(&prob));
  }
  /* default grids: the method's (512 modes, 4096 fd nodes), raised to a problem's .min_reference_n
   * (allen_cahn1d: 2048), never lowered, and never over a grid the user gave */
  {
    const char       *gname[] = {"kdv1d", "allen_cahn1d", "allen_cahn1d", "allen_cahn1d"};
    AzReferenceMethod gm[]    = {AZ_REFERENCE_AUTO, AZ_REFERENCE_AUTO, AZ_REFERENCE_FD, AZ_REFERENCE_AUTO};
    PetscInt          given[] = {0, 0, 0, 256}, want[] = {512, 2048, 4096, 256};

    for (size_t k = 0; k < sizeof gname / sizeof gname[0]; k++) {
      PetscInt n;
      prob = LoadProblem(gname[k]);
      OK(AzReferenceCreate(PETSC_COMM_WORLD, prob, &ref));
      OK(AzReferenceSetMethod(ref, gm[k]));
      if (given[k]) OK(AzReferenceSetGrid(ref, 1, &given[k]));
      OK(AzReferenceSetFromOptions(ref));
      OK(AzReferenceGetGrid(ref, &n, NULL));
      ck_assert_msg(n == want[k], "%s (method %d, grid given %d): %d nodes, expected %d", gname[k], (int)gm[k], (int)given[k], (int)n, (int)want[k]);
      OK(AzReferenceDestroy(&ref));
      OK(AzProblemDestroy(&prob));
    }
  }
  /* the option, and what it refuses */
  prob = LoadProblem("kdv1d");
  OK(PetscOptionsSetValue(NULL, "-az_ref_method", "fd"));
  OK(AzReferenceCreate(PETSC_COMM_WORLD, prob, &ref));
  OK(AzReferenceSetFromOptions(ref));
  OK(AzReferenceGetMethod(ref, &m));
  ck_assert_msg(m == AZ_REFERENCE_FD, "-az_ref_method fd not taken");
  OK(AzReferenceDestroy(&ref));
  OK(PetscOptionsClearValue(NULL, "-az_ref_method"));
  OK(AzProblemDestroy(&prob));

  OK(PetscPushErrorHandler(CaptureError, NULL));
  prob = LoadProblem("burgers1d");
  OK(AzReferenceCreate(PETSC_COMM_WORLD, prob, &ref));
  last_error[0] = 0;
  ck_assert_int_ne(AzReferenceSetMethod(ref, AZ_REFERENCE_SPECTRAL), 0);
  ck_assert_msg(strstr(last_error, "periodic") && strstr(last_error, "-az_ref_method fd"), "spectral on a non-periodic problem: %s", last_error);
  OK(AzReferenceDestroy(&ref));
  OK(AzProblemDestroy(&prob));
  prob = LoadProblem("kdv1d");
  OK(AzReferenceCreate(PETSC_COMM_WORLD, prob, &ref));
  {
    PetscInt odd = 101;
    OK(AzReferenceSetGrid(ref, 1, &odd));
  }
  last_error[0] = 0;
  ck_assert_int_ne(AzReferenceSolve(ref), 0);
  ck_assert_msg(strstr(last_error, "even number of nodes"), "odd spectral grid: %s", last_error);
  OK(AzReferenceDestroy(&ref));
  OK(AzProblemDestroy(&prob));
  OK(PetscPopErrorHandler());
}
END_TEST

/* the cache: a spectral reference is stored and reused, and not taken for an fd one */
START_TEST(test_spectral_cache)
{
  AzProblem   prob = LoadProblem("kdv1d");
  AzReference a, b;
  char        dir[PETSC_MAX_PATH_LEN];
  PetscMPIInt rank;
  PetscBool   loaded;
  PetscInt    n = 128;
  PetscReal   diff;
  Vec         ua, ub;

  OK(MPI_Comm_rank(PETSC_COMM_WORLD, &rank));
  if (rank == 0) {
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/azspec-XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
    ck_assert_ptr_nonnull(mkdtemp(dir));
  }
  OK(MPI_Bcast(dir, (int)sizeof dir, MPI_CHAR, 0, PETSC_COMM_WORLD));
  OK(AzReferenceCreate(PETSC_COMM_WORLD, prob, &a));
  OK(AzReferenceSetGrid(a, 1, &n));
  OK(AzReferenceSetNumOutputTimes(a, 5));
  OK(AzReferenceSolveCached(a, dir));
  /* fd with the same grid must not reuse it */
  OK(AzReferenceCreate(PETSC_COMM_WORLD, prob, &b));
  OK(AzReferenceSetMethod(b, AZ_REFERENCE_FD));
  OK(AzReferenceSetGrid(b, 1, &n));
  OK(AzReferenceSetNumOutputTimes(b, 5));
  OK(AzReferenceLoadCached(b, dir, &loaded));
  ck_assert_msg(!loaded, "an fd reference reused a stored spectral one");
  OK(AzReferenceDestroy(&b));
  OK(AzReferenceCreate(PETSC_COMM_WORLD, prob, &b));
  OK(AzReferenceSetGrid(b, 1, &n));
  OK(AzReferenceSetNumOutputTimes(b, 5));
  OK(AzReferenceLoadCached(b, dir, &loaded));
  ck_assert_msg(loaded, "the stored spectral reference was not reused");
  OK(AzReferenceGetSolution(a, &ua, NULL));
  OK(AzReferenceGetSolution(b, &ub, NULL));
  OK(VecAXPY(ub, -1, ua));
  OK(VecNorm(ub, NORM_INFINITY, &diff));
  ck_assert_msg(diff == 0, "the reloaded spectral reference differs by %g", (double)diff);
  OK(AzReferenceDestroy(&a));
  OK(AzReferenceDestroy(&b));
  OK(AzProblemDestroy(&prob));
  OK(MPI_Barrier(PETSC_COMM_WORLD));
  if (rank == 0) PetscRMTree(dir);
}
END_TEST

/* on every rank count the numbers are rank 0's serial solve: compare with a solve on PETSC_COMM_SELF */
START_TEST(test_spectral_parallel)
{
  AzProblem   pw = LoadProblem("kdv1d"), ps;
  AzReference par, ser;
  PetscInt    n = 128, npts = 64, nt = 5;
  PetscReal  *x, worst = 0;
  PetscScalar *up, *us;

  ck_assert_int_eq(AzProblemLoad(PETSC_COMM_SELF, "kdv1d", &ps), 0);
  OK(AzProblemSetFromOptions(ps));
  OK(AzReferenceCreate(PETSC_COMM_WORLD, pw, &par));
  OK(AzReferenceCreate(PETSC_COMM_SELF, ps, &ser));
  OK(AzReferenceSetGrid(par, 1, &n));
  OK(AzReferenceSetGrid(ser, 1, &n));
  OK(AzReferenceSetNumOutputTimes(par, nt));
  OK(AzReferenceSetNumOutputTimes(ser, nt));
  OK(AzReferenceSolve(par));
  OK(AzReferenceSolve(ser));
  x  = malloc(sizeof(PetscReal) * 2 * npts);
  up = malloc(sizeof(PetscScalar) * npts);
  us = malloc(sizeof(PetscScalar) * npts);
  for (PetscInt p = 0; p < npts; p++) {
    x[2 * p]     = -1 + 2.0 * p / npts + 0.013;
    x[2 * p + 1] = 0.37 + 0.5 * p / npts;
  }
  OK(AzReferenceInterpolate(par, npts, x, up));
  OK(AzReferenceInterpolate(ser, npts, x, us));
  for (PetscInt p = 0; p < npts; p++) worst = PetscMax(worst, PetscAbsScalar(up[p] - us[p]));
  OK(MPI_Allreduce(MPI_IN_PLACE, &worst, 1, MPIU_REAL, MPIU_MAX, PETSC_COMM_WORLD));
  ck_assert_msg(worst == 0, "the spectral reference on all ranks differs from a serial one by %g", (double)worst);
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
  const char *opts[] = {"-az_ref_method", "-az_ref_n", "-az_allen_cahn1d_eps"};
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
  s = suite_create("spectral");
  t = tcase_create("spectral");
  tcase_set_timeout(t, 300);
  tcase_add_checked_fixture(t, ClearOptions, ClearOptions);
  tcase_add_test(t, test_method_choice);
  tcase_add_test(t, test_spectral_convergence);
  tcase_add_test(t, test_spectral_kinked_data);
  tcase_add_test(t, test_nls_mass);
  tcase_add_test(t, test_spectral_vs_fd);
  tcase_add_test(t, test_spectral_cache);
  tcase_add_test(t, test_spectral_parallel);
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
