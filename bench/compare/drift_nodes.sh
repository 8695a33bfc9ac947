#!/bin/sh
# bench/compare/drift_nodes.sh: how the conservation drift of a projected Burgers solution falls with
# the projection's quadrature nodes. Trains burgers1d once (hard constraints, the bench/compare
# setting), then projects the trained network post hoc onto its mass law (∫u dx = 0) with 128 .. 4096
# nodes, the drift measured by an independent composite Gauss-Legendre rule of 16384 nodes.
#   bench/compare/drift_nodes.sh     (from the top of a built tree; NP ranks, default 2)
set -eu
export OPENBLAS_NUM_THREADS=1 OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export AZ_PROBLEM_PATH=${AZ_PROBLEM_PATH:-$PWD/problems/.libs}
out=${BENCH_OUT:-bench/out/drift_nodes}
NP=${NP:-2}
net="-problem burgers1d -az_recipe none -az_hard_boundary -az_hard_initial -az_field_depth 8 -az_field_width 20 -az_n_interior 10000 -az_n_boundary 100 -az_n_initial 256"
[ -s "$out/trained/theta.bin" ] || mpiexec -n "$NP" ./ansatz train $net -az_trainer_type adam,lbfgs -az_trainer_max_it 1000,4000 -az_adam_lr 2e-3 -az_quiet -az_output_dir "$out/trained"
printf '| projection nodes | conservation drift | rel L2 |\n| --- | --- | --- |\n'
d=$(sed -n 's/.*"conservation_drift_vs_Qstar": \([^,]*\).*/\1/p' "$out/trained/summary.json")
r=$(sed -n 's/.*"rel_l2": \([^,]*\).*/\1/p' "$out/trained/summary.json")
echo "| none (trained, 1024-node drift rule) | $d | $r |"
for n in 128 256 512 1024 2048 4096; do
  ./ansatz train $net -az_field_load "$out/trained/theta.bin" -az_trainer_type adam -az_trainer_max_it 0 \
    -az_conservation posthoc -az_project_nodes $n -az_drift_nodes 16384 -az_quiet -az_output_dir "$out/posthoc$n" > /dev/null
  d=$(sed -n 's/.*"conservation_drift_vs_Qstar": \([^,]*\).*/\1/p' "$out/posthoc$n/summary.json")
  r=$(sed -n 's/.*"rel_l2": \([^,]*\).*/\1/p' "$out/posthoc$n/summary.json")
  echo "| $n | $d | $r |"
done
