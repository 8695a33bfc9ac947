/* compare's sweep (-az_sweep "az_field_width=20,40;az_adam_lr=1e-3,3e-3"): settings added to the
 * grid, the Cartesian product of the values of each option (the first option varies slowest). A
 * setting is applied as global -az_X entries in the options database for one run and cleared after it,
 * so no value leaks into the next run; the options a run does not read are refused. */
#include "compareimpl.h"
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>

/* compare's own options and the repeats' seeds: never swept (what they decide is the grid itself) */
static const char *const NotSwept[] = {"az_sweep", "az_strategies", "az_repeats", "az_output_dir", "az_plot_components", "az_field_seed", "az_seed", "az_recipe", NULL};

static char *Trim(char *s)
{
  char *e;
  while (isspace((unsigned char)*s)) s++;
  e = s + strlen(s);
  while (e > s && isspace((unsigned char)e[-1])) *--e = 0;
  return s;
}

PetscErrorCode AzCompareSweepParse(MPI_Comm comm, const char text[], AzCompareSweep *s)
{
  const char *form = "OPTION=V1,V2,...;OPTION=..., e.g. \"az_field_width=20,40;az_adam_lr=1e-3,3e-3\" (option names without '-', starting with az_; values separated by ',', or by '|' where a value is itself a list: az_trainer_max_it=200,200|400,400)";
  char       *buf, *save = NULL;
  PetscInt    nitem = 0;

  PetscFunctionBegin;
  PetscCall(PetscMemzero(s, sizeof *s));
  s->npts = 1;
  if (!text || !text[0]) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(PetscStrallocpy(text, &s->text));
  PetscCall(PetscStrallocpy(text, &buf));
  /* empty settings (";;", a leading or trailing ';') are malformed, not skipped */
  {
    const char *p = text;
    while (isspace((unsigned char)*p)) p++;
    PetscCheck(*p != ';', comm, PETSC_ERR_ARG_WRONG, "-az_sweep \"%s\": it starts with ';' (an empty option); the form is %s", text, form);
    for (p = text; *p; p++) {
      const char *q = p + 1;
      if (*p != ';') continue;
      while (isspace((unsigned char)*q)) q++;
      PetscCheck(*q && *q != ';', comm, PETSC_ERR_ARG_WRONG, "-az_sweep \"%s\": an empty option between ';' or after the last ';'; the form is %s", text, form);
    }
  }
  for (char *item = strtok_r(buf, ";", &save); item; item = strtok_r(NULL, ";", &save), nitem++) {
    char       *eq = strchr(item, '='), *name, *list, *vsave = NULL;
    const char *sep;
    PetscInt    j = s->nopt;

    PetscCheck(eq, comm, PETSC_ERR_ARG_WRONG, "-az_sweep: '%s' has no '=' between the option and its values; the form is %s", Trim(item), form);
    *eq  = 0;
    name = Trim(item);
    list = Trim(eq + 1);
    PetscCheck(name[0], comm, PETSC_ERR_ARG_WRONG, "-az_sweep: an option name is empty (before '=%s'); the form is %s", list, form);
    PetscCheck(strncmp(name, "-", 1), comm, PETSC_ERR_ARG_WRONG, "-az_sweep: write the option '%s' without its leading '-' (%s); the form is %s", name, name + strspn(name, "-"), form);
    PetscCheck(!strncmp(name, "az_", 3) && name[3], comm, PETSC_ERR_ARG_WRONG, "-az_sweep: '%s' is not an ansatz option: a swept option starts with az_ (az_field_width, az_adam_lr, ...)", name);
    for (const char *c = name; *c; c++) PetscCheck(isalnum((unsigned char)*c) || *c == '_', comm, PETSC_ERR_ARG_WRONG, "-az_sweep: the option name '%s' has the character '%c'; a name has letters, digits and '_' only", name, *c);
    for (PetscInt k = 0; NotSwept[k]; k++) PetscCheck(strcmp(name, NotSwept[k]), comm, PETSC_ERR_ARG_WRONG, "-az_sweep: %s cannot be swept (%s); sweep the options of the runs themselves (az_field_width, az_adam_lr, az_n_interior, ...)", name, !strcmp(name, "az_field_seed") || !strcmp(name, "az_seed") ? "the seeds are the repeats': -az_repeats N trains every setting at N paired seeds" : "it is compare's own");
    PetscCheck(strncmp(name, "az_compare_", 11), comm, PETSC_ERR_ARG_WRONG, "-az_sweep: %s cannot be swept (it is compare's own)", name);
    for (PetscInt k = 0; k < j; k++) PetscCheck(strcmp(s->name[k], name), comm, PETSC_ERR_ARG_WRONG, "-az_sweep: %s is given twice; give each option once with all its values (%s=V1,V2,...)", name, name);
    PetscCheck(j < AZ_SWEEP_MAX_OPTIONS, comm, PETSC_ERR_ARG_SIZ, "-az_sweep: at most %d options", AZ_SWEEP_MAX_OPTIONS);
    PetscCheck(strlen(name) < sizeof s->name[0], comm, PETSC_ERR_ARG_SIZ, "-az_sweep: the option name '%s' is too long (at most %d characters)", name, (int)sizeof s->name[0] - 1);
    PetscCall(PetscStrncpy(s->name[j], name, sizeof s->name[j]));
    PetscCheck(list[0], comm, PETSC_ERR_ARG_WRONG, "-az_sweep: %s has no values after '='; give at least one (%s=V1,V2,...)", name, name);
    sep = strchr(list, '|') ? "|" : ",";
    /* an empty value: a separator at either end or two in a row */
    PetscCheck(list[0] != sep[0] && list[strlen(list) - 1] != sep[0] && !strstr(list, sep[0] == '|' ? "||" : ",,"), comm, PETSC_ERR_ARG_WRONG, "-az_sweep: %s=%s has an empty value (a '%s' at either end or two in a row); every value must be given", name, list, sep);
    s->nval[j] = 1;
    for (const char *c = list; *c; c++) s->nval[j] += *c == sep[0];
    PetscCheck(s->nval[j] <= AZ_MAX_RUNS, comm, PETSC_ERR_ARG_SIZ, "-az_sweep: %s has %" PetscInt_FMT " values; a comparison has at most %d runs", name, s->nval[j], AZ_MAX_RUNS);
    PetscCall(PetscCalloc1(s->nval[j], &s->value[j]));
    s->nval[j] = 0;
    for (char *v = strtok_r(list, sep, &vsave); v; v = strtok_r(NULL, sep, &vsave)) {
      char *t = Trim(v);
      PetscCheck(t[0], comm, PETSC_ERR_ARG_WRONG, "-az_sweep: %s has an empty value; every value must be given", name);
      for (const char *c = t; *c; c++) PetscCheck(!isspace((unsigned char)*c) && *c != '"' && *c != '\'', comm, PETSC_ERR_ARG_WRONG, "-az_sweep: %s's value '%s' has a space or a quote; a value is one word", name, t);
      for (PetscInt k = 0; k < s->nval[j]; k++) PetscCheck(strcmp(s->value[j][k], t), comm, PETSC_ERR_ARG_WRONG, "-az_sweep: %s has the value %s twice; each value once", name, t);
      PetscCall(PetscStrallocpy(t, &s->value[j][s->nval[j]++]));
    }
    PetscCheck(s->npts * s->nval[j] <= AZ_MAX_RUNS, comm, PETSC_ERR_ARG_SIZ, "-az_sweep: more than %d settings; a comparison has at most %d runs", AZ_MAX_RUNS, AZ_MAX_RUNS);
    s->npts *= s->nval[j];
    s->nopt++;
  }
  PetscCall(PetscFree(buf));
  PetscCheck(s->nopt, comm, PETSC_ERR_ARG_WRONG, "-az_sweep \"%s\" names no option; the form is %s", text, form);
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzCompareSweepDestroy(AzCompareSweep *s)
{
  PetscFunctionBegin;
  for (PetscInt j = 0; j < s->nopt; j++) {
    for (PetscInt k = 0; k < s->nval[j]; k++) PetscCall(PetscFree(s->value[j][k]));
    PetscCall(PetscFree(s->value[j]));
  }
  PetscCall(PetscFree(s->text));
  PetscCall(PetscMemzero(s, sizeof *s));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* option j's value at setting p: p in mixed radix, the first option the slowest digit */
const char *AzCompareSweepValue(const AzCompareSweep *s, PetscInt p, PetscInt j)
{
  PetscInt below = 1;
  for (PetscInt q = j + 1; q < s->nopt; q++) below *= s->nval[q];
  return s->value[j][(p / below) % s->nval[j]];
}

/* "field_width=20 adam_lr=1e-3" (dir false) or the directory name "field_width=20,adam_lr=1e-3" (dir
 * true: in a value, every character but letters, digits and . + - written as %XX, so two settings
 * never share a directory) */
void AzCompareSweepLabel(const AzCompareSweep *s, PetscInt p, PetscBool dir, char out[], size_t len)
{
  size_t o = 0;

  out[0] = 0;
  for (PetscInt j = 0; j < s->nopt && o + 1 < len; j++) {
    const char *v = AzCompareSweepValue(s, p, j);
    o += (size_t)snprintf(out + o, len - o, "%s%s=", j ? (dir ? "," : " ") : "", s->name[j] + 3);
    for (; *v && o + 4 < len; v++) {
      if (!dir || isalnum((unsigned char)*v) || *v == '.' || *v == '+' || *v == '-') out[o++] = *v;
      else o += (size_t)snprintf(out + o, len - o, "%%%02X", (unsigned char)*v);
    }
    if (o >= len) o = len - 1;
    out[o] = 0;
  }
}

/* -az_X value of every swept option at setting p in the database (p < 0: cleared) */
PetscErrorCode AzCompareSweepApply(const AzCompareSweep *s, PetscInt p)
{
  PetscFunctionBegin;
  for (PetscInt j = 0; j < s->nopt; j++) {
    char opt[80];
    snprintf(opt, sizeof opt, "-%s", s->name[j]);
    PetscCall(PetscOptionsClearValue(NULL, opt)); /* a fresh entry: not yet used */
    if (p >= 0) PetscCall(PetscOptionsSetValue(NULL, opt, AzCompareSweepValue(s, p, j)));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Refused before anything is set: a swept option also on the command line (or an options file), for
 * every strategy or for one strategy (-sK_az_X); its value there would be replaced or shadow the sweep */
PetscErrorCode AzCompareSweepCheckGiven(MPI_Comm comm, const AzCompareSweep *s, PetscInt nstrategies)
{
  PetscFunctionBegin;
  for (PetscInt j = 0; j < s->nopt; j++) {
    char      opt[96];
    PetscBool given;
    snprintf(opt, sizeof opt, "-%s", s->name[j]);
    PetscCall(PetscOptionsHasName(NULL, NULL, opt, &given));
    PetscCheck(!given, comm, PETSC_ERR_ARG_INCOMP, "-az_sweep sweeps %s, which is also given as %s: give it in one place (the sweep's values, or one value on the command line)", s->name[j], opt);
    for (PetscInt k = 0; k < nstrategies; k++) {
      snprintf(opt, sizeof opt, "-s%d_%s", (int)(k + 1), s->name[j]);
      PetscCall(PetscOptionsHasName(NULL, NULL, opt, &given));
      PetscCheck(!given, comm, PETSC_ERR_ARG_INCOMP, "-az_sweep sweeps %s, which is also given for strategy %d as %s (it would override the sweep there): give it in one place", s->name[j], (int)(k + 1), opt);
    }
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* options read lazily, after a run's setup (PETSc objects' options, the updates after training): only
 * a run's own end can tell whether they were read */
static PetscBool ReadAfterSetUp(const char name[])
{
  const char *objs[] = {"_ksp_", "_snes_", "_pc_", "_mat_", "_tao_", "_ts_", "_dm_", "_vec_", "az_probconserv_", "az_laplace_"};
  for (size_t k = 0; k < sizeof objs / sizeof objs[0]; k++)
    if (strstr(name, objs[k])) return PETSC_TRUE;
  return PETSC_FALSE;
}

/* After every strategy was set up at setting p (after=false), or after a run (after=true): each swept
 * option must have been read; *unread the first that was not (-1: none) */
PetscErrorCode AzCompareSweepUnread(const AzCompareSweep *s, PetscBool after, PetscInt *unread)
{
  PetscFunctionBegin;
  *unread = -1;
  for (PetscInt j = 0; j < s->nopt && *unread < 0; j++) {
    PetscBool used;
    PetscCall(PetscOptionsUsed(NULL, s->name[j], &used)); /* the name as the database holds it, without '-' */
    if (!used && (after || !ReadAfterSetUp(s->name[j]))) *unread = j;
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* the error for swept option j that no run read */
PetscErrorCode AzCompareSweepUnreadError(MPI_Comm comm, const AzCompareSweep *s, PetscInt j)
{
  char      best[256] = "";
  PetscBool read;

  PetscFunctionBegin;
  PetscCall(AzOptionsClosestRead(s->name[j], &read, best, sizeof best));
  PetscCheck(!read, comm, PETSC_ERR_ARG_WRONG, "-az_sweep: %s is read once for the whole comparison (by the problem, its reference, the recipe or compare itself), not by each run, so it cannot be swept; a sweep takes the options of the network, the loss and the trainer (az_field_width, az_n_interior, az_adam_lr, ...)", s->name[j]);
  if (best[0]) SETERRQ(comm, PETSC_ERR_ARG_WRONG, "-az_sweep: no run reads %s (did you mean %s?); a sweep takes the options each run reads: those of the network, the loss and the trainer", s->name[j], best);
  SETERRQ(comm, PETSC_ERR_ARG_WRONG, "-az_sweep: no run reads %s (no option of these runs is close: see -help; an option of a stage the runs do not use is not read either)", s->name[j]);
}
