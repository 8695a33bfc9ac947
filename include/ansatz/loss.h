/* Loss: the residual terms of a problem on its collocation sets, for a field.
 *
 *   loss(θ) = Σ_k w_k · mean_k(r_k²),   k over the interior, each boundary face with a condition,
 *                                        and the initial slice,
 * where mean_k is over the term's points and residual components. Points are distributed over the
 * ranks (see sampler.h); every sum over points is reduced over ranks, so loss and gradient are the
 * same (to round-off) for any rank count. For Gauss–Newton the loss is ‖ρ‖² with the scaled residual
 * vector ρ = (√(w_k/m_k) r_k)_k (m_k = points × components), whose Jacobian rows this rank owns.
 */
#ifndef ANSATZ_LOSS_H
#define ANSATZ_LOSS_H

#include <ansatz/field.h>
#include <ansatz/problem.h>
#include <ansatz/sampler.h>
#include <ansatz/reference.h>

/* the PDE, the faces, the initial condition, positivity, bounds, data, the experts' interfaces and a
 * penalty per conservation law */
#define AZ_MAX_TERMS (6 + 2 * AZ_MAX_DIM + AZ_MAX_LAWS)

typedef struct _p_AzLoss *AzLoss;

/* How a boundary or initial condition is enforced:
 *   soft      penalty w·mean(r²) with a constant weight (-az_weight_boundary, -az_weight_initial)
 *   linear    the weight ramps linearly from that weight to -az_weight_max, reached at the fraction
 *             -az_schedule_peak of training (default 0.7), then held
 *   cosine    the same ramp with a cosine profile, (1 − cos(π s/peak))/2
 *   adaptive  gradient balancing: every -az_adaptive_every iterations w ← (1−α)w + α·ŵ,
 *             α = -az_adaptive_alpha, ŵ within [-az_adaptive_min, -az_adaptive_max] = [1, 1000], with -az_adaptive_rule
 *             gradnorm (default; Wang, Sankaran, Wang & Perdikaris 2023): ŵ = ‖∇L_pde‖₂ / ‖∇L_term‖₂,
 *             maxmean (learning-rate annealing, Wang, Teng & Perdikaris 2021): max|∇L_pde| / mean|∇L_term|
 *   auglag    method of multipliers: (μ/2)·mean((r + λ/μ)²) with a multiplier per residual, updated
 *             λ ← λ + μr every -az_auglag_every iterations; μ grows by -az_auglag_grow when the
 *             violation max|r| has not fallen below a quarter of its previous value, up to
 *             -az_auglag_mu_max (100: larger penalties repeat the too-high-penalty pathology)
 *   hard      exact, by the transform u = g + φN (constraint.h); Dirichlet data and initial data only */
typedef enum {
  AZ_CON_SOFT,
  AZ_CON_LINEAR,
  AZ_CON_COSINE,
  AZ_CON_ADAPTIVE,
  AZ_CON_AUGLAG,
  AZ_CON_HARD
} AzConstraintType;
PETSC_EXTERN const char *const AzConstraintTypes[];

typedef enum {
  AZ_ADAPTIVE_MAXMEAN,
  AZ_ADAPTIVE_GRADNORM
} AzAdaptiveRule;
PETSC_EXTERN const char *const AzAdaptiveRules[];

