/* The dense quasi-Newton arithmetic of the bfgs stage (src/trainer/qn.c, included: its functions are
 * internal): BFGS's quadratic termination, the self-scaled updates against the formula of Urbán,
 * Stefanou & Pons 2025 evaluated directly, the strong-Wolfe conditions at every accepted step. */
#include <check.h>
#include <math.h>
#include <string.h>
#include "../src/trainer/qn.c"

#define NMAX 12

static double Urand(unsigned *seed)
{
  *seed = *seed * 1103515245u + 12345u;
  return ((*seed >> 8) & 0xffffff) / (double)0x1000000;
}

/* A = Q diag(λ) Qᵀ (Q orthonormal, from Gram–Schmidt of a random matrix), λ in [1, 10]; Ainv its
 * inverse Q diag(1/λ) Qᵀ */
static void RandomSPD(int n, unsigned seed, double A[], double Ainv[])
{
  double Q[NMAX * NMAX], lam[NMAX];
  for (int k = 0; k < n * n; k++) Q[k] = Urand(&seed) - 0.5;
  for (int j = 0; j < n; j++) {
    for (int l = 0; l < j; l++) {
      double d = 0;
      for (int i = 0; i < n; i++) d += Q[i + j * n] * Q[i + l * n];
      for (int i = 0; i < n; i++) Q[i + j * n] -= d * Q[i + l * n];
    }
    double nr = 0;
    for (int i = 0; i < n; i++) nr += Q[i + j * n] * Q[i + j * n];
    for (int i = 0; i < n; i++) Q[i + j * n] /= sqrt(nr);
    lam[j] = 1 + 9 * Urand(&seed);
  }
  for (int i = 0; i < n; i++)
    for (int j = 0; j < n; j++) {
      double a = 0, ai = 0;
      for (int l = 0; l < n; l++) a += Q[i + l * n] * lam[l] * Q[j + l * n], ai += Q[i + l * n] / lam[l] * Q[j + l * n];
      A[i + j * n]    = a;
      Ainv[i + j * n] = ai;
    }
  for (int i = 0; i < n; i++) /* exactly symmetric */
    for (int j = 0; j < i; j++) A[j + i * n] = A[i + j * n], Ainv[j + i * n] = Ainv[i + j * n];
}

static void MatVec(int n, const double A[], const double x[], double y[])
{
  for (int i = 0; i < n; i++) {
    y[i] = 0;
    for (int j = 0; j < n; j++) y[i] += A[i + j * n] * x[j];
  }
}

static double Dot_(int n, const double a[], const double b[])
{
  double s = 0;
  for (int i = 0; i < n; i++) s += a[i] * b[i];
  return s;
}

/* f(x) = ½ xᵀAx − bᵀx, ∇f = Ax − b, minimised with exact line searches α = −gᵀp / pᵀAp from H_0 = I:
 * BFGS reaches the minimiser in at most n steps and then H_n = A⁻¹ ([NW] Thm. 6.4 / quadratic
 * termination); the self-scaled updates (the same directions up to scale: conjugate) reach it in at
 * most n steps too. */
