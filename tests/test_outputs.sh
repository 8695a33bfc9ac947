#!/bin/sh
# What train and compare write: every file complete or not at all (a full disk is an error that names
# the file, and no result of a previous run is left beside a new one), the results of a failed
# training, every component of a multi-component solution, the strategies as applied, n/a for what
# has no condition, conservation drift against Q*, and an options.txt that repeats the run anywhere.
set -u
. "${top_srcdir:-$(dirname "$0")/..}/tests/clilib.sh"
# json FILE KEY: the value of "KEY": in FILE (one line, as ansatz writes it)
json() { sed -n "s/.*\"$2\": \([^,}]*\).*/\1/p" "$1" | head -1; }

small="-az_field_depth 1 -az_field_width 8 -az_trainer_type gn -az_trainer_max_it 3 -az_quiet"

# 1. euler2d with a stream function: the network has 2 outputs (psi, p), the solution 3 (u, v, p);
#    every writer is sized by the solution (it aborted with a double free)
if expect_ok euler-divfree "" "$AZ" train -problem euler2d -az_divfree $small -az_n_interior 100 -az_n_boundary 10 -az_output_dir "$tmp/eu"; then
  for c in u v p; do
    grep -q "^SCALARS $c double" "$tmp/eu/field.vtk" || fail "euler2d -az_divfree: field.vtk lacks component $c"
    grep -q "^SCALARS ${c}_error double" "$tmp/eu/field.vtk" || fail "euler2d -az_divfree: field.vtk lacks the error of $c"
  done
  grep -q '"components": \["u", "v", "p"\]' "$tmp/eu/summary.json" || fail "euler2d: summary.json lacks the components"
fi

# 4. a full disk: summary.json.tmp is /dev/full. The run fails, names the file, and the previous run's
#    summary.json is gone (not left beside the new options.txt)
expect_ok disk-first "" "$AZ" train -problem poisson2d $small -az_output_dir "$tmp/disk"
[ -s "$tmp/disk/summary.json" ] || fail "full disk: the first run wrote no summary.json"
ln -s /dev/full "$tmp/disk/summary.json.tmp"
expect_error disk-summary "Could not write $tmp/disk/summary.json: cannot write (No space left on device)" "$AZ" train -problem poisson2d $small -az_output_dir "$tmp/disk"
[ -e "$tmp/disk/summary.json" ] && fail "full disk: a stale summary.json is left beside the new options.txt"
[ -e "$tmp/disk/summary.json.tmp" ] && fail "full disk: summary.json.tmp is left behind"
# the same for history.csv, field.vtk and options.txt (written before training)
for f in history.csv field.vtk options.txt; do
  ln -sf /dev/full "$tmp/disk/$f.tmp"
  expect_error "disk-$f" "Could not write $tmp/disk/$f" "$AZ" train -problem poisson2d $small -az_output_dir "$tmp/disk"
  rm -f "$tmp/disk/$f.tmp"
done
[ -e "$tmp/disk/summary.json" ] && fail "full disk: a stale summary.json is left after failed runs"
# a directory in the way of the temporary file (works as root, unlike chmod)
mkdir -p "$tmp/disk/summary.json.tmp"
expect_error disk-dir "Could not write $tmp/disk/summary.json: cannot create" "$AZ" train -problem poisson2d $small -az_output_dir "$tmp/disk"
rmdir "$tmp/disk/summary.json.tmp"
# the run directory below a regular file
: >"$tmp/plainfile"
expect_error disk-notdir "$tmp/plainfile/run" "$AZ" train -problem poisson2d $small -az_output_dir "$tmp/plainfile/run"
# compare: the table on a full disk is an error naming it
mkdir -p "$tmp/cdisk" && ln -s /dev/full "$tmp/cdisk/compare.csv.tmp"
expect_error disk-compare "Could not write $tmp/cdisk/compare.csv" "$AZ" compare -problem poisson2d -az_strategies soft $small -az_output_dir "$tmp/cdisk"
# a reference on a full disk: the error names its summary
mkdir -p "$tmp/rdisk" && ln -s /dev/full "$tmp/rdisk/summary.json.tmp"
expect_error disk-reference "Could not write $tmp/rdisk/summary.json" "$AZ" reference -problem heat1d -az_ref_n 33 -az_output_dir "$tmp/rdisk"
# under 2 ranks: every rank learns of the failure (no hang)
if [ -n "${MPIEXEC:-}" ]; then
  mkdir -p "$tmp/mdisk" && ln -s /dev/full "$tmp/mdisk/history.csv.tmp"
  expect_error disk-2ranks "Could not write $tmp/mdisk/history.csv" timeout 120 "$MPIEXEC" -n 2 "$AZ" train -problem poisson2d $small -az_output_dir "$tmp/mdisk"
