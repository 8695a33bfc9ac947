#!/bin/bash
# allen_cahn1d (u_t − 1e-4 u_xx + 5(u³ − u) = 0, periodic on [−1, 1], u₀ = x² cos πx, t ∈ [0, 1])
# against its pseudo-spectral reference. 1 rank. Run from the build directory.
#
# ssb-rad-lift (the table's row): the recipe of Urbán, Stefanou & Pons's Allen–Cahn example (their
# repository's Examples/AC: 3 × 30 tanh on (t, cos πx, sin πx), the PDE's points redrawn by RAD with
# k = 1, c = 0 every 500 iterations from fresh ones, then their self-scaled quasi-Newton), with the
# initial condition hard through the problem's lift, which carries u₀'s kink at x = ±1 and its
# smoothing (problems/allen_cahn1d.c): 10,000 points from a pool of 100,000, Adam 500 (lr 2e-3), then
# the dense self-scaled Broyden stage (BFGS_IT iterations, default 7000), its segments as long as the
# resampling period.
# ssb-rad: the same with the initial condition soft, at weight 10 on 512 points (theirs).
#
# RUNS=gn runs the earlier record (3 × 32, causal, 5,000 + 512 points, Adam 500 + GN GN_IT, default
# 1000), kept for the comparison in README.md.
set -eu
. "$(dirname "$0")/lib.sh"
anchor="PirateNets 2.24e-5, jaxpi 5.37e-5"
out=${OUT:-runs/accuracy-allen_cahn1d}
ssb="-az_causal 0 -az_field_depth 3 -az_field_width 30 -az_n_interior 10000 -az_resample rad -az_resample_every 500
  -az_resample_pool 100000 -az_resample_k 1 -az_resample_c 0 -az_trainer_type adam,bfgs -az_bfgs_update ssbroyden
  -az_adam_lr 2e-3 -az_lbfgs_segment 500 -az_monitor_every 100"
header
for r in ${RUNS:-lift}; do
  case $r in
  lift)
    # shellcheck disable=SC2086
    run ssb-rad-lift -problem allen_cahn1d $ssb -az_constraint_initial hard -az_trainer_max_it 500,"${BFGS_IT:-7000}"
    ;;
  soft)
    # shellcheck disable=SC2086
    run ssb-rad -problem allen_cahn1d $ssb -az_constraint_initial soft -az_n_initial 512 -az_weight_initial 10 -az_trainer_max_it 500,"${BFGS_IT:-7000}"
    ;;
  gn)
    run causal-gn -problem allen_cahn1d -az_field_depth 3 -az_field_width 32 -az_n_interior 5000 -az_n_initial 512 \
      -az_constraint soft -az_causal 1 -az_trainer_type adam,gn -az_trainer_max_it 500,"${GN_IT:-1000}" -az_monitor_every 50
    ;;
  *)
    echo "allen_cahn1d.sh: unknown run $r in RUNS (lift, soft, gn)" >&2
    exit 1
    ;;
  esac
done
