#!/bin/bash
# bench/torch/eval_speed.sh: the time of one loss + gradient evaluation (what every optimiser calls) on
# Raissi et al.'s Burgers benchmark (burgers1d, 2 -> 8x20 tanh -> 1, 3,021 parameters, 10,000 interior
# points, hard boundary and initial conditions), from -log_view's AzLossEval event of a short Adam run
# on 1 rank: ms per evaluation and GFlop/s (the field's GEMM flops, as PetscLogFlops counts them).
#   bench/torch/eval_speed.sh                       this tree alone
#   BEFORE=/path/to/built/tree bench/torch/eval_speed.sh
#                                                   A/B: runs alternate BEFORE, AFTER, BEFORE, ... so
#                                                   that the machine's drift hits both alike; prints the
#                                                   median of each and the speed-up BEFORE/AFTER
# Environment: REPS (5), ITS (Adam iterations per run, 50), EXTRA (more options for both sides, e.g.
# "-az_field_chunk 128"), AFTER (default: this tree), RANKS (1).
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
AFTER=$(cd "${AFTER:-$top}" && pwd)
REPS=${REPS:-5}
ITS=${ITS:-50}
RANKS=${RANKS:-1}
EXTRA=${EXTRA:-}
export OPENBLAS_NUM_THREADS=1 OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
SETUP="-problem burgers1d -az_recipe none -az_hard_boundary -az_hard_initial -az_field_depth 8 -az_field_width 20 -az_n_interior 10000 -az_n_boundary 100 -az_n_initial 256"

run() { # tree -> "ms_per_eval gflops evaluations"
  local out
  out=$(AZ_PROBLEM_PATH="$1/problems/.libs" mpiexec -n "$RANKS" "$1/ansatz" train $SETUP -az_trainer_type adam \
    -az_trainer_max_it "$ITS" -az_quiet -az_output_dir "${TMPDIR:-/tmp}/az_eval_speed.$$" -log_view $EXTRA </dev/null 2>&1)
  rm -rf "${TMPDIR:-/tmp}/az_eval_speed.$$"
  # -log_view: name count ratio time ratio flop ratio ... ; the time and flops are the maxima over ranks
  echo "$out" | awk '$1 == "AzLossEval" { printf "%.3f %.2f %d\n", 1e3 * $4 / $2, $6 / $4 * 1e-9, $2; f = 1 } END { if (!f) print "nan nan 0" }'
}
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

echo "load before: $(uptime)"
samples=$(mktemp)
for r in $(seq 1 "$REPS"); do
  if [ -n "${BEFORE:-}" ]; then echo "before $(run "$(cd "$BEFORE" && pwd)")" >>"$samples"; fi
  echo "after $(run "$AFTER")" >>"$samples"
done
echo "load after: $(uptime)"
for side in before after; do
  grep -q "^$side " "$samples" || continue
  ms=$(awk -v s=$side '$1 == s { print $2 }' "$samples" | median)
  gf=$(awk -v s=$side '$1 == s { print $3 }' "$samples" | median)
  n=$(awk -v s=$side '$1 == s { print $4; exit }' "$samples")
  name=$AFTER
  [ $side = before ] && name=$BEFORE
  printf "%-6s %9.3f ms per loss + gradient  %6.2f GFlop/s  (%s evaluations per run, median of %s runs: %s)  %s\n" \
    $side "$ms" "$gf" "$n" "$REPS" "$(awk -v s=$side '$1 == s { printf "%s ", $2 }' "$samples")" "$name"
done
if [ -n "${BEFORE:-}" ]; then
  b=$(awk '$1 == "before" { print $2 }' "$samples" | median)
  a=$(awk '$1 == "after" { print $2 }' "$samples" | median)
  awk -v a="$a" -v b="$b" 'BEGIN { printf "speed-up before/after: %.2fx\n", b / a }'
fi
rm -f "$samples"
