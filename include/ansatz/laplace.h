/* Laplace approximation of the posterior of θ after training (src/loss/laplace.c).
 *
 * The loss is read as a Gaussian likelihood with one noise level: loss(θ) = ‖ρ(θ)‖², the scaled rows
 * ρ = √(w_k/m_k) r_k of every term k (loss.h), each row ρ_i ~ N(0, s²) independently. Linearised at the
 * trained θ*, ρ(θ) ≈ ρ(θ*) + J (θ − θ*) with J = ∂ρ/∂θ, and with a Gaussian prior of precision λ/s² about
 * θ* the posterior is Gaussian:
 *     θ | data ~ N(θ*, Σ),   Σ = s² (H + λI)⁻¹,   H = JᵀJ (Gauss–Newton; AzLossNormalEquations).
 * The row variance s² and the noise variance σ²: a data term's residual r = u − u_obs (or the residual
 * normalised by a known noise, -az_data_noise) has the rows ρ = √(w_d/m_d) r, m_d its number of values,
 * so r ~ N(0, σ²) means ρ ~ N(0, (w_d/m_d) σ²):  s² = (w_d/m_d) σ². The other terms then carry the
 * noise variance s² m_k/w_k of their unscaled residuals: the weights say how much each term is trusted
 * relative to the data. σ² is estimated from the data residual with a degrees-of-freedom correction:
 *     σ² = Σ_data r² / (m_d − γ_d),   γ_d = tr((H + λI)⁻¹ J_dᵀJ_d),
 * γ_d the effective number of parameters the data determine (the trace of the data block of the hat
 * matrix J (H + λI)⁻¹ Jᵀ; MacKay 1992). For least squares on the data alone with P < m_d and λ = 0 it
 * is P (the textbook m − P); when P ≥ m_d the PDE rows and λ pin most directions and γ_d < m_d still.
 * An estimate with m_d − γ_d < 1 (the data interpolated) is refused: give σ² (-az_laplace_sigma2).
 * Without a data term σ² is the row variance itself, from the whole loss: σ² = s² = loss / (N − γ),
 * N the rows of every term, γ = tr((H + λI)⁻¹ H) = P − λ tr((H + λI)⁻¹).
 *
 * H + λI is a dense P × P matrix, factored by Cholesky (H + λI = L Lᵀ, LAPACK), the same on every
 * rank (H is reduced so that it does not depend on the rank count). Hence a limit on P
 * (-az_laplace_max_parameters, AZ_LAPLACE_DENSE_MAX by default). θ is the field's parameter Vec of any
 * length (the network's parameters and any appended after them).
 *
 * Options, under the loss's options prefix (AzLossSetOptionsPrefix), read by AzLaplaceCreate:
 *   -az_laplace_lambda λ           (default 1e-8 · trace(H)/P: a relative floor that keeps the
 *                                   Cholesky factorisation defined; the value used is reported)
 *   -az_laplace_sigma2 σ²          (default: estimated as above; give it when the noise is known)
 *   -az_laplace_max_parameters P   (default AZ_LAPLACE_DENSE_MAX)
 *   -az_laplace_block n            (points per block of AzLaplaceFieldStd, default 32)
 */
#ifndef ANSATZ_LAPLACE_H
#define ANSATZ_LAPLACE_H

#include <ansatz/loss.h>

/* H + λI takes 8P² bytes (512 MB at 8,000) and its factorisation P³/3 flops (1.7e11 at 8,000: about
 * a minute on one core); every standard deviation of the field costs P² flops more */
#define AZ_LAPLACE_DENSE_MAX 8000

typedef struct _p_AzLaplace *AzLaplace;

/* The approximation at the field's current θ: H, λ, σ², s², the factor L. Collective on the loss. */
PETSC_EXTERN PetscErrorCode AzLaplaceCreate(AzLoss loss, AzLaplace *lap);
/* Read and check the -az_laplace_* options without computing anything (so a mode can have them read
 * before its options checkpoint; -help lists them). Collective. */
PETSC_EXTERN PetscErrorCode AzLaplaceCheckOptions(AzLoss loss);
PETSC_EXTERN PetscErrorCode AzLaplaceDestroy(AzLaplace *lap);

typedef struct {
  PetscInt  nparam;    /* P */
  PetscInt  rows;      /* N: the rows of ρ, every term, over all ranks */
  PetscReal lambda;    /* λ as used (absolute) */
  PetscReal sigma2;    /* σ²: the data residual's noise variance (or the rows' without data) */
  PetscReal s2;        /* s²: the variance of the rows ρ, Σ = s² (H + λI)⁻¹ */
  PetscBool from_data; /* σ² refers to the data term's residual */
  PetscBool given;     /* σ² was given (-az_laplace_sigma2), not estimated */
  PetscInt  nobs;      /* m_d: the data term's values (0 without data) */
  PetscReal rss;       /* Σ r² of the data term (without data: the loss, Σ ρ²) */
  PetscReal dof;       /* γ_d (or γ without data): the parameters the fit used; NaN when σ² is given */
} AzLaplaceInfo;
PETSC_EXTERN PetscErrorCode AzLaplaceGetInfo(AzLaplace lap, AzLaplaceInfo *info);

