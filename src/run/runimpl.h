/* Private to src/run: pieces shared by the modes. Every file goes through AzFile (file.h). */
#ifndef ANSATZ_RUNIMPL_H
#define ANSATZ_RUNIMPL_H

#include <ansatz/run.h>
#include <ansatz/compat.h>
#include <ansatz/constraint.h>
#include <ansatz/file.h>
#include <ansatz/laplace.h>

/* history.csv of a training run: iteration, stage, loss, each term, rel_l2, wall time */
PETSC_INTERN PetscErrorCode AzRunWriteHistory(MPI_Comm comm, const char dir[], AzTrainer tr, AzLoss loss);
/* options.txt: every option in the database (command line, option files, PETSC_OPTIONS, those the mode
 * set) and the problem's parameters in force, paths made absolute, -problem the plugin's absolute path
 * and -az_output_dir the run directory's, so `-options_file DIR/options.txt` repeats the run anywhere */
PETSC_INTERN PetscErrorCode AzRunWriteOptions(MPI_Comm comm, AzProblem prob, const char dir[]);
/* options.txt of one strategy of compare, in its directory: the options as the strategy applied
 * them: its own -PREFIXaz_X written as -az_X in place of the global -az_X, the other strategies'
 * (-s<j>_...) and compare's own (-az_strategies, -az_plot_components, -az_repeats, -az_compare_resume,
 * -az_compare_stop_after) left out; written to DIR/FILE (options.txt) */
PETSC_INTERN PetscErrorCode AzRunWriteStrategyOptions(MPI_Comm comm, AzProblem prob, const char dir[], const char file[], const char strategy[], const char prefix[]);
/* AzRunCreateField with the stream function (-az_divfree) and the network's seed (-az_field_seed, for
 * compare's repeats) read under an options prefix (NULL: none) */
PETSC_INTERN PetscErrorCode AzRunCreateFieldWithPrefix(AzProblem prob, const char prefix[], AzField *field);
/* Remove the results a previous run left in dir: the names in files[] (NULL-terminated; "P*S" matches
 * a prefix P and suffix S) and every *.tmp; a file named by -az_restart or -az_field_load is kept. */
PETSC_INTERN PetscErrorCode AzRunRemoveStale(MPI_Comm comm, const char dir[], const char *const files[]);
/* the size of the solution's jets (not the network's: a stream function has fewer outputs) */
PETSC_INTERN PetscErrorCode AzRunSolutionJetSize(AzProblem prob, PetscInt *ncomp, PetscInt *nslot);
/* component c's name ("u", "v", ...: the problem's component_names, or u0, u1, ...) */
PETSC_INTERN PetscErrorCode AzRunComponentName(AzProblem prob, PetscInt c, char name[], size_t len);
/* JSON: a number, or null when it is not finite */
PETSC_INTERN PetscErrorCode AzRunJsonNumber(AzFile f, PetscReal v);
/* JSON: string content, quotes and backslashes escaped, control characters as spaces */
PETSC_INTERN PetscErrorCode AzRunJsonString(AzFile f, const char s[]);

/* HDF5 through PETSc's viewer (h5.c): rank 0 writes PATH complete or not at all (PATH.tmp, then
 * AzFileCommit); collective. Each dataset is rows × cols (cols > 1, or 1 written as rows × 1) at a
 * path "/group/name" (cols 0: a 1-D dataset of rows values); attr holds nattr (name, value) string pairs, attributes of the root group.
 * Only rank 0's data are read. */
typedef struct {
  const char      *name;
  PetscInt         rows, cols;
  const PetscReal *v; /* rows × cols, row-major */
} AzH5Dataset;
PETSC_INTERN PetscErrorCode AzRunWriteHDF5(MPI_Comm comm, const char path[], PetscInt ndata, const AzH5Dataset data[], PetscInt nattr, const char *const attr[]);
/* a standard normal deviate, a pure function of (seed, i, c): Box–Muller on AzSampleHash */
PETSC_INTERN PetscReal AzRunGaussian(PetscInt64 seed, PetscInt64 i, PetscInt64 c);
/* a path ends in .h5 */
PETSC_INTERN PetscBool AzRunIsHDF5(const char path[]);

