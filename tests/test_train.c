/* Collocation sets, the loss and its derivatives, the optimisers, MPI agreement, checkpoints and
 * NaN handling. Run serially and under mpiexec -n 2 / -n 4: every comparison with a single-rank
 * computation is made inside the run, against the same objects built on PETSC_COMM_SELF. */
#include <ansatz.h>
#include <check.h>
#include "azcheck.h"
#include "../src/trainer/trainerimpl.h" /* AzTrainerETA */
#include <math.h>
#include <unistd.h>
#include <dirent.h>
#include <malloc.h>
/* the exact fold of dense JᵀJ's group matrices, tested directly (its functions are internal) */
#include "../src/loss/fold.c"
/* compare's statistics over repeats and its paired verdicts (pure functions, internal) */
#include "../src/run/stats.c"


typedef struct {
  AzProblem prob;
  AzField   field;
  AzLoss    loss;
} Setup;

/* the network kind and RWF of the fields MakeSetup builds (test_arch_training changes them) */
static AzNetwork setup_net = AZ_NET_MLP;
static PetscBool setup_rwf = PETSC_FALSE;

/* problem + field (depth × width tanh, seed 3) + loss (sobol, small sets; chunks of 7 that do not
 * divide the sets) on comm */
static void MakeSetup(MPI_Comm comm, const char *name, PetscInt depth, PetscInt width, PetscInt nint, Setup *s)
{
  ck_assert_int_eq(BuildSmallSetup(comm, name, depth, width, 3, setup_net, setup_rwf, nint, 24, 24, 7, &s->prob, &s->field, &s->loss), 0);
}

/* ---- sampler ------------------------------------------------------------------------------------- */

/* The distributed set equals the set computed on one rank, point for point (coordinates depend only
 * on the seed and the global index). */
START_TEST(test_sampler_rank_independent)
{
  AzProblem prob;
  for (int type = 0; type <= AZ_SAMPLE_SOBOL; type++) {
    Vec                xw, xs, all;
    VecScatter         sc;
    PetscReal          diff;
    PetscInt           n = type == AZ_SAMPLE_GRID ? 49 : 50;
    ck_assert_int_eq(AzProblemLoad(PETSC_COMM_WORLD, "heat1d", &prob), 0);
    ck_assert_int_eq(AzSampleCondition(PETSC_COMM_WORLD, prob, AZ_COND_INTERIOR, (AzSampleType)type, n, 11, &xw), 0);
    ck_assert_int_eq(AzSampleCondition(PETSC_COMM_SELF, prob, AZ_COND_INTERIOR, (AzSampleType)type, n, 11, &xs), 0);
    VecScatterCreateToAll(xw, &sc, &all);
    VecScatterBegin(sc, xw, all, INSERT_VALUES, SCATTER_FORWARD);
    VecScatterEnd(sc, xw, all, INSERT_VALUES, SCATTER_FORWARD);
    VecAXPY(all, -1, xs);
    VecNorm(all, NORM_INFINITY, &diff);
    ck_assert_msg(diff == 0, "%s points differ between the distributed and the serial set by %g", AzSampleTypes[type], (double)diff);
    VecScatterDestroy(&sc);
    VecDestroy(&all);
    VecDestroy(&xw);
    VecDestroy(&xs);
    AzProblemDestroy(&prob);
  }
}
END_TEST

/* Latin hypercube: in every dimension each of the n strata [j/n, (j+1)/n) holds exactly one point. */
START_TEST(test_sampler_lhs_strata)
{
  const PetscInt n = 97, d = 3;
  PetscInt       count[3][97];
  PetscReal      u[3];

  memset(count, 0, sizeof count);
  for (PetscInt i = 0; i < n; i++) {
    ck_assert_int_eq(AzSampleUnit(AZ_SAMPLE_LHS, d, n, 5, i, u), 0);
    for (PetscInt k = 0; k < d; k++) {
      ck_assert(u[k] >= 0 && u[k] < 1);
      count[k][(PetscInt)(u[k] * n)]++;
    }
  }
  for (PetscInt k = 0; k < d; k++)
    for (PetscInt j = 0; j < n; j++) ck_assert_msg(count[k][j] == 1, "dimension %d stratum %d holds %d points", (int)k, (int)j, (int)count[k][j]);
}
END_TEST

/* Quasi-random sets integrate smooth functions far better than random ones:
 * ∫∫ x² e^y dx dy over [0,1]² = (e − 1)/3; with 1024 points Sobol/Halton err < 2e-3. */
START_TEST(test_sampler_qmc_accuracy)
{
  const PetscReal exact = (PetscExpReal(1.0) - 1) / 3;
  for (int type = AZ_SAMPLE_HALTON; type <= AZ_SAMPLE_SOBOL; type++) {
    PetscReal s = 0, u[2];
    for (PetscInt i = 0; i < 1024; i++) {
      AzSampleUnit((AzSampleType)type, 2, 1024, 9, i, u);
      s += u[0] * u[0] * PetscExpReal(u[1]);
    }
    s /= 1024;
    ck_assert_msg(PetscAbsReal(s - exact) < 2e-3, "%s: quadrature error %g", AzSampleTypes[type], (double)PetscAbsReal(s - exact));
  }
}
END_TEST

/* Face points lie on their face; the initial slice at t = t0; the others span the box. */
START_TEST(test_sampler_faces)
{
  AzProblem          prob;
  Vec                x;
  const PetscScalar *a;
  PetscInt           n;

  ck_assert_int_eq(AzProblemLoad(PETSC_COMM_WORLD, "heat1d", &prob), 0);
  ck_assert_int_eq(AzSampleCondition(PETSC_COMM_WORLD, prob, 1, AZ_SAMPLE_LHS, 30, 1, &x), 0); /* x = 1 */
  VecGetLocalSize(x, &n);
  VecGetArrayRead(x, &a);
  for (PetscInt i = 0; i < n / 2; i++) ck_assert(a[2 * i] == 1.0 && a[2 * i + 1] >= 0 && a[2 * i + 1] <= 1);
  VecRestoreArrayRead(x, &a);
  VecDestroy(&x);
  ck_assert_int_eq(AzSampleCondition(PETSC_COMM_WORLD, prob, AZ_COND_INITIAL, AZ_SAMPLE_SOBOL, 30, 1, &x), 0);
  VecGetLocalSize(x, &n);
  VecGetArrayRead(x, &a);
  for (PetscInt i = 0; i < n / 2; i++) ck_assert(a[2 * i + 1] == 0.0);
  VecRestoreArrayRead(x, &a);
  VecDestroy(&x);
  /* a grid needs a perfect power */
  last_error[0] = 0;
  PetscPushErrorHandler(CaptureError, NULL);
  ck_assert(AzSampleCondition(PETSC_COMM_WORLD, prob, AZ_COND_INTERIOR, AZ_SAMPLE_GRID, 50, 1, &x) != 0);
  PetscPopErrorHandler();
  ck_assert_msg(strstr(last_error, "use a power"), "%s", last_error);
  AzProblemDestroy(&prob);
}
END_TEST

/* ---- loss ------------------------------------------------------------------------------------------ */

/* ∇loss against central differences of the loss in random directions (loss is smooth in θ):
 * (L(θ+hv) − L(θ−hv))/2h = ⟨∇L, v⟩ + O(h²). */
START_TEST(test_loss_gradient_fd)
{
  const char *names[] = {"poisson2d", "heat1d"};
  for (int k = 0; k < 2; k++) {
    Setup     s;
    Vec       theta, g, v, t0;
    PetscReal f, fp, fm, dot, h = 1e-5;
    MakeSetup(PETSC_COMM_WORLD, names[k], 2, 8, 64, &s);
    AzFieldGetParameters(s.field, &theta);
    VecDuplicate(theta, &g);
    VecDuplicate(theta, &v);
    VecDuplicate(theta, &t0);
    VecCopy(theta, t0);
    ck_assert_int_eq(AzLossEvaluate(s.loss, &f, NULL, g), 0);
    for (int trial = 0; trial < 3; trial++) {
      PetscRandom r;
      PetscRandomCreate(PETSC_COMM_SELF, &r);
      PetscRandomSetSeed(r, 100 + trial);
      PetscRandomSeed(r);
      VecSetRandom(v, r);
      PetscRandomDestroy(&r);
      VecWAXPY(theta, h, v, t0);
      AzLossEvaluate(s.loss, &fp, NULL, NULL);
      VecWAXPY(theta, -h, v, t0);
      AzLossEvaluate(s.loss, &fm, NULL, NULL);
      VecCopy(t0, theta);
      VecDot(g, v, &dot);
      ck_assert_msg(PetscAbsReal((fp - fm) / (2 * h) - dot) <= 1e-6 * PetscMax(1, PetscAbsReal(dot)), "%s: directional derivative %.12g by differences, %.12g by the gradient", names[k], (double)((fp - fm) / (2 * h)), (double)dot);
    }
    VecDestroy(&g);
    VecDestroy(&v);
    VecDestroy(&t0);
    FreeSetup(&s);
  }
}
END_TEST

/* Gauss–Newton pieces agree with the gradient: ∇loss = 2 Jᵀρ and ‖ρ‖² = loss. */
START_TEST(test_loss_normal_equations)
{
  Setup        s;
  Vec          theta, g;
  PetscInt     P;
  PetscScalar *JtJ, *Jtr;
  PetscReal    f, fn, err = 0, gmax = 0;
  const PetscScalar *ga;

  MakeSetup(PETSC_COMM_WORLD, "heat1d", 2, 8, 64, &s);
  AzFieldGetParameters(s.field, &theta);
  AzFieldGetNumParameters(s.field, &P);
  VecDuplicate(theta, &g);
  ck_assert_int_eq(AzLossEvaluate(s.loss, &f, NULL, g), 0);
  PetscMalloc2(P * P, &JtJ, P, &Jtr);
  ck_assert_int_eq(AzLossNormalEquations(s.loss, JtJ, Jtr, &fn, NULL), 0);
  ck_assert_msg(PetscAbsReal(fn - f) <= 1e-12 * f, "||rho||^2 = %.15g, loss = %.15g", (double)fn, (double)f);
  VecGetArrayRead(g, &ga);
  for (PetscInt i = 0; i < P; i++) {
    err  = PetscMax(err, PetscAbsScalar(ga[i] - 2 * Jtr[i]));
    gmax = PetscMax(gmax, PetscAbsScalar(ga[i]));
  }
  VecRestoreArrayRead(g, &ga);
  ck_assert_msg(err <= 1e-12 * gmax, "gradient and 2 J^T rho differ by %g (max |g| %g)", (double)err, (double)gmax);
  /* JᵀJ is symmetric positive semidefinite: its diagonal is the squared column norms */
  for (PetscInt i = 0; i < P; i++) ck_assert(JtJ[i + i * P] >= 0 && JtJ[i + i * P] == JtJ[i + i * P]);
  PetscFree2(JtJ, Jtr);
  VecDestroy(&g);
  FreeSetup(&s);
}
END_TEST

/* The matrix-free operator equals the dense normal matrix: JᵀJ v and Jᵀρ to 1e-12. */
START_TEST(test_loss_matrix_free_gn)
{
  Setup        s;
  Vec          theta, v, y, g;
  PetscInt     P;
  PetscScalar *JtJ, *Jtr;
  PetscReal    fn, fl, err = 0, scale = 0, gerr = 0, gscale = 0;
  const PetscScalar *va, *ya, *ga;
  PetscRandom  r;

  MakeSetup(PETSC_COMM_WORLD, "heat1d", 2, 8, 64, &s);
  AzFieldGetParameters(s.field, &theta);
  AzFieldGetNumParameters(s.field, &P);
  VecDuplicate(theta, &v);
  VecDuplicate(theta, &y);
  VecDuplicate(theta, &g);
  PetscRandomCreate(PETSC_COMM_SELF, &r);
  VecSetRandom(v, r);
  PetscRandomDestroy(&r);
  PetscMalloc2(P * P, &JtJ, P, &Jtr);
  ck_assert_int_eq(AzLossNormalEquations(s.loss, JtJ, Jtr, &fn, NULL), 0);
  ck_assert_int_eq(AzLossLinearize(s.loss, &fl), 0);
  ck_assert(PetscAbsReal(fl - fn) <= 1e-13 * fn);
  ck_assert_int_eq(AzLossGNMult(s.loss, v, y), 0);
  ck_assert_int_eq(AzLossGNGradient(s.loss, g), 0);
  VecGetArrayRead(v, &va);
  VecGetArrayRead(y, &ya);
  VecGetArrayRead(g, &ga);
  for (PetscInt i = 0; i < P; i++) {
    PetscScalar d = 0;
    for (PetscInt j = 0; j < P; j++) d += JtJ[i + j * P] * va[j];
    err    = PetscMax(err, PetscAbsScalar(d - ya[i]));
    scale  = PetscMax(scale, PetscAbsScalar(d));
    gerr   = PetscMax(gerr, PetscAbsScalar(ga[i] - Jtr[i]));
    gscale = PetscMax(gscale, PetscAbsScalar(Jtr[i]));
  }
  VecRestoreArrayRead(v, &va);
  VecRestoreArrayRead(y, &ya);
  VecRestoreArrayRead(g, &ga);
  ck_assert_msg(err <= 1e-12 * scale, "JtJ v differs from the dense product by %g (scale %g)", (double)err, (double)scale);
  ck_assert_msg(gerr <= 1e-12 * gscale, "J^T rho differs by %g (scale %g)", (double)gerr, (double)gscale);
  PetscFree2(JtJ, Jtr);
  VecDestroy(&v);
  VecDestroy(&y);
  VecDestroy(&g);
  FreeSetup(&s);
}
END_TEST

/* Loss and gradient on all ranks agree with the same computation on one rank to 1e-12. */
START_TEST(test_loss_mpi_agreement)
{
  Setup     w, s;
  Vec       gw, gs, theta;
  PetscReal fw, fs, tw[AZ_MAX_TERMS], ts[AZ_MAX_TERMS], diff, gn;
  PetscInt  nt;

  MakeSetup(PETSC_COMM_WORLD, "heat1d", 2, 10, 300, &w);
  MakeSetup(PETSC_COMM_SELF, "heat1d", 2, 10, 300, &s);
  AzFieldGetParameters(w.field, &theta);
  VecDuplicate(theta, &gw);
  VecDuplicate(theta, &gs);
  ck_assert_int_eq(AzLossEvaluate(w.loss, &fw, tw, gw), 0);
  ck_assert_int_eq(AzLossEvaluate(s.loss, &fs, ts, gs), 0);
  ck_assert_msg(PetscAbsReal(fw - fs) <= 1e-12 * fs, "loss %.17g (all ranks) vs %.17g (one rank)", (double)fw, (double)fs);
  AzLossGetNumTerms(w.loss, &nt);
  for (PetscInt k = 0; k < nt; k++) ck_assert(PetscAbsReal(tw[k] - ts[k]) <= 1e-12 * ts[k]);
  VecNorm(gs, NORM_2, &gn);
  VecAXPY(gw, -1, gs);
  VecNorm(gw, NORM_2, &diff);
  ck_assert_msg(diff <= 1e-12 * gn, "gradients differ by %g relative", (double)(diff / gn));
  VecDestroy(&gw);
  VecDestroy(&gs);
  FreeSetup(&w);
  FreeSetup(&s);
}
END_TEST

