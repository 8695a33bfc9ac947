#!/bin/sh
# The same suites under mpiexec with 2 ranks: every rank loads the plugins and agrees.
set -u
fails=0
# a failed assertion on one rank can leave the others waiting in a collective: a suite that has not
# finished in 15 minutes has hung, and fails instead of holding up the whole run
limit="timeout -k 10 900"
run() {
  echo "== $MPIEXEC -n 2 $*"
  $limit "$MPIEXEC" -n 2 "$@" </dev/null || { echo "FAIL: $* (exit $?; 124: hung, stopped after 15 minutes)"; fails=$((fails + 1)); }
}
run "$top_builddir/tests/test_problem"
run "$top_builddir/tests/test_train"
run "$top_builddir/tests/test_reference"
run "$top_builddir/tests/test_spectral"
run "$top_builddir/tests/test_fv"
run "$top_builddir/tests/test_constraint"
run "$top_builddir/tests/test_loss"
run "$top_builddir/tests/test_laplace"
run "$top_builddir/tests/test_io"
echo "== $MPIEXEC -n 4 --oversubscribe test_train (loss, gradient and training against one rank)"
$limit "$MPIEXEC" -n 4 --oversubscribe "$top_builddir/tests/test_train" </dev/null || { echo "FAIL: test_train on 4 ranks"; fails=$((fails + 1)); }
for t in "$top_builddir"/tests/test_field; do [ -x "$t" ] && run "$t"; done
out=$("$MPIEXEC" -n 2 "$top_builddir/ansatz" info -problem heat1d 2>&1)
echo "$out" | grep -q "problem heat1d" || { echo "FAIL: ansatz info under 2 ranks"; echo "$out"; fails=$((fails + 1)); }
# rank 0 prints once, not once per rank
n=$(echo "$out" | grep -c "^problem heat1d")
[ "$n" -eq 1 ] || { echo "FAIL: info printed $n times under 2 ranks"; fails=$((fails + 1)); }
# the spectral reference from the command line on 2 ranks: the fd method's parallel defaults (ASM with
# LU blocks, set as options) must not be left unused when the spectral method runs instead
spec_tmp=$(mktemp -d)
"$MPIEXEC" -n 2 "$top_builddir/ansatz" reference -problem kdv1d -az_ref_n 128 -az_ref_nt_out 5 -az_ref_cache 0 -az_output_dir "$spec_tmp/kdv" >"$spec_tmp/log" 2>&1 &&
  grep -q '"method": "spectral"' "$spec_tmp/kdv/summary.json" || { echo "FAIL: ansatz reference -problem kdv1d (spectral) on 2 ranks"; cat "$spec_tmp/log"; fails=$((fails + 1)); }
# the fd reference on 2 ranks, twice: the second run loads the cache and builds no solver, and the
# block solver option the first set for itself must not count as the user's unused option
for i in 1 2; do
  "$MPIEXEC" -n 2 "$top_builddir/ansatz" reference -problem heat1d -az_ref_method fd -az_ref_n 64 -az_output_dir "$spec_tmp/heat" >"$spec_tmp/log$i" 2>&1 ||
    { echo "FAIL: ansatz reference -problem heat1d (fd) on 2 ranks, run $i"; cat "$spec_tmp/log$i"; fails=$((fails + 1)); }
