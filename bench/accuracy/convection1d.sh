#!/bin/sh
# convection1d (β = 40 by default; β = 80: ./convection1d.sh 80): the same network and budget with and
# without causal training (and with time-marching), each run's rel L2 against the exact solution
# sin(x − βt). Run from the build directory. 1 rank.
#   GN_IT   Gauss–Newton iterations after Adam 300 (default 500)
#   N       interior points (default 1000), NI initial points (default 100)
#   WIDTH   hidden width of the 3-layer tanh network (default 20)
#   WI      weight of the initial condition (default 1)
#   RUNS    which of plain, causal, march to run (default all three)
#   FROM    a theta.bin to continue from: Gauss–Newton alone (no Adam), causal ε held at 100
# The table's row (8.9e-5): N=3000 NI=200 WI=100 GN_IT=1500 RUNS=causal, then the same with
# FROM=runs/accuracy-convection1d/causal/theta.bin OUT=runs/accuracy-convection1d-more.
set -eu
# the dense Gauss-Newton step's BLAS (dsyrk, potrf) rounds differently with another thread count, and
# on this setting that alone can decide between the right and a wrong solution (bench/accuracy/README.md)
export OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-1}
AZ=${AZ:-./ansatz}
beta=${1:-40}
out=${OUT:-runs/accuracy-convection1d}
common="-problem convection1d -az_convection1d_beta $beta -az_field_depth 3 -az_field_width ${WIDTH:-20} -az_n_interior ${N:-1000} -az_n_initial ${NI:-100} -az_weight_initial ${WI:-1} -az_monitor_every 100 -az_quiet"
if [ -n "${FROM:-}" ]; then
  common="$common -az_field_load $FROM -az_trainer_type gn -az_trainer_max_it ${GN_IT:-500}"
else
  common="$common -az_trainer_type adam,gn -az_trainer_max_it 300,${GN_IT:-500}"
fi
mkdir -p "$out"
for v in ${RUNS:-plain causal march}; do
  extra=""
  [ $v = causal ] && extra="-az_causal 1"
  [ $v = causal ] && [ -n "${FROM:-}" ] && extra="-az_causal 1 -az_causal_eps 100"
  [ $v = march ] && extra="-az_time_march 4"
  $AZ train $common $extra -az_output_dir "$out/$v" >"$out/$v.log" 2>&1 || { echo "$v: failed, see $out/$v.log"; continue; }
  printf '%-7s %s\n' "$v" "$(grep '^done:' "$out/$v.log")"
done
