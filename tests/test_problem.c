/* Problem plugins: loading, validation, rejection of broken plugins, parameters from the options
 * database, and the physics of the shipped plugins (their residuals vanish on their exact solutions,
 * their exact jet Jacobians agree with differences of their residuals). */
#include <ansatz.h>
#include <check.h>
#include "azcheck.h"
#include <math.h>
#include <stdio.h>
#include <unistd.h>
#include <dlfcn.h>


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
  PetscBool heat = PETSC_FALSE, poisson = PETSC_FALSE, convection = PETSC_FALSE, wave = PETSC_FALSE;

  ck_assert_int_eq(AzProblemList(PETSC_COMM_WORLD, &n, &paths), 0);
  for (PetscInt k = 0; k < n; k++) {
    if (strstr(paths[k], "/heat1d.so")) heat = PETSC_TRUE;
    if (strstr(paths[k], "/poisson2d.so")) poisson = PETSC_TRUE;
    if (strstr(paths[k], "/convection1d.so")) convection = PETSC_TRUE;
    if (strstr(paths[k], "/wave1d.so")) wave = PETSC_TRUE;
    PetscFree(paths[k]);
  }
  PetscFree(paths);
  ck_assert_msg(heat && poisson, "heat1d and poisson2d are on the search path");
  ck_assert_msg(convection && wave, "convection1d and wave1d are on the search path");
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

/* The jet of the exact solution by fourth-order central differences (h = 2e-4): value, first and pure
 * second derivatives (mixed ones NaN). For fast solutions: convection1d's u_t = −β cos(x − βt) with
 * β = 40 has a fifth derivative of 1e8, wave1d's u_tt a sixth of 5e8; the truncation errors are then
 * h⁴/30·1e8 ≈ 5e-9 and h⁴/90·5e8 ≈ 9e-9, rounding ~1e-8. */
static void ExactJet4(AzProblem prob, const PetscReal x[], PetscScalar jet[])
{
  const AzProblemInfo *info;
  const PetscReal     *param, h = 2e-4;
  PetscInt             n;
  PetscReal            xp[AZ_MAX_COORD];
  PetscScalar          f[5];
  AzPoint              p;

  AzProblemGetInfo(prob, &info);
  AzProblemGetParams(prob, &param);
  AzProblemGetNumCoords(prob, &n);
  p.ncoord = n;
  p.param  = param;
  p.face   = -1;
  p.x      = xp;
  for (PetscInt s = 0; s < AZ_JET_NSLOT(n); s++) jet[s] = NAN;
  for (PetscInt i = 0; i < n; i++) {
    for (PetscInt k = -2; k <= 2; k++) {
      memcpy(xp, x, n * sizeof(PetscReal));
      xp[i] = x[i] + k * h;
      info->exact(&p, &f[k + 2]);
    }
    jet[0]                    = f[2];
    jet[AzJetSlotD1(n, i)]    = (f[0] - 8 * f[1] + 8 * f[3] - f[4]) / (12 * h);
    jet[AzJetSlotD2(n, i, i)] = (-f[0] + 16 * f[1] - 30 * f[2] + 16 * f[3] - f[4]) / (12 * h * h);
  }
}

/* convection1d (β = 40) and wave1d: every residual of every condition (both of wave1d's initial
 * conditions, u − u0 and u_t) vanishes on the exact solution, to the differences' ~1e-8 against terms
 * of size 40 and 500 */
START_TEST(test_exact_solutions_rathore)
{
  const char *names[] = {"convection1d", "wave1d"};
  for (int m = 0; m < 2; m++) {
    AzProblem            prob;
    const AzProblemInfo *info;
    PetscInt             n, ninit;
    PetscReal            lo[AZ_MAX_COORD], hi[AZ_MAX_COORD], x[AZ_MAX_COORD];
    PetscScalar          jet[AZ_JET_MAX_NSLOT], r[AZ_MAX_RES];

    ck_assert_int_eq(AzProblemLoad(PETSC_COMM_WORLD, names[m], &prob), 0);
    AzProblemGetInfo(prob, &info);
    AzProblemGetNumCoords(prob, &n);
    AzProblemGetBox(prob, lo, hi);
    ck_assert_ptr_nonnull(info->exact);
    ck_assert_int_eq(AzProblemGetNumResiduals(prob, AZ_COND_INITIAL, &ninit), 0);
    ck_assert_int_eq(ninit, m == 1 ? 2 : 1); /* wave1d: u and u_t at t0 */
    for (PetscInt cond = AZ_COND_INTERIOR; cond <= AZ_COND_INITIAL; cond++) {
      PetscInt nres;
      if (cond >= 2 * info->dim && cond != AZ_COND_INITIAL) continue;
      ck_assert_int_eq(AzProblemGetNumResiduals(prob, cond, &nres), 0);
      if (!nres) continue;
      for (PetscInt k = 0; k < 9; k++) {
        for (PetscInt i = 0; i < n; i++) x[i] = lo[i] + (hi[i] - lo[i]) * (0.1 + 0.8 * ((k * (i + 3) * 37) % 101) / 101.0);
        if (cond >= 0 && cond < AZ_COND_INITIAL) x[cond / 2] = cond % 2 ? hi[cond / 2] : lo[cond / 2];
        if (cond == AZ_COND_INITIAL) x[n - 1] = lo[n - 1];
        ExactJet4(prob, x, jet);
        ck_assert_int_eq(AzProblemEvaluateResidual(prob, cond, x, jet, r, NULL), 0);
        for (PetscInt i = 0; i < nres; i++) ck_assert_msg(PetscAbsScalar(r[i]) < 1e-6, "%s condition %d residual %d at point %d: %g on the exact solution", names[m], (int)cond, (int)i, (int)k, (double)r[i]);
      }
    }
    /* and the residuals see a wrong solution: the jet at t shifted by 0.01 fails the initial conditions */
    x[0] = 0.3 * hi[0];
    x[1] = lo[1] + 0.01;
    ExactJet4(prob, x, jet);
    x[1] = lo[1];
    ck_assert_int_eq(AzProblemEvaluateResidual(prob, AZ_COND_INITIAL, x, jet, r, NULL), 0);
    ck_assert_msg(PetscAbsScalar(r[ninit - 1]) > 1e-2, "%s: the initial residual %d misses a shifted solution (%g)", names[m], (int)ninit - 1, (double)r[ninit - 1]);
    AzProblemDestroy(&prob);
  }
}
END_TEST

/* r = u_t + u_x, and r = u at t0 */
static PetscErrorCode Transport1(const AzPoint *p, const AzJet *J, PetscScalar r[], PetscScalar d[])
{
  r[0] = AzD(J, 0, 1) + AzD(J, 0, 0);
  return PETSC_SUCCESS;
}
static PetscErrorCode Value1(const AzPoint *p, const AzJet *J, PetscScalar r[], PetscScalar d[])
{
  r[0] = AzU(J, 0);
  return PETSC_SUCCESS;
}

/* A descriptor built for ABI 3 ends before .ninitial: whatever follows it in memory is not read (here
 * a stray 5 where .ninitial would be), the problem has one initial residual per component. */
START_TEST(test_abi3_descriptor)
{
  AzProblemInfo info = {.abi = 3, .name = "old3", .description = "an ABI-3 descriptor", .dim = 1, .time_dependent = PETSC_TRUE, .ncomp = 1, .lower = {0}, .upper = {1}, .t0 = 0, .t1 = 1, .derivatives = "t,x", .interior = Transport1, .initial = Value1, .boundary = {{AZ_BC_PERIODIC}, {AZ_BC_PERIODIC}}, .ninitial = 5};
  AzProblem     prob;
  PetscInt      nres;
  PetscBool     valid;
  char          msg[256];

  ck_assert_int_eq(AzProblemInfoValidate(&info, &valid, msg, sizeof msg), 0);
  ck_assert_msg(valid, "an ABI-3 descriptor is valid: %s", msg);
  ck_assert_int_eq(AzProblemCreateFromInfo(PETSC_COMM_WORLD, &info, NULL, &prob), 0);
  ck_assert_int_eq(AzProblemGetNumResiduals(prob, AZ_COND_INITIAL, &nres), 0);
  ck_assert_int_eq(nres, 1);
  AzProblemDestroy(&prob);
  /* the same at ABI 4 reads .ninitial, and a bad count is refused */
  info.abi      = AZ_PROBLEM_ABI;
  info.ninitial = AZ_MAX_RES + 1;
  ck_assert_int_eq(AzProblemInfoValidate(&info, &valid, msg, sizeof msg), 0);
  ck_assert(!valid);
  ck_assert_msg(strstr(msg, "ninitial"), "message: %s", msg);
}
END_TEST