fi

# the sweep of stale results keeps the file a run restarts from
expect_ok restart-first "" "$AZ" train -problem poisson2d -az_field_depth 1 -az_field_width 8 -az_trainer_type gn -az_trainer_max_it 4 -az_checkpoint_every 2 -az_quiet -az_output_dir "$tmp/rs"
[ -s "$tmp/rs/checkpoint.bin" ] || fail "restart: no checkpoint.bin written"
expect_ok restart-same-dir "" "$AZ" train -problem poisson2d -az_field_depth 1 -az_field_width 8 -az_trainer_type gn -az_trainer_max_it 6 -az_checkpoint_every 2 -az_restart "$tmp/rs/checkpoint.bin" -az_quiet -az_output_dir "$tmp/rs"

# 9. compare checks every strategy against the problem before training any: posthoc on a problem
#    without a conservation law fails at once, before soft trains
expect_error compare-validate "Strategy 'posthoc' cannot run on problem heat1d (checked before any training)" "$AZ" compare -problem heat1d -az_strategies soft,posthoc $small -az_output_dir "$tmp/val"
grep -q "== soft" "$tmp/out" && fail "compare: soft trained before posthoc was found impossible"
[ -e "$tmp/val/soft/history.csv" ] && fail "compare: soft's history written before the strategies were checked"
grep -q "declares no conservation law" "$tmp/out" || fail "compare: the refusal does not say why"
# ... and writes its table after every strategy: a failure in the second loses nothing of the first
mkdir -p "$tmp/part/hard" && ln -s /dev/full "$tmp/part/hard/history.csv.tmp"
expect_error compare-partial "Could not write $tmp/part/hard/history.csv" "$AZ" compare -problem heat1d -az_strategies soft,hard $small -az_output_dir "$tmp/part"
grep -q "^soft," "$tmp/part/compare.csv" || fail "compare: the first strategy's row is lost when the second fails"
grep -q "| soft |" "$tmp/part/compare.md" || fail "compare: compare.md lacks the first strategy's row"

# 12. the strategies as applied, not the -az_hard_* switches
for con in hard auglag; do
  if expect_ok "strategy-$con" "" "$AZ" train -problem heat1d -az_constraint $con $small -az_n_interior 100 -az_output_dir "$tmp/con-$con"; then
    [ "$(json "$tmp/con-$con/summary.json" boundary_constraint)" = "\"$con\"" ] || fail "-az_constraint $con: summary.json says boundary_constraint $(json "$tmp/con-$con/summary.json" boundary_constraint)"
    [ "$(json "$tmp/con-$con/summary.json" initial_constraint)" = "\"$con\"" ] || fail "-az_constraint $con: summary.json says initial_constraint $(json "$tmp/con-$con/summary.json" initial_constraint)"
    grep -q "\"bc_x0\": \"$con\", \"bc_x1\": \"$con\", \"initial\": \"$con\"" "$tmp/con-$con/summary.json" || fail "-az_constraint $con: constraints per condition wrong"
  fi
