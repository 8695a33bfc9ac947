#!/bin/sh
# Data in and fields out from the command line: sample -> train -az_data (CSV and HDF5), bad data and
# noise options refused clearly, eval against the training run's own field.vtk, eval on 1 and 2
# ranks alike, a run directory's options below the command line, a field of another architecture
# refused, field.h5/field.xmf written and swept with the run's other results.
set -u
. "${top_srcdir:-$(dirname "$0")/..}/tests/clilib.sh"
small="-az_field_depth 1 -az_field_width 4 -az_n_interior 40 -az_n_boundary 8 -az_n_initial 8 -az_trainer_type adam -az_trainer_max_it 3 -az_quiet"

# ---- sample: CSV with a '#' line and a header, HDF5, and both read back by -az_data ----
expect_ok sample-csv "written to $tmp/obs.csv" "$AZ" sample -problem heat1d -az_sample_n 50 -az_sample_noise 0.01 -az_sample_seed 3 -az_sample_output "$tmp/obs.csv"
head -1 "$tmp/obs.csv" | grep -q "^# ansatz sample: problem heat1d, parameters: -az_heat1d_kappa 0.1.*50 points (random, seed 3) from the exact solution; noise 0.01 relative" || fail "sample-csv: the comment line states problem, parameters, points, seed and noise"
[ "$(sed -n 2p "$tmp/obs.csv")" = "x,t,u" ] || fail "sample-csv: the header line names the columns"
[ "$(grep -vc '^[#x]' "$tmp/obs.csv")" -eq 50 ] || fail "sample-csv: 50 rows"
expect_ok sample-h5 "written to $tmp/obs.h5" "$AZ" sample -problem heat1d -az_sample_n 50 -az_sample_noise 0.01 -az_sample_seed 3 -az_sample_output "$tmp/obs.h5"
expect_ok sample-default "written to sample-heat1d.csv" sh -c "cd '$tmp' && '$AZ' sample -problem heat1d -az_sample_n 4"
[ -s "$tmp/sample-heat1d.csv" ] || fail "sample-default: sample-heat1d.csv in the current directory"
expect_ok sample-lhs "(lhs, seed 1)" "$AZ" sample -problem heat1d -az_sample_n 16 -az_sample_type lhs -az_sample_output "$tmp/lhs.csv"
expect_ok sample-grid "(grid, seed 1)" "$AZ" sample -problem heat1d -az_sample_n 16 -az_sample_type grid -az_sample_output "$tmp/grid.csv"
expect_error sample-grid-bad "-az_sample_n 15 is not m^2 for a whole m" "$AZ" sample -problem heat1d -az_sample_n 15 -az_sample_type grid -az_sample_output "$tmp/bad.csv"
expect_error sample-noise-bad "-az_sample_noise -0.1: the noise level must be >= 0" "$AZ" sample -problem heat1d -az_sample_noise -0.1 -az_sample_output "$tmp/bad.csv"
expect_error sample-n-bad "-az_sample_n 0: the number of points must be between 1 and 100000000" "$AZ" sample -problem heat1d -az_sample_n 0 -az_sample_output "$tmp/bad.csv"
expect_error sample-no-exact "-az_sample_from exact: problem burgers1d has no exact solution; use -az_sample_from reference" "$AZ" sample -problem burgers1d -az_sample_from exact -az_sample_output "$tmp/bad.csv"
[ ! -e "$tmp/bad.csv" ] || fail "a refused sample left a file"
expect_error sample-h5-unwritable "Cannot write the HDF5 file $tmp/none/x.h5" "$AZ" sample -problem heat1d -az_sample_n 3 -az_sample_output "$tmp/none/x.h5"
# 2 ranks write the same file as 1
expect_ok sample-2-ranks "written to" "$MPIEXEC" -n 2 "$AZ" sample -problem heat1d -az_sample_n 50 -az_sample_noise 0.01 -az_sample_seed 3 -az_sample_output "$tmp/obs2.csv"
cmp -s "$tmp/obs.csv" "$tmp/obs2.csv" || fail "sample on 2 ranks differs from 1 rank"
# the reference as the source: a small cached one
expect_ok sample-reference "values from the reference in runs/reference-burgers1d" sh -c "cd '$tmp' && '$AZ' sample -problem burgers1d -az_sample_n 20 -az_ref_n 64 -az_ref_nt_out 11 -az_sample_output burgers.csv"
[ "$(grep -vc '^[#x]' "$tmp/burgers.csv")" -eq 20 ] || fail "sample-reference: 20 rows"

