/* Data in and fields out: HDF5 observations give the same loss as the same numbers in CSV, with the
 * same checks; the noise model scales the data residual by √w/σ; `ansatz sample` writes the exact
 * solution when the noise is 0 and Gaussian noise of the stated σ otherwise; field.h5 holds the
 * solution the loss evaluates, the exact solution and the error, and field.xmf names every dataset. */
#define AZ_TEST_TAG "io_"
#include "azcheck.h"
#include <petscviewerhdf5.h>
#include <math.h>
#include <unistd.h>

typedef struct {
  AzProblem prob;
  AzField   field;
  AzLoss    loss;
} Setup;

/* a small field and its loss on a problem (depth 2, width 6, seed 5; collocation sets small) */
static PetscErrorCode MakeSetup(const char *name, Setup *s)
{
  return BuildSmallSetup(PETSC_COMM_WORLD, name, 2, 6, 5, AZ_NET_MLP, PETSC_FALSE, 50, 10, 10, 0, &s->prob, &s->field, &s->loss);
}

/* n observations of heat1d (x, t, u): u = exact + 0.25 */
#define NOBS 37
static void HeatRows(PetscReal rows[NOBS * 3])
{
  for (int i = 0; i < NOBS; i++) {
    PetscReal x = (i * 0.61803398875) - (int)(i * 0.61803398875), t = (i * 0.41421356237) - (int)(i * 0.41421356237);
    rows[3 * i] = x, rows[3 * i + 1] = t, rows[3 * i + 2] = exp(-0.1 * M_PI * M_PI * t) * sin(M_PI * x) + 0.25;
  }
}

static void WriteCSV(const char *path, const PetscReal rows[], int n)
{
  PetscMPIInt rank;
  MPI_Comm_rank(PETSC_COMM_WORLD, &rank);
  MPI_Barrier(PETSC_COMM_WORLD);
  if (!rank) {
    FILE *fp = fopen(path, "w");
    fprintf(fp, "# heat1d observations\nx,t,u\n");
    for (int i = 0; i < n; i++) fprintf(fp, "%.17g,%.17g,%.17g\n", rows[3 * i], rows[3 * i + 1], rows[3 * i + 2]);
    fclose(fp);
  }
  MPI_Barrier(PETSC_COMM_WORLD);
}

/* the HDF5 layout by hand, as another program would write it: /coords (nc × ccols), /values (nv × 1) */
static void WriteH5(const char *path, const PetscReal rows[], int nc, int ccols, int nv, PetscBool with_values)
{
  PetscMPIInt rank;
  MPI_Comm_rank(PETSC_COMM_WORLD, &rank);
  MPI_Barrier(PETSC_COMM_WORLD); /* every rank is done reading the previous file of this name */
  if (!rank) {
    PetscViewer v;
    Vec         c, u;
    OK(PetscViewerHDF5Open(PETSC_COMM_SELF, path, FILE_MODE_WRITE, &v));
    OK(PetscViewerHDF5SetBaseDimension2(v, PETSC_TRUE));
    OK(VecCreateSeq(PETSC_COMM_SELF, nc * ccols, &c));
    OK(VecSetBlockSize(c, ccols));
    OK(PetscObjectSetName((PetscObject)c, "coords"));
    for (int i = 0; i < nc; i++)
      for (int k = 0; k < ccols; k++) OK(VecSetValue(c, i * ccols + k, rows[3 * i + PetscMin(k, 1)], INSERT_VALUES));
    OK(VecAssemblyBegin(c));
    OK(VecAssemblyEnd(c));
    OK(VecView(c, v));
    if (with_values) {
      OK(VecCreateSeq(PETSC_COMM_SELF, nv, &u));
      OK(PetscObjectSetName((PetscObject)u, "values"));
      for (int i = 0; i < nv; i++) OK(VecSetValue(u, i, rows[3 * i + 2], INSERT_VALUES));
      OK(VecAssemblyBegin(u));
      OK(VecAssemblyEnd(u));
      OK(VecView(u, v));
      OK(VecDestroy(&u));
    }
    OK(VecDestroy(&c));
    OK(PetscViewerDestroy(&v));
  }
  MPI_Barrier(PETSC_COMM_WORLD);
}

