/* The `ansatz` program: `ansatz MODE [options]`, every setting in the PETSc options database. */
#include <ansatz.h>
#include <petscviewer.h>

static const char help[] = "ansatz: physics-informed neural fields on PETSc.\n"
                           "Usage: ansatz [MODE] [options]\n"
                           "Modes:\n"
                           "  list                  the problems on the search path (name, description, dimension, parameters)\n"
                           "  info -problem P       one problem in full (P is a name from `ansatz list` or a path to a .so)\n"
                           "  fieldinfo -problem P  the neural field for problem P: architecture, parameters, jets at sample points\n"
                           "  train -problem P      train a neural field on P; writes a run directory (-az_output_dir)\n"
                           "  reference -problem P  a SUNDIALS/PETSc reference solution from P's own residuals (-az_ref_* options)\n"
                           "  compare -problem P    soft, scheduled, adaptive, augmented-Lagrangian and hard constraints, trained alike (-az_strategies)\n"
                           "  discover -problem P   conservation laws nobody declared, from a trained field (-az_run DIR), the reference or grid data\n"
                           "  eval -az_run DIR      a trained field at given points (-az_eval_points FILE or -az_eval_grid m), values and derivatives, CSV or HDF5\n"
                           "  sample -problem P     synthetic observations (-az_sample_n, -az_sample_noise) of the exact solution or the reference, for -az_data\n"
                           "With no mode, runs the main job: where a physical prior should live (architecture, loss, after training), compared on advection1d.\n"
                           "Problems are searched in $AZ_PROBLEM_PATH, the installed directory and the build tree.\n\n";

typedef PetscErrorCode (*AzModeFn)(MPI_Comm);

