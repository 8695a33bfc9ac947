#!/bin/bash
# bench/loss/golden.sh: the loss of two builds of ansatz, number by number. bench/loss/golden.c is
# built against BEFORE and AFTER and run on every shipped problem × every strategy `ansatz compare`
# knows (and a few option sets beyond them), on 1 and 2 ranks; every number it prints (loss, terms,
# gradient, constraint state, Gauss–Newton pieces, ρ and J, the solution's jets, errors, violations,
# drift) must agree to GOLDEN_TOL (1e-13) relative. Exits 1 on any FAIL.
#   bench/loss/golden.sh                      BEFORE: commit ef278f4 (the build before the loss
#                                             redesign), extracted and built once into
#                                             bench/out/golden-before-ef278f4; AFTER: this tree
#   BEFORE=/path/to/built/tree bench/loss/golden.sh
# Environment:
#   BEFORE, BEFORE_REV (ef278f4)  the reference build tree, or the commit to extract and build
#   AFTER (this tree)             the build tree under test (made up to date first)
#   GOLDEN_PROBLEMS, GOLDEN_STRATEGIES, GOLDEN_RANKS ("1 2")   restrict the grid (space-separated)
#   AFTER_OPTIONS                 options added to the AFTER runs only (a planted difference)
#   GOLDEN_TOL (1e-13), GOLDEN_OUT (bench/out/golden), GOLDEN_SELFCHECK (1: first check that a
#                                 1e-12 change of one weight is caught)
# Difference of a number: |a − b| / max(|a|, |b|, 1e-300) where a and b are compared over their group
# (the line's first word: loss, grad, JtJv, ...) — the scale of a vector entry is the largest |entry|
# of the vector in either build, so a gradient entry that cancels to round-off is measured against the
# gradient, not against itself. The errors of O(1) quantities (drift of a law, boundary and initial
# violation, max abs error) are measured against max(|a|, |b|, 1): under a projection or a hard
# constraint they are round-off, 1e-16, whose digits are not the loss's. NaN must be NaN in both, Inf the same Inf; text lines ("info")
# must match exactly; a strategy refused by both ("SKIP") passes as skipped, by one only fails.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
AFTER=$(cd "${AFTER:-$top}" && pwd)
BEFORE_REV=${BEFORE_REV:-ef278f4}
TOL=${GOLDEN_TOL:-1e-13}
OUT=${GOLDEN_OUT:-$top/bench/out/golden}
RANKS=${GOLDEN_RANKS:-1 2}
export OPENBLAS_NUM_THREADS=1
export OMPI_ALLOW_RUN_AS_ROOT=${OMPI_ALLOW_RUN_AS_ROOT:-1} OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=${OMPI_ALLOW_RUN_AS_ROOT_CONFIRM:-1}
export OMPI_MCA_rmaps_base_oversubscribe=${OMPI_MCA_rmaps_base_oversubscribe:-1}
export OMPI_MCA_btl_vader_single_copy_mechanism=${OMPI_MCA_btl_vader_single_copy_mechanism:-none}
start=$(date +%s)
mkdir -p "$OUT" || exit 1

die() { echo "golden.sh: $*" >&2; exit 2; }

# ---- the two builds --------------------------------------------------------------------------
if [ -z "${BEFORE:-}" ]; then
  BEFORE=$top/bench/out/golden-before-$BEFORE_REV
  if [ ! -f "$BEFORE/.golden-built" ]; then
    git -C "$top" rev-parse --verify -q "$BEFORE_REV^{commit}" >/dev/null || die "commit $BEFORE_REV is not in $top: set BEFORE=/path/to/a/built/tree"
    echo "== building $BEFORE_REV in $BEFORE (once; a few minutes)"
    { rm -rf "$BEFORE" && mkdir -p "$BEFORE"; } || die "cannot create $BEFORE"
    git -C "$top" archive "$BEFORE_REV" | tar -x -C "$BEFORE" || die "cannot extract $BEFORE_REV"
    (cd "$BEFORE" && autoreconf -fi && ./configure -q && make -j2) > "$BEFORE/golden-build.log" 2>&1 \
      || die "building $BEFORE_REV failed: see $BEFORE/golden-build.log"
    touch "$BEFORE/.golden-built"
  fi
fi
BEFORE=$(cd "$BEFORE" && pwd) || die "no BEFORE tree"
echo "== making $AFTER up to date"
make -s -C "$AFTER" -j2 >"$OUT/after-build.log" 2>&1 || die "building $AFTER failed: see $OUT/after-build.log"

