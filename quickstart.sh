#!/bin/sh
# ansatz quick start, from a fresh clone on Debian 12:
#   ./quickstart.sh          install missing Debian packages, build, run the main job (where a physical prior should live, on advection1d)
#   ./quickstart.sh test     the same build, then the whole test suite (serial and MPI with 2 ranks)
# Anything after the first argument is passed on (to `ansatz`, or to `make check` for `test`).
set -eu
cd "$(dirname "$0")"

PKGS="build-essential autoconf automake libtool pkg-config petsc-dev libsundials-dev libopenmpi-dev openmpi-bin check libopenblas-dev libfftw3-dev gnuplot-nox"
missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  echo "Installing Debian packages:$missing"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends $missing
fi

# Open MPI refuses to run as root unless told; more ranks than cores need --oversubscribe
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
# MPI ranks are our parallelism: keep OpenBLAS to one thread per rank
export OPENBLAS_NUM_THREADS="${OPENBLAS_NUM_THREADS:-1}"

[ -x configure ] || autoreconf -fi
[ -f Makefile ] || ./configure
jobs=$(nproc 2>/dev/null || echo 2)
make -j"$jobs"

mode="${1:-run}"
[ $# -gt 0 ] && shift
case "$mode" in
  test) make -j"$jobs" check "$@" || { cat tests/*.log test-suite.log 2>/dev/null | tail -n 200; exit 1; } ;;
  run) ./ansatz "$@" ;;
  *) ./ansatz "$mode" "$@" ;;
esac
