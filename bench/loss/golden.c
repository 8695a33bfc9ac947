/* bench/loss/golden: every number the loss computes, for one problem and one strategy, at a fixed θ,
 * printed in full (%.17e), so that two builds of the library can be compared number by number
 * (bench/loss/golden.sh: the loss redesign against the build before it).
 *
 * Set up as `ansatz train` does (src/run/train.c): -problem NAME, the problem's options, the field
 * from AzRunCreateField (a stream function under -az_divfree has one output fewer), the loss from
 * the -az_ options. θ is the field's own initial θ (its seed). Then the constraint strategies are
 * advanced as a trainer would, AzLossUpdateConstraints(it, -golden_total) for it = 0 .. -golden_updates − 1,
 * with θ moved by a fixed deterministic step after each (so multipliers, adaptive weights and
 * schedules hold state that depends on θ), and at the final θ it prints:
 *   the terms, their strategies and weights; the constraint state (weights, penalties, multipliers);
 *   the loss, each term's mean and ∇loss (AzLossEvaluate); ‖ρ‖² (AzLossLinearize), Jᵀρ
 *   (AzLossGNGradient), JᵀJ v for a fixed v (AzLossGNMult); the dense JᵀJ, Jᵀρ and ‖ρ‖²
 *   (AzLossNormalEquations) when θ has at most -golden_dense_max (400) parameters; ρ and J c for a
 *   fixed c, row by row as each rank owns them (AzLossResidualJacobian); the solution's jets at fixed
 *   points (AzLossEvaluateSolution); the errors (AzLossExactError), the constraint violation
 *   (AzLossConstraintViolation) and the conservation drift and series (AzLossConservationDrift/Series).
 * Every line is "GROUP VALUE" (a number) or "info ..." (text that must match exactly). A strategy the
 * loss refuses (as `ansatz compare` would) prints one line "SKIP reason" and exits 0.
 * Only public API that existed before the redesign (commit ef278f4), so the same source builds
 * against both libraries.
 *   bench/loss/golden -problem heat1d -az_constraint auglag -az_auglag_every 1 [-golden_updates 4]
 */
#include <ansatz.h>