/* ---- data term ------------------------------------------------------------------------------------ */

/* observations of heat1d's exact solution (κ = 0.1) at 37 points, with a header line */
static void WriteHeatData(const char *path, PetscReal shift)
{
  PetscMPIInt rank;
  MPI_Comm_rank(PETSC_COMM_WORLD, &rank);
  if (!rank) {
    FILE *fp = fopen(path, "w");
    fprintf(fp, "x,t,u\n");
    for (int i = 0; i < 37; i++) {
      double x = (i * 0.61803398875) - (int)(i * 0.61803398875), t = (i * 0.41421356237) - (int)(i * 0.41421356237);
      fprintf(fp, "%.17g, %.17g, %.17g\n", x, t, exp(-0.1 * M_PI * M_PI * t) * sin(M_PI * x) + shift);
    }
    fclose(fp);
  }
  MPI_Barrier(PETSC_COMM_WORLD);
}

/* The data term is mean((u − u_obs)²) over the observations: with observations u_exact + 0.25 and
 * the field evaluated directly, the term must match to round-off; its gradient passes the FD test. */
START_TEST(test_data_term)
{
  const char *path = TmpPath("data.csv");
  Setup       s;
  PetscReal   f, term[AZ_MAX_TERMS], direct = 0, g0 = 0;
  PetscInt    nt;
  const char *name;
  Vec         theta, g, v, t0;

  WriteHeatData(path, 0.25);
  PetscOptionsSetValue(NULL, "-az_data", path);
  MakeSetup(PETSC_COMM_WORLD, "heat1d", 2, 8, 64, &s);
  PetscOptionsClearValue(NULL, "-az_data");
  AzLossGetNumTerms(s.loss, &nt);
  AzLossGetTermName(s.loss, nt - 1, &name);
  ck_assert_str_eq(name, "data");
  ck_assert_int_eq(AzLossEvaluate(s.loss, &f, term, NULL), 0);
  for (int i = 0; i < 37; i++) {
    PetscReal   x[2] = {(i * 0.61803398875) - (int)(i * 0.61803398875), (i * 0.41421356237) - (int)(i * 0.41421356237)};
    PetscScalar jet[AZ_JET_MAX_NSLOT];
    AzFieldEvaluateJets(s.field, 1, x, jet);
    direct += PetscSqr(jet[0] - (exp(-0.1 * M_PI * M_PI * x[1]) * sin(M_PI * x[0]) + 0.25));
  }
  direct /= 37;
  ck_assert_msg(PetscAbsReal(term[nt - 1] - direct) <= 1e-13 * direct, "data term %.17g, direct %.17g", (double)term[nt - 1], (double)direct);
  /* gradient of the whole loss, data included, against a central difference */
  AzFieldGetParameters(s.field, &theta);
  VecDuplicate(theta, &g);
  VecDuplicate(theta, &v);
  VecDuplicate(theta, &t0);
  VecCopy(theta, t0);
  AzLossEvaluate(s.loss, &f, NULL, g);
  VecSet(v, 1.0);
  {
    PetscReal fp, fm, dot, h = 1e-6;
    VecWAXPY(theta, h, v, t0);
    AzLossEvaluate(s.loss, &fp, NULL, NULL);
    VecWAXPY(theta, -h, v, t0);
    AzLossEvaluate(s.loss, &fm, NULL, NULL);
    VecCopy(t0, theta);
    VecDot(g, v, &dot);
    g0 = (fp - fm) / (2 * h);
    ck_assert_msg(PetscAbsReal(g0 - dot) <= 1e-6 * PetscMax(1, PetscAbsReal(dot)), "FD %.12g vs gradient %.12g", (double)g0, (double)dot);
  }
  VecDestroy(&g);
  VecDestroy(&v);
  VecDestroy(&t0);
  FreeSetup(&s);
}
END_TEST

START_TEST(test_data_errors)
{
  const char *path = TmpPath("baddata.csv");
  AzProblem   prob;
  AzField     field;
  AzLoss      loss;
  PetscMPIInt rank;
  PetscErrorCode ierr;

  MPI_Comm_rank(PETSC_COMM_WORLD, &rank);
  ck_assert_int_eq(AzProblemLoad(PETSC_COMM_WORLD, "heat1d", &prob), 0);
  AzFieldCreate(PETSC_COMM_WORLD, &field);
  AzFieldSetDimensions(field, 2, 1);
  AzFieldSetUp(field);
  /* a missing file */
  PetscOptionsSetValue(NULL, "-az_data", "/nonexistent/obs.csv");
  AzLossCreate(prob, field, &loss);
  AzLossSetFromOptions(loss);
  PetscPushErrorHandler(CaptureError, NULL);
  ierr = AzLossSetUp(loss);
  PetscPopErrorHandler();
  ck_assert(ierr != 0);
  ck_assert_msg(strstr(last_error, "Cannot open the data file /nonexistent/obs.csv"), "%s", last_error);
  AzLossDestroy(&loss);
  /* a line with the wrong number of columns */
  if (!rank) {
    FILE *fp = fopen(path, "w");
    fprintf(fp, "0.1,0.2,0.3\n0.5,0.5\n");
    fclose(fp);
  }
  MPI_Barrier(PETSC_COMM_WORLD);
  PetscOptionsSetValue(NULL, "-az_data", path);
  AzLossCreate(prob, field, &loss);
  AzLossSetFromOptions(loss);
  PetscPushErrorHandler(CaptureError, NULL);
  ierr = AzLossSetUp(loss);
  PetscPopErrorHandler();
  ck_assert(ierr != 0);
  ck_assert_msg(strstr(last_error, "line 2: expected 3 numbers (2 coordinate(s), then 1 component(s)), found 2"), "%s", last_error);
  PetscOptionsClearValue(NULL, "-az_data");
  AzLossDestroy(&loss);
  AzFieldDestroy(&field);
  AzProblemDestroy(&prob);
}
END_TEST

/* Creating, setting up and destroying a loss returns every byte: after one warm-up cycle (PETSc
 * registers its log events and classes once), three more cycles leave the heap where it was.
 * (AzLossSetUp's jet buffers leaked 20 kB per loss.) The heap is the process's: under several ranks
 * MPI's own progress machinery may allocate a buffer at any moment (1024 bytes once, seen on 4
 * oversubscribed ranks), so two windows of three cycles are measured and the smaller growth must stay
 * under 1024 bytes: a leak per loss shows in both, a one-time allocation elsewhere in one. */
START_TEST(test_loss_no_leak)
{
  Setup  s;
  size_t before, mid, after;
  long   d1, d2;

  MakeSetup(PETSC_COMM_SELF, "heat1d", 1, 8, 32, &s);
  FreeSetup(&s);
  before = mallinfo2().uordblks;
  for (int k = 0; k < 3; k++) {
    MakeSetup(PETSC_COMM_SELF, "heat1d", 1, 8, 32, &s);
    FreeSetup(&s);
  }
  mid = mallinfo2().uordblks;
  for (int k = 0; k < 3; k++) {
    MakeSetup(PETSC_COMM_SELF, "heat1d", 1, 8, 32, &s);
    FreeSetup(&s);
  }
  after = mallinfo2().uordblks;
  d1    = (long)mid - (long)before;
  d2    = (long)after - (long)mid;
  ck_assert_msg(PetscMin(d1, d2) < 1024, "3 loss objects created and destroyed leave %ld bytes allocated, and 3 more %ld (a few bytes of allocator noise are allowed)", d1, d2);
}
END_TEST

/* ---- training ------------------------------------------------------------------------------------- */

static PetscReal Train(Setup *s, const char *types, const char *its, const char *extra_opt, const char *extra_val)
{
  AzTrainer tr;
  PetscReal f;
  PetscOptionsSetValue(NULL, "-az_trainer_type", types);
  PetscOptionsSetValue(NULL, "-az_trainer_max_it", its);
  PetscOptionsSetValue(NULL, "-az_quiet", "1");
  if (extra_opt) PetscOptionsSetValue(NULL, extra_opt, extra_val);
  ck_assert_int_eq(AzTrainerCreate(s->loss, s->field, &tr), 0);
  ck_assert_int_eq(AzTrainerSetFromOptions(tr), 0);
  ck_assert_int_eq(AzTrainerTrain(tr), 0);
  AzTrainerDestroy(&tr);
  PetscOptionsClearValue(NULL, "-az_trainer_type");
  PetscOptionsClearValue(NULL, "-az_trainer_max_it");
  PetscOptionsClearValue(NULL, "-az_quiet");
  if (extra_opt) PetscOptionsClearValue(NULL, extra_opt);
  AzLossEvaluate(s->loss, &f, NULL, NULL);
  return f;
}

/* Each optimiser lowers the loss of poisson2d; Gauss–Newton reaches a relative L2 error < 1e-2
 * against sin πx sin πy in 100 iterations of a 2×10 network (5.4e-3 measured). */
START_TEST(test_optimisers_reduce_loss)
{
  const char *types[] = {"adam", "lbfgs", "gn", "gn"};
  const char *its[]   = {"50", "50", "100", "20"};
  PetscReal   rel[4];
  for (int k = 0; k < 4; k++) {
    Setup     s;
    PetscReal f0, f1, maxabs;
    PetscBool has;
    MakeSetup(PETSC_COMM_WORLD, "poisson2d", 2, 10, 300, &s);
    AzLossEvaluate(s.loss, &f0, NULL, NULL);
    f1 = Train(&s, types[k], its[k], k == 0 ? "-az_adam_lr" : (k == 3 ? "-az_gn_solver" : NULL), k == 0 ? "0.01" : "cg");
    ck_assert_msg(f1 < 0.5 * f0, "%s: loss %g -> %g", types[k], (double)f0, (double)f1);
    AzLossExactError(s.loss, &has, &rel[k], &maxabs);
    ck_assert(has);
    FreeSetup(&s);
  }
  ck_assert_msg(rel[2] < 1e-2, "Gauss-Newton: relative L2 error %g after 100 iterations", (double)rel[2]);
}
END_TEST

/* The trainers see θ as a Vec only, so they train the other architectures unchanged: each lowers the
 * loss of poisson2d to under half its initial value with RWF and with PirateNet (2 blocks). */
START_TEST(test_arch_training)
{
  const char     *types[] = {"adam", "lbfgs", "gn"};
  const char     *its[]   = {"50", "50", "20"};
  const AzNetwork nets[]  = {AZ_NET_MLP, AZ_NET_PIRATE, AZ_NET_PIRATE};
  const PetscBool rwfs[]  = {PETSC_TRUE, PETSC_FALSE, PETSC_TRUE};
  const int       ncase   = 3;
  for (int a = 0; a < ncase; a++)
    for (int k = 0; k < 3; k++) {
      Setup     s;
      PetscReal f0, f1;
      setup_net = nets[a];
      setup_rwf = rwfs[a];
      MakeSetup(PETSC_COMM_WORLD, "poisson2d", 2, 10, 300, &s);
      setup_net = AZ_NET_MLP;
      setup_rwf = PETSC_FALSE;
      AzLossEvaluate(s.loss, &f0, NULL, NULL);
      f1 = Train(&s, types[k], its[k], k == 0 ? "-az_adam_lr" : NULL, "0.01");
      printf("  %s%s, %s: loss %.3e -> %.3e\n", AzNetworks[nets[a]], rwfs[a] ? "+rwf" : "", types[k], (double)f0, (double)f1);
      ck_assert_msg(f1 < 0.5 * f0, "%s%s, %s: loss %g -> %g", AzNetworks[nets[a]], rwfs[a] ? "+rwf" : "", types[k], (double)f0, (double)f1);
      FreeSetup(&s);
    }
}
END_TEST

/* A whole training run on all ranks gives the parameters of the same run on one rank (round-off). */
START_TEST(test_training_mpi_agreement)
{
  Setup     w, s;
  Vec       tw, ts;
  PetscReal diff, nrm;

  MakeSetup(PETSC_COMM_WORLD, "heat1d", 2, 8, 64, &w);
  MakeSetup(PETSC_COMM_SELF, "heat1d", 2, 8, 64, &s);
  Train(&w, "adam,gn", "20,5", NULL, NULL);
  Train(&s, "adam,gn", "20,5", NULL, NULL);
  AzFieldGetParameters(w.field, &tw);
  AzFieldGetParameters(s.field, &ts);
  VecNorm(ts, NORM_2, &nrm);
  VecAXPY(tw, -1, ts);
  VecNorm(tw, NORM_2, &diff);
  ck_assert_msg(diff <= 1e-9 * nrm, "trained parameters differ by %g relative between all ranks and one", (double)(diff / nrm));
  FreeSetup(&w);
  FreeSetup(&s);
}
END_TEST

/* A run cut by a checkpoint and restarted equals the uninterrupted run bit for bit; with the augmented
 * Lagrangian (multipliers updated every 7 iterations) the checkpoint must carry the multipliers.
 * CheckRestartCut: with opts set (and cleared at the end): run a
 * (types, its) uninterrupted; run b with cut_types, cut_its and checkpoints every `every` iterations
 * into the file; then, a new process in effect, a fresh field and loss (θ set to 0.123 everywhere:
 * θ, multipliers and optimiser state must come from the file) trained (types, its) with -az_restart;
 * θ_b must equal θ_a exactly. CheckRestartCutEdit: the same, with the checkpoint rewritten by edit
 * (on rank 0) before the restart, and θ_b within tol (relative, ∞-norm) of θ_a. */