/* How the problem's conservation laws Q_l(t) = ∫ q_l(x, u) dx = M_l are enforced: -az_conservation
 * for every law (or for the laws named by -az_conservation_laws), -az_conservation_NAME for law NAME:
 *   none      not at all (their drift is still measured)
 *   project   by projection inside training: the solution is ũ = u + s(x) Σ_l c_l(t) β_l with c(t)
 *             chosen at every t so that the quadrature of each projected law equals M_l exactly (laws
 *             linear in the solution values only). Differentiable: training, its gradient and
 *             Gauss–Newton see ũ. The collocation points lie on -az_time_slices time slices, so the
 *             network is evaluated at the -az_project_nodes quadrature nodes of each slice once per
 *             evaluation.
 *   posthoc   the same projection applied to the trained solution only (training does not see it)
 *   probconserv
 *             after training too, the Bayesian update of ProbConserv (Hansen et al., ICML 2023): the
 *             laws' quadrature at -az_probconserv_times times, G u = b, is imposed on the trained
 *             solution with the Gauss–Newton Laplace covariance Σ = J_u Σθ J_uᵀ as the prior,
 *             μ̃ = μ − ΣGᵀ(σ_c²I + GΣGᵀ)⁻¹(Gμ − b) (-az_probconserv_sigma σ_c, default 0: exact at
 *             those times); the correction goes where the model is unsure (AzLossProbConserv, laplace.h)
 *   soft, linear, cosine, adaptive, auglag
 *             a penalty term per law, "conservation" (or "conservation_NAME" when the problem has
 *             several laws): mean over the time slices of (Q_h(t) − M)², the same quadrature on the
 *             same slices, weighted like a boundary condition (AzConstraintType: a constant
 *             -az_weight_conservation, a schedule, adaptive weights, or multipliers). Any law whose
 *             density depends on the solution values only, linear or not (energy ∫u² dx).
 * Projected laws share one mode (project, posthoc or probconserv); penalised laws are evaluated on the projected
 * solution when other laws are projected. */
typedef enum {
  AZ_CONSERVE_NONE,
  AZ_CONSERVE_PROJECT,
  AZ_CONSERVE_POSTHOC,
  AZ_CONSERVE_PROBCONSERV,
  AZ_CONSERVE_SOFT,
  AZ_CONSERVE_LINEAR,
  AZ_CONSERVE_COSINE,
  AZ_CONSERVE_ADAPTIVE,
  AZ_CONSERVE_AUGLAG
} AzConservationType;
PETSC_EXTERN const char *const AzConservationTypes[];

/* Positivity of the components a problem declares positive (-az_positivity):
 *   none      not imposed (its violation max(0, −min u) is still measured by compare)
 *   soft, linear, cosine, adaptive
 *             a penalty term "positive", w·mean(min(u_c, 0)²) at the interior points, weighted like a
 *             boundary condition (-az_weight_positivity, a schedule, or adaptive weights)
 *   auglag    the method of multipliers for the inequality u_c ≥ 0: (μ/2)·mean(min(u_c − λ/μ, 0)²),
 *             λ ← max(0, λ − μ u_c) ≥ 0 every -az_auglag_every iterations
 *   hard      by construction, u_c = softplus(N_c) = log(1 + e^N_c), exact jets and adjoints
 * The same names choose how bounded components (.bounded: a_c ≤ u_c ≤ b_c) stay in their bounds
 * (-az_bounds, -az_weight_bounds): a penalty term "bounds" on min(u_c − a_c, 0) and max(u_c − b_c, 0)
 * (two residuals per component; auglag: the two inequalities), or hard: u_c = a_c + (b_c − a_c)σ(N_c). */
typedef enum {
  AZ_POSITIVE_NONE,
  AZ_POSITIVE_SOFT,
  AZ_POSITIVE_LINEAR,
  AZ_POSITIVE_COSINE,
  AZ_POSITIVE_ADAPTIVE,
  AZ_POSITIVE_AUGLAG,
  AZ_POSITIVE_HARD
} AzPositivityType;
PETSC_EXTERN const char *const AzPositivityTypes[];

PETSC_EXTERN PetscErrorCode AzLossCreate(AzProblem prob, AzField field, AzLoss *loss);
/* -az_sampler TYPE -az_seed N -az_n_interior N -az_n_boundary N (per face) -az_n_initial N
 * -az_weight_interior w -az_weight_boundary w -az_weight_initial w -az_eval_n N (per axis) */
PETSC_EXTERN PetscErrorCode AzLossSetFromOptions(AzLoss loss);
/* Options prefix of the loss and everything it sets up (terms, chain maps): with prefix "s1_" the
 * loss reads -s1_az_constraint, falling back to -az_constraint when the prefixed option is absent.
 * Set before AzLossSetFromOptions. */
