/* `ansatz eval`: a trained field at the user's points. The solution (after the chain of maps: hard
 * constraints, softplus, stream function, a post-hoc projection) and the derivatives its jets carry,
 * written as CSV or HDF5. A run directory's options.txt (and inferred.txt) are the defaults, the
 * command line wins. */
#include "runimpl.h"
#include <ctype.h>
#include <unistd.h>

#define MAX_INSERTED 1024

typedef struct {
  PetscInt n;
  char    *name[MAX_INSERTED];
} Inserted;

/* "-name value" lines of a file into the options database, below the command line: an option already
 * there is kept. '#' lines and blank lines are skipped. A missing file is not an error when optional. */
/* a problem's name from a name or a plugin's path: the file name without its directory and .so */
static void ProblemStem(const char s[], char stem[], size_t len)
{
  const char *b = strrchr(s, '/');
  size_t      n;

  snprintf(stem, len, "%s", b ? b + 1 : s);
  n = strlen(stem);
  if (n > 3 && !strcmp(stem + n - 3, ".so")) stem[n - 3] = 0;
}

static PetscErrorCode InsertDefaults(MPI_Comm comm, const char path[], PetscBool optional, Inserted *ins)
{
  FILE     *fp = fopen(path, "r");
  char      line[4 * PETSC_MAX_PATH_LEN];
  PetscInt  lineno = 0;

  PetscFunctionBegin;
  if (!fp) {
    PetscCheck(optional, comm, PETSC_ERR_FILE_OPEN, "Cannot open %s: -az_run must name the directory of an `ansatz train` run (with its options.txt and theta.bin)", path);
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  while (fgets(line, sizeof line, fp)) {
    char     *s = line, *value;
    PetscBool has;
    lineno++;
    line[strcspn(line, "\r\n")] = 0;
    while (isspace((unsigned char)*s)) s++;
    if (!*s || *s == '#') continue;
    if (*s != '-') {
      fclose(fp);
      SETERRQ(comm, PETSC_ERR_FILE_UNEXPECTED, "%s, line %" PetscInt_FMT ": expected an option \"-name [value]\", found \"%s\"", path, lineno, s);
    }
    value = s + strcspn(s, " \t");
    if (*value) {
      *value++ = 0;
      while (isspace((unsigned char)*value)) value++;
      for (char *e = value + strlen(value); e > value && isspace((unsigned char)e[-1]);) *--e = 0;
    }
    /* train's, not eval's: the run's files, and its observations (they do not change the field) */
    if (!strcmp(s, "-az_output_dir") || !strcmp(s, "-options_file") || !strcmp(s, "-az_restart") || !strncmp(s, "-az_data", 8)) continue;
    PetscCall(PetscOptionsHasName(NULL, NULL, s, &has));
    if (has && !strcmp(s, "-problem")) { /* the field's input map and its solved layer are the run's problem's */
      char given[PETSC_MAX_PATH_LEN], a[PETSC_MAX_PATH_LEN], b[PETSC_MAX_PATH_LEN];
      PetscCall(PetscOptionsGetString(NULL, NULL, "-problem", given, sizeof given, NULL));
      ProblemStem(given, a, sizeof a);
      ProblemStem(value, b, sizeof b);
      if (strcmp(a, b)) {
        fclose(fp);
        SETERRQ(comm, PETSC_ERR_ARG_INCOMP, "-problem %s: the run's field was trained on problem %s (%s); a field is evaluated on its own problem: leave -problem out", given, value, path);
      }
    }
    if (has) continue; /* the command line (or a file read before) wins */
    PetscCall(PetscOptionsSetValue(NULL, s, *value ? value : NULL));
    if (ins->n < MAX_INSERTED) PetscCall(PetscStrallocpy(s, &ins->name[ins->n++]));
  }
  fclose(fp);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* the name of jet slot s in ncoord coordinates ("x", "xx", "xt", "xxx", ...; t the time when
 * time-dependent); empty for the value */
static void SlotName(PetscInt ncoord, PetscBool time, PetscInt s, char name[], size_t len)
{
  char axis[AZ_MAX_COORD];

  for (PetscInt d = 0; d < ncoord; d++) axis[d] = (time && d == ncoord - 1) ? 't' : "xyzw"[d];
  name[0] = 0;
  for (PetscInt i = 0; i < ncoord; i++) {
    if (s == AzJetSlotD1(ncoord, i)) snprintf(name, len, "%c", axis[i]);
    for (PetscInt j = i; j < ncoord; j++)
      if (s == AzJetSlotD2(ncoord, i, j)) snprintf(name, len, "%c%c", axis[i], axis[j]);
    if (s == AzJetSlotD3(ncoord, i)) snprintf(name, len, "%c%c%c", axis[i], axis[i], axis[i]);
    if (s == AzJetSlotD4(ncoord, i)) snprintf(name, len, "%c%c%c%c", axis[i], axis[i], axis[i], axis[i]);
  }
}

/* the derivatives asked for, as jet slots: each name checked against those the jets carry */
static PetscErrorCode ParseDerivatives(MPI_Comm comm, AzProblem prob, char *list[], PetscInt nlist, PetscInt slot[], char names[][8])
{
  const AzProblemInfo *info;
  AzJetRequest         req;
  PetscInt             ncoord, nslot;
  char                 avail[256] = "";

  PetscFunctionBegin;
  PetscCall(AzProblemGetInfo(prob, &info));
  PetscCall(AzProblemGetNumCoords(prob, &ncoord));
  PetscCall(AzProblemGetJetRequest(prob, &req));
  PetscCall(AzJetRequestClose(&req));
  nslot = AZ_JET_NSLOT(ncoord);
  for (PetscInt s = 1; s < nslot; s++) {
    char n[8];
    if (!(req.mask & ((PetscInt)1 << s))) continue;
    SlotName(ncoord, info->time_dependent, s, n, sizeof n);
    PetscCall(PetscStrlcat(avail, avail[0] ? ", " : "", sizeof avail));
    PetscCall(PetscStrlcat(avail, n, sizeof avail));
  }
  for (PetscInt k = 0; k < nlist; k++) {
    PetscInt found = -1;
    for (PetscInt s = 1; s < nslot && found < 0; s++) {
      char n[8], r[8];
      SlotName(ncoord, info->time_dependent, s, n, sizeof n);
      snprintf(r, sizeof r, "%c%c", n[1], n[0]); /* a mixed derivative in either order: xt or tx */
      if (!strcmp(list[k], n) || (strlen(n) == 2 && !strcmp(list[k], r))) found = s;
    }
    PetscCheck(found >= 0, comm, PETSC_ERR_ARG_WRONG, "-az_eval_derivatives: '%s' is not a derivative of %s's coordinates; available (the derivatives its jets carry): %s", list[k], info->name, avail[0] ? avail : "none");
    PetscCheck(req.mask & ((PetscInt)1 << found), comm, PETSC_ERR_ARG_WRONG, "-az_eval_derivatives: '%s' is not carried by %s's jets (its residuals do not need it); available: %s", list[k], info->name, avail[0] ? avail : "none");
    for (PetscInt j = 0; j < k; j++) PetscCheck(slot[j] != found, comm, PETSC_ERR_ARG_WRONG, "-az_eval_derivatives: '%s' names the same derivative as '%s' before it; give each once", list[k], list[j]);
    slot[k] = found;
    SlotName(ncoord, info->time_dependent, found, names[k], 8);
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzRunEval(MPI_Comm comm)
{
  char                 run[PETSC_MAX_PATH_LEN] = "", path[PETSC_MAX_PATH_LEN + 32], load[PETSC_MAX_PATH_LEN] = "", pts[PETSC_MAX_PATH_LEN] = "", out[PETSC_MAX_PATH_LEN] = "", name[PETSC_MAX_PATH_LEN] = "poisson2d", recipe[2048];
  char                *dlist[17], dname[16][8], params[1024] = ""; /* room for one name too many: PETSc drops the rest silently */
  PetscInt             ndl = 17, grid = 0, ncoord, ncomp, nslot, n, nd = 0, slot[16], start, end, ncol, chunk = 1024;
  PetscBool            run_set, load_set, grid_set, pts_set;
  Inserted             ins = {0, {NULL}};
  AzProblem            prob;
  const AzProblemInfo *info;
  AzField              field;
  AzLoss               loss;
  PetscReal           *x = NULL, *loc, *all = NULL, lo[AZ_MAX_COORD], hi[AZ_MAX_COORD];
  PetscScalar         *jets;
  PetscMPIInt          size, rank, *counts = NULL, *displs = NULL;

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_size(comm, &size));
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  /* the run directory's options first, so that every later read sees them */
  PetscCall(PetscOptionsGetString(NULL, NULL, "-az_run", run, sizeof run, &run_set));
  if (run_set) {
    PetscBool given;
    snprintf(path, sizeof path, "%s/inferred.txt", run); /* inverse runs: the inferred parameters, over options.txt's initial guesses */
    PetscCall(InsertDefaults(comm, path, PETSC_TRUE, &ins));
    snprintf(path, sizeof path, "%s/options.txt", run);
    PetscCall(InsertDefaults(comm, path, PETSC_FALSE, &ins));
    PetscCall(PetscOptionsHasName(NULL, NULL, "-az_field_load", &given));
    if (!given) {
      snprintf(path, sizeof path, "%s/theta.bin", run);
      PetscCall(PetscOptionsSetValue(NULL, "-az_field_load", path));
    }
  }
  PetscOptionsBegin(comm, NULL, "ansatz eval: a trained field at given points", "ansatz");
  PetscCall(PetscOptionsString("-az_run", "run directory of `ansatz train`: its options.txt (and inferred.txt) below the command line's, its theta.bin", "AzRunEval", run, run, sizeof run, NULL));
  PetscCall(PetscOptionsString("-problem", "problem: a name from `ansatz list` or a path to a plugin .so", "AzProblemLoad", name, name, sizeof name, NULL));
  PetscCall(PetscOptionsString("-az_eval_points", "points: CSV (one point per line, its coordinates; a header line and '#' comments allowed) or HDF5 (a name ending in .h5, dataset /coords)", "AzRunEval", pts, pts, sizeof pts, &pts_set));
  PetscCall(PetscOptionsInt("-az_eval_grid", "points: a uniform grid of m points per axis (the ends included; first coordinate fastest)", "AzRunEval", grid, &grid, &grid_set));
  PetscCall(PetscOptionsStringArray("-az_eval_derivatives", "derivatives to write beside the values, e.g. x,xx,t (those the problem's jets carry)", "AzRunEval", dlist, &ndl, NULL));
  PetscCall(PetscOptionsString("-az_eval_output", "output: CSV, or HDF5 for a name ending in .h5 (default DIR/eval.csv with -az_run, else eval.csv)", "AzRunEval", out, out, sizeof out, NULL));
  PetscOptionsEnd();
  PetscCall(PetscOptionsGetString(NULL, NULL, "-az_field_load", load, sizeof load, &load_set));
  if (!out[0]) snprintf(out, sizeof out, "%s%seval.csv", run_set ? run : "", run_set ? "/" : "");

  PetscCall(AzProblemLoad(comm, name, &prob));
  PetscCall(AzProblemSetFromOptions(prob));
  PetscCall(AzProblemGetInfo(prob, &info));
  PetscCall(AzProblemGetNumCoords(prob, &ncoord));
  PetscCall(AzProblemGetBox(prob, lo, hi));
  {
    /* the parameters in force (the command line's, inferred.txt's, options.txt's), for the record */
    const PetscReal *param;
    PetscInt         np;
    PetscCall(AzProblemGetNumParams(prob, &np));
    PetscCall(AzProblemGetParams(prob, &param));
    for (PetscInt k = 0; k < np; k++) {
      char v[64], item[192];
      PetscCall(AzParamInfoFormatValue(&info->params[k], param[k], v, sizeof v));
      snprintf(item, sizeof item, "%s-az_%s_%s %s", k ? " " : "", info->name, info->params[k].name, v);
      PetscCall(PetscStrlcat(params, item, sizeof params));
    }
  }
  /* the architecture (and, without a run directory, the conditions) train chose, when its options are
   * given again; a run directory's options.txt holds every option train's recipe set, so the conditions
   * are its own: a run made before a recipe rule existed is evaluated as it was trained */
  PetscCall(AzRunApplyRecipe(prob, (PetscBool)!run_set, PETSC_TRUE, recipe, sizeof recipe));
  PetscCheck(ndl <= 16, comm, PETSC_ERR_ARG_SIZ, "-az_eval_derivatives: more than 16 names; give at most 16 (each once)");
  PetscCall(ParseDerivatives(comm, prob, dlist, ndl, slot, dname));
  nd = ndl;
  PetscCall(AzRunCreateField(prob, &field)); /* loads -az_field_load: a field of another architecture is refused */
  PetscCall(AzLossCreate(prob, field, &loss));
  PetscCall(AzLossSetFromOptions(loss));
  /* options of the run directory that eval has no use for (the trainer's, ...) are not the user's */
  for (PetscInt k = 0; k < ins.n; k++) {
    PetscBool used;
    PetscCall(PetscOptionsUsed(NULL, ins.name[k], &used));
    if (!used) PetscCall(PetscOptionsClearValue(NULL, ins.name[k]));
  }
  PetscCall(AzOptionsCheckpoint(comm, PETSC_TRUE)); /* -help stops here */
  PetscCheck(load_set && load[0], comm, PETSC_ERR_ARG_WRONG, "ansatz eval needs a trained field: -az_run DIR (the directory of an `ansatz train` run) or -az_field_load FILE (a theta.bin) with the options the training took");
  PetscCheck(pts_set != grid_set, comm, PETSC_ERR_ARG_WRONG, "ansatz eval: give the points by -az_eval_points FILE or -az_eval_grid m (%s)", pts_set ? "not both" : "neither was given");
  PetscCall(AzLossSetUp(loss));
  PetscCall(AzLossHardPDEFinalSolve(loss)); /* a solved output layer's weights at the loaded θ, at the final ridge as train's summary */
  PetscCall(AzLossSyncSolution(loss));

  /* the points: every rank knows them all (file or grid), evaluates its block of a PETSc split */
  if (pts_set) {
    PetscCall(AzPointsFileRead(prob, pts, "-az_eval_points", 0, &n, &x));
  } else {
    PetscReal total = PetscPowReal((PetscReal)grid, (PetscReal)ncoord);
    PetscCheck(grid >= 2 && total <= 1e8, comm, PETSC_ERR_ARG_OUTOFRANGE, "-az_eval_grid %" PetscInt_FMT ": the grid needs at least 2 points per axis and at most 1e8 points in all (%" PetscInt_FMT " coordinates)", grid, ncoord);
    n = (PetscInt)total;
    PetscCall(PetscMalloc1(n * ncoord, &x));
    for (PetscInt i = 0; i < n; i++) {
      PetscInt q = i;
      for (PetscInt d = 0; d < ncoord; d++) {
        x[i * ncoord + d] = lo[d] + (hi[d] - lo[d]) * (PetscReal)(q % grid) / (grid - 1);
        q /= grid;
      }
    }
  }
  PetscCall(AzRunSolutionJetSize(prob, &ncomp, &nslot));
  ncol = ncomp * (1 + nd);
  start = PETSC_DECIDE;
  end   = n;
  PetscCall(PetscSplitOwnership(comm, &start, &end));
  PetscCallMPI(MPI_Scan(&start, &end, 1, MPIU_INT, MPI_SUM, comm));
  start = end - start; /* [start, end): this rank's points */
  PetscCall(PetscMalloc2((end - start) * ncol + 1, &loc, chunk * ncomp * nslot, &jets));
  for (PetscInt p0 = start; p0 < end; p0 += chunk) {
    const PetscInt nc = PetscMin(chunk, end - p0);
    PetscCall(AzLossEvaluateSolution(loss, nc, x + p0 * ncoord, jets));
    for (PetscInt i = 0; i < nc; i++) {
      PetscReal *r = loc + (p0 - start + i) * ncol;
      for (PetscInt c = 0; c < ncomp; c++) {
        r[c] = PetscRealPart(jets[(i * ncomp + c) * nslot]);
        for (PetscInt k = 0; k < nd; k++) r[ncomp + c * nd + k] = PetscRealPart(jets[(i * ncomp + c) * nslot + slot[k]]);
      }
    }
  }
  /* gathered on rank 0 in point order */
  if (rank == 0) {
    PetscCall(PetscMalloc3(n * ncol + 1, &all, size, &counts, size, &displs));
  }
  {
    PetscMPIInt cnt = (PetscMPIInt)((end - start) * ncol);
    PetscCallMPI(MPI_Gather(&cnt, 1, MPI_INT, counts, 1, MPI_INT, 0, comm));
    if (rank == 0)
      for (PetscMPIInt r = 0; r < size; r++) displs[r] = r ? displs[r - 1] + counts[r - 1] : 0;
    PetscCallMPI(MPI_Gatherv(loc, cnt, MPIU_REAL, all, counts, displs, MPIU_REAL, 0, comm));
  }
  {
    char colnames[4096] = "";
    for (PetscInt d = 0; d < ncoord; d++) {
      char a[4] = {(char)(d == ncoord - 1 && info->time_dependent ? 't' : "xyzw"[d]), 0};
      PetscCall(PetscStrlcat(colnames, d ? "," : "", sizeof colnames));
      PetscCall(PetscStrlcat(colnames, a, sizeof colnames));
    }
    for (PetscInt c = 0; c < ncomp; c++) {
      char cn[64];
      PetscCall(AzRunComponentName(prob, c, cn, sizeof cn));
      PetscCall(PetscStrlcat(colnames, ",", sizeof colnames));
      PetscCall(PetscStrlcat(colnames, cn, sizeof colnames));
    }
    for (PetscInt c = 0; c < ncomp; c++)
      for (PetscInt k = 0; k < nd; k++) {
        char cn[64], item[160];
        PetscCall(AzRunComponentName(prob, c, cn, sizeof cn));
        snprintf(item, sizeof item, ",%.63s_%.7s", cn, dname[k]);
        PetscCall(PetscStrlcat(colnames, item, sizeof colnames));
      }
    if (AzRunIsHDF5(out)) {
      PetscReal  *vals = NULL, *ders = NULL;
      AzH5Dataset ds[3];
      if (rank == 0) {
        PetscCall(PetscMalloc2(n * ncomp, &vals, n * ncomp * nd + 1, &ders));
        for (PetscInt i = 0; i < n; i++) {
          for (PetscInt c = 0; c < ncomp; c++) vals[i * ncomp + c] = all[i * ncol + c];
          for (PetscInt k = 0; k < ncomp * nd; k++) ders[i * ncomp * nd + k] = all[i * ncol + ncomp + k];
        }
      }
      ds[0] = (AzH5Dataset){"/coords", n, ncoord, x};
      ds[1] = (AzH5Dataset){"/values", n, ncomp, vals};
      ds[2] = (AzH5Dataset){"/derivatives", n, ncomp * nd, ders};
      {
        const char *const attr[] = {"problem", info->name, "parameters", params, "field", load, "columns", colnames, "layout", "/coords (n x ncoord), /values (n x ncomp: the solution), /derivatives (n x ncomp*nd: per component, the derivatives in -az_eval_derivatives' order)"};
        PetscCall(AzRunWriteHDF5(comm, out, nd ? 3 : 2, ds, 5, attr));
      }
      if (rank == 0) PetscCall(PetscFree2(vals, ders));
    } else {
      AzFile f;
      PetscCall(AzFileOpen(comm, out, &f));
      PetscCall(AzFilePrintf(f, "# ansatz eval: problem %s (%s), field %s, %" PetscInt_FMT " points\n%s\n", info->name, params[0] ? params : "no parameters", load, n, colnames));
      for (PetscInt i = 0; rank == 0 && i < n; i++) {
        for (PetscInt d = 0; d < ncoord; d++) PetscCall(AzFilePrintf(f, "%s%.17g", d ? "," : "", (double)x[i * ncoord + d]));
        for (PetscInt k = 0; k < ncol; k++) PetscCall(AzFilePrintf(f, ",%.17g", (double)all[i * ncol + k]));
        PetscCall(AzFilePrintf(f, "\n"));
      }
      PetscCall(AzFileClose(&f));
    }
  }
  PetscCall(PetscPrintf(comm, "ansatz eval: problem %s (%s), field %s, %" PetscInt_FMT " point(s), %d rank(s): written to %s\n", info->name, params[0] ? params : "no parameters", load, n, size, out));
  if (rank == 0) PetscCall(PetscFree3(all, counts, displs));
  PetscCall(PetscFree2(loc, jets));
  PetscCall(PetscFree(x));
  for (PetscInt k = 0; k < ndl; k++) PetscCall(PetscFree(dlist[k]));
  for (PetscInt k = 0; k < ins.n; k++) PetscCall(PetscFree(ins.name[k]));
  PetscCall(AzLossDestroy(&loss));
  PetscCall(AzFieldDestroy(&field));
  PetscCall(AzProblemDestroy(&prob));
  PetscFunctionReturn(PETSC_SUCCESS);
}
