#!/bin/sh
# Strong scaling of one training iteration (loss + gradient) at 40,000 interior points, and weak
# scaling (20,000 points per rank) for the rank counts given (default: 1 2).
#   bench/mpi_scaling/run.sh [ranks...]
set -eu
AZ=${AZ:-./ansatz}
export AZ_PROBLEM_PATH=${AZ_PROBLEM_PATH:-$PWD/problems/.libs}
export OPENBLAS_NUM_THREADS=1 OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
out=${BENCH_OUT:-bench/out/mpi_scaling}
mkdir -p "$out"
ranks=${*:-1 2}
IT=${IT:-30}
COMMON="-problem poisson2d -az_field_depth 4 -az_field_width 50 -az_trainer_type adam -az_trainer_max_it $IT -az_quiet -az_n_boundary 400"

wall() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['wall_seconds'])" "$1"; }

echo "strong scaling: 40000 interior points, $IT Adam iterations (2x4x50 tanh network)"
t1=""
for n in $ranks; do
  mpiexec -n "$n" --oversubscribe "$AZ" train $COMMON -az_n_interior 40000 -az_output_dir "$out/strong-$n" >"$out/strong-$n.log" 2>&1
  t=$(wall "$out/strong-$n/summary.json")
  [ -n "$t1" ] || t1=$t
  python3 -c "import sys; t1,t,n=float(sys.argv[1]),float(sys.argv[2]),int(sys.argv[3]); print(f'  ranks {n:>3}  wall {t:8.2f} s  speedup {t1/t:5.2f}  efficiency {t1/t/n*100:5.1f}%')" "$t1" "$t" "$n"
done
echo "weak scaling: 20000 interior points per rank"
t1=""
for n in $ranks; do
  mpiexec -n "$n" --oversubscribe "$AZ" train $COMMON -az_n_interior $((20000 * n)) -az_output_dir "$out/weak-$n" >"$out/weak-$n.log" 2>&1
  t=$(wall "$out/weak-$n/summary.json")
  [ -n "$t1" ] || t1=$t
  python3 -c "import sys; t1,t,n=float(sys.argv[1]),float(sys.argv[2]),int(sys.argv[3]); print(f'  ranks {n:>3}  wall {t:8.2f} s  weak efficiency {t1/t*100:5.1f}%')" "$t1" "$t" "$n"
done
