#!/bin/sh
# hardpde-moe on diffusion_sorption1d (or PROBLEM), 1 rank, `nice -n 10`, one run at a time: the experts'
# layout (-az_moe_grid, -az_moe_cuts_x|t) and the nonlinear solve's start (-az_hardpde_start). Each
# argument is one run: "LABEL|STRATEGY|OPTIONS" (STRATEGY hardpde or hardpde-moe). Prints one line per run:
# label, strategy, rel L2, iterations, wall (s), with the UTC time and load average at its start.
# Usage: bench/hardpde/layout.sh "x|hardpde-moe|" "t|hardpde-moe|-az_moe_grid 1,4" ...
AZ=${AZ:-./ansatz}
PROBLEM=${PROBLEM:-diffusion_sorption1d}
BASE=${BASE:--az_moe_experts 4 -az_hardpde_basis 24 -az_field_width 24 -az_field_depth 2 -az_weight_interior 1e4 -az_trainer_type adam,lbfgs -az_trainer_max_it 1000,300 -az_n_interior 1000 -az_hardpde_points 1000 -az_ref_order 2}
out=$(mktemp -d)
export OPENBLAS_NUM_THREADS=1
echo "label strategy rel_l2 iterations wall_s utc load"
for run in "$@"; do
  label=${run%%|*}
  rest=${run#*|}
  strat=${rest%%|*}
  opts=${rest#*|}
  when=$(date -u +%H:%M:%S)
  load=$(cut -d' ' -f1 /proc/loadavg)
  # shellcheck disable=SC2086
  nice -n 10 "$AZ" compare -problem "$PROBLEM" -az_strategies "$strat" $BASE $opts -az_output_dir "$out/r" >"$out/log" 2>&1 ||
    { echo "$label $strat failed"; tail -3 "$out/log"; continue; }
  awk -v l="$label" -v s="$strat" -v w="$when" -v ld="$load" -F, 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
    { printf "%s %s %.3e %s %s %s %s\n", l, s, $c["rel_l2"], $c["iterations"], $c["wall_seconds"], w, ld }' "$out/r/compare.csv"
  rm -rf "$out/r"
done
rm -rf "$out"