done
expect_ok strategy-mixed "" "$AZ" train -problem heat1d -az_constraint_bc_x1 cosine $small -az_n_interior 100 -az_output_dir "$tmp/con-mixed"
[ "$(json "$tmp/con-mixed/summary.json" boundary_constraint)" = '"mixed"' ] || fail "one face cosine: boundary_constraint is not mixed"
grep -q '"bc_x0": "soft", "bc_x1": "cosine"' "$tmp/con-mixed/summary.json" || fail "one face cosine: the faces' strategies are wrong"

# 18. a periodic problem has no boundary condition: its violation is n/a (null), not 0
adv="-az_field_depth 1 -az_field_width 16 -az_trainer_type gn -az_trainer_max_it 5 -az_n_interior 200 -az_n_initial 20 -az_quiet"
if expect_ok periodic "" "$AZ" train -problem advection1d $adv -az_output_dir "$tmp/adv"; then
  [ "$(json "$tmp/adv/summary.json" max_boundary_violation)" = null ] || fail "advection1d: max_boundary_violation is $(json "$tmp/adv/summary.json" max_boundary_violation), expected null"
  grep -q "boundary n/a" "$tmp/out" || fail "advection1d: train does not print boundary n/a"
  grep -q '"bc_x0": "periodic"' "$tmp/adv/summary.json" || fail "advection1d: the face is not reported periodic"
fi
if expect_ok periodic-compare "" "$AZ" compare -problem advection1d -az_strategies soft,soft+softplus $adv -az_output_dir "$tmp/cadv"; then
  awk -F, 'NR > 1 && $4 != "n/a" { exit 1 }' "$tmp/cadv/compare.csv" || fail "compare advection1d: boundary violation not n/a in compare.csv"
  grep -q "| soft | [^|]* | [^|]* | n/a |" "$tmp/cadv/compare.md" || fail "compare advection1d: boundary violation not n/a in compare.md"
  # 17. the report's count of times is conservation.csv's
  rows=$(($(wc -l <"$tmp/cadv/soft/conservation.csv") - 1))
  grep -q "over the $rows times" "$tmp/cadv/report.md" || fail "report.md's number of times differs from conservation.csv's $rows"
  head -1 "$tmp/cadv/soft/conservation.csv" | grep -q "^t,mass_drift_vs_Qstar$" || fail "conservation.csv does not say what its drift is measured against"
  head -1 "$tmp/cadv/compare.csv" | grep -q ",drift_vs_Qstar," || fail "compare.csv does not say what its drift is measured against"
fi

# 19. options.txt repeats the run from another directory: a relative plugin path made absolute
if expect_ok options-first "" sh -c "cd '$top_builddir' && '$AZ' train -problem problems/.libs/heat1d.so -az_heat1d_kappa 0.2 $small -az_n_interior 100 -az_output_dir '$tmp/opt1'"; then
  grep -q "^-problem /.*/heat1d.so$" "$tmp/opt1/options.txt" || fail "options.txt: the plugin path is not absolute"
  grep -q "^-az_heat1d_kappa 0.2" "$tmp/opt1/options.txt" || fail "options.txt: the problem's parameter is missing"
  mkdir -p "$tmp/elsewhere"
  if expect_ok options-rerun "" sh -c "cd '$tmp/elsewhere' && '$AZ' train -options_file '$tmp/opt1/options.txt' -az_output_dir '$tmp/opt2'"; then
    cmp -s "$tmp/opt1/theta.bin" "$tmp/opt2/theta.bin" || fail "options.txt: the rerun's theta.bin differs"
    [ "$(json "$tmp/opt1/summary.json" loss)" = "$(json "$tmp/opt2/summary.json" loss)" ] || fail "options.txt: the rerun's loss differs"
  fi
fi

