#!/bin/bash
# wave1d (u_tt = 4 u_xx on [0, 1] × [0, 1], u = 0 at x = 0, 1, u₀ = sin πx + ½ sin 5πx, u_t(x, 0) = 0)
# against the exact solution. 3 × 32 tanh, hard boundary conditions (u = u₀(x) + x(1 − x)·N), both
# initial conditions soft (u and u_t) with weight 100 (the PDE residual of the 5πx mode is ~500 times
# larger at the start), 4,000 interior Sobol points, 400 initial ones, causal training,
# Adam 500 then dense Gauss–Newton/LM (GN_IT iterations, default 1200). 1 rank. Run from the build
# directory.
set -eu
. "$(dirname "$0")/lib.sh"
anchor="Rathore et al. 2024 1.27e-2"
out=${OUT:-runs/accuracy-wave1d}
header
run causal-gn -problem wave1d -az_field_depth 3 -az_field_width 32 -az_n_interior 4000 -az_n_initial 400 \
  -az_constraint_boundary hard -az_weight_initial 100 -az_causal 1 -az_trainer_type adam,gn -az_trainer_max_it 500,"${GN_IT:-1200}" -az_monitor_every 50
