#!/usr/bin/env python3
"""nls1d: where a trained field's error lies in wavenumber (plain Python 3, no NumPy).

usage: nls1d-spectrum.py REFERENCE_DIR FIELD_VTK [TIME_STRIDE]

REFERENCE_DIR is runs/reference-nls1d (reference.bin: 101 snapshots of (u, v) at 512 nodes
x_j = -5 + 10 j / 512, PETSc binary); FIELD_VTK a run's field.vtk (101 x 101 points, x = -5 + 0.1 m).
The reference is interpolated spectrally onto the field's 100 distinct x (x = 5 is x = -5), every
TIME_STRIDE-th slice (default 5). Prints the rel L2 of (u, v) and of |h| on that grid, the part of the
error at wavenumbers |k| > K (k cycles per period 10), and the reference's own content beyond K at
t = 0 (the dispersive radiation of the kink of 2 sech x at the periodic boundary, constant in time).
"""
import cmath
import math
import struct
import sys


def fft(x):
    n = len(x)
    if n == 1:
        return x
    e, o = fft(x[0::2]), fft(x[1::2])
    t = [cmath.exp(-2j * math.pi * k / n) * o[k] for k in range(n // 2)]
    return [e[k] + t[k] for k in range(n // 2)] + [e[k] - t[k] for k in range(n // 2)]


def dft(x):
    n = len(x)
    return [sum(x[m] * cmath.exp(-2j * math.pi * k * m / n) for m in range(n)) for k in range(n)]


def main():
    rdir, vtk = sys.argv[1], sys.argv[2]
    stride = int(sys.argv[3]) if len(sys.argv) > 3 else 5
    raw, off, snaps = open(rdir + "/reference.bin", "rb").read(), 0, []
    while off < len(raw):
        _, n = struct.unpack(">ii", raw[off:off + 8])
        off += 8
        snaps.append(struct.unpack(">%dd" % n, raw[off:off + 8 * n]))
        off += 8 * n
    nref = len(snaps[0]) // 2
    lines = open(vtk).read().split("\n")
    dims = [int(s) for s in next(l for l in lines if l.startswith("DIMENSIONS")).split()[1:3]]
    nx, nt = dims
    assert nx == 101 and nt == len(snaps), "expects a 101 x %d field.vtk" % len(snaps)

    def scalars(name):
        i = lines.index("SCALARS %s double 1" % name) + 2
        return [float(s) for s in lines[i:i + nx * nt]]

    U, V = scalars("u"), scalars("v")
    M = nx - 1
    ratio = nref / M  # reference grid steps per field step
    W = [[(cmath.exp(2j * math.pi * (j if j < nref // 2 else j - nref) * ratio * m / nref) if j != nref // 2
           else math.cos(math.pi * ratio * m)) / nref for j in range(nref)] for m in range(M)]
    Ks = (5, 10, 15, 20, 30)
    num = numabs = den = 0.0
    tail = dict.fromkeys(Ks, 0.0)
    reftail0 = {}
    for tn in range(0, nt, stride):
        a = snaps[tn]
        H = fft([complex(a[2 * j], a[2 * j + 1]) for j in range(nref)])
        if tn == 0:
            p0 = [abs(c) ** 2 for c in H]
            kk = [min(j, nref - j) for j in range(nref)]
            reftail0 = {K: math.sqrt(sum(p0[j] for j in range(nref) if kk[j] > K) / sum(p0)) for K in Ks}
        r = [sum(H[j] * W[m][j] for j in range(nref)) for m in range(M)]
        f = [complex(U[tn * nx + m], V[tn * nx + m]) for m in range(M)]
        e = [f[m] - r[m] for m in range(M)]
        num += sum(abs(c) ** 2 for c in e)
        numabs += sum((abs(f[m]) - abs(r[m])) ** 2 for m in range(M))
        den += sum(abs(c) ** 2 for c in r)
        E = dft(e)
        for K in Ks:
            tail[K] += sum(abs(E[j]) ** 2 for j in range(M) if min(j, M - j) > K) / M
    print("rel L2 (u, v) %.3e   rel L2 |h| %.3e   (%d x-points, every %d-th of %d slices)" % (
        math.sqrt(num / den), math.sqrt(numabs / den), M, stride, nt))
    for K in Ks:
        print("  |k| > %2d: error part %.3e   reference's own content at t = 0 %.3e" % (
            K, math.sqrt(tail[K] / den), reftail0[K]))


main()
