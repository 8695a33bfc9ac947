#!/bin/sh
# burgers1d (ν = 0.01/π) with a small network (3 × 20 tanh, 921 parameters), the same initial network
# and points for every optimiser: L-BFGS, the dense self-scaled Broyden quasi-Newton (bfgs,
# -az_bfgs_update ssbroyden) and Gauss–Newton (dense), each for about the same wall time. Prints, per
# optimiser, the rel L2 against the reference at the last history line within T seconds (default 60)
# and the final line. Run from the build directory (the reference is computed once and cached).
# Usage: bench/accuracy/burgers1d_optimisers.sh [T]
set -eu
AZ=${AZ:-./ansatz}
T=${1:-60}
out=${OUT:-runs/accuracy-burgers1d-optimisers}
common="-problem burgers1d -az_field_depth 3 -az_field_width 20 -az_monitor_every 20 -az_quiet"
mkdir -p "$out"
printf '%-10s %8s %12s %12s %10s   %s\n' optimiser its_at_T rel_l2_at_T loss_at_T wall_at_T final
for v in lbfgs:${LBFGS_IT:-3000} bfgs:${BFGS_IT:-2400} gn:${GN_IT:-300}; do
  name=${v%%:*}
  its=${v#*:}
  extra=""
  [ "$name" = bfgs ] && extra="-az_bfgs_update ssbroyden"
  [ "$name" = gn ] && extra="-az_gn_solver dense"
  $AZ train $common -az_trainer_type "$name" -az_trainer_max_it "$its" $extra -az_output_dir "$out/$name" >"$out/$name.log" 2>&1 || { echo "$name: failed, see $out/$name.log"; continue; }
  awk -F, -v T="$T" -v n="$name" -v fin="$(grep '^done:' "$out/$name.log" | sed 's/ (against.*//')" '
    NR == 1 { for (i = 1; i <= NF; i++) { if ($i == "rel_l2") r = i; if ($i == "wall_seconds") w = i } next }
    $w <= T { it = $1; rel = $r; loss = $3; wall = $w }
    END { printf "%-10s %8s %12s %12s %10.1f   %s\n", n, it, rel, loss, wall, fin }' "$out/$name/history.csv"
done
