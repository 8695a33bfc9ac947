#!/bin/bash
# Calibration of the Laplace approximation's σ: heat1d's κ (true 0.1, guess 0.05) from N data sets
# (default 40) of 200 observations of the exact solution with noise 1% (points and noise from seeds 1..N), each trained from scratch (1 × 16 network, Gauss–Newton 100). Prints each run's κ̂ ± σ and
# the share of runs with |κ̂ − κ| ≤ 1σ and ≤ 2σ (68% and 95% for a calibrated Gaussian), and the
# ratio of the spread of κ̂ over the data sets to the mean σ (1 when calibrated). Run from the build
# directory.
set -e
here=$(dirname "$0")
. "$here/lib.sh"
n=${1:-40}
noise=${noise:-0.01}
out=${out:-bench/out/inverse-calibration}
mkdir -p "$out"
: >"$out/runs.txt"
for s in $(seq 1 "$n"); do
  $AZ sample -problem heat1d -az_sample_n 200 -az_sample_noise "$noise" -az_sample_seed "$s" -az_sample_output "$out/obs$s.csv" >/dev/null
  $AZ train -problem heat1d -az_data "$out/obs$s.csv" -az_heat1d_kappa 0.05 -az_infer kappa -az_infer_log kappa -az_recipe none -az_field_depth 1 -az_field_width 16 \
    -az_n_interior 400 -az_trainer_type gn -az_trainer_max_it 100 -az_quiet -az_output_dir "$out/run$s" >"$out/run$s.log" 2>&1
  sed -n 's/.*"kappa": {"value": \([^,]*\), "std": \([^}]*\)}.*/\1 \2/p' "$out/run$s/summary.json" >>"$out/runs.txt"
done
awk -v t=0.1 -v noise="$noise" '{ v[NR] = $1; s[NR] = $2; e = $1 - t; if (e < 0) e = -e; if (e <= $2) one++; if (e <= 2 * $2) two++; m += $1; ms += $2 }
  END { n = NR; m /= n; ms /= n; for (i = 1; i <= n; i++) var += (v[i] - m)^2; sd = sqrt(var / (n - 1))
        printf "heat1d kappa, %d data sets, noise %s: within 1 sigma %d/%d (%.0f%%), within 2 sigma %d/%d (%.0f%%); mean kappa %.6g, spread (std over data sets) %.3g, mean sigma %.3g, spread/sigma %.2f\n", n, noise, one, n, 100 * one / n, two, n, 100 * two / n, m, sd, ms, sd / ms }' "$out/runs.txt"