# golden.c (this tree's) against a build tree's library and headers, with its rpath (not a runpath,
# so LD_LIBRARY_PATH cannot swap the library)
build_golden() { # tree binary
  local mk=$1/Makefile cc src cflags libs
  { [ -f "$mk" ] && [ -f "$1/.libs/libansatz.so" ]; } || die "$1 is not a built ansatz tree (no Makefile or .libs/libansatz.so)"
  cc=$(sed -n 's/^CC = //p' "$mk")
  src=$(sed -n 's/^abs_top_srcdir = //p' "$mk")
  cflags=$(sed -n 's/^PETSC_CFLAGS = //p' "$mk")
  libs=$(sed -n 's/^PETSC_LIBS = //p' "$mk")
  # shellcheck disable=SC2086
  $cc -O2 -Wall -I"$src/include" $cflags "$top/bench/loss/golden.c" -o "$2" \
    -L"$1/.libs" -lansatz -Wl,--disable-new-dtags,-rpath,"$1/.libs" $libs -lm || die "golden.c does not build against $1"
}
build_golden "$BEFORE" "$OUT/golden-before"
build_golden "$AFTER" "$OUT/golden-after"
MPIEXEC=$(sed -n 's/^MPIEXEC = //p' "$AFTER/Makefile")
MPIEXEC=${MPIEXEC:-mpiexec}
echo "BEFORE $BEFORE"
echo "AFTER  $AFTER"

# ---- the cases ---------------------------------------------------------------------------------
# small networks and point counts; the strategies advanced 4 times (auglag and adaptive every time);
# chunks of 16 points so every term spans several chunks
COMMON="-az_field_depth 2 -az_field_width 8 -az_n_interior 64 -az_n_boundary 16 -az_n_initial 16 -az_loss_chunk 16 -az_eval_n 21 -az_auglag_every 1 -az_adaptive_every 1 -golden_updates 4 -golden_total 10"

# a strategy name of `ansatz compare` as its options (src/run/compare.c, StrategyOptions)
strategy_options() {
  local name=$1 base rest tok opts="" con toks
  base=${name%%+*}
  rest=""
  [ "$base" != "$name" ] && rest=${name#*+}
  case $base in
    project | posthoc) opts="-az_conservation $base"; base=soft ;;
  esac
  case $base in
    soft) con=soft ;;
    soft@*) con=soft; opts="$opts -az_weight_boundary ${base#soft@} -az_weight_initial ${base#soft@}" ;;
    soft-linear) con=linear ;;
    soft-cosine) con=cosine ;;
    adaptive | auglag | hard) con=$base ;;
    *) die "unknown strategy $name" ;;
  esac
  opts="-az_constraint $con $opts"
  IFS=+ read -ra toks <<<"$rest"
  for tok in "${toks[@]}"; do
    case $tok in
      project | posthoc) opts="$opts -az_conservation $tok" ;;
      conserve) opts="$opts -az_conservation soft" ;;
      conserve-*) opts="$opts -az_conservation ${tok#conserve-}" ;;
      softplus) opts="$opts -az_positivity hard" ;;
      positivity) opts="$opts -az_positivity soft" ;;
      positivity-*) opts="$opts -az_positivity ${tok#positivity-}" ;;
      divfree) opts="$opts -az_divfree 1" ;;
      *) die "unknown strategy $name" ;;
    esac
  done
  echo "$opts"
}

