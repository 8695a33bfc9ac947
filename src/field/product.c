/* Jets of an elementwise product c = a ⊙ b (the Leibniz rule), forward and reverse, on slot blocks.
 *
 * With a_s the active slots of a (fieldimpl.h) and the same for b, every slot of c is a sum of terms
 * k · a_s · b_t over lower slots:
 *     c₀    = a₀b₀
 *     c_i   = a_i b₀ + a₀ b_i
 *     c_ij  = a_ij b₀ + a_i b_j + a_j b_i + a₀ b_ij               (i = j included)
 *     c₃    = a₃b₀ + 3a₂b₁ + 3a₁b₂ + a₀b₃                          (pure along one coordinate)
 *     c₄    = a₄b₀ + 4a₃b₁ + 6a₂b₂ + 4a₁b₃ + a₀b₄
 * The product is bilinear, so its tangent is ȧ⊙b + a⊙ḃ (two forward products) and its reverse is
 * ā_s += k c̄ b_t, b̄_t += k c̄ a_s over the same terms.
 */
#include "fieldimpl.h"

typedef struct {
  PetscReal k;
  PetscInt  sa, sb; /* positions in the active list */
} Term;

/* the terms of active slot a; returns their number */
static PetscInt Terms(const AzActiveSlot slots[], PetscInt a, Term t[])
{
  const AzActiveSlot *s = &slots[a];
  PetscInt            m = 0;

#define AZ_TERM(k_, sa_, sb_) (t[m].k = (k_), t[m].sa = (sa_), t[m].sb = (sb_), m++)
  switch (s->kind) {
  case AZ_SLOT_VALUE:
    AZ_TERM(1, 0, 0);
    break;
  case AZ_SLOT_D1:
    AZ_TERM(1, a, 0), AZ_TERM(1, 0, a);
    break;
  case AZ_SLOT_D2:
    AZ_TERM(1, a, 0), AZ_TERM(1, s->pi, s->pj), AZ_TERM(1, s->pj, s->pi), AZ_TERM(1, 0, a);
    break;
  case AZ_SLOT_D3:
    AZ_TERM(1, a, 0), AZ_TERM(3, s->pii, s->pi), AZ_TERM(3, s->pi, s->pii), AZ_TERM(1, 0, a);
    break;
  case AZ_SLOT_D4:
    AZ_TERM(1, a, 0), AZ_TERM(4, s->piii, s->pi), AZ_TERM(6, s->pii, s->pii), AZ_TERM(4, s->pi, s->piii), AZ_TERM(1, 0, a);
    break;
  }
#undef AZ_TERM
  return m;
}

/* C += A ⊙ B on every active slot */
void AzJetProductAdd(PetscScalar C[], const PetscScalar A[], const PetscScalar B[], const AzActiveSlot slots[], PetscInt nact, PetscInt n)
{
  for (PetscInt a = 0; a < nact; a++) {
    Term                 t[5];
    const PetscInt       m = Terms(slots, a, t);
    PetscScalar *restrict c = C + a * n;

    for (PetscInt q = 0; q < m; q++) {
      const PetscScalar *restrict x = A + t[q].sa * n, *restrict y = B + t[q].sb * n;
      const PetscReal             k = t[q].k;
      for (PetscInt e = 0; e < n; e++) c[e] += k * x[e] * y[e];
    }
  }
}

/* Ā += (∂C/∂A)ᵀ C̄ and B̄ += (∂C/∂B)ᵀ C̄ for C = A ⊙ B (either of Ā, B̄ may be NULL) */
void AzJetProductBackward(PetscScalar Abar[], PetscScalar Bbar[], const PetscScalar Cbar[], const PetscScalar A[], const PetscScalar B[], const AzActiveSlot slots[], PetscInt nact, PetscInt n)
{
  for (PetscInt a = 0; a < nact; a++) {
    Term                        t[5];
    const PetscInt              m  = Terms(slots, a, t);
    const PetscScalar *restrict cb = Cbar + a * n;

    for (PetscInt q = 0; q < m; q++) {
      const PetscReal k = t[q].k;
      if (Abar) {
        PetscScalar *restrict       ab = Abar + t[q].sa * n;
        const PetscScalar *restrict y  = B + t[q].sb * n;
        for (PetscInt e = 0; e < n; e++) ab[e] += k * cb[e] * y[e];
      }
      if (Bbar) {
        PetscScalar *restrict       bb = Bbar + t[q].sb * n;
        const PetscScalar *restrict x  = A + t[q].sa * n;
        for (PetscInt e = 0; e < n; e++) bb[e] += k * cb[e] * x[e];
      }
    }
  }
}
