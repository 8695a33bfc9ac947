#!/bin/sh
# bench/compare/probconserv.sh: ProbConserv (-az_conservation probconserv) against posthoc and no
# correction on gpme1d heat, pme and stefan (ProbConserv's three difficulty levels). Each kind is
# trained once (soft conditions, no law enforced); the same trained network is then measured as it is
# (none), projected post hoc (posthoc) and updated by probconserv: pertime (-az_probconserv_mode
# pertime, the default: one update per time, exact at every t; and with σ_c = 0.01) and joint (one δθ
# for the laws at -az_probconserv_times T equally spaced times, σ_c = 0; T = 101 are the drift's own
# times; joint-T21, joint-T6), by loading its
# theta.bin with 0 iterations: the same training budget for all, the columns differ by the step after
# training alone. Columns: rel L2 and max drift |Q(t) − Q*(t)| over the 101 drift times (summary.json),
# and for stefan the front at t = 0.1: the x where u falls through u*/2 on field.vtk's 101-point row
# (linear interpolation), against the exact solution's on the same row (its jump is at 2z√t).
#   bench/compare/probconserv.sh                 (from the top of a built tree)
#   BUDGET=recipe bench/compare/probconserv.sh   (the problem's recipe: depth 3, width 32, adam,gn 500,300)
set -eu
export OPENBLAS_NUM_THREADS=1 OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export AZ_PROBLEM_PATH=${AZ_PROBLEM_PATH:-$PWD/problems/.libs}
BUDGET=${BUDGET:-small}
KINDS=${KINDS:-heat pme stefan}
out=${BENCH_OUT:-bench/out/probconserv-$BUDGET}
case $BUDGET in
  small) net="-az_field_depth 2 -az_field_width 16 -az_n_interior 1000 -az_n_boundary 100 -az_n_initial 100"; train="-az_trainer_type gn -az_trainer_max_it 200" ;;
  recipe) net="-az_field_depth 3 -az_field_width 32"; train="-az_trainer_type adam,gn -az_trainer_max_it 500,300" ;;
  *) echo "BUDGET small or recipe" >&2; exit 1 ;;
esac
# the front on the last time row of field.vtk: first x where the column crosses u*/2 downwards
front() { # file column-name
  awk -v col="$2" -v half=0.25 '
    /^SCALARS/ { name = $2; i = 0; next } /^LOOKUP_TABLE/ { next }
    name == col && NF == 1 { v[i++] = $1 }
    END { n = 101; base = (n - 1) * n; for (k = 0; k < n - 1; k++) { a = v[base + k]; b = v[base + k + 1];
            if (a >= half && b < half) { printf "%.4f", (k + (a - half) / (a - b)) / (n - 1); exit } } print "none" }' "$1"
}
num() { sed -n "s/.*\"$2\": \([^,}]*\).*/\1/p" "$1" | head -1; }
printf '| kind | strategy | rel L2 | drift vs Q* | front x(t=0.1) (exact) | probconserv: misfit before, after, ‖δθ‖ |\n| --- | --- | --- | --- | --- | --- |\n'
for kind in $KINDS; do
  base="-problem gpme1d -az_gpme1d_kind $kind $net -az_recipe none -az_quiet"
  mkdir -p "$out/$kind"
  [ -s "$out/$kind/none/theta.bin" ] || ./ansatz train $base $train -az_output_dir "$out/$kind/none" > "$out/$kind/none.log" 2>&1
  for st in ${STRATEGIES:-none posthoc probconserv probconserv-s0.01 joint joint-T21 joint-T6}; do
    case $st in
      none) opt="" ;;
      posthoc) opt="-az_conservation posthoc" ;;
      probconserv) opt="-az_conservation probconserv -az_probconserv_mode pertime" ;;
      probconserv-s0.01) opt="-az_conservation probconserv -az_probconserv_mode pertime -az_probconserv_sigma 0.01" ;;
      joint) opt="-az_conservation probconserv -az_probconserv_mode joint" ;;
      joint-T21) opt="-az_conservation probconserv -az_probconserv_mode joint -az_probconserv_times 21" ;;
      joint-T6) opt="-az_conservation probconserv -az_probconserv_mode joint -az_probconserv_times 6" ;;
      *) echo "unknown strategy $st" >&2; exit 1 ;;
    esac
    d="$out/$kind/$st"
    if [ "$st" != none ]; then
      ./ansatz train $base -az_field_load "$out/$kind/none/theta.bin" -az_trainer_type adam -az_trainer_max_it 0 $opt -az_output_dir "$d" > "$d.log" 2>&1 || true
    fi
    [ -s "$d/summary.json" ] || { echo "| $kind | $st | failed: $(grep -m1 -o 'probconserv update refused.*' "$d.log" | cut -c1-160) | | | |"; continue; }
    fr="n/a"
    [ "$kind" = stefan ] && fr="$(front "$d/field.vtk" u) ($(front "$d/field.vtk" u_exact))"
    pc="n/a"
    grep -q '"probconserv": {' "$d/summary.json" && pc="$(num "$d/summary.json" misfit_before), $(num "$d/summary.json" misfit_after), $(num "$d/summary.json" dtheta_norm)"
    echo "| $kind | $st | $(num "$d/summary.json" rel_l2) | $(num "$d/summary.json" conservation_drift_vs_Qstar) | $fr | $pc |"
  done
done
