#!/bin/bash
# Burgers (problems/burgers1d, u_t + a u u_x = ν u_xx, ν = 0.01/π, a = 1) from 500 observations of
# its reference with 1% noise (σ = 0.01·std(u), Raissi et al. 2019's setting; they report ν to 0.49%
# with 2,000 observations), seed $1 (default 1):
#   nu        ν alone, from the guess 0.01, learned as log ν; the known initial and boundary data in the loss
#   nu-pinn   the same with the PDE and the data alone (Raissi's loss: no initial or boundary term)
#   a,nu      both coefficients, from the guesses 0.5 and 0.01 (Raissi's two-parameter problem)
# Each reports the parameters ± the Laplace approximation's σ. runs="nu" (say) runs only those. Run
# from the build directory.
set -e
here=$(dirname "$0")
. "$here/lib.sh"
seed=${1:-1}
out=${out:-bench/out/inverse-burgers}
nu=0.0031830988618379067
sample "$out/obs$seed.csv" -problem burgers1d -az_sample_from reference -az_sample_n 500 -az_sample_noise 0.01 -az_sample_seed "$seed"
common="-problem burgers1d -az_data $out/obs$seed.csv -az_n_interior 4000 -az_trainer_type adam,gn -az_trainer_max_it 500,300"
runs=${runs:-"nu nu-pinn a,nu"}
header
for r in $runs; do
  case $r in
  nu) infer "nu-seed$seed" "nu=$nu" $common -az_infer nu -az_infer_log nu -az_burgers1d_nu 0.01 ;;
  nu-pinn) infer "nu-pinn-seed$seed" "nu=$nu" $common -az_infer nu -az_infer_log nu -az_burgers1d_nu 0.01 -az_weight_boundary 0 -az_weight_initial 0 ;;
  a,nu) infer "a,nu-seed$seed" "a=1 nu=$nu" $common -az_infer a,nu -az_infer_log nu -az_burgers1d_nu 0.01 -az_burgers1d_a 0.5 ;;
  *) echo "unknown run $r (nu, nu-pinn, a,nu)"; exit 1 ;;
  esac
done
