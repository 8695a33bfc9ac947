/* `ansatz train`: train a field on a problem and write the run directory. */
#include "runimpl.h"
#include <ansatz/compat.h>
#include <errno.h>
#include <sys/stat.h>

/* The field for a problem: its coordinates, components, box and derivatives, then the options. */
PetscErrorCode AzRunCreateField(AzProblem prob, AzField *field)
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
  PetscCall(AzStreamCreateFromOptions(prob, &stream));
  if (stream) PetscCall(AzStreamGetNetwork(stream, &ncomp, &req));
  PetscCall(AzStreamDestroy(&stream));
  PetscCall(AzFieldCreate(comm, field));
  PetscCall(AzFieldSetDimensions(*field, ncoord, ncomp));
  PetscCall(AzFieldSetBox(*field, lo, hi));
  PetscCall(AzFieldSetJetRequest(*field, &req));
  /* a periodic axis is exact through the periodic embedding, the only way the field can satisfy it */
  for (PetscInt a = 0; a < info->dim; a++)
    if (info->boundary[2 * a].type == AZ_BC_PERIODIC) PetscCall(AzFieldSetPeriodic(*field, a, hi[a] - lo[a], 1));
  PetscCall(AzFieldSetFromOptions(*field));
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

PetscErrorCode AzRunWriteHistory(MPI_Comm comm, const char dir[], AzTrainer tr, AzLoss loss)
{
  char                  path[PETSC_MAX_PATH_LEN];
  FILE                 *fp;
  PetscInt              n, nterms;
  const AzHistoryEntry *h;

  PetscFunctionBegin;
  PetscCall(AzTrainerGetHistory(tr, &n, &h));
  PetscCall(AzLossGetNumTerms(loss, &nterms));
  snprintf(path, sizeof path, "%s/history.csv", dir);
  PetscCall(PetscFOpen(comm, path, "w", &fp));
  PetscCall(PetscFPrintf(comm, fp, "iteration,trainer,loss"));
  for (PetscInt k = 0; k < nterms; k++) {
    const char *name;
    PetscCall(AzLossGetTermName(loss, k, &name));
    PetscCall(PetscFPrintf(comm, fp, ",%s", name));
  }
  PetscCall(PetscFPrintf(comm, fp, ",rel_l2,wall_seconds\n"));
  for (PetscInt i = 0; i < n; i++) {
    char desc[128], *save = NULL, *stage;
    PetscCall(AzTrainerGetDescription(tr, desc, sizeof desc));
    stage = strtok_r(desc, ",", &save);
    for (PetscInt s = 0; s < h[i].stage && stage; s++) stage = strtok_r(NULL, ",", &save);
    PetscCall(PetscFPrintf(comm, fp, "%" PetscInt_FMT ",%s,%.10e", h[i].it, stage ? stage : "?", (double)h[i].loss));
    for (PetscInt k = 0; k < nterms; k++) PetscCall(PetscFPrintf(comm, fp, ",%.10e", (double)h[i].term[k]));
    PetscCall(PetscFPrintf(comm, fp, ",%.10e,%.4f\n", (double)h[i].rel_l2, (double)h[i].wall));
  }
  PetscCall(PetscFClose(comm, fp));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The field on a uniform grid as legacy VTK structured points (ParaView opens it); space-time
 * problems put time on the last axis. Rank 0 evaluates it: θ is replicated. Up to 3 coordinates. */
static PetscErrorCode WriteFieldVTK(MPI_Comm comm, const char dir[], AzProblem prob, AzField field, AzLoss loss, PetscInt m)
{
  const AzProblemInfo *info;
  const PetscReal     *param;
  PetscInt             ncoord, ncomp, nslot, total = 1;
  PetscReal            lo[AZ_MAX_COORD], hi[AZ_MAX_COORD];
  PetscMPIInt          rank;

  PetscFunctionBegin;
  PetscCall(AzProblemGetInfo(prob, &info));
  PetscCall(AzProblemGetNumCoords(prob, &ncoord));
  PetscCall(AzProblemGetParams(prob, &param));
  if (ncoord > 3) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  if (rank) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(AzProblemGetBox(prob, lo, hi));
  PetscCall(AzFieldGetJetSize(field, &ncomp, &nslot));
  for (PetscInt d = 0; d < ncoord; d++) total *= m;
  {
    PetscReal   *x;
    PetscScalar *jets, *ue;
    char         path[PETSC_MAX_PATH_LEN];
    FILE        *fp;

    PetscCall(PetscMalloc3(total * ncoord, &x, total * ncomp * nslot, &jets, total * ncomp, &ue));
    for (PetscInt i = 0; i < total; i++) {
      PetscInt q = i;
      for (PetscInt d = 0; d < ncoord; d++) {
        x[i * ncoord + d] = lo[d] + (hi[d] - lo[d]) * (PetscReal)(q % m) / (m - 1);
        q /= m;
      }
      if (info->exact) {
        AzPoint p = {x + i * ncoord, ncoord, param, -1};
        PetscCall(info->exact(&p, ue + i * ncomp));
      }
    }
    PetscCall(AzLossEvaluateSolution(loss, total, x, jets));
    snprintf(path, sizeof path, "%s/field.vtk", dir);
    fp = fopen(path, "w");
    PetscCheck(fp, PETSC_COMM_SELF, PETSC_ERR_FILE_OPEN, "Cannot write %s", path);
    fprintf(fp, "# vtk DataFile Version 3.0\nansatz %s field\nASCII\nDATASET STRUCTURED_POINTS\n", info->name);
    fprintf(fp, "DIMENSIONS %d %d %d\n", (int)m, ncoord > 1 ? (int)m : 1, ncoord > 2 ? (int)m : 1);
    fprintf(fp, "ORIGIN %.17g %.17g %.17g\n", (double)lo[0], ncoord > 1 ? (double)lo[1] : 0.0, ncoord > 2 ? (double)lo[2] : 0.0);
    fprintf(fp, "SPACING %.17g %.17g %.17g\n", (double)((hi[0] - lo[0]) / (m - 1)), ncoord > 1 ? (double)((hi[1] - lo[1]) / (m - 1)) : 1.0, ncoord > 2 ? (double)((hi[2] - lo[2]) / (m - 1)) : 1.0);
    fprintf(fp, "POINT_DATA %d\n", (int)total);
    for (PetscInt c = 0; c < ncomp; c++) {
      fprintf(fp, "SCALARS u%d double 1\nLOOKUP_TABLE default\n", (int)c);
      for (PetscInt i = 0; i < total; i++) fprintf(fp, "%.17g\n", (double)jets[(i * ncomp + c) * nslot]);
      if (info->exact) {
        fprintf(fp, "SCALARS exact%d double 1\nLOOKUP_TABLE default\n", (int)c);
        for (PetscInt i = 0; i < total; i++) fprintf(fp, "%.17g\n", (double)ue[i * ncomp + c]);
        fprintf(fp, "SCALARS error%d double 1\nLOOKUP_TABLE default\n", (int)c);
        for (PetscInt i = 0; i < total; i++) fprintf(fp, "%.17g\n", (double)(jets[(i * ncomp + c) * nslot] - ue[i * ncomp + c]));
      }
    }
    fclose(fp);
    PetscCall(PetscFree3(x, jets, ue));
  }
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
    char               path[PETSC_MAX_PATH_LEN];
    FILE              *fp;

    PetscCall(AzLossGetTermPoints(loss, k, &x));
    if (!x) continue; /* a conservation-law penalty: time slices, no points */
    PetscCall(AzLossGetTermName(loss, k, &name));
    PetscCall(VecScatterCreateToZero(x, &sc, &all));
    PetscCall(VecScatterBegin(sc, x, all, INSERT_VALUES, SCATTER_FORWARD));
    PetscCall(VecScatterEnd(sc, x, all, INSERT_VALUES, SCATTER_FORWARD));
    snprintf(path, sizeof path, "%s/points_%s.csv", dir, name);
    PetscCall(PetscFOpen(comm, path, "w", &fp));
    PetscCall(PetscFPrintf(comm, fp, "# collocation points of term %s, one point per line\n", name));
    PetscCall(VecGetLocalSize(all, &n));
    PetscCall(VecGetArrayRead(all, &a));
    for (PetscInt i = 0; i < n / ncoord; i++) {
      for (PetscInt d = 0; d < ncoord; d++) PetscCall(PetscFPrintf(comm, fp, "%s%.17g", d ? "," : "", (double)a[i * ncoord + d]));
      PetscCall(PetscFPrintf(comm, fp, "\n"));
    }
    PetscCall(VecRestoreArrayRead(all, &a));
    PetscCall(PetscFClose(comm, fp));
    PetscCall(VecScatterDestroy(&sc));
    PetscCall(VecDestroy(&all));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

static void JsonNumber(FILE *fp, PetscReal v)
{
  if (PetscIsInfOrNanReal(v)) fprintf(fp, "null");
  else fprintf(fp, "%.10e", (double)v);
}

PetscErrorCode AzRunTrain(MPI_Comm comm)
{
  char                 name[PETSC_MAX_PATH_LEN] = "poisson2d", dir[PETSC_MAX_PATH_LEN] = "", path[PETSC_MAX_PATH_LEN + 32], desc[128];
  AzProblem            prob;
  const AzProblemInfo *info;
  AzField              field;
  AzLoss               loss;
  AzTrainer            tr;
  PetscReal            f, term[AZ_MAX_TERMS], rel, maxabs, viol_bc, viol_ic, drift;
  PetscInt             ncoord, nterms, its, nparam;
  PetscLogDouble       t0, t1;
  PetscBool            has_exact, save_points = PETSC_FALSE, use_ref = PETSC_TRUE;
  AzReference          ref = NULL;
  PetscMPIInt          size, rank;

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_size(comm, &size));
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  PetscOptionsBegin(comm, NULL, "ansatz train", "ansatz");
  PetscCall(PetscOptionsString("-problem", "problem: a name from `ansatz list` or a path to a plugin .so", "AzProblemLoad", name, name, sizeof name, NULL));
  PetscCall(PetscOptionsString("-az_output_dir", "run directory (default runs/train-PROBLEM)", "AzRunTrain", dir, dir, sizeof dir, NULL));
  PetscCall(PetscOptionsBool("-az_reference", "without an exact solution, measure errors against the SUNDIALS/PETSc reference (computed or reused from its cache)", "AzRunTrain", use_ref, &use_ref, NULL));
  PetscCall(PetscOptionsBool("-az_save_points", "write the collocation sets to points_TERM.csv in the run directory", "AzRunTrain", save_points, &save_points, NULL));
  PetscOptionsEnd();
  PetscCall(AzProblemLoad(comm, name, &prob));
  PetscCall(AzProblemSetFromOptions(prob));
  PetscCall(AzProblemGetInfo(prob, &info));
  if (!dir[0]) snprintf(dir, sizeof dir, "runs/train-%s", info->name);

  PetscCall(AzProblemGetNumCoords(prob, &ncoord));
  PetscCall(AzRunCreateField(prob, &field));
  PetscCall(AzFieldGetNumParameters(field, &nparam));
  PetscCall(AzLossCreate(prob, field, &loss));
  PetscCall(AzLossSetFromOptions(loss));
  PetscCall(AzLossSetUp(loss));
  if (!info->exact && use_ref) {
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
  PetscCall(AzRunMakeDirectory(comm, dir));
  snprintf(path, sizeof path, "%s/checkpoint.bin", dir);
  PetscCall(AzTrainerSetCheckpointFile(tr, path));
  {
    /* the options in force, written before training so a crashed run can be repeated */
    PetscViewer v;
    snprintf(path, sizeof path, "%s/options.txt", dir);
    PetscCall(PetscViewerASCIIOpen(comm, path, &v));
    PetscCall(PetscOptionsView(NULL, v));
    PetscCall(PetscViewerDestroy(&v));
  }
  if (save_points) PetscCall(WritePoints(comm, dir, loss, ncoord));
  PetscCall(PetscPrintf(comm, "ansatz train: problem %s, %d rank(s), run directory %s\n", info->name, size, dir));
  PetscCall(AzFieldView(field, PETSC_VIEWER_STDOUT_(comm)));
  PetscCall(AzLossView(loss, PETSC_VIEWER_STDOUT_(comm)));

  PetscCall(PetscTime(&t0));
  PetscCall(AzTrainerTrain(tr));
  PetscCall(PetscTime(&t1));

  PetscCall(AzLossEvaluate(loss, &f, term, NULL));
  PetscCall(AzLossExactError(loss, &has_exact, &rel, &maxabs));
  PetscCall(AzLossConstraintViolation(loss, 200, &viol_bc, &viol_ic));
  PetscCall(AzLossConservationDrift(loss, &drift));
  PetscCall(AzLossGetNumTerms(loss, &nterms));
  PetscCall(AzTrainerGetIterations(tr, &its));
  PetscCall(AzTrainerGetDescription(tr, desc, sizeof desc));

  PetscCall(AzRunWriteHistory(comm, dir, tr, loss));
  snprintf(path, sizeof path, "%s/theta.bin", dir);
  PetscCall(AzFieldSave(field, comm, path));
  PetscCall(WriteFieldVTK(comm, dir, prob, field, loss, ncoord <= 2 ? 101 : 41));
  if (rank == 0) {
    FILE *fp;
    snprintf(path, sizeof path, "%s/summary.json", dir);
    fp = fopen(path, "w");
    PetscCheck(fp, PETSC_COMM_SELF, PETSC_ERR_FILE_OPEN, "Cannot write %s", path);
    fprintf(fp, "{\n  \"mode\": \"train\",\n  \"problem\": \"%s\",\n  \"trainer\": \"%s\",\n  \"iterations\": %d,\n  \"wall_seconds\": %.3f,\n  \"ranks\": %d,\n  \"parameters\": %d,\n", info->name, desc, (int)its, (double)(t1 - t0), size, (int)nparam);
    fprintf(fp, "  \"loss\": ");
    JsonNumber(fp, f);
    fprintf(fp, ",\n  \"final_loss\": {");
    for (PetscInt k = 0; k < nterms; k++) {
      const char *tn;
      PetscCall(AzLossGetTermName(loss, k, &tn));
      fprintf(fp, "%s\"%s\": ", k ? ", " : "", tn);
      JsonNumber(fp, term[k]);
    }
    fprintf(fp, "},\n  \"yardstick\": \"%s\",\n  \"rel_l2\": ", info->exact ? "exact" : (ref ? "reference" : "none"));
    JsonNumber(fp, rel);
    fprintf(fp, ",\n  \"max_abs_error\": ");
    JsonNumber(fp, maxabs);
    fprintf(fp, ",\n  \"max_boundary_violation\": ");
    JsonNumber(fp, viol_bc);
    fprintf(fp, ",\n  \"max_initial_violation\": ");
    JsonNumber(fp, viol_ic);
    fprintf(fp, ",\n  \"conservation_drift\": ");
    JsonNumber(fp, drift);
    {
      PetscBool hb = PETSC_FALSE, hi = PETSC_FALSE;
      PetscCall(PetscOptionsGetBool(NULL, NULL, "-az_hard_boundary", &hb, NULL));
      PetscCall(PetscOptionsGetBool(NULL, NULL, "-az_hard_initial", &hi, NULL));
      fprintf(fp, ",\n  \"boundary_constraint\": \"%s\",\n  \"initial_constraint\": \"%s\"", hb ? "hard" : "soft", info->time_dependent ? (hi ? "hard" : "soft") : "none");
    }
    fprintf(fp, "\n}\n");
    fclose(fp);
  }
  PetscCall(PetscPrintf(comm, "done: %" PetscInt_FMT " iterations in %.2f s, loss %.3e", its, (double)(t1 - t0), (double)f));
  if (has_exact) PetscCall(PetscPrintf(comm, ", rel_l2 %.3e, max_abs_error %.3e (against the %s)", (double)rel, (double)maxabs, info->exact ? "exact solution" : "reference"));
  PetscCall(PetscPrintf(comm, "\nconstraint violation: boundary %.3e%s", (double)viol_bc, info->time_dependent ? "" : "\n"));
  if (info->time_dependent) PetscCall(PetscPrintf(comm, ", initial %.3e\n", (double)viol_ic));
  PetscCall(PetscPrintf(comm, "run directory: %s (summary.json, history.csv, field.vtk, theta.bin, options.txt)\n", dir));

  PetscCall(AzTrainerDestroy(&tr));
  PetscCall(AzLossDestroy(&loss));
  PetscCall(AzReferenceDestroy(&ref));
  PetscCall(AzFieldDestroy(&field));
  PetscCall(AzProblemDestroy(&prob));
  PetscFunctionReturn(PETSC_SUCCESS);
}