# every strategy on every problem; those of the conservation laws, positivity and the stream function
# on the problems that have laws (advection1d, burgers1d), positive components (advection1d) and a 2-D
# velocity (euler2d); others are refused by the loss (SKIP), as compare refuses them
BASE="soft soft@10 soft-linear soft-cosine adaptive auglag hard project posthoc"
LAWS="soft+conserve auglag+conserve-auglag adaptive+conserve-adaptive soft-cosine+conserve-cosine hard+conserve hard+project hard+posthoc"
POSITIVE="soft+softplus soft+positivity auglag+positivity-auglag adaptive+positivity-adaptive soft-linear+positivity-linear soft+conserve+softplus project+positivity hard+softplus"
DIVFREE="soft+divfree auglag+divfree adaptive+divfree soft-cosine+divfree hard+divfree"
strategies_of() {
  case $1 in
    advection1d) echo "$BASE $LAWS $POSITIVE" ;;
    burgers1d) echo "$BASE $LAWS" ;;
    euler2d) echo "$BASE $DIVFREE" ;;
    *) echo "$BASE" ;;
  esac
}
# beyond compare's names: option sets of the loss that its strategies do not reach (problem|label|options);
# compare's "hard" is refused on a steady problem (it asks for a hard initial condition too), so the
# hard boundary of a steady problem is here
datafile=$OUT/heat1d_data.csv
awk 'BEGIN { print "x,t,u"; for (i = 0; i < 24; i++) { x = (i + 0.5) / 24; t = ((7 * i) % 24) / 24; printf "%.17g,%.17g,%.17g\n", x, t, exp(-t) * sin(3.14159 * x) } }' >"$datafile"
EXTRA="heat1d|data|-az_data $datafile -az_weight_data 3
heat1d|adaptive-maxmean|-az_constraint adaptive -az_adaptive_rule maxmean
poisson2d|hard-boundary|-az_constraint_boundary hard
poisson2d|mixed-faces|-az_constraint_bc_x0 hard -az_constraint_bc_y1 auglag -az_constraint_bc_x1 cosine
burgers1d|hard-initial+auglag-boundary|-az_constraint_initial hard -az_constraint_boundary auglag
burgers1d|grid-sampler|-az_sampler grid -az_constraint soft
advection1d|project-sliced-8|-az_constraint soft -az_conservation project -az_time_slices 8 -az_project_nodes 16"

selected() { # word list
  [ -z "$2" ] && return 0
  for w in $2; do [ "$w" = "$1" ] && return 0; done
  return 1
}

# ---- one run, one comparison -------------------------------------------------------------------
run_golden() { # which(before|after) ranks problem options... -> output file; status
  local which=$1 np=$2 prob=$3 out=$4
  shift 4
  local tree=$BEFORE
  [ "$which" = after ] && tree=$AFTER
  # shellcheck disable=SC2086
  if [ "$np" = 1 ]; then
    AZ_PROBLEM_PATH=$tree/problems/.libs "$OUT/golden-$which" -problem "$prob" "$@" >"$out" 2>"$out.err" </dev/null
  else
    AZ_PROBLEM_PATH=$tree/problems/.libs $MPIEXEC -n "$np" "$OUT/golden-$which" -problem "$prob" "$@" >"$out" 2>"$out.err" </dev/null
  fi
}

# prints "DIFF GROUP" (the largest difference and its group) or "inf WHY" for a structural mismatch
compare_files() {
  awk -v tiny=1e-300 '
  function isnum(s) { return s ~ /^[-+]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][-+]?[0-9]+)?$/ }
  function absv(x) { return x < 0 ? -x : x }
  function nonfinite(s) { s = tolower(s); sub(/^[+]/, "", s); if (s ~ /nan/) return "nan"; return s }
  BEGIN { unit["drift"] = unit["violation_boundary"] = unit["violation_initial"] = unit["max_abs_error"] = 1 }
  NR == FNR { b[FNR] = $0; nb = FNR; next }
  { a[FNR] = $0; na = FNR }
  END {
    if (na != nb) { print "inf", "line count " nb " (before) vs " na " (after)"; exit }
    for (i = 1; i <= na; i++) {
      nfb = split(b[i], fb, " "); nfa = split(a[i], fa, " ")
      if (fb[1] != fa[1]) { print "inf", "line " i ": " fb[1] " (before) vs " fa[1] " (after)"; exit }
      if (fb[1] == "info") { if (b[i] != a[i]) { print "inf", "line " i " differs: " b[i] " | " a[i]; exit } continue }
      if (nfb != 2 || nfa != 2) { print "inf", "line " i " is not GROUP VALUE"; exit }
      if (isnum(fb[2])) { v = absv(fb[2] + 0); if (v > scale[fb[1]]) scale[fb[1]] = v }
      if (isnum(fa[2])) { v = absv(fa[2] + 0); if (v > scale[fa[1]]) scale[fa[1]] = v }
    }
    worst = 0; wg = "-"
    for (i = 1; i <= na; i++) {
      split(b[i], fb, " "); split(a[i], fa, " ")
      if (fb[1] == "info") continue
      if (isnum(fb[2]) && isnum(fa[2])) {
        s = scale[fb[1]]; if (s < tiny) s = tiny
        if (fb[1] in unit && s < 1) s = 1
        d = absv(fb[2] - fa[2]) / s
      } else d = (nonfinite(fb[2]) == nonfinite(fa[2])) ? 0 : -1
      if (d < 0) { print "inf", "line " i ": " fb[1] " " fb[2] " (before) vs " fa[2] " (after)"; exit }
      if (d > worst) { worst = d; wg = fb[1] }
    }
    printf "%.3e %s\n", worst, wg
  }' "$1" "$2"
}

