/* Which code the field's elementwise passes run: the AVX2 + FMA versions (activation.c, compiled twice
 * where fieldimpl.h's AZ_X86_CLONES is defined) where the CPU has both, the baseline otherwise, or the
 * baseline by request (-az_field_avx2 false, for the whole process). */
#include "fieldimpl.h"

static int az_avx2 = -1; /* -1: not decided yet */

PetscBool AzUseAVX2(void)
{
  if (az_avx2 < 0) {
#if defined(AZ_X86_CLONES)
    __builtin_cpu_init();
    az_avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
    az_avx2 = 0;
#endif
  }
  return az_avx2 ? PETSC_TRUE : PETSC_FALSE;
}

void AzSetAVX2(PetscBool use)
{
  az_avx2 = -1;
  if (use) (void)AzUseAVX2(); /* the CPU decides */
  else az_avx2 = 0;
}