done
grep -q "loaded from the cache" "$spec_tmp/log2" || { echo "FAIL: the second fd reference on 2 ranks did not load the cache"; fails=$((fails + 1)); }
rm -rf "$spec_tmp"
"$MPIEXEC" -n 2 "$top_builddir/ansatz" info -problem nosuch >/dev/null 2>&1 && { echo "FAIL: bad problem accepted under 2 ranks"; fails=$((fails + 1)); }
# Training does not depend on the rank count, bit for bit (sums over fixed groups of global point
# indices, added in group order): the same theta.bin and the same history (but wall time) on 1, 2, 3
# and 4 ranks, for every optimiser, for moving constraints (augmented Lagrangian, adaptive weights),
# for the projection onto a conservation law in training and for a conservation penalty.
ranks_tmp=$(mktemp -d)
same_on_ranks() {
  name=$1
  shift
  for n in 1 2 3 4; do
    "$MPIEXEC" -n $n --oversubscribe "$top_builddir/ansatz" train "$@" -az_field_depth 2 -az_field_width ${width:-10} -az_quiet -az_output_dir "$ranks_tmp/$name$n" >"$ranks_tmp/$name$n.log" 2>&1 ||
      { echo "FAIL: $name on $n rank(s) did not run"; cat "$ranks_tmp/$name$n.log"; fails=$((fails + 1)); return; }
    cut -d, -f1-$(($(head -1 "$ranks_tmp/${name}1/history.csv" | tr ',' '\n' | grep -n wall_seconds | cut -d: -f1) - 1)) "$ranks_tmp/$name$n/history.csv" >"$ranks_tmp/$name$n.hist"
  done
  before=$fails
  for n in 2 3 4; do
    cmp -s "$ranks_tmp/${name}1/theta.bin" "$ranks_tmp/$name$n/theta.bin" || { echo "FAIL: $name: theta.bin on $n ranks differs from 1 rank"; fails=$((fails + 1)); }
    cmp -s "$ranks_tmp/${name}1.hist" "$ranks_tmp/$name$n.hist" || { echo "FAIL: $name: history.csv on $n ranks differs from 1 rank"; diff "$ranks_tmp/${name}1.hist" "$ranks_tmp/$name$n.hist" | head -4; fails=$((fails + 1)); }
  done
  [ $fails -eq $before ] && echo "== $name: identical on 1, 2, 3 and 4 ranks ($(tail -1 "$ranks_tmp/${name}1.hist" | cut -d, -f1-3))"
}
heat="-problem heat1d -az_n_interior 240 -az_n_boundary 20 -az_n_initial 30"
same_on_ranks adam $heat -az_trainer_type adam -az_trainer_max_it 300
same_on_ranks lbfgs $heat -az_trainer_type lbfgs -az_trainer_max_it 300
same_on_ranks bfgs $heat -az_trainer_type adam,bfgs -az_bfgs_update ssbroyden -az_trainer_max_it 50,100
same_on_ranks gn-dense $heat -az_trainer_type gn -az_gn_solver dense -az_trainer_max_it 20
same_on_ranks gn-cg $heat -az_trainer_type gn -az_gn_solver cg -az_trainer_max_it 20
same_on_ranks auglag $heat -az_constraint auglag -az_auglag_every 20 -az_trainer_type adam,lbfgs -az_trainer_max_it 100,100
same_on_ranks adaptive $heat -az_constraint adaptive -az_adaptive_every 10 -az_trainer_type adam,lbfgs -az_trainer_max_it 100,100
same_on_ranks project -problem advection1d -az_conservation project -az_n_interior 200 -az_n_initial 20 -az_time_slices 10 -az_trainer_type lbfgs,gn -az_trainer_max_it 100,10
same_on_ranks penalty -problem advection1d -az_conservation auglag -az_n_interior 200 -az_n_initial 20 -az_time_slices 10 -az_trainer_type lbfgs,gn -az_gn_solver dense -az_trainer_max_it 100,10
# causal training: the slice losses, so the weights and the ε schedule, are group sums too
conv="-problem convection1d -az_convection1d_beta 5 -az_causal 1 -az_causal_slices 8 -az_n_interior 240 -az_n_initial 30"
same_on_ranks causal $conv -az_trainer_type adam,lbfgs,gn -az_gn_solver dense -az_trainer_max_it 60,40,5
same_on_ranks causal-cg $conv -az_trainer_type gn -az_gn_solver cg -az_trainer_max_it 8
# resampling of the PDE's set: pools and fresh points by global index, selections from values gathered
# in global order; the sets move at every round (history.csv's n_pde and resampled columns compared too)
same_on_ranks resample-r3 $heat -az_resample r3 -az_resample_every 10 -az_trainer_type adam,lbfgs,gn -az_trainer_max_it 60,40,5
same_on_ranks resample-rard $heat -az_resample rard -az_resample_every 10 -az_resample_add 9 -az_resample_pool 900 -az_trainer_type adam,lbfgs,gn -az_gn_solver cg -az_trainer_max_it 60,40,5
same_on_ranks resample-rad-causal $conv -az_resample rad -az_resample_every 15 -az_resample_pool 600 -az_trainer_type adam,gn -az_gn_solver dense -az_trainer_max_it 45,4
# inverse problems: the inferred parameter (history.csv's infer_kappa) with the network, every optimiser
awk 'BEGIN { print "x,t,u"; for (i = 0; i < 60; i++) { x = (i * 0.61803398875) % 1; t = (i * 0.41421356237) % 1; printf "%.17g,%.17g,%.17g\n", x, t, exp(-0.1 * 9.8696044010893586 * t) * sin(3.1415926535897932 * x) } }' >"$ranks_tmp/heat.csv"
# the solved output layer: its rows gathered in group order, every rank solving the same system
same_on_ranks hardpde $heat -az_hardpde -az_hardpde_basis 8 -az_hardpde_points 200 -az_trainer_type adam,lbfgs,gn -az_gn_solver dense -az_trainer_max_it 40,40,5
same_on_ranks hardpde-cg $heat -az_hardpde -az_hardpde_basis 8 -az_hardpde_points 200 -az_trainer_type gn -az_gn_solver cg -az_trainer_max_it 6
# with hard conditions: u = g + d Σ w φ, the lift's jets gathered with the points, the PDE's rows alone
same_on_ranks hardpde-hard $heat -az_recipe none -az_constraint hard -az_hardpde -az_hardpde_basis 8 -az_hardpde_points 200 -az_trainer_type adam,lbfgs,gn -az_gn_solver dense -az_trainer_max_it 40,40,5
same_on_ranks hardpde-moe-hard $heat -az_recipe none -az_constraint hard -az_hardpde -az_hardpde_basis 8 -az_hardpde_points 200 -az_moe_experts 3 -az_trainer_type adam,lbfgs -az_trainer_max_it 20,20
# hardpde-moe: 3 experts, each solved on its owner rank (1, 2 or 3 ranks own them; on 4 one rank owns
# none) and shared; a linear PDE (heat1d) and a nonlinear one (burgers1d: Gauss-Newton in w on the owner)
same_on_ranks hardpde-moe $heat -az_hardpde -az_hardpde_basis 8 -az_hardpde_points 200 -az_moe_experts 3 -az_trainer_type adam,lbfgs,gn -az_gn_solver dense -az_trainer_max_it 20,20,3
same_on_ranks hardpde-moe-burgers -problem burgers1d -az_n_interior 240 -az_n_boundary 20 -az_n_initial 30 -az_hardpde -az_hardpde_basis 8 -az_hardpde_points 200 -az_moe_experts 3 -az_trainer_type adam,lbfgs -az_trainer_max_it 20,10
# the experts' coupled solve (-az_moe_solve coupled): one solve of all the experts' weights on one
# owner rank, from every rank's basis χ_e φ at the global solve's points (dense Gauss-Newton through
# it; a nonlinear PDE, Gauss-Newton in W)
same_on_ranks hardpde-moe-coupled $heat -az_hardpde -az_hardpde_basis 8 -az_hardpde_points 200 -az_moe_experts 3 -az_moe_solve coupled -az_trainer_type adam,lbfgs,gn -az_gn_solver dense -az_trainer_max_it 20,20,3
same_on_ranks hardpde-moe-coupled-burgers -problem burgers1d -az_n_interior 240 -az_n_boundary 20 -az_n_initial 30 -az_hardpde -az_hardpde_basis 8 -az_hardpde_points 200 -az_moe_experts 3 -az_moe_solve coupled -az_constraint hard -az_trainer_type adam,lbfgs -az_trainer_max_it 20,10
# experts along time (1 x 3: the initial slice the first one's) and a 2 x 2 grid with a cut placed by
# hand on a nonlinear PDE, solved from w = 0 at every θ (-az_hardpde_start cold)
same_on_ranks hardpde-moe-t $heat -az_hardpde -az_hardpde_basis 8 -az_hardpde_points 200 -az_moe_experts 3 -az_moe_grid 1,3 -az_trainer_type adam,lbfgs,gn -az_gn_solver dense -az_trainer_max_it 20,20,3
same_on_ranks hardpde-moe-grid-burgers -problem burgers1d -az_n_interior 240 -az_n_boundary 20 -az_n_initial 30 -az_hardpde -az_hardpde_basis 8 -az_hardpde_points 240 -az_moe_experts 4 -az_moe_grid 2,2 -az_moe_cuts_x 0.3 -az_hardpde_start cold -az_trainer_type adam,lbfgs -az_trainer_max_it 20,10
# crisp boxes joined by the jumps at the cuts (-az_moe_blend interface): the interface points placed by
# their global index, the jump rows through two experts' solves (gradient, dense Gauss-Newton)
same_on_ranks hardpde-moe-interface $heat -az_hardpde -az_hardpde_basis 8 -az_hardpde_points 200 -az_moe_experts 3 -az_moe_blend interface -az_moe_interface_points 30 -az_trainer_type adam,lbfgs,gn -az_gn_solver dense -az_trainer_max_it 20,20,3
# the basis at the constraint points evaluated group by group, not from each rank's first point: with
# 32 tanh units the BLAS calls' bits depend on how the points are chunked (4 experts differed on 4 ranks)
width=32
same_on_ranks hardpde-moe-w32 $heat -az_hardpde -az_hardpde_basis 8 -az_hardpde_points 200 -az_moe_experts 4 -az_trainer_type adam -az_trainer_max_it 3
unset width
same_on_ranks infer $heat -az_data "$ranks_tmp/heat.csv" -az_heat1d_kappa 0.05 -az_infer kappa -az_infer_log kappa -az_trainer_type adam,lbfgs,gn -az_trainer_max_it 60,40,5
same_on_ranks infer-cg $heat -az_data "$ranks_tmp/heat.csv" -az_heat1d_kappa 0.05 -az_infer kappa -az_trainer_type gn -az_gn_solver cg -az_trainer_max_it 8
# fewer groups than ranks: on 4 ranks one rank holds no points
same_on_ranks groups3 $heat -az_loss_groups 3 -az_trainer_type lbfgs -az_trainer_max_it 100
for g in 0 129; do
  out=$("$MPIEXEC" -n 2 "$top_builddir/ansatz" train -problem heat1d -az_loss_groups $g -az_output_dir "$ranks_tmp/bad" 2>&1) &&
    { echo "FAIL: -az_loss_groups $g accepted"; fails=$((fails + 1)); }
  echo "$out" | grep -q "az_loss_groups must be between 1 and 128" || { echo "FAIL: -az_loss_groups $g: unclear message"; echo "$out" | head -5; fails=$((fails + 1)); }