/* every term of the loss with -az_data FILE and the given noise options */
static void LossWithData(const char *file, const char *noise, const char *weights, PetscReal term[], PetscReal *f, PetscInt *kdata, PetscInt *nobs, PetscReal *sigma, PetscReal *weight)
{
  Setup            s;
  const PetscReal *sg, *wt;
  const char      *dfile;

  PetscOptionsSetValue(NULL, "-az_data", file);
  if (noise) PetscOptionsSetValue(NULL, "-az_data_noise", noise);
  if (weights) PetscOptionsSetValue(NULL, "-az_data_weights", weights);
  OK(MakeSetup("heat1d", &s));
  PetscOptionsClearValue(NULL, "-az_data");
  PetscOptionsClearValue(NULL, "-az_data_noise");
  PetscOptionsClearValue(NULL, "-az_data_weights");
  OK(AzLossEvaluate(s.loss, f, term, NULL));
  *kdata = LossTermIndex(s.loss, "data");
  OK(AzLossGetData(s.loss, &dfile, nobs, &sg, &wt));
  ck_assert_str_eq(dfile, file);
  *sigma  = sg[0];
  *weight = wt[0];
  FreeSetup(&s);
}

/* The same observations as CSV and as HDF5 give the same data term, bit for bit (the same rows on
 * the same ranks); -az_data_noise σ and -az_data_weights w scale it by w/σ². */
START_TEST(test_data_hdf5_and_noise)
{
  PetscReal rows[NOBS * 3], tc[AZ_MAX_TERMS], th[AZ_MAX_TERMS], tn[AZ_MAX_TERMS], fc, fh, fn, sigma, weight;
  PetscInt  kc, kh, kn, nobs;
  const char *csv = TmpPath("obs.csv"), *h5 = TmpPath("obs.h5");

  HeatRows(rows);
  WriteCSV(csv, rows, NOBS);
  WriteH5(h5, rows, NOBS, 2, NOBS, PETSC_TRUE);
  LossWithData(csv, NULL, NULL, tc, &fc, &kc, &nobs, &sigma, &weight);
  ck_assert_int_eq(nobs, NOBS);
  ck_assert(sigma == 1 && weight == 1);
  LossWithData(h5, NULL, NULL, th, &fh, &kh, &nobs, &sigma, &weight);
  ck_assert_int_eq(nobs, NOBS);
  ck_assert_int_ge(kc, 0);
  ck_assert_int_eq(kc, kh);
  ck_assert_msg(th[kh] > 0.01, "data term %g: the observations are shifted by 0.25, the term cannot vanish", (double)th[kh]);
  ck_assert_msg(tc[kc] == th[kh] && fc == fh, "data term from CSV %.17g, from HDF5 %.17g (loss %.17g vs %.17g): the same numbers must give the same term", (double)tc[kc], (double)th[kh], (double)fc, (double)fh);
  /* r = √w (u − obs)/σ: the mean square scales by w/σ² = 3/0.25 */
  LossWithData(h5, "0.5", "3", tn, &fn, &kn, &nobs, &sigma, &weight);
  ck_assert(sigma == 0.5 && weight == 3);
  ck_assert_msg(PetscAbsReal(tn[kn] - 12 * th[kh]) <= 1e-13 * tn[kn], "with sigma 0.5 and weight 3 the data term is %.17g, expected 12 x %.17g", (double)tn[kn], (double)th[kh]);
  for (PetscInt k = 0; k < kn; k++) ck_assert_msg(tn[k] == th[k], "term %d changed with the data noise", (int)k);
}
END_TEST

