#!/bin/bash
# bench/loss/speed.sh: did a change to the loss make training slower? Two builds side by side, runs
# alternating (BEFORE, AFTER, BEFORE, ...) so that the machine's drift hits both alike:
#   - bench/jets: Burgers loss + gradient at 10,000 points (ms per evaluation, 1 rank)
#   - one dense Gauss-Newton iteration on Burgers in Raissi et al.'s setting (8x20 tanh, 10,000
#     interior points), with hard conditions (the chain holds the transform) and with soft ones (an
#     empty chain): seconds per iteration from history.csv, iterations 1 .. ITS
# Prints the median of REPS runs of each and the ratio AFTER / BEFORE.
#   BEFORE=/path/to/built/tree bench/loss/speed.sh      (AFTER: this tree; REPS=5, ITS=4, RANKS=1)
# Builds from commit f0999dc on fill the options not given from the problem's recipe (burgers1d's: the
# periodic embedding of x since 2026-11-27); the runs recorded here had none: run two such builds with
# PETSC_OPTIONS="-az_recipe none".
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
AFTER=$(cd "${AFTER:-$top}" && pwd)
[ -n "${BEFORE:-}" ] || { echo "speed.sh: set BEFORE to a built tree (e.g. bench/out/golden-before-ef278f4 from golden.sh)" >&2; exit 2; }
BEFORE=$(cd "$BEFORE" && pwd) || exit 2
REPS=${REPS:-5}
ITS=${ITS:-4}
RANKS=${RANKS:-1}
OUT=${SPEED_OUT:-$top/bench/out/speed}
export OPENBLAS_NUM_THREADS=1 OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
mkdir -p "$OUT" || exit 2
for t in "$BEFORE" "$AFTER"; do
  make -s -C "$t" -j2 >/dev/null 2>&1 && make -s -C "$t" benchmarks >/dev/null 2>&1 || { echo "speed.sh: cannot build $t" >&2; exit 2; }
done

jets() { # tree -> ms per loss + gradient of the 4x50 row
  "$1/bench/jets/jets" -n 10000 -reps 20 </dev/null 2>/dev/null | awk '$1 == "2->8x20" { v = $4 } END { print v }'
}
gn() { # tree tag hard|soft -> seconds per Gauss-Newton iteration
  local dir="$OUT/$2-$3" opts=""
  [ "$3" = hard ] && opts="-az_hard_boundary -az_hard_initial"
  AZ_PROBLEM_PATH="$1/problems/.libs" mpiexec -n "$RANKS" "$1/ansatz" train -problem burgers1d $opts \
    -az_field_depth 8 -az_field_width 20 -az_n_interior 10000 -az_n_boundary 100 -az_n_initial 256 \
    -az_trainer_type gn -az_trainer_max_it "$ITS" -az_gn_solver dense -az_monitor_every 1 -az_quiet \
    -az_eval_n 11 -az_output_dir "$dir" </dev/null >"$dir.log" 2>&1 || { echo nan; return; }
  awk -F, -v its="$ITS" 'NR > 1 && $1 == 1 { a = $NF } NR > 1 && $1 == its { b = $NF } END { printf "%.4f\n", (b - a) / (its - 1) }' "$dir/history.csv"
}
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

echo "== warming up (reference solutions cached, libraries loaded)"
for t in "$BEFORE" "$AFTER"; do gn "$t" warm soft >/dev/null; done
: >"$OUT/samples.txt"
for r in $(seq 1 "$REPS"); do
  for side in before after; do
    t=$BEFORE
    [ $side = after ] && t=$AFTER
    echo "$side jets $(jets "$t")" >>"$OUT/samples.txt"
    echo "$side gn-hard $(gn "$t" $side hard)" >>"$OUT/samples.txt"
    echo "$side gn-soft $(gn "$t" $side soft)" >>"$OUT/samples.txt"
  done
  echo "   round $r of $REPS done"
done
printf "%-10s %12s %12s %8s\n" measure before after ratio
for m in jets gn-hard gn-soft; do
  b=$(awk -v m=$m '$1 == "before" && $2 == m { print $3 }' "$OUT/samples.txt" | median)
  a=$(awk -v m=$m '$1 == "after" && $2 == m { print $3 }' "$OUT/samples.txt" | median)
  unit="ms"
  [ $m != jets ] && unit="s/it"
  printf "%-10s %9s %s %9s %s %8.3f\n" $m "$b" "$unit" "$a" "$unit" "$(awk -v a="$a" -v b="$b" 'BEGIN { print a / b }')"
done
echo "(median of $REPS alternating runs, $RANKS rank(s) for Gauss-Newton; samples in $OUT/samples.txt)"