/* The recipe (src/run/recipe.c): the problem's, then ansatz's, defaults for every option the user did
 * not give (-az_recipe auto|none); applied says which, as options ("none" when switched off) */
/* conditions: ansatz's layer may choose how conditions are enforced (train; compare's strategies choose
 * it themselves, eval reads it from the run's options.txt) */
PETSC_INTERN PetscErrorCode AzRunApplyRecipe(AzProblem prob, PetscBool conditions, PetscBool resample, char applied[], size_t len);

/* The point i of the uniform grid with m points per axis on the box (the first axis fastest) */
PETSC_INTERN void AzRunGridPoint(PetscInt i, PetscInt ncoord, PetscInt m, const PetscReal lo[], const PetscReal hi[], PetscReal x[]);

/* -az_uncertainty (src/run/uncertainty.c): the Laplace approximation after training (laplace.h) and the
 * solution's pointwise standard deviation on the field.vtk grid (m points per axis, up to 3 coordinates;
 * shared out over the ranks, gathered on rank 0) */
typedef struct {
  AzLaplace  lap;          /* NULL when off: AzLaplaceGetVariance(lap, n, idx, var) for entries of θ */
  PetscReal *std;          /* rank 0: grid points × components, std[i*ncomp + c]; NULL when not computed */
  PetscReal  std_mean, std_max; /* over the grid and the components (NaN when not computed) */
  char       note[256];    /* why the field's std was not computed, or why there is no plot ("" when both were made) */
  PetscBool  plot;         /* uncertainty.png (or uncertainty_<comp>.png) made */
} AzRunUncertainty;
/* given: an approximation already made at the trained θ (probconserv's, conditioned), owned by u from
 * here on (NULL: made here) */
PETSC_INTERN PetscErrorCode AzRunUncertaintyCompute(MPI_Comm comm, AzProblem prob, AzLoss loss, PetscBool on, PetscInt m, AzLaplace given, AzRunUncertainty *u);
/* -az_conservation probconserv after training (train.c, compare.c): the Laplace approximation at the
 * trained θ and the update (AzLossProbConserv), a progress line; *lap is kept for the field's std
 * (NULL when the loss has no probconserv, training failed or the update was refused). A refusal is
 * not an error here: why says it ("" when none), the solution stays uncorrected, and the caller
 * writes its results before failing. */
PETSC_INTERN PetscErrorCode AzRunProbConserv(MPI_Comm comm, AzLoss loss, PetscBool failed, const char indent[], AzLaplace *lap, char why[], size_t len);
/* summary.json's "probconserv": null, or the update's numbers */
PETSC_INTERN PetscErrorCode AzRunProbConservJSON(AzFile f, AzLoss loss);
PETSC_INTERN PetscErrorCode AzRunUncertaintyJSON(AzFile f, const AzRunUncertainty *u); /* null when u is NULL */
PETSC_INTERN PetscErrorCode AzRunUncertaintyPlot(MPI_Comm comm, const char dir[], AzProblem prob, AzLoss loss, PetscInt m, AzRunUncertainty *u);
PETSC_INTERN PetscErrorCode AzRunUncertaintyPrint(MPI_Comm comm, const AzRunUncertainty *u);
PETSC_INTERN PetscErrorCode AzRunUncertaintyDestroy(AzRunUncertainty *u);
/* the field's std at npts points (the same on every rank), gathered on rank 0 (npts × ncomp, to PetscFree) */
PETSC_INTERN PetscErrorCode AzRunUncertaintyAtPoints(MPI_Comm comm, AzLaplace lap, PetscInt npts, PetscInt ncoord, PetscInt ncomp, const PetscReal x[], PetscReal **std);

/* the comparison's verdict (story.c): one row per strategy, the first the baseline; drift and positivity
 * NaN where not measured. out: two sentences, which strategy won, by how much and at what cost, in
 * accuracy and in the law named law (and positivity); empty with fewer than two rows */
typedef struct {
  const char *name;
  PetscReal   rel_l2, drift, positivity, wall;
  PetscBool   failed;
} AzStoryRow;
PETSC_INTERN PetscErrorCode AzRunStory(PetscInt n, const AzStoryRow rows[], const char law[], char out[], size_t len);

#endif
