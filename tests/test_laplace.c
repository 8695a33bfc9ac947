/* The Laplace approximation (laplace.h) against brute force on tiny problems:
 *  - the covariance Σ = s² (JᵀJ + λI)⁻¹, JᵀJ built here from AzLossResidualJacobian's rows and inverted
 *    by Gauss–Jordan elimination, entry by entry to 1e-10 (relative to the largest entry);
 *  - σ² on constructed residuals: with data, σ² = Σ_data r² / (m_d − γ_d), γ_d = tr((JᵀJ + λI)⁻¹ J_dᵀJ_d)
 *    and s² = (w_d/m_d) σ² (the data rows are ρ = √(w_d/m_d) r); on the data alone with λ = 0 the
 *    textbook least-squares estimate RSS/(m − P) exactly; without data σ² = s² = loss/(N − γ),
 *    γ = tr((JᵀJ + λI)⁻¹ JᵀJ); the default λ = 1e-8 trace(JᵀJ)/P;
 *  - the field's standard deviation s ‖L⁻¹ g‖ = s √(gᵀ(JᵀJ + λI)⁻¹g) with g = ∂u_c(x)/∂θ by central
 *    differences of the solution in θ (through the chain of maps: a hard transform, a stream function;
 *    two and three components);
 *  - the same numbers on the world communicator (1 or 2 ranks) and on one rank alone;
 *  - refusals: too many parameters, interpolated data, a negative λ, a projection in the chain;
 *  - ProbConserv (AzLossProbConserv), joint: the θ-space update against the function-space formula with
 *    Σ = J_u Σθ J_uᵀ formed densely (mean and std), G μ̃ = b to 1e-12 with σ_c = 0, μ unchanged as
 *    σ_c → ∞, the orthogonal projection when Σθ ∝ I, and its refusals; pertime: each time's update
 *    against Σ_t formed densely at that time, exact at times it was not computed for, its jets.
 * Runs on any number of ranks. */
#include <ansatz.h>
#include <check.h>
#include "azcheck.h"
#include <math.h>
#include <unistd.h>

typedef struct {
  AzProblem prob;
  AzField   field;
  AzLoss    loss;
  PetscInt  P;
} Setup;

/* a tiny network and tiny sets: P = 17 for heat1d (2 inputs, width 4, 1 output) */
static const Opt base[] = {
  {"-az_field_depth", "1"},
  {"-az_field_width", "4"},
  {"-az_field_seed", "3"},
  {"-az_n_interior", "12"},
  {"-az_n_boundary", "3"},
  {"-az_n_initial", "5"},
  {"-az_loss_chunk", "5"},
  {"-az_loss_groups", "4"},
  {NULL, NULL},
};

#define NOBS 20
static char datadir[PETSC_MAX_PATH_LEN], datafile[PETSC_MAX_PATH_LEN];
static int  nobs = NOBS;

/* nobs observations of heat1d's exact solution with a deterministic perturbation, inside [0,1]² */
static void WriteData(void)
{
  double *rows = malloc(sizeof(double) * 3 * nobs);
  ck_assert(rows != NULL);
  for (int i = 0; i < nobs; i++) {
    const double x = 0.05 + 0.9 * ((i * 0.61803398875) - (int)(i * 0.61803398875));
    const double t = 0.05 + 0.9 * ((i * 0.41421356237) - (int)(i * 0.41421356237));
    rows[i * 3 + 0] = x;
    rows[i * 3 + 1] = t;
    rows[i * 3 + 2] = sin(M_PI * x) * exp(-0.1 * M_PI * M_PI * t) + 0.05 * sin(7.0 * i);
  }
  WriteRowsCSV("laplace", "x,t,u", nobs, 3, rows, datadir, datafile);
  free(rows);
}

static void RemoveData(void)
{
  RemoveRowsCSV(datadir, datafile);
  nobs = NOBS;
}

