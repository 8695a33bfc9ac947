/* Private to compare (src/run/compare.c, repeats.c, stats.c): one run's results, the statistics over
 * repeats and the paired verdicts. */
#ifndef ANSATZ_COMPAREIMPL_H
#define ANSATZ_COMPAREIMPL_H

#include "runimpl.h"

/* one training of one strategy at one pair of seeds */
typedef struct {
  char      name[64];
  PetscReal rel_l2, max_abs, viol_bc, viol_ic, drift, positivity, bounds, divergence, loss, wall;
  PetscInt  its;
  PetscBool failed;   /* training stopped on a failure (AZ_TRAINER_FAILED): the row describes the last good parameters */
  char      why[256]; /* the trainer's stop reason */
  PetscInt  ninfer;   /* an inverse problem (-az_infer): the parameters this strategy inferred */
  char      iname[AZ_MAX_PARAMS][32];
  PetscReal ival[AZ_MAX_PARAMS];
  PetscInt  repeat, field_seed, seed; /* the repeat (from 1) and its seeds: network (-az_field_seed), points (-az_seed) */
  PetscBool kept;                     /* read back from a previous run's result.txt (-az_compare_resume), not trained */
  PetscInt  setting;                  /* the sweep's setting (from 0; 0 without -az_sweep) */
  PetscInt  unread;                   /* a swept option this run did not read (its index + 1; 0: none) */
} AzCompareResult;

/* -az_sweep (sweep.c): nopt options (names without '-', "az_field_width"), nval[j] values each; the
 * settings are their Cartesian product, npts of them (1 and nopt 0 without a sweep), setting p's
 * values by AzCompareSweepValue (the first option the slowest) */
#define AZ_MAX_RUNS          1000
#define AZ_SWEEP_MAX_OPTIONS 8
typedef struct {
  char    *text;
  PetscInt nopt, npts;
  char     name[AZ_SWEEP_MAX_OPTIONS][64];
  PetscInt nval[AZ_SWEEP_MAX_OPTIONS];
  char   **value[AZ_SWEEP_MAX_OPTIONS];
} AzCompareSweep;
PETSC_INTERN PetscErrorCode AzCompareSweepParse(MPI_Comm comm, const char text[], AzCompareSweep *s);
PETSC_INTERN PetscErrorCode AzCompareSweepDestroy(AzCompareSweep *s);
PETSC_INTERN const char    *AzCompareSweepValue(const AzCompareSweep *s, PetscInt p, PetscInt j);
PETSC_INTERN void           AzCompareSweepLabel(const AzCompareSweep *s, PetscInt p, PetscBool dir, char out[], size_t len);
PETSC_INTERN PetscErrorCode AzCompareSweepApply(const AzCompareSweep *s, PetscInt p);
PETSC_INTERN PetscErrorCode AzCompareSweepCheckGiven(MPI_Comm comm, const AzCompareSweep *s, PetscInt nstrategies);
PETSC_INTERN PetscErrorCode AzCompareSweepUnread(const AzCompareSweep *s, PetscBool after, PetscInt *unread);
PETSC_INTERN PetscErrorCode AzCompareSweepUnreadError(MPI_Comm comm, const AzCompareSweep *s, PetscInt j);

/* statistics of the finite values among n: their count, median, min, max, mean and (sample) standard
 * deviation (0 for one value); NaN when none is finite */
typedef struct {
  PetscInt  count;
  PetscReal median, min, max, mean, std;
} AzCompareStats;
PETSC_INTERN void AzCompareStatistics(PetscInt n, const PetscReal v[], AzCompareStats *s);

/* The paired verdict on a metric where lower is better, over the seeds where both a[i] and b[i] are
 * finite (the pairs): A beats B when a[i] < b[i] in at least AZ_VERDICT_SHARE of the pairs (and
 * conversely); otherwise the difference is within seed-to-seed spread. Fewer than 2 pairs: no verdict.
 * ratio: the median over the pairs of a[i]/b[i] (1 where a[i] = b[i], +inf where only b[i] is 0). */
#define AZ_VERDICT_SHARE 0.8
typedef enum {
  AZ_VERDICT_NONE,   /* fewer than 2 paired seeds */
  AZ_VERDICT_A,      /* A beats B */
  AZ_VERDICT_B,      /* B beats A */
  AZ_VERDICT_SPREAD  /* within seed-to-seed spread */
} AzVerdictKind;
typedef struct {
  AzVerdictKind kind;
  PetscInt      pairs, a_better, b_better;
  PetscReal     ratio;
} AzVerdict;
PETSC_INTERN void AzCompareVerdict(PetscInt n, const PetscReal a[], const PetscReal b[], AzVerdict *v);