/* A recipe is checked when the plugin loads: -az_ options only, each once, not the run's files, the
 * optimiser chain whole; a descriptor built for ABI 4 ends before .recipe, which is not read. */
START_TEST(test_recipe_check)
{
  const char *bad[][2] = {
    {"-az_field_width 8 -ksp_type cg",                      "'-ksp_type' is not an -az_ option"},
    {"-az_field_width 8 width",                             "'width' is not an -az_ option"     },
    {"-az_field_width 8 -az_field_width 9",                 "sets -az_field_width twice"        },
    {"-az_restart c.bin",                                   "sets -az_restart"                  },
    {"-az_infer nu",                                        "sets -az_infer"                    },
    {"-az_trainer_type adam,gn",                            "without -az_trainer_max_it"        },
    {"-az_trainer_max_it 3 -az_causal",                     "without -az_trainer_type"          },
  };
  const char   *good = "-az_causal -az_adam_lr -1e-3 -az_trainer_type adam,gn -az_trainer_max_it 5,6";
  PetscBool     valid;
  char          msg[512];
  AzProblemInfo info = {.abi = 4, .name = "old4", .description = "an ABI-4 descriptor", .dim = 1, .time_dependent = PETSC_TRUE, .ncomp = 1, .lower = {0}, .upper = {1}, .t0 = 0, .t1 = 1, .derivatives = "t,x", .interior = Transport1, .initial = Value1, .boundary = {{AZ_BC_PERIODIC}, {AZ_BC_PERIODIC}}, .recipe = "stray bytes"};
  AzProblem     prob;
  const AzProblemInfo *got;

  for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
    ck_assert_int_eq(AzProblemRecipeCheck(bad[k][0], &valid, msg, sizeof msg), 0);
    ck_assert_msg(!valid, "recipe \"%s\" accepted", bad[k][0]);
    ck_assert_msg(strstr(msg, bad[k][1]), "recipe \"%s\": message %s", bad[k][0], msg);
  }
  ck_assert_int_eq(AzProblemRecipeCheck(good, &valid, msg, sizeof msg), 0);
  ck_assert_msg(valid, "%s", msg);
  ck_assert(AzRecipeIsOption("-az_x") && !AzRecipeIsOption("-1e-3") && !AzRecipeIsOption("3"));
  /* ABI 4: the stray recipe is neither checked nor read */
  ck_assert_int_eq(AzProblemInfoValidate(&info, &valid, msg, sizeof msg), 0);
  ck_assert_msg(valid, "%s", msg);
  ck_assert_int_eq(AzProblemCreateFromInfo(PETSC_COMM_WORLD, &info, NULL, &prob), 0);
  ck_assert_int_eq(AzProblemGetInfo(prob, &got), 0);
  ck_assert_ptr_null(got->recipe);
  AzProblemDestroy(&prob);
  /* the same at ABI 5 is refused */
  info.abi = AZ_PROBLEM_ABI;
  ck_assert_int_eq(AzProblemInfoValidate(&info, &valid, msg, sizeof msg), 0);
  ck_assert(!valid);
  ck_assert_msg(strstr(msg, "'stray' is not an -az_ option"), "message: %s", msg);
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

/* ∂r/∂param: heat1d's exact one (−u_xx inside, 0 elsewhere) agrees with the differences and with the
 * formula; a wrong one (linked in, ABI 6) is caught by the check, and a plugin without one gets
 * differences (burgers1d's ∂r/∂nu = −u_xx through its flux) */
static PetscReal wrong_factor = 2;
static PetscErrorCode WrongParamDerivative(PetscInt cond, PetscInt k, const AzPoint *p, const AzJet *J, PetscScalar drdp[], PetscBool *provided)
{
  (void)p;
  (void)k;
  (void)provided;
  if (cond == AZ_COND_INTERIOR) drdp[0] = -wrong_factor * AzD2(J, 0, 0, 0);
  return PETSC_SUCCESS;
}

static PetscErrorCode PHeatInterior(const AzPoint *p, const AzJet *J, PetscScalar r[], PetscScalar drdjet[])
{
  r[0] = 1 - p->param[0] * AzD2(J, 0, 0, 0);
  if (drdjet) drdjet[AzIdxD2(J, 0, 0, 0)] = -p->param[0];
  return PETSC_SUCCESS;
}

static PetscErrorCode PHeatWall(const AzPoint *p, const AzJet *J, PetscScalar r[], PetscScalar drdjet[])
{
  (void)p;
  r[0] = AzU(J, 0);
  if (drdjet) drdjet[AzIdxU(J, 0)] = 1;
  return PETSC_SUCCESS;
}

/* -kappa u_xx = -1 on [0, 1], u = 0 at both ends, with a plugin parameter derivative */
static const AzProblemInfo pheat = {
  .abi              = AZ_PROBLEM_ABI,
  .name             = "pheat",
  .description      = "kappa u_xx = 1, with a plugin parameter derivative",
  .dim              = 1,
  .ncomp            = 1,
  .lower            = {0},
  .upper            = {1},
  .params           = {{"kappa", 0.1, "diffusivity"}},
  .derivatives      = "xx",
  .boundary         = {{AZ_BC_DIRICHLET, PHeatWall, NULL}, {AZ_BC_DIRICHLET, PHeatWall, NULL}},
  .interior         = PHeatInterior,
  .exact_jacobian   = PETSC_TRUE,
  .param_derivative = WrongParamDerivative,
};

