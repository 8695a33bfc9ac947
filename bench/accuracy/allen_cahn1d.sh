#!/bin/bash
# allen_cahn1d (u_t − 1e-4 u_xx + 5(u³ − u) = 0, periodic on [−1, 1], u₀ = x² cos πx, t ∈ [0, 1])
# against its pseudo-spectral reference. 3 × 32 tanh on the exact periodic embedding of x, 5,000
# interior Sobol points, 512 initial ones, causal training, Adam 500 then dense Gauss–Newton/LM
# (GN_IT iterations, default 1000). 1 rank. Run from the build directory.
set -eu
. "$(dirname "$0")/lib.sh"
anchor="PirateNets 2.24e-5, jaxpi 5.37e-5"
out=${OUT:-runs/accuracy-allen_cahn1d}
header
run causal-gn -problem allen_cahn1d -az_field_depth 3 -az_field_width 32 -az_n_interior 5000 -az_n_initial 512 \
  -az_causal 1 -az_trainer_type adam,gn -az_trainer_max_it 500,"${GN_IT:-1000}" -az_monitor_every 50