static void ExpectSetUpError(const char *file, const char *noise, const char *weights, const char *frag)
{
  Setup          s;
  PetscErrorCode ierr;

  last_error[0] = 0;
  if (file) PetscOptionsSetValue(NULL, "-az_data", file);
  if (noise) PetscOptionsSetValue(NULL, "-az_data_noise", noise);
  if (weights) PetscOptionsSetValue(NULL, "-az_data_weights", weights);
  memset(&s, 0, sizeof s);
  PetscPushErrorHandler(CaptureError, NULL);
  ierr = MakeSetup("heat1d", &s);
  PetscPopErrorHandler();
  PetscOptionsClearValue(NULL, "-az_data");
  PetscOptionsClearValue(NULL, "-az_data_noise");
  PetscOptionsClearValue(NULL, "-az_data_weights");
  ck_assert_msg(ierr != 0, "expected an error saying '%s'", frag);
  ck_assert_msg(strstr(last_error, frag), "the error says '%s', expected '%s'", last_error, frag);
  FreeSetup(&s);
}

/* Bad HDF5 data and bad noise options: errors that name the defect and what is allowed */
START_TEST(test_data_hdf5_errors)
{
  PetscReal   rows[NOBS * 3];
  const char *h5 = TmpPath("bad.h5");
  char        frag[PETSC_MAX_PATH_LEN + 64];

  HeatRows(rows);
  rows[3 * 4 + 2] = NAN; /* row 5's value */
  WriteH5(h5, rows, NOBS, 2, NOBS, PETSC_TRUE);
  snprintf(frag, sizeof frag, "Data file %s, row 5 (counting from 1): /values column 1 is nan", h5);
  ExpectSetUpError(h5, NULL, NULL, frag);
  HeatRows(rows);
  rows[3 * 6 + 1] = 1.5; /* row 7's t */
  WriteH5(h5, rows, NOBS, 2, NOBS, PETSC_TRUE);
  ExpectSetUpError(h5, NULL, NULL, "row 7 (counting from 1): coordinate t = 1.5 is outside the problem's box [0, 1]");
  HeatRows(rows);
  WriteH5(h5, rows, NOBS, 3, NOBS, PETSC_TRUE);
  ExpectSetUpError(h5, NULL, NULL, "dataset /coords has 3 column(s), expected 2 (problem heat1d has 2 coordinate(s), time last)");
  WriteH5(h5, rows, NOBS, 2, NOBS - 1, PETSC_TRUE);
  ExpectSetUpError(h5, NULL, NULL, "/coords has 37 rows, /values 36: one row of values per point");
  WriteH5(h5, rows, NOBS, 2, NOBS, PETSC_FALSE);
  ExpectSetUpError(h5, NULL, NULL, "has no dataset /values: an HDF5 data file holds /coords (n x ncoord) and /values (n x ncomp)");
  ExpectSetUpError(TmpPath("missing.h5"), NULL, NULL, "Cannot open the data file");
  WriteH5(h5, rows, NOBS, 2, NOBS, PETSC_TRUE);
  ExpectSetUpError(h5, "0", NULL, "-az_data_noise: a noise level must be a finite number > 0; component 0 has 0");
  ExpectSetUpError(h5, "0.1,0.2", NULL, "-az_data_noise: 2 value(s) given; allowed: one sigma for every component, or one per component (1)");
  ExpectSetUpError(h5, NULL, "-1", "-az_data_weights: a weight must be a finite number >= 0; component 0 has -1");
  ExpectSetUpError(h5, NULL, "0", "-az_data_weights: every weight is 0");
}
END_TEST

/* `ansatz sample` in-process: -az_sample_noise 0 gives the exact solution (written with 17 digits);
 * absolute noise σ = 0.1 over 20,000 points has a sample std within 3% of 0.1 and a mean within 4
 * standard errors of 0; relative noise is σ = noise × std(u); the HDF5 file holds the CSV's numbers. */
static void Sample(const char *n, const char *noise, PetscBool abs_noise, const char *out)
{
  PetscOptionsSetValue(NULL, "-problem", "heat1d");
  PetscOptionsSetValue(NULL, "-az_sample_n", n);
  PetscOptionsSetValue(NULL, "-az_sample_noise", noise);
  PetscOptionsSetValue(NULL, "-az_sample_output", out);
  PetscOptionsSetValue(NULL, "-az_sample_seed", "7");
  if (abs_noise) PetscOptionsSetValue(NULL, "-az_sample_noise_abs", NULL);
  OK(AzRunSample(PETSC_COMM_WORLD));
  PetscOptionsClearValue(NULL, "-problem");
  PetscOptionsClearValue(NULL, "-az_sample_n");
  PetscOptionsClearValue(NULL, "-az_sample_noise");
  PetscOptionsClearValue(NULL, "-az_sample_output");
  PetscOptionsClearValue(NULL, "-az_sample_seed");
  PetscOptionsClearValue(NULL, "-az_sample_noise_abs");
}

