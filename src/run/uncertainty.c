/* -az_uncertainty in `ansatz train`: the Laplace approximation at the trained θ (laplace.h), the
 * solution's pointwise standard deviation on the field.vtk grid, its summary, and a plot. */
#include "runimpl.h"
#include <ctype.h>

void AzRunGridPoint(PetscInt i, PetscInt ncoord, PetscInt m, const PetscReal lo[], const PetscReal hi[], PetscReal x[])
{
  PetscInt q = i;
  for (PetscInt d = 0; d < ncoord; d++) {
    x[d] = lo[d] + (hi[d] - lo[d]) * (PetscReal)(q % m) / (m - 1);
    q /= m;
  }
}

PetscErrorCode AzRunUncertaintyCompute(MPI_Comm comm, AzProblem prob, AzLoss loss, PetscBool on, PetscInt m, AzLaplace given, AzRunUncertainty *u)
{
  PetscInt    ncoord, ncomp, nslot, nmaps, total = 1, p0, p1;
  const char *names[16];
  PetscMPIInt rank, size, *counts = NULL, *displs = NULL;
  PetscReal   lo[AZ_MAX_COORD], hi[AZ_MAX_COORD], *x, *std, stats[2] = {0, 0};

  PetscFunctionBegin;
  PetscCall(PetscMemzero(u, sizeof *u));
  u->std_mean = u->std_max = (PetscReal)NAN;
  if (!on) PetscFunctionReturn(PETSC_SUCCESS);
  if (given) u->lap = given; /* probconserv's, conditioned on its constraints: the field's std is Σ̃'s */
  else PetscCall(AzLaplaceCreate(loss, &u->lap));
  PetscCall(AzProblemGetNumCoords(prob, &ncoord));
  if (ncoord > 3) {
    snprintf(u->note, sizeof u->note, "no field standard deviation: %d coordinates, and the field.vtk grid has at most 3", (int)ncoord);
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  PetscCall(AzLossGetChainMaps(loss, &nmaps, NULL));
  PetscCheck(nmaps <= 16, comm, PETSC_ERR_PLIB, "%" PetscInt_FMT " chain maps", nmaps);
  PetscCall(AzLossGetChainMaps(loss, &nmaps, names));
  for (PetscInt i = 0; i < nmaps; i++)
    if (names[i] && !strcmp(names[i], "projection")) {
      snprintf(u->note, sizeof u->note, "no field standard deviation: it does not follow the projection onto conservation laws (-az_conservation project or posthoc)");
      PetscFunctionReturn(PETSC_SUCCESS);
    }
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  PetscCallMPI(MPI_Comm_size(comm, &size));
  PetscCall(AzProblemGetBox(prob, lo, hi));
  PetscCall(AzRunSolutionJetSize(prob, &ncomp, &nslot));
  for (PetscInt d = 0; d < ncoord; d++) total *= m;
  /* each rank its share of the grid (every rank holds the factor), gathered on rank 0 */
  p0 = (PetscInt)((PetscInt64)total * rank / size);
  p1 = (PetscInt)((PetscInt64)total * (rank + 1) / size);
  PetscCall(PetscMalloc2((size_t)PetscMax(p1 - p0, 1) * ncoord, &x, (size_t)PetscMax(p1 - p0, 1) * ncomp, &std));
  for (PetscInt i = p0; i < p1; i++) AzRunGridPoint(i, ncoord, m, lo, hi, x + (i - p0) * ncoord);
  PetscCall(AzLaplaceFieldStd(u->lap, p1 - p0, x, std));
  if (rank == 0) {
    PetscCall(PetscMalloc1((size_t)total * ncomp, &u->std));
    PetscCall(PetscMalloc2(size, &counts, size, &displs));
    for (PetscMPIInt r = 0; r < size; r++) {
      const PetscInt a = (PetscInt)((PetscInt64)total * r / size), b = (PetscInt)((PetscInt64)total * (r + 1) / size);
      counts[r] = (PetscMPIInt)((b - a) * ncomp);
      displs[r] = (PetscMPIInt)(a * ncomp);
    }
  }
  PetscCallMPI(MPI_Gatherv(std, (PetscMPIInt)((p1 - p0) * ncomp), MPIU_REAL, u->std, counts, displs, MPIU_REAL, 0, comm));
  if (rank == 0) {
    for (PetscInt i = 0; i < total * ncomp; i++) {
      stats[0] += u->std[i];
      stats[1] = PetscMax(stats[1], u->std[i]);
    }
    stats[0] /= (PetscReal)(total * ncomp);
  }
  PetscCallMPI(MPI_Bcast(stats, 2, MPIU_REAL, 0, comm));
  u->std_mean = stats[0];
  u->std_max  = stats[1];
  PetscCall(PetscFree2(counts, displs));
  PetscCall(PetscFree2(x, std));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzRunUncertaintyJSON(AzFile f, const AzRunUncertainty *u)
{
  AzLaplaceInfo info;

  PetscFunctionBegin;
  if (!u || !u->lap) {
    PetscCall(AzFilePrintf(f, "null"));
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  PetscCall(AzLaplaceGetInfo(u->lap, &info));
  PetscCall(AzFilePrintf(f, "{\"sigma2\": "));
  PetscCall(AzRunJsonNumber(f, info.sigma2));
  PetscCall(AzFilePrintf(f, ", \"sigma2_source\": \"%s\", \"row_variance\": ", info.given ? "given" : (info.from_data ? "data" : "loss")));
  PetscCall(AzRunJsonNumber(f, info.s2));
  PetscCall(AzFilePrintf(f, ", \"lambda\": "));
  PetscCall(AzRunJsonNumber(f, info.lambda));
  PetscCall(AzFilePrintf(f, ", \"rows\": %d, \"observations\": %d, \"parameters\": %d, \"dof\": ", (int)info.rows, (int)info.nobs, (int)info.nparam));
  PetscCall(AzRunJsonNumber(f, info.dof));
  PetscCall(AzFilePrintf(f, ", \"field_std_mean\": "));
  PetscCall(AzRunJsonNumber(f, u->std_mean));
  PetscCall(AzFilePrintf(f, ", \"field_std_max\": "));
  PetscCall(AzRunJsonNumber(f, u->std_max));
  PetscCall(AzFilePrintf(f, ", \"note\": \""));
  PetscCall(AzRunJsonString(f, u->note));
  PetscCall(AzFilePrintf(f, "\"}"));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* the plot of component c: uncertainty.png for a single component, uncertainty_NAME.png otherwise */
static void PlotName(const char comp[], PetscInt ncomp, char out[], size_t len)
{
  if (ncomp == 1) snprintf(out, len, "uncertainty.png");
  else {
    size_t o = (size_t)snprintf(out, len, "uncertainty_");
    for (const char *s = comp; *s && o + 5 < len; s++) out[o++] = (isalnum((unsigned char)*s) || *s == '-') ? *s : '_';
    snprintf(out + o, len - o, ".png");
  }
}

/* uncertainty.png (uncertainty_NAME.png with several components): 1 coordinate, the solution with a
 * band of ±2 standard deviations; 2 coordinates, the standard deviation as a heat map over (x, t) or
 * (x, y). uncertainty.dat holds the grid, uncertainty.gp remakes the plots (gnuplot, as compare's). */
PetscErrorCode AzRunUncertaintyPlot(MPI_Comm comm, const char dir[], AzProblem prob, AzLoss loss, PetscInt m, AzRunUncertainty *u)
{
  const AzProblemInfo *info;
  PetscInt             ncoord, ncomp, nslot, total;
  PetscMPIInt          rank;
  char                 path[PETSC_MAX_PATH_LEN + 32], cmd[2 * PETSC_MAX_PATH_LEN + 64];
  PetscReal            lo[AZ_MAX_COORD], hi[AZ_MAX_COORD];
  AzFile               f;
  int                  ok = 0;

  PetscFunctionBegin;
  u->plot = PETSC_FALSE;
  if (!u->lap || PetscIsNanReal(u->std_max)) PetscFunctionReturn(PETSC_SUCCESS); /* the note says why */
  PetscCall(AzProblemGetInfo(prob, &info));
  PetscCall(AzProblemGetNumCoords(prob, &ncoord));
  PetscCall(AzProblemGetBox(prob, lo, hi));
  PetscCall(AzRunSolutionJetSize(prob, &ncomp, &nslot));
  if (ncoord > 2) {
    snprintf(u->note, sizeof u->note, "no uncertainty plot for %d coordinates: field.vtk holds the standard deviation (SCALARS <component>_std)", (int)ncoord);
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  total = ncoord == 1 ? m : m * m;
  /* the coordinates, then per component the solution and its standard deviation; a blank line after
   * each row of a 2-D grid */
  snprintf(path, sizeof path, "%s/uncertainty.dat", dir);
  PetscCall(AzFileOpen(comm, path, &f));
  if (rank == 0) {
    PetscReal   *x;
    PetscScalar *jets;
    PetscCall(PetscMalloc2((size_t)total * ncoord, &x, (size_t)total * ncomp * nslot, &jets));
    for (PetscInt i = 0; i < total; i++) AzRunGridPoint(i, ncoord, m, lo, hi, x + i * ncoord);
    PetscCall(AzLossEvaluateSolution(loss, total, x, jets));
    PetscCall(AzFilePrintf(f, "# %s: the coordinates, then for each component its value and its standard deviation (Laplace approximation)\n", ncoord == 1 ? "x" : (info->time_dependent ? "x t" : "x y")));
    for (PetscInt i = 0; i < total; i++) {
      for (PetscInt d = 0; d < ncoord; d++) PetscCall(AzFilePrintf(f, "%s%.10g", d ? " " : "", (double)x[i * ncoord + d]));
      for (PetscInt c = 0; c < ncomp; c++) PetscCall(AzFilePrintf(f, " %.10g %.10g", (double)PetscRealPart(jets[(i * ncomp + c) * nslot]), (double)u->std[i * ncomp + c]));
      PetscCall(AzFilePrintf(f, "\n"));
      if (ncoord == 2 && (i + 1) % m == 0) PetscCall(AzFilePrintf(f, "\n"));
    }
    PetscCall(PetscFree2(x, jets));
  }
  PetscCall(AzFileClose(&f));
  snprintf(path, sizeof path, "%s/uncertainty.gp", dir);
  PetscCall(AzFileOpen(comm, path, &f));
  PetscCall(AzFilePrintf(f, "# gnuplot uncertainty.gp (in this directory) remakes the figures\nset terminal pngcairo size 900,600\nset xlabel 'x'\n"));
  if (ncoord == 2) PetscCall(AzFilePrintf(f, "set ylabel '%s'\nset autoscale fix\nunset key\n", info->time_dependent ? "t" : "y"));
  else PetscCall(AzFilePrintf(f, "set key\nset grid\n"));
  for (PetscInt c = 0; c < ncomp; c++) {
    char           name[64], png[128];
    const PetscInt col = ncoord + 1 + 2 * c; /* the value; its std in col + 1 */
    PetscCall(AzRunComponentName(prob, c, name, sizeof name));
    PlotName(name, ncomp, png, sizeof png);
    if (ncoord == 2)
      PetscCall(AzFilePrintf(f, "set output '%s'\nset title 'standard deviation of %s (Laplace approximation)'\nplot 'uncertainty.dat' using 1:2:%d with image\n", png, name, (int)col + 1));
    else
      PetscCall(AzFilePrintf(f, "set output '%s'\nset title '%s with +-2 standard deviations (Laplace approximation)'\nplot 'uncertainty.dat' using 1:($%d - 2*$%d):($%d + 2*$%d) with filledcurves fc rgb '#b0c4de' title '+-2 std', '' using 1:%d with lines lw 2 lc rgb '#1f3f8f' title '%s'\n", png, name, (int)col, (int)col + 1, (int)col, (int)col + 1, (int)col, name));
  }
  PetscCall(AzFileClose(&f));
  if (rank == 0) {
    snprintf(cmd, sizeof cmd, "cd '%s' && gnuplot uncertainty.gp > uncertainty.log 2>&1", dir);
    ok = system(cmd) == 0;
  }
  PetscCallMPI(MPI_Bcast(&ok, 1, MPI_INT, 0, comm));
  u->plot = ok ? PETSC_TRUE : PETSC_FALSE;
  if (!ok) snprintf(u->note, sizeof u->note, "no uncertainty plot: gnuplot is missing or failed (see uncertainty.log; uncertainty.gp and uncertainty.dat remake it)");
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzRunUncertaintyPrint(MPI_Comm comm, const AzRunUncertainty *u)
{
  AzLaplaceInfo info;

  PetscFunctionBegin;
  if (!u->lap) {
    PetscCall(PetscPrintf(comm, "uncertainty: not computed (%s)\n", u->note[0] ? u->note : "training failed"));
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  PetscCall(AzLaplaceGetInfo(u->lap, &info));
  PetscCall(PetscPrintf(comm, "uncertainty (Laplace approximation, %d parameters, %d rows): sigma2 %.3e (%s), lambda %.3e", (int)info.nparam, (int)info.rows, (double)info.sigma2, info.given ? "given" : (info.from_data ? "from the data residual" : "from the loss"), (double)info.lambda));
  if (!PetscIsNanReal(u->std_mean)) PetscCall(PetscPrintf(comm, "; field std mean %.3e, max %.3e", (double)u->std_mean, (double)u->std_max));
  PetscCall(PetscPrintf(comm, "\n"));
  if (u->note[0]) PetscCall(PetscPrintf(comm, "uncertainty: %s\n", u->note));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzRunUncertaintyDestroy(AzRunUncertainty *u)
{
  PetscFunctionBegin;
  PetscCall(AzLaplaceDestroy(&u->lap));
  PetscCall(PetscFree(u->std));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* the field's standard deviation at npts points x (the same on every rank), shared out over the ranks
 * and gathered on rank 0 into *std (npts × ncomp, to PetscFree; NULL on the other ranks) */
PetscErrorCode AzRunUncertaintyAtPoints(MPI_Comm comm, AzLaplace lap, PetscInt npts, PetscInt ncoord, PetscInt ncomp, const PetscReal x[], PetscReal **std)
{
  PetscMPIInt rank, size, *counts = NULL, *displs = NULL;
  PetscInt    p0, p1;
  PetscReal  *part;

  PetscFunctionBegin;
  *std = NULL;
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  PetscCallMPI(MPI_Comm_size(comm, &size));
  p0 = (PetscInt)((PetscInt64)npts * rank / size);
  p1 = (PetscInt)((PetscInt64)npts * (rank + 1) / size);
  PetscCall(PetscMalloc1((size_t)PetscMax(p1 - p0, 1) * ncomp, &part));
  PetscCall(AzLaplaceFieldStd(lap, p1 - p0, x + (size_t)p0 * ncoord, part));
  if (rank == 0) {
    PetscCall(PetscMalloc1((size_t)npts * ncomp, std));
    PetscCall(PetscMalloc2(size, &counts, size, &displs));
    for (PetscMPIInt r = 0; r < size; r++) {
      const PetscInt a = (PetscInt)((PetscInt64)npts * r / size), b = (PetscInt)((PetscInt64)npts * (r + 1) / size);
      counts[r] = (PetscMPIInt)((b - a) * ncomp);
      displs[r] = (PetscMPIInt)(a * ncomp);
    }
  }
  PetscCallMPI(MPI_Gatherv(part, (PetscMPIInt)((p1 - p0) * ncomp), MPIU_REAL, rank == 0 ? *std : NULL, counts, displs, MPIU_REAL, 0, comm));
  PetscCall(PetscFree2(counts, displs));
  PetscCall(PetscFree(part));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzRunProbConserv(MPI_Comm comm, AzLoss loss, PetscBool failed, const char indent[], AzLaplace *lap, char why[], size_t len)
{
  PetscBool         on;
  AzProbConservInfo pi;
  PetscErrorCode    ierr;

  PetscFunctionBegin;
  *lap = NULL;
  if (why && len) why[0] = 0;
  PetscCall(AzLossGetProbConserv(loss, &on, NULL, NULL));
  if (!on) PetscFunctionReturn(PETSC_SUCCESS);
  if (failed) {
    PetscCall(PetscPrintf(comm, "%sprobconserv: no update (training failed)\n", indent));
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  /* a refusal here (the constraints dependent, the approximation not positive definite) keeps the
   * trained results: the caller writes them, then reports it */
  PetscCall(PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
  ierr = AzLaplaceCreate(loss, lap);
  if (!ierr) ierr = AzLossProbConserv(loss, *lap, &pi);
  PetscCall(PetscPopErrorHandler());
  if (ierr) {
    const char *text;
    char       *specific = NULL;
    PetscCall(PetscErrorMessage(ierr, &text, &specific));
    snprintf(why, len, "probconserv update refused: %s", specific && specific[0] ? specific : (text ? text : "unknown error"));
    PetscCall(PetscPrintf(comm, "%s%s; the results are the trained solution's, uncorrected\n", indent, why));
    PetscCall(AzLaplaceDestroy(lap));
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  PetscCall(PetscPrintf(comm, "%sprobconserv (%s): %d constraints (%d times), sigma_c %g: max |G mu - b| %.3e before, %.3e after, %s %.3e\n", indent, pi.joint ? "joint" : "pertime", (int)pi.m, (int)pi.ntimes, (double)pi.sigma, (double)pi.misfit, (double)pi.misfit_after, pi.joint ? "|dtheta|" : "max_t |c(t)|", (double)pi.dtheta_norm));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzRunProbConservJSON(AzFile f, AzLoss loss)
{
  PetscBool         on, applied;
  AzProbConservInfo pi;

  PetscFunctionBegin;
  PetscCall(AzLossGetProbConserv(loss, &on, &applied, &pi));
  if (!on || !applied) {
    PetscCall(AzFilePrintf(f, "null"));
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  PetscCall(AzFilePrintf(f, "{\"mode\": \"%s\", \"constraints\": %d, \"times\": %d, \"sigma\": ", pi.joint ? "joint" : "pertime", (int)pi.m, (int)pi.ntimes));
  PetscCall(AzRunJsonNumber(f, pi.sigma));
  PetscCall(AzFilePrintf(f, ", \"misfit_before\": "));
  PetscCall(AzRunJsonNumber(f, pi.misfit));
  PetscCall(AzFilePrintf(f, ", \"misfit_after\": "));
  PetscCall(AzRunJsonNumber(f, pi.misfit_after));
  PetscCall(AzFilePrintf(f, ", \"dtheta_norm\": "));
  PetscCall(AzRunJsonNumber(f, pi.dtheta_norm));
  PetscCall(AzFilePrintf(f, "}"));
  PetscFunctionReturn(PETSC_SUCCESS);
}