static void CheckRestartCutEdit(const char *label, const char *problem, const Opt opts[], const char *types, const char *its, const char *cut_types, const char *cut_its, const char *every, const char *file, void (*edit)(const char *path, PetscInt nparam), PetscReal tol)
{
  const char *ck = TmpPath(file);
  PetscMPIInt rank;
  Setup       a, b;
  AzTrainer   tr;
  Vec         ta, tb;
  PetscReal   diff;

  MPI_Comm_rank(PETSC_COMM_WORLD, &rank);
  /* uninterrupted */
  SetOpts(NULL, opts);
  MakeSetup(PETSC_COMM_WORLD, problem, 2, 8, 64, &a);
  Train(&a, types, its, NULL, NULL);
  /* interrupted: the same run with checkpoints, cut */
  SetOpts(NULL, opts);
  MakeSetup(PETSC_COMM_WORLD, problem, 2, 8, 64, &b);
  PetscOptionsSetValue(NULL, "-az_trainer_type", cut_types);
  PetscOptionsSetValue(NULL, "-az_trainer_max_it", cut_its);
  PetscOptionsSetValue(NULL, "-az_checkpoint_every", every);
  PetscOptionsSetValue(NULL, "-az_quiet", "1");
  AzTrainerCreate(b.loss, b.field, &tr);
  AzTrainerSetFromOptions(tr);
  AzTrainerSetCheckpointFile(tr, ck);
  ck_assert_int_eq(AzTrainerTrain(tr), 0);
  AzTrainerDestroy(&tr);
  PetscOptionsClearValue(NULL, "-az_checkpoint_every");
  if (edit) {
    PetscInt P;
    AzFieldGetNumParameters(b.field, &P);
    if (!rank) edit(ck, P);
    MPI_Barrier(PETSC_COMM_WORLD);
  }
  /* a new process, in effect: a fresh field and loss (θ and multipliers must come from the file) */
  FreeSetup(&b);
  SetOpts(NULL, opts);
  MakeSetup(PETSC_COMM_WORLD, problem, 2, 8, 64, &b);
  AzFieldGetParameters(b.field, &tb);
  VecSet(tb, 0.123);
  Train(&b, types, its, "-az_restart", ck);
  AzFieldGetParameters(a.field, &ta);
  VecAXPY(tb, -1, ta);
  VecNorm(tb, NORM_INFINITY, &diff);
  if (tol > 0) {
    PetscReal nrm;
    VecNorm(ta, NORM_INFINITY, &nrm);
    ck_assert_msg(diff <= tol * nrm, "%s: restarted run differs from the uninterrupted one by %g (relative %g > %g)", label, (double)diff, (double)(diff / nrm), (double)tol);
  } else ck_assert_msg(diff == 0, "%s: restarted run differs from the uninterrupted one by %g", label, (double)diff);
  MPI_Barrier(PETSC_COMM_WORLD); /* every rank is done with the file */
  if (!rank) unlink(ck);
  FreeSetup(&a);
  FreeSetup(&b);
  ClearOpts(NULL, opts);
}

static void CheckRestartCut(const char *label, const char *problem, const Opt opts[], const char *types, const char *its, const char *cut_types, const char *cut_its, const char *every, const char *file)
{
  CheckRestartCutEdit(label, problem, opts, types, its, cut_types, cut_its, every, file, NULL, 0);
}

/* adam 30 then gn 4 uninterrupted, against the same run cut after adam 20 (checkpoints every 10), with
 * opt = constraint and the augmented Lagrangian's multipliers updated every 7 iterations */
static void CheckRestart(const char *problem, const char *opt, const char *constraint)
{
  const Opt o[] = {{opt, constraint}, {"-az_auglag_every", "7"}, {NULL, NULL}};
  char      label[256];

  snprintf(label, sizeof label, "%s %s %s", problem, opt, constraint);
  CheckRestartCut(label, problem, o, "adam,gn", "30,4", "adam", "20", "10", "ckpt.bin");
}

START_TEST(test_checkpoint_restart)
{
  CheckRestart("heat1d", "-az_constraint", "soft");
  CheckRestart("heat1d", "-az_constraint", "auglag");
  /* multipliers on the conservation law (one per time slice, slices dealt out over the ranks) and on
   * positivity (one per interior point) */
  CheckRestart("advection1d", "-az_conservation", "auglag");
  CheckRestart("advection1d", "-az_positivity", "auglag");
}
END_TEST

/* L-BFGS restarted inside its stage continues bit for bit: the checkpoint carries the curvature pairs
 * and the segment position. adam 10 then lbfgs 30 uninterrupted, against the same run cut at lbfgs
 * iteration 15 (checkpoints every 5) and restarted; with the augmented Lagrangian and segments of 4
 * iterations the cut falls inside a segment (15 = 3·4 + 3). */
static void CheckRestartLBFGS(const char *constraint, const char *segment)
{
  const Opt o[] = {{"-az_constraint", constraint}, {"-az_auglag_every", "7"}, {"-az_lbfgs_segment", segment}, {NULL, NULL}};
  char      label[256];

  snprintf(label, sizeof label, "L-BFGS (%s, segment %s)", constraint, segment);
  CheckRestartCut(label, "heat1d", o, "adam,lbfgs", "10,30", "adam,lbfgs", "10,15", "5", "ckpt_lbfgs.bin");
}

START_TEST(test_checkpoint_restart_lbfgs)
{
  CheckRestartLBFGS("soft", "50");
  CheckRestartLBFGS("auglag", "50");
  CheckRestartLBFGS("soft", "4");
  CheckRestartLBFGS("auglag", "4");
}
END_TEST

/* bfgs restarted inside its stage continues bit for bit: the checkpoint carries H and the counters
 * (adam 10 then bfgs 30, cut at bfgs 15 with checkpoints every 5; with the augmented Lagrangian the
 * constraints advance every 4 iterations, so the cut falls inside a segment). */
static void CheckRestartBFGS(const char *constraint, const char *segment)
{
  const Opt o[] = {{"-az_constraint", constraint}, {"-az_auglag_every", "7"}, {"-az_lbfgs_segment", segment}, {NULL, NULL}};
  char      label[256];

  snprintf(label, sizeof label, "bfgs (%s, segment %s)", constraint, segment);
  CheckRestartCut(label, "heat1d", o, "adam,bfgs", "10,30", "adam,bfgs", "10,15", "5", "ckpt_bfgs.bin");
}

/* A bfgs checkpoint as written before the direction was stored (state [head, H], H-stored flag 1): the
 * file rewritten into that layout (the header's int64 record found by its version, stage count and
 * stage, the direction cut out of the state) restarts from H and a direction computed anew, to
 * round-off of the uninterrupted run. */
static void OldBFGSCheckpoint(const char *path, PetscInt P)
{
  FILE         *fp = fopen(path, "rb");
  long          size, at = -1;
  unsigned char *buf;
  int64_t       rec[8], nst = 10 + (int64_t)P + (int64_t)P * P;

  ck_assert_msg(fp != NULL, "cannot open %s", path);
  fseek(fp, 0, SEEK_END);
  size = ftell(fp);
  rewind(fp);
  buf = malloc(size);
  ck_assert(fread(buf, 1, size, fp) == (size_t)size);
  fclose(fp);
  for (long o = 0; o + (long)sizeof rec <= size && at < 0; o++) {
    memcpy(rec, buf + o, sizeof rec);
    if (rec[0] == 1 && rec[1] == 2 && rec[2] == 1 && rec[6] == nst) at = o;
  }
  ck_assert_msg(at >= 0, "the checkpoint's record (stage 2 of 2, a bfgs state of %lld entries) not found", (long long)nst);
  {
    const long st = at + (long)sizeof rec + 8 * (long)P; /* the state, after θ */
    double     flag;
    rec[6] -= P;
    memcpy(buf + at, rec, sizeof rec);
    memcpy(&flag, buf + st + 8 * 2, 8);
    ck_assert_msg(flag == 2, "the state's H-stored flag is %g, not 2", flag);
    flag = 1;
    memcpy(buf + st + 8 * 2, &flag, 8);
    fp = fopen(path, "wb");
    ck_assert(fwrite(buf, 1, st + 8 * 10, fp) == (size_t)(st + 8 * 10));
    ck_assert(fwrite(buf + st + 8 * (10 + P), 1, size - (st + 8 * (10 + P)), fp) == (size_t)(size - (st + 8 * (10 + P))));
    fclose(fp);
  }
  free(buf);
}

START_TEST(test_checkpoint_restart_bfgs)
{
  const Opt o[] = {{"-az_lbfgs_segment", "50"}, {NULL, NULL}};
  CheckRestartCutEdit("bfgs (a checkpoint without the direction)", "heat1d", o, "adam,bfgs", "10,30", "adam,bfgs", "10,15", "5", "ckpt_bfgs_old.bin", OldBFGSCheckpoint, 1e-8);
  CheckRestartBFGS("soft", "50");
  CheckRestartBFGS("auglag", "4");
}
END_TEST

/* ---- parameter and checkpoint files ------------------------------------------------------------- */

static void ReadAll(const char *path, unsigned char **buf, long *n)
{
  FILE *fp = fopen(path, "rb");
  ck_assert_msg(fp != NULL, "cannot read %s", path);
  fseek(fp, 0, SEEK_END);
  *n = ftell(fp);
  fseek(fp, 0, SEEK_SET);
  *buf = malloc((size_t)*n);
  ck_assert(fread(*buf, 1, (size_t)*n, fp) == (size_t)*n);
  fclose(fp);
}

/* open file descriptors of this process */
static int OpenFiles(void)
{
  DIR *d = opendir("/proc/self/fd");
  int  n = 0;
  if (!d) return -1;
  while (readdir(d)) n++;
  closedir(d);
  return n;
}

/* write buf[0..n) to path on rank 0, with the 8 bytes at off replaced by val (off < 0: unchanged) */
static void WriteVariant(const char *path, const unsigned char *buf, long n, long off, const void *val)
{
  PetscMPIInt rank;
  MPI_Comm_rank(PETSC_COMM_WORLD, &rank);
  MPI_Barrier(PETSC_COMM_WORLD); /* every rank is done reading the previous variant */
  if (!rank) {
    FILE *fp = fopen(path, "wb");
    ck_assert(fp != NULL);
    if (off >= 0) {
      ck_assert(fwrite(buf, 1, (size_t)off, fp) == (size_t)off);
      ck_assert(fwrite(val, 1, 8, fp) == 8);
      ck_assert(fwrite(buf + off + 8, 1, (size_t)(n - off - 8), fp) == (size_t)(n - off - 8));
    } else ck_assert(fwrite(buf, 1, (size_t)n, fp) == (size_t)n);
    fclose(fp);
  }
  MPI_Barrier(PETSC_COMM_WORLD);
}

/* a restart from path must be refused with a message holding want (and the path) */
static void ExpectRestartError(const char *path, const char *want, PetscInt width, AzActivation act)
{
  Setup          s;
  AzTrainer      tr;
  PetscErrorCode ierr;
  if (width == 6 && act == AZ_ACT_TANH) MakeSetup(PETSC_COMM_WORLD, "heat1d", 1, 6, 32, &s);
  PetscOptionsSetValue(NULL, "-az_trainer_type", "adam,gn");
  PetscOptionsSetValue(NULL, "-az_trainer_max_it", "20,2");
  PetscOptionsSetValue(NULL, "-az_quiet", "1");
  PetscOptionsSetValue(NULL, "-az_restart", path);
  if (width != 6 || act != AZ_ACT_TANH) { /* another network, default collocation sets */
    const AzProblemInfo *info;
    AzJetRequest         req;
    PetscInt             ncoord;
    PetscReal            lo[AZ_MAX_COORD], hi[AZ_MAX_COORD];
    AzProblemLoad(PETSC_COMM_WORLD, "heat1d", &s.prob);
    AzProblemSetFromOptions(s.prob);
    AzProblemGetInfo(s.prob, &info);
    AzProblemGetNumCoords(s.prob, &ncoord);
    AzProblemGetBox(s.prob, lo, hi);
    AzProblemGetJetRequest(s.prob, &req);
    AzJetRequestClose(&req);
    AzFieldCreate(PETSC_COMM_WORLD, &s.field);
    AzFieldSetDimensions(s.field, ncoord, info->ncomp);
    AzFieldSetBox(s.field, lo, hi);
    AzFieldSetJetRequest(s.field, &req);
    AzFieldSetArchitecture(s.field, 1, width, act);
    AzFieldSetUp(s.field);
    AzLossCreate(s.prob, s.field, &s.loss);
    AzLossSetFromOptions(s.loss);
    AzLossSetUp(s.loss);
  }
  AzTrainerCreate(s.loss, s.field, &tr);
  AzTrainerSetFromOptions(tr);
  last_error[0] = 0;
  PetscPushErrorHandler(CaptureError, NULL);
  ierr = AzTrainerTrain(tr);
  PetscPopErrorHandler();
  ck_assert_msg(ierr != 0, "restart from %s (%s) must be refused", path, want);
  ck_assert_msg(strstr(last_error, want) && strstr(last_error, path), "restart from %s: expected '%s', got: %s", path, want, last_error);
  AzTrainerDestroy(&tr);
  PetscOptionsClearValue(NULL, "-az_trainer_type");
  PetscOptionsClearValue(NULL, "-az_trainer_max_it");
  PetscOptionsClearValue(NULL, "-az_quiet");
  PetscOptionsClearValue(NULL, "-az_restart");
  FreeSetup(&s);
}

/* Hostile checkpoints and parameter files, each made here from a good one: every one is refused with
 * a message naming the file and what is wrong (they used to be read past their end, run negative or
 * 1e12 iteration counts, run NaN constraint state, or load another network's parameters). */
