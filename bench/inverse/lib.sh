# Shared by the bench/inverse scripts (sourced by bash, not run). `sample FILE OPTIONS...` writes
# synthetic observations with `ansatz sample`; `infer NAME TRUE... -- OPTIONS...` trains one inverse
# run into $out/NAME and prints one table row per inferred parameter from its summary.json:
#   | NAME | parameter | true | inferred | ± σ | relative error | |error|/σ | rel L2 | wall s | CPU s |
# CPU s is the process's user + system time (on a shared machine the wall time also counts the
# others' work). Run the scripts from the build directory (or set AZ).
AZ=${AZ:-./ansatz}
export OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-1}
header()
{
  printf '| run | parameter | true | inferred | ± σ | rel. error | abs(error)/σ | field rel L2 | wall s | CPU s |\n'
  printf '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n'
}
sample()
{
  local file=$1
  shift
  mkdir -p "$out"
  $AZ sample "$@" -az_sample_output "$file" >"$file.log" 2>&1 || { echo "sample failed: see $file.log"; exit 1; }
}
# infer NAME "p1=true1 p2=true2" OPTIONS...
infer()
{
  local name=$1 truth=$2 s cpu wall rel
  shift 2
  mkdir -p "$out"
  TIMEFORMAT='%U %S'
  if ! { time $AZ train "$@" -az_quiet -az_output_dir "$out/$name" >"$out/$name.log" 2>&1; } 2>"$out/$name.time"; then
    printf '| %s | failed: see %s |\n' "$name" "$out/$name.log"
    return 0
  fi
  cpu=$(awk '{ printf "%.0f", $1 + $2 }' "$out/$name.time")
  s=$out/$name/summary.json
  wall=$(sed -n 's/^ *"wall_seconds": *\([^,]*\),*$/\1/p' "$s")
  rel=$(sed -n 's/^ *"rel_l2": *\([^,]*\),*$/\1/p' "$s")
  for pt in $truth; do
    local p=${pt%%=*} t=${pt#*=} v sd
    v=$(sed -n "s/.*\"$p\": {\"value\": \([^,]*\), \"std\": \([^}]*\)}.*/\1/p" "$s")
    sd=$(sed -n "s/.*\"$p\": {\"value\": \([^,]*\), \"std\": \([^}]*\)}.*/\2/p" "$s")
    awk -v n="$name" -v p="$p" -v t="$t" -v v="$v" -v sd="$sd" -v rel="$rel" -v w="$wall" -v c="$cpu" 'BEGIN {
      e = v - t; if (e < 0) e = -e
      z = (sd == "null" || sd == 0) ? "n/a" : sprintf("%.2f", e / sd)
      printf "| %s | %s | %.6g | %.6g | %s | %.2f%% | %s | %.2e | %.0f | %s |\n", n, p, t, v, sd == "null" ? "n/a" : sprintf("%.2g", sd), 100 * e / (t < 0 ? -t : t), z, rel, w, c }'
  done
}