START_TEST(test_param_derivative)
{
  AzProblem            prob;
  const AzProblemInfo *info;
  PetscReal            err, x[2] = {0.3, 0.4};
  PetscScalar          jet[AZ_JET_MAX_NSLOT], d[1];
  PetscInt             k;

  ck_assert_int_eq(AzProblemLoad(PETSC_COMM_WORLD, "heat1d", &prob), 0);
  AzProblemGetInfo(prob, &info);
  ck_assert(info->param_derivative != NULL);
  ck_assert_int_eq(AzProblemGetParamIndex(prob, "kappa", "-az_infer", PETSC_TRUE, &k), 0);
  for (PetscInt cond = AZ_COND_INTERIOR; cond <= AZ_COND_INITIAL; cond++) {
    if (cond >= 2 && cond != AZ_COND_INITIAL) continue;
    ck_assert_int_eq(AzProblemCheckParamJacobian(prob, cond, k, 10, &err), 0);
    ck_assert_msg(err < 1e-7, "heat1d condition %d: ∂r/∂kappa differs from differences by %g", (int)cond, (double)err);
  }
  for (PetscInt s = 0; s < AZ_JET_MAX_NSLOT; s++) jet[s] = 0.1 * (s + 1);
  ck_assert_int_eq(AzProblemEvaluateParamDerivative(prob, AZ_COND_INTERIOR, k, x, jet, d), 0);
  ck_assert_msg(PetscAbsScalar(d[0] + jet[AzJetSlotD2(2, 0, 0)]) < 1e-15, "heat1d: ∂r/∂kappa %g, expected -u_xx = %g", (double)d[0], (double)-jet[AzJetSlotD2(2, 0, 0)]);
  AzProblemDestroy(&prob);
  /* a plugin's function, wrong by a factor 2: caught */
  ck_assert_int_eq(AzProblemCreateFromInfo(PETSC_COMM_WORLD, &pheat, NULL, &prob), 0);
  ck_assert_int_eq(AzProblemCheckParamJacobian(prob, AZ_COND_INTERIOR, 0, 10, &err), 0);
  ck_assert_msg(err > 0.1, "a wrong ∂r/∂kappa passed the check (difference %g)", (double)err);
  wrong_factor = 1;
  ck_assert_int_eq(AzProblemCheckParamJacobian(prob, AZ_COND_INTERIOR, 0, 10, &err), 0);
  ck_assert_msg(err < 1e-9, "the right ∂r/∂kappa failed the check (difference %g)", (double)err);
  AzProblemDestroy(&prob);
  /* an ABI-5 descriptor ends before .param_derivative: a stray value there is not read */
  {
    AzProblemInfo        old = pheat;
    const AzProblemInfo *got;
    old.abi                  = 5;
    ck_assert_int_eq(AzProblemCreateFromInfo(PETSC_COMM_WORLD, &old, NULL, &prob), 0);
    AzProblemGetInfo(prob, &got);
    ck_assert_ptr_null(got->param_derivative);
    AzProblemDestroy(&prob);
  }
  /* differences: burgers1d (conservation form) has ∂r/∂nu = −u_xx */
  ck_assert_int_eq(AzProblemLoad(PETSC_COMM_WORLD, "burgers1d", &prob), 0);
  ck_assert_int_eq(AzProblemGetParamIndex(prob, "nu", "-az_infer", PETSC_TRUE, &k), 0);
  ck_assert_int_eq(AzProblemEvaluateParamDerivative(prob, AZ_COND_INTERIOR, k, x, jet, d), 0);
  ck_assert_msg(PetscAbsScalar(d[0] + jet[AzJetSlotD2(2, 0, 0)]) < 1e-9, "burgers1d: ∂r/∂nu %.15g by differences, expected -u_xx = %.15g", (double)d[0], (double)-jet[AzJetSlotD2(2, 0, 0)]);
  AzProblemDestroy(&prob);
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

/* ---- the conservation form ---------------------------------------------------------------------- */
static unsigned long long cf_seed = 977;
static PetscReal CfUniform(void)
{
  cf_seed = cf_seed * 6364136223846793005ULL + 1442695040888963407ULL;
  return (PetscReal)(cf_seed >> 11) / 9007199254740992.0;
}

static void PluginPath(const char *file, char path[], size_t len)
{
  snprintf(path, len, "%s/%s", getenv("AZ_TEST_PLUGIN_DIR") ? getenv("AZ_TEST_PLUGIN_DIR") : "tests/.libs", file);
}

/* consform: u_t + ((1 + x/2) u − κ u_x)_x = s − β(u − u*) with u* = 2 + e^{−t} sin πx. The residual
 * derived from the flux and the source vanishes on u*'s jet, and so does F·n − g at the flux face. */
START_TEST(test_consform_exact_solution)
{
  char           path[PETSC_MAX_PATH_LEN];
  AzProblem      prob;
  AzJetRequest   req;
  const PetscInt n = 2, X = 0, T = 1;
  const PetscReal kappa = 0.1, pi = PETSC_PI;

  PluginPath("consform.so", path, sizeof path);
  ck_assert_int_eq(AzProblemLoad(PETSC_COMM_WORLD, path, &prob), 0);
  /* the request follows from the flux: t, the flux's x, and x again for ∂_x F: t, x, xx */
  ck_assert_int_eq(AzProblemGetJetRequest(prob, &req), 0);
  ck_assert_int_eq(req.mask, 1 | (1 << AzJetSlotD1(n, X)) | (1 << AzJetSlotD1(n, T)) | (1 << AzJetSlotD2(n, X, X)));
  for (int k = 0; k < 20; k++) {
    PetscReal   x[2] = {CfUniform(), CfUniform()}, e = PetscExpReal(-x[1]);
    PetscScalar jet[AZ_JET_MAX_NSLOT], r[1];

    for (PetscInt s = 0; s < AZ_JET_NSLOT(n); s++) jet[s] = NAN;
    jet[0]                    = 2 + e * PetscSinReal(pi * x[0]);
    jet[AzJetSlotD1(n, X)]    = pi * e * PetscCosReal(pi * x[0]);
    jet[AzJetSlotD1(n, T)]    = -e * PetscSinReal(pi * x[0]);
    jet[AzJetSlotD2(n, X, X)] = -pi * pi * e * PetscSinReal(pi * x[0]);
    ck_assert_int_eq(AzProblemEvaluateResidual(prob, AZ_COND_INTERIOR, x, jet, r, NULL), 0);
    ck_assert_msg(PetscAbsScalar(r[0]) < 1e-11, "derived residual on the exact solution at (%g, %g): %g", (double)x[0], (double)x[1], (double)r[0]);
    /* off the solution it is not zero: u_t alone moves it one for one */
    jet[AzJetSlotD1(n, T)] += 1;
    ck_assert_int_eq(AzProblemEvaluateResidual(prob, AZ_COND_INTERIOR, x, jet, r, NULL), 0);
    ck_assert_msg(PetscAbsScalar(r[0] - 1) < 1e-11, "residual %g, expected 1", (double)r[0]);
    jet[AzJetSlotD1(n, T)] -= 1;
    /* the outward flux at x = 1: F·n − g, g = 3 + κπe^{−t} */
    x[0]                      = 1;
    jet[0]                    = 2 + e * PetscSinReal(pi);
    jet[AzJetSlotD1(n, X)]    = pi * e * PetscCosReal(pi);
    ck_assert_int_eq(AzProblemEvaluateResidual(prob, 1, x, jet, r, NULL), 0);
    ck_assert_msg(PetscAbsScalar(r[0]) < 1e-13, "flux face residual on the exact solution: %g", (double)r[0]);
    jet[AzJetSlotD1(n, X)] += 1; /* F = a u − κ u_x: F·n moves by −κ */
    ck_assert_int_eq(AzProblemEvaluateResidual(prob, 1, x, jet, r, NULL), 0);
    ck_assert_msg(PetscAbsScalar(r[0] + kappa) < 1e-13, "flux face residual %g, expected %g", (double)r[0], -kappa);
  }
  AzProblemDestroy(&prob);
}
END_TEST

/* ∂r/∂jet of the derived residuals against differences, with the plugin's exact ∂F/∂jet and ∂S/∂jet
 * and (the same descriptor with exact_jacobian off) with ∂F/∂jet by differences of F */
START_TEST(test_consform_jacobian)
{
  char                 path[PETSC_MAX_PATH_LEN];
  AzProblem            prob, num;
  const AzProblemInfo *orig;
  AzProblemInfo        copy;
  void                *dl;

  PluginPath("consform.so", path, sizeof path);
  ck_assert_int_eq(AzProblemLoad(PETSC_COMM_WORLD, path, &prob), 0);
  for (PetscInt cond = AZ_COND_INTERIOR; cond <= AZ_COND_INITIAL; cond++) {
    PetscReal err;
    if (cond >= 2 && cond != AZ_COND_INITIAL) continue;
    ck_assert_int_eq(AzProblemCheckJetJacobian(prob, cond, 20, &err), 0);
    ck_assert_msg(err < 1e-9, "consform condition %d: derived ∂r/∂jet differs from differences by %g", (int)cond, (double)err);
  }
  dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  ck_assert_ptr_nonnull(dl);
  orig = (const AzProblemInfo *)dlsym(dl, "az_problem_consform");
  ck_assert_ptr_nonnull(orig);
  copy                = *orig;
  copy.exact_jacobian = PETSC_FALSE;
  ck_assert_int_eq(AzProblemCreateFromInfo(PETSC_COMM_WORLD, &copy, NULL, &num), 0);
  for (int k = 0; k < 10; k++) {
    const PetscInt n = 2, L = AZ_JET_NSLOT(n);
    PetscReal      x[2] = {CfUniform(), CfUniform()};
    PetscScalar    jet[AZ_JET_MAX_NSLOT], r1[1], r2[1], D1[AZ_JET_MAX_NSLOT], D2[AZ_JET_MAX_NSLOT];

    for (PetscInt s = 0; s < L; s++) jet[s] = 2 * CfUniform() - 1;
    ck_assert_int_eq(AzProblemEvaluateResidual(prob, AZ_COND_INTERIOR, x, jet, r1, D1), 0);
    ck_assert_int_eq(AzProblemEvaluateResidual(num, AZ_COND_INTERIOR, x, jet, r2, D2), 0);
    ck_assert_msg(PetscAbsScalar(r1[0] - r2[0]) < 1e-9, "residual with exact %g, with differenced ∂F/∂jet %g", (double)r1[0], (double)r2[0]);
    for (PetscInt s = 0; s < L; s++)
      if (!PetscIsNanScalar(D1[s]) || !PetscIsNanScalar(D2[s])) ck_assert_msg(PetscAbsScalar(D1[s] - D2[s]) < 1e-6, "slot %d: exact %g, numerical %g", (int)s, (double)D1[s], (double)D2[s]);
  }
  AzProblemDestroy(&num);
  AzProblemDestroy(&prob);
  dlclose(dl);
}
END_TEST

/* burgers1d in conservation form, F = u²/2 − ν u_x: the derived residual is u_t + u u_x − ν u_xx (the
 * old hand-written residual) to the last bit, and its ∂r/∂jet (1, u_x, u, −ν) to round-off */
START_TEST(test_burgers_conservation_form)
{
  AzProblem        prob;
  const PetscReal *param;
  const PetscInt   n = 2, X = 0, T = 1, L = AZ_JET_NSLOT(2);

  ck_assert_int_eq(AzProblemLoad(PETSC_COMM_WORLD, "burgers1d", &prob), 0);
  AzProblemGetParams(prob, &param);
  for (int k = 0; k < 50; k++) {
    PetscReal   x[2] = {2 * CfUniform() - 1, CfUniform()}, nu = param[0];
    PetscScalar jet[AZ_JET_MAX_NSLOT], r[1], D[AZ_JET_MAX_NSLOT], u, ux, ut, uxx, old;

    for (PetscInt s = 0; s < L; s++) jet[s] = NAN;
    u = jet[0] = 4 * CfUniform() - 2;
    ux = jet[AzJetSlotD1(n, X)] = 200 * CfUniform() - 100;
    ut = jet[AzJetSlotD1(n, T)] = 20 * CfUniform() - 10;
    uxx = jet[AzJetSlotD2(n, X, X)] = 2e4 * CfUniform() - 1e4;
    old = ut + u * ux - nu * uxx;
    ck_assert_int_eq(AzProblemEvaluateResidual(prob, AZ_COND_INTERIOR, x, jet, r, D), 0);
    ck_assert_msg(r[0] == old, "derived %.17g, old residual %.17g", (double)r[0], (double)old);
    ck_assert(D[AzJetSlotD1(n, T)] == 1 && D[AzJetSlotD1(n, X)] == u && D[AzJetSlotD2(n, X, X)] == -nu);
    ck_assert_msg(PetscAbsScalar(D[0] - ux) <= 1e-13 * PetscMax(1, PetscAbsScalar(ux)), "dr/du = %.17g, expected u_x = %.17g", (double)D[0], (double)ux);
  }
  AzProblemDestroy(&prob);
}
END_TEST

/* 2-D divergence: F = (x u + u²/2 − κ u_x, u³/3 − κ u_y + x y u_x), whose ∂_y F_y reads the mixed u_xy:
 * r = u_t + u + 2x u_x + u u_x − κ u_xx + u² u_y − κ u_yy + x y u_xy. Not exact Jacobian: differences. */
static PetscErrorCode Flux2(const AzPoint *p, const AzJet *J, PetscScalar F[], PetscScalar dF[])
{
  const PetscReal   x = p->x[0], y = p->x[1], k = 0.3;
  const PetscScalar u = AzU(J, 0), ux = AzD(J, 0, 0), uy = AzD(J, 0, 1);

  F[0] = x * u + 0.5 * u * u - k * ux;
  F[1] = u * u * u / 3 - k * uy + x * y * ux;
  if (dF) {
    const PetscInt Ls = J->ncomp * J->nslot;
    dF[AzIdxU(J, 0)]           = x + u;
    dF[AzIdxD(J, 0, 0)]        = -k;
    dF[Ls + AzIdxU(J, 0)]      = u * u;
    dF[Ls + AzIdxD(J, 0, 1)]   = -k;
    dF[Ls + AzIdxD(J, 0, 0)]   = x * y;
  }
  return PETSC_SUCCESS;
}

static PetscErrorCode Init2(const AzPoint *p, const AzJet *J, PetscScalar r[], PetscScalar d[])
{
  (void)p;
  r[0] = AzU(J, 0);
  if (d) d[AzIdxU(J, 0)] = 1;
  return PETSC_SUCCESS;
}

START_TEST(test_flux_2d)
{
  AzProblemInfo info = {.abi = AZ_PROBLEM_ABI, .name = "flux2d", .description = "a 2-D flux", .dim = 2, .time_dependent = PETSC_TRUE, .ncomp = 1, .lower = {0, 0}, .upper = {1, 2}, .t0 = 0, .t1 = 1, .flux = Flux2, .flux_derivatives = "x,y", .initial = Init2};
  const PetscInt n = 3, L = AZ_JET_NSLOT(3);

  for (int exact = 0; exact < 2; exact++) {
    AzProblem    prob;
    AzJetRequest req;
    PetscReal    err;

    info.exact_jacobian = exact ? PETSC_TRUE : PETSC_FALSE;
    ck_assert_int_eq(AzProblemCreateFromInfo(PETSC_COMM_WORLD, &info, NULL, &prob), 0);
    ck_assert_int_eq(AzProblemGetJetRequest(prob, &req), 0);
    for (PetscInt i = 0; i < 2; i++)
      for (PetscInt j = i; j < 2; j++) ck_assert_msg(req.mask & (1 << AzJetSlotD2(n, i, j)), "second derivative %d%d not requested", (int)i, (int)j);
    for (int k = 0; k < 20; k++) {
      PetscReal   x[3] = {CfUniform(), 2 * CfUniform(), CfUniform()}, kk = 0.3;
      PetscScalar jet[AZ_JET_MAX_NSLOT], r[1], expect, u, ux, uy, uxx, uyy, uxy;

      for (PetscInt s = 0; s < L; s++) jet[s] = 2 * CfUniform() - 1;
      u = jet[0], ux = jet[AzJetSlotD1(n, 0)], uy = jet[AzJetSlotD1(n, 1)];
      uxx = jet[AzJetSlotD2(n, 0, 0)], uyy = jet[AzJetSlotD2(n, 1, 1)], uxy = jet[AzJetSlotD2(n, 0, 1)];
      expect = jet[AzJetSlotD1(n, 2)] + u + 2 * x[0] * ux + u * ux - kk * uxx + u * u * uy - kk * uyy + x[0] * x[1] * uxy;
      ck_assert_int_eq(AzProblemEvaluateResidual(prob, AZ_COND_INTERIOR, x, jet, r, NULL), 0);
      ck_assert_msg(PetscAbsScalar(r[0] - expect) < 1e-10, "exact=%d: derived %.15g, expected %.15g", exact, (double)r[0], (double)expect);
    }
    ck_assert_int_eq(AzProblemCheckJetJacobian(prob, AZ_COND_INTERIOR, 20, &err), 0);
    ck_assert_msg(err < (exact ? 1e-9 : 1e-6), "exact=%d: ∂r/∂jet differs from differences by %g", exact, (double)err);
    AzProblemDestroy(&prob);
  }
}
END_TEST

/* the mass target from the data: consform with both faces prescribing the flux F·n of u* (at x = 0,
 * n = −1: g = −(2 − κπe^{−t})) and the source s(x, t) alone; then Q*(t) = ∫u* dx = 2 + 2e^{−t}/π */
static void CfExact(PetscReal x, PetscReal t, PetscReal *u, PetscReal *ux, PetscReal *ut, PetscReal *uxx)
{
  const PetscReal e = PetscExpReal(-t), k = PETSC_PI;
  *u = 2 + e * PetscSinReal(k * x), *ux = k * e * PetscCosReal(k * x), *ut = -e * PetscSinReal(k * x), *uxx = -k * k * e * PetscSinReal(k * x);
}
static PetscErrorCode DataSource(const AzPoint *p, const AzJet *J, PetscScalar S[], PetscScalar dS[])
{
  PetscReal u, ux, ut, uxx;
  (void)J, (void)dS;
  CfExact(p->x[0], p->x[1], &u, &ux, &ut, &uxx);
  S[0] = ut + 0.5 * u + (1 + 0.5 * p->x[0]) * ux - p->param[0] * uxx;
  return PETSC_SUCCESS;
}
static PetscErrorCode InFlux(const AzPoint *p, PetscScalar g[])
{
  g[0] = -(2 - p->param[0] * PETSC_PI * PetscExpReal(-p->x[1]));
  return PETSC_SUCCESS;
}

START_TEST(test_mass_target)
{
  char                 path[PETSC_MAX_PATH_LEN];
  AzProblem            prob;
  const AzProblemInfo *orig;
  AzProblemInfo        copy;
  void                *dl;
  PetscBool            known;
  PetscReal            Q;

  PluginPath("consform.so", path, sizeof path);
  /* a Dirichlet face: its flux depends on the solution, so the data fix no target */
  ck_assert_int_eq(AzProblemLoad(PETSC_COMM_WORLD, path, &prob), 0);
  ck_assert_int_eq(AzProblemGetMassTarget(prob, 0, 0.5, &known, &Q), 0);
  ck_assert(!known && PetscIsNanReal(Q));
  AzProblemDestroy(&prob);
  dl   = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  orig = (const AzProblemInfo *)dlsym(dl, "az_problem_consform");
  ck_assert_ptr_nonnull(orig);
  copy                      = *orig;
  copy.boundary[0].type     = AZ_BC_FLUX;
  copy.boundary[0].residual = NULL;
  copy.boundary[0].value    = InFlux;
  /* the plugin's source reads u (β(u − u*)): no target either */
  ck_assert_int_eq(AzProblemCreateFromInfo(PETSC_COMM_WORLD, &copy, NULL, &prob), 0);
  ck_assert_int_eq(AzProblemGetMassTarget(prob, 0, 0.5, &known, &Q), 0);
  ck_assert(!known);
  AzProblemDestroy(&prob);
  copy.source = DataSource;
  ck_assert_int_eq(AzProblemCreateFromInfo(PETSC_COMM_WORLD, &copy, NULL, &prob), 0);
  for (int k = 0; k <= 4; k++) {
    const PetscReal t = 0.25 * k, exact = 2 + 2 * PetscExpReal(-t) / PETSC_PI;
    ck_assert_int_eq(AzProblemGetMassTarget(prob, 0, t, &known, &Q), 0);
    ck_assert(known);
    ck_assert_msg(PetscAbsReal(Q - exact) < 1e-12, "Q*(%g) = %.15g, exact mass %.15g", (double)t, (double)Q, (double)exact);
  }
  /* and the residual of the new flux face vanishes on u* */
  {
    PetscReal   x[2] = {0, 0.3}, u, ux, ut, uxx;
    PetscScalar jet[AZ_JET_MAX_NSLOT], r[1];
    for (PetscInt s = 0; s < AZ_JET_NSLOT(2); s++) jet[s] = NAN;
    CfExact(0, 0.3, &u, &ux, &ut, &uxx);
    jet[0] = u, jet[AzJetSlotD1(2, 0)] = ux;
    ck_assert_int_eq(AzProblemEvaluateResidual(prob, 0, x, jet, r, NULL), 0);
    ck_assert_msg(PetscAbsScalar(r[0]) < 1e-13, "lower flux face residual %g", (double)r[0]);
  }
  AzProblemDestroy(&prob);
  dlclose(dl);
  /* consmass (the same, as a plugin): its automatic law mass_u0 and the target's time derivative */
  PluginPath("consmass.so", path, sizeof path);
  ck_assert_int_eq(AzProblemLoad(PETSC_COMM_WORLD, path, &prob), 0);
  {
    const AzProblemInfo *info;
    PetscReal            Mk[3];
    PetscBool            varies;
    AzProblemGetInfo(prob, &info);
    ck_assert_str_eq(info->conservation[0].name, "mass_u0");
    ck_assert_ptr_null(info->conservation[1].name);
    for (int k = 0; k <= 4; k++) {
      const PetscReal t = 0.25 * k, e = PetscExpReal(-t);
      ck_assert_int_eq(AzProblemGetLawTarget(prob, 0, t, 3, &varies, Mk), 0);
      ck_assert(varies);
      ck_assert_msg(PetscAbsReal(Mk[0] - (2 + 2 * e / PETSC_PI)) < 1e-12, "Q*(%g) = %.15g", (double)t, (double)Mk[0]);
      ck_assert_msg(PetscAbsReal(Mk[1] + 2 * e / PETSC_PI) < 1e-12, "Q*'(%g) = %.15g, expected %.15g", (double)t, (double)Mk[1], (double)(-2 * e / PETSC_PI));
      ck_assert_msg(PetscAbsReal(Mk[2] - 2 * e / PETSC_PI) < 1e-8, "Q*''(%g) = %.15g, expected %.15g", (double)t, (double)Mk[2], (double)(2 * e / PETSC_PI));
    }
  }
  AzProblemDestroy(&prob);
  /* a shipped problem with Dirichlet faces gets no automatic law, and its declared law is constant */
  ck_assert_int_eq(AzProblemLoad(PETSC_COMM_WORLD, "burgers1d", &prob), 0);
  {
    const AzProblemInfo *info;
    PetscReal            Mk[1];
    PetscBool            varies;
    AzProblemGetInfo(prob, &info);
    ck_assert_str_eq(info->conservation[0].name, "mass");
    ck_assert_ptr_null(info->conservation[1].name);
    ck_assert_int_eq(AzProblemGetLawTarget(prob, 0, 0.5, 1, &varies, Mk), 0);
    ck_assert(!varies);
  }
  AzProblemDestroy(&prob);
}
END_TEST

/* a declared law's own target Q*(t) = sin t: the value, and its time derivatives by differences */
static PetscErrorCode SinTarget(const AzPoint *p, PetscReal *Q)
{
  *Q = PetscSinReal(p->x[p->ncoord - 1]);
  return PETSC_SUCCESS;
}

START_TEST(test_law_target_function)
{
  AzProblemInfo info = {.abi = AZ_PROBLEM_ABI, .name = "flux2d", .description = "a 2-D flux", .dim = 2, .time_dependent = PETSC_TRUE, .ncomp = 1, .lower = {0, 0}, .upper = {1, 2}, .t0 = 0, .t1 = 1, .flux = Flux2, .flux_derivatives = "x,y", .initial = Init2};
  AzProblem     prob;
  PetscReal     Mk[5];
  PetscBool     varies, valid;
  char          msg[512];

  info.conservation[0] = (AzConservationInfo){"mass", Init2, PETSC_FALSE, 0, SinTarget};
  ck_assert_int_eq(AzProblemCreateFromInfo(PETSC_COMM_WORLD, &info, NULL, &prob), 0);
  for (int k = 0; k < 5; k++) {
    const PetscReal t = 0.2 * k + 0.1;
    ck_assert_int_eq(AzProblemGetLawTarget(prob, 0, t, 3, &varies, Mk), 0);
    ck_assert(varies);
    ck_assert_msg(Mk[0] == PetscSinReal(t) && PetscAbsReal(Mk[1] - PetscCosReal(t)) < 1e-11 && PetscAbsReal(Mk[2] + PetscSinReal(t)) < 1e-8, "Q* and its first two derivatives at %g: %g %g %g", (double)t, (double)Mk[0], (double)Mk[1], (double)Mk[2]);
  }
  ck_assert_int_eq(AzProblemGetLawTarget(prob, 0, 0.5, 5, &varies, Mk), 0);
  ck_assert_msg(PetscAbsReal(Mk[3] + PetscCosReal(0.5)) < 1e-3 && PetscAbsReal(Mk[4] - PetscSinReal(0.5)) < 1e-3, "third and fourth derivatives of Q* at 0.5: %g %g", (double)Mk[3], (double)Mk[4]);
  AzProblemDestroy(&prob);
  info.conservation[0].has_value = PETSC_TRUE;
  ck_assert_int_eq(AzProblemInfoValidate(&info, &valid, msg, sizeof msg), 0);
  ck_assert_msg(!valid && strstr(msg, "give one"), "a constant value and a target function: %s", msg);
}
END_TEST

/* the conservation form's consistency rules */
START_TEST(test_validate_flux)
{
  AzProblemInfo good = {.abi = AZ_PROBLEM_ABI, .name = "flux2d", .description = "a 2-D flux", .dim = 2, .time_dependent = PETSC_TRUE, .ncomp = 1, .lower = {0, 0}, .upper = {1, 2}, .t0 = 0, .t1 = 1, .flux = Flux2, .flux_derivatives = "x,y", .initial = Init2}, bad;
  PetscBool     valid;
  char          msg[512];

  ck_assert_int_eq(AzProblemInfoValidate(&good, &valid, msg, sizeof msg), 0);
  ck_assert_msg(valid, "%s", msg);
#define EXPECT_INVALID(mutate, fragment) \
  do { \
    bad = good; \
    mutate; \
    ck_assert_int_eq(AzProblemInfoValidate(&bad, &valid, msg, sizeof msg), 0); \
    ck_assert_msg(!valid && strstr(msg, fragment), "expected \"%s\", got valid=%d \"%s\"", fragment, (int)valid, msg); \
  } while (0)
  EXPECT_INVALID(bad.interior = Init2, "gives both .interior and .flux");
  EXPECT_INVALID((bad.flux = NULL, bad.interior = Init2), "without .flux");
  EXPECT_INVALID((bad.flux = NULL, bad.flux_derivatives = NULL), "has no interior residual");
  EXPECT_INVALID(bad.flux_derivatives = "xx", "first spatial derivatives only");
  EXPECT_INVALID(bad.flux_derivatives = "t", "first spatial derivatives only");
  EXPECT_INVALID(bad.nres = 2, "leave .nres 0");
  EXPECT_INVALID((bad.boundary[0].type = AZ_BC_FLUX, bad.boundary[0].residual = Init2), "takes no residual");
  EXPECT_INVALID((bad.flux = NULL, bad.flux_derivatives = NULL, bad.interior = Init2, bad.boundary[0].type = AZ_BC_FLUX), "has no .flux");
#undef EXPECT_INVALID
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
  /* a plugin built before the conservation form (ABI 2) is refused: its descriptor is shorter */
  ExpectRejected("oldabi.so", "built for problem ABI 2, but this ansatz expects ABI 6 (or 3): rebuild");
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
  EXPECT_INVALID(bad.min_reference_n[0] = -5, ".min_reference_n[0] = -5");
  EXPECT_INVALID(bad.min_reference_n[2] = 64, "on the problem's 2 spatial axes");
  EXPECT_INVALID((bad.bounded[0] = PETSC_TRUE, bad.bound_lower[0] = 1, bad.bound_upper[0] = -1), "a bound needs lower < upper");
  EXPECT_INVALID((bad.bounded[1] = PETSC_TRUE, bad.bound_lower[1] = -1, bad.bound_upper[1] = 1), "component 1 bounded");
  bad = *good;
  bad.bounded[0] = PETSC_TRUE, bad.bound_lower[0] = -INFINITY, bad.bound_upper[0] = 1, bad.min_reference_n[1] = 1024;
  ck_assert_int_eq(AzProblemInfoValidate(&bad, &valid, msg, sizeof msg), 0);
  ck_assert_msg(valid, "a one-sided bound and a minimum grid are valid: %s", msg);
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
  /* a choice parameter's default is the index of one of its names */
  EXPECT_INVALID((bad.params[0].name = "kind", bad.params[0].value = 3, bad.params[0].help = "{a|b|c} which one"), "its default must be an index 0..2");
  EXPECT_INVALID((bad.params[0].name = "kind", bad.params[0].value = 0.5, bad.params[0].help = "{a|b|c} which one"), "its default must be an index 0..2");
#undef EXPECT_INVALID
  AzProblemDestroy(&prob);
}
END_TEST

/* ---- gpme1d and diffusion_sorption1d ----------------------------------------------------------- */

/* gpme1d with -az_gpme1d_kind KIND and one more option (NULL: none); the options stay set until
 * GpmeUnload clears them */
static AzProblem GpmeLoad(const char *kind, const char *opt, const char *value)
{
  AzProblem prob;

  ck_assert_int_eq(PetscOptionsSetValue(NULL, "-az_gpme1d_kind", kind), 0);
  if (opt) ck_assert_int_eq(PetscOptionsSetValue(NULL, opt, value), 0);
  ck_assert_int_eq(AzProblemLoad(PETSC_COMM_WORLD, "gpme1d", &prob), 0);
  ck_assert_int_eq(AzProblemSetFromOptions(prob), 0);
  return prob;
}

static void GpmeUnload(AzProblem *prob)
{
  PetscOptionsClearValue(NULL, "-az_gpme1d_kind");
  PetscOptionsClearValue(NULL, "-az_gpme1d_m");
  PetscOptionsClearValue(NULL, "-az_gpme1d_ustar");
  PetscOptionsClearValue(NULL, "-az_gpme1d_kappa");
  AzProblemDestroy(prob);
}

static PetscReal GpmeExact(AzProblem prob, PetscReal x, PetscReal t)
{
  const AzProblemInfo *info;
  const PetscReal     *param;
  PetscReal            X[2] = {x, t};
  PetscScalar          u;
  AzPoint              p;

  AzProblemGetInfo(prob, &info);
  AzProblemGetParams(prob, &param);
  p = (AzPoint){X, 2, param, -1};
  ck_assert_int_eq(info->exact(&p, &u), 0);
  return u;
}

/* the Stefan constant z of u* erf(z) z e^(z²) = (1 − u*)/√π, by Newton from z = 0.5 (independent of
 * the plugin's bisection) */
static PetscReal StefanRoot(PetscReal us)
{
  PetscReal z = 0.5;
  for (int k = 0; k < 50; k++) {
    const PetscReal e = PetscExpReal(z * z), f = us * erf(z) * z * e - (1 - us) / PetscSqrtReal(PETSC_PI);
    const PetscReal df = us * (2 / PetscSqrtReal(PETSC_PI) * z + erf(z) * e * (1 + 2 * z * z));
    z -= f / df;
  }
  return z;
}

/* the front of each kind at t (pme: the right edge of the support), for keeping sample points off it */
static PetscReal GpmeFront(const char *kind, PetscReal m, PetscReal us, PetscReal t)
{
  if (!strcmp(kind, "pme")) return 0.5 + 0.4 * PetscPowReal(t / 0.1, 1 / (m + 2));
  if (!strcmp(kind, "stefan")) return 2 * StefanRoot(us) * PetscSqrtReal(t);
  return 2; /* heat: none */
}

/* Every residual of gpme1d (the interior one derived from the flux, the Dirichlet face x = 0, the flux
 * face x = 1, the initial one) vanishes on the jet of the exact solution by differences (ExactJet), at
 * points 0.05 (Barenblatt: 0.1) or more away from the fronts where the solution is not smooth; relative to
 * the size of u_t, the differences' accuracy (~1e-7; 1e-5 for Barenblatt's u ~ d^(1/m) at its edge). */
START_TEST(test_gpme_exact_solutions)
{
  const struct {
    const char *kind, *opt, *value;
    PetscReal   m, us;
  } cases[] = {
    {"heat", NULL, NULL, 0, 0},           {"heat", "-az_gpme1d_kappa", "5", 0, 0}, {"pme", NULL, NULL, 3, 0}, {"pme", "-az_gpme1d_m", "1", 1, 0},
    {"pme", "-az_gpme1d_m", "6", 6, 0}, {"stefan", NULL, NULL, 0, 0.5},         {"stefan", "-az_gpme1d_ustar", "0.6", 0, 0.6},
  };
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
    AzProblem   prob = GpmeLoad(cases[c].kind, cases[c].opt, cases[c].value);
    PetscInt    checked = 0;
    /* Barenblatt's u ~ d^(1/m) at distance d from its edge: the differences' error grows as d^(1/m − 4) */
    const PetscReal away = strcmp(cases[c].kind, "pme") ? 0.05 : 0.1, tol = strcmp(cases[c].kind, "pme") ? 1e-6 : 1e-5;
    PetscScalar jet[AZ_JET_MAX_NSLOT], r[AZ_MAX_RES];

    for (PetscInt cond = AZ_COND_INTERIOR; cond <= AZ_COND_INITIAL; cond++) {
      if (cond >= 2 && cond != AZ_COND_INITIAL) continue;
      for (PetscInt k = 0; k < 40; k++) {
        PetscReal x[2] = {0.02 + 0.96 * ((k * 37) % 101) / 101.0, 0.01 + 0.09 * ((k * 53 + 11) % 97) / 97.0}, front, scale;
        if (cond == 0) x[0] = 0;
        if (cond == 1) x[0] = 1;
        if (cond == AZ_COND_INITIAL) x[1] = 0.01;
        front = GpmeFront(cases[c].kind, cases[c].m, cases[c].us, x[1]);
        if (PetscAbsReal(x[0] - front) < away || PetscAbsReal(x[0] - (1 - front)) < away) continue;
        ExactJet(prob, x, jet);
        ck_assert_int_eq(AzProblemEvaluateResidual(prob, cond, x, jet, r, NULL), 0);
        scale = 1 + PetscAbsScalar(jet[AzJetSlotD1(2, 1)]);
        ck_assert_msg(PetscAbsScalar(r[0]) < tol * scale, "gpme1d %s %s %s, condition %d at (%g, %g): residual %g on the exact solution (u_t %g)", cases[c].kind, cases[c].opt ? cases[c].opt : "", cases[c].value ? cases[c].value : "", (int)cond,
                      (double)x[0], (double)x[1], (double)r[0], (double)jet[AzJetSlotD1(2, 1)]);
        checked++;
      }
    }
    ck_assert_int_ge(checked, 60);
    GpmeUnload(&prob);
  }
}
END_TEST

