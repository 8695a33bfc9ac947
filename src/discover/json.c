/* Reading discovered.json: a strict JSON reader for this one format (objects, arrays, strings,
 * numbers, true/false/null), errors with the line and what was expected; then the format's keys. */
#include "discoverimpl.h"
#include <ctype.h>

typedef struct {
  const char *s, *path;
  size_t      i, len;
  PetscInt    line;
  char        err[1024];
} Reader;

static void Fail(Reader *r, const char what[])
{
  if (!r->err[0]) snprintf(r->err, sizeof r->err, "%s, line %d: %s", r->path, (int)r->line, what);
}

static void Skip(Reader *r)
{
  while (r->i < r->len && (r->s[r->i] == ' ' || r->s[r->i] == '\t' || r->s[r->i] == '\n' || r->s[r->i] == '\r')) {
    if (r->s[r->i] == '\n') r->line++;
    r->i++;
  }
}

static PetscBool Eat(Reader *r, char c)
{
  Skip(r);
  if (r->i < r->len && r->s[r->i] == c) {
    r->i++;
    return PETSC_TRUE;
  }
  return PETSC_FALSE;
}

static PetscBool Expect(Reader *r, char c, const char ctx[])
{
  char msg[256];
  if (Eat(r, c)) return PETSC_TRUE;
  snprintf(msg, sizeof msg, "expected '%c' %s, found %s%.12s%s", c, ctx, r->i < r->len ? "\"" : "", r->i < r->len ? r->s + r->i : "the end of the file", r->i < r->len ? "\"" : "");
  Fail(r, msg);
  return PETSC_FALSE;
}

static PetscBool String(Reader *r, char out[], size_t len)
{
  size_t n = 0;
  Skip(r);
  if (r->i >= r->len || r->s[r->i] != '"') {
    Fail(r, "expected a string in double quotes");
    return PETSC_FALSE;
  }
  r->i++;
  while (r->i < r->len && r->s[r->i] != '"') {
    char c = r->s[r->i++];
    if (c == '\n' || (unsigned char)c < 0x20) {
      Fail(r, "a string runs past the end of its line (a missing closing quote?)");
      return PETSC_FALSE;
    }
    if (c == '\\') {
      if (r->i >= r->len) break;
      c = r->s[r->i++];
      if (c == 'n') c = '\n';
      else if (c == 't') c = '\t';
      else if (c == 'u') {
        unsigned v = 0;
        for (int k = 0; k < 4; k++) {
          char h = r->i < r->len ? r->s[r->i++] : 0;
          if (!isxdigit((unsigned char)h)) {
            Fail(r, "a \\u escape needs 4 hex digits");
            return PETSC_FALSE;
          }
          v = 16 * v + (unsigned)(isdigit((unsigned char)h) ? h - '0' : (tolower((unsigned char)h) - 'a' + 10));
        }
        c = v < 0x80 ? (char)v : '?';
      } else if (c != '"' && c != '\\' && c != '/') {
        Fail(r, "an unknown escape in a string");
        return PETSC_FALSE;
      }
    }
    if (n + 1 < len) out[n++] = c;
    else {
      Fail(r, "a string is too long");
      return PETSC_FALSE;
    }
  }
  if (r->i >= r->len) {
    Fail(r, "a string has no closing quote");
    return PETSC_FALSE;
  }
  r->i++;
  out[n] = 0;
  return PETSC_TRUE;
}

static PetscBool Number(Reader *r, PetscReal *v)
{
  char  *end;
  double d;
  Skip(r);
  d = strtod(r->s + r->i, &end);
  if (end == r->s + r->i || !isfinite(d)) {
    Fail(r, "expected a finite number");
    return PETSC_FALSE;
  }
  r->i = (size_t)(end - r->s);
  *v   = d;
  return PETSC_TRUE;
}

static PetscBool Word(Reader *r, const char w[])
{
  size_t n = strlen(w);
  Skip(r);
  if (r->i + n <= r->len && !strncmp(r->s + r->i, w, n) && !isalnum((unsigned char)r->s[r->i + n])) {
    r->i += n;
    return PETSC_TRUE;
  }
  return PETSC_FALSE;
}

/* any value, skipped (for the informative keys) */
static PetscBool SkipValue(Reader *r, int depth)
{
  char      buf[4096];
  PetscReal v;
  Skip(r);
  if (depth > 32) {
    Fail(r, "nested too deeply");
    return PETSC_FALSE;
  }
  if (r->i >= r->len) {
    Fail(r, "expected a value, found the end of the file");
    return PETSC_FALSE;
  }
  if (r->s[r->i] == '"') return String(r, buf, sizeof buf);
  if (Word(r, "true") || Word(r, "false") || Word(r, "null")) return PETSC_TRUE;
  if (Eat(r, '{')) {
    if (Eat(r, '}')) return PETSC_TRUE;
    do {
      if (!String(r, buf, sizeof buf) || !Expect(r, ':', "after a key") || !SkipValue(r, depth + 1)) return PETSC_FALSE;
    } while (Eat(r, ','));
    return Expect(r, '}', "to close an object");
  }
  if (Eat(r, '[')) {
    if (Eat(r, ']')) return PETSC_TRUE;
    do {
      if (!SkipValue(r, depth + 1)) return PETSC_FALSE;
    } while (Eat(r, ','));
    return Expect(r, ']', "to close an array");
  }
  return Number(r, &v);
}