START_TEST(test_qn_quadratic_termination)
{
  const int      n       = 8;
  const char    *name[]  = {"ssbroyden", "ssbfgs", "bfgs"};
  double         A[NMAX * NMAX], Ainv[NMAX * NMAX], H[NMAX * NMAX], x[NMAX], b[NMAX], g[NMAX], p[NMAX], Ap[NMAX], s[NMAX], y[NMAX], w[NMAX];
  unsigned       seed = 7;
  AzQNUpdateInfo info;

  RandomSPD(n, 11, A, Ainv);
  for (int type = 0; type < 3; type++) {
    double g0, gn = 0, err = 0, nrm = 0;
    int    steps = 0;
    for (int i = 0; i < n; i++) b[i] = Urand(&seed) - 0.5, x[i] = 0;
    for (int k = 0; k < n * n; k++) H[k] = 0;
    for (int i = 0; i < n; i++) H[i + i * n] = 1;
    MatVec(n, A, x, g);
    for (int i = 0; i < n; i++) g[i] -= b[i];
    g0 = sqrt(Dot_(n, g, g));
    for (; steps < 2 * n; steps++) {
      double alpha, sg;
      if (sqrt(Dot_(n, g, g)) <= 1e-12 * g0) break;
      MatVec(n, H, g, p);
      for (int i = 0; i < n; i++) p[i] = -p[i];
      MatVec(n, A, p, Ap);
      alpha = -Dot_(n, g, p) / Dot_(n, p, Ap);
      for (int i = 0; i < n; i++) s[i] = alpha * p[i], x[i] += s[i], y[i] = alpha * Ap[i];
      sg = Dot_(n, s, g);
      for (int i = 0; i < n; i++) g[i] += y[i];
      ck_assert_int_eq(AzQNUpdateInverse((AzQNUpdateType)type, n, H, s, y, sg, alpha, w, &info), 0);
      ck_assert_msg(!info.skipped, "%s: update %d skipped: %s", name[type], steps, info.why);
    }
    gn = sqrt(Dot_(n, g, g));
    ck_assert_msg(steps <= n && gn <= 1e-10 * g0, "%s: |g| = %g |g0| after %d steps (at most n = %d allowed)", name[type], gn / g0, steps, n);
    if (type == AZ_QN_BFGS) {
      for (int k = 0; k < n * n; k++) err = fmax(err, fabs(H[k] - Ainv[k])), nrm = fmax(nrm, fabs(Ainv[k]));
      ck_assert_msg(err <= 1e-10 * nrm, "BFGS: max |H_n - A^-1| = %g (relative %g)", err, err / nrm);
    }
  }
}
END_TEST

/* the self-scaling parameters written out from [U] (SSBroyden: θ_k⁻, θ_k⁺, θ_k, ρ_k⁺, σ_k, τ_k; SSBFGS:
 * τ_k = min(1, 1/b_k)), for the test's direct evaluation */
static void PaperParameters(int type, int n, double b, double h, double *theta, double *tau)
{
  const double a = b * h - 1;
  *theta = 0;
  *tau   = 1;
  if (type == AZ_QN_SSBFGS) *tau = fmin(1, 1 / b);
  if (type == AZ_QN_SSBROYDEN) {
    const double rho_minus = fmin(1, h * (1 - sqrt(fabs(a) / (1 + a))));
    const double theta_m = (rho_minus - 1) / a, theta_p = 1 / rho_minus;
    const double th = fmax(theta_m, fmin(theta_p, (1 - b) / b));
    const double rho_plus = fmin(1, 1 / b), sigma = 1 + a * th, sn = pow(fabs(sigma), 1.0 / (1 - n));
    *theta = th;
    *tau   = th <= 0 ? fmin(rho_plus * sn, sigma) : rho_plus * fmin(sn, 1 / th);
  }
}

/* On random H (SPD), ∇f_k, α_k, s = −α_k H ∇f_k and y with yᵀs > 0: each update equals the formula of
 * [U] evaluated directly, H_{k+1} = (1/τ)(H − H y yᵀH / yᵀHy + φ v vᵀ) + s sᵀ/yᵀs with
 * v = √(yᵀHy)(s/yᵀs − Hy/yᵀHy), φ = (1 − θ)/(1 + aθ), to 1e-12; satisfies the secant equation
 * H_{k+1} y = s; stays exactly symmetric. Both branches of τ_k (θ_k ≤ 0 and θ_k > 0) occur. An
 * update with yᵀs ≤ 0 leaves H as it was and says why. */