/* -az_gpme1d_kind takes heat, pme or stefan (default pme) and refuses anything else with the list;
 * the kinds' parameters are checked where they are used */
START_TEST(test_gpme_kind_option)
{
  const char *kinds[] = {"heat", "pme", "stefan"};
  AzProblem   prob;
  const PetscReal *param;
  PetscReal   x[2] = {0.5, 0.05};
  PetscScalar jet[AZ_JET_MAX_NSLOT], r[1];

  ck_assert_int_eq(AzProblemLoad(PETSC_COMM_WORLD, "gpme1d", &prob), 0);
  AzProblemGetParams(prob, &param);
  ck_assert_double_eq(param[0], 1); /* pme */
  AzProblemDestroy(&prob);
  for (int k = 0; k < 3; k++) {
    prob = GpmeLoad(kinds[k], NULL, NULL);
    AzProblemGetParams(prob, &param);
    ck_assert_double_eq(param[0], k);
    /* written back (options.txt) as its name */
    {
      const AzProblemInfo *info;
      char                 v[64];
      AzProblemGetInfo(prob, &info);
      ck_assert_int_eq(AzParamInfoFormatValue(&info->params[0], param[0], v, sizeof v), 0);
      ck_assert_str_eq(v, kinds[k]);
    }
    GpmeUnload(&prob);
  }
  {
    const char *bad[] = {"porous", "1", "Heat"};
    for (int k = 0; k < 3; k++) {
      PetscErrorCode ierr;
      ck_assert_int_eq(AzProblemLoad(PETSC_COMM_WORLD, "gpme1d", &prob), 0);
      ck_assert_int_eq(PetscOptionsSetValue(NULL, "-az_gpme1d_kind", bad[k]), 0);
      last_error[0] = 0;
      PetscPushErrorHandler(CaptureError, NULL);
      ierr = AzProblemSetFromOptions(prob);
      PetscPopErrorHandler();
      ck_assert_msg(ierr != 0, "-az_gpme1d_kind '%s' accepted", bad[k]);
      ck_assert_msg(strstr(last_error, "allowed: heat, pme, stefan") != NULL, "message: %s", last_error);
      GpmeUnload(&prob);
    }
  }
  /* m < 1 would make k'(0) infinite: refused where the flux is evaluated */
  prob = GpmeLoad("pme", "-az_gpme1d_m", "0.5");
  for (int s = 0; s < AZ_JET_MAX_NSLOT; s++) jet[s] = 0.1;
  last_error[0] = 0;
  PetscPushErrorHandler(CaptureError, NULL);
  ck_assert_int_ne(AzProblemEvaluateResidual(prob, AZ_COND_INTERIOR, x, jet, r, NULL), 0);
  PetscPopErrorHandler();
  ck_assert_msg(strstr(last_error, "-az_gpme1d_m 0.5: allowed 1 <= m") != NULL, "message: %s", last_error);
  GpmeUnload(&prob);
  prob = GpmeLoad("stefan", "-az_gpme1d_ustar", "1.5");
  last_error[0] = 0;
  PetscPushErrorHandler(CaptureError, NULL);
  ck_assert_int_ne(AzProblemEvaluateResidual(prob, AZ_COND_INTERIOR, x, jet, r, NULL), 0);
  PetscPopErrorHandler();
  ck_assert_msg(strstr(last_error, "u* must lie in (0, 1)") != NULL, "message: %s", last_error);
  GpmeUnload(&prob);
}
END_TEST

