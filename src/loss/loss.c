/* The loss: residual terms on distributed collocation sets, their gradient and Gauss–Newton pieces. */
#include "lossimpl.h"
#include <cblas.h>

PetscLogEvent AZ_LOSS_Eval, AZ_LOSS_Normal, AZ_LOSS_Fold;

PetscErrorCode AzLossCreate(AzProblem prob, AzField field, AzLoss *loss)
{
  AzLoss               L;
  const AzProblemInfo *info;
  static PetscBool     registered = PETSC_FALSE;

  PetscFunctionBegin;
  if (!registered) {
    PetscClassId id;
    PetscCall(PetscClassIdRegister("AzLoss", &id));
    PetscCall(PetscLogEventRegister("AzLossEval", id, &AZ_LOSS_Eval));
    PetscCall(PetscLogEventRegister("AzLossNormalEq", id, &AZ_LOSS_Normal));
    PetscCall(PetscLogEventRegister("AzLossFold", id, &AZ_LOSS_Fold));
    registered = PETSC_TRUE;
  }
  PetscCall(PetscNew(&L));
  PetscCall(AzProblemGetInfo(prob, &info));
  PetscCall(AzProblemGetComm(prob, &L->comm));
  L->prob       = prob;
  L->field      = field;
  L->type       = AZ_SAMPLE_SOBOL;
  L->seed       = 1;
  L->n_interior = 2000;
  L->n_boundary = 100;
  L->n_initial  = 200;
  L->chunk      = 128;
  L->ngroups    = 12;
  L->w_interior = L->w_boundary = L->w_initial = L->w_data = L->w_positive = L->w_law = 1;
  PetscCall(AzProblemGetNumCoords(prob, &L->ncoord));
  L->eval_n = L->ncoord <= 2 ? 101 : (L->ncoord == 3 ? 41 : 17);
  L->ncomp  = info->ncomp;
  L->nslot  = AZ_JET_NSLOT(L->ncoord);
  L->project_nodes = L->ncoord <= 2 ? 128 : (L->ncoord == 3 ? 32 : 12);
  *loss     = L;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzLossSetOptionsPrefix(AzLoss L, const char prefix[])
{
  PetscFunctionBegin;
  PetscCheck(!L->setup, L->comm, PETSC_ERR_ORDER, "Set the loss's options prefix before AzLossSetUp");
  PetscCheck(!prefix || prefix[0] != '-', L->comm, PETSC_ERR_ARG_WRONG, "An options prefix must not start with '-' (got '%s')", prefix);
  PetscCall(PetscFree(L->prefix));
  if (prefix && prefix[0]) PetscCall(PetscStrallocpy(prefix, &L->prefix));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzLossGetOptionsPrefix(AzLoss L, const char *prefix[])
{
  PetscFunctionBegin;
  *prefix = L->prefix;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzLossSetFromOptions(AzLoss L)
{
  PetscInt  seed       = (PetscInt)L->seed;
  PetscBool slices_set = PETSC_FALSE;

  PetscFunctionBegin;
  PetscOptionsBegin(L->comm, L->prefix, "Loss: collocation sets and term weights", "AzLoss");
  PetscCall(PetscOptionsEnum("-az_sampler", "collocation points", "AzSampleCondition", AzSampleTypes, (PetscEnum)L->type, (PetscEnum *)&L->type, NULL));
  PetscCall(PetscOptionsInt("-az_seed", "seed of the collocation points", "AzSampleCondition", seed, &seed, NULL));
  PetscCall(PetscOptionsInt("-az_n_interior", "interior collocation points", "AzLossSetUp", L->n_interior, &L->n_interior, NULL));
  PetscCall(PetscOptionsInt("-az_n_boundary", "collocation points per boundary face", "AzLossSetUp", L->n_boundary, &L->n_boundary, NULL));
  PetscCall(PetscOptionsInt("-az_n_initial", "collocation points on the initial slice", "AzLossSetUp", L->n_initial, &L->n_initial, NULL));
  PetscCall(PetscOptionsReal("-az_weight_interior", "weight of the PDE residual term", "AzLossSetWeight", L->w_interior, &L->w_interior, NULL));
  PetscCall(PetscOptionsReal("-az_weight_boundary", "weight of each boundary term", "AzLossSetWeight", L->w_boundary, &L->w_boundary, NULL));
  PetscCall(PetscOptionsReal("-az_weight_initial", "weight of the initial-condition term", "AzLossSetWeight", L->w_initial, &L->w_initial, NULL));
  PetscCall(PetscOptionsString("-az_data", "observations: CSV file, one point per line: coordinates (x[,y[,z]][,t]) then the components", "AzLossSetUp", L->data_file, L->data_file, sizeof L->data_file, NULL));
  PetscCall(PetscOptionsReal("-az_weight_data", "weight of the data term", "AzLossSetWeight", L->w_data, &L->w_data, NULL));
  PetscCall(PetscOptionsReal("-az_weight_conservation", "weight of each conservation-law penalty (where a schedule starts)", "AzLossSetWeight", L->w_law, &L->w_law, NULL));
  PetscCall(PetscOptionsReal("-az_weight_positivity", "weight of the positivity penalty (where a schedule starts)", "AzLossSetWeight", L->w_positive, &L->w_positive, NULL));
  PetscCall(PetscOptionsInt("-az_eval_n", "evaluation grid points per axis, for errors", "AzLossExactError", L->eval_n, &L->eval_n, NULL));
  PetscCall(PetscOptionsInt("-az_loss_chunk", "points per chunk in loss evaluation", "AzLossEvaluate", L->chunk, &L->chunk, NULL));
  PetscCall(PetscOptionsInt("-az_loss_groups", "fixed groups of points whose partial sums are added in order, so that results do not depend on the rank count (up to this many ranks; more ranks hold no points)", "AzLossEvaluate", L->ngroups, &L->ngroups, NULL));
  PetscCall(PetscOptionsEnum("-az_conservation", "how the problem's conservation laws are enforced", "AzLossSetUp", AzConservationTypes, (PetscEnum)L->conservation, (PetscEnum *)&L->conservation, NULL));
  PetscCall(PetscOptionsEnum("-az_positivity", "how positive components are kept positive", "AzLossSetUp", AzPositivityTypes, (PetscEnum)L->positivity, (PetscEnum *)&L->positivity, NULL));
  for (PetscInt i = 0; i < L->nlaw_names; i++) PetscCall(PetscFree(L->law_names[i]));
  L->nlaw_names = AZ_MAX_LAWS;
  PetscCall(PetscOptionsStringArray("-az_conservation_laws", "the laws -az_conservation applies to, by name (default: all; -az_conservation_NAME sets one law's)", "AzLossSetUp", L->law_names, &L->nlaw_names, NULL));
  PetscCall(PetscOptionsInt("-az_project_nodes", "quadrature nodes per spatial axis of the projection onto conservation laws", "AzLossSetUp", L->project_nodes, &L->project_nodes, NULL));
  PetscCall(PetscOptionsInt("-az_drift_nodes", "quadrature nodes per axis that measure conservation drift (0: 1024 in 1-D, 128 in 2-D, 32 in 3-D)", "AzLossConservationDrift", L->drift_nodes, &L->drift_nodes, NULL));
  PetscCall(PetscOptionsInt("-az_time_slices", "put the collocation points' times on N slices (0: continuous; 100 by default when a law is projected in training or penalised)", "AzLossSetUp", L->time_slices, &L->time_slices, &slices_set));
  PetscOptionsEnd();
  PetscCall(AzLossConstraintOptions(L));
  L->seed = seed;
  PetscCheck(L->n_interior >= 1 && L->n_boundary >= 1 && L->n_initial >= 1, L->comm, PETSC_ERR_ARG_OUTOFRANGE, "Collocation counts must be at least 1 (-az_n_interior %" PetscInt_FMT ", -az_n_boundary %" PetscInt_FMT ", -az_n_initial %" PetscInt_FMT ")", L->n_interior, L->n_boundary, L->n_initial);
  PetscCheck(L->w_interior >= 0 && L->w_boundary >= 0 && L->w_initial >= 0 && L->w_data >= 0 && L->w_law >= 0 && L->w_positive >= 0, L->comm, PETSC_ERR_ARG_OUTOFRANGE, "Term weights must be non-negative (-az_weight_interior, _boundary, _initial, _data, _conservation, _positivity)");
  PetscCheck(L->n_interior <= 100000000 && L->n_boundary <= 100000000 && L->n_initial <= 100000000, L->comm, PETSC_ERR_ARG_OUTOFRANGE, "Collocation counts must be at most 100000000 (-az_n_interior %" PetscInt_FMT ", -az_n_boundary %" PetscInt_FMT ", -az_n_initial %" PetscInt_FMT ")", L->n_interior, L->n_boundary, L->n_initial);
  PetscCheck(seed >= 0, L->comm, PETSC_ERR_ARG_OUTOFRANGE, "-az_seed %" PetscInt_FMT " must be >= 0", seed);
  PetscCheck(L->eval_n >= 2, L->comm, PETSC_ERR_ARG_OUTOFRANGE, "-az_eval_n must be at least 2");
  /* the evaluation grid has eval_n^ncoord points */
  PetscCheck(PetscPowReal((PetscReal)L->eval_n, (PetscReal)L->ncoord) <= 1e8, L->comm, PETSC_ERR_ARG_OUTOFRANGE, "-az_eval_n %" PetscInt_FMT ": the evaluation grid would have %g points in %" PetscInt_FMT " coordinates; at most 1e8 are allowed", L->eval_n, (double)PetscPowReal((PetscReal)L->eval_n, (PetscReal)L->ncoord), L->ncoord);
  PetscCheck(L->chunk >= 1 && L->chunk <= 1000000, L->comm, PETSC_ERR_ARG_OUTOFRANGE, "-az_loss_chunk must be between 1 and 1000000, not %" PetscInt_FMT, L->chunk);
  PetscCheck(L->ngroups >= 1 && L->ngroups <= 128, L->comm, PETSC_ERR_ARG_OUTOFRANGE, "-az_loss_groups must be between 1 and 128, not %" PetscInt_FMT, L->ngroups);
  PetscCheck(L->project_nodes >= 2 && L->project_nodes <= 100000, L->comm, PETSC_ERR_ARG_OUTOFRANGE, "-az_project_nodes must be between 2 and 100000, not %" PetscInt_FMT, L->project_nodes);
  PetscCheck(L->drift_nodes >= 0 && L->drift_nodes <= 1000000, L->comm, PETSC_ERR_ARG_OUTOFRANGE, "-az_drift_nodes must be 0 (the default) or a positive count up to 1000000");
  PetscCheck(L->time_slices >= 0 && L->time_slices <= 1000000, L->comm, PETSC_ERR_ARG_OUTOFRANGE, "-az_time_slices must be 0 (continuous times) or a positive number of slices up to 1000000, not %" PetscInt_FMT, L->time_slices);
  PetscCall(AzConservationOptions(L));
  {
    PetscBool slices = PETSC_FALSE; /* the projection in training and the penalties work slice by slice */
    for (PetscInt l = 0; l < AZ_MAX_LAWS; l++) slices = slices || L->law_mode[l] == AZ_CONSERVE_PROJECT || AzConservationIsPenalty(L->law_mode[l]);
    if (!slices_set && slices) L->time_slices = 100;
  }
  PetscCall(AzStreamDestroy(&L->stream));
  PetscCall(AzStreamCreateFromOptions(L->prob, L->prefix, &L->stream));
  PetscFunctionReturn(PETSC_SUCCESS);
}

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
static PetscErrorCode ReadData(AzLoss L, AzTerm *t)
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

PetscErrorCode AzLossSetUp(AzLoss L)
{
  const AzProblemInfo *info;
  const char           axes[] = "xyz";
  PetscInt             nrmax  = 0;

  PetscFunctionBegin;
  if (L->setup) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(AzProblemGetInfo(L->prob, &info));
  PetscCall(AzFieldGetNumParameters(L->field, &L->nparam));
  PetscCall(AzLossGroupsSetUp(L));
  if (L->hard_boundary || L->hard_initial) PetscCall(AzTransformCreateFaces(L->prob, L->hard_face, L->hard_initial, &L->transform));
  L->nterms = 0;
  for (PetscInt cond = AZ_COND_INTERIOR; cond <= AZ_COND_INITIAL; cond++) {
    AzTerm *t = &L->term[L->nterms];
    PetscInt nres;

    if (cond >= 2 * info->dim && cond != AZ_COND_INITIAL) continue;
    PetscCall(AzProblemGetNumResiduals(L->prob, cond, &nres));
    if (!nres) continue;
    if (L->transform && cond != AZ_COND_INTERIOR) {
      PetscBool hard;
      PetscCall(AzTransformIsHard(L->transform, cond, &hard));
      if (hard) continue; /* imposed exactly: no term */
    }
    t->cond = cond;
    t->nres = nres;
    if (cond == AZ_COND_INTERIOR) {
      PetscCall(PetscStrncpy(t->name, "pde", sizeof t->name));
      t->n = L->n_interior;
      t->w = L->w_interior;
    } else if (cond == AZ_COND_INITIAL) {
      PetscCall(PetscStrncpy(t->name, "initial", sizeof t->name));
      t->n = L->n_initial;
      t->w = L->w_initial;
    } else {
      snprintf(t->name, sizeof t->name, "bc_%c%s", axes[cond / 2], cond % 2 ? "1" : "0");
      /* a face of a 1-D steady problem is a single point */
      t->n = (L->ncoord == 1) ? 1 : L->n_boundary;
      t->w = L->w_boundary;
    }
    t->ctype = AZ_CON_SOFT;
    if (cond != AZ_COND_INTERIOR) t->ctype = cond == AZ_COND_INITIAL ? L->con_initial : L->con_face[cond];
    t->w0 = t->w;
    /* a grid needs a perfect power: round the count to the nearest one */
    if (L->type == AZ_SAMPLE_GRID) {
      PetscInt d = L->ncoord - (cond == AZ_COND_INTERIOR ? 0 : 1), m, mm = 1;
      if (d > 0) {
        m = (PetscInt)PetscFloorReal(PetscPowReal((PetscReal)t->n, 1.0 / d) + 0.5);
        for (PetscInt k = 0; k < d; k++) mm *= PetscMax(m, 1);
        t->n = mm;
      }
    }
    PetscCall(AzSampleConditionLocal(L->comm, L->prob, cond, L->type, t->n, AzLossGroupsLocalSize(L, t->n), L->seed, &t->x));
    if (L->time_slices > 0 && info->time_dependent && cond != AZ_COND_INITIAL) {
      /* times to the midpoints of time_slices equal slices: the points share few times */
      const PetscReal t0 = info->t0, t1 = info->t1;
      PetscScalar    *xa;
      PetscInt        nloc;
      PetscCall(VecGetLocalSize(t->x, &nloc));
      PetscCall(VecGetArray(t->x, &xa));
      for (PetscInt p = 0; p < nloc / L->ncoord; p++) {
        PetscScalar *tp = &xa[p * L->ncoord + L->ncoord - 1];
        PetscInt     s  = (PetscInt)PetscFloorReal((PetscRealPart(*tp) - t0) / (t1 - t0) * L->time_slices);
        s               = PetscMax(0, PetscMin(s, L->time_slices - 1));
        *tp             = t0 + (t1 - t0) * (s + 0.5) / L->time_slices;
      }
      PetscCall(VecRestoreArray(t->x, &xa));
    }
    PetscCall(AzLossConstraintSetUpTerm(L, t));
    nrmax = PetscMax(nrmax, nres);
    L->nterms++;
  }
  if (L->positivity != AZ_POSITIVE_NONE && L->positivity != AZ_POSITIVE_HARD) {
    /* penalty on min(u_c, 0) for the positive components, at the interior points */
    AzTerm *t = &L->term[L->nterms];
    PetscCheck(L->term[0].cond == AZ_COND_INTERIOR, L->comm, PETSC_ERR_PLIB, "positivity penalty: no interior term");
    PetscCall(PetscStrncpy(t->name, "positive", sizeof t->name));
    t->cond = AZ_COND_POSITIVE;
    t->nres = 0;
    for (PetscInt c = 0; c < L->ncomp; c++)
      if (info->positive[c]) t->nres++;
    PetscCheck(t->nres > 0, L->comm, PETSC_ERR_ARG_WRONG, "-az_positivity %s: problem %s declares no positive component (.positive in its descriptor)", AzPositivityTypes[L->positivity], info->name);
    t->n = L->term[0].n;
    t->w = t->w0 = L->w_positive;
    t->ctype     = AzPositivityPenaltyType(L);
    t->x         = L->term[0].x;
    PetscCall(PetscObjectReference((PetscObject)t->x));
    PetscCall(AzLossConstraintSetUpTerm(L, t));
    nrmax = PetscMax(nrmax, t->nres);
    L->nterms++;
  }
  if (L->data_file[0]) {
    AzTerm *t = &L->term[L->nterms];
    PetscCall(PetscStrncpy(t->name, "data", sizeof t->name));
    t->cond = AZ_COND_DATA;
    t->nres = L->ncomp;
    t->w    = L->w_data;
    PetscCall(ReadData(L, t));
    nrmax = PetscMax(nrmax, t->nres);
    L->nterms++;
  }
  {
    const PetscInt Ljet = L->ncomp * L->nslot;
    PetscCall(PetscMalloc3(L->chunk * Ljet, &L->jets, L->chunk * nrmax * Ljet, &L->D, L->chunk * nrmax, &L->r));
  }
  PetscCall(AzProjectionSetUp(L));
  for (PetscInt l = 0; l < AZ_MAX_LAWS; l++) {
    if (!AzConservationIsPenalty(L->law_mode[l])) continue;
    PetscCall(AzLawTermSetUp(L, l, &L->term[L->nterms]));
    PetscCall(AzLossConstraintSetUpTerm(L, &L->term[L->nterms]));
    L->nterms++;
  }
  PetscCall(AzPositivitySetUp(L));
  PetscCall(PetscMalloc1((size_t)L->chunk * L->ncomp * L->nslot, &L->vjets));
  L->ncompN = L->ncomp;
  if (L->stream) {
    PetscInt nf, ns;
    PetscBool laws = PETSC_FALSE;
    for (PetscInt l = 0; l < AZ_MAX_LAWS; l++) laws = laws || L->law_mode[l] != AZ_CONSERVE_NONE;
    PetscCheck(!L->transform && L->positivity != AZ_POSITIVE_HARD && !laws, L->comm, PETSC_ERR_ARG_WRONG, "-az_divfree (a stream function) does not combine with hard boundary or initial conditions, -az_positivity hard or -az_conservation here: use soft conditions with it");
    PetscCall(AzStreamGetNetwork(L->stream, &L->ncompN, NULL));
    PetscCall(AzFieldGetJetSize(L->field, &nf, &ns));
    PetscCheck(nf == L->ncompN, L->comm, PETSC_ERR_ARG_INCOMP, "-az_divfree: the field has %" PetscInt_FMT " outputs but a stream function needs %" PetscInt_FMT " (psi and the other components): create the field after setting the option (AzRunCreateField)", nf, L->ncompN);
  }
  L->LjetN = L->ncompN * L->nslot;
  PetscCall(PetscMalloc2((size_t)L->chunk * L->LjetN, &L->njets, (size_t)L->chunk * nrmax * L->LjetN, &L->nD));
  L->setup = PETSC_TRUE;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzLossDestroy(AzLoss *loss)
{
  PetscFunctionBegin;
  if (!*loss) PetscFunctionReturn(PETSC_SUCCESS);
  for (PetscInt k = 0; k < (*loss)->nterms; k++) {
    PetscCall(VecDestroy(&(*loss)->term[k].x));
    PetscCall(VecDestroy(&(*loss)->term[k].obs));
    PetscCall(PetscFree3((*loss)->term[k].lin_rho, (*loss)->term[k].lin_D, (*loss)->term[k].lin_jet));
    PetscCall(PetscFree((*loss)->term[k].lin_w));
    PetscCall(PetscFree((*loss)->term[k].lambda));
    PetscCall(PetscFree((*loss)->term[k].group));
    PetscCall(PetscFree((*loss)->term[k].lin_E));
  }
  PetscCall(AzProjectionDestroy(*loss));
  PetscCall(PetscFree((*loss)->vjets));
  for (PetscInt i = 0; i < (*loss)->nlaw_names; i++) PetscCall(PetscFree((*loss)->law_names[i]));
  PetscCall(PetscFree3((*loss)->jets, (*loss)->D, (*loss)->r));
  PetscCall(PetscFree((*loss)->Jrows));
  PetscCall(PetscFree2((*loss)->njets, (*loss)->nD));
  PetscCall(AzTransformDestroy(&(*loss)->transform));
  PetscCall(AzStreamDestroy(&(*loss)->stream));
  PetscCall(PetscFree((*loss)->prefix));
  PetscCall(PetscFree(*loss));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzLossView(AzLoss L, PetscViewer viewer)
{
  PetscFunctionBegin;
  if (!viewer) viewer = PETSC_VIEWER_STDOUT_(L->comm);
  PetscCall(PetscViewerASCIIPrintf(viewer, "loss: %" PetscInt_FMT " terms, %s points, seed %" PetscInt64_FMT "\n", L->nterms, AzSampleTypes[L->type], L->seed));
  PetscCall(PetscViewerASCIIPushTab(viewer));
  for (PetscInt k = 0; k < L->nterms; k++) PetscCall(PetscViewerASCIIPrintf(viewer, "%-8s %6" PetscInt_FMT " %s x %" PetscInt_FMT " residual(s), weight %g\n", L->term[k].name, L->term[k].n, L->term[k].cond == AZ_COND_LAW ? "slices" : "points", L->term[k].nres, (double)L->term[k].w));
  PetscCall(PetscViewerASCIIPopTab(viewer));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzLossGetComm(AzLoss L, MPI_Comm *comm)
{
  PetscFunctionBegin;
  *comm = L->comm;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzLossGetNumTerms(AzLoss L, PetscInt *n)
{
  PetscFunctionBegin;
  *n = L->nterms;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzLossGetTermName(AzLoss L, PetscInt k, const char **name)
{
  PetscFunctionBegin;
  PetscCheck(k >= 0 && k < L->nterms, L->comm, PETSC_ERR_ARG_OUTOFRANGE, "Term %" PetscInt_FMT " outside 0..%" PetscInt_FMT, k, L->nterms - 1);
  *name = L->term[k].name;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzLossGetTermPoints(AzLoss L, PetscInt k, Vec *points)
{
  PetscFunctionBegin;
  PetscCheck(k >= 0 && k < L->nterms, L->comm, PETSC_ERR_ARG_OUTOFRANGE, "Term %" PetscInt_FMT " outside 0..%" PetscInt_FMT, k, L->nterms - 1);
  *points = L->term[k].x;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzLossSetWeight(AzLoss L, PetscInt k, PetscReal w)
{
  PetscFunctionBegin;
  PetscCheck(k >= 0 && k < L->nterms, L->comm, PETSC_ERR_ARG_OUTOFRANGE, "Term %" PetscInt_FMT " outside 0..%" PetscInt_FMT, k, L->nterms - 1);
  PetscCheck(w >= 0 && !PetscIsInfOrNanReal(w), L->comm, PETSC_ERR_ARG_OUTOFRANGE, "Weight %g of term %s must be finite and non-negative", (double)w, L->term[k].name);
  L->term[k].w = w;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzLossGetWeight(AzLoss L, PetscInt k, PetscReal *w)
{
  PetscFunctionBegin;
  PetscCheck(k >= 0 && k < L->nterms, L->comm, PETSC_ERR_ARG_OUTOFRANGE, "Term %" PetscInt_FMT " outside 0..%" PetscInt_FMT, k, L->nterms - 1);
  *w = L->term[k].w;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Jets of the solution u at npts points: the network's, through the hard-constraint transform if any,
 * projected onto the conservation laws if asked (in training or post hoc) */
PetscErrorCode AzLossEvaluateSolution(AzLoss L, PetscInt npts, const PetscReal x[], PetscScalar jets[])
{
  PetscFunctionBegin;
  if (L->stream) {
    PetscScalar *net = L->njets; /* the chunk buffer, when the batch fits (set up) */
    if (!L->setup || npts > L->chunk) PetscCall(PetscMalloc1((size_t)PetscMax(npts, 1) * L->LjetN, &net));
    PetscCall(AzFieldEvaluateJets(L->field, npts, x, net));
    PetscCall(AzStreamApply(L->stream, npts, net, jets));
    if (net != L->njets) PetscCall(PetscFree(net));
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  PetscCall(AzFieldEvaluateJets(L->field, npts, x, jets));
  if (L->transform) PetscCall(AzTransformApply(L->transform, npts, x, jets));
  if (L->setup) PetscCall(AzPositivityApply(L, npts, jets));
  if (L->setup) PetscCall(AzProjectionApplyLocal(L, npts, x, jets));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The solution as training sees it at a term's local points p0 .. p0+nc-1 (AzProjectionUpdate done) */
PetscErrorCode AzLossTermSolution(AzLoss L, AzTerm *t, PetscInt p0, PetscInt nc, const PetscReal *x, PetscScalar jets[])
{
  const PetscInt Ljet = L->ncomp * L->nslot;

  PetscFunctionBegin;
  if (L->stream) {
    PetscCall(AzFieldEvaluateJets(L->field, nc, x, L->njets));
    PetscCall(AzStreamApply(L->stream, nc, L->njets, jets));
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  PetscCall(AzFieldEvaluateJets(L->field, nc, x, jets));
  if (L->transform) PetscCall(AzTransformApply(L->transform, nc, x, jets));
  if (AzPositivityActive(L)) { /* keep the network's jets for the adjoint */
    PetscCall(PetscArraycpy(L->vjets, jets, (size_t)nc * Ljet));
    PetscCall(AzPositivityApply(L, nc, jets));
  }
  if (AzProjectionInTraining(L)) {
    const PetscInt R = L->proj.nk * L->proj.nlaw;
    for (PetscInt p = 0; p < nc; p++) AzProjectionAdd(L, x + p * L->ncoord, L->proj.gc + t->group[p0 + p] * R, jets + p * Ljet);
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The residual of term t at one point (local index i) from its jet: the plugin's, or u − u_obs for data */
static PetscErrorCode PointResidual(AzLoss L, AzTerm *t, PetscInt i, const PetscReal *x, const PetscScalar *jet, PetscScalar r[], PetscScalar D[])
{
  const PetscInt Ljet = L->ncomp * L->nslot;

  PetscFunctionBegin;
  if (t->cond == AZ_COND_POSITIVE) {
    const AzProblemInfo *info;
    PetscInt             k = 0;
    PetscCall(AzProblemGetInfo(L->prob, &info));
    if (D) PetscCall(PetscArrayzero(D, t->nres * Ljet));
    for (PetscInt c = 0; c < L->ncomp; c++) {
      /* with multipliers (u ≥ 0 by the method of multipliers): r = min(u − λ/μ, 0) */
      PetscScalar u;
      if (!info->positive[c]) continue;
      u = jet[c * L->nslot] - (t->lambda ? t->lambda[i * t->nres + k] / t->mu : 0);
      r[k] = PetscRealPart(u) < 0 ? u : 0;
      if (D && PetscRealPart(u) < 0) D[k * Ljet + c * L->nslot] = 1;
      k++;
    }
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  if (t->cond != AZ_COND_DATA) {
    PetscCall(AzProblemEvaluateResidual(L->prob, t->cond, x, jet, r, D));
    /* augmented Lagrangian: (μ/2)(r + λ/μ)² = λr + (μ/2)r² + const */
    if (t->lambda)
      for (PetscInt k = 0; k < t->nres; k++) r[k] += t->lambda[i * t->nres + k] / t->mu;
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  {
    const PetscScalar *obs;
    PetscCall(VecGetArrayRead(t->obs, &obs));
    for (PetscInt c = 0; c < L->ncomp; c++) r[c] = jet[c * L->nslot] - obs[i * L->ncomp + c];
    PetscCall(VecRestoreArrayRead(t->obs, &obs));
    if (D) {
      PetscCall(PetscArrayzero(D, L->ncomp * Ljet));
      for (PetscInt c = 0; c < L->ncomp; c++) D[c * Ljet + c * L->nslot] = 1;
    }
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Residuals (and, if D is not NULL, ∂r/∂jet) of term t at nc points x (local indices p0, p0+1, ...),
 * from their jets in L->jets */
PetscErrorCode TermResiduals(AzLoss L, AzTerm *t, PetscInt p0, PetscInt nc, const PetscReal *x, PetscScalar *D)
{
  const PetscInt Ljet = L->ncomp * L->nslot;

  PetscFunctionBegin;
  for (PetscInt p = 0; p < nc; p++) PetscCall(PointResidual(L, t, p0 + p, x + p * L->ncoord, L->jets + p * Ljet, L->r + p * t->nres, D ? D + p * t->nres * Ljet : NULL));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* the adjoint of a chunk of term t from its jets: jetbar_p = Σ_i (2 w / m) r_i ∂r_i/∂jet, and Σ r² */
typedef struct {
  AzLoss           L;
  AzTerm          *t;
  const PetscReal *x;   /* the term's local points from local index off on */
  PetscInt         off;
  PetscReal        sum;
} AdjointCtx;

static PetscErrorCode TermAdjoint(void *ptr, PetscInt p0, PetscInt nc, const PetscScalar jets[], PetscScalar jetbar[])
{
  AdjointCtx     *c = (AdjointCtx *)ptr;
  AzLoss          L = c->L;
  AzTerm         *t = c->t;
  const PetscInt  Ljet = L->ncomp * L->nslot, LjetN = L->LjetN;
  const PetscReal scale = 2 * t->w / ((PetscReal)t->n * t->nres);
  const PetscBool proj  = AzProjectionInTraining(L);
  const PetscInt  R     = proj ? L->proj.nk * L->proj.nlaw : 0;
  PetscScalar     ub[AZ_MAX_COMP * AZ_JET_MAX_NSLOT];

  PetscFunctionBegin;
  for (PetscInt p = 0; p < nc; p++) {
    const PetscInt     ip = c->off + p0 + p; /* local point index */
    const PetscReal   *xp = c->x + (p0 + p) * L->ncoord;
    const PetscScalar *np = jets + p * LjetN; /* the network's jets */
    PetscScalar       *jb = jetbar + p * LjetN;

    /* network jets -> solution jets */
    if (L->stream) PetscCall(AzStreamApply(L->stream, 1, np, L->jets));
    else PetscCall(PetscArraycpy(L->jets, np, Ljet));
    if (L->transform) PetscCall(AzTransformApply(L->transform, 1, xp, L->jets));
    PetscCall(AzPositivityApply(L, 1, L->jets));
    if (proj) AzProjectionAdd(L, xp, L->proj.gc + t->group[ip] * R, L->jets);
    PetscCall(PointResidual(L, t, ip, xp, L->jets, L->r, L->D));
    /* ū = Σ_i (2w/m) r_i ∂r_i/∂u, then back through each map to the network's jets */
    for (PetscInt s = 0; s < Ljet; s++) ub[s] = 0;
    for (PetscInt i = 0; i < t->nres; i++) {
      const PetscScalar  ri = scale * L->r[i];
      const PetscScalar *Di = L->D + i * Ljet;
      c->sum += L->r[i] * L->r[i];
      for (PetscInt s = 0; s < Ljet; s++) ub[s] += ri * Di[s];
    }
    if (proj) AzProjectionAddAdjoint(L, xp, ub, L->proj.gcbar + t->group[ip] * R); /* ū -> c̄ */
    PetscCall(AzPositivityAdjoint(L, 1, np, 1, ub));                                    /* ū -> v̄ at the network's jets */
    if (L->transform) PetscCall(AzTransformAdjoint(L->transform, 1, xp, 1, ub));        /* ū -> N̄ */
    if (L->stream) PetscCall(AzStreamAdjoint(L->stream, 1, 1, ub, jb));                 /* ū -> ψ̄ */
    else PetscCall(PetscArraycpy(jb, ub, Ljet));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Σ r² of term t over the points of owned group g, and with grad, grad += its gradient */
static PetscErrorCode TermGroupEvaluate(AzLoss L, AzTerm *t, PetscInt g, PetscReal *sum, Vec grad)
{
  const PetscScalar *xa;
  PetscInt           lo, np;

  PetscFunctionBegin;
  *sum = 0;
  if (t->cond == AZ_COND_LAW) {
    PetscCall(AzLawTermEvaluate(L, t, g, sum, grad));
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  AzLossGroupItems(L, t->n, g, &lo, &np);
  PetscCall(VecGetArrayRead(t->x, &xa));
  if (grad) {
    /* one forward pass per chunk: jets -> residuals and their adjoint -> backward */
    AdjointCtx c = {L, t, (const PetscReal *)xa + lo * L->ncoord, lo, 0};
    PetscCall(AzFieldJetsVJP(L->field, np, c.x, TermAdjoint, &c, grad));
    *sum = c.sum;
  } else {
    for (PetscInt p0 = lo; p0 < lo + np; p0 += L->chunk) {
      const PetscInt   nc = PetscMin(L->chunk, lo + np - p0);
      const PetscReal *x  = (const PetscReal *)xa + p0 * L->ncoord;

      PetscCall(AzLossTermSolution(L, t, p0, nc, x, L->jets));
      PetscCall(TermResiduals(L, t, p0, nc, x, NULL));
      for (PetscInt i = 0; i < nc * t->nres; i++) *sum += L->r[i] * L->r[i];
    }
  }
  PetscCall(VecRestoreArrayRead(t->x, &xa));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* the terms (all, or term `only`) of one group: sums in extra[k] */
typedef struct {
  PetscInt only;
} EvalCtx;

static PetscErrorCode EvaluateGroup(AzLoss L, PetscInt g, Vec grad, PetscScalar extra[], void *ptr)
{
  EvalCtx *c = (EvalCtx *)ptr;

  PetscFunctionBegin;
  for (PetscInt k = 0; k < L->nterms; k++) {
    PetscReal s;
    if (c->only >= 0 && k != c->only) continue;
    PetscCall(TermGroupEvaluate(L, &L->term[k], g, &s, grad));
    extra[k] = s;
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzLossTermGradient(AzLoss L, PetscInt k, Vec g)
{
  AzTerm     *t = &L->term[k];
  PetscReal   w = t->w;
  PetscScalar sums[AZ_MAX_TERMS];
  EvalCtx     c = {k};

  PetscFunctionBegin;
  t->w = 1;
  PetscCall(AzProjectionUpdate(L));
  PetscCall(AzLossReduceGroups(L, EvaluateGroup, &c, L->nterms, sums, g));
  t->w = w;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzLossEvaluate(AzLoss L, PetscReal *value, PetscReal term[], Vec grad)
{
  PetscScalar gsums[AZ_MAX_TERMS];
  EvalCtx     c = {-1};

  PetscFunctionBegin;
  PetscCall(AzLossSetUp(L));
  PetscCall(PetscLogEventBegin(AZ_LOSS_Eval, 0, 0, 0, 0));
  PetscCall(AzProjectionUpdate(L));
  PetscCall(AzLossReduceGroups(L, EvaluateGroup, &c, L->nterms, gsums, grad));
  *value = 0;
  for (PetscInt k = 0; k < L->nterms; k++) {
    const PetscReal mean = PetscRealPart(gsums[k]) / ((PetscReal)L->term[k].n * L->term[k].nres);
    if (term) term[k] = mean;
    *value += L->term[k].w * mean;
  }
  PetscCall(PetscLogEventEnd(AZ_LOSS_Eval, 0, 0, 0, 0));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzLossGetLocalResidualSize(AzLoss L, PetscInt *nrows)
{
  PetscFunctionBegin;
  PetscCall(AzLossSetUp(L));
  *nrows = 0;
  for (PetscInt k = 0; k < L->nterms; k++) {
    PetscInt nloc;
    if (L->term[k].cond == AZ_COND_LAW) {
      PetscCall(AzLawTermLocalRows(L, &nloc));
      *nrows += nloc;
      continue;
    }
    PetscCall(VecGetLocalSize(L->term[k].x, &nloc));
    *nrows += nloc / L->ncoord * L->term[k].nres;
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzLossSetReference(AzLoss L, AzReference ref)
{
  PetscFunctionBegin;
  L->ref = ref;
  /* the first interpolation gathers the snapshots on every rank (collective); later ones are local */
  if (ref) PetscCall(AzReferenceInterpolate(ref, 0, NULL, NULL));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Σ e², Σ u² and max |e| over the points of owned group g of the evaluation grid */
typedef struct {
  const AzProblemInfo *info;
  const PetscReal     *param;
  PetscReal            lo[AZ_MAX_COORD], hi[AZ_MAX_COORD], max;
  PetscInt             total;
} ErrorCtx;

static PetscErrorCode ErrorGroup(AzLoss L, PetscInt g, Vec grad, PetscScalar s[], void *ptr)
{
  ErrorCtx      *c    = (ErrorCtx *)ptr;
  const PetscInt Ljet = L->ncomp * L->nslot;
  PetscInt       lo, np;

  PetscFunctionBegin;
  (void)grad;
  AzLossGroupItems(L, c->total, g, &lo, &np);
  lo += AzGroupStart(c->total, L->ngroups, L->g0); /* global index */
  for (PetscInt i0 = lo; i0 < lo + np; i0 += L->chunk) {
    const PetscInt nc = PetscMin(L->chunk, lo + np - i0);
    PetscReal      x[128 * AZ_MAX_COORD], *xs = x;

    if (nc * L->ncoord > 128 * AZ_MAX_COORD) PetscCall(PetscMalloc1(nc * L->ncoord, &xs));
    for (PetscInt p = 0; p < nc; p++) {
      PetscInt64 q = i0 + p;
      for (PetscInt d = 0; d < L->ncoord; d++) {
        xs[p * L->ncoord + d] = c->lo[d] + (c->hi[d] - c->lo[d]) * (PetscReal)(q % L->eval_n) / (L->eval_n - 1);
        q /= L->eval_n;
      }
    }
    PetscCall(AzLossEvaluateSolution(L, nc, xs, L->jets));
    for (PetscInt p = 0; p < nc; p++) {
      PetscScalar ue[AZ_MAX_COMP];
      AzPoint     pt = {xs + p * L->ncoord, L->ncoord, c->param, -1};
      if (c->info->exact) PetscCall(c->info->exact(&pt, ue));
      else PetscCall(AzReferenceInterpolate(L->ref, 1, xs + p * L->ncoord, ue));
      for (PetscInt k = 0; k < L->ncomp; k++) {
        const PetscReal e = PetscAbsScalar(L->jets[p * Ljet + k * L->nslot] - ue[k]);
        s[0] += e * e;
        s[1] += PetscRealPart(ue[k] * ue[k]);
        c->max = PetscMax(c->max, PetscIsInfOrNanReal(e) ? PETSC_MAX_REAL : e);
      }
    }
    if (xs != x) PetscCall(PetscFree(xs));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzLossExactError(AzLoss L, PetscBool *has_exact, PetscReal *rel_l2, PetscReal *max_abs)
{
  ErrorCtx    c;
  PetscInt64  total = 1;
  PetscScalar g[2];

  PetscFunctionBegin;
  PetscCall(AzProblemGetInfo(L->prob, &c.info));
  *has_exact = (c.info->exact || L->ref) ? PETSC_TRUE : PETSC_FALSE;
  *rel_l2 = *max_abs = (PetscReal)NAN;
  if (!*has_exact) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(AzLossSetUp(L));
  PetscCall(AzProblemGetParams(L->prob, &c.param));
  PetscCall(AzProblemGetBox(L->prob, c.lo, c.hi));
  for (PetscInt d = 0; d < L->ncoord; d++) total *= L->eval_n;
  PetscCheck(total <= PETSC_MAX_INT / 2, L->comm, PETSC_ERR_ARG_OUTOFRANGE, "-az_eval_n %" PetscInt_FMT " gives %" PetscInt64_FMT " evaluation points in %" PetscInt_FMT " coordinates: too many", L->eval_n, total, L->ncoord);
  c.total = (PetscInt)total;
  c.max   = 0;
  /* the sums group by group (no projection terms here: ReduceGroups' c̄ stays zero) */
  PetscCall(AzLossReduceGroups(L, ErrorGroup, &c, 2, g, NULL));
  PetscCall(MPIU_Allreduce(MPI_IN_PLACE, &c.max, 1, MPIU_REAL, MPIU_MAX, L->comm)); /* a maximum is exact in any order */
  *rel_l2  = PetscSqrtReal(PetscRealPart(g[0]) / PetscMax(PetscRealPart(g[1]), PETSC_SMALL));
  *max_abs = c.max;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzLossConstraintViolation(AzLoss L, PetscInt n, PetscReal *boundary, PetscReal *initial)
{
  const AzProblemInfo *info;
  const PetscInt       Ljet = L->ncomp * L->nslot;
  PetscReal            v[2] = {0, 0}, g[2];
  PetscBool            faces = PETSC_FALSE; /* any face with a condition */

  PetscFunctionBegin;
  PetscCall(AzLossSetUp(L));
  PetscCall(AzProblemGetInfo(L->prob, &info));
  for (PetscInt cond = 0; cond <= AZ_COND_INITIAL; cond++) {
    Vec                x;
    const PetscScalar *xa;
    PetscInt           nres, nloc;
    const PetscInt     which = cond == AZ_COND_INITIAL ? 1 : 0;

    if (cond >= 2 * info->dim && cond != AZ_COND_INITIAL) continue;
    PetscCall(AzProblemGetNumResiduals(L->prob, cond, &nres));
    if (!nres) continue;
    if (cond != AZ_COND_INITIAL) faces = PETSC_TRUE;
    PetscCall(AzSampleCondition(L->comm, L->prob, cond, AZ_SAMPLE_SOBOL, L->ncoord == 1 ? 1 : n, L->seed + 7919, &x));
    PetscCall(VecGetLocalSize(x, &nloc));
    nloc /= L->ncoord;
    PetscCall(VecGetArrayRead(x, &xa));
    for (PetscInt p = 0; p < nloc; p++) {
      const PetscReal *xp = (const PetscReal *)xa + p * L->ncoord;
      PetscScalar      r[AZ_MAX_RES];
      PetscCall(AzLossEvaluateSolution(L, 1, xp, L->jets));
      PetscCall(AzProblemEvaluateResidual(L->prob, cond, xp, L->jets, r, NULL));
      (void)Ljet;
      for (PetscInt i = 0; i < nres; i++) v[which] = PetscMax(v[which], PetscIsInfOrNanReal(PetscAbsScalar(r[i])) ? PETSC_MAX_REAL : PetscAbsScalar(r[i]));
    }
    PetscCall(VecRestoreArrayRead(x, &xa));
    PetscCall(VecDestroy(&x));
  }
  PetscCall(MPIU_Allreduce(v, g, 2, MPIU_REAL, MPIU_MAX, L->comm));
  *boundary = faces ? g[0] : (PetscReal)NAN;
  *initial  = info->time_dependent ? g[1] : (PetscReal)NAN;
  PetscFunctionReturn(PETSC_SUCCESS);
}
