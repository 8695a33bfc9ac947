"""ProbConserv's own (diagonal) form with the Laplace pointwise variance, evaluated on field.vtk's grid.

ProbConserv (Hansen et al. 2023) conditions a prediction with independent per-point variances on the
law: at each time, mu~(x) = mu(x) - var(x) c with c chosen so that the law holds. Here var = u_std^2
from ansatz's Laplace approximation (-az_uncertainty), on field.vtk's 101 x 101 grid, with the mass
taken by the trapezoidal rule on the grid rows against the exact solution's (the law's target). It
prints rel L2 against u_exact for: no correction, the uniform shift (what a posthoc mass projection
does to a constant-offset error), and variance-weighted shifts var^(p/2), p = 1..4 (p = 2 is
ProbConserv's form), plus where the error and the std peak.
  /usr/bin/python3 bench/compare/probconserv_diag.py RUN/field.vtk
"""
import sys
import numpy as np


def read(path):
    cols, name, vals = {}, None, []
    for line in open(path):
        p = line.split()
        if not p:
            continue
        if p[0] == 'SCALARS':
            if name:
                cols[name] = np.array(vals)
            name, vals = p[1], []
            continue
        if name and len(p) == 1:
            try:
                vals.append(float(p[0]))
            except ValueError:
                pass
    cols[name] = np.array(vals)
    return cols


c = read(sys.argv[1])
n = 101
u, ue, s = (c[k].reshape(n, n) for k in ('u', 'u_exact', 'u_std'))
w = np.full(n, 1.0 / (n - 1))
w[0] = w[-1] = 0.5 / (n - 1)
M, Ms = u @ w, ue @ w


def row(label, a):
    err = np.sqrt(((a - ue) ** 2).sum() / (ue ** 2).sum())
    print(f"| {label} | {err:.4f} | {np.abs(a @ w - Ms).max():.1e} |")


print("| correction | rel L2 (grid) | max mass misfit (grid rule) |\n| --- | --- | --- |")
row("none", u)
row("uniform shift", u - (M - Ms)[:, None])
for p in (1, 2, 3, 4):
    v = s ** p
    row(f"var^{p / 2:g}-weighted" + (" (ProbConserv's form)" if p == 2 else ""), u - v * ((M - Ms) / (v @ w))[:, None])
e = np.abs(u - ue)
print(f"\ncorrelation of |error| and std over the grid: {np.corrcoef(e.ravel(), s.ravel())[0, 1]:.2f}")
for r in (10, 50, 100):
    i, j = e[r].argmax(), s[r].argmax()
    print(f"time row {r}: largest error at x = {i / (n - 1):.2f} ({e[r, i]:.3f}), largest std at x = {j / (n - 1):.2f} ({s[r, j]:.4f})")
