#!/bin/sh
# bench/train/reproducible.sh: the cost of rank-count-independent sums (fixed groups of points added
# in group order; dense JᵀJ folded exactly). Time per iteration of Adam, L-BFGS and dense
# Gauss-Newton on Burgers (8x20 tanh, 10,000 interior points, hard boundary and initial conditions,
# as bench/compare/burgers_gn.sh) on 1 and 2 ranks, for a build before the change (BEFORE, default
# /work/main/ansatz) and this tree's, side by side, the two builds alternating REPEAT times (default
# 3): the fastest of the repeats is shown, which filters out other work on a shared machine.
#   [REPEAT=3] [STAGES="adam lbfgs gn"] bench/train/reproducible.sh [Adam/L-BFGS iterations, default 40] [Gauss-Newton iterations, default 3]
set -eu
AFTER=${AFTER:-./ansatz}
BEFORE=${BEFORE:-/work/main/ansatz}
export AZ_PROBLEM_PATH=${AZ_PROBLEM_PATH:-$PWD/problems/.libs}
export OPENBLAS_NUM_THREADS=1
MPIEXEC=${MPIEXEC:-mpiexec}
out=${BENCH_OUT:-bench/out}/reproducible
mkdir -p "$out"
IT=${1:-40}
GN=${2:-3}
REPEAT=${REPEAT:-3}
STAGES=${STAGES:-adam lbfgs gn}
COMMON="-problem burgers1d -az_hard_boundary -az_hard_initial -az_field_depth 8 -az_field_width 20 -az_n_interior 10000 -az_n_boundary 100 -az_n_initial 256 -az_quiet"

# seconds per iteration between the first and the last row of history.csv
per_it() {
  awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "wall_seconds") w = i; next }
           NR == 2 { i0 = $1; w0 = $w } { i1 = $1; w1 = $w }
           END { if (i1 > i0) printf "%.4f", (w1 - w0) / (i1 - i0); else printf "nan" }' "$1"
}

printf '%-6s %-5s %12s %12s %8s\n' stage ranks "before s/it" "after s/it" change
for stage in $STAGES; do
  its=$IT
  extra=""
  [ "$stage" = gn ] && its=$GN && extra="-az_gn_solver dense"
  for n in 1 2; do
    b=""
    a=""
    for r in $(seq "$REPEAT"); do
      for which in before after; do
        bin=$BEFORE
        [ "$which" = after ] && bin=$AFTER
        $MPIEXEC -n "$n" "$bin" train $COMMON -az_trainer_type "$stage" -az_trainer_max_it "$its" $extra \
          -az_monitor_every $((its - 1)) -az_output_dir "$out/$stage-$n-$which" >"$out/$stage-$n-$which.log" 2>&1
        t=$(per_it "$out/$stage-$n-$which/history.csv")
        if [ "$which" = before ]; then b="$b $t"; else a="$a $t"; fi
      done
    done
    b=$(echo $b | tr ' ' '\n' | sort -g | head -1)
    a=$(echo $a | tr ' ' '\n' | sort -g | head -1)
    awk -v s="$stage" -v n="$n" -v b="$b" -v a="$a" 'BEGIN { printf "%-6s %-5s %12.4f %12.4f %+7.1f%%\n", s, n, b, a, (a / b - 1) * 100 }'
  done
done