done
rm -rf "$ranks_tmp"
# compare's rank groups: -az_compare_groups G trains the grid G runs at a time, each on its group's
# ranks; every run's results (result.txt, history.csv; wall time apart) are those of the same compare
# alone on a group's number of ranks, bit for bit: 2 groups of 2 ranks against 2 ranks, 2 groups of 1
# rank against 1 rank (3 runs: the second round leaves a group idle)
grp_tmp=$(mktemp -d)
grp="compare -problem heat1d -az_heat1d_kappa 0.5 -az_strategies soft,hard,soft-cosine -az_field_depth 1 -az_field_width 8 -az_trainer_type adam,gn -az_trainer_max_it 20,5 -az_n_interior 120 -az_n_initial 12 -az_quiet"
for c in "1 1" "2 1" "2 2" "4 2"; do
  set -- $c
  "$MPIEXEC" -n $1 --oversubscribe "$top_builddir/ansatz" $grp -az_compare_groups $2 -az_output_dir "$grp_tmp/n$1g$2" >"$grp_tmp/n$1g$2.log" 2>&1 ||
    { echo "FAIL: compare on $1 rank(s) in $2 group(s) did not run"; tail -20 "$grp_tmp/n$1g$2.log"; fails=$((fails + 1)); }
  cut -d, -f1-12,14- "$grp_tmp/n$1g$2/compare_runs.csv" >"$grp_tmp/n$1g$2.runs" 2>/dev/null # all but wall_seconds
  for s in soft hard soft-cosine; do
    grep -v "^wall_seconds" "$grp_tmp/n$1g$2/$s/result.txt" >"$grp_tmp/n$1g$2.$s.res" 2>/dev/null
    awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "wall_seconds") w = i } { s = ""; for (i = 1; i <= NF; i++) if (i != w) s = s "," $i; print s }' "$grp_tmp/n$1g$2/$s/history.csv" >"$grp_tmp/n$1g$2.$s.hist" 2>/dev/null
  done