START_TEST(test_qn_update_formula)
{
  const int n = 7;
  unsigned  seed = 3;
  int       branch[2] = {0, 0};
  for (int trial = 0; trial < 40; trial++) {
    double A[NMAX * NMAX], Ainv[NMAX * NMAX], H0[NMAX * NMAX], g[NMAX], s[NMAX], y[NMAX], Hy[NMAX], w[NMAX], M[NMAX * NMAX], As[NMAX];
    double alpha = 0.1 + 2 * Urand(&seed), ys, yHy, sg, b, h;
    RandomSPD(n, 100 + trial, H0, Ainv);            /* H_k */
    RandomSPD(n, 500 + trial, A, Ainv);             /* the curvature y sees */
    for (int i = 0; i < n; i++) g[i] = Urand(&seed) - 0.5;
    MatVec(n, H0, g, s);
    for (int i = 0; i < n; i++) s[i] *= -alpha;     /* s = α_k p_k, p_k = −H_k ∇f_k */
    MatVec(n, A, s, As);
    {
      const double c = pow(10, -2.5 + 3 * Urand(&seed)); /* b_k on both sides of 1 */
      for (int i = 0; i < n; i++) y[i] = c * As[i] * (0.2 + 3 * Urand(&seed)); /* yᵀs > 0, not a secant of H_k */
    }
    ys = Dot_(n, y, s);
    ck_assert(ys > 0);
    MatVec(n, H0, y, Hy);
    yHy = Dot_(n, y, Hy);
    sg  = Dot_(n, s, g);
    b   = -alpha * sg / ys;
    h   = yHy / ys;
    for (int type = 0; type < 3; type++) {
      double         theta, tau, phi, v[NMAX], err = 0, nrm = 0, sec = 0, H[NMAX * NMAX], Hy1[NMAX];
      AzQNUpdateInfo info;
      PaperParameters(type, n, b, h, &theta, &tau);
      phi = (1 - theta) / (1 + (b * h - 1) * theta);
      if (type == AZ_QN_SSBROYDEN) branch[theta > 0]++;
      for (int i = 0; i < n; i++) v[i] = sqrt(yHy) * (s[i] / ys - Hy[i] / yHy);
      for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) M[i + j * n] = (H0[i + j * n] - Hy[i] * Hy[j] / yHy + phi * v[i] * v[j]) / tau + s[i] * s[j] / ys;
      memcpy(H, H0, sizeof H);
      ck_assert_int_eq(AzQNUpdateInverse((AzQNUpdateType)type, n, H, s, y, sg, alpha, w, &info), 0);
      ck_assert_msg(!info.skipped, "trial %d type %d skipped: %s", trial, type, info.why);
      ck_assert_msg(fabs(info.tau - tau) <= 1e-13 * tau && fabs(info.phi - phi) <= 1e-12 * fmax(1, fabs(phi)), "trial %d type %d: tau %.17g (paper %.17g), phi %.17g (paper %.17g)", trial, type, info.tau, tau, info.phi, phi);
      for (int k = 0; k < n * n; k++) err = fmax(err, fabs(H[k] - M[k])), nrm = fmax(nrm, fabs(M[k]));
      ck_assert_msg(err <= 1e-12 * nrm, "trial %d type %d: max |H - paper| = %g (relative %g)", trial, type, err, err / nrm);
      MatVec(n, H, y, Hy1);
      for (int i = 0; i < n; i++) sec = fmax(sec, fabs(Hy1[i] - s[i]));
      ck_assert_msg(sec <= 1e-12 * sqrt(Dot_(n, s, s)), "trial %d type %d: secant equation off by %g", trial, type, sec);
      for (int i = 0; i < n; i++)
        for (int j = 0; j < i; j++) ck_assert_msg(H[i + j * n] == H[j + i * n], "H not symmetric at (%d, %d)", i, j);
    }
  }
  ck_assert_msg(branch[0] > 0 && branch[1] > 0, "SSBroyden: theta <= 0 in %d trials, > 0 in %d: both branches must be tested", branch[0], branch[1]);
  { /* yᵀs ≤ 0: skipped, H untouched */
    double         H[4] = {1, 0, 0, 1}, s[2] = {1, 0}, y[2] = {-1, 0}, w[2];
    AzQNUpdateInfo info;
    for (int type = 0; type < 3; type++) {
      ck_assert_int_eq(AzQNUpdateInverse((AzQNUpdateType)type, 2, H, s, y, -1, 1, w, &info), 0);
      ck_assert_msg(info.skipped && strstr(info.why, "curvature") && H[0] == 1 && H[1] == 0 && H[2] == 0 && H[3] == 1, "y's <= 0 must skip the update and keep H");
    }
    y[0] = NAN;
    ck_assert_int_eq(AzQNUpdateInverse(AZ_QN_SSBROYDEN, 2, H, s, y, -1, 1, w, &info), 0);
    ck_assert_msg(info.skipped && H[0] == 1 && H[3] == 1, "a NaN in y must skip the update and keep H");
  }
}
END_TEST

