/* compare's statistics over repeats and its paired verdicts: pure functions of their numbers
 * (tests/test_train.c includes this file and checks them on constructed data). */
#include "compareimpl.h"
#include <stdlib.h>

static int CompareReal(const void *a, const void *b)
{
  const PetscReal x = *(const PetscReal *)a, y = *(const PetscReal *)b;
  return (x > y) - (x < y);
}

/* the median of n values (sorted in place); NaN for none */
static PetscReal Median(PetscInt n, PetscReal v[])
{
  if (n < 1) return (PetscReal)NAN;
  qsort(v, (size_t)n, sizeof v[0], CompareReal);
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] == v[n / 2] ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]));
}

void AzCompareStatistics(PetscInt n, const PetscReal v[], AzCompareStats *s)
{
  PetscReal *w = (PetscReal *)malloc(sizeof(PetscReal) * (size_t)(n > 0 ? n : 1)), sum = 0, ss = 0;
  PetscInt   m = 0;

  s->count  = 0;
  s->median = s->min = s->max = s->mean = s->std = (PetscReal)NAN;
  if (!w) return;
  for (PetscInt i = 0; i < n; i++)
    if (!PetscIsInfOrNanReal(v[i])) w[m++] = v[i];
  if (m) {
    for (PetscInt i = 0; i < m; i++) sum += w[i];
    s->mean = sum / m;
    for (PetscInt i = 0; i < m; i++) ss += (w[i] - s->mean) * (w[i] - s->mean);
    s->std    = m > 1 ? PetscSqrtReal(ss / (m - 1)) : 0;
    s->median = Median(m, w); /* sorts w */
    s->min    = w[0];
    s->max    = w[m - 1];
    s->count  = m;
  }
  free(w);
}

void AzCompareVerdict(PetscInt n, const PetscReal a[], const PetscReal b[], AzVerdict *v)
{
  PetscReal *ratio = (PetscReal *)malloc(sizeof(PetscReal) * (size_t)(n > 0 ? n : 1));

  v->kind  = AZ_VERDICT_NONE;
  v->pairs = v->a_better = v->b_better = 0;
  v->ratio = (PetscReal)NAN;
  if (!ratio) return;
  for (PetscInt i = 0; i < n; i++) {
    if (PetscIsInfOrNanReal(a[i]) || PetscIsInfOrNanReal(b[i])) continue;
    v->a_better += a[i] < b[i];
    v->b_better += b[i] < a[i];
    ratio[v->pairs++] = a[i] == b[i] ? 1 : (b[i] == 0 ? (PetscReal)INFINITY : a[i] / b[i]);
  }
  if (v->pairs) v->ratio = Median(v->pairs, ratio);
  free(ratio);
  if (v->pairs < 2) return;
  /* at least the share of the pairs, counted exactly: better >= 0.8 pairs */
  if ((PetscReal)v->a_better >= AZ_VERDICT_SHARE * v->pairs - 1e-9) v->kind = AZ_VERDICT_A;
  else if ((PetscReal)v->b_better >= AZ_VERDICT_SHARE * v->pairs - 1e-9) v->kind = AZ_VERDICT_B;
  else v->kind = AZ_VERDICT_SPREAD;
}
