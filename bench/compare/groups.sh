#!/bin/sh
# bench/compare/groups.sh: the wall time of one comparison grid (4 strategies x 2 repeats = 8
# independent trainings of heat1d) on 1, 2 and 4 ranks (4 oversubscribed on 2 cores), run
# data-parallel (every run on all ranks, -az_compare_groups 1) against rank groups
# (-az_compare_groups G: G runs at a time, each on P/G ranks). Every run's results are the same in
# every configuration (tests/test_mpi.sh checks it bit for bit); the script checks compare_runs.csv.
#   bench/compare/groups.sh        (from the top of a built tree)
set -eu
export OPENBLAS_NUM_THREADS=1
export AZ_PROBLEM_PATH=${AZ_PROBLEM_PATH:-$PWD/problems/.libs}
out=${BENCH_OUT:-bench/out}/groups
mkdir -p "$out"
grid="-problem heat1d -az_strategies soft,hard,soft-cosine,adaptive -az_repeats 2 -az_field_depth 2 -az_field_width 20 -az_n_interior ${N:-2000} -az_n_initial 100 -az_trainer_type adam,lbfgs -az_trainer_max_it ${ITS:-200,200} -az_quiet"
printf "%-6s %-7s %10s\n" ranks groups "wall (s)"
for c in "1 1" "2 1" "2 2" "4 1" "4 2" "4 4"; do
  set -- $c
  t0=$(date +%s.%N)
  mpiexec -n $1 --oversubscribe ./ansatz compare $grid -az_compare_groups $2 -az_output_dir "$out/n$1g$2" >"$out/n$1g$2.log" 2>&1
  t1=$(date +%s.%N)
  printf "%-6s %-7s %10.1f\n" $1 $2 "$(echo "$t1 - $t0" | bc)"
  cut -d, -f1-12,14- "$out/n$1g$2/compare_runs.csv" >"$out/n$1g$2.runs"
  cmp -s "$out/n1g1.runs" "$out/n$1g$2.runs" || echo "   (compare_runs.csv differs from 1 rank!)"
done