npass=0 nfail=0 nskip=0
failed=""
check_case() { # problem label ranks options...
  local prob=$1 label=$2 np=$3 tag res diff group verdict
  shift 3
  tag=$OUT/$prob.$(echo "$label" | tr '@+/' 'a__').$np
  # shellcheck disable=SC2086
  run_golden before "$np" "$prob" "$tag.before" $COMMON "$@"
  local rb=$?
  # shellcheck disable=SC2086
  run_golden after "$np" "$prob" "$tag.after" $COMMON "$@" ${AFTER_OPTIONS:-}
  local ra=$?
  if [ $rb -ne 0 ] || [ $ra -ne 0 ]; then
    verdict=FAIL diff="error" group="exit status $rb (before) $ra (after): see $tag.{before,after}.err"
  elif grep -q '^SKIP' "$tag.before" || grep -q '^SKIP' "$tag.after"; then
    if grep -q '^SKIP' "$tag.before" && grep -q '^SKIP' "$tag.after"; then
      verdict=SKIP diff="-" group="refused: $(sed -n 's/^SKIP //p' "$tag.before" | head -1 | cut -c1-110)"
    else
      verdict=FAIL diff="inf" group="refused by one build only: $(grep -h '^SKIP' "$tag.before" "$tag.after" | head -1 | cut -c1-100)"
    fi
  else
    res=$(compare_files "$tag.before" "$tag.after")
    diff=${res%% *} group=${res#* }
    if [ "$diff" != inf ] && awk -v d="$diff" -v t="$TOL" 'BEGIN { exit !(d <= t) }'; then verdict=PASS; else verdict=FAIL; fi
  fi
  printf "%-12s %-30s %d  %-10s %-4s  %s\n" "$prob" "$label" "$np" "$diff" "$verdict" "$group"
  case $verdict in
    PASS) npass=$((npass + 1)) ;;
    SKIP) nskip=$((nskip + 1)) ;;
    *) nfail=$((nfail + 1)); failed="$failed $prob/$label/$np" ;;
  esac
  LAST=$verdict
}

# ---- the compare must be able to fail: a weight changed by 1e-12 relative is caught --------------
if [ "${GOLDEN_SELFCHECK:-1}" = 1 ]; then
  saved=${AFTER_OPTIONS:-}
  AFTER_OPTIONS="$saved -az_weight_interior 1.000000000001"
  echo "== self-check: AFTER with -az_weight_interior 1.000000000001 must FAIL"
  # shellcheck disable=SC2046
  check_case heat1d selfcheck 1 $(strategy_options auglag)
  AFTER_OPTIONS=$saved
  [ "$LAST" = FAIL ] || die "the self-check was not caught: the comparison cannot fail"
  npass=0 nfail=0 nskip=0 failed=""
fi

# ---- the grid ----------------------------------------------------------------------------------
echo "== every problem × strategy, before vs after, tolerance $TOL (difference relative to its group's largest value)"
printf "%-12s %-30s %s  %-10s %-4s  %s\n" problem strategy ranks "max diff" "" "worst group / note"
for prob in advection1d burgers1d euler2d heat1d heat2d poisson2d; do
  selected "$prob" "${GOLDEN_PROBLEMS:-}" || continue
  for s in $(strategies_of "$prob"); do
    selected "$s" "${GOLDEN_STRATEGIES:-}" || continue
    for np in $RANKS; do
      # shellcheck disable=SC2046
      check_case "$prob" "$s" "$np" $(strategy_options "$s")
      [ "$LAST" = SKIP ] && break # refused on one rank: refused on two
    done
  done
done
while IFS='|' read -r prob label opts; do
  selected "$prob" "${GOLDEN_PROBLEMS:-}" || continue
  selected "$label" "${GOLDEN_STRATEGIES:-}" || continue
  for np in $RANKS; do
    # shellcheck disable=SC2086
    check_case "$prob" "$label" "$np" $opts
    [ "$LAST" = SKIP ] && break
  done
done <<<"$EXTRA"

echo "== $npass PASS, $nfail FAIL, $nskip SKIP (refused by both builds) in $(($(date +%s) - start)) s; outputs in $OUT"
if [ $nfail -gt 0 ]; then
  echo "FAILED:$failed"
  exit 1
fi
echo "ALL PASS: BEFORE and AFTER agree to $TOL"
