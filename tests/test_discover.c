/* Discovering conservation laws: the search on synthetic integrals with a planted law, the library's
 * reduction modulo total derivatives, discovered.json read strictly, and laws fed back to a problem. */
#include "azcheck.h"
#include <ansatz/discover.h>

/* Q_j(t) of 5 "monomials": four independent functions of t, and the fifth planted so that
 * 2 Q_0 − 3 Q_2 + Q_4 = 7 at every time (a law); Q_1 + Q_3 changes by 1% (a near-law, not a law) */
static void Synthetic(PetscInt nt, PetscReal Q[], PetscReal noise)
{
  for (PetscInt i = 0; i < nt; i++) {
    const PetscReal t = (PetscReal)i / (nt - 1), q0 = 1 + PetscSinReal(9 * t), q2 = PetscCosReal(13 * t) + 0.5 * t;
    /* the noise on Q_0 and Q_2 only: the planted law holds to it */
    Q[i * 5 + 0] = q0 + noise * PetscSinReal(101.0 * i);
    Q[i * 5 + 1] = 2 + 0.01 * t * t;
    Q[i * 5 + 2] = q2 + noise * PetscCosReal(37.0 * i);
    Q[i * 5 + 3] = 3 - 0.01 * t * t + 0.005 * t;
    Q[i * 5 + 4] = 7 - 2 * q0 + 3 * q2;
  }
}

START_TEST(test_planted_law)
{
  const PetscInt   nt = 60;
  PetscReal        Q[60 * 5];
  AzDiscoverResult res;

  Synthetic(nt, Q, 0);
  OK(AzDiscoverLaws(PETSC_COMM_SELF, nt, 5, Q, NULL, 0, 0, &res));
  ck_assert_int_eq(res.nlaws, 1);
  /* the law with its leading (first) coefficient 1: (1, 0, −1.5, 0, 0.5) */
  ck_assert_int_eq(res.lead[0], 0);
  ck_assert_msg(PetscAbsReal(res.coef[0] - 1) < 1e-9 && PetscAbsReal(res.coef[1]) < 1e-12 && PetscAbsReal(res.coef[2] + 1.5) < 1e-8 && PetscAbsReal(res.coef[3]) < 1e-12 && PetscAbsReal(res.coef[4] - 0.5) < 1e-8, "planted law recovered: %g %g %g %g %g", (double)res.coef[0], (double)res.coef[1], (double)res.coef[2], (double)res.coef[3], (double)res.coef[4]);
  ck_assert_msg(res.drift[0] < 1e-12, "drift %g", (double)res.drift[0]);
  ck_assert(!res.vanish[0]);
  /* the near-law Q_1 + Q_3 (1% change) is rejected: its drift is above the chosen tol */
  {
    const PetscReal c[5] = {0, 1, 0, 1, 0};
    const PetscReal d    = AzDiscoverDrift(nt, 5, Q, NULL, c);
    ck_assert_msg(d > res.tol, "near-law drift %g must exceed tol %g", (double)d, (double)res.tol);
  }
  OK(AzDiscoverResultDestroy(&res));
}
END_TEST

START_TEST(test_planted_law_noisy)
{
  /* with noise 1e-7 on two integrals the law is found at the noise floor, nothing else */
  const PetscInt   nt = 80;
  PetscReal        Q[80 * 5];
  AzDiscoverResult res;

  Synthetic(nt, Q, 1e-7);
  OK(AzDiscoverLaws(PETSC_COMM_SELF, nt, 5, Q, NULL, 0, 0, &res));
  ck_assert_int_eq(res.nlaws, 1);
  ck_assert_msg(res.gap && res.floor < 1e-5 && res.tol > res.floor && res.tol < res.signal, "floor %g tol %g signal %g", (double)res.floor, (double)res.tol, (double)res.signal);
  ck_assert_msg(PetscAbsReal(res.coef[2] + 1.5) < 1e-4 && PetscAbsReal(res.coef[4] - 0.5) < 1e-4 && res.coef[1] == 0 && res.coef[3] == 0, "noisy law: %g %g %g %g %g", (double)res.coef[0], (double)res.coef[1], (double)res.coef[2], (double)res.coef[3], (double)res.coef[4]);
  OK(AzDiscoverResultDestroy(&res));
}
END_TEST

/* an integral that vanishes at every time (a symmetry of the data: round-off) beside the planted law
 * at a noise floor of 1e-7: both are laws; the floor is the law's, not round-off's (the highest gap,
 * not the widest) */
