/* Dense quasi-Newton arithmetic for the bfgs stage (see qn.h): the self-scaled Broyden family of
 * inverse-Hessian updates and a strong-Wolfe line search.
 *
 * Sources. [U] J. F. Urbán, P. Stefanou, J. A. Pons, "Unveiling the optimization process of physics
 * informed neural networks: how accurate and competitive can PINNs be?", J. Comput. Phys. (2025),
 * arXiv:2405.04230. [K] E. Kiyani, K. Shukla, J. F. Urbán, J. Darbon, G. E. Karniadakis, "Which
 * optimizer works best for physics-informed neural networks and Kolmogorov-Arnold networks?" (2025),
 * arXiv:2501.16371. [NW] J. Nocedal, S. Wright, Numerical Optimization, 2nd ed. (2006).
 * The self-scaled formulas are those of the authors' reference implementation (github.com/jorgeurban/
 * self_scaled_algorithms_pinns, modified_optimize.py, _minimize_bfgs), whose examples name them:
 * method_bfgs "SSBFGS_AB" is [U] eq. (11) (τ_k by Al-Baali), "SSBroyden2" is [U] eqs. (13)–(23)
 * (τ_k and φ_k); [K] uses the same two (its SSBFGS: τ_k = min(1, 1/b_k)). The equation numbers are
 * the authors' (their code comments; the finer split of (13)–(23) among the lines below could not be
 * checked against the paper's text here): each line below names the symbol of [U] it computes.
 *
 * The family, in inverse form ([U] eqs. (13)–(23); φ_k = 1 is BFGS, φ_k = 0 DFP):
 *   H_{k+1} = (1/τ_k) [H_k − H_k y yᵀ H_k / yᵀH_k y + φ_k v vᵀ] + s sᵀ / yᵀs,
 *   v = (yᵀH_k y)^{1/2} [s / yᵀs − H_k y / yᵀH_k y],
 * which satisfies the secant equation H_{k+1} y = s for every τ_k, φ_k (vᵀy = 0). */
#include "qn.h"

static PetscBool Finite(PetscReal x)
{
  return PetscIsInfOrNanReal(x) ? PETSC_FALSE : PETSC_TRUE;
}

static PetscReal Dot(PetscInt n, const PetscReal a[], const PetscReal b[])
{
  PetscReal s = 0;
  for (PetscInt i = 0; i < n; i++) s += a[i] * b[i];
  return s;
}

/* θ_k and τ_k of SSBroyden ([U] eqs. (13)–(23), the reference code's "SSBroyden2"), from a_k, b_k,
 * h_k and the dimension n */
static void SSBroydenParameters(PetscReal a, PetscReal b, PetscReal h, PetscInt n, PetscReal *theta, PetscReal *tau)
{
  const PetscReal c     = PetscSqrtReal(PetscAbsReal(a) / (1 + a)); /* √(a_k / (1 + a_k)) (|a_k|: a_k ≥ 0 up to round-off) */
  const PetscReal rho_m = PetscMin(1, h * (1 - c));                   /* ρ_k⁻ = min(1, h_k (1 − √(a_k/(1+a_k)))) */
  const PetscReal th_m  = (rho_m - 1) / a;                            /* θ_k⁻ = (ρ_k⁻ − 1) / a_k */
  const PetscReal th_p  = 1 / rho_m;                                  /* θ_k⁺ = 1 / ρ_k⁻ */
  const PetscReal th    = PetscMax(th_m, PetscMin(th_p, (1 - b) / b)); /* θ_k = max(θ_k⁻, min(θ_k⁺, (1 − b_k)/b_k)) */
  const PetscReal rho_p = PetscMin(1, 1 / b);                         /* ρ_k⁺ = min(1, 1/b_k) */
  const PetscReal sigma = 1 + th * a;                                 /* σ_k = 1 + θ_k a_k */
  /* σ_k^{1/(1−n)} (n = 1 has no such factor: 1) */
  const PetscReal sig_n = n > 1 ? PetscPowReal(PetscAbsReal(sigma), 1 / (PetscReal)(1 - n)) : 1;
  *theta                = th;
  /* τ_k = min(ρ_k⁺ σ_k^{1/(1−n)}, σ_k) for θ_k ≤ 0, else ρ_k⁺ min(σ_k^{1/(1−n)}, 1/θ_k) */
  *tau = th <= 0 ? PetscMin(rho_p * sig_n, sigma) : rho_p * PetscMin(sig_n, 1 / th);
}