/* The pieces the bfgs stage runs on a block of H's columns per rank: products and the update done on
 * blocks of 1, 2 or 3 columns' splits give the same bits as on the whole H (any rank count gives the
 * same H); H_{k+1} g from H_k g and the update's vectors matches the product with the updated H to
 * 1e-12; an update that overflows is reported as not finite by the fused check. */
START_TEST(test_qn_column_blocks)
{
  const int n = 11, splits[3][4] = {{0, 11, 11, 11}, {0, 6, 11, 11}, {0, 4, 8, 11}};
  unsigned  seed = 5;
  for (int trial = 0; trial < 10; trial++) {
    double         H0[NMAX * NMAX], Ainv[NMAX * NMAX], s[NMAX], y[NMAX], g[NMAX], u[NMAX], w[NMAX], Hfull[NMAX * NMAX], Hg1[NMAX], ref[NMAX], err = 0, nrm = 0;
    AzQNUpdateInfo info;
    PetscBool      finite;
    RandomSPD(n, 900 + trial, H0, Ainv);
    for (int i = 0; i < n; i++) g[i] = Urand(&seed) - 0.5, s[i] = Urand(&seed) - 0.5, y[i] = s[i] * (0.5 + Urand(&seed));
    AzQNColumnProducts(n, n, H0, g, y, w, u);
    ck_assert_int_eq(AzQNUpdateScalars((AzQNUpdateType)(trial % 3), n, s, y, u, -0.3 * Dot_(n, s, s), 1, &info), 0);
    ck_assert_msg(!info.skipped, "trial %d: %s", trial, info.why);
    memcpy(Hfull, H0, sizeof Hfull);
    AzQNUpdateColumns(n, 0, n, Hfull, u, s, &info, &finite);
    ck_assert(finite);
    for (int sp = 0; sp < 3; sp++) {
      double H[NMAX * NMAX], wb[NMAX], ub[NMAX], xb[NMAX];
      memcpy(H, H0, sizeof H);
      for (int b = 0; b < 3; b++) {
        const int c0 = splits[sp][b], nloc = splits[sp][b + 1] - c0;
        if (!nloc) continue;
        AzQNColumnProducts(n, nloc, H + c0 * n, g, y, wb + c0, ub + c0);
        AzQNColumnProducts(n, nloc, H + c0 * n, g, NULL, xb + c0, NULL);
        AzQNUpdateColumns(n, c0, nloc, H + c0 * n, u, s, &info, &finite);
        ck_assert(finite);
      }
      ck_assert_msg(memcmp(wb, w, n * sizeof(double)) == 0 && memcmp(ub, u, n * sizeof(double)) == 0 && memcmp(xb, w, n * sizeof(double)) == 0, "split %d: the products differ from the whole H's", sp);
      ck_assert_msg(memcmp(H, Hfull, n * n * sizeof(double)) == 0, "split %d: the updated blocks differ from the whole H's update", sp);
    }
    AzQNUpdatedProduct(n, &info, w, u, s, g, Hg1);
    MatVec(n, Hfull, g, ref);
    for (int i = 0; i < n; i++) err = fmax(err, fabs(Hg1[i] - ref[i])), nrm = fmax(nrm, fabs(ref[i]));
    ck_assert_msg(err <= 1e-12 * nrm, "trial %d: H_{k+1} g from the update's vectors is off by %g (relative %g)", trial, err, err / nrm);
  }
  { /* overflow: the fused check sees it */
    double         H[4] = {1e308, 0, 0, 1}, u[2] = {1, 0}, s[2] = {1, 0};
    AzQNUpdateInfo info;
    PetscBool      finite = PETSC_TRUE;
    memset(&info, 0, sizeof info);
    info.itau = 2;
    AzQNUpdateColumns(2, 0, 2, H, u, s, &info, &finite);
    ck_assert_msg(!finite, "an entry that overflowed to %g must be reported", H[0]);
    H[0] = 1, H[3] = NAN, info.itau = 1, finite = PETSC_TRUE;
    AzQNUpdateColumns(2, 1, 1, H + 2, u, s, &info, &finite);
    ck_assert_msg(!finite, "a NaN entry must be reported");
  }
}
END_TEST

