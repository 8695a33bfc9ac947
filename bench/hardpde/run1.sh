#!/bin/sh
# One hardpde run for bench/hardpde/README.md's "Towards 1e-8": prints
#   label problem iterations loss rel_l2 wall_s load
# Usage: bench/hardpde/run1.sh LABEL PROBLEM OUTDIR [ansatz options...]   (AZ=path/to/ansatz, default ./ansatz)
# The run directory OUTDIR keeps theta.bin (for -az_field_load and bench/hardpde/span).
AZ=${AZ:-./ansatz}
label=$1 prob=$2 dir=$3
shift 3
export OPENBLAS_NUM_THREADS=1
load=$(cut -d' ' -f1 /proc/loadavg)
"$AZ" train -problem "$prob" -az_quiet -az_output_dir "$dir" "$@" >"$dir.log" 2>&1 || { echo "$label $prob FAILED"; tail -3 "$dir.log"; exit 1; }
s="$dir/summary.json"
get() { sed -n "s/^  \"$1\": \([^,]*\),*$/\1/p" "$s" | head -1; }
echo "$label $prob its=$(get iterations) loss=$(get loss) rel_l2=$(get rel_l2) wall=$(get wall_seconds) load=$load"
