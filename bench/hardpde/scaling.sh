#!/bin/sh
# Time per iteration of hardpde (one global solve) and hardpde-moe (E experts) as the constraint points
# grow 1x, 2x, 4x, 8x, on 1, 2 and 4 ranks (4 with --oversubscribe on a 2-core machine), heat1d and
# burgers1d (PROBLEMS may add diffusion_sorption1d): Adam 20 steps, 2 x 32 tanh, 32 basis functions per expert, 1000 collocation points.
# Prints one line per run: problem ranks experts N s/iteration rel_l2. Usage: bench/hardpde/scaling.sh [ansatz]
# PROBLEMS="heat1d burgers1d" and RANKS="1 2 4" choose a subset (each rank count with 1 and 4 experts);
# CONFIGS="1:1 16:1 16:16" names ranks:experts pairs instead; NS="500 1000 2000 4000" the point counts;
# MPIEXEC="mpiexec --oversubscribe" the launcher.
AZ=${1:-./ansatz}
out=$(mktemp -d)
export OPENBLAS_NUM_THREADS=1
if [ -z "${CONFIGS:-}" ]; then
  CONFIGS=
  for n in ${RANKS:-1 2 4}; do CONFIGS="$CONFIGS $n:1 $n:4"; done
fi
echo "problem ranks experts N s_per_it rel_l2"
for prob in ${PROBLEMS:-heat1d burgers1d}; do
  extra=
  # its reference needs second-order differences (the default fourth order oscillates at the front)
  [ $prob = diffusion_sorption1d ] && extra="-az_ref_order 2"
  for c in $CONFIGS; do
    n=${c%%:*}
    E=${c#*:}
    for N in ${NS:-500 1000 2000 4000}; do
      ${MPIEXEC:-mpiexec --oversubscribe} -n $n "$AZ" train -problem $prob -az_recipe none -az_trainer_type adam -az_trainer_max_it 20 \
        -az_field_width 32 -az_field_depth 2 -az_n_interior 1000 -az_hardpde -az_hardpde_basis 32 \
        -az_hardpde_points $N -az_moe_experts $E $extra -az_quiet -az_output_dir "$out/r" >"$out/log" 2>&1 || { echo "$prob $n $E $N failed"; tail -3 "$out/log"; continue; }
      # wall seconds from iteration 0 to 20 (no start-up, no reference), per iteration
      awk -F, -v p=$prob -v n=$n -v E=$E -v N=$N 'NR == 2 { t0 = $NF } END { printf "%s %d %d %d %.4f %s\n", p, n, E, N, ($NF - t0) / 20, $(NF - 1) }' "$out/r/history.csv"
    done
  done
done
rm -rf "$out"