PETSC_EXTERN PetscErrorCode AzLossSetOptionsPrefix(AzLoss loss, const char prefix[]);
PETSC_EXTERN PetscErrorCode AzLossGetOptionsPrefix(AzLoss loss, const char *prefix[]);
PETSC_EXTERN PetscErrorCode AzLossSetUp(AzLoss loss);
PETSC_EXTERN PetscErrorCode AzLossDestroy(AzLoss *loss);
PETSC_EXTERN PetscErrorCode AzLossView(AzLoss loss, PetscViewer viewer);

PETSC_EXTERN PetscErrorCode AzLossGetComm(AzLoss loss, MPI_Comm *comm);
PETSC_EXTERN PetscErrorCode AzLossGetNumTerms(AzLoss loss, PetscInt *nterms);
PETSC_EXTERN PetscErrorCode AzLossGetTermName(AzLoss loss, PetscInt k, const char **name);
/* Advance the constraint strategies to iteration it of total (schedules, adaptive weights,
 * multipliers); the trainer calls it before each iteration. Collective. */
PETSC_EXTERN PetscErrorCode AzLossUpdateConstraints(AzLoss loss, PetscInt it, PetscInt total);
/* The constraint strategies' state (term weights, penalties, multipliers) for checkpoints: Save is
 * collective and returns a sequential Vec on rank 0 (NULL elsewhere); Load takes that Vec on every rank. */
PETSC_EXTERN PetscErrorCode AzLossConstraintStateSave(AzLoss loss, Vec *state);
PETSC_EXTERN PetscErrorCode AzLossConstraintStateLoad(AzLoss loss, Vec state);
/* whether any term's enforcement changes during training (a schedule, adaptive weights, multipliers,
 * causal weights) */
PETSC_EXTERN PetscErrorCode AzLossConstraintsChange(AzLoss loss, PetscBool *changes);
/* Causal training (-az_causal 1; Wang, Sankaran & Perdikaris 2022): the PDE residual's points fall into
 * -az_causal_slices M time slices, and slice i's rows weigh w_i = exp(−ε Σ_{k<i} L_k), L_k the mean r²
 * of slice k, so that loss_pde = mean_p(w_{slice(p)} r_p²) and Gauss–Newton's rows are √w_i ρ. The
 * weights are constants of the loss, set at the current θ by AzLossUpdateConstraints (the trainers
 * call it between iterations) and frozen in between; ε steps through -az_causal_eps_list (default
 * 1e-2,1e-1,1,10,100; -az_causal_eps E: one value), the next at an update where min_i w_i exceeds
 * -az_causal_delta (0.99). The number of slices (0 when causal training is off), the current weights
 * (the smallest is w[M−1]) and ε (NaN when off). */
PETSC_EXTERN PetscErrorCode AzLossGetCausal(AzLoss loss, PetscInt *nslices, const PetscReal *w[], PetscReal *eps);
/* Resampling of the PDE's collocation set during training (-az_resample; src/loss/resample.c). Every
 * -az_resample_every iterations (at AzLossUpdateConstraints: before each step of Adam and Gauss–Newton,
 * at the start of each L-BFGS segment, which is then at most that long, with a fresh memory):
 *   rard  residual-based adaptive refinement with distribution (Wu, Zhu, Tan, Kartha & Lu 2023): a
 *         pool of -az_resample_pool fresh uniform points, the density p(x) ∝ ε(x)^k / mean_pool(ε^k) + c
 *         (ε = |r|₂, -az_resample_k 2, -az_resample_c 0 by default, the paper's choice for RAR-D), and
 *         -az_resample_add points drawn from the pool by p without replacement are ADDED to the set,
 *         until it holds -az_resample_max points
 *   rad   residual-based adaptive distribution (the same paper): the whole set is replaced by as many
 *         points drawn from the pool by p (k 1, c 1 by default, the paper's choice for RAD)
 *   r3    retain-resample-release (Daw, Bu, Wang, Perdikaris & Karpatne 2023): the points whose ε
 *         exceeds the mean ε of the set are retained, the others released and replaced by as many
 *         fresh uniform points; the set keeps its size
 * Every point is a function of (seed, iteration, index) and every selection is made from values
 * gathered in global index order, so the sets, and training, do not depend on the rank count. */