START_TEST(test_hostile_files)
{
  const char    *ck = TmpPath("hostile_ckpt.bin"), *bad = TmpPath("hostile_bad.bin"), *th = TmpPath("hostile_theta.bin");
  const long     rec = 8 + 8 * (8 + AZ_MAX_COORD + 1) + 8 * (1 + AZ_MAX_COORD) + 16; /* after the field header (version 2: + network kind, RWF) */
  Setup          s;
  AzTrainer      tr;
  unsigned char *buf;
  long           n;
  PetscMPIInt    rank;
  PetscErrorCode ierr;
  int            nfiles;

  MPI_Comm_rank(PETSC_COMM_WORLD, &rank);
  /* a good checkpoint (adam, iteration 10 of 20) and a good theta.bin */
  MakeSetup(PETSC_COMM_WORLD, "heat1d", 1, 6, 32, &s);
  PetscOptionsSetValue(NULL, "-az_trainer_type", "adam");
  PetscOptionsSetValue(NULL, "-az_trainer_max_it", "10");
  PetscOptionsSetValue(NULL, "-az_checkpoint_every", "5");
  PetscOptionsSetValue(NULL, "-az_quiet", "1");
  AzTrainerCreate(s.loss, s.field, &tr);
  AzTrainerSetFromOptions(tr);
  AzTrainerSetCheckpointFile(tr, ck);
  ck_assert_int_eq(AzTrainerTrain(tr), 0);
  AzTrainerDestroy(&tr);
  PetscOptionsClearValue(NULL, "-az_trainer_type");
  PetscOptionsClearValue(NULL, "-az_trainer_max_it");
  PetscOptionsClearValue(NULL, "-az_checkpoint_every");
  PetscOptionsClearValue(NULL, "-az_quiet");
  ck_assert_int_eq(AzFieldSave(s.field, PETSC_COMM_WORLD, th), 0);
  {
    char tmp[PETSC_MAX_PATH_LEN];
    snprintf(tmp, sizeof tmp, "%s.tmp", ck);
    ck_assert_msg(access(tmp, F_OK) != 0, "no temporary checkpoint is left behind");
  }
  FreeSetup(&s);
  ReadAll(ck, &buf, &n);
  nfiles = OpenFiles();
  {
    const int64_t neg = -1, huge = 1000000000000LL, big = 1LL << 40;
    const double  nan = NAN;
    WriteVariant(bad, buf, 20, -1, NULL); /* a short header */
    ExpectRestartError(bad, "is truncated", 6, AZ_ACT_TANH);
    WriteVariant(bad, buf, n - 100, -1, NULL); /* cut inside the data */
    ExpectRestartError(bad, "truncated or corrupt", 6, AZ_ACT_TANH);
    WriteVariant(bad, buf, n, 0, "NOTAZ\0\0\0"); /* wrong magic */
    ExpectRestartError(bad, "is not a checkpoint", 6, AZ_ACT_TANH);
    WriteVariant(bad, buf, n, 8, &huge); /* format version */
    ExpectRestartError(bad, "format version", 6, AZ_ACT_TANH);
    WriteVariant(bad, buf, n, rec + 16, &neg); /* stage -1 */
    ExpectRestartError(bad, "stopped in stage -1", 6, AZ_ACT_TANH);
    WriteVariant(bad, buf, n, rec + 32, &huge); /* stage iteration 1e12 */
    ExpectRestartError(bad, "stopped at iteration 1000000000000", 6, AZ_ACT_TANH);
    WriteVariant(bad, buf, n, rec + 40, &neg); /* global iteration -1 */
    ExpectRestartError(bad, "global iteration -1", 6, AZ_ACT_TANH);
    WriteVariant(bad, buf, n, rec + 48, &big); /* optimiser state length */
    ExpectRestartError(bad, "truncated or corrupt", 6, AZ_ACT_TANH);
    WriteVariant(bad, buf, n, rec + 64, &nan); /* θ[0] NaN */
    ExpectRestartError(bad, "the parameters hold NaN", 6, AZ_ACT_TANH);
    WriteVariant(bad, buf, n, n - 8, &nan); /* the last constraint state value NaN */
    ExpectRestartError(bad, "the constraint state hold NaN", 6, AZ_ACT_TANH);
    /* another network with the same parameter count (sin instead of tanh) */
    ExpectRestartError(ck, "activation tanh in the file, sin here", 6, AZ_ACT_SIN);
    ExpectRestartError(ck, "width 6 in the file, 7 here", 7, AZ_ACT_TANH);
    /* theta.bin is not a checkpoint */
    ExpectRestartError(th, "is a parameters file (theta.bin), not a checkpoint", 6, AZ_ACT_TANH);
  }
  free(buf);
  ck_assert_msg(OpenFiles() == nfiles, "a refused restart leaves no file open (%d open before, %d after)", nfiles, OpenFiles());
  /* theta.bin: loads into the same network; refused into another one, truncated, or as a checkpoint */
  MakeSetup(PETSC_COMM_WORLD, "heat1d", 1, 6, 32, &s);
  ck_assert_int_eq(AzFieldLoad(s.field, th), 0);
  {
    const char *want[] = {"activation tanh in the file, sin here", "is truncated", "is a checkpoint, not a parameters file"};
    ReadAll(th, &buf, &n);
    WriteVariant(bad, buf, n - 8, -1, NULL);
    free(buf);
    for (int k = 0; k < 3; k++) {
      AzField f;
      AzFieldCreate(PETSC_COMM_WORLD, &f);
      AzFieldSetDimensions(f, 2, 1);
      AzFieldSetArchitecture(f, 1, 6, k == 0 ? AZ_ACT_SIN : AZ_ACT_TANH);
      AzFieldSetUp(f);
      last_error[0] = 0;
      PetscPushErrorHandler(CaptureError, NULL);
      ierr = AzFieldLoad(f, k == 0 ? th : (k == 1 ? bad : ck));
      PetscPopErrorHandler();
      ck_assert_msg(ierr != 0 && strstr(last_error, want[k]), "theta.bin case %d: expected '%s', got: %s", k, want[k], last_error);
      AzFieldDestroy(&f);
    }
    ck_assert_msg(OpenFiles() == nfiles, "a refused theta.bin leaves no file open (%d open before, %d after)", nfiles, OpenFiles());
  }
  FreeSetup(&s);
  MPI_Barrier(PETSC_COMM_WORLD); /* every rank is done reading the files (the refusals above do not synchronise) */
  if (!rank) {
    unlink(ck);
    unlink(bad);
    unlink(th);
  }
}
END_TEST

/* NaN in training: the residual of nanproblem is NaN where u > 3 while it drives u towards 10.
 * (a) With the default tolerance Adam meets NaN, undoes each bad step, halves the rate and finishes
 * with finite parameters below the cap. (b) Allowed a single failure, it stops with a clear message. */
static AzTrainerReason last_reason;
static char            last_reason_msg[1024];

static PetscErrorCode TrainNan(Setup *s, const char *max_failures, PetscInt *rollbacks)
{
  AzTrainer      tr;
  PetscErrorCode ierr;

  PetscOptionsSetValue(NULL, "-az_trainer_type", "adam");
  PetscOptionsSetValue(NULL, "-az_trainer_max_it", "400");
  PetscOptionsSetValue(NULL, "-az_adam_lr", "0.1");
  PetscOptionsSetValue(NULL, "-az_trainer_max_failures", max_failures);
  PetscOptionsSetValue(NULL, "-az_quiet", "1");
  AzTrainerCreate(s->loss, s->field, &tr);
  AzTrainerSetFromOptions(tr);
  last_error[0] = 0;
  PetscPushErrorHandler(CaptureError, NULL);
  ierr = AzTrainerTrain(tr);
  PetscPopErrorHandler();
  AzTrainerGetNumRollbacks(tr, rollbacks);
  {
    const char *msg;
    AzTrainerGetStopReason(tr, &last_reason, &msg);
    snprintf(last_reason_msg, sizeof last_reason_msg, "%s", msg);
  }
  AzTrainerDestroy(&tr);
  PetscOptionsClearValue(NULL, "-az_trainer_type");
  PetscOptionsClearValue(NULL, "-az_trainer_max_it");
  PetscOptionsClearValue(NULL, "-az_adam_lr");
  PetscOptionsClearValue(NULL, "-az_trainer_max_failures");
  PetscOptionsClearValue(NULL, "-az_quiet");
  return ierr;
}

START_TEST(test_nan_detected)
{
  Setup     s;
  Vec       theta;
  PetscReal nrm, f;
  PetscInt  rollbacks;
  char      path[PETSC_MAX_PATH_LEN];

  snprintf(path, sizeof path, "%s/nanproblem.so", getenv("AZ_TEST_PLUGIN_DIR") ? getenv("AZ_TEST_PLUGIN_DIR") : "tests/.libs");
  MakeSetup(PETSC_COMM_WORLD, path, 1, 5, 64, &s);
  ck_assert_msg(TrainNan(&s, "10", &rollbacks) == 0, "training with rollbacks must finish: %s", last_error);
  ck_assert_msg(last_reason == AZ_TRAINER_COMPLETED, "training that recovers from NaN completes: %s", last_reason_msg);
  ck_assert_msg(rollbacks > 0, "the run must have met NaN");
  AzFieldGetParameters(s.field, &theta);
  VecNorm(theta, NORM_2, &nrm);
  ck_assert_msg(!PetscIsInfOrNanReal(nrm), "parameters must stay finite");
  AzLossEvaluate(s.loss, &f, NULL, NULL);
  ck_assert_msg(!PetscIsInfOrNanReal(f), "the final loss must be finite");
  FreeSetup(&s);

  MakeSetup(PETSC_COMM_WORLD, path, 1, 5, 64, &s);
  /* AzTrainerTrain succeeds; the stop reason says it failed, and why */
  ck_assert_msg(TrainNan(&s, "1", &rollbacks) == 0, "a failed training returns success with a stop reason: %s", last_error);
  ck_assert_msg(last_reason == AZ_TRAINER_FAILED, "with no failures allowed, training through NaN must stop as failed");
  ck_assert_msg(strstr(last_reason_msg, "NaN/Inf 1 time(s) in a row") && strstr(last_reason_msg, "term pde: residual is NaN"), "message: %s", last_reason_msg);
  AzFieldGetParameters(s.field, &theta);
  VecNorm(theta, NORM_2, &nrm);
  ck_assert_msg(!PetscIsInfOrNanReal(nrm), "parameters must stay finite");
  FreeSetup(&s);
}
END_TEST


/* Run one trainer (options: NULL-terminated name/value pairs) and return its stop reason and message;
 * AzTrainerTrain itself must succeed whatever happens in training. */
static void TrainReason(Setup *s, const char *types, const char *its, const char *const opts[], AzTrainerReason *reason, char msg[], size_t len, PetscInt *rollbacks)
{
  AzTrainer   tr;
  const char *m;
  PetscOptionsSetValue(NULL, "-az_trainer_type", types);
  PetscOptionsSetValue(NULL, "-az_trainer_max_it", its);
  PetscOptionsSetValue(NULL, "-az_quiet", "1");
  for (int k = 0; opts && opts[k]; k += 2) PetscOptionsSetValue(NULL, opts[k], opts[k + 1]);
  ck_assert_int_eq(AzTrainerCreate(s->loss, s->field, &tr), 0);
  ck_assert_int_eq(AzTrainerSetFromOptions(tr), 0);
  last_error[0] = 0;
  ck_assert_msg(AzTrainerTrain(tr) == 0, "AzTrainerTrain must return success, also when training fails: %s", last_error);
  AzTrainerGetStopReason(tr, reason, &m);
  snprintf(msg, len, "%s", m);
  if (rollbacks) AzTrainerGetNumRollbacks(tr, rollbacks);
  AzTrainerDestroy(&tr);
  PetscOptionsClearValue(NULL, "-az_trainer_type");
  PetscOptionsClearValue(NULL, "-az_trainer_max_it");
  PetscOptionsClearValue(NULL, "-az_quiet");
  for (int k = 0; opts && opts[k]; k += 2) PetscOptionsClearValue(NULL, opts[k]);
}

/* ---- the dense quasi-Newton stage (bfgs) ---------------------------------------------------------- */

/* Each update of the bfgs stage lowers the loss of poisson2d (2×10, 300 points) by more than 100× in
 * 60 iterations from the same initial network (measured: the self-scaled ones by about 10⁴×). */
START_TEST(test_bfgs_reduces_loss)
{
  const char *upd[] = {"ssbroyden", "ssbfgs", "bfgs"};
  for (int k = 0; k < 3; k++) {
    Setup     s;
    PetscReal f0, f1, rel, maxabs;
    PetscBool has;
    MakeSetup(PETSC_COMM_WORLD, "poisson2d", 2, 10, 300, &s);
    AzLossEvaluate(s.loss, &f0, NULL, NULL);
    f1 = Train(&s, "bfgs", "60", "-az_bfgs_update", upd[k]);
    AzLossExactError(s.loss, &has, &rel, &maxabs);
    ck_assert_msg(f1 < 1e-2 * f0 && !PetscIsInfOrNanReal(rel), "bfgs %s: loss %g -> %g (rel L2 %g)", upd[k], (double)f0, (double)f1, (double)rel);
    FreeSetup(&s);
  }
}
END_TEST

/* The dense inverse Hessian is updated from reduced quantities only: a bfgs run on all ranks gives the
 * parameters of the same run on one rank (to round-off; test_mpi.sh checks the CLI bit for bit). */
START_TEST(test_bfgs_mpi_agreement)
{
  Setup     w, s;
  Vec       tw, ts;
  PetscReal diff, nrm;

  MakeSetup(PETSC_COMM_WORLD, "heat1d", 2, 8, 64, &w);
  MakeSetup(PETSC_COMM_SELF, "heat1d", 2, 8, 64, &s);
  Train(&w, "adam,bfgs", "10,40", NULL, NULL);
  Train(&s, "adam,bfgs", "10,40", NULL, NULL);
  AzFieldGetParameters(w.field, &tw);
  AzFieldGetParameters(s.field, &ts);
  VecNorm(ts, NORM_2, &nrm);
  VecAXPY(tw, -1, ts);
  VecNorm(tw, NORM_2, &diff);
  ck_assert_msg(diff <= 1e-12 * nrm, "bfgs: trained parameters differ by %g relative between all ranks and one", (double)(diff / nrm));
  FreeSetup(&w);
  FreeSetup(&s);
}
END_TEST

/* Above -az_bfgs_max_params the stage is refused when the options are read, with the parameter count,
 * the memory it would take and the alternatives. */
START_TEST(test_bfgs_refuses_large)
{
  Setup          s;
  AzTrainer      tr;
  PetscErrorCode ierr;
  PetscInt       P;

  MakeSetup(PETSC_COMM_WORLD, "heat1d", 2, 8, 64, &s);
  AzFieldGetNumParameters(s.field, &P);
  PetscOptionsSetValue(NULL, "-az_trainer_type", "adam,bfgs");
  PetscOptionsSetValue(NULL, "-az_bfgs_max_params", "50");
  AzTrainerCreate(s.loss, s.field, &tr);
  last_error[0] = 0;
  PetscPushErrorHandler(CaptureError, NULL);
  ierr = AzTrainerSetFromOptions(tr);
  PetscPopErrorHandler();
  {
    char want[64];
    snprintf(want, sizeof want, "has %d parameters", (int)P);
    ck_assert_msg(ierr != 0 && strstr(last_error, want) && strstr(last_error, "-az_bfgs_max_params 50") && strstr(last_error, "GB") && strstr(last_error, "lbfgs") && strstr(last_error, "gn"), "%s", last_error);
  }
  AzTrainerDestroy(&tr);
  PetscOptionsSetValue(NULL, "-az_bfgs_update", "lbfgs");
  PetscOptionsClearValue(NULL, "-az_bfgs_max_params");
  AzTrainerCreate(s.loss, s.field, &tr);
  last_error[0] = 0;
  PetscPushErrorHandler(CaptureError, NULL);
  ierr = AzTrainerSetFromOptions(tr);
  PetscPopErrorHandler();
  ck_assert_msg(ierr != 0 && strstr(last_error, "-az_bfgs_update") && strstr(last_error, "ssbroyden"), "%s", last_error);
  AzTrainerDestroy(&tr);
  PetscOptionsClearValue(NULL, "-az_bfgs_update");
  PetscOptionsClearValue(NULL, "-az_trainer_type");
  FreeSetup(&s);
}
END_TEST

/* nanproblem (its residual is NaN where u > cap, while it drives u up to 10): bfgs never accepts a
 * NaN trial point, keeps finite parameters, and when no strong-Wolfe step is left below the wall (also
 * after H is reset to the scaled identity) stops early; the stop reason says so, and training counts
 * as completed. */
