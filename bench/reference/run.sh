#!/bin/sh
# The reference solver at the sizes issue 5 asks to be fast: Burgers on 2^12 and 2^13 nodes, heat2d and
# poisson2d on 256^2, serially and on 2 ranks. Prints the solver's own wall time (summary.json) and the
# process's. Usage: bench/reference/run.sh [path/to/ansatz]   (from the top of the build tree)
set -eu
ANSATZ="${1:-./ansatz}"
MPIEXEC="${MPIEXEC:-mpiexec}"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OPENBLAS_NUM_THREADS=1
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
printf '%-5s %-40s %8s %10s %12s %10s\n' ranks case steps solve_s error_max process_s
for np in 1 2; do
  for args in "burgers1d -az_ref_n 4096" "burgers1d -az_ref_n 8192" \
              "heat2d -az_ref_n 256 -az_ref_order 2" "heat2d -az_ref_n 256 -az_ref_order 4" \
              "poisson2d -az_ref_n 256 -az_ref_order 4"; do
    set -- $args
    prob=$1
    shift
    dir="$out/$np-$(echo "$args" | tr ' ' '_')"
    start=$(date +%s.%N)
    "$MPIEXEC" -n $np "$ANSATZ" reference -problem "$prob" "$@" -az_ref_cache 0 -az_output_dir "$dir" >/dev/null
    end=$(date +%s.%N)
    get() { sed -n "s/^  \"$1\": \([^,]*\),*$/\1/p" "$dir/summary.json"; }
    printf '%-5s %-40s %8s %10s %12s %10.2f\n' "$np" "$args" "$(get steps)" "$(get wall_seconds)" "$(get error_max)" "$(echo "$end - $start" | bc)"
  done
done
