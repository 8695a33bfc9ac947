/* HDF5 files through PETSc's HDF5 viewer, written completely or not at all: rank 0 writes PATH.tmp
 * alone (PETSC_COMM_SELF), every rank learns whether it succeeded, and AzFileCommit moves it into
 * place. */
#include "runimpl.h"
#include <petscviewerhdf5.h>
#include <unistd.h>

static PetscErrorCode WriteAll(const char tmp[], PetscInt ndata, const AzH5Dataset data[], PetscInt nattr, const char *const attr[])
{
  PetscViewer v;

  PetscFunctionBegin;
  PetscCall(PetscViewerHDF5Open(PETSC_COMM_SELF, tmp, FILE_MODE_WRITE, &v));
  for (PetscInt a = 0; a < nattr; a++) PetscCall(PetscViewerHDF5WriteAttribute(v, "/", attr[2 * a], PETSC_STRING, attr[2 * a + 1]));
  for (PetscInt k = 0; k < ndata; k++) {
    const char *slash = strrchr(data[k].name, '/');
    char        group[PETSC_MAX_PATH_LEN] = "/";
    Vec         x;
    PetscScalar *a;

    if (slash && slash != data[k].name) {
      PetscCall(PetscStrncpy(group, data[k].name, PetscMin((size_t)(slash - data[k].name) + 1, sizeof group)));
    }
    const PetscInt cols = PetscMax(data[k].cols, 1);
    PetscCall(PetscViewerHDF5SetBaseDimension2(v, data[k].cols > 0 ? PETSC_TRUE : PETSC_FALSE)); /* n × 1 for one column, like n × k */
    PetscCall(VecCreateSeq(PETSC_COMM_SELF, data[k].rows * cols, &x));
    PetscCall(VecSetBlockSize(x, cols));
    PetscCall(PetscObjectSetName((PetscObject)x, slash ? slash + 1 : data[k].name));
    PetscCall(VecGetArray(x, &a));
    for (PetscInt i = 0; i < data[k].rows * cols; i++) a[i] = data[k].v[i];
    PetscCall(VecRestoreArray(x, &a));
    PetscCall(PetscViewerHDF5PushGroup(v, group));
    PetscCall(VecView(x, v));
    PetscCall(PetscViewerHDF5PopGroup(v));
    PetscCall(VecDestroy(&x));
  }
  PetscCall(PetscViewerDestroy(&v));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzRunWriteHDF5(MPI_Comm comm, const char path[], PetscInt ndata, const AzH5Dataset data[], PetscInt nattr, const char *const attr[])
{
  PetscMPIInt    rank;
  PetscErrorCode ierr = PETSC_SUCCESS;
  char           tmp[PETSC_MAX_PATH_LEN + 8];

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  PetscCall(AzFileCheckHDF5Path(comm, tmp, "Cannot write"));
  if (rank == 0) {
    /* an HDF5 failure on rank 0 must not leave the other ranks waiting: catch it, tell them */
    PetscCall(PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
    ierr = WriteAll(tmp, ndata, data, nattr, attr);
    PetscCall(PetscPopErrorHandler());
    if (ierr) (void)unlink(tmp);
  }
  PetscCallMPI(MPI_Bcast(&ierr, 1, MPI_INT, 0, comm));
  PetscCheck(!ierr, comm, PETSC_ERR_FILE_WRITE, "Cannot write the HDF5 file %s (PETSc's HDF5 viewer failed with error %d: is the directory writable, the disk full?)", path, (int)ierr);
  PetscCall(AzFileCommit(comm, tmp, path));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscBool AzRunIsHDF5(const char path[])
{
  size_t n = strlen(path);
  return n > 3 && !strcmp(path + n - 3, ".h5") ? PETSC_TRUE : PETSC_FALSE;
}
