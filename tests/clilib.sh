# Sourced by the shell tests (tests/test_cli.sh, test_io.sh, test_outputs.sh): the program under test,
# a scratch directory removed on exit, a failure count, and the checks they share. From `make check`
# (top_builddir set by Makefile.am's AM_TESTS_ENVIRONMENT).
AZ="$top_builddir/ansatz"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
# the last command's output, indented, without PETSc's configure line (N lines, default 20)
show() { sed 's/^/    /' "$tmp/out" | grep -v "Configure options" | head -${1:-20}; }

# expect_ok NAME FRAGMENT CMD...: CMD succeeds and its output contains FRAGMENT ("": any output);
# returns 1 (after counting the failure) otherwise
expect_ok() {
  name=$1 frag=$2; shift 2
  "$@" >"$tmp/out" 2>&1
  st=$?
  if [ $st -ne 0 ]; then fail "$name: exit status $st (expected 0)"; show; return 1; fi
  [ -z "$frag" ] || grep -q -- "$frag" "$tmp/out" || { fail "$name: output lacks '$frag'"; show; return 1; }
}
# expect_error NAME FRAGMENT CMD...: CMD fails (non-zero, no crash signal) and says FRAGMENT
expect_error() {
  name=$1 frag=$2; shift 2
  "$@" >"$tmp/out" 2>&1
  st=$?
  if [ $st -eq 0 ]; then fail "$name: succeeded, expected an error"; show; return 1; fi
  if [ $st -ge 128 ]; then fail "$name: killed by signal $((st - 128))"; show; fi
  grep -q -- "$frag" "$tmp/out" || { fail "$name: message lacks '$frag'"; show; return 1; }
}
# the summary line and the exit status: the script's last command
finish() {
  echo "$fails failure(s)"
  [ $fails -eq 0 ]
}
