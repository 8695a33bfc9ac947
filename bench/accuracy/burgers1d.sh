#!/bin/bash
# burgers1d (u_t + u u_x = (0.01/π) u_xx on [−1, 1] × [0, 1], u = 0 at x = ±1, u₀ = −sin πx) against
# its finite-volume reference (32,768 cells, verified). 3 × 32 tanh, boundary and initial conditions
# hard (u = −sin πx + t(1 − x²)·N), 4,000 interior Sobol points, Adam 1000 then dense
# Gauss–Newton/LM (GN_IT iterations, default 400). 1 rank. Run from the build directory.
set -eu
. "$(dirname "$0")/lib.sh"
anchor="Raissi et al. 2019 6.7e-4"
out=${OUT:-runs/accuracy-burgers1d}
header
run hard-gn -problem burgers1d -az_field_depth 3 -az_field_width 32 -az_n_interior 4000 -az_constraint hard \
  -az_trainer_type adam,gn -az_trainer_max_it 1000,"${GN_IT:-400}" -az_monitor_every 50
# the same with RAR-D resampling under Gauss–Newton: 200 points drawn by the residual added every 50
# iterations, up to 8,000 (the fixed set is fitted to a loss of 1e-9 and the error stalls at the front)
run hard-gn-rard -problem burgers1d -az_field_depth 3 -az_field_width 32 -az_n_interior 4000 -az_constraint hard \
  -az_resample rard -az_resample_every 50 -az_resample_add 200 -az_resample_max 8000 \
  -az_trainer_type adam,gn -az_trainer_max_it 1000,"${GN_IT:-400}" -az_monitor_every 50