PetscErrorCode AzQNUpdateScalars(AzQNUpdateType type, PetscInt n, const PetscReal s[], const PetscReal y[], const PetscReal u[], PetscReal sg, PetscReal alpha, AzQNUpdateInfo *info)
{
  PetscReal ys, yHy, rho, h, b, a, theta = 0, phi, tau = 1;

  PetscFunctionBegin;
  PetscCall(PetscMemzero(info, sizeof *info));
  ys       = Dot(n, y, s);
  info->ys = ys;
  if (!Finite(ys) || !Finite(sg) || !Finite(alpha)) {
    info->skipped = PETSC_TRUE;
    info->why     = "s, y or the step are not finite";
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  if (!(ys > 0)) { /* a strong-Wolfe step gives yᵀs > 0; only round-off can break it */
    info->skipped = PETSC_TRUE;
    info->why     = "the curvature condition fails: yᵀs ≤ 0";
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  yHy       = Dot(n, y, u);
  info->yHy = yHy;
  if (!(yHy > 0) || !Finite(yHy)) {
    info->skipped = PETSC_TRUE;
    info->why     = "yᵀHy ≤ 0 or not finite (H is not positive definite)";
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  rho = 1 / ys;
  h   = yHy * rho;         /* h_k = yᵀH_k y / yᵀs */
  b   = -alpha * rho * sg; /* b_k = sᵀB_k s / yᵀs, with B_k s = −α_k ∇f_k */
  a   = b * h - 1;         /* a_k = b_k h_k − 1 ≥ 0 (Cauchy–Schwarz) */
  switch (type) {
  case AZ_QN_BFGS:
    break;
  case AZ_QN_SSBFGS:
    tau = PetscMin(1, 1 / b); /* [U] eq. (11): τ_k = min(1, 1/b_k) (Al-Baali); [K] the same; θ_k = 0 */
    break;
  case AZ_QN_SSBROYDEN:
    SSBroydenParameters(a, b, h, n, &theta, &tau);
    break;
  }
  phi = (1 - theta) / (1 + a * theta); /* φ_k = (1 − θ_k) / (1 + a_k θ_k) ([U], the inverse form's parameter) */
  if (!Finite(theta) || !Finite(phi) || !Finite(tau) || !(tau > 0)) {
    /* a_k = 0 to round-off (s ∥ H_k y: every member of the family is the same update) makes θ_k⁻
     * 0/0; not in [U]: take the BFGS member with [U] eq. (11)'s scaling */
    theta = 0;
    phi   = 1;
    tau   = PetscMin(1, 1 / b);
    if (!Finite(tau) || !(tau > 0)) {
      info->skipped = PETSC_TRUE;
      info->why     = "the scaling τ_k is not finite and positive (b_k ≤ 0)";
      PetscFunctionReturn(PETSC_SUCCESS);
    }
  }
  info->b     = b;
  info->h     = h;
  info->a     = a;
  info->theta = theta;
  info->phi   = phi;
  info->tau   = tau;
  /* the family's formula (top of this file) expanded in u = H_k y and s (v = √(yᵀHy) (s/yᵀs − u/yᵀHy)):
   *   H_{k+1} = H_k/τ + (φ − 1)/(τ yᵀHy) u uᵀ + (φ yᵀHy/(τ (yᵀs)²) + 1/yᵀs) s sᵀ − φ/(τ yᵀs) (s uᵀ + u sᵀ) */
  info->itau = 1 / tau;
  info->cuu  = (phi - 1) / (tau * yHy);
  info->css  = phi * yHy / (tau * ys * ys) + rho;
  info->cus  = -phi / (tau * ys);
  PetscFunctionReturn(PETSC_SUCCESS);
}

void AzQNUpdateColumns(PetscInt n, PetscInt c0, PetscInt nloc, PetscReal H[], const PetscReal u[], const PetscReal s[], const AzQNUpdateInfo *info, PetscBool *finite)
{
  const PetscReal itau = info->itau, cuu = info->cuu, css = info->css, cus = info->cus;
  int             bad = 0;

  /* Entries (i, j) and (j, i) are the same sum of the same products: H stays exactly symmetric. A
   * non-finite entry makes |h| ≤ DBL_MAX false (the check is fused into the one pass over H). */
  for (PetscInt jl = 0; jl < nloc; jl++) {
    const PetscReal uj = u[c0 + jl], sj = s[c0 + jl];
    PetscReal      *Hj = H + (size_t)jl * n;
    for (PetscInt i = 0; i < n; i++) {
      const PetscReal h = Hj[i] * itau + cuu * (u[i] * uj) + css * (s[i] * sj) + cus * (s[i] * uj + u[i] * sj);
      Hj[i]             = h;
      bad |= !(PetscAbsReal(h) <= PETSC_MAX_REAL);
    }
  }
  *finite = bad ? PETSC_FALSE : PETSC_TRUE;
}

void AzQNColumnProducts(PetscInt n, PetscInt nloc, const PetscReal H[], const PetscReal x[], const PetscReal z[], PetscReal Hx[], PetscReal Hz[])
{
  PetscInt j = 0;

  if (!z) { /* Hx alone: the same sums, four columns at a time */
    for (; j + 4 <= nloc; j += 4) {
      const PetscReal *h0 = H + (size_t)j * n, *h1 = h0 + n, *h2 = h1 + n, *h3 = h2 + n;
      PetscReal        a0 = 0, a1 = 0, a2 = 0, a3 = 0;
      for (PetscInt i = 0; i < n; i++) {
        const PetscReal xi = x[i];
        a0 += h0[i] * xi;
        a1 += h1[i] * xi;
        a2 += h2[i] * xi;
        a3 += h3[i] * xi;
      }
      Hx[j] = a0, Hx[j + 1] = a1, Hx[j + 2] = a2, Hx[j + 3] = a3;
    }
    for (; j < nloc; j++) {
      const PetscReal *h0 = H + (size_t)j * n;
      PetscReal        a0 = 0;
      for (PetscInt i = 0; i < n; i++) a0 += h0[i] * x[i];
      Hx[j] = a0;
    }
    return;
  }
  /* four columns at a time (eight independent sums hide the additions' latency); each sum runs over
   * the rows in order, so (Hx)_j has the same bits however the columns are grouped or split */
  for (; j + 4 <= nloc; j += 4) {
    const PetscReal *h0 = H + (size_t)j * n, *h1 = h0 + n, *h2 = h1 + n, *h3 = h2 + n;
    PetscReal        a0 = 0, a1 = 0, a2 = 0, a3 = 0, b0 = 0, b1 = 0, b2 = 0, b3 = 0;
    for (PetscInt i = 0; i < n; i++) {
      const PetscReal xi = x[i], zi = z[i];
      a0 += h0[i] * xi;
      a1 += h1[i] * xi;
      a2 += h2[i] * xi;
      a3 += h3[i] * xi;
      b0 += h0[i] * zi;
      b1 += h1[i] * zi;
      b2 += h2[i] * zi;
      b3 += h3[i] * zi;
    }
    Hx[j] = a0, Hx[j + 1] = a1, Hx[j + 2] = a2, Hx[j + 3] = a3;
    Hz[j] = b0, Hz[j + 1] = b1, Hz[j + 2] = b2, Hz[j + 3] = b3;
  }
  for (; j < nloc; j++) {
    const PetscReal *h0 = H + (size_t)j * n;
    PetscReal        a0 = 0, b0 = 0;
    for (PetscInt i = 0; i < n; i++) a0 += h0[i] * x[i], b0 += h0[i] * z[i];
    Hx[j] = a0, Hz[j] = b0;
  }
}

void AzQNUpdatedProduct(PetscInt n, const AzQNUpdateInfo *info, const PetscReal Hg[], const PetscReal u[], const PetscReal s[], const PetscReal g[], PetscReal out[])
{
  const PetscReal ug = Dot(n, u, g), sg = Dot(n, s, g);
  const PetscReal cu = info->cuu * ug + info->cus * sg, cs = info->css * sg + info->cus * ug;

  /* H_{k+1} g = H_k g/τ + cuu u (uᵀg) + css s (sᵀg) + cus (s (uᵀg) + u (sᵀg)) */
  for (PetscInt i = 0; i < n; i++) out[i] = Hg[i] * info->itau + cu * u[i] + cs * s[i];
}

PetscErrorCode AzQNUpdateInverse(AzQNUpdateType type, PetscInt n, PetscReal H[], const PetscReal s[], const PetscReal y[], PetscReal sg, PetscReal alpha, PetscReal work[], AzQNUpdateInfo *info)
{
  PetscReal *u = work; /* H_k y */
  PetscBool  finite;

  PetscFunctionBegin;
  AzQNColumnProducts(n, n, H, y, NULL, u, NULL);
  PetscCall(AzQNUpdateScalars(type, n, s, y, u, sg, alpha, info));
  if (info->skipped) PetscFunctionReturn(PETSC_SUCCESS);
  AzQNUpdateColumns(n, 0, n, H, u, s, info, &finite);
  if (!finite) { /* overflow: the scaled identity of [NW] eq. (6.20) from this pair */
    AzQNScaledIdentity(n, 0, n, H, info->ys / Dot(n, y, y));
    info->skipped = PETSC_TRUE;
    info->why     = "the updated H is not finite: reset to (sᵀy/yᵀy) I";
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

void AzQNScaledIdentity(PetscInt n, PetscInt c0, PetscInt nloc, PetscReal H[], PetscReal gamma)
{
  for (size_t k = 0; k < (size_t)n * nloc; k++) H[k] = 0;
  for (PetscInt jl = 0; jl < nloc; jl++) H[c0 + jl + (size_t)jl * n] = gamma;
}

/* ---- strong-Wolfe line search ------------------------------------------------------------------ */

/* minimiser of the cubic through (a, fa) with slope fpa at a, (b, fb) and (c, fc); NaN if none
 * (scipy's _cubicmin) */
static PetscReal CubicMin(PetscReal a, PetscReal fa, PetscReal fpa, PetscReal b, PetscReal fb, PetscReal c, PetscReal fc)
{
  const PetscReal C = fpa, db = b - a, dc = c - a;
  const PetscReal denom = (db * dc) * (db * dc) * (db - dc);
  const PetscReal r1 = fb - fa - C * db, r2 = fc - fa - C * dc;
  const PetscReal A = (dc * dc * r1 - db * db * r2) / denom, B = (-dc * dc * dc * r1 + db * db * db * r2) / denom;
  const PetscReal radical = B * B - 3 * A * C;
  PetscReal       x;
  if (!(radical >= 0)) return (PetscReal)NAN;
  x = a + (-B + PetscSqrtReal(radical)) / (3 * A);
  return Finite(x) ? x : (PetscReal)NAN;
}

/* minimiser of the quadratic through (a, fa) with slope fpa at a and (b, fb); NaN if none (_quadmin) */
static PetscReal QuadMin(PetscReal a, PetscReal fa, PetscReal fpa, PetscReal b, PetscReal fb)
{
  const PetscReal db = b - a, B = (fb - fa - fpa * db) / (db * db);
  const PetscReal x  = a - fpa / (2 * B);
  return Finite(x) ? x : (PetscReal)NAN;
}

/* [NW] Alg. 3.6 (zoom) as scipy's _zoom: a_lo satisfies sufficient decrease with the lower value,
 * [a_lo, a_hi] contains strong-Wolfe points. The trial is the cubic through a_lo, a_hi and the
 * previous a_hi (a_rec) when it lies inside the interval by 20% of its length, else the quadratic
 * (10%), else the midpoint. A non-finite φ(a_hi) leaves only the quadratic's or the midpoint. */
static PetscErrorCode Zoom(AzQNPhiFn phi, void *ctx, PetscReal a_lo, PetscReal a_hi, PetscReal phi_lo, PetscReal phi_hi, PetscReal dphi_lo, PetscReal f0, PetscReal d0, PetscInt *nev, PetscReal *t, PetscReal *ft, PetscReal *dt, PetscBool *found)
{
  const PetscReal delta1 = 0.2, delta2 = 0.1;
  PetscReal       phi_rec = f0, a_rec = 0;

  PetscFunctionBegin;
  *found = PETSC_FALSE;
  for (PetscInt i = 0; *nev < AZ_QN_LS_MAXEV; i++) {
    const PetscReal dalpha = a_hi - a_lo, lo = PetscMin(a_lo, a_hi), hi = PetscMax(a_lo, a_hi);
    PetscReal       a_j = (PetscReal)NAN, cchk = 0, qchk, fj, dj;
    PetscBool       fin;
    if (!(hi - lo > 1e-15 * hi)) break; /* the interval is gone (round-off): no such point resolvable */
    if (i > 0 && Finite(phi_hi) && Finite(phi_rec)) {
      cchk = delta1 * PetscAbsReal(dalpha);
      a_j  = CubicMin(a_lo, phi_lo, dphi_lo, a_hi, phi_hi, a_rec, phi_rec);
    }
    if (i == 0 || !Finite(a_j) || a_j > hi - cchk || a_j < lo + cchk) {
      qchk = delta2 * PetscAbsReal(dalpha);
      a_j  = Finite(phi_hi) ? QuadMin(a_lo, phi_lo, dphi_lo, a_hi, phi_hi) : (PetscReal)NAN;
      if (!Finite(a_j) || a_j > hi - qchk || a_j < lo + qchk) a_j = a_lo + dalpha / 2;
    }
    PetscCall(phi(ctx, a_j, &fj, &dj, &fin));
    (*nev)++;
    if (!fin || fj > f0 + AZ_QN_C1 * a_j * d0 || fj >= phi_lo) {
      phi_rec = phi_hi;
      a_rec   = a_hi;
      a_hi    = a_j;
      phi_hi  = fin ? fj : PETSC_INFINITY;
    } else {
      if (PetscAbsReal(dj) <= -AZ_QN_C2 * d0) { /* strong Wolfe: accept */
        *t     = a_j;
        *ft    = fj;
        *dt    = dj;
        *found = PETSC_TRUE;
        break;
      }
      if (dj * (a_hi - a_lo) >= 0) {
        phi_rec = phi_hi;
        a_rec   = a_hi;
        a_hi    = a_lo;
        phi_hi  = phi_lo;
      } else {
        phi_rec = phi_lo;
        a_rec   = a_lo;
      }
      a_lo    = a_j;
      phi_lo  = fj;
      dphi_lo = dj;
    }
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* [NW] Alg. 3.5 as scipy's scalar_search_wolfe2: double the step until a bracket is found, then zoom.
 * The authors' runs (scipy's BFGS driver) try MINPACK's dcsrch (Moré–Thuente) first and this one when
 * it fails; both accept only strong-Wolfe points with the same c1, c2 and first trial step. scipy
 * allows 10 doublings and 10 zoom steps; here 30 evaluations in all. */
PetscErrorCode AzQNLineSearch(AzQNPhiFn phi, void *ctx, PetscReal f0, PetscReal d0, PetscReal t1, PetscReal *t, PetscReal *ft, PetscReal *dt, PetscInt *nev, PetscBool *found)
{
  PetscReal a0 = 0, phi_a0 = f0, dphi_a0 = d0, a1 = t1, f1, d1;
  PetscBool fin;

  PetscFunctionBegin;
  *found = PETSC_FALSE;
  *nev   = 0;
  if (!(d0 < 0) || !Finite(f0) || !(t1 > 0) || !Finite(t1)) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(phi(ctx, a1, &f1, &d1, &fin));
  (*nev)++;
  for (PetscInt i = 0;; i++) {
    if (!fin || f1 > f0 + AZ_QN_C1 * a1 * d0 || (i > 0 && f1 >= phi_a0)) { /* [a0, a1] brackets */
      PetscCall(Zoom(phi, ctx, a0, a1, phi_a0, fin ? f1 : PETSC_INFINITY, dphi_a0, f0, d0, nev, t, ft, dt, found));
      break;
    }
    if (PetscAbsReal(d1) <= -AZ_QN_C2 * d0) { /* strong Wolfe at a1 */
      *t     = a1;
      *ft    = f1;
      *dt    = d1;
      *found = PETSC_TRUE;
      break;
    }
    if (d1 >= 0) { /* past a minimiser: [a1, a0] brackets */
      PetscCall(Zoom(phi, ctx, a1, a0, f1, phi_a0, d1, f0, d0, nev, t, ft, dt, found));
      break;
    }
    if (*nev >= AZ_QN_LS_MAXEV || !(2 * a1 <= 1e100)) break;
    a0      = a1;
    phi_a0  = f1;
    dphi_a0 = d1;
    a1      = 2 * a1;
    PetscCall(phi(ctx, a1, &f1, &d1, &fin));
    (*nev)++;
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}