/* extended Rosenbrock f = Σ 100 (x_{2i} − x_{2i−1}²)² + (1 − x_{2i−1})², NaN outside |x|∞ ≤ 3 (a trial
 * step beyond must be shortened, never accepted) */
typedef struct {
  int    n, nan_out;
  double x[NMAX], p[NMAX], nevals;
} Rosen;

static double RosenF(int n, const double x[], double g[], int nan_out)
{
  double f = 0;
  for (int i = 0; i < n; i++) g[i] = 0;
  for (int i = 0; i + 1 < n; i += 2) {
    const double t = x[i + 1] - x[i] * x[i], u = 1 - x[i];
    f += 100 * t * t + u * u;
    g[i] += -400 * x[i] * t - 2 * u;
    g[i + 1] += 200 * t;
  }
  if (nan_out)
    for (int i = 0; i < n; i++)
      if (fabs(x[i]) > 3) return NAN;
  return f;
}

static PetscErrorCode RosenPhi(void *ctx, PetscReal t, PetscReal *f, PetscReal *d, PetscBool *finite)
{
  Rosen *r = (Rosen *)ctx;
  double xt[NMAX], g[NMAX];
  for (int i = 0; i < r->n; i++) xt[i] = r->x[i] + t * r->p[i];
  *f      = RosenF(r->n, xt, g, r->nan_out);
  *d      = Dot_(r->n, g, r->p);
  *finite = (PetscBool)(isfinite(*f) && isfinite(*d));
  r->nevals++;
  return 0;
}

/* At every step the line search accepts, for every update, checked here by evaluating f and ∇f again:
 * f(x + tp) ≤ f(x) + c1 t ∇fᵀp and |∇f(x + tp)ᵀp| ≤ c2 |∇fᵀp|; from (−1.2, 1, …) the iterates reach
 * the minimiser (1, …, 1) to 1e-6. The NaN region outside |x|∞ ≤ 3 is never entered. */
