/* The Laplace approximation of the posterior of θ (include/ansatz/laplace.h): the Gauss–Newton
 * matrix H = JᵀJ of the scaled rows ρ, H + λI = L Lᵀ by Cholesky, the noise variance from the data
 * residual, and from them the variances of θ's entries and the field's pointwise standard deviation.
 *
 * The scaling, once more: the loss is Σ_k (w_k/m_k) Σ_i r_ki² = ‖ρ‖² with ρ_ki = √(w_k/m_k) r_ki
 * (AzLossNormalEquations gives JᵀJ and Jᵀρ of exactly these rows). Reading exp(−loss/(2s²)) as the
 * likelihood makes every ρ_i ~ N(0, s²); for the data term's rows ρ = √(w_d/m_d) r that is
 * r ~ N(0, σ²) with σ² = s² m_d/w_d, i.e. s² = (w_d/m_d) σ². The linearised posterior with the prior
 * N(θ*, (s²/λ) I) has precision (JᵀJ + λI)/s², so Σ = s² (H + λI)⁻¹. */
#include "lossimpl.h"
#include <ansatz/laplace.h>
#include <petscblaslapack.h>

struct _p_AzLaplace {
  AzLoss        loss;
  MPI_Comm      comm;
  PetscInt      P, block;
  PetscScalar  *Lf; /* P × P column-major: the lower Cholesky factor of H + λI (upper triangle unused) */
  AzLaplaceInfo info;
  /* conditioned on m linear observations A θ (AzLaplaceCondition): Q1, the first P rows of the thin Q
   * of [L⁻¹Aᵀ; √τ I] = QR (τ = σ_c²/s²), P × m column-major */
  PetscInt      m;
  PetscScalar  *Q1;
};

typedef struct {
  PetscReal lambda, sigma2;
  PetscBool lambda_set, sigma2_set;
  PetscInt  maxp, block;
} Options;

