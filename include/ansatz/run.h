/* Run directories: what a mode writes, so that a run can be read, compared and repeated. Every file
 * goes through AzFile (complete or not at all; a failed write names the file), and a run first
 * removes the results a previous run left in its directory.
 *   options.txt   every option given or set by the mode and the problem's parameters, paths absolute
 *                 (rerun from anywhere with -options_file DIR/options.txt)
 *   history.csv   the training history
 *   theta.bin     the final parameters (PETSc binary); the last good ones when training failed
 *   field.vtk     every solution component (and exact solution and error, when known) on a grid
 *   summary.json  machine-readable results: status (completed/failed) and stop reason, errors,
 *                 violations (null where not measured), drift against Q*, the strategies as applied
 *   uncertainty.png/.dat/.gp  with -az_uncertainty: the solution's standard deviation (laplace.h),
 *                 also in field.vtk (NAME_std) and summary.json ("uncertainty")
 * compare: compare.csv and compare.md (rewritten after every strategy; a failed strategy is a row
 * marked failed), one directory per strategy (history.csv, conservation.csv), field.dat, plots.gp
 * and its PNGs, report.md.
 */
#ifndef ANSATZ_RUN_H
#define ANSATZ_RUN_H

#include <ansatz/trainer.h>

/* `ansatz train`: load -problem, build field, loss and trainer from the options, train, write
 * -az_output_dir. A training that fails (AZ_TRAINER_FAILED) still writes every result, then returns
 * PETSC_ERR_NOT_CONVERGED with the reason. */
PETSC_EXTERN PetscErrorCode AzRunTrain(MPI_Comm comm);
/* `ansatz compare`: -az_strategies checked against the problem, then trained alike; a table
 * (compare.md, compare.csv), plots of every component (-az_plot_components), report.md. Returns
 * PETSC_ERR_NOT_CONVERGED at the end when a strategy's training failed. */
PETSC_EXTERN PetscErrorCode AzRunCompare(MPI_Comm comm);
/* `ansatz sample`: synthetic observations of -problem's exact solution or reference at -az_sample_n
 * points, with Gaussian noise, written as CSV or HDF5 that -az_data reads (src/run/sample.c) */
PETSC_EXTERN PetscErrorCode AzRunSample(MPI_Comm comm);
/* `ansatz eval`: a trained field (-az_run DIR, or -az_field_load FILE with train's options) at the
 * points of -az_eval_points or on a grid (-az_eval_grid): coordinates, components and the requested
 * derivatives, as CSV or HDF5 (src/run/eval.c) */
PETSC_EXTERN PetscErrorCode AzRunEval(MPI_Comm comm);
/* The grid of field.h5: m points per spatial axis (the ends included) and nt output times t0 .. t1
 * (1 for a steady problem); its npts points (x may be NULL), time slowest, then the spatial axes, x
 * fastest: npts × ncoord, to PetscFree. */
PETSC_EXTERN PetscErrorCode AzRunFieldGrid(AzProblem prob, PetscInt *m, PetscInt *nt, PetscInt *npts, PetscReal **x);
/* field.h5 and field.xmf in dir: on AzRunFieldGrid's grid, every solution component (the loss's, as
 * the report sees it), the yardstick (exact solution, else ref when not NULL) and the error, then
 * nextra per-point fields (names[a], values[a]: npts values in the grid's order, read on rank 0);
 * dataset /step_KKKK/NAME, KKKK the time's index; field.xmf describes them for ParaView. Collective. */
PETSC_EXTERN PetscErrorCode AzRunWriteField(MPI_Comm comm, const char dir[], AzProblem prob, AzLoss loss, AzReference ref, PetscInt nextra, const char *const names[], const PetscReal *const values[]);
/* a field for the problem (coordinates, components, box, derivatives), configured from the options */
PETSC_EXTERN PetscErrorCode AzRunCreateField(AzProblem prob, AzField *field);
/* create a directory and its parents (rank 0), collective */
PETSC_EXTERN PetscErrorCode AzRunMakeDirectory(MPI_Comm comm, const char dir[]);

#endif