typedef enum {
  AZ_RESAMPLE_NONE,
  AZ_RESAMPLE_RARD,
  AZ_RESAMPLE_RAD,
  AZ_RESAMPLE_R3
} AzResampleType;
PETSC_EXTERN const char *const AzResampleTypes[];
/* the method, its period (0 when off), the PDE set's current size and the points resampled or added
 * so far (any of them may be NULL) */
PETSC_EXTERN PetscErrorCode AzLossGetResample(AzLoss loss, AzResampleType *type, PetscInt *every, PetscInt *npde, PetscInt *nresampled);
/* The resampling density of the pool's residual norms eps[0..n): p_i = w_i / Σ w, w_i = eps_i^k /
 * mean(eps^k) + c (w_i = 1 + c when every eps is 0). */
PETSC_EXTERN PetscErrorCode AzResampleDensity(PetscInt n, const PetscReal eps[], PetscReal k, PetscReal c, PetscReal p[]);
/* m distinct indices of [0, n) drawn with probabilities p without replacement (Efraimidis & Spirakis:
 * the m largest keys log(u_i)/p_i, u_i = AzSampleHash(seed, round, i)), in increasing order. Local. */
PETSC_EXTERN PetscErrorCode AzResampleSelect(PetscInt n, const PetscReal p[], PetscInt m, PetscInt64 seed, PetscInt64 round, PetscInt idx[]);
/* |r|₂ of point term k's residuals at each of its points: a new Vec laid out like the points (one
 * entry per point). Collective. */
PETSC_EXTERN PetscErrorCode AzLossGetTermResidualNorms(AzLoss loss, PetscInt k, Vec *norms);

/* Time-marching (-az_time_march K, the trainer's): window j of K, 1 ≤ j ≤ K, counts only the points of
 * the PDE, the faces, positivity and data with t ≤ t0 + (t1 − t0) j/K (each such term the mean over
 * its points inside, as if the others were absent); the initial slice always counts, conservation-law
 * penalties are not windowed; j = K: every point, the plain loss. Collective. */
PETSC_EXTERN PetscErrorCode AzLossSetTimeWindow(AzLoss loss, PetscInt j, PetscInt K);

/* The observations of -az_data: the file (NULL without data), their number (after AzLossSetUp; 0
 * without data), and per component (ncomp each) the noise level σ_c of -az_data_noise and the weight
 * w_c of -az_data_weights (default 1): the data residual is r_c = √w_c (u_c − obs_c)/σ_c. */
PETSC_EXTERN PetscErrorCode AzLossGetData(AzLoss loss, const char **file, PetscInt *nobs, const PetscReal *sigma[], const PetscReal *weight[]);
/* A file of points, CSV or HDF5 (a name ending in .h5), read whole on every rank of the problem's
 * communicator: each point its ncoord coordinates, then nval values (0 for points alone). CSV: one
 * point per line, commas or blanks between the numbers, blank lines and '#' comments skipped, and the
 * first other line may be a header. HDF5: datasets /coords (n × ncoord) and /values (n × nval; absent
 * when nval is 0). Every number finite and every point inside the problem's box, else an error that
 * names the file and the line (row) and says what is allowed (option: the option that named the
 * file). rows: n × (ncoord + nval), to PetscFree. Collective. */
PETSC_EXTERN PetscErrorCode AzPointsFileRead(AzProblem prob, const char path[], const char option[], PetscInt nval, PetscInt *n, PetscReal **rows);

