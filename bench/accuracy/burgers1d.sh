#!/bin/bash
# burgers1d (u_t + u u_x = (0.01/π) u_xx on [−1, 1] × [0, 1], u = 0 at x = ±1, u₀ = −sin πx) against
# its finite-volume reference (32,768 cells, verified). 1 rank. Run from the build directory.
#
# ssb-rad (the table's row, the recipe of Urbán, Stefanou & Pons's Burgers example): 3 × 20 tanh on
# the exact periodic embedding of x (period 2; the odd solution of the Dirichlet problem is the
# periodic one), the initial condition hard (u = −sin πx + t·N), the walls soft; 10,000 interior
# points replaced every 500 iterations by RAD (drawn ∝ |r| + mean |r| from 50,000 fresh ones);
# Adam 500 (lr 2e-3) then the dense self-scaled Broyden quasi-Newton stage (BFGS_IT iterations,
# default 7000), its segments as long as the resampling period (the line search restarts when the
# points change; H is kept).
#
# RUNS=gn also runs the earlier Gauss–Newton rows (3 × 32, hard conditions, 4,000 points, Adam 1000
# + GN GN_IT, fixed and with RAR-D), kept for the comparison in README.md.
set -eu
. "$(dirname "$0")/lib.sh"
anchor="Raissi et al. 2019 6.7e-4"
out=${OUT:-runs/accuracy-burgers1d}
header
for r in ${RUNS:-ssb}; do
  case $r in
  ssb)
    run ssb-rad -problem burgers1d -az_field_depth 3 -az_field_width 20 -az_field_periodic 0:2 -az_hard_initial \
      -az_n_interior 10000 -az_resample rad -az_resample_every 500 -az_resample_pool 50000 \
      -az_trainer_type adam,bfgs -az_bfgs_update ssbroyden -az_trainer_max_it 500,"${BFGS_IT:-7000}" \
      -az_adam_lr 2e-3 -az_lbfgs_segment 500 -az_monitor_every 100
    ;;
  gn)
    run hard-gn -problem burgers1d -az_field_depth 3 -az_field_width 32 -az_n_interior 4000 -az_constraint hard \
      -az_trainer_type adam,gn -az_trainer_max_it 1000,"${GN_IT:-400}" -az_monitor_every 50
    # RAR-D under Gauss–Newton: 200 points drawn by the residual added every 50 iterations, up to 8,000
    run hard-gn-rard -problem burgers1d -az_field_depth 3 -az_field_width 32 -az_n_interior 4000 -az_constraint hard \
      -az_resample rard -az_resample_every 50 -az_resample_add 200 -az_resample_max 8000 \
      -az_trainer_type adam,gn -az_trainer_max_it 1000,"${GN_IT:-400}" -az_monitor_every 50
    ;;
  *)
    echo "burgers1d.sh: unknown run $r in RUNS (ssb, gn)" >&2
    exit 1
    ;;
  esac
done