# ---- sample -> train -az_data, CSV and HDF5 alike; the noise model in summary.json ----
expect_ok train-csv "done:" "$AZ" train -problem heat1d $small -az_data "$tmp/obs.csv" -az_data_noise 0.01 -az_output_dir "$tmp/rc"
expect_ok train-h5 "done:" "$AZ" train -problem heat1d $small -az_data "$tmp/obs.h5" -az_data_noise 0.01 -az_output_dir "$tmp/rh"
grep -q "\"data\": {\"file\": \"$tmp/obs.csv\", \"observations\": 50, \"noise\": \[1.0000000000e-02\], \"weights\": \[1.0000000000e+00\]}" "$tmp/rc/summary.json" || fail "train-csv: summary.json's data: file, 50 observations, noise, weights"
# the columns before wall_seconds (their number follows the problem's terms: the recipe's hard conditions have none for the conditions)
before_wall() { awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "wall_seconds") w = i - 1 } { s = $1; for (i = 2; i <= w; i++) s = s "," $i; print s }' "$1"; }
[ -n "$(before_wall "$tmp/rc/history.csv" | cut -d, -f2 | head -1)" ] && [ "$(before_wall "$tmp/rc/history.csv")" = "$(before_wall "$tmp/rh/history.csv")" ] || fail "train from the HDF5 sample differs from train from the CSV sample (history.csv)"
grep -q '"data": null' "$tmp/run/summary.json" 2>/dev/null; :
# bad noise options and bad data
expect_error noise-too-many "-az_data_noise: more than 8 value(s) given" "$AZ" train -problem heat1d $small -az_data "$tmp/obs.csv" -az_data_noise 1,1,1,1,1,1,1,1,1 -az_output_dir "$tmp/bad"
expect_error weights-too-many "-az_data_weights: more than 8 value(s) given" "$AZ" train -problem heat1d $small -az_data "$tmp/obs.csv" -az_data_weights 1,1,1,1,1,1,1,1,1 -az_output_dir "$tmp/bad"
expect_error noise-count "-az_data_noise: 2 value(s) given; allowed: one sigma for every component, or one per component (1)" "$AZ" train -problem heat1d $small -az_data "$tmp/obs.csv" -az_data_noise 0.1,0.2 -az_output_dir "$tmp/bad"
expect_error noise-zero "-az_data_noise: a noise level must be a finite number > 0; component 0 has 0" "$AZ" train -problem heat1d $small -az_data "$tmp/obs.csv" -az_data_noise 0 -az_output_dir "$tmp/bad"
expect_error weights-zero "-az_data_weights: every weight is 0" "$AZ" train -problem heat1d $small -az_data "$tmp/obs.csv" -az_data_weights 0 -az_output_dir "$tmp/bad"
expect_error noise-without-data "-az_data_noise given without -az_data" "$AZ" train -problem heat1d $small -az_data_noise 0.1 -az_output_dir "$tmp/bad"
printf '# comment\nx,t,u\n0.1,0.5,1\n0.2,0.5,nan\n' >"$tmp/nan.csv"
expect_error data-nan-after-comment "nan.csv, line 4: field 3 is nan" "$AZ" train -problem heat1d $small -az_data "$tmp/nan.csv" -az_output_dir "$tmp/bad"
expect_error data-h5-missing "Cannot open the data file $tmp/none.h5 given by -az_data" "$AZ" train -problem heat1d $small -az_data "$tmp/none.h5" -az_output_dir "$tmp/bad"

