/* The trainer types: optimiser stages registered by name in a PetscFunctionList and chosen by name
 * with -az_trainer_type, like PETSc's -tao_type. A new optimiser is one file (its stage function,
 * see trainer.h) and one register line in AzTrainerInitializePackage below, or a call to
 * AzTrainerRegister from a program before AzTrainerSetFromOptions. */
#include "trainerimpl.h"
#include <ansatz/compat.h>
#include <string.h>

#define AZ_MAX_TRAINER_TYPES 32

static PetscFunctionList AzTrainerList;
static PetscBool         AzTrainerPackageInitialized;
/* the names in the order registered (the built-ins first), for messages, with each stage's default
 * iteration count (-az_trainer_max_it not given) */
static struct {
  char     name[AZ_TRAINER_NAME_LEN];
  PetscInt default_its;
} types[AZ_MAX_TRAINER_TYPES];
static PetscInt ntypes;

static PetscErrorCode AzTrainerFinalizePackage(void)
{
  PetscFunctionBegin;
  PetscCall(PetscFunctionListDestroy(&AzTrainerList));
  ntypes                      = 0;
  AzTrainerPackageInitialized = PETSC_FALSE;
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode Register(const char name[], AzTrainerStageFn fn, PetscInt default_its)
{
  size_t   len;
  PetscInt k = 0;

  PetscFunctionBegin;
  PetscCheck(name && fn, PETSC_COMM_SELF, PETSC_ERR_ARG_NULL, "AzTrainerRegister needs a name and a stage function");
  PetscCall(PetscStrlen(name, &len));
  PetscCheck(len > 0 && len < AZ_TRAINER_NAME_LEN, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "Trainer type name '%s': 1 to %d characters are allowed", name, AZ_TRAINER_NAME_LEN - 1);
  PetscCheck(!strpbrk(name, ", \t"), PETSC_COMM_SELF, PETSC_ERR_ARG_WRONG, "Trainer type name '%s' may not contain a comma or a space (-az_trainer_type is a comma-separated chain)", name);
  while (k < ntypes && strcmp(types[k].name, name)) k++;
  PetscCheck(k < AZ_MAX_TRAINER_TYPES, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "At most %d trainer types can be registered", AZ_MAX_TRAINER_TYPES);
  if (k == ntypes) ntypes++; /* a name registered again gets the new function */
  PetscCall(PetscStrncpy(types[k].name, name, sizeof types[k].name));
  types[k].default_its = default_its;
  PetscCall(PetscFunctionListAdd(&AzTrainerList, name, fn));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* the built-in optimisers: one line each */
static PetscErrorCode AzTrainerInitializePackage(void)
{
  PetscFunctionBegin;
  if (AzTrainerPackageInitialized) PetscFunctionReturn(PETSC_SUCCESS);
  AzTrainerPackageInitialized = PETSC_TRUE;
  PetscCall(PetscRegisterFinalize(AzTrainerFinalizePackage));
  PetscCall(Register("adam", AzTrainAdam, 1000));
  PetscCall(Register("lbfgs", AzTrainLBFGS, 500));
  PetscCall(Register("gn", AzTrainGN, 50));
  PetscCall(Register("bfgs", AzTrainBFGS, 500));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzTrainerRegisterAll(void)
{
  PetscFunctionBegin;
  PetscCall(AzTrainerInitializePackage());
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzTrainerRegister(const char name[], AzTrainerStageFn fn)
{
  PetscFunctionBegin;
  PetscCall(AzTrainerInitializePackage());
  PetscCall(Register(name, fn, 1000));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzTrainerTypeList(char buf[], size_t len)
{
  PetscFunctionBegin;
  PetscCall(AzTrainerInitializePackage());
  buf[0] = 0;
  for (PetscInt k = 0; k < ntypes; k++) {
    PetscCall(PetscStrlcat(buf, k ? ", " : "", len));
    PetscCall(PetscStrlcat(buf, types[k].name, len));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzTrainerTypeFind(const char name[], char canonical[], AzTrainerStageFn *fn, PetscInt *default_its, PetscBool *found)
{
  PetscFunctionBegin;
  PetscCall(AzTrainerInitializePackage());
  *found = PETSC_FALSE;
  for (PetscInt k = 0; k < ntypes && !*found; k++) {
    PetscCall(PetscStrcasecmp(name, types[k].name, found)); /* -az_trainer_type LBFGS works too */
    if (!*found) continue;
    PetscCall(PetscStrncpy(canonical, types[k].name, AZ_TRAINER_NAME_LEN));
    PetscCall(PetscFunctionListFind(AzTrainerList, types[k].name, fn));
    if (default_its) *default_its = types[k].default_its;
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The stage type in a checkpoint: the built-ins keep the numbers of the former enum (adam 0, lbfgs 1,
 * gn 2), so checkpoints written before the registry still restart; any other type is a stable hash
 * of its name (FNV-1a), at least 1000, so it never collides with a built-in. */
int64_t AzTrainerTypeNumber(const char name[])
{
  const char *const builtin[] = {"adam", "lbfgs", "gn"};
  uint32_t          h         = 2166136261u;

  for (int64_t k = 0; k < 3; k++)
    if (!strcmp(name, builtin[k])) return k;
  for (const unsigned char *s = (const unsigned char *)name; *s; s++) h = (h ^ *s) * 16777619u;
  return 1000 + (int64_t)(h & 0x3fffffff);
}

const char *AzTrainerTypeName(int64_t number)
{
  for (PetscInt k = 0; k < ntypes; k++)
    if (AzTrainerTypeNumber(types[k].name) == number) return types[k].name;
  return "(unknown: not registered in this program)";
}