/* Jets of the solution at npts points as the report sees it: the field's, through the chain of maps
 * (AzLossGetChainMaps), a post-hoc projection included. Collective the first time (sets the loss up). */
PETSC_EXTERN PetscErrorCode AzLossEvaluateSolution(AzLoss loss, PetscInt npts, const PetscReal x[], PetscScalar jets[]);
/* The chain of maps from the network's jets to the solution's, in order (after AzLossSetUp; names
 * may be NULL): "stream" (-az_divfree), "transform" (hard conditions), "softplus" (-az_positivity
 * hard), "projection" (-az_conservation project or posthoc), "probconserv" (the update of
 * -az_conservation probconserv: the identity until AzLossProbConserv, then + J_u(x) δθ). Forward, tangent and adjoint at npts
 * points, the solution as the report sees it (AzLossEvaluateSolution: a projection's coefficients
 * follow from θ, so its derivative with respect to the jets given here is the identity): net has the
 * network's components (one more derivative order with a stream function), sol the solution's. The
 * tangent and adjoint are taken at the jets of the last AzLossChainForward at the same points; the
 * adjoint maps nrow rows per point (∂·/∂sol, overwritten) to netrows (∂·/∂net). */
PETSC_EXTERN PetscErrorCode AzLossGetChainMaps(AzLoss loss, PetscInt *nmaps, const char *names[]);
/* Hard PDE constraints by a solved output layer (-az_hardpde, -az_hardpde_basis K): the network's
 * outputs for a problem of ncomp components (K ncomp with the option, else ncomp), read under prefix;
 * after an evaluation the last solve's Gauss-Newton steps, objective, and its R = K ncomp weights w
 * (its = -1, R = 0 without the option); the solve's objective Σ ρ² + α|w|² at any w, and its gradient
 * Fᵀρ + αw (grad may be NULL), at the current parameters (collective) */
PETSC_EXTERN PetscErrorCode AzHardPDENetworkComponents(MPI_Comm comm, const char prefix[], PetscInt ncomp, PetscInt *ncompN);
PETSC_EXTERN PetscErrorCode AzLossHardPDEInfo(AzLoss loss, PetscInt *its, PetscReal *obj, PetscInt *R, const PetscScalar *w[]);
PETSC_EXTERN PetscErrorCode AzLossHardPDEObjective(AzLoss loss, const PetscScalar w[], PetscReal *obj, PetscScalar grad[]);
/* collective, after training: the solve's ridge becomes -az_hardpde_final_ridge (default 0) and the
 * weights are solved again at the current θ; every later evaluation uses it (train, compare and eval
 * call it, so that the summary, theta.bin's solution and eval agree). Nothing without -az_hardpde. */
PETSC_EXTERN PetscErrorCode AzLossHardPDEFinalSolve(AzLoss loss);
/* collective: the least and greatest first coordinate of expert e's constraint points (-az_moe_experts) */
PETSC_EXTERN PetscErrorCode AzLossHardPDEExpertRange(AzLoss loss, PetscInt e, PetscReal *xmin, PetscReal *xmax);
/* collective: the least and greatest of every coordinate of expert e's constraint points (time last;
 * -az_moe_solve coupled: the one solve's points, the same for every e) */
PETSC_EXTERN PetscErrorCode AzLossHardPDEExpertBox(AzLoss loss, PetscInt e, PetscReal xmin[], PetscReal xmax[]);
/* expert e's owner rank, the one that gathers its constraint rows and solves for its weights, and the
 * rows held on this rank for its solve (all of them on the owner, 0 elsewhere; -az_moe_solve coupled:
 * the one solve's owner for every e, its rows counted at e = 0 only) */
PETSC_EXTERN PetscErrorCode AzLossHardPDEExpertOwner(AzLoss loss, PetscInt e, PetscMPIInt *owner, PetscInt *rows_here);
/* Collective: what the solution reads from θ besides the network (a solved output layer's weights,
 * inferred parameters) brought to the current θ, before AzLossEvaluateSolution on any rank */
