#!/bin/sh
# burgers1d (ν = 0.01/π): the same network and budget with a fixed collocation set and with the PDE's
# set resampled every 100 iterations (R3, RAR-D, RAD), each run's rel L2 against the reference
# (computed once, about 25 s, then cached in runs/reference-burgers1d). Run from the build
# directory. 1 rank; about 40 s per run on 2 shared cores (IT=1000,1000 halves it).
set -eu
AZ=${AZ:-./ansatz}
out=${OUT:-runs/accuracy-resample}
common="-problem burgers1d -az_field_depth 3 -az_field_width 20 -az_n_interior 1000 -az_n_boundary 50 -az_n_initial 100 -az_trainer_type adam,lbfgs -az_trainer_max_it ${IT:-2000,2000} -az_monitor_every 100 -az_quiet"
mkdir -p "$out"
for v in none r3 rard rad; do
  extra=""
  [ $v != none ] && extra="-az_resample $v -az_resample_every 100"
  $AZ train $common $extra -az_output_dir "$out/$v" >"$out/$v.log" 2>&1 || { echo "$v: failed, see $out/$v.log"; continue; }
  printf '%-5s %s  n_pde %s\n' "$v" "$(grep '^done:' "$out/$v.log")" "$(tail -1 "$out/$v/history.csv" | awk -F, -v v=$v 'v == "none" {print "1000"} v != "none" {print $(NF - 3)}')"
done
