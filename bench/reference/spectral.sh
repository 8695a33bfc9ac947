#!/bin/sh
# The Fourier pseudo-spectral reference (issue 13): time of kdv1d and nls1d at the default settings
# on 1 and 2 ranks, and accuracy by self-convergence (N against 2N) and against fine finite
# differences (allen_cahn1d). Usage, from the top of the build tree:
#   make benchmarks && bench/reference/spectral.sh [path/to/ansatz]
set -eu
ANSATZ="${1:-./ansatz}"
REFDIFF="${REFDIFF:-./bench/reference/refdiff}"
MPIEXEC="${MPIEXEC:-mpiexec}"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OPENBLAS_NUM_THREADS=1
export AZ_PROBLEM_PATH="${AZ_PROBLEM_PATH:-$PWD/problems/.libs}"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
echo "== time at the default settings (spectral, 512 nodes, rtol 1e-11, 101 output times)"
printf '%-5s %-14s %8s %10s %10s\n' ranks problem steps solve_s process_s
for np in 1 2; do
  for prob in kdv1d nls1d allen_cahn1d; do
    dir="$out/$np-$prob"
    start=$(date +%s.%N)
    "$MPIEXEC" -n $np "$ANSATZ" reference -problem "$prob" -az_ref_cache 0 -az_output_dir "$dir" >/dev/null
    end=$(date +%s.%N)
    get() { sed -n "s/^  \"$1\": \([^,]*\),*$/\1/p" "$dir/summary.json"; }
    printf '%-5s %-14s %8s %10s %10.2f\n' "$np" "$prob" "$(get steps)" "$(get wall_seconds)" "$(echo "$end - $start" | bc)"
  done
done
echo "== accuracy: max difference at the coarser grid's nodes, 11 output times (1 = fd order 4, 2 = spectral)"
run() { printf '%-55s ' "$*"; "$REFDIFF" "$@" | tail -1; }
run kdv1d 2 256 2 512
run kdv1d 2 512 2 1024
run nls1d 2 256 2 512
run nls1d 2 512 2 1024
run allen_cahn1d 2 512 2 1024
run allen_cahn1d 2 1024 2 2048
run allen_cahn1d 2 512 1 4096
run allen_cahn1d 2 2048 1 8192