START_TEST(test_bfgs_nan_stop)
{
  const char *upd[] = {"ssbroyden", "ssbfgs", "bfgs"};
  char        path[PETSC_MAX_PATH_LEN];

  snprintf(path, sizeof path, "%s/nanproblem.so", getenv("AZ_TEST_PLUGIN_DIR") ? getenv("AZ_TEST_PLUGIN_DIR") : "tests/.libs");
  for (int k = 0; k < 3; k++) {
    Setup             s;
    AzTrainerReason   reason;
    char              msg[1024];
    const char *const opts[] = {"-az_bfgs_update", upd[k], NULL};
    Vec               theta;
    PetscReal         nrm, f;
    PetscInt          its;
    MakeSetup(PETSC_COMM_WORLD, path, 1, 5, 64, &s);
    TrainReason(&s, "bfgs", "2000", opts, &reason, msg, sizeof msg, NULL);
    ck_assert_msg(reason == AZ_TRAINER_COMPLETED && strstr(msg, "bfgs stage 1, iteration") && strstr(msg, "stopped after") && strstr(msg, "after H was reset") && strstr(msg, "reset(s) of H"), "bfgs %s: %s", upd[k], msg);
    {
      int nreset = 0;
      ck_assert_msg(sscanf(strstr(msg, "scaled identity (") + 17, "%d", &nreset) == 1 && nreset >= 1, "bfgs %s: H must have been reset before the stage stopped: %s", upd[k], msg);
    }
    ck_assert_msg(sscanf(strstr(msg, "stopped after") + 14, "%d", (int *)&its) == 1 && its < 2000, "bfgs %s: %s", upd[k], msg);
    AzFieldGetParameters(s.field, &theta);
    VecNorm(theta, NORM_2, &nrm);
    AzLossEvaluate(s.loss, &f, NULL, NULL);
    ck_assert_msg(!PetscIsInfOrNanReal(nrm) && !PetscIsInfOrNanReal(f), "bfgs %s: parameters and loss must stay finite (%g, %g)", upd[k], (double)nrm, (double)f);
    FreeSetup(&s);
  }
}
END_TEST

/* One Gauss-Newton step from the same parameters, three ways: Cholesky of the dense JᵀJ, matrix-free
 * CG, and CG preconditioned by a randomized Nyström sketch of JᵀJ (NNCG) of rank 6 and of full rank,
 * all from the same damping (-az_gn_mu_init: the relative rule estimates diag(JᵀJ) differently).
 * The steps agree to 1e-10 of their size; the sketch cuts CG's iterations (full rank: one or two per
 * solve), at the price of one product JᵀJv per direction. */
static void GNStep(Setup *s, Vec th0, const char *const opts[], Vec out, PetscInt *solves, PetscInt *its, PetscInt *products)
{
  AzTrainer tr;
  Vec       theta;

  AzFieldGetParameters(s->field, &theta);
  VecCopy(th0, theta);
  PetscOptionsSetValue(NULL, "-az_trainer_type", "gn");
  PetscOptionsSetValue(NULL, "-az_trainer_max_it", "1");
  PetscOptionsSetValue(NULL, "-az_quiet", "1");
  for (int k = 0; opts[k]; k += 2) PetscOptionsSetValue(NULL, opts[k], opts[k + 1]);
  ck_assert_int_eq(AzTrainerCreate(s->loss, s->field, &tr), 0);
  ck_assert_int_eq(AzTrainerSetFromOptions(tr), 0);
  ck_assert_int_eq(AzTrainerTrain(tr), 0);
  ck_assert_int_eq(AzTrainerGetLinearIterations(tr, solves, its, products), 0);
  AzTrainerDestroy(&tr);
  PetscOptionsClearValue(NULL, "-az_trainer_type");
  PetscOptionsClearValue(NULL, "-az_trainer_max_it");
  PetscOptionsClearValue(NULL, "-az_quiet");
  for (int k = 0; opts[k]; k += 2) PetscOptionsClearValue(NULL, opts[k]);
  VecCopy(theta, out);
}

START_TEST(test_gn_nystrom_step)
{
  Setup       s;
  Vec         theta, th0, step[4];
  PetscInt    P, solves[4], its[4], prod[4];
  PetscReal   size, diff;
  char        full[16];
  const char *dense[] = {"-az_gn_solver", "dense", "-az_gn_mu_init", "1e-3", NULL};
  const char *none[]  = {"-az_gn_solver", "cg", "-az_gn_mu_init", "1e-3", "-az_gn_pc", "none", "-az_gn_ksp_rtol", "1e-14", NULL};
  const char *low[]   = {"-az_gn_solver", "cg", "-az_gn_mu_init", "1e-3", "-az_gn_pc", "nystrom", "-az_gn_nystrom_rank", "6", "-az_gn_ksp_rtol", "1e-14", NULL};
  const char *fullr[] = {"-az_gn_solver", "cg", "-az_gn_mu_init", "1e-3", "-az_gn_pc", "nystrom", "-az_gn_nystrom_rank", full, "-az_gn_ksp_rtol", "1e-14", NULL};

  MakeSetup(PETSC_COMM_WORLD, "heat1d", 1, 8, 64, &s);
  AzFieldGetParameters(s.field, &theta);
  VecGetSize(theta, &P);
  snprintf(full, sizeof full, "%d", (int)P);
  VecDuplicate(theta, &th0);
  VecCopy(theta, th0);
  for (int k = 0; k < 4; k++) VecDuplicate(theta, &step[k]);
  GNStep(&s, th0, dense, step[0], &solves[0], &its[0], &prod[0]);
  GNStep(&s, th0, none, step[1], &solves[1], &its[1], &prod[1]);
  GNStep(&s, th0, low, step[2], &solves[2], &its[2], &prod[2]);
  GNStep(&s, th0, fullr, step[3], &solves[3], &its[3], &prod[3]);
  VecAXPY(step[0], -1, th0);
  VecNorm(step[0], NORM_2, &size);
  ck_assert_msg(size > 0, "the dense step is zero");
  for (int k = 1; k < 4; k++) {
    VecAXPY(step[k], -1, th0);
    VecAXPY(step[k], -1, step[0]);
    VecNorm(step[k], NORM_2, &diff);
    PetscPrintf(PETSC_COMM_WORLD, "# GN step, %s: %d solves, %d CG iterations, %d sketch products; differs from the dense step by %.2e of its size %.2e\n", k == 1 ? "cg" : (k == 2 ? "cg + nystrom rank 6" : "cg + nystrom full rank"), (int)solves[k], (int)its[k], (int)prod[k], (double)(diff / size), (double)size);
    ck_assert_msg(diff <= 1e-10 * size, "solver %d: the step differs from the dense one by %g of its size", k, (double)(diff / size));
    ck_assert_msg(solves[k] == solves[1], "solver %d: %d solves, cg %d (the same trials)", k, (int)solves[k], (int)solves[1]);
  }
  ck_assert_msg(prod[1] == 0 && prod[2] == 6 && prod[3] == P, "sketch products %d %d %d", (int)prod[1], (int)prod[2], (int)prod[3]);
  ck_assert_msg(its[2] < its[1], "the rank-6 sketch does not cut CG's iterations (%d, unpreconditioned %d)", (int)its[2], (int)its[1]);
  ck_assert_msg(its[3] <= 2 * solves[3], "the full-rank sketch: %d CG iterations in %d solves (expected 1 or 2 each)", (int)its[3], (int)solves[3]);
  for (int k = 0; k < 4; k++) VecDestroy(&step[k]);
  VecDestroy(&th0);
  FreeSetup(&s);
}
END_TEST

/* A plugin whose exact Jacobian is NaN (finite residuals): every optimiser stops at once, failed, with
 * the term (pde) and the cause (its Jacobian, NaN) named, and θ untouched (the initial parameters).
 * Gauss–Newton used to loop forever here (the damping became NaN). */
START_TEST(test_nonfinite_jacobian)
{
  const char *types[]   = {"adam", "lbfgs", "gn", "gn"};
  const char *cg[]      = {"-az_gn_solver", "cg", NULL};
  const char *dense[]   = {"-az_gn_solver", "dense", NULL};
  char        path[PETSC_MAX_PATH_LEN], msg[1024];
  snprintf(path, sizeof path, "%s/nanjac.so", getenv("AZ_TEST_PLUGIN_DIR") ? getenv("AZ_TEST_PLUGIN_DIR") : "tests/.libs");
  for (int k = 0; k < 4; k++) {
    Setup           s;
    AzTrainerReason reason;
    Vec             theta, th0;
    PetscReal       diff;
    MakeSetup(PETSC_COMM_WORLD, path, 1, 6, 32, &s);
    AzFieldGetParameters(s.field, &theta);
    VecDuplicate(theta, &th0);
    VecCopy(theta, th0);
    TrainReason(&s, types[k], "5", k == 3 ? cg : (k == 2 ? dense : NULL), &reason, msg, sizeof msg, NULL);
    ck_assert_msg(reason == AZ_TRAINER_FAILED, "%s: a NaN Jacobian must fail training", types[k]);
    ck_assert_msg(strstr(msg, "term pde: Jacobian is NaN"), "%s: message names the term and the cause: %s", types[k], msg);
    VecAXPY(th0, -1, theta);
    VecNorm(th0, NORM_INFINITY, &diff);
    ck_assert_msg(diff == 0, "%s: the last good parameters (the initial ones) are kept", types[k]);
    VecDestroy(&th0);
    FreeSetup(&s);
  }
}
END_TEST

/* -az_adam_lr 1e300: every step overflows. With -az_trainer_max_failures 3 Adam undoes exactly 3 steps
 * in a row (the counter must not reset when it steps again from the rolled-back point) and stops,
 * failed, on the initial parameters with a finite loss and a history of that one state, never "completed". */
START_TEST(test_adam_max_failures)
{
  Setup                 s;
  AzTrainerReason       reason;
  PetscInt              rollbacks;
  char                  msg[1024];
  const char           *opts[] = {"-az_adam_lr", "1e300", "-az_trainer_max_failures", "3", NULL};
  Vec                   theta, th0;
  PetscReal             diff, f0, f;
  AzTrainer             tr;

  MakeSetup(PETSC_COMM_WORLD, "heat1d", 1, 6, 32, &s);
  AzFieldGetParameters(s.field, &theta);
  VecDuplicate(theta, &th0);
  VecCopy(theta, th0);
  AzLossEvaluate(s.loss, &f0, NULL, NULL);
  TrainReason(&s, "adam", "50", opts, &reason, msg, sizeof msg, &rollbacks);
  ck_assert_msg(reason == AZ_TRAINER_FAILED, "lr 1e300 must fail, not complete: %s", msg);
  ck_assert_msg(rollbacks == 3, "-az_trainer_max_failures 3 fires after 3 consecutive failures, not %d", (int)rollbacks);
  ck_assert_msg(strstr(msg, "NaN/Inf 3 time(s) in a row"), "%s", msg);
  VecAXPY(th0, -1, theta);
  VecNorm(th0, NORM_INFINITY, &diff);
  ck_assert_msg(diff == 0, "the last good parameters (the initial ones) are kept");
  AzLossEvaluate(s.loss, &f, NULL, NULL);
  ck_assert_msg(f == f0, "the loss of the kept parameters is the initial one: %g vs %g", (double)f, (double)f0);
  /* the history holds the state the run stopped on */
  PetscOptionsSetValue(NULL, "-az_trainer_type", "adam");
  PetscOptionsSetValue(NULL, "-az_trainer_max_it", "50");
  PetscOptionsSetValue(NULL, "-az_quiet", "1");
  for (int k = 0; opts[k]; k += 2) PetscOptionsSetValue(NULL, opts[k], opts[k + 1]);
  AzTrainerCreate(s.loss, s.field, &tr);
  AzTrainerSetFromOptions(tr);
  ck_assert_int_eq(AzTrainerTrain(tr), 0);
  {
    PetscInt              n;
    const AzHistoryEntry *h;
    AzTrainerGetHistory(tr, &n, &h);
    ck_assert_msg(n == 1 && h[0].it == 0 && h[0].loss == f0, "history: %d line(s), the last at iteration %d", (int)n, n ? (int)h[n - 1].it : -1);
  }
  AzTrainerDestroy(&tr);
  PetscOptionsClearValue(NULL, "-az_trainer_type");
  PetscOptionsClearValue(NULL, "-az_trainer_max_it");
  PetscOptionsClearValue(NULL, "-az_quiet");
  for (int k = 0; opts[k]; k += 2) PetscOptionsClearValue(NULL, opts[k]);
  VecDestroy(&th0);
  FreeSetup(&s);
}
END_TEST

/* One history line = one state: the first line is the initial state (iteration 0, the initial loss),
 * the last line's loss is the loss re-evaluated at the final θ, for every optimiser. */
START_TEST(test_history_one_state)
{
  const char *types[] = {"adam", "lbfgs", "gn", "adam,gn"};
  const char *its[]   = {"30", "30", "5", "20,3"};
  for (int k = 0; k < 4; k++) {
    Setup                 s;
    AzTrainer             tr;
    PetscInt              n, total;
    const AzHistoryEntry *h;
    PetscReal             f0, f, rel, maxabs;
    PetscBool             has;
    MakeSetup(PETSC_COMM_WORLD, "heat1d", 1, 6, 32, &s);
    AzLossEvaluate(s.loss, &f0, NULL, NULL);
    PetscOptionsSetValue(NULL, "-az_trainer_type", types[k]);
    PetscOptionsSetValue(NULL, "-az_trainer_max_it", its[k]);
    PetscOptionsSetValue(NULL, "-az_monitor_every", "7");
    PetscOptionsSetValue(NULL, "-az_quiet", "1");
    AzTrainerCreate(s.loss, s.field, &tr);
    AzTrainerSetFromOptions(tr);
    ck_assert_int_eq(AzTrainerTrain(tr), 0);
    AzTrainerGetHistory(tr, &n, &h);
    AzTrainerGetIterations(tr, &total);
    ck_assert_msg(n >= 2, "%s: %d history lines", types[k], (int)n);
    ck_assert_msg(h[0].it == 0 && PetscAbsReal(h[0].loss - f0) <= 1e-12 * f0, "%s: first line iteration %d loss %g, initial loss %g", types[k], (int)h[0].it, (double)h[0].loss, (double)f0);
    AzLossEvaluate(s.loss, &f, NULL, NULL);
    AzLossExactError(s.loss, &has, &rel, &maxabs);
    ck_assert_msg(h[n - 1].it == total, "%s: last line at iteration %d of %d", types[k], (int)h[n - 1].it, (int)total);
    ck_assert_msg(PetscAbsReal(h[n - 1].loss - f) <= 1e-12 * f, "%s: last line's loss %.15g, loss at the final parameters %.15g", types[k], (double)h[n - 1].loss, (double)f);
    ck_assert_msg(PetscAbsReal(h[n - 1].rel_l2 - rel) <= 1e-12 * rel, "%s: last line's rel_l2 %.15g, at the final parameters %.15g", types[k], (double)h[n - 1].rel_l2, (double)rel);
    for (PetscInt i = 1; i < n; i++) ck_assert_msg(h[i].it > h[i - 1].it, "%s: line %d repeats iteration %d", types[k], (int)i, (int)h[i].it);
    AzTrainerDestroy(&tr);
    PetscOptionsClearValue(NULL, "-az_trainer_type");
    PetscOptionsClearValue(NULL, "-az_trainer_max_it");
    PetscOptionsClearValue(NULL, "-az_monitor_every");
    PetscOptionsClearValue(NULL, "-az_quiet");
    FreeSetup(&s);
  }
}
END_TEST

/* The ETA is remaining iterations × this stage's measured seconds per iteration: 100 left at 3 s per
 * iteration is 300 s, whatever the faster stages before it did. */
START_TEST(test_eta)
{
  ck_assert(PetscAbsReal(AzTrainerETA(10, 30.0, 100) - 300.0) < 1e-12);
  ck_assert(AzTrainerETA(0, 0.0, 100) == 0);
  ck_assert(AzTrainerETA(5, 1.0, 0) == 0);
}
END_TEST

