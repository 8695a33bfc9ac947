#!/bin/sh
# Accuracy and time of training on the problems with exact solutions, 2 cores.
#   bench/train/run.sh [ansatz binary]   (from the top of a built tree)
# Prints one line per configuration: problem, trainer, iterations, wall seconds, rel L2, max abs error.
set -eu
AZ=${1:-./ansatz}
export AZ_PROBLEM_PATH=${AZ_PROBLEM_PATH:-$PWD/problems/.libs}
export OPENBLAS_NUM_THREADS=1 OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
out=${BENCH_OUT:-bench/out/train}
mkdir -p "$out"
NP=${NP:-2}

run() {
  name=$1; shift
  mpiexec -n "$NP" "$AZ" train -az_quiet -az_output_dir "$out/$name" "$@" >"$out/$name.log" 2>&1 || { echo "$name FAILED"; tail -5 "$out/$name.log"; return; }
  python3 - "$out/$name/summary.json" "$name" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
print(f"{sys.argv[2]:<28} {s['trainer']:<12} {s['iterations']:>6} {s['wall_seconds']:>8.1f} s  rel_l2 {s['rel_l2']:.3e}  max_abs {s['max_abs_error']:.3e}  ranks {s['ranks']}")
PY
}

echo "configuration                trainer      iters     wall    accuracy"
# Gauss-Newton/LM on a shallow network (2 -> 32 tanh -> 1, 129 parameters) against the Adam and
# Adam + L-BFGS baselines on a deeper one (3 x 20, 901 parameters) and on the same shallow one.
P2="-problem poisson2d -az_n_interior 900 -az_n_boundary 30"
run poisson2d-gn          $P2 -az_field_depth 1 -az_field_width 32 -az_trainer_type gn -az_trainer_max_it 1200
run poisson2d-adam        $P2 -az_field_depth 3 -az_field_width 20 -az_trainer_type adam -az_trainer_max_it 10000 -az_adam_lr 2e-3
run poisson2d-adam-lbfgs  $P2 -az_field_depth 3 -az_field_width 20 -az_trainer_type adam,lbfgs -az_trainer_max_it 2000,3000 -az_adam_lr 2e-3
run poisson2d-adam-lbfgs-1x32 $P2 -az_field_depth 1 -az_field_width 32 -az_trainer_type adam,lbfgs -az_trainer_max_it 2000,3000 -az_adam_lr 2e-3
H1="-problem heat1d -az_n_interior 900 -az_n_boundary 30 -az_n_initial 30"
run heat1d-gn             $H1 -az_field_depth 1 -az_field_width 32 -az_trainer_type gn -az_trainer_max_it 2000
run heat1d-adam           $H1 -az_field_depth 3 -az_field_width 20 -az_trainer_type adam -az_trainer_max_it 10000 -az_adam_lr 2e-3
run heat1d-adam-lbfgs     $H1 -az_field_depth 3 -az_field_width 20 -az_trainer_type adam,lbfgs -az_trainer_max_it 2000,3000 -az_adam_lr 2e-3
