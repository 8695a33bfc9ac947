/* Problem plugins: loading, validation, rejection of broken plugins, parameters from the options
 * database, and the physics of the shipped plugins (their residuals vanish on their exact solutions,
 * their exact jet Jacobians agree with differences of their residuals). */
#include <ansatz.h>
#include <check.h>
#include "azcheck.h"
#include <math.h>
#include <stdio.h>
#include <unistd.h>


/* Load and expect failure; return the error message. */
static PetscErrorCode LoadExpectingError(const char *what, AzProblem *prob)
{
  PetscErrorCode ierr;

  last_error[0] = 0;
  PetscPushErrorHandler(CaptureError, NULL);
  ierr = AzProblemLoad(PETSC_COMM_WORLD, what, prob);
  PetscPopErrorHandler();
  return ierr;
}

static const char *BrokenDir(void)
{
  const char *d = getenv("AZ_TEST_BROKEN_DIR");
  return d ? d : "tests/broken/.libs";
}

/* ---- loading the shipped problems ------------------------------------------------------------- */
START_TEST(test_load_by_name)
{
  AzProblem            prob;
  const AzProblemInfo *info;
  PetscInt             ncoord;
  PetscReal            lo[AZ_MAX_COORD], hi[AZ_MAX_COORD];

  ck_assert_int_eq(AzProblemLoad(PETSC_COMM_WORLD, "heat1d", &prob), 0);
  ck_assert_int_eq(AzProblemGetInfo(prob, &info), 0);
  ck_assert_str_eq(info->name, "heat1d");
  ck_assert(info->time_dependent);
  ck_assert_int_eq(AzProblemGetNumCoords(prob, &ncoord), 0);
  ck_assert_int_eq(ncoord, 2); /* x and t */
  ck_assert_int_eq(AzProblemGetBox(prob, lo, hi), 0);
  ck_assert(lo[0] == 0 && hi[0] == 1 && lo[1] == 0 && hi[1] == 1);
  ck_assert_int_eq(AzProblemDestroy(&prob), 0);
  ck_assert_ptr_null(prob);

  ck_assert_int_eq(AzProblemLoad(PETSC_COMM_WORLD, "poisson2d", &prob), 0);
  ck_assert_int_eq(AzProblemGetInfo(prob, &info), 0);
  ck_assert_int_eq(info->dim, 2);
  ck_assert(!info->time_dependent);
  ck_assert_int_eq(AzProblemDestroy(&prob), 0);
}
END_TEST

START_TEST(test_list)
{
  PetscInt  n;
  char    **paths;
  PetscBool heat = PETSC_FALSE, poisson = PETSC_FALSE;

  ck_assert_int_eq(AzProblemList(PETSC_COMM_WORLD, &n, &paths), 0);
  for (PetscInt k = 0; k < n; k++) {
    if (strstr(paths[k], "/heat1d.so")) heat = PETSC_TRUE;
    if (strstr(paths[k], "/poisson2d.so")) poisson = PETSC_TRUE;
    PetscFree(paths[k]);
  }
  PetscFree(paths);
  ck_assert_msg(heat && poisson, "heat1d and poisson2d are on the search path");
}
END_TEST

/* -az_heat1d_kappa sets κ, and the exact solution follows it */
START_TEST(test_params_from_options)
{
  AzProblem        prob;
  const PetscReal *param;
  PetscInt         nparam;

  ck_assert_int_eq(AzProblemLoad(PETSC_COMM_WORLD, "heat1d", &prob), 0);
  ck_assert_int_eq(AzProblemGetNumParams(prob, &nparam), 0);
  ck_assert_int_eq(nparam, 1);
  ck_assert_int_eq(AzProblemGetParams(prob, &param), 0);
  ck_assert_double_eq(param[0], 0.1); /* the default */
  ck_assert_int_eq(PetscOptionsSetValue(NULL, "-az_heat1d_kappa", "0.25"), 0);
  ck_assert_int_eq(AzProblemSetFromOptions(prob), 0);
  ck_assert_double_eq(param[0], 0.25);
  ck_assert_int_eq(PetscOptionsClearValue(NULL, "-az_heat1d_kappa"), 0);
  ck_assert_int_eq(AzProblemDestroy(&prob), 0);
}
END_TEST

