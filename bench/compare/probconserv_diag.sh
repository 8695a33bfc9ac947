#!/bin/sh
# bench/compare/probconserv_diag.sh: ProbConserv's diagonal form with the Laplace pointwise variance
# (bench/compare/probconserv_diag.py) on gpme1d stefan and pme: trains each once with
# -az_uncertainty (field.vtk then carries u_std) and prints the corrections' table.
#   bench/compare/probconserv_diag.sh                 (from the top of a built tree; about 1 minute)
#   BUDGET=recipe KINDS=stefan bench/compare/probconserv_diag.sh   (depth 3, width 32, adam,gn 500,300)
set -eu
export OPENBLAS_NUM_THREADS=1 OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export AZ_PROBLEM_PATH=${AZ_PROBLEM_PATH:-$PWD/problems/.libs}
BUDGET=${BUDGET:-small}
out=${BENCH_OUT:-bench/out/probconserv-diag-$BUDGET}
case $BUDGET in
  small) net="-az_field_depth 2 -az_field_width 16 -az_n_interior 1000 -az_n_boundary 100 -az_n_initial 100"; train="-az_trainer_type gn -az_trainer_max_it 200" ;;
  recipe) net="-az_field_depth 3 -az_field_width 32"; train="-az_trainer_type adam,gn -az_trainer_max_it 500,300" ;;
  *) echo "BUDGET small or recipe" >&2; exit 1 ;;
esac
for kind in ${KINDS:-stefan pme}; do
  ./ansatz train -problem gpme1d -az_gpme1d_kind $kind $net -az_recipe none -az_quiet $train -az_uncertainty -az_output_dir "$out/$kind" > "$out-$kind.log" 2>&1 || { echo "$kind: training failed, see $out-$kind.log" >&2; exit 1; }
  echo "## $kind ($BUDGET)"
  /usr/bin/python3 bench/compare/probconserv_diag.py "$out/$kind/field.vtk"
done
