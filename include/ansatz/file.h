/* Files written completely or not at all.
 *
 * Every file ansatz writes goes through AzFile: the content goes to PATH.tmp, every call is checked,
 * and AzFileClose flushes, syncs and renames PATH.tmp to PATH. On any failure (a full disk, a missing
 * directory, no permission) the temporary file is removed, PATH is left as it was, and the error
 * names PATH and the cause. Errors are sticky: AzFilePrintf/AzFileWrite record the first failure and
 * AzFileClose reports it, so the collective forms never leave ranks waiting on each other.
 *
 *   AzFile f;
 *   PetscCall(AzFileOpen(comm, "run/summary.json", &f));   collective: rank 0 writes
 *   PetscCall(AzFilePrintf(f, "{\"loss\": %g}\n", loss));
 *   PetscCall(AzFileClose(&f));                            collective: every rank gets the error
 */
#ifndef ANSATZ_FILE_H
#define ANSATZ_FILE_H

#include <petscsys.h>
#include <ansatz/compat.h>

typedef struct _p_AzFile *AzFile;

/* Collective on comm; rank 0 opens PATH.tmp, the other ranks hold an inert handle. Use
 * PETSC_COMM_SELF to write from one rank alone. */
PETSC_EXTERN PetscErrorCode AzFileOpen(MPI_Comm comm, const char path[], AzFile *f);
PETSC_EXTERN PetscErrorCode AzFilePrintf(AzFile f, const char fmt[], ...) PETSC_ATTRIBUTE_FORMAT(2, 3);
PETSC_EXTERN PetscErrorCode AzFileWrite(AzFile f, const void *buf, size_t n);
/* Collective: flush, sync, close and rename into place; or remove the temporary file and fail. */
PETSC_EXTERN PetscErrorCode AzFileClose(AzFile *f);
/* Collective: give up (an error elsewhere): remove the temporary file, leave PATH as it was. */
PETSC_EXTERN PetscErrorCode AzFileDiscard(AzFile *f);
/* The final path. */
PETSC_EXTERN PetscErrorCode AzFileGetPath(AzFile f, const char **path);
/* Move an already written temporary file into place (for files written by other libraries, e.g. a
 * PETSc binary viewer opened on TMP): checks that TMP exists, renames it to PATH, or removes it and fails. */
PETSC_EXTERN PetscErrorCode AzFileCommit(MPI_Comm comm, const char tmp[], const char path[]);
/* Remove PATH if it exists (rank 0), collective; a missing file is not an error. */
PETSC_EXTERN PetscErrorCode AzFileRemove(MPI_Comm comm, const char path[]);
/* An HDF5 file's path (the name given to HDF5, PATH.tmp when written) is at most AZ_FILE_H5_PATH_MAX
 * characters: Open MPI 4.1's I/O layer, under PETSc's HDF5 viewer even on PETSC_COMM_SELF, aborts the
 * program (a lock file's name overflows a fixed buffer) on names from about 245 characters. Collective
 * on comm when every rank passes the same path; WHAT names the option or file that gave it. */
#define AZ_FILE_H5_PATH_MAX 230
PETSC_EXTERN PetscErrorCode AzFileCheckHDF5Path(MPI_Comm comm, const char path[], const char what[]);

#endif