# ---- eval: the training run's own field.vtk, to the last digit ----
expect_ok train-eval "done:" "$AZ" train -problem heat1d $small -az_output_dir "$tmp/run"
for f in field.h5 field.xmf field.vtk theta.bin options.txt; do [ -s "$tmp/run/$f" ] || fail "train: $f missing"; done
grep -q 'CollectionType="Temporal"' "$tmp/run/field.xmf" || fail "train heat1d: field.xmf is not a temporal collection"
[ "$(grep -c '<Time Value=' "$tmp/run/field.xmf")" -eq 51 ] || fail "train heat1d: field.xmf has not 51 times"
expect_ok eval-grid "10201 point(s), 1 rank(s): written to $tmp/run/eval.csv" "$AZ" eval -az_run "$tmp/run" -az_eval_grid 101 -az_eval_derivatives x,xx,t
[ "$(sed -n 2p "$tmp/run/eval.csv")" = "x,t,u,u_x,u_xx,u_t" ] || fail "eval: the header names the columns"
# field.vtk's u (the 10201 lines after 'SCALARS u ') against eval's u column
sed -n '/^SCALARS u double/,/^SCALARS/p' "$tmp/run/field.vtk" | grep -v '^[SL]' >"$tmp/vtk_u"
grep -v '^[#x]' "$tmp/run/eval.csv" | cut -d, -f3 >"$tmp/eval_u"
[ "$(wc -l <"$tmp/vtk_u")" -eq 10201 ] || fail "field.vtk: 10201 values of u"
awk 'NR == FNR { a[FNR] = $1; next } { d = a[FNR] - $1; if (d < 0) d = -d; if (d > 1e-14 * (1 + (a[FNR] < 0 ? -a[FNR] : a[FNR]))) bad++ } END { exit bad > 0 || FNR != 10201 }' "$tmp/vtk_u" "$tmp/eval_u" || fail "eval on the 101 x 101 grid differs from the training run's field.vtk"
# a derivative against a central difference of eval's own values: u_x at (0.5, 0.5)
printf 'x,t\n0.5,0.5\n0.499,0.5\n0.501,0.5\n' >"$tmp/pts.csv"
expect_error eval-derivative-twice "-az_eval_derivatives: 'xx' names the same derivative as 'xx' before it" "$AZ" eval -az_run "$tmp/run" -az_eval_grid 3 -az_eval_derivatives xx,x,xx -az_eval_output "$tmp/bad.csv"
expect_error eval-derivatives-too-many "-az_eval_derivatives: more than 16 names" "$AZ" eval -az_run "$tmp/run" -az_eval_grid 3 -az_eval_derivatives x,xx,t,x,x,x,x,x,x,x,x,x,x,x,x,x,x -az_eval_output "$tmp/bad.csv"
expect_ok eval-points "3 point(s)" "$AZ" eval -az_run "$tmp/run" -az_eval_points "$tmp/pts.csv" -az_eval_derivatives x -az_eval_output "$tmp/pts_out.csv"
grep -v '^[#x]' "$tmp/pts_out.csv" | awk -F, 'NR == 1 { ux = $4 } NR == 2 { um = $3 } NR == 3 { up = $3 } END { fd = (up - um) / 0.002; d = fd - ux; if (d < 0) d = -d; exit !(d < 1e-4 * (1 + (ux < 0 ? -ux : ux))) }' || fail "eval: u_x differs from the central difference of u"
# 1 and 2 ranks: the same file
expect_ok eval-1 "1 rank(s)" "$AZ" eval -az_run "$tmp/run" -az_eval_grid 33 -az_eval_derivatives x,xx,t -az_eval_output "$tmp/e1.csv"
expect_ok eval-2 "2 rank(s)" "$MPIEXEC" -n 2 "$AZ" eval -az_run "$tmp/run" -az_eval_grid 33 -az_eval_derivatives x,xx,t -az_eval_output "$tmp/e2.csv"
cmp -s "$tmp/e1.csv" "$tmp/e2.csv" || fail "eval on 2 ranks differs from 1 rank"
# HDF5 out: readable as points (/coords) and as data (/coords, /values); the same values as CSV
expect_ok eval-h5 "written to $tmp/e.h5" "$AZ" eval -az_run "$tmp/run" -az_eval_grid 33 -az_eval_derivatives x -az_eval_output "$tmp/e.h5"
expect_ok eval-h5-points "1089 point(s)" "$AZ" eval -az_run "$tmp/run" -az_eval_points "$tmp/e.h5" -az_eval_output "$tmp/e3.csv"
[ "$(cut -d, -f1-3 "$tmp/e1.csv" | tail -n +3)" = "$(tail -n +3 "$tmp/e3.csv")" ] || fail "eval at the points of its own HDF5 output differs"
expect_ok eval-h5-data "done:" "$AZ" train -problem heat1d $small -az_data "$tmp/e.h5" -az_output_dir "$tmp/rd"
# a run trained on data evaluates without its data file
rm "$tmp/e.h5"
expect_ok eval-data-gone "written to" "$AZ" eval -az_run "$tmp/rd" -az_eval_grid 3
# without -az_run: train's options and -az_field_load
expect_ok eval-load "written to $tmp/e4.csv" "$AZ" eval -problem heat1d -az_field_depth 1 -az_field_width 4 -az_field_load "$tmp/run/theta.bin" -az_eval_grid 33 -az_eval_derivatives x,xx,t -az_eval_output "$tmp/e4.csv"
[ "$(tail -n +2 "$tmp/e1.csv")" = "$(tail -n +2 "$tmp/e4.csv")" ] || fail "eval with -az_field_load and train's options differs from eval -az_run"
# inferred.txt over options.txt, the command line over both
echo "-az_heat1d_kappa 0.25" >"$tmp/run/inferred.txt"
expect_ok eval-inferred "problem heat1d (-az_heat1d_kappa 0.25)" "$AZ" eval -az_run "$tmp/run" -az_eval_grid 3 -az_eval_output "$tmp/e5.csv"
expect_ok eval-cmdline "problem heat1d (-az_heat1d_kappa 0.375)" "$AZ" eval -az_run "$tmp/run" -az_eval_grid 3 -az_heat1d_kappa 0.375 -az_eval_output "$tmp/e5.csv"
rm "$tmp/run/inferred.txt"
expect_ok eval-options "problem heat1d (-az_heat1d_kappa 0.1" "$AZ" eval -az_run "$tmp/run" -az_eval_grid 3 -az_eval_output "$tmp/e5.csv"
# refusals
expect_error eval-arch "holds 17 parameters of another network (width 4 in the file, 5 here)" "$AZ" eval -az_run "$tmp/run" -az_field_width 5 -az_eval_grid 3 -az_eval_output "$tmp/bad.csv"
expect_error eval-deriv-unknown "-az_eval_derivatives: 'y' is not a derivative of heat1d's coordinates; available (the derivatives its jets carry): x, t, xx" "$AZ" eval -az_run "$tmp/run" -az_eval_grid 3 -az_eval_derivatives x,y -az_eval_output "$tmp/bad.csv"
expect_error eval-deriv-absent "-az_eval_derivatives: 'xxx' is not carried by heat1d's jets (its residuals do not need it); available: x, t, xx" "$AZ" eval -az_run "$tmp/run" -az_eval_grid 3 -az_eval_derivatives xxx -az_eval_output "$tmp/bad.csv"
expect_error eval-no-points "give the points by -az_eval_points FILE or -az_eval_grid m (neither was given)" "$AZ" eval -az_run "$tmp/run"
expect_error eval-both "(not both)" "$AZ" eval -az_run "$tmp/run" -az_eval_grid 3 -az_eval_points "$tmp/pts.csv"
expect_error eval-no-field "ansatz eval needs a trained field: -az_run DIR" "$AZ" eval -problem heat1d -az_eval_grid 3
expect_error eval-no-run "Cannot open $tmp/none/options.txt: -az_run must name the directory of an \`ansatz train\` run" "$AZ" eval -az_run "$tmp/none" -az_eval_grid 3
printf '0.5,0.5\n1.5,0.5\n' >"$tmp/outside.csv"
expect_error eval-outside "Points file $tmp/outside.csv, line 2: coordinate x = 1.5 is outside the problem's box .0, 1." "$AZ" eval -az_run "$tmp/run" -az_eval_points "$tmp/outside.csv"
printf '0.5,0.5,1\n' >"$tmp/cols.csv"
expect_error eval-columns "line 1: expected 2 numbers (the point's coordinates), found 3" "$AZ" eval -az_run "$tmp/run" -az_eval_points "$tmp/cols.csv"
expect_error eval-grid-bad "-az_eval_grid 1: the grid needs at least 2 points per axis" "$AZ" eval -az_run "$tmp/run" -az_eval_grid 1
[ ! -e "$tmp/bad.csv" ] || fail "a refused eval left a file"
expect_ok eval-help "-az_eval_derivatives" "$AZ" eval -az_run "$tmp/run" -help
expect_ok sample-help "-az_sample_noise_abs" "$AZ" sample -problem heat1d -help

# ---- the reference as the yardstick: field.h5 holds u_reference and u_error ----
expect_ok train-reference "against the reference" sh -c "cd '$tmp' && '$AZ' train -problem burgers1d $small -az_ref_n 64 -az_ref_nt_out 11 -az_output_dir rb"
grep -q 'field.h5:/step_0050/u_reference<' "$tmp/rb/field.xmf" && grep -q 'field.h5:/step_0050/u_error<' "$tmp/rb/field.xmf" || fail "burgers1d: field.xmf lacks u_reference and u_error"

# ---- a steady problem: one grid ----
expect_ok train-steady "done:" "$AZ" train -problem poisson2d -az_field_depth 1 -az_field_width 4 -az_n_interior 30 -az_n_boundary 5 -az_trainer_type adam -az_trainer_max_it 2 -az_quiet -az_output_dir "$tmp/st"
grep -q 'CollectionType' "$tmp/st/field.xmf" && fail "poisson2d: field.xmf is a collection, expected one grid"
grep -q 'Dimensions="1 101 101"' "$tmp/st/field.xmf" || fail "poisson2d: field.xmf's grid is not 101 x 101"

finish
