/* The exact, order-free sum of group matrices for dense JᵀJ (see reduce.c): pre-rounding to powers of
 * two set by the total diagonal. Self-contained, so the tests include it. */
#if defined(__GNUC__) && !defined(__clang__)
  #pragma GCC optimize("tree-vectorize", "vect-cost-model=dynamic") /* the fold is elementwise: let GCC vectorise it at -O2 */
#endif
#include "lossimpl.h"

void AzFoldScales(PetscInt P, const PetscScalar diag[], PetscReal m[])
{
  for (PetscInt i = 0; i < P; i++) {
    const PetscReal d = PetscRealPart(diag[i]);
    int             e;

    if (!(d >= 0) || PetscIsInfOrNanReal(d)) m[i] = (PetscReal)NAN; /* NaN or Inf in J: the entries become NaN */
    else if (d == 0) m[i] = 1;                                          /* a zero column: its entries are 0 */
    else {
      (void)frexp(PetscSqrtReal(d), &e); /* √d < 2^e */
      m[i] = ldexp(1.0, PetscMax(-500, PetscMin(e + 1, 500))); /* m_i m_j > 4 √(D_i D_j): room for every sum */
    }
  }
}

void AzFoldUpper(PetscInt P, const PetscReal *restrict m, const PetscScalar *restrict S, PetscScalar *restrict acc)
{
  for (PetscInt j = 0; j < P; j++) {
    const PetscScalar *restrict Sj = S + (size_t)j * P;
    PetscScalar *restrict       a  = acc + (size_t)j * (j + 1) / 2;
    const PetscReal             mj = m[j];
    for (PetscInt i = 0; i <= j; i++) {
      /* (M + x) − M: x rounded to a multiple of ulp(M), exactly; needs IEEE double arithmetic as
       * written (no -ffast-math, which would reassociate it into x) */
      const PetscReal M = m[i] * mj;
      a[i] += (M + Sj[i]) - M;
    }
  }
}
