#!/bin/sh
# A user's plugin built out of tree against an installed ansatz, with only pkg-config to find it:
#   cc -shared -fPIC myproblem.c $(pkg-config --cflags --libs ansatz) -o myproblem.so
# and shown by the installed program: ansatz info -problem ./myproblem.so
set -eu
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
dest="$tmp/root"
$MAKE -s -C "$top_builddir" install DESTDIR="$dest" >"$tmp/install.log" 2>&1 || { cat "$tmp/install.log"; exit 1; }
prefix=$(sed -n 's/^prefix=//p' "$top_builddir/ansatz.pc")
pcdir=$(find "$dest" -name ansatz.pc -printf '%h\n' | head -n 1)
[ -n "$pcdir" ] || { echo "FAIL: ansatz.pc was not installed"; exit 1; }
# the tree is staged under DESTDIR: a copy of ansatz.pc whose prefix points there (only ansatz's:
# --define-variable would move PETSc's prefix too)
mkdir -p "$tmp/pc"
sed "s|^prefix=.*|prefix=$dest$prefix|" "$pcdir/ansatz.pc" >"$tmp/pc/ansatz.pc"
flags=$(PKG_CONFIG_PATH="$tmp/pc:${PKG_CONFIG_PATH:-}" pkg-config --cflags --libs ansatz)
cp "$top_srcdir/tests/myproblem.c" "$tmp/"
cd "$tmp"
cc -shared -fPIC myproblem.c $flags -o myproblem.so
bin="$dest$prefix/bin/ansatz"
[ -x "$bin" ] || { echo "FAIL: the ansatz program was not installed"; exit 1; }
ls "$dest$prefix"/lib*/ansatz/problems/heat1d.so "$dest$prefix"/lib*/ansatz/problems/poisson2d.so >/dev/null
ls "$dest$prefix"/include/ansatz.h "$dest$prefix"/include/ansatz/problem.h >/dev/null
out=$(LD_LIBRARY_PATH="$dest$prefix/lib" "$bin" info -problem ./myproblem.so 2>&1) || { echo "$out"; echo "FAIL: installed ansatz cannot show the plugin"; exit 1; }
echo "$out"
echo "$out" | grep -q "problem myproblem: nonlinear reaction-diffusion" || { echo "FAIL: wrong output"; exit 1; }
echo "$out" | grep -q "numerical" || { echo "FAIL: should say the jet Jacobian is numerical"; exit 1; }
# the installed problems are found from the installed plugin directory too
out=$(LD_LIBRARY_PATH="$dest$prefix/lib" AZ_PROBLEM_PATH="$(dirname "$(ls "$dest$prefix"/lib*/ansatz/problems/heat1d.so)")" "$bin" list 2>&1)
echo "$out" | grep -q heat1d || { echo "$out"; echo "FAIL: installed list"; exit 1; }
echo "out-of-tree plugin OK"
