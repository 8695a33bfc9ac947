/* What every mode writes beside its results: history.csv, options.txt, and the sweep of the files a
 * previous run left in the same directory. */
#include "runimpl.h"
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

PetscErrorCode AzRunJsonNumber(AzFile f, PetscReal v)
{
  PetscFunctionBegin;
  if (PetscIsInfOrNanReal(v)) PetscCall(AzFilePrintf(f, "null"));
  else PetscCall(AzFilePrintf(f, "%.10e", (double)v));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzRunJsonString(AzFile f, const char s[])
{
  PetscFunctionBegin;
  for (; s && *s; s++) {
    if (*s == '"' || *s == '\\') PetscCall(AzFilePrintf(f, "\\%c", *s));
    else PetscCall(AzFilePrintf(f, "%c", (unsigned char)*s < 32 ? ' ' : *s));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzRunSolutionJetSize(AzProblem prob, PetscInt *ncomp, PetscInt *nslot)
{
  const AzProblemInfo *info;
  PetscInt             ncoord;

  PetscFunctionBegin;
  PetscCall(AzProblemGetInfo(prob, &info));
  PetscCall(AzProblemGetNumCoords(prob, &ncoord));
  *ncomp = info->ncomp;
  *nslot = AZ_JET_NSLOT(ncoord);
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzRunComponentName(AzProblem prob, PetscInt c, char name[], size_t len)
{
  const AzProblemInfo *info;
  const char          *s;

  PetscFunctionBegin;
  PetscCall(AzProblemGetInfo(prob, &info));
  snprintf(name, len, "u%d", (int)c);
  if (!(s = info->component_names)) PetscFunctionReturn(PETSC_SUCCESS);
  for (PetscInt k = 0; k < c && s; k++) s = (s = strchr(s, ',')) ? s + 1 : NULL;
  if (s && *s) {
    size_t n = strcspn(s, ",");
    while (n && s[n - 1] == ' ') n--;
    while (n && *s == ' ') s++, n--;
    if (n && n < len) {
      memcpy(name, s, n);
      name[n] = 0;
    }
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzRunWriteHistory(MPI_Comm comm, const char dir[], AzTrainer tr, AzLoss loss)
{
  char                  path[PETSC_MAX_PATH_LEN + 16], desc[128];
  AzFile                f;
  PetscInt              n, nterms, ncausal, every, ninfer;
  const AzHistoryEntry *h;
  const char *const    *inames;

  PetscFunctionBegin;
  PetscCall(AzTrainerGetHistory(tr, &n, &h));
  PetscCall(AzLossGetNumTerms(loss, &nterms));
  PetscCall(AzTrainerGetDescription(tr, desc, sizeof desc));
  snprintf(path, sizeof path, "%s/history.csv", dir);
  PetscCall(AzFileOpen(comm, path, &f));
  PetscCall(AzFilePrintf(f, "iteration,trainer,loss"));
  for (PetscInt k = 0; k < nterms; k++) {
    const char *name;
    PetscCall(AzLossGetTermName(loss, k, &name));
    PetscCall(AzFilePrintf(f, ",%s", name));
  }
  PetscCall(AzLossGetCausal(loss, &ncausal, NULL, NULL));
  if (ncausal) PetscCall(AzFilePrintf(f, ",causal_eps,causal_min_weight")); /* causal training */
  PetscCall(AzLossGetResample(loss, NULL, &every, NULL, NULL));
  if (every) PetscCall(AzFilePrintf(f, ",n_pde,resampled")); /* resampling: the PDE set's size, points resampled or added so far */
  PetscCall(AzLossGetInferred(loss, &ninfer, &inames, NULL));
  for (PetscInt k = 0; k < ninfer; k++) PetscCall(AzFilePrintf(f, ",infer_%s", inames[k])); /* inverse problems: the parameters' trajectories */
  PetscCall(AzFilePrintf(f, ",rel_l2,wall_seconds\n"));
  for (PetscInt i = 0; i < n; i++) {
    char d[128], *save = NULL, *stage;
    PetscCall(PetscStrncpy(d, desc, sizeof d));
    stage = strtok_r(d, ",", &save);
    for (PetscInt s = 0; s < h[i].stage && stage; s++) stage = strtok_r(NULL, ",", &save);
    PetscCall(AzFilePrintf(f, "%" PetscInt_FMT ",%s,%.10e", h[i].it, stage ? stage : "?", (double)h[i].loss));
    for (PetscInt k = 0; k < nterms; k++) PetscCall(AzFilePrintf(f, ",%.10e", (double)h[i].term[k]));
    if (ncausal) PetscCall(AzFilePrintf(f, ",%.10e,%.10e", (double)h[i].causal_eps, (double)h[i].causal_wmin));
    if (every) PetscCall(AzFilePrintf(f, ",%" PetscInt_FMT ",%" PetscInt_FMT, h[i].npde, h[i].nresampled));
    for (PetscInt k = 0; k < ninfer; k++) PetscCall(AzFilePrintf(f, ",%.15e", (double)h[i].infer[k]));
    PetscCall(AzFilePrintf(f, ",%.10e,%.4f\n", (double)h[i].rel_l2, (double)h[i].wall));
  }
  PetscCall(AzFileClose(&f));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* an absolute form of path: resolved when it exists, else joined to the working directory */
static void AbsolutePath(const char in[], char out[], size_t len)
{
  char buf[PATH_MAX], cwd[PATH_MAX];

  if (realpath(in, buf)) snprintf(out, len, "%s", buf);
  else if (in[0] == '/' || !getcwd(cwd, sizeof cwd)) snprintf(out, len, "%s", in);
  else snprintf(out, len, "%s/%s", cwd, in);
}

/* the options whose values are paths: written absolute */
static PetscBool IsPathOption(const char name[])
{
  const char *paths[] = {"-az_data", "-az_field_load", "-az_restart", "-az_output_dir", "-az_ref_dir", "-az_conservation_from", "-az_discover_data", "-az_discover_output", NULL};
  for (PetscInt k = 0; paths[k]; k++)
    if (!strcmp(name, paths[k])) return PETSC_TRUE;
  return PETSC_FALSE;
}

/* whether name is -az_PROBLEM_PARAM for one of the problem's parameters */
static PetscBool IsParamOption(const AzProblemInfo *info, const char name[])
{
  const size_t n = strlen(info->name);

  if (strncmp(name, "-az_", 4) || strncmp(name + 4, info->name, n) || name[4 + n] != '_') return PETSC_FALSE;
  for (PetscInt k = 0; k < AZ_MAX_PARAMS && info->params[k].name; k++)
    if (!strcmp(name + 5 + n, info->params[k].name)) return PETSC_TRUE;
  return PETSC_FALSE;
}

/* whether name is -s<digits>_...: an option of one of compare's strategies */
static PetscBool IsStrategyOption(const char name[])
{
  const char *p = name + 2;
  if (strncmp(name, "-s", 2) || !isdigit((unsigned char)*p)) return PETSC_FALSE;
  while (isdigit((unsigned char)*p)) p++;
  return *p == '_' ? PETSC_TRUE : PETSC_FALSE;
}

/* options.txt: with a prefix (a strategy of compare), the options as the strategy applied them */
static PetscErrorCode WriteOptions(MPI_Comm comm, AzProblem prob, const char dir[], const char file[], const char strategy[], const char prefix[])
{
  char                 path[PETSC_MAX_PATH_LEN + 16];
  AzFile               f;
  PetscMPIInt          rank;
  const AzProblemInfo *info;
  int                  listed = 1; /* rank 0 could list the database */
  const size_t         np     = prefix ? strlen(prefix) : 0;

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  PetscCall(AzProblemGetInfo(prob, &info));
  snprintf(path, sizeof path, "%s/%s", dir, file);
  PetscCall(AzFileOpen(comm, path, &f));
  if (rank == 0) {
    /* the database as PETSc lists it, one "-name value" a line, read back from memory */
    char       *text = NULL, *save = NULL, full[2 * PETSC_MAX_PATH_LEN];
    size_t      size = 0;
    FILE       *mem  = open_memstream(&text, &size);
    PetscViewer v;
    const char *plugin;
    PetscInt    nparam, nlines = 0;
    const PetscReal *param;
    char       **names = NULL, **values = NULL;

    if (mem) {
      PetscCall(PetscViewerASCIIOpenWithFILE(PETSC_COMM_SELF, mem, &v));
      PetscCall(PetscOptionsView(NULL, v));
      PetscCall(PetscViewerDestroy(&v));
    }
    if (!mem || fclose(mem) || !text) listed = 0;
    if (prefix) PetscCall(AzFilePrintf(f, "# ansatz compare, strategy %s: the options as it applied them (its own -%saz_X as -az_X, over the global -az_X), the problem's parameters, paths absolute\n", strategy, prefix));
    else PetscCall(AzFilePrintf(f, "# ansatz: every option in force (given, or set by the mode; the problem's parameters), paths absolute\n"));
    PetscCall(AzProblemGetPath(prob, &plugin));
    AbsolutePath(plugin && plugin[0] ? plugin : info->name, full, sizeof full);
    PetscCall(AzFilePrintf(f, "-problem %s\n", full));
    AbsolutePath(dir, full, sizeof full);
    PetscCall(AzFilePrintf(f, "-az_output_dir %s\n", full));
    /* the lines split into names and values (NULL: none) */
    for (char *c = text; listed && c && *c; c++) nlines += *c == '\n';
    PetscCall(PetscCalloc2(nlines + 1, &names, nlines + 1, &values));
    nlines = 0;
    for (char *line = listed ? strtok_r(text, "\n", &save) : NULL; line; line = strtok_r(NULL, "\n", &save)) {
      char *value = strchr(line, ' ');
      if (line[0] != '-') continue; /* PETSc's own header and footer lines */
      if (value) *value++ = 0;
      names[nlines]    = line;
      values[nlines++] = value;
    }
    if (prefix) {
      /* the strategy's own options under their global names; the global ones they replace go */
      for (PetscInt k = 0; k < nlines; k++) {
        if (!names[k] || strncmp(names[k] + 1, prefix, np)) continue;
        names[k] += np; /* "-s2_az_X" -> "-az_X" (the '-' is written over the prefix's last character) */
        names[k][0] = '-';
        for (PetscInt j = 0; j < nlines; j++)
          if (j != k && names[j] && !strcmp(names[j], names[k])) names[j] = NULL;
      }
    }
    for (PetscInt k = 0; k < nlines; k++) {
      const char *line = names[k], *value = values[k];
      if (!line) continue;
      if (!strcmp(line, "-problem") || !strcmp(line, "-az_output_dir") || !strcmp(line, "-options_file")) continue;
      if (prefix && (IsStrategyOption(line) || !strcmp(line, "-az_strategies") || !strcmp(line, "-az_plot_components") || !strcmp(line, "-az_repeats") || !strcmp(line, "-az_compare_resume") || !strcmp(line, "-az_compare_stop_after") || !strcmp(line, "-az_compare_groups") || !strcmp(line, "-az_sweep"))) continue;
      if (IsParamOption(info, line)) continue; /* below, with every parameter */
      if (value && IsPathOption(line)) {
        AbsolutePath(value, full, sizeof full);
        value = full;
      }
      PetscCall(AzFilePrintf(f, "%s%s%s\n", line, value ? " " : "", value ? value : ""));
    }
    PetscCall(PetscFree2(names, values));
    free(text);
    PetscCall(AzProblemGetNumParams(prob, &nparam));
    PetscCall(AzProblemGetParams(prob, &param));
    for (PetscInt k = 0; k < nparam; k++) {
      char v[64];
      PetscCall(AzParamInfoFormatValue(&info->params[k], param[k], v, sizeof v));
      PetscCall(AzFilePrintf(f, "-az_%s_%s %s\n", info->name, info->params[k].name, v));
    }
  }
  PetscCallMPI(MPI_Bcast(&listed, 1, MPI_INT, 0, comm));
  if (!listed) PetscCall(AzFileDiscard(&f));
  PetscCheck(listed, comm, PETSC_ERR_MEM, "Cannot list the options for %s (out of memory)", path);
  PetscCall(AzFileClose(&f));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzRunWriteOptions(MPI_Comm comm, AzProblem prob, const char dir[])
{
  PetscFunctionBegin;
  PetscCall(WriteOptions(comm, prob, dir, "options.txt", NULL, NULL));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzRunWriteStrategyOptions(MPI_Comm comm, AzProblem prob, const char dir[], const char file[], const char strategy[], const char prefix[])
{
  PetscFunctionBegin;
  PetscCheck(prefix && prefix[0], comm, PETSC_ERR_ARG_WRONG, "Strategy %s has no options prefix", strategy);
  PetscCall(WriteOptions(comm, prob, dir, file, strategy, prefix));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* whether name matches pattern: exact, or "P*S" a prefix and a suffix */
static PetscBool Matches(const char pattern[], const char name[])
{
  const char *star = strchr(pattern, '*');
  size_t      np, ns, n = strlen(name);

  if (!star) return strcmp(pattern, name) ? PETSC_FALSE : PETSC_TRUE;
  np = (size_t)(star - pattern);
  ns = strlen(star + 1);
  return (n >= np + ns && !strncmp(name, pattern, np) && !strcmp(name + n - ns, star + 1)) ? PETSC_TRUE : PETSC_FALSE;
}

PetscErrorCode AzRunRemoveStale(MPI_Comm comm, const char dir[], const char *const files[])
{
  PetscMPIInt rank;
  int         err = 0;
  char        bad[PETSC_MAX_PATH_LEN + 256] = "";

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  if (rank == 0) {
    char           keep[2][PATH_MAX] = {"", ""}, opt[PETSC_MAX_PATH_LEN];
    const char    *keepopt[2]        = {"-az_restart", "-az_field_load"};
    DIR           *d;
    struct dirent *e;

    for (int k = 0; k < 2; k++) {
      PetscBool set;
      PetscCall(PetscOptionsGetString(NULL, NULL, keepopt[k], opt, sizeof opt, &set));
      if (set && !realpath(opt, keep[k])) keep[k][0] = 0;
    }
    if ((d = opendir(dir))) {
      while (!err && (e = readdir(d))) {
        char        path[PETSC_MAX_PATH_LEN + 256], real[PATH_MAX];
        struct stat st;
        PetscBool   stale = Matches("*.tmp", e->d_name);
        for (PetscInt k = 0; files[k] && !stale; k++) stale = Matches(files[k], e->d_name);
        if (!stale) continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (lstat(path, &st) || !S_ISREG(st.st_mode)) continue; /* results are regular files */
        if (realpath(path, real) && (!strcmp(real, keep[0]) || !strcmp(real, keep[1]))) continue;
        if (unlink(path) && errno != ENOENT) {
          err = errno;
          snprintf(bad, sizeof bad, "%s", path);
        }
      }
      closedir(d);
    }
  }
  PetscCallMPI(MPI_Bcast(&err, 1, MPI_INT, 0, comm));
  PetscCallMPI(MPI_Bcast(bad, (PetscMPIInt)sizeof bad, MPI_CHAR, 0, comm));
  PetscCheck(!err, comm, PETSC_ERR_FILE_WRITE, "Cannot remove %s, left by a previous run: %s", bad, strerror(err));
  PetscFunctionReturn(PETSC_SUCCESS);
}