START_TEST(test_bad_trainer_options)
{
  Setup     s;
  AzTrainer tr;
  PetscErrorCode ierr;

  MakeSetup(PETSC_COMM_WORLD, "heat1d", 1, 4, 64, &s);
  PetscOptionsSetValue(NULL, "-az_trainer_type", "adam,sgd");
  AzTrainerCreate(s.loss, s.field, &tr);
  PetscPushErrorHandler(CaptureError, NULL);
  ierr = AzTrainerSetFromOptions(tr);
  PetscPopErrorHandler();
  ck_assert(ierr != 0);
  ck_assert_msg(strstr(last_error, "Unknown trainer type 'sgd'") && strstr(last_error, "adam, lbfgs, gn"), "%s", last_error);
  PetscOptionsSetValue(NULL, "-az_trainer_type", "adam,lbfgs");
  PetscOptionsSetValue(NULL, "-az_trainer_max_it", "1,2,3");
  PetscPushErrorHandler(CaptureError, NULL);
  ierr = AzTrainerSetFromOptions(tr);
  PetscPopErrorHandler();
  ck_assert(ierr != 0);
  ck_assert_msg(strstr(last_error, "give one per stage"), "%s", last_error);
  /* more stages than allowed are refused, not cut to AZ_MAX_STAGES */
  PetscOptionsClearValue(NULL, "-az_trainer_max_it");
  PetscOptionsSetValue(NULL, "-az_trainer_type", "adam,adam,adam,adam,adam,adam,adam,adam,gn");
  PetscPushErrorHandler(CaptureError, NULL);
  ierr = AzTrainerSetFromOptions(tr);
  PetscPopErrorHandler();
  ck_assert(ierr != 0);
  ck_assert_msg(strstr(last_error, "at most 8 are allowed"), "%s", last_error);
  PetscOptionsSetValue(NULL, "-az_trainer_type", "adam");
  {
    const char *bad[][3] = {{"-az_adam_lr", "inf", "not a finite number"}, {"-az_adam_lr", "nan", "not a finite number"}, {"-az_adam_lr", "0", "-az_adam_lr must be positive and finite"}, {"-az_adam_lr_decay", "1.5", "in (0, 1]"}, {"-az_adam_lr_decay_steps", "inf", "not a finite number"}, {"-az_adam_lr_decay_steps", "0", "-az_adam_lr_decay_steps must be positive"}, {"-az_gn_mu0", "-1", "-az_gn_mu0 must be positive"}, {"-az_lbfgs_m", "0", "-az_lbfgs_m must be in 1..1000"}, {"-az_lbfgs_segment", "0", "-az_lbfgs_segment must be at least 1"}, {"-az_trainer_max_failures", "0", "at least 1"}, {"-az_monitor_every", "0", "at least 1"}, {"-az_checkpoint_every", "-2", "non-negative"}, {"-az_trainer_max_it", "-1", "must be non-negative"}, {"-az_trainer_max_it", "2000000000", "at most"}};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
      AzTrainerDestroy(&tr); /* a fresh trainer: a refused value may stay in the last one */
      AzTrainerCreate(s.loss, s.field, &tr);
      PetscOptionsSetValue(NULL, bad[k][0], bad[k][1]);
      last_error[0] = 0;
      PetscPushErrorHandler(CaptureError, NULL);
      ierr = AzTrainerSetFromOptions(tr);
      PetscPopErrorHandler();
      PetscOptionsClearValue(NULL, bad[k][0]);
      ck_assert_msg(ierr != 0 && strstr(last_error, bad[k][2]) && strstr(last_error, bad[k][0]), "%s %s: %s", bad[k][0], bad[k][1], last_error);
    }
  }
  PetscOptionsClearValue(NULL, "-az_trainer_type");
  PetscOptionsClearValue(NULL, "-az_trainer_max_it");
  AzTrainerDestroy(&tr);
  FreeSetup(&s);
}
END_TEST

/* Trainer types come from a registry: a stage registered by name (here "skip", which only counts
 * its iterations) is chosen with -az_trainer_type like the built-ins, chained with them, listed in
 * the error for an unknown name, and gets the default iteration count; the built-ins keep theirs.
 * Under an options prefix the trainer reads -PREFIXaz_..., falling back to the global -az_... A
 * checkpoint names the stage type it stopped in (its number maps back to the name). */
static PetscErrorCode SkipStage(AzTrainer tr, PetscInt max_it)
{
  PetscFunctionBeginUser;
  tr->it += max_it;
  PetscFunctionReturn(PETSC_SUCCESS);
}

START_TEST(test_trainer_registry_prefix)
{
  Setup          s;
  AzTrainer      tr, tp;
  PetscErrorCode ierr;
  PetscInt       its;
  char           desc[128];
  const char    *ck = TmpPath("ckpt_type.bin");
  PetscMPIInt    rank;

  MPI_Comm_rank(PETSC_COMM_WORLD, &rank);
  MakeSetup(PETSC_COMM_WORLD, "heat1d", 1, 4, 64, &s);
  ck_assert_int_eq(AzTrainerRegister("skip", SkipStage), 0);
  PetscOptionsSetValue(NULL, "-az_quiet", "1");
  /* the default iteration counts: built-ins and a registered stage */
  PetscOptionsSetValue(NULL, "-az_trainer_type", "adam,LBFGS,gn,skip");
  AzTrainerCreate(s.loss, s.field, &tr);
  ck_assert_int_eq(AzTrainerSetFromOptions(tr), 0);
  ck_assert_msg(tr->max_it[0] == 1000 && tr->max_it[1] == 500 && tr->max_it[2] == 50 && tr->max_it[3] == 1000, "default iterations %d %d %d %d", (int)tr->max_it[0], (int)tr->max_it[1], (int)tr->max_it[2], (int)tr->max_it[3]);
  AzTrainerGetDescription(tr, desc, sizeof desc);
  ck_assert_str_eq(desc, "adam,lbfgs,gn,skip");
  AzTrainerDestroy(&tr);
  /* a registered stage runs in the chain */
  PetscOptionsSetValue(NULL, "-az_trainer_type", "adam,skip");
  PetscOptionsSetValue(NULL, "-az_trainer_max_it", "2,5");
  AzTrainerCreate(s.loss, s.field, &tr);
  ck_assert_int_eq(AzTrainerSetFromOptions(tr), 0);
  ck_assert_int_eq(AzTrainerTrain(tr), 0);
  AzTrainerGetIterations(tr, &its);
  ck_assert_int_eq(its, 7);
  AzTrainerDestroy(&tr);
  /* an unknown name lists every registered one */
  PetscOptionsSetValue(NULL, "-az_trainer_type", "adam,sgd");
  AzTrainerCreate(s.loss, s.field, &tr);
  PetscPushErrorHandler(CaptureError, NULL);
  ierr = AzTrainerSetFromOptions(tr);
  PetscPopErrorHandler();
  ck_assert_msg(ierr && strstr(last_error, "Unknown trainer type 'sgd' in -az_trainer_type: valid types are adam, lbfgs, gn, bfgs, skip"), "%s", last_error);
  AzTrainerDestroy(&tr);
  PetscOptionsClearValue(NULL, "-az_trainer_max_it");
  /* prefixed options win for the prefixed trainer only; the global ones reach it otherwise */
  PetscOptionsSetValue(NULL, "-az_trainer_type", "lbfgs");
  PetscOptionsSetValue(NULL, "-az_adam_lr", "2e-3");
  PetscOptionsSetValue(NULL, "-az_lbfgs_m", "7");
  PetscOptionsSetValue(NULL, "-p1_az_adam_lr", "3e-3");
  PetscOptionsSetValue(NULL, "-p1_az_trainer_type", "gn,adam");
  AzTrainerCreate(s.loss, s.field, &tp);
  ck_assert_int_eq(AzTrainerSetOptionsPrefix(tp, "p1_"), 0);
  ck_assert_int_eq(AzTrainerSetFromOptions(tp), 0);
  AzTrainerCreate(s.loss, s.field, &tr);
  ck_assert_int_eq(AzTrainerSetFromOptions(tr), 0);
  ck_assert_msg(tp->lr == 3e-3 && tp->lbfgs_m == 7 && tp->nstages == 2 && !strcmp(tp->stage[0], "gn"), "prefixed trainer: lr %g m %d stages %d", (double)tp->lr, (int)tp->lbfgs_m, (int)tp->nstages);
  ck_assert_msg(tr->lr == 2e-3 && tr->lbfgs_m == 7 && tr->nstages == 1 && !strcmp(tr->stage[0], "lbfgs"), "plain trainer: lr %g stages %d", (double)tr->lr, (int)tr->nstages);
  AzTrainerDestroy(&tp);
  AzTrainerDestroy(&tr);
  PetscOptionsClearValue(NULL, "-az_adam_lr");
  PetscOptionsClearValue(NULL, "-az_lbfgs_m");
  PetscOptionsClearValue(NULL, "-p1_az_adam_lr");
  PetscOptionsClearValue(NULL, "-p1_az_trainer_type");
  /* a checkpoint of an lbfgs stage does not restart a gn stage, and says which type it holds */
  PetscOptionsSetValue(NULL, "-az_trainer_max_it", "4");
  PetscOptionsSetValue(NULL, "-az_checkpoint_every", "2");
  AzTrainerCreate(s.loss, s.field, &tr);
  AzTrainerSetFromOptions(tr);
  AzTrainerSetCheckpointFile(tr, ck);
  ck_assert_int_eq(AzTrainerTrain(tr), 0);
  AzTrainerDestroy(&tr);
  PetscOptionsClearValue(NULL, "-az_checkpoint_every");
  PetscOptionsSetValue(NULL, "-az_trainer_type", "gn");
  PetscOptionsSetValue(NULL, "-az_restart", ck);
  AzTrainerCreate(s.loss, s.field, &tr);
  AzTrainerSetFromOptions(tr);
  PetscPushErrorHandler(CaptureError, NULL);
  ierr = AzTrainerTrain(tr);
  PetscPopErrorHandler();
  ck_assert_msg(ierr && strstr(last_error, "stopped in a stage of type lbfgs; stage 1 is now gn"), "%s", last_error);
  AzTrainerDestroy(&tr);
  MPI_Barrier(PETSC_COMM_WORLD); /* every rank is done with the file */
  if (!rank) unlink(ck);
  PetscOptionsClearValue(NULL, "-az_restart");
  PetscOptionsClearValue(NULL, "-az_trainer_type");
  PetscOptionsClearValue(NULL, "-az_trainer_max_it");
  PetscOptionsClearValue(NULL, "-az_quiet");
  FreeSetup(&s);
}
END_TEST

/* Options under a prefix (PETSc's options-prefix pattern, e.g. compare's s2_): an object reading
 * -az_X under prefix P takes -Paz_X, else the global -az_X, else its default; the strict checks name
 * the option actually read; a misspelled prefixed option is refused with the closest name; a global
 * -az_X that every prefixed reader had its own value for still counts as used. */
typedef struct {
  PetscInt  n, arr[4], narr;
  PetscReal x;
  PetscBool b;
  char      s[32];
  PetscEnum e;
} OptTest;

static PetscErrorCode ReadOptTest(const char prefix[], OptTest *o)
{
  const char *const colours[] = {"red", "green", "blue", "OptTestColour", "OPTTEST_", NULL};

  PetscFunctionBeginUser;
  o->n = 1, o->x = 0.5, o->b = PETSC_FALSE, o->e = (PetscEnum)0, o->narr = 4;
  o->arr[0] = o->arr[1] = o->arr[2] = o->arr[3] = -1;
  PetscCall(PetscStrncpy(o->s, "none", sizeof o->s));
  PetscOptionsBegin(PETSC_COMM_WORLD, prefix, "prefix test", NULL);
  PetscCall(PetscOptionsInt("-az_optest_n", "n", NULL, o->n, &o->n, NULL));
  PetscCall(PetscOptionsReal("-az_optest_x", "x", NULL, o->x, &o->x, NULL));
  PetscCall(PetscOptionsBool("-az_optest_b", "b", NULL, o->b, &o->b, NULL));
  PetscCall(PetscOptionsString("-az_optest_s", "s", NULL, o->s, o->s, sizeof o->s, NULL));
  PetscCall(PetscOptionsEnum("-az_optest_e", "e", NULL, colours, o->e, &o->e, NULL));
  PetscCall(PetscOptionsIntArray("-az_optest_arr", "arr", NULL, o->arr, &o->narr, NULL));
  PetscOptionsEnd();
  PetscFunctionReturn(PETSC_SUCCESS);
}

