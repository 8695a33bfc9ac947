/* `ansatz train`: train a field on a problem and write the run directory. */
#include "runimpl.h"
#include "../util/blas.h"
#include <ansatz/compat.h>
#include <errno.h>
#include <sys/stat.h>

/* The field for a problem: its coordinates, components, box and derivatives, then the options. */
PetscErrorCode AzRunCreateField(AzProblem prob, AzField *field)
{
  PetscFunctionBegin;
  PetscCall(AzRunCreateFieldWithPrefix(prob, NULL, field));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzRunCreateFieldWithPrefix(AzProblem prob, const char prefix[], AzField *field)
{
  const AzProblemInfo *info;
  AzJetRequest         req;
  PetscReal            lo[AZ_MAX_COORD], hi[AZ_MAX_COORD];
  PetscInt             ncoord;
  MPI_Comm             comm;

  PetscFunctionBegin;
  PetscCall(AzProblemGetComm(prob, &comm));
  PetscCall(AzProblemGetInfo(prob, &info));
  PetscCall(AzProblemGetNumCoords(prob, &ncoord));
  PetscCall(AzProblemGetBox(prob, lo, hi));
  PetscInt             ncomp = info->ncomp;
  AzStream             stream;

  PetscCall(AzProblemGetJetRequest(prob, &req));
  PetscCall(AzJetRequestClose(&req));
  /* a stream function: the network outputs ψ and the other components, one derivative order more */
  PetscCall(AzStreamCreateFromOptions(prob, prefix, &stream)); /* -PREFIXaz_divfree, else -az_divfree */
  if (stream) PetscCall(AzStreamGetNetwork(stream, &ncomp, &req));
  PetscCall(AzStreamDestroy(&stream));
  /* a solved output layer (-az_hardpde): K basis functions per component */
  PetscCall(AzHardPDENetworkComponents(comm, prefix, ncomp, &ncomp));
  PetscCall(AzFieldCreate(comm, field));
  PetscCall(AzFieldSetDimensions(*field, ncoord, ncomp));
  PetscCall(AzFieldSetBox(*field, lo, hi));
  PetscCall(AzFieldSetJetRequest(*field, &req));
  /* a periodic axis is exact through the periodic embedding, the only way the field can satisfy it */
  for (PetscInt a = 0; a < info->dim; a++)
    if (info->boundary[2 * a].type == AZ_BC_PERIODIC) PetscCall(AzFieldSetPeriodic(*field, a, hi[a] - lo[a], 1));
  PetscCall(AzFieldSetFromOptions(*field));
  if (prefix) { /* compare's repeats: each run's network seed under its prefix */
    PetscInt  seed;
    PetscBool set;
    PetscCall(PetscOptionsGetInt(NULL, prefix, "-az_field_seed", &seed, &set));
    PetscCheck(!set || seed >= 0, comm, PETSC_ERR_ARG_OUTOFRANGE, "-%saz_field_seed %" PetscInt_FMT " must be >= 0", prefix, seed);
    if (set) PetscCall(AzFieldSetSeed(*field, seed));
  }
  PetscCall(AzFieldSetUp(*field));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzRunMakeDirectory(MPI_Comm comm, const char dir[])
{
  PetscMPIInt rank;
  int         err = 0;

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  if (rank == 0) {
    char path[PETSC_MAX_PATH_LEN];
    PetscCall(PetscStrncpy(path, dir, sizeof path));
    for (char *p = path + 1; *p && !err; p++) {
      if (*p != '/') continue;
      *p = 0;
      if (mkdir(path, 0777) && errno != EEXIST) err = errno;
      *p = '/';
    }
    if (!err && mkdir(path, 0777) && errno != EEXIST) err = errno;
  }
  PetscCallMPI(MPI_Bcast(&err, 1, MPI_INT, 0, comm));
  PetscCheck(!err, comm, PETSC_ERR_FILE_OPEN, "Cannot create the run directory %s: %s", dir, strerror(err));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The solution on a uniform grid as legacy VTK structured points (ParaView opens it): every component
 * of the solution (not of the network: a stream function has fewer outputs), with the exact solution
 * and the error when known; space-time problems put time on the last axis. Rank 0 evaluates it (θ is
 * replicated); the file is collective, so every rank learns of a failed write. Up to 3 coordinates. */
static PetscErrorCode WriteFieldVTK(MPI_Comm comm, const char dir[], AzProblem prob, AzLoss loss, PetscInt m, const PetscReal std[])
{
  const AzProblemInfo *info;
  const PetscReal     *param;
  PetscInt             ncoord, ncomp, nslot, total = 1;
  PetscReal            lo[AZ_MAX_COORD], hi[AZ_MAX_COORD];
  PetscMPIInt          rank;
  PetscReal           *x  = NULL;
  PetscScalar         *jets = NULL, *ue = NULL;
  char                 path[PETSC_MAX_PATH_LEN + 16];
  AzFile               f;

  PetscFunctionBegin;
  PetscCall(AzProblemGetInfo(prob, &info));
  PetscCall(AzProblemGetNumCoords(prob, &ncoord));
  PetscCall(AzProblemGetParams(prob, &param));
  if (ncoord > 3) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  PetscCall(AzProblemGetBox(prob, lo, hi));
  PetscCall(AzRunSolutionJetSize(prob, &ncomp, &nslot));
  for (PetscInt d = 0; d < ncoord; d++) total *= m;
  snprintf(path, sizeof path, "%s/field.vtk", dir);
  PetscCall(AzFileOpen(comm, path, &f));
  if (rank == 0) {
    PetscCall(PetscMalloc3(total * ncoord, &x, total * ncomp * nslot, &jets, total * ncomp, &ue));
    for (PetscInt i = 0; i < total; i++) {
      AzRunGridPoint(i, ncoord, m, lo, hi, x + i * ncoord);
      if (info->exact) {
        AzPoint p = {x + i * ncoord, ncoord, param, -1};
        PetscCall(info->exact(&p, ue + i * ncomp));
      }
    }
    PetscCall(AzLossEvaluateSolution(loss, total, x, jets));
    PetscCall(AzFilePrintf(f, "# vtk DataFile Version 3.0\nansatz %s field\nASCII\nDATASET STRUCTURED_POINTS\n", info->name));
    PetscCall(AzFilePrintf(f, "DIMENSIONS %d %d %d\n", (int)m, ncoord > 1 ? (int)m : 1, ncoord > 2 ? (int)m : 1));
    PetscCall(AzFilePrintf(f, "ORIGIN %.17g %.17g %.17g\n", (double)lo[0], ncoord > 1 ? (double)lo[1] : 0.0, ncoord > 2 ? (double)lo[2] : 0.0));
    PetscCall(AzFilePrintf(f, "SPACING %.17g %.17g %.17g\n", (double)((hi[0] - lo[0]) / (m - 1)), ncoord > 1 ? (double)((hi[1] - lo[1]) / (m - 1)) : 1.0, ncoord > 2 ? (double)((hi[2] - lo[2]) / (m - 1)) : 1.0));
    PetscCall(AzFilePrintf(f, "POINT_DATA %d\n", (int)total));
    for (PetscInt c = 0; c < ncomp; c++) {
      char name[64];
      PetscCall(AzRunComponentName(prob, c, name, sizeof name));
      PetscCall(AzFilePrintf(f, "SCALARS %s double 1\nLOOKUP_TABLE default\n", name));
      for (PetscInt i = 0; i < total; i++) PetscCall(AzFilePrintf(f, "%.17g\n", (double)PetscRealPart(jets[(i * ncomp + c) * nslot])));
      if (info->exact) {
        PetscCall(AzFilePrintf(f, "SCALARS %s_exact double 1\nLOOKUP_TABLE default\n", name));
        for (PetscInt i = 0; i < total; i++) PetscCall(AzFilePrintf(f, "%.17g\n", (double)PetscRealPart(ue[i * ncomp + c])));
        PetscCall(AzFilePrintf(f, "SCALARS %s_error double 1\nLOOKUP_TABLE default\n", name));
        for (PetscInt i = 0; i < total; i++) PetscCall(AzFilePrintf(f, "%.17g\n", (double)PetscRealPart(jets[(i * ncomp + c) * nslot] - ue[i * ncomp + c])));
      }
      if (std) { /* the Laplace approximation's pointwise standard deviation (-az_uncertainty) */
        PetscCall(AzFilePrintf(f, "SCALARS %s_std double 1\nLOOKUP_TABLE default\n", name));
        for (PetscInt i = 0; i < total; i++) PetscCall(AzFilePrintf(f, "%.17g\n", (double)std[i * ncomp + c]));
      }
    }
    PetscCall(PetscFree3(x, jets, ue));
  }
  PetscCall(AzFileClose(&f));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* points_<term>.csv: the collocation sets, so another implementation can train on the same points */
static PetscErrorCode WritePoints(MPI_Comm comm, const char dir[], AzLoss loss, PetscInt ncoord)
{
  PetscInt nterms;

  PetscFunctionBegin;
  PetscCall(AzLossGetNumTerms(loss, &nterms));
  for (PetscInt k = 0; k < nterms; k++) {
    Vec                x, all;
    VecScatter         sc;
    const char        *name;
    const PetscScalar *a;
    PetscInt           n;
    char               path[PETSC_MAX_PATH_LEN + 64];
    AzFile             f;

    PetscCall(AzLossGetTermPoints(loss, k, &x));
    if (!x) continue; /* a conservation-law penalty: time slices, no points */
    PetscCall(AzLossGetTermName(loss, k, &name));
    PetscCall(VecScatterCreateToZero(x, &sc, &all));
    PetscCall(VecScatterBegin(sc, x, all, INSERT_VALUES, SCATTER_FORWARD));
    PetscCall(VecScatterEnd(sc, x, all, INSERT_VALUES, SCATTER_FORWARD));
    snprintf(path, sizeof path, "%s/points_%s.csv", dir, name);
    PetscCall(AzFileOpen(comm, path, &f));
    PetscCall(AzFilePrintf(f, "# collocation points of term %s, one point per line\n", name));
    PetscCall(VecGetLocalSize(all, &n));
    PetscCall(VecGetArrayRead(all, &a));
    for (PetscInt i = 0; i < n / ncoord; i++) {
      for (PetscInt d = 0; d < ncoord; d++) PetscCall(AzFilePrintf(f, "%s%.17g", d ? "," : "", (double)PetscRealPart(a[i * ncoord + d])));
      PetscCall(AzFilePrintf(f, "\n"));
    }
    PetscCall(VecRestoreArrayRead(all, &a));
    PetscCall(AzFileClose(&f));
    PetscCall(VecScatterDestroy(&sc));
    PetscCall(VecDestroy(&all));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* summary.json: the results, the stop reason, and how every constraint was enforced */
static PetscErrorCode WriteSummary(MPI_Comm comm, const char dir[], const char recipe[], AzProblem prob, AzLoss loss, AzTrainer tr, AzReference ref, PetscInt nparam, PetscReal wall, PetscReal f, const PetscReal term[], PetscReal rel, PetscReal maxabs, PetscReal viol_bc, PetscReal viol_ic, PetscReal drift, const AzRunUncertainty *unc, const PetscReal istd[], AzField field, int blas_default)
{
  const AzProblemInfo *info;
  char                 path[PETSC_MAX_PATH_LEN + 16], desc[128];
  AzFile               file;
  PetscInt             its, nterms, nlaws, ncomp, nslot;
  PetscMPIInt          size;
  AzTrainerReason      reason;
  const char          *msg, *how, *common = NULL;
  const char           axes[] = "xyz";

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_size(comm, &size));
  PetscCall(AzProblemGetInfo(prob, &info));
  PetscCall(AzTrainerGetIterations(tr, &its));
  PetscCall(AzTrainerGetDescription(tr, desc, sizeof desc));
  PetscCall(AzTrainerGetStopReason(tr, &reason, &msg));
  PetscCall(AzLossGetNumTerms(loss, &nterms));
  PetscCall(AzLossGetNumConservationLaws(loss, &nlaws));
  PetscCall(AzRunSolutionJetSize(prob, &ncomp, &nslot));
  snprintf(path, sizeof path, "%s/summary.json", dir);
  PetscCall(AzFileOpen(comm, path, &file));
  PetscCall(AzFilePrintf(file, "{\n  \"mode\": \"train\",\n  \"status\": \"%s\",\n  \"stop_reason\": \"", reason == AZ_TRAINER_FAILED ? "failed" : "completed"));
  PetscCall(AzRunJsonString(file, msg));
  PetscCall(AzFilePrintf(file, "\",\n  \"problem\": \"%s\",\n  \"components\": [", info->name));
  for (PetscInt c = 0; c < ncomp; c++) {
    char name[64];
    PetscCall(AzRunComponentName(prob, c, name, sizeof name));
    PetscCall(AzFilePrintf(file, "%s\"%s\"", c ? ", " : "", name));
  }
  PetscCall(AzFilePrintf(file, "],\n  \"recipe\": \""));
  PetscCall(AzRunJsonString(file, recipe));
  PetscCall(AzFilePrintf(file, "\",\n  \"trainer\": \"%s\",\n  \"iterations\": %d,\n  \"wall_seconds\": %.3f,\n  \"ranks\": %d,\n  \"parameters\": %d,\n", desc, (int)its, (double)wall, size, (int)nparam));
  {
    /* OpenBLAS's threads: the counts pinned (0: OpenBLAS's own), OpenBLAS's own (OPENBLAS_NUM_THREADS
     * or the cores), its build and the core kernels it chose: what a run's bits depend on */
    PetscInt    ntr, nfield;
    const char *config, *core;
    PetscCall(AzTrainerGetBlasThreads(tr, &ntr));
    PetscCall(AzFieldGetBlasThreads(field, &nfield));
    AzBlasGetInfo(NULL, &config, &core);
    PetscCall(AzFilePrintf(file, "  \"blas\": {\"threads_trainer\": %d, \"threads_field\": %d, \"threads_default\": %d, \"config\": \"", (int)ntr, (int)nfield, blas_default));
    PetscCall(AzRunJsonString(file, config));
    PetscCall(AzFilePrintf(file, "\", \"core\": \""));
    PetscCall(AzRunJsonString(file, core));
    PetscCall(AzFilePrintf(file, "\"},\n"));
  }
  {
    PetscInt solves, linits, products;
    PetscCall(AzTrainerGetLinearIterations(tr, &solves, &linits, &products));
    PetscCall(AzFilePrintf(file, "  \"gn_linear_solves\": %d,\n  \"gn_cg_iterations\": %d,\n  \"gn_sketch_products\": %d,\n", (int)solves, (int)linits, (int)products));
  }
  {
    AzResampleType rs;
    PetscInt       npde, nres;
    PetscCall(AzLossGetResample(loss, &rs, NULL, &npde, &nres));
    PetscCall(AzFilePrintf(file, "  \"resample\": \"%s\",\n  \"pde_points\": %d,\n  \"points_resampled\": %d,\n", AzResampleTypes[rs], (int)npde, (int)nres));
  }
  {
    PetscInt           ninf;
    const char *const *names;
    PetscReal          v[AZ_MAX_PARAMS];
    PetscCall(AzLossGetInferred(loss, &ninf, &names, v));
    PetscCall(AzFilePrintf(file, "  \"inferred\": {"));
    for (PetscInt k = 0; k < ninf; k++) {
      PetscCall(AzFilePrintf(file, "%s\"%s\": {\"value\": ", k ? ", " : "", names[k]));
      PetscCall(AzRunJsonNumber(file, v[k]));
      PetscCall(AzFilePrintf(file, ", \"std\": ")); /* the Laplace approximation's (null without it) */
      PetscCall(AzRunJsonNumber(file, istd ? istd[k] : (PetscReal)NAN));
      PetscCall(AzFilePrintf(file, "}"));
    }
    PetscCall(AzFilePrintf(file, "},\n"));
  }
  PetscCall(AzFilePrintf(file, "  \"loss\": "));
  PetscCall(AzRunJsonNumber(file, f));
  PetscCall(AzFilePrintf(file, ",\n  \"final_loss\": {"));
  for (PetscInt k = 0; k < nterms; k++) {
    const char *tn;
    PetscCall(AzLossGetTermName(loss, k, &tn));
    PetscCall(AzFilePrintf(file, "%s\"%s\": ", k ? ", " : "", tn));
    PetscCall(AzRunJsonNumber(file, term[k]));
  }
  PetscCall(AzFilePrintf(file, "},\n  \"yardstick\": \"%s\",\n  \"rel_l2\": ", info->exact ? "exact" : (ref ? "reference" : "none")));
  PetscCall(AzRunJsonNumber(file, rel));
  PetscCall(AzFilePrintf(file, ",\n  \"max_abs_error\": "));
  PetscCall(AzRunJsonNumber(file, maxabs));
  PetscCall(AzFilePrintf(file, ",\n  \"max_boundary_violation\": "));
  PetscCall(AzRunJsonNumber(file, viol_bc));
  PetscCall(AzFilePrintf(file, ",\n  \"max_initial_violation\": "));
  PetscCall(AzRunJsonNumber(file, viol_ic));
  PetscCall(AzFilePrintf(file, ",\n  \"conservation_drift_vs_Qstar\": "));
  PetscCall(AzRunJsonNumber(file, drift));
  /* the yardstick's self-verification (null with an exact solution or without a reference) */
  PetscCall(AzFilePrintf(file, ",\n  \"reference\": "));
  if (ref) {
    char ver[4096];
    PetscCall(AzReferenceVerificationJSON(ref, ver, sizeof ver, "    "));
    PetscCall(AzFilePrintf(file, "{\n%s\n  }", ver));
  } else PetscCall(AzFilePrintf(file, "null"));
  /* how each condition was enforced, as the loss applied it; boundary_constraint: the faces' common
   * strategy ("mixed" when they differ, "none" without a face condition) */
  PetscCall(AzFilePrintf(file, ",\n  \"constraints\": {"));
  for (PetscInt face = 0; face < 2 * info->dim; face++) {
    PetscCall(AzLossGetConditionStrategy(loss, face, &how));
    PetscCall(AzFilePrintf(file, "%s\"bc_%c%d\": \"%s\"", face ? ", " : "", axes[face / 2], (int)(face % 2), how));
    if (strcmp(how, "none") && strcmp(how, "periodic")) common = !common || !strcmp(common, how) ? how : "mixed";
  }
  PetscCall(AzLossGetConditionStrategy(loss, AZ_COND_INITIAL, &how));
  PetscCall(AzFilePrintf(file, ", \"initial\": \"%s\"},\n  \"boundary_constraint\": \"%s\",\n  \"initial_constraint\": \"%s\",\n  \"conservation\": {", how, common ? common : "none", how));
  for (PetscInt l = 0; l < nlaws; l++) {
    PetscCall(AzLossGetLawStrategy(loss, l, &how));
    PetscCall(AzFilePrintf(file, "%s\"%s\": \"%s\"", l ? ", " : "", info->conservation[l].name, how));
  }
  PetscCall(AzLossGetPositivityStrategy(loss, &how));
  PetscCall(AzFilePrintf(file, "},\n  \"positivity\": \"%s\",\n", how));
  PetscCall(AzLossGetBoundsStrategy(loss, &how));
  PetscCall(AzFilePrintf(file, "  \"bounds\": \"%s\",\n  \"data\": ", how));
  {
    /* the observations of -az_data and their noise model (null without data) */
    const char      *dfile;
    PetscInt         nobs;
    const PetscReal *sigma, *weight;
    PetscCall(AzLossGetData(loss, &dfile, &nobs, &sigma, &weight));
    if (dfile) {
      PetscCall(AzFilePrintf(file, "{\"file\": \""));
      PetscCall(AzRunJsonString(file, dfile));
      PetscCall(AzFilePrintf(file, "\", \"observations\": %" PetscInt_FMT ", \"noise\": [", nobs));
      for (PetscInt c = 0; c < ncomp; c++) {
        PetscCall(AzFilePrintf(file, "%s", c ? ", " : ""));
        PetscCall(AzRunJsonNumber(file, sigma[c]));
      }
      PetscCall(AzFilePrintf(file, "], \"weights\": ["));
      for (PetscInt c = 0; c < ncomp; c++) {
        PetscCall(AzFilePrintf(file, "%s", c ? ", " : ""));
        PetscCall(AzRunJsonNumber(file, weight[c]));
      }
      PetscCall(AzFilePrintf(file, "]}"));
    } else PetscCall(AzFilePrintf(file, "null"));
  }
  PetscCall(AzFilePrintf(file, ",\n  \"probconserv\": "));
  PetscCall(AzRunProbConservJSON(file, loss));
  PetscCall(AzFilePrintf(file, ",\n  \"uncertainty\": "));
  PetscCall(AzRunUncertaintyJSON(file, unc));
  PetscCall(AzFilePrintf(file, "\n}\n"));
  PetscCall(AzFileClose(&file));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* inferred.txt: the inferred parameters as options (-az_PROBLEM_NAME value), which `ansatz eval -az_run`
 * and a rerun read: the problem as the run found it */
static PetscErrorCode WriteInferred(MPI_Comm comm, const char dir[], AzProblem prob, AzLoss loss, const PetscReal istd[])
{
  const AzProblemInfo *info;
  const char *const   *names;
  PetscReal            v[AZ_MAX_PARAMS];
  PetscInt             n;
  char                 path[PETSC_MAX_PATH_LEN + 16];
  AzFile               f;

  PetscFunctionBegin;
  PetscCall(AzProblemGetInfo(prob, &info));
  PetscCall(AzLossGetInferred(loss, &n, &names, v));
  snprintf(path, sizeof path, "%s/inferred.txt", dir);
  PetscCall(AzFileOpen(comm, path, &f));
  PetscCall(AzFilePrintf(f, "# ansatz train: the parameters inferred by this run, as options\n"));
  for (PetscInt k = 0; k < n; k++) {
    if (!PetscIsInfOrNanReal(istd[k])) PetscCall(AzFilePrintf(f, "# %s = %.10g +- %.3g (one standard deviation, Laplace approximation)\n", names[k], (double)v[k], (double)istd[k]));
    PetscCall(AzFilePrintf(f, "-az_%s_%s %.17g\n", info->name, names[k], (double)v[k]));
  }
  PetscCall(AzFileClose(&f));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* the inferred parameters' standard deviations from the Laplace approximation (NaN without one):
 * σ_p = |dp/ds| σ_s, s the parameter's unknown in θ */
static PetscErrorCode InferredStd(AzLoss loss, AzLaplace lap, PetscReal std[])
{
  PetscInt  n, idx[AZ_MAX_PARAMS];
  PetscReal var[AZ_MAX_PARAMS], dp[AZ_MAX_PARAMS];

  PetscFunctionBegin;
  PetscCall(AzLossGetInferred(loss, &n, NULL, NULL));
  for (PetscInt k = 0; k < n; k++) std[k] = (PetscReal)NAN;
  if (!lap || !n) PetscFunctionReturn(PETSC_SUCCESS);
  for (PetscInt k = 0; k < n; k++) PetscCall(AzLossGetInferredIndex(loss, k, &idx[k], NULL, &dp[k]));
  PetscCall(AzLaplaceGetVariance(lap, n, idx, var));
  for (PetscInt k = 0; k < n; k++) std[k] = PetscAbsReal(dp[k]) * PetscSqrtReal(PetscMax(var[k], 0));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* the results a train run writes: a previous run's are removed before this one starts */
static const char *const TrainFiles[] = {"inferred.txt", "summary.json", "history.csv", "theta.bin", "theta.bin.info", "field.vtk", "field.h5", "field.xmf", "checkpoint.bin", "checkpoint.bin.info", "options.txt", "points_*.csv", "uncertainty.dat", "uncertainty.gp", "uncertainty.log", "uncertainty*.png", NULL};

PetscErrorCode AzRunTrain(MPI_Comm comm)
{
  char                 name[PETSC_MAX_PATH_LEN] = "poisson2d", dir[PETSC_MAX_PATH_LEN] = "", path[PETSC_MAX_PATH_LEN + 32], stop[512] = "", recipe[2048];
  AzProblem            prob;
  const AzProblemInfo *info;
  AzField              field;
  AzLoss               loss;
  AzTrainer            tr;
  PetscReal            f, term[AZ_MAX_TERMS], rel, maxabs, viol_bc, viol_ic, drift;
  PetscInt             ncoord, its, nparam, ninfer, blas_threads;
  int                  blas_default; /* OpenBLAS's own thread count, outside the pinned sections */
  const char *const   *inames;
  PetscReal            inferred[AZ_MAX_PARAMS];
  PetscLogDouble       t0, t1;
  PetscBool            has_exact, save_points = PETSC_FALSE, use_ref = PETSC_TRUE, uncertainty = PETSC_FALSE, uncertainty_set, uncertainty_auto = PETSC_FALSE;
  PetscReal            inferred_std[AZ_MAX_PARAMS];
  AzRunUncertainty     unc;
  AzLaplace            pclap = NULL; /* probconserv's, conditioned on its constraints */
  char                 pcwhy[1024] = "";  /* why its update was refused ("" when it was not) */
  AzReference          ref = NULL;
  PetscMPIInt          size, rank;
  AzTrainerReason      reason;
  const char          *msg;

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_size(comm, &size));
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  PetscOptionsBegin(comm, NULL, "ansatz train", "ansatz");
  PetscCall(PetscOptionsString("-problem", "problem: a name from `ansatz list` or a path to a plugin .so", "AzProblemLoad", name, name, sizeof name, NULL));
  PetscCall(PetscOptionsString("-az_output_dir", "run directory (default runs/train-PROBLEM)", "AzRunTrain", dir, dir, sizeof dir, NULL));
  PetscCall(PetscOptionsBool("-az_reference", "without an exact solution, measure errors against the SUNDIALS/PETSc reference (computed or reused from its cache)", "AzRunTrain", use_ref, &use_ref, NULL));
  PetscCall(PetscOptionsBool("-az_save_points", "write the collocation sets to points_TERM.csv in the run directory", "AzRunTrain", save_points, &save_points, NULL));
  PetscCall(PetscOptionsBool("-az_uncertainty", "after training, the Laplace approximation of the posterior: sigma^2, the field's pointwise standard deviation (field.vtk, uncertainty.png, summary.json)", "AzLaplaceCreate", uncertainty, &uncertainty, &uncertainty_set));
  PetscOptionsEnd();
  PetscCall(AzProblemLoad(comm, name, &prob));
  PetscCall(AzProblemSetFromOptions(prob));
  PetscCall(AzProblemGetInfo(prob, &info));
  if (!dir[0]) snprintf(dir, sizeof dir, "runs/train-%s", info->name);
  PetscCall(AzRunApplyRecipe(prob, PETSC_TRUE, PETSC_TRUE, recipe, sizeof recipe));
  PetscCall(PetscPrintf(comm, "recipe (options not given, -az_recipe none for none): %s\n", recipe[0] ? recipe : "(every option given)"));

  PetscCall(AzProblemGetNumCoords(prob, &ncoord));
  PetscCall(AzRunCreateField(prob, &field));
  PetscCall(AzLossCreate(prob, field, &loss));
  PetscCall(AzLossSetFromOptions(loss));
  PetscCall(AzLossSetUp(loss));
  PetscCall(AzFieldGetNumParameters(field, &nparam)); /* the network's and the inferred parameters' */
  PetscCall(AzLossGetInferred(loss, &ninfer, &inames, NULL));
  /* an inverse run reports its parameters with their standard deviations: the Laplace approximation is
   * on unless -az_uncertainty says otherwise, and where it cannot be made (too many parameters, data
   * that the network interpolates) the run says so and keeps its results */
  if (ninfer && !uncertainty_set) uncertainty = uncertainty_auto = PETSC_TRUE;
  /* an inverse run measures its field against the problem at the parameters it infers: the reference
   * is solved after training */
  if (!info->exact && use_ref && !ninfer) {
    char refdir[PETSC_MAX_PATH_LEN];
    PetscCall(AzReferenceCreate(comm, prob, &ref));
    PetscCall(AzReferenceSetFromOptions(ref));
    PetscCall(AzReferenceGetDefaultDir(prob, refdir, sizeof refdir));
    PetscCall(PetscPrintf(comm, "no exact solution: errors are measured against the reference in %s\n", refdir));
    PetscCall(AzReferenceSolveCached(ref, refdir));
    PetscCall(AzLossSetReference(loss, ref));
  }
  PetscCall(AzTrainerCreate(loss, field, &tr));
  PetscCall(AzTrainerSetFromOptions(tr));
  /* the trainer's BLAS threads for the rest of the run too: after training, the Laplace approximation
   * and the probconserv update factor dense P x P matrices (src/util/blas.h) */
  PetscCall(AzTrainerGetBlasThreads(tr, &blas_threads));
  AzBlasThreadsPush(blas_threads, &blas_default);
  if (uncertainty_auto) { /* on by default: what it cannot do is a note */
    PetscErrorCode ierr;
    PetscCall(PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
    ierr = AzLaplaceCheckOptions(loss);
    PetscCall(PetscPopErrorHandler());
    if (ierr) {
      const char *text;
      char       *specific = NULL;
      PetscCall(PetscErrorMessage(ierr, &text, &specific));
      PetscCall(PetscPrintf(comm, "no uncertainty for the inferred parameters: %s\n", specific && specific[0] ? specific : (text ? text : "the Laplace approximation cannot be made")));
      uncertainty = uncertainty_auto = PETSC_FALSE;
    }
  } else if (uncertainty) PetscCall(AzLaplaceCheckOptions(loss)); /* the -az_laplace_* options, read before training */
  PetscCall(AzOptionsCheckpoint(comm, PETSC_TRUE)); /* a misspelled option fails here, before training; -help stops here */
  snprintf(path, sizeof path, "%s/field.h5.tmp", dir); /* refused before training, not when field.h5 is written */
  PetscCall(AzFileCheckHDF5Path(comm, path, "-az_output_dir"));
  PetscCall(AzRunMakeDirectory(comm, dir));
  /* nothing of a previous run may stand beside this run's options.txt (a restart or load file stays) */
  PetscCall(AzRunRemoveStale(comm, dir, TrainFiles));
  snprintf(path, sizeof path, "%s/checkpoint.bin", dir);
  PetscCall(AzTrainerSetCheckpointFile(tr, path));
  /* the options in force, written before training so a crashed run can be repeated */
  PetscCall(AzRunWriteOptions(comm, prob, dir));
  PetscCall(PetscPrintf(comm, "ansatz train: problem %s, %d rank(s), run directory %s\n", info->name, size, dir));
  PetscCall(AzFieldView(field, PETSC_VIEWER_STDOUT_(comm)));
  PetscCall(AzLossView(loss, PETSC_VIEWER_STDOUT_(comm)));

  PetscCall(PetscTime(&t0));
  PetscCall(AzTrainerTrain(tr));
  PetscCall(PetscTime(&t1));
  /* a failed training still leaves its results: the last good parameters, the history, the summary
   * with the reason; the error (a non-zero exit) comes after them */
  PetscCall(AzTrainerGetStopReason(tr, &reason, &msg));
  PetscCall(PetscStrncpy(stop, msg, sizeof stop));

  PetscCall(AzLossHardPDEFinalSolve(loss)); /* -az_hardpde: the weights at the final ridge (-az_hardpde_final_ridge) */
  PetscCall(AzLossEvaluate(loss, &f, term, NULL));
  if (ninfer) {
    PetscCall(AzLossGetInferred(loss, &ninfer, &inames, inferred));
    if (!info->exact && use_ref) { /* the yardstick at the inferred parameters */
      char refdir[PETSC_MAX_PATH_LEN];
      PetscCall(AzReferenceCreate(comm, prob, &ref));
      PetscCall(AzReferenceSetFromOptions(ref));
      PetscCall(AzReferenceGetDefaultDir(prob, refdir, sizeof refdir));
      PetscCall(PetscPrintf(comm, "no exact solution: errors are measured against the reference at the inferred parameters, in %s\n", refdir));
      PetscCall(AzReferenceSolveCached(ref, refdir));
      PetscCall(AzLossSetReference(loss, ref));
    }
  }
  /* -az_conservation probconserv: the update after training, before anything is measured: the errors,
   * drift and fields below are the corrected solution's */
  PetscCall(AzRunProbConserv(comm, loss, (PetscBool)(reason == AZ_TRAINER_FAILED), "", &pclap, pcwhy, sizeof pcwhy));
  PetscCall(AzLossExactError(loss, &has_exact, &rel, &maxabs));
  PetscCall(AzLossConstraintViolation(loss, 200, &viol_bc, &viol_ic));
  PetscCall(AzLossConservationDrift(loss, &drift));
  PetscCall(AzTrainerGetIterations(tr, &its));

  PetscCall(AzRunWriteHistory(comm, dir, tr, loss));
  if (save_points) PetscCall(WritePoints(comm, dir, loss, ncoord)); /* after training: the final set (resampling moves it) */
  snprintf(path, sizeof path, "%s/theta.bin", dir);
  PetscCall(AzFieldSave(field, comm, path));
  /* the Laplace approximation at the trained θ (-az_uncertainty): unc.lap is live until the end, for
   * AzLaplaceGetVariance of chosen entries of θ */
  if (uncertainty_auto) { /* on by default (an inverse run): a refusal is a note, not a failed run */
    PetscErrorCode ierr;
    PetscCall(PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
    ierr = AzRunUncertaintyCompute(comm, prob, loss, (PetscBool)(reason != AZ_TRAINER_FAILED), ncoord <= 2 ? 101 : 41, pclap, &unc);
    pclap = NULL; /* unc's now */
    PetscCall(PetscPopErrorHandler());
    if (ierr) {
      const char *text;
      char       *specific = NULL;
      PetscCall(PetscErrorMessage(ierr, &text, &specific));
      PetscCall(PetscPrintf(comm, "no uncertainty for the inferred parameters: %s\n", specific && specific[0] ? specific : (text ? text : "the Laplace approximation failed")));
      PetscCall(AzRunUncertaintyDestroy(&unc));
      PetscCall(AzRunUncertaintyCompute(comm, prob, loss, PETSC_FALSE, 0, NULL, &unc));
      uncertainty = PETSC_FALSE;
    }
  } else {
    const PetscBool on = (PetscBool)(uncertainty && reason != AZ_TRAINER_FAILED); /* not after a failure */
    PetscCall(AzRunUncertaintyCompute(comm, prob, loss, on, ncoord <= 2 ? 101 : 41, on ? pclap : NULL, &unc));
    if (on) pclap = NULL; /* unc's now */
  }
  PetscCall(AzLaplaceDestroy(&pclap)); /* probconserv's, when the field's std is not asked for */
  PetscCall(WriteFieldVTK(comm, dir, prob, loss, ncoord <= 2 ? 101 : 41, unc.std));
  {
    /* field.h5 + field.xmf for ParaView, with the pointwise standard deviation when there is one */
    PetscInt    ncomp, nslot, npts;
    PetscReal  *gx = NULL, *gstd = NULL, *cstd[AZ_MAX_COMP] = {NULL};
    char        sname[AZ_MAX_COMP][72];
    const char *snames[AZ_MAX_COMP];
    PetscBool   has_std = unc.lap && !PetscIsNanReal(unc.std_mean) ? PETSC_TRUE : PETSC_FALSE;

    PetscCall(AzRunSolutionJetSize(prob, &ncomp, &nslot));
    if (has_std) {
      PetscCall(AzRunFieldGrid(prob, NULL, NULL, &npts, &gx));
      PetscCall(AzRunUncertaintyAtPoints(comm, unc.lap, npts, ncoord, ncomp, gx, &gstd));
      for (PetscInt c = 0; c < ncomp; c++) {
        char cn[64];
        PetscCall(AzRunComponentName(prob, c, cn, sizeof cn));
        snprintf(sname[c], sizeof sname[c], "%s_std", cn);
        snames[c] = sname[c];
        if (gstd) {
          PetscCall(PetscMalloc1(npts, &cstd[c]));
          for (PetscInt i = 0; i < npts; i++) cstd[c][i] = gstd[i * ncomp + c];
        }
      }
    }
    PetscCall(AzRunWriteField(comm, dir, prob, loss, ref, has_std ? ncomp : 0, snames, (const PetscReal *const *)cstd));
    for (PetscInt c = 0; c < ncomp; c++) PetscCall(PetscFree(cstd[c]));
    PetscCall(PetscFree(gstd));
    PetscCall(PetscFree(gx));
  }
  if (ninfer) {
    PetscCall(InferredStd(loss, unc.lap, inferred_std)); /* the inferred parameters' ±σ (NaN without the Laplace approximation) */
    for (PetscInt k = 0; k < ninfer; k++) {
      if (PetscIsInfOrNanReal(inferred_std[k])) PetscCall(PetscPrintf(comm, "inferred %s = %.10g\n", inames[k], (double)inferred[k]));
      else PetscCall(PetscPrintf(comm, "inferred %s = %.10g +- %.3g (one standard deviation, Laplace approximation)\n", inames[k], (double)inferred[k], (double)inferred_std[k]));
    }
  }
  PetscCall(WriteSummary(comm, dir, recipe, prob, loss, tr, ref, nparam, (PetscReal)(t1 - t0), f, term, rel, maxabs, viol_bc, viol_ic, drift, uncertainty ? &unc : NULL, inferred_std, field, blas_default));
  if (ninfer) PetscCall(WriteInferred(comm, dir, prob, loss, inferred_std));
  if (uncertainty) PetscCall(AzRunUncertaintyPlot(comm, dir, prob, loss, ncoord <= 2 ? 101 : 41, &unc));
  PetscCall(PetscPrintf(comm, "%s: %" PetscInt_FMT " iterations in %.2f s, loss %.3e", reason == AZ_TRAINER_FAILED ? "failed" : "done", its, (double)(t1 - t0), (double)f));
  if (has_exact) PetscCall(PetscPrintf(comm, ", rel_l2 %.3e, max_abs_error %.3e (against the %s)", (double)rel, (double)maxabs, info->exact ? "exact solution" : "reference"));
  if (ref) {
    char                    line[1024];
    AzReferenceVerification v;
    PetscCall(AzReferenceGetVerification(ref, &v));
    PetscCall(AzReferenceGetVerificationLine(ref, line, sizeof line));
    PetscCall(PetscPrintf(comm, "\n%s%s", line, v.verified ? "" : ": the yardstick is unverified, so is the error against it"));
  }
  if (PetscIsNanReal(viol_bc)) PetscCall(PetscPrintf(comm, "\nconstraint violation: boundary n/a (no face has a condition)%s", info->time_dependent ? "" : "\n"));
  else PetscCall(PetscPrintf(comm, "\nconstraint violation: boundary %.3e%s", (double)viol_bc, info->time_dependent ? "" : "\n"));
  if (info->time_dependent) PetscCall(PetscPrintf(comm, ", initial %.3e\n", (double)viol_ic));
  if (uncertainty) PetscCall(AzRunUncertaintyPrint(comm, &unc));
  PetscCall(PetscPrintf(comm, "run directory: %s (summary.json, history.csv, field.vtk, field.h5 + field.xmf, theta.bin, options.txt%s%s)\n", dir, ninfer ? ", inferred.txt" : "", unc.plot ? ", uncertainty.png" : ""));
  PetscCall(AzRunUncertaintyDestroy(&unc));
  AzBlasThreadsPop(blas_threads, blas_default);

  PetscCall(AzTrainerDestroy(&tr));
  PetscCall(AzLossDestroy(&loss));
  PetscCall(AzReferenceDestroy(&ref));
  PetscCall(AzFieldDestroy(&field));
  PetscCall(AzProblemDestroy(&prob));
  PetscCheck(reason != AZ_TRAINER_FAILED, comm, PETSC_ERR_NOT_CONVERGED, "Training failed: %s. The last good parameters (theta.bin), the history and summary.json are in %s", stop, dir);
  PetscCheck(!pcwhy[0], comm, PETSC_ERR_ARG_WRONG, "%s. The trained results, uncorrected, are in %s", pcwhy, dir);
  PetscFunctionReturn(PETSC_SUCCESS);
}
