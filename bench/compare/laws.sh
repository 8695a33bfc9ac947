#!/bin/sh
# bench/compare/laws.sh: the strategies for the conservation law and for positivity, one rank,
# Gauss-Newton, on advection1d (periodic, mass 1):
#   positivity: amplitude 1, so the exact solution 1 + sin(2 pi (x - t)) touches 0 and a network that is
#   not kept positive dips below it: no constraint, its penalty (constant, cosine, adaptive,
#   multipliers for u >= 0) and softplus;
#   the mass law: no constraint, its penalty (constant, cosine, adaptive, multipliers per time slice)
#   and projection in training.
#   bench/compare/laws.sh        (from the top of a built tree)
set -eu
export OPENBLAS_NUM_THREADS=1
export AZ_PROBLEM_PATH=${AZ_PROBLEM_PATH:-$PWD/problems/.libs}
out=${BENCH_OUT:-bench/out}
common="-az_field_depth 1 -az_field_width 32 -az_n_interior 2000 -az_n_initial 100 -az_trainer_type gn -az_trainer_max_it 300 -az_quiet"
./ansatz compare -problem advection1d -az_advection1d_amp 1 \
  -az_strategies soft,soft+positivity,soft+positivity-cosine,soft+positivity-adaptive,soft+positivity-auglag,soft+softplus \
  $common -az_output_dir "$out/compare-positivity"
./ansatz compare -problem advection1d \
  -az_strategies soft,soft+conserve,soft+conserve-cosine,soft+conserve-adaptive,soft+conserve-auglag,project \
  $common -az_time_slices 100 -az_output_dir "$out/compare-laws"
