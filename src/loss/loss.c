/* The loss: residual terms on distributed collocation sets, their gradient and Gauss–Newton pieces. */
#include "lossimpl.h"
#include <cblas.h>

PetscLogEvent AZ_LOSS_Eval, AZ_LOSS_Normal, AZ_LOSS_Fold, AZ_HP_Gather, AZ_HP_Solve, AZ_HP_Share, AZ_HP_Backward;

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
    PetscCall(PetscLogEventRegister("AzHPGather", id, &AZ_HP_Gather)); /* the solved layer: basis + gather */
    PetscCall(PetscLogEventRegister("AzHPSolve", id, &AZ_HP_Solve));   /* an owner's solve in w */
    PetscCall(PetscLogEventRegister("AzHPShare", id, &AZ_HP_Share));   /* w, V, σ² to every rank */
    PetscCall(PetscLogEventRegister("AzHPBackward", id, &AZ_HP_Backward));
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
  L->w_interior = L->w_boundary = L->w_initial = L->w_data = L->w_positive = L->w_bounds = L->w_law = 1;
  for (PetscInt c = 0; c < AZ_MAX_COMP; c++) L->data_sigma[c] = L->data_weight[c] = L->data_scale[c] = 1;
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

/* -az_data_noise and -az_data_weights: one value for every component or one per component */
static PetscErrorCode DataNoiseOptions(AzLoss L, PetscBool sigma_set, PetscInt nsigma, const PetscReal sigma[], PetscBool weight_set, PetscInt nweight, const PetscReal weight[])
{
  PetscBool any = PETSC_FALSE;

  PetscFunctionBegin;
  PetscCheck(L->data_file[0] || !(sigma_set || weight_set), L->comm, PETSC_ERR_ARG_WRONG, "%s given without -az_data: the noise model and the weights are those of the observations -az_data reads", sigma_set ? "-az_data_noise" : "-az_data_weights");
  if (sigma_set) {
    PetscCheck(nsigma == 1 || nsigma == L->ncomp, L->comm, PETSC_ERR_ARG_SIZ, "-az_data_noise: %s%" PetscInt_FMT " value(s) given; allowed: one sigma for every component, or one per component (%" PetscInt_FMT ")", nsigma > AZ_MAX_COMP ? "more than " : "", PetscMin(nsigma, (PetscInt)AZ_MAX_COMP), L->ncomp);
    for (PetscInt c = 0; c < L->ncomp; c++) {
      const PetscReal s = sigma[nsigma == 1 ? 0 : c];
      PetscCheck(s > 0 && !PetscIsInfOrNanReal(s), L->comm, PETSC_ERR_ARG_OUTOFRANGE, "-az_data_noise: a noise level must be a finite number > 0; component %" PetscInt_FMT " has %g", c, (double)s);
      L->data_sigma[c] = s;
    }
  }
  if (weight_set) {
    PetscCheck(nweight == 1 || nweight == L->ncomp, L->comm, PETSC_ERR_ARG_SIZ, "-az_data_weights: %s%" PetscInt_FMT " value(s) given; allowed: one weight for every component, or one per component (%" PetscInt_FMT ")", nweight > AZ_MAX_COMP ? "more than " : "", PetscMin(nweight, (PetscInt)AZ_MAX_COMP), L->ncomp);
    for (PetscInt c = 0; c < L->ncomp; c++) {
      const PetscReal w = weight[nweight == 1 ? 0 : c];
      PetscCheck(w >= 0 && !PetscIsInfOrNanReal(w), L->comm, PETSC_ERR_ARG_OUTOFRANGE, "-az_data_weights: a weight must be a finite number >= 0; component %" PetscInt_FMT " has %g", c, (double)w);
      L->data_weight[c] = w;
      any               = any || w > 0;
    }
    PetscCheck(any, L->comm, PETSC_ERR_ARG_OUTOFRANGE, "-az_data_weights: every weight is 0; at least one component must have a weight > 0 (or leave -az_data out)");
  }
  for (PetscInt c = 0; c < L->ncomp; c++) L->data_scale[c] = PetscSqrtReal(L->data_weight[c]) / L->data_sigma[c];
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzLossGetData(AzLoss L, const char **file, PetscInt *nobs, const PetscReal *sigma[], const PetscReal *weight[])
{
  PetscFunctionBegin;
  if (file) *file = L->data_file[0] ? L->data_file : NULL;
  if (nobs) *nobs = L->data_n;
  if (sigma) *sigma = L->data_sigma;
  if (weight) *weight = L->data_weight;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzLossSetFromOptions(AzLoss L)
{
  PetscInt  seed       = (PetscInt)L->seed, nsigma, nweight;
  PetscBool slices_set = PETSC_FALSE, sigma_set = PETSC_FALSE, weight_set = PETSC_FALSE;
  PetscReal sigma[AZ_MAX_COMP + 1], weight[AZ_MAX_COMP + 1]; /* room for one value too many: PETSc drops the rest silently */

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
  PetscCall(PetscOptionsString("-az_data", "observations: CSV file, one point per line: coordinates (x[,y[,z]][,t]) then the components; or HDF5 (a name ending in .h5) with datasets /coords (n x ncoord) and /values (n x ncomp)", "AzLossSetUp", L->data_file, L->data_file, sizeof L->data_file, NULL));
  nsigma = AZ_MAX_COMP + 1;
  PetscCall(PetscOptionsRealArray("-az_data_noise", "noise level of the observations: one sigma > 0, or one per component (s1,s2,...); the data residual is (u_c - obs_c)/sigma_c", "AzLossGetData", sigma, &nsigma, &sigma_set));
  nweight = AZ_MAX_COMP + 1;
  PetscCall(PetscOptionsRealArray("-az_data_weights", "weights of the components in the data term: one w >= 0, or one per component (w1,w2,...), not all 0; each multiplies its squared residual", "AzLossGetData", weight, &nweight, &weight_set));
  PetscCall(PetscOptionsReal("-az_weight_data", "weight of the data term", "AzLossSetWeight", L->w_data, &L->w_data, NULL));
  PetscCall(PetscOptionsReal("-az_weight_conservation", "weight of each conservation-law penalty (where a schedule starts)", "AzLossSetWeight", L->w_law, &L->w_law, NULL));
  PetscCall(PetscOptionsReal("-az_weight_positivity", "weight of the positivity penalty (where a schedule starts)", "AzLossSetWeight", L->w_positive, &L->w_positive, NULL));
  PetscCall(PetscOptionsInt("-az_eval_n", "evaluation grid points per axis, for errors", "AzLossExactError", L->eval_n, &L->eval_n, NULL));
  PetscCall(PetscOptionsInt("-az_loss_chunk", "points per chunk in loss evaluation", "AzLossEvaluate", L->chunk, &L->chunk, NULL));
  PetscCall(PetscOptionsInt("-az_loss_groups", "fixed groups of points whose partial sums are added in order, so that results do not depend on the rank count (up to this many ranks; more ranks hold no points)", "AzLossEvaluate", L->ngroups, &L->ngroups, NULL));
  PetscCall(PetscOptionsEnum("-az_conservation", "how the problem's conservation laws are enforced", "AzLossSetUp", AzConservationTypes, (PetscEnum)L->conservation, (PetscEnum *)&L->conservation, NULL));
  PetscCall(PetscOptionsEnum("-az_positivity", "how positive components are kept positive", "AzLossSetUp", AzPositivityTypes, (PetscEnum)L->positivity, (PetscEnum *)&L->positivity, NULL));
  PetscCall(PetscOptionsEnum("-az_bounds", "how bounded components (.bounded: a <= u <= b) are kept in their bounds", "AzLossSetUp", AzPositivityTypes, (PetscEnum)L->bounds, (PetscEnum *)&L->bounds, NULL));
  PetscCall(PetscOptionsReal("-az_weight_bounds", "weight of the bounds penalty (where a schedule starts)", "AzLossSetWeight", L->w_bounds, &L->w_bounds, NULL));
  for (PetscInt i = 0; i < L->nlaw_names; i++) PetscCall(PetscFree(L->law_names[i]));
  L->nlaw_names = AZ_MAX_LAWS;
  PetscCall(PetscOptionsStringArray("-az_conservation_laws", "the laws -az_conservation applies to, by name (default: all; -az_conservation_NAME sets one law's)", "AzLossSetUp", L->law_names, &L->nlaw_names, NULL));
  PetscCall(PetscOptionsInt("-az_project_nodes", "quadrature nodes per spatial axis of the projection onto conservation laws", "AzLossSetUp", L->project_nodes, &L->project_nodes, NULL));
  PetscCall(PetscOptionsInt("-az_drift_nodes", "quadrature nodes per axis that measure conservation drift (0: 1024 in 1-D, 128 in 2-D, 32 in 3-D)", "AzLossConservationDrift", L->drift_nodes, &L->drift_nodes, NULL));
  PetscCall(PetscOptionsInt("-az_time_slices", "put the collocation points' times on N slices (0: continuous; 100 by default when a law is projected in training or penalised)", "AzLossSetUp", L->time_slices, &L->time_slices, &slices_set));
  PetscOptionsEnd();
  PetscCall(AzLossConstraintOptions(L));
  PetscCall(AzCausalOptions(L));
  PetscCall(AzInferOptions(L));
  PetscCall(AzHardPDEOptions(L));
  L->seed = seed;
  PetscCheck(L->n_interior >= 1 && L->n_boundary >= 1 && L->n_initial >= 1, L->comm, PETSC_ERR_ARG_OUTOFRANGE, "Collocation counts must be at least 1 (-az_n_interior %" PetscInt_FMT ", -az_n_boundary %" PetscInt_FMT ", -az_n_initial %" PetscInt_FMT ")", L->n_interior, L->n_boundary, L->n_initial);
  PetscCheck(L->w_interior >= 0 && L->w_boundary >= 0 && L->w_initial >= 0 && L->w_data >= 0 && L->w_law >= 0 && L->w_positive >= 0 && L->w_bounds >= 0, L->comm, PETSC_ERR_ARG_OUTOFRANGE, "Term weights must be non-negative (-az_weight_interior, _boundary, _initial, _data, _conservation, _positivity, _bounds)");
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
  PetscCall(DataNoiseOptions(L, sigma_set, nsigma, sigma, weight_set, nweight, weight));
  PetscCall(AzConservationOptions(L));
  PetscCall(AzResampleOptions(L)); /* its defaults follow -az_n_interior */
  {
    PetscBool slices = PETSC_FALSE; /* the projection in training and the penalties work slice by slice */
    for (PetscInt l = 0; l < AZ_MAX_LAWS; l++) slices = slices || L->law_mode[l] == AZ_CONSERVE_PROJECT || AzConservationIsPenalty(L->law_mode[l]);
    if (!slices_set && slices) L->time_slices = 100;
  }
  PetscCall(AzStreamDestroy(&L->stream));
  PetscCall(AzStreamCreateFromOptions(L->prob, L->prefix, &L->stream));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzLossSetUp(AzLoss L)
{
  AzJetRequest req;
  PetscInt     nrmax = 1;

  PetscFunctionBegin;
  if (L->setup) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(AzFieldGetNumParameters(L->field, &L->nparam));
  PetscCall(AzProblemGetJetRequest(L->prob, &req));
  PetscCall(AzJetRequestClose(&req));
  L->mask = req.mask;
  PetscCall(AzLossGroupsSetUp(L));
  /* before the transform, which would refuse a problem without a lift first */
  PetscCheck(L->bounds != AZ_POSITIVE_HARD || !(L->hard_boundary || L->hard_initial), L->comm, PETSC_ERR_ARG_WRONG, "-az_bounds hard (u = a + (b - a) sigmoid(N)) and hard boundary or initial conditions (u = g + phi N) cannot both be exact: choose one, the other soft");
  if (L->hard_boundary || L->hard_initial) PetscCall(AzTransformCreateFaces(L->prob, L->hard_face, L->hard_initial, &L->transform));
  PetscCall(AzInferSetUp(L)); /* inferred parameters: θ gains their unknowns */
  PetscCall(AzFieldGetNumParameters(L->field, &L->nparam));
  L->nterms = 0;
  PetscCall(AzPointTermsAdd(L));
  PetscCall(AzCausalSetUp(L)); /* the PDE term's points on causal time slices */
  PetscCall(AzProjectionSetUp(L)); /* the laws' quadrature and time slices (after the point terms) */
  PetscCall(AzHardPDECheck(L)); /* before the stream function's own check of the network */
  L->ncompN = L->ncomp;
  if (L->stream) {
    PetscInt  nf, ns;
    PetscBool laws = PETSC_FALSE;
    for (PetscInt l = 0; l < AZ_MAX_LAWS; l++) laws = laws || L->law_mode[l] != AZ_CONSERVE_NONE;
    PetscCheck(!L->transform && L->positivity != AZ_POSITIVE_HARD && L->bounds != AZ_POSITIVE_HARD && !laws, L->comm, PETSC_ERR_ARG_WRONG, "-az_divfree (a stream function) does not combine with hard boundary or initial conditions, -az_positivity hard, -az_bounds hard or -az_conservation here: use soft conditions with it");
    PetscCall(AzStreamGetNetwork(L->stream, &L->ncompN, NULL));
    PetscCall(AzFieldGetJetSize(L->field, &nf, &ns));
    PetscCheck(nf == L->ncompN, L->comm, PETSC_ERR_ARG_INCOMP, "-az_divfree: the field has %" PetscInt_FMT " outputs but a stream function needs %" PetscInt_FMT " (psi and the other components): create the field after setting the option (AzRunCreateField)", nf, L->ncompN);
  }
  if (L->hardpde) { /* a solved output layer: the network gives K basis functions per component */
    PetscInt nf, ns;
    L->ncompN = L->ncomp * L->hardpde_K;
    PetscCall(AzFieldGetJetSize(L->field, &nf, &ns));
    PetscCheck(nf == L->ncompN, L->comm, PETSC_ERR_ARG_INCOMP, "-az_hardpde: the field has %" PetscInt_FMT " outputs but the solved output layer needs %" PetscInt_FMT " (-az_hardpde_basis %" PetscInt_FMT " per component): create the field after setting the options (AzRunCreateField)", nf, L->ncompN, L->hardpde_K);
  }
  PetscCall(AzChainCreate(L, &L->chain));
  PetscCall(AzProbConservCheck(L)); /* before training: what its update after training needs */
  PetscCall(AzLawTermsAdd(L));
  PetscCall(AzResampleCheck(L));
  for (PetscInt k = 0; k < L->nterms; k++) nrmax = PetscMax(nrmax, L->term[k].nres);
  {
    const PetscInt Ljet = L->ncomp * L->nslot, R = AzChainSideSize(L->chain);
    L->LjetN            = L->ncompN * L->nslot;
    PetscCall(PetscMalloc3(L->chunk * Ljet, &L->jets, L->chunk * nrmax * Ljet, &L->D, L->chunk * nrmax, &L->r));
    PetscCall(PetscMalloc2((size_t)L->chunk * nrmax * L->LjetN, &L->nD, (size_t)L->chunk * nrmax * PetscMax(R, 1), &L->E));
    if (L->ninfer) PetscCall(PetscMalloc1((size_t)nrmax * L->ninfer, &L->Pd));
  }
  L->setup = PETSC_TRUE;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzLossDestroy(AzLoss *loss)
{
  AzLoss L;

  PetscFunctionBegin;
  if (!*loss) PetscFunctionReturn(PETSC_SUCCESS);
  L = *loss;
  for (PetscInt k = 0; k < L->nterms; k++) PetscCall(L->term[k].ops->destroy(&L->term[k]));
  PetscCall(AzChainDestroy(&L->chain));
  PetscCall(AzProjectionDestroy(L));
  PetscCall(AzCausalDestroy(L));
  PetscCall(AzInferDestroy(L));
  for (PetscInt i = 0; i < L->nlaw_names; i++) PetscCall(PetscFree(L->law_names[i]));
  PetscCall(PetscFree3(L->jets, L->D, L->r));
  PetscCall(PetscFree(L->Jrows));
  PetscCall(PetscFree2(L->nD, L->E));
  PetscCall(AzTransformDestroy(&L->transform));
  PetscCall(AzStreamDestroy(&L->stream));
  PetscCall(PetscFree(L->prefix));
  PetscCall(PetscFree(*loss));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzLossView(AzLoss L, PetscViewer viewer)
{
  PetscFunctionBegin;
  if (!viewer) viewer = PETSC_VIEWER_STDOUT_(L->comm);
  PetscCall(PetscViewerASCIIPrintf(viewer, "loss: %" PetscInt_FMT " terms, %s points, seed %" PetscInt64_FMT "\n", L->nterms, AzSampleTypes[L->type], L->seed));
  PetscCall(PetscViewerASCIIPushTab(viewer));
  for (PetscInt k = 0; k < L->nterms; k++) PetscCall(PetscViewerASCIIPrintf(viewer, "%-8s %6" PetscInt_FMT " %s x %" PetscInt_FMT " residual(s), weight %g\n", L->term[k].name, L->term[k].n, L->term[k].ops->kind, L->term[k].nres, (double)L->term[k].w));
  if (L->causal) {
    PetscCall(PetscViewerASCIIPrintf(viewer, "causal training: %" PetscInt_FMT " time slices, eps", L->causal_m));
    for (PetscInt k = 0; k < L->causal_neps; k++) PetscCall(PetscViewerASCIIPrintf(viewer, "%s%g", k ? "," : " ", (double)L->causal_eps[k]));
    PetscCall(PetscViewerASCIIPrintf(viewer, " (the next when min w > %g)\n", (double)L->causal_delta));
  }
  if (L->ninfer) {
    char   line[2048];
    size_t off = (size_t)snprintf(line, sizeof line, "inferred parameters (unknowns after the network's %" PetscInt_FMT "):", L->nnet);
    for (PetscInt k = 0; k < L->ninfer && off < sizeof line; k++) {
      off += (size_t)snprintf(line + off, sizeof line - off, "%s %s (initial %g%s", k ? "," : "", L->infer_names[k], (double)L->infer_init[k], L->infer_log[k] ? ", learned as log" : "");
      if (L->infer_bounded[k] && off < sizeof line) off += (size_t)snprintf(line + off, sizeof line - off, ", in [%g, %g]", (double)L->infer_lo[k], (double)L->infer_hi[k]);
      if (off < sizeof line) off += (size_t)snprintf(line + off, sizeof line - off, ")");
    }
    PetscCall(PetscViewerASCIIPrintf(viewer, "%s\n", line));
  }
  if (L->resample == AZ_RESAMPLE_RARD) PetscCall(PetscViewerASCIIPrintf(viewer, "resampling: rard every %" PetscInt_FMT " iterations, %" PetscInt_FMT " points added from a pool of %" PetscInt_FMT " up to %" PetscInt_FMT ", density |r|^%g/mean + %g\n", L->rs_every, L->rs_add, L->rs_pool, L->rs_max, (double)L->rs_k, (double)L->rs_c));
  if (L->resample == AZ_RESAMPLE_RAD) PetscCall(PetscViewerASCIIPrintf(viewer, "resampling: rad every %" PetscInt_FMT " iterations, the set drawn from a pool of %" PetscInt_FMT ", density |r|^%g/mean + %g\n", L->rs_every, L->rs_pool, (double)L->rs_k, (double)L->rs_c));
  if (L->resample == AZ_RESAMPLE_R3) PetscCall(PetscViewerASCIIPrintf(viewer, "resampling: r3 every %" PetscInt_FMT " iterations (retain |r| above the mean, release and resample the rest)\n", L->rs_every));
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
  AzChainArgs a = {npts, x, NULL, 0, 0, PETSC_FALSE, PETSC_FALSE, PETSC_FALSE};

  PetscFunctionBegin;
  PetscCall(AzLossSetUp(L));
  PetscCall(AzInferSync(L));
  a.mask = L->mask;
  PetscCall(AzChainForward(L->chain, -1, &a, NULL, jets));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* the terms of one group: sums in extra[k], the gradient with the terms' weights */
static PetscErrorCode EvaluateGroup(AzLoss L, PetscInt g, Vec grad, PetscScalar extra[], void *ptr)
{
  PetscFunctionBegin;
  (void)ptr;
  for (PetscInt k = 0; k < L->nterms; k++) {
    AzTerm   *t = &L->term[k];
    PetscReal s;
    PetscCall(t->ops->evaluate(L, t, g, t->w, &s, grad));
    extra[k] = s;
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* ---- the strategies' entry points (strategy.c holds the work) ---- */
PetscErrorCode AzLossTermGradient(AzLoss L, PetscInt k, Vec g)
{
  PetscFunctionBegin;
  PetscCall(AzLossSetUp(L));
  PetscCall(AzInferSync(L));
  PetscCheck(k >= 0 && k < L->nterms, L->comm, PETSC_ERR_ARG_OUTOFRANGE, "Term %" PetscInt_FMT " outside 0..%" PetscInt_FMT, k, L->nterms - 1);
  PetscCall(AzStrategyTermGradient(L, k, g));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzLossUpdateConstraints(AzLoss L, PetscInt it, PetscInt total)
{
  PetscFunctionBegin;
  PetscCall(AzLossSetUp(L));
  PetscCall(AzInferSync(L));
  PetscCall(AzStrategyUpdate(L, it, total));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzLossConstraintsChange(AzLoss L, PetscBool *changes)
{
  PetscFunctionBegin;
  PetscCall(AzLossSetUp(L));
  PetscCall(AzStrategyChanges(L, changes));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzLossGetNumConservationLaws(AzLoss L, PetscInt *nlaws)
{
  PetscFunctionBegin;
  PetscCall(AzStrategyNumLaws(L, nlaws));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzLossGetConditionStrategy(AzLoss L, PetscInt cond, const char **strategy)
{
  PetscFunctionBegin;
  PetscCall(AzLossSetUp(L));
  PetscCall(AzStrategyCondition(L, cond, strategy));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzLossGetLawStrategy(AzLoss L, PetscInt law, const char **strategy)
{
  PetscFunctionBegin;
  PetscCall(AzLossSetUp(L));
  PetscCall(AzStrategyLaw(L, law, strategy));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzLossGetPositivityStrategy(AzLoss L, const char **strategy)
{
  PetscFunctionBegin;
  PetscCall(AzLossSetUp(L));
  PetscCall(AzStrategyPositivity(L, strategy));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzLossGetBoundsStrategy(AzLoss L, const char **strategy)
{
  PetscFunctionBegin;
  PetscCall(AzLossSetUp(L));
  PetscCall(AzStrategyBounds(L, strategy));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzLossEvaluate(AzLoss L, PetscReal *value, PetscReal term[], Vec grad)
{
  PetscScalar gsums[AZ_MAX_TERMS];

  PetscFunctionBegin;
  PetscCall(AzLossSetUp(L));
  PetscCall(PetscLogEventBegin(AZ_LOSS_Eval, 0, 0, 0, 0));
  PetscCall(AzChainUpdate(L->chain));
  PetscCall(AzLossReduceGroups(L, EvaluateGroup, NULL, L->nterms, gsums, grad));
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
    PetscCall(L->term[k].ops->local_rows(L, &L->term[k], &nloc));
    *nrows += nloc;
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}
