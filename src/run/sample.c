/* `ansatz sample`: synthetic observations of a problem's solution (exact, or the reference
 * interpolated) at n points of its space(-time) box, with Gaussian noise, in a file -az_data reads.
 * Every point is a function of (seed, index) and every noise value of (seed, index, component), so
 * the file does not depend on the rank count. */
#include "runimpl.h"
#include <ansatz/reference.h>
#include <ansatz/sampler.h>

typedef enum {
  SAMPLE_RANDOM,
  SAMPLE_LHS,
  SAMPLE_SOBOL,
  SAMPLE_GRID
} SampleKind;
static const char *const SampleKinds[] = {"random", "lhs", "sobol", "grid", "SampleKind", "SAMPLE_", NULL};
static const AzSampleType SampleTypeOf[] = {AZ_SAMPLE_UNIFORM, AZ_SAMPLE_LHS, AZ_SAMPLE_SOBOL, AZ_SAMPLE_GRID};

typedef enum {
  FROM_EXACT,
  FROM_REFERENCE
} SampleFrom;
static const char *const SampleFroms[] = {"exact", "reference", "SampleFrom", "FROM_", NULL};

/* a standard normal deviate from two uniforms of the counter-based hash (Box–Muller) */
PetscReal AzRunGaussian(PetscInt64 seed, PetscInt64 i, PetscInt64 c)
{
  const PetscReal u1 = AzSampleHash(seed, i, 2 * c), u2 = AzSampleHash(seed, i, 2 * c + 1); /* in (0, 1) */
  return PetscSqrtReal(-2 * PetscLogReal(u1)) * PetscCosReal(2 * PETSC_PI * u2);
}