static PetscBool ReadLaw(Reader *r, PetscInt ncomp, const char comp[][32], AzDiscoveredLaw *law)
{
  char      key[256];
  PetscBool has_name = PETSC_FALSE, has_coef = PETSC_FALSE;

  memset(law, 0, sizeof *law);
  law->drift = (PetscReal)NAN;
  law->value = (PetscReal)NAN;
  if (!Expect(r, '{', "to open a law")) return PETSC_FALSE;
  if (!Eat(r, '}')) do {
      if (!String(r, key, sizeof key) || !Expect(r, ':', "after a key")) return PETSC_FALSE;
      if (!strcmp(key, "name")) {
        if (!String(r, law->name, sizeof law->name)) return PETSC_FALSE;
        if (!law->name[0] || strspn(law->name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") != strlen(law->name)) {
          Fail(r, "a law's name must be letters, digits and _ (it names options, -az_conservation_NAME)");
          return PETSC_FALSE;
        }
        if (!strcmp(law->name, "laws") || !strcmp(law->name, "from")) {
          Fail(r, "a law may not be named \"laws\" or \"from\" (-az_conservation_laws and -az_conservation_from are options)");
          return PETSC_FALSE;
        }
        has_name = PETSC_TRUE;
      } else if (!strcmp(key, "formula")) {
        if (!String(r, law->formula, sizeof law->formula)) return PETSC_FALSE;
      } else if (!strcmp(key, "drift")) {
        if (!Word(r, "null") && !Number(r, &law->drift)) return PETSC_FALSE;
      } else if (!strcmp(key, "declared")) {
        if (!Word(r, "null") && !String(r, law->declared, sizeof law->declared)) return PETSC_FALSE;
      } else if (!strcmp(key, "value")) {
        if (!Word(r, "null") && !Number(r, &law->value)) return PETSC_FALSE;
      } else if (!strcmp(key, "vanishes")) {
        if (!SkipValue(r, 0)) return PETSC_FALSE;
      } else if (!strcmp(key, "coefficients")) {
        if (!Expect(r, '{', "to open the coefficients (an object \"monomial\": number)")) return PETSC_FALSE;
        if (!Eat(r, '}')) do {
            char      mname[256], msg[512];
            PetscBool ok;
            if (law->nterm == AZ_DISCOVER_MAX_TERMS) {
              Fail(r, "a law has more than 64 terms");
              return PETSC_FALSE;
            }
            if (!String(r, mname, sizeof mname) || !Expect(r, ':', "after a monomial")) return PETSC_FALSE;
            if (AzMonomialParse(mname, ncomp, comp, &law->mono[law->nterm], &ok, msg, sizeof msg) || !ok) {
              Fail(r, msg);
              return PETSC_FALSE;
            }
            if (!law->mono[law->nterm].xpow) {
              PetscInt d = 0;
              for (PetscInt c = 0; c < ncomp; c++)
                for (PetscInt k = 0; k <= AZ_DISCOVER_MAX_ORDER; k++) d += law->mono[law->nterm].e[c][k];
              if (!d) {
                Fail(r, "a constant monomial");
                return PETSC_FALSE;
              }
            }
            if (!Number(r, &law->coef[law->nterm])) return PETSC_FALSE;
            law->nterm++;
          } while (Eat(r, ','));
        if (!Expect(r, '}', "to close the coefficients")) return PETSC_FALSE;
        has_coef = law->nterm > 0 ? PETSC_TRUE : PETSC_FALSE;
      } else {
        char msg[400];
        snprintf(msg, sizeof msg, "unknown key \"%s\" in a law (allowed: name, formula, drift, vanishes, value, declared, coefficients)", key);
        Fail(r, msg);
        return PETSC_FALSE;
      }
    } while (Eat(r, ','));
  if (!Expect(r, '}', "to close a law")) return PETSC_FALSE;
  if (!has_name || !has_coef) {
    Fail(r, has_name ? "a law without coefficients (\"coefficients\": {\"u^2\": 1, ...})" : "a law without a \"name\"");
    return PETSC_FALSE;
  }
  return PETSC_TRUE;
}

PetscErrorCode AzDiscoveredRead(AzProblem prob, const char path[], PetscInt *nlaws, AzDiscoveredLaw **laws)
{
  const AzProblemInfo *info;
  MPI_Comm             comm;
  FILE                *fp;
  char                *text = NULL, comp[AZ_MAX_COMP][32], key[256], pname[256] = "";
  long                 size;
  Reader               r;
  PetscInt             n = 0, cap = 4;
  AzDiscoveredLaw     *list;
  PetscBool            ok = PETSC_TRUE, has_laws = PETSC_FALSE;

  PetscFunctionBegin;
  PetscCall(AzProblemGetInfo(prob, &info));
  PetscCall(AzProblemGetComm(prob, &comm));
  for (PetscInt c = 0; c < info->ncomp; c++) {
    const char *s = info->component_names;
    for (PetscInt k = 0; k < c && s; k++) s = strchr(s, ',') ? strchr(s, ',') + 1 : NULL;
    if (s) snprintf(comp[c], sizeof comp[c], "%.*s", (int)PetscMin(strcspn(s, ","), 31), s);
    else snprintf(comp[c], sizeof comp[c], "u%d", (int)c);
  }
  fp = fopen(path, "rb");
  PetscCheck(fp, comm, PETSC_ERR_FILE_OPEN, "-az_conservation_from %s: cannot open the file (a discovered.json of `ansatz discover`)", path);
  fseek(fp, 0, SEEK_END);
  size = ftell(fp);
  fseek(fp, 0, SEEK_SET);
  PetscCheck(size >= 0 && size < (64L << 20), comm, PETSC_ERR_FILE_READ, "%s: cannot read it or it is larger than 64 MB", path);
  PetscCall(PetscMalloc1((size_t)size + 1, &text));
  if (fread(text, 1, (size_t)size, fp) != (size_t)size) {
    fclose(fp);
    PetscCall(PetscFree(text));
    SETERRQ(comm, PETSC_ERR_FILE_READ, "%s: a read error", path);
  }
  fclose(fp);
  text[size] = 0;
  r          = (Reader){text, path, 0, (size_t)size, 1, ""};
  PetscCall(PetscMalloc1(cap, &list));
  ok = Expect(&r, '{', "at the start (discovered.json is one object)");
  if (ok && !Eat(&r, '}')) do {
      if (!(ok = String(&r, key, sizeof key) && Expect(&r, ':', "after a key"))) break;
      if (!strcmp(key, "problem")) ok = String(&r, pname, sizeof pname);
      else if (!strcmp(key, "laws")) {
        has_laws = PETSC_TRUE;
        if (!(ok = Expect(&r, '[', "to open the laws"))) break;
        if (Eat(&r, ']')) continue;
        do {
          if (n == cap) {
            AzDiscoveredLaw *bigger;
            cap *= 2;
            PetscCall(PetscMalloc1(cap, &bigger));
            PetscCall(PetscArraycpy(bigger, list, n));
            PetscCall(PetscFree(list));
            list = bigger;
          }
          if (!(ok = ReadLaw(&r, info->ncomp, (const char(*)[32])comp, &list[n]))) break;
          n++;
        } while (Eat(&r, ','));
        if (ok) ok = Expect(&r, ']', "to close the laws");
      } else if (!strcmp(key, "source") || !strcmp(key, "library") || !strcmp(key, "times") || !strcmp(key, "t0") || !strcmp(key, "t1") || !strcmp(key, "tol") || !strcmp(key, "noise_floor") || !strcmp(key, "next_drift") || !strcmp(key, "sparse_tol") || !strcmp(key, "accuracy") || !strcmp(key, "declared")) ok = SkipValue(&r, 0);
      else {
        char msg[512];
        snprintf(msg, sizeof msg, "unknown key \"%s\" (allowed: problem, laws; informative: source, library, times, t0, t1, tol, noise_floor, next_drift, sparse_tol, accuracy, declared)", key);
        Fail(&r, msg);
        ok = PETSC_FALSE;
      }
    } while (ok && Eat(&r, ','));
  if (ok) ok = Expect(&r, '}', "to close the file's object");
  if (ok) {
    Skip(&r);
    if (r.i < r.len) {
      Fail(&r, "text after the end of the JSON object");
      ok = PETSC_FALSE;
    }
  }
  if (ok && !has_laws) {
    Fail(&r, "no \"laws\" array");
    ok = PETSC_FALSE;
  }
  PetscCall(PetscFree(text));
  if (!ok) {
    PetscCall(PetscFree(list));
    SETERRQ(comm, PETSC_ERR_FILE_UNEXPECTED, "-az_conservation_from: %s", r.err);
  }
  if (pname[0] && strcmp(pname, info->name)) {
    PetscCall(PetscFree(list));
    SETERRQ(comm, PETSC_ERR_ARG_WRONG, "-az_conservation_from %s: the laws were discovered for problem %s, not %s", path, pname, info->name);
  }
  for (PetscInt a = 0; a < n; a++)
    for (PetscInt b = 0; b < a; b++)
      if (!strcmp(list[a].name, list[b].name)) {
        char dup[64];
        PetscCall(PetscStrncpy(dup, list[a].name, sizeof dup));
        PetscCall(PetscFree(list));
        SETERRQ(comm, PETSC_ERR_FILE_UNEXPECTED, "-az_conservation_from %s: two laws are named %s", path, dup);
      }
  *nlaws = n;
  *laws  = list;
  PetscFunctionReturn(PETSC_SUCCESS);
}