# 21. every component of a multi-component problem is plotted; -az_plot_components chooses
if expect_ok plots-euler "" "$AZ" compare -problem euler2d -az_strategies soft $small -az_n_interior 100 -az_n_boundary 10 -az_ref_n 9 -az_output_dir "$tmp/ceu"; then
  for c in u v p; do
    grep -q "solution_$c.png" "$tmp/ceu/plots.gp" || fail "compare euler2d: plots.gp does not plot component $c"
    grep -q "error_$c.png" "$tmp/ceu/plots.gp" || fail "compare euler2d: plots.gp does not plot the error of $c"
  done
  head -1 "$tmp/ceu/field.dat" | grep -q "u u_yardstick u_error v v_yardstick v_error p p_yardstick p_error" || fail "compare euler2d: field.dat lacks components"
fi
expect_ok plots-choose "" "$AZ" compare -problem euler2d -az_strategies soft -az_plot_components p,0 $small -az_n_interior 100 -az_n_boundary 10 -az_ref_n 9 -az_output_dir "$tmp/ceu2"
grep -q "solution_v.png" "$tmp/ceu2/plots.gp" && fail "-az_plot_components p,0: v is plotted"
grep -q "solution_p.png" "$tmp/ceu2/plots.gp" && grep -q "solution_u.png" "$tmp/ceu2/plots.gp" || fail "-az_plot_components p,0: p or u is not plotted"
expect_error plots-bad "by index 0..2 or name: u, v, p" "$AZ" compare -problem euler2d -az_strategies soft -az_plot_components w $small -az_ref_n 9 -az_output_dir "$tmp/bad"

# 5. a failed training still writes its results (the last good parameters, the history, summary.json
#    with the reason) and exits non-zero; in compare a failed strategy is a row marked failed and the
#    others still run. nanpositive's residual is NaN once u < -1: plain training gets there, softplus
#    (u > 0) never does.
nan="-problem $AZ_TEST_PLUGIN_DIR/nanpositive.so -az_nanpositive_cap 1 -az_field_depth 1 -az_field_width 8 -az_trainer_type adam -az_trainer_max_it 300 -az_adam_lr 0.05 -az_trainer_max_failures 3 -az_quiet"
mkdir -p "$tmp/nan" && echo stale >"$tmp/nan/summary.json"
expect_error train-failed "Training failed" "$AZ" train $nan -az_output_dir "$tmp/nan"
[ "$(json "$tmp/nan/summary.json" status)" = '"failed"' ] || fail "failed training: summary.json status is $(json "$tmp/nan/summary.json" status)"
for f in theta.bin history.csv field.vtk options.txt; do
  [ -s "$tmp/nan/$f" ] || fail "failed training: $f missing"
done
expect_error compare-failed "1 of 2 strategies failed" "$AZ" compare $nan -az_strategies soft,soft+softplus -az_output_dir "$tmp/cnan"
awk -F, '$1 == "soft" { exit $13 != "failed" }' "$tmp/cnan/compare.csv" || fail "compare: the failed strategy's row is not marked failed"
awk -F, '$1 == "soft+softplus" { exit $13 != "completed" }' "$tmp/cnan/compare.csv" || fail "compare: the strategy after a failed one did not run"
grep -q "Strategy soft failed" "$tmp/cnan/report.md" || fail "compare: report.md does not say why soft failed"

# 6. -az_uncertainty: the Laplace approximation after training. With data, σ² comes from the data
#    residual; summary.json's "uncertainty", field.vtk's <component>_std, uncertainty.png; without
#    gnuplot the run still succeeds and says why there is no plot; the -az_laplace_* options are read
#    before training (a misspelling is refused then) and only with -az_uncertainty.
awk 'BEGIN { pi = atan2(0, -1); print "x,t,u"; for (i = 0; i < 60; i++) { a = i * 0.61803398875; b = i * 0.41421356237;
  x = 0.02 + 0.96 * (a - int(a)); t = 0.02 + 0.96 * (b - int(b));
  printf "%.17g,%.17g,%.17g\n", x, t, sin(pi * x) * exp(-0.1 * pi * pi * t) + 0.01 * sin(7.3 * i * i) } }' >"$tmp/obs.csv"
