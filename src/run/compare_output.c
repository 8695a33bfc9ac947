/* `ansatz compare`'s measurements and outputs beside the tables: each run's conservation.csv and
 * violations, the best run's field.dat, the plots (plots.gp, run by gnuplot) */
#include "compareimpl.h"
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* conservation.csv in a strategy's directory: t and Q(t) − Q* for every law at AZ_DRIFT_TIMES times,
 * Q* the law's value or the law at the initial data (the times the drift in the table is taken over) */
PetscErrorCode AzCompareWriteConservation(MPI_Comm comm, const char dir[], const AzProblemInfo *info, AzLoss loss, PetscInt nlaws)
{
  const PetscInt nt = AZ_DRIFT_TIMES;
  PetscReal      t[AZ_DRIFT_TIMES], Q[AZ_MAX_LAWS][AZ_DRIFT_TIMES], target[AZ_MAX_LAWS], M[AZ_MAX_LAWS][AZ_DRIFT_TIMES];
  char           path[PETSC_MAX_PATH_LEN + 128];
  AzFile         f;

  PetscFunctionBegin;
  for (PetscInt l = 0; l < nlaws; l++) {
    PetscCall(AzLossConservationSeries(loss, l, nt, t, Q[l], &target[l]));
    PetscCall(AzLossConservationTargets(loss, l, nt, t, M[l])); /* Q*(t): constant, or varying in time */
  }
  snprintf(path, sizeof path, "%s/conservation.csv", dir);
  PetscCall(AzFileOpen(comm, path, &f));
  PetscCall(AzFilePrintf(f, "t"));
  for (PetscInt l = 0; l < nlaws; l++) PetscCall(AzFilePrintf(f, ",%s_drift_vs_Qstar", info->conservation[l].name));
  PetscCall(AzFilePrintf(f, "\n"));
  for (PetscInt j = 0; j < nt; j++) {
    PetscCall(AzFilePrintf(f, "%.6g", (double)t[j]));
    for (PetscInt l = 0; l < nlaws; l++) {
      if (PetscIsInfOrNanReal(Q[l][j] - target[l]) || PetscIsInfOrNanReal(M[l][j])) PetscCall(AzFilePrintf(f, ",n/a"));
      else PetscCall(AzFilePrintf(f, ",%.6e", (double)(Q[l][j] - M[l][j])));
    }
    PetscCall(AzFilePrintf(f, "\n"));
  }
  PetscCall(AzFileClose(&f));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* max(0, −min u_c) over the evaluation grid for the components the problem requires positive; with
 * bounds, max(a_c − u_c, u_c − b_c, 0) for the components it declares bounded (NaN: none) */
PetscErrorCode AzCompareBoundViolation(AzProblem prob, AzLoss loss, PetscBool bounds, PetscReal *viol)
{
  const AzProblemInfo *info;
  PetscInt             ncoord, m = 41, total = 1, nslot;
  PetscReal            lo[AZ_MAX_COORD], hi[AZ_MAX_COORD];
  PetscBool            any = PETSC_FALSE;

  PetscFunctionBegin;
  PetscCall(AzProblemGetInfo(prob, &info));
  for (PetscInt c = 0; c < info->ncomp; c++) any = any || (bounds ? info->bounded[c] : info->positive[c]);
  *viol = (PetscReal)NAN;
  if (!any) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(AzProblemGetNumCoords(prob, &ncoord));
  PetscCall(AzProblemGetBox(prob, lo, hi));
  nslot = AZ_JET_NSLOT(ncoord);
  for (PetscInt d = 0; d < ncoord; d++) total *= m;
  *viol = 0;
  for (PetscInt i = 0; i < total; i++) {
    PetscReal   x[AZ_MAX_COORD];
    PetscScalar jet[AZ_MAX_COMP * AZ_JET_MAX_NSLOT];
    PetscInt    q = i;
    for (PetscInt d = 0; d < ncoord; d++, q /= m) x[d] = lo[d] + (hi[d] - lo[d]) * (PetscReal)(q % m) / (m - 1);
    PetscCall(AzLossEvaluateSolution(loss, 1, x, jet));
    for (PetscInt c = 0; c < info->ncomp; c++)
      if (bounds && info->bounded[c]) *viol = PetscMax(*viol, PetscMax(info->bound_lower[c] - PetscRealPart(jet[c * nslot]), PetscRealPart(jet[c * nslot]) - info->bound_upper[c]));
      else if (!bounds && info->positive[c]) *viol = PetscMax(*viol, -PetscRealPart(jet[c * nslot]));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* max |∂u_a/∂x + ∂u_b/∂y| over the evaluation grid, (a, b) from -az_divfree_components (default 0, 1):
 * for a 2-D problem with a velocity; NaN otherwise (or when the problem does not read those derivatives) */
PetscErrorCode AzCompareDivergenceViolation(AzProblem prob, AzLoss loss, PetscReal *viol)
{
  const char          *prefix;
  const AzProblemInfo *info;
  PetscInt             ncoord, m = 41, total = 1, nslot, comps[2] = {0, 1}, n = 2;
  PetscReal            lo[AZ_MAX_COORD], hi[AZ_MAX_COORD];
  AzJetRequest         req;

  PetscFunctionBegin;
  PetscCall(AzProblemGetInfo(prob, &info));
  *viol = (PetscReal)NAN;
  PetscBool            set;
  PetscCall(AzLossGetOptionsPrefix(loss, &prefix));
  PetscCall(PetscOptionsGetIntArray(NULL, prefix, "-az_divfree_components", comps, &n, &set));
  if (!set) n = 2;
  if (info->dim != 2 || info->ncomp < 2 || n != 2 || comps[0] < 0 || comps[1] < 0 || comps[0] >= info->ncomp || comps[1] >= info->ncomp) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(AzProblemGetNumCoords(prob, &ncoord));
  PetscCall(AzProblemGetJetRequest(prob, &req));
  PetscCall(AzJetRequestClose(&req));
  if (!(req.mask & ((PetscInt)1 << AzJetSlotD1(ncoord, 0))) || !(req.mask & ((PetscInt)1 << AzJetSlotD1(ncoord, 1)))) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(AzProblemGetBox(prob, lo, hi));
  nslot = AZ_JET_NSLOT(ncoord);
  for (PetscInt d = 0; d < ncoord; d++) total *= m;
  *viol = 0;
  for (PetscInt i = 0; i < total; i++) {
    PetscReal   x[AZ_MAX_COORD];
    PetscScalar jet[AZ_MAX_COMP * AZ_JET_MAX_NSLOT], div;
    PetscInt    q = i;
    for (PetscInt d = 0; d < ncoord; d++, q /= m) x[d] = lo[d] + (hi[d] - lo[d]) * (PetscReal)(q % m) / (m - 1);
    PetscCall(AzLossEvaluateSolution(loss, 1, x, jet));
    div   = jet[comps[0] * nslot + AzJetSlotD1(ncoord, 0)] + jet[comps[1] * nslot + AzJetSlotD1(ncoord, 1)];
    *viol = PetscMax(*viol, PetscIsInfOrNanReal(PetscAbsScalar(div)) ? PETSC_MAX_REAL : PetscAbsScalar(div));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* field.dat: the best strategy's solution, the yardstick and the error of every component on a grid
 * (1 or 2 coordinates): the coordinates, then u_c, yardstick_c, error_c for each component c */
PetscErrorCode AzCompareWriteFieldData(MPI_Comm comm, const char dir[], AzProblem prob, AzLoss loss, AzReference ref)
{
  const AzProblemInfo *info;
  const PetscReal     *param;
  PetscInt             ncoord, m, ncomp, nslot;
  PetscReal            lo[AZ_MAX_COORD], hi[AZ_MAX_COORD];
  char                 path[PETSC_MAX_PATH_LEN + 16];
  PetscMPIInt          rank;
  AzFile               f;

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  PetscCall(AzProblemGetInfo(prob, &info));
  PetscCall(AzProblemGetNumCoords(prob, &ncoord));
  PetscCall(AzProblemGetParams(prob, &param));
  PetscCall(AzProblemGetBox(prob, lo, hi));
  PetscCall(AzRunSolutionJetSize(prob, &ncomp, &nslot));
  if (ncoord > 2) PetscFunctionReturn(PETSC_SUCCESS);
  m = ncoord == 1 ? 401 : 121;
  snprintf(path, sizeof path, "%s/field.dat", dir);
  PetscCall(AzFileOpen(comm, path, &f));
  if (rank == 0) {
    PetscCall(AzFilePrintf(f, "# %s", ncoord == 2 ? (info->time_dependent ? "x t" : "x y") : "x"));
    for (PetscInt c = 0; c < ncomp; c++) {
      char name[64];
      PetscCall(AzRunComponentName(prob, c, name, sizeof name));
      PetscCall(AzFilePrintf(f, " %s %s_yardstick %s_error", name, name, name));
    }
    PetscCall(AzFilePrintf(f, "\n"));
    for (PetscInt j = 0; j < (ncoord == 2 ? m : 1); j++) {
      for (PetscInt i = 0; i < m; i++) {
        PetscReal   x[2] = {lo[0] + (hi[0] - lo[0]) * i / (m - 1), ncoord == 2 ? lo[1] + (hi[1] - lo[1]) * j / (m - 1) : 0};
        PetscScalar jet[AZ_MAX_COMP * AZ_JET_MAX_NSLOT], ue[AZ_MAX_COMP];
        AzPoint     p = {x, ncoord, param, -1};
        for (PetscInt c = 0; c < AZ_MAX_COMP; c++) ue[c] = NAN;
        PetscCall(AzLossEvaluateSolution(loss, 1, x, jet));
        if (info->exact) PetscCall(info->exact(&p, ue));
        else if (ref) PetscCall(AzReferenceInterpolate(ref, 1, x, ue));
        for (PetscInt d = 0; d < ncoord; d++) PetscCall(AzFilePrintf(f, "%s%.8g", d ? " " : "", (double)x[d]));
        for (PetscInt c = 0; c < ncomp; c++) {
          const PetscReal u = PetscRealPart(jet[c * nslot]), y = PetscRealPart(ue[c]);
          PetscCall(AzFilePrintf(f, " %.10g %.10g %.10g", (double)u, (double)y, (double)(u - y)));
        }
        PetscCall(AzFilePrintf(f, "\n"));
      }
      if (ncoord == 2) PetscCall(AzFilePrintf(f, "\n"));
    }
  }
  PetscCall(AzFileClose(&f));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* the plot file of component c: solution.png for a single component, solution_NAME.png otherwise */
void AzComparePlotName(const char stem[], const char comp[], PetscInt ncomp, char out[], size_t len)
{
  if (ncomp == 1) snprintf(out, len, "%s.png", stem);
  else {
    size_t o = (size_t)snprintf(out, len, "%s_", stem);
    for (const char *s = comp; *s && o + 5 < len; s++) out[o++] = (isalnum((unsigned char)*s) || *s == '-') ? *s : '_';
    snprintf(out + o, len - o, ".png");
  }
}

/* -az_plot_components: which components to plot, by index or name ("0,2" or "u,p"); default all */
PetscErrorCode AzComparePlotComponents(MPI_Comm comm, AzProblem prob, const char list[], PetscInt *n, PetscInt comps[])
{
  PetscInt ncomp, nslot;
  char     buf[256], known[512] = "";

  PetscFunctionBegin;
  PetscCall(AzRunSolutionJetSize(prob, &ncomp, &nslot));
  for (PetscInt c = 0; c < ncomp; c++) {
    char name[64];
    PetscCall(AzRunComponentName(prob, c, name, sizeof name));
    PetscCall(PetscStrlcat(known, c ? ", " : "", sizeof known));
    PetscCall(PetscStrlcat(known, name, sizeof known));
  }
  *n = 0;
  if (!list[0]) {
    for (PetscInt c = 0; c < ncomp; c++) comps[(*n)++] = c;
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  PetscCall(PetscStrncpy(buf, list, sizeof buf));
  for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
    PetscInt c = -1;
    char    *end;
    long     v = strtol(tok, &end, 10);
    if (end != tok && !*end) c = (v >= 0 && v < ncomp) ? (PetscInt)v : -2;
    for (PetscInt k = 0; k < ncomp && c == -1; k++) {
      char name[64];
      PetscCall(AzRunComponentName(prob, k, name, sizeof name));
      if (!strcmp(name, tok)) c = k;
    }
    PetscCheck(c >= 0, comm, PETSC_ERR_ARG_OUTOFRANGE, "-az_plot_components: no component '%s'; the problem has %" PetscInt_FMT " (by index 0..%" PetscInt_FMT " or name: %s)", tok, ncomp, ncomp - 1, known);
    PetscCheck(*n < AZ_MAX_COMP, comm, PETSC_ERR_ARG_SIZ, "-az_plot_components: at most %d components", AZ_MAX_COMP);
    comps[(*n)++] = c;
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* gnuplot script and PNGs: error against iteration for every strategy, drift over time, the best
 * strategy's solution and error for every chosen component (field.dat's columns) */
/* (nrep > 1: the median error of each strategy with its min-max band, from history_band.csv, and the
 * drift of its first repeat; res[best] the best run) */
/* (a sweep: the error and drift plots have a panel per setting, every strategy in the same colour in
 * each; summary.png a bar per strategy and setting, coloured by strategy) */
PetscErrorCode AzComparePlots(MPI_Comm comm, const char dir[], AzProblem prob, AzCompareResult res[], PetscInt n, const AzCompareSweep *sw, PetscInt nrep, PetscInt best, PetscInt nplot, const PetscInt plot[], PetscInt nlaws, PetscBool *made)
{
  const AzProblemInfo *info;
  char                 path[PETSC_MAX_PATH_LEN + 32], cmd[2 * PETSC_MAX_PATH_LEN + 64];
  PetscInt             ncoord, ncomp, nslot, first = 1;
  PetscMPIInt          rank;
  AzFile               f;
  int                  ok = 0;

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  PetscCall(AzProblemGetInfo(prob, &info));
  PetscCall(AzProblemGetNumCoords(prob, &ncoord));
  PetscCall(AzRunSolutionJetSize(prob, &ncomp, &nslot));
  snprintf(path, sizeof path, "%s/plots.gp", dir);
  PetscCall(AzFileOpen(comm, path, &f));
  PetscCall(AzFilePrintf(f, "# gnuplot plots.gp (in this directory) remakes the figures\nset terminal pngcairo size 900,600\nset datafile separator ','\nset datafile columnheaders\n"));
  const PetscInt npts = sw->npts, ncol = n * npts, pcols = (PetscInt)PetscCeilReal(PetscSqrtReal((PetscReal)npts)), prows = (npts + pcols - 1) / pcols;
  for (int drift = 0; drift < 2; drift++) {
    if (drift && !(nlaws > 0 && info->time_dependent)) break;
    if (!drift) PetscCall(AzFilePrintf(f, "set output 'error_vs_iteration.png'\nset logscale y\nset xlabel 'iteration'\nset ylabel 'relative L2 error'\nset key outside right\nset grid\n"));
    /* |Q(t) − Q*| of the first law; a floor of 1e-17 keeps exact zeros on the log scale */
    else PetscCall(AzFilePrintf(f, "\nset output 'drift_vs_time.png'\nset xlabel 't'\nset ylabel '|Q(t) - Q*| (%s)'\nset format y '%%.0e'\n", info->conservation[0].name));
    if (sw->nopt) PetscCall(AzFilePrintf(f, "set terminal pngcairo size %d,%d\nset multiplot layout %d,%d\n", (int)(700 * pcols), (int)(450 * prows), (int)prows, (int)pcols));
    for (PetscInt p = 0; p < npts; p++) {
      char at[PETSC_MAX_PATH_LEN] = "", label[1024];
      if (sw->nopt) {
        AzCompareSweepLabel(sw, p, PETSC_TRUE, at, sizeof at - 1);
        PetscCall(PetscStrlcat(at, "/", sizeof at));
        AzCompareSweepLabel(sw, p, PETSC_FALSE, label, sizeof label);
        PetscCall(AzFilePrintf(f, "set title '%s' noenhanced\n", label));
      }
      PetscCall(AzFilePrintf(f, "plot "));
      if (drift)
        for (PetscInt k = 0; k < n; k++) PetscCall(AzFilePrintf(f, "%s'%s%s%s/conservation.csv' using 1:(abs($2) + 1e-17) with lines lw 2 lc %d title '%s%s'", k ? ", \\\n     " : "", at, res[k].name, nrep > 1 ? "/repeat-1" : "", (int)(k + 1), res[k].name, nrep > 1 ? " (repeat 1)" : ""));
      else if (nrep > 1) { /* the band first, the median over it, in the strategy's colour */
        PetscCall(AzFilePrintf(f, "%s", "\\\n     "));
        for (PetscInt k = 0; k < n; k++) PetscCall(AzFilePrintf(f, "%s'%s%s/history_band.csv' using 1:3:4 with filledcurves fs transparent solid 0.2 noborder lc %d notitle, '' using 1:2 with lines lw 2 lc %d title '%s (median of %d)'", k ? ", \\\n     " : "", at, res[k].name, (int)(k + 1), (int)(k + 1), res[k].name, (int)nrep));
      } else
        for (PetscInt k = 0; k < n; k++) PetscCall(AzFilePrintf(f, "%s'%s%s/history.csv' using (column(\"iteration\")):(column(\"rel_l2\")) with lines lw 2 lc %d title '%s'", k ? ", \\\n     " : "", at, res[k].name, (int)(k + 1), res[k].name));
      PetscCall(AzFilePrintf(f, "\n"));
    }
    if (sw->nopt) PetscCall(AzFilePrintf(f, "unset multiplot\nunset title\nset terminal pngcairo size 900,600\n"));
    if (drift) PetscCall(AzFilePrintf(f, "set format y '%%g'"));
  }
  /* the figure to look at first: each strategy's error beside its drift (without a law in time, its
   * wall time), bars on log scales from compare.csv (the medians over repeats); a floor of 1e-17 keeps a
   * zero drift visible */
  const char *med = nrep > 1 ? " (median over the repeats)" : "";
  /* with a sweep: a bar per strategy and setting, labelled with both, in the strategy's colour */
  char xtic[64], colour[2][64];
  snprintf(xtic, sizeof xtic, "%s", sw->nopt ? "xtic(strcol(1).' '.strcol(2))" : "xtic(1)");
  snprintf(colour[0], sizeof colour[0], "%s", sw->nopt ? "lc variable" : "lc rgb '#3060b0'");
  snprintf(colour[1], sizeof colour[1], "%s", sw->nopt ? "lc variable" : "lc rgb '#b04030'");
  char lcv[64] = "";
  if (sw->nopt) snprintf(lcv, sizeof lcv, ":(int($0) %% %d + 1)", (int)n);
  PetscCall(AzFilePrintf(f, "\nset terminal pngcairo size %d,600\nset output 'summary.png'\nset multiplot layout 1,2\nunset key\nset style fill solid 0.7 border -1\nset boxwidth 0.7\nset xtics rotate by -40 left noenhanced\nset format y '%%.0e'\nunset xlabel\nset xrange [-0.6:%g]\n", (int)PetscMax(1200, 300 + 80 * ncol), (double)ncol - 0.4));
  PetscCall(AzFilePrintf(f, "set title 'relative L2 error (lower is better)%s'\nset ylabel 'rel L2'\nplot 'compare.csv' using 0:(column(\"rel_l2%s\"))%s:%s with boxes %s\n", med, med[0] ? "_median" : "", lcv, xtic, colour[0]));
  if (nlaws > 0 && info->time_dependent) PetscCall(AzFilePrintf(f, "set title 'conservation drift max_t |Q(t) - Q*| (%s)'\nset ylabel 'drift'\nplot 'compare.csv' using 0:(column(\"drift_vs_Qstar%s\") + 1e-17)%s:%s with boxes %s\n", info->conservation[0].name, med[0] ? "_median" : "", lcv, xtic, colour[1]));
  else PetscCall(AzFilePrintf(f, "set title 'wall time (s)'\nset ylabel 's'\nset format y '%%g'\nplot 'compare.csv' using 0:(column(\"wall_seconds%s\"))%s:%s with boxes %s\n", med[0] ? "_median" : "", lcv, xtic, colour[1]));
  PetscCall(AzFilePrintf(f, "unset multiplot\nset terminal pngcairo size 900,600\nset output\nset xtics norotate\nset format y '%%g'\nunset xrange\nunset title\nset style fill empty\nset boxwidth\n"));
  PetscCall(AzFilePrintf(f, "\nunset logscale y\nset datafile separator whitespace\nset datafile nocolumnheaders\nunset key\n"));
  if (ncoord <= 2) {
    first = ncoord + 1; /* field.dat: the coordinates, then u, yardstick, error per component */
    if (ncoord == 2) PetscCall(AzFilePrintf(f, "set autoscale fix\nset xlabel 'x'\nset ylabel '%s'\n", info->time_dependent ? "t" : "y"));
    else PetscCall(AzFilePrintf(f, "set xlabel 'x'\n"));
  }
  for (PetscInt i = 0; i < nplot && ncoord <= 2; i++) {
    const PetscInt c = plot[i], col = first + 3 * c;
    char           name[64], sol[128], err[128];
    PetscCall(AzRunComponentName(prob, c, name, sizeof name));
    AzComparePlotName("solution", name, ncomp, sol, sizeof sol);
    AzComparePlotName("error", name, ncomp, err, sizeof err);
    if (ncoord == 2) {
      PetscCall(AzFilePrintf(f, "set output '%s'\nset title '%s, strategy %s'\nplot 'field.dat' using 1:2:%d with image\n", sol, name, res[best].name, (int)col));
      PetscCall(AzFilePrintf(f, "set output '%s'\nset title '%s - yardstick, strategy %s'\nplot 'field.dat' using 1:2:%d with image\n", err, name, res[best].name, (int)col + 2));
    } else {
      PetscCall(AzFilePrintf(f, "set output '%s'\nset key\nset title '%s, strategy %s'\nplot 'field.dat' using 1:%d with lines lw 2 title '%s', '' using 1:%d with lines dt 2 title 'yardstick'\n", sol, name, res[best].name, (int)col, name, (int)col + 1));
      PetscCall(AzFilePrintf(f, "set output '%s'\nunset key\nset title '%s - yardstick, strategy %s'\nplot 'field.dat' using 1:%d with lines lw 2\n", err, name, res[best].name, (int)col + 2));
    }
  }
  PetscCall(AzFileClose(&f));
  if (rank == 0) {
    snprintf(cmd, sizeof cmd, "cd '%s' && gnuplot plots.gp > plots.log 2>&1", dir);
    ok = system(cmd) == 0;
  }
  PetscCallMPI(MPI_Bcast(&ok, 1, MPI_INT, 0, comm));
  *made = ok ? PETSC_TRUE : PETSC_FALSE;
  PetscFunctionReturn(PETSC_SUCCESS);
}