START_TEST(test_vanishing_and_noisy_law)
{
  const PetscInt   nt = 80;
  PetscReal        Q5[80 * 5], Q[80 * 6], S[6] = {0, 0, 0, 0, 0, 1};
  AzDiscoverResult res;

  Synthetic(nt, Q5, 1e-7);
  for (PetscInt i = 0; i < nt; i++) {
    for (PetscInt j = 0; j < 5; j++) {
      Q[i * 6 + j] = Q5[i * 5 + j];
      S[j]         = PetscMax(S[j], PetscAbsReal(Q5[i * 5 + j]));
    }
    Q[i * 6 + 5] = 1e-17 * PetscSinReal(77.0 * i);
  }
  OK(AzDiscoverLaws(PETSC_COMM_SELF, nt, 6, Q, S, 0, 0, &res));
  ck_assert_msg(res.nlaws == 2, "%d laws, tol %g", (int)res.nlaws, (double)res.tol);
  ck_assert(res.vanish[0] && res.lead[0] == 5);
  ck_assert(!res.vanish[1] && res.lead[1] == 0);
  ck_assert_msg(res.floor > 1e-10 && res.floor < 1e-5, "floor %g: %g %g %g %g %g %g", (double)res.floor, (double)res.sdrift[0], (double)res.sdrift[1], (double)res.sdrift[2], (double)res.sdrift[3], (double)res.sdrift[4], (double)res.sdrift[5]);
  OK(AzDiscoverResultDestroy(&res));
}
END_TEST

START_TEST(test_no_law)
{
  /* without the planted column nothing is conserved: no law */
  const PetscInt   nt = 60;
  PetscReal        Q[60 * 5], Q4[60 * 4];
  AzDiscoverResult res;

  Synthetic(nt, Q, 0);
  for (PetscInt i = 0; i < nt; i++) {
    Q4[i * 4 + 0] = Q[i * 5 + 0];
    Q4[i * 4 + 1] = Q[i * 5 + 1];
    Q4[i * 4 + 2] = Q[i * 5 + 2];
    Q4[i * 4 + 3] = PetscExpReal(3.0 * i / nt) * PetscCosReal(5.0 * i / nt);
  }
  OK(AzDiscoverLaws(PETSC_COMM_SELF, nt, 4, Q4, NULL, 0, 0, &res));
  ck_assert_int_eq(res.nlaws, 0);
  OK(AzDiscoverResultDestroy(&res));
}
END_TEST

/* Two laws known only to the source's accuracy ε = 1e-8, the NLS case: Q_2 = 5 + 5e-8 sin 3t and
 * Q_3 = 2 − 2.5e-8 sin 3t each drift by about ε (relative), while their errors cancel in Q_2 + 2 Q_3 = 9,
 * conserved to round-off. The others change by 1e-7 (Q_4 = 3 + 3e-7 sin 5t: a near-law, not a law),
 * then about 9e-6, 1e-4, 2e-3 of their size: a spectrum without a factor-100 gap above ε, as NLS's
 * (smooth functions of t on one interval are nearly dependent). The highest factor-100 gap, round-off →
 * ε, gives one law, the combination; told the source's accuracy, discovery counts no gap at or below
 * it, takes the widest above (ε → 1e-7), and reports the two laws separately, Q_2 alone and Q_3
 * alone, and not Q_4. */
START_TEST(test_accuracy_separates_laws)
{
  const PetscInt   nt = 80, n = 7;
  PetscReal        Q[80 * 7];
  AzDiscoverResult res;

  for (PetscInt i = 0; i < nt; i++) {
    const PetscReal t = (PetscReal)i / (nt - 1);
    Q[i * n + 0]      = 1 + 1.5e-3 * PetscSinReal(9 * t);
    Q[i * n + 1]      = 1 + 1e-3 * (PetscCosReal(13 * t) - 1 + 0.5 * t);
    Q[i * n + 2]      = 5 + 5e-8 * PetscSinReal(3 * t);
    Q[i * n + 3]      = 2 - 2.5e-8 * PetscSinReal(3 * t);
    Q[i * n + 4]      = 3 + 3e-7 * PetscSinReal(5 * t);
    Q[i * n + 5]      = 1 + 4.4e-6 * (1 - PetscCosReal(7 * t));
    Q[i * n + 6]      = 1 + 6e-5 * PetscSinReal(11 * t);
  }
  OK(AzDiscoverLaws(PETSC_COMM_SELF, nt, n, Q, NULL, 0, 1e-8, &res));
  ck_assert_msg(res.nlaws == 2, "%d laws (tol %g; drifts %g %g %g %g %g %g %g)", (int)res.nlaws, (double)res.tol, (double)res.sdrift[0], (double)res.sdrift[1], (double)res.sdrift[2], (double)res.sdrift[3], (double)res.sdrift[4], (double)res.sdrift[5], (double)res.sdrift[6]);
  for (PetscInt k = 0; k < 2; k++) {
    const PetscInt lead = res.lead[k];
    ck_assert_msg(lead == 2 || lead == 3, "law %d leads with monomial %d", (int)k, (int)lead);
    for (PetscInt j = 0; j < n; j++) ck_assert_msg(j == lead ? res.coef[k * n + j] == 1 : res.coef[k * n + j] == 0, "law %d: coefficient %d is %g (one term per law)", (int)k, (int)j, (double)res.coef[k * n + j]);
    ck_assert_msg(res.drift[k] < 3e-8, "law %d drifts %g", (int)k, (double)res.drift[k]);
  }
  ck_assert(res.lead[0] != res.lead[1]);
  /* the near-law is rejected: its drift is above the tol used */
  {
    const PetscReal c[7] = {0, 0, 0, 0, 1, 0, 0};
    ck_assert_msg(AzDiscoverDrift(nt, n, Q, NULL, c) > res.tol, "near-law drift %g, tol %g", (double)AzDiscoverDrift(nt, n, Q, NULL, c), (double)res.tol);
  }
  OK(AzDiscoverResultDestroy(&res));
  /* an accuracy that is no drift is refused */
  OK(PetscPushErrorHandler(CaptureError, NULL));
  ck_assert_int_ne(AzDiscoverLaws(PETSC_COMM_SELF, nt, n, Q, NULL, 0, 0.5, &res), 0);
  OK(PetscPopErrorHandler());
  ck_assert_msg(strstr(last_error, "below 1e-3"), "%s", last_error);
}
END_TEST

