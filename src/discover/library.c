/* The library of candidate densities: monomials of x, the components and their x-derivatives, one per
 * class modulo total derivatives (the Euler operator, in exact polynomial arithmetic). */
#include <ansatz/discover.h>

/* ---- polynomials in x and u_c^(k), k = 0 .. 4 (the Euler operator of a library monomial reads up to
 * twice the library's order) ---------------------------------------------------------------------- */
#define PV_ORD 5
#define PV_MAX (2 + AZ_MAX_COMP * PV_ORD) /* x, the u_c^(k), and a tag: the component of an Euler image */
typedef struct {
  PetscReal     coef;
  unsigned char e[PV_MAX];
} Term;
typedef struct {
  PetscInt n, cap;
  Term    *t;
} Poly;

static PetscErrorCode PolyAdd(Poly *P, PetscReal coef, const unsigned char e[])
{
  PetscFunctionBegin;
  if (coef == 0) PetscFunctionReturn(PETSC_SUCCESS);
  for (PetscInt i = 0; i < P->n; i++)
    if (!memcmp(P->t[i].e, e, PV_MAX)) {
      P->t[i].coef += coef;
      PetscFunctionReturn(PETSC_SUCCESS);
    }
  if (P->n == P->cap) {
    Term *bigger;
    P->cap = P->cap ? 2 * P->cap : 16;
    PetscCall(PetscMalloc1(P->cap, &bigger));
    if (P->n) PetscCall(PetscArraycpy(bigger, P->t, P->n));
    PetscCall(PetscFree(P->t));
    P->t = bigger;
  }
  P->t[P->n].coef = coef;
  memcpy(P->t[P->n].e, e, PV_MAX);
  P->n++;
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode PolyFree(Poly *P)
{
  PetscFunctionBegin;
  PetscCall(PetscFree(P->t));
  P->n = P->cap = 0;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* D_x P = ∂P/∂x + Σ_{c,k} u_c^(k+1) ∂P/∂u_c^(k) */
static PetscErrorCode PolyTotalD(const Poly *P, PetscInt ncomp, Poly *R)
{
  PetscFunctionBegin;
  for (PetscInt i = 0; i < P->n; i++) {
    unsigned char e[PV_MAX];
    if (P->t[i].e[0]) {
      memcpy(e, P->t[i].e, PV_MAX);
      e[0]--;
      PetscCall(PolyAdd(R, P->t[i].coef * P->t[i].e[0], e));
    }
    for (PetscInt c = 0; c < ncomp; c++)
      for (PetscInt k = 0; k < PV_ORD; k++) {
        const PetscInt v = 1 + c * PV_ORD + k;
        if (!P->t[i].e[v]) continue;
        PetscCheck(k + 1 < PV_ORD, PETSC_COMM_SELF, PETSC_ERR_PLIB, "Euler operator: derivative order above %d", PV_ORD - 1);
        memcpy(e, P->t[i].e, PV_MAX);
        e[v]--;
        e[v + 1]++;
        PetscCall(PolyAdd(R, P->t[i].coef * P->t[i].e[v], e));
      }
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

static void MonomialExps(const AzMonomial *m, PetscInt ncomp, unsigned char e[])
{
  memset(e, 0, PV_MAX);
  e[0] = (unsigned char)m->xpow;
  for (PetscInt c = 0; c < ncomp; c++)
    for (PetscInt k = 0; k <= AZ_DISCOVER_MAX_ORDER; k++) e[1 + c * PV_ORD + k] = (unsigned char)m->e[c][k];
}

/* E_c(m) = Σ_k (−D_x)^k ∂m/∂u_c^(k), added to R with the variable index shifted by c (so the images of
 * all components live in one polynomial space: the key is the pair (c, monomial)) */
static PetscErrorCode Euler(const AzMonomial *m, PetscInt ncomp, PetscInt c, Poly *R)
{
  unsigned char e[PV_MAX];

  PetscFunctionBegin;
  MonomialExps(m, ncomp, e);
  for (PetscInt k = 0; k <= AZ_DISCOVER_MAX_ORDER; k++) {
    const PetscInt v = 1 + c * PV_ORD + k;
    Poly           A = {0}, B;
    if (!e[v]) continue;
    {
      unsigned char f[PV_MAX];
      memcpy(f, e, PV_MAX);
      f[v]--;
      PetscCall(PolyAdd(&A, (PetscReal)e[v], f));
    }
    for (PetscInt j = 0; j < k; j++) {
      B = (Poly){0};
      PetscCall(PolyTotalD(&A, ncomp, &B));
      PetscCall(PolyFree(&A));
      A = B;
      for (PetscInt i = 0; i < A.n; i++) A.t[i].coef = -A.t[i].coef;
    }
    for (PetscInt i = 0; i < A.n; i++) PetscCall(PolyAdd(R, A.t[i].coef, A.t[i].e));
    PetscCall(PolyFree(&A));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* ---- monomials ---------------------------------------------------------------------------------- */
static PetscInt Degree(const AzMonomial *m, PetscInt ncomp)
{
  PetscInt d = m->xpow;
  for (PetscInt c = 0; c < ncomp; c++)
    for (PetscInt k = 0; k <= AZ_DISCOVER_MAX_ORDER; k++) d += m->e[c][k];
  return d;
}

/* simpler first: lower highest derivative, fewer derivatives, no x, lower degree, then a fixed order */
static PetscInt g_ncomp;
static int Compare(const void *pa, const void *pb)
{
  const AzMonomial *a = (const AzMonomial *)pa, *b = (const AzMonomial *)pb;
  PetscInt          ka = 0, kb = 0, da = 0, db = 0;
  for (PetscInt c = 0; c < g_ncomp; c++)
    for (PetscInt k = 0; k <= AZ_DISCOVER_MAX_ORDER; k++) {
      if (a->e[c][k]) ka = PetscMax(ka, k);
      if (b->e[c][k]) kb = PetscMax(kb, k);
      da += k * a->e[c][k];
      db += k * b->e[c][k];
    }
  if (ka != kb) return ka < kb ? -1 : 1;
  if (da != db) return da < db ? -1 : 1;
  if ((a->xpow > 0) != (b->xpow > 0)) return a->xpow > 0 ? 1 : -1;
  if (Degree(a, g_ncomp) != Degree(b, g_ncomp)) return Degree(a, g_ncomp) < Degree(b, g_ncomp) ? -1 : 1;
  if (a->xpow != b->xpow) return a->xpow < b->xpow ? -1 : 1;
  for (PetscInt k = 0; k <= AZ_DISCOVER_MAX_ORDER; k++)
    for (PetscInt c = 0; c < g_ncomp; c++)
      if (a->e[c][k] != b->e[c][k]) return a->e[c][k] > b->e[c][k] ? -1 : 1;
  return 0;
}

PetscReal AzMonomialEvaluate(const AzMonomial *m, PetscInt ncomp, PetscReal x, const PetscReal u[])
{
  PetscReal v = 1;
  for (PetscInt i = 0; i < m->xpow; i++) v *= x;
  for (PetscInt c = 0; c < ncomp; c++)
    for (PetscInt k = 0; k <= AZ_DISCOVER_MAX_ORDER; k++)
      for (PetscInt i = 0; i < m->e[c][k]; i++) v *= u[c * (AZ_DISCOVER_MAX_ORDER + 1) + k];
  return v;
}

static const char *const suffix[AZ_DISCOVER_MAX_ORDER + 1] = {"", "_x", "_xx"};

PetscErrorCode AzMonomialFormat(const AzMonomial *m, PetscInt ncomp, const char comp[][32], char buf[], size_t len)
{
  size_t off = 0;

  PetscFunctionBegin;
  buf[0] = 0;
#define AZ_PUT(...) \
  do { \
    int w_ = snprintf(buf + off, len > off ? len - off : 0, __VA_ARGS__); \
    if (w_ > 0) off += (size_t)w_; \
  } while (0)
  if (m->xpow) {
    AZ_PUT("x");
    if (m->xpow > 1) AZ_PUT("^%d", (int)m->xpow);
  }
  for (PetscInt k = 0; k <= AZ_DISCOVER_MAX_ORDER; k++)
    for (PetscInt c = 0; c < ncomp; c++) {
      if (!m->e[c][k]) continue;
      AZ_PUT("%s%s%s", off ? "*" : "", comp[c], suffix[k]);
      if (m->e[c][k] > 1) AZ_PUT("^%d", (int)m->e[c][k]);
    }
#undef AZ_PUT
  PetscCheck(off < len, PETSC_COMM_SELF, PETSC_ERR_ARG_SIZ, "Monomial name longer than %zu characters", len);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* factors "name" or "name^p" joined by '*'; name is x or a component with an optional _x/_xx */
PetscErrorCode AzMonomialParse(const char s[], PetscInt ncomp, const char comp[][32], AzMonomial *m, PetscBool *ok, char msg[], size_t len)
{
  const char *p = s;

  PetscFunctionBegin;
  PetscCall(PetscMemzero(m, sizeof *m));
  *ok = PETSC_FALSE;
  if (!*p) {
    snprintf(msg, len, "an empty monomial");
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  while (*p) {
    size_t   n   = strcspn(p, "*^");
    char     name[64];
    long     pw  = 1;
    PetscInt hit = -1, hk = 0;
    if (n == 0 || n >= sizeof name) {
      snprintf(msg, len, "'%s': a factor is empty or too long (factors are x, a component name, or one with _x or _xx, optionally ^power, joined by *)", s);
      PetscFunctionReturn(PETSC_SUCCESS);
    }
    memcpy(name, p, n);
    name[n] = 0;
    p += n;
    if (*p == '^') {
      char *end;
      pw = strtol(p + 1, &end, 10);
      if (end == p + 1 || pw < 1 || pw > 32 || (*end && *end != '*')) {
        snprintf(msg, len, "'%s': a power must be an integer 1..32 after ^", s);
        PetscFunctionReturn(PETSC_SUCCESS);
      }
      p = end;
    }
    if (*p == '*') {
      p++;
      if (!*p) {
        snprintf(msg, len, "'%s' ends with *", s);
        PetscFunctionReturn(PETSC_SUCCESS);
      }
    }
    if (!strcmp(name, "x")) {
      m->xpow += pw;
      continue;
    }
    for (PetscInt c = 0; c < ncomp && hit < 0; c++)
      for (PetscInt k = 0; k <= AZ_DISCOVER_MAX_ORDER; k++) {
        char full[64];
        snprintf(full, sizeof full, "%s%s", comp[c], suffix[k]);
        if (!strcmp(full, name)) {
          hit = c;
          hk  = k;
          break;
        }
      }
    if (hit < 0) {
      char names[512] = "x";
      for (PetscInt c = 0; c < ncomp; c++) {
        PetscCall(PetscStrlcat(names, ", ", sizeof names));
        PetscCall(PetscStrlcat(names, comp[c], sizeof names));
        PetscCall(PetscStrlcat(names, "[_x|_xx]", sizeof names));
      }
      snprintf(msg, len, "'%s': unknown variable '%s' (allowed: %s)", s, name, names);
      PetscFunctionReturn(PETSC_SUCCESS);
    }
    m->e[hit][hk] += pw;
  }
  *ok = PETSC_TRUE;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzDiscoverFormatLaw(PetscInt nterm, const AzMonomial mono[], const PetscReal coef[], PetscInt ncomp, const char comp[][32], char buf[], size_t len)
{
  size_t off   = 0;
  PetscBool first = PETSC_TRUE;

  PetscFunctionBegin;
  buf[0] = 0;
  for (PetscInt j = 0; j < nterm; j++) {
    char      name[256], num[64];
    PetscReal a = coef[j];
    int       w;
    if (a == 0) continue;
    PetscCall(AzMonomialFormat(&mono[j], ncomp, comp, name, sizeof name));
    snprintf(num, sizeof num, "%.6g", (double)PetscAbsReal(a));
    if (!strcmp(num, "1")) num[0] = 0;
    else PetscCall(PetscStrlcat(num, "*", sizeof num));
    if (first) w = snprintf(buf + off, len > off ? len - off : 0, "%s%s%s", a < 0 ? "-" : "", num, name);
    else w = snprintf(buf + off, len > off ? len - off : 0, " %s %s%s", a < 0 ? "-" : "+", num, name);
    if (w > 0) off += (size_t)w;
    first = PETSC_FALSE;
  }
  if (first) snprintf(buf, len, "0");
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* every exponent vector of total degree 1 .. degree over the variables (slot v: -1 is x, else c*3 + k) */
static PetscErrorCode Enumerate(PetscInt nvar, const PetscInt var[], PetscInt degree, PetscInt ncomp, PetscInt *n, AzMonomial **mono)
{
  PetscInt  cap = 64, cnt = 0, e[64] = {0};
  AzMonomial *list;

  PetscFunctionBegin;
  PetscCall(PetscMalloc1(cap, &list));
  for (;;) {
    /* next exponent vector in lexicographic order with sum ≤ degree */
    PetscInt i = 0, sum = 0;
    for (; i < nvar; i++) {
      e[i]++;
      sum = 0;
      for (PetscInt j = 0; j < nvar; j++) sum += e[j];
      if (sum <= degree) break;
      e[i] = 0;
    }
    if (i == nvar) break;
    if (cnt == cap) {
      AzMonomial *bigger;
      cap *= 2;
      PetscCall(PetscMalloc1(cap, &bigger));
      PetscCall(PetscArraycpy(bigger, list, cnt));
      PetscCall(PetscFree(list));
      list = bigger;
    }
    PetscCall(PetscMemzero(&list[cnt], sizeof list[cnt]));
    for (PetscInt j = 0; j < nvar; j++) {
      if (var[j] < 0) list[cnt].xpow = e[j];
      else list[cnt].e[var[j] / (AZ_DISCOVER_MAX_ORDER + 1)][var[j] % (AZ_DISCOVER_MAX_ORDER + 1)] = e[j];
    }
    cnt++;
  }
  (void)ncomp;
  *n    = cnt;
  *mono = list;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzDiscoverLibraryCreate(MPI_Comm comm, PetscInt ncomp, const char names[], const char derivs[], PetscInt degree, PetscBool with_x, AzDiscoverLibrary *lib)
{
  PetscInt    var[64], nvar = 0, nfull = 0, nrow = 0, *keep;
  AzMonomial *full = NULL;
  Poly       *img;
  PetscReal  *basis; /* orthonormal images of the kept monomials, in row space (nrow) */
  PetscReal  *rep;   /* each kept image in terms of the orthonormal basis (for the reductions) */
  Poly        keys = {0};

  PetscFunctionBegin;
  PetscCall(PetscMemzero(lib, sizeof *lib));
  PetscCheck(ncomp >= 1 && ncomp <= AZ_MAX_COMP, comm, PETSC_ERR_ARG_OUTOFRANGE, "Library: %" PetscInt_FMT " components, allowed 1..%d", ncomp, AZ_MAX_COMP);
  PetscCheck(degree >= 1 && degree <= 8, comm, PETSC_ERR_ARG_OUTOFRANGE, "-az_discover_degree %" PetscInt_FMT ": allowed 1..8", degree);
  lib->ncomp  = ncomp;
  lib->degree = degree;
  lib->with_x = with_x;
  for (PetscInt c = 0; c < ncomp; c++) {
    const char *s = names;
    for (PetscInt k = 0; k < c && s; k++) s = strchr(s, ',') ? strchr(s, ',') + 1 : NULL;
    if (s) snprintf(lib->comp[c], sizeof lib->comp[c], "%.*s", (int)PetscMin(strcspn(s, ","), 31), s);
    else snprintf(lib->comp[c], sizeof lib->comp[c], "u%d", (int)c);
  }
  lib->order_in[0] = PETSC_TRUE;
  if (derivs && derivs[0]) {
    char  buf[256], *save = NULL;
    PetscCall(PetscStrncpy(buf, derivs, sizeof buf));
    for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
      while (*tok == ' ') tok++;
      if (!strcmp(tok, "x")) lib->order_in[1] = PETSC_TRUE;
      else if (!strcmp(tok, "xx")) lib->order_in[2] = PETSC_TRUE;
      else SETERRQ(comm, PETSC_ERR_ARG_OUTOFRANGE, "-az_discover_derivatives %s: unknown derivative '%s'; allowed: x, xx (comma separated, e.g. \"x,xx\"), or \"\" for values only", derivs, tok);
    }
  }
  for (PetscInt k = 0; k <= AZ_DISCOVER_MAX_ORDER; k++)
    if (lib->order_in[k]) lib->maxorder = k;
  if (with_x) var[nvar++] = -1;
  for (PetscInt k = 0; k <= AZ_DISCOVER_MAX_ORDER; k++)
    for (PetscInt c = 0; c < ncomp; c++)
      if (lib->order_in[k]) var[nvar++] = c * (AZ_DISCOVER_MAX_ORDER + 1) + k;
  PetscCall(Enumerate(nvar, var, degree, ncomp, &nfull, &full));
  PetscCheck(nfull <= 5000, comm, PETSC_ERR_ARG_OUTOFRANGE, "The library has %" PetscInt_FMT " monomials (degree %" PetscInt_FMT ", %" PetscInt_FMT " variables): at most 5000; lower -az_discover_degree or -az_discover_derivatives", nfull, degree, nvar);
  g_ncomp = ncomp;
  qsort(full, (size_t)nfull, sizeof *full, Compare);
  lib->nfull = nfull;

  /* the Euler images, all components stacked: row keys are (c, monomial) pairs, kept in `keys` */
  PetscCall(PetscCalloc1(nfull, &img));
  for (PetscInt j = 0; j < nfull; j++) {
    for (PetscInt c = 0; c < ncomp; c++) {
      Poly R = {0};
      PetscCall(Euler(&full[j], ncomp, c, &R));
      for (PetscInt i = 0; i < R.n; i++) {
        unsigned char e[PV_MAX];
        if (PetscAbsReal(R.t[i].coef) < 1e-12) continue;
        memcpy(e, R.t[i].e, PV_MAX);
        e[PV_MAX - 1] = (unsigned char)c; /* the image of component c */
        PetscCall(PolyAdd(&img[j], R.t[i].coef, e));
        PetscCall(PolyAdd(&keys, 1, e));
      }
      PetscCall(PolyFree(&R));
    }
  }
  nrow = keys.n;
  /* Gram–Schmidt over the columns, simplest first: a monomial is kept when its image is not in the span
   * of the kept ones; the left-out ones give the total derivatives m_j − Σ r_i m_i (E of it is 0) */
  PetscCall(PetscMalloc1(nfull, &keep));
  PetscCall(PetscCalloc1((size_t)PetscMax(nrow, 1) * nfull, &basis));
  PetscCall(PetscCalloc1((size_t)nfull * nfull, &rep));
  {
    PetscInt   nb = 0, ntd = 0, nkeep = 0;
    PetscReal *col, *R; /* R: upper triangular, kept images = basis · R */
    PetscInt  *kept;
    PetscCall(PetscMalloc1(PetscMax(nrow, 1), &col));
    PetscCall(PetscCalloc1((size_t)nfull * nfull, &R));
    PetscCall(PetscMalloc1(nfull, &kept));
    for (PetscInt j = 0; j < nfull; j++) {
      PetscReal norm0 = 0, norm = 0, proj[5000];
      for (PetscInt r = 0; r < nrow; r++) col[r] = 0;
      for (PetscInt i = 0; i < img[j].n; i++)
        for (PetscInt r = 0; r < nrow; r++)
          if (!memcmp(keys.t[r].e, img[j].t[i].e, PV_MAX)) col[r] += img[j].t[i].coef;
      for (PetscInt r = 0; r < nrow; r++) norm0 += col[r] * col[r];
      for (PetscInt pass = 0; pass < 2; pass++) /* twice is enough (Kahan–Parlett) */
        for (PetscInt b = 0; b < nb; b++) {
          PetscReal d = 0;
          for (PetscInt r = 0; r < nrow; r++) d += basis[b * nrow + r] * col[r];
          if (!pass) proj[b] = d;
          else proj[b] += d;
          for (PetscInt r = 0; r < nrow; r++) col[r] -= d * basis[b * nrow + r];
        }
      for (PetscInt r = 0; r < nrow; r++) norm += col[r] * col[r];
      if (norm0 > 0 && norm > 1e-20 * norm0) {
        norm = PetscSqrtReal(norm);
        for (PetscInt r = 0; r < nrow; r++) basis[nb * nrow + r] = col[r] / norm;
        for (PetscInt b = 0; b < nb; b++) R[b * nfull + nb] = proj[b];
        R[nb * nfull + nb] = norm;
        kept[nb++]         = j;
        keep[j]            = 1;
        nkeep++;
      } else {
        /* image_j = Σ_b proj[b] basis_b = Σ_i y_i image_{kept[i]} with R y = proj (back substitution) */
        PetscReal *y = rep + (size_t)ntd * nfull;
        for (PetscInt b = nb - 1; b >= 0; b--) {
          PetscReal s = nb ? proj[b] : 0;
          for (PetscInt i = b + 1; i < nb; i++) s -= R[b * nfull + i] * y[i];
          y[b] = s / R[b * nfull + b];
        }
        keep[j] = -1 - ntd; /* the ntd-th total derivative */
        ntd++;
      }
    }
    lib->n   = nkeep;
    lib->ntd = ntd;
    PetscCall(PetscMalloc1(nkeep, &lib->mono));
    PetscCall(PetscMalloc1(PetscMax(ntd, 1), &lib->tdmono));
    PetscCall(PetscCalloc1((size_t)PetscMax(ntd, 1) * (nkeep + ntd), &lib->td));
    for (PetscInt i = 0; i < nkeep; i++) lib->mono[i] = full[kept[i]];
    for (PetscInt j = 0, t = 0; j < nfull; j++) {
      if (keep[j] >= 0) continue;
      lib->tdmono[t] = full[j];
      /* m_j − Σ_i y_i m_kept[i] has Euler image 0 */
      lib->td[t * (nkeep + ntd) + nkeep + t] = 1;
      for (PetscInt i = 0; i < nkeep; i++) lib->td[t * (nkeep + ntd) + i] = -rep[(size_t)t * nfull + i];
      t++;
    }
    PetscCall(PetscFree(col));
    PetscCall(PetscFree(R));
    PetscCall(PetscFree(kept));
  }
  for (PetscInt j = 0; j < nfull; j++) PetscCall(PolyFree(&img[j]));
  PetscCall(PolyFree(&keys));
  PetscCall(PetscFree(img));
  PetscCall(PetscFree(basis));
  PetscCall(PetscFree(rep));
  PetscCall(PetscFree(keep));
  PetscCall(PetscFree(full));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzDiscoverLibraryDestroy(AzDiscoverLibrary *lib)
{
  PetscFunctionBegin;
  PetscCall(PetscFree(lib->mono));
  PetscCall(PetscFree(lib->tdmono));
  PetscCall(PetscFree(lib->td));
  PetscCall(PetscMemzero(lib, sizeof *lib));
  PetscFunctionReturn(PETSC_SUCCESS);
}
