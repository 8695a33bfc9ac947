/* The conservative finite-volume reference (-az_ref_method fv) for problems in conservation form,
 *     u_t + ∂_x F(x, t, u, u_x) = S(x, t, u, u_x)      (1-D for now),
 * on n cells of width h; the unknowns are the cell averages ū_i, i = 0 .. n-1, at the centres
 * x_i = lo + (i + 1/2) h. Integrated over cell i, exactly:
 *     h dū_i/dt = F*_{i-1/2} − F*_{i+1/2} + h S_i,
 * so Σ_i h dū_i/dt telescopes to the two boundary fluxes plus the sources: the discrete mass changes
 * by nothing else, to round-off, on any grid (each face flux is computed once per rank from the same
 * ghost values, so both neighbours of a face see the same bits).
 *
 *   face flux     F* = ½ (F(u_L, 0) + F(u_R, 0)) − ½ α (u_R − u_L) + ⟨F(u, g) − F(u, 0)⟩:
 *                 local Lax–Friedrichs for the convective part F(u, 0), u_L, u_R the MC-limited linear
 *                 reconstructions of the two cells at the face (second order where smooth, no new
 *                 extrema at a shock), α = max over u_L, u_R of ‖∂F/∂u(x, t, u, u_x = 0)‖_∞ (exact
 *                 from the plugin's ∂F/∂jet when it gives it, else central differences), so a pure
 *                 diffusion flux gets α = 0; the diffusive part at the face gradient g = (ū_R − ū_L)/h,
 *                 averaged over the states u between ū_L and ū_R (⟨⟩: for F = −k(u) u_x the Kirchhoff
 *                 flux −(K(ū_R) − K(ū_L))/h, K' = k; see LatticeAverage).
 *   source        S(x_i, t, ū_i, ∇u_i) at the centre (midpoint rule), ∇u_i the mean of the two face
 *                 gradients.
 *   boundary      periodic: a face like any other; AZ_BC_FLUX: F·n = g exactly (the plugin's value);
 *                 AZ_BC_DIRICHLET: F(u_b, (ū_0 − u_b)/(h/2)) with the data u_b at the face (one-sided
 *                 gradient), and u_b enters the boundary cell's limited slope.
 *   time          the method of lines of discretize.c (IDA, CVODE, ARKODE) with F(t, y, y') = y' − rate(y)
 *                 (steady: −rate), Newton's matrix by colored differences on the DMDA (stencil 2).
 * Error O(h²) in smooth regions, first order at extrema clipped by the limiter. */
#include "refimpl.h"

/* Gauss–Legendre, 3 points on [0, 1] */
static const PetscReal gs_x[3] = {0.11270166537925831, 0.5, 0.88729833462074169};
static const PetscReal gs_w[3] = {0.27777777777777778, 0.44444444444444444, 0.27777777777777778};

/* the monotonized-central limiter of the one-sided differences a, b */
static inline PetscReal LimitMC(PetscReal a, PetscReal b)
{
  PetscReal m;

  if (a * b <= 0) return 0;
  m = PetscMin(PetscMin(2 * PetscAbsReal(a), 2 * PetscAbsReal(b)), 0.5 * PetscAbsReal(a + b));
  return a > 0 ? m : -m;
}

PetscBool AzRefFVSupports(AzReference ref, char why[], size_t len)
{
  for (PetscInt f = 0; f < 2 * ref->dim; f++) {
    const AzBoundaryInfo *bc = &ref->info->boundary[f];

    if (bc->type == AZ_BC_PERIODIC || bc->type == AZ_BC_FLUX || (bc->type == AZ_BC_DIRICHLET && bc->value)) continue;
    if (why) {
      const char *names[] = {"free (AZ_BC_NONE)", "Dirichlet without data (.value)", "Neumann", "Robin", "periodic", "flux"};
      snprintf(why, len, "face %d (%s side of axis %d) is %s, and fv treats only periodic, flux (AZ_BC_FLUX) and Dirichlet faces with data", (int)f, f % 2 ? "upper" : "lower", (int)(f / 2), names[bc->type]);
    }
    return PETSC_FALSE;
  }
  if (ref->td && !ref->info->initial_value) {
    if (why) snprintf(why, len, "it gives no initial_value, and fv starts from the cell averages of u(x, t0)");
    return PETSC_FALSE;
  }
  return PETSC_TRUE;
}

