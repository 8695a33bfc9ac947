/* Discovering conservation laws nobody declared (`ansatz discover`).
 *
 * The library: monomials q_j(x, u, u_x, u_xx) of the components and their spatial derivatives, of
 * degree 1 .. d (the constant excluded), in one spatial dimension. Densities that differ by a total
 * x-derivative integrate to the same number up to boundary terms, so the library keeps one monomial
 * per class: a monomial whose Euler operator E(q) = Σ_k (−D_x)^k ∂q/∂u^(k) is a combination of the
 * Euler images of simpler monomials is left out (u_x, u·u_x, u·u_xx ≡ −u_x² ...). "Simpler": lower
 * highest derivative, then fewer derivatives, then no x, then lower degree.
 *
 * With Q_j(t) = ∫ q_j dx sampled at nt times, a law is a coefficient vector c with Σ_j c_j Q_j(t)
 * constant; its relative drift is
 *     drift(c) = max_t |Σ_j c_j (Q_j(t) − Q_j(t0))| / Σ_j |c_j| S_j,     S_j = max_t ∫|q_j| dx,
 * the change of the law over the size of its terms (S_j = max_t |Q_j(t)| when ∫|q_j| is not known).
 * AzDiscoverLaws finds the laws with drift ≤ tol (see discover/laws.c for the algorithm). */
#ifndef ANSATZ_DISCOVER_H
#define ANSATZ_DISCOVER_H
#include <ansatz/problem.h>

#define AZ_DISCOVER_MAX_ORDER 2 /* u, u_x, u_xx */

/* x^xpow · Π_c Π_k (∂^k u_c/∂x^k)^e[c][k] */
typedef struct {
  PetscInt xpow;
  PetscInt e[AZ_MAX_COMP][AZ_DISCOVER_MAX_ORDER + 1];
} AzMonomial;

typedef struct {
  PetscInt   ncomp;
  char       comp[AZ_MAX_COMP][32]; /* component names */
  PetscInt   maxorder;              /* highest derivative order in the library (0 .. 2) */
  PetscBool  order_in[AZ_DISCOVER_MAX_ORDER + 1]; /* derivative order k is a variable */
  PetscBool  with_x;
  PetscInt   degree;
  PetscInt   nfull; /* monomials before the reduction modulo total derivatives */
  PetscInt   n;     /* monomials kept */
  AzMonomial *mono; /* n of them, simplest first */
  /* the total derivatives among the full library: ntd vectors over the kept monomials and the
   * left-out ones (tdmono: the left-out monomials; td[i*(n + ntd) + j] the coefficient of monomial j,
   * j < n a kept one, j ≥ n the left-out tdmono[j − n]) */
  PetscInt    ntd;
  AzMonomial *tdmono;
  PetscReal  *td;
} AzDiscoverLibrary;

/* derivs: "x", "x,xx", "" (values only); names: "u,v" (NULL: u0,u1...) */
PETSC_EXTERN PetscErrorCode AzDiscoverLibraryCreate(MPI_Comm comm, PetscInt ncomp, const char names[], const char derivs[], PetscInt degree, PetscBool with_x, AzDiscoverLibrary *lib);
PETSC_EXTERN PetscErrorCode AzDiscoverLibraryDestroy(AzDiscoverLibrary *lib);
/* the value of a monomial at x with u[c*(AZ_DISCOVER_MAX_ORDER+1) + k] = ∂^k u_c */
PETSC_EXTERN PetscReal      AzMonomialEvaluate(const AzMonomial *m, PetscInt ncomp, PetscReal x, const PetscReal u[]);
/* "u^2*u_x", "x*v_xx" */
PETSC_EXTERN PetscErrorCode AzMonomialFormat(const AzMonomial *m, PetscInt ncomp, const char comp[][32], char buf[], size_t len);
/* parse what AzMonomialFormat writes; *ok false and msg say why it is not one */
PETSC_EXTERN PetscErrorCode AzMonomialParse(const char s[], PetscInt ncomp, const char comp[][32], AzMonomial *m, PetscBool *ok, char msg[], size_t len);
/* "u^3 - 0.0075*u_x^2" */
PETSC_EXTERN PetscErrorCode AzDiscoverFormatLaw(PetscInt nterm, const AzMonomial mono[], const PetscReal coef[], PetscInt ncomp, const char comp[][32], char buf[], size_t len);