static PetscErrorCode ModeList(MPI_Comm comm)
{
  PetscInt n;
  char   **paths;
  int      width = 14;

  PetscFunctionBegin;
  PetscCall(AzProblemList(comm, &n, &paths));
  if (!n) {
    char sp[4 * PETSC_MAX_PATH_LEN];
    PetscCall(AzProblemGetSearchPath(sp, sizeof sp));
    PetscCall(PetscPrintf(comm, "No problems found (searched %s)\n", sp));
  }
  for (PetscInt k = 0; k < n; k++) { /* the name column fits the longest file name (the problem's name) */
    const char *base = strrchr(paths[k], '/') ? strrchr(paths[k], '/') + 1 : paths[k];
    const char *dot  = strstr(base, ".so");
    width            = PetscMax(width, (int)(dot ? dot - base : (ptrdiff_t)strlen(base)));
  }
  for (PetscInt k = 0; k < n; k++) {
    AzProblem            prob;
    const AzProblemInfo *info;
    PetscErrorCode       ierr;

    /* a broken plugin on the path must not hide the good ones: report it and go on */
    PetscCall(PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
    ierr = AzProblemLoad(comm, paths[k], &prob);
    PetscCall(PetscPopErrorHandler());
    if (ierr) {
      PetscCall(PetscPrintf(comm, "%-*s (cannot be loaded: run `ansatz info -problem %s` to see why)\n", width, paths[k], paths[k]));
      PetscCall(PetscFree(paths[k]));
      continue;
    }
    PetscCall(AzProblemGetInfo(prob, &info));
    PetscCall(PetscPrintf(comm, "%-*s %" PetscInt_FMT "-D%s  %s\n", width, info->name, info->dim, info->time_dependent ? "+t" : "  ", info->description));
    for (PetscInt p = 0; p < AZ_MAX_PARAMS && info->params[p].name; p++) {
      char v[64];
      if (info->params[p].help && info->params[p].help[0] == '{') PetscCall(AzParamInfoFormatValue(&info->params[p], info->params[p].value, v, sizeof v)); /* a choice: its name */
      else snprintf(v, sizeof v, "%g", (double)info->params[p].value);
      PetscCall(PetscPrintf(comm, "%-*s         -az_%s_%s %s  (%s)\n", width, "", info->name, info->params[p].name, v, info->params[p].help ? info->params[p].help : ""));
    }
    PetscCall(AzProblemDestroy(&prob));
    PetscCall(PetscFree(paths[k]));
  }
  PetscCall(PetscFree(paths));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* -problem NAME|PATH (default poisson2d) */
static PetscErrorCode LoadProblemFromOptions(MPI_Comm comm, AzProblem *prob)
{
  char      name[PETSC_MAX_PATH_LEN] = "poisson2d";
  PetscBool set;

  PetscFunctionBegin;
  PetscOptionsBegin(comm, NULL, "ansatz problem selection", "ansatz");
  PetscCall(PetscOptionsString("-problem", "problem: a name from `ansatz list` or a path to a plugin .so", "AzProblemLoad", name, name, sizeof name, &set));
  PetscOptionsEnd();
  PetscCall(AzProblemLoad(comm, name, prob));
  PetscCall(AzProblemSetFromOptions(*prob));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode ModeInfo(MPI_Comm comm)
{
  AzProblem prob;
  PetscBool check = PETSC_FALSE;

  PetscFunctionBegin;
  PetscCall(LoadProblemFromOptions(comm, &prob));
  PetscOptionsBegin(comm, NULL, "ansatz info", "ansatz");
  PetscCall(PetscOptionsBool("-az_check_jacobian", "compare the plugin's residual jet Jacobians with finite differences (exit status 1 on a mismatch)", "AzProblemCheckJetJacobian", check, &check, NULL));
  PetscOptionsEnd();
  PetscCall(AzOptionsCheckpoint(comm, PETSC_TRUE));
  PetscCall(AzProblemView(prob, PETSC_VIEWER_STDOUT_(comm)));
  if (check) {
    const AzProblemInfo *info;
    const char           axes[] = "xyz";
    char                 bad[512] = "";

    PetscCall(AzProblemGetInfo(prob, &info));
    for (PetscInt cond = -1; cond <= AZ_COND_INITIAL; cond++) {
      PetscInt  nres;
      PetscReal err;
      char      what[64];
      PetscBool ok;

      if (cond >= 2 * info->dim && cond != AZ_COND_INITIAL) continue;
      PetscCall(AzProblemGetNumResiduals(prob, cond, &nres));
      if (!nres) continue;
      if (cond == AZ_COND_INTERIOR) snprintf(what, sizeof what, "interior");
      else if (cond == AZ_COND_INITIAL) snprintf(what, sizeof what, "initial");
      else snprintf(what, sizeof what, "face %c = %s (bc_%c%d)", axes[cond / 2], cond % 2 ? "upper" : "lower", axes[cond / 2], (int)(cond % 2));
      PetscCall(AzProblemCheckJetJacobian(prob, cond, 20, &err));
      ok = (err <= 1e-6) ? PETSC_TRUE : PETSC_FALSE; /* false for NaN too */
      PetscCall(PetscPrintf(comm, "jet Jacobian check, %s: max relative difference %.3e%s\n", what, (double)err, ok ? "" : (PetscIsInfOrNanReal(err) ? "  <-- NOT FINITE (the residual or its Jacobian is Inf/NaN)" : "  <-- MISMATCH")));
      if (!ok) {
        PetscCall(PetscStrlcat(bad, bad[0] ? ", " : "", sizeof bad));
        PetscCall(PetscStrlcat(bad, what, sizeof bad));
      }
      /* the plugin's ∂r/∂param (inverse problems), where it gives one */
      for (PetscInt k = 0; info->param_derivative && k < AZ_MAX_PARAMS && info->params[k].name; k++) {
        char pwhat[128];
        PetscCall(AzProblemCheckParamJacobian(prob, cond, k, 20, &err));
        ok = (err <= 1e-6) ? PETSC_TRUE : PETSC_FALSE;
        snprintf(pwhat, sizeof pwhat, "%s d/d%s", what, info->params[k].name);
        PetscCall(PetscPrintf(comm, "parameter derivative check, %s: max relative difference %.3e%s\n", pwhat, (double)err, ok ? "" : (PetscIsInfOrNanReal(err) ? "  <-- NOT FINITE" : "  <-- MISMATCH")));
        if (!ok) {
          PetscCall(PetscStrlcat(bad, bad[0] ? ", " : "", sizeof bad));
          PetscCall(PetscStrlcat(bad, pwhat, sizeof bad));
        }
      }
    }
    if (bad[0]) {
      PetscCall(AzProblemDestroy(&prob));
      SETERRQ(comm, PETSC_ERR_PLIB, "-az_check_jacobian: the plugin's residual jet Jacobian or parameter derivative differs from finite differences (relative difference above 1e-6, or not finite) for: %s", bad);
    }
  }
  PetscCall(AzProblemDestroy(&prob));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode ModeFieldInfo(MPI_Comm comm)
{
  AzProblem            prob;
  AzField              field;
  AzJetRequest         req;
  const AzProblemInfo *info;
  PetscReal            lo[AZ_MAX_COORD], hi[AZ_MAX_COORD], x[AZ_MAX_COORD];
  PetscInt             ncoord, ncomp, nslot;
  PetscScalar         *jets;
  char                 deriv[256];

  PetscFunctionBegin;
  PetscCall(LoadProblemFromOptions(comm, &prob));
  PetscCall(AzProblemGetInfo(prob, &info));
  PetscCall(AzProblemGetNumCoords(prob, &ncoord));
  PetscCall(AzProblemGetBox(prob, lo, hi));
  PetscCall(AzProblemGetJetRequest(prob, &req));
  PetscCall(AzJetRequestClose(&req));
  PetscCall(AzRunCreateField(prob, &field));
  PetscCall(AzOptionsCheckpoint(comm, PETSC_TRUE));
  PetscCall(AzFieldView(field, PETSC_VIEWER_STDOUT_(comm)));
  PetscCall(AzFieldGetJetSize(field, &ncomp, &nslot));
  PetscCall(PetscMalloc1(ncomp * nslot, &jets));
  for (PetscInt i = 0; i < ncoord; i++) x[i] = 0.5 * (lo[i] + hi[i]);
  PetscCall(AzFieldEvaluateJets(field, 1, x, jets));
  PetscCall(AzJetRequestView(&req, info->time_dependent, deriv, sizeof deriv));
  PetscCall(PetscPrintf(comm, "jet at the centre of the box (propagated: value,%s):\n", deriv));
  for (PetscInt c = 0; c < ncomp; c++) {
    for (PetscInt s = 0; s < nslot; s++)
      if (req.mask & ((PetscInt)1 << s)) PetscCall(PetscPrintf(comm, "  component %" PetscInt_FMT " slot %2" PetscInt_FMT ": % .12e\n", c, s, (double)PetscRealPart(jets[c * nslot + s])));
  }
  PetscCall(PetscFree(jets));
  PetscCall(AzFieldDestroy(&field));
  PetscCall(AzProblemDestroy(&prob));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The main job: the comparison the project exists for, on a problem where a conservation law and
 * positivity both matter (advection1d with amplitude 1: the periodic wave 1 + sin 2π(x − t) keeps its
 * mass 1 and touches 0): the three places a physical prior can live, the architecture (the hard
 * initial condition, softplus, projection in training), the loss (the law's penalty, constant, with a
 * cosine schedule peaking at 70% of training, and the augmented Lagrangian) and after training (post hoc
 * projection), each against no prior at all (soft conditions only, the first strategy), on the same
 * network, points and Gauss-Newton budget, unless the options say otherwise. It prints the
 * equivalent command. */
static PetscErrorCode ModeDefault(MPI_Comm comm)
{
  const char *defaults[][2] = {
    {"-problem",             "advection1d"                                                                                  },
    {"-az_advection1d_amp",  "1"                                                                                            },
    {"-az_strategies",       "soft,hard,soft+softplus,project,hard+project,soft+conserve,soft+conserve-cosine,soft+conserve-auglag,posthoc,probconserv"},
    {"-az_field_depth",      "1"                                                                                            },
    {"-az_field_width",      "32"                                                                                           },
    {"-az_trainer_type",     "gn"                                                                                           },
    {"-az_trainer_max_it",   "300"                                                                                          },
    {"-az_n_interior",       "2000"                                                                                         },
    {"-az_n_initial",        "100"                                                                                          },
    {"-az_output_dir",       "runs/main"                                                                                    },
  };
  char cmd[1024] = "ansatz compare";

  PetscFunctionBegin;
  for (size_t k = 0; k < sizeof defaults / sizeof defaults[0]; k++) {
    PetscBool set;
    char      v[256];
    PetscCall(PetscOptionsHasName(NULL, NULL, defaults[k][0], &set));
    if (!set) PetscCall(PetscOptionsSetValue(NULL, defaults[k][0], defaults[k][1]));
    PetscCall(PetscOptionsGetString(NULL, NULL, defaults[k][0], v, sizeof v, NULL));
    PetscCall(PetscStrlcat(cmd, " ", sizeof cmd));
    PetscCall(PetscStrlcat(cmd, defaults[k][0], sizeof cmd));
    PetscCall(PetscStrlcat(cmd, " ", sizeof cmd));
    PetscCall(PetscStrlcat(cmd, v, sizeof cmd));
  }
  PetscCall(PetscPrintf(comm, "main job (the same as: %s)\n", cmd));
  PetscCall(AzRunCompare(comm));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode ModeCompare(MPI_Comm comm)
{
  PetscFunctionBegin;
  PetscCall(AzRunCompare(comm));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode ModeReference(MPI_Comm comm)
{
  AzProblem prob;

  PetscFunctionBegin;
  PetscCall(LoadProblemFromOptions(comm, &prob));
  PetscCall(AzReferenceRunMode(comm, prob));
  PetscCall(AzProblemDestroy(&prob));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode ModeTrain(MPI_Comm comm)
{
  PetscFunctionBegin;
  PetscCall(AzRunTrain(comm));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode ModeDiscover(MPI_Comm comm)
{
  PetscFunctionBegin;
  PetscCall(AzDiscoverRunMode(comm));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static const struct {
  const char *name;
  AzModeFn    fn;
} modes[] = {
  {"list",      ModeList     },
  {"info",      ModeInfo     },
  {"fieldinfo", ModeFieldInfo},
  {"train",     ModeTrain    },
  {"reference", ModeReference},
  {"compare",   ModeCompare  },
  {"discover",  ModeDiscover },
  {"sample",    AzRunSample  },
  {"eval",      AzRunEval    },
};

int main(int argc, char **argv)
{
  const char    *mode = NULL;
  MPI_Comm       comm;
  AzModeFn       fn = ModeDefault;
  PetscErrorCode ierr;

  /* the mode is the first argument when it is not an option; PETSc sees the rest */
  if (argc > 1 && argv[1][0] != '-') {
    mode    = argv[1];
    argv[1] = argv[0];
    argv++;
    argc--;
  }
  PetscCall(PetscInitialize(&argc, &argv, NULL, help));
  comm = PETSC_COMM_WORLD;
  /* quiet for the -help stop (AzOptionsCheckpoint), PETSc's traceback for every error */
  PetscCall(PetscPushErrorHandler(AzOptionsErrorHandler, NULL));
  if (mode) {
    char valid[256] = "";
    fn              = NULL;
    for (size_t k = 0; k < sizeof modes / sizeof modes[0]; k++) {
      if (!strcmp(mode, modes[k].name)) fn = modes[k].fn;
      PetscCall(PetscStrlcat(valid, k ? ", " : "", sizeof valid));
      PetscCall(PetscStrlcat(valid, modes[k].name, sizeof valid));
    }
    PetscCheck(fn, comm, PETSC_ERR_ARG_UNKNOWN_TYPE, "Unknown mode '%s'. Valid modes: %s (or none, for the main job)", mode, valid);
  }
  ierr = fn(comm);
  if (ierr == AZ_ERR_HELP_DONE) ierr = PETSC_SUCCESS; /* -help: the mode printed its options and stopped */
  else if (!ierr) ierr = AzOptionsCheckUnused(comm);  /* also the options read after a mode's checkpoint */
  PetscCall(ierr);
  PetscCall(PetscFinalize());
  return 0;
}
