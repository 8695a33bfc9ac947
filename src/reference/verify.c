/* Self-verification of a reference: its own conservation drift, and an error estimate from a second
 * solve at half the resolution (see AzReferenceVerification in reference.h for the definitions).
 * fv: weights are the cells' volumes (Σ h ū_i, the mass the method keeps), the coarse solve has n/2
 * cells and is compared with the mean of the fine solution over the two fine cells each one holds,
 * p = 2.
 *
 *   drift:     Q(t_k) = Σ_i w_i q(x_i, t_k, jet_i), w the trapezoid weights of the grid (rectangle
 *              on a periodic axis), jet_i the solve's own finite-difference jets of the snapshot;
 *              Q* = the declared value, the law's target Q*(t_k) where it varies in time (a .target,
 *              a conservation-form mass law), or the same sum over the problem's initial data.
 *   estimate:  ‖u_h/2 − u_h‖ / ‖u_h‖ over the coarse nodes and every snapshot, scaled by 1/(2^p − 1)
 *              for differences of order p (tolerances × 2^p); the spectral method: unscaled, same tolerances. */
#include "refimpl.h"
#include <ansatz/file.h>

/* trapezoid weight of node idx (product over the axes); a cell's volume for fv (the midpoint rule,
 * exact for the mass: Σ h ū_i is the discrete mass the method conserves) */
static PetscReal NodeWeight(AzReference ref, const PetscInt idx[])
{
  PetscReal w = 1;
  for (PetscInt a = 0; a < ref->dim; a++) w *= ref->h[a] * ((ref->method != AZ_REFERENCE_FV && !ref->periodic[a] && (idx[a] == 0 || idx[a] == ref->n[a] - 1)) ? 0.5 : 1.0);
  return w;
}