/* noisy − exact at every row: mean and (population) std; also std of the clean values */
static void NoiseStats(AzProblem prob, const char *file, PetscInt *n, PetscReal *mean, PetscReal *std, PetscReal *ustd, PetscReal *maxabs)
{
  const AzProblemInfo *info;
  const PetscReal     *param;
  PetscReal           *rows, s = 0, s2 = 0, m = 0, m2 = 0;

  AzProblemGetInfo(prob, &info);
  AzProblemGetParams(prob, &param);
  OK(AzPointsFileRead(prob, file, "-az_data", 1, n, &rows));
  *maxabs = 0;
  for (PetscInt i = 0; i < *n; i++) {
    AzPoint     p = {rows + 3 * i, 2, param, -1};
    PetscScalar u;
    OK(info->exact(&p, &u));
    s += rows[3 * i + 2] - u;
    s2 += PetscSqr(rows[3 * i + 2] - u);
    m += u;
    m2 += u * u;
    *maxabs = PetscMax(*maxabs, PetscAbsReal(rows[3 * i + 2] - u));
  }
  *mean = s / *n;
  *std  = PetscSqrtReal(s2 / *n - PetscSqr(*mean));
  *ustd = PetscSqrtReal(m2 / *n - PetscSqr(m / *n));
  PetscFree(rows);
}

START_TEST(test_sample)
{
  AzProblem   prob = LoadProblem("heat1d");
  PetscInt    n, nh;
  PetscReal   mean, std, ustd, maxabs, *a, *b;
  const char *csv = TmpPath("sample.csv"), *h5 = TmpPath("sample.h5");

  Sample("200", "0", PETSC_FALSE, csv);
  NoiseStats(prob, csv, &n, &mean, &std, &ustd, &maxabs);
  ck_assert_int_eq(n, 200);
  ck_assert_msg(maxabs <= 1e-15, "noise 0: the sample differs from the exact solution by %g", (double)maxabs);
  Sample("20000", "0.1", PETSC_TRUE, csv);
  NoiseStats(prob, csv, &n, &mean, &std, &ustd, &maxabs);
  ck_assert_msg(PetscAbsReal(std / 0.1 - 1) <= 0.03, "absolute noise 0.1: sample std %g", (double)std);
  ck_assert_msg(PetscAbsReal(mean) <= 4 * 0.1 / PetscSqrtReal(20000.0), "absolute noise 0.1: mean %g", (double)mean);
  Sample("20000", "0.05", PETSC_FALSE, csv);
  NoiseStats(prob, csv, &n, &mean, &std, &ustd, &maxabs);
  ck_assert_msg(PetscAbsReal(std / (0.05 * ustd) - 1) <= 0.03, "relative noise 0.05: sample std %g, expected 0.05 x std(u) = %g", (double)std, (double)(0.05 * ustd));
  /* the same seed as HDF5: the same numbers */
  Sample("20000", "0.05", PETSC_FALSE, h5);
  OK(AzPointsFileRead(prob, csv, "-az_data", 1, &n, &a));
  OK(AzPointsFileRead(prob, h5, "-az_data", 1, &nh, &b));
  ck_assert_int_eq(n, nh);
  for (PetscInt i = 0; i < 3 * n; i++) ck_assert_msg(a[i] == b[i], "entry %d: CSV %.17g, HDF5 %.17g", (int)i, (double)a[i], (double)b[i]);
  PetscFree(a);
  PetscFree(b);
  AzProblemDestroy(&prob);
}
END_TEST

