/* Jets: the value of a field and its partial derivatives at one point.
 *
 * A jet is the only thing a problem's residual sees of the solution, so the same residual can be
 * evaluated with exact network jets (training) or finite-difference jets (the reference solver).
 *
 * Coordinates are numbered 0 .. ncoord-1: the spatial coordinates x, y, z first, then t last for
 * a time-dependent problem. For one solution component the jet holds AZ_JET_NSLOT(ncoord) slots:
 *
 *   slot 0                                   u
 *   slots 1 .. n                             ∂u/∂x_i                      (AzJetSlotD1)
 *   next n(n+1)/2 slots                      ∂²u/∂x_i∂x_j, i <= j, row by row (AzJetSlotD2)
 *   next n slots                             ∂³u/∂x_i³ (pure)             (AzJetSlotD3)
 *   next n slots                             ∂⁴u/∂x_i⁴ (pure)             (AzJetSlotD4)
 *
 * A point's jet holds ncomp such blocks one after another: v[c*nslot + slot]. Only the derivatives a
 * problem declares are computed; every other slot holds NaN, so a residual that reads an undeclared
 * derivative produces NaN instead of a silently wrong number.
 */
#ifndef ANSATZ_JET_H
#define ANSATZ_JET_H

#include <ansatz/compat.h>

#define AZ_MAX_COORD 4 /* x, y, z and t */
#define AZ_MAX_ORDER 4 /* highest derivative order the framework propagates */

/* number of slots of one component's jet in ncoord coordinates */
#define AZ_JET_NSLOT(n) (1 + (n) + ((n) * ((n) + 1)) / 2 + 2 * (n))
#define AZ_JET_MAX_NSLOT AZ_JET_NSLOT(AZ_MAX_COORD)

static inline PetscInt AzJetSlotD1(PetscInt n, PetscInt i)
{
  (void)n;
  return 1 + i;
}

static inline PetscInt AzJetSlotD2(PetscInt n, PetscInt i, PetscInt j)
{
  if (i > j) {
    PetscInt k = i;
    i          = j;
    j          = k;
  }
  return 1 + n + (i * n - (i * (i - 1)) / 2) + (j - i);
}

static inline PetscInt AzJetSlotD3(PetscInt n, PetscInt i)
{
  return 1 + n + (n * (n + 1)) / 2 + i;
}

static inline PetscInt AzJetSlotD4(PetscInt n, PetscInt i)
{
  return 1 + n + (n * (n + 1)) / 2 + n + i;
}

/* The jet of all components at one point, as a residual callback receives it. */
typedef struct {
  PetscInt           ncoord; /* coordinates: spatial dimension, plus one if time-dependent */
  PetscInt           ncomp;  /* solution components */
  PetscInt           nslot;  /* AZ_JET_NSLOT(ncoord): slots per component */
  const PetscScalar *v;      /* v[c*nslot + slot] */
} AzJet;

/* Readable accessors for residual callbacks: AzU(J, 0), AzD(J, 0, 1), AzD2(J, 0, 0, 0) ... */
static inline PetscScalar AzU(const AzJet *J, PetscInt c)
{
  return J->v[c * J->nslot];
}
static inline PetscScalar AzD(const AzJet *J, PetscInt c, PetscInt i)
{
  return J->v[c * J->nslot + AzJetSlotD1(J->ncoord, i)];
}
static inline PetscScalar AzD2(const AzJet *J, PetscInt c, PetscInt i, PetscInt j)
{
  return J->v[c * J->nslot + AzJetSlotD2(J->ncoord, i, j)];
}
static inline PetscScalar AzD3(const AzJet *J, PetscInt c, PetscInt i)
{
  return J->v[c * J->nslot + AzJetSlotD3(J->ncoord, i)];
}
static inline PetscScalar AzD4(const AzJet *J, PetscInt c, PetscInt i)
{
  return J->v[c * J->nslot + AzJetSlotD4(J->ncoord, i)];
}

/* Indices into a row of ∂r/∂jet (length ncomp*nslot), for the optional exact jet Jacobian that a
 * residual callback fills: drdjet[k*ncomp*nslot + AzIdxD(J, c, i)] = ∂r_k/∂(∂u_c/∂x_i). */
static inline PetscInt AzIdxU(const AzJet *J, PetscInt c)
{
  return c * J->nslot;
}
static inline PetscInt AzIdxD(const AzJet *J, PetscInt c, PetscInt i)
{
  return c * J->nslot + AzJetSlotD1(J->ncoord, i);
}
static inline PetscInt AzIdxD2(const AzJet *J, PetscInt c, PetscInt i, PetscInt j)
{
  return c * J->nslot + AzJetSlotD2(J->ncoord, i, j);
}
static inline PetscInt AzIdxD3(const AzJet *J, PetscInt c, PetscInt i)
{
  return c * J->nslot + AzJetSlotD3(J->ncoord, i);
}
static inline PetscInt AzIdxD4(const AzJet *J, PetscInt c, PetscInt i)
{
  return c * J->nslot + AzJetSlotD4(J->ncoord, i);
}

/* Which derivatives a problem needs, as a set of jet slots (one bit per slot, the same for every
 * component). AzJetRequestParse reads a problem's declaration such as "t,x,xx" or "x,y,xx,yy,xy". */
typedef struct {
  PetscInt ncoord;
  PetscInt mask; /* bit s set: slot s is needed (slot 0, the value, is always needed) */
} AzJetRequest;

PETSC_EXTERN PetscErrorCode AzJetRequestParse(PetscInt ncoord, PetscBool time_dependent, const char spec[], AzJetRequest *req, char errmsg[], size_t errlen);
PETSC_EXTERN PetscErrorCode AzJetRequestClose(AzJetRequest *req);
PETSC_EXTERN PetscErrorCode AzJetRequestView(const AzJetRequest *req, PetscBool time_dependent, char buf[], size_t len);
PETSC_EXTERN PetscErrorCode AzJetRequestMaxOrder(const AzJetRequest *req, PetscInt *order);

#endif
