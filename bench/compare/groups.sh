#!/bin/sh
# bench/compare/groups.sh: the wall time of one comparison grid (2 strategies x 2 settings of
# -az_sweep x 2 repeats = 8 independent trainings of heat1d) on 1, 2 and 4 ranks (4 oversubscribed on
# 2 cores), run data-parallel (every run on all ranks, -az_compare_groups 1) against rank groups
# (-az_compare_groups G: G runs at a time, each on P/G ranks). Every run's results are the same in
# every configuration with the same ranks per run (tests/test_mpi.sh checks it bit for bit); the
# script compares compare_runs.csv (wall time apart) with the 1-rank run's and says where it differs
# (data-parallel on 2 or 4 ranks sums in another order: the last digits may differ there).
#   bench/compare/groups.sh        (from the top of a built tree; N=, ITS=, SWEEP= to change the grid)
set -eu
export OPENBLAS_NUM_THREADS=1
export AZ_PROBLEM_PATH=${AZ_PROBLEM_PATH:-$PWD/problems/.libs}
out=${BENCH_OUT:-bench/out}/groups
mkdir -p "$out"
grid="-problem heat1d -az_strategies soft,hard -az_repeats 2 -az_field_depth 2 -az_n_interior ${N:-1000} -az_n_initial 100 -az_trainer_type adam,lbfgs -az_trainer_max_it ${ITS:-100,100} -az_quiet"
sweep=${SWEEP:-az_field_width=16,24}
# compare_runs.csv without its wall_seconds column
nowall() { awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "wall_seconds") w = i } { s = ""; for (i = 1; i <= NF; i++) if (i != w) s = s "," $i; print s }' "$1"; }
echo "$(date -u '+%Y-%m-%d %H:%M UTC'), load before: $(cut -d' ' -f1-3 /proc/loadavg)"
printf "%-6s %-7s %10s\n" ranks groups "wall (s)"
for c in "1 1" "2 1" "2 2" "4 1" "4 2" "4 4"; do
  set -- $c
  t0=$(date +%s.%N)
  mpiexec -n $1 --oversubscribe ./ansatz compare $grid -az_sweep "$sweep" -az_compare_groups $2 -az_output_dir "$out/n$1g$2" >"$out/n$1g$2.log" 2>&1
  t1=$(date +%s.%N)
  printf "%-6s %-7s %10.1f   (load %s)\n" $1 $2 "$(echo "$t1 - $t0" | bc)" "$(cut -d' ' -f1 /proc/loadavg)"
  nowall "$out/n$1g$2/compare_runs.csv" >"$out/n$1g$2.runs"
  cmp -s "$out/n1g1.runs" "$out/n$1g$2.runs" || echo "   (compare_runs.csv differs from 1 rank's)"
done
