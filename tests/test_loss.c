/* The loss through its public API (loss.h):
 *  - the chain of maps network -> solution (stream function, hard transform, softplus, projection) for
 *    every combination the options allow, and the refusal of the others: the maps' names in order; the
 *    tangent T against central differences of the forward map F, T dnet = (F(net + h dnet) −
 *    F(net − h dnet)) / 2h + O(h²); the adjoint A the transpose of T, <rows, T dnet> = <A rows, dnet>;
 *    F of the network's own jets the solution the report sees (AzLossEvaluateSolution);
 *  - each term kind (the PDE, a face, the initial condition, data, the positivity penalty, a
 *    conservation-law penalty, each soft and by multipliers, and through every map in training): its
 *    value mean(r²) recomputed by hand from the solution, ∇loss against central differences, and the
 *    Gauss–Newton pieces against the explicit Jacobian J of the scaled residuals ρ: ‖ρ‖² = loss,
 *    2Jᵀρ = ∇loss, Jᵀρ and JᵀJ v matrix-free and dense, and J v against differences of ρ;
 *  - options prefixes: a loss with prefix s1_ reads -s1_az_..., one without does not; and (case
 *    prefix_fallback, skipped when AZ_TEST_NO_FALLBACK is set) a prefixed loss falls back on -az_X
 *    when -s1_az_X is absent.
 * Runs on any number of ranks: every sum over rows or points is reduced over the ranks. */
#include <ansatz.h>
#include <check.h>
#include "azcheck.h"
#include <math.h>
#include <unistd.h>
/* the solved output layer's least-squares core, tested directly (its functions are internal) */
#include "../src/loss/hardpde_lsq.c"

typedef struct {
  AzProblem prob;
  AzField   field;
  AzLoss    loss;
  PetscInt  ncoord, ncomp, ncompN, nslot, P, Pnet; /* θ's length; the network's part (inferred parameters after it) */
  PetscInt  mask;    /* the solution's slots: the problem's jet request */
  PetscInt  netmask; /* the network's slots: those the field computes (one order more for a stream function) */
} Setup;

/* small sets and a small network: depth 2, width 8 */
static const Opt base[] = {
  {"-az_field_depth", "2"},
  {"-az_field_width", "8"},
  {"-az_field_seed", "5"},
  {"-az_n_interior", "40"},
  {"-az_n_boundary", "8"},
  {"-az_n_initial", "16"},
  {"-az_project_nodes", "16"},
  {"-az_loss_chunk", "7"}, /* chunks that do not divide the sets */
  {NULL, NULL},
};

/* a deterministic generator, the same sequence on every rank: uniform in [-1, 1) */
static PetscReal Rand(unsigned long *st)
{
  *st = *st * 6364136223846793005UL + 1442695040888963407UL;
  return (PetscReal)((*st >> 11) * (1.0 / 9007199254740992.0)) * 2 - 1;
}

/* flow2d, a problem linked into this test (AzProblemCreateFromInfo): a 2-D velocity (u, v) with
 * u_x + v_y = 0 and zero Dirichlet data on every face, so it has a lift (g = 0) as well as two
 * components for a stream function: the one problem where both maps could be asked for */
static PetscErrorCode FlowInterior(const AzPoint *p, const AzJet *J, PetscScalar r[], PetscScalar drdjet[])
{
  (void)p;
  r[0] = AzD(J, 0, 0) + AzD(J, 1, 1);
  if (drdjet) {
    drdjet[AzIdxD(J, 0, 0)] = 1;
    drdjet[AzIdxD(J, 1, 1)] = 1;
  }
  return PETSC_SUCCESS;
}

static PetscErrorCode FlowWall(const AzPoint *p, const AzJet *J, PetscScalar r[], PetscScalar drdjet[])
{
  (void)p;
  for (PetscInt c = 0; c < 2; c++) {
    r[c] = AzU(J, c);
    if (drdjet) drdjet[c * J->ncomp * J->nslot + AzIdxU(J, c)] = 1;
  }
  return PETSC_SUCCESS;
}

static PetscErrorCode FlowZero(const AzPoint *p, PetscScalar u[])
{
  (void)p;
  u[0] = u[1] = 0;
  return PETSC_SUCCESS;
}

static PetscErrorCode FlowLift(const AzPoint *p, PetscScalar jet[])
{
  for (PetscInt s = 0; s < 2 * AZ_JET_NSLOT(p->ncoord); s++) jet[s] = 0;
  return PETSC_SUCCESS;
}

static const AzProblemInfo flow2d = {
  .abi             = AZ_PROBLEM_ABI,
  .name            = "flow2d",
  .description     = "u_x + v_y = 0 on [0,1]^2, u = v = 0 on the boundary",
  .dim             = 2,
  .ncomp           = 2,
  .nres            = 1,
  .lower           = {0, 0},
  .upper           = {1, 1},
  .component_names = "u,v",
  .derivatives     = "x,y",
  .interior        = FlowInterior,
  .boundary        = {{AZ_BC_DIRICHLET, FlowWall, FlowZero}, {AZ_BC_DIRICHLET, FlowWall, FlowZero}, {AZ_BC_DIRICHLET, FlowWall, FlowZero}, {AZ_BC_DIRICHLET, FlowWall, FlowZero}},
  .exact_jacobian  = PETSC_TRUE,
  .lift            = FlowLift,
};

/* wall1d, linked in: -u_xx = 1 on [0, 1] with u = g at both walls, g a parameter that the lift reads:
 * inferring g with hard conditions must be refused */
static PetscErrorCode WallInterior(const AzPoint *p, const AzJet *J, PetscScalar r[], PetscScalar drdjet[])
{
  (void)p;
  r[0] = -AzD2(J, 0, 0, 0) - 1;
  if (drdjet) drdjet[AzIdxD2(J, 0, 0, 0)] = -1;
  return PETSC_SUCCESS;
}

static PetscErrorCode WallFace(const AzPoint *p, const AzJet *J, PetscScalar r[], PetscScalar drdjet[])
{
  r[0] = AzU(J, 0) - p->param[0];
  if (drdjet) drdjet[AzIdxU(J, 0)] = 1;
  return PETSC_SUCCESS;
}

static PetscErrorCode WallValue(const AzPoint *p, PetscScalar u[])
{
  u[0] = p->param[0];
  return PETSC_SUCCESS;
}

static PetscErrorCode WallLift(const AzPoint *p, PetscScalar jet[])
{
  for (PetscInt s = 0; s < AZ_JET_NSLOT(p->ncoord); s++) jet[s] = 0;
  jet[0] = p->param[0];
  return PETSC_SUCCESS;
}

static const AzProblemInfo wall1d = {
  .abi            = AZ_PROBLEM_ABI,
  .name           = "wall1d",
  .description    = "-u_xx = 1 on [0,1], u = g at both walls",
  .dim            = 1,
  .ncomp          = 1,
  .lower          = {0},
  .upper          = {1},
  .params         = {{"g", 0.5, "the walls' value"}},
  .derivatives    = "xx",
  .interior       = WallInterior,
  .boundary       = {{AZ_BC_DIRICHLET, WallFace, WallValue}, {AZ_BC_DIRICHLET, WallFace, WallValue}},
  .exact_jacobian = PETSC_TRUE,
  .lift           = WallLift,
};

/* problem, field (AzRunCreateField: -az_divfree gives the stream function's network) and loss with
 * the options set; with a prefix the loss also gets base's options under it */