/* k(u) = |u|^m is not smooth at u = 0 and Stefan's k jumps at u*: the derived residual and its ∂r/∂jet
 * stay finite there and for u < 0 (a network may go below 0), for every kind */
START_TEST(test_gpme_residual_finite)
{
  const struct {
    const char *kind, *opt, *value;
  } cases[] = {{"pme", "-az_gpme1d_m", "1"}, {"pme", "-az_gpme1d_m", "3"}, {"pme", "-az_gpme1d_m", "2.5"}, {"stefan", NULL, NULL}, {"heat", NULL, NULL}};
  const PetscReal us[] = {0, -0.1, 1e-300, -1e-300, 0.5, 0.5 * (1 + 1e-16), 2};
  PetscReal       x[2] = {0.3, 0.05};
  PetscScalar     jet[AZ_JET_MAX_NSLOT], r[1], dr[AZ_JET_MAX_NSLOT];

  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
    AzProblem prob = GpmeLoad(cases[c].kind, cases[c].opt, cases[c].value);
    for (size_t k = 0; k < sizeof us / sizeof us[0]; k++) {
      for (int s = 0; s < AZ_JET_MAX_NSLOT; s++) jet[s] = 0.7;
      jet[0] = us[k];
      ck_assert_int_eq(AzProblemEvaluateResidual(prob, AZ_COND_INTERIOR, x, jet, r, dr), 0);
      ck_assert_msg(PetscIsNormalReal(r[0]) || r[0] == 0, "%s %s: residual %g at u = %g", cases[c].kind, cases[c].value ? cases[c].value : "", (double)r[0], (double)us[k]);
      for (int s = 0; s < AZ_JET_NSLOT(2); s++) ck_assert_msg(!PetscIsInfOrNanScalar(dr[s]), "%s %s: dr/djet[%d] = %g at u = %g", cases[c].kind, cases[c].value ? cases[c].value : "", s, (double)dr[s], (double)us[k]);
    }
    GpmeUnload(&prob);
  }
}
END_TEST

