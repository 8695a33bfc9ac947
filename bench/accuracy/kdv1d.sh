#!/bin/bash
# kdv1d (u_t + u u_x + 0.0025 u_xxx = 0, periodic on [−1, 1], u₀ = cos πx, t ∈ [0, 1]) against its
# pseudo-spectral reference. 3 × 32 tanh on the exact periodic embedding of x, the initial condition
# hard (u = cos πx + t·N), 4,000 interior Sobol points, causal training, Adam 500 then dense
# Gauss–Newton/LM (GN_IT iterations, default 1000). 1 rank. Run from the build directory.
set -eu
. "$(dirname "$0")/lib.sh"
anchor="PirateNets 4.27e-4"
out=${OUT:-runs/accuracy-kdv1d}
header
run causal-gn -problem kdv1d -az_field_depth 3 -az_field_width 32 -az_n_interior 4000 -az_constraint_initial hard \
  -az_causal 1 -az_trainer_type adam,gn -az_trainer_max_it 500,"${GN_IT:-1000}" -az_monitor_every 50
