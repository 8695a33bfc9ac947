#!/bin/sh
# bench/compare/burgers_resample.sh: Gauss-Newton on Burgers (hard conditions, 8x20 tanh) in stages,
# each on a fresh set of 10,000 interior points (a new -az_seed), starting from a trained network
# (default: the Adam + L-BFGS + 40 GN network of bench/README.md). The points are resampled so that
# Gauss-Newton cannot fit one point set at the expense of the solution between its points.
#   bench/compare/burgers_resample.sh [theta.bin] [stages] [iterations per stage] [points] [first seed]
set -eu
export OPENBLAS_NUM_THREADS=1
export AZ_PROBLEM_PATH=${AZ_PROBLEM_PATH:-$PWD/problems/.libs}
out=${BENCH_OUT:-bench/out}/burgers-resample
theta=${1:-bench/out/burgers-gn/theta.bin}
stages=${2:-4}
its=${3:-15}
npts=${4:-10000}
seed0=${5:-2}
out=$out-$npts-$seed0
mkdir -p "$out"
cp "$theta" "$out/theta0.bin"
for k in $(seq 1 "$stages"); do
  mpiexec -n 2 ./ansatz train -problem burgers1d -az_recipe none -az_hard_boundary -az_hard_initial \
    -az_field_depth 8 -az_field_width 20 -az_n_interior "$npts" -az_n_boundary 100 -az_n_initial 256 \
    -az_seed $((k + seed0 - 1)) -az_field_load "$out/theta$((k - 1)).bin" -az_trainer_type gn \
    -az_trainer_max_it "$its" -az_quiet -az_output_dir "$out/stage$k" | grep -E "^done|violation"
  cp "$out/stage$k/theta.bin" "$out/theta$k.bin"
done
