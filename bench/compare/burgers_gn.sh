#!/bin/sh
# bench/compare/burgers_gn.sh: Burgers in Raissi et al.'s setting (8x20 tanh, 10,000 interior points,
# nu = 0.01/pi) with hard boundary and initial conditions: Adam 1000 + L-BFGS 4000, then dense
# Gauss-Newton/Levenberg-Marquardt, one command, 2 ranks; the error against the SUNDIALS reference
# every 10 iterations is in history.csv.
#   bench/compare/burgers_gn.sh [Gauss-Newton iterations, default 200]
set -eu
export OPENBLAS_NUM_THREADS=1
export AZ_PROBLEM_PATH=${AZ_PROBLEM_PATH:-$PWD/problems/.libs}
MPIEXEC=${MPIEXEC:-mpiexec}
out=${BENCH_OUT:-bench/out}/burgers-adam-lbfgs-gn
$MPIEXEC -n 2 ./ansatz train -problem burgers1d -az_recipe none -az_hard_boundary -az_hard_initial \
  -az_field_depth 8 -az_field_width 20 -az_n_interior 10000 -az_n_boundary 100 -az_n_initial 256 \
  -az_adam_lr 2e-3 -az_trainer_type adam,lbfgs,gn -az_trainer_max_it "1000,4000,${1:-200}" \
  -az_gn_solver dense -az_monitor_every 10 -az_quiet -az_output_dir "$out"
awk -F, 'NR > 1 && $2 == "gn" && ($1 % 50 == 0) { printf "iteration %s: loss %s, rel L2 %s, %s s\n", $1, $3, $(NF - 1), $NF }' "$out/history.csv"
grep -E '"(rel_l2|max_abs_error|max_boundary_violation|max_initial_violation|wall_seconds)"' "$out/summary.json"
