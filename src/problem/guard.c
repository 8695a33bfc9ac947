/* Every call into a plugin goes through a guard: a loaded problem's descriptor is a copy of the
 * plugin's in which each callback is replaced by a wrapper. The wrapper records which plugin and
 * which callback runs (so a crash or an exit() inside it is reported by name, not as a bare
 * "Segmentation violation" or a silent exit 0), calls the plugin's function, and checks what must
 * be finite (the exact solution). The wrappers find their problem by its parameter array, which
 * every caller passes in AzPoint.param (AzProblemGetParams). */
#include "problemimpl.h"
#include <stddef.h>
#include <signal.h>
#include <unistd.h>

enum {
  AZ_CB_INTERIOR,
  AZ_CB_FACE,
  AZ_CB_FACE_VALUE,
  AZ_CB_INITIAL,
  AZ_CB_INITIAL_VALUE,
  AZ_CB_EXACT,
  AZ_CB_LIFT,
  AZ_CB_DENSITY,
  AZ_CB_FLUX,
  AZ_CB_SOURCE,
  AZ_CB_TARGET,
  AZ_CB_PARAM_DERIVATIVE
};

typedef struct {
  AzProblem      prob; /* NULL: no plugin code runs */
  int            kind, index;
  const AzPoint *point;
} AzGuardState;

static volatile sig_atomic_t in_handler;
static AzGuardState          current;
static AzProblem             registry[64];
static int                   nregistry;
static PetscBool             installed;
static struct sigaction      previous[NSIG];

static void Describe(const AzGuardState *s, char buf[], size_t len)
{
  const char           axes[] = "xyz";
  const AzProblemInfo *orig   = s->prob->orig;
  char                 what[160], at[160] = "";
  size_t               off;

  switch (s->kind) {
  case AZ_CB_INTERIOR:
    snprintf(what, sizeof what, "the interior residual (.interior)");
    break;
  case AZ_CB_FACE:
    snprintf(what, sizeof what, "the boundary residual of face %c = %s, bc_%c%d (.boundary[%d].residual)", axes[s->index / 2], s->index % 2 ? "upper" : "lower", axes[s->index / 2], s->index % 2, s->index);
    break;
  case AZ_CB_FACE_VALUE:
    snprintf(what, sizeof what, "the Dirichlet data of face %c = %s, bc_%c%d (.boundary[%d].value)", axes[s->index / 2], s->index % 2 ? "upper" : "lower", axes[s->index / 2], s->index % 2, s->index);
    break;
  case AZ_CB_INITIAL:
    snprintf(what, sizeof what, "the initial residual (.initial)");
    break;
  case AZ_CB_INITIAL_VALUE:
    snprintf(what, sizeof what, "the initial data (.initial_value)");
    break;
  case AZ_CB_EXACT:
    snprintf(what, sizeof what, "the exact solution (.exact)");
    break;
  case AZ_CB_LIFT:
    snprintf(what, sizeof what, "the lift (.lift)");
    break;
  case AZ_CB_TARGET:
    snprintf(what, sizeof what, "the target of conservation law '%s' (.conservation[%d].target)", orig->conservation[s->index].name, s->index);
    break;
  case AZ_CB_FLUX:
    snprintf(what, sizeof what, "the flux (.flux)");
    break;
  case AZ_CB_SOURCE:
    snprintf(what, sizeof what, "the source (.source)");
    break;
  case AZ_CB_PARAM_DERIVATIVE:
    snprintf(what, sizeof what, "the parameter derivative (.param_derivative) of parameter '%s'", s->index >= 0 && s->index < AZ_MAX_PARAMS && orig->params[s->index].name ? orig->params[s->index].name : "?");
    break;
  default:
    snprintf(what, sizeof what, "the density of conservation law '%s' (.conservation[%d].density)", orig->conservation[s->index].name, s->index);
  }
  if (s->point && s->point->x) {
    off = (size_t)snprintf(at, sizeof at, " at (");
    for (PetscInt i = 0; i < s->point->ncoord && i < AZ_MAX_COORD && off < sizeof at; i++) off += (size_t)snprintf(at + off, sizeof at - off, "%s%g", i ? ", " : "", (double)s->point->x[i]);
    if (off < sizeof at) snprintf(at + off, sizeof at - off, ")");
  }
  snprintf(buf, len, "problem plugin %s (%s), in %s%s", s->prob->path[0] ? s->prob->path : "(linked into the program)", orig->name, what, at);
}

