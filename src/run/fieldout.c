/* field.h5 + field.xmf: the solution on a grid as HDF5 (PETSc's viewer) with an XDMF description that
 * ParaView opens: one structured grid for a steady problem, a temporal collection of spatial grids
 * (one per output time) for a time-dependent one. Every solution component, the yardstick (the exact
 * solution, else the reference) and its error, and any extra per-point fields a caller adds. */
#include "runimpl.h"
#include <ansatz/reference.h>

PetscErrorCode AzRunFieldGrid(AzProblem prob, PetscInt *m_, PetscInt *nt_, PetscInt *npts, PetscReal **x_)
{
  const AzProblemInfo *info;
  PetscInt             ncoord, dim, m, nt, ns = 1;
  PetscReal            lo[AZ_MAX_COORD], hi[AZ_MAX_COORD], *x;

  PetscFunctionBegin;
  PetscCall(AzProblemGetInfo(prob, &info));
  PetscCall(AzProblemGetNumCoords(prob, &ncoord));
  PetscCall(AzProblemGetBox(prob, lo, hi));
  dim = info->dim;
  m   = dim == 1 ? 101 : (dim == 2 ? (info->time_dependent ? 51 : 101) : (info->time_dependent ? 21 : 41));
  nt  = info->time_dependent ? 51 : 1;
  for (PetscInt d = 0; d < dim; d++) ns *= m;
  PetscCall(PetscMalloc1(ns * nt * ncoord, &x));
  for (PetscInt k = 0; k < nt; k++) {
    for (PetscInt i = 0; i < ns; i++) {
      PetscReal *p = x + (k * ns + i) * ncoord;
      PetscInt   q = i;
      for (PetscInt d = 0; d < dim; d++) {
        p[d] = lo[d] + (hi[d] - lo[d]) * (PetscReal)(q % m) / (m - 1);
        q /= m;
      }
      if (info->time_dependent) p[dim] = lo[dim] + (hi[dim] - lo[dim]) * (PetscReal)k / (nt - 1);
    }
  }
  if (m_) *m_ = m;
  if (nt_) *nt_ = nt;
  if (npts) *npts = ns * nt;
  if (x_) *x_ = x;
  else PetscCall(PetscFree(x));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* the XDMF text: one Uniform grid per time (a temporal collection when time-dependent) */
static PetscErrorCode WriteXMF(MPI_Comm comm, const char dir[], AzProblem prob, PetscInt m, PetscInt nt, PetscInt nfield, char (*fields)[64])
{
  const AzProblemInfo *info;
  PetscReal            lo[AZ_MAX_COORD], hi[AZ_MAX_COORD], org[3] = {0, 0, 0}, h[3] = {1, 1, 1};
  PetscInt             dims[3] = {1, 1, 1}, ns = 1;
  char                 path[PETSC_MAX_PATH_LEN + 16];
  AzFile               f;

  PetscFunctionBegin;
  PetscCall(AzProblemGetInfo(prob, &info));
  PetscCall(AzProblemGetBox(prob, lo, hi));
  /* XDMF orders the axes slowest first: z y x */
  for (PetscInt d = 0; d < info->dim; d++) {
    dims[2 - d] = m;
    org[2 - d]  = lo[d];
    h[2 - d]    = (hi[d] - lo[d]) / (m - 1);
    ns *= m;
  }
  snprintf(path, sizeof path, "%s/field.xmf", dir);
  PetscCall(AzFileOpen(comm, path, &f));
  PetscCall(AzFilePrintf(f, "<?xml version=\"1.0\" ?>\n<!DOCTYPE Xdmf SYSTEM \"Xdmf.dtd\" []>\n<Xdmf Version=\"2.0\">\n <Domain>\n"));
  if (info->time_dependent) PetscCall(AzFilePrintf(f, "  <Grid Name=\"%s\" GridType=\"Collection\" CollectionType=\"Temporal\">\n", info->name));
  for (PetscInt k = 0; k < nt; k++) {
    PetscCall(AzFilePrintf(f, "  <Grid Name=\"%s_%04d\" GridType=\"Uniform\">\n", info->name, (int)k));
    if (info->time_dependent) PetscCall(AzFilePrintf(f, "   <Time Value=\"%.17g\"/>\n", (double)(lo[info->dim] + (hi[info->dim] - lo[info->dim]) * k / (nt - 1))));
    PetscCall(AzFilePrintf(f, "   <Topology TopologyType=\"3DCoRectMesh\" Dimensions=\"%d %d %d\"/>\n", (int)dims[0], (int)dims[1], (int)dims[2]));
    PetscCall(AzFilePrintf(f, "   <Geometry GeometryType=\"ORIGIN_DXDYDZ\">\n    <DataItem Dimensions=\"3\" NumberType=\"Float\" Precision=\"8\" Format=\"XML\">%.17g %.17g %.17g</DataItem>\n", (double)org[0], (double)org[1], (double)org[2]));
    PetscCall(AzFilePrintf(f, "    <DataItem Dimensions=\"3\" NumberType=\"Float\" Precision=\"8\" Format=\"XML\">%.17g %.17g %.17g</DataItem>\n   </Geometry>\n", (double)h[0], (double)h[1], (double)h[2]));
    for (PetscInt a = 0; a < nfield; a++)
      PetscCall(AzFilePrintf(f, "   <Attribute Name=\"%s\" AttributeType=\"Scalar\" Center=\"Node\">\n    <DataItem Dimensions=\"%d\" NumberType=\"Float\" Precision=\"8\" Format=\"HDF\">field.h5:/step_%04d/%s</DataItem>\n   </Attribute>\n", fields[a], (int)ns, (int)k, fields[a]));
    PetscCall(AzFilePrintf(f, "  </Grid>\n"));
  }
  if (info->time_dependent) PetscCall(AzFilePrintf(f, "  </Grid>\n"));
  PetscCall(AzFilePrintf(f, " </Domain>\n</Xdmf>\n"));
  PetscCall(AzFileClose(&f));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzRunWriteField(MPI_Comm comm, const char dir[], AzProblem prob, AzLoss loss, AzReference ref, PetscInt nextra, const char *const names[], const PetscReal *const values[])
{
  const AzProblemInfo *info;
  const PetscReal     *param;
  PetscInt             m, nt, npts, ncoord, ncomp, nslot, ns, nfield, nyard, chunk = 1024;
  PetscReal           *x, *sol = NULL, *times;
  PetscScalar         *jets = NULL, *ue = NULL;
  PetscMPIInt          rank;
  char                 path[PETSC_MAX_PATH_LEN + 16], (*fields)[64], (*dsname)[96];
  AzH5Dataset         *ds;
  const PetscReal    **col;

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  PetscCall(AzProblemGetInfo(prob, &info));
  PetscCall(AzProblemGetNumCoords(prob, &ncoord));
  PetscCall(AzProblemGetParams(prob, &param));
  PetscCall(AzRunSolutionJetSize(prob, &ncomp, &nslot));
  PetscCall(AzRunFieldGrid(prob, &m, &nt, &npts, &x));
  for (PetscInt a = 0; a < nextra; a++) PetscCheck(names[a] && names[a][0] && strlen(names[a]) < 48 && !strpbrk(names[a], "/<>\"&' "), comm, PETSC_ERR_ARG_WRONG, "Extra field %" PetscInt_FMT " of field.h5: a name of 1 to 47 characters without '/', blanks or XML's special characters is required", a);
  ns    = npts / nt;
  nyard = info->exact || ref ? 2 : 0; /* yardstick and error per component */
  /* every rank takes part in the reference's first (collective) interpolation; rank 0 evaluates */
  PetscCall(PetscMalloc1(ncomp * (1 + nyard) * npts, &sol));
  if (ref) {
    PetscCall(PetscMalloc1(rank == 0 ? npts * ncomp : 1, &ue));
    PetscCall(AzReferenceInterpolate(ref, rank == 0 ? npts : 0, x, ue));
  }
  if (rank == 0) {
    /* sol: per component its values, then yardstick and error, each npts long */
    PetscCall(PetscMalloc1(chunk * ncomp * nslot, &jets));
    for (PetscInt p0 = 0; p0 < npts; p0 += chunk) {
      const PetscInt nc = PetscMin(chunk, npts - p0);
      PetscCall(AzLossEvaluateSolution(loss, nc, x + p0 * ncoord, jets));
      for (PetscInt i = 0; i < nc; i++)
        for (PetscInt c = 0; c < ncomp; c++) sol[(c * (1 + nyard)) * npts + p0 + i] = PetscRealPart(jets[(i * ncomp + c) * nslot]);
    }
    for (PetscInt i = 0; i < npts && nyard; i++) {
      PetscScalar u[AZ_MAX_COMP];
      if (info->exact) {
        AzPoint p = {x + i * ncoord, ncoord, param, -1};
        PetscCall(info->exact(&p, u));
      } else
        for (PetscInt c = 0; c < ncomp; c++) u[c] = ue[i * ncomp + c];
      for (PetscInt c = 0; c < ncomp; c++) {
        PetscReal *b = sol + (c * (1 + nyard)) * npts;
        b[npts + i]     = PetscRealPart(u[c]);
        b[2 * npts + i] = b[i] - PetscRealPart(u[c]);
      }
    }
    PetscCall(PetscFree(jets));
  }
  PetscCall(PetscFree(ue));
  /* the fields: per component u, u_exact|u_reference, u_error; then the extras */
  nfield = ncomp * (1 + nyard) + nextra;
  PetscCall(PetscMalloc4(nfield, &fields, nfield, &col, nfield * nt + 1, &ds, nfield * nt, &dsname));
  for (PetscInt c = 0; c < ncomp; c++) {
    char name[64];
    PetscCall(AzRunComponentName(prob, c, name, sizeof name));
    snprintf(fields[c * (1 + nyard)], 64, "%.40s", name);
    col[c * (1 + nyard)] = sol + (c * (1 + nyard)) * npts;
    if (nyard) {
      snprintf(fields[c * (1 + nyard) + 1], 64, "%.40s_%s", name, info->exact ? "exact" : "reference");
      snprintf(fields[c * (1 + nyard) + 2], 64, "%.40s_error", name);
      col[c * (1 + nyard) + 1] = sol + (c * (1 + nyard) + 1) * npts;
      col[c * (1 + nyard) + 2] = sol + (c * (1 + nyard) + 2) * npts;
    }
  }
  for (PetscInt a = 0; a < nextra; a++) {
    snprintf(fields[ncomp * (1 + nyard) + a], 64, "%s", names[a]);
    col[ncomp * (1 + nyard) + a] = values[a];
  }
  for (PetscInt k = 0; k < nt; k++)
    for (PetscInt a = 0; a < nfield; a++) {
      snprintf(dsname[k * nfield + a], 96, "/step_%04d/%s", (int)k, fields[a]);
      ds[k * nfield + a] = (AzH5Dataset){dsname[k * nfield + a], ns, 0, col[a] ? col[a] + k * ns : NULL};
    }
  PetscCall(PetscMalloc1(nt, &times));
  for (PetscInt k = 0; k < nt; k++) times[k] = info->time_dependent ? x[(k * ns) * ncoord + info->dim] : 0;
  ds[nfield * nt] = (AzH5Dataset){"/times", nt, 0, times};
  {
    char              mstr[32], ntstr[32];
    const char *const attr[] = {"problem", info->name, "points_per_axis", mstr, "times", ntstr, "layout", "/step_KKKK/FIELD: the values at time KKKK on the spatial grid, x fastest (see field.xmf)"};
    snprintf(mstr, sizeof mstr, "%" PetscInt_FMT, m);
    snprintf(ntstr, sizeof ntstr, "%" PetscInt_FMT, nt);
    snprintf(path, sizeof path, "%s/field.h5", dir);
    if (rank) /* only rank 0's data are read */
      for (PetscInt k = 0; k <= nfield * nt; k++) ds[k].v = NULL;
    PetscCall(AzRunWriteHDF5(comm, path, nfield * nt + 1, ds, 4, attr));
  }
  PetscCall(WriteXMF(comm, dir, prob, m, nt, nfield, fields));
  PetscCall(PetscFree(times));
  PetscCall(PetscFree4(fields, col, ds, dsname));
  PetscCall(PetscFree(sol));
  PetscCall(PetscFree(x));
  PetscFunctionReturn(PETSC_SUCCESS);
}
