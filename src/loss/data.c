/* Observations for the data term, and point files in general: a strict CSV reader and an HDF5 reader
 * (PETSc's HDF5 viewer) with the same checks; the data term's rows dealt out over the ranks like the
 * collocation points. */
#include "lossimpl.h"
#include <ctype.h>
#include <petscviewerhdf5.h>
#include <ansatz/file.h>
#include <petsclayouthdf5.h>

/* One line of a data file: fields separated by commas (or, on a line without commas, by blanks),
 * each a whole finite number. Returns 0 for a row of n numbers, 1 for a blank or '#' line, 2 for a
 * line that has a field that is not a number (a header, if it is the first line), 3 for a row of
 * *found numbers (not n), and -1 for a defect described in msg. */
static int ParseDataLine(char *line, PetscInt ncol, PetscReal v[], PetscInt *found, char msg[], size_t len)
{
  char      *s = line;
  const char sep = strchr(line, ',') ? ',' : ' ';
  PetscInt   k = 0;
  int        text = 0;

  line[strcspn(line, "\r\n")] = 0;
  while (*s == ' ' || *s == '\t') s++;
  if (!*s || *s == '#') return 1;
  for (;;) {
    char  *end = sep == ',' ? strchr(s, ',') : s + strcspn(s, " \t");
    char  *f = s, *e, save;
    double x;

    if (!end) end = s + strlen(s);
    save = *end;
    *end = 0;
    while (*f == ' ' || *f == '\t') f++;
    {
      char *t = f + strlen(f);
      while (t > f && (t[-1] == ' ' || t[-1] == '\t')) *--t = 0;
    }
    if (!*f) {
      snprintf(msg, len, "field %d is empty", (int)k + 1);
      return -1;
    }
    x = strtod(f, &e);
    if (e == f || *e) text = 1;
    else if (k < ncol) {
      if (!isfinite(x)) {
        snprintf(msg, len, "field %d is %s: every value must be a finite number", (int)k + 1, f);
        return -1;
      }
      v[k] = (PetscReal)x;
    }
    k++;
    if (!save) break;
    s = end + 1;
    if (sep == ' ')
      while (*s == ' ' || *s == '\t') s++;
    if (sep == ' ' && !*s) break;
  }
  *found = k;
  if (text) return 2;
  return k == ncol ? 0 : 3;
}

/* a row's coordinates inside the problem's box (a relative tolerance of 1e-12); else msg says which */
static PetscBool RowInBox(const AzProblemInfo *info, PetscInt ncoord, const PetscReal lo[], const PetscReal hi[], const PetscReal v[], char msg[], size_t len)
{
  const char names[] = "xyz";

  for (PetscInt d = 0; d < ncoord; d++) {
    const PetscReal tol = 1e-12 * (hi[d] - lo[d]);
    if (v[d] < lo[d] - tol || v[d] > hi[d] + tol) {
      snprintf(msg, len, "coordinate %c = %g is outside the problem's box [%g, %g]", d == ncoord - 1 && info->time_dependent ? 't' : names[d], (double)v[d], (double)lo[d], (double)hi[d]);
      return PETSC_FALSE;
    }
  }
  return PETSC_TRUE;
}

static PetscBool IsHDF5(const char path[])
{
  size_t n = strlen(path);
  return n > 3 && !strcmp(path + n - 3, ".h5") ? PETSC_TRUE : PETSC_FALSE;
}

