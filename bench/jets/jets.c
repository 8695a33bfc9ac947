/* bench/jets: loss value + parameter gradient of the Burgers residual r = u_t + u u_x − ν u_xx at
 * 10,000 points, for three networks, on the exact-jet engine (Taylor mode forward, reverse through it).
 * Reports iterations/s, points/s, and GFLOP/s of the layer GEMMs against this machine's dgemm rate
 * measured in the same run. Run with mpiexec -n R to split the points over R ranks.
 *   mpiexec -n 2 bench/jets/jets [-n 10000] [-reps 20]
 */
#include <ansatz.h>
#include <cblas.h>
#include <sys/resource.h>

typedef struct {
  PetscInt  nslot;
  PetscReal nu, sum;
} BurgersCtx;

/* r = u_t + u u_x − ν u_xx; jetbar = (2/N) r ∂r/∂jet (x = coordinate 0, t = coordinate 1) */
static PetscErrorCode BurgersAdjoint(void *ptr, PetscInt p0, PetscInt np, const PetscScalar jets[], PetscScalar jetbar[])
{
  BurgersCtx    *c  = (BurgersCtx *)ptr;
  const PetscInt ns = c->nslot, iu = 0, ix = AzJetSlotD1(2, 0), it = AzJetSlotD1(2, 1), ixx = AzJetSlotD2(2, 0, 0);
  (void)p0;
  for (PetscInt p = 0; p < np; p++) {
    const PetscScalar *J = jets + p * ns;
    PetscScalar       *B = jetbar + p * ns;
    const PetscScalar  r = J[it] + J[iu] * J[ix] - c->nu * J[ixx];
    c->sum += r * r;
    B[iu]  = r * J[ix];
    B[ix]  = r * J[iu];
    B[it]  = r;
    B[ixx] = -c->nu * r;
  }
  return PETSC_SUCCESS;
}

static double Now(void)
{
  PetscLogDouble t;
  PetscTime(&t);
  return t;
}

/* dgemm rate (GFLOP/s) for an m × k by k × n product on this rank, one BLAS thread */
static double DgemmRate(int m, int n, int k)
{
  double *A, *B, *C, t0, best = 1e30;
  A = malloc(sizeof(double) * m * k), B = malloc(sizeof(double) * k * n), C = malloc(sizeof(double) * m * n);
  for (int i = 0; i < m * k; i++) A[i] = 1.0 / (i + 1);
  for (int i = 0; i < k * n; i++) B[i] = 1.0 / (i + 2);
  for (int r = 0; r < 5; r++) {
    t0 = Now();
    cblas_dgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1.0, A, m, B, k, 0.0, C, m);
    best = PetscMin(best, Now() - t0);
  }
  free(A), free(B), free(C);
  return 2.0 * m * n * k / best * 1e-9;
}

/* -memory N: one loss + gradient over N points of a 2-D second-order residual (Poisson's u_xx + u_yy,
 * with a 4 x 50 network) and the peak resident memory, against the workspace bound of field.c:
 *   8 · [C·n_a·(nin + 2·d·w + c) + C·(m+1)·d·w + 2·C·n_a·max(w, c)] bytes. */
typedef struct {
  PetscReal sum;
} PoissonCtx;

static PetscErrorCode PoissonAdjoint(void *ptr, PetscInt p0, PetscInt np, const PetscScalar jets[], PetscScalar jetbar[])
{
  PoissonCtx    *c  = (PoissonCtx *)ptr;
  const PetscInt ns = AZ_JET_NSLOT(2), ixx = AzJetSlotD2(2, 0, 0), iyy = AzJetSlotD2(2, 1, 1);
  (void)p0;
  for (PetscInt p = 0; p < np; p++) {
    const PetscScalar r = -(jets[p * ns + ixx] + jets[p * ns + iyy]) - 1;
    c->sum += r * r;
    for (PetscInt s = 0; s < ns; s++) jetbar[p * ns + s] = 0;
    jetbar[p * ns + ixx] = jetbar[p * ns + iyy] = -r;
  }
  return PETSC_SUCCESS;
}