typedef struct {
  PetscInt   n;       /* library size */
  PetscInt   nlaws;
  PetscReal *coef;    /* nlaws × n, the leading (simplest) monomial's coefficient 1 */
  PetscReal *drift;   /* relative drift of each law */
  PetscBool *vanish;  /* the law's integral is itself 0 at every time (within tol) */
  PetscInt  *lead;    /* each law's leading monomial */
  PetscReal  tol;     /* the threshold used */
  PetscReal  tol_sparse; /* the sparse forms' drift limit: max(tol, min(100 tol, signal/10)) */
  PetscReal  floor;   /* the measured noise floor: the largest drift among the directions below tol
                       * (NaN when none) */
  PetscReal  signal;  /* the smallest drift above tol (NaN when none) */
  PetscBool  gap;     /* the default tol found a gap in the spectrum */
  PetscReal  accuracy; /* the source's accuracy given (a relative drift; 0: unknown) */
  PetscReal *sdrift;  /* n: the drifts of the right singular vectors, ascending */
} AzDiscoverResult;

/* Q[i*n + j] = Q_j(t_i), i < nt (times in increasing order, t0 first); S: n scales (NULL: max_t |Q_j|);
 * tol ≤ 0: chosen from the spectrum (laws.c), with no gap counted whose upper side is at or below
 * accuracy, the source's own error on an integral as a relative drift (0: unknown). Refuses n ≥ nt. */
PETSC_EXTERN PetscErrorCode AzDiscoverLaws(MPI_Comm comm, PetscInt nt, PetscInt n, const PetscReal Q[], const PetscReal S[], PetscReal tol, PetscReal accuracy, AzDiscoverResult *res);
PETSC_EXTERN PetscErrorCode AzDiscoverResultDestroy(AzDiscoverResult *res);
/* the relative drift of a coefficient vector (the definition above) */
PETSC_EXTERN PetscReal AzDiscoverDrift(PetscInt nt, PetscInt n, const PetscReal Q[], const PetscReal S[], const PetscReal c[]);

/* A law read from discovered.json: its name and terms */
#define AZ_DISCOVER_MAX_TERMS 64
typedef struct AzDiscoveredLaw_ {
  char       name[64];
  char       formula[512];
  PetscInt   nterm;
  AzMonomial mono[AZ_DISCOVER_MAX_TERMS];
  PetscReal  coef[AZ_DISCOVER_MAX_TERMS];
  PetscReal  drift;
  PetscReal  value;         /* the law's value at the first sample time (NaN: not given) */
  char       declared[256]; /* the declared laws it matches ("" when none) */
} AzDiscoveredLaw;

/* Read a discovered.json for problem prob (its components); strict: a malformed file is an error
 * that names the file, the line and what was expected. *laws is PetscMalloc'ed (nlaws of them). */
PETSC_EXTERN PetscErrorCode AzDiscoveredRead(AzProblem prob, const char path[], PetscInt *nlaws, AzDiscoveredLaw **laws);
/* -az_conservation_from FILE: append the file's laws that the problem does not already declare to its
 * conservation laws (every strategy and diagnostic then sees them); called by AzProblemSetFromOptions */
PETSC_EXTERN PetscErrorCode AzProblemAddDiscoveredLaws(AzProblem prob, const char path[]);

/* The `ansatz discover -problem P` mode */
PETSC_EXTERN PetscErrorCode AzDiscoverRunMode(MPI_Comm comm);

#endif