PETSC_EXTERN PetscErrorCode AzLossSyncSolution(AzLoss loss);
PETSC_EXTERN PetscErrorCode AzLossChainForward(AzLoss loss, PetscInt npts, const PetscReal x[], const PetscScalar net[], PetscScalar sol[]);
PETSC_EXTERN PetscErrorCode AzLossChainTangent(AzLoss loss, PetscInt npts, const PetscReal x[], const PetscScalar dnet[], PetscScalar dsol[]);
PETSC_EXTERN PetscErrorCode AzLossChainAdjoint(AzLoss loss, PetscInt npts, const PetscReal x[], PetscInt nrow, PetscScalar rows[], PetscScalar netrows[]);
/* Largest |residual| of every boundary face and of the initial condition (soft or hard alike) over
 * n Sobol points each, reduced over ranks: the constraint violation of the current solution. NaN
 * (not measured) where there is no condition: boundary when no face has one (free or periodic
 * faces), initial for a steady problem. */
PETSC_EXTERN PetscErrorCode AzLossConstraintViolation(AzLoss loss, PetscInt n, PetscReal *boundary, PetscReal *initial);
/* Conservation drift of the current solution: max over the problem's laws and over AZ_DRIFT_TIMES
 * equally spaced times t0 .. t1 of |Q(t) − Q*|, Q* the law's declared value or, without one, the law
 * at the initial data (so an initial mass error shows at t0); NaN without laws, or when a law has no
 * Q* (no value and no initial_value, or a density that reads derivatives). Q(t) = ∫ density dx by
 * composite 8-point Gauss–Legendre (-az_drift_nodes per axis; 1024 in 1-D, 128² in 2-D, 32³ in 3-D),
 * a rule independent of the projection's, so a projected solution's drift includes the projection's
 * quadrature error. */
#define AZ_DRIFT_TIMES 101
PETSC_EXTERN PetscErrorCode AzLossConservationDrift(AzLoss loss, PetscReal *drift);
/* Q(t) of law `law` at nt equally spaced times t0 .. t1 (the times in t[], the values in Q[]), and its
 * target Q* (as for the drift; NaN when there is none), by the same quadrature. Local: every rank
 * computes it. */
PETSC_EXTERN PetscErrorCode AzLossConservationSeries(AzLoss loss, PetscInt law, PetscInt nt, PetscReal t[], PetscReal Q[], PetscReal *target);
/* Q*(t_j) of law `law` at nt given times: a constant (as *target above), or the target that varies in
 * time (AzProblemGetLawTarget: a .target of the plugin, or a conservation-form mass law). For such a
 * law, the series' *target is Q(t0). Local. */
PETSC_EXTERN PetscErrorCode AzLossConservationTargets(AzLoss loss, PetscInt law, PetscInt nt, const PetscReal t[], PetscReal M[]);
PETSC_EXTERN PetscErrorCode AzLossGetNumConservationLaws(AzLoss loss, PetscInt *nlaws);
/* How each constraint is enforced, as set up (after AzLossSetUp): cond a face (0 .. 2·dim − 1) or
 * AZ_COND_INITIAL gives a name of AzConstraintTypes, "periodic" (exact by the periodic embedding) or
 * "none" (a free face, the initial condition of a steady problem); law l gives a name of
 * AzConservationTypes; positivity a name of AzPositivityTypes ("none" also without positive
 * components). */
PETSC_EXTERN PetscErrorCode AzLossGetConditionStrategy(AzLoss loss, PetscInt cond, const char **strategy);
PETSC_EXTERN PetscErrorCode AzLossGetLawStrategy(AzLoss loss, PetscInt law, const char **strategy);
PETSC_EXTERN PetscErrorCode AzLossGetPositivityStrategy(AzLoss loss, const char **strategy);
/* bounds (-az_bounds, on the components a problem declares .bounded): a name of AzPositivityTypes */
PETSC_EXTERN PetscErrorCode AzLossGetBoundsStrategy(AzLoss loss, const char **strategy);
/* the term's collocation points: a distributed Vec of block size ncoord (not a copy); NULL for a
 * conservation-law penalty, whose residuals live on time slices */