/* ---- physics of the shipped plugins ------------------------------------------------------------ */

/* The jet of the exact solution at x, by central differences of the plugin's own exact(): value,
 * first derivatives (h = 1e-5: truncation ~1e-10, rounding ~1e-11) and pure/mixed second derivatives
 * (h = 1e-4: truncation ~1e-9, rounding ~1e-8). */
static void ExactJet(AzProblem prob, const PetscReal x[], PetscScalar jet[])
{
  const AzProblemInfo *info;
  const PetscReal     *param;
  PetscInt             n;
  PetscReal            xp[AZ_MAX_COORD];
  PetscScalar          u0, up, um, upp, upm, ump, umm;
  AzPoint              p;

  AzProblemGetInfo(prob, &info);
  AzProblemGetParams(prob, &param);
  AzProblemGetNumCoords(prob, &n);
  p.ncoord = n;
  p.param  = param;
  p.face   = -1;
  p.x      = xp;
#define EVAL(dst) info->exact(&p, &(dst))
  for (PetscInt s = 0; s < AZ_JET_NSLOT(n); s++) jet[s] = NAN;
  memcpy(xp, x, n * sizeof(PetscReal));
  EVAL(u0);
  jet[0] = u0;
  for (PetscInt i = 0; i < n; i++) {
    const PetscReal h1 = 1e-5, h2 = 1e-4;
    memcpy(xp, x, n * sizeof(PetscReal));
    xp[i] = x[i] + h1;
    EVAL(up);
    xp[i] = x[i] - h1;
    EVAL(um);
    jet[AzJetSlotD1(n, i)] = (up - um) / (2 * h1);
    for (PetscInt j = i; j < n; j++) {
      memcpy(xp, x, n * sizeof(PetscReal));
      if (i == j) {
        xp[i] = x[i] + h2;
        EVAL(up);
        xp[i] = x[i] - h2;
        EVAL(um);
        jet[AzJetSlotD2(n, i, i)] = (up - 2 * u0 + um) / (h2 * h2);
      } else {
        xp[i] = x[i] + h2, xp[j] = x[j] + h2;
        EVAL(upp);
        xp[j] = x[j] - h2;
        EVAL(upm);
        xp[i] = x[i] - h2;
        EVAL(umm);
        xp[j] = x[j] + h2;
        EVAL(ump);
        jet[AzJetSlotD2(n, i, j)] = (upp - upm - ump + umm) / (4 * h2 * h2);
      }
    }
  }
#undef EVAL
}

/* Every residual of the problem, evaluated on the jet of its exact solution, vanishes (to the
 * accuracy of the differences, ~1e-7 against terms of size ~π² ≈ 10). */
static void CheckExactSolutionSatisfiesResiduals(const char *name)
{
  AzProblem            prob;
  const AzProblemInfo *info;
  PetscInt             n;
  PetscReal            lo[AZ_MAX_COORD], hi[AZ_MAX_COORD], x[AZ_MAX_COORD];
  PetscScalar          jet[AZ_JET_MAX_NSLOT], r[AZ_MAX_RES];

  ck_assert_int_eq(AzProblemLoad(PETSC_COMM_WORLD, name, &prob), 0);
  AzProblemGetInfo(prob, &info);
  AzProblemGetNumCoords(prob, &n);
  AzProblemGetBox(prob, lo, hi);
  ck_assert_ptr_nonnull(info->exact);
  for (PetscInt cond = AZ_COND_INTERIOR; cond <= AZ_COND_INITIAL; cond++) {
    PetscInt nres;
    if (cond >= 2 * info->dim && cond != AZ_COND_INITIAL) continue;
    ck_assert_int_eq(AzProblemGetNumResiduals(prob, cond, &nres), 0);
    if (!nres) continue;
    for (PetscInt k = 0; k < 7; k++) {
      for (PetscInt i = 0; i < n; i++) x[i] = lo[i] + (hi[i] - lo[i]) * (0.1 + 0.8 * ((k * (i + 3) * 37) % 101) / 101.0);
      if (cond >= 0 && cond < AZ_COND_INITIAL) x[cond / 2] = cond % 2 ? hi[cond / 2] : lo[cond / 2];
      if (cond == AZ_COND_INITIAL) x[n - 1] = lo[n - 1];
      ExactJet(prob, x, jet);
      ck_assert_int_eq(AzProblemEvaluateResidual(prob, cond, x, jet, r, NULL), 0);
      ck_assert_msg(PetscAbsScalar(r[0]) < 1e-6, "%s condition %d at point %d: residual %g on the exact solution", name, (int)cond, (int)k, (double)r[0]);
    }
  }
  AzProblemDestroy(&prob);
}

