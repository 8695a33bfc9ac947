#!/bin/bash
# Issue 14 item 5, "defaults that work": `ansatz train -problem P` with no other option (the recipe:
# the problem's own, then ansatz's; README "The recipe") on every shipped problem, one at a time, on 1
# rank with OPENBLAS_NUM_THREADS=1, against the best result recorded for that problem. One table row
# per problem: rel L2 (against the exact solution or the verified reference), wall and CPU seconds,
# the record, where it comes from, and the ratio default/record (the goal: ≤ 10).
#   PROBLEMS="heat1d kdv1d"  a subset (default: every problem below)
#   LIMIT=600                CPU seconds (user + system) before a run is stopped, its row says so:
#                            on a shared machine the wall time counts the others' work too
#   OUT=runs/accuracy-defaults
# Only -az_quiet and -az_output_dir are given: neither is part of a recipe. Run from the build directory.
set -u
. "$(dirname "$0")/lib.sh"
out=${OUT:-runs/accuracy-defaults}
limit=${LIMIT:-600}
problems=${PROBLEMS:-"advection1d allen_cahn1d burgers1d convection1d diffusion_sorption1d euler2d gpme1d heat1d heat2d kdv1d nls1d poisson2d wave1d"}

# the best rel L2 recorded for each problem at its default parameters, and where; "-" where none is
# (bench/accuracy/README.md then gives the best measured here with a stronger setting)
record()
{
  case $1 in
    advection1d) echo "2.27e-5 bench/README.md small.sh: hard initial condition, 1 x 32, GN 300" ;;
    allen_cahn1d) echo "2.28e-6 bench/accuracy: 3 x 30, hard initial condition through the kink-carrying lift, 10,000 points with RAD, Adam 500 + self-scaled Broyden 7,000" ;;
    burgers1d) echo "2.24e-6 bench/accuracy: 3 x 20 periodic in x, hard initial condition, 10,000 points with RAD, Adam 500 + self-scaled Broyden 7,000" ;;
    convection1d) echo "8.90e-5 bench/accuracy: 3 x 20, causal, GN 3,000" ;;
    diffusion_sorption1d) echo "8.34e-2 bench/hardpde: 3 x 32, -az_weight_interior 1e4, Adam 500 + GN 300" ;;
    euler2d) echo "2.82e-4 bench/README.md small.sh: 2 x 20, GN 200" ;;
    gpme1d) echo "1.44e-1 bench/README.md seeds.sh gpme (kind pme): projection in training, best of 5 seeds" ;;
    heat1d) echo "1.3e-8 README.md: hard conditions, 1 x 32, GN 600" ;;
    heat2d) echo "1.82e-6 bench/accuracy: 3 x 32, Adam 500 + GN 900" ;;
    kdv1d) echo "1.89e-5 bench/accuracy: hard initial condition, causal, GN 1,000" ;;
    nls1d) echo "3.44e-4 bench/accuracy: 2 x 40 periodic in x, initial weight 10, 10,000 points with RAD, Adam 500 + self-scaled Broyden 20,000 + 15,000" ;;
    poisson2d) echo "8.29e-8 bench/README.md run.sh: 1 x 32, GN 1,200" ;;
    wave1d) echo "7.75e-4 bench/accuracy: hard boundary, causal, Adam 500 + GN 1,200" ;;
    *) echo "- unknown problem" ;;
  esac
}

echo "# $(date -u '+%Y-%m-%d %H:%M UTC'), $(uptime | sed 's/.*load/load/'), OPENBLAS_NUM_THREADS=$OPENBLAS_NUM_THREADS"
printf '| problem | rel L2 | wall s | CPU s | record | ratio | record from | recipe |\n'
printf '| --- | --- | --- | --- | --- | --- | --- | --- |\n'
mkdir -p "$out"
for p in $problems; do
  read -r rec src <<<"$(record "$p")"
  TIMEFORMAT='%U %S'
  { time bash -c 'ulimit -t "$1"; shift; exec "$@"' limit "$limit" $AZ train -problem "$p" -az_quiet -az_output_dir "$out/$p" >"$out/$p.log" 2>&1; } 2>"$out/$p.time"
  st=$?
  cpu=$(awk 'NF == 2 { printf "%.0f", $1 + $2 }' "$out/$p.time")
  s=$out/$p/summary.json
  recipe=$(sed -n 's/^ *"recipe": "\(.*\)",$/\1/p' "$s" 2>/dev/null)
  if [ $st -eq 152 ] || [ $st -eq 137 ]; then # SIGXCPU (or SIGKILL) at the CPU limit
    printf '| %s | stopped at %s CPU s | | %s | %s | — | %s | `%s` |\n' "$p" "$limit" "$cpu" "$rec" "$src" "$(sed -n 's/^recipe[^:]*: //p' "$out/$p.log")"
    continue
  fi
  if [ $st -ne 0 ] || [ ! -s "$s" ]; then
    printf '| %s | failed (exit %s): see %s | | %s | %s | — | %s | |\n' "$p" "$st" "$out/$p.log" "$cpu" "$rec" "$src"
    continue
  fi
  rel=$(field "$s" rel_l2)
  ratio=$(awk -v a="$rel" -v b="$rec" 'BEGIN { if (b == "-" || a == "null") print "—"; else printf "%.1f", a / b }')
  printf '| %s | %.2e | %.0f | %s | %s | %s | %s | `%s` |\n' "$p" "$rel" "$(field "$s" wall_seconds)" "$cpu" "$rec" "$ratio" "$src" "$recipe"
done