/* ∫₀¹ u(x, t) dx of the exact solution: composite 8-point Gauss on panels of [0, 1] split at the
 * points where u is not smooth (a panel edge at each), so the quadrature sees smooth pieces; near a
 * Barenblatt edge u ~ d^(1/m) is integrable but not smooth, so many panels */
static PetscReal GpmeMass(AzProblem prob, const PetscReal cuts[], PetscInt ncut, PetscReal t)
{
  static const PetscReal g[4] = {0.1834346424956498, 0.5255324099163290, 0.7966664774136267, 0.9602898564975363}, w[4] = {0.3626837833783620, 0.3137066458778873, 0.2223810344533745, 0.1012285362903763};
  PetscReal              edges[8] = {0}, Q = 0;
  PetscInt               ne       = 1;

  for (PetscInt c = 0; c < ncut; c++) edges[ne++] = cuts[c];
  edges[ne++] = 1;
  for (PetscInt e = 0; e + 1 < ne; e++) {
    const PetscInt np = 4000;
    const PetscReal h  = (edges[e + 1] - edges[e]) / np;
    for (PetscInt k = 0; k < np; k++) {
      const PetscReal c = edges[e] + (k + 0.5) * h;
      for (int q = 0; q < 4; q++) Q += 0.5 * h * w[q] * (GpmeExact(prob, c - 0.5 * h * g[q], t) + GpmeExact(prob, c + 0.5 * h * g[q], t));
    }
  }
  return Q;
}

