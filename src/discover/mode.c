/* `ansatz discover -problem P`: the integrals of the library's monomials over the box at many times,
 * the laws among them (laws.c), which of them the plugin declares, a table and discovered.json. */
#include "discoverimpl.h"
#include <ansatz/file.h>
#include <ansatz/run.h>

/* -az_run DIR: DIR/options.txt ("-name value" lines) under the command line, and DIR/theta.bin */
static PetscErrorCode ApplyRun(MPI_Comm comm, const char dir[], char inserted[][64], PetscInt *ninserted)
{
  char      path[PETSC_MAX_PATH_LEN + 32], line[4096];
  FILE     *fp;
  PetscBool set;
  PetscInt  lineno = 0;

  PetscFunctionBegin;
  *ninserted = 0;
  snprintf(path, sizeof path, "%s/theta.bin", dir);
  PetscCall(PetscOptionsHasName(NULL, NULL, "-az_field_load", &set));
  if (!set) PetscCall(PetscOptionsSetValue(NULL, "-az_field_load", path));
  snprintf(path, sizeof path, "%s/options.txt", dir);
  fp = fopen(path, "r");
  PetscCheck(fp, comm, PETSC_ERR_FILE_OPEN, "-az_run %s: cannot read %s (a run directory of `ansatz train` holds options.txt and theta.bin)", dir, path);
  while (fgets(line, sizeof line, fp)) {
    char *name = line, *value;
    lineno++;
    line[strcspn(line, "\r\n")] = 0;
    if (!line[0] || line[0] == '#') continue;
    if (line[0] != '-') {
      fclose(fp);
      SETERRQ(comm, PETSC_ERR_FILE_UNEXPECTED, "%s, line %" PetscInt_FMT ": \"%s\" is not an option line (\"-name value\")", path, lineno, line);
    }
    value = strchr(line, ' ');
    if (value) *value++ = 0;
    /* the run's own files and bookkeeping are not discovery's */
    if (!strcmp(name, "-az_output_dir") || !strcmp(name, "-az_restart") || !strcmp(name, "-options_file") || !strcmp(name, "-az_checkpoint_every")) continue;
    PetscCall(PetscOptionsHasName(NULL, NULL, name, &set));
    if (set) continue; /* the command line wins */
    PetscCall(PetscOptionsSetValue(NULL, name, value));
    if (*ninserted < 512) PetscCall(PetscStrncpy(inserted[(*ninserted)++], name, 64));
  }
  fclose(fp);
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode JSONString(AzFile f, const char s[])
{
  PetscFunctionBegin;
  PetscCall(AzFilePrintf(f, "\""));
  for (const char *p = s; *p; p++) {
    if (*p == '"' || *p == '\\') PetscCall(AzFilePrintf(f, "\\%c", *p));
    else if ((unsigned char)*p < 0x20) PetscCall(AzFilePrintf(f, "\\u%04x", (unsigned)(unsigned char)*p));
    else PetscCall(AzFilePrintf(f, "%c", *p));
  }
  PetscCall(AzFilePrintf(f, "\""));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static void Num(char buf[], size_t len, PetscReal v)
{
  if (PetscIsInfOrNanReal(v)) snprintf(buf, len, "null");
  else snprintf(buf, len, "%.17g", (double)v);
}

static PetscErrorCode MakeParents(MPI_Comm comm, const char path[])
{
  char dir[PETSC_MAX_PATH_LEN], *slash;

  PetscFunctionBegin;
  PetscCall(PetscStrncpy(dir, path, sizeof dir));
  slash = strrchr(dir, '/');
  if (slash && slash != dir) {
    *slash = 0;
    PetscCall(AzRunMakeDirectory(comm, dir));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzDiscoverRunMode(MPI_Comm comm)
{
  char                 name[PETSC_MAX_PATH_LEN] = "", run[PETSC_MAX_PATH_LEN] = "", from[16] = "", data[PETSC_MAX_PATH_LEN] = "", derivs[64] = "x", out[PETSC_MAX_PATH_LEN] = "";
  char                 inserted[512][64];
  PetscInt             ninserted = 0, degree = 3, nt = 0, nodes = 1024;
  PetscBool            with_x = PETSC_FALSE, nt_set, spectrum = PETSC_FALSE;
  PetscReal            tol = 0, accuracy = 0;
  PetscBool            accuracy_set = PETSC_FALSE;
  AzProblem            prob;
  const AzProblemInfo *info;
  AzDiscoverLibrary    lib;
  AzDiscoverSource     src;
  AzDiscoverResult     res;
  PetscReal           *Q, *A, *S;
  PetscInt             n, ndecl = 0, nfull;
  PetscReal           *declQ = NULL;         /* samples of the declared densities, for the span check */
  PetscReal           *declI = NULL, *declA = NULL, *declS = NULL; /* the declared laws: ∫q and ∫|q| at every time, relative drifts */
  PetscReal           *mono  = NULL;         /* samples of every monomial (kept, then left-out) */
  PetscInt             nsamp = 0, ncheck;
  char               (*declared_of)[256]; /* per law: the declared laws it matches */
  PetscReal            decl_res[AZ_MAX_LAWS];
  PetscBool            decl_ok[AZ_MAX_LAWS];

  PetscFunctionBegin;
  PetscCall(PetscMemzero(&src, sizeof src));
  PetscOptionsBegin(comm, NULL, "ansatz discover", "ansatz");
  PetscCall(PetscOptionsString("-az_run", "a training run's directory: its options.txt (under the command line) and theta.bin", "AzDiscoverRunMode", run, run, sizeof run, NULL));
  PetscOptionsEnd();
  if (run[0]) PetscCall(ApplyRun(comm, run, inserted, &ninserted));
  PetscOptionsBegin(comm, NULL, "ansatz discover", "ansatz");
  PetscCall(PetscOptionsString("-problem", "problem: a name from `ansatz list` or a path to a plugin .so", "AzProblemLoad", name, name, sizeof name, NULL));
  PetscCall(PetscOptionsString("-az_discover_data", "values on a space-time grid (CSV: header t,x,COMPONENTS; one row per time and node)", "AzDiscoverRunMode", data, data, sizeof data, NULL));
  {
    PetscBool field;
    PetscCall(PetscOptionsHasName(NULL, NULL, "-az_field_load", &field));
    PetscCall(PetscStrncpy(from, data[0] ? "data" : (field ? "field" : "reference"), sizeof from));
  }
  PetscCall(PetscOptionsString("-az_discover_from", "the solution: field (-az_field_load or -az_run), reference (the problem's cached reference) or data (-az_discover_data)", "AzDiscoverRunMode", from, from, sizeof from, NULL));
  PetscCall(PetscOptionsString("-az_discover_derivatives", "the x-derivatives in the library: \"x\", \"x,xx\" or \"\"", "AzDiscoverRunMode", derivs, derivs, sizeof derivs, NULL));
  PetscCall(PetscOptionsInt("-az_discover_degree", "the monomials' highest degree", "AzDiscoverRunMode", degree, &degree, NULL));
  PetscCall(PetscOptionsBool("-az_discover_x", "include monomials in x", "AzDiscoverRunMode", with_x, &with_x, NULL));
  PetscCall(PetscOptionsInt("-az_discover_times", "time samples (default: 5 times the library, at least 40; a grid: all its times)", "AzDiscoverRunMode", nt, &nt, &nt_set));
  PetscCall(PetscOptionsInt("-az_discover_nodes", "quadrature nodes over the box for a field (composite Gauss, 8 a panel)", "AzDiscoverRunMode", nodes, &nodes, NULL));
  PetscCall(PetscOptionsReal("-az_discover_tol", "the largest relative drift of a law (default: from the noise floor, the widest gap of the spectrum)", "AzDiscoverRunMode", tol, &tol, NULL));
  PetscCall(PetscOptionsReal("-az_discover_accuracy", "the source's own error on an integral, a relative drift: no gap at or below it splits laws from the rest (default: the smallest relative drift, on the same samples, of a declared law whose integral is not 0; 0 without one)", "AzDiscoverRunMode", accuracy, &accuracy, &accuracy_set));
  PetscCall(PetscOptionsBool("-az_discover_spectrum", "print the relative drifts of all singular directions (where the noise floor and the gap are)", "AzDiscoverRunMode", spectrum, &spectrum, NULL));
  PetscCall(PetscOptionsString("-az_discover_output", "the laws as JSON (default runs/discover-PROBLEM/discovered.json)", "AzDiscoverRunMode", out, out, sizeof out, NULL));
  PetscOptionsEnd();
  PetscCheck(!strcmp(from, "field") || !strcmp(from, "reference") || !strcmp(from, "data"), comm, PETSC_ERR_ARG_OUTOFRANGE, "-az_discover_from %s: allowed field, reference, data", from);
  PetscCheck(strcmp(from, "data") || data[0], comm, PETSC_ERR_ARG_WRONG, "-az_discover_from data needs the grid: -az_discover_data FILE.csv");
  PetscCheck(!data[0] || !strcmp(from, "data"), comm, PETSC_ERR_ARG_WRONG, "-az_discover_data is given but -az_discover_from is %s: give one source", from);
  PetscCheck(!nt_set || nt >= 3, comm, PETSC_ERR_ARG_OUTOFRANGE, "-az_discover_times %" PetscInt_FMT ": at least 3", nt);
  PetscCheck(nodes >= 8, comm, PETSC_ERR_ARG_OUTOFRANGE, "-az_discover_nodes %" PetscInt_FMT ": at least 8", nodes);
  PetscCheck(!accuracy_set || (accuracy >= 0 && accuracy < 1e-3), comm, PETSC_ERR_ARG_OUTOFRANGE, "-az_discover_accuracy %g: a relative drift in [0, 1e-3) (0: unknown)", (double)accuracy);
  PetscCheck(tol >= 0 && tol < 1, comm, PETSC_ERR_ARG_OUTOFRANGE, "-az_discover_tol %g: a relative drift in (0, 1), or 0 for the default", (double)tol);
  PetscCall(AzProblemLoad(comm, name, &prob));
  PetscCall(AzProblemSetFromOptions(prob));
  PetscCall(AzProblemGetInfo(prob, &info));
  PetscCheck(info->time_dependent, comm, PETSC_ERR_ARG_WRONG, "Problem %s is steady: a conservation law is a quantity that stays constant in time, so discovery needs a time-dependent problem", info->name);
  PetscCheck(info->dim == 1, comm, PETSC_ERR_SUP, "Problem %s has %" PetscInt_FMT " spatial dimensions: discovery handles one (the library's monomials in u, u_x, u_xx and the reduction modulo total x-derivatives)", info->name, info->dim);
  PetscCall(AzDiscoverLibraryCreate(comm, info->ncomp, info->component_names, derivs, degree, with_x, &lib));
  n     = lib.n;
  nfull = lib.n + lib.ntd;
  if (!nt_set && strcmp(from, "field")) nt = 0; /* a grid: all its times */
  else if (!nt_set) nt = PetscMax(40, 5 * n);
  src.ncomp  = info->ncomp;
  src.ncoord = 2;
  src.nslot  = AZ_JET_NSLOT(2);
  for (PetscInt c = 0; c < info->ncomp; c++) PetscCall(PetscStrncpy(src.comp[c], lib.comp[c], sizeof src.comp[c]));
  if (!strcmp(from, "field")) PetscCall(AzDiscoverSourceField(prob, nodes, nt, lib.maxorder, &src));
  else if (!strcmp(from, "reference")) PetscCall(AzDiscoverSourceReference(prob, nt, &src));
  else PetscCall(AzDiscoverSourceData(prob, data, nt, &src));
  /* the run's options that discovery did not read (the trainer's, ...) are the run's, not errors */
  for (PetscInt k = 0; k < ninserted; k++) {
    PetscBool used;
    PetscCall(PetscOptionsUsed(NULL, inserted[k], &used));
    if (!used) PetscCall(PetscOptionsClearValue(NULL, inserted[k]));
  }
  PetscCall(AzOptionsCheckpoint(comm, PETSC_TRUE));
  PetscCheck(n < src.nt, comm, PETSC_ERR_ARG_OUTOFRANGE, "The library has %" PetscInt_FMT " monomials (degree %" PetscInt_FMT ", derivatives \"%s\"%s, after the reduction modulo total derivatives) but the %s gives %" PetscInt_FMT " times: the search needs more times than monomials (at least %" PetscInt_FMT ", better %" PetscInt_FMT "): %s, or shrink the library", n, degree, derivs, with_x ? ", with x" : "", src.desc, src.nt, n + 1, 5 * n, !strcmp(from, "field") ? "raise -az_discover_times" : (!strcmp(from, "reference") ? "store more snapshots (-az_ref_nt_out)" : "give more times"));

  /* the integrals, and samples of the densities at a few times for the declared check */
  while (ndecl < AZ_MAX_LAWS && info->conservation[ndecl].name) ndecl++;
  ncheck = PetscMin(src.nt, 5);
  nsamp  = ncheck * src.nq;
  PetscCall(PetscMalloc3((size_t)src.nt * n, &Q, (size_t)src.nt * n, &A, n, &S));
  PetscCall(PetscCalloc2((size_t)PetscMax(ndecl, 1) * nsamp, &declQ, (size_t)nfull * nsamp, &mono));
  PetscCall(PetscCalloc3((size_t)PetscMax(ndecl, 1) * src.nt, &declI, (size_t)PetscMax(ndecl, 1) * src.nt, &declA, PetscMax(ndecl, 1), &declS));
  for (PetscInt i = 0; i < src.nt; i++) {
    PetscInt slot = -1; /* which of the ncheck sampled times this is */
    for (PetscInt k = 0; k < ncheck; k++)
      if ((PetscInt)PetscFloorReal((PetscReal)k * (src.nt - 1) / PetscMax(ncheck - 1, 1) + 0.5) == i) slot = k;
    PetscCall(AzDiscoverSourceSnapshot(&src, i));
    for (PetscInt j = 0; j < n; j++) Q[i * n + j] = A[i * n + j] = 0;
    for (PetscInt q = 0; q < src.nq; q++) {
      const PetscReal *u = src.vals + (size_t)q * src.ncomp * (AZ_DISCOVER_MAX_ORDER + 1);
      for (PetscInt j = 0; j < n; j++) {
        const PetscReal m = AzMonomialEvaluate(&lib.mono[j], lib.ncomp, src.qx[q], u);
        Q[i * n + j] += src.qw[q] * m;
        A[i * n + j] += src.qw[q] * PetscAbsReal(m);
        if (slot >= 0) mono[(size_t)j * nsamp + slot * src.nq + q] = m * PetscSqrtReal(src.qw[q]);
      }
      if (slot >= 0)
        for (PetscInt j = 0; j < lib.ntd; j++) mono[(size_t)(n + j) * nsamp + slot * src.nq + q] = AzMonomialEvaluate(&lib.tdmono[j], lib.ncomp, src.qx[q], u) * PetscSqrtReal(src.qw[q]);
      for (PetscInt l = 0; l < ndecl; l++) {
        const PetscReal *param;
        PetscReal        x[2] = {src.qx[q], src.t[i]};
        AzPoint          pt;
        AzJet            J = {2, src.ncomp, src.nslot, src.jets + (size_t)q * src.ncomp * src.nslot};
        PetscScalar      qd;
        PetscCall(AzProblemGetParams(prob, &param));
        pt = (AzPoint){x, 2, param, -1};
        PetscCall(info->conservation[l].density(&pt, &J, &qd, NULL));
        declI[(size_t)l * src.nt + i] += src.qw[q] * PetscRealPart(qd);
        if (slot >= 0) declQ[(size_t)l * nsamp + slot * src.nq + q] = PetscRealPart(qd) * PetscSqrtReal(src.qw[q]);
        declA[(size_t)l * src.nt + i] += src.qw[q] * PetscAbsReal(PetscRealPart(qd));
      }
    }
  }
  /* the source's accuracy on an integral: the smallest relative drift, on these samples and by this
   * quadrature, among the declared laws with a constant target whose integral does not vanish (those
   * are exact laws of the PDE, so their drift is the source's error: the solver's, the field's, the
   * data's; a vanishing integral's drift is round-off and says nothing of it) */
  for (PetscInt l = 0; l < ndecl; l++) {
    PetscReal d = 0, size = 0, Mk[1];
    PetscBool varies, finite = PETSC_TRUE;
    PetscCall(AzProblemGetLawTarget(prob, l, src.t[0], 1, &varies, Mk));
    for (PetscInt i = 0; i < src.nt; i++) {
      finite = finite && !PetscIsInfOrNanReal(declI[(size_t)l * src.nt + i]);
      d      = PetscMax(d, PetscAbsReal(declI[(size_t)l * src.nt + i] - declI[(size_t)l * src.nt]));
      size   = PetscMax(size, declA[(size_t)l * src.nt + i]);
    }
    if (varies || !finite || !(size > 0) || !(PetscAbsReal(declI[(size_t)l * src.nt]) > 1e-6 * size)) continue;
    declS[l] = d / size;
    if (declS[l] < 1e-3 && (src.accuracy == 0 || declS[l] < src.accuracy)) {
      src.accuracy = declS[l];
      PetscCall(PetscSNPrintf(src.accuracy_desc, sizeof src.accuracy_desc, "the relative drift of the declared law %s in this source", info->conservation[l].name));
    }
  }
  for (PetscInt j = 0; j < n; j++) {
    S[j] = 0;
    for (PetscInt i = 0; i < src.nt; i++) S[j] = PetscMax(S[j], A[i * n + j]);
  }
  if (accuracy_set) {
    src.accuracy = accuracy;
    PetscCall(PetscStrncpy(src.accuracy_desc, "-az_discover_accuracy", sizeof src.accuracy_desc));
  }
  PetscCall(AzDiscoverLaws(comm, src.nt, n, Q, S, tol, src.accuracy, &res));

  /* which laws the plugin declares: q_decl = Σ_k a_k q_law_k + a total derivative, at the sampled nodes */
  PetscCall(PetscMalloc1(PetscMax(res.nlaws, 1), &declared_of));
  for (PetscInt k = 0; k < res.nlaws; k++) declared_of[k][0] = 0;
  for (PetscInt l = 0; l < ndecl; l++) {
    const PetscInt m = res.nlaws + lib.ntd;
    PetscReal     *B, *a, r2 = 0, d2 = 0;
    PetscBool      finite = PETSC_TRUE;
    decl_ok[l]  = PETSC_FALSE;
    decl_res[l] = (PetscReal)NAN;
    for (PetscInt s = 0; s < nsamp; s++) finite = finite && !PetscIsInfOrNanReal(declQ[(size_t)l * nsamp + s]);
    if (!finite || !m) continue; /* the density reads what the data do not carry (NaN), or nothing was found */
    PetscCall(PetscCalloc2((size_t)nsamp * m, &B, m, &a));
    for (PetscInt k = 0; k < res.nlaws; k++)
      for (PetscInt j = 0; j < n; j++)
        if (res.coef[(size_t)k * n + j] != 0)
          for (PetscInt s = 0; s < nsamp; s++) B[(size_t)k * nsamp + s] += res.coef[(size_t)k * n + j] * mono[(size_t)j * nsamp + s];
    for (PetscInt t = 0; t < lib.ntd; t++)
      for (PetscInt j = 0; j < nfull; j++)
        if (lib.td[t * nfull + j] != 0)
          for (PetscInt s = 0; s < nsamp; s++) B[(size_t)(res.nlaws + t) * nsamp + s] += lib.td[t * nfull + j] * mono[(size_t)j * nsamp + s];
    PetscCall(AzDiscoverLeastSquares(nsamp, m, B, declQ + (size_t)l * nsamp, a));
    for (PetscInt s = 0; s < nsamp; s++) {
      PetscReal r = declQ[(size_t)l * nsamp + s];
      for (PetscInt k = 0; k < m; k++) r -= B[(size_t)k * nsamp + s] * a[k];
      r2 += r * r;
      d2 += PetscSqr(declQ[(size_t)l * nsamp + s]);
    }
    decl_res[l] = d2 > 0 ? PetscSqrtReal(r2 / d2) : (PetscReal)NAN;
    decl_ok[l]  = (decl_res[l] <= 1e-3) ? PETSC_TRUE : PETSC_FALSE; /* a relative residual: the law's coefficients carry the data's error */
    if (decl_ok[l])
      for (PetscInt k = 0; k < res.nlaws; k++) {
        PetscReal nb = 0;
        for (PetscInt s = 0; s < nsamp; s++) nb += PetscSqr(B[(size_t)k * nsamp + s]);
        if (PetscAbsReal(a[k]) * PetscSqrtReal(nb) > 1e-3 * PetscSqrtReal(d2)) {
          if (declared_of[k][0]) PetscCall(PetscStrlcat(declared_of[k], ",", sizeof declared_of[k]));
          PetscCall(PetscStrlcat(declared_of[k], info->conservation[l].name, sizeof declared_of[k]));
        }
      }
    PetscCall(PetscFree2(B, a));
  }

  /* the table */
  PetscCall(PetscPrintf(comm, "ansatz discover: problem %s, solution from the %s\n", info->name, src.desc));
  PetscCall(PetscPrintf(comm, "library: %" PetscInt_FMT " monomials of degree <= %" PetscInt_FMT " in %s%s%s (%" PetscInt_FMT " before leaving out %" PetscInt_FMT " that differ from them by a total x-derivative)\n", n, degree, lib.comp[0], derivs[0] ? " and the derivatives " : "", derivs, lib.nfull, lib.ntd));
  PetscCall(PetscPrintf(comm, "samples: %" PetscInt_FMT " times in [%g, %g], %" PetscInt_FMT " nodes\n", src.nt, (double)src.t[0], (double)src.t[src.nt - 1], src.nq));
  if (src.accuracy > 0) PetscCall(PetscPrintf(comm, "source accuracy %.1e (%s)%s\n", (double)src.accuracy, src.accuracy_desc, tol > 0 ? ", not used: -az_discover_tol is given" : ": no gap at or below it counts"));
  if (res.gap || tol > 0) PetscCall(PetscPrintf(comm, "noise floor %.1e, next drift %.1e: tol %.1e%s, sparse forms up to %.1e\n", (double)res.floor, (double)res.signal, (double)res.tol, tol > 0 ? " (-az_discover_tol)" : " (the highest gap in the spectrum)", (double)res.tol_sparse));
  else PetscCall(PetscPrintf(comm, "no gap in the drifts of the singular directions%s (smallest %.1e): tol %.1e%s\n", src.accuracy > 0 ? " above the source's accuracy" : "", (double)res.sdrift[0], (double)res.tol, src.accuracy > 0 ? "; the source cannot tell its laws from the rest at this library (a smaller library, more or longer times, or a more accurate source; -az_discover_tol to choose)" : ""));
  if (spectrum) {
    PetscCall(PetscPrintf(comm, "drifts of the singular directions, ascending:"));
    for (PetscInt k = 0; k < n; k++) PetscCall(PetscPrintf(comm, " %.1e", (double)res.sdrift[k]));
    PetscCall(PetscPrintf(comm, "\n"));
  }
  PetscCall(PetscPrintf(comm, "%-8s %-10s %-9s %-16s %s\n", "law", "drift", "vanishes", "declared", "formula"));
  for (PetscInt k = 0; k < res.nlaws; k++) {
    char formula[2048];
    PetscCall(AzDiscoverFormatLaw(n, lib.mono, res.coef + (size_t)k * n, lib.ncomp, lib.comp, formula, sizeof formula));
    PetscCall(PetscPrintf(comm, "law_%-4" PetscInt_FMT " %-10.2e %-9s %-16s %s\n", k + 1, (double)res.drift[k], res.vanish[k] ? "yes" : "no", declared_of[k][0] ? declared_of[k] : "-", formula));
  }
  if (!res.nlaws) PetscCall(PetscPrintf(comm, "(no law below tol)\n"));
  for (PetscInt l = 0; l < ndecl; l++)
    if (!decl_ok[l]) PetscCall(PetscPrintf(comm, "declared law %s: not in the span of the laws found%s%.1e)\n", info->conservation[l].name, PetscIsNanReal(decl_res[l]) ? " (not checked: its density reads what the data do not carry, or nothing was found" : " (relative residual ", (double)decl_res[l]));
  if (res.nlaws) {
    PetscBool any = PETSC_FALSE;
    for (PetscInt k = 0; k < res.nlaws; k++) any = any || res.vanish[k];
    if (any) PetscCall(PetscPrintf(comm, "vanishes: the integral is 0 at every time (conserved, possibly only by a symmetry of this solution, e.g. an odd u)\n"));
  }

  /* discovered.json */
  {
    AzFile f;
    char   b1[64], b2[64], b3[64];
    if (!out[0]) snprintf(out, sizeof out, "runs/discover-%s/discovered.json", info->name);
    PetscCall(MakeParents(comm, out));
    PetscCall(AzFileOpen(comm, out, &f));
    PetscCall(AzFilePrintf(f, "{\n  \"problem\": "));
    PetscCall(JSONString(f, info->name));
    PetscCall(AzFilePrintf(f, ",\n  \"source\": "));
    PetscCall(JSONString(f, src.desc));
    PetscCall(AzFilePrintf(f, ",\n  \"library\": {\"degree\": %" PetscInt_FMT ", \"derivatives\": ", degree));
    PetscCall(JSONString(f, derivs));
    PetscCall(AzFilePrintf(f, ", \"x\": %s, \"size\": %" PetscInt_FMT ", \"size_before_reduction\": %" PetscInt_FMT ", \"monomials\": [", with_x ? "true" : "false", n, lib.nfull));
    for (PetscInt j = 0; j < n; j++) {
      char mname[256];
      PetscCall(AzMonomialFormat(&lib.mono[j], lib.ncomp, lib.comp, mname, sizeof mname));
      PetscCall(AzFilePrintf(f, "%s", j ? ", " : ""));
      PetscCall(JSONString(f, mname));
    }
    Num(b1, sizeof b1, res.tol);
    Num(b2, sizeof b2, res.floor);
    Num(b3, sizeof b3, res.signal);
    PetscCall(AzFilePrintf(f, "]},\n  \"times\": %" PetscInt_FMT ", \"t0\": %.17g, \"t1\": %.17g,\n  \"tol\": %s, \"noise_floor\": %s, \"next_drift\": %s, ", src.nt, (double)src.t[0], (double)src.t[src.nt - 1], b1, b2, b3));
    Num(b1, sizeof b1, res.tol_sparse);
    Num(b2, sizeof b2, src.accuracy);
    PetscCall(AzFilePrintf(f, "\"sparse_tol\": %s, \"accuracy\": %s,\n  \"laws\": [", b1, b2));
    for (PetscInt k = 0; k < res.nlaws; k++) {
      char      formula[2048], lname[64];
      PetscReal value = 0;
      PetscCall(AzDiscoverFormatLaw(n, lib.mono, res.coef + (size_t)k * n, lib.ncomp, lib.comp, formula, sizeof formula));
      for (PetscInt j = 0; j < n; j++) value += res.coef[(size_t)k * n + j] * Q[j];
      snprintf(lname, sizeof lname, "law_%d", (int)(k + 1));
      PetscCall(AzFilePrintf(f, "%s\n    {\"name\": \"%s\", \"formula\": ", k ? "," : "", lname));
      PetscCall(JSONString(f, formula));
      Num(b1, sizeof b1, res.drift[k]);
      Num(b2, sizeof b2, value);
      PetscCall(AzFilePrintf(f, ", \"drift\": %s, \"vanishes\": %s, \"value\": %s, \"declared\": ", b1, res.vanish[k] ? "true" : "false", b2));
      if (declared_of[k][0]) PetscCall(JSONString(f, declared_of[k]));
      else PetscCall(AzFilePrintf(f, "null"));
      PetscCall(AzFilePrintf(f, ",\n     \"coefficients\": {"));
      for (PetscInt j = 0, first = 1; j < n; j++) {
        char mname[256];
        if (res.coef[(size_t)k * n + j] == 0) continue;
        PetscCall(AzMonomialFormat(&lib.mono[j], lib.ncomp, lib.comp, mname, sizeof mname));
        PetscCall(AzFilePrintf(f, "%s", first ? "" : ", "));
        PetscCall(JSONString(f, mname));
        PetscCall(AzFilePrintf(f, ": %.17g", (double)res.coef[(size_t)k * n + j]));
        first = 0;
      }
      PetscCall(AzFilePrintf(f, "}}"));
    }
    PetscCall(AzFilePrintf(f, "%s],\n  \"declared\": [", res.nlaws ? "\n  " : ""));
    for (PetscInt l = 0; l < ndecl; l++) {
      Num(b1, sizeof b1, decl_res[l]);
      PetscCall(AzFilePrintf(f, "%s{\"name\": ", l ? ", " : ""));
      PetscCall(JSONString(f, info->conservation[l].name));
      PetscCall(AzFilePrintf(f, ", \"found\": %s, \"residual\": %s}", decl_ok[l] ? "true" : "false", b1));
    }
    PetscCall(AzFilePrintf(f, "]\n}\n"));
    PetscCall(AzFileClose(&f));
    PetscCall(PetscPrintf(comm, "written: %s (feed the laws back with -az_conservation_from %s)\n", out, out));
  }
  PetscCall(AzDiscoverResultDestroy(&res));
  PetscCall(PetscFree(declared_of));
  PetscCall(PetscFree3(Q, A, S));
  PetscCall(PetscFree2(declQ, mono));
  PetscCall(PetscFree3(declI, declA, declS));
  PetscCall(AzDiscoverSourceDestroy(&src));
  PetscCall(AzDiscoverLibraryDestroy(&lib));
  PetscCall(AzProblemDestroy(&prob));
  PetscFunctionReturn(PETSC_SUCCESS);
}
