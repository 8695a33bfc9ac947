#!/bin/sh
# The conservative finite-volume reference (issue 13): burgers1d by fv against fd of order 4 (both
# against fd at 16384 nodes), and the porous medium equation u_t = (u² u_x)_x from the Barenblatt
# solution (the test plugin tests/barenblatt.c) against its exact cell averages, with its mass.
# Usage, from the top of the build tree (make benchmarks check, for refdiff and the test plugin):
#   bench/reference/fv.sh [path/to/ansatz]
set -eu
ANSATZ="${1:-./ansatz}"
REFDIFF="${REFDIFF:-./bench/reference/refdiff}"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OPENBLAS_NUM_THREADS=1
export AZ_PROBLEM_PATH="${AZ_PROBLEM_PATH:-$PWD/problems/.libs}"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
get() { sed -n "s/^  \"$1\": \([^,]*\),*$/\1/p" "$2/summary.json"; }
echo "== burgers1d: max difference from fd order 4 at 16384 nodes, 11 output times (1 = fd, 3 = fv)"
for m in "1 4096" "3 4096" "3 8192" "3 16384" "3 32768"; do
  printf '%-10s ' "$m"
  "$REFDIFF" burgers1d 1 16384 $m -az_ref_verify 0 | grep -E "^solve 1|^max" | tr '\n' ' '
  echo
done
echo "== burgers1d at the default settings (auto: fv, 32768 cells), with the half-resolution estimate"
"$ANSATZ" reference -problem burgers1d -az_ref_cache 0 -az_output_dir "$out/b" >/dev/null 2>&1 || true
echo "steps $(get steps "$out/b") solve_s $(get wall_seconds "$out/b") estimated $(get estimated_error "$out/b") halfres_s $(get halfres_seconds "$out/b")"
echo "== barenblatt (m = 2, t in [0.3, 3], no-flux walls): error at t1 vs exact cell averages, mass"
printf '%-6s %-6s %8s %10s %12s %12s %10s\n' cells rtol steps solve_s rel_l2 max drift_rel
for n in 256 1024 4096; do
  for tols in 1e-6:1e-8 1e-8:1e-10; do
    tol=${tols%%:*}
    d="$out/p$n$tol"
    "$ANSATZ" reference -problem tests/.libs/barenblatt.so -az_ref_n $n -az_ref_rtol $tol -az_ref_atol ${tols##*:} -az_ref_nt_out 11 -az_ref_verify 0 -az_ref_cache 0 -az_output_dir "$d" >/dev/null 2>&1 || true
    printf '%-6s %-6s %8s %10s %12s %12s %10s\n' $n $tol "$(get steps "$d")" "$(get wall_seconds "$d")" "$(get error_rel_l2 "$d")" "$(get error_max "$d")" "$(sed -n 's/.*"relative": \([^}]*\)}.*/\1/p' "$d/summary.json")"
  done
done