static PetscErrorCode Build(const char *problem, const char *prefix, Setup *s)
{
  const AzProblemInfo *info;
  AzJetRequest         req;
  PetscReal            lo[AZ_MAX_COORD], hi[AZ_MAX_COORD], x[AZ_MAX_COORD];
  PetscScalar         *jet;

  PetscFunctionBegin;
  if (!strcmp(problem, "flow2d")) PetscCall(AzProblemCreateFromInfo(PETSC_COMM_WORLD, &flow2d, NULL, &s->prob));
  else if (!strcmp(problem, "wall1d")) PetscCall(AzProblemCreateFromInfo(PETSC_COMM_WORLD, &wall1d, NULL, &s->prob));
  else PetscCall(AzProblemLoad(PETSC_COMM_WORLD, problem, &s->prob));
  PetscCall(AzProblemSetFromOptions(s->prob)); /* -az_heat1d_kappa: an inferred parameter's guess */
  PetscCall(AzProblemGetInfo(s->prob, &info));
  PetscCall(AzProblemGetNumCoords(s->prob, &s->ncoord));
  PetscCall(AzProblemGetJetRequest(s->prob, &req));
  PetscCall(AzJetRequestClose(&req));
  s->mask  = req.mask;
  s->ncomp = info->ncomp;
  PetscCall(AzRunCreateField(s->prob, &s->field));
  PetscCall(AzFieldGetJetSize(s->field, &s->ncompN, &s->nslot));
  PetscCall(AzFieldGetNumParameters(s->field, &s->P));
  PetscCall(AzLossCreate(s->prob, s->field, &s->loss));
  if (prefix) PetscCall(AzLossSetOptionsPrefix(s->loss, prefix));
  PetscCall(AzLossSetFromOptions(s->loss));
  PetscCall(AzLossSetUp(s->loss));
  PetscCall(AzFieldGetNumNetworkParameters(s->field, &s->Pnet));
  PetscCall(AzFieldGetNumParameters(s->field, &s->P)); /* with -az_infer, longer than before the set-up */
  /* the field leaves the slots it does not compute NaN */
  PetscCall(AzProblemGetBox(s->prob, lo, hi));
  for (PetscInt a = 0; a < s->ncoord; a++) x[a] = lo[a] + 0.37 * (hi[a] - lo[a]);
  PetscCall(PetscMalloc1(s->ncompN * s->nslot, &jet)); /* the network's outputs: a solved output layer's are many */
  PetscCall(AzFieldEvaluateJets(s->field, 1, x, jet));
  s->netmask = 0;
  for (PetscInt q = 0; q < s->nslot; q++)
    if (!PetscIsNanScalar(jet[q])) s->netmask |= (PetscInt)1 << q;
  PetscCall(PetscFree(jet));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode MakeSetup(const char *problem, const char *prefix, const Opt *opts, Setup *s)
{
  PetscErrorCode ierr;

  memset(s, 0, sizeof *s);
  SetOpts(NULL, base);
  if (prefix) SetOpts(prefix, base);
  SetOpts(NULL, opts);
  ierr = Build(problem, prefix, s);
  ClearOpts(NULL, base);
  if (prefix) ClearOpts(prefix, base);
  ClearOpts(NULL, opts);
  if (ierr) FreeSetup(s);
  return ierr;
}

/* the setup must be refused with a message containing fragment */
static void ExpectRefused(const char *label, const char *problem, const char *prefix, const Opt *opts, const char *fragment)
{
  Setup          s;
  PetscErrorCode ierr;

  last_error[0] = 0;
  PetscPushErrorHandler(CaptureError, NULL);
  ierr = MakeSetup(problem, prefix, opts, &s);
  PetscPopErrorHandler();
  if (!ierr) FreeSetup(&s);
  ck_assert_msg(ierr != 0, "%s: accepted, should be refused", label);
  ck_assert_msg(strstr(last_error, fragment), "%s: message \"%s\" lacks \"%s\"", label, last_error, fragment);
}

static PetscBool InMask(PetscInt mask, PetscInt q)
{
  return (mask >> q) & 1 ? PETSC_TRUE : PETSC_FALSE;
}

/* ==== 1. the chain ================================================================================= */

/* the maps of the setup's chain are expect[0 .. nexpect-1], in order */
static void CheckMaps(const char *label, Setup *s, PetscInt nexpect, const char *const expect[])
{
  PetscInt    nm;
  const char *names[16];

  ck_assert_int_eq(AzLossGetChainMaps(s->loss, &nm, names), 0);
  ck_assert_msg(nm == nexpect, "%s: %d chain maps, expected %d", label, (int)nm, (int)nexpect);
  for (PetscInt i = 0; i < nm; i++) ck_assert_msg(!strcmp(names[i], expect[i]), "%s: map %d is %s, expected %s", label, (int)i, names[i], expect[i]);
}

/* F, T and A at np random points of the box, random network jets in every slot (the slots the problem
 * does not request may hold anything); compared on the requested slots */
static void CheckChain(const char *label, const char *problem, const Opt *opts, PetscInt nexpect, const char *const expect[])
{
  enum { np = 5, nrow = 3 };
  Setup           s;
  unsigned long   st = 12345;
  PetscReal       lo[AZ_MAX_COORD], hi[AZ_MAX_COORD], x[np * AZ_MAX_COORD], h = 1e-6, err, scale;
  PetscScalar    *net, *dnet, *tmp, *sol, *sp, *sm, *dsol, *rows, *rows0, *netrows;
  PetscInt        LN, LS;

  ck_assert_msg(MakeSetup(problem, NULL, opts, &s) == 0, "%s: set-up failed", label);
  CheckMaps(label, &s, nexpect, expect);
  ck_assert_msg(s.ncompN == (nexpect > 0 && !strcmp(expect[0], "stream") ? s.ncomp - 1 : s.ncomp), "%s: the network has %d outputs for %d components", label, (int)s.ncompN, (int)s.ncomp);
  LN = s.ncompN * s.nslot;
  LS = s.ncomp * s.nslot;
  AzProblemGetBox(s.prob, lo, hi);
  for (PetscInt p = 0; p < np; p++)
    for (PetscInt a = 0; a < s.ncoord; a++) x[p * s.ncoord + a] = lo[a] + (hi[a] - lo[a]) * (0.5 + 0.45 * Rand(&st));
  PetscMalloc5(np * LN, &net, np * LN, &dnet, np * LN, &tmp, np * LS, &sol, np * LS, &sp);
  PetscMalloc5(np * LS, &sm, np * LS, &dsol, np * nrow * LS, &rows, np * nrow * LS, &rows0, np * nrow * LN, &netrows);
  for (PetscInt i = 0; i < np * LN; i++) net[i] = Rand(&st), dnet[i] = Rand(&st);

  /* (a) the tangent against central differences of the forward map */
  for (PetscInt i = 0; i < np * LN; i++) tmp[i] = net[i] + h * dnet[i];
  ck_assert_int_eq(AzLossChainForward(s.loss, np, x, tmp, sp), 0);
  for (PetscInt i = 0; i < np * LN; i++) tmp[i] = net[i] - h * dnet[i];
  ck_assert_int_eq(AzLossChainForward(s.loss, np, x, tmp, sm), 0);
  ck_assert_int_eq(AzLossChainForward(s.loss, np, x, net, sol), 0);
  ck_assert_int_eq(AzLossChainTangent(s.loss, np, x, dnet, dsol), 0);
  err = scale = 0;
  for (PetscInt p = 0; p < np; p++)
    for (PetscInt c = 0; c < s.ncomp; c++)
      for (PetscInt q = 0; q < s.nslot; q++) {
        const PetscInt i = p * LS + c * s.nslot + q;
        if (!InMask(s.mask, q)) continue;
        ck_assert_msg(!PetscIsInfOrNanScalar(sol[i]) && !PetscIsInfOrNanScalar(dsol[i]), "%s: point %d component %d slot %d: solution %g, tangent %g", label, (int)p, (int)c, (int)q, (double)sol[i], (double)dsol[i]);
        err   = PetscMax(err, PetscAbsScalar((sp[i] - sm[i]) / (2 * h) - dsol[i]));
        scale = PetscMax(scale, PetscAbsScalar(dsol[i]));
      }
  ck_assert_msg(scale > 0 && err <= 1e-6 * scale, "%s: tangent differs from central differences by %g (scale %g)", label, (double)err, (double)scale);

  /* (b) the adjoint is the tangent's transpose: nrow rows per point */
  for (PetscInt p = 0; p < np; p++)
    for (PetscInt k = 0; k < nrow; k++)
      for (PetscInt i = 0; i < LS; i++) rows[(p * nrow + k) * LS + i] = InMask(s.mask, i % s.nslot) ? Rand(&st) : 0;
  PetscArraycpy(rows0, rows, np * nrow * LS);
  for (PetscInt i = 0; i < np * nrow * LN; i++) netrows[i] = NAN; /* every slot the network computes must be written */
  ck_assert_int_eq(AzLossChainAdjoint(s.loss, np, x, nrow, rows, netrows), 0);
  for (PetscInt k = 0; k < nrow; k++) {
    PetscScalar lhs = 0, rhs = 0;
    PetscReal   mag = 0;
    for (PetscInt p = 0; p < np; p++) {
      for (PetscInt i = 0; i < LS; i++)
        if (InMask(s.mask, i % s.nslot)) {
          lhs += rows0[(p * nrow + k) * LS + i] * dsol[p * LS + i];
          mag += PetscAbsScalar(rows0[(p * nrow + k) * LS + i] * dsol[p * LS + i]);
        }
      for (PetscInt i = 0; i < LN; i++)
        if (InMask(s.netmask, i % s.nslot)) {
          rhs += netrows[(p * nrow + k) * LN + i] * dnet[p * LN + i];
          mag += PetscAbsScalar(netrows[(p * nrow + k) * LN + i] * dnet[p * LN + i]);
        }
    }
    ck_assert_msg(!PetscIsInfOrNanScalar(rhs), "%s: row %d: the adjoint left a network slot unwritten (NaN)", label, (int)k);
    ck_assert_msg(PetscAbsScalar(lhs - rhs) <= 1e-12 * mag, "%s: row %d: <rows, T dnet> = %.16g, <A rows, dnet> = %.16g", label, (int)k, (double)lhs, (double)rhs);
  }

  /* in place (net == sol), where the network has the solution's components; refused otherwise */
  if (s.ncompN == s.ncomp) {
    PetscArraycpy(tmp, net, np * LN);
    ck_assert_int_eq(AzLossChainForward(s.loss, np, x, tmp, tmp), 0);
    for (PetscInt i = 0; i < np * LS; i++)
      if (InMask(s.mask, i % s.nslot)) ck_assert_msg(PetscAbsScalar(tmp[i] - sol[i]) <= 1e-15 * PetscMax(1, PetscAbsScalar(sol[i])), "%s: entry %d in place %.16g, out of place %.16g", label, (int)i, (double)tmp[i], (double)sol[i]);
  } else {
    PetscErrorCode ierr;
    last_error[0] = 0;
    PetscPushErrorHandler(CaptureError, NULL);
    ierr = AzLossChainForward(s.loss, np, x, net, net);
    PetscPopErrorHandler();
    ck_assert_msg(ierr && strstr(last_error, "net and sol may coincide only"), "%s: in place with %d network components for %d: %s", label, (int)s.ncompN, (int)s.ncomp, last_error);
  }

  /* (c) the forward map of the network's own jets is the report's solution */
  ck_assert_int_eq(AzFieldEvaluateJets(s.field, np, x, net), 0);
  ck_assert_int_eq(AzLossChainForward(s.loss, np, x, net, sp), 0);
  ck_assert_int_eq(AzLossEvaluateSolution(s.loss, np, x, sm), 0);
  for (PetscInt p = 0; p < np; p++)
    for (PetscInt i = 0; i < LS; i++)
      if (InMask(s.mask, i % s.nslot))
        ck_assert_msg(PetscAbsScalar(sp[p * LS + i] - sm[p * LS + i]) <= 1e-14 * PetscMax(1, PetscAbsScalar(sm[p * LS + i])), "%s: point %d, entry %d: chain of the network's jets %.16g, AzLossEvaluateSolution %.16g", label, (int)p, (int)i, (double)sp[p * LS + i], (double)sm[p * LS + i]);
  PetscFree5(net, dnet, tmp, sol, sp);
  PetscFree5(sm, dsol, rows, rows0, netrows);
  FreeSetup(&s);
}

START_TEST(test_chain_combinations)
{
  const char *const none[] = {NULL}, *stream[] = {"stream"}, *transform[] = {"transform"}, *softplus[] = {"softplus"}, *projection[] = {"projection"}, *both[] = {"transform", "projection"}, *bounds[] = {"bounds"};
  const Opt         o_bounds[] = {{"-az_bounds", "hard"}, {NULL, NULL}};
  const Opt         o_none[] = {{NULL, NULL}};
  const Opt         o_stream[] = {{"-az_divfree", "1"}, {NULL, NULL}};
  const Opt         o_hard[] = {{"-az_constraint", "hard"}, {NULL, NULL}};
  const Opt         o_face[] = {{"-az_constraint_bc_x0", "hard"}, {NULL, NULL}};
  const Opt         o_boundary[] = {{"-az_constraint_boundary", "hard"}, {NULL, NULL}};
  const Opt         o_initial[] = {{"-az_constraint_initial", "hard"}, {NULL, NULL}};
  const Opt         o_softplus[] = {{"-az_positivity", "hard"}, {NULL, NULL}};
  const Opt         o_project[] = {{"-az_conservation", "project"}, {"-az_time_slices", "5"}, {NULL, NULL}};
  const Opt         o_posthoc[] = {{"-az_conservation", "posthoc"}, {NULL, NULL}};
  const Opt         o_hard_project[] = {{"-az_constraint", "hard"}, {"-az_conservation", "project"}, {"-az_time_slices", "5"}, {NULL, NULL}};
  const Opt         o_hard_posthoc[] = {{"-az_constraint", "hard"}, {"-az_conservation", "posthoc"}, {NULL, NULL}};
  const Opt         o_face_project[] = {{"-az_constraint_bc_x1", "hard"}, {"-az_conservation", "project"}, {"-az_time_slices", "5"}, {NULL, NULL}};
  const Opt         o_softplus_penalties[] = {{"-az_positivity", "hard"}, {"-az_conservation", "soft"}, {"-az_time_slices", "5"}, {NULL, NULL}};

  CheckChain("heat1d, no map", "heat1d", o_none, 0, none);
  CheckChain("euler2d -az_divfree", "euler2d", o_stream, 1, stream);
  CheckChain("flow2d -az_divfree", "flow2d", o_stream, 1, stream);
  CheckChain("flow2d -az_constraint_boundary hard", "flow2d", o_boundary, 1, transform);
  CheckChain("heat1d -az_constraint hard", "heat1d", o_hard, 1, transform);
  CheckChain("heat1d -az_constraint_bc_x0 hard", "heat1d", o_face, 1, transform);
  CheckChain("burgers1d -az_constraint hard", "burgers1d", o_hard, 1, transform);
  CheckChain("advection1d -az_constraint hard (initial only)", "advection1d", o_hard, 1, transform);
  CheckChain("heat1d -az_constraint_initial hard", "heat1d", o_initial, 1, transform);
  CheckChain("advection1d -az_positivity hard", "advection1d", o_softplus, 1, softplus);
  CheckChain("allen_cahn1d -az_bounds hard", "allen_cahn1d", o_bounds, 1, bounds);
  CheckChain("advection1d -az_positivity hard, conservation penalty", "advection1d", o_softplus_penalties, 1, softplus);
  CheckChain("advection1d -az_conservation project", "advection1d", o_project, 1, projection);
  CheckChain("advection1d -az_conservation posthoc", "advection1d", o_posthoc, 1, projection);
  CheckChain("burgers1d -az_conservation posthoc", "burgers1d", o_posthoc, 1, projection);
  CheckChain("burgers1d hard + project", "burgers1d", o_hard_project, 2, both);
  CheckChain("burgers1d hard + posthoc", "burgers1d", o_hard_posthoc, 2, both);
  CheckChain("burgers1d x1 hard + project", "burgers1d", o_face_project, 2, both);
  CheckChain("advection1d hard initial + project", "advection1d", o_hard_project, 2, both);
}
END_TEST

/* the combinations the loss refuses, each with a message that says why */
START_TEST(test_chain_refusals)
{
  const Opt softplus_transform[] = {{"-az_positivity", "hard"}, {"-az_constraint", "hard"}, {NULL, NULL}};
  const Opt softplus_project[]   = {{"-az_positivity", "hard"}, {"-az_conservation", "project"}, {NULL, NULL}};
  const Opt softplus_posthoc[]   = {{"-az_positivity", "hard"}, {"-az_conservation", "posthoc"}, {NULL, NULL}};
  const Opt stream_transform[]   = {{"-az_divfree", "1"}, {"-az_constraint_boundary", "hard"}, {NULL, NULL}};
  const Opt stream_face[]        = {{"-az_divfree", "1"}, {"-az_constraint_bc_y1", "hard"}, {NULL, NULL}};
  const Opt project_nolaw[]      = {{"-az_conservation", "project"}, {NULL, NULL}};
  const Opt softplus_nopos[]     = {{"-az_positivity", "hard"}, {NULL, NULL}};
  const Opt bounds_transform[]   = {{"-az_bounds", "hard"}, {"-az_constraint", "hard"}, {NULL, NULL}};
  const Opt bounds_project[]     = {{"-az_bounds", "hard"}, {"-az_conservation", "project"}, {NULL, NULL}};
  const Opt bounds_hard[]        = {{"-az_bounds", "hard"}, {NULL, NULL}};
  const Opt bounds_soft[]        = {{"-az_bounds", "auglag"}, {NULL, NULL}};

  PetscLogDouble before = 0, after = 0;
  PetscBool      tracked = PETSC_FALSE;

  /* with PETSc's allocation tracking on (-malloc_debug, as make check-asan runs it), two rounds of
   * refusals after a warm-up must return every PETSc allocation (a refusal half-way through the
   * set-up leaked the chain, a map or the transform) */
  PetscMallocGetDebug(&tracked, NULL, NULL);
  for (int round = 0; round < 3; round++) {
    if (round == 1) PetscMallocGetCurrentUsage(&before);
    ExpectRefused("softplus + transform", "advection1d", NULL, softplus_transform, "cannot both be exact");
    ExpectRefused("softplus + projection", "advection1d", NULL, softplus_project, "cannot both be exact (the projection adds a shift");
    ExpectRefused("softplus + posthoc projection", "advection1d", NULL, softplus_posthoc, "cannot both be exact (the projection adds a shift");
    ExpectRefused("stream + transform", "flow2d", NULL, stream_transform, "-az_divfree (a stream function) does not combine");
    ExpectRefused("stream + one hard face", "flow2d", NULL, stream_face, "-az_divfree (a stream function) does not combine");
    ExpectRefused("transform without a lift", "euler2d", NULL, stream_face, "gives no lift");
    ExpectRefused("projection without a law", "heat1d", NULL, project_nolaw, "declares no conservation law");
    ExpectRefused("softplus without a positive component", "heat1d", NULL, softplus_nopos, "declares no positive component");
    ExpectRefused("bounds + transform", "allen_cahn1d", NULL, bounds_transform, "-az_bounds hard (u = a + (b - a) sigmoid(N)) and hard boundary or initial conditions");
    ExpectRefused("bounds without a bounded component", "advection1d", NULL, bounds_project, "-az_bounds hard: problem advection1d declares no bounded component");
    ExpectRefused("bounds without a bounded component", "heat1d", NULL, bounds_hard, "-az_bounds hard: problem heat1d declares no bounded component");
    ExpectRefused("bounds penalty without a bounded component", "heat1d", NULL, bounds_soft, "-az_bounds auglag: problem heat1d declares no bounded component");
  }
  PetscMallocGetCurrentUsage(&after);
  if (tracked) ck_assert_msg(after <= before, "two rounds of refused set-ups kept %g bytes of PETSc allocations", (double)(after - before));
}
END_TEST

/* ==== 2. the terms ================================================================================== */

/* an observation file for heat1d (x, t, u): nobs rows, a header */
#define NOBS 7
static PetscReal obs[NOBS][3];
static char      datadir[PETSC_MAX_PATH_LEN], datafile[PETSC_MAX_PATH_LEN];

static void WriteData(void)
{
  for (int i = 0; i < NOBS; i++) {
    obs[i][0] = 0.05 + 0.9 * ((i * 0.61803398875) - (int)(i * 0.61803398875));
    obs[i][1] = 0.05 + 0.9 * ((i * 0.41421356237) - (int)(i * 0.41421356237));
    obs[i][2] = sin(M_PI * obs[i][0]) * exp(-obs[i][1]) + 0.1 * i;
  }
  WriteRowsCSV("loss", "x,t,u", NOBS, 3, &obs[0][0], datadir, datafile);
}

/* also the terms' teardown, so that a failed assertion leaves no file behind */
static void RemoveData(void)
{
  RemoveRowsCSV(datadir, datafile);
}

static PetscReal AllSum(PetscReal v)
{
  PetscReal g;
  MPI_Allreduce(&v, &g, 1, MPIU_REAL, MPI_SUM, PETSC_COMM_WORLD);
  return g;
}

static PetscReal AllMax(PetscReal v)
{
  PetscReal g;
  MPI_Allreduce(&v, &g, 1, MPIU_REAL, MPI_MAX, PETSC_COMM_WORLD);
  return g;
}

static PetscScalar U(Setup *s, const PetscReal x[], PetscInt c)
{
  PetscScalar jet[AZ_MAX_COMP * AZ_JET_MAX_NSLOT];
  AzLossEvaluateSolution(s->loss, 1, x, jet);
  return jet[c * s->nslot];
}

/* Q(t) = ∫ u(x, t) dx over the interval by composite 5-point Gauss–Legendre, 200 panels: a rule
 * independent of the loss's quadrature */
static PetscReal Mass(Setup *s, PetscReal t)
{
  PetscReal lo[AZ_MAX_COORD], hi[AZ_MAX_COORD];
  const PetscReal gx[5] = {0, -0.5384693101056831, 0.5384693101056831, -0.9061798459386640, 0.9061798459386640};
  const PetscReal gw[5] = {0.5688888888888889, 0.4786286704993665, 0.4786286704993665, 0.2369268850561891, 0.2369268850561891};
  const PetscInt  npan  = 200;
  PetscReal       Q     = 0, h;
  AzProblemGetBox(s->prob, lo, hi);
  h = (hi[0] - lo[0]) / npan;
  for (PetscInt k = 0; k < npan; k++)
    for (PetscInt i = 0; i < 5; i++) {
      const PetscReal x[2] = {lo[0] + h * (k + 0.5 + 0.5 * gx[i]), t};
      Q += 0.5 * h * gw[i] * PetscRealPart(U(s, x, 0));
    }
  return Q;
}

/* Each term's value, mean(r²), recomputed from the solution the report sees (AzLossEvaluateSolution):
 * the plugin's residuals at the term's points for the PDE, faces and initial condition, min(u, 0) for
 * positivity, u − u_obs at the observations of the data file, Q(t) − M at the slice times (t0 and
 * the midpoints of S slices) for a 1-D problem's one law. Multipliers must still be zero. */
static void CheckTermValues(const char *label, Setup *s, const PetscReal term[], PetscInt slices)
{
  PetscInt nt;

  AzLossGetNumTerms(s->loss, &nt);
  for (PetscInt k = 0; k < nt; k++) {
    const char *name;
    PetscReal   sum = 0, byhand;
    PetscInt    cond = -100, n = 0, nres = 1, neg = 0;
    AzLossGetTermName(s->loss, k, &name);
    if (!strcmp(name, "pde")) cond = AZ_COND_INTERIOR;
    else if (!strcmp(name, "initial")) cond = AZ_COND_INITIAL;
    else if (!strncmp(name, "bc_", 3)) cond = 2 * (name[3] - 'x') + (name[4] - '0');
    if (cond != -100 || !strcmp(name, "positive") || !strcmp(name, "bounds")) {
      const PetscBool bounds = (PetscBool)!strcmp(name, "bounds");
      Vec                xv;
      const PetscScalar *xa;
      PetscInt           nloc;
      if (cond != -100) AzProblemGetNumResiduals(s->prob, cond, &nres);
      else nres = bounds ? 2 : 1; /* the problems here have one positive or one bounded component in [-1, 1] */
      AzLossGetTermPoints(s->loss, k, &xv);
      VecGetSize(xv, &n);
      VecGetLocalSize(xv, &nloc);
      n /= s->ncoord;
      VecGetArrayRead(xv, &xa);
      for (PetscInt p = 0; p < nloc / s->ncoord; p++) {
        const PetscReal *x = (const PetscReal *)xa + p * s->ncoord;
        PetscScalar      jet[AZ_MAX_COMP * AZ_JET_MAX_NSLOT], r[AZ_MAX_COMP * 4];
        AzLossEvaluateSolution(s->loss, 1, x, jet);
        if (cond != -100) {
          AzProblemEvaluateResidual(s->prob, cond, x, jet, r, NULL);
          for (PetscInt i = 0; i < nres; i++) sum += PetscRealPart(r[i] * r[i]);
        } else if (bounds) { /* min(u + 1, 0)² + max(u − 1, 0)² */
          const PetscReal u = PetscRealPart(jet[0]);
          if (u < -1) sum += (u + 1) * (u + 1), neg++;
          if (u > 1) sum += (u - 1) * (u - 1), neg++;
        } else if (PetscRealPart(jet[0]) < 0) {
          sum += PetscRealPart(jet[0] * jet[0]);
          neg++;
        }
      }
      VecRestoreArrayRead(xv, &xa);
      if (cond == -100) { /* the penalty active at some points, not at others: its kink is crossed */
        const PetscReal nn = AllSum((PetscReal)neg);
        ck_assert_msg(nn > 0 && nn < n, "%s: u out of its bounds at %g of %d points: the test needs points inside and outside", label, (double)nn, (int)n);
      }
      byhand = AllSum(sum) / (n * nres);
    } else if (!strcmp(name, "data")) {
      for (int i = 0; i < NOBS; i++) {
        const PetscReal d = PetscRealPart(U(s, obs[i], 0)) - obs[i][2];
        sum += d * d;
      }
      byhand = sum / NOBS;
    } else if (!strcmp(name, "conservation")) {
      const AzProblemInfo *info;
      PetscReal            tq[2], Q[2], M = NAN;
      AzProblemGetInfo(s->prob, &info);
      ck_assert_int_eq(AzLossConservationSeries(s->loss, 0, 2, tq, Q, &M), 0);
      ck_assert_msg(!PetscIsNanReal(M), "%s: the law has no target", label);
      /* the slices are the distinct times of the collocation points: t0 only with an initial term */
      const PetscInt g0 = LossTermIndex(s->loss, "initial") >= 0 ? 0 : 1;
      for (PetscInt g = g0; g <= slices; g++) {
        const PetscReal r = Mass(s, g == 0 ? info->t0 : info->t0 + (info->t1 - info->t0) * (g - 0.5) / slices) - M;
        sum += r * r;
      }
      byhand = sum / (slices + 1 - g0);
    } else if (!strcmp(name, "interface")) {
      /* -az_moe_blend interface: at a point on cut i (x_0 = lo + (hi − lo) i/E, between experts i−1 and i),
       * the jumps of u and u_x (the problems here are second order in x) of the two experts' solutions
       * u_e = Σ_k w_{e,c,k} φ_{c,k}, from their solved weights and the network's basis itself */
      const PetscInt     K = s->ncompN / s->ncomp, sl[2] = {0, AzJetSlotD1(s->ncoord, 0)};
      const PetscScalar *w;
      PetscInt           R, E, nloc, hits[AZ_HP_MAX_EXPERTS] = {0};
      PetscReal          lo[AZ_MAX_COORD], hi[AZ_MAX_COORD];
      Vec                xv;
      const PetscScalar *xa;
      PetscScalar       *phi;
      AzLossHardPDEInfo(s->loss, NULL, NULL, &R, &w);
      E    = R / (K * s->ncomp);
      nres = 2 * s->ncomp;
      AzProblemGetBox(s->prob, lo, hi);
      AzLossGetTermPoints(s->loss, k, &xv);
      VecGetSize(xv, &n);
      VecGetLocalSize(xv, &nloc);
      n /= s->ncoord;
      PetscMalloc1((size_t)s->ncompN * s->nslot, &phi);
      VecGetArrayRead(xv, &xa);
      for (PetscInt p = 0; p < nloc / s->ncoord; p++) {
        const PetscReal *x = (const PetscReal *)xa + p * s->ncoord;
        PetscInt         i = -1;
        for (PetscInt c = 1; c < E; c++)
          if (x[0] == lo[0] + (hi[0] - lo[0]) * c / E) i = c;
        ck_assert_msg(i > 0, "%s: interface point %d at x = %.17g, on none of the %d cuts", label, (int)p, (double)x[0], (int)(E - 1));
        hits[i]++;
        AzFieldEvaluateJets(s->field, 1, x, phi);
        for (PetscInt c = 0; c < s->ncomp; c++)
          for (PetscInt j = 0; j < 2; j++) {
            PetscScalar jump = 0;
            for (PetscInt q = 0; q < K; q++) jump += (w[(i - 1) * R / E + c * K + q] - w[i * R / E + c * K + q]) * phi[(c * K + q) * s->nslot + sl[j]];
            sum += PetscRealPart(jump * jump);
          }
      }
      VecRestoreArrayRead(xv, &xa);
      PetscFree(phi);
      for (PetscInt c = 1; c < E; c++) ck_assert_msg(AllSum((PetscReal)hits[c]) > 0, "%s: no interface point on cut %d", label, (int)c);
      byhand = AllSum(sum) / (n * nres);
    } else {
      ck_abort_msg("%s: no hand computation for term %s", label, name);
      return;
    }
    ck_assert_msg(byhand > 0 && PetscAbsReal(term[k] - byhand) <= 1e-9 * byhand, "%s: term %s = %.15g, by hand %.15g", label, name, (double)term[k], (double)byhand);
  }
}

static void RandomVec(Vec v, unsigned long *st)
{
  PetscScalar *a;
  PetscInt     n;
  VecGetLocalSize(v, &n);
  VecGetArray(v, &a);
  for (PetscInt i = 0; i < n; i++) a[i] = Rand(st);
  VecRestoreArray(v, &a);
}

static PetscReal MaxDiff(PetscInt n, const PetscScalar a[], const PetscScalar b[], PetscReal *scale)
{
  PetscReal d = 0;
  *scale      = 0;
  for (PetscInt i = 0; i < n; i++) {
    d      = PetscMax(d, PetscAbsScalar(a[i] - b[i]));
    *scale = PetscMax(*scale, PetscAbsScalar(a[i]));
  }
  return d;
}

/* ∇loss against central differences along 3 random directions; the Gauss–Newton pieces against the
 * explicit rows J of this rank (sums over the ranks): ‖ρ‖² = loss, 2Jᵀρ = ∇loss, Jᵀρ by AzLossGNGradient
 * and AzLossNormalEquations, JᵀJ v by AzLossGNMult and from the dense JᵀJ, and J v against central
 * differences of ρ (AzLossResidualJacobian at θ ± h v) */
static void CheckDerivatives(const char *label, Setup *s)
{
  const PetscInt P = s->P;
  unsigned long  st = 777;
  Vec            theta, t0, g, v, y;
  PetscReal      f, fp, fm, val, d, scale;
  PetscInt       nloc;
  PetscScalar   *rho, *J, *rp, *rm, *Jv, *tmp, *tmp2, *JtJ, *Jtr, *JtJd;
  const PetscScalar *ga, *va, *ya;

  AzFieldGetParameters(s->field, &theta);
  VecDuplicate(theta, &t0);
  VecDuplicate(theta, &g);
  VecDuplicate(theta, &v);
  VecDuplicate(theta, &y);
  VecCopy(theta, t0);
  ck_assert_int_eq(AzLossEvaluate(s->loss, &f, NULL, g), 0);
  ck_assert_msg(f > 0 && !PetscIsInfOrNanReal(f), "%s: loss %g", label, (double)f);

  /* (a) the gradient against central differences of the loss */
  for (int dir = 0; dir < 3; dir++) {
    const PetscReal h = 1e-5;
    PetscScalar     dot;
    RandomVec(v, &st);
    VecWAXPY(theta, h, v, t0);
    AzLossEvaluate(s->loss, &fp, NULL, NULL);
    VecWAXPY(theta, -h, v, t0);
    AzLossEvaluate(s->loss, &fm, NULL, NULL);
    VecCopy(t0, theta);
    VecDot(g, v, &dot);
    ck_assert_msg(PetscAbsReal((fp - fm) / (2 * h) - PetscRealPart(dot)) <= 1e-6 * PetscAbsScalar(dot) + 1e-12, "%s: direction %d: ∇loss·v %.12g, central differences %.12g", label, dir, (double)PetscRealPart(dot), (double)((fp - fm) / (2 * h)));
  }

  /* (b) the explicit rows */
  ck_assert_int_eq(AzLossGetLocalResidualSize(s->loss, &nloc), 0);
  PetscMalloc5((size_t)PetscMax(nloc, 1), &rho, (size_t)PetscMax(nloc, 1) * P, &J, (size_t)PetscMax(nloc, 1), &rp, (size_t)PetscMax(nloc, 1), &rm, (size_t)PetscMax(nloc, 1), &Jv);
  PetscMalloc5(P, &tmp, P, &tmp2, (size_t)P * P, &JtJ, P, &Jtr, (size_t)P * P, &JtJd);
  ck_assert_int_eq(AzLossResidualJacobian(s->loss, rho, J), 0);
  {
    PetscReal ss = 0;
    for (PetscInt i = 0; i < nloc; i++) ss += PetscRealPart(rho[i] * rho[i]);
    ss = AllSum(ss);
    ck_assert_msg(PetscAbsReal(ss - f) <= 1e-12 * f, "%s: ‖ρ‖² %.15g, loss %.15g", label, (double)ss, (double)f);
  }
  /* Jᵀρ (explicit, summed over the ranks) against ∇loss/2 */
  for (PetscInt j = 0; j < P; j++) tmp[j] = 0;
  for (PetscInt i = 0; i < nloc; i++)
    for (PetscInt j = 0; j < P; j++) tmp[j] += J[(size_t)i * P + j] * rho[i];
  MPI_Allreduce(MPI_IN_PLACE, tmp, (PetscMPIInt)P, MPIU_SCALAR, MPI_SUM, PETSC_COMM_WORLD);
  VecGetArrayRead(g, &ga);
  for (PetscInt j = 0; j < P; j++) tmp2[j] = ga[j] / 2;
  VecRestoreArrayRead(g, &ga);
  d = MaxDiff(P, tmp2, tmp, &scale);
  ck_assert_msg(scale > 0 && d <= 1e-11 * scale, "%s: ∇loss/2 and Jᵀρ differ by %g (scale %g)", label, (double)d, (double)scale);
  /* matrix-free: Jᵀρ and JᵀJ v */
  ck_assert_int_eq(AzLossLinearize(s->loss, &val), 0);
  ck_assert_msg(PetscAbsReal(val - f) <= 1e-12 * f, "%s: AzLossLinearize %.15g, loss %.15g", label, (double)val, (double)f);
  ck_assert_int_eq(AzLossGNGradient(s->loss, y), 0);
  VecGetArrayRead(y, &ya);
  d = MaxDiff(P, tmp, ya, &scale);
  VecRestoreArrayRead(y, &ya);
  ck_assert_msg(d <= 1e-11 * scale, "%s: AzLossGNGradient differs from the explicit Jᵀρ by %g (scale %g)", label, (double)d, (double)scale);
  RandomVec(v, &st);
  VecGetArrayRead(v, &va);
  for (PetscInt i = 0; i < nloc; i++) {
    Jv[i] = 0;
    for (PetscInt j = 0; j < P; j++) Jv[i] += J[(size_t)i * P + j] * va[j];
  }
  VecRestoreArrayRead(v, &va);
  for (PetscInt j = 0; j < P; j++) tmp2[j] = 0;
  for (PetscInt i = 0; i < nloc; i++)
    for (PetscInt j = 0; j < P; j++) tmp2[j] += J[(size_t)i * P + j] * Jv[i];
  MPI_Allreduce(MPI_IN_PLACE, tmp2, (PetscMPIInt)P, MPIU_SCALAR, MPI_SUM, PETSC_COMM_WORLD);
  ck_assert_int_eq(AzLossGNMult(s->loss, v, y), 0);
  VecGetArrayRead(y, &ya);
  d = MaxDiff(P, tmp2, ya, &scale);
  VecRestoreArrayRead(y, &ya);
  ck_assert_msg(scale > 0 && d <= 1e-11 * scale, "%s: AzLossGNMult differs from the explicit Jᵀ(J v) by %g (scale %g)", label, (double)d, (double)scale);
  /* dense: JᵀJ, Jᵀρ and ‖ρ‖²; JᵀJ against the explicit rows, and its product with v against AzLossGNMult */
  ck_assert_int_eq(AzLossNormalEquations(s->loss, JtJ, Jtr, &val, NULL), 0);
  ck_assert_msg(PetscAbsReal(val - f) <= 1e-12 * f, "%s: AzLossNormalEquations value %.15g, loss %.15g", label, (double)val, (double)f);
  d = MaxDiff(P, tmp, Jtr, &scale);
  ck_assert_msg(d <= 1e-11 * scale, "%s: dense Jᵀρ differs from the explicit one by %g (scale %g)", label, (double)d, (double)scale);
  for (PetscInt a = 0; a < P; a++)
    for (PetscInt b = 0; b < P; b++) {
      PetscScalar sab = 0;
      for (PetscInt i = 0; i < nloc; i++) sab += J[(size_t)i * P + a] * J[(size_t)i * P + b];
      JtJd[a + b * P] = sab;
    }
  MPI_Allreduce(MPI_IN_PLACE, JtJd, (PetscMPIInt)(P * P), MPIU_SCALAR, MPI_SUM, PETSC_COMM_WORLD);
  d = MaxDiff(P * P, JtJd, JtJ, &scale);
  ck_assert_msg(d <= 1e-11 * scale, "%s: dense JᵀJ differs from the explicit rows' by %g (scale %g)", label, (double)d, (double)scale);
  VecGetArrayRead(v, &va);
  for (PetscInt a = 0; a < P; a++) {
    tmp[a] = 0;
    for (PetscInt b = 0; b < P; b++) tmp[a] += JtJ[a + b * P] * va[b];
  }
  VecRestoreArrayRead(v, &va);
  VecGetArrayRead(y, &ya);
  d = MaxDiff(P, tmp, ya, &scale);
  VecRestoreArrayRead(y, &ya);
  ck_assert_msg(d <= 1e-11 * scale, "%s: dense JᵀJ v differs from AzLossGNMult by %g (scale %g)", label, (double)d, (double)scale);

  /* J v against central differences of ρ */
  {
    const PetscReal h = 1e-5;
    PetscReal       e = 0, sc = 0;
    VecWAXPY(theta, h, v, t0);
    ck_assert_int_eq(AzLossResidualJacobian(s->loss, rp, NULL), 0);
    VecWAXPY(theta, -h, v, t0);
    ck_assert_int_eq(AzLossResidualJacobian(s->loss, rm, NULL), 0);
    VecCopy(t0, theta);
    for (PetscInt i = 0; i < nloc; i++) {
      e  = PetscMax(e, PetscAbsScalar((rp[i] - rm[i]) / (2 * h) - Jv[i]));
      sc = PetscMax(sc, PetscAbsScalar(Jv[i]));
    }
    e  = AllMax(e);
    sc = AllMax(sc);
    ck_assert_msg(sc > 0 && e <= 1e-6 * sc, "%s: J v differs from central differences of ρ by %g (scale %g)", label, (double)e, (double)sc);
  }
  PetscFree5(rho, J, rp, rm, Jv);
  PetscFree5(tmp, tmp2, JtJ, Jtr, JtJd);
  VecDestroy(&t0);
  VecDestroy(&g);
  VecDestroy(&v);
  VecDestroy(&y);
}

/* a loss with the given options: the terms named in expect (in order), their values by hand; then,
 * for the terms named in auglag, the multipliers stepped (AzLossUpdateConstraints at the iteration
 * -az_auglag_every, here 2) and each such term changed by them; then the derivatives. shift moves the
 * network's output bias. */
static void CheckTerms(const char *label, const char *problem, const Opt *opts, PetscReal shift, PetscInt slices, const char *const expect[], const char *const auglag[])
{
  Setup     s;
  PetscReal f, before[AZ_MAX_TERMS], after[AZ_MAX_TERMS];
  PetscInt  nt, ne = 0;

  ck_assert_msg(MakeSetup(problem, NULL, opts, &s) == 0, "%s: set-up failed", label);
  AzLossGetNumTerms(s.loss, &nt);
  while (expect[ne]) ne++;
  ck_assert_msg(nt == ne, "%s: %d terms, expected %d", label, (int)nt, (int)ne);
  for (PetscInt k = 0; k < nt; k++) {
    const char *name;
    AzLossGetTermName(s.loss, k, &name);
    ck_assert_msg(!strcmp(name, expect[k]), "%s: term %d is %s, expected %s", label, (int)k, name, expect[k]);
  }
  if (shift != 0) {
    Vec          theta;
    PetscScalar *th;
    AzFieldGetParameters(s.field, &theta);
    VecGetArray(theta, &th);
    for (PetscInt c = 0; c < s.ncompN; c++) th[s.Pnet - s.ncompN + c] += shift;
    VecRestoreArray(theta, &th);
  }
  ck_assert_int_eq(AzLossEvaluate(s.loss, &f, before, NULL), 0);
  CheckTermValues(label, &s, before, slices);
  if (auglag && auglag[0]) {
    ck_assert_int_eq(AzLossUpdateConstraints(s.loss, 2, 10), 0);
    ck_assert_int_eq(AzLossEvaluate(s.loss, &f, after, NULL), 0);
    for (const char *const *a = auglag; *a; a++) {
      const PetscInt k = LossTermIndex(s.loss, *a);
      ck_assert_msg(k >= 0, "%s: no term %s", label, *a);
      ck_assert_msg(PetscAbsReal(after[k] - before[k]) > 1e-3 * before[k], "%s: term %s %.15g before the multiplier update, %.15g after: the multipliers are zero", label, *a, (double)before[k], (double)after[k]);
    }
  }
  CheckDerivatives(label, &s);
  FreeSetup(&s);
}

START_TEST(test_terms_conditions_data)
{
  const char *const t_heat[] = {"pde", "bc_x0", "bc_x1", "initial", "data", NULL};
  const char *const t_burgers[] = {"pde", "bc_x0", "bc_x1", "initial", NULL};
  const char *const a_burgers[] = {"bc_x0", "bc_x1", "initial", NULL};
  const Opt         o_auglag[] = {{"-az_constraint", "auglag"}, {"-az_auglag_every", "2"}, {NULL, NULL}};

  WriteData();
  {
    const Opt o_data[] = {{"-az_data", datafile}, {NULL, NULL}};
    CheckTerms("heat1d: PDE, faces, initial condition, data", "heat1d", o_data, 0, 0, t_heat, NULL);
  }
  RemoveData();
  CheckTerms("burgers1d: faces and initial condition by multipliers", "burgers1d", o_auglag, 0, 0, t_burgers, a_burgers);
}
END_TEST

/* Inverse problems: the inferred parameters' entries of θ in every derivative check, plus the loss's
 * derivative along each of them alone against central differences (their share of a random direction
 * could hide an error); the parameters follow θ (p = s, exp(s), a sigmoid onto the bounds) */
static void CheckInferred(const char *label, const char *problem, const Opt *opts, PetscInt nexpect, const PetscReal expect[])
{
  Setup              s;
  Vec                theta, g;
  PetscReal          f, fp, fm, vals[AZ_MAX_PARAMS];
  PetscInt           n;
  const char *const *names;
  PetscScalar       *th;
  const PetscScalar *ga;

  ck_assert_msg(MakeSetup(problem, NULL, opts, &s) == 0, "%s: set-up failed", label);
  ck_assert_int_eq(AzLossGetInferred(s.loss, &n, &names, vals), 0);
  ck_assert_msg(n == nexpect && s.P == s.Pnet + n, "%s: %d inferred parameters (θ %d = %d + ?), expected %d", label, (int)n, (int)s.P, (int)s.Pnet, (int)nexpect);
  for (PetscInt k = 0; k < n; k++) ck_assert_msg(PetscAbsReal(vals[k] - expect[k]) <= 1e-14 * PetscAbsReal(expect[k]), "%s: %s starts at %.17g, expected %.17g", label, names[k], (double)vals[k], (double)expect[k]);
  AzFieldGetParameters(s.field, &theta);
  VecDuplicate(theta, &g);
  ck_assert_int_eq(AzLossEvaluate(s.loss, &f, NULL, g), 0);
  for (PetscInt k = 0; k < n; k++) {
    const PetscInt  j = s.Pnet + k;
    const PetscReal h = 1e-6;
    PetscScalar     s0;
    PetscReal       gk, moved;
    VecGetArray(theta, &th);
    s0    = th[j];
    th[j] = s0 + h;
    VecRestoreArray(theta, &th);
    AzLossEvaluate(s.loss, &fp, NULL, NULL);
    AzLossGetInferred(s.loss, &n, &names, vals);
    moved = vals[k];
    VecGetArray(theta, &th);
    th[j] = s0 - h;
    VecRestoreArray(theta, &th);
    AzLossEvaluate(s.loss, &fm, NULL, NULL);
    VecGetArray(theta, &th);
    th[j] = s0;
    VecRestoreArray(theta, &th);
    VecGetArrayRead(g, &ga);
    gk = PetscRealPart(ga[j]);
    VecRestoreArrayRead(g, &ga);
    ck_assert_msg(moved != expect[k], "%s: %s did not follow θ", label, names[k]);
    ck_assert_msg(PetscAbsReal(gk) > 1e-8, "%s: ∂loss/∂%s is %g: the test needs a loss that depends on it", label, names[k], (double)gk);
    ck_assert_msg(PetscAbsReal((fp - fm) / (2 * h) - gk) <= 1e-6 * PetscAbsReal(gk), "%s: ∂loss/∂s(%s) %.12g, central differences %.12g", label, names[k], (double)gk, (double)((fp - fm) / (2 * h)));
  }
  VecDestroy(&g);
  CheckDerivatives(label, &s);
  FreeSetup(&s);
}

START_TEST(test_terms_infer)
{
  WriteData();
  {
    const Opt       o_plain[] = {{"-az_data", datafile}, {"-az_infer", "kappa"}, {"-az_heat1d_kappa", "0.3"}, {NULL, NULL}};
    const Opt       o_hard[]  = {{"-az_data", datafile}, {"-az_infer", "kappa"}, {"-az_infer_log", "kappa"}, {"-az_heat1d_kappa", "0.3"}, {"-az_constraint", "hard"}, {NULL, NULL}};
    const Opt       o_bound[] = {{"-az_data", datafile}, {"-az_infer", "kappa"}, {"-az_infer_log", "kappa"}, {"-az_infer_bounds", "kappa=0.01:2"}, {"-az_heat1d_kappa", "0.3"}, {"-az_constraint", "auglag"}, {NULL, NULL}};
    const PetscReal k0[]      = {0.3};
    CheckInferred("heat1d: kappa inferred (plain), soft conditions and data", "heat1d", o_plain, 1, k0);
    CheckInferred("heat1d: kappa inferred as log, hard conditions", "heat1d", o_hard, 1, k0);
    CheckInferred("heat1d: kappa inferred as log within bounds, multipliers", "heat1d", o_bound, 1, k0);
  }
  RemoveData();
  {
    /* the conservation form: ∂r/∂nu by differences of the residual derived from the flux */
    const Opt       o_burgers[] = {{"-az_infer", "nu,a"}, {"-az_infer_log", "nu"}, {"-az_burgers1d_nu", "0.05"}, {"-az_burgers1d_a", "0.8"}, {NULL, NULL}};
    const PetscReal nu0[]       = {0.05, 0.8};
    CheckInferred("burgers1d: nu (as log) and a inferred, conservation form", "burgers1d", o_burgers, 2, nu0);
  }
}
END_TEST

START_TEST(test_infer_refusals)
{
  const Opt o_unknown[] = {{"-az_infer", "kapa"}, {NULL, NULL}};
  const Opt o_twice[]   = {{"-az_infer", "kappa,kappa"}, {NULL, NULL}};
  const Opt o_log[]     = {{"-az_infer", "kappa"}, {"-az_infer_log", "kappa"}, {"-az_heat1d_kappa", "-1"}, {NULL, NULL}};
  const Opt o_lognot[]  = {{"-az_infer", "kappa"}, {"-az_infer_log", "nu"}, {NULL, NULL}};
  const Opt o_bounds[]  = {{"-az_infer", "kappa"}, {"-az_infer_bounds", "kappa=1:2"}, {NULL, NULL}};
  const Opt o_syntax[]  = {{"-az_infer", "kappa"}, {"-az_infer_bounds", "kappa=2"}, {NULL, NULL}};
  const Opt o_order[]   = {{"-az_infer", "kappa"}, {"-az_infer_bounds", "kappa=2:1"}, {NULL, NULL}};
  ExpectRefused("unknown parameter", "heat1d", NULL, o_unknown, "its parameters are: kappa");
  ExpectRefused("parameter named twice", "heat1d", NULL, o_twice, "named twice");
  ExpectRefused("log of a negative guess", "heat1d", NULL, o_log, "must be positive");
  ExpectRefused("log of a parameter not inferred", "heat1d", NULL, o_lognot, "not a parameter named by -az_infer");
  ExpectRefused("guess outside the bounds", "heat1d", NULL, o_bounds, "strictly inside the bounds");
  ExpectRefused("bounds syntax", "heat1d", NULL, o_syntax, "expected name=lo:hi");
  ExpectRefused("bounds in the wrong order", "heat1d", NULL, o_order, "lo < hi");
  {
    const Opt o_empty[]  = {{"-az_infer", ",kappa"}, {NULL, NULL}};
    const Opt o_twiceb[] = {{"-az_infer", "kappa"}, {"-az_infer_bounds", "kappa=0.01:1,kappa=0.02:2"}, {NULL, NULL}};
    const Opt o_twicel[] = {{"-az_infer", "kappa"}, {"-az_infer_log", "kappa,kappa"}, {NULL, NULL}};
    ExpectRefused("an empty name", "heat1d", NULL, o_empty, "name 1 of the list is empty");
    ExpectRefused("bounds given twice", "heat1d", NULL, o_twiceb, "is given bounds twice");
    ExpectRefused("log named twice", "heat1d", NULL, o_twicel, "-az_infer_log: parameter kappa is named twice");
  }
  {
    const Opt o_lift[] = {{"-az_infer", "g"}, {"-az_constraint_boundary", "hard"}, {NULL, NULL}};
    const Opt o_soft[] = {{"-az_infer", "g"}, {NULL, NULL}};
    const Opt o_law[]  = {{"-az_infer", "kappa"}, {"-az_gpme1d_kind", "heat"}, {"-az_conservation", "soft"}, {NULL, NULL}};
    const Opt o_kind[] = {{"-az_infer", "kind"}, {NULL, NULL}};
    Setup     s;
    ExpectRefused("the lift reads the parameter", "wall1d", NULL, o_lift, "hard-constraint data (its lift, initial or Dirichlet data) depend on g");
    ck_assert_msg(MakeSetup("wall1d", NULL, o_soft, &s) == 0, "wall1d: g inferred with soft conditions refused");
    FreeSetup(&s);
    ExpectRefused("an enforced law's target reads the parameter", "gpme1d", NULL, o_law, "the target of conservation law mass");
    ExpectRefused("a choice parameter", "gpme1d", NULL, o_kind, "is a choice among names, not a number");
  }
}
END_TEST

START_TEST(test_terms_positivity)
{
  const char *const t_pos[] = {"pde", "initial", "positive", NULL};
  const char *const a_pos[] = {"positive", NULL};
  const Opt         o_soft[] = {{"-az_positivity", "soft"}, {NULL, NULL}};
  const Opt         o_auglag[] = {{"-az_positivity", "auglag"}, {"-az_auglag_every", "2"}, {NULL, NULL}};

  /* the untrained network is negative on part of the box */
  CheckTerms("advection1d: positivity penalty", "advection1d", o_soft, 0, 0, t_pos, NULL);
  CheckTerms("advection1d: positivity by multipliers", "advection1d", o_auglag, 0, 0, t_pos, a_pos);
}
END_TEST

START_TEST(test_terms_bounds)
{
  const char *const t_b[] = {"pde", "initial", "bounds", NULL};
  const char *const a_b[] = {"bounds", NULL};
  const Opt         o_soft[] = {{"-az_bounds", "soft"}, {NULL, NULL}};
  const Opt         o_auglag[] = {{"-az_bounds", "auglag"}, {"-az_auglag_every", "2"}, {NULL, NULL}};

  /* shifted, the untrained network leaves [-1, 1] on part of the box: above it (+1), below it (-1) */
  CheckTerms("allen_cahn1d: bounds penalty, above", "allen_cahn1d", o_soft, 1.0, 0, t_b, NULL);
  CheckTerms("allen_cahn1d: bounds penalty, below", "allen_cahn1d", o_soft, -1.0, 0, t_b, NULL);
  CheckTerms("allen_cahn1d: bounds by multipliers", "allen_cahn1d", o_auglag, 1.0, 0, t_b, a_b);
}
END_TEST

START_TEST(test_terms_conservation)
{
  const char *const t_law[] = {"pde", "initial", "conservation", NULL};
  const char *const t_proj[] = {"pde", "initial", NULL};
  const char *const a_law[] = {"conservation", NULL};
  const Opt         o_soft[] = {{"-az_conservation", "soft"}, {"-az_time_slices", "5"}, {"-az_project_nodes", "64"}, {NULL, NULL}};
  const Opt         o_auglag[] = {{"-az_conservation", "auglag"}, {"-az_auglag_every", "2"}, {"-az_time_slices", "5"}, {"-az_project_nodes", "64"}, {NULL, NULL}};
  const Opt         o_project[] = {{"-az_conservation", "project"}, {"-az_time_slices", "5"}, {NULL, NULL}};

  CheckTerms("advection1d: conservation penalty", "advection1d", o_soft, 0, 5, t_law, NULL);
  CheckTerms("advection1d: conservation by multipliers", "advection1d", o_auglag, 0, 5, t_law, a_law);
  CheckTerms("advection1d: projection in training", "advection1d", o_project, 0, 5, t_proj, NULL);
  {
    /* a post-hoc projection is the report's only: training's terms are those without it, exactly */
    const Opt o_posthoc[] = {{"-az_conservation", "posthoc"}, {NULL, NULL}};
    Setup     a, b;
    PetscReal fa, fb, ta[AZ_MAX_TERMS], tb[AZ_MAX_TERMS];
    Vec       theta, ga, gb;
    ck_assert_int_eq(MakeSetup("advection1d", NULL, NULL, &a), 0);
    ck_assert_int_eq(MakeSetup("advection1d", NULL, o_posthoc, &b), 0);
    AzFieldGetParameters(a.field, &theta);
    VecDuplicate(theta, &ga);
    VecDuplicate(theta, &gb);
    AzLossEvaluate(a.loss, &fa, ta, ga);
    AzLossEvaluate(b.loss, &fb, tb, gb);
    ck_assert_msg(fa == fb && ta[0] == tb[0] && ta[1] == tb[1], "posthoc: training loss %.17g (terms %.17g, %.17g), without the projection %.17g (%.17g, %.17g)", (double)fb, (double)tb[0], (double)tb[1], (double)fa, (double)ta[0], (double)ta[1]);
    VecAXPY(gb, -1, ga);
    VecNorm(gb, NORM_INFINITY, &fb);
    ck_assert_msg(fb == 0, "posthoc: the training gradient differs from the one without the projection by %g", (double)fb);
    VecDestroy(&ga);
    VecDestroy(&gb);
    FreeSetup(&a);
    FreeSetup(&b);
  }
}
END_TEST

/* the terms through each map of the chain in training */
START_TEST(test_terms_through_maps)
{
  const char *const t_heat[] = {"pde", NULL};
  const char *const t_face[] = {"pde", "bc_x1", "initial", NULL};
  const char *const t_adv[] = {"pde", "initial", NULL};
  const char *const t_euler[] = {"pde", "bc_x0", "bc_x1", "bc_y0", "bc_y1", NULL};
  const char *const t_burgers[] = {"pde", "conservation", NULL};
  const char *const a_burgers[] = {"conservation", NULL};
  const Opt         o_hard[] = {{"-az_constraint", "hard"}, {NULL, NULL}};
  const Opt         o_face[] = {{"-az_constraint_bc_x0", "hard"}, {NULL, NULL}};
  const Opt         o_softplus[] = {{"-az_positivity", "hard"}, {NULL, NULL}};
  const Opt         o_stream[] = {{"-az_divfree", "1"}, {"-az_n_boundary", "5"}, {NULL, NULL}};
  const Opt         o_hard_project[] = {{"-az_constraint", "hard"}, {"-az_conservation", "project"}, {"-az_time_slices", "5"}, {NULL, NULL}};
  const Opt         o_hard_penalty[] = {{"-az_constraint", "hard"}, {"-az_conservation", "auglag"}, {"-az_auglag_every", "2"}, {"-az_time_slices", "5"}, {"-az_project_nodes", "64"}, {NULL, NULL}};

  CheckTerms("heat1d hard: transform", "heat1d", o_hard, 0, 0, t_heat, NULL);
  CheckTerms("heat1d x = 0 hard: one-face transform", "heat1d", o_face, 0, 0, t_face, NULL);
  CheckTerms("advection1d: softplus", "advection1d", o_softplus, -1.0, 0, t_adv, NULL);
  {
    const Opt o_bounds[] = {{"-az_bounds", "hard"}, {NULL, NULL}};
    CheckTerms("allen_cahn1d: bounds map", "allen_cahn1d", o_bounds, 0, 0, t_adv, NULL);
  }
  CheckTerms("euler2d: stream function", "euler2d", o_stream, 0, 0, t_euler, NULL);
  CheckTerms("burgers1d hard + project: transform, projection", "burgers1d", o_hard_project, 0, 5, t_heat, NULL);
  CheckTerms("burgers1d hard, conservation by multipliers: transform under the law", "burgers1d", o_hard_penalty, 0, 5, t_burgers, a_burgers);
}
END_TEST

/* Hard PDE constraints by a solved output layer (-az_hardpde): the network gives K basis functions per
 * component, u = Σ w φ with w = argmin Σ ρ² + α|w|² at the constraint points. (a) the solved w satisfies
 * the normal equations Fᵀρ + αw = 0 (against the scale |F||ρ|), and the objective's gradient in w is its
 * central difference (the rows F); (b) every term's value by hand and ∇loss through the solve (implicit
 * function theorem) against central differences with the solve redone at each θ ± h v, the
 * Gauss–Newton pieces (side tangent and dense ∂w/∂θ) against the explicit rows and J v against
 * differences of ρ: heat1d and poisson2d (linear), burgers1d (nonlinear: H's second-order part) */
static void CheckHardPDESolve(const char *label, const char *problem, const Opt *opts)
{
  Setup              s;
  PetscReal          f, obj, o2, op, om;
  PetscInt           R, its;
  const PetscScalar *w;
  PetscScalar       *g, *wc, *gd;

  ck_assert_msg(MakeSetup(problem, NULL, opts, &s) == 0, "%s: set-up failed", label);
  ck_assert_msg(s.ncompN == 3 * s.ncomp, "%s: the network has %d outputs, expected 3 per component", label, (int)s.ncompN);
  ck_assert_int_eq(AzLossEvaluate(s.loss, &f, NULL, NULL), 0);
  ck_assert_int_eq(AzLossHardPDEInfo(s.loss, &its, &obj, &R, &w), 0);
  ck_assert_msg(R % (3 * s.ncomp) == 0 && its >= 1, "%s: R %d, %d Gauss-Newton steps", label, (int)R, (int)its);
  PetscMalloc3(R, &g, R, &wc, R, &gd);
  PetscArraycpy(wc, w, R);
  ck_assert_int_eq(AzLossHardPDEObjective(s.loss, wc, &o2, g), 0);
  ck_assert_msg(PetscAbsReal(o2 - obj) <= 1e-12 * obj, "%s: objective %.15g, the solve's %.15g", label, (double)o2, (double)obj);
  for (PetscInt j = 0; j < R; j++) { /* the objective's gradient in w against central differences */
    const PetscReal h = 1e-6 * (1 + PetscAbsScalar(w[j]));
    wc[j] = w[j] + h;
    AzLossHardPDEObjective(s.loss, wc, &op, NULL);
    wc[j] = w[j] - h;
    AzLossHardPDEObjective(s.loss, wc, &om, NULL);
    wc[j] = w[j];
    gd[j] = (op - om) / (2 * h);
    ck_assert_msg(op >= obj && om >= obj, "%s: w_%d ± h lowers the objective (%.15g, %.15g < %.15g): w is not the minimiser", label, (int)j, (double)op, (double)om, (double)obj);
  }
  {
    PetscReal scale = 0, e = 0;
    for (PetscInt j = 0; j < R; j++) {
      scale = PetscMax(scale, PetscAbsScalar(gd[j]));
      e     = PetscMax(e, PetscAbsScalar(g[j]));
    }
    /* at the minimiser Fᵀρ + αw = 0 up to rounding: against √obj times the rows' size */
    ck_assert_msg(e <= 1e-8 * PetscSqrtReal(obj) * (1 + scale) + 1e-12, "%s: |Fᵀρ + αw| = %g at the solved w (objective %g)", label, (double)e, (double)obj);
    wc[0] = w[0] + 0.1; /* away from the minimiser the gradient is the objective's slope */
    AzLossHardPDEObjective(s.loss, wc, &o2, g);
    {
      const PetscReal h = 1e-6;
      wc[0] += h;
      AzLossHardPDEObjective(s.loss, wc, &op, NULL);
      wc[0] -= 2 * h;
      AzLossHardPDEObjective(s.loss, wc, &om, NULL);
      ck_assert_msg(PetscAbsReal((op - om) / (2 * h) - 2 * PetscRealPart(g[0])) <= 1e-6 * PetscAbsScalar(g[0]) + 1e-12, "%s: objective slope %.12g, 2(Fᵀρ + αw)_0 %.12g", label, (double)((op - om) / (2 * h)), (double)(2 * PetscRealPart(g[0])));
    }
  }
  PetscFree3(g, wc, gd);
  FreeSetup(&s);
}

/* the blended solution's jets along axis d against differences of the solution itself, at points near
 * the cuts (at[], fractions of the box along d; the other coordinates at 0.37 of theirs): u_d against
 * (u(x+h) − u(x−h))/2h and u_dd, where carried, against the same of u_d (h = 1e-5: the blend's steep
 * χ_e makes the truncation error of u_dd's ~1e-3) */
static void CheckBlendJetsAxis(const char *label, const char *problem, const Opt *opts, PetscInt d, PetscInt nat, const PetscReal at[])
{
  Setup     s;
  PetscReal f, lo[AZ_MAX_COORD], hi[AZ_MAX_COORD];
  const PetscReal h = 1e-5;

  ck_assert_msg(MakeSetup(problem, NULL, opts, &s) == 0, "%s: set-up failed", label);
  ck_assert_int_eq(AzLossEvaluate(s.loss, &f, NULL, NULL), 0);
  AzProblemGetBox(s.prob, lo, hi);
  for (PetscInt i = 0; i < nat; i++) {
    PetscReal   x[AZ_MAX_COORD], xp[AZ_MAX_COORD], xm[AZ_MAX_COORD];
    PetscScalar j0[AZ_MAX_COMP * AZ_JET_MAX_NSLOT], jp[AZ_MAX_COMP * AZ_JET_MAX_NSLOT], jm[AZ_MAX_COMP * AZ_JET_MAX_NSLOT];
    const PetscInt sx = AzJetSlotD1(s.ncoord, d), sxx = AzJetSlotD2(s.ncoord, d, d);
    const PetscReal hd = h * (hi[d] - lo[d]);
    for (PetscInt k = 0; k < s.ncoord; k++) x[k] = xp[k] = xm[k] = lo[k] + (k == d ? at[i] : 0.37) * (hi[k] - lo[k]);
    xp[d] += hd;
    xm[d] -= hd;
    ck_assert_int_eq(AzLossEvaluateSolution(s.loss, 1, x, j0), 0);
    AzLossEvaluateSolution(s.loss, 1, xp, jp);
    AzLossEvaluateSolution(s.loss, 1, xm, jm);
    ck_assert_msg(InMask(s.mask, sx), "%s: the jets do not carry the first derivative along axis %d", label, (int)d);
    {
      const PetscReal ux = PetscRealPart((jp[0] - jm[0]) / (2 * hd)), uxx = PetscRealPart((jp[sx] - jm[sx]) / (2 * hd));
      ck_assert_msg(PetscAbsReal(ux - PetscRealPart(j0[sx])) <= 1e-5 * (1 + PetscAbsReal(ux)), "%s: axis %d at %g: u_d %.10g, differences %.10g", label, (int)d, (double)x[d], (double)PetscRealPart(j0[sx]), (double)ux);
      if (InMask(s.mask, sxx)) ck_assert_msg(PetscAbsReal(uxx - PetscRealPart(j0[sxx])) <= 1e-3 * (1 + PetscAbsReal(uxx)), "%s: axis %d at %g: u_dd %.10g, differences of u_d %.10g", label, (int)d, (double)x[d], (double)PetscRealPart(j0[sxx]), (double)uxx);
    }
  }
  FreeSetup(&s);
}

/* along the first axis, near the cuts of three experts at 1/3 and 2/3 of the box */
static void CheckBlendJets(const char *label, const char *problem, const Opt *opts)
{
  const PetscReal at[] = {1.0 / 3 + 0.004, 2.0 / 3 - 0.003, 0.5};
  CheckBlendJetsAxis(label, problem, opts, 0, 3, at);
}

START_TEST(test_hardpde)
{
  const char *const t_heat[] = {"pde", "bc_x0", "bc_x1", "initial", NULL};
  const char *const t_poisson[] = {"pde", "bc_x0", "bc_x1", "bc_y0", "bc_y1", NULL};
  const Opt         o_hp[] = {{"-az_hardpde", "1"}, {"-az_hardpde_basis", "3"}, {"-az_hardpde_points", "20"}, {NULL, NULL}};

  CheckHardPDESolve("heat1d hardpde: the solve", "heat1d", o_hp);
  {
    /* more weights than a conservation law's side inputs (R = 24 > 20: a side row on the stack overflowed);
     * a ridge that keeps H well conditioned for the differences (24 basis functions of 24 tanh units
     * are nearly dependent) */
    const Opt o_wide[] = {{"-az_hardpde", "1"}, {"-az_hardpde_basis", "24"}, {"-az_hardpde_points", "60"}, {"-az_field_width", "24"}, {"-az_hardpde_ridge", "1e-1"}, {NULL, NULL}};
    CheckTerms("heat1d hardpde, 24 weights: terms and derivatives through the solve", "heat1d", o_wide, 0, 0, t_heat, NULL);
  }
  CheckTerms("heat1d hardpde: terms and derivatives through the solve", "heat1d", o_hp, 0, 0, t_heat, NULL);
  CheckTerms("poisson2d hardpde: terms and derivatives through the solve", "poisson2d", o_hp, 0, 0, t_poisson, NULL);
  {
    /* hardpde-moe: 3 experts along x, each its own w from its own points, blended by a partition of
     * unity (its jets by the product rule: every derivative check goes through them) */
    const Opt o_moe[] = {{"-az_hardpde", "1"}, {"-az_hardpde_basis", "3"}, {"-az_hardpde_points", "60"}, {"-az_moe_experts", "3"}, {NULL, NULL}};
    CheckHardPDESolve("heat1d hardpde-moe: the solves", "heat1d", o_moe);
    { /* expert e's points lie in its box [c_e − 1/6, c_{e+1} + 1/6] ∩ [0, 1] (cuts at 0, 1/3, 2/3, 1) and fill most of it */
      Setup s;
      ck_assert_msg(MakeSetup("heat1d", NULL, o_moe, &s) == 0, "hardpde-moe: set-up failed");
      for (PetscInt e = 0; e < 3; e++) {
        const PetscReal a = PetscMax(0, e / 3.0 - 1 / 6.0), b = PetscMin(1, (e + 1) / 3.0 + 1 / 6.0);
        PetscReal       xmin, xmax;
        ck_assert_int_eq(AzLossHardPDEExpertRange(s.loss, e, &xmin, &xmax), 0);
        ck_assert_msg(xmin >= a - 1e-12 && xmax <= b + 1e-12 && xmax - xmin >= 0.8 * (b - a), "hardpde-moe: expert %d's points span [%g, %g], its box is [%g, %g]", (int)e, (double)xmin, (double)xmax, (double)a, (double)b);
      }
      FreeSetup(&s);
    }
    { /* each expert's solve on one rank only, its owner (rank r owns experts [3r/size, 3(r+1)/size)), which
       * holds all its rows; the others none */
      Setup       s;
      PetscMPIInt rank, size;
      PetscReal   f;
      MPI_Comm_rank(PETSC_COMM_WORLD, &rank);
      MPI_Comm_size(PETSC_COMM_WORLD, &size);
      ck_assert_msg(MakeSetup("heat1d", NULL, o_moe, &s) == 0, "hardpde-moe: set-up failed");
      ck_assert_int_eq(AzLossEvaluate(s.loss, &f, NULL, NULL), 0);
      for (PetscInt e = 0; e < 3; e++) {
        PetscMPIInt owner, expect = 0;
        PetscInt    rows, holders, total;
        for (PetscMPIInt r = 0; r < size; r++)
          if ((3 * r) / size <= e && e < (3 * (r + 1)) / size) expect = r;
        ck_assert_int_eq(AzLossHardPDEExpertOwner(s.loss, e, &owner, &rows), 0);
        holders = rows > 0;
        MPI_Allreduce(MPI_IN_PLACE, &holders, 1, MPIU_INT, MPI_SUM, PETSC_COMM_WORLD);
        MPI_Allreduce(&rows, &total, 1, MPIU_INT, MPI_SUM, PETSC_COMM_WORLD);
        ck_assert_msg(owner == expect && holders == 1 && (rank == owner) == (rows > 0) && total >= 20, "hardpde-moe: expert %d of 3 on %d ranks: owner %d (expected %d), its rows on %d rank(s), %d rows here, %d in all", (int)e, (int)size, (int)owner, (int)expect, (int)holders, (int)rows, (int)total);
      }
      FreeSetup(&s);
    }
    CheckBlendJets("heat1d hardpde-moe: the blend's jets", "heat1d", o_moe);
    CheckBlendJets("poisson2d hardpde-moe: the blend's jets", "poisson2d", o_moe);
    CheckTerms("heat1d hardpde-moe: terms and derivatives through three solves and the blend", "heat1d", o_moe, 0, 0, t_heat, NULL);
    CheckTerms("poisson2d hardpde-moe: terms and derivatives through three solves and the blend", "poisson2d", o_moe, 0, 0, t_poisson, NULL);
  }
  {
    /* experts along any axis: 2 × 2 (x, t) and 1 × 4 (along t) on heat1d, 2 × 2 on poisson2d, and cuts
     * placed by hand (x at 0.15, t at 0.6 of the box); the tensor-product blend's jets along each axis
     * against differences, each expert's points in its box (its face and initial sets only where its box
     * touches them), every term's derivatives through the solves */
    const Opt       o_22[] = {{"-az_hardpde", "1"}, {"-az_hardpde_basis", "3"}, {"-az_hardpde_points", "80"}, {"-az_moe_experts", "4"}, {"-az_moe_grid", "2,2"}, {NULL, NULL}};
    const Opt       o_14[] = {{"-az_hardpde", "1"}, {"-az_hardpde_basis", "3"}, {"-az_hardpde_points", "80"}, {"-az_moe_experts", "4"}, {"-az_moe_grid", "1,4"}, {NULL, NULL}};
    const Opt       o_cut[] = {{"-az_hardpde", "1"}, {"-az_hardpde_basis", "3"}, {"-az_hardpde_points", "80"}, {"-az_moe_experts", "4"}, {"-az_moe_cuts_x", "0.15"}, {"-az_moe_cuts_t", "0.6"}, {NULL, NULL}};
    const PetscReal at2[] = {0.5 + 0.004, 0.5 - 0.003, 0.3}, at4[] = {0.25 + 0.004, 0.5 - 0.003, 0.75 + 0.002}, atx[] = {0.15 + 0.002, 0.15 - 0.003}, att[] = {0.6 + 0.003, 0.6 - 0.002};
    /* the boxes, as fractions of the box per axis (x, t), expert e = i_x + n_x i_t: even cuts widened by
     * half a box; given cuts by 8τ, τ the smaller neighbouring box / 16 */
    const PetscReal b22[4][4] = {{0, 0.75, 0, 0.75}, {0.25, 1, 0, 0.75}, {0, 0.75, 0.25, 1}, {0.25, 1, 0.25, 1}};
    const PetscReal b14[4][4] = {{0, 1, 0, 0.375}, {0, 1, 0.125, 0.625}, {0, 1, 0.375, 0.875}, {0, 1, 0.625, 1}};
    const PetscReal bcut[4][4] = {{0, 0.225, 0, 0.8}, {0.075, 1, 0, 0.8}, {0, 0.225, 0.4, 1}, {0.075, 1, 0.4, 1}};
    const struct {
      const Opt *o;
      const PetscReal (*b)[4];
    } lay[] = {{o_22, b22}, {o_14, b14}, {o_cut, bcut}};
    for (int l = 0; l < 3; l++) {
      Setup     s;
      PetscReal lo[AZ_MAX_COORD], hi[AZ_MAX_COORD];
      ck_assert_msg(MakeSetup("heat1d", NULL, lay[l].o, &s) == 0, "hardpde-moe layout %d: set-up failed", l);
      AzProblemGetBox(s.prob, lo, hi);
      for (PetscInt e = 0; e < 4; e++) {
        PetscReal xmin[AZ_MAX_COORD], xmax[AZ_MAX_COORD];
        ck_assert_int_eq(AzLossHardPDEExpertBox(s.loss, e, xmin, xmax), 0);
        for (PetscInt d = 0; d < 2; d++) {
          const PetscReal a = lo[d] + lay[l].b[e][2 * d] * (hi[d] - lo[d]), b = lo[d] + lay[l].b[e][2 * d + 1] * (hi[d] - lo[d]);
          ck_assert_msg(xmin[d] >= a - 1e-12 && xmax[d] <= b + 1e-12 && xmax[d] - xmin[d] >= 0.8 * (b - a), "hardpde-moe layout %d: expert %d's points span [%g, %g] along axis %d, its box is [%g, %g]", l, (int)e, (double)xmin[d], (double)xmax[d], (int)d, (double)a, (double)b);
        }
      }
      FreeSetup(&s);
    }
    CheckHardPDESolve("heat1d hardpde-moe 2 x 2: the solves", "heat1d", o_22);
    CheckBlendJetsAxis("heat1d hardpde-moe 2 x 2: the blend's jets along x", "heat1d", o_22, 0, 3, at2);
    CheckBlendJetsAxis("heat1d hardpde-moe 2 x 2: the blend's jets along t", "heat1d", o_22, 1, 3, at2);
    CheckBlendJetsAxis("heat1d hardpde-moe 1 x 4: the blend's jets along t", "heat1d", o_14, 1, 3, at4);
    CheckBlendJetsAxis("heat1d hardpde-moe cuts: the blend's jets along x", "heat1d", o_cut, 0, 2, atx);
    CheckBlendJetsAxis("heat1d hardpde-moe cuts: the blend's jets along t", "heat1d", o_cut, 1, 2, att);
    CheckBlendJetsAxis("poisson2d hardpde-moe 2 x 2: the blend's jets along y", "poisson2d", o_22, 1, 3, at2);
    CheckTerms("heat1d hardpde-moe 2 x 2: terms and derivatives through four solves and the blend", "heat1d", o_22, 0, 0, t_heat, NULL);
    CheckTerms("heat1d hardpde-moe 1 x 4 (along t): terms and derivatives through four solves and the blend", "heat1d", o_14, 0, 0, t_heat, NULL);
    CheckTerms("heat1d hardpde-moe cuts at x 0.15, t 0.6: terms and derivatives", "heat1d", o_cut, 0, 0, t_heat, NULL);
    CheckTerms("poisson2d hardpde-moe 2 x 2: terms and derivatives through four solves and the blend", "poisson2d", o_22, 0, 0, t_poisson, NULL);
  }
  {
    const Opt o_nl[] = {{"-az_hardpde", "1"}, {"-az_hardpde_basis", "3"}, {"-az_hardpde_points", "20"}, {"-az_hardpde_tol", "1e-14"}, {NULL, NULL}};
    CheckHardPDESolve("burgers1d hardpde (nonlinear): the solve", "burgers1d", o_nl);
    CheckTerms("burgers1d hardpde (nonlinear): derivatives through the solve with H's second-order part", "burgers1d", o_nl, 0, 0, t_heat, NULL);
  }
  {
    /* the same solved from w = 0 with Levenberg–Marquardt steps: the minimiser, exact derivatives */
    const Opt o_lm[] = {{"-az_hardpde", "1"}, {"-az_hardpde_basis", "3"}, {"-az_hardpde_points", "20"}, {"-az_hardpde_tol", "1e-14"}, {"-az_hardpde_start", "cold"}, {"-az_hardpde_damping", "lm"}, {NULL, NULL}};
    CheckHardPDESolve("burgers1d hardpde, cold start, Levenberg-Marquardt: the solve", "burgers1d", o_lm);
    CheckTerms("burgers1d hardpde, cold start, Levenberg-Marquardt: derivatives through the solve", "burgers1d", o_lm, 0, 0, t_heat, NULL);
  }
}
END_TEST

/* -az_hardpde with hard conditions (-az_constraint hard): u = g + Σ_k w_k C φ_k, the transform's lift g
 * and Leibniz factor C (constraint.h) on the solved basis. (a) the solve has the PDE's rows alone (the
 * sets of the conditions the transform imposes are dropped): nint interior constraint points in all
 * experts, one residual each; (b) every hard condition's residual (each hard face, the initial slice)
 * is zero to round-off at points on it, at the solved w. The derivative checks (CheckHardPDESolve,
 * CheckTerms) run beside it in test_hardpde_hard. */
static void CheckHardConditions(const char *label, const char *problem, const Opt *opts, PetscInt nint)
{
  Setup                s;
  PetscReal            f, lo[AZ_MAX_COORD], hi[AZ_MAX_COORD], emax = 0;
  PetscInt             R, E, rows = 0, total, nchecked = 0;
  const AzProblemInfo *info;

  ck_assert_msg(MakeSetup(problem, NULL, opts, &s) == 0, "%s: set-up failed", label);
  ck_assert_int_eq(AzLossEvaluate(s.loss, &f, NULL, NULL), 0);
  AzLossHardPDEInfo(s.loss, NULL, NULL, &R, NULL);
  E = R / s.ncompN;
  for (PetscInt e = 0; e < E; e++) {
    PetscMPIInt owner;
    PetscInt    here;
    ck_assert_int_eq(AzLossHardPDEExpertOwner(s.loss, e, &owner, &here), 0);
    rows += here;
  }
  MPI_Allreduce(&rows, &total, 1, MPIU_INT, MPI_SUM, PETSC_COMM_WORLD);
  ck_assert_msg(total == nint, "%s: %d rows in the solve(s), expected the PDE's %d alone (the hard conditions' rows dropped)", label, (int)total, (int)nint);
  AzProblemGetInfo(s.prob, &info);
  AzProblemGetBox(s.prob, lo, hi);
  for (PetscInt cond = 0; cond <= AZ_COND_INITIAL; cond++) {
    const char *strategy;
    PetscInt    nres = 0;
    if (cond >= 2 * info->dim && cond != AZ_COND_INITIAL) continue;
    AzProblemGetNumResiduals(s.prob, cond, &nres);
    if (!nres) continue;
    AzLossGetConditionStrategy(s.loss, cond, &strategy);
    ck_assert_msg(!strcmp(strategy, "hard"), "%s: condition %d is %s, the test expects every condition hard", label, (int)cond, strategy);
    for (int i = 0; i < 7; i++) {
      PetscReal   x[AZ_MAX_COORD];
      PetscScalar jet[AZ_MAX_COMP * AZ_JET_MAX_NSLOT], r[AZ_MAX_RES];
      for (PetscInt d = 0; d < s.ncoord; d++) x[d] = lo[d] + (hi[d] - lo[d]) * ((i + 1) * (d + 2) * 0.6180339887 - PetscFloorReal((i + 1) * (d + 2) * 0.6180339887));
      if (cond == AZ_COND_INITIAL) x[s.ncoord - 1] = lo[s.ncoord - 1];
      else x[cond / 2] = cond % 2 ? hi[cond / 2] : lo[cond / 2];
      ck_assert_int_eq(AzLossEvaluateSolution(s.loss, 1, x, jet), 0);
      ck_assert_int_eq(AzProblemEvaluateResidual(s.prob, cond, x, jet, r, NULL), 0);
      for (PetscInt q = 0; q < nres; q++) emax = PetscMax(emax, PetscAbsScalar(r[q]) / (1 + PetscAbsScalar(jet[0])));
      nchecked++;
    }
  }
  ck_assert_msg(nchecked > 0 && emax <= 1e-14, "%s: a hard condition's residual %g at the solved weights (%d points checked), expected round-off", label, (double)emax, (int)nchecked);
  FreeSetup(&s);
}

START_TEST(test_hardpde_hard)
{
  const char *const t_pde[] = {"pde", NULL};
  const Opt         o_hp[]  = {{"-az_hardpde", "1"}, {"-az_hardpde_basis", "3"}, {"-az_hardpde_points", "20"}, {"-az_constraint", "hard"}, {NULL, NULL}};
  const Opt         o_p2[]  = {{"-az_hardpde", "1"}, {"-az_hardpde_basis", "3"}, {"-az_hardpde_points", "20"}, {"-az_constraint_boundary", "hard"}, {NULL, NULL}}; /* steady: no initial condition */
  const Opt         o_moe[] = {{"-az_hardpde", "1"}, {"-az_hardpde_basis", "3"}, {"-az_hardpde_points", "60"}, {"-az_moe_experts", "3"}, {"-az_constraint", "hard"}, {NULL, NULL}};
  const Opt         o_nl[]  = {{"-az_hardpde", "1"}, {"-az_hardpde_basis", "3"}, {"-az_hardpde_points", "20"}, {"-az_hardpde_tol", "1e-14"}, {"-az_constraint", "hard"}, {NULL, NULL}};

  CheckHardConditions("heat1d hardpde + hard conditions", "heat1d", o_hp, 20);
  CheckHardConditions("poisson2d hardpde + hard conditions", "poisson2d", o_p2, 20);
  CheckHardConditions("burgers1d hardpde + hard conditions (nonlinear)", "burgers1d", o_nl, 20);
  CheckHardConditions("heat1d hardpde-moe + hard conditions", "heat1d", o_moe, 60);
  CheckHardPDESolve("heat1d hardpde + hard conditions: the solve", "heat1d", o_hp);
  CheckHardPDESolve("poisson2d hardpde + hard conditions: the solve", "poisson2d", o_p2);
  CheckHardPDESolve("burgers1d hardpde + hard conditions (nonlinear): the solve", "burgers1d", o_nl);
  CheckTerms("heat1d hardpde + hard conditions: terms and derivatives through the solve and the transform", "heat1d", o_hp, 0, 0, t_pde, NULL);
  CheckTerms("poisson2d hardpde + hard conditions: terms and derivatives through the solve and the transform", "poisson2d", o_p2, 0, 0, t_pde, NULL);
  CheckTerms("burgers1d hardpde + hard conditions (nonlinear): derivatives through the solve with H's second-order part and the transform", "burgers1d", o_nl, 0, 0, t_pde, NULL);
  CheckTerms("heat1d hardpde-moe + hard conditions: terms and derivatives through three solves, the blend and the transform", "heat1d", o_moe, 0, 0, t_pde, NULL);
}
END_TEST

/* AzLossHardPDEFinalSolve: after training the weights are solved again at -az_hardpde_final_ridge (here
 * 0, trained at α = 0.1, where the ridge is most of the objective): at the re-solved w the gradient of
 * Σ ρ² (no ridge now) vanishes against its scale, the ridge's w is not that minimiser (its objective is
 * higher and its gradient is not zero), and an evaluation after it keeps the final weights */
START_TEST(test_hardpde_final)
{
  const Opt          o[] = {{"-az_hardpde", "1"}, {"-az_hardpde_basis", "3"}, {"-az_hardpde_points", "20"}, {"-az_hardpde_ridge", "1e-1"}, {"-az_hardpde_final_ridge", "0"}, {"-az_constraint", "hard"}, {NULL, NULL}};
  Setup              s;
  PetscReal          f, obj0, obj1, o0, o1, e0 = 0, e1 = 0, dw = 0;
  PetscInt           R;
  const PetscScalar *w;
  PetscScalar        w0[3], g[3];

  ck_assert_msg(MakeSetup("heat1d", NULL, o, &s) == 0, "hardpde final ridge: set-up failed");
  ck_assert_int_eq(AzLossEvaluate(s.loss, &f, NULL, NULL), 0);
  AzLossHardPDEInfo(s.loss, NULL, &obj0, &R, &w);
  ck_assert_int_eq(R, 3);
  PetscArraycpy(w0, w, R);
  ck_assert_int_eq(AzLossHardPDEFinalSolve(s.loss), 0);
  AzLossHardPDEInfo(s.loss, NULL, &obj1, &R, &w);
  AzLossHardPDEObjective(s.loss, w, &o1, g);
  for (PetscInt j = 0; j < R; j++) {
    e1 = PetscMax(e1, PetscAbsScalar(g[j]));
    dw = PetscMax(dw, PetscAbsScalar(w[j] - w0[j]));
  }
  AzLossHardPDEObjective(s.loss, w0, &o0, g);
  for (PetscInt j = 0; j < R; j++) e0 = PetscMax(e0, PetscAbsScalar(g[j]));
  ck_assert_msg(PetscAbsReal(o1 - obj1) <= 1e-12 * obj1 && o1 < o0 && e1 <= 1e-8 * e0 && dw > 1e-3, "hardpde final ridge 0: objective %g (the solve's %g), %g at the ridge's w; |grad| %g there, %g at the ridge's w; |w - w_ridge| %g", (double)o1, (double)obj1, (double)o0, (double)e1, (double)e0, (double)dw);
  ck_assert_int_eq(AzLossEvaluate(s.loss, &f, NULL, NULL), 0); /* the final ridge stays */
  AzLossHardPDEInfo(s.loss, NULL, &obj0, &R, &w);
  ck_assert_msg(obj0 == obj1, "hardpde final ridge: an evaluation after the final solve changed its objective %g to %g", (double)obj1, (double)obj0);
  FreeSetup(&s);
}
END_TEST

/* hardpde-moe -az_moe_blend interface: crisp boxes [c_e, c_{e+1}) along x, u = Σ w_e φ in box e (the
 * expert's points in its box alone), and a term on the jumps of u and u_x at points on the cuts; its
 * value by hand from the solved weights and the basis (CheckTermValues), its gradient, Gauss–Newton
 * product and dense Jacobian through the three solves against differences: heat1d (linear) and
 * burgers1d (nonlinear) */
START_TEST(test_hardpde_interface)
{
  const char *const t_if[] = {"pde", "bc_x0", "bc_x1", "initial", "interface", NULL};
  const Opt         o_if[] = {{"-az_hardpde", "1"}, {"-az_hardpde_basis", "3"}, {"-az_hardpde_points", "60"}, {"-az_moe_experts", "3"}, {"-az_moe_blend", "interface"}, {"-az_moe_interface_points", "12"}, {"-az_moe_interface_weight", "2"}, {NULL, NULL}};
  const Opt         o_nl[] = {{"-az_hardpde", "1"}, {"-az_hardpde_basis", "3"}, {"-az_hardpde_points", "60"}, {"-az_moe_experts", "3"}, {"-az_moe_blend", "interface"}, {"-az_moe_interface_points", "12"}, {"-az_hardpde_tol", "1e-14"}, {NULL, NULL}};

  CheckHardPDESolve("heat1d hardpde-moe interface: the solves", "heat1d", o_if);
  {
    Setup              s;
    PetscReal          f, w8 = 0;
    PetscInt           R, k;
    const PetscScalar *w;
    PetscScalar       *phi;
    ck_assert_msg(MakeSetup("heat1d", NULL, o_if, &s) == 0, "hardpde-moe interface: set-up failed");
    k = LossTermIndex(s.loss, "interface");
    AzLossGetWeight(s.loss, k, &w8);
    ck_assert_msg(w8 == 2, "hardpde-moe interface: the interface term's weight %g, -az_moe_interface_weight 2", (double)w8);
    for (PetscInt e = 0; e < 3; e++) { /* crisp boxes: expert e's points in [e/3, (e+1)/3] only */
      PetscReal xmin, xmax;
      ck_assert_int_eq(AzLossHardPDEExpertRange(s.loss, e, &xmin, &xmax), 0);
      ck_assert_msg(xmin >= e / 3.0 - 1e-12 && xmax <= (e + 1) / 3.0 + 1e-12 && xmax - xmin >= 0.8 / 3, "hardpde-moe interface: expert %d's points span [%g, %g], its box is [%g, %g]", (int)e, (double)xmin, (double)xmax, e / 3.0, (e + 1) / 3.0);
    }
    ck_assert_int_eq(AzLossEvaluate(s.loss, &f, NULL, NULL), 0);
    AzLossHardPDEInfo(s.loss, NULL, NULL, &R, &w);
    PetscMalloc1((size_t)s.ncompN * s.nslot, &phi);
    for (int i = 0; i < 6; i++) { /* the solution (and its jets) in box e is expert e's alone */
      const PetscReal x[2] = {(i + 0.5) / 6, 0.37};
      const PetscInt  e = i / 2, K = 3;
      PetscScalar     jet[AZ_MAX_COMP * AZ_JET_MAX_NSLOT];
      AzLossEvaluateSolution(s.loss, 1, x, jet);
      AzFieldEvaluateJets(s.field, 1, x, phi);
      for (PetscInt q = 0; q < s.nslot; q++) {
        PetscScalar u = 0;
        if (!InMask(s.mask, q)) continue;
        for (PetscInt j = 0; j < K; j++) u += w[e * R / 3 + j] * phi[j * s.nslot + q];
        ck_assert_msg(PetscAbsScalar(u - jet[q]) <= 1e-12 * (1 + PetscAbsScalar(u)), "hardpde-moe interface: x = %g (box %d), slot %d: u %.15g, expert %d's %.15g", (double)x[0], (int)e, (int)q, (double)PetscRealPart(jet[q]), (int)e, (double)PetscRealPart(u));
      }
    }
    PetscFree(phi);
    FreeSetup(&s);
  }
  CheckTerms("heat1d hardpde-moe interface: terms and derivatives through three solves and the jumps", "heat1d", o_if, 0, 0, t_if, NULL);
  CheckTerms("burgers1d hardpde-moe interface (nonlinear): terms and derivatives through three solves and the jumps", "burgers1d", o_nl, 0, 0, t_if, NULL);
}
END_TEST

/* The solved output layer's least-squares core (AzHPLeastSquares) on a matrix with a nearly dependent
 * basis, as a tanh network's: the monomials x^j, j < 14, at 64 points of [0, 1] (cond ~1e10), with a
 * consistent right-hand side ρ = −A w* (w* known). The step from w = 0 (α = 0) must be w*'s to
 * ε cond(A) and leave a residual |A d − ρ| of rounding's size against |A||d|; the normal equations
 * (Fᵀρ formed, divided by σ²) miss w* by ε cond² and leave ε cond |ρ|. Then, well conditioned (4
 * monomials) with a ridge and w ≠ 0: (AᵀA + αI) d = Aᵀρ + αw, and AᵀA = V diag(σ²) Vᵀ; a cut-off
 * rcond leaves the small directions out of d. */
START_TEST(test_hardpde_lsq)
{
  enum { n = 64, R = 14, R4 = 4 };
  PetscReal A[n * (R + 1)], A0[n * R], rho[n], ws[R], w0[R] = {0}, V[R * R], s2[R], d[R], *work;
  PetscInt  nwork;
  PetscReal kappa, err = 0, nw = 0, res = 0, nrho = 0, nA = 0, nd = 0;

  for (PetscInt j = 0; j < R; j++) ws[j] = 1 + 0.1 * (PetscReal)j * ((j % 2) ? -1 : 1);
  for (PetscInt i = 0; i < n; i++) {
    const PetscReal x = (i + 0.5) / n;
    PetscReal       p = 1, r = 0;
    for (PetscInt j = 0; j < R; j++, p *= x) {
      A0[(size_t)j * n + i] = p;
      r -= p * ws[j];
    }
    rho[i] = r;
  }
  PetscArraycpy(A, A0, n * R);
  PetscArraycpy(A + n * R, rho, n);
  ck_assert_int_eq(AzHPLeastSquaresWork(n, R, &nwork), 0);
  PetscMalloc1(nwork, &work);
  ck_assert_int_eq(AzHPLeastSquares(n, R, A, 0.0, 1e-14, w0, work, nwork, V, s2, d), 0);
  kappa = PetscSqrtReal(s2[0] / s2[R - 1]);
  ck_assert_msg(kappa > 1e8 && kappa < 1e12, "the test matrix's condition number %g: expected 1e8 .. 1e12 (ill-conditioned, yet within the cut-off)", (double)kappa);
  for (PetscInt j = 0; j < R; j++) { /* d = H⁻¹ Fᵀρ, so the solution of A w = −ρ is −d */
    err = PetscMax(err, PetscAbsReal(-d[j] - ws[j]));
    nw  = PetscMax(nw, PetscAbsReal(ws[j]));
    nd  = PetscMax(nd, PetscAbsReal(d[j]));
  }
  for (PetscInt i = 0; i < n; i++) {
    PetscReal r = rho[i], a = 0;
    for (PetscInt j = 0; j < R; j++) {
      r -= A0[(size_t)j * n + i] * d[j];
      a += PetscAbsReal(A0[(size_t)j * n + i]);
    }
    res  = PetscMax(res, PetscAbsReal(r));
    nrho = PetscMax(nrho, PetscAbsReal(rho[i]));
    nA   = PetscMax(nA, a);
  }
  ck_assert_msg(err <= 100 * PETSC_MACHINE_EPSILON * kappa * nw, "ill-conditioned least squares (cond %g): |w - w*| = %g, more than 100 eps cond |w*| = %g", (double)kappa, (double)err, (double)(100 * PETSC_MACHINE_EPSILON * kappa * nw));
  ck_assert_msg(res <= 100 * PETSC_MACHINE_EPSILON * nA * nd, "ill-conditioned least squares (cond %g): residual %g (|rho| %g), more than 100 eps |A||w| = %g", (double)kappa, (double)res, (double)nrho, (double)(100 * PETSC_MACHINE_EPSILON * nA * nd));

  { /* well conditioned, with a ridge and a current w: the normal equations hold; AᵀA = V σ² Vᵀ */
    const PetscReal alpha = 0.1;
    PetscReal       w[R4], e = 0, sc = 0;
    for (PetscInt j = 0; j < R4; j++) w[j] = 0.3 * (PetscReal)j - 0.5;
    PetscArraycpy(A, A0, n * R4);
    PetscArraycpy(A + n * R4, rho, n);
    ck_assert_int_eq(AzHPLeastSquares(n, R4, A, alpha, 1e-14, w, work, nwork, V, s2, d), 0);
    for (PetscInt a = 0; a < R4; a++) {
      PetscReal lhs = alpha * d[a], rhs = alpha * w[a];
      for (PetscInt i = 0; i < n; i++) {
        PetscReal ad = 0;
        for (PetscInt b = 0; b < R4; b++) ad += A0[(size_t)b * n + i] * d[b];
        lhs += A0[(size_t)a * n + i] * ad;
        rhs += A0[(size_t)a * n + i] * rho[i];
      }
      e  = PetscMax(e, PetscAbsReal(lhs - rhs));
      sc = PetscMax(sc, PetscAbsReal(rhs));
      for (PetscInt b = 0; b < R4; b++) {
        PetscReal g = 0, h = 0;
        for (PetscInt i = 0; i < n; i++) g += A0[(size_t)a * n + i] * A0[(size_t)b * n + i];
        for (PetscInt j = 0; j < R4; j++) h += V[j * R4 + a] * s2[j] * V[j * R4 + b];
        ck_assert_msg(PetscAbsReal(g - h) <= 1e-12 * (PetscAbsReal(g) + s2[0]), "(AᵀA)_%d%d = %.15g, V σ² Vᵀ gives %.15g", (int)a, (int)b, (double)g, (double)h);
      }
    }
    ck_assert_msg(e <= 1e-12 * sc, "with a ridge: |(AᵀA + αI) d − (Aᵀρ + αw)| = %g against %g", (double)e, (double)sc);
  }
  { /* a cut-off: d has no part along the directions left out */
    const PetscReal rcond = 1e-4;
    PetscInt        out = 0;
    PetscArraycpy(A, A0, n * R);
    PetscArraycpy(A + n * R, rho, n);
    ck_assert_int_eq(AzHPLeastSquares(n, R, A, 0.0, rcond, w0, work, nwork, V, s2, d), 0);
    for (PetscInt j = 0; j < R; j++) {
      PetscReal c = 0;
      if (s2[j] > rcond * rcond * s2[0]) continue;
      out++;
      for (PetscInt i = 0; i < R; i++) c += V[j * R + i] * d[i];
      ck_assert_msg(PetscAbsReal(c) <= 1e-10 * nd, "rcond %g: d has %g along direction %d (sigma^2 %g of %g), which is left out", (double)rcond, (double)c, (int)j, (double)s2[j], (double)s2[0]);
    }
    ck_assert_msg(out >= 2, "rcond %g left out %d directions: expected at least 2 of this matrix's", (double)rcond, (int)out);
  }
  PetscFree(work);
}
END_TEST

START_TEST(test_hardpde_refusals)
{
  const Opt few[]       = {{"-az_hardpde", "1"}, {"-az_hardpde_basis", "40"}, {"-az_hardpde_points", "10"}, {NULL, NULL}};
  const Opt hardif[]    = {{"-az_hardpde", "1"}, {"-az_constraint", "hard"}, {"-az_moe_experts", "2"}, {"-az_moe_blend", "interface"}, {NULL, NULL}};
  const Opt softplus[]  = {{"-az_hardpde", "1"}, {"-az_positivity", "hard"}, {NULL, NULL}};
  const Opt project[]   = {{"-az_hardpde", "1"}, {"-az_conservation", "project"}, {NULL, NULL}};
  const Opt infer[]     = {{"-az_hardpde", "1"}, {"-az_infer", "kappa"}, {NULL, NULL}};
  const Opt divfree[]   = {{"-az_hardpde", "1"}, {"-az_divfree", "1"}, {NULL, NULL}};
  const Opt basis0[]    = {{"-az_hardpde", "1"}, {"-az_hardpde_basis", "0"}, {NULL, NULL}};
  const Opt rcond1[]    = {{"-az_hardpde", "1"}, {"-az_hardpde_rcond", "1"}, {NULL, NULL}};
  const Opt final1[]    = {{"-az_hardpde", "1"}, {"-az_hardpde_final_ridge", "-1"}, {NULL, NULL}};
  const Opt experts[]   = {{"-az_hardpde", "1"}, {"-az_hardpde_basis", "4"}, {"-az_hardpde_points", "40"}, {"-az_moe_experts", "20"}, {NULL, NULL}};
  const Opt blend[]     = {{"-az_hardpde", "1"}, {"-az_moe_experts", "2"}, {"-az_moe_blend", "overlap"}, {NULL, NULL}};
  const Opt if1[]       = {{"-az_hardpde", "1"}, {"-az_moe_experts", "1"}, {"-az_moe_blend", "interface"}, {NULL, NULL}};
  const Opt ifw0[]      = {{"-az_hardpde", "1"}, {"-az_moe_experts", "2"}, {"-az_moe_blend", "interface"}, {"-az_moe_interface_weight", "0"}, {NULL, NULL}};
  const Opt ifwneg[]    = {{"-az_hardpde", "1"}, {"-az_moe_experts", "2"}, {"-az_moe_blend", "interface"}, {"-az_moe_interface_weight", "-1"}, {NULL, NULL}};
  const Opt ifpts[]     = {{"-az_hardpde", "1"}, {"-az_moe_experts", "4"}, {"-az_moe_blend", "interface"}, {"-az_moe_interface_points", "2"}, {NULL, NULL}};

  ExpectRefused("fewer residuals than unknowns", "heat1d", NULL, few, "at least as many residuals as unknowns are needed");
  ExpectRefused("hardpde-moe interface + hard conditions", "heat1d", NULL, hardif, "-az_hardpde with -az_moe_blend interface does not combine with hard boundary or initial conditions");
  ExpectRefused("hardpde + softplus", "advection1d", NULL, softplus, "-az_positivity hard and -az_bounds hard (a nonlinear output map) are refused");
  ExpectRefused("hardpde + projection", "advection1d", NULL, project, "-az_hardpde does not combine with -az_conservation");
  ExpectRefused("hardpde + infer", "heat1d", NULL, infer, "-az_hardpde does not combine with -az_infer");
  ExpectRefused("hardpde + divfree", "flow2d", NULL, divfree, "-az_hardpde does not combine with -az_divfree");
  ExpectRefused("hardpde with no basis", "heat1d", NULL, basis0, "-az_hardpde_basis must be between 1 and 4096");
  ExpectRefused("hardpde with rcond 1", "heat1d", NULL, rcond1, "-az_hardpde_rcond must be in [0, 1)");
  ExpectRefused("hardpde with a negative final ridge", "heat1d", NULL, final1, "-az_hardpde_final_ridge must be >= 0 and finite");
  ExpectRefused("more experts than points per expert", "heat1d", NULL, experts, "use fewer experts (-az_moe_experts)");
  ExpectRefused("an unknown blend", "heat1d", NULL, blend, "-az_moe_blend overlap: the experts join by pou");
  ExpectRefused("interface with one expert", "heat1d", NULL, if1, "it needs at least 2 experts, and -az_moe_experts 1 gives 1");
  ExpectRefused("interface weight 0", "heat1d", NULL, ifw0, "-az_moe_interface_weight must be positive and finite");
  ExpectRefused("interface weight -1", "heat1d", NULL, ifwneg, "-az_moe_interface_weight must be positive and finite");
  ExpectRefused("fewer interface points than cuts", "heat1d", NULL, ifpts, "at least one point per cut (3 cuts between 4 experts)");
  {
    const Opt grid23[]  = {{"-az_hardpde", "1"}, {"-az_moe_experts", "4"}, {"-az_moe_grid", "2,3"}, {NULL, NULL}};
    const Opt grid3[]   = {{"-az_hardpde", "1"}, {"-az_moe_experts", "4"}, {"-az_moe_grid", "2,2,1"}, {NULL, NULL}};
    const Opt unsorted[] = {{"-az_hardpde", "1"}, {"-az_moe_experts", "3"}, {"-az_moe_cuts_x", "0.5,0.2"}, {NULL, NULL}};
    const Opt outside[] = {{"-az_hardpde", "1"}, {"-az_moe_experts", "3"}, {"-az_moe_cuts_x", "0.5,1.2"}, {NULL, NULL}};
    const Opt ncut[]    = {{"-az_hardpde", "1"}, {"-az_moe_experts", "4"}, {"-az_moe_grid", "4"}, {"-az_moe_cuts_x", "0.5"}, {NULL, NULL}};
    const Opt noaxis[]  = {{"-az_hardpde", "1"}, {"-az_moe_experts", "2"}, {"-az_moe_cuts_y", "0.5"}, {NULL, NULL}};
    const Opt ifgrid[]  = {{"-az_hardpde", "1"}, {"-az_moe_experts", "2"}, {"-az_moe_grid", "1,2"}, {"-az_moe_blend", "interface"}, {NULL, NULL}};
    const Opt many[]    = {{"-az_hardpde", "1"}, {"-az_hardpde_basis", "6"}, {"-az_hardpde_points", "40"}, {"-az_moe_experts", "20"}, {"-az_moe_grid", "1,20"}, {NULL, NULL}};
    const Opt start[]   = {{"-az_hardpde", "1"}, {"-az_hardpde_start", "hot"}, {NULL, NULL}};
    const Opt damp[]    = {{"-az_hardpde", "1"}, {"-az_hardpde_damping", "trust"}, {NULL, NULL}};
    ExpectRefused("a grid of 6 for 4 experts", "heat1d", NULL, grid23, "2,3 experts per axis (time last) make 6, but there are 4 experts");
    ExpectRefused("a grid of 3 axes on heat1d", "heat1d", NULL, grid3, "-az_moe_grid: 3 counts for a problem of 2 coordinates");
    ExpectRefused("unsorted cuts", "heat1d", NULL, unsorted, "-az_moe_cuts_x: the cuts must increase (0.2 after 0.5)");
    ExpectRefused("a cut outside the box", "heat1d", NULL, outside, "-az_moe_cuts_x: cut 1.2 is not inside the box's");
    ExpectRefused("cuts against the grid", "heat1d", NULL, ncut, "-az_moe_cuts_x: 1 cuts for 4 experts along x; give 3");
    ExpectRefused("cuts on an axis the problem lacks", "heat1d", NULL, noaxis, "-az_moe_cuts_y: the problem has no axis y");
    ExpectRefused("interface blend on a grid", "heat1d", NULL, ifgrid, "-az_moe_blend interface joins experts along the first axis at even cuts only");
    ExpectRefused("more experts along t than points per expert", "heat1d", NULL, many, "use fewer experts (-az_moe_experts)");
    ExpectRefused("an unknown start", "heat1d", NULL, start, "-az_hardpde_start hot: a nonlinear solve starts warm");
    ExpectRefused("an unknown damping", "heat1d", NULL, damp, "-az_hardpde_damping trust: a nonlinear solve's step is halved");
  }
}
END_TEST

/* the derivative checks of CheckTerms without its term list */
static void CheckDerivativesOnly(const char *label, const char *problem, const Opt *opts)
{
  Setup     s;
  PetscReal f;

  ck_assert_msg(MakeSetup(problem, NULL, opts, &s) == 0, "%s: set-up failed", label);
  ck_assert_int_eq(AzLossEvaluate(s.loss, &f, NULL, NULL), 0);
  CheckDerivatives(label, &s);
  FreeSetup(&s);
}

/* -az_moe_solve coupled: one solve for all the experts' weights W from the blended u's residual at the
 * global solve's points. At the same θ (copied) and ridge 0: (a) W = (w, .., w) from the global solve's
 * w gives the coupled objective the global's (Σ_e χ_e = 1 and the same points: to round-off), and (b)
 * the coupled minimum is at most it (the coupled basis χ_e φ spans the global one; linear: a linear PDE,
 * else the nonlinear solves may end in different minima). With two components, (a) also checks that W
 * is permuted right between the map's order and the solve's (a wrong order breaks W's repetition) */
static void CheckCoupledObjective(const char *label, const char *problem, const Opt *og, const Opt *oc, PetscBool linear)
{
  Setup              g, c;
  PetscReal          f, objg, objc, orep;
  PetscInt           Rg, Rc;
  const PetscScalar *wg;
  PetscScalar       *W;
  Vec                tg, tc;

  ck_assert_msg(MakeSetup(problem, NULL, og, &g) == 0, "%s: the global set-up failed", label);
  ck_assert_msg(MakeSetup(problem, NULL, oc, &c) == 0, "%s: the coupled set-up failed", label);
  AzFieldGetParameters(g.field, &tg);
  AzFieldGetParameters(c.field, &tc);
  ck_assert_int_eq(VecCopy(tg, tc), 0);
  ck_assert_int_eq(AzLossEvaluate(g.loss, &f, NULL, NULL), 0);
  ck_assert_int_eq(AzLossEvaluate(c.loss, &f, NULL, NULL), 0);
  ck_assert_int_eq(AzLossHardPDEInfo(g.loss, NULL, &objg, &Rg, &wg), 0);
  ck_assert_int_eq(AzLossHardPDEInfo(c.loss, NULL, &objc, &Rc, NULL), 0);
  ck_assert_msg(Rc % Rg == 0 && Rc / Rg >= 2, "%s: %d coupled weights for %d global ones", label, (int)Rc, (int)Rg);
  PetscMalloc1(Rc, &W);
  for (PetscInt e = 0; e < Rc / Rg; e++)
    for (PetscInt j = 0; j < Rg; j++) W[e * Rg + j] = wg[j]; /* the map's order: expert, component, basis */
  ck_assert_int_eq(AzLossHardPDEObjective(c.loss, W, &orep, NULL), 0);
  ck_assert_msg(PetscAbsReal(orep - objg) <= 1e-10 * objg, "%s: the coupled objective at W = (w, .., w) %.15g, the global solve's %.15g", label, (double)orep, (double)objg);
  ck_assert_msg(!linear || objc <= objg * (1 + 1e-10), "%s: the coupled minimum %.15g above the global one %.15g", label, (double)objc, (double)objg);
  PetscFree(W);
  FreeSetup(&c);
  FreeSetup(&g);
}

START_TEST(test_hardpde_coupled)
{
  const char *const t_heat[]    = {"pde", "bc_x0", "bc_x1", "initial", NULL};
  const char *const t_poisson[] = {"pde", "bc_x0", "bc_x1", "bc_y0", "bc_y1", NULL};
  const char *const t_pde[]     = {"pde", NULL};
  const Opt         o_c[]       = {{"-az_hardpde", "1"}, {"-az_hardpde_basis", "3"}, {"-az_hardpde_points", "60"}, {"-az_moe_experts", "3"}, {"-az_moe_solve", "coupled"}, {NULL, NULL}};
  const Opt         o_hard[]    = {{"-az_hardpde", "1"}, {"-az_hardpde_basis", "3"}, {"-az_hardpde_points", "60"}, {"-az_moe_experts", "3"}, {"-az_moe_solve", "coupled"}, {"-az_constraint", "hard"}, {NULL, NULL}};
  const Opt         o_22[]      = {{"-az_hardpde", "1"}, {"-az_hardpde_basis", "3"}, {"-az_hardpde_points", "80"}, {"-az_moe_experts", "4"}, {"-az_moe_grid", "2,2"}, {"-az_moe_solve", "coupled"}, {NULL, NULL}};
  const Opt         o_nl[]      = {{"-az_hardpde", "1"}, {"-az_hardpde_basis", "3"}, {"-az_hardpde_points", "60"}, {"-az_moe_experts", "3"}, {"-az_moe_solve", "coupled"}, {"-az_hardpde_tol", "1e-14"}, {NULL, NULL}};

  {
    const Opt g_soft[] = {{"-az_hardpde", "1"}, {"-az_hardpde_basis", "3"}, {"-az_hardpde_points", "60"}, {"-az_hardpde_ridge", "0"}, {NULL, NULL}};
    const Opt c_soft[] = {{"-az_hardpde", "1"}, {"-az_hardpde_basis", "3"}, {"-az_hardpde_points", "60"}, {"-az_hardpde_ridge", "0"}, {"-az_moe_experts", "3"}, {"-az_moe_solve", "coupled"}, {NULL, NULL}};
    const Opt g_hard[] = {{"-az_hardpde", "1"}, {"-az_hardpde_basis", "3"}, {"-az_hardpde_points", "60"}, {"-az_hardpde_ridge", "0"}, {"-az_constraint", "hard"}, {NULL, NULL}};
    const Opt c_hard[] = {{"-az_hardpde", "1"}, {"-az_hardpde_basis", "3"}, {"-az_hardpde_points", "60"}, {"-az_hardpde_ridge", "0"}, {"-az_constraint", "hard"}, {"-az_moe_experts", "4"}, {"-az_moe_grid", "2,2"}, {"-az_moe_solve", "coupled"}, {NULL, NULL}};
    const Opt g_p2[]   = {{"-az_hardpde", "1"}, {"-az_hardpde_basis", "3"}, {"-az_hardpde_points", "80"}, {"-az_hardpde_ridge", "0"}, {NULL, NULL}};
    CheckCoupledObjective("heat1d, 3 experts along x", "heat1d", g_soft, c_soft, PETSC_TRUE);
    CheckCoupledObjective("heat1d + hard conditions, 2 x 2 experts", "heat1d", g_hard, c_hard, PETSC_TRUE);
    CheckCoupledObjective("poisson2d, 2 x 2 experts", "poisson2d", g_p2, o_22, PETSC_TRUE);
  }
  CheckHardPDESolve("heat1d hardpde-moe coupled: the solve", "heat1d", o_c);
  CheckTerms("heat1d hardpde-moe coupled: terms and derivatives through the one solve of the blend", "heat1d", o_c, 0, 0, t_heat, NULL);
  CheckHardConditions("heat1d hardpde-moe coupled + hard conditions", "heat1d", o_hard, 60);
  CheckHardPDESolve("heat1d hardpde-moe coupled + hard conditions: the solve", "heat1d", o_hard);
  CheckTerms("heat1d hardpde-moe coupled + hard conditions: derivatives through the blend, the transform and the solve", "heat1d", o_hard, 0, 0, t_pde, NULL);
  CheckHardPDESolve("poisson2d hardpde-moe coupled 2 x 2: the solve", "poisson2d", o_22);
  CheckTerms("poisson2d hardpde-moe coupled 2 x 2: derivatives through the one solve", "poisson2d", o_22, 0, 0, t_poisson, NULL);
  {
    /* the coupled solve's step: Levenberg–Marquardt unless -az_hardpde_damping is given; the
     * independent experts and the global solve halve */
    const Opt o_halve[] = {{"-az_hardpde", "1"}, {"-az_hardpde_basis", "3"}, {"-az_hardpde_points", "60"}, {"-az_moe_experts", "3"}, {"-az_moe_solve", "coupled"}, {"-az_hardpde_damping", "halve"}, {NULL, NULL}};
    const Opt o_ind[]   = {{"-az_hardpde", "1"}, {"-az_hardpde_basis", "3"}, {"-az_hardpde_points", "60"}, {"-az_moe_experts", "3"}, {NULL, NULL}};
    const Opt *os[]     = {o_nl, o_halve, o_ind};
    const char *what[]  = {"coupled, no -az_hardpde_damping", "coupled, -az_hardpde_damping halve", "independent experts"};
    for (int i = 0; i < 3; i++) {
      Setup s;
      ck_assert_msg(MakeSetup("burgers1d", NULL, os[i], &s) == 0, "%s: the set-up failed", what[i]);
      ck_assert_msg(s.loss->hardpde_lm == (i == 0), "%s: the solve damps by %s", what[i], s.loss->hardpde_lm ? "Levenberg-Marquardt" : "halving");
      FreeSetup(&s);
    }
  }
  CheckHardPDESolve("burgers1d hardpde-moe coupled (nonlinear): the solve", "burgers1d", o_nl);
  CheckTerms("burgers1d hardpde-moe coupled (nonlinear): derivatives through the one solve with H's second-order part", "burgers1d", o_nl, 0, 0, t_heat, NULL);
  {
    /* two components (nls1d): the coupled solve's weights (component, expert, basis) permuted to the
     * map's (expert, component, basis) */
    const Opt o_two[] = {{"-az_hardpde", "1"}, {"-az_hardpde_basis", "3"}, {"-az_hardpde_points", "120"}, {"-az_moe_experts", "2"}, {"-az_moe_solve", "coupled"}, {"-az_hardpde_tol", "1e-14"}, {NULL, NULL}};
    CheckHardPDESolve("nls1d hardpde-moe coupled (two components): the solve", "nls1d", o_two);
    const Opt g_two[] = {{"-az_hardpde", "1"}, {"-az_hardpde_basis", "3"}, {"-az_hardpde_points", "120"}, {"-az_hardpde_tol", "1e-14"}, {"-az_hardpde_ridge", "0"}, {NULL, NULL}};
    const Opt c_two[] = {{"-az_hardpde", "1"}, {"-az_hardpde_basis", "3"}, {"-az_hardpde_points", "120"}, {"-az_hardpde_tol", "1e-14"}, {"-az_hardpde_ridge", "0"}, {"-az_moe_experts", "2"}, {"-az_moe_solve", "coupled"}, {NULL, NULL}};
    CheckDerivativesOnly("nls1d hardpde-moe coupled (two components): derivatives", "nls1d", o_two);
    CheckCoupledObjective("nls1d (two components), 2 experts", "nls1d", g_two, c_two, PETSC_FALSE);
  }
  {
    const Opt cif[] = {{"-az_hardpde", "1"}, {"-az_moe_experts", "2"}, {"-az_moe_blend", "interface"}, {"-az_moe_solve", "coupled"}, {NULL, NULL}};
    const Opt bad[] = {{"-az_hardpde", "1"}, {"-az_moe_experts", "2"}, {"-az_moe_solve", "joint"}, {NULL, NULL}};
    ExpectRefused("coupled with crisp boxes", "heat1d", NULL, cif, "-az_moe_solve coupled solves the blended solution of -az_moe_blend pou");
    ExpectRefused("an unknown solve of the experts", "heat1d", NULL, bad, "-az_moe_solve joint: the experts' weights are solved independent");
  }
}
END_TEST

/* ==== 3. options prefixes =========================================================================== */

static PetscReal Weight(Setup *s, const char *name)
{
  PetscReal w = -1;
  PetscInt  k = LossTermIndex(s->loss, name);
  ck_assert_msg(k >= 0, "no term %s", name);
  AzLossGetWeight(s->loss, k, &w);
  return w;
}

/* the same options database, two losses: one with prefix s1_, one without */
START_TEST(test_prefix)
{
  Setup       s;
  const char *strategy, *prefix;

  /* a weight */
  PetscOptionsSetValue(NULL, "-s1_az_weight_boundary", "7");
  ck_assert_int_eq(MakeSetup("heat1d", "s1_", NULL, &s), 0);
  AzLossGetOptionsPrefix(s.loss, &prefix);
  ck_assert_str_eq(prefix, "s1_");
  ck_assert_msg(Weight(&s, "bc_x0") == 7 && Weight(&s, "bc_x1") == 7 && Weight(&s, "pde") == 1 && Weight(&s, "initial") == 1, "prefix s1_: bc weights %g %g (expected 7), pde %g, initial %g (expected 1)", (double)Weight(&s, "bc_x0"), (double)Weight(&s, "bc_x1"), (double)Weight(&s, "pde"), (double)Weight(&s, "initial"));
  FreeSetup(&s);
  ck_assert_int_eq(MakeSetup("heat1d", NULL, NULL, &s), 0);
  ck_assert_msg(Weight(&s, "bc_x0") == 1 && Weight(&s, "bc_x1") == 1, "no prefix: bc weights %g %g, expected the default 1", (double)Weight(&s, "bc_x0"), (double)Weight(&s, "bc_x1"));
  FreeSetup(&s);
  /* the prefixed option wins over the unprefixed one, which the other loss reads */
  PetscOptionsSetValue(NULL, "-az_weight_boundary", "5");
  ck_assert_int_eq(MakeSetup("heat1d", "s1_", NULL, &s), 0);
  ck_assert_msg(Weight(&s, "bc_x0") == 7, "prefix s1_ with -az_weight_boundary 5 -s1_az_weight_boundary 7: weight %g", (double)Weight(&s, "bc_x0"));
  FreeSetup(&s);
  ck_assert_int_eq(MakeSetup("heat1d", NULL, NULL, &s), 0);
  ck_assert_msg(Weight(&s, "bc_x0") == 5, "no prefix with -az_weight_boundary 5 -s1_az_weight_boundary 7: weight %g", (double)Weight(&s, "bc_x0"));
  FreeSetup(&s);
  PetscOptionsClearValue(NULL, "-az_weight_boundary");
  PetscOptionsClearValue(NULL, "-s1_az_weight_boundary");

  /* the constraint strategy: a transform in the chain */
  {
    const char *const transform[] = {"transform"}, *none[] = {NULL};
    PetscOptionsSetValue(NULL, "-s1_az_constraint", "hard");
    ck_assert_int_eq(MakeSetup("heat1d", "s1_", NULL, &s), 0);
    CheckMaps("prefix s1_, -s1_az_constraint hard", &s, 1, transform);
    AzLossGetConditionStrategy(s.loss, 0, &strategy);
    ck_assert_str_eq(strategy, "hard");
    ck_assert_msg(LossTermIndex(s.loss, "bc_x0") < 0 && LossTermIndex(s.loss, "initial") < 0, "prefix s1_, hard: no condition terms");
    FreeSetup(&s);
    ck_assert_int_eq(MakeSetup("heat1d", NULL, NULL, &s), 0);
    CheckMaps("no prefix, -s1_az_constraint hard", &s, 0, none);
    AzLossGetConditionStrategy(s.loss, 0, &strategy);
    ck_assert_str_eq(strategy, "soft");
    FreeSetup(&s);
    PetscOptionsClearValue(NULL, "-s1_az_constraint");
    /* one face */
    PetscOptionsSetValue(NULL, "-s1_az_constraint_bc_x1", "hard");
    ck_assert_int_eq(MakeSetup("heat1d", "s1_", NULL, &s), 0);
    CheckMaps("prefix s1_, -s1_az_constraint_bc_x1 hard", &s, 1, transform);
    ck_assert_msg(LossTermIndex(s.loss, "bc_x0") >= 0 && LossTermIndex(s.loss, "bc_x1") < 0, "prefix s1_, x = 1 hard: bc_x0 only");
    FreeSetup(&s);
    ck_assert_int_eq(MakeSetup("heat1d", NULL, NULL, &s), 0);
    CheckMaps("no prefix, -s1_az_constraint_bc_x1 hard", &s, 0, none);
    FreeSetup(&s);
    PetscOptionsClearValue(NULL, "-s1_az_constraint_bc_x1");
  }

  /* positivity, a law's mode, the stream function */
  {
    const char *const softplus[] = {"softplus"}, *projection[] = {"projection"}, *stream[] = {"stream"}, *none[] = {NULL};
    PetscOptionsSetValue(NULL, "-s1_az_positivity", "hard");
    ck_assert_int_eq(MakeSetup("advection1d", "s1_", NULL, &s), 0);
    CheckMaps("prefix s1_, -s1_az_positivity hard", &s, 1, softplus);
    FreeSetup(&s);
    ck_assert_int_eq(MakeSetup("advection1d", NULL, NULL, &s), 0);
    CheckMaps("no prefix, -s1_az_positivity hard", &s, 0, none);
    FreeSetup(&s);
    PetscOptionsClearValue(NULL, "-s1_az_positivity");

    PetscOptionsSetValue(NULL, "-s1_az_conservation_mass", "project");
    PetscOptionsSetValue(NULL, "-s1_az_time_slices", "5");
    ck_assert_int_eq(MakeSetup("advection1d", "s1_", NULL, &s), 0);
    CheckMaps("prefix s1_, -s1_az_conservation_mass project", &s, 1, projection);
    AzLossGetLawStrategy(s.loss, 0, &strategy);
    ck_assert_str_eq(strategy, "project");
    FreeSetup(&s);
    ck_assert_int_eq(MakeSetup("advection1d", NULL, NULL, &s), 0);
    CheckMaps("no prefix, -s1_az_conservation_mass project", &s, 0, none);
    AzLossGetLawStrategy(s.loss, 0, &strategy);
    ck_assert_str_eq(strategy, "none");
    FreeSetup(&s);
    PetscOptionsClearValue(NULL, "-s1_az_conservation_mass");
    PetscOptionsClearValue(NULL, "-s1_az_time_slices");

    /* a law the problem does not have, under the loss's prefix: refused by that loss, not by the other */
    {
      const Opt bad[] = {{"-s1_az_conservation_energy", "soft"}, {NULL, NULL}};
      ExpectRefused("prefix s1_, -s1_az_conservation_energy", "advection1d", "s1_", bad, "-s1_az_conservation_energy: problem advection1d has no law 'energy'");
      PetscOptionsSetValue(NULL, "-s1_az_conservation_energy", "soft");
      ck_assert_msg(MakeSetup("advection1d", NULL, NULL, &s) == 0, "no prefix: -s1_az_conservation_energy must be left to the prefixed loss");
      FreeSetup(&s);
      PetscOptionsClearValue(NULL, "-s1_az_conservation_energy");
    }

    /* the stream function: the field made for it (AzRunCreateField reads -az_divfree), the loss told by
     * -s1_az_divfree alone */
    memset(&s, 0, sizeof s);
    SetOpts(NULL, base);
    SetOpts("s1_", base);
    PetscOptionsSetValue(NULL, "-az_divfree", "1");
    ck_assert_int_eq(AzProblemLoad(PETSC_COMM_WORLD, "euler2d", &s.prob), 0);
    ck_assert_int_eq(AzRunCreateField(s.prob, &s.field), 0);
    PetscOptionsClearValue(NULL, "-az_divfree");
    PetscOptionsSetValue(NULL, "-s1_az_divfree", "1");
    ck_assert_int_eq(AzLossCreate(s.prob, s.field, &s.loss), 0);
    ck_assert_int_eq(AzLossSetOptionsPrefix(s.loss, "s1_"), 0);
    ck_assert_int_eq(AzLossSetFromOptions(s.loss), 0);
    PetscOptionsClearValue(NULL, "-s1_az_divfree");
    ClearOpts(NULL, base);
    ClearOpts("s1_", base);
    CheckMaps("prefix s1_, -s1_az_divfree 1", &s, 1, stream);
    FreeSetup(&s);
  }

  /* the prefix is set before the set-up, and is not an option name */
  {
    PetscErrorCode ierr;
    ck_assert_int_eq(MakeSetup("heat1d", NULL, NULL, &s), 0);
    PetscPushErrorHandler(CaptureError, NULL);
    last_error[0] = 0;
    ierr          = AzLossSetOptionsPrefix(s.loss, "s1_");
    PetscPopErrorHandler();
    ck_assert_msg(ierr && strstr(last_error, "before AzLossSetUp"), "prefix after the set-up: %s", last_error);
    FreeSetup(&s);
    ck_assert_int_eq(AzProblemLoad(PETSC_COMM_WORLD, "heat1d", &s.prob), 0);
    ck_assert_int_eq(AzRunCreateField(s.prob, &s.field), 0);
    ck_assert_int_eq(AzLossCreate(s.prob, s.field, &s.loss), 0);
    PetscPushErrorHandler(CaptureError, NULL);
    last_error[0] = 0;
    ierr          = AzLossSetOptionsPrefix(s.loss, "-s1_");
    PetscPopErrorHandler();
    ck_assert_msg(ierr && strstr(last_error, "must not start with '-'"), "prefix -s1_: %s", last_error);
    FreeSetup(&s);
  }
}
END_TEST

/* A prefixed loss falls back on -az_X when -s1_az_X is absent (src/util/options.c). Skipped, with a
 * message, when AZ_TEST_NO_FALLBACK is set (a tree without the fallback). */
START_TEST(test_prefix_fallback)
{
  Setup       s;
  Vec         x;
  PetscInt    n;
  const char *strategy;

  if (getenv("AZ_TEST_NO_FALLBACK")) {
    PetscPrintf(PETSC_COMM_WORLD, "prefix_fallback: skipped (AZ_TEST_NO_FALLBACK is set)\n");
    return;
  }
  /* sizes, a weight and the constraint strategy, all unprefixed; one prefixed option besides */
  memset(&s, 0, sizeof s);
  SetOpts(NULL, base);
  PetscOptionsSetValue(NULL, "-az_weight_boundary", "5");
  PetscOptionsSetValue(NULL, "-az_constraint_initial", "hard");
  PetscOptionsSetValue(NULL, "-az_weight_interior", "9");
  PetscOptionsSetValue(NULL, "-s1_az_weight_interior", "3");
  ck_assert_int_eq(AzProblemLoad(PETSC_COMM_WORLD, "heat1d", &s.prob), 0);
  ck_assert_int_eq(AzRunCreateField(s.prob, &s.field), 0);
  ck_assert_int_eq(AzLossCreate(s.prob, s.field, &s.loss), 0);
  ck_assert_int_eq(AzLossSetOptionsPrefix(s.loss, "s1_"), 0);
  ck_assert_int_eq(AzLossSetFromOptions(s.loss), 0);
  ClearOpts(NULL, base);
  PetscOptionsClearValue(NULL, "-az_weight_boundary");
  PetscOptionsClearValue(NULL, "-az_constraint_initial");
  PetscOptionsClearValue(NULL, "-az_weight_interior");
  PetscOptionsClearValue(NULL, "-s1_az_weight_interior");
  ck_assert_int_eq(AzLossSetUp(s.loss), 0);
  AzLossGetTermPoints(s.loss, LossTermIndex(s.loss, "pde"), &x);
  VecGetSize(x, &n);
  ck_assert_msg(n / 2 == 40, "prefix s1_ without -s1_az_n_interior: %d interior points, expected 40 from -az_n_interior", (int)(n / 2));
  ck_assert_msg(Weight(&s, "bc_x0") == 5, "prefix s1_ without -s1_az_weight_boundary: weight %g, expected 5 from -az_weight_boundary", (double)Weight(&s, "bc_x0"));
  AzLossGetConditionStrategy(s.loss, AZ_COND_INITIAL, &strategy);
  ck_assert_msg(!strcmp(strategy, "hard"), "prefix s1_ without -s1_az_constraint_initial: initial condition %s, expected hard from -az_constraint_initial", strategy);
  ck_assert_msg(Weight(&s, "pde") == 3, "prefix s1_ with -az_weight_interior 9 -s1_az_weight_interior 3: pde weight %g, expected 3", (double)Weight(&s, "pde"));
  FreeSetup(&s);

  /* a law's mode and the stream function, unprefixed */
  {
    const char *const projection[] = {"projection"}, *stream[] = {"stream"};
    memset(&s, 0, sizeof s);
    SetOpts(NULL, base);
    PetscOptionsSetValue(NULL, "-az_conservation_mass", "posthoc");
    ck_assert_int_eq(AzProblemLoad(PETSC_COMM_WORLD, "advection1d", &s.prob), 0);
    ck_assert_int_eq(AzRunCreateField(s.prob, &s.field), 0);
    ck_assert_int_eq(AzLossCreate(s.prob, s.field, &s.loss), 0);
    ck_assert_int_eq(AzLossSetOptionsPrefix(s.loss, "s1_"), 0);
    ck_assert_int_eq(AzLossSetFromOptions(s.loss), 0);
    PetscOptionsClearValue(NULL, "-az_conservation_mass");
    CheckMaps("prefix s1_ without -s1_az_conservation_mass", &s, 1, projection);
    FreeSetup(&s);

    memset(&s, 0, sizeof s);
    PetscOptionsSetValue(NULL, "-az_divfree", "1");
    ck_assert_int_eq(AzProblemLoad(PETSC_COMM_WORLD, "euler2d", &s.prob), 0);
    ck_assert_int_eq(AzRunCreateField(s.prob, &s.field), 0);
    ck_assert_int_eq(AzLossCreate(s.prob, s.field, &s.loss), 0);
    ck_assert_int_eq(AzLossSetOptionsPrefix(s.loss, "s1_"), 0);
    ck_assert_int_eq(AzLossSetFromOptions(s.loss), 0);
    PetscOptionsClearValue(NULL, "-az_divfree");
    ClearOpts(NULL, base);
    CheckMaps("prefix s1_ without -s1_az_divfree", &s, 1, stream);
    FreeSetup(&s);
  }
}
END_TEST

/* the prefix cases' teardown: a failed assertion must not leave their options to the cases after them */

/* ---- causal training (Wang, Sankaran & Perdikaris 2022) ---------------------------------------------
 * On convection1d (β = 40, an untrained network): the PDE term's points fall into M slices of [t0, t1]
 * by their time; L_s = mean r² over slice s, w_s = exp(−ε Σ_{k<s} L_k), loss_pde = (1/n) Σ_p w_{s(p)} r_p²,
 * every sum recomputed here from the solution and the plugin's residual. */
static void CausalByHand(Setup *s, PetscInt M, PetscReal eps, PetscReal w[], PetscReal *pde, PetscInt *slice)
{
  const AzProblemInfo *info;
  Vec                  x;
  const PetscScalar   *xa;
  PetscInt             nloc, k = LossTermIndex(s->loss, "pde");
  PetscReal            sum[64], cnt[64], cum = 0, n = 0, all;

  ck_assert(M <= 64 && k >= 0);
  AzProblemGetInfo(s->prob, &info);
  AzLossGetTermPoints(s->loss, k, &x);
  VecGetLocalSize(x, &nloc);
  nloc /= s->ncoord;
  for (PetscInt i = 0; i < M; i++) sum[i] = cnt[i] = 0;
  VecGetArrayRead(x, &xa);
  for (PetscInt p = 0; p < nloc; p++) {
    const PetscReal *xp = (const PetscReal *)xa + p * s->ncoord;
    PetscScalar      jet[AZ_MAX_COMP * AZ_JET_MAX_NSLOT], r[AZ_MAX_RES];
    PetscInt         sl = (PetscInt)PetscFloorReal((xp[s->ncoord - 1] - info->t0) / (info->t1 - info->t0) * M);
    sl                  = PetscMax(0, PetscMin(sl, M - 1));
    if (slice) slice[p] = sl;
    AzLossEvaluateSolution(s->loss, 1, xp, jet);
    AzProblemEvaluateResidual(s->prob, AZ_COND_INTERIOR, xp, jet, r, NULL);
    sum[sl] += PetscRealPart(r[0] * r[0]);
    cnt[sl] += 1;
  }
  VecRestoreArrayRead(x, &xa);
  MPI_Allreduce(MPI_IN_PLACE, sum, (PetscMPIInt)M, MPIU_REAL, MPI_SUM, PETSC_COMM_WORLD);
  MPI_Allreduce(MPI_IN_PLACE, cnt, (PetscMPIInt)M, MPIU_REAL, MPI_SUM, PETSC_COMM_WORLD);
  *pde = 0;
  for (PetscInt i = 0; i < M; i++) {
    w[i] = PetscExpReal(-eps * cum);
    cum += cnt[i] > 0 ? sum[i] / cnt[i] : 0;
    *pde += w[i] * sum[i];
    n += cnt[i];
  }
  all = n;
  *pde /= all;
}

static const Opt causal_eps[] = {{"-az_causal", "1"}, {"-az_causal_slices", "4"}, {"-az_causal_eps", "0.002"}, {"-az_n_interior", "64"}, {NULL, NULL}};

START_TEST(test_causal_weights)
{
  Setup            s, plain;
  PetscInt         M, nloc, nlp, k, slice[64];
  const PetscReal *w;
  PetscReal        eps, wh[4], pde, f, term[AZ_MAX_TERMS];
  PetscScalar     *rc, *rp;
  const Opt        plain_opts[] = {{"-az_n_interior", "64"}, {NULL, NULL}};

  ck_assert_int_eq(MakeSetup("convection1d", NULL, causal_eps, &s), 0);
  ck_assert_int_eq(AzLossUpdateConstraints(s.loss, 0, 10), 0);
  ck_assert_int_eq(AzLossGetCausal(s.loss, &M, &w, &eps), 0);
  ck_assert_int_eq(M, 4);
  ck_assert(eps == 0.002);
  k = LossTermIndex(s.loss, "pde");
  CausalByHand(&s, M, eps, wh, &pde, slice);
  ck_assert(w[0] == 1);
  for (PetscInt i = 0; i < M; i++) ck_assert_msg(PetscAbsReal(w[i] - wh[i]) <= 1e-12 * wh[i], "slice %d: weight %.15g, by hand %.15g", (int)i, (double)w[i], (double)wh[i]);
  /* on an untrained network every slice has a residual: the weights fall along the slices */
  for (PetscInt i = 1; i < M; i++) ck_assert_msg(w[i] < w[i - 1], "weights do not fall: w[%d] = %g, w[%d] = %g", (int)i - 1, (double)w[i - 1], (double)i, (double)w[i]);
  ck_assert_msg(w[M - 1] < 0.9 && w[M - 1] > 1e-6, "the last weight %g: choose eps so that the test sees weights between 0 and 1", (double)w[M - 1]);
  ck_assert_int_eq(AzLossEvaluate(s.loss, &f, term, NULL), 0);
  ck_assert_msg(PetscAbsReal(term[k] - pde) <= 1e-12 * pde, "loss_pde %.15g, by hand %.15g", (double)term[k], (double)pde);
  /* with the weights frozen: ∇loss against differences, the Gauss–Newton pieces against the rows */
  CheckDerivatives("causal", &s);

  /* the rows: ρ_causal = √w_slice ρ_plain for the PDE's rows, the others unchanged (the same network) */
  ck_assert_int_eq(MakeSetup("convection1d", NULL, plain_opts, &plain), 0);
  ck_assert_int_eq(AzLossGetLocalResidualSize(s.loss, &nloc), 0);
  ck_assert_int_eq(AzLossGetLocalResidualSize(plain.loss, &nlp), 0);
  ck_assert_int_eq(nloc, nlp);
  PetscMalloc2(PetscMax(nloc, 1), &rc, PetscMax(nloc, 1), &rp);
  ck_assert_int_eq(AzLossResidualJacobian(s.loss, rc, NULL), 0);
  ck_assert_int_eq(AzLossResidualJacobian(plain.loss, rp, NULL), 0);
  {
    Vec      x;
    PetscInt npde;
    AzLossGetTermPoints(s.loss, k, &x);
    VecGetLocalSize(x, &npde);
    npde /= s.ncoord;
    ck_assert(k == 0 && npde <= 64);
    for (PetscInt i = 0; i < nloc; i++) {
      const PetscReal sc = i < npde ? PetscSqrtReal(w[slice[i]]) : 1;
      ck_assert_msg(PetscAbsScalar(rc[i] - sc * rp[i]) <= 1e-14 * PetscAbsScalar(rp[i]), "row %d: causal %.15g, √w × plain %.15g", (int)i, (double)rc[i], (double)(sc * rp[i]));
    }
  }
  PetscFree2(rc, rp);
  FreeSetup(&plain);
  FreeSetup(&s);
}
END_TEST

/* ε = 0: every weight is 1 and the loss, its terms and its gradient are the plain loss's, bit for bit */
START_TEST(test_causal_eps_zero)
{
  Setup            s, plain;
  const Opt        zero[]  = {{"-az_causal", "1"}, {"-az_causal_eps", "0"}, {"-az_n_interior", "64"}, {NULL, NULL}};
  const Opt        plain_opts[] = {{"-az_n_interior", "64"}, {NULL, NULL}};
  PetscInt         M;
  const PetscReal *w;
  PetscReal        f, fp, term[AZ_MAX_TERMS], termp[AZ_MAX_TERMS];
  Vec              g, gp;
  PetscBool        eq;

  ck_assert_int_eq(MakeSetup("convection1d", NULL, zero, &s), 0);
  ck_assert_int_eq(MakeSetup("convection1d", NULL, plain_opts, &plain), 0);
  ck_assert_int_eq(AzLossUpdateConstraints(s.loss, 0, 10), 0);
  ck_assert_int_eq(AzLossGetCausal(s.loss, &M, &w, NULL), 0);
  ck_assert_int_eq(M, 32); /* the default */
  for (PetscInt i = 0; i < M; i++) ck_assert(w[i] == 1);
  AzFieldGetParameters(s.field, &g);
  VecDuplicate(g, &g);
  VecDuplicate(g, &gp);
  ck_assert_int_eq(AzLossEvaluate(s.loss, &f, term, g), 0);
  ck_assert_int_eq(AzLossEvaluate(plain.loss, &fp, termp, gp), 0);
  ck_assert_msg(f == fp && term[0] == termp[0], "ε = 0: loss %.17g, plain %.17g", (double)f, (double)fp);
  VecEqual(g, gp, &eq);
  ck_assert_msg(eq, "ε = 0: the gradient differs from the plain loss's");
  VecDestroy(&g);
  VecDestroy(&gp);
  FreeSetup(&plain);
  FreeSetup(&s);
}
END_TEST

/* the schedule: at an update where min w > δ the next ε is taken (ε = 0 gives w ≡ 1 > 0.99: on to 0.5;
 * on an untrained network w < 0.99 there: it stays); with δ tiny every update advances, up to the last */
START_TEST(test_causal_schedule)
{
  Setup     s;
  const Opt list[]  = {{"-az_causal", "1"}, {"-az_causal_eps_list", "0,0.5,1000"}, {"-az_n_interior", "64"}, {NULL, NULL}};
  const Opt tiny[]  = {{"-az_causal", "1"}, {"-az_causal_eps_list", "0,0.001,1000"}, {"-az_causal_delta", "1e-300"}, {"-az_n_interior", "64"}, {NULL, NULL}};
  PetscReal eps;
  PetscInt  M;
  const PetscReal *w;

  ck_assert_int_eq(MakeSetup("convection1d", NULL, list, &s), 0);
  ck_assert_int_eq(AzLossGetCausal(s.loss, NULL, NULL, &eps), 0);
  ck_assert(eps == 0);
  ck_assert_int_eq(AzLossUpdateConstraints(s.loss, 0, 10), 0);
  ck_assert_int_eq(AzLossGetCausal(s.loss, &M, &w, &eps), 0);
  ck_assert_msg(eps == 0.5, "after the first update ε = %g, expected 0.5", (double)eps);
  ck_assert_msg(w[M - 1] < 0.99, "the weights are those of the new ε (min %g)", (double)w[M - 1]);
  ck_assert_int_eq(AzLossUpdateConstraints(s.loss, 1, 10), 0);
  ck_assert_int_eq(AzLossGetCausal(s.loss, NULL, NULL, &eps), 0);
  ck_assert_msg(eps == 0.5, "min w < 0.99: ε stays 0.5, not %g", (double)eps);
  FreeSetup(&s);
  ck_assert_int_eq(MakeSetup("convection1d", NULL, tiny, &s), 0);
  for (PetscInt it = 0; it < 4; it++) ck_assert_int_eq(AzLossUpdateConstraints(s.loss, it, 10), 0);
  ck_assert_int_eq(AzLossGetCausal(s.loss, NULL, NULL, &eps), 0);
  ck_assert_msg(eps == 1000, "δ = 1e-300: ε ends at the last value, not %g", (double)eps);
  FreeSetup(&s);
}
END_TEST

START_TEST(test_causal_refusals)
{
  const Opt steady[]  = {{"-az_causal", "1"}, {NULL, NULL}};
  const Opt off[]     = {{"-az_causal_eps", "1"}, {NULL, NULL}};
  const Opt both[]    = {{"-az_causal", "1"}, {"-az_causal_eps", "1"}, {"-az_causal_eps_list", "1,2"}, {NULL, NULL}};
  const Opt negative[] = {{"-az_causal", "1"}, {"-az_causal_eps_list", "1,-2"}, {NULL, NULL}};
  ExpectRefused("causal on a steady problem", "poisson2d", NULL, steady, "problem poisson2d is steady");
  ExpectRefused("causal option without -az_causal", "convection1d", NULL, off, "-az_causal_eps is set but causal training is off");
  ExpectRefused("eps and a list", "convection1d", NULL, both, "not both");
  ExpectRefused("negative eps", "convection1d", NULL, negative, "must be finite and non-negative");
}
END_TEST


/* time-marching's windows: window 1 of 4 counts the PDE points with t ≤ t0 + (t1 − t0)/4 only, as their
 * mean (by hand); the rows beyond are 0; the derivatives hold; window 4 of 4 is the plain loss, bit for
 * bit; with causal training it is refused */
START_TEST(test_time_window)
{
  Setup              s, plain;
  const Opt          opts[] = {{"-az_n_interior", "64"}, {NULL, NULL}};
  const AzProblemInfo *info;
  PetscReal          f, fp, term[AZ_MAX_TERMS], sum = 0, cnt = 0, tw;
  PetscInt           k, nloc, npde;
  Vec                x;
  const PetscScalar *xa;
  PetscScalar       *rho;

  ck_assert_int_eq(MakeSetup("convection1d", NULL, opts, &s), 0);
  ck_assert_int_eq(MakeSetup("convection1d", NULL, opts, &plain), 0);
  ck_assert_int_eq(AzLossSetTimeWindow(s.loss, 1, 4), 0);
  AzProblemGetInfo(s.prob, &info);
  tw = info->t0 + (info->t1 - info->t0) / 4;
  k  = LossTermIndex(s.loss, "pde");
  AzLossGetTermPoints(s.loss, k, &x);
  VecGetLocalSize(x, &npde);
  npde /= s.ncoord;
  ck_assert_int_eq(AzLossGetLocalResidualSize(s.loss, &nloc), 0);
  PetscMalloc1(PetscMax(nloc, 1), &rho);
  ck_assert_int_eq(AzLossResidualJacobian(s.loss, rho, NULL), 0);
  VecGetArrayRead(x, &xa);
  for (PetscInt p = 0; p < npde; p++) {
    const PetscReal *xp = (const PetscReal *)xa + p * s.ncoord;
    PetscScalar      jet[AZ_MAX_COMP * AZ_JET_MAX_NSLOT], r[AZ_MAX_RES];
    if (xp[s.ncoord - 1] > tw) {
      ck_assert_msg(rho[p] == 0, "point %d at t = %g beyond the window: row %g", (int)p, (double)xp[s.ncoord - 1], (double)rho[p]);
      continue;
    }
    AzLossEvaluateSolution(s.loss, 1, xp, jet);
    AzProblemEvaluateResidual(s.prob, AZ_COND_INTERIOR, xp, jet, r, NULL);
    sum += PetscRealPart(r[0] * r[0]);
    cnt += 1;
  }
  VecRestoreArrayRead(x, &xa);
  PetscFree(rho);
  sum = AllSum(sum);
  cnt = AllSum(cnt);
  ck_assert(cnt > 0 && cnt < 64);
  ck_assert_int_eq(AzLossEvaluate(s.loss, &f, term, NULL), 0);
  ck_assert_msg(PetscAbsReal(term[k] - sum / cnt) <= 1e-12 * term[k], "window 1 of 4: pde %.15g, by hand %.15g", (double)term[k], (double)(sum / cnt));
  CheckDerivatives("window", &s);
  ck_assert_int_eq(AzLossSetTimeWindow(s.loss, 4, 4), 0);
  ck_assert_int_eq(AzLossEvaluate(s.loss, &f, NULL, NULL), 0);
  ck_assert_int_eq(AzLossEvaluate(plain.loss, &fp, NULL, NULL), 0);
  ck_assert_msg(f == fp, "the last window %.17g, the plain loss %.17g", (double)f, (double)fp);
  FreeSetup(&plain);
  FreeSetup(&s);
  {
    const Opt causal[] = {{"-az_causal", "1"}, {NULL, NULL}};
    PetscErrorCode ierr;
    ck_assert_int_eq(MakeSetup("convection1d", NULL, causal, &s), 0);
    last_error[0] = 0;
    PetscPushErrorHandler(CaptureError, NULL);
    ierr = AzLossSetTimeWindow(s.loss, 1, 4);
    PetscPopErrorHandler();
    ck_assert(ierr != 0 && strstr(last_error, "does not combine with -az_causal"));
    FreeSetup(&s);
  }
}
END_TEST


/* wave1d's initial condition has two residuals per point (u − u0 and u_t, .ninitial = 2): the term is
 * their mean over points and both residuals (by hand), and the derivatives hold (the u_t row reads
 * the jet's t slot at t0) */
START_TEST(test_two_initial_conditions)
{
  Setup              s;
  const Opt          opts[] = {{"-az_n_interior", "32"}, {NULL, NULL}};
  PetscInt           k, nloc;
  Vec                x;
  const PetscScalar *xa;
  PetscReal          f, term[AZ_MAX_TERMS], sum = 0, cnt = 0, sum1 = 0;

  ck_assert_int_eq(MakeSetup("wave1d", NULL, opts, &s), 0);
  k = LossTermIndex(s.loss, "initial");
  ck_assert(k >= 0);
  AzLossGetTermPoints(s.loss, k, &x);
  VecGetLocalSize(x, &nloc);
  nloc /= s.ncoord;
  VecGetArrayRead(x, &xa);
  for (PetscInt p = 0; p < nloc; p++) {
    const PetscReal *xp = (const PetscReal *)xa + p * s.ncoord;
    PetscScalar      jet[AZ_MAX_COMP * AZ_JET_MAX_NSLOT], r[AZ_MAX_RES];
    AzLossEvaluateSolution(s.loss, 1, xp, jet);
    AzProblemEvaluateResidual(s.prob, AZ_COND_INITIAL, xp, jet, r, NULL);
    sum += PetscRealPart(r[0] * r[0] + r[1] * r[1]);
    sum1 += PetscRealPart(r[1] * r[1]);
    cnt += 2;
  }
  VecRestoreArrayRead(x, &xa);
  sum  = AllSum(sum);
  sum1 = AllSum(sum1);
  cnt  = AllSum(cnt);
  ck_assert_msg(sum1 > 0, "the u_t residual is 0 on an untrained network");
  ck_assert_int_eq(AzLossEvaluate(s.loss, &f, term, NULL), 0);
  ck_assert_msg(PetscAbsReal(term[k] - sum / cnt) <= 1e-12 * term[k], "initial %.15g, by hand %.15g", (double)term[k], (double)(sum / cnt));
  CheckDerivatives("wave1d", &s);
  FreeSetup(&s);
}
END_TEST

static void ClearPrefixOptions(void)
{
  const char *names[] = {"-az_weight_boundary", "-s1_az_weight_boundary", "-s1_az_constraint", "-s1_az_constraint_bc_x1", "-s1_az_positivity", "-s1_az_conservation_mass", "-s1_az_time_slices", "-s1_az_conservation_energy", "-az_divfree", "-s1_az_divfree", "-az_constraint_initial", "-az_weight_interior", "-s1_az_weight_interior", "-az_conservation_mass", NULL};
  for (const char **n = names; *n; n++) PetscOptionsClearValue(NULL, *n);
  ClearOpts(NULL, base);
  ClearOpts("s1_", base);
}

int main(int argc, char **argv)
{
  SRunner *sr;
  Suite   *s = suite_create("loss");
  TCase   *chain = tcase_create("chain"), *terms = tcase_create("terms"), *prefix = tcase_create("prefix"), *fallback = tcase_create("prefix_fallback");
  int      failed;

  PetscCall(PetscInitialize(&argc, &argv, NULL, NULL));
  tcase_add_test(chain, test_chain_combinations);
  tcase_add_test(chain, test_chain_refusals);
  tcase_add_test(terms, test_terms_conditions_data);
  tcase_add_test(terms, test_terms_positivity);
  tcase_add_test(terms, test_terms_bounds);
  tcase_add_test(terms, test_terms_infer);
  tcase_add_test(terms, test_infer_refusals);
  tcase_add_test(terms, test_terms_conservation);
  tcase_add_test(terms, test_terms_through_maps);
  tcase_add_test(terms, test_hardpde);
  tcase_add_test(terms, test_hardpde_interface);
  tcase_add_test(terms, test_hardpde_hard);
  tcase_add_test(terms, test_hardpde_final);
  tcase_add_test(terms, test_hardpde_refusals);
  tcase_add_test(terms, test_hardpde_lsq);
  tcase_add_checked_fixture(terms, NULL, RemoveData);
  tcase_add_checked_fixture(prefix, NULL, ClearPrefixOptions);
  tcase_add_checked_fixture(fallback, NULL, ClearPrefixOptions);
  tcase_add_test(prefix, test_prefix);
  tcase_add_test(fallback, test_prefix_fallback);
  suite_add_tcase(s, chain);
  suite_add_tcase(s, terms);
  suite_add_tcase(s, prefix);
  suite_add_tcase(s, fallback);
  {
    TCase *causal = tcase_create("causal");
    tcase_add_test(causal, test_causal_weights);
    tcase_add_test(causal, test_causal_eps_zero);
    tcase_add_test(causal, test_causal_schedule);
    tcase_add_test(causal, test_causal_refusals);
    tcase_add_test(causal, test_time_window);
    tcase_add_test(causal, test_two_initial_conditions);
    suite_add_tcase(s, causal);
  }
  {
    TCase *coupled = tcase_create("coupled");
    tcase_add_test(coupled, test_hardpde_coupled);
    tcase_add_checked_fixture(coupled, NULL, RemoveData);
    suite_add_tcase(s, coupled);
  }
  sr = srunner_create(s);
  srunner_set_fork_status(sr, CK_NOFORK);
  srunner_run_all(sr, CK_NORMAL);
  failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  PetscCall(PetscFinalize());
  return failed ? 1 : 0;
}