done
before=$fails
for pair in "n1g1 n2g2" "n2g1 n4g2" "n1g1 n2g1"; do
  set -- $pair
  [ -s "$grp_tmp/$1.runs" ] && cmp -s "$grp_tmp/$1.runs" "$grp_tmp/$2.runs" || { echo "FAIL: compare groups: compare_runs.csv in $2 differs from $1"; diff "$grp_tmp/$1.runs" "$grp_tmp/$2.runs" | head -4; fails=$((fails + 1)); }
  for s in soft hard soft-cosine; do
    [ -s "$grp_tmp/$1.$s.res" ] && cmp -s "$grp_tmp/$1.$s.res" "$grp_tmp/$2.$s.res" || { echo "FAIL: compare groups: $s's result.txt in $2 differs from $1"; diff "$grp_tmp/$1.$s.res" "$grp_tmp/$2.$s.res" | head -4; fails=$((fails + 1)); }
    [ -s "$grp_tmp/$1.$s.hist" ] && cmp -s "$grp_tmp/$1.$s.hist" "$grp_tmp/$2.$s.hist" || { echo "FAIL: compare groups: $s's history.csv in $2 differs from $1"; fails=$((fails + 1)); }
  done
done
grep -q "2 rank groups" "$grp_tmp/n4g2.log" || { echo "FAIL: compare -az_compare_groups 2 did not say it split the ranks"; fails=$((fails + 1)); }
[ $fails -eq $before ] && echo "== compare -az_compare_groups: every run identical in groups and alone"
out=$("$MPIEXEC" -n 2 "$top_builddir/ansatz" $grp -az_compare_groups 3 -az_output_dir "$grp_tmp/bad" 2>&1) && { echo "FAIL: -az_compare_groups 3 on 2 ranks accepted"; fails=$((fails + 1)); }
echo "$out" | grep -q "the number of rank groups must be between 1 and the number of ranks, 2" || { echo "FAIL: -az_compare_groups 3 on 2 ranks: unclear message"; echo "$out" | head -5; fails=$((fails + 1)); }
# a sweep (-az_sweep) in groups: the whole grid (strategies x settings) shared out over the groups gives
# the table of one group, run by run (wall time apart): 2 groups of 1 rank against 1 rank
swp="$grp -az_sweep az_adam_lr=1e-3,3e-3;az_weight_initial=1,10"
for c in "1 1" "2 2"; do
  set -- $c
  "$MPIEXEC" -n $1 --oversubscribe "$top_builddir/ansatz" $swp -az_compare_groups $2 -az_output_dir "$grp_tmp/sw$1g$2" >"$grp_tmp/sw$1g$2.log" 2>&1 ||
    { echo "FAIL: compare -az_sweep on $1 rank(s) in $2 group(s) did not run"; tail -20 "$grp_tmp/sw$1g$2.log"; fails=$((fails + 1)); }
  awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "wall_seconds") w = i } { s = ""; for (i = 1; i <= NF; i++) if (i != w) s = s "," $i; print s }' "$grp_tmp/sw$1g$2/compare_runs.csv" >"$grp_tmp/sw$1g$2.runs" 2>/dev/null