START_TEST(test_options_prefix)
{
  OptTest        o;
  PetscInt       g;
  PetscBool      set;
  PetscErrorCode ierr;

  /* defaults: nothing given */
  ck_assert_int_eq(ReadOptTest("t1_", &o), 0);
  ck_assert(o.n == 1 && o.x == 0.5 && !o.b && !strcmp(o.s, "none") && o.e == 0 && o.narr == 0);
  /* the global options reach a prefixed reader (fallback) */
  PetscOptionsSetValue(NULL, "-az_optest_n", "5");
  PetscOptionsSetValue(NULL, "-az_optest_x", "2.5");
  PetscOptionsSetValue(NULL, "-az_optest_b", NULL);
  PetscOptionsSetValue(NULL, "-az_optest_s", "global");
  PetscOptionsSetValue(NULL, "-az_optest_e", "blue");
  PetscOptionsSetValue(NULL, "-az_optest_arr", "7,8");
  ck_assert_int_eq(ReadOptTest("t1_", &o), 0);
  ck_assert_msg(o.n == 5 && o.x == 2.5 && o.b && !strcmp(o.s, "global") && o.e == 2 && o.narr == 2 && o.arr[0] == 7 && o.arr[1] == 8, "fallback: n %d x %g b %d s %s e %d narr %d", (int)o.n, (double)o.x, (int)o.b, o.s, (int)o.e, (int)o.narr);
  /* a prefixed option wins for its prefix only */
  PetscOptionsSetValue(NULL, "-t1_az_optest_n", "9");
  PetscOptionsSetValue(NULL, "-t1_az_optest_x", "-1");
  PetscOptionsSetValue(NULL, "-t1_az_optest_b", "false");
  PetscOptionsSetValue(NULL, "-t1_az_optest_s", "mine");
  PetscOptionsSetValue(NULL, "-t1_az_optest_e", "green");
  PetscOptionsSetValue(NULL, "-t1_az_optest_arr", "3");
  ck_assert_int_eq(ReadOptTest("t1_", &o), 0);
  ck_assert_msg(o.n == 9 && o.x == -1 && !o.b && !strcmp(o.s, "mine") && o.e == 1 && o.narr == 1 && o.arr[0] == 3, "precedence: n %d x %g b %d s %s e %d narr %d", (int)o.n, (double)o.x, (int)o.b, o.s, (int)o.e, (int)o.narr);
  ck_assert_int_eq(ReadOptTest("t2_", &o), 0);
  ck_assert(o.n == 5 && o.x == 2.5 && o.b && !strcmp(o.s, "global") && o.e == 2 && o.narr == 2);
  ck_assert_int_eq(ReadOptTest(NULL, &o), 0);
  ck_assert(o.n == 5 && !strcmp(o.s, "global"));
  /* the same through PetscOptionsGet* (AzOptionsGet*) */
  ck_assert_int_eq(PetscOptionsGetInt(NULL, "t2_", "-az_optest_n", &g, &set), 0);
  ck_assert(set && g == 5);
  ck_assert_int_eq(PetscOptionsGetInt(NULL, "t1_", "-az_optest_n", &g, &set), 0);
  ck_assert(set && g == 9);
  /* the checks name the option actually read: the prefixed one, or the global one it fell back to */
  PetscOptionsSetValue(NULL, "-t1_az_optest_n", "99999999999");
  PetscPushErrorHandler(CaptureError, NULL);
  ierr = ReadOptTest("t1_", &o);
  PetscPopErrorHandler();
  ck_assert_msg(ierr && strstr(last_error, "-t1_az_optest_n: 99999999999 does not fit"), "%s", last_error);
  PetscOptionsClearValue(NULL, "-t1_az_optest_n");
  PetscOptionsSetValue(NULL, "-az_optest_x", "inf");
  PetscPushErrorHandler(CaptureError, NULL);
  ierr = ReadOptTest("t2_", &o);
  PetscPopErrorHandler();
  ck_assert_msg(ierr && strstr(last_error, "Option -az_optest_x: inf is not a finite number"), "%s", last_error);
  PetscOptionsSetValue(NULL, "-az_optest_x", "2.5");
  PetscOptionsSetValue(NULL, "-az_optest_s", NULL);
  PetscPushErrorHandler(CaptureError, NULL);
  ierr = PetscOptionsGetString(NULL, "t2_", "-az_optest_s", o.s, sizeof o.s, &set);
  PetscPopErrorHandler();
  ck_assert_msg(ierr && strstr(last_error, "Option -az_optest_s needs a value"), "%s", last_error);
  PetscOptionsSetValue(NULL, "-az_optest_s", "global");
  /* a misspelled prefixed option is refused with the closest name; the global -az_optest_y that the
   * only reader (under t1_) had its own value for is not */
  PetscOptionsSetValue(NULL, "-az_optest_y", "1");
  PetscOptionsSetValue(NULL, "-t1_az_optest_y", "2");
  ck_assert_int_eq(PetscOptionsGetInt(NULL, "t1_", "-az_optest_y", &g, &set), 0);
  ck_assert(set && g == 2);
  PetscOptionsSetValue(NULL, "-t2_az_optset_x", "1");
  PetscPushErrorHandler(CaptureError, NULL);
  ierr = AzOptionsCheckUnused(PETSC_COMM_WORLD);
  PetscPopErrorHandler();
  ck_assert_msg(ierr && strstr(last_error, "-t2_az_optset_x (did you mean -t2_az_optest_x?)"), "%s", last_error);
  ck_assert_msg(!strstr(last_error, "  -az_optest_y"), "%s", last_error);
  {
    const char *all[] = {"-az_optest_n", "-az_optest_x", "-az_optest_b", "-az_optest_s", "-az_optest_e", "-az_optest_arr", "-az_optest_y", "-t1_az_optest_x", "-t1_az_optest_b", "-t1_az_optest_s", "-t1_az_optest_e", "-t1_az_optest_arr", "-t1_az_optest_y", "-t2_az_optset_x"};
    for (size_t k = 0; k < sizeof all / sizeof all[0]; k++) PetscOptionsClearValue(NULL, all[k]);
  }
}
END_TEST

/* Dense JᵀJ is summed over groups of points by pre-rounding (src/loss/fold.c): the sum of the folded
 * group matrices must not depend on the order in which groups are folded or on how they are split over
 * ranks (accumulators added afterwards), bit for bit, and each group entry is rounded once, by at most
 * 2^-49 √(D_i D_j). Columns span 16 orders of magnitude, one column is zero. */
START_TEST(test_fold_order_free)
{
  enum { P = 7, G = 12, NR = 9, NPK = P * (P + 1) / 2 };
  static double S[G][P * P], J[NR * P];
  double        D[P] = {0}, m[P], acc[3][NPK], scale[P] = {1e-8, 1, 3e7, 0, 1e8, 2e-3, 5.5};
  long double   exact[NPK] = {0};
  unsigned      seed = 12345;
  const int     order[3][G] = {{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, {11, 3, 7, 0, 9, 1, 5, 10, 2, 8, 4, 6}, {6, 7, 8, 9, 10, 11, 0, 1, 2, 3, 4, 5}};

  for (int g = 0; g < G; g++) {
    for (int k = 0; k < NR * P; k++) {
      seed = seed * 1103515245u + 12345u;
      J[k] = ((double)(seed >> 8) / (1 << 24) - 0.5) * scale[k % P] * (1 + g % 5);
    }
    for (int j = 0; j < P; j++)
      for (int i = 0; i <= j; i++) {
        double s = 0;
        for (int n = 0; n < NR; n++) s += J[n * P + i] * J[n * P + j];
        S[g][i + j * P] = s;
        exact[j * (j + 1) / 2 + i] += (long double)s;
      }
    for (int i = 0; i < P; i++) D[i] += S[g][i + i * P];
  }
  AzFoldScales(P, D, m);
  memset(acc, 0, sizeof acc);
  /* order 0: one rank, in order; 1: one rank, shuffled; 2: two "ranks" of 6 groups each, then added */
  for (int o = 0; o < 2; o++)
    for (int k = 0; k < G; k++) AzFoldUpper(P, m, S[order[o][k]], acc[o]);
  { /* each "rank" folds its groups into its own accumulator */
    double a2[2][NPK];
    memset(a2, 0, sizeof a2);
    for (int k = 0; k < G; k++) AzFoldUpper(P, m, S[order[2][k]], a2[k < G / 2 ? 0 : 1]);
    for (int q = 0; q < NPK; q++) acc[2][q] = a2[1][q] + a2[0][q]; /* what MPI_SUM does with two ranks' accumulators */
  }
  ck_assert_msg(memcmp(acc[0], acc[1], sizeof acc[0]) == 0, "folded sum depends on the order of the groups");
  ck_assert_msg(memcmp(acc[0], acc[2], sizeof acc[0]) == 0, "folded sum depends on the split of the groups over ranks");
  for (int j = 0; j < P; j++)
    for (int i = 0; i <= j; i++) {
      const int    q   = j * (j + 1) / 2 + i;
      const double err = fabs((double)((long double)acc[0][q] - exact[q]));
      if (D[i] == 0 || D[j] == 0) ck_assert_msg(acc[0][q] == 0, "entry (%d,%d) of a zero column is %g", i, j, acc[0][q]);
      ck_assert_msg(err <= G * 0x1p-49 * sqrt(D[i] * D[j]), "entry (%d,%d): %.17g, exact %.17Lg", i, j, acc[0][q], exact[q]);
    }
}
END_TEST


/* ---- resampling of the PDE's collocation set ------------------------------------------------------ */

/* every entry of a distributed Vec on every rank, in global order */
static PetscReal *GatherAll(Vec x, PetscInt *N)
{
  Vec                seq;
  VecScatter         sc;
  const PetscScalar *a;
  PetscReal         *all;

  ck_assert_int_eq(VecScatterCreateToAll(x, &sc, &seq), 0);
  VecScatterBegin(sc, x, seq, INSERT_VALUES, SCATTER_FORWARD);
  VecScatterEnd(sc, x, seq, INSERT_VALUES, SCATTER_FORWARD);
  VecGetSize(seq, N);
  all = (PetscReal *)malloc(sizeof(PetscReal) * (size_t)(*N > 0 ? *N : 1));
  VecGetArrayRead(seq, &a);
  for (PetscInt i = 0; i < *N; i++) all[i] = PetscRealPart(a[i]);
  VecRestoreArrayRead(seq, &a);
  VecScatterDestroy(&sc);
  VecDestroy(&seq);
  return all;
}

/* whether cond holds on every rank (an assertion that fails on one rank only would leave the others
 * waiting in the next collective) */
static int AllRanks(int cond)
{
  int all;
  MPI_Allreduce(&cond, &all, 1, MPI_INT, MPI_LAND, PETSC_COMM_WORLD);
  return all;
}

/* a loss of heat1d (2 × 8 tanh) with the resampling options opts (name, value pairs, NULL-ended) */
static void MakeResampleSetup(MPI_Comm comm, const char *const opts[], PetscInt nint, Setup *s)
{
  for (PetscInt i = 0; opts[i]; i += 2) PetscOptionsSetValue(NULL, opts[i], opts[i + 1]);
  MakeSetup(comm, "heat1d", 2, 8, nint, s);
  for (PetscInt i = 0; opts[i]; i += 2) PetscOptionsClearValue(NULL, opts[i]);
}

/* RAR-D's density (Wu et al. 2023) on planted residual norms: p_i = w_i/Σw, w_i = ε_i^k/mean(ε^k) + c,
 * for the RAR-D default (k 2, c 0), RAD's (1, 1), k 0 (uniform) and all ε zero (uniform); and the
 * draw without replacement: m distinct indices in increasing order, and with m = 1 over 20000 rounds
 * each index drawn with frequency p_i (binomial standard deviation ≤ 0.0036; tolerance 0.015). */
START_TEST(test_resample_density)
{
  const PetscReal eps[5] = {0.5, 2, 0, 1, 3}, zero[5] = {0, 0, 0, 0, 0};
  const PetscReal kc[4][2] = {{2, 0}, {1, 1}, {0, 0}, {1.5, 0.25}};
  PetscReal       p[5], want[5];
  PetscInt        idx[5], count[5] = {0, 0, 0, 0, 0};

  for (int q = 0; q < 4; q++) {
    PetscReal mean = 0, sum = 0;
    for (int i = 0; i < 5; i++) mean += pow(eps[i], kc[q][0]) / 5;
    for (int i = 0; i < 5; i++) sum += want[i] = pow(eps[i], kc[q][0]) / mean + kc[q][1];
    OK(AzResampleDensity(5, eps, kc[q][0], kc[q][1], p));
    for (int i = 0; i < 5; i++) ck_assert_msg(PetscAbsReal(p[i] - want[i] / sum) <= 1e-15, "k %g c %g: p[%d] = %.17g, formula %.17g", (double)kc[q][0], (double)kc[q][1], i, (double)p[i], (double)(want[i] / sum));
  }
  OK(AzResampleDensity(5, zero, 2, 0, p));
  for (int i = 0; i < 5; i++) ck_assert_msg(PetscAbsReal(p[i] - 0.2) <= 1e-15, "all residuals 0: p[%d] = %g, not uniform", i, (double)p[i]);
  OK(AzResampleDensity(5, eps, 1, 0.5, p));
  OK(AzResampleSelect(5, p, 3, 7, 1, idx));
  ck_assert_msg(idx[0] < idx[1] && idx[1] < idx[2] && idx[0] >= 0 && idx[2] < 5, "three distinct indices in order: %d %d %d", (int)idx[0], (int)idx[1], (int)idx[2]);
  for (PetscInt r = 0; r < 20000; r++) {
    OK(AzResampleSelect(5, p, 1, 7, r, idx));
    count[idx[0]]++;
  }
  for (int i = 0; i < 5; i++) ck_assert_msg(PetscAbsReal(count[i] / 20000.0 - p[i]) < 0.015, "index %d drawn with frequency %g; the density gives %g", i, count[i] / 20000.0, (double)p[i]);
  /* a zero density is never drawn while others are left */
  {
    const PetscReal pz[4] = {0.5, 0, 0.5, 0};
    OK(AzResampleSelect(4, pz, 2, 3, 9, idx));
    ck_assert(idx[0] == 0 && idx[1] == 2);
  }
}
END_TEST

/* R3 (Daw et al. 2023): a round keeps exactly the points whose |r| exceeds the set's mean |r|, in their
 * order, then as many fresh points as were released: the set's size does not change. RAR-D adds
 * -az_resample_add points per round until -az_resample_max. On every rank count (this suite also runs
 * under mpiexec) against the mean over all points. */
START_TEST(test_resample_r3_retain)
{
  const char *const opts[] = {"-az_resample", "r3", "-az_resample_every", "5", NULL};
  Setup             s;
  Vec               xv, nv;
  PetscReal        *x0, *eps, *x1, mean = 0;
  PetscInt          n, N0, N1, kept = 0, npde, nres;

  MakeResampleSetup(PETSC_COMM_WORLD, opts, 101, &s);
  Train(&s, "adam", "3", NULL, NULL); /* a field that is not the initial one; no round before iteration 5 */
  OK(AzLossGetTermPoints(s.loss, 0, &xv));
  x0 = GatherAll(xv, &N0);
  OK(AzLossGetTermResidualNorms(s.loss, 0, &nv));
  eps = GatherAll(nv, &n);
  VecDestroy(&nv);
  ck_assert_int_eq(n, 101);
  ck_assert_int_eq(N0, 2 * n);
  for (PetscInt i = 0; i < n; i++) mean += eps[i] / n;
  OK(AzLossUpdateConstraints(s.loss, 4, 100)); /* not due */
  OK(AzLossGetResample(s.loss, NULL, NULL, &npde, &nres));
  ck_assert_int_eq(nres, 0);
  OK(AzLossUpdateConstraints(s.loss, 5, 100));
  OK(AzLossGetTermPoints(s.loss, 0, &xv));
  x1 = GatherAll(xv, &N1);
  ck_assert_msg(N1 == N0, "R3 changed the set's size: %d -> %d coordinates", (int)N0, (int)N1);
  {
    int good = 1, first = -1;
    for (PetscInt i = 0; i < n; i++)
      if (eps[i] > mean) {
        if (!(x1[2 * kept] == x0[2 * i] && x1[2 * kept + 1] == x0[2 * i + 1]) && first < 0) first = (int)i;
        kept++;
      }
    for (PetscInt j = kept; j < n; j++) /* the released points are not kept among the fresh ones */
      for (PetscInt i = 0; i < n; i++)
        if (eps[i] <= mean && x1[2 * j] == x0[2 * i] && x1[2 * j + 1] == x0[2 * i + 1]) good = 0;
    good = AllRanks(good && first < 0);
    ck_assert_msg(good, "the retained points are not exactly the old points with |r| > mean |r| = %g, in order (first wrong: old point %d)", (double)mean, first);
  }
  ck_assert_msg(kept > 0 && kept < n, "%d of %d points above the mean", (int)kept, (int)n);
  OK(AzLossGetResample(s.loss, NULL, NULL, &npde, &nres));
  ck_assert_msg(AllRanks(npde == n && nres == n - kept), "after an R3 round: %d points, %d resampled (want %d, %d)", (int)npde, (int)nres, (int)n, (int)(n - kept));
  free(x0), free(x1), free(eps);
  FreeSetup(&s);
  { /* RAR-D grows the set by -az_resample_add per round up to -az_resample_max */
    const char *const ropts[] = {"-az_resample", "rard", "-az_resample_every", "2", "-az_resample_add", "7", "-az_resample_max", "80", "-az_resample_pool", "300", NULL};
    MakeResampleSetup(PETSC_COMM_WORLD, ropts, 64, &s);
    OK(AzLossUpdateConstraints(s.loss, 2, 100));
    OK(AzLossGetResample(s.loss, NULL, NULL, &npde, &nres));
    ck_assert_int_eq(npde, 71);
    for (PetscInt it = 3; it <= 10; it++) OK(AzLossUpdateConstraints(s.loss, it, 100));
    OK(AzLossGetResample(s.loss, NULL, NULL, &npde, &nres));
    ck_assert_msg(npde == 80 && nres == 16, "after rounds at 2, 4, 6, 8, 10: %d points, %d added (want 80, 16: capped by -az_resample_max)", (int)npde, (int)nres);
    FreeSetup(&s);
  }
}
END_TEST

/* Training with resampling gives the same point sets and parameters on all ranks as on one rank
 * (bit for bit: pools by global index, selections from values gathered in global order), for R3,
 * RAR-D and RAD with Adam, L-BFGS and Gauss-Newton; and the set did change. */
START_TEST(test_resample_mpi_agreement)
{
  const char *methods[] = {"r3", "rard", "rad"};
  for (int m = 0; m < 3; m++) {
    const char *const opts[] = {"-az_resample", methods[m], "-az_resample_every", "6", "-az_resample_pool", "400", NULL};
    const char *const r3[]   = {"-az_resample", methods[m], "-az_resample_every", "6", NULL};
    Setup             w, s;
    Vec               tw, ts, xw, xs;
    PetscReal        *pw, *ps;
    PetscInt          nw, ns, nres;

    MakeResampleSetup(PETSC_COMM_WORLD, m ? opts : r3, 64, &w);
    MakeResampleSetup(PETSC_COMM_SELF, m ? opts : r3, 64, &s);
    Train(&w, "adam,lbfgs,gn", "14,10,3", NULL, NULL);
    Train(&s, "adam,lbfgs,gn", "14,10,3", NULL, NULL);
    OK(AzLossGetTermPoints(w.loss, 0, &xw));
    OK(AzLossGetTermPoints(s.loss, 0, &xs));
    pw = GatherAll(xw, &nw);
    ps = GatherAll(xs, &ns);
    ck_assert_msg(AllRanks(nw == ns && !memcmp(pw, ps, sizeof(PetscReal) * (size_t)PetscMin(nw, ns))), "%s: the point sets differ between all ranks (%d coordinates) and one (%d)", methods[m], (int)nw, (int)ns);
    OK(AzLossGetResample(w.loss, NULL, NULL, NULL, &nres));
    ck_assert_msg(nres > 0, "%s: nothing was resampled", methods[m]);
    AzFieldGetParameters(w.field, &tw);
    AzFieldGetParameters(s.field, &ts);
    {
      const PetscScalar *a, *b;
      PetscInt           P;
      VecGetLocalSize(tw, &P);
      VecGetArrayRead(tw, &a);
      VecGetArrayRead(ts, &b);
      const int same = !memcmp(a, b, sizeof(PetscScalar) * (size_t)P);
      VecRestoreArrayRead(tw, &a);
      VecRestoreArrayRead(ts, &b);
      ck_assert_msg(AllRanks(same), "%s: trained parameters differ between all ranks and one", methods[m]);
    }
    free(pw), free(ps);
    FreeSetup(&w);
    FreeSetup(&s);
  }
}
END_TEST

/* Bad resampling options are refused with a message naming the option and what is allowed. */
START_TEST(test_resample_bad_options)
{
  const char *bad[][5] = {
    {"-az_resample", "rarg", NULL, NULL, "none rard rad r3"},
    {"-az_resample_every", "10", NULL, NULL, "resampling is off: add -az_resample rard, rad or r3"},
    {"-az_resample", "r3", "-az_resample_every", "0", "-az_resample_every must be between 1 and"},
    {"-az_resample", "r3", "-az_resample_k", "2", "-az_resample_k does not apply to -az_resample r3"},
    {"-az_resample", "rad", "-az_resample_add", "5", "-az_resample_add does not apply to -az_resample rad"},
    {"-az_resample", "rad", "-az_resample_pool", "10", "-az_resample_pool 10 must be at least that"},
    {"-az_resample", "rard", "-az_resample_k", "nan", "-az_resample_k"},
    {"-az_resample", "rard", "-az_resample_c", "-1", "-az_resample_c must be finite and non-negative"},
    {"-az_resample", "rard", "-az_resample_max", "10", "-az_resample_max must be between -az_n_interior (64)"},
    {"-az_resample", "rard", "-az_resample_add", "0", "-az_resample_add must be between 1 and"},
  };
  for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
    AzProblem      prob = LoadProblem("heat1d");
    AzField        field;
    AzLoss         loss;
    PetscErrorCode ierr;
    PetscInt       ncoord;
    AzProblemGetNumCoords(prob, &ncoord);
    OK(AzFieldCreate(PETSC_COMM_WORLD, &field));
    AzFieldSetDimensions(field, ncoord, 1);
    OK(AzLossCreate(prob, field, &loss));
    PetscOptionsSetValue(NULL, "-az_n_interior", "64");
    PetscOptionsSetValue(NULL, bad[k][0], bad[k][1]);
    if (bad[k][2]) PetscOptionsSetValue(NULL, bad[k][2], bad[k][3]);
    last_error[0] = 0;
    PetscPushErrorHandler(CaptureError, NULL);
    ierr = AzLossSetFromOptions(loss);
    PetscPopErrorHandler();
    PetscOptionsClearValue(NULL, "-az_n_interior");
    PetscOptionsClearValue(NULL, bad[k][0]);
    if (bad[k][2]) PetscOptionsClearValue(NULL, bad[k][2]);
    ck_assert_msg(ierr != 0 && strstr(last_error, bad[k][4]), "%s %s %s %s: '%s'", bad[k][0], bad[k][1], bad[k][2] ? bad[k][2] : "", bad[k][3] ? bad[k][3] : "", last_error);
    AzLossDestroy(&loss);
    AzFieldDestroy(&field);
    AzProblemDestroy(&prob);
  }
  { /* a grid rounds 1000 points up to 32² = 1024: RAD's pool of 1000 cannot give as many distinct points */
    const char *const opts[] = {"-az_sampler", "grid", "-az_resample", "rad", "-az_resample_pool", "1000", NULL};
    AzProblem         prob = LoadProblem("heat1d");
    AzField           field;
    AzLoss            loss;
    PetscErrorCode    ierr;
    AzFieldCreate(PETSC_COMM_WORLD, &field);
    AzFieldSetDimensions(field, 2, 1);
    AzFieldSetArchitecture(field, 1, 4, AZ_ACT_TANH);
    OK(AzFieldSetUp(field));
    OK(AzLossCreate(prob, field, &loss));
    PetscOptionsSetValue(NULL, "-az_n_interior", "1000");
    for (int i = 0; opts[i]; i += 2) PetscOptionsSetValue(NULL, opts[i], opts[i + 1]);
    OK(AzLossSetFromOptions(loss));
    last_error[0] = 0;
    PetscPushErrorHandler(CaptureError, NULL);
    ierr = AzLossSetUp(loss);
    PetscPopErrorHandler();
    PetscOptionsClearValue(NULL, "-az_n_interior");
    for (int i = 0; opts[i]; i += 2) PetscOptionsClearValue(NULL, opts[i]);
    ck_assert_msg(ierr != 0 && strstr(last_error, "(1024 points") && strstr(last_error, "-az_resample_pool 1000 must be at least that"), "'%s'", last_error);
    AzLossDestroy(&loss);
    AzFieldDestroy(&field);
    AzProblemDestroy(&prob);
  }
}
END_TEST


