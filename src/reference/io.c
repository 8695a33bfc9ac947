/* Storing a reference and reusing it.
 *
 *   DIR/reference.bin (or .h5)   the snapshots in natural ordering, so any rank count can load them
 *   DIR/reference.options        the settings that produced them: the cache key, written last, so a
 *                                directory with a matching key always holds a complete reference
 *   DIR/reference.verification   the half-resolution error estimate (verify.c), written before the key
 *   DIR/summary.json             grid, order, tolerances, counters, wall time, error vs exact, the
 *                                self-verification
 */
#include "refimpl.h"
#include <ansatz/file.h>
#include <errno.h>
#include <sys/stat.h>

/* Everything that determines the stored numbers, one setting a line. Rank count, linear solvers and
 * the Jacobian type are left out: they change the result only within the solver tolerance. */
PetscErrorCode AzRefCacheKey(AzReference ref, char buf[], size_t len)
{
  const PetscReal *param;
  const char      *code;
  PetscInt         nparam;
  size_t           off = 0;

  PetscFunctionBegin;
#define AZ_PUT(...) \
  do { \
    int w_ = snprintf(buf + off, len > off ? len - off : 0, __VA_ARGS__); \
    if (w_ > 0) off += (size_t)w_; \
  } while (0)
  PetscCall(AzRefResolveMethod(ref));
  PetscCall(AzProblemGetParams(ref->prob, &param));
  PetscCall(AzProblemGetNumParams(ref->prob, &nparam));
  PetscCall(AzProblemGetCodeHash(ref->prob, &code));
  /* the plugin's code too: a residual changed under the same name and parameters is another problem */
  /* 3: the directory also holds reference.verification */
  AZ_PUT("ansatz-reference 3\nproblem %s\ndescription %s\ncode %s\n", ref->info->name, ref->info->description, code);
  for (PetscInt k = 0; k < nparam; k++) AZ_PUT("param %s %.17g\n", ref->info->params[k].name, (double)param[k]);
  /* fd keys keep their old form, so stored fd references stay valid */
  if (ref->method != AZ_REFERENCE_FD) AZ_PUT("method %s\n", AzRefMethodNames[ref->method]);
  AZ_PUT("grid");
  for (PetscInt a = 0; a < ref->dim; a++) AZ_PUT(" %" PetscInt_FMT, ref->n[a]);
  AZ_PUT("\norder %" PetscInt_FMT "\n", ref->order);
  if (ref->td) {
    AZ_PUT("time %.17g %.17g\nnt_out %" PetscInt_FMT "\n", (double)ref->info->t0, (double)ref->info->t1, ref->nt_out);
    AZ_PUT("integrator %s%s\n", AzRefIntegratorNames[ref->integrator], ref->integrator == AZ_REF_CVODE ? (ref->cvode_adams ? " adams" : " bdf") : (ref->integrator == AZ_REF_ARKODE ? (ref->arkode_explicit ? " erk" : " dirk") : ""));
  } else AZ_PUT("solver %s\n", AzRefSteadySolverNames[ref->solver]);
  AZ_PUT("rtol %.17g\natol %.17g\nformat %s\n", (double)ref->rtol, (double)ref->atol, AzRefFormatNames[ref->format]);
#undef AZ_PUT
  PetscCheck(off < len, ref->comm, PETSC_ERR_PLIB, "Reference cache key longer than %zu characters", len);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* mkdir -p on rank 0; every rank learns whether it worked */
static PetscErrorCode MakeDirectory(MPI_Comm comm, const char dir[])
{
  PetscMPIInt rank;
  int         err = 0;
  char        path[PETSC_MAX_PATH_LEN];

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  if (rank == 0) {
    PetscCall(PetscStrncpy(path, dir, sizeof path));
    for (char *p = path + 1; *p && !err; p++) {
      if (*p != '/') continue;
      *p = 0;
      if (mkdir(path, 0755) && errno != EEXIST) err = errno;
      *p = '/';
    }
    if (!err && mkdir(path, 0755) && errno != EEXIST) err = errno;
  }
  PetscCallMPI(MPI_Bcast(&err, 1, MPI_INT, 0, comm));
  PetscCheck(!err, comm, PETSC_ERR_FILE_OPEN, "Cannot create the directory %s for the reference: %s", dir, strerror(err));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static void DataPath(AzReference ref, const char dir[], char path[], size_t len)
{
  snprintf(path, len, "%s/reference.%s", dir, ref->format == AZ_REF_FORMAT_HDF5 ? "h5" : "bin");
}

/* the data file's path, as AzReferenceWrite will open it, checked before a solve that could take long */
PetscErrorCode AzRefCheckWritePath(AzReference ref, const char dir[])
{
  char path[PETSC_MAX_PATH_LEN], tmp[PETSC_MAX_PATH_LEN + 8];

  PetscFunctionBegin;
  DataPath(ref, dir, path, sizeof path);
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  if (ref->format == AZ_REF_FORMAT_HDF5) PetscCall(AzFileCheckHDF5Path(ref->comm, tmp, "The reference"));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode OpenData(AzReference ref, const char path[], PetscFileMode mode, PetscViewer *v)
{
  PetscFunctionBegin;
  /* by type name, so that HDF5's own headers are not needed here */
  if (ref->format == AZ_REF_FORMAT_HDF5) PetscCall(AzFileCheckHDF5Path(ref->comm, path, "The reference"));
  PetscCall(PetscViewerCreate(ref->comm, v));
  PetscCall(PetscViewerSetType(*v, ref->format == AZ_REF_FORMAT_HDF5 ? PETSCVIEWERHDF5 : PETSCVIEWERBINARY));
  PetscCall(PetscViewerFileSetMode(*v, mode));
  if (ref->format == AZ_REF_FORMAT_BINARY) PetscCall(PetscViewerBinarySetSkipInfo(*v, PETSC_TRUE));
  PetscCall(PetscViewerFileSetName(*v, path));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* JSON string content: escape quotes and backslashes */
static void JsonEscape(const char *s, char out[], size_t len)
{
  size_t o = 0;
  for (; s && *s && o + 2 < len; s++) {
    if (*s == '"' || *s == '\\') out[o++] = '\\';
    out[o++] = *s;
  }
  out[o] = 0;
}

static PetscErrorCode WriteSummary(AzReference ref, const char dir[])
{
  char        path[PETSC_MAX_PATH_LEN], desc[512];
  AzFile      fp;
  PetscMPIInt size;
  PetscInt    nodes = 1;

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_size(ref->comm, &size));
  for (PetscInt a = 0; a < ref->dim; a++) nodes *= ref->n[a];
  JsonEscape(ref->info->description, desc, sizeof desc);
  snprintf(path, sizeof path, "%s/summary.json", dir);
  PetscCall(AzFileOpen(ref->comm, path, &fp));
  PetscCall(AzFilePrintf(fp, "{\n  \"problem\": \"%s\",\n  \"description\": \"%s\",\n  \"dim\": %" PetscInt_FMT ",\n  \"components\": %" PetscInt_FMT ",\n  \"grid\": [", ref->info->name, desc, ref->dim, ref->ncomp));
  for (PetscInt a = 0; a < ref->dim; a++) PetscCall(AzFilePrintf(fp, "%s%" PetscInt_FMT, a ? ", " : "", ref->n[a]));
  PetscCall(AzFilePrintf(fp, "],\n  \"h\": ["));
  for (PetscInt a = 0; a < ref->dim; a++) PetscCall(AzFilePrintf(fp, "%s%.17g", a ? ", " : "", (double)ref->h[a]));
  PetscCall(AzFilePrintf(fp, "],\n  \"nodes\": %" PetscInt_FMT ",\n  \"periodic\": [", nodes));
  for (PetscInt a = 0; a < ref->dim; a++) PetscCall(AzFilePrintf(fp, "%s%s", a ? ", " : "", ref->periodic[a] ? "true" : "false"));
  PetscCall(AzFilePrintf(fp, "],\n  \"method\": \"%s\",\n  \"order\": %" PetscInt_FMT ",\n", AzRefMethodNames[ref->method], ref->order));
  if (ref->td) PetscCall(AzFilePrintf(fp, "  \"time_dependent\": true,\n  \"t0\": %.17g,\n  \"t1\": %.17g,\n  \"integrator\": \"%s\",\n  \"nt_out\": %" PetscInt_FMT ",\n", (double)ref->info->t0, (double)ref->info->t1, ref->method == AZ_REFERENCE_SPECTRAL ? "arkode-erk8-if" : AzRefIntegratorNames[ref->integrator], ref->nt));
  else PetscCall(AzFilePrintf(fp, "  \"time_dependent\": false,\n  \"solver\": \"%s\",\n", AzRefSteadySolverNames[ref->solver]));
  PetscCall(AzFilePrintf(fp, "  \"jacobian\": \"%s\",\n  \"rtol\": %.17g,\n  \"atol\": %.17g,\n", AzRefJacobianNames[ref->jactype], (double)ref->rtol, (double)ref->atol));
  PetscCall(AzFilePrintf(fp, "  \"steps\": %ld,\n  \"residual_evals\": %ld,\n  \"nonlinear_iters\": %ld,\n  \"linear_iters\": %ld,\n  \"jacobian_evals\": %ld,\n  \"error_test_fails\": %ld,\n", ref->stats.steps, ref->stats.residual_evals, ref->stats.nonlinear_iters, ref->stats.linear_iters, ref->stats.jacobian_evals, ref->stats.error_test_fails));
  PetscCall(AzFilePrintf(fp, "  \"wall_seconds\": %.6g,\n  \"ranks\": %d,\n  \"from_cache\": %s,\n", (double)ref->stats.wall_seconds, size, ref->stats.from_cache ? "true" : "false"));
  if (ref->has_error) PetscCall(AzFilePrintf(fp, "  \"error_max\": %.6e,\n  \"error_rel_l2\": %.6e,\n", (double)ref->err_max, (double)ref->err_rel));
  else PetscCall(AzFilePrintf(fp, "  \"error_max\": null,\n  \"error_rel_l2\": null,\n"));
  {
    char ver[4096];
    PetscCall(AzReferenceVerificationJSON(ref, ver, sizeof ver, "  "));
    PetscCall(AzFilePrintf(fp, "%s,\n", ver));
  }
  PetscCall(AzFilePrintf(fp, "  \"data\": \"reference.%s\",\n  \"options\": \"reference.options\"\n}\n", ref->format == AZ_REF_FORMAT_HDF5 ? "h5" : "bin"));
  PetscCall(AzFileClose(&fp));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzReferenceWrite(AzReference ref, const char dir[])
{
  char        path[PETSC_MAX_PATH_LEN], tmp[PETSC_MAX_PATH_LEN + 8], key[4096];
  PetscViewer v;
  AzFile      fp;

  PetscFunctionBegin;
  PetscCheck(ref->solved, ref->comm, PETSC_ERR_ORDER, "AzReferenceWrite needs a solved reference");
  PetscCall(MakeDirectory(ref->comm, dir));
  snprintf(path, sizeof path, "%s/reference.options", dir);
  PetscCall(AzFileRemove(ref->comm, path)); /* no key while the data is being rewritten */
  DataPath(ref, dir, path, sizeof path);
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  /* the snapshots by PETSc's viewer into a temporary file, moved into place once complete */
  PetscCall(OpenData(ref, tmp, FILE_MODE_WRITE, &v));
  for (PetscInt k = 0; k < ref->nt; k++) {
    char name[32];
    snprintf(name, sizeof name, "u_%04d", (int)k);
    PetscCall(PetscObjectSetName((PetscObject)ref->snap[k], name));
    PetscCall(VecView(ref->snap[k], v));
  }
  PetscCall(PetscViewerDestroy(&v));
  PetscCall(AzFileCommit(ref->comm, tmp, path));
  PetscCall(AzRefVerifyWrite(ref, dir));
  PetscCall(WriteSummary(ref, dir));
  PetscCall(AzRefCacheKey(ref, key, sizeof key));
  snprintf(path, sizeof path, "%s/reference.options", dir);
  PetscCall(AzFileOpen(ref->comm, path, &fp));
  PetscCall(AzFilePrintf(fp, "%s", key));
  PetscCall(AzFileClose(&fp));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The contents of a small text file, read on rank 0 and broadcast ("" when there is none). */
static PetscErrorCode ReadSmallFile(MPI_Comm comm, const char path[], char buf[], size_t len)
{
  PetscMPIInt rank;
  int         n = 0;

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  buf[0] = 0;
  if (rank == 0) {
    FILE *fp = fopen(path, "r");
    if (fp) {
      n = (int)fread(buf, 1, len - 1, fp);
      fclose(fp);
    }
  }
  PetscCallMPI(MPI_Bcast(&n, 1, MPI_INT, 0, comm));
  PetscCallMPI(MPI_Bcast(buf, n, MPI_CHAR, 0, comm));
  buf[n] = 0;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzReferenceLoadCached(AzReference ref, const char dir[], PetscBool *loaded)
{
  char        path[PETSC_MAX_PATH_LEN], key[4096], stored[4096];
  PetscViewer v;
  PetscBool   exists = PETSC_FALSE;

  PetscFunctionBegin;
  *loaded = PETSC_FALSE;
  PetscCall(AzRefCacheKey(ref, key, sizeof key));
  snprintf(path, sizeof path, "%s/reference.options", dir);
  PetscCall(ReadSmallFile(ref->comm, path, stored, sizeof stored));
  if (strcmp(key, stored)) {
    if (stored[0]) PetscCall(PetscInfo(NULL, "The reference in %s was made with other options: not reused\n", dir));
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  DataPath(ref, dir, path, sizeof path);
  PetscCall(PetscTestFile(path, 'r', &exists));
  if (!exists) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(AzRefSetUp(ref));
  PetscCall(AzRefAllocSnapshots(ref));
  PetscCall(PetscFree(ref->all));
  PetscCall(OpenData(ref, path, FILE_MODE_READ, &v));
  for (PetscInt k = 0; k < ref->nt; k++) {
    char name[32];
    snprintf(name, sizeof name, "u_%04d", (int)k);
    PetscCall(PetscObjectSetName((PetscObject)ref->snap[k], name));
    PetscCall(VecLoad(ref->snap[k], v));
  }
  PetscCall(PetscViewerDestroy(&v));
  PetscCall(PetscMemzero(&ref->stats, sizeof ref->stats));
  ref->stats.from_cache = PETSC_TRUE;
  ref->solved           = PETSC_TRUE;
  ref->has_error        = PETSC_FALSE;
  if (ref->info->exact) {
    PetscCall(AzReferenceComputeError(ref, &ref->err_max, &ref->err_rel));
    ref->has_error = PETSC_TRUE;
  }
  /* the stored estimate; made now (and stored) when it is missing and asked for */
  {
    PetscBool found;
    PetscCall(AzRefVerifyRead(ref, dir, &found));
    if (!found || (!ref->ver.estimated && ref->ver.skipped && ref->verify)) {
      PetscCall(AzRefVerify(ref, PETSC_TRUE));
      if (ref->ver.estimated) PetscCall(AzRefVerifyWrite(ref, dir));
    } else PetscCall(AzRefVerify(ref, PETSC_FALSE));
    PetscCall(AzRefVerifyWarn(ref));
  }
  *loaded = PETSC_TRUE;
  PetscFunctionReturn(PETSC_SUCCESS);
}