/* var[i] = Σ_{idx[i], idx[i]}, the posterior variance of θ entry idx[i] (0 ≤ idx[i] < P). Local. */
PETSC_EXTERN PetscErrorCode AzLaplaceGetVariance(AzLaplace lap, PetscInt nidx, const PetscInt idx[], PetscReal var[]);
/* cov = Σ restricted to the entries idx[0..nidx): nidx × nidx, cov[i*nidx + j] = Σ_{idx[i], idx[j]}. Local. */
PETSC_EXTERN PetscErrorCode AzLaplaceGetCovariance(AzLaplace lap, PetscInt nidx, const PetscInt idx[], PetscReal cov[]);
/* Conditioning on m linear observations of θ, A δθ = −r + ε, ε ~ N(0, sigma2 I) (the ProbConserv update,
 * AzLossProbConserv): A is m × P row-major, r the misfit Gμ − b; dtheta (P) receives the posterior
 * mean's shift δθ = −Σ Aᵀ(sigma2 I + AΣAᵀ)⁻¹ r, and from then on the approximation is the posterior
 * Σ̃ = Σ − ΣAᵀ(sigma2 I + AΣAᵀ)⁻¹AΣ: AzLaplaceGetVariance, GetCovariance and FieldStd give Σ̃'s.
 * sigma2 = 0 imposes the observations exactly (m ≤ P, independent: refused otherwise). Once per
 * approximation. Local (the same on every rank). */
PETSC_EXTERN PetscErrorCode AzLaplaceCondition(AzLaplace lap, PetscInt m, const PetscScalar A[], const PetscScalar r[], PetscReal sigma2, PetscScalar dtheta[]);
/* the observations it is conditioned on (0: none) */
PETSC_EXTERN PetscErrorCode AzLaplaceGetNumConditions(AzLaplace lap, PetscInt *m);

/* -az_conservation probconserv (src/loss/probconserv.c): the ProbConserv update of the trained
 * solution, at the field's current θ, by lap (made at that θ, not yet conditioned). The constraints
 * G u = b are every projected (linear) law's quadrature on the projection's nodes (-az_project_nodes)
 * at -az_probconserv_times equally spaced times t0 .. t1 equal to its target; with u(x) ≈ μ(x) + J_u(x)
 * δθ, J_u = ∂u/∂θ, the constraints read A δθ = −(Gμ − b), A = G J_u (m = times × laws rows), and the
 * update is AzLaplaceCondition with sigma2 = σ_c² (-az_probconserv_sigma). The solution as the report
 * sees it (AzLossEvaluateSolution: errors, drift, fields) is then μ̃(x) = μ(x) + J_u(x) δθ, its jets
 * included (a tangent of the network), and lap gives its posterior standard deviation. θ itself is not
 * changed; evaluating the report at another θ afterwards is an error. Collective. */
typedef struct {
  PetscInt  m;           /* constraints: times × laws */
  PetscInt  ntimes;
  PetscReal sigma;       /* σ_c */
  PetscReal misfit;      /* max |Gμ − b| before the update */
  PetscReal misfit_after; /* max |Gμ̃ − b| after it (on the same nodes, by the tangent) */
  PetscReal dtheta_norm; /* ‖δθ‖₂ (pertime: the largest ‖c(t)‖₂ over the times) */
  PetscBool joint;       /* -az_probconserv_mode joint (else pertime) */
} AzProbConservInfo;
PETSC_EXTERN PetscErrorCode AzLossProbConserv(AzLoss loss, AzLaplace lap, AzProbConservInfo *info);
/* whether the loss's laws are imposed by probconserv (after AzLossSetUp), and whether its update is in
 * place (info, when not NULL, then describes it) */
PETSC_EXTERN PetscErrorCode AzLossGetProbConserv(AzLoss loss, PetscBool *on, PetscBool *applied, AzProbConservInfo *info);

/* The pointwise standard deviation of every solution component at npts points x (npts × ncoord):
 * std[p*ncomp + c] = s ‖L⁻¹ g‖, g = ∂u_c(x_p)/∂θ, u the solution as the report sees it (the network
 * through the loss's chain of maps: stream function, hard transform, softplus), at the field's current
 * θ. Local (every rank holds L): ranks may share out the points. Refused with a projection onto
 * conservation laws in the chain (its coefficients depend on θ through a quadrature not followed here).
 * Conditioned (AzLaplaceCondition), the posterior's Σ̃: with probconserv, the corrected solution's. */
PETSC_EXTERN PetscErrorCode AzLaplaceFieldStd(AzLaplace lap, PetscInt npts, const PetscReal x[], PetscReal std[]);

#endif
