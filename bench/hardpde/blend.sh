#!/bin/sh
# hardpde-moe, 4 experts: the partition-of-unity blend (-az_moe_blend pou) against crisp boxes joined by
# a penalty on the jumps at the cuts (-az_moe_blend interface), on heat1d, burgers1d and
# diffusion_sorption1d, 1 rank. Prints one line per run: problem blend rel_l2 iterations wall_s s_per_it.
# Usage: bench/hardpde/blend.sh [ansatz] [problems]
AZ=${1:-./ansatz}
probs=${2:-"heat1d burgers1d diffusion_sorption1d"}
out=$(mktemp -d)
export OPENBLAS_NUM_THREADS=1
common="-az_moe_experts 4 -az_hardpde -az_hardpde_basis 24 -az_field_width 24 -az_field_depth 2 -az_n_interior 1000 -az_hardpde_points 1000 -az_quiet"
echo "problem blend rel_l2 iterations wall_s s_per_it"
for prob in $probs; do
  case $prob in
    diffusion_sorption1d) opts="-az_weight_interior 1e4 -az_trainer_type adam,lbfgs -az_trainer_max_it 1000,300 -az_ref_order 2" ;;
    *) opts="-az_trainer_type lbfgs -az_trainer_max_it 200" ;;
  esac
  for blend in pou interface; do
    nice -n 10 "$AZ" train -problem $prob $common $opts -az_moe_blend $blend -az_output_dir "$out/$prob-$blend" >"$out/log" 2>&1 ||
      { echo "$prob $blend failed"; tail -3 "$out/log"; continue; }
    h="$out/$prob-$blend/history.csv"
    l2=$(sed -n 's/.*"rel_l2": *\([^,]*\),.*/\1/p' "$out/$prob-$blend/summary.json" | head -1)
    awk -F, -v p=$prob -v b=$blend -v l2="$l2" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "wall_seconds") w = i } NR == 2 { t0 = $w; i0 = $1 } END { printf "%s %s %s %d %.1f %.4f\n", p, b, l2, $1, $w, ($w - t0) / ($1 - i0 > 0 ? $1 - i0 : 1) }' "$h"
  done
done
rm -rf "$out"