/* Barenblatt: support inside [0.1, 0.9] at every t (u = 0 near the walls, > 0 at the centre), the
 * mass constant in time and equal to the law's target */
START_TEST(test_barenblatt_mass)
{
  const char *ms[] = {"1", "3", "6"};
  for (int k = 0; k < 3; k++) {
    AzProblem prob = GpmeLoad("pme", "-az_gpme1d_m", ms[k]);
    PetscReal m    = atof(ms[k]), Q0 = 0;
    for (int j = 0; j <= 4; j++) {
      const PetscReal t = 0.01 + 0.09 * j / 4, w = 0.4 * PetscPowReal(t / 0.1, 1 / (m + 2)), cuts[2] = {0.5 - w, 0.5 + w};
      PetscReal       Q, M[1];
      PetscBool       varies;
      for (PetscReal x = 0; x <= 0.1; x += 0.01) ck_assert_msg(GpmeExact(prob, x, t) == 0 && GpmeExact(prob, 1 - x, t) == 0, "m %s: u(%g, %g) or u(%g, %g) is not 0", ms[k], (double)x, (double)t, (double)(1 - x), (double)t);
      ck_assert(GpmeExact(prob, 0.5, t) > 0.2);
      ck_assert(GpmeExact(prob, 0.5 - 0.999 * w, t) > 0 && GpmeExact(prob, 0.5 + 1.001 * w, t) == 0);
      Q = GpmeMass(prob, cuts, 2, t);
      if (j == 0) Q0 = Q;
      ck_assert_msg(PetscAbsReal(Q - Q0) < 1e-6 * Q0, "m %s: mass %.12g at t = %g, %.12g at t0", ms[k], (double)Q, (double)t, (double)Q0);
      ck_assert_int_eq(AzProblemGetLawTarget(prob, 0, t, 1, &varies, M), 0);
      ck_assert_msg(PetscAbsReal(M[0] - Q) < 1e-6 * Q0, "m %s: law target %.12g, mass %.12g at t = %g", ms[k], (double)M[0], (double)Q, (double)t);
    }
    GpmeUnload(&prob);
  }
}
END_TEST

/* Stefan: the front (where u jumps from u* to 0) sits at 2z√t with z the root of the transcendental
 * equation, found here by Newton independently of the plugin; the mass law's target is the exact
 * solution's mass 2(1 − u*)/erf(z) √(t/π), the time integral of the inflow at x = 0 */
