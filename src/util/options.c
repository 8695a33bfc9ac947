/* Strict options: see include/ansatz/options.h. Each reader checks the raw value, then calls
 * PETSc's own reader, and records the name it read so a misspelled option can be answered with
 * the closest valid one. */
#define AZ_OPTIONS_IMPL
#include <ansatz/compat.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define AZ_MAX_QUERIED 8192
static char    *queried[AZ_MAX_QUERIED]; /* names read, without the leading '-' (prefix included) */
static PetscInt nqueried;

static void FullName(const char prefix[], const char opt[], char full[], size_t len)
{
  snprintf(full, len, "%s%s", prefix ? prefix : "", opt[0] == '-' ? opt + 1 : opt);
}

static void Record(const char prefix[], const char opt[])
{
  char full[256];

  FullName(prefix, opt, full, sizeof full);
  for (PetscInt k = 0; k < nqueried; k++)
    if (!strcmp(queried[k], full)) return;
  if (nqueried < AZ_MAX_QUERIED) queried[nqueried++] = strdup(full); /* kept for the whole run */
}

/* The raw value of the option an object under prefix reads (NULL, with *given false, when absent):
 * -PREFIXopt when given, else -opt (the fallback: a global -az_X applies to every prefixed object
 * that does not have its own), else neither, and *used is the prefix. *used is the prefix the value
 * comes from (prefix, or NULL for the fallback): the name to read it under and to name in messages.
 * Records both names: the unprefixed one counts as read (AzOptionsCheckUnused) even when every
 * object had its own prefixed value. */