typedef struct {
  AzReference      ref;
  const PetscReal *param;
  PetscReal        t;
  PetscInt         nc, ux; /* components; the jet slot of u_x */
} Ctx;

/* F_x (nc values) and, with S != NULL, the source at (x, t) from u and u_x */
static PetscErrorCode Flux(const Ctx *c, PetscReal x, const PetscScalar u[], const PetscScalar ux[], PetscScalar F[], PetscScalar S[])
{
  const AzReference ref = c->ref;
  PetscScalar       jet[AZ_MAX_COMP * AZ_JET_MAX_NSLOT], Fall[AZ_MAX_COMP * AZ_MAX_DIM], Sall[AZ_MAX_COMP];
  PetscReal         xx[AZ_MAX_COORD] = {x, c->t};

  PetscFunctionBegin;
  for (PetscInt k = 0; k < c->nc * ref->nslot; k++) jet[k] = (PetscScalar)NAN;
  for (PetscInt k = 0; k < c->nc; k++) {
    jet[k * ref->nslot]         = u[k];
    jet[k * ref->nslot + c->ux] = ux[k];
  }
  PetscCall(AzProblemEvaluateFlux(ref->prob, xx, jet, Fall, Sall));
  for (PetscInt k = 0; k < c->nc; k++) F[k] = Fall[k * ref->dim];
  if (S)
    for (PetscInt k = 0; k < c->nc; k++) S[k] = Sall[k];
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* ‖∂F_x/∂u‖_∞ at (x, t, u, u_x = 0): a bound of the largest wave speed of the convective part */
static PetscErrorCode WaveSpeed(const Ctx *c, PetscReal x, const PetscScalar u[], PetscReal *alpha)
{
  const AzReference    ref = c->ref;
  const AzProblemInfo *info = ref->info;
  const PetscInt       nc = c->nc, L = nc * ref->nslot;
  PetscScalar          zero[AZ_MAX_COMP] = {0}, D[AZ_MAX_COMP * AZ_MAX_COMP];

  PetscFunctionBegin;
  if (info->exact_jacobian) {
    PetscScalar jet[AZ_MAX_COMP * AZ_JET_MAX_NSLOT], F[AZ_MAX_COMP * AZ_MAX_DIM], G[AZ_MAX_COMP * AZ_MAX_DIM * AZ_MAX_COMP * AZ_JET_MAX_NSLOT];
    PetscReal   xx[AZ_MAX_COORD] = {x, c->t};
    AzPoint     p = {xx, ref->ncoord, c->param, -1};
    AzJet       J = {ref->ncoord, nc, ref->nslot, jet};

    for (PetscInt k = 0; k < L; k++) jet[k] = (PetscScalar)NAN;
    for (PetscInt k = 0; k < nc; k++) {
      jet[k * ref->nslot]         = u[k];
      jet[k * ref->nslot + c->ux] = 0;
    }
    PetscCall(PetscArrayzero(G, nc * ref->dim * L));
    PetscCall(info->flux(&p, &J, F, G));
    for (PetscInt i = 0; i < nc; i++)
      for (PetscInt k = 0; k < nc; k++) D[i * nc + k] = G[(i * ref->dim) * L + k * ref->nslot];
  } else {
    PetscScalar up[AZ_MAX_COMP], Fp[AZ_MAX_COMP], Fm[AZ_MAX_COMP];

    for (PetscInt k = 0; k < nc; k++) up[k] = u[k];
    for (PetscInt k = 0; k < nc; k++) {
      const PetscReal e = 1e-6 * PetscMax(1.0, PetscAbsScalar(u[k]));

      up[k] = u[k] + e;
      PetscCall(Flux(c, x, up, zero, Fp, NULL));
      up[k] = u[k] - e;
      PetscCall(Flux(c, x, up, zero, Fm, NULL));
      up[k] = u[k];
      for (PetscInt i = 0; i < nc; i++) D[i * nc + k] = (Fp[i] - Fm[i]) / (2 * e);
    }
  }
  *alpha = 0;
  for (PetscInt i = 0; i < nc; i++) {
    PetscReal r = 0;
    for (PetscInt k = 0; k < nc; k++) r += PetscAbsScalar(D[i * nc + k]);
    *alpha = PetscMax(*alpha, r);
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode BoundaryValue(const Ctx *c, PetscInt face, PetscReal x, PetscScalar ub[])
{
  PetscReal xx[AZ_MAX_COORD] = {x, c->t};
  AzPoint   p                = {xx, c->ref->ncoord, c->param, face};

  PetscFunctionBegin;
  PetscCall(c->ref->info->boundary[face].value(&p, ub));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The diffusive flux of a scalar problem, F_d(u, g) = F(u, g) − F(u, 0), averaged over u between the
 * cell values a and b: the exact average of its piecewise-linear interpolant on the fixed lattice
 * u_m = m δ (δ = fv_du). The lattice does not move with a and b, so the average is a continuous
 * function of the cell values even where k(u) jumps (the jump is spread over one lattice interval):
 * moving Gauss nodes would make the rate jump whenever a node crosses u*, and the integrator stall. */
static PetscErrorCode LatticeAverage(const Ctx *c, PetscReal xf, PetscScalar a, PetscScalar b, const PetscScalar g[], PetscScalar F[])
{
  const PetscReal du = c->ref->fv_du, lo = PetscMin(a, b), hi = PetscMax(a, b);
  const PetscReal m0 = PetscFloorReal(lo / du), m1 = PetscMax(m0 + 1, PetscCeilReal(hi / du));
  PetscScalar     zero[1] = {0}, f0, f1, u, Fg, F0, sum = 0;

  PetscFunctionBegin;
  PetscCheck(m1 - m0 <= 1e7, PETSC_COMM_SELF, PETSC_ERR_FP, "fv: cell values %g and %g span %g lattice intervals of the diffusive flux (the solution is not finite)", (double)a, (double)b, (double)(m1 - m0));
  u = m0 * du;
  PetscCall(Flux(c, xf, &u, g, &Fg, NULL));
  PetscCall(Flux(c, xf, &u, zero, &F0, NULL));
  f0 = Fg - F0;
  for (PetscReal m = m0; m < m1; m++) {
    const PetscReal ua = m * du, ub = (m + 1) * du, sa = PetscMax(lo, ua), sb = PetscMin(hi, ub);

    u = ub;
    PetscCall(Flux(c, xf, &u, g, &Fg, NULL));
    PetscCall(Flux(c, xf, &u, zero, &F0, NULL));
    f1 = Fg - F0;
    if (hi == lo) { /* the limit: the interpolant at a */
      if (lo <= ub) {
        sum = f0 + (f1 - f0) * (lo - ua) / du;
        break;
      }
    } else if (sb > sa) sum += (sb - sa) * (f0 + (f1 - f0) * (0.5 * (sa + sb) - ua) / du); /* exact for a linear piece */
    f0 = f1;
  }
  F[0] += hi == lo ? sum : sum / (hi - lo);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The rate of every owned cell: rate_i = (F*_{i-1/2} − F*_{i+1/2}) / h + S_i. u is the ghosted local
 * array (index i at u[(i - gs) * nc]); faces j = xs .. xs + xm, face j between cells j-1 and j. */
static PetscErrorCode Rates(const Ctx *c, const PetscScalar *u, PetscInt gs, PetscInt xs, PetscInt xm, PetscScalar rate[])
{
  const AzReference    ref = c->ref;
  const AzProblemInfo *info = ref->info;
  const PetscInt       nc = c->nc, n = ref->n[0];
  const PetscReal      h = ref->h[0], lo = ref->lo[0];
  const PetscBool      per = ref->periodic[0];
  const AzBCType       tlo = info->boundary[0].type, thi = info->boundary[1].type;
  PetscScalar          ub[2][AZ_MAX_COMP], *slope, *Fs, *grad, zero[AZ_MAX_COMP] = {0};

  PetscFunctionBegin;
  /* slope: cells xs-1 .. xs+xm (index + 1 - xs); Fs, grad: faces xs .. xs+xm (index - xs) */
  PetscCall(PetscMalloc3((size_t)(xm + 2) * nc, &slope, (size_t)(xm + 1) * nc, &Fs, (size_t)(xm + 1) * nc, &grad));
  if (!per && tlo == AZ_BC_DIRICHLET) PetscCall(BoundaryValue(c, 0, lo, ub[0]));
  if (!per && thi == AZ_BC_DIRICHLET) PetscCall(BoundaryValue(c, 1, lo + n * h, ub[1]));
#define U(i, k) u[((i) - gs) * nc + (k)]
  /* limited slopes (times h): the differences to both neighbours, or to the face value u_b at h/2
   * (Dirichlet), or the one difference there is (a flux face) */
  for (PetscInt i = xs - 1; i <= xs + xm; i++) {
    PetscScalar *s = slope + (i + 1 - xs) * nc;

    if (!per && (i < 0 || i >= n)) continue;
    for (PetscInt k = 0; k < nc; k++) {
      const PetscBool hasl = per || i > 0 || tlo == AZ_BC_DIRICHLET, hasr = per || i < n - 1 || thi == AZ_BC_DIRICHLET;
      PetscReal       dl = 0, dr = 0;

      if (hasl) dl = (!per && i == 0) ? 2 * (U(0, k) - ub[0][k]) : U(i, k) - U(i - 1, k);
      if (hasr) dr = (!per && i == n - 1) ? 2 * (ub[1][k] - U(n - 1, k)) : U(i + 1, k) - U(i, k);
      if (hasl && hasr) s[k] = LimitMC(dl, dr);
      else s[k] = hasl ? dl : (hasr ? dr : 0);
      if (n == 1 && !per) s[k] = 0;
    }
  }
  for (PetscInt j = xs; j <= xs + xm; j++) {
    PetscScalar    *F = Fs + (j - xs) * nc, *g = grad + (j - xs) * nc;
    const PetscReal xf = lo + j * h;

    if (!per && (j == 0 || j == n)) {
      const PetscInt  face = j == 0 ? 0 : 1, cell = j == 0 ? 0 : n - 1;
      const PetscReal sign = j == 0 ? -1.0 : 1.0; /* outward normal */

      if (info->boundary[face].type == AZ_BC_FLUX) {
        PetscScalar gn[AZ_MAX_COMP] = {0};
        if (info->boundary[face].value) PetscCall(BoundaryValue(c, face, xf, gn));
        for (PetscInt k = 0; k < nc; k++) F[k] = sign * gn[k]; /* F·n = g */
        for (PetscInt k = 0; k < nc; k++) g[k] = (PetscScalar)NAN; /* filled below from the other face */
      } else { /* Dirichlet */
        for (PetscInt k = 0; k < nc; k++) g[k] = sign * (ub[face][k] - U(cell, k)) / (0.5 * h);
        PetscCall(Flux(c, xf, ub[face], g, F, NULL));
      }
      continue;
    }
    {
      PetscScalar uL[AZ_MAX_COMP], uR[AZ_MAX_COMP], FL[AZ_MAX_COMP], FR[AZ_MAX_COMP];
      PetscReal   aL, aR;

      for (PetscInt k = 0; k < nc; k++) {
        uL[k] = U(j - 1, k) + 0.5 * slope[(j - xs) * nc + k];
        uR[k] = U(j, k) - 0.5 * slope[(j + 1 - xs) * nc + k];
        g[k]  = (U(j, k) - U(j - 1, k)) / h;
      }
      /* convective part F(u, 0): local Lax-Friedrichs on the reconstructions */
      PetscCall(Flux(c, xf, uL, zero, FL, NULL));
      PetscCall(Flux(c, xf, uR, zero, FR, NULL));
      PetscCall(WaveSpeed(c, xf, uL, &aL));
      PetscCall(WaveSpeed(c, xf, uR, &aR));
      for (PetscInt k = 0; k < nc; k++) F[k] = 0.5 * (FL[k] + FR[k]) - 0.5 * PetscMax(aL, aR) * (uR[k] - uL[k]);
      /* diffusive part F(u, g) − F(u, 0), averaged over the states between the two cells (Gauss in u):
       * for F = −k(u) u_x exactly the Kirchhoff flux −(K(ū_R) − K(ū_L))/h, K' = k, which stays
       * continuous in the cell values where k(u) jumps (Stefan) and vanishes with k (porous medium) */
      if (nc == 1 && ref->fv_du > 0) PetscCall(LatticeAverage(c, xf, U(j - 1, 0), U(j, 0), g, F));
      else
        for (PetscInt q = 0; q < 3; q++) {
          PetscScalar uq[AZ_MAX_COMP], Fg[AZ_MAX_COMP], F0[AZ_MAX_COMP];

          for (PetscInt k = 0; k < nc; k++) uq[k] = U(j - 1, k) + gs_x[q] * (U(j, k) - U(j - 1, k));
          PetscCall(Flux(c, xf, uq, g, Fg, NULL));
          PetscCall(Flux(c, xf, uq, zero, F0, NULL));
          for (PetscInt k = 0; k < nc; k++) F[k] += gs_w[q] * (Fg[k] - F0[k]);
        }
    }
  }
  for (PetscInt i = xs; i < xs + xm; i++) {
    PetscScalar *r = rate + (i - xs) * nc;

    for (PetscInt k = 0; k < nc; k++) r[k] = (Fs[(i - xs) * nc + k] - Fs[(i + 1 - xs) * nc + k]) / h;
    if (info->source) {
      PetscScalar gi[AZ_MAX_COMP], S[AZ_MAX_COMP], F[AZ_MAX_COMP];

      for (PetscInt k = 0; k < nc; k++) {
        PetscScalar gl = grad[(i - xs) * nc + k], gr = grad[(i + 1 - xs) * nc + k];

        if (PetscIsNanScalar(gl)) gl = n > 1 ? (U(i + 1, k) - U(i, k)) / h : 0; /* a flux face at the left */
        if (PetscIsNanScalar(gr)) gr = n > 1 ? (U(i, k) - U(i - 1, k)) / h : 0;
        gi[k] = 0.5 * (gl + gr);
      }
      PetscCall(Flux(c, ref->x0[0] + i * h, &U(i, 0), gi, F, S));
      for (PetscInt k = 0; k < nc; k++) r[k] += S[k];
    }
  }
#undef U
  PetscCall(PetscFree3(slope, Fs, grad));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzRefFVFunction(AzReference ref, AzRefForm form, PetscReal t, Vec Y, Vec Yp, Vec Fv, PetscBool *bad)
{
  const PetscInt     nc = ref->ncomp;
  const PetscScalar *y, *yp = NULL;
  PetscScalar       *f;
  PetscInt           xs, xm, gs, gm, nonfinite = 0;
  Ctx                c;

  PetscFunctionBegin;
  PetscCall(PetscLogEventBegin(AZ_REF_Residual, 0, 0, 0, 0));
  c.ref = ref;
  c.t   = t;
  c.nc  = nc;
  c.ux  = AzJetSlotD1(ref->ncoord, 0);
  PetscCall(AzProblemGetParams(ref->prob, &c.param));
  PetscCall(DMDAGetCorners(ref->da, &xs, NULL, NULL, &xm, NULL, NULL));
  PetscCall(DMDAGetGhostCorners(ref->da, &gs, NULL, NULL, &gm, NULL, NULL));
  PetscCall(DMGlobalToLocal(ref->da, Y, INSERT_VALUES, ref->yloc));
  PetscCall(VecGetArrayRead(ref->yloc, &y));
  PetscCall(VecGetArray(Fv, &f));
  PetscCall(Rates(&c, y, gs, xs, xm, f));
  PetscCall(VecRestoreArrayRead(ref->yloc, &y));
  if (form == AZ_REF_FORM_DAE) PetscCall(VecGetArrayRead(Yp, &yp));
  for (PetscInt l = 0; l < xm * nc; l++) {
    if (form == AZ_REF_FORM_DAE) f[l] = yp[l] - f[l];
    else if (form == AZ_REF_FORM_STEADY) f[l] = -f[l];
    if (PetscIsInfOrNanScalar(f[l])) nonfinite = 1;
  }
  if (yp) PetscCall(VecRestoreArrayRead(Yp, &yp));
  PetscCall(VecRestoreArray(Fv, &f));
  /* every rank must give SUNDIALS the same answer */
  PetscCall(MPIU_Allreduce(MPI_IN_PLACE, &nonfinite, 1, MPIU_INT, MPI_MAX, ref->comm));
  if (bad) *bad = nonfinite ? PETSC_TRUE : PETSC_FALSE;
  if (nonfinite) {
    ref->nan_count++;
    ref->nan_t = t;
  }
  ref->stats.residual_evals++;
  PetscCall(PetscLogEventEnd(AZ_REF_Residual, 0, 0, 0, 0));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* ∫ u(x, t0) dx over [a, b] per component by 5-point Gauss–Legendre */
static PetscErrorCode Gauss5(AzReference ref, const PetscReal *param, PetscReal t, PetscReal a, PetscReal b, PetscScalar sum[])
{
  static const PetscReal gx[5] = {-0.9061798459386640, -0.5384693101056831, 0, 0.5384693101056831, 0.9061798459386640};
  static const PetscReal gw[5] = {0.2369268850561891, 0.4786286704993665, 0.5688888888888889, 0.4786286704993665, 0.2369268850561891};
  PetscScalar            uq[AZ_MAX_COMP];

  PetscFunctionBegin;
  for (PetscInt k = 0; k < ref->ncomp; k++) sum[k] = 0;
  for (PetscInt q = 0; q < 5; q++) {
    PetscReal x[AZ_MAX_COORD] = {0.5 * (a + b) + 0.5 * (b - a) * gx[q], t};
    AzPoint   p               = {x, ref->ncoord, param, -1};

    PetscCall(ref->info->initial_value(&p, uq));
    for (PetscInt k = 0; k < ref->ncomp; k++) sum[k] += 0.5 * (b - a) * gw[q] * uq[k];
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* adaptive: the whole against its two halves, halving where they differ (a front where the data are
 * not smooth, Barenblatt's (x_f − x)^(1/m)) until they agree to round-off or 30 levels deep */
static PetscErrorCode AdaptiveGauss(AzReference ref, const PetscReal *param, PetscReal t, PetscReal a, PetscReal b, const PetscScalar whole[], PetscReal tol, PetscInt depth, PetscScalar sum[])
{
  PetscScalar l[AZ_MAX_COMP], r[AZ_MAX_COMP];
  PetscReal   d = 0, size = 0;

  PetscFunctionBegin;
  PetscCall(Gauss5(ref, param, t, a, 0.5 * (a + b), l));
  PetscCall(Gauss5(ref, param, t, 0.5 * (a + b), b, r));
  for (PetscInt k = 0; k < ref->ncomp; k++) {
    d    = PetscMax(d, PetscAbsScalar(l[k] + r[k] - whole[k]));
    size = PetscMax(size, PetscAbsScalar(l[k]) + PetscAbsScalar(r[k]));
  }
  /* agreed to the tolerance, or to the rounding of the sums themselves (smooth data), or deep enough */
  if (d <= tol || d <= 64 * PETSC_MACHINE_EPSILON * size || depth >= 30) {
    for (PetscInt k = 0; k < ref->ncomp; k++) sum[k] = l[k] + r[k];
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  PetscCall(AdaptiveGauss(ref, param, t, a, 0.5 * (a + b), l, 0.5 * tol, depth + 1, l));
  PetscCall(AdaptiveGauss(ref, param, t, 0.5 * (a + b), b, r, 0.5 * tol, depth + 1, r));
  for (PetscInt k = 0; k < ref->ncomp; k++) sum[k] = l[k] + r[k];
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Cell averages of u(x, t0) (steady: 0): 5-point Gauss–Legendre on each cell, adaptively refined where
 * the data are not smooth, so the discrete mass is the data's to round-off (Barenblatt's front: 1e-5
 * off with one Gauss rule a cell at 1024 cells) */
PetscErrorCode AzRefFVInitialState(AzReference ref, PetscReal t, Vec Y)
{
  const PetscInt   nc = ref->ncomp;
  const PetscReal *param;
  PetscScalar     *a;
  PetscInt         xs, xm;

  PetscFunctionBegin;
  PetscCall(AzProblemGetParams(ref->prob, &param));
  PetscCall(DMDAGetCorners(ref->da, &xs, NULL, NULL, &xm, NULL, NULL));
  PetscCall(VecGetArray(Y, &a));
  for (PetscInt i = xs; i < xs + xm; i++) {
    PetscScalar    *ui = a + (i - xs) * nc, whole[AZ_MAX_COMP];
    const PetscReal lo = ref->x0[0] + (i - 0.5) * ref->h[0], hi = lo + ref->h[0];
    PetscReal       scale = 0;

    for (PetscInt k = 0; k < nc; k++) ui[k] = 0;
    if (!ref->td) continue;
    PetscCall(Gauss5(ref, param, t, lo, hi, whole));
    for (PetscInt k = 0; k < nc; k++) scale = PetscMax(scale, PetscAbsScalar(whole[k]));
    PetscCall(AdaptiveGauss(ref, param, t, lo, hi, whole, 1e-15 * PetscMax(scale, ref->h[0]), 0, ui));
    for (PetscInt k = 0; k < nc; k++) ui[k] /= ref->h[0];
  }
  PetscCall(VecRestoreArray(Y, &a));
  /* the lattice of the scalar diffusive flux average: 1/4096 of the data's range (or of its size) */
  if (ref->td && !ref->halfres_du) {
    PetscReal umin, umax;

    PetscCall(VecMin(Y, NULL, &umin));
    PetscCall(VecMax(Y, NULL, &umax));
    ref->fv_du = (umax > umin ? umax - umin : PetscMax(PetscAbsReal(umax), 1.0)) / 4096;
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}