static PetscErrorCode ReadOptions(AzLoss L, Options *o)
{
  PetscFunctionBegin;
  o->lambda     = 0;
  o->sigma2     = 0;
  o->lambda_set = o->sigma2_set = PETSC_FALSE;
  o->maxp       = AZ_LAPLACE_DENSE_MAX;
  o->block      = 32;
  PetscOptionsBegin(L->comm, L->prefix, "Laplace approximation of the posterior (-az_uncertainty)", "AzLaplace");
  PetscCall(PetscOptionsReal("-az_laplace_lambda", "lambda added to the Gauss-Newton matrix J^T J: a prior of precision lambda/s^2 (default 1e-8 trace(J^T J)/P)", "AzLaplaceCreate", o->lambda, &o->lambda, &o->lambda_set));
  PetscCall(PetscOptionsReal("-az_laplace_sigma2", "noise variance of the data residual (default: estimated from it; without data, the variance of the loss's scaled rows)", "AzLaplaceCreate", o->sigma2, &o->sigma2, &o->sigma2_set));
  PetscCall(PetscOptionsInt("-az_laplace_max_parameters", "largest number of parameters for the dense P x P matrix of the Laplace approximation", "AzLaplaceCreate", o->maxp, &o->maxp, NULL));
  PetscCall(PetscOptionsInt("-az_laplace_block", "points per block when computing the field's standard deviation", "AzLaplaceFieldStd", o->block, &o->block, NULL));
  PetscOptionsEnd();
  PetscCheck(!o->lambda_set || o->lambda >= 0, L->comm, PETSC_ERR_ARG_OUTOFRANGE, "-az_laplace_lambda %g must be >= 0 (a prior precision; 0 needs J^T J positive definite)", (double)o->lambda);
  PetscCheck(!o->sigma2_set || o->sigma2 > 0, L->comm, PETSC_ERR_ARG_OUTOFRANGE, "-az_laplace_sigma2 %g must be > 0 (a noise variance)", (double)o->sigma2);
  PetscCheck(o->maxp >= 1, L->comm, PETSC_ERR_ARG_OUTOFRANGE, "-az_laplace_max_parameters %" PetscInt_FMT " must be >= 1", o->maxp);
  PetscCheck(o->block >= 1 && o->block <= 100000, L->comm, PETSC_ERR_ARG_OUTOFRANGE, "-az_laplace_block %" PetscInt_FMT " must be between 1 and 100000", o->block);
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzLaplaceMaxParameters(AzLoss L, PetscInt *maxp)
{
  Options o;

  PetscFunctionBegin;
  PetscCall(ReadOptions(L, &o));
  *maxp = o.maxp;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzLaplaceCheckOptions(AzLoss L)
{
  Options o;

  PetscFunctionBegin;
  PetscCall(ReadOptions(L, &o));
  PetscCall(AzLossSetUp(L));
  PetscCheck(!L->hardpde, L->comm, PETSC_ERR_SUP, "-az_uncertainty with -az_hardpde: the field's standard deviation through a solved output layer is not available (its weights depend on θ through the solve, which the Laplace approximation does not follow); leave one of them out");
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* B ← L⁻¹ B for B (n × nrhs, column-major, leading dimension ldb) with the trailing block of the factor
 * from row and column j0 on (n = P − j0): columns of L⁻¹ beyond j0 vanish above j0 */
static PetscErrorCode SolveTrailing(AzLaplace lap, PetscInt j0, PetscInt nrhs, PetscScalar B[], PetscInt ldb)
{
  PetscBLASInt n, m, lda, lb;
  PetscScalar  one = 1;

  PetscFunctionBegin;
  if (nrhs <= 0 || j0 >= lap->P) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(PetscBLASIntCast(lap->P - j0, &n));
  PetscCall(PetscBLASIntCast(nrhs, &m));
  PetscCall(PetscBLASIntCast(lap->P, &lda));
  PetscCall(PetscBLASIntCast(ldb, &lb));
  BLAStrsm_("L", "L", "N", "N", &n, &m, &one, lap->Lf + (size_t)j0 * lap->P + j0, &lda, B, &lb);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* tr((H + λI)⁻¹) = ‖L⁻¹‖_F², by blocks of columns of L⁻¹ (each from its diagonal down: P³/3 flops) */
static PetscErrorCode TraceInverse(AzLaplace lap, PetscReal *tr)
{
  const PetscInt P = lap->P, nb = PetscMin(P, 64);
  PetscScalar   *Y;

  PetscFunctionBegin;
  *tr = 0;
  PetscCall(PetscMalloc1((size_t)P * nb, &Y));
  for (PetscInt j0 = 0; j0 < P; j0 += nb) {
    const PetscInt m = PetscMin(nb, P - j0), n = P - j0;
    PetscCall(PetscArrayzero(Y, (size_t)n * m));
    for (PetscInt j = 0; j < m; j++) Y[(size_t)j * n + j] = 1;
    PetscCall(SolveTrailing(lap, j0, m, Y, n));
    for (size_t i = 0; i < (size_t)n * m; i++) *tr += PetscRealPart(Y[i] * Y[i]);
  }
  PetscCall(PetscFree(Y));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* γ_d = tr((H + λI)⁻¹ J_dᵀJ_d) = Σ_i ‖L⁻¹ j_i‖² over the data term's rows j_i, one partial sum per
 * owned group added in group order (AzLossGroupSum), so it does not depend on the rank count */
typedef struct {
  AzLaplace    lap;
  PetscScalar *part;
  PetscScalar *Y;
  PetscInt     cap;
} DofCtx;

static PetscErrorCode DofRows(AzLoss L, PetscInt g, PetscInt nrows, const PetscScalar rho[], const PetscScalar J[], void *ptr)
{
  DofCtx        *c = (DofCtx *)ptr;
  const PetscInt P = c->lap->P;

  PetscFunctionBegin;
  (void)rho;
  if (nrows > c->cap) {
    PetscCall(PetscFree(c->Y));
    PetscCall(PetscMalloc1((size_t)nrows * P, &c->Y));
    c->cap = nrows;
  }
  /* J is row-major nrows × P = column-major P × nrows: the rows are the right-hand sides */
  PetscCall(PetscArraycpy(c->Y, J, (size_t)nrows * P));
  PetscCall(SolveTrailing(c->lap, 0, nrows, c->Y, P));
  for (size_t i = 0; i < (size_t)nrows * P; i++) c->part[g - L->g0] += c->Y[i] * c->Y[i];
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode DataDof(AzLaplace lap, PetscInt kd, PetscReal *dof)
{
  AzLoss      L = lap->loss;
  DofCtx      c = {lap, NULL, NULL, 0};
  PetscScalar sum;

  PetscFunctionBegin;
  PetscCall(PetscCalloc1(PetscMax(L->g1 - L->g0, 1), &c.part));
  PetscCall(AzChainUpdate(L->chain));
  PetscCall(AzChainSideJacobian(L->chain));
  PetscCall(AzLossForEachJacobianChunk(L, kd, -1, DofRows, &c));
  PetscCall(AzLossGroupSum(L, 1, c.part, &sum));
  *dof = PetscRealPart(sum);
  PetscCall(PetscFree(c.Y));
  PetscCall(PetscFree(c.part));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* H, λ, the factor, σ² and s² into lap (allocated, its factor too) */
static PetscErrorCode Compute(AzLaplace lap, const Options *opt)
{
  const Options o = *opt;
  AzLoss       L = lap->loss;
  const PetscInt P = lap->P;
  PetscInt     nloc, kd = -1;
  PetscReal    value, term[AZ_MAX_TERMS], trH = 0;
  PetscBLASInt n, info;
  PetscBool    finite = PETSC_TRUE;

  PetscFunctionBegin;
  {
    PetscScalar *Jtr;
    PetscErrorCode ierr;
    PetscCall(PetscMalloc1(P, &Jtr));
    ierr = AzLossNormalEquations(L, lap->Lf, Jtr, &value, term);
    PetscCall(PetscFree(Jtr));
    PetscCall(ierr);
  }
  for (size_t i = 0; i < (size_t)P * P; i++)
    if (PetscIsInfOrNanScalar(lap->Lf[i])) finite = PETSC_FALSE;
  PetscCheck(finite && !PetscIsInfOrNanReal(value), L->comm, PETSC_ERR_FP, "The Laplace approximation: the loss (%g) or J^T J at the current parameters is not finite", (double)value);
  for (PetscInt j = 0; j < P; j++) trH += PetscRealPart(lap->Lf[(size_t)j * P + j]);
  lap->info.nparam = P;
  lap->info.lambda = o.lambda_set ? o.lambda : 1e-8 * trH / P;
  PetscCheck(lap->info.lambda > 0 || trH > 0, L->comm, PETSC_ERR_ARG_WRONG, "The Laplace approximation: J^T J is zero (the loss does not depend on the parameters) and lambda is 0");
  for (PetscInt j = 0; j < P; j++) lap->Lf[(size_t)j * P + j] += lap->info.lambda;
  PetscCall(PetscBLASIntCast(P, &n));
  LAPACKpotrf_("L", &n, lap->Lf, &n, &info);
  PetscCheck(info == 0, L->comm, PETSC_ERR_MAT_CH_ZRPVT, "The Laplace approximation: J^T J + lambda I is not positive definite (LAPACK potrf: leading minor %d) with lambda = %g; give a larger -az_laplace_lambda", (int)info, (double)lap->info.lambda);

  /* the rows, over all ranks */
  PetscCall(AzLossGetLocalResidualSize(L, &nloc));
  PetscCall(MPIU_Allreduce(&nloc, &lap->info.rows, 1, MPIU_INT, MPI_SUM, L->comm));
  for (PetscInt k = 0; k < L->nterms; k++)
    if (!strcmp(L->term[k].name, "data")) kd = k;
  lap->info.given = o.sigma2_set;
  lap->info.dof   = (PetscReal)NAN;
  if (kd >= 0) {
    const AzTerm   *t = &L->term[kd];
    const PetscReal m = (PetscReal)t->n * t->nres;
    PetscCheck(t->w > 0, L->comm, PETSC_ERR_ARG_WRONG, "The Laplace approximation reads the data term as the likelihood, but its weight is %g: give -az_weight_data > 0", (double)t->w);
    lap->info.from_data = PETSC_TRUE;
    lap->info.nobs      = t->n * t->nres;
    lap->info.rss       = term[kd] * m; /* term[k] = mean_k(r²), unweighted */
    if (o.sigma2_set) lap->info.sigma2 = o.sigma2;
    else {
      PetscCall(DataDof(lap, kd, &lap->info.dof));
      PetscCheck(m - lap->info.dof >= 1, L->comm, PETSC_ERR_NOT_CONVERGED,
                 "The Laplace approximation cannot estimate the noise from the data: the fit uses %.3f of the %" PetscInt_FMT " data values' degrees of freedom (the data are interpolated, residual sum of squares %g). Give the noise variance (-az_laplace_sigma2), or use more observations or fewer parameters",
                 (double)lap->info.dof, lap->info.nobs, (double)lap->info.rss);
      lap->info.sigma2 = lap->info.rss / (m - lap->info.dof);
    }
    lap->info.s2 = t->w / m * lap->info.sigma2;
  } else {
    lap->info.rss = value;
    if (o.sigma2_set) lap->info.sigma2 = o.sigma2;
    else {
      PetscReal tr;
      PetscCall(TraceInverse(lap, &tr));
      lap->info.dof = P - lap->info.lambda * tr;
      PetscCheck(lap->info.rows - lap->info.dof >= 1, L->comm, PETSC_ERR_NOT_CONVERGED,
                 "The Laplace approximation cannot estimate the noise from the loss: the fit uses %.3f of the %" PetscInt_FMT " residual rows' degrees of freedom (loss %g). Give the rows' variance (-az_laplace_sigma2), or use more collocation points or fewer parameters",
                 (double)lap->info.dof, lap->info.rows, (double)value);
      lap->info.sigma2 = value / (lap->info.rows - lap->info.dof);
    }
    lap->info.s2 = lap->info.sigma2;
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzLaplaceCreate(AzLoss L, AzLaplace *out)
{
  AzLaplace      lap;
  Options        o;
  PetscInt       P;
  PetscErrorCode ierr;

  PetscFunctionBegin;
  *out = NULL;
  PetscCall(AzLossSetUp(L));
  PetscCall(ReadOptions(L, &o));
  PetscCall(AzFieldGetNumParameters(L->field, &P));
  PetscCheck(P == L->nparam, L->comm, PETSC_ERR_ARG_WRONGSTATE, "AzLaplaceCreate: the field has %" PetscInt_FMT " parameters, the loss was set up for %" PetscInt_FMT, P, L->nparam);
  PetscCheck(P <= o.maxp, L->comm, PETSC_ERR_ARG_OUTOFRANGE,
             "The Laplace approximation needs the dense %" PetscInt_FMT " x %" PetscInt_FMT " matrix J^T J + lambda I (%.0f MB) and its Cholesky factorisation (%.1e flops): θ has %" PetscInt_FMT " parameters, more than -az_laplace_max_parameters %" PetscInt_FMT ". Use a smaller network, or raise the limit if memory and time allow",
             P, P, (double)P * P * sizeof(PetscScalar) / 1048576.0, (double)P * P * P / 3, P, o.maxp);
  PetscCall(PetscNew(&lap));
  lap->loss  = L;
  lap->comm  = L->comm;
  lap->P     = P;
  lap->block = o.block;
  PetscCall(PetscMalloc1((size_t)P * P, &lap->Lf));
  ierr = Compute(lap, &o); /* a refusal leaves nothing allocated behind */
  if (ierr) PetscCall(AzLaplaceDestroy(&lap));
  PetscCall(ierr);
  *out = lap;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzLaplaceDestroy(AzLaplace *lap)
{
  PetscFunctionBegin;
  if (!*lap) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(PetscFree((*lap)->Lf));
  PetscCall(PetscFree((*lap)->Q1));
  PetscCall(PetscFree(*lap));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzLaplaceGetInfo(AzLaplace lap, AzLaplaceInfo *info)
{
  PetscFunctionBegin;
  *info = lap->info;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* the conditioning's share of gᵀΣ̃g for nr columns Y = L⁻¹g (P × nr, column-major): d_r = ‖Q1ᵀ y_r‖²
 * (so that gᵀΣ̃g = s²(‖y‖² − d), see AzLaplaceCondition); d = 0 when not conditioned */
static PetscErrorCode Downdate(AzLaplace lap, PetscInt nr, const PetscScalar Y[], PetscReal d[])
{
  const PetscInt m = lap->m, P = lap->P;
  PetscScalar   *W, one = 1, zero = 0;
  PetscBLASInt   bm, bn, bk;

  PetscFunctionBegin;
  for (PetscInt r = 0; r < nr; r++) d[r] = 0;
  if (!m || !nr) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(PetscMalloc1((size_t)m * nr, &W));
  PetscCall(PetscBLASIntCast(m, &bm));
  PetscCall(PetscBLASIntCast(nr, &bn));
  PetscCall(PetscBLASIntCast(P, &bk));
  BLASgemm_("T", "N", &bm, &bn, &bk, &one, lap->Q1, &bk, Y, &bk, &zero, W, &bm); /* W = Q1ᵀ Y */
  for (PetscInt r = 0; r < nr; r++)
    for (PetscInt i = 0; i < m; i++) d[r] += PetscRealPart(W[(size_t)r * m + i] * W[(size_t)r * m + i]);
  PetscCall(PetscFree(W));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Gaussian conditioning on m linear observations of θ (ProbConserv): with A (m × P) and the misfit
 * r = Gμ − b, the observations A δθ = −r + ε, ε ~ N(0, σ_c² I), give
 *     δθ = −Σ Aᵀ(σ_c²I + AΣAᵀ)⁻¹ r,   Σ̃ = Σ − ΣAᵀ(σ_c²I + AΣAᵀ)⁻¹AΣ.
 * With Σ = s² L⁻ᵀL⁻¹, B = L⁻¹Aᵀ and the QR factorisation [B; √τ I] = [Q1; Q2] R (τ = σ_c²/s²), so that
 * B = Q1 R and σ_c²I + AΣAᵀ = s² RᵀR:
 *     δθ = −L⁻ᵀ B (RᵀR)⁻¹ r = −L⁻ᵀ Q1 R⁻ᵀ r,   gᵀΣ̃g = s² (‖L⁻¹g‖² − ‖Q1ᵀ L⁻¹g‖²),
 * and A δθ = −Bᵀ Q1 R⁻ᵀ r = −RᵀQ1ᵀQ1R⁻ᵀ r, which is −r for σ_c = 0 (Q1 = Q orthonormal): the
 * observations imposed to round-off however ill-conditioned A is (no normal matrix is formed).
 * Local: every rank holds A, r and the factor. */
PetscErrorCode AzLaplaceCondition(AzLaplace lap, PetscInt m, const PetscScalar A[], const PetscScalar r[], PetscReal sigma2, PetscScalar dtheta[])
{
  const PetscInt P = lap->P, rows = P + m;
  const PetscReal tau = sigma2 / lap->info.s2;
  PetscScalar   *Z, *tauq, *work, *R, wq, one = 1;
  PetscBLASInt   bm, brows, lwork, info, bP, inc = 1;
  PetscReal      rmax = 0, rmin = PETSC_MAX_REAL;

  PetscFunctionBegin;
  PetscCheck(!lap->m, PETSC_COMM_SELF, PETSC_ERR_ARG_WRONGSTATE, "AzLaplaceCondition: the approximation is already conditioned (on %" PetscInt_FMT " observations); create it again", lap->m);
  PetscCheck(m >= 1, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "AzLaplaceCondition: %" PetscInt_FMT " observations: at least 1", m);
  PetscCheck(sigma2 >= 0 && !PetscIsInfOrNanReal(sigma2), PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "AzLaplaceCondition: the observations' variance %g must be finite and >= 0", (double)sigma2);
  PetscCheck(sigma2 > 0 || m <= P, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "AzLaplaceCondition: %" PetscInt_FMT " observations imposed exactly (variance 0) on %" PetscInt_FMT " parameters: at most %" PetscInt_FMT " can be", m, P, P);
  PetscCall(PetscMalloc3((size_t)rows * m, &Z, m, &tauq, (size_t)m * m, &R));
  PetscCall(PetscArrayzero(Z, (size_t)rows * m));
  /* Z = [L⁻¹Aᵀ; √τ I]: A is row-major m × P, i.e. Aᵀ column-major P × m */
  for (PetscInt j = 0; j < m; j++) {
    PetscCall(PetscArraycpy(Z + (size_t)j * rows, A + (size_t)j * P, P));
    Z[(size_t)j * rows + P + j] = PetscSqrtReal(tau);
  }
  PetscCall(SolveTrailing(lap, 0, m, Z, rows));
  PetscCall(PetscBLASIntCast(m, &bm));
  PetscCall(PetscBLASIntCast(rows, &brows));
  lwork = -1;
  LAPACKgeqrf_(&brows, &bm, Z, &brows, tauq, &wq, &lwork, &info);
  PetscCall(PetscBLASIntCast(PetscMax((PetscInt)PetscRealPart(wq), m), &lwork));
  PetscCall(PetscMalloc1(lwork, &work));
  LAPACKgeqrf_(&brows, &bm, Z, &brows, tauq, work, &lwork, &info);
  PetscCheck(info == 0, PETSC_COMM_SELF, PETSC_ERR_LIB, "AzLaplaceCondition: LAPACK geqrf failed (%d)", (int)info);
  PetscCall(PetscArrayzero(R, (size_t)m * m));
  for (PetscInt j = 0; j < m; j++)
    for (PetscInt i = 0; i <= j; i++) R[(size_t)j * m + i] = Z[(size_t)j * rows + i];
  for (PetscInt i = 0; i < m; i++) {
    rmax = PetscMax(rmax, PetscAbsScalar(R[(size_t)i * m + i]));
    rmin = PetscMin(rmin, PetscAbsScalar(R[(size_t)i * m + i]));
  }
  if (!(rmin > 1e-13 * rmax)) {
    PetscCall(PetscFree(work));
    PetscCall(PetscFree3(Z, tauq, R));
    SETERRQ(PETSC_COMM_SELF, PETSC_ERR_ARG_WRONG, "AzLaplaceCondition: the %" PetscInt_FMT " observations are linearly dependent under the covariance (R's diagonal from %g down to %g): impose fewer, or give them a variance > 0", m, (double)rmax, (double)rmin);
  }
  LAPACKorgqr_(&brows, &bm, &bm, Z, &brows, tauq, work, &lwork, &info); /* the thin Q */
  PetscCall(PetscFree(work));
  PetscCheck(info == 0, PETSC_COMM_SELF, PETSC_ERR_LIB, "AzLaplaceCondition: LAPACK orgqr failed (%d)", (int)info);
  PetscCall(PetscMalloc1((size_t)P * m, &lap->Q1));
  for (PetscInt j = 0; j < m; j++) PetscCall(PetscArraycpy(lap->Q1 + (size_t)j * P, Z + (size_t)j * rows, P));
  lap->m = m;
  /* δθ = −L⁻ᵀ Q1 R⁻ᵀ r */
  {
    PetscScalar *z;
    PetscCall(PetscMalloc1(m, &z));
    PetscCall(PetscArraycpy(z, r, m));
    BLAStrsm_("L", "U", "T", "N", &bm, &inc, &one, R, &bm, z, &bm);
    for (PetscInt i = 0; i < P; i++) {
      PetscScalar v = 0;
      for (PetscInt j = 0; j < m; j++) v += lap->Q1[(size_t)j * P + i] * z[j];
      dtheta[i] = -v;
    }
    PetscCall(PetscBLASIntCast(P, &bP));
    BLAStrsm_("L", "L", "T", "N", &bP, &inc, &one, lap->Lf, &bP, dtheta, &bP);
    PetscCall(PetscFree(z));
  }
  PetscCall(PetscFree3(Z, tauq, R));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzLaplaceGetFactor(AzLaplace lap, PetscInt *P, const PetscScalar **Lf, PetscReal *s2)
{
  PetscFunctionBegin;
  *P  = lap->P;
  *Lf = lap->Lf;
  *s2 = lap->info.s2;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzLaplaceGetNumConditions(AzLaplace lap, PetscInt *m)
{
  PetscFunctionBegin;
  *m = lap->m;
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode CheckIndices(AzLaplace lap, PetscInt nidx, const PetscInt idx[])
{
  PetscFunctionBegin;
  PetscCheck(nidx >= 0, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "AzLaplace: %" PetscInt_FMT " indices: must be >= 0", nidx);
  for (PetscInt i = 0; i < nidx; i++) PetscCheck(idx[i] >= 0 && idx[i] < lap->P, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "AzLaplace: index %" PetscInt_FMT " of θ is outside 0..%" PetscInt_FMT, idx[i], lap->P - 1);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Σ_ii = s² ‖L⁻¹ e_i‖²: L⁻¹ e_i vanishes above i, so only the trailing block from i on is solved;
 * conditioned (AzLaplaceCondition), Σ̃_ii = s² (‖L⁻¹ e_i‖² − ‖Q1ᵀL⁻¹ e_i‖²) */
PetscErrorCode AzLaplaceGetVariance(AzLaplace lap, PetscInt nidx, const PetscInt idx[], PetscReal var[])
{
  PetscScalar *y;

  PetscFunctionBegin;
  PetscCall(CheckIndices(lap, nidx, idx));
  PetscCall(PetscMalloc1(lap->P, &y));
  for (PetscInt k = 0; k < nidx; k++) {
    const PetscInt i = idx[k], n = lap->P - i;
    PetscReal      s = 0, d;
    PetscCall(PetscArrayzero(y, lap->P));
    y[i] = 1;
    PetscCall(SolveTrailing(lap, i, 1, y + i, n));
    for (PetscInt j = i; j < lap->P; j++) s += PetscRealPart(y[j] * y[j]);
    PetscCall(Downdate(lap, 1, y, &d));
    var[k] = lap->info.s2 * PetscMax(s - d, 0);
  }
  PetscCall(PetscFree(y));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Σ_IJ = s² (L⁻¹ e_I)ᵀ (L⁻¹ e_J), less s² (Q1ᵀL⁻¹ e_I)ᵀ(Q1ᵀL⁻¹ e_J) when conditioned */
PetscErrorCode AzLaplaceGetCovariance(AzLaplace lap, PetscInt nidx, const PetscInt idx[], PetscReal cov[])
{
  const PetscInt P = lap->P, m = lap->m;
  PetscScalar   *Y, *W = NULL;

  PetscFunctionBegin;
  PetscCall(CheckIndices(lap, nidx, idx));
  if (!nidx) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(PetscCalloc1((size_t)P * nidx, &Y));
  for (PetscInt k = 0; k < nidx; k++) Y[(size_t)k * P + idx[k]] = 1;
  PetscCall(SolveTrailing(lap, 0, nidx, Y, P));
  if (m) {
    PetscScalar  one = 1, zero = 0;
    PetscBLASInt bm, bn, bP;
    PetscCall(PetscMalloc1((size_t)m * nidx, &W));
    PetscCall(PetscBLASIntCast(m, &bm));
    PetscCall(PetscBLASIntCast(nidx, &bn));
    PetscCall(PetscBLASIntCast(P, &bP));
    BLASgemm_("T", "N", &bm, &bn, &bP, &one, lap->Q1, &bP, Y, &bP, &zero, W, &bm); /* Q1ᵀ L⁻¹ e_I */
  }
  for (PetscInt a = 0; a < nidx; a++)
    for (PetscInt b = 0; b <= a; b++) {
      PetscReal s = 0;
      for (PetscInt j = 0; j < P; j++) s += PetscRealPart(Y[(size_t)a * P + j] * Y[(size_t)b * P + j]);
      for (PetscInt j = 0; j < m; j++) s -= PetscRealPart(W[(size_t)a * m + j] * W[(size_t)b * m + j]);
      cov[a * nidx + b] = cov[b * nidx + a] = lap->info.s2 * s;
    }
  PetscCall(PetscFree(W));
  PetscCall(PetscFree(Y));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Block by block: the network's jets, the chain forward (its inputs kept), a unit row on each solution
 * component's value slot taken back through the chain's adjoint to the network's jets, the dense
 * Jacobian rows g = ∂u_c/∂θ (AzFieldResidualJacobian), then L⁻¹ g for the whole block in one solve */
PetscErrorCode AzLaplaceFieldStd(AzLaplace lap, PetscInt npts, const PetscReal x[], PetscReal std[])
{
  AzLoss         L = lap->loss;
  const PetscInt P = lap->P, nc = L->ncomp, ns = L->nslot, Ljet = nc * ns, B = lap->block;
  PetscInt       ncN, nsN, ncoord = L->ncoord;
  PetscScalar   *net, *sol, *rows, *netrows, *G;
  PetscReal     *dd;
  const PetscReal s = PetscSqrtReal(lap->info.s2);

  PetscFunctionBegin;
  PetscCheck(npts >= 0, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "AzLaplaceFieldStd: %" PetscInt_FMT " points", npts);
  for (PetscInt i = 0; i < AzChainNumMaps(L->chain); i++)
    PetscCheck(strcmp(AzChainGetMap(L->chain, i)->ops->name, "hardpde"), PETSC_COMM_SELF, PETSC_ERR_SUP, "The field's standard deviation through a solved output layer (-az_hardpde) is not available: its weights depend on θ through the solve, which it does not follow (AzLaplaceGetVariance still gives the variances of θ's entries)");
  for (PetscInt i = 0; i < AzChainNumMaps(L->chain); i++)
    PetscCheck(strcmp(AzChainGetMap(L->chain, i)->ops->name, "projection"), PETSC_COMM_SELF, PETSC_ERR_SUP,
               "The field's standard deviation through the projection onto conservation laws (-az_conservation project or posthoc) is not available: the projection's coefficients depend on θ through a quadrature that it does not follow (AzLaplaceGetVariance still gives the variances of θ's entries)");
  PetscCall(AzFieldGetJetSize(L->field, &ncN, &nsN));
  PetscCheck(nsN == ns && ncN == L->ncompN, PETSC_COMM_SELF, PETSC_ERR_PLIB, "AzLaplaceFieldStd: the field's jets (%" PetscInt_FMT " x %" PetscInt_FMT ") are not the network's of the loss (%" PetscInt_FMT " x %" PetscInt_FMT ")", ncN, nsN, L->ncompN, ns);
  PetscCall(PetscMalloc5((size_t)B * ncN * ns, &net, (size_t)B * Ljet, &sol, (size_t)B * nc * Ljet, &rows, (size_t)B * nc * ncN * ns, &netrows, (size_t)B * nc * P, &G));
  PetscCall(PetscMalloc1((size_t)B * nc, &dd));
  for (PetscInt p0 = 0; p0 < npts; p0 += B) {
    const PetscInt   nb = PetscMin(B, npts - p0), nr = nb * nc;
    const PetscReal *xb = x + (size_t)p0 * ncoord;

    PetscCall(AzFieldEvaluateJets(L->field, nb, xb, net));
    PetscCall(AzLossChainForward(L, nb, xb, net, sol));
    PetscCall(PetscArrayzero(rows, (size_t)nr * Ljet));
    for (PetscInt p = 0; p < nb; p++)
      for (PetscInt c = 0; c < nc; c++) rows[((size_t)p * nc + c) * Ljet + c * ns] = 1; /* ∂u_c/∂(solution jet) */
    PetscCall(AzLossChainAdjoint(L, nb, xb, nc, rows, netrows));
    PetscCall(PetscArrayzero(G, (size_t)nr * P)); /* entries of θ the network does not read stay 0 */
    PetscCall(AzFieldResidualJacobian(L->field, nb, xb, nc, netrows, G));
    /* G is row-major nr × P = column-major P × nr: one solve for the block */
    PetscCall(SolveTrailing(lap, 0, nr, G, P));
    PetscCall(Downdate(lap, nr, G, dd)); /* conditioned: Σ̃ (0 otherwise) */
    for (PetscInt p = 0; p < nb; p++) { /* probconserv pertime: Σ̃_t at each point's own time */
      const PetscScalar *Bt, *Mi;
      PetscInt           nl;
      PetscCall(AzProbConservAt(L, xb[(size_t)p * ncoord + ncoord - 1], &nl, &Bt, &Mi));
      for (PetscInt c = 0; c < nc && nl; c++) {
        const PetscScalar *y = G + (size_t)(p * nc + c) * P;
        PetscScalar        w[AZ_MAX_LAWS];
        PetscReal          d = 0;
        for (PetscInt i = 0; i < nl; i++) {
          w[i] = 0;
          for (PetscInt j = 0; j < P; j++) w[i] += Bt[(size_t)i * P + j] * y[j];
        }
        for (PetscInt i = 0; i < nl; i++)
          for (PetscInt j = 0; j < nl; j++) d += PetscRealPart(w[i] * Mi[i * nl + j] * w[j]);
        dd[p * nc + c] += lap->info.s2 * d;
      }
    }
    for (PetscInt r = 0; r < nr; r++) {
      PetscReal q = 0;
      for (PetscInt j = 0; j < P; j++) q += PetscRealPart(G[(size_t)r * P + j] * G[(size_t)r * P + j]);
      std[(size_t)p0 * nc + r] = s * PetscSqrtReal(PetscMax(q - dd[r], 0));
    }
  }
  PetscCall(PetscFree5(net, sol, rows, netrows, G));
  PetscCall(PetscFree(dd));
  PetscFunctionReturn(PETSC_SUCCESS);
}