START_TEST(test_too_few_times)
{
  PetscReal        Q[5 * 5];
  AzDiscoverResult res;

  Synthetic(5, Q, 0);
  OK(PetscPushErrorHandler(CaptureError, NULL));
  ck_assert_int_ne(AzDiscoverLaws(PETSC_COMM_SELF, 5, 5, Q, NULL, 0, 0, &res), 0);
  OK(PetscPopErrorHandler());
  ck_assert_msg(strstr(last_error, "more times than monomials") && strstr(last_error, "at least 6"), "%s", last_error);
}
END_TEST

/* KdV's library of degree 3 in u, u_x: 9 monomials, of which u_x, u*u_x, u^2*u_x are total
 * derivatives: 6 stay, simplest first */
START_TEST(test_library_reduction)
{
  AzDiscoverLibrary lib;
  const char       *expect[] = {"u", "u^2", "u^3", "u_x^2", "u*u_x^2", "u_x^3"};
  char              name[64];

  OK(AzDiscoverLibraryCreate(PETSC_COMM_SELF, 1, "u", "x", 3, PETSC_FALSE, &lib));
  ck_assert_int_eq(lib.nfull, 9);
  ck_assert_int_eq(lib.n, 6);
  ck_assert_int_eq(lib.ntd, 3);
  for (PetscInt j = 0; j < 6; j++) {
    OK(AzMonomialFormat(&lib.mono[j], 1, lib.comp, name, sizeof name));
    ck_assert_str_eq(name, expect[j]);
  }
  OK(AzDiscoverLibraryDestroy(&lib));
  /* with u_xx: u*u_xx ≡ −u_x^2 is left out, u_xx^2 stays */
  OK(AzDiscoverLibraryCreate(PETSC_COMM_SELF, 1, "u", "x,xx", 2, PETSC_FALSE, &lib));
  ck_assert_int_eq(lib.n, 4); /* u, u^2, u_x^2, u_xx^2 */
  OK(AzDiscoverLibraryDestroy(&lib));
}
END_TEST

static void WriteFile(const char *path, const char *text)
{
  FILE *fp = fopen(path, "w");
  ck_assert(fp);
  fputs(text, fp);
  fclose(fp);
}

