/* bench/jets/arch: the cost of the network kinds. Time of one forward pass with jets and one reverse
 * pass (AzFieldJetsVJP: the loss gradient's field work) for the Allen–Cahn residual
 * r = u_t − ε u_xx + γ(u³ − u) (allen_cahn1d: x ∈ [−1, 1] periodic, t ∈ [0, 1]) at N Halton points,
 * for an MLP, the MLP with random weight factorisation, PirateNet and PirateNet with RWF, with and
 * without random Fourier features; best of -reps runs, one rank, one BLAS thread.
 *   bench/jets/arch [-n 8192] [-reps 10]
 */
#include <ansatz.h>

typedef struct {
  PetscReal sum;
} ACCtx;

/* jetbar = (2/N) r ∂r/∂jet up to the factor */
static PetscErrorCode ACAdjoint(void *ptr, PetscInt p0, PetscInt np, const PetscScalar jets[], PetscScalar jetbar[])
{
  ACCtx          *c  = (ACCtx *)ptr;
  const PetscInt  ns = AZ_JET_NSLOT(2), it = AzJetSlotD1(2, 1), ixx = AzJetSlotD2(2, 0, 0);
  const PetscReal eps = 1e-4, g = 5;
  (void)p0;
  for (PetscInt p = 0; p < np; p++) {
    const PetscScalar *J = jets + p * ns, u = J[0];
    PetscScalar       *B = jetbar + p * ns;
    const PetscScalar  r = J[it] - eps * J[ixx] + g * (u * u * u - u);
    c->sum += r * r;
    for (PetscInt s = 0; s < ns; s++) B[s] = 0;
    B[0]   = r * g * (3 * u * u - 1);
    B[it]  = r;
    B[ixx] = -eps * r;
  }
  return PETSC_SUCCESS;
}

int main(int argc, char **argv)
{
  PetscInt        n = 8192, reps = 10;
  const struct {
    const char *name;
    AzNetwork   net;
    PetscInt    depth;
    PetscBool   rwf;
  } nets[] = {
    {"mlp 4x64", AZ_NET_MLP, 4, PETSC_FALSE},
    {"mlp+rwf 4x64", AZ_NET_MLP, 4, PETSC_TRUE},
    {"pirate 3x64", AZ_NET_PIRATE, 3, PETSC_FALSE},
    {"pirate+rwf 3x64", AZ_NET_PIRATE, 3, PETSC_TRUE},
  };
  PetscReal *x;

  PetscCall(PetscInitialize(&argc, &argv, NULL, "bench/jets/arch: the cost of the network kinds"));
  PetscCall(PetscOptionsGetInt(NULL, NULL, "-n", &n, NULL));
  PetscCall(PetscOptionsGetInt(NULL, NULL, "-reps", &reps, NULL));
  PetscCall(PetscMalloc1(2 * n, &x));
  for (PetscInt i = 0; i < n; i++) {
    PetscCall(AzSampleUnit(AZ_SAMPLE_HALTON, 2, n, 1, i, x + 2 * i));
    x[2 * i] = 2 * x[2 * i] - 1;
  }
  PetscCall(PetscPrintf(PETSC_COMM_SELF, "Allen-Cahn residual, %" PetscInt_FMT " points, slots u, u_x, u_t, u_xx, tanh, x periodic (1 harmonic); best of %" PetscInt_FMT "\n", n, reps));
  PetscCall(PetscPrintf(PETSC_COMM_SELF, "%-18s %9s %8s %10s %12s\n", "network", "Fourier", "params", "ms/VJP", "vs mlp"));
  for (PetscInt F = 0; F <= 32; F += 32) {
    double base = 0;
    for (size_t k = 0; k < sizeof nets / sizeof nets[0]; k++) {
      AzField        field;
      AzJetRequest   req;
      char           err[128];
      PetscReal      lo[2] = {-1, 0}, hi[2] = {1, 1};
      PetscInt       P;
      Vec            g;
      ACCtx          c;
      PetscLogDouble t0, t1, best = 1e30;

      PetscCall(AzJetRequestParse(2, PETSC_TRUE, "t,xx", &req, err, sizeof err));
      PetscCall(AzFieldCreate(PETSC_COMM_SELF, &field));
      PetscCall(AzFieldSetDimensions(field, 2, 1));
      PetscCall(AzFieldSetBox(field, lo, hi));
      PetscCall(AzFieldSetJetRequest(field, &req));
      PetscCall(AzFieldSetArchitecture(field, nets[k].depth, 64, AZ_ACT_TANH));
      PetscCall(AzFieldSetNetwork(field, nets[k].net));
      PetscCall(AzFieldSetWeightFactorization(field, nets[k].rwf, 1.0, 0.1));
      PetscCall(AzFieldSetPeriodic(field, 0, 2.0, 1));
      if (F) PetscCall(AzFieldSetFourierFeatures(field, F, 1.0));
      PetscCall(AzFieldSetUp(field));
      PetscCall(AzFieldGetNumParameters(field, &P));
      PetscCall(AzFieldGetParameters(field, &g));
      PetscCall(VecDuplicate(g, &g));
      for (PetscInt r = 0; r < reps + 1; r++) {
        c.sum = 0;
        PetscCall(VecSet(g, 0));
        PetscCall(PetscTime(&t0));
        PetscCall(AzFieldJetsVJP(field, n, x, ACAdjoint, &c, g));
        PetscCall(PetscTime(&t1));
        if (r) best = PetscMin(best, t1 - t0); /* the first run allocates the workspace */
      }
      if (k == 0) base = best;
      PetscCall(PetscPrintf(PETSC_COMM_SELF, "%-18s %9" PetscInt_FMT " %8" PetscInt_FMT " %10.2f %11.2fx\n", nets[k].name, 2 * F, P, best * 1e3, best / base));
      PetscCall(VecDestroy(&g));
      PetscCall(AzFieldDestroy(&field));
    }
  }
  PetscCall(PetscFree(x));
  PetscCall(PetscFinalize());
  return 0;
}
