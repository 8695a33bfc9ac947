/* Derivative requests: which jet slots a problem needs, parsed from its declaration ("t,x,xx"). */
#include <ansatz/jet.h>
#include <ctype.h>

static const char az_coord_letters_space[] = "xyz";

/* the letter of coordinate i: x, y, z for space, t for time (the last coordinate) */
static char CoordLetter(PetscInt i, PetscInt ncoord, PetscBool time_dependent)
{
  if (time_dependent && i == ncoord - 1) return 't';
  return az_coord_letters_space[i];
}

static PetscInt CoordIndex(char c, PetscInt ncoord, PetscBool time_dependent)
{
  for (PetscInt i = 0; i < ncoord; i++)
    if (CoordLetter(i, ncoord, time_dependent) == c) return i;
  return -1;
}

/* Parse one token such as "xx" into the slot it names; on failure return PETSC_FALSE and explain. */
static PetscBool ParseToken(const char *tok, size_t n, PetscInt ncoord, PetscBool td, PetscInt *slot, char errmsg[], size_t errlen)
{
  PetscInt idx[AZ_MAX_ORDER + 1];
  char     allowed[8] = {0};

  for (PetscInt i = 0; i < ncoord; i++) allowed[i] = CoordLetter(i, ncoord, td);
  if (n == 0) {
    snprintf(errmsg, errlen, "empty derivative name (use names like x, xx, xy, t)");
    return PETSC_FALSE;
  }
  if (n > AZ_MAX_ORDER) {
    snprintf(errmsg, errlen, "derivative '%.*s' has order %zu; ansatz supports orders up to %d", (int)n, tok, n, AZ_MAX_ORDER);
    return PETSC_FALSE;
  }
  for (size_t k = 0; k < n; k++) {
    idx[k] = CoordIndex(tok[k], ncoord, td);
    if (idx[k] < 0) {
      snprintf(errmsg, errlen, "derivative '%.*s' names coordinate '%c', but this problem's coordinates are \"%s\"", (int)n, tok, tok[k], allowed);
      return PETSC_FALSE;
    }
  }
  switch (n) {
  case 1:
    *slot = AzJetSlotD1(ncoord, idx[0]);
    return PETSC_TRUE;
  case 2:
    *slot = AzJetSlotD2(ncoord, idx[0], idx[1]);
    return PETSC_TRUE;
  default:
    for (size_t k = 1; k < n; k++) {
      if (idx[k] != idx[0]) {
        snprintf(errmsg, errlen, "derivative '%.*s' is a mixed derivative of order %zu; ansatz supports mixed derivatives up to order 2 and pure ones up to order %d", (int)n, tok, n, AZ_MAX_ORDER);
        return PETSC_FALSE;
      }
    }
    *slot = (n == 3) ? AzJetSlotD3(ncoord, idx[0]) : AzJetSlotD4(ncoord, idx[0]);
    return PETSC_TRUE;
  }
}

/* Parse a comma (or space) separated list of derivative names. Errors are reported in errmsg with
 * req->mask = -1, so the caller can attach the problem's name to the message. */
