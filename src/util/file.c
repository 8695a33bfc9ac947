/* Files written completely or not at all: see include/ansatz/file.h. */
#include <ansatz/file.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

struct _p_AzFile {
  MPI_Comm comm;
  FILE    *fp;  /* rank 0 only */
  int      err; /* first errno seen (0: none) */
  char     what[64];
  char     path[PETSC_MAX_PATH_LEN];
  char     tmp[PETSC_MAX_PATH_LEN + 8];
};

static void Fail(AzFile f, const char what[])
{
  if (f->err) return;
  f->err = errno ? errno : EIO;
  snprintf(f->what, sizeof f->what, "%s", what);
}

PetscErrorCode AzFileOpen(MPI_Comm comm, const char path[], AzFile *out)
{
  AzFile      f;
  PetscMPIInt rank;

  PetscFunctionBegin;
  PetscCheck(path && path[0], comm, PETSC_ERR_ARG_NULL, "AzFileOpen: no path");
  PetscCall(PetscNew(&f));
  f->comm = comm;
  PetscCall(PetscStrncpy(f->path, path, sizeof f->path));
  snprintf(f->tmp, sizeof f->tmp, "%s.tmp", path);
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  if (rank == 0) {
    errno = 0;
    f->fp = fopen(f->tmp, "wb");
    if (!f->fp) Fail(f, "cannot create");
  }
  *out = f;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzFilePrintf(AzFile f, const char fmt[], ...)
{
  va_list ap;

  PetscFunctionBegin;
  if (!f->fp || f->err) PetscFunctionReturn(PETSC_SUCCESS);
  va_start(ap, fmt);
  errno = 0;
  if (vfprintf(f->fp, fmt, ap) < 0) Fail(f, "cannot write");
  va_end(ap);
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzFileWrite(AzFile f, const void *buf, size_t n)
{
  PetscFunctionBegin;
  if (!f->fp || f->err || !n) PetscFunctionReturn(PETSC_SUCCESS);
  errno = 0;
  if (fwrite(buf, 1, n, f->fp) != n) Fail(f, "cannot write");
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzFileGetPath(AzFile f, const char **path)
{
  PetscFunctionBegin;
  *path = f->path;
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode Finish(AzFile *pf, PetscBool keep)
{
  AzFile f = *pf;
  int    st[2];
  char   what[64];

  PetscFunctionBegin;
  if (!f) PetscFunctionReturn(PETSC_SUCCESS);
  if (f->fp) {
    errno = 0;
    if (!f->err && fflush(f->fp)) Fail(f, "cannot write");
    if (!f->err && ferror(f->fp)) Fail(f, "cannot write");
    if (!f->err && keep && fsync(fileno(f->fp))) Fail(f, "cannot sync");
    if (fclose(f->fp) && !f->err) Fail(f, "cannot close");
    f->fp = NULL;
    if (!f->err && keep && rename(f->tmp, f->path)) Fail(f, "cannot move into place");
    if (f->err || !keep) (void)unlink(f->tmp);
  }
  st[0] = f->err;
  st[1] = (int)strlen(f->what);
  PetscCall(PetscStrncpy(what, f->what, sizeof what));
  PetscCallMPI(MPI_Bcast(st, 2, MPI_INT, 0, f->comm));
  PetscCallMPI(MPI_Bcast(what, (PetscMPIInt)sizeof what, MPI_CHAR, 0, f->comm));
  {
    char path[PETSC_MAX_PATH_LEN];
    PetscCall(PetscStrncpy(path, f->path, sizeof path));
    PetscCall(PetscFree(*pf));
    PetscCheck(!keep || !st[0], PETSC_COMM_SELF, PETSC_ERR_FILE_WRITE, "Could not write %s: %s (%s); the file was not changed", path, what, strerror(st[0]));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzFileClose(AzFile *f)
{
  PetscFunctionBegin;
  PetscCall(Finish(f, PETSC_TRUE));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzFileDiscard(AzFile *f)
{
  PetscFunctionBegin;
  PetscCall(Finish(f, PETSC_FALSE));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzFileCommit(MPI_Comm comm, const char tmp[], const char path[])
{
  PetscMPIInt rank;
  int         err = 0;

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  if (rank == 0) {
    FILE *fp;
    errno = 0;
    /* sync what the other library wrote, then move it */
    if (!(fp = fopen(tmp, "rb+"))) err = errno ? errno : EIO;
    else {
      if (fsync(fileno(fp))) err = errno ? errno : EIO;
      if (fclose(fp) && !err) err = errno ? errno : EIO;
    }
    if (!err && rename(tmp, path)) err = errno ? errno : EIO;
    if (err) (void)unlink(tmp);
  }
  PetscCallMPI(MPI_Bcast(&err, 1, MPI_INT, 0, comm));
  PetscCheck(!err, comm, PETSC_ERR_FILE_WRITE, "Could not write %s: %s; the file was not changed", path, strerror(err));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzFileRemove(MPI_Comm comm, const char path[])
{
  PetscMPIInt rank;
  int         err = 0;

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  if (rank == 0 && unlink(path) && errno != ENOENT) err = errno;
  PetscCallMPI(MPI_Bcast(&err, 1, MPI_INT, 0, comm));
  PetscCheck(!err, comm, PETSC_ERR_FILE_WRITE, "Cannot remove the stale file %s: %s", path, strerror(err));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzFileCheckHDF5Path(MPI_Comm comm, const char path[], const char what[])
{
  const size_t n = strlen(path);

  PetscFunctionBegin;
  PetscCheck(n <= AZ_FILE_H5_PATH_MAX, comm, PETSC_ERR_ARG_OUTOFRANGE, "%s: the HDF5 file %s has a path of %zu characters, at most %d are allowed (Open MPI's I/O layer under HDF5 aborts on longer file names): use a shorter path", what, path, n, AZ_FILE_H5_PATH_MAX);
  PetscFunctionReturn(PETSC_SUCCESS);
}
