/* `ansatz reference -problem NAME`: compute (or reuse) the reference and write its run directory. */
#include "refimpl.h"

PetscErrorCode AzReferenceGetDefaultDir(AzProblem prob, char dir[], size_t len)
{
  const char *name;

  PetscFunctionBegin;
  PetscCall(AzProblemGetName(prob, &name));
  snprintf(dir, len, "runs/reference-%s", name);
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzReferenceSolveCached(AzReference ref, const char dir[])
{
  PetscBool loaded = PETSC_FALSE;

  PetscFunctionBegin;
  if (ref->cache) PetscCall(AzReferenceLoadCached(ref, dir, &loaded));
  if (loaded) {
    PetscCall(PetscInfo(NULL, "Reusing the reference of %s stored in %s\n", ref->info->name, dir));
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  PetscCall(AzRefCheckWritePath(ref, dir)); /* refused before the solve, not after it */
  PetscCall(AzReferenceSolve(ref));
  PetscCall(AzReferenceWrite(ref, dir));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode AzReferenceRunMode(MPI_Comm comm, AzProblem prob)
{
  AzReference ref;
  char        dir[PETSC_MAX_PATH_LEN];

  PetscFunctionBegin;
  PetscCall(AzReferenceGetDefaultDir(prob, dir, sizeof dir));
  PetscOptionsBegin(comm, NULL, "ansatz reference", "AzReference");
  PetscCall(PetscOptionsString("-az_output_dir", "run directory of the reference (default runs/reference-<problem>)", "AzReferenceRunMode", dir, dir, sizeof dir, NULL));
  PetscOptionsEnd();
  PetscCall(AzReferenceCreate(comm, prob, &ref));
  PetscCall(AzReferenceSetFromOptions(ref));
  PetscCall(AzOptionsCheckpoint(comm, PETSC_TRUE)); /* before the solve: a misspelled option costs nothing */
  PetscCall(AzReferenceSolveCached(ref, dir));
  PetscCall(AzReferenceView(ref, PETSC_VIEWER_STDOUT_(comm)));
  PetscCall(PetscPrintf(comm, "  %s %s\n", ref->stats.from_cache ? "reused (options match):" : "written to", dir));
  PetscCall(AzReferenceDestroy(&ref));
  PetscFunctionReturn(PETSC_SUCCESS);
}