static PetscErrorCode Build(MPI_Comm comm, const char *problem, Setup *s)
{
  PetscFunctionBegin;
  PetscCall(AzProblemLoad(comm, problem, &s->prob));
  PetscCall(AzProblemSetFromOptions(s->prob));
  PetscCall(AzRunCreateField(s->prob, &s->field));
  PetscCall(AzFieldGetNumParameters(s->field, &s->P));
  PetscCall(AzLossCreate(s->prob, s->field, &s->loss));
  PetscCall(AzLossSetFromOptions(s->loss));
  PetscCall(AzLossSetUp(s->loss));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* problem, loss and the Laplace approximation under the base options and opts (kept until Done) */
static PetscErrorCode Make(MPI_Comm comm, const char *problem, const Opt *opts, Setup *s, AzLaplace *lap)
{
  PetscErrorCode ierr;

  memset(s, 0, sizeof *s);
  *lap = NULL;
  SetOpts(NULL, base);
  SetOpts(NULL, opts);
  ierr = Build(comm, problem, s);
  if (!ierr) ierr = AzLaplaceCreate(s->loss, lap);
  ClearOpts(NULL, base);
  ClearOpts(NULL, opts);
  if (ierr) FreeSetup(s);
  return ierr;
}

static void Done(Setup *s, AzLaplace *lap)
{
  AzLaplaceDestroy(lap);
  FreeSetup(s);
}

/* the inverse of the symmetric positive definite n × n matrix A by Gauss–Jordan elimination with
 * partial pivoting (A is overwritten) */
static void Invert(PetscInt n, PetscReal *A, PetscReal *Ai)
{
  for (PetscInt i = 0; i < n; i++)
    for (PetscInt j = 0; j < n; j++) Ai[i * n + j] = i == j;
  for (PetscInt c = 0; c < n; c++) {
    PetscInt  piv = c;
    PetscReal d;
    for (PetscInt r = c + 1; r < n; r++)
      if (fabs(A[r * n + c]) > fabs(A[piv * n + c])) piv = r;
    for (PetscInt j = 0; j < n; j++) {
      PetscReal t = A[c * n + j];
      A[c * n + j] = A[piv * n + j], A[piv * n + j] = t;
      t = Ai[c * n + j], Ai[c * n + j] = Ai[piv * n + j], Ai[piv * n + j] = t;
    }
    d = A[c * n + c];
    for (PetscInt j = 0; j < n; j++) A[c * n + j] /= d, Ai[c * n + j] /= d;
    for (PetscInt r = 0; r < n; r++) {
      const PetscReal f = A[r * n + c];
      if (r == c || f == 0) continue;
      for (PetscInt j = 0; j < n; j++) A[r * n + j] -= f * A[c * n + j], Ai[r * n + j] -= f * Ai[c * n + j];
    }
  }
}

/* Brute force from the rows: H = JᵀJ, Hd = J_dᵀJ_d (the data term's rows; every term of these
 * problems has one residual per point), the loss Σρ², the data's Σρ², the global rows; all reduced */
typedef struct {
  PetscReal *H, *Hd, *Ai; /* P × P */
  PetscReal  loss, rhod;
  PetscInt   rows;
} Brute;

static void BruteForce(Setup *s, PetscReal lambda, Brute *b)
{
  const PetscInt P = s->P, kd = LossTermIndex(s->loss, "data");
  PetscInt       nloc, off = 0, d0 = -1, d1 = -1, nt;
  PetscScalar   *rho, *J;
  PetscReal     *A;
  MPI_Comm       comm;

  AzLossGetComm(s->loss, &comm);
  OK(AzLossGetLocalResidualSize(s->loss, &nloc));
  OK(AzLossGetNumTerms(s->loss, &nt));
  for (PetscInt k = 0; k < nt; k++) { /* the local rows come term by term */
    Vec      x;
    PetscInt n;
    OK(AzLossGetTermPoints(s->loss, k, &x));
    ck_assert(x != NULL);
    OK(VecGetLocalSize(x, &n));
    n /= 2; /* heat1d and nls1d: (x, t) */
    if (k == kd) d0 = off, d1 = off + n;
    off += n;
  }
  if (kd >= 0) ck_assert_int_eq(off, nloc); /* heat1d: one residual per point in every term */
  rho = malloc(sizeof(PetscScalar) * (size_t)PetscMax(nloc, 1));
  J   = malloc(sizeof(PetscScalar) * (size_t)PetscMax(nloc, 1) * P);
  b->H  = calloc((size_t)P * P, sizeof(PetscReal));
  b->Hd = calloc((size_t)P * P, sizeof(PetscReal));
  b->Ai = calloc((size_t)P * P, sizeof(PetscReal));
  A     = calloc((size_t)P * P, sizeof(PetscReal));
  OK(AzLossResidualJacobian(s->loss, rho, J));
  b->loss = b->rhod = 0;
  for (PetscInt i = 0; i < nloc; i++) {
    b->loss += rho[i] * rho[i];
    if (i >= d0 && i < d1) b->rhod += rho[i] * rho[i];
    for (PetscInt a = 0; a < P; a++)
      for (PetscInt c = 0; c < P; c++) {
        b->H[a * P + c] += J[i * P + a] * J[i * P + c];
        if (i >= d0 && i < d1) b->Hd[a * P + c] += J[i * P + a] * J[i * P + c];
      }
  }
  MPI_Allreduce(MPI_IN_PLACE, b->H, (int)(P * P), MPIU_REAL, MPI_SUM, comm);
  MPI_Allreduce(MPI_IN_PLACE, b->Hd, (int)(P * P), MPIU_REAL, MPI_SUM, comm);
  MPI_Allreduce(MPI_IN_PLACE, &b->loss, 1, MPIU_REAL, MPI_SUM, comm);
  MPI_Allreduce(MPI_IN_PLACE, &b->rhod, 1, MPIU_REAL, MPI_SUM, comm);
  MPI_Allreduce(&nloc, &b->rows, 1, MPIU_INT, MPI_SUM, comm);
  for (PetscInt i = 0; i < P * P; i++) A[i] = b->H[i];
  for (PetscInt i = 0; i < P; i++) A[i * P + i] += lambda;
  Invert(P, A, b->Ai);
  free(A);
  free(rho);
  free(J);
}

static void FreeBrute(Brute *b)
{
  free(b->H);
  free(b->Hd);
  free(b->Ai);
}

/* tr(Ai M) */
static PetscReal TraceProduct(PetscInt P, const PetscReal *Ai, const PetscReal *M)
{
  PetscReal t = 0;
  for (PetscInt a = 0; a < P; a++)
    for (PetscInt c = 0; c < P; c++) t += Ai[a * P + c] * M[c * P + a];
  return t;
}

static void CheckClose(const char *label, PetscReal got, PetscReal want, PetscReal tol)
{
  ck_assert_msg(PetscAbsReal(got - want) <= tol * PetscAbsReal(want), "%s: %.17g, brute force %.17g (relative tolerance %g)", label, (double)got, (double)want, (double)tol);
}

/* Σ against s² (JᵀJ + λI)⁻¹, every entry, and the variances */
static void CheckCovariance(const char *label, Setup *s, AzLaplace lap, const Brute *b, PetscReal s2)
{
  const PetscInt P = s->P;
  PetscInt      *idx = malloc(sizeof(PetscInt) * P);
  PetscReal     *cov = malloc(sizeof(PetscReal) * P * P), *var = malloc(sizeof(PetscReal) * P), big = 0, err = 0, verr = 0;

  for (PetscInt i = 0; i < P; i++) idx[i] = i;
  OK(AzLaplaceGetCovariance(lap, P, idx, cov));
  OK(AzLaplaceGetVariance(lap, P, idx, var));
  for (PetscInt i = 0; i < P * P; i++) big = PetscMax(big, PetscAbsReal(s2 * b->Ai[i]));
  for (PetscInt i = 0; i < P * P; i++) err = PetscMax(err, PetscAbsReal(cov[i] - s2 * b->Ai[i]));
  for (PetscInt i = 0; i < P; i++) verr = PetscMax(verr, PetscAbsReal(var[i] - s2 * b->Ai[i * P + i]));
  ck_assert_msg(big > 0, "%s: a zero covariance", label);
  ck_assert_msg(err <= 1e-10 * big, "%s: covariance off by %.3e (largest entry %.3e)", label, (double)err, (double)big);
  ck_assert_msg(verr <= 1e-10 * big, "%s: variances off by %.3e (largest entry %.3e)", label, (double)verr, (double)big);
  /* a block of chosen entries, in a chosen order */
  {
    const PetscInt sel[3] = {P - 1, 0, P / 2};
    PetscReal      blk[9];
    OK(AzLaplaceGetCovariance(lap, 3, sel, blk));
    for (PetscInt a = 0; a < 3; a++)
      for (PetscInt c = 0; c < 3; c++) ck_assert_msg(PetscAbsReal(blk[a * 3 + c] - s2 * b->Ai[sel[a] * P + sel[c]]) <= 1e-10 * big, "%s: block entry (%d,%d)", label, (int)a, (int)c);
  }
  free(idx);
  free(cov);
  free(var);
}

START_TEST(test_covariance_data)
{
  const Opt     o[] = {{"-az_data", datafile}, {"-az_laplace_lambda", "1e-3"}, {"-az_weight_data", "3"}, {NULL, NULL}};
  Setup         s;
  AzLaplace     lap;
  AzLaplaceInfo info;
  Brute         b;
  PetscReal     m = NOBS, w = 3, rss, dof, sigma2;

  WriteData();
  OK(Make(PETSC_COMM_WORLD, "heat1d", o, &s, &lap));
  OK(AzLaplaceGetInfo(lap, &info));
  BruteForce(&s, 1e-3, &b);
  /* ρ = √(w/m) r on the data rows: Σ r² = (m/w) Σ ρ² */
  rss    = b.rhod * m / w;
  dof    = TraceProduct(s.P, b.Ai, b.Hd);
  sigma2 = rss / (m - dof);
  ck_assert_int_eq(info.nparam, s.P);
  ck_assert_int_eq(info.rows, b.rows);
  ck_assert_int_eq(info.nobs, NOBS);
  ck_assert(info.from_data && !info.given);
  ck_assert_msg(dof > 1 && dof < m - 1, "gamma_d %g", (double)dof);
  CheckClose("lambda", info.lambda, 1e-3, 1e-15);
  CheckClose("data RSS", info.rss, rss, 1e-10);
  CheckClose("gamma_d", info.dof, dof, 1e-10);
  CheckClose("sigma2", info.sigma2, sigma2, 1e-10);
  CheckClose("s2 = (w/m) sigma2", info.s2, w / m * sigma2, 1e-10);
  CheckCovariance("heat1d with data", &s, lap, &b, w / m * sigma2);
  FreeBrute(&b);
  Done(&s, &lap);
  RemoveData();
}
END_TEST

START_TEST(test_sigma2_no_data)
{
  const Opt     o[] = {{"-az_laplace_lambda", "1e-4"}, {NULL, NULL}};
  const Opt     o_default[] = {{NULL, NULL}};
  Setup         s;
  AzLaplace     lap;
  AzLaplaceInfo info;
  Brute         b;
  PetscReal     dof, trH = 0;

  OK(Make(PETSC_COMM_WORLD, "heat1d", o, &s, &lap));
  OK(AzLaplaceGetInfo(lap, &info));
  BruteForce(&s, 1e-4, &b);
  dof = TraceProduct(s.P, b.Ai, b.H);
  ck_assert(!info.from_data);
  ck_assert_int_eq(info.nobs, 0);
  CheckClose("loss", info.rss, b.loss, 1e-12);
  CheckClose("gamma", info.dof, dof, 1e-9);
  CheckClose("sigma2 without data", info.sigma2, b.loss / (b.rows - dof), 1e-10);
  CheckClose("s2 without data", info.s2, info.sigma2, 1e-15);
  CheckCovariance("heat1d without data", &s, lap, &b, info.s2);
  FreeBrute(&b);
  Done(&s, &lap);

  /* the default λ: 1e-8 trace(JᵀJ)/P */
  OK(Make(PETSC_COMM_WORLD, "heat1d", o_default, &s, &lap));
  OK(AzLaplaceGetInfo(lap, &info));
  BruteForce(&s, 0, &b);
  for (PetscInt i = 0; i < s.P; i++) trH += b.H[i * s.P + i];
  CheckClose("default lambda", info.lambda, 1e-8 * trH / s.P, 1e-12);
  FreeBrute(&b);
  Done(&s, &lap);
}
END_TEST

/* the data alone (every other weight 0), λ = 0: ordinary least squares, γ_d = P, σ² = RSS/(m − P)
 * (200 observations keep JᵀJ well enough conditioned for γ_d = tr((JᵀJ)⁻¹JᵀJ) to come out as P to
 * 1e-6); σ² given: s² = (w/m) σ² */
START_TEST(test_sigma2_least_squares)
{
  const Opt     o[] = {{"-az_data", datafile}, {"-az_laplace_lambda", "0"}, {"-az_weight_interior", "0"}, {"-az_weight_boundary", "0"}, {"-az_weight_initial", "0"}, {NULL, NULL}};
  const Opt     o_given[] = {{"-az_data", datafile}, {"-az_laplace_sigma2", "0.25"}, {"-az_weight_data", "2"}, {NULL, NULL}};
  Setup         s;
  AzLaplace     lap;
  AzLaplaceInfo info;
  Brute         b;
  const int     m = 200;

  nobs = m;
  WriteData();
  OK(Make(PETSC_COMM_WORLD, "heat1d", o, &s, &lap));
  OK(AzLaplaceGetInfo(lap, &info));
  BruteForce(&s, 0, &b);
  ck_assert_int_eq(info.nobs, m);
  CheckClose("least squares: gamma_d = P", info.dof, (PetscReal)s.P, 1e-6);
  CheckClose("least squares: sigma2 = RSS/(m - P)", info.sigma2, b.rhod * m / (m - s.P), 1e-6);
  CheckClose("least squares: s2", info.s2, info.sigma2 / m, 1e-12);
  FreeBrute(&b);
  Done(&s, &lap);

  OK(Make(PETSC_COMM_WORLD, "heat1d", o_given, &s, &lap));
  OK(AzLaplaceGetInfo(lap, &info));
  ck_assert(info.given && info.from_data);
  CheckClose("given sigma2", info.sigma2, 0.25, 1e-15);
  CheckClose("given sigma2: s2 = (w/m) sigma2", info.s2, 2.0 / m * 0.25, 1e-15);
  ck_assert(PetscIsNanReal(info.dof));
  Done(&s, &lap);
  RemoveData();
}
END_TEST

/* std of u_c(x) against s √(gᵀ(JᵀJ + λI)⁻¹g), g by central differences of the solution in θ */
static void CheckFieldStd(const char *label, const char *problem, const Opt *o, PetscReal lambda, PetscInt nmaps_min)
{
  Setup            s;
  AzLaplace        lap;
  AzLaplaceInfo    info;
  Brute            b;
  PetscInt         ncomp, nmaps, ncoord;
  const PetscInt   npts = 7;
  PetscReal        x[7 * 2], lo[2], hi[2], *std;
  const PetscReal  h = 1e-6;
  const AzProblemInfo *pi;
  Vec              theta;

  OK(Make(PETSC_COMM_WORLD, problem, o, &s, &lap));
  OK(AzLaplaceGetInfo(lap, &info));
  OK(AzLossGetChainMaps(s.loss, &nmaps, NULL));
  ck_assert_msg(nmaps >= nmaps_min, "%s: %d maps in the chain, expected at least %d", label, (int)nmaps, (int)nmaps_min);
  BruteForce(&s, lambda, &b);
  OK(AzProblemGetInfo(s.prob, &pi));
  OK(AzProblemGetNumCoords(s.prob, &ncoord));
  ck_assert_int_eq(ncoord, 2);
  ncomp = pi->ncomp;
  OK(AzProblemGetBox(s.prob, lo, hi));
  for (PetscInt p = 0; p < npts; p++) {
    x[2 * p]     = lo[0] + (hi[0] - lo[0]) * (0.07 + 0.13 * p);
    x[2 * p + 1] = lo[1] + (hi[1] - lo[1]) * (0.93 - 0.11 * p);
  }
  std = malloc(sizeof(PetscReal) * npts * ncomp);
  OK(AzLaplaceFieldStd(lap, npts, x, std));
  OK(AzFieldGetParameters(s.field, &theta));
  {
    PetscInt     nslot = AZ_JET_NSLOT(ncoord), L = ncomp * nslot;
    PetscScalar *jp = malloc(sizeof(PetscScalar) * npts * L), *jm = malloc(sizeof(PetscScalar) * npts * L);
    PetscReal   *g = calloc((size_t)npts * ncomp * s.P, sizeof(PetscReal));
    for (PetscInt j = 0; j < s.P; j++) {
      PetscScalar *th;
      VecGetArray(theta, &th);
      th[j] += h;
      VecRestoreArray(theta, &th);
      OK(AzLossEvaluateSolution(s.loss, npts, x, jp));
      VecGetArray(theta, &th);
      th[j] -= 2 * h;
      VecRestoreArray(theta, &th);
      OK(AzLossEvaluateSolution(s.loss, npts, x, jm));
      VecGetArray(theta, &th);
      th[j] += h;
      VecRestoreArray(theta, &th);
      for (PetscInt p = 0; p < npts; p++)
        for (PetscInt c = 0; c < ncomp; c++) g[(p * ncomp + c) * s.P + j] = PetscRealPart(jp[p * L + c * nslot] - jm[p * L + c * nslot]) / (2 * h);
    }
    for (PetscInt r = 0; r < npts * ncomp; r++) {
      PetscReal q = 0, want;
      for (PetscInt a = 0; a < s.P; a++)
        for (PetscInt c = 0; c < s.P; c++) q += g[r * s.P + a] * b.Ai[a * s.P + c] * g[r * s.P + c];
      want = PetscSqrtReal(info.s2 * q);
      ck_assert_msg(want > 0, "%s: zero std", label);
      ck_assert_msg(PetscAbsReal(std[r] - want) <= 1e-6 * want, "%s: point %d component %d: std %.12g, by differences %.12g", label, (int)(r / ncomp), (int)(r % ncomp), (double)std[r], (double)want);
    }
    free(jp);
    free(jm);
    free(g);
  }
  free(std);
  FreeBrute(&b);
  Done(&s, &lap);
}

START_TEST(test_field_std)
{
  const Opt o_hard[] = {{"-az_data", datafile}, {"-az_constraint", "hard"}, {"-az_laplace_lambda", "1e-3"}, {"-az_laplace_block", "3"}, {NULL, NULL}};
  const Opt o_nls[]  = {{"-az_laplace_lambda", "1e-2"}, {"-az_laplace_sigma2", "0.5"}, {NULL, NULL}};

  WriteData();
  CheckFieldStd("heat1d, hard conditions (the transform in the chain), data", "heat1d", o_hard, 1e-3, 1);
  RemoveData();
  CheckFieldStd("nls1d: two components", "nls1d", o_nls, 1e-2, 0);
  {
    /* a stream function: the network (ψ, p) has fewer components than the solution (u, v, p) and one
     * derivative order more */
    const Opt o_div[] = {{"-az_divfree", "1"}, {"-az_laplace_lambda", "1e-2"}, {"-az_laplace_sigma2", "2"}, {NULL, NULL}};
    CheckFieldStd("euler2d: stream function, three components", "euler2d", o_div, 1e-2, 1);
  }
}
END_TEST

/* the world communicator against one rank alone: the same σ², Σ and std */
START_TEST(test_ranks)
{
  const Opt       o[] = {{"-az_data", datafile}, {"-az_laplace_lambda", "1e-3"}, {NULL, NULL}};
  Setup           sw, s1;
  AzLaplace       lw, l1;
  AzLaplaceInfo   iw, i1;
  PetscInt        idx[17];
  PetscReal       cw[17 * 17], c1[17 * 17], x[10], stdw[5], std1[5];
  PetscMPIInt     size;

  WriteData();
  MPI_Comm_size(PETSC_COMM_WORLD, &size);
  OK(Make(PETSC_COMM_WORLD, "heat1d", o, &sw, &lw));
  OK(Make(PETSC_COMM_SELF, "heat1d", o, &s1, &l1));
  ck_assert_int_eq(sw.P, 17);
  OK(AzLaplaceGetInfo(lw, &iw));
  OK(AzLaplaceGetInfo(l1, &i1));
  ck_assert_int_eq(iw.rows, i1.rows);
  CheckClose("ranks: sigma2", iw.sigma2, i1.sigma2, 1e-12);
  CheckClose("ranks: gamma_d", iw.dof, i1.dof, 1e-12);
  CheckClose("ranks: lambda", iw.lambda, i1.lambda, 1e-15);
  for (PetscInt i = 0; i < 17; i++) idx[i] = i;
  OK(AzLaplaceGetCovariance(lw, 17, idx, cw));
  OK(AzLaplaceGetCovariance(l1, 17, idx, c1));
  for (PetscInt i = 0; i < 17 * 17; i++) ck_assert_msg(PetscAbsReal(cw[i] - c1[i]) <= 1e-12 * PetscAbsReal(c1[i]) + 1e-300, "ranks: covariance entry %d: %.17g on %d ranks, %.17g on one", (int)i, (double)cw[i], size, (double)c1[i]);
  for (PetscInt p = 0; p < 5; p++) x[2 * p] = 0.1 + 0.2 * p, x[2 * p + 1] = 0.9 - 0.2 * p;
  OK(AzLaplaceFieldStd(lw, 5, x, stdw));
  OK(AzLaplaceFieldStd(l1, 5, x, std1));
  for (PetscInt p = 0; p < 5; p++) CheckClose("ranks: field std", stdw[p], std1[p], 1e-12);
  Done(&sw, &lw);
  Done(&s1, &l1);
  RemoveData();
}
END_TEST

static void ExpectRefused(const char *label, const char *problem, const Opt *o, const char *fragment)
{
  Setup          s;
  AzLaplace      lap;
  PetscErrorCode ierr;

  last_error[0] = 0;
  PetscPushErrorHandler(CaptureError, NULL);
  ierr = Make(PETSC_COMM_WORLD, problem, o, &s, &lap);
  PetscPopErrorHandler();
  if (!ierr) Done(&s, &lap);
  ck_assert_msg(ierr != 0, "%s: accepted, should be refused", label);
  ck_assert_msg(strstr(last_error, fragment), "%s: message \"%s\" lacks \"%s\"", label, last_error, fragment);
}

START_TEST(test_refusals)
{
  const Opt o_max[]    = {{"-az_laplace_max_parameters", "10"}, {NULL, NULL}};
  const Opt o_lambda[] = {{"-az_laplace_lambda", "-1"}, {NULL, NULL}};
  /* 17 parameters, 2 observations and nothing else: the data are interpolated */
  const Opt o_interp[] = {{"-az_data", datafile}, {"-az_weight_interior", "0"}, {"-az_weight_boundary", "0"}, {"-az_weight_initial", "0"}, {NULL, NULL}};
  const Opt o_w0[]     = {{"-az_data", datafile}, {"-az_weight_data", "0"}, {NULL, NULL}};
  const Opt o_proj[]   = {{"-az_conservation", "posthoc"}, {"-az_laplace_sigma2", "1"}, {NULL, NULL}};

  WriteData();
  ExpectRefused("17 parameters, limit 10", "heat1d", o_max, "-az_laplace_max_parameters 10");
  ExpectRefused("negative lambda", "heat1d", o_lambda, "-az_laplace_lambda -1");
  ExpectRefused("data weight 0", "heat1d", o_w0, "-az_weight_data > 0");
  RemoveData();
  nobs = 2;
  WriteData();
  ExpectRefused("interpolated data", "heat1d", o_interp, "cannot estimate the noise from the data");
  RemoveData();
  {
    Setup          s;
    AzLaplace      lap;
    PetscReal      x[2] = {0.3, 0.5}, std[1];
    PetscErrorCode ierr;
    OK(Make(PETSC_COMM_WORLD, "advection1d", o_proj, &s, &lap));
    last_error[0] = 0;
    PetscPushErrorHandler(CaptureError, NULL);
    ierr = AzLaplaceFieldStd(lap, 1, x, std);
    PetscPopErrorHandler();
    ck_assert_msg(ierr != 0, "field std through a projection: accepted");
    ck_assert_msg(strstr(last_error, "projection onto conservation laws"), "message \"%s\"", last_error);
    Done(&s, &lap);
  }
}
END_TEST

/* ---- ProbConserv (-az_conservation probconserv, AzLossProbConserv) against brute force ------------
 * gpme1d heat: mass, a linear law whose target varies in time; the projection's quadrature and the
 * series' are the same rule (16 nodes each), so Q(t) of AzLossConservationSeries is G u at t. Brute
 * force in function space: A = ∂Q(t_k)/∂θ and J_u(x) = ∂u(x)/∂θ by central differences of the public
 * series and solution, Σθ from AzLaplaceGetCovariance before the update, r = Q − Q*, S = AΣθAᵀ + σ_c²I:
 *     μ̃(x) = μ(x) − J_u(x)ΣθAᵀ S⁻¹ r,   var̃(x) = J_uΣθJ_uᵀ − J_uΣθAᵀ S⁻¹ AΣθJ_uᵀ,
 * the update with Σ = J_u Σθ J_uᵀ formed densely over the nodes (G J_u = A). */
#define PC_T 3
#define PC_K 4

/* Gaussian elimination, n ≤ 8: x = S⁻¹ b (S overwritten) */
static void SolveSmall(PetscInt n, PetscReal S[], PetscReal x[])
{
  for (PetscInt c = 0; c < n; c++) {
    PetscInt p = c;
    for (PetscInt r = c + 1; r < n; r++)
      if (PetscAbsReal(S[r * n + c]) > PetscAbsReal(S[p * n + c])) p = r;
    for (PetscInt j = 0; j < n; j++) {
      PetscReal t = S[c * n + j];
      S[c * n + j] = S[p * n + j];
      S[p * n + j] = t;
    }
    {
      PetscReal t = x[c];
      x[c] = x[p];
      x[p] = t;
    }
    for (PetscInt r = c + 1; r < n; r++) {
      const PetscReal f = S[r * n + c] / S[c * n + c];
      for (PetscInt j = c; j < n; j++) S[r * n + j] -= f * S[c * n + j];
      x[r] -= f * x[c];
    }
  }
  for (PetscInt c = n - 1; c >= 0; c--) {
    for (PetscInt j = c + 1; j < n; j++) x[c] -= S[c * n + j] * x[j];
    x[c] /= S[c * n + c];
  }
}

/* the series' misfit Q(t_k) − Q*(t_k) at the loss's current θ */
/* θ_j = value, in place */
static PetscReal GetTheta(Vec theta, PetscInt j)
{
  const PetscScalar *v;
  PetscReal          t;
  OK(VecGetArrayRead(theta, &v));
  t = PetscRealPart(v[j]);
  OK(VecRestoreArrayRead(theta, &v));
  return t;
}

static void SetTheta(Vec theta, PetscInt j, PetscReal value)
{
  PetscScalar *v;
  OK(VecGetArray(theta, &v));
  v[j] = value;
  OK(VecRestoreArray(theta, &v));
}

static void Misfit(AzLoss loss, PetscReal r[])
{
  PetscReal t[PC_T], Q[PC_T], M[PC_T], target;
  OK(AzLossConservationSeries(loss, 0, PC_T, t, Q, &target));
  OK(AzLossConservationTargets(loss, 0, PC_T, t, M));
  for (PetscInt k = 0; k < PC_T; k++) r[k] = Q[k] - M[k];
}

static void SolutionAt(Setup *s, const PetscReal x[], PetscReal u[])
{
  PetscScalar jets[PC_K * 64];
  PetscInt    nc, ns;
  OK(AzFieldGetJetSize(s->field, &nc, &ns));
  ck_assert(nc * ns <= 64);
  OK(AzLossEvaluateSolution(s->loss, PC_K, x, jets));
  for (PetscInt p = 0; p < PC_K; p++) u[p] = PetscRealPart(jets[p * nc * ns]);
}

static void CheckProbConserv(const char *label, const char *sigma)
{
  const Opt o[] = {{"-az_gpme1d_kind", "heat"}, {"-az_conservation", "probconserv"}, {"-az_probconserv_mode", "joint"}, {"-az_probconserv_times", "3"}, {"-az_probconserv_sigma", sigma}, {"-az_project_nodes", "16"}, {"-az_drift_nodes", "16"}, {"-az_laplace_lambda", "1e-3"}, {"-az_laplace_sigma2", "0.5"}, {NULL, NULL}};
  const PetscReal   sc = atof(sigma), h = 1e-5;
  Setup             s;
  AzLaplace         lap;
  AzProbConservInfo pi;
  Vec               theta;
  PetscInt          P, *idx;
  PetscReal         x[2 * PC_K], mu[PC_K], r[PC_T], *A, *J, *Sig, up[PC_K], um[PC_K], rp[PC_T], rm[PC_T], want[PC_K], wvar[PC_K], got[PC_K], std[PC_K], after[PC_T], corr = 0;

  OK(Make(PETSC_COMM_WORLD, "gpme1d", o, &s, &lap));
  P = s.P;
  for (PetscInt p = 0; p < PC_K; p++) x[2 * p] = 0.15 + 0.23 * p, x[2 * p + 1] = 0.02 + 0.021 * p;
  idx = (PetscInt *)malloc(sizeof(PetscInt) * P);
  A   = (PetscReal *)malloc(sizeof(PetscReal) * PC_T * P);
  J   = (PetscReal *)malloc(sizeof(PetscReal) * PC_K * P);
  Sig = (PetscReal *)malloc(sizeof(PetscReal) * P * P);
  for (PetscInt i = 0; i < P; i++) idx[i] = i;
  OK(AzLaplaceGetCovariance(lap, P, idx, Sig));
  Misfit(s.loss, r);
  SolutionAt(&s, x, mu);
  OK(AzFieldGetParameters(s.field, &theta));
  for (PetscInt j = 0; j < P; j++) {
    const PetscReal t0 = GetTheta(theta, j);
    SetTheta(theta, j, t0 + h);
    Misfit(s.loss, rp);
    SolutionAt(&s, x, up);
    SetTheta(theta, j, t0 - h);
    Misfit(s.loss, rm);
    SolutionAt(&s, x, um);
    SetTheta(theta, j, t0);
    for (PetscInt k = 0; k < PC_T; k++) A[k * P + j] = (rp[k] - rm[k]) / (2 * h);
    for (PetscInt p = 0; p < PC_K; p++) J[p * P + j] = (up[p] - um[p]) / (2 * h);
  }
  /* brute force: SA = Σθ Aᵀ (P × T), S = A Σθ Aᵀ + σ_c² I */
  {
    PetscReal *SA = (PetscReal *)calloc((size_t)P * PC_T, sizeof(PetscReal)), S[PC_T * PC_T], z[PC_T];
    for (PetscInt a = 0; a < P; a++)
      for (PetscInt k = 0; k < PC_T; k++)
        for (PetscInt b = 0; b < P; b++) SA[a * PC_T + k] += Sig[a * P + b] * A[k * P + b];
    for (PetscInt p = 0; p < PC_K; p++) {
      PetscReal JSA[PC_T] = {0}, jsj = 0;
      for (PetscInt k = 0; k < PC_T; k++)
        for (PetscInt a = 0; a < P; a++) JSA[k] += J[p * P + a] * SA[a * PC_T + k];
      for (PetscInt a = 0; a < P; a++)
        for (PetscInt b = 0; b < P; b++) jsj += J[p * P + a] * Sig[a * P + b] * J[p * P + b];
      for (PetscInt k = 0; k < PC_T; k++)
        for (PetscInt l = 0; l < PC_T; l++) {
          S[k * PC_T + l] = (k == l ? sc * sc : 0);
          for (PetscInt a = 0; a < P; a++) S[k * PC_T + l] += A[k * P + a] * SA[a * PC_T + l];
        }
      for (PetscInt k = 0; k < PC_T; k++) z[k] = r[k];
      {
        PetscReal S2[PC_T * PC_T], w[PC_T];
        memcpy(S2, S, sizeof S);
        SolveSmall(PC_T, S, z); /* S⁻¹ r */
        want[p] = mu[p];
        for (PetscInt k = 0; k < PC_T; k++) want[p] -= JSA[k] * z[k];
        for (PetscInt k = 0; k < PC_T; k++) w[k] = JSA[k];
        SolveSmall(PC_T, S2, w); /* S⁻¹ AΣJᵀ */
        wvar[p] = jsj;
        for (PetscInt k = 0; k < PC_T; k++) wvar[p] -= JSA[k] * w[k];
      }
    }
    free(SA);
  }
  OK(AzLossProbConserv(s.loss, lap, &pi));
  ck_assert_int_eq(pi.m, PC_T);
  SolutionAt(&s, x, got);
  OK(AzLaplaceFieldStd(lap, PC_K, x, std));
  for (PetscInt p = 0; p < PC_K; p++) corr = PetscMax(corr, PetscAbsReal(want[p] - mu[p]));
  for (PetscInt p = 0; p < PC_K; p++) {
    ck_assert_msg(PetscAbsReal(got[p] - want[p]) <= 1e-5 * corr + 1e-13, "%s: point %d: updated mean %.15g, brute force %.15g (correction %g)", label, (int)p, (double)got[p], (double)want[p], (double)corr);
    ck_assert_msg(wvar[p] > 0 && PetscAbsReal(std[p] - PetscSqrtReal(wvar[p])) <= 1e-5 * PetscSqrtReal(wvar[p]), "%s: point %d: updated std %.15g, brute force %.15g", label, (int)p, (double)std[p], (double)PetscSqrtReal(PetscMax(wvar[p], 0)));
  }
  Misfit(s.loss, after);
  if (sc == 0) {
    ck_assert_msg(corr > 1e-8, "%s: the update changed nothing (correction %g): the test is void", label, (double)corr);
    for (PetscInt k = 0; k < PC_T; k++) ck_assert_msg(PetscAbsReal(after[k]) <= 1e-12, "%s: time %d: G mu~ - b = %g after the update (before %g)", label, (int)k, (double)after[k], (double)r[k]);
    ck_assert_msg(pi.misfit_after <= 1e-12 && pi.misfit > 1e-8, "%s: the update's own misfit %g after, %g before", label, (double)pi.misfit_after, (double)pi.misfit);
  }
  if (sc >= 1e6) /* the constraints carry no information: the mean stays */
    for (PetscInt p = 0; p < PC_K; p++) ck_assert_msg(PetscAbsReal(got[p] - mu[p]) <= 1e-9 * (PetscAbsReal(mu[p]) + 1), "%s: point %d moved by %g", label, (int)p, (double)(got[p] - mu[p]));
  free(idx);
  free(A);
  free(J);
  free(Sig);
  Done(&s, &lap);
}

START_TEST(test_probconserv)
{
  CheckProbConserv("probconserv, sigma_c 0 (exact)", "0");
  CheckProbConserv("probconserv, sigma_c 0.01", "0.01");
  CheckProbConserv("probconserv, sigma_c 1e8", "1e8");
}
END_TEST

/* Σθ = (s²/λ) I (λ far above JᵀJ): the update is the orthogonal projection in θ onto A δ = −r,
 * δ = −Aᵀ(AAᵀ)⁻¹ r; and the conditioned variances are Σ − ΣAᵀ(AΣAᵀ)⁻¹AΣ */
START_TEST(test_probconserv_orthogonal)
{
  const Opt     o[] = {{"-az_laplace_lambda", "1e12"}, {"-az_laplace_sigma2", "1"}, {NULL, NULL}};
  Setup         s;
  AzLaplace     lap;
  AzLaplaceInfo info;
  PetscInt      P, m = 2, idx[17];
  PetscScalar   A[2 * 17], r[2] = {0.3, -0.7}, d[17];
  PetscReal     S[4], z[2], want, var[17], cov[17 * 17];

  OK(Make(PETSC_COMM_WORLD, "heat1d", o, &s, &lap));
  P = s.P;
  ck_assert_int_eq(P, 17);
  OK(AzLaplaceGetInfo(lap, &info));
  for (PetscInt i = 0; i < m * P; i++) A[i] = PetscSinReal(1.7 * i + 0.3) + (i % 5 == 0 ? 1 : 0);
  for (PetscInt i = 0; i < P; i++) idx[i] = i;
  OK(AzLaplaceGetCovariance(lap, P, idx, cov));
  for (PetscInt k = 0; k < m; k++)
    for (PetscInt l = 0; l < m; l++) {
      S[k * m + l] = 0;
      for (PetscInt a = 0; a < P; a++) S[k * m + l] += PetscRealPart(A[k * P + a] * A[l * P + a]);
    }
  z[0] = PetscRealPart(r[0]), z[1] = PetscRealPart(r[1]);
  SolveSmall(m, S, z);
  OK(AzLaplaceCondition(lap, m, A, r, 0, d));
  for (PetscInt a = 0; a < P; a++) {
    want = -(PetscRealPart(A[a]) * z[0] + PetscRealPart(A[P + a]) * z[1]);
    ck_assert_msg(PetscAbsReal(PetscRealPart(d[a]) - want) <= 1e-6 * (PetscAbsReal(want) + 1e-3), "orthogonal projection: entry %d: %.15g, -A^T(AA^T)^-1 r %.15g", (int)a, (double)PetscRealPart(d[a]), (double)want);
  }
  for (PetscInt k = 0; k < m; k++) {
    PetscScalar Ad = r[k];
    for (PetscInt a = 0; a < P; a++) Ad += A[k * P + a] * d[a];
    ck_assert_msg(PetscAbsScalar(Ad) <= 1e-12, "orthogonal projection: row %d: A d + r = %g", (int)k, (double)PetscAbsScalar(Ad));
  }
  /* the conditioned variances against Σ − ΣAᵀ(AΣAᵀ)⁻¹AΣ with the unconditioned Σ */
  OK(AzLaplaceGetVariance(lap, P, idx, var));
  for (PetscInt i = 0; i < P; i++) {
    PetscReal SA[2] = {0, 0}, M[4] = {0, 0, 0, 0}, w[2];
    for (PetscInt k = 0; k < m; k++)
      for (PetscInt a = 0; a < P; a++) SA[k] += cov[i * P + a] * PetscRealPart(A[k * P + a]);
    for (PetscInt k = 0; k < m; k++)
      for (PetscInt l = 0; l < m; l++)
        for (PetscInt a = 0; a < P; a++)
          for (PetscInt b = 0; b < P; b++) M[k * m + l] += PetscRealPart(A[k * P + a]) * cov[a * P + b] * PetscRealPart(A[l * P + b]);
    w[0] = SA[0], w[1] = SA[1];
    SolveSmall(m, M, w);
    want = cov[i * P + i] - (SA[0] * w[0] + SA[1] * w[1]);
    ck_assert_msg(PetscAbsReal(var[i] - want) <= 1e-6 * cov[i * P + i], "conditioned variance %d: %.15g, brute force %.15g (prior %.15g)", (int)i, (double)var[i], (double)want, (double)cov[i * P + i]);
  }
  Done(&s, &lap);
}
END_TEST

START_TEST(test_probconserv_refusals)
{
  char      path[PETSC_MAX_PATH_LEN];
  const Opt o_nolaw[]  = {{"-az_conservation", "probconserv"}, {NULL, NULL}};
  const Opt o_times[]  = {{"-az_gpme1d_kind", "heat"}, {"-az_conservation", "probconserv"}, {"-az_probconserv_mode", "joint"}, {"-az_probconserv_times", "30"}, {NULL, NULL}};
  const Opt o_sigma[]  = {{"-az_gpme1d_kind", "heat"}, {"-az_conservation", "probconserv"}, {"-az_probconserv_mode", "joint"}, {"-az_probconserv_times", "30"}, {"-az_probconserv_sigma", "0.1"}, {"-az_laplace_sigma2", "1"}, {NULL, NULL}};
  const Opt o_maxp[]   = {{"-az_gpme1d_kind", "heat"}, {"-az_conservation", "probconserv"}, {"-az_laplace_max_parameters", "10"}, {NULL, NULL}};
  const Opt o_pos[]    = {{"-az_gpme1d_kind", "heat"}, {"-az_conservation", "probconserv"}, {"-az_positivity", "hard"}, {NULL, NULL}};
  const Opt o_neg[]    = {{"-az_gpme1d_kind", "heat"}, {"-az_conservation", "probconserv"}, {"-az_probconserv_sigma", "-1"}, {NULL, NULL}};
  const Opt o_mode[]   = {{"-az_gpme1d_kind", "heat"}, {"-az_conservation", "probconserv"}, {"-az_probconserv_mode", "both"}, {NULL, NULL}};
  const Opt o_energy[] = {{"-az_conservation", "probconserv"}, {NULL, NULL}};
  const Opt o_mixed[]  = {{"-az_conservation_mass", "posthoc"}, {"-az_conservation_energy", "probconserv"}, {NULL, NULL}};

  ExpectRefused("probconserv, no law", "heat1d", o_nolaw, "declares no conservation law");
  ExpectRefused("probconserv, 30 constraints on 17 parameters", "gpme1d", o_times, "at most 17 can be");
  ExpectRefused("probconserv, more parameters than the dense limit", "gpme1d", o_maxp, "-az_conservation probconserv needs the Laplace approximation's dense 17 x 17");
  ExpectRefused("probconserv and hard positivity", "gpme1d", o_pos, "cannot both be exact");
  ExpectRefused("probconserv, sigma_c < 0", "gpme1d", o_neg, "-az_probconserv_sigma -1");
  ExpectRefused("probconserv, an unknown mode", "gpme1d", o_mode, "pertime");
  snprintf(path, sizeof path, "%s/badlift.so", getenv("AZ_TEST_PLUGIN_DIR") ? getenv("AZ_TEST_PLUGIN_DIR") : "tests/.libs");
  ExpectRefused("probconserv, a nonlinear law", path, o_energy, "is not of the form q = a(x)");
  ExpectRefused("probconserv beside posthoc", path, o_mixed, "share one projection");
  {
    /* with σ_c > 0 more constraints than parameters are accepted (a Bayesian update, not a projection) */
    Setup     s;
    AzLaplace lap;
    OK(Make(PETSC_COMM_WORLD, "gpme1d", o_sigma, &s, &lap));
    OK(AzLossProbConserv(s.loss, lap, NULL));
    /* the update is made once, at the θ it was made at */
    last_error[0] = 0;
    PetscPushErrorHandler(CaptureError, NULL);
    ck_assert_msg(AzLossProbConserv(s.loss, lap, NULL) != 0, "a second update accepted");
    PetscPopErrorHandler();
    ck_assert_msg(strstr(last_error, "already"), "message \"%s\"", last_error);
    {
      Vec         theta;
      PetscReal   x[2] = {0.3, 0.05};
      PetscScalar jets[64];
      PetscErrorCode ierr;
      OK(AzFieldGetParameters(s.field, &theta));
      OK(VecShift(theta, 1e-3));
      last_error[0] = 0;
      PetscPushErrorHandler(CaptureError, NULL);
      ierr = AzLossEvaluateSolution(s.loss, 1, x, jets);
      PetscPopErrorHandler();
      ck_assert_msg(ierr != 0, "the update applied at another theta");
      ck_assert_msg(strstr(last_error, "other parameters"), "message \"%s\"", last_error);
    }
    Done(&s, &lap);
  }
}
END_TEST

/* -az_probconserv_mode pertime: at a time t of the series (7 times, none of them among the update's
 * -az_probconserv_times 3 ones but t0 and t1 and the middle), the update of u(·, t) alone against the
 * function-space formula with Σ_t = J_u(·,t) Σθ J_u(·,t)ᵀ formed densely at that time: a = ∂Q(t)/∂θ,
 *     μ̃ = μ − J_uΣθaᵀ (Q(t) − Q*(t)) / (σ_c² + aΣθaᵀ),   var̃ = J_uΣθJ_uᵀ − (J_uΣθaᵀ)² / (σ_c² + aΣθaᵀ);
 * with σ_c = 0 the law exact at all 7 times; σ_c → ∞ leaves μ; the jets' u_x and u_t slots of the
 * correction against central differences of the corrected field (u_t needs c'(t)) */
#define PT_N 7
static void SeriesMisfit(AzLoss loss, PetscReal r[])
{
  PetscReal t[PT_N], Q[PT_N], M[PT_N], target;
  OK(AzLossConservationSeries(loss, 0, PT_N, t, Q, &target));
  OK(AzLossConservationTargets(loss, 0, PT_N, t, M));
  for (PetscInt k = 0; k < PT_N; k++) r[k] = Q[k] - M[k];
}

static void JetsAt(Setup *s, PetscInt n, const PetscReal x[], PetscInt slot, PetscReal u[])
{
  PetscScalar jets[PC_K * 64];
  PetscInt    nc, ns;
  OK(AzFieldGetJetSize(s->field, &nc, &ns));
  ck_assert(nc * ns <= 64 && n <= PC_K);
  OK(AzLossEvaluateSolution(s->loss, n, x, jets));
  for (PetscInt p = 0; p < n; p++) u[p] = PetscRealPart(jets[p * nc * ns + slot]);
}

static void CheckPerTime(const char *label, const char *sigma, PetscInt kt)
{
  const Opt o[] = {{"-az_gpme1d_kind", "heat"}, {"-az_conservation", "probconserv"}, {"-az_probconserv_times", "3"}, {"-az_probconserv_sigma", sigma}, {"-az_project_nodes", "16"}, {"-az_drift_nodes", "16"}, {"-az_laplace_lambda", "1e-3"}, {"-az_laplace_sigma2", "0.5"}, {NULL, NULL}};
  const PetscReal   sc = atof(sigma), h = 1e-5;
  const PetscInt    sx = AzJetSlotD1(2, 0), st = AzJetSlotD1(2, 1);
  Setup             s;
  AzLaplace         lap;
  AzProbConservInfo pi;
  Vec               theta;
  PetscInt          P, *idx;
  PetscReal         tt[PT_N], Qs[PT_N], tgt, x[2 * PC_K], mu[PC_K], r[PT_N], *a, *J, *Sig, up[PC_K], um[PC_K], rp[PT_N], rm[PT_N], want[PC_K], wvar[PC_K], got[PC_K], std[PC_K], after[PT_N], corr = 0;
  PetscReal         jb[2][PC_K], ja[2][PC_K];

  OK(Make(PETSC_COMM_WORLD, "gpme1d", o, &s, &lap));
  P = s.P;
  OK(AzLossConservationSeries(s.loss, 0, PT_N, tt, Qs, &tgt));
  for (PetscInt p = 0; p < PC_K; p++) x[2 * p] = 0.15 + 0.23 * p, x[2 * p + 1] = tt[kt];
  idx = (PetscInt *)malloc(sizeof(PetscInt) * P);
  a   = (PetscReal *)malloc(sizeof(PetscReal) * P);
  J   = (PetscReal *)malloc(sizeof(PetscReal) * PC_K * P);
  Sig = (PetscReal *)malloc(sizeof(PetscReal) * P * P);
  for (PetscInt i = 0; i < P; i++) idx[i] = i;
  OK(AzLaplaceGetCovariance(lap, P, idx, Sig));
  SeriesMisfit(s.loss, r);
  SolutionAt(&s, x, mu);
  JetsAt(&s, PC_K, x, sx, jb[0]);
  JetsAt(&s, PC_K, x, st, jb[1]);
  OK(AzFieldGetParameters(s.field, &theta));
  for (PetscInt j = 0; j < P; j++) {
    const PetscReal t0 = GetTheta(theta, j);
    SetTheta(theta, j, t0 + h);
    SeriesMisfit(s.loss, rp);
    SolutionAt(&s, x, up);
    SetTheta(theta, j, t0 - h);
    SeriesMisfit(s.loss, rm);
    SolutionAt(&s, x, um);
    SetTheta(theta, j, t0);
    a[j] = (rp[kt] - rm[kt]) / (2 * h);
    for (PetscInt p = 0; p < PC_K; p++) J[p * P + j] = (up[p] - um[p]) / (2 * h);
  }
  {
    PetscReal aSa = 0;
    for (PetscInt i = 0; i < P; i++)
      for (PetscInt j = 0; j < P; j++) aSa += a[i] * Sig[i * P + j] * a[j];
    for (PetscInt p = 0; p < PC_K; p++) {
      PetscReal JSa = 0, JSJ = 0;
      for (PetscInt i = 0; i < P; i++)
        for (PetscInt j = 0; j < P; j++) JSa += J[p * P + i] * Sig[i * P + j] * a[j], JSJ += J[p * P + i] * Sig[i * P + j] * J[p * P + j];
      want[p] = mu[p] - JSa * r[kt] / (sc * sc + aSa);
      wvar[p] = JSJ - JSa * JSa / (sc * sc + aSa);
    }
  }
  OK(AzLossProbConserv(s.loss, lap, &pi));
  ck_assert_int_eq(pi.ntimes, 3);
  SolutionAt(&s, x, got);
  OK(AzLaplaceFieldStd(lap, PC_K, x, std));
  for (PetscInt p = 0; p < PC_K; p++) corr = PetscMax(corr, PetscAbsReal(want[p] - mu[p]));
  for (PetscInt p = 0; p < PC_K; p++) {
    ck_assert_msg(PetscAbsReal(got[p] - want[p]) <= 1e-5 * corr + 1e-13, "%s: point %d at t = %g: updated mean %.15g, brute force %.15g (correction %g)", label, (int)p, (double)tt[kt], (double)got[p], (double)want[p], (double)corr);
    ck_assert_msg(wvar[p] > 0 && PetscAbsReal(std[p] - PetscSqrtReal(wvar[p])) <= 1e-5 * PetscSqrtReal(wvar[p]), "%s: point %d: updated std %.15g, brute force %.15g", label, (int)p, (double)std[p], (double)PetscSqrtReal(PetscMax(wvar[p], 0)));
  }
  SeriesMisfit(s.loss, after);
  if (sc == 0) {
    ck_assert_msg(corr > 1e-8, "%s: the update changed nothing (correction %g): the test is void", label, (double)corr);
    for (PetscInt k = 0; k < PT_N; k++) ck_assert_msg(PetscAbsReal(after[k]) <= 1e-12, "%s: time %g: G mu~ - b = %g after the update (before %g)", label, (double)tt[k], (double)after[k], (double)r[k]);
    ck_assert_msg(pi.misfit_after <= 1e-12 && pi.misfit > 1e-8, "%s: the update's own misfit %g after, %g before", label, (double)pi.misfit_after, (double)pi.misfit);
    /* jets: the correction's x and t derivatives against central differences of the corrected field */
    JetsAt(&s, PC_K, x, sx, ja[0]);
    JetsAt(&s, PC_K, x, st, ja[1]);
    for (PetscInt d = 0; d < 2; d++) {
      const PetscReal hd = 1e-3 * (d ? tt[PT_N - 1] - tt[0] : 1);
      PetscReal       xp[2 * PC_K], xm[2 * PC_K], fp[PC_K], fm[PC_K], bp[PC_K], bm[PC_K], dmax = 0;
      for (PetscInt i = 0; i < 2 * PC_K; i++) xp[i] = xm[i] = x[i];
      for (PetscInt p = 0; p < PC_K; p++) xp[2 * p + d] += hd, xm[2 * p + d] -= hd;
      SolutionAt(&s, xp, fp);
      SolutionAt(&s, xm, fm);
      /* the uncorrected field at the same points: the correction's own difference */
      {
        Setup     s0;
        AzLaplace l0;
        OK(Make(PETSC_COMM_WORLD, "gpme1d", o, &s0, &l0));
        SolutionAt(&s0, xp, bp);
        SolutionAt(&s0, xm, bm);
        Done(&s0, &l0);
      }
      for (PetscInt p = 0; p < PC_K; p++) dmax = PetscMax(dmax, PetscAbsReal(ja[d][p] - jb[d][p]));
      ck_assert_msg(dmax > 1e-8, "%s: the correction's %s derivative is %g: the test is void", label, d ? "t" : "x", (double)dmax);
      for (PetscInt p = 0; p < PC_K; p++) {
        const PetscReal fd = ((fp[p] - bp[p]) - (fm[p] - bm[p])) / (2 * hd);
        ck_assert_msg(PetscAbsReal((ja[d][p] - jb[d][p]) - fd) <= 1e-4 * dmax + 1e-11, "%s: point %d: the correction's u_%s %.12g, central difference %.12g", label, (int)p, d ? "t" : "x", (double)(ja[d][p] - jb[d][p]), (double)fd);
      }
    }
  }
  if (sc >= 1e6)
    for (PetscInt p = 0; p < PC_K; p++) ck_assert_msg(PetscAbsReal(got[p] - mu[p]) <= 1e-9 * (PetscAbsReal(mu[p]) + 1), "%s: point %d moved by %g", label, (int)p, (double)(got[p] - mu[p]));
  free(idx);
  free(a);
  free(J);
  free(Sig);
  Done(&s, &lap);
}

START_TEST(test_probconserv_pertime)
{
  CheckPerTime("pertime, sigma_c 0, t between the update's times", "0", 1);
  CheckPerTime("pertime, sigma_c 0, the last time", "0", PT_N - 1);
  CheckPerTime("pertime, sigma_c 0.01", "0.01", 2);
  CheckPerTime("pertime, sigma_c 1e8", "1e8", 4);
}
END_TEST

int main(int argc, char **argv)
{
  SRunner *sr;
  Suite   *s = suite_create("laplace");
  TCase   *tc = tcase_create("laplace");
  int      failed;

  PetscCall(PetscInitialize(&argc, &argv, NULL, NULL));
  tcase_add_checked_fixture(tc, NULL, RemoveData);
  tcase_add_test(tc, test_covariance_data);
  tcase_add_test(tc, test_sigma2_no_data);
  tcase_add_test(tc, test_sigma2_least_squares);
  tcase_add_test(tc, test_field_std);
  tcase_add_test(tc, test_ranks);
  tcase_add_test(tc, test_refusals);
  tcase_add_test(tc, test_probconserv);
  tcase_add_test(tc, test_probconserv_orthogonal);
  tcase_add_test(tc, test_probconserv_refusals);
  tcase_add_test(tc, test_probconserv_pertime);
  tcase_set_timeout(tc, 600);
  suite_add_tcase(s, tc);
  sr = srunner_create(s);
  srunner_set_fork_status(sr, CK_NOFORK);
  srunner_run_all(sr, CK_NORMAL);
  failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  PetscCall(PetscFinalize());
  return failed ? 1 : 0;
}
