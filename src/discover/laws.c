/* Finding the laws in the integrals Q_j(t) of the library's monomials.
 *
 * Formulation. A law is c with Σ_j c_j Q_j(t) constant. We work with the differences
 * Q_j(t_i) − Q̄_j (Q̄_j the mean over the times), not with dQ_j/dt: the two matrices have the same null
 * space in exact arithmetic, but the derivative must be taken by differences of the samples, which
 * divides their noise (quadrature, the solution's own error) by Δt and adds a truncation error, so its
 * small singular values sit far above the noise of the values themselves. The differences need no
 * differentiation: their noise is the noise of Q. (Centring on the mean rather than on Q(t0) gives no
 * sample a special role.)
 *
 * Scaling. Column j is divided by S_j = max_t ∫|q_j| dx (the size of the monomial's integrand), not by
 * its own norm: a column that is itself (nearly) constant has a norm made of noise, and scaling it to 1
 * would blow that noise up to the size of the signal. With this scaling a scaled coefficient vector c'
 * (c_j = c'_j / S_j) has relative drift max_i |(G c')_i| / ‖c'‖₁ with G_ij = (Q_ij − Q_0j)/S_j: the
 * singular values measure relative drifts directly.
 *
 * Steps: the SVD of the centred, scaled matrix; the drift of each right singular vector; the null
 * space = the singular vectors with drift ≤ tol (default: the widest gap of the sorted drifts, see
 * ChooseTol); its reduced row-echelon form with the pivots taken simplest monomial first, so each law
 * has one leading monomial that no other law contains (a basis: laws that are combinations of others
 * never appear); each law made sparse by sequential thresholding with least-squares refits (drop the
 * smallest term, refit the rest, keep the drop while the drift stays ≤ the sparse tolerance); an
 * independence check; sorted by drift. The sparse tolerance is max(tol, min(100 tol, next/10)), next
 * the smallest drift above tol: a law stays an order of magnitude below anything that is not one, and
 * terms whose only use is to fit the data's own error (u + 6e-9·x·u, with tol in the middle of the gap)
 * go. */
#include "discoverimpl.h"
#include <petscblaslapack.h>

/* the relative drift of scaled coefficients c' (G: nt × n row-major, differences from t0, scaled) */
static PetscReal ScaledDrift(PetscInt nt, PetscInt n, const PetscReal G[], const PetscReal c[])
{
  PetscReal num = 0, den = 0;
  for (PetscInt j = 0; j < n; j++) den += PetscAbsReal(c[j]);
  for (PetscInt i = 0; i < nt; i++) {
    PetscReal s = 0;
    for (PetscInt j = 0; j < n; j++) s += G[i * n + j] * c[j];
    num = PetscMax(num, PetscIsInfOrNanReal(s) ? PETSC_MAX_REAL : PetscAbsReal(s));
  }
  return den > 0 ? num / den : (PetscReal)NAN;
}

PetscReal AzDiscoverDrift(PetscInt nt, PetscInt n, const PetscReal Q[], const PetscReal S[], const PetscReal c[])
{
  PetscReal num = 0, den = 0;
  for (PetscInt j = 0; j < n; j++) {
    PetscReal s = 0;
    if (S) s = S[j];
    else
      for (PetscInt i = 0; i < nt; i++) s = PetscMax(s, PetscAbsReal(Q[i * n + j]));
    den += PetscAbsReal(c[j]) * s;
  }
  for (PetscInt i = 0; i < nt; i++) {
    PetscReal d = 0;
    for (PetscInt j = 0; j < n; j++) d += c[j] * (Q[i * n + j] - Q[j]);
    num = PetscMax(num, PetscIsInfOrNanReal(d) ? PETSC_MAX_REAL : PetscAbsReal(d));
  }
  return den > 0 ? num / den : (PetscReal)NAN;
}

