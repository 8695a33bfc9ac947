/* Dense quasi-Newton building blocks (qn.c), used by the bfgs stage (bfgs.c) and tested directly
 * (tests/test_qn.c): the self-scaled Broyden-family update of a dense inverse Hessian and a
 * strong-Wolfe line search. Pure arithmetic on local arrays: no communication, no PETSc objects. */
#ifndef ANSATZ_QN_H
#define ANSATZ_QN_H

#include <petscsys.h>
#include <ansatz/compat.h>

typedef enum {
  AZ_QN_SSBROYDEN, /* self-scaled Broyden: τ_k and θ_k (hence φ_k) from Urbán et al. 2025 */
  AZ_QN_SSBFGS,    /* self-scaled BFGS: τ_k = min(1, 1/b_k), φ_k = 1 */
  AZ_QN_BFGS       /* plain BFGS: τ_k = 1, φ_k = 1 */
} AzQNUpdateType;

/* what one update did: the scalars of the formula, or why it was skipped (H unchanged) */
typedef struct {
  PetscReal   ys, yHy, b, h, a; /* yᵀs, yᵀHy, b_k, h_k, a_k = b_k h_k − 1 */
  PetscReal   theta, phi, tau;  /* Broyden parameter θ_k (0: BFGS) and φ_k of the inverse form; scaling τ_k */
  PetscReal   itau, cuu, css, cus; /* H_{k+1} = H_k/τ + cuu u uᵀ + css s sᵀ + cus (s uᵀ + u sᵀ), u = H_k y */
  PetscBool   skipped;
  const char *why; /* when skipped */
} AzQNUpdateInfo;

/* The update of the dense symmetric inverse Hessian H (n × n, column-major, both triangles) with
 * s = x_{k+1} − x_k = α_k p_k, y = ∇f_{k+1} − ∇f_k, sg = sᵀ∇f_k (the old gradient) and the step α_k
 * (they give b_k = −α_k sᵀ∇f_k / yᵀs = sᵀB_k s / yᵀs), in pieces that work on a block of H's columns
 * (the bfgs stage splits the columns over the ranks):
 * - AzQNColumnProducts: Hx_j = H_jᵀx and Hz_j = H_jᵀz (z may be NULL: Hx alone) for the nloc columns
 *   H_j of the block (one pass over it); by symmetry these are the rows of Hx and Hz. Each is summed over the rows in
 *   order: the same bits however the columns are split.
 * - AzQNUpdateScalars: from u = H_k y, the update's scalars (info); info->skipped (with why) when
 *   yᵀs ≤ 0 or a scalar is not finite: H must then stay as it is.
 * - AzQNUpdateColumns: the update of the block (columns c0 … c0 + nloc − 1 of H, stored n × nloc)
 *   in one pass; *finite is false when an entry overflowed.
 * - AzQNUpdatedProduct: H_{k+1} g from Hg = H_k g, u, s and g, without another pass over H.
 * - AzQNScaledIdentity: the block of γI.
 * AzQNUpdateInverse does the whole update on a full H (work: n entries); an update that is skipped
 * leaves H unchanged, one whose result is not finite resets H to (sᵀy/yᵀy) I ([NW] eq. 6.20;
 * info->skipped). */
PETSC_INTERN void           AzQNColumnProducts(PetscInt n, PetscInt nloc, const PetscReal H[], const PetscReal x[], const PetscReal z[], PetscReal Hx[], PetscReal Hz[]);
PETSC_INTERN PetscErrorCode AzQNUpdateScalars(AzQNUpdateType type, PetscInt n, const PetscReal s[], const PetscReal y[], const PetscReal u[], PetscReal sg, PetscReal alpha, AzQNUpdateInfo *info);
PETSC_INTERN void           AzQNUpdateColumns(PetscInt n, PetscInt c0, PetscInt nloc, PetscReal H[], const PetscReal u[], const PetscReal s[], const AzQNUpdateInfo *info, PetscBool *finite);
PETSC_INTERN void           AzQNUpdatedProduct(PetscInt n, const AzQNUpdateInfo *info, const PetscReal Hg[], const PetscReal u[], const PetscReal s[], const PetscReal g[], PetscReal out[]);
PETSC_INTERN void           AzQNScaledIdentity(PetscInt n, PetscInt c0, PetscInt nloc, PetscReal H[], PetscReal gamma);
PETSC_INTERN PetscErrorCode AzQNUpdateInverse(AzQNUpdateType type, PetscInt n, PetscReal H[], const PetscReal s[], const PetscReal y[], PetscReal sg, PetscReal alpha, PetscReal work[], AzQNUpdateInfo *info);

/* φ(t) = f(x + t p) and φ'(t) = ∇f(x + t p)ᵀp; finite says whether both are */
typedef PetscErrorCode (*AzQNPhiFn)(void *ctx, PetscReal t, PetscReal *f, PetscReal *dphi, PetscBool *finite);

#define AZ_QN_C1       1e-4 /* sufficient decrease (scipy's default, the authors' setting) */
#define AZ_QN_C2       0.9  /* curvature */
#define AZ_QN_LS_MAXEV 30   /* evaluations per line search */

/* Strong-Wolfe line search (Nocedal & Wright, Alg. 3.5 bracketing and Alg. 3.6 zoom, with scipy's
 * scalar_search_wolfe2 choices: doubling while bracketing, cubic then quadratic interpolation with
 * safeguards, bisection as the last resort) from φ(0) = f0, φ'(0) = d0 < 0, first trial t1 > 0. On
 * success (*found) *t, *ft, *dt are a point with
 *   φ(t) ≤ f0 + c1 t d0  and  |φ'(t)| ≤ c2 |d0|,
 * and it is the last point phi was called at (the caller's state at it is current). A trial point
 * whose φ or φ' is NaN/Inf counts as too long a step. *nev: evaluations made. */
PETSC_INTERN PetscErrorCode AzQNLineSearch(AzQNPhiFn phi, void *ctx, PetscReal f0, PetscReal d0, PetscReal t1, PetscReal *t, PetscReal *ft, PetscReal *dt, PetscInt *nev, PetscBool *found);

#endif