static PetscErrorCode Raw(PetscOptions options, const char prefix[], const char opt[], const char **used, const char **value, PetscBool *given)
{
  PetscFunctionBegin;
  *used = prefix;
  Record(prefix, opt);
  PetscCall(PetscOptionsFindPair(options, prefix, opt, value, given));
  if (prefix && prefix[0]) {
    Record(NULL, opt);
    if (!*given) {
      PetscCall(PetscOptionsFindPair(options, NULL, opt, value, given));
      if (*given) *used = NULL;
    }
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* call PETSc's reader with the options object's prefix set to the one the value comes from */
#define AZ_READ_UNDER(po, pre, call) \
  do { \
    char          *saved_ = (po)->prefix; \
    PetscErrorCode ierr_; \
    (po)->prefix = (char *)(pre); \
    ierr_        = (call); \
    (po)->prefix = saved_; \
    PetscCall(ierr_); \
  } while (0)

static PetscErrorCode NeedValue(const char prefix[], const char opt[], const char value[], PetscBool given, const char what[])
{
  char full[256];

  PetscFunctionBegin;
  FullName(prefix, opt, full, sizeof full);
  PetscCheck(!given || (value && value[0]), PETSC_COMM_SELF, PETSC_ERR_ARG_WRONG, "Option -%s needs a value (%s), but none was given", full, what);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* One integer token: when it is written as an integer, it must fit PetscInt (PETSc would wrap it). */
static PetscErrorCode CheckIntToken(const char full[], const char *s, size_t n)
{
  char      tok[64];
  PetscBool digits = PETSC_TRUE;
  size_t    i      = 0;

  PetscFunctionBegin;
  while (n && (*s == ' ' || *s == '\t')) s++, n--;
  while (n && (s[n - 1] == ' ' || s[n - 1] == '\t')) n--;
  if (n && (s[0] == '+' || s[0] == '-')) i = 1;
  if (i == n) digits = PETSC_FALSE;
  for (; i < n; i++)
    if (s[i] < '0' || s[i] > '9') digits = PETSC_FALSE;
  if (!digits) PetscFunctionReturn(PETSC_SUCCESS); /* not an integer literal: PETSc says what is wrong */
  {
    long long v;
    char     *end;
    int       overflow;

    if (n >= sizeof tok) overflow = 1;
    else {
      memcpy(tok, s, n);
      tok[n] = 0;
      errno  = 0;
      v      = strtoll(tok, &end, 10);
      overflow = errno == ERANGE || v > (long long)PETSC_MAX_INT || v < (long long)PETSC_MIN_INT;
    }
    PetscCheck(!overflow, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "Option -%s: %.*s does not fit an integer of this build (from %" PetscInt_FMT " to %" PetscInt_FMT ")", full, (int)PetscMin(n, 40), s, (PetscInt)PETSC_MIN_INT, (PetscInt)PETSC_MAX_INT);
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode CheckInts(const char prefix[], const char opt[], const char value[], PetscBool array)
{
  char full[256];

  PetscFunctionBegin;
  FullName(prefix, opt, full, sizeof full);
  if (!array) PetscCall(CheckIntToken(full, value, strlen(value)));
  else {
    for (const char *s = value; *s;) {
      const char *e = strchr(s, ',');
      size_t      n = e ? (size_t)(e - s) : strlen(s);
      const char *c = memchr(s, ':', n); /* a range a:b */
      if (c) {
        PetscCall(CheckIntToken(full, s, (size_t)(c - s)));
        PetscCall(CheckIntToken(full, c + 1, n - (size_t)(c - s) - 1));
      } else PetscCall(CheckIntToken(full, s, n));
      s += n;
      if (*s) s++;
    }
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode CheckFinite(const char prefix[], const char opt[], const char value[], PetscReal v)
{
  char full[256];

  PetscFunctionBegin;
  FullName(prefix, opt, full, sizeof full);
  PetscCheck(!PetscIsInfOrNanReal(v), PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "Option -%s: %s is not a finite number (a finite real value is required)", full, value ? value : "");
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzOptionsInt_Private(PetscOptionItems *po, const char opt[], const char text[], const char man[], PetscInt cur, PetscInt *v, PetscBool *set, PetscInt lb, PetscInt ub)
{
  const char *value, *pre;
  PetscBool   given;

  PetscFunctionBegin;
  PetscCall(Raw(po->options, po->prefix, opt, &pre, &value, &given));
  PetscCall(NeedValue(pre, opt, value, given, "an integer"));
  if (given) PetscCall(CheckInts(pre, opt, value, PETSC_FALSE));
  AZ_READ_UNDER(po, pre, PetscOptionsInt_Private(po, opt, text, man, cur, v, set, lb, ub));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzOptionsReal_Private(PetscOptionItems *po, const char opt[], const char text[], const char man[], PetscReal cur, PetscReal *v, PetscBool *set)
{
  const char *value, *pre;
  PetscBool   given;

  PetscFunctionBegin;
  PetscCall(Raw(po->options, po->prefix, opt, &pre, &value, &given));
  PetscCall(NeedValue(pre, opt, value, given, "a real number"));
  AZ_READ_UNDER(po, pre, PetscOptionsReal_Private(po, opt, text, man, cur, v, set));
  if (given) PetscCall(CheckFinite(pre, opt, value, *v));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzOptionsString_Private(PetscOptionItems *po, const char opt[], const char text[], const char man[], const char cur[], char *v, size_t len, PetscBool *set)
{
  const char *value, *pre;
  PetscBool   given;

  PetscFunctionBegin;
  PetscCall(Raw(po->options, po->prefix, opt, &pre, &value, &given));
  PetscCall(NeedValue(pre, opt, value, given, "a string"));
  AZ_READ_UNDER(po, pre, PetscOptionsString_Private(po, opt, text, man, cur, v, len, set));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzOptionsEnum_Private(PetscOptionItems *po, const char opt[], const char text[], const char man[], const char *const *list, PetscEnum cur, PetscEnum *v, PetscBool *set)
{
  const char *value, *pre;
  PetscBool   given;

  PetscFunctionBegin;
  PetscCall(Raw(po->options, po->prefix, opt, &pre, &value, &given));
  PetscCall(NeedValue(pre, opt, value, given, "one of the listed choices"));
  AZ_READ_UNDER(po, pre, PetscOptionsEnum_Private(po, opt, text, man, list, cur, v, set));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzOptionsEList_Private(PetscOptionItems *po, const char opt[], const char text[], const char man[], const char *const *list, PetscInt n, const char cur[], PetscInt *v, PetscBool *set)
{
  const char *value, *pre;
  PetscBool   given;

  PetscFunctionBegin;
  PetscCall(Raw(po->options, po->prefix, opt, &pre, &value, &given));
  PetscCall(NeedValue(pre, opt, value, given, "one of the listed choices"));
  AZ_READ_UNDER(po, pre, PetscOptionsEList_Private(po, opt, text, man, list, n, cur, v, set));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzOptionsBool_Private(PetscOptionItems *po, const char opt[], const char text[], const char man[], PetscBool cur, PetscBool *v, PetscBool *set)
{
  const char *value, *pre;
  PetscBool   given;

  PetscFunctionBegin;
  PetscCall(Raw(po->options, po->prefix, opt, &pre, &value, &given)); /* a bool may have no value */
  AZ_READ_UNDER(po, pre, PetscOptionsBool_Private(po, opt, text, man, cur, v, set));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzOptionsIntArray_Private(PetscOptionItems *po, const char opt[], const char text[], const char man[], PetscInt v[], PetscInt *n, PetscBool *set)
{
  const char *value, *pre;
  PetscBool   given;

  PetscFunctionBegin;
  PetscCall(Raw(po->options, po->prefix, opt, &pre, &value, &given));
  PetscCall(NeedValue(pre, opt, value, given, "comma-separated integers"));
  if (given) PetscCall(CheckInts(pre, opt, value, PETSC_TRUE));
  AZ_READ_UNDER(po, pre, PetscOptionsIntArray_Private(po, opt, text, man, v, n, set));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzOptionsRealArray_Private(PetscOptionItems *po, const char opt[], const char text[], const char man[], PetscReal v[], PetscInt *n, PetscBool *set)
{
  const char *value, *pre;
  PetscBool   given, s;

  PetscFunctionBegin;
  PetscCall(Raw(po->options, po->prefix, opt, &pre, &value, &given));
  PetscCall(NeedValue(pre, opt, value, given, "comma-separated real numbers"));
  AZ_READ_UNDER(po, pre, PetscOptionsRealArray_Private(po, opt, text, man, v, n, &s));
  if (s)
    for (PetscInt k = 0; k < *n; k++) PetscCall(CheckFinite(pre, opt, value, v[k]));
  if (set) *set = s;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzOptionsStringArray_Private(PetscOptionItems *po, const char opt[], const char text[], const char man[], char *v[], PetscInt *n, PetscBool *set)
{
  const char *value, *pre;
  PetscBool   given;

  PetscFunctionBegin;
  PetscCall(Raw(po->options, po->prefix, opt, &pre, &value, &given));
  PetscCall(NeedValue(pre, opt, value, given, "comma-separated strings"));
  AZ_READ_UNDER(po, pre, PetscOptionsStringArray_Private(po, opt, text, man, v, n, set));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzOptionsGetInt(PetscOptions options, const char prefix[], const char opt[], PetscInt *v, PetscBool *set)
{
  const char *value, *pre;
  PetscBool   given;

  PetscFunctionBegin;
  PetscCall(Raw(options, prefix, opt, &pre, &value, &given));
  PetscCall(NeedValue(pre, opt, value, given, "an integer"));
  if (given) PetscCall(CheckInts(pre, opt, value, PETSC_FALSE));
  PetscCall(PetscOptionsGetInt(options, pre, opt, v, set));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzOptionsGetIntArray(PetscOptions options, const char prefix[], const char opt[], PetscInt v[], PetscInt *n, PetscBool *set)
{
  const char *value, *pre;
  PetscBool   given;

  PetscFunctionBegin;
  PetscCall(Raw(options, prefix, opt, &pre, &value, &given));
  PetscCall(NeedValue(pre, opt, value, given, "comma-separated integers"));
  if (given) PetscCall(CheckInts(pre, opt, value, PETSC_TRUE));
  PetscCall(PetscOptionsGetIntArray(options, pre, opt, v, n, set));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzOptionsGetReal(PetscOptions options, const char prefix[], const char opt[], PetscReal *v, PetscBool *set)
{
  const char *value, *pre;
  PetscBool   given, s;

  PetscFunctionBegin;
  PetscCall(Raw(options, prefix, opt, &pre, &value, &given));
  PetscCall(NeedValue(pre, opt, value, given, "a real number"));
  PetscCall(PetscOptionsGetReal(options, pre, opt, v, &s));
  if (s) PetscCall(CheckFinite(pre, opt, value, *v));
  if (set) *set = s;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzOptionsGetBool(PetscOptions options, const char prefix[], const char opt[], PetscBool *v, PetscBool *set)
{
  const char *value, *pre;
  PetscBool   given;

  PetscFunctionBegin;
  PetscCall(Raw(options, prefix, opt, &pre, &value, &given)); /* a bool may have no value */
  PetscCall(PetscOptionsGetBool(options, pre, opt, v, set));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzOptionsGetString(PetscOptions options, const char prefix[], const char opt[], char v[], size_t len, PetscBool *set)
{
  const char *value, *pre;
  PetscBool   given;

  PetscFunctionBegin;
  PetscCall(Raw(options, prefix, opt, &pre, &value, &given));
  PetscCall(NeedValue(pre, opt, value, given, "a string"));
  PetscCall(PetscOptionsGetString(options, pre, opt, v, len, set));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Levenshtein distance, for "did you mean" */
static size_t EditDistance(const char *a, const char *b)
{
  size_t la = strlen(a), lb = strlen(b), prev[257], cur[257];

  if (la > 256 || lb > 256) return (size_t)-1;
  for (size_t j = 0; j <= lb; j++) prev[j] = j;
  for (size_t i = 1; i <= la; i++) {
    cur[0] = i;
    for (size_t j = 1; j <= lb; j++) {
      size_t d = prev[j - 1] + (a[i - 1] != b[j - 1]), u = prev[j] + 1, l = cur[j - 1] + 1;
      cur[j]   = PetscMin(d, PetscMin(u, l));
    }
    memcpy(prev, cur, (lb + 1) * sizeof(size_t));
  }
  return prev[lb];
}

/* options of PETSc objects under an -az_ prefix (-az_ref_ksp_type) are read by those objects when
 * they are set up, which may come after a checkpoint: only the final check judges them */
static PetscBool IsObjectOption(const char name[])
{
  const char *objs[] = {"_ksp_", "_snes_", "_pc_", "_sub_", "_mat_", "_dm_", "_da_", "_ts_", "_tao_", "_vec_"};
  for (size_t k = 0; k < sizeof objs / sizeof objs[0]; k++)
    if (strstr(name, objs[k])) return PETSC_TRUE;
  return PETSC_FALSE;
}

/* an ansatz option: -az_X, or -PREFIX_az_X for an object under an options prefix (-s2_az_adam_lr) */
static PetscBool IsAzOption(const char name[])
{
  const char *p = strstr(name, "_az_");
  return (!strncmp(name, "az_", 3) || (p && p > name)) ? PETSC_TRUE : PETSC_FALSE;
}

static PetscBool WasQueried(const char name[])
{
  for (PetscInt q = 0; q < nqueried; q++)
    if (!strcmp(queried[q], name)) return PETSC_TRUE;
  return PETSC_FALSE;
}

/* option families read only under another option: an unread one of these, not a near miss of an
 * option this run read, is named with what it needs instead of a far-fetched "did you mean" */
static const char *NeedsOther(const char name[])
{
  static const struct {
    const char *prefix, *needs;
  } fam[] = {
    {"az_moe_experts", "-az_hardpde"},
    {"az_moe_interface_", "-az_hardpde, more than one expert (-az_moe_experts) and -az_moe_blend interface"},
    {"az_moe_", "-az_hardpde and more than one expert (-az_moe_experts E with E != 1)"},
    {"az_hardpde_", "-az_hardpde"},
  };
  const char *p = strstr(name, "az_");
  for (size_t k = 0; p && k < sizeof fam / sizeof fam[0]; k++)
    if (!strncmp(p, fam[k].prefix, strlen(fam[k].prefix))) return fam[k].needs;
  return NULL;
}

static PetscErrorCode CheckUnused(MPI_Comm comm, PetscBool final)
{
  PetscInt  n, nbad = 0;
  char    **names, **values, msg[4096] = "";
  PetscBool petsc_warns, warn_others;

  PetscFunctionBegin;
  PetscCall(PetscOptionsHasName(NULL, NULL, "-options_left", &petsc_warns)); /* then PETSc lists them itself */
  warn_others = petsc_warns ? PETSC_FALSE : PETSC_TRUE;
  PetscCall(PetscOptionsLeftGet(NULL, &n, &names, &values));
  for (PetscInt k = 0; k < n; k++) {
    if (!final && IsObjectOption(names[k])) continue;
    if (WasQueried(names[k])) continue; /* queried yet left: -az_X that every object reading it under a prefix had its own -PREFIXaz_X for; it counts as read */
    if (IsAzOption(names[k])) {
      const char *best = NULL;
      size_t      bd   = (size_t)-1;
      char        line[512];

      for (PetscInt q = 0; q < nqueried; q++) {
        size_t d = EditDistance(names[k], queried[q]);
        if (d < bd) bd = d, best = queried[q];
      }
      if (NeedsOther(names[k]) && !(best && bd <= 2)) snprintf(line, sizeof line, "\n  -%s (read only with %s; with that given, check its spelling: -help lists the options)", names[k], NeedsOther(names[k]));
      else if (best && bd <= PetscMax(3, strlen(names[k]) / 3)) snprintf(line, sizeof line, "\n  -%s (did you mean -%s?)", names[k], best);
      else snprintf(line, sizeof line, "\n  -%s (no option of this run is close: see -help)", names[k]);
      PetscCall(PetscStrlcat(msg, line, sizeof msg));
      nbad++;
    } else if (warn_others && final) PetscCall(PetscPrintf(comm, "WARNING! There are options you set that were not used!\nWARNING! could be spelling mistake, etc!\nOption left: name:-%s value: %s\n", names[k], values[k] ? values[k] : "(no value)"));
  }
  PetscCall(PetscOptionsLeftRestore(NULL, &n, &names, &values));
  PetscCheck(!nbad, comm, PETSC_ERR_ARG_WRONG, "%" PetscInt_FMT " option(s) given but not used by this run (misspelled, or for another mode or problem):%s", nbad, msg);
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzOptionsClosestRead(const char name[], PetscBool *read, char best[], size_t len)
{
  size_t bd = (size_t)-1;

  PetscFunctionBegin;
  *read = WasQueried(name[0] == '-' ? name + 1 : name);
  best[0] = 0;
  for (PetscInt q = 0; q < nqueried; q++) {
    size_t d;
    if (strncmp(queried[q], "az_", 3)) continue; /* the global names only */
    d = EditDistance(name[0] == '-' ? name + 1 : name, queried[q]);
    if (d < bd && d <= PetscMax(3, strlen(name) / 3)) bd = d, snprintf(best, len, "%s", queried[q]);
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzOptionsCheckUnused(MPI_Comm comm)
{
  PetscFunctionBegin;
  PetscCall(CheckUnused(comm, PETSC_TRUE)); /* final */
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzOptionsCheckpoint(MPI_Comm comm, PetscBool check_unused)
{
  PetscBool help;

  PetscFunctionBegin;
  PetscCall(PetscOptionsHasHelp(NULL, &help));
  /* not an error: the program's handler (AzOptionsErrorHandler) passes it up quietly, and main exits 0 */
  if (help) SETERRQ(PETSC_COMM_SELF, AZ_ERR_HELP_DONE, "-help: the options of this mode are printed above");
  if (check_unused) PetscCall(CheckUnused(comm, PETSC_FALSE));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzOptionsErrorHandler(MPI_Comm comm, int line, const char *fun, const char *file, PetscErrorCode n, PetscErrorType p, const char *mess, void *ctx)
{
  if (n == AZ_ERR_HELP_DONE) return n;
  return PetscTraceBackErrorHandler(comm, line, fun, file, n, p, mess, ctx);
}