/* compare's paired verdict (-az_repeats): A beats B only when a[i] < b[i] in at least 80% of the seeds
 * where both are finite, with the median of a[i]/b[i]; otherwise within seed-to-seed spread */
START_TEST(test_compare_verdict)
{
  const PetscReal b[5]     = {1e-3, 2e-3, 4e-3, 1e-3, 3e-3};
  const PetscReal half[5]  = {5e-4, 1e-3, 2e-3, 5e-4, 1.5e-3};     /* a clear win: half of b at every seed */
  const PetscReal four[5]  = {5e-4, 1e-3, 2e-3, 5e-4, 6e-3};       /* better at 4 of 5 seeds: exactly 80% */
  const PetscReal three[5] = {5e-4, 1e-3, 2e-3, 2e-3, 6e-3};       /* better at 3 of 5: within spread */
  const PetscReal gap[5]   = {5e-4, NAN, 2e-3, 5e-4, 1.5e-3};      /* a failed run: its seed is no pair */
  AzVerdict       v;

  AzCompareVerdict(5, half, b, &v);
  ck_assert_msg(v.kind == AZ_VERDICT_A && v.pairs == 5 && v.a_better == 5 && v.b_better == 0, "clear win: kind %d, %d of %d", (int)v.kind, (int)v.a_better, (int)v.pairs);
  ck_assert_msg(fabs(v.ratio - 0.5) < 1e-15, "clear win: median ratio %g, expected 0.5", (double)v.ratio);
  AzCompareVerdict(5, b, half, &v); /* the same the other way round */
  ck_assert_msg(v.kind == AZ_VERDICT_B && v.b_better == 5 && fabs(v.ratio - 2) < 1e-14, "clear loss: kind %d, ratio %g", (int)v.kind, (double)v.ratio);
  AzCompareVerdict(5, four, b, &v);
  ck_assert_msg(v.kind == AZ_VERDICT_A && v.a_better == 4, "4 of 5 (80%%) is a win: kind %d", (int)v.kind);
  AzCompareVerdict(5, three, b, &v);
  ck_assert_msg(v.kind == AZ_VERDICT_SPREAD && v.a_better == 3 && v.b_better == 2, "3 of 5 is within spread: kind %d, %d/%d", (int)v.kind, (int)v.a_better, (int)v.b_better);
  ck_assert_msg(fabs(v.ratio - 0.5) < 1e-15, "3 of 5: median ratio %g (ratios 0.5 0.5 0.5 2 2)", (double)v.ratio);
  AzCompareVerdict(5, b, b, &v); /* a tie at every seed: neither is better */
  ck_assert_msg(v.kind == AZ_VERDICT_SPREAD && v.a_better == 0 && v.b_better == 0 && v.ratio == 1, "tie: kind %d, ratio %g", (int)v.kind, (double)v.ratio);
  AzCompareVerdict(5, gap, b, &v);
  ck_assert_msg(v.pairs == 4 && v.a_better == 4 && v.kind == AZ_VERDICT_A, "a missing seed: %d pairs, kind %d", (int)v.pairs, (int)v.kind);
  AzCompareVerdict(1, half, b, &v); /* one seed is no verdict */
  ck_assert_msg(v.kind == AZ_VERDICT_NONE && v.pairs == 1, "one seed: kind %d", (int)v.kind);
}
END_TEST

/* statistics over repeats: of the finite values only; the sample standard deviation */
START_TEST(test_compare_statistics)
{
  const PetscReal v[5] = {3, 1, 2, NAN, 10};
  AzCompareStats  s;

  AzCompareStatistics(5, v, &s);
  ck_assert_msg(s.count == 4 && s.median == 2.5 && s.min == 1 && s.max == 10 && s.mean == 4, "stats: count %d median %g min %g max %g mean %g", (int)s.count, (double)s.median, (double)s.min, (double)s.max, (double)s.mean);
  ck_assert_msg(fabs(s.std - sqrt(50.0 / 3)) < 1e-14, "std %g, expected sqrt(50/3)", (double)s.std);
  AzCompareStatistics(3, v, &s); /* odd count: the middle value */
  ck_assert_msg(s.median == 2 && s.std == 1, "odd count: median %g std %g", (double)s.median, (double)s.std);
  AzCompareStatistics(1, v + 3, &s);
  ck_assert_msg(s.count == 0 && PetscIsInfOrNanReal(s.median), "no finite value: count %d", (int)s.count);
}
END_TEST

static Suite *TrainSuite(void)
{
  Suite *s = suite_create("train");
  TCase *t = tcase_create("sampler");
  tcase_add_test(t, test_sampler_rank_independent);
  tcase_add_test(t, test_sampler_lhs_strata);
  tcase_add_test(t, test_sampler_qmc_accuracy);
  tcase_add_test(t, test_sampler_faces);
  suite_add_tcase(s, t);
  t = tcase_create("loss");
  tcase_add_test(t, test_loss_gradient_fd);
  tcase_add_test(t, test_loss_normal_equations);
  tcase_add_test(t, test_loss_matrix_free_gn);
  tcase_add_test(t, test_loss_mpi_agreement);
  tcase_add_test(t, test_fold_order_free);
  tcase_add_test(t, test_data_term);
  tcase_add_test(t, test_data_errors);
  tcase_add_test(t, test_loss_no_leak);
  suite_add_tcase(s, t);
  t = tcase_create("trainer");
  tcase_set_timeout(t, 120);
  tcase_add_test(t, test_optimisers_reduce_loss);
  tcase_add_test(t, test_arch_training);
  tcase_add_test(t, test_training_mpi_agreement);
  tcase_add_test(t, test_checkpoint_restart);
  tcase_add_test(t, test_checkpoint_restart_lbfgs);
  tcase_add_test(t, test_checkpoint_restart_bfgs);
  tcase_add_test(t, test_bfgs_reduces_loss);
  tcase_add_test(t, test_bfgs_mpi_agreement);
  tcase_add_test(t, test_bfgs_refuses_large);
  tcase_add_test(t, test_bfgs_nan_stop);
  tcase_add_test(t, test_hostile_files);
  tcase_add_test(t, test_nan_detected);
  tcase_add_test(t, test_bad_trainer_options);
  tcase_add_test(t, test_options_prefix);
  tcase_add_test(t, test_trainer_registry_prefix);
  tcase_add_test(t, test_nonfinite_jacobian);
  tcase_add_test(t, test_gn_nystrom_step);
  tcase_add_test(t, test_adam_max_failures);
  tcase_add_test(t, test_history_one_state);
  tcase_add_test(t, test_eta);
  suite_add_tcase(s, t);
  t = tcase_create("resample");
  tcase_set_timeout(t, 120);
  tcase_add_test(t, test_resample_density);
  tcase_add_test(t, test_resample_r3_retain);
  tcase_add_test(t, test_resample_mpi_agreement);
  tcase_add_test(t, test_resample_bad_options);
  suite_add_tcase(s, t);
  t = tcase_create("compare");
  tcase_add_test(t, test_compare_verdict);
  tcase_add_test(t, test_compare_statistics);
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
  sr = srunner_create(TrainSuite());
  srunner_set_fork_status(sr, CK_NOFORK);
  srunner_run_all(sr, CK_NORMAL);
  failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  PetscCall(PetscCommDestroy(&pinned));
  PetscCall(PetscFinalize());
  return failed ? 1 : 0;
}
