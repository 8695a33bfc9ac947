#!/bin/sh
# bench/jets: Burgers loss + gradient at 10,000 points, ansatz's exact jets against PyTorch autograd
# (create_graph), both on the same cores, in one run. From the top of a built tree:
#   bench/jets/run.sh
set -eu
export OPENBLAS_NUM_THREADS=1 OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
make -s benchmarks >/dev/null
N=${N:-10000}
for np in 1 2; do
  echo "== ansatz, $np rank(s)"
  mpiexec -n $np bench/jets/jets -n "$N" | tee "/tmp/az_jets_$np.txt"
  echo "== PyTorch $(/usr/bin/python3 -c 'import torch; print(torch.__version__)'), $np thread(s)"
  /usr/bin/python3 bench/torch/burgers_jets.py --threads $np -n "$N" | tee "/tmp/az_torch_$np.txt"
  /usr/bin/python3 - "/tmp/az_jets_$np.txt" "/tmp/az_torch_$np.txt" $np <<'PY'
import json, sys
az = {}
for l in open(sys.argv[1]):
    f = l.split()
    if f and f[0].startswith("2->"):
        az[f[0]] = float(f[3])
for l in open(sys.argv[2]):
    t = json.loads(l)
    print(f"   {t['network']:<10} ansatz {az[t['network']]:8.2f} ms  pytorch {t['ms_per_iter']:8.2f} ms  speedup {t['ms_per_iter'] / az[t['network']]:5.1f}x  ({sys.argv[3]} core(s))")
PY
done
echo "== memory: 10^4 and 10^6 points of a 2-D second-order residual, 4 x 50 network"
bench/jets/jets -memory 10000
bench/jets/jets -memory 1000000
