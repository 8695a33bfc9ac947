/* Input embeddings: the features the first layer sees, and their exact jets.
 *
 * Features, in this order (nin of them):
 *   for each coordinate i = 0 .. ncoord-1:
 *     not periodic:        x̂_i = 2(x_i − lo_i)/(hi_i − lo_i) − 1                       (1 feature)
 *     periodic, period L:  cos(2πk x_i/L), sin(2πk x_i/L), k = 1..nharm, interleaved   (2·nharm features)
 *                          from the raw x_i, not x̂_i, so u(x + L e_i) = u(x) holds exactly
 *   then, with F > 0 random Fourier features:
 *     cos(2π B_r·x̂), r = 0..F-1, then sin(2π B_r·x̂), r = 0..F-1                        (2F features)
 *     B (F × ncoord) ~ N(0, scale²), drawn from the seed (Box–Muller); its columns for periodic
 *     coordinates are zero, so the Fourier features never break the exact periodicity.
 * The Fourier features are concatenated with the plain (or periodic) inputs, not substituted for
 * them, so the low-frequency directions stay available to the network.
 *
 * Every feature is f = g(ψ) with ψ = Σ_i c_i u_i linear in the inputs (u = x̂ or x) and g the identity,
 * cos or sin, so its jets are closed forms: with d_i = ∂ψ/∂x_i = c_i · (mapped ? 2/(hi_i − lo_i) : 1),
 *     ∂_i f = g'(ψ) d_i,  ∂_i∂_j f = g''(ψ) d_i d_j,  ∂_i³ f = g'''(ψ) d_i³,  ∂_i⁴ f = g⁗(ψ) d_i⁴.
 */
#include "fieldimpl.h"

/* Fourier frequencies: a stream of the seed distinct from the weights' */
#define AZ_FOURIER_STREAM 0xA5A5F0F01234ABCDULL

