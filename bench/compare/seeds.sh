#!/bin/sh
# bench/compare/seeds.sh: the law strategies of bench/compare/laws.sh, each at 5 paired seeds
# (-az_repeats 5: network seeds 0..4, point seeds 1..5), with the paired verdicts: is a difference
# between two strategies larger than what another seed makes on its own?
#   advection1d (mass 1, amplitude 1/2), the laws.sh setting: 2->32->1 tanh, 2000 points, 300 GN iterations
#   burgers1d (mass 0), small: 2->2x20->1 tanh, 2000 points, 100 GN iterations, against the reference
#   gpme1d (the porous medium equation, its mass law; kind pme), small: 2->2x16->1 tanh, 1000 points, 100
#   GN iterations (ITS=), against its exact solution (gpme is not in the default list: bench/compare/seeds.sh gpme)
# Strategies: no law constraint (soft), the penalty at constant weight (soft+conserve), the penalty
# cosine-scheduled to its peak at 70% of training (soft+conserve-cosine), the augmented Lagrangian
# (soft+conserve-auglag), projection in training (project), projection after training (posthoc).
#   bench/compare/seeds.sh [advection|burgers]...   (from the top of a built tree; default both)
set -eu
export OPENBLAS_NUM_THREADS=1
export AZ_PROBLEM_PATH=${AZ_PROBLEM_PATH:-$PWD/problems/.libs}
out=${BENCH_OUT:-bench/out}
strategies=soft,soft+conserve,soft+conserve-cosine,soft+conserve-auglag,project,posthoc
for p in ${*:-advection burgers}; do
  case $p in
  advection)
    ./ansatz compare -problem advection1d -az_strategies $strategies -az_repeats ${REPEATS:-5} \
      -az_field_depth 1 -az_field_width 32 -az_n_interior 2000 -az_n_initial 100 -az_trainer_type gn \
      -az_trainer_max_it 300 -az_time_slices 100 -az_schedule_peak 0.7 -az_quiet -az_output_dir "$out/seeds-advection1d" ;;
  burgers)
    ./ansatz compare -problem burgers1d -az_strategies $strategies -az_repeats ${REPEATS:-5} \
      -az_field_depth 2 -az_field_width 20 -az_n_interior 2000 -az_n_boundary 50 -az_n_initial 100 -az_trainer_type gn \
      -az_trainer_max_it 100 -az_time_slices 100 -az_schedule_peak 0.7 -az_quiet -az_output_dir "$out/seeds-burgers1d" ;;
  gpme)
    ./ansatz compare -problem gpme1d -az_strategies $strategies -az_repeats ${REPEATS:-5} \
      -az_field_depth 2 -az_field_width 16 -az_n_interior 1000 -az_n_boundary 100 -az_n_initial 100 -az_trainer_type gn \
      -az_trainer_max_it ${ITS:-100} -az_time_slices 100 -az_schedule_peak 0.7 -az_quiet -az_output_dir "$out/seeds-gpme1d" ;;
  *) echo "seeds.sh: advection, burgers or gpme, not '$p'" >&2; exit 1 ;;
  esac
done