/* repeats.c: the per-run result file (result.txt: written last, so its presence marks a finished run),
 * the tables over repeats, the long-form CSV, the median error curve with its band, the verdicts */
PETSC_INTERN PetscErrorCode AzCompareWriteResult(MPI_Comm comm, const char dir[], const AzCompareResult *r);
PETSC_INTERN PetscErrorCode AzCompareReadResult(MPI_Comm comm, const char dir[], PetscBool *found, AzCompareResult *r);
/* with a sweep (sw->nopt > 0) the columns (strategy, setting) are n = strategies × settings, run[] in
 * the grid's order, each row gains the setting's label and a column per swept option */
PETSC_INTERN PetscErrorCode AzCompareWriteRepeatTables(MPI_Comm comm, const char dir[], PetscInt n, PetscInt nrep, const AzCompareResult run[], const char refline[], const AzCompareSweep *sw, char **md);
PETSC_INTERN PetscErrorCode AzCompareWriteRuns(MPI_Comm comm, const char dir[], PetscInt n, PetscInt nrep, const AzCompareResult run[], const AzCompareSweep *sw);
PETSC_INTERN PetscErrorCode AzCompareWriteBand(MPI_Comm comm, const char sdir[], PetscInt nrep);
PETSC_INTERN PetscErrorCode AzCompareVerdicts(PetscInt n, PetscInt nrep, const AzCompareResult run[], const AzCompareSweep *sw, char **md, char **csv);

/* the table of the first n results (one run each), as Markdown (md) and CSV (csv); malloc'd strings */
PETSC_INTERN PetscErrorCode AzCompareTables(const AzCompareResult res[], PetscInt n, const AzCompareSweep *sw, char **md, char **csv);
/* compare.md/csv and compare_runs.csv after the first done runs (see repeats.c) */
PETSC_INTERN PetscErrorCode AzCompareWriteTables(MPI_Comm comm, const char dir[], const AzCompareResult res[], PetscInt n, PetscInt nrep, PetscInt done, const char refline[], const AzCompareSweep *sw, char **md);
/* a run's directory: DIR/STRATEGY for one run each (as always), DIR/STRATEGY/repeat-R for several */
PETSC_INTERN void AzCompareRunDirectory(const char dir[], const char strategy[], PetscInt nrep, PetscInt r, char sub[], size_t len);
/* the seeds of repeat 1 and a repeat's seed under a strategy's prefix */
PETSC_INTERN PetscErrorCode AzCompareBaseSeed(const char prefix[], const char name[], PetscInt def, PetscInt *seed);
PETSC_INTERN PetscErrorCode AzCompareSetSeed(const char prefix[], const char name[], PetscInt seed);
/* -az_compare_resume: whether the run in sub finished with the same options (then its result in x) */
PETSC_INTERN PetscErrorCode AzCompareKeptRun(MPI_Comm comm, AzProblem prob, const char sub[], const char strategy[], const char prefix[], PetscBool *kept, AzCompareResult *x);


/* compare_output.c: measurements and outputs beside the tables */
PETSC_INTERN PetscErrorCode AzCompareWriteConservation(MPI_Comm comm, const char dir[], const AzProblemInfo *info, AzLoss loss, PetscInt nlaws);
PETSC_INTERN PetscErrorCode AzCompareBoundViolation(AzProblem prob, AzLoss loss, PetscBool bounds, PetscReal *viol);
PETSC_INTERN PetscErrorCode AzCompareDivergenceViolation(AzProblem prob, AzLoss loss, PetscReal *viol);
PETSC_INTERN PetscErrorCode AzCompareWriteFieldData(MPI_Comm comm, const char dir[], AzProblem prob, AzLoss loss, AzReference ref);
PETSC_INTERN void AzComparePlotName(const char stem[], const char comp[], PetscInt ncomp, char out[], size_t len);
PETSC_INTERN PetscErrorCode AzComparePlotComponents(MPI_Comm comm, AzProblem prob, const char list[], PetscInt *n, PetscInt comps[]);
PETSC_INTERN PetscErrorCode AzComparePlots(MPI_Comm comm, const char dir[], AzProblem prob, AzCompareResult res[], PetscInt n, const AzCompareSweep *sw, PetscInt nrep, PetscInt best, PetscInt nplot, const PetscInt plot[], PetscInt nlaws, PetscBool *made);

#endif