static PetscErrorCode Num(MPI_Comm comm, const char group[], PetscReal v)
{
  PetscFunctionBegin;
  PetscCall(PetscPrintf(comm, "%s %.17e\n", group, (double)v));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* n numbers the same on every rank: rank 0 prints them */
static PetscErrorCode Nums(MPI_Comm comm, const char group[], PetscInt n, const PetscScalar v[])
{
  PetscFunctionBegin;
  for (PetscInt i = 0; i < n; i++) PetscCall(Num(comm, group, PetscRealPart(v[i])));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode VecNums(MPI_Comm comm, const char group[], Vec v)
{
  const PetscScalar *a;
  PetscInt           n;

  PetscFunctionBegin;
  PetscCall(VecGetLocalSize(v, &n));
  PetscCall(VecGetArrayRead(v, &a));
  PetscCall(Nums(comm, group, n, a));
  PetscCall(VecRestoreArrayRead(v, &a));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* a fixed, deterministic vector: v_k = cos(a k + b) */
static PetscErrorCode FixedVec(Vec v, PetscReal a, PetscReal b)
{
  PetscScalar *x;
  PetscInt     n;

  PetscFunctionBegin;
  PetscCall(VecGetLocalSize(v, &n));
  PetscCall(VecGetArray(v, &x));
  for (PetscInt k = 0; k < n; k++) x[k] = PetscCosReal(a * k + b);
  PetscCall(VecRestoreArray(v, &x));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* the strategies and weights as set up, and the loss; after each update */
static PetscErrorCode PrintWeights(MPI_Comm comm, AzLoss loss, const char group[])
{
  PetscInt nterms;

  PetscFunctionBegin;
  PetscCall(AzLossGetNumTerms(loss, &nterms));
  for (PetscInt k = 0; k < nterms; k++) {
    PetscReal w;
    PetscCall(AzLossGetWeight(loss, k, &w));
    PetscCall(Num(comm, group, w));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode PrintStrategies(MPI_Comm comm, AzProblem prob, AzLoss loss)
{
  const AzProblemInfo *info;
  PetscInt             nterms, nlaws;
  const char          *how;

  PetscFunctionBegin;
  PetscCall(AzProblemGetInfo(prob, &info));
  PetscCall(AzLossGetNumTerms(loss, &nterms));
  PetscCall(AzLossGetNumConservationLaws(loss, &nlaws));
  PetscCall(PetscPrintf(comm, "info problem %s, %" PetscInt_FMT " terms:", info->name, nterms));
  for (PetscInt k = 0; k < nterms; k++) {
    const char *name;
    PetscCall(AzLossGetTermName(loss, k, &name));
    PetscCall(PetscPrintf(comm, " %s", name));
  }
  PetscCall(PetscPrintf(comm, "\ninfo strategies:"));
  for (PetscInt face = 0; face < 2 * info->dim; face++) {
    PetscCall(AzLossGetConditionStrategy(loss, face, &how));
    PetscCall(PetscPrintf(comm, " face%" PetscInt_FMT "=%s", face, how));
  }
  PetscCall(AzLossGetConditionStrategy(loss, AZ_COND_INITIAL, &how));
  PetscCall(PetscPrintf(comm, " initial=%s", how));
  for (PetscInt l = 0; l < nlaws; l++) {
    PetscCall(AzLossGetLawStrategy(loss, l, &how));
    PetscCall(PetscPrintf(comm, " law_%s=%s", info->conservation[l].name, how));
  }
  PetscCall(AzLossGetPositivityStrategy(loss, &how));
  PetscCall(PetscPrintf(comm, " positivity=%s\n", how));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* θ ← θ + s·sin(0.7 k + it + 1): a fixed step, so biases and multipliers are not at their initial values */
static PetscErrorCode Step(AzField field, PetscInt it, PetscReal s)
{
  Vec          theta;
  PetscScalar *x;
  PetscInt     n;

  PetscFunctionBegin;
  PetscCall(AzFieldGetParameters(field, &theta));
  PetscCall(VecGetLocalSize(theta, &n));
  PetscCall(VecGetArray(theta, &x));
  for (PetscInt k = 0; k < n; k++) x[k] += s * PetscSinReal(0.7 * k + it + 1);
  PetscCall(VecRestoreArray(theta, &x));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* field and loss as `ansatz train` builds them; errors come back to the caller (a refused strategy) */
static PetscErrorCode SetUp(MPI_Comm comm, AzProblem *prob, AzField *field, AzLoss *loss)
{
  char name[PETSC_MAX_PATH_LEN] = "poisson2d";

  PetscFunctionBegin;
  PetscCall(PetscOptionsGetString(NULL, NULL, "-problem", name, sizeof name, NULL));
  PetscCall(AzProblemLoad(comm, name, prob));
  PetscCall(AzProblemSetFromOptions(*prob));
  PetscCall(AzRunCreateField(*prob, field));
  PetscCall(AzLossCreate(*prob, *field, loss));
  PetscCall(AzLossSetFromOptions(*loss));
  PetscCall(AzLossSetUp(*loss));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode Golden(MPI_Comm comm)
{
  AzProblem            prob  = NULL;
  AzField              field = NULL;
  AzLoss               loss  = NULL;
  const AzProblemInfo *info;
  PetscErrorCode       ierr;
  PetscInt             updates = 4, total = 10, dense_max = 400, nparam, nterms, ncoord, nrows, nlaws;
  PetscReal            step = 0.05, f, term[AZ_MAX_TERMS], lo[AZ_MAX_COORD], hi[AZ_MAX_COORD];
  PetscMPIInt          rank;
  Vec                  theta, g, v, w;

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  PetscCall(PetscOptionsGetInt(NULL, NULL, "-golden_updates", &updates, NULL));
  PetscCall(PetscOptionsGetInt(NULL, NULL, "-golden_total", &total, NULL));
  PetscCall(PetscOptionsGetInt(NULL, NULL, "-golden_dense_max", &dense_max, NULL));
  PetscCall(PetscOptionsGetReal(NULL, NULL, "-golden_step", &step, NULL));
  PetscCheck(updates >= 0 && total >= 1, comm, PETSC_ERR_ARG_OUTOFRANGE, "-golden_updates must be >= 0 and -golden_total >= 1");

  /* a strategy the problem cannot take is refused here, as `ansatz compare` refuses it */
  PetscCall(PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
  ierr = SetUp(comm, &prob, &field, &loss);
  PetscCall(PetscPopErrorHandler());
  if (ierr) {
    const char *text;
    char       *specific = NULL;
    PetscCall(PetscErrorMessage(ierr, &text, &specific));
    PetscCall(PetscPrintf(comm, "SKIP %s\n", specific && specific[0] ? specific : (text ? text : "refused")));
    PetscCall(AzLossDestroy(&loss));
    PetscCall(AzFieldDestroy(&field));
    PetscCall(AzProblemDestroy(&prob));
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  PetscCall(AzOptionsCheckpoint(comm, PETSC_TRUE)); /* a misspelled -az_ option is an error, not a silent default */
  PetscCall(AzProblemGetInfo(prob, &info));
  PetscCall(AzProblemGetNumCoords(prob, &ncoord));
  PetscCall(AzProblemGetBox(prob, lo, hi));
  PetscCall(AzFieldGetNumParameters(field, &nparam));
  PetscCall(AzLossGetNumTerms(loss, &nterms));
  PetscCall(AzLossGetNumConservationLaws(loss, &nlaws));
  PetscCall(PrintStrategies(comm, prob, loss));
  PetscCall(PetscPrintf(comm, "info parameters %" PetscInt_FMT "\n", nparam));
  PetscCall(AzFieldGetParameters(field, &theta));
  PetscCall(VecDuplicate(theta, &g));
  PetscCall(VecDuplicate(theta, &v));
  PetscCall(VecDuplicate(theta, &w));
  PetscCall(VecNums(comm, "theta0", theta));

  /* the initial θ, before any update */
  PetscCall(PrintWeights(comm, loss, "weight0"));
  PetscCall(AzLossEvaluate(loss, &f, term, g));
  PetscCall(Num(comm, "loss0", f));
  for (PetscInt k = 0; k < nterms; k++) PetscCall(Num(comm, "term0", term[k]));
  PetscCall(VecNums(comm, "grad0", g));

  /* the strategies advanced as a trainer advances them, θ moving between updates */
  for (PetscInt it = 0; it < updates; it++) {
    PetscCall(AzLossUpdateConstraints(loss, it, total));
    PetscCall(PrintWeights(comm, loss, "weight_it"));
    PetscCall(AzLossEvaluate(loss, &f, NULL, NULL));
    PetscCall(Num(comm, "loss_it", f));
    if (it + 1 < updates) PetscCall(Step(field, it, step));
  }
  {
    Vec state;
    PetscCall(AzLossConstraintStateSave(loss, &state)); /* on rank 0 only */
    if (rank == 0) PetscCall(VecNums(PETSC_COMM_SELF, "cstate", state));
    PetscCall(VecDestroy(&state));
  }

  /* loss, terms, gradient */
  PetscCall(AzLossEvaluate(loss, &f, term, g));
  PetscCall(Num(comm, "loss", f));
  for (PetscInt k = 0; k < nterms; k++) PetscCall(Num(comm, "term", term[k]));
  PetscCall(VecNums(comm, "grad", g));

  /* matrix-free Gauss–Newton */
  PetscCall(AzLossLinearize(loss, &f));
  PetscCall(Num(comm, "rho2", f));
  PetscCall(AzLossGNGradient(loss, g));
  PetscCall(VecNums(comm, "Jtrho", g));
  PetscCall(FixedVec(v, 0.37, 0.1));
  PetscCall(AzLossGNMult(loss, v, w));
  PetscCall(VecNums(comm, "JtJv", w));

  /* dense Gauss–Newton */
  if (nparam <= dense_max) {
    PetscScalar *JtJ, *Jtr;
    PetscCall(PetscMalloc2((size_t)nparam * nparam, &JtJ, nparam, &Jtr));
    PetscCall(AzLossNormalEquations(loss, JtJ, Jtr, &f, term));
    PetscCall(Num(comm, "normal_value", f));
    for (PetscInt k = 0; k < nterms; k++) PetscCall(Num(comm, "normal_term", term[k]));
    PetscCall(Nums(comm, "normal_Jtr", nparam, Jtr));
    PetscCall(Nums(comm, "normal_JtJ", nparam * nparam, JtJ));
    PetscCall(PetscFree2(JtJ, Jtr));
  } else PetscCall(PetscPrintf(comm, "info normal equations left out: %" PetscInt_FMT " parameters > -golden_dense_max %" PetscInt_FMT "\n", nparam, dense_max));

  /* the rows of ρ and J this rank owns, J by J c for a fixed c, rank by rank */
  PetscCall(AzLossGetLocalResidualSize(loss, &nrows));
  {
    PetscScalar       *rho, *J;
    const PetscScalar *c;
    PetscCall(PetscMalloc2(PetscMax(nrows, 1), &rho, (size_t)PetscMax(nrows, 1) * nparam, &J));
    PetscCall(AzLossResidualJacobian(loss, rho, J));
    PetscCall(FixedVec(v, 0.53, 0.2));
    PetscCall(VecGetArrayRead(v, &c));
    PetscCall(PetscSynchronizedPrintf(comm, "info rank %d owns %" PetscInt_FMT " rows\n", (int)rank, nrows));
    for (PetscInt i = 0; i < nrows; i++) PetscCall(PetscSynchronizedPrintf(comm, "rho %.17e\n", (double)PetscRealPart(rho[i])));
    for (PetscInt i = 0; i < nrows; i++) {
      PetscScalar Jc = 0;
      for (PetscInt j = 0; j < nparam; j++) Jc += J[(size_t)i * nparam + j] * c[j];
      PetscCall(PetscSynchronizedPrintf(comm, "Jc %.17e\n", (double)PetscRealPart(Jc)));
    }
    PetscCall(PetscSynchronizedFlush(comm, PETSC_STDOUT));
    PetscCall(VecRestoreArrayRead(v, &c));
    PetscCall(PetscFree2(rho, J));
  }

  /* the solution (through stream function, transform, softplus, projection) at fixed points: the
   * slots the problem reads */
  {
    const PetscInt nslot = AZ_JET_NSLOT(ncoord), npts = 7;
    AzJetRequest   req;
    PetscReal      x[7 * AZ_MAX_COORD];
    PetscScalar   *jets;
    PetscCall(AzProblemGetJetRequest(prob, &req));
    PetscCall(AzJetRequestClose(&req));
    for (PetscInt p = 0; p < npts; p++)
      for (PetscInt d = 0; d < ncoord; d++) {
        PetscReal s = PetscFmodReal(0.1 + 0.6180339887498949 * (p + 1) * (d + 1) + 0.4142135623730951 * d, 1.0);
        x[p * ncoord + d] = lo[d] + (hi[d] - lo[d]) * s;
      }
    PetscCall(PetscMalloc1((size_t)npts * info->ncomp * nslot, &jets));
    PetscCall(AzLossEvaluateSolution(loss, npts, x, jets));
    for (PetscInt p = 0; p < npts; p++)
      for (PetscInt c = 0; c < info->ncomp; c++)
        for (PetscInt s = 0; s < nslot; s++)
          if (req.mask & ((PetscInt)1 << s)) PetscCall(Num(comm, "solution", PetscRealPart(jets[(p * info->ncomp + c) * nslot + s])));
    PetscCall(PetscFree(jets));
  }

  /* the report's measures */
  {
    PetscBool has;
    PetscReal rel, maxabs, vb, vi, drift;
    PetscCall(AzLossExactError(loss, &has, &rel, &maxabs));
    PetscCall(PetscPrintf(comm, "info has_exact %d\n", (int)has));
    PetscCall(Num(comm, "rel_l2", rel));
    PetscCall(Num(comm, "max_abs_error", maxabs));
    PetscCall(AzLossConstraintViolation(loss, 50, &vb, &vi));
    PetscCall(Num(comm, "violation_boundary", vb));
    PetscCall(Num(comm, "violation_initial", vi));
    PetscCall(AzLossConservationDrift(loss, &drift));
    PetscCall(Num(comm, "drift", drift));
    for (PetscInt l = 0; l < nlaws && info->time_dependent; l++) {
      PetscReal t[11], Q[11], target;
      PetscCall(AzLossConservationSeries(loss, l, 11, t, Q, &target));
      for (PetscInt j = 0; j < 11; j++) PetscCall(Num(comm, "law_Q", Q[j]));
      PetscCall(Num(comm, "law_target", target));
    }
  }
  PetscCall(VecDestroy(&g));
  PetscCall(VecDestroy(&v));
  PetscCall(VecDestroy(&w));
  PetscCall(AzLossDestroy(&loss));
  PetscCall(AzFieldDestroy(&field));
  PetscCall(AzProblemDestroy(&prob));
  PetscFunctionReturn(PETSC_SUCCESS);
}

int main(int argc, char **argv)
{
  PetscCall(PetscInitialize(&argc, &argv, NULL, NULL));
  PetscCall(Golden(PETSC_COMM_WORLD));
  PetscCall(AzOptionsCheckUnused(PETSC_COMM_WORLD));
  PetscCall(PetscFinalize());
  return 0;
}
