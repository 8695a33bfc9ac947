# Shared by the bench/accuracy scripts (sourced by bash, not run): `run NAME OPTIONS...` trains one
# recipe into $out/NAME and prints one table row from its summary.json:
#   | NAME | rel L2 | max error | wall s | CPU s | iterations | parameters | published anchor |
# CPU s is the process's user + system time (on a shared machine the wall time also counts the
# others' work). The anchor is $anchor (set by the script). Run the scripts from the build directory.
AZ=${AZ:-./ansatz}
export OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-1}
field()
{
  sed -n "s/^ *\"$2\": *\([^,]*\),*$/\1/p" "$1" | head -n 1
}
header()
{
  printf '| run | rel L2 | max error | wall s | CPU s | iterations | parameters | published |\n'
  printf '| --- | --- | --- | --- | --- | --- | --- | --- |\n'
}
run()
{
  local name=$1 s cpu
  shift
  mkdir -p "$out"
  TIMEFORMAT='%U %S'
  if ! { time $AZ train "$@" -az_quiet -az_output_dir "$out/$name" >"$out/$name.log" 2>&1; } 2>"$out/$name.time"; then
    printf '| %s | failed: see %s |\n' "$name" "$out/$name.log"
    return 0
  fi
  cpu=$(awk '{ printf "%.0f", $1 + $2 }' "$out/$name.time")
  s=$out/$name/summary.json
  printf '| %s | %.2e | %.2e | %.0f | %s | %s | %s | %s |\n' "$name" "$(field "$s" rel_l2)" "$(field "$s" max_abs_error)" \
    "$(field "$s" wall_seconds)" "$cpu" "$(field "$s" iterations)" "$(field "$s" parameters)" "$anchor"
}
