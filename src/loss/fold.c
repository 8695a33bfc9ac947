/* The exact, order-free sum of group matrices for dense JᵀJ (see reduce.c): pre-rounding to powers of
 * two set by the total diagonal. Self-contained, so the tests include it. */
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
      m[i] = ldexp(1.0, PetscMax(-480, PetscMin(e + 3, 500)));
    }
  }
}

void AzFoldUpper(PetscInt P, const PetscReal m[], const PetscScalar S[], PetscScalar acc1[], PetscScalar acc2[])
{
  const PetscReal lo = ldexp(1.0, -45);

  for (PetscInt j = 0; j < P; j++) {
    const PetscScalar *Sj = S + (size_t)j * P;
    PetscScalar       *a1 = acc1 + (size_t)j * (j + 1) / 2, *a2 = acc2 + (size_t)j * (j + 1) / 2;
    for (PetscInt i = 0; i <= j; i++) {
      /* q: x rounded to a multiple of ulp(M), exactly; needs IEEE double arithmetic as written (no
       * -ffast-math, which would reassociate (M + x) − M into x) */
      const PetscReal M = m[i] * m[j], M2 = M * lo, x = Sj[i];
      const PetscReal q = (M + x) - M, r = x - q, q2 = (M2 + r) - M2;
      a1[i] += q;
      a2[i] += q2;
    }
  }
}
