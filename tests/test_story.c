/* The comparison's verdict (src/run/story.c) on made-up tables: the winner named, the factors right,
 * the law and positivity sentences, a baseline that wins or fails, nothing to compare. */
#include <ansatz.h>
#include <check.h>
#include "azcheck.h"
#include <string.h>
#include "../src/run/story.c"

#define NA ((PetscReal)NAN)

static void Has(const char *out, const char *want)
{
  ck_assert_msg(strstr(out, want) != NULL, "verdict lacks \"%s\":\n%s", want, out);
}

static void Lacks(const char *out, const char *bad)
{
  ck_assert_msg(strstr(out, bad) == NULL, "verdict should not say \"%s\":\n%s", bad, out);
}

/* a clear winner in accuracy, two strategies that conserve to round-off, positivity kept by one */
START_TEST(test_story_winner)
{
  const AzStoryRow rows[] = {
    {"soft",    1e-3, 1e-4,  1e-3, 1, PETSC_FALSE},
    {"hard",    2e-4, 5e-5,  1e-5, 2, PETSC_FALSE},
    {"project", 5e-4, 1e-14, 0,    4, PETSC_FALSE},
    {"posthoc", 1e-3, 1e-15, 1e-3, 1, PETSC_FALSE},
    {"broken",  1e-9, 1e-16, 0,    1, PETSC_TRUE }, /* failed: never the winner, whatever its numbers */
  };
  char out[2048];

  OK(AzRunStory(5, rows, "mass", out, sizeof out));
  Has(out, "Most accurate: hard, rel L2 2.00e-04, 5.0× lower than the baseline soft (1.00e-03), at 2.0× its time");
  Has(out, "The mass law held to round-off (drift ≤ 1e-10, against the baseline's 1.00e-04) with project and posthoc");
  Has(out, "the most accurate of these, project, at 0.50× the baseline's error and 4.0× its time");
  Has(out, "the best of the others, hard, left 5.00e-05");
  Has(out, "positivity, violated by the baseline by 1.00e-03, held on the grid with project (at 0.50× the baseline's error)");
  Lacks(out, "broken");
}
END_TEST

/* the baseline wins; no strategy conserves to round-off; no positivity measured */
START_TEST(test_story_baseline_wins)
{
  const AzStoryRow rows[] = {
    {"soft",          1e-4, 3e-5, NA, 1, PETSC_FALSE},
    {"soft+conserve", 3e-4, 1e-6, NA, 3, PETSC_FALSE},
    {"auglag",        2e-4, 2e-5, NA, 2, PETSC_FALSE},
  };
  char out[2048];

  OK(AzRunStory(3, rows, "energy", out, sizeof out));
  Has(out, "Most accurate: the baseline soft itself (rel L2 1.00e-04); no prior improved on it, the closest being auglag at 2.00e-04 (2.0× its error).");
  Has(out, "No strategy held the energy law to round-off; the lowest drift, soft+conserve's 1.00e-06, is 30.0× below the baseline's 3.00e-05");
  Lacks(out, "positivity");
}
END_TEST

/* no law and no positivity: one sentence; a failed baseline; a single strategy */
START_TEST(test_story_edges)
{
  const AzStoryRow plain[] = {
    {"soft", 1e-3, NA, NA, 1, PETSC_FALSE},
    {"hard", 1e-5, NA, NA, 1, PETSC_FALSE},
  };
  AzStoryRow failed[2];
  char       out[2048];

  OK(AzRunStory(2, plain, "", out, sizeof out));
  Has(out, "Most accurate: hard, rel L2 1.00e-05, 100.0× lower than the baseline soft");
  Lacks(out, "law");
  Lacks(out, "positivity");
  memcpy(failed, plain, sizeof failed);
  failed[0].failed = PETSC_TRUE;
  OK(AzRunStory(2, failed, "", out, sizeof out));
  Has(out, "The baseline soft failed");
  OK(AzRunStory(1, plain, "", out, sizeof out));
  ck_assert_str_eq(out, "");
}
END_TEST

int main(int argc, char **argv)
{
  Suite   *s  = suite_create("story");
  TCase   *tc = tcase_create("verdict");
  SRunner *sr;
  int      nfail;

  PetscCall(PetscInitialize(&argc, &argv, NULL, NULL));
  tcase_add_test(tc, test_story_winner);
  tcase_add_test(tc, test_story_baseline_wins);
  tcase_add_test(tc, test_story_edges);
  suite_add_tcase(s, tc);
  sr = srunner_create(s);
  srunner_set_fork_status(sr, CK_NOFORK);
  srunner_run_all(sr, CK_NORMAL);
  nfail = srunner_ntests_failed(sr);
  srunner_free(sr);
  PetscCall(PetscFinalize());
  return nfail ? 1 : 0;
}