static PetscErrorCode MemoryRun(PetscInt n)
{
  AzField      field;
  AzJetRequest req;
  char         err[128];
  PetscReal    lo[2] = {0, 0}, hi[2] = {1, 1}, *x;
  Vec          g;
  PoissonCtx   c = {0};
  struct rusage ru0, ru1;
  const double C = 256, na = 6, nin = 2, d = 4, w = 50, m = 2, nc = 1;
  double       t0;

  PetscFunctionBegin;
  getrusage(RUSAGE_SELF, &ru0);
  PetscCall(AzJetRequestParse(2, PETSC_FALSE, "xx,yy", &req, err, sizeof err));
  PetscCall(AzFieldCreate(PETSC_COMM_SELF, &field));
  PetscCall(AzFieldSetDimensions(field, 2, 1));
  PetscCall(AzFieldSetBox(field, lo, hi));
  PetscCall(AzFieldSetJetRequest(field, &req));
  PetscCall(AzFieldSetArchitecture(field, 4, 50, AZ_ACT_TANH));
  PetscCall(AzFieldSetUp(field));
  PetscCall(PetscMalloc1(2 * n, &x));
  for (PetscInt i = 0; i < n; i++) PetscCall(AzSampleUnit(AZ_SAMPLE_HALTON, 2, n, 1, i, x + 2 * i));
  PetscCall(AzFieldGetParameters(field, &g));
  PetscCall(VecDuplicate(g, &g));
  t0 = Now();
  PetscCall(AzFieldJetsVJP(field, n, x, PoissonAdjoint, &c, g));
  t0 = Now() - t0;
  getrusage(RUSAGE_SELF, &ru1);
  PetscCall(PetscPrintf(PETSC_COMM_SELF, "memory: %" PetscInt_FMT " points, loss %.6e, %.2f s; peak RSS %.1f MB (points themselves %.1f MB); field workspace bound %.1f MB\n", n, c.sum / n, t0, ru1.ru_maxrss / 1024.0, 16.0 * n / 1048576.0,
                        8 * (C * na * (nin + 2 * d * w + nc) + C * (m + 1) * d * w + 2 * C * na * PetscMax(w, nc)) / 1048576.0));
  PetscCall(VecDestroy(&g));
  PetscCall(PetscFree(x));
  PetscCall(AzFieldDestroy(&field));
  PetscFunctionReturn(PETSC_SUCCESS);
}

