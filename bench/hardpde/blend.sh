#!/bin/sh
# hardpde-moe, 4 experts: the partition-of-unity blend (-az_moe_blend pou) against crisp boxes joined by
# a penalty on the jumps at the cuts (-az_moe_blend interface), on heat1d, burgers1d and
# diffusion_sorption1d, 1 rank. Prints one line per run: problem blend rel_l2 iterations wall_s
# s_per_it (summary.json's wall over its iterations: start-up included). Usage:
#   bench/hardpde/blend.sh [ansatz] [problems] [blends]      (TRAIN: trainer options replacing the default)
AZ=${1:-./ansatz}
probs=${2:-"heat1d burgers1d diffusion_sorption1d"}
blends=${3:-"pou interface"}
out=$(mktemp -d)
export OPENBLAS_NUM_THREADS=1
common="-az_moe_experts 4 -az_hardpde -az_hardpde_basis 24 -az_field_width 24 -az_field_depth 2 -az_n_interior 1000 -az_hardpde_points 1000 -az_quiet"
echo "problem blend rel_l2 iterations wall_s s_per_it"
for prob in $probs; do
  case $prob in
    diffusion_sorption1d) opts="-az_weight_interior 1e4 -az_ref_order 2 ${TRAIN:--az_trainer_type adam,lbfgs -az_trainer_max_it 1000,300}" ;;
    *) opts="${TRAIN:--az_trainer_type lbfgs -az_trainer_max_it 200}" ;;
  esac
  for blend in $blends; do
    nice -n 10 "$AZ" train -problem $prob $common $opts -az_moe_blend $blend -az_output_dir "$out/r" >"$out/log" 2>&1 ||
      { echo "$prob $blend failed"; tail -3 "$out/log"; continue; }
    awk -v p=$prob -v b=$blend -F'[:,]' '/"iterations"/ { it = $2 + 0 } /"wall_seconds"/ { w = $2 + 0 } /"rel_l2"/ { l2 = $2 + 0 }
      END { printf "%s %s %.3e %d %.1f %.4f\n", p, b, l2, it, w, w / (it > 0 ? it : 1) }' "$out/r/summary.json"
    rm -rf "$out/r"
  done
done
rm -rf "$out"