PetscErrorCode AzJetRequestParse(PetscInt ncoord, PetscBool time_dependent, const char spec[], AzJetRequest *req, char errmsg[], size_t errlen)
{
  PetscFunctionBegin;
  req->ncoord = ncoord;
  req->mask   = 1; /* the value */
  if (errlen) errmsg[0] = 0;
  if (!spec) PetscFunctionReturn(PETSC_SUCCESS);
  for (const char *s = spec; *s;) {
    const char *e;
    PetscInt    slot;

    while (*s && (*s == ',' || isspace((unsigned char)*s))) s++;
    if (!*s) break;
    e = s;
    while (*e && *e != ',' && !isspace((unsigned char)*e)) e++;
    /* accept "u_xx" as well as "xx" */
    if (e - s > 2 && s[0] == 'u' && s[1] == '_') s += 2;
    if (!ParseToken(s, (size_t)(e - s), ncoord, time_dependent, &slot, errmsg, errlen)) {
      req->mask = -1;
      PetscFunctionReturn(PETSC_SUCCESS);
    }
    req->mask |= (PetscInt)1 << slot;
    s = e;
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Add what the propagation needs to compute the requested slots: ∂²/∂x_i∂x_j needs ∂/∂x_i and
 * ∂/∂x_j; ∂³/∂x_i³ needs ∂/∂x_i and ∂²/∂x_i²; ∂⁴/∂x_i⁴ needs all lower pure ones. */
PetscErrorCode AzJetRequestClose(AzJetRequest *req)
{
  const PetscInt n = req->ncoord;

  PetscFunctionBegin;
  for (PetscInt i = 0; i < n; i++) {
    if (req->mask & ((PetscInt)1 << AzJetSlotD4(n, i))) req->mask |= (PetscInt)1 << AzJetSlotD3(n, i);
    if (req->mask & ((PetscInt)1 << AzJetSlotD3(n, i))) req->mask |= (PetscInt)1 << AzJetSlotD2(n, i, i);
  }
  for (PetscInt i = 0; i < n; i++)
    for (PetscInt j = i; j < n; j++)
      if (req->mask & ((PetscInt)1 << AzJetSlotD2(n, i, j))) req->mask |= ((PetscInt)1 << AzJetSlotD1(n, i)) | ((PetscInt)1 << AzJetSlotD1(n, j));
  req->mask |= 1;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzJetRequestMaxOrder(const AzJetRequest *req, PetscInt *order)
{
  const PetscInt n = req->ncoord;

  PetscFunctionBegin;
  *order = 0;
  for (PetscInt i = 0; i < n; i++) {
    if (req->mask & ((PetscInt)1 << AzJetSlotD1(n, i))) *order = PetscMax(*order, 1);
    for (PetscInt j = i; j < n; j++)
      if (req->mask & ((PetscInt)1 << AzJetSlotD2(n, i, j))) *order = PetscMax(*order, 2);
    if (req->mask & ((PetscInt)1 << AzJetSlotD3(n, i))) *order = PetscMax(*order, 3);
    if (req->mask & ((PetscInt)1 << AzJetSlotD4(n, i))) *order = PetscMax(*order, 4);
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* "t,x,xx": the requested slots by name */
PetscErrorCode AzJetRequestView(const AzJetRequest *req, PetscBool time_dependent, char buf[], size_t len)
{
  const PetscInt n   = req->ncoord;
  size_t         off = 0;

  PetscFunctionBegin;
  if (len) buf[0] = 0;
#define AZ_EMIT(...) \
  do { \
    int w_ = snprintf(buf + off, len > off ? len - off : 0, "%s", off ? "," : ""); \
    if (w_ > 0) off += (size_t)w_; \
    w_ = snprintf(buf + off, len > off ? len - off : 0, __VA_ARGS__); \
    if (w_ > 0) off += (size_t)w_; \
  } while (0)
  for (PetscInt i = 0; i < n; i++)
    if (req->mask & ((PetscInt)1 << AzJetSlotD1(n, i))) AZ_EMIT("%c", CoordLetter(i, n, time_dependent));
  for (PetscInt i = 0; i < n; i++)
    for (PetscInt j = i; j < n; j++)
      if (req->mask & ((PetscInt)1 << AzJetSlotD2(n, i, j))) AZ_EMIT("%c%c", CoordLetter(i, n, time_dependent), CoordLetter(j, n, time_dependent));
  for (PetscInt i = 0; i < n; i++) {
    char c = CoordLetter(i, n, time_dependent);
    if (req->mask & ((PetscInt)1 << AzJetSlotD3(n, i))) AZ_EMIT("%c%c%c", c, c, c);
    if (req->mask & ((PetscInt)1 << AzJetSlotD4(n, i))) AZ_EMIT("%c%c%c%c", c, c, c, c);
  }
#undef AZ_EMIT
  if (off >= len && len) buf[len - 1] = 0;
  PetscFunctionReturn(PETSC_SUCCESS);
}
