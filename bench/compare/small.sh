#!/bin/sh
# bench/compare/small.sh: every strategy family on the small problems, one rank, Gauss-Newton.
#   advection1d (periodic, mass law, positive): conditions soft/hard, the mass law penalised,
#   projected in training or post hoc, positivity by penalty or by softplus;
#   euler2d (steady Taylor-Green): the velocity plain or from a stream function.
#   bench/compare/small.sh        (from the top of a built tree)
set -eu
export OPENBLAS_NUM_THREADS=1
export AZ_PROBLEM_PATH=${AZ_PROBLEM_PATH:-$PWD/problems/.libs}
out=${BENCH_OUT:-bench/out}
./ansatz compare -problem advection1d \
  -az_strategies soft,hard,soft+conserve,project,posthoc,hard+project,soft+positivity,soft+softplus \
  -az_field_depth 1 -az_field_width 32 -az_n_interior 2000 -az_n_initial 100 \
  -az_trainer_type gn -az_trainer_max_it 300 -az_quiet -az_output_dir "$out/compare-advection"
./ansatz compare -problem euler2d -az_strategies soft,soft+divfree \
  -az_field_depth 2 -az_field_width 20 -az_trainer_type gn -az_trainer_max_it 200 -az_quiet \
  -az_output_dir "$out/compare-euler"
