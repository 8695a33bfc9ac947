#!/bin/sh
# The same suites under mpiexec with 2 ranks: every rank loads the plugins and agrees.
set -u
fails=0
run() {
  echo "== $MPIEXEC -n 2 $*"
  "$MPIEXEC" -n 2 "$@" || { echo "FAIL: $*"; fails=$((fails + 1)); }
}
run "$top_builddir/tests/test_problem"
run "$top_builddir/tests/test_train"
run "$top_builddir/tests/test_reference"
run "$top_builddir/tests/test_constraint"
echo "== $MPIEXEC -n 4 --oversubscribe test_train (loss, gradient and training against one rank)"
"$MPIEXEC" -n 4 --oversubscribe "$top_builddir/tests/test_train" || { echo "FAIL: test_train on 4 ranks"; fails=$((fails + 1)); }
for t in "$top_builddir"/tests/test_field; do [ -x "$t" ] && run "$t"; done
out=$("$MPIEXEC" -n 2 "$top_builddir/ansatz" info -problem heat1d 2>&1)
echo "$out" | grep -q "problem heat1d" || { echo "FAIL: ansatz info under 2 ranks"; echo "$out"; fails=$((fails + 1)); }
# rank 0 prints once, not once per rank
n=$(echo "$out" | grep -c "^problem heat1d")
[ "$n" -eq 1 ] || { echo "FAIL: info printed $n times under 2 ranks"; fails=$((fails + 1)); }
"$MPIEXEC" -n 2 "$top_builddir/ansatz" info -problem nosuch >/dev/null 2>&1 && { echo "FAIL: bad problem accepted under 2 ranks"; fails=$((fails + 1)); }
echo "$fails failure(s)"
[ $fails -eq 0 ]
