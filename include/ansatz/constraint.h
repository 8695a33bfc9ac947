/* Hard constraints by transform: u = g + φ·N.
 *
 * N is the network, g the problem's lift (equal to the Dirichlet data on the Dirichlet faces and to
 * the initial data at t0; the plugin's .lift gives its jet), and φ the product of the normalised
 * distances to the constrained faces, (x_a − lo_a)/(hi_a − lo_a) and (hi_a − x_a)/(hi_a − lo_a), and
 * (t − t0)/(t1 − t0) for the initial condition. φ vanishes exactly where the conditions are imposed,
 * so they hold to round-off whatever N is. The jets of u follow by Leibniz's rule,
 *   u_s = g_s + Σ_s' C(φ)[s, s'] N_s'   (C lower triangular in the derivative order),
 * and the adjoint is N̄ = Cᵀ ū, so the transform is a per-point linear map between the network's jets
 * and the residuals, in training, Gauss–Newton and the report alike.
 */
#ifndef ANSATZ_CONSTRAINT_H
#define ANSATZ_CONSTRAINT_H

#include <ansatz/problem.h>

typedef struct _p_AzTransform *AzTransform;

/* hard_boundary: every Dirichlet face; hard_initial: the initial condition. Errors with a message if
 * the problem cannot have them (no lift; a condition that is not Dirichlet data) or if the lift does
 * not satisfy the conditions it is meant to impose. */
PETSC_EXTERN PetscErrorCode AzTransformCreate(AzProblem prob, PetscBool hard_boundary, PetscBool hard_initial, AzTransform *T);
/* the same with a choice of faces: hard_face[f] for face f = 2*axis + side (a Dirichlet face) */
PETSC_EXTERN PetscErrorCode AzTransformCreateFaces(AzProblem prob, const PetscBool hard_face[], PetscBool hard_initial, AzTransform *T);
PETSC_EXTERN PetscErrorCode AzTransformDestroy(AzTransform *T);
/* whether condition cond (a face or AZ_COND_INITIAL) is imposed exactly by the transform */
PETSC_EXTERN PetscErrorCode AzTransformIsHard(AzTransform T, PetscInt cond, PetscBool *hard);
/* jets (ncomp*nslot per point) of N become those of u = g + φN, in place */
PETSC_EXTERN PetscErrorCode AzTransformApply(AzTransform T, PetscInt npts, const PetscReal x[], PetscScalar jets[]);
/* the linear part only (tangents): δu = C δN, in place */
PETSC_EXTERN PetscErrorCode AzTransformApplyLinear(AzTransform T, PetscInt npts, const PetscReal x[], PetscScalar jets[]);
/* the linear part on nblock jets of one component each per point (npts × nblock × nslot): every block
 * b ↦ C b; and its adjoint b ↦ Cᵀ b (the solved output layer's basis functions φ_k ↦ C φ_k, -az_hardpde) */
PETSC_EXTERN PetscErrorCode AzTransformApplyLinearBlocks(AzTransform T, PetscInt npts, const PetscReal x[], PetscInt nblock, PetscScalar jets[]);
PETSC_EXTERN PetscErrorCode AzTransformAdjointBlocks(AzTransform T, PetscInt npts, const PetscReal x[], PetscInt nblock, PetscScalar rows[]);
/* the jet of the faces' factor of φ alone (1 when no face is hard): a shape that vanishes on every
 * hard Dirichlet face, for corrections that must leave those faces alone (projection, loss.h) */
PETSC_EXTERN PetscErrorCode AzTransformShapeJet(AzTransform T, const PetscReal x[], PetscScalar s[]);
/* adjoints: nrow adjoint rows per point (ncomp*nslot each), ū -> N̄ = Cᵀ ū, in place */
PETSC_EXTERN PetscErrorCode AzTransformAdjoint(AzTransform T, PetscInt npts, const PetscReal x[], PetscInt nrow, PetscScalar rows[]);

/* A divergence-free 2-D velocity by construction: solution components a and b (the velocity along x
 * and y) are the curl of a stream function ψ, u_a = ∂ψ/∂y, u_b = −∂ψ/∂x, so ∂u_a/∂x + ∂u_b/∂y = 0
 * exactly. The network then has ncomp − 1 outputs, ψ first and the other components in order, and
 * its jets carry one derivative order more (so first-order problems only: their velocity jets need
 * ψ's second derivatives, mixed ones included). The map from the network's jets to the solution's is
 * linear; AzStreamAdjoint is its transpose (nrow rows per point). */
typedef struct _p_AzStream *AzStream;
PETSC_EXTERN PetscErrorCode AzStreamCreate(AzProblem prob, PetscInt a, PetscInt b, AzStream *S);
/* from -az_divfree and -az_divfree_components a,b (default 0,1), under the options prefix (NULL: none);
 * NULL when -az_divfree is not set */
PETSC_EXTERN PetscErrorCode AzStreamCreateFromOptions(AzProblem prob, const char prefix[], AzStream *S);
PETSC_EXTERN PetscErrorCode AzStreamDestroy(AzStream *S);
PETSC_EXTERN PetscErrorCode AzStreamGetNetwork(AzStream S, PetscInt *ncomp, AzJetRequest *req);
PETSC_EXTERN PetscErrorCode AzStreamApply(AzStream S, PetscInt npts, const PetscScalar net[], PetscScalar sol[]);
PETSC_EXTERN PetscErrorCode AzStreamAdjoint(AzStream S, PetscInt npts, PetscInt nrow, const PetscScalar solrows[], PetscScalar netrows[]);

#endif
