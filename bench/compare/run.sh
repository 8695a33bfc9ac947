#!/bin/sh
# bench/compare: soft versus hard constraints on burgers1d (Raissi et al. 2019 setting: nu = 0.01/pi,
# u0 = -sin(pi x) on [-1, 1], zero boundary values, t in [0, 1]; 2 -> 8 x 20 tanh -> 1, 10,000
# interior points), errors against the SUNDIALS reference. Constant penalty weights 1, 10, 100, 1000
# against the cosine schedule, the adaptive weights, the augmented Lagrangian and the hard transform.
#   bench/compare/run.sh            (from the top of a built tree; NP ranks, default 2)
set -eu
export OPENBLAS_NUM_THREADS=1 OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export AZ_PROBLEM_PATH=${AZ_PROBLEM_PATH:-$PWD/problems/.libs}
out=${BENCH_OUT:-bench/out/compare}
NP=${NP:-2}
IT=${IT:-1000,4000}
mpiexec -n "$NP" ./ansatz compare -problem burgers1d \
  -az_strategies soft@1,soft@10,soft@100,soft@1000,soft-cosine,adaptive,auglag,hard \
  -az_field_depth 8 -az_field_width 20 -az_n_interior 10000 -az_n_boundary 100 -az_n_initial 256 \
  -az_trainer_type adam,lbfgs -az_trainer_max_it "$IT" -az_adam_lr 2e-3 -az_weight_max 100 \
  -az_quiet -az_output_dir "$out" "$@"
