#!/bin/sh
# Discovering conservation laws on problems whose laws are known (bench/discover/README.md records
# the results). From the build directory: sh bench/discover/run.sh [OUTDIR]. The references are
# solved once and cached in runs/reference-PROBLEM (minutes for burgers1d's finite volumes).
set -eu
AZ=${AZ:-./ansatz}
out=${1:-bench/out/discover}
mkdir -p "$out"
export AZ_PROBLEM_PATH=${AZ_PROBLEM_PATH:-$PWD/problems/.libs}
hn=${HN:-$PWD/tests/.libs/heatneumann.so}
d() { name=$1; shift; echo "== $name: ansatz discover $*"; "$AZ" discover "$@" -az_discover_spectrum -az_discover_output "$out/$name.json" 2>&1 | grep -v '^\*\*\*' | tee "$out/$name.txt"; }

# from the SUNDIALS/spectral/finite-volume references
d kdv1d-reference -problem kdv1d
d nls1d-reference -problem nls1d
d nls1d-k-reference -problem nls1d -az_nls1d_k 0.6283185307179586
d nls1d-reference-deg4 -problem nls1d -az_discover_degree 4
d nls1d-k-reference-deg4 -problem nls1d -az_nls1d_k 0.6283185307179586 -az_discover_degree 4
d nls1d-reference-deg4-tol -problem nls1d -az_discover_degree 4 -az_discover_tol 5e-8
d burgers1d-reference -problem burgers1d
d heatneumann-reference -problem "$hn"
d kdv1d-reference-xx -problem kdv1d -az_discover_derivatives x,xx
d heatneumann-reference-x -problem "$hn" -az_ref_n 256 -az_discover_x
d heat1d-reference -problem heat1d

# from trained fields (short runs)
"$AZ" train -problem "$hn" -az_trainer_type adam,gn -az_trainer_max_it 500,200 -az_field_depth 2 -az_field_width 20 -az_n_interior 600 -az_output_dir "$out/heatneumann-train" -az_quiet
d heatneumann-field -az_run "$out/heatneumann-train"
"$AZ" train -problem kdv1d -az_trainer_type adam,gn -az_trainer_max_it 500,150 -az_output_dir "$out/kdv1d-train" -az_quiet
d kdv1d-field -az_run "$out/kdv1d-train"

# feeding the discovered mass back: heatneumann declares no law; project it in training
"$AZ" train -problem "$hn" -az_conservation_from "$out/heatneumann-reference.json" -az_conservation project -az_trainer_type adam,gn -az_trainer_max_it 500,200 -az_field_depth 2 -az_field_width 20 -az_n_interior 600 -az_output_dir "$out/heatneumann-project" -az_quiet
grep -E '"rel_l2|"conservation' "$out/heatneumann-train/summary.json" "$out/heatneumann-project/summary.json"
