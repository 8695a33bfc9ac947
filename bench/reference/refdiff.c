/* Difference of two references of one problem (bench/reference/spectral.sh): max |u1 - u2| over the
 * nodes of the coarser grid (nodes of the finer one too when N2 is a multiple of N1, so no spatial
 * interpolation error enters) at 11 output times. Usage: refdiff PROBLEM METHOD1 N1 METHOD2 N2 [options]
 * (METHOD: 1 fd, 2 spectral, 3 fv); each solve prints its steps and wall time. */
#include <ansatz.h>
#include <ansatz/reference.h>
#include <stdlib.h>
int main(int argc, char **argv)
{
  AzProblem prob; AzReference r[2]; PetscInt npts = PetscMin(atoi(argv[3]), atoi(argv[5])), nt = 11; PetscReal worst = 0, worst1 = 0, *x; PetscScalar *u[2];
  PetscCall(PetscInitialize(&argc, &argv, NULL, NULL));
  PetscCall(AzProblemLoad(PETSC_COMM_WORLD, argv[1], &prob));
  PetscCall(AzProblemSetFromOptions(prob));
  x = malloc(sizeof(PetscReal)*2*npts); u[0] = malloc(sizeof(PetscScalar)*npts*8); u[1] = malloc(sizeof(PetscScalar)*npts*8);
  for (int k = 0; k < 2; k++) {
    PetscInt n = atoi(argv[3 + 2*k]); AzReferenceStats st;
    PetscCall(AzReferenceCreate(PETSC_COMM_WORLD, prob, &r[k]));
    PetscCall(AzReferenceSetMethod(r[k], (AzReferenceMethod)atoi(argv[2 + 2*k])));
    PetscCall(AzReferenceSetGrid(r[k], 1, &n));
    PetscCall(AzReferenceSetNumOutputTimes(r[k], nt));
    PetscCall(AzReferenceSetFromOptions(r[k]));
    PetscCall(AzReferenceSolve(r[k]));
    PetscCall(AzReferenceGetStats(r[k], &st));
    PetscCall(PetscPrintf(PETSC_COMM_WORLD, "solve %d: %ld steps %.3f s\n", k, st.steps, (double)st.wall_seconds));
  }
  const AzProblemInfo *info; PetscCall(AzProblemGetInfo(prob, &info));
  for (int k = 0; k < nt; k++) {
    PetscReal t = info->t0 + (info->t1 - info->t0) * k / (nt - 1), w = 0;
    for (int p = 0; p < npts; p++) { x[2*p] = info->lower[0] + (info->upper[0]-info->lower[0]) * p / (PetscReal)npts; /* periodic nodes of the coarser grid */ x[2*p+1] = t; }
    PetscCall(AzReferenceInterpolate(r[0], npts, x, u[0]));
    PetscCall(AzReferenceInterpolate(r[1], npts, x, u[1]));
    for (int p = 0; p < npts * info->ncomp; p++) w = PetscMax(w, PetscAbsScalar(u[0][p] - u[1][p]));
    worst = PetscMax(worst, w);
    if (k > 0) worst1 = PetscMax(worst1, w);
    PetscCall(PetscPrintf(PETSC_COMM_WORLD, "  t %g: %.3e\n", (double)t, (double)w));
  }
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "max difference over %d times: %.3e (after t0: %.3e)\n", (int)nt, (double)worst, (double)worst1));
  PetscCall(PetscFinalize());
  return 0;
}
