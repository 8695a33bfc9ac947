#!/bin/sh
# Time to relative L2 error <= 1e-3 on poisson2d, ansatz against the PyTorch Adam + L-BFGS equivalent,
# on the same points (ansatz writes them), the same network and the same 2 cores, in one run.
#   bench/torch/time_to_accuracy.sh
set -eu
export OPENBLAS_NUM_THREADS=1 OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export AZ_PROBLEM_PATH=${AZ_PROBLEM_PATH:-$PWD/problems/.libs}
out=${BENCH_OUT:-bench/out/tta}
mkdir -p "$out"
NET="-az_field_depth 3 -az_field_width 20"
PTS="-problem poisson2d -az_n_interior 900 -az_n_boundary 30 -az_monitor_every 10"
tta() { # first wall time in history.csv with rel_l2 <= 1e-3
  awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) { if ($i == "rel_l2") r = i; if ($i == "wall_seconds") w = i } next }
           $r + 0 <= 1e-3 && $r != "nan" { print $w, $1; exit }' "$1/history.csv"
}
mpiexec -n 2 ./ansatz train $PTS $NET -az_trainer_type adam,lbfgs -az_trainer_max_it 2000,3000 -az_adam_lr 2e-3 -az_save_points -az_quiet -az_output_dir "$out/adam-lbfgs" >/dev/null
mpiexec -n 2 ./ansatz train $PTS $NET -az_trainer_type gn -az_trainer_max_it 300 -az_quiet -az_output_dir "$out/gn" >/dev/null
mpiexec -n 2 ./ansatz train $PTS -az_field_depth 1 -az_field_width 32 -az_trainer_type gn -az_trainer_max_it 300 -az_quiet -az_output_dir "$out/gn-1x32" >/dev/null
torch=$(/usr/bin/python3 bench/torch/poisson2d.py "$out/adam-lbfgs" --threads 2 --depth 3 --width 20 --adam 2000 --lbfgs 3000 --lr 2e-3 --target 1e-3)
echo "pytorch adam+lbfgs 3x20: $torch"
tt=$(echo "$torch" | /usr/bin/python3 -c "import json,sys; t=json.load(sys.stdin)['time_to_target']; print(t if t is not None else 'inf')")
for run in adam-lbfgs gn gn-1x32; do
  set -- $(tta "$out/$run") "" ""
  if [ -n "$1" ]; then
    echo "ansatz $run: rel_l2 <= 1e-3 after $1 s (iteration $2); pytorch adam+lbfgs: $tt s; ratio $(/usr/bin/python3 -c "print(f'{float(\"$tt\")/float(\"$1\"):.1f}')")x"
  else
    echo "ansatz $run: did not reach 1e-3"
  fi
done
