#!/bin/sh
# The reference's self-verification on the shipped problems at their default settings: each law's own
# drift, the half-resolution error estimate, the true error where an exact solution exists (final
# time, relative L2), and the cost of the second solve against the first.
# Usage: bench/reference/verify.sh [path/to/ansatz]   (from the top of the build tree; CASES holds
# other cases, one a line: a problem and its options)
set -eu
ANSATZ="${1:-./ansatz}"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OPENBLAS_NUM_THREADS=1
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
printf '%-44s %-8s %-9s %-11s %-11s %-11s %-9s %-9s %s\n' case method verified estimated true_err_t1 drift solve_s half_s half/solve
cases=${CASES:-"advection1d
heat1d
burgers1d
heat2d
poisson2d
euler2d
advection1d -az_ref_order 2
burgers1d -az_ref_n 1025
burgers1d -az_ref_method fd
kdv1d
nls1d
allen_cahn1d
convection1d
gpme1d -az_gpme1d_kind heat
gpme1d -az_gpme1d_kind pme
gpme1d -az_gpme1d_kind stefan
diffusion_sorption1d"}
echo "$cases" | while read -r args; do
  set -- $args
  prob=$1
  shift
  dir="$out/$(echo "$args" | tr ' ' '_')"
  "$ANSATZ" reference -problem "$prob" "$@" -az_ref_cache 0 -az_output_dir "$dir" >/dev/null 2>&1 || { printf '%-44s failed\n' "$args"; continue; }
  get() { sed -n "s/^  \"$1\": \([^,]*\),*$/\1/p" "$dir/summary.json"; }
  drift=$(sed -n 's/^  "drift": {.*"drift": \([^,]*\),.*/\1/p' "$dir/summary.json")
  solve=$(get wall_seconds)
  half=$(get halfres_seconds)
  printf '%-44s %-8s %-9s %-11s %-11s %-11s %-9s %-9s %.2f\n' "$args" "$(get method | tr -d '"')" "$(get verified)" "$(get estimated_error)" "$(get error_rel_l2)" "${drift:-n/a}" "$solve" "$half" "$(echo "$half / $solve" | bc -l)"
done