START_TEST(test_qn_wolfe_rosenbrock)
{
  const int   n      = 6;
  const char *name[] = {"ssbroyden", "ssbfgs", "bfgs"};
  for (int nan_out = 0; nan_out < 2; nan_out++)
    for (int type = 0; type < 3; type++) {
      Rosen  r;
      double H[NMAX * NMAX], g[NMAX], gn[NMAX], s[NMAX], y[NMAX], w[NMAX], f, err = 0, fprev = 0;
      int    it, steps = 0;
      memset(&r, 0, sizeof r);
      r.n       = n;
      r.nan_out = nan_out;
      for (int i = 0; i < n; i += 2) r.x[i] = -1.2, r.x[i + 1] = 1;
      for (int k = 0; k < n * n; k++) H[k] = 0;
      for (int i = 0; i < n; i++) H[i + i * n] = 1;
      f = RosenF(n, r.x, g, nan_out);
      for (it = 0; it < 500; it++) {
        double         gtd, t1, t, ft, dt, fc, dc, sg;
        PetscInt       nev;
        PetscBool      found;
        AzQNUpdateInfo info;
        if (sqrt(Dot_(n, g, g)) < 1e-12) break;
        MatVec(n, H, g, r.p);
        for (int i = 0; i < n; i++) r.p[i] = -r.p[i];
        gtd = Dot_(n, g, r.p);
        ck_assert(gtd < 0);
        t1 = 1.01 * 2 * (it ? f - fprev : -sqrt(Dot_(n, g, g)) / 2) / gtd;
        t1 = t1 > 0 ? fmin(1, t1) : 1;
        ck_assert_int_eq(AzQNLineSearch(RosenPhi, &r, f, gtd, t1, &t, &ft, &dt, &nev, &found), 0);
        if (!found) break; /* at round-off */
        for (int i = 0; i < n; i++) s[i] = t * r.p[i], r.x[i] += s[i];
        fc = RosenF(n, r.x, gn, nan_out);
        dc = Dot_(n, gn, r.p);
        ck_assert_msg(isfinite(fc) && fc == ft, "%s: the accepted point's loss %g is not the one the search saw (%g)", name[type], fc, ft);
        ck_assert_msg(fc <= f + AZ_QN_C1 * t * gtd, "%s step %d: sufficient decrease fails: f %.17g -> %.17g, t %g, g'p %g", name[type], it, f, fc, t, gtd);
        ck_assert_msg(fabs(dc) <= AZ_QN_C2 * fabs(gtd), "%s step %d: strong curvature condition fails: |g(x+tp)'p| = %g > c2 |g'p| = %g", name[type], it, fabs(dc), AZ_QN_C2 * fabs(gtd));
        for (int i = 0; i < n; i++) y[i] = gn[i] - g[i];
        sg = Dot_(n, s, g);
        ck_assert_int_eq(AzQNUpdateInverse((AzQNUpdateType)type, n, H, s, y, sg, t, w, &info), 0);
        fprev = f;
        f     = fc;
        memcpy(g, gn, sizeof g);
        steps++;
      }
      for (int i = 0; i < n; i++) err = fmax(err, fabs(r.x[i] - 1));
      ck_assert_msg(steps > 10 && err <= 1e-6, "%s (NaN region %d): |x - 1| = %g after %d steps", name[type], nan_out, err, steps);
    }
}
END_TEST

/* a line search that cannot succeed (φ'(0) < 0 claimed, but φ rises everywhere) reports failure
 * within its evaluation budget */
static PetscErrorCode RisingPhi(void *ctx, PetscReal t, PetscReal *f, PetscReal *d, PetscBool *finite)
{
  (*(int *)ctx)++;
  *f      = 1 + t;
  *d      = 1;
  *finite = PETSC_TRUE;
  return 0;
}

START_TEST(test_qn_line_search_fails)
{
  int       calls = 0;
  PetscReal t, ft, dt;
  PetscInt  nev;
  PetscBool found = PETSC_TRUE;
  ck_assert_int_eq(AzQNLineSearch(RisingPhi, &calls, 1, -1, 1, &t, &ft, &dt, &nev, &found), 0);
  ck_assert_msg(!found && nev == calls && nev <= AZ_QN_LS_MAXEV, "found %d after %d evaluations", (int)found, (int)nev);
}
END_TEST

int main(int argc, char **argv)
{
  Suite   *s = suite_create("qn");
  TCase   *t = tcase_create("dense");
  SRunner *sr;
  int      failed;

  PetscCall(PetscInitialize(&argc, &argv, NULL, NULL));
  tcase_add_test(t, test_qn_quadratic_termination);
  tcase_add_test(t, test_qn_update_formula);
  tcase_add_test(t, test_qn_column_blocks);
  tcase_add_test(t, test_qn_wolfe_rosenbrock);
  tcase_add_test(t, test_qn_line_search_fails);
  suite_add_tcase(s, t);
  sr = srunner_create(s);
  srunner_set_fork_status(sr, CK_NOFORK);
  srunner_run_all(sr, CK_NORMAL);
  failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  PetscCall(PetscFinalize());
  return failed ? 1 : 0;
}
