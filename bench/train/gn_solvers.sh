#!/bin/sh
# bench/train/gn_solvers.sh: seconds per Gauss-Newton iteration, dense normal equations (Cholesky of
# J^T J + mu I) against matrix-free CG (at most 200 iterations), on Burgers (10,000 points, hard
# conditions, 2 ranks) for networks of about 3,000 and 6,600 parameters, in one run.
set -eu
export OPENBLAS_NUM_THREADS=1
export AZ_PROBLEM_PATH=${AZ_PROBLEM_PATH:-$PWD/problems/.libs}
MPIEXEC=${MPIEXEC:-mpiexec}
for width in 20 30; do
  for solver in dense cg; do
    printf 'width %s, %s: ' "$width" "$solver"
    $MPIEXEC -n 2 ./ansatz train -problem burgers1d -az_recipe none -az_hard_boundary -az_hard_initial -az_field_depth 8 \
      -az_field_width "$width" -az_n_interior 10000 -az_n_boundary 100 -az_n_initial 256 \
      -az_trainer_type adam,gn -az_trainer_max_it 200,3 -az_gn_solver "$solver" -az_quiet \
      -az_output_dir "${BENCH_OUT:-bench/out}/gn-solvers-$width-$solver" >/dev/null
    awk -F, '$2 == "adam" { t0 = $NF } $2 == "gn" { t = $NF; l = $3 } END { printf "%.2f s per iteration, loss %s\n", (t - t0) / 3, l }' \
      "${BENCH_OUT:-bench/out}/gn-solvers-$width-$solver/history.csv"
  done
done