START_TEST(test_exact_solutions)
{
  CheckExactSolutionSatisfiesResiduals("poisson2d");
  CheckExactSolutionSatisfiesResiduals("heat1d");
}
END_TEST

/* A mismatch between residual and solution must show: the κ = 0.1 solution u = e^(−κπ²t) sin πx in
 * the residual with κ' = 0.2 gives u_t − κ'u_xx = (κ' − κ)π² u = 0.1 π² e^(−0.1π²t) sin πx ≠ 0. */
START_TEST(test_wrong_kappa_detected)
{
  AzProblem        prob;
  PetscReal        x[2] = {0.5, 0.2};
  PetscScalar      jet[AZ_JET_MAX_NSLOT], r[1];
  const PetscReal *param;

  ck_assert_int_eq(AzProblemLoad(PETSC_COMM_WORLD, "heat1d", &prob), 0);
  ExactJet(prob, x, jet); /* jet of the κ = 0.1 solution */
  AzProblemGetParams(prob, &param);
  ((PetscReal *)param)[0] = 0.2; /* residual with κ = 0.2 */
  ck_assert_int_eq(AzProblemEvaluateResidual(prob, AZ_COND_INTERIOR, x, jet, r, NULL), 0);
  ck_assert_msg(PetscAbsScalar(r[0] - 0.1 * PETSC_PI * PETSC_PI * PetscExpReal(-0.1 * PETSC_PI * PETSC_PI * 0.2)) < 1e-6, "residual %g", (double)r[0]);
  AzProblemDestroy(&prob);
}
END_TEST

START_TEST(test_exact_jet_jacobians)
{
  const char *names[] = {"poisson2d", "heat1d"};
  for (int k = 0; k < 2; k++) {
    AzProblem            prob;
    const AzProblemInfo *info;
    ck_assert_int_eq(AzProblemLoad(PETSC_COMM_WORLD, names[k], &prob), 0);
    AzProblemGetInfo(prob, &info);
    ck_assert(info->exact_jacobian);
    for (PetscInt cond = AZ_COND_INTERIOR; cond <= AZ_COND_INITIAL; cond++) {
      PetscReal err;
      if (cond >= 2 * info->dim && cond != AZ_COND_INITIAL) continue;
      ck_assert_int_eq(AzProblemCheckJetJacobian(prob, cond, 10, &err), 0);
      ck_assert_msg(err < 1e-9, "%s condition %d: exact jet Jacobian differs from differences by %g", names[k], (int)cond, (double)err);
    }
    AzProblemDestroy(&prob);
  }
}
END_TEST

/* myproblem has no exact Jacobian: the numerical one must match ∂r/∂u = 3cu², ∂r/∂u_xx = −1. */
START_TEST(test_numerical_jet_jacobian)
{
  char        path[PETSC_MAX_PATH_LEN];
  AzProblem   prob;
  PetscReal   x[1] = {0.3};
  PetscScalar jet[AZ_JET_MAX_NSLOT], r[1], D[AZ_JET_MAX_NSLOT];
  const PetscInt n = 1;

  snprintf(path, sizeof path, "%s/myproblem.so", getenv("AZ_TEST_PLUGIN_DIR") ? getenv("AZ_TEST_PLUGIN_DIR") : "tests/.libs");
  ck_assert_int_eq(AzProblemLoad(PETSC_COMM_WORLD, path, &prob), 0);
  for (PetscInt s = 0; s < AZ_JET_NSLOT(n); s++) jet[s] = NAN;
  jet[0]                   = 0.7;
  jet[AzJetSlotD2(n, 0, 0)] = -2.5;
  ck_assert_int_eq(AzProblemEvaluateResidual(prob, AZ_COND_INTERIOR, x, jet, r, D), 0);
  ck_assert_msg(PetscAbsScalar(D[0] - 3 * 0.7 * 0.7) < 1e-10, "dr/du = %.15g, expected %.15g", (double)D[0], 3 * 0.49);
  ck_assert_msg(PetscAbsScalar(D[AzJetSlotD2(n, 0, 0)] + 1) < 1e-10, "dr/du_xx = %.15g, expected -1", (double)D[AzJetSlotD2(n, 0, 0)]);
  AzProblemDestroy(&prob);
}
END_TEST

