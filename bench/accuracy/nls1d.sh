#!/bin/bash
# nls1d (i h_t + ½ h_xx + |h|² h = 0, periodic on [−5, 5], h₀ = 2 sech x, t ∈ [0, π/2]) against its
# pseudo-spectral reference. The table's rel L2 is that of (u, v) = (Re h, Im h) together, which
# bounds the published measure, the rel L2 of |h| (| |h| − |h*| | ≤ |h − h*| pointwise, and
# ‖ |h*| ‖ = ‖ h* ‖). 1 rank. Run from the build directory.
#
# RUNS=gn: the earlier record (2026-11-26/27), 3 × 32 tanh on the exact periodic embedding of x, 4,000 interior Sobol
# points, 400 initial ones, causal training, Adam 500 then dense Gauss–Newton/LM (GN_IT iterations,
# default 800); then (causal-gn-ssb, the table's 4.10e-4) the dense self-scaled Broyden stage from
# that θ on the same points, causal ε held at 100 (SSB_IT iterations, default 4000; SSB_IT=0 skips it).
#
# RUNS=ssb (the default; 2026-11-27: ssb-rad-wi10 3.87e-4 in 600 CPU s, then ssb-rad-wi10-more, the
# table's 3.44e-4, +420 CPU s): the recipe
# of Urbán, Stefanou & Pons's NLS example (their Examples/NLS: 2 × 40 tanh on the periodic embedding,
# 10,000 points redrawn by RAD (k = 1, c = 1) from 50,000 every 500 iterations, Adam then the
# self-scaled Broyden stage) from scratch, in one run. Our adaptations: the initial condition soft on
# 1,000 points at weight WI (default 10; WI=1 gives 4.28e-4) — they impose it hard on [−15, 15],
# where 2 sech x is periodic to 1e-6; on [−5, 5] its slope jumps by 0.054 across the periodic
# boundary, which a hard u₀ + t·N would keep for all t — Adam 500 at lr 2e-3 (theirs 10,000), BFGS_IT
# quasi-Newton iterations (default 20000, theirs 20,000). Then MORE_IT more (default 15000; 0 skips
# it) from its θ on fresh RAD points, the quasi-Newton stage restarting from H = I.
set -eu
. "$(dirname "$0")/lib.sh"
anchor="Raissi et al. 2019 1.97e-3 (|h|)"
out=${OUT:-runs/accuracy-nls1d}
header
for r in ${RUNS:-ssb}; do
  case $r in
  gn)
    run causal-gn -problem nls1d -az_field_depth 3 -az_field_width 32 -az_n_interior 4000 -az_n_initial 400 \
      -az_causal 1 -az_trainer_type adam,gn -az_trainer_max_it 500,"${GN_IT:-800}" -az_monitor_every 50
    if [ "${SSB_IT:-4000}" -gt 0 ]; then
      run causal-gn-ssb -problem nls1d -az_field_depth 3 -az_field_width 32 -az_n_interior 4000 -az_n_initial 400 \
        -az_field_load "$out/causal-gn/theta.bin" -az_causal 1 -az_causal_eps 100 \
        -az_trainer_type bfgs -az_bfgs_update ssbroyden -az_trainer_max_it "${SSB_IT:-4000}" -az_monitor_every 100
    fi
    ;;
  ssb)
    run ssb-rad-wi${WI:-10} -problem nls1d -az_field_depth 2 -az_field_width 40 -az_n_interior 10000 -az_n_initial 1000 \
      -az_weight_initial "${WI:-10}" -az_resample rad -az_resample_every 500 -az_resample_pool 50000 \
      -az_trainer_type adam,bfgs -az_bfgs_update ssbroyden -az_trainer_max_it 500,"${BFGS_IT:-20000}" \
      -az_adam_lr 2e-3 -az_lbfgs_segment 500 -az_monitor_every 100
    if [ "${MORE_IT:-15000}" -gt 0 ]; then
      run ssb-rad-wi${WI:-10}-more -problem nls1d -az_field_depth 2 -az_field_width 40 -az_n_interior 10000 -az_n_initial 1000 \
        -az_field_load "$out/ssb-rad-wi${WI:-10}/theta.bin" \
        -az_weight_initial "${WI:-10}" -az_resample rad -az_resample_every 500 -az_resample_pool 50000 \
        -az_trainer_type bfgs -az_bfgs_update ssbroyden -az_trainer_max_it "${MORE_IT:-15000}" \
        -az_lbfgs_segment 500 -az_monitor_every 100
    fi
    ;;
  *)
    echo "nls1d.sh: unknown run $r in RUNS (gn, ssb)" >&2
    exit 1
    ;;
  esac
done