done
[ "$(awk 'END { print NR }' "$grp_tmp/sw1g1.runs")" = 13 ] && cmp -s "$grp_tmp/sw1g1.runs" "$grp_tmp/sw2g2.runs" && echo "== compare -az_sweep: the grid in 2 groups is the grid in one" ||
  { echo "FAIL: compare -az_sweep: compare_runs.csv in 2 groups differs from 1 rank (or lacks its 12 runs)"; diff "$grp_tmp/sw1g1.runs" "$grp_tmp/sw2g2.runs" | head -4; fails=$((fails + 1)); }
rm -rf "$grp_tmp"
# -az_uncertainty: the Laplace approximation (JᵀJ reduced exactly, γ_d summed by groups, the field's
# standard deviation shared out over the ranks) gives the same summary and field.vtk on 1, 2 and 3 ranks
unc_tmp=$(mktemp -d)
awk 'BEGIN { pi = atan2(0, -1); print "x,t,u"; for (i = 0; i < 50; i++) { a = i * 0.61803398875; b = i * 0.41421356237;
  printf "%.17g,%.17g,%.17g\n", 0.02 + 0.96 * (a - int(a)), 0.02 + 0.96 * (b - int(b)), sin(pi * (0.02 + 0.96 * (a - int(a)))) + 0.01 * sin(7.3 * i * i) } }' >"$unc_tmp/obs.csv"
for n in 1 2 3; do
  "$MPIEXEC" -n $n --oversubscribe "$top_builddir/ansatz" train -problem heat1d -az_data "$unc_tmp/obs.csv" -az_n_interior 240 -az_n_boundary 20 -az_n_initial 30 -az_field_depth 2 -az_field_width 10 -az_trainer_type gn -az_trainer_max_it 5 -az_quiet -az_uncertainty -az_output_dir "$unc_tmp/r$n" >"$unc_tmp/r$n.log" 2>&1 ||
    { echo "FAIL: -az_uncertainty on $n rank(s) did not run"; cat "$unc_tmp/r$n.log"; fails=$((fails + 1)); }
  grep '"uncertainty"' "$unc_tmp/r$n/summary.json" >"$unc_tmp/u$n" 2>/dev/null
done
for n in 2 3; do
  cmp -s "$unc_tmp/u1" "$unc_tmp/u$n" && [ -s "$unc_tmp/u1" ] || { echo "FAIL: -az_uncertainty: summary.json's uncertainty on $n ranks differs from 1 rank"; cat "$unc_tmp/u1" "$unc_tmp/u$n"; fails=$((fails + 1)); }
  cmp -s "$unc_tmp/r1/field.vtk" "$unc_tmp/r$n/field.vtk" || { echo "FAIL: -az_uncertainty: field.vtk on $n ranks differs from 1 rank"; fails=$((fails + 1)); }
done
rm -rf "$unc_tmp"
echo "$fails failure(s)"
[ $fails -eq 0 ]