/* ---- rejections -------------------------------------------------------------------------------- */
static void ExpectRejected(const char *file, const char *fragment)
{
  char      path[PETSC_MAX_PATH_LEN];
  AzProblem prob = NULL;

  snprintf(path, sizeof path, "%s/%s", BrokenDir(), file);
  ck_assert_msg(LoadExpectingError(path, &prob) != 0, "%s was accepted", file);
  ck_assert_ptr_null(prob);
  ck_assert_msg(strstr(last_error, fragment), "%s: message \"%s\" does not say \"%s\"", file, last_error, fragment);
}

START_TEST(test_reject_missing_file)
{
  ExpectRejected("doesnotexist.so", "no such file");
}
END_TEST

START_TEST(test_reject_not_shared_object)
{
  AzProblem prob = NULL;
  char      path[] = "/tmp/az_test_notelf_XXXXXX.so";
  int       fd     = mkstemps(path, 3);
  ck_assert_int_ge(fd, 0);
  ck_assert_int_eq(write(fd, "not an ELF file\n", 16), 16);
  close(fd);
  ck_assert(LoadExpectingError(path, &prob) != 0);
  unlink(path);
  ck_assert_msg(strstr(last_error, "not a loadable shared object"), "message: %s", last_error);
}
END_TEST

START_TEST(test_reject_unknown_name)
{
  AzProblem prob = NULL;
  ck_assert(LoadExpectingError("nosuchproblem", &prob) != 0);
  ck_assert_msg(strstr(last_error, "Unknown problem 'nosuchproblem'") && strstr(last_error, "heat1d") && strstr(last_error, "poisson2d"), "message must list the available problems: %s", last_error);
}
END_TEST

START_TEST(test_reject_no_descriptor)
{
  ExpectRejected("nodescriptor.so", "exports no descriptor 'az_problem_nodescriptor'");
}
END_TEST

START_TEST(test_reject_abi)
{
  ExpectRejected("badabi.so", "built for problem ABI");
}
END_TEST

START_TEST(test_reject_name_mismatch)
{
  ExpectRejected("wrongname.so", "names its problem 'poisson3d', but the file is wrongname.so");
}
END_TEST

START_TEST(test_reject_inconsistent)
{
  ExpectRejected("dimzero.so", "spatial dimension 0: allowed are 1 to 3");
  ExpectRejected("noresidual.so", "has no interior residual");
  ExpectRejected("emptydomain.so", "empty domain");
  ExpectRejected("highorder.so", "has order 5; ansatz supports orders up to 4");
  ExpectRejected("mixedthird.so", "mixed derivative of order 3");
  ExpectRejected("nobc.so", "a boundary condition without a residual");
  ExpectRejected("noinitial.so", "no initial-condition residual");
}
END_TEST

