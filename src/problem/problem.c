/* Loading problem plugins: by name from the search path, or by path to any shared object. */
#ifndef _GNU_SOURCE
  #define _GNU_SOURCE /* dladdr */
#endif
#include "problemimpl.h"
#include <dirent.h>
#include <dlfcn.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef AZ_PROBLEMS_INSTALL_DIR
  #define AZ_PROBLEMS_INSTALL_DIR ""
#endif
#ifndef AZ_PROBLEMS_BUILD_DIR
  #define AZ_PROBLEMS_BUILD_DIR ""
#endif

/* The search path, colon separated: $AZ_PROBLEM_PATH, the installed directory, the build tree. */
PetscErrorCode AzProblemGetSearchPath(char buf[], size_t len)
{
  const char *env = getenv("AZ_PROBLEM_PATH");

  PetscFunctionBegin;
  snprintf(buf, len, "%s%s%s%s%s", env && env[0] ? env : "", env && env[0] ? ":" : "", AZ_PROBLEMS_INSTALL_DIR, AZ_PROBLEMS_BUILD_DIR[0] ? ":" : "", AZ_PROBLEMS_BUILD_DIR);
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscBool IsFile(const char *path)
{
  struct stat st;
  return (stat(path, &st) == 0 && S_ISREG(st.st_mode)) ? PETSC_TRUE : PETSC_FALSE;
}

/* "dir/heat1d.so" -> "heat1d" */
static void StemOf(const char *path, char stem[], size_t len)
{
  const char *base = strrchr(path, '/');
  size_t      n;

  base = base ? base + 1 : path;
  n    = strlen(base);
  if (n > 3 && !strcmp(base + n - 3, ".so")) n -= 3;
  if (n >= len) n = len - 1;
  memcpy(stem, base, n);
  stem[n] = 0;
}

static PetscBool IsPluginFile(const char *name)
{
  size_t n = strlen(name);
  return (n > 3 && !strcmp(name + n - 3, ".so") && name[0] != '.') ? PETSC_TRUE : PETSC_FALSE;
}

/* All plugin files on the search path, the first of each name winning. */
PetscErrorCode AzProblemList(MPI_Comm comm, PetscInt *n, char ***paths)
{
  char     sp[4 * PETSC_MAX_PATH_LEN], *save = NULL;
  char   **list = NULL;
  PetscInt cnt = 0, cap = 0;

  PetscFunctionBegin;
  (void)comm;
  PetscCall(AzProblemGetSearchPath(sp, sizeof sp));
  for (char *dir = strtok_r(sp, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
    DIR           *d = opendir(dir);
    struct dirent *e;

    if (!d) continue;
    while ((e = readdir(d))) {
      char      path[PETSC_MAX_PATH_LEN], stem[256];
      PetscBool seen = PETSC_FALSE;

      if (!IsPluginFile(e->d_name)) continue;
      snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
      if (!IsFile(path)) continue;
      StemOf(path, stem, sizeof stem);
      for (PetscInt k = 0; k < cnt; k++) {
        char other[256];
        StemOf(list[k], other, sizeof other);
        if (!strcmp(other, stem)) seen = PETSC_TRUE;
      }
      if (seen) continue;
      if (cnt == cap) {
        char **bigger;
        cap = cap ? 2 * cap : 16;
        PetscCall(PetscCalloc1(cap, &bigger));
        for (PetscInt k = 0; k < cnt; k++) bigger[k] = list[k];
        PetscCall(PetscFree(list));
        list = bigger;
      }
      PetscCall(PetscStrallocpy(path, &list[cnt++]));
    }
    closedir(d);
  }
  /* sorted by name, so `ansatz list` is stable */
  for (PetscInt i = 1; i < cnt; i++)
    for (PetscInt j = i; j > 0; j--) {
      char a[256], b[256], *t;
      StemOf(list[j - 1], a, sizeof a);
      StemOf(list[j], b, sizeof b);
      if (strcmp(a, b) <= 0) break;
      t           = list[j];
      list[j]     = list[j - 1];
      list[j - 1] = t;
    }
  *n     = cnt;
  *paths = list;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* a short list of the problems that do exist, for error messages */
static PetscErrorCode AvailableNames(MPI_Comm comm, char buf[], size_t len)
{
  PetscInt n;
  char   **paths;
  size_t   off = 0;

  PetscFunctionBegin;
  buf[0] = 0;
  PetscCall(AzProblemList(comm, &n, &paths));
  for (PetscInt k = 0; k < n; k++) {
    char stem[256];
    int  w;
    StemOf(paths[k], stem, sizeof stem);
    w = snprintf(buf + off, len > off ? len - off : 0, "%s%s", k ? ", " : "", stem);
    if (w > 0) off += (size_t)w;
    PetscCall(PetscFree(paths[k]));
  }
  PetscCall(PetscFree(paths));
  if (!n) snprintf(buf, len, "none found");
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode ResolveName(MPI_Comm comm, const char name[], char path[], size_t len)
{
  char sp[4 * PETSC_MAX_PATH_LEN], *save = NULL, avail[2048];

  PetscFunctionBegin;
  PetscCall(AzProblemGetSearchPath(sp, sizeof sp));
  for (char *dir = strtok_r(sp, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
    snprintf(path, len, "%s/%s.so", dir, name);
    if (IsFile(path)) PetscFunctionReturn(PETSC_SUCCESS);
  }
  PetscCall(AvailableNames(comm, avail, sizeof avail));
  PetscCall(AzProblemGetSearchPath(sp, sizeof sp));
  SETERRQ(comm, PETSC_ERR_ARG_UNKNOWN_TYPE, "Unknown problem '%s'. Available problems: %s. (Searched %s; a plugin file can also be given by path, e.g. -problem ./%s.so)", name, avail, sp, name);
}

/* FNV-1a (64 bit) of a file's bytes: the identity of a plugin's code, for the reference cache */
static PetscErrorCode HashFile(MPI_Comm comm, const char path[], char hash[], size_t len)
{
  unsigned long long h = 0xcbf29ce484222325ULL;
  unsigned char      buf[65536];
  size_t             n;
  FILE              *fp = fopen(path, "rb");

  PetscFunctionBegin;
  PetscCheck(fp, comm, PETSC_ERR_FILE_OPEN, "Cannot read the problem plugin %s to identify its code", path);
  while ((n = fread(buf, 1, sizeof buf, fp)) > 0)
    for (size_t i = 0; i < n; i++) h = (h ^ buf[i]) * 0x100000001b3ULL;
  PetscCheck(!ferror(fp), comm, PETSC_ERR_FILE_READ, "Cannot read the problem plugin %s to identify its code", path);
  fclose(fp);
  snprintf(hash, len, "fnv1a64:%016llx", h);
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzProblemCreateFromInfo(MPI_Comm comm, const AzProblemInfo *info, const char path[], AzProblem *prob)
{
  AzProblem p;
  PetscBool valid;
  char      msg[512];

  PetscFunctionBegin;
  PetscCall(AzProblemInfoValidate(info, &valid, msg, sizeof msg));
  PetscCheck(valid, comm, PETSC_ERR_ARG_WRONG, "Invalid problem descriptor%s%s: %s", path ? " in " : "", path ? path : "", msg);
  PetscCall(PetscNew(&p));
  p->comm   = comm;
  p->info   = info;
  p->ncoord = info->dim + (info->time_dependent ? 1 : 0);
  if (path) PetscCall(PetscStrncpy(p->path, path, sizeof p->path));
  for (p->nparam = 0; p->nparam < AZ_MAX_PARAMS && info->params[p->nparam].name; p->nparam++) p->param[p->nparam] = info->params[p->nparam].value;
  PetscCall(AzJetRequestParse(p->ncoord, info->time_dependent, info->derivatives, &p->request, msg, sizeof msg));
  p->orig = info;
  {
    /* the code is in the plugin file, or for a descriptor linked into a program, in that program */
    Dl_info     where;
    const char *file = path ? path : (dladdr((const void *)info, &where) && where.dli_fname ? where.dli_fname : NULL);
    if (file) PetscCall(HashFile(comm, file, p->code_hash, sizeof p->code_hash));
    else PetscCall(PetscStrncpy(p->code_hash, "unknown", sizeof p->code_hash));
  }
  PetscCall(AzProblemGuard(p));
  PetscCall(AzProblemSetUpFlux(p));
  PetscCall(AzProblemAddMassLaws(p));
  *prob = p;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzProblemLoad(MPI_Comm comm, const char name_or_path[], AzProblem *prob)
{
  char                 path[PETSC_MAX_PATH_LEN], stem[256], sym[300];
  void                *dl;
  const AzProblemInfo *info;
  const char          *err;
  PetscBool            bypath;

  PetscFunctionBegin;
  *prob = NULL;
  PetscCheck(name_or_path && name_or_path[0], comm, PETSC_ERR_ARG_NULL, "No problem given: use -problem NAME (see `ansatz list`) or -problem PATH/TO/PLUGIN.so");
  bypath = (strchr(name_or_path, '/') || strstr(name_or_path, ".so")) ? PETSC_TRUE : PETSC_FALSE;
  if (bypath) {
    PetscCall(PetscStrncpy(path, name_or_path, sizeof path));
    PetscCheck(IsFile(path), comm, PETSC_ERR_FILE_OPEN, "Cannot load problem plugin '%s': no such file", path);
  } else PetscCall(ResolveName(comm, name_or_path, path, sizeof path));

  dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (!dl) {
    /* dlopen looks a bare name up in the library path, not the current directory */
    err = dlerror();
    SETERRQ(comm, PETSC_ERR_FILE_UNEXPECTED, "Cannot load problem plugin '%s': it is not a loadable shared object (%s). Build a plugin with: cc -shared -fPIC myproblem.c $(pkg-config --cflags --libs ansatz) -o myproblem.so", path, err ? err : "unknown error");
  }
  StemOf(path, stem, sizeof stem);
  snprintf(sym, sizeof sym, "az_problem_%s", stem);
  (void)dlerror();
  info = (const AzProblemInfo *)dlsym(dl, sym);
  if (!info) {
    dlclose(dl);
    SETERRQ(comm, PETSC_ERR_ARG_WRONG, "Problem plugin '%s' exports no descriptor '%s': a plugin in file %s.so must define `const AzProblemInfo %s = {.abi = AZ_PROBLEM_ABI, .name = \"%s\", ...};`", path, sym, stem, sym, stem);
  }
  if (info->abi < AZ_PROBLEM_ABI_MIN || info->abi > AZ_PROBLEM_ABI) {
    int abi = info->abi;
    dlclose(dl);
    SETERRQ(comm, PETSC_ERR_ARG_WRONG, "Problem plugin '%s' was built for problem ABI %d, but this ansatz expects ABI %d (or %d): rebuild the plugin against this version of ansatz", path, abi, AZ_PROBLEM_ABI, AZ_PROBLEM_ABI_MIN);
  }
  if (!info->name || strcmp(info->name, stem)) {
    char given[256];
    PetscCall(PetscStrncpy(given, info->name ? info->name : "(null)", sizeof given));
    dlclose(dl);
    SETERRQ(comm, PETSC_ERR_ARG_WRONG, "Problem plugin '%s' names its problem '%s', but the file is %s.so: the descriptor's name must match the file name (rename the file to %s.so or set .name = \"%s\")", path, given, stem, given, stem);
  }
  {
    PetscBool valid;
    char      msg[512];
    PetscCall(AzProblemInfoValidate(info, &valid, msg, sizeof msg));
    if (!valid) {
      dlclose(dl);
      SETERRQ(comm, PETSC_ERR_ARG_WRONG, "Invalid problem plugin '%s': %s", path, msg);
    }
  }
  PetscCall(AzProblemCreateFromInfo(comm, info, path, prob));
  (*prob)->dl = dl;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzParamChoices(const AzParamInfo *pi, PetscInt *n, char names[][32])
{
  const char *s = pi->help, *end;

  PetscFunctionBegin;
  *n = 0;
  if (!s || s[0] != '{' || !(end = strchr(s, '}'))) PetscFunctionReturn(PETSC_SUCCESS);
  for (s++; s < end && *n < AZ_MAX_CHOICES;) {
    size_t len = strcspn(s, "|}");
    snprintf(names[*n], 32, "%.*s", (int)PetscMin(len, 31), s);
    (*n)++;
    s += len + 1;
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzParamInfoFormatValue(const AzParamInfo *pi, PetscReal value, char buf[], size_t len)
{
  char     names[AZ_MAX_CHOICES][32];
  PetscInt n;

  PetscFunctionBegin;
  PetscCall(AzParamChoices(pi, &n, names));
  if (n && value >= 0 && value < n && value == PetscFloorReal(value)) snprintf(buf, len, "%s", names[(PetscInt)value]);
  else snprintf(buf, len, "%.17g", (double)value);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Parameters are set with -az_<problem>_<param>, e.g. -az_heat1d_kappa 0.5, or a name for a choice */
PetscErrorCode AzProblemSetFromOptions(AzProblem prob)
{
  char title[256];

  PetscFunctionBegin;
  snprintf(title, sizeof title, "Problem %s: %s", prob->info->name, prob->info->description);
  PetscOptionsBegin(prob->comm, NULL, title, "AzProblem");
  for (PetscInt k = 0; k < prob->nparam; k++) {
    char opt[320];
    char     names[AZ_MAX_CHOICES][32];
    PetscInt nchoice;
    snprintf(opt, sizeof opt, "-az_%s_%s", prob->info->name, prob->info->params[k].name);
    PetscCall(AzParamChoices(&prob->info->params[k], &nchoice, names));
    if (nchoice) {
      char      given[64], allowed[AZ_MAX_CHOICES * 34] = "";
      PetscBool set;
      PetscInt  idx = -1;
      for (PetscInt c = 0; c < nchoice; c++) {
        if (c) PetscCall(PetscStrlcat(allowed, ", ", sizeof allowed));
        PetscCall(PetscStrlcat(allowed, names[c], sizeof allowed));
      }
      PetscCall(PetscStrncpy(given, names[(PetscInt)prob->param[k]], sizeof given));
      PetscCall(PetscOptionsString(opt, prob->info->params[k].help, "AzProblemSetFromOptions", given, given, sizeof given, &set));
      for (PetscInt c = 0; c < nchoice; c++)
        if (!strcmp(given, names[c])) idx = c;
      PetscCheck(idx >= 0, prob->comm, PETSC_ERR_ARG_OUTOFRANGE, "Option %s %s: not a %s %s; allowed: %s", opt, given, prob->info->name, prob->info->params[k].name, allowed);
      prob->param[k] = (PetscReal)idx;
      continue;
    }
    PetscCall(PetscOptionsReal(opt, prob->info->params[k].help ? prob->info->params[k].help : prob->info->params[k].name, "AzProblemSetFromOptions", prob->param[k], &prob->param[k], NULL));
    PetscCheck(!PetscIsInfOrNanReal(prob->param[k]), prob->comm, PETSC_ERR_ARG_OUTOFRANGE, "Option %s must be a finite number", opt);
  }
  PetscOptionsEnd();
  PetscCall(AzProblemConservationFromOptions(prob)); /* -az_conservation_from discovered.json */
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzProblemDestroy(AzProblem *prob)
{
  PetscFunctionBegin;
  if (!*prob) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(AzProblemUnguard(*prob));
  PetscCall(AzProblemDestroyDiscovered(*prob));
  if ((*prob)->dl) dlclose((*prob)->dl);
  PetscCall(PetscFree(*prob));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzProblemGetInfo(AzProblem prob, const AzProblemInfo **info)
{
  PetscFunctionBegin;
  *info = prob->info;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzProblemGetComm(AzProblem prob, MPI_Comm *comm)
{
  PetscFunctionBegin;
  *comm = prob->comm;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzProblemGetName(AzProblem prob, const char **name)
{
  PetscFunctionBegin;
  *name = prob->info->name;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzProblemGetCodeHash(AzProblem prob, const char **hash)
{
  PetscFunctionBegin;
  *hash = prob->code_hash;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzProblemGetPath(AzProblem prob, const char **path)
{
  PetscFunctionBegin;
  *path = prob->path;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzProblemGetNumCoords(AzProblem prob, PetscInt *ncoord)
{
  PetscFunctionBegin;
  *ncoord = prob->ncoord;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzProblemGetNumParams(AzProblem prob, PetscInt *nparam)
{
  PetscFunctionBegin;
  *nparam = prob->nparam;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzProblemGetParams(AzProblem prob, const PetscReal **param)
{
  PetscFunctionBegin;
  *param = prob->param;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzProblemSetParam(AzProblem prob, PetscInt k, PetscReal value)
{
  PetscFunctionBegin;
  PetscCheck(k >= 0 && k < prob->nparam, prob->comm, PETSC_ERR_ARG_OUTOFRANGE, "Problem %s: parameter index %" PetscInt_FMT " outside 0..%" PetscInt_FMT, prob->info->name, k, prob->nparam - 1);
  PetscCheck(!PetscIsInfOrNanReal(value), PETSC_COMM_SELF, PETSC_ERR_FP, "Problem %s: parameter %s set to a non-finite value", prob->info->name, prob->info->params[k].name);
  if (prob->param[k] == value) PetscFunctionReturn(PETSC_SUCCESS);
  prob->param[k] = value;
  for (PetscInt c = 0; c < AZ_MAX_COMP; c++) prob->mass_ready[c] = PETSC_FALSE; /* the mass targets may read it */
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzProblemGetParamIndex(AzProblem prob, const char name[], const char opt[], PetscBool numeric_only, PetscInt *k)
{
  char valid[AZ_MAX_PARAMS * 40] = "";

  PetscFunctionBegin;
  *k = -1;
  for (PetscInt j = 0; j < prob->nparam; j++) {
    PetscInt nchoice;
    char     names[AZ_MAX_CHOICES][32];
    PetscCall(AzParamChoices(&prob->info->params[j], &nchoice, names));
    if (numeric_only && nchoice) {
      PetscCheck(strcmp(name, prob->info->params[j].name), prob->comm, PETSC_ERR_ARG_WRONG, "%s %s: parameter %s of problem %s is a choice among names, not a number: it cannot be inferred", opt, name, name, prob->info->name);
      continue;
    }
    if (!strcmp(name, prob->info->params[j].name)) *k = j;
    PetscCall(PetscStrlcat(valid, valid[0] ? ", " : "", sizeof valid));
    PetscCall(PetscStrlcat(valid, prob->info->params[j].name, sizeof valid));
  }
  PetscCheck(*k >= 0, prob->comm, PETSC_ERR_ARG_WRONG, "%s %s: problem %s has no parameter %s; %s%s", opt, name, prob->info->name, name, valid[0] ? "its parameters are: " : "it has no numeric parameters", valid);
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzProblemGetJetRequest(AzProblem prob, AzJetRequest *req)
{
  PetscFunctionBegin;
  *req = prob->request;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The space-time box: spatial bounds, then [t0, t1] for a time-dependent problem. */
PetscErrorCode AzProblemGetBox(AzProblem prob, PetscReal lower[], PetscReal upper[])
{
  const AzProblemInfo *info = prob->info;

  PetscFunctionBegin;
  for (PetscInt d = 0; d < info->dim; d++) {
    lower[d] = info->lower[d];
    upper[d] = info->upper[d];
  }
  if (info->time_dependent) {
    lower[info->dim] = info->t0;
    upper[info->dim] = info->t1;
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}
