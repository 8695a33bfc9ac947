#!/bin/sh
# bench/train/gn_scaling.sh: seconds per Gauss-Newton iteration against the number of parameters, for
# the dense solver (Cholesky of J^T J + mu I; up to ~8,000 parameters: two P x P matrices per rank),
# matrix-free CG, and CG preconditioned by a rank-60 randomized Nystrom sketch of J^T J (NNCG), on
# poisson2d (its default points), 3 iterations after 100 of Adam, one rank. Also the CG iterations per
# solve and the loss reached (the same for every solver when the solves converge: the same steps).
# For comparison, the dense quasi-Newton stage (bfgs, self-scaled Broyden: a P x P inverse Hessian per
# rank, up to 8,000 parameters here) per iteration, 10 iterations after the same 100 of Adam (its
# line search: about one loss and gradient per iteration, plus two P x P passes).
# Usage, from the top of the build tree: [SOLVERS="dense bfgs"] [NETS="4x80 5x110"] bench/train/gn_scaling.sh [max_parameters]
set -eu
export OPENBLAS_NUM_THREADS=1 OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export AZ_PROBLEM_PATH=${AZ_PROBLEM_PATH:-$PWD/problems/.libs}
MAXP=${1:-60000}
out=${BENCH_OUT:-bench/out}/gn-scaling
mkdir -p "$out"
printf '%-8s %-8s %-12s %10s %10s %14s %12s\n' params net solver s_per_it cg_per_solve sketch_per_it loss
for net in ${NETS:-2x30 3x40 4x50 4x80 5x110}; do
  set -- $(echo "$net" | tr x ' ')
  for solver in ${SOLVERS:-dense cg nystrom bfgs}; do
    stage=gn its=3
    case $solver in
      dense) opt="-az_gn_solver dense" ;;
      cg) opt="-az_gn_solver cg -az_gn_pc none" ;;
      nystrom) opt="-az_gn_solver cg -az_gn_pc nystrom" ;;
      bfgs) opt="-az_bfgs_update ssbroyden" stage=bfgs its=10 ;;
    esac
    dir="$out/$1x$2-$solver"
    P=$(( 2 * $2 + $2 + ($1 - 1) * ($2 * $2 + $2) + $2 + 1 ))
    [ "$P" -le "$MAXP" ] || continue
    if [ "$solver" = dense ] && [ "$P" -gt 9000 ]; then printf '%-8s %-8s %-12s %10s\n' "$P" "$1x$2" dense "(memory)"; continue; fi
    if [ "$solver" = bfgs ] && [ "$P" -gt 8000 ]; then printf '%-8s %-8s %-12s %10s\n' "$P" "$1x$2" bfgs "(memory)"; continue; fi
    ./ansatz train -problem poisson2d -az_field_depth "$1" -az_field_width "$2" -az_trainer_type adam,$stage \
      -az_trainer_max_it 100,$its -az_monitor_every 1 $opt -az_quiet -az_output_dir "$dir" >/dev/null
    get() { sed -n "s/^  \"$1\": \([^,]*\),*$/\1/p" "$dir/summary.json"; }
    awk -F, -v P="$P" -v net="$1x$2" -v s="$solver" -v sol="$(get gn_linear_solves)" -v cgi="$(get gn_cg_iterations)" -v sk="$(get gn_sketch_products)" \
      -v st="$stage" -v its="$its" \
      '$2 == "adam" { t0 = $NF } $2 == st { t = $NF; l = $3 } END { printf "%-8s %-8s %-12s %10.3f %10.1f %14.0f %12s\n", P, net, s, (t - t0) / its, sol ? cgi / sol : 0, sk / its, l }' "$dir/history.csv"
  done
done
