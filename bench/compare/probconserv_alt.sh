#!/bin/sh
# bench/compare/probconserv_alt.sh: ProbConserv's diagonal update on gpme1d stefan with an ensemble's
# variance and with a threshold sensitivity instead of the Laplace variance
# (bench/compare/probconserv_alt.py). Trains 6 seeds and 8 thresholds, continues seed 0 at 7, at the small budget of
# probconserv_diag.sh (about 40 s), then prints the tables.
#   bench/compare/probconserv_alt.sh        (from the top of a built tree)
set -eu
export OPENBLAS_NUM_THREADS=1 OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export AZ_PROBLEM_PATH=${AZ_PROBLEM_PATH:-$PWD/problems/.libs}
out=${BENCH_OUT:-bench/out/probconserv-alt}
mkdir -p "$out"
run() { # output directory, options
  dir=$1
  shift
  ./ansatz train -problem gpme1d -az_gpme1d_kind stefan -az_field_depth 2 -az_field_width 16 -az_n_interior 1000 -az_n_boundary 100 -az_n_initial 100 -az_recipe none -az_quiet -az_trainer_type gn -az_trainer_max_it 200 "$@" -az_output_dir "$out/$dir" > "$out/$dir.log" 2>&1 || { echo "$dir: training failed, see $out/$dir.log" >&2; exit 1; }
}
for s in 0 1 2 3 4 5; do run seed$s -az_field_seed $s; done
pairs="0.49,0.51 0.48,0.52 0.45,0.55 0.4,0.6 0.45,0.5 0.5,0.55"
for us in 0.4 0.45 0.48 0.49 0.51 0.52 0.55 0.6; do run ustar$us -az_gpme1d_ustar $us -az_field_seed 0; done
cp -r "$out/seed0" "$out/ustar0.5"
# the sensitivity without the training noise: from seed 0's θ, 30 more Gauss–Newton steps at each u*
for us in 0.45 0.48 0.49 0.5 0.51 0.52 0.55; do run warm$us -az_gpme1d_ustar $us -az_field_seed 0 -az_trainer_max_it 30 -az_field_load "$out/seed0/theta.bin"; done
/usr/bin/python3 bench/compare/probconserv_alt.py "$out" 6 "$pairs" "0.49,0.51 0.48,0.52 0.45,0.55 0.5,0.51 0.49,0.5"
