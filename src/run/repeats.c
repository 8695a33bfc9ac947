/* compare with repeats (-az_repeats N) and resume (-az_compare_resume): the per-run result file, the
 * tables over repeats (median, min-max, mean ± std), every run's row, the median error curve with its
 * min-max band, and the paired verdicts. */
#include "compareimpl.h"
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* the columns of compare.csv, in its order (the status comes last) */
typedef enum { C_REL_L2, C_MAX_ABS, C_BC, C_IC, C_DRIFT, C_POS, C_LOSS, C_ITS, C_WALL, C_DIV, C_BOUNDS, C_NCOL } Column;
static const char *const ColumnCsv[C_NCOL] = {"rel_l2", "max_abs_error", "max_boundary_violation", "max_initial_violation", "drift_vs_Qstar", "positivity_violation", "final_loss", "iterations", "wall_seconds", "max_divergence", "bounds_violation"};
static const char *const ColumnMd[C_NCOL]  = {"rel L2", "max abs error", "max boundary violation", "max initial violation", "drift vs Q*", "positivity violation", "final loss", "iterations", "wall (s)", "max divergence", "bounds violation"};

static PetscReal ColumnValue(const AzCompareResult *r, Column c)
{
  switch (c) {
  case C_REL_L2: return r->rel_l2;
  case C_MAX_ABS: return r->max_abs;
  case C_BC: return r->viol_bc;
  case C_IC: return r->viol_ic;
  case C_DRIFT: return r->drift;
  case C_POS: return r->positivity;
  case C_LOSS: return r->loss;
  case C_ITS: return (PetscReal)r->its;
  case C_WALL: return r->wall;
  case C_DIV: return r->divergence;
  case C_BOUNDS: return r->bounds;
  default: return (PetscReal)NAN;
  }
}

/* run r's value of the inferred parameter called name (NaN: it inferred none by that name) */
static PetscReal Inferred(const AzCompareResult *r, const char name[])
{
  for (PetscInt j = 0; j < r->ninfer; j++)
    if (!strcmp(r->iname[j], name)) return r->ival[j];
  return (PetscReal)NAN;
}