START_TEST(test_stefan_front_and_mass)
{
  const char *uss[] = {"0.5", "0.6", "0.7"};
  for (int k = 0; k < 3; k++) {
    AzProblem       prob = GpmeLoad("stefan", "-az_gpme1d_ustar", uss[k]);
    const PetscReal us = atof(uss[k]), z = StefanRoot(us);
    ck_assert_msg(PetscAbsReal(us * erf(z) * z * PetscExpReal(z * z) - (1 - us) / PetscSqrtReal(PETSC_PI)) < 1e-15, "Newton's z %g", (double)z);
    for (int j = 0; j <= 3; j++) {
      const PetscReal t = 0.01 + 0.03 * j, front = 2 * z * PetscSqrtReal(t);
      PetscReal       lo = 0, hi = 1, Q, M[1];
      PetscBool       varies;
      /* bisection on the jump: u ≥ u* behind the front, 0 ahead */
      while (hi - lo > 1e-15) {
        const PetscReal mid = 0.5 * (lo + hi);
        if (GpmeExact(prob, mid, t) > 0.5 * us) lo = mid;
        else hi = mid;
      }
      ck_assert_msg(PetscAbsReal(lo - front) < 1e-13, "u* %s, t %g: the front at %.15g, the transcendental equation says %.15g", uss[k], (double)t, (double)lo, (double)front);
      ck_assert(PetscAbsReal(GpmeExact(prob, front * (1 - 1e-12), t) - us) < 1e-9 && GpmeExact(prob, front * (1 + 1e-12), t) == 0);
      ck_assert(front < 0.5); /* inside the box, far from x = 1 */
      Q = GpmeMass(prob, &front, 1, t);
      ck_assert_int_eq(AzProblemGetLawTarget(prob, 0, t, 1, &varies, M), 0);
      ck_assert(varies);
      ck_assert_msg(PetscAbsReal(M[0] - Q) < 1e-12, "u* %s, t %g: law target %.15g, mass of the exact solution %.15g", uss[k], (double)t, (double)M[0], (double)Q);
    }
    GpmeUnload(&prob);
  }
}
END_TEST

/* heat: the law's target is the mass of e^(−κπ²t/4) sin(πx/2) */
START_TEST(test_gpme_heat_mass)
{
  AzProblem prob = GpmeLoad("heat", "-az_gpme1d_kappa", "3");
  for (int j = 0; j <= 2; j++) {
    const PetscReal t = 0.01 + 0.045 * j;
    PetscReal       M[1], Q = GpmeMass(prob, NULL, 0, t);
    PetscBool       varies;
    ck_assert_int_eq(AzProblemGetLawTarget(prob, 0, t, 1, &varies, M), 0);
    ck_assert_msg(PetscAbsReal(M[0] - Q) < 1e-13 && PetscAbsReal(Q - 2 / PETSC_PI * PetscExpReal(-3 * PETSC_PI * PETSC_PI * t / 4)) < 1e-13, "t %g: target %.15g, mass %.15g", (double)t, (double)M[0], (double)Q);
  }
  GpmeUnload(&prob);
}
END_TEST

/* The exact ∂r/∂jet of gpme1d (heat and pme; Stefan's k jumps) and diffusion_sorption1d against
 * differences of their residuals */
START_TEST(test_gpme_ds_jacobians)
{
  const char *kinds[] = {"heat", "pme"};
  for (int k = 0; k < 3; k++) {
    AzProblem prob = k < 2 ? GpmeLoad(kinds[k], NULL, NULL) : NULL;
    if (k == 2) ck_assert_int_eq(AzProblemLoad(PETSC_COMM_WORLD, "diffusion_sorption1d", &prob), 0);
    for (PetscInt cond = AZ_COND_INTERIOR; cond <= AZ_COND_INITIAL; cond++) {
      PetscReal err;
      if (cond >= 2 && cond != AZ_COND_INITIAL) continue;
      ck_assert_int_eq(AzProblemCheckJetJacobian(prob, cond, 10, &err), 0);
      ck_assert_msg(err < 1e-7, "%s condition %d: exact jet Jacobian differs from differences by %g", k < 2 ? kinds[k] : "diffusion_sorption1d", (int)cond, (double)err);
    }
    if (k < 2) GpmeUnload(&prob);
    else AzProblemDestroy(&prob);
  }
}
END_TEST

/* diffusion_sorption1d: PDEBench's constants, r = u_t − D/R(u) u_xx with R(u) = 1 + (1−φ)/φ ρ_s k n_f
 * (max(u, 0) + 1e-6)^(n_f − 1), finite at u = 0 and below; u = 1 at x = 0, u = D u_x at x = 1, u0 = 0 */
START_TEST(test_diffusion_sorption)
{
  AzProblem            prob;
  const AzProblemInfo *info;
  const PetscReal      us[] = {0.3, 0, -0.2, 1};
  PetscScalar          jet[AZ_JET_MAX_NSLOT] = {0}, r[1];
  PetscReal            x[2] = {0.4, 100};
  const PetscReal      c = (1 - 0.29) / 0.29 * 2880 * 3.5e-4 * 0.874;

  ck_assert_int_eq(AzProblemLoad(PETSC_COMM_WORLD, "diffusion_sorption1d", &prob), 0);
  AzProblemGetInfo(prob, &info);
  ck_assert(info->t0 == 0 && info->t1 == 500 && info->lower[0] == 0 && info->upper[0] == 1);
  for (int k = 0; k < 4; k++) {
    const PetscReal R = 1 + c * PetscPowReal(PetscMax(us[k], 0) + 1e-6, 0.874 - 1);
    jet[0]                   = us[k];
    jet[AzJetSlotD1(2, 1)]   = 0.7;
    jet[AzJetSlotD2(2, 0, 0)] = -3;
    ck_assert_int_eq(AzProblemEvaluateResidual(prob, AZ_COND_INTERIOR, x, jet, r, NULL), 0);
    ck_assert_msg(PetscIsNormalReal(r[0]) && PetscAbsScalar(r[0] - (0.7 + 5e-4 / R * 3)) < 1e-15, "u = %g: residual %.17g, expected %.17g", (double)us[k], (double)r[0], (double)(0.7 + 5e-4 / R * 3));
  }
  jet[0]                 = 0.02;
  jet[AzJetSlotD1(2, 0)] = 8;
  x[0]                   = 1;
  ck_assert_int_eq(AzProblemEvaluateResidual(prob, 1, x, jet, r, NULL), 0);
  ck_assert(PetscAbsScalar(r[0] - (0.02 - 5e-4 * 8)) < 1e-16);
  x[0] = 0;
  ck_assert_int_eq(AzProblemEvaluateResidual(prob, 0, x, jet, r, NULL), 0);
  ck_assert(PetscAbsScalar(r[0] - (0.02 - 1)) < 1e-16);
  x[0] = 0.5, x[1] = 0;
  ck_assert_int_eq(AzProblemEvaluateResidual(prob, AZ_COND_INITIAL, x, jet, r, NULL), 0);
  ck_assert(PetscAbsScalar(r[0] - 0.02) < 1e-16);
  ck_assert(info->positive[0]);
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
  tcase_add_test(t, test_exact_solutions_rathore);
  tcase_add_test(t, test_abi3_descriptor);
  tcase_add_test(t, test_recipe_check);
  tcase_add_test(t, test_wrong_kappa_detected);
  tcase_add_test(t, test_exact_jet_jacobians);
  tcase_add_test(t, test_numerical_jet_jacobian);
  tcase_add_test(t, test_param_derivative);
  suite_add_tcase(s, t);
  t = tcase_create("conservation_form");
  tcase_add_test(t, test_consform_exact_solution);
  tcase_add_test(t, test_consform_jacobian);
  tcase_add_test(t, test_burgers_conservation_form);
  tcase_add_test(t, test_flux_2d);
  tcase_add_test(t, test_validate_flux);
  tcase_add_test(t, test_mass_target);
  tcase_add_test(t, test_law_target_function);
  suite_add_tcase(s, t);
  t = tcase_create("shipped_gpme_ds");
  tcase_add_test(t, test_gpme_exact_solutions);
  tcase_add_test(t, test_gpme_kind_option);
  tcase_add_test(t, test_gpme_residual_finite);
  tcase_add_test(t, test_barenblatt_mass);
  tcase_add_test(t, test_stefan_front_and_mass);
  tcase_add_test(t, test_gpme_heat_mass);
  tcase_add_test(t, test_gpme_ds_jacobians);
  tcase_add_test(t, test_diffusion_sorption);
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
