/* Private to src/run: pieces shared by the modes. */
#ifndef ANSATZ_RUNIMPL_H
#define ANSATZ_RUNIMPL_H

#include <ansatz/run.h>
#include <ansatz/compat.h>
#include <ansatz/constraint.h>

/* history.csv of a training run: iteration, stage, loss, each term, rel_l2, wall time */
PETSC_INTERN PetscErrorCode AzRunWriteHistory(MPI_Comm comm, const char dir[], AzTrainer tr, AzLoss loss);

#endif