PetscErrorCode AzFieldBuildFeatures(AzField f)
{
  PetscInt m = 0, nin = 0;

  PetscFunctionBegin;
  for (PetscInt i = 0; i < f->ncoord; i++) nin += f->period[i] > 0 ? 2 * f->nharm[i] : 1;
  nin += 2 * f->nfourier;
  PetscCall(PetscFree(f->feat));
  PetscCall(PetscFree(f->B));
  PetscCall(PetscCalloc1(nin, &f->feat));
  f->nin = nin;
  for (PetscInt i = 0; i < f->ncoord; i++) {
    if (f->period[i] > 0) {
      for (PetscInt k = 1; k <= f->nharm[i]; k++) {
        const PetscReal w = 2.0 * PETSC_PI * (PetscReal)k / f->period[i];
        f->feat[m].kind   = AZ_FEAT_COS;
        f->feat[m].mapped = PETSC_FALSE;
        f->feat[m].c[i]   = w;
        m++;
        f->feat[m].kind   = AZ_FEAT_SIN;
        f->feat[m].mapped = PETSC_FALSE;
        f->feat[m].c[i]   = w;
        m++;
      }
    } else {
      f->feat[m].kind   = AZ_FEAT_LINEAR;
      f->feat[m].mapped = PETSC_TRUE;
      f->feat[m].c[i]   = 1.0;
      m++;
    }
  }
  if (f->nfourier > 0) {
    unsigned long long st = (unsigned long long)f->seed ^ AZ_FOURIER_STREAM;
    const PetscInt     nb = f->nfourier * f->ncoord;

    PetscCall(PetscCalloc1(nb, &f->B));
    /* Box–Muller: r = √(−2 ln u₁), θ = 2π u₂ give two independent N(0,1): r cos θ, r sin θ */
    for (PetscInt q = 0; q < nb; q += 2) {
      const double u1 = 1.0 - AzRandUniform(&st), u2 = AzRandUniform(&st); /* u1 in (0, 1] */
      const double r = sqrt(-2.0 * log(u1)), th = 2.0 * PETSC_PI * u2;
      f->B[q] = f->fourier_scale * r * cos(th);
      if (q + 1 < nb) f->B[q + 1] = f->fourier_scale * r * sin(th);
    }
    for (PetscInt r = 0; r < f->nfourier; r++)
      for (PetscInt i = 0; i < f->ncoord; i++)
        if (f->period[i] > 0) f->B[r * f->ncoord + i] = 0.0;
    for (PetscInt r = 0; r < f->nfourier; r++) {
      for (PetscInt s = 0; s < 2; s++) {
        AzFeature *ft = &f->feat[m + s * f->nfourier + r];
        ft->kind      = s == 0 ? AZ_FEAT_COS : AZ_FEAT_SIN;
        ft->mapped    = PETSC_TRUE;
        for (PetscInt i = 0; i < f->ncoord; i++) ft->c[i] = 2.0 * PETSC_PI * f->B[r * f->ncoord + i];
      }
    }
    m += 2 * f->nfourier;
  }
  PetscCheck(m == nin, PETSC_COMM_SELF, PETSC_ERR_PLIB, "feature count %" PetscInt_FMT " != %" PetscInt_FMT, m, nin);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* H[(a*np + p)*nin + m] = active slot a of feature m at point p (the slot-block layout of fieldimpl.h) */
PetscErrorCode AzFieldFeatureJets(AzField f, PetscInt np, const PetscReal x[], PetscScalar H[])
{
  const PetscInt      n = f->ncoord, nin = f->nin, nact = f->nact;
  const AzActiveSlot *sl = f->slots;
  PetscReal           scale[AZ_MAX_COORD];

  PetscFunctionBegin;
  for (PetscInt i = 0; i < n; i++) scale[i] = 2.0 / (f->hi[i] - f->lo[i]);
  for (PetscInt p = 0; p < np; p++) {
    const PetscReal *xp = x + p * n;
    PetscReal        xh[AZ_MAX_COORD];

    for (PetscInt i = 0; i < n; i++) xh[i] = 2.0 * (xp[i] - f->lo[i]) / (f->hi[i] - f->lo[i]) - 1.0;
    for (PetscInt m = 0; m < nin; m++) {
      const AzFeature *ft = &f->feat[m];
      const PetscReal *u  = ft->mapped ? xh : xp;
      PetscReal        psi = 0, d[AZ_MAX_COORD], g[AZ_MAX_ORDER + 1] = {0, 0, 0, 0, 0};

      for (PetscInt i = 0; i < n; i++) {
        psi += ft->c[i] * u[i];
        d[i] = ft->mapped ? ft->c[i] * scale[i] : ft->c[i];
      }
      switch (ft->kind) {
      case AZ_FEAT_LINEAR:
        g[0] = psi, g[1] = 1, g[2] = g[3] = g[4] = 0;
        break;
      case AZ_FEAT_COS: {
        const PetscReal c = cos(psi), s = sin(psi);
        g[0] = c, g[1] = -s, g[2] = -c, g[3] = s, g[4] = c;
      } break;
      case AZ_FEAT_SIN: {
        const PetscReal c = cos(psi), s = sin(psi);
        g[0] = s, g[1] = c, g[2] = -s, g[3] = -c, g[4] = s;
      } break;
      }
      for (PetscInt a = 0; a < nact; a++) {
        PetscScalar v = 0;
        switch (sl[a].kind) {
        case AZ_SLOT_VALUE:
          v = g[0];
          break;
        case AZ_SLOT_D1:
          v = g[1] * d[sl[a].i];
          break;
        case AZ_SLOT_D2:
          v = g[2] * d[sl[a].i] * d[sl[a].j];
          break;
        case AZ_SLOT_D3:
          v = g[3] * d[sl[a].i] * d[sl[a].i] * d[sl[a].i];
          break;
        case AZ_SLOT_D4: {
          const PetscReal q = d[sl[a].i] * d[sl[a].i];
          v                 = g[4] * q * q;
        } break;
        }
        H[(a * np + p) * nin + m] = v;
      }
    }
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}
