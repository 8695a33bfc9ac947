/* The comparison's verdict in two sentences: which strategy won, by how much and at what cost, in
 * accuracy and in the problem's conservation law (and positivity), against the first strategy of the
 * list, the baseline. Self-contained (numbers in, text out) so the test suite checks it on made-up
 * tables. */
#include "runimpl.h"
#include <stdarg.h>
#include <stdio.h>

#define AZ_STORY_ROUNDOFF 1e-10 /* a drift at or below this is "to round-off" */

static PetscBool Usable(const AzStoryRow *r)
{
  return !r->failed && PetscIsNormalReal(r->rel_l2) ? PETSC_TRUE : PETSC_FALSE;
}

/* appends to out, never past len */
static void Say(char out[], size_t len, const char *fmt, ...)
{
  size_t  o = strlen(out);
  va_list ap;
  if (o + 1 >= len) return;
  va_start(ap, fmt);
  vsnprintf(out + o, len - o, fmt, ap);
  va_end(ap);
}

/* "2.3×" for a ratio above 1, "0.45×" below, so that every cost reads as a factor of the baseline's */
static void Factor(char s[], size_t len, PetscReal r)
{
  if (!PetscIsNormalReal(r) || r <= 0) snprintf(s, len, "n/a");
  else snprintf(s, len, r >= 1 ? "%.1f×" : "%.2f×", (double)r);
}

/* the names of rows with flag[k], "a, b and c" */
static void List(char out[], size_t len, PetscInt n, const AzStoryRow rows[], const PetscBool flag[])
{
  PetscInt m = 0, total = 0;
  for (PetscInt k = 0; k < n; k++) total += flag[k] ? 1 : 0;
  for (PetscInt k = 0; k < n; k++) {
    if (!flag[k]) continue;
    Say(out, len, "%s%s", m == 0 ? "" : (m == total - 1 ? " and " : ", "), rows[k].name);
    m++;
  }
}

