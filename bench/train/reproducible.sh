#!/bin/sh
# bench/train/reproducible.sh: the cost of rank-count-independent sums (fixed groups of points added
# in group order; dense JᵀJ folded exactly). CPU seconds per iteration of Adam, L-BFGS and dense
# Gauss-Newton on Burgers (8x20 tanh, 10,000 interior points, hard boundary and initial conditions,
# as bench/compare/burgers_gn.sh) on 1 and 2 ranks (all ranks together, MPI's busy waiting included),
# for a build before the change (BEFORE: the ansatz program of a tree at commit 8ebd4db) and this
# tree's, side by side.
# CPU time, not wall time: on a shared machine wall time varied by ±30% from run to run. Per iteration
# is the difference between a long and a short run (setup and the reference solve cancel), the two
# builds alternating REPEAT times (default 2), the smallest kept.
#   BEFORE=/path/to/old/ansatz [REPEAT=2] [STAGES="adam lbfgs gn"] bench/train/reproducible.sh [Adam/L-BFGS iterations, default 40] [Gauss-Newton iterations, default 2]
# Builds from commit f0999dc on fill the options not given from the problem's recipe (burgers1d's: the
# periodic embedding of x since 2026-11-27); the runs recorded here had none: run two such builds with
# PETSC_OPTIONS="-az_recipe none".
set -eu
AFTER=${AFTER:-./ansatz}
BEFORE=${BEFORE:?set BEFORE to the ansatz program of a build before the change (commit 8ebd4db)}
export AZ_PROBLEM_PATH=${AZ_PROBLEM_PATH:-$PWD/problems/.libs}
export OPENBLAS_NUM_THREADS=1
MPIEXEC=${MPIEXEC:-mpiexec}
out=${BENCH_OUT:-bench/out}/reproducible
mkdir -p "$out"
IT=${1:-40}
GN=${2:-2}
REPEAT=${REPEAT:-2}
STAGES=${STAGES:-adam lbfgs gn}
COMMON="-problem burgers1d -az_hard_boundary -az_hard_initial -az_field_depth 8 -az_field_width 20 -az_n_interior 10000 -az_n_boundary 100 -az_n_initial 256 -az_quiet"

cpu() { # CPU seconds (user + system) of a command and its children
  /usr/bin/time -f "%U %S" -o "$out/time" "$@" >/dev/null 2>&1
  awk '{ print $1 + $2 }' "$out/time"
}

printf '%-6s %-5s %12s %12s %8s\n' stage ranks "before s/it" "after s/it" change
for stage in $STAGES; do
  lo=10
  hi=$((IT + 10))
  extra=""
  [ "$stage" = gn ] && lo=1 && hi=$((GN + 1)) && extra="-az_gn_solver dense"
  for n in 1 2; do
    b=""
    a=""
    for r in $(seq "$REPEAT"); do
      for which in before after; do
        bin=$BEFORE
        [ "$which" = after ] && bin=$AFTER
        t0=$(cpu $MPIEXEC -n "$n" "$bin" train $COMMON -az_trainer_type "$stage" -az_trainer_max_it $lo $extra -az_output_dir "$out/$stage-$n-$which")
        t1=$(cpu $MPIEXEC -n "$n" "$bin" train $COMMON -az_trainer_type "$stage" -az_trainer_max_it $hi $extra -az_output_dir "$out/$stage-$n-$which")
        t=$(awk -v a="$t0" -v b="$t1" -v n=$((hi - lo)) 'BEGIN { printf "%.4f", (b - a) / n }')
        if [ "$which" = before ]; then b="$b $t"; else a="$a $t"; fi
      done
    done
    b=$(echo $b | tr ' ' '\n' | sort -g | head -1)
    a=$(echo $a | tr ' ' '\n' | sort -g | head -1)
    awk -v s="$stage" -v n="$n" -v b="$b" -v a="$a" 'BEGIN { printf "%-6s %-5s %12.4f %12.4f %+7.1f%%\n", s, n, b, a, (a / b - 1) * 100 }'
  done
done
