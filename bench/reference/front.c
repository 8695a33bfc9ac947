/* Front position of a reference against the exact solution (bench/reference/fv.sh): the largest x where
 * u(x, t1) >= LEVEL, found on a fine sampling of [lower, upper] and refined by linear interpolation, for
 * the reference (interpolated) and the plugin's exact solution. Usage: front PROBLEM LEVEL [options],
 * e.g. front gpme1d 0.5 -az_gpme1d_kind stefan -az_ref_n 1024 */
#include <ansatz.h>
#include <ansatz/reference.h>
#include <stdlib.h>

static PetscReal Crossing(PetscInt n, const PetscReal x[], const PetscScalar u[], PetscInt nc, PetscReal level)
{
  for (PetscInt i = n - 1; i > 0; i--)
    if (PetscRealPart(u[(i - 1) * nc]) >= level && PetscRealPart(u[i * nc]) < level) {
      PetscReal a = PetscRealPart(u[(i - 1) * nc]), b = PetscRealPart(u[i * nc]);
      return x[2 * (i - 1)] + (a - level) / (a - b) * (x[2 * i] - x[2 * (i - 1)]);
    }
  return (PetscReal)NAN;
}

int main(int argc, char **argv)
{
  AzProblem            prob;
  AzReference          ref;
  const AzProblemInfo *info;
  const PetscInt       n = 20001;
  PetscReal           *x, level, fr, fe;
  PetscScalar         *ur, *ue;
  const PetscReal     *param;

  PetscCall(PetscInitialize(&argc, &argv, NULL, NULL));
  PetscCheck(argc >= 3, PETSC_COMM_WORLD, PETSC_ERR_ARG_WRONG, "Usage: front PROBLEM LEVEL [options]");
  level = atof(argv[2]);
  PetscCall(AzProblemLoad(PETSC_COMM_WORLD, argv[1], &prob));
  PetscCall(AzProblemSetFromOptions(prob));
  PetscCall(AzProblemGetInfo(prob, &info));
  PetscCall(AzProblemGetParams(prob, &param));
  PetscCheck(info->exact && info->dim == 1 && info->time_dependent, PETSC_COMM_WORLD, PETSC_ERR_SUP, "front needs a 1-D time-dependent problem with an exact solution");
  PetscCall(AzReferenceCreate(PETSC_COMM_WORLD, prob, &ref));
  PetscCall(AzReferenceSetFromOptions(ref));
  PetscCall(AzReferenceSolve(ref));
  PetscCall(PetscMalloc3(2 * n, &x, n * info->ncomp, &ur, n * info->ncomp, &ue));
  for (PetscInt i = 0; i < n; i++) {
    AzPoint p;
    x[2 * i]     = info->lower[0] + (info->upper[0] - info->lower[0]) * i / (n - 1);
    x[2 * i + 1] = info->t1;
    p            = (AzPoint){&x[2 * i], 2, param, -1};
    PetscCall(info->exact(&p, &ue[i * info->ncomp]));
  }
  PetscCall(AzReferenceInterpolate(ref, n, x, ur));
  fr = Crossing(n, x, ur, info->ncomp, level);
  fe = Crossing(n, x, ue, info->ncomp, level);
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "front (u = %g) at t = %g: reference %.6f, exact %.6f, relative difference %.2e\n", (double)level, (double)info->t1, (double)fr, (double)fe, (double)(PetscAbsReal(fr - fe) / PetscAbsReal(fe))));
  PetscCall(PetscFree3(x, ur, ue));
  PetscCall(AzReferenceDestroy(&ref));
  PetscCall(AzProblemDestroy(&prob));
  PetscCall(PetscFinalize());
  return 0;
}
