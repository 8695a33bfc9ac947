"""ProbConserv's diagonal update on gpme1d stefan with two other variances than the Laplace one.

At each time row of field.vtk's 101 x 101 grid, mu~(x) = mu(x) - v(x) c, c such that the mass (the
trapezoidal rule on the row) equals the exact solution's. v is
  - an ensemble's variance: the pointwise variance of the fields of S networks trained from S seeds
    (mu is seed 0's field, and also the ensemble mean);
  - a parameter sensitivity: s = (u(u*+) - u(u*-)) / (u*+ - u*-) from networks trained at two
    thresholds u* around the problem's (from scratch, and continued from seed 0's network), with v = s^2 (diagonal), |s|, and the rank-1 covariance s s^T
    (the update then shifts by s itself, signed);
  - a front-position covariance: the rank-1 u_x u_x^T (u shifted along x by an uncertain amount per
    time) and its diagonals |u_x| and u_x^2.
Prints rel L2 against u_exact on the grid beside the uniform shift (what posthoc does to an offset).
  /usr/bin/python3 bench/compare/probconserv_alt.py DIR   SEEDS 'PAIRS' 'WARM_PAIRS' (bench/compare/probconserv_alt.sh)
"""
import sys
import numpy as np

n = 101
w = np.full(n, 1.0 / (n - 1))
w[0] = w[-1] = 0.5 / (n - 1)


def field(path, name='u'):
    vals, on = [], False
    for line in open(path):
        p = line.split()
        if not p:
            continue
        if p[0] == 'SCALARS':
            if on:
                break
            on = p[1] == name
            continue
        if on and len(p) == 1:
            try:
                vals.append(float(p[0]))
            except ValueError:
                pass
    return np.array(vals).reshape(n, n)


d = sys.argv[1]
seeds = int(sys.argv[2]) if len(sys.argv) > 2 else 6
ue = field(f'{d}/seed0/field.vtk', 'u_exact')
Ms = ue @ w


def err(a):
    return np.sqrt(((a - ue) ** 2).sum() / (ue ** 2).sum())


def upd(a, v):
    return a - v * ((a @ w - Ms) / (v @ w))[:, None]


U = np.array([field(f'{d}/seed{s}/field.vtk') for s in range(seeds)])
var = U.var(0) + 1e-30
print(f"| field | none | uniform shift | ensemble variance ({seeds} seeds) |\n| --- | --- | --- | --- |")
for s in range(seeds):
    print(f"| seed {s} | {err(U[s]):.4f} | {err(upd(U[s], np.ones((n, n)))):.4f} | {err(upd(U[s], var)):.4f} |")
m = U.mean(0)
print(f"| ensemble mean | {err(m):.4f} | {err(upd(m, np.ones((n, n)))):.4f} | {err(upd(m, var)):.4f} |")
print(f"\ncorrelation of seed 0's |error| with the ensemble std: {np.corrcoef(np.abs(U[0] - ue).ravel(), np.sqrt(var).ravel())[0, 1]:.2f}\n")
# a front-position covariance: u(x - s(t), t) with an uncertain shift s(t) linearises to the rank-1
# covariance u_x u_x^T per time (its exact update moves each row along u_x), or its diagonal |u_x|, u_x^2
print("\nfront-position covariance (u_x by central differences on the grid):\n")
print("| field | uniform shift | rank-1 u_x u_x^T | v = abs(u_x) | v = u_x^2 |\n| --- | --- | --- | --- | --- |")
x = np.linspace(0, 1, n)
for s in range(seeds):
    ux = np.gradient(U[s], x, axis=1)
    print(f"| seed {s} | {err(upd(U[s], np.ones((n, n)))):.4f} | {err(upd(U[s], ux)):.4f} | {err(upd(U[s], np.abs(ux) + 1e-30)):.4f} | {err(upd(U[s], ux * ux + 1e-30)):.4f} |")
for pre, label in (('ustar', 'trained from scratch at each u* (seed 0)'), ('warm', "continued from seed 0's network for 30 Gauss-Newton steps at each u*")):
    print(f"\nsensitivity from networks {label}:\n")
    print("| u* pair | uniform shift | v = s^2 | v = abs(s) | rank-1 (signed s) | min over t of abs(G s) |\n| --- | --- | --- | --- | --- | --- |")
    for a, b in [p.split(',') for p in sys.argv[3 if pre == 'ustar' else 4].split()] if len(sys.argv) > 4 else []:
        s = (field(f'{d}/{pre}{b}/field.vtk') - field(f'{d}/{pre}{a}/field.vtk')) / (float(b) - float(a))
        u = U[0]
        print(f"| {a}, {b} | {err(upd(u, np.ones((n, n)))):.4f} | {err(upd(u, s * s + 1e-30)):.4f} | {err(upd(u, np.abs(s) + 1e-30)):.4f} | {err(upd(u, s)):.4g} | {np.abs(s @ w).min():.2e} |")