PetscErrorCode AzRunSample(MPI_Comm comm)
{
  char                 name[PETSC_MAX_PATH_LEN] = "poisson2d", out[PETSC_MAX_PATH_LEN] = "", pfile[PETSC_MAX_PATH_LEN] = "", params[1024] = "", sig[512] = "", head[2048];
  AzProblem            prob;
  const AzProblemInfo *info;
  const PetscReal     *param;
  PetscInt             n = 500, seed = 1, ncoord, ncomp, nparam;
  PetscReal            noise = 0, lo[AZ_MAX_COORD], hi[AZ_MAX_COORD], *x, *u, sigma[AZ_MAX_COMP];
  PetscBool            abs_noise = PETSC_FALSE, from_set;
  SampleKind           kind = SAMPLE_RANDOM;
  SampleFrom           from = FROM_EXACT;
  AzReference          ref  = NULL;
  char                 refdir[PETSC_MAX_PATH_LEN] = "";

  PetscFunctionBegin;
  PetscOptionsBegin(comm, NULL, "ansatz sample: synthetic observations", "ansatz");
  PetscCall(PetscOptionsString("-problem", "problem: a name from `ansatz list` or a path to a plugin .so", "AzProblemLoad", name, name, sizeof name, NULL));
  PetscCall(PetscOptionsInt("-az_sample_n", "number of observation points", "AzRunSample", n, &n, NULL));
  PetscCall(PetscOptionsReal("-az_sample_noise", "noise level: Gaussian with sigma_c = noise * std(u_c) over the clean values of component c (Raissi et al.), or sigma_c = noise with -az_sample_noise_abs", "AzRunSample", noise, &noise, NULL));
  PetscCall(PetscOptionsBool("-az_sample_noise_abs", "the noise level is the absolute sigma of every component", "AzRunSample", abs_noise, &abs_noise, NULL));
  PetscCall(PetscOptionsInt("-az_sample_seed", "seed of the points and of the noise", "AzRunSample", seed, &seed, NULL));
  PetscCall(PetscOptionsEnum("-az_sample_type", "how the points fill the space(-time) box (grid: n = m^ncoord cell centres)", "AzRunSample", SampleKinds, (PetscEnum)kind, (PetscEnum *)&kind, NULL));
  PetscCall(PetscOptionsEnum("-az_sample_from", "the values: the problem's exact solution (the default when it has one) or its SUNDIALS/PETSc reference, interpolated", "AzRunSample", SampleFroms, (PetscEnum)from, (PetscEnum *)&from, &from_set));
  PetscCall(PetscOptionsString("-az_sample_points", "sample at these points instead (CSV or HDF5, the layout of -az_eval_points: one point per row), e.g. a grid for ansatz discover", "AzRunSample", pfile, pfile, sizeof pfile, NULL));
  PetscCall(PetscOptionsString("-az_sample_output", "output file: CSV, or HDF5 for a name ending in .h5 (default sample-PROBLEM.csv in the current directory)", "AzRunSample", out, out, sizeof out, NULL));
  PetscOptionsEnd();
  PetscCall(AzProblemLoad(comm, name, &prob));
  PetscCall(AzProblemSetFromOptions(prob));
  PetscCall(AzProblemGetInfo(prob, &info));
  PetscCall(AzProblemGetNumCoords(prob, &ncoord));
  PetscCall(AzProblemGetBox(prob, lo, hi));
  PetscCall(AzProblemGetNumParams(prob, &nparam));
  PetscCall(AzProblemGetParams(prob, &param));
  ncomp = info->ncomp;
  if (!from_set) from = info->exact ? FROM_EXACT : FROM_REFERENCE;
  PetscCheck(n >= 1 && n <= 100000000, comm, PETSC_ERR_ARG_OUTOFRANGE, "-az_sample_n %" PetscInt_FMT ": the number of points must be between 1 and 100000000", n);
  PetscCheck(noise >= 0, comm, PETSC_ERR_ARG_OUTOFRANGE, "-az_sample_noise %g: the noise level must be >= 0 (0: clean values)", (double)noise);
  PetscCheck(seed >= 0, comm, PETSC_ERR_ARG_OUTOFRANGE, "-az_sample_seed %" PetscInt_FMT " must be >= 0", seed);
  PetscCheck(from != FROM_EXACT || info->exact, comm, PETSC_ERR_ARG_WRONG, "-az_sample_from exact: problem %s has no exact solution; use -az_sample_from reference (its SUNDIALS/PETSc reference)", info->name);
  if (kind == SAMPLE_GRID) {
    PetscInt m = (PetscInt)PetscFloorReal(PetscPowReal((PetscReal)n, 1.0 / ncoord) + 0.5), mn = 1;
    for (PetscInt d = 0; d < ncoord; d++) mn *= m;
    PetscCheck(mn == n, comm, PETSC_ERR_ARG_OUTOFRANGE, "-az_sample_type grid: -az_sample_n %" PetscInt_FMT " is not m^%" PetscInt_FMT " for a whole m (the grid has m cell centres per axis); e.g. %" PetscInt_FMT, n, ncoord, mn);
  }
  if (!out[0]) snprintf(out, sizeof out, "sample-%s.csv", info->name);
  if (from == FROM_REFERENCE) {
    PetscCall(AzReferenceCreate(comm, prob, &ref));
    PetscCall(AzReferenceSetFromOptions(ref));
    PetscCall(AzReferenceGetDefaultDir(prob, refdir, sizeof refdir));
  }
  PetscCall(AzOptionsCheckpoint(comm, PETSC_TRUE));

  /* the points (every rank computes all of them: they are few, and each a function of its index), or
   * the user's (-az_sample_points, read whole on every rank with the data reader's checks) */
  if (pfile[0]) {
    PetscReal *pts;
    PetscCall(AzPointsFileRead(prob, pfile, "-az_sample_points", 0, &n, &pts));
    PetscCall(PetscMalloc2(n * ncoord, &x, n * ncomp, &u));
    PetscCall(PetscArraycpy(x, pts, n * ncoord));
    PetscCall(PetscFree(pts));
  } else {
    PetscCall(PetscMalloc2(n * ncoord, &x, n * ncomp, &u));
    for (PetscInt i = 0; i < n; i++) {
      PetscReal w[AZ_MAX_COORD];
      PetscCall(AzSampleUnit(SampleTypeOf[kind], ncoord, n, AzSampleSeed(seed, 1, 0), i, w));
      for (PetscInt d = 0; d < ncoord; d++) x[i * ncoord + d] = lo[d] + (hi[d] - lo[d]) * w[d];
    }
  }
  if (ref) {
    PetscScalar *us;
    PetscCall(PetscPrintf(comm, "values from the reference in %s\n", refdir));
    PetscCall(AzReferenceSolveCached(ref, refdir));
    PetscCall(PetscMalloc1(n * ncomp, &us));
    PetscCall(AzReferenceInterpolate(ref, n, x, us));
    for (PetscInt k = 0; k < n * ncomp; k++) u[k] = PetscRealPart(us[k]);
    PetscCall(PetscFree(us));
  } else {
    for (PetscInt i = 0; i < n; i++) {
      AzPoint     p = {x + i * ncoord, ncoord, param, -1};
      PetscScalar ue[AZ_MAX_COMP];
      PetscCall(info->exact(&p, ue));
      for (PetscInt c = 0; c < ncomp; c++) u[i * ncomp + c] = PetscRealPart(ue[c]);
    }
  }
  for (PetscInt k = 0; k < n * ncomp; k++) PetscCheck(!PetscIsInfOrNanReal(u[k]), comm, PETSC_ERR_FP, "The %s of %s is %g at point %" PetscInt_FMT " (component %" PetscInt_FMT "): no observations written", ref ? "reference" : "exact solution", info->name, (double)u[k], k / ncomp, k % ncomp);
  /* the noise: sigma_c = noise std(u_c) (the population std of the clean values), or noise itself */
  for (PetscInt c = 0; c < ncomp; c++) {
    PetscReal mean = 0, var = 0;
    for (PetscInt i = 0; i < n; i++) mean += u[i * ncomp + c];
    mean /= n;
    for (PetscInt i = 0; i < n; i++) var += PetscSqr(u[i * ncomp + c] - mean);
    sigma[c] = abs_noise ? noise : noise * PetscSqrtReal(var / n);
  }
  for (PetscInt i = 0; i < n; i++)
    for (PetscInt c = 0; c < ncomp; c++) u[i * ncomp + c] += sigma[c] * AzRunGaussian(AzSampleSeed(seed, 2, 0), i, c);

  for (PetscInt k = 0; k < nparam; k++) {
    char v[64], item[128];
    PetscCall(AzParamInfoFormatValue(&info->params[k], param[k], v, sizeof v));
    snprintf(item, sizeof item, "%s-az_%s_%s %s", k ? " " : "", info->name, info->params[k].name, v);
    PetscCall(PetscStrlcat(params, item, sizeof params));
  }
  for (PetscInt c = 0; c < ncomp; c++) {
    char item[64];
    snprintf(item, sizeof item, "%s%.6g", c ? "," : "", (double)sigma[c]);
    PetscCall(PetscStrlcat(sig, item, sizeof sig));
  }
  snprintf(head, sizeof head, "ansatz sample: problem %s, parameters: %s; %" PetscInt_FMT " points (%s%s%" PetscInt_FMT ") from the %s; noise %g %s: sigma = %s", info->name, params[0] ? params : "none", n, pfile[0] ? pfile : SampleKinds[kind], pfile[0] ? ", noise seed " : ", seed ", seed, ref ? "reference" : "exact solution", (double)noise,
           abs_noise ? "absolute" : "relative (sigma_c = noise * std(u_c))", sig);
  if (AzRunIsHDF5(out)) {
    AzH5Dataset       ds[2]   = {{"/coords", n, ncoord, x}, {"/values", n, ncomp, u}};
    char              nstr[32], seedstr[32], noisestr[32];
    const char *const attr[] = {"description", head, "problem", info->name, "parameters", params, "n", nstr, "seed", seedstr, "noise", noisestr, "sigma", sig};
    snprintf(nstr, sizeof nstr, "%" PetscInt_FMT, n);
    snprintf(seedstr, sizeof seedstr, "%" PetscInt_FMT, seed);
    snprintf(noisestr, sizeof noisestr, "%.17g", (double)noise);
    PetscCall(AzRunWriteHDF5(comm, out, 2, ds, 7, attr));
  } else {
    AzFile f;
    PetscCall(AzFileOpen(comm, out, &f));
    PetscCall(AzFilePrintf(f, "# %s\n", head));
    for (PetscInt d = 0; d < ncoord; d++) PetscCall(AzFilePrintf(f, "%s%c", d ? "," : "", d == ncoord - 1 && info->time_dependent ? 't' : "xyz"[d]));
    for (PetscInt c = 0; c < ncomp; c++) {
      char cn[64];
      PetscCall(AzRunComponentName(prob, c, cn, sizeof cn));
      PetscCall(AzFilePrintf(f, ",%s", cn));
    }
    PetscCall(AzFilePrintf(f, "\n"));
    for (PetscInt i = 0; i < n; i++) {
      for (PetscInt d = 0; d < ncoord; d++) PetscCall(AzFilePrintf(f, "%s%.17g", d ? "," : "", (double)x[i * ncoord + d]));
      for (PetscInt c = 0; c < ncomp; c++) PetscCall(AzFilePrintf(f, ",%.17g", (double)u[i * ncomp + c]));
      PetscCall(AzFilePrintf(f, "\n"));
    }
    PetscCall(AzFileClose(&f));
  }
  PetscCall(PetscPrintf(comm, "%s\nwritten to %s (read it with -az_data %s)\n", head, out, out));
  PetscCall(PetscFree2(x, u));
  PetscCall(AzReferenceDestroy(&ref));
  PetscCall(AzProblemDestroy(&prob));
  PetscFunctionReturn(PETSC_SUCCESS);
}
