#!/bin/sh
# Time to relative L2 error <= 1e-3 and <= 1e-4 on Raissi et al.'s Burgers (burgers1d: 2 -> 8x20 tanh
# -> 1, 10,000 interior Sobol points, hard boundary and initial conditions u = g + phi N), ansatz
# against the PyTorch Adam + L-BFGS equivalent (bench/torch/burgers.py: float32, Adam 5,000 at lr
# 1e-3, then L-BFGS with a strong-Wolfe line search, the error logged every 10 iterations through
# both stages), on the same points (ansatz writes them), the same network, loss and error grid, back to
# back on the same 2 cores (ansatz on 2 MPI ranks, PyTorch with 2 threads).
#   bench/torch/burgers_time_to_accuracy.sh
# Cheap mode (a smoke test, a couple of minutes):
#   TORCH_ADAM=50 TORCH_LBFGS=50 AZ_BASE_IT=50,50 AZ_RECIPE_IT=20,20 AZ_DEFAULT=0 bench/torch/burgers_time_to_accuracy.sh
# The third ansatz run (AZ_DEFAULT=0 skips it) is `ansatz train -problem burgers1d` with the network
# and points alone: the default of issue 18 item 4 (about 35 s).
# Environment: TORCH_ADAM, TORCH_LBFGS (PyTorch's Adam iterations and L-BFGS cap; it stops early once
# 1e-4 is reached), AZ_BASE_IT (ansatz's Adam + L-BFGS baseline), AZ_RECIPE / AZ_RECIPE_IT (the
# recipe's stages and their iterations), TORCH_THREADS, RANKS, REF_DIR, BENCH_OUT.
set -eu
export OPENBLAS_NUM_THREADS=1 OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
# PyTorch's OpenMP threads spin while they wait: on a machine shared with other work that costs it up
# to 10x per iteration (measured 2026-11-27); passive waiting is the fair setting for it here.
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}
export AZ_PROBLEM_PATH=${AZ_PROBLEM_PATH:-$PWD/problems/.libs}
out=${BENCH_OUT:-bench/out/tta-burgers}
RANKS=${RANKS:-2}
mkdir -p "$out"
SETUP="-problem burgers1d -az_recipe none -az_hard_boundary -az_hard_initial -az_field_depth 8 -az_field_width 20 -az_n_interior 10000 -az_n_boundary 100 -az_n_initial 256 -az_monitor_every 10 -az_quiet"
# the recipe measured fastest to 1e-3 (bench/README.md, issue 18): a short Adam warm-up, then the dense
# self-scaled Broyden quasi-Newton stage (src/trainer/bfgs.c)
RECIPE=${AZ_RECIPE:-"-az_trainer_type adam,bfgs -az_bfgs_update ssbroyden -az_adam_lr 2e-3"}
AZ_RECIPE_IT=${AZ_RECIPE_IT:-200,1000}
tta() { # first wall time and iteration in a history.csv (ansatz's or burgers.py's) with rel_l2 <= $2
  awk -F, -v t="$2" 'NR == 1 { for (i = 1; i <= NF; i++) { if ($i == "rel_l2") r = i; if ($i == "wall_seconds") w = i } next }
           $r != "nan" && $r + 0 <= t + 0 { print $w, $1; exit }' "$1"
}
last() { # the last rel_l2, wall and iteration of a history.csv
  awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) { if ($i == "rel_l2") r = i; if ($i == "wall_seconds") w = i } next } { l = $r " after " $w " s (iteration " $1 ")" } END { print l }' "$1"
}
echo "load before: $(uptime)"
mpiexec -n "$RANKS" ./ansatz train $SETUP -az_adam_lr 2e-3 -az_trainer_type adam,lbfgs -az_trainer_max_it "${AZ_BASE_IT:-1000,5000}" \
  -az_save_points -az_output_dir "$out/adam-lbfgs" >/dev/null
ref=${REF_DIR:-runs/reference-burgers1d} # where ansatz train keeps burgers1d's reference
echo "load: $(uptime)"
# the PyTorch side's error measure and loss against ansatz's on the same parameters
echo "check: ansatz $(grep -E '"(rel_l2|loss)"' "$out/adam-lbfgs/summary.json" | tr -d ' \n')," \
  "burgers.py on its theta.bin (float64): $(/usr/bin/python3 bench/torch/burgers.py "$out/adam-lbfgs" "$ref" --dtype float64 --check-theta "$out/adam-lbfgs/theta.bin")"
torch=$(/usr/bin/python3 bench/torch/burgers.py "$out/adam-lbfgs" "$ref" --threads "${TORCH_THREADS:-2}" --adam "${TORCH_ADAM:-5000}" \
  --lbfgs "${TORCH_LBFGS:-10000}" --lr 1e-3 --targets 1e-3,1e-4 --history "$out/torch.csv")
echo "pytorch: $torch"
echo "load: $(uptime)"
mpiexec -n "$RANKS" ./ansatz train $SETUP $RECIPE -az_trainer_max_it "$AZ_RECIPE_IT" -az_output_dir "$out/recipe" >/dev/null
runs="adam-lbfgs recipe"
# issue 18 item 4: the same network and points with no other option (the recipes choose the rest)
if [ "${AZ_DEFAULT:-1}" != 0 ]; then
  mpiexec -n "$RANKS" ./ansatz train -problem burgers1d -az_field_depth 8 -az_field_width 20 -az_n_interior 10000 \
    -az_monitor_every 10 -az_quiet -az_output_dir "$out/default" | grep "^recipe"
  runs="$runs default"
fi
echo "load after: $(uptime)"
echo "ansatz recipe: $RECIPE -az_trainer_max_it $AZ_RECIPE_IT"
for target in 1e-3 1e-4; do
  set -- $(tta "$out/torch.csv" $target) "" ""
  tt=${1:-inf}
  if [ -n "$1" ]; then echo "pytorch adam+lbfgs: rel_l2 <= $target after $1 s (iteration $2)"
  else echo "pytorch adam+lbfgs: rel_l2 <= $target not reached: $(last "$out/torch.csv")"; fi
  for run in $runs; do
    set -- $(tta "$out/$run/history.csv" $target) "" ""
    if [ -n "$1" ]; then
      echo "  ansatz $run: rel_l2 <= $target after $1 s (iteration $2); ratio $(/usr/bin/python3 -c "print(f'{float(\"$tt\")/float(\"$1\"):.1f}')")x"
    else
      echo "  ansatz $run: not reached: $(last "$out/$run/history.csv")"
    fi
  done
done