if expect_ok uncertainty "" "$AZ" train -problem heat1d -az_data "$tmp/obs.csv" $small -az_uncertainty -az_output_dir "$tmp/unc"; then
  [ "$(json "$tmp/unc/summary.json" sigma2_source)" = '"data"' ] || fail "-az_uncertainty with data: sigma2_source is $(json "$tmp/unc/summary.json" sigma2_source)"
  [ "$(json "$tmp/unc/summary.json" observations)" = 60 ] || fail "-az_uncertainty: observations $(json "$tmp/unc/summary.json" observations), expected 60"
  for k in sigma2 lambda field_std_mean field_std_max; do
    v=$(json "$tmp/unc/summary.json" $k)
    awk -v v="$v" 'BEGIN { exit !(v + 0 > 0) }' || fail "-az_uncertainty: summary.json $k is '$v', expected a positive number"
  done
  grep -q "^SCALARS u_std double" "$tmp/unc/field.vtk" || fail "-az_uncertainty: field.vtk lacks u_std"
  grep -q "^uncertainty (Laplace approximation.*field std mean" "$tmp/out" || fail "-az_uncertainty: no summary line"
  if command -v gnuplot >/dev/null 2>&1; then
    [ -s "$tmp/unc/uncertainty.png" ] || fail "-az_uncertainty: no uncertainty.png (gnuplot is installed)"
  fi
fi
grep -q '"uncertainty": null' "$tmp/eu/summary.json" || fail "without -az_uncertainty: summary.json's uncertainty is not null"
# gnuplot missing (a gnuplot that fails): no plot, a note, success
mkdir -p "$tmp/nognuplot" && printf '#!/bin/sh\nexit 127\n' >"$tmp/nognuplot/gnuplot" && chmod +x "$tmp/nognuplot/gnuplot"
if PATH="$tmp/nognuplot:$PATH" expect_ok uncertainty-nognuplot "" "$AZ" train -problem heat1d $small -az_uncertainty -az_output_dir "$tmp/unc2"; then
  grep -q "no uncertainty plot: gnuplot is missing or failed" "$tmp/out" || fail "-az_uncertainty without gnuplot: no note"
  [ -e "$tmp/unc2/uncertainty.png" ] && fail "-az_uncertainty without gnuplot: uncertainty.png exists"
  grep -q "^SCALARS u_std double" "$tmp/unc2/field.vtk" || fail "-az_uncertainty without gnuplot: field.vtk lacks u_std"
fi
# two components: a standard deviation for each
if expect_ok uncertainty-nls "" "$AZ" train -problem nls1d $small -az_n_interior 100 -az_n_initial 20 -az_uncertainty -az_output_dir "$tmp/unc3"; then
  for c in u v; do grep -q "^SCALARS ${c}_std double" "$tmp/unc3/field.vtk" || fail "nls1d -az_uncertainty: field.vtk lacks ${c}_std"; done
fi
expect_error uncertainty-misspelled "did you mean -az_laplace_lambda" "$AZ" train -problem heat1d $small -az_uncertainty -az_laplace_lamda 1 -az_output_dir "$tmp/bad"
grep -q "^ansatz train: problem" "$tmp/out" && fail "-az_laplace_lamda: refused only after training"
expect_error uncertainty-off "az_laplace_lambda" "$AZ" train -problem heat1d $small -az_laplace_lambda 1 -az_output_dir "$tmp/bad"
expect_error uncertainty-too-large "more than -az_laplace_max_parameters 10" "$AZ" train -problem heat1d $small -az_uncertainty -az_laplace_max_parameters 10 -az_output_dir "$tmp/bad"

finish