static PetscErrorCode ReadCSV(AzProblem prob, const char path[], const char option[], PetscInt nval, PetscInt *n, PetscReal **rows)
{
  FILE                *fp;
  char                 line[4096], msg[256];
  PetscInt             nrow = 0, lineno = 0, ncoord, ncol, found, cap = 0;
  PetscBool            first = PETSC_TRUE; /* no data line yet: a header may come */
  PetscReal            v[AZ_MAX_COORD + AZ_MAX_COMP], lo[AZ_MAX_COORD], hi[AZ_MAX_COORD], *a = NULL;
  const AzProblemInfo *info;
  MPI_Comm             comm;

  PetscFunctionBegin;
  PetscCall(AzProblemGetComm(prob, &comm));
  PetscCall(AzProblemGetInfo(prob, &info));
  PetscCall(AzProblemGetNumCoords(prob, &ncoord));
  PetscCall(AzProblemGetBox(prob, lo, hi));
  ncol = ncoord + nval;
  fp   = fopen(path, "r");
  PetscCheck(fp, comm, PETSC_ERR_FILE_OPEN, "Cannot open the %s file %s given by %s", nval ? "data" : "points", path, option);
  while (fgets(line, sizeof line, fp)) {
    int r;
    lineno++;
    if (!strchr(line, '\n') && !feof(fp)) {
      fclose(fp);
      PetscCall(PetscFree(a));
      SETERRQ(comm, PETSC_ERR_FILE_UNEXPECTED, "%s file %s, line %" PetscInt_FMT ": longer than %d characters", nval ? "Data" : "Points", path, lineno, (int)sizeof line - 2);
    }
    r = ParseDataLine(line, ncol, v, &found, msg, sizeof msg);
    if (r == 1) continue;
    if (r == 2 && first) { /* the header: the first line that is not a comment */
      first = PETSC_FALSE;
      continue;
    }
    first = PETSC_FALSE;
    if (r == 2) snprintf(msg, sizeof msg, "a field is not a number (only the first line may be a header)");
    if (r == 3) {
      if (nval) snprintf(msg, sizeof msg, "expected %d numbers (%d coordinate(s), then %d component(s)), found %d", (int)ncol, (int)ncoord, (int)nval, (int)found);
      else snprintf(msg, sizeof msg, "expected %d numbers (the point's coordinates), found %d", (int)ncol, (int)found);
    }
    if (r == 0 && !RowInBox(info, ncoord, lo, hi, v, msg, sizeof msg)) r = -1;
    if (r) {
      fclose(fp);
      PetscCall(PetscFree(a));
      SETERRQ(comm, PETSC_ERR_FILE_UNEXPECTED, "%s file %s, line %" PetscInt_FMT ": %s", nval ? "Data" : "Points", path, lineno, msg);
    }
    if (nrow == cap) {
      PetscReal *b;
      cap = cap ? 2 * cap : 1024;
      PetscCall(PetscMalloc1(cap * ncol, &b));
      if (a) PetscCall(PetscArraycpy(b, a, nrow * ncol));
      PetscCall(PetscFree(a));
      a = b;
    }
    PetscCall(PetscArraycpy(a + nrow * ncol, v, ncol));
    nrow++;
  }
  fclose(fp);
  *n    = nrow;
  *rows = a;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* dataset name of the HDF5 file into a new sequential Vec x of block size cols, and its rows; a
 * defect (no such dataset, another number of columns) is described in msg and x is NULL, so the
 * caller can close the file before it reports the error */
static PetscErrorCode LoadDataset(PetscViewer v, const char path[], const char name[], const char what[], PetscInt cols, PetscInt *nrow, Vec *x, char msg[], size_t len)
{
  PetscBool has;
  PetscInt  bs, N;
  char      ds[64];

  PetscFunctionBegin;
  *x = NULL;
  snprintf(ds, sizeof ds, "/%s", name);
  PetscCall(PetscViewerHDF5HasDataset(v, ds, &has));
  if (!has) {
    snprintf(msg, len, "Data file %s has no dataset %s: an HDF5 data file holds /coords (n x ncoord) and /values (n x ncomp)", path, ds);
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  PetscCall(PetscViewerHDF5ReadSizes(v, name, &bs, &N));
  if (bs != cols) {
    snprintf(msg, len, "Data file %s: dataset %s has %d column(s), expected %d (%s)", path, ds, (int)bs, (int)cols, what);
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  PetscCall(VecCreate(PETSC_COMM_SELF, x));
  PetscCall(VecSetSizes(*x, N, N));
  PetscCall(VecSetBlockSize(*x, cols));
  PetscCall(VecSetType(*x, VECSEQ));
  PetscCall(PetscObjectSetName((PetscObject)*x, name));
  PetscCall(VecLoad(*x, v));
  *nrow = N / cols;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Every rank reads the whole file (PETSC_COMM_SELF), so each sees the same defect */
static PetscErrorCode ReadHDF5(AzProblem prob, const char path[], const char option[], PetscInt nval, PetscInt *n, PetscReal **rows)
{
  PetscViewer          v;
  Vec                  xc, xv = NULL;
  PetscInt             ncoord, ncol, nr, nv = 0;
  PetscReal            lo[AZ_MAX_COORD], hi[AZ_MAX_COORD], *a;
  const PetscScalar   *c, *u = NULL;
  const AzProblemInfo *info;
  MPI_Comm             comm;
  char                 what[128], msg[PETSC_MAX_PATH_LEN + 256];
  PetscBool            exists;

  PetscFunctionBegin;
  PetscCall(AzProblemGetComm(prob, &comm));
  PetscCall(AzProblemGetInfo(prob, &info));
  PetscCall(AzProblemGetNumCoords(prob, &ncoord));
  PetscCall(AzProblemGetBox(prob, lo, hi));
  ncol = ncoord + nval;
  PetscCall(PetscTestFile(path, 'r', &exists));
  PetscCheck(exists, comm, PETSC_ERR_FILE_OPEN, "Cannot open the %s file %s given by %s", nval ? "data" : "points", path, option);
  PetscCall(AzFileCheckHDF5Path(comm, path, option));
  PetscCall(PetscViewerHDF5Open(PETSC_COMM_SELF, path, FILE_MODE_READ, &v));
  msg[0] = 0;
  snprintf(what, sizeof what, "problem %s has %" PetscInt_FMT " coordinate(s)%s", info->name, ncoord, info->time_dependent ? ", time last" : "");
  PetscCall(LoadDataset(v, path, "coords", what, ncoord, &nr, &xc, msg, sizeof msg));
  if (xc && nval) {
    snprintf(what, sizeof what, "problem %s has %" PetscInt_FMT " component(s)", info->name, nval);
    PetscCall(LoadDataset(v, path, "values", what, nval, &nv, &xv, msg, sizeof msg));
    if (xv && nv != nr) snprintf(msg, sizeof msg, "Data file %s: /coords has %" PetscInt_FMT " rows, /values %" PetscInt_FMT ": one row of values per point", path, nr, nv);
  }
  PetscCall(PetscViewerDestroy(&v)); /* closed before any error, so that the file can be written again */
  if (msg[0]) {
    PetscCall(VecDestroy(&xc));
    PetscCall(VecDestroy(&xv));
    SETERRQ(comm, PETSC_ERR_FILE_UNEXPECTED, "%s", msg);
  }
  PetscCall(PetscMalloc1(nr * ncol, &a));
  PetscCall(VecGetArrayRead(xc, &c));
  if (xv) PetscCall(VecGetArrayRead(xv, &u));
  for (PetscInt i = 0; i < nr; i++) {
    PetscReal *r  = a + i * ncol;
    PetscBool  ok = PETSC_TRUE;
    for (PetscInt k = 0; k < ncol; k++) {
      r[k] = PetscRealPart(k < ncoord ? c[i * ncoord + k] : u[i * nval + k - ncoord]);
      if (ok && PetscIsInfOrNanReal(r[k])) {
        snprintf(msg, sizeof msg, "%s column %d is %g: every value must be a finite number", k < ncoord ? "/coords" : "/values", (int)(k < ncoord ? k : k - ncoord) + 1, (double)r[k]);
        ok = PETSC_FALSE;
      }
    }
    if (ok) ok = RowInBox(info, ncoord, lo, hi, r, msg, sizeof msg);
    if (!ok) {
      PetscCall(VecRestoreArrayRead(xc, &c));
      if (xv) PetscCall(VecRestoreArrayRead(xv, &u));
      PetscCall(VecDestroy(&xc));
      PetscCall(VecDestroy(&xv));
      PetscCall(PetscFree(a));
      SETERRQ(comm, PETSC_ERR_FILE_UNEXPECTED, "%s file %s, row %" PetscInt_FMT " (counting from 1): %s", nval ? "Data" : "Points", path, i + 1, msg);
    }
  }
  PetscCall(VecRestoreArrayRead(xc, &c));
  if (xv) PetscCall(VecRestoreArrayRead(xv, &u));
  PetscCall(VecDestroy(&xc));
  PetscCall(VecDestroy(&xv));
  *n    = nr;
  *rows = a;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzPointsFileRead(AzProblem prob, const char path[], const char option[], PetscInt nval, PetscInt *n, PetscReal **rows)
{
  MPI_Comm comm;

  PetscFunctionBegin;
  PetscCall(AzProblemGetComm(prob, &comm));
  PetscCheck(nval >= 0 && nval <= AZ_MAX_COMP, comm, PETSC_ERR_ARG_OUTOFRANGE, "AzPointsFileRead: %" PetscInt_FMT " values per point; 0 to %d are allowed", nval, AZ_MAX_COMP);
  if (IsHDF5(path)) PetscCall(ReadHDF5(prob, path, option, nval, n, rows));
  else PetscCall(ReadCSV(prob, path, option, nval, n, rows));
  PetscCheck(*n > 0, comm, PETSC_ERR_FILE_UNEXPECTED, "%s file %s holds no %s", nval ? "Data" : "Points", path, nval ? "observations" : "points");
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Read the observations of -az_data (CSV, or HDF5 for a name ending in .h5): every rank reads the
 * file and keeps its share of the rows, so the data are distributed like the collocation sets. */
PetscErrorCode AzDataRead(AzLoss L, AzTerm *t)
{
  PetscInt     nrow, start, end, ncol = L->ncoord + L->ncomp;
  PetscScalar *xa, *oa;
  PetscReal   *rows;

  PetscFunctionBegin;
  PetscCall(AzPointsFileRead(L->prob, L->data_file, "-az_data", L->ncomp, &nrow, &rows));
  t->n = nrow;
  PetscCall(VecCreate(L->comm, &t->x));
  PetscCall(VecSetBlockSize(t->x, L->ncoord));
  PetscCall(VecSetSizes(t->x, AzLossGroupsLocalSize(L, nrow) * L->ncoord, nrow * L->ncoord));
  PetscCall(VecSetFromOptions(t->x));
  PetscCall(VecGetOwnershipRange(t->x, &start, &end));
  start /= L->ncoord;
  end /= L->ncoord;
  PetscCall(VecCreateMPI(L->comm, (end - start) * L->ncomp, nrow * L->ncomp, &t->obs));
  PetscCall(VecGetArray(t->x, &xa));
  PetscCall(VecGetArray(t->obs, &oa));
  for (PetscInt row = start; row < end; row++) {
    for (PetscInt k = 0; k < ncol; k++) {
      if (k < L->ncoord) xa[(row - start) * L->ncoord + k] = rows[row * ncol + k];
      else oa[(row - start) * L->ncomp + k - L->ncoord] = rows[row * ncol + k];
    }
  }
  PetscCall(VecRestoreArray(t->x, &xa));
  PetscCall(VecRestoreArray(t->obs, &oa));
  PetscCall(PetscFree(rows));
  PetscFunctionReturn(PETSC_SUCCESS);
}