PETSC_EXTERN PetscErrorCode AzLossGetTermPoints(AzLoss loss, PetscInt k, Vec *points);
PETSC_EXTERN PetscErrorCode AzLossSetWeight(AzLoss loss, PetscInt k, PetscReal w);
PETSC_EXTERN PetscErrorCode AzLossGetWeight(AzLoss loss, PetscInt k, PetscReal *w);

/* ∇θ mean(r_k²) of term k alone, weight 1, reduced over ranks (adaptive weights, diagnoses). Collective. */
PETSC_EXTERN PetscErrorCode AzLossTermGradient(AzLoss loss, PetscInt k, Vec grad);
/* loss at the field's current θ; term[k] = mean_k(r_k²) (unweighted; with causal training the PDE
 * term's mean of w_slice r², as optimised) if not NULL; grad (sequential, the field's parameter size)
 * receives ∇loss if not NULL. Collective. */
PETSC_EXTERN PetscErrorCode AzLossEvaluate(AzLoss loss, PetscReal *value, PetscReal term[], Vec grad);

/* Gauss–Newton pieces: the normal matrix JᵀJ (nparam × nparam, column-major, reduced over ranks),
 * Jᵀρ, and ‖ρ‖² = loss. Collective. */
PETSC_EXTERN PetscErrorCode AzLossNormalEquations(AzLoss loss, PetscScalar JtJ[], PetscScalar Jtr[], PetscReal *value, PetscReal term[]);
/* Local rows of J = ∂ρ/∂θ: the number of rows this rank owns, and the rows (row-major) */
PETSC_EXTERN PetscErrorCode AzLossGetLocalResidualSize(AzLoss loss, PetscInt *nrows);
PETSC_EXTERN PetscErrorCode AzLossResidualJacobian(AzLoss loss, PetscScalar rho[], PetscScalar J[]);

/* Matrix-free Gauss–Newton: AzLossLinearize stores ρ and ∂ρ/∂jet at the current θ (and returns
 * ‖ρ‖² = loss); then AzLossGNGradient gives Jᵀρ and AzLossGNMult v ↦ JᵀJ v, reduced over ranks. */
PETSC_EXTERN PetscErrorCode AzLossLinearize(AzLoss loss, PetscReal *value);
PETSC_EXTERN PetscErrorCode AzLossGNGradient(AzLoss loss, Vec Jtr);
PETSC_EXTERN PetscErrorCode AzLossGNMult(AzLoss loss, Vec v, Vec JtJv);

/* Error of the field against the problem's exact solution on a uniform evaluation grid
 * (eval_n points per axis, distributed over ranks): relative L2 and max abs. Without an exact
 * solution the yardstick is the reference set by AzLossSetReference (interpolated at the grid
 * points); with neither, has_exact is false and the errors NaN. */
PETSC_EXTERN PetscErrorCode AzLossSetReference(AzLoss loss, AzReference ref);

/* Inverse problems (-az_infer nu,kappa): the n inferred parameters' names and, when values is not
 * NULL, their current values (of the loss's θ; the problem's parameters are set to them); a parameter
 * k's unknown is θ entry theta_index (after the network's), p = T(s) with dp/ds at the current θ
 * (1 plain, p with -az_infer_log, the sigmoid's with -az_infer_bounds). */
PETSC_EXTERN PetscErrorCode AzLossGetInferred(AzLoss loss, PetscInt *n, const char *const *names[], PetscReal values[]);
PETSC_EXTERN PetscErrorCode AzLossGetInferredIndex(AzLoss loss, PetscInt k, PetscInt *theta_index, PetscInt *param_index, PetscReal *dpds);
PETSC_EXTERN PetscErrorCode AzLossExactError(AzLoss loss, PetscBool *has_exact, PetscReal *rel_l2, PetscReal *max_abs);

#endif