int main(int argc, char **argv)
{
  PetscInt    n = 10000, reps = 20, nets[3][2] = {{8, 20}, {4, 50}, {5, 100}};
  PetscMPIInt rank, size;
  double      peak, peak_sq;

  PetscCall(PetscInitialize(&argc, &argv, NULL, "bench/jets: Burgers loss + gradient throughput"));
  PetscCall(PetscOptionsGetInt(NULL, NULL, "-n", &n, NULL));
  PetscCall(PetscOptionsGetInt(NULL, NULL, "-reps", &reps, NULL));
  {
    PetscInt  nm = 0;
    PetscBool set;
    PetscCall(PetscOptionsGetInt(NULL, NULL, "-memory", &nm, &set));
    if (set) {
      PetscCall(MemoryRun(nm));
      PetscCall(PetscFinalize());
      return 0;
    }
  }
  PetscCallMPI(MPI_Comm_rank(PETSC_COMM_WORLD, &rank));
  PetscCallMPI(MPI_Comm_size(PETSC_COMM_WORLD, &size));
  openblas_set_num_threads(1);
  peak_sq = DgemmRate(1000, 1000, 1000);
  peak    = DgemmRate(50, 4 * 256, 50); /* the shape of a width-50 layer over a chunk */
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "dgemm on one core: %.1f GFLOP/s (1000^3), %.1f GFLOP/s (50 x 1024 x 50); %d rank(s), %" PetscInt_FMT " points\n", peak_sq, peak, size, n));
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "%-14s %8s %10s %12s %10s %8s\n", "network", "params", "ms/iter", "points/s", "GFLOP/s", "of dgemm"));
  for (int k = 0; k < 3; k++) {
    const PetscInt depth = nets[k][0], width = nets[k][1];
    AzField        field;
    AzJetRequest   req;
    char           err[128];
    PetscReal      lo[2] = {-1, 0}, hi[2] = {1, 1}, *x;
    PetscInt       P, nloc = n / size + (rank < n % size ? 1 : 0), nact = 4;
    Vec            g;
    double         best = 1e30, flops;
    BurgersCtx     c = {AZ_JET_NSLOT(2), 0.01 / PETSC_PI, 0};

    PetscCall(AzJetRequestParse(2, PETSC_TRUE, "t,x,xx", &req, err, sizeof err));
    PetscCall(AzFieldCreate(PETSC_COMM_WORLD, &field));
    PetscCall(AzFieldSetDimensions(field, 2, 1));
    PetscCall(AzFieldSetBox(field, lo, hi));
    PetscCall(AzFieldSetJetRequest(field, &req));
    PetscCall(AzFieldSetArchitecture(field, depth, width, AZ_ACT_TANH));
    PetscCall(AzFieldSetFromOptions(field));
    PetscCall(AzFieldSetUp(field));
    PetscCall(AzFieldGetNumParameters(field, &P));
    PetscCall(PetscMalloc1(2 * nloc, &x));
    for (PetscInt i = 0; i < nloc; i++) {
      PetscReal u[2];
      PetscCall(AzSampleUnit(AZ_SAMPLE_SOBOL, 2, n, 1, i * size + rank, u));
      x[2 * i]     = -1 + 2 * u[0];
      x[2 * i + 1] = u[1];
    }
    PetscCall(VecCreateSeq(PETSC_COMM_SELF, P, &g));
    for (PetscInt r = 0; r < reps + 2; r++) {
      double    t0;
      PetscReal sum;
      PetscCallMPI(MPI_Barrier(PETSC_COMM_WORLD));
      t0 = Now();
      c.sum = 0;
      PetscCall(VecZeroEntries(g));
      PetscCall(AzFieldJetsVJP(field, nloc, x, BurgersAdjoint, &c, g));
      PetscCall(MPIU_Allreduce(&c.sum, &sum, 1, MPIU_REAL, MPIU_SUM, PETSC_COMM_WORLD));
      {
        PetscScalar *ga, *tmp;
        PetscCall(PetscMalloc1(P, &tmp));
        PetscCall(VecGetArray(g, &ga));
        PetscCall(MPIU_Allreduce(ga, tmp, (PetscMPIInt)P, MPIU_SCALAR, MPIU_SUM, PETSC_COMM_WORLD));
        PetscCall(VecRestoreArray(g, &ga));
        PetscCall(PetscFree(tmp));
      }
      if (r >= 2) best = PetscMin(best, Now() - t0);
    }
    /* GEMM flops: forward (all active slots through every layer) and backward (input adjoint and
     * weight gradient): 3 × 2·nout·nin·points·slots per layer; the output layer has one component */
    flops = 0;
    for (PetscInt l = 0; l <= depth; l++) {
      const double nin = l == 0 ? 2 : width, nout = l == depth ? 1 : width;
      flops += 3 * 2 * nin * nout * (double)n * nact;
    }
    PetscCall(PetscPrintf(PETSC_COMM_WORLD, "2->%" PetscInt_FMT "x%-3" PetscInt_FMT " tanh  %8" PetscInt_FMT " %10.2f %12.3e %10.1f %7.0f%%\n", depth, width, P, best * 1e3, n / best, flops / best * 1e-9, 100 * flops / best * 1e-9 / (peak * size)));
    PetscCall(VecDestroy(&g));
    PetscCall(PetscFree(x));
    PetscCall(AzFieldDestroy(&field));
  }
  PetscCall(PetscFinalize());
  return 0;
}