START_TEST(test_json_and_feedback)
{
  AzProblem            prob = LoadProblem("kdv1d");
  const AzProblemInfo *info;
  const PetscReal     *param;
  PetscReal            x[2] = {0.3, 0.1};
  PetscScalar          jet[AZ_JET_NSLOT(2)], q, dq[AZ_JET_NSLOT(2)];
  AzJet                J = {2, 1, AZ_JET_NSLOT(2), jet};
  AzPoint              pt;

  WriteFile("discover_ok.json", "{\"problem\": \"kdv1d\", \"laws\": [\n"
                                "  {\"name\": \"law_1\", \"formula\": \"u\", \"declared\": \"mass\", \"coefficients\": {\"u\": 1}},\n"
                                "  {\"name\": \"third\", \"drift\": 1e-9, \"declared\": null, \"coefficients\": {\"u^3\": 1, \"u_x^2\": -0.0075}}\n]}\n");
  OK(AzProblemAddDiscoveredLaws(prob, "discover_ok.json"));
  OK(AzProblemGetInfo(prob, &info));
  /* mass and energy declared; the declared one in the file is not added twice, "third" is */
  ck_assert_str_eq(info->conservation[2].name, "third");
  ck_assert_ptr_null(info->conservation[3].name);
  OK(AzProblemGetParams(prob, &param));
  pt = (AzPoint){x, 2, param, -1};
  for (PetscInt s = 0; s < AZ_JET_NSLOT(2); s++) jet[s] = dq[s] = 0;
  jet[0]                   = 0.7;
  jet[AzJetSlotD1(2, 0)]   = -1.3;
  OK(info->conservation[2].density(&pt, &J, &q, dq));
  ck_assert_msg(PetscAbsReal(q - (0.343 - 0.0075 * 1.69)) < 1e-14, "density %g", (double)q);
  ck_assert_msg(PetscAbsReal(dq[0] - 3 * 0.49) < 1e-14 && PetscAbsReal(dq[AzJetSlotD1(2, 0)] - 0.0075 * 2 * 1.3) < 1e-14, "dq %g %g", (double)dq[0], (double)dq[AzJetSlotD1(2, 0)]);
  /* a second call replaces the laws, it does not add them again */
  OK(AzProblemAddDiscoveredLaws(prob, "discover_ok.json"));
  ck_assert_str_eq(info->conservation[2].name, "third");
  ck_assert_ptr_null(info->conservation[3].name);

  OK(PetscPushErrorHandler(CaptureError, NULL));
  /* malformed: a missing comma, with its line */
  WriteFile("discover_bad.json", "{\"problem\": \"kdv1d\",\n \"laws\": [\n {\"name\": \"a\" \"coefficients\": {\"u\": 1}}]}\n");
  ck_assert_int_ne(AzProblemAddDiscoveredLaws(prob, "discover_bad.json"), 0);
  ck_assert_msg(strstr(last_error, "line 3") && strstr(last_error, "expected '}'"), "%s", last_error);
  /* an unknown variable */
  WriteFile("discover_bad.json", "{\"laws\": [{\"name\": \"a\", \"coefficients\": {\"w^2\": 1}}]}");
  ck_assert_int_ne(AzProblemAddDiscoveredLaws(prob, "discover_bad.json"), 0);
  ck_assert_msg(strstr(last_error, "unknown variable 'w'"), "%s", last_error);
  /* another problem's laws */
  WriteFile("discover_bad.json", "{\"problem\": \"nls1d\", \"laws\": []}");
  ck_assert_int_ne(AzProblemAddDiscoveredLaws(prob, "discover_bad.json"), 0);
  ck_assert_msg(strstr(last_error, "discovered for problem nls1d, not kdv1d"), "%s", last_error);
  /* too many laws: kdv1d has 2, the file adds 3 */
  WriteFile("discover_bad.json", "{\"laws\": [{\"name\": \"a\", \"coefficients\": {\"u^3\": 1}}, {\"name\": \"b\", \"coefficients\": {\"u_x^2\": 1}},"
                                 "{\"name\": \"c\", \"coefficients\": {\"u_x^3\": 1}}]}");
  ck_assert_int_ne(AzProblemAddDiscoveredLaws(prob, "discover_bad.json"), 0);
  ck_assert_msg(strstr(last_error, "at most 4 laws") && strstr(last_error, "mass, energy"), "%s", last_error);
  /* text after the object */
  WriteFile("discover_bad.json", "{\"laws\": []} x");
  ck_assert_int_ne(AzProblemAddDiscoveredLaws(prob, "discover_bad.json"), 0);
  ck_assert_msg(strstr(last_error, "text after the end"), "%s", last_error);
  OK(PetscPopErrorHandler());
  remove("discover_ok.json");
  remove("discover_bad.json");
  OK(AzProblemDestroy(&prob));
}
END_TEST

int main(int argc, char **argv)
{
  Suite   *s  = suite_create("discover");
  TCase   *tc = tcase_create("core");
  SRunner *sr;
  int      nfail;

  PetscCall(PetscInitialize(&argc, &argv, NULL, NULL));
  tcase_set_timeout(tc, 300);
  tcase_add_test(tc, test_planted_law);
  tcase_add_test(tc, test_planted_law_noisy);
  tcase_add_test(tc, test_vanishing_and_noisy_law);
  tcase_add_test(tc, test_no_law);
  tcase_add_test(tc, test_accuracy_separates_laws);
  tcase_add_test(tc, test_too_few_times);
  tcase_add_test(tc, test_library_reduction);
  tcase_add_test(tc, test_json_and_feedback);
  suite_add_tcase(s, tc);
  sr = srunner_create(s);
  srunner_set_fork_status(sr, CK_NOFORK);
  srunner_run_all(sr, CK_NORMAL);
  nfail = srunner_ntests_failed(sr);
  srunner_free(sr);
  PetscCall(PetscFinalize());
  return nfail ? 1 : 0;
}