static void LoadDataset(PetscViewer v, const char *name, PetscInt n, Vec *x)
{
  PetscBool has;
  char      group[128];
  const char *slash = strrchr(name, '/');
  OK(PetscViewerHDF5HasDataset(v, name, &has));
  ck_assert_msg(has, "field.h5 lacks %s", name);
  snprintf(group, sizeof group, "%.*s", (int)(slash - name), name);
  OK(VecCreateSeq(PETSC_COMM_SELF, n, x));
  OK(PetscObjectSetName((PetscObject)*x, slash + 1));
  OK(PetscViewerHDF5PushGroup(v, group[0] ? group : "/"));
  OK(VecLoad(*x, v));
  OK(PetscViewerHDF5PopGroup(v));
}

/* field.h5 against the loss's own solution, the exact solution and their difference at every point of
 * chosen times; an extra field round-trips; field.xmf has a grid per time and names only datasets
 * that exist */
static void CheckField(const char *problem, PetscInt nt_expect, const char *dims)
{
  Setup                s;
  const AzProblemInfo *info;
  const PetscReal     *param;
  PetscInt             m, nt, npts, ncoord, ns, nslot;
  PetscReal           *x, *extra;
  PetscScalar         *jets;
  char                 dir[PETSC_MAX_PATH_LEN], path[PETSC_MAX_PATH_LEN + 32];
  const char          *names[1] = {"u_std"};
  PetscMPIInt          rank;

  MPI_Comm_rank(PETSC_COMM_WORLD, &rank);
  snprintf(dir, sizeof dir, "%s", TmpPath(problem));
  OK(AzRunMakeDirectory(PETSC_COMM_WORLD, dir));
  OK(MakeSetup(problem, &s));
  AzProblemGetInfo(s.prob, &info);
  AzProblemGetParams(s.prob, &param);
  AzProblemGetNumCoords(s.prob, &ncoord);
  OK(AzRunFieldGrid(s.prob, &m, &nt, &npts, &x));
  ck_assert_int_eq(nt, nt_expect);
  ns    = npts / nt;
  nslot = AZ_JET_NSLOT(ncoord);
  PetscMalloc2(npts, &extra, npts * info->ncomp * nslot, &jets);
  for (PetscInt i = 0; i < npts; i++) extra[i] = 0.5 * i;
  {
    const PetscReal *vals[1] = {extra};
    OK(AzRunWriteField(PETSC_COMM_WORLD, dir, s.prob, s.loss, NULL, 1, names, vals));
  }
  if (!rank) {
    PetscViewer v;
    const PetscInt steps[3] = {0, nt / 3, nt - 1};
    OK(AzLossEvaluateSolution(s.loss, npts, x, jets));
    snprintf(path, sizeof path, "%s/field.h5", dir);
    OK(PetscViewerHDF5Open(PETSC_COMM_SELF, path, FILE_MODE_READ, &v));
    for (int j = 0; j < 3; j++) {
      const PetscInt     k = steps[j];
      Vec                u, ue, err, sd;
      const PetscScalar *a, *b, *c, *d;
      char               name[64];
      snprintf(name, sizeof name, "/step_%04d/u", (int)k);
      LoadDataset(v, name, ns, &u);
      snprintf(name, sizeof name, "/step_%04d/u_exact", (int)k);
      LoadDataset(v, name, ns, &ue);
      snprintf(name, sizeof name, "/step_%04d/u_error", (int)k);
      LoadDataset(v, name, ns, &err);
      snprintf(name, sizeof name, "/step_%04d/u_std", (int)k);
      LoadDataset(v, name, ns, &sd);
      VecGetArrayRead(u, &a), VecGetArrayRead(ue, &b), VecGetArrayRead(err, &c), VecGetArrayRead(sd, &d);
      for (PetscInt i = 0; i < ns; i++) {
        const PetscInt p  = k * ns + i;
        AzPoint        pt = {x + p * ncoord, ncoord, param, -1};
        PetscScalar    exact;
        OK(info->exact(&pt, &exact));
        ck_assert_msg(a[i] == jets[p * info->ncomp * nslot], "%s step %d point %d: u %.17g in field.h5, %.17g from the loss", problem, (int)k, (int)i, (double)a[i], (double)jets[p * info->ncomp * nslot]);
        ck_assert_msg(b[i] == exact, "%s step %d point %d: u_exact %.17g, exact %.17g", problem, (int)k, (int)i, (double)b[i], (double)exact);
        ck_assert_msg(c[i] == a[i] - b[i], "%s step %d point %d: u_error is not u - u_exact", problem, (int)k, (int)i);
        ck_assert_msg(d[i] == extra[p], "%s step %d point %d: u_std %.17g, given %.17g", problem, (int)k, (int)i, (double)d[i], (double)extra[p]);
      }
      VecRestoreArrayRead(u, &a), VecRestoreArrayRead(ue, &b), VecRestoreArrayRead(err, &c), VecRestoreArrayRead(sd, &d);
      VecDestroy(&u), VecDestroy(&ue), VecDestroy(&err), VecDestroy(&sd);
    }
    {
      Vec                t;
      const PetscScalar *a;
      LoadDataset(v, "/times", nt, &t);
      VecGetArrayRead(t, &a);
      for (PetscInt k = 0; k < nt; k++) ck_assert_msg(a[k] == (info->time_dependent ? x[k * ns * ncoord + ncoord - 1] : 0), "/times[%d] = %g", (int)k, (double)a[k]);
      VecRestoreArrayRead(t, &a);
      VecDestroy(&t);
    }
    /* field.xmf: one grid per time, each attribute a dataset of field.h5 */
    {
      FILE  *fp;
      char   line[1024];
      int    grids = 0, times = 0, attrs = 0, topo = 0;
      snprintf(path, sizeof path, "%s/field.xmf", dir);
      fp = fopen(path, "r");
      ck_assert_msg(fp != NULL, "no %s", path);
      while (fgets(line, sizeof line, fp)) {
        char *h = strstr(line, "field.h5:");
        grids += strstr(line, "GridType=\"Uniform\"") != NULL;
        times += strstr(line, "<Time Value=") != NULL;
        topo += strstr(line, dims) != NULL;
        if (h) {
          PetscBool has;
          h += strlen("field.h5:");
          h[strcspn(h, "<")] = 0;
          OK(PetscViewerHDF5HasDataset(v, h, &has));
          ck_assert_msg(has, "field.xmf names %s, which field.h5 lacks", h);
          attrs++;
        }
      }
      fclose(fp);
      ck_assert_int_eq(grids, nt);
      ck_assert_int_eq(times, info->time_dependent ? nt : 0);
      ck_assert_int_eq(topo, nt);
      ck_assert_int_eq(attrs, 4 * nt); /* u, u_exact, u_error, u_std */
    }
    OK(PetscViewerDestroy(&v));
  }
  PetscFree2(extra, jets);
  PetscFree(x);
  FreeSetup(&s);
}

START_TEST(test_field_h5)
{
  CheckField("heat1d", 51, "Dimensions=\"1 1 101\"");
  CheckField("poisson2d", 1, "Dimensions=\"1 101 101\"");
}
END_TEST

static Suite *IOSuite(void)
{
  Suite *s  = suite_create("io");
  TCase *tc = tcase_create("io");
  tcase_set_timeout(tc, 600);
  tcase_add_test(tc, test_data_hdf5_and_noise);
  tcase_add_test(tc, test_data_hdf5_errors);
  tcase_add_test(tc, test_sample);
  tcase_add_test(tc, test_field_h5);
  suite_add_tcase(s, tc);
  return s;
}

int main(int argc, char **argv)
{
  SRunner *sr;
  int      failed;
  MPI_Comm pinned;

  PetscCall(PetscInitialize(&argc, &argv, NULL, NULL));
  PetscCall(PetscCommDuplicate(PETSC_COMM_WORLD, &pinned, NULL));
  sr = srunner_create(IOSuite());
  srunner_set_fork_status(sr, CK_NOFORK);
  srunner_run_all(sr, CK_NORMAL);
  failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  PetscCall(PetscCommDestroy(&pinned));
  PetscCall(PetscFinalize());
  return failed ? 1 : 0;
}
