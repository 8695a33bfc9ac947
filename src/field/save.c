/* The parameter file (theta.bin) and the field header shared with checkpoints.
 *
 * Binary, native byte order (the machines ansatz runs on are little-endian), every integer int64,
 * every real double:
 *   magic (8 bytes: "AZTHETA" for theta.bin, "AZCKPT" for a checkpoint), format version,
 *   the architecture: ncoord, ncomp, depth, width, activation, Fourier features (count, seed),
 *   per coordinate (AZ_MAX_COORD) harmonics, the number of parameters; then the Fourier scale and per
 *   coordinate the period;
 *   version 2 on: the network kind (0 mlp, 1 pirate) and RWF (0 or 1) (version 1 files: an MLP without RWF);
 *   then θ (theta.bin), or the trainer's state (checkpoint, see src/trainer/trainer.c).
 * A reader checks the magic, the version and every architecture field against the field it loads
 * into and names the file and what differs; a short file is an error naming the file and the part
 * that is missing. */
#include "fieldimpl.h"
#include <ansatz/file.h>

#define AZ_FIELD_FILE_VERSION 2 /* 2: + network kind and RWF; version 1 is still read */

PetscErrorCode AzFieldGetArchitecture(AzField f, AzFieldArchitecture *a)
{
  PetscFunctionBegin;
  PetscCheck(f->setupcalled, f->comm, PETSC_ERR_ORDER, "call AzFieldSetUp() before AzFieldGetArchitecture()");
  PetscCall(PetscMemzero(a, sizeof *a));
  a->net           = f->net;
  a->rwf           = f->rwf;
  a->ncoord        = f->ncoord;
  a->ncomp         = f->ncomp;
  a->depth         = f->depth;
  a->width         = f->width;
  a->act           = f->act;
  a->nfourier      = f->nfourier;
  a->fourier_scale = f->nfourier ? f->fourier_scale : 0;
  a->seed          = f->nfourier ? f->seed : 0; /* the seed shapes the network only through B */
  for (PetscInt i = 0; i < AZ_MAX_COORD; i++) {
    a->period[i] = f->period[i];
    a->nharm[i]  = f->period[i] > 0 ? f->nharm[i] : 0;
  }
  a->nparam = f->nparam;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzFieldWriteHeader(AzField f, AzFile file, const char magic[])
{
  AzFieldArchitecture a;
  char                m[8] = {0};
  int64_t             iv[8 + AZ_MAX_COORD + 1];
  double              rv[1 + AZ_MAX_COORD];
  PetscInt            n = 0;

  PetscFunctionBegin;
  PetscCall(AzFieldGetArchitecture(f, &a));
  PetscCall(PetscStrncpy(m, magic, sizeof m));
  iv[n++] = AZ_FIELD_FILE_VERSION;
  iv[n++] = a.ncoord;
  iv[n++] = a.ncomp;
  iv[n++] = a.depth;
  iv[n++] = a.width;
  iv[n++] = a.act;
  iv[n++] = a.nfourier;
  iv[n++] = a.seed;
  for (PetscInt i = 0; i < AZ_MAX_COORD; i++) iv[n++] = a.nharm[i];
  iv[n++] = a.nparam;
  rv[0]   = a.fourier_scale;
  for (PetscInt i = 0; i < AZ_MAX_COORD; i++) rv[1 + i] = a.period[i];
  PetscCall(AzFileWrite(file, m, sizeof m));
  PetscCall(AzFileWrite(file, iv, sizeof iv));
  PetscCall(AzFileWrite(file, rv, sizeof rv));
  {
    const int64_t ext[2] = {a.net, a.rwf ? 1 : 0};
    PetscCall(AzFileWrite(file, ext, sizeof ext));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzFieldFileRead(MPI_Comm comm, FILE *fp, const char path[], void *buf, size_t n, const char what[])
{
  PetscFunctionBegin;
  PetscCheck(fread(buf, 1, n, fp) == n, comm, PETSC_ERR_FILE_READ, "%s is truncated: it ends inside %s", path, what);
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzFieldReadHeader(AzField f, FILE *fp, const char path[], const char magic[], const char kind[])
{
  AzFieldArchitecture a;
  char                m[8], want[8] = {0};
  int64_t             iv[8 + AZ_MAX_COORD + 1];
  double              rv[1 + AZ_MAX_COORD];
  int64_t             ext[2] = {AZ_NET_MLP, 0}; /* version 1: an MLP without RWF */
  char                diff[512] = "";
  PetscInt            n = 0;
  PetscBool           same;

  PetscFunctionBegin;
  PetscCall(AzFieldGetArchitecture(f, &a));
  PetscCall(PetscStrncpy(want, magic, sizeof want));
  PetscCall(AzFieldFileRead(f->comm, fp, path, m, sizeof m, "its header (the file type)"));
  if (memcmp(m, want, sizeof m)) {
    if (!memcmp(m, "AZTHETA", 8)) SETERRQ(f->comm, PETSC_ERR_FILE_UNEXPECTED, "%s is a parameters file (theta.bin), not %s: give it to -az_field_load", path, kind);
    if (!memcmp(m, "AZCKPT", 7)) SETERRQ(f->comm, PETSC_ERR_FILE_UNEXPECTED, "%s is a checkpoint, not %s: give it to -az_restart", path, kind);
    SETERRQ(f->comm, PETSC_ERR_FILE_UNEXPECTED, "%s is not %s (no ansatz header; files from before format version %d cannot be read)", path, kind, AZ_FIELD_FILE_VERSION);
  }
  PetscCall(AzFieldFileRead(f->comm, fp, path, iv, sizeof iv, "its header (the network's architecture)"));
  PetscCall(AzFieldFileRead(f->comm, fp, path, rv, sizeof rv, "its header (the network's embedding)"));
  PetscCheck(iv[0] >= 1 && iv[0] <= AZ_FIELD_FILE_VERSION, f->comm, PETSC_ERR_FILE_UNEXPECTED, "%s has format version %lld; this ansatz reads versions 1 to %d", path, (long long)iv[0], AZ_FIELD_FILE_VERSION);
  if (iv[0] >= 2) PetscCall(AzFieldFileRead(f->comm, fp, path, ext, sizeof ext, "its header (the network kind)"));
  if (ext[0] != a.net) {
    size_t len;
    PetscCall(PetscStrlen(diff, &len));
    snprintf(diff + len, sizeof diff - len, "%snetwork %s in the file, %s here", len ? "; " : "", ext[0] >= 0 && ext[0] <= AZ_NET_PIRATE ? AzNetworks[ext[0]] : "(invalid)", AzNetworks[a.net]);
  }
  if (ext[1] != (a.rwf ? 1 : 0)) {
    size_t len;
    PetscCall(PetscStrlen(diff, &len));
    snprintf(diff + len, sizeof diff - len, "%sweight factorisation %s in the file, %s here", len ? "; " : "", ext[1] ? "on" : "off", a.rwf ? "on (-az_field_rwf)" : "off");
  }
  n = 1;
#define AZ_CMP_INT(name, val) \
  do { \
    if (iv[n] != (int64_t)(val)) { \
      size_t len; \
      PetscCall(PetscStrlen(diff, &len)); \
      snprintf(diff + len, sizeof diff - len, "%s%s %lld in the file, %lld here", len ? "; " : "", name, (long long)iv[n], (long long)(val)); \
    } \
    n++; \
  } while (0)
  AZ_CMP_INT("coordinates", a.ncoord);
  AZ_CMP_INT("components", a.ncomp);
  AZ_CMP_INT("depth", a.depth);
  AZ_CMP_INT("width", a.width);
  if (iv[n] != a.act) {
    size_t len;
    PetscCall(PetscStrlen(diff, &len));
    snprintf(diff + len, sizeof diff - len, "%sactivation %s in the file, %s here", len ? "; " : "", iv[n] >= 0 && iv[n] <= AZ_ACT_SWISH ? AzActivations[iv[n]] : "(invalid)", AzActivations[a.act]);
  }
  n++;
  AZ_CMP_INT("Fourier features", a.nfourier);
  AZ_CMP_INT("Fourier seed", a.seed);
  for (PetscInt i = 0; i < AZ_MAX_COORD; i++) AZ_CMP_INT("periodic harmonics", a.nharm[i]);
#undef AZ_CMP_INT
  same = (PetscBool)(rv[0] == a.fourier_scale);
  for (PetscInt i = 0; i < AZ_MAX_COORD; i++) same = (PetscBool)(same && rv[1 + i] == a.period[i]);
  if (!same) {
    size_t len;
    PetscCall(PetscStrlen(diff, &len));
    snprintf(diff + len, sizeof diff - len, "%sFourier scale or periods differ", len ? "; " : "");
  }
  PetscCheck(!diff[0] && iv[n] == a.nparam, f->comm, PETSC_ERR_FILE_UNEXPECTED, "%s holds %lld parameters of another network (%s), this field has %" PetscInt_FMT " (%s%s, depth %" PetscInt_FMT ", width %" PetscInt_FMT ", activation %s): use the network options of the run that wrote it", path, (long long)iv[n], diff[0] ? diff : "parameter count", a.nparam, AzNetworks[a.net], a.rwf ? " with RWF" : "", a.depth, a.width, AzActivations[a.act]);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* theta.bin: the header, then θ */
PetscErrorCode AzFieldSave(AzField f, MPI_Comm comm, const char path[])
{
  AzFile             file;
  const PetscScalar *th;

  PetscFunctionBegin;
  PetscCheck(f->setupcalled, f->comm, PETSC_ERR_ORDER, "call AzFieldSetUp() before AzFieldSave()");
  PetscCall(AzFileOpen(comm, path, &file));
  PetscCall(AzFieldWriteHeader(f, file, "AZTHETA"));
  PetscCall(VecGetArrayRead(f->theta, &th));
  PetscCall(AzFileWrite(file, th, sizeof(PetscScalar) * (size_t)f->nparam));
  PetscCall(VecRestoreArrayRead(f->theta, &th));
  PetscCall(AzFileClose(&file));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* the parameters of an open theta.bin into buf, checked */
static PetscErrorCode ReadParameters(AzField f, FILE *fp, const char path[], PetscScalar buf[])
{
  char extra;

  PetscFunctionBegin;
  PetscCall(AzFieldReadHeader(f, fp, path, "AZTHETA", "a parameters file (theta.bin)"));
  PetscCall(AzFieldFileRead(f->comm, fp, path, buf, sizeof(PetscScalar) * (size_t)f->nparam, "the parameters"));
  PetscCheck(fread(&extra, 1, 1, fp) == 0, f->comm, PETSC_ERR_FILE_UNEXPECTED, "%s has data after its %" PetscInt_FMT " parameters: not a parameters file of this network", path, f->nparam);
  for (PetscInt i = 0; i < f->nparam; i++) PetscCheck(!PetscIsInfOrNanScalar(buf[i]), f->comm, PETSC_ERR_FILE_UNEXPECTED, "%s holds a non-finite parameter (index %" PetscInt_FMT ")", path, i);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* on any error the file is closed and θ is left as it was */
PetscErrorCode AzFieldLoad(AzField f, const char path[])
{
  FILE          *fp;
  PetscScalar   *buf;
  PetscErrorCode ierr;

  PetscFunctionBegin;
  PetscCheck(f->setupcalled, f->comm, PETSC_ERR_ORDER, "call AzFieldSetUp() before AzFieldLoad()");
  fp = fopen(path, "rb");
  PetscCheck(fp, f->comm, PETSC_ERR_FILE_OPEN, "Cannot read the parameters file %s", path);
  PetscCall(PetscMalloc1(f->nparam, &buf));
  ierr = ReadParameters(f, fp, path, buf);
  fclose(fp);
  if (!ierr) {
    PetscScalar *th;
    PetscCall(VecGetArrayWrite(f->theta, &th));
    PetscCall(PetscArraycpy(th, buf, f->nparam));
    PetscCall(VecRestoreArrayWrite(f->theta, &th));
  }
  PetscCall(PetscFree(buf));
  PetscCall(ierr);
  PetscFunctionReturn(PETSC_SUCCESS);
}
