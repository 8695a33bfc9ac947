/* The parameters: initialisation, and random weight factorisation (RWF).
 *
 * Initialisation, in θ order of the dense layers (f->layer): W_l ~ U(−r, r), r = √(6/(nin_l + nout_l))
 * (Glorot uniform) drawn from splitmix64 seeded with the seed; b_l = 0; PirateNet's α = 0.
 *
 * RWF (Wang, Wang, Perdikaris et al. 2022, "Random weight factorization improves the training of
 * continuous neural representations"; jaxpi's Dense with reparam "weight_fact"): every dense kernel is
 *     W = diag(exp(s))·V,   s (nout) ~ N(mean, std²) at initialisation, V = W_Glorot/exp(s),
 * one scale per output neuron, the bias untouched. θ stores V where W would be and s after b, so at
 * initialisation the network is the same function as without RWF (same seed); s is drawn from its own
 * stream of the seed. The passes of mlp.c and pirate.c never see s: they read the effective
 * parameters teff (W in place of V; the s slots hold exp(s), which only this file reads), and their
 * results map back onto θ by the chain rule, with e = exp(s_o):
 *     ∂/∂V[o,i] = e·∂/∂W[o,i],   ∂/∂s_o = Σ_i W[o,i]·∂/∂W[o,i],   Ẇ[o,i] = e·V̇[o,i] + ṡ_o·W[o,i].
 */
#include "fieldimpl.h"

/* the stream of the RWF scales, distinct from the weights' and the Fourier frequencies' */
#define AZ_RWF_STREAM 0x5EEDFAC7022ABCDEULL

PetscErrorCode AzFieldInitParameters(AzField f)
{
  unsigned long long st = (unsigned long long)f->seed, sr = (unsigned long long)f->seed ^ AZ_RWF_STREAM;
  PetscScalar       *th;

  PetscFunctionBegin;
  PetscCall(VecGetArrayWrite(f->theta, &th));
  PetscCall(PetscArrayzero(th, f->nparam)); /* biases, α */
  for (PetscInt l = 0; l < f->nlayer; l++) {
    const AzLayer  *L = &f->layer[l];
    const PetscReal r = PetscSqrtReal(6.0 / (PetscReal)(L->nin + L->nout));

    for (PetscInt q = 0; q < L->nout * L->nin; q++) th[L->offW + q] = r * (2.0 * AzRandUniform(&st) - 1.0);
    if (L->offs < 0) continue;
    for (PetscInt o = 0; o < L->nout; o++) {
      /* Box–Muller, one normal per draw pair */
      const double u1 = 1.0 - AzRandUniform(&sr), u2 = AzRandUniform(&sr);
      const double s = f->rwf_mean + f->rwf_std * sqrt(-2.0 * log(u1)) * cos(2.0 * PETSC_PI * u2), e = exp(s);
      th[L->offs + o] = s;
      for (PetscInt i = 0; i < L->nin; i++) th[L->offW + o * L->nin + i] /= e;
    }
  }
  PetscCall(VecRestoreArrayWrite(f->theta, &th));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzFieldEffectiveParameters(AzField f, const PetscScalar theta[], const PetscScalar **teff)
{
  PetscFunctionBegin;
  if (!f->rwf) {
    *teff = theta;
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  PetscCall(PetscArraycpy(f->teff, theta, f->nparam));
  for (PetscInt l = 0; l < f->nlayer; l++) {
    const AzLayer *L = &f->layer[l];
    for (PetscInt o = 0; o < L->nout; o++) {
      const PetscScalar e = PetscExpReal(theta[L->offs + o]);
      f->teff[L->offs + o] = e;
      for (PetscInt i = 0; i < L->nin; i++) f->teff[L->offW + o * L->nin + i] *= e;
    }
  }
  *teff = f->teff;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzFieldEffectiveTangent(AzField f, const PetscScalar theta[], const PetscScalar teff[], const PetscScalar v[], const PetscScalar **veff)
{
  PetscFunctionBegin;
  (void)theta;
  if (!f->rwf) {
    *veff = v;
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  PetscCall(PetscArraycpy(f->veff, v, f->nparam));
  for (PetscInt l = 0; l < f->nlayer; l++) {
    const AzLayer *L = &f->layer[l];
    for (PetscInt o = 0; o < L->nout; o++) {
      const PetscScalar e = teff[L->offs + o], sd = v[L->offs + o];
      for (PetscInt i = 0; i < L->nin; i++) {
        const PetscInt q = L->offW + o * L->nin + i;
        f->veff[q]       = e * v[q] + sd * teff[q];
      }
    }
  }
  *veff = f->veff;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* grad += the gradient geff in the effective parameters mapped onto θ (geff's s slots are unused) */
void AzFieldPullBackGradient(AzField f, const PetscScalar theta[], const PetscScalar teff[], const PetscScalar geff[], PetscScalar grad[])
{
  (void)theta;
  for (PetscInt l = 0; l < f->nlayer; l++) {
    const AzLayer *L = &f->layer[l];
    for (PetscInt o = 0; o < L->nout; o++) {
      const PetscScalar e = teff[L->offs + o];
      PetscScalar       gs = 0;
      for (PetscInt i = 0; i < L->nin; i++) {
        const PetscInt q = L->offW + o * L->nin + i;
        gs += geff[q] * teff[q];
        grad[q] += e * geff[q];
      }
      grad[L->offs + o] += gs;
      grad[L->offb + o] += geff[L->offb + o];
    }
  }
  if (f->net == AZ_NET_PIRATE)
    for (PetscInt b = 0; b < f->depth; b++) grad[f->offalpha[b]] += geff[f->offalpha[b]];
}

/* nrow Jacobian rows (ldj long) in the effective parameters, mapped onto θ in place */
void AzFieldPullBackRows(AzField f, const PetscScalar teff[], PetscInt nrow, PetscScalar Jac[])
{
  for (PetscInt r = 0; r < nrow; r++) {
    PetscScalar *row = Jac + (size_t)r * f->ldj;
    for (PetscInt l = 0; l < f->nlayer; l++) {
      const AzLayer *L = &f->layer[l];
      for (PetscInt o = 0; o < L->nout; o++) {
        const PetscScalar e  = teff[L->offs + o];
        PetscScalar      *rw = row + L->offW + o * L->nin, gs = 0;
        const PetscScalar *w = teff + L->offW + o * L->nin;
        for (PetscInt i = 0; i < L->nin; i++) {
          gs += rw[i] * w[i];
          rw[i] *= e;
        }
        row[L->offs + o] = gs;
      }
    }
  }
}