static void OnSignal(int sig, siginfo_t *si, void *uc)
{
  if (current.prob && !in_handler) {
    char        msg[PETSC_MAX_PATH_LEN + 1024], where[PETSC_MAX_PATH_LEN + 512];
    const char *name = sig == SIGSEGV ? "SIGSEGV, a segmentation violation" : sig == SIGBUS ? "SIGBUS, a bus error" : sig == SIGFPE ? "SIGFPE, a floating-point exception" : "SIGILL, an illegal instruction";
    int         n;

    in_handler = 1;
    Describe(&current, where, sizeof where);
    n = snprintf(msg, sizeof msg, "\nansatz: the %s crashed (%s). The fault is in the plugin's code: fix that callback.\n", where, name);
    if (n > 0) (void)!write(STDERR_FILENO, msg, (size_t)PetscMin(n, (int)sizeof msg - 1));
    _exit(3);
  }
  /* not in plugin code: whoever handled the signal before (PETSc's handler, or the default) */
  if (previous[sig].sa_flags & SA_SIGINFO) previous[sig].sa_sigaction(sig, si, uc);
  else if (previous[sig].sa_handler != SIG_DFL && previous[sig].sa_handler != SIG_IGN) previous[sig].sa_handler(sig);
  else {
    signal(sig, SIG_DFL);
    raise(sig);
  }
}

/* exit() inside a callback (even exit(0)) must not pass for a successful run */
static void OnExit(void)
{
  if (current.prob) {
    char msg[PETSC_MAX_PATH_LEN + 1024], where[PETSC_MAX_PATH_LEN + 512];
    int  n;

    Describe(&current, where, sizeof where);
    n = snprintf(msg, sizeof msg, "\nansatz: the %s called exit(): a plugin must return an error code (SETERRQ/PetscCheck) instead. The run failed.\n", where);
    if (n > 0) (void)!write(STDERR_FILENO, msg, (size_t)PetscMin(n, (int)sizeof msg - 1));
    _exit(3);
  }
}

static void Install(void)
{
  const int        sigs[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL};
  struct sigaction sa;

  static char      altstack[1 << 16]; /* the handler runs here, so a plugin that overflows the stack is reported too */
  stack_t          ss = {0};

  if (installed) return;
  installed   = PETSC_TRUE;
  ss.ss_sp    = altstack;
  ss.ss_size  = sizeof altstack;
  ss.ss_flags = 0;
  (void)sigaltstack(&ss, NULL);
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = OnSignal;
  sa.sa_flags     = SA_SIGINFO | SA_NODEFER | SA_ONSTACK;
  sigemptyset(&sa.sa_mask);
  for (size_t k = 0; k < sizeof sigs / sizeof sigs[0]; k++) sigaction(sigs[k], &sa, &previous[sigs[k]]);
  atexit(OnExit);
}

static PetscErrorCode Find(const AzPoint *p, AzProblem *prob);
PetscErrorCode AzProblemFind(const AzPoint *p, AzProblem *prob)
{
  return Find(p, prob);
}

static PetscErrorCode Find(const AzPoint *p, AzProblem *prob)
{
  PetscFunctionBegin;
  *prob = NULL;
  for (int k = 0; k < nregistry; k++)
    if (p && p->param == registry[k]->param) *prob = registry[k];
  if (!*prob && nregistry == 1) *prob = registry[0];
  PetscCheck(*prob, PETSC_COMM_SELF, PETSC_ERR_ARG_WRONG, "A plugin callback was called with an AzPoint whose .param is not the array of AzProblemGetParams(): pass that array, so the call can be attributed to its problem");
  PetscFunctionReturn(PETSC_SUCCESS);
}

#define AZ_GUARD_CALL(kind_, index_, call_) \
  do { \
    AzProblem      prob_; \
    AzGuardState   save_ = current; \
    PetscErrorCode ierr_; \
    PetscCall(Find(p, &prob_)); \
    current = (AzGuardState){prob_, kind_, index_, p}; \
    ierr_   = (call_); \
    current = save_; \
    PetscCall(ierr_); \
  } while (0)