/* Σ_i w_i q_i and Σ_i w_i |q_i| of law `law` over the owned nodes of the global vector Y at time t */
static PetscErrorCode LawSum(AzReference ref, PetscInt law, PetscReal t, Vec Y, PetscReal *Q, PetscReal *Qabs)
{
  const AzConservationInfo *cl = &ref->info->conservation[law];
  const PetscInt            nc = ref->ncomp, Ljet = nc * ref->nslot;
  const PetscReal          *param;
  const PetscScalar        *y;
  PetscInt                  xs[3], xm[3], gs[3], gm[3], idx[3];
  PetscScalar               jet[AZ_MAX_COMP * AZ_JET_MAX_NSLOT];
  PetscReal                 s[2] = {0, 0};

  PetscFunctionBegin;
  PetscCall(AzProblemGetParams(ref->prob, &param));
  PetscCall(DMGlobalToLocal(ref->da, Y, INSERT_VALUES, ref->yloc));
  PetscCall(DMDAGetCorners(ref->da, &xs[0], &xs[1], &xs[2], &xm[0], &xm[1], &xm[2]));
  PetscCall(DMDAGetGhostCorners(ref->da, &gs[0], &gs[1], &gs[2], &gm[0], &gm[1], &gm[2]));
  PetscCall(VecGetArrayRead(ref->yloc, &y));
  for (idx[2] = xs[2]; idx[2] < xs[2] + xm[2]; idx[2]++)
    for (idx[1] = xs[1]; idx[1] < xs[1] + xm[1]; idx[1]++)
      for (idx[0] = xs[0]; idx[0] < xs[0] + xm[0]; idx[0]++) {
        const PetscInt base = ((idx[2] - gs[2]) * gm[1] + (idx[1] - gs[1])) * gm[0] + (idx[0] - gs[0]);
        AzRefEntry     e[AZ_REF_MAX_ENTRIES];
        PetscInt       ne;
        PetscReal      x[AZ_MAX_COORD];
        AzPoint        p = {x, ref->ncoord, param, -1};
        AzJet          J = {ref->ncoord, nc, ref->nslot, jet};
        PetscScalar    q;
        PetscReal      w;

        /* the solve's jets: spatial slots by their stencils, u_t (not stored) reads 0, undeclared NaN */
        for (PetscInt k = 0; k < Ljet; k++) jet[k] = (PetscScalar)NAN;
        for (PetscInt c = 0; c < nc; c++) jet[c * ref->nslot] = y[base * nc + c];
        for (PetscInt sl = 0; sl < ref->nslots; sl++) {
          AzRefSlotEntries(ref, idx, &ref->slots[sl], e, &ne);
          for (PetscInt c = 0; c < nc; c++) jet[c * ref->nslot + ref->slots[sl].slot] = 0;
          for (PetscInt k = 0; k < ne; k++) {
            const PetscInt l = base + e[k].off[0] + gm[0] * (e[k].off[1] + gm[1] * e[k].off[2]);
            if (e[k].field) continue;
            for (PetscInt c = 0; c < nc; c++) jet[c * ref->nslot + ref->slots[sl].slot] += e[k].w * y[l * nc + c];
          }
        }
        for (PetscInt a = 0; a < ref->dim; a++) x[a] = ref->x0[a] + idx[a] * ref->h[a];
        x[ref->dim] = t;
        PetscCall(cl->density(&p, &J, &q, NULL));
        w = NodeWeight(ref, idx);
        s[0] += w * PetscRealPart(q);
        s[1] += w * PetscAbsScalar(q);
      }
  PetscCall(VecRestoreArrayRead(ref->yloc, &y));
  PetscCall(MPIU_Allreduce(MPI_IN_PLACE, s, 2, MPIU_REAL, MPIU_SUM, ref->comm));
  *Q = s[0];
  if (Qabs) *Qabs = s[1];
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode Drift(AzReference ref)
{
  AzReferenceVerification *v = &ref->ver;
  Vec                      Y0;

  PetscFunctionBegin;
  v->nlaws = 0;
  if (!ref->td) PetscFunctionReturn(PETSC_SUCCESS);
  while (v->nlaws < AZ_MAX_LAWS && ref->info->conservation[v->nlaws].name) v->nlaws++;
  if (!v->nlaws) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(DMCreateGlobalVector(ref->da, &Y0));
  PetscCall(AzRefInitialState(ref, ref->info->t0, Y0));
  for (PetscInt l = 0; l < v->nlaws; l++) {
    const AzConservationInfo *cl    = &ref->info->conservation[l];
    PetscReal                 scale = 0, d = 0;

    PetscBool                 varies;
    PetscReal                 Qt;

    if (cl->has_value) v->qstar[l] = cl->value;
    else PetscCall(LawSum(ref, l, ref->info->t0, Y0, &v->qstar[l], NULL));
    /* a time-varying target (the plugin's .target, a conservation-form mass law fed through the boundary) */
    PetscCall(AzProblemGetLawTarget(ref->prob, l, ref->info->t0, 1, &varies, &Qt));
    for (PetscInt k = 0; k < ref->nt; k++) {
      PetscReal Q, Qa, Qs = v->qstar[l];
      PetscCall(LawSum(ref, l, ref->tout[k], ref->snap[k], &Q, &Qa));
      if (varies) PetscCall(AzProblemGetLawTarget(ref->prob, l, ref->tout[k], 1, &varies, &Qs));
      d     = PetscMax(d, PetscIsInfOrNanReal(Q) || PetscIsInfOrNanReal(Qs) ? PETSC_INFINITY : PetscAbsReal(Q - Qs));
      scale = PetscMax(scale, Qa);
    }
    v->drift[l]     = PetscIsInfOrNanReal(v->qstar[l]) ? (PetscReal)NAN : d;
    v->drift_rel[l] = scale > 0 ? v->drift[l] / scale : v->drift[l];
  }
  PetscCall(VecDestroy(&Y0));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The half-resolution solve and the relative L2 difference at its nodes (errors come back in ierr). */
static PetscErrorCode HalfResolution(AzReference ref, AzReference c, PetscReal *diff)
{
  PetscReal      s[2] = {0, 0};
  PetscInt       xs[3], xm[3], idx[3], nloc;
  PetscReal     *x;
  PetscScalar   *uf;
  /* fv compares cell averages: a coarse cell's with the mean of the fine solution at the centres of
   * the 2^dim fine cells it holds (exactly the fine cells' averages when n is even) */
  const PetscInt nsub = ref->method == AZ_REFERENCE_FV ? (1 << ref->dim) : 1;
  PetscLogDouble t0, t1;

  PetscFunctionBegin;
  PetscCall(PetscTime(&t0));
  PetscCall(AzReferenceSolve(c));
  PetscCall(PetscTime(&t1));
  ref->ver.seconds = (PetscReal)(t1 - t0);
  PetscCall(DMDAGetCorners(c->da, &xs[0], &xs[1], &xs[2], &xm[0], &xm[1], &xm[2]));
  nloc = xm[0] * xm[1] * xm[2];
  PetscCall(PetscMalloc2((size_t)PetscMax(nloc, 1) * nsub * ref->ncoord, &x, (size_t)PetscMax(nloc, 1) * nsub * ref->ncomp, &uf));
  for (PetscInt k = 0; k < ref->nt; k++) {
    const PetscScalar *uc;
    PetscInt           i = 0;

    for (idx[2] = xs[2]; idx[2] < xs[2] + xm[2]; idx[2]++)
      for (idx[1] = xs[1]; idx[1] < xs[1] + xm[1]; idx[1]++)
        for (idx[0] = xs[0]; idx[0] < xs[0] + xm[0]; idx[0]++)
          for (PetscInt q = 0; q < nsub; q++, i++) {
            for (PetscInt a = 0; a < ref->dim; a++) x[i * ref->ncoord + a] = c->x0[a] + idx[a] * c->h[a] + (nsub > 1 ? (((q >> a) & 1) ? 0.25 : -0.25) * c->h[a] : 0);
            if (ref->td) x[i * ref->ncoord + ref->dim] = ref->tout[k];
          }
    /* the fine solution at the coarse nodes: cubic Lagrange, exact where the nodes coincide (collective) */
    PetscCall(AzReferenceInterpolate(ref, nloc * nsub, x, uf));
    for (PetscInt j = 0; j < nloc && nsub > 1; j++)
      for (PetscInt cc = 0; cc < ref->ncomp; cc++) {
        PetscScalar m = 0;
        for (PetscInt q = 0; q < nsub; q++) m += uf[(j * nsub + q) * ref->ncomp + cc];
        uf[j * ref->ncomp + cc] = m / nsub;
      }
    PetscCall(VecGetArrayRead(c->snap[k], &uc));
    for (PetscInt j = 0; j < nloc * ref->ncomp; j++) {
      s[0] += PetscRealPart((uc[j] - uf[j]) * PetscConj(uc[j] - uf[j]));
      s[1] += PetscRealPart(uf[j] * PetscConj(uf[j]));
    }
    PetscCall(VecRestoreArrayRead(c->snap[k], &uc));
  }
  PetscCall(PetscFree2(x, uf));
  PetscCall(MPIU_Allreduce(MPI_IN_PLACE, s, 2, MPIU_REAL, MPIU_SUM, ref->comm));
  *diff = s[1] > 0 ? PetscSqrtReal(s[0] / s[1]) : PetscSqrtReal(s[0]);
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode Estimate(AzReference ref)
{
  AzReferenceVerification *v = &ref->ver;
  AzReference              c;
  PetscInt                 nc[AZ_MAX_DIM];
  PetscErrorCode           ierr;
  PetscReal                diff = (PetscReal)NAN;

  PetscFunctionBegin;
  /* half the resolution: h doubles (n/2 nodes on a periodic axis, (n+1)/2 otherwise) */
  for (PetscInt a = 0; a < ref->dim; a++) nc[a] = v->coarse_n[a] = (ref->periodic[a] || ref->method == AZ_REFERENCE_FV) ? ref->n[a] / 2 : (ref->n[a] + 1) / 2;
  for (PetscInt a = 0; a < ref->dim; a++)
    if (nc[a] < ref->order + 1) {
      snprintf(v->note, sizeof v->note, "the grid is too coarse to halve (%d nodes along axis %d)", (int)ref->n[a], (int)a);
      PetscFunctionReturn(PETSC_SUCCESS);
    }
  PetscCall(AzReferenceCreate(ref->comm, ref->prob, &c));
  /* the settings of this reference, on the coarse grid; never cached, never verified itself.
   * (A new setting of AzReference that changes the solution must be copied here too.) */
  for (PetscInt a = 0; a < ref->dim; a++) c->n[a] = nc[a];
  c->order           = ref->order;
  c->fv_du           = ref->fv_du; /* fv: the same lattice of the diffusive flux average */
  c->halfres_du      = ref->fv_du > 0 ? PETSC_TRUE : PETSC_FALSE;
  c->method_opt      = ref->method; /* the method this reference resolved to, with its settings */
  c->method          = ref->method;
  c->nset            = PETSC_TRUE;
  c->tolset          = PETSC_TRUE;
  /* time is coarsened with space: tolerances × 2^p, so that the integrator's error (about
   * proportional to its tolerance) grows by the factor of the spatial error and Richardson's scaling
   * covers both; with the same tolerances the estimate misses the time error */
  c->rtol            = ref->method == AZ_REFERENCE_SPECTRAL ? ref->rtol : ref->rtol * PetscPowRealInt(2, ref->order);
  c->atol            = ref->method == AZ_REFERENCE_SPECTRAL ? ref->atol : ref->atol * PetscPowRealInt(2, ref->order);
  c->nt_out          = ref->nt_out;
  c->max_steps       = ref->max_steps;
  c->maxl            = ref->maxl;
  c->integrator      = ref->integrator;
  c->arkode_explicit = ref->arkode_explicit;
  c->cvode_adams     = ref->cvode_adams;
  c->solver          = ref->solver;
  c->jactype         = ref->jactype;
  c->format          = ref->format;
  c->interp_max_mb   = ref->interp_max_mb;
  c->cache           = PETSC_FALSE;
  c->verify          = PETSC_FALSE;
  c->halfres         = PETSC_TRUE;
  PetscCall(PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
  ierr = HalfResolution(ref, c, &diff);
  PetscCall(PetscPopErrorHandler());
  if (ierr) {
    const char *text;
    char       *specific = NULL;
    PetscCall(PetscErrorMessage(ierr, &text, &specific));
    snprintf(v->note, sizeof v->note, "the half-resolution solve failed: %.200s", specific && specific[0] ? specific : (text ? text : "unknown error"));
  } else {
    v->estimated          = PETSC_TRUE;
    v->halfres_difference = diff;
    /* fd: Richardson for differences of order p. spectral: no order to scale by (convergence is
     * exponential where the solution is smooth, algebraic where it is not), so the difference itself,
     * an upper bound of the fine solution's error whenever the coarse one's is the larger */
    v->estimated_error = ref->method == AZ_REFERENCE_SPECTRAL ? diff : diff / (PetscPowRealInt(2, ref->order) - 1);
  }
  PetscCall(AzReferenceDestroy(&c));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* distance of the snapshots outside the declared bounds (positivity: [0, ∞)) */
static PetscErrorCode Bounds(AzReference ref)
{
  AzReferenceVerification *v = &ref->ver;
  PetscReal                lo[AZ_MAX_COMP], hi[AZ_MAX_COMP], s[2] = {0, 0};

  PetscFunctionBegin;
  v->bounds = PETSC_FALSE;
  for (PetscInt c = 0; c < ref->ncomp; c++) {
    lo[c] = -PETSC_INFINITY, hi[c] = PETSC_INFINITY;
    if (ref->info->bounded[c]) lo[c] = ref->info->bound_lower[c], hi[c] = ref->info->bound_upper[c], v->bounds = PETSC_TRUE;
    if (ref->info->positive[c]) lo[c] = PetscMax(lo[c], 0), v->bounds = PETSC_TRUE;
  }
  v->bound_violation = v->bound_violation_rel = 0;
  if (!v->bounds) PetscFunctionReturn(PETSC_SUCCESS);
  for (PetscInt k = 0; k < ref->nt; k++) {
    const PetscScalar *y;
    PetscInt           n;

    PetscCall(VecGetLocalSize(ref->snap[k], &n));
    PetscCall(VecGetArrayRead(ref->snap[k], &y));
    for (PetscInt i = 0; i < n; i++) {
      PetscReal u = PetscRealPart(y[i]);
      PetscInt  c = i % ref->ncomp;

      s[0] = PetscMax(s[0], PetscIsInfOrNanReal(u) ? PETSC_INFINITY : PetscMax(lo[c] - u, u - hi[c]));
      s[1] = PetscMax(s[1], PetscAbsReal(u));
    }
    PetscCall(VecRestoreArrayRead(ref->snap[k], &y));
  }
  PetscCall(MPIU_Allreduce(MPI_IN_PLACE, s, 2, MPIU_REAL, MPIU_MAX, ref->comm));
  v->bound_violation     = s[0];
  v->bound_violation_rel = s[1] > 0 ? s[0] / s[1] : s[0];
  PetscFunctionReturn(PETSC_SUCCESS);
}

static void Judge(AzReference ref)
{
  AzReferenceVerification *v = &ref->ver;

  v->tol      = ref->verify_tol;
  v->verified = v->estimated && v->estimated_error <= v->tol ? PETSC_TRUE : PETSC_FALSE;
  for (PetscInt l = 0; l < v->nlaws; l++)
    if (!(v->drift_rel[l] <= v->tol)) v->verified = PETSC_FALSE; /* NaN too */
  if (v->bounds && !(v->bound_violation_rel <= v->tol)) v->verified = PETSC_FALSE;
}

PetscErrorCode AzRefVerify(AzReference ref, PetscBool estimate)
{
  AzReferenceVerification *v = &ref->ver;

  PetscFunctionBegin;
  if (estimate) {
    PetscCall(PetscMemzero(v, sizeof *v));
    v->estimated_error = v->halfres_difference = (PetscReal)NAN;
    if (ref->verify) PetscCall(Estimate(ref));
    else {
      v->skipped = PETSC_TRUE;
      snprintf(v->note, sizeof v->note, "not estimated (-az_ref_verify 0)");
    }
  }
  PetscCall(Drift(ref));
  PetscCall(Bounds(ref));
  Judge(ref);
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzRefVerifyWarn(AzReference ref)
{
  char line[1024];

  PetscFunctionBegin;
  if (ref->ver.verified) PetscFunctionReturn(PETSC_SUCCESS);
  if (ref->ver.skipped) {
    PetscBool bad = PETSC_FALSE;
    for (PetscInt l = 0; l < ref->ver.nlaws; l++)
      if (!(ref->ver.drift_rel[l] <= ref->ver.tol)) bad = PETSC_TRUE;
    if (ref->ver.bounds && !(ref->ver.bound_violation_rel <= ref->ver.tol)) bad = PETSC_TRUE;
    if (!bad) PetscFunctionReturn(PETSC_SUCCESS); /* nothing measured is over the threshold */
  }
  PetscCall(AzReferenceGetVerificationLine(ref, line, sizeof line));
  PetscCall(PetscFPrintf(ref->comm, PETSC_STDERR, "\n*** WARNING: %s.\n*** Errors measured against this reference are uncertain by that much. Try a finer grid (-az_ref_n), tighter tolerances (-az_ref_rtol, -az_ref_atol) or %s; -az_ref_verify_tol sets the threshold.\n\n", line, ref->method == AZ_REFERENCE_FV ? "for a smooth solution the fourth-order differences (-az_ref_method fd; fv is second order)" : "another order (-az_ref_order)"));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzReferenceGetVerification(AzReference ref, AzReferenceVerification *v)
{
  PetscFunctionBegin;
  PetscCheck(ref->solved, ref->comm, PETSC_ERR_ORDER, "AzReferenceGetVerification needs a solved reference: call AzReferenceSolve or AzReferenceSolveCached first");
  *v = ref->ver;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzReferenceGetVerificationLine(AzReference ref, char line[], size_t len)
{
  const AzReferenceVerification *v   = &ref->ver;
  size_t                         off = 0;

#define AZ_PUT(...) \
  do { \
    int w_ = snprintf(line + off, len > off ? len - off : 0, __VA_ARGS__); \
    if (w_ > 0) off += (size_t)w_; \
  } while (0)
  PetscFunctionBegin;
  PetscCheck(ref->solved, ref->comm, PETSC_ERR_ORDER, "AzReferenceGetVerificationLine needs a solved reference");
  /* numbers by the C library: PETSc's %g prints 1 as "1." */
  if (v->verified) {
    AZ_PUT("reference: verified (estimated error %.1e", (double)v->estimated_error);
    for (PetscInt l = 0; l < v->nlaws; l++) AZ_PUT(", drift of law %s %.1e", ref->info->conservation[l].name, (double)v->drift[l]);
    if (v->bounds) AZ_PUT(", outside the bounds by %.1e", (double)v->bound_violation);
    AZ_PUT("; threshold %.0e)", (double)v->tol);
  } else {
    AZ_PUT("reference: unverified — ");
    if (v->estimated) AZ_PUT("estimated error %.1e (threshold %.0e)", (double)v->estimated_error, (double)v->tol);
    else AZ_PUT("error not estimated, %s (threshold %.0e)", v->note, (double)v->tol);
    if (v->skipped) {
      off = 0;
      AZ_PUT("reference: not verified — error %s", v->note);
    }
    for (PetscInt l = 0; l < v->nlaws; l++) {
      if (PetscIsNanReal(v->drift[l])) AZ_PUT(", drift of law %s not measured (no Q*)", ref->info->conservation[l].name);
      else AZ_PUT(", drift of law %s %.2g (relative %.1e)", ref->info->conservation[l].name, (double)v->drift[l], (double)v->drift_rel[l]);
    }
    if (v->bounds) AZ_PUT(", outside the declared bounds (positivity) by %.2g (relative %.1e)", (double)v->bound_violation, (double)v->bound_violation_rel);
  }
#undef AZ_PUT
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* a JSON number, null for NaN and Inf */
static void JsonNum(char s[], size_t len, PetscReal x)
{
  if (PetscIsInfOrNanReal(x)) snprintf(s, len, "null");
  else snprintf(s, len, "%.6e", (double)x);
}

PetscErrorCode AzReferenceVerificationJSON(AzReference ref, char buf[], size_t len, const char indent[])
{
  const AzReferenceVerification *v   = &ref->ver;
  size_t                         off = 0;
  char                           a[32], b[32], note[300];

#define AZ_PUT(...) \
  do { \
    int w_ = snprintf(buf + off, len > off ? len - off : 0, __VA_ARGS__); \
    if (w_ > 0) off += (size_t)w_; \
  } while (0)
  PetscFunctionBegin;
  PetscCheck(ref->solved, ref->comm, PETSC_ERR_ORDER, "AzReferenceVerificationJSON needs a solved reference");
  {
    size_t o = 0;
    for (const char *s = v->note; *s && o + 2 < sizeof note; s++) {
      if (*s == '"' || *s == '\\') note[o++] = '\\';
      note[o++] = (*s == '\n' || *s == '\t') ? ' ' : *s;
    }
    note[o] = 0;
  }
  JsonNum(a, sizeof a, v->estimated_error);
  JsonNum(b, sizeof b, v->halfres_difference);
  AZ_PUT("%s\"verified\": %s,\n%s\"verify_skipped\": %s,\n%s\"verify_tol\": %.6e,\n%s\"estimated_error\": %s,\n%s\"halfres_difference\": %s,\n", indent, v->verified ? "true" : "false", indent, v->skipped ? "true" : "false", indent, (double)v->tol, indent, a, indent, b);
  AZ_PUT("%s\"halfres_grid\": [", indent);
  for (PetscInt d = 0; d < ref->dim; d++) AZ_PUT("%s%d", d ? ", " : "", (int)v->coarse_n[d]);
  AZ_PUT("],\n%s\"halfres_seconds\": %.6g,\n%s\"verify_note\": \"%s\",\n%s\"drift\": {", indent, (double)v->seconds, indent, note, indent);
  for (PetscInt l = 0; l < v->nlaws; l++) {
    JsonNum(a, sizeof a, v->drift[l]);
    JsonNum(b, sizeof b, v->drift_rel[l]);
    AZ_PUT("%s\"%s\": {\"drift\": %s, \"relative\": %s}", l ? ", " : "", ref->info->conservation[l].name, a, b);
  }
  AZ_PUT("}");
  JsonNum(a, sizeof a, v->bound_violation);
  JsonNum(b, sizeof b, v->bound_violation_rel);
  if (v->bounds) AZ_PUT(",\n%s\"bound_violation\": {\"max\": %s, \"relative\": %s}", indent, a, b);
#undef AZ_PUT
  PetscCheck(off < len, ref->comm, PETSC_ERR_PLIB, "The verification's JSON is longer than %zu characters", len);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* DIR/reference.verification: the estimate, kept beside the cached snapshots (the drift is
 * recomputed from them on load). One "key value" a line. */
PetscErrorCode AzRefVerifyWrite(AzReference ref, const char dir[])
{
  const AzReferenceVerification *v = &ref->ver;
  char                           path[PETSC_MAX_PATH_LEN];
  AzFile                         fp;

  PetscFunctionBegin;
  snprintf(path, sizeof path, "%s/reference.verification", dir);
  PetscCall(AzFileOpen(ref->comm, path, &fp));
  PetscCall(AzFilePrintf(fp, "estimated %d\nestimated_error %.17g\nhalfres_difference %.17g\nhalfres_seconds %.17g\nhalfres_grid %d %d %d\nnote %s\n", v->estimated ? 1 : 0, (double)v->estimated_error, (double)v->halfres_difference, (double)v->seconds, (int)v->coarse_n[0], (int)v->coarse_n[1], (int)v->coarse_n[2], v->note));
  PetscCall(AzFileClose(&fp));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzRefVerifyRead(AzReference ref, const char dir[], PetscBool *found)
{
  AzReferenceVerification *v = &ref->ver;
  char                     path[PETSC_MAX_PATH_LEN], buf[1024] = "";
  PetscMPIInt              rank;
  int                      n = 0, est = 0, g[3] = {0, 0, 0};
  double                   e, d, s;

  PetscFunctionBegin;
  *found = PETSC_FALSE;
  PetscCall(PetscMemzero(v, sizeof *v));
  v->estimated_error = v->halfres_difference = (PetscReal)NAN;
  snprintf(path, sizeof path, "%s/reference.verification", dir);
  PetscCallMPI(MPI_Comm_rank(ref->comm, &rank));
  if (rank == 0) {
    FILE *fp = fopen(path, "r");
    if (fp) {
      n = (int)fread(buf, 1, sizeof buf - 1, fp);
      fclose(fp);
    }
  }
  PetscCallMPI(MPI_Bcast(&n, 1, MPI_INT, 0, ref->comm));
  PetscCallMPI(MPI_Bcast(buf, n, MPI_CHAR, 0, ref->comm));
  buf[n] = 0;
  if (sscanf(buf, "estimated %d\nestimated_error %lg\nhalfres_difference %lg\nhalfres_seconds %lg\nhalfres_grid %d %d %d\n", &est, &e, &d, &s, &g[0], &g[1], &g[2]) != 7) PetscFunctionReturn(PETSC_SUCCESS);
  {
    const char *note = strstr(buf, "\nnote ");
    if (note) {
      size_t k = 0;
      for (note += 6; *note && *note != '\n' && k + 1 < sizeof v->note; note++) v->note[k++] = *note;
      v->note[k] = 0;
    }
  }
  v->estimated          = est ? PETSC_TRUE : PETSC_FALSE;
  v->skipped            = !est && strstr(v->note, "-az_ref_verify 0") ? PETSC_TRUE : PETSC_FALSE;
  v->estimated_error    = (PetscReal)e;
  v->halfres_difference = (PetscReal)d;
  v->seconds            = (PetscReal)s;
  for (PetscInt a = 0; a < 3; a++) v->coarse_n[a] = g[a];
  *found = PETSC_TRUE;
  PetscFunctionReturn(PETSC_SUCCESS);
}