/* x = argmin ‖A x − b‖ (A: m × k column-major, copied), by the SVD (rank cut at 1e-13 σ_max) */
PetscErrorCode AzDiscoverLeastSquares(PetscInt m, PetscInt k, const PetscReal A[], const PetscReal b[], PetscReal x[])
{
  PetscBLASInt M, K, lwork, info, ldu;
  PetscReal   *a, *s, *u, *vt, *work, wq;

  PetscFunctionBegin;
  if (!k) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(PetscBLASIntCast(m, &M));
  PetscCall(PetscBLASIntCast(k, &K));
  ldu = M;
  PetscCall(PetscMalloc4((size_t)m * k, &a, k, &s, (size_t)m * PetscMin(m, k), &u, (size_t)k * k, &vt));
  PetscCall(PetscArraycpy(a, A, (size_t)m * k));
  lwork = -1;
  {
    PetscBLASInt mk = PetscMin(M, K);
    LAPACKgesvd_("S", "A", &M, &K, a, &M, s, u, &ldu, vt, &K, &wq, &lwork, &info);
    lwork = (PetscBLASInt)wq;
    PetscCall(PetscMalloc1(lwork, &work));
    LAPACKgesvd_("S", "A", &M, &K, a, &M, s, u, &ldu, vt, &K, work, &lwork, &info);
    PetscCheck(!info, PETSC_COMM_SELF, PETSC_ERR_LIB, "LAPACK gesvd failed (info %d) in a least-squares refit", (int)info);
    for (PetscInt j = 0; j < k; j++) x[j] = 0;
    for (PetscInt r = 0; r < mk; r++) {
      PetscReal d = 0;
      if (s[r] <= 1e-13 * s[0]) break;
      for (PetscInt i = 0; i < m; i++) d += u[r * m + i] * b[i];
      d /= s[r];
      for (PetscInt j = 0; j < k; j++) x[j] += d * vt[j * k + r];
    }
  }
  PetscCall(PetscFree(work));
  PetscCall(PetscFree4(a, s, u, vt));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The default tol: the drifts of the singular directions, sorted, split into a noise floor (the laws, as
 * exact as the data allow) and the signal (quantities that change). The split is the highest gap between
 * consecutive drifts of at least a factor 100 whose lower side is below 1e-3 (a quantity changing by 0.1%
 * of its size is not conserved at any accuracy worth the name); the highest, not the widest: integrals
 * that vanish by a symmetry of the data sit at round-off, far below the laws the solver conserves to its
 * own accuracy, and the widest gap would fall between the two. Without a factor-100 gap, the widest of
 * at least 20. tol sits at the geometric middle of the gap. Without any, there is no floor to speak of
 * and tol is a tenth of the smallest drift: nothing is found.
 *
 * The source's accuracy acc (a relative drift; 0: unknown) rules out the gaps whose upper side is at or
 * below it: a direction that changes by less than the source's own error on an integral cannot be told
 * from a law, so a gap there splits the laws among themselves (NLS's mass and momentum: their errors
 * cancel in one combination, conserved to round-off, while each alone drifts by the reference's 4e-9),
 * not the laws from the rest. The gaps left are measured as before; tol is then the geometric middle
 * of max(lower side, acc) and the upper side. */
static void ChooseTol(PetscInt n, const PetscReal d[], PetscReal acc, PetscReal *tol, PetscReal *floor, PetscReal *signal, PetscBool *gap)
{
  PetscReal best = 0;
  PetscInt  kb = -1, khigh = -1;
  for (PetscInt k = 0; k + 1 < n; k++) {
    const PetscReal lo = PetscMax(d[k], 1e-300), hi = PetscMax(d[k + 1], 1e-300), ratio = hi / lo;
    if (d[k] > 1e-3) break;
    if (!(d[k + 1] > acc)) continue; /* both sides within the source's accuracy */
    if (ratio >= 100) khigh = k;
    if (ratio > best) {
      best = ratio;
      kb   = k;
    }
  }
  if (khigh >= 0) kb = khigh;
  if (kb >= 0 && (khigh >= 0 || best >= 20)) {
    *floor  = d[kb];
    *signal = d[kb + 1];
    *tol    = PetscMin(1e-3, PetscSqrtReal(PetscMax(PetscMax(d[kb], acc), 1e-300) * d[kb + 1]));
    *gap    = PETSC_TRUE;
  } else if (n > 0 && d[n - 1] <= 1e-3 && n > 1 && d[n - 1] / PetscMax(d[0], 1e-300) < 20) {
    /* every direction conserved alike (no gap because there is no signal): all are laws */
    *floor  = d[n - 1];
    *signal = (PetscReal)NAN;
    *tol    = PetscMin(1e-3, 10 * d[n - 1]);
    *gap    = PETSC_FALSE;
  } else {
    *floor  = (PetscReal)NAN;
    *signal = n ? d[0] : (PetscReal)NAN;
    *tol    = n ? 0.1 * d[0] : 0;
    *gap    = PETSC_FALSE;
  }
}

static int CompareReal(const void *a, const void *b)
{
  const PetscReal x = *(const PetscReal *)a, y = *(const PetscReal *)b;
  return x < y ? -1 : (x > y ? 1 : 0);
}

PetscErrorCode AzDiscoverLaws(MPI_Comm comm, PetscInt nt, PetscInt n, const PetscReal Q[], const PetscReal Sin[], PetscReal tol, PetscReal accuracy, AzDiscoverResult *res)
{
  PetscReal   *S, *G, *D, *sv, *vt, *work, wq, *M, *lawc;
  PetscReal   *vdrift;
  PetscInt     r = 0, *piv, nl = 0;
  PetscBLASInt Nt, N, lwork = -1, info, one = 1;

  PetscFunctionBegin;
  PetscCall(PetscMemzero(res, sizeof *res));
  PetscCheck(n >= 1, comm, PETSC_ERR_ARG_OUTOFRANGE, "The library is empty: nothing to search");
  PetscCheck(n <= 5000, comm, PETSC_ERR_ARG_OUTOFRANGE, "A library of %" PetscInt_FMT " monomials: at most 5000", n);
  PetscCheck(n < nt, comm, PETSC_ERR_ARG_OUTOFRANGE, "The library has %" PetscInt_FMT " monomials but there are only %" PetscInt_FMT " time samples: the search needs more times than monomials (at least %" PetscInt_FMT "; several times more for a reliable null space): raise -az_discover_times (or the reference's -az_ref_nt_out, the data's times), or shrink the library (-az_discover_degree, -az_discover_derivatives, -az_discover_x)", n, nt, n + 1);
  for (PetscInt i = 0; i < nt * n; i++) PetscCheck(!PetscIsInfOrNanReal(Q[i]), comm, PETSC_ERR_FP, "The integral of monomial %" PetscInt_FMT " at time sample %" PetscInt_FMT " is not finite: the solution is not finite there", i % n, i / n);
  PetscCheck(accuracy >= 0 && accuracy < 1e-3, comm, PETSC_ERR_ARG_OUTOFRANGE, "The source's accuracy %g (a relative drift) must be >= 0 (0: unknown) and below 1e-3 (a quantity changing by 0.1%% is no law)", (double)accuracy);
  res->n        = n;
  res->accuracy = accuracy;
  PetscCall(PetscMalloc3(n, &S, (size_t)nt * n, &G, (size_t)nt * n, &D));
  for (PetscInt j = 0; j < n; j++) {
    PetscReal mean = 0;
    S[j]           = 0;
    if (Sin) S[j] = Sin[j];
    else
      for (PetscInt i = 0; i < nt; i++) S[j] = PetscMax(S[j], PetscAbsReal(Q[i * n + j]));
    if (!(S[j] > 0)) S[j] = 1; /* an integrand that vanishes on the data: the column is 0 */
    for (PetscInt i = 0; i < nt; i++) mean += Q[i * n + j] / nt;
    for (PetscInt i = 0; i < nt; i++) {
      G[i * n + j]  = (Q[i * n + j] - Q[j]) / S[j];
      D[j * nt + i] = (Q[i * n + j] - mean) / S[j]; /* column-major for LAPACK */
    }
  }
  PetscCall(PetscBLASIntCast(nt, &Nt));
  PetscCall(PetscBLASIntCast(n, &N));
  PetscCall(PetscMalloc3(n, &sv, (size_t)n * n, &vt, n, &vdrift));
  LAPACKgesvd_("N", "A", &Nt, &N, D, &Nt, sv, NULL, &one, vt, &N, &wq, &lwork, &info);
  lwork = (PetscBLASInt)wq;
  PetscCall(PetscMalloc1(lwork, &work));
  LAPACKgesvd_("N", "A", &Nt, &N, D, &Nt, sv, NULL, &one, vt, &N, work, &lwork, &info);
  PetscCheck(!info, comm, PETSC_ERR_LIB, "LAPACK gesvd failed (info %d) on the %" PetscInt_FMT " x %" PetscInt_FMT " matrix of integrals", (int)info, nt, n);
  PetscCall(PetscFree(work));
  /* vt row k (column-major n × n: vt[j*n + k]) is the k-th right singular vector */
  for (PetscInt k = 0; k < n; k++) {
    PetscReal v[5000];
    for (PetscInt j = 0; j < n; j++) v[j] = vt[j * n + k];
    vdrift[k] = ScaledDrift(nt, n, G, v);
  }
  PetscCall(PetscMalloc1(n, &res->sdrift));
  PetscCall(PetscArraycpy(res->sdrift, vdrift, n));
  qsort(res->sdrift, (size_t)n, sizeof(PetscReal), CompareReal);
  if (tol > 0) {
    res->tol    = tol;
    res->floor  = (PetscReal)NAN;
    res->signal = (PetscReal)NAN;
    for (PetscInt k = 0; k < n; k++) {
      if (res->sdrift[k] <= tol) res->floor = res->sdrift[k];
      else if (PetscIsNanReal(res->signal)) res->signal = res->sdrift[k];
    }
  } else ChooseTol(n, res->sdrift, accuracy, &res->tol, &res->floor, &res->signal, &res->gap);
  tol = res->tol;

  /* the null space, r × n row-major in M, then its reduced row-echelon form, pivots simplest first */
  PetscCall(PetscMalloc2((size_t)n * n, &M, n, &piv));
  for (PetscInt k = 0; k < n; k++)
    if (vdrift[k] <= tol) {
      for (PetscInt j = 0; j < n; j++) M[r * n + j] = vt[j * n + k];
      r++;
    }
  {
    PetscInt  np = 0;
    PetscBool used[5000];
    for (PetscInt k = 0; k < r; k++) used[k] = PETSC_FALSE;
    for (PetscInt j = 0; j < n && np < r; j++) {
      PetscInt  p  = -1;
      PetscReal mx = 1e-2; /* the rows are orthonormal: a law's entries are O(1/sqrt(terms)), noise is far smaller */
      for (PetscInt k = 0; k < r; k++)
        if (!used[k] && PetscAbsReal(M[k * n + j]) > mx) {
          mx = PetscAbsReal(M[k * n + j]);
          p  = k;
        }
      if (p < 0) continue;
      {
        const PetscReal a = M[p * n + j];
        for (PetscInt i = 0; i < n; i++) M[p * n + i] /= a;
      }
      for (PetscInt k = 0; k < r; k++)
        if (k != p) {
          const PetscReal f = M[k * n + j];
          for (PetscInt i = 0; i < n; i++) M[k * n + i] -= f * M[p * n + i];
        }
      used[p]   = PETSC_TRUE;
      piv[np++] = j;
      /* keep the pivot rows in pivot order: swap row p into position np − 1 */
      if (p != np - 1) {
        for (PetscInt i = 0; i < n; i++) {
          const PetscReal tmp  = M[p * n + i];
          M[p * n + i]        = M[(np - 1) * n + i];
          M[(np - 1) * n + i] = tmp;
        }
        {
          PetscBool tb   = used[p];
          used[p]        = used[np - 1];
          used[np - 1]   = tb;
        }
      }
    }
    r = np; /* rows left without a pivot are noise */
  }

  /* each law made sparse: drop the smallest term while the refit drift stays ≤ the sparse tolerance;
   * other pivots never enter (so the laws stay independent) */
  res->tol_sparse = PetscMax(tol, PetscIsNanReal(res->signal) ? tol : PetscMin(100 * tol, 0.1 * res->signal));
  PetscCall(PetscCalloc1((size_t)PetscMax(r, 1) * n, &lawc));
  PetscCall(PetscMalloc2(PetscMax(r, 1), &res->drift, PetscMax(r, 1), &res->vanish));
  PetscCall(PetscMalloc1(PetscMax(r, 1), &res->lead));
  for (PetscInt k = 0; k < r; k++) {
    PetscReal *c = lawc + (size_t)nl * n, *A, *b, *y, *trial;
    PetscBool  in[5000];
    PetscInt   p = piv[k];
    PetscReal  limit = res->tol_sparse; /* this law's drift limit */

    for (PetscInt j = 0; j < n; j++) {
      PetscBool ispiv = PETSC_FALSE;
      for (PetscInt q = 0; q < r; q++) ispiv = ispiv || (piv[q] == j && q != k);
      c[j]  = ispiv ? 0 : M[k * n + j];
      in[j] = (c[j] != 0) ? PETSC_TRUE : PETSC_FALSE;
    }
    c[p] = 1;
    PetscCall(PetscMalloc4((size_t)nt * n, &A, nt, &b, n, &y, n, &trial));
    {
      /* first the terms below 1e-4 of the law's largest (scaled: a ten-thousandth of its size), which
       * only fit the data's error, all at once, and refit; the drift may then rise by what such terms can
       * change it by, 2 Σ|c'_dropped| / ‖c'‖₁ (|G| ≤ 2), and is reported as it is */
      PetscReal cmax = 0, small = 0, norm1 = 0, d0 = ScaledDrift(nt, n, G, c);
      PetscInt  m = 0, idx[5000];
      PetscBool any = PETSC_FALSE;
      for (PetscInt j = 0; j < n; j++) cmax = PetscMax(cmax, PetscAbsReal(c[j]));
      for (PetscInt j = 0; j < n; j++) {
        if (!in[j] || j == p) continue;
        if (PetscAbsReal(c[j]) < 1e-4 * cmax) {
          any = PETSC_TRUE;
          small += PetscAbsReal(c[j]);
        } else idx[m++] = j;
      }
      if (any) {
        for (PetscInt q = 0; q < m; q++)
          for (PetscInt i = 0; i < nt; i++) A[q * nt + i] = G[i * n + idx[q]];
        for (PetscInt i = 0; i < nt; i++) b[i] = -G[i * n + p];
        PetscCall(AzDiscoverLeastSquares(nt, m, A, b, y));
        for (PetscInt j = 0; j < n; j++) trial[j] = 0;
        trial[p] = 1;
        for (PetscInt q = 0; q < m; q++) trial[idx[q]] = y[q];
        const PetscReal dt = ScaledDrift(nt, n, G, trial);
        for (PetscInt j = 0; j < n; j++) norm1 += PetscAbsReal(c[j]);
        if (dt <= PetscMax(limit, d0 + 2 * small / norm1)) {
          for (PetscInt j = 0; j < n; j++) in[j] = (j == p || trial[j] != 0) ? PETSC_TRUE : PETSC_FALSE;
          PetscCall(PetscArraycpy(c, trial, n));
          limit = PetscMax(limit, dt);
        }
      }
    }
    for (;;) {
      /* the smallest remaining term (by its scaled size) */
      PetscInt  jmin = -1, m = 0, idx[5000];
      PetscReal dmin = PETSC_MAX_REAL, dr;
      for (PetscInt j = 0; j < n; j++)
        if (in[j] && j != p && PetscAbsReal(c[j]) < dmin) {
          dmin = PetscAbsReal(c[j]);
          jmin = j;
        }
      if (jmin < 0) break;
      /* refit without it: min ‖Σ_{j∈S∖{p,jmin}} G_j y_j + G_p‖ */
      for (PetscInt j = 0; j < n; j++)
        if (in[j] && j != p && j != jmin) idx[m++] = j;
      for (PetscInt q = 0; q < m; q++)
        for (PetscInt i = 0; i < nt; i++) A[q * nt + i] = G[i * n + idx[q]];
      for (PetscInt i = 0; i < nt; i++) b[i] = -G[i * n + p];
      PetscCall(AzDiscoverLeastSquares(nt, m, A, b, y));
      for (PetscInt j = 0; j < n; j++) trial[j] = 0;
      trial[p] = 1;
      for (PetscInt q = 0; q < m; q++) trial[idx[q]] = y[q];
      dr = ScaledDrift(nt, n, G, trial);
      if (!(dr <= limit)) break;
      in[jmin] = PETSC_FALSE;
      PetscCall(PetscArraycpy(c, trial, n));
    }
    PetscCall(PetscFree4(A, b, y, trial));
    {
      const PetscReal d = ScaledDrift(nt, n, G, c);
      PetscReal       zero = 0, den = 0;
      if (!(d <= limit)) continue; /* the echelon form of a noisy null space can miss; such a row is no law */
      /* independence of the laws kept so far (by construction; checked, since the refits moved them) */
      {
        PetscReal *Bm, *coef, res2 = 0, nrm = 0;
        PetscInt   m = nl;
        if (m) {
          PetscCall(PetscMalloc2((size_t)n * m, &Bm, m, &coef));
          for (PetscInt q = 0; q < m; q++)
            for (PetscInt j = 0; j < n; j++) Bm[q * n + j] = lawc[(size_t)q * n + j];
          PetscCall(AzDiscoverLeastSquares(n, m, Bm, c, coef));
          for (PetscInt j = 0; j < n; j++) {
            PetscReal s = c[j];
            for (PetscInt q = 0; q < m; q++) s -= Bm[q * n + j] * coef[q];
            res2 += s * s;
            nrm += c[j] * c[j];
          }
          PetscCall(PetscFree2(Bm, coef));
          if (res2 <= 1e-12 * nrm) continue;
        }
      }
      for (PetscInt i = 0; i < nt; i++) {
        PetscReal s = 0;
        for (PetscInt j = 0; j < n; j++) s += c[j] * Q[i * n + j] / S[j];
        zero = PetscMax(zero, PetscAbsReal(s));
      }
      for (PetscInt j = 0; j < n; j++) den += PetscAbsReal(c[j]);
      res->drift[nl]  = d;
      res->vanish[nl] = (zero / den <= tol) ? PETSC_TRUE : PETSC_FALSE;
      res->lead[nl]   = p;
      nl++;
    }
  }
  /* natural units, the leading coefficient 1; sorted by drift */
  PetscCall(PetscCalloc1((size_t)PetscMax(nl, 1) * n, &res->coef));
  {
    PetscInt order[5000];
    for (PetscInt k = 0; k < nl; k++) order[k] = k;
    for (PetscInt a = 1; a < nl; a++)
      for (PetscInt b = a; b > 0 && res->drift[order[b]] < res->drift[order[b - 1]]; b--) {
        PetscInt t   = order[b];
        order[b]     = order[b - 1];
        order[b - 1] = t;
      }
    {
      PetscReal *drift, *lead_tmp;
      PetscBool *van;
      PetscInt  *lead;
      PetscCall(PetscMalloc4(PetscMax(nl, 1), &drift, PetscMax(nl, 1), &van, PetscMax(nl, 1), &lead, 1, &lead_tmp));
      for (PetscInt k = 0; k < nl; k++) {
        const PetscInt  o = order[k], p = res->lead[o];
        const PetscReal a = lawc[(size_t)o * n + p] / S[p];
        for (PetscInt j = 0; j < n; j++) res->coef[(size_t)k * n + j] = lawc[(size_t)o * n + j] / S[j] / a;
        drift[k] = res->drift[o];
        van[k]   = res->vanish[o];
        lead[k]  = p;
      }
      for (PetscInt k = 0; k < nl; k++) {
        res->drift[k]  = drift[k];
        res->vanish[k] = van[k];
        res->lead[k]   = lead[k];
      }
      PetscCall(PetscFree4(drift, van, lead, lead_tmp));
    }
  }
  res->nlaws = nl;
  PetscCall(PetscFree(lawc));
  PetscCall(PetscFree2(M, piv));
  PetscCall(PetscFree3(sv, vt, vdrift));
  PetscCall(PetscFree3(S, G, D));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzDiscoverResultDestroy(AzDiscoverResult *res)
{
  PetscFunctionBegin;
  PetscCall(PetscFree(res->coef));
  PetscCall(PetscFree2(res->drift, res->vanish));
  PetscCall(PetscFree(res->lead));
  PetscCall(PetscFree(res->sdrift));
  PetscCall(PetscMemzero(res, sizeof *res));
  PetscFunctionReturn(PETSC_SUCCESS);
}
