#!/bin/sh
# convection1d (β = 40 by default; β = 80: ./convection1d.sh 80): the same network and budget with and
# without causal training (and with time-marching), each run's rel L2 against the exact solution
# sin(x − βt). Run from the build directory. 1 rank; about 1 minute per run on 2 cores.
set -eu
AZ=${AZ:-./ansatz}
beta=${1:-40}
out=${OUT:-runs/accuracy-convection1d}
common="-problem convection1d -az_convection1d_beta $beta -az_field_depth 3 -az_field_width 20 -az_n_interior 1000 -az_n_initial 100 -az_trainer_type adam,gn -az_trainer_max_it 300,${GN_IT:-500} -az_monitor_every 100 -az_quiet"
mkdir -p "$out"
for v in plain causal march; do
  extra=""
  [ $v = causal ] && extra="-az_causal 1"
  [ $v = march ] && extra="-az_time_march 4"
  $AZ train $common $extra -az_output_dir "$out/$v" >"$out/$v.log" 2>&1 || { echo "$v: failed, see $out/$v.log"; continue; }
  printf '%-7s %s\n' "$v" "$(grep '^done:' "$out/$v.log")"
done