/* Descriptors are validated field by field, without loading anything. */
START_TEST(test_validate_descriptor)
{
  AzProblem            prob;
  const AzProblemInfo *good;
  AzProblemInfo        bad;
  PetscBool            valid;
  char                 msg[512];

  ck_assert_int_eq(AzProblemLoad(PETSC_COMM_WORLD, "poisson2d", &prob), 0);
  AzProblemGetInfo(prob, &good);
  ck_assert_int_eq(AzProblemInfoValidate(good, &valid, msg, sizeof msg), 0);
  ck_assert_msg(valid, "poisson2d is valid: %s", msg);
#define EXPECT_INVALID(mutate, fragment) \
  do { \
    bad = *good; \
    mutate; \
    ck_assert_int_eq(AzProblemInfoValidate(&bad, &valid, msg, sizeof msg), 0); \
    ck_assert_msg(!valid && strstr(msg, fragment), "expected \"%s\", got valid=%d \"%s\"", fragment, (int)valid, msg); \
  } while (0)
  EXPECT_INVALID(bad.dim = 4, "allowed are 1 to 3");
  EXPECT_INVALID(bad.ncomp = 0, "solution components");
  EXPECT_INVALID(bad.ncomp = AZ_MAX_COMP + 1, "solution components");
  EXPECT_INVALID(bad.upper[1] = -1, "empty domain");
  EXPECT_INVALID(bad.name = "Poisson 2D", "is not allowed");
  EXPECT_INVALID(bad.description = NULL, "no description");
  EXPECT_INVALID(bad.derivatives = "xx,zz", "names coordinate 'z'");
  EXPECT_INVALID(bad.boundary[0].type = AZ_BC_PERIODIC; bad.boundary[0].residual = NULL, "periodic on one face only");
  EXPECT_INVALID(bad.boundary[4].type = AZ_BC_DIRICHLET, "only 2 spatial dimension");
  EXPECT_INVALID(bad.positive[3] = PETSC_TRUE, "positivity of component 3");
  EXPECT_INVALID(bad.component_names = "u,v", "names 2 components");
  EXPECT_INVALID(bad.initial = bad.interior, "steady but gives an initial condition");
  AzProblemDestroy(&prob);
  /* a time-dependent problem: the time span must be finite (t1 = inf would run the trainers and the
   * reference on infinite times) */
  ck_assert_int_eq(AzProblemLoad(PETSC_COMM_WORLD, "heat1d", &prob), 0);
  AzProblemGetInfo(prob, &good);
  ck_assert_int_eq(AzProblemInfoValidate(good, &valid, msg, sizeof msg), 0);
  ck_assert_msg(valid, "heat1d is valid: %s", msg);
  EXPECT_INVALID(bad.t1 = INFINITY, "must be finite");
  EXPECT_INVALID(bad.t0 = -INFINITY, "must be finite");
  EXPECT_INVALID(bad.t1 = NAN, "empty time span");
#undef EXPECT_INVALID
  AzProblemDestroy(&prob);
}
END_TEST

static Suite *ProblemSuite(void)
{
  Suite *s = suite_create("problem");
  TCase *t = tcase_create("load");

  tcase_add_test(t, test_load_by_name);
  tcase_add_test(t, test_list);
  tcase_add_test(t, test_params_from_options);
  tcase_add_test(t, test_exact_solutions);
  tcase_add_test(t, test_wrong_kappa_detected);
  tcase_add_test(t, test_exact_jet_jacobians);
  tcase_add_test(t, test_numerical_jet_jacobian);
  suite_add_tcase(s, t);
  t = tcase_create("reject");
  tcase_add_test(t, test_reject_missing_file);
  tcase_add_test(t, test_reject_not_shared_object);
  tcase_add_test(t, test_reject_unknown_name);
  tcase_add_test(t, test_reject_no_descriptor);
  tcase_add_test(t, test_reject_abi);
  tcase_add_test(t, test_reject_name_mismatch);
  tcase_add_test(t, test_reject_inconsistent);
  tcase_add_test(t, test_validate_descriptor);
  suite_add_tcase(s, t);
  return s;
}

int main(int argc, char **argv)
{
  SRunner *sr;
  int      failed;

  PetscCall(PetscInitialize(&argc, &argv, NULL, NULL));
  /* Keep PETSc's inner communicator of PETSC_COMM_WORLD alive for the whole run: a test that fails
   * on one rank may leave an object there that the other ranks destroyed, and the next object created
   * would then duplicate the communicator on some ranks only (a hang instead of a reported failure). */
  MPI_Comm pinned;
  PetscCall(PetscCommDuplicate(PETSC_COMM_WORLD, &pinned, NULL));
  sr = srunner_create(ProblemSuite());
  srunner_set_fork_status(sr, CK_NOFORK); /* MPI cannot be initialised twice */
  srunner_run_all(sr, CK_NORMAL);
  failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  PetscCall(PetscCommDestroy(&pinned));
  PetscCall(PetscFinalize());
  return failed ? 1 : 0;
}
