#!/bin/sh
# bench/train/gn_scaling.sh: seconds per Gauss-Newton iteration against the number of parameters, for
# the dense solver (Cholesky of J^T J + mu I; up to ~8,000 parameters: two P x P matrices per rank),
# matrix-free CG, and CG preconditioned by a rank-60 randomized Nystrom sketch of J^T J (NNCG), on
# poisson2d (its default points), 3 iterations after 100 of Adam, one rank. Also the CG iterations per
# solve and the loss reached (the same for every solver when the solves converge: the same steps).
# Usage, from the top of the build tree: bench/train/gn_scaling.sh [max_parameters]
set -eu
export OPENBLAS_NUM_THREADS=1 OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export AZ_PROBLEM_PATH=${AZ_PROBLEM_PATH:-$PWD/problems/.libs}
MAXP=${1:-60000}
out=${BENCH_OUT:-bench/out}/gn-scaling
mkdir -p "$out"
printf '%-8s %-8s %-12s %10s %10s %14s %12s\n' params net solver s_per_it cg_per_solve sketch_per_it loss
for net in "2 30" "3 40" "4 50" "4 80" "5 110"; do
  set -- $net
  for solver in dense cg nystrom; do
    case $solver in
      dense) opt="-az_gn_solver dense" ;;
      cg) opt="-az_gn_solver cg -az_gn_pc none" ;;
      nystrom) opt="-az_gn_solver cg -az_gn_pc nystrom" ;;
    esac
    dir="$out/$1x$2-$solver"
    P=$(( 2 * $2 + $2 + ($1 - 1) * ($2 * $2 + $2) + $2 + 1 ))
    [ "$P" -le "$MAXP" ] || continue
    if [ "$solver" = dense ] && [ "$P" -gt 9000 ]; then printf '%-8s %-8s %-12s %10s\n' "$P" "$1x$2" dense "(memory)"; continue; fi
    ./ansatz train -problem poisson2d -az_field_depth "$1" -az_field_width "$2" -az_trainer_type adam,gn \
      -az_trainer_max_it 100,3 -az_monitor_every 1 $opt -az_quiet -az_output_dir "$dir" >/dev/null
    get() { sed -n "s/^  \"$1\": \([^,]*\),*$/\1/p" "$dir/summary.json"; }
    awk -F, -v P="$P" -v net="$1x$2" -v s="$solver" -v sol="$(get gn_linear_solves)" -v cgi="$(get gn_cg_iterations)" -v sk="$(get gn_sketch_products)" \
      '$2 == "adam" { t0 = $NF } $2 == "gn" { t = $NF; l = $3 } END { printf "%-8s %-8s %-12s %10.2f %10.1f %14.0f %12s\n", P, net, s, (t - t0) / 3, sol ? cgi / sol : 0, sk / 3, l }' "$dir/history.csv"
  done
done