static PetscErrorCode GuardInterior(const AzPoint *p, const AzJet *J, PetscScalar r[], PetscScalar d[])
{
  PetscFunctionBegin;
  AZ_GUARD_CALL(AZ_CB_INTERIOR, 0, prob_->orig->interior(p, J, r, d));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode GuardFlux(const AzPoint *p, const AzJet *J, PetscScalar r[], PetscScalar d[])
{
  PetscFunctionBegin;
  AZ_GUARD_CALL(AZ_CB_FLUX, 0, prob_->orig->flux(p, J, r, d));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode GuardSource(const AzPoint *p, const AzJet *J, PetscScalar r[], PetscScalar d[])
{
  PetscFunctionBegin;
  AZ_GUARD_CALL(AZ_CB_SOURCE, 0, prob_->orig->source(p, J, r, d));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode GuardParamDerivative(PetscInt cond, PetscInt k, const AzPoint *p, const AzJet *J, PetscScalar d[], PetscBool *provided)
{
  PetscFunctionBegin;
  AZ_GUARD_CALL(AZ_CB_PARAM_DERIVATIVE, (int)k, prob_->orig->param_derivative(cond, k, p, J, d, provided));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode GuardInitial(const AzPoint *p, const AzJet *J, PetscScalar r[], PetscScalar d[])
{
  PetscFunctionBegin;
  AZ_GUARD_CALL(AZ_CB_INITIAL, 0, prob_->orig->initial(p, J, r, d));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode GuardInitialValue(const AzPoint *p, PetscScalar u[])
{
  PetscFunctionBegin;
  AZ_GUARD_CALL(AZ_CB_INITIAL_VALUE, 0, prob_->orig->initial_value(p, u));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode GuardLift(const AzPoint *p, PetscScalar jet[])
{
  PetscFunctionBegin;
  AZ_GUARD_CALL(AZ_CB_LIFT, 0, prob_->orig->lift(p, jet));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* the exact solution is the yardstick of every error: a NaN would make errors meaningless
 * (PetscMax drops it, so "max error 0" or 1.8e308), so it is an error that names the point */
static PetscErrorCode GuardExact(const AzPoint *p, PetscScalar u[])
{
  AzProblem prob;

  PetscFunctionBegin;
  AZ_GUARD_CALL(AZ_CB_EXACT, 0, prob_->orig->exact(p, u));
  PetscCall(Find(p, &prob));
  for (PetscInt c = 0; c < prob->orig->ncomp; c++) {
    if (PetscIsInfOrNanScalar(u[c])) {
      AzGuardState s = {prob, AZ_CB_EXACT, 0, p};
      char         where[PETSC_MAX_PATH_LEN + 512];
      Describe(&s, where, sizeof where);
      SETERRQ(PETSC_COMM_SELF, PETSC_ERR_FP, "The %s returned %s for component %" PetscInt_FMT ": the exact solution must be finite in the whole box", where, PetscIsNanScalar(u[c]) ? "NaN" : "Inf", c);
    }
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

#define AZ_GUARD_FACE(f) \
  static PetscErrorCode GuardFace##f(const AzPoint *p, const AzJet *J, PetscScalar r[], PetscScalar d[]) \
  { \
    PetscFunctionBegin; \
    AZ_GUARD_CALL(AZ_CB_FACE, f, prob_->orig->boundary[f].residual(p, J, r, d)); \
    PetscFunctionReturn(PETSC_SUCCESS); \
  } \
  static PetscErrorCode GuardFaceValue##f(const AzPoint *p, PetscScalar u[]) \
  { \
    PetscFunctionBegin; \
    AZ_GUARD_CALL(AZ_CB_FACE_VALUE, f, prob_->orig->boundary[f].value(p, u)); \
    PetscFunctionReturn(PETSC_SUCCESS); \
  }
AZ_GUARD_FACE(0)
AZ_GUARD_FACE(1)
AZ_GUARD_FACE(2)
AZ_GUARD_FACE(3)
AZ_GUARD_FACE(4)
AZ_GUARD_FACE(5)

#define AZ_GUARD_LAW(l) \
  static PetscErrorCode GuardDensity##l(const AzPoint *p, const AzJet *J, PetscScalar q[], PetscScalar d[]) \
  { \
    PetscFunctionBegin; \
    AZ_GUARD_CALL(AZ_CB_DENSITY, l, prob_->orig->conservation[l].density(p, J, q, d)); \
    PetscFunctionReturn(PETSC_SUCCESS); \
  }
#define AZ_GUARD_TARGET(l) \
  static PetscErrorCode GuardTarget##l(const AzPoint *p, PetscReal *Q) \
  { \
    PetscFunctionBegin; \
    AZ_GUARD_CALL(AZ_CB_TARGET, l, prob_->orig->conservation[l].target(p, Q)); \
    PetscFunctionReturn(PETSC_SUCCESS); \
  }
AZ_GUARD_TARGET(0)
AZ_GUARD_TARGET(1)
AZ_GUARD_TARGET(2)
AZ_GUARD_TARGET(3)
AZ_GUARD_LAW(0)
AZ_GUARD_LAW(1)
AZ_GUARD_LAW(2)
AZ_GUARD_LAW(3)

static const AzResidualFn guard_face[2 * AZ_MAX_DIM]       = {GuardFace0, GuardFace1, GuardFace2, GuardFace3, GuardFace4, GuardFace5};
static const AzPointFn    guard_face_value[2 * AZ_MAX_DIM] = {GuardFaceValue0, GuardFaceValue1, GuardFaceValue2, GuardFaceValue3, GuardFaceValue4, GuardFaceValue5};
static const AzResidualFn guard_density[AZ_MAX_LAWS]       = {GuardDensity0, GuardDensity1, GuardDensity2, GuardDensity3};
static const AzLawTargetFn guard_target[AZ_MAX_LAWS]       = {GuardTarget0, GuardTarget1, GuardTarget2, GuardTarget3};

/* p->guarded: a copy of the plugin's descriptor with every callback guarded; p->info points to it */
PetscErrorCode AzProblemGuard(AzProblem p)
{
  AzProblemInfo *g = &p->guarded;

  PetscFunctionBegin;
  PetscCheck(nregistry < (int)(sizeof registry / sizeof registry[0]), p->comm, PETSC_ERR_SUP, "More than %d problems loaded at once", (int)(sizeof registry / sizeof registry[0]));
  Install();
  /* a descriptor built for an older ABI is shorter: read what it has, the newer fields stay 0 */
  PetscCall(PetscMemzero(g, sizeof *g));
  if (p->orig->abi == 3) PetscCall(PetscMemcpy(g, p->orig, offsetof(AzProblemInfo, ninitial)));
  else if (p->orig->abi == 4) PetscCall(PetscMemcpy(g, p->orig, offsetof(AzProblemInfo, recipe)));
  else if (p->orig->abi == 5) PetscCall(PetscMemcpy(g, p->orig, offsetof(AzProblemInfo, param_derivative)));
  else *g = *p->orig;
  if (g->param_derivative) g->param_derivative = GuardParamDerivative;
  if (g->interior) g->interior = GuardInterior;
  if (g->initial) g->initial = GuardInitial;
  if (g->flux) g->flux = GuardFlux;
  if (g->source) g->source = GuardSource;
  if (g->initial_value) g->initial_value = GuardInitialValue;
  if (g->exact) g->exact = GuardExact;
  if (g->lift) g->lift = GuardLift;
  for (int f = 0; f < 2 * AZ_MAX_DIM; f++) {
    if (g->boundary[f].residual) g->boundary[f].residual = guard_face[f];
    if (g->boundary[f].value) g->boundary[f].value = guard_face_value[f];
  }
  for (int l = 0; l < AZ_MAX_LAWS; l++)
  {
    if (g->conservation[l].density) g->conservation[l].density = guard_density[l];
    if (g->conservation[l].target) g->conservation[l].target = guard_target[l];
  }
  p->info                = g;
  registry[nregistry++] = p;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzProblemUnguard(AzProblem p)
{
  PetscFunctionBegin;
  for (int k = 0; k < nregistry; k++)
    if (registry[k] == p) {
      registry[k] = registry[--nregistry];
      break;
    }
  PetscFunctionReturn(PETSC_SUCCESS);
}
