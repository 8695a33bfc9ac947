/* Collocation points: every coordinate is a pure function of (seed, global index). */
#include <ansatz/sampler.h>
#include <ansatz/compat.h>

const char *const AzSampleTypes[] = {"grid", "uniform", "lhs", "halton", "sobol", "AzSampleType", "AZ_SAMPLE_", NULL};

/* All hashing is in unsigned 64-bit arithmetic: it wraps by definition (signed overflow would be
 * undefined behaviour, which optimising compilers exploit). */
typedef unsigned long long u64;

/* splitmix64 finaliser: a strong 64-bit mix, the source of every pseudo-random number here */
static inline u64 Mix(u64 x)
{
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

/* uniform in [0,1) from a key */
static inline PetscReal Unit(u64 key)
{
  return (PetscReal)(Mix(key) >> 11) * (1.0 / 9007199254740992.0);
}

static inline u64 Key(PetscInt64 seed, PetscInt64 a, PetscInt64 b)
{
  return Mix(Mix((u64)seed ^ 0x5851F42D4C957F2DULL) ^ ((u64)a * 0x632BE59BD9B4E019ULL)) ^ ((u64)b + 0x1F83D9ABFB41BD6BULL);
}

/* A keyed bijection of [0, n): a 4-round Feistel network on the next even number of bits, with
 * cycle walking back into range. Gives Latin-hypercube strata without a global shuffle. */
static PetscInt64 Permute(PetscInt64 i, PetscInt64 n, u64 key)
{
  int bits = 2;
  u64 half, mask, x = (u64)i;

  while ((1LL << bits) < n) bits += 2;
  half = (u64)bits / 2;
  mask = (1ULL << half) - 1;
  do {
    u64 l = x >> half, r = x & mask;
    for (u64 round = 0; round < 4; round++) {
      u64 f = Mix(key + round * 0x2545F4914F6CDD1DULL + r) & mask;
      u64 t = l ^ f;
      l     = r;
      r     = t;
    }
    x = (l << half) | r;
  } while (x >= (u64)n);
  return (PetscInt64)x;
}

static PetscReal RadicalInverse(PetscInt64 i, int base)
{
  PetscReal f = 1.0 / base, v = 0;
  while (i > 0) {
    v += f * (PetscReal)(i % base);
    i /= base;
    f /= base;
  }
  return v;
}

/* Sobol direction numbers for the first four dimensions (Joe & Kuo): s, a, m_1..m_s */
static const struct {
  int s, a, m[3];
} sobol_dirs[4] = {
  {0, 0, {0, 0, 0}}, /* dimension 1: van der Corput in base 2 */
  {1, 0, {1, 0, 0}},
  {2, 1, {1, 3, 0}},
  {3, 1, {1, 3, 1}},
};

static PetscReal Sobol(PetscInt64 i, int dim)
{
  unsigned int v[33], x = 0;
  const int    s = sobol_dirs[dim].s, a = sobol_dirs[dim].a;
  unsigned long long g = (unsigned long long)i ^ ((unsigned long long)i >> 1); /* Gray code */

  for (int k = 1; k <= 32; k++) {
    if (dim == 0) v[k] = 1u << (32 - k);
    else if (k <= s) v[k] = (unsigned int)sobol_dirs[dim].m[k - 1] << (32 - k);
    else {
      v[k] = v[k - s] ^ (v[k - s] >> s);
      for (int j = 1; j < s; j++)
        if ((a >> (s - 1 - j)) & 1) v[k] ^= v[k - j];
    }
  }
  for (int k = 1; g && k <= 32; k++, g >>= 1)
    if (g & 1) x ^= v[k];
  return (PetscReal)x / 4294967296.0;
}

PetscReal AzSampleHash(PetscInt64 seed, PetscInt64 a, PetscInt64 b)
{
  return ((PetscReal)(Mix(Key(seed, a, b)) >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}

PetscInt64 AzSampleSeed(PetscInt64 seed, PetscInt64 a, PetscInt64 b)
{
  return (PetscInt64)(Mix(Key(seed, a, b) ^ 0xD1B54A32D192ED03ULL) >> 2);
}

PetscErrorCode AzSampleUnit(AzSampleType type, PetscInt d, PetscInt n, PetscInt64 seed, PetscInt64 i, PetscReal u[])
{
  static const int primes[AZ_MAX_COORD] = {2, 3, 5, 7};

  PetscFunctionBegin;
  PetscCheck(d >= 0 && d <= AZ_MAX_COORD, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "Sampling dimension %" PetscInt_FMT " is not supported: 0 to %d", d, AZ_MAX_COORD);
  PetscCheck(i >= 0 && i < n, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "Point index %" PetscInt64_FMT " outside [0, %" PetscInt_FMT ")", i, n);
  switch (type) {
  case AZ_SAMPLE_GRID: {
    /* n = m^d cell centres, index i in lexicographic order (first coordinate fastest) */
    PetscInt   m = (PetscInt)PetscFloorReal(PetscPowReal((PetscReal)n, 1.0 / PetscMax(d, 1)) + 0.5);
    PetscInt64 q = i;
    for (PetscInt k = 0; k < d; k++) {
      u[k] = ((PetscReal)(q % m) + 0.5) / m;
      q /= m;
    }
  } break;
  case AZ_SAMPLE_UNIFORM:
    for (PetscInt k = 0; k < d; k++) u[k] = Unit(Key(seed, i, k));
    break;
  case AZ_SAMPLE_LHS:
    for (PetscInt k = 0; k < d; k++) u[k] = ((PetscReal)Permute(i, n, Key(seed, -1 - k, 7)) + Unit(Key(seed, i, 100 + k))) / n;
    break;
  case AZ_SAMPLE_HALTON:
  case AZ_SAMPLE_SOBOL:
    for (PetscInt k = 0; k < d; k++) {
      /* skip the first point (the origin) and shift by a seed-dependent offset modulo 1 */
      PetscReal v = type == AZ_SAMPLE_HALTON ? RadicalInverse(i + 1, primes[k]) : Sobol(i + 1, (int)k);
      v += Unit(Key(seed, -1000, k));
      u[k] = v - PetscFloorReal(v);
    }
    break;
  default:
    SETERRQ(PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "Unknown sample type %d", (int)type);
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzSampleCondition(MPI_Comm comm, AzProblem prob, PetscInt cond, AzSampleType type, PetscInt n, PetscInt64 seed, Vec *points)
{
  PetscFunctionBegin;
  PetscCall(AzSampleConditionLocal(comm, prob, cond, type, n, PETSC_DECIDE, seed, points));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzSampleConditionLocal(MPI_Comm comm, AzProblem prob, PetscInt cond, AzSampleType type, PetscInt n, PetscInt nlocal, PetscInt64 seed, Vec *points)
{
  const AzProblemInfo *info;
  PetscInt             ncoord, nfree, free_axis[AZ_MAX_COORD], start, end;
  PetscReal            lo[AZ_MAX_COORD], hi[AZ_MAX_COORD], fixed = 0;
  PetscInt             fixed_axis = -1;
  PetscScalar         *a;

  PetscFunctionBegin;
  PetscCall(AzProblemGetInfo(prob, &info));
  PetscCall(AzProblemGetNumCoords(prob, &ncoord));
  PetscCall(AzProblemGetBox(prob, lo, hi));
  PetscCheck(n >= 1, comm, PETSC_ERR_ARG_OUTOFRANGE, "Number of points %" PetscInt_FMT " must be at least 1", n);
  if (cond == AZ_COND_INITIAL) {
    PetscCheck(info->time_dependent, comm, PETSC_ERR_ARG_WRONG, "Problem %s is steady: it has no initial condition to sample", info->name);
    fixed_axis = ncoord - 1;
    fixed      = lo[ncoord - 1];
  } else if (cond >= 0) {
    PetscCheck(cond < 2 * info->dim, comm, PETSC_ERR_ARG_OUTOFRANGE, "Face %" PetscInt_FMT " does not exist: problem %s has faces 0..%" PetscInt_FMT, cond, info->name, 2 * info->dim - 1);
    fixed_axis = cond / 2;
    fixed      = cond % 2 ? hi[fixed_axis] : lo[fixed_axis];
  } else PetscCheck(cond == AZ_COND_INTERIOR, comm, PETSC_ERR_ARG_OUTOFRANGE, "Unknown condition %" PetscInt_FMT, cond);
  nfree = 0;
  for (PetscInt k = 0; k < ncoord; k++)
    if (k != fixed_axis) free_axis[nfree++] = k;
  if (type == AZ_SAMPLE_GRID) {
    PetscInt m = (PetscInt)PetscFloorReal(PetscPowReal((PetscReal)n, 1.0 / PetscMax(nfree, 1)) + 0.5), mm = 1;
    for (PetscInt k = 0; k < nfree; k++) mm *= m;
    PetscCheck(mm == n || nfree == 0, comm, PETSC_ERR_ARG_OUTOFRANGE, "A grid of %" PetscInt_FMT " points in %" PetscInt_FMT " dimension(s) is not possible: use a power m^%" PetscInt_FMT " (e.g. %" PetscInt_FMT ")", n, nfree, nfree, mm);
  }
  PetscCall(VecCreate(comm, points));
  PetscCall(VecSetBlockSize(*points, ncoord));
  PetscCall(VecSetSizes(*points, nlocal == PETSC_DECIDE ? PETSC_DECIDE : nlocal * ncoord, n * ncoord));
  PetscCall(VecSetFromOptions(*points));
  PetscCall(VecGetOwnershipRange(*points, &start, &end));
  PetscCall(VecGetArray(*points, &a));
  for (PetscInt64 i = start / ncoord; i < end / ncoord; i++) {
    PetscReal u[AZ_MAX_COORD];
    PetscScalar *x = a + (i * ncoord - start);

    /* a separate stream per condition, so faces do not repeat the interior's points */
    PetscCall(AzSampleUnit(type, nfree, n, (PetscInt64)Mix((u64)seed + 1000003ULL * (u64)(cond + 2)), i, u));
    for (PetscInt k = 0; k < nfree; k++) x[free_axis[k]] = lo[free_axis[k]] + (hi[free_axis[k]] - lo[free_axis[k]]) * u[k];
    if (fixed_axis >= 0) x[fixed_axis] = fixed;
  }
  PetscCall(VecRestoreArray(*points, &a));
  PetscFunctionReturn(PETSC_SUCCESS);
}