/* result.txt: "key value" lines; numbers with 17 digits so a kept run's row is the trained one's */
PetscErrorCode AzCompareWriteResult(MPI_Comm comm, const char dir[], const AzCompareResult *r)
{
  char   path[PETSC_MAX_PATH_LEN + 16];
  AzFile f;

  PetscFunctionBegin;
  snprintf(path, sizeof path, "%s/result.txt", dir);
  PetscCall(AzFileOpen(comm, path, &f));
  PetscCall(AzFilePrintf(f, "# ansatz compare: a finished run (written last; -az_compare_resume keeps it when its options.txt matches)\n"));
  PetscCall(AzFilePrintf(f, "strategy %s\nrepeat %" PetscInt_FMT "\nfield_seed %" PetscInt_FMT "\nseed %" PetscInt_FMT "\nstatus %s\n", r->name, r->repeat, r->field_seed, r->seed, r->failed ? "failed" : "completed"));
  for (int c = 0; c < C_NCOL; c++)
    if (c != C_ITS) PetscCall(AzFilePrintf(f, "%s %.17g\n", ColumnCsv[c], (double)ColumnValue(r, (Column)c)));
  PetscCall(AzFilePrintf(f, "iterations %" PetscInt_FMT "\n", r->its));
  for (PetscInt i = 0; i < r->ninfer; i++) PetscCall(AzFilePrintf(f, "inferred %s %.17g\n", r->iname[i], (double)r->ival[i]));
  PetscCall(AzFilePrintf(f, "why %s\n", r->why)); /* last: the rest of the line */
  PetscCall(AzFileClose(&f));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzCompareReadResult(MPI_Comm comm, const char dir[], PetscBool *found, AzCompareResult *r)
{
  PetscMPIInt rank;
  int         ok = 0;

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  PetscCall(PetscMemzero(r, sizeof *r));
  if (rank == 0) {
    char  path[PETSC_MAX_PATH_LEN + 16], line[512];
    FILE *fp;
    snprintf(path, sizeof path, "%s/result.txt", dir);
    if ((fp = fopen(path, "r"))) {
      int fields = 0;
      while (fgets(line, sizeof line, fp)) {
        char   key[64], text[256];
        double v;
        long   l;
        line[strcspn(line, "\n")] = 0;
        if (line[0] == '#') continue;
        if (!strncmp(line, "why ", 4)) {
          PetscCall(PetscStrncpy(r->why, line + 4, sizeof r->why));
          fields++;
        } else if (sscanf(line, "strategy %63s", r->name) == 1) fields++;
        else if (sscanf(line, "status %255s", text) == 1) {
          r->failed = strcmp(text, "failed") ? PETSC_FALSE : PETSC_TRUE;
          fields++;
        } else if (sscanf(line, "repeat %ld", &l) == 1) r->repeat = (PetscInt)l;
        else if (sscanf(line, "field_seed %ld", &l) == 1) r->field_seed = (PetscInt)l;
        else if (sscanf(line, "seed %ld", &l) == 1) r->seed = (PetscInt)l;
        else if (sscanf(line, "iterations %ld", &l) == 1) r->its = (PetscInt)l;
        else if (sscanf(line, "inferred %31s %lg", text, &v) == 2 && r->ninfer < AZ_MAX_PARAMS) {
          PetscCall(PetscStrncpy(r->iname[r->ninfer], text, sizeof r->iname[0]));
          r->ival[r->ninfer++] = (PetscReal)v;
        } else if (sscanf(line, "%63s %lg", key, &v) == 2) {
          PetscReal *dst[C_NCOL] = {&r->rel_l2, &r->max_abs, &r->viol_bc, &r->viol_ic, &r->drift, &r->positivity, &r->loss, NULL, &r->wall, &r->divergence, &r->bounds};
          for (int c = 0; c < C_NCOL; c++)
            if (dst[c] && !strcmp(key, ColumnCsv[c])) *dst[c] = (PetscReal)v, fields++;
        }
      }
      fclose(fp);
      ok = fields == 3 + C_NCOL - 1 ? 1 : -1; /* strategy, status, why and every real column */
    }
  }
  PetscCallMPI(MPI_Bcast(&ok, 1, MPI_INT, 0, comm));
  PetscCheck(ok >= 0, comm, PETSC_ERR_FILE_UNEXPECTED, "%s/result.txt is incomplete or not compare's: remove it (the run is then trained again) or use another -az_output_dir", dir);
  *found = ok ? PETSC_TRUE : PETSC_FALSE;
  if (ok) PetscCallMPI(MPI_Bcast(r, (PetscMPIInt)sizeof *r, MPI_BYTE, 0, comm));
  r->kept = *found;
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscBool Swept(const AzCompareSweep *sw)
{
  return sw && sw->nopt > 0 ? PETSC_TRUE : PETSC_FALSE;
}

/* a CSV field, quoted when it holds a comma or a quote */
static void CsvField(FILE *c, const char v[])
{
  if (!strpbrk(v, ",\"")) fprintf(c, ",%s", v);
  else {
    fprintf(c, ",\"");
    for (; *v; v++) fprintf(c, *v == '"' ? "\"\"" : "%c", *v);
    fprintf(c, "\"");
  }
}

/* with a sweep: the columns setting (its label) and one per swept option, after strategy */
static void SettingHeader(FILE *c, const AzCompareSweep *sw)
{
  if (!Swept(sw)) return;
  fprintf(c, ",setting");
  for (PetscInt j = 0; j < sw->nopt; j++) fprintf(c, ",%s", sw->name[j]);
}

static void SettingCsv(FILE *c, const AzCompareSweep *sw, PetscInt p)
{
  char label[1024];
  if (!Swept(sw)) return;
  AzCompareSweepLabel(sw, p, PETSC_FALSE, label, sizeof label);
  CsvField(c, label);
  for (PetscInt j = 0; j < sw->nopt; j++) CsvField(c, AzCompareSweepValue(sw, p, j));
}

static void SettingMd(FILE *m, const AzCompareSweep *sw, PetscInt p)
{
  char label[1024];
  if (!Swept(sw)) return;
  AzCompareSweepLabel(sw, p, PETSC_FALSE, label, sizeof label);
  fprintf(m, " %s |", label);
}

static void Cell(FILE *m, const AzCompareStats *s)
{
  if (!s->count) fprintf(m, " n/a |");
  else fprintf(m, " %.3e [%.3e, %.3e] %.3e ± %.2e |", (double)s->median, (double)s->min, (double)s->max, (double)s->mean, (double)s->std);
}

static void CsvStats(FILE *c, const AzCompareStats *s)
{
  if (!s->count) fprintf(c, ",n/a,n/a,n/a,n/a,n/a");
  else fprintf(c, ",%.6e,%.6e,%.6e,%.6e,%.6e", (double)s->median, (double)s->min, (double)s->max, (double)s->mean, (double)s->std);
}


/* compare.csv and compare.md from the tables rank 0 made (NULL on the others), the reference's line
 * under the markdown table */
static PetscErrorCode WriteTablePair(MPI_Comm comm, const char dir[], const char md[], const char csv[], const char refline[])
{
  char   path[PETSC_MAX_PATH_LEN + 16];
  AzFile f;

  PetscFunctionBegin;
  snprintf(path, sizeof path, "%s/compare.csv", dir);
  PetscCall(AzFileOpen(comm, path, &f));
  if (csv) PetscCall(AzFilePrintf(f, "%s", csv));
  PetscCall(AzFileClose(&f));
  snprintf(path, sizeof path, "%s/compare.md", dir);
  PetscCall(AzFileOpen(comm, path, &f));
  if (md) PetscCall(AzFilePrintf(f, "%s", md));
  if (refline) PetscCall(AzFilePrintf(f, "\n%s\n", refline));
  PetscCall(AzFileClose(&f));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* compare.md/csv over repeats: per strategy and column the median, min, max, mean and standard
 * deviation over its completed runs (a failed run's row describes its last good parameters: it is
 * counted in status, not in the statistics) */
PetscErrorCode AzCompareWriteRepeatTables(MPI_Comm comm, const char dir[], PetscInt n, PetscInt nrep, const AzCompareResult run[], const char refline[], const AzCompareSweep *sw, char **mdout)
{
  char       *md = NULL, *csv = NULL;
  PetscMPIInt rank;

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  if (rank == 0) {
    size_t         szm, szc;
    FILE          *m = open_memstream(&md, &szm), *c = open_memstream(&csv, &szc);
    const PetscInt ni = run[0].ninfer;
    PetscReal      v[1024];

    PetscCheck(m && c && nrep <= 1024, PETSC_COMM_SELF, PETSC_ERR_MEM, "Cannot build the comparison table");
    fprintf(c, "strategy");
    SettingHeader(c, sw);
    fprintf(c, ",runs,failed");
    for (int k = 0; k < C_NCOL; k++) fprintf(c, ",%s_median,%s_min,%s_max,%s_mean,%s_std", ColumnCsv[k], ColumnCsv[k], ColumnCsv[k], ColumnCsv[k], ColumnCsv[k]);
    for (PetscInt i = 0; i < ni; i++) fprintf(c, ",inferred_%s_median,inferred_%s_min,inferred_%s_max,inferred_%s_mean,inferred_%s_std", run[0].iname[i], run[0].iname[i], run[0].iname[i], run[0].iname[i], run[0].iname[i]);
    fprintf(c, ",status\n");
    fprintf(m, "Each cell: median [min, max] mean ± std over the completed runs of the strategy (seeds paired across strategies; every run in compare_runs.csv).\n\n| strategy |%s runs |", Swept(sw) ? " setting |" : "");
    for (int k = 0; k < C_NCOL; k++) fprintf(m, " %s |", ColumnMd[k]);
    for (PetscInt i = 0; i < ni; i++) fprintf(m, " inferred %s |", run[0].iname[i]);
    fprintf(m, " status |\n| --- | --- |%s", Swept(sw) ? " --- |" : "");
    for (PetscInt k = 0; k < C_NCOL + ni + 1; k++) fprintf(m, " --- |");
    fprintf(m, "\n");
    for (PetscInt s = 0; s < n; s++) {
      PetscInt done = 0, failed = 0;
      for (PetscInt r = 0; r < nrep; r++) {
        const AzCompareResult *x = &run[r * n + s];
        if (!x->name[0]) continue; /* not run yet */
        done++;
        failed += x->failed;
      }
      if (!done) continue;
      fprintf(c, "%s", run[s].name);
      SettingCsv(c, sw, run[s].setting);
      fprintf(c, ",%d,%d", (int)done, (int)failed);
      fprintf(m, "| %s |", run[s].name);
      SettingMd(m, sw, run[s].setting);
      fprintf(m, " %d |", (int)done);
      for (PetscInt k = 0; k < C_NCOL + ni; k++) {
        AzCompareStats st;
        PetscInt       cnt = 0;
        for (PetscInt r = 0; r < nrep; r++) {
          const AzCompareResult *x = &run[r * n + s];
          if (!x->name[0] || x->failed) continue;
          v[cnt++] = k < C_NCOL ? ColumnValue(x, (Column)k) : Inferred(x, run[0].iname[k - C_NCOL]);
        }
        AzCompareStatistics(cnt, v, &st);
        CsvStats(c, &st);
        Cell(m, &st);
      }
      if (failed) {
        fprintf(c, ",%d of %d failed\n", (int)failed, (int)done);
        fprintf(m, " **%d of %d failed** |\n", (int)failed, (int)done);
      } else {
        fprintf(c, ",completed\n");
        fprintf(m, " completed |\n");
      }
    }
    fclose(m);
    fclose(c);
  }
  PetscCall(WriteTablePair(comm, dir, md, csv, refline));
  if (mdout) *mdout = md;
  else free(md);
  free(csv);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* compare_runs.csv: every finished run's row (compare.csv's columns), with its repeat and seeds */
PetscErrorCode AzCompareWriteRuns(MPI_Comm comm, const char dir[], PetscInt n, PetscInt nrep, const AzCompareResult run[], const AzCompareSweep *sw)
{
  char   path[PETSC_MAX_PATH_LEN + 24];
  AzFile f;

  PetscFunctionBegin;
  snprintf(path, sizeof path, "%s/compare_runs.csv", dir);
  PetscCall(AzFileOpen(comm, path, &f));
  PetscCall(AzFilePrintf(f, "strategy"));
  if (Swept(sw)) {
    PetscCall(AzFilePrintf(f, ",setting"));
    for (PetscInt j = 0; j < sw->nopt; j++) PetscCall(AzFilePrintf(f, ",%s", sw->name[j]));
  }
  PetscCall(AzFilePrintf(f, ",repeat,field_seed,seed"));
  for (int k = 0; k < C_NCOL; k++) PetscCall(AzFilePrintf(f, ",%s", ColumnCsv[k]));
  for (PetscInt i = 0; i < run[0].ninfer; i++) PetscCall(AzFilePrintf(f, ",inferred_%s", run[0].iname[i]));
  PetscCall(AzFilePrintf(f, ",status\n"));
  for (PetscInt s = 0; s < n; s++)
    for (PetscInt r = 0; r < nrep; r++) {
      const AzCompareResult *x = &run[r * n + s];
      if (!x->name[0]) continue;
      PetscCall(AzFilePrintf(f, "%s", x->name));
      if (Swept(sw)) {
        char  *text = NULL;
        size_t sz;
        FILE  *m = open_memstream(&text, &sz);
        PetscCheck(m, PETSC_COMM_SELF, PETSC_ERR_MEM, "Cannot write compare_runs.csv");
        SettingCsv(m, sw, x->setting);
        fclose(m);
        PetscCall(AzFilePrintf(f, "%s", text));
        free(text);
      }
      PetscCall(AzFilePrintf(f, ",%d,%d,%d", (int)x->repeat, (int)x->field_seed, (int)x->seed));
      for (int k = 0; k < C_NCOL; k++) {
        const PetscReal v = ColumnValue(x, (Column)k);
        if (k == C_ITS) PetscCall(AzFilePrintf(f, ",%d", (int)x->its));
        else if (k == C_WALL) PetscCall(AzFilePrintf(f, ",%.3f", (double)v));
        else if (PetscIsInfOrNanReal(v)) PetscCall(AzFilePrintf(f, ",n/a"));
        else PetscCall(AzFilePrintf(f, ",%.6e", (double)v));
      }
      for (PetscInt i = 0; i < run[0].ninfer; i++) {
        const PetscReal v = Inferred(x, run[0].iname[i]);
        if (PetscIsInfOrNanReal(v)) PetscCall(AzFilePrintf(f, ",n/a"));
        else PetscCall(AzFilePrintf(f, ",%.10e", (double)v));
      }
      PetscCall(AzFilePrintf(f, ",%s\n", x->failed ? "failed" : "completed"));
    }
  PetscCall(AzFileClose(&f));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* (iteration, rel_l2) of a history.csv, rank 0; *n rows (0: no file, or no rel_l2 column) */
static PetscErrorCode ReadErrorCurve(const char path[], PetscInt *n, PetscReal **it, PetscReal **err)
{
  FILE  *fp = fopen(path, "r");
  char  *line = NULL;
  size_t cap  = 0;
  int    col  = -1, cap_rows = 0;

  PetscFunctionBegin;
  *n   = 0;
  *it  = NULL;
  *err = NULL;
  if (!fp) PetscFunctionReturn(PETSC_SUCCESS);
  if (getline(&line, &cap, fp) > 0) {
    int k = 0;
    for (char *save = NULL, *tok = strtok_r(line, ",\n", &save); tok; tok = strtok_r(NULL, ",\n", &save), k++)
      if (!strcmp(tok, "rel_l2")) col = k;
  }
  while (col >= 0 && getline(&line, &cap, fp) > 0) {
    char     *p = line;
    PetscReal e = (PetscReal)NAN, i = strtod(line, NULL);
    for (int k = 0; k < col && p; k++) p = (p = strchr(p, ',')) ? p + 1 : NULL;
    if (p) {
      char *end;
      e = strtod(p, &end);
      if (end == p) e = (PetscReal)NAN;
    }
    if (*n >= cap_rows) {
      cap_rows = 2 * cap_rows + 64;
      *it      = (PetscReal *)realloc(*it, sizeof(PetscReal) * (size_t)cap_rows);
      *err     = (PetscReal *)realloc(*err, sizeof(PetscReal) * (size_t)cap_rows);
      PetscCheck(*it && *err, PETSC_COMM_SELF, PETSC_ERR_MEM, "Cannot read %s", path);
    }
    (*it)[*n]    = i;
    (*err)[(*n)++] = e;
  }
  free(line);
  fclose(fp);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* sdir/history_band.csv: row j of the repeats' history.csv files (the same monitor cadence) as the
 * median, min and max of rel_l2 over the repeats that reached it */
PetscErrorCode AzCompareWriteBand(MPI_Comm comm, const char sdir[], PetscInt nrep)
{
  char        path[PETSC_MAX_PATH_LEN + 64];
  PetscMPIInt rank;
  AzFile      f;
  PetscInt   *len;
  PetscReal **it, **err;

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  PetscCall(PetscCalloc3(nrep, &len, nrep, &it, nrep, &err));
  snprintf(path, sizeof path, "%s/history_band.csv", sdir);
  PetscCall(AzFileOpen(comm, path, &f));
  PetscCall(AzFilePrintf(f, "iteration,rel_l2_median,rel_l2_min,rel_l2_max,repeats\n"));
  if (rank == 0) {
    PetscInt   rows = 0;
    PetscReal *v;
    for (PetscInt r = 0; r < nrep; r++) {
      char hist[PETSC_MAX_PATH_LEN + 64];
      snprintf(hist, sizeof hist, "%s/repeat-%d/history.csv", sdir, (int)(r + 1));
      PetscCall(ReadErrorCurve(hist, &len[r], &it[r], &err[r]));
      rows = PetscMax(rows, len[r]);
    }
    PetscCall(PetscMalloc1(nrep, &v));
    for (PetscInt j = 0; j < rows; j++) {
      AzCompareStats st;
      PetscInt       cnt = 0;
      PetscReal      iter = 0;
      for (PetscInt r = 0; r < nrep; r++)
        if (j < len[r]) {
          if (!cnt) iter = it[r][j];
          v[cnt++] = err[r][j];
        }
      AzCompareStatistics(cnt, v, &st);
      if (st.count) PetscCall(AzFilePrintf(f, "%.0f,%.6e,%.6e,%.6e,%d\n", (double)iter, (double)st.median, (double)st.min, (double)st.max, (int)st.count));
    }
    PetscCall(PetscFree(v));
    for (PetscInt r = 0; r < nrep; r++) {
      free(it[r]);
      free(err[r]);
    }
  }
  PetscCall(AzFileClose(&f));
  PetscCall(PetscFree3(len, it, err));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The paired verdicts of every pair of strategies on rel L2, and on drift vs Q* where both measure it:
 * Markdown lines for report.md and verdicts.csv's rows (malloc'd) */
PetscErrorCode AzCompareVerdicts(PetscInt n, PetscInt nrep, const AzCompareResult run[], const AzCompareSweep *sw, char **md, char **csv)
{
  size_t     szm, szc;
  FILE      *m = open_memstream(md, &szm), *c = open_memstream(csv, &szc);
  PetscReal *a, *b;
  const Column metric[2] = {C_REL_L2, C_DRIFT};

  PetscFunctionBegin;
  PetscCheck(m && c, PETSC_COMM_SELF, PETSC_ERR_MEM, "Cannot write the verdicts");
  PetscCall(PetscMalloc2(nrep, &a, nrep, &b));
  fprintf(c, "metric");
  SettingHeader(c, sw);
  fprintf(c, ",a,b,pairs,a_better,b_better,median_ratio_a_over_b,verdict\n");
  fprintf(m, "## Verdicts\n\n");
  if (nrep < 2) fprintf(m, "One seed per strategy: no verdicts. A difference between two strategies is only a finding when it holds across seeds: -az_repeats N trains every strategy at N paired seeds and states a verdict here.\n");
  else fprintf(m, "Paired over the %d seeds (every strategy trained at the same seeds; a failed run leaves its seed out of its pairs): A beats B only when A is better in at least %.0f%% of the paired seeds; the median of A/B over the pairs is given.\n\n", (int)nrep, 100 * AZ_VERDICT_SHARE);
  for (int q = 0; q < 2; q++)
    for (PetscInt i = 0; i < n; i++)
      for (PetscInt j = i + 1; j < n; j++) {
        AzVerdict   v;
        const char *A = run[i].name, *B = run[j].name;
        char        in[1100] = "";
        if (run[i].setting != run[j].setting) continue; /* strategies are compared within one setting */
        if (Swept(sw)) {
          char label[1024];
          AzCompareSweepLabel(sw, run[i].setting, PETSC_FALSE, label, sizeof label);
          snprintf(in, sizeof in, " [%s]", label);
        }
        for (PetscInt r = 0; r < nrep; r++) {
          const AzCompareResult *x = &run[r * n + i], *y = &run[r * n + j];
          a[r] = x->name[0] && !x->failed ? ColumnValue(x, metric[q]) : (PetscReal)NAN;
          b[r] = y->name[0] && !y->failed ? ColumnValue(y, metric[q]) : (PetscReal)NAN;
        }
        AzCompareVerdict(nrep, a, b, &v);
        if (!v.pairs) continue; /* not measured (drift without a law) or not run */
        fprintf(c, "%s", ColumnCsv[metric[q]]);
        SettingCsv(c, sw, run[i].setting);
        fprintf(c, ",%s,%s,%d,%d,%d,%.6e,%s\n", A, B, (int)v.pairs, (int)v.a_better, (int)v.b_better, (double)v.ratio, v.kind == AZ_VERDICT_A ? "a_beats_b" : (v.kind == AZ_VERDICT_B ? "b_beats_a" : (v.kind == AZ_VERDICT_SPREAD ? "within_spread" : "no_verdict")));
        if (nrep < 2) continue;
        if (v.kind == AZ_VERDICT_A) fprintf(m, "- %s%s: %s beats %s (better in %d of %d paired seeds, median ratio %.3g)\n", ColumnMd[metric[q]], in, A, B, (int)v.a_better, (int)v.pairs, (double)v.ratio);
        else if (v.kind == AZ_VERDICT_B) {
          AzVerdict w; /* the ratio the other way round: B/A */
          AzCompareVerdict(nrep, b, a, &w);
          fprintf(m, "- %s%s: %s beats %s (better in %d of %d paired seeds, median ratio %.3g)\n", ColumnMd[metric[q]], in, B, A, (int)w.a_better, (int)w.pairs, (double)w.ratio);
        }
        else if (v.kind == AZ_VERDICT_SPREAD) fprintf(m, "- %s%s: %s and %s are within seed-to-seed spread (%s better in %d of %d paired seeds, median ratio %.3g)\n", ColumnMd[metric[q]], in, A, B, A, (int)v.a_better, (int)v.pairs, (double)v.ratio);
        else fprintf(m, "- %s%s: %s and %s: too few paired seeds for a verdict (%d)\n", ColumnMd[metric[q]], in, A, B, (int)v.pairs);
      }
  PetscCall(PetscFree2(a, b));
  fclose(m);
  fclose(c);
  PetscFunctionReturn(PETSC_SUCCESS);
}

static void Num(FILE *fp, PetscReal v)
{
  if (PetscIsInfOrNanReal(v)) fprintf(fp, "n/a");
  else fprintf(fp, "%.3e", (double)v);
}

static void CsvNum(FILE *fp, PetscReal v)
{
  if (PetscIsInfOrNanReal(v)) fprintf(fp, ",n/a");
  else fprintf(fp, ",%.6e", (double)v);
}

/* The table of the first n results, as Markdown (md) and CSV (csv); malloc'd strings */
PetscErrorCode AzCompareTables(const AzCompareResult res[], PetscInt n, const AzCompareSweep *sw, char **md, char **csv)
{
  size_t szm, szc;
  FILE  *m = open_memstream(md, &szm), *c = open_memstream(csv, &szc);

  PetscFunctionBegin;
  PetscCheck(m && c, PETSC_COMM_SELF, PETSC_ERR_MEM, "Cannot build the comparison table");
  /* an inverse problem: a column per inferred parameter (the first strategy's names) */
  const PetscInt ni = n > 0 ? res[0].ninfer : 0;
  fprintf(c, "strategy");
  SettingHeader(c, sw);
  fprintf(c, ",rel_l2,max_abs_error,max_boundary_violation,max_initial_violation,drift_vs_Qstar,positivity_violation,final_loss,iterations,wall_seconds,max_divergence,bounds_violation");
  for (PetscInt i = 0; i < ni; i++) fprintf(c, ",inferred_%s", res[0].iname[i]);
  fprintf(c, ",status\n");
  fprintf(m, "| strategy |%s rel L2 | max abs error | max boundary violation | max initial violation | drift vs Q* | positivity violation | bounds violation | max divergence | final loss | iterations | wall (s) |", Swept(sw) ? " setting |" : "");
  for (PetscInt i = 0; i < ni; i++) fprintf(m, " inferred %s |", res[0].iname[i]);
  fprintf(m, " status |\n| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |%s", Swept(sw) ? " --- |" : "");
  for (PetscInt i = 0; i < ni; i++) fprintf(m, " --- |");
  fprintf(m, " --- |\n");
  for (PetscInt k = 0; k < n; k++) {
    fprintf(c, "%s", res[k].name);
    SettingCsv(c, sw, res[k].setting);
    CsvNum(c, res[k].rel_l2), CsvNum(c, res[k].max_abs), CsvNum(c, res[k].viol_bc), CsvNum(c, res[k].viol_ic), CsvNum(c, res[k].drift), CsvNum(c, res[k].positivity), CsvNum(c, res[k].loss);
    fprintf(c, ",%d,%.3f", (int)res[k].its, (double)res[k].wall);
    CsvNum(c, res[k].divergence);
    CsvNum(c, res[k].bounds);
    for (PetscInt i = 0; i < ni; i++) {
      PetscReal v = (PetscReal)NAN;
      for (PetscInt j = 0; j < res[k].ninfer; j++)
        if (!strcmp(res[k].iname[j], res[0].iname[i])) v = res[k].ival[j];
      if (PetscIsInfOrNanReal(v)) fprintf(c, ",n/a");
      else fprintf(c, ",%.10e", (double)v);
    }
    fprintf(c, ",%s\n", res[k].failed ? "failed" : "completed");
    fprintf(m, "| %s |", res[k].name);
    SettingMd(m, sw, res[k].setting);
    fprintf(m, " ");
    Num(m, res[k].rel_l2), fprintf(m, " | "), Num(m, res[k].max_abs), fprintf(m, " | "), Num(m, res[k].viol_bc), fprintf(m, " | "), Num(m, res[k].viol_ic);
    fprintf(m, " | "), Num(m, res[k].drift), fprintf(m, " | "), Num(m, res[k].positivity), fprintf(m, " | "), Num(m, res[k].bounds), fprintf(m, " | "), Num(m, res[k].divergence), fprintf(m, " | "), Num(m, res[k].loss);
    fprintf(m, " | %d | %.1f |", (int)res[k].its, (double)res[k].wall);
    for (PetscInt i = 0; i < ni; i++) {
      PetscReal v = (PetscReal)NAN;
      for (PetscInt j = 0; j < res[k].ninfer; j++)
        if (!strcmp(res[k].iname[j], res[0].iname[i])) v = res[k].ival[j];
      if (PetscIsInfOrNanReal(v)) fprintf(m, " n/a |");
      else fprintf(m, " %.6g |", (double)v);
    }
    fprintf(m, " %s |\n", res[k].failed ? "**failed**" : "completed");
  }
  fclose(m);
  fclose(c);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* compare.csv and compare.md, rewritten whole after every strategy so a later failure loses nothing */
/* refline: the yardstick's verification line (the reference's, when it is the yardstick), or NULL */
static PetscErrorCode WriteTables(MPI_Comm comm, const char dir[], const AzCompareResult res[], PetscInt n, const char refline[], const AzCompareSweep *sw)
{
  char       *md = NULL, *csv = NULL;
  PetscMPIInt rank;

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  if (rank == 0) PetscCall(AzCompareTables(res, n, sw, &md, &csv));
  PetscCall(WriteTablePair(comm, dir, md, csv, refline));
  free(md);
  free(csv);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* the directory of strategy's repeat r: DIR/STRATEGY for a single run (as always), DIR/STRATEGY/repeat-R */
void AzCompareRunDirectory(const char dir[], const char strategy[], PetscInt nrep, PetscInt r, char sub[], size_t len)
{
  if (nrep > 1) snprintf(sub, len, "%s/%s/repeat-%d", dir, strategy, (int)(r + 1));
  else snprintf(sub, len, "%s/%s", dir, strategy);
}

/* a strategy's seed of repeat 1: its own -PREFIXname, else the global -name, else the default */
PetscErrorCode AzCompareBaseSeed(const char prefix[], const char name[], PetscInt def, PetscInt *seed)
{
  PetscBool set;

  PetscFunctionBegin;
  *seed = def;
  PetscCall(PetscOptionsGetInt(NULL, prefix, name, seed, &set));
  if (!set) PetscCall(PetscOptionsGetInt(NULL, NULL, name, seed, &set));
  PetscCheck(*seed >= 0, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "%s %" PetscInt_FMT " must be >= 0", name, *seed);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* -PREFIXname seed in the database (a repeat's seed, over the previous repeat's); marked used */
PetscErrorCode AzCompareSetSeed(const char prefix[], const char name[], PetscInt seed)
{
  char      full[128], value[32];
  PetscBool set;

  PetscFunctionBegin;
  snprintf(full, sizeof full, "-%s%s", prefix, name + 1);
  snprintf(value, sizeof value, "%" PetscInt_FMT, seed);
  PetscCall(PetscOptionsSetValue(NULL, full, value));
  PetscCall(PetscOptionsHasName(NULL, NULL, full, &set));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* -az_compare_resume: the run in sub is kept when it finished (its result.txt) with the options it
 * would be trained with now (its options.txt, written again to options.check and compared line by
 * line); finished with other options, it is refused: its results would not be this run's */
PetscErrorCode AzCompareKeptRun(MPI_Comm comm, AzProblem prob, const char sub[], const char strategy[], const char prefix[], PetscBool *kept, AzCompareResult *x)
{
  char        path[PETSC_MAX_PATH_LEN + 112], now[512] = "", then[512] = "";
  PetscMPIInt rank;
  int         exists = 0, differ = 0;

  PetscFunctionBegin;
  *kept = PETSC_FALSE;
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  snprintf(path, sizeof path, "%s/result.txt", sub);
  if (rank == 0) exists = access(path, F_OK) == 0;
  PetscCallMPI(MPI_Bcast(&exists, 1, MPI_INT, 0, comm));
  if (!exists) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(AzRunWriteStrategyOptions(comm, prob, sub, "options.check", strategy, prefix));
  if (rank == 0) {
    char  a[4096], b[4096];
    FILE *fa, *fb;
    snprintf(path, sizeof path, "%s/options.check", sub);
    fa = fopen(path, "r");
    snprintf(path, sizeof path, "%s/options.txt", sub);
    fb = fopen(path, "r");
    if (!fa || !fb) {
      differ = 1;
      snprintf(then, sizeof then, "(no options.txt)");
    }
    while (!differ) {
      char *ga = fgets(a, sizeof a, fa), *gb = fgets(b, sizeof b, fb);
      if (!ga && !gb) break;
      if (!ga || !gb || strcmp(a, b)) {
        differ = 1;
        if (ga) a[strcspn(a, "\n")] = 0;
        if (gb) b[strcspn(b, "\n")] = 0;
        PetscCall(PetscStrncpy(now, ga ? a : "(nothing)", sizeof now));
        PetscCall(PetscStrncpy(then, gb ? b : "(nothing)", sizeof then));
      }
    }
    if (fa) fclose(fa);
    if (fb) fclose(fb);
  }
  snprintf(path, sizeof path, "%s/options.check", sub);
  PetscCall(AzFileRemove(comm, path));
  PetscCallMPI(MPI_Bcast(&differ, 1, MPI_INT, 0, comm));
  PetscCallMPI(MPI_Bcast(now, sizeof now, MPI_CHAR, 0, comm));
  PetscCallMPI(MPI_Bcast(then, sizeof then, MPI_CHAR, 0, comm));
  PetscCheck(!differ, comm, PETSC_ERR_ARG_INCOMP, "-az_compare_resume: the finished run in %s was trained with other options than this run's (first difference: now '%s', then '%s' in its options.txt). Give the same options, another -az_output_dir, or leave out -az_compare_resume to train every run again", sub, now, then);
  PetscCall(AzCompareReadResult(comm, sub, kept, x));
  PetscCheck(!*kept || !strcmp(x->name, strategy), comm, PETSC_ERR_FILE_UNEXPECTED, "%s/result.txt is strategy %s's, not %s's", sub, x->name, strategy);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* the tables after the first done runs (repeat by repeat): compare.md/csv (one run each: one row per
 * strategy, as always; several: statistics over the repeats) and compare_runs.csv; md: compare.md's
 * table on rank 0 (NULL: not wanted) */
PetscErrorCode AzCompareWriteTables(MPI_Comm comm, const char dir[], const AzCompareResult res[], PetscInt n, PetscInt nrep, PetscInt done, const char refline[], const AzCompareSweep *sw, char **md)
{
  PetscFunctionBegin;
  if (nrep == 1) PetscCall(WriteTables(comm, dir, res, done, refline, sw));
  else PetscCall(AzCompareWriteRepeatTables(comm, dir, n, nrep, res, refline, sw, md));
  PetscCall(AzCompareWriteRuns(comm, dir, n, nrep, res, sw));
  PetscFunctionReturn(PETSC_SUCCESS);
}
