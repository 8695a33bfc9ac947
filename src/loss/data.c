/* Observations for the data term: a strict CSV reader, the rows dealt out over the ranks like the
 * collocation points. */
#include "lossimpl.h"
#include <ctype.h>

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

/* Read observations from a CSV file: each line holds ncoord coordinates then ncomp values, every one
 * a finite number and the coordinates inside the problem's box. The first line may be a header;
 * blank lines and lines starting with '#' are skipped; any other defect is an error that names the
 * file and the line. Every rank reads the file and keeps its share of the rows, so the data are
 * distributed like the collocation sets. */
PetscErrorCode AzDataRead(AzLoss L, AzTerm *t)
{
  FILE        *fp;
  char         line[4096], msg[256];
  PetscInt     nrow = 0, lineno = 0, start, end, row = 0, ncol = L->ncoord + L->ncomp, found;
  PetscScalar *xa, *oa;
  PetscReal    v[AZ_MAX_COORD + AZ_MAX_COMP], lo[AZ_MAX_COORD], hi[AZ_MAX_COORD];
  const char   names[] = "xyz";
  const AzProblemInfo *info;

  PetscFunctionBegin;
  PetscCall(AzProblemGetInfo(L->prob, &info));
  PetscCall(AzProblemGetBox(L->prob, lo, hi));
  fp = fopen(L->data_file, "r");
  PetscCheck(fp, L->comm, PETSC_ERR_FILE_OPEN, "Cannot open the data file %s given by -az_data", L->data_file);
  /* first pass: count and check the rows */
  while (fgets(line, sizeof line, fp)) {
    int r;
    lineno++;
    if (!strchr(line, '\n') && !feof(fp)) {
      fclose(fp);
      SETERRQ(L->comm, PETSC_ERR_FILE_UNEXPECTED, "Data file %s, line %" PetscInt_FMT ": longer than %d characters", L->data_file, lineno, (int)sizeof line - 2);
    }
    r = ParseDataLine(line, ncol, v, &found, msg, sizeof msg);
    if (r == 1 || (r == 2 && lineno == 1)) continue;
    if (r == 2) snprintf(msg, sizeof msg, "a field is not a number (only the first line may be a header)");
    if (r == 3) snprintf(msg, sizeof msg, "expected %d numbers (%d coordinate(s), then %d component(s)), found %d", (int)ncol, (int)L->ncoord, (int)L->ncomp, (int)found);
    if (r == 0) {
      for (PetscInt d = 0; d < L->ncoord; d++) {
        const PetscReal tol = 1e-12 * (hi[d] - lo[d]);
        if (v[d] < lo[d] - tol || v[d] > hi[d] + tol) {
          snprintf(msg, sizeof msg, "coordinate %c = %g is outside the problem's box [%g, %g]", d == L->ncoord - 1 && info->time_dependent ? 't' : names[d], (double)v[d], (double)lo[d], (double)hi[d]);
          r = -1;
          break;
        }
      }
    }
    if (r) {
      fclose(fp);
      SETERRQ(L->comm, PETSC_ERR_FILE_UNEXPECTED, "Data file %s, line %" PetscInt_FMT ": %s", L->data_file, lineno, msg);
    }
    nrow++;
  }
  PetscCheck(nrow > 0, L->comm, PETSC_ERR_FILE_UNEXPECTED, "Data file %s holds no observations", L->data_file);
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
  rewind(fp);
  lineno = 0;
  while (fgets(line, sizeof line, fp)) {
    lineno++;
    if (ParseDataLine(line, ncol, v, &found, msg, sizeof msg)) continue; /* checked above: header, blank, comment */
    if (row >= start && row < end) {
      for (PetscInt k = 0; k < ncol; k++) {
        if (k < L->ncoord) xa[(row - start) * L->ncoord + k] = v[k];
        else oa[(row - start) * L->ncomp + k - L->ncoord] = v[k];
      }
    }
    row++;
  }
  fclose(fp);
  PetscCall(VecRestoreArray(t->x, &xa));
  PetscCall(VecRestoreArray(t->obs, &oa));
  PetscFunctionReturn(PETSC_SUCCESS);
}