PetscErrorCode AzRunStory(PetscInt n, const AzStoryRow rows[], const char law[], char out[], size_t len)
{
  const AzStoryRow *b = &rows[0];
  PetscInt          best = -1, nlaw = 0, npos = 0, ntight = 0, tbest = -1, dbest = -1;
  PetscBool         tight[64], kept[64];
  char              f1[32], f2[32];

  PetscFunctionBegin;
  out[0] = 0;
  PetscCheck(n <= 64, PETSC_COMM_SELF, PETSC_ERR_ARG_SIZ, "AzRunStory: at most 64 strategies, not %" PetscInt_FMT, n);
  if (n < 2) PetscFunctionReturn(PETSC_SUCCESS); /* nothing to compare */
  if (!Usable(b)) {
    Say(out, len, "The baseline %s %s, so no strategy is compared with it; see the table.", b->name, b->failed ? "failed" : "has no finite error");
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  for (PetscInt k = 0; k < n; k++) {
    if (!Usable(&rows[k])) continue;
    if (best < 0 || rows[k].rel_l2 < rows[best].rel_l2) best = k;
  }
  /* sentence 1: accuracy */
  if (best == 0) {
    PetscInt next = -1;
    for (PetscInt k = 1; k < n; k++)
      if (Usable(&rows[k]) && (next < 0 || rows[k].rel_l2 < rows[next].rel_l2)) next = k;
    Say(out, len, "Most accurate: the baseline %s itself (rel L2 %.2e)", b->name, (double)b->rel_l2);
    if (next > 0) {
      Factor(f1, sizeof f1, rows[next].rel_l2 / b->rel_l2);
      Say(out, len, "; no prior improved on it, the closest being %s at %.2e (%s its error).", rows[next].name, (double)rows[next].rel_l2, f1);
    } else Say(out, len, "; every other strategy failed.");
  } else {
    Factor(f1, sizeof f1, b->rel_l2 / rows[best].rel_l2);
    Factor(f2, sizeof f2, b->wall > 0 ? rows[best].wall / b->wall : (PetscReal)NAN);
    Say(out, len, "Most accurate: %s, rel L2 %.2e, %s lower than the baseline %s (%.2e), at %s its time (%.1f s against %.1f s).", rows[best].name, (double)rows[best].rel_l2, f1, b->name, (double)b->rel_l2, f2, (double)rows[best].wall, (double)b->wall);
  }
  /* sentence 2: the law (and positivity) */
  for (PetscInt k = 0; k < n; k++) {
    tight[k] = kept[k] = PETSC_FALSE;
    if (!Usable(&rows[k])) continue;
    if (!PetscIsInfOrNanReal(rows[k].drift)) {
      nlaw++;
      if (dbest < 0 || rows[k].drift < rows[dbest].drift) dbest = k;
      if (rows[k].drift <= AZ_STORY_ROUNDOFF) {
        tight[k] = PETSC_TRUE;
        ntight++;
        if (tbest < 0 || rows[k].rel_l2 < rows[tbest].rel_l2) tbest = k;
      }
    }
    if (!PetscIsInfOrNanReal(rows[k].positivity)) {
      npos++;
      kept[k] = rows[k].positivity == 0 ? PETSC_TRUE : PETSC_FALSE;
    }
  }
  if (nlaw == 0 && npos == 0) PetscFunctionReturn(PETSC_SUCCESS);
  Say(out, len, " ");
  if (nlaw > 0 && PetscIsInfOrNanReal(b->drift)) Say(out, len, "The %s law is not measured for the baseline", law);
  else if (nlaw > 0 && ntight > 0) {
    Factor(f1, sizeof f1, rows[tbest].rel_l2 / b->rel_l2);
    Factor(f2, sizeof f2, b->wall > 0 ? rows[tbest].wall / b->wall : (PetscReal)NAN);
    Say(out, len, "The %s law held to round-off (drift ≤ %.0e, against the baseline's %.2e) with ", law, AZ_STORY_ROUNDOFF, (double)b->drift);
    List(out, len, n, rows, tight);
    if (ntight > 1) Say(out, len, "; the most accurate of these, %s, at %s the baseline's error and %s its time", rows[tbest].name, f1, f2);
    else Say(out, len, ", at %s the baseline's error and %s its time", f1, f2);
    if (ntight < nlaw) {
      PetscInt p = -1;
      for (PetscInt k = 0; k < n; k++)
        if (Usable(&rows[k]) && !tight[k] && !PetscIsInfOrNanReal(rows[k].drift) && k != 0 && (p < 0 || rows[k].drift < rows[p].drift)) p = k;
      if (p > 0) Say(out, len, ", while the best of the others, %s, left %.2e", rows[p].name, (double)rows[p].drift);
    }
  } else if (nlaw > 0) {
    Factor(f1, sizeof f1, rows[dbest].drift > 0 ? b->drift / rows[dbest].drift : (PetscReal)NAN);
    Say(out, len, "No strategy held the %s law to round-off; the lowest drift, %s's %.2e, is %s below the baseline's %.2e", law, rows[dbest].name, (double)rows[dbest].drift, f1, (double)b->drift);
  }
  if (npos > 0 && !PetscIsInfOrNanReal(b->positivity)) {
    PetscInt nkept = 0, worst = -1;
    for (PetscInt k = 0; k < n; k++) nkept += kept[k] ? 1 : 0;
    for (PetscInt k = 0; k < n; k++)
      if (kept[k] && (worst < 0 || rows[k].rel_l2 > rows[worst].rel_l2)) worst = k;
    Say(out, len, "%s", nlaw > 0 ? "; " : "");
    if (b->positivity == 0) Say(out, len, "the baseline already stayed positive on the grid");
    else if (nkept == 0) Say(out, len, "every strategy dipped below zero somewhere on the grid (the baseline by %.2e)", (double)b->positivity);
    else {
      Say(out, len, "positivity, violated by the baseline by %.2e, held on the grid with ", (double)b->positivity);
      List(out, len, n, rows, kept);
      Factor(f1, sizeof f1, rows[worst].rel_l2 / b->rel_l2);
      if (nkept > 1) Say(out, len, " (the costliest, %s, at %s the baseline's error)", rows[worst].name, f1);
      else Say(out, len, " (at %s the baseline's error)", f1);
    }
  }
  Say(out, len, ".");
  PetscFunctionReturn(PETSC_SUCCESS);
}
