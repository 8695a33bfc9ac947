/* Run directories: what a mode writes, so that a run can be read, compared and repeated.
 *   options.txt   every option in force (rerun with -options_file options.txt)
 *   history.csv   the training history
 *   theta.bin     the final parameters (PETSc binary)
 *   field.vtk     the field (and exact solution and error, when known) on the evaluation grid
 *   summary.json  machine-readable results
 */
#ifndef ANSATZ_RUN_H
#define ANSATZ_RUN_H

#include <ansatz/trainer.h>

/* `ansatz train`: load -problem, build field, loss and trainer from the options, train, write -az_output_dir */
PETSC_EXTERN PetscErrorCode AzRunTrain(MPI_Comm comm);
/* `ansatz compare`: -az_strategies trained alike, a table (compare.md, compare.csv), plots, report.md */
PETSC_EXTERN PetscErrorCode AzRunCompare(MPI_Comm comm);
/* a field for the problem (coordinates, components, box, derivatives), configured from the options */
PETSC_EXTERN PetscErrorCode AzRunCreateField(AzProblem prob, AzField *field);
/* create a directory and its parents (rank 0), collective */
PETSC_EXTERN PetscErrorCode AzRunMakeDirectory(MPI_Comm comm, const char dir[]);

#endif
